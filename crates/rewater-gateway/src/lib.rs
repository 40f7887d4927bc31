//! The HJ 212 gateway (数据采集网关): accepts data-logger connections over TCP, checks each
//! device's MN and password, stores readings, and sends the 9014 acknowledgement only after the
//! batch holding the upload is committed to the store. Duplicates (same MN, CN, DataTime, PNO)
//! are acknowledged and stored once; late and out-of-order (补发) data are accepted; time
//! calibration requests (1013) are answered with 9013 and a 1012 carrying the server time.
//!
//! Protection: connection and per-address limits, an idle timeout, a deadline for completing a
//! started frame (slow senders), a cap on buffered bytes, and garbage counted and dropped.
//! Shutdown stops accepting, lets connections finish the frame in hand, and commits what is
//! queued before returning.

use rewater_hj212::compat::map_code;
use rewater_hj212::encode::{ack_9013, ack_9014, qn, set_time_1012};
use rewater_hj212::{DataTime, Decoder, Event, Options, Segment, Strictness};
use rewater_store::prelude::*;
use rewater_store::{Device, FactorReading, IngestOutcome, RejectedFrame, Upload};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

/// Gateway settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub max_connections: usize,
    pub max_per_address: usize,
    /// Close a connection silent for this long.
    pub idle_timeout: Duration,
    /// A frame that has started must complete within this time (slow-sender protection).
    pub frame_timeout: Duration,
    /// Bytes buffered without a complete frame before the connection is closed.
    pub max_pending_bytes: usize,
    /// Most uploads committed in one transaction.
    pub batch_max: usize,
    /// After the first upload of a batch arrives, wait this long for more before committing
    /// (group commit: fewer, larger transactions write far fewer pages per upload).
    pub commit_window: Duration,
    /// Offset of the devices' clock from UTC (Beijing time: +8 h), for time calibration.
    pub device_utc_offset_s: i64,
    /// Keep raw frames this long (readings and aggregates are kept); `None` keeps them all.
    pub retain_frames: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_connections: 20_000,
            max_per_address: 20_000,
            idle_timeout: Duration::from_secs(900),
            frame_timeout: Duration::from_secs(30),
            max_pending_bytes: 64 * 1024,
            batch_max: 512,
            commit_window: Duration::ZERO,
            device_utc_offset_s: 8 * 3600,
            retain_frames: None,
        }
    }
}

/// Counters of a running gateway.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub refused_connections: AtomicU64,
    pub frames: AtomicU64,
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
    pub garbage_bytes: AtomicU64,
    pub acks: AtomicU64,
    pub readings: AtomicU64,
    /// Time from a frame's arrival to its 9014 being written, as a histogram.
    pub ack_latency: LatencyHistogram,
}

/// Upper bounds (ms) of the latency histogram buckets; the last bucket is open.
pub const LATENCY_BOUNDS_MS: [f64; 16] = [
    0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 75.0, 100.0, 200.0, 500.0,
];

/// A lock-free latency histogram.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    counts: [AtomicU64; 17],
}

