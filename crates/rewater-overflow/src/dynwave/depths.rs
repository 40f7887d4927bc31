//! Node continuity within an iteration: outfall stages from the flow of the link that
//! feeds them, each other node's new depth from its net inflow over its surface area (or,
//! surcharged, from its links' dQ/dH), flooding and ponding; and SWMM's variable step.

use super::conduit::FUDGE;
use super::solver::Solver;
use super::OutfallStage;
use crate::network::{interpolate, NodeKind};

impl Solver<'_> {
    /// Outfall depths, then every other node's; true when no node's depth moved by more
    /// than the head tolerance in this iteration.
    pub(super) fn node_depths(&mut self, dt: f64, trial: usize, t_s: f64) -> bool {
        for k in 0..self.outfall_links.len() {
            let j = self.outfall_links[k];
            self.set_outfall_depth(j, t_s);
        }
        let tol = self.h.options.head_tol_m;
        let mut all = true;
        for i in 0..self.nodes.len() {
            if self.is_outfall[i] {
                continue;
            }
            let before = self.nodes[i].depth;
            self.set_node_depth(i, dt, trial);
            let ok = (before - self.nodes[i].depth).abs() <= tol;
            self.nodes[i].converged = ok;
            all &= ok;
        }
        all
    }

    /// The water level at the outfall end of link `j` from its flow (SWMM's rules for
    /// FREE, NORMAL, FIXED, TIDAL and TIMESERIES outfalls).
    pub(super) fn set_outfall_depth(&mut self, j: usize, t_s: f64) {
        let l = &self.sys.links[j];
        let d = &self.h.links[j];
        let (n, z) = if self.is_outfall[l.to] {
            (l.to, d.offset2_m)
        } else {
            (l.from, d.offset1_m)
        };
        let (y_norm, y_crit) = match &d.conduit {
            Some(c) => {
                let q = (self.q[j] / c.barrels).abs();
                (c.normal_depth(q), c.section.critical_depth(q))
            }
            None => (0.0, 0.0),
        };
        let node = &self.h.nodes[n];
        let invert = node.invert_m;
        let stage = match &node.outfall {
            Some(OutfallStage::Free) | None => {
                self.nodes[n].depth = if z > 0.0 { 0.0 } else { y_norm.min(y_crit) };
                return;
            }
            Some(OutfallStage::Normal) => {
                self.nodes[n].depth = if z > 0.0 { 0.0 } else { y_norm };
                return;
            }
            Some(OutfallStage::Fixed(s)) => *s,
            Some(OutfallStage::Tidal(curve)) => {
                let first = curve.first().map_or(0.0, |p| p.0);
                let hour = t_s.rem_euclid(86_400.0) / 3600.0;
                interpolate(curve, first + hour)
            }
            Some(OutfallStage::Series(points)) => series_at(points, t_s),
        };
        let y_crit = y_crit.min(y_norm);
        let y = if y_crit + z + invert < stage {
            stage - invert
        } else if z > 0.0 {
            if stage < invert + z {
                (stage - invert).max(0.0)
            } else {
                z + y_crit
            }
        } else {
            y_crit
        };
        self.nodes[n].depth = y;
    }

    /// New depth of a non-outfall node (SWMM's `setNodeDepth`).
    fn set_node_depth(&mut self, i: usize, dt: f64, trial: usize) {
        let hd = &self.h.nodes[i];
        let full = self.full_depth[i];
        let can_pond = self.h.options.allow_ponding && hd.ponded_m2 > 0.0;
        let n = &self.nodes[i];
        let is_ponded = can_pond && n.depth > full;
        let y_crown = self.crown[i];
        let y_old = n.depth_old;
        let y_last = n.depth;
        let surf = n.surf.max(self.h.options.min_surf_area_m2);
        let dq = n.inflow - n.outflow;
        let dv = 0.5 * (n.net_old + dq) * dt;
        let storage = matches!(self.sys.nodes[i].kind, NodeKind::Storage(_));
        let surcharged = !self.h.options.slot
            && !is_ponded
            && if storage {
                hd.sur_depth_m > 0.0 && y_last > full
            } else {
                y_crown > 0.0 && y_last > y_crown
            };
        let omega = super::solver::OMEGA;
        let mut y_new;
        if !surcharged {
            y_new = y_old + dv / surf;
            if !is_ponded {
                self.nodes[i].surf_old = surf;
            }
            if trial > 0 {
                y_new = (1.0 - omega) * y_last + omega * y_new;
            }
            if is_ponded && y_new < full {
                y_new = full - FUDGE;
            }
        } else {
            let corr = if self.upstream_terminal[i] { 0.6 } else { 1.0 };
            let mut denom = n.sumdqdh;
            if y_last < 1.25 * y_crown {
                let f = (y_last - y_crown) / y_crown;
                denom += (n.surf_old / dt - n.sumdqdh) * (-15.0 * f).exp();
            }
            let dy = if denom == 0.0 { 0.0 } else { corr * dq / denom };
            y_new = y_last + dy;
            if y_new < y_crown {
                y_new = y_crown - FUDGE;
            }
            if can_pond && y_new > full {
                y_new = full + FUDGE;
            }
        }
        y_new = y_new.max(0.0);
        let y_max = if can_pond {
            full
        } else {
            full + hd.sur_depth_m
        };
        let n_volume_old = self.nodes[i].volume_old;
        let mut overflow = 0.0;
        let volume;
        if y_new > y_max {
            let full_volume = self.node_volume(i, full);
            if !can_pond {
                overflow = dv / dt;
                volume = full_volume;
                y_new = y_max;
            } else {
                volume = (n_volume_old + dv).max(full_volume);
                overflow = (volume - n_volume_old.max(full_volume)) / dt;
            }
            if overflow < FUDGE {
                overflow = 0.0;
            }
        } else {
            volume = self.node_volume(i, y_new);
        }
        let n = &mut self.nodes[i];
        n.overflow = overflow;
        n.volume = volume;
        n.dydt = (y_new - y_old).abs() / dt;
        n.depth = y_new;
    }

    /// The next variable step (SWMM's `getVariableStep`): the Courant time of the
    /// fastest conduit, and the time for any node to change by a quarter of its crown
    /// depth, within [MINIMUM_STEP, `max_step`], in whole milliseconds.
    pub(super) fn variable_step(&mut self, max_step: f64) -> f64 {
        let o = &self.h.options;
        if o.courant <= 0.0 || max_step < 0.5 {
            return max_step;
        }
        if self.var_step == 0.0 {
            self.var_step = o.min_step_s.min(max_step);
            return self.var_step;
        }
        let mut t_min = max_step;
        for (j, st) in self.conduits.iter().enumerate() {
            let Some(c) = &self.h.links[j].conduit else {
                continue;
            };
            let q = (st.q).abs();
            if q <= FUDGE || st.a_mid <= FUDGE || st.froude <= 0.01 {
                continue;
            }
            let mut t = st.volume / c.barrels / q;
            t *= c.mod_length / c.length_m;
            t *= st.froude / (1.0 + st.froude) * o.courant;
            t_min = t_min.min(t);
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if self.is_outfall[i] || n.depth <= FUDGE || n.depth + FUDGE >= self.crown[i] {
                continue;
            }
            let max_dy = self.crown[i] * 0.25;
            if max_dy < FUDGE || n.dydt < FUDGE {
                continue;
            }
            t_min = t_min.min(max_dy / n.dydt);
        }
        let t = t_min.max(o.min_step_s).min(max_step);
        self.var_step = (1000.0 * t).floor() / 1000.0;
        self.var_step.max(0.001)
    }
}

/// A stage time series at `t` (linear between points, the end values outside them).
fn series_at(points: &[(i64, f64)], t: f64) -> f64 {
    let i = points.partition_point(|p| (p.0 as f64) <= t);
    match (i, points.len()) {
        (_, 0) => 0.0,
        (0, _) => points[0].1,
        (i, n) if i >= n => points[n - 1].1,
        (i, _) => {
            let ((t0, v0), (t1, v1)) = (points[i - 1], points[i]);
            v0 + (v1 - v0) * (t - t0 as f64) / (t1 - t0) as f64
        }
    }
}
