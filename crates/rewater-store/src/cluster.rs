//! Several gateways on one store (issue 19): a leadership that one connection holds at a time
//! (cluster-wide work such as alert evaluation runs once, on the leader), and the **alert
//! feed**: with [`IngestRules::feed`] on, every committed batch also records, in the same
//! transaction, the frames it stored; the leader reads the feed in order, evaluates the
//! frames and marks the batches done. A batch stored by any gateway is therefore evaluated
//! once, by whichever gateway leads, and none is lost when a gateway dies (the feed is in the
//! store, and the leadership of a dead connection ends with it).
//!
//! PostgreSQL holds the leadership as a session advisory lock; SQLite (one process) is always
//! the leader of itself.

use crate::Result;

/// Migration 8 (issue 19; renumbered at merge if needed): the alert feed.
pub(crate) const V8_SQLITE: &str = "
CREATE TABLE alert_feed (id INTEGER PRIMARY KEY, frames TEXT NOT NULL, at_ms INTEGER NOT NULL);
";
/// On PostgreSQL also: the indexes on ever-growing columns (frame arrival for retention,
/// reading id for corrections) become BRIN — both grow with insertion order, so a block range
/// summary finds them, and an insert no longer descends a B-tree (measured in
/// docs/benchmarks.md, issue 19).
#[cfg(feature = "postgres")]
pub(crate) const V8_PG: &str = "
CREATE TABLE alert_feed (id BIGSERIAL PRIMARY KEY, frames BIGINT[] NOT NULL, at_ms BIGINT NOT NULL);
DROP INDEX IF EXISTS frame_received;
CREATE INDEX frame_received ON frame USING brin (received_at_ms);
DROP INDEX IF EXISTS reading_id;
CREATE INDEX reading_id ON reading USING brin (id);
";

/// A frame as stored, for whoever evaluates it after the commit.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFrame {
    pub id: i64,
    pub received_at_ms: i64,
    pub peer: String,
    pub mn: Option<String>,
    pub raw: String,
}

/// One committed batch in the alert feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedBatch {
    pub id: i64,
    /// The frames of the uploads the batch stored (not its duplicates), in batch order.
    pub frames: Vec<StoredFrame>,
}

/// Leadership and the alert feed.
pub trait ClusterStore {
    /// Takes or keeps the leadership named `role` for this connection; false if another
    /// connection holds it. It ends when the connection closes (a killed process included).
    fn try_lead(&mut self, role: &str) -> Result<bool>;
    /// The oldest batches of the feed (at most `limit`), with their frames.
    fn alert_feed(&mut self, limit: i64) -> Result<Vec<FeedBatch>>;
    /// Removes evaluated batches from the feed.
    fn done_alert_feed(&mut self, ids: &[i64]) -> Result<()>;
    /// Batches waiting in the feed.
    fn alert_feed_len(&mut self) -> Result<i64>;
    /// Another connection to the same store, for a second writer committing batches in
    /// parallel (PostgreSQL); `None` where one writer is all the store takes (SQLite).
    fn another_writer(&mut self) -> Result<Option<Box<dyn crate::Store>>>;
}
