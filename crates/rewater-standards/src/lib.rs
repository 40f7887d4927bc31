//! Chinese water-quality standards as data (水质标准数据库).
//!
//! * [`factor`]: the water factors with their HJ 212-2017 codes;
//! * [`unit`]: units, converted only where meaningful;
//! * [`standard`]: standard files (one per edition, bundled under `standards/` and user-added),
//!   their limits with conditions, source and confidence;
//! * [`evaluate`]: checking a sample against a class, GB 3838 single-factor classification;
//! * [`comply`]: compliance of a series over time (达标率);
//! * [`input`]: samples and series from CSV and JSON with line-numbered errors;
//! * [`report`]: text of classifications, compliance reports and standards for a terminal;
//! * [`batch`]: classifying every sample of an input, checking a series, writing the results;
//! * [`xlsx`]: the zip-bomb guard every XLSX reader of the workspace uses.

pub mod batch;
pub mod comply;
pub mod csv_rows;
pub mod date;
pub mod evaluate;
pub mod factor;
pub mod input;
pub mod report;
pub mod standard;
pub mod unit;
pub mod xlsx;

pub use batch::{classify_samples, comply_series, BatchError};
pub use comply::{comply, ComplianceReport, TimedReading};
pub use date::Date;
pub use evaluate::{check_sample, classify, Classification, ClassifyOptions, Reading, SampleCheck};
pub use factor::Factor;
pub use standard::{
    Bound, Confidence, Context, Standard, StandardFileError, Standards, UnknownWaterBody, WaterBody,
};
pub use unit::Unit;
