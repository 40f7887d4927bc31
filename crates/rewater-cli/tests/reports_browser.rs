//! The task register and report pages in a real browser: Debian's Chromium, headless,
//! driven by playwright-core (`crates/rewater-web/web/tests/reports.mjs`) against
//! `rewater serve --demo`: an operator filters the register and reports progress with a PDF,
//! the administrator generates the pilot annual report and downloads its HTML and PDF.

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
fn reports_are_generated_and_downloaded_from_the_page() {
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
    let db = tmp("reports-browser");
    assert_eq!(
        add_user(&db, "admin", "admin-password-1", "admin", None),
        Some(0)
    );
    assert_eq!(
        add_user(
            &db,
            "op-north",
            "north-password-1",
            "operator",
            Some("north")
        ),
        Some(0)
    );
    let evidence = db.with_file_name("验收记录.pdf");
    std::fs::write(&evidence, b"%PDF-1.4\n% evidence of the browser test\n").unwrap();
    let downloads = db.with_file_name("downloads");
    let server = start(&db, &[]);
    let out = Command::new("node")
        .arg("tests/reports.mjs")
        .current_dir(&web)
        .env("REWATER_NODE_MODULES", node_modules)
        .env("REWATER_URL", format!("http://{}", server.api))
        .env("REWATER_ADMIN", "admin:admin-password-1")
        .env("REWATER_OPERATOR", "op-north:north-password-1")
        .env("REWATER_EVIDENCE", &evidence)
        .env("REWATER_DOWNLOADS", &downloads)
        .env("REWATER_CHROMIUM", &browser)
        .output()
        .expect("running node");
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser test failed");
    // What the page downloaded is what the server wrote.
    let pdf = std::fs::read(downloads.join("pilot-annual.zh.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // The operator's update is in the store, audited, with its evidence.
    let (_, text) = http(&server.api, "GET", "/api/audit", Some(TOKEN), None);
    assert!(
        text.contains("task.progress") && text.contains("report.generate"),
        "{text}"
    );
}
