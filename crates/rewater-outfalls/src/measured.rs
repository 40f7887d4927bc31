//! Outfall discharges from their HJ 212 data loggers (排污口在线监测): an outfall whose
//! `site_mn` names a logger takes its flow (`w00000`, L/s) and the concentrations of its
//! factors from the logger's latest readings instead of the ledger's typical values, so a
//! trace says it used measured data. Readings older than the window, flagged or missing
//! leave the ledger's values as they are (and say so).

use crate::{Basis, Ledger};
use rewater_standards::Factor;
use rewater_store::Reading;
use serde::Serialize;
use std::collections::BTreeMap;

/// HJ 212 code of wastewater flow (污水流量, L/s in the factor table).
const FLOW: &str = "w00000";

/// What one outfall's logger gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggerUse {
    pub outfall: String,
    pub site_mn: String,
    /// Wall seconds of the newest reading used (none when nothing was used).
    pub data_time: Option<i64>,
    /// The values taken: `flow_m3_per_s` and the ledger's factor keys (mg/L).
    pub taken: BTreeMap<String, f64>,
    /// Why the ledger's values were kept, when they were.
    pub kept: Option<String>,
}

/// The newest usable reading per factor code: a value, not flagged as invalid (HJ 212
/// flags other than N — normal — mean the value is not a valid measurement), within
/// `[now − window, now]`.
fn newest(readings: &[Reading], now_s: i64, window_s: i64) -> BTreeMap<&str, &Reading> {
    let mut by: BTreeMap<&str, &Reading> = BTreeMap::new();
    for r in readings {
        let usable = r.value.is_some_and(f64::is_finite)
            && r.flag.as_deref().is_none_or(|f| f == "N")
            && r.data_time <= now_s
            && r.data_time >= now_s - window_s;
        if !usable {
            continue;
        }
        match by.get(r.factor.as_str()) {
            Some(b) if b.data_time >= r.data_time => {}
            _ => {
                by.insert(r.factor.as_str(), r);
            }
        }
    }
    by
}

/// Replaces the typical discharges of the outfalls that have a data logger by the logger's
/// latest valid readings within `window_s` before `now_s` (wall seconds). Flow and at least
/// one concentration must be there for any value to be taken, and every factor of the
/// outfall for it to count as measured; `latest` is asked
/// once per logger (the store's latest readings of an MN).
pub fn apply_loggers<E>(
    ledger: &mut Ledger,
    now_s: i64,
    window_s: i64,
    mut latest: impl FnMut(&str) -> Result<Vec<Reading>, E>,
) -> Result<Vec<LoggerUse>, E> {
    let mut uses = Vec::new();
    for o in &mut ledger.outfalls {
        let Some(mn) = o.site_mn.clone().filter(|m| !m.is_empty()) else {
            continue;
        };
        let readings = latest(&mn)?;
        let by = newest(&readings, now_s, window_s);
        let mut u = LoggerUse {
            outfall: o.code.clone(),
            site_mn: mn,
            data_time: None,
            taken: BTreeMap::new(),
            kept: None,
        };
        let Some(flow) = by.get(FLOW) else {
            u.kept = Some(format!("no valid {FLOW} (flow) reading in the window"));
            uses.push(u);
            continue;
        };
        let mut conc = BTreeMap::new();
        let mut newest_s = flow.data_time;
        for key in o.conc_mg_per_l.keys() {
            let code = Factor::parse(key).map_or_else(|_| key.clone(), |f| f.code().to_string());
            if let Some(r) = by.get(code.as_str()) {
                conc.insert(key.clone(), r.value.unwrap_or_default());
                newest_s = newest_s.max(r.data_time);
            }
        }
        if conc.is_empty() {
            u.kept = Some("no valid reading of the ledger's factors in the window".into());
            uses.push(u);
            continue;
        }
        let typical: Vec<&str> = o
            .conc_mg_per_l
            .keys()
            .filter(|k| !conc.contains_key(*k))
            .map(String::as_str)
            .collect();
        // Measured only when every factor is; a partly measured outfall keeps its basis.
        if typical.is_empty() {
            o.discharge_basis = Basis::Measured;
        } else {
            u.kept = Some(format!("typical values kept for {}", typical.join(", ")));
        }
        let q = flow.value.unwrap_or_default() / 1000.0;
        o.flow_m3_per_s = Some(q);
        u.taken.insert("flow_m3_per_s".into(), q);
        for (k, v) in conc {
            o.conc_mg_per_l.insert(k.clone(), v);
            u.taken.insert(k, v);
        }
        u.data_time = Some(newest_s);
        uses.push(u);
    }
    Ok(uses)
}
