//! Scenario runs: started in the background (at most [`RunLimits::max_running`] at a time,
//! 429 beyond), bounded in length ([`RunLimits::max_days`]), kept in memory with the least
//! recently used finished runs evicted past a count and a byte budget, and read back in
//! pages of days.

use crate::auth::{authenticate, now_ms};
use crate::error::{bad, internal, not_found, too_many, ApiError, ApiResult};
use crate::error::{E400, E401, E403, E404, E429};
use crate::extract::{ApiJson, ApiQuery};
use crate::scenarios::{scenarios, Scenarios};
use crate::{audit, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_engine::sim::{DailySink, LinkDay, NodeDay};
use rewater_engine::{Simulation, Summary};
use rewater_model::{NodeKind, Region};
use rewater_standards::Date;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// Limits on scenario runs.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// Runs at the same time (each takes a core).
    pub max_running: usize,
    /// Finished runs kept, at most.
    pub max_kept: usize,
    /// Bytes of results kept, at most (estimated from the series' lengths).
    pub max_kept_bytes: usize,
    /// Days a run may simulate (100 years).
    pub max_days: usize,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            max_running: 2,
            max_kept: 50,
            max_kept_bytes: 64 << 20,
            max_days: 36_600,
        }
    }
}

/// Daily totals of a run, for charts.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct DailyResults {
    /// YYYY-MM-DD.
    pub dates: Vec<String>,
    pub treated_m3: Vec<f64>,
    pub delivered_m3: Vec<f64>,
    pub deficit_m3: Vec<f64>,
    pub discharged_m3: Vec<f64>,
    /// Storage in all ponds at the end of each day.
    pub storage_m3: Vec<f64>,
    /// Concentration at the first pond (or plant) of each tracked factor, mg/L.
    pub quality_node: Option<String>,
    pub quality_mg_per_l: BTreeMap<String, Vec<f64>>,
    /// Mean daily flow of each link over the run, m³/d, in the model's link order (the
    /// overview's process diagram; not sent with a run's pages).
    #[serde(skip)]
    pub link_mean_m3_per_d: Vec<f64>,
}

impl DailyResults {
    /// Bytes held, roughly (for the eviction budget).
    pub fn bytes(&self) -> usize {
        let series = 5 + self.quality_mg_per_l.len();
        self.dates.len() * (series * 8 + 10 + 24) + 1024
    }

    /// Days `[offset, offset + limit)`.
    fn page(&self, offset: usize, limit: usize) -> DailyResults {
        let end = self.dates.len().min(offset.saturating_add(limit));
        let start = offset.min(end);
        let cut = |v: &Vec<f64>| v.get(start..end).unwrap_or_default().to_vec();
        DailyResults {
            dates: self.dates[start..end].to_vec(),
            treated_m3: cut(&self.treated_m3),
            delivered_m3: cut(&self.delivered_m3),
            deficit_m3: cut(&self.deficit_m3),
            discharged_m3: cut(&self.discharged_m3),
            storage_m3: cut(&self.storage_m3),
            quality_node: self.quality_node.clone(),
            quality_mg_per_l: self
                .quality_mg_per_l
                .iter()
                .map(|(k, v)| (k.clone(), cut(v)))
                .collect(),
            link_mean_m3_per_d: Vec::new(),
        }
    }
}

struct Collector {
    out: DailyResults,
    quality_node: Option<usize>,
    factors: Vec<String>,
}

impl DailySink for Collector {
    fn day(
        &mut self,
        sim: &Simulation,
        date: Date,
        nodes: &[NodeDay],
        links: &[LinkDay],
    ) -> std::io::Result<()> {
        let o = &mut self.out;
        // Running mean of each link's flow.
        let n = o.dates.len() as f64;
        o.link_mean_m3_per_d.resize(links.len(), 0.0);
        for (m, l) in o.link_mean_m3_per_d.iter_mut().zip(links) {
            *m += (l.flow_m3 - *m) / (n + 1.0);
        }
        o.dates.push(date.to_string());
        let sum = |f: fn(&NodeDay) -> f64| nodes.iter().map(f).sum::<f64>();
        o.treated_m3.push(sum(|n| n.treated_m3));
        o.delivered_m3.push(sum(|n| n.delivered_m3));
        o.deficit_m3.push(sum(|n| n.deficit_m3));
        o.discharged_m3.push(sum(|n| n.discharged_m3));
        o.storage_m3.push(sum(|n| n.storage_m3));
        if let Some(q) = self.quality_node {
            for (k, f) in self.factors.iter().enumerate() {
                let c = sim.concentration(q).get(k).copied().unwrap_or(f64::NAN);
                o.quality_mg_per_l.entry(f.clone()).or_default().push(c);
            }
        }
        Ok(())
    }
}

