//! Reading a model file and resolving it into a [`Region`], with errors that name the file,
//! the line, the node or link, and the field. One resolver per node kind, in the order of the
//! file format: the `[model]` horizon and factors, plants, wetlands, ponds, junctions, users,
//! rivers, outfalls, then links (which need every node).

mod ctx;
mod horizon;
mod links;
mod plants;
mod plausible;
mod ponds;
mod receiving;
mod users;
mod wetlands;

pub use plants::DEFAULT_BYPASS_PENALTY_PER_M3;
pub use ponds::DEFAULT_POND_VALUE_PER_M3;
pub use users::default_benefit;
pub use wetlands::default_pkc;

use crate::files::{self, LoadOptions};
use crate::region::Region;
use crate::series::SeriesCache;
use crate::types::{Model, SeriesRef, FORMAT_VERSION};
use ctx::{Ctx, Resolver};
use rewater_standards::{Standards, Unit};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// A problem in a model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub file: String,
    pub line: Option<usize>,
    /// "plant P1", "link P1->W1"…
    pub item: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        write!(f, ":")?;
        if let Some(i) = &self.item {
            write!(f, " {i}:")?;
        }
        if let Some(fl) = &self.field {
            write!(f, " field '{fl}':")?;
        }
        write!(f, " {}", self.message)
    }
}

impl std::error::Error for ModelError {}

/// All problems found in a model (validation reports every one it can, not just the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelErrors(pub Vec<ModelError>);

impl fmt::Display for ModelErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ModelErrors {}

/// Parses model text; TOML unless `file` ends in `.json`.
pub fn parse_model(text: &str, file: &str) -> Result<Model, ModelError> {
    let mk = |line: Option<usize>, message: String| ModelError {
        file: file.into(),
        line,
        item: None,
        field: None,
        message,
    };
    let model: Model = if file.ends_with(".json") {
        serde_json::from_str(text).map_err(|e| mk(Some(e.line()), e.to_string()))?
    } else {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            mk(line, e.message().trim().to_string())
        })?
    };
    if model.format_version != FORMAT_VERSION {
        return Err(ModelError {
            field: Some("format_version".into()),
            ..mk(
                find_line(text, "format_version", None),
                format!(
                    "version {} is not supported; this build reads version {FORMAT_VERSION}",
                    model.format_version
                ),
            )
        });
    }
    Ok(model)
}

/// Reads, parses and resolves a model file chosen by the operator, with the default
/// [`LoadOptions`] (series paths not confined; regular files only; finite caps).
pub fn load(path: &Path, standards: &Standards) -> Result<Region, ModelErrors> {
    load_with(path, standards, &LoadOptions::default())
}

/// Reads, parses and resolves a model file under `options`' confinement and limits (use
/// [`LoadOptions::upload`] for a model a user uploaded).
pub fn load_with(
    path: &Path,
    standards: &Standards,
    options: &LoadOptions,
) -> Result<Region, ModelErrors> {
    let file = path.display().to_string();
    let whole = |message: String| {
        ModelErrors(vec![ModelError {
            file: file.clone(),
            line: None,
            item: None,
            field: None,
            message,
        }])
    };
    let bytes = files::read_regular(path, options.max_model_bytes, "the model file", false)
        .map_err(|r| whole(r.0))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        whole(format!(
            "not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let model = parse_model(&text, &file).map_err(|e| ModelErrors(vec![e]))?;
    let base = path.parent().unwrap_or(Path::new("."));
    resolve_with(&model, &text, &file, base, standards, options)
}

/// Line of the first line holding `key = "value"` (TOML) or `"key": "value"` (JSON), after
/// the line holding `after` if given.
pub(crate) fn find_line(text: &str, key: &str, value: Option<&str>) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches('"');
            t.starts_with(key) && value.is_none_or(|v| l.contains(&format!("\"{v}\"")))
        })
        .map(|i| i + 1)
}

/// Every series the model names, so that each CSV file is read once for all its columns.
fn series_refs(model: &Model) -> Vec<&SeriesRef> {
    let mut refs = Vec::new();
    for p in &model.plants {
        refs.extend([&p.influent_series, &p.influent_daily_factors]);
    }
    for w in &model.wetlands {
        refs.push(&w.temperature_series);
    }
    for u in &model.users {
        refs.extend([&u.demand_series, &u.demand_daily_factors]);
    }
    refs.into_iter().flatten().collect()
}

/// Resolves a parsed model with the default [`LoadOptions`]; `base` is the folder CSV paths
/// are relative to.
pub fn resolve(
    model: &Model,
    text: &str,
    file: &str,
    base: &Path,
    standards: &Standards,
) -> Result<Region, ModelErrors> {
    resolve_with(model, text, file, base, standards, &LoadOptions::default())
}

/// Resolves a parsed model under `options`' confinement and limits; `base` is the folder CSV
/// paths are relative to.
pub fn resolve_with(
    model: &Model,
    text: &str,
    file: &str,
    base: &Path,
    standards: &Standards,
    options: &LoadOptions,
) -> Result<Region, ModelErrors> {
    resolve_counting_reads(model, text, file, base, standards, options).0
}

