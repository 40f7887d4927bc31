//! The scorecard (指标考核表): for each district and year, each indicator's value, the
//! targets due that year, met / not met / not reported, and the trend against the baseline.

use crate::catalog::{Better, Catalog};
use crate::formula::Missing;
use crate::table::{Origin, QuantityTable, WHOLE_REGION};
use crate::targets::{Comparator, Target, TargetSet};
use crate::{Confidence, Text};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Options of [`scorecard`].
#[derive(Debug, Clone, Default)]
pub struct ScorecardOptions {
    /// Baseline year (default: the first set's `baseline_year`).
    pub baseline_year: Option<i32>,
    /// Display names of districts (id → name); the id is shown where absent.
    pub district_names: BTreeMap<String, Text>,
    /// Only these districts (the API's district operators); None = all.
    pub only_district: Option<String>,
    /// The model's name, for the heading.
    pub model: String,
}

/// How a row or a target fares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// 达标
    Met,
    /// 未达标
    NotMet,
    /// 未报送: a quantity is unknown (never read as 0).
    NotReported,
    /// 定性目标: stated in words, not judged.
    Qualitative,
    /// No target this year (value and trend only).
    NoTarget,
}

/// Direction of the change since the baseline, as the indicator counts better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Improving,
    Worsening,
    Unchanged,
}

/// A target due in the row's year, and how the row's value fares against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetCheck {
    /// Target set id (e.g. `seed-000`) and its title.
    pub set: String,
    pub set_title: Text,
    pub document: String,
    /// The target's id within the set.
    pub target: String,
    pub comparator: Option<Comparator>,
    pub value: Option<f64>,
    pub qualitative: Option<Text>,
    pub section: String,
    pub quote: String,
    pub confidence: Confidence,
    pub interpretation: Option<Text>,
    pub status: RowStatus,
}

/// The value the trend is measured from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub year: i32,
    pub value: f64,
    /// True if the value is the plan's stated baseline (e.g. "95 %以上"), not computed.
    pub stated: bool,
    /// The comparator of a stated baseline ("以上" = ≥).
    pub comparator: Option<Comparator>,
}

/// Change since the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// value − baseline value, in the indicator's unit.
    pub change: f64,
    pub direction: Direction,
}

/// One indicator for one district and year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorecardRow {
    /// District id ("" = the whole region) and its name.
    pub district: String,
    pub district_name: Text,
    pub year: i32,
    pub indicator: String,
    pub name: Text,
    /// Unit id and its display text.
    pub unit: String,
    pub unit_text: Text,
    /// None = not reported.
    pub value: Option<f64>,
    /// The quantities that were not reported (why `value` is None), or empty.
    pub missing: Vec<String>,
    /// True if `value` is None because a denominator was 0.
    pub division_by_zero: bool,
    /// Where the quantities came from (distinct origins).
    pub origins: Vec<Origin>,
    pub targets: Vec<TargetCheck>,
    /// Worst of the targets' statuses (not met > not reported > met > qualitative), or
    /// `no_target`.
    pub status: RowStatus,
    pub baseline: Option<Baseline>,
    pub trend: Option<Trend>,
}

/// A target with no indicator (a pilot's duration, a report's deadline), kept for the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherTarget {
    pub set: String,
    pub target: Target,
}

/// The scorecard of a model (and statistics) against target sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub model: String,
    /// The sets used: (id, title).
    pub sets: Vec<(String, Text)>,
    pub baseline_year: Option<i32>,
    /// Districts in the order rows use ("" = the whole region first).
    pub districts: Vec<String>,
    pub years: Vec<i32>,
    /// Sorted by district, year, then the catalogue's indicator order.
    pub rows: Vec<ScorecardRow>,
    pub other_targets: Vec<OtherTarget>,
    /// Targets for a district (a plan's area, e.g. 中心城区) of which nothing at all was
    /// reported: listed here instead of filling the rows with "not reported".
    pub unmatched_district_targets: Vec<OtherTarget>,
}

