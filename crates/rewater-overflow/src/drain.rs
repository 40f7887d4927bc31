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
use crate::tank::{drain_pump_step, pump_rate};

/// Draining steps first tried at once by [`State::coast`], and the most at once.
const COAST_FIRST: usize = 64;
const COAST_MAX: usize = 8_192;
/// Steps taken one by one after a single step could not coast, before trying again.
const COAST_PAUSE: usize = 64;
/// Margin on the levels a coast passes through, against rounding in `depth_at`, m.
const LEVEL_MARGIN_M: f64 = 1e-12;

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
        let (mut k, mut chunk, mut pause) = (step, COAST_FIRST, 0);
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
            if pause > 0 {
                pause -= 1;
            } else if coasting() {
                let n = self.coast(&dp, &tank_pumps, &watch, k, chunk.min(end - k), observer);
                if n > 0 {
                    k += n;
                    chunk = (chunk * 2).min(COAST_MAX);
                    continue;
                }
                // Near a level where something changes, try shorter runs; where nothing
                // can coast (a sloping pump curve), try again only now and then.
                (chunk, pause) = if chunk == 1 {
                    (COAST_FIRST, COAST_PAUSE)
                } else {
                    (chunk / 2, 0)
                };
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

    /// Take up to `max` draining steps from `step` at once (惰行), as the loop of
    /// [`State::skip_draining`] would one by one, where nothing it checks can change in
    /// them: every pump keeps its rate (its curve is flat over the levels passed), no
    /// tank holds less than its pumps take in a step, and no premise `watch` follows
    /// changes. Each step is [`State::drain_step`]'s arithmetic (the volume less the same
    /// product, the same credit to the outfall), so the levels and totals are the same to
    /// the bit; the observer sees every step. Returns the steps taken (0: none).
    fn coast(
        &mut self,
        dp: &DrainPlan,
        tank_pumps: &[Vec<(usize, &PumpCurve)>],
        watch: &PremiseWatch,
        step: usize,
        max: usize,
        observer: &mut impl Observer,
    ) -> usize {
        let dt = self.dt;
        // Each tank's volume and what its pumps take from it each step; each pump's flow.
        let mut take = Vec::with_capacity(dp.tanks.len());
        let mut flows = Vec::new();
        let mut n = max;
        for ((m, _), curves) in dp.tanks.iter().zip(tank_pumps) {
            let (v, d) = (self.volume[*m], self.depth[*m]);
            let mut total = 0.0;
            for &(l, curve) in curves {
                let q = if v > 0.0 {
                    (pump_rate(curve, v, d, 0.0, &self.link_flow) * self.settings[l]).max(0.0)
                } else {
                    0.0
                };
                total += q;
                flows.push((l, q));
            }
            let c = total * dt;
            if v > 0.0 {
                // drain_pump_step scales the pumps down where c > v.
                if !(c > 0.0 && c <= v) {
                    return 0;
                }
                let (mut x, mut j) = (v, 0);
                while j < n && x >= c {
                    x = (x - c).max(0.0);
                    j += 1;
                }
                n = j;
            }
            take.push((*m, v, c));
        }
        if n == 0 {
            return 0;
        }
        // The volume of each tank after the n steps (an empty tank's stays 0); the
        // levels lie between.
        let system = self.system;
        let mut range = vec![None; system.nodes.len()];
        let mut after = Vec::with_capacity(take.len());
        for &(m, v, c) in &take {
            let NodeKind::Storage(st) = &system.nodes[m].kind else {
                return 0;
            };
            let mut x = v;
            if v > 0.0 {
                for _ in 0..n {
                    x = (x - c).max(0.0);
                }
            }
            after.push(if v > 0.0 { x } else { 0.0 });
            let d_hi = self.depth[m].max(st.depth_at(v)) + LEVEL_MARGIN_M;
            range[m] = Some(((x, v), (st.depth_at(x) - LEVEL_MARGIN_M, d_hi)));
        }
        let flat = dp.tanks.iter().zip(tank_pumps).all(|((m, _), curves)| {
            let Some((v, d)) = range[*m] else {
                return false;
            };
            curves.iter().all(|&(_, curve)| rate_constant(curve, d, v))
        });
        let flow_of = |l: usize| flows.iter().find(|f| f.0 == l).map(|f| (f.1, f.1));
        let premises_hold = watch.holds_as_last_over(|subject| match subject {
            Subject::NodeDepth(i) => range.get(i).copied().flatten().map(|r| r.1),
            Subject::NodeVolume(i) => range.get(i).copied().flatten().map(|r| r.0),
            Subject::LinkFlow(l) => flow_of(l),
            _ => None,
        });
        if !flat || !premises_hold {
            return 0;
        }
        // The same steps as drain_step's: each pump's credit, tank by tank, step by step;
        // the volumes, which the observer sees step by step too.
        for _ in 0..n {
            let mut f = 0;
            for (_, pumps) in &dp.tanks {
                for &(_, outfall) in pumps {
                    self.bal.outfall_m3[outfall] += flows[f].1 * dt;
                    f += 1;
                }
            }
        }
        let mut draining = Vec::with_capacity(take.len());
        for (&(m, v0, c), &x) in take.iter().zip(&after) {
            self.volume[m] = x;
            if v0 > 0.0 {
                draining.push((m, v0, c));
            }
        }
        let run = crate::route::DrainRun {
            step,
            steps: n,
            clock: system.clock,
            draining: &draining,
        };
        observer.observe_storage_run(&run, &self.volume);
        for (m, _) in &dp.tanks {
            if let NodeKind::Storage(st) = &system.nodes[*m].kind {
                self.depth[*m] = st.depth_at(self.volume[*m]);
            }
        }
        for &(l, q) in &flows {
            self.assigned[l] = q;
            self.link_flow[l] = q;
        }
        #[cfg(test)]
        tests::COASTED.with(|c| c.set(c.get() + n));
        n
    }
}

