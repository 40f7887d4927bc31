//! `rewater money` as a user runs it on examples/money: CSV, XLSX and JSON out, exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

fn rewater(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rewater"))
        .args(args)
        .output()
        .unwrap()
}

fn repo(p: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(p)
        .display()
        .to_string()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn funding_subsidies_fees_and_cost_of_the_examples() {
    let csv = ok(&rewater(&[
        "money",
        "funding",
        &repo("examples/money/projects.csv"),
    ]));
    // P004 顺义农村骨干管网: 70 % of 30,000,000 municipal, 30 % Shunyi.
    assert!(csv.contains("P004,顺义农村骨干管网,顺义区,平原区,农村,sewer_pipe,建设,市政府固定资产投资,0.7,21000000"), "{csv}");
    assert!(csv.contains("分年度资金预算"));
    let csv = ok(&rewater(&[
        "money",
        "subsidies",
        "--facilities",
        &repo("examples/money/facilities.csv"),
        "--stations",
        &repo("examples/money/stations.csv"),
        "--lang",
        "en",
    ]));
    // F01: 18,000 m³ × 3.2 × 70 % = 40,320; S01: 100,000 × 70 %.
    assert!(
        csv.contains(
            "F01,延庆某村污水站,Yanqing,2024,plant,18000,3.2,rule:om-base-rate,57600,0.7,40320"
        ),
        "{csv}"
    );
    assert!(
        csv.contains("S01,东胡林村,Mentougou,2024,yes,yes,100000,0.7,70000"),
        "{csv}"
    );
    assert!(csv.contains("[UNVERIFIED]"));
    let csv = ok(&rewater(&[
        "money",
        "fees",
        "--months",
        &repo("examples/money/months.csv"),
    ]));
    // January: all compliant: 9,300,000 × 1.2 = 11,160,000 + COD 302 mg/L × 9.3e6 = 2808.6 t × 50
    // + NH3-N 34.2 × 9.3 = 318.06 t × 500.
    assert!(
        csv.contains("qinghe,2024-01,9300000,11160000,1,0,0,299460,11459460"),
        "{csv}"
    );
    let csv = ok(&rewater(&[
        "money",
        "cost",
        &repo("examples/pilot-city/model.toml"),
        "--lang",
        "en",
    ]));
    assert!(csv.contains("plant-east,east,26276320,9985001.6,6490251.04,3941448,2000000,8024258.72,20455957.76,0.78"), "{csv}");
    // The routes (plant → user) and the pipes, each table UNVERIFIED (example cost figures).
    assert!(
        csv.contains("Unit cost by supply route (plant → user) [UNVERIFIED]"),
        "{csv}"
    );
    assert!(csv.contains("Pipes: water and own cost [UNVERIFIED]"));
    assert!(
        csv.contains("plant-east,east,power-plant,user,east,"),
        "{csv}"
    );
    assert!(csv.contains("pond (water at the start),,power-plant,user,east,"));
}

/// The first cell of each worksheet of an XLSX file (the table's heading).
fn xlsx_headings(path: &std::path::Path) -> Vec<String> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let names = wb.sheet_names().to_vec();
    names
        .iter()
        .map(|n| {
            let r = wb.worksheet_range(n).unwrap();
            r.get_value((0, 0))
                .map(|c| c.to_string())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn unverified_rules_are_marked_in_the_xlsx_of_every_ledger() {
    let dir = std::env::temp_dir().join(format!("rewater-cli-money-xlsx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x = |n: &str| dir.join(n).display().to_string();
    let runs: Vec<(String, Vec<String>)> = vec![
        (
            x("comp.xlsx"),
            vec![
                "compensation".into(),
                repo("examples/money/sections.csv"),
                "--values".into(),
                repo("examples/money/values-2022.csv"),
                "--year".into(),
                "2022".into(),
            ],
        ),
        (
            x("sub.xlsx"),
            vec![
                "subsidies".into(),
                "--facilities".into(),
                repo("examples/money/facilities.csv"),
            ],
        ),
        (
            x("fees.xlsx"),
            vec![
                "fees".into(),
                "--months".into(),
                repo("examples/money/months.csv"),
            ],
        ),
        (
            x("cost.xlsx"),
            vec!["cost".into(), repo("examples/pilot-city/model.toml")],
        ),
    ];
    for (out, args) in &runs {
        let mut a: Vec<&str> = vec!["money"];
        a.extend(args.iter().map(String::as_str));
        a.extend(["--out", out.as_str()]);
        ok(&rewater(&a));
        let heads = xlsx_headings(std::path::Path::new(out));
        assert!(!heads.is_empty(), "{out}");
        assert!(
            heads.iter().all(|h| h.ends_with("[UNVERIFIED]")),
            "{out}: {heads:?}"
        );
    }
    // A verified ledger is not marked: 顺义 rural backbone pipes (京政发〔2023〕6号, verified).
    let p = dir.join("p.csv");
    std::fs::write(
        &p,
        "id,asset,district,setting,construction_yuan,start_year\nP1,sewer_pipe,shunyi,rural,1000000,2024\n",
    )
    .unwrap();
    let out = x("funding.xlsx");
    ok(&rewater(&[
        "money",
        "funding",
        &p.display().to_string(),
        "--out",
        &out,
    ]));
    let heads = xlsx_headings(std::path::Path::new(&out));
    assert!(
        !heads.is_empty() && heads.iter().all(|h| !h.contains("UNVERIFIED")),
        "{heads:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_indicators_report_gets_the_money_sections_when_money_inputs_are_given() {
    let dir = std::env::temp_dir().join(format!("rewater-cli-report-money-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.display().to_string();
    let model = repo("examples/beijing-district/model.toml");
    // Without money inputs: no money section.
    let out = ok(&rewater(&[
        "report",
        "plan-progress",
        &model,
        "--out",
        &d,
        "--no-pdf",
        "--today",
        "2025-12-01",
    ]));
    let html = std::fs::read_to_string(out.lines().next().unwrap()).unwrap();
    assert!(
        !html.contains("资金："),
        "no money section without money inputs"
    );
    let out = ok(&rewater(&[
        "report",
        "plan-progress",
        &model,
        "--out",
        &d,
        "--no-pdf",
        "--today",
        "2025-12-01",
        "--projects",
        &repo("examples/money/projects.csv"),
        "--sections",
        &repo("examples/money/sections.csv"),
        "--values",
        &repo("examples/money/values-2022.csv"),
        "--compensation-year",
        "2022",
        "--money-cost",
    ]));
    let html = std::fs::read_to_string(out.lines().next().unwrap()).unwrap();
    assert!(html.contains("资金：区级建设资金预算"));
    assert!(html.contains("资金：水生态区域补偿年度结算 [UNVERIFIED]"));
    assert!(html.contains("资金：再生水单位成本（按水厂与供水线路） [UNVERIFIED]"));
    assert!(html.contains("供水线路单位成本（水厂→用户） [UNVERIFIED]"));
    // 清河再生水厂三期: 273,333,333.33 a year by the concession holder; 丰台区 pays 900,000.
    assert!(html.contains("273,333,333.33") && html.contains("900,000"));
    // The compensation year must be known when sections are given (a model year is, here).
    let bad = rewater(&[
        "report",
        "plan-progress",
        &model,
        "--out",
        &d,
        "--no-pdf",
        "--sections",
        &repo("examples/money/sections.csv"),
        "--compensation-rule",
        "bj-compensation-2022",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no formula"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compensation_to_xlsx_and_json() {
    let dir = std::env::temp_dir().join(format!("rewater-cli-money-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("comp.xlsx");
    let args = [
        "money",
        "compensation",
        &repo("examples/money/sections.csv"),
        "--values",
        &repo("examples/money/values-2022.csv"),
        "--year",
        "2022",
    ];
    let mut a = args.to_vec();
    let o = out.display().to_string();
    a.extend(["--out", &o]);
    ok(&rewater(&a));
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04") && bytes.len() > 2000);
    let mut a = args.to_vec();
    a.push("--json");
    let v: serde_json::Value = serde_json::from_str(&ok(&rewater(&a))).unwrap();
    // 凉水河 July NH3-N 2.6 mg/L: 劣V against IV = 2 × 300,000 + 300,000 (unverified extra).
    assert_eq!(v["settlement"]["fengtai"][0], 900_000.0);
    assert_eq!(v["weakest"], "unverified");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_exits_2_naming_file_row_and_field() {
    let dir = std::env::temp_dir().join(format!("rewater-cli-money-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("p.csv");
    std::fs::write(&p, "id,asset,district,setting,construction_yuan,start_year\na,sewer_pipe,daxing,urban,-1,2024\n").unwrap();
    let o = rewater(&["money", "funding", &p.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("row 2, field construction_yuan"));
    let o = rewater(&[
        "money",
        "compensation",
        &repo("examples/money/sections.csv"),
        "--year",
        "2023",
        "--rule",
        "bj-compensation-2022",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no formula"));
    let r = dir.join("r.toml");
    std::fs::write(&r, "id = \"x\"\n").unwrap();
    let o = rewater(&["money", "rules", "--rules", &r.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_plan_progress_report_with_money_sections_as_pdf() {
    if !std::path::Path::new("/usr/bin/chromium").exists()
        || Command::new("pdftotext").arg("-v").output().is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium and pdftotext are required in CI"
        );
        eprintln!("skipped: chromium or pdftotext missing");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rewater-cli-money-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.display().to_string();
    let out = ok(&rewater(&[
        "money",
        "report",
        "plan-progress",
        &repo("examples/beijing-district/model.toml"),
        "--out",
        &d,
        "--projects",
        &repo("examples/money/projects.csv"),
        "--sections",
        &repo("examples/money/sections.csv"),
        "--values",
        &repo("examples/money/values-2022.csv"),
        "--year",
        "2022",
        "--today",
        "2025-12-01",
        "--cost",
    ]));
    assert!(out.contains("plan-progress.zh.pdf"), "{out}");
    let text = Command::new("pdftotext")
        .arg(dir.join("plan-progress.zh.pdf"))
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("资金：区级建设资金预算"),
        "budget section in the PDF"
    );
    assert!(
        text.contains("资金：水生态区域补偿年度结算 [UNVERIFIED]"),
        "settlement section marked UNVERIFIED"
    );
    assert!(
        text.contains("各区应缴与应收补偿金"),
        "the chart's title stays text"
    );
    assert!(
        text.contains("资金：再生水单位成本（按水厂与供水线路） [UNVERIFIED]"),
        "the cost section marked UNVERIFIED: {text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
