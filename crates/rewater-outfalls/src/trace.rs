//! Forward and backward tracing (溯源) along the river network.
//!
//! Model: an outfall discharging Q (m³/s) at C (mg/L = g/m³) puts a load L = Q·C (g/s) into
//! its reach; the load travels at the reaches' velocities and decays first-order,
//! L(t) = Q·C·e^(−Σk·t); at a section it is fully mixed into the reach's flow Q_r, adding
//! ΔC = L(t)/Q_r (the completely-mixed model of HJ 2.3, applied to the increment). Steady
//! state: loads are typical values, not a time series; the travel time tells when a
//! change at the outfall arrives.

use crate::network::Network;
use crate::{Basis, Ledger};
use serde::Serialize;

/// One section reached from an outfall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reached {
    pub section: String,
    pub travel_time_s: f64,
    /// e^(−Σk·t): the fraction of the load that arrives.
    pub surviving_fraction: f64,
    pub delivered_load_g_per_s: Option<f64>,
    /// ΔC at the section (mg/L) after complete mixing.
    pub concentration_increment_mg_per_l: Option<f64>,
}

/// What a forward trace used and found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForwardTrace {
    pub outfall: String,
    pub factor: String,
    /// Q·C at the outfall, when both are known.
    pub load_g_per_s: Option<f64>,
    /// Measured or estimated: the outfall's discharge, and the reaches' hydraulics.
    pub discharge_basis: Basis,
    pub reaches_measured: usize,
    pub reaches_estimated: usize,
    pub reached: Vec<Reached>,
}

/// An error of tracing (unknown outfall or section, or a network that cannot be indexed).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TraceError {
    #[error("no outfall '{0}' in the ledger")]
    NoOutfall(String),
    #[error("no section '{0}' in the ledger")]
    NoSection(String),
    #[error("'{0}' lies on reach '{1}', which is not in the network")]
    NoReach(String, String),
    #[error("river network: {0}")]
    Network(String),
}

fn count_basis(ledger: &Ledger, reaches: &[usize]) -> (usize, usize) {
    let m = reaches
        .iter()
        .filter(|&&r| ledger.reaches[r].hydro_basis == Basis::Measured)
        .count();
    (m, reaches.len() - m)
}

/// Sections downstream of an outfall, nearest first, with travel time and the delivered
/// concentration increment.
pub fn forward(
    ledger: &Ledger,
    net: &Network,
    outfall: &str,
    factor: &str,
) -> Result<ForwardTrace, TraceError> {
    let o = ledger
        .outfall(outfall)
        .ok_or_else(|| TraceError::NoOutfall(outfall.into()))?;
    let mut r = *net
        .by_id
        .get(&o.reach)
        .ok_or_else(|| TraceError::NoReach(o.code.clone(), o.reach.clone()))?;
    let load = o
        .flow_m3_per_s
        .zip(o.conc_mg_per_l.get(factor).copied())
        .map(|(q, c)| q * c);
    let (mut t, mut x, mut from) = (0.0, 0.0, o.chainage_m);
    let mut reached = Vec::new();
    let mut passed = Vec::new();
    loop {
        passed.push(r);
        for &s in &net.sections_on[r] {
            let sec = &ledger.sections[s];
            if sec.chainage_m < from {
                continue;
            }
            let (dt, dx) = net.along(factor, r, sec.chainage_m - from);
            let f = (-(x + dx)).exp();
            let delivered = load.map(|l| l * f);
            reached.push(Reached {
                section: sec.id.clone(),
                travel_time_s: t + dt,
                surviving_fraction: f,
                delivered_load_g_per_s: delivered,
                concentration_increment_mg_per_l: delivered.map(|l| l / net.flow_m3_per_s[r]),
            });
        }
        let (dt, dx) = net.along(factor, r, net.length_m[r] - from);
        t += dt;
        x += dx;
        from = 0.0;
        match net.downstream[r] {
            Some(d) => r = d,
            None => break,
        }
    }
    let (m, e) = count_basis(ledger, &passed);
    Ok(ForwardTrace {
        outfall: o.code.clone(),
        factor: factor.into(),
        load_g_per_s: load,
        discharge_basis: o.discharge_basis,
        reaches_measured: m,
        reaches_estimated: e,
        reached,
    })
}

/// An outfall upstream of a section, with how long its water takes to arrive and how much
/// of its load does.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    /// Index into `ledger.outfalls`.
    pub outfall: usize,
    pub travel_time_s: f64,
    pub surviving_fraction: f64,
}

/// Every outfall upstream of a point (reach index, chainage), in one walk up the network.
pub fn upstream_of(
    ledger: &Ledger,
    net: &Network,
    factor: &str,
    reach: usize,
    chainage_m: f64,
) -> Vec<Upstream> {
    let mut out = Vec::new();
    // (reach, time and exponent from the reach's downstream end to the point)
    let mut stack = Vec::new();
    for &o in &net.outfalls_on[reach] {
        let ch = ledger.outfalls[o].chainage_m;
        if ch <= chainage_m {
            let (t, x) = net.along(factor, reach, chainage_m - ch);
            out.push(Upstream {
                outfall: o,
                travel_time_s: t,
                surviving_fraction: (-x).exp(),
            });
        }
    }
    let (t0, x0) = net.along(factor, reach, chainage_m);
    for &u in &net.upstream[reach] {
        stack.push((u, t0, x0));
    }
    while let Some((r, t, x)) = stack.pop() {
        for &o in &net.outfalls_on[r] {
            let (dt, dx) = net.along(factor, r, net.length_m[r] - ledger.outfalls[o].chainage_m);
            out.push(Upstream {
                outfall: o,
                travel_time_s: t + dt,
                surviving_fraction: (-(x + dx)).exp(),
            });
        }
        let (dt, dx) = net.along(factor, r, net.length_m[r]);
        for &u in &net.upstream[r] {
            stack.push((u, t + dt, x + dx));
        }
    }
    out
}

