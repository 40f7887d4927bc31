//! The river-outfall ledger (入河排污口台账, issue 16): the filtered list, one outfall with
//! its chain (排污通道, 排污单位), downstream sections and versions, sections, backward
//! tracing from a section, rectification records (一口一策) and their steps, coverage.
//! District scoping on every route: an operator sees and acts on the outfalls, sections and
//! records of their district only; tracing from their section shows sources of other
//! districts without their dischargers. Viewers read, operators and administrators write;
//! every change is a stored version with who and why, and audited.

use crate::auth::{authenticate, Principal};
use crate::error::{bad, forbidden, not_found, ApiError, ApiResult, E400, E401, E403, E404};
use crate::extract::{ApiJson, ApiQuery};
use crate::sites::auth_read;
use crate::{audit, auth, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_outfalls::network::Network;
use rewater_outfalls::rectify::{FoundBy, Measure, Rectification, State as RState};
use rewater_outfalls::store as ls;
use rewater_outfalls::trace::{self, Exceedance};
use rewater_outfalls::{classes, coverage, measured, Basis, Compliance, Ledger};
use rewater_store::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// The district an operator is limited to (none for administrators and viewers).
fn scope(p: &Principal) -> Option<String> {
    (p.role == Role::Operator).then(|| p.district.clone().unwrap_or_default())
}

fn check_sees(p: &Principal, what: &str, district: Option<&str>) -> Result<(), ApiError> {
    match scope(p) {
        Some(d) if district != Some(d.as_str()) => Err(forbidden(format!(
            "{what} is in district '{}'; {} sees district '{d}' only",
            district.unwrap_or(""),
            p.name
        ))),
        _ => Ok(()),
    }
}

fn check_acts(p: &Principal, what: &str, district: &str) -> Result<(), ApiError> {
    p.require_writer()?;
    check_sees(p, what, Some(district))
}

fn ledger_err(e: rewater_outfalls::LedgerError) -> ApiError {
    match e {
        rewater_outfalls::LedgerError::Store(s) => s.into(),
        other => bad(other.to_string()),
    }
}

/// A line of the ledger list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutfallLine {
    pub code: String,
    pub name: String,
    /// HJ 1312-2023 class id, with its names.
    pub class: String,
    pub class_zh: String,
    pub class_en: String,
    pub district: String,
    pub reach: String,
    /// legal, illegal or unknown.
    pub compliance: String,
    pub lon: f64,
    pub lat: f64,
    /// CGCS2000 or WGS84.
    pub datum: String,
}

