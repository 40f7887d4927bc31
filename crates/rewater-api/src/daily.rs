//! Data completeness and daily means of a site, day by day (issue 13): for each factor and
//! day, the mean, minimum and maximum of the valid values, the online rate and the data-validity
//! rate, and the daily mean judged against the site's first standard.
//!
//! The rule (rewater's, modelled on HJ 356-2019's 有效数据率 = valid ÷ expected; the
//! standard's own text was not read, so the clause is UNVERIFIED):
//! - the record is the **hour**: 24 are expected per factor and day (up to the current hour
//!   on the current day; none after it);
//! - an hour is **online** when the logger sent any real-time (2011) or minute (2051) value of
//!   the factor in it, whatever its flag;
//! - an hour is **valid** when at least one of those values has flag `N` (normal); values
//!   flagged for calibration, maintenance, faults or over range (C, M, D, T, …) do not count;
//! - online rate = online hours ÷ expected hours; 有效数据率 = valid hours ÷ expected hours;
//! - the daily mean is the arithmetic mean of the valid values (HJ 212 Appendix D allows the
//!   arithmetic mean besides the flow-weighted one); it is judged against the limit of the
//!   site's first standard selected for that day.

use crate::error::{bad, ApiError, ApiResult, E400, E401, E403, E404};
use crate::extract::ApiQuery;
use crate::series::parse_time;
use crate::sites::{auth_read, visible_site};
use crate::{with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use rewater_standards::standard::{Bound, Context};
use rewater_standards::{Date, Factor};
use rewater_store::{Site, Store};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::{IntoParams, ToSchema};

/// The most days one request covers.
pub const MAX_DAYS: i64 = 62;

/// One factor on one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayFactor {
    /// YYYY-MM-DD in the server's zone.
    pub date: String,
    /// HJ 212 code.
    pub factor: String,
    /// Mean, minimum and maximum of the valid values (none without a valid value).
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Valid (flag N) values.
    pub valid_values: usize,
    pub online_hours: u32,
    pub valid_hours: u32,
    pub expected_hours: u32,
    /// online_hours ÷ expected_hours.
    pub online_rate: Option<f64>,
    /// 有效数据率: valid_hours ÷ expected_hours.
    pub validity_rate: Option<f64>,
    /// "STANDARD:CLASS" and the bound applied to the daily mean ("≤ 30 mg/L").
    pub standard: Option<String>,
    pub limit: Option<String>,
    /// The number the chart draws (the maximum, or minimum, of the bound).
    pub limit_value: Option<f64>,
    /// Whether the daily mean meets the limit (none without a mean or a limit).
    pub meets: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct DailyBody {
    pub site: String,
    pub days: Vec<DayFactor>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DailyQuery {
    /// First day: YYYY-MM-DD (or RFC 3339 / wall seconds: its day).
    from: String,
    /// Day after the last (exclusive); at most 62 days after `from`.
    to: String,
}

/// A bound as text, as the alert engine writes it.
pub fn bound_text(b: &Bound, unit: Option<rewater_standards::Unit>) -> String {
    let u = unit.map(|u| format!(" {u}")).unwrap_or_default();
    match b {
        Bound::Max { value } => format!("≤ {value}{u}"),
        Bound::Min { value } => format!("≥ {value}{u}"),
        Bound::Range { low, high } => format!("{low}–{high}{u}"),
        Bound::Qualitative { requirement } => requirement.clone(),
    }
}

#[derive(Default)]
struct Acc {
    sum: f64,
    n: usize,
    min: f64,
    max: f64,
    online: BTreeSet<i64>,
    valid: BTreeSet<i64>,
}

/// The days `[from, from + days)` of a site (its factors: those its loggers ever sent).
pub(crate) fn site_days(
    st: &ApiState,
    s: &mut dyn Store,
    site: &Site,
    mns: &[String],
    from: Date,
    days: i64,
) -> Result<Vec<DayFactor>, ApiError> {
    let (lo, hi) = (from.wall_seconds(), from.wall_seconds() + days * 86_400);
    let now = st.zone.now_wall_seconds();
    let spec = site.standards().first().map(|x| x.to_string());
    let resolved = spec.as_deref().and_then(|x| st.standards.resolve(x).ok());
    let mut out = Vec::new();
    // The factors the loggers sent in the period, or in the 31 days before it (so that a
    // logger silent all period shows 0 %). Asked factor by factor from the table: indexed
    // range reads, where the store's `latest` scans a logger's whole record.
    let mut factors: Vec<(String, Vec<rewater_store::Reading>)> = Vec::new();
    for f in Factor::all() {
        let code = f.code();
        let mut rows = Vec::new();
        let mut seen_before = false;
        for mn in mns {
            rows.extend(s.readings(mn, code, &["2011", "2051"], lo, hi)?);
            if rows.is_empty() && !seen_before {
                seen_before = !s
                    .aggregates(mn, code, rewater_store::Period::Day, lo - 31 * 86_400, lo)?
                    .is_empty();
            }
        }
        if !rows.is_empty() || seen_before {
            factors.push((code.to_string(), rows));
        }
    }
    for (factor, rows) in factors {
        let mut by_day: BTreeMap<i64, Acc> = BTreeMap::new();
        for r in rows {
            let day = r.data_time.div_euclid(86_400);
            let hour = r.data_time.div_euclid(3600);
            let a = by_day.entry(day).or_insert_with(|| Acc {
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
                ..Acc::default()
            });
            a.online.insert(hour);
            let normal = r.flag.as_deref().is_none_or(|f| f == "N");
            if let (true, Some(v)) = (normal, r.value) {
                a.valid.insert(hour);
                a.sum += v;
                a.n += 1;
                a.min = a.min.min(v);
                a.max = a.max.max(v);
            }
        }
        let f = Factor::parse(&factor).ok();
        for d in 0..days {
            let day_start = lo + d * 86_400;
            if day_start > now {
                break;
            }
            let expected = ((now - day_start) / 3600 + 1).clamp(0, 24) as u32;
            let a = by_day
                .remove(&day_start.div_euclid(86_400))
                .unwrap_or_default();
            let mean = (a.n > 0).then(|| a.sum / a.n as f64);
            let date = Date::from_wall_seconds(day_start);
            let mut row = DayFactor {
                date: date.to_string(),
                factor: factor.clone(),
                mean,
                min: (a.n > 0).then_some(a.min),
                max: (a.n > 0).then_some(a.max),
                valid_values: a.n,
                online_hours: a.online.len() as u32,
                valid_hours: a.valid.len() as u32,
                expected_hours: expected,
                online_rate: (expected > 0).then(|| a.online.len() as f64 / expected as f64),
                validity_rate: (expected > 0).then(|| a.valid.len() as f64 / expected as f64),
                standard: None,
                limit: None,
                limit_value: None,
                meets: None,
            };
            if let (Some((std, class)), Some(f)) = (resolved, f) {
                let ctx = Context {
                    date: Some(date),
                    ..Default::default()
                };
                if let Some(sel) = std.limit_for(class, f, &ctx) {
                    row.standard = spec.clone();
                    row.limit = Some(bound_text(&sel.limit.bound, sel.limit.unit));
                    row.limit_value = match sel.limit.bound {
                        Bound::Max { value } | Bound::Min { value } => Some(value),
                        Bound::Range { high, .. } => Some(high),
                        Bound::Qualitative { .. } => None,
                    };
                    if let Some(m) = mean {
                        row.meets = rewater_standards::evaluate::judge(sel.limit, m, f.info().unit)
                            .ok()
                            .flatten()
                            .map(|v| v.meets);
                    }
                }
            }
            out.push(row);
        }
    }
    Ok(out)
}

/// The first day and the number of days of `[from, to)` (checked: at most [`MAX_DAYS`]).
pub(crate) fn day_range(st: &ApiState, from: &str, to: &str) -> Result<(Date, i64), ApiError> {
    let f = Date::from_wall_seconds(parse_time(st, "from", from)?);
    let t = Date::from_wall_seconds(parse_time(st, "to", to)?.saturating_sub(1));
    let days = (t.wall_seconds() - f.wall_seconds()) / 86_400 + 1;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(bad(format!(
            "from/to: between 1 and {MAX_DAYS} days (got {days})"
        )));
    }
    Ok((f, days))
}

/// Daily means, online and data-validity rates (有效数据率) of a site's factors, day by day,
/// with each daily mean judged against the site's first standard.
#[utoipa::path(get, path = "/api/sites/{id}/daily", tag = "series",
    params(("id" = String, Path, description = "site id"), DailyQuery),
    responses((status = 200, description = "days by factor", body = DailyBody), E400, E401, E403, E404))]
pub async fn daily(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DailyQuery>,
) -> ApiResult<DailyBody> {
    let p = auth_read(&st, &headers).await?;
    let (from, days) = day_range(&st, &q.from, &q.to)?;
    let st2 = st.clone();
    let (site, days) = with_store(&st, move |s| {
        let (site, mns) = visible_site(s, &p, &id)?;
        let days = site_days(&st2, s, &site, &mns, from, days)?;
        Ok((site.id, days))
    })
    .await?;
    Ok(Json(DailyBody { site, days }))
}
