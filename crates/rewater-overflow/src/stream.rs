//! Runoff and routing at once (流水线): the routing starts while the runoff is still being
//! computed. Runoff workers take every subcatchment through the record segment by segment
//! (a week of steps or so; [`crate::runoff::SubRun`] continues exactly where it stopped),
//! and the routing, on the calling thread, reads each node's runoff from the segments as
//! they are completed, waiting only when it gets ahead. Each segment's node inflows are
//! summed in subcatchment order, as [`crate::lateral::compute_runoff`] does over the whole
//! record, so the routing sees the same values to the bit and the report is the same as
//! computing all the runoff first, on any number of workers.
//!
//! Not used (the runoff is computed first) for dynamic wave, for subcatchments that drain
//! onto others, and for control rules on a node's inflow.

use crate::lateral::Runoff;
use crate::network::{FlowRouting, Subject, System};
use crate::runoff::{Clock, EvapWindow, Forcing, RunoffBalance, SubRun};
use crate::series::SparseSeries;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// About this many seconds of record per segment.
const SEGMENT_S: i64 = 7 * 86_400;

/// One segment's runoff on the routing grid (absolute step numbers).
#[derive(Debug)]
pub(crate) struct Segment {
    /// Each node's runoff until its one reader, the routing's cursor, takes it: a
    /// segment's memory is then freed as soon as the routing is past it (kept, a
    /// decade's runoff was hundreds of megabytes, each page a fault to fill).
    per_node: Mutex<Vec<Option<SparseSeries>>>,
    /// Steps with runoff at any node, as ordered, merged ranges.
    busy: Vec<(usize, usize)>,
}

impl Segment {
    /// Node `node`'s runoff in this segment, which no one reads after.
    pub(crate) fn take_node(&self, node: usize) -> SparseSeries {
        let mut nodes = self.per_node.lock().unwrap_or_else(|e| e.into_inner());
        match nodes.get_mut(node) {
            Some(slot) => {
                // A second reader would see nothing: a bug, not a state of the input.
                assert!(slot.is_some(), "node {node}'s runoff is read twice");
                slot.take().unwrap_or_default()
            }
            None => SparseSeries::default(),
        }
    }
}

/// Workers done with a segment, and their fragments (subcatchment, runoff on its grid).
type Pending = (usize, Vec<(usize, SparseSeries)>);

/// The segments of a run, filled by the runoff workers and read by the routing.
#[derive(Debug)]
pub struct Segments {
    /// Routing steps per segment, and in all.
    len: usize,
    steps: usize,
    slots: Vec<OnceLock<Segment>>,
    /// What each worker has handed in for each segment: (workers done, their fragments
    /// on the runoff grid by subcatchment).
    pending: Vec<Mutex<Pending>>,
    /// Set when a worker failed (its segments will never come).
    failed: Mutex<bool>,
    ready: Condvar,
    /// Nodes some subcatchment drains to (the others never receive runoff).
    pub(crate) has_runoff: Vec<bool>,
}

impl Segments {
    pub(crate) fn steps(&self) -> usize {
        self.steps
    }

    pub(crate) fn segment_of(&self, step: usize) -> usize {
        step / self.len
    }

    /// Segment `seg` if it is complete.
    pub(crate) fn ready(&self, seg: usize) -> Option<&Segment> {
        self.slots.get(seg).and_then(|s| s.get())
    }

    /// Segment `seg`, waiting for it if it is not complete yet.
    pub(crate) fn wait(&self, seg: usize) -> &Segment {
        if let Some(s) = self.slots[seg].get() {
            return s;
        }
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = self.slots[seg].get() {
                return s;
            }
            // A worker's panic is a bug; re-raise it here rather than wait forever.
            assert!(!*failed, "a runoff worker failed");
            failed = self.ready.wait(failed).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The first step at or after `step` with runoff at any node (or the end).
    pub(crate) fn next_busy(&self, step: usize) -> usize {
        let mut seg = self.segment_of(step);
        while seg < self.slots.len() {
            let busy = &self.wait(seg).busy;
            let i = busy.partition_point(|&(_, end)| end <= step);
            if let Some(&(start, _)) = busy.get(i) {
                return start.max(step);
            }
            seg += 1;
        }
        self.steps
    }

    fn publish(&self, seg: usize, segment: Segment) {
        // Set before taking the lock: a waiter checks the slot under it.
        let _ = self.slots[seg].set(segment);
        let _guard = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        self.ready.notify_all();
    }

    fn fail(&self) {
        *self.failed.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.ready.notify_all();
    }
}

/// Whether the routing can start before the runoff is complete (see the module).
fn streamable(system: &System) -> bool {
    let dynamic = system.routed_by == FlowRouting::DynWave && system.hydraulics.is_some();
    let runon = system.subcatchments.iter().any(|s| s.runon_to.is_some());
    let inflow_rule = system.rules.iter().any(|r| {
        r.premises
            .iter()
            .any(|p| matches!(p.subject, Subject::NodeLateral(_)))
    });
    !dynamic && !runon && !inflow_rule && !system.subcatchments.is_empty()
}

/// Run `route` on the calling thread with the system's runoff arriving from `workers`
/// runoff threads; returns its result and the runoff balance (summed in subcatchment
/// order). None when the system is not [`streamable`] or `workers` is 0.
pub(crate) fn with_streamed_runoff<R>(
    system: &System,
    workers: usize,
    route: impl FnOnce(&Runoff) -> R,
) -> Option<(R, RunoffBalance)> {
    if workers == 0 || !streamable(system) {
        return None;
    }
    let clock = system.clock;
    let rclock = system.runoff_clock();
    let (len, rlen) = segment_lengths(clock.step_s, rclock.step_s);
    let count = clock.steps.div_ceil(len).max(1);
    let mut has_runoff = vec![false; system.nodes.len()];
    for sc in &system.subcatchments {
        if let Some(h) = has_runoff.get_mut(sc.outlet) {
            *h = true;
        }
    }
    let segments = Arc::new(Segments {
        len,
        steps: clock.steps,
        slots: (0..count).map(|_| OnceLock::new()).collect(),
        pending: (0..count).map(|_| Mutex::new((0, Vec::new()))).collect(),
        failed: Mutex::new(false),
        ready: Condvar::new(),
        has_runoff,
    });
    let forcings: Vec<Forcing> = system
        .gages
        .iter()
        .map(|g| Forcing::new(&g.rain, &system.evaporation, rclock))
        .collect();
    let mut external = vec![SparseSeries::default(); system.nodes.len()];
    for inflow in &system.inflows {
        external[inflow.node].add(&inflow.on_clock(clock));
    }
    let runoff = Runoff {
        per_node: vec![SparseSeries::default(); system.nodes.len()],
        external,
        balance: RunoffBalance::default(),
        stream: Some(segments.clone()),
    };
    let workers = workers.min(system.subcatchments.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (segments, forcings) = (&*segments, &forcings);
                scope.spawn(move || {
                    let guard = FailGuard(segments);
                    let shares = Share {
                        system,
                        forcings,
                        rclock,
                        rlen,
                        worker: w,
                        workers,
                    };
                    let done = shares.run(segments, count);
                    std::mem::forget(guard);
                    done
                })
            })
            .collect();
        let result = route(&runoff);
        let mut done: Vec<(usize, RunoffBalance)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        done.sort_unstable_by_key(|d| d.0);
        let mut balance = RunoffBalance::default();
        for (_, b) in &done {
            balance.add(b);
        }
        Some((result, balance))
    })
}

