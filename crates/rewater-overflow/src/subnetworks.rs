//! Routing of independent subnetworks (互不连通的排水分区) in parallel. A system whose nodes
//! fall into groups that no link, drain-back pump or control rule joins (several outfall
//! trees in one file, as city-wide models have) is routed group by group, each on a thread
//! of its own as a [`System`] of its own, into per-step records that the statistics on the
//! calling thread read back in step order — events are system-wide, so they are counted
//! as in one run.
//!
//! Each group's nodes are stepped in the same order with the same arithmetic as in the
//! whole system, so every outfall's, node's and tank's figures are those of routing the
//! whole system, except that a group skips its own quiet dry-weather stretches (the
//! skipping changes results by at most rounding, `tests/skip.rs`). Totals over the whole
//! system (its inflow, the balance) are summed group by group.
//! Not used for dynamic wave, whose engine routes the whole network at once.

use crate::lateral::Runoff;
use crate::network::{FlowRouting, LinkKind, NodeKind, PumpCurve, Subject, System};
use crate::results::Tally;
use crate::route::{Observer, RoutingBalance, StepView};
use std::sync::mpsc;

/// Records per chunk a group's routing hands the statistics.
const CHUNK_RECORDS: usize = 2048;
/// Chunks a group may run ahead of the statistics.
const CHUNKS_AHEAD: usize = 8;

