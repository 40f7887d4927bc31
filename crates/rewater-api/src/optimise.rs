//! Planning-optimisation studies on the web (issue 18 item 6): the studies offered (an
//! `optimise.toml` beside a bundled scenario model; uploaded models' studies are not offered,
//! as the study loader does not confine the paths a study names), runs started in the
//! background (at most [`MAX_RUNNING`] at a time, 429 beyond; generations and population
//! bounded), their state while they grow — generation, evaluations, the current Pareto front
//! and cost–reuse front with each point's design, the least cost per reuse target — and
//! cancellation. The search is rewater-optimise's own ([`rewater_optimise::search`]); an
//! evaluator wrapped around it records every design as it is evaluated (the same archive, in
//! the same order, as the search keeps) and stops the run when cancelled.

use crate::auth::{authenticate, now_ms};
use crate::error::{bad, internal, not_found, too_many, ApiError, ApiResult};
use crate::error::{E400, E401, E403, E404, E429};
use crate::extract::{ApiJson, ApiQuery};
use crate::runs::lock_error;
use crate::scenarios::scenarios;
use crate::{audit, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_optimise::front::{delivered_per_year, reuse_of};
use rewater_optimise::nsga;
use rewater_optimise::run::Evaluated;
use rewater_optimise::{EvalError, Evaluation, Evaluator, Problem, RunOptions};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use utoipa::{IntoParams, ToSchema};

/// Study runs at the same time (each keeps the cores busy).
pub const MAX_RUNNING: usize = 1;
/// Finished runs kept (the oldest finished go first).
pub const MAX_KEPT: usize = 20;
/// Generations a run may ask for.
pub const MAX_GENERATIONS: usize = 200;
/// Population a run may ask for (even, at least 4).
pub const MAX_POPULATION: usize = 200;
/// The file a study has beside its model.
pub const STUDY_FILE: &str = "optimise.toml";

/// running, done, failed or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StudyStatus {
    Running,
    Done,
    Failed,
    Cancelled,
}

/// What a run's thread and the API share.
#[derive(Default)]
struct Live {
    generation: usize,
    evaluations: usize,
    cache_hits: usize,
    archive: Vec<Evaluated>,
    /// The archive's Pareto front, kept as designs come in (a poll must not compare every
    /// pair of a large archive): indices, in the order added.
    front: Vec<usize>,
}

impl Live {
    /// Adds a design, keeping `front` equal to `pareto_indices(&archive)` (as a set): a
    /// feasible design joins unless a member dominates it or has the same objectives (the
    /// first such design stays), and pushes out the members it dominates.
    fn push(&mut self, e: Evaluated) {
        let i = self.archive.len();
        if e.evaluation.violation == 0.0 {
            let x = e.evaluation.minimised();
            let mut keep = true;
            for &j in &self.front {
                let y = self.archive[j].evaluation.minimised();
                if y == x || nsga::dominates((&y, 0.0), (&x, 0.0)) {
                    keep = false;
                    break;
                }
            }
            if keep {
                let archive = &self.archive;
                self.front.retain(|&j| {
                    let y = archive[j].evaluation.minimised();
                    !nsga::dominates((&x, 0.0), (&y, 0.0))
                });
                self.front.push(i);
            }
        }
        self.archive.push(e);
        self.evaluations = self.archive.len();
    }

    /// The front by increasing cost (then index), as `pareto_indices` orders it.
    fn front_sorted(&self) -> Vec<usize> {
        let mut out = self.front.clone();
        out.sort_by(|&x, &y| {
            self.archive[x].evaluation.objectives[0]
                .total_cmp(&self.archive[y].evaluation.objectives[0])
                .then(x.cmp(&y))
        });
        out
    }
}

#[derive(Clone)]
struct StudyRun {
    id: usize,
    study: String,
    who: String,
    started_at_ms: i64,
    generations: usize,
    population: usize,
    seed: u64,
    status: StudyStatus,
    error: Option<String>,
    cancel: Arc<AtomicBool>,
    live: Arc<Mutex<Live>>,
    problem: Arc<Problem>,
}

/// The study runs of a server (kept in memory).
#[derive(Default)]
pub struct StudyRuns {
    next_id: usize,
    runs: HashMap<usize, StudyRun>,
}

impl StudyRuns {
    fn running(&self) -> usize {
        self.runs
            .values()
            .filter(|r| r.status == StudyStatus::Running)
            .count()
    }

