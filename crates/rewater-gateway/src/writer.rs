//! The store writer: one thread owns the store, commits queued uploads in batches and answers
//! each one after the commit; it also writes the counted rejected frames, runs the alert
//! engine, applies retention, and reloads the device register and the alert rules when the
//! store's register version moves (a standard changed on a site, a device added, disabled or
//! given a new password, a maintenance window set or removed) — no restart needed.

use crate::rejects::RejectBuffer;
use crate::stats::Stats;
use rewater_store::prelude::*;
use rewater_store::{Device, IngestOutcome, Site, Upload};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The queue several writers may share.
pub(crate) type SharedQueue = Arc<std::sync::Mutex<mpsc::Receiver<WriteRequest>>>;

/// A writer's part: the main one (with the helpers' channel, if there are helpers) or a
/// helper handing its stored uploads to the main one for alert evaluation.
pub(crate) enum Role {
    Main(Option<std::sync::mpsc::Receiver<Vec<Upload>>>),
    Helper(std::sync::mpsc::Sender<Vec<Upload>>),
}

pub(crate) enum WriteRequest {
    Upload(Upload, oneshot::Sender<Option<IngestOutcome>>),
    /// Time passes, or rejected frames wait: housekeeping.
    Tick,
    /// A store call of the platform side (gaps, logger commands), run on the writer's
    /// connection between batches.
    Run(StoreCall),
    /// An upload stored by a store call (a completed split record): alerts are evaluated
    /// for it as for a batch's.
    Evaluate(Box<Upload>),
}

/// A store call run on a writer thread.
pub(crate) type StoreCall = Box<dyn FnOnce(&mut dyn Store) + Send>;

/// The device register as the connections read it.
pub(crate) type Registry = Arc<RwLock<HashMap<String, Device>>>;

pub(crate) fn now_ms() -> i64 {
    rewater_time::now_unix_ms()
}

