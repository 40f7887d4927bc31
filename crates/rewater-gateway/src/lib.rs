//! The HJ 212 gateway (数据采集网关): accepts data-logger connections over TCP, checks each
//! device's MN, password (hashed, compared in constant time), source address and whether it is
//! disabled, stores readings, and sends the 9014 acknowledgement only after the batch holding
//! the upload is committed to the store. Duplicates (same MN, CN, DataTime, PNO) are
//! acknowledged and stored once; late and out-of-order (补发) data inside the store's DataTime
//! window are accepted; time calibration requests (1013) are answered with 9013 and a 1012
//! carrying the server time in the devices' zone.
//!
//! Protection: a global and a per-address connection limit, the open-file limit raised to the
//! hard limit, a handshake and an idle timeout that only accepted frames reset, a deadline for
//! completing a started frame, a cap on buffered bytes, connections closed after too many bad
//! frames in a row, each device's frames paced (20 a second after a burst of 600 by default),
//! rejected frames counted in memory and stored as a bounded sample, and refusals logged
//! (through `tracing`, fields `peer`, `mn`, `reason`) within a rate limit.
//! Changes to the device register or to a site's standard reach the running gateway through
//! the store's register version. Shutdown stops accepting, lets connections finish the frame
//! in hand, and commits what is queued before returning.

mod conn;
mod fold;
pub mod json;
pub mod limits;
mod platform;
mod reassembly;
mod rejects;
mod stats;
mod writer;

pub use conn::{to_upload, upload_from_text};
pub use limits::raise_open_file_limit;
pub use stats::{LatencyHistogram, Stats, LATENCY_BOUNDS_MS};

use rewater_store::prelude::*;
use rewater_store::{Device, IngestOutcome, IngestRules};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use writer::{Registry, WriteRequest, Writer};

