//! The outfall routes (issue 16) with district scoping on every one: an operator of
//! district north sees and acts on north only; a viewer reads but cannot write; tracing,
//! rectification steps and coverage answer with real values.

mod common;

use common::*;
use serde_json::Value;

fn get(a: &str, s: &(String, String), path: &str) -> Resp {
    as_session(a, s, "GET", path, "")
}

#[test]
fn every_outfall_route_is_scoped_to_the_operators_district() {
    let server = serve("outfalls-scope", Default::default());
    let a = &server.addr;
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let viewer = login(a, VIEWER.0, VIEWER.1);
    // List: the administrator sees 3, the operator the 2 of north; asking for south is 403.
    assert_eq!(api(a, "GET", "/api/outfalls", "").json()["total"], 3);
    let l = get(a, &op, "/api/outfalls").json();
    assert_eq!(l["total"], 2);
    assert!(l["outfalls"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["district"] == "north"));
    assert_eq!(get(a, &op, "/api/outfalls?district=south").status, 403);
    assert_eq!(
        get(a, &viewer, "/api/outfalls?district=south").json()["total"],
        1
    );
    // One outfall.
    assert_eq!(
        get(a, &op, &format!("/api/outfalls/{OUTFALL_SOUTH}")).status,
        403
    );
    let o = get(a, &op, &format!("/api/outfalls/{OUTFALL_NORTH}"));
    assert_eq!(o.status, 200, "{}", o.body);
    let o = o.json();
    assert_eq!(o["chain"]["channels"], serde_json::json!(["P1"]));
    assert_eq!(o["dischargers"][0]["name"], "甲公司");
    assert_eq!(o["downstream"]["reached"][0]["travel_time_s"], 3600.0);
    assert_eq!(o["line"]["class_zh"], "工矿企业排污口");
    assert_eq!(o["versions"][0]["who"], "seed");
    assert_eq!(api(a, "GET", "/api/outfalls/NOPE", "").status, 404);
    // Sections: north's only.
    let s = get(a, &op, "/api/outfall-sections").json();
    let ids: Vec<&str> = s["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["S1"]);
    // Tracing from a section of another district is refused; from S1 it ranks O2, O1.
    let t = |s: &(String, String), body: Value| {
        as_session(a, s, "POST", "/api/outfall-trace", &body.to_string())
    };
    assert_eq!(t(&op, serde_json::json!({"section": "S2"})).status, 403);
    let r = t(
        &op,
        serde_json::json!({"section": "S1", "observed_mg_per_l": 3.0, "background_mg_per_l": 0.8}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = r.json()["trace"].clone();
    assert_eq!(r["sources"][0]["outfall"], "1101080002110108B0002");
    assert_eq!(r["sources"][1]["dischargers"][0], "91110108MA01ABCD1E");
    assert_eq!(
        r["excess_load_g_per_s"].as_f64().unwrap(),
        (3.0 - 0.8) * 5.0
    );
    assert_eq!(
        t(
            &op,
            serde_json::json!({"section": "S1", "max_travel_h": -1})
        )
        .status,
        400
    );
    assert_eq!(t(&op, serde_json::json!({"section": "S9"})).status, 404);
    // Without a value, the latest reading of the section's data logger is used (S2's MN).
    {
        let mut store = rewater_store::open(&server.db.display().to_string()).unwrap();
        let up = rewater_store::Upload {
            mn: "SECTIONMN0000002".into(),
            cn: "2061".into(),
            data_time: WALL_0800,
            pno: 1,
            received_at_ms: 1_748_764_800_000,
            peer: "127.0.0.1:1".into(),
            raw: String::new(),
            readings: vec![rewater_store::FactorReading {
                factor: "w01018".into(),
                value: Some(3.5),
                min: None,
                max: None,
                cou: None,
                flag: Some("N".into()),
            }],
        };
        store.ingest(&[up]).unwrap();
    }
    let r = api(
        a,
        "POST",
        "/api/outfall-trace",
        r#"{"section": "S2", "background_mg_per_l": 0.4}"#,
    )
    .json();
    assert_eq!(r["trace"]["observed_mg_per_l"], 3.5);
    assert_eq!(r["trace"]["observed_basis"], "measured");
    assert_eq!(
        r["trace"]["excess_load_g_per_s"].as_f64().unwrap(),
        (3.5 - 0.4) * 5.0
    );
    assert!(
        r["observed_from"]
            .as_str()
            .unwrap()
            .starts_with("HJ 212 SECTIONMN0000002 w01018 2025-06-01T08:00"),
        "{r}"
    );
    // Coverage: the operator's district only.
    let c = get(a, &op, "/api/outfall-coverage?year=2025").json()["coverage"].clone();
    assert_eq!(
        c["by_district"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["north"]
    );
    assert_eq!(c["total"]["outfalls"], 2);
    assert_eq!(c["total"]["monitored"], 2);
    let all = api(a, "GET", "/api/outfall-coverage?year=2025", "").json()["coverage"].clone();
    assert_eq!(all["total"]["outfalls"], 3);
    assert_eq!(all["total"]["illegal"], 1);
}

#[test]
fn rectification_records_are_opened_and_moved_on_within_the_district() {
    let server = serve("outfalls-rect", Default::default());
    let a = &server.addr;
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let viewer = login(a, VIEWER.0, VIEWER.1);
    let boss = login(a, ADMIN.0, ADMIN.1);
    let body = serde_json::json!({"problem": "雨污混接", "measure": "regulate", "responsible_unit": "北区水务局", "deadline": "2026-06-30"}).to_string();
    let open = |s: &(String, String), code: &str| {
        as_session(
            a,
            s,
            "POST",
            &format!("/api/outfalls/{code}/rectifications"),
            &body,
        )
    };
    assert_eq!(open(&viewer, OUTFALL_NORTH).status, 403);
    assert_eq!(open(&op, OUTFALL_SOUTH).status, 403);
    let r = open(&op, OUTFALL_NORTH);
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["rectification"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The outfall is now marked illegal, as a new version.
    let o = get(a, &op, &format!("/api/outfalls/{OUTFALL_NORTH}")).json();
    assert_eq!(o["line"]["compliance"], "illegal");
    assert_eq!(o["versions"].as_array().unwrap().len(), 2);
    assert_eq!(o["rectifications"][0]["id"], id.as_str());
    let step = |s: &(String, String), rid: &str, b: Value| {
        as_session(
            a,
            s,
            "POST",
            &format!("/api/rectifications/{rid}/state"),
            &b.to_string(),
        )
    };
    // Steps: the operator may not touch south's record; done needs evidence; the sign-off
    // is by someone else.
    assert_eq!(
        step(
            &op,
            RECTIFICATION,
            serde_json::json!({"state": "in_progress"})
        )
        .status,
        403
    );
    assert_eq!(
        step(&op, &id, serde_json::json!({"state": "done"})).status,
        400
    );
    assert_eq!(
        step(
            &op,
            &id,
            serde_json::json!({"state": "done", "evidence": ["after.jpg"]})
        )
        .status,
        200
    );
    assert_eq!(
        step(&op, &id, serde_json::json!({"state": "signed_off"})).status,
        400
    );
    assert_eq!(
        step(&viewer, &id, serde_json::json!({"state": "signed_off"})).status,
        403
    );
    let r = step(
        &boss,
        &id,
        serde_json::json!({"state": "signed_off", "note": "销号"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = r.json();
    let who: Vec<&str> = r["rectification"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["who"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["op-north", "op-north", "boss"]);
    assert_eq!(r["versions"].as_array().unwrap().len(), 3);
    assert_eq!(
        step(&boss, "NOPE", serde_json::json!({"state": "done"})).status,
        404
    );
    assert_eq!(
        step(&boss, &id, serde_json::json!({"state": "flying"})).status,
        400
    );
    // Audited.
    let log = api(a, "GET", "/api/audit?limit=100", "").body;
    assert!(
        log.contains("rectification.open") && log.contains("rectification.signed_off"),
        "{log}"
    );
    // Coverage counts it rectified.
    let c = api(a, "GET", "/api/outfall-coverage?year=2025", "").json()["coverage"].clone();
    assert_eq!(c["by_district"]["north"]["rectified"], 1);
}

#[test]
fn a_trace_takes_outfall_discharges_from_their_loggers() {
    let server = serve("outfalls-loggers", Default::default());
    let a = &server.addr;
    let zone = rewater_time::Zone::shanghai();
    let at = zone.now_wall_seconds() - 600;
    {
        let mut store = rewater_store::open(&server.db.display().to_string()).unwrap();
        let reading = |factor: &str, value: f64| rewater_store::FactorReading {
            factor: factor.into(),
            value: Some(value),
            min: None,
            max: None,
            cou: None,
            flag: Some("N".into()),
        };
        let up = rewater_store::Upload {
            mn: "OUTFALLMN00000002".into(),
            cn: "2061".into(),
            data_time: at - at % 3600,
            pno: 1,
            received_at_ms: 1_748_764_800_000,
            peer: "127.0.0.1:1".into(),
            raw: String::new(),
            readings: vec![
                reading("w00000", 400.0),
                reading("w01018", 40.0),
                reading("w21003", 2.0),
            ],
        };
        store.ingest(&[up]).unwrap();
    }
    let trace = |body: &str| api(a, "POST", "/api/outfall-trace", body).json();
    // O2 (0.4 m³/s × 40 mg/L = 16 g/s measured) leads; 1800 m at 1 m/s, decay 0.2/day.
    let r = trace(r#"{"section": "S1"}"#);
    let want = 16.0 * (-0.2f64 * 1800.0 / 86_400.0).exp();
    let got = r["trace"]["sources"][0]["delivered_load_g_per_s"]
        .as_f64()
        .unwrap();
    assert!((got - want).abs() < 1e-9, "{r}");
    let used = &r["discharges_from"][0];
    assert_eq!(used["outfall"], "1101080002110108B0002");
    assert_eq!(used["taken"]["flow_m3_per_s"], 0.4);
    assert!(used["data_time"].as_str().unwrap().ends_with("+08:00"));
    // Without loggers: the ledger's typical 0.2 × 30 = 6 g/s.
    let r = trace(r#"{"section": "S1", "logger_window_h": 0}"#);
    let got = r["trace"]["sources"][0]["delivered_load_g_per_s"]
        .as_f64()
        .unwrap();
    assert!((got - 6.0 * (-0.2f64 * 1800.0 / 86_400.0).exp()).abs() < 1e-9);
    assert_eq!(r["discharges_from"], serde_json::json!([]));
    // The answer holds at most `limit` sources; shares stay those of all ranked sources.
    let r = trace(r#"{"section": "S1", "logger_window_h": 0, "limit": 1}"#);
    assert_eq!(r["trace"]["sources"].as_array().unwrap().len(), 1);
    assert_eq!(r["trace"]["sources_total"], 2);
    let share = r["trace"]["sources"][0]["share_of_ranked"]
        .as_f64()
        .unwrap();
    let d = (-0.2f64 * 1800.0 / 86_400.0).exp();
    let o1 = 5.0 * (-0.2f64 * 3600.0 / 86_400.0).exp();
    assert!((share - 6.0 * d / (6.0 * d + o1)).abs() < 1e-9, "{r}");
    assert_eq!(
        api(
            a,
            "POST",
            "/api/outfall-trace",
            r#"{"section": "S1", "limit": 0}"#
        )
        .status,
        400
    );
    assert_eq!(
        api(
            a,
            "POST",
            "/api/outfall-trace",
            r#"{"section": "S1", "logger_window_h": -1}"#
        )
        .status,
        400
    );
}

#[test]
fn the_cached_ledger_follows_every_change() {
    let server = serve("outfalls-cache", Default::default());
    let a = &server.addr;
    let path = format!("/api/outfalls/{OUTFALL_NORTH}");
    assert_eq!(
        api(a, "GET", &path, "").json()["line"]["compliance"],
        "legal"
    );
    // Opening a record marks the outfall illegal: the next read sees it (a new store stamp).
    let r = api(
        a,
        "POST",
        &format!("{path}/rectifications"),
        r#"{"problem": "未批先设", "measure": "regulate", "responsible_unit": "甲公司", "deadline": "2026-06-30"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        api(a, "GET", &path, "").json()["line"]["compliance"],
        "illegal"
    );
    // A change made behind the server's back (another process on the same file) too.
    {
        let mut store = rewater_store::open(&server.db.display().to_string()).unwrap();
        let mut l = rewater_outfalls::store::load_ledger(store.as_mut()).unwrap();
        let o = l
            .outfalls
            .iter_mut()
            .find(|o| o.code == OUTFALL_NORTH)
            .unwrap();
        o.name = "一号口（改）".into();
        rewater_outfalls::store::save_ledger(store.as_mut(), &l, "surveyor", "renamed", 1).unwrap();
    }
    assert_eq!(
        api(a, "GET", &path, "").json()["line"]["name"],
        "一号口（改）"
    );
}

#[test]
fn the_district_self_report_downloads_in_three_formats_within_the_district() {
    let server = serve("outfalls-self-report", Default::default());
    let a = &server.addr;
    let op = login(a, OPERATOR.0, OPERATOR.1);
    // The operator's own district by default; Markdown with the figures of north.
    let md = get(a, &op, "/api/outfall-report?year=2025&format=md");
    assert_eq!(md.status, 200, "{}", md.body);
    assert!(
        md.body
            .starts_with("# north 2025 年度入河排污口监督管理情况自查报告"),
        "{}",
        md.body
    );
    assert!(md.body.contains("| 排污口总数 | 2 | |"), "{}", md.body);
    let html = api(
        a,
        "GET",
        "/api/outfall-report?district=south&year=2025&lang=en",
        "",
    );
    assert_eq!(html.status, 200);
    assert!(
        html.body
            .contains("<h1>south: self-report on river-outfall supervision, 2025</h1>"),
        "{}",
        html.body
    );
    // Another district, a bad format, year or language, an unknown district: refused.
    assert_eq!(
        get(a, &op, "/api/outfall-report?district=south&year=2025").status,
        403
    );
    for q in [
        "district=north&format=docx",
        "district=north&year=1800",
        "district=north&lang=fr",
        "district=nowhere",
        "year=2025",
    ] {
        let r = api(a, "GET", &format!("/api/outfall-report?{q}"), "");
        assert_eq!(r.status, 400, "{q}: {}", r.body);
    }
    // A PDF when the server has Chromium.
    if rewater_reports::pdf::find_chromium().is_some() {
        let pdf = get(a, &op, "/api/outfall-report?year=2025&format=pdf");
        assert_eq!(pdf.status, 200, "{}", pdf.body);
        assert!(pdf.body.starts_with("%PDF"), "not a PDF");
    } else if std::env::var_os("CI").is_some() {
        panic!("CI: Chromium is missing (apt-get install chromium)");
    } else {
        eprintln!("NOTE: no Chromium; the PDF download was not tried");
    }
}

fn auth_header() -> String {
    format!("Bearer {TOKEN}")
}

fn import(a: &str, file: &str, body: &[u8]) -> Resp {
    let h = auth_header();
    request(
        a,
        "POST",
        &format!("/api/outfalls/import?file={file}"),
        &[
            ("Authorization", h.as_str()),
            ("Content-Type", "application/octet-stream"),
        ],
        body,
    )
}

#[test]
fn the_ledger_imports_a_file_over_http_all_or_nothing() {
    let server = serve("outfalls-import", Default::default());
    let a = &server.addr;
    let header = "code,name,class,district,lon,lat,datum,reach,chainage_m,approval,responsible,survey_level,survey_date,evidence,compliance,flow_m3_per_s,conc_mg_per_l,discharge_basis,monitored_on,site_mn,overflow_outlet,model_node\n";
    let new_row = "1101080004110108A0004,四号口,industrial.enterprise,north,116.315,40.046,WGS84,A,2400,,丁公司,1,2025-04-01,,legal,0.02,cod=60,estimated,,,,\n";
    let r = import(a, "outfalls.csv", format!("{header}{new_row}").as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["report"]["outfalls"], 1);
    assert_eq!(r.json()["new_versions"], 1);
    assert_eq!(api(a, "GET", "/api/outfalls", "").json()["total"], 4);
    // A bad row (unknown reach) refuses the whole file, naming the record and the field.
    let bad_row = new_row
        .replace("0004110108A0004", "0005110108A0005")
        .replace(",A,2400", ",NOPE,0");
    let r = import(
        a,
        "outfalls.csv",
        format!("{header}{new_row}{bad_row}").as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let msg = r.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(
        msg.contains("1101080005110108A0005") && msg.contains("'reach'") && msg.contains("NOPE"),
        "{msg}"
    );
    assert!(msg.contains("nothing applied"), "{msg}");
    assert_eq!(api(a, "GET", "/api/outfalls", "").json()["total"], 4);
    // Names that could leave the folder, unknown formats, garbage content.
    for name in ["..%2Fx.csv", "a%2Fb.csv", "x.exe", "noext", ".csv"] {
        assert_eq!(import(a, name, b"x").status, 400, "{name}");
    }
    assert_eq!(import(a, "outfalls.xlsx", b"not a workbook").status, 400);
    assert_eq!(import(a, "ledger.geojson", b"{\"type\": 1}").status, 400);
    // Operators and viewers may not import.
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let r = as_session(
        a,
        &op,
        "POST",
        "/api/outfalls/import?file=outfalls.csv",
        header,
    );
    assert_eq!(r.status, 403, "{}", r.body);
}

#[test]
fn an_import_larger_than_the_limit_is_refused_while_streaming() {
    use std::io::{Read, Write};
    let server = serve("outfalls-import-big", Default::default());
    let a = &server.addr;
    let mut s = std::net::TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let total: usize = 100 << 20;
    let head = format!(
        "POST /api/outfalls/import?file=outfalls.csv HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\nAuthorization: {}\r\nContent-Type: text/csv\r\nContent-Length: {total}\r\n\r\n",
        auth_header()
    );
    s.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    // The server answers (and may close) as soon as the limit is passed.
    for _ in 0..100 {
        if s.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    // Nothing was imported and the next import runs (the slot was given back).
    assert_eq!(api(a, "GET", "/api/outfalls", "").json()["total"], 3);
    let r = import(a, "outfalls.csv", b"code\n");
    assert_eq!(
        (r.status, r.json()["new_versions"].as_i64()),
        (200, Some(0))
    );
}
