//! The data side of a [`Simulation`]: what a region's numbers put into the network built for
//! it, so that one network serves many regions of the same shape (an optimiser's evaluations
//! change capacities, costs, demands … but not the nodes and links), and evaluations in
//! parallel.

use super::{ArcRole, EngineError, Simulation, EQUITY_STEP_PER_M3};
use crate::solver::{quantise_m3, CostScale};
use crate::summary::Summary;
use rewater_model::{NodeKind, QualityRequirement, Region};
use std::mem::discriminant;

/// Most costs named one by one in the rounding warning; the rest are counted.
const ROUNDING_NAMED: usize = 10;

/// The unit cost of every arc (costs do not change from day to day).
pub(super) fn arc_costs(region: &Region, roles: &[ArcRole], sink_arcs: &[Vec<usize>]) -> Vec<f64> {
    roles
        .iter()
        .enumerate()
        .map(|(a, role)| match *role {
            ArcRole::Link(l) => region.links[l].cost_per_m3,
            ArcRole::Wetland(_) => 0.0,
            ArcRole::Bypass(i) => match &region.nodes[i].kind {
                NodeKind::Plant(p) => p.bypass_penalty_per_m3,
                _ => 0.0,
            },
            ArcRole::Carryover(i) => match &region.nodes[i].kind {
                NodeKind::Pond(p) => -p.value_per_m3,
                _ => 0.0,
            },
            ArcRole::Demand(i) => match &region.nodes[i].kind {
                NodeKind::User(u) => {
                    let piece = sink_arcs[i].iter().position(|x| *x == a).unwrap_or(0);
                    let pieces = sink_arcs[i].len();
                    -u.benefit_per_m3 - (pieces - 1 - piece) as f64 * EQUITY_STEP_PER_M3
                }
                _ => 0.0,
            },
            ArcRole::Discharge(i) => match &region.nodes[i].kind {
                NodeKind::River(r) | NodeKind::Outfall(r) => r.cost_per_m3,
                _ => 0.0,
            },
        })
        .collect()
}

/// Why a region cannot re-use a simulation built for another.
fn shape_difference(a: &Region, b: &Region) -> Option<String> {
    if a.nodes.len() != b.nodes.len() || a.links.len() != b.links.len() {
        return Some(format!(
            "{} nodes and {} links, not {} and {}",
            b.nodes.len(),
            b.links.len(),
            a.nodes.len(),
            a.links.len()
        ));
    }
    if let Some((x, _)) = a
        .nodes
        .iter()
        .zip(&b.nodes)
        .find(|(x, y)| discriminant(&x.kind) != discriminant(&y.kind))
    {
        return Some(format!("node {} is of another kind", x.id));
    }
    if let Some((x, _)) = a
        .links
        .iter()
        .zip(&b.links)
        .find(|(x, y)| x.from != y.from || x.to != y.to || x.loss_fraction != y.loss_fraction)
    {
        return Some(format!(
            "link {} joins other nodes or loses another share",
            x.id
        ));
    }
    if a.factors != b.factors
        || a.equitable_sharing != b.equitable_sharing
        || a.solver != b.solver
        || a.quality_iterations != b.quality_iterations
    {
        return Some("other factors, sharing, solver or quality iterations".into());
    }
    None
}

impl<'r> Simulation<'r> {
    /// Prepares this simulation for `region`, a region with the same nodes and links (same
    /// kinds, same ends, same losses, same factors and settings) whose numbers may differ:
    /// capacities, costs, benefits, demands, influents, standards, initial storage …. The
    /// network, the solver's graph and every buffer are kept; the run starts from the state
    /// a fresh [`Simulation::new`] has, including a cold simplex basis on the first day, so
    /// its results are bit-identical to a fresh simulation's. (Keeping the last day's basis
    /// of the previous evaluation would save one cold solve out of `days`, and could make a
    /// tie between equal-cost allocations fall the other way.)
    pub fn reset_for(&mut self, region: &'r Region) -> Result<(), EngineError> {
        if let Some(why) = shape_difference(self.region, region) {
            return Err(EngineError::OtherNetwork(why));
        }
        self.region = region;
        self.problem.cost = arc_costs(region, &self.roles, &self.sink_arcs);
        self.problem.costs_version += 1;
        let scale = CostScale::choose(&self.problem.cost, self.problem.supply.len());
        self.cost_scale = scale.scale;
        self.solver.restart(scale.scale);
        self.warnings = self.rounding_warnings(&scale);
        self.load_state();
        Ok(())
    }

