//! Daily values: constants, monthly profiles and CSV series, and their products.

use crate::files::{self, LoadOptions, Refused};
use rewater_standards::Date;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A daily value computed on demand, so that memory does not grow with the horizon unless a
/// CSV series is used (and each CSV column is loaded once and shared).
#[derive(Debug, Clone)]
pub struct Profile {
    base: Base,
    monthly: Option<[f64; 12]>,
    daily: Option<Arc<[f64]>>,
}

#[derive(Debug, Clone)]
enum Base {
    Constant(f64),
    Series(Arc<[f64]>),
}

impl Profile {
    /// A constant value.
    pub fn constant(v: f64) -> Profile {
        Profile {
            base: Base::Constant(v),
            monthly: None,
            daily: None,
        }
    }

    /// A series as the base value.
    pub fn series(values: Arc<[f64]>) -> Profile {
        Profile {
            base: Base::Series(values),
            monthly: None,
            daily: None,
        }
    }

    /// Multiplies by twelve monthly factors.
    pub fn with_monthly(mut self, m: [f64; 12]) -> Profile {
        self.monthly = Some(m);
        self
    }

    /// Multiplies by a daily factor series.
    pub fn with_daily(mut self, d: Arc<[f64]>) -> Profile {
        self.daily = Some(d);
        self
    }

    /// Value on day index `day` (0 = start) in calendar month `month` (1–12).
    #[inline]
    pub fn at(&self, day: usize, month: u32) -> f64 {
        let mut v = match &self.base {
            Base::Constant(c) => *c,
            Base::Series(s) => s[day],
        };
        if let Some(m) = &self.monthly {
            v *= m[(month - 1) as usize];
        }
        if let Some(d) = &self.daily {
            v *= d[day];
        }
        v
    }

    /// Sets `changed[d]` for each day index `d ≥ 1` on which the value may differ from day
    /// `d − 1`'s; `month_of[d]` is day `d`'s calendar month (1–12), and both slices cover the
    /// horizon, and `month_starts` lists the days `d ≥ 1` whose month differs from day
    /// `d − 1`'s. Days are never cleared, and a day is marked when any factor of the product
    /// changes (so a marked day may still have the same value; an unmarked one never differs,
    /// bit for bit). The engine skips days that repeat the day before on this.
    pub fn mark_changes(&self, month_of: &[u32], month_starts: &[usize], changed: &mut [bool]) {
        let days = changed.len().min(month_of.len());
        let mut mark_series = |s: &[f64]| {
            for d in 1..days.min(s.len()) {
                if s[d].to_bits() != s[d - 1].to_bits() {
                    changed[d] = true;
                }
            }
        };
        if let Base::Series(s) = &self.base {
            mark_series(s);
        }
        if let Some(d) = &self.daily {
            mark_series(d);
        }
        if let Some(m) = &self.monthly {
            let factor = |month: u32| m[(month.clamp(1, 12) - 1) as usize].to_bits();
            for &d in month_starts.iter().filter(|&&d| d >= 1 && d < days) {
                if factor(month_of[d]) != factor(month_of[d - 1]) {
                    changed[d] = true;
                }
            }
        }
    }

    /// The constant value, if the profile is one.
    pub fn as_constant(&self) -> Option<f64> {
        match (&self.base, &self.monthly, &self.daily) {
            (Base::Constant(c), None, None) => Some(*c),
            _ => None,
        }
    }
}

/// Problems with a CSV series, described for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// A series: the file's path and the column.
type SeriesKey = (PathBuf, String);

/// Loads CSV series once per (file, column) and cuts them to the horizon.
#[derive(Debug)]
pub struct SeriesCache {
    base_dir: PathBuf,
    start: Date,
    days: usize,
    /// The canonical confining directory (or why it cannot be used), if confined.
    root: Option<Result<PathBuf, Refused>>,
    max_file_bytes: u64,
    max_values: u64,
    held_values: u64,
    loaded: HashMap<SeriesKey, Arc<[f64]>>,
    /// Files opened so far (each is read once when prefetched).
    files_read: std::cell::Cell<usize>,
    /// Read ahead by [`SeriesCache::prefetch`], not yet asked for.
    prefetched: HashMap<SeriesKey, Result<Arc<[f64]>, SeriesError>>,
}

impl SeriesCache {
    /// A cache resolving paths relative to `base_dir` for the horizon `start`, `days`, with
    /// the default (unconfined) limits.
    pub fn new(base_dir: &Path, start: Date, days: usize) -> SeriesCache {
        SeriesCache::with_options(base_dir, start, days, &LoadOptions::default())
    }

