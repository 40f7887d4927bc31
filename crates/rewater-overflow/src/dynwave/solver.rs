//! The dynamic-wave step: iterations of link flows and node depths within a routing
//! step, outfall stages, surcharge and flooding, the variable step, and the run over the
//! routing clock (lateral inflows, control rules and the balance are the common ones of
//! [`crate::route`]).

use super::conduit::{ConduitState, Ends, Settings, FUDGE};
use super::Hydraulics;
use crate::network::{
    interpolate, step_lookup, LinkKind, NodeKind, PumpCurve, System, WeirShape, G,
};

/// Under-relaxation weight between iterations (SWMM's OMEGA).
pub(super) const OMEGA: f64 = 0.5;

/// The state of every node.
#[derive(Debug, Clone, Default)]
pub(super) struct NodeState {
    pub(super) depth: f64,
    pub(super) depth_old: f64,
    pub(super) volume: f64,
    pub(super) volume_old: f64,
    /// Inflow − outflow at the end of the last step, m³/s.
    pub(super) net_old: f64,
    pub(super) inflow: f64,
    pub(super) outflow: f64,
    pub(super) surf: f64,
    /// Surface area when last not surcharged.
    pub(super) surf_old: f64,
    pub(super) sumdqdh: f64,
    pub(super) overflow: f64,
    pub(super) dydt: f64,
    pub(super) converged: bool,
}

/// The dynamic-wave solver over a system.
pub(super) struct Solver<'a> {
    pub(super) sys: &'a System,
    pub(super) h: &'a Hydraulics,
    pub(super) nodes: Vec<NodeState>,
    pub(super) conduits: Vec<ConduitState>,
    /// Flow in every link (all barrels), this iteration and at the end of the last step.
    pub(super) q: Vec<f64>,
    pub(super) dqdh: Vec<f64>,
    pub(super) bypassed: Vec<bool>,
    /// Depth from each node's invert to the crown of its highest link.
    pub(super) crown: Vec<f64>,
    pub(super) full_depth: Vec<f64>,
    /// Nodes with no link flowing in (SWMM damps their surcharge correction).
    pub(super) upstream_terminal: Vec<bool>,
    /// Links with an outfall at one end.
    pub(super) outfall_links: Vec<usize>,
    pub(super) is_outfall: Vec<bool>,
    pub(super) settings: Settings,
    /// The last variable step, s (0 before the first).
    pub(super) var_step: f64,
}

