//! Link sections with their `[XSECTIONS]`: `[CONDUITS]` (lag = travel time at full-flow
//! velocity, capacity = full-flow Manning capacity), `[PUMPS]`, `[ORIFICES]`, `[WEIRS]`
//! and `[OUTLETS]`.

use super::nodes::NodeTable;
use super::parser::{Line, Parser, Units};
use super::tables::Curve;
use super::xsect::{read_shape, Outlines, Shape, Transect};
use crate::network::{FlowRouting, Link, LinkKind, NodeKind, PumpCurve, StorageInlet, WeirShape};
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
    transects: &'a HashMap<String, Transect>,
    /// `LINK_OFFSETS ELEVATION`: offsets and crest heights are elevations, not depths.
    elevation_offsets: bool,
    routing: FlowRouting,
}

impl Context<'_> {
    /// A link's offset above its node's invert, m, from field `k` (depth or elevation as
    /// `LINK_OFFSETS` says; an elevation below the invert is taken as 0, as SWMM does).
    fn offset(&self, l: &Line, k: usize, node: usize, what: &str) -> Result<f64, OverflowError> {
        let missing = l.tokens.get(k).is_none_or(|t| t == "*");
        let v = self.p.num_or(l, k, 0.0, what)? * self.units.length();
        if !self.elevation_offsets {
            return Ok(v);
        }
        if missing {
            return Ok(0.0);
        }
        let h = v - self.nodes.invert[node];
        if h < -0.001 {
            self.p.note(format!(
                "LINK_OFFSETS ELEVATION: offsets below their node's invert are taken as 0 (first at line {})",
                l.no
            ));
        }
        Ok(h.max(0.0))
    }
}

pub(super) fn read_links(
    p: &Parser,
    units: Units,
    curves: &HashMap<String, Curve>,
    nodes: &NodeTable,
    elevation_offsets: bool,
    routing: FlowRouting,
) -> Result<LinkTable, OverflowError> {
    let transects = super::xsect::read_transects(p, units)?;
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
        transects: &transects,
        elevation_offsets,
        routing,
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
    let mut n = p.num(l, 4, "roughness")?;
    let in_off = cx.offset(l, 5, from, "inlet offset")?;
    let out_off = cx.offset(l, 6, to, "outlet offset")?;
    let max_flow = p.num_or(l, 8, 0.0, "maximum flow")? * units.flow;
    let x = cx
        .xsect
        .get(&name)
        .ok_or_else(|| p.err(l.no, format!("conduit '{name}' has no [XSECTIONS] row")))?;
    let barrels = p.num_or(x, 6, 1.0, "barrels")?.max(1.0);
    let Some(shape) = read_shape(
        p,
        x,
        units,
        &Outlines {
            transects: cx.transects,
            curves: cx.curves,
        },
    )?
    else {
        return Ok(LinkKind::Conduit {
            capacity_m3_per_s: if max_flow > 0.0 {
                max_flow
            } else {
                f64::INFINITY
            },
            lag_s: 0.0,
            reservoir_s: 0.0,
            inlet: None,
            kinwave: None,
        });
    };
    if let Shape::Transect(t) = &shape {
        // SWMM takes an irregular conduit's roughness from its transect.
        n = t.n_channel * t.length_factor.sqrt();
    }
    // SWMM refuses these too (its errors 111 and 119), after taking an irregular
    // conduit's roughness from its transect.
    if length <= 0.0 || n <= 0.0 {
        return Err(p.err(
            l.no,
            format!("conduit '{name}': length and roughness must be positive"),
        ));
    }
    let drop = cx.nodes.invert[from] + in_off - cx.nodes.invert[to] - out_off;
    let mut slope = drop / length;
    if slope < 1e-4 {
        p.note("conduits with a slope under 0.0001 use 0.0001 for their full-flow capacity and travel time".into());
        slope = 1e-4;
    }
    let beta = slope.sqrt() / n;
    let y_full = shape.full_depth();
    let (area, _) = shape.area_radius(y_full);
    let q_full = beta * shape.section_factor(y_full);
    let v_full = q_full / area;
    q_full_of.insert(name.clone(), q_full * barrels);
    let lag_s = length / v_full;
    crate::limits::check_lag(lag_s, "travel time at full flow")
        .map_err(|m| p.err(l.no, format!("conduit '{name}': {m}")))?;
    let mut capacity = q_full * shape.peak_ratio() * barrels;
    if max_flow > 0.0 {
        capacity = capacity.min(max_flow);
    }
    let inlet = if matches!(cx.nodes.nodes[from].kind, NodeKind::Storage(_)) {
        // Normal flow at each depth, the full-flow capacity once full (SWMM's rule for
        // a conduit leaving a storage unit under steady or kinematic-wave routing).
        let mut normal_flow: Vec<(f64, f64)> = (0..=INLET_POINTS)
            .map(|i| {
                let y = y_full * i as f64 / INLET_POINTS as f64;
                (y, (beta * shape.section_factor(y) * barrels).min(capacity))
            })
            .collect();
        if let Some(last) = normal_flow.last_mut() {
            last.1 = (q_full * barrels).min(capacity);
        }
        Some(Box::new(StorageInlet {
            offset_m: in_off,
            normal_flow,
        }))
    } else {
        None
    };
    let kinwave = {
        let table: Vec<(f64, f64)> = (0..=INLET_POINTS)
            .map(|i| {
                let y = y_full * i as f64 / INLET_POINTS as f64;
                (shape.area_radius(y).0, shape.section_factor(y))
            })
            .collect();
        crate::kinwave::KwConduit::new(length, q_full, barrels, &table).map(Box::new)
    };
    // SWMM's steady and kinematic-wave routing let no more than the full-flow capacity in.
    let (capacity, lag_s) = match cx.routing {
        FlowRouting::KinWave => (capacity.min(q_full * barrels), lag_s),
        FlowRouting::Steady => (capacity.min(q_full * barrels), 0.0),
        _ => (capacity, lag_s),
    };
    Ok(LinkKind::Conduit {
        capacity_m3_per_s: capacity,
        lag_s,
        reservoir_s: 0.0,
        inlet,
        kinwave,
    })
}

