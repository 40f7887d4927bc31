//! The allocation solver behind one trait: the warm-started network simplex (default) and a
//! pure-Rust LP backend for networks with link losses (gains ≠ 1 make it a generalised flow).

use rewater_netflow::{NetworkSimplex, SolveError, INF};

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
    /// Pivots of the last solve (0 where not meaningful).
    fn pivots(&self) -> u64 {
        0
    }
    /// A short name for reports.
    fn name(&self) -> &'static str;
}

/// Flows are integers in litres and costs in thousandths, so the simplex is exact.
const FLOW_SCALE: f64 = 1000.0;
const COST_SCALE: f64 = 1000.0;

/// Quantises a volume in m³ to the solver's resolution (1 L).
pub fn quantise_m3(v: f64) -> f64 {
    (v * FLOW_SCALE).round() / FLOW_SCALE
}

fn to_units(v: f64) -> i64 {
    if v.is_infinite() {
        if v > 0.0 {
            INF
        } else {
            -INF
        }
    } else {
        (v * FLOW_SCALE).round() as i64
    }
}

/// The warm-started network simplex of `rewater-netflow`.
pub struct NetworkSimplexSolver {
    ns: NetworkSimplex,
}

impl NetworkSimplexSolver {
    /// Builds the graph once; only data change from day to day.
    pub fn new(nodes: usize, arcs: &[ArcSpec]) -> Result<Self, SolverError> {
        let mut ns = NetworkSimplex::new(nodes);
        for a in arcs {
            if (a.gain - 1.0).abs() > 0.0 {
                return Err(SolverError::GainsNeedLp);
            }
            ns.add_arc(a.from, a.to, 0, INF, 0);
        }
        Ok(NetworkSimplexSolver { ns })
    }
}

impl AllocationSolver for NetworkSimplexSolver {
    fn solve(&mut self, p: &DailyProblem) -> Result<(), SolverError> {
        for (v, s) in p.supply.iter().enumerate() {
            self.ns.set_supply(v, to_units(*s));
        }
        for a in 0..self.ns.arc_count() {
            self.ns
                .set_bounds(a, to_units(p.lower[a]), to_units(p.upper[a]));
            self.ns.set_cost(a, (p.cost[a] * COST_SCALE).round() as i64);
        }
        self.ns.solve()?;
        Ok(())
    }

    fn flow(&self, arc: usize) -> f64 {
        self.ns.flow(arc) as f64 / FLOW_SCALE
    }

    fn pivots(&self) -> u64 {
        self.ns.stats().pivots
    }

    fn name(&self) -> &'static str {
        "network_simplex"
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
) -> Result<Box<dyn AllocationSolver>, SolverError> {
    use rewater_model::SolverChoice;
    let has_gains = arcs.iter().any(|a| a.gain != 1.0);
    match (choice, has_gains) {
        (SolverChoice::NetworkSimplex, _) | (SolverChoice::Auto, false) => {
            Ok(Box::new(NetworkSimplexSolver::new(nodes, arcs)?))
        }
        #[cfg(feature = "lp")]
        (SolverChoice::Lp, _) | (SolverChoice::Auto, true) => {
            Ok(Box::new(LpSolver::new(nodes, arcs, sink)))
        }
        #[cfg(not(feature = "lp"))]
        _ => {
            let _ = sink;
            Err(SolverError::NoLp)
        }
    }
}
