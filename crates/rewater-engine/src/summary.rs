//! The run summary (summary.json): totals, indicators and balances. Fields: docs/summary.md.

use crate::sim::{LinkDay, NodeDay, RunStats};
use rewater_model::{Displaces, NodeKind, Region, UserCategory};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Supply figures for a group of users.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SupplyTotals {
    pub demand_m3: f64,
    pub delivered_m3: f64,
    pub deficit_m3: f64,
}

/// One user's figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UserSummary {
    pub category: String,
    pub priority: u32,
    pub standard: Option<String>,
    pub demand_m3: f64,
    pub delivered_m3: f64,
    pub deficit_m3: f64,
    /// Days with demand whose demand was met in full.
    pub days_fully_met: u32,
    /// Days the water delivered met the user's standard.
    pub days_compliant_supply: u32,
    /// Days water was delivered that did not meet the standard (should stay 0; see docs/engine.md).
    pub days_noncompliant_supply: u32,
    /// Days a supplying link was closed because its water failed the standard.
    pub days_refused_for_quality: u32,
}

/// One plant's figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PlantSummary {
    pub influent_m3: f64,
    pub treated_m3: f64,
    pub bypassed_m3: f64,
    pub days_bypassing: u32,
    pub unrouted_m3: f64,
}

/// One pond's figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PondSummary {
    pub initial_m3: f64,
    pub final_m3: f64,
    pub min_m3: f64,
    pub max_m3: f64,
    pub losses_m3: f64,
}

/// A target and whether the run met it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetResult {
    pub target: f64,
    pub achieved: f64,
    pub met: bool,
}

/// The summary of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub model: String,
    pub start: String,
    pub end: String,
    pub days: usize,
    pub solver: String,
    pub total_influent_m3: f64,
    pub treated_m3: f64,
    pub bypassed_m3: f64,
    pub bypass_penalty: f64,
    pub delivered_m3: f64,
    pub demand_m3: f64,
    pub deficit_m3: f64,
    /// 再生水利用率 = delivered ÷ treated.
    pub utilisation_rate: Option<f64>,
    /// Delivered ÷ demand.
    pub supply_reliability: Option<f64>,
    pub delivered_by_category: BTreeMap<String, SupplyTotals>,
    pub delivered_by_priority: BTreeMap<u32, SupplyTotals>,
    pub displaced_m3: BTreeMap<String, f64>,
    pub discharged_m3: BTreeMap<String, f64>,
    pub discharged_total_m3: f64,
    pub unrouted_m3: f64,
    pub link_losses_m3: f64,
    pub pond_losses_m3: f64,
    pub storage_initial_m3: f64,
    pub storage_final_m3: f64,
    pub energy_kwh: f64,
    pub sludge_t_ds: f64,
    pub users: BTreeMap<String, UserSummary>,
    pub plants: BTreeMap<String, PlantSummary>,
    pub ponds: BTreeMap<String, PondSummary>,
    /// Largest absolute balance residual of any node on any day, m³.
    pub mass_balance_max_node_residual_m3: f64,
    /// Whole-region residual: initial storage + treated − delivered − discharged − unrouted −
    /// link losses − pond losses − final storage, m³.
    pub mass_balance_residual_m3: f64,
    /// The same relative to treated + initial storage.
    pub mass_balance_relative: f64,
    pub targets: BTreeMap<String, TargetResult>,
    pub stats: RunStats,
    pub warnings: Vec<String>,
}

/// Per-node running totals, indexed like `Region::nodes` (no lookups by name on the hot path).
#[derive(Debug, Clone, Default)]
struct NodeAcc {
    user: UserSummary,
    plant: PlantSummary,
    pond: PondSummary,
    discharged_m3: f64,
}

