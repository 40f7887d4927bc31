//! The catalogue of quantities and indicators: bundled from `indicators/quantities.toml` and
//! `indicators/indicators.toml` at the repository root (embedded at build time), and
//! overridable by a file of the same shape (entries replace bundled ones of the same id).

use crate::formula::{Formula, FormulaError};
use crate::{Confidence, Lang, Source, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const BUNDLED_QUANTITIES: &str = include_str!("../../../indicators/quantities.toml");
const BUNDLED_INDICATORS: &str = include_str!("../../../indicators/indicators.toml");
const BUNDLED_LABELS: &str = include_str!("../../../indicators/labels.toml");

/// The largest definitions file read (a device given by mistake is refused, not read).
pub const MAX_CATALOG_BYTES: u64 = 4 << 20;

/// Where a quantity's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuantityOrigin {
    /// A model run (rewater-engine), aggregated by district and year.
    Model,
    /// Monitoring (compliance and data-validity counts).
    Monitoring,
    /// The statistics table the bureau fills in.
    Statistics,
    /// The river-outfall ledger (coverage counts of rewater-outfalls).
    Ledger,
}

/// A named quantity (量) that formulas use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    /// `wastewater_treated_m3`: lower-case, digits, `_`; the unit in the name.
    pub id: String,
    pub name: Text,
    /// Unit id (see `[[unit]]` in labels.toml).
    pub unit: String,
    /// Who may report it.
    pub origins: Vec<QuantityOrigin>,
    /// Whether district values add up to the region's (volumes, lengths, counts); a rate or
    /// a capacity factor does not.
    #[serde(default)]
    pub additive: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// An indicator (指标): a formula over quantities with its unit, basis and source.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub id: String,
    pub name: Text,
    /// The formula over quantity ids, e.g. `reclaimed_used_m3 / wastewater_treated_m3 * 100`.
    pub formula: String,
    /// Unit id of the result.
    pub unit: String,
    pub better: Better,
    /// The basis (口径): what is counted, over what.
    pub basis: Text,
    pub source: Source,
    pub confidence: Confidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
    #[serde(skip)]
    pub(crate) parsed: Option<Formula>,
}

impl Indicator {
    /// The parsed formula: present for every indicator of a [`Catalog`]; None for one
    /// deserialized elsewhere (parse `formula` with [`Formula::parse`] then).
    pub fn formula(&self) -> Option<&Formula> {
        self.parsed.as_ref()
    }
}

/// A unit's display text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub id: String,
    pub zh: String,
    pub en: String,
}

/// The shape of a definitions file (any of the three lists may be absent).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    quantity: Vec<Quantity>,
    #[serde(default)]
    indicator: Vec<Indicator>,
    #[serde(default)]
    unit: Vec<Unit>,
    #[serde(default)]
    label: BTreeMap<String, Text>,
}

/// A definitions file that cannot be used, naming the file and the entry.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {kind} '{id}', field {field}: {message}")]
    Entry {
        file: String,
        kind: &'static str,
        id: String,
        field: &'static str,
        message: String,
    },
}

