//! Kinematic-wave routing of a conduit (运动波演算), the method SWMM 5 uses under
//! `FLOW_ROUTING KINWAVE` (Hydraulics Reference Manual, Vol. II, ch. 5): the flow is
//! the normal (Manning) flow of the wetted area, Q = β·A·R^(2/3), and the continuity
//! equation ∂A/∂t + ∂Q/∂x = 0 is written over the conduit as one cell with weights of
//! 0.6 in space and time, solved each step for the outlet area. Inflow above the
//! full-flow capacity cannot enter (the node floods the rest).

/// Geometry of a conduit for kinematic-wave routing, per barrel.
#[derive(Debug, Clone)]
pub struct KwConduit {
    pub length_m: f64,
    /// Full-flow area (m²) and normal flow at full depth (m³/s), per barrel.
    pub a_full_m2: f64,
    pub q_full_m3_per_s: f64,
    pub barrels: f64,
    /// Area / full area at equally spaced depths, from 0 to full.
    area: Vec<f64>,
    /// Section factor A·R^(2/3) / its value at full depth, at the same depths.
    sfac: Vec<f64>,
    /// Index of the largest section factor (a circle's is at 94 % of its depth).
    peak: usize,
}

/// Space and time weights of the finite-difference cell (SWMM's WX, WT).
const WX: f64 = 0.6;
const WT: f64 = 0.6;

impl KwConduit {
    /// From (area m², section factor m^(8/3)) at equally spaced depths from 0 to full.
    pub fn new(
        length_m: f64,
        q_full_m3_per_s: f64,
        barrels: f64,
        table: &[(f64, f64)],
    ) -> Option<KwConduit> {
        let (&(a_full, s_full), _) = table.split_last()?;
        if !(a_full > 0.0 && s_full > 0.0 && q_full_m3_per_s > 0.0 && length_m > 0.0) {
            return None;
        }
        let area: Vec<f64> = table.iter().map(|p| p.0 / a_full).collect();
        let sfac: Vec<f64> = table.iter().map(|p| p.1 / s_full).collect();
        let peak = (0..sfac.len()).fold(0, |b, i| if sfac[i] > sfac[b] { i } else { b });
        Some(KwConduit {
            length_m,
            a_full_m2: a_full,
            q_full_m3_per_s,
            barrels,
            area,
            sfac,
            peak,
        })
    }

    /// Normalized flow at normalized area `a` (on the rising part of the curve).
    fn q_of_a(&self, a: f64) -> f64 {
        let i = self.area[..=self.peak].partition_point(|&x| x <= a);
        if i == 0 {
            return 0.0;
        }
        if i > self.peak {
            return self.sfac[self.peak];
        }
        let (a0, a1) = (self.area[i - 1], self.area[i]);
        let (s0, s1) = (self.sfac[i - 1], self.sfac[i]);
        s0 + (s1 - s0) * (a - a0) / (a1 - a0)
    }

    /// Normalized area of normalized normal flow `q` (≤ the peak).
    fn a_of_q(&self, q: f64) -> f64 {
        let i = self.sfac[..=self.peak].partition_point(|&x| x <= q);
        if i == 0 {
            return 0.0;
        }
        if i > self.peak {
            return self.area[self.peak];
        }
        let (s0, s1) = (self.sfac[i - 1], self.sfac[i]);
        let (a0, a1) = (self.area[i - 1], self.area[i]);
        if s1 <= s0 {
            return a1;
        }
        a0 + (a1 - a0) * (q - s0) / (s1 - s0)
    }

    /// The most it takes, m³/s (all barrels).
    pub fn capacity(&self) -> f64 {
        self.q_full_m3_per_s * self.barrels
    }
}

/// The state of one conduit: inlet and outlet flow and area at the end of the last
/// step, normalized by the full values.
#[derive(Debug, Clone, Default)]
pub struct KwState {
    q1: f64,
    a1: f64,
    q2: f64,
    a2: f64,
}

