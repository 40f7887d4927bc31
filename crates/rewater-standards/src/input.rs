//! Reading samples and series from CSV and JSON, with errors that name the line and column.

use crate::comply::TimedReading;
use crate::date::Date;
use crate::evaluate::Reading;
use crate::factor::Factor;
use crate::standard::{Context, SamplingPoint, WaterBody};
use crate::unit::{Kind, Unit};
use std::io::Read;

/// A sample to classify or check.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub id: String,
    pub readings: Vec<Reading>,
    pub context: Context,
    /// Line (CSV) or position (JSON) of the sample in its input.
    pub line: usize,
}

/// Input that cannot be read, with its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}{}: {message}", column.as_ref().map(|c| format!(" (column '{c}')")).unwrap_or_default())]
pub struct InputError {
    pub source_name: String,
    pub line: usize,
    pub column: Option<String>,
    pub message: String,
}

/// A builder of errors placed in `source_name`.
fn error_at(source_name: &str) -> impl Fn(usize, Option<&str>, String) -> InputError + '_ {
    move |line, column, message| InputError {
        source_name: source_name.to_string(),
        line,
        column: column.map(str::to_string),
        message,
    }
}

/// Parses a column header `factor` or `factor[unit]` / `factor (unit)`.
///
/// Without a unit the factor's HJ 212 unit is used, except where that unit is not mg/L for a
/// mass concentration (mercury, cadmium, arsenic … are µg/L in HJ 212): there the unit must be
/// written, so that mg/L and µg/L are never confused silently.
pub fn parse_factor_header(h: &str) -> Result<(Factor, Unit), String> {
    let h = h.trim();
    let (name, unit) = match h.find(['[', '(']) {
        Some(i) => {
            let close = if h[i..].starts_with('[') { ']' } else { ')' };
            let u = h[i + 1..]
                .trim_end()
                .strip_suffix(close)
                .ok_or_else(|| format!("'{h}': unclosed unit"))?;
            (&h[..i], Some(u))
        }
        None => (h, None),
    };
    let factor = Factor::parse(name).map_err(|e| e.to_string())?;
    let unit = match unit {
        Some(u) => Unit::parse(u).map_err(|e| e.to_string())?,
        None => {
            let u = factor.info().unit;
            if u.kind() == Kind::MassConcentration && u != Unit::MgPerL {
                return Err(format!(
                    "'{h}': write the unit for {} (HJ 212 reports it in {u}; e.g. {name}[mg/L] or {name}[{u}])",
                    factor.code()
                ));
            }
            u
        }
    };
    Ok((factor, unit))
}

const CONTEXT_COLUMNS: &[&str] = &[
    "id",
    "date",
    "water_body",
    "water_temp_c",
    "plant_built",
    "sampling_point",
];

fn parse_context_field(ctx: &mut Context, col: &str, value: &str) -> Result<(), String> {
    match col {
        "date" => ctx.date = Some(value.parse::<Date>().map_err(|e| e.to_string())?),
        "plant_built" => ctx.plant_built = Some(value.parse::<Date>().map_err(|e| e.to_string())?),
        "water_body" => {
            ctx.water_body = Some(match value.to_ascii_lowercase().as_str() {
                "river" | "河流" => WaterBody::River,
                "lake" | "reservoir" | "湖库" | "湖泊" | "水库" => WaterBody::Lake,
                _ => return Err(format!("water_body '{value}' must be river or lake")),
            })
        }
        "sampling_point" => {
            ctx.sampling_point = Some(match value {
                "outlet" => SamplingPoint::Outlet,
                "network_end" => SamplingPoint::NetworkEnd,
                _ => {
                    return Err(format!(
                        "sampling_point '{value}' must be outlet or network_end"
                    ))
                }
            })
        }
        "water_temp_c" => {
            let t: f64 = value
                .parse()
                .map_err(|_| format!("'{value}' is not a number"))?;
            ctx.water_temp_c = Some(t);
        }
        _ => {}
    }
    Ok(())
}

