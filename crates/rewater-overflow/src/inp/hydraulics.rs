//! What dynamic-wave routing needs beyond the rest of the import: node depths (full,
//! surcharge, ponded area, initial), outfall stages and flap gates, each conduit's
//! section, length, roughness, offsets at both ends, barrels, maximum flow and
//! `[LOSSES]`, the openings of weirs and orifices, and the solver's `[OPTIONS]`.

use super::links::LinkTable;
use super::nodes::NodeTable;
use super::parser::{Line, Parser, Units};
use super::tables::Curve;
use super::xsect::{read_shape, read_transects, Outlines};
use crate::dynwave::forcemain::{ForceMain, ForceMainEquation};
use crate::dynwave::section::Section;
use crate::dynwave::{
    Damping, DwConduit, DwLink, DwNode, DwOptions, Hydraulics, NormalFlowLimit, OutfallStage,
};
use crate::network::{LinkKind, NodeKind};
use crate::OverflowError;
use std::collections::HashMap;

/// `[OPTIONS]` of the dynamic-wave solver.
pub(super) fn read_dw_options(p: &Parser, units: Units) -> Result<DwOptions, OverflowError> {
    let mut o = DwOptions::default();
    let len = units.length();
    for l in p.section("OPTIONS") {
        let (Some(key), Some(val)) = (l.tokens.first(), l.tokens.get(1)) else {
            continue;
        };
        let v = val.to_ascii_uppercase();
        let num = || p.num(l, 1, key);
        match key.to_ascii_uppercase().as_str() {
            "ROUTING_STEP" => {
                o.routing_step_s = if v.contains(':') {
                    crate::time::parse_clock(&v)
                        .ok_or_else(|| p.err(l.no, format!("ROUTING_STEP '{val}' is not a time")))?
                        as f64
                } else {
                    num()?
                };
                // SWMM's smallest step is 0.001 s.
                if !(o.routing_step_s >= 0.001 && o.routing_step_s <= 3600.0) {
                    return Err(p.err(l.no, "ROUTING_STEP must be 0.001–3600 s"));
                }
            }
            "VARIABLE_STEP" => o.courant = num()?.clamp(0.0, 2.0),
            "MINIMUM_STEP" => o.min_step_s = num()?,
            "LENGTHENING_STEP" => o.lengthening_step_s = num()?.max(0.0),
            "MIN_SURFAREA" => {
                let a = num()?;
                if a > 0.0 {
                    o.min_surf_area_m2 = a * len * len;
                }
            }
            "HEAD_TOLERANCE" => {
                let h = num()?;
                if h > 0.0 {
                    o.head_tol_m = h * len;
                }
            }
            "MAX_TRIALS" => {
                let n = num()?;
                if n >= 1.0 {
                    o.max_trials = n.min(100.0) as usize;
                }
            }
            "INERTIAL_DAMPING" => {
                o.damping = match v.as_str() {
                    "NONE" => Damping::None,
                    "FULL" => Damping::Full,
                    _ => Damping::Partial,
                }
            }
            "NORMAL_FLOW_LIMITED" => {
                o.normal_flow = match v.as_str() {
                    "SLOPE" => NormalFlowLimit::Slope,
                    "FROUDE" => NormalFlowLimit::Froude,
                    "NONE" | "NEITHER" => NormalFlowLimit::Neither,
                    _ => NormalFlowLimit::Both,
                }
            }
            "SURCHARGE_METHOD" => o.slot = v == "SLOT",
            "ALLOW_PONDING" => o.allow_ponding = v == "YES",
            "FORCE_MAIN_EQUATION" => {
                o.force_main_equation = match v.as_str() {
                    "H-W" => ForceMainEquation::HazenWilliams,
                    "D-W" => ForceMainEquation::DarcyWeisbach,
                    _ => {
                        return Err(p.err(
                            l.no,
                            format!("FORCE_MAIN_EQUATION '{val}' is not H-W or D-W"),
                        ))
                    }
                }
            }
            _ => {}
        }
    }
    // The smallest variable step: at least 0.5 s (rewater's bound on computing time; SWMM
    // allows down to 0.001 s) and not above the routing step.
    o.min_step_s = o.min_step_s.max(0.5).min(o.routing_step_s);
    Ok(o)
}

