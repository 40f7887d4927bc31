//! Minimum-cost network flow by the primal network simplex method, with a warm start.
//!
//! rewater solves one allocation problem per simulated day. From one day to the next only
//! supplies, arc bounds and (rarely) costs change, so the spanning-tree basis of yesterday is
//! usually a few pivots away from today's optimum. [`NetworkSimplex`] keeps that basis between
//! calls to [`NetworkSimplex::solve`]: it recomputes the tree flows for the new data, repairs the
//! tree where a tree arc would leave its bounds (the cut subtree is hung from the artificial root
//! with a big-M arc) and continues the primal simplex from there.
//!
//! Flows, bounds, supplies and costs are integers (`i64`). Callers scale physical quantities
//! (e.g. 1 unit = 1 mL) so that the arithmetic is exact: no tolerance decides degeneracy, and the
//! flow balance at every node holds exactly.
//!
//! The method follows the textbook primal network simplex (Ahuja, Magnanti & Orlin, *Network
//! Flows*, 1993, ch. 11): a spanning tree rooted at an artificial node, candidate-list pricing
//! over blocks of arcs (Mulvey, "Pivot strategies for primal-simplex network codes", JACM
//! 1978), and the leaving-arc rule that keeps a strongly feasible tree (Cunningham 1976) after
//! a cold start.

use std::fmt;

mod basis;
mod tree;
pub use basis::Basis;
use tree::TreeNode;

/// Flow, bound, supply and cost values. See the crate docs on scaling.
pub type Value = i64;

/// An upper bound meaning "no limit". Any bound at or above it is treated as infinite.
pub const INF: Value = i64::MAX / 8;

const NONE: u32 = u32::MAX;
const STATE_UPPER: i8 = -1;
const STATE_TREE: i8 = 0;
const STATE_LOWER: i8 = 1;
/// Violating arcs a pricing scan collects before it stops at the end of a block.
const MIN_CANDIDATES: usize = 32;

/// Why a solve produced no optimal flow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    /// Supplies do not add up to zero.
    #[error("supplies do not balance: they sum to {total}, not 0")]
    Unbalanced { total: i128 },
    /// An arc has its lower bound above its upper bound.
    #[error("arc {arc}: lower bound {lower} is above upper bound {upper}")]
    InvalidBounds {
        arc: usize,
        lower: Value,
        upper: Value,
    },
    /// No flow satisfies the supplies and the bounds.
    #[error("no feasible flow: supplies cannot be routed within the arc bounds")]
    Infeasible,
    /// A negative-cost cycle of unlimited capacity exists.
    #[error("the problem is unbounded: a negative-cost cycle has no capacity limit")]
    Unbounded,
    /// The pivot limit was reached (a safeguard against cycling; should not happen).
    #[error("pivot limit of {limit} reached")]
    PivotLimit { limit: u64 },
    /// Costs or bounds so large that exact integer arithmetic could overflow.
    #[error("cost or bound magnitude too large for exact arithmetic: {what}")]
    Overflow { what: &'static str },
}

/// Counters describing the last solve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SolveStats {
    /// Pivots (including degenerate ones) of the last solve.
    pub pivots: u64,
    /// Whether the last solve started from the previous basis.
    pub warm: bool,
    /// Tree arcs cut when the previous basis was repaired.
    pub repaired_arcs: u64,
    /// Whether the warm start left an optimal basis's tree and potentials as they were, so
    /// that the solve ended without a pricing scan.
    pub scan_skipped: bool,
}

