//! Flow routing through the sewer system, step by step in upstream-to-downstream order.
//! Runoff is computed first for every subcatchment (it does not depend on the sewers),
//! so tank sizing re-runs only this part.

use crate::network::{interpolate, LinkKind, NodeKind, PumpCurve, System};
use crate::reach::Reach;
use crate::rules::{apply_rules, quiet_rules_change_nothing, RuleState};
pub(crate) use crate::tank::storage_step;

pub(crate) use crate::dry::DryRoute;
pub use crate::lateral::{compute_runoff, compute_runoff_on, Runoff};

/// What the routing reports at each step.
pub struct StepView<'a> {
    pub step: usize,
    pub time_s: i64,
    /// Inflow to every node this step, m³/s (for outfalls: what leaves the system).
    pub node_inflow: &'a [f64],
    /// Volume held in every node (storage units), m³.
    pub node_volume: &'a [f64],
    /// Water depth at every node at the end of the step, m (storage units; every node
    /// under dynamic wave).
    pub node_depth: &'a [f64],
    /// Runoff and dry-weather flow entering the system this step, m³/s.
    pub system_inflow: f64,
    /// Of which runoff, m³/s.
    pub runoff_inflow: f64,
}

/// Receives every routed step; may let the routing skip quiet stretches it need not see.
pub trait Observer {
    fn observe(&mut self, v: &StepView);

    /// Whether the steps in `[t0_s, t1_s)` may go unobserved when they are quiet: no runoff
    /// in the system, every tank empty, dry-weather flow on its fixed way to the plant and
    /// nothing overflowing. Their water is still accounted for in the balance.
    fn may_skip(&self, _t0_s: i64, _t1_s: i64) -> bool {
        false
    }

    /// A step of a quiet stretch that `may_skip` allowed, in which only storage units
    /// changed (they drain): the volume of every node at its end. Nothing overflowed.
    fn observe_storage(&mut self, _step: usize, _time_s: i64, _node_volume: &[f64]) {}

    /// A run of such steps in which only draining tanks change ([`DrainRun`]);
    /// `node_volume` holds every node's volume at its end. The same as
    /// [`Observer::observe_storage`] at each step, which is what this does unless an
    /// observer knows a shorter way.
    fn observe_storage_run(&mut self, run: &DrainRun, node_volume: &[f64]) {
        let mut volume = node_volume.to_vec();
        let mut now: Vec<f64> = run.draining.iter().map(|d| d.1).collect();
        for j in 0..run.steps {
            for (v, &(m, _, take)) in now.iter_mut().zip(run.draining) {
                *v = (*v - take).max(0.0);
                volume[m] = *v;
            }
            let step = run.step + j;
            self.observe_storage(step, run.clock.time(step), &volume);
        }
    }
}

/// Steps `step..step + steps` of a draining stretch in which each tank `(node, v0, take)`
/// of `draining` goes from `v0` by `(v − take).max(0)` a step and nothing else changes.
pub struct DrainRun<'a> {
    pub step: usize,
    pub steps: usize,
    pub clock: crate::runoff::Clock,
    pub draining: &'a [(usize, f64, f64)],
}

/// Volume totals of a routing run, m³.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RoutingBalance {
    pub runoff_m3: f64,
    pub dry_weather_m3: f64,
    /// External time-series inflow (`[INFLOWS]`), m³.
    pub external_m3: f64,
    /// Volume that left through each node's outfall or flooded there, by node index.
    #[serde(skip)]
    pub outfall_m3: Vec<f64>,
    #[serde(skip)]
    pub flooding_m3: Vec<f64>,
    pub initial_storage_m3: f64,
    pub final_storage_m3: f64,
    pub in_sewers_m3: f64,
    /// Quiet dry-weather steps not routed one by one (their water is in the totals).
    pub skipped_steps: usize,
    /// Of which steps in which only draining tanks were stepped.
    #[serde(skip)]
    pub drained_steps: usize,
    /// Independent subnetworks routed in parallel, one thread each (0: routed as one
    /// network; [`crate::subnetworks`]).
    pub parallel_parts: usize,
}

impl RoutingBalance {
    /// (inflow − outflow − change in storage) / inflow.
    pub fn continuity_error(&self) -> f64 {
        let inflow =
            self.runoff_m3 + self.dry_weather_m3 + self.external_m3 + self.initial_storage_m3;
        let out: f64 = self.outfall_m3.iter().sum::<f64>()
            + self.flooding_m3.iter().sum::<f64>()
            + self.final_storage_m3
            + self.in_sewers_m3;
        if inflow > 0.0 {
            (inflow - out) / inflow
        } else {
            0.0
        }
    }
}

