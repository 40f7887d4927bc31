//! Plan indicators (规划指标) against the plans' targets (目标值), as data.
//!
//! - [`Catalog`]: the named quantities (量) and the indicators (指标) computed from them, each
//!   with a zh/en name, a formula over quantities, a unit, a basis (口径), a source document and
//!   clause, and a confidence. Bundled from `indicators/` at the repository root; a file given
//!   by the operator replaces the bundled definitions.
//! - [`TargetSet`]: the targets of one plan (seed 000–004, the national guidance
//!   发改环资〔2021〕13号), each with region, district (or the whole region), year, comparator,
//!   value (or a qualitative statement kept as such), the plan's section and quote.
//! - [`QuantityTable`]: values by district × year × quantity, from a model run
//!   ([`run::model_quantities`], aggregated by the nodes' `district`), from monitoring
//!   ([`monitoring::MonitoringRates`]) and from the bureau's statistics table
//!   ([`stats::read_statistics`], CSV or XLSX).
//! - [`scorecard::scorecard`]: the scorecard by district and year — value, target, met / not
//!   met / not reported, trend against the baseline year. A quantity nobody reported leaves its
//!   indicator "not reported" (未报送), never 0.

pub mod catalog;
pub mod formula;
pub mod monitoring;
pub mod run;
pub mod scorecard;
pub mod stats;
pub mod table;
pub mod targets;
pub mod text;

pub use catalog::{Catalog, CatalogError, Indicator, Quantity, QuantityOrigin};
pub use scorecard::{
    scorecard, Baseline, Direction, RowStatus, Scorecard, ScorecardOptions, ScorecardRow,
    TargetCheck, Trend,
};
pub use table::{Origin, QuantityTable, QuantityValue, WHOLE_REGION};
pub use targets::{Comparator, Target, TargetSet, TargetSetError};

use serde::{Deserialize, Serialize};

/// A text a person reads, in Chinese and English.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// The same text in both languages (identifiers, numbers).
    pub fn both(s: &str) -> Text {
        Text {
            zh: s.to_string(),
            en: s.to_string(),
        }
    }
}

/// The language of what is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "zh" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            _ => Err(format!("unknown language '{s}' (zh or en)")),
        }
    }
}

/// How sure we are of a fact taken from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The fact appears in the cited text (a seed's quote is checked by a test).
    Verified,
    /// Derived from the cited text (e.g. "全面实现" read as 100 %).
    Inferred,
    /// Recalled or partly seen; needs a second source before it is relied on.
    Recalled,
    /// Not confirmed at all.
    Unverified,
}

/// Where a definition or a target comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The document (title and number).
    pub document: String,
    /// Its clause or section.
    #[serde(default)]
    pub clause: String,
    /// Where it can be read, if public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The target sets named by `specs` (bundled ids, `ID/REGION`, or .toml files relative to
/// `base`, e.g. the model's folder).
pub fn resolve_sets(
    specs: &[String],
    base: &std::path::Path,
    catalog: &Catalog,
) -> Result<Vec<TargetSet>, TargetSetError> {
    specs
        .iter()
        .map(|s| {
            if s.ends_with(".toml") {
                let p = base.join(s);
                TargetSet::resolve(&p.to_string_lossy(), catalog)
            } else {
                TargetSet::resolve(s, catalog)
            }
        })
        .collect()
}

/// Runs `region`, overlays `extra` (statistics, monitoring: they win over model values), fills
/// the whole region's sums and computes the scorecard against `sets`.
pub fn scorecard_for_region(
    region: &rewater_model::Region,
    standards: &rewater_standards::Standards,
    catalog: &Catalog,
    extra: &[&QuantityTable],
    sets: &[TargetSet],
    options: &ScorecardOptions,
) -> Result<(rewater_engine::Summary, Scorecard), rewater_engine::EngineError> {
    let (summary, mut table) = run::model_quantities(region, standards)?;
    for t in extra {
        table.overlay(t);
    }
    table.fill_region_sums(catalog);
    let mut options = options.clone();
    if options.model.is_empty() {
        options.model = region.name.clone();
    }
    Ok((summary, scorecard(catalog, &table, sets, &options)))
}
