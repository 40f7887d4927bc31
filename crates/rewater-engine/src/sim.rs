//! The daily simulation: plants → allocation with quality eligibility → storage and quality.
//!
//! Each day:
//! 1. plants treat their influent up to capacity; the rest is bypassed (counted, penalised);
//!    ponds lose evaporation and seepage;
//! 2. the allocation network gets today's supplies, demands and capacities;
//! 3. quality/flow coupling (a monotone fixed point, docs/engine.md): links into a user are
//!    open only if the water at the link's source meets the user's standard. Before the first
//!    solve, sources are judged by the qualities today's conditions (effluent, temperature,
//!    pond start water) give on yesterday's flows. After each solve the qualities implied by the day's flows are
//!    recomputed; open links whose water now fails are closed (never reopened within the day)
//!    and the day is solved again, warm-started. The closed set only grows, so this ends; when
//!    it ends no open link carries non-compliant water;
//! 4. storage and pond quality are carried to the next day, results recorded.

use crate::quality::{mix, pkc_outlet};
use crate::solver::{
    make_solver, quantise_m3, AllocationSolver, ArcSpec, DailyProblem, SolverError,
};
use crate::summary::{Summary, SummaryBuilder};
use rewater_model::{NodeKind, Region};
use rewater_standards::Date;

/// Cost per m³ of water that leaves a plant with no route (so it is used only as a last resort).
pub const UNROUTED_COST_PER_M3: f64 = 100_000.0;
/// Pieces of each demand when equitable sharing is on.
pub const EQUITY_PIECES: usize = 8;
/// Benefit step between demand pieces (small against priority gaps).
pub const EQUITY_STEP_PER_M3: f64 = 0.01;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("day {date}: {source}")]
    Solver { date: Date, source: SolverError },
    #[error("{0}")]
    Setup(SolverError),
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

/// What an arc of the allocation network stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArcRole {
    Link(usize),
    Wetland(usize),
    Unrouted(usize),
    Carryover(usize),
    Demand(usize),
    Discharge(usize),
}

/// One node's results for one day.
#[derive(Debug, Clone, Default)]
pub struct NodeDay {
    /// Water arriving through links.
    pub inflow_m3: f64,
    /// Water leaving through links.
    pub outflow_m3: f64,
    /// Pond storage at the end of the day.
    pub storage_m3: f64,
    pub demand_m3: f64,
    pub delivered_m3: f64,
    pub deficit_m3: f64,
    pub influent_m3: f64,
    pub treated_m3: f64,
    pub bypassed_m3: f64,
    pub discharged_m3: f64,
    pub unrouted_m3: f64,
    /// Pond evaporation and seepage.
    pub pond_loss_m3: f64,
    /// For users: whether the water delivered met the standard (None: nothing delivered or
    /// no requirement).
    pub compliant: Option<bool>,
    /// For users: a supplying link was closed today because its water failed the standard.
    pub refused_for_quality: bool,
    /// Balance residual of the node, m³ (should be ~0).
    pub balance_residual_m3: f64,
}

/// One link's results for one day.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkDay {
    pub flow_m3: f64,
    pub arrived_m3: f64,
    pub loss_m3: f64,
    /// False if the link was closed because its water failed the user's standard.
    pub open: bool,
}

/// Receives each simulated day (for daily output files).
pub trait DailySink {
    fn day(
        &mut self,
        sim: &Simulation,
        date: Date,
        nodes: &[NodeDay],
        links: &[LinkDay],
    ) -> std::io::Result<()>;
}

