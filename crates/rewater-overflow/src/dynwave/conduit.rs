//! The momentum equation of one conduit (SWMM 5's dynamic-wave link update, Hydraulics
//! Reference Manual Vol. II, ch. 4): the St Venant momentum equation written for the
//! flow at the conduit's midpoint with the heads at its two end nodes,
//!
//! Q = (Q_old − ΔQ_gravity + ΔQ_inertia1 + ΔQ_inertia2) / (1 + ΔQ_friction + ΔQ_losses),
//!
//! friction g·n²·|V| / R^(4/3)·Δt, gravity g·Ā·(H₂ − H₁)/L·Δt, the inertial terms
//! 2V(Ā − Ā_old) + V²(A₂ − A₁)/L·Δt damped by σ (1 below Froude ½, 0 above 1 under
//! PARTIAL damping), upstream weighting of area and radius, the flow class of each end
//! (dry, critical at a free fall) deciding the depths used and how the conduit's water
//! surface is shared between its end nodes, the normal-flow limit, under-relaxation
//! between iterations and no change of direction without passing through zero.

use super::{Damping, DwConduit, FlowClass, NormalFlowLimit};
use crate::network::G;

/// Smallest depth or area counted as water (SWMM's FUDGE is 0.0001 ft).
pub const FUDGE: f64 = 0.0001 * 0.3048;
const MAX_VELOCITY: f64 = 50.0 * 0.3048;

/// What the conduit's solution needs from its end nodes and the run.
pub struct Ends {
    /// Heads at the two end nodes (elevations), m.
    pub h1: f64,
    pub h2: f64,
    /// Invert elevations of the conduit's two ends (node invert + offset), m.
    pub z1: f64,
    pub z2: f64,
    /// Depth of water at each end node, m.
    pub node_y1: f64,
    pub node_y2: f64,
    /// Offsets above each end node (for an outfall, above its water surface).
    pub off1: f64,
    pub off2: f64,
    /// Either end is an outfall.
    pub at_outfall: bool,
}

/// The state of one conduit between and within steps (per barrel).
#[derive(Debug, Clone, Default)]
pub struct ConduitState {
    /// Flow at the end of the last step and of the last iteration, m³/s per barrel.
    pub q_old: f64,
    pub q: f64,
    /// Midpoint area of the last iteration, and at the end of the last step.
    pub a_mid: f64,
    pub a_old: f64,
    pub class: FlowClass,
    pub froude: f64,
    /// d(flow)/d(head) for the node surcharge update (all barrels).
    pub dqdh: f64,
    /// Water surface the conduit lends each end node (all barrels), m².
    pub surf1: f64,
    pub surf2: f64,
    /// Water held, m³ (all barrels).
    pub volume: f64,
    /// Area at the two ends (for the full-state test).
    pub a1: f64,
    pub a2: f64,
}

/// Run-wide choices the momentum update reads.
pub struct Settings {
    pub damping: Damping,
    pub normal_flow: NormalFlowLimit,
    pub slot: bool,
}

impl DwConduit {
    /// Classify the flow from the depths at both ends; returns the class and, where an end
    /// is at critical depth, the depth used there (normal or critical, whichever is less),
    /// and the fraction of the downstream half's surface given to the downstream node.
    fn flow_class(&self, q: f64, y1: f64, y2: f64, e: &Ends) -> (FlowClass, f64, f64) {
        let both = || {
            let yn = self.normal_depth(q.abs());
            let yc = self.section.critical_depth(q.abs());
            (yn, yc)
        };
        if y1 >= self.section.y_full && y2 >= self.section.y_full {
            return (FlowClass::Subcritical, 0.0, 1.0);
        }
        if y1 > FUDGE && y2 > FUDGE {
            if q < 0.0 {
                if e.off1 > 0.0 {
                    let (yn, yc) = both();
                    if y1 < yn.min(yc) {
                        return (FlowClass::UpCritical, yn.min(yc), 1.0);
                    }
                }
            } else if e.off2 > 0.0 {
                let (yn, yc) = both();
                let (lo, hi) = (yn.min(yc), yn.max(yc));
                if y2 < lo {
                    return (FlowClass::DnCritical, lo, 1.0);
                } else if y2 < hi {
                    let f = if hi - lo < FUDGE {
                        0.0
                    } else {
                        (hi - y2) / (hi - lo)
                    };
                    return (FlowClass::Subcritical, 0.0, f);
                }
            }
            return (FlowClass::Subcritical, 0.0, 1.0);
        }
        if y1 <= FUDGE && y2 <= FUDGE {
            return (FlowClass::Dry, 0.0, 1.0);
        }
        if y2 > FUDGE {
            if e.h2 < e.z1 {
                return (FlowClass::UpDry, 0.0, 1.0);
            }
            if e.off1 > 0.0 {
                let (yn, yc) = both();
                return (FlowClass::UpCritical, yn.min(yc), 1.0);
            }
            return (FlowClass::Subcritical, 0.0, 1.0);
        }
        if e.h1 < e.z2 {
            return (FlowClass::DnDry, 0.0, 1.0);
        }
        if e.off2 > 0.0 {
            let (yn, yc) = both();
            return (FlowClass::DnCritical, yn.min(yc), 1.0);
        }
        (FlowClass::Subcritical, 0.0, 1.0)
    }

