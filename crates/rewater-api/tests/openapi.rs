//! The generated OpenAPI document and the real router agree, in both directions: every
//! documented operation answers on the router (never 404 or 405), every other method on a
//! documented path is refused (405), the router is built only from documented handlers,
//! and unknown routes get the fallback's 404.

mod common;

use common::*;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn documented() -> Vec<(String, String)> {
    let doc = serde_json::to_value(rewater_api::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for m in ops
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| METHODS.contains(&k.as_str()))
        {
            out.push((m.clone(), path.clone()));
        }
    }
    out.sort();
    out
}

#[test]
fn every_documented_route_answers_on_the_real_router() {
    let server = serve("openapi-walk", Default::default());
    let a = &server.addr;
    // Real ids for the path parameters, so that a 404 can only mean a missing route.
    let token = api(
        a,
        "POST",
        "/api/tokens",
        r#"{"account":"viewer","label":"walk"}"#,
    )
    .json();
    let public_id = token["public_id"].as_str().unwrap().to_string();
    let run = api(a, "POST", "/api/runs", r#"{"model":"beijing-district"}"#).json();
    let run_id = run["id"].as_u64().unwrap().to_string();
    let alert_id = api(a, "GET", "/api/alerts", "").json()["alerts"][0]["id"].to_string();
    // issue 15 part B (h-tasks): a real report to download, a real task.
    let report = api(
        a,
        "POST",
        "/api/reports",
        r#"{"kind":"pilot-annual","model":"beijing-district","pdf":false}"#,
    )
    .json();
    let report_id = report["id"].as_str().unwrap().to_string();
    let report_file = report["files"][0]["name"].as_str().unwrap().to_string();
    let routes = documented();
    assert!(routes.len() >= 30, "{routes:?}");
    for (method, path) in &routes {
        let id = if path.starts_with("/api/alerts") {
            alert_id.as_str()
        } else if path.starts_with("/api/runs") {
            run_id.as_str()
        } else if path.starts_with("/api/reports/") {
            report_id.as_str()
        } else {
            NORTH
        };
        let url = path
            .replace("{id}", id)
            .replace(
                "{name}",
                if path.starts_with("/api/users") {
                    "viewer"
                } else if path.ends_with("/scorecard") || path.ends_with("/money/cost") {
                    // A bundled scenario: the scorecard runs an existing model.
                    "beijing-district"
                } else {
                    "beijing-copy"
                },
            )
            .replace("{public_id}", &public_id)
            .replace("{mn}", NORTH_MN)
            .replace("{register}", "beijing-14fyp")
            .replace("{task}", "1")
            .replace("{file}", &report_file)
            .replace("{code}", OUTFALL_NORTH)
            .replace("{rid}", RECTIFICATION);
        let url = if url.ends_with("/compliance") {
            format!("{url}?from=2025-06-01&to=2025-06-02")
        } else if url.ends_with("/series") {
            format!("{url}?factor=cod")
        } else {
            url
        };
        let r = api(a, &method.to_uppercase(), &url, "{}");
        assert!(
            r.status != 404 && r.status != 405,
            "{method} {path} ({url}) is documented but answers {}: {}",
            r.status,
            r.body
        );
        assert!(
            !r.body.contains(rewater_api::pages::NO_ROUTE),
            "{method} {url}: {}",
            r.body
        );
    }
}

#[test]
fn the_router_serves_nothing_undocumented() {
    let server = serve("openapi-reverse", Default::default());
    let routes = documented();
    // Every other method on a documented path is refused by the router.
    let mut paths: Vec<&String> = routes.iter().map(|(_, p)| p).collect();
    paths.dedup();
    for path in paths {
        let url = path
            .replace("{id}", NORTH)
            .replace("{name}", "boss")
            .replace("{public_id}", "0000000000000000")
            .replace("{mn}", NORTH_MN)
            .replace("{code}", OUTFALL_NORTH)
            .replace("{rid}", RECTIFICATION);
        for m in METHODS {
            if routes.iter().any(|(dm, dp)| dm == m && dp == path) {
                continue;
            }
            let r = api(&server.addr, &m.to_uppercase(), &url, "{}");
            assert_eq!(
                r.status, 405,
                "{m} {path} is not documented but answers {}: {}",
                r.status, r.body
            );
        }
    }
    // Routes that once existed or look plausible fall through to the JSON 404.
    for (m, p) in [
        ("GET", "/api/tokens"),
        ("GET", "/api/nothing"),
        ("POST", "/api/sites"),
        ("GET", "/api/runs"),
        ("DELETE", "/api/users/boss"),
    ] {
        let r = api(&server.addr, m, p, "{}");
        let undocumented = !routes
            .iter()
            .any(|(dm, dp)| dm.eq_ignore_ascii_case(m) && dp == p);
        assert!(undocumented, "{m} {p}");
        assert!(r.status == 404 || r.status == 405, "{m} {p}: {}", r.status);
        if r.status == 404 {
            assert!(r.body.contains(rewater_api::pages::NO_ROUTE), "{}", r.body);
        }
    }
    // And the router is built only from documented handlers: no plain `.route(` anywhere.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        for bad in [".route(", ".nest(", ".merge(", ".route_service("] {
            assert!(
                !text.contains(bad),
                "{} builds a route outside the documented list ({bad})",
                p.display()
            );
        }
    }
}

