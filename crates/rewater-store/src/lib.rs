//! The monitoring store (监测数据库): sites, data-logger devices, every received frame (kept for
//! audit), readings with their data flags, hourly and daily aggregates, and corrections kept as
//! new records. [`SqliteStore`] (embedded, WAL) is the default; a PostgreSQL backend implements
//! the same [`Store`] trait for large deployments.
//!
//! Readings are never updated in place: a correction is a new reading that names the one it
//! corrects, with a reason and who made it; queries use the latest correction.
//! Idempotency: one upload per (MN, CN, DataTime, PNO); a repeat is a duplicate, acknowledged
//! by the gateway but stored once (HJ 212 notes §5.8: QN identifies an exchange, not data).

#[doc(hidden)]
pub mod conformance;
mod device;
mod kinds;
mod migrate;
#[cfg(feature = "postgres")]
mod pg;
mod sqlite;

#[cfg(feature = "postgres")]
pub use crate::pg::PostgresStore;

pub use device::{
    check_device, hash_device_password, is_device_password_hash, random_device_password,
    verify_device_password,
};
pub use kinds::{AlertState, CredentialKind, Role, UnknownValue};
pub use sqlite::SqliteStore;

/// Everything a caller needs: `use rewater_store::prelude::*;` brings every store trait into
/// scope, so that splitting the store into traits by concern needs no change at call sites.
pub mod prelude {
    pub use crate::Store;
    pub use crate::{AlertState, CredentialKind, Role};
}

/// Opens the store a location names: a `postgres://` or `postgresql://` URL, or a SQLite file.
pub fn open(location: &str) -> Result<Box<dyn Store>> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Box::new(PostgresStore::connect(location, None)?));
        #[cfg(not(feature = "postgres"))]
        return Err(StoreError::Invalid(
            "this build has no PostgreSQL backend (feature `postgres`)".into(),
        ));
    }
    Ok(Box::new(SqliteStore::open(std::path::Path::new(location))?))
}

/// Errors of a store backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<UnknownValue> for StoreError {
    fn from(e: UnknownValue) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A monitoring site (监测点位).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// plant_outlet, plant_inlet, wetland_outlet, pond, user_supply, outfall, river_section.
    pub kind: String,
    /// Standards the site must meet, "STANDARD:CLASS" (comma-separated if several).
    pub standard: Option<String>,
    pub district: String,
    pub location: Option<[f64; 2]>,
    /// The node of the regional model this site measures, if any.
    pub model_node: Option<String>,
}

/// A data logger (数采仪), identified by its MN.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Device {
    pub mn: String,
    /// [`hash_device_password`] of the device's PW (never the password itself).
    pub password_hash: String,
    pub site_id: String,
    /// Accept LF-only tails, long segments, missing QN (field devices).
    pub lenient: bool,
    /// Accept byte-swapped CRC-16/MODBUS from this device.
    pub accept_modbus_crc: bool,
    /// Source addresses the device may send from: IPs or CIDR networks; empty = any.
    pub allowed_peers: Vec<String>,
    /// A disabled device's frames are refused.
    pub disabled: bool,
}

/// One factor's values in an upload.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FactorReading {
    /// HJ 212-2017 factor code (2005 codes are mapped before storing).
    pub factor: String,
    /// The primary value: `-Rtd` for real-time data, `-Avg` for interval data.
    pub value: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub cou: Option<f64>,
    /// HJ 212 data flag (N valid).
    pub flag: Option<String>,
}

/// An accepted upload to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub mn: String,
    pub cn: String,
    /// DataTime as wall-clock seconds since 1970 (Beijing time as sent).
    pub data_time: i64,
    pub pno: u32,
    pub received_at_ms: i64,
    pub peer: String,
    pub raw: String,
    pub readings: Vec<FactorReading>,
}

/// What became of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    Stored {
        frame_id: i64,
    },
    /// The same (MN, CN, DataTime, PNO) was stored before (by this frame id).
    Duplicate {
        frame_id: i64,
    },
}

/// A frame that was not stored as data (bad CRC, unknown MN, wrong password…), kept for audit.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedFrame {
    pub received_at_ms: i64,
    pub peer: String,
    pub mn: Option<String>,
    pub cn: Option<String>,
    pub raw: String,
    pub reason: String,
}

/// A stored reading.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reading {
    pub id: i64,
    pub mn: String,
    pub factor: String,
    pub cn: String,
    pub data_time: i64,
    pub value: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub cou: Option<f64>,
    pub flag: Option<String>,
    /// For a correction: the reading it corrects.
    pub corrects: Option<i64>,
    pub reason: Option<String>,
    pub changed_by: Option<String>,
    pub received_at_ms: i64,
}

/// A point of a (downsampled) series: mean, min, max and count of valid values in a bucket.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeriesPoint {
    pub t: i64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub n: i64,
}

/// Aggregation period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Hour,
    Day,
}

impl Period {
    pub fn seconds(self) -> i64 {
        match self {
            Period::Hour => 3600,
            Period::Day => 86_400,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }
}

/// An alert to record (raised by the alert engine).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NewAlertRow {
    pub site_id: String,
    pub mn: Option<String>,
    pub kind: String,
    pub factor: Option<String>,
    pub severity: String,
    pub message: String,
    pub data_time: i64,
    pub value: Option<f64>,
    pub limit: Option<String>,
    pub raised_at_ms: i64,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alert {
    pub id: i64,
    pub site_id: String,
    pub mn: Option<String>,
    pub kind: String,
    pub factor: Option<String>,
    pub severity: String,
    pub message: String,
    pub data_time: i64,
    pub value: Option<f64>,
    pub limit: Option<String>,
    pub state: AlertState,
    pub raised_at_ms: i64,
    /// When the condition ended (the engine's recovery), if it has.
    pub recovered_at_ms: Option<i64>,
}

/// A change of an alert's state: who, when, why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertChange {
    pub alert_id: i64,
    pub state: AlertState,
    pub who: String,
    pub comment: String,
    pub at_ms: i64,
}