/// The groups of nodes that no link, drain-back pump or control rule joins: each in
/// ascending node order, the groups by their first node.
pub fn independent_groups(system: &System) -> Vec<Vec<usize>> {
    let n = system.nodes.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut join = |a: usize, b: usize| {
        if a < n && b < n {
            let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    };
    let link_node = |l: usize| system.links.get(l).map_or(usize::MAX, |k| k.from);
    for link in &system.links {
        join(link.from, link.to);
        if let LinkKind::Pump {
            curve: PumpCurve::Spare { watch, .. },
            ..
        } = link.kind
        {
            join(link.from, link_node(watch));
        }
    }
    for rule in &system.rules {
        let mut touched = Vec::new();
        for p in &rule.premises {
            touched.push(match p.subject {
                Subject::NodeDepth(i) | Subject::NodeVolume(i) | Subject::NodeLateral(i) => i,
                Subject::LinkFlow(l)
                | Subject::LinkSetting(l)
                | Subject::LinkTimeOpen(l)
                | Subject::LinkTimeClosed(l) => link_node(l),
                Subject::SimulationHours | Subject::ClockHour => continue,
            });
        }
        touched.extend(
            rule.then
                .iter()
                .chain(&rule.otherwise)
                .map(|a| link_node(a.link)),
        );
        for w in touched.windows(2) {
            join(w[0], w[1]);
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of = vec![usize::MAX; n];
    for i in 0..n {
        let r = root(&mut parent, i);
        if group_of[r] == usize::MAX {
            group_of[r] = groups.len();
            groups.push(Vec::new());
        }
        groups[group_of[r]].push(i);
    }
    groups
}

/// The groups shared out over at most `threads` parts of about equal size (nodes and
/// links), each part's nodes ascending; one part when there is nothing to share.
pub fn parts_of(system: &System, threads: usize) -> Vec<Vec<usize>> {
    let groups = independent_groups(system);
    let k = threads.min(groups.len()).max(1);
    let mut links_at = vec![0usize; system.nodes.len()];
    for l in &system.links {
        links_at[l.from] += 1;
    }
    let weight = |g: &Vec<usize>| g.len() + g.iter().map(|&i| links_at[i]).sum::<usize>();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&g| std::cmp::Reverse(weight(&groups[g])));
    let mut parts: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); k];
    for g in order {
        // The lightest part takes the heaviest group left (the first such part on ties).
        let (_, lightest) = parts
            .iter_mut()
            .map(|p| p.0)
            .zip(0..)
            .min()
            .unwrap_or((0, 0));
        parts[lightest].0 += weight(&groups[g]);
        parts[lightest].1.extend_from_slice(&groups[g]);
    }
    let mut parts: Vec<Vec<usize>> = parts.into_iter().map(|p| p.1).collect();
    for p in &mut parts {
        p.sort_unstable();
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// A part of a system as a system of its own, and where its nodes and links are in the
/// whole.
struct Part {
    system: System,
    nodes: Vec<usize>,
}

/// The system of the nodes `nodes` (ascending, closed under what joins nodes): their
/// links, dry-weather flows, inflows and rules, renumbered in the same order.
fn part(system: &System, nodes: &[usize]) -> Part {
    let mut node_at = vec![usize::MAX; system.nodes.len()];
    for (k, &i) in nodes.iter().enumerate() {
        node_at[i] = k;
    }
    let links: Vec<usize> = (0..system.links.len())
        .filter(|&l| node_at[system.links[l].from] != usize::MAX)
        .collect();
    let mut link_at = vec![usize::MAX; system.links.len()];
    for (k, &l) in links.iter().enumerate() {
        link_at[l] = k;
    }
    let new_nodes = nodes
        .iter()
        .map(|&i| {
            let mut node = system.nodes[i].clone();
            match &mut node.kind {
                NodeKind::Divider { diverted, .. } => *diverted = link_at[*diverted],
                NodeKind::Storage(s) => s.spill = s.spill.map(|l| link_at[l]),
                _ => {}
            }
            node
        })
        .collect();
    let new_links = links
        .iter()
        .map(|&l| {
            let mut link = system.links[l].clone();
            link.from = node_at[link.from];
            link.to = node_at[link.to];
            if let LinkKind::Pump {
                curve: PumpCurve::Spare { watch, .. },
                ..
            } = &mut link.kind
            {
                *watch = link_at[*watch];
            }
            link
        })
        .collect();
    let remap_subject = |s: Subject| match s {
        Subject::NodeDepth(i) => Subject::NodeDepth(node_at[i]),
        Subject::NodeVolume(i) => Subject::NodeVolume(node_at[i]),
        Subject::NodeLateral(i) => Subject::NodeLateral(node_at[i]),
        Subject::LinkFlow(l) => Subject::LinkFlow(link_at[l]),
        Subject::LinkSetting(l) => Subject::LinkSetting(link_at[l]),
        Subject::LinkTimeOpen(l) => Subject::LinkTimeOpen(link_at[l]),
        Subject::LinkTimeClosed(l) => Subject::LinkTimeClosed(link_at[l]),
        other => other,
    };
    // A rule belongs to the part of the links it sets (`independent_groups` put
    // everything it reads there too).
    let rules = system
        .rules
        .iter()
        .filter(|r| {
            r.then
                .iter()
                .chain(&r.otherwise)
                .any(|a| link_at[a.link] != usize::MAX)
        })
        .map(|r| {
            let mut r = r.clone();
            for p in &mut r.premises {
                p.subject = remap_subject(p.subject);
            }
            for a in r.then.iter_mut().chain(r.otherwise.iter_mut()) {
                a.link = link_at[a.link];
            }
            r
        })
        .collect();
    let mut dry_weather: Vec<_> = system
        .dry_weather
        .iter()
        .filter(|d| node_at[d.node] != usize::MAX)
        .cloned()
        .collect();
    for d in &mut dry_weather {
        d.node = node_at[d.node];
    }
    let mut inflows: Vec<_> = system
        .inflows
        .iter()
        .filter(|f| node_at[f.node] != usize::MAX)
        .cloned()
        .collect();
    for f in &mut inflows {
        f.node = node_at[f.node];
    }
    Part {
        system: System {
            name: system.name.clone(),
            clock: system.clock,
            runoff_step_s: system.runoff_step_s,
            // The routing reads the runoff already on its nodes, never the catchments.
            gages: Vec::new(),
            evaporation: system.evaporation.clone(),
            subcatchments: Vec::new(),
            nodes: new_nodes,
            links: new_links,
            dry_weather,
            inflows,
            rules,
            events: system.events,
            flow_routing: system.flow_routing,
            routed_by: system.routed_by,
            notes: Vec::new(),
            hydraulics: None,
        },
        nodes: nodes.to_vec(),
    }
}

/// Records of one part's routed and drained steps.
#[derive(Default)]
struct Chunk {
    steps: Vec<usize>,
    /// Routed (else only its tanks drained, nothing overflowing).
    routed: Vec<bool>,
    /// A routed step's overflow-outfall inflows, tank volumes, system and runoff inflow;
    /// a drained step's tank volumes.
    values: Vec<f64>,
}

/// What a part's statistics need: the observer its routing runs with.
struct Recorder<'a> {
    outfalls: Vec<usize>,
    tanks: Vec<usize>,
    /// Each event's (start, end of its window), as [`Tally`] skips by them.
    windows: &'a [(i64, i64)],
    chunk: Chunk,
    tx: mpsc::SyncSender<Chunk>,
}

impl Recorder<'_> {
    fn flush(&mut self) {
        let chunk = std::mem::take(&mut self.chunk);
        // A closed channel means the statistics stopped (a panic there): drop the rest.
        let _ = self.tx.send(chunk);
    }

    fn pushed(&mut self) {
        if self.chunk.steps.len() >= CHUNK_RECORDS {
            self.flush();
        }
    }
}

