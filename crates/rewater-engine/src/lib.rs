//! The rewater simulation engine: daily allocation of reclaimed water by priority and quality
//! class (分质供水), storage in ponds, water quality through wetlands (P-k-C*) and ponds, and
//! the indicators of a run (再生水利用率 …). See docs/engine.md for the method.
//! [`summary_text`] writes a run's summary, or two runs side by side, for a terminal.

mod memo;
pub mod output;
pub mod quality;
pub mod sim;
pub mod solver;
pub mod summary;
pub mod summary_text;

pub use output::{run_to_dir, CsvDailyWriter, RunToDirError};
pub use sim::{evaluate_many, EngineError, Simulation};
pub use summary::{read_summary, ReadSummaryError, Summary};
pub use summary_text::{write_comparison, write_summary};

/// Runs a region without daily output and returns its summary.
pub fn run(region: &rewater_model::Region) -> Result<Summary, EngineError> {
    Simulation::new(region)?.run(None, &mut |_, _| {})
}
