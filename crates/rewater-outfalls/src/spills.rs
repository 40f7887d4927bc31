//! Spill-event counting for overflow outlets (溢流口), England's "12/24" rule.
//!
//! Source: the Environment Agency's event duration monitoring (EDM) storm-overflow annual
//! returns count spills by the 12/24 block method; it is offered as "UK 12/24 block spill
//! counting" in Autodesk InfoWorks ICM's statistics
//! (https://help.autodesk.com/cloudhelp/2027/ENU/ICM-Help/files/GUID-5BB2DE60-D4B8-465A-8883-9C942B791037.htm)
//! and implemented as an Excel-column translation in public EDM analysis code (searched
//! 2026-12-01). Confidence: medium (the EA guidance itself was not read here). The rule:
//! the first discharge opens a 12-hour block, counted as one spill; each following 24-hour
//! block that contains any discharge counts one more; a discharge that starts more than
//! 24 hours after the end of the last counted block starts a new 12-hour block. Discharges
//! of zero duration are not counted.

use serde::{Deserialize, Serialize};

/// One recorded discharge (start and end in seconds, any consistent clock).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Discharge {
    pub start_s: i64,
    pub end_s: i64,
}

/// The counted result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpillCount {
    /// Spills by the 12/24 rule.
    pub spills: u32,
    /// Separate physical discharges counted (positive duration).
    pub discharges: u32,
    /// Total duration of discharge (hours), overlaps merged.
    pub duration_h: f64,
    /// The blocks counted: (start, end) seconds.
    pub blocks: Vec<(i64, i64)>,
}

const H12: i64 = 12 * 3600;
const H24: i64 = 24 * 3600;

/// Counts spills by the 12/24 rule. Discharges may come in any order; overlapping ones are
/// merged first. A discharge ending before it starts is ignored with the zero-length ones.
pub fn count_12_24(discharges: &[Discharge]) -> SpillCount {
    let mut d: Vec<Discharge> = discharges
        .iter()
        .copied()
        .filter(|x| x.end_s > x.start_s)
        .collect();
    d.sort_by_key(|x| x.start_s);
    let mut merged: Vec<Discharge> = Vec::new();
    for x in d {
        match merged.last_mut() {
            Some(l) if x.start_s <= l.end_s => l.end_s = l.end_s.max(x.end_s),
            _ => merged.push(x),
        }
    }
    let mut blocks: Vec<(i64, i64)> = Vec::new();
    for x in &merged {
        let block_end = blocks.last().map(|b| b.1);
        match block_end {
            Some(e) if x.start_s <= e + H24 => {
                if x.start_s >= e {
                    blocks.push((e, e + H24));
                }
            }
            _ => blocks.push((x.start_s, x.start_s + H12)),
        }
        while let Some(&(_, e)) = blocks.last() {
            if x.end_s <= e {
                break;
            }
            blocks.push((e, e + H24));
        }
    }
    SpillCount {
        spills: blocks.len() as u32,
        discharges: merged.len() as u32,
        duration_h: merged
            .iter()
            .map(|x| (x.end_s - x.start_s) as f64 / 3600.0)
            .sum(),
        blocks,
    }
}

/// One rain event of a `rewater-overflow` run as seen from one outlet: the event's start
/// (seconds), its overflow hours and the outlet's volume (`EventReport::start_s`,
/// `overflow_hours`, `outlet_m3[i]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutletEvent {
    pub start_s: i64,
    pub overflow_hours: f64,
    pub outlet_m3: f64,
}

/// Discharges of one overflow outlet from a simulation's events, for [`count_12_24`]. An
/// approximation: the report gives each event's overflow hours for the whole system, not per
/// outlet, so an outlet that spilled in an event is taken to spill from the event's start
/// for those hours.
pub fn discharges_from_events(events: &[OutletEvent]) -> Vec<Discharge> {
    events
        .iter()
        .filter(|e| e.outlet_m3 > 0.0 && e.overflow_hours > 0.0)
        .map(|e| Discharge {
            start_s: e.start_s,
            end_s: e.start_s + (e.overflow_hours * 3600.0).round() as i64,
        })
        .collect()
}

/// One outfall's spills in one calendar year, counted by the 12/24 rule, with where the
/// discharges came from (a simulation is an estimate; event-duration monitoring a measurement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpillYear {
    pub outfall: String,
    pub district: String,
    pub year: i32,
    pub spills: u32,
    pub discharges: u32,
    pub duration_h: f64,
    /// Total discharged volume (m³), when known.
    pub volume_m3: Option<f64>,
    pub basis: crate::Basis,
    /// What the discharges came from (a case file and outlet, a logger).
    pub source: String,
}

/// A discharge with its volume (m³), as an overflow simulation reports an outlet's spells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spell {
    pub start_s: i64,
    pub end_s: i64,
    pub volume_m3: f64,
}

