//! The outfall register in SQLite (see [`crate::outfalls`]).

use super::SqliteStore;
use crate::outfalls::*;
use crate::*;
use rusqlite::{params, OptionalExtension};

const COLUMNS: &str = "kind, key, version, district, search, body, retired, who, reason, at_ms";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutfallRecord> {
    Ok(OutfallRecord {
        kind: r.get(0)?,
        key: r.get(1)?,
        version: r.get(2)?,
        district: r.get(3)?,
        search: r.get(4)?,
        body: r.get(5)?,
        retired: r.get(6)?,
        who: r.get(7)?,
        reason: r.get(8)?,
        at_ms: r.get(9)?,
    })
}

fn filter(q: &OutfallQuery) -> (String, Vec<Box<dyn rusqlite::ToSql>>) {
    let mut w = String::from("kind = ?1 AND current = 1");
    let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(q.kind.clone())];
    if !q.include_retired {
        w.push_str(" AND retired = 0");
    }
    if let Some(d) = &q.district {
        args.push(Box::new(d.clone()));
        w.push_str(&format!(" AND district = ?{}", args.len()));
    }
    if let Some(s) = q.search.as_ref().filter(|s| !s.is_empty()) {
        args.push(Box::new(like_pattern(s)));
        w.push_str(&format!(" AND search LIKE ?{} ESCAPE '\\'", args.len()));
    }
    (w, args)
}

impl OutfallStore for SqliteStore {
    fn put_outfall_records(
        &mut self,
        records: &[NewOutfallRecord],
        who: &str,
        reason: &str,
        at_ms: i64,
    ) -> Result<PutOutcome> {
        check_batch(records, who, reason)?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut out = PutOutcome::default();
        {
            let mut cur = tx.prepare_cached("SELECT version, district, body, retired FROM outfall_record WHERE kind = ?1 AND key = ?2 AND current = 1")?;
            let mut old = tx.prepare_cached("UPDATE outfall_record SET current = 0 WHERE kind = ?1 AND key = ?2 AND current = 1")?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO outfall_record (kind, key, version, district, search, body, retired, current, who, reason, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10)",
            )?;
            for r in records {
                let now: Option<(i64, Option<String>, String, bool)> = cur
                    .query_row(params![r.kind, r.key], |x| {
                        Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?))
                    })
                    .optional()?;
                let version = match &now {
                    Some((_, d, b, ret))
                        if *d == r.district && *b == r.body && *ret == r.retired =>
                    {
                        out.unchanged += 1;
                        continue;
                    }
                    Some((v, ..)) => v + 1,
                    None => 1,
                };
                old.execute(params![r.kind, r.key])?;
                ins.execute(params![
                    r.kind,
                    r.key,
                    version,
                    r.district,
                    r.search.to_lowercase(),
                    r.body,
                    r.retired,
                    who,
                    reason,
                    at_ms
                ])?;
                out.new_versions += 1;
            }
        }
        let (target, detail) = audit_detail(records, out, reason);
        tx.execute("INSERT INTO audit (at_ms, who, action, target, detail) VALUES (?1, ?2, 'outfalls.put', ?3, ?4)", params![at_ms, who, target, detail])?;
        tx.commit()?;
        Ok(out)
    }

    fn outfall_records(&mut self, q: &OutfallQuery) -> Result<Vec<OutfallRecord>> {
        let (w, mut args) = filter(q);
        args.push(Box::new(q.limit.max(0)));
        args.push(Box::new(q.offset.max(0)));
        let n = args.len();
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outfall_record WHERE {w} ORDER BY key LIMIT ?{} OFFSET ?{n}",
            n - 1
        ))?;
        let rows = st.query_map(
            rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
            from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn count_outfall_records(&mut self, q: &OutfallQuery) -> Result<i64> {
        let (w, args) = filter(q);
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM outfall_record WHERE {w}"))?;
        Ok(st.query_row(
            rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
            |r| r.get(0),
        )?)
    }

    fn outfall_records_stamp(&mut self) -> Result<(i64, i64)> {
        let mut st = self
            .conn
            .prepare_cached("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM outfall_record")?;
        Ok(st.query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    fn outfall_record(&mut self, kind: &str, key: &str) -> Result<Option<OutfallRecord>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outfall_record WHERE kind = ?1 AND key = ?2 AND current = 1"
        ))?;
        Ok(st.query_row(params![kind, key], from_row).optional()?)
    }

    fn outfall_record_history(&mut self, kind: &str, key: &str) -> Result<Vec<OutfallRecord>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outfall_record WHERE kind = ?1 AND key = ?2 ORDER BY version"
        ))?;
        let rows = st.query_map(params![kind, key], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
