//! Inverse estimate of outfall loads from several sections' observations (反演溯源).
//!
//! With the forward model of [`crate::trace`], the excess concentration at section s is
//! linear in the outfalls' loads: ΔC_s = Σ_j A_sj·L_j, A_sj = e^(−Σk·t_sj)/Q_s for outfall j
//! upstream of s (0 otherwise). The loads are found as the non-negative least-squares
//! solution min ½‖A·L − ΔC‖² subject to L ≥ 0, a convex QP solved with Clarabel (interior
//! point; columns scaled to unit norm first). As in faster-unmixer, sources are identifiable
//! only where observations separate them: with fewer independent sections than candidate
//! outfalls the answer is one of many that fit, and the result says so (`rank_deficient`).

use crate::network::Network;
use crate::trace::{upstream_of, TraceError};
use crate::{Basis, Ledger};
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};
use serde::Serialize;
use std::collections::HashMap;

/// One observation: the concentration above background at a section.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Observation {
    pub section: String,
    pub excess_mg_per_l: f64,
}

/// An estimated source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimated {
    pub outfall: String,
    pub load_g_per_s: f64,
    /// load / the ledger's flow, when the ledger has a flow for the outfall.
    pub conc_mg_per_l: Option<f64>,
    /// The ledger's own Q·C for comparison, with its basis.
    pub ledger_load_g_per_s: Option<f64>,
    pub ledger_basis: Basis,
    /// Always estimated: it is the inverse's answer.
    pub basis: Basis,
}

/// The fit at one section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    pub section: String,
    /// Measured (the observation).
    pub observed_mg_per_l: f64,
    pub fitted_mg_per_l: f64,
}

/// The inverse's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InverseEstimate {
    pub factor: String,
    pub sources: Vec<Estimated>,
    pub fits: Vec<Fit>,
    /// ‖A·L − ΔC‖₂ (mg/L) and the same relative to ‖ΔC‖₂.
    pub residual_mg_per_l: f64,
    pub relative_residual: f64,
    /// Fewer observations than candidate outfalls: the loads are not unique.
    pub rank_deficient: bool,
    pub solver_status: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InverseError {
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error("no observations")]
    NoObservations,
    #[error("observation at '{0}': {1} is not a finite number ≥ 0")]
    BadObservation(String, f64),
    #[error("no outfall lies upstream of the observed sections")]
    NoCandidates,
    #[error("the solver failed: {0}")]
    Solver(String),
}

