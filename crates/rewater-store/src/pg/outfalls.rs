//! The outfall register in PostgreSQL (see [`crate::outfalls`]).

use super::{pg, PostgresStore};
use crate::outfalls::*;
use crate::*;
use ::postgres::types::ToSql;

const COLUMNS: &str = "kind, key, version, district, search, body, retired, who, reason, at_ms";

fn from_row(r: &::postgres::Row) -> OutfallRecord {
    OutfallRecord {
        kind: r.get(0),
        key: r.get(1),
        version: r.get(2),
        district: r.get(3),
        search: r.get(4),
        body: r.get(5),
        retired: r.get(6),
        who: r.get(7),
        reason: r.get(8),
        at_ms: r.get(9),
    }
}

fn filter(q: &OutfallQuery) -> (String, Vec<Box<dyn ToSql + Sync>>) {
    let mut w = String::from("kind = $1 AND current");
    let mut args: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(q.kind.clone())];
    if !q.include_retired {
        w.push_str(" AND NOT retired");
    }
    if let Some(d) = &q.district {
        args.push(Box::new(d.clone()));
        w.push_str(&format!(" AND district = ${}", args.len()));
    }
    if let Some(s) = q.search.as_ref().filter(|s| !s.is_empty()) {
        args.push(Box::new(like_pattern(s)));
        w.push_str(&format!(" AND search LIKE ${} ESCAPE '\\'", args.len()));
    }
    (w, args)
}

fn refs(args: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a.as_ref()).collect()
}

impl OutfallStore for PostgresStore {
    fn put_outfall_records(
        &mut self,
        records: &[NewOutfallRecord],
        who: &str,
        reason: &str,
        at_ms: i64,
    ) -> Result<PutOutcome> {
        check_batch(records, who, reason)?;
        let mut tx = self.client.transaction().map_err(pg)?;
        let mut out = PutOutcome::default();
        let cur = tx
            .prepare("SELECT version, district, body, retired FROM outfall_record WHERE kind = $1 AND key = $2 AND current FOR UPDATE")
            .map_err(pg)?;
        let old = tx.prepare("UPDATE outfall_record SET current = false WHERE kind = $1 AND key = $2 AND current").map_err(pg)?;
        let ins = tx
            .prepare(
                "INSERT INTO outfall_record (kind, key, version, district, search, body, retired, current, who, reason, at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8, $9, $10)",
            )
            .map_err(pg)?;
        for r in records {
            let now = tx.query_opt(&cur, &[&r.kind, &r.key]).map_err(pg)?;
            let version: i64 = match now {
                Some(row) => {
                    let (v, d, b, ret): (i64, Option<String>, String, bool) =
                        (row.get(0), row.get(1), row.get(2), row.get(3));
                    if d == r.district && b == r.body && ret == r.retired {
                        out.unchanged += 1;
                        continue;
                    }
                    v + 1
                }
                None => 1,
            };
            tx.execute(&old, &[&r.kind, &r.key]).map_err(pg)?;
            tx.execute(
                &ins,
                &[
                    &r.kind,
                    &r.key,
                    &version,
                    &r.district,
                    &r.search.to_lowercase(),
                    &r.body,
                    &r.retired,
                    &who,
                    &reason,
                    &at_ms,
                ],
            )
            .map_err(pg)?;
            out.new_versions += 1;
        }
        let (target, detail) = audit_detail(records, out, reason);
        tx.execute("INSERT INTO audit (at_ms, who, action, target, detail) VALUES ($1, $2, 'outfalls.put', $3, $4)", &[&at_ms, &who, &target, &detail])
            .map_err(pg)?;
        tx.commit().map_err(pg)?;
        Ok(out)
    }

    fn outfall_records(&mut self, q: &OutfallQuery) -> Result<Vec<OutfallRecord>> {
        let (w, mut args) = filter(q);
        args.push(Box::new(q.limit.max(0)));
        args.push(Box::new(q.offset.max(0)));
        let n = args.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM outfall_record WHERE {w} ORDER BY key LIMIT ${} OFFSET ${n}",
            n - 1
        );
        Ok(self
            .client
            .query(&sql, &refs(&args))
            .map_err(pg)?
            .iter()
            .map(from_row)
            .collect())
    }

    fn count_outfall_records(&mut self, q: &OutfallQuery) -> Result<i64> {
        let (w, args) = filter(q);
        let row = self
            .client
            .query_one(
                &format!("SELECT COUNT(*) FROM outfall_record WHERE {w}"),
                &refs(&args),
            )
            .map_err(pg)?;
        Ok(row.get(0))
    }

    fn outfall_records_stamp(&mut self) -> Result<(i64, i64)> {
        let row = self
            .client
            .query_one(
                "SELECT COUNT(*), COALESCE(MAX(id), 0)::BIGINT FROM outfall_record",
                &[],
            )
            .map_err(pg)?;
        Ok((row.get(0), row.get(1)))
    }

    fn outfall_record(&mut self, kind: &str, key: &str) -> Result<Option<OutfallRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outfall_record WHERE kind = $1 AND key = $2 AND current"
        );
        Ok(self
            .client
            .query_opt(&sql, &[&kind, &key])
            .map_err(pg)?
            .as_ref()
            .map(from_row))
    }

    fn outfall_record_history(&mut self, kind: &str, key: &str) -> Result<Vec<OutfallRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outfall_record WHERE kind = $1 AND key = $2 ORDER BY version"
        );
        Ok(self
            .client
            .query(&sql, &[&kind, &key])
            .map_err(pg)?
            .iter()
            .map(from_row)
            .collect())
    }
}