fn line(o: &rewater_outfalls::Outfall) -> OutfallLine {
    let c = classes::class(&o.class);
    OutfallLine {
        code: o.code.clone(),
        name: o.name.clone(),
        class: o.class.clone(),
        class_zh: c.map_or_else(String::new, |c| c.zh.clone()),
        class_en: c.map_or_else(String::new, |c| c.en.clone()),
        district: o.district.clone(),
        reach: o.reach.clone(),
        compliance: o.compliance.word().into(),
        lon: o.location.lon,
        lat: o.location.lat,
        datum: o.location.datum.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct OutfallsBody {
    /// Matches of the filter (all pages).
    pub total: i64,
    pub outfalls: Vec<OutfallLine>,
    /// The server's map tile URL template ({z}/{x}/{y}), when one is configured.
    pub tile_url: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct OutfallsQuery {
    district: Option<String>,
    /// Text in code, name, class, responsible party, reach.
    search: Option<String>,
    /// HJ 1312 class id (industrial.enterprise…) or undetermined.
    class: Option<String>,
    /// legal, illegal or unknown.
    compliance: Option<String>,
    /// 1–500, default 50.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The ledger list, filtered and paged (operators: their district's).
#[utoipa::path(get, path = "/api/outfalls", tag = "outfalls", params(OutfallsQuery),
    responses((status = 200, description = "a page of outfalls", body = OutfallsBody), E400, E401, E403))]
pub async fn outfalls(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<OutfallsQuery>,
) -> ApiResult<OutfallsBody> {
    let p = auth_read(&st, &headers).await?;
    let district = match (scope(&p), q.district) {
        (Some(mine), Some(asked)) if mine != asked => {
            return Err(forbidden(format!("{} sees district '{mine}' only", p.name)))
        }
        (Some(mine), _) => Some(mine),
        (None, asked) => asked.filter(|d| !d.is_empty()),
    };
    let compliance = q
        .compliance
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<Compliance>())
        .transpose()
        .map_err(|e| bad(format!("compliance: {e}")))?;
    let f = ls::OutfallFilter {
        district,
        search: q.search,
        class: q.class.filter(|c| !c.is_empty()),
        compliance,
        limit: q.limit.unwrap_or(50).clamp(1, 500),
        offset: q.offset.unwrap_or(0).max(0),
    };
    let (total, page) =
        with_store(&st, move |s| ls::outfall_page(s, &f).map_err(ledger_err)).await?;
    Ok(Json(OutfallsBody {
        total,
        outfalls: page.iter().map(line).collect(),
        tile_url: st.platform.tile_url.clone(),
    }))
}

/// A stored version (who, when, why).
#[derive(Serialize, ToSchema)]
pub struct VersionView {
    pub version: i64,
    pub who: String,
    pub reason: String,
    pub at: String,
    pub retired: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OutfallBody {
    pub line: OutfallLine,
    /// The full record (see rewater_outfalls::Outfall).
    #[schema(value_type = Object)]
    pub outfall: Value,
    /// Channels and dischargers behind it, and the links between them.
    #[schema(value_type = Object)]
    pub chain: Value,
    /// The dischargers' records.
    #[schema(value_type = Vec<Object>)]
    pub dischargers: Vec<Value>,
    /// Sections downstream, with travel time and the COD increment.
    #[schema(value_type = Object)]
    pub downstream: Value,
    #[schema(value_type = Vec<Object>)]
    pub rectifications: Vec<Value>,
    /// Spill counts by year (12/24 rule; see rewater_outfalls::spills::SpillYear).
    #[schema(value_type = Vec<Object>)]
    pub spills: Vec<Value>,
    pub versions: Vec<VersionView>,
}

fn load(s: &mut dyn rewater_store::Store) -> Result<Ledger, ApiError> {
    ls::load_ledger(s).map_err(ledger_err)
}

/// The ledger and its river network as last loaded, with the store stamp they were loaded
/// at: a 10,000-outfall ledger takes far longer to parse than a trace takes to answer.
pub struct LedgerCache {
    loaded: std::sync::Mutex<Option<Loaded>>,
    /// One import into this ledger at a time.
    pub(crate) import_slot: tokio::sync::Semaphore,
}

impl Default for LedgerCache {
    fn default() -> Self {
        LedgerCache {
            loaded: std::sync::Mutex::new(None),
            import_slot: tokio::sync::Semaphore::new(1),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Loaded {
    stamp: (i64, i64),
    pub(crate) ledger: Arc<Ledger>,
    /// The network, or why it cannot be built.
    network: Result<Arc<Network>, String>,
}

impl Loaded {
    fn network(&self) -> Result<&Network, ApiError> {
        self.network.as_deref().map_err(|e| bad(e.clone()))
    }
}

/// The current ledger (shared, from the cache when the store has not changed).
pub(crate) fn current_ledger(
    cache: &LedgerCache,
    s: &mut dyn rewater_store::Store,
) -> Result<Arc<Ledger>, ApiError> {
    Ok(loaded(cache, s)?.ledger)
}

/// The current ledger: from the cache while the store's stamp is the one it was loaded at.
/// Called with the store lock held, so no put can slip between stamp and load.
fn loaded(cache: &LedgerCache, s: &mut dyn rewater_store::Store) -> Result<Loaded, ApiError> {
    let stamp = s.outfall_records_stamp()?;
    let mut c = cache
        .loaded
        .lock()
        .map_err(|_| crate::error::internal("ledger cache lock poisoned"))?;
    if let Some(l) = c.as_ref().filter(|l| l.stamp == stamp) {
        return Ok(l.clone());
    }
    let ledger = load(s)?;
    let network = Network::build(&ledger).map(Arc::new);
    let l = Loaded {
        stamp,
        ledger: Arc::new(ledger),
        network,
    };
    *c = Some(l.clone());
    Ok(l)
}

fn to_json(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// One outfall with its chain, downstream sections, rectification records and versions.
#[utoipa::path(get, path = "/api/outfalls/{code}", tag = "outfalls",
    params(("code" = String, Path, description = "outfall code")),
    responses((status = 200, description = "the outfall", body = OutfallBody), E401, E403, E404))]
pub async fn outfall(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> ApiResult<OutfallBody> {
    let p = auth_read(&st, &headers).await?;
    let zone = st.zone.clone();
    let cache = st.ledgers.clone();
    let body = with_store(&st, move |s| {
        let cached = loaded(&cache, s)?;
        let l = &*cached.ledger;
        let o = l
            .outfall(&code)
            .ok_or_else(|| not_found(format!("no outfall '{code}'")))?;
        check_sees(&p, &format!("outfall '{code}'"), Some(&o.district))?;
        let net = cached.network()?;
        let downstream = trace::forward(l, net, &code, "cod").map_err(|e| bad(e.to_string()))?;
        let chain = l.chain_of(&code);
        let dischargers = l
            .dischargers
            .iter()
            .filter(|d| chain.dischargers.contains(&d.code))
            .map(to_json)
            .collect();
        let rectifications = ls::rectifications(s, Some(&o.district))
            .map_err(ledger_err)?
            .into_iter()
            .filter(|r| r.outfall == code)
            .map(|r| to_json(&r))
            .collect();
        let versions = ls::history(s, "outfall", &code)
            .map_err(ledger_err)?
            .into_iter()
            .map(|r| VersionView {
                version: r.version,
                who: r.who,
                reason: r.reason,
                at: zone.rfc3339_ms(r.at_ms),
                retired: r.retired,
            })
            .collect();
        let spills = ls::spill_years(s, Some(&o.district), None, Some(&code))
            .map_err(ledger_err)?
            .iter()
            .map(to_json)
            .collect();
        Ok(OutfallBody {
            spills,
            line: line(o),
            outfall: to_json(o),
            chain: to_json(&chain),
            dischargers,
            downstream: to_json(&downstream),
            rectifications,
            versions,
        })
    })
    .await?;
    Ok(Json(body))
}

/// A monitoring section.
#[derive(Serialize, ToSchema)]
pub struct SectionLine {
    pub id: String,
    pub name: String,
    pub reach: String,
    pub chainage_m: f64,
    pub district: Option<String>,
    pub site_mn: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SectionsBody {
    pub sections: Vec<SectionLine>,
}

/// Monitoring sections of the ledger (operators: their district's).
#[utoipa::path(get, path = "/api/outfall-sections", tag = "outfalls",
    responses((status = 200, description = "sections", body = SectionsBody), E401))]
pub async fn sections(State(st): State<ApiState>, headers: HeaderMap) -> ApiResult<SectionsBody> {
    let p = auth_read(&st, &headers).await?;
    let mine = scope(&p);
    let cache = st.ledgers.clone();
    let list = with_store(&st, move |s| Ok(loaded(&cache, s)?.ledger)).await?;
    let sections = list
        .sections
        .iter()
        .filter(|s| mine.is_none() || s.district == mine)
        .map(|s| SectionLine {
            id: s.id.clone(),
            name: s.name.clone(),
            reach: s.reach.clone(),
            chainage_m: s.chainage_m,
            district: s.district.clone(),
            site_mn: s.site_mn.clone(),
        })
        .collect();
    Ok(Json(SectionsBody { sections }))
}

/// The answer of a backward trace.
#[derive(Serialize, ToSchema)]
pub struct TraceBody {
    /// rewater_outfalls::trace::BackwardTrace: sources ranked by delivered load, each with
    /// travel time, shares, dischargers and whether its discharge is measured or estimated.
    #[schema(value_type = Object)]
    pub trace: Value,
    /// Where the observed concentration came from when the request gave none: the latest
    /// reading of the section's HJ 212 data logger (MN and time).
    pub observed_from: Option<String>,
    /// Outfalls whose discharge came from their HJ 212 data logger (or why not).
    pub discharges_from: Vec<LoggerUseView>,
}

/// What an outfall's data logger gave to a trace.
#[derive(Serialize, ToSchema)]
pub struct LoggerUseView {
    pub outfall: String,
    pub site_mn: String,
    /// Time of the newest reading used (RFC 3339 with offset).
    pub data_time: Option<String>,
    /// Values taken: flow_m3_per_s and mg/L per factor key.
    pub taken: std::collections::BTreeMap<String, f64>,
    /// Why typical values were kept, when they were.
    pub kept: Option<String>,
}

/// Coverage figures.
#[derive(Serialize, ToSchema)]
pub struct CoverageBody {
    /// rewater_outfalls::coverage::CoverageReport: counts by district, by water body, total.
    #[schema(value_type = Object)]
    pub coverage: Value,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    section: String,
    /// Factor code (cod, nh3n…), default cod.
    #[serde(default)]
    factor: Option<String>,
    /// Observed concentration at the section, mg/L (from monitoring or entered).
    #[serde(default)]
    observed_mg_per_l: Option<f64>,
    #[serde(default)]
    background_mg_per_l: f64,
    /// Only sources whose water arrives within this many hours.
    #[serde(default)]
    max_travel_h: Option<f64>,
    #[serde(default)]
    min_travel_h: Option<f64>,
    /// Readings of outfall data loggers at most this old are used (hours, default 24;
    /// 0 uses the ledger's typical discharges only).
    #[serde(default)]
    logger_window_h: Option<f64>,
    /// At most this many ranked sources in the answer (1–10,000, default 500); shares are of
    /// all ranked sources, and `sources_total` says how many there were.
    #[serde(default)]
    limit: Option<usize>,
}

/// Backward trace from a section: upstream outfalls ranked by the load they deliver
/// (Q·C·e^(−k·t)), with travel time, dischargers and share of the section's excess load.
#[utoipa::path(post, path = "/api/outfall-trace", tag = "outfalls", request_body = TraceRequest,
    responses((status = 200, description = "ranked sources", body = TraceBody), E400, E401, E403, E404))]
pub async fn trace_section(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiJson(q): ApiJson<TraceRequest>,
) -> ApiResult<TraceBody> {
    let p = auth_read(&st, &headers).await?;
    for (f, v) in [
        ("observed_mg_per_l", q.observed_mg_per_l),
        ("max_travel_h", q.max_travel_h),
        ("min_travel_h", q.min_travel_h),
        ("background_mg_per_l", Some(q.background_mg_per_l)),
        ("logger_window_h", q.logger_window_h),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(bad(format!("{f}: a number ≥ 0")));
        }
    }
    let limit = q.limit.unwrap_or(500);
    if !(1..=10_000).contains(&limit) {
        return Err(bad("limit: 1–10000"));
    }
    let zone = st.zone.clone();
    let cache = st.ledgers.clone();
    let window_s = (q.logger_window_h.unwrap_or(24.0) * 3600.0) as i64;
    let now_wall = zone.now_wall_seconds();
    let (out, observed_from, discharges_from) = with_store(&st, move |s| {
        let cached = loaded(&cache, s)?;
        let l = &*cached.ledger;
        let sec = l
            .section(&q.section)
            .ok_or_else(|| not_found(format!("no section '{}'", q.section)))?;
        check_sees(
            &p,
            &format!("section '{}'", sec.id),
            sec.district.as_deref(),
        )?;
        let net = cached.network()?;
        let factor = q.factor.unwrap_or_else(|| "cod".into());
        // No value given: the latest reading of the section's data logger, if it has one.
        let (mut observed, mut observed_from) = (q.observed_mg_per_l, None);
        if let (None, Some(mn)) = (observed, &sec.site_mn) {
            let code = rewater_standards::Factor::parse(&factor)
                .map_or_else(|_| factor.clone(), |f| f.code().to_string());
            let latest = s.latest(mn)?;
            if let Some(r) = latest
                .iter()
                .find(|r| r.factor == code && r.value.is_some())
            {
                observed = r.value;
                observed_from = Some(format!(
                    "HJ 212 {mn} {code} {}",
                    zone.rfc3339_wall(r.data_time)
                ));
            }
        }
        let ex = Exceedance {
            section: q.section.clone(),
            factor,
            observed_mg_per_l: observed,
            background_mg_per_l: q.background_mg_per_l,
            observed_basis: observed.map(|_| Basis::Measured),
            min_travel_s: q.min_travel_h.map(|h| h * 3600.0),
            max_travel_s: q.max_travel_h.map(|h| h * 3600.0),
        };
        // Outfalls with a data logger: their latest valid readings replace typical values.
        let (mut b, uses) = if window_s > 0 && l.outfalls.iter().any(|o| o.site_mn.is_some()) {
            let mut own = l.clone();
            let uses = measured::apply_loggers(&mut own, now_wall, window_s, |mn| s.latest(mn))?;
            let b = trace::backward(&own, net, &ex);
            (b.map_err(|e| bad(e.to_string()))?, uses)
        } else {
            let b = trace::backward(l, net, &ex);
            (b.map_err(|e| bad(e.to_string()))?, Vec::new())
        };
        let total = b.sources.len();
        b.sources.truncate(limit);
        if let Some(mine) = scope(&p) {
            for src in &mut b.sources {
                if src.district != mine {
                    src.dischargers.clear();
                }
            }
        }
        let uses: Vec<LoggerUseView> = uses
            .into_iter()
            .map(|u| LoggerUseView {
                data_time: u.data_time.map(|t| zone.rfc3339_wall(t)),
                outfall: u.outfall,
                site_mn: u.site_mn,
                taken: u.taken,
                kept: u.kept,
            })
            .collect();
        let mut json = to_json(&b);
        json["sources_total"] = total.into();
        Ok((json, observed_from, uses))
    })
    .await?;
    Ok(Json(TraceBody {
        trace: out,
        observed_from,
        discharges_from,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRectification {
    problem: String,
    /// ban (取缔), merge (合并) or regulate (规范整治).
    measure: String,
    responsible_unit: String,
    /// YYYY-MM-DD.
    deadline: String,
    /// survey, inspection, enforcement, complaint or monitoring.
    #[serde(default)]
    found_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RectificationBody {
    #[schema(value_type = Object)]
    pub rectification: Value,
    pub versions: Vec<VersionView>,
}

fn found_by(s: Option<&str>) -> Result<FoundBy, ApiError> {
    Ok(match s.unwrap_or("inspection") {
        "survey" => FoundBy::Survey,
        "inspection" => FoundBy::Inspection,
        "enforcement" => FoundBy::Enforcement,
        "complaint" => FoundBy::Complaint,
        "monitoring" => FoundBy::Monitoring,
        o => {
            return Err(bad(format!(
                "found_by: '{o}' (survey, inspection, enforcement, complaint, monitoring)"
            )))
        }
    })
}

fn rect_body(
    s: &mut dyn rewater_store::Store,
    zone: &rewater_time::Zone,
    r: &Rectification,
) -> Result<RectificationBody, ApiError> {
    let versions = ls::history(s, "rectification", &r.id)
        .map_err(ledger_err)?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            who: v.who,
            reason: v.reason,
            at: zone.rfc3339_ms(v.at_ms),
            retired: v.retired,
        })
        .collect();
    Ok(RectificationBody {
        rectification: to_json(r),
        versions,
    })
}

/// Open a rectification record (一口一策) for an outfall; the outfall is marked illegal
/// when it was not yet. Audited.
#[utoipa::path(post, path = "/api/outfalls/{code}/rectifications", tag = "outfalls", request_body = NewRectification,
    params(("code" = String, Path, description = "outfall code")),
    responses((status = 200, description = "the new record", body = RectificationBody), E400, E401, E403, E404))]
pub async fn open_rectification(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<NewRectification>,
) -> ApiResult<RectificationBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let measure: Measure = b
        .measure
        .parse()
        .map_err(|e| bad(format!("measure: {e}")))?;
    let deadline: rewater_time::Date = b
        .deadline
        .parse()
        .map_err(|_| bad("deadline: a date YYYY-MM-DD"))?;
    let by = found_by(b.found_by.as_deref())?;
    for (f, v) in [
        ("problem", &b.problem),
        ("responsible_unit", &b.responsible_unit),
    ] {
        if v.trim().is_empty() || v.chars().count() > 2000 {
            return Err(bad(format!("{f}: 1–2000 characters")));
        }
    }
    let now = auth::now_ms();
    let zone = st.zone.clone();
    let cache = st.ledgers.clone();
    let body = with_store(&st, move |s| {
        let o = loaded(&cache, s)?
            .ledger
            .outfall(&code)
            .ok_or_else(|| not_found(format!("no outfall '{code}'")))?
            .clone();
        check_acts(&p, &format!("outfall '{code}'"), &o.district)?;
        let n = ls::rectifications(s, None).map_err(ledger_err)?.len() + 1;
        let id = format!("{code}-R{n:03}");
        let r = Rectification::open(
            &id,
            &code,
            &o.district,
            by,
            &b.problem,
            measure,
            &b.responsible_unit,
            deadline,
            &p.name,
            now,
        )
        .map_err(|e| bad(e.to_string()))?;
        if o.compliance != Compliance::Illegal {
            let mut changed = Ledger {
                outfalls: vec![o.clone()],
                ..Ledger::default()
            };
            changed.outfalls[0].compliance = Compliance::Illegal;
            ls::save_ledger(
                s,
                &changed,
                &p.name,
                &format!("rectification {id} opened"),
                now,
            )
            .map_err(ledger_err)?;
        }
        ls::save_rectification(s, &r, &p.name, "opened", now).map_err(ledger_err)?;
        audit(s, &p.name, "rectification.open", &id, &b.problem);
        rect_body(s, &zone, &r)
    })
    .await?;
    Ok(Json(body))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationStep {
    /// in_progress, done, signed_off or returned.
    state: String,
    #[serde(default)]
    note: String,
    /// Photos or documents (paths or URLs).
    #[serde(default)]
    evidence: Vec<String>,
}

/// Move a rectification record on (整改中 → 整改完成 with evidence → 销号 by someone else);
/// a new version with who and when; audited.
#[utoipa::path(post, path = "/api/rectifications/{rid}/state", tag = "outfalls", request_body = RectificationStep,
    params(("rid" = String, Path, description = "rectification record id")),
    responses((status = 200, description = "the changed record", body = RectificationBody), E400, E401, E403, E404))]
