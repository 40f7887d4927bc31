//! One device connection: frames decoded from the byte stream, each checked (MN, password,
//! source address, disabled), uploads queued for the writer and acknowledged after the commit.
//!
//! Timeouts: a new connection must deliver an accepted frame within the handshake timeout,
//! and then one every idle timeout; bytes that are not accepted frames (garbage, invalid or
//! refused frames) do not reset either clock. A started frame must complete within the frame
//! timeout. Too many bad frames in a row close the connection.

use crate::writer::{now_ms, WriteRequest};
use crate::Shared;
use rewater_hj212::compat::map_code;
use rewater_hj212::encode::{ack_9013, ack_9014, qn, set_time_1012};
use rewater_hj212::{DataTime, Decoder, Event, Options, Segment, Strictness};
use rewater_store::{FactorReading, IngestOutcome, RejectReason, RejectedFrame, Upload};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};

/// A connection as the frame handlers see it: its number and the queue of frames the
/// platform sends on it (requests to the logger).
pub(crate) struct ConnCtx {
    pub id: u64,
    pub tx: mpsc::Sender<String>,
    /// The MN its frames were last accepted for.
    pub mn: Option<String>,
}

/// What a frame came to.
enum Handled {
    /// From an authenticated device (resets the idle clock); the reply to send, if any.
    Accepted(Option<String>),
    /// Invalid or refused (counts towards closing the connection).
    Refused,
}

pub(crate) async fn handle_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (tx, mut outbound) = mpsc::channel::<String>(8);
    let mut ctx = ConnCtx {
        id: shared.next_conn.fetch_add(1, Ordering::Relaxed),
        tx,
        mn: None,
    };
    serve_frames(
        &mut stream,
        peer,
        &shared,
        &mut shutdown,
        &mut ctx,
        &mut outbound,
    )
    .await;
    // A request outstanding on the logger ends with its connection.
    if let Some(mn) = ctx.mn.take() {
        if let Some((mn, p)) = shared.sessions.closed(&mn, ctx.id) {
            let why = Some(crate::platform::Unanswered::Closed);
            crate::platform::finish(&shared, mn, p, why).await;
        }
    }
}

/// The connection's read loop (see [`handle_connection`]).
async fn serve_frames(
    stream: &mut TcpStream,
    peer: SocketAddr,
    shared: &Arc<Shared>,
    shutdown: &mut watch::Receiver<bool>,
    ctx: &mut ConnCtx,
    outbound: &mut mpsc::Receiver<String>,
) {
    let options = Options {
        lenient_tail: true,
        allow_oversize: true,
        accept_modbus_crc: true,
    };
    let config = &shared.config;
    let mut decoder = Decoder::new(options);
    let mut buf = vec![0u8; 8192];
    let opened = Instant::now();
    let mut last_accepted: Option<Instant> = None;
    let mut partial_since: Option<Instant> = None;
    let mut bad_in_a_row = 0u32;
    let mut clock = Clock::default();
    let peer_s = peer.to_string();
    loop {
        // Garbage and refused frames do not move these deadlines.
        let quiet_until = match last_accepted {
            Some(t) => t + config.idle_timeout,
            None => opened + config.handshake_timeout,
        };
        let deadline = match partial_since {
            Some(t) => quiet_until.min(t + config.frame_timeout),
            None => quiet_until,
        };
        let n = tokio::select! {
            r = tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)) => match r {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => n,
                Err(_) => {
                    // Idle, never identified, or a frame left unfinished too long.
                    shared.stats.closed_connections.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(peer = %peer, "connection timed out");
                    return;
                }
            },
            _ = shutdown.changed() => return,
            Some(request) = outbound.recv() => {
                // A request from the platform (history, parameters) to the logger.
                if stream.write_all(request.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
        };
        decoder.push(&buf[..n]);
        while let Some(ev) = decoder.next_event() {
            let handled = match ev {
                Event::Garbage(n) => {
                    shared
                        .stats
                        .garbage_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                    continue;
                }
                Event::Invalid { raw, error } => {
                    let detail = error.to_string();
                    reject(
                        shared,
                        &peer_s,
                        None,
                        None,
                        &raw,
                        RejectReason::BadFrame,
                        detail,
                    );
                    Handled::Refused
                }
                Event::Frame(frame) => {
                    shared.stats.frames.fetch_add(1, Ordering::Relaxed);
                    let arrived = Instant::now();
                    let h = on_frame(frame, &peer_s, peer, shared, &mut clock, ctx).await;
                    if let Handled::Accepted(Some(reply)) = &h {
                        if stream.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                        shared
                            .stats
                            .ack_latency
                            .record(arrived.elapsed().as_secs_f64() * 1000.0);
                    }
                    h
                }
            };
            match handled {
                Handled::Accepted(_) => {
                    bad_in_a_row = 0;
                    last_accepted = Some(Instant::now());
                }
                Handled::Refused => {
                    bad_in_a_row += 1;
                    if bad_in_a_row >= config.max_bad_frames {
                        shared
                            .stats
                            .closed_connections
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(peer = %peer, bad_frames = bad_in_a_row, "connection closed: bad frames in a row");
                        return;
                    }
                }
            }
        }
        partial_since = match decoder.pending() {
            0 => None,
            p if p > config.max_pending_bytes => return,
            _ => partial_since.or_else(|| Some(Instant::now())),
        };
    }
}

