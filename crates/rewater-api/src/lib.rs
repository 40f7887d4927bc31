//! The HTTP server of the monitoring service and web platform (axum): sites, devices,
//! latest values against each site's standard, series with downsampling, compliance,
//! alerts; login, users and roles, API tokens, the audit log, the overview, scenarios and
//! standards ([`platform`]); the pages from `rewater-web`. Every API route but
//! `/api/health`, `/api/openapi.json` and `/api/login` needs a session or
//! `Authorization: Bearer <token>` ([`auth`]). The OpenAPI document is [`openapi`]; a test
//! keeps it in step with [`ROUTES`].

pub mod auth;
pub mod platform;

use auth::{authenticate, Principal};
use axum::http::Method;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rewater_standards::comply::TimedReading;
use rewater_standards::standard::Context;
use rewater_standards::{Date, Factor, Reading as QualityReading, Standards};
use rewater_store::prelude::*;
use rewater_store::Site;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Shared state of the API.
#[derive(Clone)]
pub struct ApiState {
    /// A connection of its own to the store (reads and alert state changes).
    pub store: Arc<Mutex<Box<dyn Store>>>,
    /// Token → the name recorded as "who" in changes.
    pub tokens: Arc<HashMap<String, String>>,
    pub standards: Arc<Standards>,
    pub platform: Arc<Platform>,
}

/// What the web platform adds to the monitoring API; all optional.
#[derive(Default)]
pub struct Platform {
    /// The region on the overview map, with its baseline run.
    pub model: Option<Arc<platform::ModelView>>,
    pub scenarios: Option<Arc<platform::Scenarios>>,
    /// A map tile URL template ({z}/{x}/{y}); none by default, so nothing is fetched.
    pub tile_url: Option<String>,
}

impl ApiState {
    /// A state with the given store and server token and no platform extras.
    pub fn new(store: Box<dyn Store>, tokens: HashMap<String, String>) -> ApiState {
        ApiState {
            store: Arc::new(Mutex::new(store)),
            tokens: Arc::new(tokens),
            standards: Arc::new(Standards::builtin()),
            platform: Arc::new(Platform::default()),
        }
    }
}

/// Every route, as (method, path) in OpenAPI form.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/health"),
    ("get", "/api/openapi.json"),
    ("get", "/api/sites"),
    ("get", "/api/sites/{id}"),
    ("get", "/api/sites/{id}/latest"),
    ("get", "/api/sites/{id}/series"),
    ("get", "/api/sites/{id}/compliance"),
    ("get", "/api/devices"),
    ("get", "/api/alerts"),
    ("get", "/api/alerts/{id}"),
    ("post", "/api/alerts/{id}/state"),
    ("post", "/api/login"),
    ("post", "/api/logout"),
    ("get", "/api/me"),
    ("get", "/api/users"),
    ("post", "/api/users"),
    ("post", "/api/tokens"),
    ("get", "/api/audit"),
    ("put", "/api/sites/{id}"),
    ("get", "/api/overview"),
    ("get", "/api/geojson"),
    ("get", "/api/scenarios"),
    ("post", "/api/scenarios"),
    ("post", "/api/runs"),
    ("get", "/api/runs/{id}"),
    ("get", "/api/standards"),
];

