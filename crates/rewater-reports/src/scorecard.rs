//! The indicator scorecard of `rewater-indicators` (issue 15 part A) as report rows: each
//! indicator of a district and year with a target, its value, the target and its source.

use crate::{IndicatorRow, Lang, Verdict};
use rewater_indicators::{Catalog, RowStatus, ScorecardOptions};
use std::path::Path;

/// Failing to compute the scorecard.
#[derive(Debug, thiserror::Error)]
pub enum ScorecardError {
    #[error("target sets: {0}")]
    Sets(String),
    #[error("{0}")]
    Engine(#[from] rewater_engine::EngineError),
}

fn verdict(s: RowStatus) -> Verdict {
    match s {
        RowStatus::Met => Verdict::Met,
        RowStatus::NotMet => Verdict::NotMet,
        RowStatus::NotReported | RowStatus::NoTarget => Verdict::NotReported,
        RowStatus::Qualitative => Verdict::Qualitative,
    }
}

fn number(v: f64) -> String {
    rewater_indicators::text::number(v, 2)
}

/// The scorecard of `region` against the target sets `specs` (bundled ids or .toml files
/// relative to `base`), as report rows; rows without a target are left out.
pub fn scorecard_rows(
    region: &rewater_model::Region,
    standards: &rewater_standards::Standards,
    specs: &[String],
    base: &Path,
) -> Result<Vec<IndicatorRow>, ScorecardError> {
    let catalog = Catalog::bundled();
    let sets = rewater_indicators::resolve_sets(specs, base, &catalog)
        .map_err(|e| ScorecardError::Sets(e.to_string()))?;
    let (_, sc) = rewater_indicators::scorecard_for_region(
        region,
        standards,
        &catalog,
        &[],
        &sets,
        &ScorecardOptions::default(),
    )?;
    let mut rows = Vec::new();
    for r in sc.rows.iter().filter(|r| !r.targets.is_empty()) {
        let unit_zh = r.unit_text.get(rewater_indicators::Lang::Zh).to_string();
        let unit_en = r.unit_text.get(rewater_indicators::Lang::En).to_string();
        let target = |lang: rewater_indicators::Lang| {
            r.targets
                .iter()
                .map(|t| match (t.comparator, t.value, &t.qualitative) {
                    (Some(c), Some(v), _) => format!(
                        "{} {} {}",
                        c.symbol(),
                        number(v),
                        if lang == rewater_indicators::Lang::En {
                            &unit_en
                        } else {
                            &unit_zh
                        }
                    ),
                    (_, _, Some(q)) => format!("“{}”", q.get(lang)),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let source = r
            .targets
            .iter()
            .map(|t| format!("{} {}", t.set, t.section))
            .collect::<Vec<_>>()
            .join("; ");
        rows.push(IndicatorRow {
            name_zh: r.name.get(rewater_indicators::Lang::Zh).to_string(),
            name_en: r.name.get(rewater_indicators::Lang::En).to_string(),
            district: (!r.district.is_empty()).then(|| r.district.clone()),
            year: r.year,
            value: r.value,
            value_zh: r.value.map(|v| format!("{} {unit_zh}", number(v))),
            value_en: r.value.map(|v| format!("{} {unit_en}", number(v))),
            target_zh: target(rewater_indicators::Lang::Zh),
            target_en: target(rewater_indicators::Lang::En),
            verdict: verdict(r.status),
            source,
        });
    }
    Ok(rows)
}

/// The target sets a report uses: the model's own (`[targets] sets`), else `default`.
pub fn sets_for(region: &rewater_model::Region, default: &[&str]) -> Vec<String> {
    if region.targets.sets.is_empty() {
        default.iter().map(|s| s.to_string()).collect()
    } else {
        region.targets.sets.clone()
    }
}

/// The value as a report writes it.
pub fn value_text(r: &IndicatorRow, lang: Lang) -> Option<&str> {
    match lang {
        Lang::Zh => r.value_zh.as_deref(),
        Lang::En => r.value_en.as_deref(),
    }
}
