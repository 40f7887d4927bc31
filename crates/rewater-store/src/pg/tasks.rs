//! [`TaskStore`] on PostgreSQL: the same records and rules as the SQLite backend, each change
//! written with its audit row in one transaction.

use super::{pg, PostgresStore};
use crate::tasks::*;
use crate::{Result, StoreError};
use ::postgres::GenericClient;
use rewater_time::Date;

/// Version 4: the task register's progress updates with attachments, river chiefs, patrols.
pub(super) const V4: &str = "
CREATE TABLE task_progress (
    id BIGSERIAL PRIMARY KEY, register TEXT NOT NULL, task TEXT NOT NULL, district TEXT,
    percent SMALLINT NOT NULL CHECK (percent BETWEEN 0 AND 100), done_on TEXT, note TEXT NOT NULL,
    who TEXT NOT NULL, at_ms BIGINT NOT NULL);
CREATE INDEX task_progress_task ON task_progress (register, task, id);
CREATE TABLE task_attachment (
    id BIGSERIAL PRIMARY KEY, progress_id BIGINT NOT NULL REFERENCES task_progress(id),
    name TEXT NOT NULL, media_type TEXT NOT NULL, size_bytes BIGINT NOT NULL, sha256 TEXT NOT NULL,
    content BYTEA NOT NULL);
CREATE INDEX task_attachment_progress ON task_attachment (progress_id);
CREATE TABLE river_chief (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL, water_body TEXT NOT NULL,
    district TEXT, since TEXT NOT NULL);
CREATE TABLE patrol (
    id BIGSERIAL PRIMARY KEY, chief TEXT NOT NULL REFERENCES river_chief(id), on_day TEXT NOT NULL,
    note TEXT NOT NULL, who TEXT NOT NULL, at_ms BIGINT NOT NULL);
CREATE INDEX patrol_chief ON patrol (chief, on_day);
";

