//! `rewater overflow`: combined-sewer overflow runs and tank sizing, with JSON, CSV and
//! an HTML report.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use rewater_overflow::design::{design_volumes, DesignParameters, DesignVolumes};
use rewater_overflow::inp::ImportOptions;
use rewater_overflow::runoff::Clock;
use rewater_overflow::size::{size_tank, Goal, Sizing};
use rewater_overflow::{Report, System};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum OverflowCommand {
    /// Simulate a case (.toml, or an EPA SWMM 5 .inp) over its whole rain record.
    Run {
        case: PathBuf,
        #[command(flatten)]
        options: CaseOptions,
    },
    /// Find the smallest volume of a tank that meets a goal over the whole record.
    Size {
        case: PathBuf,
        /// The tank to size (a storage node, or a regulator with a tank).
        #[arg(long)]
        tank: Option<String>,
        /// depth:MM (no overflow for events under MM mm), events:N (at most N overflow
        /// events a year on average) or capture:PCT (at least PCT % captured).
        #[arg(long)]
        goal: Goal,
        #[command(flatten)]
        options: CaseOptions,
    },
}

#[derive(Args)]
pub struct CaseOptions {
    /// Write overflow.json, events.csv, annual.csv, outlets.csv and report.html here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the full JSON result instead of the summary.
    #[arg(long)]
    json: bool,
    /// Internal time step, seconds (default: the case's, or 60–300 s from a SWMM file).
    #[arg(long)]
    step_s: Option<i64>,
    /// Dry hours that separate rain events (default 6).
    #[arg(long)]
    inter_event_h: Option<f64>,
    /// SWMM files: an outfall that is the treatment plant (repeatable).
    #[arg(long)]
    plant: Vec<String>,
    /// SWMM files: an overflow outfall and its river, OUTFALL=RIVER (repeatable).
    #[arg(long)]
    river: Vec<String>,
    /// Design rain depth for the GB 51174 runoff-control volume, mm (default 33).
    #[arg(long)]
    design_depth_mm: Option<f64>,
    /// Interception ratio after the works, for the GB 50014 pollution-control volume.
    #[arg(long)]
    n_after: Option<f64>,
}

fn load(path: &Path, o: &CaseOptions) -> Result<(System, DesignParameters)> {
    let is_inp = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("inp"));
    let (mut system, mut design) = if is_inp {
        let rivers = o
            .river
            .iter()
            .map(|r| {
                r.split_once('=')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .with_context(|| format!("--river '{r}' should read OUTFALL=RIVER"))
            })
            .collect::<Result<Vec<_>>>()?;
        let options = ImportOptions {
            step_s: o.step_s,
            plant: o.plant.clone(),
            rivers,
            events: None,
        };
        (
            rewater_overflow::inp::load(path, &options).map_err(crate::input_err)?,
            DesignParameters::default(),
        )
    } else {
        if !o.plant.is_empty() || !o.river.is_empty() {
            bail!(
                "--plant and --river apply to SWMM files; a case file names its plant and rivers"
            );
        }
        let (mut s, d) =
            rewater_overflow::case::load_with_design(path).map_err(crate::input_err)?;
        if let Some(step) = o.step_s {
            if !(1..=3600).contains(&step) {
                bail!("--step-s {step} must be 1–3600");
            }
            let end = s.clock.time(s.clock.steps);
            s.clock = Clock {
                start_s: s.clock.start_s,
                step_s: step,
                steps: ((end - s.clock.start_s) / step) as usize,
            };
        }
        (s, d)
    };
    if let Some(h) = o.inter_event_h {
        if h.is_nan() || h <= 0.0 {
            bail!("--inter-event-h must be positive");
        }
        system.events.inter_event_s = (h * 3600.0) as i64;
    }
    if let Some(d) = o.design_depth_mm {
        design.depth_mm = d;
    }
    if o.n_after.is_some() {
        design.n_after = o.n_after;
    }
    Ok((system, design))
}

pub fn run(command: OverflowCommand) -> Result<()> {
    match command {
        OverflowCommand::Run { case, options } => {
            let (system, design) = load(&case, &options)?;
            let report = rewater_overflow::simulate(&system);
            let designs = design_volumes(&system, &design);
            emit(&options, &report, &designs, None)
        }
        OverflowCommand::Size {
            case,
            tank,
            goal,
            options,
        } => {
            let (system, design) = load(&case, &options)?;
            let tanks: Vec<String> = system
                .storages()
                .map(|(i, _)| system.nodes[i].name.clone())
                .collect();
            let tank = match (tank, tanks.as_slice()) {
                (Some(t), _) => t,
                (None, [only]) => only.clone(),
                (None, []) => bail!("the case has no tank to size"),
                (None, _) => bail!(
                    "the case has several tanks ({}); choose one with --tank",
                    tanks.join(", ")
                ),
            };
            let sizing = size_tank(&system, &tank, goal).map_err(crate::input_err)?;
            let sized = rewater_overflow::size::with_tank_volume(
                &system,
                rewater_overflow::size::find_tank(&system, &tank).map_err(crate::input_err)?,
                sizing.volume_m3,
            );
            let designs = design_volumes(&sized, &design);
            emit(&options, &sizing.report, &designs, Some(&sizing))
        }
    }
}

