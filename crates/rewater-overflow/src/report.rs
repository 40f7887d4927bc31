//! The HTML report of a run (`report.html`): summary, sizing, an inline SVG chart of
//! event rain against overflow, outlets, years, tanks with the design-formula volumes,
//! the water balance and the importer's notes. Every visible text comes from [`LABELS`]
//! in Chinese, English or both (as the report has always been written).

use crate::output::opt;
use crate::study::Outcome;
use crate::Report;
use std::fmt::Write as _;

/// The language of the report's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Chinese and English side by side (the default).
    #[default]
    Both,
    Zh,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s.to_ascii_lowercase().as_str() {
            "zh-en" | "both" => Ok(Lang::Both),
            "zh" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            _ => Err(format!("language '{s}' is not zh, en or zh-en")),
        }
    }
}

/// Each text: key, both languages (the report as it has always read), 中文, English.
/// `{name}` marks a value filled in.
pub const LABELS: &[(&str, &str, &str, &str)] = &[
    ("html_lang", "zh-CN", "zh-CN", "en"),
    ("title", "溢流分析 Overflow", "溢流分析", "Overflow"),
    ("heading", "合流制溢流分析 Combined-sewer overflow", "合流制溢流分析", "Combined-sewer overflow"),
    (
        "period",
        "{system} — {start} to {end} ({years} years, step {step} s, events split by {dry} dry hours on gage {gage})",
        "{system} — {start} 至 {end}（{years} 年，步长 {step} 秒，以 {dry} 小时无雨划分场次，雨量计 {gage}）",
        "{system} — {start} to {end} ({years} years, step {step} s, events split by {dry} dry hours on gage {gage})",
    ),
    ("s_overflow", "年均溢流量 overflow m³/yr", "年均溢流量 m³/年", "overflow m³/yr"),
    ("s_hours", "溢流时长 h/yr", "溢流时长 h/年", "overflow h/yr"),
    ("s_events", "溢流次数 events/yr", "溢流次数 次/年", "overflow events/yr"),
    ("s_max", "最多 max in a year", "单年最多", "max in a year"),
    ("s_capture", "截流率 capture %", "截流率 %", "capture %"),
    ("s_largest", "不溢流最大场次 largest no-overflow mm", "不溢流最大场次 mm", "largest event without overflow mm"),
    ("s_smallest", "溢流最小场次 smallest overflow mm", "溢流最小场次 mm", "smallest event with overflow mm"),
    ("sizing", "调蓄池规模 Tank sizing", "调蓄池规模", "Tank sizing"),
    (
        "sizing_text",
        "{tank}: <b>{volume} m³</b> meets {goal} (was {was} m³; {trials} trial runs, tolerance {tolerance} m³)",
        "{tank}：<b>{volume} m³</b> 满足 {goal}（原 {was} m³；试算 {trials} 次，容差 {tolerance} m³）",
        "{tank}: <b>{volume} m³</b> meets {goal} (was {was} m³; {trials} trial runs, tolerance {tolerance} m³)",
    ),
    ("events", "场次溢流 Events: rain depth and overflow", "场次溢流：降雨量与溢流量", "Events: rain depth and overflow"),
    ("chart", "events", "场次", "events"),
    ("axis_rain", "场次降雨量 event rain (mm)", "场次降雨量 (mm)", "event rain (mm)"),
    ("axis_overflow", "溢流量 overflow (m³)", "溢流量 (m³)", "overflow (m³)"),
    ("outlets", "排口 Outlets", "排口", "Outlets"),
    ("o_outlet", "outlet", "排口", "outlet"),
    ("o_river", "river 河道", "河道", "river"),
    ("o_m3", "m³/yr", "m³/年", "m³/yr"),
    ("o_hours", "h/yr", "h/年", "h/yr"),
    ("o_events", "events/yr", "次/年", "events/yr"),
    ("years", "逐年 By year", "逐年", "By year"),
    ("y_year", "year", "年份", "year"),
    ("y_rain", "rain mm", "降雨 mm", "rain mm"),
    ("y_rain_events", "rain events", "降雨场次", "rain events"),
    ("y_overflow_events", "overflow events", "溢流次数", "overflow events"),
    ("y_overflow", "overflow m³", "溢流量 m³", "overflow m³"),
    ("y_hours", "hours", "溢流时长 h", "hours"),
    ("y_capture", "capture %", "截流率 %", "capture %"),
    ("tanks", "调蓄池 Tanks", "调蓄池", "Tanks"),
    ("t_tank", "tank", "调蓄池", "tank"),
    ("t_volume", "volume m³", "容积 m³", "volume m³"),
    ("t_used", "events used", "使用场次", "events used"),
    ("t_full", "events full", "蓄满场次", "events full"),
    ("t_empty_max", "emptying max h", "最长放空 h", "emptying max h"),
    ("t_empty_mean", "emptying mean h", "平均放空 h", "emptying mean h"),
    ("t_not_empty", "not empty at next event", "下场降雨前未放空", "not empty at next event"),
    ("t_runoff", "GB 51174 runoff control m³", "GB 51174 径流控制 m³", "GB 51174 runoff control m³"),
    ("t_pollution", "GB 50014 pollution control m³", "GB 50014 污染控制 m³", "GB 50014 pollution control m³"),
    ("t_formula_h", "formula emptying h", "公式放空时间 h", "formula emptying h"),
    (
        "formulas",
        "Design formulas: V = 10·D·F·Ψ·β (runoff control), V = 3600·t<sub>i</sub>·(n − n<sub>0</sub>)·Q<sub>dr</sub>·β (pollution control), t<sub>o</sub> = V/(3600·Q′·η); GB 50014 §4.14, GB 51174-2017 (clause numbers unverified).",
        "设计公式：V = 10·D·F·Ψ·β（径流控制），V = 3600·t<sub>i</sub>·(n − n<sub>0</sub>)·Q<sub>dr</sub>·β（污染控制），t<sub>o</sub> = V/(3600·Q′·η)；GB 50014 §4.14，GB 51174-2017（条文号未核实）。",
        "Design formulas: V = 10·D·F·Ψ·β (runoff control), V = 3600·t<sub>i</sub>·(n − n<sub>0</sub>)·Q<sub>dr</sub>·β (pollution control), t<sub>o</sub> = V/(3600·Q′·η); GB 50014 §4.14, GB 51174-2017 (clause numbers unverified).",
    ),
    ("balance", "水量平衡 Balance", "水量平衡", "Balance"),
    (
        "balance_text",
        "runoff {runoff} m³, dry-weather flow {dwf} m³, to treatment {treated} m³, overflow {overflow} m³, flooding {flooding} m³, continuity error {error} %",
        "径流 {runoff} m³，旱流 {dwf} m³，进厂 {treated} m³，溢流 {overflow} m³，积水 {flooding} m³，连续性误差 {error} %",
        "runoff {runoff} m³, dry-weather flow {dwf} m³, to treatment {treated} m³, overflow {overflow} m³, flooding {flooding} m³, continuity error {error} %",
    ),
    ("notes", "Notes", "说明", "Notes"),
];

