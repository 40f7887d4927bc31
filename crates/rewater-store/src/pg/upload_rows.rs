//! One row per upload on PostgreSQL (issue 19, migration 15): an upload's readings are stored
//! together, their factors and values in arrays of one `upload_reading` row, and the view
//! `reading` unnests them, so that every read sees one row per reading as before.
//!
//! Why: with a row and a series-index entry per reading, the index `(mn, factor, data_time)`
//! had an insertion point per (logger, factor): 60,000 for 10,000 loggers of 6 factors. Loggers
//! that upload at one rate fill those leaf pages together, and the page splits came in bursts
//! (about every 31 s) that stalled every writer on the index's relation-extension lock and on
//! the WAL they wrote (docs/benchmarks.md, "Province scale, 2026-12-04 evening"). Per upload,
//! the index `(mn, data_time)` takes one entry per upload, a sixth of them, and PostgreSQL's
//! CPU per reading for the readings' COPY fell from 6.5–7.2 to 2.8–2.9 µs in
//! `tools/pg_layout_experiment.py` (docs/benchmarks.md, "one row per upload").
//!
//! * **Reading ids** stay unique and stable: `reading_id_seq` moves in steps of [`BLOCK`],
//!   each upload row draws one step, and its k-th reading (from 0) has id `block + k`. The
//!   view's `block` column gives that step so that id lookups and the fold's id ranges go
//!   through the index on `upload_reading.id`.
//! * **Corrections** (and every reading stored before migration 15) are rows of
//!   `reading_row`, the former per-reading table; the view is the union of both.
//! * **`series`** lists each logger's (MN, factor) pairs with a DataTime at or before the
//!   newest, raised when readings come more than an hour past it, so that the latest readings
//!   of a logger are found per factor without a per-factor index (see `latest`).

use super::{pg, PostgresStore};
use crate::Result;
use std::collections::HashMap;

/// Reading ids per upload row: the step of `reading_id_seq`. Checking refuses an upload of
/// more than [`crate::ingest::MAX_READINGS_PER_UPLOAD`] readings, split records too, so every
/// upload fits; the step is no larger so that ids stay far below 2^53 (JSON numbers) for
/// decades at province rates (10,000 uploads/s: 2^53 / (1024 × 10^4) s ≈ 28 years).
pub(super) const BLOCK: i64 = 1024;

const _: () = assert!(crate::ingest::MAX_READINGS_PER_UPLOAD as i64 <= BLOCK);

/// How far a series' newest DataTime may run ahead of the `series` row before the row is
/// raised: bounds what `latest` scans per factor (an hour of the logger's uploads).
pub(super) const SERIES_SLACK_S: i64 = 3600;

/// Pairs remembered per connection before the cache starts again (about 100 bytes each).
const SERIES_CACHE_MAX: usize = 1_000_000;

/// Version 15: see the module's comment.
pub(super) const V15: &str = r#"
ALTER TABLE reading RENAME TO reading_row;
ALTER INDEX reading_series RENAME TO reading_row_series;
ALTER INDEX reading_id RENAME TO reading_row_id;
ALTER INDEX reading_corrects RENAME TO reading_row_corrects;
ALTER SEQUENCE reading_id_seq INCREMENT BY 1024;
CREATE TABLE upload_reading (
    id BIGINT NOT NULL DEFAULT nextval('reading_id_seq'), mn TEXT COLLATE "C" NOT NULL,
    cn TEXT COLLATE "C" NOT NULL, data_time BIGINT NOT NULL, factor TEXT[] COLLATE "C" NOT NULL,
    value DOUBLE PRECISION[] NOT NULL, min DOUBLE PRECISION[] NOT NULL,
    max DOUBLE PRECISION[] NOT NULL, cou DOUBLE PRECISION[] NOT NULL, flag TEXT[] NOT NULL,
    frame_id BIGINT, received_at_ms BIGINT NOT NULL
) PARTITION BY RANGE (data_time);
CREATE INDEX upload_reading_series ON upload_reading (mn, data_time);
CREATE INDEX upload_reading_id ON upload_reading USING brin (id);
CREATE TABLE series (
    mn TEXT COLLATE "C" NOT NULL, factor TEXT COLLATE "C" NOT NULL, last_t BIGINT NOT NULL,
    PRIMARY KEY (mn, factor));
INSERT INTO series (mn, factor, last_t)
  WITH RECURSIVE pair AS (
    (SELECT mn, factor FROM reading_row ORDER BY mn, factor LIMIT 1)
    UNION ALL
    SELECT n.mn, n.factor FROM pair p CROSS JOIN LATERAL (
      SELECT r.mn, r.factor FROM reading_row r WHERE (r.mn, r.factor) > (p.mn, p.factor)
      ORDER BY r.mn, r.factor LIMIT 1) n)
  SELECT p.mn, p.factor, (SELECT r.data_time FROM reading_row r
                          WHERE r.mn = p.mn AND r.factor = p.factor
                          ORDER BY r.data_time DESC LIMIT 1)
  FROM pair p;
