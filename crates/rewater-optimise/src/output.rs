//! Writing an outcome: `front.json` (everything), `front.csv` (one row per front design),
//! `cost_reuse.csv` (the cost–reuse front with marginal costs) and `front.html` (an inline
//! SVG chart with zh/en labels; no script, no network).

use crate::front::{cost_label, Outcome};
use std::fmt::Write as _;
use std::path::Path;

/// Writes the four files into `dir` (created if needed).
pub fn write_outputs(o: &Outcome, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_vec_pretty(o).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("front.json"), json)?;
    std::fs::write(dir.join("front.csv"), front_csv(o))?;
    std::fs::write(dir.join("cost_reuse.csv"), cost_reuse_csv(o))?;
    std::fs::write(dir.join("front.html"), html(o))?;
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per design of the Pareto front: objectives, capex, then the variables.
pub fn front_csv(o: &Outcome) -> String {
    let mut s = String::new();
    let mut head: Vec<String> = o.objectives.iter().map(|x| x.0.clone()).collect();
    head.push("capex_yuan".into());
    head.push("delivered_m3_per_year".into());
    head.extend(o.variables.iter().map(|v| v.id.clone()));
    let _ = writeln!(
        s,
        "{}",
        head.iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(",")
    );
    for p in &o.front {
        let mut row: Vec<String> = o
            .objectives
            .iter()
            .map(|(k, _)| format!("{}", p.objectives.get(k).copied().unwrap_or(f64::NAN)))
            .collect();
        row.push(format!("{}", p.capex_yuan));
        row.push(format!("{}", p.delivered_m3_per_year));
        row.extend(
            o.variables
                .iter()
                .map(|v| csv_field(p.design.get(&v.id).map_or("", |x| x))),
        );
        let _ = writeln!(s, "{}", row.join(","));
    }
    s
}

