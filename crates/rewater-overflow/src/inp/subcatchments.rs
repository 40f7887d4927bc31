//! `[SUBCATCHMENTS]` with their `[SUBAREAS]` and `[INFILTRATION]` rows (Horton, modified
//! Horton computed as Horton, Green–Ampt and modified Green–Ampt, curve number), routing
//! between sub-areas (RouteTo, PctRouted) and subcatchments that drain onto others.

use super::nodes::NodeTable;
use super::parser::{Line, Parser, Units};
use crate::runoff::{Infiltration, SubareaRoute, Subcatchment};
use crate::OverflowError;
use std::collections::HashMap;

pub(super) fn read_subcatchments(
    p: &Parser,
    units: Units,
    infil_model: &str,
    nodes: &NodeTable,
    gage_index: &HashMap<String, usize>,
) -> Result<Vec<Subcatchment>, OverflowError> {
    let mut subareas: HashMap<String, &Line> = HashMap::new();
    for l in p.section("SUBAREAS") {
        subareas.insert(l.tokens[0].clone(), l);
    }
    let mut infil: HashMap<String, &Line> = HashMap::new();
    for l in p.section("INFILTRATION") {
        infil.insert(l.tokens[0].clone(), l);
    }
    let names: HashMap<&str, usize> = p
        .section("SUBCATCHMENTS")
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.tokens.first().map(|n| (n.as_str(), i)))
        .collect();
    let mut subcatchments = Vec::new();
    // Outlet subcatchment of each, by index, with its line.
    let mut runon: Vec<Option<(usize, usize)>> = Vec::new();
    for l in p.section("SUBCATCHMENTS") {
        let name = p.tok(l, 0, "name")?.to_string();
        let gname = p.tok(l, 1, "rain gage")?;
        let gage = *gage_index
            .get(gname)
            .ok_or_else(|| p.err(l.no, format!("rain gage '{gname}' is not in [RAINGAGES]")))?;
        let outlet_name = p.tok(l, 2, "outlet")?;
        let (outlet, runs_onto) = match (nodes.index.get(outlet_name), names.get(outlet_name)) {
            (Some(&i), _) => (i, None),
            (None, Some(&k)) => (usize::MAX, Some(k)),
            (None, None) => {
                return Err(p.err(
                    l.no,
                    format!("outlet '{outlet_name}' is neither a node nor a subcatchment"),
                ))
            }
        };
        let area = p.num(l, 3, "area")? * units.area();
        let imperv = p.num(l, 4, "% impervious")? / 100.0;
        let width = p.num(l, 5, "width")? * units.length();
        let slope = p.num(l, 6, "% slope")? / 100.0;
        if area.is_nan()
            || area <= 0.0
            || !(0.0..=1.0).contains(&imperv)
            || width < 0.0
            || slope < 0.0
        {
            return Err(p.err(
                l.no,
                format!("subcatchment '{name}': area, % impervious, width or slope out of range"),
            ));
        }
        let sa = subareas
            .get(&name)
            .ok_or_else(|| p.err(l.no, format!("subcatchment '{name}' has no [SUBAREAS] row")))?;
        let route = sa
            .tokens
            .get(6)
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or("OUTLET".into());
        let fraction = p.num_or(sa, 7, 100.0, "PctRouted")? / 100.0;
        if !(0.0..=1.0).contains(&fraction) {
            return Err(p.err(sa.no, "PctRouted must be 0–100"));
        }
        // SWMM routes nothing internally when one of the two areas is missing.
        let subarea_route = match route.as_str() {
            "OUTLET" => SubareaRoute::Outlet,
            _ if imperv <= 0.0 || imperv >= 1.0 => SubareaRoute::Outlet,
            "PERVIOUS" => SubareaRoute::ToPervious { fraction },
            "IMPERVIOUS" => SubareaRoute::ToImpervious { fraction },
            other => {
                return Err(p.err(
                    sa.no,
                    format!("RouteTo '{other}' is not OUTLET, IMPERVIOUS or PERVIOUS"),
                ))
            }
        };
        runon.push(runs_onto.map(|k| (k, l.no)));
        let infiltration = match infil.get(&name) {
            None if imperv >= 1.0 => Infiltration::None,
            None => {
                return Err(p.err(
                    l.no,
                    format!("subcatchment '{name}' has no [INFILTRATION] row"),
                ))
            }
            Some(il) => infiltration(p, il, units, infil_model)?,
        };
        subcatchments.push(Subcatchment {
            name,
            gage,
            outlet,
            area_m2: area,
            imperv,
            width_m: width,
            slope,
            n_imperv: p.num(sa, 1, "N-Imperv")?,
            n_perv: p.num(sa, 2, "N-Perv")?,
            ds_imperv_m: p.num(sa, 3, "S-Imperv")? * units.depth(),
            ds_perv_m: p.num(sa, 4, "S-Perv")? * units.depth(),
            zero_ds: p.num_or(sa, 5, 25.0, "PctZero")? / 100.0,
            infiltration,
            lag_s: 0.0,
            reservoir_s: 0.0,
            swmm_outflow: true,
            subarea_route,
            runon_to: runs_onto,
        });
    }
    // Follow each chain of subcatchments to the node it ends at; a loop is refused.
    for start in 0..subcatchments.len() {
        let mut at = start;
        for _ in 0..=subcatchments.len() {
            match runon[at] {
                None => break,
                Some((next, line)) => {
                    if next == start {
                        return Err(p.err(
                            line,
                            format!(
                                "subcatchment '{}' drains back onto itself through other subcatchments",
                                subcatchments[start].name
                            ),
                        ));
                    }
                    at = next;
                }
            }
        }
        if runon[at].is_some() {
            return Err(p.err(0, "subcatchments drain onto each other in a loop"));
        }
        subcatchments[start].outlet = subcatchments[at].outlet;
    }
    Ok(subcatchments)
}

