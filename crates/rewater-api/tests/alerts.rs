//! The alert list as people work it (issue 13): filters by site, district, kind, severity,
//! state and time, paging with the total, and bulk acknowledgement with one comment — over
//! real HTTP, scoped to the caller's district.

mod common;

use common::*;
use rewater_api::ApiConfig;
use rewater_store::NewAlertRow;

/// The seeded north exceedance plus three north and two south alerts, raised a minute apart
/// from 2025-06-01 09:00 (+08:00); returns their ids in order.
fn more_alerts(db: &std::path::Path) -> Vec<i64> {
    let mut store = rewater_store::open(&db.display().to_string()).unwrap();
    let t9 = 1_748_739_600_000i64; // 2025-06-01 09:00 +08:00
    let row = |site: &str, kind: &str, severity: &str, k: i64| NewAlertRow {
        site_id: site.into(),
        mn: None,
        kind: kind.into(),
        factor: None,
        severity: severity.into(),
        message: format!("{kind} {k}"),
        data_time: WALL_0800,
        value: None,
        limit: None,
        raised_at_ms: t9 + 60_000 * k,
    };
    store
        .raise_alerts(&[
            row(NORTH, "stuck", "warning", 0),
            row("south-outlet", "offline", "warning", 1),
            row(NORTH, "exceedance", "violation", 2),
            row("south-outlet", "offline", "warning", 3),
            row(NORTH, "device_flag", "warning", 4),
        ])
        .unwrap()
}

