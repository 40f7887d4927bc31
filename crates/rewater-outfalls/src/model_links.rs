//! The ledger against the regional model (rewater-model): each outfall's `model_node` must
//! name a node of the model that discharges to water — an outfall, a river node or a plant
//! (a plant's effluent leaves through an outfall); and each of the model's outfall nodes
//! should have a ledger entry (完善全口径台账: a discharge point the model knows of but the
//! ledger does not is a gap in the ledger). The model is given as plain (id, kind, name)
//! triples, so this crate does not depend on the model crate.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A node of the regional model, as far as the ledger cares.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelNode {
    pub id: String,
    /// plant, wetland, pond, junction, user, river or outfall.
    pub kind: String,
    pub name: String,
}

/// Node kinds a ledger outfall may stand for.
pub const LINKABLE_KINDS: &[&str] = &["outfall", "river", "plant"];

/// The check's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelLinks {
    /// (outfall code, node id, node kind) of valid links.
    pub linked: Vec<(String, String, String)>,
    /// (outfall code, node id) naming no node of the model.
    pub unknown_nodes: Vec<(String, String)>,
    /// (outfall code, node id, node kind) naming a node that does not discharge to water.
    pub wrong_kind: Vec<(String, String, String)>,
    /// The model's outfall nodes that no ledger outfall names: (id, name).
    pub model_outfalls_without_entry: Vec<(String, String)>,
    /// Outfalls of the ledger without a model node.
    pub outfalls_without_node: usize,
}

impl ModelLinks {
    /// Whether every link names a node of a linkable kind (gaps in coverage are not errors).
    pub fn links_valid(&self) -> bool {
        self.unknown_nodes.is_empty() && self.wrong_kind.is_empty()
    }
}

/// Checks the ledger's links to the model both ways.
pub fn check(ledger: &crate::Ledger, nodes: &[ModelNode]) -> ModelLinks {
    let by_id: BTreeMap<&str, &ModelNode> = nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut out = ModelLinks::default();
    let mut named: BTreeSet<&str> = BTreeSet::new();
    for o in &ledger.outfalls {
        let Some(node) = o.model_node.as_deref().filter(|n| !n.is_empty()) else {
            out.outfalls_without_node += 1;
            continue;
        };
        named.insert(node);
        match by_id.get(node) {
            None => out.unknown_nodes.push((o.code.clone(), node.to_string())),
            Some(n) if LINKABLE_KINDS.contains(&n.kind.as_str()) => {
                out.linked
                    .push((o.code.clone(), node.to_string(), n.kind.clone()))
            }
            Some(n) => out
                .wrong_kind
                .push((o.code.clone(), node.to_string(), n.kind.clone())),
        }
    }
    out.model_outfalls_without_entry = nodes
        .iter()
        .filter(|n| n.kind == "outfall" && !named.contains(n.id.as_str()))
        .map(|n| (n.id.clone(), n.name.clone()))
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, kind: &str) -> ModelNode {
        ModelNode {
            id: id.into(),
            kind: kind.into(),
            name: format!("{id} name"),
        }
    }

    #[test]
    fn links_are_checked_both_ways() {
        let mut l = crate::Ledger::default();
        let base = serde_json::json!({
            "code": "", "name": "", "class": "undetermined", "district": "d",
            "location": {"lon": 116.0, "lat": 40.0, "datum": "WGS84"}, "reach": "r",
            "chainage_m": 0.0, "approval": null, "responsible": "", "survey_level": null,
            "survey_date": null, "evidence": [], "compliance": "unknown", "flow_m3_per_s": null,
            "conc_mg_per_l": {}, "discharge_basis": "estimated", "monitored_on": null,
            "site_mn": null, "overflow_outlet": null, "model_node": null
        });
        for (code, n) in [
            ("A", Some("plant-1")),
            ("B", Some("out-1")),
            ("C", Some("ghost")),
            ("D", Some("user-1")),
            ("E", None),
        ] {
            let mut v = base.clone();
            v["code"] = code.into();
            v["model_node"] = n.into();
            l.outfalls.push(serde_json::from_value(v).unwrap());
        }
        let nodes = [
            node("plant-1", "plant"),
            node("out-1", "outfall"),
            node("out-2", "outfall"),
            node("user-1", "user"),
            node("river", "river"),
        ];
        let m = check(&l, &nodes);
        assert_eq!(
            m.linked,
            vec![
                ("A".into(), "plant-1".into(), "plant".into()),
                ("B".into(), "out-1".into(), "outfall".into())
            ]
        );
        assert_eq!(m.unknown_nodes, vec![("C".into(), "ghost".into())]);
        assert_eq!(
            m.wrong_kind,
            vec![("D".into(), "user-1".into(), "user".into())]
        );
        assert_eq!(
            m.model_outfalls_without_entry,
            vec![("out-2".into(), "out-2 name".into())]
        );
        assert_eq!(m.outfalls_without_node, 1);
        assert!(!m.links_valid());
    }
}