    /// A run (its shared parts; cheap to clone), to read outside the table's lock.
    fn get(&self, id: usize) -> Result<StudyRun, ApiError> {
        self.runs
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(format!("no study run {id}")))
    }

    /// Every run kept, by id.
    fn snapshot(&self) -> Vec<StudyRun> {
        let mut v: Vec<StudyRun> = self.runs.values().cloned().collect();
        v.sort_by_key(|r| r.id);
        v
    }

    fn evict(&mut self) {
        let mut done: Vec<(usize, i64)> = self
            .runs
            .values()
            .filter(|r| r.status != StudyStatus::Running)
            .map(|r| (r.id, r.started_at_ms))
            .collect();
        done.sort_by_key(|&(id, at)| (at, id));
        let extra = done.len().saturating_sub(MAX_KEPT);
        for (id, _) in done.into_iter().take(extra) {
            self.runs.remove(&id);
        }
    }
}

/// Records each evaluated design and stops the search when cancelled.
struct Watched<'a> {
    inner: &'a dyn Evaluator,
    live: &'a Mutex<Live>,
    cancel: &'a AtomicBool,
}

const CANCELLED: &str = "cancelled";

impl Evaluator for Watched<'_> {
    fn evaluate_batch(
        &self,
        p: &Problem,
        designs: &[Vec<f64>],
    ) -> Result<Vec<Evaluation>, EvalError> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(EvalError::Remote(CANCELLED.into()));
        }
        let out = self.inner.evaluate_batch(p, designs)?;
        let mut live = self
            .live
            .lock()
            .map_err(|_| EvalError::Remote("lock".into()))?;
        for (g, e) in designs.iter().zip(&out) {
            live.push(Evaluated {
                genome: g.clone(),
                evaluation: e.clone(),
            });
        }
        Ok(out)
    }
}

/// A study that can be run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudyInfo {
    /// The scenario model's name.
    pub name: String,
    pub title_zh: String,
    pub title_en: String,
    /// The study's own search settings (a run may ask for others within the bounds).
    pub generations: usize,
    pub population: usize,
    pub seed: u64,
    pub report_targets: Vec<f64>,
}

fn study_path(st: &ApiState, name: &str) -> Result<Option<PathBuf>, ApiError> {
    let sc = scenarios(st)?;
    let models = sc.models.lock().map_err(|_| lock_error())?;
    Ok(models
        .iter()
        .find(|m| m.name == name && !m.uploaded)
        .and_then(|m| m.path.parent().map(|d| d.join(STUDY_FILE)))
        .filter(|p| p.is_file()))
}

fn list_studies(st: &ApiState) -> Result<Vec<StudyInfo>, ApiError> {
    let sc = scenarios(st)?;
    let models = sc.models.lock().map_err(|_| lock_error())?.clone();
    let mut out = Vec::new();
    for m in models.iter().filter(|m| !m.uploaded) {
        let Some(path) = m.path.parent().map(|d| d.join(STUDY_FILE)) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match rewater_optimise::parse_study(&text, &format!("{}/{STUDY_FILE}", m.name)) {
            Ok(s) => out.push(StudyInfo {
                name: m.name.clone(),
                title_zh: s.study.name.zh.clone(),
                title_en: s.study.name.en.clone(),
                generations: s.search.generations,
                population: s.search.population,
                seed: s.search.seed,
                report_targets: s.report_targets.clone(),
            }),
            Err(e) => tracing::warn!(study = %m.name, error = %e, "study not offered"),
        }
    }
    Ok(out)
}

/// A design on a front.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FrontPoint {
    /// Index in the run's evaluations (the order first evaluated).
    pub index: usize,
    pub annual_cost_yuan: f64,
    pub capex_yuan: f64,
    /// 再生水利用率, aggregated over the scenarios as the study says.
    pub reuse_rate: f64,
    pub delivered_m3_per_year: f64,
    /// Variable id → the option chosen.
    pub design: BTreeMap<String, String>,
    pub genome: Vec<f64>,
}

/// The least-cost design found for a reuse target.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetPoint {
    pub target: f64,
    /// Index into `cost_reuse`; none if no feasible design reaches it yet.
    pub point: Option<usize>,
}

