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

/// Accumulates the summary day by day (memory independent of the horizon).
pub struct SummaryBuilder {
    s: Summary,
    acc: Vec<NodeAcc>,
    by_category: Vec<SupplyTotals>,
    /// Totals per distinct priority (ascending), and each node's place in it.
    priorities: Vec<u32>,
    by_priority: Vec<SupplyTotals>,
    priority_of: Vec<usize>,
    days_added: usize,
    displaced: [f64; 3],
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
            by_category: vec![SupplyTotals::default(); UserCategory::ALL.len()],
            priorities: Vec::new(),
            by_priority: Vec::new(),
            priority_of: vec![0; region.nodes.len()],
            days_added: 0,
            displaced: [0.0; 3],
        };
        for n in &region.nodes {
            if let NodeKind::User(u) = &n.kind {
                b.priorities.push(u.priority);
            }
        }
        b.priorities.sort_unstable();
        b.priorities.dedup();
        b.by_priority = vec![SupplyTotals::default(); b.priorities.len()];
        for (i, n) in region.nodes.iter().enumerate() {
            if let NodeKind::User(u) = &n.kind {
                b.priority_of[i] = b.priorities.partition_point(|&p| p < u.priority);
            }
        }
        for (i, n) in region.nodes.iter().enumerate() {
            match &n.kind {
                NodeKind::Pond(_) => {
                    b.s.storage_initial_m3 += storage[i];
                    acc[i].pond = PondSummary {
                        initial_m3: storage[i],
                        min_m3: storage[i],
                        max_m3: storage[i],
                        ..Default::default()
                    };
                }
                NodeKind::User(u) => {
                    acc[i].user = UserSummary {
                        category: u.category.as_str().to_string(),
                        priority: u.priority,
                        standard: u.requirement.as_ref().map(|r| r.label.clone()),
                        ..Default::default()
                    };
                }
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

    pub fn add_day(&mut self, region: &Region, nodes: &[NodeDay], links: &[LinkDay]) {
        let s = &mut self.s;
        for (i, n) in region.nodes.iter().enumerate() {
            let d = &nodes[i];
            let acc = &mut self.acc[i];
            s.mass_balance_max_node_residual_m3 = s
                .mass_balance_max_node_residual_m3
                .max(d.balance_residual_m3.abs());
            match &n.kind {
                NodeKind::Plant(p) => {
                    s.total_influent_m3 += d.influent_m3;
                    s.treated_m3 += d.treated_m3;
                    s.bypassed_m3 += d.bypassed_m3;
                    s.bypass_penalty += d.bypassed_m3 * p.bypass_penalty_per_m3;
                    s.unrouted_m3 += d.unrouted_m3;
                    s.energy_kwh += d.treated_m3 * p.energy_kwh_per_m3;
                    s.sludge_t_ds += d.treated_m3 / 1e4 * p.sludge_t_ds_per_1e4_m3;
                    let ps = &mut acc.plant;
                    ps.influent_m3 += d.influent_m3;
                    ps.treated_m3 += d.treated_m3;
                    ps.bypassed_m3 += d.bypassed_m3;
                    ps.unrouted_m3 += d.unrouted_m3;
                    ps.days_bypassing += u32::from(d.bypassed_m3 > 0.0);
                }
                NodeKind::Pond(_) => {
                    s.pond_losses_m3 += d.pond_loss_m3;
                    let ps = &mut acc.pond;
                    ps.final_m3 = d.storage_m3;
                    ps.min_m3 = ps.min_m3.min(d.storage_m3);
                    ps.max_m3 = ps.max_m3.max(d.storage_m3);
                    ps.losses_m3 += d.pond_loss_m3;
                }
                NodeKind::User(u) => {
                    s.delivered_m3 += d.delivered_m3;
                    s.demand_m3 += d.demand_m3;
                    s.deficit_m3 += d.deficit_m3;
                    for t in [
                        &mut self.by_category[u.category as usize],
                        &mut self.by_priority[self.priority_of[i]],
                    ] {
                        t.demand_m3 += d.demand_m3;
                        t.delivered_m3 += d.delivered_m3;
                        t.deficit_m3 += d.deficit_m3;
                    }
                    match u.displaces {
                        Displaces::TapWater => self.displaced[0] += d.delivered_m3,
                        Displaces::Groundwater => self.displaced[1] += d.delivered_m3,
                        Displaces::SurfaceWater => self.displaced[2] += d.delivered_m3,
                        Displaces::None => {}
                    }
                    let us = &mut acc.user;
                    us.demand_m3 += d.demand_m3;
                    us.delivered_m3 += d.delivered_m3;
                    us.deficit_m3 += d.deficit_m3;
                    us.days_fully_met += u32::from(d.demand_m3 > 0.0 && d.deficit_m3 <= 0.0);
                    us.days_compliant_supply += u32::from(d.compliant == Some(true));
                    us.days_noncompliant_supply += u32::from(d.compliant == Some(false));
                    us.days_refused_for_quality += u32::from(d.refused_for_quality);
                }
                NodeKind::River(_) | NodeKind::Outfall(_) => {
                    acc.discharged_m3 += d.discharged_m3;
                    s.discharged_total_m3 += d.discharged_m3;
                }
                _ => {}
            }
        }
        s.link_losses_m3 += links.iter().map(|l| l.loss_m3).sum::<f64>();
        self.days_added += 1;
    }

    pub fn finish(
        mut self,
        region: &Region,
        storage: &[f64],
        stats: RunStats,
        solver: &str,
    ) -> Summary {
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
