//! Infiltration on a subcatchment's pervious sub-area, as EPA SWMM 5 computes it step by
//! step: Horton (with dry-weather regeneration in closed form) and the continuous SCS curve
//! number; Green–Ampt is in [`crate::green_ampt`]. Split from the runoff step
//! ([`crate::runoff`]) because the infiltration rate is all the overland step needs from it.

use crate::runoff::Infiltration;
use crate::time::DAY_S;

/// Horton state: equivalent time on the decay curve, cumulative infiltration.
#[derive(Debug, Clone)]
pub(crate) struct HortonState {
    f0: f64,
    fmin: f64,
    kd: f64,
    /// (f0 − fmin)/kd, the capacity the decay takes away in all (the same division the
    /// step would make each time).
    df_kd: f64,
    /// 16/kd: past this time on the curve the capacity is fmin (to rounding).
    tlim: f64,
    kr: f64,
    fmax: f64,
    tp: f64,
    fe: f64,
    /// Dry time not yet applied to `tp` (regeneration composes, so it can wait).
    pending_s: f64,
    /// Cumulative capacity and e^(−kd·tp) at `tp` when known from the last step, and
    /// e^(−kd·dt) for the step length last used: the normal step then needs no exponential.
    at_tp: Option<(f64, f64)>,
    step_decay: (f64, f64),
}

/// Largest |u| for [`exp_neg_small`]: the series' first omitted term is below 3·10⁻¹⁸.
const EXP_SERIES_MAX: f64 = 0.125;

/// e^(−u) for |u| ≤ [`EXP_SERIES_MAX`], by its Taylor series to u¹⁰ in Estrin's form: pairs
/// of terms are independent, so the sum takes four rounds of multiplications instead of ten
/// dependent ones (the series ran in every iteration of the water-limited Newton step, and its
/// chain of dependent operations was about half of Horton's time on the 100-subcatchment
/// decade of issue 14).
fn exp_neg_small(u: f64) -> f64 {
    // (−1)^k / k!
    const C: [f64; 11] = [
        1.0,
        -1.0,
        1.0 / 2.0,
        -1.0 / 6.0,
        1.0 / 24.0,
        -1.0 / 120.0,
        1.0 / 720.0,
        -1.0 / 5_040.0,
        1.0 / 40_320.0,
        -1.0 / 362_880.0,
        1.0 / 3_628_800.0,
    ];
    let u2 = u * u;
    let u4 = u2 * u2;
    let u8 = u4 * u4;
    let p01 = C[0] + C[1] * u;
    let p23 = C[2] + C[3] * u;
    let p45 = C[4] + C[5] * u;
    let p67 = C[6] + C[7] * u;
    let p89 = C[8] + C[9] * u;
    let p03 = p01 + p23 * u2;
    let p47 = p45 + p67 * u2;
    let p810 = p89 + C[10] * u2;
    p03 + p47 * u4 + p810 * u8
}

/// Largest |x| for [`exp_tiny`]: its first omitted term, x⁴/24, is below 5·10⁻¹⁹.
const TINY_SERIES_MAX: f64 = 1e-4;

/// e^x for |x| ≤ [`TINY_SERIES_MAX`] (the last Newton correction of a step on the decay
/// curve), by its series to x³.
fn exp_tiny(x: f64) -> f64 {
    1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0)))
}

