//! The store's operations, one trait per concern. [`Store`] is their union; callers write
//! `use rewater_store::prelude::*;`. A new register (outfalls, indicators, reports…) adds a
//! trait here, joins it to [`Store`] and implements it in each backend.

use crate::*;

/// Readings: ingest, rejected frames, queries, corrections, retention.
pub trait ReadingStore {
    /// The checks applied to every upload (DataTime window, plausible values).
    fn ingest_rules(&self) -> &IngestRules;
    fn set_ingest_rules(&mut self, rules: IngestRules);
    /// Stores a batch of uploads durably. Each upload is checked first; one that fails its
    /// checks, or that the database refuses on its own, is `Refused` without failing the
    /// others. An `Err` means nothing of the failing part was stored (the devices resend).
    fn ingest(&mut self, batch: &[Upload]) -> Result<Vec<IngestOutcome>>;
    /// Counts rejected frames per source, reason and hour, and keeps the head of the first
    /// few of each (bounded storage whatever arrives).
    fn log_rejected(&mut self, frames: &[RejectedFrame]) -> Result<()>;
    /// Rejection counts of hours starting in `[from_s, to_s)`, newest first.
    fn rejected_counts(&mut self, from_s: i64, to_s: i64, limit: i64)
        -> Result<Vec<RejectedCount>>;
    /// The kept examples of one count.
    fn rejected_samples(
        &mut self,
        hour_start_s: i64,
        source: &str,
        reason: RejectReason,
    ) -> Result<Vec<RejectedSample>>;
    /// Deletes rejection counts and examples received before `before_ms`.
    fn purge_rejected(&mut self, before_ms: i64) -> Result<usize>;
    /// The latest effective reading of each factor of a device (corrections applied).
    fn latest(&mut self, mn: &str) -> Result<Vec<Reading>>;
    /// Effective readings of one factor in `[from, to)` for the given CNs, in time order.
    fn readings(
        &mut self,
        mn: &str,
        factor: &str,
        cns: &[&str],
        from: i64,
        to: i64,
    ) -> Result<Vec<Reading>>;
    /// Valid (flag N) values of real-time and minute data in `[from, to)`, averaged in buckets.
    fn series(
        &mut self,
        mn: &str,
        factor: &str,
        from: i64,
        to: i64,
        bucket_s: i64,
    ) -> Result<Vec<SeriesPoint>>;
    /// Hourly or daily aggregates kept from real-time and minute data.
    fn aggregates(
        &mut self,
        mn: &str,
        factor: &str,
        period: Period,
        from: i64,
        to: i64,
    ) -> Result<Vec<SeriesPoint>>;
    /// Records a correction of a reading as a new reading; returns its id.
    fn correct(
        &mut self,
        reading_id: i64,
        value: f64,
        reason: &str,
        who: &str,
        at_ms: i64,
    ) -> Result<i64>;
    /// Deletes raw frames received before `before_ms` (retention); readings and aggregates stay.
    fn purge_frames(&mut self, before_ms: i64) -> Result<usize>;
    /// The factor table: (code, Chinese name, English name, HJ 212 unit, 2005 code).
    fn factors(&mut self) -> Result<Vec<FactorRow>>;
    /// Number of readings (all versions).
    fn count_readings(&mut self) -> Result<i64>;
    /// Number of raw frames kept.
    fn count_frames(&mut self) -> Result<i64>;
}

