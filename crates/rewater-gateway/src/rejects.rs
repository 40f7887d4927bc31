//! Rejected frames counted in memory between writes: per (source, reason) the first three
//! frames (their heads) and a repeat count, so a flood costs a counter increment per frame
//! and never queues ahead of honest uploads.

use rewater_store::{RejectReason, RejectedFrame, REJECTED_SAMPLES_PER_KEY};
use std::collections::HashMap;
use std::sync::Mutex;

/// Distinct (source, reason) keys held between writes; later new keys count as "*".
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
struct Inner {
    frames: Vec<RejectedFrame>,
    /// (source, reason) → (index of its first frame, frames kept).
    index: HashMap<(String, RejectReason), (usize, i64)>,
}

#[derive(Default)]
pub(crate) struct RejectBuffer {
    inner: Mutex<Inner>,
}

impl RejectBuffer {
    /// Counts a rejected frame; true if the buffer was empty (the writer should be woken).
    pub fn push(&self, mut f: RejectedFrame) -> bool {
        let Ok(mut m) = self.inner.lock() else {
            return false;
        };
        let was_empty = m.frames.is_empty();
        let mut key = (f.source(), f.reason);
        if !m.index.contains_key(&key) && m.index.len() >= MAX_KEYS {
            key = (rewater_store::rejected::OTHER_SOURCE.to_string(), f.reason);
            f.peer = key.0.clone();
            f.mn = None;
        }
        let inner = &mut *m;
        match inner.index.get_mut(&key) {
            Some((first, kept)) if *kept >= REJECTED_SAMPLES_PER_KEY => {
                let e = &mut inner.frames[*first];
                e.repeats = e.repeats.max(1).saturating_add(1);
            }
            Some((_, kept)) => {
                *kept += 1;
                inner.frames.push(f);
            }
            None => {
                let at = inner.frames.len();
                inner.index.insert(key, (at, 1));
                inner.frames.push(f);
            }
        }
        was_empty
    }

    /// Everything counted since the last call.
    pub fn take(&self) -> Vec<RejectedFrame> {
        match self.inner.lock() {
            Ok(mut m) => {
                m.index.clear();
                std::mem::take(&mut m.frames)
            }
            Err(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(peer: &str) -> RejectedFrame {
        RejectedFrame {
            received_at_ms: 1,
            peer: peer.into(),
            mn: None,
            cn: None,
            raw: "##9999".into(),
            reason: RejectReason::BadFrame,
            detail: String::new(),
            repeats: 1,
        }
    }

    #[test]
    fn a_flood_is_three_frames_and_a_count() {
        let b = RejectBuffer::default();
        assert!(b.push(f("192.0.2.1:1")));
        for _ in 0..9_999 {
            assert!(!b.push(f("192.0.2.1:2")));
        }
        b.push(f("192.0.2.2:1"));
        let frames = b.take();
        assert_eq!(frames.len(), 4);
        let total: u32 = frames.iter().map(|x| x.repeats.max(1)).sum();
        assert_eq!(total, 10_001);
        assert!(b.take().is_empty());
    }
}
