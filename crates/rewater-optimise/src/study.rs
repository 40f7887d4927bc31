//! The study file (优化研究文件): which model, which candidates, what they cost, what to
//! optimise and under which constraints. TOML or JSON; the JSON Schema is [`study_schema`].
//! Parsing reports the serde path of a bad field (`wetland[0].area_ha.max`); validation
//! names the field the same way.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The study format version this build reads.
pub const STUDY_FORMAT_VERSION: u32 = 1;

/// A planning-optimisation study.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Format version; this build reads 1.
    pub format_version: u32,
    pub study: StudyInfo,
    /// Money defaults: discount rate and lifetime for annualising capital.
    #[serde(default)]
    pub costs: CostDefaults,
    /// Hydrological years or other scenarios; none means the model as it is.
    #[serde(default, rename = "scenario")]
    pub scenarios: Vec<Scenario>,
    /// Objectives besides the annualised cost (always minimised): `reuse_rate`,
    /// `reliability_priority_N` (N = 1, 2 …), `compliant_supply_days`, `reliability`.
    #[serde(default = "default_objectives")]
    pub objectives: Vec<String>,
    #[serde(default)]
    pub constraints: Constraints,
    #[serde(default)]
    pub search: SearchOptions,
    /// Reuse-rate targets (0–1) to report the least-cost design for.
    #[serde(default)]
    pub report_targets: Vec<f64>,
    #[serde(default, rename = "wetland")]
    pub wetlands: Vec<WetlandCandidate>,
    #[serde(default, rename = "pond")]
    pub ponds: Vec<PondCandidate>,
    #[serde(default, rename = "pipe")]
    pub pipes: Vec<PipeCandidate>,
    #[serde(default, rename = "pipe_catalogue")]
    pub pipe_catalogues: Vec<PipeCatalogue>,
    #[serde(default, rename = "plant_expansion")]
    pub plant_expansions: Vec<PlantExpansion>,
    #[serde(default, rename = "effluent_upgrade")]
    pub effluent_upgrades: Vec<EffluentUpgrade>,
    #[serde(default, rename = "user_connection")]
    pub user_connections: Vec<UserConnection>,
}

fn default_objectives() -> Vec<String> {
    vec!["reuse_rate".into()]
}

/// A text a person reads, in both languages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

/// Name and model of the study.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StudyInfo {
    pub name: Text,
    #[serde(default)]
    pub description: Text,
    /// The model file, relative to the study file.
    pub model: String,
}

/// Discount rate and default lifetime.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostDefaults {
    /// Real discount rate per year, 0–1 (default 0.05).
    #[serde(default = "default_rate")]
    pub discount_rate: f64,
    /// Lifetime of an asset, years, unless the candidate gives its own (default 20).
    #[serde(default = "default_life")]
    pub lifetime_years: u32,
}

fn default_rate() -> f64 {
    0.05
}
fn default_life() -> u32 {
    20
}

impl Default for CostDefaults {
    fn default() -> CostDefaults {
        CostDefaults {
            discount_rate: default_rate(),
            lifetime_years: default_life(),
        }
    }
}

/// One hydrological year or scenario: the model (or another) with flows scaled.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub name: Text,
    /// Another model file for this scenario (relative to the study), e.g. with other series.
    pub model: Option<String>,
    /// Multiplies every plant's influent (default 1).
    #[serde(default = "one")]
    pub influent_factor: f64,
    /// Multiplies every user's demand (default 1).
    #[serde(default = "one")]
    pub demand_factor: f64,
    /// Multiplies the demand of users of a category (snake_case, as in the model), on top.
    #[serde(default)]
    pub demand_factor_by_category: BTreeMap<String, f64>,
}

fn one() -> f64 {
    1.0
}

/// How the scenarios' results combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// The worst scenario for each objective and constraint.
    #[default]
    Worst,
    /// The mean over the scenarios.
    Mean,
}

/// Constraints a design must meet to be on the front.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// Reclaimed-water utilisation rate at least this, 0–1.
    pub reuse_rate_min: Option<f64>,
    /// Every built wetland's outlet meets `wetland_outlet_standard` on at least this share of
    /// the days it receives water, 0–1.
    pub wetland_outlet_min_share: Option<f64>,
    /// STANDARD:CLASS the wetland outlets are judged against (default GB3838-2002:V, river).
    #[serde(default = "default_outlet")]
    pub wetland_outlet_standard: String,
    /// No plant bypasses untreated water.
    #[serde(default)]
    pub no_bypass: bool,
    /// Supply reliability of a priority at least this: `{ "1" = 0.95 }`.
    #[serde(default)]
    pub reliability_min: BTreeMap<String, f64>,
    /// Worst case or mean over the scenarios.
    #[serde(default)]
    pub aggregate: Aggregate,
}

fn default_outlet() -> String {
    "GB3838-2002:V".into()
}

impl Default for Constraints {
    fn default() -> Constraints {
        Constraints {
            reuse_rate_min: None,
            wetland_outlet_min_share: None,
            wetland_outlet_standard: default_outlet(),
            no_bypass: false,
            reliability_min: BTreeMap::new(),
            aggregate: Aggregate::Worst,
        }
    }
}

/// NSGA-II settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchOptions {
    /// Population size (even, ≥ 4; default 40).
    #[serde(default = "default_population")]
    pub population: usize,
    /// Generations after the first (default 30).
    #[serde(default = "default_generations")]
    pub generations: usize,
    /// Random seed: the same seed gives the same front.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Put the model's current design into the first population (default true).
    #[serde(default = "yes")]
    pub seed_current_design: bool,
}

fn default_population() -> usize {
    40
}
fn default_generations() -> usize {
    30
}
fn default_seed() -> u64 {
    1
}
fn yes() -> bool {
    true
}

