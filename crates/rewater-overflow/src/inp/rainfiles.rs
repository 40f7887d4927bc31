//! Rain data files a gage names with `FILE` (雨量资料文件), in the formats SWMM 5 tells
//! apart by their first lines (`rain.c`, `findFileFormat`):
//!
//! - SWMM's user-prepared format, `station year month day hour minute value` in the
//!   gage's own format (INTENSITY, VOLUME or CUMULATIVE) and units;
//! - NCDC's online retrieval format (`COOP:134101 20130110 22:00 0.10 g`): hourly (HPCP)
//!   or 15-minute (QPCP, QGAG) depths in inches, or in hundredths of an inch when the
//!   value has no decimal point;
//! - NCDC's DSI-3240/3260 space-delimited format (`310301 01 HPCP HI 1998 01 01 0100
//!   00000 g 0200 …`): a line per day, each reading `HHMM value flags`, hundredths of an
//!   inch, hour 25 the day's total.
//!
//! NCDC readings are stamped at the end of their interval; they are depths whatever the
//! gage says (SWMM too takes them as volumes at the file's own interval). Values of 9999
//! or more, or flagged `M`, are missing and read as no rain; accumulated totals (`a` …
//! `A`) are put in the interval that reports them (noted).

use super::parser::tokenize;
use crate::OverflowError;
use std::path::Path;

/// What a rain file holds.
pub(super) enum RainFile {
    /// User-prepared: (time, value in mm or mm/h as the gage's format says).
    User(Vec<(i64, f64)>),
    /// NCDC: (start of interval, depth mm) and the interval, s.
    Ncdc {
        points: Vec<(i64, f64)>,
        interval_s: i64,
        accumulated: bool,
    },
}

/// Read the rain of `station` (`*`: any) from a rain file; user-format values are
/// multiplied by `to_mm`.
pub(super) fn read_rain_file(
    path: &Path,
    station: &str,
    to_mm: f64,
) -> Result<RainFile, OverflowError> {
    let text = crate::limits::read_text(path).map_err(|e| match e {
        OverflowError::Io { path: p, source } if p.contains('\\') => OverflowError::Input {
            file: p,
            line: 0,
            message: format!("{source}; the name is a Windows path (write it with '/')"),
        },
        other => other,
    })?;
    let file = path.display().to_string();
    let head: Vec<&str> = text.lines().take(5).collect();
    if head.iter().any(|l| l.contains("COOP:")) {
        return read_online(&text, &file, station);
    }
    if head.iter().any(|l| is_dsi_line(l)) {
        return read_dsi(&text, &file, station);
    }
    read_user(&text, &file, station, to_mm).map(RainFile::User)
}

fn input_err(file: &str, line: usize, message: String) -> OverflowError {
    OverflowError::Input {
        file: file.to_string(),
        line,
        message,
    }
}

/// `COOPID CD ELEM …`: six digits, two digits, a rain element code.
fn is_dsi_line(l: &str) -> bool {
    let t: Vec<&str> = l.split_whitespace().take(3).collect();
    t.len() == 3
        && t[0].len() == 6
        && t[0].bytes().all(|b| b.is_ascii_digit())
        && t[1].len() == 2
        && interval_of(t[2]).is_some()
}

/// Recording interval of an NCDC element code.
fn interval_of(elem: &str) -> Option<i64> {
    match elem {
        "HPCP" => Some(3600),
        "QPCP" | "QGAG" => Some(900),
        _ => None,
    }
}

const MM_PER_INCH: f64 = 25.4;

fn read_online(text: &str, file: &str, station: &str) -> Result<RainFile, OverflowError> {
    let interval_s = if text
        .lines()
        .take(5)
        .any(|l| l.contains("QPCP") || l.contains("QGAG"))
    {
        900
    } else {
        3600
    };
    let mut points = Vec::new();
    let mut accumulated = false;
    for (n, raw) in text.lines().enumerate() {
        let Some(at) = raw.find("COOP:") else {
            continue;
        };
        let t: Vec<&str> = raw[at..].split_whitespace().collect();
        let id = t[0].trim_start_matches("COOP:");
        if station != "*" && station != id {
            continue;
        }
        let err = |m: &str| input_err(file, n + 1, format!("NCDC record: {m}"));
        if t.len() < 4 {
            return Err(err("expected 'COOP:station YYYYMMDD HH:MM value'"));
        }
        let d = t[1];
        let date = (d.len() == 8)
            .then(|| {
                crate::time::Date::from_ymd(
                    d[..4].parse().ok()?,
                    d[4..6].parse().ok()?,
                    d[6..].parse().ok()?,
                )
            })
            .flatten()
            .ok_or_else(|| err("the date is not YYYYMMDD"))?;
        let clock = crate::time::parse_clock(t[2]).ok_or_else(|| err("the time is not HH:MM"))?;
        let flag = t.get(4).copied().unwrap_or("");
        let value: f64 = t[3].parse().map_err(|_| err("the value is not a number"))?;
        let hundredths = if t[3].contains('.') {
            value * 100.0
        } else {
            value
        };
        accumulated |= flag == "a" || flag == "A";
        if hundredths >= 9999.0 || flag == "M" || flag == "a" || hundredths <= 0.0 {
            continue;
        }
        let end = date.wall_seconds() + clock;
        points.push((end - interval_s, hundredths / 100.0 * MM_PER_INCH));
    }
    finish(file, station, points, interval_s, accumulated)
}

