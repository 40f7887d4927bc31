//! The money page's compensation ledger in a real browser: Debian's Chromium, headless, driven
//! by playwright-core (`crates/rewater-web/web/tests/money.mjs`) against `rewater serve`: the
//! administrator computes the example year (every table UNVERIFIED, the settlement's figures,
//! English, a bad row refused, the 2022 rule refused); Tongzhou's operator sees Tongzhou only.

mod common;

use common::*;
use std::process::Command;

#[test]
fn the_compensation_page_in_a_real_browser() {
    let Some(BrowserKit {
        chromium: browser,
        web,
        node_modules,
    }) = browser_kit()
    else {
        return;
    };
    let db = tmp("money-browser");
    assert_eq!(
        add_user(&db, "admin", "admin-password-1", "admin", None),
        Some(0)
    );
    assert_eq!(
        add_user(
            &db,
            "op-tz",
            "tongzhou-password-1",
            "operator",
            Some("tongzhou")
        ),
        Some(0)
    );
    let server = start(&db, &[]);
    let out = Command::new("node")
        .arg("tests/money.mjs")
        .current_dir(&web)
        .env("REWATER_NODE_MODULES", node_modules)
        .env("REWATER_URL", format!("http://{}", server.api))
        .env("REWATER_ADMIN", "admin:admin-password-1")
        .env("REWATER_OPERATOR", "op-tz:tongzhou-password-1")
        .env("REWATER_CHROMIUM", &browser)
        .output()
        .expect("running node");
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser test failed");
}