fn emit(
    o: &CaseOptions,
    report: &Report,
    designs: &[DesignVolumes],
    sizing: Option<&Sizing>,
) -> Result<()> {
    let json = serde_json::json!({
        "report": report,
        "design": designs,
        "sizing": sizing.map(|s| serde_json::json!({
            "tank": s.tank,
            "goal": s.goal,
            "original_volume_m3": s.original_volume_m3,
            "volume_m3": s.volume_m3,
            "tolerance_m3": s.tolerance_m3,
            "trials": s.trials,
        })),
    });
    if let Some(dir) = &o.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let write = |name: &str, text: String| -> Result<()> {
            let p = dir.join(name);
            std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
        };
        write("overflow.json", serde_json::to_string_pretty(&json)?)?;
        write("events.csv", events_csv(report))?;
        write("annual.csv", annual_csv(report))?;
        write("outlets.csv", outlets_csv(report))?;
        write("report.html", html(report, designs, sizing))?;
    }
    if o.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", summary_text(report, designs, sizing));
        if let Some(dir) = &o.out {
            println!("outputs in {}", dir.display());
        }
    }
    Ok(())
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "—".into())
}

fn summary_text(r: &Report, designs: &[DesignVolumes], sizing: Option<&Sizing>) -> String {
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

fn events_csv(r: &Report) -> String {
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

fn annual_csv(r: &Report) -> String {
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

fn outlets_csv(r: &Report) -> String {
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

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Events as an SVG scatter: rain depth against overflow volume.
fn events_svg(r: &Report, mark_mm: f64) -> String {
    let (w, h, left, bottom, top, right) = (720.0, 360.0, 70.0, 40.0, 20.0, 20.0);
    let max_x = r
        .events
        .iter()
        .map(|e| e.depth_mm)
        .fold(mark_mm * 1.2, f64::max)
        .max(1.0);
    let max_y = r
        .events
        .iter()
        .map(|e| e.overflow_m3)
        .fold(0.0, f64::max)
        .max(1.0);
    let sx = |x: f64| left + x / max_x * (w - left - right);
    let sy = |y: f64| h - bottom - y / max_y * (h - bottom - top);
    let mut s = format!(
        r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="events">"#
    );
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#333"/>"##,
        h - bottom,
        w - right,
        h - bottom
    );
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#333"/>"##,
        h - bottom
    );
    for k in 0..=5 {
        let x = max_x * k as f64 / 5.0;
        let y = max_y * k as f64 / 5.0;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle">{x:.0}</text>"#,
            sx(x),
            h - bottom + 15.0
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" font-size="11" text-anchor="end">{y:.0}</text>"#,
            left - 5.0,
            sy(y) + 4.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="12" text-anchor="middle">场次降雨量 event rain (mm)</text>"#,
        (left + w - right) / 2.0,
        h - 5.0
    );
    let _ = write!(
        s,
        r#"<text x="14" y="{}" font-size="12" transform="rotate(-90 14 {})" text-anchor="middle">溢流量 overflow (m³)</text>"#,
        h / 2.0,
        h / 2.0
    );
    let _ = write!(
        s,
        r##"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{1}" stroke="#888" stroke-dasharray="4 3"/><text x="{2:.1}" y="{3}" font-size="11">{mark_mm} mm</text>"##,
        sx(mark_mm),
        h - bottom,
        sx(mark_mm) + 3.0,
        top + 10.0
    );
    for e in &r.events {
        let colour = if e.overflowed { "#c0392b" } else { "#7f8c8d" };
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}" fill-opacity="0.75"><title>{} {:.1} mm, {:.0} m³</title></circle>"#,
            sx(e.depth_mm),
            sy(e.overflow_m3),
            esc(&e.start),
            e.depth_mm,
            e.overflow_m3
        );
    }
    s.push_str("</svg>");
    s
}