/// Fixed routing order and link groups, built once per system.
pub(crate) struct Plan {
    pub(crate) order: Vec<usize>,
    /// Outgoing links of each node: pumps, then sewers, then the rest.
    pub(crate) out_links: Vec<Vec<usize>>,
    /// Links into a node earlier in the order: their flow arrives next step.
    pub(crate) back_edge: Vec<bool>,
    /// The nodes in routing order, each with how it is stepped.
    steps: Vec<NodeStep>,
}

/// How the routing steps a node.
#[derive(Clone, Copy)]
enum NodeStep {
    /// A junction whose only way out is one conduit routed by its reach (the common node
    /// of a sewer tree): the conduit, its capacity and the node it feeds, so the step needs
    /// neither the general distribution nor the link-kind matches.
    Single {
        node: usize,
        link: usize,
        cap: f64,
        to: usize,
    },
    /// Any other node.
    General(usize),
}

impl Plan {
    fn new(system: &System) -> Plan {
        let n = system.nodes.len();
        let mut out_links: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, l) in system.links.iter().enumerate() {
            out_links[l.from].push(i);
        }
        let rank = |k: &LinkKind| match k {
            LinkKind::Pump { .. } => 0,
            LinkKind::Conduit { .. } => 1,
            _ => 2,
        };
        for links in &mut out_links {
            links.sort_by_key(|&l| rank(&system.links[l].kind));
        }
        // Depth-first post-order; edges to a node still on the stack close a cycle.
        let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut post = Vec::with_capacity(n);
        let mut back_edge = vec![false; system.links.len()];
        for root in 0..n {
            if state[root] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            state[root] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if let Some(&l) = out_links[node].get(*next) {
                    *next += 1;
                    let to = system.links[l].to;
                    match state[to] {
                        0 => {
                            state[to] = 1;
                            stack.push((to, 0));
                        }
                        1 => back_edge[l] = true,
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    post.push(node);
                    stack.pop();
                }
            }
        }
        post.reverse();
        let kinematic = system.routed_by == crate::network::FlowRouting::KinWave;
        let steps = post
            .iter()
            .map(
                |&node| match (&system.nodes[node].kind, out_links[node].as_slice()) {
                    (NodeKind::Junction, &[l]) if !back_edge[l] => match system.links[l].kind {
                        LinkKind::Conduit {
                            capacity_m3_per_s,
                            ref kinwave,
                            ..
                        } if !(kinematic && kinwave.is_some()) => NodeStep::Single {
                            node,
                            link: l,
                            cap: capacity_m3_per_s,
                            to: system.links[l].to,
                        },
                        _ => NodeStep::General(node),
                    },
                    _ => NodeStep::General(node),
                },
            )
            .collect();
        Plan {
            order: post,
            out_links,
            back_edge,
            steps,
        }
    }
}

/// Route the system's flows through the whole clock, reporting each step to `observer`.
/// Quiet dry-weather stretches the observer need not see are skipped: their inflow is
/// added to the balance at the outfall it reaches, and the reaches are brought back to their exact
/// state by routing the last steps before the next runoff normally.
pub fn route(system: &System, runoff: &Runoff, observer: &mut impl Observer) -> RoutingBalance {
    route_with(system, runoff, observer, true)
}

/// As [`route`]; `skip_quiet = false` routes every step (to check the skipping).
pub fn route_with(
    system: &System,
    runoff: &Runoff,
    observer: &mut impl Observer,
    skip_quiet: bool,
) -> RoutingBalance {
    if let (crate::network::FlowRouting::DynWave, Some(h)) = (system.routed_by, &system.hydraulics)
    {
        return crate::dynwave::route(system, h, runoff, observer);
    }
    route_part(system, runoff, None, observer, skip_quiet)
}

