//! Readings, rejected frames and their SQL (the rules are in [`crate::ingest`] and
//! [`crate::rejected`]).

use super::{pg, PostgresStore};
use crate::ingest::{Checked, HourSum, IngestSql, Key, ReadingRow};
use crate::rejected::{Group, RejectedSql, SampleRow};
use crate::*;
use ::postgres::Transaction;
use std::collections::{HashMap, HashSet};

const EFFECTIVE: &str = "NOT EXISTS (SELECT 1 FROM reading c WHERE c.corrects = r.id)";
const READING_COLUMNS: &str = "r.id, r.mn, r.factor, r.cn, r.data_time, r.value, r.min, r.max, r.cou, r.flag, r.corrects, r.reason, r.changed_by, r.received_at_ms";

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

impl PostgresStore {
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

impl IngestSql for PostgresStore {
    fn prepare_times(&mut self, times: &mut dyn Iterator<Item = i64>) -> Result<()> {
        self.ensure_partitions(times)
    }

    fn begin(&mut self) -> Result<()> {
        self.client.batch_execute("BEGIN").map_err(pg)
    }

    fn commit(&mut self) -> Result<()> {
        self.client.batch_execute("COMMIT").map_err(pg)
    }

    fn rollback(&mut self) {
        if let Err(e) = self.client.batch_execute("ROLLBACK") {
            tracing::warn!(error = %pg(e), "rollback failed");
        }
    }

