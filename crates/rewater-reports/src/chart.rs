//! Charts as inline SVG, drawn here (no script, no network): grouped bars and lines with an
//! optional limit line. Each chart carries its title in a `<title>` element and as text, so
//! that a PDF keeps it as text.

use crate::html::esc;
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLOURS: [&str; 6] = [
    "#2a6f97", "#61a5c2", "#a9d6e5", "#e76f51", "#f4a261", "#2a9d8f",
];
const FONT: &str = "font-family=\"WenQuanYi Zen Hei, sans-serif\"";

/// One named series of values (None: no value, a gap).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A round step for about `n` ticks up to `max`.
fn nice_step(max: f64, n: f64) -> f64 {
    let raw = (max / n).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 1e4 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}").trim_end_matches('0').to_string()
    }
}

struct Frame {
    svg: String,
    y_max: f64,
}

impl Frame {
    fn new(title: &str, unit: &str, data_max: f64) -> Frame {
        let step = nice_step(if data_max > 0.0 { data_max } else { 1.0 }, 5.0);
        let y_max = (data_max / step).ceil().max(1.0) * step;
        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\">\
             <title>{t}</title><rect width=\"{W}\" height=\"{H}\" fill=\"#fff\"/>\
             <text x=\"{x}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" {FONT}>{t}</text>\
             <text x=\"10\" y=\"{yu}\" font-size=\"10\" {FONT}>{u}</text>",
            t = esc(title),
            x = W / 2.0,
            yu = TOP - 8.0,
            u = esc(unit)
        );
        let mut v = 0.0;
        while v <= y_max + step / 2.0 {
            let y = TOP + (H - TOP - BOTTOM) * (1.0 - v / y_max);
            let _ = write!(
                svg,
                "<line x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
                 <text x=\"{xt}\" y=\"{yt:.1}\" text-anchor=\"end\" font-size=\"10\" {FONT}>{l}</text>",
                x2 = W - RIGHT,
                xt = LEFT - 4.0,
                yt = y + 3.0,
                l = fmt_tick(v)
            );
            v += step;
        }
        Frame { svg, y_max }
    }

    fn y(&self, v: f64) -> f64 {
        TOP + (H - TOP - BOTTOM) * (1.0 - (v / self.y_max).clamp(0.0, 1.0))
    }

    fn x_labels(&mut self, labels: &[String], slot: f64) {
        let every = (labels.len() as f64 / 12.0).ceil().max(1.0) as usize;
        for (i, l) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
            let _ = write!(
                self.svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" {FONT}>{}</text>",
                LEFT + slot * (i as f64 + 0.5),
                H - BOTTOM + 14.0,
                esc(l)
            );
        }
    }

    fn legend(&mut self, names: &[(String, &str)]) {
        let mut x = LEFT;
        for (n, colour) in names {
            let _ = write!(
                self.svg,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
                 <text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"10\" {FONT}>{n}</text>",
                y = H - 22.0,
                tx = x + 14.0,
                ty = H - 13.0,
                n = esc(n)
            );
            x += 24.0 + 11.0 * n.chars().count() as f64;
        }
    }

    fn finish(mut self) -> String {
        let _ = write!(
            self.svg,
            "<line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{b}\" stroke=\"#333\"/>\
             <line x1=\"{LEFT}\" x2=\"{r}\" y1=\"{b}\" y2=\"{b}\" stroke=\"#333\"/></svg>",
            b = H - BOTTOM,
            r = W - RIGHT
        );
        self.svg
    }
}

