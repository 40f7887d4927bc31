//! A site's series (downsampled into buckets) and its compliance with each of its
//! standards over a period. Times in `from`/`to` are RFC 3339 with offset, YYYY-MM-DD (a
//! date in the server's zone) or wall-clock seconds; all arithmetic on them is checked.

use crate::error::{bad, not_found, ApiError, ApiResult, E400, E401, E403, E404};
use crate::extract::ApiQuery;
use crate::sites::{auth_read, visible_site};
use crate::{with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use rewater_standards::comply::TimedReading;
use rewater_standards::standard::Context;
use rewater_standards::{Date, Factor, Reading as QualityReading};
use rewater_store::{Period, SeriesPoint};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The longest period a compliance report covers.
pub const MAX_COMPLIANCE_DAYS: i64 = 400;

#[derive(Deserialize, IntoParams)]
pub struct SeriesQuery {
    /// HJ 212 code or name (cod, nh3n…).
    factor: String,
    /// Start: RFC 3339 (2025-06-01T00:00:00+08:00), YYYY-MM-DD or wall seconds.
    from: Option<String>,
    /// End (exclusive), in the same forms.
    to: Option<String>,
    /// Bucket length in seconds; default: as needed for at most `points` points.
    bucket: Option<i64>,
    /// Most points when `bucket` is not given (1–100000, default 1000).
    points: Option<i64>,
}

/// One bucket of a series: `t` wall seconds at its start, `time` the same in RFC 3339.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointView {
    pub t: i64,
    pub time: String,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Valid values in the bucket.
    pub n: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SeriesBody {
    pub factor: String,
    pub bucket_s: i64,
    pub points: Vec<PointView>,
}

/// A time given as RFC 3339, YYYY-MM-DD or wall seconds, as wall seconds in the zone.
pub(crate) fn parse_time(st: &ApiState, field: &str, s: &str) -> Result<i64, ApiError> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    if s.len() == 10 {
        if let Ok(d) = s.parse::<Date>() {
            return Ok(d.wall_seconds());
        }
    }
    let ms = rewater_time::parse_rfc3339_ms(s).map_err(|e| {
        bad(format!(
            "{field}: {e}; or give YYYY-MM-DD (a date in {}) or wall seconds",
            st.zone.name()
        ))
    })?;
    Ok(st.zone.wall_seconds(ms.div_euclid(1000)))
}

fn factor_code(f: &str) -> Result<String, ApiError> {
    Factor::parse(f)
        .map(|f| f.code().to_string())
        .map_err(|e| bad(format!("factor: {e}")))
}

/// A factor's series, downsampled into buckets (mean, min, max, count of valid values).
#[utoipa::path(get, path = "/api/sites/{id}/series", tag = "series",
    params(("id" = String, Path, description = "site id"), SeriesQuery),
    responses((status = 200, description = "the series", body = SeriesBody), E400, E401, E403, E404))]
