//! `rewater indicators` as a user runs it: the examples' scorecards, statistics, exit codes.

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

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn row<'a>(card: &'a serde_json::Value, d: &str, y: i64, ind: &str) -> &'a serde_json::Value {
    card["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["district"] == d && r["year"] == y && r["indicator"] == ind)
        .unwrap_or_else(|| panic!("no row {d} {y} {ind}"))
}

#[test]
fn the_pilot_city_validates_runs_and_meets_class_v() {
    let model = repo("examples/pilot-city/model.toml");
    let o = rewater(&["validate", &model]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let card = json(&rewater(&["indicators", &model, "--format", "json"]));
    let sets: Vec<&str> = card["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(sets, ["seed-003", "ndrc-2021-13"]);
    let w = row(&card, "", 2025, "wetland_class_v_rate");
    assert_eq!(w["value"], 100.0);
    assert_eq!(w["status"], "met");
    assert_eq!(w["targets"][0]["section"], "二、（六）加强监测监管");
    let reuse = row(&card, "", 2025, "reuse_rate");
    assert!(reuse["value"].as_f64().unwrap() > 25.0);
    assert_eq!(reuse["status"], "met");
    let other: Vec<&str> = card["other_targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["target"]["id"].as_str().unwrap())
        .collect();
    assert!(
        other.contains(&"annual-report") && other.contains(&"final-report"),
        "{other:?}"
    );
    // The text in Chinese and English.
    let zh = String::from_utf8(rewater(&["indicators", &model]).stdout).unwrap();
    assert!(
        zh.contains("人工湿地出水Ⅴ类达标率: 100 %") && zh.contains("达标"),
        "{zh}"
    );
    let en = String::from_utf8(rewater(&["indicators", &model, "--lang", "en"]).stdout).unwrap();
    assert!(
        en.contains("wetland outlet class V compliance: 100 %"),
        "{en}"
    );
}

#[test]
fn wanzhou_carries_seed_002_and_no_invented_reuse_target() {
    let model = repo("examples/wanzhou-river-city/model.toml");
    let card = json(&rewater(&["indicators", &model, "--format", "json"]));
    let r = row(&card, "", 2025, "reuse_rate");
    assert_eq!(r["status"], "qualitative");
    assert_eq!(r["targets"].as_array().unwrap().len(), 1);
    assert!(r["targets"][0]["value"].is_null());
    // The run's summary has no utilisation target any more.
    let dir = std::env::temp_dir().join(format!("rewater-wanzhou-{}", std::process::id()));
    let o = rewater(&[
        "run",
        &model,
        "--out",
        &dir.display().to_string(),
        "--no-daily",
        "--quiet",
    ]);
    assert!(o.status.success());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert!(
        s["targets"].as_object().unwrap().is_empty(),
        "{}",
        s["targets"]
    );
}

#[test]
fn the_beijing_example_with_its_statistics_table() {
    let model = repo("examples/beijing-district/model.toml");
    let stats = repo("examples/beijing-district/statistics.csv");
    let card = json(&rewater(&[
        "indicators",
        &model,
        "--stats",
        &stats,
        "--format",
        "json",
    ]));
    // 2020 from the table: 95e6 / 100e6 = 95 %; reuse 61e6 / 95e6.
    assert_eq!(
        row(&card, "", 2020, "wastewater_treatment_rate")["value"],
        95.0
    );
    // Leakage (120e6 − 111e6) / 120e6 = 7.5 % ≤ 8 %: met; sewers 12 + 6.5 = 18.5 km < 169.
    let l = row(&card, "", 2025, "leakage_rate");
    assert_eq!((l["value"].as_f64().unwrap() * 1e6).round() / 1e6, 7.5);
    assert_eq!(l["status"], "met");
    let s = row(&card, "", 2025, "sewer_pipe_built");
    assert_eq!(s["value"], 18.5);
    assert_eq!(s["status"], "not_met");
    assert_eq!(s["origins"][0]["kind"], "sum_of_districts");
    // The treatment rate's trend is measured from 2020's computed 95 %.
    let t = row(&card, "", 2025, "wastewater_treatment_rate");
    assert_eq!(t["baseline"]["year"], 2020);
    assert_eq!(t["baseline"]["stated"], false);
    let change = t["trend"]["change"].as_f64().unwrap();
    assert!((t["value"].as_f64().unwrap() - 95.0 - change).abs() < 1e-9);
    // Plan areas of seed 001 with nothing reported are listed apart.
    assert!(!card["unmatched_district_targets"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn bad_statistics_and_unknown_sets_exit_2_naming_the_problem() {
    let model = repo("examples/beijing-district/model.toml");
    let dir = std::env::temp_dir().join(format!("rewater-ind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "district,year,quantity,value\nnorth,2025,plants_count,-3\n",
    )
    .unwrap();
    let o = rewater(&["indicators", &model, "--stats", &bad.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{}, row 2, field value", bad.display())),
        "{err}"
    );
    let o = rewater(&["indicators", &model, "--targets", "seed-999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown target set 'seed-999'"));
    let o = rewater(&["indicators", &model, "--lang", "fr"]);
    assert_eq!(o.status.code(), Some(2));
}

mod common;

/// The scorecard page in a real browser (Debian's Chromium, headless, playwright-core):
/// Chinese and English, a trajectory chart, and a district operator sees only their district.
#[test]
fn the_scorecard_page_in_a_real_browser() {
    let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let Some(browser) = browser else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is required in CI: apt-get install chromium"
        );
        eprintln!("skipped: Debian's chromium is not installed (apt-get install chromium)");
        return;
    };
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rewater-web/web");
    let node_modules = rewater_api::web::node_modules_dir();
    let db = common::tmp("scorecard-web");
    assert_eq!(
        common::add_user(&db, "admin", "admin-password-1", "admin", None),
        Some(0)
    );
    assert_eq!(
        common::add_user(
            &db,
            "op-south",
            "south-password-1",
            "operator",
            Some("south")
        ),
        Some(0)
    );
    let server = common::start(&db, &[]);
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    let out = Command::new("node")
        .arg("tests/scorecard.mjs")
        .current_dir(&web)
        .env("REWATER_NODE_MODULES", node_modules)
        .env("REWATER_URL", format!("http://{}", server.api))
        .env("REWATER_ADMIN", "admin:admin-password-1")
        .env("REWATER_OPERATOR", "op-south:south-password-1")
        .env("REWATER_SCREENSHOTS", &shots)
        .env("REWATER_CHROMIUM", &browser)
        .output()
        .expect("running node");
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser test failed");
    assert!(shots.join("scorecard-operator.png").exists());
}

/// `--db`: the monitoring store's compliance and data-validity counts become the monitoring
/// indicators of their district and year (hand-computed: one compliant day of two; 36 valid
/// hourly records of the 5,136 expected from 2025-06-01 to the year's end).
#[test]
fn monitoring_indicators_come_from_the_store() {
    use rewater_store::prelude::*;
    let dir = std::env::temp_dir().join(format!("rewater-cli-ind-db-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("m.sqlite");
    {
        let mut s = rewater_store::SqliteStore::open(&db).unwrap();
        s.put_site(&rewater_store::Site {
            id: "plant-n".into(),
            name: "plant-n".into(),
            kind: "plant_outlet".into(),
            standard: Some("GB18918-2002:1A".into()),
            district: "north".into(),
            location: None,
            model_node: None,
        })
        .unwrap();
        s.put_device(&rewater_store::Device {
            mn: "MNA".into(),
            password_hash: rewater_store::hash_device_password("pw"),
            site_id: "plant-n".into(),
            lenient: true,
            accept_modbus_crc: false,
            allowed_peers: Vec::new(),
            disabled: false,
        })
        .unwrap();
        let day1 = 1_748_736_000i64; // 2025-06-01 00:00 wall clock
                                     // A fixed "now" shortly after, so that these DataTimes stay inside the store's window.
        s.set_ingest_rules(rewater_store::IngestRules {
            now_unix_s: Some(day1 + 10 * 86_400),
            ..rewater_store::IngestRules::default()
        });
        let up = |t: i64, cod: f64| rewater_store::Upload {
            mn: "MNA".into(),
            cn: "2051".into(),
            data_time: t,
            pno: 1,
            received_at_ms: 1,
            peer: "127.0.0.1:1".into(),
            raw: String::new(),
            readings: vec![rewater_store::FactorReading {
                factor: "w01018".into(),
                value: Some(cod),
                min: None,
                max: None,
                cou: None,
                flag: Some("N".into()),
            }],
        };
        let mut batch: Vec<_> = (0..24).map(|h| up(day1 + 3600 * h, 40.0)).collect();
        batch.extend((0..12).map(|h| up(day1 + 86_400 + 3600 * h, 60.0)));
        s.ingest(&batch).unwrap();
    }
    let model = repo("examples/pilot-city/model.toml");
    let card = json(&rewater(&[
        "indicators",
        &model,
        "--db",
        &db.display().to_string(),
        "--monitoring-year",
        "2025",
        "--format",
        "json",
    ]));
    let c = row(&card, "north", 2025, "monitoring_compliance_rate");
    assert_eq!(c["value"], 50.0);
    assert!(c["origins"].to_string().contains("monitoring"), "{c}");
    let v = row(&card, "north", 2025, "monitoring_data_validity_rate");
    let expected = 214 * 24; // 2025-06-01 … 2025-12-31
    assert!(
        (v["value"].as_f64().unwrap() - 36.0 / expected as f64 * 100.0).abs() < 1e-9,
        "{v}"
    );
}
