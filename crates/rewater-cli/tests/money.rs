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
    let _ = std::fs::remove_dir_all(&dir);
}