pub async fn rectification_step(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(rid): Path<String>,
    ApiJson(b): ApiJson<RectificationStep>,
) -> ApiResult<RectificationBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let to: RState = b.state.parse().map_err(|e| bad(format!("state: {e}")))?;
    if b.note.chars().count() > 2000
        || b.evidence.len() > 50
        || b.evidence
            .iter()
            .any(|e| e.trim().is_empty() || e.len() > 500)
    {
        return Err(bad(
            "note: at most 2000 characters; evidence: at most 50 items of 1–500 characters",
        ));
    }
    let now = auth::now_ms();
    let zone = st.zone.clone();
    let body = with_store(&st, move |s| {
        let mut r = ls::rectification(s, &rid)
            .map_err(ledger_err)?
            .ok_or_else(|| not_found(format!("no rectification record '{rid}'")))?;
        check_acts(&p, &format!("record '{rid}'"), &r.district)?;
        r.advance(to, &p.name, now, &b.note, b.evidence)
            .map_err(|e| bad(e.to_string()))?;
        ls::save_rectification(s, &r, &p.name, to.word(), now).map_err(ledger_err)?;
        audit(
            s,
            &p.name,
            &format!("rectification.{}", to.word()),
            &rid,
            &b.note,
        );
        rect_body(s, &zone, &r)
    })
    .await?;
    Ok(Json(body))
}

