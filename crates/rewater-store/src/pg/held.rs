//! Hourly sums of the batches this process committed, held in memory until its next fold
//! (issue 19). The fold of [`super::fold`] used to read every pending reading back from
//! `reading` to add it to the hourly aggregates: about 4.5 µs of PostgreSQL's CPU per reading
//! at 50k readings/s (docs/benchmarks.md). A writer already has the values it just wrote, so
//! after each commit it adds the batch's valid values to a map shared by the process's
//! connections, under the batch's `aggregate_pending` id. The fold then deletes those pending
//! rows and upserts the merged sums, reading nothing back.
//!
//! Exactness does not depend on the memory:
//! * the sums are used only if **every** pending row they stand for is still there when the
//!   fold deletes them (in the fold's transaction, under the fold lock). If one is gone (a
//!   correction folded its batch, or another gateway folded it as an orphan), the rows still
//!   there are folded by reading back, as before;
//! * a process that dies loses only its sums: its pending rows stay, and once their
//!   `held_until_ms` has passed any gateway folds them by reading back;
//! * past [`MAX_HELD_KEYS`] sums in all (an eighth of it per fold part; a fold that keeps
//!   failing) a part's held sums are dropped and their rows left to that read-back, so memory
//!   stays bounded.
//!
//! A batch has one pending row per fold part its loggers fall in (see `super::fold`), and
//! the sums are held by part ([`HeldParts`]), so that a fold turn takes one part's.

use crate::ingest::{Checked, Plan};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// (logger, factor, hour) sums held at most; past this the generation is dropped (its
/// batches are folded by reading back). A 10,000-logger load of 6 factors holds 60,000 per
/// hour it spans; this is about 17 hours of such a load, a few hundred MB at most.
pub(crate) const MAX_HELD_KEYS: usize = 1 << 20;

/// One (logger, factor, hour) sum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HourAgg {
    pub n: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

/// The sums of the batches committed since the last fold, and those batches' pending ids.
#[derive(Debug)]
pub(crate) struct HeldSums {
    /// Pending-row ids whose valid values are all in `sums`.
    pub ids: Vec<i64>,
    /// Per logger (MN): (factor, hour start, sum). A logger has a few factors and hours
    /// per fold, so a short list beats a second map.
    by_mn: HashMap<String, Vec<(String, i64, HourAgg)>>,
    keys: usize,
    /// Keys held at most ([`MAX_HELD_KEYS`]; smaller in tests).
    limit: usize,
}

impl Default for HeldSums {
    fn default() -> HeldSums {
        HeldSums::with_limit(MAX_HELD_KEYS)
    }
}

/// The map shared by a process's writer and fold connections.
pub(crate) type SharedSums = Arc<Mutex<HeldParts>>;

/// The held sums of each fold part (index: the part, `super::fold::part_of`).
#[derive(Debug)]
pub(crate) struct HeldParts {
    parts: Vec<HeldSums>,
}

impl Default for HeldParts {
    fn default() -> HeldParts {
        HeldParts::with_limit(MAX_HELD_KEYS)
    }
}

impl HeldParts {
    /// Parts of at most `limit` keys in all (each holds its share).
    pub(crate) fn with_limit(limit: usize) -> HeldParts {
        let n = usize::from(super::fold::FOLD_PARTS);
        HeldParts {
            parts: (0..n)
                .map(|_| HeldSums::with_limit(limit.div_ceil(n)))
                .collect(),
        }
    }

    /// Adds the valid values of the uploads a committed batch stored (`stored[i]`), each to
    /// its logger's part (`part_of_upload[i]`), under that part's pending row (`rows`: (part,
    /// pending id)). A part with no row gets nothing (its uploads stored no reading).
    pub(crate) fn add_batch(
        &mut self,
        rows: &[(i16, i64)],
        uploads: &[Checked<'_>],
        plan: &Plan,
        stored: &[bool],
        part_of_upload: &[u8],
    ) {
        let mut mine: Vec<Vec<bool>> = vec![vec![false; uploads.len()]; self.parts.len()];
        for (i, &p) in part_of_upload.iter().enumerate() {
            if let Some(m) = mine.get_mut(usize::from(p)).filter(|_| stored[i]) {
                m[i] = true;
            }
        }
        for &(part, id) in rows {
            if let Some(h) = usize::try_from(part)
                .ok()
                .and_then(|p| self.parts.get_mut(p))
            {
                h.add_batch(id, uploads, plan, &mine[part as usize]);
            }
        }
    }

    /// Takes what part `part` holds (none for a part out of range).
    pub(crate) fn take(&mut self, part: u8) -> Option<HeldSums> {
        self.parts.get_mut(usize::from(part)).map(HeldSums::take)
    }
}

impl HeldSums {
    pub(crate) fn with_limit(limit: usize) -> HeldSums {
        HeldSums {
            ids: Vec::new(),
            by_mn: HashMap::new(),
            keys: 0,
            limit,
        }
    }