impl Observer for Recorder<'_> {
    fn observe(&mut self, v: &StepView) {
        self.chunk.steps.push(v.step);
        self.chunk.routed.push(true);
        let values = &mut self.chunk.values;
        values.extend(self.outfalls.iter().map(|&o| v.node_inflow[o]));
        values.extend(self.tanks.iter().map(|&t| v.node_volume[t]));
        values.extend([v.system_inflow, v.runoff_inflow]);
        self.pushed();
    }

    /// As the statistics decide: no event's window overlaps `[t0_s, t1_s)`.
    fn may_skip(&self, t0_s: i64, t1_s: i64) -> bool {
        let i = self.windows.partition_point(|w| w.1 <= t0_s);
        self.windows.get(i).is_none_or(|w| w.0 >= t1_s)
    }

    fn observe_storage(&mut self, step: usize, _time_s: i64, node_volume: &[f64]) {
        self.chunk.steps.push(step);
        self.chunk.routed.push(false);
        let values = &mut self.chunk.values;
        values.extend(self.tanks.iter().map(|&t| node_volume[t]));
        self.pushed();
    }
}

/// The statistics' side of one part: its chunks as they arrive.
struct Feed {
    rx: mpsc::Receiver<Chunk>,
    chunk: Chunk,
    at: usize,
    value_at: usize,
    /// The part's overflow outfalls and tanks, numbered as in the whole system.
    outfalls: Vec<usize>,
    tanks: Vec<usize>,
    /// Its outfalls' inflows are 0 in the view already.
    quiet: bool,
}

impl Feed {
    /// The step of the part's next record (usize::MAX when it has no more), waiting
    /// for its routing if it is behind.
    fn next_step(&mut self) -> usize {
        while self.at == self.chunk.steps.len() {
            match self.rx.recv() {
                Ok(c) => (self.chunk, self.at, self.value_at) = (c, 0, 0),
                Err(_) => return usize::MAX,
            }
        }
        self.chunk.steps[self.at]
    }

    /// Put the next record into the view; whether it was routed.
    fn take(&mut self, inflow: &mut [f64], volume: &mut [f64], totals: &mut (f64, f64)) -> bool {
        let routed = self.chunk.routed[self.at];
        if !routed {
            self.silence(inflow);
        }
        let v = &self.chunk.values[self.value_at..];
        let mut k = 0;
        if routed {
            for &o in &self.outfalls {
                inflow[o] = v[k];
                k += 1;
            }
        }
        for &t in &self.tanks {
            volume[t] = v[k];
            k += 1;
        }
        if routed {
            totals.0 += v[k];
            totals.1 += v[k + 1];
            k += 2;
            self.quiet = false;
        }
        self.at += 1;
        self.value_at += k;
        routed
    }

    /// A step the part skipped or only drained: nothing leaves by its overflow outfalls.
    fn silence(&mut self, inflow: &mut [f64]) {
        if !self.quiet {
            for &o in &self.outfalls {
                inflow[o] = 0.0;
            }
            self.quiet = true;
        }
    }
}

/// Route `system` into `tally`: part by part in parallel when it falls into independent
/// parts and `threads` > 1, else as one network ([`crate::route::route_with`]).
pub fn route_into(
    system: &System,
    runoff: &Runoff,
    tally: &mut Tally,
    threads: usize,
) -> RoutingBalance {
    let dynamic = system.routed_by == FlowRouting::DynWave && system.hydraulics.is_some();
    let parts = if dynamic || threads < 2 {
        Vec::new()
    } else {
        parts_of(system, threads)
    };
    if parts.len() < 2 {
        return crate::route::route_with(system, runoff, tally, true);
    }
    route_parts(system, runoff, tally, &parts)
}

