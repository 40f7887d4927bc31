//! Split packets (拆分包, HJ 212-2017 §6.3.2 Flag bit D with PNUM/PNO): the parts of one record
//! are held until all have arrived, then stored once as one whole upload (PNO 1, the parts'
//! frames kept together as its raw text). Each part is acknowledged (9014 with its own QN)
//! as it arrives, the last one after the whole is committed.
//!
//! Parts are matched by (MN, CN, DataTime, PNUM): every part carries its own QN, the same CN
//! and DataTime (reference notes §5.7 and Table C.50 of the standard; confidence high for
//! 2017 devices; a device reusing one QN for all parts matches the same way).
//!
//! Bounded: parts per record (`max_split_parts`), records being assembled per connection and
//! per gateway, and bytes held per gateway; a record still incomplete after `split_timeout`
//! is dropped with a `split_incomplete` rejected entry naming the missing parts.

use rewater_store::Upload;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// (MN, CN, DataTime, PNUM).
pub(crate) type Key = (String, String, i64, u32);

/// One record being assembled.
struct Set {
    conn: u64,
    started: Instant,
    bytes: usize,
    /// PNO → (raw frame, its upload if it held values).
    parts: BTreeMap<u32, (String, Option<Upload>)>,
}

/// Limits of reassembly (from the gateway's configuration).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitLimits {
    pub timeout: Duration,
    pub max_parts: u32,
    pub max_sets_per_connection: usize,
    pub max_sets: usize,
    pub max_bytes: usize,
}

/// What became of a part.
pub(crate) enum Added {
    /// Held; more parts are awaited.
    Held,
    /// A part already held (resent): acknowledge again, keep one.
    Duplicate,
    /// The record was completed recently and stored: acknowledge, store nothing.
    AlreadyStored,
    /// The last part: the whole record to store.
    Complete(Box<Upload>),
    /// Refused (over a limit); the reason in words.
    Refused(String),
}

/// A record dropped at the timeout.
pub(crate) struct Expired {
    pub key: Key,
    pub have: Vec<u32>,
    pub first_raw: String,
}

#[derive(Default)]
struct Inner {
    sets: HashMap<Key, Set>,
    bytes: usize,
    /// Records completed in the last timeout (resent parts of them are acknowledged).
    done: HashMap<Key, Instant>,
}

pub(crate) struct Reassembly {
    limits: SplitLimits,
    inner: Mutex<Inner>,
}

impl Reassembly {
    pub fn new(limits: SplitLimits) -> Reassembly {
        Reassembly {
            limits,
            inner: Mutex::default(),
        }
    }

    pub fn limits(&self) -> SplitLimits {
        self.limits
    }

