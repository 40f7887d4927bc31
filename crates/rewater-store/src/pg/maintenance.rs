//! [`MaintenanceStore`] on PostgreSQL.

use super::{pg, PostgresStore};
use crate::maintenance::*;
use crate::Result;

/// Version 6: maintenance windows of data loggers.
pub(super) const V6: &str = "
CREATE TABLE maintenance (
    id BIGSERIAL PRIMARY KEY, mn TEXT NOT NULL, from_ms BIGINT NOT NULL, to_ms BIGINT NOT NULL,
    reason TEXT NOT NULL, who TEXT NOT NULL, created_at_ms BIGINT NOT NULL);
CREATE INDEX maintenance_mn ON maintenance (mn, to_ms);
";

impl MaintenanceStore for PostgresStore {
    fn add_maintenance(&mut self, w: &NewMaintenance) -> Result<i64> {
        w.check()?;
        let mut tx = self.client.transaction().map_err(pg)?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO maintenance (mn, from_ms, to_ms, reason, who, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[&w.mn, &w.from_ms, &w.to_ms, &w.reason, &w.who, &w.at_ms],
            )
            .map_err(pg)?
            .get(0);
        tx.execute(
            "INSERT INTO audit (at_ms, who, action, target, detail) VALUES ($1, $2, 'maintenance.add', $3, $4)",
            &[&w.at_ms, &w.who, &format!("maintenance {id} ({})", w.mn), &w.reason],
        )
        .map_err(pg)?;
        PostgresStore::bump_config(&mut tx)?;
        tx.commit().map_err(pg)?;
        Ok(id)
    }

    fn maintenance(&mut self, mn: Option<&str>, after_ms: i64) -> Result<Vec<MaintenanceWindow>> {
        let rows = self
            .client
            .query(
                "SELECT id, mn, from_ms, to_ms, reason, who, created_at_ms FROM maintenance
                 WHERE ($1::text IS NULL OR mn = $1) AND to_ms > $2 ORDER BY from_ms, id",
                &[&mn, &after_ms],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| MaintenanceWindow {
                id: r.get(0),
                mn: r.get(1),
                from_ms: r.get(2),
                to_ms: r.get(3),
                reason: r.get(4),
                who: r.get(5),
                created_at_ms: r.get(6),
            })
            .collect())
    }

    fn remove_maintenance(&mut self, id: i64, who: &str, at_ms: i64) -> Result<bool> {
        let mut tx = self.client.transaction().map_err(pg)?;
        let n = tx
            .execute("DELETE FROM maintenance WHERE id = $1", &[&id])
            .map_err(pg)?;
        if n > 0 {
            tx.execute(
                "INSERT INTO audit (at_ms, who, action, target, detail) VALUES ($1, $2, 'maintenance.remove', $3, '')",
                &[&at_ms, &who, &format!("maintenance {id}")],
            )
            .map_err(pg)?;
            PostgresStore::bump_config(&mut tx)?;
        }
        tx.commit().map_err(pg)?;
        Ok(n > 0)
    }
}
