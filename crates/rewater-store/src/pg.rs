//! The PostgreSQL backend, for large deployments: readings partitioned by month (partitions
//! created as data for a new month arrives), every batch written with a handful of bulk
//! statements (`UNNEST` of arrays), the same behaviour as the SQLite backend.
//!
//! A reading's `corrects` is not a foreign key: PostgreSQL cannot reference a partitioned table
//! through a key that leaves out the partition column. The store writes it only with ids it
//! has just read.

use crate::migrate::{Migration, Step};
use crate::*;
use ::postgres::{Client, NoTls, Transaction};
use std::collections::{HashMap, HashSet};

/// A store in a PostgreSQL schema.
pub struct PostgresStore {
    client: Client,
    months: HashSet<i64>,
}

impl PostgresStore {
    fn accounts_where(
        &mut self,
        clause: &str,
        args: &[&(dyn ::postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Account>> {
        let rows = self
            .client
            .query(
                &format!("SELECT name, role, district, password_hash, disabled, created_at_ms FROM account {clause}"),
                args,
            )
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(Account {
                    name: r.get(0),
                    role: r.get::<_, String>(1).parse()?,
                    district: r.get(2),
                    password_hash: r.get(3),
                    disabled: r.get(4),
                    created_at_ms: r.get(5),
                })
            })
            .collect()
    }
}

/// Version 1: the schema before versioned migrations (its `meta.schema_version` said 1).
const V1: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS site (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, standard TEXT,
    district TEXT NOT NULL, lon DOUBLE PRECISION, lat DOUBLE PRECISION, model_node TEXT);
CREATE TABLE IF NOT EXISTS device (
    mn TEXT PRIMARY KEY, password TEXT NOT NULL, site_id TEXT NOT NULL REFERENCES site(id),
    lenient BOOLEAN NOT NULL, accept_modbus_crc BOOLEAN NOT NULL);
CREATE TABLE IF NOT EXISTS frame (
    id BIGSERIAL PRIMARY KEY, received_at_ms BIGINT NOT NULL, peer TEXT NOT NULL,
    mn TEXT, cn TEXT, raw TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS frame_received ON frame(received_at_ms);
CREATE TABLE IF NOT EXISTS upload (
    mn TEXT NOT NULL, cn TEXT NOT NULL, data_time BIGINT NOT NULL, pno INTEGER NOT NULL,
    frame_id BIGINT NOT NULL, PRIMARY KEY (mn, cn, data_time, pno));
CREATE SEQUENCE IF NOT EXISTS reading_id_seq;
CREATE TABLE IF NOT EXISTS reading (
    id BIGINT NOT NULL DEFAULT nextval('reading_id_seq'), mn TEXT NOT NULL, factor TEXT NOT NULL,
    cn TEXT NOT NULL, data_time BIGINT NOT NULL, value DOUBLE PRECISION, min DOUBLE PRECISION,
    max DOUBLE PRECISION, cou DOUBLE PRECISION, flag TEXT, frame_id BIGINT, corrects BIGINT,
    reason TEXT, changed_by TEXT, received_at_ms BIGINT NOT NULL
) PARTITION BY RANGE (data_time);
CREATE INDEX IF NOT EXISTS reading_series ON reading (mn, factor, data_time);
CREATE INDEX IF NOT EXISTS reading_id ON reading (id);
CREATE INDEX IF NOT EXISTS reading_corrects ON reading (corrects) WHERE corrects IS NOT NULL;
CREATE TABLE IF NOT EXISTS aggregate (
    mn TEXT NOT NULL, factor TEXT NOT NULL, period TEXT NOT NULL, start BIGINT NOT NULL,
    n BIGINT NOT NULL, sum DOUBLE PRECISION NOT NULL, min DOUBLE PRECISION NOT NULL,
        max DOUBLE PRECISION NOT NULL, PRIMARY KEY (mn, factor, period, start)) WITH (fillfactor = 50);
CREATE TABLE IF NOT EXISTS factor (
    code TEXT PRIMARY KEY, name_zh TEXT NOT NULL, name_en TEXT NOT NULL, unit TEXT NOT NULL, code_2005 TEXT);
CREATE TABLE IF NOT EXISTS alert (
    id BIGSERIAL PRIMARY KEY, site_id TEXT NOT NULL, mn TEXT, kind TEXT NOT NULL, factor TEXT,
    severity TEXT NOT NULL, message TEXT NOT NULL, data_time BIGINT NOT NULL, value DOUBLE PRECISION,
    limit_text TEXT, state TEXT NOT NULL, raised_at_ms BIGINT NOT NULL, recovered_at_ms BIGINT);
CREATE INDEX IF NOT EXISTS alert_state ON alert(state, id);
CREATE INDEX IF NOT EXISTS alert_key ON alert(site_id, kind, factor);
CREATE TABLE IF NOT EXISTS alert_change (
    id BIGSERIAL PRIMARY KEY, alert_id BIGINT NOT NULL REFERENCES alert(id), state TEXT NOT NULL,
    who TEXT NOT NULL, comment TEXT NOT NULL, at_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS account (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, district TEXT, password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL, created_at_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS credential (
    secret_hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES account(name), kind TEXT NOT NULL,
    csrf TEXT NOT NULL, label TEXT NOT NULL, created_at_ms BIGINT NOT NULL, expires_at_ms BIGINT);
CREATE TABLE IF NOT EXISTS audit (
    id BIGSERIAL PRIMARY KEY, at_ms BIGINT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL);
";

/// Version 2: device passwords hashed, allowed source addresses, disabled devices.
const V2: &str = "
ALTER TABLE device RENAME COLUMN password TO password_hash;
ALTER TABLE device ADD COLUMN allowed_peers TEXT NOT NULL DEFAULT '';
ALTER TABLE device ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;
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

const DEVICE_COLUMNS: &str =
    "mn, password_hash, site_id, lenient, accept_modbus_crc, allowed_peers, disabled";

fn device_from_row(r: &::postgres::Row) -> Device {
    let peers: String = r.get(5);
    Device {
        mn: r.get(0),
        password_hash: r.get(1),
        site_id: r.get(2),
        lenient: r.get(3),
        accept_modbus_crc: r.get(4),
        allowed_peers: peers
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        disabled: r.get(6),
    }
}

const CREDENTIAL_COLUMNS: &str =
    "secret_hash, account, kind, csrf, label, created_at_ms, expires_at_ms";

fn credential_from_row(r: &::postgres::Row) -> Result<Credential> {
    Ok(Credential {
        secret_hash: r.get(0),
        account: r.get(1),
        kind: r.get::<_, String>(2).parse()?,
        csrf: r.get(3),
        label: r.get(4),
        created_at_ms: r.get(5),
        expires_at_ms: r.get(6),
    })
}

/// The stored schema version through any client or transaction.
fn version_in(c: &mut impl ::postgres::GenericClient) -> Result<i64> {
    let has_meta: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'meta')",
            &[],
        )
        .map_err(pg)?
        .get(0);
    if !has_meta {
        return Ok(0);
    }
    let v: Option<String> = c
        .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])
        .map_err(pg)?
        .map(|r| r.get(0));
    crate::migrate::parse_version(v)
}

