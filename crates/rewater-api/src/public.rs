//! The public disclosure page's data (再生水水质信息公开, issue 13): without login, when the
//! server is configured for it (`Platform::public_page`, off by default), for each site an
//! administrator marked public — its names, kind, district and standard, the latest value of
//! each factor against its limit, and this month's compliance rate of the daily means. No
//! operator data: no device ids, alerts, accounts or comments. Read-only; answers are cached
//! for a minute and requests are limited to [`MAX_PER_MINUTE`] a minute in all (then 429).

use crate::daily::{bound_text, site_days};
use crate::error::{not_found, too_many, ApiError, E404};
use crate::{with_store, ApiState};
use axum::extract::State;
use axum::Json;
use rewater_standards::standard::Context;
use rewater_standards::{Date, Factor};
use serde::Serialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// Requests a minute the public endpoint answers, from everyone together.
pub const MAX_PER_MINUTE: u32 = 600;
/// How long an answer is reused.
const CACHE: Duration = Duration::from_secs(60);

/// One factor's latest value at a public site.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicValue {
    pub factor: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub value: Option<f64>,
    /// RFC 3339.
    pub time: String,
    /// "≤ 10 mg/L", none where the standard sets no limit.
    pub limit: Option<String>,
    pub meets: Option<bool>,
}

/// A public supply point.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicSite {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub district_zh: String,
    pub district_en: String,
    pub standard: Option<String>,
    pub values: Vec<PublicValue>,
    /// This month so far: days of factor means judged, and the share meeting the limit.
    pub month: String,
    pub days_judged: usize,
    pub compliance_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicBody {
    pub sites: Vec<PublicSite>,
    /// When the answer was made (RFC 3339).
    pub generated_at: String,
}

struct Gate {
    window: Instant,
    count: u32,
    cached: Option<(Instant, PublicBody)>,
}

static GATE: Mutex<Option<Gate>> = Mutex::new(None);

/// Public supply points' latest quality and monthly compliance (no login; 404 unless enabled).
#[utoipa::path(get, path = "/api/public", tag = "overview", security(()),
    responses((status = 200, description = "public supply points", body = PublicBody), E404,
        (status = 429, description = "too many requests", body = crate::ErrorBody)))]
pub async fn public(State(st): State<ApiState>) -> Result<Json<PublicBody>, ApiError> {
    if !st.platform.public_page {
        return Err(not_found(
            "the public page is not enabled on this server (rewater serve --public-page)",
        ));
    }
    {
        let mut g = GATE.lock().map_err(|_| crate::error::internal("gate"))?;
        let gate = g.get_or_insert_with(|| Gate {
            window: Instant::now(),
            count: 0,
            cached: None,
        });
        if gate.window.elapsed() >= Duration::from_secs(60) {
            gate.window = Instant::now();
            gate.count = 0;
        }
        gate.count += 1;
        if gate.count > MAX_PER_MINUTE {
            let wait = 60u64.saturating_sub(gate.window.elapsed().as_secs()).max(1);
            return Err(too_many("too many requests to the public page", wait));
        }
        if let Some((at, body)) = &gate.cached {
            if at.elapsed() < CACHE {
                return Ok(Json(body.clone()));
            }
        }
    }
    let body = build(&st).await?;
    if let Ok(mut g) = GATE.lock() {
        if let Some(gate) = g.as_mut() {
            gate.cached = Some((Instant::now(), body.clone()));
        }
    }
    Ok(Json(body))
}

async fn build(st: &ApiState) -> Result<PublicBody, ApiError> {
    let st2 = st.clone();
    let sites = with_store(st, move |s| {
        let labels = s.labels()?;
        let devices = s.devices()?;
        let today = st2.zone.today();
        let (y, m, _) = today.ymd();
        let first = Date::from_ymd(y, m, 1).unwrap_or(today);
        let days = (today.wall_seconds() - first.wall_seconds()) / 86_400 + 1;
        let mut out = Vec::new();
        for site in s.sites()? {
            let Some(label) = labels
                .iter()
                .find(|l| l.kind == "site" && l.id == site.id && l.public)
            else {
                continue;
            };
            let district = labels
                .iter()
                .find(|l| l.kind == "district" && l.id == site.district);
            let mns: Vec<String> = devices
                .iter()
                .filter(|d| d.site_id == site.id)
                .map(|d| d.mn.clone())
                .collect();
            let mut latest = Vec::new();
            for mn in &mns {
                latest.extend(s.latest(mn)?);
            }
            let values = latest.iter().map(|r| value(&st2, &site, r)).collect();
            let judged: Vec<bool> = site_days(&st2, s, &site, &mns, first, days)?
                .iter()
                .filter_map(|d| d.meets)
                .collect();
            let ok = judged.iter().filter(|x| **x).count();
            out.push(PublicSite {
                id: site.id.clone(),
                name_zh: label.name_zh.clone(),
                name_en: label.name_en.clone(),
                kind: site.kind.clone(),
                district_zh: district.map_or(site.district.clone(), |d| d.name_zh.clone()),
                district_en: district.map_or(site.district.clone(), |d| d.name_en.clone()),
                standard: site.standard.clone(),
                values,
                month: format!("{y:04}-{m:02}"),
                days_judged: judged.len(),
                compliance_rate: (!judged.is_empty()).then(|| ok as f64 / judged.len() as f64),
            });
        }
        Ok(out)
    })
    .await?;
    Ok(PublicBody {
        sites,
        generated_at: st.zone.rfc3339_ms(crate::auth::now_ms()),
    })
}

fn value(st: &ApiState, site: &rewater_store::Site, r: &rewater_store::Reading) -> PublicValue {
    let f = Factor::parse(&r.factor).ok();
    let (name_zh, name_en, unit) =
        f.map_or((r.factor.clone(), r.factor.clone(), String::new()), |f| {
            let i = f.info();
            (i.name_zh.into(), i.name_en.into(), i.unit.as_str().into())
        });
    let mut v = PublicValue {
        factor: r.factor.clone(),
        name_zh,
        name_en,
        unit,
        value: r.value,
        time: st.zone.rfc3339_wall(r.data_time),
        limit: None,
        meets: None,
    };
    let spec = site.standards().first().map(|x| x.to_string());
    let resolved = spec.as_deref().and_then(|x| st.standards.resolve(x).ok());
    if let (Some((std, class)), Some(f), Some(x)) = (resolved, f, r.value) {
        let ctx = Context {
            date: Some(Date::from_wall_seconds(r.data_time)),
            ..Default::default()
        };
        if let Some(sel) = std.limit_for(class, f, &ctx) {
            v.limit = Some(bound_text(&sel.limit.bound, sel.limit.unit));
            v.meets = rewater_standards::evaluate::judge(sel.limit, x, f.info().unit)
                .ok()
                .flatten()
                .map(|j| j.meets);
        }
    }
    v
}
