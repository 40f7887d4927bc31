//! Findings that do not stop a model (plausibility checks of units and magnitudes) and the
//! engine's set-up findings, with their English and Chinese text from `data/findings.toml`.
//!
//! Each finding names the item and the field. Its text goes into the model's validation
//! report ([`crate::Region::warnings`], which `rewater validate` and `rewater run` print) as
//! "item: field 'f': English / 中文", and stays whole in [`crate::Region::findings`].

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/findings.toml");

/// One finding: what it is, where, and what a person reads.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// The key of its text in `data/findings.toml` (`capacity_far_below_influent` …).
    pub code: String,
    /// "plant P1", "wetland W2" …
    pub item: String,
    /// The model field ("capacity_m3_per_day", "effluent_mg_per_l.tp" …).
    pub field: String,
    pub en: String,
    pub zh: String,
}

impl Finding {
    /// "item: field 'f': English / 中文".
    pub fn line(&self) -> String {
        format!(
            "{}: field '{}': {} / {}",
            self.item, self.field, self.en, self.zh
        )
    }
}

#[derive(Debug, Deserialize)]
struct Text {
    en: String,
    zh: String,
}

/// The thresholds of the plausibility checks.
#[derive(Debug, Deserialize, Clone)]
pub struct Limits {
    pub capacity_ratio: f64,
    pub capacity_above_ratio: f64,
    pub wetland_min_area_m2: f64,
    pub pond_min_area_m2: f64,
    pub pond_max_depth_m: f64,
    pub influent_factor: f64,
}

#[derive(Debug, Deserialize)]
struct Data {
    limits: Limits,
    effluent_max_mg_per_l: BTreeMap<String, f64>,
    #[serde(flatten)]
    texts: BTreeMap<String, Text>,
}

fn data() -> Option<&'static Data> {
    static DATA_PARSED: OnceLock<Option<Data>> = OnceLock::new();
    DATA_PARSED
        .get_or_init(|| toml::from_str(DATA).ok())
        .as_ref()
}

/// The plausibility thresholds (None only if the bundled data were broken; a test guards it).
pub fn limits() -> Option<&'static Limits> {
    data().map(|d| &d.limits)
}

/// Highest plausible effluent concentration of a factor (by short name), mg/L.
pub fn effluent_max_mg_per_l(factor: &str) -> Option<f64> {
    data().and_then(|d| d.effluent_max_mg_per_l.get(factor).copied())
}

fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// The finding `code` about `field` of `item`, its text filled with `values`.
pub fn finding(code: &str, item: &str, field: &str, values: &[(&str, String)]) -> Finding {
    let (en, zh) = match data().and_then(|d| d.texts.get(code)) {
        Some(t) => (fill(&t.en, values), fill(&t.zh, values)),
        None => (code.to_string(), code.to_string()),
    };
    Finding {
        code: code.into(),
        item: item.into(),
        field: field.into(),
        en,
        zh,
    }
}

/// The text of `code` for `item` as one line, "item: English / 中文" (for findings that are
/// not about one model field).
pub fn message(code: &str, item: &str, values: &[(&str, String)]) -> String {
    let f = finding(code, item, "", values);
    format!("{item}: {} / {}", f.en, f.zh)
}

/// A number for a message: at most 4 significant digits past the point, no trailing zeros.
pub(crate) fn num(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() {
        format!("{}", (v * 10.0).round() / 10.0)
    } else {
        format!("{}", (v * 1e4).round() / 1e4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text the code asks for exists in both languages, and every placeholder is filled.
    #[test]
    fn the_bundled_texts_parse_and_fill() {
        let d = data().expect("data/findings.toml parses");
        for code in [
            "capacity_far_below_influent",
            "capacity_far_above_influent",
            "concentration_implausible",
            "area_too_small",
            "pond_too_deep",
            "cost_rounded",
            "cost_rounded_more",
        ] {
            let t = d.texts.get(code).unwrap_or_else(|| panic!("{code}"));
            assert!(!t.en.is_empty() && !t.zh.is_empty(), "{code}");
        }
        assert!(limits().is_some());
        let f = finding(
            "pond_too_deep",
            "pond P",
            "surface_area_m2",
            &[
                ("capacity", "1000".into()),
                ("area", "2".into()),
                ("depth", "500".into()),
            ],
        );
        assert_eq!(
            f.en,
            "capacity 1000 m³ over a surface of 2 m² is 500 m deep: the area given in ha?"
        );
        assert!(f.zh.contains("水深 500 m"), "{}", f.zh);
    }
}
