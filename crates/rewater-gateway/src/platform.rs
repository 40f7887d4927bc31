//! Requests from the platform to connected loggers (HJ 212-2017 §6.5, the "request" exchange:
//! platform request with Flag.A → device 9011 QnRtn → data/answer packets → 9012 ExeRtn;
//! reference notes §5.2–§5.4):
//!
//! * **history requests (补发)** for the gaps the store shows in a logger's minute (2051),
//!   hourly (2061) and daily (2031) data: `CP=&&BeginTime=…;EndTime=…&&`; the logger answers
//!   with ordinary uploads (stored as any upload), then 9012, after which the gap is checked
//!   in the store: filled, or open again (re-requested after `request_retry_after`), or given
//!   up after `max_gap_requests`;
//! * **logger commands** queued by the API in the store (set/query parameters), sent by
//!   whichever gateway holds the logger's connection, answered into the store with an audit
//!   entry.
//!
//! At most one request is outstanding per logger; requests to one logger are spaced by
//! `request_spacing`; a request without any answer for `request_timeout` is given up (a gap
//! is re-requested later, a command fails).

use crate::writer::{now_ms, WriteRequest};
use crate::Shared;
use rewater_hj212::{DataTime, Segment};
use rewater_store::platform::{find_gaps, observed_interval, GapLimits, GAP_KINDS};
use rewater_store::prelude::*;
use rewater_store::{CommandAnswer, CommandState, Gap, GapState};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

/// What an outstanding request is for.
#[derive(Debug, Clone)]
pub(crate) enum Purpose {
    Gap(Gap),
    Command(i64),
}

/// The request outstanding on a logger.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    qn: String,
    purpose: Purpose,
    last_activity: Instant,
    answer: CommandAnswer,
}

/// A connected logger.
struct Session {
    conn: u64,
    tx: mpsc::Sender<String>,
    st: String,
    pw: String,
    /// The version bits of its Flag (0 = HJ/T 212-2005).
    version_bits: u8,
    pending: Option<Pending>,
    /// No new request before this.
    next_request: Instant,
    next_gap_scan: Instant,
}

/// The loggers connected to this gateway, by MN.
#[derive(Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// What a frame from a logger meant to the request outstanding on it.
pub(crate) enum Reply {
    /// Not about a request of ours: handle as usual.
    No,
    /// An answer to our request (9011/9012 or the queried values): nothing else to do.
    Consumed,
}

impl Sessions {
    /// Notes the connection a logger speaks on (the newest one wins), then matches the
    /// frame against the logger's outstanding request (by QN). Returns what the frame meant
    /// and a request that ended: answered by this frame, or left on the logger's previous
    /// connection (to be finished as unanswered).
    pub fn on_frame(
        &self,
        mn: &str,
        conn: u64,
        tx: &mpsc::Sender<String>,
        seg: &Segment,
        scan_delay: Duration,
        spacing: Duration,
    ) -> (Reply, Option<(Pending, Option<Unanswered>)>) {
        let Ok(mut m) = self.map.lock() else {
            return (Reply::No, None);
        };
        if let Some(old) = self.seen(&mut m, mn, conn, tx, seg, scan_delay) {
            return (Reply::No, Some((old, Some(Unanswered::Reconnected))));
        }
        let (r, done) = Self::reply(&mut m, mn, seg, spacing);
        (r, done.map(|p| (p, None)))
    }

    fn seen(
        &self,
        m: &mut HashMap<String, Session>,
        mn: &str,
        conn: u64,
        tx: &mpsc::Sender<String>,
        seg: &Segment,
        scan_delay: Duration,
    ) -> Option<Pending> {
        let version_bits = seg.flag.map(|f| f.value & !3).unwrap_or(0);
        let now = Instant::now();
        match m.get_mut(mn) {
            Some(s) if s.conn == conn => {
                if let Some(p) = s.pending.as_mut() {
                    p.last_activity = now;
                }
                None
            }
            _ => {
                let old = m.insert(
                    mn.to_string(),
                    Session {
                        conn,
                        tx: tx.clone(),
                        st: seg.st().unwrap_or("32").to_string(),
                        pw: seg.pw().unwrap_or("").to_string(),
                        version_bits,
                        pending: None,
                        next_request: now,
                        next_gap_scan: now + scan_delay,
                    },
                );
                old.and_then(|s| s.pending)
            }
        }
    }

    /// Forgets a closed connection (a request outstanding on it is handled at its timeout
    /// by [`run`]: the session is gone, so it is finished as failed there).
    pub fn closed(&self, mn: &str, conn: u64) -> Option<(String, Pending)> {
        let mut m = self.map.lock().ok()?;
        if m.get(mn).is_some_and(|s| s.conn == conn) {
            let s = m.remove(mn)?;
            return s.pending.map(|p| (mn.to_string(), p));
        }
        None
    }

