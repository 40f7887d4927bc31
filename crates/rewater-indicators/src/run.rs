//! Quantities from a model run: the engine's daily node results summed by the nodes'
//! `district` (plants and users carry one) and calendar year, and for the whole region.
//!
//! Quantities (ids as in `indicators/quantities.toml`): wastewater_influent_m3,
//! wastewater_treated_m3, wastewater_bypassed_m3, treatment_capacity_m3_per_day (plants in
//! service by the end of the year), sludge_generated_t_ds, energy_kwh, reclaimed_used_m3,
//! reclaimed_demand_m3, reclaimed_used_<category>_m3, supply_days, supply_days_compliant and,
//! for the whole region only (rivers and wetlands carry no district), reclaimed_discharged_m3,
//! wetland_outlet_days and wetland_outlet_days_class_v (GB 3838-2002 class V at the outlet).

use crate::table::{Origin, QuantityTable, WHOLE_REGION};
use rewater_engine::sim::{DailySink, LinkDay, NodeDay};
use rewater_engine::{EngineError, Simulation, Summary};
use rewater_model::{NodeKind, Region, UserCategory};
use rewater_standards::standard::{Bound, Context, SamplingPoint, WaterBody};
use rewater_standards::{Date, Standards};

const INFLUENT: usize = 0;
const TREATED: usize = 1;
const BYPASSED: usize = 2;
const SLUDGE: usize = 3;
const ENERGY: usize = 4;
const USED: usize = 5;
const DEMAND: usize = 6;
const SUPPLY_DAYS: usize = 7;
const SUPPLY_DAYS_OK: usize = 8;
const DISCHARGED: usize = 9;
const WETLAND_DAYS: usize = 10;
const WETLAND_DAYS_V: usize = 11;
const BY_CATEGORY: usize = 12;
const SLOTS: usize = BY_CATEGORY + UserCategory::ALL.len();

const NAMES: [&str; BY_CATEGORY] = [
    "wastewater_influent_m3",
    "wastewater_treated_m3",
    "wastewater_bypassed_m3",
    "sludge_generated_t_ds",
    "energy_kwh",
    "reclaimed_used_m3",
    "reclaimed_demand_m3",
    "supply_days",
    "supply_days_compliant",
    "reclaimed_discharged_m3",
    "wetland_outlet_days",
    "wetland_outlet_days_class_v",
];

/// Slots that are reported for the whole region only.
const REGION_ONLY: [usize; 3] = [DISCHARGED, WETLAND_DAYS, WETLAND_DAYS_V];

/// The quantity id of a user category's delivered water.
pub fn category_quantity(c: UserCategory) -> String {
    format!("reclaimed_used_{}_m3", c.as_str())
}

/// Class V limits of GB 3838-2002 for the region's tracked factors: (factor index, low, high),
/// for a river (the wetland's outlet flows to one; TN is not assessed for rivers).
fn class_v_bounds(region: &Region, standards: &Standards) -> Vec<(usize, f64, f64)> {
    let Ok((std, class)) = standards.resolve("GB3838-2002:V") else {
        return Vec::new();
    };
    let ctx = Context {
        water_body: Some(WaterBody::River),
        sampling_point: Some(SamplingPoint::Outlet),
        ..Default::default()
    };
    let mut out = Vec::new();
    for (i, f) in region.factors.iter().enumerate() {
        let Some(sel) = std.limit_for(class, *f, &ctx) else {
            continue;
        };
        let Some(lu) = sel.limit.unit else { continue };
        let target = f.info().unit;
        let target = if target.kind() == rewater_standards::unit::Kind::MassConcentration {
            rewater_standards::Unit::MgPerL
        } else {
            target
        };
        let conv = |v: f64| lu.convert(v, target).unwrap_or(v);
        match sel.limit.bound {
            Bound::Max { value } => out.push((i, f64::NEG_INFINITY, conv(value))),
            Bound::Min { value } => out.push((i, conv(value), f64::INFINITY)),
            Bound::Range { low, high } => out.push((i, conv(low), conv(high))),
            Bound::Qualitative { .. } => {}
        }
    }
    out
}

