//! The embedded SQLite backend (WAL journal, synchronous=FULL: a committed batch survives a
//! crash of the process and of the machine).

use crate::migrate::{Migration, Step};
use crate::*;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// A store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    checkpointer: Option<(
        std::sync::Arc<std::sync::atomic::AtomicBool>,
        std::thread::JoinHandle<()>,
    )>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.checkpointer.take() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = handle.join();
        }
    }
}

/// Version 1: the schema before versioned migrations (its `meta.schema_version` said 1).
const V1: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS site (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, standard TEXT,
    district TEXT NOT NULL, lon REAL, lat REAL, model_node TEXT);
CREATE TABLE IF NOT EXISTS device (
    mn TEXT PRIMARY KEY, password TEXT NOT NULL, site_id TEXT NOT NULL REFERENCES site(id),
    lenient INTEGER NOT NULL, accept_modbus_crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS frame (
    id INTEGER PRIMARY KEY, received_at_ms INTEGER NOT NULL, peer TEXT NOT NULL,
    mn TEXT, cn TEXT, raw TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS frame_received ON frame(received_at_ms);
CREATE TABLE IF NOT EXISTS upload (
    mn TEXT NOT NULL, cn TEXT NOT NULL, data_time INTEGER NOT NULL, pno INTEGER NOT NULL,
    frame_id INTEGER NOT NULL, PRIMARY KEY (mn, cn, data_time, pno)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reading (
    id INTEGER PRIMARY KEY, mn TEXT NOT NULL, factor TEXT NOT NULL, cn TEXT NOT NULL,
    data_time INTEGER NOT NULL, value REAL, min REAL, max REAL, cou REAL, flag TEXT,
    frame_id INTEGER, corrects INTEGER REFERENCES reading(id), reason TEXT, changed_by TEXT,
    received_at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS reading_series ON reading(mn, factor, data_time);
CREATE INDEX IF NOT EXISTS reading_corrects ON reading(corrects) WHERE corrects IS NOT NULL;
CREATE TABLE IF NOT EXISTS aggregate (
    mn TEXT NOT NULL, factor TEXT NOT NULL, period TEXT NOT NULL, start INTEGER NOT NULL,
    n INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
    PRIMARY KEY (mn, factor, period, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS factor (
    code TEXT PRIMARY KEY, name_zh TEXT NOT NULL, name_en TEXT NOT NULL, unit TEXT NOT NULL, code_2005 TEXT);
CREATE TABLE IF NOT EXISTS alert (
    id INTEGER PRIMARY KEY, site_id TEXT NOT NULL, mn TEXT, kind TEXT NOT NULL, factor TEXT,
    severity TEXT NOT NULL, message TEXT NOT NULL, data_time INTEGER NOT NULL, value REAL,
    limit_text TEXT, state TEXT NOT NULL, raised_at_ms INTEGER NOT NULL, recovered_at_ms INTEGER);
CREATE INDEX IF NOT EXISTS alert_state ON alert(state, id);
CREATE INDEX IF NOT EXISTS alert_key ON alert(site_id, kind, factor);
CREATE TABLE IF NOT EXISTS alert_change (
    alert_id INTEGER NOT NULL REFERENCES alert(id), state TEXT NOT NULL, who TEXT NOT NULL,
    comment TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS account (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, district TEXT, password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL, created_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS credential (
    secret_hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES account(name), kind TEXT NOT NULL,
    csrf TEXT NOT NULL, label TEXT NOT NULL, created_at_ms INTEGER NOT NULL, expires_at_ms INTEGER);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL);
";

/// Version 2: device passwords hashed, allowed source addresses, disabled devices.
const V2: &str = "
ALTER TABLE device RENAME COLUMN password TO password_hash;
ALTER TABLE device ADD COLUMN allowed_peers TEXT NOT NULL DEFAULT '';
ALTER TABLE device ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
";

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        what: "sites, devices, frames, readings, aggregates, alerts, accounts, audit",
        steps: &[Step::Sql(V1)],
    },
    Migration {
        version: 2,
        what: "device passwords hashed; allowed source addresses; disabled devices",
        steps: &[Step::Sql(V2), Step::HashDevicePasswords],
    },
];

fn device_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let peers: String = r.get(5)?;
    Ok(Device {
        mn: r.get(0)?,
        password_hash: r.get(1)?,
        site_id: r.get(2)?,
        lenient: r.get(3)?,
        accept_modbus_crc: r.get(4)?,
        allowed_peers: split_peers(&peers),
        disabled: r.get(6)?,
    })
}

const DEVICE_COLUMNS: &str =
    "mn, password_hash, site_id, lenient, accept_modbus_crc, allowed_peers, disabled";

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

fn credential_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Credential> {
    Ok(Credential {
        secret_hash: r.get(0)?,
        account: r.get(1)?,
        kind: word(r, 2)?,
        csrf: r.get(3)?,
        label: r.get(4)?,
        created_at_ms: r.get(5)?,
        expires_at_ms: r.get(6)?,
    })
}

const CREDENTIAL_COLUMNS: &str =
    "secret_hash, account, kind, csrf, label, created_at_ms, expires_at_ms";

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

/// Allowed source addresses are stored comma-separated (no rule contains a comma).
fn split_peers(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

impl SqliteStore {
    fn accounts_where(
        &mut self,
        clause: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<Account>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT name, role, district, password_hash, disabled, created_at_ms FROM account {clause}"
        ))?;
        let rows = st.query_map(args, |r| {
            Ok(Account {
                name: r.get(0)?,
                role: word(r, 1)?,
                district: r.get(2)?,
                password_hash: r.get(3)?,
                disabled: r.get(4)?,
                created_at_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Effective readings: those no correction points at.
const EFFECTIVE: &str = "NOT EXISTS (SELECT 1 FROM reading c WHERE c.corrects = r.id)";

fn reading_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Reading> {
    Ok(Reading {
        id: row.get(0)?,
        mn: row.get(1)?,
        factor: row.get(2)?,
        cn: row.get(3)?,
        data_time: row.get(4)?,
        value: row.get(5)?,
        min: row.get(6)?,
        max: row.get(7)?,
        cou: row.get(8)?,
        flag: row.get(9)?,
        corrects: row.get(10)?,
        reason: row.get(11)?,
        changed_by: row.get(12)?,
        received_at_ms: row.get(13)?,
    })
}

fn alert_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    Ok(Alert {
        id: r.get(0)?,
        site_id: r.get(1)?,
        mn: r.get(2)?,
        kind: r.get(3)?,
        factor: r.get(4)?,
        severity: r.get(5)?,
        message: r.get(6)?,
        data_time: r.get(7)?,
        value: r.get(8)?,
        limit: r.get(9)?,
        state: word(r, 10)?,
        raised_at_ms: r.get(11)?,
        recovered_at_ms: r.get(12)?,
    })
}

const READING_COLUMNS: &str = "r.id, r.mn, r.factor, r.cn, r.data_time, r.value, r.min, r.max, r.cou, r.flag, r.corrects, r.reason, r.changed_by, r.received_at_ms";

impl SqliteStore {
    /// Opens (creating if needed) a store file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path)?;
        let mut store = Self::configure(conn)?;
        // Checkpoint from a second connection, so that copying the WAL into the database never
        // stalls a commit (the writer's automatic checkpoints are turned off).
        store.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let cp = Connection::open(path)?;
        cp.busy_timeout(std::time::Duration::from_millis(100))?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(250));
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

    fn configure(conn: Connection) -> Result<SqliteStore> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -8_192)?;
        let mut s = SqliteStore {
            conn,
            checkpointer: None,
        };
        s.migrate()?;
        Ok(s)
    }

    /// Rebuilds the hour bucket holding `t` from the effective readings (after a correction).
    fn rebuild_aggregates(
        tx: &rusqlite::Transaction<'_>,
        mn: &str,
        factor: &str,
        t: i64,
    ) -> Result<()> {
        let start = t.div_euclid(3600) * 3600;
        let hour = Period::Hour.name();
        tx.execute(
            "DELETE FROM aggregate WHERE mn = ?1 AND factor = ?2 AND period = ?3 AND start = ?4",
            params![mn, factor, hour, start],
        )?;
        tx.execute(
            &format!(
                "INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max)
                 SELECT ?1, ?2, ?3, ?4, COUNT(*), SUM(r.value), MIN(r.value), MAX(r.value) FROM reading r
                 WHERE r.mn = ?1 AND r.factor = ?2 AND r.data_time >= ?4 AND r.data_time < ?4 + 3600
                   AND r.cn IN ('2011', '2051') AND r.flag = 'N' AND r.value IS NOT NULL AND {EFFECTIVE}
                 HAVING COUNT(*) > 0"
            ),
            params![mn, factor, hour, start],
        )?;
        Ok(())
    }
}

impl Store for SqliteStore {
    fn migrate(&mut self) -> Result<()> {
        crate::migrate::run(self, MIGRATIONS)?;
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

    fn factors(&mut self) -> Result<Vec<FactorRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT code, name_zh, name_en, unit, code_2005 FROM factor ORDER BY code",
        )?;
        let rows = st.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_site(&mut self, s: &Site) -> Result<()> {
        self.conn.execute(
            "INSERT INTO site (id, name, kind, standard, district, lon, lat, model_node) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, standard = excluded.standard,
               district = excluded.district, lon = excluded.lon, lat = excluded.lat, model_node = excluded.model_node",
            params![s.id, s.name, s.kind, s.standard, s.district, s.location.map(|l| l[0]), s.location.map(|l| l[1]), s.model_node],
        )?;
        Ok(())
    }

    fn sites(&mut self) -> Result<Vec<Site>> {
        let mut st = self.conn.prepare(
            "SELECT id, name, kind, standard, district, lon, lat, model_node FROM site ORDER BY id",
        )?;
        let rows = st.query_map([], |r| {
            let (lon, lat): (Option<f64>, Option<f64>) = (r.get(5)?, r.get(6)?);
            Ok(Site {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                standard: r.get(3)?,
                district: r.get(4)?,
                location: lon.zip(lat).map(|(a, b)| [a, b]),
                model_node: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_device(&mut self, d: &Device) -> Result<()> {
        self.put_devices(std::slice::from_ref(d))
    }

    fn put_devices(&mut self, devices: &[Device]) -> Result<()> {
        devices.iter().try_for_each(check_device)?;
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO device (mn, password_hash, site_id, lenient, accept_modbus_crc, allowed_peers, disabled)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (mn) DO UPDATE SET password_hash = excluded.password_hash, site_id = excluded.site_id,
                   lenient = excluded.lenient, accept_modbus_crc = excluded.accept_modbus_crc,
                   allowed_peers = excluded.allowed_peers, disabled = excluded.disabled",
            )?;
            for d in devices {
                st.execute(params![
                    d.mn,
                    d.password_hash,
                    d.site_id,
                    d.lenient,
                    d.accept_modbus_crc,
                    d.allowed_peers.join(","),
                    d.disabled
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn devices(&mut self) -> Result<Vec<Device>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM device ORDER BY mn"))?;
        let rows = st.query_map([], device_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn device(&mut self, mn: &str) -> Result<Option<Device>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM device WHERE mn = ?1"
        ))?;
        Ok(st.query_row(params![mn], device_from_row).optional()?)
    }

    fn ingest(&mut self, batch: &[Upload]) -> Result<Vec<IngestOutcome>> {
        use rusqlite::types::ToSql;
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(batch.len());
        {
            // Every frame is kept; the upload table says which frame first carried each
            // (MN, CN, DataTime, PNO), so a later frame with the same key is a duplicate.
            let mut frame = tx.prepare_cached("INSERT INTO frame (received_at_ms, peer, mn, cn, raw, status) VALUES (?1, ?2, ?3, ?4, ?5, 'data')")?;
            let mut upload = tx.prepare_cached("INSERT OR IGNORE INTO upload (mn, cn, data_time, pno, frame_id) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            let mut find = tx.prepare_cached("SELECT frame_id FROM upload WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pno = ?4")?;
            for u in batch {
                frame.execute(params![u.received_at_ms, u.peer, u.mn, u.cn, u.raw])?;
                let frame_id = tx.last_insert_rowid();
                if upload.execute(params![u.mn, u.cn, u.data_time, u.pno, frame_id])? == 0 {
                    let first: i64 =
                        find.query_row(params![u.mn, u.cn, u.data_time, u.pno], |r| r.get(0))?;
                    out.push(IngestOutcome::Duplicate { frame_id: first });
                    continue;
                }
                let n = u.readings.len();
                if n > 0 {
                    // One statement for all of the upload's readings.
                    let sql = format!(
                        "INSERT INTO reading (mn, factor, cn, data_time, value, min, max, cou, flag, frame_id, received_at_ms) VALUES {}",
                        vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; n].join(", ")
                    );
                    let mut st = tx.prepare_cached(&sql)?;
                    let mut args: Vec<&dyn ToSql> = Vec::with_capacity(11 * n);
                    for r in &u.readings {
                        args.extend_from_slice(&[
                            &u.mn,
                            &r.factor,
                            &u.cn,
                            &u.data_time,
                            &r.value,
                            &r.min,
                            &r.max,
                            &r.cou,
                            &r.flag,
                            &frame_id,
                            &u.received_at_ms,
                        ]);
                    }
                    st.execute(args.as_slice())?;
                }
                if AGGREGATED_CNS.contains(&u.cn.as_str()) {
                    let valid: Vec<(&str, f64)> = u
                        .readings
                        .iter()
                        .filter_map(|r| {
                            Some((r.factor.as_str(), r.value?))
                                .filter(|_| r.flag.as_deref() == Some("N"))
                        })
                        .collect();
                    if !valid.is_empty() {
                        let hour = u.data_time.div_euclid(3600) * 3600;
                        let sql = format!(
                            "INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max) VALUES {}
                             ON CONFLICT (mn, factor, period, start) DO UPDATE SET
                               n = n + 1, sum = sum + excluded.sum, min = MIN(min, excluded.min), max = MAX(max, excluded.max)",
                            vec!["(?, ?, 'hour', ?, 1, ?, ?, ?)"; valid.len()].join(", ")
                        );
                        let mut st = tx.prepare_cached(&sql)?;
                        let mut args: Vec<&dyn ToSql> = Vec::with_capacity(6 * valid.len());
                        for (f, v) in &valid {
                            args.extend_from_slice(&[&u.mn, f, &hour, v, v, v]);
                        }
                        st.execute(args.as_slice())?;
                    }
                }
                out.push(IngestOutcome::Stored { frame_id });
            }
        }
        tx.commit()?;
        Ok(out)
    }

    fn log_rejected(&mut self, frames: &[RejectedFrame]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached("INSERT INTO frame (received_at_ms, peer, mn, cn, raw, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            for f in frames {
                st.execute(params![
                    f.received_at_ms,
                    f.peer,
                    f.mn,
                    f.cn,
                    f.raw,
                    format!("rejected: {}", f.reason)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn latest(&mut self, mn: &str) -> Result<Vec<Reading>> {
        let sql = format!(
            "SELECT {READING_COLUMNS} FROM reading r
             WHERE r.mn = ?1 AND {EFFECTIVE}
               AND r.data_time = (SELECT MAX(r2.data_time) FROM reading r2 WHERE r2.mn = r.mn AND r2.factor = r.factor)
             ORDER BY r.factor, r.id DESC"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows: Vec<Reading> = st
            .query_map(params![mn], reading_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        let mut out: Vec<Reading> = Vec::new();
        for r in rows {
            if out.last().is_none_or(|l| l.factor != r.factor) {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn readings(
        &mut self,
        mn: &str,
        factor: &str,
        cns: &[&str],
        from: i64,
        to: i64,
    ) -> Result<Vec<Reading>> {
        let cn_list = cns
            .iter()
            .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT {READING_COLUMNS} FROM reading r
             WHERE r.mn = ?1 AND r.factor = ?2 AND r.data_time >= ?3 AND r.data_time < ?4 AND r.cn IN ({cn_list}) AND {EFFECTIVE}
             ORDER BY r.data_time, r.id"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(params![mn, factor, from, to], reading_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn series(
        &mut self,
        mn: &str,
        factor: &str,
        from: i64,
        to: i64,
        bucket_s: i64,
    ) -> Result<Vec<SeriesPoint>> {
        check_bucket(bucket_s)?;
        let sql = format!(
            "SELECT (r.data_time / ?5) * ?5 AS t, AVG(r.value), MIN(r.value), MAX(r.value), COUNT(*) FROM reading r
             WHERE r.mn = ?1 AND r.factor = ?2 AND r.data_time >= ?3 AND r.data_time < ?4
               AND r.cn IN ('2011', '2051') AND r.flag = 'N' AND r.value IS NOT NULL AND {EFFECTIVE}
             GROUP BY t ORDER BY t"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(params![mn, factor, from, to, bucket_s], |r| {
            Ok(SeriesPoint {
                t: r.get(0)?,
                mean: r.get(1)?,
                min: r.get(2)?,
                max: r.get(3)?,
                n: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn aggregates(
        &mut self,
        mn: &str,
        factor: &str,
        period: Period,
        from: i64,
        to: i64,
    ) -> Result<Vec<SeriesPoint>> {
        // Hourly sums are kept at ingest; days are summed from their hours.
        let mut st = self.conn.prepare_cached(
            "SELECT (start / ?6) * ?6 AS t, SUM(sum) / SUM(n), MIN(min), MAX(max), SUM(n) FROM aggregate
             WHERE mn = ?1 AND factor = ?2 AND period = ?3 AND start >= ?4 AND start < ?5 GROUP BY t ORDER BY t",
        )?;
        let rows = st.query_map(
            params![mn, factor, Period::Hour.name(), from, to, period.seconds()],
            |r| {
                Ok(SeriesPoint {
                    t: r.get(0)?,
                    mean: r.get(1)?,
                    min: r.get(2)?,
                    max: r.get(3)?,
                    n: r.get(4)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn correct(
        &mut self,
        reading_id: i64,
        value: f64,
        reason: &str,
        who: &str,
        at_ms: i64,
    ) -> Result<i64> {
        check_correction(value, reason, who)?;
        let tx = self.conn.transaction()?;
        // Correct the latest version of the reading, so a chain never forks.
        let mut target = reading_id;
        loop {
            let next: Option<i64> = tx
                .query_row(
                    "SELECT id FROM reading WHERE corrects = ?1",
                    params![target],
                    |r| r.get(0),
                )
                .optional()?;
            match next {
                Some(n) => target = n,
                None => break,
            }
        }
        let orig = tx
            .query_row(
                &format!("SELECT {READING_COLUMNS} FROM reading r WHERE r.id = ?1"),
                params![target],
                reading_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("no reading {reading_id}")))?;
        tx.execute(
            "INSERT INTO reading (mn, factor, cn, data_time, value, min, max, cou, flag, frame_id, corrects, reason, changed_by, received_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?11, ?12, ?13)",
            params![orig.mn, orig.factor, orig.cn, orig.data_time, value, orig.min, orig.max, orig.cou, orig.flag, target, reason, who, at_ms],
        )?;
        let id = tx.last_insert_rowid();
        if AGGREGATED_CNS.contains(&orig.cn.as_str()) {
            Self::rebuild_aggregates(&tx, &orig.mn, &orig.factor, orig.data_time)?;
        }
        tx.commit()?;
        Ok(id)
    }

    fn raise_alerts(&mut self, alerts: &[NewAlertRow]) -> Result<Vec<i64>> {
        let tx = self.conn.transaction()?;
        let mut ids = Vec::with_capacity(alerts.len());
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO alert (site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', ?10)",
            )?;
            for a in alerts {
                st.execute(params![
                    a.site_id,
                    a.mn,
                    a.kind,
                    a.factor,
                    a.severity,
                    a.message,
                    a.data_time,
                    a.value,
                    a.limit,
                    a.raised_at_ms
                ])?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    fn recover_alerts(
        &mut self,
        keys: &[(String, String, Option<String>)],
        at_ms: i64,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "UPDATE alert SET recovered_at_ms = ?4 WHERE id = (SELECT MAX(id) FROM alert
                   WHERE site_id = ?1 AND kind = ?2 AND factor IS ?3 AND recovered_at_ms IS NULL)",
            )?;
            for (site, kind, factor) in keys {
                st.execute(params![site, kind, factor, at_ms])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn alerts(
        &mut self,
        state: Option<AlertState>,
        site_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Alert>> {
        let state = state.map(AlertState::as_str);
        let mut st = self.conn.prepare_cached(
            "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms
             FROM alert WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR site_id = ?2) ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = st.query_map(params![state, site_id, limit], alert_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn alert(&mut self, id: i64) -> Result<Option<Alert>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms FROM alert WHERE id = ?1",
                params![id],
                alert_from_row,
            )
            .optional()?)
    }

    fn set_alert_state(
        &mut self,
        id: i64,
        state: AlertState,
        who: &str,
        comment: &str,
        at_ms: i64,
    ) -> Result<()> {
        check_who(who)?;
        let tx = self.conn.transaction()?;
        let from: AlertState = tx
            .query_row("SELECT state FROM alert WHERE id = ?1", params![id], |r| {
                word(r, 0)
            })
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("no alert {id}")))?;
        check_transition(from, state)?;
        let state = state.as_str();
        tx.execute(
            "UPDATE alert SET state = ?2 WHERE id = ?1",
            params![id, state],
        )?;
        tx.execute("INSERT INTO alert_change (alert_id, state, who, comment, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)", params![id, state, who, comment, at_ms])?;
        tx.commit()?;
        Ok(())
    }

    fn alert_history(&mut self, id: i64) -> Result<Vec<AlertChange>> {
        let mut st = self.conn.prepare_cached("SELECT alert_id, state, who, comment, at_ms FROM alert_change WHERE alert_id = ?1 ORDER BY rowid")?;
        let rows = st.query_map(params![id], |r| {
            Ok(AlertChange {
                alert_id: r.get(0)?,
                state: word(r, 1)?,
                who: r.get(2)?,
                comment: r.get(3)?,
                at_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_account(&mut self, a: &Account) -> Result<()> {
        check_account(a)?;
        self.conn.execute(
            "INSERT INTO account (name, role, district, password_hash, disabled, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, district = excluded.district, password_hash = excluded.password_hash, disabled = excluded.disabled",
            params![a.name, a.role.as_str(), a.district, a.password_hash, a.disabled, a.created_at_ms],
        )?;
        Ok(())
    }

    fn account(&mut self, name: &str) -> Result<Option<Account>> {
        Ok(self.accounts_where("WHERE name = ?1", params![name])?.pop())
    }

    fn accounts(&mut self) -> Result<Vec<Account>> {
        self.accounts_where("ORDER BY name", params![])
    }

    fn put_credential(&mut self, c: &Credential) -> Result<()> {
        self.conn.execute(
            "INSERT INTO credential (secret_hash, account, kind, csrf, label, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![c.secret_hash, c.account, c.kind.as_str(), c.csrf, c.label, c.created_at_ms, c.expires_at_ms],
        )?;
        Ok(())
    }

    fn credential(&mut self, secret_hash: &str, now_ms: i64) -> Result<Option<Credential>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credential
             WHERE secret_hash = ?1 AND (expires_at_ms IS NULL OR expires_at_ms > ?2)"
        ))?;
        Ok(st
            .query_row(params![secret_hash, now_ms], credential_from_row)
            .optional()?)
    }

    fn credentials_of(&mut self, account: &str) -> Result<Vec<Credential>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credential WHERE account = ?1
             ORDER BY created_at_ms DESC, rowid DESC"
        ))?;
        let rows = st.query_map(params![account], credential_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_credentials(&mut self, account: &str, kind: Option<CredentialKind>) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM credential WHERE account = ?1 AND (?2 IS NULL OR kind = ?2)",
            params![account, kind.map(CredentialKind::as_str)],
        )?)
    }

    fn revoke_credential(&mut self, account: &str, public_id: &str) -> Result<bool> {
        if public_id.len() != 16 || !public_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        Ok(self.conn.execute(
            "DELETE FROM credential WHERE account = ?1 AND substr(secret_hash, 1, 16) = ?2",
            params![account, public_id],
        )? > 0)
    }

    fn delete_credential(&mut self, secret_hash: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM credential WHERE secret_hash = ?1",
            params![secret_hash],
        )?;
        Ok(())
    }

    fn purge_credentials(&mut self, now_ms: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM credential WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ?1",
            params![now_ms],
        )?)
    }

    fn audit(&mut self, e: &AuditEntry) -> Result<()> {
        check_who(&e.who)?;
        self.conn.execute(
            "INSERT INTO audit (at_ms, who, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![e.at_ms, e.who, e.action, e.target, e.detail],
        )?;
        Ok(())
    }

    fn audit_log(&mut self, limit: i64) -> Result<Vec<AuditEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT at_ms, who, action, target, detail FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = st.query_map(params![limit], |r| {
            Ok(AuditEntry {
                at_ms: r.get(0)?,
                who: r.get(1)?,
                action: r.get(2)?,
                target: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn purge_frames(&mut self, before_ms: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM frame WHERE received_at_ms < ?1",
            params![before_ms],
        )?)
    }

    fn count_readings(&mut self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM reading", [], |r| r.get(0))?)
    }

    fn count_frames(&mut self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM frame", [], |r| r.get(0))?)
    }
}