/// A study run and what it found so far.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudyRunBody {
    pub id: usize,
    pub study: String,
    pub who: String,
    pub status: StudyStatus,
    pub error: Option<String>,
    /// Generations done (0 after the first population) and asked for.
    pub generation: usize,
    pub generations: usize,
    pub population: usize,
    pub seed: u64,
    pub evaluations: usize,
    pub cache_hits: usize,
    /// The feasible non-dominated designs over every objective, by increasing cost.
    pub front: Vec<FrontPoint>,
    /// The feasible designs non-dominated in cost and reuse alone, by increasing cost.
    pub cost_reuse: Vec<FrontPoint>,
    pub targets: Vec<TargetPoint>,
    /// Evaluated designs from `since` on, as (annual cost, reuse rate, feasible).
    pub cloud: Vec<(f64, f64, bool)>,
    /// The decision variables (the keys of a point's `design`) with their names.
    pub variables: Vec<VariableName>,
}

/// A decision variable's name in Chinese and English.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VariableName {
    pub id: String,
    pub zh: String,
    pub en: String,
}

fn front_point(p: &Problem, i: usize, e: &Evaluated) -> FrontPoint {
    FrontPoint {
        index: i,
        annual_cost_yuan: e.evaluation.annual_cost_yuan,
        capex_yuan: e.evaluation.capex_yuan,
        reuse_rate: reuse_of(p, &e.evaluation),
        delivered_m3_per_year: delivered_per_year(&e.evaluation),
        design: p.describe(&e.genome),
        genome: e.genome.clone(),
    }
}

/// Indices of the cost–reuse front (as `rewater_optimise::outcome` builds it).
pub fn cost_reuse_indices(p: &Problem, archive: &[Evaluated]) -> Vec<usize> {
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
    let mut out = Vec::new();
    let mut best = f64::NEG_INFINITY;
    for i in feas {
        let r = reuse_of(p, &archive[i].evaluation);
        if r > best + 1e-12 {
            out.push(i);
            best = r;
        }
    }
    out
}

/// A run's state; with `since`, also its fronts, targets, variables and the cloud of the
/// designs evaluated from `since` on (without, the counts only).
fn body(r: &StudyRun, since: Option<usize>) -> Result<StudyRunBody, ApiError> {
    let live = r.live.lock().map_err(|_| lock_error())?;
    let p = &r.problem;
    let (front, cost_reuse, targets, cloud, variables) = match since {
        None => Default::default(),
        Some(since) => {
            let a = &live.archive;
            let front: Vec<FrontPoint> = live
                .front_sorted()
                .into_iter()
                .map(|i| front_point(p, i, &a[i]))
                .collect();
            let cr: Vec<FrontPoint> = cost_reuse_indices(p, a)
                .into_iter()
                .map(|i| front_point(p, i, &a[i]))
                .collect();
            let targets = p
                .study
                .report_targets
                .iter()
                .map(|&t| TargetPoint {
                    target: t,
                    point: cr.iter().position(|q| q.reuse_rate >= t - 1e-12),
                })
                .collect();
            let cloud = a
                .iter()
                .skip(since)
                .map(|e| {
                    (
                        e.evaluation.annual_cost_yuan,
                        reuse_of(p, &e.evaluation),
                        e.evaluation.violation == 0.0,
                    )
                })
                .collect();
            let variables = p
                .variables
                .iter()
                .map(|v| VariableName {
                    id: v.id.clone(),
                    zh: v.label.zh.clone(),
                    en: v.label.en.clone(),
                })
                .collect();
            (front, cr, targets, cloud, variables)
        }
    };
    Ok(StudyRunBody {
        id: r.id,
        study: r.study.clone(),
        who: r.who.clone(),
        status: r.status,
        error: r.error.clone(),
        generation: live.generation,
        generations: r.generations,
        population: r.population,
        seed: r.seed,
        evaluations: live.evaluations,
        cache_hits: live.cache_hits,
        front,
        cost_reuse,
        targets,
        cloud,
        variables,
    })
}

#[derive(Serialize, ToSchema)]
pub struct StudiesBody {
    pub studies: Vec<StudyInfo>,
    /// The runs kept, without their fronts (GET a run for those).
    pub runs: Vec<StudyRunBody>,
    pub max_running: usize,
    pub max_generations: usize,
    pub max_population: usize,
}

/// Studies that can be run and the runs kept.
#[utoipa::path(get, path = "/api/optimise/studies", tag = "optimise",
    responses((status = 200, description = "studies and runs", body = StudiesBody), E401, E404))]