/// Runs a region to the end, reporting progress as (day, days).
pub fn run_region(
    region: &Region,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Summary, DailyResults), String> {
    let mut sim = Simulation::new(region).map_err(|e| e.to_string())?;
    let first = |pred: fn(&NodeKind) -> bool| region.nodes.iter().position(|n| pred(&n.kind));
    let quality_node = first(|k| matches!(k, NodeKind::Pond(_)))
        .or_else(|| first(|k| matches!(k, NodeKind::Plant(_))));
    let mut c = Collector {
        out: DailyResults {
            quality_node: quality_node.map(|i| region.nodes[i].id.clone()),
            ..Default::default()
        },
        quality_node,
        factors: region
            .factors
            .iter()
            .map(|f| f.code().to_string())
            .collect(),
    };
    let summary = sim.run(Some(&mut c), progress).map_err(|e| e.to_string())?;
    Ok((summary, c.out))
}

/// A scenario run and its state.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    pub id: usize,
    pub model: String,
    pub who: String,
    pub status: RunStatus,
    pub day: usize,
    pub days: usize,
    pub started_at_ms: i64,
    pub error: Option<String>,
    pub summary: Option<Arc<Summary>>,
    pub daily: Option<Arc<DailyResults>>,
    last_used: u64,
}

/// running, done or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Done,
    Failed,
}

/// The runs kept in memory.
#[derive(Default)]
pub struct RunTable {
    next_id: usize,
    clock: u64,
    runs: HashMap<usize, ScenarioRun>,
}

impl RunTable {
    pub fn running(&self) -> usize {
        self.runs
            .values()
            .filter(|r| r.status == RunStatus::Running)
            .count()
    }

    /// Runs, oldest first.
    pub fn list(&self) -> Vec<&ScenarioRun> {
        let mut v: Vec<_> = self.runs.values().collect();
        v.sort_by_key(|r| r.id);
        v
    }

    fn start(&mut self, model: &str, who: &str) -> usize {
        self.next_id += 1;
        self.clock += 1;
        let id = self.next_id;
        self.runs.insert(
            id,
            ScenarioRun {
                id,
                model: model.to_string(),
                who: who.to_string(),
                status: RunStatus::Running,
                day: 0,
                days: 0,
                started_at_ms: now_ms(),
                error: None,
                summary: None,
                daily: None,
                last_used: self.clock,
            },
        );
        id
    }

    /// A run, marked as just used.
    pub fn get(&mut self, id: usize) -> Option<ScenarioRun> {
        self.clock += 1;
        let clock = self.clock;
        self.runs.get_mut(&id).map(|r| {
            r.last_used = clock;
            r.clone()
        })
    }

    fn update(&mut self, id: usize, f: impl FnOnce(&mut ScenarioRun)) {
        if let Some(r) = self.runs.get_mut(&id) {
            f(r);
        }
    }