/// Each device's site rules for the alert engine.
fn rules_of(devices: &[Device], sites: &[Site]) -> Vec<(String, rewater_alerts::SiteRules)> {
    let sites: HashMap<&str, &Site> = sites.iter().map(|s| (s.id.as_str(), s)).collect();
    devices
        .iter()
        .filter_map(|d| {
            let site = sites.get(d.site_id.as_str())?;
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
        .collect()
}

/// What the writer needs besides the queue.
pub(crate) struct Writer {
    pub store: Box<dyn Store>,
    pub batch_max: usize,
    pub window: Duration,
    pub engine: Option<rewater_alerts::AlertEngine>,
    pub downstream: HashMap<String, Vec<String>>,
    pub alert_tick: Duration,
    pub registry: Registry,
    pub rejects: Arc<RejectBuffer>,
    pub stats: Arc<Stats>,
    pub config_version: i64,
    pub retain_frames: Option<Duration>,
    pub retain_rejected: Duration,
    /// The devices' clock, to place maintenance windows on data times.
    pub zone: rewater_time::Zone,
    pub on_raised: Option<crate::AlertSink>,
    /// One of several gateways: alerts come from the store's feed, on the leader only.
    pub cluster: bool,
    /// Whether this gateway holds the alert leadership (cluster only).
    pub leading: bool,
    /// Standards and settings, to rebuild the engine when the leadership is taken.
    pub rules_base: Option<(rewater_standards::Standards, rewater_alerts::Settings)>,
    /// Uploads stored outside a batch, to evaluate ([`WriteRequest::Evaluate`]).
    pub stored_outside: Vec<Upload>,
}

/// Maintenance windows ending less than this long ago still matter (late data, 补发).
const MAINTENANCE_LOOKBACK_MS: i64 = 31 * 86_400_000;

/// The store's maintenance windows in the alert engine's two clocks.
fn maintenance_of(
    store: &mut dyn Store,
    zone: &rewater_time::Zone,
) -> rewater_store::Result<Vec<rewater_alerts::Maintenance>> {
    let windows = store.maintenance(None, now_ms() - MAINTENANCE_LOOKBACK_MS)?;
    Ok(windows
        .into_iter()
        .map(|w| {
            let (from, to) = (w.from_ms.div_euclid(1000), w.to_ms.div_euclid(1000));
            rewater_alerts::Maintenance {
                mn: w.mn,
                from_wall_s: zone.wall_seconds(from),
                to_wall_s: zone.wall_seconds(to),
                from_unix_s: from,
                to_unix_s: to,
            }
        })
        .collect())
}

impl Writer {
    /// Builds the alert engine from the store's sites and devices.
    pub fn engine_for(
        store: &mut dyn Store,
        setup: &crate::AlertSetup,
        devices: &[Device],
        zone: &rewater_time::Zone,
    ) -> rewater_store::Result<rewater_alerts::AlertEngine> {
        let sites = store.sites()?;
        let maintenance = maintenance_of(store, zone)?;
        let mut engine = rewater_alerts::AlertEngine::new(
            setup.standards.clone(),
            setup.settings.clone(),
            rules_of(devices, &sites),
            &setup.downstream,
        );
        engine.set_maintenance(maintenance);
        let now = now_ms() / 1000;
        for d in devices {
            engine.expect(&d.mn, now);
        }
        Ok(engine)
    }

    /// Serves the queue until every sender is gone, then commits what is left. Several
    /// writers may share the queue (each takes a batch under the lock, then commits it on its
    /// own connection while the next one gathers the next batch); the main one (`Main`) holds
    /// the alert engine and evaluates what the helpers stored too.
    pub fn run(mut self, rx: SharedQueue, role: Role) {
        let mut uploads = Vec::with_capacity(self.batch_max);
        let mut replies = Vec::with_capacity(self.batch_max);
        let mut last_alert_tick = Instant::now();
        let mut last_purge = Instant::now();
        let mut tick = false;
        let mut log = BatchLog::default();
        while self.gather(&rx, &mut uploads, &mut replies, &mut tick) {
            self.write_rejected();
            self.reload_if_changed();
            // Only the main writer (the one with the rules) leads.
            if tick && self.cluster && self.rules_base.is_some() {
                self.lead_and_evaluate();
            }
            let alert_due = last_alert_tick.elapsed() >= self.alert_tick;
            if alert_due && (!self.cluster || self.leading) && self.engine.is_some() {
                last_alert_tick = Instant::now();
                if let Some(e) = self.engine.as_mut() {
                    let out = e.on_tick(now_ms() / 1000);
                    record_alerts(
                        self.store.as_mut(),
                        out,
                        self.on_raised.as_ref(),
                        self.cluster,
                    );
                }
            }
            if tick
                && matches!(role, Role::Main(_))
                && last_purge.elapsed() >= Duration::from_secs(60)
            {
                last_purge = Instant::now();
                self.purge();
            }
            if !uploads.is_empty() {
                self.write_batch(&mut uploads, &mut replies, &role, &mut log);
            }
            if !self.stored_outside.is_empty() {
                let outside = std::mem::take(&mut self.stored_outside);
                match &role {
                    Role::Helper(to_main) if !self.cluster => {
                        let _ = to_main.send(outside);
                    }
                    _ => self.evaluate_stored(outside.iter()),
                }
            }
            if let Role::Main(Some(helpers)) = &role {
                let stored: Vec<Vec<Upload>> = helpers.try_iter().collect();
                self.evaluate_stored(stored.iter().flatten());
            }
        }
        self.write_rejected();
        log.report(matches!(role, Role::Main(_)));
        // The helpers end with the queue; evaluate what they stored last.
        if let Role::Main(Some(helpers)) = &role {
            let stored: Vec<Vec<Upload>> = helpers.iter().collect();
            self.evaluate_stored(stored.iter().flatten());
        }
    }

    /// Takes the next batch from the queue (under its lock); false once the queue is closed.
    fn gather(
        &mut self,
        rx: &SharedQueue,
        uploads: &mut Vec<Upload>,
        replies: &mut Vec<oneshot::Sender<Option<IngestOutcome>>>,
        tick: &mut bool,
    ) -> bool {
        *tick = false;
        let Ok(mut rx) = rx.lock() else {
            return false;
        };
        let Some(first) = rx.blocking_recv() else {
            return false;
        };
        // Group commit: let more uploads arrive before writing the batch.
        if !self.window.is_zero() {
            std::thread::sleep(self.window);
        }
        let mut next = Some(first);
        while let Some(req) = next.take() {
            match req {
                WriteRequest::Upload(u, tx) => {
                    uploads.push(u);
                    replies.push(tx);
                }
                WriteRequest::Tick => *tick = true,
                WriteRequest::Run(f) => f(self.store.as_mut()),
                WriteRequest::Evaluate(u) => self.stored_outside.push(*u),
            }
            if uploads.len() >= self.batch_max {
                break;
            }
            next = rx.try_recv().ok();
        }
        true
    }

    /// Runs the alert engine (if this writer has it) over uploads stored by the helpers.
    fn evaluate_stored<'a>(&mut self, uploads: impl Iterator<Item = &'a Upload>) {
        if self.cluster {
            return;
        }
        if let Some(e) = self.engine.as_mut() {
            let out = evaluate(e, uploads);
            record_alerts(self.store.as_mut(), out, self.on_raised.as_ref(), false);
        }
    }

    fn write_batch(
        &mut self,
        uploads: &mut Vec<Upload>,
        replies: &mut Vec<oneshot::Sender<Option<IngestOutcome>>>,
        role: &Role,
        log: &mut BatchLog,
    ) {
        let started = Instant::now();
        let oldest_ms = uploads.iter().map(|u| u.received_at_ms).min().unwrap_or(0);
        let waited = Duration::from_millis((now_ms() - oldest_ms).max(0) as u64);
        let result = self.store.ingest(uploads);
        log.record(uploads.len(), started.elapsed(), waited);
        match result {
            Ok(outcomes) => {
                let stored: Vec<bool> = outcomes
                    .iter()
                    .map(|o| matches!(o, IngestOutcome::Stored { .. }))
                    .collect();
                for (tx, o) in replies.drain(..).zip(outcomes) {
                    let _ = tx.send(Some(o));
                }
                // Alerts after the acknowledgements: they do not delay the devices. In a
                // cluster the leader evaluates the batch from the store's feed instead; a
                // helper writer hands its stored uploads to the main one.
                if let (Role::Helper(to_main), false) = (role, self.cluster) {
                    let mine: Vec<Upload> = std::mem::take(uploads)
                        .into_iter()
                        .zip(&stored)
                        .filter_map(|(u, s)| s.then_some(u))
                        .collect();
                    if !mine.is_empty() {
                        let _ = to_main.send(mine);
                    }
                } else if let Some(e) = self.engine.as_mut().filter(|_| !self.cluster) {
                    let stored = uploads.iter().zip(&stored).filter(|(_, s)| **s);
                    let out = evaluate(e, stored.map(|(u, _)| u));
                    record_alerts(
                        self.store.as_mut(),
                        out,
                        self.on_raised.as_ref(),
                        self.cluster,
                    );
                }
            }
            Err(e) => {
                // Nothing is acknowledged: the devices will resend.
                tracing::error!(uploads = uploads.len(), error = %e, "batch not stored");
                for tx in replies.drain(..) {
                    let _ = tx.send(None);
                }
            }
        }
        uploads.clear();
    }

    fn write_rejected(&mut self) {
        let frames = self.rejects.take();
        if frames.is_empty() {
            return;
        }
        if let Err(e) = self.store.log_rejected(&frames) {
            tracing::warn!(frames = frames.len(), error = %e, "rejected frames not counted");
        }
    }

    fn purge(&mut self) {
        if let Some(keep) = self.retain_frames {
            if let Err(e) = self.store.purge_frames(now_ms() - keep.as_millis() as i64) {
                tracing::warn!(error = %e, "frame retention purge failed");
            }
        }
        let keep = self.retain_rejected.as_millis() as i64;
        if let Err(e) = self.store.purge_rejected(now_ms() - keep) {
            tracing::warn!(error = %e, "rejected-frame retention purge failed");
        }
    }

    /// Reloads devices and alert rules when the register's version moved.
    fn reload_if_changed(&mut self) {
        let v = match self.store.config_version() {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "register version not readable");
                return;
            }
        };
        if v == self.config_version {
            return;
        }
        let (devices, sites) = match (self.store.devices(), self.store.sites()) {
            (Ok(d), Ok(s)) => (d, s),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "register not reloaded");
                return;
            }
        };
        let maintenance = match maintenance_of(self.store.as_mut(), &self.zone) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "maintenance windows not reloaded");
                return;
            }
        };
        if let Some(e) = self.engine.as_mut() {
            e.set_rules(rules_of(&devices, &sites), &self.downstream);
            e.set_maintenance(maintenance);
            let now = now_ms() / 1000;
            for d in &devices {
                e.expect(&d.mn, now);
            }
        }
        let map: HashMap<String, Device> = devices.into_iter().map(|d| (d.mn.clone(), d)).collect();
        tracing::info!(
            version = v,
            devices = map.len(),
            "device register and alert rules reloaded"
        );
        if let Ok(mut r) = self.registry.write() {
            *r = map;
        }
        self.config_version = v;
        self.stats.reloads.fetch_add(1, Ordering::Relaxed);
    }
}