    /// Adds the valid values of the uploads a committed batch stored (`stored[i]`: upload `i`
    /// was the first with its key and claimed it) under its pending row `id`.
    pub(crate) fn add_batch(
        &mut self,
        id: i64,
        uploads: &[Checked<'_>],
        plan: &Plan,
        stored: &[bool],
    ) {
        for (i, c) in uploads.iter().enumerate() {
            let Some(start) = plan.hour[i].filter(|_| stored[i]) else {
                continue;
            };
            if c.readings.iter().all(|r| r.valid_value().is_none()) {
                continue;
            }
            // One lookup of the logger per upload, not per reading.
            let list = match self.by_mn.get_mut(c.u.mn.as_str()) {
                Some(l) => l,
                None => self.by_mn.entry(c.u.mn.clone()).or_default(),
            };
            for r in &c.readings {
                if let Some(v) = r.valid_value() {
                    self.keys += add_to(list, r.factor, start, v);
                }
            }
        }
        self.ids.push(id);
        self.bound();
    }

    /// Drops the generation once it holds more keys than its bound.
    fn bound(&mut self) {
        if self.keys > self.limit {
            tracing::warn!(
                keys = self.keys,
                batches = self.ids.len(),
                "held hourly sums past their bound: dropped, their batches are folded by reading back"
            );
            *self = HeldSums::with_limit(self.limit);
        }
    }

    #[cfg(test)]
    fn add(&mut self, mn: &str, factor: &str, start: i64, v: f64) {
        let list = self.by_mn.entry(mn.to_string()).or_default();
        self.keys += add_to(list, factor, start, v);
    }

    /// Takes what is held, leaving an empty generation with the same bound.
    pub(crate) fn take(&mut self) -> HeldSums {
        let empty = HeldSums::with_limit(self.limit);
        std::mem::replace(self, empty)
    }

    /// The sums as columns (MN, factor, hour start, n, sum, min, max), sorted bytewise by key
    /// as the aggregate's primary key (`COLLATE "C"`) orders them.
    #[allow(clippy::type_complexity)]
    pub(crate) fn columns(
        self,
    ) -> (
        Vec<String>,
        Vec<String>,
        Vec<i64>,
        Vec<i64>,
        Vec<f64>,
        Vec<f64>,
        Vec<f64>,
    ) {
        let mut rows: Vec<(String, String, i64, HourAgg)> = self
            .by_mn
            .into_iter()
            .flat_map(|(mn, list)| list.into_iter().map(move |(f, s, a)| (mn.clone(), f, s, a)))
            .collect();
        rows.sort_unstable_by(|a, b| {
            (a.0.as_bytes(), a.1.as_bytes(), a.2).cmp(&(b.0.as_bytes(), b.1.as_bytes(), b.2))
        });
        let mut c = (
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
        );
        for (mn, f, s, a) in rows {
            c.0.push(mn);
            c.1.push(f);
            c.2.push(s);
            c.3.push(a.n);
            c.4.push(a.sum);
            c.5.push(a.min);
            c.6.push(a.max);
        }
        c
    }

    /// (logger, factor, hour) sums held.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> usize {
        self.keys
    }
}

/// Adds value `v` of `factor` in the hour from `start` to a logger's list; returns the keys
/// made (1 for a new (factor, hour), else 0).
fn add_to(list: &mut Vec<(String, i64, HourAgg)>, factor: &str, start: i64, v: f64) -> usize {
    match list.iter_mut().find(|(f, s, _)| *s == start && f == factor) {
        Some((_, _, a)) => {
            a.n += 1;
            a.sum += v;
            a.min = a.min.min(v);
            a.max = a.max.max(v);
            0
        }
        None => {
            list.push((
                factor.to_string(),
                start,
                HourAgg {
                    n: 1,
                    sum: v,
                    min: v,
                    max: v,
                },
            ));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums() -> HeldSums {
        let mut h = HeldSums::default();
        for (mn, f, s, v) in [
            ("B", "w01018", 3600, 4.0),
            ("A", "w01018", 0, 10.0),
            ("A", "w01018", 0, 30.0),
            ("A", "w21003", 0, 1.0),
            ("A", "w01018", 3600, 20.0),
        ] {
            h.add(mn, f, s, v);
        }
        h
    }

    #[test]
    fn values_merge_by_logger_factor_and_hour_in_key_order() {
        let h = sums();
        assert_eq!(h.keys(), 4);
        let (mn, f, s, n, sum, min, max) = h.columns();
        assert_eq!(mn, ["A", "A", "A", "B"]);
        assert_eq!(f, ["w01018", "w01018", "w21003", "w01018"]);
        assert_eq!(s, [0, 3600, 0, 3600]);
        assert_eq!(n, [2, 1, 1, 1]);
        assert_eq!(sum, [40.0, 20.0, 1.0, 4.0]);
        assert_eq!((min[0], max[0]), (10.0, 30.0));
    }

    #[test]
    fn past_its_bound_a_generation_is_dropped() {
        let mut h = HeldSums::with_limit(3);
        h.ids.push(1);
        h.add("A", "w01018", 0, 1.0);
        h.add("A", "w01018", 0, 2.0);
        h.add("A", "w21003", 0, 2.0);
        h.bound();
        assert_eq!((h.ids.len(), h.keys()), (1, 2));
        h.add("B", "w01018", 0, 1.0);
        h.add("C", "w01018", 0, 1.0);
        h.bound();
        assert_eq!((h.ids.len(), h.keys()), (0, 0), "dropped");
        h.add("D", "w01018", 0, 1.0);
        assert_eq!(
            (h.keys(), h.limit),
            (1, 3),
            "the next generation keeps the bound"
        );
    }

    #[test]
    fn take_leaves_an_empty_generation() {
        let mut h = sums();
        h.ids.push(7);
        let g = h.take();
        assert_eq!((g.ids, g.keys), (vec![7], 4));
        assert_eq!((h.ids.len(), h.keys(), h.limit), (0, 0, MAX_HELD_KEYS));
    }
}
