//! The output files and the HTML report in each language, from the library.

use rewater_overflow::output;
use rewater_overflow::report::Lang;
use rewater_overflow::size::Goal;
use rewater_overflow::study::{self, StudyError, StudyOptions};
use std::path::PathBuf;

const CASE: &str = r#"
name = "output test"
step_s = 300

[[gage]]
name = "G"
synthetic = { start_year = 2020, years = 2, seed = 7 }

[[subcatchment]]
name = "S"
outlet = "R"
area_ha = 20
imperv_pct = 80
width_m = 400
slope_pct = 1
horton = { f0_mm_per_h = 76, fmin_mm_per_h = 4, decay_per_h = 4, dry_days = 7 }

[[dry_weather]]
node = "R"
base_m3_per_s = 0.02

[[regulator]]
name = "R"
river = "River"
interceptor_n0 = 2
tank = { volume_m3 = 500, drain_m3_per_s = 0.05 }
"#;

fn case_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rewater-overflow-output-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("case.toml");
    std::fs::write(&p, CASE).unwrap();
    p
}

#[test]
fn a_run_writes_five_files_that_agree_with_the_report() {
    let path = case_path("run");
    let (system, design) = study::load(&path, &StudyOptions::default()).unwrap();
    let o = study::run(&system, &design);
    assert!(o.report.events.len() > 10, "{}", o.report.events.len());
    let dir = path.parent().unwrap().join("out");
    output::write_dir(&dir, &o, Lang::Both).unwrap();
    let events = std::fs::read_to_string(dir.join("events.csv")).unwrap();
    assert_eq!(events.lines().count(), o.report.events.len() + 1);
    assert!(
        events.starts_with("start,end,depth_mm,")
            && events.lines().next().unwrap().ends_with(",R.tank_peak_m3")
    );
    let annual = std::fs::read_to_string(dir.join("annual.csv")).unwrap();
    assert_eq!(annual.lines().count(), 3, "{annual}");
    let outlets = std::fs::read_to_string(dir.join("outlets.csv")).unwrap();
    assert!(outlets.contains("R.overflow,River,2020,"), "{outlets}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("overflow.json")).unwrap()).unwrap();
    assert_eq!(
        json["report"]["events"].as_array().unwrap().len(),
        o.report.events.len()
    );
    assert!(json["sizing"].is_null());
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("<h2>排口 Outlets</h2>")
            && html.contains("<circle")
            && html.contains("33 mm")
    );
    assert!(html.contains("<th>GB 51174 runoff control m³</th>"));
    let summary = output::summary_text(&o, Lang::Both);
    assert!(
        summary.starts_with(
            "output test — 2020-01-01 00:00 to 2022-01-01 00:00 (2.0 years, step 300 s)\n"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("\n  tank R.tank: 500 m³, used in "),
        "{summary}"
    );
    let zh = output::summary_text(&o, Lang::Zh);
    assert!(
        zh.starts_with(
            "output test — 2020-01-01 00:00 至 2022-01-01 00:00（2.0 年，步长 300 秒）\n"
        ),
        "{zh}"
    );
    assert!(
        zh.contains("\n  调蓄池 R.tank：500 m³，使用 ") && !zh.contains("events"),
        "{zh}"
    );
}

#[test]
fn the_report_speaks_one_language_when_asked() {
    let path = case_path("lang");
    let (system, design) = study::load(&path, &StudyOptions::default()).unwrap();
    let o = study::size(&system, &design, None, Goal::CapturePct(80.0)).unwrap();
    assert!(o.sizing.is_some());
    let en = rewater_overflow::report::html(&o, Lang::En);
    let zh = rewater_overflow::report::html(&o, Lang::Zh);
    let both = rewater_overflow::report::html(&o, Lang::Both);
    assert!(en.contains("<html lang=\"en\">") && en.contains("<h2>Tank sizing</h2>"));
    assert!(
        !en.contains("排口") && !en.contains("调蓄池"),
        "English report has Chinese labels"
    );
    assert!(zh.contains("<h2>调蓄池规模</h2>") && zh.contains("<th>河道</th>"));
    assert!(!zh.contains("Outlets") && !zh.contains("By year"));
    assert!(both.contains("<h2>调蓄池规模 Tank sizing</h2>"));
}

#[test]
fn options_that_do_not_fit_the_file_are_told_apart_from_bad_input() {
    let path = case_path("opts");
    let o = StudyOptions {
        plant: vec!["X".into()],
        ..Default::default()
    };
    assert!(matches!(study::load(&path, &o), Err(StudyError::Options(m)) if m.contains("--plant")));
    let (system, design) = study::load(&path, &StudyOptions::default()).unwrap();
    assert!(matches!(
        study::size(&system, &design, Some("nope"), Goal::CapturePct(80.0)),
        Err(StudyError::Input(_))
    ));
    // An inter-event time of 1e300 h once overflowed the event windows.
    let o = StudyOptions {
        inter_event_h: Some(1e300),
        ..Default::default()
    };
    assert!(
        matches!(study::load(&path, &o), Err(StudyError::Options(m)) if m.contains("over a year"))
    );
    let o = StudyOptions {
        step_s: Some(1),
        ..Default::default()
    };
    // Two years at one second are 63 million steps: refused as input, with the file named.
    let e = study::load(&path, &o).unwrap_err();
    assert!(
        matches!(&e, StudyError::Input(_)) && e.to_string().contains("case.toml"),
        "{e}"
    );
}

/// Every field path of a JSON value (`a.b`, `a[].c`).
fn field_paths(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.push(p.clone());
                field_paths(x, &p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                field_paths(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn json_fields_are_documented() {
    let docs = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/overflow.md"),
    )
    .unwrap();
    let section = docs
        .split("## JSON output")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("docs/overflow.md has a JSON output section");
    let (system, design) = study::load(&case_path("json"), &StudyOptions::default()).unwrap();
    let mut paths = Vec::new();
    field_paths(&output::json(&study::run(&system, &design)), "", &mut paths);
    let sized = study::size(&system, &design, None, Goal::CapturePct(80.0)).unwrap();
    field_paths(&output::json(&sized), "", &mut paths);
    paths.sort();
    paths.dedup();
    assert!(paths.len() > 80, "{}", paths.len());
    let missing: Vec<&String> = paths
        .iter()
        .filter(|p| !section.contains(&format!("`{p}`")))
        .collect();
    assert!(missing.is_empty(), "not in docs/overflow.md: {missing:?}");
}

#[test]
fn routing_option_chooses_the_method() {
    use rewater_overflow::network::FlowRouting;
    let inp = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/swmm/inline.inp");
    let (s, _) = study::load(&inp, &StudyOptions::default()).unwrap();
    assert_eq!(
        (s.flow_routing, s.routed_by),
        (FlowRouting::KinWave, FlowRouting::KinWave)
    );
    assert_eq!(s.clock.step_s, 30, "its ROUTING_STEP");
    let fast = StudyOptions {
        routing: Some(FlowRouting::Fast),
        ..Default::default()
    };
    let (s, _) = study::load(&inp, &fast).unwrap();
    assert_eq!(s.routed_by, FlowRouting::Fast);
    assert_eq!(s.clock.step_s, 60, "its WET_STEP, within 60–300 s");
    assert!(s
        .notes
        .iter()
        .any(|n| n.contains("routed by the fast routing")));
    let dw = StudyOptions {
        routing: Some(FlowRouting::DynWave),
        ..Default::default()
    };
    let (s, _) = study::load(&inp, &dw).unwrap();
    assert_eq!(s.routed_by, FlowRouting::DynWave);
    assert!(s.hydraulics.is_some());
    assert_eq!(s.clock.step_s, 60, "a clock step of at least a minute");
    assert!(s.notes.iter().any(|n| n.contains("routed by dynamic wave")));
    let kw = StudyOptions {
        routing: Some(FlowRouting::KinWave),
        ..Default::default()
    };
    assert!(matches!(
        study::load(&case_path("routing"), &kw),
        Err(StudyError::Options(m)) if m.contains("--routing")
    ));
    assert_eq!("kinwave".parse::<FlowRouting>(), Ok(FlowRouting::KinWave));
    assert!("dw2".parse::<FlowRouting>().is_err());
}
