//! Design-formula volumes reported beside the simulated ones. The formulas are those of
//! GB 50014 (室外排水设计规范, 2014 ed., §4.14) and GB 51174-2017 (城镇雨水调蓄工程技术
//! 规范); clause numbers are as the project's reference notes give them and have not been
//! checked against the printed standards.

use serde::Serialize;

/// Parameters of the design formulas.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignParameters {
    /// Interception ratio after the tank is built (n); with it the pollution-control
    /// volume is reported.
    pub n_after: Option<f64>,
    /// Rain time the tank must hold, hours (t_i, 0.5–1 h).
    #[serde(default = "default_ti")]
    pub t_i_h: f64,
    /// Safety factor β (1.1–1.5).
    #[serde(default = "default_beta")]
    pub beta: f64,
    /// Emptying efficiency η (0.3–0.9) of the drain-back.
    #[serde(default = "default_eta")]
    pub eta: f64,
    /// Design rain depth D for the runoff-control volume, mm.
    #[serde(default = "default_depth")]
    pub depth_mm: f64,
}

fn default_ti() -> f64 {
    1.0
}
fn default_beta() -> f64 {
    1.3
}
fn default_eta() -> f64 {
    0.5
}
fn default_depth() -> f64 {
    33.0
}

impl Default for DesignParameters {
    fn default() -> Self {
        DesignParameters {
            n_after: None,
            t_i_h: default_ti(),
            beta: default_beta(),
            eta: default_eta(),
            depth_mm: default_depth(),
        }
    }
}

/// Combined-system pollution control: V = 3600·t_i·(n − n0)·Q_dr·β (m³), with Q_dr the
/// dry-weather flow in m³/s.
pub fn pollution_control_volume_m3(
    t_i_h: f64,
    n_after: f64,
    n0: f64,
    q_dr_m3_per_s: f64,
    beta: f64,
) -> f64 {
    3600.0 * t_i_h * (n_after - n0) * q_dr_m3_per_s * beta
}

/// Runoff control: V = 10·D·F·Ψ·β (m³), D in mm, F in ha.
pub fn runoff_control_volume_m3(depth_mm: f64, area_ha: f64, runoff_coeff: f64, beta: f64) -> f64 {
    10.0 * depth_mm * area_ha * runoff_coeff * beta
}

/// Emptying time t_o = V / (3600·Q'·η), hours.
pub fn emptying_time_h(volume_m3: f64, drain_m3_per_s: f64, eta: f64) -> f64 {
    volume_m3 / (3600.0 * drain_m3_per_s * eta)
}

/// Composite runoff coefficient Ψ from the impervious fraction, taking 0.85 for hard
/// surfaces and 0.15 for green space (GB 50014 table 3.2.2 ranges; a stated assumption).
pub fn runoff_coefficient(imperv_fraction: f64) -> f64 {
    0.85 * imperv_fraction + 0.15 * (1.0 - imperv_fraction)
}

/// One tank's design-formula results.
#[derive(Debug, Clone, Serialize)]
pub struct DesignVolumes {
    pub tank: String,
    pub simulated_volume_m3: f64,
    pub area_ha: f64,
    pub runoff_coefficient: f64,
    pub dry_weather_m3_per_s: f64,
    pub n0: Option<f64>,
    pub runoff_control_m3: f64,
    pub pollution_control_m3: Option<f64>,
    pub emptying_time_h: Option<f64>,
    pub parameters: DesignParameters,
}

/// Design-formula volumes for every tank of a system, from what lies upstream of it.
pub fn design_volumes(system: &crate::System, params: &DesignParameters) -> Vec<DesignVolumes> {
    use crate::network::{DividerRule, LinkKind, NodeKind, PumpCurve};
    let mut out = Vec::new();
    for (tank, _) in system.storages() {
        // Nodes upstream through gravity links (not pumps).
        let mut up = vec![false; system.nodes.len()];
        let mut stack = vec![tank];
        up[tank] = true;
        while let Some(n) = stack.pop() {
            for l in &system.links {
                if l.to == n && !up[l.from] && !matches!(l.kind, LinkKind::Pump { .. }) {
                    up[l.from] = true;
                    stack.push(l.from);
                }
            }
        }
        let mut area = 0.0;
        let mut imperv_area = 0.0;
        for s in system.subcatchments.iter().filter(|s| up[s.outlet]) {
            area += s.area_m2;
            imperv_area += s.area_m2 * s.imperv;
        }
        let q_dr: f64 = system
            .dry_weather
            .iter()
            .filter(|d| up[d.node])
            .map(|d| d.mean())
            .sum();
        // n0 from a cutoff divider that feeds the tank directly.
        let n0 = system
            .links
            .iter()
            .find_map(|l| match &system.nodes[l.from].kind {
                NodeKind::Divider {
                    rule: DividerRule::Cutoff(c),
                    ..
                } if l.to == tank && q_dr > 0.0 => Some(c / q_dr - 1.0),
                _ => None,
            });
        let drain: f64 = system
            .links
            .iter()
            .filter(|l| l.from == tank)
            .map(|l| match &l.kind {
                LinkKind::Pump { curve, .. } => match curve {
                    PumpCurve::Constant(r) | PumpCurve::Spare { rate: r, .. } => *r,
                    PumpCurve::VolumeSteps(t) | PumpCurve::DepthSteps(t) | PumpCurve::Depth(t) => {
                        t.iter().map(|p| p.1).fold(0.0, f64::max)
                    }
                    PumpCurve::Ideal => 0.0,
                },
                _ => 0.0,
            })
            .sum();
        let psi = if area > 0.0 {
            runoff_coefficient(imperv_area / area)
        } else {
            0.0
        };
        let volume = system.tank_capacity(tank);
        out.push(DesignVolumes {
            tank: system.nodes[tank].name.clone(),
            simulated_volume_m3: volume,
            area_ha: area / 1e4,
            runoff_coefficient: psi,
            dry_weather_m3_per_s: q_dr,
            n0,
            runoff_control_m3: runoff_control_volume_m3(
                params.depth_mm,
                area / 1e4,
                psi,
                params.beta,
            ),
            pollution_control_m3: match (params.n_after, n0) {
                (Some(n), Some(n0)) => Some(pollution_control_volume_m3(
                    params.t_i_h,
                    n,
                    n0,
                    q_dr,
                    params.beta,
                )),
                _ => None,
            },
            emptying_time_h: (drain > 0.0).then(|| emptying_time_h(volume, drain, params.eta)),
            parameters: *params,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_by_hand() {
        // 1 h × (5 − 2) × 0.2 m³/s × 1.2 × 3600 = 2592 m³
        assert!((pollution_control_volume_m3(1.0, 5.0, 2.0, 0.2, 1.2) - 2592.0).abs() < 1e-9);
        // 10 × 33 mm × 50 ha × 0.6 × 1.1 = 10890 m³
        assert!((runoff_control_volume_m3(33.0, 50.0, 0.6, 1.1) - 10890.0).abs() < 1e-9);
        // 10890 / (3600 × 0.5 × 0.5) = 12.1 h
        assert!((emptying_time_h(10890.0, 0.5, 0.5) - 12.1).abs() < 1e-9);
        assert!((runoff_coefficient(0.5) - 0.5).abs() < 1e-12);
    }
}
