//! The scorecard for a terminal, in Chinese or English (words from `indicators/labels.toml`).

use crate::catalog::Catalog;
use crate::scorecard::{Direction, RowStatus, Scorecard, ScorecardRow};
use crate::Lang;
use std::io::{self, Write};

/// A number with at most `digits` decimals and no trailing zeros.
pub fn number(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Status key in labels.toml.
pub fn status_key(s: RowStatus) -> &'static str {
    match s {
        RowStatus::Met => "status_met",
        RowStatus::NotMet => "status_not_met",
        RowStatus::NotReported => "status_not_reported",
        RowStatus::Qualitative => "status_qualitative",
        RowStatus::NoTarget => "status_no_target",
    }
}

fn value_text(r: &ScorecardRow, c: &Catalog, lang: Lang) -> String {
    match r.value {
        Some(v) => format!("{} {}", number(v, 2), r.unit_text.get(lang)),
        None if r.division_by_zero => c.label("division_by_zero", lang).to_string(),
        None => format!(
            "{} ({})",
            c.label("not_reported", lang),
            r.missing.join(", ")
        ),
    }
}

fn target_text(r: &ScorecardRow, lang: Lang) -> String {
    let parts: Vec<String> = r
        .targets
        .iter()
        .map(|t| match (t.comparator, t.value, &t.qualitative) {
            (Some(cmp), Some(v), _) => format!(
                "{} {} [{} {}]",
                cmp.symbol(),
                number(v, 2),
                t.set,
                t.section
            ),
            (_, _, Some(q)) => format!("“{}” [{} {}]", q.get(lang), t.set, t.section),
            _ => String::new(),
        })
        .collect();
    parts.join("; ")
}

fn trend_text(r: &ScorecardRow, c: &Catalog, lang: Lang) -> String {
    match (&r.trend, &r.baseline) {
        (Some(t), Some(b)) => {
            let key = match t.direction {
                Direction::Improving => "trend_improving",
                Direction::Worsening => "trend_worsening",
                Direction::Unchanged => "trend_unchanged",
            };
            let stated = if b.stated {
                format!(", {}", c.label("baseline_stated", lang))
            } else {
                String::new()
            };
            format!(
                "{} {:+} ({} {}{})",
                c.label(key, lang),
                number(t.change, 2).parse::<f64>().unwrap_or(t.change),
                c.label("since", lang),
                b.year,
                stated
            )
        }
        _ => String::new(),
    }
}

/// Writes the scorecard: per district, per year, one line per indicator.
pub fn write_scorecard(
    w: &mut impl Write,
    s: &Scorecard,
    c: &Catalog,
    lang: Lang,
) -> io::Result<()> {
    writeln!(w, "{}: {}", c.label("scorecard", lang), s.model)?;
    for (id, title) in &s.sets {
        writeln!(
            w,
            "  {} {id}: {}",
            c.label("target_set", lang),
            title.get(lang)
        )?;
    }
    if let Some(b) = s.baseline_year {
        writeln!(w, "  {}: {b}", c.label("baseline_year", lang))?;
    }
    let (met, not_met, nr) = s.counts();
    writeln!(
        w,
        "  {} {met}, {} {not_met}, {} {nr}",
        c.label("status_met", lang),
        c.label("status_not_met", lang),
        c.label("status_not_reported", lang)
    )?;
    let mut last: Option<(&str, i32)> = None;
    for r in &s.rows {
        if last.map(|(d, _)| d) != Some(r.district.as_str()) {
            writeln!(w)?;
            writeln!(
                w,
                "{} {}",
                c.label("district", lang),
                r.district_name.get(lang)
            )?;
        }
        if last != Some((r.district.as_str(), r.year)) {
            writeln!(w, "  {}", r.year)?;
        }
        last = Some((r.district.as_str(), r.year));
        let mut line = format!(
            "    {:<12} {}: {}",
            c.label(status_key(r.status), lang),
            r.name.get(lang),
            value_text(r, c, lang)
        );
        let t = target_text(r, lang);
        if !t.is_empty() {
            line.push_str(&format!("  {} {t}", c.label("target", lang)));
        }
        let tr = trend_text(r, c, lang);
        if !tr.is_empty() {
            line.push_str(&format!("  {tr}"));
        }
        writeln!(w, "{}", line.trim_end())?;
    }
    if !s.unmatched_district_targets.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", c.label("unmatched_district_targets", lang))?;
        for o in &s.unmatched_district_targets {
            let t = &o.target;
            let district = t
                .district_name
                .as_ref()
                .map_or(t.district.as_str(), |n| n.get(lang));
            let target = match t.quantitative() {
                Some((cmp, v)) => format!("{} {}", cmp.symbol(), number(v, 2)),
                None => t
                    .qualitative
                    .as_ref()
                    .map_or(String::new(), |q| q.get(lang).to_string()),
            };
            let name = t
                .indicator
                .as_deref()
                .and_then(|i| c.indicator(i))
                .map_or("", |i| i.name.get(lang));
            writeln!(
                w,
                "  {district} {} {name} {target} [{} {}]",
                t.year, o.set, t.section
            )?;
        }
    }
    if !s.other_targets.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", c.label("other_targets", lang))?;
        for o in &s.other_targets {
            let t = &o.target;
            let what = t
                .qualitative
                .as_ref()
                .map_or(t.quote.as_str(), |q| q.get(lang));
            writeln!(w, "  {} {} [{} {}]", t.year, what, o.set, t.section)?;
        }
    }
    Ok(())
}
