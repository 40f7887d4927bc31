//! Monitoring sites: the list, one site with its devices, its latest values judged against
//! its standard(s), and the site configuration (PUT, through the store's `put_site`, which
//! the gateway's alert engine watches, so a changed standard applies without restart).

use crate::auth::{authenticate, Principal};
use crate::error::{bad, forbidden, not_found, ApiError, ApiResult, E400, E401, E403, E404};
use crate::extract::ApiJson;
use crate::{audit, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_standards::standard::Context;
use rewater_standards::{Date, Factor};
use rewater_store::prelude::*;
use rewater_store::Site;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A monitoring site (监测点位).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteView {
    pub id: String,
    pub name: String,
    /// plant_outlet, plant_inlet, wetland_outlet, pond, user_supply, outfall, river_section.
    pub kind: String,
    /// Standards the site must meet, "STANDARD:CLASS" (comma-separated if several).
    pub standard: Option<String>,
    pub district: String,
    /// [longitude, latitude].
    pub location: Option<[f64; 2]>,
    /// The node of the regional model this site measures, if any.
    pub model_node: Option<String>,
}

impl From<&Site> for SiteView {
    fn from(s: &Site) -> SiteView {
        SiteView {
            id: s.id.clone(),
            name: s.name.clone(),
            kind: s.kind.clone(),
            standard: s.standard.clone(),
            district: s.district.clone(),
            location: s.location,
            model_node: s.model_node.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SitesBody {
    pub sites: Vec<SiteView>,
}

#[derive(Serialize, ToSchema)]
pub struct SiteBody {
    pub site: SiteView,
    /// MNs of the site's data loggers.
    pub devices: Vec<String>,
}

/// A stored reading; `data_time` is the device's wall clock in seconds, `time` the same
/// instant in RFC 3339 with the zone's offset.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadingView {
    pub id: i64,
    pub mn: String,
    /// HJ 212 factor code.
    pub factor: String,
    /// HJ 212 command: 2011 real-time, 2051 minute, 2061 hourly, 2031 daily.
    pub cn: String,
    pub data_time: i64,
    pub time: String,
    pub value: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub cou: Option<f64>,
    pub flag: Option<String>,
    pub corrects: Option<i64>,
    pub reason: Option<String>,
    pub changed_by: Option<String>,
    pub received_at_ms: i64,
    pub received_at: String,
}

impl ReadingView {
    pub fn new(st: &ApiState, r: &rewater_store::Reading) -> ReadingView {
        ReadingView {
            id: r.id,
            mn: r.mn.clone(),
            factor: r.factor.clone(),
            cn: r.cn.clone(),
            data_time: r.data_time,
            time: st.zone.rfc3339_wall(r.data_time),
            value: r.value,
            min: r.min,
            max: r.max,
            cou: r.cou,
            flag: r.flag.clone(),
            corrects: r.corrects,
            reason: r.reason.clone(),
            changed_by: r.changed_by.clone(),
            received_at_ms: r.received_at_ms,
            received_at: st.zone.rfc3339_ms(r.received_at_ms),
        }
    }
}

/// One reading judged against one standard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Check {
    /// "STANDARD:CLASS".
    pub standard: String,
    /// The bound: {type: max|min|range|qualitative, …}.
    #[schema(value_type = Object)]
    pub limit: rewater_standards::standard::Bound,
    #[schema(value_type = Option<String>)]
    pub unit: Option<rewater_standards::Unit>,
    pub meets: bool,
    pub exceedance_multiple: Option<f64>,
    /// verified, unverified…
    #[schema(value_type = String)]
    pub confidence: rewater_standards::standard::Confidence,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LatestValue {
    pub reading: ReadingView,
    pub checks: Vec<Check>,
}

#[derive(Serialize, ToSchema)]
pub struct LatestBody {
    pub site: String,
    pub values: Vec<LatestValue>,
}

/// Authenticates a read-only request.
pub(crate) async fn auth_read(st: &ApiState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    authenticate(st, headers, &Method::GET).await
}

pub(crate) fn find_site(store: &mut dyn Store, id: &str) -> Result<Site, ApiError> {
    store
        .sites()?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| not_found(format!("no site '{id}'")))
}

/// A site the caller may see, with its devices' MNs.
pub(crate) fn visible_site(
    store: &mut dyn Store,
    p: &Principal,
    id: &str,
) -> Result<(Site, Vec<String>), ApiError> {
    let site = find_site(store, id)?;
    p.check_site(&site)?;
    let mns = store
        .devices()?
        .into_iter()
        .filter(|d| d.site_id == id)
        .map(|d| d.mn)
        .collect();
    Ok((site, mns))
}

/// The ids of the sites the principal may see.
pub fn visible_sites(p: &Principal, sites: &[Site]) -> Vec<String> {
    sites
        .iter()
        .filter(|s| p.sees(s))
        .map(|s| s.id.clone())
        .collect()
}

/// Monitoring sites (operators: their district's).
#[utoipa::path(get, path = "/api/sites", tag = "sites",
    responses((status = 200, description = "sites", body = SitesBody), E401))]
