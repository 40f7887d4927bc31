//! Link sections with their `[XSECTIONS]`: `[CONDUITS]` (lag = travel time at full-flow
//! velocity, capacity = full-flow Manning capacity), `[PUMPS]`, `[ORIFICES]`, `[WEIRS]`
//! and `[OUTLETS]`.

use super::nodes::NodeTable;
use super::parser::{Line, Parser, Units};
use super::tables::Curve;
use crate::network::{Link, LinkKind, PumpCurve, WeirShape};
use crate::OverflowError;
use std::collections::HashMap;

/// The links in file order (conduits, pumps, orifices, weirs, outlets).
pub(super) struct LinkTable {
    pub links: Vec<Link>,
    pub index: HashMap<String, usize>,
    /// Full-flow capacity of each conduit, m³/s (an OVERFLOW divider diverts above it).
    pub q_full: HashMap<String, f64>,
    /// The line that defines each link.
    pub lines: Vec<usize>,
}

impl LinkTable {
    /// Every link section starts `Name From To`.
    fn push(
        &mut self,
        p: &Parser,
        nodes: &NodeTable,
        l: &Line,
        kind: LinkKind,
        setting: f64,
    ) -> Result<(), OverflowError> {
        let name = p.tok(l, 0, "name")?.to_string();
        if self.index.contains_key(&name) {
            return Err(p.err(l.no, format!("link '{name}' is defined twice")));
        }
        let from = nodes.node_of(p, l, 1, "inlet node")?;
        let to = nodes.node_of(p, l, 2, "outlet node")?;
        if from == to {
            return Err(p.err(
                l.no,
                format!(
                    "link '{name}' leaves and enters the same node '{}'",
                    l.tokens[1]
                ),
            ));
        }
        self.index.insert(name.clone(), self.links.len());
        self.lines.push(l.no);
        self.links.push(Link {
            name,
            from,
            to,
            kind,
            setting,
        });
        Ok(())
    }
}

/// Everything a link reader may look up.
struct Context<'a> {
    p: &'a Parser<'a>,
    units: Units,
    curves: &'a HashMap<String, Curve>,
    nodes: &'a NodeTable,
    xsect: HashMap<String, &'a Line>,
}

pub(super) fn read_links(
    p: &Parser,
    units: Units,
    curves: &HashMap<String, Curve>,
    nodes: &NodeTable,
) -> Result<LinkTable, OverflowError> {
    let mut xsect: HashMap<String, &Line> = HashMap::new();
    for l in p.section("XSECTIONS") {
        xsect.insert(l.tokens[0].clone(), l);
    }
    let cx = Context {
        p,
        units,
        curves,
        nodes,
        xsect,
    };
    let mut t = LinkTable {
        links: Vec::new(),
        index: HashMap::new(),
        q_full: HashMap::new(),
        lines: Vec::new(),
    };
    for l in p.section("CONDUITS") {
        let kind = conduit(&cx, l, &mut t.q_full)?;
        t.push(p, nodes, l, kind, 1.0)?;
    }
    for l in p.section("PUMPS") {
        let (kind, setting) = pump(&cx, l)?;
        t.push(p, nodes, l, kind, setting)?;
    }
    for l in p.section("ORIFICES") {
        let kind = orifice(&cx, l)?;
        t.push(p, nodes, l, kind, 1.0)?;
    }
    for l in p.section("WEIRS") {
        let kind = weir(&cx, l)?;
        t.push(p, nodes, l, kind, 1.0)?;
    }
    for l in p.section("OUTLETS") {
        let kind = outlet(&cx, l)?;
        t.push(p, nodes, l, kind, 1.0)?;
    }
    Ok(t)
}

