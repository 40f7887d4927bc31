//! Potential evaporation (蒸发) through a run's horizon: a rate per day (constant or by
//! month), with closed forms for the depth to any time and on a step grid.

use crate::time::DAY_S;

/// Evaporation rates through the horizon (constant or monthly), with a closed form for
/// the depth over any interval.
#[derive(Debug, Clone)]
pub struct Evaporation {
    start_s: i64,
    /// Rate (m/s) on each day of the horizon.
    per_day: Vec<f64>,
    /// Depth (m) before each day.
    cumulative: Vec<f64>,
    pub dry_only: bool,
}

impl Evaporation {
    /// Monthly rates in mm/day (January first) over `[start_s, end_s)`.
    pub fn monthly(
        monthly_mm_per_day: [f64; 12],
        dry_only: bool,
        start_s: i64,
        end_s: i64,
    ) -> Self {
        let day0 = start_s.div_euclid(DAY_S) * DAY_S;
        let days = ((end_s - day0) / DAY_S + 2).max(1) as usize;
        let mut per_day = Vec::with_capacity(days);
        let mut cumulative = Vec::with_capacity(days + 1);
        let mut sum = 0.0;
        for d in 0..days {
            let t = day0 + d as i64 * DAY_S;
            let rate = monthly_mm_per_day[crate::time::month_of(t) - 1] / 1000.0 / DAY_S as f64;
            cumulative.push(sum);
            per_day.push(rate);
            sum += rate * DAY_S as f64;
        }
        cumulative.push(sum);
        Evaporation {
            start_s: day0,
            per_day,
            cumulative,
            dry_only,
        }
    }

    pub(crate) fn depth_to(&self, t: i64) -> f64 {
        let rel = (t - self.start_s).max(0);
        let d = ((rel / DAY_S) as usize).min(self.per_day.len() - 1);
        self.cumulative[d] + self.per_day[d] * (rel - d as i64 * DAY_S) as f64
    }

    /// `depth_to(t0 + k·step_s)` for k = 0, 1, …, n − 1, without a division per time.
    #[cfg(test)]
    pub(crate) fn depth_every(&self, t0: i64, step_s: i64, n: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(n);
        self.depth_each(t0, step_s, n, |_, v| out.push(v));
        out
    }

    /// As `depth_every`, handing each value to `f` instead of collecting them (the
    /// reference [`Evaporation::depth_since`] is checked against).
    #[cfg(test)]
    pub(crate) fn depth_each(&self, t0: i64, step_s: i64, n: usize, mut f: impl FnMut(usize, f64)) {
        let rel = t0 - self.start_s;
        let (mut i, mut rem) = (rel.div_euclid(DAY_S), rel.rem_euclid(DAY_S));
        let last = self.per_day.len() as i64 - 1;
        for k in 0..n {
            if i < 0 {
                // Before the horizon: as at its start.
                f(k, self.cumulative[0]);
            } else {
                let d = i.min(last);
                let offset = (i - d) * DAY_S + rem;
                f(
                    k,
                    self.cumulative[d as usize] + self.per_day[d as usize] * offset as f64,
                );
            }
            rem += step_s;
            if rem >= DAY_S {
                i += rem / DAY_S;
                rem %= DAY_S;
            }
        }
    }

    /// The depth since `t0` at the steps of a grid from `t0` ([`EvapGrid`]).
    pub(crate) fn grid(&self, t0: i64, step_s: i64) -> EvapGrid {
        let mut grid = EvapGrid {
            per_day: self.per_day.clone(),
            cumulative: self.cumulative.clone(),
            rel: t0 - self.start_s,
            step_s,
            e_start: 0.0,
        };
        grid.e_start = grid.depth_at_rel(grid.rel);
        grid
    }

    /// `(depth_to(t0 + k·step_s) − depth_to(t0)).max(0)` for k = 0, 1, …, n − 1.
    #[cfg(test)]
    pub(crate) fn depth_since(&self, t0: i64, step_s: i64, n: usize) -> Vec<f64> {
        let mut out = EvapWindow::default();
        self.grid(t0, step_s).fill(0, n.saturating_sub(1), &mut out);
        out.depth_m.truncate(n);
        out.depth_m
    }

    /// Potential evaporation depth (m) over `[t0, t1)`.
    pub fn depth_between(&self, t0: i64, t1: i64) -> f64 {
        (self.depth_to(t1) - self.depth_to(t0)).max(0.0)
    }
}

/// Potential evaporation depth since the start of a step grid, at any step: the values
/// a per-step array held (`(depth_to(t0 + k·step_s) − depth_to(t0)).max(0)`, to the bit),
/// without one — a decade of minutes is 42 MB to fill and fault in before the runoff can
/// start. Each runoff worker fills a [`EvapWindow`] for the stretch it computes.
#[derive(Debug, Clone, PartialEq)]
pub struct EvapGrid {
    per_day: Vec<f64>,
    cumulative: Vec<f64>,
    /// The grid's start, s after the first day's.
    rel: i64,
    step_s: i64,
    /// The depth to the grid's start.
    e_start: f64,
}