/// As [`route_with`] (not for dynamic wave) for `system` that is a part of a larger one
/// ([`crate::subnetworks`]) whose `runoff` it reads: `whole[i]` is the number of its node
/// `i` there (None: the system is the whole).
pub(crate) fn route_part(
    system: &System,
    runoff: &Runoff,
    whole: Option<&[usize]>,
    observer: &mut impl Observer,
    skip_quiet: bool,
) -> RoutingBalance {
    let plan = Plan::new(system);
    let mut st = State::new(system, runoff, whole);
    let dry = if skip_quiet {
        DryRoute::new(system, &plan, &st.settings, runoff, whole)
    } else {
        None
    };
    let storage_nodes: Vec<usize> = system.storages().map(|(i, _)| i).collect();
    let mut step = 0;
    while step < system.clock.steps {
        let t = system.clock.time(step);
        if let Some(dry) = &dry {
            // A stretch ends where routing must resume to be exact before the next runoff.
            let end = dry
                .next_busy(step, system.clock.steps)
                .saturating_sub(dry.warmup_steps);
            if end >= step + MIN_SKIP_STEPS {
                let skipped = if storage_nodes.iter().all(|&i| st.holds_still(&plan, i)) {
                    st.skip_quiet(dry, step, end, observer)
                } else {
                    st.skip_draining(&plan, dry, &storage_nodes, step, end, observer)
                };
                if let Some(next) = skipped {
                    step = next;
                    continue;
                }
            }
        }
        let (runoff_in, dwf_in) = st.lateral_inflows(step, t);
        st.controls(t);
        st.route_step(&plan);
        observer.observe(&StepView {
            step,
            time_s: t,
            node_inflow: &st.inflow,
            node_volume: &st.volume,
            node_depth: &st.depth,
            system_inflow: runoff_in + dwf_in,
            runoff_inflow: runoff_in,
        });
        step += 1;
    }
    let mut bal = st.bal;
    bal.final_storage_m3 = st.volume.iter().sum();
    bal.in_sewers_m3 = st
        .reaches
        .iter()
        .flatten()
        .map(|r| r.held_m3())
        .sum::<f64>()
        + st.carry.iter().sum::<f64>() * st.dt
        + st.kw
            .iter()
            .zip(&system.links)
            .filter_map(|(k, l)| match (k, &l.kind) {
                (
                    Some(k),
                    LinkKind::Conduit {
                        kinwave: Some(c), ..
                    },
                ) => Some(k.held_m3(c)),
                _ => None,
            })
            .sum::<f64>();
    bal
}

/// Shorter quiet stretches are routed: skipping them saves little.
pub(crate) const MIN_SKIP_STEPS: usize = 24;

/// The state of a routing run, allocated once; each step only overwrites it.
pub(crate) struct State<'a> {
    pub(crate) system: &'a System,
    /// Step length, s.
    pub(crate) dt: f64,
    pub(crate) settings: Vec<f64>,
    pub(crate) link_flow: Vec<f64>,
    /// Flow each node's rule gives each of its outgoing links this step, m³/s.
    pub(crate) assigned: Vec<f64>,
    pub(crate) reaches: Vec<Option<Reach>>,
    /// Kinematic-wave state of each conduit, when the system routes by kinematic wave.
    kw: Vec<Option<crate::kinwave::KwState>>,
    pub(crate) volume: Vec<f64>,
    pub(crate) depth: Vec<f64>,
    pub(crate) inflow: Vec<f64>,
    pub(crate) lateral: Vec<f64>,
    /// Flow over back edges, arriving next step.
    carry: Vec<f64>,
    /// Readers of the runoff of each node in `runoff_nodes` (the nodes that receive any).
    pub(crate) cursors: Vec<crate::series::Cursor<'a>>,
    dwf_hour: i64,
    dwf_now: Vec<f64>,
    /// The node of each dry-weather source.
    dwf_nodes: Vec<usize>,
    runoff_nodes: Vec<usize>,
    /// Readers of the external inflow of each node in `external_nodes`.
    pub(crate) external_cursors: Vec<crate::series::Cursor<'a>>,
    external_nodes: Vec<usize>,
    pub(crate) level_pumps: Vec<usize>,
    rule_actions: Vec<(f64, f64)>,
    /// The links rules act on, and those plus the level-switched pumps: the only
    /// settings that ever change.
    pub(crate) rule_links: Vec<usize>,
    switchable: Vec<usize>,
    last_switch_s: Vec<i64>,
    settings_before: Vec<f64>,
    pub(crate) bal: RoutingBalance,
    /// Each storage unit's full volume (0 for other nodes), m³.
    full_volume: Vec<f64>,
}