/// Whether a pump curve gives the same rate, to the bit, at every depth in `d` and
/// volume in `v` (both `(low, high)`).
fn rate_constant(curve: &PumpCurve, d: (f64, f64), v: (f64, f64)) -> bool {
    let same_piece = |t: &[(f64, f64)], (lo, hi): (f64, f64)| {
        t.partition_point(|p| p.0 <= lo) == t.partition_point(|p| p.0 <= hi)
    };
    match curve {
        PumpCurve::Constant(_) => true,
        PumpCurve::VolumeSteps(t) => same_piece(t, v),
        PumpCurve::DepthSteps(t) => same_piece(t, d),
        // Between two points of equal rate, interpolation adds exactly 0.
        PumpCurve::Depth(t) => {
            let i = t.partition_point(|p| p.0 <= d.0);
            t.len() < 2
                || same_piece(t, d)
                    && (i == 0 || i >= t.len() || t[i - 1].1 == t[i].1 || t[i].0 <= t[i - 1].0)
        }
        PumpCurve::Ideal | PumpCurve::Spare { .. } => false,
    }
}

/// Whether draining steps may coast (tests turn it off to compare).
#[cfg(not(test))]
fn coasting() -> bool {
    true
}

#[cfg(test)]
fn coasting() -> bool {
    !tests::NO_COAST.with(|c| c.get())
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    thread_local! {
        pub(super) static NO_COAST: Cell<bool> = const { Cell::new(false) };
        pub(super) static COASTED: Cell<usize> = const { Cell::new(0) };
    }

    /// The whole report as JSON with and without coasting, and the steps coasted.
    fn both_ways(system: &crate::System) -> (String, String, usize) {
        let runoff = crate::route::compute_runoff(system);
        let run = |coast: bool| {
            NO_COAST.with(|c| c.set(!coast));
            COASTED.with(|c| c.set(0));
            let report = crate::results::simulate_routed(system, &runoff, true);
            let json = serde_json::to_string(&report).expect("a report serialises");
            (json, COASTED.with(|c| c.get()))
        };
        let (slow, none) = run(false);
        assert_eq!(none, 0);
        let (fast, coasted) = run(true);
        NO_COAST.with(|c| c.set(false));
        (slow, fast, coasted)
    }

    /// Every step a routing run shows, as (step, routed, each node's volume bits).
    #[derive(Default)]
    struct Steps(Vec<(usize, bool, Vec<u64>)>);

    impl crate::route::Observer for Steps {
        fn observe(&mut self, v: &crate::route::StepView) {
            let bits = v.node_volume.iter().map(|x| x.to_bits()).collect();
            self.0.push((v.step, true, bits));
        }
        fn may_skip(&self, _t0_s: i64, _t1_s: i64) -> bool {
            true
        }
        fn observe_storage(&mut self, step: usize, _time_s: i64, node_volume: &[f64]) {
            let bits = node_volume.iter().map(|x| x.to_bits()).collect();
            self.0.push((step, false, bits));
        }
    }

    #[test]
    fn an_observer_sees_every_coasted_step_as_stepped() {
        // The default run of observe_storage_run: the same steps and volumes as without
        // coasting, on SWMM's tank example.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/swmm/tank.inp");
        let system = crate::load(&path).expect("tank.inp loads");
        let runoff = crate::route::compute_runoff(&system);
        let run = |coast: bool| {
            NO_COAST.with(|c| c.set(!coast));
            COASTED.with(|c| c.set(0));
            let mut seen = Steps::default();
            crate::route::route(&system, &runoff, &mut seen);
            (seen.0, COASTED.with(|c| c.get()))
        };
        let (slow, _) = run(false);
        let (fast, coasted) = run(true);
        NO_COAST.with(|c| c.set(false));
        assert!(coasted > 10_000, "{coasted} steps coasted");
        assert!(slow.iter().filter(|s| !s.1).count() > 10_000);
        assert_eq!(slow.len(), fast.len());
        assert!(slow == fast, "the steps seen differ");
    }

    #[test]
    fn coasting_tanks_drain_as_step_by_step_to_the_bit() {
        // The generated CSO case (a tank emptied by a constant-rate pump under a control
        // rule on its depth and the interceptor's flow), a year of rain.
        let dir = std::env::temp_dir().join(format!("rewater-coast-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let (inp, rain) = crate::synthetic::swmm_inp_trees(10, 1, 1, 11);
        std::fs::write(dir.join("case.inp"), inp).expect("write case.inp");
        std::fs::write(dir.join("rain.dat"), rain).expect("write rain.dat");
        let system = crate::load(&dir.join("case.inp")).expect("the generated case loads");
        let _ = std::fs::remove_dir_all(&dir);
        let (slow, fast, coasted) = both_ways(&system);
        assert!(coasted > 50_000, "{coasted} steps coasted");
        assert_eq!(slow, fast);
        // SWMM's tank example: a pump curve that is not flat everywhere, a weir.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/swmm/tank.inp");
        let system = crate::load(&path).expect("tank.inp loads");
        let (slow, fast, coasted) = both_ways(&system);
        assert!(coasted > 10_000, "{coasted} steps coasted");
        assert_eq!(slow, fast);
        // The same with a stepped pump curve (the run stops at each step's level) and a
        // sloping one (nothing coasts).
        let text = std::fs::read_to_string(&path).expect("tank.inp reads");
        for (curve, coasts) in [
            ("PC1 PUMP2 0 0.05\nPC1 0.4 0.1\nPC1 1.2 0.15\n", true),
            ("PC1 PUMP4 0 0.05\nPC1 20 0.2\n", false),
        ] {
            let text = text.replace(
                "PC1    PUMP4   0    0.15\nPC1            10   0.15\n",
                curve,
            );
            assert!(text.contains(curve));
            // Beside a copy of its rain file.
            let dir =
                std::env::temp_dir().join(format!("rewater-coast-{}-{coasts}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            std::fs::copy(path.with_file_name("rain.dat"), dir.join("rain.dat"))
                .expect("copy tank.inp's rain file");
            std::fs::write(dir.join("tank.inp"), text).expect("write the variant");
            let system = crate::load(&dir.join("tank.inp")).expect("the variant loads");
            let _ = std::fs::remove_dir_all(&dir);
            let (slow, fast, coasted) = both_ways(&system);
            assert_eq!(coasted > 0, coasts, "{curve:?}: {coasted} steps coasted");
            assert_eq!(slow, fast, "{curve:?}");
        }
    }
}
