//! The web platform's own routes: login, users and tokens, the audit log, site
//! configuration, the overview (map and headline indicators), scenarios and the standards
//! browser. The pages themselves are static files from `rewater-web`.

use crate::auth::{self, authenticate, forbidden, now_ms, Principal};
use crate::{bad, find_site, not_found, with_store, ApiError, ApiResult, ApiState};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rewater_engine::sim::{DailySink, LinkDay, NodeDay};
use rewater_engine::{Simulation, Summary};
use rewater_model::{NodeKind, Region};
use rewater_standards::{Date, Standards};
use rewater_store::prelude::*;
use rewater_store::{Account, AuditEntry, Credential};
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Records one change in the audit log.
pub fn audit(s: &mut dyn Store, who: &str, action: &str, target: &str, detail: &str) {
    // An audit failure must not undo the change it describes, but it must be seen.
    if let Err(e) = s.audit(&AuditEntry {
        at_ms: now_ms(),
        who: who.into(),
        action: action.into(),
        target: target.into(),
        detail: detail.into(),
    }) {
        eprintln!("audit log: {e}");
    }
}

// ---------------------------------------------------------------- login

#[derive(Deserialize)]
pub struct Login {
    name: String,
    password: String,
}

pub async fn login(State(st): State<ApiState>, Json(body): Json<Login>) -> Response {
    let result = with_store(&st, move |s| {
        let account = s.account(&body.name)?;
        // Verify even for an unknown name, so timing does not tell which names exist.
        let phc = account
            .as_ref()
            .map_or(auth::decoy_hash(), |a| a.password_hash.as_str());
        let ok = auth::verify_password(&body.password, phc);
        match account {
            Some(a) if ok && !a.disabled => {
                let (cred, secret) = auth::new_session(&a.name);
                // Each login also clears sessions that have run out.
                s.purge_credentials(now_ms())?;
                s.put_credential(&cred)?;
                audit(s, &a.name, "login", &a.name, "");
                Ok((a, cred.csrf, secret))
            }
            _ => {
                let who: String = body
                    .name
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(64)
                    .collect();
                let who = if who.trim().is_empty() {
                    "?".to_string()
                } else {
                    who
                };
                audit(s, &who, "login.failed", "", "");
                Err(ApiError(
                    StatusCode::UNAUTHORIZED,
                    "wrong name or password".into(),
                ))
            }
        }
    })
    .await;
    match result {
        Ok((a, csrf, secret)) => {
            let cookie = format!(
                "{}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                auth::SESSION_COOKIE,
                auth::SESSION_MS / 1000
            );
            let body =
                json!({"name": a.name, "role": a.role, "district": a.district, "csrf": csrf});
            ([(header::SET_COOKIE, cookie)], Json(body)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

pub async fn logout(State(st): State<ApiState>, method: Method, headers: HeaderMap) -> Response {
    let p = match authenticate(&st, &headers, &method).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Some(secret) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        let hash = auth::secret_hash(secret);
        let _ = with_store(&st, move |s| {
            s.delete_credential(&hash)?;
            audit(s, &p.name, "logout", &p.name, "");
            Ok(())
        })
        .await;
    }
    let clear = format!(
        "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        auth::SESSION_COOKIE
    );
    ([(header::SET_COOKIE, clear)], Json(json!({"ok": true}))).into_response()
}

pub async fn me(State(st): State<ApiState>, method: Method, headers: HeaderMap) -> ApiResult {
    let p = authenticate(&st, &headers, &method).await?;
    Ok(Json(json!(p)))
}

// ---------------------------------------------------------------- users, tokens, audit

#[derive(Deserialize)]
pub struct NewUser {
    name: String,
    password: String,
    role: String,
    district: Option<String>,
}

pub async fn users(State(st): State<ApiState>, method: Method, headers: HeaderMap) -> ApiResult {
    authenticate(&st, &headers, &method)
        .await?
        .require_admin()?;
    let list = with_store(&st, |s| Ok(s.accounts()?)).await?;
    Ok(Json(json!({ "users": list })))
}

pub async fn create_user(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Json(u): Json<NewUser>,
) -> ApiResult {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    auth::check_password(&u.password).map_err(bad)?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&u.password))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let account = Account {
        name: u.name,
        role: u
            .role
            .parse::<rewater_store::Role>()
            .map_err(|e| bad(e.to_string()))?,
        district: u.district.filter(|d| !d.trim().is_empty()),
        password_hash: hash,
        disabled: false,
        created_at_ms: now_ms(),
    };
    let a = with_store(&st, move |s| {
        let existed = s.account(&account.name)?.is_some();
        s.put_account(&account)?;
        let detail = format!(
            "role {}{}",
            account.role,
            account
                .district
                .as_deref()
                .map(|d| format!(", district {d}"))
                .unwrap_or_default()
        );
        let action = if existed {
            "user.update"
        } else {
            "user.create"
        };
        audit(s, &p.name, action, &account.name, &detail);
        Ok(account)
    })
    .await?;
    Ok(Json(json!({ "user": a })))
}

#[derive(Deserialize)]
pub struct NewToken {
    account: String,
    #[serde(default)]
    label: String,
}

/// Creates an API token for a machine account; the secret is shown once.
pub async fn create_token(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Json(t): Json<NewToken>,
) -> ApiResult {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    let secret = auth::new_secret();
    let cred = Credential {
        secret_hash: auth::secret_hash(&secret),
        account: t.account.clone(),
        kind: rewater_store::CredentialKind::Token,
        csrf: String::new(),
        label: t.label.clone(),
        created_at_ms: now_ms(),
        expires_at_ms: None,
    };
    with_store(&st, move |s| {
        if s.account(&t.account)?.is_none() {
            return Err(not_found(format!("no account '{}'", t.account)));
        }
        s.put_credential(&cred)?;
        audit(s, &p.name, "token.create", &t.account, &t.label);
        Ok(())
    })
    .await?;
    Ok(Json(json!({ "token": secret })))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<i64>,
}

pub async fn audit_log(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> ApiResult {
    authenticate(&st, &headers, &method)
        .await?
        .require_admin()?;
    let limit = q.limit.unwrap_or(200).clamp(1, 10_000);
    let log = with_store(&st, move |s| Ok(s.audit_log(limit)?)).await?;
    Ok(Json(json!({ "audit": log })))
}

// ---------------------------------------------------------------- site configuration

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteUpdate {
    name: Option<String>,
    standard: Option<String>,
    location: Option<[f64; 2]>,
}

pub async fn update_site(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(u): Json<SiteUpdate>,
) -> ApiResult {
    let p = authenticate(&st, &headers, &method).await?;
    if let Some(spec) = &u.standard {
        for one in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            st.standards.resolve(one).map_err(bad)?;
        }
    }
    if let Some([lon, lat]) = u.location {
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(bad(format!(
                "location [{lon}, {lat}] is not [longitude, latitude]"
            )));
        }
    }
    let site = with_store(&st, move |s| {
        let mut site = find_site(s, &id)?;
        p.check_site(&site)?;
        if !p.acts_on(&site) {
            return Err(forbidden(format!("{} may not change site '{id}'", p.name)));
        }
        let before = serde_json::to_string(&site).unwrap_or_default();
        if let Some(n) = u.name {
            site.name = n;
        }
        if let Some(sd) = u.standard {
            site.standard = Some(sd);
        }
        if let Some(l) = u.location {
            site.location = Some(l);
        }
        s.put_site(&site)?;
        let after = serde_json::to_string(&site).unwrap_or_default();
        audit(
            s,
            &p.name,
            "site.update",
            &site.id,
            &format!("{before} → {after}"),
        );
        Ok(site)
    })
    .await?;
    Ok(Json(json!({ "site": site })))
}

