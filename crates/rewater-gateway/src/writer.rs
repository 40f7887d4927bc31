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

pub(crate) enum WriteRequest {
    Upload(Upload, oneshot::Sender<Option<IngestOutcome>>),
    /// Time passes, or rejected frames wait: housekeeping.
    Tick,
}

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

    /// Serves the queue until every sender is gone, then commits what is left.
    pub fn run(mut self, mut rx: mpsc::Receiver<WriteRequest>) {
        let mut uploads = Vec::with_capacity(self.batch_max);
        let mut replies = Vec::with_capacity(self.batch_max);
        let mut last_alert_tick = Instant::now();
        let mut last_purge = Instant::now();
        while let Some(first) = rx.blocking_recv() {
            // Group commit: let more uploads arrive before writing the batch.
            if !self.window.is_zero() {
                std::thread::sleep(self.window);
            }
            let mut tick = false;
            let mut next = Some(first);
            while let Some(req) = next.take() {
                match req {
                    WriteRequest::Upload(u, tx) => {
                        uploads.push(u);
                        replies.push(tx);
                    }
                    WriteRequest::Tick => tick = true,
                }
                if uploads.len() >= self.batch_max {
                    break;
                }
                next = rx.try_recv().ok();
            }
            self.write_rejected();
            self.reload_if_changed();
            if tick {
                if last_alert_tick.elapsed() >= self.alert_tick {
                    last_alert_tick = Instant::now();
                    if let Some(e) = self.engine.as_mut() {
                        let out = e.on_tick(now_ms() / 1000);
                        record_alerts(self.store.as_mut(), out, self.on_raised.as_ref());
                    }
                }
                if last_purge.elapsed() >= Duration::from_secs(60) {
                    last_purge = Instant::now();
                    self.purge();
                }
            }
            if !uploads.is_empty() {
                self.write_batch(&mut uploads, &mut replies);
            }
        }
        self.write_rejected();
    }

    fn write_batch(
        &mut self,
        uploads: &mut Vec<Upload>,
        replies: &mut Vec<oneshot::Sender<Option<IngestOutcome>>>,
    ) {
        match self.store.ingest(uploads) {
            Ok(outcomes) => {
                let stored: Vec<bool> = outcomes
                    .iter()
                    .map(|o| matches!(o, IngestOutcome::Stored { .. }))
                    .collect();
                for (tx, o) in replies.drain(..).zip(outcomes) {
                    let _ = tx.send(Some(o));
                }
                // Alerts after the acknowledgements: they do not delay the devices.
                if let Some(e) = self.engine.as_mut() {
                    let now_s = now_ms() / 1000;
                    let mut out = rewater_alerts::Outcome::default();
                    for (u, _) in uploads.iter().zip(&stored).filter(|(_, s)| **s) {
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
                    record_alerts(self.store.as_mut(), out, self.on_raised.as_ref());
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

/// Stores what the engine decided.
fn record_alerts(
    store: &mut dyn Store,
    out: rewater_alerts::Outcome,
    on_raised: Option<&crate::AlertSink>,
) {
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