fn conduit(
    cx: &Context,
    l: &Line,
    q_full_of: &mut HashMap<String, f64>,
) -> Result<LinkKind, OverflowError> {
    let (p, units) = (cx.p, cx.units);
    let name = p.tok(l, 0, "name")?.to_string();
    let from = cx.nodes.node_of(p, l, 1, "inlet node")?;
    let to = cx.nodes.node_of(p, l, 2, "outlet node")?;
    let length = p.num(l, 3, "length")? * units.length();
    let n = p.num(l, 4, "roughness")?;
    let in_off = p.num_or(l, 5, 0.0, "inlet offset")? * units.length();
    let out_off = p.num_or(l, 6, 0.0, "outlet offset")? * units.length();
    let max_flow = p.num_or(l, 8, 0.0, "maximum flow")? * units.flow;
    // SWMM refuses these too (its errors 111 and 119).
    if length <= 0.0 || n <= 0.0 {
        return Err(p.err(
            l.no,
            format!("conduit '{name}': length and roughness must be positive"),
        ));
    }
    let x = cx
        .xsect
        .get(&name)
        .ok_or_else(|| p.err(l.no, format!("conduit '{name}' has no [XSECTIONS] row")))?;
    let (area, radius, peak, barrels) = cross_section(p, x, units)?;
    let (lag_s, capacity) = if area > 0.0 && length > 0.0 && n > 0.0 {
        let drop = cx.nodes.invert[from] + in_off - cx.nodes.invert[to] - out_off;
        let mut slope = drop / length;
        if slope < 1e-4 {
            p.note("conduits with a slope under 0.0001 use 0.0001 for their full-flow capacity and travel time".into());
            slope = 1e-4;
        }
        let q_full = area / n * radius.powf(2.0 / 3.0) * slope.sqrt();
        let v_full = q_full / area;
        q_full_of.insert(name.clone(), q_full * barrels);
        crate::limits::check_lag(length / v_full, "travel time at full flow")
            .map_err(|m| p.err(l.no, format!("conduit '{name}': {m}")))?;
        (length / v_full, q_full * peak * barrels)
    } else {
        (0.0, f64::INFINITY)
    };
    let capacity = if max_flow > 0.0 {
        capacity.min(max_flow)
    } else {
        capacity
    };
    Ok(LinkKind::Conduit {
        capacity_m3_per_s: capacity,
        lag_s,
        reservoir_s: 0.0,
    })
}

/// A conduit's full area (m²), hydraulic radius (m), the ratio of its peak to its
/// full-flow capacity and its number of barrels, from its `[XSECTIONS]` row.
fn cross_section(
    p: &Parser,
    x: &Line,
    units: Units,
) -> Result<(f64, f64, f64, f64), OverflowError> {
    let shape = x
        .tokens
        .get(1)
        .map(|s| s.to_ascii_uppercase())
        .unwrap_or_default();
    let g1 = p.num(x, 2, "geom1")? * units.length();
    let g2 = p.num_or(x, 3, 0.0, "geom2")? * units.length();
    let barrels = p.num_or(x, 6, 1.0, "barrels")?.max(1.0);
    let positive = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(p.err(x.no, format!("cross-section of '{}': {what}", x.tokens[0])))
        }
    };
    if shape != "DUMMY" {
        positive(g1 > 0.0, "geom1 (diameter or depth) must be positive")?;
        positive(g2 >= 0.0, "geom2 must not be negative")?;
    }
    if shape.starts_with("RECT") {
        positive(g2 > 0.0, "geom2 (width) must be positive")?;
    }
    let (area, radius, peak) = match shape.as_str() {
        "CIRCULAR" | "FORCE_MAIN" | "CIRCULAR_ANY" => {
            (std::f64::consts::PI * g1 * g1 / 4.0, g1 / 4.0, 1.076)
        }
        "RECT_CLOSED" => (g1 * g2, g1 * g2 / (2.0 * (g1 + g2)), 1.0),
        "RECT_OPEN" => (g1 * g2, g1 * g2 / (2.0 * g1 + g2), 1.0),
        "TRAPEZOIDAL" => {
            let z1 = p.num_or(x, 4, 0.0, "geom3")?;
            let z2 = p.num_or(x, 5, 0.0, "geom4")?;
            positive(
                z1 >= 0.0 && z2 >= 0.0 && g2 + z1 + z2 > 0.0,
                "side slopes must not be negative and the channel must have a width",
            )?;
            let a = g1 * (g2 + (z1 + z2) * g1 / 2.0);
            let per = g2 + g1 * ((1.0 + z1 * z1).sqrt() + (1.0 + z2 * z2).sqrt());
            (a, a / per, 1.0)
        }
        "DUMMY" => (0.0, 0.0, 1.0),
        other => {
            p.note(format!(
                "cross-section shape {other} approximated as a rectangle of geom1 × geom2 (or a circle when geom2 is 0)"
            ));
            if g2 > 0.0 {
                (g1 * g2, g1 * g2 / (2.0 * (g1 + g2)), 1.0)
            } else {
                (std::f64::consts::PI * g1 * g1 / 4.0, g1 / 4.0, 1.0)
            }
        }
    };
    Ok((area, radius, peak, barrels))
}