fn html(r: &Report, designs: &[DesignVolumes], sizing: Option<&Sizing>) -> String {
    let s = &r.summary;
    let mark = designs
        .first()
        .map(|d| d.parameters.depth_mm)
        .unwrap_or(33.0);
    let mut t = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>溢流分析 Overflow — {}</title>\
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{background:#f4f4f4}}td:first-child{{text-align:left}}</style></head><body>",
        esc(&r.system)
    );
    let _ = write!(t, "<h1>合流制溢流分析 Combined-sewer overflow</h1><p>{} — {} to {} ({:.1} years, step {} s, events split by {} dry hours on gage {})</p>", esc(&r.system), r.start, r.end, r.years, r.step_s, r.inter_event_h, esc(&r.event_gage));
    let _ = write!(
        t,
        "<table><tr><th>年均溢流量 overflow m³/yr</th><th>溢流时长 h/yr</th><th>溢流次数 events/yr</th><th>最多 max in a year</th><th>截流率 capture %</th><th>不溢流最大场次 largest no-overflow mm</th><th>溢流最小场次 smallest overflow mm</th></tr>\
<tr><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr></table>",
        s.overflow_m3_per_year, s.overflow_hours_per_year, s.overflow_events_per_year, s.max_overflow_events_in_a_year, s.capture_pct,
        opt(s.largest_event_without_overflow_mm, 1), opt(s.smallest_event_with_overflow_mm, 1)
    );
    if let Some(z) = sizing {
        let _ = write!(t, "<h2>调蓄池规模 Tank sizing</h2><p>{}: <b>{:.0} m³</b> meets {:?} (was {:.0} m³; {} trial runs, tolerance {:.0} m³)</p>", esc(&z.tank), z.volume_m3, z.goal, z.original_volume_m3, z.trials.len(), z.tolerance_m3);
    }
    t.push_str("<h2>场次溢流 Events: rain depth and overflow</h2>");
    t.push_str(&events_svg(r, mark));
    t.push_str("<h2>排口 Outlets</h2><table><tr><th>outlet</th><th>river 河道</th><th>m³/yr</th><th>h/yr</th><th>events/yr</th></tr>");
    for o in &r.outlets {
        let _ = write!(
            t,
            "<tr><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            esc(&o.name),
            esc(&o.river),
            o.m3_per_year,
            o.hours_per_year,
            o.events_per_year
        );
    }
    t.push_str("</table><h2>逐年 By year</h2><table><tr><th>year</th><th>rain mm</th><th>rain events</th><th>overflow events</th><th>overflow m³</th><th>hours</th><th>capture %</th></tr>");
    for y in &r.annual {
        let _ = write!(t, "<tr><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td></tr>", y.year, y.rain_mm, y.rain_events, y.overflow_events, y.overflow_m3, y.overflow_hours, y.capture_pct);
    }
    t.push_str("</table>");
    if !r.tanks.is_empty() {
        t.push_str("<h2>调蓄池 Tanks</h2><table><tr><th>tank</th><th>volume m³</th><th>events used</th><th>events full</th><th>emptying max h</th><th>emptying mean h</th><th>not empty at next event</th><th>GB 51174 runoff control m³</th><th>GB 50014 pollution control m³</th><th>formula emptying h</th></tr>");
        for k in &r.tanks {
            let d = designs.iter().find(|d| d.tank == k.name);
            let _ = write!(
                t,
                "<tr><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&k.name), k.volume_m3, k.events_used, k.events_full, opt(k.emptying_h_max, 1), opt(k.emptying_h_mean, 1), k.not_empty_at_next_event,
                opt(d.map(|d| d.runoff_control_m3), 0), opt(d.and_then(|d| d.pollution_control_m3), 0), opt(d.and_then(|d| d.emptying_time_h), 1)
            );
        }
        t.push_str("</table><p>Design formulas: V = 10·D·F·Ψ·β (runoff control), V = 3600·t<sub>i</sub>·(n − n<sub>0</sub>)·Q<sub>dr</sub>·β (pollution control), t<sub>o</sub> = V/(3600·Q′·η); GB 50014 §4.14, GB 51174-2017 (clause numbers unverified).</p>");
    }
    let b = &r.balance;
    let _ = write!(t, "<h2>水量平衡 Balance</h2><p>runoff {:.0} m³, dry-weather flow {:.0} m³, to treatment {:.0} m³, overflow {:.0} m³, flooding {:.0} m³, continuity error {:.4} %</p>", b.routing.runoff_m3, b.routing.dry_weather_m3, b.to_treatment_m3, b.overflow_m3, b.flooding_m3, b.routing_continuity_error_pct);
    if !r.notes.is_empty() {
        t.push_str("<h2>Notes</h2><ul>");
        for n in &r.notes {
            let _ = write!(t, "<li>{}</li>", esc(n));
        }
        t.push_str("</ul>");
    }
    t.push_str("</body></html>\n");
    t
}