#[test]
fn every_operation_has_a_typed_answer_and_its_errors() {
    let doc: Value = serde_json::to_value(rewater_api::openapi()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("ErrorBody") && schemas.contains_key("SiteView"));
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (m, op) in ops.as_object().unwrap() {
            let ok = &op["responses"]["200"];
            let content = &ok["content"];
            assert!(content.is_object(), "{m} {path}: 200 without a body: {ok}");
            let public = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .all(|x| x.as_object().is_some_and(|o| o.is_empty()))
            });
            if !public {
                assert!(
                    op["responses"]["401"].is_object(),
                    "{m} {path}: no 401 documented"
                );
            }
            // Input that can be malformed: its 400 is documented.
            let query = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            if op["requestBody"].is_object() || query {
                assert!(
                    op["responses"]["400"].is_object(),
                    "{m} {path}: no 400 documented"
                );
            }
            for (code, r) in op["responses"].as_object().unwrap() {
                if code != "200" {
                    let schema = r["content"]["application/json"]["schema"].to_string();
                    assert!(schema.contains("ErrorBody"), "{m} {path} {code}: {schema}");
                }
            }
            // Typed bodies: a named schema (or, for the document itself, an object; for a
            // file download, bytes).
            let schema = content["application/json"]["schema"].to_string();
            let file = content["application/octet-stream"].is_object();
            assert!(
                schema.contains("#/components/schemas/") || path == "/api/openapi.json" || file,
                "{m} {path}: {schema}"
            );
        }
    }
    assert!(
        doc["paths"]["/api/login"]["post"]["responses"]["429"]["headers"]["retry-after"]
            .is_object()
    );
}

#[test]
fn served_document_is_the_generated_one() {
    let server = serve("openapi-served", Default::default());
    let r = request(&server.addr, "GET", "/api/openapi.json", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        serde_json::to_value(rewater_api::openapi()).unwrap()
    );
}

#[test]
fn pages_only_with_the_web_feature() {
    let server = serve("pages", Default::default());
    let r = request(&server.addr, "GET", "/site/north-outlet", &[], b"");
    if cfg!(feature = "web") {
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        let csp = r.header("content-security-policy").unwrap();
        assert!(
            csp.starts_with("default-src 'self'; img-src 'self' data:"),
            "{csp}"
        );
    } else {
        assert_eq!(r.status, 404);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("built without the web pages"),
            "{}",
            r.body
        );
    }
    // A page is read with GET only.
    assert_eq!(
        request(&server.addr, "POST", "/site/north-outlet", &[], b"").status,
        405
    );
}
