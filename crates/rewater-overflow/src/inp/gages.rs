//! `[RAINGAGES]`: each gage's rain series from a `[TIMESERIES]` or a user-prepared rain
//! file, on the gage's interval, in metres per interval.

use super::parser::{Line, Parser, Units};
use super::rainfiles::{read_rain_file, RainFile};
use crate::network::Gage;
use crate::rain::RainSeries;
use crate::time::parse_clock;
use crate::OverflowError;
use std::collections::HashMap;

/// The gages in file order and their index by name.
pub(super) fn read_gages(
    p: &Parser,
    units: Units,
    series: &HashMap<String, Vec<(i64, f64)>>,
    span_s: (i64, i64),
) -> Result<(Vec<Gage>, HashMap<String, usize>), OverflowError> {
    let mut gages: Vec<Gage> = Vec::new();
    let mut gage_index: HashMap<String, usize> = HashMap::new();
    let mut total = 0usize;
    for l in p.section("RAINGAGES") {
        let name = p.tok(l, 0, "name")?.to_string();
        let format = p.tok(l, 1, "rain format")?.to_ascii_uppercase();
        let interval = parse_clock(p.tok(l, 2, "rain interval")?)
            .filter(|s| *s > 0)
            .ok_or_else(|| p.err(l.no, "rain interval is not a time"))?;
        let scf = p.num_or(l, 3, 1.0, "snow catch factor")?;
        let source = p.tok(l, 4, "rain source")?.to_ascii_uppercase();
        let (mut format, mut interval) = (format, interval);
        let points: Vec<(i64, f64)> = match source.as_str() {
            "TIMESERIES" => {
                let ts = p.tok(l, 5, "time series name")?;
                series
                    .get(&ts.to_ascii_uppercase())
                    .cloned()
                    .ok_or_else(|| {
                        p.err(l.no, format!("time series '{ts}' is not in [TIMESERIES]"))
                    })?
            }
            "FILE" => {
                let path = p.dir.join(p.tok(l, 5, "rain file")?);
                let station = p.tok(l, 6, "station")?.to_string();
                let mm = l
                    .tokens
                    .get(7)
                    .is_some_and(|u| u.eq_ignore_ascii_case("MM"));
                let raw = match read_rain_file(&path, &station, if mm { 1.0 } else { 25.4 })? {
                    RainFile::User(points) => points,
                    RainFile::Ncdc {
                        points,
                        interval_s,
                        accumulated,
                    } => {
                        // NCDC readings are depths at the file's own interval.
                        format = "VOLUME".into();
                        interval = interval_s;
                        if accumulated {
                            p.note(format!(
                                "{}: accumulated NCDC readings are put in the interval that reports them",
                                path.display()
                            ));
                        }
                        points
                    }
                };
                raw.into_iter()
                    .map(|(t, v)| (t, v / units.depth_mm()))
                    .collect()
            }
            other => {
                return Err(p.err(
                    l.no,
                    format!("rain source '{other}' is not TIMESERIES or FILE"),
                ))
            }
        };
        let series = gage_series(p, l, &points, &format, interval, scf, units)?;
        // Every record is held at once: bound them together.
        total += series.depth_m.len();
        if total > crate::limits::MAX_RAIN_TOTAL {
            return Err(p.err(
                l.no,
                format!(
                    "the rain records hold over {} intervals together",
                    crate::limits::MAX_RAIN_TOTAL
                ),
            ));
        }
        gage_index.insert(name.clone(), gages.len());
        gages.push(Gage { name, rain: series });
    }
    if gages.is_empty() {
        if let Some(l) = p.section("SUBCATCHMENTS").first() {
            return Err(p.err(l.no, "subcatchments but the file has no [RAINGAGES]"));
        }
        // A network fed only by inflows and dry-weather flow: a dry gage for the events.
        gages.push(Gage {
            name: "(no rain gage)".into(),
            rain: RainSeries::new(span_s.0, (span_s.1 - span_s.0).max(1), vec![0.0]),
        });
    }
    Ok((gages, gage_index))
}

/// A gage's rain series from (time, value) points in the gage's format.
fn gage_series(
    p: &Parser,
    l: &Line,
    points: &[(i64, f64)],
    format: &str,
    interval: i64,
    scf: f64,
    units: Units,
) -> Result<RainSeries, OverflowError> {
    if points.is_empty() {
        return Err(p.err(l.no, "rain series is empty"));
    }
    // Inline rows are checked as read; rows from a file after them may still go back.
    if points.windows(2).any(|w| w[1].0 <= w[0].0) {
        return Err(p.err(l.no, "the gage's rain series goes back in time"));
    }
    let start = points[0].0;
    let last = points[points.len() - 1].0;
    let n = crate::limits::rain_intervals(start, last, interval)
        .map_err(|m| p.err(l.no, format!("rain gage: {m}")))?;
    let mut depth = vec![0.0; n];
    let mut prev_cum = 0.0;
    for &(t, v) in points {
        let i = ((t - start) / interval) as usize;
        let mm = match format {
            "INTENSITY" => v * interval as f64 / 3600.0,
            "VOLUME" => v,
            "CUMULATIVE" => {
                let d = (v - prev_cum).max(0.0);
                prev_cum = v;
                d
            }
            other => {
                return Err(p.err(
                    l.no,
                    format!("rain format '{other}' is not INTENSITY, VOLUME or CUMULATIVE"),
                ))
            }
        };
        if mm < 0.0 {
            return Err(p.err(l.no, "negative rain in the gage's series"));
        }
        depth[i] += mm * scf * units.depth();
    }
    Ok(RainSeries::new(start, interval, depth))
}
