//! Hourly aggregates folded after the commit on PostgreSQL (see [`crate::fold`]).

use super::{pg, PostgresStore};
use crate::fold::{AggregateFold, FoldReport};
use crate::*;
use ::postgres::Transaction;

/// Version 12: batches whose readings are still to be added to the hourly aggregates: the
/// range of their reading ids and the transaction that inserted them (the readings' `xmin`;
/// readings are never updated, so it stays theirs).
pub(super) const V12: &str = "
CREATE TABLE aggregate_pending (
    id BIGSERIAL PRIMARY KEY, lo BIGINT NOT NULL, hi BIGINT NOT NULL, xid xid NOT NULL);
";

/// Version 13: until when a pending batch is left to the fold of the process that holds its
/// hourly sums (see `super::held`); 0 (every older row) means no process holds them.
pub(super) const V13: &str = "
ALTER TABLE aggregate_pending ADD COLUMN held_until_ms BIGINT NOT NULL DEFAULT 0;
";

/// Version 14: per pending row, the DataTime range of its readings, so that a series read finds
/// the pending part of its window through the series index over that range alone, not by
/// scanning every pending reading (their number grows with the fold interval); and the fold
/// part ([`part_of`]) of the loggers it stands for: a batch writes one row per part its
/// loggers fall in. NULL range: unknown, the read scans the pending ids; NULL part: every
/// logger of the batch (rows written before, or by the statement path).
pub(super) const V14: &str = "
ALTER TABLE aggregate_pending ADD COLUMN t_lo BIGINT, ADD COLUMN t_hi BIGINT, ADD COLUMN part SMALLINT;
";

/// Parts the loggers fall in for the fold. A fold turn adds one part's pending rows, so that
/// each turn upserts the hours of an eighth of the loggers and the turns are spread over the
/// fold interval, instead of one burst of every logger's hours that the writers' commits
/// queue behind (docs/benchmarks.md, "Province scale, 2026-12-04").
pub(super) const FOLD_PARTS: u8 = 8;

/// The fold part of logger `mn`: the first byte of the SHA-256 of its MN, modulo
/// [`FOLD_PARTS`]; [`part_of_r`] computes the same in SQL.
pub(super) fn part_of(mn: &str) -> u8 {
    use sha2::Digest;
    sha2::Sha256::digest(mn.as_bytes())[0] % FOLD_PARTS
}

/// [`part_of`] of reading `r`'s logger, in SQL (MNs are ASCII letters and digits).
fn part_of_r() -> String {
    format!("(get_byte(sha256(convert_to(r.mn, 'UTF8')), 0) % {FOLD_PARTS})")
}

/// Whether reading `r` is one that pending row `q` stands for.
fn in_row() -> String {
    format!(
        "r.block BETWEEN q.lo AND q.hi AND r.row_xmin = q.xid AND (q.part IS NULL OR q.part = {})",
        part_of_r()
    )
}

/// The hour a reading's DataTime falls in (floor, also before 1970).
const HOUR_OF: &str = "(r.data_time - ((r.data_time % 3600) + 3600) % 3600)";

/// The readings that feed the aggregates: real-time and minute values flagged N, not
/// corrected since.
const VALID: &str = "r.cn IN ('2011', '2051') AND r.flag = 'N' AND r.value IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM reading_row c WHERE c.corrects = r.id)";

/// Adds a batch's sums to the kept ones.
const ADD_ON_CONFLICT: &str = "ON CONFLICT (mn, factor, period, start) DO UPDATE SET
               n = aggregate.n + excluded.n, sum = aggregate.sum + excluded.sum,
               min = LEAST(aggregate.min, excluded.min), max = GREATEST(aggregate.max, excluded.max)";

/// Taken by a fold (tried) and by a correction (waited for) so that they exclude each other.
const FOLD_LOCK: &str = "hashtext(current_schema() || '.rewater-aggregate-fold')";

