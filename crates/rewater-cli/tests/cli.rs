//! The `rewater` binary as a user runs it: exit codes, files, output formats.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn rewater(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewater"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn repo(p: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(p)
        .display()
        .to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn validate_accepts_examples_and_rejects_bad_models_with_exit_2() {
    for e in ["beijing-district", "lianyungang-city", "wanzhou-river-city"] {
        let o = rewater(
            &["validate", &repo(&format!("examples/{e}/model.toml"))],
            None,
        );
        assert!(o.status.success(), "{e}: {:?}", text(&o));
    }
    let d = tmp("bad");
    let model = d.join("m.toml");
    std::fs::write(&model, "format_version = 1\n[model]\nname = \"x\"\nstart = \"2025-01-01\"\ndays = 2\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 10\ninfluent_m3_per_day = 5\n[[link]]\nfrom = \"P\"\nto = \"nowhere\"\n").unwrap();
    let o = rewater(&["validate", &model.display().to_string()], None);
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = text(&o);
    assert!(
        err.contains("m.toml:12:")
            && err.contains("link P->nowhere")
            && err.contains("unknown node 'nowhere'"),
        "{err}"
    );
    let o = rewater(&["validate", "/nonexistent/model.toml"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn run_writes_daily_files_and_summary_and_compare_reads_them() {
    let d = tmp("run");
    let a = d.join("a");
    let o = rewater(
        &[
            "run",
            &repo("examples/wanzhou-river-city/model.toml"),
            "--out",
            &a.display().to_string(),
            "--quiet",
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.is_empty(), "quiet prints nothing");
    let nodes = std::fs::read_to_string(a.join("nodes.csv")).unwrap();
    assert_eq!(nodes.lines().count(), 1 + 365 * 10);
    let links = std::fs::read_to_string(a.join("links.csv")).unwrap();
    assert_eq!(links.lines().count(), 1 + 365 * 11);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["days"], 365);
    assert!(summary["mass_balance_relative"].as_f64().unwrap() < 1e-9);

    let b = d.join("b");
    let o = rewater(
        &[
            "run",
            &repo("examples/beijing-district/model.toml"),
            "--out",
            &b.display().to_string(),
            "--no-daily",
        ],
        None,
    );
    assert!(o.status.success());
    assert!(!b.join("nodes.csv").exists());
    assert!(text(&o).0.contains("utilisation rate"));
    let o = rewater(
        &[
            "compare",
            &a.display().to_string(),
            &b.join("summary.json").display().to_string(),
        ],
        None,
    );
    let (out, _) = text(&o);
    assert!(
        o.status.success()
            && out.contains("delivered m³")
            && out.contains("delivered landscape_lake"),
        "{out}"
    );
}

#[test]
fn demo_runs_the_bundled_example() {
    let d = tmp("demo");
    let o = rewater(&["demo", "--out", &d.display().to_string()], None);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("Beijing-style district") && out.contains("target utilisation_rate"),
        "{out}"
    );
    assert!(d.join("out/summary.json").exists());
}

#[test]
fn classify_csv_from_stdin_as_json_lines() {
    let csv = "id,water_body,ph,do,cod,nh3n,tp\nS1,river,7.2,6.1,18,0.4,0.15\nS2,river,7.5,5,12,2.5,0.1\n";
    let o = rewater(&["classify", "--format", "json"], Some(csv));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["id"].as_str(), lines[0]["class"].as_str()),
        (Some("S1"), Some("III"))
    );
    assert_eq!(lines[1]["class"], "劣V");
    assert_eq!(lines[1]["limiting"][0], "w21003");
    // Bad input: exit 2 with the line.
    let o = rewater(&["classify"], Some("id,cod\nA,-1\n"));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("<stdin>:2"));
}