/// A min-cost flow problem on a fixed graph whose data may change between solves.
#[derive(Clone)]
pub struct NetworkSimplex {
    node_count: usize,
    // Real arcs (indices 0..arc_count). Artificial arcs live at arc_count + node.
    arc_count: usize,
    source: Vec<u32>,
    target: Vec<u32>,
    cost: Vec<Value>,
    lower: Vec<Value>,
    upper: Vec<Value>,
    supply: Vec<Value>,
    // Working arrays, sized arc_count + node_count.
    cap: Vec<Value>,
    flow: Vec<Value>,
    state: Vec<i8>,
    // Spanning tree over node_count + 1 nodes (the root is node_count).
    /// Parent, first child, next sibling and subtree size of each node, side by side (tree.rs).
    tree: Vec<TreeNode>,
    /// Marks of the walk that finds a pivot's join, and the current mark.
    mark: Vec<u32>,
    stamp: u32,
    /// How far the root's potential may drift before all potentials are shifted back (tree.rs).
    pi_limit: Value,
    pred: Vec<u32>,
    pred_up: Vec<bool>,
    prev_sibling: Vec<u32>,
    pi: Vec<Value>,
    has_basis: bool,
    next_arc: usize,
    path: Vec<u32>,
    order: Vec<u32>,
    /// Reused buffer for the supplies with lower bounds moved in.
    excess: Vec<Value>,
    /// Each node's supply with the flows of the arcs at a bound and the lower bounds of the
    /// tree arcs moved in (what a warm start starts the tree's flows from), kept as supplies,
    /// bounds and arc states change; meaningful while there is a basis.
    bound_excess: Vec<Value>,
    stats: SolveStats,
    /// Data changed since the last optimal solve (a solve with nothing changed is skipped).
    dirty: bool,
    /// Costs changed since the artificial cost was last computed.
    costs_dirty: bool,
    /// The basis prices every non-tree arc right for its state, as it did when the last solve
    /// proved it optimal: no cost and no arc's state changed since. A warm start that then
    /// leaves the tree and its potentials as they were needs no pricing scan (issue 18).
    dual_feasible: bool,
    /// Count of cost changes: a saved basis's potentials belong to one count ([`Basis`]).
    cost_epoch: u64,
    art_cost: Value,
    /// Arcs whose bounds are invalid now (lower above upper, or lower infinite): kept as bounds
    /// are set, so that a solve scans the arcs for the culprit only when there is one.
    bad_bounds: usize,
    /// Children of the root whose subtree's potentials changed in a warm start.
    moved: Vec<u32>,
    /// Arcs of negative reduced cost found by the last scan, re-priced before scanning again.
    candidates: Vec<u32>,
}

impl fmt::Debug for NetworkSimplex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkSimplex")
            .field("nodes", &self.node_count)
            .field("arcs", &self.arc_count)
            .field("has_basis", &self.has_basis)
            .finish()
    }
}

impl NetworkSimplex {
    /// An empty problem on `node_count` nodes (all supplies zero, no arcs).
    pub fn new(node_count: usize) -> Self {
        NetworkSimplex {
            node_count,
            arc_count: 0,
            source: Vec::new(),
            target: Vec::new(),
            cost: Vec::new(),
            lower: Vec::new(),
            upper: Vec::new(),
            supply: vec![0; node_count],
            cap: Vec::new(),
            flow: Vec::new(),
            state: Vec::new(),
            tree: Vec::new(),
            mark: Vec::new(),
            stamp: 0,
            pi_limit: 0,
            pred: Vec::new(),
            pred_up: Vec::new(),
            prev_sibling: Vec::new(),
            pi: Vec::new(),
            has_basis: false,
            next_arc: 0,
            path: Vec::new(),
            order: Vec::new(),
            excess: Vec::new(),
            bound_excess: Vec::new(),
            stats: SolveStats::default(),
            dirty: true,
            costs_dirty: true,
            dual_feasible: false,
            cost_epoch: 0,
            art_cost: 0,
            bad_bounds: 0,
            moved: Vec::new(),
            candidates: Vec::new(),
        }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.node_count
    }

    /// Number of (real) arcs.
    pub fn arc_count(&self) -> usize {
        self.arc_count
    }

    /// Adds a node and returns its index. Discards any basis.
    pub fn add_node(&mut self) -> usize {
        self.node_count += 1;
        self.supply.push(0);
        self.has_basis = false;
        self.node_count - 1
    }

