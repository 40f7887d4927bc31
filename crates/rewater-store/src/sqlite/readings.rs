//! Readings, rejected frames and their SQL (the rules are in [`crate::ingest`] and
//! [`crate::rejected`]).

use super::{word, SqliteStore};
use crate::ingest::{Checked, HourSum, IngestSql, Key, ReadingRow};
use crate::rejected::{Group, RejectedSql, SampleRow};
use crate::*;
use rusqlite::{params, OptionalExtension};

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

const READING_COLUMNS: &str = "r.id, r.mn, r.factor, r.cn, r.data_time, r.value, r.min, r.max, r.cou, r.flag, r.corrects, r.reason, r.changed_by, r.received_at_ms";

/// Rows per multi-row reading insert (11 parameters each).
const CHUNK: usize = 32;

/// `INSERT INTO reading … VALUES (…), …` for 1..=CHUNK rows, built once.
fn insert_readings_sql(n: usize) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    &SQL.get_or_init(|| {
        (0..=CHUNK)
            .map(|n| {
                format!(
                    "INSERT INTO reading (mn, factor, cn, data_time, value, min, max, cou, flag, frame_id, received_at_ms) VALUES {}",
                    vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; n].join(", ")
                )
            })
            .collect()
    })[n]
}

/// The hourly-aggregate upsert for 1..=CHUNK buckets (each key once per statement).
fn add_hour_sums_sql(n: usize) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    &SQL.get_or_init(|| {
        (0..=CHUNK)
            .map(|n| {
                format!(
                    "INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max) VALUES {}
                     ON CONFLICT (mn, factor, period, start) DO UPDATE SET
                       n = n + excluded.n, sum = sum + excluded.sum, min = MIN(min, excluded.min), max = MAX(max, excluded.max)",
                    vec!["(?, ?, 'hour', ?, ?, ?, ?, ?)"; n].join(", ")
                )
            })
            .collect()
    })[n]
}