/// Counts a rejected frame (in memory; the writer stores the counts) and logs it within the
/// rate limit.
pub(crate) fn reject(
    shared: &Shared,
    peer: &str,
    mn: Option<&str>,
    cn: Option<&str>,
    raw: &[u8],
    reason: RejectReason,
    detail: String,
) {
    shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
    let mn_shown = mn.unwrap_or("");
    match shared.log_limiter.allow(reason) {
        Some(suppressed) => tracing::warn!(
            peer,
            mn = %mn_shown.escape_debug(),
            reason = reason.as_str(),
            detail = %detail,
            suppressed,
            "frame refused"
        ),
        None => {
            shared
                .stats
                .log_lines_suppressed
                .fetch_add(1, Ordering::Relaxed);
        }
    }
    let head = &raw[..raw.len().min(rewater_store::REJECTED_HEAD_BYTES)];
    let f = RejectedFrame {
        received_at_ms: now_ms(),
        peer: peer.to_string(),
        mn: mn.map(|m| m.chars().take(64).collect()),
        cn: cn.map(|c| c.chars().take(8).collect()),
        raw: String::from_utf8_lossy(head).into_owned(),
        reason,
        detail,
        repeats: 1,
    };
    if shared.rejects.push(f) {
        // Wake the writer if it is idle; if the queue is full it is busy and will see them.
        let _ = shared.writer.try_send(WriteRequest::Tick);
    }
}

/// Why the frame's sender may not speak for the MN it names, if it may not.
fn refusal(shared: &Shared, seg: &Segment, peer: SocketAddr, modbus: bool) -> Option<RejectReason> {
    let mn = seg.mn().unwrap_or("");
    let Ok(registry) = shared.registry.read() else {
        return Some(RejectReason::UnknownDevice);
    };
    let Some(d) = registry.get(mn) else {
        return Some(RejectReason::UnknownDevice);
    };
    if d.disabled {
        return Some(RejectReason::DeviceDisabled);
    }
    if !shared.password_ok(d, seg.pw().unwrap_or("")) {
        return Some(RejectReason::WrongPassword);
    }
    if !d.allows_peer(peer.ip()) {
        return Some(RejectReason::PeerNotAllowed);
    }
    if modbus && !d.accept_modbus_crc {
        return Some(RejectReason::ModbusCrc);
    }
    None
}

/// A connection's time calibration (HJ 212-2017 §6.7; reference notes §5.5): a 1012 with the
/// server's time after the first accepted frame, and again when a frame's QN shows the
/// logger's clock off by more than the limit (at most once per `calibrate_every`).
#[derive(Default)]
struct Clock {
    sent_at: Option<Instant>,
}

