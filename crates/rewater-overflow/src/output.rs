//! A run's results as files and text: `overflow.json`, `events.csv`, `annual.csv`,
//! `outlets.csv` and `report.html` ([`crate::report`]) in an output directory, and the
//! summary for the terminal.

use crate::report::{html, Lang};
use crate::study::Outcome;
use crate::{OverflowError, Report};
use std::fmt::Write as _;
use std::path::Path;

/// The full result as JSON: report, design volumes and sizing.
pub fn json(o: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "report": &o.report,
        "design": &o.designs,
        "sizing": o.sizing.as_ref().map(|s| serde_json::json!({
            "tank": s.tank,
            "goal": s.goal,
            "original_volume_m3": s.original_volume_m3,
            "volume_m3": s.volume_m3,
            "tolerance_m3": s.tolerance_m3,
            "trials": s.trials,
        })),
    })
}

/// Write the five output files into `dir` (created if needed).
pub fn write_dir(dir: &Path, o: &Outcome, lang: Lang) -> Result<(), OverflowError> {
    let io = |p: &Path, e: std::io::Error| OverflowError::Io {
        path: p.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let json_text =
        serde_json::to_string_pretty(&json(o)).map_err(|e| io(dir, std::io::Error::other(e)))?;
    for (name, text) in [
        ("overflow.json", json_text),
        ("events.csv", events_csv(&o.report)),
        ("annual.csv", annual_csv(&o.report)),
        ("outlets.csv", outlets_csv(&o.report)),
        ("report.html", html(o, lang)),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| io(&p, e))?;
    }
    Ok(())
}

/// A value with `digits` decimals, or a dash when there is none.
pub(crate) fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "—".into())
}

/// The summary printed on the terminal.
pub fn summary_text(o: &Outcome) -> String {
    let (r, designs, sizing) = (&o.report, &o.designs, o.sizing.as_ref());
    let s = &r.summary;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} — {} to {} ({:.1} years, step {} s)",
        r.system, r.start, r.end, r.years, r.step_s
    );
    let _ = writeln!(
        t,
        "rain {:.0} mm/yr, {} events (inter-event {} h, gage {})",
        r.rain_mm_per_year, s.rain_events, r.inter_event_h, r.event_gage
    );
    let _ = writeln!(
        t,
        "overflow {:.0} m³/yr, {:.1} h/yr, {:.1} events/yr (max {} in a year), capture {:.1} %",
        s.overflow_m3_per_year,
        s.overflow_hours_per_year,
        s.overflow_events_per_year,
        s.max_overflow_events_in_a_year,
        s.capture_pct
    );
    let _ = writeln!(
        t,
        "largest event without overflow {} mm; smallest event with overflow {} mm",
        opt(s.largest_event_without_overflow_mm, 1),
        opt(s.smallest_event_with_overflow_mm, 1)
    );
    for o in &r.outlets {
        let _ = writeln!(
            t,
            "  outlet {} → {}: {:.0} m³/yr, {:.1} events/yr",
            o.name, o.river, o.m3_per_year, o.events_per_year
        );
    }
    for k in &r.tanks {
        let _ = writeln!(
            t,
            "  tank {}: {:.0} m³, used in {} events, full in {}, emptying max {} h",
            k.name,
            k.volume_m3,
            k.events_used,
            k.events_full,
            opt(k.emptying_h_max, 1)
        );
    }
    for d in designs {
        let _ =
            writeln!(
            t,
            "  design formulas for {}: runoff control {:.0} m³ (D {} mm), pollution control {} m³",
            d.tank, d.runoff_control_m3, d.parameters.depth_mm, opt(d.pollution_control_m3, 0)
        );
    }
    if let Some(z) = sizing {
        let _ = writeln!(
            t,
            "sized {}: {:.0} m³ meets {:?} ({} trial runs; was {:.0} m³)",
            z.tank,
            z.volume_m3,
            z.goal,
            z.trials.len(),
            z.original_volume_m3
        );
    }
    for n in &r.notes {
        let _ = writeln!(t, "note: {n}");
    }
    t
}

/// One row per rain event: depth, peak, overflow per outlet and tank peaks.
pub fn events_csv(r: &Report) -> String {
    let mut t = String::from(
        "start,end,depth_mm,peak_mm_per_h,duration_h,overflowed,overflow_m3,overflow_hours",
    );
    for o in &r.outlets {
        let _ = write!(t, ",{}_m3", o.name);
    }
    for k in &r.tanks {
        let _ = write!(t, ",{}_peak_m3", k.name);
    }
    t.push('\n');
    for e in &r.events {
        let _ = write!(
            t,
            "{},{},{:.1},{:.1},{:.1},{},{:.1},{:.2}",
            e.start,
            e.end,
            e.depth_mm,
            e.peak_mm_per_h,
            e.duration_h,
            e.overflowed,
            e.overflow_m3,
            e.overflow_hours
        );
        for v in e.outlet_m3.iter().chain(&e.tank_peak_m3) {
            let _ = write!(t, ",{v:.1}");
        }
        t.push('\n');
    }
    t
}

/// One row per calendar year.
pub fn annual_csv(r: &Report) -> String {
    let mut t = String::from("year,rain_mm,rain_events,overflow_events,overflow_m3,overflow_hours,wet_weather_m3,capture_pct\n");
    for y in &r.annual {
        let _ = writeln!(
            t,
            "{},{:.1},{},{},{:.1},{:.2},{:.1},{:.2}",
            y.year,
            y.rain_mm,
            y.rain_events,
            y.overflow_events,
            y.overflow_m3,
            y.overflow_hours,
            y.wet_weather_m3,
            y.capture_pct
        );
    }
    t
}

/// One row per outlet and year.
pub fn outlets_csv(r: &Report) -> String {
    let mut t = String::from("outlet,river,year,volume_m3,hours,events\n");
    for o in &r.outlets {
        for y in &o.annual {
            let _ = writeln!(
                t,
                "{},{},{},{:.1},{:.2},{}",
                o.name, o.river, y.year, y.volume_m3, y.hours, y.events
            );
        }
    }
    t
}