    /// Matches a frame against the logger's outstanding request (by QN); the finished
    /// request, if this frame finished it.
    fn reply(
        m: &mut HashMap<String, Session>,
        mn: &str,
        seg: &Segment,
        spacing: Duration,
    ) -> (Reply, Option<Pending>) {
        let Some(s) = m.get_mut(mn) else {
            return (Reply::No, None);
        };
        let Some(p) = s.pending.as_mut() else {
            return (Reply::No, None);
        };
        let qn = seg.qn().or_else(|| seg.cp_value("QN"));
        if qn != Some(p.qn.as_str()) {
            return (Reply::No, None);
        }
        p.last_activity = Instant::now();
        let cn = seg.cn().unwrap_or("");
        let done = match cn {
            "9011" => {
                p.answer.qn_rtn = seg.cp_value("QnRtn").map(short);
                p.answer.qn_rtn.as_deref() != Some("1")
            }
            "9012" => {
                p.answer.exe_rtn = seg.cp_value("ExeRtn").map(short);
                true
            }
            // History data are stored as uploads, whatever their QN.
            _ if matches!(p.purpose, Purpose::Gap(_)) => return (Reply::No, None),
            _ => {
                // The values a query asked for (1011, 1061, 1063, 3020 …).
                let values: Vec<String> = seg
                    .cp()
                    .map(|kv| format!("{}={}", kv.key, kv.value))
                    .collect();
                if !p.answer.values.is_empty() {
                    p.answer.values.push(';');
                }
                p.answer.values.push_str(&values.join(";"));
                let mut end = p.answer.values.len().min(2000);
                while !p.answer.values.is_char_boundary(end) {
                    end -= 1;
                }
                p.answer.values.truncate(end);
                false
            }
        };
        if done {
            let finished = s.pending.take();
            s.next_request = Instant::now() + spacing;
            return (Reply::Consumed, finished);
        }
        (Reply::Consumed, None)
    }
}

fn short(s: &str) -> String {
    s.chars().take(16).collect()
}

/// Runs a call on the store writer and waits for its result.
async fn on_store<T: Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&mut dyn Store) -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    let call: crate::writer::StoreCall = Box::new(move |s| {
        let _ = tx.send(f(s));
    });
    shared.writer.send(WriteRequest::Run(call)).await.ok()?;
    rx.await.ok()
}

/// A request frame to a logger.
fn request_frame(qn: &str, st: &str, cn: &str, pw: &str, mn: &str, bits: u8, cp: &str) -> String {
    let flag = bits | 1;
    rewater_hj212::frame::encode_frame(&format!(
        "QN={qn};ST={st};CN={cn};PW={pw};MN={mn};Flag={flag};CP=&&{cp}&&"
    ))
}

/// A new QN from the server clock in the devices' zone, unique within this gateway.
fn new_qn(shared: &Shared) -> String {
    let ms = now_ms();
    let seq = shared.stats.platform_requests.load(Ordering::Relaxed);
    let t = DataTime::from_wall_seconds(shared.config.zone.wall_seconds(ms.div_euclid(1000)));
    rewater_hj212::encode::qn(t, ((ms.rem_euclid(1000) as u64 + seq) % 1000) as u16)
}

/// Why a request ended without its answer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unanswered {
    Timeout,
    Closed,
    Reconnected,
}

/// Records a finished request in the store: the command's answer (or why there is none), or
/// the gap's new state.
pub(crate) async fn finish(shared: &Shared, mn: String, p: Pending, why: Option<Unanswered>) {
    let max_requests = shared.config.max_gap_requests;
    let at = now_ms();
    match p.purpose {
        Purpose::Command(id) => {
            let mut answer = p.answer;
            let state = match why {
                None => CommandState::Answered,
                Some(w) => {
                    answer.error = Some(match w {
                        Unanswered::Timeout => format!(
                            "no answer within {} s",
                            shared.config.request_timeout.as_secs()
                        ),
                        Unanswered::Closed => "the logger's connection closed".into(),
                        Unanswered::Reconnected => "the logger reconnected before answering".into(),
                    });
                    CommandState::Failed
                }
            };
            let r = on_store(shared, move |s| s.finish_command(id, state, &answer, at)).await;
            if let Some(Err(e)) = r {
                tracing::warn!(error = %e, mn, "logger command answer not stored");
            }
        }
        Purpose::Gap(g) => {
            let r = on_store(shared, move |s| {
                let filled = is_filled(s, &g)?;
                let state = if filled {
                    GapState::Filled
                } else if g.requests >= max_requests {
                    GapState::GivenUp
                } else {
                    GapState::Open
                };
                s.update_gap(g.id, state, g.requests, at)?;
                Ok::<_, rewater_store::StoreError>(state)
            })
            .await;
            match r {
                Some(Ok(GapState::Filled)) => {
                    shared.stats.gaps_filled.fetch_add(1, Ordering::Relaxed);
                }
                Some(Ok(_)) => {
                    // Try again later.
                    if let Ok(mut m) = shared.sessions.map.lock() {
                        if let Some(s) = m.get_mut(&mn) {
                            s.next_gap_scan = Instant::now() + shared.config.request_retry_after;
                        }
                    }
                }
                Some(Err(e)) => tracing::warn!(error = %e, mn, "gap state not stored"),
                None => {}
            }
        }
    }
}

