//! The river network as an index for tracing: reaches by position, their downstream and
//! upstream neighbours, and the outfalls and sections on each reach sorted by chainage.
//!
//! Travel time along a reach is `length / velocity`; first-order decay multiplies a load by
//! `exp(−Σ k_i·t_i)` over the reaches passed (k per day of each reach and factor). A reach
//! without a rate for a factor lets it pass undecayed (conservative for tracing).

use crate::{Ledger, Reach};
use std::collections::HashMap;

/// Checks that following `downstream` never comes back to a reach (each reach has at most
/// one downstream reach, so the network is a forest exactly when there is no cycle).
pub fn check_acyclic(reaches: &[Reach]) -> Result<(), String> {
    let idx: HashMap<&str, usize> = reaches
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    // 0 = unseen, 1 = on the current walk, 2 = known to reach an outlet.
    let mut state = vec![0u8; reaches.len()];
    for start in 0..reaches.len() {
        let mut walk: Vec<usize> = Vec::new();
        let mut i = start;
        loop {
            match state[i] {
                2 => break,
                1 => {
                    let at = walk.iter().position(|&w| w == i).unwrap_or(0);
                    let ids: Vec<&str> =
                        walk[at..].iter().map(|&w| reaches[w].id.as_str()).collect();
                    return Err(format!(
                        "the river network has a cycle: {} → {}",
                        ids.join(" → "),
                        reaches[i].id
                    ));
                }
                _ => {}
            }
            state[i] = 1;
            walk.push(i);
            match reaches[i].downstream.as_deref().and_then(|d| idx.get(d)) {
                Some(&n) => i = n,
                None => break,
            }
        }
        for w in walk {
            state[w] = 2;
        }
    }
    Ok(())
}

/// The ledger's network, indexed.
#[derive(Debug, Clone)]
pub struct Network {
    pub reach_ids: Vec<String>,
    pub by_id: HashMap<String, usize>,
    pub downstream: Vec<Option<usize>>,
    pub upstream: Vec<Vec<usize>>,
    pub length_m: Vec<f64>,
    pub velocity_m_per_s: Vec<f64>,
    pub flow_m3_per_s: Vec<f64>,
    /// Outfall indexes (into `ledger.outfalls`) on each reach, by chainage.
    pub outfalls_on: Vec<Vec<usize>>,
    /// Section indexes (into `ledger.sections`) on each reach, by chainage.
    pub sections_on: Vec<Vec<usize>>,
    /// Decay per day: factor → per reach.
    decay: HashMap<String, Vec<f64>>,
}

impl Network {
    /// Builds the index; the ledger must have passed [`Ledger::check`] (unknown reaches are
    /// skipped, a cycle is an error).
    pub fn build(ledger: &Ledger) -> Result<Network, String> {
        check_acyclic(&ledger.reaches)?;
        let n = ledger.reaches.len();
        let by_id: HashMap<String, usize> = ledger
            .reaches
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let downstream: Vec<Option<usize>> = ledger
            .reaches
            .iter()
            .map(|r| r.downstream.as_ref().and_then(|d| by_id.get(d).copied()))
            .collect();
        let mut upstream = vec![Vec::new(); n];
        for (i, d) in downstream.iter().enumerate() {
            if let Some(d) = d {
                upstream[*d].push(i);
            }
        }
        let mut outfalls_on = vec![Vec::new(); n];
        for (i, o) in ledger.outfalls.iter().enumerate() {
            if let Some(&r) = by_id.get(&o.reach) {
                outfalls_on[r].push(i);
            }
        }
        for v in &mut outfalls_on {
            v.sort_by(|a, b| {
                ledger.outfalls[*a]
                    .chainage_m
                    .total_cmp(&ledger.outfalls[*b].chainage_m)
            });
        }
        let mut sections_on = vec![Vec::new(); n];
        for (i, s) in ledger.sections.iter().enumerate() {
            if let Some(&r) = by_id.get(&s.reach) {
                sections_on[r].push(i);
            }
        }
        for v in &mut sections_on {
            v.sort_by(|a, b| {
                ledger.sections[*a]
                    .chainage_m
                    .total_cmp(&ledger.sections[*b].chainage_m)
            });
        }
        let mut decay: HashMap<String, Vec<f64>> = HashMap::new();
        for (i, r) in ledger.reaches.iter().enumerate() {
            for (f, k) in &r.decay_per_day {
                decay.entry(f.clone()).or_insert_with(|| vec![0.0; n])[i] = *k;
            }
        }
        Ok(Network {
            reach_ids: ledger.reaches.iter().map(|r| r.id.clone()).collect(),
            by_id,
            downstream,
            upstream,
            length_m: ledger.reaches.iter().map(|r| r.length_m).collect(),
            velocity_m_per_s: ledger.reaches.iter().map(|r| r.velocity_m_per_s).collect(),
            flow_m3_per_s: ledger.reaches.iter().map(|r| r.flow_m3_per_s).collect(),
            outfalls_on,
            sections_on,
            decay,
        })
    }

    /// Decay rate (1/day) of a factor on a reach (0 when not given).
    pub fn decay_per_day(&self, factor: &str, reach: usize) -> f64 {
        self.decay.get(factor).map_or(0.0, |v| v[reach])
    }

    /// Travel time (s) and decay exponent Σk·t (k per day, t in days) over `dx` metres of a
    /// reach.
    pub fn along(&self, factor: &str, reach: usize, dx_m: f64) -> (f64, f64) {
        let t = dx_m / self.velocity_m_per_s[reach];
        (t, self.decay_per_day(factor, reach) * t / 86_400.0)
    }
}
