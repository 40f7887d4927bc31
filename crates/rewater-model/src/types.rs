//! The model file's types. Field names carry their units.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A regional reuse-system model (区域再生水循环利用模型).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Format version of the file; this build reads version 1.
    pub format_version: u32,
    pub model: ModelInfo,
    #[serde(default, rename = "plant")]
    pub plants: Vec<Plant>,
    #[serde(default, rename = "wetland")]
    pub wetlands: Vec<Wetland>,
    #[serde(default, rename = "pond")]
    pub ponds: Vec<Pond>,
    #[serde(default, rename = "junction")]
    pub junctions: Vec<Junction>,
    #[serde(default, rename = "user")]
    pub users: Vec<User>,
    #[serde(default, rename = "river")]
    pub rivers: Vec<Receiving>,
    #[serde(default, rename = "outfall")]
    pub outfalls: Vec<Receiving>,
    #[serde(default, rename = "link")]
    pub links: Vec<Link>,
    /// Plan targets to report against.
    #[serde(default)]
    pub targets: Targets,
}

/// Name, horizon and options of the model.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// First simulated day, YYYY-MM-DD.
    pub start: String,
    /// Number of simulated days (one of `days` and `end`).
    pub days: Option<u32>,
    /// Last simulated day, YYYY-MM-DD, inclusive.
    pub end: Option<String>,
    /// Water-quality factors tracked through the network (codes or names: cod, nh3n, tn, tp…).
    #[serde(default)]
    pub factors: Vec<String>,
    /// Share shortages within one priority in proportion to demand (WEAP-style) instead of
    /// leaving the split to the optimiser.
    #[serde(default)]
    pub equitable_sharing: bool,
    /// Allocation solver: auto (network simplex unless a link has losses), network_simplex, lp.
    #[serde(default)]
    pub solver: SolverChoice,
    /// Most allocation solves per day in the quality/flow coupling (see docs/engine.md).
    #[serde(default = "default_quality_iterations")]
    pub quality_iterations: u32,
}

fn default_quality_iterations() -> u32 {
    20
}

/// Which allocation solver to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SolverChoice {
    #[default]
    Auto,
    NetworkSimplex,
    Lp,
}

/// A value per day: `base × monthly_factors[month] × daily_factors[day]`, where the base is a
/// constant or a CSV series.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesRef {
    /// CSV file, relative to the model file; first column `date` (YYYY-MM-DD).
    pub csv: String,
    /// Column holding the values.
    pub column: String,
}

/// Sewershed generation: population × per-capita flow + industrial flow.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sewershed {
    pub population: f64,
    pub l_per_person_day: f64,
    #[serde(default)]
    pub industrial_m3_per_day: f64,
}

/// Effluent concentration of one factor, mg/L.
pub type QualityMap = BTreeMap<String, f64>;

/// A wastewater treatment / water reclamation plant (污水处理厂、再生水厂).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plant {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Treatment capacity; influent above it is bypassed (counted and penalised).
    pub capacity_m3_per_day: f64,
    /// Constant influent (one of influent_m3_per_day, influent_series, sewershed).
    pub influent_m3_per_day: Option<f64>,
    pub influent_series: Option<SeriesRef>,
    pub sewershed: Option<Sewershed>,
    /// Twelve monthly multipliers (January first).
    pub influent_monthly_factors: Option<Vec<f64>>,
    /// Daily multipliers from CSV.
    pub influent_daily_factors: Option<SeriesRef>,
    /// Effluent quality per factor, mg/L.
    #[serde(default)]
    pub effluent_mg_per_l: QualityMap,
    /// Effluent assumed to sit at the limits of this standard class, e.g. "GB18918-2002:1A"
    /// (factors given in effluent_mg_per_l take precedence).
    pub effluent_standard: Option<String>,
    /// Influent (raw sewage) quality, mg/L, used for bypassed water.
    #[serde(default)]
    pub influent_mg_per_l: QualityMap,
    #[serde(default)]
    pub energy_kwh_per_m3: f64,
    /// Dry sludge produced, tonnes of dry solids per 10⁴ m³ treated.
    #[serde(default)]
    pub sludge_t_ds_per_1e4_m3: f64,
    /// Penalty per m³ bypassed, reported in the objective.
    pub bypass_penalty_per_m3: Option<f64>,
    /// Date the plant's EIA was approved (GB 18918 TP limits depend on it).
    pub built: Option<String>,
    /// District, for indicators by district (as the users' field of the same name).
    #[serde(default)]
    pub district: String,
    /// [lon, lat] for maps.
    pub location: Option<[f64; 2]>,
}

