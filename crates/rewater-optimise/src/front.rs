//! The result of a search: the Pareto front of the feasible designs (over every design
//! evaluated, not only the last population), the cost–reuse front with the marginal cost of
//! each extra m³ reused, and the least-cost design for each requested reuse target.

use crate::eval::{evaluate, EvalError, Evaluation};
use crate::nsga;
use crate::problem::{Objective, Problem};
use crate::run::Evaluated;
use crate::study::{Aggregate, Text};
use rayon::prelude::*;
use rewater_engine::Summary;
use serde::Serialize;
use std::collections::BTreeMap;

/// Indices of the archive's feasible, non-dominated designs, one per distinct objective
/// vector, by increasing cost.
pub fn pareto_indices(archive: &[Evaluated]) -> Vec<usize> {
    let feasible: Vec<usize> = (0..archive.len())
        .filter(|&i| archive[i].evaluation.violation == 0.0)
        .collect();
    let obj: Vec<Vec<f64>> = feasible
        .iter()
        .map(|&i| archive[i].evaluation.minimised())
        .collect();
    let mut out: Vec<usize> = Vec::new();
    'outer: for (a, &i) in feasible.iter().enumerate() {
        for (b, _) in feasible.iter().enumerate() {
            if a != b && nsga::dominates((&obj[b], 0.0), (&obj[a], 0.0)) {
                continue 'outer;
            }
        }
        if out
            .iter()
            .any(|&j| archive[j].evaluation.minimised() == obj[a])
        {
            continue;
        }
        out.push(i);
    }
    out.sort_by(|&x, &y| {
        archive[x].evaluation.objectives[0]
            .total_cmp(&archive[y].evaluation.objectives[0])
            .then(x.cmp(&y))
    });
    out
}

/// Reuse rate of an evaluation, aggregated as the study says.
pub fn reuse_of(p: &Problem, e: &Evaluation) -> f64 {
    let v = e.scenarios.iter().map(|m| m.reuse_rate);
    match p.study.constraints.aggregate {
        Aggregate::Worst => v.fold(f64::INFINITY, f64::min),
        Aggregate::Mean => v.sum::<f64>() / e.scenarios.len().max(1) as f64,
    }
}

/// Reclaimed water delivered per year, mean over the scenarios, m³.
pub fn delivered_per_year(e: &Evaluation) -> f64 {
    e.scenarios
        .iter()
        .map(|m| m.delivered_m3 * 365.0 / m.days.max(1) as f64)
        .sum::<f64>()
        / e.scenarios.len().max(1) as f64
}

/// One design on the front.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub annual_cost_yuan: f64,
    pub capex_yuan: f64,
    /// Objective key → value (cost first).
    pub objectives: BTreeMap<String, f64>,
    pub reuse_rate: f64,
    pub delivered_m3_per_year: f64,
    /// Variable id → chosen option.
    pub design: BTreeMap<String, String>,
    pub genome: Vec<f64>,
    /// Cost items: (variable id, capex, annual cost).
    pub cost_items: Vec<(String, f64, f64)>,
    pub evaluation: Evaluation,
    /// Engine summaries, one per scenario.
    pub summaries: Vec<Summary>,
}

/// A step along the cost–reuse front.
#[derive(Debug, Clone, Serialize)]
pub struct Marginal {
    pub from_reuse_rate: f64,
    pub to_reuse_rate: f64,
    pub extra_m3_per_year: f64,
    pub extra_cost_yuan_per_year: f64,
    /// Extra annual cost per extra m³ reused, yuan/m³; none where the reuse rate rises while
    /// the volume falls (less water treated, e.g. without a plant expansion).
    pub yuan_per_m3: Option<f64>,
}

/// The least-cost design reaching a target.
#[derive(Debug, Clone, Serialize)]
pub struct TargetDesign {
    pub target: f64,
    /// Index into `points_cost_reuse`, or none if no feasible design reached it.
    pub point: Option<usize>,
}

/// The outcome of a study.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub study: Text,
    pub fingerprint: String,
    pub seed: u64,
    pub generations: usize,
    pub evaluations: usize,
    pub cache_hits: usize,
    pub variables: Vec<crate::problem::Variable>,
    /// Keys and labels of the objectives (cost first).
    pub objectives: Vec<(String, Text)>,
    pub scenarios: Vec<(String, Text)>,
    /// The Pareto front of all objectives.
    pub front: Vec<Point>,
    /// The cost–reuse front (a subset of the designs: non-dominated in cost and reuse alone).
    pub points_cost_reuse: Vec<Point>,
    pub marginal: Vec<Marginal>,
    pub targets: Vec<TargetDesign>,
    /// Every evaluated design as (annual cost, reuse rate, feasible), for the chart.
    pub cloud: Vec<(f64, f64, bool)>,
}