// ---------------------------------------------------------------- model view and scenarios

/// Daily totals of a run, for charts.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DailyResults {
    pub dates: Vec<String>,
    pub treated_m3: Vec<f64>,
    pub delivered_m3: Vec<f64>,
    pub deficit_m3: Vec<f64>,
    pub discharged_m3: Vec<f64>,
    /// Storage in all ponds at the end of each day.
    pub storage_m3: Vec<f64>,
    /// Concentration at the first pond (or plant) of each tracked factor, mg/L.
    pub quality_node: Option<String>,
    pub quality_mg_per_l: std::collections::BTreeMap<String, Vec<f64>>,
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
        _links: &[LinkDay],
    ) -> std::io::Result<()> {
        let o = &mut self.out;
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
    let quality_node = region
        .nodes
        .iter()
        .position(|n| matches!(n.kind, NodeKind::Pond(_)))
        .or_else(|| {
            region
                .nodes
                .iter()
                .position(|n| matches!(n.kind, NodeKind::Plant(_)))
        });
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

/// The region drawn on the overview map, with a baseline run for the headline indicators.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelView {
    pub name: String,
    pub nodes: Vec<Value>,
    pub links: Vec<Value>,
    pub summary: Summary,
    pub daily: DailyResults,
}

impl ModelView {
    pub fn new(region: &Region) -> Result<ModelView, String> {
        let (summary, daily) = run_region(region, &mut |_, _| {})?;
        let nodes = region
            .nodes
            .iter()
            .map(|n| json!({"id": n.id, "name": n.name, "kind": n.kind.name(), "location": n.location}))
            .collect();
        let links = region
            .links
            .iter()
            .map(|l| json!({"id": l.id, "from": region.nodes[l.from].id, "to": region.nodes[l.to].id}))
            .collect();
        Ok(ModelView {
            name: region.name.clone(),
            nodes,
            links,
            summary,
            daily,
        })
    }

