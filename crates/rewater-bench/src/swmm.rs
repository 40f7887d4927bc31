//! `rewater-bench swmm-files DIR [--swmm]` (issue 14): rewater on EPA SWMM 5's own
//! example and test files — each imported and run as it stands, by the routing its
//! `FLOW_ROUTING` gets by default — timed (best of three), with the comparison table of
//! `rewater_overflow::peer`; with `--swmm`, EPA SWMM 5.2 (the swmm-toolkit wheel, through
//! `tools/swmm_reference.py --time`) is timed on the same file in the same session.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct SwmmFilesArgs {
    /// The directory with the .inp files and swmm524_results.json.
    dir: PathBuf,
    /// Also time EPA SWMM on each file (python3 with swmm-toolkit).
    #[arg(long)]
    swmm: bool,
}

fn best_of_three(f: impl Fn() -> Result<()>) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn swmm_seconds(inp: &Path) -> Option<f64> {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/swmm_reference.py");
    let out = std::process::Command::new("python3")
        .arg(tool)
        .arg("--time")
        .arg(inp)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

pub fn run(a: SwmmFilesArgs) -> Result<()> {
    let results = a.dir.join("swmm524_results.json");
    let text =
        std::fs::read_to_string(&results).with_context(|| format!("{}", results.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    let rows = rewater_overflow::peer::compare_dir(&a.dir, &json);
    print!("{}", rewater_overflow::peer::markdown_table(&rows));
    println!("\n| file | routing (file → rewater) | step s | rewater s | SWMM 5.2 s | SWMM ÷ rewater |\n|---|---|---|---|---|---|");
    for c in &rows {
        let Ok(f) = &c.rewater else { continue };
        let path = a.dir.join(&c.file);
        let ours = best_of_three(|| {
            let s = rewater_overflow::inp::load(&path, &Default::default())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            rewater_overflow::peer::run_system(&s);
            Ok(())
        })?;
        let theirs = if a.swmm && c.swmm.runs {
            swmm_seconds(&path)
        } else {
            None
        };
        let fmt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
        println!(
            "| {} | {} → {} | {} | {:.3} | {} | {} |",
            c.file,
            f.routing,
            f.method,
            f.step_s,
            ours,
            fmt(theirs),
            fmt(theirs.map(|t| t / ours)),
        );
    }
    Ok(())
}
