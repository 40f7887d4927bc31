//! Scenario models: the bundled ones (read-only for everyone) and uploads — a single model
//! file (JSON `{name, toml}`) or a tar of a model with its CSV files — each extracted into
//! its own directory under `<scenario dir>/uploads/<name>/` and loaded with the model crate's
//! confinement (`LoadOptions::upload`: series inside that directory, regular files, size and
//! horizon caps) before it is kept.

use crate::auth::authenticate;
use crate::error::{bad, forbidden, internal, not_found, ApiError, ApiResult};
use crate::error::{E400, E401, E403, E404};
use crate::extract::{ApiJson, ApiQuery};
use crate::runs::{lock_error, RunInfo, RunTable};
use crate::upload::{self, UploadLimits};
use crate::{audit, with_store, ApiState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_model::{LoadOptions, Region};
use rewater_standards::Standards;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use utoipa::{IntoParams, ToSchema};

/// A model a scenario can run: bundled or uploaded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScenarioModel {
    pub name: String,
    /// The model file.
    #[serde(skip)]
    pub path: PathBuf,
    /// Uploaded models are confined to their own directory; bundled ones are read-only.
    pub uploaded: bool,
}

/// Scenario models and runs.
pub struct Scenarios {
    pub dir: PathBuf,
    pub models: Mutex<Vec<ScenarioModel>>,
    pub runs: Mutex<RunTable>,
    pub standards: Arc<Standards>,
    /// Planning-optimisation study runs (issue 18 item 6, [`crate::optimise`]).
    pub studies: Mutex<crate::optimise::StudyRuns>,
}

impl Scenarios {
    /// Bundled models by (name, model file), and the uploads kept under `dir/uploads/`.
    pub fn new(
        dir: PathBuf,
        bundled: Vec<(String, PathBuf)>,
        standards: Arc<Standards>,
    ) -> Scenarios {
        let models = bundled
            .into_iter()
            .map(|(name, path)| ScenarioModel {
                name,
                path,
                uploaded: false,
            })
            .collect();
        let mut sc = Scenarios {
            dir,
            models: Mutex::new(models),
            runs: Mutex::new(RunTable::default()),
            standards,
            studies: Mutex::default(),
        };
        // Models uploaded before a restart stay available.
        sc.load_uploaded();
        sc
    }

    /// Adds the models uploaded before (`dir/uploads/<name>/model.toml`), skipping names
    /// already known (bundled models win); returns how many. [`Scenarios::new`] calls it.
    pub fn load_uploaded(&mut self) -> usize {
        let Ok(entries) = std::fs::read_dir(self.uploads()) else {
            return 0;
        };
        let models = self.models.get_mut().unwrap_or_else(|p| p.into_inner());
        let mut n = 0;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let path = e.path().join("model.toml");
            if check_name(&name).is_ok() && path.is_file() && !models.iter().any(|m| m.name == name)
            {
                models.push(ScenarioModel {
                    name,
                    path,
                    uploaded: true,
                });
                n += 1;
            }
        }
        n
    }

    fn uploads(&self) -> PathBuf {
        self.dir.join("uploads")
    }

    pub fn model(&self, name: &str) -> Result<Option<ScenarioModel>, ApiError> {
        let models = self.models.lock().map_err(|_| lock_error())?;
        Ok(models.iter().find(|m| m.name == name).cloned())
    }

    pub fn lock_runs(&self) -> Result<MutexGuard<'_, RunTable>, ApiError> {
        self.runs.lock().map_err(|_| lock_error())
    }

    /// Loads a model; an uploaded one with its series confined to its own directory and the
    /// model crate's limits for uploads.
    pub fn load(&self, m: &ScenarioModel) -> Result<Region, String> {
        let options = match m.path.parent() {
            Some(dir) if m.uploaded => LoadOptions::upload(dir),
            _ => LoadOptions::default(),
        };
        rewater_model::load_with(&m.path, &self.standards, &options).map_err(|e| e.to_string())
    }
}

pub(crate) fn scenarios(st: &ApiState) -> Result<&Arc<Scenarios>, ApiError> {
    st.platform
        .scenarios
        .as_ref()
        .ok_or_else(|| not_found("this server has no scenario directory"))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "model name '{}' must be 1–64 letters, digits, - or _",
            name.chars().take(64).collect::<String>()
        )))
    }
}

#[derive(Serialize, ToSchema)]
pub struct ScenariosBody {
    pub models: Vec<ScenarioModel>,
    pub runs: Vec<RunInfo>,
}

/// Models that can be run and the runs kept.
#[utoipa::path(get, path = "/api/scenarios", tag = "scenarios",
    responses((status = 200, description = "models and runs", body = ScenariosBody), E401, E404))]