/// Batch commits above this are logged one by one (with the wall clock, to line them up with
/// PostgreSQL's log: checkpoints, autovacuum).
const SLOW_BATCH: Duration = Duration::from_millis(80);

/// Commit times are counted in 1 ms buckets up to this; longer ones share the last bucket.
const COMMIT_BUCKETS: usize = 2_000;

/// What one writer committed: batch sizes and commit times, reported when it stops, so a
/// latency tail can be told apart from the store's commits (docs/benchmarks.md, issue 19).
/// Fixed size: a gateway that runs for months keeps counters and a histogram, not a list.
struct BatchLog {
    batches: u64,
    uploads: u64,
    max_batch: usize,
    commit_total: Duration,
    commit_max: Duration,
    commit_hist_ms: Vec<u64>,
    /// Per batch, how long its oldest upload had waited for a writer (parse to batch start).
    wait_max: Duration,
    wait_hist_ms: Vec<u64>,
    slow_logged: u32,
}

impl Default for BatchLog {
    fn default() -> Self {
        BatchLog {
            batches: 0,
            uploads: 0,
            max_batch: 0,
            commit_total: Duration::ZERO,
            commit_max: Duration::ZERO,
            commit_hist_ms: vec![0; COMMIT_BUCKETS],
            wait_max: Duration::ZERO,
            wait_hist_ms: vec![0; COMMIT_BUCKETS],
            slow_logged: 0,
        }
    }
}