fn max_of(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// Grouped bars: one group per label, one bar per series.
pub fn bars(title: &str, unit: &str, labels: &[String], series: &[Series]) -> String {
    let mut f = Frame::new(title, unit, max_of(series));
    let slot = (W - LEFT - RIGHT) / labels.len().max(1) as f64;
    let bar = slot * 0.8 / series.len().max(1) as f64;
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        for (i, v) in s.values.iter().enumerate() {
            let Some(v) = v.filter(|v| v.is_finite()) else {
                continue;
            };
            let y = f.y(v);
            let _ = write!(
                f.svg,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{}: {}</title></rect>",
                LEFT + slot * i as f64 + slot * 0.1 + bar * k as f64,
                (H - BOTTOM - y).max(0.0),
                esc(&s.name),
                fmt_tick(v)
            );
        }
    }
    f.x_labels(labels, slot);
    let names: Vec<(String, &str)> = series
        .iter()
        .enumerate()
        .map(|(k, s)| (s.name.clone(), COLOURS[k % COLOURS.len()]))
        .collect();
    f.legend(&names);
    f.finish()
}

/// Lines, one per series, with an optional dashed limit line (its label, its value).
pub fn lines(
    title: &str,
    unit: &str,
    labels: &[String],
    series: &[Series],
    limit: Option<(&str, f64)>,
) -> String {
    let top = limit.map_or(0.0, |(_, l)| l * 1.1).max(max_of(series));
    let mut f = Frame::new(title, unit, top);
    let slot = (W - LEFT - RIGHT) / labels.len().max(1) as f64;
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let mut d = String::new();
        let mut pen_up = true;
        for (i, v) in s.values.iter().enumerate() {
            match v.filter(|v| v.is_finite()) {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if pen_up { "M" } else { "L" },
                        LEFT + slot * (i as f64 + 0.5),
                        f.y(v)
                    );
                    pen_up = false;
                }
                None => pen_up = true,
            }
        }
        let _ = write!(
            f.svg,
            "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            d.trim_end()
        );
    }
    let mut names: Vec<(String, &str)> = series
        .iter()
        .enumerate()
        .map(|(k, s)| (s.name.clone(), COLOURS[k % COLOURS.len()]))
        .collect();
    if let Some((label, l)) = limit {
        let y = f.y(l);
        let _ = write!(
            f.svg,
            "<line x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#c0392b\" stroke-dasharray=\"6 4\" stroke-width=\"1.5\"/>",
            x2 = W - RIGHT
        );
        names.push((format!("{label} {}", fmt_tick(l)), "#c0392b"));
    }
    f.x_labels(labels, slot);
    f.legend(&names);
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(73.0, 5.0), 20.0);
        assert_eq!(nice_step(0.4, 5.0), 0.1);
        assert_eq!(nice_step(1.2e6, 5.0), 500_000.0);
    }

    #[test]
    fn a_bar_of_half_the_axis_is_half_the_plot_high() {
        // Axis 0–100 in steps of 20: a bar of 50 spans half of the 200 px plot height.
        let s = bars(
            "t<&>",
            "m³",
            &["1月".into(), "2月".into()],
            &[Series {
                name: "处理量".into(),
                values: vec![Some(50.0), Some(100.0)],
            }],
        );
        assert!(s.contains("<title>t&lt;&amp;&gt;</title>"));
        assert!(s.contains("height=\"100.0\""), "{s}");
        assert!(s.contains("height=\"200.0\""));
        assert!(s.contains(">1月</text>") && s.contains(">处理量</text>"));
    }

    #[test]
    fn a_limit_line_is_drawn_at_its_value_and_gaps_lift_the_pen() {
        let s = lines(
            "COD",
            "mg/L",
            &["1".into(), "2".into(), "3".into()],
            &[Series {
                name: "出水".into(),
                values: vec![Some(20.0), None, Some(30.0)],
            }],
            Some(("Ⅴ类", 40.0)),
        );
        // Axis up to 50 (44 rounded up by steps of 10): 40 is at 40 + 200 × (1 − 0.8) = 80.
        assert!(
            s.contains("y1=\"80.0\" y2=\"80.0\" stroke=\"#c0392b\""),
            "{s}"
        );
        assert_eq!(s.matches(" M").count() + s.matches("\"M").count(), 2, "{s}");
        assert!(s.contains(">Ⅴ类 40</text>"));
    }
}
