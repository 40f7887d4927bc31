//! Standard files: loading, validation and limit selection under conditions.

use crate::date::Date;
use crate::factor::Factor;
use crate::unit::Unit;
use serde::Deserialize;
use std::path::Path;
use std::sync::OnceLock;

/// How classes of a standard relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StandardKind {
    /// Ordered classes, best first; a sample gets the best class it meets (GB 3838).
    Classification,
    /// Discharge grades; a plant must meet the grade assigned to it (GB 18918, DB11/890).
    Grades,
    /// One class per use; supply must meet the use's column (GB/T 18920 …).
    Uses,
}

/// How a standard defines the value compared with a limit over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Averaging {
    /// Each sample is compared with the limit.
    Sample,
    /// The daily mean (24 h composite) is compared (GB 18918-2002 clause 4.1.4.2).
    DailyMean,
}

/// How sure we are of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Not read in the official text; must be confirmed before regulatory use.
    Unverified,
    Low,
    Medium,
    High,
}

impl Confidence {
    fn parse(s: &str) -> Option<Confidence> {
        Some(match s {
            "unverified" => Confidence::Unverified,
            "low" => Confidence::Low,
            "medium" => Confidence::Medium,
            "high" => Confidence::High,
            _ => return None,
        })
    }
}

/// River or lake/reservoir: GB 3838 sets different TP limits and TN only for lakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaterBody {
    River,
    Lake,
}

/// A water body name that is neither river nor lake (reservoir).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("water body '{0}' must be river or lake")]
pub struct UnknownWaterBody(pub String);

impl std::str::FromStr for WaterBody {
    type Err = UnknownWaterBody;

    /// `river`, or `lake` / `reservoir` (GB 3838 treats reservoirs as lakes).
    fn from_str(s: &str) -> Result<WaterBody, UnknownWaterBody> {
        match s {
            "river" => Ok(WaterBody::River),
            "lake" | "reservoir" => Ok(WaterBody::Lake),
            _ => Err(UnknownWaterBody(s.to_string())),
        }
    }
}

/// Where a supply sample was taken (GB/T 18920 total chlorine differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplingPoint {
    Outlet,
    NetworkEnd,
}

/// The bound a limit sets.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Bound {
    Max {
        value: f64,
    },
    Min {
        value: f64,
    },
    Range {
        low: f64,
        high: f64,
    },
    /// A requirement with no number ("no unpleasant odour"): shown, not checked.
    Qualitative {
        requirement: String,
    },
}

/// Conditions under which a limit applies. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Conditions {
    pub water_body: Option<WaterBody>,
    /// Applies when water temperature is above this (°C).
    pub water_temp_c_above: Option<f64>,
    /// Applies when water temperature is at most this (°C).
    pub water_temp_c_at_most: Option<f64>,
    /// Applies on days within this yearly window ((month, day) inclusive, may wrap the year end).
    pub date_window: Option<((u32, u32), (u32, u32))>,
    pub plant_built_before: Option<Date>,
    pub plant_built_from: Option<Date>,
    pub sampling_point: Option<SamplingPoint>,
    pub effective_from: Option<Date>,
    pub effective_to: Option<Date>,
}

/// What is known about a sample that conditions may need.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Context {
    pub water_body: Option<WaterBody>,
    pub water_temp_c: Option<f64>,
    pub date: Option<Date>,
    pub plant_built: Option<Date>,
    pub sampling_point: Option<SamplingPoint>,
}

/// One limit row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Limit {
    /// Index into the standard's classes, or `None` for a limit that applies to every class.
    #[serde(skip)]
    pub class: Option<usize>,
    pub factor: Factor,
    pub bound: Bound,
    pub unit: Option<Unit>,
    pub when: Conditions,
    pub confidence: Confidence,
    pub source: Option<String>,
    pub note: String,
    /// Line of the row in its file.
    pub line: usize,
}

/// A class, grade or use of a standard.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClassInfo {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// Qualitative grade of the class (GB 3838: 优, 良好, …), where the rules give one.
    pub quality_zh: Option<String>,
    pub quality_en: Option<String>,
}