CREATE VIEW reading AS
  SELECT id, mn, factor, cn, data_time, value, min, max, cou, flag, frame_id, corrects, reason,
         changed_by, received_at_ms, id AS block, xmin AS row_xmin
  FROM reading_row
  UNION ALL
  SELECT u.id + x.k - 1, u.mn, x.factor, u.cn, u.data_time, x.value, x.min, x.max, x.cou, x.flag,
         u.frame_id, NULL::bigint, NULL::text, NULL::text, u.received_at_ms, u.id, u.xmin
  FROM upload_reading u
  CROSS JOIN LATERAL unnest(u.factor, u.value, u.min, u.max, u.cou, u.flag)
    WITH ORDINALITY AS x(factor, value, min, max, cou, flag, k);
"#;

/// Adds (MN, factor, DataTime) pairs to `series`, each pair once (the newest time).
pub(super) const SERIES_UPSERT: &str = r#"INSERT INTO series (mn, factor, last_t)
    SELECT mn, factor, MAX(t) FROM UNNEST($1::text[], $2::text[], $3::int8[]) AS s(mn, factor, t)
    GROUP BY 1, 2 ORDER BY mn COLLATE "C", factor COLLATE "C"
    ON CONFLICT (mn, factor) DO UPDATE SET last_t = excluded.last_t
    WHERE series.last_t < excluded.last_t"#;

/// The (MN, factor) pairs a connection has written to `series`, with the time written.
#[derive(Default)]
pub(super) struct SeriesSeen {
    /// MN → factor → time written (nested so that lookups borrow the batch's strings).
    last_t: HashMap<String, HashMap<String, i64>>,
    pairs: usize,
}

/// Pairs to write to `series` in one batch: MN, factor, time (one entry per pair).
#[derive(Default)]
pub(super) struct SeriesNews {
    pub mn: Vec<String>,
    pub factor: Vec<String>,
    pub t: Vec<i64>,
}

impl SeriesSeen {
    /// Of the batch's stored (MN, factor, DataTime) triples, the pairs `series` must hear of:
    /// new ones, and those more than [`SERIES_SLACK_S`] past the time written.
    pub(super) fn news<'a>(
        &self,
        stored: impl Iterator<Item = (&'a str, &'a str, i64)>,
    ) -> SeriesNews {
        let mut newest: HashMap<(&str, &str), i64> = HashMap::new();
        for (mn, factor, t) in stored {
            let due = self
                .last_t
                .get(mn)
                .and_then(|f| f.get(factor))
                .is_none_or(|&seen| t > seen.saturating_add(SERIES_SLACK_S));
            if due {
                let e = newest.entry((mn, factor)).or_insert(t);
                *e = (*e).max(t);
            }
        }
        let mut out = SeriesNews::default();
        for ((mn, factor), t) in newest {
            out.mn.push(mn.to_string());
            out.factor.push(factor.to_string());
            out.t.push(t);
        }
        out
    }

    /// Remembers pairs written by a committed transaction.
    pub(super) fn remember(&mut self, news: SeriesNews) {
        if self.pairs + news.mn.len() > SERIES_CACHE_MAX {
            self.last_t.clear();
            self.pairs = 0;
        }
        for ((mn, factor), t) in news.mn.into_iter().zip(news.factor).zip(news.t) {
            let factors = self.last_t.entry(mn).or_default();
            let before = factors.len();
            let e = factors.entry(factor).or_insert(t);
            *e = (*e).max(t);
            self.pairs += factors.len() - before;
        }
    }
}

impl PostgresStore {
    /// Writes `news` to `series` in transaction `tx` (nothing when empty).
    pub(super) fn write_series(
        tx: &mut impl ::postgres::GenericClient,
        news: &SeriesNews,
    ) -> Result<()> {
        if news.mn.is_empty() {
            return Ok(());
        }
        tx.execute(SERIES_UPSERT, &[&news.mn, &news.factor, &news.t])
            .map_err(pg)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_steps_ids_by_the_block() {
        assert!(V15.contains(&format!("INCREMENT BY {BLOCK};")));
        let last = format!("+ {},", BLOCK - 1);
        assert!(super::super::copy::PENDING.contains(&last));
        assert!(super::super::readings::ONE_SHOT_DEFERRED.contains(&last));
    }

    #[test]
    fn series_news_are_new_pairs_and_pairs_an_hour_past_the_time_written() {
        let mut seen = SeriesSeen::default();
        let news = seen.news(
            [
                ("M1", "w01018", 100),
                ("M1", "w01018", 160),
                ("M1", "w21003", 100),
            ]
            .into_iter(),
        );
        let mut got: Vec<(String, String, i64)> = news
            .mn
            .iter()
            .cloned()
            .zip(news.factor.iter().cloned())
            .zip(news.t.iter().copied())
            .map(|((a, b), c)| (a, b, c))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("M1".into(), "w01018".into(), 160),
                ("M1".into(), "w21003".into(), 100)
            ]
        );
        seen.remember(news);
        // Within the hour: nothing to write; past it: the pair again, at its new time.
        assert!(seen
            .news([("M1", "w01018", 160 + 3600)].into_iter())
            .mn
            .is_empty());
        let later = seen.news([("M1", "w01018", 161 + 3600), ("M1", "w21003", 50)].into_iter());
        assert_eq!(later.t, vec![161 + 3600]);
        assert_eq!(later.factor, vec!["w01018".to_string()]);
    }
}
