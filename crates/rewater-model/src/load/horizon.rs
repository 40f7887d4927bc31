//! The `[model]` table: the simulated horizon and the tracked water-quality factors.

use super::ctx::Ctx;
use crate::types::ModelInfo;
use rewater_standards::{Date, Factor};

/// First day and number of days; errors are reported and a one-day horizon returned, so that
/// the rest of the model is still checked.
pub(super) fn horizon(cx: &mut Ctx, info: &ModelInfo) -> (Date, usize) {
    let start: Option<Date> = match info.start.parse() {
        Ok(d) => Some(d),
        Err(e) => {
            cx.err("model", &info.name, "start", e.to_string());
            None
        }
    };
    let days: usize = match (info.days, &info.end, start) {
        (Some(d), None, _) if (1..=36_600).contains(&d) => d as usize,
        (Some(d), None, _) => {
            cx.err(
                "model",
                &info.name,
                "days",
                format!("{d} is outside 1–36600"),
            );
            1
        }
        (None, Some(end), Some(s)) => match end.parse::<Date>() {
            Ok(e) if e >= s => (e.days_since(s) + 1) as usize,
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