/// The router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route(
            "/api/health",
            get(|| async { Json(json!({"status": "ok"})) }),
        )
        .route("/api/openapi.json", get(|| async { Json(openapi()) }))
        .route("/api/sites", get(sites))
        .route("/api/sites/{id}", get(site).put(platform::update_site))
        .route("/api/sites/{id}/latest", get(latest))
        .route("/api/sites/{id}/series", get(series))
        .route("/api/sites/{id}/compliance", get(compliance))
        .route("/api/devices", get(devices))
        .route("/api/alerts", get(alerts))
        .route("/api/alerts/{id}", get(alert))
        .route("/api/alerts/{id}/state", post(set_alert_state))
        .route("/api/login", post(platform::login))
        .route("/api/logout", post(platform::logout))
        .route("/api/me", get(platform::me))
        .route(
            "/api/users",
            get(platform::users).post(platform::create_user),
        )
        .route("/api/tokens", post(platform::create_token))
        .route("/api/audit", get(platform::audit_log))
        .route("/api/overview", get(platform::overview))
        .route("/api/geojson", get(platform::geojson))
        .route(
            "/api/scenarios",
            get(platform::list_scenarios).post(platform::upload_scenario),
        )
        .route("/api/runs", post(platform::start_run))
        .route("/api/runs/{id}", get(platform::get_run))
        .route("/api/standards", get(platform::standards))
        .route("/", get(platform::index))
        .route("/{*path}", get(platform::page))
        // Scenario uploads are model files of up to 2 MB.
        .layer(axum::extract::DefaultBodyLimit::max(4 << 20))
        .with_state(state)
}

/// An API error: status and message, as JSON.
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

impl From<rewater_store::StoreError> for ApiError {
    fn from(e: rewater_store::StoreError) -> Self {
        match e {
            rewater_store::StoreError::Invalid(m) => ApiError(StatusCode::BAD_REQUEST, m),
            other => ApiError(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

pub(crate) type ApiResult = Result<Json<Value>, ApiError>;

pub(crate) fn bad(m: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, m.into())
}

pub(crate) fn not_found(m: impl Into<String>) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, m.into())
}

/// Authenticates a read-only request.
async fn auth(state: &ApiState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    authenticate(state, headers, &Method::GET).await
}

/// A site the caller may see, with its devices.
fn visible_site(
    store: &mut dyn Store,
    p: &Principal,
    id: &str,
) -> Result<(Site, Vec<String>), ApiError> {
    let site = find_site(store, id)?;
    p.check_site(&site)?;
    Ok((site, site_devices(store, id)?))
}

/// Runs a store call off the async threads.
pub(crate) async fn with_store<T: Send + 'static>(
    state: &ApiState,
    f: impl FnOnce(&mut dyn Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = store.lock().map_err(|_| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store lock poisoned".into(),
            )
        })?;
        f(guard.as_mut())
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

pub(crate) fn find_site(store: &mut dyn Store, id: &str) -> Result<Site, ApiError> {
    store
        .sites()?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| not_found(format!("no site '{id}'")))
}

fn site_devices(store: &mut dyn Store, id: &str) -> Result<Vec<String>, ApiError> {
    Ok(store
        .devices()?
        .into_iter()
        .filter(|d| d.site_id == id)
        .map(|d| d.mn)
        .collect())
}

async fn sites(State(st): State<ApiState>, headers: HeaderMap) -> ApiResult {
    let p = auth(&st, &headers).await?;
    let list: Vec<Site> = with_store(&st, |s| Ok(s.sites()?))
        .await?
        .into_iter()
        .filter(|s| p.sees(s))
        .collect();
    Ok(Json(json!({ "sites": list })))
}

async fn devices(State(st): State<ApiState>, headers: HeaderMap) -> ApiResult {
    let p = auth(&st, &headers).await?;
    let (list, sites) = with_store(&st, |s| Ok((s.devices()?, s.sites()?))).await?;
    let seen = platform::visible_sites(&p, &sites);
    let list: Vec<_> = list
        .into_iter()
        .filter(|d| seen.contains(&d.site_id))
        .collect();
    // Passwords stay in the store.
    let out: Vec<Value> = list.into_iter().map(|d| json!({"mn": d.mn, "site_id": d.site_id, "lenient": d.lenient, "accept_modbus_crc": d.accept_modbus_crc})).collect();
    Ok(Json(json!({ "devices": out })))
}

async fn site(State(st): State<ApiState>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let p = auth(&st, &headers).await?;
    let (site, devices) = with_store(&st, move |s| visible_site(s, &p, &id)).await?;
    Ok(Json(json!({ "site": site, "devices": devices })))
}

