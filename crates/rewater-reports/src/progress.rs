//! The plan-progress report (seed 000): indicators against the 2025 and 2035 targets by
//! district, and the status of the task registers; and the district scorecard.

use crate::chart::{bars, Series};
use crate::collect::RunData;
use crate::fmt::{m3, pct_or};
use crate::html::{Block, Doc, Section};
use crate::labels::t;
use crate::{IndicatorRow, Lang, ReportContext, Verdict};
use rewater_tasks::{Status, StatusCounts, TaskRow};

/// The indicator rows the run alone can give, against seed 000's targets, when no scorecard
/// is supplied: the reclaimed-water utilisation rate of the whole region (2025: "稳步提升",
/// qualitative; 2035: ≥ 70 %).
pub fn run_indicators(d: &RunData) -> Vec<IndicatorRow> {
    let rate = d.total.reuse_rate();
    let source = "seed 000, 二、(二) 发展目标".to_string();
    vec![
        IndicatorRow {
            name_zh: "再生水利用率".into(),
            name_en: "Reclaimed-water utilisation rate".into(),
            district: None,
            year: 2025,
            value: rate,
            value_zh: rate.map(crate::fmt::pct),
            value_en: rate.map(crate::fmt::pct),
            target_zh: "稳步提升".into(),
            target_en: "rise steadily".into(),
            verdict: Verdict::Qualitative,
            source: source.clone(),
        },
        IndicatorRow {
            name_zh: "再生水利用率".into(),
            name_en: "Reclaimed-water utilisation rate".into(),
            district: None,
            year: 2035,
            value: rate,
            value_zh: rate.map(crate::fmt::pct),
            value_en: rate.map(crate::fmt::pct),
            target_zh: "≥ 70 %".into(),
            target_en: "≥ 70 %".into(),
            verdict: match rate {
                None => Verdict::NotReported,
                Some(r) if r >= 0.70 => Verdict::Met,
                Some(_) => Verdict::NotMet,
            },
            source,
        },
    ]
}

fn verdict(v: Verdict, lang: Lang) -> String {
    t(
        match v {
            Verdict::Met => "met",
            Verdict::NotMet => "not_met",
            Verdict::NotReported => "not_reported",
            Verdict::Qualitative => "qualitative",
        },
        lang,
    )
}

fn value_text(r: &IndicatorRow, lang: Lang) -> String {
    crate::scorecard::value_text(r, lang)
        .map(str::to_string)
        .unwrap_or_else(|| t("not_reported", lang))
}

/// The indicators table, whole region first, then by district.
pub fn indicators_section(rows: &[IndicatorRow], lang: Lang, title_key: &str) -> Section {
    let mut sorted: Vec<&IndicatorRow> = rows.iter().collect();
    sorted.sort_by(|a, b| (&a.district, a.year).cmp(&(&b.district, b.year)));
    let table = sorted
        .iter()
        .map(|r| {
            vec![
                if lang == Lang::En {
                    r.name_en.clone()
                } else {
                    r.name_zh.clone()
                },
                r.district
                    .clone()
                    .unwrap_or_else(|| t("whole_region", lang)),
                r.year.to_string(),
                value_text(r, lang),
                if lang == Lang::En {
                    r.target_en.clone()
                } else {
                    r.target_zh.clone()
                },
                verdict(r.verdict, lang),
                r.source.clone(),
            ]
        })
        .collect();
    Section {
        title: t(title_key, lang),
        blocks: vec![Block::Table(
            vec![
                t("indicator", lang),
                t("district", lang),
                t("target_year", lang),
                t("value", lang),
                t("target", lang),
                t("result", lang),
                t("source", lang),
            ],
            table,
        )],
    }
}

/// Demand and reuse by district (from the users' `district`).
pub fn districts_section(d: &RunData, lang: Lang, only: Option<&str>) -> Section {
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    let (mut demand, mut delivered) = (Vec::new(), Vec::new());
    for (name, q) in d
        .by_district
        .iter()
        .filter(|(n, _)| only.is_none_or(|o| o == *n))
    {
        rows.push(vec![
            name.clone(),
            format!("{} m³", m3(q.demand_m3)),
            format!("{} m³", m3(q.delivered_m3)),
            pct_or(q.reliability(), lang),
        ]);
        labels.push(name.clone());
        demand.push(Some(q.demand_m3));
        delivered.push(Some(q.delivered_m3));
    }
    let mut blocks = vec![Block::Table(
        vec![
            t("district", lang),
            t("demand", lang),
            t("delivered", lang),
            t("supply_reliability", lang),
        ],
        rows,
    )];
    if labels.is_empty() {
        blocks.push(Block::Para(t("no_users", lang)));
    } else {
        blocks.push(Block::Chart(bars(
            &t("chart_district", lang),
            "m³",
            &labels,
            &[
                Series {
                    name: t("demand", lang),
                    values: demand,
                },
                Series {
                    name: t("delivered", lang),
                    values: delivered,
                },
            ],
        )));
    }
    Section {
        title: t("s_districts", lang),
        blocks,
    }
}