/// Route each of `parts` (node lists) on a thread of its own and replay their records
/// into `tally` in step order.
fn route_parts(
    system: &System,
    runoff: &Runoff,
    tally: &mut Tally,
    parts: &[Vec<usize>],
) -> RoutingBalance {
    let windows = tally.windows();
    let mut is_outfall = vec![false; system.nodes.len()];
    for o in system.overflow_outfalls() {
        is_outfall[o] = true;
    }
    let parts: Vec<Part> = parts.iter().map(|nodes| part(system, nodes)).collect();
    std::thread::scope(|scope| {
        let mut feeds = Vec::with_capacity(parts.len());
        let mut handles = Vec::with_capacity(parts.len());
        for p in &parts {
            let (tx, rx) = mpsc::sync_channel::<Chunk>(CHUNKS_AHEAD);
            let local_outfalls: Vec<usize> = (0..p.nodes.len())
                .filter(|&k| is_outfall[p.nodes[k]])
                .collect();
            let local_tanks: Vec<usize> = p.system.storages().map(|(k, _)| k).collect();
            feeds.push(Feed {
                rx,
                chunk: Chunk::default(),
                at: 0,
                value_at: 0,
                outfalls: local_outfalls.iter().map(|&k| p.nodes[k]).collect(),
                tanks: local_tanks.iter().map(|&k| p.nodes[k]).collect(),
                quiet: false,
            });
            let windows = &windows;
            handles.push(scope.spawn(move || {
                let mut recorder = Recorder {
                    outfalls: local_outfalls,
                    tanks: local_tanks,
                    windows,
                    chunk: Chunk::default(),
                    tx,
                };
                // Each part reads its nodes' runoff from the whole system's.
                let whole = Some(p.nodes.as_slice());
                let bal = crate::route::route_part(&p.system, runoff, whole, &mut recorder, true);
                recorder.flush();
                bal
            }));
        }
        let (routed, drained) = replay(system, tally, &mut feeds);
        drop(feeds);
        let balances: Vec<RoutingBalance> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        merged(system, &parts, &balances, routed, drained)
    })
}

/// Read the parts' records in step order into `tally`; the steps any part routed, and
/// those in which parts only drained tanks.
fn replay(system: &System, tally: &mut Tally, feeds: &mut [Feed]) -> (usize, usize) {
    let n = system.nodes.len();
    let mut inflow = vec![0.0; n];
    let mut volume = system.initial_volumes_m3();
    // The statistics read no depths from the fast, steady and kinematic-wave routing.
    let depth = vec![0.0; n];
    let (mut routed_steps, mut drained_steps) = (0, 0);
    loop {
        let step = feeds
            .iter_mut()
            .map(Feed::next_step)
            .min()
            .unwrap_or(usize::MAX);
        if step == usize::MAX {
            break;
        }
        let mut totals = (0.0, 0.0);
        let mut routed = false;
        for f in feeds.iter_mut() {
            if f.next_step() == step {
                routed |= f.take(&mut inflow, &mut volume, &mut totals);
            } else {
                f.silence(&mut inflow);
            }
        }
        let time_s = system.clock.time(step);
        if routed {
            routed_steps += 1;
            tally.observe(&StepView {
                step,
                time_s,
                node_inflow: &inflow,
                node_volume: &volume,
                node_depth: &depth,
                system_inflow: totals.0,
                runoff_inflow: totals.1,
            });
        } else {
            drained_steps += 1;
            tally.observe_storage(step, time_s, &volume);
        }
    }
    (routed_steps, drained_steps)
}

/// The parts' balances as one, by the whole system's node numbers.
fn merged(
    system: &System,
    parts: &[Part],
    balances: &[RoutingBalance],
    routed_steps: usize,
    drained_steps: usize,
) -> RoutingBalance {
    let n = system.nodes.len();
    let mut bal = RoutingBalance {
        outfall_m3: vec![0.0; n],
        flooding_m3: vec![0.0; n],
        ..Default::default()
    };
    for (p, b) in parts.iter().zip(balances) {
        bal.runoff_m3 += b.runoff_m3;
        bal.dry_weather_m3 += b.dry_weather_m3;
        bal.external_m3 += b.external_m3;
        bal.initial_storage_m3 += b.initial_storage_m3;
        bal.final_storage_m3 += b.final_storage_m3;
        bal.in_sewers_m3 += b.in_sewers_m3;
        for (k, &i) in p.nodes.iter().enumerate() {
            bal.outfall_m3[i] = b.outfall_m3[k];
            bal.flooding_m3[i] = b.flooding_m3[k];
        }
    }
    // As one network counts them: steps no part routed, of which some only drained.
    bal.skipped_steps = system.clock.steps - routed_steps;
    bal.drained_steps = drained_steps;
    bal.parallel_parts = parts.len();
    bal
}
