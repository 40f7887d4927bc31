//! [`TaskStore`] on SQLite: progress updates, attachments, river chiefs and patrols, each
//! written with its audit row in one transaction.

use super::SqliteStore;
use crate::tasks::*;
use crate::{Result, StoreError};
use rewater_time::Date;
use rusqlite::{params, OptionalExtension};

/// Version 4: the task register's progress updates with attachments, river chiefs, patrols.
pub(super) const V4: &str = "
CREATE TABLE task_progress (
    id INTEGER PRIMARY KEY, register TEXT NOT NULL, task TEXT NOT NULL, district TEXT,
    percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100), done_on TEXT, note TEXT NOT NULL,
    who TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX task_progress_task ON task_progress (register, task, id);
CREATE TABLE task_attachment (
    id INTEGER PRIMARY KEY, progress_id INTEGER NOT NULL REFERENCES task_progress(id),
    name TEXT NOT NULL, media_type TEXT NOT NULL, size_bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
    content BLOB NOT NULL);
CREATE INDEX task_attachment_progress ON task_attachment (progress_id);
CREATE TABLE river_chief (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL, water_body TEXT NOT NULL,
    district TEXT, since TEXT NOT NULL);
CREATE TABLE patrol (
    id INTEGER PRIMARY KEY, chief TEXT NOT NULL REFERENCES river_chief(id), on_day TEXT NOT NULL,
    note TEXT NOT NULL, who TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX patrol_chief ON patrol (chief, on_day);
";

fn audit_in(
    tx: &rusqlite::Transaction<'_>,
    at_ms: i64,
    who: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO audit (at_ms, who, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![at_ms, who, action, target, detail],
    )?;
    Ok(())
}

fn date_col(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Date> {
    let s: String = r.get(i)?;
    stored_date(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl TaskStore for SqliteStore {
    fn add_progress(&mut self, p: &NewProgress) -> Result<i64> {
        check_progress(p)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO task_progress (register, task, district, percent, done_on, note, who, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                p.register,
                p.task,
                p.district,
                p.percent,
                p.done_on.map(|d| d.to_string()),
                p.note,
                p.who,
                p.at_ms
            ],
        )?;
        let id = tx.last_insert_rowid();
        for a in &p.attachments {
            tx.execute(
                "INSERT INTO task_attachment (progress_id, name, media_type, size_bytes, sha256, content)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    a.name.trim(),
                    a.media_type,
                    a.bytes.len() as i64,
                    sha256_hex(&a.bytes),
                    a.bytes
                ],
            )?;
        }
        let target = format!("{}/{}", p.register, p.task);
        audit_in(
            &tx,
            p.at_ms,
            &p.who,
            "task.progress",
            &target,
            &progress_detail(p),
        )?;
        tx.commit()?;
        Ok(id)
    }

    fn progress(&mut self, f: &ProgressFilter) -> Result<Vec<Progress>> {
        let mut rows: Vec<Progress> = {
            let mut st = self.conn.prepare_cached(
                "SELECT id, register, task, district, percent, done_on, note, who, at_ms
                 FROM task_progress
                 WHERE (?1 IS NULL OR register = ?1) AND (?2 IS NULL OR task = ?2)
                   AND (?3 IS NULL OR district = ?3)
                 ORDER BY id",
            )?;
            let it = st.query_map(params![f.register, f.task, f.district], |r| {
                let done: Option<String> = r.get(5)?;
                Ok((
                    Progress {
                        id: r.get(0)?,
                        register: r.get(1)?,
                        task: r.get(2)?,
                        district: r.get(3)?,
                        percent: r.get(4)?,
                        done_on: None,
                        note: r.get(6)?,
                        who: r.get(7)?,
                        at_ms: r.get(8)?,
                        attachments: vec![],
                    },
                    done,
                ))
            })?;
            let mut out = Vec::new();
            for row in it {
                let (mut p, done) = row?;
                p.done_on = done.as_deref().map(stored_date).transpose()?;
                out.push(p);
            }
            out
        };
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, media_type, size_bytes, sha256 FROM task_attachment
             WHERE progress_id = ?1 ORDER BY id",
        )?;
        for p in rows.iter_mut() {
            p.attachments = st
                .query_map(params![p.id], |r| {
                    Ok(AttachmentInfo {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        media_type: r.get(2)?,
                        size_bytes: r.get(3)?,
                        sha256: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(rows)
    }

    fn attachment(&mut self, id: i64) -> Result<Option<Attachment>> {
        Ok(self
            .conn
            .query_row(
                "SELECT a.id, a.name, a.media_type, a.size_bytes, a.sha256, a.progress_id,
                        p.district, a.content
                 FROM task_attachment a JOIN task_progress p ON p.id = a.progress_id
                 WHERE a.id = ?1",
                params![id],
                |r| {
                    Ok(Attachment {
                        info: AttachmentInfo {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            media_type: r.get(2)?,
                            size_bytes: r.get(3)?,
                            sha256: r.get(4)?,
                        },
                        progress_id: r.get(5)?,
                        district: r.get(6)?,
                        bytes: r.get(7)?,
                    })
                },
            )
            .optional()?)
    }

    fn put_river_chief(&mut self, c: &RiverChief, who: &str, at_ms: i64) -> Result<()> {
        check_river_chief(c)?;
        crate::check_who(who)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO river_chief (id, name, level, water_body, district, since)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, level = excluded.level,
                water_body = excluded.water_body, district = excluded.district, since = excluded.since",
            params![c.id, c.name, c.level, c.water_body, c.district, c.since.to_string()],
        )?;
        let detail = format!("level={} since={}", c.level, c.since);
        audit_in(&tx, at_ms, who, "river_chief.put", &c.id, &detail)?;
        tx.commit()?;
        Ok(())
    }

    fn river_chiefs(&mut self, district: Option<&str>) -> Result<Vec<RiverChief>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, level, water_body, district, since FROM river_chief
             WHERE (?1 IS NULL OR district = ?1) ORDER BY id",
        )?;
        let rows = st.query_map(params![district], |r| {
            Ok(RiverChief {
                id: r.get(0)?,
                name: r.get(1)?,
                level: r.get(2)?,
                water_body: r.get(3)?,
                district: r.get(4)?,
                since: date_col(r, 5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn log_patrol(&mut self, p: &NewPatrol) -> Result<i64> {
        crate::check_who(&p.who)?;
        let tx = self.conn.transaction()?;
        let known: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM river_chief WHERE id = ?1)",
            params![p.chief],
            |r| r.get(0),
        )?;
        if !known {
            return Err(StoreError::Invalid(format!(
                "patrol: no river chief '{}'",
                p.chief
            )));
        }
        tx.execute(
            "INSERT INTO patrol (chief, on_day, note, who, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![p.chief, p.on.to_string(), p.note, p.who, p.at_ms],
        )?;
        let id = tx.last_insert_rowid();
        audit_in(
            &tx,
            p.at_ms,
            &p.who,
            "patrol.log",
            &p.chief,
            &format!("on={}", p.on),
        )?;
        tx.commit()?;
        Ok(id)
    }

    fn patrols(&mut self, chief: Option<&str>, from: Date, to: Date) -> Result<Vec<Patrol>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, chief, on_day, note, who, at_ms FROM patrol
             WHERE (?1 IS NULL OR chief = ?1) AND on_day >= ?2 AND on_day <= ?3
             ORDER BY on_day, id",
        )?;
        let rows = st.query_map(params![chief, from.to_string(), to.to_string()], |r| {
            Ok(Patrol {
                id: r.get(0)?,
                chief: r.get(1)?,
                on: date_col(r, 2)?,
                note: r.get(3)?,
                who: r.get(4)?,
                at_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
