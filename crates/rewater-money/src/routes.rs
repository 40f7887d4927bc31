//! Cost per supply route (plant → user): each link's flow over a run, taken from the engine's
//! daily results through its [`DailySink`], and the plants' and pipes' yuan carried along the
//! flows to where the water ends.
//!
//! The allocation rule (docs/money.md, "Cost per supply route"), on the run's totals:
//! - a plant's cost (energy, chemicals, O&M, capital) is carried by the water it treated,
//!   the same yuan on each m³ that leaves it; a pipe's own cost (pumping energy, O&M,
//!   capital) by the water that entered it, split among the sources by that water's make-up;
//! - every node mixes what it receives (a pond also its water at the start of the run, which
//!   carries no cost of this run): each of its outputs — links out, water delivered to a user,
//!   discharged to a river, unrouted, left in storage at the end — has the node's make-up, and
//!   the yuan the node holds are shared among the outputs by volume;
//! - water lost on the way (link leakage, pond evaporation and seepage) keeps no yuan: its cost
//!   stays with the water that arrives, so a route's m³ are the m³ that arrive at its end;
//! - a route is (source, end): all paths from one plant to one user summed. Water discharged,
//!   unrouted or left in storage is shown as such, with its share of the cost, never loaded
//!   onto the users; a pipe that carried no water has its own cost unallocated.
//!
//! On a network with loops the totals are found by repeated sweeps (a fixed point); on the
//! usual tree-like network one sweep in flow order is exact.

use crate::MoneyError;
use rewater_engine::sim::{DailySink, LinkDay, NodeDay, Simulation};
use rewater_model::region::NodeKind;
use rewater_model::Region;
use rewater_standards::Date;
use serde::Serialize;

/// Each link's and node's totals over a run (a [`DailySink`] for the engine).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowTotals {
    pub days: usize,
    /// m³ entering each link (indexed like `Region::links`).
    pub link_flow_m3: Vec<f64>,
    /// m³ arriving at the end of each link.
    pub link_arrived_m3: Vec<f64>,
    pub treated_m3: Vec<f64>,
    pub delivered_m3: Vec<f64>,
    pub discharged_m3: Vec<f64>,
    pub unrouted_m3: Vec<f64>,
    pub pond_loss_m3: Vec<f64>,
    /// Storage at the end of the last day.
    pub storage_end_m3: Vec<f64>,
}

impl FlowTotals {
    pub fn new(region: &Region) -> FlowTotals {
        let (n, l) = (region.nodes.len(), region.links.len());
        FlowTotals {
            days: 0,
            link_flow_m3: vec![0.0; l],
            link_arrived_m3: vec![0.0; l],
            treated_m3: vec![0.0; n],
            delivered_m3: vec![0.0; n],
            discharged_m3: vec![0.0; n],
            unrouted_m3: vec![0.0; n],
            pond_loss_m3: vec![0.0; n],
            storage_end_m3: vec![0.0; n],
        }
    }
}

impl DailySink for FlowTotals {
    fn day(
        &mut self,
        _sim: &Simulation,
        _date: Date,
        nodes: &[NodeDay],
        links: &[LinkDay],
    ) -> std::io::Result<()> {
        self.days += 1;
        for (i, l) in links.iter().enumerate().take(self.link_flow_m3.len()) {
            self.link_flow_m3[i] += l.flow_m3;
            self.link_arrived_m3[i] += l.arrived_m3;
        }
        for (i, d) in nodes.iter().enumerate().take(self.treated_m3.len()) {
            self.treated_m3[i] += d.treated_m3;
            self.delivered_m3[i] += d.delivered_m3;
            self.discharged_m3[i] += d.discharged_m3;
            self.unrouted_m3[i] += d.unrouted_m3;
            self.pond_loss_m3[i] += d.pond_loss_m3;
            self.storage_end_m3[i] = d.storage_m3;
        }
        Ok(())
    }
}

/// Runs the engine on `region`, keeping each link's totals.
pub fn run_with_flows(
    region: &Region,
) -> Result<(rewater_engine::Summary, FlowTotals), MoneyError> {
    let mut flows = FlowTotals::new(region);
    let mut sim = Simulation::new(region).map_err(|e| MoneyError::Engine(e.to_string()))?;
    let summary = sim
        .run(Some(&mut flows), &mut |_, _| {})
        .map_err(|e| MoneyError::Engine(e.to_string()))?;
    Ok((summary, flows))
}