impl KwState {
    /// Route one step of `dt` s with inflow `q_in` (m³/s, all barrels, at most the
    /// capacity); returns the outflow, m³/s.
    pub fn step(&mut self, c: &KwConduit, q_in: f64, dt: f64) -> f64 {
        let qin = (q_in / c.barrels / c.q_full_m3_per_s).clamp(0.0, 1.0);
        if qin <= 1e-12 && self.q2 <= 1e-12 {
            *self = KwState::default();
            return 0.0;
        }
        let ain = if qin >= 1.0 { 1.0 } else { c.a_of_q(qin) };
        let dxdt = c.length_m / dt * c.a_full_m2 / c.q_full_m3_per_s;
        let c1 = dxdt * WT / WX;
        let c2 = ((1.0 - WT) * (ain - self.a1) - WT * self.a2) * dxdt / WX
            + (1.0 - WX) / WX * (self.q2 - self.q1)
            - qin;
        // f(a) = q(a) + c1·a + c2 rises on [0, a at the peak flow]: bisect-guarded Newton.
        let f = |a: f64| c.q_of_a(a) + c1 * a + c2;
        let (mut lo, mut hi) = (0.0, c.area[c.peak]);
        let aout = if f(lo) >= 0.0 {
            0.0
        } else if f(hi) <= 0.0 {
            hi
        } else {
            let mut a = self.a2.clamp(lo, hi);
            for _ in 0..60 {
                let fa = f(a);
                if fa.abs() < 1e-10 {
                    break;
                }
                if fa < 0.0 {
                    lo = a;
                } else {
                    hi = a;
                }
                // q(a) is piecewise linear: a forward difference is its slope.
                let h = 1e-7;
                let d = (f(a + h) - fa) / h;
                let next = if d > 0.0 { a - fa / d } else { f64::NAN };
                a = if next > lo && next < hi {
                    next
                } else {
                    0.5 * (lo + hi)
                };
                if hi - lo < 1e-12 {
                    break;
                }
            }
            a
        };
        let qout = c.q_of_a(aout);
        *self = KwState {
            q1: qin,
            a1: ain,
            q2: qout,
            a2: aout,
        };
        qout * c.q_full_m3_per_s * c.barrels
    }

    /// Water in the conduit, m³ (the mean of its end areas over its length).
    pub fn held_m3(&self, c: &KwConduit) -> f64 {
        0.5 * (self.a1 + self.a2) * c.a_full_m2 * c.length_m * c.barrels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wide rectangular channel 10 m wide, 1 m deep: A = 10y, R ≈ y.
    fn channel() -> KwConduit {
        let table: Vec<(f64, f64)> = (0..=50)
            .map(|i| {
                let y = i as f64 / 50.0;
                let a = 10.0 * y;
                let r = if y > 0.0 { a / (10.0 + 2.0 * y) } else { 0.0 };
                (a, a * r.powf(2.0 / 3.0))
            })
            .collect();
        KwConduit::new(200.0, 5.0, 1.0, &table).unwrap()
    }

    #[test]
    fn steady_inflow_comes_out_unchanged_and_volume_is_kept() {
        let c = channel();
        let mut s = KwState::default();
        let mut out = 0.0;
        for _ in 0..2000 {
            out = s.step(&c, 2.0, 30.0);
        }
        assert!((out - 2.0).abs() < 1e-6, "{out}");
        // A storm hydrograph (rising and falling over an hour): what goes in comes out,
        // delayed and attenuated. The one-cell scheme is not exactly conservative while an
        // empty conduit fills (its outlet area cannot go below zero — SWMM's neither): here,
        // with the conduit's travel time 13 steps, it gains about 2 %.
        let mut s = KwState::default();
        let (mut vin, mut vout, mut peak) = (0.0, 0.0, 0.0f64);
        for k in 0..4000 {
            let t = k as f64;
            let q = if t < 60.0 {
                3.0 * t / 60.0
            } else {
                (3.0 * (120.0 - t) / 60.0).max(0.0)
            };
            let o = s.step(&c, q, 30.0);
            vin += q * 30.0;
            vout += o * 30.0;
            peak = peak.max(o);
        }
        assert!(vout >= vin && vout < 1.03 * vin, "{vin} {vout}");
        assert!(peak < 3.0 + 1e-9);
    }

    #[test]
    fn inflow_above_full_flow_is_cut_to_it() {
        let c = channel();
        let mut s = KwState::default();
        let mut out = 0.0;
        for _ in 0..2000 {
            out = s.step(&c, 9.0, 30.0);
        }
        assert!((out - 5.0).abs() < 1e-6, "{out}");
    }
}
