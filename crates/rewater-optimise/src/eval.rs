//! Evaluating a design: one engine run per scenario, the figures the objectives and
//! constraints need, the annualised cost, and the aggregate over the scenarios.
//!
//! [`run_scenario`] is the only place that calls the engine, so a faster engine API (network
//! and basis re-use between evaluations) can replace it without touching the search.

use crate::problem::{Objective, Problem};
use crate::study::Aggregate;
use rewater_engine::sim::{DailySink, LinkDay, NodeDay};
use rewater_engine::{Simulation, Summary};
use rewater_model::{NodeKind, Region};
use rewater_standards::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why an evaluation failed (a design the model loader or the engine refuses).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("scenario {scenario}: the design gives a model that does not resolve: {message}")]
    Model { scenario: String, message: String },
    #[error("scenario {scenario}: engine: {message}")]
    Engine { scenario: String, message: String },
    #[error("evaluation service: {0}")]
    Remote(String),
}

/// One scenario's figures for a design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioMetrics {
    pub scenario: String,
    pub days: usize,
    pub treated_m3: f64,
    pub delivered_m3: f64,
    pub bypassed_m3: f64,
    /// 再生水利用率 (0 if nothing was treated).
    pub reuse_rate: f64,
    pub reliability: f64,
    /// Delivered ÷ demand by priority.
    pub reliability_by_priority: BTreeMap<u32, f64>,
    /// Mean over users of the days their supply met their standard, per 365 days.
    pub compliant_supply_days: f64,
    /// Lowest share, over the built wetlands, of days with inflow whose outlet met the
    /// outlet standard (1 without a wetland).
    pub wetland_outlet_share: f64,
    /// Treated m³ by plant (for running costs).
    pub treated_by_plant: BTreeMap<String, f64>,
}

/// A design's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub capex_yuan: f64,
    /// Annualised capital + O&M + running costs, yuan per year.
    pub annual_cost_yuan: f64,
    /// Cost first, then the study's objectives, in their natural sense.
    pub objectives: Vec<f64>,
    /// Sum of relative constraint violations (0 = feasible).
    pub violation: f64,
    /// Constraints not met (keys as in the study file).
    pub failed: Vec<String>,
    pub scenarios: Vec<ScenarioMetrics>,
}

impl Evaluation {
    /// The objectives as all-minimised values (cost, −reuse …).
    pub fn minimised(&self) -> Vec<f64> {
        self.objectives
            .iter()
            .enumerate()
            .map(|(i, v)| if i == 0 { *v } else { -*v })
            .collect()
    }
}

/// Counts, per wetland node, days with inflow and days its outlet met the bounds.
struct OutletSink<'b> {
    bounds: &'b [(usize, f64, f64)],
    days: Vec<(u32, u32)>,
}

impl DailySink for OutletSink<'_> {
    fn day(
        &mut self,
        sim: &Simulation,
        _date: Date,
        nodes: &[NodeDay],
        _links: &[LinkDay],
    ) -> std::io::Result<()> {
        for (i, n) in sim.region.nodes.iter().enumerate() {
            if matches!(n.kind, NodeKind::Wetland(_)) && nodes[i].inflow_m3 > 0.0 {
                let c = sim.concentration(i);
                let ok = self.bounds.iter().all(|&(f, lo, hi)| {
                    let v = c[f];
                    v.is_nan() || (v >= lo - 1e-12 && v <= hi + 1e-12)
                });
                self.days[i].0 += 1;
                self.days[i].1 += u32::from(ok);
            }
        }
        Ok(())
    }
}

/// Runs one region and returns its summary and the lowest wetland-outlet share. The one
/// call into the engine.
pub fn run_scenario(
    region: &Region,
    bounds: &[(usize, f64, f64)],
) -> Result<(Summary, f64), String> {
    let mut sim = Simulation::new(region).map_err(|e| e.to_string())?;
    let mut sink = OutletSink {
        bounds,
        days: vec![(0, 0); region.nodes.len()],
    };
    let summary = sim
        .run(Some(&mut sink), &mut |_, _| {})
        .map_err(|e| e.to_string())?;
    let share = sink
        .days
        .iter()
        .filter(|d| d.0 > 0)
        .map(|d| d.1 as f64 / d.0 as f64)
        .fold(1.0, f64::min);
    Ok((summary, share))
}