/// A user's running totals, compact for the daily pass (the names stay in `NodeAcc`).
#[derive(Debug, Clone, Copy, Default)]
struct UserRow {
    node: usize,
    category: usize,
    priority: usize,
    /// Index into `SummaryBuilder::displaced`, if the user's water displaces another source.
    displaces: Option<usize>,
    demand_m3: f64,
    delivered_m3: f64,
    deficit_m3: f64,
    days_fully_met: u32,
    days_compliant_supply: u32,
    days_noncompliant_supply: u32,
    days_refused_for_quality: u32,
}

/// A plant's running totals and the rates the region's totals take from it.
#[derive(Debug, Clone, Copy, Default)]
struct PlantRow {
    node: usize,
    bypass_penalty_per_m3: f64,
    energy_kwh_per_m3: f64,
    sludge_t_ds_per_1e4_m3: f64,
    influent_m3: f64,
    treated_m3: f64,
    bypassed_m3: f64,
    unrouted_m3: f64,
    days_bypassing: u32,
}

/// One day's totals over the region, kept so that a repeated day adds them again.
#[derive(Debug, Clone, Default)]
struct DayTotals {
    max_residual: f64,
    influent_m3: f64,
    treated_m3: f64,
    bypassed_m3: f64,
    bypass_penalty: f64,
    unrouted_m3: f64,
    energy_kwh: f64,
    sludge_t_ds: f64,
    pond_losses_m3: f64,
    delivered_m3: f64,
    demand_m3: f64,
    deficit_m3: f64,
    discharged_m3: f64,
    link_losses_m3: f64,
    by_category: Vec<SupplyTotals>,
    by_priority: Vec<SupplyTotals>,
    displaced: [f64; 3],
}

impl DayTotals {
    /// Zero, keeping the group lists' lengths.
    fn clear(&mut self) {
        let mut by_category = std::mem::take(&mut self.by_category);
        let mut by_priority = std::mem::take(&mut self.by_priority);
        by_category.fill(SupplyTotals::default());
        by_priority.fill(SupplyTotals::default());
        *self = DayTotals {
            by_category,
            by_priority,
            ..Default::default()
        };
    }
}

/// Accumulates the summary day by day (memory independent of the horizon). Each kind of node
/// has its own list in node order, so every total adds the same numbers in the same order as
/// one pass over all nodes would.
pub struct SummaryBuilder {
    s: Summary,
    acc: Vec<NodeAcc>,
    users: Vec<UserRow>,
    plants: Vec<PlantRow>,
    /// (node, running pond figures).
    ponds: Vec<(usize, PondSummary)>,
    /// (node, discharged m³) of rivers and outfalls.
    outlets: Vec<(usize, f64)>,
    by_category: Vec<SupplyTotals>,
    /// Totals per distinct priority (ascending), and each node's place in it.
    priorities: Vec<u32>,
    by_priority: Vec<SupplyTotals>,
    priority_of: Vec<usize>,
    days_added: usize,
    displaced: [f64; 3],
    /// The totals of the day added last.
    day: DayTotals,
    /// What the day added last added to each node's figures.
    last: LastDay,
    /// Repeated days not yet added (copies of the day added last).
    repeats: u32,
}

