//! A storage unit's step in the fast routing (调蓄池): pumps on the depth at the start of
//! the step, weirs, orifices and outlets implicit in the volume.

use crate::network::{interpolate, step_lookup, LinkKind, PumpCurve, Storage, System};

/// Advance a storage unit one step. Pumps act on the depth at the start of the step;
/// weirs, orifices and outlets are solved implicitly (backward Euler on volume), which
/// stays stable for any step. `full` is the unit's full volume. Returns (new volume,
/// excess over full volume, flooding).
#[allow(clippy::too_many_arguments)]
pub(crate) fn storage_step(
    system: &System,
    st: &Storage,
    full: f64,
    outs: &[usize],
    v0: f64,
    d0: f64,
    q_in: f64,
    dt: f64,
    settings: &[f64],
    link_flow: &[f64],
    assigned: &mut [f64],
) -> (f64, f64, f64) {
    if v0 <= 0.0 && q_in <= 0.0 {
        // An empty tank with nothing coming in: nothing leaves (the usual dry-weather case).
        for &l in outs {
            assigned[l] = 0.0;
        }
        return (0.0, 0.0, 0.0);
    }
    let avail = pump_step(
        system, outs, v0, d0, q_in, dt, settings, link_flow, assigned,
    );
    // Depth-driven outlets, implicit.
    let driven = |l: &usize| system.links[*l].kind.is_depth_driven() && settings[*l] > 0.0;
    // The outlets see at most the full depth: water above the full volume floods (or
    // spills) and does not raise the head on a weir (SWMM caps the volume the same way
    // before it takes the depth).
    let outflow = |v: f64| -> f64 {
        let d = st.depth_at(v.min(full));
        outs.iter()
            .filter(|l| driven(l))
            .map(|&l| system.links[l].kind.flow_at_depth(d) * settings[l])
            .sum()
    };
    let mut v1 = avail;
    // At or below every open outlet's crest or offset nothing flows (each gives exactly 0),
    // so the implicit solve is not needed.
    let lowest = outs
        .iter()
        .filter(|l| driven(l))
        .filter_map(|&l| system.links[l].kind.threshold_m())
        .fold(f64::INFINITY, f64::min);
    if lowest.is_finite() && st.depth_at(avail.min(full)) > lowest && outflow(avail) > 0.0 {
        // phi(v) = v + dt·Q(v) − avail is increasing; phi(0) ≤ 0 ≤ phi(avail).
        let phi = |v: f64| v + dt * outflow(v) - avail;
        let (mut a, mut b) = (0.0, avail);
        let (mut fa, mut fb) = (phi(a), phi(b));
        if fa >= 0.0 {
            v1 = 0.0;
        } else {
            let mut side = 0i8;
            for _ in 0..60 {
                let c = (a * fb - b * fa) / (fb - fa);
                let fc = phi(c);
                if fc.abs() <= 1e-9 * avail.max(1.0) {
                    a = c;
                    b = c;
                    break;
                }
                if fc < 0.0 {
                    a = c;
                    fa = fc;
                    if side == -1 {
                        fb /= 2.0;
                    }
                    side = -1;
                } else {
                    b = c;
                    fb = fc;
                    if side == 1 {
                        fa /= 2.0;
                    }
                    side = 1;
                }
                if b - a <= 1e-9 * avail.max(1.0) {
                    break;
                }
            }
            v1 = 0.5 * (a + b);
        }
        let d1 = st.depth_at(v1.min(full));
        let mut total = 0.0;
        for &l in outs.iter().filter(|l| driven(l)) {
            let q = system.links[l].kind.flow_at_depth(d1) * settings[l];
            assigned[l] = q;
            total += q;
        }
        // Make the balance exact.
        v1 = (avail - total * dt).max(0.0);
    }
    let mut spill = 0.0;
    if v1 > full {
        spill = (v1 - full) / dt;
        v1 = full;
    }
    (v1, spill, 0.0)
}

