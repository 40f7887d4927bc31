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
    assert!(text.contains("RWDEMO0000000001") && !text.contains(&server.device_pw));
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
    send_north_cod(&mut s, &server.device_pw);
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

/// A request with extra headers; returns (status, response head, body).
fn raw(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_string(), body.to_string())
}

fn add_account(db: &std::path::Path, name: &str, role: &str, district: Option<&str>) {
    let password = format!("{name}-password-1");
    assert_eq!(add_user(db, name, &password, role, district), Some(0));
}

/// Logs in; returns (cookie header value, CSRF token).
fn login(addr: &str, name: &str) -> (String, String) {
    let (status, head, body) = raw(
        addr,
        "POST",
        "/api/login",
        &[],
        &format!(r#"{{"name":"{name}","password":"{name}-password-1"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    assert!(head.to_ascii_lowercase().contains("httponly") && head.contains("SameSite=Strict"));
    let v: Value = serde_json::from_str(&body).unwrap();
    (cookie, v["csrf"].as_str().unwrap().to_string())
}

#[test]
fn accounts_roles_sessions_csrf_tokens_and_audit() {
    let db = tmp("api-accounts");
    add_account(&db, "boss", "admin", None);
    add_account(&db, "op-north", "operator", Some("north"));
    add_account(&db, "watcher", "viewer", None);
    let server = start(&db, &[]);
    let a = server.api.as_str();

    // Wrong password, unknown name, malformed and hostile bodies: refused alike, nothing stored.
    for body in [
        r#"{"name":"boss","password":"wrong-password"}"#,
        r#"{"name":"nobody","password":"boss-password-1"}"#,
        r#"{"name":"boss'; DROP TABLE account; --","password":"x"}"#,
    ] {
        assert_eq!(raw(a, "POST", "/api/login", &[], body).0, 401, "{body}");
    }
    assert!(matches!(
        raw(a, "POST", "/api/login", &[], "{not json").0,
        400 | 415 | 422
    ));
    let long = format!(r#"{{"name":"boss","password":"{}"}}"#, "x".repeat(100_000));
    assert_eq!(raw(a, "POST", "/api/login", &[], &long).0, 401);

    let (boss, boss_csrf) = login(a, "boss");
    let (op, op_csrf) = login(a, "op-north");
    let (viewer, viewer_csrf) = login(a, "watcher");
    let me = |c: &str| raw(a, "GET", "/api/me", &[("Cookie", c)], "");
    let (status, _, body) = me(&op);
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["role"].as_str(), v["district"].as_str()),
        (Some("operator"), Some("north"))
    );
    assert_eq!(me("rw_session=forged").0, 401);

    // District scoping: the north operator sees the three north sites of six.
    let (_, _, body) = raw(a, "GET", "/api/sites", &[("Cookie", &op)], "");
    let v: Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = v["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"plant-north-outlet") && !ids.contains(&"plant-south-outlet"),
        "{ids:?}"
    );
    assert_eq!(
        raw(
            a,
            "GET",
            "/api/sites/plant-south-outlet/latest",
            &[("Cookie", &op)],
            ""
        )
        .0,
        403
    );
    // The same scoping in the GeoJSON export: every model node and link, the north sites only.
    let (status, _, body) = raw(a, "GET", "/api/geojson", &[("Cookie", &op)], "");
    assert_eq!(status, 200);
    let g: Value = serde_json::from_str(&body).unwrap();
    let layer = |name: &str| {
        g["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["properties"]["layer"] == name)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!((layer("node").len(), layer("link").len()), (14, 14));
    let site_features = layer("site");
    assert_eq!(site_features.len(), ids.len());
    assert!(site_features
        .iter()
        .all(|f| f["properties"]["district"] == "north"));
    assert_eq!(
        site_features[0]["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Changes need the CSRF token of the session; viewers change nothing.
    let rename = r#"{"name":"North outlet (renamed)"}"#;
    let put = |c: &str, csrf: Option<&str>, site: &str, body: &str| {
        let mut h = vec![("Cookie", c)];
        if let Some(t) = csrf {
            h.push(("X-CSRF-Token", t));
        }
        raw(a, "PUT", &format!("/api/sites/{site}"), &h, body).0
    };
    assert_eq!(put(&op, None, "plant-north-outlet", rename), 403);
    assert_eq!(
        put(&op, Some(&boss_csrf), "plant-north-outlet", rename),
        403,
        "another session's token"
    );
    assert_eq!(put(&op, Some(&op_csrf), "plant-south-outlet", rename), 403);
    assert_eq!(
        put(&viewer, Some(&viewer_csrf), "plant-north-outlet", rename),
        403
    );
    assert_eq!(put(&op, Some(&op_csrf), "plant-north-outlet", rename), 200);
    assert_eq!(
        put(
            &op,
            Some(&op_csrf),
            "plant-north-outlet",
            r#"{"standard":"GB0000:IX"}"#
        ),
        400
    );
    assert_eq!(
        put(
            &op,
            Some(&op_csrf),
            "plant-north-outlet",
            r#"{"location":[400, 40]}"#
        ),
        400
    );
    assert!(matches!(
        put(
            &op,
            Some(&op_csrf),
            "plant-north-outlet",
            r#"{"owner":"me"}"#
        ),
        400 | 422
    ));

    // Administrators only: users, tokens, the audit log.
    assert_eq!(raw(a, "GET", "/api/users", &[("Cookie", &op)], "").0, 403);
    assert_eq!(
        raw(a, "GET", "/api/audit", &[("Cookie", &viewer)], "").0,
        403
    );
    let h = [
        ("Cookie", boss.as_str()),
        ("X-CSRF-Token", boss_csrf.as_str()),
    ];
    let (status, _, body) = raw(
        a,
        "POST",
        "/api/users",
        &h,
        r#"{"name":"op-south","password":"short","role":"operator","district":"south"}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        raw(
            a,
            "POST",
            "/api/users",
            &h,
            r#"{"name":"op-south","password":"long-enough-1","role":"operator"}"#
        )
        .0,
        400,
        "operator without district"
    );
    assert_eq!(
        raw(
            a,
            "POST",
            "/api/users",
            &h,
            r#"{"name":"op-south","password":"long-enough-1","role":"operator","district":"south"}"#
        )
        .0,
        200
    );
    let (status, _, body) = raw(
        a,
        "POST",
        "/api/tokens",
        &h,
        r#"{"account":"watcher","label":"dashboard wall"}"#,
    );
    assert_eq!(status, 200);
    let token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, _) = raw(
        a,
        "GET",
        "/api/sites",
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(status, 200, "a machine token reads");
    let (status, _, _) = raw(
        a,
        "PUT",
        "/api/sites/plant-north-outlet",
        &[("Authorization", &format!("Bearer {token}"))],
        rename,
    );
    assert_eq!(status, 403, "a viewer's token changes nothing");

    // Scenarios: bad uploads are refused with the file named; runs need a known model.
    let bad_model = r#"{"name":"broken","toml":"[model]\nname = 3\n"}"#;
    let (status, _, body) = raw(a, "POST", "/api/scenarios", &h, bad_model);
    assert_eq!(status, 400);
    assert!(body.contains("broken.toml"), "{body}");
    assert_eq!(
        raw(
            a,
            "POST",
            "/api/scenarios",
            &h,
            r#"{"name":"../etc/passwd","toml":""}"#
        )
        .0,
        400
    );
    assert_eq!(
        raw(a, "POST", "/api/runs", &h, r#"{"model":"nope"}"#).0,
        404
    );
    assert_eq!(
        raw(
            a,
            "POST",
            "/api/runs",
            &[
                ("Cookie", viewer.as_str()),
                ("X-CSRF-Token", viewer_csrf.as_str())
            ],
            r#"{"model":"beijing-district"}"#
        )
        .0,
        403
    );
    let (status, _, body) = raw(
        a,
        "POST",
        "/api/runs",
        &h,
        r#"{"model":"beijing-district"}"#,
    );
    assert_eq!(status, 200);
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let t = Instant::now();
    let run = loop {
        let (_, _, body) = raw(
            a,
            "GET",
            &format!("/api/runs/{id}"),
            &[("Cookie", &viewer)],
            "",
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        if v["run"]["status"] != "running" {
            break v;
        }
        assert!(t.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(run["run"]["status"], "done", "{run}");
    let s = &run["run"]["summary"];
    // Utilisation = delivered ÷ treated, and the daily series add up to the totals.
    let util = s["delivered_m3"].as_f64().unwrap() / s["treated_m3"].as_f64().unwrap();
    assert!((s["utilisation_rate"].as_f64().unwrap() - util).abs() < 1e-12);
    let daily: f64 = run["run"]["daily"]["delivered_m3"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .sum();
    assert!(
        (daily - s["delivered_m3"].as_f64().unwrap()).abs() < 1e-6 * daily,
        "{daily}"
    );
    assert_eq!(run["run"]["daily"]["dates"].as_array().unwrap().len(), 365);

    // Every change is in the audit log with who made it.
    let (_, _, body) = raw(a, "GET", "/api/audit", &h, "");
    let v: Value = serde_json::from_str(&body).unwrap();
    let entries: Vec<(String, String)> = v["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["who"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("op-north", "site.update"),
        ("boss", "user.create"),
        ("boss", "token.create"),
        ("boss", "scenario.run"),
        ("cli", "user.create"),
    ] {
        assert!(
            entries.iter().any(|(w, a)| w == want.0 && a == want.1),
            "{want:?} missing in {entries:?}"
        );
    }
    assert!(entries.iter().any(|(_, a)| a == "login.failed"));

    // Logging out ends the session.
    let (status, head, _) = raw(
        a,
        "POST",
        "/api/logout",
        &[("Cookie", op.as_str()), ("X-CSRF-Token", op_csrf.as_str())],
        "",
    );
    assert_eq!(status, 200);
    assert!(head.contains("Max-Age=0"));
    assert_eq!(me(&op).0, 401);
}