/// What the day added last added to the running figures of each plant, pond (storage and
/// losses), user and outlet, in the order of the builder's lists.
#[derive(Debug, Clone, Default)]
struct LastDay {
    plants: Vec<PlantDay>,
    ponds: Vec<(f64, f64)>,
    users: Vec<UserDay>,
    outlets: Vec<f64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct PlantDay {
    influent_m3: f64,
    treated_m3: f64,
    bypassed_m3: f64,
    unrouted_m3: f64,
    bypassing: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct UserDay {
    demand_m3: f64,
    delivered_m3: f64,
    deficit_m3: f64,
    fully_met: u32,
    compliant: u32,
    noncompliant: u32,
    refused: u32,
}

/// Adds each user's day to its row `k` times. Four users at a time, so that the additions of
/// one user's sums, which must follow each other, overlap with the other users'.
fn add_user_days(rows: &mut [UserRow], days: &[UserDay], k: u32) {
    const LANES: usize = 4;
    let mut rows4 = rows.chunks_exact_mut(LANES);
    let mut days4 = days.chunks_exact(LANES);
    for (r, d) in (&mut rows4).zip(&mut days4) {
        let mut sums = [[0.0f64; 3]; LANES];
        for j in 0..LANES {
            sums[j] = [r[j].demand_m3, r[j].delivered_m3, r[j].deficit_m3];
        }
        for _ in 0..k {
            for j in 0..LANES {
                sums[j][0] += d[j].demand_m3;
                sums[j][1] += d[j].delivered_m3;
                sums[j][2] += d[j].deficit_m3;
            }
        }
        for j in 0..LANES {
            [r[j].demand_m3, r[j].delivered_m3, r[j].deficit_m3] = sums[j];
            add_user_counts(&mut r[j], &d[j], k);
        }
    }
    for (r, d) in rows4.into_remainder().iter_mut().zip(days4.remainder()) {
        for _ in 0..k {
            r.demand_m3 += d.demand_m3;
            r.delivered_m3 += d.delivered_m3;
            r.deficit_m3 += d.deficit_m3;
        }
        add_user_counts(r, d, k);
    }
}

fn add_user_counts(r: &mut UserRow, d: &UserDay, k: u32) {
    r.days_fully_met += k * d.fully_met;
    r.days_compliant_supply += k * d.compliant;
    r.days_noncompliant_supply += k * d.noncompliant;
    r.days_refused_for_quality += k * d.refused;
}

impl SummaryBuilder {
    pub fn new(region: &Region, storage: &[f64]) -> SummaryBuilder {
        let s = Summary {
            model: region.name.clone(),
            start: region.start.to_string(),
            end: region.start.add_days(region.days as i32 - 1).to_string(),
            days: region.days,
            warnings: region.warnings.clone(),
            ..Default::default()
        };
        let mut acc = vec![NodeAcc::default(); region.nodes.len()];
        let mut b = SummaryBuilder {
            s,
            acc: Vec::new(),
            users: Vec::new(),
            plants: Vec::new(),
            ponds: Vec::new(),
            outlets: Vec::new(),
            by_category: vec![SupplyTotals::default(); UserCategory::ALL.len()],
            priorities: Vec::new(),
            by_priority: Vec::new(),
            priority_of: vec![0; region.nodes.len()],
            days_added: 0,
            displaced: [0.0; 3],
            day: DayTotals::default(),
            last: LastDay::default(),
            repeats: 0,
        };
        for n in &region.nodes {
            if let NodeKind::User(u) = &n.kind {
                b.priorities.push(u.priority);
            }
        }
        b.priorities.sort_unstable();
        b.priorities.dedup();
        b.by_priority = vec![SupplyTotals::default(); b.priorities.len()];
        b.day.by_priority = b.by_priority.clone();
        b.day.by_category = b.by_category.clone();
        for (i, n) in region.nodes.iter().enumerate() {
            if let NodeKind::User(u) = &n.kind {
                b.priority_of[i] = b.priorities.partition_point(|&p| p < u.priority);
            }
        }
        for (i, n) in region.nodes.iter().enumerate() {
            match &n.kind {
                NodeKind::Plant(p) => b.plants.push(PlantRow {
                    node: i,
                    bypass_penalty_per_m3: p.bypass_penalty_per_m3,
                    energy_kwh_per_m3: p.energy_kwh_per_m3,
                    sludge_t_ds_per_1e4_m3: p.sludge_t_ds_per_1e4_m3,
                    ..Default::default()
                }),
                NodeKind::Pond(_) => {
                    b.s.storage_initial_m3 += storage[i];
                    let pond = PondSummary {
                        initial_m3: storage[i],
                        min_m3: storage[i],
                        max_m3: storage[i],
                        ..Default::default()
                    };
                    b.ponds.push((i, pond));
                }
                NodeKind::User(u) => {
                    acc[i].user = UserSummary {
                        category: u.category.as_str().to_string(),
                        priority: u.priority,
                        standard: u.requirement.as_ref().map(|r| r.label.clone()),
                        ..Default::default()
                    };
                    b.users.push(UserRow {
                        node: i,
                        category: u.category as usize,
                        priority: b.priority_of[i],
                        displaces: match u.displaces {
                            Displaces::TapWater => Some(0),
                            Displaces::Groundwater => Some(1),
                            Displaces::SurfaceWater => Some(2),
                            Displaces::None => None,
                        },
                        ..Default::default()
                    });
                }
                NodeKind::River(_) | NodeKind::Outfall(_) => b.outlets.push((i, 0.0)),
                _ => {}
            }
        }
        b.acc = acc;
        b
    }

    /// Adds findings of the engine's set-up to the summary's warnings.
    pub fn add_warnings(&mut self, warnings: &[String]) {
        self.s.warnings.extend_from_slice(warnings);
    }

    /// Adds a simulated day's results.
    pub fn add_day(&mut self, _region: &Region, nodes: &[NodeDay], links: &[LinkDay]) {
        self.add_repeats();
        self.take_last(nodes);
        self.day_totals(nodes, links);
        self.add_last_rows(1);
        self.fold_day();
    }

    /// Adds a day whose results are those of the day added last (a repeated day, sim/repeat.rs):
    /// the same as [`SummaryBuilder::add_day`] with the same `nodes` and links, bit for bit, but
    /// the region's totals of that day are added again instead of being summed anew.
    pub fn add_repeated_day(&mut self, region: &Region, nodes: &[NodeDay], links: &[LinkDay]) {
        if self.days_added == 0 {
            return self.add_day(region, nodes, links);
        }
        // Added with the next simulated day or at the end, as a run of copies.
        self.repeats += 1;
    }

    /// The day's region totals (each summed over its nodes in node order), into `self.day`;
    /// the users' from the figures [`SummaryBuilder::take_last`] took.
    fn day_totals(&mut self, nodes: &[NodeDay], links: &[LinkDay]) {
        let t = &mut self.day;
        t.clear();
        t.max_residual = nodes
            .iter()
            .fold(0.0f64, |m, d| m.max(d.balance_residual_m3.abs()));
        for p in &self.plants {
            let d = &nodes[p.node];
            t.influent_m3 += d.influent_m3;
            t.treated_m3 += d.treated_m3;
            t.bypassed_m3 += d.bypassed_m3;
            t.bypass_penalty += d.bypassed_m3 * p.bypass_penalty_per_m3;
            t.unrouted_m3 += d.unrouted_m3;
            t.energy_kwh += d.treated_m3 * p.energy_kwh_per_m3;
            t.sludge_t_ds += d.treated_m3 / 1e4 * p.sludge_t_ds_per_1e4_m3;
        }
        for (node, _) in &self.ponds {
            t.pond_losses_m3 += nodes[*node].pond_loss_m3;
        }
        // From the users' figures just taken (compact, in the users' order).
        for (u, d) in self.users.iter().zip(&self.last.users) {
            t.delivered_m3 += d.delivered_m3;
            t.demand_m3 += d.demand_m3;
            t.deficit_m3 += d.deficit_m3;
            for g in [
                &mut t.by_category[u.category],
                &mut t.by_priority[u.priority],
            ] {
                g.demand_m3 += d.demand_m3;
                g.delivered_m3 += d.delivered_m3;
                g.deficit_m3 += d.deficit_m3;
            }
            if let Some(k) = u.displaces {
                t.displaced[k] += d.delivered_m3;
            }
        }
        for (node, _) in &self.outlets {
            t.discharged_m3 += nodes[*node].discharged_m3;
        }
        t.link_losses_m3 = links.iter().map(|l| l.loss_m3).sum::<f64>();
    }

    /// Keeps what the day adds to each node's running figures (a repeated day adds it again).
    fn take_last(&mut self, nodes: &[NodeDay]) {
        self.last.plants.clear();
        self.last.plants.extend(self.plants.iter().map(|p| {
            let d = &nodes[p.node];
            PlantDay {
                influent_m3: d.influent_m3,
                treated_m3: d.treated_m3,
                bypassed_m3: d.bypassed_m3,
                unrouted_m3: d.unrouted_m3,
                bypassing: u32::from(d.bypassed_m3 > 0.0),
            }
        }));
        self.last.ponds.clear();
        self.last.ponds.extend(
            self.ponds
                .iter()
                .map(|(node, _)| (nodes[*node].storage_m3, nodes[*node].pond_loss_m3)),
        );
        self.last.users.clear();
        self.last.users.extend(self.users.iter().map(|u| {
            let d = &nodes[u.node];
            UserDay {
                demand_m3: d.demand_m3,
                delivered_m3: d.delivered_m3,
                deficit_m3: d.deficit_m3,
                fully_met: u32::from(d.demand_m3 > 0.0 && d.deficit_m3 <= 0.0),
                compliant: u32::from(d.compliant == Some(true)),
                noncompliant: u32::from(d.compliant == Some(false)),
                refused: u32::from(d.refused_for_quality),
            }
        }));
        self.last.outlets.clear();
        self.last.outlets.extend(
            self.outlets
                .iter()
                .map(|(node, _)| nodes[*node].discharged_m3),
        );
    }

    /// Adds the repeated days not yet added (each as the day added last).
    fn add_repeats(&mut self) {
        let k = std::mem::take(&mut self.repeats);
        if k > 0 {
            self.add_last_rows(k);
            for _ in 0..k {
                self.fold_day();
            }
        }
    }

    /// Adds the day added last to each node's running figures `k` times. Each sum takes the
    /// same additions in the same order as `k` days added one by one (so the same bits),
    /// without reading the day's nodes again.
    fn add_last_rows(&mut self, k: u32) {
        for (p, d) in self.plants.iter_mut().zip(&self.last.plants) {
            for _ in 0..k {
                p.influent_m3 += d.influent_m3;
                p.treated_m3 += d.treated_m3;
                p.bypassed_m3 += d.bypassed_m3;
                p.unrouted_m3 += d.unrouted_m3;
            }
            p.days_bypassing += k * d.bypassing;
        }
        for ((_, ps), &(storage_m3, loss_m3)) in self.ponds.iter_mut().zip(&self.last.ponds) {
            ps.final_m3 = storage_m3;
            ps.min_m3 = ps.min_m3.min(storage_m3);
            ps.max_m3 = ps.max_m3.max(storage_m3);
            for _ in 0..k {
                ps.losses_m3 += loss_m3;
            }
        }
        add_user_days(&mut self.users, &self.last.users, k);
        for ((_, discharged), d) in self.outlets.iter_mut().zip(&self.last.outlets) {
            for _ in 0..k {
                *discharged += d;
            }
        }
    }

    /// Adds the day's region totals to the run's.
    fn fold_day(&mut self) {
        let (s, t) = (&mut self.s, &self.day);
        s.mass_balance_max_node_residual_m3 =
            s.mass_balance_max_node_residual_m3.max(t.max_residual);
        s.total_influent_m3 += t.influent_m3;
        s.treated_m3 += t.treated_m3;
        s.bypassed_m3 += t.bypassed_m3;
        s.bypass_penalty += t.bypass_penalty;
        s.unrouted_m3 += t.unrouted_m3;
        s.energy_kwh += t.energy_kwh;
        s.sludge_t_ds += t.sludge_t_ds;
        s.pond_losses_m3 += t.pond_losses_m3;
        s.delivered_m3 += t.delivered_m3;
        s.demand_m3 += t.demand_m3;
        s.deficit_m3 += t.deficit_m3;
        s.discharged_total_m3 += t.discharged_m3;
        s.link_losses_m3 += t.link_losses_m3;
        let groups = self.by_category.iter_mut().zip(&t.by_category);
        for (g, d) in groups.chain(self.by_priority.iter_mut().zip(&t.by_priority)) {
            g.demand_m3 += d.demand_m3;
            g.delivered_m3 += d.delivered_m3;
            g.deficit_m3 += d.deficit_m3;
        }
        for (a, d) in self.displaced.iter_mut().zip(t.displaced) {
            *a += d;
        }
        self.days_added += 1;
    }

    /// Moves the compact running totals into the per-node figures the summary lists.
    fn settle_rows(&mut self) {
        for p in &self.plants {
            self.acc[p.node].plant = PlantSummary {
                influent_m3: p.influent_m3,
                treated_m3: p.treated_m3,
                bypassed_m3: p.bypassed_m3,
                days_bypassing: p.days_bypassing,
                unrouted_m3: p.unrouted_m3,
            };
        }
        for (node, pond) in &self.ponds {
            self.acc[*node].pond = pond.clone();
        }
        for u in &self.users {
            let us = &mut self.acc[u.node].user;
            us.demand_m3 = u.demand_m3;
            us.delivered_m3 = u.delivered_m3;
            us.deficit_m3 = u.deficit_m3;
            us.days_fully_met = u.days_fully_met;
            us.days_compliant_supply = u.days_compliant_supply;
            us.days_noncompliant_supply = u.days_noncompliant_supply;
            us.days_refused_for_quality = u.days_refused_for_quality;
        }
        for (node, discharged) in &self.outlets {
            self.acc[*node].discharged_m3 = *discharged;
        }
    }

    pub fn finish(
        mut self,
        region: &Region,
        storage: &[f64],
        stats: RunStats,
        solver: &str,
    ) -> Summary {
        self.add_repeats();
        self.settle_rows();
        let s = &mut self.s;
        for (i, n) in region.nodes.iter().enumerate() {
            let acc = std::mem::take(&mut self.acc[i]);
            match &n.kind {
                NodeKind::Plant(_) => {
                    s.plants.insert(n.id.clone(), acc.plant);
                }
                NodeKind::Pond(_) => {
                    s.ponds.insert(n.id.clone(), acc.pond);
                }
                NodeKind::User(_) => {
                    s.users.insert(n.id.clone(), acc.user);
                }
                NodeKind::River(_) | NodeKind::Outfall(_) => {
                    s.discharged_m3.insert(n.id.clone(), acc.discharged_m3);
                }
                _ => {}
            }
        }
        for (c, t) in UserCategory::ALL.iter().zip(&self.by_category) {
            if t.demand_m3 > 0.0 || t.delivered_m3 > 0.0 {
                s.delivered_by_category
                    .insert(c.as_str().to_string(), t.clone());
            }
        }
        if self.days_added > 0 {
            s.delivered_by_priority = self
                .priorities
                .iter()
                .copied()
                .zip(std::mem::take(&mut self.by_priority))
                .collect();
        }
        for (k, v) in ["tap_water", "groundwater", "surface_water"]
            .iter()
            .zip(self.displaced)
        {
            if v > 0.0 {
                s.displaced_m3.insert(k.to_string(), v);
            }
        }
        s.storage_final_m3 = region
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.kind, NodeKind::Pond(_)))
            .map(|(i, _)| storage[i])
            .sum();
        s.mass_balance_residual_m3 = s.storage_initial_m3 + s.treated_m3
            - s.delivered_m3
            - s.discharged_total_m3
            - s.unrouted_m3
            - s.link_losses_m3
            - s.pond_losses_m3
            - s.storage_final_m3;
        let scale = (s.treated_m3 + s.storage_initial_m3).max(1.0);
        s.mass_balance_relative = s.mass_balance_residual_m3.abs() / scale;
        s.utilisation_rate = (s.treated_m3 > 0.0).then(|| s.delivered_m3 / s.treated_m3);
        s.supply_reliability = (s.demand_m3 > 0.0).then(|| s.delivered_m3 / s.demand_m3);
        if let (Some(t), Some(a)) = (region.targets.utilisation_rate, s.utilisation_rate) {
            s.targets.insert(
                "utilisation_rate".into(),
                TargetResult {
                    target: t,
                    achieved: a,
                    met: a >= t,
                },
            );
        }
        if let (Some(t), Some(a)) = (region.targets.supply_reliability, s.supply_reliability) {
            s.targets.insert(
                "supply_reliability".into(),
                TargetResult {
                    target: t,
                    achieved: a,
                    met: a >= t,
                },
            );
        }
        s.stats = stats;
        s.solver = solver.to_string();
        self.s
    }
}