/// Where a route's water ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// Delivered to a user.
    User,
    /// Discharged to a river or outfall.
    Discharged,
    /// Left a plant with no route.
    Unrouted,
    /// Still in a pond at the end of the run.
    Storage,
    /// Held by a node with no output (a plant that treated nothing, water all lost).
    Nowhere,
}

impl End {
    pub fn label(self) -> crate::Text {
        let (zh, en) = match self {
            End::User => ("用户", "user"),
            End::Discharged => ("排入河道", "discharged"),
            End::Unrouted => ("无出路", "unrouted"),
            End::Storage => ("期末蓄存", "in storage at the end"),
            End::Nowhere => ("无出水", "no outflow"),
        };
        crate::Text::new(zh, en)
    }
}

/// Where water (and its cost) comes from: a plant's treated water, or a pond's water at the
/// start of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// The node (a plant or a pond).
    pub node: usize,
    pub initial_storage: bool,
}

/// One source's share at one end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteShare {
    pub source: usize,
    /// The end node.
    pub end_node: usize,
    pub end: End,
    /// m³ arriving at the end from the source.
    pub volume_m3: f64,
    /// The share of the source plant's cost carried to this end (0–1).
    pub plant_share: f64,
    /// Pipes' own yuan carried to this end by the source's water.
    pub pipes_yuan: f64,
}

/// The result of tracing a run's flows.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub sources: Vec<Source>,
    pub routes: Vec<RouteShare>,
    /// Pipes' own yuan of links that carried no water.
    pub unallocated_pipes_yuan: f64,
    /// Sweeps needed (1 on a network without loops, plus one to confirm).
    pub sweeps: usize,
}

/// Most sweeps on a network with loops before giving up.
pub const MAX_SWEEPS: usize = 10_000;