/// Latest values of a site's devices, each judged against the site's standard(s).
async fn latest(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let p = auth(&st, &headers).await?;
    let (site, readings) = with_store(&st, move |s| {
        let (site, mns) = visible_site(s, &p, &id)?;
        let mut all = Vec::new();
        for mn in mns {
            all.extend(s.latest(&mn)?);
        }
        Ok((site, all))
    })
    .await?;
    let values = judge_latest(&st, &site, &readings);
    Ok(Json(json!({ "site": site.id, "values": values })))
}

/// Each latest reading with its checks against each of the site's standards.
pub(crate) fn judge_latest(
    st: &ApiState,
    site: &Site,
    readings: &[rewater_store::Reading],
) -> Vec<Value> {
    let specs = site.standards();
    readings
        .iter()
        .map(|r| {
            let mut checks = Vec::new();
            if let (Ok(f), Some(v)) = (Factor::parse(&r.factor), r.value) {
                for spec in &specs {
                    let Ok((std, class)) = st.standards.resolve(spec) else { continue };
                    let date = Some(Date::from_wall_seconds(r.data_time));
                    let ctx = Context { date, ..Default::default() };
                    if let Some(sel) = std.limit_for(class, f, &ctx) {
                        if let Ok(Some(verdict)) = rewater_standards::evaluate::judge(sel.limit, v, f.info().unit) {
                            checks.push(json!({"standard": spec, "limit": sel.limit.bound, "unit": sel.limit.unit, "meets": verdict.meets, "exceedance_multiple": verdict.exceedance_multiple, "confidence": sel.limit.confidence}));
                        }
                    }
                }
            }
            json!({"reading": r, "checks": checks})
        })
        .collect()
}

#[derive(Deserialize)]
struct SeriesQuery {
    factor: String,
    from: Option<String>,
    to: Option<String>,
    /// Bucket length in seconds; default: as needed for at most `points` points.
    bucket: Option<i64>,
    points: Option<i64>,
}

/// A time given as wall seconds or YYYY-MM-DD.
fn parse_time(s: &str) -> Result<i64, ApiError> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let d: Date = s
        .parse()
        .map_err(|_| bad(format!("'{s}' is neither seconds nor YYYY-MM-DD")))?;
    Ok(d.wall_seconds())
}

fn factor_code(f: &str) -> Result<String, ApiError> {
    Factor::parse(f)
        .map(|f| f.code().to_string())
        .map_err(|e| bad(e.to_string()))
}