/// Quantities, indicators, units and the labels of printed words.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub quantities: BTreeMap<String, Quantity>,
    /// In the order of the files (bundled first, then overrides appended).
    pub indicators: Vec<Indicator>,
    pub units: BTreeMap<String, Unit>,
    /// Printed words (column headings, statuses), by key.
    pub labels: BTreeMap<String, Text>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Catalog {
    /// The bundled catalogue.
    pub fn bundled() -> Catalog {
        let mut c = Catalog {
            quantities: BTreeMap::new(),
            indicators: Vec::new(),
            units: BTreeMap::new(),
            labels: BTreeMap::new(),
        };
        for (name, text) in [
            ("indicators/labels.toml", BUNDLED_LABELS),
            ("indicators/quantities.toml", BUNDLED_QUANTITIES),
            ("indicators/indicators.toml", BUNDLED_INDICATORS),
        ] {
            // The bundled files are checked by this crate's tests.
            if let Err(e) = c.merge_text(text, name) {
                unreachable!("bundled definitions are invalid: {e}");
            }
        }
        c
    }

    /// The bundled catalogue with `path`'s entries replacing those of the same id.
    pub fn bundled_with(path: &Path) -> Result<Catalog, CatalogError> {
        let mut c = Catalog::bundled();
        let file = path.display().to_string();
        let text = read_text(path, MAX_CATALOG_BYTES).map_err(|message| CatalogError::Read {
            file: file.clone(),
            message,
        })?;
        c.merge_text(&text, &file)?;
        Ok(c)
    }

    /// Adds (or replaces) the entries of one file's text; nothing is applied if any is wrong.
    pub fn merge_text(&mut self, text: &str, file: &str) -> Result<(), CatalogError> {
        let parsed: CatalogFile = toml::from_str(text).map_err(|e| CatalogError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let mut next = self.clone();
        for u in parsed.unit {
            next.units.insert(u.id.clone(), u);
        }
        next.labels.extend(parsed.label);
        let entry = |kind, id: &str, field, message: String| CatalogError::Entry {
            file: file.to_string(),
            kind,
            id: id.to_string(),
            field,
            message,
        };
        for q in parsed.quantity {
            if !valid_id(&q.id) {
                return Err(entry(
                    "quantity",
                    &q.id,
                    "id",
                    "must be lower-case letters, digits and _ (at most 64)".into(),
                ));
            }
            if !next.units.contains_key(&q.unit) {
                return Err(entry(
                    "quantity",
                    &q.id,
                    "unit",
                    format!("unknown unit '{}'", q.unit),
                ));
            }
            if q.origins.is_empty() {
                return Err(entry(
                    "quantity",
                    &q.id,
                    "origins",
                    "names no origin".into(),
                ));
            }
            next.quantities.insert(q.id.clone(), q);
        }
        for mut ind in parsed.indicator {
            if !valid_id(&ind.id) {
                return Err(entry(
                    "indicator",
                    &ind.id,
                    "id",
                    "must be lower-case letters, digits and _ (at most 64)".into(),
                ));
            }
            if !next.units.contains_key(&ind.unit) {
                return Err(entry(
                    "indicator",
                    &ind.id,
                    "unit",
                    format!("unknown unit '{}'", ind.unit),
                ));
            }
            let f = Formula::parse(&ind.formula)
                .map_err(|e: FormulaError| entry("indicator", &ind.id, "formula", e.to_string()))?;
            if let Some(q) = f
                .quantities()
                .into_iter()
                .find(|q| !next.quantities.contains_key(*q))
            {
                return Err(entry(
                    "indicator",
                    &ind.id,
                    "formula",
                    format!("unknown quantity '{q}'"),
                ));
            }
            ind.parsed = Some(f);
            match next.indicators.iter_mut().find(|i| i.id == ind.id) {
                Some(old) => *old = ind,
                None => next.indicators.push(ind),
            }
        }
        *self = next;
        Ok(())
    }

    /// The indicator `id`.
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// A printed word in `lang` (the key itself if the labels lack it).
    pub fn label<'a>(&'a self, key: &'a str, lang: Lang) -> &'a str {
        self.labels.get(key).map_or(key, |t| t.get(lang))
    }

    /// A unit's text in `lang` (the id if unknown).
    pub fn unit_text<'a>(&'a self, id: &'a str, lang: Lang) -> &'a str {
        self.units.get(id).map_or(id, |u| match lang {
            Lang::Zh => u.zh.as_str(),
            Lang::En => u.en.as_str(),
        })
    }
}

/// Reads a regular file of at most `max_bytes` as UTF-8 text; the message says what failed.
pub(crate) fn read_text(path: &Path, max_bytes: u64) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > max_bytes {
        return Err(format!("larger than {max_bytes} bytes"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(|e| e.to_string())?
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!("larger than {max_bytes} bytes"));
    }
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}