impl Scorecard {
    /// Counts of rows by status: (met, not met, not reported).
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |s| self.rows.iter().filter(|r| r.status == s).count();
        (
            n(RowStatus::Met),
            n(RowStatus::NotMet),
            n(RowStatus::NotReported),
        )
    }

    /// The row of (district, year, indicator), if any.
    pub fn row(&self, district: &str, year: i32, indicator: &str) -> Option<&ScorecardRow> {
        self.rows
            .iter()
            .find(|r| r.district == district && r.year == year && r.indicator == indicator)
    }
}

/// Targets due at one (district, year), by indicator index.
type DueTargets<'a> = BTreeMap<usize, Vec<(&'a TargetSet, &'a Target)>>;

fn severity(s: RowStatus) -> u8 {
    match s {
        RowStatus::NotMet => 4,
        RowStatus::NotReported => 3,
        RowStatus::Met => 2,
        RowStatus::Qualitative => 1,
        RowStatus::NoTarget => 0,
    }
}

struct Computed {
    value: Option<f64>,
    missing: Vec<String>,
    division_by_zero: bool,
    origins: Vec<Origin>,
}

fn compute(
    catalog: &Catalog,
    table: &QuantityTable,
    ind: usize,
    district: &str,
    year: i32,
) -> Computed {
    let indicator = &catalog.indicators[ind];
    let f = indicator.formula();
    let mut origins = Vec::new();
    for q in f.quantities() {
        if let Some(v) = table.get(district, year, q) {
            if !origins.contains(&v.origin) {
                origins.push(v.origin.clone());
            }
        }
    }
    let lookup = |q: &str| table.get(district, year, q).map(|v| v.value);
    match f.eval(&lookup) {
        Ok(v) if v.is_finite() => Computed {
            value: Some(v),
            missing: vec![],
            division_by_zero: false,
            origins,
        },
        Ok(_) | Err(Missing::DivisionByZero) => Computed {
            value: None,
            missing: vec![],
            division_by_zero: true,
            origins,
        },
        Err(Missing::Quantities { names }) => Computed {
            value: None,
            missing: names,
            division_by_zero: false,
            origins,
        },
    }
}

fn check(set: &TargetSet, t: &Target, value: Option<f64>) -> TargetCheck {
    let status = match (t.quantitative(), value) {
        (None, _) => RowStatus::Qualitative,
        (Some(_), None) => RowStatus::NotReported,
        (Some((c, target)), Some(v)) if c.holds(v, target) => RowStatus::Met,
        (Some(_), Some(_)) => RowStatus::NotMet,
    };
    TargetCheck {
        set: set.id.clone(),
        set_title: set.title.clone(),
        document: set.document.clone(),
        target: t.id.clone(),
        comparator: t.comparator,
        value: t.value,
        qualitative: t.qualitative.clone(),
        section: t.section.clone(),
        quote: t.quote.clone(),
        confidence: t.confidence,
        interpretation: t.interpretation.clone(),
        status,
    }
}

