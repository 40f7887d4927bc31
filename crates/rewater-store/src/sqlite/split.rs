//! [`SplitStore`] on SQLite (the rules are in [`crate::split`]).

use super::SqliteStore;
use crate::split::*;
use crate::Result;
use rusqlite::{params, OptionalExtension};

impl SplitSql for SqliteStore {
    fn begin_split(&mut self) -> Result<()> {
        // IMMEDIATE: the write lock now, so that two connections (two gateways on one file)
        // never both count a record's parts before either writes.
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn lock_record(&mut self, (mn, cn, t, pnum): RecordKey<'_>) -> Result<Option<RecordRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT parts FROM split_record WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pnum = ?4",
            )?
            .query_row(params![mn, cn, t, pnum], |r| {
                Ok(RecordRow { parts: r.get(0)? })
            })
            .optional()?)
    }

    fn create_record(&mut self, (mn, cn, t, pnum): RecordKey<'_>, now_ms: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO split_record (mn, cn, data_time, pnum, started_at_ms, parts, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)",
            )?
            .execute(params![mn, cn, t, pnum, now_ms])?;
        Ok(())
    }

    fn stored_whole(&mut self, (mn, cn, t, _): RecordKey<'_>) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM upload WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pno = 1",
            )?
            .query_row(params![mn, cn, t], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn pending_totals(&mut self, mn: &str) -> Result<(i64, i64, i64)> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT (SELECT COUNT(*) FROM split_record WHERE mn = ?1), COUNT(*), COALESCE(SUM(bytes), 0)
                 FROM split_record",
            )?
            .query_row(params![mn], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
    }

    fn held_digest(
        &mut self,
        (mn, cn, t, pnum): RecordKey<'_>,
        pno: u32,
    ) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT digest FROM split_part WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pnum = ?4 AND pno = ?5",
            )?
            .query_row(params![mn, cn, t, pnum, pno], |r| r.get(0))
            .optional()?)
    }

    fn insert_part(
        &mut self,
        (mn, cn, t, pnum): RecordKey<'_>,
        p: &SplitPart<'_>,
        digest: &str,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO split_part (mn, cn, data_time, pnum, pno, qn, digest, raw, peer, received_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                mn,
                cn,
                t,
                pnum,
                p.pno,
                p.qn,
                digest,
                p.raw,
                p.peer,
                p.received_at_ms
            ])?;
        self.conn
            .prepare_cached(
                "UPDATE split_record SET parts = parts + 1, bytes = bytes + ?5
                 WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pnum = ?4",
            )?
            .execute(params![mn, cn, t, pnum, p.raw.len() as i64])?;
        Ok(())
    }

    fn held_parts(&mut self, (mn, cn, t, pnum): RecordKey<'_>) -> Result<Vec<HeldPart>> {
        let mut st = self.conn.prepare_cached(
            "SELECT pno, raw, peer FROM split_part WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pnum = ?4
             ORDER BY pno",
        )?;
        let rows = st.query_map(params![mn, cn, t, pnum], |r| {
            Ok(HeldPart {
                pno: r.get(0)?,
                raw: r.get(1)?,
                peer: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn delete_record(&mut self, (mn, cn, t, pnum): RecordKey<'_>) -> Result<()> {
        let p = params![mn, cn, t, pnum];
        self.conn
            .prepare_cached(
                "DELETE FROM split_part WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pnum = ?4",
            )?
            .execute(p)?;
        self.conn
            .prepare_cached(
                "DELETE FROM split_record WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pnum = ?4",
            )?
            .execute(p)?;
        Ok(())
    }
}

impl SplitStore for SqliteStore {
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
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rows: Vec<(String, String, i64, i64, i64)> = {
            let mut st = tx.prepare_cached(
                "SELECT mn, cn, data_time, pnum, started_at_ms FROM split_record
                 WHERE started_at_ms < ?1 ORDER BY started_at_ms LIMIT ?2",
            )?;
            let rows = st.query_map(params![started_before_ms, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let out = expired_from_rows(rows, |(mn, cn, t, pnum)| {
            let mut st = tx.prepare_cached(
                "SELECT pno, raw, peer FROM split_part WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pnum = ?4
                 ORDER BY pno",
            )?;
            let held = st
                .query_map(params![mn, cn, t, pnum], |r| {
                    Ok(HeldPart {
                        pno: r.get(0)?,
                        raw: r.get(1)?,
                        peer: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let p = params![mn, cn, t, pnum];
            tx.execute(
                "DELETE FROM split_part WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pnum = ?4",
                p,
            )?;
            tx.execute(
                "DELETE FROM split_record WHERE mn = ?1 AND cn = ?2 AND data_time = ?3 AND pnum = ?4",
                p,
            )?;
            Ok(held)
        })?;
        tx.commit()?;
        Ok(out)
    }

    fn split_pending(&mut self, mn: Option<&str>) -> Result<(i64, i64)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM split_record WHERE ?1 IS NULL OR mn = ?1),
                    (SELECT COUNT(*) FROM split_part WHERE ?1 IS NULL OR mn = ?1)",
            params![mn],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }
}