/// Gateway settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub max_connections: usize,
    /// Connections from one IP address (many loggers may share a NAT address, so this is
    /// generous, but far below `max_connections`).
    pub max_per_address: usize,
    /// Close a connection that sent no accepted frame for this long.
    pub idle_timeout: Duration,
    /// A new connection must send its first accepted frame within this time.
    pub handshake_timeout: Duration,
    /// A frame that has started must complete within this time (slow-sender protection).
    pub frame_timeout: Duration,
    /// Bytes buffered without a complete frame before the connection is closed.
    pub max_pending_bytes: usize,
    /// Invalid or refused frames in a row before the connection is closed.
    pub max_bad_frames: u32,
    /// Most uploads committed in one transaction.
    pub batch_max: usize,
    /// Devices whose last verified password is kept (see `rewater_store::PasswordCache`).
    pub password_cache: usize,
    /// After the first upload of a batch arrives, wait this long for more before committing
    /// (group commit: fewer, larger transactions write far fewer pages per upload).
    pub commit_window: Duration,
    /// The devices' clock (DataTime is local time: Asia/Shanghai by default).
    pub zone: rewater_time::Zone,
    /// DataTimes older than this are refused (and make no PostgreSQL partition).
    pub max_data_age: Duration,
    /// DataTimes this far ahead of the server clock are refused.
    pub max_data_ahead: Duration,
    /// Keep raw frames this long (readings and aggregates are kept); `None` keeps them all.
    pub retain_frames: Option<Duration>,
    /// Keep rejected-frame counts and examples this long.
    pub retain_rejected: Duration,
    /// Log lines about refusals per reason and minute; the rest are counted.
    pub refusal_lines_per_minute: u32,
    /// How often the writer looks at the register version, rejected frames and retention
    /// when no upload arrives.
    pub housekeeping_every: Duration,
    /// Accepted frames per second and device, after a burst of `device_burst` (0 = unpaced).
    /// Loggers send a few uploads a minute and resend history (补发) at the pace of the
    /// acknowledgements; 20 a second lets three days of minute data through in 4 minutes.
    pub device_frames_per_s: f64,
    pub device_burst: u32,
    /// One of several gateways on one (PostgreSQL) store: each committed batch goes to the
    /// store's alert feed, and alerts are evaluated only by the gateway that holds the
    /// store's alert leadership, from that feed (see `rewater_store::cluster`).
    pub cluster: bool,
    /// How often a cluster gateway tries the leadership and, leading, reads the feed.
    pub feed_every: Duration,
    /// How often the hourly aggregates are folded in the background where the store defers
    /// them (PostgreSQL: see `rewater_store::fold`); zero adds them inside each batch.
    pub fold_every: Duration,
    /// Writer threads, each on its own store connection, committing batches in parallel
    /// where the store takes several writers (PostgreSQL); SQLite always has one. Three by
    /// default: on 2 shared cores it gave ack p50 10–20 ms against 18–26 ms with two
    /// (docs/benchmarks.md, province scale).
    pub writers: usize,
    /// Send a 1012 (set time) after a connection's first accepted frame, and when a frame's
    /// QN shows the logger's clock off by more than `clock_drift_limit` (at most once per
    /// `calibrate_every` and connection).
    pub calibrate: bool,
    pub clock_drift_limit: Duration,
    pub calibrate_every: Duration,
    /// Split packets (PNUM/PNO), held in the store: how long the parts of a record are
    /// held for the missing ones, most parts of one record, most bytes of one part, records
    /// assembled per device and in the whole store, and bytes held in the whole store.
    pub split_timeout: Duration,
    pub max_split_parts: u32,
    pub max_split_part_bytes: usize,
    pub max_split_sets_per_device: usize,
    pub max_split_sets: usize,
    pub max_split_bytes: usize,
    /// Send history requests (补发) for gaps and the API's logger commands to connected
    /// loggers (see `platform`).
    pub platform_requests: bool,
    /// How often the platform loop runs (timeouts, queued commands, gap scans).
    pub platform_every: Duration,
    /// A connected logger's data are scanned for gaps this long after it connects (its live
    /// uploads and its own resending come first), then every `gap_scan_every`.
    pub gap_scan_delay: Duration,
    pub gap_scan_every: Duration,
    /// Loggers scanned per platform tick at most.
    pub gap_scans_per_tick: usize,
    pub gap_limits: rewater_store::GapLimits,
    /// A request without any answer for this long is given up.
    pub request_timeout: Duration,
    /// Pause between two requests to one logger.
    pub request_spacing: Duration,
    /// A gap not filled by a history request is asked again after this long …
    pub request_retry_after: Duration,
    /// … at most this many times in all, then given up.
    pub max_gap_requests: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_connections: 20_000,
            max_per_address: 256,
            idle_timeout: Duration::from_secs(900),
            handshake_timeout: Duration::from_secs(120),
            frame_timeout: Duration::from_secs(30),
            max_pending_bytes: 64 * 1024,
            max_bad_frames: 32,
            batch_max: 512,
            password_cache: 100_000,
            commit_window: Duration::ZERO,
            zone: rewater_time::Zone::default(),
            max_data_age: Duration::from_secs(rewater_store::ingest::DEFAULT_MAX_AGE_S as u64),
            max_data_ahead: Duration::from_secs(rewater_store::ingest::DEFAULT_MAX_AHEAD_S as u64),
            retain_frames: None,
            retain_rejected: Duration::from_secs(30 * 86_400),
            refusal_lines_per_minute: 20,
            housekeeping_every: Duration::from_secs(5),
            device_frames_per_s: 20.0,
            device_burst: 600,
            cluster: false,
            feed_every: Duration::from_millis(250),
            writers: 3,
            fold_every: Duration::from_secs(30),
            calibrate: true,
            clock_drift_limit: Duration::from_secs(60),
            calibrate_every: Duration::from_secs(600),
            split_timeout: Duration::from_secs(60),
            max_split_parts: 64,
            max_split_part_bytes: 16 << 10,
            max_split_sets_per_device: 16,
            max_split_sets: 10_000,
            max_split_bytes: 32 << 20,
            platform_requests: true,
            platform_every: Duration::from_secs(1),
            gap_scan_delay: Duration::from_secs(60),
            gap_scan_every: Duration::from_secs(600),
            gap_scans_per_tick: 20,
            gap_limits: rewater_store::GapLimits::default(),
            request_timeout: Duration::from_secs(30),
            request_spacing: Duration::from_secs(5),
            request_retry_after: Duration::from_secs(300),
            max_gap_requests: 3,
        }
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

/// What the gateway needs to raise alerts as data arrive.
pub struct AlertSetup {
    pub standards: rewater_standards::Standards,
    pub settings: rewater_alerts::Settings,
    /// Regional-model node → nodes downstream of it (empty without a model).
    pub downstream: HashMap<String, Vec<String>>,
    /// How often to look for devices that went silent.
    pub tick: Duration,
    /// Called with each batch of new alerts once they are stored (alert push); it must not
    /// block (the writer thread calls it).
    pub on_raised: Option<AlertSink>,
}

