//! [`SplitStore`] on PostgreSQL (the rules are in [`crate::split`]). A record's row is
//! locked (`FOR UPDATE`) while a part is added, so two gateways taking the last two parts
//! at once are serialised: the second sees the first's part and completes the record.

use super::{pg, PostgresStore};
use crate::split::*;
use crate::{Result, StoreError};

fn int(v: u32) -> Result<i32> {
    i32::try_from(v).map_err(|_| StoreError::Invalid(format!("{v} is too large")))
}

fn held_part(r: &postgres::Row) -> Result<HeldPart> {
    let pno: i32 = r.get(0);
    Ok(HeldPart {
        pno: u32::try_from(pno).map_err(|_| StoreError::Invalid(format!("PNO {pno}")))?,
        raw: r.get(1),
        peer: r.get(2),
    })
}

const KEY: &str = "mn = $1 AND cn = $2 AND data_time = $3 AND pnum = $4";

impl SplitSql for PostgresStore {
    fn begin_split(&mut self) -> Result<()> {
        self.client.batch_execute("BEGIN").map_err(pg)
    }

    fn lock_record(&mut self, (mn, cn, t, pnum): RecordKey<'_>) -> Result<Option<RecordRow>> {
        let st = self.prepared(
            "SELECT parts FROM split_record WHERE mn = $1 AND cn = $2 AND data_time = $3 AND pnum = $4 FOR UPDATE",
        )?;
        let row = self
            .client
            .query_opt(&st, &[&mn, &cn, &t, &int(pnum)?])
            .map_err(pg)?;
        Ok(row.map(|r| RecordRow {
            parts: i64::from(r.get::<_, i32>(0)),
        }))
    }

    fn create_record(&mut self, (mn, cn, t, pnum): RecordKey<'_>, now_ms: i64) -> Result<()> {
        let st = self.prepared(
            "INSERT INTO split_record (mn, cn, data_time, pnum, started_at_ms, parts, bytes)
             VALUES ($1, $2, $3, $4, $5, 0, 0) ON CONFLICT DO NOTHING",
        )?;
        self.client
            .execute(&st, &[&mn, &cn, &t, &int(pnum)?, &now_ms])
            .map_err(pg)?;
        Ok(())
    }

    fn stored_whole(&mut self, (mn, cn, t, _): RecordKey<'_>) -> Result<bool> {
        let st = self.prepared(
            "SELECT 1 FROM upload WHERE mn = $1 AND cn = $2 AND data_time = $3 AND pno = 1",
        )?;
        Ok(self
            .client
            .query_opt(&st, &[&mn, &cn, &t])
            .map_err(pg)?
            .is_some())
    }

    fn pending_totals(&mut self, mn: &str) -> Result<(i64, i64, i64)> {
        let st = self.prepared(
            "SELECT (SELECT COUNT(*) FROM split_record WHERE mn = $1), COUNT(*), COALESCE(SUM(bytes), 0)::BIGINT
             FROM split_record",
        )?;
        let r = self.client.query_one(&st, &[&mn]).map_err(pg)?;
        Ok((r.get(0), r.get(1), r.get(2)))
    }

    fn held_digest(
        &mut self,
        (mn, cn, t, pnum): RecordKey<'_>,
        pno: u32,
    ) -> Result<Option<String>> {
        let st = self.prepared(
            "SELECT digest FROM split_part WHERE mn = $1 AND cn = $2 AND data_time = $3 AND pnum = $4 AND pno = $5",
        )?;
        Ok(self
            .client
            .query_opt(&st, &[&mn, &cn, &t, &int(pnum)?, &int(pno)?])
            .map_err(pg)?
            .map(|r| r.get(0)))
    }