pub async fn series(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> ApiResult<SeriesBody> {
    let p = auth_read(&st, &headers).await?;
    let factor = factor_code(&q.factor)?;
    let from = q
        .from
        .as_deref()
        .map(|s| parse_time(&st, "from", s))
        .transpose()?;
    let to =
        q.to.as_deref()
            .map(|s| parse_time(&st, "to", s))
            .transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f {
            return Err(bad("'to' must be after 'from'"));
        }
    }
    let points = q.points.unwrap_or(1000).clamp(1, 100_000);
    if q.bucket.is_some_and(|b| b <= 0) {
        return Err(bad("bucket: must be a positive number of seconds"));
    }
    let requested_bucket = q.bucket;
    let f2 = factor.clone();
    let (bucket, pts) = with_store(&st, move |s| {
        let (_, mns) = visible_site(s, &p, &id)?;
        let mn = mns
            .first()
            .ok_or_else(|| not_found(format!("site '{id}' has no device")))?;
        // Without explicit bounds, span the data that exist.
        let (lo, hi) = match (from, to) {
            (Some(f), Some(t)) => (f, t),
            _ => {
                let (f, t) = (from.unwrap_or(0), to.unwrap_or(i64::MAX / 4));
                let all = s.aggregates(mn, &f2, Period::Day, f, t)?;
                let lo = all.first().map_or(f, |p| p.t);
                let hi = all.last().map_or(lo, |p| p.t).saturating_add(86_400);
                (lo, hi)
            }
        };
        let span = hi
            .checked_sub(lo)
            .ok_or_else(|| bad("from/to: period too long"))?;
        // Automatic buckets of an hour or more are whole hours, so they come from the kept
        // hourly aggregates instead of every reading.
        let bucket = requested_bucket.unwrap_or_else(|| match (span / points).max(60) {
            b if b >= 3600 => b.saturating_add(3599) / 3600 * 3600,
            b => b,
        });
        let pts = if bucket % 3600 == 0 {
            merge(s.aggregates(mn, &f2, Period::Hour, lo, hi)?, bucket)
        } else {
            s.series(mn, &f2, lo, hi, bucket)?
        };
        Ok((bucket, pts))
    })
    .await?;
    let points = pts
        .into_iter()
        .map(|p| PointView {
            time: st.zone.rfc3339_wall(p.t),
            t: p.t,
            mean: p.mean,
            min: p.min,
            max: p.max,
            n: p.n,
        })
        .collect();
    Ok(Json(SeriesBody {
        factor,
        bucket_s: bucket,
        points,
    }))
}

/// Merges hourly points into buckets of `bucket` seconds.
fn merge(hourly: Vec<SeriesPoint>, bucket: i64) -> Vec<SeriesPoint> {
    let mut out: Vec<SeriesPoint> = Vec::new();
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
            _ => out.push(SeriesPoint { t, ..p }),
        }
    }
    out
}

#[derive(Deserialize, IntoParams)]
pub struct ComplianceQuery {
    /// Start: RFC 3339, YYYY-MM-DD or wall seconds.
    from: String,
    /// End (exclusive); at most 400 days after `from`.
    to: String,
}

#[derive(Serialize, ToSchema)]
pub struct ComplianceBody {
    pub site: String,
    /// One report per standard: daily compliance (达标率) by factor.
    #[schema(value_type = Vec<Object>)]
    pub reports: Vec<rewater_standards::comply::ComplianceReport>,
}

/// The period `[from, to)` if it is positive and at most [`MAX_COMPLIANCE_DAYS`] long
/// (checked: extreme values cannot wrap around).
pub(crate) fn check_period(from: i64, to: i64) -> Result<(), ApiError> {
    match to.checked_sub(from) {
        Some(d) if d > 0 && d <= MAX_COMPLIANCE_DAYS * 86_400 => Ok(()),
        _ => Err(bad(format!(
            "from/to: the period must be positive and at most {MAX_COMPLIANCE_DAYS} days"
        ))),
    }
}

/// Daily compliance (达标率) of the site's valid real-time and minute data with each of its
/// standards.
#[utoipa::path(get, path = "/api/sites/{id}/compliance", tag = "series",
    params(("id" = String, Path, description = "site id"), ComplianceQuery),
    responses((status = 200, description = "compliance reports", body = ComplianceBody), E400, E401, E403, E404))]
pub async fn compliance(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ComplianceQuery>,
) -> ApiResult<ComplianceBody> {
    let p = auth_read(&st, &headers).await?;
    let (from, to) = (
        parse_time(&st, "from", &q.from)?,
        parse_time(&st, "to", &q.to)?,
    );
    check_period(from, to)?;
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
            Some(TimedReading {
                date: Date::from_wall_seconds(r.data_time),
                reading: QualityReading {
                    factor: f,
                    value: r.value?,
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
    Ok(Json(ComplianceBody {
        site: site.id,
        reports,
    }))
}

#[cfg(test)]
mod tests {
    use super::check_period;

    #[test]
    fn periods_cannot_wrap() {
        assert!(check_period(0, 400 * 86_400).is_ok());
        assert!(check_period(0, 400 * 86_400 + 1).is_err());
        assert!(check_period(-9_223_372_036_854_775_807, 1_750_000_000).is_err());
        assert!(check_period(i64::MIN, i64::MAX).is_err());
        assert!(check_period(10, 10).is_err());
    }
}