/// Cost label (the first objective).
pub fn cost_label() -> Text {
    Text {
        zh: "年化费用（元/年）".into(),
        en: "Annualised cost (yuan/year)".into(),
    }
}

fn point(p: &Problem, e: &Evaluated, summaries: Vec<Summary>) -> Point {
    let mut objectives = BTreeMap::new();
    objectives.insert("annual_cost_yuan".to_string(), e.evaluation.objectives[0]);
    for (o, v) in p.objectives.iter().zip(&e.evaluation.objectives[1..]) {
        objectives.insert(o.key(), *v);
    }
    Point {
        annual_cost_yuan: e.evaluation.annual_cost_yuan,
        capex_yuan: e.evaluation.capex_yuan,
        objectives,
        reuse_rate: reuse_of(p, &e.evaluation),
        delivered_m3_per_year: delivered_per_year(&e.evaluation),
        design: p.describe(&e.genome),
        genome: e.genome.clone(),
        cost_items: p.fixed_cost(&e.genome).2,
        evaluation: e.evaluation.clone(),
        summaries,
    }
}

/// Builds the outcome from a search's archive; the engine summaries of the designs shown
/// are computed again here (in parallel), as the archive keeps only figures.
pub fn outcome(
    p: &Problem,
    archive: &[Evaluated],
    generations: usize,
    cache_hits: usize,
) -> Result<Outcome, EvalError> {
    let front_idx = pareto_indices(archive);
    // Cost–reuse front among the feasible designs.
    let mut feas: Vec<usize> = (0..archive.len())
        .filter(|&i| archive[i].evaluation.violation == 0.0)
        .collect();
    feas.sort_by(|&a, &b| {
        let (ea, eb) = (&archive[a].evaluation, &archive[b].evaluation);
        ea.objectives[0]
            .total_cmp(&eb.objectives[0])
            .then(reuse_of(p, eb).total_cmp(&reuse_of(p, ea)))
            .then(a.cmp(&b))
    });
    let mut cr_idx: Vec<usize> = Vec::new();
    let mut best = f64::NEG_INFINITY;
    for i in feas {
        let r = reuse_of(p, &archive[i].evaluation);
        if r > best + 1e-12 {
            cr_idx.push(i);
            best = r;
        }
    }
    let mut need: Vec<usize> = front_idx.iter().chain(&cr_idx).copied().collect();
    need.sort_unstable();
    need.dedup();
    let sums: Vec<(usize, Vec<Summary>)> = need
        .par_iter()
        .map(|&i| evaluate(p, &archive[i].genome).map(|(_, s)| (i, s)))
        .collect::<Result<_, _>>()?;
    let sums: BTreeMap<usize, Vec<Summary>> = sums.into_iter().collect();
    let mk = |i: usize| point(p, &archive[i], sums.get(&i).cloned().unwrap_or_default());
    let front: Vec<Point> = front_idx.iter().map(|&i| mk(i)).collect();
    let points_cost_reuse: Vec<Point> = cr_idx.iter().map(|&i| mk(i)).collect();
    let marginal = points_cost_reuse
        .windows(2)
        .map(|w| {
            let dv = w[1].delivered_m3_per_year - w[0].delivered_m3_per_year;
            let dc = w[1].annual_cost_yuan - w[0].annual_cost_yuan;
            Marginal {
                from_reuse_rate: w[0].reuse_rate,
                to_reuse_rate: w[1].reuse_rate,
                extra_m3_per_year: dv,
                extra_cost_yuan_per_year: dc,
                yuan_per_m3: (dv > 0.0).then(|| dc / dv),
            }
        })
        .collect();
    let targets = p
        .study
        .report_targets
        .iter()
        .map(|&t| TargetDesign {
            target: t,
            point: points_cost_reuse
                .iter()
                .position(|q| q.reuse_rate >= t - 1e-12),
        })
        .collect();
    let mut objectives = vec![("annual_cost_yuan".to_string(), cost_label())];
    objectives.extend(
        p.objectives
            .iter()
            .map(|o: &Objective| (o.key(), o.label())),
    );
    Ok(Outcome {
        study: p.study.study.name.clone(),
        fingerprint: p.fingerprint.clone(),
        seed: p.study.search.seed,
        generations,
        evaluations: archive.len(),
        cache_hits,
        variables: p.variables.clone(),
        objectives,
        scenarios: p
            .scenarios
            .iter()
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect(),
        front,
        points_cost_reuse,
        marginal,
        targets,
        cloud: archive
            .iter()
            .map(|e| {
                (
                    e.evaluation.objectives[0],
                    reuse_of(p, &e.evaluation),
                    e.evaluation.violation == 0.0,
                )
            })
            .collect(),
    })
}
