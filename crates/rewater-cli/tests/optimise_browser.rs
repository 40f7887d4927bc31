//! The planning-optimisation page (issue 18 item 6) in a real browser: Debian's Chromium,
//! headless, driven by playwright-core (`crates/rewater-web/web/tests/optimise.mjs`) against
//! `rewater serve`: the administrator starts the Lianyungang study with 150 generations of 32,
//! sees the scatter fill and the run finish, the front and the reuse targets tabled, in
//! Chinese and English. Screenshots go to `target/screenshots/optimise*.png`.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

#[test]
fn the_optimisation_page_in_a_real_browser() {
    let Some(BrowserKit {
        chromium: browser,
        web,
        node_modules,
    }) = browser_kit()
    else {
        return;
    };
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    let db = tmp("optimise-browser");
    assert_eq!(
        add_user(&db, "admin", "admin-password-1", "admin", None),
        Some(0)
    );
    let server = start(&db, &[]);
    let out = Command::new("node")
        .arg("tests/optimise.mjs")
        .current_dir(&web)
        .env("REWATER_NODE_MODULES", node_modules)
        .env("REWATER_URL", format!("http://{}", server.api))
        .env("REWATER_ADMIN", "admin:admin-password-1")
        .env("REWATER_CHROMIUM", &browser)
        .env("REWATER_SCREENSHOTS", &shots)
        .output()
        .expect("running node");
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser test failed");
}
