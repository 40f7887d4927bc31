//! `[DIVIDERS]` rules, read once the diverted links exist.

use super::links::LinkTable;
use super::nodes::NodeTable;
use super::parser::{Parser, Units};
use super::tables::Curve;
use crate::network::{DividerRule, NodeKind};
use crate::OverflowError;
use std::collections::HashMap;

pub(super) fn apply_dividers(
    p: &Parser,
    nodes: &mut NodeTable,
    links: &LinkTable,
    curves: &HashMap<String, Curve>,
    units: Units,
) -> Result<(), OverflowError> {
    for spec in std::mem::take(&mut nodes.dividers) {
        let (node, link, params) = (spec.node, spec.link, spec.params);
        let l = &p.section("DIVIDERS")[spec.row];
        let diverted = *links
            .index
            .get(&link)
            .ok_or_else(|| p.err(l.no, format!("diverted link '{link}' is not a link")))?;
        if links.links[diverted].from != node {
            return Err(p.err(
                l.no,
                format!(
                    "diverted link '{link}' does not leave divider '{}'",
                    nodes.nodes[node].name
                ),
            ));
        }
        let kind = params
            .first()
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or_default();
        let num = |i: usize, what: &str| -> Result<f64, OverflowError> {
            params
                .get(i)
                .and_then(|s| s.parse::<f64>().ok())
                .ok_or_else(|| p.err(l.no, format!("divider needs a number for {what}")))
        };
        let rule = match kind.as_str() {
            "CUTOFF" => DividerRule::Cutoff(num(1, "cutoff flow")? * units.flow),
            "OVERFLOW" => {
                // SWMM diverts what exceeds the other conduit's full-flow capacity.
                let main = links
                    .links
                    .iter()
                    .enumerate()
                    .find(|(k, l)| l.from == node && *k != diverted)
                    .map(|(_, l)| l.name.clone());
                match main.and_then(|m| links.q_full.get(&m).copied()) {
                    Some(q) => DividerRule::Cutoff(q),
                    None => DividerRule::Overflow,
                }
            }
            "TABULAR" => {
                let cname = params
                    .get(1)
                    .ok_or_else(|| p.err(l.no, "divider needs a curve"))?;
                let c = curves.get(&cname.to_ascii_uppercase()).ok_or_else(|| {
                    p.err(
                        l.no,
                        format!("diversion curve '{cname}' is not in [CURVES]"),
                    )
                })?;
                DividerRule::Tabular(
                    c.points
                        .iter()
                        .map(|&(a, b)| (a * units.flow, b * units.flow))
                        .collect(),
                )
            }
            "WEIR" => DividerRule::Weir {
                qmin: num(1, "minimum flow")? * units.flow,
                height_m: num(2, "maximum depth")? * units.length(),
                coeff: num(3, "weir coefficient")? * units.weir_coeff(2.5),
            },
            other => {
                return Err(p.err(
                    l.no,
                    format!("divider type '{other}' is not CUTOFF, OVERFLOW, TABULAR or WEIR"),
                ))
            }
        };
        nodes.nodes[node].kind = NodeKind::Divider { diverted, rule };
    }
    Ok(())
}