/// Whether every interval of a gap is now in the store.
fn is_filled(s: &mut dyn Store, g: &Gap) -> rewater_store::Result<bool> {
    let n = g.missing();
    let times = s.upload_times(&g.mn, &g.cn, g.from_s, g.to_s, n + 1)?;
    Ok(times
        .iter()
        .filter(|t| (**t - g.from_s) % g.interval_s.max(1) == 0)
        .count() as i64
        >= n)
}

/// Finds a logger's gaps in the store (bounded), records new ones, marks those now present
/// as filled, and returns the oldest open one to request (or one still "requested" since
/// before `stale_before_ms`).
fn scan_gaps(
    s: &mut dyn Store,
    mn: &str,
    now_wall: i64,
    limits: GapLimits,
    at_ms: i64,
    stale_before_ms: i64,
) -> rewater_store::Result<Option<Gap>> {
    let known = s.gaps(Some(mn), 500)?;
    for g in known
        .iter()
        .filter(|g| matches!(g.state, GapState::Open | GapState::Requested))
    {
        if is_filled(s, g)? {
            s.update_gap(g.id, GapState::Filled, g.requests, at_ms)?;
        }
    }
    for &(cn, fixed) in GAP_KINDS {
        let times = s.upload_times(
            mn,
            cn,
            now_wall - limits.window_s,
            now_wall,
            limits.max_points,
        )?;
        let interval = if fixed > 0 {
            fixed
        } else {
            match observed_interval(&times) {
                Some(i) => i,
                None => continue,
            }
        };
        let mut open = known
            .iter()
            .filter(|g| g.cn == cn && matches!(g.state, GapState::Open | GapState::Requested))
            .count();
        for (from_s, to_s) in find_gaps(&times, interval, limits.max_gaps) {
            if open >= limits.max_gaps {
                break;
            }
            let overlaps = known
                .iter()
                .any(|g| g.cn == cn && g.from_s <= to_s && from_s <= g.to_s);
            if overlaps {
                continue;
            }
            let g = Gap {
                id: 0,
                mn: mn.to_string(),
                cn: cn.to_string(),
                from_s,
                to_s,
                interval_s: interval,
                state: GapState::Open,
                requests: 0,
                found_at_ms: at_ms,
                updated_at_ms: at_ms,
            };
            if s.add_gap(&g)?.is_some() {
                open += 1;
            }
        }
    }
    let mut open: Vec<Gap> = s
        .gaps(Some(mn), 500)?
        .into_iter()
        // A gap left "requested" by a gateway that stopped is asked again.
        .filter(|g| {
            g.state == GapState::Open
                || (g.state == GapState::Requested && g.updated_at_ms < stale_before_ms)
        })
        .collect();
    open.sort_by_key(|g| (g.from_s, g.id));
    Ok(open.into_iter().next())
}

/// Sends a request on a logger's session and records it as outstanding; false if the
/// logger is gone or busy.
fn send(shared: &Shared, mn: &str, cn: &str, cp: &str, qn: &str, purpose: Purpose) -> bool {
    let Ok(mut m) = shared.sessions.map.lock() else {
        return false;
    };
    let Some(s) = m.get_mut(mn) else {
        return false;
    };
    if s.pending.is_some() {
        return false;
    }
    let frame = request_frame(qn, &s.st, cn, &s.pw, mn, s.version_bits, cp);
    if s.tx.try_send(frame).is_err() {
        return false;
    }
    s.pending = Some(Pending {
        qn: qn.to_string(),
        purpose,
        last_activity: Instant::now(),
        answer: CommandAnswer::default(),
    });
    shared
        .stats
        .platform_requests
        .fetch_add(1, Ordering::Relaxed);
    true
}

/// The history request's CP for a gap (HJ 212-2017 C.20–C.22).
pub(crate) fn history_cp(g: &Gap) -> String {
    format!(
        "BeginTime={};EndTime={}",
        DataTime::from_wall_seconds(g.from_s),
        DataTime::from_wall_seconds(g.to_s)
    )
}

