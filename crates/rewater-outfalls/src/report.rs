//! The district self-report (各区入河排污口监督管理情况自查报告): seed 001 asks each district
//! to report on the past year's outfall supervision by 31 January. Built from the coverage
//! figures, "dynamic zero" and the records, as Markdown in Chinese or English (labels from
//! `data/report_labels.toml`).

use crate::coverage::{coverage, Coverage};
use crate::rectify::{dynamic_zero, without_record, Rectification};
use crate::Ledger;
use rewater_time::Date;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const LABELS: &str = include_str!("../data/report_labels.toml");

fn labels(lang: &str) -> &'static BTreeMap<String, String> {
    static L: OnceLock<BTreeMap<String, BTreeMap<String, String>>> = OnceLock::new();
    static EMPTY: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    let all = L.get_or_init(|| toml::from_str(LABELS).unwrap_or_default());
    all.get(lang)
        .or_else(|| all.get("en"))
        .unwrap_or_else(|| EMPTY.get_or_init(BTreeMap::new))
}

fn label(lang: &str, key: &str) -> String {
    labels(lang)
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

fn row(lang: &str, key: &str, n: usize, of: usize) -> String {
    match Coverage::share(n, of) {
        Some(s) if key != "outfalls" => {
            format!("| {} | {n} | {:.1} % |\n", label(lang, key), 100.0 * s)
        }
        _ => format!("| {} | {n} | |\n", label(lang, key)),
    }
}

/// The self-report of a district for `year`, as of `today` (zone offset for on-time
/// sign-offs), in `lang` ("zh" or "en").
pub fn self_report(
    ledger: &Ledger,
    records: &[Rectification],
    district: &str,
    year: i32,
    today: Date,
    offset_s: i64,
    lang: &str,
) -> String {
    let mut l = ledger.clone();
    l.outfalls.retain(|o| o.district == district);
    let recs: Vec<Rectification> = records
        .iter()
        .filter(|r| r.district == district)
        .cloned()
        .collect();
    let rep = coverage(&l, &recs, year, today, offset_s);
    let c = &rep.total;
    let due = Date::from_ymd(year + 1, 1, 31)
        .map(|d| d.to_string())
        .unwrap_or_default();
    let mut s = format!(
        "# {}\n\n{}\n\n",
        label(lang, "title")
            .replace("{district}", district)
            .replace("{year}", &year.to_string()),
        label(lang, "due").replace("{due}", &due)
    );
    s.push_str("| | | |\n|---|---:|---:|\n");
    s.push_str(&row(lang, "outfalls", c.outfalls, c.outfalls));
    for (k, n) in [
        ("surveyed", c.surveyed),
        ("monitored", c.monitored),
        ("traced", c.traced),
        ("illegal", c.illegal),
    ] {
        s.push_str(&row(lang, k, n, c.outfalls));
    }
    for (k, n) in [
        ("rectified", c.rectified),
        ("rectified_on_time", c.rectified_on_time),
    ] {
        s.push_str(&row(lang, k, n, c.illegal));
    }
    s.push_str(&format!(
        "| {} | {} | |\n\n",
        label(lang, "overdue"),
        c.overdue
    ));
    let late = dynamic_zero(&recs, today);
    s.push_str(&format!(
        "{}\n\n",
        label(
            lang,
            if late.is_empty() {
                "dynamic_zero_yes"
            } else {
                "dynamic_zero_no"
            }
        )
    ));
    let list = |items: Vec<String>| {
        if items.is_empty() {
            label(lang, "none")
        } else {
            items.join(", ")
        }
    };
    s.push_str(&format!(
        "- {}: {}\n",
        label(lang, "overdue_list"),
        list(
            late.iter()
                .map(|r| format!("{} ({}, {})", r.id, r.outfall, r.deadline))
                .collect()
        )
    ));
    s.push_str(&format!(
        "- {}: {}\n\n",
        label(lang, "without_record"),
        list(
            without_record(&l, &recs)
                .into_iter()
                .map(String::from)
                .collect()
        )
    ));
    s.push_str(&format!(
        "## {}\n\n| | {} | {} | {} | {} |\n|---|---:|---:|---:|---:|\n",
        label(lang, "by_river"),
        label(lang, "outfalls"),
        label(lang, "surveyed"),
        label(lang, "monitored"),
        label(lang, "traced")
    ));
    for (wb, g) in &rep.by_water_body {
        let name = ledger
            .water_bodies
            .iter()
            .find(|w| &w.id == wb)
            .map_or(wb.clone(), |w| {
                if lang == "zh" {
                    w.name_zh.clone()
                } else {
                    w.name_en.clone()
                }
            });
        s.push_str(&format!(
            "| {name} | {} | {} | {} | {} |\n",
            g.outfalls, g.surveyed, g.monitored, g.traced
        ));
    }
    s
}
