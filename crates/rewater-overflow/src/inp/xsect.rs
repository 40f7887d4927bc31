//! Conduit cross-sections (管渠断面) from `[XSECTIONS]`, with irregular natural
//! channels from `[TRANSECTS]` (HEC-2 style `NC`/`X1`/`GR` lines, as SWMM 5 reads them):
//! the wetted area and hydraulic radius at any depth, so that a conduit's full-flow
//! capacity and the normal flow it takes from a storage unit follow Manning's equation.
//!
//! A transect's conveyance is summed over its left overbank, main channel and right
//! overbank with their own roughness, and expressed as an equivalent hydraulic radius for
//! the main channel's roughness (the method of SWMM's Hydraulics Reference Manual, ch. 2).

use super::parser::{Line, Parser, Units};
use super::shapes::{TabShape, Tabulated};
use super::tables::Curve;
use crate::OverflowError;
use std::collections::HashMap;

/// A cross-section's geometry, SI.
#[derive(Debug, Clone)]
pub(super) enum Shape {
    Circular {
        d: f64,
    },
    RectClosed {
        h: f64,
        w: f64,
    },
    RectOpen {
        h: f64,
        w: f64,
    },
    /// Bottom width `w`, side slopes z1, z2 (horizontal per vertical), depth `h`.
    Trapezoidal {
        h: f64,
        w: f64,
        z1: f64,
        z2: f64,
    },
    /// Top width `w` at depth `h`.
    Triangular {
        h: f64,
        w: f64,
    },
    Transect(Box<Transect>),
    /// An analytic shape from its outline (RECT_TRIANGULAR, RECT_ROUND, MODBASKETHANDLE,
    /// FILLED_CIRCULAR, PARABOLIC, POWER), or a CUSTOM one from its SHAPE curve.
    Profile(Box<Profile>),
    /// One of SWMM's tabulated shapes (EGG, HORSESHOE, … ARCH).
    Tab(Box<TabShape>),
}

/// A section tabulated from its outline: area and wetted perimeter at fine depth steps,
/// integrated along the wall (with a flat bottom where the outline starts wide, and a
/// flat lid at the crown of a closed box-like shape), for SWMM's analytic shapes that
/// are not simple formulas here.
#[derive(Debug, Clone)]
pub(super) struct Profile {
    h: f64,
    closed: bool,
    /// Depth of a filled bottom below the outline (FILLED_CIRCULAR), m.
    fill: f64,
    /// Width of a flat lid wetted when full, m.
    lid: f64,
    /// Area and wetted perimeter at depths h·i/STEPS.
    area: Vec<f64>,
    perimeter: Vec<f64>,
    /// Top width at depths h·i/STEPS.
    width: Vec<f64>,
}

impl Profile {
    const STEPS: usize = 2000;

    /// From the half-width at each height, 0 to `h`.
    fn from_half_width(h: f64, closed: bool, lid: bool, half: impl Fn(f64) -> f64) -> Profile {
        let n = Self::STEPS;
        let mut area = vec![0.0; n + 1];
        let mut perimeter = vec![0.0; n + 1];
        let mut width = vec![0.0; n + 1];
        let dy = h / n as f64;
        let mut prev = half(0.0).max(0.0);
        perimeter[0] = 2.0 * prev;
        width[0] = 2.0 * prev;
        for i in 1..=n {
            let x = half(dy * i as f64).max(0.0);
            area[i] = area[i - 1] + (prev + x) * dy;
            perimeter[i] = perimeter[i - 1] + 2.0 * ((x - prev).powi(2) + dy * dy).sqrt();
            width[i] = 2.0 * x;
            prev = x;
        }
        let lid = if lid { 2.0 * prev } else { 0.0 };
        if closed && lid > 0.0 {
            width[n] = 0.0;
        }
        Profile {
            h,
            closed,
            fill: 0.0,
            lid,
            area,
            perimeter,
            width,
        }
    }

    fn at(&self, table: &[f64], y: f64) -> f64 {
        let x = (y / self.h * Self::STEPS as f64).clamp(0.0, Self::STEPS as f64);
        let i = (x.floor() as usize).min(Self::STEPS - 1);
        let f = x - i as f64;
        table[i] + (table[i + 1] - table[i]) * f
    }

