//! Versioned schema migrations, applied when a store is opened.
//!
//! A small table-driven runner rather than a migration crate (refinery, sqlx): both backends
//! need the same numbered steps, one step is Rust (hashing the plain-text device passwords of
//! version 1), and the version already lives in `meta.schema_version`. Each migration runs in
//! one transaction that also writes the new version, so a crash leaves the old or the new
//! schema, never half of one. A store newer than the program is refused, not downgraded.

use crate::{Result, StoreError};

/// One step of a migration.
pub(crate) enum Step {
    /// SQL statements, run as one batch.
    Sql(&'static str),
    /// Replace plain-text device passwords by [`crate::hash_device_password`] of them.
    HashDevicePasswords,
}

/// A numbered schema change.
pub(crate) struct Migration {
    pub version: i64,
    pub what: &'static str,
    pub steps: &'static [Step],
}

/// What a backend provides to the runner.
pub(crate) trait Migrator {
    /// The stored schema version (0 for an empty database).
    fn schema_version(&mut self) -> Result<i64>;
    /// Applies one migration and records its version, in one transaction; re-reads the
    /// version inside the transaction and does nothing if another process got there first.
    fn apply(&mut self, migration: &Migration) -> Result<()>;
}

/// Brings a store's schema to the newest version in `migrations` (sorted by version).
pub(crate) fn run(db: &mut dyn Migrator, migrations: &[Migration]) -> Result<i64> {
    let newest = migrations.last().map_or(0, |m| m.version);
    let current = db.schema_version()?;
    if current > newest {
        return Err(StoreError::Invalid(format!(
            "the store has schema version {current}, newer than this program's {newest}: \
             upgrade rewater before opening it"
        )));
    }
    for m in migrations.iter().filter(|m| m.version > current) {
        db.apply(m)?;
        tracing::info!(version = m.version, what = m.what, "store schema migrated");
    }
    Ok(newest)
}

/// Reads `schema_version` from a `meta` value, with a clear error for anything else.
pub(crate) fn parse_version(v: Option<String>) -> Result<i64> {
    match v {
        None => Ok(0),
        Some(s) => s
            .trim()
            .parse()
            .map_err(|_| StoreError::Invalid(format!("meta.schema_version '{s}' is not a number"))),
    }
}