impl Default for SearchOptions {
    fn default() -> SearchOptions {
        SearchOptions {
            population: default_population(),
            generations: default_generations(),
            seed: default_seed(),
            seed_current_design: true,
        }
    }
}

/// A continuous range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// A wetland of the model whose area is decided: a continuous range or a discrete set
/// (0 in the set = not built: the wetland and its links are left out).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WetlandCandidate {
    /// The wetland's id in the model.
    pub id: String,
    /// Area range, ha (continuous).
    pub area_ha: Option<Range>,
    /// Area options, ha (discrete; 0 = not built).
    pub area_options_ha: Option<Vec<f64>>,
    /// Construction cost per ha, yuan.
    pub capex_yuan_per_ha: f64,
    /// Construction cost if built at all (land, inlet works), yuan.
    #[serde(default)]
    pub fixed_capex_yuan: f64,
    /// O&M per ha and year, yuan.
    #[serde(default)]
    pub om_yuan_per_ha_year: f64,
    pub lifetime_years: Option<u32>,
}

/// A pond of the model whose capacity is one of a set (0 = not built).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PondCandidate {
    pub id: String,
    pub capacity_options_m3: Vec<f64>,
    pub capex_yuan_per_m3: f64,
    #[serde(default)]
    pub fixed_capex_yuan: f64,
    #[serde(default)]
    pub om_yuan_per_m3_year: f64,
    pub lifetime_years: Option<u32>,
}

/// A link of the model whose pipe diameter is chosen from a catalogue (or not built).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipeCandidate {
    /// The link's id in the model ("FROM->TO" unless the link names one).
    pub link: String,
    pub length_km: f64,
    /// The `pipe_catalogue` id.
    pub catalogue: String,
    /// Whether "no pipe" is an option (default true).
    #[serde(default = "yes")]
    pub may_omit: bool,
    pub lifetime_years: Option<u32>,
}

/// A diameter catalogue: DN → capacity and cost per km.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipeCatalogue {
    pub id: String,
    /// Where the figures come from, and how sure they are.
    pub source: String,
    #[serde(rename = "size")]
    pub sizes: Vec<PipeSize>,
}

/// One diameter.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipeSize {
    pub dn: u32,
    pub capacity_m3_per_day: f64,
    pub capex_yuan_per_km: f64,
    #[serde(default)]
    pub om_yuan_per_km_year: f64,
}

/// Added treatment capacity at a plant of the model.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlantExpansion {
    pub plant: String,
    /// Capacity added, m³/d (include 0 for "no expansion").
    pub added_options_m3_per_day: Vec<f64>,
    pub capex_yuan_per_m3_per_day: f64,
    #[serde(default)]
    pub om_yuan_per_m3_per_day_year: f64,
    pub lifetime_years: Option<u32>,
}

/// Effluent upgrades of a plant of the model; "no upgrade" is always an option.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EffluentUpgrade {
    pub plant: String,
    #[serde(rename = "option")]
    pub options: Vec<UpgradeOption>,
    pub lifetime_years: Option<u32>,
}

/// One upgrade: effluent at the limits of a standard class (or better where it was better).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeOption {
    /// STANDARD:CLASS, e.g. "GB18918-2002:1A" or "DB11/890-2012:A".
    pub standard: String,
    /// Effluent after the upgrade per factor, mg/L, where it differs from the class limits.
    #[serde(default)]
    pub effluent_mg_per_l: BTreeMap<String, f64>,
    /// Construction per m³/d of the plant's capacity (after any expansion), yuan.
    pub capex_yuan_per_m3_per_day: f64,
    /// Running cost per m³ treated, yuan.
    #[serde(default)]
    pub opex_yuan_per_m3: f64,
}

/// A user of the model that may or may not be connected (not connected: its supply links
/// are closed, its demand stays and counts as deficit).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserConnection {
    pub user: String,
    pub capex_yuan: f64,
    #[serde(default)]
    pub om_yuan_per_year: f64,
    pub lifetime_years: Option<u32>,
}

/// The JSON Schema of the study file.
pub fn study_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Study)).unwrap_or(serde_json::Value::Null)
}

/// A problem in a study file: file, line if known, the field's path, the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: field '{field}': {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct StudyError {
    pub file: String,
    pub line: Option<usize>,
    /// serde path, e.g. `wetland[0].area_ha.max`.
    pub field: String,
    pub message: String,
}

/// Parses study text (JSON if `file` ends in `.json`, else TOML), naming the field of an error.
pub fn parse_study(text: &str, file: &str) -> Result<Study, StudyError> {
    let err = |field: String, line: Option<usize>, message: String| StudyError {
        file: file.into(),
        line,
        field: if field.is_empty() || field == "." {
            "(top level)".into()
        } else {
            field
        },
        message,
    };
    let study: Study = if file.ends_with(".json") {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let line = e.inner().line();
            err(e.path().to_string(), Some(line), e.inner().to_string())
        })?
    } else {
        let de = toml::Deserializer::parse(text)
            .map_err(|e| err(String::new(), line_of(text, &e), e.message().to_string()))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let line = line_of(text, e.inner());
            err(
                e.path().to_string(),
                line,
                e.inner().message().trim().to_string(),
            )
        })?
    };
    if study.format_version != STUDY_FORMAT_VERSION {
        return Err(err(
            "format_version".into(),
            None,
            format!(
                "version {} is not supported; this build reads version {STUDY_FORMAT_VERSION}",
                study.format_version
            ),
        ));
    }
    Ok(study)
}

fn line_of(text: &str, e: &toml::de::Error) -> Option<usize> {
    e.span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
}
