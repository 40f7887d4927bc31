//! Quantities from monitoring (在线监测): compliance and data-validity counts by district and
//! year. The store (or anything else) fills [`MonitoringRates`]; this crate keeps no records.

use crate::table::{Origin, QuantityTable};
use serde::{Deserialize, Serialize};

/// One district's (or the whole region's, district "") monitoring counts for one year.
///
/// - compliance: evaluations of a reading (or daily mean) against its site's limit —
///   `evaluated` of them, `compliant` within the limit (达标率 = compliant ÷ evaluated).
/// - data validity: `expected` records (e.g. hourly values a logger should send), `valid` of
///   them received and not flagged invalid (数据有效率 = valid ÷ expected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringRates {
    #[serde(default)]
    pub district: String,
    pub year: i32,
    pub evaluated: u64,
    pub compliant: u64,
    pub expected: u64,
    pub valid: u64,
}

/// Why monitoring counts were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("monitoring counts of district '{district}', {year}: {message}")]
pub struct MonitoringError {
    pub district: String,
    pub year: i32,
    pub message: String,
}

/// The quantities `monitoring_evaluated`, `monitoring_compliant`, `monitoring_records_expected`
/// and `monitoring_records_valid`. A zero count of `evaluated` (`expected`) leaves both of its
/// quantities out: nothing was measured, which is "not reported", not 0 %. Districts add up
/// to the whole region unless a whole-region entry is given. Nothing is kept if any entry is
/// inconsistent.
pub fn monitoring_quantities(rates: &[MonitoringRates]) -> Result<QuantityTable, MonitoringError> {
    let mut t = QuantityTable::new();
    for (i, r) in rates.iter().enumerate() {
        let err = |message: String| MonitoringError {
            district: r.district.clone(),
            year: r.year,
            message,
        };
        if r.compliant > r.evaluated {
            return Err(err(format!(
                "{} compliant of {} evaluated",
                r.compliant, r.evaluated
            )));
        }
        if r.valid > r.expected {
            return Err(err(format!("{} valid of {} expected", r.valid, r.expected)));
        }
        if rates[..i]
            .iter()
            .any(|o| o.district == r.district && o.year == r.year)
        {
            return Err(err("given twice".into()));
        }
        let mut put = |q: &str, v: u64| t.set(&r.district, r.year, q, v as f64, Origin::Monitoring);
        if r.evaluated > 0 {
            put("monitoring_evaluated", r.evaluated);
            put("monitoring_compliant", r.compliant);
        }
        if r.expected > 0 {
            put("monitoring_records_expected", r.expected);
            put("monitoring_records_valid", r.valid);
        }
    }
    Ok(t)
}

/// Why monitoring counts could not be read from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreRatesError {
    #[error("monitoring store: {0}")]
    Store(#[from] rewater_store::StoreError),
}

/// Monitoring counts of `year` by district, read from the monitoring store.
///
/// The rule implemented (stated in `docs/indicators.md`):
/// - **compliance** — each day's mean of a factor that the site's first standard limits, at
///   each of the site's data loggers, is one evaluation; compliant when the mean is within
///   the limit selected for that day (GB 18918 and DB11/890 judge daily means; for standards
///   judged per sample the daily mean is a summary, not the legal test). Only valid (N)
///   readings of real-time and minute data make the means.
/// - **data validity** — an hour with at least one valid reading of such a factor is one
///   valid hourly record; 24 records a day and factor are expected from the first day the
///   logger sent that factor in the year to the end of the year or of `until`, whichever is
///   earlier (a logger that fell silent keeps being expected).
///
/// Sites without a standard, or with none the library knows, are left out; districts come
/// from the sites.
pub fn rates_from_store(
    store: &mut dyn rewater_store::Store,
    standards: &rewater_standards::Standards,
    year: i32,
    until: rewater_time::Date,
) -> Result<Vec<MonitoringRates>, StoreRatesError> {
    use rewater_store::Period;
    use std::collections::BTreeMap;
    let (Some(start), Some(next)) = (
        rewater_time::Date::from_ymd(year, 1, 1),
        rewater_time::Date::from_ymd(year + 1, 1, 1),
    ) else {
        return Ok(Vec::new());
    };
    let end = if until < next {
        until.add_days(1)
    } else {
        next
    };
    let (from_s, to_s) = (start.wall_seconds(), end.wall_seconds());
    let devices = store.devices()?;
    let mut by_district: BTreeMap<String, MonitoringRates> = BTreeMap::new();
    for site in store.sites()? {
        let Some(spec) = site.standards().first().map(|s| s.to_string()) else {
            continue;
        };
        let Ok((std, class)) = standards.resolve(&spec) else {
            continue;
        };
        let r = by_district
            .entry(site.district.clone())
            .or_insert(MonitoringRates {
                district: site.district.clone(),
                year,
                evaluated: 0,
                compliant: 0,
                expected: 0,
                valid: 0,
            });
        for d in devices.iter().filter(|d| d.site_id == site.id) {
            for factor in std.factors() {
                let code = factor.code();
                let days = store.aggregates(&d.mn, code, Period::Day, from_s, to_s)?;
                let Some(first) = days.first().map(|p| p.t) else {
                    continue;
                };
                for p in &days {
                    let ctx = rewater_standards::standard::Context {
                        date: Some(rewater_time::Date::from_wall_seconds(p.t)),
                        ..Default::default()
                    };
                    let Some(sel) = std.limit_for(class, factor, &ctx) else {
                        continue;
                    };
                    let unit = factor.info().unit;
                    if let Ok(Some(v)) = rewater_standards::evaluate::judge(sel.limit, p.mean, unit)
                    {
                        r.evaluated += 1;
                        r.compliant += u64::from(v.meets);
                    }
                }
                let hours = store.aggregates(&d.mn, code, Period::Hour, first, to_s)?;
                r.valid += hours.iter().filter(|h| h.n > 0).count() as u64;
                r.expected += ((to_s - first).max(0) / 3600) as u64;
            }
        }
    }
    Ok(by_district.into_values().collect())
}
