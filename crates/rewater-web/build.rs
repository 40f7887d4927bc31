//! Installs the front-end packages from the committed lockfile (`npm ci`) when they are
//! missing, so that `cargo build` on a fresh machine needs nothing but Node.js and npm.

use std::path::Path;
use std::process::Command;

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed=web/src");
    let echarts = web.join("node_modules/echarts/dist/echarts.min.js");
    if echarts.exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&web)
        .status();
    match status {
        Ok(s) if s.success() && echarts.exists() => {}
        Ok(s) => panic!(
            "`npm ci` in {} failed ({s}); the web platform needs Apache ECharts from npm",
            web.display()
        ),
        Err(e) => panic!(
            "cannot run npm ({e}); install Node.js and npm, then build again (the web platform needs Apache ECharts from npm)"
        ),
    }
}
