//! The daily simulation: plants → allocation with quality eligibility → storage and quality.
//!
//! Each day:
//! 1. plants treat their influent up to capacity; the rest is bypassed (counted, penalised);
//!    ponds lose evaporation and seepage. Each plant also has a bypass arc at its own bypass
//!    cost (`bypass_penalty_per_m3`): influent it takes is bypassed instead of treated, a
//!    decision of the allocation like any other (as pywr models a bypass link);
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
    make_solver, quantise_m3, AllocationSolver, ArcSpec, CostScale, DailyProblem, SolverError,
};
use crate::summary::{Summary, SummaryBuilder};
use rewater_model::{NodeKind, QualityRequirement, Region};
use rewater_standards::Date;

mod repeat;
mod reuse;
pub use reuse::evaluate_many;

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
    /// `reset_for` was given a region of another network.
    #[error("the region is not of the network this simulation was built for: {0}")]
    OtherNetwork(String),
}

/// What an arc of the allocation network stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArcRole {
    Link(usize),
    Wetland(usize),
    /// A plant's bypass: influent not treated, at the plant's bypass cost.
    Bypass(usize),
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
    /// Always 0 since bypass became a decision at the plant's cost (kept for file formats).
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
    /// Arcs from a node to the super sink (demand pieces, discharge, carryover, bypass).
    sink_arcs: Vec<Vec<usize>>,
    incoming: Vec<Vec<usize>>,
    /// For each node, its incoming links as (arc, source node, gain): what mixing reads.
    inflow_arcs: Vec<Vec<(usize, usize, f64)>>,
    solver: Box<dyn AllocationSolver + Send>,
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
    pond_start: Vec<f64>,
    /// Concentration of the water in each pond at the start of the day.
    pond_conc_start: Vec<Vec<f64>>,
    /// Flow on each arc in the last solution, m³ (copied once per solve).
    flow: Vec<f64>,
    /// The flows before the last solve (its buffer swapped out): after a day of one solve,
    /// yesterday's, which repeat.rs compares today's with instead of keeping a copy.
    flow_before: Vec<f64>,
    /// Arcs whose bounds change from day to day: pond carry-over and demand pieces.
    pond_nodes: Vec<usize>,
    user_nodes: Vec<usize>,
    /// Nodes whose quality is mixed from their inflows, upstream first (plants excluded):
    /// `[0]` those that feed other nodes, `[1]` those with no outgoing link, whose quality
    /// feeds no other node and so is computed once the day's flows are final, not in every
    /// round of the quality fixed point. Lists, so that a pass reads only these nodes.
    quality_order: [Vec<usize>; 2],
    /// Inlet concentrations of the node being mixed (reused).
    c_in: Vec<f64>,
    /// Distinct quality requirements of users, and for each link in `user_links` its source
    /// node, the index of its user's requirement and their slot in `met_memo`.
    requirements: Vec<QualityRequirement>,
    user_link_req: Vec<(usize, usize, usize)>,
    /// Each user's requirement in `requirements` (None for other nodes and users without one).
    node_req: Vec<Option<usize>>,
    /// The capacity of each link in `user_links` when open, m³/d (quantised once).
    user_link_cap: Vec<f64>,
    /// Whether a node's water meets a requirement (0 unknown, 1 yes, 2 no), node × requirement;
    /// cleared whenever qualities change.
    met_memo: Vec<u8>,
    /// Costs are held by the solver in units of 1/cost_scale per m³.
    cost_scale: f64,
    /// Findings of the set-up (costs the solver's resolution rounds), added to the summary.
    pub warnings: Vec<String>,
    pub stats: RunStats,
    /// Whether days that repeat a fixed-point day are copied instead of simulated (repeat.rs).
    repeat_days: bool,
    /// Each user's demand on the last simulated day, m³ (kept for a day whose inputs equal
    /// the day before's, see `simulate_day`).
    demand_m3: Vec<f64>,
    /// The state the day being watched for a fixed point started from.
    day_state: repeat::DayState,
}