/// A link's end offset above its node's invert (depth or elevation per LINK_OFFSETS).
fn offset(
    p: &Parser,
    l: &Line,
    k: usize,
    invert: f64,
    units: Units,
    elevation: bool,
) -> Result<f64, OverflowError> {
    let missing = l.tokens.get(k).is_none_or(|t| t == "*");
    let v = p.num_or(l, k, 0.0, "offset")? * units.length();
    Ok(match (elevation, missing) {
        (false, _) => v,
        (true, true) => 0.0,
        (true, false) => (v - invert).max(0.0),
    })
}

/// The last `n` fields of a row from field `from` on, as numbers (missing: 0).
fn tail(p: &Parser, l: &Line, from: usize, what: &str) -> Result<[f64; 4], OverflowError> {
    let mut out = [0.0; 4];
    for (i, o) in out.iter_mut().enumerate() {
        *o = p.num_or(l, from + i, 0.0, what)?;
    }
    Ok(out)
}

fn gated(l: &Line, k: usize) -> bool {
    l.tokens
        .get(k)
        .is_some_and(|t| t.eq_ignore_ascii_case("YES"))
}

/// Node data: `[JUNCTIONS]` Elev MaxDepth InitDepth SurDepth Aponded; `[DIVIDERS]` the
/// same after the divider's parameters; `[STORAGE]` from the storage unit; `[OUTFALLS]`
/// Elev Type Stage/Curve/Series Gated.
fn read_nodes(
    p: &Parser,
    units: Units,
    nodes: &NodeTable,
    curves: &HashMap<String, Curve>,
    series: &HashMap<String, Vec<(i64, f64)>>,
) -> Result<Vec<DwNode>, OverflowError> {
    let len = units.length();
    let mut out: Vec<DwNode> = nodes
        .invert
        .iter()
        .map(|&z| DwNode {
            invert_m: z,
            full_depth_m: 0.0,
            sur_depth_m: 0.0,
            ponded_m2: 0.0,
            init_depth_m: 0.0,
            outfall: None,
            flap_gate: false,
        })
        .collect();
    let mut set = |i: usize, v: [f64; 4]| {
        out[i].full_depth_m = v[0].max(0.0) * len;
        out[i].init_depth_m = v[1].max(0.0) * len;
        out[i].sur_depth_m = v[2].max(0.0) * len;
        out[i].ponded_m2 = v[3].max(0.0) * len * len;
    };
    for l in p.section("JUNCTIONS") {
        set(
            nodes.node_of(p, l, 0, "junction")?,
            tail(p, l, 2, "junction depth")?,
        );
    }
    for l in p.section("DIVIDERS") {
        let i = nodes.node_of(p, l, 0, "divider")?;
        let params = match l.tokens.get(3).map(|t| t.to_ascii_uppercase()).as_deref() {
            Some("OVERFLOW") => 0,
            Some("WEIR") => 3,
            _ => 1,
        };
        set(i, tail(p, l, 4 + params, "divider depth")?);
    }
    for (i, nd) in nodes.nodes.iter().enumerate() {
        if let NodeKind::Storage(st) = &nd.kind {
            out[i].full_depth_m = st.max_depth_m;
            out[i].init_depth_m = st.init_depth_m;
        }
    }
    for l in p.section("STORAGE") {
        // The surcharge depth follows the shape's parameters (one curve name, or three
        // numbers), as SWMM 5.2 reads it.
        let i = nodes.node_of(p, l, 0, "storage unit")?;
        let tabular = l
            .tokens
            .get(4)
            .is_some_and(|t| t.eq_ignore_ascii_case("TABULAR"));
        let k = if tabular { 6 } else { 8 };
        out[i].sur_depth_m = p.num_or(l, k, 0.0, "surcharge depth")?.max(0.0) * len;
    }
    for l in p.section("OUTFALLS") {
        let i = nodes.node_of(p, l, 0, "outfall")?;
        let kind = p.tok(l, 2, "outfall type")?.to_ascii_uppercase();
        let (stage, gate_field) = match kind.as_str() {
            "FREE" => (OutfallStage::Free, 3),
            "NORMAL" => (OutfallStage::Normal, 3),
            "FIXED" => (OutfallStage::Fixed(p.num(l, 3, "fixed stage")? * len), 4),
            "TIDAL" => {
                let name = p.tok(l, 3, "tidal curve")?;
                let c = curves.get(&name.to_ascii_uppercase()).ok_or_else(|| {
                    p.err(l.no, format!("tidal curve '{name}' is not in [CURVES]"))
                })?;
                let pts = c.points.iter().map(|&(h, s)| (h, s * len)).collect();
                (OutfallStage::Tidal(pts), 4)
            }
            "TIMESERIES" => {
                let name = p.tok(l, 3, "stage time series")?;
                let s = series.get(&name.to_ascii_uppercase()).ok_or_else(|| {
                    p.err(
                        l.no,
                        format!("stage time series '{name}' is not in [TIMESERIES]"),
                    )
                })?;
                let pts = s.iter().map(|&(t, v)| (t, v * len)).collect();
                (OutfallStage::Series(pts), 4)
            }
            _ => (OutfallStage::Free, 3),
        };
        out[i].outfall = Some(stage);
        out[i].flap_gate = gated(l, gate_field);
    }
    Ok(out)
}