impl LatencyHistogram {
    pub fn record(&self, ms: f64) {
        let i = LATENCY_BOUNDS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(LATENCY_BOUNDS_MS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The bucket bound at or below which a share `q` of the samples lie (∞ past the last).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let target = (q * total as f64).ceil() as u64;
        let mut acc = 0;
        for (i, c) in counts.iter().enumerate() {
            acc += c;
            if acc >= target {
                return LATENCY_BOUNDS_MS.get(i).copied().unwrap_or(f64::INFINITY);
            }
        }
        f64::INFINITY
    }
}

/// Errors that stop the gateway.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    #[error("store: {0}")]
    Store(#[from] rewater_store::StoreError),
}

enum WriteRequest {
    Upload(Upload, oneshot::Sender<Option<IngestOutcome>>),
    Rejected(RejectedFrame),
    /// Time passes: check for devices gone silent.
    Tick,
}

/// What the gateway needs to raise alerts as data arrive.
pub struct AlertSetup {
    pub standards: rewater_standards::Standards,
    pub settings: rewater_alerts::Settings,
    /// Regional-model node → nodes downstream of it (empty without a model).
    pub downstream: HashMap<String, Vec<String>>,
    /// How often to look for devices that went silent.
    pub tick: Duration,
}

/// Builds the alert engine from the store's sites and devices.
fn build_engine(
    store: &mut dyn Store,
    setup: AlertSetup,
    devices: &[Device],
) -> rewater_store::Result<rewater_alerts::AlertEngine> {
    let sites: HashMap<String, rewater_store::Site> = store
        .sites()?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let rules = devices
        .iter()
        .filter_map(|d| {
            let site = sites.get(&d.site_id)?;
            let standards = site.standards().into_iter().map(str::to_string).collect();
            Some((
                d.mn.clone(),
                rewater_alerts::SiteRules {
                    site_id: site.id.clone(),
                    standards,
                    model_node: site.model_node.clone(),
                },
            ))
        })
        .collect();
    let mut engine =
        rewater_alerts::AlertEngine::new(setup.standards, setup.settings, rules, &setup.downstream);
    let now = now_ms() / 1000;
    for d in devices {
        engine.expect(&d.mn, now);
    }
    Ok(engine)
}

/// Stores what the engine decided.
fn record_alerts(store: &mut dyn Store, out: rewater_alerts::Outcome, log: &dyn Fn(&str)) {
    let now = now_ms();
    if !out.raised.is_empty() {
        let rows: Vec<rewater_store::NewAlertRow> = out
            .raised
            .into_iter()
            .map(|a| rewater_store::NewAlertRow {
                site_id: a.key.site_id,
                mn: a.mn,
                kind: a.key.kind.as_str().to_string(),
                factor: a.key.factor,
                severity: a.severity.as_str().to_string(),
                message: a.message,
                data_time: a.data_time,
                value: a.value,
                limit: a.limit,
                raised_at_ms: now,
            })
            .collect();
        if let Err(e) = store.raise_alerts(&rows) {
            log(&format!("store: alerts not recorded: {e}"));
        }
    }
    if !out.recovered.is_empty() {
        let keys: Vec<(String, String, Option<String>)> = out
            .recovered
            .into_iter()
            .map(|k| (k.site_id, k.kind.as_str().to_string(), k.factor))
            .collect();
        if let Err(e) = store.recover_alerts(&keys, now) {
            log(&format!("store: alert recoveries not recorded: {e}"));
        }
    }
}

struct Shared {
    config: Config,
    devices: RwLock<HashMap<String, Device>>,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    writer: mpsc::Sender<WriteRequest>,
    stats: Arc<Stats>,
    log: Log,
}

/// Where the gateway reports refusals and store problems.
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// A handle to change the device registry while the gateway runs. It does not keep the
/// gateway alive.
#[derive(Clone)]
pub struct Handle {
    shared: std::sync::Weak<Shared>,
    stats: Arc<Stats>,
}

impl Handle {
    /// Registers or updates a device.
    pub fn put_device(&self, d: Device) {
        if let Some(s) = self.shared.upgrade() {
            if let Ok(mut m) = s.devices.write() {
                m.insert(d.mn.clone(), d);
            }
        }
    }
    /// Live counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Runs the writer: batches queued uploads into one transaction, then answers each one.
fn writer_loop(
    mut store: Box<dyn Store>,
    mut rx: mpsc::Receiver<WriteRequest>,
    batch_max: usize,
    window: Duration,
    mut engine: Option<rewater_alerts::AlertEngine>,
    retain: Option<Duration>,
    log: &dyn Fn(&str),
) {
    let mut uploads = Vec::with_capacity(batch_max);
    let mut replies = Vec::with_capacity(batch_max);
    let mut rejected = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        // Group commit: let more uploads arrive before writing the batch.
        if !window.is_zero() {
            std::thread::sleep(window);
        }
        let mut next = Some(first);
        while let Some(req) = next.take() {
            match req {
                WriteRequest::Upload(u, tx) => {
                    uploads.push(u);
                    replies.push(tx);
                }
                WriteRequest::Rejected(r) => rejected.push(r),
                WriteRequest::Tick => {
                    if let Some(e) = engine.as_mut() {
                        let out = e.on_tick(now_ms() / 1000);
                        record_alerts(store.as_mut(), out, log);
                    }
                    if let Some(keep) = retain {
                        if let Err(e) = store.purge_frames(now_ms() - keep.as_millis() as i64) {
                            log(&format!("store: retention purge failed: {e}"));
                        }
                    }
                }
            }
            if uploads.len() >= batch_max {
                break;
            }
            next = rx.try_recv().ok();
        }
        if !rejected.is_empty() {
            if let Err(e) = store.log_rejected(&rejected) {
                log(&format!("store: could not keep rejected frames: {e}"));
            }
            rejected.clear();
        }
        if uploads.is_empty() {
            continue;
        }
        match store.ingest(&uploads) {
            Ok(outcomes) => {
                let stored: Vec<bool> = outcomes
                    .iter()
                    .map(|o| matches!(o, IngestOutcome::Stored { .. }))
                    .collect();
                for (tx, o) in replies.drain(..).zip(outcomes) {
                    let _ = tx.send(Some(o));
                }
                // Alerts after the acknowledgements: they do not delay the devices.
                if let Some(e) = engine.as_mut() {
                    let now_s = now_ms() / 1000;
                    let mut out = rewater_alerts::Outcome::default();
                    for (u, _) in uploads.iter().zip(&stored).filter(|(_, s)| **s) {
                        let values: Vec<rewater_alerts::Value<'_>> = u
                            .readings
                            .iter()
                            .map(|r| rewater_alerts::Value {
                                factor: &r.factor,
                                value: r.value,
                                flag: r.flag.as_deref(),
                            })
                            .collect();
                        let o = e.on_upload(&u.mn, &u.cn, u.data_time, &values, now_s);
                        out.raised.extend(o.raised);
                        out.recovered.extend(o.recovered);
                    }
                    record_alerts(store.as_mut(), out, log);
                }
            }
            Err(e) => {
                // Nothing is acknowledged: the devices will resend.
                log(&format!(
                    "store: batch of {} uploads not stored: {e}",
                    uploads.len()
                ));
                for tx in replies.drain(..) {
                    let _ = tx.send(None);
                }
            }
        }
        uploads.clear();
    }
}

/// Serves on `listener` until `shutdown` turns true; then drains and returns.
pub async fn serve(
    listener: TcpListener,
    store: Box<dyn Store>,
    config: Config,
    mut shutdown: watch::Receiver<bool>,
    log: Log,
    alerts: Option<AlertSetup>,
    on_ready: impl FnOnce(Handle),
) -> Result<Arc<Stats>, GatewayError> {
    let (tx, rx) = mpsc::channel::<WriteRequest>(config.batch_max * 4);
    let stats = Arc::new(Stats::default());
    let writer_log = log.clone();
    let batch_max = config.batch_max;
    let window = config.commit_window;
    // The writer thread owns the store (a blocking client must not run on the async threads):
    // it reads the device registry first, then serves the queue. It holds only the receiving
    // end, so it ends when every sender is gone.
    let retain = config.retain_frames;
    let tick = alerts
        .as_ref()
        .map(|a| a.tick)
        .or(retain.map(|_| Duration::from_secs(60)));
    let (devices_tx, devices_rx) = oneshot::channel();
    let writer = std::thread::Builder::new()
        .name("rewater-store-writer".into())
        .spawn(move || {
            let mut store = store;
            let devices = store.devices();
            let engine = match (&devices, alerts) {
                (Ok(list), Some(setup)) => match build_engine(store.as_mut(), setup, list) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        writer_log(&format!("alerts disabled: {e}"));
                        None
                    }
                },
                _ => None,
            };
            let ok = devices.is_ok();
            let _ = devices_tx.send(devices);
            if ok {
                writer_loop(store, rx, batch_max, window, engine, retain, &*writer_log)
            }
        })?;
    let devices: HashMap<String, Device> = match devices_rx.await {
        Ok(list) => list?.into_iter().map(|d| (d.mn.clone(), d)).collect(),
        Err(_) => {
            return Err(GatewayError::Store(rewater_store::StoreError::Invalid(
                "the store writer stopped".into(),
            )))
        }
    };
    let shared = Arc::new(Shared {
        config: config.clone(),
        devices: RwLock::new(devices),
        per_address: Mutex::new(HashMap::new()),
        writer: tx,
        stats: stats.clone(),
        log,
    });
    if let Some(every) = tick {
        let writer_tx = shared.writer.clone();
        let mut sd = shutdown.clone();
        tokio::spawn(async move {
            let mut iv = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = iv.tick() => if writer_tx.send(WriteRequest::Tick).await.is_err() { return },
                    _ = sd.changed() => return,
                }
            }
        });
    }
    on_ready(Handle {
        shared: Arc::downgrade(&shared),
        stats: stats.clone(),
    });
    let limit = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() { break; }
            }
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        (shared.log)(&format!("accept: {e}"));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = limit.clone().try_acquire_owned() else {
                    shared.stats.refused_connections.fetch_add(1, Ordering::Relaxed);
                    drop(stream);
                    continue;
                };
                if !admit(&shared, peer.ip()) {
                    shared.stats.refused_connections.fetch_add(1, Ordering::Relaxed);
                    drop(stream);
                    continue;
                }
                shared.stats.connections.fetch_add(1, Ordering::Relaxed);
                let s = shared.clone();
                let sd = shutdown.clone();
                tasks.spawn(async move {
                    let _permit = permit;
                    let _ = stream.set_nodelay(true);
                    handle_connection(stream, peer, s.clone(), sd).await;
                    release(&s, peer.ip());
                });
                while tasks.try_join_next().is_some() {}
            }
        }
    }
    drop(listener);
    // Let connections finish the frame in hand (bounded).
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    tasks.abort_all();
    // Dropping the last sender ends the writer after it has committed what is queued.
    let stats = shared.stats.clone();
    drop(shared);
    let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    Ok(stats)
}

