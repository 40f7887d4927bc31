//! Money routes in process: the rule sets (UNVERIFIED where unconfirmed), the examples, each
//! ledger computed from CSV text, district operators limited to their district, hostile
//! bodies refused with row and field, a scenario's reclaimed-water cost.

mod common;

use common::*;
use rewater_store::{Account, Role};

fn table<'a>(body: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    body["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no table {id}"))
}

fn rows(t: &serde_json::Value) -> Vec<Vec<serde_json::Value>> {
    t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().clone())
        .collect()
}

fn add_operator(server: &TestServer, name: &str, pw: &str, district: &str) {
    let mut s = rewater_store::open(&server.db.display().to_string()).unwrap();
    s.put_account(&Account {
        name: name.into(),
        role: Role::Operator,
        district: Some(district.into()),
        password_hash: rewater_api::auth::hash_password(pw).unwrap(),
        disabled: false,
        created_at_ms: 0,
    })
    .unwrap();
}

#[test]
fn rules_examples_and_every_ledger() {
    let server = serve("money-all", Default::default());
    let a = &server.addr;
    let r = api(a, "GET", "/api/money/rules", "").json();
    let sets = r["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 8);
    let s2014 = sets
        .iter()
        .find(|s| s["id"] == "bj-compensation-2014")
        .unwrap();
    assert_eq!(s2014["confidence"], "UNVERIFIED");
    assert_eq!(r["areas"]["districts"]["miyun"]["class"], "ecological");
    let ex = api(a, "GET", "/api/money/examples", "").json();
    let body = serde_json::json!({"projects": ex["projects"], "lang": "en"}).to_string();
    let f = api(a, "POST", "/api/money/funding", &body);
    assert_eq!(f.status, 200, "{}", f.body);
    let f = f.json();
    let p004 = rows(table(&f, "funding-projects"))
        .into_iter()
        .find(|r| r[0] == "P004" && r[7] == "municipal fixed-asset investment")
        .unwrap();
    assert_eq!(p004[9], 21_000_000.0);
    let body =
        serde_json::json!({"facilities": ex["facilities"], "stations": ex["stations"]}).to_string();
    let s = api(a, "POST", "/api/money/subsidies", &body).json();
    assert_eq!(s["unverified"], true);
    assert_eq!(
        table(&s, "subsidies-districts")["rows"]
            .as_array()
            .unwrap()
            .len(),
        9
    );
    let body =
        serde_json::json!({"sections": ex["sections"], "values": ex["values"], "year": 2022})
            .to_string();
    let c = api(a, "POST", "/api/money/compensation", &body).json();
    let settle = rows(table(&c, "compensation-settlement"));
    let fengtai = settle.iter().find(|r| r[0] == "丰台区").unwrap();
    assert_eq!(
        (fengtai[1].as_f64(), fengtai[3].as_f64()),
        (Some(900_000.0), Some(-900_000.0))
    );
    assert!(table(&c, "compensation-settlement")["unverified"]
        .as_bool()
        .unwrap());
    let body = serde_json::json!({"months": ex["months"]}).to_string();
    let fe = api(a, "POST", "/api/money/fees", &body).json();
    assert_eq!(rows(table(&fe, "fees-months"))[0][8], 11_459_460.0);
    let cost = api(
        a,
        "GET",
        "/api/scenarios/beijing-district/money/cost?lang=en",
        "",
    );
    assert_eq!(cost.status, 200, "{}", cost.body);
    assert!(!rows(table(&cost.json(), "cost-plants")).is_empty());
    // The cost per supply route, UNVERIFIED like the example cost figures it rests on.
    let routes = table(&cost.json(), "cost-routes").clone();
    assert!(!rows(&routes).is_empty() && routes["unverified"].as_bool().unwrap());
    assert!(routes["title"]["en"]
        .as_str()
        .unwrap()
        .contains("supply route"));
    assert_eq!(
        api(a, "GET", "/api/scenarios/nothing/money/cost", "").status,
        404
    );
    assert_eq!(request(a, "GET", "/api/money/rules", &[], b"").status, 401);
}

#[test]
fn an_operator_sees_their_district_only() {
    let server = serve("money-op", Default::default());
    let a = &server.addr;
    add_operator(&server, "op-tz", "tongzhou-password-1", "tongzhou");
    let op = login(a, "op-tz", "tongzhou-password-1");
    let ex = api(a, "GET", "/api/money/examples", "").json();
    let body =
        serde_json::json!({"sections": ex["sections"], "values": ex["values"], "year": 2022})
            .to_string();
    let c = as_session(a, &op, "POST", "/api/money/compensation", &body);
    assert_eq!(c.status, 200, "{}", c.body);
    let c = c.json();
    assert_eq!(c["district"], "tongzhou");
    let settle = rows(table(&c, "compensation-settlement"));
    assert_eq!(settle.len(), 1);
    assert_eq!(settle[0][0], "通州区");
    // 苇沟 (朝阳→通州) March 150,000 + 凉水河 (丰台→通州) July 900,000 received; 北关 exit August paid.
    assert_eq!(settle[0][2], 1_050_000.0);
    for r in rows(table(&c, "compensation-matrix")) {
        assert!(r[1] == "通州区" || r[2] == "通州区", "{r:?}");
    }
    let body = serde_json::json!({"projects": ex["projects"]}).to_string();
    let f = as_session(a, &op, "POST", "/api/money/funding", &body).json();
    let ids: std::collections::BTreeSet<String> = rows(table(&f, "funding-projects"))
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["P003"]);
    // A scenario's cost, for the operator of the model's district "north": its plants, the
    // routes from them and the pipes out of them; no users, no city balance.
    add_operator(&server, "op-north", "north-password-12", "north");
    let opn = login(a, "op-north", "north-password-12");
    let cost = as_session(
        a,
        &opn,
        "GET",
        "/api/scenarios/beijing-district/money/cost",
        "",
    );
    assert_eq!(cost.status, 200, "{}", cost.body);
    let cost = cost.json();
    let ids: Vec<&str> = cost["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cost-plants", "cost-routes", "cost-pipes"]);
    let plants = rows(table(&cost, "cost-plants"));
    assert!(
        !plants.is_empty() && plants.iter().all(|r| r[1] == "north"),
        "{plants:?}"
    );
    let routes = rows(table(&cost, "cost-routes"));
    assert!(
        !routes.is_empty() && routes.iter().all(|r| r[1] == "north"),
        "{routes:?}"
    );
    // Without the CSRF token a session's POST is refused.
    let r = request(
        a,
        "POST",
        "/api/money/funding",
        &[("Cookie", &op.0)],
        body.as_bytes(),
    );
    assert_eq!(r.status, 403, "{}", r.body);
}