impl crate::migrate::Migrator for PostgresStore {
    fn schema_version(&mut self) -> Result<i64> {
        version_in(&mut self.client)
    }

    fn apply(&mut self, m: &Migration) -> Result<()> {
        let mut tx = self.client.transaction().map_err(pg)?;
        // One migrating process per schema at a time (the lock ends with the transaction).
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.rewater-migrate'))",
            &[],
        )
        .map_err(pg)?;
        if version_in(&mut tx)? >= m.version {
            return Ok(());
        }
        for step in m.steps {
            match step {
                Step::Sql(sql) => tx.batch_execute(sql).map_err(pg)?,
                Step::HashDevicePasswords => {
                    let rows = tx
                        .query("SELECT mn, password_hash FROM device", &[])
                        .map_err(pg)?;
                    for r in rows {
                        let (mn, pw): (String, String) = (r.get(0), r.get(1));
                        if !is_device_password_hash(&pw) {
                            tx.execute(
                                "UPDATE device SET password_hash = $2 WHERE mn = $1",
                                &[&mn, &hash_device_password(&pw)],
                            )
                            .map_err(pg)?;
                        }
                    }
                }
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&m.version.to_string()],
        )
        .map_err(pg)?;
        tx.commit().map_err(pg)
    }
}

const EFFECTIVE: &str = "NOT EXISTS (SELECT 1 FROM reading c WHERE c.corrects = r.id)";
const READING_COLUMNS: &str = "r.id, r.mn, r.factor, r.cn, r.data_time, r.value, r.min, r.max, r.cou, r.flag, r.corrects, r.reason, r.changed_by, r.received_at_ms";

fn pg(e: ::postgres::Error) -> StoreError {
    StoreError::Postgres(e.to_string())
}

fn reading_from_row(r: &::postgres::Row) -> Reading {
    Reading {
        id: r.get(0),
        mn: r.get(1),
        factor: r.get(2),
        cn: r.get(3),
        data_time: r.get(4),
        value: r.get(5),
        min: r.get(6),
        max: r.get(7),
        cou: r.get(8),
        flag: r.get(9),
        corrects: r.get(10),
        reason: r.get(11),
        changed_by: r.get(12),
        received_at_ms: r.get(13),
    }
}