/// The largest summary.json read back. A summary of 10⁵ users is about 30 MB; the cap keeps a
/// device (`/dev/zero`) or a huge file given by mistake from filling memory.
pub const MAX_SUMMARY_BYTES: u64 = 256 << 20;

/// A summary that cannot be read back, naming its file.
#[derive(Debug, thiserror::Error)]
pub enum ReadSummaryError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a rewater summary: larger than {max_bytes} bytes")]
    TooLarge { path: String, max_bytes: u64 },
    #[error("{path}: not a rewater summary: {source}")]
    NotSummary {
        path: String,
        source: serde_json::Error,
    },
}

/// Reads the summary of a run: `path` is a run's output folder (its summary.json) or the file.
pub fn read_summary(path: &std::path::Path) -> Result<Summary, ReadSummaryError> {
    read_summary_at_most(path, MAX_SUMMARY_BYTES)
}

fn read_summary_at_most(
    path: &std::path::Path,
    max_bytes: u64,
) -> Result<Summary, ReadSummaryError> {
    use std::io::Read;
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    let name = || file.display().to_string();
    let io_err = |source| ReadSummaryError::Io {
        path: name(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(&file)
        .map_err(io_err)?
        .take(max_bytes + 1)
        .read_to_string(&mut text)
        .map_err(io_err)?;
    if text.len() as u64 > max_bytes {
        return Err(ReadSummaryError::TooLarge {
            path: name(),
            max_bytes,
        });
    }
    serde_json::from_str(&text).map_err(|source| ReadSummaryError::NotSummary {
        path: name(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("rewater-summary-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_summary_is_read_from_its_folder_or_file() {
        let d = dir("read");
        let s = Summary {
            model: "M".into(),
            days: 3,
            treated_m3: 42.5,
            ..Default::default()
        };
        std::fs::write(d.join("summary.json"), serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(read_summary(&d).unwrap(), s);
        assert_eq!(read_summary(&d.join("summary.json")).unwrap(), s);
    }

    #[test]
    fn what_is_not_a_summary_is_refused_naming_the_file() {
        let d = dir("refuse");
        let missing = d.join("nothing");
        let e = read_summary(&missing).unwrap_err();
        assert!(matches!(e, ReadSummaryError::Io { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with(&format!("{}: ", missing.display())),
            "{e}"
        );
        let csv = d.join("s.csv");
        std::fs::write(&csv, "id,cod\n").unwrap();
        let e = read_summary(&csv).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("{}: not a rewater summary: ", csv.display())),
            "{e}"
        );
        // A file past the cap is refused before it is parsed (a device would never end).
        std::fs::write(&csv, format!("{{\"model\": \"{}\"}}", "x".repeat(100))).unwrap();
        let e = read_summary_at_most(&csv, 64).unwrap_err();
        assert!(
            matches!(e, ReadSummaryError::TooLarge { max_bytes: 64, .. }),
            "{e:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_refused_not_read_to_the_end() {
        let e = read_summary_at_most(std::path::Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(matches!(e, ReadSummaryError::TooLarge { .. }), "{e:?}");
    }
}
