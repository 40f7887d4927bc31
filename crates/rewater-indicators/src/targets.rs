//! Target sets (目标): one file per plan under `indicators/targets/` (embedded), or a file
//! given by the operator. Each target names its indicator, district (or the whole region),
//! year, comparator and value — or keeps a qualitative statement as such — and cites the
//! plan's section and quote.

use crate::catalog::{read_text, Catalog};
use crate::{Confidence, Text};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The bundled target sets: (id, file text).
pub const BUNDLED: [(&str, &str); 6] = [
    (
        "seed-000",
        include_str!("../../../indicators/targets/seed-000.toml"),
    ),
    (
        "seed-001",
        include_str!("../../../indicators/targets/seed-001.toml"),
    ),
    (
        "seed-002",
        include_str!("../../../indicators/targets/seed-002.toml"),
    ),
    (
        "seed-003",
        include_str!("../../../indicators/targets/seed-003.toml"),
    ),
    (
        "seed-004",
        include_str!("../../../indicators/targets/seed-004.toml"),
    ),
    (
        "ndrc-2021-13",
        include_str!("../../../indicators/targets/ndrc-2021-13.toml"),
    ),
];

/// How a value is compared with the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparator {
    /// ≥ (达到…以上)
    Ge,
    /// > (超过)
    Gt,
    /// ≤ (下降到…以内)
    Le,
    /// <
    Lt,
    /// = (within 1e-9 relative)
    Eq,
}

impl Comparator {
    /// Whether `value` meets `target`.
    pub fn holds(self, value: f64, target: f64) -> bool {
        let eps = 1e-9 * target.abs().max(1.0);
        match self {
            Comparator::Ge => value >= target - eps,
            Comparator::Gt => value > target,
            Comparator::Le => value <= target + eps,
            Comparator::Lt => value < target,
            Comparator::Eq => (value - target).abs() <= eps,
        }
    }

    /// ≥, >, ≤, <, =.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Ge => "≥",
            Comparator::Gt => ">",
            Comparator::Le => "≤",
            Comparator::Lt => "<",
            Comparator::Eq => "=",
        }
    }
}

/// One target of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Unique within the set.
    pub id: String,
    /// The indicator it is judged on; absent for a target no indicator measures (a pilot's
    /// duration, a report's deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// The region group it applies to when the plan distinguishes some (e.g.
    /// `beijing-tianjin-hebei`), else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// District id ("" = the whole region) and its name.
    #[serde(default)]
    pub district: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_name: Option<Text>,
    /// The year by whose end it is due.
    pub year: i32,
    /// Comparator and value, for a quantitative target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparator: Option<Comparator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The statement, for a qualitative target (kept as such, never judged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualitative: Option<Text>,
    /// The plan's section (e.g. "二、（三）主要目标").
    pub section: String,
    /// The plan's words, quoted.
    pub quote: String,
    pub confidence: Confidence,
    /// How we read the quote where reading was needed ("全面实现" read as 100 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<Text>,
}

impl Target {
    /// Whether this target is judged (has comparator and value).
    pub fn quantitative(&self) -> Option<(Comparator, f64)> {
        self.comparator.zip(self.value)
    }
}

/// A baseline the plan states (e.g. "截至2020年底，全市污水处理率达到95%以上").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatedBaseline {
    pub indicator: String,
    #[serde(default)]
    pub district: String,
    pub year: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparator: Option<Comparator>,
    pub value: f64,
    pub section: String,
    pub quote: String,
    pub confidence: Confidence,
}

/// The targets of one plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSet {
    pub id: String,
    pub title: Text,
    /// The document: title and number.
    pub document: String,
    /// The region the plan covers.
    pub region: Text,
    /// The seed file the quotes come from (for the test that finds each quote), if a seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_file: Option<String>,
    /// Where the document was read, if not a seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_note: Option<String>,
    /// The year trends are measured from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_year: Option<i32>,
    #[serde(default, rename = "target")]
    pub targets: Vec<Target>,
    #[serde(default, rename = "baseline")]
    pub baselines: Vec<StatedBaseline>,
}

/// A target set that cannot be used, naming the file and the target.
#[derive(Debug, thiserror::Error)]
pub enum TargetSetError {
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: target '{target}', field {field}: {message}")]
    Target {
        file: String,
        target: String,
        field: &'static str,
        message: String,
    },
    #[error("unknown target set '{0}' (bundled: seed-000, seed-001, seed-002, seed-003, seed-004, ndrc-2021-13; or a .toml file)")]
    Unknown(String),
}

