//! `[DWF]`: dry-weather flow at nodes with its MONTHLY, DAILY, HOURLY and WEEKEND
//! patterns.

use super::nodes::NodeTable;
use super::parser::{Line, Parser, Units};
use crate::network::DryWeatherFlow;
use crate::OverflowError;
use std::collections::HashMap;

pub(super) fn read_dwf(
    p: &Parser,
    units: Units,
    nodes: &NodeTable,
    patterns: &HashMap<String, (String, Vec<f64>)>,
) -> Result<Vec<DryWeatherFlow>, OverflowError> {
    let mut dry_weather = Vec::new();
    for l in p.section("DWF") {
        let node = nodes.node_of(p, l, 0, "node")?;
        if !p.tok(l, 1, "constituent")?.eq_ignore_ascii_case("FLOW") {
            continue;
        }
        let mut d = DryWeatherFlow::flat(node, p.num(l, 2, "baseline")? * units.flow);
        for name in &l.tokens[3..] {
            apply_pattern(p, l, &mut d, name, patterns)?;
        }
        dry_weather.push(d);
    }
    Ok(dry_weather)
}

/// Multiply a flow by a `[PATTERNS]` pattern of any of SWMM's four types (`*` or an
/// empty name: none).
pub(super) fn apply_pattern(
    p: &Parser,
    l: &Line,
    d: &mut DryWeatherFlow,
    name: &str,
    patterns: &HashMap<String, (String, Vec<f64>)>,
) -> Result<(), OverflowError> {
    if name.is_empty() || name == "*" {
        return Ok(());
    }
    let pat = patterns
        .get(&name.to_ascii_uppercase())
        .ok_or_else(|| p.err(l.no, format!("pattern '{name}' is not in [PATTERNS]")))?;
    let need = |n: usize| -> Result<(), OverflowError> {
        if pat.1.len() == n {
            Ok(())
        } else {
            Err(p.err(
                l.no,
                format!(
                    "pattern '{name}' has {} factors, {} expected",
                    pat.1.len(),
                    n
                ),
            ))
        }
    };
    match pat.0.as_str() {
        "MONTHLY" => {
            need(12)?;
            d.monthly.copy_from_slice(&pat.1);
        }
        "DAILY" => {
            need(7)?;
            d.daily.copy_from_slice(&pat.1);
        }
        "HOURLY" => {
            need(24)?;
            d.hourly.copy_from_slice(&pat.1);
        }
        "WEEKEND" => {
            need(24)?;
            let mut w = [0.0; 24];
            w.copy_from_slice(&pat.1);
            d.weekend = Some(w);
        }
        other => return Err(p.err(l.no, format!("pattern type '{other}' is unknown"))),
    }
    Ok(())
}
