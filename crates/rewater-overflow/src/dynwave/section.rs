//! A conduit's cross-section tabulated for dynamic-wave routing: area, hydraulic radius
//! and top width at equally spaced depths (SWMM tabulates its shapes the same way, 51
//! entries; Hydraulics Reference Manual Vol. II, ch. 2), with the inverse lookups the
//! solver needs (normal and critical depth) and the Preissmann slot above the crown.

use crate::network::G;

/// Depth intervals of the tables.
const N: usize = 50;

/// Relative depth above which a closed conduit's top width is taken at the cutoff (EXTRAN),
/// and above which the Preissmann slot opens (SWMM's crown cutoffs).
pub const EXTRAN_CROWN_CUTOFF: f64 = 0.96;
pub const SLOT_CROWN_CUTOFF: f64 = 0.985_257;

#[derive(Debug, Clone)]
pub struct Section {
    pub y_full: f64,
    pub a_full: f64,
    pub r_full: f64,
    /// Widest top width, m (the slot is a share of it).
    pub w_max: f64,
    /// A closed conduit (pipe, box) rather than an open channel.
    pub closed: bool,
    area: Vec<f64>,
    radius: Vec<f64>,
    width: Vec<f64>,
    /// A·R^(2/3) at each depth, and the index of its largest value.
    sfac: Vec<f64>,
    peak: usize,
    /// Critical flow √(g·A³/T) at each depth (rising), for the critical depth of a flow.
    q_crit: Vec<f64>,
}

fn lerp(table: &[f64], x: f64) -> f64 {
    let x = x.clamp(0.0, N as f64);
    // x ≥ 0: truncation is the floor.
    let i = (x as usize).min(N - 1);
    let f = x - i as f64;
    table[i] + (table[i + 1] - table[i]) * f
}

/// Position (in table intervals) where increasing `table[..=last]` reaches `v`.
fn inverse(table: &[f64], last: usize, v: f64) -> f64 {
    if v <= table[0] {
        return 0.0;
    }
    if v >= table[last] {
        return last as f64;
    }
    let i = table[..=last].partition_point(|&t| t <= v).max(1);
    let (t0, t1) = (table[i - 1], table[i]);
    if t1 <= t0 {
        return i as f64;
    }
    (i - 1) as f64 + (v - t0) / (t1 - t0)
}

impl Section {
    /// From a shape's (area, hydraulic radius) at any depth up to `y_full`.
    pub fn new(y_full: f64, closed: bool, area_radius: impl Fn(f64) -> (f64, f64)) -> Section {
        Section::with_width(y_full, closed, &area_radius, |_| None)
    }

    /// As [`Section::new`], with the top width where the shape defines it (SWMM's width
    /// tables: for its tabulated shapes the width is not the derivative of its area
    /// table, and SWMM's surface areas follow the width table).
    pub fn with_width(
        y_full: f64,
        closed: bool,
        area_radius: impl Fn(f64) -> (f64, f64),
        top_width: impl Fn(f64) -> Option<f64>,
    ) -> Section {
        let dy = y_full / N as f64;
        let mut area = Vec::with_capacity(N + 1);
        let mut radius = Vec::with_capacity(N + 1);
        for i in 0..=N {
            let (a, r) = area_radius(dy * i as f64);
            area.push(a);
            radius.push(r);
        }
        // Top width as the derivative of area, on a finer difference than the table.
        let h = y_full * 1e-4;
        let width: Vec<f64> = (0..=N)
            .map(|i| {
                let y = dy * i as f64;
                let (lo, hi) = ((y - h).max(0.0), (y + h).min(y_full));
                let w = top_width(y)
                    .unwrap_or_else(|| (area_radius(hi).0 - area_radius(lo).0) / (hi - lo));
                if closed && i == N {
                    // A closed crown: the width the walls close to.
                    w.max(0.0)
                } else {
                    w.max(1e-6)
                }
            })
            .collect();
        let sfac: Vec<f64> = area
            .iter()
            .zip(&radius)
            .map(|(a, r)| a * r.powf(2.0 / 3.0))
            .collect();
        let peak = (0..=N).fold(0, |b, i| if sfac[i] > sfac[b] { i } else { b });
        // Critical flow by depth; the width near a closed crown is taken just below it, and
        // the table is kept rising.
        let mut q_crit: Vec<f64> = (0..=N)
            .map(|i| {
                let k = if closed { i.min(N - 1) } else { i };
                let w = width[k].max(1e-9);
                (G * area[i].powi(3) / w).sqrt()
            })
            .collect();
        for i in 1..=N {
            q_crit[i] = q_crit[i].max(q_crit[i - 1]);
        }
        Section {
            y_full,
            a_full: area[N],
            r_full: radius[N],
            w_max: width.iter().copied().fold(0.0, f64::max),
            closed,
            area,
            radius,
            width,
            sfac,
            peak,
            q_crit,
        }
    }

