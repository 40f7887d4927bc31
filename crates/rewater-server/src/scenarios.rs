//! The web platform's model view and scenarios: the regional model (`model`, else the demo
//! model) run once for the overview, and the bundled examples written out under the scenario
//! directory so that runs read real files.

use crate::{demo, Result, ServerConfig, ServerError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The scenario directory: configured, else `rewater-scenarios` beside a SQLite store.
pub fn scenario_dir(config: &ServerConfig) -> PathBuf {
    if let Some(d) = &config.scenario_dir {
        return d.clone();
    }
    let db = Path::new(&config.db);
    match db.parent() {
        Some(p) if !config.db.contains("://") => p.join("rewater-scenarios"),
        _ => "rewater-scenarios".into(),
    }
}

/// Writes the bundled models under `dir/bundled`; returns (name, model path) of each.
fn write_bundled(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut bundled = Vec::new();
    for (name, text) in demo::BUNDLED_MODELS {
        let d = dir.join(name);
        let path = if name == "beijing-district" {
            demo::write_demo(&d)
        } else {
            std::fs::create_dir_all(&d)
                .and_then(|_| std::fs::write(d.join("model.toml"), text))
                .map(|_| d.join("model.toml"))
        }
        .map_err(ServerError::io(format!("writing {}", d.display())))?;
        // issue 18 item 6 (h-optweb): the model's planning study beside it.
        if let Some((_, study)) = demo::BUNDLED_STUDIES.iter().find(|(n, _)| *n == name) {
            std::fs::write(d.join(rewater_api::optimise::STUDY_FILE), study)
                .map_err(ServerError::io(format!("writing {}", d.display())))?;
        }
        bundled.push((name.to_string(), path));
    }
    Ok(bundled)
}

/// Models uploaded before a restart stay available.
fn uploaded_models(dir: &Path) -> Vec<rewater_api::ScenarioModel> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let name = p.file_stem()?.to_str()?.to_string();
            (p.extension().is_some_and(|x| x == "toml") && !name.starts_with('.')).then_some(
                rewater_api::ScenarioModel {
                    name,
                    path: p,
                    uploaded: true,
                },
            )
        })
        .collect()
}

/// The platform extras of the API: overview model, scenarios, tile URL.
pub fn platform(config: &ServerConfig) -> Result<rewater_api::Platform> {
    let standards = Arc::new(rewater_standards::Standards::builtin());
    let dir = scenario_dir(config);
    let bundled = write_bundled(&dir.join("bundled"))?;
    let demo_path = bundled[0].1.clone();
    let mut scenarios = rewater_api::Scenarios::new(dir.clone(), bundled, standards.clone());
    if let Ok(models) = scenarios.models.get_mut() {
        models.extend(uploaded_models(&dir));
    }
    let model_path = config.model.clone().unwrap_or(demo_path);
    let region = rewater_model::load(&model_path, &standards)
        .map_err(|e| ServerError::Model(format!("loading {}: {e}", model_path.display())))?;
    // Monitoring must start even if the model cannot be simulated; the map and the model's
    // indicators are then left out.
    let view = match rewater_api::ModelView::new(&region) {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            tracing::warn!(model = %model_path.display(), error = %e, "running the model for the overview failed; the overview shows monitoring only");
            None
        }
    };
    Ok(rewater_api::Platform {
        model: view,
        scenarios: Some(Arc::new(scenarios)),
        tile_url: config.tile_url.clone(),
        public_page: config.public_page,
    })
}