fn read_dsi(text: &str, file: &str, station: &str) -> Result<RainFile, OverflowError> {
    let mut points = Vec::new();
    let mut interval_s = 3600;
    let mut accumulated = false;
    for (n, raw) in text.lines().enumerate() {
        if !is_dsi_line(raw) {
            continue;
        }
        let t: Vec<&str> = raw.split_whitespace().collect();
        if station != "*" && station != t[0] {
            continue;
        }
        let err = |m: &str| input_err(file, n + 1, format!("DSI-3240 record: {m}"));
        interval_s = interval_of(t[2]).unwrap_or(3600);
        let num = |k: usize| t.get(k).and_then(|s| s.parse::<i32>().ok());
        let (Some(y), Some(m), Some(d)) = (num(4), num(5), num(6)) else {
            return Err(err("year, month or day is not a number"));
        };
        let date = crate::time::Date::from_ymd(y, m as u32, d as u32)
            .ok_or_else(|| err("not a real date"))?;
        // Readings: HHMM, a value, then flags (single characters).
        let mut k = 7;
        while k + 1 < t.len() {
            let (hhmm, v) = (t[k], t[k + 1]);
            let is_time = hhmm.len() == 4 && hhmm.bytes().all(|b| b.is_ascii_digit());
            let Ok(value) = v.parse::<f64>() else {
                k += 1;
                continue;
            };
            if !is_time {
                k += 1;
                continue;
            }
            let flag = t.get(k + 2).filter(|f| f.len() == 1).copied().unwrap_or("");
            k += 2;
            let hour: i64 = hhmm[..2].parse().unwrap_or(25);
            let minute: i64 = hhmm[2..].parse().unwrap_or(0);
            accumulated |= flag == "a" || flag == "A";
            if hour > 24 || value >= 9999.0 || value <= 0.0 || flag == "M" || flag == "a" {
                continue;
            }
            let end = date.wall_seconds() + hour * 3600 + minute * 60;
            points.push((end - interval_s, value / 100.0 * MM_PER_INCH));
        }
    }
    finish(file, station, points, interval_s, accumulated)
}

fn finish(
    file: &str,
    station: &str,
    mut points: Vec<(i64, f64)>,
    interval_s: i64,
    accumulated: bool,
) -> Result<RainFile, OverflowError> {
    points.sort_by_key(|p| p.0);
    if points.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(input_err(
            file,
            0,
            "two readings for the same interval".into(),
        ));
    }
    if points.is_empty() {
        return Err(input_err(
            file,
            0,
            format!("no rain recorded for station '{station}'"),
        ));
    }
    Ok(RainFile::Ncdc {
        points,
        interval_s,
        accumulated,
    })
}

/// SWMM's user-prepared rain file: `station year month day hour minute value`; values
/// returned × `to_mm`.
fn read_user(
    text: &str,
    file: &str,
    station: &str,
    to_mm: f64,
) -> Result<Vec<(i64, f64)>, OverflowError> {
    let mut out: Vec<(i64, f64)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let t = tokenize(raw);
        if t.is_empty() || (station != "*" && t[0] != station) {
            continue;
        }
        let err = |m: String| input_err(file, n + 1, m);
        if t.len() < 7 {
            return Err(err(
                "expected 'station year month day hour minute value'".into()
            ));
        }
        let nums: Vec<f64> = t[1..7]
            .iter()
            .map(|s| s.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| err(format!("'{raw}' has a field that is not a number")))?;
        if !(1.0..=9999.0).contains(&nums[0])
            || !(0.0..=24.0).contains(&nums[3])
            || !(0.0..60.0).contains(&nums[4])
        {
            return Err(err(format!(
                "'{raw}': year, hour or minute out of range (1–9999, 0–24, 0–59)"
            )));
        }
        let day = crate::time::Date::from_ymd(nums[0] as i32, nums[1] as u32, nums[2] as u32)
            .ok_or_else(|| err("not a real date".into()))?;
        let time = day.wall_seconds() + nums[3] as i64 * 3600 + nums[4] as i64 * 60;
        if !nums[5].is_finite() || nums[5] < 0.0 {
            return Err(err(format!("rain value {} must be zero or more", nums[5])));
        }
        if out.last().is_some_and(|l| l.0 >= time) {
            return Err(err("rain file goes back in time".into()));
        }
        out.push((time, nums[5] * to_mm));
    }
    if out.is_empty() {
        return Err(input_err(
            file,
            0,
            format!("no rows for station '{station}'"),
        ));
    }
    Ok(out)
}