impl SqliteStore {
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

impl IngestSql for SqliteStore {
    fn prepare_times(&mut self, _: &mut dyn Iterator<Item = i64>) -> Result<()> {
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn commit(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "rollback failed");
            }
        }
    }

    fn insert_frames(&mut self, uploads: &[Checked<'_>]) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO frame (received_at_ms, peer, mn, cn, raw, status) VALUES (?1, ?2, ?3, ?4, ?5, 'data')",
        )?;
        let mut ids = Vec::with_capacity(uploads.len());
        for c in uploads {
            st.execute(params![
                c.u.received_at_ms,
                c.peer.as_ref(),
                c.u.mn,
                c.u.cn,
                c.raw.as_ref()
            ])?;
            ids.push(self.conn.last_insert_rowid());
        }
        Ok(ids)
    }

    fn claim(&mut self, keys: &[(Key<'_>, i64)]) -> Result<Vec<Option<i64>>> {
        let mut insert = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO upload (mn, cn, data_time, pno, frame_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut find = self.conn.prepare_cached(
            "SELECT frame_id FROM upload WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pno = ?4",
        )?;
        let mut out = Vec::with_capacity(keys.len());
        for ((mn, cn, t, pno), frame) in keys {
            if insert.execute(params![mn, cn, t, pno, frame])? == 1 {
                out.push(None);
            } else {
                out.push(Some(find.query_row(params![mn, cn, t, pno], |r| r.get(0))?));
            }
        }
        Ok(out)
    }

    fn insert_readings(&mut self, rows: &[ReadingRow<'_>]) -> Result<()> {
        use rusqlite::types::ToSql;
        let mut args: Vec<&dyn ToSql> = Vec::with_capacity(11 * CHUNK);
        for chunk in rows.chunks(CHUNK) {
            let mut st = self.conn.prepare_cached(insert_readings_sql(chunk.len()))?;
            args.clear();
            for x in chunk {
                args.extend_from_slice(&[
                    &x.mn,
                    &x.r.factor,
                    &x.cn,
                    &x.data_time,
                    &x.r.value,
                    &x.r.min,
                    &x.r.max,
                    &x.r.cou,
                    &x.r.flag,
                    &x.frame_id,
                    &x.received_at_ms,
                ]);
            }
            st.execute(args.as_slice())?;
        }
        Ok(())
    }

    fn add_hour_sums(&mut self, sums: &[HourSum<'_>]) -> Result<()> {
        use rusqlite::types::ToSql;
        let mut args: Vec<&dyn ToSql> = Vec::with_capacity(7 * CHUNK);
        for chunk in sums.chunks(CHUNK) {
            let mut st = self.conn.prepare_cached(add_hour_sums_sql(chunk.len()))?;
            args.clear();
            for x in chunk {
                args.extend_from_slice(&[&x.mn, &x.factor, &x.start, &x.n, &x.sum, &x.min, &x.max]);
            }
            st.execute(args.as_slice())?;
        }
        Ok(())
    }

    fn feed(&mut self, frame_ids: &[i64]) -> Result<()> {
        let list: Vec<String> = frame_ids.iter().map(i64::to_string).collect();
        self.conn
            .prepare_cached("INSERT INTO alert_feed (frames, at_ms) VALUES (?1, ?2)")?
            .execute(params![list.join(","), crate::ingest::now_ms()])?;
        Ok(())
    }
}

impl crate::cluster::ClusterStore for SqliteStore {
    /// One process owns a SQLite store: it always leads.
    fn try_lead(&mut self, _role: &str) -> Result<bool> {
        Ok(true)
    }

    fn alert_feed(&mut self, limit: i64) -> Result<Vec<crate::FeedBatch>> {
        let batches: Vec<(i64, String)> = self
            .conn
            .prepare_cached("SELECT id, frames FROM alert_feed ORDER BY id LIMIT ?1")?
            .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut frame = self
            .conn
            .prepare_cached("SELECT id, received_at_ms, peer, mn, raw FROM frame WHERE id = ?1")?;
        let mut out = Vec::with_capacity(batches.len());
        for (id, list) in batches {
            let mut frames = Vec::new();
            for fid in list.split(',').filter_map(|x| x.trim().parse::<i64>().ok()) {
                // A frame removed by retention since: nothing left to evaluate.
                if let Some(f) = frame
                    .query_row([fid], |r| {
                        Ok(crate::StoredFrame {
                            id: r.get(0)?,
                            received_at_ms: r.get(1)?,
                            peer: r.get(2)?,
                            mn: r.get(3)?,
                            raw: r.get(4)?,
                        })
                    })
                    .optional()?
                {
                    frames.push(f);
                }
            }
            out.push(crate::FeedBatch { id, frames });
        }
        Ok(out)
    }

    fn done_alert_feed(&mut self, ids: &[i64]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.execute("DELETE FROM alert_feed WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn alert_feed_len(&mut self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM alert_feed", [], |r| r.get(0))?)
    }

    /// SQLite takes one writer at a time.
    fn another_writer(&mut self) -> Result<Option<Box<dyn crate::Store>>> {
        Ok(None)
    }
}

impl RejectedSql for SqliteStore {
    fn begin_rejected(&mut self) -> Result<()> {
        self.begin()
    }

    fn commit_rejected(&mut self) -> Result<()> {
        self.commit()
    }

    fn rollback_rejected(&mut self) {
        self.rollback()
    }

    fn keys_in_hour(&mut self, hour_start_s: i64) -> Result<i64> {
        let mut st = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM rejected WHERE hour_start = ?1")?;
        Ok(st.query_row(params![hour_start_s], |r| r.get(0))?)
    }

    fn count_of(
        &mut self,
        hour_start_s: i64,
        source: &str,
        reason: RejectReason,
    ) -> Result<Option<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT count FROM rejected WHERE hour_start = ?1 AND source = ?2 AND reason = ?3",
        )?;
        Ok(st
            .query_row(params![hour_start_s, source, reason.as_str()], |r| r.get(0))
            .optional()?)
    }

    fn add_count(&mut self, g: &Group<'_>) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO rejected (hour_start, source, reason, count, first_at_ms, last_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (hour_start, source, reason) DO UPDATE SET count = count + excluded.count,
               first_at_ms = MIN(first_at_ms, excluded.first_at_ms), last_at_ms = MAX(last_at_ms, excluded.last_at_ms)",
        )?;
        st.execute(params![
            g.hour_start_s,
            g.source,
            g.reason.as_str(),
            g.count,
            g.first_at_ms,
            g.last_at_ms
        ])?;
        Ok(())
    }

    fn insert_sample(&mut self, g: &Group<'_>, s: &SampleRow<'_>) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO rejected_sample (hour_start, source, reason, received_at_ms, peer, mn, cn, detail, head)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let f = s.frame;
        let clip =
            |x: &Option<String>| x.as_deref().map(|v| v.chars().take(64).collect::<String>());
        st.execute(params![
            g.hour_start_s,
            g.source,
            g.reason.as_str(),
            f.received_at_ms,
            f.peer.chars().take(64).collect::<String>(),
            clip(&f.mn),
            clip(&f.cn),
            s.detail,
            s.head
        ])?;
        Ok(())
    }
}

impl ReadingStore for SqliteStore {
    fn ingest_rules(&self) -> &IngestRules {
        &self.rules
    }

