//! The embedded SQLite backend (WAL journal, synchronous=FULL: a committed batch survives a
//! crash of the process and of the machine). The WAL is bounded: a background connection
//! checkpoints it passively every 50 ms, and when it still grows past
//! [`WalLimits::checkpoint_over_bytes`] (under sustained load the passive passes never catch
//! up, so the log never starts again by itself) the writer checkpoints it with RESTART before
//! the batch returns: acknowledgements wait instead of the file growing without end, and the
//! next batch writes from the log's beginning.
//!
//! Why RESTART and not TRUNCATE: a log cut to zero bytes must be re-extended by every
//! following commit, each of whose fsyncs then also writes file metadata; RESTART reuses the
//! file's blocks (`journal_size_limit` trims what lies past the limit). Measured on 2026-12-01
//! (10,000 devices over TCP, same session): ack p99 331 ms with TRUNCATE, 163 ms with RESTART;
//! a RESTART by the background connection past a lower soft limit was worse (676–1,317 ms:
//! the writer then waits in SQLite's busy handler, which sleeps in coarse steps).

mod labels;
mod maintenance;
mod outfalls;
mod platform;
mod readings;
mod registers;
mod schema;
mod split;
mod tasks;

use crate::migrate::{Migration, Step};
use crate::*;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How large the write-ahead log may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalLimits {
    /// After a batch, a WAL larger than this is checkpointed by the writer (hard limit).
    pub checkpoint_over_bytes: u64,
    /// Size the WAL file is cut back to when it restarts (`PRAGMA journal_size_limit`).
    pub journal_size_limit_bytes: i64,
}

impl Default for WalLimits {
    fn default() -> Self {
        WalLimits {
            checkpoint_over_bytes: 64 << 20,
            journal_size_limit_bytes: 64 << 20,
        }
    }
}

/// A store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    checkpointer: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    rules: IngestRules,
    /// The WAL file and its limits (none in memory).
    wal: Option<(PathBuf, WalLimits)>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.checkpointer.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
        }
    }
}

/// A stored word column read as its typed value (a bad word is a conversion error).
fn word<T: std::str::FromStr<Err = UnknownValue>>(
    r: &rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    s.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn version_in(conn: &Connection) -> Result<i64> {
    let has_meta: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        return Ok(0);
    }
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    crate::migrate::parse_version(v)
}

impl crate::migrate::Migrator for SqliteStore {
    fn schema_version(&mut self) -> Result<i64> {
        version_in(&self.conn)
    }

    fn apply(&mut self, m: &Migration) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if version_in(&tx)? >= m.version {
            return Ok(());
        }
        for step in m.steps {
            match step {
                Step::Sql(sql) => tx.execute_batch(sql)?,
                Step::HashDevicePasswords => {
                    let plain: Vec<(String, String)> = tx
                        .prepare("SELECT mn, password_hash FROM device")?
                        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<rusqlite::Result<_>>()?;
                    for (mn, pw) in plain.iter().filter(|(_, p)| !is_device_password_hash(p)) {
                        tx.execute(
                            "UPDATE device SET password_hash = ?2 WHERE mn = ?1",
                            params![mn, hash_device_password(pw)],
                        )?;
                    }
                }
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![m.version.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn wal_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

impl SqliteStore {
    /// Opens (creating if needed) a store file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        Self::open_with(path, WalLimits::default())
    }

    /// Opens a store file with the given WAL limits.
    pub fn open_with(path: &Path, limits: WalLimits) -> Result<SqliteStore> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_size_limit", limits.journal_size_limit_bytes)?;
        let mut store = Self::configure(conn)?;
        store.wal = Some((wal_path(path), limits));
        // Checkpoint from a second connection, so that copying the WAL into the database
        // rarely stalls a commit (the writer's automatic checkpoints are turned off).
        store.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let cp = Connection::open(path)?;
        cp.busy_timeout(Duration::from_millis(100))?;
        cp.pragma_update(None, "journal_size_limit", limits.journal_size_limit_bytes)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    // Short passes: each copies only what was committed since the last, so the
                    // writer's checkpoint past the limit has little left to copy.
                    std::thread::sleep(Duration::from_millis(50));
                    let _ = cp.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
                let _ = cp.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            })
            .map_err(|e| StoreError::Invalid(format!("checkpoint thread: {e}")))?;
        store.checkpointer = Some((stop, handle));
        Ok(store)
    }