impl PostgresStore {
    /// Rebuilds one hour of one factor from its readings after a correction, counting only
    /// readings already folded (a pending batch's readings are added by its fold). The caller
    /// holds the fold lock ([`PostgresStore::lock_out_folds`]).
    pub(super) fn rebuild_hour(
        tx: &mut Transaction<'_>,
        mn: &str,
        factor: &str,
        t: i64,
    ) -> Result<()> {
        let start = t.div_euclid(3600) * 3600;
        let sql = format!(
            "WITH s AS (
               SELECT COUNT(*) AS n, SUM(r.value) AS sum, MIN(r.value) AS lo, MAX(r.value) AS hi
               FROM reading r
               WHERE r.mn = $1 AND r.factor = $2 AND r.data_time >= $3 AND r.data_time < $3 + 3600
                 AND {VALID}
                 AND NOT EXISTS (SELECT 1 FROM aggregate_pending q WHERE {in_row})),
             d AS (DELETE FROM aggregate WHERE mn = $1 AND factor = $2 AND period = 'hour' AND start = $3
                   AND (SELECT n FROM s) = 0)
             INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max)
             SELECT $1, $2, 'hour', $3, n, sum, lo, hi FROM s WHERE n > 0
             ON CONFLICT (mn, factor, period, start) DO UPDATE SET
               n = excluded.n, sum = excluded.sum, min = excluded.min, max = excluded.max",
            in_row = in_row()
        );
        tx.execute(&sql, &[&mn, &factor, &start]).map_err(pg)?;
        Ok(())
    }

    /// Waits for a running fold to end and keeps others out until the transaction ends.
    pub(super) fn lock_out_folds(tx: &mut Transaction<'_>) -> Result<()> {
        tx.execute(&format!("SELECT pg_advisory_xact_lock({FOLD_LOCK})"), &[])
            .map_err(pg)?;
        Ok(())
    }

    /// Folds, by reading back, the pending batch that holds reading `id` (if it is still
    /// pending), so that no process's held sums count it once it is corrected. The caller
    /// holds the fold lock.
    pub(super) fn fold_batch_of(tx: &mut Transaction<'_>, id: i64) -> Result<()> {
        let taken = tx
            .query(
                &format!(
                    "DELETE FROM aggregate_pending q USING reading r
                     WHERE r.id = $1 AND r.block BETWEEN $1 - {} AND $1 AND {}
                     RETURNING q.lo, q.hi, q.xid::text, q.part",
                    super::upload_rows::BLOCK - 1,
                    in_row()
                ),
                &[&id],
            )
            .map_err(pg)?;
        Self::add_read_back(tx, &taken)?;
        Ok(())
    }

    /// Adds the valid readings of the pending rows `taken` (rows of lo, hi, xid, part, already
    /// deleted) to the hourly aggregates, reading them back; returns the hours written. One
    /// statement per part among them (a row of part k stands for its batch's loggers of part
    /// k only; a row of no part, for all).
    fn add_read_back(tx: &mut Transaction<'_>, taken: &[::postgres::Row]) -> Result<u64> {
        let mut by_part: std::collections::BTreeMap<Option<i16>, Vec<&::postgres::Row>> =
            Default::default();
        for r in taken {
            by_part.entry(r.get(3)).or_default().push(r);
        }
        let mut hours = 0;
        for (part, rows) in by_part {
            hours += Self::add_read_back_part(tx, part, &rows)?;
        }
        Ok(hours)
    }

    /// [`Self::add_read_back`] for rows of one part (`None`: of no part).
    fn add_read_back_part(
        tx: &mut Transaction<'_>,
        part: Option<i16>,
        taken: &[&::postgres::Row],
    ) -> Result<u64> {
        let (Some(lo), Some(hi)) = (
            taken.iter().map(|r| r.get::<_, i64>(0)).min(),
            taken.iter().map(|r| r.get::<_, i64>(1)).max(),
        ) else {
            return Ok(0);
        };
        let xids: Vec<String> = taken.iter().map(|r| r.get(2)).collect();
        // A turn's backlog groups into tens of thousands of (logger, factor, hour) sums; room
        // for the hash aggregate keeps it in memory (bounded: it spills past this).
        tx.batch_execute("SET LOCAL work_mem = '64MB'")
            .map_err(pg)?;
        // The id range given as values so that the plan scans only it (BRIN on id), not
        // every partition.
        let sql = format!(
            "WITH s AS (
               SELECT r.mn, r.factor, {HOUR_OF} AS start, COUNT(*) AS n, SUM(r.value) AS sum,
                      MIN(r.value) AS lo, MAX(r.value) AS hi
               FROM reading r
               WHERE r.block BETWEEN $1 AND $2 AND r.row_xmin = ANY ($3::text[]::xid[])
                 AND ($4::int2 IS NULL OR {part_sql} = $4) AND {VALID}
               GROUP BY 1, 2, 3)
             INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max)
             SELECT mn, factor, 'hour', start, n, sum, lo, hi FROM s ORDER BY mn, factor, start
             {ADD_ON_CONFLICT}",
            part_sql = part_of_r()
        );
        tx.execute(&sql, &[&lo, &hi, &xids, &part]).map_err(pg)
    }

    /// Upserts held sums (see `super::held`); returns the hours written.
    fn add_held(tx: &mut Transaction<'_>, sums: super::held::HeldSums) -> Result<u64> {
        let (mn, factor, start, n, sum, min, max) = sums.columns();
        if mn.is_empty() {
            return Ok(0);
        }
        // The columns come sorted by key, as the primary key orders them.
        let sql = format!(
            "INSERT INTO aggregate (mn, factor, period, start, n, sum, min, max)
             SELECT mn, factor, 'hour', start, n, sum, lo, hi
             FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::float8[], $6::float8[], $7::float8[])
               AS s(mn, factor, start, n, sum, lo, hi)
             {ADD_ON_CONFLICT}"
        );
        tx.execute(&sql, &[&mn, &factor, &start, &n, &sum, &min, &max])
            .map_err(pg)
    }

    /// Part `part`'s sums held for this process's fold, taken (none if it holds none, or if a
    /// writer panicked while adding: such sums may be partial and are not used).
    fn take_held(
        held: &Option<(super::held::SharedSums, i64)>,
        part: u8,
    ) -> Option<super::held::HeldSums> {
        let (held, _) = held.as_ref()?;
        match held.lock() {
            Ok(mut h) => h.take(part).filter(|g| !g.ids.is_empty()),
            Err(_) => None,
        }
    }

    /// A fold of part `part`'s pending rows (`None`: of every part) and of the rows no
    /// live process holds, in one transaction (see [`AggregateFold::fold_aggregates`]).
    fn fold(&mut self, part: Option<u8>, max_batches: i64) -> Result<FoldReport> {
        let mut tx = self.client.transaction().map_err(pg)?;
        let got: bool = tx
            .query_one(
                &format!("SELECT pg_try_advisory_xact_lock({FOLD_LOCK})"),
                &[],
            )
            .map_err(pg)?
            .get(0);
        if !got {
            return Ok(FoldReport {
                busy: true,
                ..FoldReport::default()
            });
        }
        // Statements of their own after the lock, so that they see every correction committed
        // before it was granted. First the rows whose sums this process holds: their sums
        // count only if every one of their rows is still there to delete.
        let mut report = FoldReport::default();
        let parts = part.map_or(0..FOLD_PARTS, |k| k..k + 1);
        for k in parts {
            let Some(sums) = Self::take_held(&self.held, k) else {
                continue;
            };
            let taken = tx
                .query(
                    "DELETE FROM aggregate_pending WHERE id = ANY ($1) RETURNING lo, hi, xid::text, part",
                    &[&sums.ids],
                )
                .map_err(pg)?;
            report.batches += taken.len() as i64;
            if taken.len() == sums.ids.len() {
                report.from_held += taken.len() as i64;
                report.hours += Self::add_held(&mut tx, sums)? as i64;
            } else {
                report.hours += Self::add_read_back(&mut tx, &taken)? as i64;
            }
        }
        // Then the rows (of this part, or of none) no live process holds (their holder's
        // time is up), oldest first, read back.
        let taken = tx
            .query(
                "DELETE FROM aggregate_pending WHERE id IN (
                   SELECT id FROM aggregate_pending
                   WHERE held_until_ms <= $2 AND ($3::int2 IS NULL OR part IS NULL OR part = $3)
                   ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
                 RETURNING lo, hi, xid::text, part",
                &[&max_batches, &crate::ingest::now_ms(), &part.map(i16::from)],
            )
            .map_err(pg)?;
        report.batches += taken.len() as i64;
        report.hours += Self::add_read_back(&mut tx, &taken)? as i64;
        tx.commit().map_err(pg)?;
        Ok(report)
    }

    /// Hourly (or daily) points of the kept aggregates plus the valid readings still
    /// pending, in one snapshot (the pending rows of the logger's part, or of none).
    pub(super) fn aggregates_with_pending(
        &mut self,
        mn: &str,
        factor: &str,
        len: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<SeriesPoint>> {
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(::postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg)?;
        let p = tx
            .query_one(
                "SELECT MIN(lo), MAX(hi), COALESCE(array_agg(xid::text), '{}'),
                        MIN(t_lo), MAX(t_hi), COALESCE(bool_or(t_lo IS NULL), false)
                 FROM aggregate_pending WHERE part IS NULL OR part = $1",
                &[&i16::from(part_of(mn))],
            )
            .map_err(pg)?;
        let (lo, hi, xids): (Option<i64>, Option<i64>, Vec<String>) =
            (p.get(0), p.get(1), p.get(2));
        let (t_lo, t_hi, unbounded): (Option<i64>, Option<i64>, bool) =
            (p.get(3), p.get(4), p.get(5));
        let kept = "SELECT start, n, sum, min, max FROM aggregate
                    WHERE mn = $1 AND factor = $2 AND period = 'hour' AND start >= $3 AND start < $4";
        let point = "SELECT (start / $5) * $5 AS t, SUM(sum) / SUM(n)::float8, MIN(min), MAX(max), SUM(n)::bigint";
        let rows = match (lo, hi, t_lo, t_hi) {
            // Every pending batch says its DataTime range: the series index over the part of
            // the window in that range (a reading of hour h has h <= data_time < h + 3600).
            (Some(lo), Some(hi), Some(t_lo), Some(t_hi)) if !unbounded => {
                let sql = format!(
                    "{point} FROM ({kept}
                       UNION ALL
                       SELECT h.start, 1, h.value, h.value, h.value FROM (
                         SELECT {HOUR_OF} AS start, r.value FROM reading r
                         WHERE r.mn = $1 AND r.factor = $2
                           AND r.data_time BETWEEN $9 AND $10
                           AND r.block BETWEEN $6 AND $7 AND r.row_xmin = ANY ($8::text[]::xid[]) AND {VALID}) h
                       WHERE h.start >= $3 AND h.start < $4) x
                     GROUP BY t ORDER BY t"
                );
                let (t_min, t_max) = (t_lo.max(from), t_hi.min(to.saturating_add(3599)));
                let args: [&(dyn ::postgres::types::ToSql + Sync); 10] = [
                    &mn, &factor, &from, &to, &len, &lo, &hi, &xids, &t_min, &t_max,
                ];
                tx.query(&sql, &args).map_err(pg)?
            }
            (Some(lo), Some(hi), _, _) => {
                // `|| ''` keeps the planner on the pending id ranges (BRIN on id) rather than
                // the device's whole history through the series index.
                let sql = format!(
                    "{point} FROM ({kept}
                       UNION ALL
                       SELECT h.start, 1, h.value, h.value, h.value FROM (
                         SELECT {HOUR_OF} AS start, r.value FROM reading r
                         WHERE r.block BETWEEN $6 AND $7 AND r.row_xmin = ANY ($8::text[]::xid[])
                           AND r.mn || '' = $1 AND r.factor || '' = $2 AND {VALID}) h
                       WHERE h.start >= $3 AND h.start < $4) x
                     GROUP BY t ORDER BY t"
                );
                tx.query(&sql, &[&mn, &factor, &from, &to, &len, &lo, &hi, &xids])
                    .map_err(pg)?
            }
            _ => {
                let sql = format!("{point} FROM ({kept}) x GROUP BY t ORDER BY t");
                tx.query(&sql, &[&mn, &factor, &from, &to, &len])
                    .map_err(pg)?
            }
        };
        tx.commit().map_err(pg)?;
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
}

