//! `rewater outfalls` (issue 16): import, list, trace and export through the binary, a bad
//! import refused with exit code 2 and nothing applied, and the outfall pages in a real
//! browser (`crates/rewater-web/web/tests/outfalls.mjs`, Debian's Chromium, headless).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/outfalls-qinghe")
}

/// A file of the repository's examples, as an argument.
fn example_file(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(rel)
        .display()
        .to_string()
}

/// A fresh store (its path and its path as text) holding the imported example ledger.
fn imported(name: &str) -> (PathBuf, String) {
    let db = tmp(name);
    let store = db.display().to_string();
    let ex = example().display().to_string();
    assert_eq!(
        rewater(&["outfalls", "import", &ex, "--store", &store]).0,
        0
    );
    (db, store)
}

fn rewater(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rewater"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn outfalls_import_list_trace_and_export_through_the_cli() {
    let db = tmp("outfalls-cli");
    let store = db.display().to_string();
    let ex = example().display().to_string();
    let (code, out, err) = rewater(&[
        "outfalls", "import", &ex, "--store", &store, "--who", "surveyor",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("imported 3 outfalls, 3 reaches, 2 sections, 2 dischargers, 3 links"),
        "{out}"
    );
    let (_, out, _) = rewater(&[
        "outfalls",
        "list",
        "--store",
        &store,
        "--district",
        "north",
        "--json",
    ]);
    assert_eq!(json(&out)["total"], 2);
    let (_, out, _) = rewater(&[
        "outfalls",
        "list",
        "--store",
        &store,
        "--compliance",
        "illegal",
    ]);
    assert!(
        out.contains("1 outfalls match") && out.contains("三号口"),
        "{out}"
    );
    let (_, out, _) = rewater(&[
        "outfalls",
        "show",
        "1101080001110108A0001",
        "--store",
        &store,
    ]);
    let v = json(&out);
    assert_eq!(v["chain"]["dischargers"][0], "91110108MA01ABCD1E");
    assert_eq!(v["versions"][0]["who"], "surveyor");
    // Backward from S2: 二号口 first with 5.779 g/s; within 2 hours only 三号口.
    let (_, out, _) = rewater(&[
        "outfalls",
        "trace",
        "--store",
        &store,
        "--section",
        "S2",
        "--observed",
        "3.5",
        "--background",
        "0.4",
    ]);
    let b = json(&out);
    assert_eq!(b["sources"][0]["outfall"], "1101080002110108B0002");
    assert!(
        (b["sources"][0]["delivered_load_g_per_s"].as_f64().unwrap() - 5.779_166_5).abs() < 1e-6
    );
    let (_, out, _) = rewater(&[
        "outfalls",
        "trace",
        "--store",
        &store,
        "--section",
        "S2",
        "--max-travel-h",
        "2",
    ]);
    assert_eq!(json(&out)["sources"].as_array().unwrap().len(), 1);
    let (_, out, _) = rewater(&[
        "outfalls",
        "trace",
        "--store",
        &store,
        "--outfall",
        "1101080001110108A0001",
    ]);
    assert_eq!(json(&out)["reached"][1]["travel_time_s"], 18_000.0);
    let (code, out, _) = rewater(&[
        "outfalls",
        "trace",
        "--store",
        &store,
        "--observe",
        "S1=1.5",
        "--observe",
        "S2=2.0",
    ]);
    assert_eq!(code, 0);
    assert!(json(&out)["relative_residual"].is_number());
    assert_eq!(
        rewater(&["outfalls", "trace", "--store", &store, "--observe", "S1"]).0,
        2
    );
    // Export to XLSX and import into a new store: the same ledger.
    let xlsx = db.with_file_name("ledger.xlsx");
    let (code, _, err) = rewater(&[
        "outfalls",
        "export",
        &xlsx.display().to_string(),
        "--store",
        &store,
        "--format",
        "xlsx",
    ]);
    assert_eq!(code, 0, "{err}");
    let db2 = db.with_file_name("second.sqlite").display().to_string();
    assert_eq!(
        rewater(&[
            "outfalls",
            "import",
            &xlsx.display().to_string(),
            "--store",
            &db2
        ])
        .0,
        0
    );
    assert_eq!(
        json(&rewater(&["outfalls", "list", "--store", &db2, "--json"]).1)["total"],
        3
    );
    // A bad row: exit code 2, the file, row and field named, nothing applied.
    let bad = db.with_file_name("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("outfalls.csv"), "code,name,class,district,lon,lat,datum,reach,chainage_m\nNEW-1,新口,industrial.nothing,north,116.3,40.0,WGS84,A,10\n").unwrap();
    let (code, _, err) = rewater(&[
        "outfalls",
        "import",
        &bad.display().to_string(),
        "--store",
        &store,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("outfalls.csv:2: field 'class'"), "{err}");
    assert_eq!(
        json(&rewater(&["outfalls", "list", "--store", &store, "--json"]).1)["total"],
        3
    );
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

#[test]
fn outfall_pages_in_a_real_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is required in CI: apt-get install chromium"
        );
        eprintln!("skipped: Debian's chromium is not installed (apt-get install chromium)");
        return;
    };
    let node_modules = rewater_api::web::node_modules_dir();
    assert!(
        Path::new(node_modules).join("playwright-core").exists(),
        "playwright-core missing in {node_modules}"
    );
    let db = tmp("outfalls-web");
    let store = db.display().to_string();
    assert_eq!(
        rewater(&[
            "outfalls",
            "import",
            &example().display().to_string(),
            "--store",
            &store
        ])
        .0,
        0
    );
    assert_eq!(
        add_user(
            &db,
            "op-north",
            "north-password-1",
            "operator",
            Some("north")
        ),
        Some(0)
    );
    // A tile server on 127.0.0.1: every request answered with a 1 × 1 PNG, and counted.
    let (tile_url, tiles) = tile_server();
    let server = start(&db, &["--tile-url", &tile_url]);
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rewater-web/web");
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    let out = Command::new("node")
        .arg("tests/outfalls.mjs")
        .current_dir(&web)
        .env("REWATER_NODE_MODULES", node_modules)
        .env("REWATER_URL", format!("http://{}", server.api))
        .env("REWATER_OPERATOR", "op-north:north-password-1")
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
    assert!(shots.join("outfall-trace.png").exists());
    let n = tiles.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        n > 0,
        "the ledger map fetched no tiles from the configured tile server"
    );
    // The step is in the store's audit log.
    let (_, text) = http(&server.api, "GET", "/api/audit", Some(TOKEN), None);
    assert!(
        text.contains("rectification.open") && text.contains("rectification.done"),
        "{text}"
    );
}