    /// A store in memory (tests).
    pub fn memory() -> Result<SqliteStore> {
        Self::configure(Connection::open_in_memory()?)
    }

    fn configure(mut conn: Connection) -> Result<SqliteStore> {
        // Every transaction of this store writes. A DEFERRED one that reads first and writes
        // later fails at once with a busy snapshot (busy_timeout does not apply) when another
        // connection committed in between; IMMEDIATE takes the write lock up front and waits.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -8_192)?;
        // Statement journals (multi-row inserts inside the batch transaction) stay in memory
        // instead of spilling to a temporary file: 21 % of ingest time went to writing them.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Reading inserts use one statement per chunk size (see readings.rs).
        conn.set_prepared_statement_cache_capacity(96);
        let mut s = SqliteStore {
            conn,
            checkpointer: None,
            rules: IngestRules::default(),
            wal: None,
        };
        s.migrate()?;
        Ok(s)
    }

    /// Current size of the WAL file in bytes (0 in memory or when absent).
    pub fn wal_bytes(&self) -> u64 {
        self.wal
            .as_ref()
            .and_then(|(p, _)| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    }

    /// Back-pressure: a WAL past its hard limit is checkpointed now, by the writer, before the
    /// batch's uploads are acknowledged (RESTART: the next batch writes from the log's start,
    /// and `journal_size_limit` trims the file).
    fn bound_wal(&mut self) {
        let Some((_, limits)) = self.wal else { return };
        let before = self.wal_bytes();
        if before <= limits.checkpoint_over_bytes {
            return;
        }
        let r = self
            .conn
            .query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            });
        match r {
            Ok((0, _, _)) => {
                tracing::debug!(
                    wal_bytes = before,
                    "WAL over its limit: checkpointed and restarted"
                )
            }
            Ok((_, log, done)) => tracing::warn!(
                wal_bytes = before,
                frames = log,
                checkpointed = done,
                "WAL over its limit and readers kept the checkpoint from finishing"
            ),
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }

    /// Moves the register's version on (inside the caller's transaction).
    fn bump_config(conn: &Connection) -> Result<()> {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('config_version', '1')
             ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
            [],
        )?;
        Ok(())
    }
}

impl Store for SqliteStore {
    fn migrate(&mut self) -> Result<()> {
        crate::migrate::run(self, schema::MIGRATIONS)?;
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO factor (code, name_zh, name_en, unit, code_2005) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, unit = excluded.unit, code_2005 = excluded.code_2005",
            )?;
            for (c, zh, en, u, old) in crate::factor_rows() {
                st.execute(params![c, zh, en, u, old])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn schema_version(&mut self) -> Result<i64> {
        version_in(&self.conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every transaction of the store takes the write lock when it begins: another connection
    /// cannot start writing in between a read and a write of the store's transaction.
    #[test]
    fn transactions_take_the_write_lock_at_begin() {
        let dir = std::env::temp_dir().join(format!("rewater-sqlite-tx-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("store.sqlite");
        let mut store = SqliteStore::open(&path).unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(Duration::from_millis(0)).unwrap();
        {
            let _tx = store.conn.transaction().unwrap();
            let err = other.execute_batch("BEGIN IMMEDIATE").unwrap_err();
            assert_eq!(
                err.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy),
                "{err}"
            );
        }
        other.execute_batch("BEGIN IMMEDIATE; COMMIT").unwrap();
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
