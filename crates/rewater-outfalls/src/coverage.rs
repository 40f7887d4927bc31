//! Coverage figures by district and by river (water body): how many outfalls are surveyed
//! (有口皆查), monitored in the year (常态有水排口年度监测覆盖, "有水皆测"), traced to a
//! discharger or channel (溯源), and of the illegal ones how many are rectified (销号) and
//! rectified on time. Plain counts with their denominators, for the indicators crate.

use crate::rectify::{Rectification, State};
use crate::{Compliance, Ledger};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Counts of one group (a district or a river).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Coverage {
    pub outfalls: usize,
    pub surveyed: usize,
    pub monitored: usize,
    pub traced: usize,
    pub illegal: usize,
    pub rectified: usize,
    pub rectified_on_time: usize,
    /// Open records past their deadline (dynamic zero when 0).
    pub overdue: usize,
}

impl Coverage {
    /// A share as a fraction (None when the denominator is 0).
    pub fn share(num: usize, den: usize) -> Option<f64> {
        (den > 0).then(|| num as f64 / den as f64)
    }
}

/// Coverage by district and by water body for a year (monitoring and surveys dated in it
/// count; a survey of an earlier year still counts as surveyed).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CoverageReport {
    pub year: i32,
    pub by_district: BTreeMap<String, Coverage>,
    pub by_water_body: BTreeMap<String, Coverage>,
    pub total: Coverage,
}

/// Computes coverage. `today` decides what is overdue; `offset_s` is the zone's offset for
/// on-time sign-offs.
pub fn coverage(
    ledger: &Ledger,
    records: &[Rectification],
    year: i32,
    today: rewater_time::Date,
    offset_s: i64,
) -> CoverageReport {
    let wb_of: HashMap<&str, &str> = ledger
        .reaches
        .iter()
        .map(|r| (r.id.as_str(), r.water_body.as_str()))
        .collect();
    let linked: HashSet<&str> = ledger.links.iter().map(|l| l.to.as_str()).collect();
    let mut recs: HashMap<&str, Vec<&Rectification>> = HashMap::new();
    for r in records {
        recs.entry(r.outfall.as_str()).or_default().push(r);
    }
    let mut rep = CoverageReport {
        year,
        ..Default::default()
    };
    for o in &ledger.outfalls {
        let mut c = Coverage {
            outfalls: 1,
            ..Default::default()
        };
        c.surveyed = usize::from(
            o.survey_date.is_some_and(|d| d.ymd().0 <= year) && o.survey_level.is_some(),
        );
        c.monitored = usize::from(o.monitored_on.is_some_and(|d| d.ymd().0 == year));
        c.traced = usize::from(linked.contains(o.code.as_str()));
        let rs = recs.get(o.code.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        c.illegal = usize::from(o.compliance == Compliance::Illegal || !rs.is_empty());
        if c.illegal == 1 {
            let all_signed = !rs.is_empty() && rs.iter().all(|r| r.state() == State::SignedOff);
            c.rectified = usize::from(all_signed);
            c.rectified_on_time =
                usize::from(all_signed && rs.iter().all(|r| r.on_time(offset_s) == Some(true)));
            c.overdue = rs.iter().filter(|r| r.overdue(today)).count();
        }
        let wb = wb_of.get(o.reach.as_str()).copied().unwrap_or("");
        for g in [
            rep.by_district.entry(o.district.clone()).or_default(),
            rep.by_water_body.entry(wb.to_string()).or_default(),
        ] {
            add(g, &c);
        }
        add(&mut rep.total, &c);
    }
    rep
}

fn add(into: &mut Coverage, c: &Coverage) {
    into.outfalls += c.outfalls;
    into.surveyed += c.surveyed;
    into.monitored += c.monitored;
    into.traced += c.traced;
    into.illegal += c.illegal;
    into.rectified += c.rectified;
    into.rectified_on_time += c.rectified_on_time;
    into.overdue += c.overdue;
}

/// The coverage of a year as the indicators' quantities (`outfalls_count`,
/// `outfalls_surveyed_count`, …) by district; the whole region is left to the scorecard's
/// sum of districts. A district with no outfall gives nothing (not reported, not 0 %).
pub fn quantities(rep: &CoverageReport) -> rewater_indicators::QuantityTable {
    let mut t = rewater_indicators::QuantityTable::new();
    for (district, c) in rep.by_district.iter().filter(|(_, c)| c.outfalls > 0) {
        for (q, v) in [
            ("outfalls_count", c.outfalls),
            ("outfalls_surveyed_count", c.surveyed),
            ("outfalls_monitored_count", c.monitored),
            ("outfalls_traced_count", c.traced),
            ("outfalls_illegal_count", c.illegal),
            ("outfalls_rectified_count", c.rectified),
            ("outfalls_rectified_on_time_count", c.rectified_on_time),
            ("outfalls_overdue_count", c.overdue),
        ] {
            t.set(
                district,
                rep.year,
                q,
                v as f64,
                rewater_indicators::table::Origin::Ledger,
            );
        }
    }
    t
}