    /// Evicts the least recently used finished runs until both limits hold.
    pub fn evict(&mut self, limits: &RunLimits) {
        loop {
            let bytes: usize = self
                .runs
                .values()
                .filter_map(|r| r.daily.as_ref())
                .map(|d| d.bytes())
                .sum();
            let finished = self
                .runs
                .values()
                .filter(|r| r.status != RunStatus::Running);
            if self.runs.len() <= limits.max_kept && bytes <= limits.max_kept_bytes {
                return;
            }
            let Some(oldest) = finished.min_by_key(|r| r.last_used).map(|r| r.id) else {
                return;
            };
            tracing::info!(run = oldest, "scenario run evicted");
            self.runs.remove(&oldest);
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RunRequest {
    /// A model's name from GET /api/scenarios.
    model: String,
}

#[derive(Serialize, ToSchema)]
pub struct RunStarted {
    pub id: usize,
}

/// Run a model in the background (not for viewers; audited). At most two at a time.
#[utoipa::path(post, path = "/api/runs", tag = "scenarios", request_body = RunRequest,
    responses((status = 200, description = "the run's id; poll GET /api/runs/{id}", body = RunStarted), E400, E401, E403, E404, E429))]
pub async fn start_run(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(r): ApiJson<RunRequest>,
) -> ApiResult<RunStarted> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_writer()?;
    let sc = scenarios(&st)?.clone();
    let model = sc
        .model(&r.model)?
        .ok_or_else(|| not_found(format!("no model '{}'", r.model)))?;
    let limits = st.config.runs;
    let id = {
        let mut runs = sc.lock_runs()?;
        if runs.running() >= limits.max_running {
            return Err(too_many(
                format!(
                    "{} runs are in progress; try again when one has finished",
                    limits.max_running
                ),
                10,
            ));
        }
        runs.start(&model.name, &p.name)
    };
    let who = p.name.clone();
    let name = model.name.clone();
    with_store(&st, move |s| {
        audit(s, &who, "scenario.run", &name, &format!("run {id}"));
        Ok(())
    })
    .await?;
    let spawned = std::thread::Builder::new()
        .name(format!("scenario-run-{id}"))
        .spawn(move || run_in_background(&sc, id, &model, &limits));
    if let Err(e) = spawned {
        let sc = scenarios(&st)?;
        sc.lock_runs()?.update(id, |r| {
            r.status = RunStatus::Failed;
            r.error = Some(format!("cannot start: {e}"));
        });
        return Err(internal(format!("cannot start a run: {e}")));
    }
    Ok(Json(RunStarted { id }))
}

fn run_in_background(
    sc: &Scenarios,
    id: usize,
    model: &crate::scenarios::ScenarioModel,
    limits: &RunLimits,
) {
    let update = |f: &mut dyn FnMut(&mut ScenarioRun)| {
        if let Ok(mut runs) = sc.lock_runs() {
            runs.update(id, |r| f(r));
        }
    };
    let result = sc.load(model).and_then(|region| {
        if region.days > limits.max_days {
            return Err(format!(
                "{}: the horizon has {} days; a run may have at most {}",
                model.name, region.days, limits.max_days
            ));
        }
        run_region(&region, &mut |d, n| {
            if d == 1 || d % 10 == 0 || d == n {
                update(&mut |r| {
                    r.day = d;
                    r.days = n;
                });
            }
        })
    });
    if let Ok(mut runs) = sc.lock_runs() {
        runs.update(id, |r| match result {
            Ok((s, d)) => {
                r.status = RunStatus::Done;
                r.summary = Some(Arc::new(s));
                r.daily = Some(Arc::new(d));
            }
            Err(e) => {
                r.status = RunStatus::Failed;
                r.error = Some(e);
            }
        });
        runs.evict(limits);
    }
}

/// A run as lists show it (no results).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunInfo {
    pub id: usize,
    pub model: String,
    pub who: String,
    pub status: RunStatus,
    pub day: usize,
    pub days: usize,
    pub started_at: String,
    pub error: Option<String>,
}

impl RunInfo {
    pub fn new(st: &ApiState, r: &ScenarioRun) -> RunInfo {
        RunInfo {
            id: r.id,
            model: r.model.clone(),
            who: r.who.clone(),
            status: r.status,
            day: r.day,
            days: r.days,
            started_at: st.zone.rfc3339_ms(r.started_at_ms),
            error: r.error.clone(),
        }
    }
}

/// A run with (a page of) its results.
#[derive(Serialize, ToSchema)]
pub struct RunView {
    #[serde(flatten)]
    pub info: RunInfo,
    /// The engine's totals and indicators, when done.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Summary>,
    /// Days `[daily_offset, daily_offset + limit)` of the daily results, when done.
    pub daily: Option<DailyResults>,
    pub daily_offset: usize,
    /// Days in the whole run.
    pub daily_total: usize,
}

#[derive(Serialize, ToSchema)]
pub struct RunBody {
    pub run: RunView,
}

#[derive(Deserialize, IntoParams)]
pub struct RunQuery {
    /// summary (no daily results), daily (no summary) or all (default).
    part: Option<String>,
    /// First day of the page (default 0).
    offset: Option<usize>,
    /// Days in the page (1–5000, default 1000).
    limit: Option<usize>,
}