    fn area_radius(&self, y: f64) -> (f64, f64) {
        let a = self.at(&self.area, y);
        let mut p = self.at(&self.perimeter, y);
        if y >= self.h {
            p += self.lid;
        }
        (a, if p > 0.0 { a / p } else { 0.0 })
    }

    /// SWMM's RECT_TRIANGULAR: a rectangle of width `w` over a triangular bottom `yb` deep.
    fn rect_triang(h: f64, w: f64, yb: f64) -> Profile {
        Profile::from_half_width(h, true, true, |y| {
            if y < yb {
                w / 2.0 * y / yb
            } else {
                w / 2.0
            }
        })
    }

    /// SWMM's RECT_ROUND: a rectangle of width `w` over a circular bottom of radius `r`.
    fn rect_round(h: f64, w: f64, r: f64) -> Profile {
        let r = r.max(w / 2.0);
        let yb = r * (1.0 - (w / 2.0 / r).asin().cos());
        Profile::from_half_width(h, true, true, |y| {
            if y < yb {
                (r * r - (r - y).powi(2)).max(0.0).sqrt()
            } else {
                w / 2.0
            }
        })
    }

    /// SWMM's MODBASKETHANDLE: a rectangle of width `w` under a circular arc of radius
    /// `r` (at least w/2) reaching the full height.
    fn mod_basket(h: f64, w: f64, r: f64) -> Profile {
        let r = r.max(w / 2.0);
        let yb = r * (1.0 - (w / 2.0 / r).asin().cos());
        Profile::from_half_width(h, true, false, |y| {
            if y <= h - yb {
                w / 2.0
            } else {
                (r * r - (y - (h - r)).powi(2)).max(0.0).sqrt()
            }
        })
    }

    /// SWMM's FILLED_CIRCULAR: a circle of diameter `d` filled to `fill` at the bottom.
    ///
    /// The wetted perimeter counts the fill's surface as SWMM 5.2 does, which is wider
    /// than the chord at the fill: `xsect_setParams` (xsect.c) takes it from the filled
    /// shape's own width function after the fill is set, so it is the circle's width at
    /// relative depth 2·fill/(d + fill), not fill/d. (1.084 m against the 0.894 m chord
    /// for 0.2 m in a 1.2 m pipe, so SWMM's full hydraulic radius is 0.262 m, not 0.276.)
    /// rewater follows SWMM so that files give SWMM's flows: with the chord it delivered
    /// 2.8 % more than SWMM on the shape test and 6 % more in a 2 km conduit.
    fn filled_circle(d: f64, fill: f64) -> Profile {
        let r = d / 2.0;
        let mut p = Profile::from_half_width(d - fill, true, false, |y| {
            (r * r - (y + fill - r).powi(2)).max(0.0).sqrt()
        });
        let chord = p.perimeter[0];
        let eta = (2.0 * fill / (d + fill)).clamp(0.0, 1.0);
        let swmm_fill_width = 2.0 * d * (eta * (1.0 - eta)).sqrt();
        for x in &mut p.perimeter {
            *x += swmm_fill_width - chord;
        }
        p.fill = fill;
        p
    }

    /// SWMM's POWER (and PARABOLIC, exponent 2) open channel: top width `w` at depth `h`,
    /// width growing as depth^(1/exponent).
    fn power(h: f64, w: f64, exponent: f64) -> Profile {
        Profile::from_half_width(h, false, false, |y| {
            w / 2.0 * (y / h).max(0.0).powf(1.0 / exponent)
        })
    }