    fn set_ingest_rules(&mut self, rules: IngestRules) {
        self.rules = rules;
    }

    fn ingest(&mut self, batch: &[Upload]) -> Result<Vec<IngestOutcome>> {
        let rules = self.rules.clone();
        let out = crate::ingest::ingest(self, &rules, batch)?;
        self.bound_wal();
        Ok(out)
    }

    fn log_rejected(&mut self, frames: &[RejectedFrame]) -> Result<()> {
        crate::rejected::log(self, frames)
    }

    fn rejected_counts(
        &mut self,
        from_s: i64,
        to_s: i64,
        limit: i64,
    ) -> Result<Vec<RejectedCount>> {
        let mut st = self.conn.prepare_cached(
            "SELECT hour_start, source, reason, count, first_at_ms, last_at_ms FROM rejected
             WHERE hour_start >= ?1 AND hour_start < ?2 ORDER BY hour_start DESC, count DESC, source LIMIT ?3",
        )?;
        let rows = st.query_map(params![from_s, to_s, limit], |r| {
            Ok(RejectedCount {
                hour_start_s: r.get(0)?,
                source: r.get(1)?,
                reason: word(r, 2)?,
                count: r.get(3)?,
                first_at_ms: r.get(4)?,
                last_at_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn rejected_samples(
        &mut self,
        hour_start_s: i64,
        source: &str,
        reason: RejectReason,
    ) -> Result<Vec<RejectedSample>> {
        let mut st = self.conn.prepare_cached(
            "SELECT hour_start, source, reason, received_at_ms, peer, mn, cn, detail, head FROM rejected_sample
             WHERE hour_start = ?1 AND source = ?2 AND reason = ?3 ORDER BY id",
        )?;
        let rows = st.query_map(params![hour_start_s, source, reason.as_str()], |r| {
            Ok(RejectedSample {
                hour_start_s: r.get(0)?,
                source: r.get(1)?,
                reason: word(r, 2)?,
                received_at_ms: r.get(3)?,
                peer: r.get(4)?,
                mn: r.get(5)?,
                cn: r.get(6)?,
                detail: r.get(7)?,
                head: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn purge_rejected(&mut self, before_ms: i64) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM rejected WHERE last_at_ms < ?1",
            params![before_ms],
        )? + tx.execute(
            "DELETE FROM rejected_sample WHERE received_at_ms < ?1",
            params![before_ms],
        )?;
        tx.commit()?;
        Ok(n)
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

    fn latest(&mut self, mn: &str) -> Result<Vec<Reading>> {
        // The logger's factors by a skip-scan of the (mn, factor, data_time) index, then each
        // factor's newest time by the same index: O(factors · log n), not a scan of the
        // logger's whole history (≈ 1 s for a year of 5-minute data).
        let sql = format!(
            "WITH RECURSIVE f(factor) AS (
                 SELECT MIN(factor) FROM reading WHERE mn = ?1
                 UNION ALL
                 SELECT (SELECT MIN(x.factor) FROM reading x WHERE x.mn = ?1 AND x.factor > f.factor)
                 FROM f WHERE f.factor IS NOT NULL)
             SELECT {READING_COLUMNS} FROM f JOIN reading r
               ON r.mn = ?1 AND r.factor = f.factor
              AND r.data_time = (SELECT MAX(r2.data_time) FROM reading r2 WHERE r2.mn = ?1 AND r2.factor = f.factor)
             WHERE f.factor IS NOT NULL AND {EFFECTIVE}
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

/// SQLite adds each batch to the aggregates in the batch: nothing is deferred or pending.
impl crate::fold::AggregateFold for SqliteStore {
    fn aggregates_differing(&mut self) -> Result<i64> {
        const HOUR: &str = "(r.data_time - ((r.data_time % 3600) + 3600) % 3600)";
        let sql = format!(
            "WITH want AS (
               SELECT r.mn, r.factor, {HOUR} AS start, COUNT(*) AS n, round(SUM(r.value), 6) AS sum,
                      MIN(r.value) AS lo, MAX(r.value) AS hi
               FROM reading r
               WHERE r.cn IN ('2011', '2051') AND r.flag = 'N' AND r.value IS NOT NULL AND {EFFECTIVE}
               GROUP BY 1, 2, 3),
             have AS (SELECT mn, factor, start, n, round(sum, 6), min, max FROM aggregate
                      WHERE period = 'hour')
             SELECT (SELECT COUNT(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM have))
                  + (SELECT COUNT(*) FROM (SELECT * FROM have EXCEPT SELECT * FROM want))"
        );
        Ok(self.conn.query_row(&sql, [], |r| r.get(0))?)
    }
}
