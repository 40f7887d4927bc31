//! Alerts: the list (filtered by site, district, kind, severity, state and time, paged and
//! counted, scoped to the caller's district), one alert with its state history, and
//! acknowledging or closing one or many at once (open → acknowledged → closed, audited).

use crate::auth::authenticate;
use crate::error::{bad, forbidden, not_found, ApiResult, E400, E401, E403, E404};
use crate::extract::{ApiJson, ApiQuery};
use crate::sites::{auth_read, find_site, visible_sites};
use crate::{audit, auth, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_store::{Alert, AlertChange, AlertFilter, AlertState};
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
    /// The standard of `limit` ("DB11/890-2012:new_B") and its bound ("≤ 30 mg/L").
    pub standard: Option<String>,
    pub bound: Option<String>,
    /// Seconds from raising to recovery (or to now, while the condition lasts).
    pub duration_s: i64,
    /// The highest value of the factor over the episode (exceedance alerts; in the
    /// factor's unit), from the stored readings.
    pub peak: Option<f64>,
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
            standard: a
                .limit
                .as_deref()
                .and_then(|l| l.split_once(' '))
                .map(|(s, _)| s.to_string()),
            bound: a
                .limit
                .as_deref()
                .and_then(|l| l.split_once(' '))
                .map(|(_, b)| b.to_string()),
            duration_s: (a.recovered_at_ms.unwrap_or_else(auth::now_ms) - a.raised_at_ms).max(0)
                / 1000,
            peak: a.value,
        }
    }
}

/// An episode's peak and, while it is open, how long it has lasted in the device's time.
///
/// The peak is the largest valid value of the alert's factor from the reading that raised it to
/// its recovery (the same length of device time as of server time) or, while open, to the
/// newest reading; exceedances only, other kinds keep their one value. Read from the readings
/// of the first hour and the kept hourly aggregates after it (indexed ranges, so a months-long
/// episode costs a few hundred rows). The open duration runs to the newest reading of the
/// factor, so a replayed history reads as it happened.
fn episode_stats(s: &mut dyn rewater_store::Store, a: &Alert) -> (Option<f64>, Option<i64>) {
    let (Some(mn), Some(factor)) = (a.mn.as_deref(), a.factor.as_deref()) else {
        return (a.value, None);
    };
    let end = match a.recovered_at_ms {
        Some(r) => a
            .data_time
            .saturating_add(((r - a.raised_at_ms).max(0) / 1000).max(1)),
        None => i64::MAX / 4,
    };
    let hour = (a.data_time.div_euclid(3600) + 1) * 3600;
    let first = s
        .readings(mn, factor, &["2011", "2051"], a.data_time, hour.min(end))
        .unwrap_or_default();
    let later = if end > hour {
        s.aggregates(mn, factor, rewater_store::Period::Hour, hour, end)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let normal = |r: &&rewater_store::Reading| r.flag.as_deref().is_none_or(|f| f == "N");
    let peak = first
        .iter()
        .filter(normal)
        .filter_map(|r| r.value)
        .chain(later.iter().map(|p| p.max))
        .fold(a.value.unwrap_or(f64::NEG_INFINITY), f64::max);
    let peak = if a.kind == "exceedance" && peak.is_finite() {
        Some(peak)
    } else {
        a.value
    };
    let open = a.recovered_at_ms.is_none().then(|| {
        // The newest reading: in the last hour with data, else in the first hour.
        let last = match later.last() {
            Some(p) => s
                .readings(mn, factor, &["2011", "2051"], p.t, p.t + 3600)
                .ok()
                .and_then(|v| v.last().map(|r| r.data_time))
                .unwrap_or(p.t),
            None => first.last().map_or(a.data_time, |r| r.data_time),
        };
        (last - a.data_time).max(0)
    });
    (peak, open)
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
    /// How many alerts match the filter in all (the page holds at most `limit` of them).
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
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
    /// A district: its sites only.
    district: Option<String>,
    /// Kinds, comma-separated (exceedance, daily_exceedance, offline, stuck, device_flag,
    /// downstream_risk).
    kind: Option<String>,
    /// info, warning or violation.
    severity: Option<String>,
    /// Raised at or after this time (RFC 3339).
    from: Option<String>,
    /// Raised before this time (RFC 3339).
    to: Option<String>,
    /// newest (default) or oldest first.
    sort: Option<String>,
    /// Alerts to skip (paging; default 0).
    offset: Option<i64>,
    /// At most this many (1–1000, default 100).
    limit: Option<i64>,
}

const KINDS: [&str; 6] = [
    "exceedance",
    "daily_exceedance",
    "offline",
    "stuck",
    "device_flag",
    "downstream_risk",
];

/// The store filter a query asks for (sites still to be scoped).
fn filter_of(q: &AlertQuery) -> Result<AlertFilter, crate::error::ApiError> {
    let state = q
        .state
        .as_deref()
        .map(|s| {
            s.parse::<AlertState>()
                .map_err(|e| bad(format!("state: {e}")))
        })
        .transpose()?;
    let kinds = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k) => {
            let list: Vec<String> = k.split(',').map(|x| x.trim().to_string()).collect();
            if let Some(bad_kind) = list.iter().find(|x| !KINDS.contains(&x.as_str())) {
                return Err(bad(format!(
                    "kind: '{bad_kind}' is not one of {}",
                    KINDS.join(", ")
                )));
            }
            Some(list)
        }
    };
    if let Some(sev) = q.severity.as_deref() {
        if !["info", "warning", "violation"].contains(&sev) {
            return Err(bad(format!(
                "severity: '{sev}' is not info, warning or violation"
            )));
        }
    }
    let time = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|t| rewater_time::parse_rfc3339_ms(t).map_err(|e| bad(format!("{field}: {e}"))))
            .transpose()
    };
    let oldest_first = match q.sort.as_deref() {
        None | Some("newest") => false,
        Some("oldest") => true,
        Some(o) => return Err(bad(format!("sort: '{o}' is not newest or oldest"))),
    };
    let offset = q.offset.unwrap_or(0);
    if !(0..=10_000_000).contains(&offset) {
        return Err(bad("offset: 0 to 10,000,000"));
    }
    Ok(AlertFilter {
        state,
        site_ids: None,
        kinds,
        severity: q.severity.clone(),
        from_ms: time("from", &q.from)?,
        to_ms: time("to", &q.to)?,
        oldest_first,
        offset,
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    })
}

