//! The state one resolution carries from node kind to node kind: error reporting that finds
//! the line of an item's field, the tracked factors, the series cache and the nodes so far.

use super::{find_line, ModelError};
use crate::region::{Node, NodeKind};
use crate::series::{Profile, SeriesCache, SeriesError};
use crate::types::{QualityMap, SeriesRef};
use rewater_standards::{Date, Factor, Standards};
use std::collections::HashMap;

/// Most problems listed; past them only a count, since finding each one's line scans the text.
pub const MAX_LISTED_ERRORS: usize = 100;

/// Collects every problem of a model, each with the line of the item's field.
pub(super) struct Ctx<'a> {
    pub text: &'a str,
    pub file: &'a str,
    pub errors: Vec<ModelError>,
    /// Problems found past [`MAX_LISTED_ERRORS`].
    pub unlisted: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(text: &'a str, file: &'a str) -> Ctx<'a> {
        Ctx {
            text,
            file,
            errors: Vec::new(),
            unlisted: 0,
        }
    }

    /// The problems found (call when there are some), with a last entry counting those not
    /// listed.
    pub fn into_errors(mut self) -> super::ModelErrors {
        if self.unlisted > 0 {
            self.errors.push(ModelError {
                file: self.file.to_string(),
                line: None,
                item: None,
                field: None,
                message: format!(
                    "and {} more problems (only the first {MAX_LISTED_ERRORS} are listed)",
                    self.unlisted
                ),
            });
        }
        super::ModelErrors(self.errors)
    }

    pub fn err(&mut self, kind: &str, id: &str, field: &str, message: impl Into<String>) {
        if self.errors.len() >= MAX_LISTED_ERRORS {
            self.unlisted += 1;
            return;
        }
        let item_line = if kind == "model" {
            // The `[model]` table (TOML) or object (JSON).
            self.text
                .lines()
                .position(|l| {
                    let t = l.trim();
                    t == "[model]" || t.starts_with("\"model\"")
                })
                .map(|i| i + 1)
        } else {
            find_line(self.text, "id", Some(id))
                .or_else(|| {
                    let (from, to) = id.split_once("->")?;
                    find_link_line(self.text, from, to)
                })
                .or_else(|| find_line(self.text, "from", Some(id.split("->").next().unwrap_or(id))))
        };
        // Prefer the field's own line inside the item's block (up to the next table header).
        let field_key = field.split('.').next().unwrap_or(field);
        let line = item_line.map(|start| {
            self.text
                .lines()
                .enumerate()
                .skip(start.saturating_sub(1))
                .take_while(|(i, l)| *i + 1 == start || !l.trim_start().starts_with('['))
                .find(|(_, l)| {
                    !field_key.is_empty()
                        && l.trim_start()
                            .trim_start_matches('"')
                            .starts_with(field_key)
                })
                .map(|(i, _)| i + 1)
                .unwrap_or(start)
        });
        self.errors.push(ModelError {
            file: self.file.to_string(),
            line,
            item: Some(format!("{kind} {id}")),
            field: (!field.is_empty()).then(|| field.to_string()),
            message: message.into(),
        });
    }

    pub fn series_err(&mut self, kind: &str, id: &str, field: &str, e: SeriesError) {
        let place = match e.line {
            Some(l) => format!("{}:{l}", e.file),
            None => e.file.clone(),
        };
        self.err(kind, id, field, format!("{place}: {}", e.message));
    }
}

/// Line of `from = "FROM"` in the first block (between table headers or braces) that also
/// holds `to = "TO"`: the link a link error is about, not just the first link from FROM.
fn find_link_line(text: &str, from: &str, to: &str) -> Option<usize> {
    let holds = |l: &str, key: &str, v: &str| {
        l.trim_start().trim_start_matches('"').starts_with(key) && l.contains(&format!("\"{v}\""))
    };
    let (mut from_line, mut has_to) = (None, false);
    for (i, l) in text.lines().enumerate() {
        if l.trim_start().starts_with(['[', '{', '}']) {
            (from_line, has_to) = (None, false);
        }
        if holds(l, "from", from) {
            from_line = Some(i + 1);
        }
        has_to |= holds(l, "to", to);
        if has_to && from_line.is_some() {
            return from_line;
        }
    }
    None
}