/// A conduit's slope as SWMM takes it (`conduit_getSlope`): the drop at least 0.001 ft,
/// over the horizontal distance, at least MIN_SLOPE, negative when adverse.
fn conduit_slope(drop: f64, length: f64, min_slope: f64) -> f64 {
    let delta = drop.abs().max(0.001 * 0.3048);
    let mut slope = if delta >= length {
        delta / length
    } else {
        delta / (length * length - delta * delta).sqrt()
    };
    if min_slope > 0.0 && slope < min_slope {
        slope = min_slope;
    }
    if drop < 0.0 {
        -slope
    } else {
        slope
    }
}

/// Build the hydraulics of a SWMM file for dynamic-wave routing.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_hydraulics(
    p: &Parser,
    units: Units,
    nodes: &NodeTable,
    links: &LinkTable,
    curves: &HashMap<String, Curve>,
    series: &HashMap<String, Vec<(i64, f64)>>,
    elevation: bool,
) -> Result<Hydraulics, OverflowError> {
    let options = read_dw_options(p, units)?;
    let min_slope = p
        .section("OPTIONS")
        .iter()
        .find(|l| l.tokens[0].eq_ignore_ascii_case("MIN_SLOPE"))
        .map(|l| p.num(l, 1, "MIN_SLOPE"))
        .transpose()?
        .unwrap_or(0.0)
        / 100.0;
    let hnodes = read_nodes(p, units, nodes, curves, series)?;
    let len = units.length();
    let mut hlinks: Vec<DwLink> = links
        .links
        .iter()
        .map(|l| {
            let (o1, h) = match l.kind {
                LinkKind::Weir { crest_m, .. } => (crest_m, 0.0),
                LinkKind::Orifice {
                    offset_m, height_m, ..
                } => (offset_m, height_m),
                LinkKind::Outlet { offset_m, .. } => (offset_m, 0.0),
                _ => (0.0, 0.0),
            };
            DwLink {
                offset1_m: o1,
                offset2_m: 0.0,
                height_m: h,
                conduit: None,
                flap_gate: matches!(l.kind, LinkKind::Outlet { .. }),
                can_surcharge: false,
            }
        })
        .collect();
    let transects = read_transects(p, units)?;
    let outlines = Outlines {
        transects: &transects,
        curves,
    };
    let mut xsect: HashMap<&str, &Line> = HashMap::new();
    for l in p.section("XSECTIONS") {
        xsect.insert(l.tokens[0].as_str(), l);
    }
    let link_of = |l: &Line| -> Option<usize> { links.index.get(l.tokens[0].as_str()).copied() };
    for l in p.section("CONDUITS") {
        let Some(j) = link_of(l) else { continue };
        let (from, to) = (links.links[j].from, links.links[j].to);
        let length = p.num(l, 3, "length")? * len;
        let mut n = p.num(l, 4, "roughness")?;
        let o1 = offset(p, l, 5, nodes.invert[from], units, elevation)?;
        let o2 = offset(p, l, 6, nodes.invert[to], units, elevation)?;
        let q_limit = p.num_or(l, 8, 0.0, "maximum flow")?.max(0.0) * units.flow;
        let Some(x) = xsect.get(l.tokens[0].as_str()) else {
            continue;
        };
        let barrels = p.num_or(x, 6, 1.0, "barrels")?.max(1.0);
        let Some(shape) = read_shape(p, x, units, &outlines)? else {
            continue;
        };
        if let super::xsect::Shape::Transect(t) = &shape {
            n = t.n_channel * t.length_factor.sqrt();
        }
        if length <= 0.0 || n <= 0.0 {
            continue;
        }
        let (o1, o2) = (o1 + shape.bottom_fill(), o2 + shape.bottom_fill());
        let y_full = shape.full_depth();
        let section = Section::with_width(
            y_full,
            shape.is_closed(),
            |y| shape.area_radius(y),
            |y| shape.top_width(y),
        );
        let drop = nodes.invert[from] + o1 - nodes.invert[to] - o2;
        let slope = conduit_slope(drop, length, min_slope);
        // A force main: geom2 is its Hazen-Williams C or its Darcy-Weisbach roughness
        // height (mm, or inches in US units); partly full it takes Manning with an
        // equivalent n (SWMM's link.c and forcmain.c).
        let force_main = if x.tokens[1].eq_ignore_ascii_case("FORCE_MAIN") {
            let eq = options.force_main_equation;
            let raw = p.num(x, 3, "geom2 (force main C-factor or roughness height)")?;
            let coeff = match eq {
                ForceMainEquation::HazenWilliams => raw,
                ForceMainEquation::DarcyWeisbach if units.us => raw * 0.0254,
                ForceMainEquation::DarcyWeisbach => raw / 1000.0,
            };
            if coeff.is_nan() || coeff <= 0.0 {
                return Err(p.err(x.no, "FORCE_MAIN: geom2 (C-factor or roughness height) must be positive (SWMM's error 119)"));
            }
            n = ForceMain::equivalent_n(eq, coeff, y_full, slope);
            Some((eq, coeff))
        } else {
            None
        };
        let mut c = DwConduit::new(
            section,
            length,
            n,
            slope,
            barrels,
            q_limit,
            options.routing_step_s,
            options.lengthening_step_s,
        );
        if let Some((eq, coeff)) = force_main {
            c.force_main = Some(ForceMain::new(eq, coeff, c.mod_length / length));
        }
        let d = &mut hlinks[j];
        d.offset1_m = o1;
        d.offset2_m = o2;
        d.height_m = y_full;
        d.conduit = Some(Box::new(c));
    }
    for l in p.section("LOSSES") {
        let Some(j) = link_of(l) else { continue };
        let k = [
            p.num_or(l, 1, 0.0, "entry loss")?,
            p.num_or(l, 2, 0.0, "exit loss")?,
            p.num_or(l, 3, 0.0, "average loss")?,
        ];
        if let Some(c) = hlinks[j].conduit.as_mut() {
            c.loss_inlet = k[0].max(0.0);
            c.loss_outlet = k[1].max(0.0);
            c.loss_avg = k[2].max(0.0);
            c.flap_gate = gated(l, 4);
        }
    }
    for l in p.section("WEIRS") {
        let Some(j) = link_of(l) else { continue };
        if let Some(x) = xsect.get(l.tokens[0].as_str()) {
            hlinks[j].height_m = p.num(x, 2, "geom1")? * len;
        }
        hlinks[j].flap_gate = gated(l, 6);
        hlinks[j].can_surcharge = !l
            .tokens
            .get(9)
            .is_some_and(|t| t.eq_ignore_ascii_case("NO"));
    }
    for l in p.section("ORIFICES") {
        let Some(j) = link_of(l) else { continue };
        hlinks[j].flap_gate = gated(l, 6);
    }
    for l in p.section("OUTLETS") {
        let Some(j) = link_of(l) else { continue };
        // `Name From To Offset Type C1 C2 Gated` or `… TABULAR/* Curve Gated`.
        let k = if l
            .tokens
            .get(4)
            .is_some_and(|t| t.to_ascii_uppercase().starts_with("TABULAR"))
        {
            6
        } else {
            7
        };
        hlinks[j].flap_gate = gated(l, k);
    }
    Ok(Hydraulics {
        nodes: hnodes,
        links: hlinks,
        options,
    })
}