/// [`EvapGrid`]'s depths at the steps `first..=first + depth_m.len() − 1`.
#[derive(Debug, Clone, Default)]
pub struct EvapWindow {
    pub(crate) first: usize,
    pub(crate) depth_m: Vec<f64>,
}

impl EvapGrid {
    /// `depth_to` at `rel` s after the first day's start.
    fn depth_at_rel(&self, rel: i64) -> f64 {
        self.at(rel.div_euclid(DAY_S), rel.rem_euclid(DAY_S))
    }

    /// The depth at `rem` s into day `i` of the horizon (as at its start before it, at
    /// the last day's rate after it).
    fn at(&self, i: i64, rem: i64) -> f64 {
        if i < 0 {
            self.cumulative[0]
        } else {
            let d = i.min(self.per_day.len() as i64 - 1);
            let offset = (i - d) * DAY_S + rem;
            self.cumulative[d as usize] + self.per_day[d as usize] * offset as f64
        }
    }

    /// The depth since the grid's start at step `k`.
    pub(crate) fn since(&self, k: usize) -> f64 {
        (self.depth_at_rel(self.rel + k as i64 * self.step_s) - self.e_start).max(0.0)
    }

    /// Fill `out` with the depths at steps `first..=last`, a day's steps at a time (the
    /// same values as [`EvapGrid::since`] at each), reusing its memory.
    pub(crate) fn fill(&self, first: usize, last: usize, out: &mut EvapWindow) {
        let n = last + 1 - first.min(last + 1);
        out.first = first;
        out.depth_m.clear();
        out.depth_m.reserve(n);
        let t = self.rel + first as i64 * self.step_s;
        let (mut i, mut rem) = (t.div_euclid(DAY_S), t.rem_euclid(DAY_S));
        let last_day = self.per_day.len() as i64 - 1;
        let step_s = self.step_s;
        while out.depth_m.len() < n {
            let k = out.depth_m.len();
            // The steps left in this day (at least one: rem < DAY_S), or one step when
            // the time is outside the horizon's days.
            let m = if (0..=last_day).contains(&i) {
                (((DAY_S - rem + step_s - 1) / step_s) as usize).min(n - k)
            } else {
                1
            };
            if m == 1 {
                out.depth_m.push((self.at(i, rem) - self.e_start).max(0.0));
            } else {
                let (c, p) = (self.cumulative[i as usize], self.per_day[i as usize]);
                out.depth_m.extend((0..m).map(|j| {
                    let offset = rem + j as i64 * step_s;
                    (c + p * offset as f64 - self.e_start).max(0.0)
                }));
            }
            rem += m as i64 * step_s;
            if rem >= DAY_S {
                i += rem / DAY_S;
                rem %= DAY_S;
            }
        }
    }
}

impl EvapWindow {
    /// The depth at step `k`, from the window when it holds it.
    #[inline]
    pub(crate) fn at(&self, grid: &EvapGrid, k: usize) -> f64 {
        match self.depth_m.get(k.wrapping_sub(self.first)) {
            Some(&d) => d,
            None => grid.since(k),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaporation_since_the_start_is_the_stepped_depth_to_the_bit() {
        let evap = Evaporation::monthly(
            [1., 2., 3., 4., 5., 6., 7., 6., 5., 4., 3., 2.],
            false,
            0,
            40 * DAY_S,
        );
        // Steps that divide the day, that do not, longer than a day, and times before
        // and after the horizon's days.
        for (t0, step, n) in [
            (0, 60, 60_000),
            (-7_200, 300, 20_000),
            (3_000, 7_200, 600),
            (5 * DAY_S + 17, 3_601, 2_000),
            (DAY_S / 3, 2 * DAY_S + 7, 40),
        ] {
            let mut want = Vec::new();
            let mut e0 = 0.0;
            evap.depth_each(t0, step, n, |k, e| {
                if k == 0 {
                    e0 = e;
                }
                want.push((e - e0).max(0.0));
            });
            let got = evap.depth_since(t0, step, n);
            assert_eq!(got.len(), n);
            // On demand and in windows that start anywhere, the same values.
            let grid = evap.grid(t0, step);
            let mut w = EvapWindow::default();
            for first in [0, 1, n / 3, n - 1] {
                grid.fill(first, n - 1, &mut w);
                for (k, e) in want.iter().enumerate().skip(first) {
                    assert_eq!(
                        w.at(&grid, k).to_bits(),
                        e.to_bits(),
                        "window from {first}, k {k}"
                    );
                }
            }
            for (k, e) in want.iter().enumerate() {
                assert_eq!(grid.since(k).to_bits(), e.to_bits(), "on demand, k {k}");
            }
            for k in 0..n {
                assert_eq!(
                    got[k].to_bits(),
                    want[k].to_bits(),
                    "t0 {t0} step {step} k {k}"
                );
            }
        }
    }
}