    /// Adds an arc `from → to` with flow bounds `[lower, upper]` and a unit cost; returns its index.
    /// Discards any basis (the graph changed).
    ///
    /// # Panics
    /// If `from` or `to` is not a node (a programming error, not a data error).
    pub fn add_arc(
        &mut self,
        from: usize,
        to: usize,
        lower: Value,
        upper: Value,
        cost: Value,
    ) -> usize {
        assert!(
            from < self.node_count && to < self.node_count,
            "arc endpoint out of range"
        );
        // Artificial arcs follow the real ones after a solve; drop them before appending.
        self.source.truncate(self.arc_count);
        self.target.truncate(self.arc_count);
        self.cost.truncate(self.arc_count);
        self.source.push(from as u32);
        self.target.push(to as u32);
        self.lower.push(lower);
        self.upper.push(upper.min(INF));
        self.bad_bounds += usize::from(bad_bounds(lower, upper.min(INF)));
        self.cost.push(cost);
        self.arc_count += 1;
        self.has_basis = false;
        self.dirty = true;
        self.costs_dirty = true;
        self.cost_epoch += 1;
        self.arc_count - 1
    }

    /// Sets the supply of a node (positive: water enters here; negative: demand).
    #[inline]
    pub fn set_supply(&mut self, node: usize, supply: Value) {
        if self.supply[node] != supply {
            if self.has_basis {
                self.bound_excess[node] += supply - self.supply[node];
            }
            self.supply[node] = supply;
            self.dirty = true;
        }
    }

    /// Supply of a node.
    pub fn supply(&self, node: usize) -> Value {
        self.supply[node]
    }

    /// Sets the bounds of an arc. Keeps the basis.
    #[inline]
    pub fn set_bounds(&mut self, arc: usize, lower: Value, upper: Value) {
        let upper = upper.min(INF);
        if self.lower[arc] != lower || self.upper[arc] != upper {
            self.bad_bounds -= usize::from(bad_bounds(self.lower[arc], self.upper[arc]));
            self.bad_bounds += usize::from(bad_bounds(lower, upper));
            if bad_bounds(lower, upper) {
                // Such a problem is refused; once it is mended the solve starts cold.
                self.has_basis = false;
            }
            let before = self.has_basis.then(|| self.bound_flow(arc));
            self.lower[arc] = lower;
            self.upper[arc] = upper;
            self.dirty = true;
            if let Some(before) = before {
                self.rebound(arc, before);
            }
        }
    }

    /// What real arc `a` moves into its ends' supplies before the tree's flows are found: its
    /// lower bound, and its flow above it when it is at a bound (0 at the lower, its capacity
    /// at the upper).
    #[inline]
    fn bound_flow(&self, a: usize) -> Value {
        self.lower[a]
            + if self.state[a] == STATE_TREE {
                0
            } else {
                self.flow[a]
            }
    }

    /// `bound_excess` summed anew (for tests of the kept one).
    #[cfg(test)]
    fn bound_excess_from_scratch(&self) -> Vec<Value> {
        let mut excess = self.supply.clone();
        excess.push(0);
        for a in 0..self.arc_count {
            let moved = self.bound_flow(a);
            excess[self.source[a] as usize] -= moved;
            excess[self.target[a] as usize] += moved;
        }
        excess
    }

    /// Moves `delta` more of arc `a`'s flow into its ends' supplies in `bound_excess`.
    #[inline]
    fn move_bound_flow(&mut self, a: usize, delta: Value) {
        if delta != 0 && a < self.arc_count {
            self.bound_excess[self.source[a] as usize] -= delta;
            self.bound_excess[self.target[a] as usize] += delta;
        }
    }

    /// Arc `a`'s bounds changed (it moved `before` into the supplies): its capacity, its flow
    /// at the upper bound (or the lower bound, when the upper is gone) and what it moves in
    /// now.
    fn rebound(&mut self, a: usize, before: Value) {
        let cap = cap_of(self.lower[a], self.upper[a]);
        self.cap[a] = cap;
        if self.state[a] == STATE_UPPER {
            if cap >= INF {
                self.state[a] = STATE_LOWER;
                self.flow[a] = 0;
                self.dual_feasible = false;
            } else {
                self.flow[a] = cap;
            }
        }
        let after = self.bound_flow(a);
        self.move_bound_flow(a, after - before);
    }

