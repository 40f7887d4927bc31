//! Rainfall records (降雨序列): a regular series of depths per interval, read from CSV,
//! split into events (场次降雨) by an inter-event dry time, or generated for tests and
//! benchmarks.

use crate::time::{format_datetime, parse_datetime};
use crate::OverflowError;
use std::path::Path;

/// A rain gage's record: depth (m) in each interval of `interval_s` from `start_s`.
#[derive(Debug, Clone)]
pub struct RainSeries {
    pub start_s: i64,
    pub interval_s: i64,
    pub depth_m: Vec<f64>,
    /// cumulative[i] = total depth before interval i (m); one longer than `depth_m`.
    cumulative: Vec<f64>,
}

impl RainSeries {
    /// A series from depths in millimetres per interval.
    pub fn from_mm(start_s: i64, interval_s: i64, depth_mm: &[f64]) -> RainSeries {
        RainSeries::new(
            start_s,
            interval_s,
            depth_mm.iter().map(|v| v / 1000.0).collect(),
        )
    }

    pub fn new(start_s: i64, interval_s: i64, depth_m: Vec<f64>) -> RainSeries {
        let mut cumulative = Vec::with_capacity(depth_m.len() + 1);
        let mut sum = 0.0;
        cumulative.push(0.0);
        for v in &depth_m {
            sum += v;
            cumulative.push(sum);
        }
        RainSeries {
            start_s,
            interval_s: interval_s.max(1),
            depth_m,
            cumulative,
        }
    }

    pub fn end_s(&self) -> i64 {
        self.start_s + self.interval_s * self.depth_m.len() as i64
    }

    /// Cumulative depth (m) from the start of the record to time `t`, rain spread
    /// evenly over each interval; zero before and constant after the record.
    pub fn cumulative_at(&self, t: i64) -> f64 {
        if t <= self.start_s || self.depth_m.is_empty() {
            return 0.0;
        }
        let rel = t - self.start_s;
        let i = (rel / self.interval_s) as usize;
        if i >= self.depth_m.len() {
            return self.cumulative[self.depth_m.len()];
        }
        let frac = (rel % self.interval_s) as f64 / self.interval_s as f64;
        self.cumulative[i] + self.depth_m[i] * frac
    }

    /// `cumulative_at(t0 + k·step_s)` for k = 0, 1, …, n − 1 — the same values, without a
    /// division per time (the interval index and remainder advance by the step).
    pub fn cumulative_every(&self, t0: i64, step_s: i64, n: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(n);
        self.cumulative_each(t0, step_s, n, |_, v| out.push(v));
        out
    }

    /// As [`Self::cumulative_every`], handing each value to `f` (with its k) instead of
    /// collecting them: long records at a 60 s step need no array of every value.
    pub fn cumulative_each(&self, t0: i64, step_s: i64, n: usize, mut f: impl FnMut(usize, f64)) {
        let unit = self.interval_s.max(1);
        let rel = t0 - self.start_s;
        let (mut i, mut rem) = (rel.div_euclid(unit), rel.rem_euclid(unit));
        for k in 0..n {
            f(k, self.cumulative_in(i, rem));
            rem += step_s;
            if rem >= unit {
                i += rem / unit;
                rem %= unit;
            }
        }
    }

    /// The cumulative depth `rem` seconds into interval `i` (as `cumulative_each` takes it).
    fn cumulative_in(&self, i: i64, rem: i64) -> f64 {
        let len = self.depth_m.len() as i64;
        if i < 0 || (i == 0 && rem == 0) || len == 0 {
            0.0
        } else if i >= len {
            self.cumulative[len as usize]
        } else {
            let d = self.depth_m[i as usize];
            // A dry interval (most of them): d·frac is ±0 whatever frac is, so the
            // division is not needed for the same value.
            let frac = if d == 0.0 && self.interval_s > 0 {
                0.0
            } else {
                rem as f64 / self.interval_s as f64
            };
            self.cumulative[i as usize] + d * frac
        }
    }

