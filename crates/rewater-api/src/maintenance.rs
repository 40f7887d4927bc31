//! Maintenance windows (运维时段): while a data logger is serviced its alerts are suppressed.
//! Operators set them for devices of their district, administrators for any; listed for
//! whoever sees the device's site; set and removed windows are audited by the store.

use crate::auth::authenticate;
use crate::error::{bad, forbidden, not_found, ApiResult, E400, E401, E403, E404};
use crate::extract::ApiJson;
use crate::sites::{auth_read, find_site};
use crate::{auth, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_store::{MaintenanceWindow, NewMaintenance};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A window as the API shows it, times in RFC 3339 (the server's zone).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaintenanceView {
    pub id: i64,
    pub mn: String,
    pub site_id: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub who: String,
    /// Whether it is in force now.
    pub active: bool,
}

#[derive(Serialize, ToSchema)]
pub struct MaintenanceListBody {
    pub windows: Vec<MaintenanceView>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewWindow {
    /// The data logger's MN.
    mn: String,
    /// Start and end (RFC 3339); at most 31 days apart.
    from: String,
    to: String,
    #[serde(default)]
    reason: String,
}

fn view(st: &ApiState, w: &MaintenanceWindow, site_id: &str, now_ms: i64) -> MaintenanceView {
    MaintenanceView {
        id: w.id,
        mn: w.mn.clone(),
        site_id: site_id.to_string(),
        from: st.zone.rfc3339_ms(w.from_ms),
        to: st.zone.rfc3339_ms(w.to_ms),
        reason: w.reason.clone(),
        who: w.who.clone(),
        active: (w.from_ms..w.to_ms).contains(&now_ms),
    }
}

/// Maintenance windows not yet over, of the devices whose sites the caller sees.
#[utoipa::path(get, path = "/api/maintenance", tag = "devices",
    responses((status = 200, description = "windows", body = MaintenanceListBody), E401))]
pub async fn windows(
    State(st): State<ApiState>,
    headers: HeaderMap,
) -> ApiResult<MaintenanceListBody> {
    let p = auth_read(&st, &headers).await?;
    let now = auth::now_ms();
    let st2 = st.clone();
    let windows = with_store(&st, move |s| {
        let devices = s.devices()?;
        let sites = s.sites()?;
        let mut out = Vec::new();
        for w in s.maintenance(None, now)? {
            let Some(d) = devices.iter().find(|d| d.mn == w.mn) else {
                continue;
            };
            if sites.iter().any(|x| x.id == d.site_id && p.sees(x)) {
                out.push(view(&st2, &w, &d.site_id, now));
            }
        }
        Ok(out)
    })
    .await?;
    Ok(Json(MaintenanceListBody { windows }))
}

/// Sets a maintenance window for a device (operators: devices of their district).
#[utoipa::path(post, path = "/api/maintenance", tag = "devices", request_body = NewWindow,
    responses((status = 200, description = "the window", body = MaintenanceView), E400, E401, E403, E404))]
pub async fn add_window(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewWindow>,
) -> ApiResult<MaintenanceView> {
    let p = authenticate(&st, &headers, &method).await?;
    let time = |field: &str, v: &str| {
        rewater_time::parse_rfc3339_ms(v).map_err(|e| bad(format!("{field}: {e}")))
    };
    let (from_ms, to_ms) = (time("from", &body.from)?, time("to", &body.to)?);
    let now = auth::now_ms();
    let st2 = st.clone();
    let v = with_store(&st, move |s| {
        let d = s
            .device(&body.mn)?
            .ok_or_else(|| not_found(format!("no device '{}'", body.mn)))?;
        let site = find_site(s, &d.site_id)?;
        p.check_site(&site)?;
        if !p.acts_on(&site) {
            return Err(forbidden(format!(
                "{} may not set maintenance for site '{}'",
                p.name, site.id
            )));
        }
        let w = NewMaintenance {
            mn: d.mn.clone(),
            from_ms,
            to_ms,
            reason: body.reason,
            who: p.name.clone(),
            at_ms: now,
        };
        let id = s.add_maintenance(&w)?;
        let stored = MaintenanceWindow {
            id,
            mn: w.mn,
            from_ms: w.from_ms,
            to_ms: w.to_ms,
            reason: w.reason,
            who: w.who,
            created_at_ms: w.at_ms,
        };
        Ok(view(&st2, &stored, &site.id, now))
    })
    .await?;
    Ok(Json(v))
}

/// Removes a maintenance window.
#[utoipa::path(delete, path = "/api/maintenance/{id}", tag = "devices",
    params(("id" = i64, Path, description = "window id")),
    responses((status = 200, description = "the removed window", body = MaintenanceView), E401, E403, E404))]
pub async fn remove_window(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<MaintenanceView> {
    let p = authenticate(&st, &headers, &method).await?;
    let now = auth::now_ms();
    let st2 = st.clone();
    let v = with_store(&st, move |s| {
        let w = s
            .maintenance(None, i64::MIN)?
            .into_iter()
            .find(|x| x.id == id)
            .ok_or_else(|| not_found(format!("no maintenance window {id}")))?;
        let d = s
            .device(&w.mn)?
            .ok_or_else(|| not_found(format!("no device '{}'", w.mn)))?;
        let site = find_site(s, &d.site_id)?;
        p.check_site(&site)?;
        if !p.acts_on(&site) {
            return Err(forbidden(format!(
                "{} may not change maintenance for site '{}'",
                p.name, site.id
            )));
        }
        s.remove_maintenance(id, &p.name, now)?;
        Ok(view(&st2, &w, &site.id, now))
    })
    .await?;
    Ok(Json(v))
}