    /// Sets the unit cost of an arc. Keeps the basis.
    #[inline]
    pub fn set_cost(&mut self, arc: usize, cost: Value) {
        if self.cost[arc] != cost {
            self.cost[arc] = cost;
            self.dirty = true;
            self.costs_dirty = true;
            self.dual_feasible = false;
            self.cost_epoch += 1;
        }
    }

    /// Bounds of an arc.
    pub fn bounds(&self, arc: usize) -> (Value, Value) {
        (self.lower[arc], self.upper[arc])
    }

    /// Unit cost of an arc.
    pub fn cost(&self, arc: usize) -> Value {
        self.cost[arc]
    }

    /// Endpoints of an arc.
    pub fn endpoints(&self, arc: usize) -> (usize, usize) {
        (self.source[arc] as usize, self.target[arc] as usize)
    }

    /// Flow on an arc in the last optimal solution.
    pub fn flow(&self, arc: usize) -> Value {
        self.lower[arc] + self.flow.get(arc).copied().unwrap_or(0)
    }

    /// The flows of all arcs, each through `convert` ([`NetworkSimplex::flow`] arc by arc, in
    /// one pass over the slices).
    pub fn flows_into<T>(&self, out: &mut Vec<T>, convert: impl Fn(Value) -> T) {
        out.clear();
        let m = self.arc_count;
        if self.flow.len() >= m {
            let arcs = self.lower[..m].iter().zip(&self.flow[..m]);
            out.extend(arcs.map(|(&lo, &f)| convert(lo + f)));
        } else {
            out.extend(self.lower[..m].iter().map(|&lo| convert(lo)));
        }
    }

    /// Node potential (dual value) in the last optimal solution: the marginal cost of one more
    /// unit of supply at this node, up to a constant.
    pub fn potential(&self, node: usize) -> Value {
        let root = self.pi.get(self.node_count).copied().unwrap_or(0);
        self.pi.get(node).map_or(0, |&p| p - root)
    }

    /// Total cost of the last solution.
    pub fn total_cost(&self) -> i128 {
        (0..self.arc_count)
            .map(|a| self.cost[a] as i128 * self.flow(a) as i128)
            .sum()
    }

    /// Counters of the last solve.
    pub fn stats(&self) -> SolveStats {
        self.stats
    }

    /// Forgets the basis so that the next solve starts cold.
    pub fn reset_basis(&mut self) {
        self.has_basis = false;
        self.dirty = true;
    }

    /// Solves the problem, warm-starting from the previous basis when there is one. When no
    /// supply, bound or cost changed since the last optimal solve, that solution stands and
    /// nothing is computed (`stats().pivots` is then 0).
    pub fn solve(&mut self) -> Result<(), SolveError> {
        if !self.dirty && self.has_basis {
            self.stats = SolveStats {
                warm: true,
                ..Default::default()
            };
            return Ok(());
        }
        self.check_data()?;
        // With costs unchanged, the potentials of yesterday's tree still hold where the warm
        // start leaves the tree as it was.
        let costs_changed = self.costs_dirty;
        if self.costs_dirty {
            self.art_cost = self.artificial_cost()?;
            self.pi_limit = self.potential_bound(self.art_cost);
            self.costs_dirty = false;
        }
        let art_cost = self.art_cost;
        if self.has_basis {
            self.stats = SolveStats {
                warm: true,
                ..Default::default()
            };
            let untouched = self.warm_start(art_cost, costs_changed);
            if untouched && self.dual_feasible {
                // Optimal as it stands: the tree's flows are within their bounds and every
                // reduced cost is what the last proof scan found (no entering arc).
                self.stats.scan_skipped = true;
                return self.finish(Ok(()));
            }
            match self.run_simplex() {
                Err(SolveError::PivotLimit { .. }) => {}
                other => return self.finish(other),
            }
        }
        self.stats = SolveStats::default();
        self.cold_start(art_cost);
        let result = self.run_simplex();
        self.finish(result)
    }