    /// The steps `k < n` of the grid `t0 + k·step_s` (`step_s` > 0) with rain, and the
    /// depth in each: the `k` where `(c(k+1) − c(k)).max(0) > 0`, `c` being the values
    /// [`RainSeries::cumulative_each`] gives on the grid. Only the steps that overlap an
    /// interval with rain are visited: elsewhere `c` does not change (a dry interval adds
    /// exactly 0).
    pub fn wet_steps_on(&self, t0: i64, step_s: i64, n: usize) -> (Vec<u32>, Vec<f64>) {
        let unit = self.interval_s.max(1);
        let step = step_s.max(1);
        // `cumulative_each`'s interval and remainder at grid time k, in closed form.
        let at = |k: i64| {
            let rel = t0 - self.start_s + k * step;
            self.cumulative_in(rel.div_euclid(unit), rel.rem_euclid(unit))
        };
        let (mut steps, mut depths) = (Vec::new(), Vec::new());
        let mut next_k = 0i64;
        for (j, &d) in self.depth_m.iter().enumerate() {
            if d == 0.0 {
                continue;
            }
            let start = self.start_s + j as i64 * unit;
            let first = (start - t0).div_euclid(step).max(next_k);
            let last = (start + unit - 1 - t0).div_euclid(step).min(n as i64 - 1);
            for k in first..=last {
                let depth = (at(k + 1) - at(k)).max(0.0);
                if depth > 0.0 {
                    steps.push(k as u32);
                    depths.push(depth);
                }
            }
            next_k = next_k.max(last + 1);
        }
        (steps, depths)
    }

    /// Depth (m) between two times.
    pub fn depth_between(&self, t0: i64, t1: i64) -> f64 {
        (self.cumulative_at(t1) - self.cumulative_at(t0)).max(0.0)
    }

    pub fn total_mm(&self) -> f64 {
        self.cumulative[self.depth_m.len()] * 1000.0
    }

    /// Read `timestamp, mm` rows. Missing intervals are dry. With `interval_s` None the
    /// interval is the smallest gap between rows. A header row is allowed.
    pub fn from_csv(path: &Path, interval_s: Option<i64>) -> Result<RainSeries, OverflowError> {
        let text = crate::limits::read_text(path)?;
        Self::parse_csv(&text, &path.display().to_string(), interval_s)
    }

    pub fn parse_csv(
        text: &str,
        file: &str,
        interval_s: Option<i64>,
    ) -> Result<RainSeries, OverflowError> {
        let err = |line: usize, message: String| OverflowError::Input {
            file: file.to_string(),
            line,
            message,
        };
        let mut rows: Vec<(i64, f64, usize)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let raw = raw.trim();
            if raw.is_empty() || raw.starts_with('#') {
                continue;
            }
            let mut cols = raw.split([',', ';', '\t']);
            let (Some(ts), Some(val)) = (cols.next(), cols.next()) else {
                return Err(err(
                    line,
                    format!("expected 'timestamp, mm', found '{raw}'"),
                ));
            };
            let Some(t) = parse_datetime(ts) else {
                if rows.is_empty() && val.trim().parse::<f64>().is_err() {
                    continue; // header
                }
                return Err(err(line, format!("'{}' is not a date and time", ts.trim())));
            };
            let v: f64 = val
                .trim()
                .parse()
                .map_err(|_| err(line, format!("'{}' is not a rain depth in mm", val.trim())))?;
            if !v.is_finite() || v < 0.0 {
                return Err(err(line, format!("rain depth {v} mm must be zero or more")));
            }
            if let Some(&(prev, _, _)) = rows.last() {
                if t <= prev {
                    return Err(err(
                        line,
                        format!(
                            "time {} is not after the previous row ({})",
                            format_datetime(t),
                            format_datetime(prev)
                        ),
                    ));
                }
            }
            rows.push((t, v, line));
        }
        if rows.is_empty() {
            return Err(err(0, "no rain rows".into()));
        }
        let interval = match interval_s {
            Some(i) => i,
            None => rows
                .windows(2)
                .map(|w| w[1].0 - w[0].0)
                .min()
                .unwrap_or(3600),
        };
        if interval <= 0 {
            return Err(err(0, "rain interval must be positive".into()));
        }
        let start = rows[0].0;
        let last = rows[rows.len() - 1].0;
        let n = crate::limits::rain_intervals(start, last, interval)
            .map_err(|m| err(rows[rows.len() - 1].2, m))?;
        let mut depth = vec![0.0; n];
        for (t, v, line) in rows {
            if (t - start) % interval != 0 {
                return Err(err(
                    line,
                    format!(
                        "time {} is not on the {interval} s rain interval that starts at {}",
                        format_datetime(t),
                        format_datetime(start)
                    ),
                ));
            }
            depth[((t - start) / interval) as usize] = v / 1000.0;
        }
        Ok(RainSeries::new(start, interval, depth))
    }

    /// Write the wet intervals as `timestamp,mm` (dry ones are implied).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("timestamp,mm\n");
        for (i, v) in self.depth_m.iter().enumerate() {
            if *v > 0.0 {
                let t = self.start_s + i as i64 * self.interval_s;
                out.push_str(&format!("{},{:.3}\n", format_datetime(t), v * 1000.0));
            }
        }
        out
    }

    /// Rain events separated by at least `inter_event_s` without rain.
    pub fn events(&self, inter_event_s: i64) -> Vec<RainEvent> {
        let mut events: Vec<RainEvent> = Vec::new();
        for (i, v) in self.depth_m.iter().enumerate() {
            if *v <= 0.0 {
                continue;
            }
            let t = self.start_s + i as i64 * self.interval_s;
            let end = t + self.interval_s;
            let intensity = v * 1000.0 * 3600.0 / self.interval_s as f64;
            match events.last_mut() {
                Some(e) if t - e.end_s < inter_event_s => {
                    e.end_s = end;
                    e.depth_mm += v * 1000.0;
                    e.peak_mm_per_h = e.peak_mm_per_h.max(intensity);
                }
                _ => events.push(RainEvent {
                    start_s: t,
                    end_s: end,
                    depth_mm: v * 1000.0,
                    peak_mm_per_h: intensity,
                }),
            }
        }
        events
    }

    /// How many of [`RainSeries::events`] overlap `[start_s, end_s)`, without building them
    /// (to bound the statistics before a run).
    pub fn count_events(&self, inter_event_s: i64, start_s: i64, end_s: i64) -> usize {
        let mut count = 0;
        let mut current: Option<(i64, i64)> = None;
        let overlaps = |(a, b): (i64, i64)| b > start_s && a < end_s;
        for (i, v) in self.depth_m.iter().enumerate() {
            if *v <= 0.0 {
                continue;
            }
            let t = self.start_s + i as i64 * self.interval_s;
            let end = t + self.interval_s;
            current = match current {
                Some((a, b)) if t - b < inter_event_s => Some((a, end)),
                Some(e) => {
                    count += usize::from(overlaps(e));
                    Some((t, end))
                }
                None => Some((t, end)),
            };
        }
        count + current.map_or(0, |e| usize::from(overlaps(e)))
    }
}