/// Alerts matching the filter, newest first (or oldest), one page and the total.
#[utoipa::path(get, path = "/api/alerts", tag = "alerts", params(AlertQuery),
    responses((status = 200, description = "alerts", body = AlertsBody), E400, E401))]
pub async fn alerts(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> ApiResult<AlertsBody> {
    let p = auth_read(&st, &headers).await?;
    let mut filter = filter_of(&q)?;
    let (list, total, f) = with_store(&st, move |s| {
        let sites = s.sites()?;
        let seen = visible_sites(&p, &sites);
        let scoped = p.district.is_some() || q.site.is_some() || q.district.is_some();
        if scoped {
            let in_district = |id: &String| {
                q.district
                    .as_deref()
                    .is_none_or(|d| sites.iter().any(|x| &x.id == id && x.district == d))
            };
            let ids: Vec<String> = seen
                .into_iter()
                .filter(|id| q.site.as_deref().is_none_or(|x| x == id))
                .filter(in_district)
                .collect();
            filter.site_ids = Some(ids);
        }
        let (list, total) = s.alert_page(&filter)?;
        let extra: Vec<(Option<f64>, Option<i64>)> =
            list.iter().map(|a| episode_stats(s, a)).collect();
        Ok((
            list.into_iter().zip(extra).collect::<Vec<_>>(),
            total,
            filter,
        ))
    })
    .await?;
    let alerts = list
        .iter()
        .map(|(a, (peak, open))| {
            let v = AlertView::new(&st, a);
            AlertView {
                peak: *peak,
                duration_s: match (open, a.kind.as_str()) {
                    (Some(d), _) => *d,
                    (None, "offline") if a.recovered_at_ms.is_none() => {
                        (st.zone.now_wall_seconds() - a.data_time).max(0)
                    }
                    _ => v.duration_s,
                },
                ..v
            }
        })
        .collect();
    Ok(Json(AlertsBody {
        alerts,
        total,
        offset: f.offset,
        limit: f.limit,
    }))
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
        change_state(s, &p.name, id, &site.id, state, &body.comment, now)?;
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

/// Moves one alert on (the store checks the order of states) and audits who did it and why.
fn change_state(
    s: &mut dyn rewater_store::Store,
    who: &str,
    id: i64,
    site_id: &str,
    state: AlertState,
    comment: &str,
    now: i64,
) -> rewater_store::Result<()> {
    s.set_alert_state(id, state, who, comment, now)?;
    let target = format!("alert {id} ({site_id})");
    audit(s, who, &format!("alert.{state}"), &target, comment);
    Ok(())
}

#[derive(Deserialize, ToSchema)]
pub struct BulkStateChange {
    /// Alert ids (at most 1,000).
    ids: Vec<i64>,
    /// acknowledged or closed.
    state: String,
    #[serde(default)]
    comment: String,
}

/// An alert the bulk change left as it was, and why.
#[derive(Serialize, ToSchema)]
pub struct BulkRefusal {
    pub id: i64,
    pub error: String,
}

#[derive(Serialize, ToSchema)]
pub struct BulkStateBody {
    pub changed: Vec<i64>,
    pub refused: Vec<BulkRefusal>,
}

/// Acknowledge or close many alerts at once with one comment (批量确认); each change is
/// checked (district, role, state order) and audited like a single one; the others go on.
#[utoipa::path(post, path = "/api/alerts/state", tag = "alerts", request_body = BulkStateChange,
    responses((status = 200, description = "what changed and what not", body = BulkStateBody), E400, E401))]
pub async fn set_alerts_state(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BulkStateChange>,
) -> ApiResult<BulkStateBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let state: AlertState = body.state.parse().map_err(|e| bad(format!("state: {e}")))?;
    if body.comment.chars().count() > 2000 {
        return Err(bad("comment: at most 2000 characters"));
    }
    if body.ids.is_empty() || body.ids.len() > 1000 {
        return Err(bad("ids: 1 to 1,000 alert ids"));
    }
    let now = auth::now_ms();
    let out = with_store(&st, move |s| {
        let sites = s.sites()?;
        let mut changed = Vec::new();
        let mut refused = Vec::new();
        let mut ids = body.ids.clone();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let Some(alert) = s.alert(id)? else {
                refused.push(BulkRefusal {
                    id,
                    error: format!("no alert {id}"),
                });
                continue;
            };
            let site = sites.iter().find(|x| x.id == alert.site_id);
            let Some(site) = site.filter(|x| p.sees(x) && p.acts_on(x)) else {
                refused.push(BulkRefusal {
                    id,
                    error: format!("{} may not change alert {id}", p.name),
                });
                continue;
            };
            match change_state(s, &p.name, id, &site.id, state, &body.comment, now) {
                Ok(()) => changed.push(id),
                Err(e) => refused.push(BulkRefusal {
                    id,
                    error: e.to_string(),
                }),
            }
        }
        Ok(BulkStateBody { changed, refused })
    })
    .await?;
    Ok(Json(out))
}