impl AggregateFold for PostgresStore {
    /// `REWATER_PG_AGGREGATES_IN_BATCH=1` refuses deferral (the batch adds its sums as
    /// before), for comparison.
    fn defer_aggregates(&mut self, on: bool) -> bool {
        if on && std::env::var("REWATER_PG_AGGREGATES_IN_BATCH").is_ok_and(|v| v == "1") {
            self.defer = false;
            return false;
        }
        self.defer = on;
        true
    }

    fn hold_sums(&mut self, hold_ms: i64) -> bool {
        if !(self.defer && self.copy)
            || std::env::var("REWATER_PG_FOLD_READBACK").is_ok_and(|v| v == "1")
        {
            return false;
        }
        let sums = std::sync::Arc::new(std::sync::Mutex::new(super::held::HeldParts::default()));
        self.held = Some((sums, hold_ms.max(0)));
        true
    }

    fn fold_aggregates(&mut self, max_batches: i64) -> Result<FoldReport> {
        self.fold(None, max_batches)
    }

    fn fold_parts(&self) -> u8 {
        FOLD_PARTS
    }

    fn fold_aggregates_part(&mut self, part: u8, max_batches: i64) -> Result<FoldReport> {
        self.fold(Some(part % FOLD_PARTS), max_batches)
    }

