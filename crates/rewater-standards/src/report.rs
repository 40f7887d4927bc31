//! Text for a person at a terminal (classification lines, compliance tables, a standard's
//! limits, the lists of standards and factors) and the JSON of a standard, written to any
//! `std::io::Write` so that a reader who goes away is an error for the caller, not a panic.
//!
//! The texts are English, with the Chinese term beside a few headings (达标率, 超标 … 倍);
//! names of standards, classes and factors come from the data in both languages.

use crate::evaluate::Classification;
use crate::factor::Factor;
use crate::standard::{Bound, Standard, Standards};
use crate::ComplianceReport;
use std::io::{self, Write};

/// A fraction as a percentage with one decimal, "—" when there is none.
fn percent_text(fraction: Option<f64>) -> String {
    fraction
        .map(|x| format!("{:.1} %", 100.0 * x))
        .unwrap_or_else(|| "—".into())
}

/// One line for a classified sample: `id: standard class (quality) — limiting: factors`.
pub fn write_classification(w: &mut impl Write, id: &str, c: &Classification) -> io::Result<()> {
    let limiting: Vec<String> = c
        .limiting
        .iter()
        .map(|f| {
            let fc = c.factors.iter().find(|x| x.factor == *f);
            match fc.and_then(|x| x.exceedance_multiple) {
                Some(m) => format!("{} (超标 {m:.2} 倍)", f.short_name()),
                None => f.short_name().to_string(),
            }
        })
        .collect();
    writeln!(
        w,
        "{id}: {} {}{} — limiting: {}{}",
        c.standard,
        c.label,
        c.quality_zh
            .as_deref()
            .map(|q| format!(" ({q})"))
            .unwrap_or_default(),
        limiting.join(", "),
        if c.uses_unverified {
            " [uses UNVERIFIED limits]"
        } else {
            ""
        }
    )
}

/// One JSON line for a classified sample: `{"id": …, <the classification's fields>}`.
pub fn write_classification_json(
    w: &mut impl Write,
    id: &str,
    c: &Classification,
) -> io::Result<()> {
    // Spliced as text rather than through a `Value`: one allocation per sample, same order.
    let body = serde_json::to_string(c)?;
    let fields = body.strip_prefix('{').unwrap_or(&body);
    writeln!(w, "{{\"id\":{},{fields}", serde_json::to_string(id)?)
}

/// The compliance table: one row per factor, then flags excluded and a note on unverified limits.
pub fn write_compliance(w: &mut impl Write, r: &ComplianceReport) -> io::Result<()> {
    writeln!(
        w,
        "{} {} ({:?}), {} to {}",
        r.standard,
        r.class,
        r.averaging,
        r.first_date.map(|d| d.to_string()).unwrap_or_default(),
        r.last_date.map(|d| d.to_string()).unwrap_or_default()
    )?;
    writeln!(
        w,
        "{:<10} {:>6} {:>10} {:>11} {:>12} {:>12}  worst day",
        "factor", "days", "exceed.", "达标率", "longest run", "worst"
    )?;
    for f in &r.factors {
        writeln!(
            w,
            "{:<10} {:>6} {:>10} {:>11} {:>12} {:>12}  {}",
            f.factor.short_name(),
            f.days_with_data,
            f.exceedance_days,
            percent_text(f.compliance_rate),
            f.longest_exceedance_run_days,
            f.worst_value.map(|v| format!("{v:.3}")).unwrap_or_default(),
            f.worst_date.map(|d| d.to_string()).unwrap_or_default()
        )?;
    }
    if !r.excluded_by_flag.is_empty() {
        let parts: Vec<String> = r
            .excluded_by_flag
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        writeln!(w, "excluded readings by flag: {}", parts.join(", "))?;
    }
    if r.uses_unverified {
        writeln!(
            w,
            "note: some limits used are UNVERIFIED (not read in the official text)"
        )?;
    }
    Ok(())
}

/// The compliance report as pretty JSON and a newline.
pub fn write_compliance_json(w: &mut impl Write, r: &ComplianceReport) -> io::Result<()> {
    writeln!(w, "{}", serde_json::to_string_pretty(r)?)
}

fn bound_text(b: &Bound) -> String {
    match b {
        Bound::Max { value } => format!("≤ {value}"),
        Bound::Min { value } => format!("≥ {value}"),
        Bound::Range { low, high } => format!("{low}–{high}"),
        Bound::Qualitative { requirement } => requirement.clone(),
    }
}

