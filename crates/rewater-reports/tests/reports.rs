//! Reports of the Beijing-style example: the gathered quantities agree with the engine's own
//! summary, the class V limits are GB 3838's, every report renders in both languages with its
//! sections, and an unknown quantity is "not reported", never 0.

use rewater_reports::collect::{class_v_limits, collect};
use rewater_reports::*;
use rewater_standards::{Factor, Standards};
use std::path::Path;

fn beijing() -> rewater_model::Region {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-district/model.toml");
    rewater_model::load(&p, &Standards::builtin()).unwrap()
}

fn d(s: &str) -> rewater_time::Date {
    s.parse().unwrap()
}

#[test]
fn the_class_v_limits_are_those_of_gb_3838() {
    let f = |s: &str| Factor::parse(s).unwrap();
    let limits = class_v_limits(
        &[f("cod"), f("nh3n"), f("tp"), f("tn"), f("bod5")],
        &Standards::builtin(),
    );
    // GB 3838-2002 Table 1, class V: COD 40, NH3-N 2.0, TP 0.4 (rivers), BOD5 10 mg/L; TN
    // (2.0) is set for lakes and reservoirs only, so a river outlet is not judged on it.
    assert_eq!(limits, [Some(40.0), Some(2.0), Some(0.4), None, Some(10.0)]);
}

#[test]
fn gathered_quantities_agree_with_the_engine_summary() {
    let region = beijing();
    let data = collect(&region, &Standards::builtin(), None).unwrap();
    let s = &data.summary;
    assert_eq!(data.days, 365);
    assert_eq!(data.months.len(), 12);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    assert!(
        close(data.total.treated_m3, s.treated_m3),
        "{} {}",
        data.total.treated_m3,
        s.treated_m3
    );
    assert!(close(data.total.delivered_m3, s.delivered_m3));
    assert!(close(data.total.demand_m3, s.demand_m3));
    assert!(close(data.total.bypassed_m3, s.bypassed_m3));
    assert!(close(data.total.discharged_m3, s.discharged_total_m3));
    let monthly: f64 = data.monthly.iter().map(|q| q.treated_m3).sum();
    assert!(close(monthly, s.treated_m3));
    for (c, q) in &data.by_category {
        assert!(
            close(q.delivered_m3, s.delivered_by_category[c].delivered_m3),
            "{c}"
        );
    }
    assert_eq!(
        data.total.reuse_rate().map(|r| (r * 1e9).round()),
        s.utilisation_rate.map(|r| (r * 1e9).round())
    );
    let districts: Vec<_> = data.by_district.keys().cloned().collect();
    assert_eq!(districts, ["north", "south"]);
    // One wetland and one pond, each with the five tracked factors.
    let kinds: Vec<_> = data.outlets.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, ["wetland", "pond"]);
    let wetland = &data.outlets[0];
    let cod = &wetland.factors[0];
    assert_eq!(cod.class_v_max_mg_per_l, Some(40.0));
    assert!(cod.days > 300 && cod.days_meeting <= cod.days);
    assert!(cod.mean_mg_per_l.unwrap() < cod.max_mg_per_l.unwrap() + 1e-9);
}

#[test]
fn an_annual_period_gathers_only_its_days() {
    let region = beijing();
    let q1 = collect(
        &region,
        &Standards::builtin(),
        Some((d("2025-01-01"), d("2025-03-31"))),
    )
    .unwrap();
    assert_eq!(q1.days, 90);
    assert_eq!(q1.months.len(), 3);
    let full = collect(&region, &Standards::builtin(), None).unwrap();
    let first3: f64 = full.monthly[..3].iter().map(|q| q.treated_m3).sum();
    assert!((q1.total.treated_m3 - first3).abs() < 1e-6 * first3);
    let e = collect(
        &region,
        &Standards::builtin(),
        Some((d("2030-01-01"), d("2030-12-31"))),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("outside the model's 2025-01-01 – 2025-12-31"),
        "{e}"
    );
}