    fn aggregates_pending(&mut self) -> Result<i64> {
        Ok(self
            .client
            .query_one("SELECT COUNT(*) FROM aggregate_pending", &[])
            .map_err(pg)?
            .get(0))
    }

    fn aggregates_differing(&mut self) -> Result<i64> {
        let sql = format!(
            "WITH want AS (
               SELECT r.mn, r.factor, {HOUR_OF} AS start, COUNT(*) AS n, SUM(r.value) AS sum,
                      MIN(r.value) AS lo, MAX(r.value) AS hi
               FROM reading r WHERE {VALID} GROUP BY 1, 2, 3),
             pend AS (
               SELECT r.mn, r.factor, {HOUR_OF} AS start, COUNT(*) AS n, SUM(r.value) AS sum,
                      MIN(r.value) AS lo, MAX(r.value) AS hi
               FROM reading r JOIN aggregate_pending q ON {in_row}
               WHERE {VALID} GROUP BY 1, 2, 3),
             have AS (
               SELECT mn, factor, start, SUM(n) AS n, SUM(sum) AS sum, MIN(lo) AS lo, MAX(hi) AS hi
               FROM (SELECT mn, factor, start, n, sum, min AS lo, max AS hi FROM aggregate
                     WHERE period = 'hour'
                     UNION ALL SELECT * FROM pend) x GROUP BY 1, 2, 3)
             SELECT COUNT(*) FROM want w FULL JOIN have h USING (mn, factor, start)
             WHERE w.n IS DISTINCT FROM h.n OR w.lo IS DISTINCT FROM h.lo OR w.hi IS DISTINCT FROM h.hi
                OR abs(w.sum - h.sum) > 1e-9 * greatest(1, abs(w.sum))",
            in_row = in_row()
        );
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(::postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg)?;
        let n: i64 = tx.query_one(&sql, &[]).map_err(pg)?.get(0);
        tx.commit().map_err(pg)?;
        Ok(n)
    }
}