/// Receives new alerts after they are stored.
pub type AlertSink = Arc<dyn Fn(&[rewater_store::NewAlertRow]) + Send + Sync>;

pub(crate) struct Shared {
    config: Config,
    registry: Registry,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    writer: mpsc::Sender<WriteRequest>,
    rejects: Arc<rejects::RejectBuffer>,
    log_limiter: limits::LogLimiter,
    device_pace: limits::DevicePace,
    stats: Arc<Stats>,
    sessions: platform::Sessions,
    split_limits: rewater_store::SplitLimits,
    next_conn: std::sync::atomic::AtomicU64,
    passwords: rewater_store::PasswordCache,
}

impl Shared {
    /// Whether `pw` is device `d`'s password (a SHA-256 only for a password not seen to
    /// verify before against the device's current hash).
    pub(crate) fn password_ok(&self, d: &Device, pw: &str) -> bool {
        let check = self.passwords.check(&d.mn, pw, &d.password_hash);
        if check != rewater_store::PasswordCheck::Cached {
            self.stats.password_hashes.fetch_add(1, Ordering::Relaxed);
        }
        check.ok()
    }
}

/// A handle to change the device registry while the gateway runs. It does not keep the
/// gateway alive.
#[derive(Clone)]
pub struct Handle {
    shared: std::sync::Weak<Shared>,
    stats: Arc<Stats>,
}

impl Handle {
    /// Registers or updates a device in the running gateway (the store is not changed; the
    /// next change of the store's register replaces the whole registry).
    pub fn put_device(&self, d: Device) {
        if let Some(s) = self.shared.upgrade() {
            if let Ok(mut m) = s.registry.write() {
                m.insert(d.mn.clone(), d);
            }
        }
    }
    /// Live counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Whether a device may send as `mn` with password `pw` over a transport that has no
    /// source address of its own (MQTT through a broker): the same register and checks as
    /// on TCP, except that a device limited to source addresses is refused (the broker
    /// hides the address).
    pub fn authenticate(&self, mn: &str, pw: &str) -> Result<(), rewater_store::RejectReason> {
        use rewater_store::RejectReason;
        let shared = self.shared.upgrade().ok_or(RejectReason::StoreRefused)?;
        let registry = shared
            .registry
            .read()
            .map_err(|_| RejectReason::UnknownDevice)?;
        let d = registry.get(mn).ok_or(RejectReason::UnknownDevice)?;
        if d.disabled {
            return Err(RejectReason::DeviceDisabled);
        }
        if !shared.password_ok(d, pw) {
            return Err(RejectReason::WrongPassword);
        }
        if !d.allowed_peers.is_empty() {
            return Err(RejectReason::PeerNotAllowed);
        }
        Ok(())
    }

    /// Queues an upload for the store writer (the same batches as TCP uploads) and waits for
    /// its commit: `None` if it was not stored (the store failed or the gateway stopped; the
    /// sender must deliver it again), else what became of it. Nothing is acknowledged here.
    pub async fn submit(&self, upload: rewater_store::Upload) -> Option<IngestOutcome> {
        let writer = self.shared.upgrade()?.writer.clone();
        let (tx, rx) = oneshot::channel();
        writer.send(WriteRequest::Upload(upload, tx)).await.ok()?;
        let outcome = rx.await.ok().flatten()?;
        match outcome {
            IngestOutcome::Stored { .. } => self.stats.stored.fetch_add(1, Ordering::Relaxed),
            IngestOutcome::Duplicate { .. } => {
                self.stats.duplicates.fetch_add(1, Ordering::Relaxed)
            }
            IngestOutcome::Refused { .. } => self.stats.rejected.fetch_add(1, Ordering::Relaxed),
        };
        Some(outcome)
    }