impl BatchLog {
    fn record(&mut self, n: usize, took: Duration, waited: Duration) {
        self.wait_max = self.wait_max.max(waited);
        self.wait_hist_ms[(waited.as_millis() as usize).min(COMMIT_BUCKETS - 1)] += 1;
        self.batches += 1;
        self.uploads += n as u64;
        self.max_batch = self.max_batch.max(n);
        self.commit_total += took;
        self.commit_max = self.commit_max.max(took);
        let bucket = (took.as_millis() as usize).min(COMMIT_BUCKETS - 1);
        self.commit_hist_ms[bucket] += 1;
        if took >= SLOW_BATCH && self.slow_logged < 50 {
            self.slow_logged += 1;
            let ms = took.as_secs_f64() * 1000.0;
            tracing::info!(uploads = n, ms = format!("{ms:.1}"), "slow batch commit");
        }
    }

    /// The time (ms, bucket's upper edge) below which a share `p` of batches fall, in a
    /// histogram of 1 ms buckets.
    fn quantile_ms(&self, hist: &[u64], p: f64) -> usize {
        let want = ((self.batches as f64) * p).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (ms, &n) in hist.iter().enumerate() {
            seen += n;
            if seen >= want {
                return ms + 1;
            }
        }
        COMMIT_BUCKETS
    }