impl<'a> Solver<'a> {
    pub(super) fn new(sys: &'a System, h: &'a Hydraulics) -> Solver<'a> {
        let n = sys.nodes.len();
        let mut crown = vec![0.0f64; n];
        let mut full_depth: Vec<f64> = h.nodes.iter().map(|d| d.full_depth_m).collect();
        let mut has_inflow = vec![false; n];
        for (i, l) in sys.links.iter().enumerate() {
            let d = &h.links[i];
            crown[l.from] = crown[l.from].max(d.offset1_m + d.height_m);
            crown[l.to] = crown[l.to].max(d.offset2_m + d.height_m);
            has_inflow[l.to] = true;
            // A node is at least as deep as the crown of its links (SWMM), storage units
            // without a surcharge depth excepted; not for pumps and bottom orifices.
            let skip = matches!(
                l.kind,
                LinkKind::Pump { .. } | LinkKind::Orifice { bottom: true, .. }
            );
            let grows = |k: usize| {
                !matches!(sys.nodes[k].kind, NodeKind::Storage(_)) || h.nodes[k].sur_depth_m > 0.0
            };
            if !skip && grows(l.from) {
                full_depth[l.from] = full_depth[l.from].max(d.offset1_m + d.height_m);
            }
            if d.conduit.is_some() && grows(l.to) {
                full_depth[l.to] = full_depth[l.to].max(d.offset2_m + d.height_m);
            }
        }
        let is_outfall: Vec<bool> = h.nodes.iter().map(|d| d.outfall.is_some()).collect();
        let outfall_links = (0..sys.links.len())
            .filter(|&i| is_outfall[sys.links[i].to] || is_outfall[sys.links[i].from])
            .collect();
        let mut s = Solver {
            sys,
            h,
            nodes: vec![NodeState::default(); n],
            conduits: vec![ConduitState::default(); sys.links.len()],
            q: vec![0.0; sys.links.len()],
            dqdh: vec![0.0; sys.links.len()],
            bypassed: vec![false; sys.links.len()],
            crown,
            full_depth,
            upstream_terminal: has_inflow.iter().map(|&x| !x).collect(),
            outfall_links,
            is_outfall,
            settings: Settings {
                damping: h.options.damping,
                normal_flow: h.options.normal_flow,
                slot: h.options.slot,
            },
            var_step: 0.0,
        };
        s.init_states();
        s
    }

    /// Initial depths (given, else the mean of the conduits' ends, as SWMM) and volumes.
    fn init_states(&mut self) {
        for i in 0..self.nodes.len() {
            let y = self.h.nodes[i].init_depth_m;
            self.nodes[i].depth = y;
        }
        // Outfalls start at their stage (a fixed stage backs water into the last conduit).
        for k in 0..self.outfall_links.len() {
            let j = self.outfall_links[k];
            self.set_outfall_depth(j, self.sys.clock.start_s as f64);
        }
        for i in 0..self.nodes.len() {
            let y = self.nodes[i].depth;
            let v = self.node_volume(i, y);
            let n = &mut self.nodes[i];
            n.depth_old = y;
            n.volume = v;
            n.volume_old = v;
        }
        for (j, l) in self.sys.links.iter().enumerate() {
            let Some(c) = &self.h.links[j].conduit else {
                continue;
            };
            let d = &self.h.links[j];
            let y1 = (self.nodes[l.from].depth - d.offset1_m).clamp(0.0, c.section.y_full);
            let y2 = (self.nodes[l.to].depth - d.offset2_m).clamp(0.0, c.section.y_full);
            let a = c.section.area(0.5 * (y1 + y2));
            let st = &mut self.conduits[j];
            st.a_mid = a;
            st.a_old = a;
            st.volume = a * c.length_m * c.barrels;
        }
    }

    /// Water stored at a node at depth `y`: a storage unit's volume, ponded water above a
    /// junction (SWMM keeps no volume in a junction itself).
    pub(super) fn node_volume(&self, i: usize, y: f64) -> f64 {
        match &self.sys.nodes[i].kind {
            NodeKind::Storage(st) => st.volume_at(y.min(st.max_depth_m)),
            _ => {
                let full = self.full_depth[i];
                if self.h.options.allow_ponding && self.h.nodes[i].ponded_m2 > 0.0 && y > full {
                    (y - full) * self.h.nodes[i].ponded_m2
                } else {
                    0.0
                }
            }
        }
    }

    /// The node's own surface area at depth `y` (storage units; ponded area above a
    /// junction that may pond).
    fn node_area(&self, i: usize, y: f64) -> f64 {
        match &self.sys.nodes[i].kind {
            NodeKind::Storage(st) => storage_area(st, y),
            _ => {
                let d = &self.h.nodes[i];
                if self.h.options.allow_ponding && d.ponded_m2 > 0.0 && y > self.full_depth[i] {
                    d.ponded_m2
                } else {
                    0.0
                }
            }
        }
    }

    /// Total stored: nodes and conduits, m³.
    pub(super) fn stored(&self) -> (f64, f64) {
        let nodes = self.nodes.iter().map(|n| n.volume).sum();
        let conduits = self.conduits.iter().map(|c| c.volume).sum();
        (nodes, conduits)
    }

    /// One routing step of `dt` s with the given lateral inflow at each node (m³/s).
    /// Returns the number of iterations used.
    pub(super) fn step(&mut self, dt: f64, lateral: &[f64], settings: &[f64], t_s: f64) -> usize {
        for n in &mut self.nodes {
            n.converged = false;
            n.dydt = 0.0;
        }
        for c in &mut self.conduits {
            c.a_old = c.a_mid;
        }
        self.bypassed.iter_mut().for_each(|b| *b = false);
        let max_trials = self.h.options.max_trials.max(1);
        let mut trial = 0;
        while trial < max_trials {
            self.init_node_states(lateral);
            self.link_flows(dt, trial, settings);
            let converged = self.node_depths(dt, trial, t_s);
            trial += 1;
            if trial > 1 {
                if converged {
                    break;
                }
                for (j, l) in self.sys.links.iter().enumerate() {
                    self.bypassed[j] = self.nodes[l.from].converged && self.nodes[l.to].converged;
                }
            }
        }
        for n in &mut self.nodes {
            n.depth_old = n.depth;
            n.volume_old = n.volume;
            n.net_old = n.inflow - n.outflow;
        }
        for (j, c) in self.conduits.iter_mut().enumerate() {
            c.q_old = c.q;
            if let Some(cd) = &self.h.links[j].conduit {
                self.q[j] = c.q * cd.barrels;
            }
        }
        trial
    }

    #[allow(clippy::needless_range_loop)] // the node index also reads its area
    fn init_node_states(&mut self, lateral: &[f64]) {
        for i in 0..self.nodes.len() {
            let surf = self.node_area(i, self.nodes[i].depth);
            let n = &mut self.nodes[i];
            n.surf = surf;
            n.inflow = lateral[i].max(0.0);
            n.outflow = (-lateral[i]).max(0.0);
            n.sumdqdh = 0.0;
        }
    }

    /// New flows in every link, added to their end nodes.
    fn link_flows(&mut self, dt: f64, trial: usize, settings: &[f64]) {
        let sys = self.sys;
        for (j, l) in sys.links.iter().enumerate() {
            let Some(c) = &self.h.links[j].conduit else {
                continue;
            };
            if !self.bypassed[j] {
                let d = &self.h.links[j];
                let (n1, n2) = (l.from, l.to);
                let inv1 = self.h.nodes[n1].invert_m;
                let inv2 = self.h.nodes[n2].invert_m;
                let off = |k: usize, o: f64| {
                    if self.is_outfall[k] {
                        (o - self.nodes[k].depth).max(0.0)
                    } else {
                        o
                    }
                };
                let mut e = Ends {
                    h1: inv1 + self.nodes[n1].depth,
                    h2: inv2 + self.nodes[n2].depth,
                    z1: inv1 + d.offset1_m,
                    z2: inv2 + d.offset2_m,
                    node_y1: self.nodes[n1].depth,
                    node_y2: self.nodes[n2].depth,
                    off1: off(n1, d.offset1_m),
                    off2: off(n2, d.offset2_m),
                    at_outfall: self.is_outfall[n1] || self.is_outfall[n2],
                };
                let mut st = std::mem::take(&mut self.conduits[j]);
                c.update(
                    &mut st,
                    &mut e,
                    settings[j],
                    trial,
                    OMEGA,
                    dt,
                    &self.settings,
                );
                if (c.flap_gate && st.q < 0.0) || self.outfall_gate(j, st.q) {
                    st.q = 0.0;
                }
                self.q[j] = st.q * c.barrels;
                self.dqdh[j] = st.dqdh;
                self.conduits[j] = st;
            }
            let st = &self.conduits[j];
            let (s1, s2) = (st.surf1, st.surf2);
            self.add_to_nodes(j, s1, s2);
        }
        for (j, l) in sys.links.iter().enumerate() {
            if self.h.links[j].conduit.is_some() {
                continue;
            }
            if !self.bypassed[j] {
                let q_last = self.q[j];
                let (mut q, dqdh) = self.non_conduit_flow(j, settings[j], dt);
                if trial > 0 && !matches!(l.kind, LinkKind::Pump { .. }) {
                    q = (1.0 - OMEGA) * q_last + OMEGA * q;
                    if q * q_last < 0.0 {
                        q = 0.001 * q.signum();
                    }
                }
                if self.outfall_gate(j, q) {
                    q = 0.0;
                }
                self.q[j] = q;
                self.dqdh[j] = dqdh;
            }
            self.add_to_nodes(j, 0.0, 0.0);
        }
    }

    /// Flow `q` in link `j` would enter the system through an outfall's flap gate.
    fn outfall_gate(&self, j: usize, q: f64) -> bool {
        let l = &self.sys.links[j];
        let n = if q < 0.0 {
            l.to
        } else if q > 0.0 {
            l.from
        } else {
            return false;
        };
        self.is_outfall[n] && self.h.nodes[n].flap_gate
    }

    fn add_to_nodes(&mut self, j: usize, s1: f64, s2: f64) {
        let l = &self.sys.links[j];
        let q = self.q[j];
        if q >= 0.0 {
            self.nodes[l.from].outflow += q;
            self.nodes[l.to].inflow += q;
        } else {
            self.nodes[l.from].inflow -= q;
            self.nodes[l.to].outflow -= q;
        }
        self.nodes[l.from].surf += s1;
        self.nodes[l.to].surf += s2;
        self.nodes[l.from].sumdqdh += self.dqdh[j];
        let type4 = matches!(
            l.kind,
            LinkKind::Pump {
                curve: PumpCurve::Depth(_),
                ..
            }
        );
        if !type4 {
            self.nodes[l.to].sumdqdh += self.dqdh[j];
        }
    }

    /// Flow (m³/s) and dQ/dH of a weir, orifice, outlet or pump from the heads at its ends.
    fn non_conduit_flow(&self, j: usize, setting: f64, dt: f64) -> (f64, f64) {
        let l = &self.sys.links[j];
        if setting <= 0.0 {
            return (0.0, 0.0);
        }
        let (n1, n2) = (l.from, l.to);
        let h1 = self.h.nodes[n1].invert_m + self.nodes[n1].depth;
        let h2 = self.h.nodes[n2].invert_m + self.nodes[n2].depth;
        if let LinkKind::Pump { curve, .. } = &l.kind {
            return (self.pump_flow(j, curve, setting, dt), 0.0);
        }
        let q = self.head_flow(j, setting, h1, h2);
        let eps = 1e-3;
        let dq = (self.head_flow(j, setting, h1 + eps, h2) - q) / eps;
        (q, dq.abs())
    }

    /// Flow of a head-driven link (weir, orifice, outlet) between heads `h1`, `h2`;
    /// negative when it runs backwards.
    fn head_flow(&self, j: usize, setting: f64, h1: f64, h2: f64) -> f64 {
        let l = &self.sys.links[j];
        let d = &self.h.links[j];
        let (mut up, mut dn, dir) = if h1 >= h2 {
            (h1, h2, 1.0)
        } else {
            (h2, h1, -1.0)
        };
        if dir < 0.0 && d.flap_gate {
            return 0.0;
        }
        let inv1 = self.h.nodes[l.from].invert_m;
        // The opening's crest is at the upstream node's side of the link.
        let hcrest = inv1 + d.offset1_m;
        match &l.kind {
            LinkKind::Weir { shape, .. } => {
                let height = d.height_m;
                let crest = hcrest + (1.0 - setting) * height;
                let hcrown = hcrest + height;
                let mut head = up - crest;
                if head <= FUDGE || crest >= hcrown {
                    return 0.0;
                }
                let kind = &l.kind;
                let free = |hd: f64| kind.flow_at_depth(d.offset1_m + hd);
                if up >= hcrown {
                    if d.can_surcharge {
                        // Flows as an orifice, matched to the weir at a full opening.
                        let full = hcrown - crest;
                        let c = free(full) / (full / 2.0).sqrt();
                        let mid = 0.5 * (crest + hcrown);
                        let hd = if dn < mid { up - mid } else { up - dn };
                        return dir * c * hd.max(0.0).sqrt();
                    }
                    head = hcrown - crest;
                }
                let mut q = free(head);
                if dn > crest {
                    let p = match shape {
                        WeirShape::SideFlow => 5.0 / 3.0,
                        WeirShape::VNotch => 2.5,
                        _ => 1.5,
                    };
                    let ratio = ((dn - crest) / (up - crest)).min(1.0);
                    q *= (1.0 - ratio.powf(p)).max(0.0).powf(0.385);
                }
                dir * q
            }
            LinkKind::Orifice {
                bottom,
                height_m,
                width_m,
                coeff,
                ..
            } => {
                let area = height_m * width_m * if *bottom { setting } else { 1.0 };
                let head = if *bottom {
                    if up < hcrest {
                        0.0
                    } else if dn > hcrest {
                        up - dn
                    } else {
                        up - hcrest
                    }
                } else {
                    let hcrown = hcrest + height_m * setting;
                    if up < hcrown {
                        // Partly covered: weir-like flow through the wetted part.
                        let y = up - hcrest;
                        if y <= FUDGE {
                            return 0.0;
                        }
                        let mut q = coeff * width_m * y * (G * y).sqrt();
                        if dn > hcrest {
                            let ratio = ((dn - hcrest) / y).min(1.0);
                            q *= (1.0 - ratio.powf(1.5)).max(0.0).powf(0.385);
                        }
                        return dir * q;
                    }
                    let mid = 0.5 * (hcrest + hcrown);
                    if dn < mid {
                        up - mid
                    } else {
                        up - dn
                    }
                };
                if head <= FUDGE {
                    return 0.0;
                }
                let open = if *bottom {
                    area
                } else {
                    height_m * setting * width_m
                };
                dir * coeff * open * (2.0 * G * head).sqrt()
            }
            LinkKind::Outlet { .. } => {
                // Only downstream; the rating is on the inlet depth above the offset.
                if dir < 0.0 {
                    return 0.0;
                }
                up = h1;
                dn = h2;
                if up <= hcrest || dn >= up {
                    return 0.0;
                }
                l.kind.flow_at_depth(up - inv1) * setting
            }
            _ => 0.0,
        }
    }

    /// A pump's rate by its curve at the inlet node's depth or volume, limited to what
    /// the inlet holds.
    fn pump_flow(&self, j: usize, curve: &PumpCurve, setting: f64, dt: f64) -> f64 {
        let n1 = self.sys.links[j].from;
        let node = &self.nodes[n1];
        let y = node.depth;
        let q = match curve {
            PumpCurve::Ideal => node.inflow,
            PumpCurve::Constant(r) => *r,
            PumpCurve::VolumeSteps(t) => step_lookup(t, node.volume),
            PumpCurve::DepthSteps(t) => step_lookup(t, y),
            PumpCurve::Depth(t) => interpolate(t, y),
            PumpCurve::Spare {
                rate,
                watch,
                capacity,
            } => rate.min((capacity - self.q[*watch]).max(0.0)),
        } * setting;
        if q <= 0.0 {
            return 0.0;
        }
        let storage = matches!(self.sys.nodes[n1].kind, NodeKind::Storage(_));
        if storage || matches!(curve, PumpCurve::VolumeSteps(_)) {
            // No more than the water there and what flows in.
            return q.min(node.volume_old / dt + node.inflow).max(0.0);
        }
        let net = node.inflow - node.outflow - q;
        let dv = 0.5 * (node.net_old + net) * dt;
        let surf = node.surf.max(self.h.options.min_surf_area_m2);
        if node.depth_old + dv / surf <= 0.0 {
            return node.inflow;
        }
        q
    }
}

/// A storage unit's surface area at depth `y`.
fn storage_area(st: &crate::network::Storage, y: f64) -> f64 {
    let t = &st.table;
    let i = t.partition_point(|p| p.0 <= y).saturating_sub(1);
    let (d0, a0, _) = t[i];
    match t.get(i + 1) {
        Some(&(d1, a1, _)) if d1 > d0 => a0 + (a1 - a0) * ((y - d0) / (d1 - d0)).min(1.0),
        _ => a0,
    }
}
