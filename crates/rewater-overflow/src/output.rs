//! A run's results as files and text: `overflow.json`, `events.csv`, `annual.csv`,
//! `outlets.csv` and `report.html` ([`crate::report`]) in an output directory, and the
//! summary for the terminal.

use crate::report::{fill_template, html, Lang};
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

/// The terminal summary's lines: key, English (also the default, as it always read), 中文.
pub const SUMMARY: &[(&str, &str, &str)] = &[
    ("period", "{system} — {start} to {end} ({years} years, step {step} s)", "{system} — {start} 至 {end}（{years} 年，步长 {step} 秒）"),
    ("rain", "rain {rain} mm/yr, {events} events (inter-event {dry} h, gage {gage})", "降雨 {rain} mm/年，{events} 场（场次间隔 {dry} 小时，雨量计 {gage}）"),
    ("overflow", "overflow {m3} m³/yr, {hours} h/yr, {events} events/yr (max {max} in a year), capture {capture} %", "溢流 {m3} m³/年，{hours} h/年，{events} 次/年（单年最多 {max} 次），截流率 {capture} %"),
    ("thresholds", "largest event without overflow {largest} mm; smallest event with overflow {smallest} mm", "不溢流最大场次 {largest} mm；溢流最小场次 {smallest} mm"),
    ("outlet", "  outlet {name} → {river}: {m3} m³/yr, {events} events/yr", "  排口 {name} → {river}：{m3} m³/年，{events} 次/年"),
    ("tank", "  tank {name}: {volume} m³, used in {used} events, full in {full}, emptying max {empty} h", "  调蓄池 {name}：{volume} m³，使用 {used} 场，蓄满 {full} 场，最长放空 {empty} h"),
    ("design", "  design formulas for {tank}: runoff control {runoff} m³ (D {depth} mm), pollution control {pollution} m³", "  {tank} 设计公式：径流控制 {runoff} m³（D {depth} mm），污染控制 {pollution} m³"),
    ("sized", "sized {tank}: {volume} m³ meets {goal} ({trials} trial runs; was {was} m³)", "{tank} 规模：{volume} m³ 满足 {goal}（试算 {trials} 次；原 {was} m³）"),
    ("note", "note: {note}", "说明：{note}"),
    ("written", "outputs in {dir}", "输出目录 {dir}"),
];

/// One summary line in `lang` (English unless Chinese alone is asked for).
fn line(key: &str, lang: Lang, values: &[(&str, String)]) -> String {
    let template = SUMMARY
        .iter()
        .find(|l| l.0 == key)
        .map(|l| if lang == Lang::Zh { l.2 } else { l.1 })
        .unwrap_or("?");
    let mut t = fill_template(template, values);
    t.push('\n');
    t
}

/// The line that says where the files went.
pub fn written_to(dir: &Path, lang: Lang) -> String {
    line("written", lang, &[("dir", dir.display().to_string())])
}

/// The summary printed on the terminal.
pub fn summary_text(o: &Outcome, lang: Lang) -> String {
    let (r, s) = (&o.report, &o.report.summary);
    let f0 = |v: f64| format!("{v:.0}");
    let f1 = |v: f64| format!("{v:.1}");
    let mut t = line(
        "period",
        lang,
        &[
            ("system", r.system.clone()),
            ("start", r.start.clone()),
            ("end", r.end.clone()),
            ("years", f1(r.years)),
            ("step", r.step_s.to_string()),
        ],
    );
    t += &line(
        "rain",
        lang,
        &[
            ("rain", f0(r.rain_mm_per_year)),
            ("events", s.rain_events.to_string()),
            ("dry", r.inter_event_h.to_string()),
            ("gage", r.event_gage.clone()),
        ],
    );
    t += &line(
        "overflow",
        lang,
        &[
            ("m3", f0(s.overflow_m3_per_year)),
            ("hours", f1(s.overflow_hours_per_year)),
            ("events", f1(s.overflow_events_per_year)),
            ("max", s.max_overflow_events_in_a_year.to_string()),
            ("capture", f1(s.capture_pct)),
        ],
    );
    t += &line(
        "thresholds",
        lang,
        &[
            ("largest", opt(s.largest_event_without_overflow_mm, 1)),
            ("smallest", opt(s.smallest_event_with_overflow_mm, 1)),
        ],
    );
    for x in &r.outlets {
        t += &line(
            "outlet",
            lang,
            &[
                ("name", x.name.clone()),
                ("river", x.river.clone()),
                ("m3", f0(x.m3_per_year)),
                ("events", f1(x.events_per_year)),
            ],
        );
    }
    for k in &r.tanks {
        t += &line(
            "tank",
            lang,
            &[
                ("name", k.name.clone()),
                ("volume", f0(k.volume_m3)),
                ("used", k.events_used.to_string()),
                ("full", k.events_full.to_string()),
                ("empty", opt(k.emptying_h_max, 1)),
            ],
        );
    }
    for d in &o.designs {
        t += &line(
            "design",
            lang,
            &[
                ("tank", d.tank.clone()),
                ("runoff", f0(d.runoff_control_m3)),
                ("depth", d.parameters.depth_mm.to_string()),
                ("pollution", opt(d.pollution_control_m3, 0)),
            ],
        );
    }
    if let Some(z) = &o.sizing {
        t += &line(
            "sized",
            lang,
            &[
                ("tank", z.tank.clone()),
                ("volume", f0(z.volume_m3)),
                ("goal", format!("{:?}", z.goal)),
                ("trials", z.trials.len().to_string()),
                ("was", f0(z.original_volume_m3)),
            ],
        );
    }
    for n in &r.notes {
        t += &line("note", lang, &[("note", n.clone())]);
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