    /// SWMM's CUSTOM closed shape `h` high from a SHAPE curve of (depth, width), both
    /// relative to the full depth. As SWMM's `shape.c` reads the curve: the width is linear
    /// between its points, from 0 at the invert when the first point is above it, and
    /// constant above the last point; depths above 1 count as 1; the top width is wetted
    /// when full. Errors name what SWMM would refuse.
    fn custom(h: f64, curve: &[(f64, f64)]) -> Result<Profile, String> {
        let Some(&(y0, w0)) = curve.first() else {
            return Err("the SHAPE curve has no points".into());
        };
        if !(0.0..1.0).contains(&y0) || w0 < 0.0 {
            return Err(format!(
                "the SHAPE curve's first point ({y0}, {w0}) must have a relative depth in 0–1 (below 1) and a width ≥ 0"
            ));
        }
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(curve.len() + 1);
        if y0 > 0.0 {
            points.push((0.0, 0.0));
        }
        for (k, &(y, w)) in curve.iter().enumerate() {
            let last = points.last().map_or(0.0, |p| p.0);
            if !y.is_finite() || !w.is_finite() || y < last || w < 0.0 {
                return Err(format!(
                    "point {} of the SHAPE curve ({y}, {w}): relative depths must not decrease and widths must not be negative",
                    k + 1
                ));
            }
            points.push((y.min(1.0), w));
        }
        if points.iter().all(|p| p.1 <= 0.0) {
            return Err("the SHAPE curve has no width".into());
        }
        let width_at = |rel: f64| -> f64 {
            let k = points.partition_point(|p| p.0 < rel);
            match (k.checked_sub(1).map(|i| points[i]), points.get(k)) {
                (Some((ya, wa)), Some(&(yb, wb))) if yb > ya => {
                    wa + (wb - wa) * (rel - ya) / (yb - ya)
                }
                (_, Some(&(_, wb))) => wb,
                (Some((_, wa)), None) => wa,
                (None, None) => 0.0,
            }
        };
        Ok(Profile::from_half_width(h, true, true, |y| {
            width_at((y / h).clamp(0.0, 1.0)) * h / 2.0
        }))
    }
}

/// An irregular channel from `[TRANSECTS]`.
#[derive(Debug, Clone)]
pub(super) struct Transect {
    /// (station m, elevation m), with vertical walls added at both ends up to the top.
    stations: Vec<(f64, f64)>,
    n_left: f64,
    n_right: f64,
    pub n_channel: f64,
    left_bank_m: f64,
    right_bank_m: f64,
    /// Main channel length / flood-plain length (the meander factor).
    pub length_factor: f64,
    bottom_m: f64,
    pub depth_m: f64,
}

impl Shape {
    /// Full depth, m.
    pub fn full_depth(&self) -> f64 {
        match self {
            Shape::Circular { d } => *d,
            Shape::RectClosed { h, .. }
            | Shape::RectOpen { h, .. }
            | Shape::Trapezoidal { h, .. }
            | Shape::Triangular { h, .. } => *h,
            Shape::Transect(t) => t.depth_m,
            Shape::Profile(p) => p.h,
            Shape::Tab(t) => t.y_full,
        }
    }

    /// Depth of a filled bottom, m: SWMM raises a FILLED_CIRCULAR conduit's offsets by it
    /// (its `link.c`), so the water in it starts above the fill.
    pub fn bottom_fill(&self) -> f64 {
        match self {
            Shape::Profile(p) => p.fill,
            _ => 0.0,
        }
    }

    /// Top width at depth `y` where the shape defines it apart from its area (SWMM's
    /// width tables, and outlines); None: the derivative of the area.
    pub fn top_width(&self, y: f64) -> Option<f64> {
        match self {
            Shape::Tab(t) => Some(t.width(y)),
            Shape::Profile(p) => Some(p.at(&p.width, y.clamp(0.0, p.h))),
            _ => None,
        }
    }