/// Spill years of the ledger's outfalls from simulated overflow outlets: each outfall whose
/// `overflow_outlet` names one of `outlets` (outlet name → its spells, wall seconds) gets
/// one [`SpillYear`] per calendar year of `years` (a year without discharge counts 0, so a
/// quiet year is recorded too). Discharges belong to the year they start in. Returns the
/// outlets no outfall names, for the caller to report.
pub fn from_overflow(
    ledger: &crate::Ledger,
    outlets: &[(String, Vec<Spell>)],
    years: std::ops::RangeInclusive<i32>,
    source: &str,
) -> (Vec<SpillYear>, Vec<String>) {
    let mut out = Vec::new();
    let mut unmatched = Vec::new();
    for (name, spells) in outlets {
        let fed: Vec<&crate::Outfall> = ledger
            .outfalls
            .iter()
            .filter(|o| o.overflow_outlet.as_deref() == Some(name.as_str()))
            .collect();
        if fed.is_empty() {
            unmatched.push(name.clone());
            continue;
        }
        for year in years.clone() {
            let of_year: Vec<&Spell> = spells
                .iter()
                .filter(|x| rewater_time::Date::from_wall_seconds(x.start_s).ymd().0 == year)
                .collect();
            let d: Vec<Discharge> = of_year
                .iter()
                .map(|x| Discharge {
                    start_s: x.start_s,
                    end_s: x.end_s,
                })
                .collect();
            let c = count_12_24(&d);
            for o in &fed {
                out.push(SpillYear {
                    outfall: o.code.clone(),
                    district: o.district.clone(),
                    year,
                    spills: c.spills,
                    discharges: c.discharges,
                    duration_h: c.duration_h,
                    volume_m3: Some(of_year.iter().map(|x| x.volume_m3).sum()),
                    basis: crate::Basis::Estimated,
                    source: format!("{source}: outlet {name}"),
                });
            }
        }
    }
    (out, unmatched)
}