async fn series(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> ApiResult {
    let p = auth(&st, &headers).await?;
    let factor = factor_code(&q.factor)?;
    let to =
        q.to.as_deref()
            .map(parse_time)
            .transpose()?
            .unwrap_or(i64::MAX / 4);
    let from = q.from.as_deref().map(parse_time).transpose()?.unwrap_or(0);
    if to <= from {
        return Err(bad("'to' must be after 'from'"));
    }
    let points = q.points.unwrap_or(1000).clamp(1, 100_000);
    let requested_bucket = q.bucket;
    let f2 = factor.clone();
    let (bucket, series) = with_store(&st, move |s| {
        let (_, mns) = visible_site(s, &p, &id)?;
        let mn = mns
            .first()
            .ok_or_else(|| not_found(format!("site '{id}' has no device")))?;
        // Without explicit bounds, span the data that exist.
        let (lo, hi) = if from == 0 || to >= i64::MAX / 4 {
            let all = s.aggregates(mn, &f2, rewater_store::Period::Day, from, to)?;
            (
                all.first().map(|p| p.t).unwrap_or(from),
                all.last().map(|p| p.t + 86_400).unwrap_or(from + 86_400),
            )
        } else {
            (from, to)
        };
        // Automatic buckets of an hour or more are whole hours, so they come from the kept
        // hourly aggregates instead of every reading.
        let bucket = requested_bucket.unwrap_or_else(|| match ((hi - lo) / points).max(60) {
            b if b >= 3600 => (b + 3599) / 3600 * 3600,
            b => b,
        });
        if bucket <= 0 {
            return Err(bad("bucket must be positive"));
        }
        // Hour-aligned buckets come from the kept hourly aggregates; finer ones from readings.
        let pts = if bucket % 3600 == 0 {
            let hourly = s.aggregates(mn, &f2, rewater_store::Period::Hour, lo, hi)?;
            merge(hourly, bucket)
        } else {
            s.series(mn, &f2, lo, hi, bucket)?
        };
        Ok((bucket, pts))
    })
    .await?;
    Ok(Json(
        json!({ "factor": factor, "bucket_s": bucket, "points": series }),
    ))
}

/// Merges hourly points into buckets of `bucket` seconds.
fn merge(hourly: Vec<rewater_store::SeriesPoint>, bucket: i64) -> Vec<rewater_store::SeriesPoint> {
    let mut out: Vec<rewater_store::SeriesPoint> = Vec::new();
    for p in hourly {
        let t = p.t.div_euclid(bucket) * bucket;
        match out.last_mut() {
            Some(last) if last.t == t => {
                let n = last.n + p.n;
                last.mean = (last.mean * last.n as f64 + p.mean * p.n as f64) / n as f64;
                last.min = last.min.min(p.min);
                last.max = last.max.max(p.max);
                last.n = n;
            }
            _ => out.push(rewater_store::SeriesPoint { t, ..p }),
        }
    }
    out
}

#[derive(Deserialize)]
struct ComplianceQuery {
    from: String,
    to: String,
}

/// Compliance of a site's valid real-time and minute data with each of its standards.
async fn compliance(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ComplianceQuery>,
) -> ApiResult {
    let p = auth(&st, &headers).await?;
    let (from, to) = (parse_time(&q.from)?, parse_time(&q.to)?);
    if to <= from || to - from > 400 * 86_400 {
        return Err(bad("the period must be positive and at most 400 days"));
    }
    let (site, readings) = with_store(&st, move |s| {
        let (site, mns) = visible_site(s, &p, &id)?;
        let mut out = Vec::new();
        for mn in mns {
            for r in s.latest(&mn)? {
                out.extend(s.readings(&mn, &r.factor, &["2011", "2051"], from, to)?);
            }
        }
        Ok((site, out))
    })
    .await?;

    let series: Vec<TimedReading> = readings
        .iter()
        .filter_map(|r| {
            let f = Factor::parse(&r.factor).ok()?;
            let v = r.value?;
            Some(TimedReading {
                date: Date::from_wall_seconds(r.data_time),
                reading: QualityReading {
                    factor: f,
                    value: v,
                    unit: f.info().unit,
                },
                flag: r
                    .flag
                    .as_deref()
                    .and_then(|s| s.chars().next())
                    .unwrap_or('N'),
                line: 0,
            })
        })
        .collect();
    let mut reports = Vec::new();
    for spec in site.standards() {
        let (std, class) = st.standards.resolve(spec).map_err(bad)?;
        let report = rewater_standards::comply(std, class, &series, &Context::default())
            .map_err(|e| bad(e.to_string()))?;
        reports.push(report);
    }
    Ok(Json(json!({ "site": site.id, "reports": reports })))
}

#[derive(Deserialize)]
struct AlertQuery {
    state: Option<String>,
    site: Option<String>,
    limit: Option<i64>,
}

async fn alerts(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<AlertQuery>,
) -> ApiResult {
    let p = auth(&st, &headers).await?;
    let state = q
        .state
        .as_deref()
        .map(str::parse::<rewater_store::AlertState>)
        .transpose()
        .map_err(|e| bad(e.to_string()))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let list = with_store(&st, move |s| {
        let seen = platform::visible_sites(&p, &s.sites()?);
        // Operators: fetch enough to fill the page after leaving out other districts.
        let fetch = if p.district.is_some() { 10_000 } else { limit };
        let mut list = s.alerts(state, q.site.as_deref(), fetch)?;
        list.retain(|a| seen.contains(&a.site_id));
        list.truncate(limit as usize);
        Ok(list)
    })
    .await?;
    Ok(Json(json!({ "alerts": list })))
}

async fn alert(State(st): State<ApiState>, headers: HeaderMap, Path(id): Path<i64>) -> ApiResult {
    let p = auth(&st, &headers).await?;
    let (a, history) = with_store(&st, move |s| {
        let a = s
            .alert(id)?
            .ok_or_else(|| not_found(format!("no alert {id}")))?;
        p.check_site(&find_site(s, &a.site_id)?)?;
        Ok((a, s.alert_history(id)?))
    })
    .await?;
    Ok(Json(json!({ "alert": a, "history": history })))
}

#[derive(Deserialize)]
struct StateChange {
    state: String,
    #[serde(default)]
    comment: String,
}

async fn set_alert_state(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<StateChange>,
) -> ApiResult {
    let p = authenticate(&st, &headers, &method).await?;
    let now = auth::now_ms();
    let state = body
        .state
        .parse::<rewater_store::AlertState>()
        .map_err(|e| bad(e.to_string()))?;
    let a = with_store(&st, move |s| {
        let Some(alert) = s.alert(id)? else {
            return Err(not_found(format!("no alert {id}")));
        };
        let site = find_site(s, &alert.site_id)?;
        p.check_site(&site)?;
        if !p.acts_on(&site) {
            return Err(auth::forbidden(format!(
                "{} may not change alerts of site '{}'",
                p.name, site.id
            )));
        }
        s.set_alert_state(id, state, &p.name, &body.comment, now)?;
        platform::audit(
            s,
            &p.name,
            &format!("alert.{}", body.state),
            &format!("alert {id} ({})", site.id),
            &body.comment,
        );
        Ok(s.alert(id)?)
    })
    .await?;
    Ok(Json(json!({ "alert": a })))
}

/// The OpenAPI 3.1 document of the API.
pub fn openapi() -> Value {
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    let alert_id =
        json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let body = |props: Value, required: &[&str]| json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": required, "properties": props}}}});
    let ok = |desc: &str| json!({"200": {"description": desc, "content": {"application/json": {"schema": {"type": "object"}}}}, "401": {"description": "missing or unknown bearer token"}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "rewater monitoring API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Sites, devices, readings, compliance and alerts of a rewater monitoring service. Times are wall-clock seconds since 1970 in the devices' local time (Beijing), or YYYY-MM-DD."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "session": {"type": "apiKey", "in": "cookie", "name": "rw_session"}}},
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/health": {"get": {"summary": "Liveness", "security": [], "responses": {"200": {"description": "ok"}}}},
            "/api/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI document"}}}},
            "/api/sites": {"get": {"summary": "Monitoring sites", "responses": ok("sites")}},
            "/api/sites/{id}": {"get": {"summary": "A site and its devices", "parameters": [id], "responses": ok("site")},
                "put": {"summary": "Change a site's name, standard or location (administrators, or the operator of its district); audited", "parameters": [id],
                    "requestBody": body(json!({"name": {"type": "string"}, "standard": {"type": "string"}, "location": {"type": "array", "items": {"type": "number"}}}), &[]), "responses": ok("the site")}},
            "/api/sites/{id}/latest": {"get": {"summary": "Latest value of each factor, judged against the site's standards", "parameters": [id], "responses": ok("latest values")}},
            "/api/sites/{id}/series": {"get": {"summary": "A factor's series, downsampled into buckets (mean, min, max, count of valid values)", "parameters": [id,
                {"name": "factor", "in": "query", "required": true, "schema": {"type": "string"}, "description": "HJ 212 code or name (cod, nh3n…)"},
                {"name": "from", "in": "query", "schema": {"type": "string"}}, {"name": "to", "in": "query", "schema": {"type": "string"}},
                {"name": "bucket", "in": "query", "schema": {"type": "integer"}, "description": "seconds"},
                {"name": "points", "in": "query", "schema": {"type": "integer"}, "description": "most points when bucket is not given (default 1000)"}], "responses": ok("series")}},
            "/api/sites/{id}/compliance": {"get": {"summary": "Daily compliance (达标率) with each of the site's standards", "parameters": [id,
                {"name": "from", "in": "query", "required": true, "schema": {"type": "string"}}, {"name": "to", "in": "query", "required": true, "schema": {"type": "string"}}], "responses": ok("compliance reports")}},
            "/api/devices": {"get": {"summary": "Data loggers (passwords are not returned)", "responses": ok("devices")}},
            "/api/alerts": {"get": {"summary": "Alerts, newest first", "parameters": [
                {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["open", "acknowledged", "closed"]}},
                {"name": "site", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}], "responses": ok("alerts")}},
            "/api/alerts/{id}": {"get": {"summary": "An alert and its state history", "parameters": [alert_id], "responses": ok("alert")}},
            "/api/alerts/{id}/state": {"post": {"summary": "Acknowledge or close an alert (open → acknowledged → closed); the token's owner is recorded", "parameters": [alert_id],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["state"], "properties": {"state": {"type": "string", "enum": ["acknowledged", "closed"]}, "comment": {"type": "string"}}}}}},
                "responses": ok("the changed alert")},
            },
            "/api/login": {"post": {"summary": "Log in with name and password: sets the session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token to send as X-CSRF-Token on every change", "security": [],
                "requestBody": body(json!({"name": {"type": "string"}, "password": {"type": "string"}}), &["name", "password"]), "responses": ok("the account and its CSRF token")}},
            "/api/logout": {"post": {"summary": "End the session", "responses": ok("ok")}},
            "/api/me": {"get": {"summary": "Who is logged in: name, role, district, CSRF token", "responses": ok("the caller")}},
            "/api/users": {"get": {"summary": "Accounts (administrators only)", "responses": ok("accounts")},
                "post": {"summary": "Create or update an account (administrators only); audited", "requestBody": body(json!({"name": {"type": "string"}, "password": {"type": "string", "minLength": 10}, "role": {"type": "string", "enum": ["admin", "operator", "viewer"]}, "district": {"type": "string"}}), &["name", "password", "role"]), "responses": ok("the account")}},
            "/api/tokens": {"post": {"summary": "Create an API token for an account (administrators only); the secret is returned once; audited", "requestBody": body(json!({"account": {"type": "string"}, "label": {"type": "string"}}), &["account"]), "responses": ok("the token")}},
            "/api/audit": {"get": {"summary": "The audit log, newest first (administrators only)", "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}], "responses": ok("audit entries")}},
            "/api/geojson": {"get": {"summary": "The network and the visible sites as a GeoJSON FeatureCollection (nodes and sites as Points, links as LineStrings, [longitude, latitude])", "responses": ok("GeoJSON")}},
            "/api/overview": {"get": {"summary": "The region's network, the visible sites with their status, and headline indicators for today and the year", "responses": ok("overview")}},
            "/api/scenarios": {"get": {"summary": "Models that can be run and the runs so far", "responses": ok("models and runs")},
                "post": {"summary": "Upload a model file (TOML), validated before it is kept; not for viewers; audited", "requestBody": body(json!({"name": {"type": "string"}, "toml": {"type": "string"}}), &["name", "toml"]), "responses": ok("ok")}},
            "/api/runs": {"post": {"summary": "Run a model in the background; not for viewers; audited", "requestBody": body(json!({"model": {"type": "string"}}), &["model"]), "responses": ok("the run's id")}},
            "/api/runs/{id}": {"get": {"summary": "A run's progress and, when done, its summary and daily results", "parameters": [alert_id], "responses": ok("the run")}},
            "/api/standards": {"get": {"summary": "Every standard with its classes and limits, sources and confidence", "responses": ok("standards")}}
        }
    })
}
