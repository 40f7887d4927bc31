//! Green–Ampt infiltration (格林-安普特入渗) as SWMM 5 applies it in continuous
//! simulation: the Mein–Larson form — all rain infiltrates until the surface saturates,
//! then the integrated Green–Ampt equation — with an upper soil zone of depth
//! Lu = 4·√Ks (Ks in in/h, Lu in inches) whose moisture drains between storms, so that a
//! new event starts with a recovered moisture deficit (SWMM 5 Reference Manual Vol. I,
//! Hydrology, §4.3). The "modified" method only resets the deficit after the upper zone
//! has drained, not while light rain falls.

/// Parameters, SI.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GreenAmpt {
    /// Capillary suction head at the wetting front, m.
    pub suction_m: f64,
    /// Saturated hydraulic conductivity, m/s.
    pub ksat_m_per_s: f64,
    /// Initial (and largest) moisture deficit, fraction 0–1.
    pub imd_max: f64,
    /// The modified method (SWMM's MODIFIED_GREEN_AMPT).
    pub modified: bool,
}

/// The state through the run.
#[derive(Debug, Clone)]
pub(crate) struct GreenAmptState {
    p: GreenAmpt,
    /// Upper zone depth, m, and the same in feet (SWMM's recovery constants are in ft).
    lu_m: f64,
    lu_ft: f64,
    /// Water the upper zone holds when saturated, m.
    fu_max: f64,
    /// Current moisture deficit.
    imd: f64,
    /// Infiltrated this event, m; held in the upper zone, m.
    f: f64,
    fu: f64,
    saturated: bool,
    /// Seconds left until dry weather starts a new event.
    t_new_event_s: f64,
}

impl GreenAmptState {
    pub fn new(p: GreenAmpt) -> GreenAmptState {
        let ks_in_per_h = p.ksat_m_per_s * 3600.0 / 0.0254;
        let lu_ft = 4.0 * ks_in_per_h.sqrt() / 12.0;
        let lu_m = lu_ft * 0.3048;
        GreenAmptState {
            p,
            lu_m,
            lu_ft,
            fu_max: p.imd_max * lu_m,
            imd: p.imd_max,
            f: 0.0,
            fu: 0.0,
            saturated: false,
            t_new_event_s: 0.0,
        }
    }

    /// Infiltration rate (m/s) over a step of `dt` s with rain `irate` (m/s) falling on
    /// `depth` (m) of ponded water.
    pub fn rate(&mut self, dt: f64, irate: f64, depth: f64) -> f64 {
        self.t_new_event_s -= dt;
        if self.saturated {
            self.saturated_rate(dt, irate, depth)
        } else {
            self.unsaturated_rate(dt, irate, depth)
        }
    }

    /// `t` seconds of dry weather with no ponded water (the same as that many dry steps).
    pub fn regenerate(&mut self, t: f64) {
        self.t_new_event_s -= t;
        self.dry(t);
    }

    fn dry(&mut self, t: f64) {
        if self.fu <= 0.0 {
            return;
        }
        // The upper zone drains at a rate set by its depth (SWMM: Lu/90000 per s, ft).
        let drained = self.lu_ft / 90_000.0 * self.fu_max * t;
        self.f -= drained;
        self.fu -= drained;
        if self.fu <= 0.0 {
            self.fu = 0.0;
            self.f = 0.0;
            self.imd = self.p.imd_max;
        } else if self.t_new_event_s <= 0.0 {
            self.new_event();
        }
    }

    fn new_event(&mut self) {
        self.imd = (self.fu_max - self.fu) / self.lu_m;
        self.f = 0.0;
    }

    fn add(&mut self, df: f64) {
        self.f += df;
        self.fu = (self.fu + df).min(self.fu_max);
    }

    fn unsaturated_rate(&mut self, dt: f64, irate: f64, depth: f64) -> f64 {
        let ks = self.p.ksat_m_per_s;
        let ia = (irate + depth / dt).max(0.0);
        if ia <= 1e-12 {
            self.dry(dt);
            return 0.0;
        }
        if ia <= ks {
            self.add(ia * dt);
            if !self.p.modified && self.t_new_event_s <= 0.0 {
                self.new_event();
            }
            return ia;
        }
        // Rain faster than Ks: the event goes on for a while after it (SWMM: 5400/Lu s).
        self.t_new_event_s = 5400.0 / self.lu_ft;
        // Infiltrated volume at which the surface saturates.
        let fs = ks * (self.p.suction_m + depth) * self.imd / (ia - ks);
        if self.f > fs {
            self.saturated = true;
            return self.saturated_rate(dt, irate, depth);
        }
        if self.f + ia * dt < fs {
            self.add(ia * dt);
            return ia;
        }
        // Saturates within the step: the rest of it under the Green–Ampt equation.
        let ts = (dt - (fs - self.f) / ia).max(0.0);
        let c1 = (self.p.suction_m + depth) * self.imd;
        let f2 = cumulative_after(fs, c1, ks, ts).min(fs + ia * ts);
        let df = f2 - self.f;
        self.f = f2;
        self.fu = (self.fu + df).min(self.fu_max);
        self.saturated = true;
        df / dt
    }

