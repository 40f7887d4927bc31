//! Alerts: the list (newest first, scoped to the caller's district), one alert with its
//! state history, and acknowledging or closing one (open → acknowledged → closed, audited).

use crate::auth::authenticate;
use crate::error::{bad, forbidden, not_found, ApiResult, E400, E401, E403, E404};
use crate::extract::{ApiJson, ApiQuery};
use crate::sites::{auth_read, find_site, visible_sites};
use crate::{audit, auth, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_store::{Alert, AlertChange, AlertState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An alert (告警); `data_time` wall seconds of the reading, `time` the same in RFC 3339.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertView {
    pub id: i64,
    pub site_id: String,
    pub mn: Option<String>,
    /// exceedance, no_data, downstream…
    pub kind: String,
    pub factor: Option<String>,
    pub severity: String,
    pub message: String,
    pub data_time: i64,
    pub time: String,
    pub value: Option<f64>,
    pub limit: Option<String>,
    /// open, acknowledged or closed.
    pub state: String,
    pub raised_at_ms: i64,
    pub raised_at: String,
    pub recovered_at_ms: Option<i64>,
    pub recovered_at: Option<String>,
}

impl AlertView {
    pub fn new(st: &ApiState, a: &Alert) -> AlertView {
        AlertView {
            id: a.id,
            site_id: a.site_id.clone(),
            mn: a.mn.clone(),
            kind: a.kind.clone(),
            factor: a.factor.clone(),
            severity: a.severity.clone(),
            message: a.message.clone(),
            data_time: a.data_time,
            time: st.zone.rfc3339_wall(a.data_time),
            value: a.value,
            limit: a.limit.clone(),
            state: a.state.as_str().to_string(),
            raised_at_ms: a.raised_at_ms,
            raised_at: st.zone.rfc3339_ms(a.raised_at_ms),
            recovered_at_ms: a.recovered_at_ms,
            recovered_at: a.recovered_at_ms.map(|t| st.zone.rfc3339_ms(t)),
        }
    }
}

/// One change of an alert's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertChangeView {
    pub state: String,
    pub who: String,
    pub comment: String,
    pub at_ms: i64,
    pub at: String,
}

fn change_view(st: &ApiState, c: &AlertChange) -> AlertChangeView {
    AlertChangeView {
        state: c.state.as_str().to_string(),
        who: c.who.clone(),
        comment: c.comment.clone(),
        at_ms: c.at_ms,
        at: st.zone.rfc3339_ms(c.at_ms),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AlertsBody {
    pub alerts: Vec<AlertView>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertBody {
    pub alert: AlertView,
    pub history: Vec<AlertChangeView>,
}

#[derive(Deserialize, IntoParams)]
pub struct AlertQuery {
    /// open, acknowledged or closed.
    state: Option<String>,
    /// A site id.
    site: Option<String>,
    /// At most this many (1–10000, default 100).
    limit: Option<i64>,
}

/// Alerts, newest first.
#[utoipa::path(get, path = "/api/alerts", tag = "alerts", params(AlertQuery),
    responses((status = 200, description = "alerts", body = AlertsBody), E400, E401))]
pub async fn alerts(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> ApiResult<AlertsBody> {
    let p = auth_read(&st, &headers).await?;
    let state = q
        .state
        .as_deref()
        .map(|s| {
            s.parse::<AlertState>()
                .map_err(|e| bad(format!("state: {e}")))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let list = with_store(&st, move |s| {
        let seen = visible_sites(&p, &s.sites()?);
        // Operators: fetch enough to fill the page after leaving out other districts.
        let fetch = if p.district.is_some() { 10_000 } else { limit };
        let mut list = s.alerts(state, q.site.as_deref(), fetch)?;
        list.retain(|a| seen.contains(&a.site_id));
        list.truncate(limit as usize);
        Ok(list)
    })
    .await?;
    let alerts = list.iter().map(|a| AlertView::new(&st, a)).collect();
    Ok(Json(AlertsBody { alerts }))
}

/// An alert and its state history.
#[utoipa::path(get, path = "/api/alerts/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "alert id")),
    responses((status = 200, description = "the alert", body = AlertBody), E401, E403, E404))]
pub async fn alert(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<AlertBody> {
    let p = auth_read(&st, &headers).await?;
    let (a, history) = with_store(&st, move |s| {
        let a = s
            .alert(id)?
            .ok_or_else(|| not_found(format!("no alert {id}")))?;
        p.check_site(&find_site(s, &a.site_id)?)?;
        Ok((a, s.alert_history(id)?))
    })
    .await?;
    Ok(Json(AlertBody {
        alert: AlertView::new(&st, &a),
        history: history.iter().map(|c| change_view(&st, c)).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct StateChange {
    /// acknowledged or closed.
    state: String,
    #[serde(default)]
    comment: String,
}

/// Acknowledge or close an alert (open → acknowledged → closed); who is recorded; audited.
#[utoipa::path(post, path = "/api/alerts/{id}/state", tag = "alerts", request_body = StateChange,
    params(("id" = i64, Path, description = "alert id")),
    responses((status = 200, description = "the changed alert", body = AlertBody), E400, E401, E403, E404))]
pub async fn set_alert_state(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<StateChange>,
) -> ApiResult<AlertBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let state: AlertState = body.state.parse().map_err(|e| bad(format!("state: {e}")))?;
    if body.comment.chars().count() > 2000 {
        return Err(bad("comment: at most 2000 characters"));
    }
    let now = auth::now_ms();
    let (a, history) = with_store(&st, move |s| {
        let Some(alert) = s.alert(id)? else {
            return Err(not_found(format!("no alert {id}")));
        };
        let site = find_site(s, &alert.site_id)?;
        p.check_site(&site)?;
        if !p.acts_on(&site) {
            return Err(forbidden(format!(
                "{} may not change alerts of site '{}'",
                p.name, site.id
            )));
        }
        s.set_alert_state(id, state, &p.name, &body.comment, now)?;
        let target = format!("alert {id} ({})", site.id);
        audit(
            s,
            &p.name,
            &format!("alert.{state}"),
            &target,
            &body.comment,
        );
        let a = s
            .alert(id)?
            .ok_or_else(|| not_found(format!("no alert {id}")))?;
        Ok((a, s.alert_history(id)?))
    })
    .await?;
    Ok(Json(AlertBody {
        alert: AlertView::new(&st, &a),
        history: history.iter().map(|c| change_view(&st, c)).collect(),
    }))
}
