//! Indicator routes: definitions, target sets, and a scenario's scorecard (district operators
//! see their district only).

mod common;

use common::*;

#[test]
fn definitions_and_target_sets_are_served() {
    let server = serve("ind-defs", Default::default());
    let a = &server.addr;
    let d = api(a, "GET", "/api/indicators", "").json();
    let ids: Vec<&str> = d["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"reuse_rate") && ids.contains(&"wetland_class_v_rate"),
        "{ids:?}"
    );
    assert_eq!(d["labels"]["status_not_reported"]["zh"], "未报送");
    let s = api(a, "GET", "/api/indicators/targets", "").json();
    let sets: Vec<&str> = s["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        sets,
        [
            "seed-000",
            "seed-001",
            "seed-002",
            "seed-003",
            "seed-004",
            "ndrc-2021-13"
        ]
    );
    // Without credentials: refused.
    assert_eq!(request(a, "GET", "/api/indicators", &[], b"").status, 401);
}

#[test]
fn a_scenario_scorecard_by_district_and_the_operator_sees_only_theirs() {
    let server = serve("ind-card", Default::default());
    let a = &server.addr;
    let all = api(a, "GET", "/api/scenarios/beijing-district/scorecard", "");
    assert_eq!(all.status, 200, "{}", all.body);
    let card = &all.json()["scorecard"];
    let districts: Vec<&str> = card["districts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(districts, ["", "north", "south"]);
    let sets: Vec<&str> = card["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(sets, ["seed-000", "seed-001", "ndrc-2021-13"]);
    // The whole region's reuse rate against 发改环资〔2021〕13号's 35 % for Beijing–Tianjin–Hebei.
    let reuse = card["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["district"] == "" && r["year"] == 2025 && r["indicator"] == "reuse_rate")
        .unwrap();
    assert!(reuse["value"].as_f64().unwrap() > 35.0);
    assert!(reuse["targets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["set"] == "ndrc-2021-13" && t["status"] == "met"));
    // The operator of district north gets north's rows only.
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let mine = as_session(
        a,
        &op,
        "GET",
        "/api/scenarios/beijing-district/scorecard?targets=seed-000",
        "",
    );
    assert_eq!(mine.status, 200, "{}", mine.body);
    let rows = mine.json()["scorecard"]["rows"].as_array().unwrap().clone();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["district"] == "north"), "{rows:?}");
    // Bad sets and unknown models are refused.
    let r = api(
        a,
        "GET",
        "/api/scenarios/beijing-district/scorecard?targets=seed-999",
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("seed-999"), "{}", r.body);
    // A path is never opened, whatever it names.
    for path in [
        "/etc/x.toml",
        "/etc/passwd",
        "../../examples/pilot-city/model.toml",
    ] {
        let url = format!("/api/scenarios/beijing-district/scorecard?targets={path}");
        let r = api(a, "GET", &url, "");
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            r.body.contains("unknown target set") && !r.body.contains("root:"),
            "{}",
            r.body
        );
    }
    assert_eq!(
        api(a, "GET", "/api/scenarios/nothing/scorecard", "").status,
        404
    );
}
