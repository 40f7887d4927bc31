//! Compliance of a monitoring series over time (达标率): daily values as the standard defines
//! them, exceedance days, longest run of exceedance and the worst value.
//!
//! Daily value rules:
//! * standards with `averaging = "daily_mean"` (GB 18918-2002 clause 4.1.4.2): the arithmetic
//!   mean of the day's valid readings; organism counts use the geometric mean (HJ 91.1
//!   practice for microbiological results); a pH range is checked on the day's lowest and
//!   highest reading, because a mean pH hides both excursions;
//! * standards with `averaging = "sample"`: every valid reading is compared and the day fails
//!   if any reading fails; its daily value is the worst reading.
//!
//! Only readings flagged `N` (HJ 212-2017 Table 8: analyser normal) count. Other flags are
//! excluded and counted per flag in the report.

use crate::date::Date;
use crate::evaluate::{judge, Reading};
use crate::factor::Factor;
use crate::standard::{Averaging, Bound, Context, Standard};
use crate::unit::{Kind, UnitError};
use std::collections::BTreeMap;

/// A reading of a monitoring series.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedReading {
    pub date: Date,
    pub reading: Reading,
    /// HJ 212 data flag (N, F, M, S, D, C, T, B; 2005 also P).
    pub flag: char,
    /// Line in the input, for messages.
    pub line: usize,
}

/// Compliance of one factor.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FactorCompliance {
    pub factor: Factor,
    pub limit: Bound,
    pub limit_unit: Option<String>,
    pub days_with_data: usize,
    pub exceedance_days: usize,
    /// Compliant days ÷ days with valid data; `None` with no valid data.
    pub compliance_rate: Option<f64>,
    pub longest_exceedance_run_days: usize,
    /// The worst daily value (in the limit's unit) and its day.
    pub worst_value: Option<f64>,
    pub worst_date: Option<Date>,
    pub exceedance_dates: Vec<Date>,
    pub limit_assumed: bool,
}

/// Compliance report of a series against one class of a standard.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComplianceReport {
    pub standard: String,
    pub class: String,
    pub averaging: Averaging,
    pub first_date: Option<Date>,
    pub last_date: Option<Date>,
    pub factors: Vec<FactorCompliance>,
    /// Readings excluded because of their flag, counted by flag.
    pub excluded_by_flag: BTreeMap<char, usize>,
    /// Factors in the series for which the class sets no numeric limit.
    pub without_limit: Vec<Factor>,
    pub uses_unverified: bool,
}