impl HortonState {
    /// SWMM's horton_getInfil: mean capacity over the step, limited by water available.
    fn rate(&mut self, dt: f64, irate: f64, depth: f64) -> f64 {
        let df = self.f0 - self.fmin;
        let kd = self.kd;
        let fa = irate + depth / dt;
        if df <= 0.0 || kd <= 0.0 {
            return self.f0.min(fa).max(0.0);
        }
        let mut fp = 0.0;
        if fa > 1e-15 {
            self.apply_pending();
            let tp = self.tp;
            let t1 = tp + dt;
            let tlim = self.tlim;
            if self.step_decay.0 != dt {
                self.step_decay = (dt, (-kd * dt).exp());
            }
            let (fpc, f1c, e0, e1) = if tp >= tlim {
                let fpc = self.fmin * tp + self.df_kd;
                (fpc, fpc + self.fmin * dt, 0.0, 0.0)
            } else {
                let (fpc, e0) = self.at_tp.unwrap_or_else(|| {
                    let e0 = (-kd * tp).exp();
                    (self.fmin * tp + self.df_kd * (1.0 - e0), e0)
                });
                let e1 = e0 * self.step_decay.1;
                (fpc, self.fmin * t1 + self.df_kd * (1.0 - e1), e0, e1)
            };
            fp = ((f1c - fpc) / dt).max(self.fmin);
            if fp > fa {
                fp = fa;
            }
            if t1 > tlim || fp < fa {
                self.tp = t1;
                self.at_tp = (t1 < tlim).then_some((f1c, e1));
            } else {
                self.at_tp = None;
                // Limited by water: find tp whose cumulative matches what infiltrated.
                let target = fpc + fp * dt;
                // Start from the tangent at tp: the capacity curve is concave, so Newton
                // then climbs to the root from below in a step or two.
                let slope = self.fmin + df * e0;
                let mut t = tp + (fp * dt / slope.max(1e-30)).min(dt);
                // e^(−kd·t) from the known e^(−kd·tp): the iterates stay within about a
                // step of tp, where a short series is exact to rounding and far cheaper.
                let decay_at = |t: f64| {
                    let u = kd * (t - tp);
                    if u.abs() <= EXP_SERIES_MAX {
                        e0 * exp_neg_small(u)
                    } else {
                        (-(kd * t).min(60.0)).exp()
                    }
                };
                // The decay at the last iterate and the correction that left it.
                let mut last = None;
                for _ in 0..20 {
                    let ex = decay_at(t);
                    let ff = self.fmin * t + self.df_kd * (1.0 - ex) - target;
                    let ff1 = self.fmin + df * ex;
                    let r = ff / ff1;
                    t -= r;
                    if r.abs() <= 0.001 * dt {
                        last = Some((ex, r));
                        break;
                    }
                }
                self.tp = t.max(0.0);
                if t >= 0.0 && t < tlim {
                    // The next step starts here: hand it the capacity and decay at tp.
                    // e^(−kd·t) = e^(−kd·(t + r))·e^(kd·r), with kd·r tiny after convergence.
                    let e = match last {
                        Some((ex, r)) if (kd * r).abs() <= TINY_SERIES_MAX => ex * exp_tiny(kd * r),
                        _ => decay_at(t),
                    };
                    self.at_tp = Some((self.fmin * t + self.df_kd * (1.0 - e), e));
                }
            }
            if self.fmax > 0.0 {
                if self.fe + fp * dt > self.fmax {
                    fp = ((self.fmax - self.fe) / dt).max(0.0);
                }
                self.fe += fp * dt;
            }
        } else {
            self.pending_s += dt;
        }
        fp
    }

    fn apply_pending(&mut self) {
        if self.pending_s > 0.0 {
            let t = std::mem::take(&mut self.pending_s);
            self.regenerate(t);
        }
    }

    /// Dry-weather recovery over `t` seconds. Closed form: SWMM's per-step update scales
    /// 1 − e^(−kd·tp) by e^(−kr·dt), so many steps compose into one.
    fn regenerate(&mut self, t: f64) {
        if self.kr <= 0.0 || self.kd <= 0.0 {
            return;
        }
        self.at_tp = None;
        let w = (1.0 - (-self.kd * self.tp).exp()) * (-self.kr * t).exp();
        self.tp = -(1.0 - w).ln() / self.kd;
        if self.fmax > 0.0 {
            let df = self.f0 - self.fmin;
            self.fe = self.fmin * self.tp + df / self.kd * (1.0 - (-self.kd * self.tp).exp());
        }
    }
}

/// SWMM's continuous curve-number state.
#[derive(Debug, Clone)]
pub(crate) struct CurveNumberState {
    smax: f64,
    regen: f64,
    tmax: f64,
    s: f64,
    p: f64,
    f: f64,
    t: f64,
    se: f64,
    rate: f64,
}

impl CurveNumberState {
    fn rate(&mut self, dt: f64, irate: f64, depth: f64) -> f64 {
        let fa = irate + depth / dt;
        if irate > 1e-15 {
            if self.t >= self.tmax {
                self.p = 0.0;
                self.f = 0.0;
                self.rate = 0.0;
                self.se = self.s;
            }
            self.t = 0.0;
            self.p += irate * dt;
            let f1 = self.p * (1.0 - self.p / (self.p + self.se));
            self.rate = (f1 - self.f) / dt;
            if self.rate < 0.0 || self.s <= 0.0 {
                self.rate = 0.0;
            }
        } else if depth > 1e-9 && self.s > 0.0 {
            if self.rate * dt > self.s {
                self.rate = self.s / dt;
            }
        } else {
            self.t += dt;
            self.rate = 0.0;
        }
        self.rate = self.rate.min(fa).max(0.0);
        if self.rate > 0.0 {
            self.f += self.rate * dt;
            self.s = (self.s - self.rate * dt).max(0.0);
        } else {
            self.s = (self.s + self.regen * self.smax * dt).min(self.smax);
        }
        self.rate
    }

    fn regenerate(&mut self, t: f64) {
        self.t += t;
        self.rate = 0.0;
        self.s = (self.s + self.regen * self.smax * t).min(self.smax);
    }
}