pub async fn sites(State(st): State<ApiState>, headers: HeaderMap) -> ApiResult<SitesBody> {
    let p = auth_read(&st, &headers).await?;
    let list = with_store(&st, |s| Ok(s.sites()?)).await?;
    let sites = list
        .iter()
        .filter(|s| p.sees(s))
        .map(SiteView::from)
        .collect();
    Ok(Json(SitesBody { sites }))
}

/// A site and its devices.
#[utoipa::path(get, path = "/api/sites/{id}", tag = "sites",
    params(("id" = String, Path, description = "site id")),
    responses((status = 200, description = "the site", body = SiteBody), E401, E403, E404))]
pub async fn site(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<SiteBody> {
    let p = auth_read(&st, &headers).await?;
    let (site, devices) = with_store(&st, move |s| visible_site(s, &p, &id)).await?;
    Ok(Json(SiteBody {
        site: SiteView::from(&site),
        devices,
    }))
}

/// Latest value of each factor, judged against the site's standards.
#[utoipa::path(get, path = "/api/sites/{id}/latest", tag = "sites",
    params(("id" = String, Path, description = "site id")),
    responses((status = 200, description = "latest values with their checks", body = LatestBody), E401, E403, E404))]
pub async fn latest(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<LatestBody> {
    let p = auth_read(&st, &headers).await?;
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
    Ok(Json(LatestBody {
        site: site.id,
        values,
    }))
}

/// Each latest reading with its checks against each of the site's standards.
pub(crate) fn judge_latest(
    st: &ApiState,
    site: &Site,
    readings: &[rewater_store::Reading],
) -> Vec<LatestValue> {
    let specs = site.standards();
    readings
        .iter()
        .map(|r| {
            let mut checks = Vec::new();
            if let (Ok(f), Some(v)) = (Factor::parse(&r.factor), r.value) {
                for spec in &specs {
                    let Ok((std, class)) = st.standards.resolve(spec) else {
                        continue;
                    };
                    let date = Some(Date::from_wall_seconds(r.data_time));
                    let ctx = Context {
                        date,
                        ..Default::default()
                    };
                    let Some(sel) = std.limit_for(class, f, &ctx) else {
                        continue;
                    };
                    let verdict = rewater_standards::evaluate::judge(sel.limit, v, f.info().unit);
                    if let Ok(Some(verdict)) = verdict {
                        checks.push(Check {
                            standard: spec.to_string(),
                            limit: sel.limit.bound.clone(),
                            unit: sel.limit.unit,
                            meets: verdict.meets,
                            exceedance_multiple: verdict.exceedance_multiple,
                            confidence: sel.limit.confidence,
                        });
                    }
                }
            }
            LatestValue {
                reading: ReadingView::new(st, r),
                checks,
            }
        })
        .collect()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteUpdate {
    name: Option<String>,
    /// "STANDARD:CLASS", comma-separated if several; each must be known.
    standard: Option<String>,
    /// [longitude, latitude].
    location: Option<[f64; 2]>,
    /// The site's names in Chinese and English (both, or neither), and whether it is a
    /// public supply point (with the names).
    name_zh: Option<String>,
    name_en: Option<String>,
    public: Option<bool>,
}

/// Change a site's name, standard or location (administrators, or the operator of its
/// district); audited. The alert engine applies a changed standard without restart.
#[utoipa::path(put, path = "/api/sites/{id}", tag = "sites", request_body = SiteUpdate,
    params(("id" = String, Path, description = "site id")),
    responses((status = 200, description = "the changed site", body = SiteBody), E400, E401, E403, E404))]
pub async fn update_site(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(u): ApiJson<SiteUpdate>,
) -> ApiResult<SiteBody> {
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
    if u.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(bad("name: at most 200 characters"));
    }
    let (site, devices) = with_store(&st, move |s| {
        let (mut site, devices) = visible_site(s, &p, &id)?;
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
        if let (Some(zh), Some(en)) = (u.name_zh, u.name_en) {
            let label = rewater_store::Label {
                kind: "site".into(),
                id: site.id.clone(),
                name_zh: zh,
                name_en: en,
                public: u.public.unwrap_or(false),
            };
            label.check().map_err(|e| bad(e.to_string()))?;
            s.put_label(&label, &p.name, crate::auth::now_ms())?;
        }
        let after = serde_json::to_string(&site).unwrap_or_default();
        let detail = format!("{before} → {after}");
        audit(s, &p.name, "site.update", &site.id, &detail);
        Ok((site, devices))
    })
    .await?;
    Ok(Json(SiteBody {
        site: SiteView::from(&site),
        devices,
    }))
}
