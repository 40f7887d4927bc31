//! The web platform in a real browser: Debian's Chromium, headless, driven by playwright-core
//! (`crates/rewater-web/web/tests/browser.mjs`) against `rewater serve` with the demo data.
//! Screenshots go to `target/screenshots/`.

mod common;

use common::*;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn web_platform_in_a_real_browser() {
    let Some(BrowserKit {
        chromium: browser,
        web,
        node_modules,
    }) = browser_kit()
    else {
        return;
    };
    let db = tmp("web");
    assert_eq!(
        add_user(&db, "admin", "admin-password-1", "admin", None),
        Some(0)
    );
    let south = add_user(
        &db,
        "op-south",
        "south-password-1",
        "operator",
        Some("south"),
    );
    assert_eq!(south, Some(0));
    // The CLI refuses a short password as bad input.
    assert_eq!(add_user(&db, "v", "short", "viewer", None), Some(2));

    let server = start(&db, &[]);
    // Two hours of COD at the north plant (exceeding) and at the south plant (10 mg/L).
    let mut s = TcpStream::connect(&server.addr).unwrap();
    send_north_cod(&mut s, &server.device_pw);
    for k in 0..120 {
        let mut south = upload("RWDEMO0000000002", &server.device_pw, k, true);
        south.factors[0].values[0].1 = 10.0;
        assert!(exchange(&mut s, &south.frame(), Some("CN=9014")).is_some());
    }
    let t = Instant::now();
    let alert = loop {
        let (_, text) = http(
            &server.api,
            "GET",
            "/api/alerts?state=open&site=plant-north-outlet",
            Some(TOKEN),
            None,
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if let Some(id) = v["alerts"]
            .as_array()
            .unwrap()
            .first()
            .map(|a| a["id"].clone())
        {
            break id;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "no alert raised");
        std::thread::sleep(Duration::from_millis(50));
    };
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    // The bundled Beijing model with its CSV files, as an operator would upload it.
    let model_tar = db.with_file_name("beijing-upload.tar");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-district");
    let tar = Command::new("tar")
        .arg("-cf")
        .arg(&model_tar)
        .arg("-C")
        .arg(&examples)
        .arg(".")
        .status()
        .expect("running tar");
    assert!(tar.success());
    let out = Command::new("node")
        .arg("tests/browser.mjs")
        .current_dir(&web)
        .env("REWATER_NODE_MODULES", node_modules)
        .env("REWATER_MODEL_TAR", &model_tar)
        .env("REWATER_URL", format!("http://{}", server.api))
        .env("REWATER_ADMIN", "admin:admin-password-1")
        .env("REWATER_OPERATOR", "op-south:south-password-1")
        .env("REWATER_NORTH_ALERT", alert.to_string())
        .env("REWATER_SCREENSHOTS", &shots)
        .env("REWATER_CHROMIUM", &browser)
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser test failed");
    assert!(shots.join("overview.png").exists());
    // The audit log through the API agrees with what the page showed.
    let (_, text) = http(&server.api, "GET", "/api/audit", Some(TOKEN), None);
    assert!(text.contains("alert.acknowledged") && text.contains("site.update"));
}