/// One edition of a standard.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Standard {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub kind: StandardKind,
    pub issued: Option<Date>,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
    pub averaging: Averaging,
    pub confidence: Confidence,
    pub worse_than_last: Option<String>,
    pub worse_than_last_quality_zh: Option<String>,
    pub worse_than_last_quality_en: Option<String>,
    pub default_target_class: Option<String>,
    pub default_evaluated: Option<Vec<Factor>>,
    pub sources: Vec<String>,
    pub classes: Vec<ClassInfo>,
    pub limits: Vec<Limit>,
    /// The file it came from (`built-in:…` for the bundled ones).
    pub origin: String,
    /// Indices into `limits` per factor, so a lookup does not scan every row.
    #[serde(skip)]
    by_factor: std::collections::HashMap<Factor, Vec<usize>>,
}

/// A standard file that cannot be used, with the place of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct StandardFileError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStandard {
    id: String,
    title_zh: String,
    title_en: String,
    kind: String,
    issued: Option<String>,
    effective_from: String,
    effective_to: Option<String>,
    averaging: String,
    confidence: String,
    worse_than_last: Option<String>,
    worse_than_last_quality_zh: Option<String>,
    worse_than_last_quality_en: Option<String>,
    default_target_class: Option<String>,
    default_evaluated: Option<Vec<String>>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(rename = "class")]
    classes: Vec<RawClass>,
    #[serde(rename = "limit", default)]
    limits: Vec<toml::Spanned<RawLimit>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    id: String,
    name_zh: String,
    name_en: String,
    quality_zh: Option<String>,
    quality_en: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    class: String,
    factor: String,
    #[serde(rename = "type")]
    kind: String,
    value: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
    unit: Option<String>,
    requirement: Option<String>,
    when: Option<RawWhen>,
    confidence: Option<String>,
    source: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    water_body: Option<WaterBody>,
    water_temp_c_above: Option<f64>,
    water_temp_c_at_most: Option<f64>,
    date_window: Option<String>,
    plant_built_before: Option<String>,
    plant_built_from: Option<String>,
    sampling_point: Option<SamplingPoint>,
    effective_from: Option<String>,
    effective_to: Option<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn parse_month_day(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.trim().split_once('-')?;
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    (Date::from_ymd(2000, m, d).is_some()).then_some((m, d))
}