/// The text of `key` in `lang` (the key itself if the table lacks it, which a test forbids).
pub fn label(key: &str, lang: Lang) -> &'static str {
    LABELS
        .iter()
        .find(|l| l.0 == key)
        .map(|l| match lang {
            Lang::Both => l.1,
            Lang::Zh => l.2,
            Lang::En => l.3,
        })
        .unwrap_or("?")
}

/// `label` with its `{name}` marks replaced.
fn fill(key: &str, lang: Lang, values: &[(&str, String)]) -> String {
    fill_template(label(key, lang), values)
}

/// Replace each `{name}` of `template` by its value in one pass: a value is never read as
/// a template (a system may be named `{end}`).
pub(crate) fn fill_template(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            values
                .iter()
                .find(|(n, _)| *n == &after[..close])
                .map(|v| (close, v))
        });
        match value {
            Some((close, (_, v))) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A row of header cells.
fn header_row(lang: Lang, keys: &[&str]) -> String {
    let mut t = String::from("<tr>");
    for k in keys {
        let _ = write!(t, "<th>{}</th>", label(k, lang));
    }
    t.push_str("</tr>");
    t
}

/// Events as an SVG scatter: rain depth against overflow volume, with a mark at the
/// design rain depth.
fn events_svg(r: &Report, mark_mm: f64, lang: Lang) -> String {
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
        r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        label("chart", lang)
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
        r#"<text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text>"#,
        (left + w - right) / 2.0,
        h - 5.0,
        label("axis_rain", lang)
    );
    let _ = write!(
        s,
        r#"<text x="14" y="{}" font-size="12" transform="rotate(-90 14 {})" text-anchor="middle">{}</text>"#,
        h / 2.0,
        h / 2.0,
        label("axis_overflow", lang)
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

/// The whole report as one self-contained HTML page.
pub fn html(o: &Outcome, lang: Lang) -> String {
    let r = &o.report;
    let s = &r.summary;
    let mark = o
        .designs
        .first()
        .map(|d| d.parameters.depth_mm)
        .unwrap_or(33.0);
    let mut t = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} — {}</title>\
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{background:#f4f4f4}}td:first-child{{text-align:left}}</style></head><body>",
        label("html_lang", lang),
        label("title", lang),
        esc(&r.system)
    );
    let period = fill(
        "period",
        lang,
        &[
            ("system", esc(&r.system)),
            ("start", r.start.clone()),
            ("end", r.end.clone()),
            ("years", format!("{:.1}", r.years)),
            ("step", r.step_s.to_string()),
            ("dry", r.inter_event_h.to_string()),
            ("gage", esc(&r.event_gage)),
        ],
    );
    let _ = write!(t, "<h1>{}</h1><p>{period}</p>", label("heading", lang));
    let _ = write!(
        t,
        "<table>{}<tr><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr></table>",
        header_row(lang, &["s_overflow", "s_hours", "s_events", "s_max", "s_capture", "s_largest", "s_smallest"]),
        s.overflow_m3_per_year, s.overflow_hours_per_year, s.overflow_events_per_year, s.max_overflow_events_in_a_year, s.capture_pct,
        opt(s.largest_event_without_overflow_mm, 1), opt(s.smallest_event_with_overflow_mm, 1)
    );
    if let Some(z) = &o.sizing {
        let text = fill(
            "sizing_text",
            lang,
            &[
                ("tank", esc(&z.tank)),
                ("volume", format!("{:.0}", z.volume_m3)),
                ("goal", format!("{:?}", z.goal)),
                ("was", format!("{:.0}", z.original_volume_m3)),
                ("trials", z.trials.len().to_string()),
                ("tolerance", format!("{:.0}", z.tolerance_m3)),
            ],
        );
        let _ = write!(t, "<h2>{}</h2><p>{text}</p>", label("sizing", lang));
    }
    let _ = write!(t, "<h2>{}</h2>", label("events", lang));
    t.push_str(&events_svg(r, mark, lang));
    let _ = write!(
        t,
        "<h2>{}</h2><table>{}",
        label("outlets", lang),
        header_row(
            lang,
            &["o_outlet", "o_river", "o_m3", "o_hours", "o_events"]
        )
    );
    for x in &r.outlets {
        let _ = write!(
            t,
            "<tr><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            esc(&x.name),
            esc(&x.river),
            x.m3_per_year,
            x.hours_per_year,
            x.events_per_year
        );
    }
    let _ = write!(
        t,
        "</table><h2>{}</h2><table>{}",
        label("years", lang),
        header_row(
            lang,
            &[
                "y_year",
                "y_rain",
                "y_rain_events",
                "y_overflow_events",
                "y_overflow",
                "y_hours",
                "y_capture"
            ]
        )
    );
    for y in &r.annual {
        let _ = write!(t, "<tr><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td></tr>", y.year, y.rain_mm, y.rain_events, y.overflow_events, y.overflow_m3, y.overflow_hours, y.capture_pct);
    }
    t.push_str("</table>");
    tanks_html(&mut t, o, lang);
    let b = &r.balance;
    let balance = fill(
        "balance_text",
        lang,
        &[
            ("runoff", format!("{:.0}", b.routing.runoff_m3)),
            ("dwf", format!("{:.0}", b.routing.dry_weather_m3)),
            ("treated", format!("{:.0}", b.to_treatment_m3)),
            ("overflow", format!("{:.0}", b.overflow_m3)),
            ("flooding", format!("{:.0}", b.flooding_m3)),
            ("error", format!("{:.4}", b.routing_continuity_error_pct)),
        ],
    );
    let _ = write!(t, "<h2>{}</h2><p>{balance}</p>", label("balance", lang));
    if !r.notes.is_empty() {
        let _ = write!(t, "<h2>{}</h2><ul>", label("notes", lang));
        for n in &r.notes {
            let _ = write!(t, "<li>{}</li>", esc(n));
        }
        t.push_str("</ul>");
    }
    t.push_str("</body></html>\n");
    t
}

/// The tanks table with each tank's design-formula volumes.
fn tanks_html(t: &mut String, o: &Outcome, lang: Lang) {
    if o.report.tanks.is_empty() {
        return;
    }
    let _ = write!(
        t,
        "<h2>{}</h2><table>{}",
        label("tanks", lang),
        header_row(
            lang,
            &[
                "t_tank",
                "t_volume",
                "t_used",
                "t_full",
                "t_empty_max",
                "t_empty_mean",
                "t_not_empty",
                "t_runoff",
                "t_pollution",
                "t_formula_h",
            ]
        )
    );
    for k in &o.report.tanks {
        let d = o.designs.iter().find(|d| d.tank == k.name);
        let _ = write!(
            t,
            "<tr><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&k.name), k.volume_m3, k.events_used, k.events_full, opt(k.emptying_h_max, 1), opt(k.emptying_h_mean, 1), k.not_empty_at_next_event,
            opt(d.map(|d| d.runoff_control_m3), 0), opt(d.and_then(|d| d.pollution_control_m3), 0), opt(d.and_then(|d| d.emptying_time_h), 1)
        );
    }
    let _ = write!(t, "</table><p>{}</p>", label("formulas", lang));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_both_languages_and_the_same_marks() {
        let mut keys: Vec<&str> = LABELS.iter().map(|l| l.0).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), LABELS.len(), "a key is twice in the table");
        let marks = |s: &str| {
            let mut m: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|x| x.0.to_string()))
                .collect();
            m.sort();
            m
        };
        for (key, both, zh, en) in LABELS {
            assert!(
                !both.is_empty() && !zh.is_empty() && !en.is_empty(),
                "{key}"
            );
            assert_eq!(marks(both), marks(zh), "{key}");
            assert_eq!(marks(both), marks(en), "{key}");
        }
        assert_eq!(label("outlets", Lang::Zh), "排口");
        assert_eq!(label("outlets", Lang::En), "Outlets");
        assert_eq!("zh".parse::<Lang>(), Ok(Lang::Zh));
        let t = fill_template("{a} to {b}, {c}", &[("a", "{b}".into()), ("b", "x".into())]);
        assert_eq!(
            t, "{b} to x, {c}",
            "values are not templates; unknown marks stay"
        );
        assert!("fr".parse::<Lang>().is_err());
    }
}