impl TargetSet {
    /// Parses and checks a set against the catalogue (indicators exist, each target is either
    /// quantitative or qualitative, cites its section and quote, ids are unique).
    pub fn parse(text: &str, file: &str, catalog: &Catalog) -> Result<TargetSet, TargetSetError> {
        let set: TargetSet = toml::from_str(text).map_err(|e| TargetSetError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let err = |target: &str, field, message: String| TargetSetError::Target {
            file: file.to_string(),
            target: target.to_string(),
            field,
            message,
        };
        for (i, t) in set.targets.iter().enumerate() {
            if set.targets[..i].iter().any(|o| o.id == t.id) {
                return Err(err(&t.id, "id", "appears twice".into()));
            }
            if let Some(ind) = &t.indicator {
                if catalog.indicator(ind).is_none() {
                    return Err(err(
                        &t.id,
                        "indicator",
                        format!("unknown indicator '{ind}'"),
                    ));
                }
            }
            match (t.comparator, t.value, &t.qualitative) {
                (Some(_), Some(v), None) if v.is_finite() => {
                    if t.indicator.is_none() {
                        return Err(err(
                            &t.id,
                            "indicator",
                            "a quantitative target needs an indicator".into(),
                        ));
                    }
                }
                (None, None, Some(_)) => {}
                _ => {
                    return Err(err(
                        &t.id,
                        "comparator",
                        "give comparator and a finite value, or qualitative (not both)".into(),
                    ))
                }
            }
            if t.section.trim().is_empty() {
                return Err(err(
                    &t.id,
                    "section",
                    "is empty: every target cites its section".into(),
                ));
            }
            if t.quote.trim().is_empty() {
                return Err(err(
                    &t.id,
                    "quote",
                    "is empty: every target quotes the plan".into(),
                ));
            }
            if !(1949..=2100).contains(&t.year) {
                return Err(err(&t.id, "year", format!("{} is not a plan year", t.year)));
            }
        }
        for b in &set.baselines {
            if catalog.indicator(&b.indicator).is_none() {
                return Err(err(
                    &format!("baseline {}", b.indicator),
                    "indicator",
                    "unknown indicator".into(),
                ));
            }
        }
        Ok(set)
    }

    /// A bundled set by id.
    pub fn bundled(id: &str, catalog: &Catalog) -> Result<TargetSet, TargetSetError> {
        let (name, text) = BUNDLED
            .iter()
            .find(|(n, _)| *n == id)
            .ok_or_else(|| TargetSetError::Unknown(id.to_string()))?;
        TargetSet::parse(text, &format!("indicators/targets/{name}.toml"), catalog)
    }

    /// Every bundled set.
    pub fn all_bundled(catalog: &Catalog) -> Result<Vec<TargetSet>, TargetSetError> {
        BUNDLED
            .iter()
            .map(|(id, _)| TargetSet::bundled(id, catalog))
            .collect()
    }

    /// A set named by the operator: a bundled id, optionally `ID/REGION` to keep only the
    /// targets of one region group (plus those for every region), or a path to a .toml file.
    pub fn resolve(spec: &str, catalog: &Catalog) -> Result<TargetSet, TargetSetError> {
        if spec.ends_with(".toml")
            || spec.contains(std::path::MAIN_SEPARATOR) && Path::new(spec).is_file()
        {
            let text = read_text(Path::new(spec), crate::catalog::MAX_CATALOG_BYTES).map_err(
                |message| TargetSetError::Read {
                    file: spec.to_string(),
                    message,
                },
            )?;
            return TargetSet::parse(&text, spec, catalog);
        }
        TargetSet::resolve_bundled(spec, catalog)
    }

    /// A bundled set by `ID` or `ID/REGION`; never reads a file (for names that come from the
    /// network).
    pub fn resolve_bundled(spec: &str, catalog: &Catalog) -> Result<TargetSet, TargetSetError> {
        let (id, region) = match spec.split_once('/') {
            Some((id, r)) => (id, Some(r)),
            None => (spec, None),
        };
        let mut set = TargetSet::bundled(id, catalog).map_err(|e| match e {
            TargetSetError::Unknown(_) => TargetSetError::Unknown(spec.to_string()),
            other => other,
        })?;
        if let Some(r) = region {
            if !set.targets.iter().any(|t| t.region.as_deref() == Some(r)) {
                return Err(TargetSetError::Unknown(spec.to_string()));
            }
            set.targets
                .retain(|t| t.region.is_none() || t.region.as_deref() == Some(r));
        }
        Ok(set)
    }
}
