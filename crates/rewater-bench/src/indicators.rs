//! `rewater-bench indicators`: times the scorecard (issue 15) — a model run aggregated by
//! district and year, the statistics table, the scorecard against the model's target sets and
//! its text — on the Beijing-style example (default) or a synthetic model; the engine run
//! alone is timed beside it, so the aggregation's cost shows.

use anyhow::{anyhow, Result};
use rewater_indicators::{Catalog, QuantityTable, ScorecardOptions};
use rewater_model::synthetic::{synthetic_model, SyntheticSpec};
use rewater_standards::Standards;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to time.
pub struct IndicatorsBench {
    pub model: Option<PathBuf>,
    pub stats: Option<PathBuf>,
    /// A synthetic model of this size instead of a file.
    pub synthetic: Option<SyntheticSpec>,
    pub repeat: usize,
}

fn best_mean(v: &[Duration]) -> (f64, f64) {
    let min = v.iter().min().copied().unwrap_or_default().as_secs_f64();
    let mean = v.iter().map(Duration::as_secs_f64).sum::<f64>() / v.len().max(1) as f64;
    (min, mean)
}

pub fn run(b: IndicatorsBench) -> Result<()> {
    let standards = Standards::builtin();
    let catalog = Catalog::bundled();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let t0 = Instant::now();
    let (region, label) = match (&b.synthetic, &b.model) {
        (Some(spec), _) => {
            let model = synthetic_model(spec);
            let text = toml::to_string(&model)?;
            let r =
                rewater_model::resolve(&model, &text, "synthetic.toml", Path::new("."), &standards)
                    .map_err(|e| anyhow!("{e}"))?;
            (
                r,
                format!(
                    "synthetic {} plants, {} users, {} years",
                    spec.plants, spec.users, spec.years
                ),
            )
        }
        (None, m) => {
            let path = m
                .clone()
                .unwrap_or_else(|| root.join("examples/beijing-district/model.toml"));
            let r = rewater_model::load(&path, &standards).map_err(|e| anyhow!("{e}"))?;
            (r, path.display().to_string())
        }
    };
    let t_load = t0.elapsed();
    let stats_path = match (&b.stats, &b.synthetic, &b.model) {
        (Some(p), _, _) => Some(p.clone()),
        (None, None, None) => Some(root.join("examples/beijing-district/statistics.csv")),
        _ => None,
    };
    let sets = rewater_indicators::resolve_sets(&region.targets.sets, Path::new("."), &catalog)?;
    let (mut engine, mut card_t, mut stats_t, mut text_t) = (vec![], vec![], vec![], vec![]);
    let mut rows = 0;
    for _ in 0..b.repeat.max(1) {
        let t = Instant::now();
        rewater_engine::run(&region)?;
        engine.push(t.elapsed());
        let t = Instant::now();
        let stats: Vec<QuantityTable> = match &stats_path {
            Some(p) => vec![rewater_indicators::stats::read_statistics(p, &catalog)?],
            None => vec![],
        };
        stats_t.push(t.elapsed());
        let t = Instant::now();
        let extra: Vec<&QuantityTable> = stats.iter().collect();
        let (_, card) = rewater_indicators::scorecard_for_region(
            &region,
            &standards,
            &catalog,
            &extra,
            &sets,
            &ScorecardOptions::default(),
        )?;
        card_t.push(t.elapsed());
        rows = card.rows.len();
        let t = Instant::now();
        let mut out = Vec::new();
        rewater_indicators::text::write_scorecard(
            &mut out,
            &card,
            &catalog,
            rewater_indicators::Lang::Zh,
        )?;
        serde_json::to_vec(&card)?;
        text_t.push(t.elapsed());
    }
    let (e_min, e_mean) = best_mean(&engine);
    let (c_min, c_mean) = best_mean(&card_t);
    let (s_min, _) = best_mean(&stats_t);
    let (x_min, _) = best_mean(&text_t);
    let report = serde_json::json!({
        "model": label, "days": region.days, "nodes": region.nodes.len(), "sets": region.targets.sets,
        "statistics": stats_path.map(|p| p.display().to_string()), "repeat": b.repeat.max(1),
        "rows": rows, "load_s": t_load.as_secs_f64(),
        "engine_run_s_min": e_min, "engine_run_s_mean": e_mean,
        "scorecard_s_min": c_min, "scorecard_s_mean": c_mean,
        "aggregation_overhead_s_min": c_min - e_min,
        "statistics_read_s_min": s_min, "text_and_json_s_min": x_min,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
