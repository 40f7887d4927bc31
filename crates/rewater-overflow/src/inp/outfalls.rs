//! Which outfalls are overflow outlets and which the treatment plant.

use super::parser::Parser;
use super::ImportOptions;
use crate::network::{Link, LinkKind, Node, NodeKind};
use crate::OverflowError;

/// Decide which outfalls are overflow outlets: named by the user, or reached through a
/// weir or a divider's diverted link (a regulator's overflow).
pub(super) fn classify_outfalls(
    p: &Parser,
    nodes: &mut [Node],
    links: &[Link],
    options: &ImportOptions,
) -> Result<(), OverflowError> {
    for (name, _) in &options.rivers {
        if !nodes
            .iter()
            .any(|n| &n.name == name && matches!(n.kind, NodeKind::Outfall { .. }))
        {
            return Err(p.err(0, format!("--river: '{name}' is not an outfall")));
        }
    }
    for name in &options.plant {
        if !nodes
            .iter()
            .any(|n| &n.name == name && matches!(n.kind, NodeKind::Outfall { .. }))
        {
            return Err(p.err(0, format!("--plant: '{name}' is not an outfall")));
        }
    }
    let diverted: Vec<usize> = nodes
        .iter()
        .filter_map(|n| match n.kind {
            NodeKind::Divider { diverted, .. } => Some(diverted),
            _ => None,
        })
        .collect();
    #[allow(clippy::needless_range_loop)] // links are matched against the index
    for i in 0..nodes.len() {
        if !matches!(nodes[i].kind, NodeKind::Outfall { .. }) {
            continue;
        }
        let name = nodes[i].name.clone();
        let river = if let Some((_, r)) = options.rivers.iter().find(|(o, _)| *o == name) {
            Some(r.clone())
        } else if options.plant.contains(&name) {
            None
        } else {
            let by = links.iter().enumerate().find(|(k, l)| {
                l.to == i && (matches!(l.kind, LinkKind::Weir { .. }) || diverted.contains(k))
            });
            by.map(|(_, l)| {
                p.note(format!(
                    "outfall '{name}' taken as an overflow outlet (fed by '{}'); name it with --plant if it is not",
                    l.name
                ));
                name.clone()
            })
        };
        nodes[i].kind = NodeKind::Outfall { river };
    }
    Ok(())
}
