//! The district's outfall self-report (各区入河排污口监督管理情况自查报告, seed 001: due each
//! 31 January) as a report document, printable as HTML and PDF like the others. The figures
//! come from `rewater_outfalls::report::self_report_data`; the labels are the outfall
//! crate's own (`data/report_labels.toml` there), so Markdown, HTML and PDF say the same.

use crate::html::{Block, Doc, Section};
use crate::Lang;
use rewater_outfalls::report::{figures, label, spill_table, SelfReport};

/// The self-report as a document.
pub fn self_report_doc(r: &SelfReport, lang: Lang) -> Doc {
    let l = lang.code();
    let (title, due, rows) = figures(r, l);
    let share = |x: Option<f64>| x.map_or_else(String::new, |x| format!("{:.1} %", 100.0 * x));
    let table = Block::Table(
        vec![String::new(), label(l, "count"), label(l, "share")],
        rows.into_iter()
            .map(|(k, n, s)| vec![k, n.to_string(), share(s)])
            .collect(),
    );
    let zero = if r.dynamic_zero() {
        "dynamic_zero_yes"
    } else {
        "dynamic_zero_no"
    };
    let none = || vec![label(l, "none")];
    let overdue: Vec<String> = r
        .overdue
        .iter()
        .map(|(id, o, d)| format!("{id} ({o}, {d})"))
        .collect();
    let mut sections = vec![
        Section {
            title: label(l, "figures"),
            blocks: vec![table, Block::Para(label(l, zero))],
        },
        Section {
            title: label(l, "overdue_list"),
            blocks: vec![Block::List(if overdue.is_empty() {
                none()
            } else {
                overdue
            })],
        },
        Section {
            title: label(l, "without_record"),
            blocks: vec![Block::List(if r.without_record.is_empty() {
                none()
            } else {
                r.without_record.clone()
            })],
        },
        Section {
            title: label(l, "by_river"),
            blocks: vec![Block::Table(
                ["water", "outfalls", "surveyed", "monitored", "traced"]
                    .iter()
                    .map(|k| label(l, k))
                    .collect(),
                r.by_water
                    .iter()
                    .map(|(zh, en, g)| {
                        vec![
                            if lang == Lang::Zh { zh } else { en }.clone(),
                            g.outfalls.to_string(),
                            g.surveyed.to_string(),
                            g.monitored.to_string(),
                            g.traced.to_string(),
                        ]
                    })
                    .collect(),
            )],
        },
    ];
    if !r.spills.is_empty() {
        let (head, rows) = spill_table(r, l);
        sections.push(Section {
            title: label(l, "spills"),
            blocks: vec![
                Block::Table(head, rows),
                Block::Note(label(l, "spills_rule")),
            ],
        });
    }
    Doc {
        lang,
        title,
        meta: vec![
            (label(l, "district"), r.district.clone()),
            (label(l, "year"), r.year.to_string()),
            (label(l, "due_short"), due),
            (label(l, "generated"), r.today.to_string()),
        ],
        sections,
    }
}