impl Clock {
    /// Whether to send a 1012 after this frame.
    fn due(&mut self, shared: &Shared, seg: &Segment) -> bool {
        let c = &shared.config;
        if !c.calibrate {
            return false;
        }
        let due = match self.sent_at {
            None => true,
            Some(t) => {
                t.elapsed() >= c.calibrate_every
                    && drift_s(shared, seg) > c.clock_drift_limit.as_secs() as i64
            }
        };
        if due {
            self.sent_at = Some(Instant::now());
            shared
                .stats
                .time_calibrations
                .fetch_add(1, Ordering::Relaxed);
        }
        due
    }
}

/// How far (seconds) the QN of a frame — the logger's clock when it sent the frame — lies
/// from the server's clock in the devices' zone; 0 when the QN holds no time.
fn drift_s(shared: &Shared, seg: &Segment) -> i64 {
    let Some(t) = seg.qn().and_then(|q| q.get(..14)).and_then(DataTime::parse) else {
        return 0;
    };
    let now = shared.config.zone.wall_seconds(now_ms().div_euclid(1000));
    (t.wall_seconds() - now).abs()
}

/// Handles one frame.
async fn on_frame(
    frame: rewater_hj212::Frame,
    peer_s: &str,
    peer: SocketAddr,
    shared: &Shared,
    clock: &mut Clock,
    ctx: &mut ConnCtx,
) -> Handled {
    let modbus = frame.modbus_crc;
    let seg = match Segment::from_frame(frame.clone(), Strictness::Lenient) {
        Ok(s) => s,
        Err(e) => {
            let reason = RejectReason::BadSegment;
            reject(
                shared,
                peer_s,
                None,
                None,
                &frame.raw,
                reason,
                e.to_string(),
            );
            return Handled::Refused;
        }
    };
    let mn = seg.mn().unwrap_or("");
    let cn = seg.cn().unwrap_or("");
    if let Some(reason) = refusal(shared, &seg, peer, modbus) {
        let raw = seg.raw().as_bytes();
        reject(
            shared,
            peer_s,
            Some(mn),
            Some(cn),
            raw,
            reason,
            String::new(),
        );
        return Handled::Refused;
    }
    // A registered device that floods is slowed down, not refused (see `DevicePace`).
    let wait = shared.device_pace.reserve(mn, Instant::now());
    if !wait.is_zero() {
        shared.stats.paced_frames.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(wait).await;
    }
    if ctx.mn.as_deref() != Some(mn) {
        ctx.mn = Some(mn.to_string());
    }
    // Answers to a request of ours (matched by QN).
    let c = &shared.config;
    let (reply, finished) = shared.sessions.on_frame(
        mn,
        ctx.id,
        &ctx.tx,
        &seg,
        c.gap_scan_delay,
        c.request_spacing,
    );
    if let Some((p, why)) = finished {
        crate::platform::finish(shared, mn.to_string(), p, why).await;
    }
    if let crate::platform::Reply::Consumed = reply {
        let ack = !cn.starts_with("90") && seg.ack_requested();
        return Handled::Accepted(ack.then(|| ack_9014(&seg)));
    }
    let handled = match cn {
        // Replies from the device to our requests: nothing to answer.
        "9011" | "9012" | "9013" | "9014" => return Handled::Accepted(None),
        "1013" => {
            // The reply already sets the clock.
            clock.sent_at = Some(Instant::now());
            return Handled::Accepted(Some(time_reply(shared, &seg, mn)));
        }
        _ if seg.pnum.is_some_and(|n| n > 1) && seg.pno.is_some() => {
            split_reply(shared, &seg, peer_s).await
        }
        _ => upload_reply(shared, &seg, peer_s).await,
    };
    // Calibrate after the 9014 (or with nothing to acknowledge), never before it.
    if clock.due(shared, &seg) {
        let mut reply = handled.unwrap_or_default();
        reply.push_str(&set_time(shared, &seg, mn));
        return Handled::Accepted(Some(reply));
    }
    Handled::Accepted(handled)
}

