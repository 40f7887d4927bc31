//! The money page's compensation ledger in a real browser: Debian's Chromium, headless, driven
//! by playwright-core (`crates/rewater-web/web/tests/money.mjs`) against `rewater serve`: the
//! administrator computes the example year (every table UNVERIFIED, the settlement's figures,
//! English, a bad row refused, the 2022 rule refused); Tongzhou's operator sees Tongzhou only.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

#[test]
fn the_compensation_page_in_a_real_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is required in CI: apt-get install chromium"
        );
        eprintln!("skipped: Debian's chromium is not installed (apt-get install chromium)");
        return;
    };
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rewater-web/web");
    let node_modules = rewater_api::web::node_modules_dir();
    assert!(
        Path::new(node_modules).join("playwright-core").exists(),
        "playwright-core missing in {node_modules} (installed by crates/rewater-web/build.rs)"
    );
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