/// Constructed wetland type (人工湿地类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WetlandType {
    /// Free-water-surface (表面流).
    FreeWaterSurface,
    /// Horizontal subsurface flow (水平潜流).
    HorizontalSubsurface,
    /// Vertical flow (垂直流).
    Vertical,
}

/// P-k-C* parameters of one factor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pkc {
    /// Areal rate constant at 20 °C, m/yr.
    pub k_m_per_yr: f64,
    /// Background concentration, mg/L.
    pub c_star_mg_per_l: f64,
    /// Temperature coefficient θ.
    pub theta: f64,
    /// Apparent number of tanks in series.
    pub p: f64,
}

/// A constructed wetland for polishing (人工湿地水质净化工程). Flow-through, no storage.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Wetland {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type")]
    pub wetland_type: WetlandType,
    pub area_m2: f64,
    /// Maximum hydraulic loading, m³/(m²·d) = m/d (HJ 2005-2010: FWS < 0.1).
    pub max_hydraulic_loading_m_per_day: f64,
    /// Water temperature: constant (default 20 °C) …
    pub temperature_c: Option<f64>,
    /// … or twelve monthly values …
    pub temperature_monthly_c: Option<Vec<f64>>,
    /// … or a daily series.
    pub temperature_series: Option<SeriesRef>,
    /// P-k-C* parameters per factor, overriding the defaults for the type.
    #[serde(default)]
    pub pkc: BTreeMap<String, Pkc>,
    pub location: Option<[f64; 2]>,
}

/// A storage pond or lake (调蓄库塘), completely mixed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pond {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub capacity_m3: f64,
    #[serde(default)]
    pub min_volume_m3: f64,
    pub initial_volume_m3: f64,
    /// Surface area for evaporation.
    #[serde(default)]
    pub surface_area_m2: f64,
    #[serde(default)]
    pub evaporation_mm_per_day: f64,
    #[serde(default)]
    pub seepage_m3_per_day: f64,
    /// First-order decay per factor, 1/d.
    #[serde(default)]
    pub decay_per_day: BTreeMap<String, f64>,
    /// Initial concentration per factor, mg/L.
    #[serde(default)]
    pub initial_mg_per_l: QualityMap,
    /// Value of stored water per m³ (overrides the default that keeps water before spilling it).
    pub value_per_m3: Option<f64>,
    pub location: Option<[f64; 2]>,
}

/// A junction of the distribution network (管网节点).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Junction {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub location: Option<[f64; 2]>,
}

/// Reclaimed-water use category (再生水用途).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UserCategory {
    IndustrialCooling,
    IndustrialProcess,
    UrbanGreening,
    RoadCleaning,
    FireFighting,
    ToiletFlushing,
    CarWashing,
    Construction,
    LandscapeLake,
    RiverReplenishment,
    FarmlandIrrigation,
}

impl UserCategory {
    /// Every category.
    pub const ALL: [UserCategory; 11] = [
        UserCategory::IndustrialCooling,
        UserCategory::IndustrialProcess,
        UserCategory::UrbanGreening,
        UserCategory::RoadCleaning,
        UserCategory::FireFighting,
        UserCategory::ToiletFlushing,
        UserCategory::CarWashing,
        UserCategory::Construction,
        UserCategory::LandscapeLake,
        UserCategory::RiverReplenishment,
        UserCategory::FarmlandIrrigation,
    ];