    /// Holds one part of a split record (an HJ 212 frame with PNUM/PNO, from a transport
    /// without connections of its own: MQTT) in the store, as TCP parts are
    /// ([`reassembly`]): `None` if it was not stored (the sender must deliver it again), else
    /// what became of it, counted as on TCP (a refusal with the rejected frames, under
    /// `peer`), and the whole record's upload if this part completed it and it was stored.
    /// Nothing is acknowledged here.
    pub async fn submit_split_part(
        &self,
        seg: &rewater_hj212::Segment,
        peer: &str,
    ) -> Option<(rewater_store::SplitOutcome, Option<rewater_store::Upload>)> {
        let shared = self.shared.upgrade()?;
        let part = reassembly::OwnedPart::of(seg, peer)?;
        let (outcome, whole) = reassembly::add(&shared, part).await?;
        conn::split_counted(&shared, &outcome, |reason, detail| {
            let (mn, cn) = (seg.mn(), seg.cn());
            conn::reject(&shared, peer, mn, cn, seg.raw().as_bytes(), reason, detail);
        });
        Some((outcome, whole))
    }

    /// Counts a refused message in the store's rejected-frame sample (as for TCP frames).
    pub fn reject(
        &self,
        peer: &str,
        mn: Option<&str>,
        raw: &[u8],
        reason: rewater_store::RejectReason,
        detail: String,
    ) {
        if let Some(s) = self.shared.upgrade() {
            conn::reject(&s, peer, mn, None, raw, reason, detail);
        }
    }
}

/// Starts the writer thread: it reads the register, builds the alert engine, then serves the
/// queue. Returns the registry it read.
fn start_writer(
    mut store: Box<dyn Store>,
    config: &Config,
    alerts: Option<AlertSetup>,
    rx: mpsc::Receiver<WriteRequest>,
    rejects: Arc<rejects::RejectBuffer>,
    stats: Arc<Stats>,
) -> Result<(Registry, std::thread::JoinHandle<()>), GatewayError> {
    store.set_ingest_rules(IngestRules {
        max_age_s: config.max_data_age.as_secs().min(i64::MAX as u64) as i64,
        max_ahead_s: config.max_data_ahead.as_secs().min(i64::MAX as u64) as i64,
        zone: config.zone.clone(),
        now_unix_s: None,
        feed: config.cluster,
    });
    // Read before the devices, so that a change in between is seen at the first batch.
    let version = store.config_version()?;
    let devices = store.devices()?;
    let engine = match &alerts {
        Some(setup) => match Writer::engine_for(store.as_mut(), setup, &devices, &config.zone) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::error!(error = %e, "alerts disabled: sites not readable");
                None
            }
        },
        None => None,
    };
    // Before the helpers are opened: they take deferral from this connection.
    let folder = fold::Folder::start(store.as_mut(), config.fold_every, stats.clone());
    let registry: Registry = Arc::new(RwLock::new(
        devices.into_iter().map(|d| (d.mn.clone(), d)).collect(),
    ));
    let rules_base = alerts
        .as_ref()
        .map(|a| (a.standards.clone(), a.settings.clone()));
    let (downstream, alert_tick, on_raised) = match alerts {
        Some(a) => (a.downstream, a.tick, a.on_raised),
        None => (HashMap::new(), Duration::from_secs(60), None),
    };
    let mut writer = Writer {
        store,
        batch_max: config.batch_max,
        window: config.commit_window,
        engine,
        downstream,
        alert_tick,
        registry: registry.clone(),
        rejects,
        stats,
        config_version: version,
        retain_frames: config.retain_frames,
        retain_rejected: config.retain_rejected,
        zone: config.zone.clone(),
        on_raised,
        cluster: config.cluster,
        leading: false,
        rules_base,
        stored_outside: Vec::new(),
    };
    // Helper writers, each on a connection of its own, where the store takes them.
    let mut helpers = Vec::new();
    for _ in 1..config.writers.max(1) {
        match writer.store.another_writer() {
            Ok(Some(mut s)) => {
                s.set_ingest_rules(writer.store.ingest_rules().clone());
                helpers.push(s);
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "a second store writer could not connect");
                break;
            }
        }
    }
    let rx: writer::SharedQueue = Arc::new(Mutex::new(rx));
    let (to_main, from_helpers) = std::sync::mpsc::channel();
    let mut threads = Vec::new();
    for (i, store) in helpers.into_iter().enumerate() {
        // No engine, no leadership, no retention: the main writer does those.
        let helper = Writer {
            store,
            batch_max: writer.batch_max,
            window: writer.window,
            engine: None,
            downstream: HashMap::new(),
            alert_tick: writer.alert_tick,
            registry: writer.registry.clone(),
            rejects: writer.rejects.clone(),
            stats: writer.stats.clone(),
            config_version: writer.config_version,
            retain_frames: None,
            retain_rejected: writer.retain_rejected,
            zone: writer.zone.clone(),
            on_raised: None,
            cluster: writer.cluster,
            leading: false,
            rules_base: None,
            stored_outside: Vec::new(),
        };
        let (rx, to_main) = (rx.clone(), to_main.clone());
        threads.push(
            std::thread::Builder::new()
                .name(format!("rewater-store-writer-{}", i + 1))
                .spawn(move || helper.run(rx, writer::Role::Helper(to_main)))?,
        );
    }
    drop(to_main);
    let main_role = writer::Role::Main((!threads.is_empty()).then_some(from_helpers));
    // The writer threads own the store connections (a blocking client must not run on the
    // async threads). They hold only the receiving end, so they end when every sender is gone.
    let main = std::thread::Builder::new()
        .name("rewater-store-writer".into())
        .spawn(move || writer.run(rx, main_role))?;
    let handle = std::thread::Builder::new()
        .name("rewater-store-writers".into())
        .spawn(move || {
            for t in threads {
                let _ = t.join();
            }
            let _ = main.join();
            if let Some(f) = folder {
                f.finish();
            }
        })?;
    Ok((registry, handle))
}