    fn saturated_rate(&mut self, dt: f64, irate: f64, depth: f64) -> f64 {
        let ia = irate + depth / dt;
        if ia <= 1e-12 {
            return 0.0;
        }
        self.t_new_event_s = 5400.0 / self.lu_ft;
        let c1 = (self.p.suction_m + depth) * self.imd;
        let mut df = cumulative_after(self.f, c1, self.p.ksat_m_per_s, dt) - self.f;
        if df > ia * dt {
            // Everything available soaks in: the surface is no longer saturated.
            df = ia * dt;
            self.saturated = false;
        }
        self.add(df);
        df / dt
    }
}

/// Cumulative infiltration after `ts` s of ponded Green–Ampt infiltration from `f1` (m),
/// c1 = suction × moisture deficit (m): the root of F2 − F1 − c1·ln((F2 + c1)/(F1 + c1))
/// = Ks·ts, by Newton's method; never less than F1 + Ks·ts.
fn cumulative_after(f1: f64, c1: f64, ks: f64, ts: f64) -> f64 {
    let least = f1 + ks * ts;
    if c1 <= 0.0 {
        return least;
    }
    if ts < 10.0 && f1 > 0.01 * c1 {
        // A short step: the rate form is accurate.
        return (f1 + ks * (1.0 + c1 / f1) * ts).max(least);
    }
    let c2 = c1 * (f1 + c1).ln() - ks * ts;
    // The function is convex and increasing: from F1 + Ks·ts (below the root) Newton
    // overshoots once and then converges from above.
    let mut f2 = least;
    for _ in 0..50 {
        let step = (f2 - f1 - c1 * (f2 + c1).ln() + c2) / (1.0 - c1 / (f2 + c1));
        f2 -= step;
        if step.abs() < 1e-8 {
            break;
        }
    }
    if f2.is_finite() {
        f2.max(least)
    } else {
        least
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ponded_infiltration_solves_the_integrated_equation() {
        // Ks 10 mm/h, ψ·Δθ = 0.1 m × 0.3: after an hour from dry soil,
        // F − c·ln(1 + F/c) = Ks·t.
        let ks = 0.01 / 3600.0;
        let c1 = 0.1 * 0.3;
        let f = cumulative_after(0.0, c1, ks, 3600.0);
        let lhs = f - c1 * (1.0 + f / c1).ln();
        assert!((lhs - 0.01).abs() < 1e-9, "{f} {lhs}");
        assert!(f > 0.01, "more than Ks·t while the suction acts");
    }

    #[test]
    fn light_rain_all_infiltrates_heavy_rain_saturates() {
        let p = GreenAmpt {
            suction_m: 0.1,
            ksat_m_per_s: 0.01 / 3600.0,
            imd_max: 0.3,
            modified: false,
        };
        let mut s = GreenAmptState::new(p);
        // 5 mm/h < Ks: all of it, for an hour.
        let light = 0.005 / 3600.0;
        for _ in 0..60 {
            assert_eq!(s.rate(60.0, light, 0.0), light);
        }
        // 100 mm/h: at first all of it, then the rate falls below the rain.
        let heavy = 0.1 / 3600.0;
        let rates: Vec<f64> = (0..120).map(|_| s.rate(60.0, heavy, 0.0)).collect();
        assert_eq!(rates[0], heavy);
        let last = *rates.last().unwrap();
        assert!(last < heavy && last > p.ksat_m_per_s, "{last}");
        // Upper zone: Lu = 4·√(10/25.4) in = 2.51 in = 0.0637 m; it holds at most 0.3 Lu.
        assert!((s.lu_m - 4.0 * (10.0f64 / 25.4).sqrt() * 0.0254).abs() < 1e-9);
        assert!(s.fu <= s.fu_max + 1e-12);
    }
}
