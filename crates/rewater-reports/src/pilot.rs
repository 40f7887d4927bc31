//! The pilot city's annual report and final report (seed 003, 三、(三) 开展评估总结): system
//! description, water quantities, wetland and pond performance against class V, reuse by
//! category, monitoring and incidents, problems and next steps; the final report adds the
//! completion of the pilot scheme.

use crate::chart::{bars, lines, Series};
use crate::collect::RunData;
use crate::fmt::{m3, mg, month, pct, pct_or};
use crate::html::{Block, Doc, Section};
use crate::labels::{t, tf};
use crate::{Lang, ReportContext};
use rewater_model::{NodeKind, Region};

/// A kind's label key.
fn kind_key(k: &NodeKind) -> &'static str {
    match k {
        NodeKind::Plant(_) => "k_plant",
        NodeKind::Wetland(_) => "k_wetland",
        NodeKind::Pond(_) => "k_pond",
        NodeKind::Junction => "k_junction",
        NodeKind::User(_) => "k_user",
        NodeKind::River(_) => "k_river",
        NodeKind::Outfall(_) => "k_outfall",
    }
}

/// The reuse category's words.
pub fn category(c: &str, lang: Lang) -> String {
    t(&format!("cat_{c}"), lang)
}

fn factor_name(f: rewater_standards::Factor, lang: Lang) -> String {
    let i = f.info();
    match lang {
        Lang::Zh => i.name_zh.to_string(),
        Lang::En => i.name_en.to_string(),
    }
}

fn system(region: &Region, lang: Lang) -> Section {
    let mut rows = Vec::new();
    for n in &region.nodes {
        let (capacity, district) = match &n.kind {
            NodeKind::Plant(p) => (format!("{} m³/d", m3(p.capacity_m3_per_day)), String::new()),
            NodeKind::Wetland(w) => (format!("{} m²", m3(w.area_m2)), String::new()),
            NodeKind::Pond(p) => (format!("{} m³", m3(p.capacity_m3)), String::new()),
            NodeKind::User(u) => (category(u.category.as_str(), lang), u.district.clone()),
            NodeKind::Junction => continue,
            _ => (String::new(), String::new()),
        };
        let name = if n.name.is_empty() { &n.id } else { &n.name };
        rows.push(vec![
            t(kind_key(&n.kind), lang),
            name.clone(),
            capacity,
            district,
        ]);
    }
    Section {
        title: t("s_system", lang),
        blocks: vec![Block::Table(
            vec![
                t("kind", lang),
                t("name", lang),
                t("capacity", lang),
                t("district", lang),
            ],
            rows,
        )],
    }
}

fn quantities(d: &RunData, lang: Lang) -> Section {
    let q = &d.total;
    let rows = vec![
        vec![t("influent", lang), format!("{} m³", m3(q.influent_m3))],
        vec![t("treated", lang), format!("{} m³", m3(q.treated_m3))],
        vec![t("bypassed", lang), format!("{} m³", m3(q.bypassed_m3))],
        vec![t("demand", lang), format!("{} m³", m3(q.demand_m3))],
        vec![t("delivered", lang), format!("{} m³", m3(q.delivered_m3))],
        vec![t("discharged", lang), format!("{} m³", m3(q.discharged_m3))],
        vec![t("reuse_rate", lang), pct_or(q.reuse_rate(), lang)],
        vec![t("supply_reliability", lang), pct_or(q.reliability(), lang)],
    ];
    let labels: Vec<String> = d.months.iter().map(|&m| month(m, lang)).collect();
    let series = |key: &str, f: fn(&crate::collect::Quantities) -> f64| Series {
        name: t(key, lang),
        values: d.monthly.iter().map(|q| Some(f(q))).collect(),
    };
    let chart = bars(
        &t("chart_monthly", lang),
        "m³",
        &labels,
        &[
            series("treated", |q| q.treated_m3),
            series("delivered", |q| q.delivered_m3),
            series("discharged", |q| q.discharged_m3),
        ],
    );
    Section {
        title: t("s_quantities", lang),
        blocks: vec![
            Block::Table(vec![t("quantity", lang), t("value", lang)], rows),
            Block::Chart(chart),
            Block::Note(t("simulated_note", lang)),
        ],
    }
}

