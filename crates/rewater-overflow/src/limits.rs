//! Bounds on what one input may ask of the machine. A case or SWMM file is hostile until
//! read: `END_DATE 12/31/9999` at a one-minute step once asked for 34 GB. Each bound is
//! checked where the value is parsed, so the error names the line or field, before
//! anything is allocated for it; `docs/overflow.md` lists them.
//!
//! What grows with the input, and the bound that holds it:
//! - the step grid: each gage's forcing holds 16 bytes a step ([`MAX_STEPS`],
//!   [`MAX_GAGE_STEPS`]);
//! - every subcatchment's runoff is kept (4 bytes a wet step) until it is routed
//!   ([`MAX_SUBCATCHMENT_STEPS`], also a bound on computing time);
//! - a rain record holds 16 bytes an interval from its first to its last value
//!   ([`MAX_RAIN_INTERVALS`]);
//! - the statistics keep a row per rain event with a value per overflow outlet and three
//!   per tank ([`MAX_EVENT_CELLS`]);
//! - all rain records together ([`MAX_RAIN_TOTAL`]);
//! - a sewer's delay line holds one value per step of its travel time ([`MAX_LAG_S`]);
//! - text files are read whole ([`MAX_TEXT_BYTES`]), and only regular files; a SWMM
//!   file's fields are kept as strings, some 40 bytes each ([`MAX_FIELDS`],
//!   [`MAX_LINE_BYTES`]; map sections are not kept).

use crate::network::System;
use crate::time::DAY_S;
use crate::OverflowError;
use std::io::Read;
use std::path::Path;

/// Longest simulated span: long rain records reach a century; this leaves room.
pub const MAX_HORIZON_YEARS: i64 = 200;
/// [`MAX_HORIZON_YEARS`] in seconds (366-day years).
pub const MAX_HORIZON_S: i64 = MAX_HORIZON_YEARS * 366 * DAY_S;
/// Most steps in a run: 200 years at 5 min, 47 years at 1 min (400 MB of forcing a gage).
pub const MAX_STEPS: usize = 25_000_000;
/// Dynamic-wave steps at ROUTING_STEP over the span (8 years at 1 s): the computing time.
pub const MAX_DW_STEPS: f64 = 250_000_000.0;
/// Most gage × step cells of forcing (1.6 GB).
pub const MAX_GAGE_STEPS: usize = 100_000_000;
/// Most subcatchment × step cells: 1,000 subcatchments over 38 years at 5 min.
pub const MAX_SUBCATCHMENT_STEPS: u64 = 4_000_000_000;
/// Most intervals in one rain record, from its first to its last value.
pub const MAX_RAIN_INTERVALS: usize = 25_000_000;
/// Most intervals of all rain records of a system together (1.6 GB).
pub const MAX_RAIN_TOTAL: usize = 100_000_000;
/// Most event × (outlet + 3 × tank + 8) cells of the event statistics (≈ 1 GB at most).
pub const MAX_EVENT_CELLS: u64 = 50_000_000;
/// Longest travel time (lag or reservoir constant) of one sewer or catchment: 10 days.
pub const MAX_LAG_S: f64 = 10.0 * DAY_S as f64;
/// Longest line of a SWMM input or time-series file (SWMM 5 reads at most 1,024 characters: MAXLINE in its `consts.h`).
pub const MAX_LINE_BYTES: usize = 64 << 10;
/// Most fields (tokens) in one SWMM input or time-series file (about 700 MB at most).
pub const MAX_FIELDS: usize = 16_000_000;
/// Largest text file read (case, SWMM input, rain, time series): 256 MiB.
pub const MAX_TEXT_BYTES: u64 = 256 << 20;

/// The number of steps from `start_s` to `end_s`, or why that span is refused.
pub fn steps(start_s: i64, end_s: i64, step_s: i64) -> Result<usize, String> {
    if end_s <= start_s {
        return Err("the end is not after the start".into());
    }
    if end_s - start_s > MAX_HORIZON_S {
        return Err(format!(
            "the simulation spans {:.0} years; at most {MAX_HORIZON_YEARS} are allowed",
            (end_s - start_s) as f64 / (365.25 * DAY_S as f64)
        ));
    }
    let steps = ((end_s - start_s) / step_s.max(1)) as usize;
    if steps > MAX_STEPS {
        return Err(format!(
            "{steps} steps of {step_s} s; at most {MAX_STEPS} are allowed (use a longer step or a shorter span)"
        ));
    }
    Ok(steps)
}