#[test]
fn comply_and_standards_commands() {
    let series = "time,factor,value\n2025-06-01,cod,40\n2025-06-02,cod,55\n";
    let d = tmp("comply");
    let f = d.join("s.csv");
    std::fs::write(&f, series).unwrap();
    let o = rewater(
        &[
            "comply",
            &f.display().to_string(),
            "--standard",
            "GB18918-2002:1A",
            "--format",
            "json",
        ],
        None,
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["factors"][0]["exceedance_days"], 1);
    assert_eq!(v["factors"][0]["compliance_rate"], 0.5);
    let o = rewater(
        &[
            "comply",
            &f.display().to_string(),
            "--standard",
            "GB18918-2002:9Z",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));

    let (out, _) = text(&rewater(&["standards", "list"], None));
    assert!(out.contains("GB3838-2002") && out.contains("DB11/890-2012"));
    let (out, _) = text(&rewater(&["standards", "show", "DB11/890-2012"], None));
    assert!(out.contains("UNVERIFIED") && out.contains("12-01..03-31"));
    let o = rewater(&["standards", "show", "gb3838", "--format", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(v["limits"].as_array().unwrap().len(), 130);
    assert!(text(&rewater(&["standards", "factors"], None))
        .0
        .contains("w21003"));
}

#[test]
fn user_standard_files_extend_the_bundled_ones() {
    let d = tmp("userstd");
    std::fs::write(
        d.join("contract.toml"),
        "id = \"CONTRACT-2025\"\ntitle_zh = \"供水合同\"\ntitle_en = \"Supply contract\"\nkind = \"uses\"\neffective_from = \"2025-01-01\"\naveraging = \"daily_mean\"\nconfidence = \"high\"\n[[class]]\nid = \"cooling\"\nname_zh = \"冷却\"\nname_en = \"cooling\"\n[[limit]]\nclass = \"cooling\"\nfactor = \"cod\"\ntype = \"max\"\nvalue = 40\nunit = \"mg/L\"\n",
    )
    .unwrap();
    let o = rewater(
        &[
            "--standards",
            &d.display().to_string(),
            "standards",
            "show",
            "CONTRACT-2025",
        ],
        None,
    );
    assert!(o.status.success() && text(&o).0.contains("≤ 40"));
    std::fs::write(d.join("broken.toml"), "id = 3\n").unwrap();
    let o = rewater(
        &["--standards", &d.display().to_string(), "standards", "list"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("broken.toml"));
}

#[test]
fn overflow_run_and_size_write_reports_and_reject_bad_input_with_exit_2() {
    let out = tmp("overflow-run");
    let o = rewater(
        &[
            "overflow",
            "run",
            &repo("examples/beijing-cso/case.toml"),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    let (so, se) = text(&o);
    assert!(o.status.success(), "{so}{se}");
    assert!(so.contains("events/yr") && so.contains("R1.tank"), "{so}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("overflow.json")).unwrap()).unwrap();
    let events = json["report"]["events"].as_array().unwrap();
    let csv = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert_eq!(csv.lines().count(), events.len() + 1);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("<circle") && html.contains("33 mm"));
    assert!(json["design"][0]["runoff_control_m3"].as_f64().unwrap() > 0.0);

    // A SWMM file runs unchanged.
    let o = rewater(
        &[
            "overflow",
            "run",
            &repo("crates/rewater-overflow/tests/swmm/inline.inp"),
            "--json",
        ],
        None,
    );
    let (so, se) = text(&o);
    assert!(o.status.success(), "{se}");
    let json: serde_json::Value = serde_json::from_str(&so).unwrap();
    assert_eq!(json["report"]["outlets"][0]["name"], "RIVER");

    // Sizing meets its goal.
    let o = rewater(
        &[
            "overflow",
            "size",
            &repo("examples/beijing-cso/case.toml"),
            "--goal",
            "capture:90",
            "--json",
        ],
        None,
    );
    let (so, se) = text(&o);
    assert!(o.status.success(), "{se}");
    let json: serde_json::Value = serde_json::from_str(&so).unwrap();
    assert!(json["report"]["summary"]["capture_pct"].as_f64().unwrap() >= 90.0);
    assert!(json["sizing"]["volume_m3"].as_f64().unwrap() > 15_000.0);

    // Bad input: exit 2 with the file named.
    let bad = tmp("overflow-bad").join("bad.inp");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(
        &bad,
        "[OPTIONS]\nFLOW_UNITS CMS\nSTART_DATE 01/01/2020\nEND_DATE 13/45/2020\n",
    )
    .unwrap();
    let o = rewater(&["overflow", "run", bad.to_str().unwrap()], None);
    let (_, se) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{se}");
    assert!(se.contains("bad.inp") && se.contains("END_DATE"), "{se}");
    let o = rewater(
        &[
            "overflow",
            "size",
            &repo("examples/beijing-cso/case.toml"),
            "--goal",
            "depth",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn classify_and_comply_print_one_line_per_sample_and_a_table_per_series() {
    let csv = "id,water_body,cod,tp\nR,,10,0.15\nL,lake,10,0.15\n";
    let o = rewater(&["classify", "--water-body", "river"], Some(csv));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        out,
        "R: GB3838-2002 III (良好) — limiting: tp\n\
         L: GB3838-2002 V (中度污染) — limiting: tp (超标 2.00 倍)\n"
    );
    let o = rewater(&["classify", "--water-body", "sea"], Some(csv));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o).1,
        "error: water body 'sea' must be river or lake\n"
    );
    let o = rewater(&["classify", "--standard", "GB18918-2002"], Some(csv));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("<stdin>:2: sample R: "),
        "{:?}",
        text(&o)
    );

    let series = "time,factor,value,unit,flag\n2025-06-01,cod,40,mg/L,N\n2025-06-02,cod,55,mg/L,N\n2025-06-03,cod,90,mg/L,D\n";
    let o = rewater(&["comply", "--standard", "GB18918-2002:1A"], Some(series));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        out,
        "GB18918-2002 1A (DailyMean), 2025-06-01 to 2025-06-03\n\
         factor       days    exceed.         达标率  longest run        worst  worst day\n\
         cod             2          1      50.0 %            1       55.000  2025-06-02\n\
         excluded readings by flag: D: 1\n"
    );
}

#[test]
fn compare_rows_give_b_minus_a_and_a_non_summary_is_bad_input() {
    let d = tmp("compare");
    let summary = |name: &str, delivered: f64| {
        let p = d.join(name);
        std::fs::write(
            &p,
            serde_json::json!({
                "model": name, "start": "2025-01-01", "end": "2025-01-01", "days": 1,
                "solver": "s", "total_influent_m3": 0.0, "treated_m3": 100.0,
                "bypassed_m3": 0.0, "bypass_penalty": 0.0, "delivered_m3": delivered,
                "demand_m3": 80.0, "deficit_m3": 80.0 - delivered,
                "utilisation_rate": delivered / 100.0, "supply_reliability": null,
                "delivered_by_category": {}, "delivered_by_priority": {}, "displaced_m3": {},
                "discharged_m3": {}, "discharged_total_m3": 0.0, "unrouted_m3": 0.0,
                "link_losses_m3": 0.0, "pond_losses_m3": 0.0, "storage_initial_m3": 0.0,
                "storage_final_m3": 0.0, "energy_kwh": 0.0, "sludge_t_ds": 0.0, "users": {},
                "plants": {}, "ponds": {}, "mass_balance_max_node_residual_m3": 0.0,
                "mass_balance_residual_m3": 0.0, "mass_balance_relative": 0.0, "targets": {},
                "stats": {"solves": 1, "pivots": 0, "solve_seconds": 0.0,
                          "days_quality_not_converged": 0, "max_quality_iterations": 0},
                "warnings": []
            })
            .to_string(),
        )
        .unwrap();
        p.display().to_string()
    };
    let (a, b) = (summary("a.json", 40.0), summary("b.json", 60.5));
    let o = rewater(&["compare", &a, &b], None);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let row = |name: &str, x: &str, y: &str, d: &str| format!("{name:<28} {x:>18} {y:>18} {d:>14}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 12, "{out}");
    assert_eq!(lines[5], row("delivered m³", "40.0", "60.5", "20.5"));
    assert_eq!(lines[8], row("utilisation rate %", "40.0", "60.5", "20.5"));
    let csv = d.join("s.csv");
    std::fs::write(&csv, "id,cod\n").unwrap();
    let o = rewater(&["compare", &a, &csv.display().to_string()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.starts_with(&format!(
            "error: {}: not a rewater summary: ",
            csv.display()
        )),
        "{:?}",
        text(&o)
    );
}

#[test]
fn a_reader_that_leaves_early_ends_classify_and_standards_show_json_quietly() {
    use std::io::{BufRead, BufReader, Read};
    // Outputs larger than a pipe's buffer (64 kB), so that writes go on after the reader has
    // gone: 20,000 classification lines (≈ 1 MB) and GB 3838 as JSON (≈ 77 kB).
    let mut csv = String::from("id,cod\n");
    for i in 0..20_000 {
        csv.push_str(&format!("S{i},{}\n", 10 + i % 30));
    }
    for (args, input) in [
        (
            &["classify", "--water-body", "river"][..],
            Some(csv.as_str()),
        ),
        (
            &["standards", "show", "gb3838", "--format", "json"][..],
            None,
        ),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rewater"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.unwrap_or("").to_string();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "{args:?}");
        drop(out);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        feeder.join().unwrap();
        assert!(err.is_empty(), "{args:?}: {err}");
        assert!(status.success(), "{args:?}: {status}");
    }
}

#[test]
fn serve_refuses_a_fold_interval_out_of_range_naming_the_flag() {
    for bad in ["3601", "-1", "five"] {
        let arg = format!("--aggregate-fold-every-s={bad}");
        let o = rewater(&["serve", &arg], None);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--aggregate-fold-every-s"), "{bad}: {err}");
    }
}
