//! Hourly aggregates folded after the commit instead of inside it (issue 19).
//!
//! Adding a batch's valid values to the kept hourly aggregates inside the batch's transaction
//! (an upsert per (MN, factor, hour)) was 40 % of PostgreSQL's work per reading, on the path
//! of every acknowledgement. With deferral on, a batch records instead **one row** naming its
//! readings — the range of their ids and the transaction that inserted them (PostgreSQL's
//! `xmin`) — in `aggregate_pending`, in the same transaction as the readings. A background
//! fold later, in one transaction, deletes pending rows and adds their readings' valid values
//! to the aggregates. So:
//!
//! * **Never lost, never counted twice.** A pending row and its readings commit together; the
//!   fold's deletion of the row and its additions to the aggregates commit together. A crash
//!   between the readings' commit and the fold leaves the row for the next fold (by any
//!   gateway); two folds cannot take the same row (`FOR UPDATE SKIP LOCKED`, then deleted).
//! * **Reads stay exact.** [`crate::ReadingStore::aggregates`] reads, in one snapshot, the
//!   kept aggregates plus the valid readings still pending, so a series is the same before and
//!   after the fold.
//! * **Corrections.** A correction first folds the batch of the reading it corrects, if it is
//!   still pending (by reading back, so that no gateway's held sums count the reading), then
//!   rebuilds the hour from the readings already folded (the pending ones are added by their
//!   fold). A correction and a fold exclude each other (a transaction advisory lock), so a
//!   corrected reading is counted once either way.
//! * **Held sums.** A gateway's writers keep the hourly sums of the batches they committed in
//!   memory for its own fold, which then deletes those pending rows and upserts the sums
//!   without reading the readings back, if every row is still there; otherwise, and for the
//!   batches of a gateway that died (left to their holder for a few fold turns), a fold reads
//!   them back (`pg/held.rs`).
//! * **Always recomputable.** The aggregates remain what the readings say:
//!   [`AggregateFold::aggregates_differing`] compares them with a recomputation (tests).
//!
//! SQLite keeps its per-batch aggregate (one writer, in-process; it was not the cost there).

use crate::Result;

/// What one fold did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FoldReport {
    /// Pending rows folded (a batch has one per fold part its loggers fall in).
    pub batches: i64,
    /// Hourly aggregate rows written.
    pub hours: i64,
    /// Whether another connection was folding (this one did nothing).
    pub busy: bool,
    /// Of `batches`, those added from sums this process held instead of read back.
    pub from_held: i64,
}

/// Aggregates folded in the background, where the backend does that (PostgreSQL).
pub trait AggregateFold {
    /// Turns deferral on or off for this connection's later batches (and the writers it
    /// opens); `false` where the backend always adds to the aggregates at once.
    fn defer_aggregates(&mut self, on: bool) -> bool {
        let _ = on;
        false
    }
    /// Holds the hourly sums of this connection's later batches (and of the writers it opens
    /// afterwards) in memory for its own fold, which then adds them without reading the
    /// readings back; other folds leave those batches to it for `hold_ms`, then read them
    /// back (a process that died). `false` where the backend does not (SQLite, or batches
    /// not written by COPY).
    fn hold_sums(&mut self, hold_ms: i64) -> bool {
        let _ = hold_ms;
        false
    }
    /// Folds the pending batches (of every part) whose sums this process holds, then at most
    /// `max_batches` others, oldest first, in one transaction.
    fn fold_aggregates(&mut self, max_batches: i64) -> Result<FoldReport> {
        let _ = max_batches;
        Ok(FoldReport::default())
    }
    /// Parts the loggers fall in for [`AggregateFold::fold_aggregates_part`] (1: the backend
    /// folds everything at once).
    fn fold_parts(&self) -> u8 {
        1
    }
    /// Folds the pending batches of fold part `part` (of [`AggregateFold::fold_parts`]) whose
    /// sums this process holds, then at most `max_batches` others of that part that no live
    /// process holds, in one transaction; turns over the parts spread the fold's work.
    fn fold_aggregates_part(&mut self, part: u8, max_batches: i64) -> Result<FoldReport> {
        let _ = part;
        self.fold_aggregates(max_batches)
    }
    /// Pending rows waiting for their fold (a batch has one per fold part its loggers fall
    /// in).
    fn aggregates_pending(&mut self) -> Result<i64> {
        Ok(0)
    }
    /// Kept hourly aggregates (folded, plus pending) that differ from a recomputation from
    /// the readings (for tests and checks; reads every aggregated reading).
    fn aggregates_differing(&mut self) -> Result<i64> {
        Ok(0)
    }
}
