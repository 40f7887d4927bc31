//! The HTTP API of `rewater serve`, over real HTTP, with data sent by a data logger over HJ 212.

mod common;

use common::*;
use serde_json::Value;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn json(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let (status, text) = http(addr, method, path, Some(TOKEN), body);
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}")),
    )
}

#[test]
fn tokens_are_required_except_for_health_and_the_openapi_document() {
    let db = tmp("api-auth");
    let server = start(&db, &[]);
    assert_eq!(http(&server.api, "GET", "/api/health", None, None).0, 200);
    let (status, doc) = http(&server.api, "GET", "/api/openapi.json", None, None);
    assert_eq!(status, 200);
    assert!(doc.contains("\"openapi\":\"3.1.0\""));
    assert_eq!(http(&server.api, "GET", "/api/sites", None, None).0, 401);
    assert_eq!(
        http(&server.api, "GET", "/api/sites", Some("wrong"), None).0,
        401
    );
    let (status, v) = json(&server.api, "GET", "/api/sites", None);
    assert_eq!(status, 200);
    assert_eq!(v["sites"].as_array().unwrap().len(), 6);
    // Device passwords are never returned.
    let (_, text) = http(&server.api, "GET", "/api/devices", Some(TOKEN), None);
    assert!(text.contains("RWDEMO0000000001") && !text.contains("123456"));
    assert_eq!(
        http(&server.api, "GET", "/api/sites/nowhere", Some(TOKEN), None).0,
        404
    );
}

#[test]
fn latest_series_compliance_and_alert_workflow() {
    let db = tmp("api-data");
    let server = start(&db, &[]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    // Two hours of minute COD at the north plant outlet (DB11/890 new B: COD ≤ 30): 20 mg/L in
    // the first hour, 40 mg/L in the second.
    for k in 0..120 {
        let mut u = upload(DEMO_MN, "123456", k, true);
        u.factors[0].values[0].1 = if k < 60 { 20.0 } else { 40.0 };
        assert!(exchange(&mut s, &u.frame(), Some("CN=9014")).is_some());
    }
    let site = "plant-north-outlet";
    let (status, v) = json(
        &server.api,
        "GET",
        &format!("/api/sites/{site}/latest"),
        None,
    );
    assert_eq!(status, 200);
    let cod = &v["values"][0];
    assert_eq!(cod["reading"]["factor"], "w01018");
    assert_eq!(cod["reading"]["value"], 40.0);
    assert_eq!(cod["checks"][0]["standard"], "DB11/890-2012:new_B");
    assert_eq!(cod["checks"][0]["meets"], false);
    assert_eq!(cod["checks"][0]["confidence"], "unverified");
    // Hourly series from the kept aggregates; 10-minute series from readings.
    let t0 = 1_748_736_000i64;
    let (_, v) = json(
        &server.api,
        "GET",
        &format!(
            "/api/sites/{site}/series?factor=cod&from={t0}&to={}&bucket=3600",
            t0 + 7200
        ),
        None,
    );
    let pts = v["points"].as_array().unwrap();
    assert_eq!(pts.len(), 2);
    assert_eq!(
        (pts[0]["mean"].as_f64(), pts[0]["n"].as_i64()),
        (Some(20.0), Some(60))
    );
    assert_eq!(pts[1]["mean"].as_f64(), Some(40.0));
    let (_, v) = json(
        &server.api,
        "GET",
        &format!(
            "/api/sites/{site}/series?factor=w01018&from={t0}&to={}&bucket=600",
            t0 + 7200
        ),
        None,
    );
    assert_eq!(v["points"].as_array().unwrap().len(), 12);
    let (status, _) = json(
        &server.api,
        "GET",
        &format!("/api/sites/{site}/series?factor=nope"),
        None,
    );
    assert_eq!(status, 400);
    // Compliance: one day of data whose daily mean (30) meets new B's COD 30.
    let (_, v) = json(
        &server.api,
        "GET",
        &format!("/api/sites/{site}/compliance?from=2025-06-01&to=2025-06-02"),
        None,
    );
    let f = &v["reports"][0]["factors"][0];
    assert_eq!(
        (f["days_with_data"].as_i64(), f["exceedance_days"].as_i64()),
        (Some(1), Some(0))
    );
    // The exceedance alert: acknowledge, close, history with who.
    let t = Instant::now();
    let id = loop {
        let (_, v) = json(
            &server.api,
            "GET",
            "/api/alerts?state=open&site=plant-north-outlet",
            None,
        );
        if let Some(a) = v["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "exceedance")
        {
            break a["id"].as_i64().unwrap();
        }
        assert!(t.elapsed() < Duration::from_secs(5), "no exceedance alert");
        std::thread::sleep(Duration::from_millis(50));
    };
    let (status, v) = json(
        &server.api,
        "POST",
        &format!("/api/alerts/{id}/state"),
        Some(r#"{"state": "acknowledged", "comment": "lab sample taken"}"#),
    );
    assert_eq!(
        (status, v["alert"]["state"].as_str()),
        (200, Some("acknowledged"))
    );
    let (status, _) = json(
        &server.api,
        "POST",
        &format!("/api/alerts/{id}/state"),
        Some(r#"{"state": "open"}"#),
    );
    assert_eq!(status, 400);
    let (status, _) = json(
        &server.api,
        "POST",
        &format!("/api/alerts/{id}/state"),
        Some(r#"{"state": "closed", "comment": "analyser recalibrated"}"#),
    );
    assert_eq!(status, 200);
    let (_, v) = json(&server.api, "GET", &format!("/api/alerts/{id}"), None);
    let h = v["history"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (
            h[0]["who"].as_str(),
            h[1]["state"].as_str(),
            h[1]["comment"].as_str()
        ),
        (Some("api"), Some("closed"), Some("analyser recalibrated"))
    );
    assert_eq!(
        json(
            &server.api,
            "POST",
            "/api/alerts/999999/state",
            Some(r#"{"state": "closed"}"#)
        )
        .0,
        404
    );
    assert_eq!(
        http(
            &server.api,
            "POST",
            &format!("/api/alerts/{id}/state"),
            Some(TOKEN),
            Some("not json")
        )
        .0,
        400
    );
}