/// The district self-report (due 31 January) from the imported example ledger: north's two
/// outfalls, both surveyed (2025-03) and monitored in 2025 (2025-05), one traced to a
/// discharger through the chain, none illegal, so dynamic zero holds; an unknown district
/// is refused with exit code 2.
#[test]
fn the_district_self_report_counts_the_example_ledger() {
    let db = tmp("outfalls-report");
    let store = db.display().to_string();
    let ex = example().display().to_string();
    let (code, _, err) = rewater(&["outfalls", "import", &ex, "--store", &store]);
    assert_eq!(code, 0, "{err}");
    let args = |d: &'static str, lang: &'static str| {
        vec![
            "outfalls",
            "report",
            "--store",
            &store,
            "--district",
            d,
            "--year",
            "2025",
            "--lang",
            lang,
        ]
    };
    let (code, out, err) = rewater(&args("north", "zh"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("报送截止：2026-01-31"), "{out}");
    for line in [
        "| 排污口总数 | 2 | |",
        "| 已排查 | 2 | 100.0 % |",
        "| 年度监测 | 2 | 100.0 % |",
        "| 已溯源至排污单位或通道 | 1 | 50.0 % |",
        "| 违规排污口 | 0 | 0.0 % |",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    assert!(out.contains("动态清零：已实现"), "{out}");
    let (code, en, _) = rewater(&args("north", "en"));
    assert_eq!(code, 0);
    assert!(!en.contains("排污口总数"), "{en}");
    let (code, _, err) = rewater(&args("nowhere", "zh"));
    assert_eq!(code, 2);
    assert!(err.contains("nowhere"), "{err}");
}

/// The ledger's coverage as indicators (`rewater indicators --db`): north 2 of 2 surveyed,
/// 1 of 2 traced; south's one illegal outfall not yet rectified (0 %); north has no illegal
/// outfall, so its rectification rate is not reported rather than 0 %.
#[test]
fn ledger_coverage_becomes_indicators_by_district() {
    let (_, store) = imported("outfalls-indicators");
    let model = example_file("pilot-city/model.toml");
    let (code, out, err) = rewater(&[
        "indicators",
        &model,
        "--db",
        &store,
        "--monitoring-year",
        "2025",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let card = json(&out);
    let value = |d: &str, ind: &str| {
        card["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["district"] == d && r["year"] == 2025 && r["indicator"] == ind)
            .map(|r| r["value"].clone())
    };
    assert_eq!(value("north", "outfall_survey_rate"), Some(100.0.into()));
    assert_eq!(
        value("north", "outfall_traceability_rate"),
        Some(50.0.into())
    );
    assert_eq!(
        value("south", "outfall_rectification_rate"),
        Some(0.0.into())
    );
    assert_eq!(value("north", "outfall_rectification_rate"), None);
}

/// `rewater outfalls spills`: the beijing-cso case's regulator R1 overflows; the ledger's
/// 三号口 names it (`overflow_outlet = R1.overflow`), so its spill years are the 12/24
/// counts of the outlet's spells in each calendar year, stored, and in the self-report.
#[test]
fn spills_of_an_overflow_case_are_counted_stored_and_reported() {
    let (db, store) = imported("outfalls-spills");
    let case = example_file("beijing-cso/case.toml");
    // The simulation's own spells, counted here with the library's rule, per start year.
    let (code, out, err) = rewater(&["overflow", "run", &case, "--json"]);
    assert_eq!(code, 0, "{err}");
    let run = json(&out)["report"].clone();
    let outlet = &run["outlets"][0];
    assert_eq!(outlet["name"], "R1.overflow");
    let mut by_year: std::collections::BTreeMap<i32, Vec<rewater_outfalls::spills::Discharge>> =
        Default::default();
    for y in run["annual"].as_array().unwrap() {
        by_year
            .entry(y["year"].as_i64().unwrap() as i32)
            .or_default();
    }
    for s in outlet["spells"].as_array().unwrap() {
        let start = s["start_s"].as_i64().unwrap();
        let year = rewater_time::Date::from_wall_seconds(start).ymd().0;
        by_year
            .entry(year)
            .or_default()
            .push(rewater_outfalls::spills::Discharge {
                start_s: start,
                end_s: s["end_s"].as_i64().unwrap(),
            });
    }
    let (code, out, err) = rewater(&["outfalls", "spills", &case, "--store", &store]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{} spill years stored", by_year.len())),
        "{err}"
    );
    let mut s = rewater_store::open(&store).unwrap();
    let stored = rewater_outfalls::store::spill_years(s.as_mut(), None, None, None).unwrap();
    assert_eq!(stored.len(), by_year.len());
    let mut total = 0;
    for y in &stored {
        assert_eq!(y.outfall, "1101080003110105X0003");
        let want = rewater_outfalls::spills::count_12_24(&by_year[&y.year]);
        assert_eq!(
            (y.spills, y.discharges),
            (want.spills, want.discharges),
            "{}",
            y.year
        );
        total += y.spills;
    }
    // Every overflowing event gives at least one spill.
    assert!(
        total as f64 >= run["summary"]["overflow_events"].as_f64().unwrap(),
        "{out}"
    );
    // Counted again: the same figures, nothing new stored.
    let (_, _, err) = rewater(&["outfalls", "spills", &case, "--store", &store]);
    assert!(err.contains("0 spill years stored"), "{err}");
    // The self-report of south for the wettest year lists them.
    let wet = stored.iter().max_by_key(|y| y.spills).unwrap();
    let year = wet.year.to_string();
    let (code, md, err) = rewater(&[
        "outfalls",
        "report",
        "--store",
        &store,
        "--district",
        "south",
        "--year",
        &year,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(md.contains("## 溢流口溢流次数（12/24 计数）"), "{md}");
    assert!(
        md.contains(&format!(
            "| 1101080003110105X0003 | {} | {} |",
            wet.spills, wet.discharges
        )),
        "{md}"
    );
    let html = db.with_extension("html");
    let (code, _, err) = rewater(&[
        "outfalls",
        "report",
        "--store",
        &store,
        "--district",
        "south",
        "--year",
        &year,
        "--lang",
        "en",
        "--format",
        "html",
        "--out",
        &html.display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Overflow spills (12/24 counting)") && page.contains("estimated"),
        "{page}"
    );
    // A case whose outlets no outfall names is refused, naming the outlets.
    let (_, other) = imported("outfalls-spills-none");
    let mut o = rewater_store::open(&other).unwrap();
    let mut l = rewater_outfalls::store::load_ledger(o.as_mut()).unwrap();
    for x in &mut l.outfalls {
        x.overflow_outlet = None;
    }
    rewater_outfalls::store::save_ledger(o.as_mut(), &l, "t", "unlinked", 1).unwrap();
    let (code, _, err) = rewater(&["outfalls", "spills", &case, "--store", &other]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("R1.overflow"), "{err}");
}

/// `rewater outfalls check-model`: the example ledger's 二号口 stands for the Beijing-style
/// model's plant-north; the model's two outfall nodes have no ledger entry yet; a link to a
/// user node is refused with exit code 1.
#[test]
fn the_ledger_is_checked_against_the_regional_model() {
    let (_, store) = imported("outfalls-model");
    let model = example_file("beijing-district/model.toml");
    let (code, out, err) = rewater(&[
        "outfalls",
        "check-model",
        &model,
        "--store",
        &store,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let m = json(&out);
    assert_eq!(
        m["linked"],
        serde_json::json!([["1101080002110108B0002", "plant-north", "plant"]])
    );
    assert_eq!(
        m["model_outfalls_without_entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[0].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["outfall-north", "outfall-south"]
    );
    assert_eq!(m["outfalls_without_node"], 2);
    let mut s = rewater_store::open(&store).unwrap();
    let mut l = rewater_outfalls::store::load_ledger(s.as_mut()).unwrap();
    l.outfalls[0].model_node = Some("greening".into());
    rewater_outfalls::store::save_ledger(s.as_mut(), &l, "t", "wrong link", 1).unwrap();
    let (code, out, _) = rewater(&["outfalls", "check-model", &model, "--store", &store]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("model_node 'greening' is a user (outfall, river or plant expected)"),
        "{out}"
    );
}

/// A 1 × 1 PNG for every request, counting them: the configured tile server of the ledger map.
fn tile_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    const PNG: [u8; 69] = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90,
        0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x98,
        0xbd, 0xfb, 0x2e, 0x00, 0x04, 0x28, 0x02, 0x34, 0x4c, 0xf8, 0xf2, 0xe8, 0x00, 0x00, 0x00,
        0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            if s.read(&mut buf).unwrap_or(0) == 0 {
                continue;
            }
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                PNG.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&PNG);
        }
    });
    (
        format!("http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"),
        count,
    )
}