/// Computes the compliance report. `base` gives what the series does not (water body, plant
/// construction date); each day's date and mean water temperature (w01010) are added to it.
pub fn comply(
    std: &Standard,
    class: usize,
    series: &[TimedReading],
    base: &Context,
) -> Result<ComplianceReport, UnitError> {
    let mut excluded = BTreeMap::new();
    // (factor, date) -> valid readings
    let mut by_day: BTreeMap<(Factor, Date), Vec<Reading>> = BTreeMap::new();
    let temp = Factor::parse("w01010").ok();
    let mut temps: BTreeMap<Date, (f64, usize)> = BTreeMap::new();
    for r in series {
        if r.flag != 'N' {
            *excluded.entry(r.flag).or_insert(0) += 1;
            continue;
        }
        if Some(r.reading.factor) == temp {
            let t = temps.entry(r.date).or_insert((0.0, 0));
            t.0 += r.reading.value;
            t.1 += 1;
        }
        by_day
            .entry((r.reading.factor, r.date))
            .or_default()
            .push(r.reading);
    }
    let mut factors: Vec<Factor> = by_day.keys().map(|(f, _)| *f).collect();
    factors.dedup();
    let mut out = Vec::new();
    let mut without_limit = Vec::new();
    let mut uses_unverified = false;
    for f in factors {
        let mut fc: Option<FactorCompliance> = None;
        let mut run = 0usize;
        let mut last_exceed: Option<Date> = None;
        for ((_, date), readings) in by_day.iter().filter(|((ff, _), _)| *ff == f) {
            let mut ctx = *base;
            ctx.date = Some(*date);
            if let Some((sum, n)) = temps.get(date) {
                ctx.water_temp_c = Some(sum / *n as f64);
            }
            let Some(sel) = std.limit_for(class, f, &ctx) else {
                continue;
            };
            let Some(limit_unit) = sel.limit.unit else {
                continue;
            };
            uses_unverified |= sel.limit.confidence == crate::standard::Confidence::Unverified;
            let entry = fc.get_or_insert_with(|| FactorCompliance {
                factor: f,
                limit: sel.limit.bound.clone(),
                limit_unit: Some(limit_unit.to_string()),
                days_with_data: 0,
                exceedance_days: 0,
                compliance_rate: None,
                longest_exceedance_run_days: 0,
                worst_value: None,
                worst_date: None,
                exceedance_dates: Vec::new(),
                limit_assumed: false,
            });
            entry.limit_assumed |= sel.assumed;
            // Candidate values for the day in the limit's unit.
            let values: Vec<f64> = readings
                .iter()
                .map(|r| r.unit.convert(r.value, limit_unit))
                .collect::<Result<_, _>>()?;
            let candidates: Vec<f64> = match (std.averaging, &sel.limit.bound) {
                (_, Bound::Range { .. }) => vec![min(&values), max(&values)],
                (Averaging::DailyMean, _) if limit_unit.kind() == Kind::Organisms => {
                    vec![geometric_mean(&values)]
                }
                (Averaging::DailyMean, _) => vec![values.iter().sum::<f64>() / values.len() as f64],
                (Averaging::Sample, _) => values,
            };
            let mut day_fails = false;
            for v in candidates {
                let verdict = judge(sel.limit, v, limit_unit)?
                    .map(|x| x.meets)
                    .unwrap_or(true);
                day_fails |= !verdict;
                if entry
                    .worst_value
                    .is_none_or(|w| worse(&sel.limit.bound, v, w))
                {
                    entry.worst_value = Some(v);
                    entry.worst_date = Some(*date);
                }
            }
            entry.days_with_data += 1;
            if day_fails {
                entry.exceedance_days += 1;
                entry.exceedance_dates.push(*date);
                run = if last_exceed.is_some_and(|d| date.days_since(d) == 1) {
                    run + 1
                } else {
                    1
                };
                last_exceed = Some(*date);
                entry.longest_exceedance_run_days = entry.longest_exceedance_run_days.max(run);
            }
        }
        match fc {
            Some(mut c) => {
                c.compliance_rate = (c.days_with_data > 0).then(|| {
                    (c.days_with_data - c.exceedance_days) as f64 / c.days_with_data as f64
                });
                out.push(c);
            }
            None => without_limit.push(f),
        }
    }
    Ok(ComplianceReport {
        standard: std.id.clone(),
        class: std.classes[class].id.clone(),
        averaging: std.averaging,
        first_date: series.iter().map(|r| r.date).min(),
        last_date: series.iter().map(|r| r.date).max(),
        factors: out,
        excluded_by_flag: excluded,
        without_limit,
        uses_unverified,
    })
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn geometric_mean(v: &[f64]) -> f64 {
    // Zero counts (none detected) would make the log undefined; count them as 1 per the usual
    // convention for geometric means of bacteria counts.
    let s: f64 = v.iter().map(|x| x.max(1.0).ln()).sum();
    (s / v.len() as f64).exp()
}

/// Whether `a` is a worse value than `b` under a bound.
fn worse(bound: &Bound, a: f64, b: f64) -> bool {
    match bound {
        Bound::Max { .. } | Bound::Qualitative { .. } => a > b,
        Bound::Min { .. } => a < b,
        Bound::Range { low, high } => {
            let dist = |x: f64| {
                if x < *low {
                    low - x
                } else if x > *high {
                    x - high
                } else {
                    0.0
                }
            };
            dist(a) > dist(b)
        }
    }
}