    /// A closed conduit (pipe or box), not an open channel.
    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            Shape::Circular { .. } | Shape::RectClosed { .. } | Shape::Tab(_)
        ) || matches!(self, Shape::Profile(p) if p.closed)
    }

    /// Wetted area (m²) and hydraulic radius (m) at depth `y` (clamped to the full depth).
    /// For a transect the radius is the equivalent one for the main-channel roughness.
    pub fn area_radius(&self, y: f64) -> (f64, f64) {
        let y = y.clamp(0.0, self.full_depth());
        if y <= 0.0 {
            return (0.0, 0.0);
        }
        let (a, p) = match self {
            Shape::Circular { d } => {
                let r = d / 2.0;
                let theta = 2.0 * (1.0 - y / r).clamp(-1.0, 1.0).acos();
                (r * r / 2.0 * (theta - theta.sin()), r * theta)
            }
            Shape::RectClosed { h, w } => {
                let top = if y >= *h { *w } else { 0.0 };
                (w * y, w + 2.0 * y + top)
            }
            Shape::RectOpen { w, .. } => (w * y, w + 2.0 * y),
            Shape::Trapezoidal { w, z1, z2, .. } => (
                y * (w + (z1 + z2) * y / 2.0),
                w + y * ((1.0 + z1 * z1).sqrt() + (1.0 + z2 * z2).sqrt()),
            ),
            Shape::Triangular { h, w } => {
                let z = w / 2.0 / h;
                (z * y * y, 2.0 * y * (1.0 + z * z).sqrt())
            }
            Shape::Transect(t) => return t.area_radius(y),
            Shape::Profile(p) => return p.area_radius(y),
            Shape::Tab(t) => return t.area_radius(y),
        };
        (a, if p > 0.0 { a / p } else { 0.0 })
    }

    /// Normal flow per unit √slope / n at depth `y`: A·R^(2/3).
    pub fn section_factor(&self, y: f64) -> f64 {
        let (a, r) = self.area_radius(y);
        a * r.powf(2.0 / 3.0)
    }

    /// The largest section factor over all depths relative to the full one (1.076 for a
    /// circle, whose flow peaks at 94 % of its depth).
    pub fn peak_ratio(&self) -> f64 {
        let full = self.section_factor(self.full_depth());
        if full <= 0.0 {
            return 1.0;
        }
        let max = (1..=100)
            .map(|i| self.section_factor(self.full_depth() * i as f64 / 100.0))
            .fold(0.0, f64::max);
        (max / full).max(1.0)
    }
}

impl Transect {
    fn area_radius(&self, y: f64) -> (f64, f64) {
        let level = self.bottom_m + y;
        // Area and wetted perimeter per zone: left overbank, channel, right overbank.
        let mut zone = [(0.0f64, 0.0f64); 3];
        for w in self.stations.windows(2) {
            let ((x0, e0), (x1, e1)) = (w[0], w[1]);
            let (lo, hi) = (e0.min(e1), e0.max(e1));
            if lo >= level {
                continue;
            }
            let width = (x1 - x0).abs();
            let side = (width * width + (hi - lo) * (hi - lo)).sqrt();
            let (a, p) = if level >= hi {
                (width * ((level - hi) + (level - lo)) / 2.0, side)
            } else {
                let f = (level - lo) / (hi - lo);
                (width * (hi - lo) / 2.0 * f * f, side * f)
            };
            let mid = (x0 + x1) / 2.0;
            let k = if mid < self.left_bank_m {
                0
            } else if mid > self.right_bank_m {
                2
            } else {
                1
            };
            zone[k].0 += a;
            zone[k].1 += p;
        }
        let n = [self.n_left, self.n_channel, self.n_right];
        let area: f64 = zone.iter().map(|z| z.0).sum();
        let conveyance: f64 = zone
            .iter()
            .zip(n)
            .filter(|(z, _)| z.0 > 0.0 && z.1 > 0.0)
            .map(|(z, n)| z.0 * (z.0 / z.1).powf(2.0 / 3.0) / n)
            .sum();
        if area <= 0.0 {
            return (0.0, 0.0);
        }
        (area, (conveyance * self.n_channel / area).powf(1.5))
    }
}