    /// Indicators of the day with today's month and day in the baseline year.
    fn today(&self, today: Date) -> Value {
        let md = &today.to_string()[4..];
        let Some(i) = self.daily.dates.iter().position(|d| d.ends_with(md)) else {
            return Value::Null;
        };
        let d = &self.daily;
        let util = (d.treated_m3[i] > 0.0).then(|| d.delivered_m3[i] / d.treated_m3[i]);
        json!({"date": d.dates[i], "treated_m3": d.treated_m3[i], "delivered_m3": d.delivered_m3[i],
               "deficit_m3": d.deficit_m3[i], "storage_m3": d.storage_m3[i], "utilisation_rate": util})
    }
}

/// A model a scenario can run: bundled or uploaded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScenarioModel {
    pub name: String,
    #[serde(skip)]
    pub path: PathBuf,
    pub uploaded: bool,
}

/// A scenario run and its state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScenarioRun {
    pub id: usize,
    pub model: String,
    pub who: String,
    /// running, done or failed.
    pub status: String,
    pub day: usize,
    pub days: usize,
    pub error: Option<String>,
    pub summary: Option<Summary>,
    pub daily: Option<DailyResults>,
}

/// Scenario models and runs (runs are kept in memory; results are a few MB each).
pub struct Scenarios {
    pub dir: PathBuf,
    pub models: Mutex<Vec<ScenarioModel>>,
    pub runs: Mutex<Vec<ScenarioRun>>,
    pub standards: Arc<Standards>,
}