/// Solver statistics of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunStats {
    pub solves: u64,
    pub pivots: u64,
    pub solve_seconds: f64,
    pub days_quality_not_converged: u64,
    pub max_quality_iterations: u32,
    /// Days copied from the day before instead of simulated: same inputs, same start state.
    #[serde(default)]
    pub repeated_days: u64,
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
        let inflow_arcs = (incoming.iter())
            .map(|links: &Vec<usize>| {
                let arc = |&l: &usize| (link_arc[l], region.links[l].from, arcs[link_arc[l]].gain);
                links.iter().map(arc).collect()
            })
            .collect();
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
                NodeKind::Plant(_) => to_sink(ArcRole::Bypass(i), &mut arcs, &mut roles),
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
        let topo = topological_order(n, &region.links);
        let mut leaf = vec![true; n];
        for l in &region.links {
            leaf[l.from] = false;
        }
        let mut quality_order = [Vec::new(), Vec::new()];
        for &i in &topo {
            if !matches!(region.nodes[i].kind, NodeKind::Plant(_)) {
                quality_order[usize::from(leaf[i])].push(i);
            }
        }
        let kind_nodes = |f: fn(&NodeKind) -> bool| -> Vec<usize> {
            (0..n).filter(|&i| f(&region.nodes[i].kind)).collect()
        };
        let user_links: Vec<usize> = region
            .links
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(&region.nodes[l.to].kind, NodeKind::User(u) if u.requirement.is_some()))
            .map(|(i, _)| i)
            .collect();
        let m = arcs.len();
        let cost = reuse::arc_costs(region, &roles, &sink_arcs);
        let cost_scale = CostScale::choose(&cost, graph_nodes);
        let solver = make_solver(region.solver, graph_nodes, &arcs, sink, cost_scale.scale)
            .map_err(EngineError::Setup)?;
        let f = region.factors.len();
        let mut sim = Simulation {
            cost_scale: cost_scale.scale,
            warnings: Vec::new(),
            flow: vec![0.0; m],
            flow_before: vec![0.0; m],
            pond_nodes: kind_nodes(|k| matches!(k, NodeKind::Pond(_))),
            user_nodes: kind_nodes(|k| matches!(k, NodeKind::User(_))),
            quality_order,
            c_in: Vec::new(),
            met_memo: Vec::new(),
            requirements: Vec::new(),
            user_link_req: Vec::new(),
            node_req: Vec::new(),
            user_link_cap: Vec::new(),
            user_links,
            region,
            graph_in,
            sink,
            roles,
            link_arc,
            wetland_arc,
            sink_arcs,
            incoming,
            inflow_arcs,
            solver,
            problem: DailyProblem {
                supply: vec![0.0; graph_nodes],
                lower: vec![0.0; m],
                upper: vec![f64::INFINITY; m],
                cost,
                costs_version: 0,
            },
            storage: vec![0.0; n],
            conc_in: vec![vec![f64::NAN; f]; n],
            conc: vec![vec![f64::NAN; f]; n],
            last_wetland_inflow: vec![0.0; n],
            nodes_day: vec![NodeDay::default(); n],
            links_day: vec![LinkDay::default(); region.links.len()],
            open: vec![true; region.links.len()],
            pond_start: vec![0.0; n],
            pond_conc_start: vec![vec![f64::NAN; f]; n],
            stats: RunStats::default(),
            repeat_days: true,
            demand_m3: vec![0.0; n],
            day_state: repeat::DayState::default(),
            arcs,
        };
        sim.warnings = sim.rounding_warnings(&cost_scale);
        sim.load_state();
        Ok(sim)
    }

    /// Name of the solver backend in use.
    pub fn solver_name(&self) -> &'static str {
        self.solver.name()
    }

    /// The solver's cost resolution: costs are held in units of 1/scale per m³.
    pub fn cost_scale(&self) -> f64 {
        self.cost_scale
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

    /// Whether a day that repeats a fixed-point day (same inputs, same start state) is copied
    /// instead of simulated (on by default; the results are the same either way, only the
    /// solver statistics differ).
    pub fn set_repeat_days(&mut self, on: bool) {
        self.repeat_days = on;
    }

    /// Runs the whole horizon. `progress` is called after each day with (day, days).
    pub fn run(
        &mut self,
        mut sink: Option<&mut dyn DailySink>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Summary, EngineError> {
        let mut summary = SummaryBuilder::new(self.region, &self.storage);
        summary.add_warnings(&self.warnings);
        let changes = if self.repeat_days {
            repeat::input_changes(self.region)
        } else {
            vec![true; self.region.days]
        };
        // The last simulated day ended in the state it started from, with one solve.
        let mut fixed_point = false;
        for day in 0..self.region.days {
            let date = self.region.start.add_days(day as i32);
            if fixed_point && !changes[day] {
                self.stats.repeated_days += 1;
                summary.add_repeated_day(self.region, &self.nodes_day, &self.links_day);
            } else {
                let watch = changes.get(day + 1) == Some(&false);
                if watch {
                    let mut state = std::mem::take(&mut self.day_state);
                    state.take(self);
                    self.day_state = state;
                }
                let solves = self.stats.solves;
                self.simulate_day(day, date, day > 0 && !changes[day])?;
                fixed_point = watch && self.stats.solves == solves + 1 && self.day_state.same(self);
                summary.add_day(self.region, &self.nodes_day, &self.links_day);
            }
            if let Some(s) = sink.as_deref_mut() {
                s.day(self, date, &self.nodes_day, &self.links_day)?;
            }
            progress(day + 1, self.region.days);
        }
        Ok(summary.finish(self.region, &self.storage, self.stats, self.solver.name()))
    }

    /// Simulates one day, in the steps of the module doc.
    pub fn step(&mut self, day: usize, date: Date) -> Result<(), EngineError> {
        self.simulate_day(day, date, false)
    }

    /// [`Simulation::step`]; `same_inputs`: the day's inputs equal those of the day simulated
    /// last (repeat.rs), so the users' demands and their arcs' bounds are kept from it.
    fn simulate_day(
        &mut self,
        day: usize,
        date: Date,
        same_inputs: bool,
    ) -> Result<(), EngineError> {
        let month = date.month();
        for nd in self.nodes_day.iter_mut() {
            *nd = NodeDay::default();
        }
        self.supplies(day, month);
        self.bounds(day, month, same_inputs);
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

    /// Step 2: today's arc bounds that change from day to day (pond volumes, demand pieces);
    /// link and wetland capacities were set once, and links into users are judged in step 3.
    /// With `same_inputs` the demand pieces keep the bounds the day simulated last set.
    fn bounds(&mut self, day: usize, month: u32, same_inputs: bool) {
        let region = self.region;
        for &i in &self.pond_nodes {
            if let NodeKind::Pond(p) = &region.nodes[i].kind {
                let start = self.pond_start[i];
                let a = self.sink_arcs[i][0];
                self.problem.lower[a] = quantise_m3(p.min_volume_m3).min(start);
                self.problem.upper[a] = quantise_m3(p.capacity_m3).max(start);
            }
        }
        if same_inputs {
            for &i in &self.user_nodes {
                self.nodes_day[i].demand_m3 = self.demand_m3[i];
            }
            return;
        }
        for &i in &self.user_nodes {
            if let NodeKind::User(u) = &region.nodes[i].kind {
                let demand = quantise_m3(u.demand_m3_per_day.at(day, month));
                self.nodes_day[i].demand_m3 = demand;
                self.demand_m3[i] = demand;
                let arcs = &self.sink_arcs[i];
                let pieces = arcs.len() as f64;
                // Split into pieces that add up exactly.
                let mut lo_edge = 0.0;
                for (piece, &a) in arcs.iter().enumerate() {
                    let hi_edge = quantise_m3(demand * (piece + 1) as f64 / pieces);
                    self.problem.upper[a] = hi_edge - lo_edge;
                    lo_edge = hi_edge;
                }
            }
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
        let estimate = std::mem::take(&mut self.last_wetland_inflow);
        self.compute_quality_with(&estimate, self.stats.solves > 0, false, day, month);
        self.last_wetland_inflow = estimate;
        self.judge_links();
        let max_solves = region.quality_iterations.max(1);
        let mut solves = 0;
        // Yesterday's buffer holds today's inflows (no allocation per solve).
        let mut inflow = std::mem::take(&mut self.last_wetland_inflow);
        let wetland_inflow = loop {
            self.solve_day(date)?;
            solves += 1;
            self.wetland_inflows(&mut inflow);
            self.compute_quality_with(&inflow, true, false, day, month);
            if !self.close_failing_links() {
                break inflow;
            }
            if solves >= max_solves {
                self.stats.days_quality_not_converged += 1;
                break inflow;
            }
        };
        // The nodes that feed no other node, once, on the day's final flows.
        self.compute_quality_with(&wetland_inflow, true, true, day, month);
        self.stats.max_quality_iterations = self.stats.max_quality_iterations.max(solves);
        self.last_wetland_inflow = wetland_inflow;
        Ok(())
    }

    /// Opens each link into a user whose source water meets the user's standard, closes the
    /// others (start of the day). Links into users without a requirement stay open.
    fn judge_links(&mut self) {
        self.met_memo.iter_mut().for_each(|m| *m = 0);
        for k in 0..self.user_links.len() {
            let li = self.user_links[k];
            self.open[li] = self.source_meets(k);
        }
        self.apply_open();
    }

    /// Whether the water at the source of `user_links[k]` meets its user's requirement, on the
    /// qualities of now (memoised per source node and requirement until they change).
    fn source_meets(&mut self, k: usize) -> bool {
        let (from, req, slot) = self.user_link_req[k];
        match self.met_memo[slot] {
            1 => true,
            2 => false,
            _ => {
                let met = self.requirements[req].met_by(&self.conc[from]);
                self.met_memo[slot] = if met { 1 } else { 2 };
                met
            }
        }
    }

    /// Closes open links into users whose source water now fails; true if any closed.
    fn close_failing_links(&mut self) -> bool {
        self.met_memo.iter_mut().for_each(|m| *m = 0);
        let mut closed = false;
        for k in 0..self.user_links.len() {
            let li = self.user_links[k];
            if self.open[li] && !self.source_meets(k) {
                self.open[li] = false;
                self.problem.upper[self.link_arc[li]] = 0.0;
                closed = true;
            }
        }
        closed
    }

    fn apply_open(&mut self) {
        for (&li, &cap) in self.user_links.iter().zip(&self.user_link_cap) {
            self.problem.upper[self.link_arc[li]] = if self.open[li] { cap } else { 0.0 };
        }
    }

    fn solve_day(&mut self, date: Date) -> Result<(), EngineError> {
        let t = std::time::Instant::now();
        self.solver
            .solve(&self.problem)
            .map_err(|source| EngineError::Solver { date, source })?;
        std::mem::swap(&mut self.flow, &mut self.flow_before);
        self.solver.flows(self.arcs.len(), &mut self.flow);
        self.stats.solve_seconds += t.elapsed().as_secs_f64();
        self.stats.solves += 1;
        self.stats.pivots += self.solver.pivots();
        Ok(())
    }

    /// Each node's inflow through its wetland arc (0 for other nodes), into `out`.
    fn wetland_inflows(&self, out: &mut Vec<f64>) {
        out.clear();
        out.extend(
            self.wetland_arc
                .iter()
                .map(|a| a.map(|a| self.flow[a]).unwrap_or(0.0)),
        );
    }

    /// Concentrations for the current flows (or, before the first solve, yesterday's flows):
    /// of the nodes that feed others (`leaves` false) or of those that feed none (true).
    /// Nodes are visited upstream first.
    fn compute_quality_with(
        &mut self,
        wetland_inflow: &[f64],
        have_flows: bool,
        leaves: bool,
        day: usize,
        month: u32,
    ) {
        let region = self.region;
        let f = region.factors.len();
        if f == 0 || !have_flows {
            // Before the first solve, yesterday's qualities (and today's plant effluent) stand.
            return;
        }
        let pass = usize::from(leaves);
        let mut c_in = std::mem::take(&mut self.c_in);
        for idx in 0..self.quality_order[pass].len() {
            let i = self.quality_order[pass][idx];
            let total_in = self.mix_inflows(i, f, &mut c_in);
            match &region.nodes[i].kind {
                NodeKind::Pond(_) => {
                    // Completely mixed: today's start volume and inflow mix; outflow leaves at the mix.
                    let v0 = self.pond_start[i];
                    for (k, &c) in c_in.iter().enumerate() {
                        let c0 = self.pond_conc_start[i][k];
                        self.conc_in[i][k] = c;
                        self.conc[i][k] = if total_in > 0.0 {
                            mix([(v0, c0), (total_in, c)].into_iter())
                        } else {
                            c0
                        };
                    }
                }
                // With nothing arriving, the last quality stands.
                _ if total_in <= 0.0 => {}
                NodeKind::Wetland(w) => {
                    let q = wetland_inflow[i];
                    let t = w.temperature_c.at(day, month);
                    for (k, &c) in c_in.iter().enumerate() {
                        self.conc_in[i][k] = c;
                        self.conc[i][k] = match &w.pkc[k] {
                            Some(p) => pkc_outlet(c, p, q, w.area_m2, t),
                            None => c,
                        };
                    }
                }
                _ => {
                    self.conc_in[i].copy_from_slice(&c_in);
                    self.conc[i].copy_from_slice(&c_in);
                }
            }
        }
        self.c_in = c_in;
    }

    /// The flow-weighted concentration of what arrives at node `i` today, factor by factor,
    /// into `c_in` (NaN when nothing arrives); returns the arriving flow. One pass over the
    /// arriving links: each factor's sum takes the links in their order, as a sum per factor
    /// over the links would.
    fn mix_inflows(&mut self, i: usize, factors: usize, c_in: &mut Vec<f64>) -> f64 {
        c_in.resize(factors, 0.0);
        c_in.fill(0.0);
        let mut total_in = 0.0;
        for &(a, from, gain) in &self.inflow_arcs[i] {
            let q = self.flow[a] * gain;
            if q > 0.0 {
                total_in += q;
                let source = &self.conc[from][..factors];
                for (m, &c) in c_in.iter_mut().zip(source) {
                    *m += q * c;
                }
            }
        }
        for m in c_in.iter_mut() {
            *m = if total_in > 0.0 {
                *m / total_in
            } else {
                f64::NAN
            };
        }
        total_in
    }

    /// Fills today's node and link results from the solution, checks every balance, and
    /// carries pond storage and quality to tomorrow.
    fn record(&mut self) {
        let region = self.region;
        for (li, l) in region.links.iter().enumerate() {
            let flow = self.flow[self.link_arc[li]];
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
            let to_sink: f64 = self.sink_arcs[i].iter().map(|&a| self.flow[a]).sum();
            let nd = &mut self.nodes_day[i];
            match &node.kind {
                NodeKind::Plant(_) => {
                    // Influent sent down the bypass arc was bypassed, not treated.
                    nd.treated_m3 -= to_sink;
                    nd.bypassed_m3 += to_sink;
                    nd.balance_residual_m3 = nd.treated_m3 - nd.outflow_m3;
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
                NodeKind::User(_) => {
                    nd.delivered_m3 = to_sink;
                    nd.deficit_m3 = (nd.demand_m3 - to_sink).max(0.0);
                    nd.balance_residual_m3 = nd.inflow_m3 - to_sink;
                    nd.refused_for_quality = self.incoming[i].iter().any(|&l| !self.open[l]);
                    nd.compliant = match (self.node_req[i], to_sink > 0.0) {
                        (Some(r), true) => Some(self.requirements[r].met_by(&self.conc[i])),
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
