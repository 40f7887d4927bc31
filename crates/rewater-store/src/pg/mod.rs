//! The PostgreSQL backend, for large deployments: readings partitioned by month (partitions
//! created as data for a new month arrives, only inside the accepted DataTime window), every
//! batch written by one prepared statement of data-modifying CTEs over `UNNEST` of arrays (one
//! round trip and one implicit transaction per batch; `REWATER_PG_STEPWISE=1` brings back the
//! older one-statement-per-step path for comparison), the same behaviour as the SQLite
//! backend. A gateway defers the hourly aggregates to a background fold ([`crate::fold`]);
//! its batches then write their readings by binary COPY in the batch's transaction
//! ([`copy`]). Every connection sets `synchronous_commit = on` itself.
//!
//! A reading's `corrects` is not a foreign key: PostgreSQL cannot reference a partitioned table
//! through a key that leaves out the partition column. The store writes it only with ids it
//! has just read.

mod copy;
mod copy_rows;
mod fold;
mod held;
mod labels;
mod maintenance;
mod outfalls;
mod platform;
mod readings;
mod registers;
mod schema;
mod split;
mod tasks;
mod upload_rows;

use crate::migrate::{Migration, Step};
use crate::*;
use ::postgres::{Client, NoTls, Statement};
use std::collections::{HashMap, HashSet};

/// A store in a PostgreSQL schema.
pub struct PostgresStore {
    client: Client,
    months: HashSet<i64>,
    rules: IngestRules,
    /// Statements of the ingest path, prepared once per connection.
    statements: HashMap<&'static str, Statement>,
    /// Write batches step by step (one round trip per statement) instead of in one
    /// statement: the older path, kept for comparison (`REWATER_PG_STEPWISE=1`).
    stepwise: bool,
    /// Leave each batch's readings to the background fold instead of adding them to the
    /// hourly aggregates in the batch (see [`crate::fold`]).
    defer: bool,
    /// With `defer`, write the readings by binary COPY (see `copy`).
    copy: bool,
    /// With `copy`, the hourly sums of committed batches held for this process's fold, and
    /// how long their pending rows are left to it before any fold reads them back (see
    /// `held`).
    held: Option<(held::SharedSums, i64)>,
    /// Leaderships this connection holds (see [`crate::cluster`]).
    leading: HashSet<String>,
    /// The loggers' series this connection has written to `series` (see `upload_rows`).
    series: upload_rows::SeriesSeen,
    /// Where it connected, for [`crate::ClusterStore::another_writer`].
    url: String,
    schema: Option<String>,
}

/// A store error from a PostgreSQL error, with the server's SQLSTATE and detail.
fn pg(e: ::postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Postgres {
            sqlstate: Some(db.code().code().to_string()),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
        },
        None => StoreError::Postgres {
            sqlstate: e.code().map(|c| c.code().to_string()),
            message: e.to_string(),
            detail: None,
        },
    }
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
        // The store's statements are short: JIT compilation (chosen by estimated cost, which
        // stale statistics of a fast-growing table inflate) would only add to them.
        client
            .batch_execute("SET synchronous_commit = on; SET jit = off")
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
            rules: IngestRules::default(),
            statements: HashMap::new(),
            stepwise: std::env::var("REWATER_PG_STEPWISE").is_ok_and(|v| v == "1"),
            defer: false,
            copy: PostgresStore::copy_from_env(),
            held: None,
            leading: HashSet::new(),
            series: upload_rows::SeriesSeen::default(),
            url: url.to_string(),
            schema: schema.map(str::to_string),
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
            let month = format!("m{:04}_{:02}", idx.div_euclid(12), idx.rem_euclid(12) + 1);
            // Both tables behind the view `reading` (see `upload_rows`): uploads' rows, and
            // corrections' rows (which take the month of the reading they correct).
            for table in ["upload_reading", "reading_row"] {
                let part = if table == "reading_row" {
                    "reading"
                } else {
                    table
                };
                let created = self
                    .client
                    .batch_execute(&format!(
                        "CREATE TABLE IF NOT EXISTS {part}_{month} PARTITION OF {table} FOR VALUES FROM ({start}) TO ({end})"
                    ))
                    .map_err(pg);
                match created {
                    Ok(()) => {}
                    // Another writer (or gateway) created it at the same moment: 42P07 for
                    // the relation, 23505 for its catalogue row.
                    Err(StoreError::Postgres {
                        sqlstate: Some(c), ..
                    }) if c == "42P07" || c == "23505" => {}
                    Err(e) => return Err(e),
                }
            }
            self.months.insert(idx);
        }
        Ok(())
    }

    /// The session's `synchronous_commit` (always "on": set at connect).
    pub fn synchronous_commit(&mut self) -> Result<String> {
        Ok(self
            .client
            .query_one("SHOW synchronous_commit", &[])
            .map_err(pg)?
            .get(0))
    }

    /// A statement prepared once per connection.
    fn prepared(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(pg)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    /// Moves the register's version on.
    fn bump_config(c: &mut impl ::postgres::GenericClient) -> Result<()> {
        c.execute(
            "INSERT INTO meta (key, value) VALUES ('config_version', '1')
             ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text",
            &[],
        )
        .map_err(pg)?;
        Ok(())
    }
}

impl Store for PostgresStore {
    fn migrate(&mut self) -> Result<()> {
        crate::migrate::run(self, schema::MIGRATIONS)?;
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

    fn schema_version(&mut self) -> Result<i64> {
        version_in(&mut self.client)
    }

    fn buffer_cache_bytes(&mut self) -> Result<Option<i64>> {
        // `setting` counts blocks of `block_size` bytes.
        let r = self
            .client
            .query_one(
                "SELECT setting::bigint * current_setting('block_size')::bigint FROM pg_settings
                 WHERE name = 'shared_buffers'",
                &[],
            )
            .map_err(pg)?;
        Ok(Some(r.get(0)))
    }
}
