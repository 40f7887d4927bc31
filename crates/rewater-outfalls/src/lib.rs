//! The river-outfall ledger and pollution tracing (入河排污口全过程监管).
//!
//! Seed 001 (北京市加强入河排污口监督管理工作方案, 京环发〔2023〕4号) asks for a complete ledger
//! (完善全口径台账) kept up to date by survey and tracing, supervision of the whole chain
//! "受纳水体—排污口—排污通道—排污单位", tracing of water-quality changes at sections back to
//! outfalls (联动溯源), and "dynamic zero" for new illegal outfalls (新增违规排污口动态清零).
//! This crate holds:
//!
//! - [`ledger`]: water bodies (受纳水体), river reaches as a directed network, monitoring
//!   sections (监测断面), outfalls (排污口), discharge channels (排污通道), dischargers (排污单位)
//!   and the chain as many-to-many links; validation with errors that name file, row and field.
//! - [`classes`]: HJ 1312-2023 classes and the code rules (HJ 1235 layout UNVERIFIED, HJ 608
//!   outlet codes, GB 32100 credit codes), all as data files with source and confidence.
//! - [`geo`]: coordinates with their datum; GCJ-02 converted to WGS84 on import when declared.
//! - [`io`]: import and export as CSV, XLSX and GeoJSON (size-limited, all-or-nothing).
//! - [`network`] and [`trace`]: travel time, mixing and first-order decay along the network;
//!   forward and backward tracing; [`inverse`]: source loads from several sections'
//!   observations (non-negative least squares with Clarabel).
//! - [`spills`]: England's 12/24-hour spill-event counting rule for overflow outlets.
//! - [`rectify`]: the 一口一策 rectification workflow and "dynamic zero"; [`coverage`]: survey,
//!   monitoring, tracing and rectification coverage by district and river; [`report`]: the
//!   district self-report due each 31 January.
//! - [`store`]: saving and loading the ledger through `rewater_store::OutfallStore`
//!   (versioned, audited records).

pub mod classes;
pub mod coverage;
mod error;
pub mod geo;
pub mod inverse;
pub mod io;
pub mod ledger;
pub mod measured;
pub mod model_links;
pub mod network;
pub mod rectify;
pub mod report;
pub mod spills;
pub mod store;
pub mod trace;

pub use error::{LedgerError, Problem};
pub use ledger::*;