fn metrics(id: &str, s: &Summary, share: f64) -> ScenarioMetrics {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 1.0 };
    let users = s.users.len().max(1) as f64;
    let per_year = 365.0 / s.days.max(1) as f64;
    ScenarioMetrics {
        scenario: id.into(),
        days: s.days,
        treated_m3: s.treated_m3,
        delivered_m3: s.delivered_m3,
        bypassed_m3: s.bypassed_m3,
        reuse_rate: if s.treated_m3 > 0.0 {
            s.delivered_m3 / s.treated_m3
        } else {
            0.0
        },
        reliability: ratio(s.delivered_m3, s.demand_m3),
        reliability_by_priority: s
            .delivered_by_priority
            .iter()
            .map(|(p, t)| (*p, ratio(t.delivered_m3, t.demand_m3)))
            .collect(),
        compliant_supply_days: s
            .users
            .values()
            .map(|u| u.days_compliant_supply as f64)
            .sum::<f64>()
            / users
            * per_year,
        wetland_outlet_share: share,
        treated_by_plant: s
            .plants
            .iter()
            .map(|(k, p)| (k.clone(), p.treated_m3))
            .collect(),
    }
}

/// Evaluates one design in every scenario: the function every evaluator (serial, rayon,
/// NATS worker) calls. Also returns the engine summaries.
pub fn evaluate(p: &Problem, g: &[f64]) -> Result<(Evaluation, Vec<Summary>), EvalError> {
    let mut ms = Vec::new();
    let mut sums = Vec::new();
    for (si, sc) in p.scenarios.iter().enumerate() {
        let model = p.apply(si, g);
        let region = rewater_model::resolve(&model, &sc.text, &sc.file, &sc.base, &p.standards)
            .map_err(|e| EvalError::Model {
                scenario: sc.id.clone(),
                message: e.to_string(),
            })?;
        let (summary, share) =
            run_scenario(&region, &p.outlet_bounds[si]).map_err(|message| EvalError::Engine {
                scenario: sc.id.clone(),
                message,
            })?;
        ms.push(metrics(&sc.id, &summary, share));
        sums.push(summary);
    }
    Ok((score(p, g, ms), sums))
}

/// Cost, objectives and constraint violations from the scenarios' figures.
pub fn score(p: &Problem, g: &[f64], ms: Vec<ScenarioMetrics>) -> Evaluation {
    let (capex, fixed, _) = p.fixed_cost(g);
    let n = ms.len().max(1) as f64;
    // Running costs of upgrades: mean treated volume per year over the scenarios.
    let running: f64 = p
        .upgrade_opex(g)
        .iter()
        .map(|(plant, per_m3)| {
            ms.iter()
                .map(|m| {
                    m.treated_by_plant.get(plant).copied().unwrap_or(0.0) * 365.0
                        / m.days.max(1) as f64
                })
                .sum::<f64>()
                / n
                * per_m3
        })
        .sum();
    let worst = p.study.constraints.aggregate == Aggregate::Worst;
    // Aggregate of a "larger is better" figure.
    let agg = |f: &dyn Fn(&ScenarioMetrics) -> f64| {
        let v = ms.iter().map(f);
        if worst {
            v.fold(f64::INFINITY, f64::min)
        } else {
            v.sum::<f64>() / n
        }
    };
    let rel_p = |pr: u32| {
        move |m: &ScenarioMetrics| m.reliability_by_priority.get(&pr).copied().unwrap_or(1.0)
    };
    let mut objectives = vec![fixed + running];
    for o in &p.objectives {
        objectives.push(match *o {
            Objective::ReuseRate => agg(&|m| m.reuse_rate),
            Objective::Reliability => agg(&|m| m.reliability),
            Objective::ReliabilityPriority(pr) => agg(&rel_p(pr)),
            Objective::CompliantSupplyDays => agg(&|m| m.compliant_supply_days),
        });
    }
    let k = &p.study.constraints;
    let mut violation = 0.0;
    let mut failed = Vec::new();
    let mut need = |key: String, have: f64, min: f64| {
        if have < min - 1e-12 {
            violation += (min - have) / min.max(1e-9);
            failed.push(key);
        }
    };
    if let Some(t) = k.reuse_rate_min {
        need("reuse_rate_min".into(), agg(&|m| m.reuse_rate), t);
    }
    if let Some(t) = k.wetland_outlet_min_share {
        need(
            "wetland_outlet_min_share".into(),
            agg(&|m| m.wetland_outlet_share),
            t,
        );
    }
    for (pr, t) in &p.reliability_min {
        need(format!("reliability_min.{pr}"), agg(&rel_p(*pr)), *t);
    }
    if k.no_bypass {
        let by = if worst {
            ms.iter().map(|m| m.bypassed_m3).fold(0.0, f64::max)
        } else {
            ms.iter().map(|m| m.bypassed_m3).sum::<f64>() / n
        };
        let treated = ms.iter().map(|m| m.treated_m3).fold(1.0, f64::max);
        if by > 1e-6 {
            violation += by / treated;
            failed.push("no_bypass".into());
        }
    }
    Evaluation {
        capex_yuan: capex,
        annual_cost_yuan: fixed + running,
        objectives,
        violation,
        failed,
        scenarios: ms,
    }
}