fn parse_number(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("'{s}' is not a finite number"))
    }
}

/// Reads samples from a wide CSV: optional context columns (id, date, water_body,
/// water_temp_c, plant_built, sampling_point) and one column per factor (`cod`, `tp[mg/L]`,
/// `hg[µg/L]`). Empty cells are not measured. A water_temp_c column also gives the context
/// temperature; a w01010 factor column does too.
pub fn samples_from_csv<R: Read>(input: R, source_name: &str) -> Result<Vec<Sample>, InputError> {
    let err = error_at(source_name);
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let headers = rdr
        .headers()
        .map_err(|e| err(1, None, e.to_string()))?
        .clone();
    let mut columns = Vec::new();
    for h in headers.iter() {
        let key = h.trim().to_ascii_lowercase();
        if CONTEXT_COLUMNS.contains(&key.as_str()) {
            columns.push(Err(key));
        } else {
            columns.push(Ok(parse_factor_header(h).map_err(|m| err(1, Some(h), m))?));
        }
    }
    if !columns.iter().any(|c| c.is_ok()) {
        return Err(err(
            1,
            None,
            "no factor columns (e.g. cod, nh3n, tp[mg/L])".into(),
        ));
    }
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
            err(line, None, e.to_string())
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        let mut sample = Sample {
            id: format!("line {line}"),
            readings: Vec::new(),
            context: Context::default(),
            line,
        };
        for (i, cell) in rec.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let h = &headers[i];
            match &columns[i] {
                Err(key) if key == "id" => sample.id = cell.to_string(),
                Err(key) => parse_context_field(&mut sample.context, key, cell)
                    .map_err(|m| err(line, Some(h), m))?,
                Ok((factor, unit)) => {
                    let v = parse_number(cell).map_err(|m| err(line, Some(h), m))?;
                    let r = Reading::new(*factor, v, *unit)
                        .map_err(|e| err(line, Some(h), e.to_string()))?;
                    if factor.code() == "w01010" && sample.context.water_temp_c.is_none() {
                        sample.context.water_temp_c = Some(v);
                    }
                    sample.readings.push(r);
                }
            }
        }
        out.push(sample);
    }
    Ok(out)
}

/// Reads samples from JSON (`json`) or CSV text; see [`samples_from_json`] and
/// [`samples_from_csv`].
pub fn samples_from_text(
    text: &str,
    source_name: &str,
    json: bool,
) -> Result<Vec<Sample>, InputError> {
    if json {
        samples_from_json(text, source_name)
    } else {
        samples_from_csv(text.as_bytes(), source_name)
    }
}