/// The pumps of a storage unit for one step (they act on the depth at its start): sets
/// their flows in `assigned`; returns the volume left, m³.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pump_step(
    system: &System,
    outs: &[usize],
    v0: f64,
    d0: f64,
    q_in: f64,
    dt: f64,
    settings: &[f64],
    link_flow: &[f64],
    assigned: &mut [f64],
) -> f64 {
    let avail = v0 + q_in * dt;
    let mut pump_total = 0.0;
    for &l in outs {
        if let LinkKind::Pump { curve, .. } = &system.links[l].kind {
            let rate = pump_rate(curve, v0, d0, q_in, link_flow) * settings[l];
            assigned[l] = rate.max(0.0);
            pump_total += assigned[l];
        }
    }
    if pump_total * dt > avail && pump_total > 0.0 {
        let f = avail / (pump_total * dt);
        for &l in outs {
            if matches!(system.links[l].kind, LinkKind::Pump { .. }) {
                assigned[l] *= f;
            }
        }
        pump_total = avail / dt;
    }
    (avail - pump_total * dt).max(0.0)
}

/// A pump's rate by its curve at the start of a step (before its setting), m³/s.
pub(crate) fn pump_rate(curve: &PumpCurve, v0: f64, d0: f64, q_in: f64, link_flow: &[f64]) -> f64 {
    match curve {
        PumpCurve::Ideal => q_in,
        PumpCurve::Constant(r) => *r,
        PumpCurve::VolumeSteps(t) => step_lookup(t, v0),
        PumpCurve::DepthSteps(t) => step_lookup(t, d0),
        PumpCurve::Depth(t) => interpolate(t, d0),
        PumpCurve::Spare {
            rate,
            watch,
            capacity,
        } => rate.min((capacity - link_flow[*watch]).max(0.0)),
    }
}

/// [`pump_step`] of a tank with no inflow, given its pumps (`pumps`: in the order of its
/// outgoing links, with their curves): the same arithmetic, without visiting its other
/// links.
#[allow(clippy::too_many_arguments)]
pub(crate) fn drain_pump_step(
    pumps: &[(usize, &PumpCurve)],
    v0: f64,
    d0: f64,
    dt: f64,
    settings: &[f64],
    link_flow: &[f64],
    assigned: &mut [f64],
) -> f64 {
    let q_in = 0.0;
    let avail = v0 + q_in * dt;
    let mut pump_total = 0.0;
    for &(l, curve) in pumps {
        let rate = pump_rate(curve, v0, d0, q_in, link_flow) * settings[l];
        assigned[l] = rate.max(0.0);
        pump_total += assigned[l];
    }
    if pump_total * dt > avail && pump_total > 0.0 {
        let f = avail / (pump_total * dt);
        for &(l, _) in pumps {
            assigned[l] *= f;
        }
        pump_total = avail / dt;
    }
    (avail - pump_total * dt).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::NodeKind;

    #[test]
    fn draining_pumps_step_as_the_storage_step_does() {
        // tests/swmm/tank.inp: T1 with pump P1 (PUMP4 curve) and an overflow weir.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/swmm/tank.inp");
        let system = crate::load(&path).expect("tank.inp loads");
        let (node, _) = system.storages().next().expect("a storage unit");
        let outs: Vec<usize> = (0..system.links.len())
            .filter(|&l| system.links[l].from == node)
            .collect();
        let pumps: Vec<(usize, &PumpCurve)> = outs
            .iter()
            .filter_map(|&l| match &system.links[l].kind {
                LinkKind::Pump { curve, .. } => Some((l, curve)),
                _ => None,
            })
            .collect();
        assert_eq!(pumps.len(), 1);
        let NodeKind::Storage(st) = &system.nodes[node].kind else {
            unreachable!("a storage node")
        };
        let settings = vec![1.0; system.links.len()];
        let link_flow = vec![0.0; system.links.len()];
        let dt = 60.0;
        // Full, part full, and a last step that empties the tank (the pumps are scaled).
        for v0 in [st.full_volume(), 1234.5, 3.3, 1e-3] {
            let d0 = st.depth_at(v0);
            let mut a = vec![0.0; system.links.len()];
            let mut b = vec![0.0; system.links.len()];
            let va = pump_step(
                &system, &outs, v0, d0, 0.0, dt, &settings, &link_flow, &mut a,
            );
            let vb = drain_pump_step(&pumps, v0, d0, dt, &settings, &link_flow, &mut b);
            assert_eq!(va.to_bits(), vb.to_bits(), "volume from {v0}");
            let (p, _) = pumps[0];
            assert_eq!(a[p].to_bits(), b[p].to_bits(), "pump flow from {v0}");
            assert!(a[p] > 0.0 && va < v0, "the pump drains from {v0}");
        }
    }
}