/// The conditions under which a limit applies, comma-separated.
fn condition_text(when: &crate::standard::Conditions) -> String {
    let mut cond = Vec::new();
    if let Some(b) = when.water_body {
        cond.push(format!("{b:?}").to_lowercase());
    }
    if let Some(t) = when.water_temp_c_above {
        cond.push(format!("water > {t} °C"));
    }
    if let Some(t) = when.water_temp_c_at_most {
        cond.push(format!("water ≤ {t} °C"));
    }
    if let Some(((m1, d1), (m2, d2))) = when.date_window {
        cond.push(format!("{m1:02}-{d1:02}..{m2:02}-{d2:02}"));
    }
    if let Some(d) = when.plant_built_before {
        cond.push(format!("built before {d}"));
    }
    if let Some(d) = when.plant_built_from {
        cond.push(format!("built from {d}"));
    }
    if let Some(p) = when.sampling_point {
        cond.push(format!("{p:?}").to_lowercase());
    }
    cond.join(", ")
}

/// A standard's header, sources and one row per limit with its confidence and conditions.
pub fn write_standard(w: &mut impl Write, s: &Standard) -> io::Result<()> {
    writeln!(w, "{} {} / {}", s.id, s.title_zh, s.title_en)?;
    writeln!(
        w,
        "kind {:?}, effective from {}, averaging {:?}, confidence {:?}",
        s.kind, s.effective_from, s.averaging, s.confidence
    )?;
    for src in &s.sources {
        writeln!(w, "source: {src}")?;
    }
    writeln!(
        w,
        "{:<28} {:<16} {:<14} {:<10} {:<11} condition",
        "class", "factor", "limit", "unit", "confidence"
    )?;
    for l in &s.limits {
        let class = l
            .class
            .map(|c| s.classes[c].id.clone())
            .unwrap_or_else(|| "(all)".into());
        let conf = format!("{:?}", l.confidence).to_lowercase();
        writeln!(
            w,
            "{:<28} {:<16} {:<14} {:<10} {:<11} {}",
            class,
            format!("{} {}", l.factor.code(), l.factor.short_name()),
            bound_text(&l.bound),
            l.unit.map(|u| u.as_str()).unwrap_or(""),
            if conf == "unverified" {
                "UNVERIFIED".to_string()
            } else {
                conf
            },
            condition_text(&l.when)
        )?;
    }
    Ok(())
}

/// A standard as JSON, each limit's class given by its id ("*" for every class).
pub fn standard_json(s: &Standard) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(limits) = v.get_mut("limits").and_then(|l| l.as_array_mut()) {
        for (l, lim) in limits.iter_mut().zip(&s.limits) {
            l["class"] = serde_json::Value::String(
                lim.class
                    .map(|c| s.classes[c].id.clone())
                    .unwrap_or_else(|| "*".into()),
            );
        }
    }
    v
}

/// [`standard_json`] pretty-printed, with a newline.
pub fn write_standard_json(w: &mut impl Write, s: &Standard) -> io::Result<()> {
    writeln!(w, "{}", serde_json::to_string_pretty(&standard_json(s))?)
}

/// One row per standard: id, kind, confidence, number of limits, titles.
pub fn write_standard_list(w: &mut impl Write, standards: &Standards) -> io::Result<()> {
    writeln!(
        w,
        "{:<18} {:<14} {:<9} {:>6}  title",
        "id", "kind", "confidence", "limits"
    )?;
    for s in standards.all() {
        writeln!(
            w,
            "{:<18} {:<14} {:<10} {:>6}  {} / {}",
            s.id,
            format!("{:?}", s.kind).to_lowercase(),
            format!("{:?}", s.confidence).to_lowercase(),
            s.limits.len(),
            s.title_zh,
            s.title_en
        )?;
    }
    Ok(())
}

