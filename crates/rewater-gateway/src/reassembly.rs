//! Split packets (拆分包, HJ 212-2017 §6.3.2 Flag bit D with PNUM/PNO), held in the store
//! ([`rewater_store::split`]) until all parts have come, then stored once as one whole upload
//! (PNO 1, the parts' frames kept together as its raw text). A part is acknowledged (9014 with
//! its own QN) only after it is committed there, the last one after the whole is committed
//! and the parts deleted in the same transaction. The gateway keeps nothing of its own, so a
//! logger that reconnects to another gateway mid-record completes it there, and a gateway
//! killed between parts loses none that it acknowledged. TCP and MQTT take the same path.
//!
//! Parts are matched by (MN, CN, DataTime, PNUM): every part carries its own QN and the same
//! CN and DataTime (reference notes §5.7 and Table C.50 of the standard; confidence high for
//! 2017 devices; a device reusing one QN for all parts matches the same way).
//!
//! Bounded in the store: parts per record (`max_split_parts`), bytes per part, records being
//! assembled per device and in all, and bytes held in all; a record still incomplete after
//! `split_timeout` is dropped by whichever gateway sees it first, with one `split_incomplete`
//! rejected entry naming the missing parts.

use crate::writer::WriteRequest;
use crate::Shared;
use rewater_hj212::Segment;
use rewater_store::{HeldPart, SplitOutcome, SplitPart, Upload};
use tokio::sync::oneshot;

/// The CP text of a part: what a resent part must repeat to be the same part.
pub(crate) fn content(seg: &Segment) -> String {
    let mut s = String::new();
    for p in seg.cp() {
        s.push_str(&format!("{}:{}={};", p.group, p.key, p.value));
    }
    s
}

/// The whole record from its parts (PNO order): their frames one after the other, read as
/// one upload (a factor repeated in a later part is kept once, as first sent).
pub(crate) fn reassemble(parts: &[HeldPart]) -> Result<Upload, String> {
    let mut raw = String::new();
    for p in parts {
        raw.push_str(&p.raw);
        if !p.raw.ends_with('\n') {
            raw.push_str("\r\n");
        }
    }
    let peer = parts.last().map(|p| p.peer.as_str()).unwrap_or("");
    crate::conn::upload_from_text(&raw, peer)
        .ok_or_else(|| "no part of the split record holds values".to_string())
}

/// A part to hold, as owned data for the writer thread.
pub(crate) struct OwnedPart {
    pub mn: String,
    pub cn: String,
    pub data_time: i64,
    pub pnum: u32,
    pub pno: u32,
    pub qn: String,
    pub raw: String,
    pub content: String,
    pub peer: String,
    pub received_at_ms: i64,
}

impl OwnedPart {
    /// A part of an HJ 212 frame (`None` if it names no PNUM/PNO or no DataTime).
    pub fn of(seg: &Segment, peer: &str) -> Option<OwnedPart> {
        let (pnum, pno) = (seg.pnum?, seg.pno?);
        Some(OwnedPart {
            mn: seg.mn()?.to_string(),
            cn: seg.cn()?.to_string(),
            data_time: seg.data_time()?.wall_seconds(),
            pnum,
            pno,
            qn: seg.qn().unwrap_or("").chars().take(20).collect(),
            raw: seg.raw().to_string(),
            content: content(seg),
            peer: peer.to_string(),
            received_at_ms: crate::writer::now_ms(),
        })
    }
}

/// Holds a part in the store through the writer and waits for its commit; `None` if the
/// store failed or the gateway stops (nothing to acknowledge: the logger sends it again).
/// A record completed and stored now is also handed to the alert engine, and returned.
pub(crate) async fn add(shared: &Shared, p: OwnedPart) -> Option<(SplitOutcome, Option<Upload>)> {
    let limits = shared.split_limits;
    let (tx, rx) = oneshot::channel();
    let call: crate::writer::StoreCall = Box::new(move |s| {
        let part = SplitPart {
            mn: &p.mn,
            cn: &p.cn,
            data_time: p.data_time,
            pnum: p.pnum,
            pno: p.pno,
            qn: &p.qn,
            raw: &p.raw,
            content: &p.content,
            peer: &p.peer,
            received_at_ms: p.received_at_ms,
        };
        let mut whole = None;
        let mut build = |parts: &[HeldPart]| {
            let u = reassemble(parts)?;
            whole = Some(u.clone());
            Ok(u)
        };
        let r = s.add_split_part(&part, &limits, &mut build);
        let _ = tx.send(r.map(|o| (o, whole)));
    });
    shared.writer.send(WriteRequest::Run(call)).await.ok()?;
    let (outcome, whole) = match rx.await.ok()? {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "split part not stored");
            return None;
        }
    };
    let stored = match (&outcome, whole) {
        (SplitOutcome::Complete(rewater_store::IngestOutcome::Stored { .. }), Some(u)) => {
            let _ = shared
                .writer
                .send(WriteRequest::Evaluate(Box::new(u.clone())))
                .await;
            Some(u)
        }
        _ => None,
    };
    Some((outcome, stored))
}

/// Drops the records whose parts did not all arrive in time (each by one gateway), each with
/// a rejected entry naming the missing parts.
pub(crate) async fn expire(shared: &Shared) {
    let timeout = shared.config.split_timeout;
    let before = crate::writer::now_ms() - timeout.as_millis() as i64;
    let (tx, rx) = oneshot::channel();
    let call: crate::writer::StoreCall = Box::new(move |s| {
        let _ = tx.send(s.expire_splits(before, 1000));
    });
    if shared.writer.send(WriteRequest::Run(call)).await.is_err() {
        return;
    }
    let expired = match rx.await {
        Ok(Ok(e)) => e,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "split records not expired");
            return;
        }
        Err(_) => return,
    };
    for e in expired {
        shared
            .stats
            .split_incomplete
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let missing: Vec<String> = (1..=e.pnum)
            .filter(|p| !e.have.contains(p))
            .take(20)
            .map(|p| p.to_string())
            .collect();
        let detail = format!(
            "CN {} DataTime {}: PNO {} of {} missing after {} s; the parts held were dropped",
            e.cn,
            rewater_hj212::DataTime::from_wall_seconds(e.data_time),
            missing.join(","),
            e.pnum,
            timeout.as_secs()
        );
        crate::conn::reject(
            shared,
            "split",
            Some(&e.mn),
            Some(&e.cn),
            e.first_raw.as_bytes(),
            rewater_store::RejectReason::SplitIncomplete,
            detail,
        );
    }
}