impl<'a> State<'a> {
    /// `whole`: as for [`route_part`].
    pub(crate) fn new(
        system: &'a System,
        runoff: &'a Runoff,
        whole: Option<&[usize]>,
    ) -> State<'a> {
        let n = system.nodes.len();
        let g = |i: usize| whole.map_or(i, |w| w[i]);
        let dt = system.clock.step_s as f64;
        let kinematic = system.routed_by == crate::network::FlowRouting::KinWave;
        let kw: Vec<Option<crate::kinwave::KwState>> = system
            .links
            .iter()
            .map(|l| match &l.kind {
                LinkKind::Conduit {
                    kinwave: Some(_), ..
                } if kinematic => Some(crate::kinwave::KwState::default()),
                _ => None,
            })
            .collect();
        let reaches: Vec<Option<Reach>> = system
            .links
            .iter()
            .zip(&kw)
            .map(|(l, k)| match l.kind {
                _ if k.is_some() => None,
                LinkKind::Conduit {
                    lag_s, reservoir_s, ..
                } if lag_s > 0.0 || reservoir_s > 0.0 => Some(Reach::new(lag_s, reservoir_s, dt)),
                _ => None,
            })
            .collect();
        let volume = system.initial_volumes_m3();
        let depth: Vec<f64> = system
            .nodes
            .iter()
            .map(|nd| match &nd.kind {
                NodeKind::Storage(s) => s.init_depth_m,
                _ => 0.0,
            })
            .collect();
        let bal = RoutingBalance {
            outfall_m3: vec![0.0; n],
            flooding_m3: vec![0.0; n],
            initial_storage_m3: volume.iter().sum(),
            ..Default::default()
        };
        let external_nodes: Vec<usize> = (0..n)
            .filter(|&i| runoff.external[g(i)].stored_steps() > 0)
            .collect();
        let runoff_nodes: Vec<usize> = (0..n)
            .filter(|&i| {
                runoff.per_node[g(i)].stored_steps() > 0
                    || runoff.stream.as_ref().is_some_and(|s| s.has_runoff[g(i)])
            })
            .collect();
        let mut st = State {
            system,
            dt,
            settings: system.links.iter().map(|l| l.setting).collect(),
            link_flow: vec![0.0; system.links.len()],
            assigned: vec![0.0; system.links.len()],
            reaches,
            kw,
            volume,
            depth,
            inflow: vec![0.0; n],
            lateral: vec![0.0; n],
            carry: vec![0.0; n],
            cursors: runoff_nodes
                .iter()
                .map(|&i| match &runoff.stream {
                    Some(s) => crate::series::Cursor::streamed(s, g(i)),
                    None => runoff.per_node[g(i)].cursor(),
                })
                .collect(),
            dwf_hour: i64::MIN,
            dwf_now: vec![0.0; system.dry_weather.len()],
            dwf_nodes: system.dry_weather.iter().map(|d| d.node).collect(),
            external_cursors: external_nodes
                .iter()
                .map(|&i| runoff.external[g(i)].cursor())
                .collect(),
            external_nodes,
            runoff_nodes,
            level_pumps: (0..system.links.len())
                .filter(|&l| matches!(system.links[l].kind, LinkKind::Pump { startup_m, .. } if startup_m > 0.0))
                .collect(),
            rule_actions: vec![(f64::NEG_INFINITY, 0.0); system.links.len()],
            rule_links: crate::rules::rule_links(system),
            switchable: Vec::new(),
            last_switch_s: vec![system.clock.start_s; system.links.len()],
            settings_before: system.links.iter().map(|l| l.setting).collect(),
            bal,
            full_volume: system
                .nodes
                .iter()
                .map(|nd| match &nd.kind {
                    NodeKind::Storage(s) => s.full_volume(),
                    _ => 0.0,
                })
                .collect(),
        };
        st.switchable = st
            .rule_links
            .iter()
            .chain(&st.level_pumps)
            .copied()
            .collect();
        st.switchable.sort_unstable();
        st.switchable.dedup();
        st
    }

    /// Skip the quiet stretch `[step, end)` if the observer allows: its dry-weather inflow
    /// reaches its outfall unchanged. Returns the next step to route.
    fn skip_quiet(
        &mut self,
        dry: &DryRoute,
        step: usize,
        end: usize,
        observer: &impl Observer,
    ) -> Option<usize> {
        let clock = self.system.clock;
        if end < step + MIN_SKIP_STEPS || !observer.may_skip(clock.time(step), clock.time(end)) {
            return None;
        }
        if !self.system.rules.is_empty()
            && (dry.path.iter().any(|&(l, s)| self.settings[l] != s)
                || !quiet_rules_change_nothing(
                    self.system,
                    &self.settings,
                    &self.depth,
                    &self.volume,
                    &dry.lateral_always_zero,
                ))
        {
            return None;
        }
        self.credit_quiet(dry, step, end);
        Some(end)
    }

    /// The dry-weather flow of the skipped steps `[step, end)`, at the outfalls it reaches.
    pub(crate) fn credit_quiet(&mut self, dry: &DryRoute, step: usize, end: usize) {
        let clock = self.system.clock;
        let mut k = step;
        while k < end {
            let tk = clock.time(k);
            let hour_end = (tk.div_euclid(3600) + 1) * 3600;
            let n_hour = ((hour_end - tk + clock.step_s - 1) / clock.step_s)
                .clamp(1, (end - k) as i64) as usize;
            let c = crate::time::civil_of(tk);
            for (j, d) in self.system.dry_weather.iter().enumerate() {
                let v = d.at_civil(&c) * self.dt * n_hour as f64;
                self.bal.dry_weather_m3 += v;
                self.bal.outfall_m3[dry.outfall[j]] += v;
            }
            k += n_hour;
        }
        for c in self
            .cursors
            .iter_mut()
            .chain(self.external_cursors.iter_mut())
        {
            c.get(end);
        }
        self.bal.skipped_steps += end - step;
    }

    /// Whether storage node `i` neither fills nor drains while nothing flows in: empty, or
    /// below every outlet it has open (pumps off and not due to start by depth, nothing
    /// over a weir or through an orifice, outlet or conduit), and not full.
    pub(crate) fn holds_still(&self, plan: &Plan, i: usize) -> bool {
        if self.volume[i] == 0.0 {
            return true;
        }
        if !matches!(self.system.nodes[i].kind, NodeKind::Storage(_)) {
            return false;
        }
        let d = self.depth[i];
        self.volume[i] < self.full_volume[i]
            && plan.out_links[i].iter().all(|&l| {
                let kind = &self.system.links[l].kind;
                match kind {
                    LinkKind::Pump { startup_m, .. } => {
                        self.settings[l] == 0.0 && (*startup_m <= 0.0 || d < *startup_m)
                    }
                    LinkKind::Spill => true,
                    k if k.is_depth_driven() => k.flow_at_depth(d) * self.settings[l] == 0.0,
                    _ => true,
                }
            })
    }

    /// Runoff and dry-weather flow into each node this step; returns both totals, m³/s.
    pub(crate) fn lateral_inflows(&mut self, step: usize, t: i64) -> (f64, f64) {
        self.lateral.iter_mut().for_each(|v| *v = 0.0);
        let mut runoff_in = 0.0;
        for (&i, c) in self.runoff_nodes.iter().zip(self.cursors.iter_mut()) {
            let q = c.get(step);
            self.lateral[i] += q;
            runoff_in += q;
        }
        let mut external_in = 0.0;
        for (&i, c) in self
            .external_nodes
            .iter()
            .zip(self.external_cursors.iter_mut())
        {
            let q = c.get(step);
            self.lateral[i] += q;
            external_in += q;
        }
        self.bal.external_m3 += external_in * self.dt;
        if t.div_euclid(3600) != self.dwf_hour {
            self.dwf_hour = t.div_euclid(3600);
            let c = crate::time::civil_of(t);
            for (k, d) in self.system.dry_weather.iter().enumerate() {
                self.dwf_now[k] = d.at_civil(&c);
            }
        }
        let mut dwf_in = 0.0;
        for (&node, &q) in self.dwf_nodes.iter().zip(&self.dwf_now) {
            self.lateral[node] += q;
            dwf_in += q;
        }
        self.bal.runoff_m3 += runoff_in * self.dt;
        self.bal.dry_weather_m3 += dwf_in * self.dt;
        // External inflow counts with dry-weather flow as inflow that is not runoff.
        let dwf_in = dwf_in + external_in;
        (runoff_in, dwf_in)
    }

    /// Control rules and level-switched pumps, on the state at the end of the last step.
    pub(crate) fn controls(&mut self, t: i64) {
        let system = self.system;
        if !system.rules.is_empty() {
            apply_rules(
                system,
                &mut self.settings,
                &mut self.rule_actions,
                &self.rule_links,
                RuleState {
                    depth: &self.depth,
                    volume: &self.volume,
                    lateral: &self.lateral,
                    link_flow: &self.link_flow,
                    hours: (t - system.clock.start_s) as f64 / 3600.0,
                    clock_hour: t.rem_euclid(86_400) as f64 / 3600.0,
                    time_s: t,
                    last_switch_s: &self.last_switch_s,
                    half_step_h: self.dt / 7200.0,
                },
            );
        }
        for &l in &self.level_pumps {
            let link = &system.links[l];
            if let LinkKind::Pump {
                startup_m,
                shutoff_m,
                ..
            } = link.kind
            {
                if startup_m > 0.0 && self.depth[link.from] >= startup_m {
                    self.settings[l] = 1.0;
                } else if startup_m > 0.0 && self.depth[link.from] <= shutoff_m {
                    self.settings[l] = 0.0;
                }
            }
        }
        // When a link switches between closed and open (for TIMEOPEN / TIMECLOSED); no
        // other setting changes.
        for &l in &self.switchable {
            let (now, before) = (self.settings[l], self.settings_before[l]);
            if now != before {
                if now * before == 0.0 {
                    self.last_switch_s[l] = t;
                }
                self.settings_before[l] = now;
            }
        }
    }

    /// Route one step through the nodes in order.
    fn route_step(&mut self, plan: &Plan) {
        let system = self.system;
        let dt = self.dt;
        for ((inflow, lateral), carry) in self
            .inflow
            .iter_mut()
            .zip(&self.lateral)
            .zip(self.carry.iter_mut())
        {
            *inflow = *lateral + *carry;
            *carry = 0.0;
        }
        for &node_step in &plan.steps {
            let node = match node_step {
                NodeStep::Single {
                    node,
                    link: l,
                    cap,
                    to,
                } => {
                    // What `distribute` and `pass_links` do for one conduit, the same
                    // arithmetic. (Adding a flooding of +0 changes no total: skipped. The
                    // flow assigned to the link is read only within a general node's step,
                    // so it is not kept.)
                    let q = self.inflow[node];
                    let take = q.min(cap * self.settings[l].max(0.0));
                    if q > take {
                        self.bal.flooding_m3[node] += (q - take) * dt;
                    }
                    let mut q_link = take;
                    if q_link > cap {
                        self.bal.flooding_m3[node] += (q_link - cap) * dt;
                        q_link = cap;
                    }
                    let out = match &mut self.reaches[l] {
                        Some(r) => r.step(q_link),
                        None => q_link,
                    };
                    self.link_flow[l] = out;
                    self.inflow[to] += out;
                    continue;
                }
                NodeStep::General(node) => node,
            };
            let q = self.inflow[node];
            let outs = &plan.out_links[node];
            for &l in outs {
                self.assigned[l] = 0.0;
            }
            match &system.nodes[node].kind {
                NodeKind::Outfall { .. } => {
                    self.bal.outfall_m3[node] += q * dt;
                }
                NodeKind::Junction => {
                    let flood = distribute(system, outs, q, &self.settings, &mut self.assigned);
                    self.bal.flooding_m3[node] += flood * dt;
                }
                NodeKind::Divider { diverted, rule } => {
                    self.divide(node, outs, *diverted, rule, q);
                }
                NodeKind::Storage(st) => {
                    let (v1, spill, flood) = storage_step(
                        system,
                        st,
                        self.full_volume[node],
                        outs,
                        self.volume[node],
                        self.depth[node],
                        q,
                        dt,
                        &self.settings,
                        &self.link_flow,
                        &mut self.assigned,
                    );
                    self.volume[node] = v1;
                    self.depth[node] = st.depth_at(v1);
                    if let Some(l) = st.spill.filter(|l| outs.contains(l)) {
                        self.assigned[l] += spill;
                    } else {
                        self.bal.flooding_m3[node] += spill * dt;
                    }
                    self.bal.flooding_m3[node] += flood * dt;
                }
            }
            self.pass_links(plan, node, outs);
        }
    }

    /// A divider's diverted flow by its rule; the rest goes down its main link.
    fn divide(
        &mut self,
        node: usize,
        outs: &[usize],
        diverted: usize,
        rule: &crate::network::DividerRule,
        q: f64,
    ) {
        let system = self.system;
        let dt = self.dt;
        let main = outs.iter().copied().find(|&l| l != diverted);
        let main_cap = main.map(|l| capacity(system, l)).unwrap_or(f64::INFINITY);
        let d = match rule {
            crate::network::DividerRule::Cutoff(c) => q - c,
            crate::network::DividerRule::Overflow => q - main_cap,
            crate::network::DividerRule::Tabular(t) => interpolate(t, q),
            crate::network::DividerRule::Weir {
                qmin,
                height_m,
                coeff,
            } => {
                let qmax = coeff * height_m.powf(1.5);
                if q <= *qmin {
                    0.0
                } else if qmax <= *qmin || q >= qmax {
                    q - qmin
                } else {
                    let f = (q - qmin) / (qmax - qmin);
                    coeff * (f * height_m).powf(1.5)
                }
            }
        }
        .clamp(0.0, q);
        if outs.contains(&diverted) {
            self.assigned[diverted] = d;
        } else {
            self.bal.flooding_m3[node] += d * dt;
        }
        let rest = q - d;
        match main {
            Some(m) => {
                let take = rest.min(main_cap);
                self.assigned[m] = take;
                self.bal.flooding_m3[node] += (rest - take) * dt;
            }
            None => self.bal.flooding_m3[node] += rest * dt,
        }
    }

    /// Send each outgoing link's assigned flow through its reach to the next node.
    fn pass_links(&mut self, plan: &Plan, node: usize, outs: &[usize]) {
        let system = self.system;
        for &l in outs {
            let link = &system.links[l];
            let mut q_link = self.assigned[l];
            if let LinkKind::Conduit {
                capacity_m3_per_s, ..
            } = link.kind
            {
                if q_link > capacity_m3_per_s
                    && !matches!(system.nodes[node].kind, NodeKind::Storage(_))
                {
                    // Junction and divider capacity is handled above; keep it safe.
                    self.bal.flooding_m3[node] += (q_link - capacity_m3_per_s) * self.dt;
                    q_link = capacity_m3_per_s;
                }
            }
            let out = match (&mut self.kw[l], &link.kind, &mut self.reaches[l]) {
                (
                    Some(state),
                    LinkKind::Conduit {
                        kinwave: Some(c), ..
                    },
                    _,
                ) => state.step(c, q_link, self.dt),
                (_, _, Some(r)) => r.step(q_link),
                _ => q_link,
            };
            self.link_flow[l] = out;
            if plan.back_edge[l] {
                self.carry[link.to] += out;
            } else {
                self.inflow[link.to] += out;
            }
        }
    }
}

