//! Readings, rejected frames and their SQL (the rules are in [`crate::ingest`] and
//! [`crate::rejected`]).

use super::{pg, PostgresStore};
use crate::ingest::{Checked, HourSum, IngestSql, Key, OneShot, Plan, ReadingRow};
use crate::rejected::{Group, RejectedSql, SampleRow};
use crate::*;
use std::collections::{HashMap, HashSet};

/// Reading `r` has no correction (corrections are rows of `reading_row`, see
/// [`super::upload_rows`]).
const EFFECTIVE: &str = "NOT EXISTS (SELECT 1 FROM reading_row c WHERE c.corrects = r.id)";
const READING_COLUMNS: &str = "r.id, r.mn, r.factor, r.cn, r.data_time, r.value, r.min, r.max, r.cou, r.flag, r.corrects, r.reason, r.changed_by, r.received_at_ms";

/// Refuses a batch with an upload of more readings than an upload row's ids can number
/// ([`super::upload_rows::BLOCK`]); `frames` gives each reading's upload, uploads together.
fn check_upload_sizes(frames: impl Iterator<Item = i64>) -> Result<()> {
    let mut run: Option<(i64, i64)> = None;
    for f in frames {
        let n = match run {
            Some((g, n)) if g == f => n + 1,
            _ => 1,
        };
        if n > super::upload_rows::BLOCK {
            return Err(StoreError::Invalid(format!(
                "an upload of more than {} readings (frame {f})",
                super::upload_rows::BLOCK
            )));
        }
        run = Some((f, n));
    }
    Ok(())
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

/// The batch statement's head, shared by both ways of writing the readings (this statement,
/// and [`super::copy`]): the uploads, their frame ids and frames, and the keys claimed (`cl`:
/// ordinal and frame id of each claiming upload).
macro_rules! batch_head {
    () => {
        r#"
WITH u AS MATERIALIZED (
  SELECT recv, peer, mn COLLATE "C" AS mn, cn COLLATE "C" AS cn, dt, pno, raw, first, hour, ord
  FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[],
              $7::text[], $8::bool[], $9::bigint[])
    WITH ORDINALITY AS u(recv, peer, mn, cn, dt, pno, raw, first, hour, ord)),
ids AS MATERIALIZED (SELECT ord, nextval('frame_id_seq') AS id FROM u),
f AS (INSERT INTO frame (id, received_at_ms, peer, mn, cn, raw, status)
      SELECT ids.id, u.recv, u.peer, u.mn, u.cn, u.raw, 'data' FROM u JOIN ids USING (ord)),
c AS (INSERT INTO upload (mn, cn, data_time, pno, frame_id)
      SELECT u.mn, u.cn, u.dt, u.pno, ids.id FROM u JOIN ids USING (ord) WHERE u.first
      ORDER BY u.mn, u.cn, u.dt, u.pno
      ON CONFLICT DO NOTHING RETURNING frame_id),
cl AS MATERIALIZED (SELECT ids.ord, ids.id FROM ids JOIN c ON c.frame_id = ids.id),
"#
    };
}