/// A person or machine allowed into the web platform and API (用户).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Account {
    pub name: String,
    pub role: Role,
    /// For an operator: the one district whose sites it sees and acts on.
    pub district: Option<String>,
    /// A PHC string (argon2id); never serialised.
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub created_at_ms: i64,
}

/// A login session or an API token, stored by the SHA-256 of its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub secret_hash: String,
    pub account: String,
    pub kind: CredentialKind,
    /// The session's CSRF token (empty for API tokens, which are not sent by browsers).
    pub csrf: String,
    pub label: String,
    pub created_at_ms: i64,
    /// None: until revoked.
    pub expires_at_ms: Option<i64>,
}

/// One line of the audit log (审计日志): who changed what, when.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub who: String,
    /// e.g. alert.acknowledged, site.update, user.create, token.create, login.
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Checks an account before it is stored.
pub fn check_account(a: &Account) -> Result<()> {
    let name_ok = !a.name.is_empty()
        && a.name.len() <= 64
        && a.name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if !name_ok {
        return Err(StoreError::Invalid(format!(
            "account name '{}' must be 1–64 letters, digits or - _ . @",
            a.name
        )));
    }
    match (a.role, &a.district) {
        (Role::Admin | Role::Viewer, _) => Ok(()),
        (Role::Operator, Some(d)) if !d.trim().is_empty() => Ok(()),
        (Role::Operator, _) => Err(StoreError::Invalid(format!(
            "operator '{}' needs a district",
            a.name
        ))),
    }
}

impl Site {
    /// The site's standards ("STANDARD:CLASS", stored comma-separated).
    pub fn standards(&self) -> Vec<&str> {
        self.standard
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// Checks a correction before it is recorded: a number, a reason and who made it.
pub fn check_correction(value: f64, reason: &str, who: &str) -> Result<()> {
    if reason.trim().is_empty() || who.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a correction needs a reason and who made it".into(),
        ));
    }
    if !value.is_finite() {
        return Err(StoreError::Invalid(format!(
            "corrected value {value} is not a number"
        )));
    }
    Ok(())
}

/// Checks a series bucket length.
pub fn check_bucket(bucket_s: i64) -> Result<()> {
    if bucket_s <= 0 {
        return Err(StoreError::Invalid(format!("bucket of {bucket_s} s")));
    }
    Ok(())
}

/// Checks that a change says who made it.
pub fn check_who(who: &str) -> Result<()> {
    if who.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a state change needs who made it".into(),
        ));
    }
    Ok(())
}

/// Checks an alert state change: open → acknowledged → closed, or open → closed.
pub fn check_transition(from: AlertState, to: AlertState) -> Result<()> {
    if from.may_become(to) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "an alert cannot go from {from} to {to}"
        )))
    }
}

impl Credential {
    /// The credential's public id (shown to people, used to revoke a token): the first 16 hex
    /// characters of its secret's hash.
    pub fn public_id(&self) -> &str {
        self.secret_hash
            .get(..16)
            .unwrap_or(self.secret_hash.as_str())
    }
}

/// The operations every backend provides.
pub trait Store: Send {
    /// Creates or upgrades the schema.
    fn migrate(&mut self) -> Result<()>;
    fn put_site(&mut self, site: &Site) -> Result<()>;
    fn sites(&mut self) -> Result<Vec<Site>>;
    fn put_device(&mut self, device: &Device) -> Result<()>;
    fn devices(&mut self) -> Result<Vec<Device>>;
    /// One device by its MN.
    fn device(&mut self, mn: &str) -> Result<Option<Device>>;
    /// Registers many devices at once.
    fn put_devices(&mut self, devices: &[Device]) -> Result<()> {
        devices.iter().try_for_each(|d| self.put_device(d))
    }
    /// Stores a batch of uploads in one durable transaction.
    fn ingest(&mut self, batch: &[Upload]) -> Result<Vec<IngestOutcome>>;
    /// Keeps rejected frames for audit.
    fn log_rejected(&mut self, frames: &[RejectedFrame]) -> Result<()>;
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
    /// The factor table: (code, Chinese name, English name, HJ 212 unit, 2005 code).
    fn factors(&mut self) -> Result<Vec<FactorRow>>;
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
    fn audit(&mut self, entry: &AuditEntry) -> Result<()>;
    /// The newest `limit` audit entries, newest first.
    fn audit_log(&mut self, limit: i64) -> Result<Vec<AuditEntry>>;
    /// Number of readings (all versions).
    fn count_readings(&mut self) -> Result<i64>;
    /// Number of raw frames kept.
    fn count_frames(&mut self) -> Result<i64>;
}

/// A factor table row: (code, Chinese name, English name, HJ 212 unit, 2005 code).
pub type FactorRow = (String, String, String, String, Option<String>);

/// The factor reference rows written at migration (from the standards library's HJ 212 table).
fn factor_rows() -> Vec<FactorRow> {
    rewater_standards::Factor::all()
        .map(|f| {
            let i = f.info();
            (
                i.code.to_string(),
                i.name_zh.to_string(),
                i.name_en.to_string(),
                i.unit.as_str().to_string(),
                i.code_2005.map(str::to_string),
            )
        })
        .collect()
}

/// CNs whose values feed the hourly and daily aggregates (real-time and minute data).
pub const AGGREGATED_CNS: [&str; 2] = ["2011", "2051"];