fn alert_from_row(r: &::postgres::Row) -> Result<Alert> {
    Ok(Alert {
        id: r.get(0),
        site_id: r.get(1),
        mn: r.get(2),
        kind: r.get(3),
        factor: r.get(4),
        severity: r.get(5),
        message: r.get(6),
        data_time: r.get(7),
        value: r.get(8),
        limit: r.get(9),
        state: r.get::<_, String>(10).parse()?,
        raised_at_ms: r.get(11),
        recovered_at_ms: r.get(12),
    })
}

/// Month index (years × 12 + month − 1) of a wall-clock time, and the month's bounds.
fn month_of(t: i64) -> (i64, i64, i64) {
    use rewater_standards::Date;
    let (y, m, _) = Date::from_wall_seconds(t).ymd();
    let first = |y: i32, m: u32| Date::from_ymd(y, m, 1).map(Date::wall_seconds);
    let start = first(y, m).unwrap_or(t.div_euclid(86_400) * 86_400);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let end = first(ny, nm).unwrap_or(start + 31 * 86_400);
    (y as i64 * 12 + m as i64 - 1, start, end)
}

fn valid_schema_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

impl PostgresStore {
    /// Connects (`postgres://user@host:port/db`) and uses `schema` (created if needed) or the
    /// default search path.
    pub fn connect(url: &str, schema: Option<&str>) -> Result<PostgresStore> {
        let mut client = Client::connect(url, NoTls).map_err(pg)?;
        // An acknowledged upload must survive a crash of the server: commit waits for the
        // WAL flush whatever the server's or the role's default says.
        client
            .batch_execute("SET synchronous_commit = on")
            .map_err(pg)?;
        if let Some(s) = schema {
            if !valid_schema_name(s) {
                return Err(StoreError::Invalid(format!(
                    "schema name '{s}' must be lower-case letters, digits and _"
                )));
            }
            client
                .batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s}"
                ))
                .map_err(pg)?;
        }
        let mut store = PostgresStore {
            client,
            months: HashSet::new(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Drops a schema and everything in it (tests).
    pub fn drop_schema(url: &str, schema: &str) -> Result<()> {
        if !valid_schema_name(schema) {
            return Err(StoreError::Invalid(format!("schema name '{schema}'")));
        }
        let mut client = Client::connect(url, NoTls).map_err(pg)?;
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .map_err(pg)
    }

    fn ensure_partitions(&mut self, times: impl Iterator<Item = i64>) -> Result<()> {
        let mut needed: Vec<(i64, i64, i64)> = Vec::new();
        for t in times {
            let m = month_of(t);
            if !self.months.contains(&m.0) && !needed.iter().any(|x| x.0 == m.0) {
                needed.push(m);
            }
        }
        for (idx, start, end) in needed {
            let name = format!(
                "reading_m{:04}_{:02}",
                idx.div_euclid(12),
                idx.rem_euclid(12) + 1
            );
            self.client
                .batch_execute(&format!("CREATE TABLE IF NOT EXISTS {name} PARTITION OF reading FOR VALUES FROM ({start}) TO ({end})"))
                .map_err(pg)?;
            self.months.insert(idx);
        }
        Ok(())
    }

    fn rebuild_aggregates(tx: &mut Transaction<'_>, mn: &str, factor: &str, t: i64) -> Result<()> {
        let start = t.div_euclid(3600) * 3600;
        tx.execute("DELETE FROM aggregate WHERE mn = $1 AND factor = $2 AND period = 'hour' AND start = $3", &[&mn, &factor, &start]).map_err(pg)?;
        tx.execute(
            &format!(
                "INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max)
                 SELECT $1, $2, 'hour', $3, COUNT(*), SUM(r.value), MIN(r.value), MAX(r.value) FROM reading r
                 WHERE r.mn = $1 AND r.factor = $2 AND r.data_time >= $3 AND r.data_time < $3 + 3600
                   AND r.cn IN ('2011', '2051') AND r.flag = 'N' AND r.value IS NOT NULL AND {EFFECTIVE}
                 HAVING COUNT(*) > 0"
            ),
            &[&mn, &factor, &start],
        )
        .map_err(pg)?;
        Ok(())
    }
}

impl Store for PostgresStore {
    fn migrate(&mut self) -> Result<()> {
        crate::migrate::run(self, MIGRATIONS)?;
        let rows = crate::factor_rows();
        let col =
            |f: fn(&FactorRow) -> Option<&str>| rows.iter().map(f).collect::<Vec<Option<&str>>>();
        let (codes, zh, en, unit, old) = (
            col(|r| Some(&r.0)),
            col(|r| Some(&r.1)),
            col(|r| Some(&r.2)),
            col(|r| Some(&r.3)),
            col(|r| r.4.as_deref()),
        );
        self.client
            .execute(
                "INSERT INTO factor (code, name_zh, name_en, unit, code_2005)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                 ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, unit = excluded.unit, code_2005 = excluded.code_2005",
                &[&codes, &zh, &en, &unit, &old],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn factors(&mut self) -> Result<Vec<FactorRow>> {
        let rows = self
            .client
            .query(
                "SELECT code, name_zh, name_en, unit, code_2005 FROM factor ORDER BY code",
                &[],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect())
    }

    fn put_site(&mut self, s: &Site) -> Result<()> {
        self.client
            .execute(
                "INSERT INTO site (id, name, kind, standard, district, lon, lat, model_node) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, standard = excluded.standard,
                   district = excluded.district, lon = excluded.lon, lat = excluded.lat, model_node = excluded.model_node",
                &[&s.id, &s.name, &s.kind, &s.standard, &s.district, &s.location.map(|l| l[0]), &s.location.map(|l| l[1]), &s.model_node],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn sites(&mut self) -> Result<Vec<Site>> {
        let rows = self.client.query("SELECT id, name, kind, standard, district, lon, lat, model_node FROM site ORDER BY id", &[]).map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| {
                let (lon, lat): (Option<f64>, Option<f64>) = (r.get(5), r.get(6));
                Site {
                    id: r.get(0),
                    name: r.get(1),
                    kind: r.get(2),
                    standard: r.get(3),
                    district: r.get(4),
                    location: lon.zip(lat).map(|(a, b)| [a, b]),
                    model_node: r.get(7),
                }
            })
            .collect())
    }

    fn put_device(&mut self, d: &Device) -> Result<()> {
        self.put_devices(std::slice::from_ref(d))
    }

    fn put_devices(&mut self, devices: &[Device]) -> Result<()> {
        devices.iter().try_for_each(check_device)?;
        let mns: Vec<&str> = devices.iter().map(|d| d.mn.as_str()).collect();
        let pws: Vec<&str> = devices.iter().map(|d| d.password_hash.as_str()).collect();
        let sites: Vec<&str> = devices.iter().map(|d| d.site_id.as_str()).collect();
        let len: Vec<bool> = devices.iter().map(|d| d.lenient).collect();
        let modbus: Vec<bool> = devices.iter().map(|d| d.accept_modbus_crc).collect();
        let peers: Vec<String> = devices.iter().map(|d| d.allowed_peers.join(",")).collect();
        let disabled: Vec<bool> = devices.iter().map(|d| d.disabled).collect();
        self.client
            .execute(
                "INSERT INTO device (mn, password_hash, site_id, lenient, accept_modbus_crc, allowed_peers, disabled)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::text[], $7::bool[])
                 ON CONFLICT (mn) DO UPDATE SET password_hash = excluded.password_hash, site_id = excluded.site_id,
                   lenient = excluded.lenient, accept_modbus_crc = excluded.accept_modbus_crc,
                   allowed_peers = excluded.allowed_peers, disabled = excluded.disabled",
                &[&mns, &pws, &sites, &len, &modbus, &peers, &disabled],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn devices(&mut self) -> Result<Vec<Device>> {
        let rows = self
            .client
            .query(
                &format!("SELECT {DEVICE_COLUMNS} FROM device ORDER BY mn"),
                &[],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(device_from_row).collect())
    }

    fn device(&mut self, mn: &str) -> Result<Option<Device>> {
        let row = self
            .client
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE mn = $1"),
                &[&mn],
            )
            .map_err(pg)?;
        Ok(row.as_ref().map(device_from_row))
    }

    fn ingest(&mut self, batch: &[Upload]) -> Result<Vec<IngestOutcome>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.ensure_partitions(batch.iter().map(|u| u.data_time))?;
        let n = batch.len() as i64;
        let mut tx = self.client.transaction().map_err(pg)?;
        // Frame ids first, so that every later statement can name them.
        let ids: Vec<i64> = tx
            .query(
                "SELECT nextval('frame_id_seq') FROM generate_series(1::bigint, $1::bigint)",
                &[&n],
            )
            .map_err(pg)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let col = |f: fn(&Upload) -> &str| batch.iter().map(f).collect::<Vec<&str>>();
        let (mns, cns, peers, raws) = (
            col(|u| &u.mn),
            col(|u| &u.cn),
            col(|u| &u.peer),
            col(|u| &u.raw),
        );
        let received: Vec<i64> = batch.iter().map(|u| u.received_at_ms).collect();
        let times: Vec<i64> = batch.iter().map(|u| u.data_time).collect();
        let pnos: Vec<i32> = batch.iter().map(|u| u.pno as i32).collect();
        tx.execute(
            "INSERT INTO frame (id, received_at_ms, peer, mn, cn, raw, status)
             SELECT id, r, p, m, c, raw, 'data' FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(id, r, p, m, c, raw)",
            &[&ids, &received, &peers, &mns, &cns, &raws],
        )
        .map_err(pg)?;
        // First occurrence of each key in the batch; later ones are duplicates of it.
        type Key<'a> = (&'a str, &'a str, i64, u32);
        let mut first_in_batch: HashMap<Key<'_>, usize> = HashMap::new();
        for (i, u) in batch.iter().enumerate() {
            first_in_batch
                .entry((u.mn.as_str(), u.cn.as_str(), u.data_time, u.pno))
                .or_insert(i);
        }
        let firsts: Vec<usize> = {
            let mut v: Vec<usize> = first_in_batch.values().copied().collect();
            v.sort_unstable();
            v
        };
        let pick = |f: &dyn Fn(usize) -> i64| firsts.iter().map(|&i| f(i)).collect::<Vec<i64>>();
        let f_mn: Vec<&str> = firsts.iter().map(|&i| batch[i].mn.as_str()).collect();
        let f_cn: Vec<&str> = firsts.iter().map(|&i| batch[i].cn.as_str()).collect();
        let f_t = pick(&|i| batch[i].data_time);
        let f_pno: Vec<i32> = firsts.iter().map(|&i| batch[i].pno as i32).collect();
        let f_id = pick(&|i| ids[i]);
        let inserted: HashSet<i64> = tx
            .query(
                "INSERT INTO upload (mn, cn, data_time, pno, frame_id)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::int[], $5::bigint[])
                 ON CONFLICT DO NOTHING RETURNING frame_id",
                &[&f_mn, &f_cn, &f_t, &f_pno, &f_id],
            )
            .map_err(pg)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // Keys stored before this batch: find the frame that first carried them.
        let mut earlier: HashMap<(String, String, i64, i32), i64> = HashMap::new();
        if inserted.len() < firsts.len() {
            let rows = tx
                .query(
                    "SELECT u.mn, u.cn, u.data_time, u.pno, u.frame_id FROM upload u
                     JOIN UNNEST($1::text[], $2::text[], $3::bigint[], $4::int[]) AS k(mn, cn, t, pno)
                       ON u.mn = k.mn AND u.cn = k.cn AND u.data_time = k.t AND u.pno = k.pno",
                    &[&mns, &cns, &times, &pnos],
                )
                .map_err(pg)?;
            for r in rows {
                earlier.insert((r.get(0), r.get(1), r.get(2), r.get(3)), r.get(4));
            }
        }
        let mut out = Vec::with_capacity(batch.len());
        // Readings of stored uploads, and their hourly sums combined per bucket.
        let (
            mut r_mn,
            mut r_f,
            mut r_cn,
            mut r_t,
            mut r_v,
            mut r_min,
            mut r_max,
            mut r_cou,
            mut r_flag,
            mut r_frame,
            mut r_recv,
        ) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        // (mn, factor, hour) → (n, sum, min, max)
        type Bucket<'a> = (&'a str, &'a str, i64);
        let mut agg: HashMap<Bucket<'_>, (i64, f64, f64, f64)> = HashMap::new();
        for (i, u) in batch.iter().enumerate() {
            let key = (u.mn.as_str(), u.cn.as_str(), u.data_time, u.pno);
            let first = first_in_batch[&key];
            if first != i || !inserted.contains(&ids[i]) {
                let frame_id = if first != i && inserted.contains(&ids[first]) {
                    ids[first]
                } else {
                    earlier
                        .get(&(u.mn.clone(), u.cn.clone(), u.data_time, u.pno as i32))
                        .copied()
                        .unwrap_or(ids[first])
                };
                out.push(IngestOutcome::Duplicate { frame_id });
                continue;
            }
            for r in &u.readings {
                r_mn.push(u.mn.as_str());
                r_f.push(r.factor.as_str());
                r_cn.push(u.cn.as_str());
                r_t.push(u.data_time);
                r_v.push(r.value);
                r_min.push(r.min);
                r_max.push(r.max);
                r_cou.push(r.cou);
                r_flag.push(r.flag.as_deref());
                r_frame.push(ids[i]);
                r_recv.push(u.received_at_ms);
                if let (true, Some(v), Some("N")) = (
                    AGGREGATED_CNS.contains(&u.cn.as_str()),
                    r.value,
                    r.flag.as_deref(),
                ) {
                    let e = agg
                        .entry((
                            u.mn.as_str(),
                            r.factor.as_str(),
                            u.data_time.div_euclid(3600) * 3600,
                        ))
                        .or_insert((0, 0.0, f64::INFINITY, f64::NEG_INFINITY));
                    e.0 += 1;
                    e.1 += v;
                    e.2 = e.2.min(v);
                    e.3 = e.3.max(v);
                }
            }
            out.push(IngestOutcome::Stored { frame_id: ids[i] });
        }
        if !r_mn.is_empty() {
            tx.execute(
                "INSERT INTO reading (mn, factor, cn, data_time, value, min, max, cou, flag, frame_id, received_at_ms)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[],
                                      $8::float8[], $9::text[], $10::bigint[], $11::bigint[])",
                &[&r_mn, &r_f, &r_cn, &r_t, &r_v, &r_min, &r_max, &r_cou, &r_flag, &r_frame, &r_recv],
            )
            .map_err(pg)?;
        }
        if !agg.is_empty() {
            let (mut a_mn, mut a_f, mut a_s, mut a_n, mut a_sum, mut a_min, mut a_max) = (
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
            );
            for ((m, f, s), (n, sum, mi, ma)) in &agg {
                a_mn.push(*m);
                a_f.push(*f);
                a_s.push(*s);
                a_n.push(*n);
                a_sum.push(*sum);
                a_min.push(*mi);
                a_max.push(*ma);
            }
            tx.execute(
                "INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max)
                 SELECT m, f, 'hour', s, n, sum, mi, ma FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[]) AS t(m, f, s, n, sum, mi, ma)
                 ON CONFLICT (mn, factor, period, start) DO UPDATE SET
                   n = aggregate.n + excluded.n, sum = aggregate.sum + excluded.sum,
                   min = LEAST(aggregate.min, excluded.min), max = GREATEST(aggregate.max, excluded.max)",
                &[&a_mn, &a_f, &a_s, &a_n, &a_sum, &a_min, &a_max],
            )
            .map_err(pg)?;
        }
        tx.commit().map_err(pg)?;
        Ok(out)
    }

    fn log_rejected(&mut self, frames: &[RejectedFrame]) -> Result<()> {
        let mut tx = self.client.transaction().map_err(pg)?;
        for f in frames {
            tx.execute(
                "INSERT INTO frame (received_at_ms, peer, mn, cn, raw, status) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&f.received_at_ms, &f.peer, &f.mn, &f.cn, &f.raw, &format!("rejected: {}", f.reason)],
            )
            .map_err(pg)?;
        }
        tx.commit().map_err(pg)
    }

    fn latest(&mut self, mn: &str) -> Result<Vec<Reading>> {
        let sql = format!("SELECT DISTINCT ON (r.factor) {READING_COLUMNS} FROM reading r WHERE r.mn = $1 AND {EFFECTIVE} ORDER BY r.factor, r.data_time DESC, r.id DESC");
        Ok(self
            .client
            .query(&sql, &[&mn])
            .map_err(pg)?
            .iter()
            .map(reading_from_row)
            .collect())
    }

    fn readings(
        &mut self,
        mn: &str,
        factor: &str,
        cns: &[&str],
        from: i64,
        to: i64,
    ) -> Result<Vec<Reading>> {
        let sql = format!(
            "SELECT {READING_COLUMNS} FROM reading r WHERE r.mn = $1 AND r.factor = $2 AND r.data_time >= $3 AND r.data_time < $4
               AND r.cn = ANY($5) AND {EFFECTIVE} ORDER BY r.data_time, r.id"
        );
        Ok(self
            .client
            .query(&sql, &[&mn, &factor, &from, &to, &cns])
            .map_err(pg)?
            .iter()
            .map(reading_from_row)
            .collect())
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
            "SELECT (r.data_time / $5) * $5 AS t, AVG(r.value), MIN(r.value), MAX(r.value), COUNT(*) FROM reading r
             WHERE r.mn = $1 AND r.factor = $2 AND r.data_time >= $3 AND r.data_time < $4
               AND r.cn IN ('2011', '2051') AND r.flag = 'N' AND r.value IS NOT NULL AND {EFFECTIVE}
             GROUP BY t ORDER BY t"
        );
        let rows = self
            .client
            .query(&sql, &[&mn, &factor, &from, &to, &bucket_s])
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| SeriesPoint {
                t: r.get(0),
                mean: r.get(1),
                min: r.get(2),
                max: r.get(3),
                n: r.get(4),
            })
            .collect())
    }

    fn aggregates(
        &mut self,
        mn: &str,
        factor: &str,
        period: Period,
        from: i64,
        to: i64,
    ) -> Result<Vec<SeriesPoint>> {
        let len = period.seconds();
        let rows = self
            .client
            .query(
                "SELECT (start / $5) * $5 AS t, SUM(sum) / SUM(n)::float8, MIN(min), MAX(max), SUM(n)::bigint FROM aggregate
                 WHERE mn = $1 AND factor = $2 AND period = 'hour' AND start >= $3 AND start < $4 GROUP BY t ORDER BY t",
                &[&mn, &factor, &from, &to, &len],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| SeriesPoint {
                t: r.get(0),
                mean: r.get(1),
                min: r.get(2),
                max: r.get(3),
                n: r.get(4),
            })
            .collect())
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
        let mut tx = self.client.transaction().map_err(pg)?;
        let mut target = reading_id;
        while let Some(r) = tx
            .query_opt("SELECT id FROM reading WHERE corrects = $1", &[&target])
            .map_err(pg)?
        {
            target = r.get(0);
        }
        let orig = tx
            .query_opt(
                &format!("SELECT {READING_COLUMNS} FROM reading r WHERE r.id = $1"),
                &[&target],
            )
            .map_err(pg)?
            .map(|r| reading_from_row(&r))
            .ok_or_else(|| StoreError::Invalid(format!("no reading {reading_id}")))?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO reading (mn, factor, cn, data_time, value, min, max, cou, flag, frame_id, corrects, reason, changed_by, received_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12, $13) RETURNING id",
                &[&orig.mn, &orig.factor, &orig.cn, &orig.data_time, &value, &orig.min, &orig.max, &orig.cou, &orig.flag, &target, &reason, &who, &at_ms],
            )
            .map_err(pg)?
            .get(0);
        if AGGREGATED_CNS.contains(&orig.cn.as_str()) {
            Self::rebuild_aggregates(&mut tx, &orig.mn, &orig.factor, orig.data_time)?;
        }
        tx.commit().map_err(pg)?;
        Ok(id)
    }

    fn raise_alerts(&mut self, alerts: &[NewAlertRow]) -> Result<Vec<i64>> {
        let mut tx = self.client.transaction().map_err(pg)?;
        let mut ids = Vec::with_capacity(alerts.len());
        for a in alerts {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO alert (site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10) RETURNING id",
                    &[&a.site_id, &a.mn, &a.kind, &a.factor, &a.severity, &a.message, &a.data_time, &a.value, &a.limit, &a.raised_at_ms],
                )
                .map_err(pg)?
                .get(0);
            ids.push(id);
        }
        tx.commit().map_err(pg)?;
        Ok(ids)
    }

    fn recover_alerts(
        &mut self,
        keys: &[(String, String, Option<String>)],
        at_ms: i64,
    ) -> Result<()> {
        let mut tx = self.client.transaction().map_err(pg)?;
        for (site, kind, factor) in keys {
            tx.execute(
                "UPDATE alert SET recovered_at_ms = $4 WHERE id = (SELECT MAX(id) FROM alert
                   WHERE site_id = $1 AND kind = $2 AND factor IS NOT DISTINCT FROM $3 AND recovered_at_ms IS NULL)",
                &[site, kind, factor, &at_ms],
            )
            .map_err(pg)?;
        }
        tx.commit().map_err(pg)
    }

    fn alerts(
        &mut self,
        state: Option<AlertState>,
        site_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Alert>> {
        let state = state.map(AlertState::as_str);
        let rows = self
            .client
            .query(
                "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms
                 FROM alert WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR site_id = $2) ORDER BY id DESC LIMIT $3",
                &[&state, &site_id, &limit],
            )
            .map_err(pg)?;
        rows.iter().map(alert_from_row).collect()
    }

    fn alert(&mut self, id: i64) -> Result<Option<Alert>> {
        self.client
            .query_opt(
                "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms FROM alert WHERE id = $1",
                &[&id],
            )
            .map_err(pg)?
            .map(|r| alert_from_row(&r))
            .transpose()
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
        let mut tx = self.client.transaction().map_err(pg)?;
        let from: AlertState = tx
            .query_opt("SELECT state FROM alert WHERE id = $1 FOR UPDATE", &[&id])
            .map_err(pg)?
            .map(|r| r.get::<_, String>(0))
            .ok_or_else(|| StoreError::Invalid(format!("no alert {id}")))?
            .parse()?;
        check_transition(from, state)?;
        let state = state.as_str();
        tx.execute("UPDATE alert SET state = $2 WHERE id = $1", &[&id, &state])
            .map_err(pg)?;
        tx.execute("INSERT INTO alert_change (alert_id, state, who, comment, at_ms) VALUES ($1, $2, $3, $4, $5)", &[&id, &state, &who, &comment, &at_ms]).map_err(pg)?;
        tx.commit().map_err(pg)
    }

    fn alert_history(&mut self, id: i64) -> Result<Vec<AlertChange>> {
        let rows = self.client.query("SELECT alert_id, state, who, comment, at_ms FROM alert_change WHERE alert_id = $1 ORDER BY id", &[&id]).map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(AlertChange {
                    alert_id: r.get(0),
                    state: r.get::<_, String>(1).parse()?,
                    who: r.get(2),
                    comment: r.get(3),
                    at_ms: r.get(4),
                })
            })
            .collect()
    }

    fn put_account(&mut self, a: &Account) -> Result<()> {
        check_account(a)?;
        self.client.execute(
            "INSERT INTO account (name, role, district, password_hash, disabled, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, district = excluded.district, password_hash = excluded.password_hash, disabled = excluded.disabled",
            &[&a.name, &a.role.as_str(), &a.district, &a.password_hash, &a.disabled, &a.created_at_ms],
        ).map_err(pg)?;
        Ok(())
    }

    fn account(&mut self, name: &str) -> Result<Option<Account>> {
        Ok(self.accounts_where("WHERE name = $1", &[&name])?.pop())
    }

    fn accounts(&mut self) -> Result<Vec<Account>> {
        self.accounts_where("ORDER BY name", &[])
    }

    fn put_credential(&mut self, c: &Credential) -> Result<()> {
        self.client.execute(
            "INSERT INTO credential (secret_hash, account, kind, csrf, label, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&c.secret_hash, &c.account, &c.kind.as_str(), &c.csrf, &c.label, &c.created_at_ms, &c.expires_at_ms],
        ).map_err(pg)?;
        Ok(())
    }

    fn credential(&mut self, secret_hash: &str, now_ms: i64) -> Result<Option<Credential>> {
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credential
                     WHERE secret_hash = $1 AND (expires_at_ms IS NULL OR expires_at_ms > $2)"
                ),
                &[&secret_hash, &now_ms],
            )
            .map_err(pg)?;
        row.as_ref().map(credential_from_row).transpose()
    }

    fn credentials_of(&mut self, account: &str) -> Result<Vec<Credential>> {
        self.client
            .query(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credential WHERE account = $1
                     ORDER BY created_at_ms DESC, secret_hash DESC"
                ),
                &[&account],
            )
            .map_err(pg)?
            .iter()
            .map(credential_from_row)
            .collect()
    }

    fn revoke_credentials(&mut self, account: &str, kind: Option<CredentialKind>) -> Result<usize> {
        Ok(self
            .client
            .execute(
                "DELETE FROM credential WHERE account = $1 AND ($2::text IS NULL OR kind = $2)",
                &[&account, &kind.map(CredentialKind::as_str)],
            )
            .map_err(pg)? as usize)
    }

    fn revoke_credential(&mut self, account: &str, public_id: &str) -> Result<bool> {
        if public_id.len() != 16 || !public_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        Ok(self
            .client
            .execute(
                "DELETE FROM credential WHERE account = $1 AND left(secret_hash, 16) = $2",
                &[&account, &public_id],
            )
            .map_err(pg)?
            > 0)
    }

    fn delete_credential(&mut self, secret_hash: &str) -> Result<()> {
        self.client
            .execute(
                "DELETE FROM credential WHERE secret_hash = $1",
                &[&secret_hash],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn purge_credentials(&mut self, now_ms: i64) -> Result<usize> {
        Ok(self
            .client
            .execute(
                "DELETE FROM credential WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= $1",
                &[&now_ms],
            )
            .map_err(pg)? as usize)
    }

    fn audit(&mut self, e: &AuditEntry) -> Result<()> {
        check_who(&e.who)?;
        self.client
            .execute(
                "INSERT INTO audit (at_ms, who, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
                &[&e.at_ms, &e.who, &e.action, &e.target, &e.detail],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn audit_log(&mut self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = self
            .client
            .query(
                "SELECT at_ms, who, action, target, detail FROM audit ORDER BY id DESC LIMIT $1",
                &[&limit],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at_ms: r.get(0),
                who: r.get(1),
                action: r.get(2),
                target: r.get(3),
                detail: r.get(4),
            })
            .collect())
    }

    fn purge_frames(&mut self, before_ms: i64) -> Result<usize> {
        Ok(self
            .client
            .execute("DELETE FROM frame WHERE received_at_ms < $1", &[&before_ms])
            .map_err(pg)? as usize)
    }

    fn count_readings(&mut self) -> Result<i64> {
        Ok(self
            .client
            .query_one("SELECT COUNT(*) FROM reading", &[])
            .map_err(pg)?
            .get(0))
    }

    fn count_frames(&mut self) -> Result<i64> {
        Ok(self
            .client
            .query_one("SELECT COUNT(*) FROM frame", &[])
            .map_err(pg)?
            .get(0))
    }
}
