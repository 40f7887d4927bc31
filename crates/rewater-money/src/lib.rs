//! Money of the plans (资金): who pays for what, as the seeds settle it, computed instead of
//! kept in a bureau's spreadsheet. Yuan here are yuan; the engine's `cost_per_m3` weights
//! are not used.
//!
//! - [`rules`]: rule sets as versioned data (bundled from `money/` at the repository root,
//!   replaced or added to by a user file of the same shape): document, clause, quote,
//!   validity dates and confidence of every rule; [`areas`]: area classes (中心城区, 城市副中心,
//!   平原区, 生态涵养区) by district and township.
//! - [`funding`]: construction funding shares of a project list (CSV/XLSX) by project, by
//!   payer and as a multi-year budget (京政发〔2023〕6号 三(十一), 7号 六(一)(二)).
//! - [`subsidy`]: rural O&M subsidies of plants, stations and pipes (6号 三(十二)) with an
//!   explicit base-rate rule, and the O&M subsidy of mountain village water-supply stations
//!   (7号 六(二)).
//! - [`compensation`]: water-ecology compensation between districts at boundary sections:
//!   monthly GB 3838 classes (entered or from the store's readings), the payer → payee matrix
//!   per month and the annual settlement under a rule version.
//! - [`fees`]: pay-for-performance (按效付费) monthly fees per plant from a contract as data.
//! - [`cost`]: reclaimed-water unit cost per plant and per supply route from an engine run
//!   ([`routes`]: each link's flow over the run, the plants' and pipes' yuan carried along
//!   it) and the price by quality class against tap and groundwater.
//! - [`table`]: the one output shape (zh/en headings, rows, the confidence of each row),
//!   written as CSV or XLSX.
//!
//! Every figure taken from outside carries its source and confidence; what is not confirmed
//! is marked UNVERIFIED in every output ([`table::Table::unverified`]).

pub mod areas;
pub mod compensation;
pub mod cost;
pub mod fees;
pub mod funding;
pub mod routes;
pub mod rules;
pub mod sheet;
pub mod store;
pub mod subsidy;
pub mod table;

pub use areas::{AreaClass, Areas, Location};
pub use rules::{RuleBook, RuleKind, RuleSet};
pub use table::Table;

use serde::{Deserialize, Serialize};

/// A text a person reads, in Chinese and English.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: &str, en: &str) -> Text {
        Text {
            zh: zh.to_string(),
            en: en.to_string(),
        }
    }
    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
    /// The same text in both languages (identifiers, numbers).
    pub fn both(s: &str) -> Text {
        Text::new(s, s)
    }
}

/// The language of what is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "zh" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            _ => Err(format!("unknown language '{s}' (zh or en)")),
        }
    }
}

/// How sure we are of a rule or a figure taken from outside. Ordered from the weakest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Not confirmed at all (shown as UNVERIFIED everywhere).
    Unverified,
    /// Recalled or partly seen; needs a second source.
    Recalled,
    /// Reported by secondary public sources (a ministry summary, the press), the primary
    /// text not seen.
    Reported,
    /// Derived from the cited text by a reading that is written down.
    Inferred,
    /// The cited text says it (a seed's quote is checked by a test).
    Verified,
}

impl Confidence {
    /// The word printed beside a figure.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Confidence::Unverified, _) => "UNVERIFIED",
            (Confidence::Recalled, Lang::Zh) => "凭记忆",
            (Confidence::Recalled, Lang::En) => "recalled",
            (Confidence::Reported, Lang::Zh) => "据公开报道",
            (Confidence::Reported, Lang::En) => "reported",
            (Confidence::Inferred, Lang::Zh) => "推断",
            (Confidence::Inferred, Lang::En) => "inferred",
            (Confidence::Verified, Lang::Zh) => "已核对",
            (Confidence::Verified, Lang::En) => "verified",
        }
    }
}

/// An input or rule file that cannot be used: file, line (as a spreadsheet or editor shows
/// it), field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}{}: {message}", line.map(|r| format!(", row {r}")).unwrap_or_default(), field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default())]
pub struct InputError {
    pub file: String,
    pub line: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl InputError {
    pub fn file(file: &str, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_string(),
            line: None,
            field: None,
            message: message.into(),
        }
    }
    pub fn at(file: &str, line: usize, field: &str, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_string(),
            line: Some(line),
            field: if field.is_empty() {
                None
            } else {
                Some(field.to_string())
            },
            message: message.into(),
        }
    }
}

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum MoneyError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("rule set '{set}': {message}")]
    Rule { set: String, message: String },
    #[error("store: {0}")]
    Store(String),
    #[error("engine: {0}")]
    Engine(String),
}

/// Rounds yuan to fen (0.01), half away from zero, for printing and sums people check.
pub fn fen(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Serialises a map with composite keys as a list of `[key, value]` (JSON keys are strings).
pub(crate) fn pairs<S: serde::Serializer, K: Serialize, V: Serialize>(
    m: &std::collections::BTreeMap<K, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(m.iter())
}

/// The same for a map of maps: a list of `[outer key, inner key, value]`.
pub(crate) fn nested_pairs<S: serde::Serializer, A: Serialize, K: Serialize, V: Serialize>(
    m: &std::collections::BTreeMap<A, std::collections::BTreeMap<K, V>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        m.iter()
            .flat_map(|(a, inner)| inner.iter().map(move |(k, v)| (a, k, v))),
    )
}
