//! Quiet stretches in which storage units drain (排空): no runoff anywhere, dry-weather
//! flow on its fixed way to the plant, and one or more tanks emptying through pumps
//! into that way. Only the tanks are stepped (by the routing's own storage step, so their
//! levels are the same as routing every step); what they pump and the dry-weather flow
//! are credited to the outfall they reach, as for a quiet stretch
//! ([`crate::route::route`]). Control rules are checked at every step, with the flow of
//! each link on the dry-weather way known to lie between 0 and its bound: the stretch ends
//! where a rule could change a setting, a level switch could act, a tank could spill or
//! release over a weir, orifice or outlet, or runoff is near.

use crate::network::{LinkKind, NodeKind, PumpCurve, Subject};
use crate::route::{DryRoute, Observer, Plan, State, MIN_SKIP_STEPS};
use crate::rules::{quiet_rules_hold, PremiseWatch};
use crate::tank::drain_pump_step;

/// What a draining stretch may rely on, found at its start.
struct DrainPlan {
    /// The storage units that drain, with their pumps: (pump link, outfall it reaches).
    tanks: Vec<(usize, Vec<(usize, usize)>)>,
    /// Upper bound of the flow of each link while the stretch lasts (∞: unknown).
    flow_hi: Vec<f64>,
}

