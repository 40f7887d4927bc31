//! [`LabelStore`] on PostgreSQL.

use super::{pg, PostgresStore};
use crate::labels::*;
use crate::Result;

/// Version 7: names of sites and districts in Chinese and English; public supply points.
pub(super) const V7: &str = "
CREATE TABLE labels (
    kind TEXT NOT NULL, id TEXT NOT NULL, name_zh TEXT NOT NULL, name_en TEXT NOT NULL,
    public BOOLEAN NOT NULL DEFAULT FALSE, PRIMARY KEY (kind, id));
";

impl LabelStore for PostgresStore {
    fn put_label(&mut self, l: &Label, who: &str, at_ms: i64) -> Result<()> {
        l.check()?;
        let mut tx = self.client.transaction().map_err(pg)?;
        tx.execute(
            "INSERT INTO labels (kind, id, name_zh, name_en, public) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, id) DO UPDATE SET name_zh = $3, name_en = $4, public = $5",
            &[&l.kind, &l.id, &l.name_zh, &l.name_en, &l.public],
        )
        .map_err(pg)?;
        tx.execute(
            "INSERT INTO audit (at_ms, who, action, target, detail) VALUES ($1, $2, 'label.put', $3, $4)",
            &[&at_ms, &who, &format!("{} {}", l.kind, l.id), &format!("{} / {} public={}", l.name_zh, l.name_en, l.public)],
        )
        .map_err(pg)?;
        PostgresStore::bump_config(&mut tx)?;
        tx.commit().map_err(pg)?;
        Ok(())
    }

    fn labels(&mut self) -> Result<Vec<Label>> {
        let rows = self
            .client
            .query(
                "SELECT kind, id, name_zh, name_en, public FROM labels ORDER BY kind, id",
                &[],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| Label {
                kind: r.get(0),
                id: r.get(1),
                name_zh: r.get(2),
                name_en: r.get(3),
                public: r.get(4),
            })
            .collect())
    }
}