/// A pump and its initial setting (0 when its status is OFF).
fn pump(cx: &Context, l: &Line) -> Result<(LinkKind, f64), OverflowError> {
    let (p, units) = (cx.p, cx.units);
    let curve_name = p.tok(l, 3, "pump curve")?;
    let status = l.tokens.get(4).map(|s| s.to_ascii_uppercase());
    let startup = p.num_or(l, 5, 0.0, "startup depth")? * units.length();
    let shutoff = p.num_or(l, 6, 0.0, "shutoff depth")? * units.length();
    let curve = if curve_name == "*" {
        PumpCurve::Ideal
    } else {
        let c = cx
            .curves
            .get(&curve_name.to_ascii_uppercase())
            .ok_or_else(|| {
                p.err(
                    l.no,
                    format!("pump curve '{curve_name}' is not in [CURVES]"),
                )
            })?;
        let flow = |pts: &[(f64, f64)], xf: f64| -> Vec<(f64, f64)> {
            pts.iter().map(|&(x, y)| (x * xf, y * units.flow)).collect()
        };
        match c.kind.as_str() {
            "PUMP1" => PumpCurve::VolumeSteps(flow(&c.points, units.length().powi(3))),
            "PUMP2" => PumpCurve::DepthSteps(flow(&c.points, units.length())),
            "PUMP4" => PumpCurve::Depth(flow(&c.points, units.length())),
            "PUMP3" => {
                p.note("TYPE3 (head-flow) pump curves are taken at their largest flow".into());
                PumpCurve::Constant(c.points.iter().map(|pt| pt.1).fold(0.0, f64::max) * units.flow)
            }
            "PUMP5" => {
                p.note("TYPE5 pump curves are taken at their largest flow".into());
                PumpCurve::Constant(c.points.iter().map(|pt| pt.1).fold(0.0, f64::max) * units.flow)
            }
            other => {
                return Err(p.err(
                    l.no,
                    format!("curve '{curve_name}' is of type {other}, not a pump curve"),
                ))
            }
        }
    };
    let setting = if status.as_deref() == Some("OFF") {
        0.0
    } else {
        1.0
    };
    Ok((
        LinkKind::Pump {
            curve,
            startup_m: startup,
            shutoff_m: shutoff,
        },
        setting,
    ))
}

fn orifice(cx: &Context, l: &Line) -> Result<LinkKind, OverflowError> {
    let (p, units) = (cx.p, cx.units);
    let name = p.tok(l, 0, "name")?.to_string();
    let bottom = p.tok(l, 3, "orifice type")?.eq_ignore_ascii_case("BOTTOM");
    let offset = p.num(l, 4, "offset")? * units.length();
    let coeff = p.num(l, 5, "discharge coefficient")?;
    let x = cx
        .xsect
        .get(&name)
        .ok_or_else(|| p.err(l.no, format!("orifice '{name}' has no [XSECTIONS] row")))?;
    let shape = x
        .tokens
        .get(1)
        .map(|s| s.to_ascii_uppercase())
        .unwrap_or_default();
    let g1 = p.num(x, 2, "geom1")? * units.length();
    let (height, width) = if shape == "CIRCULAR" {
        // Same area as the circle, same height.
        (g1, std::f64::consts::PI * g1 / 4.0)
    } else {
        (g1, p.num(x, 3, "geom2")? * units.length())
    };
    if !(height > 0.0 && width > 0.0) {
        return Err(p.err(
            x.no,
            format!("orifice '{name}': its opening (geom1, geom2) must be positive"),
        ));
    }
    Ok(LinkKind::Orifice {
        bottom,
        offset_m: offset,
        height_m: height,
        width_m: width,
        coeff,
    })
}