impl State<'_> {
    /// Skip the draining stretch from `step` at most to `end` (see the module); returns
    /// the next step to route, or None when the stretch cannot be skipped.
    pub(crate) fn skip_draining(
        &mut self,
        plan: &Plan,
        dry: &DryRoute,
        storage_nodes: &[usize],
        step: usize,
        end: usize,
        observer: &mut impl Observer,
    ) -> Option<usize> {
        let clock = self.system.clock;
        if end < step + MIN_SKIP_STEPS || !observer.may_skip(clock.time(step), clock.time(end)) {
            return None;
        }
        if dry.path.iter().any(|&(l, s)| self.settings[l] != s) {
            return None;
        }
        let dp = self.drain_plan(plan, dry, storage_nodes)?;
        let system = self.system;
        let mut actions = vec![(f64::NEG_INFINITY, 0.0); system.links.len()];
        // The pumps of the draining tanks: their flow is known exactly.
        let mut tank_pump = vec![false; system.links.len()];
        for (_, pumps) in &dp.tanks {
            for &(p, _) in pumps {
                tank_pump[p] = true;
            }
        }
        // The rules are evaluated again only when a premise on what drains changes.
        let draining = |i: usize| dp.tanks.iter().any(|&(m, _)| m == i);
        let mut watch = PremiseWatch::new(&system.rules, |s| match *s {
            Subject::NodeDepth(i) | Subject::NodeVolume(i) => draining(i),
            Subject::LinkFlow(l) => tank_pump[l] && !dp.flow_hi[l].is_finite(),
            _ => false,
        });
        // The tanks' pumps with their curves; their other links carry nothing meanwhile.
        let tank_pumps: Vec<Vec<(usize, &PumpCurve)>> = dp
            .tanks
            .iter()
            .map(|(_, pumps)| {
                pumps
                    .iter()
                    .filter_map(|&(p, _)| match &system.links[p].kind {
                        LinkKind::Pump { curve, .. } => Some((p, curve)),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        for &(m, _) in &dp.tanks {
            for &l in &plan.out_links[m] {
                self.assigned[l] = 0.0;
            }
        }
        let mut k = step;
        while k < end {
            if !system.rules.is_empty() && watch.changed(&self.depth, &self.volume, &self.link_flow)
            {
                let flow = |l: usize| -> Option<(f64, f64)> {
                    let hi = dp.flow_hi[l];
                    if hi.is_finite() {
                        Some((0.0, hi))
                    } else if tank_pump[l] {
                        Some((self.link_flow[l], self.link_flow[l]))
                    } else {
                        None
                    }
                };
                if !quiet_rules_hold(
                    system,
                    &self.rule_links,
                    &self.settings,
                    &self.depth,
                    &self.volume,
                    &dry.lateral_always_zero,
                    &flow,
                    &mut actions,
                ) {
                    break;
                }
            }
            self.drain_step(&dp, &tank_pumps);
            observer.observe_storage(k, clock.time(k), &self.volume);
            k += 1;
        }
        if k == step {
            return None;
        }
        self.credit_quiet(dry, step, k);
        self.bal.drained_steps += k - step;
        Some(k)
    }

    /// The tanks that drain and the bounds the stretch relies on; None when the system is
    /// not in that state.
    fn drain_plan(
        &self,
        plan: &Plan,
        dry: &DryRoute,
        storage_nodes: &[usize],
    ) -> Option<DrainPlan> {
        let system = self.system;
        let n = system.nodes.len();
        let mut extra = vec![0.0; n];
        let mut tanks = Vec::new();
        let overflow = system.overflow_outfalls();
        for &m in storage_nodes {
            if self.holds_still(plan, m) {
                continue;
            }
            // Nothing may flow in: every link into the tank is a divider's diverted link
            // that dry-weather flow cannot reach, idle and empty.
            for (l, link) in system.links.iter().enumerate() {
                if link.to != m {
                    continue;
                }
                let idle = self.link_flow[l] == 0.0
                    && self.reaches[l].as_ref().is_none_or(|r| r.held_m3() == 0.0);
                let diverted = matches!(
                    system.nodes[link.from].kind,
                    NodeKind::Divider { diverted, .. } if diverted == l
                ) && dry.next_link[link.from] != l;
                if !idle
                    || !(diverted
                        || dry.bound[link.from] == 0.0
                            && self.inflow[link.from] == 0.0
                            && !matches!(system.nodes[link.from].kind, NodeKind::Storage(_)))
                {
                    return None;
                }
            }
            let mut pumps = Vec::new();
            for &l in &plan.out_links[m] {
                let link = &system.links[l];
                match &link.kind {
                    LinkKind::Pump {
                        curve, startup_m, ..
                    } => {
                        let max = match curve {
                            PumpCurve::Ideal => 0.0,
                            PumpCurve::Constant(r) => *r,
                            PumpCurve::VolumeSteps(t)
                            | PumpCurve::DepthSteps(t)
                            | PumpCurve::Depth(t) => t.iter().map(|p| p.1).fold(0.0, f64::max),
                            PumpCurve::Spare { .. } => return None,
                        } * self.settings[l].max(0.0);
                        if *startup_m > 0.0 {
                            return None;
                        }
                        // The pump must deliver onto the dry-weather way (or an outfall)
                        // and from there to the plant.
                        let to = link.to;
                        let mut at = to;
                        for _ in 0..n {
                            if dry.next[at] == usize::MAX {
                                break;
                            }
                            at = dry.next[at];
                        }
                        if !matches!(system.nodes[at].kind, NodeKind::Outfall { .. })
                            || overflow.contains(&at)
                            || (at != to && dry.next[to] == usize::MAX)
                        {
                            return None;
                        }
                        extra[to] += max;
                        pumps.push((l, at));
                    }
                    // Nothing over a weir, through an orifice or outlet now; as the level
                    // only falls, nothing later either.
                    k if k.is_depth_driven() => {
                        if k.flow_at_depth(self.depth[m]) * self.settings[l] != 0.0 {
                            return None;
                        }
                    }
                    LinkKind::Spill => {}
                    // A plain conduit out of a tank is not given flow by the storage step.
                    LinkKind::Conduit { .. } => {}
                    _ => return None,
                }
            }
            tanks.push((m, pumps));
        }
        if tanks.is_empty() {
            return None;
        }
        // Carry the pumped flow down the way; it must fit where dry-weather flow was
        // checked to fit (conduit capacity, divider cutoff).
        let mut flow_hi = vec![f64::INFINITY; system.links.len()];
        let mut carried = extra.clone();
        for &node in &plan.order {
            let l = dry.next_link[node];
            if l == usize::MAX {
                continue;
            }
            let total = dry.bound[node] + carried[node];
            if carried[node] > 0.0 {
                if let LinkKind::Conduit {
                    capacity_m3_per_s, ..
                } = system.links[l].kind
                {
                    if total > capacity_m3_per_s * self.settings[l] {
                        return None;
                    }
                }
                if let NodeKind::Divider { rule, .. } = &system.nodes[node].kind {
                    let passes = match rule {
                        crate::network::DividerRule::Cutoff(c) => total <= *c,
                        crate::network::DividerRule::Overflow => true,
                        crate::network::DividerRule::Weir { qmin, .. } => total <= *qmin,
                        crate::network::DividerRule::Tabular(_) => false,
                    };
                    if !passes {
                        return None;
                    }
                }
            }
            carried[dry.next[node]] += carried[node];
            flow_hi[l] = total;
            // The other links out of a node on the way carry nothing.
            for &o in &plan.out_links[node] {
                if o != l {
                    flow_hi[o] = 0.0;
                }
            }
        }
        Some(DrainPlan { tanks, flow_hi })
    }

    /// One step of the draining tanks: what the routing's storage step does for a tank
    /// with no inflow whose level is below every weir, orifice and outlet (`tank_pumps`:
    /// each tank's pumps and curves; its other links were given no flow at the start).
    fn drain_step(&mut self, dp: &DrainPlan, tank_pumps: &[Vec<(usize, &PumpCurve)>]) {
        let system = self.system;
        for ((m, pumps), curves) in dp.tanks.iter().zip(tank_pumps) {
            let m = *m;
            let NodeKind::Storage(st) = &system.nodes[m].kind else {
                continue;
            };
            let v0 = self.volume[m];
            let v1 = if v0 <= 0.0 {
                for &(l, _) in curves {
                    self.assigned[l] = 0.0;
                }
                0.0
            } else {
                drain_pump_step(
                    curves,
                    v0,
                    self.depth[m],
                    self.dt,
                    &self.settings,
                    &self.link_flow,
                    &mut self.assigned,
                )
            };
            self.volume[m] = v1;
            self.depth[m] = st.depth_at(v1);
            for &(p, outfall) in pumps {
                let q = self.assigned[p];
                self.link_flow[p] = q;
                self.bal.outfall_m3[outfall] += q * self.dt;
            }
        }
    }
}