/// The cost–reuse front with the marginal cost of each step.
pub fn cost_reuse_csv(o: &Outcome) -> String {
    let mut s =
        String::from("annual_cost_yuan,reuse_rate,delivered_m3_per_year,marginal_yuan_per_m3\n");
    for (i, p) in o.points_cost_reuse.iter().enumerate() {
        let m = if i == 0 {
            String::new()
        } else {
            o.marginal[i - 1]
                .yuan_per_m3
                .map(|m| m.to_string())
                .unwrap_or_default()
        };
        let _ = writeln!(
            s,
            "{},{},{},{}",
            p.annual_cost_yuan, p.reuse_rate, p.delivered_m3_per_year, m
        );
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart page: every design evaluated (grey), the feasible ones (blue), the cost–reuse
/// front (red line) and the targets' designs; a table of the front below.
pub fn html(o: &Outcome) -> String {
    let (w, h, l, r, t, b) = (760.0, 440.0, 90.0, 20.0, 20.0, 60.0);
    let xs = o.cloud.iter().map(|c| c.0);
    let (mut x0, mut x1) = (
        xs.clone().fold(f64::INFINITY, f64::min),
        xs.fold(f64::NEG_INFINITY, f64::max),
    );
    if x0.is_nan() || x1.is_nan() || x1 <= x0 {
        x0 = x0.min(0.0);
        x1 = x0 + 1.0;
    }
    let ys = o.cloud.iter().map(|c| c.1);
    let (y0, mut y1) = (
        0.0f64.min(ys.clone().fold(f64::INFINITY, f64::min)),
        ys.fold(0.0f64, f64::max),
    );
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let px = |x: f64| l + (x - x0) / (x1 - x0) * (w - l - r);
    let py = |y: f64| h - b - (y - y0) / (y1 - y0) * (h - t - b);
    let cost = cost_label();
    let mut svg =
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">"#);
    let _ = write!(
        svg,
        r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="#888"/>"##,
        w - l - r,
        h - t - b
    );
    for k in 0..=4 {
        let fx = x0 + (x1 - x0) * k as f64 / 4.0;
        let fy = y0 + (y1 - y0) * k as f64 / 4.0;
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle">{:.3e}</text>"#,
            px(fx),
            h - b + 16.0,
            fx
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" font-size="11" text-anchor="end">{:.0} %</text>"#,
            l - 6.0,
            py(fy) + 4.0,
            fy * 100.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" font-size="13" text-anchor="middle">{} / {}</text>"#,
        (l + w - r) / 2.0,
        h - 14.0,
        esc(&cost.zh),
        esc(&cost.en)
    );
    let _ = write!(
        svg,
        r#"<text x="16" y="{}" font-size="13" text-anchor="middle" transform="rotate(-90 16 {})">再生水利用率 / Reuse rate</text>"#,
        (t + h - b) / 2.0,
        (t + h - b) / 2.0
    );
    for c in &o.cloud {
        let color = if c.2 { "#5b8ff9" } else { "#ccc" };
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{color}"/>"#,
            px(c.0),
            py(c.1)
        );
    }
    let line: Vec<String> = o
        .points_cost_reuse
        .iter()
        .map(|p| format!("{:.1},{:.1}", px(p.annual_cost_yuan), py(p.reuse_rate)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="#e8684a" stroke-width="2"/>"##,
        line.join(" ")
    );
    for p in &o.points_cost_reuse {
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#e8684a"/>"##,
            px(p.annual_cost_yuan),
            py(p.reuse_rate)
        );
    }
    for tg in &o.targets {
        let _ = write!(
            svg,
            r##"<line x1="{l}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"/>"##,
            w - r,
            py(tg.target),
            py(tg.target)
        );
    }
    svg.push_str("</svg>");
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>{} / {}</title>\
         <style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;font-size:12px}}</style></head><body>",
        esc(&o.study.zh),
        esc(&o.study.en)
    );
    let _ = write!(
        page,
        "<h1>{}<br><small>{}</small></h1>",
        esc(&o.study.zh),
        esc(&o.study.en)
    );
    let _ = write!(
        page,
        "<p>评估方案 {} 个（缓存命中 {}），帕累托前沿 {} 个 / {} designs evaluated ({} cache hits), {} on the Pareto front. \
         灰色：不满足约束；蓝色：满足约束；红线：费用–利用率前沿 / grey: infeasible; blue: feasible; red: cost–reuse front.</p>",
        o.evaluations, o.cache_hits, o.front.len(), o.evaluations, o.cache_hits, o.front.len()
    );
    page.push_str(&svg);
    page.push_str("<h2>费用–利用率前沿 / Cost–reuse front</h2><table><tr><th>年化费用 / annual cost (yuan)</th><th>利用率 / reuse rate</th><th>边际费用 / marginal (yuan/m³)</th>");
    for v in &o.variables {
        let _ = write!(
            page,
            "<th>{}<br>{}</th>",
            esc(&v.label.zh),
            esc(&v.label.en)
        );
    }
    page.push_str("</tr>");
    for (i, p) in o.points_cost_reuse.iter().enumerate() {
        let m = if i == 0 {
            String::new()
        } else {
            o.marginal[i - 1]
                .yuan_per_m3
                .map(|m| format!("{m:.2}"))
                .unwrap_or_default()
        };
        let _ = write!(
            page,
            "<tr><td>{:.0}</td><td>{:.1} %</td><td>{m}</td>",
            p.annual_cost_yuan,
            p.reuse_rate * 100.0
        );
        for v in &o.variables {
            let _ = write!(
                page,
                "<td>{}</td>",
                esc(p.design.get(&v.id).map_or("", |x| x))
            );
        }
        page.push_str("</tr>");
    }
    page.push_str("</table><h2>目标的最低费用方案 / Least-cost design per target</h2><ul>");
    for tg in &o.targets {
        match tg.point.and_then(|i| o.points_cost_reuse.get(i)) {
            Some(p) => {
                let _ = write!(
                    page,
                    "<li>≥ {:.0} %: {:.0} 元/年 yuan/year（利用率 / reuse {:.1} %）</li>",
                    tg.target * 100.0,
                    p.annual_cost_yuan,
                    p.reuse_rate * 100.0
                );
            }
            None => {
                let _ = write!(
                    page,
                    "<li>≥ {:.0} %: 无可行方案 / no feasible design found</li>",
                    tg.target * 100.0
                );
            }
        }
    }
    page.push_str("</ul></body></html>\n");
    page
}
