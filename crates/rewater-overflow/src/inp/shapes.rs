//! SWMM's tabulated closed shapes (蛋形、马蹄形、哥特式、悬链线、半椭圆、篮柄形、半圆形、
//! 椭圆、拱形断面): full area, hydraulic radius and width from SWMM's published
//! coefficients, and the relative geometry at any depth from its tables
//! ([`super::shape_tables`]), read the way SWMM 5 reads them (`xsect.c`: linear
//! interpolation with a quadratic correction in the first two intervals; shapes with a
//! depth-by-area table are inverted, their hydraulic radius follows from the section
//! factor table as (S/A)^(3/2)). Following SWMM's tables rather than our own drawing of
//! the outline matters: a conduit's capacity at part depth, and so backwater and flooding
//! under dynamic wave, differs by several per cent between the two for an egg.

use super::shape_tables as t;

/// Shapes SWMM defines by table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tabulated {
    Egg,
    Horseshoe,
    Gothic,
    Catenary,
    SemiElliptical,
    BasketHandle,
    SemiCircular,
    HorizEllipse,
    VertEllipse,
    Arch,
}

impl Tabulated {
    /// From an `[XSECTIONS]` shape keyword.
    pub(super) fn from_keyword(k: &str) -> Option<Tabulated> {
        Some(match k {
            "EGG" => Tabulated::Egg,
            "HORSESHOE" => Tabulated::Horseshoe,
            "GOTHIC" => Tabulated::Gothic,
            "CATENARY" => Tabulated::Catenary,
            "SEMIELLIPTICAL" => Tabulated::SemiElliptical,
            "BASKETHANDLE" => Tabulated::BasketHandle,
            "SEMICIRCULAR" => Tabulated::SemiCircular,
            "HORIZ_ELLIPSE" => Tabulated::HorizEllipse,
            "VERT_ELLIPSE" => Tabulated::VertEllipse,
            "ARCH" => Tabulated::Arch,
            _ => return None,
        })
    }

    /// Full area / H², full hydraulic radius / H and widest width / H of the shapes
    /// whose proportions are fixed (SWMM 5 `xsect_setParams`; the manual's table of
    /// shape coefficients).
    fn coefficients(self) -> Option<(f64, f64, f64)> {
        Some(match self {
            Tabulated::Egg => (0.5105, 0.1931, 2.0 / 3.0),
            Tabulated::Horseshoe => (0.8293, 0.2538, 1.0),
            Tabulated::Gothic => (0.6554, 0.2269, 0.84),
            Tabulated::Catenary => (0.70277, 0.23172, 0.9),
            Tabulated::SemiElliptical => (0.785, 0.242, 1.0),
            Tabulated::BasketHandle => (0.7862, 0.2464, 0.944),
            Tabulated::SemiCircular => (1.2697, 0.2946, 1.64),
            _ => return None,
        })
    }
}

/// A tabulated shape at its size, SI.
#[derive(Debug, Clone)]
pub(super) struct TabShape {
    pub kind: Tabulated,
    pub y_full: f64,
    pub a_full: f64,
    pub r_full: f64,
    pub w_max: f64,
}

const INCH: f64 = 0.0254;
const FT: f64 = 0.3048;

