//! The monitoring store (监测数据库): sites, data-logger devices, every stored frame (kept for
//! audit), a bounded sample of rejected frames, readings with their data flags, hourly and daily
//! aggregates, and corrections kept as new records. [`SqliteStore`] (embedded, WAL) is the
//! default; a PostgreSQL backend implements the same traits for large deployments.
//!
//! Layout: [`traits`] holds one trait per concern ([`Store`] is their union, [`prelude`] brings
//! them all into scope); [`ingest`] and [`rejected`] hold the rules every backend shares, the
//! backends (`sqlite`, `pg`) only their SQL; [`migrate`] versions the schema.
//!
//! Readings are never updated in place: a correction is a new reading that names the one it
//! corrects, with a reason and who made it; queries use the latest correction.
//! Idempotency: one upload per (MN, CN, DataTime, PNO); a repeat is a duplicate, acknowledged
//! by the gateway but stored once (HJ 212 notes §5.8: QN identifies an exchange, not data).

pub mod cluster;
#[doc(hidden)]
pub mod conformance;
#[doc(hidden)]
pub mod conformance_hostile;
mod device;
pub mod fold;
pub mod ingest;
mod kinds;
pub mod labels;
pub mod maintenance;
pub mod migrate;
pub mod outfalls;
// issue 19 item 4: gaps (补发) and logger commands.
#[cfg(feature = "postgres")]
mod pg;
pub mod platform;
pub mod plausible;
pub mod rejected;
// issue 19: split packets held in the store.
pub mod split;
mod sqlite;
pub mod tasks;
pub mod traits;
mod types;

#[cfg(feature = "postgres")]
pub use crate::pg::PostgresStore;

pub use cluster::{ClusterStore, FeedBatch, StoredFrame};
pub use device::{
    check_device, hash_device_password, is_device_password_hash, random_device_password,
    verify_device_password, PasswordCache, PasswordCheck,
};
pub use fold::{AggregateFold, FoldReport};
pub use ingest::IngestRules;
pub use kinds::{AlertState, CredentialKind, RejectReason, Role, UnknownValue};
pub use labels::{Label, LabelStore};
pub use maintenance::{MaintenanceStore, MaintenanceWindow, NewMaintenance};
pub use outfalls::{NewOutfallRecord, OutfallQuery, OutfallRecord, OutfallStore, PutOutcome};
pub use platform::{
    Command, CommandAnswer, CommandState, Gap, GapLimits, GapState, NewCommand, PlatformStore,
};
pub use rejected::{REJECTED_HEAD_BYTES, REJECTED_SAMPLES_PER_KEY};
pub use split::{ExpiredSplit, HeldPart, SplitLimits, SplitOutcome, SplitPart, SplitStore};
pub use sqlite::{SqliteStore, WalLimits};
pub use tasks::TaskStore;
pub use traits::{
    advised_buffer_bytes, AccountStore, AlertStore, AuditStore, ReadingStore, SiteStore, Store,
    BUFFER_BYTES_PER_LOGGER,
};
pub use types::*;

/// Everything a caller needs: `use rewater_store::prelude::*;` brings every store trait into
/// scope (and the typed words), so that new traits need no change at call sites.
pub mod prelude {
    pub use crate::cluster::ClusterStore;
    pub use crate::fold::AggregateFold;
    pub use crate::labels::LabelStore;
    pub use crate::maintenance::MaintenanceStore;
    pub use crate::outfalls::OutfallStore;
    pub use crate::platform::PlatformStore;
    pub use crate::split::SplitStore;
    pub use crate::tasks::TaskStore;
    pub use crate::traits::{AccountStore, AlertStore, AuditStore, ReadingStore, SiteStore, Store};
    pub use crate::{AlertState, CredentialKind, RejectReason, Role};
}

/// Opens the store a location names: a `postgres://` or `postgresql://` URL, or a SQLite file.
/// Whether a store location is a PostgreSQL URL (anything else is a SQLite file).
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

pub fn open(location: &str) -> Result<Box<dyn Store>> {
    if is_postgres_url(location) {
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
    /// A PostgreSQL error with its SQLSTATE and the server's detail, where it sent them.
    #[error("PostgreSQL{}: {message}{}", sqlstate.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Postgres {
        sqlstate: Option<String>,
        message: String,
        detail: Option<String>,
    },
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    /// Whether the database refused the data itself (a constraint, a value it cannot hold),
    /// rather than failing (I/O, connection, lock): retrying other data may succeed.
    pub fn is_data_error(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::ConstraintViolation
                    | rusqlite::ErrorCode::TypeMismatch
                    | rusqlite::ErrorCode::TooBig
            ),
            StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(_)) => true,
            // SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation).
            StoreError::Postgres {
                sqlstate: Some(c), ..
            } => c.starts_with("22") || c.starts_with("23"),
            _ => false,
        }
    }
}

impl From<UnknownValue> for StoreError {
    fn from(e: UnknownValue) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;