impl Scenarios {
    pub fn new(
        dir: PathBuf,
        bundled: Vec<(String, PathBuf)>,
        standards: Arc<Standards>,
    ) -> Scenarios {
        let models = bundled
            .into_iter()
            .map(|(name, path)| ScenarioModel {
                name,
                path,
                uploaded: false,
            })
            .collect();
        Scenarios {
            dir,
            models: Mutex::new(models),
            runs: Mutex::new(Vec::new()),
            standards,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, ApiError> {
    m.lock()
        .map_err(|_| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "lock poisoned".into()))
}

fn scenarios(st: &ApiState) -> Result<&Arc<Scenarios>, ApiError> {
    st.platform
        .scenarios
        .as_ref()
        .ok_or_else(|| not_found("this server has no scenario directory"))
}

pub async fn list_scenarios(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult {
    authenticate(&st, &headers, &method).await?;
    let sc = scenarios(&st)?;
    let models = lock(&sc.models)?.clone();
    // The list carries no results; a run's page fetches them.
    let runs: Vec<Value> = lock(&sc.runs)?
        .iter()
        .map(|r| json!({"id": r.id, "model": r.model, "who": r.who, "status": r.status, "day": r.day, "days": r.days, "error": r.error}))
        .collect();
    Ok(Json(json!({ "models": models, "runs": runs })))
}

#[derive(Deserialize)]
pub struct Upload {
    name: String,
    toml: String,
}

/// Uploads a model file (TOML); it is validated before it is kept.
pub async fn upload_scenario(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Json(u): Json<Upload>,
) -> ApiResult {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_writer()?;
    let sc = scenarios(&st)?.clone();
    let ok_name = !u.name.is_empty()
        && u.name.len() <= 64
        && u.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok_name {
        return Err(bad(format!(
            "model name '{}' must be 1–64 letters, digits, - or _",
            u.name
        )));
    }
    if u.toml.len() > 2_000_000 {
        return Err(bad("a model file may have at most 2 MB"));
    }
    let name = u.name.clone();
    let st2 = st.clone();
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&sc.dir).map_err(|e| bad(format!("{}: {e}", sc.dir.display())))?;
        let path = sc.dir.join(format!("{}.toml", u.name));
        let tmp = sc.dir.join(format!(".{}.toml.new", u.name));
        std::fs::write(&tmp, &u.toml).map_err(|e| bad(format!("{}: {e}", tmp.display())))?;
        if let Err(e) = rewater_model::load(&tmp, &sc.standards) {
            let _ = std::fs::remove_file(&tmp);
            return Err(bad(format!("{}.toml: {e}", u.name)));
        }
        std::fs::rename(&tmp, &path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let mut models = lock(&sc.models)?;
        models.retain(|m| m.name != u.name);
        models.push(ScenarioModel {
            name: u.name.clone(),
            path,
            uploaded: true,
        });
        Ok(())
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    with_store(&st2, move |s| {
        audit(s, &p.name, "scenario.upload", &name, "");
        Ok(())
    })
    .await?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
pub struct RunRequest {
    model: String,
}

/// Scenario runs at the same time, at most.
pub const MAX_RUNNING: usize = 2;

/// Starts a run in the background; poll `/api/runs/{id}` for progress and results.
pub async fn start_run(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Json(r): Json<RunRequest>,
) -> ApiResult {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_writer()?;
    let sc = scenarios(&st)?.clone();
    let model = lock(&sc.models)?
        .iter()
        .find(|m| m.name == r.model)
        .cloned()
        .ok_or_else(|| not_found(format!("no model '{}'", r.model)))?;
    let id = {
        let mut runs = lock(&sc.runs)?;
        // Each run takes a core; a few at a time keep the server answering.
        if runs.iter().filter(|r| r.status == "running").count() >= MAX_RUNNING {
            return Err(ApiError(
                StatusCode::TOO_MANY_REQUESTS,
                format!("{MAX_RUNNING} runs are in progress; try again when one has finished"),
            ));
        }
        let id = runs.len() + 1;
        runs.push(ScenarioRun {
            id,
            model: model.name.clone(),
            who: p.name.clone(),
            status: "running".into(),
            day: 0,
            days: 0,
            error: None,
            summary: None,
            daily: None,
        });
        id
    };
    let who = p.name.clone();
    with_store(&st, move |s| {
        audit(s, &who, "scenario.run", &model.name, &format!("run {id}"));
        Ok(())
    })
    .await?;
    let sc2 = sc.clone();
    std::thread::spawn(move || {
        let update = |f: &mut dyn FnMut(&mut ScenarioRun)| {
            if let Ok(mut runs) = sc2.runs.lock() {
                if let Some(r) = runs.get_mut(id - 1) {
                    f(r);
                }
            }
        };
        let result = rewater_model::load(&model.path, &sc2.standards)
            .map_err(|e| e.to_string())
            .and_then(|region| {
                run_region(&region, &mut |d, n| {
                    if d == 1 || d % 10 == 0 || d == n {
                        update(&mut |r| {
                            r.day = d;
                            r.days = n;
                        });
                    }
                })
            });
        update(&mut |r| match &result {
            Ok((s, d)) => {
                r.status = "done".into();
                r.summary = Some(s.clone());
                r.daily = Some(d.clone());
            }
            Err(e) => {
                r.status = "failed".into();
                r.error = Some(e.clone());
            }
        });
    });
    Ok(Json(json!({ "id": id })))
}

pub async fn get_run(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<usize>,
) -> ApiResult {
    authenticate(&st, &headers, &method).await?;
    let sc = scenarios(&st)?;
    let run = lock(&sc.runs)?
        .get(id.wrapping_sub(1))
        .cloned()
        .ok_or_else(|| not_found(format!("no run {id}")))?;
    Ok(Json(json!({ "run": run })))
}

// ---------------------------------------------------------------- overview

/// Sites with their status, the region's network and the headline indicators.
pub async fn overview(State(st): State<ApiState>, method: Method, headers: HeaderMap) -> ApiResult {
    let p = authenticate(&st, &headers, &method).await?;
    let p2 = p.clone();
    let (sites, alerts) = with_store(&st, move |s| {
        let sites: Vec<_> = s.sites()?.into_iter().filter(|x| p2.sees(x)).collect();
        let devices = s.devices()?;
        let mut out = Vec::new();
        for site in sites {
            let mut latest = Vec::new();
            for d in devices.iter().filter(|d| d.site_id == site.id) {
                latest.extend(s.latest(&d.mn)?);
            }
            out.push((site, latest));
        }
        let alerts = s.alerts(Some(rewater_store::AlertState::Open), None, 10_000)?;
        Ok((out, alerts))
    })
    .await?;
    let mut exceeding = 0;
    let mut open_total = 0;
    let site_list: Vec<Value> = sites
        .iter()
        .map(|(site, latest)| {
            let checks = crate::judge_latest(&st, site, latest);
            let fails = checks
                .iter()
                .flat_map(|v| v["checks"].as_array().cloned().unwrap_or_default())
                .filter(|c| c["meets"] == json!(false))
                .count();
            let open = alerts.iter().filter(|a| a.site_id == site.id).count();
            open_total += open;
            let status = if latest.is_empty() {
                "no_data"
            } else if fails > 0 {
                exceeding += 1;
                "exceeding"
            } else if open > 0 {
                "alert"
            } else {
                "ok"
            };
            let newest = latest.iter().map(|r| r.data_time).max();
            json!({"site": site, "status": status, "open_alerts": open, "failing_factors": fails, "latest_time": newest})
        })
        .collect();
    let model = st.platform.model.as_deref();
    let today = Date::from_wall_seconds(now_ms() / 1000 + 8 * 3600);
    let indicators = json!({
        "monitoring": {"sites": site_list.len(), "exceeding": exceeding, "open_alerts": open_total},
        "year": model.map(|m| json!({"start": m.summary.start, "end": m.summary.end, "treated_m3": m.summary.treated_m3,
            "delivered_m3": m.summary.delivered_m3, "deficit_m3": m.summary.deficit_m3,
            "utilisation_rate": m.summary.utilisation_rate, "supply_reliability": m.summary.supply_reliability,
            "targets": m.summary.targets})),
        "today": model.map(|m| m.today(today)),
    });
    Ok(Json(json!({
        "user": p,
        "region": model.map(|m| json!({"name": m.name, "nodes": m.nodes, "links": m.links})),
        "sites": site_list,
        "indicators": indicators,
        "tile_url": st.platform.tile_url,
    })))
}

/// The network and the visible sites as a GeoJSON FeatureCollection (for GIS tools):
/// nodes and sites as Points, links as LineStrings, coordinates [longitude, latitude].
pub async fn geojson(State(st): State<ApiState>, method: Method, headers: HeaderMap) -> ApiResult {
    let p = authenticate(&st, &headers, &method).await?;
    let sites = with_store(&st, move |s| {
        Ok(s.sites()?
            .into_iter()
            .filter(|x| p.sees(x))
            .collect::<Vec<_>>())
    })
    .await?;
    let mut features = Vec::new();
    if let Some(m) = st.platform.model.as_deref() {
        let at = |id: &Value| {
            m.nodes
                .iter()
                .find(|n| &n["id"] == id)
                .and_then(|n| n["location"].as_array().cloned())
        };
        for n in m.nodes.iter().filter(|n| n["location"].is_array()) {
            features.push(json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": n["location"]},
                "properties": {"layer": "node", "id": n["id"], "name": n["name"], "kind": n["kind"]}}));
        }
        for l in &m.links {
            if let (Some(a), Some(b)) = (at(&l["from"]), at(&l["to"])) {
                features.push(json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [a, b]},
                    "properties": {"layer": "link", "id": l["id"], "from": l["from"], "to": l["to"]}}));
            }
        }
    }
    for s in sites.iter().filter(|s| s.location.is_some()) {
        features.push(json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": s.location},
            "properties": {"layer": "site", "id": s.id, "name": s.name, "kind": s.kind, "district": s.district, "standard": s.standard}}));
    }
    Ok(Json(
        json!({"type": "FeatureCollection", "features": features}),
    ))
}