    fn finish(&mut self, result: Result<(), SolveError>) -> Result<(), SolveError> {
        match result {
            Ok(()) => {
                self.has_basis = true;
                self.dual_feasible = true;
                // Positive flow left on an artificial arc means no feasible flow exists.
                if self.flow[self.arc_count..].iter().any(|&f| f > 0) {
                    return Err(SolveError::Infeasible);
                }
                self.dirty = false;
                Ok(())
            }
            Err(e) => {
                self.has_basis = false;
                self.dual_feasible = false;
                Err(e)
            }
        }
    }

    fn check_data(&self) -> Result<(), SolveError> {
        let total: i128 = self.supply.iter().map(|&s| s as i128).sum();
        if total != 0 {
            return Err(SolveError::Unbalanced { total });
        }
        for a in 0..self.arc_count {
            if self.bad_bounds == 0 {
                break;
            }
            let (lo, up) = (self.lower[a], self.upper[a]);
            if bad_bounds(lo, up) {
                return Err(SolveError::InvalidBounds {
                    arc: a,
                    lower: lo,
                    upper: up,
                });
            }
        }
        if self.supply.iter().any(|s| s.abs() >= INF) {
            return Err(SolveError::Overflow { what: "supply" });
        }
        Ok(())
    }

    /// Cost of artificial arcs: larger than the cost of any simple path of real arcs.
    fn artificial_cost(&self) -> Result<Value, SolveError> {
        let max_cost = self.cost[..self.arc_count]
            .iter()
            .map(|c| c.unsigned_abs())
            .max()
            .unwrap_or(0) as u128;
        let m = (self.node_count as u128 + 1) * max_cost + 1;
        // Potentials are sums of at most depth (≤ nodes) artificial and real costs.
        if m * (self.node_count as u128 + 2) > (i64::MAX as u128) / 4 {
            return Err(SolveError::Overflow { what: "arc costs" });
        }
        Ok(m as Value)
    }

    fn resize_work(&mut self) {
        let total = self.arc_count + self.node_count;
        let nodes = self.node_count + 1;
        self.cap.resize(total, 0);
        self.flow.resize(total, 0);
        self.state.resize(total, STATE_LOWER);
        self.source.truncate(self.arc_count);
        self.target.truncate(self.arc_count);
        self.cost.truncate(self.arc_count);
        let root = self.node_count as u32;
        for v in 0..self.node_count as u32 {
            self.source.push(v);
            self.target.push(root);
            self.cost.push(0);
        }
        self.tree.resize(nodes, TreeNode::DETACHED);
        self.mark.resize(nodes, 0);
        self.pred.resize(nodes, NONE);
        self.pred_up.resize(nodes, false);
        self.prev_sibling.resize(nodes, NONE);
        self.pi.resize(nodes, 0);
    }

    /// Supply of each node once lower bounds are moved into the supplies (in a reused buffer:
    /// give it back with `self.excess = excess`).
    fn shifted_excess(&mut self) -> Vec<Value> {
        let mut excess = std::mem::take(&mut self.excess);
        excess.clear();
        excess.extend_from_slice(&self.supply);
        excess.push(0);
        for a in 0..self.arc_count {
            let lo = self.lower[a];
            if lo != 0 {
                excess[self.source[a] as usize] -= lo;
                excess[self.target[a] as usize] += lo;
            }
        }
        excess
    }

    fn cold_start(&mut self, art_cost: Value) {
        // Artificial arcs are rebuilt from scratch; keep the real-arc prefix only.
        self.source.truncate(self.arc_count);
        self.target.truncate(self.arc_count);
        self.cost.truncate(self.arc_count);
        self.resize_work();
        let n = self.node_count;
        let root = n as u32;
        for a in 0..self.arc_count {
            self.cap[a] = cap_of(self.lower[a], self.upper[a]);
            self.flow[a] = 0;
            self.state[a] = STATE_LOWER;
        }
        let excess = self.shifted_excess();
        self.bound_excess.clone_from(&excess);
        self.tree.iter_mut().for_each(|t| t.first_child = NONE);
        self.tree[n].parent = NONE;
        self.tree[n].size = n as u32 + 1;
        self.pred[n] = NONE;
        self.pi[n] = 0;
        for (v, &e) in excess.iter().enumerate().take(n) {
            let a = self.arc_count + v;
            self.cost[a] = art_cost;
            self.cap[a] = INF;
            self.state[a] = STATE_TREE;
            // Zero-excess nodes point towards the root: the initial tree is strongly feasible.
            if e >= 0 {
                self.source[a] = v as u32;
                self.target[a] = root;
                self.flow[a] = e;
                self.pred_up[v] = true;
                self.pi[v] = -art_cost;
            } else {
                self.source[a] = root;
                self.target[a] = v as u32;
                self.flow[a] = -e;
                self.pred_up[v] = false;
                self.pi[v] = art_cost;
            }
            self.tree[v].parent = root;
            self.tree[v].size = 1;
            self.pred[v] = a as u32;
            self.attach(v as u32, root);
        }
        self.excess = excess;
        self.next_arc = 0;
        self.candidates.clear();
    }