/// The engine for one region.
pub struct Simulation<'r> {
    pub region: &'r Region,
    graph_in: Vec<usize>,
    sink: usize,
    arcs: Vec<ArcSpec>,
    roles: Vec<ArcRole>,
    link_arc: Vec<usize>,
    wetland_arc: Vec<Option<usize>>,
    /// Arcs from a node to the super sink (demand pieces, discharge, carryover, unrouted).
    sink_arcs: Vec<Vec<usize>>,
    incoming: Vec<Vec<usize>>,
    topo: Vec<usize>,
    solver: Box<dyn AllocationSolver>,
    problem: DailyProblem,
    /// Pond storage at the start of the day (after yesterday), m³.
    storage: Vec<f64>,
    /// Outlet concentration of each node (for users and rivers: of the water received).
    conc: Vec<Vec<f64>>,
    /// Inlet concentration (mix of arriving water) of each node.
    conc_in: Vec<Vec<f64>>,
    /// Wetland inflow assumed for iteration 0 (yesterday's).
    last_wetland_inflow: Vec<f64>,
    nodes_day: Vec<NodeDay>,
    links_day: Vec<LinkDay>,
    open: Vec<bool>,
    /// Links into users that have a quality requirement.
    user_links: Vec<usize>,
    /// Reused buffer of (arriving flow, source node).
    scratch: Vec<(f64, usize)>,
    pond_start: Vec<f64>,
    /// Concentration of the water in each pond at the start of the day.
    pond_conc_start: Vec<Vec<f64>>,
    pub stats: RunStats,
}

/// Solver statistics of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunStats {
    pub solves: u64,
    pub pivots: u64,
    pub solve_seconds: f64,
    pub days_quality_not_converged: u64,
    pub max_quality_iterations: u32,
}

impl<'r> Simulation<'r> {
    /// Builds the allocation network of a region.
    pub fn new(region: &'r Region) -> Result<Simulation<'r>, EngineError> {
        let n = region.nodes.len();
        let mut graph_in = vec![0; n];
        let mut graph_out = vec![0; n];
        let mut next = 0;
        for (i, node) in region.nodes.iter().enumerate() {
            graph_in[i] = next;
            next += 1;
            graph_out[i] = if matches!(node.kind, NodeKind::Wetland(_)) {
                next += 1;
                next - 1
            } else {
                graph_in[i]
            };
        }
        let sink = next;
        let graph_nodes = next + 1;
        let mut arcs = Vec::new();
        let mut roles = Vec::new();
        let mut link_arc = Vec::with_capacity(region.links.len());
        let mut incoming = vec![Vec::new(); n];
        for (li, l) in region.links.iter().enumerate() {
            link_arc.push(arcs.len());
            arcs.push(ArcSpec {
                from: graph_out[l.from],
                to: graph_in[l.to],
                gain: 1.0 - l.loss_fraction,
            });
            roles.push(ArcRole::Link(li));
            incoming[l.to].push(li);
        }
        let mut wetland_arc = vec![None; n];
        let mut sink_arcs = vec![Vec::new(); n];
        for (i, node) in region.nodes.iter().enumerate() {
            let mut to_sink = |role: ArcRole, arcs: &mut Vec<ArcSpec>, roles: &mut Vec<ArcRole>| {
                sink_arcs[i].push(arcs.len());
                arcs.push(ArcSpec {
                    from: graph_in[i],
                    to: sink,
                    gain: 1.0,
                });
                roles.push(role);
            };
            match &node.kind {
                NodeKind::Wetland(_) => {
                    wetland_arc[i] = Some(arcs.len());
                    arcs.push(ArcSpec {
                        from: graph_in[i],
                        to: graph_out[i],
                        gain: 1.0,
                    });
                    roles.push(ArcRole::Wetland(i));
                }
                NodeKind::Plant(_) => to_sink(ArcRole::Unrouted(i), &mut arcs, &mut roles),
                NodeKind::Pond(_) => to_sink(ArcRole::Carryover(i), &mut arcs, &mut roles),
                NodeKind::User(_) => {
                    let pieces = if region.equitable_sharing {
                        EQUITY_PIECES
                    } else {
                        1
                    };
                    for _ in 0..pieces {
                        to_sink(ArcRole::Demand(i), &mut arcs, &mut roles);
                    }
                }
                NodeKind::River(_) | NodeKind::Outfall(_) => {
                    to_sink(ArcRole::Discharge(i), &mut arcs, &mut roles)
                }
                NodeKind::Junction => {}
            }
        }
        let solver =
            make_solver(region.solver, graph_nodes, &arcs, sink).map_err(EngineError::Setup)?;
        let topo = topological_order(n, &region.links);
        let f = region.factors.len();
        let mut storage = vec![0.0; n];
        let mut conc = vec![vec![f64::NAN; f]; n];
        for (i, node) in region.nodes.iter().enumerate() {
            match &node.kind {
                NodeKind::Pond(p) => {
                    storage[i] = quantise_m3(p.initial_volume_m3);
                    conc[i] = p.initial_mg_per_l.clone();
                }
                NodeKind::Plant(p) => conc[i] = p.effluent_mg_per_l.clone(),
                _ => {}
            }
        }
        let m = arcs.len();
        let mut problem = DailyProblem {
            supply: vec![0.0; graph_nodes],
            lower: vec![0.0; m],
            upper: vec![f64::INFINITY; m],
            cost: vec![0.0; m],
        };
        // Costs do not change from day to day.
        for (a, role) in roles.iter().enumerate() {
            problem.cost[a] = match *role {
                ArcRole::Link(l) => region.links[l].cost_per_m3,
                ArcRole::Wetland(_) => 0.0,
                ArcRole::Unrouted(_) => UNROUTED_COST_PER_M3,
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
            };
        }
        Ok(Simulation {
            region,
            graph_in,
            sink,
            roles,
            link_arc,
            wetland_arc,
            sink_arcs,
            incoming,
            topo,
            solver,
            problem,
            storage,
            conc_in: conc.clone(),
            conc: conc.clone(),
            last_wetland_inflow: vec![0.0; n],
            nodes_day: vec![NodeDay::default(); n],
            links_day: vec![LinkDay::default(); region.links.len()],
            open: vec![true; region.links.len()],
            scratch: Vec::new(),
            user_links: region
                .links
                .iter()
                .enumerate()
                .filter(|(_, l)| matches!(&region.nodes[l.to].kind, NodeKind::User(u) if u.requirement.is_some()))
                .map(|(i, _)| i)
                .collect(),
            pond_start: vec![0.0; n],
            pond_conc_start: conc.clone(),
            stats: RunStats::default(),
            arcs,
        })
    }

    /// Name of the solver backend in use.
    pub fn solver_name(&self) -> &'static str {
        self.solver.name()
    }