/// One row per water factor: HJ 212-2017 code, 2005 code, unit, aliases, names.
pub fn write_factor_list(w: &mut impl Write) -> io::Result<()> {
    writeln!(
        w,
        "{:<24} {:<6} {:<12} {:<18} name",
        "code", "2005", "unit", "aliases"
    )?;
    for f in Factor::all() {
        let i = f.info();
        writeln!(
            w,
            "{:<24} {:<6} {:<12} {:<18} {} / {}",
            i.code,
            i.code_2005.unwrap_or("-"),
            i.unit.as_str(),
            i.aliases.join(","),
            i.name_zh,
            i.name_en
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{classify, ClassifyOptions, Reading};
    use crate::standard::{Context, WaterBody};
    use crate::{comply, Date, TimedReading};

    fn text(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn reading(code: &str, value: f64) -> Reading {
        let f = Factor::parse(code).unwrap();
        Reading::new(f, value, f.info().unit).unwrap()
    }

    #[test]
    fn a_classification_line_names_class_quality_and_exceedance_multiple() {
        let standards = Standards::builtin();
        let std = standards.get("GB3838-2002").unwrap();
        let ctx = Context {
            water_body: Some(WaterBody::River),
            ..Default::default()
        };
        let readings = [reading("cod", 12.0), reading("nh3n", 2.5)];
        let c = classify(std, &readings, &ctx, &ClassifyOptions::default()).unwrap();
        assert_eq!(
            text(|w| write_classification(w, "S2", &c)),
            "S2: GB3838-2002 劣V (重度污染) — limiting: nh3n (超标 1.50 倍)\n"
        );
        let json = text(|w| write_classification_json(w, "S\"2", &c));
        assert!(json.ends_with("}\n") && json.lines().count() == 1, "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (v["id"].as_str(), v["class"].as_str()),
            (Some("S\"2"), Some("劣V"))
        );
        assert_eq!(v["limiting"][0], "w21003");
    }

    #[test]
    fn a_compliance_table_gives_days_rate_run_and_worst_day() {
        let standards = Standards::builtin();
        let (std, class) = standards.resolve("GB18918-2002:1A").unwrap();
        let day = |d: &str| d.parse::<Date>().unwrap();
        let series: Vec<TimedReading> = [("2025-06-01", 40.0, 'N'), ("2025-06-02", 55.0, 'N')]
            .iter()
            .chain(&[("2025-06-03", 90.0, 'D')])
            .enumerate()
            .map(|(i, (d, v, flag))| TimedReading {
                date: day(d),
                reading: reading("cod", *v),
                flag: *flag,
                line: i + 2,
            })
            .collect();
        let r = comply(std, class, &series, &Context::default()).unwrap();
        // The period covers every reading, the excluded one (flag D) too.
        assert_eq!(
            text(|w| write_compliance(w, &r)),
            "GB18918-2002 1A (DailyMean), 2025-06-01 to 2025-06-03\n\
             factor       days    exceed.         达标率  longest run        worst  worst day\n\
             cod             2          1      50.0 %            1       55.000  2025-06-02\n\
             excluded readings by flag: D: 1\n"
        );
        let v: serde_json::Value =
            serde_json::from_str(&text(|w| write_compliance_json(w, &r))).unwrap();
        assert_eq!(v["factors"][0]["compliance_rate"], 0.5);
        assert_eq!(percent_text(None), "—");
    }

    const CONTRACT: &str = r#"
id = "CONTRACT-2025"
title_zh = "供水合同"
title_en = "Supply contract"
kind = "uses"
effective_from = "2025-01-01"
averaging = "daily_mean"
confidence = "high"
sources = ["contract §3"]
[[class]]
id = "cooling"
name_zh = "冷却"
name_en = "cooling"
[[limit]]
class = "cooling"
factor = "cod"
type = "max"
value = 40
unit = "mg/L"
[[limit]]
class = "*"
factor = "ph"
type = "range"
low = 6
high = 9
unit = "pH"
confidence = "unverified"
when.date_window = "12-01..03-31"
"#;

    #[test]
    fn a_standard_lists_each_limit_with_class_unit_confidence_and_condition() {
        let s = Standard::parse(CONTRACT, "contract.toml").unwrap();
        let out = text(|w| write_standard(w, &s));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "CONTRACT-2025 供水合同 / Supply contract");
        assert_eq!(
            lines[1],
            "kind Uses, effective from 2025-01-01, averaging DailyMean, confidence High"
        );
        assert_eq!(lines[2], "source: contract §3");
        assert_eq!(
            lines[4],
            format!(
                "{:<28} {:<16} {:<14} {:<10} {:<11} ",
                "cooling", "w01018 cod", "≤ 40", "mg/L", "high"
            )
        );
        assert_eq!(
            lines[5],
            format!(
                "{:<28} {:<16} {:<14} {:<10} {:<11} 12-01..03-31",
                "(all)", "w01001 ph", "6–9", "pH", "UNVERIFIED"
            )
        );
        let v = standard_json(&s);
        assert_eq!(v["limits"][0]["class"], "cooling");
        assert_eq!(v["limits"][1]["class"], "*");
    }

    #[test]
    fn the_lists_of_standards_and_factors_have_a_row_each() {
        let standards = Standards::builtin();
        let out = text(|w| write_standard_list(w, &standards));
        assert_eq!(out.lines().count(), 1 + standards.all().len());
        assert!(out
            .lines()
            .any(|l| l.starts_with("GB3838-2002        classification high")));
        let out = text(write_factor_list);
        assert_eq!(out.lines().count(), 1 + Factor::all().count());
        assert!(out
            .lines()
            .any(|l| l.starts_with("w21003") && l.contains("nh3n")));
    }
}