    /// Recomputes the flows of yesterday's tree for today's data and repairs what is out of bounds.
    ///
    /// Potentials are recomputed only in the subtrees the repair moved or whose artificial arc
    /// turned (all children of the root, so disjoint), from the root's potential, or everywhere
    /// when costs changed: they are integers fixed by the tree, the costs and the root's, so the
    /// result is a full recomputation's up to the constant the root's carries (tree.rs).
    /// Returns whether the tree and its potentials were left as they were.
    fn warm_start(&mut self, art_cost: Value, costs_changed: bool) -> bool {
        let n = self.node_count;
        let m = self.arc_count;
        let root = n as u32;
        // Supplies with lower bounds and the flows of arcs at a bound moved in: kept as they
        // change (set_supply, set_bounds, the pivots), not summed over the arcs again.
        let mut excess = std::mem::take(&mut self.excess);
        excess.clone_from(&self.bound_excess);
        for v in 0..n {
            let a = m + v;
            self.cost[a] = art_cost;
            if self.state[a] != STATE_TREE {
                self.flow[a] = 0;
                self.state[a] = STATE_LOWER;
            }
        }
        // Children before parents: reverse of a pre-order walk from the root.
        let order = self.preorder(root);
        let mut moved = std::mem::take(&mut self.moved);
        moved.clear();
        for &v in order.iter().rev() {
            if v == root {
                continue;
            }
            let vi = v as usize;
            let a = self.pred[vi] as usize;
            let e = excess[vi];
            let p = self.tree[vi].parent as usize;
            if a >= m {
                let up = self.pred_up[vi];
                self.orient_artificial(vi, e);
                if self.pred_up[vi] != up {
                    moved.push(v);
                }
                excess[p] += e;
                continue;
            }
            let needed = if self.pred_up[vi] { e } else { -e };
            if needed >= 0 && needed <= self.cap[a] {
                self.flow[a] = needed;
                excess[p] += e;
                continue;
            }
            // Out of bounds: the arc goes to the violated bound and v hangs from the root.
            self.stats.repaired_arcs += 1;
            let (f, st) = if needed < 0 {
                (0, STATE_LOWER)
            } else {
                (self.cap[a], STATE_UPPER)
            };
            self.flow[a] = f;
            self.state[a] = st;
            self.move_bound_flow(a, f);
            let through = if self.pred_up[vi] { f } else { -f };
            excess[p] += through;
            let rest = e - through;
            self.cut_from_ancestors(v);
            self.detach(v);
            self.tree[vi].parent = root;
            self.pred[vi] = (m + vi) as u32;
            self.state[m + vi] = STATE_TREE;
            self.orient_artificial(vi, rest);
            self.attach(v, root);
            moved.push(v);
            excess[n] += rest;
        }
        self.excess = excess;
        self.order = order;
        if costs_changed {
            self.recompute_potentials();
        } else {
            for &v in &moved {
                let sub = self.preorder(v);
                for &x in &sub {
                    self.set_from_parent(x);
                }
                self.order = sub;
            }
        }
        let untouched = !costs_changed && moved.is_empty();
        self.moved = moved;
        untouched
    }