/// A whole batch in one statement (one round trip, one implicit transaction): frame ids
/// drawn, frames inserted, the keys of the firsts claimed in key order (so that two gateways
/// writing overlapping batches lock in the same order), and the readings and hourly sums of
/// the claimed uploads only. Returns, per upload in order, its frame id and whether it
/// claimed its key. Codes are sorted and grouped bytewise (`COLLATE "C"`, as the key columns
/// are since migration 11). Written once for both aggregate steps (`$ir_end` ends the
/// readings' insert).
macro_rules! one_shot {
    ($ir_end:literal, $aggregates:literal) => {
        concat!(
            batch_head!(),
            r#"r AS MATERIALIZED (
  SELECT ord, k, factor COLLATE "C" AS factor, value, min, max, cou, flag, agg
  FROM UNNEST($10::bigint[], $11::text[], $12::float8[], $13::float8[], $14::float8[],
              $15::float8[], $16::text[], $17::float8[])
    WITH ORDINALITY AS r(ord, factor, value, min, max, cou, flag, agg, k)),
sr AS (INSERT INTO series (mn, factor, last_t)
       SELECT u.mn, r.factor, MAX(u.dt) FROM r JOIN cl USING (ord) JOIN u USING (ord)
       GROUP BY 1, 2 ORDER BY 1, 2
       ON CONFLICT (mn, factor) DO UPDATE SET last_t = excluded.last_t
       WHERE series.last_t < excluded.last_t - 3600),
ir AS (INSERT INTO upload_reading (mn, cn, data_time, factor, value, min, max, cou, flag, frame_id, received_at_ms)
       SELECT u.mn, u.cn, u.dt, array_agg(r.factor ORDER BY r.k), array_agg(r.value ORDER BY r.k),
              array_agg(r.min ORDER BY r.k), array_agg(r.max ORDER BY r.k), array_agg(r.cou ORDER BY r.k),
              array_agg(r.flag ORDER BY r.k), cl.id, u.recv
       FROM r JOIN cl USING (ord) JOIN u USING (ord) GROUP BY u.ord, u.mn, u.cn, u.dt, cl.id, u.recv"#,
            $ir_end,
            "),\n",
            $aggregates,
            ",\n",
            r#"fd AS (INSERT INTO alert_feed (frames, at_ms)
       SELECT array_agg(id ORDER BY ord), $19::bigint FROM cl WHERE $18::bool HAVING COUNT(*) > 0)
SELECT ids.ord, ids.id, cl.ord IS NOT NULL FROM ids LEFT JOIN cl USING (ord)"#
        )
    };
}

/// The batch adding its hourly sums to the aggregates at once.
const ONE_SHOT: &str = one_shot!(
    "",
    r#"ia AS (INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max)
       SELECT u.mn, r.factor, 'hour', u.hour, COUNT(*), SUM(r.agg), MIN(r.agg), MAX(r.agg)
       FROM r JOIN cl USING (ord) JOIN u USING (ord) WHERE r.agg IS NOT NULL AND u.hour IS NOT NULL
       GROUP BY u.mn, r.factor, u.hour ORDER BY u.mn, r.factor, u.hour
       ON CONFLICT (mn, factor, period, start) DO UPDATE SET
         n = aggregate.n + excluded.n, sum = aggregate.sum + excluded.sum,
         min = LEAST(aggregate.min, excluded.min), max = GREATEST(aggregate.max, excluded.max))"#
);

/// The batch leaving its readings to the fold ([`crate::fold`]): one `aggregate_pending` row
/// naming the claimed readings' id range and this transaction.
pub(super) const ONE_SHOT_DEFERRED: &str = one_shot!(
    " RETURNING id, data_time",
    r#"ia AS (INSERT INTO aggregate_pending (lo, hi, xid, t_lo, t_hi)
       SELECT MIN(id), MAX(id) + 1023, pg_current_xact_id()::xid, MIN(data_time), MAX(data_time)
       FROM ir HAVING COUNT(*) > 0)"#
);

/// The batch statement of [`super::copy`]: frames, keys and the alert feed as above, no
/// readings; each row also carries a reading id drawn now, below every id the session's COPY
/// draws next.
pub(super) const COPY_HEAD: &str = concat!(
    batch_head!(),
    r#"fd AS (INSERT INTO alert_feed (frames, at_ms)
       SELECT array_agg(id ORDER BY ord), $11::bigint FROM cl WHERE $10::bool HAVING COUNT(*) > 0),
lo AS MATERIALIZED (SELECT nextval('reading_id_seq') AS lo)
SELECT ids.ord, ids.id, cl.ord IS NOT NULL, (SELECT lo FROM lo) FROM ids LEFT JOIN cl USING (ord)"#
);