/// A 1012 request setting the logger's clock to the server's time in the devices' zone.
fn set_time(shared: &Shared, seg: &Segment, mn: &str) -> String {
    let now_ms = now_ms();
    let now = DataTime::from_wall_seconds(shared.config.zone.wall_seconds(now_ms.div_euclid(1000)));
    set_time_1012(
        &qn(now, now_ms.rem_euclid(1000) as u16),
        seg.st().unwrap_or("32"),
        seg.pw().unwrap_or(""),
        mn,
        now,
    )
}

/// Time calibration: 9013 now, then 1012 with the server's time in the devices' zone.
fn time_reply(shared: &Shared, seg: &Segment, mn: &str) -> String {
    let mut reply = ack_9013(seg);
    reply.push_str(&set_time(shared, seg, mn));
    reply
}

/// Queues an upload, waits for its commit and counts it: `Some(true)` stored, `Some(false)` a
/// duplicate, `None` not stored (refused — counted with the refusals under `detail` — or the
/// writer gone), so nothing is to be acknowledged.
async fn commit(
    shared: &Shared,
    seg: &Segment,
    peer_s: &str,
    upload: Upload,
    detail: String,
) -> Option<bool> {
    let n = upload.readings.len() as u64;
    let (tx, rx) = oneshot::channel();
    shared
        .writer
        .send(WriteRequest::Upload(upload, tx))
        .await
        .ok()?;
    match rx.await.ok().flatten()? {
        IngestOutcome::Stored { .. } => {
            shared.stats.stored.fetch_add(1, Ordering::Relaxed);
            shared.stats.readings.fetch_add(n, Ordering::Relaxed);
            Some(true)
        }
        IngestOutcome::Duplicate { .. } => {
            shared.stats.duplicates.fetch_add(1, Ordering::Relaxed);
            Some(false)
        }
        IngestOutcome::Refused { reason } => {
            let (mn, cn) = (seg.mn().unwrap_or(""), seg.cn().unwrap_or(""));
            let raw = seg.raw().as_bytes();
            reject(shared, peer_s, Some(mn), Some(cn), raw, reason, detail);
            None
        }
    }
}

/// Queues a data upload and waits for its commit; the 9014 to send, if one is due.
async fn upload_reply(shared: &Shared, seg: &Segment, peer_s: &str) -> Option<String> {
    let mn = seg.mn().unwrap_or("");
    let cn = seg.cn().unwrap_or("");
    let Some(upload) = to_upload(seg, peer_s) else {
        // No DataTime or no values: counted for audit, acknowledged if asked.
        let raw = seg.raw().as_bytes();
        let detail = format!("CN {}", cn.chars().take(8).collect::<String>());
        reject(
            shared,
            peer_s,
            Some(mn),
            Some(cn),
            raw,
            RejectReason::NoReadings,
            detail,
        );
        return seg.ack_requested().then(|| ack_9014(seg));
    };
    commit(shared, seg, peer_s, upload, String::new()).await?;
    if seg.ack_requested() {
        shared.stats.acks.fetch_add(1, Ordering::Relaxed);
        Some(ack_9014(seg))
    } else {
        None
    }
}

/// One part of a split record (see [`crate::reassembly`]): committed to the store, then
/// acknowledged if asked; the last part makes the whole record, stored once with the deletion
/// of the parts, then acknowledged.
async fn split_reply(shared: &Shared, seg: &Segment, peer_s: &str) -> Option<String> {
    let Some(part) = crate::reassembly::OwnedPart::of(seg, peer_s) else {
        // No DataTime: nothing to join the parts by; counted like any upload without one.
        return upload_reply(shared, seg, peer_s).await;
    };
    let (outcome, _) = crate::reassembly::add(shared, part).await?;
    let ack = split_counted(shared, &outcome, |reason, detail| {
        let (mn, cn) = (seg.mn().unwrap_or(""), seg.cn().unwrap_or(""));
        let raw = seg.raw().as_bytes();
        reject(shared, peer_s, Some(mn), Some(cn), raw, reason, detail);
    });
    (ack && seg.ack_requested()).then(|| {
        shared.stats.acks.fetch_add(1, Ordering::Relaxed);
        ack_9014(seg)
    })
}

