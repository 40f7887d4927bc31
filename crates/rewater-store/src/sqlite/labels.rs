//! [`LabelStore`] on SQLite.

use super::SqliteStore;
use crate::labels::*;
use crate::Result;
use rusqlite::params;

/// Version 7: names of sites and districts in Chinese and English; public supply points.
pub(super) const V7: &str = "
CREATE TABLE labels (
    kind TEXT NOT NULL, id TEXT NOT NULL, name_zh TEXT NOT NULL, name_en TEXT NOT NULL,
    public INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (kind, id));
";

impl LabelStore for SqliteStore {
    fn put_label(&mut self, l: &Label, who: &str, at_ms: i64) -> Result<()> {
        l.check()?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO labels (kind, id, name_zh, name_en, public) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (kind, id) DO UPDATE SET name_zh = ?3, name_en = ?4, public = ?5",
            params![l.kind, l.id, l.name_zh, l.name_en, l.public],
        )?;
        tx.execute(
            "INSERT INTO audit (at_ms, who, action, target, detail) VALUES (?1, ?2, 'label.put', ?3, ?4)",
            params![at_ms, who, format!("{} {}", l.kind, l.id), format!("{} / {} public={}", l.name_zh, l.name_en, l.public)],
        )?;
        SqliteStore::bump_config(&tx)?;
        tx.commit()?;
        Ok(())
    }

    fn labels(&mut self) -> Result<Vec<Label>> {
        let mut st = self.conn.prepare_cached(
            "SELECT kind, id, name_zh, name_en, public FROM labels ORDER BY kind, id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(Label {
                kind: r.get(0)?,
                id: r.get(1)?,
                name_zh: r.get(2)?,
                name_en: r.get(3)?,
                public: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