    fn orient_artificial(&mut self, v: usize, excess: Value) {
        let a = self.arc_count + v;
        let root = self.node_count as u32;
        if excess >= 0 {
            self.source[a] = v as u32;
            self.target[a] = root;
            self.flow[a] = excess;
            self.pred_up[v] = true;
        } else {
            self.source[a] = root;
            self.target[a] = v as u32;
            self.flow[a] = -excess;
            self.pred_up[v] = false;
        }
    }

    /// How far arc `e` violates optimality: its reduced cost signed by its state (negative:
    /// it may enter). Tree arcs have state 0 (and reduced cost 0), so they give 0.
    #[inline]
    fn violation(&self, e: usize) -> Value {
        let (from, to) = (self.source[e] as usize, self.target[e] as usize);
        signed_reduced_cost(self.state[e], self.cost[e], self.pi[from], self.pi[to])
    }

    /// Candidate-list pricing. The arcs of negative reduced cost found by the last scan are
    /// re-priced first, and the most violating of those still negative enters. Only when none
    /// is left are arcs scanned again, block by block from where the last scan stopped, until
    /// a block ends with at least [`MIN_CANDIDATES`] violating arcs collected (or every arc was
    /// read). Near an optimum, as after a warm start, violating arcs are rare and scattered:
    /// block search read most of the arcs again for each pivot; now one scan serves several.
    /// `None` only after a scan of every arc found none: the flow is optimal.
    fn find_entering(&mut self) -> Option<usize> {
        let mut best = usize::MAX;
        let mut min: Value = 0;
        let mut k = 0;
        while k < self.candidates.len() {
            let e = self.candidates[k] as usize;
            let c = self.violation(e);
            if c < 0 {
                if c < min {
                    min = c;
                    best = e;
                }
                k += 1;
            } else {
                self.candidates.swap_remove(k);
            }
        }
        if best != usize::MAX {
            return Some(best);
        }
        let total = self.arc_count + self.node_count;
        if total == 0 {
            return None;
        }
        let block = ((total as f64).sqrt() as usize).max(10);
        let mut e = self.next_arc.min(total - 1);
        let mut left = total;
        while left > 0 {
            // One block, in at most two runs when it wraps past the last arc.
            let mut n = block.min(left);
            left -= n;
            while n > 0 {
                let run = n.min(total - e);
                self.price_run(e, e + run, &mut best, &mut min);
                e += run;
                if e == total {
                    e = 0;
                }
                n -= run;
            }
            if self.candidates.len() >= MIN_CANDIDATES {
                break;
            }
        }
        self.next_arc = e;
        (best != usize::MAX).then_some(best)
    }

    /// Prices arcs `lo..hi` as [`NetworkSimplex::violation`] does, collecting the violating
    /// ones and the most violating so far.
    #[inline]
    fn price_run(&mut self, lo: usize, hi: usize, best: &mut usize, min: &mut Value) {
        let run = ArcRun {
            cost: &self.cost[lo..hi],
            source: &self.source[lo..hi],
            target: &self.target[lo..hi],
            state: &self.state[lo..hi],
        };
        run.price(&self.pi, lo, &mut self.candidates, best, min);
    }

    fn run_simplex(&mut self) -> Result<(), SolveError> {
        let limit = 50 * (self.arc_count + self.node_count) as u64 + 10_000;
        while let Some(in_arc) = self.find_entering() {
            self.stats.pivots += 1;
            if self.stats.pivots > limit {
                return Err(SolveError::PivotLimit { limit });
            }
            self.pivot(in_arc)?;
        }
        Ok(())
    }