/// Counts what became of a split part (refusals through `refuse`); whether it may be
/// acknowledged.
pub(crate) fn split_counted(
    shared: &Shared,
    outcome: &rewater_store::SplitOutcome,
    refuse: impl FnOnce(RejectReason, String),
) -> bool {
    use rewater_store::SplitOutcome as O;
    let stats = &shared.stats;
    stats.split_parts.fetch_add(1, Ordering::Relaxed);
    match outcome {
        O::Held { .. } | O::Repeat | O::AlreadyStored => true,
        O::Complete(IngestOutcome::Stored { .. }) => {
            stats.split_records.fetch_add(1, Ordering::Relaxed);
            stats.stored.fetch_add(1, Ordering::Relaxed);
            true
        }
        O::Complete(_) => {
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
            true
        }
        O::Refused { reason, detail, .. } => {
            refuse(*reason, detail.clone());
            false
        }
    }
}

/// Turns a data upload into store rows (2005 factor codes mapped to 2017, with their unit).
pub fn to_upload(seg: &Segment, peer: &str) -> Option<Upload> {
    let data_time = seg.data_time()?;
    let cn = seg.cn()?.to_string();
    let value_suffix = if cn == "2011" { "Rtd" } else { "Avg" };
    let readings: Vec<FactorReading> = seg
        .factors()
        .into_iter()
        .map(|f| {
            let (code, scale) = match map_code(f.code) {
                Some(m) => (m.factor.code().to_string(), m.scale),
                None => (f.code.to_string(), 1.0),
            };
            let num = |s: &str| f.number(s).map(|v| v * scale);
            FactorReading {
                factor: code,
                value: num(value_suffix)
                    .or_else(|| num("Rtd"))
                    .or_else(|| num("Avg")),
                min: num("Min"),
                max: num("Max"),
                // Cumulative amounts are loads, not concentrations: no unit scaling.
                cou: f.number("Cou"),
                flag: f.flag.map(str::to_string),
            }
        })
        .filter(|r| r.value.is_some() || r.cou.is_some())
        .collect();
    if readings.is_empty() {
        return None;
    }
    Some(Upload {
        mn: seg.mn()?.to_string(),
        cn,
        data_time: data_time.wall_seconds(),
        pno: seg.pno.unwrap_or(1),
        received_at_ms: now_ms(),
        peer: peer.to_string(),
        raw: seg.raw().to_string(),
        readings,
    })
}

/// A stored frame read back as the upload it was (HJ 212 text; the JSON form of MQTT
/// uploads), for the cluster's alert leader. `None` for what is no upload.
pub(crate) fn upload_from_stored(f: &rewater_store::StoredFrame) -> Option<Upload> {
    let mut u = upload_from_text(&f.raw, &f.peer)?;
    u.received_at_ms = f.received_at_ms;
    Some(u)
}

/// The upload a stored text holds: an HJ 212 frame, or the JSON form of MQTT uploads
/// ([`crate::json`]).
pub fn upload_from_text(raw: &str, peer: &str) -> Option<Upload> {
    if raw.trim_start().starts_with('{') {
        return crate::json::parse(raw.as_bytes(), peer)
            .ok()
            .map(|(u, _)| u);
    }
    let mut decoder = Decoder::new(Options {
        lenient_tail: true,
        allow_oversize: true,
        accept_modbus_crc: true,
    });
    decoder.push(raw.as_bytes());
    // A reassembled split record holds its parts' frames one after the other.
    let mut whole: Option<Upload> = None;
    while let Some(ev) = decoder.next_event() {
        if let Event::Frame(frame) = ev {
            let seg = Segment::from_frame(frame, Strictness::Lenient).ok()?;
            let Some(u) = to_upload(&seg, peer) else {
                continue;
            };
            match whole.as_mut() {
                None => whole = Some(u),
                Some(w) => {
                    for r in u.readings {
                        if !w.readings.iter().any(|x| x.factor == r.factor) {
                            w.readings.push(r);
                        }
                    }
                }
            }
        }
    }
    let mut w = whole?;
    w.pno = 1;
    w.raw = raw.to_string();
    Some(w)
}
