//! The fixed way of dry-weather flow (旱流路径) while no runoff is in the system: where
//! each source's flow ends, the bound of the flow through each node, and the steps with
//! runoff anywhere — what the routing needs to skip quiet stretches exactly
//! ([`crate::route::route`], [`crate::drain`]).

use crate::lateral::Runoff;
use crate::network::{LinkKind, NodeKind, System};
use crate::route::Plan;

/// Where dry-weather flow goes while no runoff is in the system, when that is the same
/// at every hour: each source's outfall, and how many steps of normal routing bring every
/// sewer reach on the way back to its exact state after a stretch was skipped.
pub(crate) struct DryRoute {
    pub(crate) outfall: Vec<usize>,
    /// Upper bound of the dry-weather flow through each node, m³/s.
    pub(crate) bound: Vec<f64>,
    /// The node each node passes its dry-weather flow to (usize::MAX: none, or an outfall).
    pub(crate) next: Vec<usize>,
    /// The link each node passes its dry-weather flow down (usize::MAX: none).
    pub(crate) next_link: Vec<usize>,
    /// The links dry-weather flow takes, with the settings it was checked at: a rule that
    /// changed one of them ends skipping.
    pub(crate) path: Vec<(usize, f64)>,
    /// Nodes that never receive runoff, external inflow or dry-weather flow.
    pub(crate) lateral_always_zero: Vec<bool>,
    pub(crate) warmup_steps: usize,
    /// Steps with runoff anywhere, as ordered, merged ranges.
    busy: Vec<(usize, usize)>,
    /// Runoff still arriving ([`crate::stream`]): its busy steps are in its segments.
    stream: Option<std::sync::Arc<crate::stream::Segments>>,
}

impl DryRoute {
    /// None when some node on the way could divert, flood or store dry-weather flow at its
    /// peak (then every step is routed), or when rules or loops could change the routing.
    pub(crate) fn new(
        system: &System,
        plan: &Plan,
        settings: &[f64],
        runoff: &Runoff,
        whole: Option<&[usize]>,
    ) -> Option<DryRoute> {
        // Kinematic-wave reaches do not return to an exact state after a stretch; rules
        // are checked at each stretch (`rules_quiet`).
        let kinematic = system.routed_by == crate::network::FlowRouting::KinWave;
        if plan.back_edge.iter().any(|&b| b) || kinematic {
            return None;
        }
        let n = system.nodes.len();
        // Upper bound of the dry-weather flow through each node: the sum of its sources'
        // peaks (delays and linear reservoirs never raise a peak).
        let mut bound = vec![0.0; n];
        for d in &system.dry_weather {
            let peak_hour = d
                .hourly
                .iter()
                .chain(d.weekend.iter().flatten())
                .fold(0.0f64, |a, &b| a.max(b));
            let max = |v: &[f64]| v.iter().fold(0.0f64, |a, &b| a.max(b));
            bound[d.node] += d.base_m3_per_s.max(0.0) * max(&d.monthly) * max(&d.daily) * peak_hour;
        }
        let mut next = vec![usize::MAX; n];
        let mut next_link = vec![usize::MAX; n];
        let mut path = Vec::new();
        let mut warmup = 1usize;
        for &node in &plan.order {
            let b = bound[node];
            if b <= 0.0 {
                continue;
            }
            let outs = &plan.out_links[node];
            let link = match &system.nodes[node].kind {
                NodeKind::Outfall { .. } => continue,
                NodeKind::Storage(_) => return None,
                NodeKind::Junction => match outs.as_slice() {
                    [l] => *l,
                    _ => return None,
                },
                NodeKind::Divider { diverted, rule } => {
                    let main = outs.iter().copied().find(|l| l != diverted)?;
                    let passes = match rule {
                        crate::network::DividerRule::Cutoff(c) => b <= *c,
                        crate::network::DividerRule::Overflow => true,
                        crate::network::DividerRule::Weir { qmin, .. } => b <= *qmin,
                        crate::network::DividerRule::Tabular(_) => false,
                    };
                    if !passes {
                        return None;
                    }
                    main
                }
            };
            match system.links[link].kind {
                LinkKind::Conduit {
                    capacity_m3_per_s,
                    lag_s,
                    reservoir_s,
                    ..
                } if b <= capacity_m3_per_s * settings[link] => {
                    let dt = system.clock.step_s as f64;
                    // A delay line forgets after its length; a linear reservoir after
                    // e^(−37) < 10⁻¹⁶ of its start is left.
                    warmup += (lag_s / dt).ceil() as usize + 2;
                    if reservoir_s > 0.0 {
                        warmup += (37.0 * reservoir_s / dt).ceil() as usize;
                    }
                }
                _ => return None,
            }
            let to = system.links[link].to;
            next[node] = to;
            next_link[node] = link;
            bound[to] += b;
            path.push((link, settings[link]));
        }
        let outfall = system
            .dry_weather
            .iter()
            .map(|d| {
                let mut at = d.node;
                for _ in 0..n {
                    if next[at] == usize::MAX {
                        break;
                    }
                    at = next[at];
                }
                at
            })
            .collect();
        // The runoff of this system's own nodes (all of `runoff`'s when it is the whole).
        let g = |i: usize| whole.map_or(i, |w| w[i]);
        let own = |i: usize| [&runoff.per_node[g(i)], &runoff.external[g(i)]];
        let busy = crate::series::busy_spans((0..n).flat_map(own));
        let mut lateral_always_zero = vec![true; n];
        for d in &system.dry_weather {
            lateral_always_zero[d.node] = false;
        }
        for (i, z) in lateral_always_zero.iter_mut().enumerate() {
            if own(i).iter().any(|s| s.stored_steps() > 0) {
                *z = false;
            }
        }
        if let Some(stream) = &runoff.stream {
            for (i, z) in lateral_always_zero.iter_mut().enumerate() {
                *z &= !stream.has_runoff[g(i)];
            }
        }
        Some(DryRoute {
            outfall,
            bound,
            next,
            next_link,
            path,
            lateral_always_zero,
            warmup_steps: warmup,
            busy,
            stream: runoff.stream.clone(),
        })
    }

    /// The first step at or after `step` with runoff anywhere (or the end).
    pub(crate) fn next_busy(&self, step: usize, steps: usize) -> usize {
        let i = self.busy.partition_point(|&(_, end)| end <= step);
        let next = match self.busy.get(i) {
            Some(&(start, _)) => start.max(step),
            None => steps,
        };
        match &self.stream {
            // The first of the runoff's and the external inflows' next busy step.
            Some(s) => next.min(s.next_busy(step)),
            None => next,
        }
    }
}