/// Read `[TRANSECTS]` into transects by upper-cased name.
pub(super) fn read_transects(
    p: &Parser,
    units: Units,
) -> Result<HashMap<String, Transect>, OverflowError> {
    struct Building {
        name: String,
        line: usize,
        n: [f64; 3],
        banks: (f64, f64),
        length_factor: f64,
        x_factor: f64,
        y_offset: f64,
        points: Vec<(f64, f64)>,
    }
    let mut out = HashMap::new();
    let mut n = [0.0f64; 3];
    let mut cur: Option<Building> = None;
    let finish = |b: Building, out: &mut HashMap<String, Transect>| -> Result<(), OverflowError> {
        let t = build_transect(p, &b.name, b.line, b.n, b.banks, b.length_factor, b.points)?;
        out.insert(b.name.to_ascii_uppercase(), t);
        Ok(())
    };
    for l in p.section("TRANSECTS") {
        let key = l.tokens[0].to_ascii_uppercase();
        match key.as_str() {
            "NC" => {
                if let Some(b) = cur.take() {
                    finish(b, &mut out)?;
                }
                // NC nLeft nRight nChannel (HEC-2 order, as SWMM reads it); `n` is
                // kept as [left, channel, right].
                for (k, slot) in [0usize, 2, 1].into_iter().enumerate() {
                    let slot = &mut n[slot];
                    let v = p.num(l, k + 1, "Manning's n")?;
                    if v < 0.0 {
                        return Err(p.err(l.no, "[TRANSECTS] Manning's n must not be negative"));
                    }
                    if v > 0.0 {
                        *slot = v;
                    }
                }
            }
            "X1" => {
                if let Some(b) = cur.take() {
                    finish(b, &mut out)?;
                }
                let name = p.tok(l, 1, "transect name")?.to_string();
                let xf = match p.num_or(l, 8, 0.0, "station factor")? {
                    0.0 => 1.0,
                    v => v,
                };
                let lf = match p.num_or(l, 7, 0.0, "meander modifier")? {
                    0.0 => 1.0,
                    v => v,
                };
                let mut nn = n;
                if nn[1] <= 0.0 {
                    return Err(p.err(
                        l.no,
                        format!(
                            "transect '{name}': no main-channel Manning's n (NC line) before it"
                        ),
                    ));
                }
                for k in [0, 2] {
                    if nn[k] <= 0.0 {
                        nn[k] = nn[1];
                    }
                }
                cur = Some(Building {
                    name,
                    line: l.no,
                    n: nn,
                    banks: (
                        p.num(l, 3, "left bank station")? * xf * units.length(),
                        p.num(l, 4, "right bank station")? * xf * units.length(),
                    ),
                    length_factor: lf,
                    x_factor: xf,
                    y_offset: p.num_or(l, 9, 0.0, "elevation offset")?,
                    points: Vec::new(),
                });
            }
            "GR" => {
                let b = cur
                    .as_mut()
                    .ok_or_else(|| p.err(l.no, "[TRANSECTS] GR line before any X1 line"))?;
                if (l.tokens.len() - 1) % 2 != 0 {
                    return Err(p.err(l.no, "GR line: elevation–station values come in pairs"));
                }
                for k in (1..l.tokens.len()).step_by(2) {
                    let e = (p.num(l, k, "GR elevation")? + b.y_offset) * units.length();
                    let x = p.num(l, k + 1, "GR station")? * b.x_factor * units.length();
                    if b.points.last().is_some_and(|&(x0, _)| x < x0) {
                        return Err(p.err(
                            l.no,
                            format!("transect '{}': station {x} decreases", b.name),
                        ));
                    }
                    b.points.push((x, e));
                }
            }
            other => {
                return Err(p.err(
                    l.no,
                    format!("[TRANSECTS] line starts with '{other}', not NC, X1 or GR"),
                ))
            }
        }
    }
    if let Some(b) = cur.take() {
        finish(b, &mut out)?;
    }
    Ok(out)
}

fn build_transect(
    p: &Parser,
    name: &str,
    line: usize,
    n: [f64; 3],
    banks: (f64, f64),
    length_factor: f64,
    mut points: Vec<(f64, f64)>,
) -> Result<Transect, OverflowError> {
    if points.len() < 2 {
        return Err(p.err(line, format!("transect '{name}' has fewer than 2 stations")));
    }
    if banks.0 > banks.1 {
        return Err(p.err(
            line,
            format!("transect '{name}': left bank is right of the right bank"),
        ));
    }
    let top = points.iter().map(|q| q.1).fold(f64::NEG_INFINITY, f64::max);
    let bottom = points.iter().map(|q| q.1).fold(f64::INFINITY, f64::min);
    if top <= bottom {
        return Err(p.err(line, format!("transect '{name}' has no depth")));
    }
    // Vertical walls to the top at both ends.
    let (x0, xn) = (points[0].0, points[points.len() - 1].0);
    points.insert(0, (x0, top));
    points.push((xn, top));
    Ok(Transect {
        stations: points,
        n_left: n[0],
        n_right: n[2],
        // The main channel's n is raised so that its length matches the flood plain's.
        n_channel: n[1],
        left_bank_m: banks.0,
        right_bank_m: banks.1,
        length_factor,
        bottom_m: bottom,
        depth_m: top - bottom,
    })
}

/// What a cross-section may refer to by name: transects (IRREGULAR) and SHAPE curves
/// (CUSTOM).
pub(super) struct Outlines<'a> {
    pub transects: &'a HashMap<String, Transect>,
    pub curves: &'a HashMap<String, Curve>,
}

