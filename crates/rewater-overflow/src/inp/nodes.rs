//! Node sections: `[JUNCTIONS]`, `[OUTFALLS]`, `[DIVIDERS]` (their rule is read once
//! the links exist, in [`super::dividers`]) and `[STORAGE]`.

use super::parser::{Line, Parser, Units};
use super::tables::Curve;
use crate::network::{Node, NodeKind, Storage};
use crate::OverflowError;
use std::collections::HashMap;

/// A divider row kept until its diverted link is known.
pub(super) struct DividerSpec {
    pub node: usize,
    /// Row within `[DIVIDERS]`.
    pub row: usize,
    pub link: String,
    pub params: Vec<String>,
}

/// The nodes in file order (junctions, outfalls, dividers, storage) with their inverts.
pub(super) struct NodeTable {
    pub nodes: Vec<Node>,
    /// Invert elevation of each node, m.
    pub invert: Vec<f64>,
    pub index: HashMap<String, usize>,
    pub dividers: Vec<DividerSpec>,
}

impl NodeTable {
    fn add(&mut self, p: &Parser, l: &Line, kind: NodeKind) -> Result<usize, OverflowError> {
        let name = p.tok(l, 0, "name")?.to_string();
        if self.index.contains_key(&name) {
            return Err(p.err(l.no, format!("node '{name}' is defined twice")));
        }
        self.index.insert(name.clone(), self.nodes.len());
        self.nodes.push(Node { name, kind });
        Ok(self.nodes.len() - 1)
    }

    /// The node named in field `k`.
    pub fn node_of(
        &self,
        p: &Parser,
        l: &Line,
        k: usize,
        what: &str,
    ) -> Result<usize, OverflowError> {
        let name = p.tok(l, k, what)?;
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| p.err(l.no, format!("{what} '{name}' is not a node")))
    }
}

/// `dynwave`: the file is routed by dynamic wave, which models surcharge, ponding and
/// outfall stages (no note for them).
pub(super) fn read_nodes(
    p: &Parser,
    units: Units,
    curves: &HashMap<String, Curve>,
    dynwave: bool,
) -> Result<NodeTable, OverflowError> {
    let mut t = NodeTable {
        nodes: Vec::new(),
        invert: Vec::new(),
        index: HashMap::new(),
        dividers: Vec::new(),
    };
    for l in p.section("JUNCTIONS") {
        t.add(p, l, NodeKind::Junction)?;
        // Elev MaxDepth InitDepth SurDepth Aponded.
        let surcharge = p.num_or(l, 4, 0.0, "surcharge depth")?;
        let ponded = p.num_or(l, 5, 0.0, "ponded area")?;
        if (surcharge > 0.0 || ponded > 0.0) && !dynwave {
            p.note(format!(
                "junction surcharge depth and ponded area are not modelled: water that cannot leave a junction is counted as flooding and lost (first at line {})",
                l.no
            ));
        }
        t.invert
            .push(p.num(l, 1, "invert elevation")? * units.length());
    }
    for l in p.section("OUTFALLS") {
        t.add(p, l, NodeKind::Outfall { river: None })?;
        let kind = p.tok(l, 2, "outfall type")?.to_ascii_uppercase();
        match kind.as_str() {
            "FREE" => {}
            "NORMAL" | "FIXED" | "TIDAL" | "TIMESERIES" if !dynwave => p.note(format!(
                "{kind} outfall stages act only under dynamic-wave routing; these outfalls take everything as FREE ones do (first at line {})",
                l.no
            )),
            "NORMAL" | "FIXED" | "TIDAL" | "TIMESERIES" => {}
            other => {
                return Err(p.err(
                    l.no,
                    format!("outfall type '{other}' is not FREE, NORMAL, FIXED, TIDAL or TIMESERIES"),
                ))
            }
        }
        t.invert
            .push(p.num(l, 1, "invert elevation")? * units.length());
    }
    for (row, l) in p.section("DIVIDERS").iter().enumerate() {
        let node = t.add(p, l, NodeKind::Junction)?;
        t.invert
            .push(p.num(l, 1, "invert elevation")? * units.length());
        let link = p.tok(l, 2, "diverted link")?.to_string();
        let params = l.tokens[3..].to_vec();
        t.dividers.push(DividerSpec {
            node,
            row,
            link,
            params,
        });
    }
    for l in p.section("STORAGE") {
        let storage = read_storage(p, l, units, curves)?;
        t.add(p, l, NodeKind::Storage(storage))?;
        t.invert
            .push(p.num(l, 1, "invert elevation")? * units.length());
    }
    Ok(t)
}

/// A storage unit's depth–area relation from its shape.
fn read_storage(
    p: &Parser,
    l: &Line,
    units: Units,
    curves: &HashMap<String, Curve>,
) -> Result<Storage, OverflowError> {
    let max_depth = p.num(l, 2, "maximum depth")? * units.length();
    if max_depth <= 0.0 {
        return Err(p.err(l.no, "storage maximum depth must be positive"));
    }
    let init = p.num_or(l, 3, 0.0, "initial depth")? * units.length();
    let shape = p.tok(l, 4, "storage shape")?.to_ascii_uppercase();
    let area_f = units.length() * units.length();
    let storage = match shape.as_str() {
        "FUNCTIONAL" => {
            let a = p.num(l, 5, "coefficient")?;
            let b = p.num(l, 6, "exponent")?;
            let c = p.num_or(l, 7, 0.0, "constant")?;
            // Area = a·d^b + c in file units.
            let a_si = a * area_f / units.length().powf(b);
            Storage::functional(c * area_f, a_si, b, max_depth, init)
        }
        "TABULAR" => {
            let name = p.tok(l, 5, "storage curve")?;
            let c = curves
                .get(&name.to_ascii_uppercase())
                .ok_or_else(|| p.err(l.no, format!("storage curve '{name}' is not in [CURVES]")))?;
            let pts: Vec<(f64, f64)> =
                c.points.iter().map(|&(d, a)| (d * units.length(), a * area_f)).collect();
            Storage::from_areas(&pts, max_depth, init)
        }
        "CYLINDRICAL" => {
            let a = std::f64::consts::PI / 4.0
                * p.num(l, 5, "major axis")?
                * p.num(l, 6, "minor axis")?
                * area_f;
            Storage::from_areas(&[(0.0, a), (max_depth, a)], max_depth, init)
        }
        "PYRAMIDAL" => {
            let (ln, w, z) = (
                p.num(l, 5, "length")? * units.length(),
                p.num(l, 6, "width")? * units.length(),
                p.num_or(l, 7, 0.0, "side slope")?,
            );
            let pts: Vec<(f64, f64)> = (0..=32)
                .map(|i| {
                    let d = max_depth * i as f64 / 32.0;
                    (d, (ln + 2.0 * z * d) * (w + 2.0 * z * d))
                })
                .collect();
            Storage::from_areas(&pts, max_depth, init)
        }
        other => return Err(p.err(l.no, format!("storage shape '{other}' is not supported (use FUNCTIONAL, TABULAR, CYLINDRICAL or PYRAMIDAL)"))),
    };
    if l.tokens.len() > 9
        && l.tokens[9..]
            .iter()
            .any(|t| t.parse::<f64>().is_ok_and(|v| v > 0.0))
    {
        p.note("[STORAGE] evaporation and seepage from storage units are not modelled".into());
    }
    Ok(storage)
}
