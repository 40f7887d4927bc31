//! Checking samples against a standard, and GB 3838 single-factor classification (单因子评价).

use crate::factor::{Factor, UnknownFactor};
use crate::standard::{Bound, Confidence, Context, Limit, Standard, StandardKind};
use crate::unit::{Kind, Unit, UnitError};

/// One measured value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Reading {
    pub factor: Factor,
    pub value: f64,
    pub unit: Unit,
}

/// A value that cannot be a measurement of its factor.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadingError {
    #[error("{factor}: value {value} is not a finite number")]
    NotFinite { factor: Factor, value: f64 },
    #[error("{factor}: negative value {value} is not a concentration")]
    Negative { factor: Factor, value: f64 },
    #[error("{factor}: pH {value} is outside 0–14")]
    PhOutOfRange { factor: Factor, value: f64 },
    #[error(
        "{factor}: unit {unit} does not measure this factor (expected a unit like {expected})"
    )]
    WrongUnit {
        factor: Factor,
        unit: Unit,
        expected: Unit,
    },
}

impl Reading {
    /// A checked reading.
    pub fn new(factor: Factor, value: f64, unit: Unit) -> Result<Reading, ReadingError> {
        if !value.is_finite() {
            return Err(ReadingError::NotFinite { factor, value });
        }
        let expected = factor.info().unit;
        // Colour may be measured either way; the check against a limit refuses a mismatch.
        let colour = matches!(unit.kind(), Kind::ColourPtCo | Kind::ColourDilution)
            && matches!(expected.kind(), Kind::ColourPtCo | Kind::ColourDilution);
        if unit.kind() != expected.kind() && !colour {
            return Err(ReadingError::WrongUnit {
                factor,
                unit,
                expected,
            });
        }
        if value < 0.0 && !factor.may_be_negative() {
            return Err(ReadingError::Negative { factor, value });
        }
        if unit == Unit::Ph && !(0.0..=14.0).contains(&value) {
            return Err(ReadingError::PhOutOfRange { factor, value });
        }
        Ok(Reading {
            factor,
            value,
            unit,
        })
    }
}

/// The verdict for one factor against one limit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub meets: bool,
    /// 超标倍数 = value / limit − 1, for a maximum that is exceeded and non-zero.
    pub exceedance_multiple: Option<f64>,
    /// The value in the limit's unit.
    pub value_in_limit_unit: f64,
}

/// Compares a value with a limit, converting units where that is meaningful.
pub fn judge(limit: &Limit, value: f64, unit: Unit) -> Result<Option<Verdict>, UnitError> {
    let Some(lu) = limit.unit else {
        return Ok(None);
    };
    let v = unit.convert(value, lu)?;
    let (meets, multiple) = match limit.bound {
        Bound::Max { value: l } => (v <= l, (v > l && l > 0.0).then(|| v / l - 1.0)),
        Bound::Min { value: l } => (v >= l, None),
        Bound::Range { low, high } => (v >= low && v <= high, None),
        Bound::Qualitative { .. } => return Ok(None),
    };
    Ok(Some(Verdict {
        meets,
        exceedance_multiple: multiple,
        value_in_limit_unit: v,
    }))
}

/// One factor's result in a sample check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FactorCheck {
    pub factor: Factor,
    pub value: f64,
    pub unit: Unit,
    pub limit: Bound,
    pub limit_unit: Option<Unit>,
    pub meets: bool,
    pub exceedance_multiple: Option<f64>,
    /// The limit depended on a condition the context could not decide (strictest used).
    pub assumed: bool,
    pub confidence: Confidence,
}

/// A sample checked against one class (grade, use) of a standard.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SampleCheck {
    pub standard: String,
    pub class: String,
    pub meets: bool,
    pub factors: Vec<FactorCheck>,
    /// Numeric limits of the class for which the sample has no reading.
    pub not_measured: Vec<Factor>,
    /// True if any limit used is unverified.
    pub uses_unverified: bool,
}

