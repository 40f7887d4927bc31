//! Repeated days (重复日): a day whose inputs equal the day before's, simulated from the same
//! state, gives the same results. When a simulated day ends in the state it started from (a
//! fixed point: ponds full or steady, qualities settled) and the coming days' inputs do not
//! change, those days are copies of it and are not simulated again. The results are the same,
//! bit for bit, as simulating every day (tests/repeat.rs); only the solver statistics differ.
//!
//! Why it is exact: a day is a function of its inputs (influent, demands, wetland temperature
//! by day), the carried state (pond storage and quality, node qualities, yesterday's flows
//! and wetland inflows) and the solver's last basis. A day with exactly one solve leaves the
//! solver at an optimal basis of the very problem the repeated day poses, so the solver
//! would return the same flows from it.

use super::Simulation;
use rewater_model::{NodeKind, Region};

/// For each day index, whether some input may differ from the day before's (day 0: true).
pub(super) fn input_changes(region: &Region) -> Vec<bool> {
    let days = region.days;
    let mut changed = vec![false; days];
    if let Some(first) = changed.first_mut() {
        *first = true;
    }
    let month_of: Vec<u32> = (0..days)
        .map(|d| region.start.add_days(d as i32).month())
        .collect();
    let month_starts: Vec<usize> = (1..days)
        .filter(|&d| month_of[d] != month_of[d - 1])
        .collect();
    for node in &region.nodes {
        let profile = match &node.kind {
            NodeKind::Plant(p) => &p.influent_m3_per_day,
            NodeKind::User(u) => &u.demand_m3_per_day,
            NodeKind::Wetland(w) => &w.temperature_c,
            _ => continue,
        };
        profile.mark_changes(&month_of, &month_starts, &mut changed);
    }
    changed
}

/// The state a day starts from, as bits (NaN qualities compare equal to themselves).
#[derive(Debug, Default)]
pub(super) struct DayState {
    bits: Vec<u64>,
}

impl DayState {
    /// Records the simulation's carried state.
    pub(super) fn take(&mut self, sim: &Simulation) {
        self.bits.clear();
        sim.state_bits(|b| self.bits.push(b));
    }

    /// Whether the simulation's carried state equals the one taken.
    pub(super) fn same(&self, sim: &Simulation) -> bool {
        let mut k = 0;
        let mut same = true;
        sim.state_bits(|b| {
            same &= self.bits.get(k) == Some(&b);
            k += 1;
        });
        same && k == self.bits.len()
    }
}

impl Simulation<'_> {
    /// Visits every number a day reads from the days before it: pond storage and, with
    /// water-quality factors, pond start quality, node qualities, and the wetland inflows and
    /// arc flows of the last solution (they only serve the quality estimate before the first
    /// solve, so without factors a day does not read them).
    fn state_bits(&self, mut visit: impl FnMut(u64)) {
        for &i in &self.pond_nodes {
            visit(self.storage[i].to_bits());
        }
        if self.region.factors.is_empty() {
            return;
        }
        for &i in &self.pond_nodes {
            self.pond_conc_start[i]
                .iter()
                .for_each(|c| visit(c.to_bits()));
        }
        self.last_wetland_inflow
            .iter()
            .for_each(|q| visit(q.to_bits()));
        self.flow.iter().for_each(|q| visit(q.to_bits()));
        for c in &self.conc {
            c.iter().for_each(|c| visit(c.to_bits()));
        }
    }
}