fn order(region: &Region) -> Vec<usize> {
    let n = region.nodes.len();
    let mut indeg = vec![0usize; n];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for l in &region.links {
        indeg[l.to] += 1;
        out[l.from].push(l.to);
    }
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
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

/// Traces the run's totals: `link_own_yuan[l]` is link l's own cost over the run.
pub fn trace(
    region: &Region,
    flows: &FlowTotals,
    link_own_yuan: &[f64],
) -> Result<Trace, MoneyError> {
    let n = region.nodes.len();
    let mut sources = Vec::new();
    let mut own_source = vec![None; n];
    let mut own_vol = vec![0.0; n];
    for (i, node) in region.nodes.iter().enumerate() {
        match &node.kind {
            NodeKind::Plant(_) => {
                own_source[i] = Some(sources.len());
                own_vol[i] = flows.treated_m3[i];
                sources.push(Source {
                    node: i,
                    initial_storage: false,
                });
            }
            NodeKind::Pond(_) => {
                // The water at the start, from the pond's balance over the run.
                let arrived: f64 = region
                    .links
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.to == i)
                    .map(|(li, _)| flows.link_arrived_m3[li])
                    .sum();
                let left: f64 = region
                    .links
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.from == i)
                    .map(|(li, _)| flows.link_flow_m3[li])
                    .sum();
                let initial =
                    flows.storage_end_m3[i] + left + flows.pond_loss_m3[i] + flows.discharged_m3[i]
                        - arrived;
                if initial > 1e-9 {
                    own_source[i] = Some(sources.len());
                    own_vol[i] = initial;
                    sources.push(Source {
                        node: i,
                        initial_storage: true,
                    });
                }
            }
            _ => {}
        }
    }
    let s = sources.len();
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut out_flow = vec![0.0; n];
    for (li, l) in region.links.iter().enumerate() {
        incoming[l.to].push(li);
        out_flow[l.from] += flows.link_flow_m3[li];
    }
    let sink = |i: usize| {
        flows.delivered_m3[i]
            + flows.discharged_m3[i]
            + flows.unrouted_m3[i]
            + match region.nodes[i].kind {
                NodeKind::Pond(_) => flows.storage_end_m3[i],
                _ => 0.0,
            }
    };
    let outputs: Vec<f64> = (0..n).map(|i| out_flow[i] + sink(i)).collect();
    let throughput: Vec<f64> = (0..n)
        .map(|i| {
            own_vol[i]
                + incoming[i]
                    .iter()
                    .map(|&li| flows.link_arrived_m3[li])
                    .sum::<f64>()
        })
        .collect();
    let order = order(region);
    // Per node and source: m³ of the source's water, the share of its plant cost, pipe yuan.
    let mut vol = vec![vec![0.0; s]; n];
    let mut share = vec![vec![0.0; s]; n];
    let mut pipes = vec![vec![0.0; s]; n];
    let mut unallocated;
    let mut sweeps = 0;
    loop {
        sweeps += 1;
        let mut change = 0.0f64;
        unallocated = 0.0;
        for &i in &order {
            let mut v = vec![0.0; s];
            let mut p = vec![0.0; s];
            let mut q = vec![0.0; s];
            if let Some(src) = own_source[i] {
                v[src] += own_vol[i];
                if !sources[src].initial_storage {
                    p[src] += 1.0;
                }
            }
            for &li in &incoming[i] {
                let from = region.links[li].from;
                let (t, o) = (throughput[from], outputs[from]);
                let flow = flows.link_flow_m3[li];
                if flow <= 0.0 || t <= 0.0 {
                    unallocated += link_own_yuan[li];
                    continue;
                }
                let arrived = flows.link_arrived_m3[li];
                let part = if o > 0.0 { flow / o } else { 0.0 };
                for k in 0..s {
                    let a = vol[from][k] / t;
                    v[k] += arrived * a;
                    p[k] += part * share[from][k];
                    q[k] += part * pipes[from][k] + link_own_yuan[li] * a;
                }
            }
            for k in 0..s {
                change = change
                    .max((v[k] - vol[i][k]).abs() / (1.0 + v[k].abs()))
                    .max((p[k] - share[i][k]).abs())
                    .max((q[k] - pipes[i][k]).abs() / (1.0 + q[k].abs()));
            }
            vol[i] = v;
            share[i] = p;
            pipes[i] = q;
        }
        if change < 1e-12 {
            break;
        }
        if sweeps >= MAX_SWEEPS {
            return Err(MoneyError::Engine(format!(
                "the route costs did not settle after {MAX_SWEEPS} sweeps (a loop that keeps its water?)"
            )));
        }
    }
    // Links out of a node that carried water but whose node holds nothing to share were
    // counted above; now the ends.
    let mut routes = Vec::new();
    for i in 0..n {
        let (t, o) = (throughput[i], outputs[i]);
        let parts: Vec<(End, f64)> = if o > 0.0 {
            [
                (End::User, flows.delivered_m3[i]),
                (End::Discharged, flows.discharged_m3[i]),
                (End::Unrouted, flows.unrouted_m3[i]),
                (
                    End::Storage,
                    match region.nodes[i].kind {
                        NodeKind::Pond(_) => flows.storage_end_m3[i],
                        _ => 0.0,
                    },
                ),
            ]
            .into_iter()
            .filter(|(_, x)| *x > 0.0)
            .collect()
        } else if (0..s).any(|k| share[i][k] > 0.0 || pipes[i][k] > 0.0) {
            vec![(End::Nowhere, 0.0)]
        } else {
            vec![]
        };
        for (end, amount) in parts {
            let f = if o > 0.0 { amount / o } else { 1.0 };
            for k in 0..s {
                let volume = if t > 0.0 { amount * vol[i][k] / t } else { 0.0 };
                let (p, q) = (share[i][k] * f, pipes[i][k] * f);
                if volume > 0.0 || p > 0.0 || q > 0.0 {
                    routes.push(RouteShare {
                        source: k,
                        end_node: i,
                        end,
                        volume_m3: volume,
                        plant_share: p,
                        pipes_yuan: q,
                    });
                }
            }
        }
    }
    routes.sort_by_key(|a| (a.source, a.end, a.end_node));
    Ok(Trace {
        sources,
        routes,
        unallocated_pipes_yuan: unallocated,
        sweeps,
    })
}