/// Alerts raised by the engine and handled by people.
pub trait AlertStore {
    /// Records new alerts (state open); returns their ids.
    fn raise_alerts(&mut self, alerts: &[NewAlertRow]) -> Result<Vec<i64>>;
    /// Marks the latest unrecovered alert of each (site, kind, factor) as recovered.
    fn recover_alerts(
        &mut self,
        keys: &[(String, String, Option<String>)],
        at_ms: i64,
    ) -> Result<()>;
    /// Alerts, newest first, optionally of one state and/or one site.
    fn alerts(
        &mut self,
        state: Option<AlertState>,
        site_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Alert>>;
    /// One page of the alerts matching a filter, and how many match in all.
    fn alert_page(&mut self, filter: &AlertFilter) -> Result<(Vec<Alert>, i64)>;
    /// One alert.
    fn alert(&mut self, id: i64) -> Result<Option<Alert>>;
    /// Changes an alert's state, recording who, when and why.
    fn set_alert_state(
        &mut self,
        id: i64,
        state: AlertState,
        who: &str,
        comment: &str,
        at_ms: i64,
    ) -> Result<()>;
    /// The state changes of an alert, oldest first.
    fn alert_history(&mut self, id: i64) -> Result<Vec<AlertChange>>;
}

/// Accounts of the web platform and their sessions and tokens.
pub trait AccountStore {
    /// Creates or replaces an account.
    fn put_account(&mut self, account: &Account) -> Result<()>;
    fn account(&mut self, name: &str) -> Result<Option<Account>>;
    fn accounts(&mut self) -> Result<Vec<Account>>;
    fn put_credential(&mut self, credential: &Credential) -> Result<()>;
    /// A credential by the hash of its secret, if it has not expired at `now_ms`.
    fn credential(&mut self, secret_hash: &str, now_ms: i64) -> Result<Option<Credential>>;
    fn delete_credential(&mut self, secret_hash: &str) -> Result<()>;
    /// Every credential of an account (sessions and tokens, expired or not), newest first.
    fn credentials_of(&mut self, account: &str) -> Result<Vec<Credential>>;
    /// Deletes an account's credentials (of one kind, or all); returns how many.
    fn revoke_credentials(&mut self, account: &str, kind: Option<CredentialKind>) -> Result<usize>;
    /// Deletes the account's credential with this [`Credential::public_id`]; false if none.
    fn revoke_credential(&mut self, account: &str, public_id: &str) -> Result<bool>;
    /// Deletes credentials that expired before `now_ms`; returns how many.
    fn purge_credentials(&mut self, now_ms: i64) -> Result<usize>;
}

/// The register of sites and their data loggers. Every change moves
/// [`SiteStore::config_version`] on, so a running gateway can reload without a restart.
pub trait SiteStore {
    fn put_site(&mut self, site: &Site) -> Result<()>;
    fn sites(&mut self) -> Result<Vec<Site>>;
    /// Registers or replaces a device (its password already hashed).
    fn put_device(&mut self, device: &Device) -> Result<()> {
        self.put_devices(std::slice::from_ref(device))
    }
    /// Registers many devices at once.
    fn put_devices(&mut self, devices: &[Device]) -> Result<()>;
    fn devices(&mut self) -> Result<Vec<Device>>;
    /// One device by its MN.
    fn device(&mut self, mn: &str) -> Result<Option<Device>>;
    /// Sets a device's password hash ([`hash_device_password`]); false if no such device.
    fn set_device_password(&mut self, mn: &str, password_hash: &str) -> Result<bool>;
    /// Disables (frames refused) or re-enables a device; false if no such device.
    fn set_device_disabled(&mut self, mn: &str, disabled: bool) -> Result<bool>;
    /// A number that changes whenever a site or a device changes.
    fn config_version(&mut self) -> Result<i64>;
}

/// The audit log (审计日志).
pub trait AuditStore {
    fn audit(&mut self, entry: &AuditEntry) -> Result<()>;
    /// The newest `limit` audit entries, newest first.
    fn audit_log(&mut self, limit: i64) -> Result<Vec<AuditEntry>>;
}

/// Every operation of a backend.
pub trait Store:
    ReadingStore
    + AlertStore
    + AccountStore
    + SiteStore
    + AuditStore
    + crate::tasks::TaskStore
    + crate::outfalls::OutfallStore
    + crate::maintenance::MaintenanceStore
    + crate::labels::LabelStore
    + crate::cluster::ClusterStore
    + crate::platform::PlatformStore
    + crate::split::SplitStore
    + crate::fold::AggregateFold
    + Send
{
    /// Creates or upgrades the schema (see the migrations); harmless when up to date.
    fn migrate(&mut self) -> Result<()>;
    /// The schema version the store is at.
    fn schema_version(&mut self) -> Result<i64>;
    /// The database server's shared buffer cache in bytes, where the backend has one
    /// (PostgreSQL's `shared_buffers`; `None` for SQLite). See [`crate::advised_buffer_bytes`].
    fn buffer_cache_bytes(&mut self) -> Result<Option<i64>> {
        Ok(None)
    }
}

/// Shared buffers a store of `loggers` data loggers should have, in bytes: ≈ 50 kB each —
/// the right-hand edges of a logger's series in the reading index (one leaf page of 8 kB per
/// logger and factor, 6 factors) and its hour's aggregate rows. Measured (docs/benchmarks.md,
/// "Province scale, 2026-12-04"; confidence: medium, one load shape): 10,000 loggers kept
/// ≈ 60,000 leaf pages (≈ 480 MB) in constant use; a 4.5-minute run with Debian's 128 MB
/// had an ack p99 of 953 ms, against 195 ms with 2 GB (and the WAL settings of
/// `tools/pg-settings.sh tuned`).
pub const BUFFER_BYTES_PER_LOGGER: i64 = 50_000;

/// The shared buffers advised for `loggers` when `have` bytes are fewer, else `None`.
pub fn advised_buffer_bytes(have: i64, loggers: usize) -> Option<i64> {
    let want = i64::try_from(loggers)
        .unwrap_or(i64::MAX)
        .saturating_mul(BUFFER_BYTES_PER_LOGGER);
    (have < want).then_some(want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_advised_at_fifty_kilobytes_a_logger() {
        // Debian's 128 MB holds 2,684 loggers' worth; 10,000 want 500 MB.
        assert_eq!(advised_buffer_bytes(134_217_728, 10_000), Some(500_000_000));
        assert_eq!(advised_buffer_bytes(134_217_728, 2_684), None);
        assert_eq!(advised_buffer_bytes(134_217_728, 2_685), Some(134_250_000));
        assert_eq!(advised_buffer_bytes(2 << 30, 10_000), None);
        assert_eq!(advised_buffer_bytes(0, 0), None);
        assert_eq!(
            advised_buffer_bytes(i64::MAX, usize::MAX),
            None,
            "saturates"
        );
    }
}