/// A run's progress and, when done, its summary and a page of its daily results.
#[utoipa::path(get, path = "/api/runs/{id}", tag = "scenarios",
    params(("id" = usize, Path, description = "run id"), RunQuery),
    responses((status = 200, description = "the run", body = RunBody), E400, E401, E404))]
pub async fn get_run(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<usize>,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> ApiResult<RunBody> {
    authenticate(&st, &headers, &method).await?;
    let (with_summary, with_daily) = match q.part.as_deref().unwrap_or("all") {
        "all" => (true, true),
        "summary" => (true, false),
        "daily" => (false, true),
        other => {
            return Err(bad(format!(
                "part: '{other}' must be summary, daily or all"
            )))
        }
    };
    let limit = q.limit.unwrap_or(1000);
    if !(1..=5000).contains(&limit) {
        return Err(bad(format!("limit: {limit} is not within 1–5000")));
    }
    let offset = q.offset.unwrap_or(0);
    let sc = scenarios(&st)?;
    let run = sc.lock_runs()?.get(id).ok_or_else(|| {
        not_found(format!(
            "no run {id} (finished runs are kept for a while only)"
        ))
    })?;
    let daily_total = run.daily.as_ref().map_or(0, |d| d.dates.len());
    let view = RunView {
        info: RunInfo::new(&st, &run),
        summary: run.summary.as_deref().filter(|_| with_summary).cloned(),
        daily: run
            .daily
            .as_ref()
            .filter(|_| with_daily)
            .map(|d| d.page(offset, limit)),
        daily_offset: offset.min(daily_total),
        daily_total,
    };
    Ok(Json(RunBody { run: view }))
}

pub(crate) fn lock_error() -> ApiError {
    internal("lock poisoned")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(t: &mut RunTable, days: usize) -> usize {
        let id = t.start("m", "w");
        t.update(id, |r| {
            r.status = RunStatus::Done;
            r.daily = Some(Arc::new(DailyResults {
                dates: vec!["2025-01-01".into(); days],
                treated_m3: vec![1.0; days],
                ..Default::default()
            }));
        });
        id
    }

    #[test]
    fn least_recently_used_runs_go_first() {
        let limits = RunLimits {
            max_kept: 3,
            ..RunLimits::default()
        };
        let mut t = RunTable::default();
        let (a, b, c) = (done(&mut t, 10), done(&mut t, 10), done(&mut t, 10));
        assert!(t.get(a).is_some(), "a is used again");
        let d = done(&mut t, 10);
        t.evict(&limits);
        assert!(t.get(b).is_none(), "b was least recently used");
        assert!(t.get(a).is_some() && t.get(c).is_some() && t.get(d).is_some());
        // A running run is never evicted, even past the count.
        let running = t.start("m", "w");
        done(&mut t, 10);
        t.evict(&RunLimits {
            max_kept: 1,
            ..limits
        });
        assert!(t.get(running).is_some());
        assert_eq!(t.list().len(), 1);
    }

    #[test]
    fn the_byte_budget_holds() {
        let limits = RunLimits {
            max_kept_bytes: 1 << 20,
            ..RunLimits::default()
        };
        let mut t = RunTable::default();
        let mut last = 0;
        for _ in 0..50 {
            last = done(&mut t, 1000);
            t.evict(&limits);
        }
        let bytes: usize = t
            .list()
            .iter()
            .filter_map(|r| r.daily.as_ref())
            .map(|d| d.bytes())
            .sum();
        assert!(bytes <= 1 << 20, "{bytes}");
        // 1000 days take ≈ 75 kB: about 13 fit, the newest among them.
        assert!((10..=14).contains(&t.list().len()), "{}", t.list().len());
        assert!(t.get(last).is_some());
    }

    #[test]
    fn pages_of_days() {
        let d = DailyResults {
            dates: (0..10).map(|i| i.to_string()).collect(),
            treated_m3: (0..10).map(f64::from).collect(),
            ..Default::default()
        };
        let p = d.page(8, 5);
        assert_eq!(p.dates, vec!["8", "9"]);
        assert_eq!(p.treated_m3, vec![8.0, 9.0]);
        assert!(d.page(20, 5).dates.is_empty());
        assert!(d.page(usize::MAX, usize::MAX).dates.is_empty());
    }
}
