//! Saved bases: an optimal spanning tree put aside and brought back when the same problem
//! comes again.
//!
//! A long daily run meets the same allocation problem many times: each month of a planning
//! record with monthly profiles recurs every year, and the engine's quality iterations go
//! through the same few networks day after day (issue 18: 84 distinct problems in the medium
//! case's 191 solves, 530 in the large case's 5,827). Solving such a problem from yesterday's
//! basis takes pivots; from the basis that was optimal for it before, the warm start finds the
//! tree's flows within their bounds and the potentials as they were, so the solve ends without
//! a pivot or a pricing scan.
//!
//! Correctness does not depend on which basis is brought back: any basis of the same graph is a
//! valid warm start, repaired where today's data put a tree arc out of its bounds and priced as
//! usual. A caller may therefore key saved bases by a hash of the data and accept that a
//! collision costs pivots, never a wrong optimum.

use super::tree::TreeNode;
use super::{cap_of, NetworkSimplex, Value, INF, STATE_LOWER, STATE_UPPER};

/// An optimal basis of a [`NetworkSimplex`]: its tree, arc states and potentials.
#[derive(Debug, Clone)]
pub struct Basis {
    tree: Vec<TreeNode>,
    prev_sibling: Vec<u32>,
    pred: Vec<u32>,
    pred_up: Vec<bool>,
    pi: Vec<Value>,
    /// States of the real and the artificial arcs.
    state: Vec<i8>,
    /// Ends of the artificial arcs (their orientation prices them).
    art_ends: Vec<(u32, u32)>,
    next_arc: usize,
    /// The costs the potentials belong to ([`NetworkSimplex`]'s count of cost changes).
    cost_epoch: u64,
}

impl Basis {
    /// Heap bytes held, for a caller's memory budget.
    pub fn bytes(&self) -> usize {
        self.tree.len() * std::mem::size_of::<TreeNode>()
            + self.prev_sibling.len() * 4
            + self.pred.len() * 4
            + self.pred_up.len()
            + self.pi.len() * std::mem::size_of::<Value>()
            + self.state.len()
            + self.art_ends.len() * 8
    }
}

impl NetworkSimplex {
    /// The basis of the last solve, if that solve was optimal and no data changed since.
    pub fn save_basis(&self) -> Option<Basis> {
        if !self.has_basis || self.dirty || !self.dual_feasible {
            return None;
        }
        let m = self.arc_count;
        let art_ends = (m..m + self.node_count)
            .map(|a| (self.source[a], self.target[a]))
            .collect();
        Some(Basis {
            tree: self.tree.clone(),
            prev_sibling: self.prev_sibling.clone(),
            pred: self.pred.clone(),
            pred_up: self.pred_up.clone(),
            pi: self.pi.clone(),
            state: self.state.clone(),
            art_ends,
            next_arc: self.next_arc,
            cost_epoch: self.cost_epoch,
        })
    }

    /// Makes `basis` the start of the next solve. Refused (false, nothing changed) when it
    /// belongs to other costs or another graph, or when this problem has not been solved yet.
    pub fn restore_basis(&mut self, basis: &Basis) -> bool {
        let (n, m) = (self.node_count, self.arc_count);
        let fits = basis.cost_epoch == self.cost_epoch
            && !self.costs_dirty
            && basis.state.len() == m + n
            && basis.tree.len() == n + 1
            && self.state.len() == m + n
            && self.tree.len() == n + 1
            && self.source.len() == m + n;
        if !fits {
            return false;
        }
        let had_basis = self.has_basis;
        self.tree.clone_from(&basis.tree);
        self.prev_sibling.clone_from(&basis.prev_sibling);
        self.pred.clone_from(&basis.pred);
        self.pred_up.clone_from(&basis.pred_up);
        self.pi.clone_from(&basis.pi);
        for (v, &(from, to)) in basis.art_ends.iter().enumerate() {
            self.source[m + v] = from;
            self.target[m + v] = to;
        }
        self.next_arc = basis.next_arc;
        self.candidates.clear();
        if !had_basis {
            // Nothing kept to compare with: every arc at its lower bound, the supplies with
            // the lower bounds moved in, as a cold start has them.
            for a in 0..m {
                self.cap[a] = cap_of(self.lower[a], self.upper[a]);
                self.state[a] = STATE_LOWER;
                self.flow[a] = 0;
            }
            let excess = self.shifted_excess();
            self.bound_excess.clone_from(&excess);
            self.excess = excess;
        }
        // The potentials price every non-tree arc as they did when the basis was saved, unless
        // an arc at its upper bound has none now (`set_state`). Capacities, flows at the bounds
        // and `bound_excess` hold for the current states, so only the arcs whose state differs
        // move (a compare of two byte arrays).
        self.dual_feasible = true;
        for a in 0..m {
            if self.state[a] != basis.state[a] {
                self.set_state(a, basis.state[a]);
            }
        }
        self.state[m..].copy_from_slice(&basis.state[m..]);
        self.has_basis = true;
        self.dirty = true;
        true
    }

    /// Puts real arc `a` in `state` with the flow that state gives it at today's bounds, and
    /// moves the change of its bound flow into `bound_excess`. An arc at its upper bound that
    /// has none now turns to its lower one (as in `rebound`) and must be priced again.
    fn set_state(&mut self, a: usize, state: i8) {
        let before = self.bound_flow(a);
        let mut state = state;
        if state == STATE_UPPER && self.cap[a] >= INF {
            state = STATE_LOWER;
            self.dual_feasible = false;
        }
        self.state[a] = state;
        self.flow[a] = if state == STATE_UPPER { self.cap[a] } else { 0 };
        let after = self.bound_flow(a);
        self.move_bound_flow(a, after - before);
    }
}
