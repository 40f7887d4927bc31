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

/// The state a day starts from (compared bit for bit: NaN qualities equal themselves).
#[derive(Debug, Default)]
pub(super) struct DayState {
    values: Vec<f64>,
}

impl DayState {
    /// Records the simulation's carried state.
    pub(super) fn take(&mut self, sim: &Simulation) {
        self.values.clear();
        sim.state_slices(|part| {
            self.values.extend_from_slice(part);
            true
        });
    }

    /// Whether the simulation's carried state equals the one taken (stops at the first
    /// difference: on most days the pond storage already differs). Call only after a day of
    /// one solve: the flows the day started from are then the solver's buffer from before it
    /// (`flow_before`), compared without a copy.
    pub(super) fn same(&self, sim: &Simulation) -> bool {
        let mut rest = &self.values[..];
        let complete = sim.state_slices(|part| {
            let Some((head, tail)) = rest.split_at_checked(part.len()) else {
                return false;
            };
            rest = tail;
            head.iter()
                .zip(part)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        });
        let same_flows = sim.region.factors.is_empty()
            || (sim.flow.iter().zip(&sim.flow_before)).all(|(a, b)| a.to_bits() == b.to_bits());
        complete && rest.is_empty() && same_flows
    }
}

impl Simulation<'_> {
    /// Visits, part by part, every number a day reads from the days before it but the arc
    /// flows of the last solution (compared by [`DayState::same`] apart): pond storage and,
    /// with water-quality factors, pond start quality, node qualities and the wetland inflows
    /// (they, and the flows, only serve the quality estimate before the first solve, so
    /// without factors a day does not read them). Stops when `visit` returns false; returns
    /// whether every part was visited.
    fn state_slices(&self, mut visit: impl FnMut(&[f64]) -> bool) -> bool {
        for &i in &self.pond_nodes {
            if !visit(std::slice::from_ref(&self.storage[i])) {
                return false;
            }
        }
        if self.region.factors.is_empty() {
            return true;
        }
        for &i in &self.pond_nodes {
            if !visit(&self.pond_conc_start[i]) {
                return false;
            }
        }
        if !visit(&self.last_wetland_inflow) {
            return false;
        }
        self.conc.iter().all(|c| visit(c))
    }
}