    /// Adds part `pno` of a record.
    pub fn add(&self, key: Key, conn: u64, pno: u32, raw: &str, upload: Option<Upload>) -> Added {
        let l = self.limits;
        let pnum = key.3;
        if pnum > l.max_parts {
            return Added::Refused(format!(
                "PNUM {pnum} is over the limit of {} parts",
                l.max_parts
            ));
        }
        if pno == 0 || pno > pnum {
            return Added::Refused(format!("PNO {pno} is outside 1..={pnum}"));
        }
        let Ok(mut g) = self.inner.lock() else {
            return Added::Refused("reassembly unavailable".into());
        };
        let inner = &mut *g;
        if inner
            .done
            .get(&key)
            .is_some_and(|t| t.elapsed() < l.timeout)
        {
            return Added::AlreadyStored;
        }
        if inner.bytes + raw.len() > l.max_bytes {
            return Added::Refused(format!(
                "split parts held would exceed {} bytes",
                l.max_bytes
            ));
        }
        if !inner.sets.contains_key(&key) {
            if inner.sets.len() >= l.max_sets {
                return Added::Refused(format!(
                    "{} split records are being assembled (the gateway's limit)",
                    l.max_sets
                ));
            }
            let mine = inner.sets.values().filter(|s| s.conn == conn).count();
            if mine >= l.max_sets_per_connection {
                return Added::Refused(format!(
                    "{mine} split records are being assembled on this connection (the limit)"
                ));
            }
            inner.sets.insert(
                key.clone(),
                Set {
                    conn,
                    started: Instant::now(),
                    bytes: 0,
                    parts: BTreeMap::new(),
                },
            );
        }
        let Some(set) = inner.sets.get_mut(&key) else {
            return Added::Refused("reassembly unavailable".into());
        };
        if set.parts.contains_key(&pno) {
            return Added::Duplicate;
        }
        set.bytes += raw.len();
        inner.bytes += raw.len();
        set.parts.insert(pno, (raw.to_string(), upload));
        if set.parts.len() < pnum as usize {
            return Added::Held;
        }
        let Some(set) = inner.sets.remove(&key) else {
            return Added::Refused("reassembly unavailable".into());
        };
        inner.bytes = inner.bytes.saturating_sub(set.bytes);
        inner.done.insert(key.clone(), Instant::now());
        match merge(set.parts) {
            Some(u) => Added::Complete(Box::new(u)),
            None => Added::Refused("no part of the split record holds values".into()),
        }
    }

    /// Forgets that a completed record was stored (its commit failed: the device resends).
    pub fn forget(&self, key: &Key) {
        if let Ok(mut g) = self.inner.lock() {
            g.done.remove(key);
        }
    }

    /// Removes the records older than the timeout.
    pub fn expire(&self) -> Vec<Expired> {
        let t = self.limits.timeout;
        let Ok(mut g) = self.inner.lock() else {
            return Vec::new();
        };
        let inner = &mut *g;
        inner.done.retain(|_, at| at.elapsed() < t);
        let old: Vec<Key> = inner
            .sets
            .iter()
            .filter(|(_, s)| s.started.elapsed() >= t)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out = Vec::new();
        for key in old {
            if let Some(s) = inner.sets.remove(&key) {
                inner.bytes = inner.bytes.saturating_sub(s.bytes);
                out.push(Expired {
                    have: s.parts.keys().copied().collect(),
                    first_raw: s
                        .parts
                        .values()
                        .next()
                        .map(|p| p.0.clone())
                        .unwrap_or_default(),
                    key,
                });
            }
        }
        out
    }
}

/// The whole record: the first part's upload with every part's readings (a factor repeated
/// in a later part is kept once, as first sent), PNO 1, the parts' frames in PNO order.
fn merge(parts: BTreeMap<u32, (String, Option<Upload>)>) -> Option<Upload> {
    let mut raw = String::new();
    let mut whole: Option<Upload> = None;
    for (_, (r, u)) in parts {
        raw.push_str(&r);
        if !r.ends_with('\n') {
            raw.push_str("\r\n");
        }
        let Some(u) = u else { continue };
        match whole.as_mut() {
            None => whole = Some(u),
            Some(w) => {
                for reading in u.readings {
                    if !w.readings.iter().any(|x| x.factor == reading.factor) {
                        w.readings.push(reading);
                    }
                }
            }
        }
    }
    let mut w = whole?;
    w.pno = 1;
    w.raw = raw;
    Some(w)
}

/// Words for the rejected entry of a record dropped at the timeout.
pub(crate) fn missing_detail(e: &Expired, timeout: Duration) -> String {
    let pnum = e.key.3;
    let missing: Vec<String> = (1..=pnum)
        .filter(|p| !e.have.contains(p))
        .take(20)
        .map(|p| p.to_string())
        .collect();
    format!(
        "CN {} DataTime {}: PNO {} of {pnum} missing after {} s; the parts held were dropped",
        e.key.1,
        rewater_hj212::DataTime::from_wall_seconds(e.key.2),
        missing.join(","),
        timeout.as_secs()
    )
}
