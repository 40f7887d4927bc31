//! The `[model]` table: the simulated horizon and the tracked water-quality factors; and the
//! model's size, checked before anything is allocated per node, link or day.

use super::ctx::Ctx;
use crate::files::LoadOptions;
use crate::types::{Model, ModelInfo};
use rewater_standards::{Date, Factor};

/// Reports a model with more nodes or links than `options` allow.
pub(super) fn counts(cx: &mut Ctx, model: &Model, options: &LoadOptions) {
    let nodes = model.node_ids().count();
    if nodes > options.max_nodes {
        let m = format!(
            "{nodes} nodes, more than the limit of {}",
            options.max_nodes
        );
        cx.err("model", &model.model.name, "", m);
    }
    if model.links.len() > options.max_links {
        let m = format!(
            "{} links, more than the limit of {}",
            model.links.len(),
            options.max_links
        );
        cx.err("model", &model.model.name, "", m);
    }
}

/// First day and number of days (at most `max_days`, however given); errors are reported and
/// a one-day horizon returned, so that the rest of the model is still checked.
pub(super) fn horizon(cx: &mut Ctx, info: &ModelInfo, max_days: u32) -> (Date, usize) {
    let start: Option<Date> = match info.start.parse() {
        Ok(d) => Some(d),
        Err(e) => {
            cx.err("model", &info.name, "start", e.to_string());
            None
        }
    };
    let days: usize = match (info.days, &info.end, start) {
        (Some(d), None, _) if (1..=max_days).contains(&d) => d as usize,
        (Some(d), None, _) => {
            cx.err(
                "model",
                &info.name,
                "days",
                format!("{d} is outside 1–{max_days}"),
            );
            1
        }
        // The span is counted on the parsed dates, in i64 so that no span can wrap.
        (None, Some(end), Some(s)) => match end.parse::<Date>() {
            Ok(e) if e >= s => {
                let span = i64::from(e.days_since(s)) + 1;
                if span > i64::from(max_days) {
                    let m = format!("{s} to {e} is {span} days, more than the limit of {max_days}");
                    cx.err("model", &info.name, "end", m);
                    1
                } else {
                    span as usize
                }
            }
            Ok(_) => {
                cx.err("model", &info.name, "end", "end is before start");
                1
            }
            Err(err) => {
                cx.err("model", &info.name, "end", err.to_string());
                1
            }
        },
        (None, Some(_), None) => 1,
        _ => {
            cx.err(
                "model",
                &info.name,
                "days",
                "give exactly one of 'days' and 'end'",
            );
            1
        }
    };
    // An invalid start is already reported; carry on to report the rest.
    (start.unwrap_or(Date::EPOCH), days)
}

/// The tracked factors, each once.
pub(super) fn factors(cx: &mut Ctx, info: &ModelInfo) -> Vec<Factor> {
    let mut factors = Vec::new();
    for f in &info.factors {
        match Factor::parse(f) {
            Ok(x) if factors.contains(&x) => cx.err(
                "model",
                &info.name,
                "factors",
                format!("'{f}' is listed twice"),
            ),
            Ok(x) => factors.push(x),
            Err(e) => cx.err("model", &info.name, "factors", e.to_string()),
        }
    }
    factors
}
