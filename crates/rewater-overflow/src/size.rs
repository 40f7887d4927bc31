//! Tank sizing (调蓄池规模): the smallest volume of one tank that meets a goal over the
//! whole rain record, by bisection. Runoff does not depend on the tank, so it is
//! computed once and only the routing is repeated.

use crate::network::{NodeKind, System};
use crate::results::{simulate_with, Report};
use crate::route::compute_runoff;
use crate::OverflowError;
use serde::Serialize;

/// What the tank must achieve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// No overflow in any event with less rain than this depth (mm), e.g. Beijing's
    /// 33 mm.
    NoOverflowBelowMm(f64),
    /// At most this many overflow events per year on average (US EPA presumption: 4).
    EventsPerYear(f64),
    /// At least this percent capture (US EPA presumption: 85).
    CapturePct(f64),
}

impl std::str::FromStr for Goal {
    type Err = String;
    /// `depth:33`, `events:4` or `capture:85`.
    fn from_str(s: &str) -> Result<Goal, String> {
        let (kind, value) = s
            .split_once(':')
            .ok_or_else(|| format!("goal '{s}' should read depth:MM, events:N or capture:PCT"))?;
        let v: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("goal value '{value}' is not a number"))?;
        if !v.is_finite() || v < 0.0 {
            return Err(format!("goal value {v} must be zero or more"));
        }
        match kind.trim() {
            "depth" => Ok(Goal::NoOverflowBelowMm(v)),
            "events" => Ok(Goal::EventsPerYear(v)),
            "capture" if v <= 100.0 => Ok(Goal::CapturePct(v)),
            "capture" => Err("capture is a percentage up to 100".into()),
            other => Err(format!(
                "goal kind '{other}' is not depth, events or capture"
            )),
        }
    }
}

impl Goal {
    /// Whether a run meets the goal.
    pub fn met_by(&self, report: &Report) -> bool {
        match *self {
            Goal::NoOverflowBelowMm(mm) => !report
                .events
                .iter()
                .any(|e| e.overflowed && e.depth_mm < mm),
            Goal::EventsPerYear(n) => report.summary.overflow_events_per_year <= n + 1e-9,
            Goal::CapturePct(p) => report.summary.capture_pct >= p - 1e-9,
        }
    }
}

/// One trial volume.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    pub volume_m3: f64,
    pub met: bool,
    pub overflow_events_per_year: f64,
    pub capture_pct: f64,
    pub smallest_event_with_overflow_mm: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sizing {
    pub tank: String,
    pub goal: Goal,
    pub original_volume_m3: f64,
    /// Smallest volume found that meets the goal (within the tolerance).
    pub volume_m3: f64,
    pub tolerance_m3: f64,
    pub trials: Vec<Trial>,
    /// The run at `volume_m3`.
    pub report: Report,
}

/// A copy of the system with one tank's usable volume ([`System::tank_capacity`]) set;
/// areas are scaled, depths kept.
pub fn with_tank_volume(system: &System, tank: usize, volume_m3: f64) -> System {
    let mut s = system.clone();
    let capacity = system.tank_capacity(tank);
    if let NodeKind::Storage(st) = &mut s.nodes[tank].kind {
        if capacity > 0.0 {
            st.scale(volume_m3.max(1e-6) / capacity);
        }
    }
    s
}

/// Find a tank by name: a storage node, or `<name>.tank` (a native regulator's tank).
pub fn find_tank(system: &System, name: &str) -> Result<usize, OverflowError> {
    let is_storage = |i: &usize| matches!(system.nodes[*i].kind, NodeKind::Storage(_));
    system
        .node_index(name)
        .filter(is_storage)
        .or_else(|| {
            system
                .node_index(&format!("{name}.tank"))
                .filter(is_storage)
        })
        .ok_or_else(|| {
            let names: Vec<&str> = system
                .storages()
                .map(|(i, _)| system.nodes[i].name.as_str())
                .collect();
            OverflowError::Case {
                file: system.name.clone(),
                message: format!("'{name}' is not a tank; tanks: {}", names.join(", ")),
            }
        })
}

/// Bisection for the smallest tank volume meeting `goal`.
pub fn size_tank(system: &System, tank_name: &str, goal: Goal) -> Result<Sizing, OverflowError> {
    let tank = find_tank(system, tank_name)?;
    let original = system.tank_capacity(tank);
    let runoff = compute_runoff(system);
    let mut trials = Vec::new();
    let run = |v: f64, trials: &mut Vec<Trial>| -> Report {
        let report = simulate_with(&with_tank_volume(system, tank, v), &runoff);
        trials.push(Trial {
            volume_m3: v,
            met: goal.met_by(&report),
            overflow_events_per_year: report.summary.overflow_events_per_year,
            capture_pct: report.summary.capture_pct,
            smallest_event_with_overflow_mm: report.summary.smallest_event_with_overflow_mm,
        });
        report
    };
    // Nothing needed?
    let r0 = run(0.0, &mut trials);
    if goal.met_by(&r0) {
        return Ok(Sizing {
            tank: system.nodes[tank].name.clone(),
            goal,
            original_volume_m3: original,
            volume_m3: 0.0,
            tolerance_m3: 0.0,
            trials,
            report: r0,
        });
    }
    // Grow until met.
    let mut lo = 0.0;
    let mut hi = original.max(100.0);
    let mut best = loop {
        let r = run(hi, &mut trials);
        if goal.met_by(&r) {
            break r;
        }
        lo = hi;
        hi *= 2.0;
        if hi > 1e9 {
            let over: Vec<String> = r
                .outlets
                .iter()
                .filter(|o| o.total_m3 > 0.0)
                .map(|o| o.name.clone())
                .collect();
            return Err(OverflowError::Case {
                file: system.name.clone(),
                message: format!(
                    "no volume of '{}' up to 1e9 m³ meets the goal; overflow remains at {}",
                    system.nodes[tank].name,
                    over.join(", ")
                ),
            });
        }
    };
    let tolerance = (hi * 0.002).max(1.0);
    while hi - lo > tolerance {
        let mid = 0.5 * (lo + hi);
        let r = run(mid, &mut trials);
        if goal.met_by(&r) {
            hi = mid;
            best = r;
        } else {
            lo = mid;
        }
    }
    Ok(Sizing {
        tank: system.nodes[tank].name.clone(),
        goal,
        original_volume_m3: original,
        volume_m3: hi,
        tolerance_m3: tolerance,
        trials,
        report: best,
    })
}
