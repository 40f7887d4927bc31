//! The task register and report pages in a real browser: Debian's Chromium, headless,
//! driven by playwright-core (`crates/rewater-web/web/tests/reports.mjs`) against
//! `rewater serve --demo`: an operator filters the register and reports progress with a PDF,
//! the administrator generates the pilot annual report and downloads its HTML and PDF.

mod common;

use common::*;
use std::process::Command;

#[test]
fn reports_are_generated_and_downloaded_from_the_page() {
    let Some(BrowserKit {
        chromium: browser,
        web,
        node_modules,
    }) = browser_kit()
    else {
        return;
    };
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
