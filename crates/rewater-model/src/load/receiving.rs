//! `[[junction]]`, `[[river]]` and `[[outfall]]`: nodes that only pass or receive water.

use super::ctx::Resolver;
use crate::region::{NodeKind, ReceivingData};
use crate::types::{Junction, Receiving};

impl Resolver<'_> {
    pub(super) fn junction(&mut self, j: &Junction) {
        self.add("junction", &j.id, &j.name, j.location, NodeKind::Junction);
    }

    pub(super) fn river(&mut self, r: &Receiving) {
        if !r.cost_per_m3.is_finite() {
            self.cx
                .err("river", &r.id, "cost_per_m3", "must be a finite number");
        }
        let d = ReceivingData {
            river: r.river.clone(),
            cost_per_m3: r.cost_per_m3,
        };
        self.add("river", &r.id, &r.name, r.location, NodeKind::River(d));
    }

    /// An outfall, whose `river` must name one of `rivers`.
    pub(super) fn outfall(&mut self, o: &Receiving, rivers: &[Receiving]) {
        if let Some(r) = &o.river {
            if !rivers.iter().any(|x| &x.id == r) {
                self.cx
                    .err("outfall", &o.id, "river", format!("unknown river '{r}'"));
            }
        }
        let d = ReceivingData {
            river: o.river.clone(),
            cost_per_m3: o.cost_per_m3,
        };
        self.add("outfall", &o.id, &o.name, o.location, NodeKind::Outfall(d));
    }
}