fn weir(cx: &Context, l: &Line) -> Result<LinkKind, OverflowError> {
    let (p, units) = (cx.p, cx.units);
    let name = p.tok(l, 0, "name")?.to_string();
    let kind = p.tok(l, 3, "weir type")?.to_ascii_uppercase();
    let crest = p.num(l, 4, "crest height")? * units.length();
    let coeff = p.num(l, 5, "discharge coefficient")?;
    let x = cx
        .xsect
        .get(&name)
        .ok_or_else(|| p.err(l.no, format!("weir '{name}' has no [XSECTIONS] row")))?;
    let height = p.num(x, 2, "geom1")? * units.length();
    let width = p.num_or(x, 3, 0.0, "geom2")? * units.length();
    if !(height > 0.0 && width > 0.0) {
        return Err(p.err(
            x.no,
            format!("weir '{name}': its opening height and length (geom1, geom2) must be positive"),
        ));
    }
    let (shape, exp) = match kind.as_str() {
        "TRANSVERSE" => (WeirShape::Transverse, 2.5),
        "SIDEFLOW" => (WeirShape::SideFlow, 8.0 / 3.0),
        "V-NOTCH" => (WeirShape::VNotch, 2.5),
        "TRAPEZOIDAL" => (WeirShape::Trapezoidal, 2.5),
        other => return Err(p.err(l.no, format!("weir type '{other}' is not supported"))),
    };
    let (length, slope_tan) = match shape {
        WeirShape::VNotch => (
            0.0,
            if height > 0.0 {
                width / 2.0 / height
            } else {
                0.0
            },
        ),
        WeirShape::Trapezoidal => {
            let z = p.num_or(x, 4, 0.0, "side slope")?;
            (width, z)
        }
        _ => (width, 0.0),
    };
    let coeff2 = p.num_or(l, 9, coeff, "end coefficient")? * units.weir_coeff(2.5);
    Ok(LinkKind::Weir {
        shape,
        crest_m: crest,
        coeff: coeff * units.weir_coeff(exp),
        length_m: length,
        slope_tan,
        coeff2,
    })
}

fn outlet(cx: &Context, l: &Line) -> Result<LinkKind, OverflowError> {
    let (p, units) = (cx.p, cx.units);
    let offset = p.num(l, 3, "offset")? * units.length();
    let kind = p.tok(l, 4, "rating type")?.to_ascii_uppercase();
    let (c1, c2, table) = if kind.starts_with("TABULAR") {
        let cname = p.tok(l, 5, "rating curve")?;
        let c = cx
            .curves
            .get(&cname.to_ascii_uppercase())
            .ok_or_else(|| p.err(l.no, format!("rating curve '{cname}' is not in [CURVES]")))?;
        let pts = c
            .points
            .iter()
            .map(|&(h, q)| (h * units.length(), q * units.flow))
            .collect();
        (0.0, 0.0, Some(pts))
    } else {
        let c1 = p.num(l, 5, "coefficient")?;
        let c2 = p.num(l, 6, "exponent")?;
        (c1 * units.flow / units.length().powf(c2), c2, None)
    };
    if kind.ends_with("HEAD") {
        p.note("outlet rating by head is applied to the depth of the inlet node".into());
    }
    Ok(LinkKind::Outlet {
        offset_m: offset,
        c1,
        c2,
        table,
    })
}
