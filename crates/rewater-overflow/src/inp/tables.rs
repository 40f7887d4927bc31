//! Shared tables other sections refer to by name: `[CURVES]`, `[PATTERNS]` and
//! `[TIMESERIES]` (inline or from a file).

use super::parser::{tokenize, Line, Parser};
use crate::time::{parse_clock, parse_date};
use crate::OverflowError;
use std::collections::HashMap;

pub(super) struct Curve {
    pub kind: String,
    pub points: Vec<(f64, f64)>,
}

pub(super) fn read_curves(p: &Parser) -> Result<HashMap<String, Curve>, OverflowError> {
    let mut curves: HashMap<String, Curve> = HashMap::new();
    for l in p.section("CURVES") {
        let name = l.tokens[0].to_ascii_uppercase();
        let mut k = 1;
        let entry = curves.entry(name).or_insert_with(|| Curve {
            kind: String::new(),
            points: Vec::new(),
        });
        if l.tokens.get(1).is_some_and(|t| t.parse::<f64>().is_err()) {
            entry.kind = l.tokens[1].to_ascii_uppercase();
            k = 2;
        }
        while k < l.tokens.len() {
            let x = p.num(l, k, "curve x")?;
            let y = p.num(l, k + 1, "curve y")?;
            entry.points.push((x, y));
            k += 2;
        }
    }
    Ok(curves)
}

pub(super) fn read_patterns(
    p: &Parser,
) -> Result<HashMap<String, (String, Vec<f64>)>, OverflowError> {
    let mut out: HashMap<String, (String, Vec<f64>)> = HashMap::new();
    for l in p.section("PATTERNS") {
        let name = l.tokens[0].to_ascii_uppercase();
        let mut k = 1;
        let entry = out
            .entry(name)
            .or_insert_with(|| (String::new(), Vec::new()));
        if l.tokens.get(1).is_some_and(|t| t.parse::<f64>().is_err()) {
            entry.0 = l.tokens[1].to_ascii_uppercase();
            k = 2;
        }
        for i in k..l.tokens.len() {
            entry.1.push(p.num(l, i, "pattern factor")?);
        }
    }
    Ok(out)
}

/// Time series as (time s, value); times without a date count from the start.
pub(super) fn read_timeseries(
    p: &Parser,
    start_s: i64,
) -> Result<HashMap<String, Vec<(i64, f64)>>, OverflowError> {
    read_series(p, start_s, false)
}

/// `nested`: `p` is a time-series file, which may not name another (it could name itself).
fn read_series(
    p: &Parser,
    start_s: i64,
    nested: bool,
) -> Result<HashMap<String, Vec<(i64, f64)>>, OverflowError> {
    let mut out: HashMap<String, Vec<(i64, f64)>> = HashMap::new();
    let mut date: HashMap<String, i64> = HashMap::new();
    for l in p.section("TIMESERIES") {
        let name = l.tokens[0].to_ascii_uppercase();
        if l.tokens
            .get(1)
            .is_some_and(|t| t.eq_ignore_ascii_case("FILE"))
        {
            if nested {
                return Err(p.err(l.no, "a time-series file cannot name another file"));
            }
            let path = p.dir.join(p.tok(l, 2, "file name")?);
            let text = crate::limits::read_text(&path)?;
            let file = path.display().to_string();
            let mut lines = Vec::new();
            let mut fields = 0usize;
            for (n, raw) in text.lines().enumerate() {
                if raw.len() > crate::limits::MAX_LINE_BYTES {
                    return Err(OverflowError::Input {
                        file,
                        line: n + 1,
                        message: format!(
                            "the line is over {} bytes",
                            crate::limits::MAX_LINE_BYTES
                        ),
                    });
                }
                let mut tokens = tokenize(raw);
                if tokens.is_empty() {
                    continue;
                }
                fields += tokens.len() + 1;
                if fields > crate::limits::MAX_FIELDS {
                    return Err(OverflowError::Input {
                        file,
                        line: n + 1,
                        message: format!("the file has over {} fields", crate::limits::MAX_FIELDS),
                    });
                }
                tokens.insert(0, name.clone());
                lines.push(Line { no: n + 1, tokens });
            }
            let sub = Parser {
                file: &file,
                dir: p.dir.clone(),
                sections: HashMap::from([("TIMESERIES".to_string(), lines)]),
                notes: Default::default(),
            };
            let inner = read_series(&sub, start_s, true)?;
            out.entry(name.clone())
                .or_default()
                .extend(inner.get(&name).cloned().unwrap_or_default());
            continue;
        }
        let mut k = 1;
        while k < l.tokens.len() {
            let tok = &l.tokens[k];
            if tok.contains('/') || tok.matches('-').count() == 2 {
                let d =
                    parse_date(tok).ok_or_else(|| p.err(l.no, format!("'{tok}' is not a date")))?;
                date.insert(name.clone(), d.wall_seconds());
                k += 1;
                continue;
            }
            let secs =
                parse_clock(tok).ok_or_else(|| p.err(l.no, format!("'{tok}' is not a time")))?;
            let t = match date.get(&name) {
                Some(d) => d + secs,
                None => start_s + secs,
            };
            let v = p.num(l, k + 1, "time-series value")?;
            let series = out.entry(name.clone()).or_default();
            if series.last().is_some_and(|last| last.0 >= t) {
                return Err(p.err(
                    l.no,
                    format!("time series '{}' goes back in time", l.tokens[0]),
                ));
            }
            series.push((t, v));
            k += 2;
        }
    }
    Ok(out)
}