impl PostgresStore {
    /// The frames that claimed these keys (stored before, or by another writer meanwhile).
    fn claimed_by(&mut self, keys: &[Key<'_>]) -> Result<HashMap<(String, String, i64, i32), i64>> {
        let mns: Vec<&str> = keys.iter().map(|k| k.0).collect();
        let cns: Vec<&str> = keys.iter().map(|k| k.1).collect();
        let times: Vec<i64> = keys.iter().map(|k| k.2).collect();
        let pnos: Vec<i32> = keys.iter().map(|k| k.3 as i32).collect();
        let find = self.prepared(
            "SELECT u.mn, u.cn, u.data_time, u.pno, u.frame_id FROM upload u
             JOIN UNNEST($1::text[], $2::text[], $3::bigint[], $4::int[]) AS k(mn, cn, t, pno)
               ON u.mn = k.mn AND u.cn = k.cn AND u.data_time = k.t AND u.pno = k.pno",
        )?;
        Ok(self
            .client
            .query(&find, &[&mns, &cns, &times, &pnos])
            .map_err(pg)?
            .iter()
            .map(|r| ((r.get(0), r.get(1), r.get(2), r.get(3)), r.get(4)))
            .collect())
    }

    fn one_shot(&mut self, uploads: &[Checked<'_>], plan: &Plan, feed: bool) -> Result<OneShot> {
        let n = uploads.len();
        let mut first = vec![false; n];
        for &i in &plan.firsts {
            first[i] = true;
        }
        let recv: Vec<i64> = uploads.iter().map(|c| c.u.received_at_ms).collect();
        let peers: Vec<&str> = uploads.iter().map(|c| c.peer.as_ref()).collect();
        let mns: Vec<&str> = uploads.iter().map(|c| c.u.mn.as_str()).collect();
        let cns: Vec<&str> = uploads.iter().map(|c| c.u.cn.as_str()).collect();
        let dts: Vec<i64> = uploads.iter().map(|c| c.u.data_time).collect();
        // PNO is at most 9999 (checked), so it fits the int column.
        let pnos: Vec<i32> = uploads.iter().map(|c| c.u.pno as i32).collect();
        let raws: Vec<&str> = uploads.iter().map(|c| c.raw.as_ref()).collect();
        let total: usize = uploads.iter().map(|c| c.readings.len()).sum();
        let mut r_ord: Vec<i64> = Vec::with_capacity(total);
        let mut r_factor: Vec<&str> = Vec::with_capacity(total);
        let mut r_value: Vec<Option<f64>> = Vec::with_capacity(total);
        let mut r_min: Vec<Option<f64>> = Vec::with_capacity(total);
        let mut r_max: Vec<Option<f64>> = Vec::with_capacity(total);
        let mut r_cou: Vec<Option<f64>> = Vec::with_capacity(total);
        let mut r_flag: Vec<Option<&str>> = Vec::with_capacity(total);
        let mut r_agg: Vec<Option<f64>> = Vec::with_capacity(total);
        check_upload_sizes(
            uploads
                .iter()
                .enumerate()
                .flat_map(|(i, c)| c.readings.iter().map(move |_| i as i64)),
        )?;
        for (i, c) in uploads.iter().enumerate() {
            // Readings of later copies in the batch would never be claimed: not sent.
            if !first[i] {
                continue;
            }
            for r in &c.readings {
                r_ord.push(i as i64 + 1);
                r_factor.push(r.factor);
                r_value.push(r.value);
                r_min.push(r.min);
                r_max.push(r.max);
                r_cou.push(r.cou);
                r_flag.push(r.flag);
                r_agg.push(plan.agg(i, r));
            }
        }
        let st = self.prepared(if self.defer {
            ONE_SHOT_DEFERRED
        } else {
            ONE_SHOT
        })?;
        let rows = self
            .client
            .query(
                &st,
                &[
                    &recv,
                    &peers,
                    &mns,
                    &cns,
                    &dts,
                    &pnos,
                    &raws,
                    &first,
                    &plan.hour,
                    &r_ord,
                    &r_factor,
                    &r_value,
                    &r_min,
                    &r_max,
                    &r_cou,
                    &r_flag,
                    &r_agg,
                    &feed,
                    &crate::ingest::now_ms(),
                ],
            )
            .map_err(pg)?;
        self.claims_from_rows(uploads, plan, &rows)
    }

    /// What the batch statement's rows (ordinal, frame id, claimed, …) say of each upload:
    /// frame ids in order and, per first, the frame that claimed its key before if not it.
    pub(super) fn claims_from_rows(
        &mut self,
        uploads: &[Checked<'_>],
        plan: &Plan,
        rows: &[::postgres::Row],
    ) -> Result<OneShot> {
        let n = uploads.len();
        let mut ids = vec![0i64; n];
        let mut claimed = vec![false; n];
        for r in rows {
            let ord: i64 = r.get(0);
            let Some(i) = usize::try_from(ord - 1).ok().filter(|&i| i < n) else {
                return Err(StoreError::Invalid(format!(
                    "batch statement returned ordinal {ord}"
                )));
            };
            ids[i] = r.get(1);
            claimed[i] = r.get(2);
        }
        if rows.len() != n {
            return Err(StoreError::Invalid(format!(
                "batch statement returned {} rows for {n} uploads",
                rows.len()
            )));
        }
        // Firsts that did not claim their key: another frame did, before or meanwhile.
        let lost: Vec<usize> = plan
            .firsts
            .iter()
            .copied()
            .filter(|&i| !claimed[i])
            .collect();
        let mut earlier = HashMap::new();
        if !lost.is_empty() {
            let keys: Vec<Key<'_>> = lost
                .iter()
                .map(|&i| {
                    let u = uploads[i].u;
                    (u.mn.as_str(), u.cn.as_str(), u.data_time, u.pno)
                })
                .collect();
            earlier = self.claimed_by(&keys)?;
        }
        let claims = plan
            .firsts
            .iter()
            .map(|&i| {
                if claimed[i] {
                    return None;
                }
                let u = uploads[i].u;
                Some(
                    earlier
                        .get(&(u.mn.clone(), u.cn.clone(), u.data_time, u.pno as i32))
                        .copied()
                        .unwrap_or(ids[i]),
                )
            })
            .collect();
        Ok((ids, claims))
    }
}

impl IngestSql for PostgresStore {
    fn write_one_shot(
        &mut self,
        uploads: &[Checked<'_>],
        plan: &Plan,
        feed: bool,
    ) -> Option<Result<OneShot>> {
        (!self.stepwise).then(|| {
            if self.defer && self.copy {
                self.one_shot_copy(uploads, plan, feed)
            } else {
                self.one_shot(uploads, plan, feed)
            }
        })
    }

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
        check_upload_sizes(rows.iter().map(|x| x.frame_id))?;
        // One row per upload (see `super::upload_rows`): a frame's readings come together.
        let st = self.prepared(
            "WITH x AS (SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[],
                                    $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::bigint[], $11::bigint[])
                          WITH ORDINALITY AS x(mn, f, cn, t, v, lo, hi, cou, flag, frame, recv, k)),
             s AS (INSERT INTO series (mn, factor, last_t) SELECT mn, f, MAX(t) FROM x GROUP BY 1, 2 ORDER BY mn COLLATE \"C\", f COLLATE \"C\"
                   ON CONFLICT (mn, factor) DO UPDATE SET last_t = excluded.last_t
                   WHERE series.last_t < excluded.last_t - 3600)
             INSERT INTO upload_reading (mn, cn, data_time, factor, value, min, max, cou, flag, frame_id, received_at_ms)
             SELECT mn, cn, t, array_agg(f ORDER BY k), array_agg(v ORDER BY k), array_agg(lo ORDER BY k),
                    array_agg(hi ORDER BY k), array_agg(cou ORDER BY k), array_agg(flag ORDER BY k), frame, recv
             FROM x GROUP BY frame, mn, cn, t, recv",
        )?;
        self.client
            .execute(
                &st,
                &[&mn, &f, &cn, &t, &v, &lo, &hi, &cou, &flag, &frame, &recv],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn feed(&mut self, frame_ids: &[i64]) -> Result<()> {
        let st =
            self.prepared("INSERT INTO alert_feed (frames, at_ms) VALUES ($1::bigint[], $2)")?;
        self.client
            .execute(&st, &[&frame_ids, &crate::ingest::now_ms()])
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

impl crate::cluster::ClusterStore for PostgresStore {
    fn try_lead(&mut self, role: &str) -> Result<bool> {
        if self.leading.contains(role) {
            return Ok(true);
        }
        let got: bool = self
            .client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtext(current_schema() || '.rewater-lead.' || $1))",
                &[&role],
            )
            .map_err(pg)?
            .get(0);
        if got {
            self.leading.insert(role.to_string());
        }
        Ok(got)
    }

    fn alert_feed(&mut self, limit: i64) -> Result<Vec<crate::FeedBatch>> {
        let rows = self
            .client
            .query(
                "SELECT f.id, fr.id, fr.received_at_ms, fr.peer, fr.mn, fr.raw
                 FROM (SELECT id, frames FROM alert_feed ORDER BY id LIMIT $1) f
                 CROSS JOIN LATERAL UNNEST(f.frames) WITH ORDINALITY AS x(fid, ord)
                 LEFT JOIN frame fr ON fr.id = x.fid ORDER BY f.id, x.ord",
                &[&limit],
            )
            .map_err(pg)?;
        let mut out: Vec<crate::FeedBatch> = Vec::new();
        for r in &rows {
            let id: i64 = r.get(0);
            if out.last().is_none_or(|b| b.id != id) {
                out.push(crate::FeedBatch {
                    id,
                    frames: Vec::new(),
                });
            }
            // A frame removed by retention since: nothing left to evaluate.
            let Some(fid) = r.get::<_, Option<i64>>(1) else {
                continue;
            };
            if let Some(b) = out.last_mut() {
                b.frames.push(crate::StoredFrame {
                    id: fid,
                    received_at_ms: r.get(2),
                    peer: r.get(3),
                    mn: r.get(4),
                    raw: r.get(5),
                });
            }
        }
        Ok(out)
    }

    fn done_alert_feed(&mut self, ids: &[i64]) -> Result<()> {
        self.client
            .execute("DELETE FROM alert_feed WHERE id = ANY($1)", &[&ids])
            .map_err(pg)?;
        Ok(())
    }

    fn alert_feed_len(&mut self) -> Result<i64> {
        Ok(self
            .client
            .query_one("SELECT COUNT(*) FROM alert_feed", &[])
            .map_err(pg)?
            .get(0))
    }

    fn another_writer(&mut self) -> Result<Option<Box<dyn crate::Store>>> {
        let mut s = PostgresStore::connect(&self.url, self.schema.as_deref())?;
        s.rules = self.rules.clone();
        s.stepwise = self.stepwise;
        s.defer = self.defer;
        s.copy = self.copy;
        s.held = self.held.clone();
        Ok(Some(Box::new(s)))
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
        // The logger's factors from `series`, and per factor its newest effective reading
        // at or after the series' time there (at most about an hour of uploads before the
        // newest, see `super::upload_rows`).
        let sql = format!(
            "SELECT {READING_COLUMNS} FROM series s CROSS JOIN LATERAL (
               SELECT r.* FROM reading r
               WHERE r.mn = s.mn AND r.factor = s.factor AND r.data_time >= s.last_t AND {EFFECTIVE}
               ORDER BY r.data_time DESC, r.id DESC LIMIT 1) r
             WHERE s.mn = $1
             ORDER BY r.factor, r.id DESC"
        );
        let rows = self.client.query(&sql, &[&mn]).map_err(pg)?;
        let mut out: Vec<Reading> = Vec::new();
        for r in rows.iter().map(reading_from_row) {
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
        // The kept hours plus the readings still waiting for their fold, in one snapshot.
        self.aggregates_with_pending(mn, factor, period.seconds(), from, to)
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
        // A fold and a correction exclude each other (see `crate::fold`).
        Self::lock_out_folds(&mut tx)?;
        let mut target = reading_id;
        while let Some(r) = tx
            .query_opt("SELECT id FROM reading_row WHERE corrects = $1", &[&target])
            .map_err(pg)?
        {
            target = r.get(0);
        }
        // No process's held sums may count the reading once it is corrected.
        Self::fold_batch_of(&mut tx, target)?;
        let orig = tx
            .query_opt(
                &format!(
                    "SELECT {READING_COLUMNS} FROM reading r
                     WHERE r.id = $1 AND r.block BETWEEN $1 - {} AND $1",
                    super::upload_rows::BLOCK - 1
                ),
                &[&target],
            )
            .map_err(pg)?
            .map(|r| reading_from_row(&r))
            .ok_or_else(|| StoreError::Invalid(format!("no reading {reading_id}")))?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO reading_row (mn, factor, cn, data_time, value, min, max, cou, flag, frame_id, corrects, reason, changed_by, received_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12, $13) RETURNING id",
                &[&orig.mn, &orig.factor, &orig.cn, &orig.data_time, &value, &orig.min, &orig.max, &orig.cou, &orig.flag, &target, &reason, &who, &at_ms],
            )
            .map_err(pg)?
            .get(0);
        if AGGREGATED_CNS.contains(&orig.cn.as_str()) {
            Self::rebuild_hour(&mut tx, &orig.mn, &orig.factor, orig.data_time)?;
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
            .query_one(
                "SELECT (SELECT COUNT(*) FROM reading_row)
                      + (SELECT COALESCE(SUM(cardinality(factor)), 0) FROM upload_reading)::bigint",
                &[],
            )
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