/// The shape of an `[XSECTIONS]` row; `None` for DUMMY. Every shape SWMM 5 lists is built:
/// the analytic ones by formula or outline, CUSTOM from its SHAPE curve, the others from
/// SWMM's tables ([`super::shapes`]).
pub(super) fn read_shape(
    p: &Parser,
    x: &Line,
    units: Units,
    outlines: &Outlines,
) -> Result<Option<Shape>, OverflowError> {
    let shape = x
        .tokens
        .get(1)
        .map(|s| s.to_ascii_uppercase())
        .unwrap_or_default();
    if shape == "DUMMY" {
        return Ok(None);
    }
    if shape == "IRREGULAR" {
        let id = p.tok(x, 2, "transect name")?;
        let t = outlines
            .transects
            .get(&id.to_ascii_uppercase())
            .ok_or_else(|| {
                p.err(
                    x.no,
                    format!("IRREGULAR cross-section: transect '{id}' is not in [TRANSECTS]"),
                )
            })?;
        return Ok(Some(Shape::Transect(Box::new(t.clone()))));
    }
    if shape == "CUSTOM" {
        return read_custom(p, x, units, outlines.curves).map(Some);
    }
    let g1 = p.num(x, 2, "geom1")? * units.length();
    let g2 = p.num_or(x, 3, 0.0, "geom2")? * units.length();
    // geom3 as written: a depth, radius, exponent or size code by shape.
    let g3 = p.num_or(x, 4, 0.0, "geom3")?;
    let bad = |what: &str| p.err(x.no, format!("cross-section of '{}': {what}", x.tokens[0]));
    if g1 <= 0.0 {
        return Err(bad("geom1 (diameter or depth) must be positive"));
    }
    if g2 < 0.0 {
        return Err(bad("geom2 must not be negative"));
    }
    Ok(Some(match shape.as_str() {
        "CIRCULAR" | "FORCE_MAIN" => Shape::Circular { d: g1 },
        "RECT_CLOSED" | "RECT_OPEN" if g2 <= 0.0 => {
            return Err(bad("geom2 (width) must be positive"))
        }
        "RECT_CLOSED" => Shape::RectClosed { h: g1, w: g2 },
        "RECT_OPEN" => Shape::RectOpen { h: g1, w: g2 },
        "TRAPEZOIDAL" => {
            let z1 = p.num_or(x, 4, 0.0, "geom3")?;
            let z2 = p.num_or(x, 5, 0.0, "geom4")?;
            if z1 < 0.0 || z2 < 0.0 || g2 + z1 + z2 <= 0.0 {
                return Err(bad(
                    "side slopes must not be negative and the channel must have a width",
                ));
            }
            Shape::Trapezoidal {
                h: g1,
                w: g2,
                z1,
                z2,
            }
        }
        "TRIANGULAR" if g2 > 0.0 => Shape::Triangular { h: g1, w: g2 },
        "TRIANGULAR" => return Err(bad("geom2 (top width) must be positive")),
        "RECT_TRIANGULAR" | "RECT_ROUND" | "MODBASKETHANDLE" if g2 <= 0.0 => {
            return Err(bad("geom2 (width) must be positive"))
        }
        "RECT_TRIANGULAR" => {
            let yb = g3 * units.length();
            if yb <= 0.0 || yb > g1 {
                return Err(bad(
                    "geom3 (triangle height) must be positive and within geom1",
                ));
            }
            Shape::Profile(Box::new(Profile::rect_triang(g1, g2, yb)))
        }
        "RECT_ROUND" | "MODBASKETHANDLE" => {
            // The radius is at least half the width (SWMM raises it so).
            let r = (g3 * units.length()).max(g2 / 2.0);
            let yb = r * (1.0 - (g2 / 2.0 / r).asin().cos());
            if yb > g1 {
                return Err(bad("the rounded part is deeper than geom1"));
            }
            Shape::Profile(Box::new(if shape == "RECT_ROUND" {
                Profile::rect_round(g1, g2, r)
            } else {
                Profile::mod_basket(g1, g2, r)
            }))
        }
        "FILLED_CIRCULAR" => {
            if g2 >= g1 {
                return Err(bad("geom2 (filled depth) must be less than the diameter"));
            }
            Shape::Profile(Box::new(Profile::filled_circle(g1, g2)))
        }
        "PARABOLIC" | "POWER" if g2 <= 0.0 => {
            return Err(bad("geom2 (top width) must be positive"))
        }
        "PARABOLIC" => Shape::Profile(Box::new(Profile::power(g1, g2, 2.0))),
        "POWER" => {
            if g3 <= 0.0 {
                return Err(bad("geom3 (exponent) must be positive"));
            }
            Shape::Profile(Box::new(Profile::power(g1, g2, g3)))
        }
        other => {
            let Some(kind) = Tabulated::from_keyword(other) else {
                return Err(bad(&format!("shape {other} is not one SWMM 5 defines")));
            };
            // A standard pipe size code: geom3, or geom1 when geom2 is 0 (SWMM).
            let code = match kind {
                Tabulated::HorizEllipse | Tabulated::VertEllipse | Tabulated::Arch => {
                    if g2 <= 0.0 {
                        p.num(x, 2, "geom1")?
                    } else {
                        g3
                    }
                }
                _ => 0.0,
            };
            Shape::Tab(Box::new(TabShape::new(kind, g1, g2, code).map_err(bad)?))
        }
    }))
}