/// Checks readings against one class of a standard. Factors without a limit are ignored.
pub fn check_sample(
    std: &Standard,
    class: usize,
    readings: &[Reading],
    ctx: &Context,
) -> Result<SampleCheck, UnitError> {
    let mut factors = Vec::new();
    for r in readings {
        let Some(sel) = std.limit_for(class, r.factor, ctx) else {
            continue;
        };
        let Some(v) = judge(sel.limit, r.value, r.unit)? else {
            continue;
        };
        factors.push(FactorCheck {
            factor: r.factor,
            value: r.value,
            unit: r.unit,
            limit: sel.limit.bound.clone(),
            limit_unit: sel.limit.unit,
            meets: v.meets,
            exceedance_multiple: v.exceedance_multiple,
            assumed: sel.assumed,
            confidence: sel.limit.confidence,
        });
    }
    let mut not_measured: Vec<Factor> = std
        .limits
        .iter()
        .filter(|l| l.class.is_none_or(|c| c == class) && l.unit.is_some())
        .map(|l| l.factor)
        .filter(|f| !readings.iter().any(|r| r.factor == *f))
        .collect();
    not_measured.sort();
    not_measured.dedup();
    Ok(SampleCheck {
        standard: std.id.clone(),
        class: std.classes[class].id.clone(),
        meets: factors.iter().all(|f| f.meets),
        uses_unverified: factors
            .iter()
            .any(|f| f.confidence == Confidence::Unverified),
        factors,
        not_measured,
    })
}

/// Which factors a classification evaluates.
#[derive(Debug, Clone, Default)]
pub struct ClassifyOptions {
    /// Evaluate exactly these factors (overrides the standard's default set).
    pub only: Option<Vec<Factor>>,
    /// Add these to the default set (e.g. TN for a lake).
    pub include: Vec<Factor>,
    /// Remove these from the set.
    pub exclude: Vec<Factor>,
    /// Class for exceedance multiples (default: the standard's, class III for GB 3838).
    pub target_class: Option<usize>,
}

impl ClassifyOptions {
    /// Options from factor names or codes as a person writes them (`cod`, `w21003`); empty
    /// names are skipped; no `only` at all means the standard's default set.
    pub fn from_names(
        only: &[String],
        include: &[String],
        exclude: &[String],
    ) -> Result<ClassifyOptions, UnknownFactor> {
        let parse_list = |names: &[String]| -> Result<Vec<Factor>, UnknownFactor> {
            names
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| Factor::parse(s))
                .collect()
        };
        Ok(ClassifyOptions {
            only: if only.is_empty() {
                None
            } else {
                Some(parse_list(only)?)
            },
            include: parse_list(include)?,
            exclude: parse_list(exclude)?,
            target_class: None,
        })
    }
}

/// A factor's class.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FactorClass {
    pub factor: Factor,
    pub value: f64,
    pub unit: Unit,
    /// Index of the class; `None` means worse than the last class (劣V).
    #[serde(skip)]
    pub class: Option<usize>,
    #[serde(rename = "class")]
    pub label: String,
    /// Multiple by which the target-class limit is exceeded (not for pH, DO or temperature).
    pub exceedance_multiple: Option<f64>,
    pub assumed: bool,
    pub confidence: Confidence,
}

/// The result of single-factor classification.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Classification {
    pub standard: String,
    #[serde(skip)]
    pub class: Option<usize>,
    #[serde(rename = "class")]
    pub label: String,
    pub quality_zh: Option<String>,
    pub quality_en: Option<String>,
    /// Factors that set the class (those in the worst class).
    pub limiting: Vec<Factor>,
    pub factors: Vec<FactorClass>,
    /// Sample factors left out, with the reason.
    pub not_evaluated: Vec<(Factor, &'static str)>,
    pub target_class: Option<String>,
    pub uses_unverified: bool,
}

/// Errors of classification.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClassifyError {
    #[error("standard {0} is not a classification standard (use a compliance check instead)")]
    NotClassification(String),
    #[error("{factor}: {error}")]
    Unit { factor: Factor, error: UnitError },
    #[error("no factor of the sample can be evaluated against {0}")]
    NothingEvaluated(String),
}