impl TabShape {
    /// From geom1 (height, m), geom2 (width, m; ellipses and arches) and a standard pipe
    /// size code (1…, 0 for none; ellipses and arches). Err says what is wrong.
    pub(super) fn new(
        kind: Tabulated,
        g1: f64,
        g2: f64,
        code: f64,
    ) -> Result<TabShape, &'static str> {
        if let Some((a, r, w)) = kind.coefficients() {
            return Ok(TabShape {
                kind,
                y_full: g1,
                a_full: a * g1 * g1,
                r_full: r * g1,
                w_max: w * g1,
            });
        }
        // Ellipses and arches: a standard size by its code (the caller passes geom1 as
        // the code when geom2 is 0, as SWMM reads it), else the height and width given.
        if code > 0.0 {
            let i = code.floor() as usize;
            let standard = |n: usize| i >= 1 && i <= n;
            return match kind {
                Tabulated::Arch if standard(t::ARCH_YFULL.len()) => Ok(TabShape {
                    kind,
                    y_full: t::ARCH_YFULL[i - 1] * INCH,
                    w_max: t::ARCH_WMAX[i - 1] * INCH,
                    a_full: t::ARCH_AFULL[i - 1] * FT * FT,
                    r_full: t::ARCH_RFULL[i - 1] * FT,
                }),
                Tabulated::HorizEllipse | Tabulated::VertEllipse
                    if standard(t::ELLIPSE_MINORAXIS.len()) =>
                {
                    let (minor, major) = (
                        t::ELLIPSE_MINORAXIS[i - 1] * INCH,
                        t::ELLIPSE_MAJORAXIS[i - 1] * INCH,
                    );
                    let (y_full, w_max) = if kind == Tabulated::HorizEllipse {
                        (minor, major)
                    } else {
                        (major, minor)
                    };
                    Ok(TabShape {
                        kind,
                        y_full,
                        w_max,
                        a_full: t::ELLIPSE_AFULL[i - 1] * FT * FT,
                        r_full: t::ELLIPSE_RFULL[i - 1] * FT,
                    })
                }
                _ => Err("geom3 is not one of SWMM's standard pipe size codes"),
            };
        }
        if g2 <= 0.0 {
            return Err("geom2 (width) must be positive");
        }
        // SWMM's proportions for non-standard sizes (its xsect_setParams).
        let (a_full, r_full) = match kind {
            Tabulated::HorizEllipse => (1.2692 * g1 * g1, 0.3061 * g1),
            Tabulated::VertEllipse => (1.2692 * g2 * g2, 0.3061 * g2),
            _ => (0.7879 * g1 * g2, 0.2991 * g1),
        };
        Ok(TabShape {
            kind,
            y_full: g1,
            w_max: g2,
            a_full,
            r_full,
        })
    }

    /// Wetted area (m²) and hydraulic radius (m) at depth `y` (SWMM's getAofY, getRofY).
    pub(super) fn area_radius(&self, y: f64) -> (f64, f64) {
        if y <= 0.0 {
            return (0.0, 0.0);
        }
        let yn = (y / self.y_full).min(1.0);
        let by_area = |area: &[f64], radius: &[f64]| {
            (
                self.a_full * lookup(yn, area),
                self.r_full * lookup(yn, radius),
            )
        };
        let by_depth = |depth: &[f64], sfac: &[f64]| {
            let alpha = inv_lookup(yn, depth);
            let a = self.a_full * alpha;
            let s_full = self.a_full * self.r_full.powf(2.0 / 3.0);
            let s = s_full * lookup(alpha, sfac);
            if a <= 0.0 || s <= 0.0 {
                (a, 0.0)
            } else {
                (a, (s / a).powf(1.5))
            }
        };
        match self.kind {
            Tabulated::Egg => by_area(&t::EGG_AREA, &t::EGG_RADIUS),
            Tabulated::Horseshoe => by_area(&t::HORSESHOE_AREA, &t::HORSESHOE_RADIUS),
            Tabulated::BasketHandle => by_area(&t::BASKET_AREA, &t::BASKET_RADIUS),
            Tabulated::HorizEllipse => by_area(&t::HORIZELLIPSE_AREA, &t::HORIZELLIPSE_RADIUS),
            Tabulated::VertEllipse => by_area(&t::VERTELLIPSE_AREA, &t::VERTELLIPSE_RADIUS),
            Tabulated::Arch => by_area(&t::ARCH_AREA, &t::ARCH_RADIUS),
            Tabulated::Gothic => by_depth(&t::GOTHIC_DEPTH, &t::GOTHIC_SFAC),
            Tabulated::Catenary => by_depth(&t::CATENARY_DEPTH, &t::CATENARY_SFAC),
            Tabulated::SemiElliptical => by_depth(&t::SEMIELLIP_DEPTH, &t::SEMIELLIP_SFAC),
            Tabulated::SemiCircular => by_depth(&t::SEMICIRC_DEPTH, &t::SEMICIRC_SFAC),
        }
    }

    /// Top width at depth `y`, m (SWMM's getWofY; 0 at the crown).
    pub(super) fn width(&self, y: f64) -> f64 {
        let yn = (y / self.y_full).clamp(0.0, 1.0);
        let table: &[f64] = match self.kind {
            Tabulated::Egg => &t::EGG_WIDTH,
            Tabulated::Horseshoe => &t::HORSESHOE_WIDTH,
            Tabulated::Gothic => &t::GOTHIC_WIDTH,
            Tabulated::Catenary => &t::CATENARY_WIDTH,
            Tabulated::SemiElliptical => &t::SEMIELLIP_WIDTH,
            Tabulated::BasketHandle => &t::BASKET_WIDTH,
            Tabulated::SemiCircular => &t::SEMICIRC_WIDTH,
            Tabulated::HorizEllipse => &t::HORIZELLIPSE_WIDTH,
            Tabulated::VertEllipse => &t::VERTELLIPSE_WIDTH,
            Tabulated::Arch => &t::ARCH_WIDTH,
        };
        self.w_max * lookup(yn, table)
    }
}