/// Depths at which a storage outlet conduit's normal flow is tabulated.
const INLET_POINTS: usize = 50;

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
    let from = cx.nodes.node_of(p, l, 1, "inlet node")?;
    let offset = cx.offset(l, 4, from, "offset")?;
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

/// `Name From To Type CrestHt Cd Gated EndCon EndCoeff Surcharge RoadWidth RoadSurf
/// CoeffCurve` (SWMM 5.2, `weir_readParams`): EndCon and EndCoeff are the 8th and 9th
/// fields, Surcharge (YES/NO) the 10th.
fn weir(cx: &Context, l: &Line) -> Result<LinkKind, OverflowError> {
    let (p, units) = (cx.p, cx.units);
    let name = p.tok(l, 0, "name")?.to_string();
    let from = cx.nodes.node_of(p, l, 1, "inlet node")?;
    let kind = p.tok(l, 3, "weir type")?.to_ascii_uppercase();
    let crest = cx.offset(l, 4, from, "crest height")?;
    let coeff = p.num(l, 5, "discharge coefficient")?;
    let end_contractions = p.num_or(l, 7, 0.0, "end contractions")?;
    let end_coeff = p.num_or(l, 8, 0.0, "end coefficient")?;
    if end_contractions < 0.0 || end_coeff < 0.0 {
        return Err(p.err(
            l.no,
            format!("weir '{name}': end contractions (field 8) and end coefficient (field 9) must not be negative"),
        ));
    }
    if let Some(s) = l.tokens.get(9) {
        if !matches!(s.to_ascii_uppercase().as_str(), "YES" | "NO" | "*") {
            return Err(p.err(
                l.no,
                format!("weir '{name}': surcharge (field 10) '{s}' is not YES or NO"),
            ));
        }
    }
    if l.tokens.get(12).is_some_and(|t| t != "*") {
        p.note(format!(
            "weir coefficient curves (field 13 of [WEIRS]) are not modelled; the fixed coefficient is used (line {})",
            l.no
        ));
    }
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
        "ROADWAY" => {
            let road_width_m = p.num_or(l, 10, 0.0, "road width")? * units.length();
            let surface = l.tokens.get(11).map(|s| s.to_ascii_uppercase());
            // Without a PAVED or GRAVEL surface SWMM uses the weir's own coefficient.
            let gravel = surface.as_deref() == Some("GRAVEL");
            let road_width_m = if gravel || surface.as_deref() == Some("PAVED") {
                road_width_m
            } else {
                0.0
            };
            (
                WeirShape::Roadway {
                    road_width_m,
                    gravel,
                },
                2.5,
            )
        }
        other => {
            return Err(p.err(
                l.no,
                format!("weir type '{other}' is not one of SWMM's (TRANSVERSE, SIDEFLOW, V-NOTCH, TRAPEZOIDAL, ROADWAY)"),
            ))
        }
    };
    let (length, slope_tan) = match shape {
        WeirShape::VNotch => (0.0, width / 2.0 / height),
        WeirShape::Trapezoidal => (width, p.num_or(x, 4, 0.0, "side slope")?),
        _ => (width, 0.0),
    };
    // The coefficient of a trapezoidal weir's triangular ends (SWMM's default 0).
    let coeff2 = end_coeff;
    Ok(LinkKind::Weir {
        shape,
        crest_m: crest,
        coeff: coeff * units.weir_coeff(exp),
        length_m: length,
        slope_tan,
        coeff2: coeff2 * units.weir_coeff(2.5),
        end_contractions: match shape {
            WeirShape::Transverse | WeirShape::Trapezoidal => end_contractions,
            _ => 0.0,
        },
    })
}

fn outlet(cx: &Context, l: &Line) -> Result<LinkKind, OverflowError> {
    let (p, units) = (cx.p, cx.units);
    let from = cx.nodes.node_of(p, l, 1, "inlet node")?;
    let offset = cx.offset(l, 3, from, "offset")?;
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
