//! [`MaintenanceStore`] on SQLite.

use super::SqliteStore;
use crate::maintenance::*;
use crate::Result;
use rusqlite::params;

/// Version 6: maintenance windows of data loggers.
pub(super) const V6: &str = "
CREATE TABLE maintenance (
    id INTEGER PRIMARY KEY, mn TEXT NOT NULL, from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL,
    reason TEXT NOT NULL, who TEXT NOT NULL, created_at_ms INTEGER NOT NULL);
CREATE INDEX maintenance_mn ON maintenance (mn, to_ms);
";

impl MaintenanceStore for SqliteStore {
    fn add_maintenance(&mut self, w: &NewMaintenance) -> Result<i64> {
        w.check()?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO maintenance (mn, from_ms, to_ms, reason, who, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![w.mn, w.from_ms, w.to_ms, w.reason, w.who, w.at_ms],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO audit (at_ms, who, action, target, detail) VALUES (?1, ?2, 'maintenance.add', ?3, ?4)",
            params![w.at_ms, w.who, format!("maintenance {id} ({})", w.mn), w.reason],
        )?;
        SqliteStore::bump_config(&tx)?;
        tx.commit()?;
        Ok(id)
    }

    fn maintenance(&mut self, mn: Option<&str>, after_ms: i64) -> Result<Vec<MaintenanceWindow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, mn, from_ms, to_ms, reason, who, created_at_ms FROM maintenance
             WHERE (?1 IS NULL OR mn = ?1) AND to_ms > ?2 ORDER BY from_ms, id",
        )?;
        let rows = st.query_map(params![mn, after_ms], |r| {
            Ok(MaintenanceWindow {
                id: r.get(0)?,
                mn: r.get(1)?,
                from_ms: r.get(2)?,
                to_ms: r.get(3)?,
                reason: r.get(4)?,
                who: r.get(5)?,
                created_at_ms: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn remove_maintenance(&mut self, id: i64, who: &str, at_ms: i64) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM maintenance WHERE id = ?1", params![id])?;
        if n > 0 {
            tx.execute(
                "INSERT INTO audit (at_ms, who, action, target, detail) VALUES (?1, ?2, 'maintenance.remove', ?3, '')",
                params![at_ms, who, format!("maintenance {id}")],
            )?;
            SqliteStore::bump_config(&tx)?;
        }
        tx.commit()?;
        Ok(n > 0)
    }
}