/// A value from an equally spaced table on [0, 1] at `x` (SWMM's `lookup`: linear, with
/// a quadratic correction in the first two intervals where the shapes curve most).
pub(super) fn lookup(x: f64, table: &[f64]) -> f64 {
    let n = table.len();
    let delta = 1.0 / (n - 1) as f64;
    let x = x.max(0.0);
    let i = (x / delta) as usize;
    if i >= n - 1 {
        return table[n - 1];
    }
    let (x0, x1) = (i as f64 * delta, (i + 1) as f64 * delta);
    let mut y = table[i] + (x - x0) * (table[i + 1] - table[i]) / delta;
    if i < 2 {
        let y2 = y
            + (x - x0) * (x - x1) / (delta * delta)
                * (table[i] / 2.0 - table[i + 1] + table[i + 2] / 2.0);
        if y2 > 0.0 {
            y = y2;
        }
    }
    y.max(0.0)
}

/// The abscissa on [0, 1] at which an increasing equally spaced table reaches `y`.
pub(super) fn inv_lookup(y: f64, table: &[f64]) -> f64 {
    let n = table.len();
    let dx = 1.0 / (n - 1) as f64;
    if y <= table[0] {
        return 0.0;
    }
    if y >= table[n - 1] {
        return 1.0;
    }
    let i = table.partition_point(|&v| v <= y).clamp(1, n - 1) - 1;
    let dy = table[i + 1] - table[i];
    let x = if dy == 0.0 {
        i as f64 * dx
    } else {
        i as f64 * dx + (y - table[i]) * dx / dy
    };
    x.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_values_are_swmms_coefficients() {
        // Hydraulics Reference Manual Vol. II, table of shape coefficients:
        // (shape, A_full/H², R_full/H).
        for (k, a, r) in [
            (Tabulated::Egg, 0.5105, 0.1931),
            (Tabulated::Horseshoe, 0.8293, 0.2538),
            (Tabulated::Gothic, 0.6554, 0.2269),
            (Tabulated::Catenary, 0.70277, 0.23172),
            (Tabulated::SemiElliptical, 0.785, 0.242),
            (Tabulated::BasketHandle, 0.7862, 0.2464),
            (Tabulated::SemiCircular, 1.2697, 0.2946),
        ] {
            let s = TabShape::new(k, 2.0, 0.0, 0.0).expect("a shape");
            let (af, rf) = s.area_radius(2.0);
            assert!((af - a * 4.0).abs() < 1e-3 * af, "{k:?} area {af}");
            assert!((rf - r * 2.0).abs() < 1e-2 * rf, "{k:?} radius {rf}");
            // Closed at the crown.
            assert!(s.width(2.0) < 1e-9, "{k:?}");
        }
    }

    #[test]
    fn egg_at_half_depth_and_its_widest() {
        // SWMM's egg table: A/A_full = 0.3700 at y/H = 0.44 (entry 11 of 25 intervals),
        // widest (W/W_max = 1) at y/H = 0.64.
        let e = TabShape::new(Tabulated::Egg, 1.5, 0.0, 0.0).expect("egg");
        let (a, _) = e.area_radius(0.44 * 1.5);
        assert!((a - 0.37 * 0.5105 * 2.25).abs() < 1e-9, "{a}");
        assert!((e.width(0.64 * 1.5) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn standard_sizes_and_custom_ellipses() {
        // Size code 1 of SWMM's elliptical pipes: 14 × 23 in, 1.8 ft², 0.367 ft.
        let h = TabShape::new(Tabulated::HorizEllipse, 0.5, 0.8, 1.0).expect("code 1");
        assert!((h.y_full - 14.0 * INCH).abs() < 1e-9 && (h.w_max - 23.0 * INCH).abs() < 1e-9);
        let v = TabShape::new(Tabulated::VertEllipse, 1.0, 0.6, 0.0).expect("custom");
        assert!((v.a_full - 1.2692 * 0.36).abs() < 1e-12);
        let a = TabShape::new(Tabulated::Arch, 1.0, 1.5, 0.0).expect("custom arch");
        assert!((a.a_full - 0.7879 * 1.5).abs() < 1e-12);
        assert!(TabShape::new(Tabulated::Arch, 1.0, 1.5, 500.0).is_err());
    }

    #[test]
    fn lookups_invert_each_other() {
        for x in [0.1, 0.33, 0.5, 0.77] {
            let y = lookup(x, &t::EGG_AREA);
            assert!((inv_lookup(y, &t::EGG_AREA) - x).abs() < 1e-9, "{x}");
        }
    }
}