    fn pivot(&mut self, in_arc: usize) -> Result<(), SolveError> {
        let (first, second) = if self.state[in_arc] == STATE_LOWER {
            (self.source[in_arc], self.target[in_arc])
        } else {
            (self.target[in_arc], self.source[in_arc])
        };
        let join = self.join(first, second);
        let in_flow_before = self.flow[in_arc];

        // Leaving arc: the last blocking arc met when walking the cycle from the join in the
        // direction of the flow change (keeps the tree strongly feasible).
        let mut delta = self.cap[in_arc];
        let mut result = 0u8;
        let mut u_out = NONE;
        let mut w = first;
        while w != join {
            let wi = w as usize;
            let e = self.pred[wi] as usize;
            // Flow runs from the join down to `first`: down-arcs gain, up-arcs lose.
            let d = if self.pred_up[wi] {
                self.flow[e]
            } else {
                residual(self.cap[e], self.flow[e])
            };
            if d < delta {
                delta = d;
                u_out = w;
                result = 1;
            }
            w = self.tree[wi].parent;
        }
        let mut w = second;
        while w != join {
            let wi = w as usize;
            let e = self.pred[wi] as usize;
            let d = if self.pred_up[wi] {
                residual(self.cap[e], self.flow[e])
            } else {
                self.flow[e]
            };
            if d <= delta {
                delta = d;
                u_out = w;
                result = 2;
            }
            w = self.tree[wi].parent;
        }
        if delta >= INF {
            return Err(SolveError::Unbounded);
        }

        if delta > 0 {
            let val = self.state[in_arc] as Value * delta;
            self.flow[in_arc] += val;
            let mut w = self.source[in_arc];
            while w != join {
                let wi = w as usize;
                let e = self.pred[wi] as usize;
                self.flow[e] += if self.pred_up[wi] { -val } else { val };
                w = self.tree[wi].parent;
            }
            let mut w = self.target[in_arc];
            while w != join {
                let wi = w as usize;
                let e = self.pred[wi] as usize;
                self.flow[e] += if self.pred_up[wi] { val } else { -val };
                w = self.tree[wi].parent;
            }
        }

        if result == 0 {
            // The entering arc itself blocks: it moves to its other bound.
            let moved = self.state[in_arc] as Value * delta;
            self.state[in_arc] = -self.state[in_arc];
            self.move_bound_flow(in_arc, moved);
            return Ok(());
        }
        let (u_in, v_in) = if result == 1 {
            (first, second)
        } else {
            (second, first)
        };
        let out_arc = self.pred[u_out as usize] as usize;
        self.state[out_arc] = if self.flow[out_arc] == 0 {
            STATE_LOWER
        } else {
            STATE_UPPER
        };
        self.move_bound_flow(out_arc, self.flow[out_arc]);
        self.move_bound_flow(in_arc, -in_flow_before);
        self.state[in_arc] = STATE_TREE;
        self.rehang(u_in, v_in, u_out, in_arc);
        Ok(())
    }
}

/// A run of consecutive arcs to price: slices, so that only the potentials are indexed and
/// nothing the loop reads can change under it (the compiler keeps them in registers).
struct ArcRun<'a> {
    cost: &'a [Value],
    source: &'a [u32],
    target: &'a [u32],
    state: &'a [i8],
}

impl ArcRun<'_> {
    #[inline]
    fn price(
        &self,
        pi: &[Value],
        first: usize,
        candidates: &mut Vec<u32>,
        best: &mut usize,
        min: &mut Value,
    ) {
        let arcs = (self.cost.iter().zip(self.source))
            .zip(self.target)
            .zip(self.state);
        for (i, (((&cost, &from), &to), &state)) in arcs.enumerate() {
            let c = signed_reduced_cost(state, cost, pi[from as usize], pi[to as usize]);
            if c < 0 {
                let e = first + i;
                candidates.push(e as u32);
                if c < *min {
                    *min = c;
                    *best = e;
                }
            }
        }
    }
}

/// An arc's reduced cost signed by its state: negative when the arc may enter.
#[inline]
fn signed_reduced_cost(state: i8, cost: Value, pi_from: Value, pi_to: Value) -> Value {
    state as Value * (cost + pi_from - pi_to)
}

/// Bounds no solve accepts: lower above upper, or a lower bound at infinity.
fn bad_bounds(lower: Value, upper: Value) -> bool {
    lower > upper || lower >= INF || lower <= -INF
}

fn cap_of(lower: Value, upper: Value) -> Value {
    if upper >= INF {
        INF
    } else {
        upper - lower
    }
}

fn residual(cap: Value, flow: Value) -> Value {
    if cap >= INF {
        INF
    } else {
        cap - flow
    }
}

#[cfg(test)]
mod tests;