#[test]
fn every_report_renders_in_both_languages() {
    assert!(rewater_reports::labels::check().unwrap() > 100);
    let region = beijing();
    let data = collect(&region, &Standards::builtin(), None).unwrap();
    for lang in [Lang::Zh, Lang::En] {
        let ctx = ReportContext::new(lang, d("2026-01-15"), "model.toml")
            .with_tasks(&[])
            .unwrap();
        for kind in ReportKind::ALL {
            let doc = build(kind, &region, &data, &ctx, Some("north")).unwrap();
            let html = rewater_reports::html::render(&doc);
            assert!(html.contains("<svg"), "{kind:?} has a chart");
            // No label key leaks into a report.
            for key in [
                "s_system",
                "s_indicators",
                "not_reported",
                "cat_",
                "st_overdue",
                "k_plant",
            ] {
                assert!(!html.contains(key), "{kind:?} {lang:?} shows the key {key}");
            }
            if lang == Lang::Zh {
                assert!(html.contains("lang=\"zh-CN\""));
            }
        }
        let annual = rewater_reports::html::render(
            &build(ReportKind::PilotAnnual, &region, &data, &ctx, None).unwrap(),
        );
        let progress = rewater_reports::html::render(
            &build(ReportKind::PlanProgress, &region, &data, &ctx, None).unwrap(),
        );
        if lang == Lang::Zh {
            for s in [
                "一、系统概况",
                "二、水量",
                "三、人工湿地与调蓄库塘水质",
                "四、分类利用",
                "五、监测与事件",
                "六、存在问题与下一步工作",
                "Ⅴ类限值",
                "未接入监测数据库",
            ] {
                assert!(annual.contains(s), "annual lacks {s}");
            }
            // On 2026-01-15 every task of the plans (deadline 2025-12-31), none reported done, is overdue.
            assert!(progress.contains("任务台账中有") || progress.contains("逾期"));
            assert!(
                progress.contains("<td class=\"n\">48</td><td class=\"n\">48</td>"),
                "48 measures, 48 overdue"
            );
        } else {
            assert!(annual.contains("1. The system") && annual.contains("Class V limit"));
            assert!(progress.contains("Overdue tasks and tasks due soon"));
        }
    }
    let ctx = ReportContext::new(Lang::Zh, d("2026-01-15"), "m");
    let e = build(ReportKind::District, &region, &data, &ctx, Some("east"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "district 'east' is not one of the model's districts (north, south)"
    );
}

#[test]
fn an_unknown_rate_is_not_reported_never_zero() {
    let region = beijing();
    let mut data = collect(&region, &Standards::builtin(), None).unwrap();
    data.total.treated_m3 = 0.0;
    let rows = rewater_reports::progress::run_indicators(&data);
    assert_eq!(rows[1].value, None);
    assert_eq!(rows[1].verdict, Verdict::NotReported);
    let s = rewater_reports::progress::indicators_section(&rows, Lang::Zh, "s_indicators");
    let html = rewater_reports::html::render(&rewater_reports::html::Doc {
        lang: Lang::Zh,
        title: "t".into(),
        meta: vec![],
        sections: vec![s],
    });
    assert!(
        html.contains("<td>未报告</td>") && !html.contains("0.0 %"),
        "{html}"
    );
}

/// The monitoring section counts the period's alerts by site (by its name) and kind.
#[test]
fn the_monitoring_section_counts_the_periods_alerts_by_site_and_kind() {
    let region = beijing();
    let standards = Standards::builtin();
    let alert =
        |id: i64, kind: &str, day: &str, state: rewater_store::AlertState| rewater_store::Alert {
            id,
            site_id: "plant-north-outlet".into(),
            mn: None,
            kind: kind.into(),
            factor: Some("w01018".into()),
            severity: "warning".into(),
            message: String::new(),
            data_time: d(day).wall_seconds() + 3600,
            value: None,
            limit: None,
            state,
            raised_at_ms: 0,
            recovered_at_ms: None,
        };
    use rewater_store::AlertState::*;
    let req = rewater_reports::generate::Request {
        kind: ReportKind::PilotAnnual,
        lang: Lang::Zh,
        district: None,
        year: Some(2025),
        today: d("2026-01-10"),
        browser: None,
        progress: vec![],
        alerts: Some(vec![
            alert(1, "exceedance", "2025-03-01", Closed),
            alert(2, "exceedance", "2025-07-01", Open),
            alert(3, "offline", "2025-07-02", Acknowledged),
            // Outside the year: left out.
            alert(4, "offline", "2024-12-31", Open),
        ]),
        sites: vec![rewater_store::Site {
            id: "plant-north-outlet".into(),
            name: "北厂出水口".into(),
            kind: "plant_outlet".into(),
            standard: None,
            district: "north".into(),
            location: None,
            model_node: None,
        }],
        indicators: None,
        model_dir: std::path::PathBuf::from("../../examples/beijing-district"),
    };
    let dir = std::env::temp_dir().join(format!("rewater-reports-mon-{}", std::process::id()));
    let w =
        rewater_reports::generate::generate(&region, "model.toml", &standards, req, &dir).unwrap();
    let html = std::fs::read_to_string(&w.html).unwrap();
    // 3 alerts of 2025, 2 not closed; by site name and kind.
    assert!(
        html.contains("<td>告警总数</td><td class=\"n\">3</td>"),
        "{html}"
    );
    assert!(html.contains("<td>未关闭告警</td><td class=\"n\">2</td>"));
    assert!(html.contains("<td>北厂出水口</td><td>超标</td><td class=\"n\">2</td>"));
    assert!(html.contains("<td>北厂出水口</td><td>离线</td><td class=\"n\">1</td>"));
    assert!(w.pdf.is_none());
}