/// One rain event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RainEvent {
    pub start_s: i64,
    /// End of the last wet interval.
    pub end_s: i64,
    pub depth_mm: f64,
    pub peak_mm_per_h: f64,
}

/// Small deterministic generator (SplitMix64) so that synthetic records are reproducible
/// on every machine.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Random {
        Random(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }
}

/// A synthetic hourly rain record with a North-China monsoon climate: most rain in
/// June–August, roughly 550 mm a year, storms of a few hours with a peak. It is a
/// stand-in for a gauge record in tests and benchmarks, not a climate model.
pub fn synthetic_hourly(start_year: i32, years: u32, seed: u64) -> RainSeries {
    // Chance that a day has a storm, and mean storm depth (mm), by month.
    const P_WET: [f64; 12] = [
        0.04, 0.05, 0.08, 0.12, 0.16, 0.25, 0.40, 0.35, 0.22, 0.12, 0.07, 0.04,
    ];
    const MEAN_MM: [f64; 12] = [
        2.5, 3.0, 4.5, 6.0, 8.0, 12.0, 17.0, 16.0, 11.0, 7.0, 4.0, 2.5,
    ];
    let start = crate::time::Date::from_ymd(start_year, 1, 1).unwrap_or(crate::time::Date::EPOCH);
    let end = crate::time::Date::from_ymd(start_year + years as i32, 1, 1).unwrap_or(start);
    let days = end.days_since(start).max(0) as usize;
    let mut rng = Random::new(seed);
    let mut depth = vec![0.0; days * 24];
    let mut wet_yesterday = false;
    for day in 0..days {
        let month = start.add_days(day as i32).month() as usize - 1;
        // Wet days cluster: a wet day makes the next one more likely.
        let p = if wet_yesterday {
            (P_WET[month] * 1.8).min(0.9)
        } else {
            P_WET[month]
        };
        wet_yesterday = rng.uniform() < p;
        if !wet_yesterday {
            continue;
        }
        let total = rng.exponential(MEAN_MM[month]) + 0.2;
        let hours = (1.0 + rng.exponential(4.0)).min(30.0) as usize;
        let first = (rng.uniform() * 24.0) as usize;
        let peak = rng.uniform() * hours as f64;
        // Triangular profile around a random peak hour.
        let weights: Vec<f64> = (0..hours)
            .map(|h| 1.0 / (1.0 + (h as f64 + 0.5 - peak).abs()))
            .collect();
        let sum: f64 = weights.iter().sum();
        for (h, w) in weights.iter().enumerate() {
            let i = day * 24 + first + h;
            if i < depth.len() {
                // Gauges record tenths of a millimetre.
                depth[i] += (total * w / sum * 10.0).round() / 10.0;
            }
        }
    }
    RainSeries::from_mm(start.wall_seconds(), 3600, &depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wet_steps_are_every_steps_rain() {
        let rain = synthetic_hourly(2011, 1, 11);
        let span = rain.end_s() - rain.start_s;
        // Aligned and unaligned steps, shorter and longer than the rain's hour, grids
        // from before the record to past its end.
        for (offset, step_s) in [(-600, 60), (0, 60), (17, 420), (-3_000, 45), (900, 7_200)] {
            let t0 = rain.start_s + offset;
            let n = ((span + 5_000) / step_s) as usize;
            let (steps, depths) = rain.wet_steps_on(t0, step_s, n);
            assert!(steps.len() > 100, "{step_s} s");
            let mut got = vec![0.0f64; n];
            for (&k, &d) in steps.iter().zip(&depths) {
                got[k as usize] = d;
            }
            // Every step's depth from the stepwise cumulative values.
            let mut before = 0.0;
            rain.cumulative_each(t0, step_s, n + 1, |k, cum| {
                if k > 0 {
                    let d = (cum - before).max(0.0f64);
                    let want = if d > 0.0 { d } else { 0.0 };
                    assert_eq!(
                        got[k - 1].to_bits(),
                        want.to_bits(),
                        "step {k} of {step_s} s"
                    );
                    let t = t0 + (k as i64 - 1) * step_s;
                    assert_eq!(want.to_bits(), rain.depth_between(t, t + step_s).to_bits());
                }
                before = cum;
            });
        }
    }

    #[test]
    fn csv_with_gaps_and_header() {
        let text =
            "timestamp,mm\n2021-07-01 00:00,1.0\n2021-07-01 01:00,2.0\n2021-07-01 04:00,0.5\n";
        let r = RainSeries::parse_csv(text, "rain.csv", None).unwrap();
        assert_eq!(r.interval_s, 3600);
        assert_eq!(r.depth_m.len(), 5);
        assert!((r.total_mm() - 3.5).abs() < 1e-9);
        // Half way through the second hour: 1 + 1 mm.
        let t = r.start_s + 5400;
        assert!((r.cumulative_at(t) - 0.002).abs() < 1e-12);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let bad = "2021-07-01 00:00,1.0\n2021-07-01 01:00,abc\n";
        let e = RainSeries::parse_csv(bad, "r.csv", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("r.csv") && e.contains("line 2") && e.contains("abc"),
            "{e}"
        );
        let back = "2021-07-01 02:00,1.0\n2021-07-01 01:00,1\n";
        let e = RainSeries::parse_csv(back, "r.csv", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("not after"), "{e}");
        let off = "2021-07-01 00:00,1.0\n2021-07-01 01:30,1\n";
        let e = RainSeries::parse_csv(off, "r.csv", Some(3600))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("interval"), "{e}");
        let neg = "2021-07-01 00:00,-1.0\n";
        assert!(RainSeries::parse_csv(neg, "r.csv", None).is_err());
    }

    #[test]
    fn events_split_on_dry_time() {
        // Wet at hours 0,1 then 5 (gap 3 h < 6 h: same event), then 20 (new event).
        let mut mm = vec![0.0; 24];
        mm[0] = 2.0;
        mm[1] = 4.0;
        mm[5] = 1.0;
        mm[20] = 3.0;
        let r = RainSeries::from_mm(0, 3600, &mm);
        let ev = r.events(6 * 3600);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].start_s, 0);
        assert_eq!(ev[0].end_s, 6 * 3600);
        assert!((ev[0].depth_mm - 7.0).abs() < 1e-9);
        assert!((ev[0].peak_mm_per_h - 4.0).abs() < 1e-9);
        assert!((ev[1].depth_mm - 3.0).abs() < 1e-9);
    }

    #[test]
    fn synthetic_record_is_reproducible_and_plausible() {
        let a = synthetic_hourly(2010, 10, 7);
        let b = synthetic_hourly(2010, 10, 7);
        assert_eq!(a.depth_m, b.depth_m);
        let annual = a.total_mm() / 10.0;
        assert!((350.0..900.0).contains(&annual), "annual {annual} mm");
    }
}