#[derive(Debug, Clone)]
pub(crate) enum InfilState {
    Horton(HortonState),
    CurveNumber(CurveNumberState),
    GreenAmpt(crate::green_ampt::GreenAmptState),
    None,
}

impl InfilState {
    pub(crate) fn new(spec: &Infiltration) -> InfilState {
        match *spec {
            Infiltration::Horton {
                f0_m_per_s,
                fmin_m_per_s,
                decay_per_s,
                dry_days,
                max_m,
            } => InfilState::Horton(HortonState {
                f0: f0_m_per_s,
                fmin: fmin_m_per_s,
                kd: decay_per_s,
                df_kd: (f0_m_per_s - fmin_m_per_s) / decay_per_s,
                tlim: 16.0 / decay_per_s,
                // SWMM: 98 % of capacity regained after `dry_days`.
                kr: if dry_days > 0.0 {
                    -(1.0f64 - 0.98).ln() / (dry_days * DAY_S as f64)
                } else {
                    0.0
                },
                fmax: max_m,
                tp: 0.0,
                fe: 0.0,
                pending_s: 0.0,
                at_tp: None,
                step_decay: (0.0, 1.0),
            }),
            Infiltration::CurveNumber { cn, dry_days } => {
                let cn = cn.clamp(10.0, 99.0);
                let smax = (1000.0 / cn - 10.0) * 0.0254;
                let dry = dry_days.max(0.01);
                InfilState::CurveNumber(CurveNumberState {
                    smax,
                    regen: 1.0 / (dry * DAY_S as f64),
                    tmax: 4.5 / dry.sqrt() * 3600.0,
                    s: smax,
                    p: 0.0,
                    f: 0.0,
                    t: 0.0,
                    se: smax,
                    rate: 0.0,
                })
            }
            Infiltration::GreenAmpt(p) => {
                InfilState::GreenAmpt(crate::green_ampt::GreenAmptState::new(p))
            }
            Infiltration::None => InfilState::None,
        }
    }

    pub(crate) fn rate(&mut self, dt: f64, irate: f64, depth: f64) -> f64 {
        match self {
            InfilState::Horton(h) => h.rate(dt, irate, depth),
            InfilState::CurveNumber(c) => c.rate(dt, irate, depth),
            InfilState::GreenAmpt(g) => g.rate(dt, irate, depth),
            InfilState::None => 0.0,
        }
    }

    pub(crate) fn regenerate(&mut self, t: f64) {
        match self {
            InfilState::Horton(h) => h.pending_s += t,
            InfilState::CurveNumber(c) => c.regenerate(t),
            InfilState::GreenAmpt(g) => g.regenerate(t),
            InfilState::None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_exponential_series_matches_the_library() {
        for k in -100..=100 {
            let x = TINY_SERIES_MAX * k as f64 / 100.0;
            let (a, b) = (exp_tiny(x), x.exp());
            assert!((a - b).abs() <= 2.0 * f64::EPSILON * b, "{x}: {a} {b}");
        }
    }

    #[test]
    fn short_exponential_series_matches_the_library() {
        for k in -100..=100 {
            let u = EXP_SERIES_MAX * k as f64 / 100.0;
            let (a, b) = (exp_neg_small(u), (-u).exp());
            assert!((a - b).abs() <= 4.0 * f64::EPSILON * b, "{u}: {a} {b}");
        }
    }

    #[test]
    fn horton_capacity_matches_the_integral_and_regenerates() {
        let f0 = 76.2 / 1000.0 / 3600.0;
        let fmin = 3.81 / 1000.0 / 3600.0;
        let kd = 4.0 / 3600.0;
        let mut h = match InfilState::new(&Infiltration::Horton {
            f0_m_per_s: f0,
            fmin_m_per_s: fmin,
            decay_per_s: kd,
            dry_days: 7.0,
            max_m: 0.0,
        }) {
            InfilState::Horton(h) => h,
            _ => unreachable!(),
        };
        // Heavy rain for 1 h: cumulative infiltration = fmin·t + (f0−fmin)/kd·(1−e^(−kd·t)).
        let mut total = 0.0;
        for _ in 0..60 {
            total += h.rate(60.0, 1.0e-4, 0.0) * 60.0;
        }
        let exact = fmin * 3600.0 + (f0 - fmin) / kd * (1.0 - (-kd * 3600.0f64).exp());
        assert!((total - exact).abs() / exact < 1e-9, "{total} {exact}");
        // After 7 dry days 98 % of 1 − e^(−kd·tp) is gone.
        let before = 1.0 - (-kd * h.tp).exp();
        h.regenerate(7.0 * 86_400.0);
        let after = 1.0 - (-kd * h.tp).exp();
        assert!((after / before - 0.02).abs() < 1e-9);
    }
}
