//! The dependency rule of docs/architecture.md, checked on the real dependency graph: the
//! modelling and protocol libraries pull in no service framework, no argument parser, no
//! progress bar and no Node.js-built crate, so they build and test on a machine without npm.

use std::process::Command;

const PLAIN_LIBRARIES: [&str; 10] = [
    "rewater-time",
    "rewater-standards",
    "rewater-netflow",
    "rewater-model",
    "rewater-engine",
    "rewater-overflow",
    "rewater-hj212",
    "rewater-indicators",
    // issue 17 (h-money)
    "rewater-money",
    // issue 18 (h-opt): without its optional `nats` feature
    "rewater-optimise",
];

const FORBIDDEN: [&str; 7] = [
    "tokio",
    "axum",
    "hyper",
    "clap",
    "indicatif",
    "rewater-web",
    "rewater-api",
];

/// Crate names in the normal and build dependency tree of `package` (dev-dependencies of the
/// package itself included: its tests must not need them either).
fn tree(package: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "normal,build,dev",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn plain_libraries_pull_in_no_service_stack() {
    for lib in PLAIN_LIBRARIES {
        let deps = tree(lib);
        assert!(
            deps.iter().any(|d| d == lib),
            "{lib} not in its own tree: {deps:?}"
        );
        for bad in FORBIDDEN {
            assert!(
                !deps.iter().any(|d| d == bad),
                "{lib} depends on {bad} (docs/architecture.md forbids it)"
            );
        }
    }
}

#[test]
fn the_service_crates_do_pull_them_in() {
    // The check above would pass vacuously if `cargo tree` printed nothing useful.
    let deps = tree("rewater-server");
    for want in ["tokio", "axum", "rewater-api", "rewater-gateway"] {
        assert!(
            deps.iter().any(|d| d == want),
            "rewater-server lacks {want}"
        );
    }
}