pub async fn studies(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<StudiesBody> {
    authenticate(&st, &headers, &method).await?;
    let st2 = st.clone();
    let studies = tokio::task::spawn_blocking(move || list_studies(&st2))
        .await
        .map_err(|e| internal(e.to_string()))??;
    let sc = scenarios(&st)?;
    let kept = sc.studies.lock().map_err(|_| lock_error())?.snapshot();
    let mut runs = Vec::new();
    for r in &kept {
        runs.push(body(r, None)?);
    }
    Ok(Json(StudiesBody {
        studies,
        runs,
        max_running: MAX_RUNNING,
        max_generations: MAX_GENERATIONS,
        max_population: MAX_POPULATION,
    }))
}

/// A study run to start.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartStudy {
    /// The study's name (a bundled scenario model with an optimise.toml).
    pub study: String,
    /// Generations after the first population (default: the study's; at most 200).
    pub generations: Option<usize>,
    /// Population size (default: the study's; even, 4–200).
    pub population: Option<usize>,
}

fn check_start(s: &StartStudy) -> Result<(), ApiError> {
    if let Some(g) = s.generations {
        if g > MAX_GENERATIONS {
            return Err(bad(format!(
                "generations: {g} is more than the {MAX_GENERATIONS} a run may ask for"
            )));
        }
    }
    if let Some(n) = s.population {
        if !(4..=MAX_POPULATION).contains(&n) || n % 2 == 1 {
            return Err(bad(format!(
                "population: {n} must be even and 4–{MAX_POPULATION}"
            )));
        }
    }
    Ok(())
}

/// Start a study run in the background; not for viewers; at most one at a time (429);
/// audited.
#[utoipa::path(post, path = "/api/optimise/runs", tag = "optimise", request_body = StartStudy,
    responses((status = 200, description = "started", body = StudyRunBody), E400, E401, E403, E404, E429))]
pub async fn start_study(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(s): ApiJson<StartStudy>,
) -> ApiResult<StudyRunBody> {
    let who = authenticate(&st, &headers, &method).await?;
    who.require_writer()?;
    check_start(&s)?;
    let sc = scenarios(&st)?.clone();
    let Some(path) = study_path(&st, &s.study)? else {
        return Err(not_found(format!(
            "study: no study '{}' (GET /api/optimise/studies lists them)",
            s.study.chars().take(64).collect::<String>()
        )));
    };
    if sc.studies.lock().map_err(|_| lock_error())?.running() >= MAX_RUNNING {
        return Err(too_many(
            format!("{MAX_RUNNING} study run(s) already running; wait for it or cancel it"),
            10,
        ));
    }
    let standards = (*st.standards).clone();
    let name = s.study.clone();
    let mut p = tokio::task::spawn_blocking(move || Problem::load(&path, standards))
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| bad(format!("study {name}: {e}")))?;
    if let Some(n) = s.population {
        p.study.search.population = n;
    }
    let generations = s.generations.unwrap_or(p.study.search.generations);
    let p = Arc::new(p);
    let live = Arc::new(Mutex::new(Live::default()));
    let cancel = Arc::new(AtomicBool::new(false));
    let id = {
        let mut t = sc.studies.lock().map_err(|_| lock_error())?;
        // Checked again under the lock: two starts at once get one run.
        if t.running() >= MAX_RUNNING {
            return Err(too_many(
                format!("{MAX_RUNNING} study run(s) already running; wait for it or cancel it"),
                10,
            ));
        }
        t.next_id += 1;
        let id = t.next_id;
        t.runs.insert(
            id,
            StudyRun {
                id,
                study: s.study.clone(),
                who: who.name.clone(),
                started_at_ms: now_ms(),
                generations,
                population: p.study.search.population,
                seed: p.study.search.seed,
                status: StudyStatus::Running,
                error: None,
                cancel: cancel.clone(),
                live: live.clone(),
                problem: p.clone(),
            },
        );
        t.evict();
        id
    };
    let sc2 = sc.clone();
    std::thread::Builder::new()
        .name(format!("study-{id}"))
        .spawn(move || run_study(&sc2, id, &p, generations, &live, &cancel))
        .map_err(|e| internal(format!("starting the run: {e}")))?;
    let detail = format!("run {id}, {generations} generations");
    let study = s.study.clone();
    with_store(&st, move |store| {
        audit(store, &who.name, "optimise.start", &study, &detail);
        Ok(())
    })
    .await?;
    let r = sc.studies.lock().map_err(|_| lock_error())?.get(id)?;
    Ok(Json(body(&r, Some(0))?))
}

