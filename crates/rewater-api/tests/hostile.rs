//! Hostile requests over real HTTP (issue 12): period arithmetic that must not wrap, RFC 3339
//! times, scenario uploads (tar, confinement, bundled models read-only), runs bounded in
//! number, length and memory, and the device register.

mod common;

use common::*;
use rewater_api::{ApiConfig, RunLimits};
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn extreme_periods_cannot_wrap_the_400_day_limit() {
    let server = serve("periods", ApiConfig::default());
    let a = &server.addr;
    let base = format!("/api/sites/{NORTH}/compliance");
    for q in [
        "from=-9223372036854775807&to=1750000000",
        "from=-9223372036854775808&to=9223372036854775807",
        "from=0&to=9223372036854775807",
        "from=2025-06-01&to=2026-08-01",
        "from=2025-06-02&to=2025-06-01",
    ] {
        let r = api(a, "GET", &format!("{base}?{q}"), "");
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(r.body.contains("400 days"), "{q}: {}", r.body);
    }
    let r = api(
        a,
        "GET",
        &format!("{base}?from=2025-06-01T00:00:00%2B08:00&to=2025-06-02T00:00:00%2B08:00"),
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Series: a span that does not fit in 64 bits is refused, a huge one is answered.
    let series = api(
        a,
        "GET",
        &format!(
            "/api/sites/{NORTH}/series?factor=cod&from=-9223372036854775807&to=9223372036854775807"
        ),
        "",
    );
    assert_eq!(series.status, 400, "{}", series.body);
    assert!(series.body.contains("from/to"), "{}", series.body);
    let series = api(
        a,
        "GET",
        &format!("/api/sites/{NORTH}/series?factor=cod&from=0&to=9223372036854775807"),
        "",
    );
    assert_eq!(series.status, 200, "{}", series.body);
    assert_eq!(series.json()["points"][0]["mean"], 40.0);
    let r = api(
        a,
        "GET",
        &format!("/api/sites/{NORTH}/series?factor=cod&from=yesterday"),
        "",
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("from:") && r.body.contains("RFC 3339"),
        "{}",
        r.body
    );
}

#[test]
fn times_are_rfc3339_with_the_zone_offset_and_accepted_as_such() {
    let server = serve("rfc3339", ApiConfig::default());
    let a = &server.addr;
    let v = api(a, "GET", &format!("/api/sites/{NORTH}/latest"), "").json();
    let r = &v["values"][0]["reading"];
    assert_eq!(r["data_time"], WALL_0800);
    assert_eq!(r["time"], "2025-06-01T08:00:00+08:00");
    assert_eq!(
        r["received_at"], "2025-06-01T16:00:00+08:00",
        "received 08:00 UTC"
    );
    // The same instant in UTC selects the same reading.
    let q = "factor=cod&from=2025-06-01T00:00:00Z&to=2025-06-01T01:00:00Z&bucket=60";
    let s = api(a, "GET", &format!("/api/sites/{NORTH}/series?{q}"), "").json();
    assert_eq!(s["points"][0]["time"], "2025-06-01T08:00:00+08:00", "{s}");
    assert_eq!(s["points"][0]["mean"], 40.0);
    let al = api(a, "GET", "/api/alerts", "").json();
    assert_eq!(al["alerts"][0]["time"], "2025-06-01T08:00:00+08:00");
    assert_eq!(al["alerts"][0]["raised_at"], "2025-06-01T16:00:00+08:00");
    // Another zone, configured: the same reading in UTC.
    let utc = serve(
        "rfc3339-utc",
        ApiConfig {
            zone: rewater_time::Zone::named("UTC").unwrap(),
            ..ApiConfig::default()
        },
    );
    let v = api(&utc.addr, "GET", &format!("/api/sites/{NORTH}/latest"), "").json();
    assert_eq!(
        v["values"][0]["reading"]["received_at"],
        "2025-06-01T08:00:00+00:00"
    );
}

fn tar_dir(dir: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", dir).unwrap();
    b.into_inner().unwrap()
}

fn beijing() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-district")
}

fn upload_tar(a: &str, name: &str, tar: &[u8]) -> Resp {
    let auth = format!("Bearer {TOKEN}");
    request(
        a,
        "POST",
        &format!("/api/scenarios/{name}/archive"),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/x-tar"),
        ],
        tar,
    )
}

