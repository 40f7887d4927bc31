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

/// The figures of a district's self-report, for any renderer (Markdown here, HTML and PDF
/// in `rewater-reports`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SelfReport {
    pub district: String,
    pub year: i32,
    /// 31 January of the next year.
    pub due: Option<Date>,
    pub today: Date,
    /// The district's totals.
    pub total: Coverage,
    /// By receiving water: (name zh, name en, counts).
    pub by_water: Vec<(String, String, Coverage)>,
    /// Records open past their deadline: (id, outfall, deadline).
    pub overdue: Vec<(String, String, Date)>,
    /// Illegal outfalls without a rectification record.
    pub without_record: Vec<String>,
    /// Overflow outlets' spills of the year (12/24 rule), by outfall.
    pub spills: Vec<crate::spills::SpillYear>,
}

impl SelfReport {
    /// Adds the spill years of the report's district and year (others are left out).
    pub fn with_spills(mut self, spills: &[crate::spills::SpillYear]) -> SelfReport {
        self.spills = spills
            .iter()
            .filter(|y| y.district == self.district && y.year == self.year)
            .cloned()
            .collect();
        self.spills.sort_by(|a, b| a.outfall.cmp(&b.outfall));
        self
    }

    /// "Dynamic zero" (动态清零): no illegal outfall open past its deadline.
    pub fn dynamic_zero(&self) -> bool {
        self.overdue.is_empty()
    }
}

/// The self-report's figures for `district` and `year`, as of `today` (zone offset for
/// on-time sign-offs).
pub fn self_report_data(
    ledger: &Ledger,
    records: &[Rectification],
    district: &str,
    year: i32,
    today: Date,
    offset_s: i64,
) -> SelfReport {
    let mut l = ledger.clone();
    l.outfalls.retain(|o| o.district == district);
    let recs: Vec<Rectification> = records
        .iter()
        .filter(|r| r.district == district)
        .cloned()
        .collect();
    let rep = coverage(&l, &recs, year, today, offset_s);
    let by_water = rep
        .by_water_body
        .iter()
        .map(|(wb, g)| {
            let w = ledger.water_bodies.iter().find(|w| &w.id == wb);
            (
                w.map_or_else(|| wb.clone(), |w| w.name_zh.clone()),
                w.map_or_else(|| wb.clone(), |w| w.name_en.clone()),
                g.clone(),
            )
        })
        .collect();
    SelfReport {
        district: district.to_string(),
        year,
        due: Date::from_ymd(year + 1, 1, 31),
        today,
        total: rep.total.clone(),
        by_water,
        overdue: dynamic_zero(&recs, today)
            .iter()
            .map(|r| (r.id.clone(), r.outfall.clone(), r.deadline))
            .collect(),
        without_record: without_record(&l, &recs)
            .into_iter()
            .map(String::from)
            .collect(),
        spills: Vec::new(),
    }
}

/// The self-report of a district for `year` as Markdown, in `lang` ("zh" or "en").
pub fn self_report(
    ledger: &Ledger,
    records: &[Rectification],
    district: &str,
    year: i32,
    today: Date,
    offset_s: i64,
    lang: &str,
) -> String {
    markdown(
        &self_report_data(ledger, records, district, year, today, offset_s),
        lang,
    )
}

/// A row of the figures table: label, count, share (of all outfalls or of the illegal ones).
pub type FigureRow = (String, usize, Option<f64>);

/// The title, the due line, and the rows of the figures table.
pub fn figures(r: &SelfReport, lang: &str) -> (String, String, Vec<FigureRow>) {
    let c = &r.total;
    let title = label(lang, "title")
        .replace("{district}", &r.district)
        .replace("{year}", &r.year.to_string());
    let due =
        label(lang, "due").replace("{due}", &r.due.map(|d| d.to_string()).unwrap_or_default());
    let mut rows = vec![(label(lang, "outfalls"), c.outfalls, None)];
    for (k, n) in [
        ("surveyed", c.surveyed),
        ("monitored", c.monitored),
        ("traced", c.traced),
        ("illegal", c.illegal),
    ] {
        rows.push((label(lang, k), n, Coverage::share(n, c.outfalls)));
    }
    for (k, n) in [
        ("rectified", c.rectified),
        ("rectified_on_time", c.rectified_on_time),
    ] {
        rows.push((label(lang, k), n, Coverage::share(n, c.illegal)));
    }
    rows.push((label(lang, "overdue"), c.overdue, None));
    (title, due, rows)
}

/// A label of the self-report in `lang` (the key itself when missing).
pub fn label(lang: &str, key: &str) -> String {
    labels(lang)
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// The self-report as Markdown in `lang`.
pub fn markdown(r: &SelfReport, lang: &str) -> String {
    let (title, due, rows) = figures(r, lang);
    let mut s = format!("# {title}\n\n{due}\n\n| | | |\n|---|---:|---:|\n");
    for (k, n, share) in rows {
        match share {
            Some(x) => s.push_str(&format!("| {k} | {n} | {:.1} % |\n", 100.0 * x)),
            None => s.push_str(&format!("| {k} | {n} | |\n")),
        }
    }
    s.push('\n');
    let zero = if r.dynamic_zero() {
        "dynamic_zero_yes"
    } else {
        "dynamic_zero_no"
    };
    s.push_str(&format!("{}\n\n", label(lang, zero)));
    let list = |items: Vec<String>| {
        if items.is_empty() {
            label(lang, "none")
        } else {
            items.join(", ")
        }
    };
    let late = r
        .overdue
        .iter()
        .map(|(id, o, d)| format!("{id} ({o}, {d})"))
        .collect();
    s.push_str(&format!(
        "- {}: {}\n",
        label(lang, "overdue_list"),
        list(late)
    ));
    s.push_str(&format!(
        "- {}: {}\n\n",
        label(lang, "without_record"),
        list(r.without_record.clone())
    ));
    s.push_str(&format!(
        "## {}\n\n| | {} | {} | {} | {} |\n|---|---:|---:|---:|---:|\n",
        label(lang, "by_river"),
        label(lang, "outfalls"),
        label(lang, "surveyed"),
        label(lang, "monitored"),
        label(lang, "traced")
    ));
    for (zh, en, g) in &r.by_water {
        let name = if lang == "zh" { zh } else { en };
        s.push_str(&format!(
            "| {name} | {} | {} | {} | {} |\n",
            g.outfalls, g.surveyed, g.monitored, g.traced
        ));
    }
    if !r.spills.is_empty() {
        let (head, rows) = spill_table(r, lang);
        s.push_str(&format!(
            "\n## {}\n\n| {} |\n|{}\n",
            label(lang, "spills"),
            head.join(" | "),
            "---|".repeat(head.len())
        ));
        for row in rows {
            s.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        s.push_str(&format!("\n{}\n", label(lang, "spills_rule")));
    }
    s
}

/// The spills table: header and rows (outfall, spills, discharges, hours, m³, basis, source).
pub fn spill_table(r: &SelfReport, lang: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let head = [
        "outfall",
        "spill_count",
        "discharges",
        "duration_h",
        "volume_m3",
        "basis",
        "source",
    ]
    .iter()
    .map(|k| label(lang, k))
    .collect();
    let rows = r
        .spills
        .iter()
        .map(|y| {
            vec![
                y.outfall.clone(),
                y.spills.to_string(),
                y.discharges.to_string(),
                format!("{:.1}", y.duration_h),
                y.volume_m3.map_or_else(String::new, |v| format!("{v:.0}")),
                label(lang, y.basis.word()),
                y.source.clone(),
            ]
        })
        .collect();
    (head, rows)
}