fn run_study(
    sc: &crate::Scenarios,
    id: usize,
    p: &Problem,
    generations: usize,
    live: &Mutex<Live>,
    cancel: &AtomicBool,
) {
    let ev = Watched {
        inner: &rewater_optimise::Parallel,
        live,
        cancel,
    };
    let opts = RunOptions {
        generations: Some(generations),
        ..RunOptions::default()
    };
    let result = rewater_optimise::search(p, &ev, &opts, &mut |pr| {
        if let Ok(mut l) = live.lock() {
            l.generation = pr.generation;
            l.cache_hits = pr.cache_hits;
        }
    });
    let (status, error) = match result {
        Ok(_) => (StudyStatus::Done, None),
        Err(_) if cancel.load(Ordering::Relaxed) => (StudyStatus::Cancelled, None),
        Err(e) => (StudyStatus::Failed, Some(e.to_string())),
    };
    if let Ok(mut t) = sc.studies.lock() {
        if let Some(r) = t.runs.get_mut(&id) {
            r.status = status;
            r.error = error;
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct RunQuery {
    /// Send the evaluated designs' cloud from this index on (default 0: all).
    since: Option<usize>,
}

/// A study run's state: generation, evaluations, the current fronts with their designs, the
/// least cost per reuse target.
#[utoipa::path(get, path = "/api/optimise/runs/{id}", tag = "optimise",
    params(("id" = usize, Path, description = "the run"), RunQuery),
    responses((status = 200, description = "the run", body = StudyRunBody), E401, E404))]
pub async fn study_run(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<usize>,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> ApiResult<StudyRunBody> {
    authenticate(&st, &headers, &method).await?;
    let sc = scenarios(&st)?.clone();
    tokio::task::spawn_blocking(move || {
        let r = sc.studies.lock().map_err(|_| lock_error())?.get(id)?;
        body(&r, Some(q.since.unwrap_or(0))).map(Json)
    })
    .await
    .map_err(|e| internal(e.to_string()))?
}

/// Cancel a running study run (it stops before its next batch of evaluations); not for
/// viewers; audited.
#[utoipa::path(post, path = "/api/optimise/runs/{id}/cancel", tag = "optimise",
    params(("id" = usize, Path, description = "the run")),
    responses((status = 200, description = "cancelling", body = StudyRunBody), E400, E401, E403, E404))]
pub async fn cancel_study(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<usize>,
) -> ApiResult<StudyRunBody> {
    let who = authenticate(&st, &headers, &method).await?;
    who.require_writer()?;
    let sc = scenarios(&st)?.clone();
    {
        let t = sc.studies.lock().map_err(|_| lock_error())?;
        let r = t
            .runs
            .get(&id)
            .ok_or_else(|| not_found(format!("no study run {id}")))?;
        if r.status != StudyStatus::Running {
            return Err(bad(format!("study run {id} is not running")));
        }
        r.cancel.store(true, Ordering::Relaxed);
    }
    with_store(&st, move |store| {
        audit(store, &who.name, "optimise.cancel", &id.to_string(), "");
        Ok(())
    })
    .await?;
    let r = sc.studies.lock().map_err(|_| lock_error())?.get(id)?;
    Ok(Json(body(&r, None)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewater_optimise::front::pareto_indices;

    fn design(i: usize, cost: f64, reuse: f64, violation: f64) -> Evaluated {
        Evaluated {
            genome: vec![i as f64],
            evaluation: Evaluation {
                capex_yuan: cost * 10.0,
                annual_cost_yuan: cost,
                objectives: vec![cost, reuse],
                violation,
                failed: Vec::new(),
                scenarios: Vec::new(),
            },
        }
    }

    /// The front kept as designs come in equals `pareto_indices` over the whole archive, with
    /// ties (same objectives: the first stays), infeasible designs and designs that push
    /// earlier members out.
    #[test]
    fn the_incremental_front_is_the_pareto_front() {
        // A fixed pseudo-random archive on a coarse grid (many ties and dominations).
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut live = Live::default();
        let mut all = Vec::new();
        for i in 0..600 {
            let cost = (next() % 40) as f64 * 1000.0;
            let reuse = (next() % 25) as f64 / 100.0;
            let violation = if next() % 5 == 0 { 0.3 } else { 0.0 };
            let d = design(i, cost, reuse, violation);
            all.push(d.clone());
            live.push(d);
            if i % 50 == 49 {
                assert_eq!(
                    live.front_sorted(),
                    pareto_indices(&all),
                    "after {} designs",
                    i + 1
                );
            }
        }
        assert!(live.front.len() >= 3, "{:?}", live.front);
        assert_eq!(live.evaluations, 600);
    }
}