/// Where a standard file's text came from, so each helper's errors name file and line.
struct Source<'a> {
    text: &'a str,
    file: &'a str,
    /// Byte offset of the start of each line after the first (found once: a file has
    /// hundreds of limits, and counting newlines for each was quadratic).
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str, file: &'a str) -> Source<'a> {
        let line_starts = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        Source {
            text,
            file,
            line_starts,
        }
    }

    /// The 1-based line of a byte offset (as `line_of`).
    fn line_at(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= offset.min(self.text.len()))
            + 1
    }

    fn err(&self, line: Option<usize>, message: String) -> StandardFileError {
        StandardFileError {
            file: self.file.to_string(),
            line,
            message,
        }
    }

    fn date(&self, s: &str, what: &str, line: Option<usize>) -> Result<Date, StandardFileError> {
        s.parse::<Date>()
            .map_err(|e| self.err(line, format!("{what}: {e}")))
    }

    fn opt_date(
        &self,
        v: Option<String>,
        what: &str,
        line: Option<usize>,
    ) -> Result<Option<Date>, StandardFileError> {
        v.map(|s| self.date(&s, what, line)).transpose()
    }

    fn kind(&self, k: &str) -> Result<StandardKind, StandardFileError> {
        Ok(match k {
            "classification" => StandardKind::Classification,
            "grades" => StandardKind::Grades,
            "uses" => StandardKind::Uses,
            k => {
                return Err(self.err(
                    None,
                    format!("kind '{k}' must be classification, grades or uses"),
                ))
            }
        })
    }

    fn averaging(&self, a: &str) -> Result<Averaging, StandardFileError> {
        Ok(match a {
            "sample" => Averaging::Sample,
            "daily_mean" => Averaging::DailyMean,
            a => {
                return Err(self.err(
                    None,
                    format!("averaging '{a}' must be sample or daily_mean"),
                ))
            }
        })
    }

    fn confidence(&self, c: &str) -> Result<Confidence, StandardFileError> {
        Confidence::parse(c).ok_or_else(|| {
            self.err(
                None,
                format!("confidence '{c}' must be unverified, low, medium or high"),
            )
        })
    }

    /// The `[[class]]` entries: at least one, ids unique.
    fn classes(&self, raw: Vec<RawClass>) -> Result<Vec<ClassInfo>, StandardFileError> {
        if raw.is_empty() {
            return Err(self.err(None, "a standard needs at least one [[class]]".into()));
        }
        let classes: Vec<ClassInfo> = raw
            .into_iter()
            .map(|c| ClassInfo {
                id: c.id,
                name_zh: c.name_zh,
                name_en: c.name_en,
                quality_zh: c.quality_zh,
                quality_en: c.quality_en,
            })
            .collect();
        for (i, c) in classes.iter().enumerate() {
            if classes[..i].iter().any(|o| o.id == c.id) {
                return Err(self.err(None, format!("class '{}' is defined twice", c.id)));
            }
        }
        Ok(classes)
    }

    fn default_evaluated(
        &self,
        list: Option<Vec<String>>,
    ) -> Result<Option<Vec<Factor>>, StandardFileError> {
        list.map(|list| {
            list.iter()
                .map(|f| {
                    Factor::parse(f).map_err(|e| self.err(None, format!("default_evaluated: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
    }

    fn default_target_class(
        &self,
        target: Option<&String>,
        classes: &[ClassInfo],
    ) -> Result<(), StandardFileError> {
        if let Some(t) = target {
            if !classes.iter().any(|c| &c.id == t) {
                return Err(self.err(
                    None,
                    format!("default_target_class '{t}' is not one of the classes"),
                ));
            }
        }
        Ok(())
    }

    /// One `[[limit]]` entry; `confidence` is the standard's, used when the limit names none.
    fn limit(
        &self,
        spanned: toml::Spanned<RawLimit>,
        classes: &[ClassInfo],
        confidence: Confidence,
    ) -> Result<Limit, StandardFileError> {
        let line_no = self.line_at(spanned.span().start);
        let line = Some(line_no);
        let r = spanned.into_inner();
        let class = if r.class == "*" {
            None
        } else {
            Some(
                classes
                    .iter()
                    .position(|c| c.id == r.class)
                    .ok_or_else(|| {
                        self.err(
                            line,
                            format!("limit class '{}' is not one of the [[class]] ids", r.class),
                        )
                    })?,
            )
        };
        let factor = Factor::parse(&r.factor).map_err(|e| self.err(line, e.to_string()))?;
        let bound = self.bound(&r, line)?;
        let unit = self.unit(&bound, r.unit.as_deref(), line)?;
        let when = match r.when {
            None => Conditions::default(),
            Some(w) => self.conditions(w, line)?,
        };
        let confidence = match r.confidence.as_deref() {
            None => confidence,
            Some(c) => Confidence::parse(c)
                .ok_or_else(|| self.err(line, format!("confidence '{c}' is not known")))?,
        };
        Ok(Limit {
            class,
            factor,
            bound,
            unit,
            when,
            confidence,
            source: r.source,
            note: r.note.unwrap_or_default(),
            line: line_no,
        })
    }

    /// The limit's `type` and its value(s).
    fn bound(&self, r: &RawLimit, line: Option<usize>) -> Result<Bound, StandardFileError> {
        let need = |v: Option<f64>, name: &str| {
            v.filter(|x| x.is_finite()).ok_or_else(|| {
                self.err(
                    line,
                    format!("a '{}' limit needs a finite '{name}'", r.kind),
                )
            })
        };
        Ok(match r.kind.as_str() {
            "max" => Bound::Max {
                value: need(r.value, "value")?,
            },
            "min" => Bound::Min {
                value: need(r.value, "value")?,
            },
            "range" => {
                let (low, high) = (need(r.low, "low")?, need(r.high, "high")?);
                if low > high {
                    return Err(self.err(line, format!("range low {low} is above high {high}")));
                }
                Bound::Range { low, high }
            }
            "qualitative" => Bound::Qualitative {
                requirement: r.requirement.clone().ok_or_else(|| {
                    self.err(line, "a qualitative limit needs 'requirement'".into())
                })?,
            },
            k => {
                return Err(self.err(
                    line,
                    format!("limit type '{k}' must be max, min, range or qualitative"),
                ))
            }
        })
    }

    /// A numeric limit's unit (none for a qualitative one); only °C limits may be negative.
    fn unit(
        &self,
        bound: &Bound,
        unit: Option<&str>,
        line: Option<usize>,
    ) -> Result<Option<Unit>, StandardFileError> {
        let unit = match (bound, unit) {
            (Bound::Qualitative { .. }, _) => None,
            (_, None) => return Err(self.err(line, "a numeric limit needs 'unit'".into())),
            (_, Some(u)) => Some(Unit::parse(u).map_err(|e| self.err(line, e.to_string()))?),
        };
        if let (Some(u), Bound::Max { value } | Bound::Min { value }) = (unit, bound) {
            if *value < 0.0 && u != Unit::DegC {
                return Err(self.err(line, format!("limit value {value} is negative")));
            }
        }
        Ok(unit)
    }

    /// A limit's `when` table.
    fn conditions(&self, w: RawWhen, line: Option<usize>) -> Result<Conditions, StandardFileError> {
        let mut when = Conditions {
            water_body: w.water_body,
            water_temp_c_above: w.water_temp_c_above,
            water_temp_c_at_most: w.water_temp_c_at_most,
            sampling_point: w.sampling_point,
            ..Conditions::default()
        };
        if let Some(dw) = w.date_window {
            let parsed = dw
                .split_once("..")
                .and_then(|(a, b)| Some((parse_month_day(a)?, parse_month_day(b)?)));
            when.date_window = Some(parsed.ok_or_else(|| {
                self.err(
                    line,
                    format!("date_window '{dw}' must look like \"12-01..03-31\""),
                )
            })?);
        }
        when.plant_built_before =
            self.opt_date(w.plant_built_before, "plant_built_before", line)?;
        when.plant_built_from = self.opt_date(w.plant_built_from, "plant_built_from", line)?;
        when.effective_from = self.opt_date(w.effective_from, "effective_from", line)?;
        when.effective_to = self.opt_date(w.effective_to, "effective_to", line)?;
        Ok(when)
    }
}

/// Indices of the limits of each factor.
fn index_by_factor(limits: &[Limit]) -> std::collections::HashMap<Factor, Vec<usize>> {
    let mut m: std::collections::HashMap<Factor, Vec<usize>> = std::collections::HashMap::new();
    for (i, l) in limits.iter().enumerate() {
        m.entry(l.factor).or_default().push(i);
    }
    m
}

impl Standard {
    /// Parses a standard file's text; `file` names it in errors.
    ///
    /// Checks run in a fixed order (header fields, classes, limits in file order, then the
    /// standard's dates), so the first problem reported does not depend on the helper split.
    pub fn parse(text: &str, file: &str) -> Result<Standard, StandardFileError> {
        let src = Source::new(text, file);
        let raw: RawStandard = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            src.err(line, e.message().to_string())
        })?;
        let kind = src.kind(&raw.kind)?;
        let averaging = src.averaging(&raw.averaging)?;
        let confidence = src.confidence(&raw.confidence)?;
        let classes = src.classes(raw.classes)?;
        let default_evaluated = src.default_evaluated(raw.default_evaluated)?;
        src.default_target_class(raw.default_target_class.as_ref(), &classes)?;
        let limits = raw
            .limits
            .into_iter()
            .map(|spanned| src.limit(spanned, &classes, confidence))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Standard {
            id: raw.id,
            title_zh: raw.title_zh,
            title_en: raw.title_en,
            kind,
            issued: src.opt_date(raw.issued, "issued", None)?,
            effective_from: src.date(&raw.effective_from, "effective_from", None)?,
            effective_to: src.opt_date(raw.effective_to, "effective_to", None)?,
            averaging,
            confidence,
            worse_than_last: raw.worse_than_last,
            worse_than_last_quality_zh: raw.worse_than_last_quality_zh,
            worse_than_last_quality_en: raw.worse_than_last_quality_en,
            default_target_class: raw.default_target_class,
            default_evaluated,
            sources: raw.sources,
            classes,
            by_factor: index_by_factor(&limits),
            limits,
            origin: file.to_string(),
        })
    }

    /// Index of a class by id (case-insensitive).
    pub fn class_index(&self, id: &str) -> Option<usize> {
        self.classes
            .iter()
            .position(|c| c.id.eq_ignore_ascii_case(id.trim()))
    }

    /// Factors that have at least one limit in this standard.
    pub fn factors(&self) -> Vec<Factor> {
        let mut f: Vec<Factor> = self.limits.iter().map(|l| l.factor).collect();
        f.sort();
        f.dedup();
        f
    }

    /// The limit that applies to `factor` in `class` under `ctx`, if the standard sets one.
    ///
    /// When the context lacks what a condition needs (no temperature for the GB 18918 NH3-N
    /// bracket, no water body for GB 3838 TP), the strictest of the candidate limits is used
    /// and `assumed` is true.
    pub fn limit_for(
        &self,
        class: usize,
        factor: Factor,
        ctx: &Context,
    ) -> Option<SelectedLimit<'_>> {
        let mut best: Option<SelectedLimit<'_>> = None;
        let mut count = 0;
        for l in self
            .by_factor
            .get(&factor)
            .into_iter()
            .flatten()
            .map(|&i| &self.limits[i])
        {
            if matches!(l.class, Some(c) if c != class) {
                continue;
            }
            let Some(unknown) = l.when.applies(ctx) else {
                continue;
            };
            count += 1;
            best = Some(match best {
                None => SelectedLimit {
                    limit: l,
                    assumed: unknown,
                },
                Some(b) => {
                    let keep_new = stricter(&l.bound, &b.limit.bound);
                    let chosen = if keep_new { l } else { b.limit };
                    SelectedLimit {
                        limit: chosen,
                        assumed: true,
                    }
                }
            });
        }
        if count == 1 {
            best
        } else {
            best.map(|b| SelectedLimit { assumed: true, ..b })
        }
    }

    /// Whether the standard is in force on a date.
    pub fn in_force(&self, date: Date) -> bool {
        date >= self.effective_from && self.effective_to.is_none_or(|t| date <= t)
    }
}

/// A limit chosen for a sample.
#[derive(Debug, Clone, Copy)]
pub struct SelectedLimit<'a> {
    pub limit: &'a Limit,
    /// True if a condition could not be decided from the context and the strictest limit was used.
    pub assumed: bool,
}

fn stricter(a: &Bound, b: &Bound) -> bool {
    match (a, b) {
        (Bound::Max { value: x }, Bound::Max { value: y }) => x < y,
        (Bound::Min { value: x }, Bound::Min { value: y }) => x > y,
        (Bound::Range { low: l1, high: h1 }, Bound::Range { low: l2, high: h2 }) => {
            h1 - l1 < h2 - l2
        }
        (Bound::Qualitative { .. }, _) => false,
        (_, Bound::Qualitative { .. }) => true,
        _ => false,
    }
}

impl Conditions {
    /// `None` if a condition is known to fail; `Some(unknown)` otherwise, where `unknown` says
    /// that some condition could not be decided.
    pub fn applies(&self, ctx: &Context) -> Option<bool> {
        let mut unknown = false;
        let mut check = |cond: Option<bool>| -> Option<()> {
            match cond {
                Some(false) => None,
                Some(true) => Some(()),
                None => {
                    unknown = true;
                    Some(())
                }
            }
        };
        if let Some(wb) = self.water_body {
            check(ctx.water_body.map(|c| c == wb))?;
        }
        if let Some(t) = self.water_temp_c_above {
            check(ctx.water_temp_c.map(|c| c > t))?;
        }
        if let Some(t) = self.water_temp_c_at_most {
            check(ctx.water_temp_c.map(|c| c <= t))?;
        }
        if let Some((from, to)) = self.date_window {
            check(ctx.date.map(|d| in_window(d.month_day(), from, to)))?;
        }
        if let Some(b) = self.plant_built_before {
            check(ctx.plant_built.map(|p| p < b))?;
        }
        if let Some(b) = self.plant_built_from {
            check(ctx.plant_built.map(|p| p >= b))?;
        }
        if let Some(sp) = self.sampling_point {
            check(ctx.sampling_point.map(|c| c == sp))?;
        }
        if let Some(f) = self.effective_from {
            check(ctx.date.map(|d| d >= f))?;
        }
        if let Some(t) = self.effective_to {
            check(ctx.date.map(|d| d <= t))?;
        }
        Some(unknown)
    }
}

fn in_window(md: (u32, u32), from: (u32, u32), to: (u32, u32)) -> bool {
    if from <= to {
        md >= from && md <= to
    } else {
        md >= from || md <= to
    }
}

/// The set of standards rewater knows: the bundled ones plus any the user adds.
///
/// The bundled files are parsed when the set is first read, not when it is made: every
/// command starts with the set, and commands that never look at a standard (overflow,
/// monitoring, the HJ 212 tools) then skip a parse of some 20 M instructions.
#[derive(Debug, Clone, Default)]
pub struct Standards {
    list: OnceLock<Vec<Standard>>,
    /// Whether the list starts from the bundled files.
    bundled: bool,
}

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../standards/", $name)))),*]
    };
}