fn wait_run(a: &str, id: u64) -> serde_json::Value {
    let t = Instant::now();
    loop {
        let v = api(a, "GET", &format!("/api/runs/{id}?part=summary"), "").json();
        if v["run"]["status"] != "running" {
            return v;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "run {id} still running"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_beijing_model_uploads_as_a_tar_and_runs() {
    let server = serve("upload-tar", ApiConfig::default());
    let a = &server.addr;
    let r = upload_tar(a, "my-beijing", &tar_dir(&beijing()));
    assert_eq!(r.status, 200, "{}", r.body);
    let kept = server.dir.join("scenarios/uploads/my-beijing");
    assert!(kept.join("model.toml").is_file() && kept.join("data/daily_factors.csv").is_file());
    // Kept across a restart: a new scenario list over the same directory has it, uploaded.
    let again = scenarios(&server.dir);
    let models = again.models.lock().unwrap().clone();
    assert!(
        models.iter().any(|m| m.name == "my-beijing" && m.uploaded),
        "{models:?}"
    );
    assert!(models
        .iter()
        .any(|m| m.name == "beijing-district" && !m.uploaded));
    let id = api(a, "POST", "/api/runs", r#"{"model":"my-beijing"}"#).json()["id"]
        .as_u64()
        .unwrap();
    let run = wait_run(a, id);
    assert_eq!(run["run"]["status"], "done", "{run}");
    assert!(run["run"]["summary"]["utilisation_rate"].as_f64().unwrap() > 0.0);
    // Results come in pages of days.
    let page = api(
        a,
        "GET",
        &format!("/api/runs/{id}?part=daily&offset=360&limit=10"),
        "",
    )
    .json();
    assert_eq!(page["run"]["daily"]["dates"].as_array().unwrap().len(), 5);
    assert_eq!(page["run"]["daily"]["dates"][0], "2025-12-27");
    assert_eq!(page["run"]["daily_total"], 365);
    assert!(page["run"]["summary"].is_null());
    assert_eq!(
        api(a, "GET", &format!("/api/runs/{id}?limit=0"), "").status,
        400
    );
    assert_eq!(
        api(a, "GET", &format!("/api/runs/{id}?part=everything"), "").status,
        400
    );
}

#[test]
fn hostile_uploads_are_refused_and_the_server_survives() {
    let server = serve("upload-hostile", ApiConfig::default());
    let a = &server.addr;
    let model = std::fs::read_to_string(beijing().join("model.toml")).unwrap();
    for (csv, want) in [
        ("/dev/zero", "must be relative"),
        ("../../../../etc/passwd", "without '..'"),
        (
            "data/daily_factors.csv",
            "no such file in the model's directory",
        ),
    ] {
        let toml = model.replace("data/daily_factors.csv", csv);
        let body = serde_json::json!({"name": "evil", "toml": toml}).to_string();
        let r = api(a, "POST", "/api/scenarios", &body);
        assert_eq!(r.status, 400, "{csv}: {}", r.body);
        assert!(r.body.contains(want), "{csv}: {}", r.body);
        assert!(!r.body.contains("root:"), "no file content leaks");
        assert!(r.body.starts_with(r#"{"error":"evil.toml"#), "{}", r.body);
        assert!(
            !r.body.contains(&server.dir.display().to_string()),
            "no server path: {}",
            r.body
        );
    }
    // Links and escapes inside a tar.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "data/daily_factors.csv", "/etc/passwd")
        .unwrap();
    let r = upload_tar(a, "evil", &b.into_inner().unwrap());
    assert_eq!(r.status, 400);
    assert!(r.body.contains("only regular files"), "{}", r.body);
    assert_eq!(upload_tar(a, "evil", b"garbage garbage").status, 400);
    assert!(!server.dir.join("scenarios/uploads/evil").exists());
    // A bundled model cannot be overwritten, by anyone.
    let r = upload_tar(a, "beijing-district", &tar_dir(&beijing()));
    assert_eq!(r.status, 403, "{}", r.body);
    let body = serde_json::json!({"name": "beijing-district", "toml": model}).to_string();
    assert_eq!(api(a, "POST", "/api/scenarios", &body).status, 403);
    // Viewers upload nothing.
    let v = login(a, VIEWER.0, VIEWER.1);
    assert_eq!(
        as_session(
            a,
            &v,
            "POST",
            "/api/scenarios",
            &serde_json::json!({"name": "x", "toml": ""}).to_string()
        )
        .status,
        403
    );
    assert_eq!(
        api(a, "GET", "/api/health", "").status,
        200,
        "still serving"
    );
}

/// The Wanzhou example (no CSV files) with another horizon.
fn wanzhou_days(days: u32) -> String {
    let m = include_str!("../../../examples/wanzhou-river-city/model.toml");
    assert!(m.contains("days = 365"));
    m.replace("days = 365", &format!("days = {days}"))
}

#[test]
fn at_most_two_runs_at_a_time_and_runs_are_bounded() {
    let server = serve("runs-limit", ApiConfig::default());
    let a = &server.addr;
    let body = serde_json::json!({"name": "long", "toml": wanzhou_days(36_000)}).to_string();
    let r = api(a, "POST", "/api/scenarios", &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let first = api(a, "POST", "/api/runs", r#"{"model":"long"}"#);
    let second = api(a, "POST", "/api/runs", r#"{"model":"long"}"#);
    assert_eq!((first.status, second.status), (200, 200));
    let third = api(a, "POST", "/api/runs", r#"{"model":"long"}"#);
    assert_eq!(third.status, 429, "{}", third.body);
    assert!(third.header("retry-after").is_some());
}

#[test]
fn a_run_longer_than_100_years_is_refused() {
    let server = serve("runs-horizon", ApiConfig::default());
    let a = &server.addr;
    let body = serde_json::json!({"name": "too-long", "toml": wanzhou_days(40_000)}).to_string();
    let r = api(a, "POST", "/api/scenarios", &body);
    if r.status == 400 {
        // The model's own horizon limit refused it at upload.
        assert!(r.body.contains("days"), "{}", r.body);
        return;
    }
    assert_eq!(r.status, 200, "{}", r.body);
    let id = api(a, "POST", "/api/runs", r#"{"model":"too-long"}"#).json()["id"]
        .as_u64()
        .unwrap();
    let t = Instant::now();
    let run = wait_run(a, id);
    assert_eq!(run["run"]["status"], "failed", "{run}");
    assert!(
        run["run"]["error"]
            .as_str()
            .unwrap()
            .contains("at most 36600"),
        "{run}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "refused before simulating"
    );
}

#[test]
fn finished_runs_are_evicted_least_recently_used_first() {
    let config = ApiConfig {
        runs: RunLimits {
            max_kept: 2,
            ..RunLimits::default()
        },
        ..ApiConfig::default()
    };
    let server = serve("runs-evict", config);
    let a = &server.addr;
    let body = serde_json::json!({"name": "short", "toml": wanzhou_days(30)}).to_string();
    assert_eq!(api(a, "POST", "/api/scenarios", &body).status, 200);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = api(a, "POST", "/api/runs", r#"{"model":"short"}"#).json()["id"]
            .as_u64()
            .unwrap();
        assert_eq!(wait_run(a, id)["run"]["status"], "done");
        ids.push(id);
    }
    let r = api(a, "GET", &format!("/api/runs/{}", ids[0]), "");
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("kept for a while only"));
    for id in &ids[1..] {
        assert_eq!(api(a, "GET", &format!("/api/runs/{id}"), "").status, 200);
    }
    assert_eq!(
        api(a, "GET", "/api/scenarios", "").json()["runs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn devices_are_registered_by_administrators_with_their_own_passwords() {
    let server = serve("devices", ApiConfig::default());
    let a = &server.addr;
    let boss = login(a, ADMIN.0, ADMIN.1);
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let new = r#"{"mn":"RWNEW0000000009","site_id":"north-outlet","allowed_peers":["10.0.0.0/8"]}"#;
    assert_eq!(as_session(a, &op, "POST", "/api/devices", new).status, 403);
    let r = as_session(a, &boss, "POST", "/api/devices", new);
    assert_eq!(r.status, 200, "{}", r.body);
    let generated = r.json()["password"].as_str().unwrap().to_string();
    assert!(generated.len() >= 16, "{generated}");
    // Stored as a hash that the gateway's check accepts; never returned again.
    let mut store = rewater_store::open(&server.db.display().to_string()).unwrap();
    let d = store.device("RWNEW0000000009").unwrap().unwrap();
    assert!(rewater_store::verify_device_password(
        &generated,
        &d.password_hash
    ));
    assert_eq!(d.allowed_peers, vec!["10.0.0.0/8".to_string()]);
    let list = as_session(a, &boss, "GET", "/api/devices", "");
    assert!(
        list.body.contains("RWNEW0000000009")
            && !list.body.contains(&generated)
            && !list.body.contains(&d.password_hash)
    );
    // Bad input names the field; the same MN twice is refused; an unknown site is a 404.
    for (body, status, want) in [
        (r#"{"mn":"RW;1","site_id":"north-outlet"}"#, 400, "MN"),
        (
            r#"{"mn":"RWNEW0000000009","site_id":"north-outlet"}"#,
            400,
            "already registered",
        ),
        (
            r#"{"mn":"RWNEW0000000010","site_id":"nowhere"}"#,
            404,
            "nowhere",
        ),
        (
            r#"{"mn":"RWNEW0000000010","site_id":"north-outlet","password":"123456"}"#,
            400,
            "factory default",
        ),
        (
            r#"{"mn":"RWNEW0000000010","site_id":"north-outlet","allowed_peers":["everyone"]}"#,
            400,
            "everyone",
        ),
    ] {
        let r = as_session(a, &boss, "POST", "/api/devices", body);
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(r.body.contains(want), "{body}: {}", r.body);
    }
    // A chosen password is not echoed; a disabled device is shown as such.
    let r = as_session(
        a,
        &boss,
        "POST",
        "/api/devices/RWNEW0000000009/password",
        r#"{"password":"chosen-pw-77"}"#,
    );
    assert_eq!(r.status, 200);
    assert!(r.json().get("password").is_none());
    let d = store.device("RWNEW0000000009").unwrap().unwrap();
    assert!(rewater_store::verify_device_password(
        "chosen-pw-77",
        &d.password_hash
    ));
    assert!(!rewater_store::verify_device_password(
        &generated,
        &d.password_hash
    ));
    let r = as_session(
        a,
        &boss,
        "POST",
        "/api/devices/RWNEW0000000009/disable",
        r#"{"disabled":true}"#,
    );
    assert_eq!(r.json()["device"]["disabled"], true);
    assert!(store.device("RWNEW0000000009").unwrap().unwrap().disabled);
    assert_eq!(
        as_session(
            a,
            &boss,
            "POST",
            "/api/devices/NOPE/disable",
            r#"{"disabled":true}"#
        )
        .status,
        404
    );
    let log = api(a, "GET", "/api/audit", "").body;
    for action in ["device.create", "device.password", "device.disable"] {
        assert!(log.contains(action), "{action}");
    }
}

#[test]
fn malformed_bodies_and_queries_are_400_naming_the_field() {
    let server = serve("malformed", ApiConfig::default());
    let a = &server.addr;
    for (method, path, body, want) in [
        ("POST", "/api/users", r#"{"name":"x"}"#, "password"),
        ("POST", "/api/login", "not json", "request body"),
        (
            "PUT",
            "/api/sites/north-outlet",
            r#"{"owner":"me"}"#,
            "owner",
        ),
        ("GET", "/api/alerts?limit=many", "", "limit"),
        ("GET", "/api/runs/1?offset=-1", "", "offset"),
    ] {
        let r = api(a, method, path, body);
        assert_eq!(r.status, 400, "{method} {path}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{method} {path}"
        );
        assert!(
            r.json()["error"].as_str().unwrap().contains(want),
            "{method} {path}: {}",
            r.body
        );
    }
}

#[test]
fn bodies_are_small_except_uploads() {
    let server = serve("bodies", ApiConfig::default());
    let a = &server.addr;
    // 300 kB of login, unauthenticated: refused before it is parsed.
    let big = format!(r#"{{"name":"boss","password":"{}"}}"#, "x".repeat(300_000));
    let r = request(a, "POST", "/api/login", &[], big.as_bytes());
    assert_eq!(r.status, 413, "{}", r.body);
    // A model file of 1 MB is an upload: accepted as far as the model check.
    let toml = format!("# {}\n{}", "x".repeat(1_000_000), wanzhou_days(30));
    let body = serde_json::json!({"name": "padded", "toml": toml}).to_string();
    let r = api(a, "POST", "/api/scenarios", &body);
    assert_eq!(r.status, 200, "{}", &r.body[..r.body.len().min(300)]);
    // Beyond 4 MB even an upload is refused.
    let huge = vec![0u8; 5 << 20];
    let auth = format!("Bearer {TOKEN}");
    let r = request(
        a,
        "POST",
        "/api/scenarios/huge/archive",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/x-tar"),
        ],
        &huge,
    );
    assert_eq!(r.status, 413);
}

#[test]
fn a_site_change_is_in_the_store_at_once() {
    let server = serve("site-put", ApiConfig::default());
    let r = api(
        &server.addr,
        "PUT",
        &format!("/api/sites/{NORTH}"),
        r#"{"standard":"DB11/890-2012:new_A"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Another connection (as the gateway's alert engine has) sees it.
    let mut store = rewater_store::open(&server.db.display().to_string()).unwrap();
    let site = store
        .sites()
        .unwrap()
        .into_iter()
        .find(|s| s.id == NORTH)
        .unwrap();
    assert_eq!(site.standard.as_deref(), Some("DB11/890-2012:new_A"));
}
