//! `[OPTIONS]`: the unit system, the default infiltration model, routing notes and the
//! simulation clock.

use super::parser::{Parser, Units};
use super::ImportOptions;
use crate::limits;
use crate::network::FlowRouting;
use crate::runoff::Clock;
use crate::time::{parse_clock, parse_date};
use crate::OverflowError;
use std::collections::HashMap;

/// What `[OPTIONS]` decides for the rest of the file.
pub(super) struct Options {
    pub units: Units,
    /// Upper-cased INFILTRATION (default HORTON).
    pub infil_model: String,
    pub clock: Clock,
    /// SWMM's WET_STEP when runoff is to be computed at it rather than the routing step.
    pub runoff_step_s: Option<i64>,
    pub end_s: i64,
    /// `LINK_OFFSETS ELEVATION` (default DEPTH).
    pub elevation_offsets: bool,
    /// `FLOW_ROUTING` (old keywords mapped to the new).
    pub routing: FlowRouting,
    /// The method rewater routes by.
    pub routed_by: FlowRouting,
}

pub(super) fn read_options(p: &Parser, options: &ImportOptions) -> Result<Options, OverflowError> {
    let mut opt: HashMap<String, (String, usize)> = HashMap::new();
    for l in p.section("OPTIONS") {
        if l.tokens.len() >= 2 {
            opt.insert(
                l.tokens[0].to_ascii_uppercase(),
                (l.tokens[1..].join(" "), l.no),
            );
        }
    }
    let get = |k: &str| opt.get(k).map(|(v, _)| v.as_str());
    let units = match get("FLOW_UNITS")
        .unwrap_or("CFS")
        .to_ascii_uppercase()
        .as_str()
    {
        "CFS" => Units {
            us: true,
            flow: 0.028_316_85,
        },
        "GPM" => Units {
            us: true,
            flow: 6.309_02e-5,
        },
        "MGD" => Units {
            us: true,
            flow: 0.043_812_64,
        },
        "CMS" => Units {
            us: false,
            flow: 1.0,
        },
        "LPS" => Units {
            us: false,
            flow: 0.001,
        },
        "MLD" => Units {
            us: false,
            flow: 0.011_574_07,
        },
        other => {
            let line = opt.get("FLOW_UNITS").map(|x| x.1).unwrap_or(0);
            return Err(p.err(
                line,
                format!("FLOW_UNITS '{other}' is not one of SWMM's six"),
            ));
        }
    };
    let infil_model = get("INFILTRATION").unwrap_or("HORTON").to_ascii_uppercase();
    let routing_line = opt.get("FLOW_ROUTING").map(|x| x.1).unwrap_or(0);
    // SWMM 5 still reads the old keywords NF, KW, EKW and DW (its `OldRouteModelWords`).
    let routing = match get("FLOW_ROUTING")
        .unwrap_or("KINWAVE")
        .to_ascii_uppercase()
        .as_str()
    {
        "STEADY" | "NF" | "NONE" => FlowRouting::Steady,
        "KINWAVE" | "KW" | "XKINWAVE" | "EKW" => FlowRouting::KinWave,
        "DYNWAVE" | "DW" => FlowRouting::DynWave,
        other => {
            return Err(p.err(
                routing_line,
                format!("FLOW_ROUTING '{other}' is not STEADY, KINWAVE or DYNWAVE"),
            ))
        }
    };
    let routed_by = options.routing.unwrap_or(routing);
    if routed_by != routing {
        p.note(format!(
            "FLOW_ROUTING {} is routed by {}",
            routing.keyword(),
            match routed_by {
                FlowRouting::KinWave => "kinematic wave",
                FlowRouting::Steady => "steady flow",
                FlowRouting::DynWave => "dynamic wave",
                FlowRouting::Fast => "the fast routing (lag, capacity, storage)",
            }
        ));
    }
    if routed_by == FlowRouting::Fast {
        p.note(
            "fast routing: hydraulics are not solved; sewers route by lag and capacity (dividers act as SWMM's kinematic-wave dividers), so backwater, surcharge and flow reversal are not represented"
                .into(),
        );
    }
    let elevation_offsets = match get("LINK_OFFSETS").map(|s| s.to_ascii_uppercase()) {
        None => false,
        Some(v) if v == "DEPTH" => false,
        Some(v) if v == "ELEVATION" => true,
        Some(v) => {
            let line = opt.get("LINK_OFFSETS").map(|x| x.1).unwrap_or(0);
            return Err(p.err(
                line,
                format!("LINK_OFFSETS '{v}' is not DEPTH or ELEVATION"),
            ));
        }
    };
    let when = |date_key: &str, time_key: &str| -> Result<Option<i64>, OverflowError> {
        let Some((d, line)) = opt.get(date_key) else {
            return Ok(None);
        };
        let day =
            parse_date(d).ok_or_else(|| p.err(*line, format!("{date_key} '{d}' is not a date")))?;
        let secs = match opt.get(time_key) {
            Some((t, l)) => parse_clock(t)
                .ok_or_else(|| p.err(*l, format!("{time_key} '{t}' is not a time")))?,
            None => 0,
        };
        Ok(Some(day.wall_seconds() + secs))
    };
    let start_s =
        when("START_DATE", "START_TIME")?.ok_or_else(|| p.err(0, "[OPTIONS] has no START_DATE"))?;
    let end_s =
        when("END_DATE", "END_TIME")?.ok_or_else(|| p.err(0, "[OPTIONS] has no END_DATE"))?;
    // The span is checked on the parsed dates, before anything is sized by it.
    let end_line = opt.get("END_DATE").map(|x| x.1).unwrap_or(0);
    if end_s <= start_s {
        return Err(p.err(end_line, "END_DATE/END_TIME is not after the start"));
    }
    // Runoff at the file's own WET_STEP (SWMM's default 5 min) unless a step is given.
    let runoff_step_s = match options.step_s {
        Some(_) => None,
        None => Some(
            get("WET_STEP")
                .and_then(parse_clock)
                .unwrap_or(300)
                .clamp(1, 3600),
        ),
    };
    let step_s = match options.step_s {
        Some(s) if (1..=3600).contains(&s) => s,
        Some(s) => return Err(p.err(0, format!("step {s} s must be 1–3600 s"))),
        // Steady and kinematic-wave files route at their own ROUTING_STEP (whole
        // seconds; SWMM's default 20 s), as SWMM does; dynamic-wave files by the fast
        // routing at the WET_STEP, clamped to 60–300 s.
        None if routed_by != FlowRouting::Fast => {
            let routing_step = match get("ROUTING_STEP") {
                Some(v) if v.contains(':') => parse_clock(v),
                Some(v) => v.parse::<f64>().ok().map(|s| s.ceil() as i64),
                None => Some(20),
            };
            let step = routing_step.unwrap_or(20).clamp(1, 3600);
            // Dynamic wave routes at ROUTING_STEP (or variable steps) within clock steps
            // of at least a minute, at which inflows, rules and results are taken.
            if routed_by == FlowRouting::DynWave {
                step.max(60)
            } else {
                step
            }
        }
        None => get("WET_STEP")
            .and_then(parse_clock)
            .unwrap_or(300)
            .clamp(60, 300),
    };
    let steps = limits::steps(start_s, end_s, step_s)
        .map_err(|m| p.err(end_line, format!("START_DATE to END_DATE: {m}")))?;
    let clock = Clock {
        start_s,
        step_s,
        steps,
    };
    Ok(Options {
        units,
        infil_model,
        clock,
        runoff_step_s,
        end_s,
        elevation_offsets,
        routing,
        routed_by,
    })
}