/// `Link CUSTOM FullDepth ShapeCurve …`: a closed conduit outlined by a SHAPE curve.
fn read_custom(
    p: &Parser,
    x: &Line,
    units: Units,
    curves: &HashMap<String, Curve>,
) -> Result<Shape, OverflowError> {
    let h = p.num(x, 2, "geom1 (full depth)")? * units.length();
    let bad = |what: String| p.err(x.no, format!("cross-section of '{}': {what}", x.tokens[0]));
    if h <= 0.0 {
        return Err(bad("geom1 (full depth) must be positive".into()));
    }
    let name = p.tok(x, 3, "shape curve name")?;
    let curve = curves
        .get(&name.to_ascii_uppercase())
        .ok_or_else(|| bad(format!("CUSTOM: curve '{name}' is not in [CURVES]")))?;
    if curve.kind != "SHAPE" {
        return Err(bad(format!(
            "CUSTOM: curve '{name}' is a {} curve, not a SHAPE curve",
            if curve.kind.is_empty() {
                "typeless"
            } else {
                &curve.kind
            }
        )));
    }
    let profile = Profile::custom(h, &curve.points)
        .map_err(|e| bad(format!("CUSTOM, curve '{name}': {e}")))?;
    Ok(Shape::Profile(Box::new(profile)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circle_half_full_and_full() {
        let c = Shape::Circular { d: 2.0 };
        let (a, r) = c.area_radius(1.0);
        assert!((a - std::f64::consts::PI / 2.0).abs() < 1e-12);
        assert!((r - 0.5).abs() < 1e-12);
        let (a, r) = c.area_radius(2.0);
        assert!((a - std::f64::consts::PI).abs() < 1e-12);
        assert!((r - 0.5).abs() < 1e-12);
        // The textbook 1.076 peak of a circular pipe's normal flow (at 0.938 d).
        assert!((c.peak_ratio() - 1.076).abs() < 2e-3, "{}", c.peak_ratio());
    }

    #[test]
    fn analytic_outlines_have_swmms_full_values() {
        // RECT_TRIANG 2 m high, 1.5 m wide, 0.5 m triangle (SWMM xsect_setParams):
        // A = w(h − yb/2), P = 2·yb·√(1 + (w/2yb)²) + 2(h − yb) + w.
        let (h, w, yb) = (2.0f64, 1.5f64, 0.5f64);
        let s = Shape::Profile(Box::new(Profile::rect_triang(h, w, yb)));
        let (a, r) = s.area_radius(h);
        let z = w / yb / 2.0;
        let p = 2.0 * yb * (1.0 + z * z).sqrt() + 2.0 * (h - yb) + w;
        assert!((a - w * (h - yb / 2.0)).abs() < 1e-6, "{a}");
        assert!((r - a / p).abs() < 1e-5, "{r}");
        // PARABOLIC: A = 2/3·h·w.
        let s = Shape::Profile(Box::new(Profile::power(1.0, 3.0, 2.0)));
        assert!((s.area_radius(1.0).0 - 2.0).abs() < 1e-3);
        // MODBASKETHANDLE with the radius half the width: a box under a half circle.
        let s = Shape::Profile(Box::new(Profile::mod_basket(2.0, 1.0, 0.5)));
        let full = 1.5 + std::f64::consts::PI / 8.0;
        assert!((s.area_radius(2.0).0 - full).abs() < 1e-4);
        // FILLED_CIRCULAR filled to half: the upper half circle, its flat bottom counted
        // as SWMM does, at the circle's width at 2·1/(2 + 1) of its depth: 2·2·√(2/9).
        let s = Shape::Profile(Box::new(Profile::filled_circle(2.0, 1.0)));
        let (a, r) = s.area_radius(1.0);
        let pi = std::f64::consts::PI;
        let bottom = 4.0 * (2.0f64 / 9.0).sqrt();
        assert!((a - pi / 2.0).abs() < 1e-4 && (r - (pi / 2.0) / (pi + bottom)).abs() < 1e-4);
        // SWMM's full values for 0.2 m in a 1.2 m pipe (its xsect_setParams, by hand):
        // A = 1.1310 − 0.1239, P = 1.2π − 1.0093 + 1.0844.
        let s = Shape::Profile(Box::new(Profile::filled_circle(1.2, 0.2)));
        let (a, r) = s.area_radius(1.0);
        assert!(
            (a - 1.0071).abs() < 1e-3 && (r - 1.0071 / 3.8449).abs() < 1e-3,
            "{a} {r}"
        );
    }

    #[test]
    fn custom_shapes_follow_their_curve() {
        // A square box as a SHAPE curve: A = h·y, P = h + 2y (+ h at the crown).
        let h = 1.5;
        let s = Shape::Profile(Box::new(
            Profile::custom(h, &[(0.0, 1.0), (1.0, 1.0)]).expect("valid"),
        ));
        let (a, r) = s.area_radius(h / 2.0);
        assert!(
            (a - h * h / 2.0).abs() < 1e-9 && (r - h / 4.0).abs() < 1e-9,
            "{a} {r}"
        );
        let (a, r) = s.area_radius(h);
        assert!(
            (a - h * h).abs() < 1e-9 && (r - h / 4.0).abs() < 1e-9,
            "{a} {r}"
        );
        assert!(s.is_closed());
        // First point above the invert: the width grows from 0 there (SWMM's shape.c), then
        // stays at the last point's width: a triangle under a rectangle.
        let s = Shape::Profile(Box::new(Profile::custom(h, &[(0.5, 1.0)]).expect("valid")));
        let (a, r) = s.area_radius(h);
        let p = 2.0 * (0.5f64 * 0.5 + 0.5 * 0.5).sqrt() * h + h + h;
        assert!((a - 0.75 * h * h).abs() < 1e-9, "{a}");
        assert!((r - 0.75 * h * h / p).abs() < 1e-9, "{r}");
        // What SWMM refuses.
        for bad in [
            &[][..],
            &[(1.0, 1.0)][..],
            &[(0.0, 1.0), (0.5, -0.1)][..],
            &[(0.0, 1.0), (0.6, 1.0), (0.4, 1.0)][..],
            &[(0.0, 0.0), (1.0, 0.0)][..],
        ] {
            assert!(Profile::custom(h, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rectangular_transect_matches_the_open_rectangle() {
        // A 4 m wide, 2 m deep rectangular channel written as a transect, one roughness.
        let t = Transect {
            stations: vec![(0.0, 12.0), (0.0, 10.0), (4.0, 10.0), (4.0, 12.0)],
            n_left: 0.03,
            n_right: 0.03,
            n_channel: 0.03,
            left_bank_m: 0.0,
            right_bank_m: 4.0,
            length_factor: 1.0,
            bottom_m: 10.0,
            depth_m: 2.0,
        };
        let s = Shape::Transect(Box::new(t));
        let r = Shape::RectOpen { h: 2.0, w: 4.0 };
        for y in [0.3, 1.0, 2.0] {
            let (a1, r1) = s.area_radius(y);
            let (a2, r2) = r.area_radius(y);
            assert!(
                (a1 - a2).abs() < 1e-9 && (r1 - r2).abs() < 1e-9,
                "{y}: {a1} {r1} vs {a2} {r2}"
            );
        }
    }
}