fn status_key(s: Status) -> &'static str {
    match s {
        Status::Overdue => "st_overdue",
        Status::DueSoon => "st_due_soon",
        Status::OnTrack => "st_on_track",
        Status::Done => "st_done",
    }
}

/// Counts by status for each register, with a chart; then the overdue and due-soon tasks.
pub fn tasks_sections(ctx: &ReportContext, lang: Lang) -> Vec<Section> {
    let en = lang == Lang::En;
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    let mut per_status: Vec<Vec<Option<f64>>> = vec![Vec::new(); Status::ALL.len()];
    let mut late = Vec::new();
    for (reg, task_rows) in &ctx.tasks {
        let c = StatusCounts::of(task_rows);
        let mut row = vec![reg.name(en).to_string(), c.total().to_string()];
        for (k, s) in Status::ALL.iter().enumerate() {
            row.push(c.get(*s).to_string());
            per_status[k].push(Some(c.get(*s) as f64));
        }
        rows.push(row);
        labels.push(reg.short_name(en).to_string());
        late.extend(
            task_rows
                .iter()
                .filter(|r| matches!(r.status, Status::Overdue | Status::DueSoon))
                .map(|r| late_row(reg.name(en), r, ctx, lang)),
        );
    }
    let mut head = vec![t("register", lang), t("tasks_total", lang)];
    head.extend(Status::ALL.iter().map(|s| t(status_key(*s), lang)));
    let series: Vec<Series> = Status::ALL
        .iter()
        .zip(per_status)
        .map(|(s, values)| Series {
            name: t(status_key(*s), lang),
            values,
        })
        .collect();
    let status_on = format!("{}: {}", t("status_on", lang), ctx.today);
    let mut list = Vec::new();
    if let Some(n) = ctx.overdue_tasks.filter(|&n| n > 0) {
        list.push(Block::Para(crate::labels::tf(
            "p_tasks_overdue",
            lang,
            &[&n.to_string()],
        )));
    }
    if late.is_empty() {
        list.push(Block::Para(t("no_late_tasks", lang)));
    } else {
        list.push(Block::Table(
            vec![
                t("register", lang),
                t("seq", lang),
                t("task", lang),
                t("lead", lang),
                t("deadline", lang),
                t("status", lang),
                t("progress", lang),
            ],
            late,
        ));
    }
    vec![
        Section {
            title: t("s_tasks", lang),
            blocks: vec![
                Block::Para(status_on),
                Block::Table(head, rows),
                Block::Chart(bars(&t("chart_tasks", lang), "", &labels, &series)),
            ],
        },
        Section {
            title: t("s_task_list", lang),
            blocks: list,
        },
    ]
}

fn late_row(register: &str, r: &TaskRow, ctx: &ReportContext, lang: Lang) -> Vec<String> {
    let en = lang == Lang::En;
    let lead: Vec<String> = r
        .task
        .lead
        .iter()
        .map(|d| ctx.departments.name(d, en))
        .collect();
    vec![
        register.to_string(),
        r.task.seq.to_string(),
        r.task.title(en).to_string(),
        lead.join(if en { ", " } else { "、" }),
        r.task.deadline.to_string(),
        t(status_key(r.status), lang),
        format!("{} %", r.percent),
    ]
}

/// The plan-progress report.
pub fn plan_progress(d: &RunData, ctx: &ReportContext) -> Doc {
    let lang = ctx.lang;
    let indicators = ctx.indicators.clone().unwrap_or_else(|| run_indicators(d));
    let mut sections = vec![
        indicators_section(&indicators, lang, "s_indicators"),
        districts_section(d, lang, None),
    ];
    sections.extend(tasks_sections(ctx, lang));
    Doc {
        lang,
        title: t("plan_progress", lang),
        meta: crate::meta(d, ctx, "basis_plan"),
        sections,
    }
}

/// The scorecard of one district: its indicators and its users' demand and reuse.
pub fn district_scorecard(d: &RunData, ctx: &ReportContext, district: &str) -> Doc {
    let lang = ctx.lang;
    let rows: Vec<IndicatorRow> = ctx
        .indicators
        .clone()
        .unwrap_or_else(|| run_indicators(d))
        .into_iter()
        .filter(|r| r.district.as_deref().is_none_or(|x| x == district))
        .collect();
    let mut meta = crate::meta(d, ctx, "basis_plan");
    meta.insert(0, (t("district", lang), district.to_string()));
    Doc {
        lang,
        title: format!("{} — {district}", t("district_scorecard", lang)),
        meta,
        sections: vec![
            indicators_section(&rows, lang, "s_indicators"),
            districts_section(d, lang, Some(district)),
        ],
    }
}
