//! Installs the front-end packages from the committed lockfile (`npm ci`) into this build's
//! `OUT_DIR`, never into the source tree: package.json and package-lock.json are copied to
//! `OUT_DIR/npm` and installed there. ECharts is embedded from that copy, and the path of its
//! `node_modules` is given to the crate as `REWATER_WEB_NODE_MODULES` (the browser test runs
//! playwright-core from there).

use std::path::{Path, PathBuf};
use std::process::Command;

const LOCK_FILES: [&str; 2] = ["package.json", "package-lock.json"];

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    for f in LOCK_FILES {
        println!("cargo:rerun-if-changed=web/{f}");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let npm_dir = out.join("npm");
    let node_modules = npm_dir.join("node_modules");
    println!(
        "cargo:rustc-env=REWATER_WEB_NODE_MODULES={}",
        node_modules.display()
    );
    let echarts = node_modules.join("echarts/dist/echarts.min.js");
    // Install again only when the lockfile changed (or nothing is installed yet).
    let same_lock = std::fs::read(web.join("package-lock.json")).ok()
        == std::fs::read(npm_dir.join("package-lock.json")).ok();
    if echarts.exists() && same_lock {
        return;
    }
    std::fs::create_dir_all(&npm_dir)
        .unwrap_or_else(|e| panic!("creating {}: {e}", npm_dir.display()));
    for f in LOCK_FILES {
        std::fs::copy(web.join(f), npm_dir.join(f))
            .unwrap_or_else(|e| panic!("copying web/{f} to {}: {e}", npm_dir.display()));
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(&npm_dir)
        .status();
    match status {
        Ok(s) if s.success() && echarts.exists() => {}
        Ok(s) => panic!(
            "`npm ci` in {} failed ({s}); the web platform needs Apache ECharts from npm",
            npm_dir.display()
        ),
        Err(e) => panic!(
            "cannot run npm ({e}); install Node.js and npm, or build without the `web` feature of rewater-api (the web platform needs Apache ECharts from npm)"
        ),
    }
}