/// Sums a run's daily results by district and year (a [`DailySink`]; memory independent of
/// the horizon: districts × years × quantities).
pub struct RunQuantities {
    model: String,
    first_year: i32,
    /// District names; index 0 is the whole region.
    districts: Vec<String>,
    /// District index of each node (0 = none: whole region only).
    node_district: Vec<usize>,
    /// [district][year - first_year][slot]
    sums: Vec<Vec<[f64; SLOTS]>>,
    class_v: Vec<(usize, f64, f64)>,
}

impl RunQuantities {
    /// An empty accumulator for `region` (class V limits from `standards`).
    pub fn new(region: &Region, standards: &Standards) -> RunQuantities {
        let mut districts = vec![WHOLE_REGION.to_string()];
        let node_district = region
            .nodes
            .iter()
            .map(|n| {
                let d = match &n.kind {
                    NodeKind::Plant(p) => p.district.as_str(),
                    NodeKind::User(u) => u.district.as_str(),
                    _ => WHOLE_REGION,
                };
                if d == WHOLE_REGION {
                    return 0;
                }
                match districts.iter().position(|x| x == d) {
                    Some(i) => i,
                    None => {
                        districts.push(d.to_string());
                        districts.len() - 1
                    }
                }
            })
            .collect();
        let first_year = region.start.ymd().0;
        let last_year = region
            .start
            .add_days(region.days.saturating_sub(1) as i32)
            .ymd()
            .0;
        let years = (last_year - first_year + 1).max(1) as usize;
        RunQuantities {
            model: region.name.clone(),
            first_year,
            sums: vec![vec![[0.0; SLOTS]; years]; districts.len()],
            districts,
            node_district,
            class_v: class_v_bounds(region, standards),
        }
    }

    fn add(&mut self, district: usize, year: usize, slot: usize, v: f64) {
        self.sums[0][year][slot] += v;
        if district != 0 && !REGION_ONLY.contains(&slot) {
            self.sums[district][year][slot] += v;
        }
    }

    /// Adds one day.
    pub fn add_day(&mut self, sim: &Simulation, date: Date, nodes: &[NodeDay]) {
        let y = (date.ymd().0 - self.first_year).max(0) as usize;
        let region = sim.region;
        for (i, n) in region.nodes.iter().enumerate() {
            let d = &nodes[i];
            let dist = self.node_district[i];
            match &n.kind {
                NodeKind::Plant(p) => {
                    self.add(dist, y, INFLUENT, d.influent_m3);
                    self.add(dist, y, TREATED, d.treated_m3);
                    self.add(dist, y, BYPASSED, d.bypassed_m3);
                    self.add(
                        dist,
                        y,
                        SLUDGE,
                        d.treated_m3 / 1e4 * p.sludge_t_ds_per_1e4_m3,
                    );
                    self.add(dist, y, ENERGY, d.treated_m3 * p.energy_kwh_per_m3);
                }
                NodeKind::User(u) => {
                    self.add(dist, y, USED, d.delivered_m3);
                    self.add(dist, y, DEMAND, d.demand_m3);
                    self.add(dist, y, BY_CATEGORY + u.category as usize, d.delivered_m3);
                    if d.delivered_m3 > 0.0 {
                        self.add(dist, y, SUPPLY_DAYS, 1.0);
                        if d.compliant != Some(false) {
                            self.add(dist, y, SUPPLY_DAYS_OK, 1.0);
                        }
                    }
                }
                NodeKind::River(_) | NodeKind::Outfall(_) => {
                    self.add(0, y, DISCHARGED, d.discharged_m3);
                }
                NodeKind::Wetland(_) if d.inflow_m3 > 0.0 => {
                    self.add(0, y, WETLAND_DAYS, 1.0);
                    let c = sim.concentration(i);
                    let ok = self.class_v.iter().all(|&(f, lo, hi)| {
                        let v = c[f];
                        v.is_nan() || (v >= lo - 1e-12 && v <= hi + 1e-12)
                    });
                    if ok {
                        self.add(0, y, WETLAND_DAYS_V, 1.0);
                    }
                }
                _ => {}
            }
        }
    }