/// Serves on `listener` until `shutdown` turns true; then drains and returns.
pub async fn serve(
    listener: TcpListener,
    store: Box<dyn Store>,
    config: Config,
    mut shutdown: watch::Receiver<bool>,
    alerts: Option<AlertSetup>,
    on_ready: impl FnOnce(Handle),
) -> Result<Arc<Stats>, GatewayError> {
    match raise_open_file_limit() {
        Ok((old, new)) if new > old => tracing::info!(old, new, "open-file limit raised"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "open-file limit not raised"),
    }
    let (tx, rx) = mpsc::channel::<WriteRequest>(config.batch_max * 4);
    let stats = Arc::new(Stats::default());
    let rejects = Arc::new(rejects::RejectBuffer::default());
    // The store is opened and read on a blocking thread.
    let (ready_tx, ready_rx) = oneshot::channel();
    {
        let (config, rejects, stats) = (config.clone(), rejects.clone(), stats.clone());
        std::thread::Builder::new()
            .name("rewater-store-open".into())
            .spawn(move || {
                let _ = ready_tx.send(start_writer(store, &config, alerts, rx, rejects, stats));
            })?;
    }
    let (registry, writer) = ready_rx.await.map_err(|_| {
        GatewayError::Store(rewater_store::StoreError::Invalid(
            "the store writer stopped".into(),
        ))
    })??;
    let shared = Arc::new(Shared {
        log_limiter: limits::LogLimiter::new(
            config.refusal_lines_per_minute,
            Duration::from_secs(60),
        ),
        device_pace: limits::DevicePace::new(config.device_frames_per_s, config.device_burst),
        config: config.clone(),
        registry,
        per_address: Mutex::new(HashMap::new()),
        writer: tx,
        rejects,
        stats: stats.clone(),
        sessions: platform::Sessions::default(),
        split_limits: rewater_store::SplitLimits {
            max_parts: config.max_split_parts,
            max_part_bytes: config.max_split_part_bytes,
            max_records_per_device: config.max_split_sets_per_device as i64,
            max_records: config.max_split_sets as i64,
            max_bytes: config.max_split_bytes as i64,
        },
        next_conn: std::sync::atomic::AtomicU64::new(1),
        passwords: rewater_store::PasswordCache::new(config.password_cache),
    });
    let every = if config.cluster {
        config.housekeeping_every.min(config.feed_every)
    } else {
        config.housekeeping_every
    };
    spawn_ticker(&shared, every, shutdown.clone());
    tokio::spawn(platform::run(shared.clone(), shutdown.clone()));
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
                        // Out of descriptors, typically: wait, do not spin.
                        tracing::warn!(error = %e, "accept failed");
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
                    conn::handle_connection(stream, peer, s.clone(), sd).await;
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

/// Wakes the writer for housekeeping (register version, rejected frames, alerts, retention).
fn spawn_ticker(shared: &Arc<Shared>, every: Duration, mut shutdown: watch::Receiver<bool>) {
    let writer_tx = shared.writer.clone();
    tokio::spawn(async move {
        let mut iv = tokio::time::interval(every.max(Duration::from_millis(10)));
        loop {
            tokio::select! {
                _ = iv.tick() => if writer_tx.send(WriteRequest::Tick).await.is_err() { return },
                _ = shutdown.changed() => return,
            }
        }
    });
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
