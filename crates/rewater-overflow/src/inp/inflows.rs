//! `[INFLOWS]`: external inflows at nodes (外部入流), `Node FLOW TimeSeries Type Mfactor
//! Sfactor Baseline Pattern` as SWMM 5.2 reads it (`inflow_readExtInflow`): the time
//! series times the scale factor, plus the baseline times its pattern. Pollutant rows are
//! not flow and are skipped (water quality is not modelled).

use super::dwf::apply_pattern;
use super::nodes::NodeTable;
use super::parser::{Parser, Units};
use crate::network::{DryWeatherFlow, ExternalInflow};
use crate::OverflowError;
use std::collections::HashMap;

/// The time-series parts (m³/s against time) and the baselines (as dry-weather flows,
/// whose patterns work the same way).
pub(super) fn read_inflows(
    p: &Parser,
    units: Units,
    nodes: &NodeTable,
    series: &HashMap<String, Vec<(i64, f64)>>,
    patterns: &HashMap<String, (String, Vec<f64>)>,
) -> Result<(Vec<ExternalInflow>, Vec<DryWeatherFlow>), OverflowError> {
    let mut inflows = Vec::new();
    let mut baselines = Vec::new();
    for l in p.section("INFLOWS") {
        let node = nodes.node_of(p, l, 0, "node")?;
        if !p.tok(l, 1, "constituent")?.eq_ignore_ascii_case("FLOW") {
            p.note("[INFLOWS] of pollutants are not modelled (water quality)".into());
            continue;
        }
        let scale = p.num_or(l, 5, 1.0, "scale factor")?;
        let baseline = p.num_or(l, 6, 0.0, "baseline")?;
        let ts = l.tokens.get(2).map(|s| s.as_str()).unwrap_or("");
        if !ts.is_empty() && ts != "*" {
            let pts = series
                .get(&ts.to_ascii_uppercase())
                .ok_or_else(|| p.err(l.no, format!("time series '{ts}' is not in [TIMESERIES]")))?;
            inflows.push(ExternalInflow {
                node,
                points: pts
                    .iter()
                    .map(|&(t, v)| (t, v * scale * units.flow))
                    .collect(),
            });
        }
        if baseline != 0.0 {
            let mut d = DryWeatherFlow::flat(node, baseline * units.flow);
            let pattern = l.tokens.get(7).map(|s| s.as_str()).unwrap_or("");
            apply_pattern(p, l, &mut d, pattern, patterns)?;
            baselines.push(d);
        }
    }
    Ok((inflows, baselines))
}
