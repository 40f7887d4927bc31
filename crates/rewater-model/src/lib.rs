//! The rewater regional model (区域再生水模型): the file format's serde types with their JSON
//! Schema, loading from TOML or JSON, validation with errors that name the file, line, node and
//! field, daily profiles from constants, monthly factors and CSV series, and the resolved
//! [`Region`] the engine runs.

pub mod files;
pub mod findings;
pub mod graph;
pub mod load;
pub mod region;
pub mod series;
pub mod synthetic;
pub mod types;

pub use files::{LoadOptions, MAX_DAYS};
pub use load::{load, load_with, parse_model, resolve, resolve_with, ModelError, ModelErrors};
pub use region::*;
pub use types::*;

/// The JSON Schema of the model file, generated from the types.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Model)).unwrap_or(serde_json::Value::Null)
}
