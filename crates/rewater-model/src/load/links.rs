//! `[[link]]`: pipes and channels between nodes, checked against the nodes they join.

use super::ctx::{finite_nonneg, Resolver};
use crate::region::{NodeKind, RegionLink};
use crate::types::Link;
use std::collections::HashSet;

const KIND: &str = "link";

impl Resolver<'_> {
    /// Resolves every link (after all nodes); a link with an unknown end is reported and
    /// left out.
    pub(super) fn links(&mut self, model_links: &[Link]) -> Vec<RegionLink> {
        let mut links: Vec<RegionLink> = Vec::new();
        let mut link_ids: HashSet<String> = HashSet::new();
        for l in model_links {
            let id =
                l.id.clone()
                    .unwrap_or_else(|| format!("{}->{}", l.from, l.to));
            let from = self.ids.get(&l.from).copied();
            let to = self.ids.get(&l.to).copied();
            if from.is_none() {
                self.cx
                    .err(KIND, &id, "from", format!("unknown node '{}'", l.from));
            }
            if to.is_none() {
                self.cx
                    .err(KIND, &id, "to", format!("unknown node '{}'", l.to));
            }
            self.link_values(l, &id);
            if let (Some(f), Some(t)) = (from, to) {
                self.link_ends(l, &id, f, t);
                if !link_ids.insert(id.clone()) {
                    self.cx.err(
                        KIND,
                        &id,
                        "id",
                        "link id is used twice (give the links distinct 'id's)",
                    );
                }
                links.push(RegionLink {
                    id,
                    from: f,
                    to: t,
                    capacity_m3_per_day: l.capacity_m3_per_day,
                    cost_per_m3: l.cost_per_m3,
                    loss_fraction: l.loss_fraction,
                });
            }
        }
        let mut supplied = vec![false; self.nodes.len()];
        links.iter().for_each(|l| supplied[l.to] = true);
        for (n, supplied) in self.nodes.iter().zip(supplied) {
            if matches!(n.kind, NodeKind::User(_)) && !supplied {
                self.warnings
                    .push(format!("user {}: no link supplies it", n.id));
            }
        }
        links
    }

    /// Capacity, cost and loss of a link.
    fn link_values(&mut self, l: &Link, id: &str) {
        if let Some(c) = l.capacity_m3_per_day {
            if !finite_nonneg(c) {
                self.cx.err(
                    KIND,
                    id,
                    "capacity_m3_per_day",
                    format!("{c} must be a number ≥ 0"),
                );
            }
        }
        if !l.cost_per_m3.is_finite() {
            self.cx
                .err(KIND, id, "cost_per_m3", "must be a finite number");
        }
        if !(l.loss_fraction.is_finite() && (0.0..1.0).contains(&l.loss_fraction)) {
            self.cx.err(
                KIND,
                id,
                "loss_fraction",
                format!("{} must be in [0, 1)", l.loss_fraction),
            );
        }
    }

    /// Water may not return to its node, leave a terminal node or enter a plant.
    fn link_ends(&mut self, l: &Link, id: &str, f: usize, t: usize) {
        if f == t {
            self.cx
                .err(KIND, id, "to", "a link cannot return to its own node");
        }
        if matches!(
            self.nodes[f].kind,
            NodeKind::User(_) | NodeKind::River(_) | NodeKind::Outfall(_)
        ) {
            let m = format!(
                "{} '{}' is terminal: water cannot leave it",
                self.nodes[f].kind.name(),
                l.from
            );
            self.cx.err(KIND, id, "from", m);
        }
        if matches!(self.nodes[t].kind, NodeKind::Plant(_)) {
            self.cx.err(
                KIND,
                id,
                "to",
                format!(
                    "plant '{}' takes influent from its sewershed, not from links",
                    l.to
                ),
            );
        }
    }
}
