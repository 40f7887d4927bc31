//! Combined-sewer overflow analysis (合流制溢流分析): continuous simulation of
//! combined-sewer catchments — SWMM-equivalent runoff, dry-weather flow, simple sewer
//! routing, interceptors (截流), storage tanks (调蓄池) with drain-back — and the
//! statistics planners ask for: overflow per outlet, per event and per year, events per
//! year, percent capture, the rain depth below which nothing overflows, and the smallest
//! tank that meets a goal.
//!
//! Systems come from a native TOML case file ([`case`]) or an EPA SWMM 5 input file
//! ([`inp`]); both build the same [`network::System`].

pub mod case;
pub mod design;
mod drain;
mod dry;
pub mod dynwave;
mod evaporation;
pub mod green_ampt;
mod infiltration;
pub mod inp;
pub mod kinwave;
mod lateral;
pub mod limits;
pub mod network;
pub mod output;
pub mod peer;
pub mod rain;
pub mod reach;
pub mod report;
pub mod results;
pub mod route;
mod rules;
pub mod runoff;
pub mod series;
pub mod size;
mod stream;
pub mod study;
pub mod subnetworks;
pub mod synthetic;
mod tank;
pub mod time;

pub use network::System;
pub use results::{simulate, Report};

use std::path::Path;

/// Errors from reading cases, rain files and SWMM input.
#[derive(Debug, thiserror::Error)]
pub enum OverflowError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A problem at a line of an input file (line 0: the file as a whole).
    #[error("{file}, line {line}: {message}")]
    Input {
        file: String,
        line: usize,
        message: String,
    },
    /// A problem with a named field or element of a case.
    #[error("{file}: {message}")]
    Case { file: String, message: String },
}

/// Load a system from a `.toml` case or a SWMM `.inp` file, by extension, for screening
/// long records: a SWMM file is routed by the fast routing whatever its `FLOW_ROUTING`
/// (as `--routing fast`); [`inp::load`] routes by the file's own method.
pub fn load(path: &Path) -> Result<System, OverflowError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("inp") => inp::load(
            path,
            &inp::ImportOptions {
                routing: Some(network::FlowRouting::Fast),
                ..Default::default()
            },
        ),
        _ => case::load(path),
    }
}
