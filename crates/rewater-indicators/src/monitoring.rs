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
