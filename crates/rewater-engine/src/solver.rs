//! The allocation solver behind one trait: the warm-started network simplex (default) and a
//! pure-Rust LP backend for networks with link losses (gains ≠ 1 make it a generalised flow).

use rewater_netflow::{NetworkSimplex, SolveError, INF};

use crate::memo::{BasisMemo, DataKey};

/// One arc of the allocation network: `gain` of what enters at `from` arrives at `to`.
#[derive(Debug, Clone, Copy)]
pub struct ArcSpec {
    pub from: usize,
    pub to: usize,
    pub gain: f64,
}

/// Today's data: supplies (m³), arc bounds (m³/d, `f64::INFINITY` for none) and unit costs.
#[derive(Debug, Clone, Default)]
pub struct DailyProblem {
    pub supply: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub cost: Vec<f64>,
    /// Changed by whoever changes `cost`, so that a solver converts costs only when they change.
    pub costs_version: u64,
}

/// Why the day's allocation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolverError {
    #[error("network simplex: {0}")]
    Network(#[from] SolveError),
    #[error("LP solver: {0}")]
    Lp(String),
    #[error("this network has links with losses, which the network simplex cannot solve; use solver = \"lp\" or \"auto\"")]
    GainsNeedLp,
    #[error("the LP backend is not in this build (feature `lp`)")]
    NoLp,
}

/// A daily allocation solver. Implementations may keep state between days (a warm start).
pub trait AllocationSolver {
    /// Solves today's problem.
    fn solve(&mut self, problem: &DailyProblem) -> Result<(), SolverError>;
    /// Flow entering arc `arc` in the last solution, m³.
    fn flow(&self, arc: usize) -> f64;
    /// Flows of all `arcs` arcs of the last solution into `out` (one call instead of one per arc).
    fn flows(&self, arcs: usize, out: &mut Vec<f64>) {
        out.clear();
        out.extend((0..arcs).map(|a| self.flow(a)));
    }
    /// Pivots of the last solve (0 where not meaningful).
    fn pivots(&self) -> u64 {
        0
    }
    /// A short name for reports.
    fn name(&self) -> &'static str;
    /// Forgets any state kept between solves (the next solve starts cold, as a new solver
    /// would) and holds costs in units of 1/`cost_scale` per m³ from now on.
    fn restart(&mut self, cost_scale: f64) {
        let _ = cost_scale;
    }
}

/// Flows are integers in litres, so the simplex is exact; costs are integers in units of
/// 1 / [`CostScale::scale`] per m³ (chosen from the model's costs).
const FLOW_SCALE: f64 = 1000.0;
/// The coarsest cost resolution used: 0.001 per m³.
pub const MIN_COST_SCALE: f64 = 1e3;
/// The finest: 10⁻⁹ per m³.
pub const MAX_COST_SCALE: f64 = 1e9;

/// The cost resolution of a network, and the arcs whose cost it rounds.
#[derive(Debug, Clone, PartialEq)]
pub struct CostScale {
    /// Costs are held as integers in units of 1/scale per m³ (a power of ten).
    pub scale: f64,
    /// (arc, cost, cost as held) for each arc whose cost the scale rounds.
    pub rounded: Vec<(usize, f64, f64)>,
}

impl CostScale {
    /// The smallest power of ten from [`MIN_COST_SCALE`] at which every cost is held exactly
    /// (to a part in 10⁸ of the cost, or 10⁻⁹ per m³): so every difference between costs the
    /// model states survives. When no such scale fits in the integer headroom of the network
    /// simplex on `nodes` nodes (or none up to [`MAX_COST_SCALE`] exists), the finest scale
    /// that fits, with the arcs it rounds listed for a warning.
    pub fn choose(costs: &[f64], nodes: usize) -> CostScale {
        let max_abs = costs
            .iter()
            .filter(|c| c.is_finite())
            .fold(0.0f64, |m, c| m.max(c.abs()));
        // rewater-netflow needs ((nodes + 1)·max + 1)·(nodes + 2) ≤ i64::MAX / 4.
        let n = nodes as f64;
        let limit = ((i64::MAX / 4) as f64 / (n + 2.0) - 1.0) / (n + 1.0);
        let mut finest = 1.0;
        while finest * 10.0 <= MAX_COST_SCALE && max_abs * finest * 10.0 <= limit {
            finest *= 10.0;
        }
        let held = |c: f64, s: f64| round_f64(c * s) / s;
        let exact = |c: f64, s: f64| (held(c, s) - c).abs() <= (1e-8 * c.abs()).max(1e-9);
        let mut scale = MIN_COST_SCALE.min(finest);
        while scale < finest && !costs.iter().all(|&c| exact(c, scale)) {
            scale *= 10.0;
        }
        let rounded = costs
            .iter()
            .enumerate()
            .filter(|(_, &c)| c.is_finite() && !exact(c, scale))
            .map(|(a, &c)| (a, c, held(c, scale)))
            .collect();
        CostScale { scale, rounded }
    }
}