fn capacity(system: &System, link: usize) -> f64 {
    match system.links[link].kind {
        LinkKind::Conduit {
            capacity_m3_per_s, ..
        } => capacity_m3_per_s,
        _ => f64::INFINITY,
    }
}

/// A junction passes flow to pumps (up to their rate), then sewers (up to capacity),
/// then weirs and other links share the rest. Returns what could not leave (flooding).
fn distribute(
    system: &System,
    outs: &[usize],
    q: f64,
    settings: &[f64],
    assigned: &mut [f64],
) -> f64 {
    let mut rest = q;
    let mut others = 0usize;
    for &l in outs {
        let s = settings[l];
        match &system.links[l].kind {
            LinkKind::Pump { curve, .. } => {
                let rate = match curve {
                    PumpCurve::Ideal => rest,
                    PumpCurve::Constant(r) | PumpCurve::Spare { rate: r, .. } => *r,
                    PumpCurve::VolumeSteps(t) | PumpCurve::DepthSteps(t) | PumpCurve::Depth(t) => {
                        t.iter().map(|p| p.1).fold(0.0, f64::max)
                    }
                };
                let take = (rate * s).min(rest).max(0.0);
                assigned[l] = take;
                rest -= take;
            }
            LinkKind::Conduit {
                capacity_m3_per_s, ..
            } => {
                let take = rest.min(*capacity_m3_per_s * s.max(0.0));
                assigned[l] = take;
                rest -= take;
            }
            _ if s > 0.0 => others += 1,
            _ => {}
        }
    }
    if others > 0 && rest > 0.0 {
        let share = rest / others as f64;
        for &l in outs {
            let kind = &system.links[l].kind;
            if settings[l] > 0.0
                && !matches!(kind, LinkKind::Pump { .. } | LinkKind::Conduit { .. })
            {
                assigned[l] = share;
            }
        }
        rest = 0.0;
    }
    rest.max(0.0)
}
