//! The records the store keeps and the checks they pass before they are written.

use crate::{AlertState, CredentialKind, RejectReason, Result, Role, StoreError};

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
    /// [`crate::hash_device_password`] of the device's PW (never the password itself); never
    /// serialised (a fast hash of a short password can be brute-forced offline).
    #[serde(skip_serializing, default)]
    pub password_hash: String,
    pub site_id: String,
    /// Accept LF-only tails, long segments, missing QN (field devices).
    pub lenient: bool,
    /// Accept byte-swapped CRC-16/MODBUS from this device.
    pub accept_modbus_crc: bool,
    /// Source addresses the device may send from: IPs or CIDR networks; empty = any.
    #[serde(default)]
    pub allowed_peers: Vec<String>,
    /// A disabled device's frames are refused.
    #[serde(default)]
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
    /// Not stored (DataTime outside the accepted window, malformed fields, or refused by the
    /// database on its own); the other uploads of the batch are not affected.
    Refused {
        reason: RejectReason,
    },
}

/// A frame that was not stored as data (bad CRC, unknown MN, wrong password…). The store keeps
/// a count per source, reason and hour and the head of a few examples, not every frame.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedFrame {
    pub received_at_ms: i64,
    /// `address:port` of the sender.
    pub peer: String,
    pub mn: Option<String>,
    pub cn: Option<String>,
    /// The frame as received (only its first [`crate::REJECTED_HEAD_BYTES`] bytes are kept).
    pub raw: String,
    pub reason: RejectReason,
    /// What exactly was wrong (kept with the examples, at most 200 characters).
    pub detail: String,
    /// How many refusals this entry stands for (a sender may count repeats of one source and
    /// reason and send one entry); 0 counts as 1.
    pub repeats: u32,
}

impl RejectedFrame {
    /// Who the rejection is counted under: the MN for reasons that involve a known device,
    /// else the sender's IP address without the port (an unauthenticated sender could invent
    /// a new MN for every frame).
    pub fn source(&self) -> String {
        if let Some(mn) = &self.mn {
            let ok =
                !mn.is_empty() && mn.len() <= 24 && mn.bytes().all(|b| b.is_ascii_alphanumeric());
            if self.reason.counted_by_device() && ok {
                return mn.clone();
            }
        }
        match self.peer.parse::<std::net::SocketAddr>() {
            Ok(a) => a.ip().to_string(),
            Err(_) => self
                .peer
                .chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect(),
        }
    }
}

/// Rejected frames of one source and reason in one hour (server time).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RejectedCount {
    /// Start of the hour, Unix seconds.
    pub hour_start_s: i64,
    /// The device's MN, or the sender's IP address where the MN is not to be trusted.
    pub source: String,
    pub reason: RejectReason,
    pub count: i64,
    pub first_at_ms: i64,
    pub last_at_ms: i64,
}

/// One kept example of a rejected frame.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RejectedSample {
    pub hour_start_s: i64,
    pub source: String,
    pub reason: RejectReason,
    pub received_at_ms: i64,
    pub peer: String,
    pub mn: Option<String>,
    pub cn: Option<String>,
    pub detail: String,
    /// The first bytes of the frame (invalid UTF-8 replaced).
    pub head: String,
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
    pub(crate) fn name(self) -> &'static str {
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

/// Which alerts to list, and which page of them.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFilter {
    pub state: Option<AlertState>,
    /// Only alerts of these sites (`None`: every site; an empty list: none).
    pub site_ids: Option<Vec<String>>,
    /// Only these kinds (`exceedance`, `offline`, …).
    pub kinds: Option<Vec<String>>,
    pub severity: Option<String>,
    /// Raised at or after this time (Unix ms).
    pub from_ms: Option<i64>,
    /// Raised before this time (Unix ms).
    pub to_ms: Option<i64>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    pub offset: i64,
    pub limit: i64,
}

impl Default for AlertFilter {
    fn default() -> Self {
        AlertFilter {
            state: None,
            site_ids: None,
            kinds: None,
            severity: None,
            from_ms: None,
            to_ms: None,
            oldest_first: false,
            offset: 0,
            limit: 100,
        }
    }
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

/// A factor table row: (code, Chinese name, English name, HJ 212 unit, 2005 code).
pub type FactorRow = (String, String, String, String, Option<String>);

/// The factor reference rows written at migration (from the standards library's HJ 212 table).
pub(crate) fn factor_rows() -> Vec<FactorRow> {
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