    /// A cache under `options`' confinement and size limits.
    pub fn with_options(
        base_dir: &Path,
        start: Date,
        days: usize,
        options: &LoadOptions,
    ) -> SeriesCache {
        SeriesCache {
            base_dir: base_dir.to_path_buf(),
            start,
            days,
            root: options.confine_to.as_deref().map(files::canonical_dir),
            max_file_bytes: options.max_series_bytes,
            max_values: options.max_series_values,
            held_values: 0,
            loaded: HashMap::new(),
            prefetched: HashMap::new(),
            files_read: std::cell::Cell::new(0),
        }
    }

    /// The path a series names: joined to the model's folder, and checked under confinement.
    fn path_of(&self, csv_path: &str) -> Result<PathBuf, SeriesError> {
        let refused = |r: Refused| SeriesError {
            file: csv_path.to_string(),
            line: None,
            message: r.0,
        };
        match &self.root {
            // Keyed by the canonical path, so that two spellings of one file share one read; a
            // path that cannot be resolved is kept as written (its read then reports why).
            None => {
                let joined = self.base_dir.join(csv_path);
                Ok(std::fs::canonicalize(&joined).unwrap_or(joined))
            }
            Some(Ok(root)) => files::confined_path(&self.base_dir, root, csv_path).map_err(refused),
            Some(Err(r)) => Err(refused(r.clone())),
        }
    }

    /// Reads every requested (file, column) in one pass per file, so that a file that feeds
    /// many series is read and parsed once; later [`SeriesCache::get`] calls answer from
    /// memory with the very result (values or error) they would have read alone.
    pub fn prefetch<'s>(&mut self, requests: impl IntoIterator<Item = (&'s str, &'s str)>) {
        // Grouped by the file's canonical path: one read however the model spells it. The
        // first spelling met names the file in messages.
        let mut by_file: BTreeMap<PathBuf, (&str, Vec<&str>)> = BTreeMap::new();
        for (csv_path, column) in requests {
            // A refused path is refused again, the same way, when it is asked for.
            let Ok(path) = self.path_of(csv_path) else {
                continue;
            };
            let (_, columns) = by_file.entry(path).or_insert((csv_path, Vec::new()));
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
        let mut planned = Vec::new();
        let mut values = self.held_values;
        for (path, (csv_path, columns)) in by_file {
            let columns: Vec<&str> = columns
                .into_iter()
                .filter(|c| !self.loaded.contains_key(&(path.clone(), c.to_string())))
                .collect();
            values = values.saturating_add(columns.len() as u64 * self.days as u64);
            planned.push((path, csv_path, columns));
        }
        // Over the cap, leave each series to `get`, which refuses the one that crosses it.
        if values > self.max_values {
            return;
        }
        for (path, csv_path, columns) in planned {
            let results = self.read_columns(&path, csv_path, &columns);
            for (column, result) in columns.into_iter().zip(results) {
                let result = result.map(Arc::from);
                self.prefetched
                    .insert((path.clone(), column.to_string()), result);
            }
        }
    }