/// [`resolve_with`], also telling how many times a CSV file was read.
fn resolve_counting_reads(
    model: &Model,
    text: &str,
    file: &str,
    base: &Path,
    standards: &Standards,
    options: &LoadOptions,
) -> (Result<Region, ModelErrors>, usize) {
    let mut cx = Ctx::new(text, file);
    let info = &model.model;
    // Counts first: everything after allocates per node, link or day.
    horizon::counts(&mut cx, model, options);
    if !cx.errors.is_empty() {
        return (Err(cx.into_errors()), 0);
    }
    let (start, days) = horizon::horizon(&mut cx, info, options.max_days);
    let factors = horizon::factors(&mut cx, info);
    let mut warnings = Vec::new();
    if factors.is_empty() {
        warnings.push(
            "model.factors is empty: no water quality is tracked and no user is refused water"
                .into(),
        );
    }
    let mut r = Resolver {
        cx,
        standards,
        start,
        factors,
        cache: SeriesCache::with_options(base, start, days, options),
        nodes: Vec::new(),
        ids: HashMap::new(),
        warnings,
    };
    r.cache.prefetch(
        series_refs(model)
            .into_iter()
            .map(|s| (s.csv.as_str(), s.column.as_str())),
    );
    model.plants.iter().for_each(|p| r.plant(p));
    model.wetlands.iter().for_each(|w| r.wetland(w));
    model.ponds.iter().for_each(|p| r.pond(p));
    model.junctions.iter().for_each(|j| r.junction(j));
    model.users.iter().for_each(|u| r.user(u));
    model.rivers.iter().for_each(|x| r.river(x));
    model
        .outfalls
        .iter()
        .for_each(|o| r.outfall(o, &model.rivers));
    let links = r.links(&model.links);
    for t in [
        model.targets.utilisation_rate,
        model.targets.supply_reliability,
    ]
    .into_iter()
    .flatten()
    {
        if !(0.0..=1.0).contains(&t) {
            r.cx.err(
                "targets",
                "",
                "",
                format!("target {t} must be a share between 0 and 1"),
            );
        }
    }
    if info.quality_iterations == 0 || info.quality_iterations > 50 {
        r.cx.err("model", &info.name, "quality_iterations", "must be 1–50");
    }
    let files_read = r.cache.files_read();
    if !r.cx.errors.is_empty() {
        return (Err(r.cx.into_errors()), files_read);
    }
    let findings = plausible::check(model, &r.nodes, start, days);
    r.warnings.extend(findings.iter().map(|f| f.line()));
    let region = Region {
        name: info.name.clone(),
        start,
        days,
        factors: r.factors,
        nodes: r.nodes,
        links,
        equitable_sharing: info.equitable_sharing,
        solver: info.solver,
        quality_iterations: info.quality_iterations,
        targets: model.targets.clone(),
        warnings: r.warnings,
        findings,
    };
    (Ok(region), files_read)
}

pub(crate) trait MinMass {
    /// The unit quality vectors use for a factor: mg/L for mass concentrations, else the
    /// factor's own unit.
    fn min_mass(self) -> Unit;
}

impl MinMass for Unit {
    fn min_mass(self) -> Unit {
        if self.kind() == rewater_standards::unit::Kind::MassConcentration {
            Unit::MgPerL
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: a CSV feeding several series is read once, not once per column.
    #[test]
    fn the_beijing_example_reads_its_one_csv_once() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-district");
        let text = std::fs::read_to_string(dir.join("model.toml")).unwrap();
        let model = parse_model(&text, "model.toml").unwrap();
        let (region, files_read) = resolve_counting_reads(
            &model,
            &text,
            "model.toml",
            &dir,
            &Standards::builtin(),
            &LoadOptions::default(),
        );
        assert_eq!(region.unwrap().days, 365);
        // Three series (two columns) from data/daily_factors.csv.
        assert_eq!(series_refs(&model).len(), 3);
        assert_eq!(files_read, 1);
    }

    /// Issue 18: series named by different spellings of one file share one open and read of
    /// it (the cache is keyed by the canonical path), and give the values of the original.
    #[test]
    fn a_file_spelled_two_ways_is_opened_once_with_the_same_values() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-district");
        let text = std::fs::read_to_string(example.join("model.toml")).unwrap();
        let dir = std::env::temp_dir().join(format!("rewater-spellings-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::copy(
            example.join("data/daily_factors.csv"),
            dir.join("data/daily_factors.csv"),
        )
        .unwrap();
        // The first reference keeps its spelling; the second and third take two others.
        let spellings = [
            "data/daily_factors.csv",
            "./data/daily_factors.csv",
            "data/../data/./daily_factors.csv",
        ];
        let mut respelled = String::new();
        let mut k = 0;
        for line in text.split_inclusive('\n') {
            if line.contains("\"data/daily_factors.csv\"") {
                respelled.push_str(&line.replace("data/daily_factors.csv", spellings[k % 3]));
                k += 1;
            } else {
                respelled.push_str(line);
            }
        }
        assert_eq!(k, 3);
        let load = |text: &str, dir: &Path| {
            let model = parse_model(text, "model.toml").unwrap();
            let (region, read) = resolve_counting_reads(
                &model,
                text,
                "model.toml",
                dir,
                &Standards::builtin(),
                &LoadOptions::default(),
            );
            (region.unwrap(), read)
        };
        let (original, _) = load(&text, &example);
        let (region, files_read) = load(&respelled, &dir);
        assert_eq!(files_read, 1);
        let influent = |r: &Region, i: usize| match &r.nodes[i].kind {
            crate::NodeKind::Plant(p) => (0..r.days)
                .map(|d| p.influent_m3_per_day.at(d, 1))
                .collect::<Vec<f64>>(),
            crate::NodeKind::User(u) => (0..r.days).map(|d| u.demand_m3_per_day.at(d, 1)).collect(),
            _ => Vec::new(),
        };
        for i in 0..original.nodes.len() {
            assert_eq!(influent(&region, i), influent(&original, i), "node {i}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