/// The platform loop: timeouts, queued commands, gap scans and history requests.
pub(crate) async fn run(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let c = shared.config.clone();
    let mut iv = tokio::time::interval(c.platform_every.max(Duration::from_millis(20)));
    loop {
        tokio::select! {
            _ = iv.tick() => {}
            _ = shutdown.changed() => return,
        }
        // Timeouts, and split records whose parts did not all come.
        let now = Instant::now();
        let expired: Vec<(String, Pending)> = match shared.sessions.map.lock() {
            Ok(mut m) => {
                m.iter_mut()
                    .filter_map(|(mn, s)| {
                        let late = s.pending.as_ref().is_some_and(|p| {
                            now.duration_since(p.last_activity) >= c.request_timeout
                        });
                        if late {
                            s.next_request = now + c.request_spacing;
                            return s.pending.take().map(|p| (mn.clone(), p));
                        }
                        None
                    })
                    .collect()
            }
            Err(_) => return,
        };
        for (mn, p) in expired {
            finish(&shared, mn, p, Some(Unanswered::Timeout)).await;
        }
        crate::reassembly::expire(&shared).await;
        if !c.platform_requests {
            continue;
        }
        commands(&shared).await;
        gaps(&shared).await;
    }
}

/// Sends queued commands to the loggers connected here; fails those expired.
async fn commands(shared: &Arc<Shared>) {
    // A gateway without loggers has nothing to send (another one fails what expires).
    if shared.sessions.map.lock().map_or(true, |m| m.is_empty()) {
        return;
    }
    let Some(Ok(pending)) = on_store(shared, |s| s.pending_commands(200)).await else {
        return;
    };
    let now = now_ms();
    for cmd in pending {
        if cmd.expires_at_ms <= now {
            let answer = CommandAnswer {
                error: Some("the logger was not connected to a gateway in time".into()),
                ..CommandAnswer::default()
            };
            let id = cmd.id;
            let _ = on_store(shared, move |s| {
                s.finish_command(id, CommandState::Failed, &answer, now)
            })
            .await;
            continue;
        }
        if !ready(shared, &cmd.mn) {
            continue;
        }
        let qn = new_qn(shared);
        let (id, q) = (cmd.id, qn.clone());
        let Some(Ok(true)) = on_store(shared, move |s| s.claim_command(id, &q)).await else {
            continue;
        };
        if !send(
            shared,
            &cmd.mn,
            &cmd.cn,
            &cmd.cp,
            &qn,
            Purpose::Command(cmd.id),
        ) {
            let answer = CommandAnswer {
                error: Some("the logger's connection closed before the command was sent".into()),
                ..CommandAnswer::default()
            };
            let _ = on_store(shared, move |s| {
                s.finish_command(id, CommandState::Failed, &answer, now)
            })
            .await;
        }
    }
}

/// Whether a logger is connected here and free for a new request.
fn ready(shared: &Shared, mn: &str) -> bool {
    let Ok(m) = shared.sessions.map.lock() else {
        return false;
    };
    m.get(mn)
        .is_some_and(|s| s.pending.is_none() && s.next_request <= Instant::now())
}

/// Scans the connected loggers whose turn it is for gaps and requests the oldest open one.
async fn gaps(shared: &Arc<Shared>) {
    let c = &shared.config;
    let now = Instant::now();
    let due: Vec<String> = match shared.sessions.map.lock() {
        Ok(mut m) => m
            .iter_mut()
            .filter(|(_, s)| s.pending.is_none() && s.next_request <= now && s.next_gap_scan <= now)
            .take(c.gap_scans_per_tick)
            .map(|(mn, s)| {
                s.next_gap_scan = now + c.gap_scan_every;
                mn.clone()
            })
            .collect(),
        Err(_) => return,
    };
    let limits = c.gap_limits;
    for mn in due {
        let at = now_ms();
        let now_wall = c.zone.wall_seconds(at.div_euclid(1000));
        let m = mn.clone();
        let stale = at - 2 * (c.request_timeout + c.request_retry_after).as_millis() as i64;
        let Some(r) = on_store(shared, move |s| {
            scan_gaps(s, &m, now_wall, limits, at, stale)
        })
        .await
        else {
            return;
        };
        let mut g = match r {
            Ok(Some(g)) => g,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, mn, "gap scan failed");
                continue;
            }
        };
        g.requests += 1;
        let qn = new_qn(shared);
        let cp = history_cp(&g);
        let cn = g.cn.clone();
        let (id, requests) = (g.id, g.requests);
        if send(shared, &mn, &cn, &cp, &qn, Purpose::Gap(g)) {
            shared
                .stats
                .history_requests
                .fetch_add(1, Ordering::Relaxed);
            let _ = on_store(shared, move |s| {
                s.update_gap(id, GapState::Requested, requests, at)
            })
            .await;
        }
    }
}
