//! The validated, resolved form of a model that the engine runs.

use crate::series::Profile;
use crate::types::{Displaces, Pkc, UserCategory, WetlandType};
use rewater_standards::{Date, Factor};

/// A resolved region: every reference checked, every daily value ready.
#[derive(Debug, Clone)]
pub struct Region {
    pub name: String,
    pub start: Date,
    pub days: usize,
    /// Tracked factors; quality vectors are indexed like this.
    pub factors: Vec<Factor>,
    pub nodes: Vec<Node>,
    pub links: Vec<RegionLink>,
    pub equitable_sharing: bool,
    pub solver: crate::types::SolverChoice,
    pub quality_iterations: u32,
    pub targets: crate::types::Targets,
    /// Non-fatal findings (e.g. a factor with no wetland parameters passes unchanged), one
    /// line each; plausibility findings are among them, as "item: field 'f': English / 中文".
    pub warnings: Vec<String>,
    /// The plausibility findings whole: code, item, field, English and Chinese text.
    pub findings: Vec<crate::findings::Finding>,
}

/// A node of the region.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub name: String,
    pub location: Option<[f64; 2]>,
    pub kind: NodeKind,
}

/// Node kinds with their resolved data.
#[derive(Debug, Clone)]
pub enum NodeKind {
    Plant(PlantData),
    Wetland(WetlandData),
    Pond(PondData),
    Junction,
    User(UserData),
    River(ReceivingData),
    Outfall(ReceivingData),
}

impl NodeKind {
    /// Short kind name as in files.
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Plant(_) => "plant",
            NodeKind::Wetland(_) => "wetland",
            NodeKind::Pond(_) => "pond",
            NodeKind::Junction => "junction",
            NodeKind::User(_) => "user",
            NodeKind::River(_) => "river",
            NodeKind::Outfall(_) => "outfall",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlantData {
    pub capacity_m3_per_day: f64,
    pub influent_m3_per_day: Profile,
    /// mg/L per tracked factor; NaN where unknown.
    pub effluent_mg_per_l: Vec<f64>,
    pub influent_mg_per_l: Vec<f64>,
    pub energy_kwh_per_m3: f64,
    pub sludge_t_ds_per_1e4_m3: f64,
    pub bypass_penalty_per_m3: f64,
    pub built: Option<Date>,
    /// District ("" if none given).
    pub district: String,
}

#[derive(Debug, Clone)]
pub struct WetlandData {
    pub wetland_type: WetlandType,
    pub area_m2: f64,
    pub max_inflow_m3_per_day: f64,
    pub temperature_c: Profile,
    /// P-k-C* per tracked factor; `None` passes the factor unchanged.
    pub pkc: Vec<Option<Pkc>>,
}

#[derive(Debug, Clone)]
pub struct PondData {
    pub capacity_m3: f64,
    pub min_volume_m3: f64,
    pub initial_volume_m3: f64,
    /// Evaporation, area × mm/d: removes water, not mass.
    pub evaporation_m3_per_day: f64,
    /// Seepage: removes water at the pond's concentration.
    pub seepage_m3_per_day: f64,
    pub decay_per_day: Vec<f64>,
    pub initial_mg_per_l: Vec<f64>,
    pub value_per_m3: f64,
}

/// Limits on tracked factors that a user's supply must meet, in mg/L (or the factor's unit).
#[derive(Debug, Clone)]
pub struct QualityRequirement {
    /// "GB/T18920-2020:urban_greening".
    pub label: String,
    /// (factor index, lowest allowed, highest allowed).
    pub bounds: Vec<(usize, f64, f64)>,
}

impl QualityRequirement {
    /// True if every known concentration is within bounds (NaN = not known, not judged).
    pub fn met_by(&self, conc: &[f64]) -> bool {
        self.bounds.iter().all(|&(i, lo, hi)| {
            let c = conc[i];
            c.is_nan() || (c >= lo - 1e-12 && c <= hi + 1e-12)
        })
    }
}

#[derive(Debug, Clone)]
pub struct UserData {
    pub category: UserCategory,
    pub demand_m3_per_day: Profile,
    pub priority: u32,
    pub requirement: Option<QualityRequirement>,
    pub displaces: Displaces,
    pub benefit_per_m3: f64,
    pub district: String,
}

#[derive(Debug, Clone)]
pub struct ReceivingData {
    pub river: Option<String>,
    pub cost_per_m3: f64,
}

/// A link between two nodes (indices into `Region::nodes`).
#[derive(Debug, Clone)]
pub struct RegionLink {
    pub id: String,
    pub from: usize,
    pub to: usize,
    pub capacity_m3_per_day: Option<f64>,
    pub cost_per_m3: f64,
    pub loss_fraction: f64,
}