/// Whole-system budgets (step grid, rain, event statistics), once the system is built;
/// again whenever its step or inter-event time changes.
pub fn check_system(system: &System) -> Result<(), String> {
    let steps = system.clock.steps;
    let gage_steps = steps.saturating_mul(system.gages.len());
    if gage_steps > MAX_GAGE_STEPS {
        return Err(format!(
            "{} rain gages × {steps} steps = {gage_steps} cells; at most {MAX_GAGE_STEPS} are allowed",
            system.gages.len()
        ));
    }
    let rain: usize = system.gages.iter().map(|g| g.rain.depth_m.len()).sum();
    if rain > MAX_RAIN_TOTAL {
        return Err(format!(
            "the rain records hold {rain} intervals together; at most {MAX_RAIN_TOTAL} are allowed"
        ));
    }
    let g = crate::results::event_gage(system);
    if let Some(gage) = system.gages.get(g) {
        let events = gage.rain.count_events(
            system.events.inter_event_s,
            system.clock.start_s,
            system.clock.time(steps),
        ) as u64;
        let per_event =
            8 + system.overflow_outfalls().len() as u64 + 3 * system.storages().count() as u64;
        if events.saturating_mul(per_event) > MAX_EVENT_CELLS {
            return Err(format!(
                "{events} rain events (inter-event time {} h) × {per_event} statistics each; at most {MAX_EVENT_CELLS} are allowed (a longer inter-event time gives fewer events)",
                system.events.inter_event_s as f64 / 3600.0
            ));
        }
    }
    let sc_steps = (steps as u64).saturating_mul(system.subcatchments.len() as u64);
    if sc_steps > MAX_SUBCATCHMENT_STEPS {
        return Err(format!(
            "{} subcatchments × {steps} steps = {sc_steps} cells; at most {MAX_SUBCATCHMENT_STEPS} are allowed",
            system.subcatchments.len()
        ));
    }
    Ok(())
}

/// The number of intervals of a rain record from `first_s` to `last_s`, or why refused.
pub fn rain_intervals(first_s: i64, last_s: i64, interval_s: i64) -> Result<usize, String> {
    if interval_s <= 0 {
        return Err("rain interval must be positive".into());
    }
    if last_s - first_s > MAX_HORIZON_S {
        return Err(format!(
            "the rain record spans {:.0} years; at most {MAX_HORIZON_YEARS} are allowed",
            (last_s - first_s) as f64 / (365.25 * DAY_S as f64)
        ));
    }
    let n = ((last_s - first_s) / interval_s + 1) as usize;
    if n > MAX_RAIN_INTERVALS {
        return Err(format!(
            "the rain record has {n} intervals of {interval_s} s; at most {MAX_RAIN_INTERVALS} are allowed"
        ));
    }
    Ok(n)
}

/// A travel time or reservoir constant, s: finite, not negative, at most [`MAX_LAG_S`].
pub fn check_lag(seconds: f64, what: &str) -> Result<(), String> {
    if !(0.0..=MAX_LAG_S).contains(&seconds) {
        return Err(format!(
            "{what} of {seconds} s is outside 0–{MAX_LAG_S} s (10 days)"
        ));
    }
    Ok(())
}

/// Read a text file of at most [`MAX_TEXT_BYTES`]; devices, pipes and directories are
/// refused (`/dev/zero` never ends).
pub fn read_text(path: &Path) -> Result<String, OverflowError> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| OverflowError::Io {
        path: name.clone(),
        source: e,
    };
    let refuse = |message: String| OverflowError::Input {
        file: name.clone(),
        line: 0,
        message,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(refuse("is not a regular file".into()));
    }
    if meta.len() > MAX_TEXT_BYTES {
        return Err(refuse(format!(
            "is {} bytes; at most {MAX_TEXT_BYTES} are read",
            meta.len()
        )));
    }
    let mut text = String::new();
    // The file may grow while it is read: never take more than the bound.
    file.take(MAX_TEXT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_TEXT_BYTES {
        return Err(refuse(format!("is over {MAX_TEXT_BYTES} bytes")));
    }
    Ok(text)
}