fn audit_in(
    c: &mut impl GenericClient,
    at_ms: i64,
    who: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<()> {
    c.execute(
        "INSERT INTO audit (at_ms, who, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
        &[&at_ms, &who, &action, &target, &detail],
    )
    .map_err(pg)?;
    Ok(())
}

fn date_of(s: String) -> Result<Date> {
    stored_date(&s)
}

impl TaskStore for PostgresStore {
    fn add_progress(&mut self, p: &NewProgress) -> Result<i64> {
        check_progress(p)?;
        let mut tx = self.client.transaction().map_err(pg)?;
        let percent = i16::from(p.percent);
        let done = p.done_on.map(|d| d.to_string());
        let id: i64 = tx
            .query_one(
                "INSERT INTO task_progress (register, task, district, percent, done_on, note, who, at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[&p.register, &p.task, &p.district, &percent, &done, &p.note, &p.who, &p.at_ms],
            )
            .map_err(pg)?
            .get(0);
        for a in &p.attachments {
            let size = a.bytes.len() as i64;
            tx.execute(
                "INSERT INTO task_attachment (progress_id, name, media_type, size_bytes, sha256, content)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&id, &a.name.trim(), &a.media_type, &size, &sha256_hex(&a.bytes), &a.bytes],
            )
            .map_err(pg)?;
        }
        let target = format!("{}/{}", p.register, p.task);
        audit_in(
            &mut tx,
            p.at_ms,
            &p.who,
            "task.progress",
            &target,
            &progress_detail(p),
        )?;
        tx.commit().map_err(pg)?;
        Ok(id)
    }

    fn progress(&mut self, f: &ProgressFilter) -> Result<Vec<Progress>> {
        let rows = self
            .client
            .query(
                "SELECT id, register, task, district, percent, done_on, note, who, at_ms
                 FROM task_progress
                 WHERE ($1::TEXT IS NULL OR register = $1) AND ($2::TEXT IS NULL OR task = $2)
                   AND ($3::TEXT IS NULL OR district = $3)
                 ORDER BY id",
                &[&f.register, &f.task, &f.district],
            )
            .map_err(pg)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let percent: i16 = r.get(4);
            let done: Option<String> = r.get(5);
            out.push(Progress {
                id: r.get(0),
                register: r.get(1),
                task: r.get(2),
                district: r.get(3),
                percent: u8::try_from(percent)
                    .map_err(|_| StoreError::Invalid(format!("stored percent {percent}")))?,
                done_on: done.map(date_of).transpose()?,
                note: r.get(6),
                who: r.get(7),
                at_ms: r.get(8),
                attachments: vec![],
            });
        }
        let ids: Vec<i64> = out.iter().map(|p| p.id).collect();
        let atts = self
            .client
            .query(
                "SELECT progress_id, id, name, media_type, size_bytes, sha256 FROM task_attachment
                 WHERE progress_id = ANY($1) ORDER BY id",
                &[&ids],
            )
            .map_err(pg)?;
        for r in atts {
            let pid: i64 = r.get(0);
            if let Some(p) = out.iter_mut().find(|p| p.id == pid) {
                p.attachments.push(AttachmentInfo {
                    id: r.get(1),
                    name: r.get(2),
                    media_type: r.get(3),
                    size_bytes: r.get(4),
                    sha256: r.get(5),
                });
            }
        }
        Ok(out)
    }

    fn attachment(&mut self, id: i64) -> Result<Option<Attachment>> {
        let row = self
            .client
            .query_opt(
                "SELECT a.id, a.name, a.media_type, a.size_bytes, a.sha256, a.progress_id,
                        p.district, a.content
                 FROM task_attachment a JOIN task_progress p ON p.id = a.progress_id
                 WHERE a.id = $1",
                &[&id],
            )
            .map_err(pg)?;
        Ok(row.map(|r| Attachment {
            info: AttachmentInfo {
                id: r.get(0),
                name: r.get(1),
                media_type: r.get(2),
                size_bytes: r.get(3),
                sha256: r.get(4),
            },
            progress_id: r.get(5),
            district: r.get(6),
            bytes: r.get(7),
        }))
    }

    fn put_river_chief(&mut self, c: &RiverChief, who: &str, at_ms: i64) -> Result<()> {
        check_river_chief(c)?;
        crate::check_who(who)?;
        let mut tx = self.client.transaction().map_err(pg)?;
        tx.execute(
            "INSERT INTO river_chief (id, name, level, water_body, district, since)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, level = excluded.level,
                water_body = excluded.water_body, district = excluded.district, since = excluded.since",
            &[&c.id, &c.name, &c.level, &c.water_body, &c.district, &c.since.to_string()],
        )
        .map_err(pg)?;
        let detail = format!("level={} since={}", c.level, c.since);
        audit_in(&mut tx, at_ms, who, "river_chief.put", &c.id, &detail)?;
        tx.commit().map_err(pg)
    }

    fn river_chiefs(&mut self, district: Option<&str>) -> Result<Vec<RiverChief>> {
        let rows = self
            .client
            .query(
                "SELECT id, name, level, water_body, district, since FROM river_chief
                 WHERE ($1::TEXT IS NULL OR district = $1) ORDER BY id",
                &[&district],
            )
            .map_err(pg)?;
        rows.into_iter()
            .map(|r| {
                Ok(RiverChief {
                    id: r.get(0),
                    name: r.get(1),
                    level: r.get(2),
                    water_body: r.get(3),
                    district: r.get(4),
                    since: date_of(r.get(5))?,
                })
            })
            .collect()
    }

    fn log_patrol(&mut self, p: &NewPatrol) -> Result<i64> {
        crate::check_who(&p.who)?;
        let mut tx = self.client.transaction().map_err(pg)?;
        let known: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM river_chief WHERE id = $1)",
                &[&p.chief],
            )
            .map_err(pg)?
            .get(0);
        if !known {
            return Err(StoreError::Invalid(format!(
                "patrol: no river chief '{}'",
                p.chief
            )));
        }
        let id: i64 = tx
            .query_one(
                "INSERT INTO patrol (chief, on_day, note, who, at_ms) VALUES ($1, $2, $3, $4, $5)
                 RETURNING id",
                &[&p.chief, &p.on.to_string(), &p.note, &p.who, &p.at_ms],
            )
            .map_err(pg)?
            .get(0);
        audit_in(
            &mut tx,
            p.at_ms,
            &p.who,
            "patrol.log",
            &p.chief,
            &format!("on={}", p.on),
        )?;
        tx.commit().map_err(pg)?;
        Ok(id)
    }

    fn patrols(&mut self, chief: Option<&str>, from: Date, to: Date) -> Result<Vec<Patrol>> {
        let rows = self
            .client
            .query(
                "SELECT id, chief, on_day, note, who, at_ms FROM patrol
                 WHERE ($1::TEXT IS NULL OR chief = $1) AND on_day >= $2 AND on_day <= $3
                 ORDER BY on_day, id",
                &[&chief, &from.to_string(), &to.to_string()],
            )
            .map_err(pg)?;
        rows.into_iter()
            .map(|r| {
                Ok(Patrol {
                    id: r.get(0),
                    chief: r.get(1),
                    on: date_of(r.get(2))?,
                    note: r.get(3),
                    who: r.get(4),
                    at_ms: r.get(5),
                })
            })
            .collect()
    }
}
