//! The rewater simulation engine: daily allocation of reclaimed water by priority and quality
//! class (分质供水), storage in ponds, water quality through wetlands (P-k-C*) and ponds, and
//! the indicators of a run (再生水利用率 …). See docs/engine.md for the method.

pub mod output;
pub mod quality;
pub mod sim;
pub mod solver;
pub mod summary;

pub use output::CsvDailyWriter;
pub use sim::{EngineError, Simulation};
pub use summary::Summary;

/// Runs a region without daily output and returns its summary.
pub fn run(region: &rewater_model::Region) -> Result<Summary, EngineError> {
    Simulation::new(region)?.run(None, &mut |_, _| {})
}