// ---------------------------------------------------------------- standards

pub async fn standards(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult {
    authenticate(&st, &headers, &method).await?;
    let list: Vec<Value> = st
        .standards
        .all()
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            if let Some(limits) = v.get_mut("limits").and_then(|l| l.as_array_mut()) {
                for (l, lim) in limits.iter_mut().zip(&s.limits) {
                    l["class"] = json!(lim
                        .class
                        .map(|c| s.classes[c].id.clone())
                        .unwrap_or_else(|| "*".into()));
                    l["factor_name_zh"] = json!(lim.factor.info().name_zh);
                    l["factor_name_en"] = json!(lim.factor.info().name_en);
                }
            }
            v
        })
        .collect();
    Ok(Json(json!({ "standards": list })))
}

// ---------------------------------------------------------------- static pages

pub async fn page(State(st): State<ApiState>, Path(path): Path<String>) -> Response {
    asset(&st, &path)
}

pub async fn index(State(st): State<ApiState>) -> Response {
    asset(&st, "index.html")
}

/// The scheme and host of a tile URL template, for the Content-Security-Policy.
fn tile_origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    let ok = matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '{' | '}'));
    ok.then(|| &url[..scheme.len() + 3 + host.len()])
}

/// `{s}.tiles.example` → `*.tiles.example` (a CSP host wildcard).
fn wildcard_placeholders(origin: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in origin.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push('*');
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn asset(st: &ApiState, path: &str) -> Response {
    // Images from the server itself, and from the tile server only if one is configured.
    let tiles = st
        .platform
        .tile_url
        .as_deref()
        .and_then(tile_origin)
        .map(|o| format!(" {}", wildcard_placeholders(o)))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; img-src 'self' data:{tiles}; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    );
    match rewater_web::asset(path) {
        Some((bytes, mime)) => Response::builder()
            .header(header::CONTENT_TYPE, mime)
            .header(header::CACHE_CONTROL, "no-cache")
            .header("x-content-type-options", "nosniff")
            .header("content-security-policy", csp)
            .body(Body::from(bytes))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Whether the principal may see the alert's site (for alert lists).
pub fn visible_sites(p: &Principal, sites: &[rewater_store::Site]) -> Vec<String> {
    sites
        .iter()
        .filter(|s| p.sees(s))
        .map(|s| s.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{tile_origin, wildcard_placeholders};

    #[test]
    fn tile_origins_for_the_content_security_policy() {
        assert_eq!(
            tile_origin("https://{s}.tiles.example:8443/{z}/{x}/{y}.png"),
            Some("https://{s}.tiles.example:8443")
        );
        assert_eq!(
            tile_origin("http://10.1.2.3/t/{z}/{x}/{y}"),
            Some("http://10.1.2.3")
        );
        assert_eq!(tile_origin("javascript:alert(1)"), None);
        assert_eq!(tile_origin("https://evil.example'; script-src *"), None);
        assert_eq!(tile_origin("ftp://x/{z}"), None);
        assert_eq!(
            wildcard_placeholders("https://{s}.tiles.example:8443"),
            "https://*.tiles.example:8443"
        );
    }
}