/// Computes the scorecard of `table` (model, monitoring and statistics values already merged)
/// against `sets`.
///
/// Rows: every (district, year, indicator) that has a target in a set, or whose value could be
/// computed. A row whose quantities are not all reported has no value and the status "not
/// reported", whatever its target. Targets for a district of which nothing at all was reported
/// go to `unmatched_district_targets`; targets with no indicator to `other_targets`.
pub fn scorecard(
    catalog: &Catalog,
    table: &QuantityTable,
    sets: &[TargetSet],
    options: &ScorecardOptions,
) -> Scorecard {
    let keep = |d: &str| options.only_district.as_deref().is_none_or(|o| o == d);
    let baseline_year = options
        .baseline_year
        .or_else(|| sets.iter().find_map(|s| s.baseline_year));
    // (district, year) → indicator index → targets.
    let mut due: BTreeMap<(String, i32), DueTargets> = BTreeMap::new();
    let mut other_targets = Vec::new();
    let mut unmatched = Vec::new();
    let reported: BTreeSet<&str> = table.iter().map(|(d, _, _, _)| d).collect();
    for set in sets {
        for t in &set.targets {
            let Some(ind) = t.indicator.as_deref() else {
                other_targets.push(OtherTarget {
                    set: set.id.clone(),
                    target: t.clone(),
                });
                continue;
            };
            let Some(i) = catalog.indicators.iter().position(|x| x.id == ind) else {
                continue;
            };
            if t.district != WHOLE_REGION && !reported.contains(t.district.as_str()) {
                if keep(&t.district) {
                    unmatched.push(OtherTarget {
                        set: set.id.clone(),
                        target: t.clone(),
                    });
                }
                continue;
            }
            if keep(&t.district) {
                due.entry((t.district.clone(), t.year))
                    .or_default()
                    .entry(i)
                    .or_default()
                    .push((set, t));
            }
        }
    }
    let mut keys: BTreeSet<(String, i32)> =
        table.keys().into_iter().filter(|(d, _)| keep(d)).collect();
    keys.extend(due.keys().cloned());
    let name_of = |d: &str| -> Text {
        if let Some(n) = options.district_names.get(d) {
            return n.clone();
        }
        if d == WHOLE_REGION {
            return catalog
                .labels
                .get("whole_region")
                .cloned()
                .unwrap_or_else(|| Text::both("—"));
        }
        sets.iter()
            .flat_map(|s| &s.targets)
            .find(|t| t.district == d)
            .and_then(|t| t.district_name.clone())
            .unwrap_or_else(|| Text::both(d))
    };
    let mut rows = Vec::new();
    for (district, year) in &keys {
        let targets_here = due.get(&(district.clone(), *year));
        for (i, indicator) in catalog.indicators.iter().enumerate() {
            let ts = targets_here.and_then(|m| m.get(&i));
            let c = compute(catalog, table, i, district, *year);
            // Without a target, a row is shown only with a value ("not reported" is news only
            // where a plan expects a figure).
            if ts.is_none() && c.value.is_none() {
                continue;
            }
            let targets: Vec<TargetCheck> = ts
                .map(|v| v.iter().map(|(s, t)| check(s, t, c.value)).collect())
                .unwrap_or_default();
            let status = targets
                .iter()
                .map(|t| t.status)
                .max_by_key(|s| severity(*s))
                .unwrap_or(RowStatus::NoTarget);
            let baseline = baseline_year.and_then(|by| {
                if by == *year {
                    return None;
                }
                if let Some(v) = compute(catalog, table, i, district, by).value {
                    return Some(Baseline {
                        year: by,
                        value: v,
                        stated: false,
                        comparator: None,
                    });
                }
                sets.iter()
                    .flat_map(|s| &s.baselines)
                    .find(|b| {
                        b.indicator == indicator.id && b.district == *district && b.year == by
                    })
                    .map(|b| Baseline {
                        year: by,
                        value: b.value,
                        stated: true,
                        comparator: b.comparator,
                    })
            });
            let trend = match (&baseline, c.value) {
                (Some(b), Some(v)) => {
                    let change = v - b.value;
                    let tol = 1e-9 * b.value.abs().max(1.0);
                    let direction = if change.abs() <= tol {
                        Direction::Unchanged
                    } else if (change > 0.0) == (indicator.better == Better::Higher) {
                        Direction::Improving
                    } else {
                        Direction::Worsening
                    };
                    Some(Trend { change, direction })
                }
                _ => None,
            };
            let unit_text = Text {
                zh: catalog
                    .unit_text(&indicator.unit, crate::Lang::Zh)
                    .to_string(),
                en: catalog
                    .unit_text(&indicator.unit, crate::Lang::En)
                    .to_string(),
            };
            rows.push(ScorecardRow {
                district: district.clone(),
                district_name: name_of(district),
                year: *year,
                indicator: indicator.id.clone(),
                name: indicator.name.clone(),
                unit: indicator.unit.clone(),
                unit_text,
                value: c.value,
                missing: c.missing,
                division_by_zero: c.division_by_zero,
                origins: c.origins,
                targets,
                status,
                baseline,
                trend,
            });
        }
    }
    let mut districts: Vec<String> = keys.iter().map(|(d, _)| d.clone()).collect();
    districts.dedup();
    let years: BTreeSet<i32> = keys.iter().map(|(_, y)| *y).collect();
    Scorecard {
        model: options.model.clone(),
        sets: sets
            .iter()
            .map(|s| (s.id.clone(), s.title.clone()))
            .collect(),
        baseline_year,
        districts,
        years: years.into_iter().collect(),
        rows,
        other_targets,
        unmatched_district_targets: unmatched,
    }
}