fn admit(shared: &Shared, ip: IpAddr) -> bool {
    let Ok(mut m) = shared.per_address.lock() else {
        return false;
    };
    let n = m.entry(ip).or_insert(0);
    if *n >= shared.config.max_per_address {
        return false;
    }
    *n += 1;
    true
}

fn release(shared: &Shared, ip: IpAddr) {
    if let Ok(mut m) = shared.per_address.lock() {
        if let Some(n) = m.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&ip);
            }
        }
    }
}

async fn handle_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let options = Options {
        lenient_tail: true,
        allow_oversize: true,
        accept_modbus_crc: true,
    };
    let mut decoder = Decoder::new(options);
    let mut buf = vec![0u8; 8192];
    let mut partial_since: Option<Instant> = None;
    let peer_s = peer.to_string();
    loop {
        let wait = match partial_since {
            Some(t) => shared.config.frame_timeout.saturating_sub(t.elapsed()),
            None => shared.config.idle_timeout,
        };
        let n = tokio::select! {
            r = tokio::time::timeout(wait, stream.read(&mut buf)) => match r {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => n,
                Err(_) => return, // idle, or a frame left unfinished too long
            },
            _ = shutdown.changed() => return,
        };
        decoder.push(&buf[..n]);
        while let Some(ev) = decoder.next_event() {
            match ev {
                Event::Garbage(n) => {
                    shared
                        .stats
                        .garbage_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
                Event::Invalid { raw, error } => {
                    shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
                    reject(
                        &shared,
                        &peer_s,
                        None,
                        None,
                        String::from_utf8_lossy(&raw).into_owned(),
                        RejectReason::BadFrame,
                        error.to_string(),
                    )
                    .await;
                }
                Event::Frame(frame) => {
                    shared.stats.frames.fetch_add(1, Ordering::Relaxed);
                    let arrived = Instant::now();
                    if let Some(reply) = on_frame(frame, &peer_s, &shared).await {
                        if stream.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                        shared
                            .stats
                            .ack_latency
                            .record(arrived.elapsed().as_secs_f64() * 1000.0);
                    }
                }
            }
        }
        partial_since = match decoder.pending() {
            0 => None,
            p if p > shared.config.max_pending_bytes => return,
            _ => partial_since.or_else(|| Some(Instant::now())),
        };
    }
}

