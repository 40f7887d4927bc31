//! The money sections of the reports: the district budget table and the compensation
//! settlement in the plan-progress report and a district report, zh and en, UNVERIFIED where
//! the rule is not confirmed, with the figures of examples/money.

use rewater_money::compensation::{compensation, read_sections, read_values, MUNICIPAL};
use rewater_money::funding::{funding, read_projects, DEFAULT_SETS};
use rewater_money::{Areas, RuleBook};
use rewater_reports::generate::{document, Request};
use rewater_reports::money::{append, MoneyTables};
use rewater_reports::{html, Lang, ReportKind};
use std::path::Path;

fn repo(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn money(lang: rewater_money::Lang, only: Option<&str>) -> MoneyTables {
    let (book, areas) = (RuleBook::bundled(), Areas::bundled());
    let projects = read_projects(&repo("examples/money/projects.csv"), &areas).unwrap();
    let f = funding(&book, DEFAULT_SETS, &projects).unwrap();
    let known = |s: &str| areas.district(s).map(|d| d.id.clone());
    let secs = read_sections(&repo("examples/money/sections.csv"), &known).unwrap();
    let v = read_values(&repo("examples/money/values-2022.csv"), 2022).unwrap();
    let mut c = compensation(
        &book,
        "bj-compensation-2014",
        &rewater_standards::Standards::builtin(),
        &secs,
        &v,
        2022,
    )
    .unwrap();
    if let Some(d) = only {
        c.settlement.retain(|k, _| k == d);
    }
    let name = |d: &str| {
        if d == MUNICIPAL {
            "市级".to_string()
        } else {
            areas.name(d, lang)
        }
    };
    MoneyTables {
        budget: Some(f.budget_table(&book, &areas, lang, only)),
        settlement: c
            .tables(&book, &name, lang)
            .into_iter()
            .find(|t| t.id == "compensation-settlement"),
        cost: vec![],
    }
}

/// The cost tables of the pilot city's run (plant and routes).
fn cost(lang: rewater_money::Lang) -> Vec<rewater_money::Table> {
    let standards = rewater_standards::Standards::builtin();
    let region = rewater_model::load(&repo("examples/pilot-city/model.toml"), &standards).unwrap();
    let book = RuleBook::bundled();
    let c = rewater_money::cost::cost_of_model(&book, "reclaimed-cost", "reclaimed-price", &region)
        .unwrap();
    c.tables(&book, lang)
        .into_iter()
        .filter(|t| t.id == "cost-plants" || t.id == "cost-routes")
        .collect()
}

#[test]
fn the_cost_section_shows_plants_and_routes_unverified() {
    for (lang, ml, title, route) in [
        (
            Lang::Zh,
            rewater_money::Lang::Zh,
            "资金：再生水单位成本（按水厂与供水线路） [UNVERIFIED]",
            "供水线路单位成本（水厂→用户） [UNVERIFIED]",
        ),
        (
            Lang::En,
            rewater_money::Lang::En,
            "Money: reclaimed-water unit cost by plant and by supply route [UNVERIFIED]",
            "Unit cost by supply route (plant → user) [UNVERIFIED]",
        ),
    ] {
        let mut d = doc(ReportKind::PlanProgress, lang, None);
        let before = d.sections.len();
        let tables = MoneyTables {
            cost: cost(ml),
            ..Default::default()
        };
        append(&mut d, &tables);
        assert_eq!(d.sections.len(), before + 1);
        let h = html::render(&d);
        assert!(h.contains(title), "{title}");
        assert!(h.contains(route), "{route}");
        // plant-east: 20,455,957.76 yuan over 26,276,320 m³.
        assert!(h.contains("20,455,957.76") && h.contains("power-plant"));
        assert!(!h.contains("s_money"), "no label key shows");
    }
}

fn doc(kind: ReportKind, lang: Lang, district: Option<&str>) -> html::Doc {
    let standards = rewater_standards::Standards::builtin();
    let model = repo("examples/beijing-district/model.toml");
    let region = rewater_model::load(&model, &standards).unwrap();
    let req = Request {
        kind,
        lang,
        district: district.map(String::from),
        year: None,
        today: rewater_time::Date::from_ymd(2025, 12, 1).unwrap(),
        browser: None,
        progress: vec![],
        alerts: None,
        sites: vec![],
        indicators: None,
        model_dir: model.parent().unwrap().to_path_buf(),
    };
    document(&region, "model.toml", &standards, req).unwrap().0
}

#[test]
fn the_plan_progress_report_gets_the_budget_and_the_settlement() {
    let mut d = doc(ReportKind::PlanProgress, Lang::Zh, None);
    let before = d.sections.len();
    append(&mut d, &money(rewater_money::Lang::Zh, None));
    assert_eq!(d.sections.len(), before + 2);
    let h = html::render(&d);
    assert!(h.contains("资金：区级建设资金预算"));
    assert!(h.contains("资金：水生态区域补偿年度结算 [UNVERIFIED]"));
    assert!(h.contains("本节所用规则未经核实"));
    // 清河再生水厂三期 (海淀, 2023–25): land 60,000,000 split 50/50 over 3 years = 10,000,000
    // a year municipal; construction 820,000,000 by the concession holder = 273,333,333.33.
    assert!(
        h.contains("海淀区") && h.contains("273,333,333.33"),
        "{}",
        &h[h.len().saturating_sub(4000)..]
    );
    // 丰台区 pays 900,000 (凉水河, July NH3-N beyond class V).
    assert!(h.contains("丰台区") && h.contains("900,000"));
    assert!(h.contains("<svg"), "the settlement chart");
    assert!(!h.contains("s_money"), "no label key shows");
}

#[test]
fn a_district_report_in_english_gets_its_own_rows() {
    let mut d = doc(ReportKind::District, Lang::En, Some("north"));
    append(&mut d, &money(rewater_money::Lang::En, Some("tongzhou")));
    let h = html::render(&d);
    assert!(h.contains("Money: district construction budgets"));
    assert!(h.contains("Money: water-ecology compensation, annual settlement [UNVERIFIED]"));
    assert!(
        h.contains("Tongzhou") && !h.contains("Fengtai"),
        "only Tongzhou's rows"
    );
    // 通州北关再生水管线 (2024): 45,000,000 municipal, 3,000,000 land Tongzhou.
    assert!(h.contains("45,000,000") && h.contains("3,000,000"));
}
