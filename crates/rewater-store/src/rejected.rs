//! Rejected frames, kept as a bounded sample: a count per (hour, source, reason) and the head
//! of the first few frames of each. A flood of bad frames grows the store by a few rows an
//! hour, not by the flood (issue 12, finding 1: 300 kB of `##9999` once grew it by 2.5 GB).

use crate::*;
use std::collections::HashMap;

/// Examples kept per (hour, source, reason).
pub const REJECTED_SAMPLES_PER_KEY: i64 = 3;
/// Bytes of a rejected frame kept in an example.
pub const REJECTED_HEAD_BYTES: usize = 256;
/// Characters of the detail kept in an example.
pub const REJECTED_DETAIL_CHARS: usize = 200;
/// Keys (source, reason) counted per hour; later new keys are counted together under
/// [`OTHER_SOURCE`] (a sender with many addresses cannot grow the table without bound).
pub const REJECTED_KEYS_PER_HOUR: i64 = 1000;
/// The source under which rejections past [`REJECTED_KEYS_PER_HOUR`] are counted.
pub const OTHER_SOURCE: &str = "*";

/// Counted frames of one key within a batch.
pub(crate) struct Group<'a> {
    pub hour_start_s: i64,
    pub source: String,
    pub reason: RejectReason,
    pub count: i64,
    pub first_at_ms: i64,
    pub last_at_ms: i64,
    pub samples: Vec<&'a RejectedFrame>,
}

/// An example as stored.
pub(crate) struct SampleRow<'a> {
    pub frame: &'a RejectedFrame,
    pub head: String,
    pub detail: String,
}

/// The SQL a backend runs for rejected frames (between `begin` and `commit`, one transaction).
pub(crate) trait RejectedSql {
    fn begin_rejected(&mut self) -> Result<()>;
    fn commit_rejected(&mut self) -> Result<()>;
    fn rollback_rejected(&mut self);
    /// Keys (source, reason) counted in an hour.
    fn keys_in_hour(&mut self, hour_start_s: i64) -> Result<i64>;
    /// The count of a key so far, if it has one.
    fn count_of(
        &mut self,
        hour_start_s: i64,
        source: &str,
        reason: RejectReason,
    ) -> Result<Option<i64>>;
    /// Adds to a key's count (creating it).
    fn add_count(&mut self, g: &Group<'_>) -> Result<()>;
    fn insert_sample(&mut self, g: &Group<'_>, s: &SampleRow<'_>) -> Result<()>;
}

fn head_of(raw: &str) -> String {
    let mut end = raw.len().min(REJECTED_HEAD_BYTES);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    raw[..end].replace('\0', "\u{FFFD}")
}

fn clean(s: &str, max_chars: usize) -> String {
    s.chars()
        .take(max_chars)
        .map(|c| if c == '\0' { '\u{FFFD}' } else { c })
        .collect()
}

/// Counts a batch of rejected frames; see [`ReadingStore::log_rejected`].
pub(crate) fn log(db: &mut dyn RejectedSql, frames: &[RejectedFrame]) -> Result<()> {
    if frames.is_empty() {
        return Ok(());
    }
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut index: HashMap<(i64, String, RejectReason), usize> = HashMap::new();
    for f in frames {
        let hour = f.received_at_ms.div_euclid(3_600_000) * 3600;
        let key = (hour, f.source(), f.reason);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Group {
                hour_start_s: hour,
                source: key.1,
                reason: f.reason,
                count: 0,
                first_at_ms: f.received_at_ms,
                last_at_ms: f.received_at_ms,
                samples: Vec::new(),
            });
            groups.len() - 1
        });
        let g = &mut groups[i];
        g.count += i64::from(f.repeats.max(1));
        g.first_at_ms = g.first_at_ms.min(f.received_at_ms);
        g.last_at_ms = g.last_at_ms.max(f.received_at_ms);
        if (g.samples.len() as i64) < REJECTED_SAMPLES_PER_KEY {
            g.samples.push(f);
        }
    }
    db.begin_rejected()?;
    match write(db, &mut groups) {
        Ok(()) => db.commit_rejected(),
        Err(e) => {
            db.rollback_rejected();
            Err(e)
        }
    }
}

fn write(db: &mut dyn RejectedSql, groups: &mut [Group<'_>]) -> Result<()> {
    let mut sources: HashMap<i64, i64> = HashMap::new();
    for g in groups.iter_mut() {
        let mut before = db.count_of(g.hour_start_s, &g.source, g.reason)?;
        if before.is_none() {
            let n = match sources.get(&g.hour_start_s) {
                Some(n) => *n,
                None => db.keys_in_hour(g.hour_start_s)?,
            };
            if n >= REJECTED_KEYS_PER_HOUR && g.source != OTHER_SOURCE {
                g.source = OTHER_SOURCE.to_string();
                before = db.count_of(g.hour_start_s, &g.source, g.reason)?;
            }
            sources.insert(g.hour_start_s, n + i64::from(before.is_none()));
        }
        db.add_count(g)?;
        let room = (REJECTED_SAMPLES_PER_KEY - before.unwrap_or(0)).max(0) as usize;
        for f in g.samples.iter().take(room) {
            let row = SampleRow {
                frame: f,
                head: head_of(&f.raw),
                detail: clean(&f.detail, REJECTED_DETAIL_CHARS),
            };
            db.insert_sample(g, &row)?;
        }
    }
    Ok(())
}
