//! `rewater indicators`: the scorecard of a model (and the bureau's statistics) against the
//! plans' target sets. Arguments map onto [`rewater_indicators::scorecard_for_region`].

use anyhow::Result;
use clap::{Args, ValueEnum};
use rewater_indicators::{Catalog, Lang, QuantityTable, ScorecardOptions};
use rewater_standards::Standards;
use std::io::Write;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args)]
pub struct IndicatorsArgs {
    /// The model file.
    model: PathBuf,
    /// The statistics table the bureau fills in (CSV or XLSX: district,year,quantity,value).
    #[arg(long)]
    stats: Option<PathBuf>,
    /// A target set: seed-000 … seed-004, ndrc-2021-13[/REGION] or a .toml file (repeatable;
    /// default: the model's `[targets] sets`).
    #[arg(long = "targets")]
    targets: Vec<String>,
    /// Indicator definitions replacing the bundled ones of the same id (.toml).
    #[arg(long)]
    definitions: Option<PathBuf>,
    /// Baseline year of the trend (default: the first set's).
    #[arg(long)]
    baseline: Option<i32>,
    /// The monitoring store (SQLite file or postgres:// URL): compliance and data-validity
    /// counts by district for the monitoring years, and the river-outfall ledger's coverage
    /// (surveyed, monitored, traced, rectified) if the store holds one.
    #[arg(long)]
    db: Option<String>,
    /// Years of the monitoring counts (repeatable; default: this year).
    #[arg(long = "monitoring-year")]
    monitoring_years: Vec<i32>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[arg(long, default_value = "zh")]
    lang: Lang,
}

pub fn run(args: IndicatorsArgs, standards: &Standards) -> Result<()> {
    let catalog = match &args.definitions {
        Some(p) => Catalog::bundled_with(p).map_err(crate::input_err)?,
        None => Catalog::bundled(),
    };
    let region = rewater_model::load(&args.model, standards)?;
    let base = args.model.parent().unwrap_or(std::path::Path::new("."));
    let (specs, base) = if args.targets.is_empty() {
        (region.targets.sets.clone(), base.to_path_buf())
    } else {
        (args.targets.clone(), std::env::current_dir()?)
    };
    let sets =
        rewater_indicators::resolve_sets(&specs, &base, &catalog).map_err(crate::input_err)?;
    let stats: Option<QuantityTable> = match &args.stats {
        Some(p) => Some(
            rewater_indicators::stats::read_statistics(p, &catalog).map_err(crate::input_err)?,
        ),
        None => None,
    };
    let options = ScorecardOptions {
        baseline_year: args.baseline,
        ..Default::default()
    };
    let monitoring = match &args.db {
        Some(db) => Some(monitoring_table(db, &args.monitoring_years, standards)?),
        None => None,
    };
    let extra: Vec<&QuantityTable> = stats.iter().chain(monitoring.iter()).collect();
    let (_, card) = rewater_indicators::scorecard_for_region(
        &region, standards, &catalog, &extra, &sets, &options,
    )?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => {
            rewater_indicators::text::write_scorecard(&mut out, &card, &catalog, args.lang)?
        }
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&card)?)?,
    }
    Ok(())
}

/// The monitoring store's compliance and validity counts as quantities.
fn monitoring_table(db: &str, years: &[i32], standards: &Standards) -> Result<QuantityTable> {
    let mut store = rewater_store::open(db)?;
    let zone = rewater_time::Zone::default();
    let today = zone.today();
    let years = if years.is_empty() {
        vec![today.ymd().0]
    } else {
        years.to_vec()
    };
    let mut rates = Vec::new();
    for &y in &years {
        rates.extend(rewater_indicators::monitoring::rates_from_store(
            store.as_mut(),
            standards,
            y,
            today,
        )?);
    }
    let mut table = rewater_indicators::monitoring::monitoring_quantities(&rates)?;
    // The river-outfall ledger in the same store, if it holds one: coverage by district.
    let ledger = rewater_outfalls::store::load_ledger(store.as_mut())?;
    if !ledger.outfalls.is_empty() {
        let records = rewater_outfalls::store::rectifications(store.as_mut(), None)?;
        let offset = zone.offset_s(rewater_time::now_unix_ms() / 1000);
        for y in years {
            let rep = rewater_outfalls::coverage::coverage(&ledger, &records, y, today, offset);
            table.overlay(&rewater_outfalls::coverage::quantities(&rep));
        }
    }
    Ok(table)
}