    fn report(&self, main: bool) {
        if self.batches == 0 {
            return;
        }
        tracing::info!(
            main,
            batches = self.batches,
            uploads = self.uploads,
            mean_batch = format!("{:.1}", self.uploads as f64 / self.batches as f64),
            max_batch = self.max_batch,
            commit_p50_ms = self.quantile_ms(&self.commit_hist_ms, 0.5),
            commit_p99_ms = self.quantile_ms(&self.commit_hist_ms, 0.99),
            commit_max_ms = format!("{:.1}", self.commit_max.as_secs_f64() * 1000.0),
            commit_total_s = format!("{:.1}", self.commit_total.as_secs_f64()),
            wait_p50_ms = self.quantile_ms(&self.wait_hist_ms, 0.5),
            wait_p99_ms = self.quantile_ms(&self.wait_hist_ms, 0.99),
            wait_max_ms = self.wait_max.as_millis() as u64,
            "writer stopped"
        );
    }
}

/// Runs the engine over stored uploads.
fn evaluate<'a>(
    e: &mut rewater_alerts::AlertEngine,
    uploads: impl Iterator<Item = &'a Upload>,
) -> rewater_alerts::Outcome {
    let now_s = now_ms() / 1000;
    let mut out = rewater_alerts::Outcome::default();
    for u in uploads {
        let values: Vec<rewater_alerts::Value<'_>> = u
            .readings
            .iter()
            .map(|r| {
                // What the store kept: implausible values carry T or D.
                let (value, flag) = rewater_store::ingest::stored_value_and_flag(r);
                rewater_alerts::Value {
                    factor: &r.factor,
                    value,
                    flag,
                }
            })
            .collect();
        let o = e.on_upload(&u.mn, &u.cn, u.data_time, &values, now_s);
        out.raised.extend(o.raised);
        out.recovered.extend(o.recovered);
    }
    out
}

/// Feed batches read per pass, and the time a pass may take before the queue is served.
const FEED_BATCHES: i64 = 64;
const FEED_PASS: Duration = Duration::from_millis(200);

impl Writer {
    /// Cluster: takes or keeps the alert leadership and, leading, evaluates the batches that
    /// any gateway committed, from the store's feed, each once.
    fn lead_and_evaluate(&mut self) {
        let lead = match self.store.try_lead("alerts") {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "alert leadership not checked");
                false
            }
        };
        if lead && !self.leading {
            tracing::info!("this gateway now evaluates the alerts of the cluster");
            self.stats.leaderships.fetch_add(1, Ordering::Relaxed);
            // Start from the store's register, not from state of an earlier leadership.
            self.config_version = -1;
            self.reload_if_changed();
            if let (Some((standards, settings)), Ok(devices)) =
                (self.rules_base.clone(), self.store.devices())
            {
                let setup = crate::AlertSetup {
                    standards,
                    settings,
                    downstream: self.downstream.clone(),
                    tick: self.alert_tick,
                    on_raised: None,
                };
                match Writer::engine_for(self.store.as_mut(), &setup, &devices, &self.zone) {
                    Ok(e) => self.engine = Some(e),
                    Err(e) => tracing::error!(error = %e, "alerts disabled: sites not readable"),
                }
            }
        }
        self.leading = lead;
        if !lead {
            return;
        }
        let started = Instant::now();
        while started.elapsed() < FEED_PASS {
            let batches = match self.store.alert_feed(FEED_BATCHES) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "alert feed not read");
                    return;
                }
            };
            if batches.is_empty() {
                return;
            }
            let uploads: Vec<Upload> = batches
                .iter()
                .flat_map(|b| &b.frames)
                .filter_map(crate::conn::upload_from_stored)
                .collect();
            if let Some(e) = self.engine.as_mut() {
                let out = evaluate(e, uploads.iter());
                record_alerts(
                    self.store.as_mut(),
                    out,
                    self.on_raised.as_ref(),
                    self.cluster,
                );
            }
            self.stats
                .feed_uploads
                .fetch_add(uploads.len() as u64, Ordering::Relaxed);
            let ids: Vec<i64> = batches.iter().map(|b| b.id).collect();
            if let Err(e) = self.store.done_alert_feed(&ids) {
                tracing::warn!(error = %e, "alert feed not advanced");
                return;
            }
        }
    }
}