/// Quantises a volume in m³ to the solver's resolution (1 L).
#[inline]
pub fn quantise_m3(v: f64) -> f64 {
    round_f64(v * FLOW_SCALE) / FLOW_SCALE
}

/// `x.round() as i64` (half away from zero, NaN → 0, saturating) without the libm call that
/// `round` is on the baseline x86-64 target: it runs for every bound of every arc of every solve.
#[inline]
pub(crate) fn round_i64(x: f64) -> i64 {
    // Truncates towards zero (saturating); below 2^53 the remainder is exact, above it x is whole.
    let t = x as i64;
    let frac = x - t as f64;
    if frac >= 0.5 {
        t.saturating_add(1)
    } else if frac <= -0.5 {
        t.saturating_sub(1)
    } else {
        t
    }
}

/// `x.round()` the same way, for |x| < 2^52 (larger values are whole already).
#[inline]
fn round_f64(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        round_i64(x) as f64
    } else {
        x
    }
}

#[inline]
fn to_units(v: f64) -> i64 {
    if v.is_infinite() {
        if v > 0.0 {
            INF
        } else {
            -INF
        }
    } else {
        round_i64(v * FLOW_SCALE)
    }
}

/// The warm-started network simplex of `rewater-netflow`.
pub struct NetworkSimplexSolver {
    ns: NetworkSimplex,
    cost_scale: f64,
    /// `costs_version` of the costs last converted.
    costs_seen: Option<u64>,
    /// Supplies and bounds (m³) last converted: most do not change from one solve to the next,
    /// and comparing is cheaper than converting (NaN to start, so the first solve converts all).
    seen_supply: Vec<f64>,
    seen_lower: Vec<f64>,
    seen_upper: Vec<f64>,
    /// A hash of the supplies and bounds as the network simplex holds them, kept as they change.
    key: DataKey,
    /// The key of the problem the simplex last solved.
    solved_key: Option<DataKey>,
    /// Optimal bases of the problems met before, under the current costs.
    memo: BasisMemo,
}

impl NetworkSimplexSolver {
    /// Builds the graph once; only data change from day to day. Costs are held in units of
    /// 1/`cost_scale` per m³.
    pub fn new(nodes: usize, arcs: &[ArcSpec], cost_scale: f64) -> Result<Self, SolverError> {
        let mut ns = NetworkSimplex::new(nodes);
        for a in arcs {
            if (a.gain - 1.0).abs() > 0.0 {
                return Err(SolverError::GainsNeedLp);
            }
            ns.add_arc(a.from, a.to, 0, INF, 0);
        }
        let key = DataKey::of(&ns);
        Ok(NetworkSimplexSolver {
            ns,
            cost_scale,
            costs_seen: None,
            seen_supply: vec![f64::NAN; nodes],
            seen_lower: vec![f64::NAN; arcs.len()],
            seen_upper: vec![f64::NAN; arcs.len()],
            key,
            solved_key: None,
            memo: BasisMemo::default(),
        })
    }
}

impl AllocationSolver for NetworkSimplexSolver {
    fn solve(&mut self, p: &DailyProblem) -> Result<(), SolverError> {
        for (v, (&s, seen)) in p.supply.iter().zip(&mut self.seen_supply).enumerate() {
            if s != *seen {
                *seen = s;
                let units = to_units(s);
                self.key.supply(v, self.ns.supply(v), units);
                self.ns.set_supply(v, units);
            }
        }
        let arcs = self.ns.arc_count();
        let (lower, upper) = (&p.lower[..arcs], &p.upper[..arcs]);
        let (seen_lo, seen_up) = (&mut self.seen_lower[..arcs], &mut self.seen_upper[..arcs]);
        for a in 0..arcs {
            let (lo, up) = (lower[a], upper[a]);
            if lo != seen_lo[a] || up != seen_up[a] {
                seen_lo[a] = lo;
                seen_up[a] = up;
                let units = (to_units(lo), to_units(up).min(INF));
                self.key.bounds(a, self.ns.bounds(a), units);
                self.ns.set_bounds(a, units.0, units.1);
            }
        }
        if self.costs_seen != Some(p.costs_version) {
            for a in 0..self.ns.arc_count() {
                self.ns.set_cost(a, round_i64(p.cost[a] * self.cost_scale));
            }
            self.costs_seen = Some(p.costs_version);
            // Saved bases belong to the old costs.
            self.forget_bases();
        }
        self.solve_remembering()
    }

    fn flow(&self, arc: usize) -> f64 {
        self.ns.flow(arc) as f64 / FLOW_SCALE
    }