#[derive(Deserialize, IntoParams)]
pub struct CoverageQuery {
    /// The year (default: this year).
    year: Option<i32>,
}

/// Coverage by district and river: surveyed, monitored, traced, rectified, on time, overdue
/// (operators: their district's outfalls).
#[utoipa::path(get, path = "/api/outfall-coverage", tag = "outfalls", params(CoverageQuery),
    responses((status = 200, description = "coverage", body = CoverageBody), E400, E401))]
pub async fn coverage_report(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> ApiResult<CoverageBody> {
    let p = auth_read(&st, &headers).await?;
    let today = st.zone.today();
    let year = q.year.unwrap_or(today.ymd().0);
    if !(1990..=2200).contains(&year) {
        return Err(bad("year: 1990–2200"));
    }
    let offset = st.zone.offset_s(auth::now_ms() / 1000);
    let mine = scope(&p);
    let cache = st.ledgers.clone();
    let rep = with_store(&st, move |s| {
        let mut l = (*loaded(&cache, s)?.ledger).clone();
        let recs = ls::rectifications(s, mine.as_deref()).map_err(ledger_err)?;
        if let Some(d) = &mine {
            l.outfalls.retain(|o| &o.district == d);
        }
        Ok(to_json(&coverage::coverage(&l, &recs, year, today, offset)))
    })
    .await?;
    Ok(Json(CoverageBody { coverage: rep }))
}