    fn x(&self, y: f64) -> f64 {
        y / self.y_full * N as f64
    }

    pub fn area(&self, y: f64) -> f64 {
        lerp(&self.area, self.x(y))
    }

    pub fn radius(&self, y: f64) -> f64 {
        if y >= self.y_full {
            return self.r_full;
        }
        lerp(&self.radius, self.x(y))
    }

    pub fn width(&self, y: f64) -> f64 {
        lerp(&self.width, self.x(y))
    }

    /// Section factor A·R^(2/3) at full depth.
    pub fn s_full(&self) -> f64 {
        self.sfac[N]
    }

    /// Largest section factor (a circle's, at 94 % of its depth).
    pub fn s_max(&self) -> f64 {
        self.sfac[self.peak]
    }

    /// Depth at which A·R^(2/3) equals `s` (on the rising part of the curve).
    pub fn depth_of_sfac(&self, s: f64) -> f64 {
        inverse(&self.sfac, self.peak, s) / N as f64 * self.y_full
    }

    /// Critical depth for flow `q` (per barrel): Q²/g = A³/T, from the tabulated critical
    /// flows (the full depth beyond them).
    pub fn critical_depth(&self, q: f64) -> f64 {
        if q <= 0.0 {
            return 0.0;
        }
        inverse(&self.q_crit, N, q) / N as f64 * self.y_full
    }

    /// Top width at depth `y` as the dynamic-wave solver uses it: the Preissmann slot's
    /// width above the slot cutoff (`slot`), else the width at the crown cutoff for the
    /// top of a closed conduit.
    pub fn top_width(&self, y: f64, slot: bool) -> f64 {
        let w_slot = self.slot_width(y, slot);
        if w_slot > 0.0 {
            return w_slot;
        }
        let yn = y / self.y_full;
        let cutoff = if slot {
            SLOT_CROWN_CUTOFF
        } else {
            EXTRAN_CROWN_CUTOFF
        };
        if self.closed && yn >= cutoff {
            return self.width(cutoff * self.y_full);
        }
        self.width(y.min(self.y_full))
    }

    /// Width of the Preissmann slot at depth `y` (Sjöberg's formula, as SWMM), 0 without
    /// one or below its cutoff.
    pub fn slot_width(&self, y: f64, slot: bool) -> f64 {
        let yn = y / self.y_full;
        if !slot || !self.closed || yn < SLOT_CROWN_CUTOFF {
            return 0.0;
        }
        if yn > 1.78 {
            return 0.01 * self.w_max;
        }
        self.w_max * 0.5423 * (-yn.powf(2.4)).exp()
    }

    /// Flow area at depth `y`, with the slot's area above the crown.
    pub fn slot_area(&self, y: f64, w_slot: f64) -> f64 {
        if y >= self.y_full {
            return self.a_full + (y - self.y_full) * w_slot;
        }
        self.area(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangle_tables_and_inverses() {
        // An open rectangle 2 m wide, 1 m deep.
        let s = Section::new(1.0, false, |y| (2.0 * y, 2.0 * y / (2.0 + 2.0 * y)));
        assert!((s.area(0.37) - 0.74).abs() < 1e-12);
        assert!((s.width(0.5) - 2.0).abs() < 1e-6);
        // Critical depth: (q²/(g·b²))^(1/3).
        let q = 1.5;
        let yc = (q * q / (G * 4.0)).powf(1.0 / 3.0);
        assert!(
            (s.critical_depth(q) - yc).abs() < 0.01 * yc,
            "{} {yc}",
            s.critical_depth(q)
        );
        let y = 0.6;
        let sf = 1.2 * (1.2f64 / 3.2).powf(2.0 / 3.0);
        assert!(
            (s.depth_of_sfac(sf) - y).abs() < 2e-3,
            "{}",
            s.depth_of_sfac(sf)
        );
    }
}