/// Routing and runoff steps per segment: a whole number of both, about [`SEGMENT_S`].
fn segment_lengths(step_s: i64, rstep_s: i64) -> (usize, usize) {
    let (a, b) = (step_s.max(1), rstep_s.max(1));
    let mut gcd = (a, b);
    while gcd.1 != 0 {
        gcd = (gcd.1, gcd.0 % gcd.1);
    }
    let lcm = a / gcd.0 * b;
    let span = lcm * (SEGMENT_S / lcm).max(1);
    ((span / a) as usize, (span / b) as usize)
}

/// Marks the run failed when a worker unwinds, so the routing does not wait for it.
struct FailGuard<'a>(&'a Segments);

impl Drop for FailGuard<'_> {
    fn drop(&mut self) {
        self.0.fail();
    }
}

/// One worker's share: every `workers`-th subcatchment from `worker`.
struct Share<'a> {
    system: &'a System,
    forcings: &'a [Forcing],
    rclock: Clock,
    /// Runoff steps per segment.
    rlen: usize,
    worker: usize,
    workers: usize,
}

impl Share<'_> {
    /// Take the share through every segment; returns each subcatchment's balance.
    fn run(&self, segments: &Segments, count: usize) -> Vec<(usize, RunoffBalance)> {
        let system = self.system;
        let mut runs: Vec<(usize, SubRun)> = (self.worker..system.subcatchments.len())
            .step_by(self.workers)
            .map(|k| {
                let sc = &system.subcatchments[k];
                (
                    k,
                    SubRun::new(sc, &self.forcings[sc.gage], self.rclock, None),
                )
            })
            .collect();
        // This worker's evaporation depths for the segment: the system's evaporation,
        // the same in every gage's forcing, so one window serves every subcatchment (the
        // memory is kept from one segment to the next).
        debug_assert!(self.forcings.windows(2).all(|f| f[0].evap == f[1].evap));
        let mut window = EvapWindow::default();
        for seg in 0..count {
            let end = if seg + 1 == count {
                self.rclock.steps
            } else {
                (seg + 1) * self.rlen
            };
            if let Some(f) = self.forcings.first() {
                f.evap_window(seg * self.rlen, end, &mut window);
            }
            let mut fragments = Vec::new();
            for (k, run) in &mut runs {
                let mut out = SparseSeries::default();
                run.run_to(end, &mut out, &window);
                if !out.is_empty() {
                    fragments.push((*k, out));
                }
            }
            self.hand_in(segments, seg, fragments);
        }
        runs.into_iter().map(|(k, r)| (k, r.finish())).collect()
    }

    /// Add this worker's fragments of segment `seg`; the last worker to do so sums them
    /// per node in subcatchment order and publishes the segment.
    fn hand_in(&self, segments: &Segments, seg: usize, fragments: Vec<(usize, SparseSeries)>) {
        let mut all = {
            let mut p = segments.pending[seg]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            p.0 += 1;
            p.1.extend(fragments);
            if p.0 < self.workers {
                return;
            }
            std::mem::take(&mut p.1)
        };
        all.sort_unstable_by_key(|f| f.0);
        let system = self.system;
        let mut per_node = vec![SparseSeries::default(); system.nodes.len()];
        for (k, q) in all {
            per_node[system.subcatchments[k].outlet].add(&q.regrid(
                self.rclock.step_s,
                system.clock.step_s,
                system.clock.steps,
            ));
        }
        let busy = crate::series::busy_spans(per_node.iter());
        let per_node = Mutex::new(per_node.into_iter().map(Some).collect());
        segments.publish(seg, Segment { per_node, busy });
    }
}