pub(super) fn finite_nonneg(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

/// Field names of a daily value: constant, series, monthly factors, daily factors.
pub(super) type ProfileFields = [&'static str; 4];

/// A resolution in progress.
pub(super) struct Resolver<'a> {
    pub cx: Ctx<'a>,
    pub standards: &'a Standards,
    pub start: Date,
    pub factors: Vec<Factor>,
    pub cache: SeriesCache,
    pub nodes: Vec<Node>,
    pub ids: HashMap<String, usize>,
    pub warnings: Vec<String>,
}

impl Resolver<'_> {
    /// Index of a tracked factor in quality vectors.
    pub fn factor_index(&self, name: &str) -> Result<usize, String> {
        let f = Factor::parse(name).map_err(|e| e.to_string())?;
        self.factors
            .iter()
            .position(|x| *x == f)
            .ok_or_else(|| format!("factor '{name}' is not tracked; add it to model.factors"))
    }

    /// A quality vector (NaN = not given) from a factor → mg/L map.
    pub fn quality_vec(&mut self, kind: &str, id: &str, field: &str, map: &QualityMap) -> Vec<f64> {
        let mut v = vec![f64::NAN; self.factors.len()];
        for (k, c) in map {
            match self.factor_index(k) {
                Ok(i) if finite_nonneg(*c) => v[i] = *c,
                Ok(_) => self.cx.err(
                    kind,
                    id,
                    &format!("{field}.{k}"),
                    format!("{c} is not a concentration ≥ 0"),
                ),
                Err(e) => self.cx.err(kind, id, field, e),
            }
        }
        v
    }

    /// The values of a series over the horizon, or the error reported against `field`.
    pub fn series(&mut self, kind: &str, id: &str, field: &str, s: &SeriesRef) -> Option<Profile> {
        match self.cache.get(&s.csv, &s.column) {
            Ok(v) => Some(Profile::series(v)),
            Err(e) => {
                self.cx.series_err(kind, id, field, e);
                None
            }
        }
    }

    /// A daily value: a constant or a series, times optional monthly and daily factors.
    #[allow(clippy::too_many_arguments)]
    pub fn profile(
        &mut self,
        kind: &str,
        id: &str,
        names: ProfileFields,
        constant: Option<f64>,
        series: &Option<SeriesRef>,
        monthly: &Option<Vec<f64>>,
        daily: &Option<SeriesRef>,
    ) -> Profile {
        let mut p = match (constant, series) {
            (Some(c), None) => {
                if !finite_nonneg(c) {
                    self.cx
                        .err(kind, id, names[0], format!("{c} must be a number ≥ 0"));
                }
                Profile::constant(c)
            }
            (None, Some(s)) => match self.cache.get(&s.csv, &s.column) {
                Ok(v) => {
                    if let Some(bad) = v.iter().position(|x| *x < 0.0) {
                        self.cx.err(
                            kind,
                            id,
                            names[1],
                            format!(
                                "{}: value {} on {} is negative",
                                s.csv,
                                v[bad],
                                self.start.add_days(bad as i32)
                            ),
                        );
                    }
                    Profile::series(v)
                }
                Err(e) => {
                    self.cx.series_err(kind, id, names[1], e);
                    Profile::constant(0.0)
                }
            },
            _ => {
                self.cx.err(
                    kind,
                    id,
                    names[0],
                    format!("give exactly one of '{}' and '{}'", names[0], names[1]),
                );
                Profile::constant(0.0)
            }
        };
        if let Some(m) = monthly {
            if m.len() != 12 || m.iter().any(|x| !finite_nonneg(*x)) {
                self.cx.err(
                    kind,
                    id,
                    names[2],
                    "needs twelve numbers ≥ 0 (January first)",
                );
            } else {
                let mut a = [0.0; 12];
                a.copy_from_slice(m);
                p = p.with_monthly(a);
            }
        }
        if let Some(d) = daily {
            match self.cache.get(&d.csv, &d.column) {
                Ok(v) => p = p.with_daily(v),
                Err(e) => self.cx.series_err(kind, id, names[3], e),
            }
        }
        p
    }

    /// Adds a node, reporting an empty or repeated id.
    pub fn add(
        &mut self,
        kind: &str,
        id: &str,
        name: &str,
        location: Option<[f64; 2]>,
        k: NodeKind,
    ) {
        if id.trim().is_empty() {
            self.cx.err(kind, id, "id", "must not be empty");
        }
        if self.ids.contains_key(id) {
            self.cx
                .err(kind, id, "id", format!("'{id}' is used by another node"));
        }
        self.ids.insert(id.to_string(), self.nodes.len());
        self.nodes.push(Node {
            id: id.to_string(),
            name: name.to_string(),
            location,
            kind: k,
        });
    }
}