    /// The horizon's values of `column` in `csv` (relative to the model file).
    pub fn get(&mut self, csv_path: &str, column: &str) -> Result<Arc<[f64]>, SeriesError> {
        let path = self.path_of(csv_path)?;
        let key = (path.clone(), column.to_string());
        if let Some(v) = self.loaded.get(&key) {
            return Ok(v.clone());
        }
        if self.held_values + self.days as u64 > self.max_values {
            return Err(SeriesError {
                file: csv_path.to_string(),
                line: None,
                message: format!(
                    "the model's series would hold more than {} values (series × days)",
                    self.max_values
                ),
            });
        }
        let values: Arc<[f64]> = match self.prefetched.remove(&key) {
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                // Kept, so that every node naming this series gets the error without a re-read.
                self.prefetched.insert(key, Err(e.clone()));
                return Err(e);
            }
            None => self
                .read_columns(&path, csv_path, &[column])
                .pop()
                .unwrap_or_else(|| Err(self.no_result(csv_path)))?
                .into(),
        };
        self.held_values += self.days as u64;
        self.loaded.insert(key, values.clone());
        Ok(values)
    }

    /// How many times a CSV file has been opened and read.
    pub fn files_read(&self) -> usize {
        self.files_read.get()
    }

    /// Unreachable in practice: `read_columns` gives one result per column.
    fn no_result(&self, csv_path: &str) -> SeriesError {
        SeriesError {
            file: csv_path.to_string(),
            line: None,
            message: "internal error: no result for the column".into(),
        }
    }

    /// Reads `columns` of one file in a single pass; each column's result is the one a read
    /// of that column alone would give (the first problem in file order, else its values).
    fn read_columns(
        &self,
        path: &Path,
        shown: &str,
        columns: &[&str],
    ) -> Vec<Result<Vec<f64>, SeriesError>> {
        let err = |line: Option<usize>, message: String| SeriesError {
            file: shown.to_string(),
            line,
            message,
        };
        let all = |e: SeriesError| columns.iter().map(|_| Err(e.clone())).collect();
        self.files_read.set(self.files_read.get() + 1);
        let bytes = match files::read_regular(
            path,
            self.max_file_bytes,
            "series file",
            self.root.is_some(),
        ) {
            Ok(b) => b,
            Err(r) => return all(err(None, r.0)),
        };
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes.as_slice());
        let headers = match rdr.headers() {
            Ok(h) => h.clone(),
            Err(e) => return all(err(Some(1), e.to_string())),
        };
        let Some(date_col) = headers.iter().position(|h| h.eq_ignore_ascii_case("date")) else {
            return all(err(
                Some(1),
                "the first row must name a 'date' column".into(),
            ));
        };
        let mut state: Vec<Result<Column, SeriesError>> = columns
            .iter()
            .map(|column| match headers.iter().position(|h| h == *column) {
                Some(index) => Ok(Column {
                    index,
                    values: vec![f64::NAN; self.days],
                    seen: vec![false; self.days],
                }),
                None => {
                    let names: Vec<&str> = headers.iter().collect();
                    Err(err(
                        Some(1),
                        format!("no column '{column}' (columns: {})", names.join(", ")),
                    ))
                }
            })
            .collect();
        for rec in rdr.records() {
            if state.iter().all(|s| s.is_err()) {
                break;
            }
            // A bad row or date stops every column still being read, as it would alone.
            let row = rec
                .map_err(|e| err(e.position().map(|p| p.line() as usize), e.to_string()))
                .and_then(|rec| {
                    let line = rec.position().map(|p| p.line() as usize);
                    let d = rec
                        .get(date_col)
                        .unwrap_or("")
                        .parse::<Date>()
                        .map_err(|e| err(line, e.to_string()))?;
                    Ok((rec, line, d))
                });
            let (rec, line, d) = match row {
                Ok(x) => x,
                Err(e) => {
                    for s in state.iter_mut().filter(|s| s.is_ok()) {
                        *s = Err(e.clone());
                    }
                    break;
                }
            };
            let idx = d.days_since(self.start);
            if idx < 0 || idx as usize >= self.days {
                continue;
            }
            let idx = idx as usize;
            for (s, column) in state.iter_mut().zip(columns) {
                let Ok(col) = s else { continue };
                let cell = rec.get(col.index).unwrap_or("");
                let problem = match cell.parse::<f64>().ok().filter(|v| v.is_finite()) {
                    None => Some(format!("column '{column}': '{cell}' is not a number")),
                    Some(_) if col.seen[idx] => Some(format!("date {d} appears twice")),
                    Some(v) => {
                        col.seen[idx] = true;
                        col.values[idx] = v;
                        None
                    }
                };
                if let Some(m) = problem {
                    *s = Err(err(line, m));
                }
            }
        }
        state
            .into_iter()
            .map(|s| {
                let col = s?;
                if let Some(missing) = col.seen.iter().position(|s| !s) {
                    let have = col.seen.iter().filter(|s| **s).count();
                    return Err(err(
                        None,
                        format!(
                            "series is shorter than the horizon: {have} of {} days present, first missing day {}",
                            self.days,
                            self.start.add_days(missing as i32)
                        ),
                    ));
                }
                Ok(col.values)
            })
            .collect()
    }
}