    fn flows(&self, arcs: usize, out: &mut Vec<f64>) {
        debug_assert_eq!(arcs, self.ns.arc_count());
        self.ns.flows_into(out, |f| f as f64 / FLOW_SCALE);
    }

    fn pivots(&self) -> u64 {
        self.ns.stats().pivots
    }

    fn name(&self) -> &'static str {
        "network_simplex"
    }

    fn restart(&mut self, cost_scale: f64) {
        self.ns.reset_basis();
        self.forget_bases();
        self.cost_scale = cost_scale;
        self.costs_seen = None;
    }
}

impl NetworkSimplexSolver {
    /// Keeps at most `bytes` of saved bases (0: none; the default is
    /// [`crate::memo::MEMO_BUDGET_BYTES`]).
    pub fn with_memo_budget(mut self, bytes: usize) -> Self {
        self.memo = BasisMemo::with_budget(bytes);
        self
    }

    fn forget_bases(&mut self) {
        self.memo.clear();
        self.solved_key = None;
    }

    /// Solves from the basis saved for the same data when there is one (a problem met before
    /// ends without pivots), and saves the optimal basis of a problem met for the first time.
    fn solve_remembering(&mut self) -> Result<(), SolverError> {
        let key = self.key;
        if self.solved_key == Some(key) {
            // Nothing changed since the last solve (or it came back to the same data).
            self.ns.solve()?;
            return Ok(());
        }
        let restored = self
            .memo
            .get(key)
            .is_some_and(|basis| self.ns.restore_basis(basis));
        self.solved_key = None;
        self.ns.solve()?;
        self.solved_key = Some(key);
        // A restored basis that needed pivots was another problem's (a hash collision): the
        // new optimum is this problem's.
        let own = restored && self.ns.stats().pivots == 0;
        if own {
            self.memo.hit();
        } else if self.memo.wants() {
            if let Some(basis) = self.ns.save_basis() {
                self.memo.insert(key, basis);
            }
        }
        Ok(())
    }
}

/// Solves each day as a linear programme with microlp (no warm start; for small networks or
/// networks with losses).
#[cfg(feature = "lp")]
pub struct LpSolver {
    nodes: usize,
    /// The super sink: with losses it receives less than the supplies, so its row is free.
    sink: usize,
    arcs: Vec<ArcSpec>,
    flows: Vec<f64>,
}

#[cfg(feature = "lp")]
impl LpSolver {
    pub fn new(nodes: usize, arcs: &[ArcSpec], sink: usize) -> Self {
        LpSolver {
            nodes,
            sink,
            arcs: arcs.to_vec(),
            flows: vec![0.0; arcs.len()],
        }
    }
}

#[cfg(feature = "lp")]
impl AllocationSolver for LpSolver {
    fn solve(&mut self, p: &DailyProblem) -> Result<(), SolverError> {
        use microlp::{ComparisonOp, OptimizationDirection, Problem};
        let mut lp = Problem::new(OptimizationDirection::Minimize);
        let vars: Vec<_> = (0..self.arcs.len())
            .map(|a| lp.add_var(p.cost[a], (p.lower[a], p.upper[a])))
            .collect();
        let mut rows: Vec<Vec<(microlp::Variable, f64)>> = vec![Vec::new(); self.nodes];
        for (a, arc) in self.arcs.iter().enumerate() {
            rows[arc.from].push((vars[a], 1.0));
            rows[arc.to].push((vars[a], -arc.gain));
        }
        for (v, row) in rows.iter().enumerate() {
            if v == self.sink {
                continue;
            }
            lp.add_constraint(row.as_slice(), ComparisonOp::Eq, p.supply[v]);
        }
        let sol = lp.solve().map_err(|e| SolverError::Lp(e.to_string()))?;
        let sol = sol
            .into_solution()
            .map_err(|_| SolverError::Lp("interrupted".into()))?;
        for (a, v) in vars.iter().enumerate() {
            self.flows[a] = sol.var_value(*v);
        }
        Ok(())
    }

    fn flow(&self, arc: usize) -> f64 {
        self.flows[arc]
    }

    fn name(&self) -> &'static str {
        "lp"
    }
}

