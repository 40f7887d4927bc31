//! The background fold of the hourly aggregates (see `rewater_store::fold`): where the store
//! defers them (PostgreSQL), batches commit their readings and one pending row, and this
//! thread, on a connection of its own, adds the pending batches to the aggregates every
//! `Config::fold_every` — off the path of the acknowledgements, and with a device's several
//! uploads of an hour merged into one update. Where the store splits the loggers into fold
//! parts, a turn folds one part and the turns are spread over the interval. With several
//! gateways on one store, each runs one; a fold that finds another running skips its turn.

use crate::stats::Stats;
use rewater_store::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Pending batches folded in one transaction (a batch holds up to `batch_max` uploads).
/// A fold should take a whole turn's backlog: the point of folding is that a logger's
/// several uploads of an hour become one update of its aggregates, and a logger uploads
/// about once per batch interval, so a fold of only 64 batches (≈ 0.8 s of a 10,000-logger
/// load) merged almost nothing — each reading still cost its own upsert. Taking every batch
/// of a 5 s turn cut PostgreSQL's CPU per reading by ≈ 23 % (docs/benchmarks.md, "Province
/// scale, 2026-12-03"). The bound keeps one transaction's work finite after a long stop.
const BATCHES_PER_FOLD: i64 = 4096;

/// The shortest time another fold leaves this process's pending batches to it.
const HOLD_AT_LEAST_MS: u128 = 60_000;

/// The running fold thread.
pub(crate) struct Folder {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Folder {
    /// Turns deferral on for `store` (and the writers opened from it afterwards) and starts
    /// the fold on another connection; `None` (and nothing deferred) where the store adds to
    /// the aggregates in each batch (SQLite), or `every` is zero.
    pub(crate) fn start(
        store: &mut dyn Store,
        every: Duration,
        stats: Arc<Stats>,
    ) -> Option<Folder> {
        if every.is_zero() || !store.defer_aggregates(true) {
            return None;
        }
        // This process's batches are left to its own fold for a few turns; past that they are
        // a dead gateway's, and any fold reads them back.
        let hold_ms = (3 * every.as_millis()).max(HOLD_AT_LEAST_MS) as i64;
        if store.hold_sums(hold_ms) {
            tracing::info!(hold_ms, "hourly sums held for the fold");
        }
        let mut conn = match store.another_writer() {
            Ok(Some(c)) => c,
            Ok(None) => {
                store.defer_aggregates(false);
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "no connection for the aggregate fold: aggregates are added in each batch");
                store.defer_aggregates(false);
                return None;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("rewater-aggregate-fold".into())
            .spawn(move || run(conn.as_mut(), every, &s, &stats));
        match thread {
            Ok(thread) => Some(Folder { stop, thread }),
            Err(e) => {
                tracing::warn!(error = %e, "no thread for the aggregate fold: aggregates are added in each batch");
                store.defer_aggregates(false);
                None
            }
        }
    }

    /// Stops after folding what is pending (the writers have committed their last batch).
    pub(crate) fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.thread().unpark();
        let _ = self.thread.join();
    }
}

fn run(store: &mut dyn Store, every: Duration, stop: &AtomicBool, stats: &Stats) {
    // Batches added from held sums, of all folded (the rest were read back).
    let (mut folds, mut busy, mut from_held) = (0u64, Duration::ZERO, 0i64);
    // One part of the loggers a turn, so that each part is folded once per `every` and the
    // work is spread over it; the last fold takes every part.
    let parts = store.fold_parts().max(1);
    let turn = every / u32::from(parts);
    let mut part = 0u8;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        // Fold until nothing (or only a part another gateway is folding) is left.
        loop {
            let t = Instant::now();
            let r = if stopping {
                store.fold_aggregates(BATCHES_PER_FOLD)
            } else {
                store.fold_aggregates_part(part, BATCHES_PER_FOLD)
            };
            let took = t.elapsed();
            busy += took;
            folds += 1;
            match r {
                Ok(r) => {
                    tracing::debug!(
                        part,
                        batches = r.batches,
                        from_held = r.from_held,
                        hours = r.hours,
                        ms = took.as_millis() as u64,
                        "aggregate fold"
                    );
                    from_held += r.from_held;
                    stats
                        .folded_batches
                        .fetch_add(r.batches as u64, Ordering::Relaxed);
                    if r.busy || r.batches < BATCHES_PER_FOLD {
                        break;
                    }
                }
                Err(e) => {
                    // Left pending: reads still count them, the next fold adds them.
                    tracing::warn!(error = %e, "aggregate fold failed; retried later");
                    break;
                }
            }
        }
        if stopping {
            tracing::info!(
                batches = stats.folded_batches.load(Ordering::Relaxed),
                from_held,
                folds,
                fold_ms = busy.as_millis() as u64,
                "aggregate fold stopped"
            );
            return;
        }
        part = (part + 1) % parts;
        let until = Instant::now() + turn;
        while !stop.load(Ordering::SeqCst) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::park_timeout(left);
        }
    }
}