    fn insert_part(
        &mut self,
        (mn, cn, t, pnum): RecordKey<'_>,
        p: &SplitPart<'_>,
        digest: &str,
    ) -> Result<()> {
        let st = self.prepared(
            "INSERT INTO split_part (mn, cn, data_time, pnum, pno, qn, digest, raw, peer, received_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )?;
        let pnum = int(pnum)?;
        self.client
            .execute(
                &st,
                &[
                    &mn,
                    &cn,
                    &t,
                    &pnum,
                    &int(p.pno)?,
                    &p.qn,
                    &digest,
                    &p.raw,
                    &p.peer,
                    &p.received_at_ms,
                ],
            )
            .map_err(pg)?;
        let st = self.prepared(
            "UPDATE split_record SET parts = parts + 1, bytes = bytes + $5
             WHERE mn = $1 AND cn = $2 AND data_time = $3 AND pnum = $4",
        )?;
        self.client
            .execute(&st, &[&mn, &cn, &t, &pnum, &(p.raw.len() as i64)])
            .map_err(pg)?;
        Ok(())
    }

    fn held_parts(&mut self, (mn, cn, t, pnum): RecordKey<'_>) -> Result<Vec<HeldPart>> {
        let st = self.prepared(
            "SELECT pno, raw, peer FROM split_part WHERE mn = $1 AND cn = $2 AND data_time = $3 AND pnum = $4 ORDER BY pno",
        )?;
        let rows = self
            .client
            .query(&st, &[&mn, &cn, &t, &int(pnum)?])
            .map_err(pg)?;
        rows.iter().map(held_part).collect()
    }

    fn delete_record(&mut self, (mn, cn, t, pnum): RecordKey<'_>) -> Result<()> {
        let pnum = int(pnum)?;
        let st = self.prepared(
            "DELETE FROM split_part WHERE mn = $1 AND cn = $2 AND data_time = $3 AND pnum = $4",
        )?;
        self.client
            .execute(&st, &[&mn, &cn, &t, &pnum])
            .map_err(pg)?;
        let st = self.prepared(
            "DELETE FROM split_record WHERE mn = $1 AND cn = $2 AND data_time = $3 AND pnum = $4",
        )?;
        self.client
            .execute(&st, &[&mn, &cn, &t, &pnum])
            .map_err(pg)?;
        Ok(())
    }
}

impl SplitStore for PostgresStore {
    fn add_split_part(
        &mut self,
        part: &SplitPart<'_>,
        limits: &SplitLimits,
        reassemble: &mut Reassemble<'_>,
    ) -> Result<SplitOutcome> {
        let rules = self.rules.clone();
        add_part(self, &rules, part, limits, reassemble)
    }

    fn expire_splits(&mut self, started_before_ms: i64, limit: i64) -> Result<Vec<ExpiredSplit>> {
        let mut tx = self.client.transaction().map_err(pg)?;
        // DELETE … RETURNING: of two gateways expiring at once, each record goes to one;
        // SKIP LOCKED leaves alone a record whose part is being added right now.
        let rows = tx
            .query(
                "DELETE FROM split_record WHERE (mn, cn, data_time, pnum) IN (
                    SELECT mn, cn, data_time, pnum FROM split_record WHERE started_at_ms < $1
                    ORDER BY started_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED)
                 RETURNING mn, cn, data_time, pnum, started_at_ms",
                &[&started_before_ms, &limit],
            )
            .map_err(pg)?;
        let rows: Vec<(String, String, i64, i64, i64)> = rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    i64::from(r.get::<_, i32>(3)),
                    r.get(4),
                )
            })
            .collect();
        let out = expired_from_rows(rows, |(mn, cn, t, pnum)| {
            let pnum = int(pnum)?;
            let parts = tx
                .query(
                    &format!("DELETE FROM split_part WHERE {KEY} RETURNING pno, raw, peer"),
                    &[&mn, &cn, &t, &pnum],
                )
                .map_err(pg)?;
            let mut held = parts.iter().map(held_part).collect::<Result<Vec<_>>>()?;
            held.sort_by_key(|h| h.pno);
            Ok(held)
        })?;
        tx.commit().map_err(pg)?;
        Ok(out)
    }

    fn split_pending(&mut self, mn: Option<&str>) -> Result<(i64, i64)> {
        let r = self
            .client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM split_record WHERE $1::TEXT IS NULL OR mn = $1),
                        (SELECT COUNT(*) FROM split_part WHERE $1::TEXT IS NULL OR mn = $1)",
                &[&mn],
            )
            .map_err(pg)?;
        Ok((r.get(0), r.get(1)))
    }
}