pub async fn list_scenarios(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<ScenariosBody> {
    authenticate(&st, &headers, &method).await?;
    let sc = scenarios(&st)?;
    let models = sc.models.lock().map_err(|_| lock_error())?.clone();
    let runs = sc
        .lock_runs()?
        .list()
        .into_iter()
        .map(|r| RunInfo::new(&st, r))
        .collect();
    Ok(Json(ScenariosBody { models, runs }))
}

#[derive(Deserialize, ToSchema)]
pub struct Upload {
    name: String,
    /// The model file (TOML); it may refer to no other file.
    toml: String,
}

#[derive(Serialize, ToSchema)]
pub struct UploadBody {
    pub ok: bool,
    pub model: ScenarioModel,
}

/// Validates and keeps an upload whose files `write` puts into a fresh directory.
async fn keep_upload(
    st: &ApiState,
    who: String,
    name: String,
    shown: String,
    write: impl FnOnce(&std::path::Path) -> Result<(), ApiError> + Send + 'static,
) -> ApiResult<UploadBody> {
    check_name(&name)?;
    let sc = scenarios(st)?.clone();
    if sc.model(&name)?.is_some_and(|m| !m.uploaded) {
        return Err(forbidden(format!(
            "'{name}' is a bundled model: bundled models are read-only; upload under another name"
        )));
    }
    let n2 = name.clone();
    let model = tokio::task::spawn_blocking(move || {
        let uploads = sc.uploads();
        let fresh = uploads.join(format!(".{n2}.new"));
        let _ = std::fs::remove_dir_all(&fresh);
        std::fs::create_dir_all(&fresh)
            .map_err(|e| internal(format!("{}: {e}", fresh.display())))?;
        let file = fresh.join("model.toml");
        // Messages name the upload's own files, never where the server keeps them.
        let hide = |m: String| {
            let m = m
                .replace(&file.display().to_string(), &shown)
                .replace(&format!("{}/", fresh.display()), "");
            if let Some(rest) = m.strip_prefix("model.toml: ") {
                format!("{shown}: {rest}")
            } else if m.starts_with(&shown) {
                m
            } else {
                format!("{shown}: {m}")
            }
        };
        let result = write(&fresh).and_then(|()| {
            let options = LoadOptions::upload(&fresh);
            rewater_model::load_with(&file, &sc.standards, &options)
                .map_err(|e| bad(hide(e.to_string())))?;
            Ok(())
        });
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&fresh);
            return Err(e);
        }
        let dest = uploads.join(&n2);
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&fresh, &dest).map_err(|e| internal(format!("{}: {e}", dest.display())))?;
        let model = ScenarioModel {
            name: n2.clone(),
            path: dest.join("model.toml"),
            uploaded: true,
        };
        let mut models = sc.models.lock().map_err(|_| lock_error())?;
        models.retain(|m| m.name != n2);
        models.push(model.clone());
        Ok(model)
    })
    .await
    .map_err(|e| internal(e.to_string()))??;
    with_store(st, move |s| {
        audit(s, &who, "scenario.upload", &name, "");
        Ok(())
    })
    .await?;
    Ok(Json(UploadBody { ok: true, model }))
}

/// Upload a model file (TOML), validated before it is kept; not for viewers; audited.
/// A model with CSV series goes as a tar to `/api/scenarios/{name}/archive`.
#[utoipa::path(post, path = "/api/scenarios", tag = "scenarios", request_body = Upload,
    responses((status = 200, description = "kept", body = UploadBody), E400, E401, E403, E404))]
pub async fn upload_scenario(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(u): ApiJson<Upload>,
) -> ApiResult<UploadBody> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_writer()?;
    let limits = UploadLimits::default();
    if u.toml.len() as u64 > limits.max_file_bytes {
        return Err(bad(format!(
            "a model file may have at most {} bytes",
            limits.max_file_bytes
        )));
    }
    let shown = format!("{}.toml", u.name);
    keep_upload(&st, p.name, u.name, shown, move |dir| {
        std::fs::write(dir.join("model.toml"), u.toml.as_bytes())
            .map_err(|e| internal(e.to_string()))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct ArchiveQuery {
    /// Where the model file is in the archive (default: model.toml, or the one
    /// `<folder>/model.toml`).
    model: Option<String>,
}

/// Upload a model with its CSV files as a tar (`tar -cf m.tar -C examples/beijing-district .`);
/// regular files and folders only, at most 256 entries and 16 MB, no absolute paths, `..`
/// or links; not for viewers; audited.
#[utoipa::path(post, path = "/api/scenarios/{name}/archive", tag = "scenarios",
    params(("name" = String, Path, description = "the model's name: 1–64 letters, digits, - or _"), ArchiveQuery),
    request_body(content = Vec<u8>, content_type = "application/x-tar", description = "a tar archive"),
    responses((status = 200, description = "kept", body = UploadBody), E400, E401, E403, E404))]
pub async fn upload_archive(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<ArchiveQuery>,
    body: Bytes,
) -> ApiResult<UploadBody> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_writer()?;
    let shown = format!("{name}/model.toml");
    keep_upload(&st, p.name, name, shown, move |dir| {
        upload::extract_tar(&body, dir, &UploadLimits::default()).map_err(bad)?;
        upload::place_model(dir, q.model.as_deref()).map_err(bad)
    })
    .await
}
