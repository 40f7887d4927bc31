//! A dynamic-wave run over the routing clock: each clock step takes its lateral inflows
//! and control rules from [`crate::route`], is routed in dynamic-wave steps (the file's
//! ROUTING_STEP, or variable steps), and reports the mean flows of the clock step.

use super::solver::Solver;
use super::Hydraulics;
use crate::network::{NodeKind, System};
use crate::route::{Observer, RoutingBalance, Runoff, State, StepView};

/// Route the system by dynamic wave through the whole clock, reporting each clock step.
#[allow(clippy::needless_range_loop)] // nodes are indexed across several arrays
pub fn route(
    system: &System,
    h: &Hydraulics,
    runoff: &Runoff,
    observer: &mut impl Observer,
) -> RoutingBalance {
    let mut st = State::new(system, runoff, None);
    let mut dw = Solver::new(system, h);
    let (nodes0, conduits0) = dw.stored();
    st.bal.initial_storage_m3 = nodes0 + conduits0;
    let outer = system.clock.step_s as f64;
    let n = system.nodes.len();
    let mut out_m3 = vec![0.0; n];
    let mut reverse_m3 = 0.0;
    // Lateral inflow changes linearly from one clock step's to the next's within the step,
    // as SWMM interpolates runoff between its runoff times.
    let mut lat_prev = vec![0.0; n];
    let mut lat = vec![0.0; n];
    for step in 0..system.clock.steps {
        let t = system.clock.time(step);
        let (runoff_in, dwf_in) = st.lateral_inflows(step, t);
        if step == 0 {
            lat_prev.copy_from_slice(&st.lateral);
        }
        st.controls(t);
        out_m3.iter_mut().for_each(|v| *v = 0.0);
        let mut done = 0.0;
        while done < outer - 1e-9 {
            let want = dw.variable_step(h.options.routing_step_s);
            let mut dt = want.min(outer - done);
            // No sliver of a step at the end of a clock step.
            if outer - done - dt < 0.01 * want {
                dt = outer - done;
            }
            let f = (done + dt) / outer;
            for i in 0..n {
                lat[i] = lat_prev[i] + (st.lateral[i] - lat_prev[i]) * f;
            }
            dw.step(dt, &lat, &st.settings, t as f64 + done + dt);
            for i in 0..n {
                let node = &dw.nodes[i];
                if dw.is_outfall[i] {
                    let q = node.inflow - node.outflow;
                    if q >= 0.0 {
                        out_m3[i] += q * dt;
                    } else {
                        reverse_m3 -= q * dt;
                    }
                } else if node.overflow > 0.0 {
                    st.bal.flooding_m3[i] += node.overflow * dt;
                }
            }
            done += dt;
        }
        for i in 0..n {
            st.bal.outfall_m3[i] += out_m3[i];
            st.inflow[i] = if dw.is_outfall[i] {
                out_m3[i] / outer
            } else {
                dw.nodes[i].inflow
            };
            st.depth[i] = dw.nodes[i].depth;
            if matches!(system.nodes[i].kind, NodeKind::Storage(_)) {
                st.volume[i] = dw.nodes[i].volume;
            }
        }
        st.link_flow.copy_from_slice(&dw.q);
        lat_prev.copy_from_slice(&st.lateral);
        observer.observe(&StepView {
            step,
            time_s: t,
            node_inflow: &st.inflow,
            node_volume: &st.volume,
            node_depth: &st.depth,
            system_inflow: runoff_in + dwf_in,
            runoff_inflow: runoff_in,
        });
    }
    let mut bal = st.bal;
    // Water drawn in backwards through an outfall counts as external inflow.
    bal.external_m3 += reverse_m3;
    let (nodes1, conduits1) = dw.stored();
    bal.final_storage_m3 = nodes1;
    bal.in_sewers_m3 = conduits1;
    bal
}