    /// Everything of a run's state that the region's numbers give: constant bounds, user
    /// standards, initial storage and quality; counters and day buffers cleared.
    pub(super) fn load_state(&mut self) {
        let region = self.region;
        // Bounds that do not change from day to day are set once; `bounds` sets the others.
        for (a, role) in self.roles.iter().enumerate() {
            self.problem.lower[a] = 0.0;
            self.problem.upper[a] = match *role {
                ArcRole::Link(l) => region.links[l]
                    .capacity_m3_per_day
                    .map(quantise_m3)
                    .unwrap_or(f64::INFINITY),
                ArcRole::Wetland(i) => match &region.nodes[i].kind {
                    NodeKind::Wetland(w) => quantise_m3(w.max_inflow_m3_per_day),
                    _ => 0.0,
                },
                _ => f64::INFINITY,
            };
        }
        // The distinct requirements of users, and each user's (one list, so that a check reads
        // few of them).
        let mut requirements: Vec<QualityRequirement> = Vec::new();
        let mut node_req = vec![None; region.nodes.len()];
        for (i, node) in region.nodes.iter().enumerate() {
            let NodeKind::User(u) = &node.kind else {
                continue;
            };
            let Some(r) = u.requirement.as_ref() else {
                continue;
            };
            let k = match requirements
                .iter()
                .position(|q| q.label == r.label && q.bounds == r.bounds)
            {
                Some(k) => k,
                None => {
                    requirements.push(r.clone());
                    requirements.len() - 1
                }
            };
            node_req[i] = Some(k);
        }
        self.met_memo = vec![0; region.nodes.len() * requirements.len()];
        // Each link's source node, its user's requirement and their place in the memo.
        self.user_link_req = (self.user_links.iter())
            .map(|&li| {
                let (from, req) = (
                    region.links[li].from,
                    node_req[region.links[li].to].unwrap_or(0),
                );
                (from, req, from * requirements.len() + req)
            })
            .collect();
        self.requirements = requirements;
        self.node_req = node_req;
        self.user_link_cap = (self.user_links.iter())
            .map(|&li| {
                let capacity = region.links[li].capacity_m3_per_day;
                capacity.map(quantise_m3).unwrap_or(f64::INFINITY)
            })
            .collect();
        let f = region.factors.len();
        for (i, node) in region.nodes.iter().enumerate() {
            self.storage[i] = 0.0;
            let c = match &node.kind {
                NodeKind::Pond(p) => {
                    self.storage[i] = quantise_m3(p.initial_volume_m3);
                    p.initial_mg_per_l.clone()
                }
                NodeKind::Plant(p) => p.effluent_mg_per_l.clone(),
                _ => vec![f64::NAN; f],
            };
            self.conc_in[i].clone_from(&c);
            self.pond_conc_start[i].clone_from(&c);
            self.conc[i] = c;
        }
        // Resized, not only zeroed: a run that stopped on a solver error mid-day leaves the
        // buffer taken (empty).
        self.last_wetland_inflow.clear();
        self.last_wetland_inflow
            .resize(self.region.nodes.len(), 0.0);
        self.pond_start.iter_mut().for_each(|v| *v = 0.0);
        self.open.iter_mut().for_each(|o| *o = true);
        self.flow.iter_mut().for_each(|v| *v = 0.0);
        self.flow_before.iter_mut().for_each(|v| *v = 0.0);
        self.stats = Default::default();
    }

    /// A warning naming each link or node whose cost the solver's resolution rounds (none
    /// for the LP backend, which takes costs as they are).
    pub(super) fn rounding_warnings(&self, scale: &CostScale) -> Vec<String> {
        if self.solver.name() != "network_simplex" {
            return Vec::new();
        }
        let region = self.region;
        let name = |a: usize| match self.roles[a] {
            ArcRole::Link(l) => format!("link {}: field 'cost_per_m3'", region.links[l].id),
            ArcRole::Bypass(i) => {
                format!(
                    "plant {}: field 'bypass_penalty_per_m3'",
                    region.nodes[i].id
                )
            }
            ArcRole::Carryover(i) => format!("pond {}: field 'value_per_m3'", region.nodes[i].id),
            ArcRole::Demand(i) => format!("user {}: field 'benefit_per_m3'", region.nodes[i].id),
            ArcRole::Discharge(i) => format!(
                "{} {}: field 'cost_per_m3'",
                region.nodes[i].kind.name(),
                region.nodes[i].id
            ),
            ArcRole::Wetland(i) => format!("wetland {}", region.nodes[i].id),
        };
        let resolution = 1.0 / scale.scale;
        let mut out: Vec<String> = scale
            .rounded
            .iter()
            .take(ROUNDING_NAMED)
            .map(|&(a, c, held)| {
                rewater_model::findings::message(
                    "cost_rounded",
                    &name(a),
                    &[
                        ("cost", c.to_string()),
                        ("held", held.to_string()),
                        ("resolution", resolution.to_string()),
                    ],
                )
            })
            .collect();
        if scale.rounded.len() > ROUNDING_NAMED {
            let more = scale.rounded.len() - ROUNDING_NAMED;
            out.push(rewater_model::findings::message(
                "cost_rounded_more",
                "costs",
                &[("more", more.to_string())],
            ));
        }
        out
    }
}

/// Runs every region and returns their summaries in order. Regions of one network re-use one
/// simulation per thread ([`Simulation::reset_for`]); with the `parallel` feature they run on
/// rayon's threads. Either way each result is bit-identical to `crate::run(region)` (apart
/// from the measured `stats.solve_seconds`), since every run starts cold on its first day.
pub fn evaluate_many(regions: &[Region]) -> Vec<Result<Summary, EngineError>> {
    fn one<'r>(
        slot: &mut Option<Simulation<'r>>,
        region: &'r Region,
    ) -> Result<Summary, EngineError> {
        let reused = match slot.as_mut() {
            Some(sim) => sim.reset_for(region).is_ok(),
            None => false,
        };
        if !reused {
            *slot = Some(Simulation::new(region)?);
        }
        match slot.as_mut() {
            Some(sim) => sim.run(None, &mut |_, _| {}),
            None => Err(EngineError::OtherNetwork("no simulation".into())),
        }
    }
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        regions.par_iter().map_init(|| None, one).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut slot = None;
        regions
            .iter()
            .map(|region| one(&mut slot, region))
            .collect()
    }
}