    /// Number of arcs in the allocation network.
    pub fn arc_count(&self) -> usize {
        self.arcs.len()
    }

    /// Outlet concentrations of a node after the last simulated day.
    pub fn concentration(&self, node: usize) -> &[f64] {
        &self.conc[node]
    }

    /// Inlet (mixed) concentrations of a node after the last simulated day.
    pub fn inlet_concentration(&self, node: usize) -> &[f64] {
        &self.conc_in[node]
    }

    /// Role of each arc (for tests and diagnostics).
    pub fn roles(&self) -> &[ArcRole] {
        &self.roles
    }

    /// Runs the whole horizon. `progress` is called after each day with (day, days).
    pub fn run(
        &mut self,
        mut sink: Option<&mut dyn DailySink>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Summary, EngineError> {
        let mut summary = SummaryBuilder::new(self.region, &self.storage);
        for day in 0..self.region.days {
            let date = self.region.start.add_days(day as i32);
            self.step(day, date)?;
            summary.add_day(self.region, &self.nodes_day, &self.links_day);
            if let Some(s) = sink.as_deref_mut() {
                s.day(self, date, &self.nodes_day, &self.links_day)?;
            }
            progress(day + 1, self.region.days);
        }
        Ok(summary.finish(self.region, &self.storage, self.stats, self.solver.name()))
    }

    /// Simulates one day, in the steps of the module doc.
    pub fn step(&mut self, day: usize, date: Date) -> Result<(), EngineError> {
        let month = date.month();
        for nd in self.nodes_day.iter_mut() {
            *nd = NodeDay::default();
        }
        self.supplies(day, month);
        self.bounds(day, month);
        self.quality_fixed_point(day, date)?;
        // 4. Record flows, carry storage and pond quality.
        self.record();
        Ok(())
    }

    /// Step 1: plants treat up to capacity (the rest is bypassed), ponds lose evaporation and
    /// seepage; what is left is today's supply.
    fn supplies(&mut self, day: usize, month: u32) {
        let region = self.region;
        self.problem.supply.iter_mut().for_each(|s| *s = 0.0);
        let mut total_supply = 0.0;
        for (i, node) in region.nodes.iter().enumerate() {
            let g = self.graph_in[i];
            match &node.kind {
                NodeKind::Plant(p) => {
                    let influent = quantise_m3(p.influent_m3_per_day.at(day, month));
                    let treated = influent.min(quantise_m3(p.capacity_m3_per_day));
                    let nd = &mut self.nodes_day[i];
                    nd.influent_m3 = influent;
                    nd.treated_m3 = treated;
                    nd.bypassed_m3 = influent - treated;
                    self.problem.supply[g] = treated;
                    total_supply += treated;
                    self.conc[i].clone_from(&p.effluent_mg_per_l);
                }
                NodeKind::Pond(p) => {
                    let before = self.storage[i];
                    let evap = quantise_m3(p.evaporation_m3_per_day).min(before);
                    let seep = quantise_m3(p.seepage_m3_per_day).min(before - evap);
                    let after = before - evap - seep;
                    // Evaporation concentrates what stays; seepage leaves at the pond's concentration.
                    if after > 0.0 {
                        let factor = (before - seep) / after;
                        self.pond_conc_start[i]
                            .iter_mut()
                            .for_each(|c| *c *= factor);
                    }
                    // Until today's flows are known, the pond is judged by its start quality.
                    self.conc[i].clone_from(&self.pond_conc_start[i]);
                    self.nodes_day[i].pond_loss_m3 = evap + seep;
                    self.pond_start[i] = after;
                    self.problem.supply[g] = after;
                    total_supply += after;
                }
                _ => {}
            }
        }
        self.problem.supply[self.sink] = -total_supply;
    }

    /// Step 2: today's arc bounds (link and wetland capacities, pond volumes, demand pieces).
    fn bounds(&mut self, day: usize, month: u32) {
        let region = self.region;
        for (a, role) in self.roles.iter().enumerate() {
            let (lo, up) = match *role {
                ArcRole::Link(l) => (
                    0.0,
                    region.links[l]
                        .capacity_m3_per_day
                        .map(quantise_m3)
                        .unwrap_or(f64::INFINITY),
                ),
                ArcRole::Wetland(i) => match &region.nodes[i].kind {
                    NodeKind::Wetland(w) => (0.0, quantise_m3(w.max_inflow_m3_per_day)),
                    _ => (0.0, 0.0),
                },
                ArcRole::Unrouted(_) | ArcRole::Discharge(_) => (0.0, f64::INFINITY),
                ArcRole::Carryover(i) => match &region.nodes[i].kind {
                    NodeKind::Pond(p) => {
                        let start = self.pond_start[i];
                        (
                            quantise_m3(p.min_volume_m3).min(start),
                            quantise_m3(p.capacity_m3).max(start),
                        )
                    }
                    _ => (0.0, 0.0),
                },
                ArcRole::Demand(i) => match &region.nodes[i].kind {
                    NodeKind::User(u) => {
                        let demand = quantise_m3(u.demand_m3_per_day.at(day, month));
                        self.nodes_day[i].demand_m3 = demand;
                        let pieces = self.sink_arcs[i].len() as f64;
                        let piece = self.sink_arcs[i].iter().position(|x| *x == a).unwrap_or(0);
                        // Split into pieces that add up exactly.
                        let lo_edge = quantise_m3(demand * piece as f64 / pieces);
                        let hi_edge = quantise_m3(demand * (piece + 1) as f64 / pieces);
                        (0.0, hi_edge - lo_edge)
                    }
                    _ => (0.0, 0.0),
                },
            };
            self.problem.lower[a] = lo;
            self.problem.upper[a] = up;
        }
    }

    /// Step 3: the quality/flow fixed point: judge links by the qualities known before
    /// solving, then close (never reopen) links whose water fails once the day's flows are
    /// known, solving again until none closes or `quality_iterations` is reached.
    fn quality_fixed_point(&mut self, day: usize, date: Date) -> Result<(), EngineError> {
        let region = self.region;
        let month = date.month();
        // The solver still holds yesterday's flows: today's conditions on yesterday's flows are
        // the best estimate of today's qualities before solving.
        let estimate = self.last_wetland_inflow.clone();
        self.compute_quality_with(&estimate, self.stats.solves > 0, day, month);
        self.judge_links();
        let max_solves = region.quality_iterations.max(1);
        let mut solves = 0;
        let wetland_inflow = loop {
            self.solve_day(date)?;
            solves += 1;
            let inflow = self.wetland_inflows();
            self.compute_quality_with(&inflow, true, day, month);
            if !self.close_failing_links() {
                break inflow;
            }
            if solves >= max_solves {
                self.stats.days_quality_not_converged += 1;
                break inflow;
            }
        };
        self.stats.max_quality_iterations = self.stats.max_quality_iterations.max(solves);
        self.last_wetland_inflow = wetland_inflow;
        Ok(())
    }

    /// Opens each link into a user whose source water meets the user's standard, closes the
    /// others (start of the day).
    fn judge_links(&mut self) {
        let region = self.region;
        for (li, l) in region.links.iter().enumerate() {
            self.open[li] = match &region.nodes[l.to].kind {
                NodeKind::User(u) => u
                    .requirement
                    .as_ref()
                    .is_none_or(|r| r.met_by(&self.conc[l.from])),
                _ => true,
            };
        }
        self.apply_open();
    }

    /// Closes open links into users whose source water now fails; true if any closed.
    fn close_failing_links(&mut self) -> bool {
        let region = self.region;
        let mut closed = false;
        for &li in &self.user_links {
            if !self.open[li] {
                continue;
            }
            let l = &region.links[li];
            if let NodeKind::User(u) = &region.nodes[l.to].kind {
                if u.requirement
                    .as_ref()
                    .is_some_and(|r| !r.met_by(&self.conc[l.from]))
                {
                    self.open[li] = false;
                    self.problem.upper[self.link_arc[li]] = 0.0;
                    closed = true;
                }
            }
        }
        closed
    }

    fn apply_open(&mut self) {
        for &li in &self.user_links {
            let l = &self.region.links[li];
            self.problem.upper[self.link_arc[li]] = if self.open[li] {
                l.capacity_m3_per_day
                    .map(quantise_m3)
                    .unwrap_or(f64::INFINITY)
            } else {
                0.0
            };
        }
    }

    fn solve_day(&mut self, date: Date) -> Result<(), EngineError> {
        let t = std::time::Instant::now();
        self.solver
            .solve(&self.problem)
            .map_err(|source| EngineError::Solver { date, source })?;
        self.stats.solve_seconds += t.elapsed().as_secs_f64();
        self.stats.solves += 1;
        self.stats.pivots += self.solver.pivots();
        Ok(())
    }

    fn wetland_inflows(&self) -> Vec<f64> {
        self.wetland_arc
            .iter()
            .map(|a| a.map(|a| self.solver.flow(a)).unwrap_or(0.0))
            .collect()
    }

    /// Concentrations at every node for the current flows (or, before the first solve,
    /// yesterday's flows). Nodes are visited upstream first.
    fn compute_quality_with(
        &mut self,
        wetland_inflow: &[f64],
        have_flows: bool,
        day: usize,
        month: u32,
    ) {
        let region = self.region;
        let f = region.factors.len();
        if f == 0 || !have_flows {
            // Before the first solve, yesterday's qualities (and today's plant effluent) stand.
            return;
        }
        for idx in 0..self.topo.len() {
            let i = self.topo[idx];
            if matches!(region.nodes[i].kind, NodeKind::Plant(_)) {
                continue;
            }
            // Arriving flows and their sources, gathered once per node.
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            let mut total_in = 0.0;
            for &l in &self.incoming[i] {
                let a = self.link_arc[l];
                let q = self.solver.flow(a) * self.arcs[a].gain;
                if q > 0.0 {
                    scratch.push((q, region.links[l].from));
                    total_in += q;
                }
            }
            for k in 0..f {
                let c_in = if total_in > 0.0 {
                    let mut m = 0.0;
                    for &(q, from) in &scratch {
                        m += q * self.conc[from][k];
                    }
                    m / total_in
                } else {
                    f64::NAN
                };
                match &region.nodes[i].kind {
                    NodeKind::Pond(_) => {
                        // Completely mixed: today's start volume and inflow mix; outflow leaves at the mix.
                        let v0 = self.pond_start[i];
                        let c0 = self.pond_conc_start[i][k];
                        let c_mix = if total_in > 0.0 {
                            mix([(v0, c0), (total_in, c_in)].into_iter())
                        } else {
                            c0
                        };
                        self.conc_in[i][k] = c_in;
                        self.conc[i][k] = c_mix;
                    }
                    NodeKind::Wetland(w) => {
                        let q = wetland_inflow[i];
                        let t = w.temperature_c.at(day, month);
                        let out = match &w.pkc[k] {
                            Some(p) => pkc_outlet(c_in, p, q, w.area_m2, t),
                            None => c_in,
                        };
                        if total_in > 0.0 {
                            self.conc_in[i][k] = c_in;
                            self.conc[i][k] = out;
                        }
                    }
                    _ => {
                        if total_in > 0.0 {
                            self.conc_in[i][k] = c_in;
                            self.conc[i][k] = c_in;
                        }
                    }
                }
            }
            self.scratch = scratch;
        }
    }

    /// Fills today's node and link results from the solution, checks every balance, and
    /// carries pond storage and quality to tomorrow.
    fn record(&mut self) {
        let region = self.region;
        for (li, l) in region.links.iter().enumerate() {
            let flow = self.solver.flow(self.link_arc[li]);
            let arrived = flow * self.arcs[self.link_arc[li]].gain;
            self.links_day[li] = LinkDay {
                flow_m3: flow,
                arrived_m3: arrived,
                loss_m3: flow - arrived,
                open: self.open[li],
            };
            self.nodes_day[l.from].outflow_m3 += flow;
            self.nodes_day[l.to].inflow_m3 += arrived;
        }
        for (i, node) in region.nodes.iter().enumerate() {
            let to_sink: f64 = self.sink_arcs[i].iter().map(|&a| self.solver.flow(a)).sum();
            let nd = &mut self.nodes_day[i];
            match &node.kind {
                NodeKind::Plant(_) => {
                    nd.unrouted_m3 = to_sink;
                    nd.balance_residual_m3 = nd.treated_m3 - nd.outflow_m3 - nd.unrouted_m3;
                }
                NodeKind::Pond(p) => {
                    let end = to_sink;
                    nd.storage_m3 = end;
                    nd.balance_residual_m3 =
                        self.pond_start[i] + nd.inflow_m3 - nd.outflow_m3 - end;
                    // Decay over the day of what stays; the outflow left at the mixed quality.
                    for (k, c) in self.conc[i].iter().enumerate() {
                        self.pond_conc_start[i][k] = c * (-p.decay_per_day[k]).exp();
                    }
                    self.storage[i] = end;
                }
                NodeKind::Wetland(_) | NodeKind::Junction => {
                    nd.balance_residual_m3 = nd.inflow_m3 - nd.outflow_m3;
                }
                NodeKind::User(u) => {
                    nd.delivered_m3 = to_sink;
                    nd.deficit_m3 = (nd.demand_m3 - to_sink).max(0.0);
                    nd.balance_residual_m3 = nd.inflow_m3 - to_sink;
                    nd.refused_for_quality = self.incoming[i].iter().any(|&l| !self.open[l]);
                    nd.compliant = match (&u.requirement, to_sink > 0.0) {
                        (Some(r), true) => Some(r.met_by(&self.conc[i])),
                        _ => None,
                    };
                }
                NodeKind::River(_) | NodeKind::Outfall(_) => {
                    nd.discharged_m3 = to_sink;
                    nd.balance_residual_m3 = nd.inflow_m3 - to_sink;
                }
            }
        }
    }
}

/// Upstream-first order of nodes along links; nodes on cycles follow in index order.
fn topological_order(n: usize, links: &[rewater_model::RegionLink]) -> Vec<usize> {
    let mut indeg = vec![0usize; n];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for l in links {
        indeg[l.to] += 1;
        out[l.from].push(l.to);
    }
    let mut order = Vec::with_capacity(n);
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut placed = vec![false; n];
    while let Some(v) = queue.pop_front() {
        placed[v] = true;
        order.push(v);
        for &w in &out[v] {
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    order.extend((0..n).filter(|&i| !placed[i]));
    order
}
