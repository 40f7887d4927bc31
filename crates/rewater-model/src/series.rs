//! Daily values: constants, monthly profiles and CSV series, and their products.

use crate::files::{self, LoadOptions, Refused};
use rewater_standards::Date;
use std::collections::HashMap;
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
    loaded: HashMap<(PathBuf, String), Arc<[f64]>>,
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
        }
    }

    /// The horizon's values of `column` in `csv` (relative to the model file).
    pub fn get(&mut self, csv_path: &str, column: &str) -> Result<Arc<[f64]>, SeriesError> {
        let refused = |r: Refused| SeriesError {
            file: csv_path.to_string(),
            line: None,
            message: r.0,
        };
        let path = match &self.root {
            None => self.base_dir.join(csv_path),
            Some(Ok(root)) => {
                files::confined_path(&self.base_dir, root, csv_path).map_err(refused)?
            }
            Some(Err(r)) => return Err(refused(r.clone())),
        };
        let key = (path.clone(), column.to_string());
        if let Some(v) = self.loaded.get(&key) {
            return Ok(v.clone());
        }
        if self.held_values + self.days as u64 > self.max_values {
            return Err(refused(Refused(format!(
                "the model's series would hold more than {} values (series × days)",
                self.max_values
            ))));
        }
        let values: Arc<[f64]> = self.read(&path, csv_path, column)?.into();
        self.held_values += self.days as u64;
        self.loaded.insert(key, values.clone());
        Ok(values)
    }

    fn read(&self, path: &Path, shown: &str, column: &str) -> Result<Vec<f64>, SeriesError> {
        let err = |line: Option<usize>, message: String| SeriesError {
            file: shown.to_string(),
            line,
            message,
        };
        let bytes = files::read_regular(path, self.max_file_bytes, "series file")
            .map_err(|r| err(None, r.0))?;
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes.as_slice());
        let headers = rdr
            .headers()
            .map_err(|e| err(Some(1), e.to_string()))?
            .clone();
        let date_col = headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case("date"))
            .ok_or_else(|| err(Some(1), "the first row must name a 'date' column".into()))?;
        let col = headers.iter().position(|h| h == column).ok_or_else(|| {
            let names: Vec<&str> = headers.iter().collect();
            err(
                Some(1),
                format!("no column '{column}' (columns: {})", names.join(", ")),
            )
        })?;
        let mut values = vec![f64::NAN; self.days];
        let mut seen = vec![false; self.days];
        for rec in rdr.records() {
            let rec =
                rec.map_err(|e| err(e.position().map(|p| p.line() as usize), e.to_string()))?;
            let line = rec.position().map(|p| p.line() as usize);
            let d: Date = rec
                .get(date_col)
                .unwrap_or("")
                .parse()
                .map_err(|e: rewater_standards::date::DateError| err(line, e.to_string()))?;
            let idx = d.days_since(self.start);
            if idx < 0 || idx as usize >= self.days {
                continue;
            }
            let cell = rec.get(col).unwrap_or("");
            let v: f64 = cell
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| err(line, format!("column '{column}': '{cell}' is not a number")))?;
            if seen[idx as usize] {
                return Err(err(line, format!("date {d} appears twice")));
            }
            seen[idx as usize] = true;
            values[idx as usize] = v;
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            let have = seen.iter().filter(|s| **s).count();
            return Err(err(
                None,
                format!(
                    "series is shorter than the horizon: {have} of {} days present, first missing day {}",
                    self.days,
                    self.start.add_days(missing as i32)
                ),
            ));
        }
        Ok(values)
    }
}