fn ids(v: &serde_json::Value) -> Vec<i64> {
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn alerts_are_filtered_paged_and_counted() {
    let server = serve("alerts-filter", ApiConfig::default());
    let a = &server.addr;
    let new = more_alerts(&server.db);
    let all = api(a, "GET", "/api/alerts?limit=2", "").json();
    assert_eq!(all["total"], 6);
    assert_eq!(ids(&all), vec![new[4], new[3]]);
    let page2 = api(a, "GET", "/api/alerts?limit=2&offset=2", "").json();
    assert_eq!(ids(&page2), vec![new[2], new[1]]);
    assert_eq!(page2["offset"], 2);
    let oldest = api(a, "GET", "/api/alerts?limit=1&sort=oldest", "").json();
    assert!(ids(&oldest)[0] < new[0], "the seeded alert is the oldest");
    let south = api(a, "GET", "/api/alerts?district=south", "").json();
    assert_eq!(
        (south["total"].as_i64(), ids(&south)),
        (Some(2), vec![new[3], new[1]])
    );
    let kinds = api(a, "GET", "/api/alerts?kind=stuck,device_flag", "").json();
    assert_eq!(ids(&kinds), vec![new[4], new[0]]);
    let violations = api(a, "GET", "/api/alerts?severity=violation", "").json();
    assert_eq!(ids(&violations), vec![new[2]]);
    // Raised in [09:01, 09:03) +08:00: the second and third.
    let window = "/api/alerts?from=2025-06-01T09:01:00%2B08:00&to=2025-06-01T01:03:00Z";
    assert_eq!(ids(&api(a, "GET", window, "").json()), vec![new[2], new[1]]);
    let site = api(
        a,
        "GET",
        &format!("/api/alerts?site={NORTH}&kind=exceedance"),
        "",
    )
    .json();
    assert_eq!(site["total"], 2);
    // Bad filters are named.
    for (q, field) in [
        ("kind=flood", "kind"),
        ("severity=huge", "severity"),
        ("sort=random", "sort"),
        ("from=yesterday", "from"),
        ("offset=-1", "offset"),
        ("state=gone", "state"),
    ] {
        let r = api(a, "GET", &format!("/api/alerts?{q}"), "");
        assert_eq!(r.status, 400, "{q}");
        assert!(r.body.contains(field), "{q}: {}", r.body);
    }
    // The north operator sees north only, whatever the filter asks.
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let mine = as_session(a, &op, "GET", "/api/alerts", "").json();
    assert_eq!(mine["total"], 4);
    let theirs = as_session(a, &op, "GET", "/api/alerts?district=south", "").json();
    assert_eq!(theirs["total"], 0);
}

#[test]
fn many_alerts_are_acknowledged_at_once_with_one_comment() {
    let server = serve("alerts-bulk", ApiConfig::default());
    let a = &server.addr;
    let new = more_alerts(&server.db);
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let body = serde_json::json!({
        "ids": [new[0], new[1], new[2], 999_999],
        "state": "acknowledged",
        "comment": "analyser cleaned, watching",
    })
    .to_string();
    let r = as_session(a, &op, "POST", "/api/alerts/state", &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let out = r.json();
    assert_eq!(out["changed"], serde_json::json!([new[0], new[2]]));
    let refused: Vec<i64> = out["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        refused,
        vec![new[1], 999_999],
        "south is not the operator's"
    );
    let acked = api(a, "GET", "/api/alerts?state=acknowledged", "").json();
    assert_eq!(ids(&acked), vec![new[2], new[0]]);
    let one = api(a, "GET", &format!("/api/alerts/{}", new[2]), "").json();
    assert_eq!(one["history"][0]["comment"], "analyser cleaned, watching");
    assert_eq!(one["history"][0]["who"], OPERATOR.0);
    // Audited once per alert.
    let mut store = rewater_store::open(&server.db.display().to_string()).unwrap();
    let log = store.audit_log(100).unwrap();
    let n = log
        .iter()
        .filter(|e| e.action == "alert.acknowledged" && e.who == OPERATOR.0)
        .count();
    assert_eq!(n, 2);
    // Closing them next is allowed; going back to acknowledged is not.
    let close = serde_json::json!({"ids": [new[0]], "state": "closed"}).to_string();
    let r = as_session(a, &op, "POST", "/api/alerts/state", &close).json();
    assert_eq!(r["changed"], serde_json::json!([new[0]]));
    let back = serde_json::json!({"ids": [new[0]], "state": "acknowledged"}).to_string();
    let r = as_session(a, &op, "POST", "/api/alerts/state", &back).json();
    assert_eq!(r["refused"][0]["id"], new[0]);
    // Hostile bodies: no ids, too many, an unknown state, a long comment.
    let many: Vec<i64> = (0..1001).collect();
    for (b, field) in [
        (serde_json::json!({"ids": [], "state": "closed"}), "ids"),
        (serde_json::json!({"ids": many, "state": "closed"}), "ids"),
        (serde_json::json!({"ids": [1], "state": "gone"}), "state"),
        (
            serde_json::json!({"ids": [1], "state": "closed", "comment": "x".repeat(2001)}),
            "comment",
        ),
    ] {
        let r = as_session(a, &op, "POST", "/api/alerts/state", &b.to_string());
        assert_eq!(r.status, 400, "{field}");
        assert!(r.body.contains(field), "{}", r.body);
    }
}

/// Maintenance windows over the API: an operator sets one for a device of the district,
/// not for another district's; listed with its state; bad windows named; removed again.
#[test]
fn maintenance_windows_by_district() {
    let server = serve("alerts-maintenance", ApiConfig::default());
    let a = &server.addr;
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let body = |mn: &str, from: &str, to: &str| {
        serde_json::json!({"mn": mn, "from": from, "to": to, "reason": "更换探头 probe change"})
            .to_string()
    };
    let r = as_session(
        a,
        &op,
        "POST",
        "/api/maintenance",
        &body(
            NORTH_MN,
            "2025-06-01T09:00:00+08:00",
            "2025-06-01T12:00:00+08:00",
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let w = r.json();
    assert_eq!(w["site_id"], NORTH);
    assert_eq!(w["from"], "2025-06-01T09:00:00+08:00");
    assert_eq!(w["who"], OPERATOR.0);
    // South's device: not the operator's.
    let r = as_session(
        a,
        &op,
        "POST",
        "/api/maintenance",
        &body(
            "RWTEST0000000002",
            "2025-06-01T09:00:00+08:00",
            "2025-06-01T12:00:00+08:00",
        ),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    for (from, to, field) in [
        (
            "2025-06-01T12:00:00+08:00",
            "2025-06-01T09:00:00+08:00",
            "to",
        ),
        (
            "2025-06-01T09:00:00+08:00",
            "2025-08-01T09:00:00+08:00",
            "to",
        ),
        ("noon", "2025-06-01T09:00:00+08:00", "from"),
    ] {
        let r = as_session(
            a,
            &op,
            "POST",
            "/api/maintenance",
            &body(NORTH_MN, from, to),
        );
        assert_eq!(r.status, 400, "{from} {to}");
        assert!(r.body.contains(field), "{}", r.body);
    }
    // Listed (it ended long ago, so only while not over: a window ending in the future).
    let future = rewater_time::Zone::default().rfc3339_ms(rewater_time::now_unix_ms() + 3_600_000);
    let now = rewater_time::Zone::default().rfc3339_ms(rewater_time::now_unix_ms() - 60_000);
    let r = as_session(
        a,
        &op,
        "POST",
        "/api/maintenance",
        &body(NORTH_MN, &now, &future),
    );
    let id = r.json()["id"].as_i64().unwrap();
    let list = as_session(a, &op, "GET", "/api/maintenance", "").json();
    let ws = list["windows"].as_array().unwrap();
    assert_eq!(ws.len(), 1, "{list}");
    assert_eq!(
        (ws[0]["id"].as_i64(), ws[0]["active"].as_bool()),
        (Some(id), Some(true))
    );
    let r = as_session(a, &op, "DELETE", &format!("/api/maintenance/{id}"), "");
    assert_eq!(r.status, 200, "{}", r.body);
    let list = as_session(a, &op, "GET", "/api/maintenance", "").json();
    assert!(list["windows"].as_array().unwrap().is_empty());
    let r = as_session(a, &op, "DELETE", &format!("/api/maintenance/{id}"), "");
    assert_eq!(r.status, 404);
}