/// GB 3838-2002 single-factor evaluation: each factor gets the best class whose limit it meets
/// (a value equal to a limit meets it); the sample gets the worst factor class; beyond the last
/// class it is "worse than" (劣V).
pub fn classify(
    std: &Standard,
    readings: &[Reading],
    ctx: &Context,
    opts: &ClassifyOptions,
) -> Result<Classification, ClassifyError> {
    if std.kind != StandardKind::Classification {
        return Err(ClassifyError::NotClassification(std.id.clone()));
    }
    let worse_label = std.worse_than_last.clone().unwrap_or_else(|| {
        format!(
            "worse than {}",
            std.classes.last().map(|c| c.id.as_str()).unwrap_or("")
        )
    });
    let target = opts.target_class.or_else(|| {
        std.default_target_class
            .as_deref()
            .and_then(|t| std.class_index(t))
    });
    let in_set = |f: Factor| {
        if opts.exclude.contains(&f) {
            return false;
        }
        if let Some(only) = &opts.only {
            return only.contains(&f);
        }
        opts.include.contains(&f)
            || std
                .default_evaluated
                .as_ref()
                .is_none_or(|d| d.contains(&f))
    };
    let mut factors = Vec::new();
    let mut not_evaluated = Vec::new();
    for r in readings {
        if !in_set(r.factor) {
            not_evaluated.push((r.factor, "not in the evaluated factor set"));
            continue;
        }
        let mut any_limit = false;
        let mut result: Option<(Option<usize>, bool, Confidence)> = None;
        let mut assumed_any = false;
        let mut confidence = Confidence::High;
        for c in 0..std.classes.len() {
            let Some(sel) = std.limit_for(c, r.factor, ctx) else {
                continue;
            };
            let verdict =
                judge(sel.limit, r.value, r.unit).map_err(|error| ClassifyError::Unit {
                    factor: r.factor,
                    error,
                })?;
            let Some(v) = verdict else { continue };
            any_limit = true;
            assumed_any |= sel.assumed;
            confidence = confidence.min(sel.limit.confidence);
            if v.meets {
                result = Some((Some(c), assumed_any, confidence));
                break;
            }
        }
        if !any_limit {
            not_evaluated.push((
                r.factor,
                "the standard sets no limit for it here (e.g. TN for a river)",
            ));
            continue;
        }
        let (class, assumed, confidence) = result.unwrap_or((None, assumed_any, confidence));
        let exceedance_multiple = target.and_then(|t| {
            let sel = std.limit_for(t, r.factor, ctx)?;
            matches!(sel.limit.bound, Bound::Max { .. }).then_some(())?;
            judge(sel.limit, r.value, r.unit)
                .ok()
                .flatten()?
                .exceedance_multiple
        });
        factors.push(FactorClass {
            factor: r.factor,
            value: r.value,
            unit: r.unit,
            class,
            label: class
                .map(|c| std.classes[c].id.clone())
                .unwrap_or_else(|| worse_label.clone()),
            exceedance_multiple,
            assumed,
            confidence,
        });
    }
    if factors.is_empty() {
        return Err(ClassifyError::NothingEvaluated(std.id.clone()));
    }
    // None (worse than last) ranks after every class.
    let rank = |c: Option<usize>| c.unwrap_or(usize::MAX);
    let worst = factors
        .iter()
        .map(|f| f.class)
        .max_by_key(|c| rank(*c))
        .flatten();
    let worst_rank = factors.iter().map(|f| rank(f.class)).max().unwrap_or(0);
    let limiting = factors
        .iter()
        .filter(|f| rank(f.class) == worst_rank)
        .map(|f| f.factor)
        .collect();
    let (quality_zh, quality_en) = match worst {
        Some(c) => (
            std.classes[c].quality_zh.clone(),
            std.classes[c].quality_en.clone(),
        ),
        None => (
            std.worse_than_last_quality_zh.clone(),
            std.worse_than_last_quality_en.clone(),
        ),
    };
    Ok(Classification {
        standard: std.id.clone(),
        class: worst,
        label: worst
            .map(|c| std.classes[c].id.clone())
            .unwrap_or(worse_label),
        quality_zh,
        quality_en,
        limiting,
        uses_unverified: factors
            .iter()
            .any(|f| f.confidence == Confidence::Unverified),
        factors,
        not_evaluated,
        target_class: target.map(|t| std.classes[t].id.clone()),
    })
}