/// Chooses a backend for the model's solver setting. `sink` is the node that absorbs all
/// water (its balance is implied by the others, and free when links lose water).
pub fn make_solver(
    choice: rewater_model::SolverChoice,
    nodes: usize,
    arcs: &[ArcSpec],
    sink: usize,
    cost_scale: f64,
) -> Result<Box<dyn AllocationSolver + Send>, SolverError> {
    use rewater_model::SolverChoice;
    let has_gains = arcs.iter().any(|a| a.gain != 1.0);
    match (choice, has_gains) {
        (SolverChoice::NetworkSimplex, _) | (SolverChoice::Auto, false) => Ok(Box::new(
            NetworkSimplexSolver::new(nodes, arcs, cost_scale)?,
        )),
        #[cfg(feature = "lp")]
        (SolverChoice::Lp, _) | (SolverChoice::Auto, true) => {
            Ok(Box::new(LpSolver::new(nodes, arcs, sink)))
        }
        #[cfg(not(feature = "lp"))]
        _ => {
            let _ = (sink, cost_scale);
            Err(SolverError::NoLp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: a solver that keeps bases meets recurring days (three data sets in turn, as
    /// months recur in a record, and a cost change in the middle) without pivots, at the same
    /// cost every day as one that keeps none; the memo is dropped with the old costs.
    #[test]
    fn recurring_problems_are_solved_from_their_saved_bases_at_the_same_cost() {
        // Two sources (0, 1), four users (2..6) with two links each; each user delivers to
        // the sink (6) up to its demand at a benefit (negative cost), and the sources spill the
        // rest to it.
        let mut arcs = Vec::new();
        for (s, u) in [
            (0, 2),
            (0, 3),
            (0, 4),
            (1, 3),
            (1, 4),
            (1, 5),
            (0, 5),
            (1, 2),
        ] {
            arcs.push(ArcSpec {
                from: s,
                to: u,
                gain: 1.0,
            });
        }
        for v in 0..6 {
            arcs.push(ArcSpec {
                from: v,
                to: 6,
                gain: 1.0,
            });
        }
        let demand = [70.0, 50.0, 40.0, 30.0];
        let mut upper = vec![f64::INFINITY; arcs.len()];
        upper[10..14].copy_from_slice(&demand);
        let cost = (0..arcs.len())
            .map(|a| match a {
                0..8 => 0.1 * a as f64,
                8 | 9 => 0.0,
                _ => -10.0 + a as f64 * 0.5,
            })
            .collect();
        let mut p = DailyProblem {
            supply: vec![0.0; 7],
            lower: vec![0.0; arcs.len()],
            upper,
            cost,
            costs_version: 0,
        };
        let sets = [[120.0, 80.0, 30.0], [60.0, 140.0, 45.0], [40.0, 50.0, 20.0]];
        let mut with = NetworkSimplexSolver::new(7, &arcs, 1e3).unwrap();
        let mut without = NetworkSimplexSolver::new(7, &arcs, 1e3)
            .unwrap()
            .with_memo_budget(0);
        let cost = |s: &NetworkSimplexSolver, p: &DailyProblem| -> f64 {
            (0..arcs.len()).map(|a| s.flow(a) * p.cost[a]).sum()
        };
        let (mut recurring_pivots, mut pivots_without) = (0, 0);
        for day in 0..30 {
            let [a, b, cap] = sets[day % 3];
            p.supply[..2].copy_from_slice(&[a, b]);
            p.supply[6] = -(a + b);
            for up in &mut p.upper[..8] {
                *up = cap;
            }
            if day == 15 {
                p.cost[3] = 0.05;
                p.costs_version += 1;
            }
            with.solve(&p).unwrap();
            without.solve(&p).unwrap();
            assert!(
                (cost(&with, &p) - cost(&without, &p)).abs() < 1e-9,
                "day {day}"
            );
            if day % 15 >= 3 {
                recurring_pivots += with.pivots();
                pivots_without += without.pivots();
            }
        }
        assert_eq!(recurring_pivots, 0);
        assert!(
            pivots_without > 20,
            "from yesterday's basis: {pivots_without} pivots"
        );
        assert_eq!(
            with.memo.len(),
            3,
            "the bases of the three sets under the new costs"
        );
        assert!(without.memo.is_empty());
    }

    /// The libm-free rounding agrees with `f64::round` (half away from zero), also at the
    /// edges: halves, negatives, NaN, beyond 2^53 and beyond i64.
    #[test]
    fn fast_rounding_is_f64_round() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.499_999_999_999_999_94,
            1e15 + 0.5,
            9.007_199_254_740_993e15,
            1e19,
            -1e19,
            f64::NAN,
            123.456_789,
            -987.654_321,
        ];
        let mut rng = rewater_model::synthetic::SplitMix(7);
        let mut r = || rng.uniform(0.0, 1.0);
        for _ in 0..100_000 {
            xs.push((r() - 0.5) * 1e9);
            xs.push(((r() * 2e6).floor() + 0.5) * if r() < 0.5 { -1.0 } else { 1.0 });
        }
        for x in xs {
            assert_eq!(round_i64(x), x.round() as i64, "{x}");
            if x.abs() < 4e15 {
                assert_eq!(round_f64(x), x.round(), "{x}");
            }
        }
    }
}
