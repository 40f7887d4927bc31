//! `rewater overflow`: combined-sewer overflow runs and tank sizing. Arguments map onto
//! [`rewater_overflow::study`]; the files and texts come from `rewater_overflow::output`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use rewater_overflow::output;
use rewater_overflow::report::Lang;
use rewater_overflow::size::Goal;
use rewater_overflow::study::{self, Outcome, StudyError, StudyOptions};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum OverflowCommand {
    /// Simulate a case (.toml, or an EPA SWMM 5 .inp) over its whole rain record.
    Run {
        case: PathBuf,
        #[command(flatten)]
        options: CaseOptions,
    },
    /// Find the smallest volume of a tank that meets a goal over the whole record.
    Size {
        case: PathBuf,
        /// The tank to size (a storage node, or a regulator with a tank).
        #[arg(long)]
        tank: Option<String>,
        /// depth:MM (no overflow for events under MM mm), events:N (at most N overflow
        /// events a year on average) or capture:PCT (at least PCT % captured).
        #[arg(long)]
        goal: Goal,
        #[command(flatten)]
        options: CaseOptions,
    },
}

#[derive(Args)]
pub struct CaseOptions {
    /// Write overflow.json, events.csv, annual.csv, outlets.csv and report.html here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the full JSON result instead of the summary.
    #[arg(long)]
    json: bool,
    /// Internal time step, seconds (default: the case's; from a SWMM file its
    /// ROUTING_STEP for kinematic-wave and steady routing, that but at least 60 s as the
    /// clock step of dynamic wave (which routes at ROUTING_STEP within it), else its
    /// WET_STEP within 60–300 s).
    #[arg(long)]
    step_s: Option<i64>,
    /// SWMM files: route by fast (lag, capacity, storage; for long records), steady,
    /// kinwave or dynwave instead of the file's FLOW_ROUTING (default: as the file asks).
    #[arg(long)]
    routing: Option<rewater_overflow::network::FlowRouting>,
    /// Dry hours that separate rain events (default 6).
    #[arg(long)]
    inter_event_h: Option<f64>,
    /// SWMM files: an outfall that is the treatment plant (repeatable).
    #[arg(long)]
    plant: Vec<String>,
    /// SWMM files: an overflow outfall and its river, OUTFALL=RIVER (repeatable).
    #[arg(long)]
    river: Vec<String>,
    /// Design rain depth for the GB 51174 runoff-control volume, mm (default 33).
    #[arg(long)]
    design_depth_mm: Option<f64>,
    /// Interception ratio after the works, for the GB 50014 pollution-control volume.
    #[arg(long)]
    n_after: Option<f64>,
    /// Language of report.html (zh-en: both, the default; zh; en) and of the summary
    /// (English unless zh).
    #[arg(long, default_value = "zh-en")]
    lang: Lang,
}

impl CaseOptions {
    fn study(&self) -> Result<StudyOptions> {
        let rivers = self
            .river
            .iter()
            .map(|r| {
                r.split_once('=')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .with_context(|| format!("--river '{r}' should read OUTFALL=RIVER"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(StudyOptions {
            step_s: self.step_s,
            inter_event_h: self.inter_event_h,
            plant: self.plant.clone(),
            rivers,
            design_depth_mm: self.design_depth_mm,
            n_after: self.n_after,
            routing: self.routing,
        })
    }
}

/// Input errors exit with 2, options that do not fit the file with 1.
fn study_err(e: StudyError) -> anyhow::Error {
    match e {
        StudyError::Input(e) => crate::input_err(e),
        StudyError::Options(m) => anyhow::Error::msg(m),
    }
}

pub fn run(command: OverflowCommand) -> Result<()> {
    let (case, options, sizing) = match command {
        OverflowCommand::Run { case, options } => (case, options, None),
        OverflowCommand::Size {
            case,
            tank,
            goal,
            options,
        } => (case, options, Some((tank, goal))),
    };
    let (system, design) = study::load(&case, &options.study()?).map_err(study_err)?;
    let outcome = match sizing {
        None => study::run(&system, &design),
        Some((tank, goal)) => {
            study::size(&system, &design, tank.as_deref(), goal).map_err(study_err)?
        }
    };
    emit(&options, &outcome)
}

fn emit(o: &CaseOptions, outcome: &Outcome) -> Result<()> {
    if let Some(dir) = &o.out {
        output::write_dir(dir, outcome, o.lang)?;
    }
    if o.json {
        println!("{}", serde_json::to_string_pretty(&output::json(outcome))?);
    } else {
        print!("{}", output::summary_text(outcome, o.lang));
        if let Some(dir) = &o.out {
            print!("{}", output::written_to(dir, o.lang));
        }
    }
    Ok(())
}