/// Drops raised alerts whose episode the store already holds open (a leader that took over
/// from a dead one starts without its engine's memory, and may see a batch again).
fn without_open_episodes(store: &mut dyn Store, out: &mut rewater_alerts::Outcome) {
    if out.raised.is_empty() {
        return;
    }
    let mut open: HashMap<String, Vec<rewater_store::Alert>> = HashMap::new();
    out.raised.retain(|a| {
        let site = &a.key.site_id;
        if !open.contains_key(site) {
            let v = store.alerts(None, Some(site), 1000).unwrap_or_default();
            open.insert(site.clone(), v);
        }
        !open[site].iter().any(|x| {
            x.recovered_at_ms.is_none() && x.kind == a.key.kind.as_str() && x.factor == a.key.factor
        })
    });
}

/// Stores what the engine decided.
fn record_alerts(
    store: &mut dyn Store,
    mut out: rewater_alerts::Outcome,
    on_raised: Option<&crate::AlertSink>,
    cluster: bool,
) {
    if cluster {
        without_open_episodes(store, &mut out);
    }
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
        match store.raise_alerts(&rows) {
            Ok(_) => {
                if let Some(sink) = on_raised {
                    sink(&rows);
                }
            }
            Err(e) => tracing::error!(alerts = rows.len(), error = %e, "alerts not recorded"),
        }
    }
    if !out.recovered.is_empty() {
        let keys: Vec<(String, String, Option<String>)> = out
            .recovered
            .into_iter()
            .map(|k| (k.site_id, k.kind.as_str().to_string(), k.factor))
            .collect();
        if let Err(e) = store.recover_alerts(&keys, now) {
            tracing::error!(error = %e, "alert recoveries not recorded");
        }
    }
}

#[cfg(test)]
mod batch_log_tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_histogram() {
        let mut log = BatchLog::default();
        // 98 commits of 10.x ms, one of 150 ms, one past the last bucket; the waits before
        // them 2 ms, but 40 ms before the last two.
        for _ in 0..98 {
            log.record(100, Duration::from_micros(10_400), Duration::from_millis(2));
        }
        log.record(7, Duration::from_millis(150), Duration::from_millis(40));
        log.record(3, Duration::from_secs(5), Duration::from_millis(40));
        assert_eq!(log.batches, 100);
        assert_eq!(log.uploads, 98 * 100 + 10);
        assert_eq!(log.max_batch, 100);
        assert_eq!(log.quantile_ms(&log.commit_hist_ms, 0.5), 11);
        assert_eq!(log.quantile_ms(&log.commit_hist_ms, 0.99), 151);
        assert_eq!(log.quantile_ms(&log.commit_hist_ms, 1.0), COMMIT_BUCKETS);
        assert_eq!(log.commit_max, Duration::from_secs(5));
        assert_eq!(log.quantile_ms(&log.wait_hist_ms, 0.5), 3);
        assert_eq!(log.quantile_ms(&log.wait_hist_ms, 0.99), 41);
        assert_eq!(log.wait_max, Duration::from_millis(40));
    }
}