/// The bundled standard files (name, text).
pub const BUILTIN_FILES: &[(&str, &str)] = builtin![
    "gb3838-2002.toml",
    "gb18918-2002.toml",
    "db11-890-2012.toml",
    "gbt18920-2020.toml",
    "gbt18921-2019.toml",
    "gbt19923-2005.toml",
    "gb20922-2007.toml",
    "gb5084-2021.toml",
];

/// Normalises a standard id for lookup: "GB/T 18920-2020", "gbt18920-2020" and "GBT18920" match.
fn norm_id(s: &str) -> String {
    norm_chars(s).collect()
}

/// The characters of [`norm_id`].
fn norm_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .map(|c| c.to_ascii_lowercase())
}

/// Parses the bundled standard files.
fn parse_builtin() -> Vec<Standard> {
    // The bundled files are checked by the test suite; a failure here is a build defect.
    let parse = |files: &[(&str, &str)]| -> Vec<Standard> {
        files
            .iter()
            .map(|(name, text)| {
                Standard::parse(text, &format!("built-in:{name}"))
                    .unwrap_or_else(|e| panic!("bundled standard: {e}"))
            })
            .collect()
    };
    // Half of the files on a second thread: parsing them is a few milliseconds of each
    // command that reads a standard (issue 18 times whole processes).
    let (first, second) = BUILTIN_FILES.split_at(BUILTIN_FILES.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| parse(second));
        let mut list = parse(first);
        match other.join() {
            Ok(rest) => list.extend(rest),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        list
    })
}

