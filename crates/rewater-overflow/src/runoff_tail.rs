//! The steps of a plain subcatchment's run after rain (退水): no rain falls, but water is
//! still on the surface (the run is not at rest). The impervious sub-areas can then only
//! recede, so their step is the recession's alone; the pervious one takes the general
//! step. These are about 40 % of the steps with runoff (an event's recession lasts hours
//! after its rain). [`Tail::run`] takes them with the general step's own operations, in
//! the same order, only without its branches for rain, run-on and routing between
//! sub-areas and without the sums of exact zeros (an infiltration or rain volume of +0
//! added to a total changes no bit), so the runoff and every balance figure are the same
//! to the bit (the runoff module's test of the plain against the general loop checks it
//! over a year).

use super::{EvapWindow, Forcing, InfilState, RunoffBalance, SubArea};
use crate::series::SparseSeries;

/// What the steps read besides the run's state.
pub(super) struct Tail<'a> {
    pub(super) forcing: &'a Forcing,
    pub(super) evap: &'a EvapWindow,
    pub(super) area_m2: &'a [f64; 3],
    pub(super) dt: f64,
    pub(super) swmm_outflow: bool,
}

impl Tail<'_> {
    /// Take the steps from `step` before `to` (no rain falls in them) while the state is
    /// the one described in the module; returns the first step not taken (`step`: none).
    pub(super) fn run(
        &self,
        areas: &mut [SubArea; 3],
        infil: &mut InfilState,
        bal: &mut RunoffBalance,
        step: usize,
        to: usize,
        out: &mut SparseSeries,
    ) -> usize {
        let dt = self.dt;
        let grid = &self.forcing.evap;
        let mut s = step;
        while s < to {
            let [a0, a1, a2] = &mut *areas;
            // At rest (the general loop skips to the next rain from here).
            if a2.depth == 0.0 && a0.depth <= a0.ds && a1.depth <= a1.ds {
                break;
            }
            // No rain: precipitation +0, so the dry-only option never applies.
            let evap_rate = (self.evap.at(grid, s + 1) - self.evap.at(grid, s)) / dt;
            // (A rounding below zero, or not a number: the general step's.)
            if evap_rate.is_nan() || evap_rate < 0.0 {
                break;
            }
            let mut sub_released = [0.0f64; 3];
            for (k, a) in [a0, a1].into_iter().enumerate() {
                if a.frac <= 0.0 {
                    continue;
                }
                let area = self.area_m2[k];
                let (inflow, infil_rate) = (0.0, 0.0);
                let surf_evap = (a.depth / dt).min(evap_rate);
                let moisture = a.depth / dt + inflow;
                let evap_used;
                if surf_evap + infil_rate >= moisture {
                    let total = surf_evap + infil_rate;
                    let share = if total > 0.0 { moisture / total } else { 0.0 };
                    evap_used = surf_evap * share;
                    a.depth = 0.0;
                } else {
                    evap_used = surf_evap;
                    sub_released[k] =
                        recede(a, inflow - surf_evap - infil_rate, dt, self.swmm_outflow) * area;
                }
                bal.evaporation_m3 += evap_used * dt * area;
            }
            let a = &mut areas[2];
            if a.frac > 0.0 {
                // The general step of a dry pervious sub-area, in full.
                let area = self.area_m2[2];
                let inflow = 0.0;
                let surf_evap = (a.depth / dt).min(evap_rate);
                let infil_rate = infil.rate(dt, inflow, a.depth);
                let (evap_used, infil_used, released) =
                    a.lose_and_flow(inflow, surf_evap, infil_rate, dt, self.swmm_outflow);
                if let Some(r) = released {
                    sub_released[2] = r * area;
                }
                bal.evaporation_m3 += evap_used * dt * area;
                bal.infiltration_m3 += infil_used * dt * area;
            }
            let released_m3: f64 = sub_released.iter().sum();
            bal.runoff_m3 += released_m3;
            out.push(s, released_m3 / dt);
            s += 1;
        }
        s
    }
}

/// [`SubArea::advance`] for a net inflow `ix` ≤ 0 from a depth at or above depression
/// storage: the same operations (its rising branch cannot apply).
#[inline(always)]
fn recede(a: &mut SubArea, ix: f64, dt: f64, swmm_outflow: bool) -> f64 {
    let ds = a.ds;
    if a.depth + ix * dt <= ds {
        a.depth = (a.depth + ix * dt).max(0.0);
        return 0.0;
    }
    // The depth is not below depression storage, so the whole step is overland.
    let t = dt;
    let x0 = a.depth - ds;
    let x1 = if a.alpha > 0.0 {
        super::recede(x0, ix, a.alpha, t, &mut a.overland)
    } else {
        0.0
    };
    a.release(ix, t, x0, x1, dt, swmm_outflow)
}