    fn insert_frames(&mut self, uploads: &[Checked<'_>]) -> Result<Vec<i64>> {
        // Frame ids first, so that every later statement can name them.
        let next = self.prepared(
            "SELECT nextval('frame_id_seq') FROM generate_series(1::bigint, $1::bigint)",
        )?;
        let ids: Vec<i64> = self
            .client
            .query(&next, &[&(uploads.len() as i64)])
            .map_err(pg)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let received: Vec<i64> = uploads.iter().map(|c| c.u.received_at_ms).collect();
        let peers: Vec<&str> = uploads.iter().map(|c| c.peer.as_ref()).collect();
        let mns: Vec<&str> = uploads.iter().map(|c| c.u.mn.as_str()).collect();
        let cns: Vec<&str> = uploads.iter().map(|c| c.u.cn.as_str()).collect();
        let raws: Vec<&str> = uploads.iter().map(|c| c.raw.as_ref()).collect();
        let insert = self.prepared(
            "INSERT INTO frame (id, received_at_ms, peer, mn, cn, raw, status)
             SELECT id, r, p, m, c, raw, 'data' FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(id, r, p, m, c, raw)",
        )?;
        self.client
            .execute(&insert, &[&ids, &received, &peers, &mns, &cns, &raws])
            .map_err(pg)?;
        Ok(ids)
    }

    fn claim(&mut self, keys: &[(Key<'_>, i64)]) -> Result<Vec<Option<i64>>> {
        let mns: Vec<&str> = keys.iter().map(|k| k.0 .0).collect();
        let cns: Vec<&str> = keys.iter().map(|k| k.0 .1).collect();
        let times: Vec<i64> = keys.iter().map(|k| k.0 .2).collect();
        // PNO is at most 9999 (checked), so it fits the int column.
        let pnos: Vec<i32> = keys.iter().map(|k| k.0 .3 as i32).collect();
        let frames: Vec<i64> = keys.iter().map(|k| k.1).collect();
        let insert = self.prepared(
            "INSERT INTO upload (mn, cn, data_time, pno, frame_id)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::int[], $5::bigint[])
             ON CONFLICT DO NOTHING RETURNING frame_id",
        )?;
        let inserted: HashSet<i64> = self
            .client
            .query(&insert, &[&mns, &cns, &times, &pnos, &frames])
            .map_err(pg)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // Keys stored before this batch: find the frame that first carried them.
        let mut earlier: HashMap<(String, String, i64, i32), i64> = HashMap::new();
        if inserted.len() < keys.len() {
            let find = self.prepared(
                "SELECT u.mn, u.cn, u.data_time, u.pno, u.frame_id FROM upload u
                 JOIN UNNEST($1::text[], $2::text[], $3::bigint[], $4::int[]) AS k(mn, cn, t, pno)
                   ON u.mn = k.mn AND u.cn = k.cn AND u.data_time = k.t AND u.pno = k.pno",
            )?;
            for r in self
                .client
                .query(&find, &[&mns, &cns, &times, &pnos])
                .map_err(pg)?
            {
                earlier.insert((r.get(0), r.get(1), r.get(2), r.get(3)), r.get(4));
            }
        }
        Ok(keys
            .iter()
            .map(|((mn, cn, t, pno), frame)| {
                if inserted.contains(frame) {
                    None
                } else {
                    // Present: the insert conflicted with it in this transaction.
                    Some(
                        earlier
                            .get(&(mn.to_string(), cn.to_string(), *t, *pno as i32))
                            .copied()
                            .unwrap_or(*frame),
                    )
                }
            })
            .collect())
    }

    fn insert_readings(&mut self, rows: &[ReadingRow<'_>]) -> Result<()> {
        let mn: Vec<&str> = rows.iter().map(|x| x.mn).collect();
        let f: Vec<&str> = rows.iter().map(|x| x.r.factor).collect();
        let cn: Vec<&str> = rows.iter().map(|x| x.cn).collect();
        let t: Vec<i64> = rows.iter().map(|x| x.data_time).collect();
        let v: Vec<Option<f64>> = rows.iter().map(|x| x.r.value).collect();
        let lo: Vec<Option<f64>> = rows.iter().map(|x| x.r.min).collect();
        let hi: Vec<Option<f64>> = rows.iter().map(|x| x.r.max).collect();
        let cou: Vec<Option<f64>> = rows.iter().map(|x| x.r.cou).collect();
        let flag: Vec<Option<&str>> = rows.iter().map(|x| x.r.flag).collect();
        let frame: Vec<i64> = rows.iter().map(|x| x.frame_id).collect();
        let recv: Vec<i64> = rows.iter().map(|x| x.received_at_ms).collect();
        let st = self.prepared(
            "INSERT INTO reading (mn, factor, cn, data_time, value, min, max, cou, flag, frame_id, received_at_ms)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[],
                                  $8::float8[], $9::text[], $10::bigint[], $11::bigint[])",
        )?;
        self.client
            .execute(
                &st,
                &[&mn, &f, &cn, &t, &v, &lo, &hi, &cou, &flag, &frame, &recv],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn add_hour_sums(&mut self, sums: &[HourSum<'_>]) -> Result<()> {
        let mn: Vec<&str> = sums.iter().map(|s| s.mn).collect();
        let f: Vec<&str> = sums.iter().map(|s| s.factor).collect();
        let start: Vec<i64> = sums.iter().map(|s| s.start).collect();
        let n: Vec<i64> = sums.iter().map(|s| s.n).collect();
        let sum: Vec<f64> = sums.iter().map(|s| s.sum).collect();
        let lo: Vec<f64> = sums.iter().map(|s| s.min).collect();
        let hi: Vec<f64> = sums.iter().map(|s| s.max).collect();
        let st = self.prepared(
            "INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max)
             SELECT m, f, 'hour', s, n, sum, mi, ma FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[]) AS t(m, f, s, n, sum, mi, ma)
             ON CONFLICT (mn, factor, period, start) DO UPDATE SET
               n = aggregate.n + excluded.n, sum = aggregate.sum + excluded.sum,
               min = LEAST(aggregate.min, excluded.min), max = GREATEST(aggregate.max, excluded.max)",
        )?;
        self.client
            .execute(&st, &[&mn, &f, &start, &n, &sum, &lo, &hi])
            .map_err(pg)?;
        Ok(())
    }
}

impl RejectedSql for PostgresStore {
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
        let st = self.prepared("SELECT COUNT(*) FROM rejected WHERE hour_start = $1")?;
        Ok(self
            .client
            .query_one(&st, &[&hour_start_s])
            .map_err(pg)?
            .get(0))
    }

    fn count_of(
        &mut self,
        hour_start_s: i64,
        source: &str,
        reason: RejectReason,
    ) -> Result<Option<i64>> {
        let st = self.prepared(
            "SELECT count FROM rejected WHERE hour_start = $1 AND source = $2 AND reason = $3",
        )?;
        Ok(self
            .client
            .query_opt(&st, &[&hour_start_s, &source, &reason.as_str()])
            .map_err(pg)?
            .map(|r| r.get(0)))
    }

    fn add_count(&mut self, g: &Group<'_>) -> Result<()> {
        let st = self.prepared(
            "INSERT INTO rejected (hour_start, source, reason, count, first_at_ms, last_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (hour_start, source, reason) DO UPDATE SET count = rejected.count + excluded.count,
               first_at_ms = LEAST(rejected.first_at_ms, excluded.first_at_ms),
               last_at_ms = GREATEST(rejected.last_at_ms, excluded.last_at_ms)",
        )?;
        self.client
            .execute(
                &st,
                &[
                    &g.hour_start_s,
                    &g.source,
                    &g.reason.as_str(),
                    &g.count,
                    &g.first_at_ms,
                    &g.last_at_ms,
                ],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn insert_sample(&mut self, g: &Group<'_>, s: &SampleRow<'_>) -> Result<()> {
        let st = self.prepared(
            "INSERT INTO rejected_sample (hour_start, source, reason, received_at_ms, peer, mn, cn, detail, head)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )?;
        let f = s.frame;
        let clip = |x: &str| -> String {
            x.chars()
                .take(64)
                .map(|c| if c == '\0' { '\u{FFFD}' } else { c })
                .collect()
        };
        let (peer, mn, cn) = (
            clip(&f.peer),
            f.mn.as_deref().map(clip),
            f.cn.as_deref().map(clip),
        );
        self.client
            .execute(
                &st,
                &[
                    &g.hour_start_s,
                    &g.source,
                    &g.reason.as_str(),
                    &f.received_at_ms,
                    &peer,
                    &mn,
                    &cn,
                    &s.detail,
                    &s.head,
                ],
            )
            .map_err(pg)?;
        Ok(())
    }
}

impl ReadingStore for PostgresStore {
    fn ingest_rules(&self) -> &IngestRules {
        &self.rules
    }

    fn set_ingest_rules(&mut self, rules: IngestRules) {
        self.rules = rules;
    }

    fn ingest(&mut self, batch: &[Upload]) -> Result<Vec<IngestOutcome>> {
        let rules = self.rules.clone();
        crate::ingest::ingest(self, &rules, batch)
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
        self.client
            .query(
                "SELECT hour_start, source, reason, count, first_at_ms, last_at_ms FROM rejected
                 WHERE hour_start >= $1 AND hour_start < $2 ORDER BY hour_start DESC, count DESC, source LIMIT $3",
                &[&from_s, &to_s, &limit],
            )
            .map_err(pg)?
            .iter()
            .map(|r| {
                Ok(RejectedCount {
                    hour_start_s: r.get(0),
                    source: r.get(1),
                    reason: r.get::<_, String>(2).parse()?,
                    count: r.get(3),
                    first_at_ms: r.get(4),
                    last_at_ms: r.get(5),
                })
            })
            .collect()
    }

    fn rejected_samples(
        &mut self,
        hour_start_s: i64,
        source: &str,
        reason: RejectReason,
    ) -> Result<Vec<RejectedSample>> {
        self.client
            .query(
                "SELECT hour_start, source, reason, received_at_ms, peer, mn, cn, detail, head FROM rejected_sample
                 WHERE hour_start = $1 AND source = $2 AND reason = $3 ORDER BY id",
                &[&hour_start_s, &source, &reason.as_str()],
            )
            .map_err(pg)?
            .iter()
            .map(|r| {
                Ok(RejectedSample {
                    hour_start_s: r.get(0),
                    source: r.get(1),
                    reason: r.get::<_, String>(2).parse()?,
                    received_at_ms: r.get(3),
                    peer: r.get(4),
                    mn: r.get(5),
                    cn: r.get(6),
                    detail: r.get(7),
                    head: r.get(8),
                })
            })
            .collect()
    }

    fn purge_rejected(&mut self, before_ms: i64) -> Result<usize> {
        let mut tx = self.client.transaction().map_err(pg)?;
        let n = tx
            .execute("DELETE FROM rejected WHERE last_at_ms < $1", &[&before_ms])
            .map_err(pg)?
            + tx.execute(
                "DELETE FROM rejected_sample WHERE received_at_ms < $1",
                &[&before_ms],
            )
            .map_err(pg)?;
        tx.commit().map_err(pg)?;
        Ok(n as usize)
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