/// Spill years from a `rewater-overflow` run: every outlet's spells, over the run's calendar
/// years (see [`from_overflow`]).
pub fn from_overflow_report(
    ledger: &crate::Ledger,
    report: &rewater_overflow::results::Report,
    source: &str,
) -> (Vec<SpillYear>, Vec<String>) {
    let outlets: Vec<(String, Vec<Spell>)> = report
        .outlets
        .iter()
        .map(|o| {
            let spells = o
                .spells
                .iter()
                .map(|x| Spell {
                    start_s: x.start_s,
                    end_s: x.end_s,
                    volume_m3: x.volume_m3,
                })
                .collect();
            (o.name.clone(), spells)
        })
        .collect();
    let first = report.annual.iter().map(|y| y.year).min();
    let last = report.annual.iter().map(|y| y.year).max();
    match first.zip(last) {
        Some((a, b)) => from_overflow(ledger, &outlets, a..=b, source),
        None => (Vec::new(), outlets.into_iter().map(|o| o.0).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_events_become_discharges_of_the_outlets_that_spilled() {
        let ev = [
            OutletEvent {
                start_s: 0,
                overflow_hours: 2.0,
                outlet_m3: 100.0,
            },
            OutletEvent {
                start_s: 20 * 3600,
                overflow_hours: 1.0,
                outlet_m3: 0.0,
            },
            OutletEvent {
                start_s: 30 * 3600,
                overflow_hours: 13.0,
                outlet_m3: 5.0,
            },
        ];
        let d = discharges_from_events(&ev);
        assert_eq!(
            d,
            vec![
                Discharge {
                    start_s: 0,
                    end_s: 7200
                },
                Discharge {
                    start_s: 30 * 3600,
                    end_s: 43 * 3600
                }
            ]
        );
        // 0–12 h block; 30 h is within the 12–36 block (2); 43 h ends in the 36–60 block (3).
        assert_eq!(count_12_24(&d).spills, 3);
    }

    fn h(a: f64, b: f64) -> Discharge {
        Discharge {
            start_s: (a * 3600.0) as i64,
            end_s: (b * 3600.0) as i64,
        }
    }

    #[test]
    fn one_short_discharge_is_one_spill() {
        let c = count_12_24(&[h(0.0, 1.0)]);
        assert_eq!((c.spills, c.discharges, c.duration_h), (1, 1, 1.0));
    }

    #[test]
    fn discharges_within_the_first_12_hours_are_one_spill() {
        assert_eq!(
            count_12_24(&[h(0.0, 1.0), h(5.0, 6.0), h(11.0, 12.0)]).spills,
            1
        );
    }

    #[test]
    fn each_following_24_hour_block_with_discharge_adds_one() {
        // 0–12 block 1; 12–36 block 2 (discharge at 20 h); 36–60 block 3 (at 40 h).
        assert_eq!(
            count_12_24(&[h(0.0, 1.0), h(20.0, 21.0), h(40.0, 41.0)]).spills,
            3
        );
        // A discharge just after the first block: block 2.
        assert_eq!(count_12_24(&[h(0.0, 1.0), h(12.5, 13.0)]).spills, 2);
    }

    #[test]
    fn a_long_discharge_counts_its_blocks() {
        // 50 hours: 12 h + 24 h + 24 h (ends inside the third block) = 3.
        let c = count_12_24(&[h(0.0, 50.0)]);
        assert_eq!(c.spills, 3);
        assert_eq!(
            c.blocks,
            vec![
                (0, 12 * 3600),
                (12 * 3600, 36 * 3600),
                (36 * 3600, 60 * 3600)
            ]
        );
        // Exactly 12 hours: one block.
        assert_eq!(count_12_24(&[h(0.0, 12.0)]).spills, 1);
        assert_eq!(count_12_24(&[h(0.0, 12.01)]).spills, 2);
    }

    #[test]
    fn a_quiet_24_hour_block_ends_the_event() {
        // Block 0–12 h; next discharge at 37 h is more than 24 h after 12 h: new event.
        let c = count_12_24(&[h(0.0, 1.0), h(37.0, 38.0)]);
        assert_eq!(c.spills, 2);
        assert_eq!(c.blocks[1], (37 * 3600, 49 * 3600));
        // At 30 h (within the 12–36 block): the second block of the same event.
        assert_eq!(
            count_12_24(&[h(0.0, 1.0), h(30.0, 31.0)]).blocks[1],
            (12 * 3600, 36 * 3600)
        );
    }

    #[test]
    fn overlaps_order_and_empty_discharges_do_not_change_the_count() {
        let a = count_12_24(&[
            h(40.0, 41.0),
            h(0.0, 2.0),
            h(1.0, 3.0),
            h(20.0, 20.0),
            h(5.0, 4.0),
        ]);
        assert_eq!((a.spills, a.discharges), (2, 2));
        assert_eq!(a.duration_h, 4.0);
        assert_eq!(count_12_24(&[]).spills, 0);
    }

    #[test]
    fn simulated_spells_become_spill_years_of_the_outfalls_that_name_the_outlet() {
        let mut l = crate::Ledger::default();
        let o = |code: &str, outlet: Option<&str>| crate::Outfall {
            code: code.into(),
            name: String::new(),
            class: "undetermined".into(),
            district: "south".into(),
            location: crate::geo::Location {
                lon: 116.0,
                lat: 40.0,
                datum: crate::geo::Datum::Wgs84,
            },
            reach: "C".into(),
            chainage_m: 0.0,
            approval: None,
            responsible: String::new(),
            survey_level: None,
            survey_date: None,
            evidence: vec![],
            compliance: crate::Compliance::Unknown,
            flow_m3_per_s: None,
            conc_mg_per_l: Default::default(),
            discharge_basis: crate::Basis::Estimated,
            monitored_on: None,
            site_mn: None,
            overflow_outlet: outlet.map(String::from),
            model_node: None,
        };
        l.outfalls = vec![o("A", Some("R1.overflow")), o("B", None)];
        // 2024-12-31 22:00 for 3 h (crosses the new year: counted in 2024, where it starts),
        // 2025-07-01 00:00 1 h and 2025-07-01 20:00 1 h (same event, second block).
        let t = |y: i32, m: u32, d: u32, h: i64| {
            rewater_time::Date::from_ymd(y, m, d)
                .unwrap()
                .wall_seconds()
                + h * 3600
        };
        let sp = |a: i64, hours: i64, v: f64| Spell {
            start_s: a,
            end_s: a + hours * 3600,
            volume_m3: v,
        };
        let outlets = vec![
            (
                "R1.overflow".to_string(),
                vec![
                    sp(t(2024, 12, 31, 22), 3, 100.0),
                    sp(t(2025, 7, 1, 0), 1, 10.0),
                    sp(t(2025, 7, 1, 20), 1, 5.0),
                ],
            ),
            ("R2.overflow".to_string(), vec![]),
        ];
        let (years, unmatched) = from_overflow(&l, &outlets, 2024..=2026, "case.toml");
        assert_eq!(unmatched, ["R2.overflow"]);
        let got: Vec<(i32, u32, u32, f64, Option<f64>)> = years
            .iter()
            .map(|y| (y.year, y.spills, y.discharges, y.duration_h, y.volume_m3))
            .collect();
        assert_eq!(
            got,
            vec![
                (2024, 1, 1, 3.0, Some(100.0)),
                (2025, 2, 2, 2.0, Some(15.0)),
                (2026, 0, 0, 0.0, Some(0.0)),
            ]
        );
        assert!(years
            .iter()
            .all(|y| y.outfall == "A" && y.district == "south"));
        assert_eq!(years[0].source, "case.toml: outlet R1.overflow");
        assert_eq!(years[0].basis, crate::Basis::Estimated);
    }
}