    /// The table: every quantity for every district and year of the run (wetland quantities
    /// only if the region has a wetland).
    pub fn finish(self, region: &Region) -> QuantityTable {
        let mut t = QuantityTable::new();
        let origin = Origin::Model {
            model: self.model.clone(),
        };
        let has_wetland = region
            .nodes
            .iter()
            .any(|n| matches!(n.kind, NodeKind::Wetland(_)));
        let has_receiving = region
            .nodes
            .iter()
            .any(|n| matches!(n.kind, NodeKind::River(_) | NodeKind::Outfall(_)));
        for (di, d) in self.districts.iter().enumerate() {
            let has = |pred: &dyn Fn(&NodeKind) -> bool| {
                region
                    .nodes
                    .iter()
                    .zip(&self.node_district)
                    .any(|(n, &nd)| (di == 0 || nd == di) && pred(&n.kind))
            };
            let has_plant = has(&|k| matches!(k, NodeKind::Plant(_)));
            let has_user = has(&|k| matches!(k, NodeKind::User(_)));
            for (yi, sums) in self.sums[di].iter().enumerate() {
                let year = self.first_year + yi as i32;
                let end = Date::from_ymd(year, 12, 31);
                if has_plant {
                    for s in [INFLUENT, TREATED, BYPASSED, SLUDGE, ENERGY] {
                        t.set(d, year, NAMES[s], sums[s], origin.clone());
                    }
                    let capacity: f64 = region
                        .nodes
                        .iter()
                        .zip(&self.node_district)
                        .filter(|(_, &nd)| di == 0 || nd == di)
                        .filter_map(|(n, _)| match &n.kind {
                            NodeKind::Plant(p)
                                if p.built.is_none_or(|b| end.is_none_or(|e| b <= e)) =>
                            {
                                Some(p.capacity_m3_per_day)
                            }
                            _ => None,
                        })
                        .sum();
                    t.set(
                        d,
                        year,
                        "treatment_capacity_m3_per_day",
                        capacity,
                        origin.clone(),
                    );
                }
                if has_user {
                    for s in [USED, DEMAND, SUPPLY_DAYS, SUPPLY_DAYS_OK] {
                        t.set(d, year, NAMES[s], sums[s], origin.clone());
                    }
                    for c in UserCategory::ALL {
                        t.set(
                            d,
                            year,
                            &category_quantity(c),
                            sums[BY_CATEGORY + c as usize],
                            origin.clone(),
                        );
                    }
                }
                if di == 0 && has_receiving {
                    t.set(d, year, NAMES[DISCHARGED], sums[DISCHARGED], origin.clone());
                }
                if di == 0 && has_wetland {
                    for s in [WETLAND_DAYS, WETLAND_DAYS_V] {
                        t.set(d, year, NAMES[s], sums[s], origin.clone());
                    }
                }
            }
        }
        t
    }
}

struct Sink<'a>(&'a mut RunQuantities);

impl DailySink for Sink<'_> {
    fn day(
        &mut self,
        sim: &Simulation,
        date: Date,
        nodes: &[NodeDay],
        _: &[LinkDay],
    ) -> std::io::Result<()> {
        self.0.add_day(sim, date, nodes);
        Ok(())
    }
}

/// Runs `region` and returns its summary and its quantities by district and year.
pub fn model_quantities(
    region: &Region,
    standards: &Standards,
) -> Result<(Summary, QuantityTable), EngineError> {
    let mut acc = RunQuantities::new(region, standards);
    let summary = Simulation::new(region)?.run(Some(&mut Sink(&mut acc)), &mut |_, _| {})?;
    Ok((summary, acc.finish(region)))
}

/// [`RunQuantities`] as a [`DailySink`], for callers that run the simulation themselves (e.g.
/// beside the daily CSV writer).
pub fn sink(acc: &mut RunQuantities) -> impl DailySink + '_ {
    Sink(acc)
}
