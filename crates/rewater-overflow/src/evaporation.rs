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

    /// `(depth_to(t0 + k·step_s) − depth_to(t0)).max(0)` for k = 0, 1, …, n − 1: the
    /// values of [`Evaporation::depth_each`], a day's steps at a time (a year of minutes
    /// is half a million of them, filled before the runoff can start).
    pub(crate) fn depth_since(&self, t0: i64, step_s: i64, n: usize) -> Vec<f64> {
        let mut out = vec![0.0f64; n];
        let rel = t0 - self.start_s;
        let (mut i, mut rem) = (rel.div_euclid(DAY_S), rel.rem_euclid(DAY_S));
        let last = self.per_day.len() as i64 - 1;
        let at = |i: i64, rem: i64| {
            if i < 0 {
                self.cumulative[0]
            } else {
                let d = i.min(last);
                let offset = (i - d) * DAY_S + rem;
                self.cumulative[d as usize] + self.per_day[d as usize] * offset as f64
            }
        };
        let e_start = at(i, rem);
        let mut k = 0;
        while k < n {
            // The steps left in this day (at least one: rem < DAY_S), or one step when
            // the time is outside the horizon's days.
            let m = if (0..=last).contains(&i) {
                (((DAY_S - rem + step_s - 1) / step_s) as usize).min(n - k)
            } else {
                1
            };
            if m == 1 {
                out[k] = (at(i, rem) - e_start).max(0.0);
            } else {
                let (c, p) = (self.cumulative[i as usize], self.per_day[i as usize]);
                for (j, slot) in out[k..k + m].iter_mut().enumerate() {
                    let offset = rem + j as i64 * step_s;
                    *slot = (c + p * offset as f64 - e_start).max(0.0);
                }
            }
            k += m;
            rem += m as i64 * step_s;
            if rem >= DAY_S {
                i += rem / DAY_S;
                rem %= DAY_S;
            }
        }
        out
    }

    /// Potential evaporation depth (m) over `[t0, t1)`.
    pub fn depth_between(&self, t0: i64, t1: i64) -> f64 {
        (self.depth_to(t1) - self.depth_to(t0)).max(0.0)
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