/// An `[INFILTRATION]` row; its own method (field 7) or the file's default.
fn infiltration(
    p: &Parser,
    il: &Line,
    units: Units,
    infil_model: &str,
) -> Result<Infiltration, OverflowError> {
    // SWMM 5.2 lets a row end with its own method, after its parameters.
    let method = il
        .tokens
        .iter()
        .skip(1)
        .rev()
        .find(|t| t.parse::<f64>().is_err() && t.as_str() != "*")
        .map(|s| s.to_ascii_uppercase())
        .unwrap_or(infil_model.to_string());
    Ok(match method.as_str() {
        "HORTON" | "MODIFIED_HORTON" => {
            if method == "MODIFIED_HORTON" {
                p.note("MODIFIED_HORTON infiltration is computed as HORTON".into());
            }
            Infiltration::Horton {
                f0_m_per_s: p.num(il, 1, "maximum infiltration rate")? * units.depth_mm()
                    / 1000.0
                    / 3600.0,
                fmin_m_per_s: p.num(il, 2, "minimum infiltration rate")? * units.depth_mm()
                    / 1000.0
                    / 3600.0,
                decay_per_s: p.num(il, 3, "decay constant")? / 3600.0,
                dry_days: p.num(il, 4, "drying time")?,
                max_m: p.num_or(il, 5, 0.0, "maximum volume")? * units.depth(),
            }
        }
        "GREEN_AMPT" | "MODIFIED_GREEN_AMPT" => {
            let suction_m = p.num(il, 1, "suction head")? * units.depth();
            let ksat_m_per_s = p.num(il, 2, "saturated conductivity")? * units.depth() / 3600.0;
            let imd_max = p.num(il, 3, "initial moisture deficit")?;
            // SWMM refuses the same (its error 235).
            if suction_m < 0.0 || ksat_m_per_s <= 0.0 || !(0.0..=1.0).contains(&imd_max) {
                return Err(p.err(
                    il.no,
                    format!(
                        "{method} parameters: suction must not be negative, conductivity must be positive and the initial moisture deficit 0–1 (a fraction), as SWMM requires (its error 235)"
                    ),
                ));
            }
            Infiltration::GreenAmpt(crate::green_ampt::GreenAmpt {
                suction_m,
                ksat_m_per_s,
                imd_max,
                modified: method == "MODIFIED_GREEN_AMPT",
            })
        }
        "CURVE_NUMBER" => Infiltration::CurveNumber {
            cn: p.num(il, 1, "curve number")?,
            dry_days: p.num_or(il, 3, 7.0, "drying time")?,
        },
        other => {
            return Err(p.err(
                il.no,
                format!(
                    "{other} infiltration is not one of SWMM's (HORTON, MODIFIED_HORTON, GREEN_AMPT, MODIFIED_GREEN_AMPT, CURVE_NUMBER)"
                ),
            ))
        }
    })
}