impl Standards {
    /// The bundled standards (parsed when first read).
    pub fn builtin() -> Standards {
        Standards {
            list: OnceLock::new(),
            bundled: true,
        }
    }

    /// The standards, the bundled ones parsed now if not yet.
    fn list(&self) -> &Vec<Standard> {
        self.list.get_or_init(|| {
            if self.bundled {
                parse_builtin()
            } else {
                Vec::new()
            }
        })
    }

    fn list_mut(&mut self) -> &mut Vec<Standard> {
        self.list();
        self.list.get_mut().expect("initialised just above")
    }

    /// Adds a standard; one with the same id replaces the existing one (a local correction).
    /// Returns true if it replaced one.
    pub fn add(&mut self, s: Standard) -> bool {
        let key = norm_id(&s.id);
        if let Some(existing) = self.list_mut().iter_mut().find(|x| norm_id(&x.id) == key) {
            *existing = s;
            true
        } else {
            self.list_mut().push(s);
            false
        }
    }

    /// Adds every `*.toml` file of a directory (sorted by name).
    pub fn load_dir(&mut self, dir: &Path) -> Result<usize, StandardFileError> {
        let io_err = |e: std::io::Error| StandardFileError {
            file: dir.display().to_string(),
            line: None,
            message: e.to_string(),
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io_err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for p in &paths {
            self.load_file(p)?;
        }
        Ok(paths.len())
    }

    /// Adds one standard file.
    pub fn load_file(&mut self, path: &Path) -> Result<&Standard, StandardFileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| StandardFileError {
            file: name.clone(),
            line: None,
            message: e.to_string(),
        })?;
        let s = Standard::parse(&text, &name)?;
        let key = norm_id(&s.id);
        self.add(s);
        Ok(self
            .list()
            .iter()
            .find(|x| norm_id(&x.id) == key)
            .expect("just added"))
    }

    /// Every standard.
    pub fn all(&self) -> &[Standard] {
        self.list()
    }

    /// A standard by id. Accepts the id with or without spaces, slashes and the year
    /// ("GB 18918-2002", "gb18918"); without a year the newest edition is returned.
    pub fn get(&self, id: &str) -> Option<&Standard> {
        // Compared as `norm_id` would give them, without a string per standard (a model
        // looks up one per user).
        let key = norm_id(id);
        if let Some(s) = self
            .list()
            .iter()
            .find(|s| norm_chars(&s.id).eq(key.chars()))
        {
            return Some(s);
        }
        self.list()
            .iter()
            .filter(|s| norm_chars(&s.id).take_while(|&c| c != '-').eq(key.chars()))
            .max_by_key(|s| s.effective_from)
    }

    /// Resolves "ID:CLASS" (e.g. "GB18918-2002:1A", "GB/T18920-2020:urban_greening").
    pub fn resolve(&self, spec: &str) -> Result<(&Standard, usize), String> {
        let (id, class) = spec
            .rsplit_once(':')
            .ok_or_else(|| format!("'{spec}' must be STANDARD:CLASS, e.g. GB18918-2002:1A"))?;
        let s = self.get(id).ok_or_else(|| {
            format!("unknown standard '{id}' (`rewater standards list` shows them)")
        })?;
        let c = s.class_index(class).ok_or_else(|| {
            let ids: Vec<_> = s.classes.iter().map(|c| c.id.as_str()).collect();
            format!(
                "standard {} has no class '{class}' (classes: {})",
                s.id,
                ids.join(", ")
            )
        })?;
        Ok((s, c))
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    /// The line table gives the line that counting newlines gives, at every offset
    /// (including on a newline, past the end, and with no final newline).
    #[test]
    fn line_table_equals_counting_newlines() {
        for text in ["", "a", "\n", "ab\ncd\n\nef", "x\r\ny\n"] {
            let src = Source::new(text, "t.toml");
            for offset in 0..text.len() + 3 {
                assert_eq!(
                    src.line_at(offset),
                    line_of(text, offset),
                    "{text:?} @{offset}"
                );
            }
        }
        assert_eq!(Source::new("ab\ncd\n\nef", "t").line_at(7), 4);
    }
}

#[cfg(test)]
mod lazy_tests {
    use super::*;

    /// The bundled files are parsed when the set is first read, once, and then give what
    /// an eager parse gave; a set a user changes (`add`) keeps the bundled ones.
    #[test]
    fn bundled_standards_are_parsed_when_first_read() {
        let s = Standards::builtin();
        assert!(s.list.get().is_none(), "nothing parsed when made");
        let g = s.get("GB 18918-2002").expect("bundled");
        assert_eq!(g.id, "GB18918-2002");
        assert_eq!(s.all().len(), BUILTIN_FILES.len());
        let eager = parse_builtin();
        let ids = |l: &[Standard]| l.iter().map(|x| x.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(s.all()), ids(&eager));
        let mut changed = Standards::builtin();
        let mut extra = eager[0].clone();
        extra.id = "LOCAL-1".into();
        assert!(!changed.add(extra));
        assert_eq!(changed.all().len(), BUILTIN_FILES.len() + 1);
        assert!(changed.get("GB3838-2002").is_some());
        assert!(Standards::default().all().is_empty());
    }
}