/// Estimates the loads of the outfalls upstream of the observed sections.
pub fn estimate(
    ledger: &Ledger,
    net: &Network,
    factor: &str,
    obs: &[Observation],
) -> Result<InverseEstimate, InverseError> {
    if obs.is_empty() {
        return Err(InverseError::NoObservations);
    }
    let mut col_of: HashMap<usize, usize> = HashMap::new();
    let mut cols: Vec<usize> = Vec::new();
    let mut rows: Vec<Vec<(usize, f64)>> = Vec::new();
    for o in obs {
        if !o.excess_mg_per_l.is_finite() || o.excess_mg_per_l < 0.0 {
            return Err(InverseError::BadObservation(
                o.section.clone(),
                o.excess_mg_per_l,
            ));
        }
        let sec = ledger
            .section(&o.section)
            .ok_or_else(|| TraceError::NoSection(o.section.clone()))?;
        let r = *net
            .by_id
            .get(&sec.reach)
            .ok_or_else(|| TraceError::NoReach(sec.id.clone(), sec.reach.clone()))?;
        let q = net.flow_m3_per_s[r];
        let mut row = Vec::new();
        for u in upstream_of(ledger, net, factor, r, sec.chainage_m) {
            let c = *col_of.entry(u.outfall).or_insert_with(|| {
                cols.push(u.outfall);
                cols.len() - 1
            });
            row.push((c, u.surviving_fraction / q));
        }
        rows.push(row);
    }
    let n = cols.len();
    if n == 0 {
        return Err(InverseError::NoCandidates);
    }
    let m = obs.len();
    let mut a = vec![vec![0.0; n]; m];
    for (i, row) in rows.iter().enumerate() {
        for &(c, v) in row {
            a[i][c] += v;
        }
    }
    let b: Vec<f64> = obs.iter().map(|o| o.excess_mg_per_l).collect();
    let scale: Vec<f64> = (0..n)
        .map(|j| {
            (0..m)
                .map(|i| a[i][j] * a[i][j])
                .sum::<f64>()
                .sqrt()
                .max(f64::MIN_POSITIVE)
        })
        .collect();
    let bnorm = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    let bs = if bnorm > 0.0 { bnorm } else { 1.0 };
    // P = AsᵀAs (upper triangle), q = −Asᵀb/‖b‖ (b scaled to unit norm).
    let mut p = vec![vec![0.0; n]; n];
    let mut qv = vec![0.0; n];
    for j in 0..n {
        for k in j..n {
            p[j][k] = (0..m).map(|i| a[i][j] * a[i][k]).sum::<f64>() / (scale[j] * scale[k]);
        }
        qv[j] = -(0..m).map(|i| a[i][j] * b[i]).sum::<f64>() / (scale[j] * bs);
    }
    let pm = CscMatrix::from(p.iter().map(|r| r.iter())).to_triu();
    let neg_i: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { -1.0 } else { 0.0 }).collect())
        .collect();
    let am = CscMatrix::from(neg_i.iter().map(|r| r.iter()));
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(1e-12)
        .tol_gap_rel(1e-12)
        .tol_feas(1e-12)
        .max_iter(200)
        .build()
        .map_err(|e| InverseError::Solver(e.to_string()))?;
    let cones = [SupportedConeT::NonnegativeConeT(n)];
    let mut solver = DefaultSolver::new(&pm, &qv, &am, &vec![0.0; n], &cones, settings)
        .map_err(|e| InverseError::Solver(e.to_string()))?;
    solver.solve();
    let status = solver.solution.status;
    if !matches!(status, SolverStatus::Solved | SolverStatus::AlmostSolved) {
        return Err(InverseError::Solver(format!("{status:?}")));
    }
    let loads: Vec<f64> = (0..n)
        .map(|j| (solver.solution.x[j] * bs / scale[j]).max(0.0))
        .collect();
    let fitted: Vec<f64> = (0..m)
        .map(|i| (0..n).map(|j| a[i][j] * loads[j]).sum())
        .collect();
    let residual = fitted
        .iter()
        .zip(&b)
        .map(|(f, o)| (f - o) * (f - o))
        .sum::<f64>()
        .sqrt();
    let mut sources: Vec<Estimated> = cols
        .iter()
        .zip(&loads)
        .map(|(&o, &l)| {
            let of = &ledger.outfalls[o];
            Estimated {
                outfall: of.code.clone(),
                load_g_per_s: l,
                conc_mg_per_l: of.flow_m3_per_s.filter(|q| *q > 0.0).map(|q| l / q),
                ledger_load_g_per_s: of
                    .flow_m3_per_s
                    .zip(of.conc_mg_per_l.get(factor).copied())
                    .map(|(q, c)| q * c),
                ledger_basis: of.discharge_basis,
                basis: Basis::Estimated,
            }
        })
        .collect();
    sources.sort_by(|x, y| {
        y.load_g_per_s
            .total_cmp(&x.load_g_per_s)
            .then_with(|| x.outfall.cmp(&y.outfall))
    });
    Ok(InverseEstimate {
        factor: factor.into(),
        sources,
        fits: obs
            .iter()
            .zip(&fitted)
            .map(|(o, f)| Fit {
                section: o.section.clone(),
                observed_mg_per_l: o.excess_mg_per_l,
                fitted_mg_per_l: *f,
            })
            .collect(),
        residual_mg_per_l: residual,
        relative_residual: if bnorm > 0.0 { residual / bnorm } else { 0.0 },
        rank_deficient: m < n,
        solver_status: format!("{status:?}"),
    })
}