#[test]
fn hostile_bodies_are_refused_with_row_and_field() {
    let server = serve("money-bad", Default::default());
    let a = &server.addr;
    let post = |path: &str, v: serde_json::Value| api(a, "POST", path, &v.to_string());
    let r = post(
        "/api/money/funding",
        serde_json::json!({"projects": "id,asset,district,setting,construction_yuan,start_year\nx,sewer_pipe,daxing,urban,1e999,2024\n"}),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("row 2, field construction_yuan"),
        "{}",
        r.body
    );
    let r = post(
        "/api/money/funding",
        serde_json::json!({"projects": "", "bogus": 1}),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = post(
        "/api/money/funding",
        serde_json::json!({"projects": "id\n", "sets": ["/etc/passwd"]}),
    );
    assert_eq!(r.status, 400);
    let r = post(
        "/api/money/funding",
        serde_json::json!({"projects": "id,asset,district,setting,construction_yuan,start_year\n", "sets": ["/etc/passwd"]}),
    );
    assert!(
        r.status == 400 && r.body.contains("unknown rule set") && !r.body.contains("root:"),
        "{}",
        r.body
    );
    let r = post(
        "/api/money/compensation",
        serde_json::json!({"sections": "id,upstream,target\na,海淀区,III\n", "year": 2022, "rule": "bj-compensation-2022"}),
    );
    assert!(
        r.status == 400 && r.body.contains("no formula"),
        "{}",
        r.body
    );
    let r = post(
        "/api/money/compensation",
        serde_json::json!({"sections": "id,upstream,target\na,海淀区,III\n", "year": 99999}),
    );
    assert_eq!(r.status, 400);
    let r = post(
        "/api/money/subsidies",
        serde_json::json!({"facilities": "id,kind,district,year,base_rate,volume_m3\nx,plant,daxing,2024,9,1\n"}),
    );
    assert!(
        r.status == 400 && r.body.contains("outside 0.5–3.2"),
        "{}",
        r.body
    );
    let r = post(
        "/api/money/fees",
        serde_json::json!({"months": "plant,month,treated_m3,evaluated,compliant\np,2024-01,1,1,2\n", "lang": "xx"}),
    );
    assert_eq!(r.status, 400);
    // A body over the limit is refused before it is parsed.
    let big = "x".repeat(rewater_api::MAX_BODY_BYTES + 10);
    let r = post("/api/money/funding", serde_json::json!({"projects": big}));
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(200)]);
}