fn wetlands(d: &RunData, lang: Lang) -> Section {
    let mut blocks = Vec::new();
    if d.outlets.is_empty() {
        blocks.push(Block::Para(t("no_wetland", lang)));
    }
    let labels: Vec<String> = d.months.iter().map(|&m| month(m, lang)).collect();
    for o in &d.outlets {
        let kind = if o.kind == "wetland" {
            "k_wetland"
        } else {
            "k_pond"
        };
        let name = if o.name.is_empty() { &o.id } else { &o.name };
        blocks.push(Block::Para(format!("{}：{name}", t(kind, lang))));
        let mut rows = Vec::new();
        for f in &o.factors {
            let stably = match (f.class_v_max_mg_per_l, f.days) {
                (Some(_), n) if n > 0 => t(if f.days_meeting == n { "yes" } else { "no" }, lang),
                _ => t("not_reported", lang),
            };
            rows.push(vec![
                factor_name(f.factor, lang),
                mg(f.mean_mg_per_l, lang),
                mg(f.max_mg_per_l, lang),
                f.class_v_max_mg_per_l
                    .map(|l| format!("{l:.2}"))
                    .unwrap_or_else(|| t("no_limit_river", lang)),
                match f.class_v_max_mg_per_l {
                    Some(_) => format!("{} / {}", f.days_meeting, f.days),
                    None => "—".to_string(),
                },
                stably,
            ]);
        }
        blocks.push(Block::Table(
            vec![
                t("factor", lang),
                format!("{} (mg/L)", t("mean_outlet", lang)),
                format!("{} (mg/L)", t("max_outlet", lang)),
                format!("{} (mg/L)", t("class_v_limit", lang)),
                t("days_meeting", lang),
                t("meets_stably", lang),
            ],
            rows,
        ));
        for f in o
            .factors
            .iter()
            .filter(|f| f.class_v_max_mg_per_l.is_some() && f.days > 0)
        {
            let title = format!(
                "{name} — {} — {}",
                factor_name(f.factor, lang),
                t("chart_outlet", lang)
            );
            let limit = f
                .class_v_max_mg_per_l
                .map(|l| (t("class_v_limit", lang), l));
            blocks.push(Block::Chart(lines(
                &title,
                "mg/L",
                &labels,
                &[Series {
                    name: t("mean_outlet", lang),
                    values: f.monthly_mg_per_l.clone(),
                }],
                limit.as_ref().map(|(s, l)| (s.as_str(), *l)),
            )));
        }
        if o.kind == "pond" {
            blocks.push(Block::Chart(lines(
                &format!("{name} — {}", t("chart_pond_storage", lang)),
                "m³",
                &labels,
                &[Series {
                    name: t("k_pond", lang),
                    values: o.storage_m3.clone(),
                }],
                None,
            )));
        }
    }
    Section {
        title: t("s_wetland", lang),
        blocks,
    }
}

fn reuse(d: &RunData, lang: Lang) -> Section {
    let total = d.total.delivered_m3;
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    let mut values = Vec::new();
    for (c, q) in &d.by_category {
        let share = if total > 0.0 {
            pct(q.delivered_m3 / total)
        } else {
            t("not_reported", lang)
        };
        rows.push(vec![
            category(c, lang),
            format!("{} m³", m3(q.demand_m3)),
            format!("{} m³", m3(q.delivered_m3)),
            share,
        ]);
        labels.push(category(c, lang));
        values.push(Some(q.delivered_m3));
    }
    Section {
        title: t("s_reuse", lang),
        blocks: vec![
            Block::Table(
                vec![
                    t("category", lang),
                    t("demand", lang),
                    t("delivered", lang),
                    t("share", lang),
                ],
                rows,
            ),
            Block::Chart(bars(
                &t("chart_category", lang),
                "m³",
                &labels,
                &[Series {
                    name: t("delivered", lang),
                    values,
                }],
            )),
        ],
    }
}