/// What to explain at a section.
#[derive(Debug, Clone, Default)]
pub struct Exceedance {
    pub section: String,
    pub factor: String,
    /// The observed concentration (mg/L), from monitoring or entered.
    pub observed_mg_per_l: Option<f64>,
    /// Background (upstream, natural) concentration to subtract (mg/L).
    pub background_mg_per_l: f64,
    pub observed_basis: Option<Basis>,
    /// Only outfalls whose water arrives within [min, max] seconds are ranked.
    pub min_travel_s: Option<f64>,
    pub max_travel_s: Option<f64>,
}

/// One ranked source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub outfall: String,
    pub district: String,
    pub travel_time_s: f64,
    /// Q·C·e^(−k·t) at the section (g/s).
    pub delivered_load_g_per_s: f64,
    pub concentration_increment_mg_per_l: f64,
    /// Share of the ranked sources' total delivered load.
    pub share_of_ranked: f64,
    /// Share of the section's excess load (observed − background)·Q_r, when observed.
    pub share_of_observed: Option<f64>,
    pub discharge_basis: Basis,
    /// Dischargers behind the outfall through the chain.
    pub dischargers: Vec<String>,
}

/// The answer of a backward trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackwardTrace {
    pub section: String,
    pub factor: String,
    pub observed_mg_per_l: Option<f64>,
    pub observed_basis: Option<Basis>,
    /// (observed − background)·Q_r at the section (g/s).
    pub excess_load_g_per_s: Option<f64>,
    /// Ranked, largest delivered load first.
    pub sources: Vec<Source>,
    /// 1 − Σ share_of_observed (negative when the ledger's loads exceed the observation).
    pub unexplained_share: Option<f64>,
    /// Upstream outfalls outside the travel-time window.
    pub outside_window: usize,
    /// Upstream outfalls without flow or concentration of this factor (not ranked).
    pub without_data: Vec<String>,
    pub sources_measured: usize,
    pub sources_estimated: usize,
    pub section_flow_basis: Basis,
}

/// Ranks the upstream outfalls of a section by the load they deliver there.
pub fn backward(
    ledger: &Ledger,
    net: &Network,
    q: &Exceedance,
) -> Result<BackwardTrace, TraceError> {
    let sec = ledger
        .section(&q.section)
        .ok_or_else(|| TraceError::NoSection(q.section.clone()))?;
    let r = *net
        .by_id
        .get(&sec.reach)
        .ok_or_else(|| TraceError::NoReach(sec.id.clone(), sec.reach.clone()))?;
    let flow = net.flow_m3_per_s[r];
    let mut sources = Vec::new();
    let (mut outside, mut without) = (0, Vec::new());
    for u in upstream_of(ledger, net, &q.factor, r, sec.chainage_m) {
        let in_window = q.min_travel_s.is_none_or(|m| u.travel_time_s >= m)
            && q.max_travel_s.is_none_or(|m| u.travel_time_s <= m);
        if !in_window {
            outside += 1;
            continue;
        }
        let o = &ledger.outfalls[u.outfall];
        let Some(load) = o
            .flow_m3_per_s
            .zip(o.conc_mg_per_l.get(&q.factor).copied())
            .map(|(a, b)| a * b)
        else {
            without.push(o.code.clone());
            continue;
        };
        let delivered = load * u.surviving_fraction;
        sources.push(Source {
            outfall: o.code.clone(),
            district: o.district.clone(),
            travel_time_s: u.travel_time_s,
            delivered_load_g_per_s: delivered,
            concentration_increment_mg_per_l: delivered / flow,
            share_of_ranked: 0.0,
            share_of_observed: None,
            discharge_basis: o.discharge_basis,
            dischargers: Vec::new(),
        });
    }
    sources.sort_by(|a, b| {
        b.delivered_load_g_per_s
            .total_cmp(&a.delivered_load_g_per_s)
            .then_with(|| a.outfall.cmp(&b.outfall))
    });
    let total: f64 = sources.iter().map(|s| s.delivered_load_g_per_s).sum();
    let excess = q
        .observed_mg_per_l
        .map(|c| (c - q.background_mg_per_l).max(0.0) * flow);
    for s in &mut sources {
        s.share_of_ranked = if total > 0.0 {
            s.delivered_load_g_per_s / total
        } else {
            0.0
        };
        s.share_of_observed = excess
            .filter(|e| *e > 0.0)
            .map(|e| s.delivered_load_g_per_s / e);
    }
    let chains = crate::ledger::ChainIndex::new(ledger);
    for s in &mut sources {
        s.dischargers = chains.chain_of(&s.outfall).dischargers;
    }
    let explained: Option<f64> = excess.filter(|e| *e > 0.0).map(|e| total / e);
    without.sort();
    let measured = sources
        .iter()
        .filter(|s| s.discharge_basis == Basis::Measured)
        .count();
    Ok(BackwardTrace {
        section: sec.id.clone(),
        factor: q.factor.clone(),
        observed_mg_per_l: q.observed_mg_per_l,
        observed_basis: q.observed_basis,
        excess_load_g_per_s: excess,
        sources_estimated: sources.len() - measured,
        sources_measured: measured,
        sources,
        unexplained_share: explained.map(|x| 1.0 - x),
        outside_window: outside,
        without_data: without,
        section_flow_basis: ledger.reaches[r].hydro_basis,
    })
}
