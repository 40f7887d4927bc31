//! The report benchmark of issue 15: the four reports of the Beijing-style example
//! (pilot-annual, pilot-final, plan-progress, district north), each generated `repeat`
//! times: HTML (engine run + scorecard + gathering + building + writing) and PDF (printing that HTML in
//! headless Chromium) timed apart; prints the median and the slowest of each.

use anyhow::{Context, Result};
use rewater_reports::{pdf, Lang, ReportKind};
use rewater_standards::Standards;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to time.
pub struct ReportOptions {
    pub model: PathBuf,
    pub out: PathBuf,
    pub repeat: usize,
    /// Time the PDF too (needs Chromium).
    pub pdf: bool,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the benchmark and prints one line per report.
pub fn run(o: ReportOptions) -> Result<()> {
    let standards = Standards::builtin();
    let browser = if o.pdf {
        Some(pdf::find_chromium().context("--pdf needs Chromium (apt-get install chromium)")?)
    } else {
        None
    };
    let today = rewater_time::Zone::default().today();
    for kind in ReportKind::ALL {
        let (mut html_s, mut pdf_s) = (Vec::new(), Vec::new());
        for _ in 0..o.repeat.max(1) {
            let t0 = Instant::now();
            let region = rewater_model::load(&o.model, &standards)?;
            let req = rewater_reports::generate::Request {
                kind,
                lang: Lang::Zh,
                district: Some("north".into()),
                year: None,
                today,
                browser: None,
                progress: vec![],
                alerts: None,
                sites: vec![],
                indicators: None,
                model_dir: o.model.parent().map(Path::to_path_buf).unwrap_or_default(),
            };
            // The same call as `rewater report` (engine run, scorecard, tasks, HTML).
            let written = rewater_reports::generate::generate(
                &region,
                "model.toml",
                &standards,
                req,
                &o.out,
            )?;
            let stem = rewater_reports::file_stem(kind, Some("north"), Lang::Zh);
            html_s.push(t0.elapsed().as_secs_f64());
            if let Some(b) = &browser {
                let t1 = Instant::now();
                pdf::print(b, &written.html, &o.out.join(format!("{stem}.pdf")))?;
                pdf_s.push(t1.elapsed().as_secs_f64());
            }
        }
        let bytes = std::fs::metadata(o.out.join(format!(
            "{}.html",
            rewater_reports::file_stem(kind, Some("north"), Lang::Zh)
        )))
        .map(|m| m.len())
        .unwrap_or(0);
        let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        let mut line = format!(
            "{:<14} html median {:.3} s max {:.3} s ({} kB)",
            kind.id(),
            median(&mut html_s.clone()),
            max(&html_s),
            bytes / 1024
        );
        if !pdf_s.is_empty() {
            line += &format!(
                "; pdf median {:.3} s max {:.3} s",
                median(&mut pdf_s.clone()),
                max(&pdf_s)
            );
        }
        println!("{line}");
    }
    Ok(())
}

/// The Beijing-style example beside the workspace.
pub fn default_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-district/model.toml")
}