/// Monitoring and incidents: the store's alerts in the period, by site and kind.
pub fn monitoring(ctx: &ReportContext, lang: Lang) -> Section {
    let title = t("s_monitoring", lang);
    let Some(alerts) = &ctx.alerts else {
        return Section {
            title,
            blocks: vec![Block::Para(t("no_store", lang))],
        };
    };
    let open = alerts
        .iter()
        .filter(|a| a.state != rewater_store::AlertState::Closed)
        .count();
    let mut by: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for a in alerts {
        *by.entry((a.site_id.clone(), a.kind.clone())).or_default() += 1;
    }
    let rows = by
        .into_iter()
        .map(|((site, kind), n)| {
            let name = ctx.site_names.get(&site).cloned().unwrap_or(site);
            vec![name, t(&format!("alert_{kind}"), lang), n.to_string()]
        })
        .collect();
    Section {
        title,
        blocks: vec![
            Block::Table(
                vec![t("quantity", lang), t("value", lang)],
                vec![
                    vec![t("alerts_total", lang), alerts.len().to_string()],
                    vec![t("alerts_open", lang), open.to_string()],
                ],
            ),
            Block::Table(
                vec![
                    t("alert_site", lang),
                    t("alert_kind", lang),
                    t("alert_count", lang),
                ],
                rows,
            ),
        ],
    }
}

/// Problems found in the run (and the task register), each with its next step.
pub fn problems(d: &RunData, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    for u in &d.users {
        let short = u.demand_m3 - u.delivered_m3;
        if u.demand_m3 > 0.0 && short > 0.005 * u.demand_m3 {
            let name = if u.name.is_empty() { &u.id } else { &u.name };
            out.push(tf(
                "p_deficit",
                lang,
                &[name, &m3(short), &pct(u.delivered_m3 / u.demand_m3)],
            ));
        }
        if u.days_refused_for_quality > 0 {
            out.push(tf(
                "p_refused",
                lang,
                &[&u.id, &u.days_refused_for_quality.to_string()],
            ));
        }
    }
    for p in d.plants.iter().filter(|p| p.days_bypassing > 0) {
        let name = if p.name.is_empty() { &p.id } else { &p.name };
        out.push(tf(
            "p_bypass",
            lang,
            &[name, &p.days_bypassing.to_string(), &m3(p.bypassed_m3)],
        ));
    }
    for o in d.outlets.iter().filter(|o| o.kind == "wetland") {
        for f in o
            .factors
            .iter()
            .filter(|f| f.class_v_max_mg_per_l.is_some() && f.days_meeting < f.days)
        {
            let name = if o.name.is_empty() { &o.id } else { &o.name };
            out.push(tf(
                "p_wetland",
                lang,
                &[
                    name,
                    &factor_name(f.factor, lang),
                    &(f.days - f.days_meeting).to_string(),
                ],
            ));
        }
    }
    if out.is_empty() {
        out.push(t("p_none", lang));
    }
    out
}

/// Whether every wetland stably met class V over the period (None: nothing judged).
pub fn wetlands_stably_class_v(d: &RunData) -> Option<bool> {
    let judged: Vec<bool> = d
        .outlets
        .iter()
        .filter(|o| o.kind == "wetland")
        .filter_map(|o| o.stably_class_v())
        .collect();
    (!judged.is_empty()).then(|| judged.iter().all(|&b| b))
}

/// The annual (`final_report` false) or final report.
pub fn pilot_report(region: &Region, d: &RunData, ctx: &ReportContext, final_report: bool) -> Doc {
    let lang = ctx.lang;
    let mut sections = vec![
        system(region, lang),
        quantities(d, lang),
        wetlands(d, lang),
        reuse(d, lang),
        monitoring(ctx, lang),
        Section {
            title: t("s_problems", lang),
            blocks: vec![Block::List(problems(d, lang))],
        },
    ];
    if final_report {
        let mut items = vec![
            tf("c_duration", lang, &[&d.days.to_string()]),
            tf("c_reuse", lang, &[&pct_or(d.total.reuse_rate(), lang)]),
        ];
        match wetlands_stably_class_v(d) {
            Some(true) => items.push(t("c_stably", lang)),
            Some(false) => items.push(t("c_not_stably", lang)),
            None => items.push(format!(
                "{}: {}",
                t("k_wetland", lang),
                t("not_reported", lang)
            )),
        }
        sections.push(Section {
            title: t("s_completion", lang),
            blocks: vec![Block::List(items)],
        });
    }
    if let Some(rows) = ctx.indicators.as_ref().filter(|r| !r.is_empty()) {
        sections.push(crate::progress::indicators_section(
            rows,
            lang,
            "s_annex_indicators",
        ));
    }
    Doc {
        lang,
        title: t(
            if final_report {
                "pilot_final"
            } else {
                "pilot_annual"
            },
            lang,
        ),
        meta: crate::meta(d, ctx, "basis_pilot"),
        sections,
    }
}
