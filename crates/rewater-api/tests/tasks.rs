//! The task register and reports over real HTTP: status by date, progress with evidence
//! (type-checked, audited, downloadable), district operators limited to their district,
//! the river-chief patrol check, and report generation and download.

mod common;

use common::*;
use rewater_api::ApiConfig;

const PDF_B64: &str = "JVBERi0xLjQKJWV2aWRlbmNlCg=="; // "%PDF-1.4\n%evidence\n"
const EXE_B64: &str = "TVqQAA=="; // "MZ\x90\0"

fn progress(percent: u8, done_on: Option<&str>, district: Option<&str>, b64: &str) -> String {
    serde_json::json!({
        "percent": percent, "done_on": done_on, "note": "完成验收", "district": district,
        "attachments": [{"name": "验收.pdf", "media_type": "application/pdf", "content_base64": b64}]
    })
    .to_string()
}

#[test]
fn tasks_progress_and_evidence_by_district() {
    let server = serve("tasks", ApiConfig::default());
    let a = &server.addr;
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let viewer = login(a, VIEWER.0, VIEWER.1);

    let r = api(
        a,
        "GET",
        "/api/tasks?register=beijing-14fyp&today=2025-06-01",
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["tasks"].as_array().unwrap().len(), 48);
    assert!(v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "on_track"));
    assert!(v["departments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["id"] == "water" && d["name_zh"] == "市水务局"));

    // The operator reports measure 5 done for the north district, with a PDF.
    let path = "/api/tasks/beijing-14fyp/5/progress";
    let r = as_session(
        a,
        &op,
        "POST",
        path,
        &progress(100, Some("2025-11-30"), None, PDF_B64),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = r.json();
    assert_eq!(stored["district"], "north");
    assert_eq!(stored["who"], OPERATOR.0);
    let url = stored["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    // … not for another district, not a fake PDF, not by a viewer, not for an unknown task.
    let r = as_session(
        a,
        &op,
        "POST",
        path,
        &progress(50, None, Some("south"), PDF_B64),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = as_session(a, &op, "POST", path, &progress(50, None, None, EXE_B64));
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("declared application/pdf but its content is"),
        "{}",
        r.body
    );
    let r = as_session(a, &viewer, "POST", path, &progress(50, None, None, PDF_B64));
    assert_eq!(r.status, 403);
    let r = as_session(
        a,
        &op,
        "POST",
        "/api/tasks/beijing-14fyp/49/progress",
        &progress(5, None, None, PDF_B64),
    );
    assert_eq!(r.status, 404);
    // The administrator reports measure 6 for the south district.
    let r = api(
        a,
        "POST",
        "/api/tasks/beijing-14fyp/6/progress",
        &progress(30, None, Some("south"), PDF_B64),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let south_url = r.json()["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();

    // Status on 2026-01-10: done for the operator's district, overdue otherwise.
    let q = "/api/tasks?register=beijing-14fyp&today=2026-01-10&status=done";
    let r = as_session(a, &op, "GET", q, "");
    let v = r.json();
    assert_eq!(v["district"], "north");
    assert_eq!(v["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(v["tasks"][0]["id"], "5");
    let r = as_session(a, &op, "GET", "/api/tasks?district=south", "");
    assert_eq!(r.status, 403);
    let r = api(
        a,
        "GET",
        "/api/tasks?register=beijing-14fyp&today=2026-01-10&status=overdue&district=south",
        "",
    );
    assert_eq!(r.json()["tasks"].as_array().unwrap().len(), 48);
    let r = api(
        a,
        "GET",
        "/api/tasks?department=agriculture&register=beijing-14fyp",
        "",
    );
    assert_eq!(r.json()["tasks"].as_array().unwrap().len(), 8);
    assert_eq!(api(a, "GET", "/api/tasks?status=late", "").status, 400);

    // The operator sees the north update only, downloads its evidence, not the south one.
    let r = as_session(a, &op, "GET", "/api/tasks/beijing-14fyp/6/progress", "");
    assert_eq!(r.json()["progress"].as_array().unwrap().len(), 0);
    let r = as_session(a, &op, "GET", &url, "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r
        .header("content-disposition")
        .unwrap()
        .contains("filename*=UTF-8''%E9%AA%8C%E6%94%B6.pdf"));
    assert_eq!(r.body, "%PDF-1.4\n%evidence\n");
    assert_eq!(as_session(a, &op, "GET", &south_url, "").status, 403);
    assert_eq!(api(a, "GET", &south_url, "").status, 200);

    // Both changes are in the audit log.
    let log = api(a, "GET", "/api/audit?limit=100", "").json();
    let n = log["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "task.progress")
        .count();
    assert_eq!(n, 2);
}

#[test]
fn river_chiefs_missing_a_weekly_patrol_are_flagged() {
    let server = serve("chiefs", ApiConfig::default());
    {
        let mut s = rewater_store::open(&server.db.display().to_string()).unwrap();
        for (id, district) in [("v-north", "north"), ("v-south", "south")] {
            s.put_river_chief(
                &rewater_store::tasks::RiverChief {
                    id: id.into(),
                    name: "赵六".into(),
                    level: "village".into(),
                    water_body: "清河".into(),
                    district: Some(district.into()),
                    since: "2025-03-03".parse().unwrap(),
                },
                "admin",
                0,
            )
            .unwrap();
        }
    }
    let a = &server.addr;
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let body = serde_json::json!({"on": "2025-03-05"}).to_string();
    assert_eq!(
        as_session(a, &op, "POST", "/api/river-chiefs/v-north/patrols", &body).status,
        200
    );
    assert_eq!(
        as_session(a, &op, "POST", "/api/river-chiefs/v-south/patrols", &body).status,
        403
    );
    assert_eq!(
        as_session(a, &op, "POST", "/api/river-chiefs/nobody/patrols", &body).status,
        404
    );
    let r = as_session(a, &op, "GET", "/api/river-chiefs?today=2025-03-17", "");
    let v = r.json();
    let chiefs = v["chiefs"].as_array().unwrap();
    assert_eq!(chiefs.len(), 1, "the operator sees the north chief only");
    assert_eq!(chiefs[0]["level_zh"], "村级流域河长");
    assert_eq!(
        chiefs[0]["short"],
        serde_json::json!([{"from": "2025-03-10", "to": "2025-03-16", "patrols": 0, "required": 1}])
    );
}

#[test]
fn reports_are_generated_and_downloaded_by_role() {
    let server = serve("reports", ApiConfig::default());
    let a = &server.addr;
    let r = api(a, "GET", "/api/reports", "");
    let v = r.json();
    assert_eq!(v["models"], serde_json::json!(["beijing-district"]));
    assert_eq!(
        v["kinds"][0]["name_zh"],
        "区域再生水循环利用试点工作年度报告"
    );
    let body =
        serde_json::json!({"kind": "pilot-annual", "model": "beijing-district", "pdf": false})
            .to_string();
    let r = api(a, "POST", "/api/reports", &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let files = r.json()["files"].clone();
    assert_eq!(files.as_array().unwrap().len(), 1);
    assert_eq!(files[0]["name"], "pilot-annual.zh.html");
    let url = files[0]["url"].as_str().unwrap().to_string();
    let html = api(a, "GET", &url, "");
    assert_eq!(html.status, 200);
    assert!(html
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(html.body.contains("区域再生水循环利用试点工作年度报告") && html.body.contains("<svg"));
    // A name the server did not write is not served.
    let evil = url.replace("pilot-annual.zh.html", "..%2F..%2Fstore.sqlite");
    assert_eq!(api(a, "GET", &evil, "").status, 404);

    // The operator makes the north scorecard (the default district), not the south one,
    // and cannot fetch the region-wide annual report.
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let district = serde_json::json!({"kind": "district", "model": "beijing-district", "pdf": false, "lang": "en"}).to_string();
    let r = as_session(a, &op, "POST", "/api/reports", &district);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["files"][0]["name"], "district-north.en.html");
    let south = serde_json::json!({"kind": "district", "model": "beijing-district", "district": "south", "pdf": false}).to_string();
    assert_eq!(
        as_session(a, &op, "POST", "/api/reports", &south).status,
        403
    );
    assert_eq!(
        as_session(a, &op, "POST", "/api/reports", &body).status,
        403
    );
    assert_eq!(as_session(a, &op, "GET", &url, "").status, 403);
    let bad = serde_json::json!({"kind": "weekly", "model": "beijing-district"}).to_string();
    assert_eq!(api(a, "POST", "/api/reports", &bad).status, 400);
    let nomodel = serde_json::json!({"kind": "pilot-final", "model": "atlantis"}).to_string();
    assert_eq!(api(a, "POST", "/api/reports", &nomodel).status, 404);
}