/// One column being read: its place in the header, its values and the days seen so far.
struct Column {
    index: usize,
    values: Vec<f64>,
    seen: Vec<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` to a fresh directory.
    fn dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rewater-series-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for (f, text) in files {
            std::fs::write(d.join(f), text).unwrap();
        }
        d
    }

    const START: &str = "2025-01-01";

    /// A day is marked exactly where a factor of the product changes: a series' step, a
    /// month whose factor differs (not one whose factor is the same), a daily factor's step;
    /// every unmarked day has the value of the day before, bit for bit.
    #[test]
    fn changes_are_marked_where_a_factor_changes() {
        // 2025-01-30 .. 2025-03-03: January 30–31, all of February, March 1–3.
        let start = Date::from_ymd(2025, 1, 30).unwrap();
        let days = 33;
        let month_of: Vec<u32> = (0..days)
            .map(|d| start.add_days(d as i32).month())
            .collect();
        let month_starts: Vec<usize> = (1..days)
            .filter(|&d| month_of[d] != month_of[d - 1])
            .collect();
        assert_eq!(month_starts, vec![2, 30]);
        let marked = |p: &Profile| {
            let mut changed = vec![false; days];
            p.mark_changes(&month_of, &month_starts, &mut changed);
            (0..days).filter(|&d| changed[d]).collect::<Vec<_>>()
        };
        assert!(marked(&Profile::constant(5.0)).is_empty());
        // February's factor equals January's, March's does not.
        let mut m = [1.0; 12];
        m[2] = 1.5;
        assert_eq!(marked(&Profile::constant(5.0).with_monthly(m)), vec![30]);
        let mut s = vec![2.0; days];
        s[10] = 3.0;
        s[11] = 3.0;
        let series = Profile::series(s.into());
        assert_eq!(marked(&series), vec![10, 12]);
        let mut d = vec![1.0; days];
        d[5] = 0.5;
        assert_eq!(
            marked(&series.clone().with_daily(d.into())),
            vec![5, 6, 10, 12]
        );
        // The contract: unmarked days repeat the value of the day before.
        let p = Profile::series(vec![2.0; days].into()).with_monthly(m);
        let changed = marked(&p);
        for day in 1..days {
            if !changed.contains(&day) {
                let (a, b) = (p.at(day, month_of[day]), p.at(day - 1, month_of[day - 1]));
                assert_eq!(a.to_bits(), b.to_bits(), "day {day}");
            }
        }
    }

    /// Prefetching reads each file once and gives, column by column, what a lone read gives,
    /// including which problem comes first in the file.
    #[test]
    fn one_pass_per_file_gives_the_results_of_one_pass_per_column() {
        let files = [
            // a: good; b: not a number on line 3; c: absent; d: good until the bad date.
            (
                "m.csv",
                "date,a,b,d\n2025-01-01,1,1,1\n2025-01-02,2,x,2\n2025-01-03,3,3,3\n",
            ),
            (
                "bad-date.csv",
                "date,a,b\n2025-01-01,1,1\n2025-01-02,2,oops\n2025-02-30,3,3\n",
            ),
            ("dup.csv", "date,a,b\n2025-01-01,1,1\n2025-01-01,2,2\n"),
            ("short.csv", "date,a\n2025-01-01,1\n2025-01-02,2\n"),
            (
                "ragged.csv",
                "date,a,b\n2025-01-01,1,1\n2025-01-02,2\n2025-01-03,3,3\n",
            ),
            ("nodate.csv", "day,a\n2025-01-01,1\n"),
        ];
        let d = dir("prefetch", &files);
        let start: Date = START.parse().unwrap();
        let mut requests = Vec::new();
        for (f, _) in &files {
            for c in ["a", "b", "c", "d"] {
                requests.push((*f, c));
            }
        }
        requests.push(("missing.csv", "a"));
        let mut ahead = SeriesCache::new(&d, start, 3);
        ahead.prefetch(requests.iter().copied());
        assert_eq!(ahead.files_read(), files.len() + 1);
        let mut alone = SeriesCache::new(&d, start, 3);
        for (f, c) in &requests {
            let want = alone.get(f, c).map(|v| v.to_vec());
            assert_eq!(ahead.get(f, c).map(|v| v.to_vec()), want, "{f} {c}");
        }
        // Asked again, nothing is re-read, not even a column that failed.
        for (f, c) in &requests {
            let _ = ahead.get(f, c);
        }
        assert_eq!(ahead.files_read(), files.len() + 1);
        assert_eq!(alone.files_read(), requests.len());
        assert_eq!(ahead.get("m.csv", "a").unwrap().to_vec(), [1.0, 2.0, 3.0]);
        assert_eq!(ahead.get("m.csv", "d").unwrap().to_vec(), [1.0, 2.0, 3.0]);
        let e = ahead.get("m.csv", "b").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(3), "column 'b': 'x' is not a number")
        );
        // Column b fails on its number before the bad date; column a on the date.
        let e = ahead.get("bad-date.csv", "b").unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = ahead.get("bad-date.csv", "a").unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("2025-02-30"), "{e:?}");
    }
}