    /// snake_case name as in files.
    pub fn as_str(self) -> &'static str {
        match self {
            UserCategory::IndustrialCooling => "industrial_cooling",
            UserCategory::IndustrialProcess => "industrial_process",
            UserCategory::UrbanGreening => "urban_greening",
            UserCategory::RoadCleaning => "road_cleaning",
            UserCategory::FireFighting => "fire_fighting",
            UserCategory::ToiletFlushing => "toilet_flushing",
            UserCategory::CarWashing => "car_washing",
            UserCategory::Construction => "construction",
            UserCategory::LandscapeLake => "landscape_lake",
            UserCategory::RiverReplenishment => "river_replenishment",
            UserCategory::FarmlandIrrigation => "farmland_irrigation",
        }
    }

    /// The reuse standard a category must meet by default (STANDARD:CLASS).
    ///
    /// GB/T 19923-2005 open recirculating cooling make-up for cooling; its process-water column
    /// for process use; GB/T 18920-2020 columns for urban uses; GB/T 18921-2019 for landscape
    /// lakes and river replenishment (ornamental lake / river types); GB 20922-2007 open-field
    /// vegetables (its strictest column) for irrigation.
    pub fn default_standard(self) -> &'static str {
        match self {
            UserCategory::IndustrialCooling => "GB/T19923-2005:open_recirculating_cooling",
            UserCategory::IndustrialProcess => "GB/T19923-2005:process_product",
            UserCategory::UrbanGreening => "GB/T18920-2020:urban_greening",
            UserCategory::RoadCleaning => "GB/T18920-2020:road_cleaning",
            UserCategory::FireFighting => "GB/T18920-2020:fire_fighting",
            UserCategory::ToiletFlushing => "GB/T18920-2020:toilet_flushing",
            UserCategory::CarWashing => "GB/T18920-2020:vehicle_washing",
            UserCategory::Construction => "GB/T18920-2020:construction",
            UserCategory::LandscapeLake => "GB/T18921-2019:ornamental_lake",
            UserCategory::RiverReplenishment => "GB/T18921-2019:ornamental_river",
            UserCategory::FarmlandIrrigation => "GB20922-2007:open_field_vegetables",
        }
    }
}

/// The source a reclaimed-water delivery replaces (for substitution accounting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Displaces {
    TapWater,
    Groundwater,
    SurfaceWater,
    #[default]
    None,
}

/// A reclaimed-water user (再生水用户).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub category: UserCategory,
    /// Constant demand (one of demand_m3_per_day and demand_series).
    pub demand_m3_per_day: Option<f64>,
    pub demand_series: Option<SeriesRef>,
    pub demand_monthly_factors: Option<Vec<f64>>,
    pub demand_daily_factors: Option<SeriesRef>,
    /// 1 is served first. Maps to a default benefit per m³.
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// Required quality, STANDARD:CLASS (default by category); "none" for no requirement.
    pub standard: Option<String>,
    #[serde(default)]
    pub displaces: Displaces,
    /// Benefit per m³ delivered (overrides the priority default; pywr's negative cost).
    pub benefit_per_m3: Option<f64>,
    /// District, for reports and access control.
    #[serde(default)]
    pub district: String,
    pub location: Option<[f64; 2]>,
}

fn default_priority() -> u32 {
    1
}

/// A river or outfall that receives surplus water (受纳水体、排口).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receiving {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// For an outfall, the river it discharges to.
    pub river: Option<String>,
    /// Cost per m³ discharged here (default 0).
    #[serde(default)]
    pub cost_per_m3: f64,
    pub location: Option<[f64; 2]>,
}

/// A pipe or channel (管道、渠道).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// Defaults to "FROM->TO".
    pub id: Option<String>,
    pub from: String,
    pub to: String,
    /// Capacity; absent means unlimited.
    pub capacity_m3_per_day: Option<f64>,
    #[serde(default)]
    pub cost_per_m3: f64,
    /// Share of the water entering the link that is lost (leakage), 0–1.
    #[serde(default)]
    pub loss_fraction: f64,
}

/// Plan targets the summary reports against.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Reclaimed-water utilisation rate (再生水利用率) target, 0–1.
    pub utilisation_rate: Option<f64>,
    /// Share of all demand met, 0–1.
    pub supply_reliability: Option<f64>,
    /// The plans' target sets the scorecard uses (`rewater indicators`): bundled ids
    /// (`seed-000` … `seed-004`, `ndrc-2021-13`, optionally `ID/REGION`) or .toml files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<String>,
}