async fn reject(
    shared: &Shared,
    peer: &str,
    mn: Option<String>,
    cn: Option<String>,
    raw: String,
    reason: RejectReason,
    detail: String,
) {
    let r = RejectedFrame {
        received_at_ms: now_ms(),
        peer: peer.to_string(),
        mn,
        cn,
        raw,
        reason,
        detail,
    };
    let _ = shared.writer.send(WriteRequest::Rejected(r)).await;
}

/// Handles one frame; returns the reply to send, if any.
async fn on_frame(frame: rewater_hj212::Frame, peer: &str, shared: &Shared) -> Option<String> {
    let modbus = frame.modbus_crc;
    let seg = match Segment::from_frame(frame.clone(), Strictness::Lenient) {
        Ok(s) => s,
        Err(e) => {
            shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
            reject(
                shared,
                peer,
                None,
                None,
                String::from_utf8_lossy(&frame.raw).into_owned(),
                RejectReason::BadSegment,
                e.to_string(),
            )
            .await;
            return None;
        }
    };
    let mn = seg.mn().unwrap_or("").to_string();
    let cn = seg.cn().unwrap_or("").to_string();
    let device = shared.devices.read().ok().and_then(|m| m.get(&mn).cloned());
    let peer_ip = peer.parse::<SocketAddr>().ok().map(|a| a.ip());
    let refuse = match &device {
        None => Some((RejectReason::UnknownDevice, format!("unknown MN '{mn}'"))),
        Some(d) if d.disabled => Some((RejectReason::DeviceDisabled, String::new())),
        Some(d)
            if !rewater_store::verify_device_password(seg.pw().unwrap_or(""), &d.password_hash) =>
        {
            Some((RejectReason::WrongPassword, String::new()))
        }
        Some(d) if !peer_ip.is_some_and(|ip| d.allows_peer(ip)) => {
            Some((RejectReason::PeerNotAllowed, String::new()))
        }
        Some(d) if modbus && !d.accept_modbus_crc => Some((RejectReason::ModbusCrc, String::new())),
        Some(_) => None,
    };
    if let Some((reason, detail)) = refuse {
        shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
        (shared.log)(&format!(
            "{peer}: refused frame from MN '{mn}': {}",
            reason.label().1
        ));
        reject(
            shared,
            peer,
            Some(mn),
            Some(cn),
            seg.raw().to_string(),
            reason,
            detail,
        )
        .await;
        return None;
    }
    match cn.as_str() {
        // Replies from the device to our requests: nothing to answer.
        "9011" | "9012" | "9013" | "9014" => None,
        "1013" => {
            // Time calibration: 9013 now, then 1012 with the server's (Beijing) time.
            let now =
                DataTime::from_wall_seconds(now_ms() / 1000 + shared.config.device_utc_offset_s);
            let mut reply = ack_9013(&seg);
            reply.push_str(&set_time_1012(
                &qn(now, (now_ms() % 1000) as u16),
                seg.st().unwrap_or("32"),
                seg.pw().unwrap_or(""),
                &mn,
                now,
            ));
            Some(reply)
        }
        _ => {
            let Some(upload) = to_upload(&seg, peer) else {
                // No DataTime or no values: keep the frame for audit, acknowledge if asked.
                reject(
                    shared,
                    peer,
                    Some(mn),
                    Some(cn.clone()),
                    seg.raw().to_string(),
                    RejectReason::NoReadings,
                    format!("CN {cn}"),
                )
                .await;
                return seg.ack_requested().then(|| ack_9014(&seg));
            };
            let n = upload.readings.len() as u64;
            let (tx, rx) = oneshot::channel();
            if shared
                .writer
                .send(WriteRequest::Upload(upload, tx))
                .await
                .is_err()
            {
                return None;
            }
            match rx.await.ok().flatten() {
                Some(IngestOutcome::Stored { .. }) => {
                    shared.stats.stored.fetch_add(1, Ordering::Relaxed);
                    shared.stats.readings.fetch_add(n, Ordering::Relaxed);
                }
                Some(IngestOutcome::Duplicate { .. }) => {
                    shared.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                }
                Some(IngestOutcome::Refused { reason }) => {
                    // Not stored and not acknowledged: counted with the other refusals.
                    shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
                    reject(
                        shared,
                        peer,
                        Some(mn),
                        Some(cn.clone()),
                        seg.raw().to_string(),
                        reason,
                        String::new(),
                    )
                    .await;
                    return None;
                }
                // Not stored: no acknowledgement, so the device sends it again.
                None => return None,
            }
            if seg.ack_requested() {
                shared.stats.acks.fetch_add(1, Ordering::Relaxed);
                Some(ack_9014(&seg))
            } else {
                None
            }
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