    /// Normal depth for flow `q` per barrel.
    pub fn normal_depth(&self, q: f64) -> f64 {
        if self.beta <= 0.0 {
            return 0.0;
        }
        let s = (q / self.beta).min(self.section.s_max());
        self.section.depth_of_sfac(s)
    }

    /// One iteration of the conduit's momentum equation. `trial` counts the iterations
    /// of this step (0: none yet), `omega` the under-relaxation weight.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &self,
        st: &mut ConduitState,
        e: &mut Ends,
        setting: f64,
        trial: usize,
        omega: f64,
        dt: f64,
        cfg: &Settings,
    ) {
        let sec = &self.section;
        let barrels = self.barrels;
        let length = self.mod_length;
        e.h1 = e.h1.max(e.z1);
        e.h2 = e.h2.max(e.z2);
        let mut y1 = (e.h1 - e.z1).max(FUDGE);
        let mut y2 = (e.h2 - e.z2).max(FUDGE);
        if !cfg.slot {
            y1 = y1.min(sec.y_full);
            y2 = y2.min(sec.y_full);
        }
        let a_old = st.a_old.max(FUDGE);
        let q_last = st.q;
        // Flow class and the conduit's water surface lent to its end nodes.
        let (class, y_crit_end, fasnh) = self.flow_class(q_last, y1, y2, e);
        st.class = class;
        let w = |y: f64| sec.top_width(y, cfg.slot);
        let mid = |a: f64, b: f64| (0.5 * (a + b)).max(FUDGE);
        let (s1, s2) = match class {
            FlowClass::Subcritical | FlowClass::Supercritical => {
                let ym = mid(y1, y2);
                (
                    (w(y1) + w(ym)) * length / 4.0,
                    (w(ym) + w(y2)) * length / 4.0 * fasnh,
                )
            }
            FlowClass::UpCritical => {
                y1 = y_crit_end.max(FUDGE);
                e.h1 = e.z1 + y1;
                let ym = mid(y1, y2);
                (0.0, (w(ym) + w(y2)) * length * 0.5)
            }
            FlowClass::DnCritical => {
                y2 = y_crit_end.max(FUDGE);
                e.h2 = e.z2 + y2;
                let ym = mid(y1, y2);
                ((w(y1) + w(ym)) * length * 0.5, 0.0)
            }
            FlowClass::UpDry => {
                y1 = FUDGE;
                let ym = mid(y1, y2);
                let s1 = if e.off1 <= 0.0 {
                    (w(y1) + w(ym)) * length / 4.0
                } else {
                    0.0
                };
                (s1, (w(ym) + w(y2)) * length / 4.0)
            }
            FlowClass::DnDry => {
                y2 = FUDGE;
                let ym = mid(y1, y2);
                let s2 = if e.off2 <= 0.0 {
                    (w(y2) + w(ym)) * length / 4.0
                } else {
                    0.0
                };
                ((w(ym) + w(y1)) * length / 4.0, s2)
            }
            FlowClass::Dry => (FUDGE * length / 2.0, FUDGE * length / 2.0),
        };
        st.surf1 = s1 * barrels;
        st.surf2 = s2 * barrels;
        let area = |y: f64| sec.slot_area(y, sec.slot_width(y, cfg.slot));
        let a1 = area(y1);
        let a2 = area(y2);
        let r1 = sec.radius(y1);
        let y_mid = 0.5 * (y1 + y2);
        let a_mid = area(y_mid);
        let r_mid = sec.radius(y_mid);
        st.a1 = a1;
        st.a2 = a2;
        let is_full = y1 >= sec.y_full && y2 >= sec.y_full;
        let real_length = self.length_m;
        if matches!(class, FlowClass::Dry | FlowClass::UpDry | FlowClass::DnDry)
            || setting <= 0.0
            || a_mid <= FUDGE
        {
            st.a_mid = 0.5 * (a1 + a2);
            st.q = 0.0;
            st.dqdh = G * dt * a_mid / length * barrels;
            st.froude = 0.0;
            st.volume = st.a_mid * real_length * barrels;
            return;
        }
        let mut v = q_last / a_mid;
        if v.abs() > MAX_VELOCITY {
            v = MAX_VELOCITY * v.signum();
        }
        st.froude = froude(sec, v, y_mid);
        if st.class == FlowClass::Subcritical && st.froude > 1.0 {
            st.class = FlowClass::Supercritical;
        }
        let mut sigma = if st.froude <= 0.5 {
            1.0
        } else if st.froude >= 1.0 {
            0.0
        } else {
            2.0 * (1.0 - st.froude)
        };
        let rho = if !is_full && q_last > 0.0 && e.h1 >= e.h2 {
            sigma
        } else {
            1.0
        };
        let a_wtd = a1 + (a_mid - a1) * rho;
        let r_wtd = r1 + (r_mid - r1) * rho;
        match cfg.damping {
            Damping::None => sigma = 1.0,
            Damping::Full => sigma = 0.0,
            Damping::Partial => {}
        }
        if is_full && sec.closed {
            sigma = 0.0;
        }
        let dq1 = match &self.force_main {
            Some(fm) if is_full => dt * fm.friction(v.abs(), r_mid),
            _ => dt * self.rough_factor / r_wtd.max(FUDGE).powf(4.0 / 3.0) * v.abs(),
        };
        let dq2 = dt * G * a_wtd * (e.h2 - e.h1) / length;
        let (dq3, dq4) = if sigma > 0.0 {
            (
                2.0 * v * (a_mid - a_old) * sigma,
                dt * v * v * (a2 - a1) / length * sigma,
            )
        } else {
            (0.0, 0.0)
        };
        let dq5 = if self.has_losses() {
            let qa = q_last.abs();
            let mut l = 0.0;
            if a1 > FUDGE {
                l += self.loss_inlet * qa / a1;
            }
            if a2 > FUDGE {
                l += self.loss_outlet * qa / a2;
            }
            if a_mid > FUDGE {
                l += self.loss_avg * qa / a_mid;
            }
            l / 2.0 / length * dt
        } else {
            0.0
        };
        let denom = 1.0 + dq1 + dq5;
        let mut q = (st.q_old - dq2 + dq3 + dq4) / denom;
        st.dqdh = 1.0 / denom * G * dt * a_wtd / length * barrels;
        if q > 0.0
            && cfg.normal_flow != NormalFlowLimit::Neither
            && y1 < sec.y_full
            && matches!(st.class, FlowClass::Subcritical | FlowClass::Supercritical)
        {
            q = self.limit_to_normal(q, y1, y2, a1, r1, e.at_outfall, cfg.normal_flow);
        }
        if trial > 0 {
            q = (1.0 - omega) * q_last + omega * q;
            if q * q_last < 0.0 {
                q = 0.001 * q.signum();
            }
        }
        if self.q_limit > 0.0 && q.abs() > self.q_limit / barrels {
            q = q.signum() * self.q_limit / barrels;
        }
        if q > FUDGE && e.node_y1 <= FUDGE {
            q = FUDGE;
        }
        if q < -FUDGE && e.node_y2 <= FUDGE {
            q = -FUDGE;
        }
        st.a_mid = a_mid;
        st.q = q;
        st.volume = 0.5 * (a1 + a2) * real_length * barrels;
    }

    /// SWMM's normal-flow limitation: when the water surface slopes less than the
    /// conduit (SLOPE, and always next to an outfall) or the upstream end is
    /// supercritical (FROUDE), the flow is at most the normal flow of the upstream area.
    #[allow(clippy::too_many_arguments)]
    fn limit_to_normal(
        &self,
        q: f64,
        y1: f64,
        y2: f64,
        a1: f64,
        r1: f64,
        at_outfall: bool,
        how: NormalFlowLimit,
    ) -> f64 {
        let mut check = false;
        if matches!(how, NormalFlowLimit::Slope | NormalFlowLimit::Both) || at_outfall {
            check = y1 < y2;
        }
        if !check
            && matches!(how, NormalFlowLimit::Froude | NormalFlowLimit::Both)
            && !at_outfall
            && y1 > FUDGE
            && y2 > FUDGE
            && froude(&self.section, q / a1, y1) >= 1.0
        {
            check = true;
        }
        if check {
            let q_norm = self.beta * a1 * r1.powf(2.0 / 3.0);
            if q_norm < q {
                return q_norm;
            }
        }
        q
    }
}

/// Froude number at velocity `v` and depth `y` (hydraulic depth A/T; a full closed
/// conduit has none).
pub fn froude(sec: &super::section::Section, v: f64, y: f64) -> f64 {
    if sec.closed && y >= sec.y_full {
        return 0.0;
    }
    let y = y.min(sec.y_full);
    let w = sec.width(y);
    if w <= 0.0 {
        return 0.0;
    }
    let hd = sec.area(y) / w;
    if hd <= FUDGE {
        return 0.0;
    }
    v.abs() / (G * hd).sqrt()
}