/// Reads samples from JSON: one object or an array of objects, or JSON lines. Each object has
/// optional context fields and `values`: `{"cod": 18, "hg": {"value": 0.04, "unit": "µg/L"}}`.
pub fn samples_from_json(text: &str, source_name: &str) -> Result<Vec<Sample>, InputError> {
    let err = error_at(source_name);
    let trimmed = text.trim_start();
    let items: Vec<(usize, serde_json::Value)> = if trimmed.starts_with('[') {
        let v: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| err(e.line(), None, e.to_string()))?;
        v.into_iter().enumerate().map(|(i, v)| (i + 1, v)).collect()
    } else {
        let mut items = Vec::new();
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let v = serde_json::from_str(l).map_err(|e| err(i + 1, None, e.to_string()))?;
            items.push((i + 1, v));
        }
        items
    };
    let mut out = Vec::new();
    for (line, item) in items {
        let obj = item
            .as_object()
            .ok_or_else(|| err(line, None, "a sample must be a JSON object".into()))?;
        let mut sample = Sample {
            id: format!("sample {line}"),
            readings: Vec::new(),
            context: Context::default(),
            line,
        };
        for (k, v) in obj {
            match k.as_str() {
                "id" => sample.id = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
                "values" => {
                    let values = v.as_object().ok_or_else(|| err(line, Some("values"), "must be an object".into()))?;
                    for (fk, fv) in values {
                        let (factor, unit, value) = match fv {
                            serde_json::Value::Number(n) => {
                                let (f, u) = parse_factor_header(fk).map_err(|m| err(line, Some(fk), m))?;
                                (f, u, n.as_f64().unwrap_or(f64::NAN))
                            }
                            serde_json::Value::Object(o) => {
                                let value = o.get("value").and_then(|x| x.as_f64()).ok_or_else(|| {
                                    err(line, Some(fk), "needs a numeric 'value'".into())
                                })?;
                                let header = match o.get("unit").and_then(|u| u.as_str()) {
                                    Some(u) => format!("{fk}[{u}]"),
                                    None => fk.clone(),
                                };
                                let (f, u) = parse_factor_header(&header).map_err(|m| err(line, Some(fk), m))?;
                                (f, u, value)
                            }
                            _ => return Err(err(line, Some(fk), "must be a number or {\"value\", \"unit\"}".into())),
                        };
                        let r = Reading::new(factor, value, unit).map_err(|e| err(line, Some(fk), e.to_string()))?;
                        sample.readings.push(r);
                    }
                }
                key if CONTEXT_COLUMNS.contains(&key) => {
                    let s = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    parse_context_field(&mut sample.context, key, &s).map_err(|m| err(line, Some(key), m))?
                }
                other => return Err(err(line, Some(other), "unknown field (expected id, values, date, water_body, water_temp_c, plant_built, sampling_point)".into())),
            }
        }
        out.push(sample);
    }
    Ok(out)
}

/// Reads a long-format series: columns `time` (YYYY-MM-DD with an optional time after a space
/// or `T`), `factor`, `value`, and optional `unit` and `flag` (HJ 212 data flag, default N).
pub fn series_from_csv<R: Read>(
    input: R,
    source_name: &str,
) -> Result<Vec<TimedReading>, InputError> {
    let err = error_at(source_name);
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = rdr
        .headers()
        .map_err(|e| err(1, None, e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(c_time), Some(c_factor), Some(c_value)) = (col("time"), col("factor"), col("value"))
    else {
        return Err(err(
            1,
            None,
            "the header needs columns time, factor, value (and optionally unit, flag)".into(),
        ));
    };
    let (c_unit, c_flag) = (col("unit"), col("flag"));
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            err(
                e.position().map(|p| p.line() as usize).unwrap_or(0),
                None,
                e.to_string(),
            )
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        let cell = |c: usize| rec.get(c).unwrap_or("");
        let t = cell(c_time);
        let day = t.get(..10).unwrap_or(t);
        let date: Date = day
            .parse()
            .map_err(|e: crate::date::DateError| err(line, Some("time"), e.to_string()))?;
        let header = match c_unit.map(cell).filter(|u| !u.is_empty()) {
            Some(u) => format!("{}[{u}]", cell(c_factor)),
            None => cell(c_factor).to_string(),
        };
        let (factor, unit) =
            parse_factor_header(&header).map_err(|m| err(line, Some("factor"), m))?;
        let value = parse_number(cell(c_value)).map_err(|m| err(line, Some("value"), m))?;
        let flag = match c_flag.map(cell).unwrap_or("") {
            "" => 'N',
            f if f.chars().count() == 1 => f.chars().next().unwrap_or('N').to_ascii_uppercase(),
            f => {
                return Err(err(
                    line,
                    Some("flag"),
                    format!("flag '{f}' must be one HJ 212 letter (N, F, M, S, D, C, T, B)"),
                ))
            }
        };
        // An invalid-flagged value may be junk (a failing probe sends pH -0.1): keep it only
        // for counting, never reject the file because of it.
        let reading = match Reading::new(factor, value, unit) {
            Ok(r) => r,
            Err(_) if flag != 'N' => Reading {
                factor,
                value,
                unit,
            },
            Err(e) => return Err(err(line, Some("value"), e.to_string())),
        };
        out.push(TimedReading {
            date,
            reading,
            flag,
            line,
        });
    }
    Ok(out)
}
