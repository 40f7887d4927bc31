//! The spanning tree of the basis: child and sibling links, subtree sizes, potentials.
//!
//! A pivot re-hangs the subtree below the leaving arc from the entering arc; the potentials of
//! one side of the entering arc shift by a constant. Potentials matter only up to a common
//! constant (reduced costs are their differences), so the side that shifts is the smaller one:
//! the moved subtree, or everything else (the root included). On the engine's daily networks the
//! moved subtree is most of the tree in about one pivot in six, and those pivots moved almost
//! all of the nodes (docs/benchmarks.md, issue 18). Subtree sizes tell the sides apart; they
//! change only along the pivot's paths, which are short in these shallow trees, so they are
//! kept up to date instead of counted. The join of a pivot is found by marking the path of
//! one end to the root, without depths.
//!
//! The root's potential drifts with each shift of the larger side, while every potential stays
//! within (nodes + 1) × the artificial cost of the root's ([`NetworkSimplex::potential_bound`]).
//! When the root's drifts past that bound every potential is shifted back, so no sum of
//! potentials and costs can leave the range the artificial cost was chosen for.

use super::{NetworkSimplex, Value, NONE};

/// A node's place in the spanning tree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TreeNode {
    pub(crate) parent: u32,
    pub(crate) first_child: u32,
    pub(crate) next_sibling: u32,
    /// Nodes in the subtree at this node, itself included.
    pub(crate) size: u32,
}

impl TreeNode {
    pub(crate) const DETACHED: TreeNode = TreeNode {
        parent: NONE,
        first_child: NONE,
        next_sibling: NONE,
        size: 1,
    };
}

impl NetworkSimplex {
    /// The bound on potentials relative to the root's: (nodes + 1) × the artificial cost
    /// (`artificial_cost` checked that four times this fits).
    pub(super) fn potential_bound(&self, art_cost: Value) -> Value {
        let bound = (self.node_count as i128 + 1) * art_cost as i128;
        bound.min(Value::MAX as i128 / 4) as Value
    }

    /// Pre-order of the subtree at `start`, into a reused buffer (give it back with
    /// `self.order = …`), walked by the child and sibling links.
    pub(super) fn preorder(&mut self, start: u32) -> Vec<u32> {
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.push(start);
        let tree = &self.tree[..];
        let mut x = tree[start as usize].first_child;
        while x != NONE {
            order.push(x);
            x = next_in_preorder(tree, x, start, true);
        }
        order
    }

    /// Potentials of every node from the root's (0) down the tree arcs.
    pub(super) fn recompute_potentials(&mut self) {
        let root = self.node_count as u32;
        self.pi[root as usize] = 0;
        let order = self.preorder(root);
        for &v in order.iter().skip(1) {
            self.set_from_parent(v);
        }
        self.order = order;
    }

    /// Potential of `v` from its parent's and its tree arc's cost.
    pub(super) fn set_from_parent(&mut self, v: u32) {
        self.pi[v as usize] = self.potential_from_parent(v);
    }

    fn potential_from_parent(&self, v: u32) -> Value {
        let vi = v as usize;
        let p = self.tree[vi].parent as usize;
        let a = self.pred[vi] as usize;
        // Tree arcs have zero reduced cost: pi[target] = pi[source] + cost.
        if self.pred_up[vi] {
            self.pi[p] - self.cost[a]
        } else {
            self.pi[p] + self.cost[a]
        }
    }

    pub(super) fn detach(&mut self, v: u32) {
        let vi = v as usize;
        let p = self.tree[vi].parent;
        let prev = self.prev_sibling[vi];
        let next = self.tree[vi].next_sibling;
        if prev != NONE {
            self.tree[prev as usize].next_sibling = next;
        } else if p != NONE {
            self.tree[p as usize].first_child = next;
        }
        if next != NONE {
            self.prev_sibling[next as usize] = prev;
        }
        self.prev_sibling[vi] = NONE;
        self.tree[vi].next_sibling = NONE;
    }

    pub(super) fn attach(&mut self, v: u32, p: u32) {
        let first = self.tree[p as usize].first_child;
        self.tree[v as usize].next_sibling = first;
        self.prev_sibling[v as usize] = NONE;
        if first != NONE {
            self.prev_sibling[first as usize] = v;
        }
        self.tree[p as usize].first_child = v;
    }

    /// Takes `v`'s subtree out of the sizes of its ancestors below the root (before `v` is cut
    /// from its parent and hung from the root: the root's size does not change).
    pub(super) fn cut_from_ancestors(&mut self, v: u32) {
        let size = self.tree[v as usize].size;
        let root = self.node_count as u32;
        let mut a = self.tree[v as usize].parent;
        while a != root && a != NONE {
            self.tree[a as usize].size -= size;
            a = self.tree[a as usize].parent;
        }
    }

    /// The deepest common ancestor of `first` and `second`: `first`'s path to the root is
    /// marked, then `second`'s path is walked up to the first marked node.
    pub(super) fn join(&mut self, first: u32, second: u32) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.mark.fill(0);
            self.stamp = 1;
        }
        let (tree, mark, stamp) = (&self.tree[..], &mut self.mark[..], self.stamp);
        let mut u = first;
        loop {
            mark[u as usize] = stamp;
            let p = tree[u as usize].parent;
            if p == NONE {
                break;
            }
            u = p;
        }
        let mut v = second;
        while mark[v as usize] != stamp {
            v = tree[v as usize].parent;
        }
        v
    }

    /// Removes the tree arc above `u_out`, re-roots that subtree at `u_in` and hangs it from
    /// `v_in` through `in_arc`; updates the sizes on the way and the potentials of one side.
    #[inline(never)]
    pub(super) fn rehang(&mut self, u_in: u32, v_in: u32, u_out: u32, in_arc: usize) {
        let root = self.node_count as u32;
        // Path u_in → … → u_out (inclusive), with the old tree arcs between consecutive nodes.
        self.path.clear();
        let mut w = u_in;
        loop {
            self.path.push(w);
            if w == u_out {
                break;
            }
            w = self.tree[w as usize].parent;
        }
        let moved = self.tree[u_out as usize].size;
        self.cut_from_ancestors(u_out);
        // Re-rooted at u_in, a path node's subtree is the moved one less the old subtree of the
        // node below it on the path (read before it is overwritten: from the top down).
        for i in (1..self.path.len()).rev() {
            let below = self.tree[self.path[i - 1] as usize].size;
            self.tree[self.path[i] as usize].size = moved - below;
        }
        self.tree[u_in as usize].size = moved;
        for i in (0..self.path.len()).rev() {
            let node = self.path[i];
            self.detach(node);
        }
        // Top-down, so that each pred[] is read before it is overwritten.
        for i in (1..self.path.len()).rev() {
            let (child_before, node) = (self.path[i - 1], self.path[i]);
            let ci = child_before as usize;
            let ni = node as usize;
            // The arc that joined child_before to node now joins node to child_before.
            self.pred[ni] = self.pred[ci];
            self.pred_up[ni] = !self.pred_up[ci];
            self.tree[ni].parent = child_before;
        }
        let ui = u_in as usize;
        self.tree[ui].parent = v_in;
        self.pred[ui] = in_arc as u32;
        self.pred_up[ui] = self.source[in_arc] == u_in;
        for i in (1..self.path.len()).rev() {
            let (node, new_parent) = (self.path[i], self.path[i - 1]);
            self.attach(node, new_parent);
        }
        self.attach(u_in, v_in);
        let mut a = v_in;
        while a != root {
            self.tree[a as usize].size += moved;
            a = self.tree[a as usize].parent;
        }
        // The entering arc must have zero reduced cost: one side shifts by sigma.
        let sigma = self.potential_from_parent(u_in) - self.pi[ui];
        if sigma == 0 {
            return;
        }
        if 2 * moved as usize <= self.node_count + 1 {
            shift_subtree(&self.tree, &mut self.pi, u_in, sigma);
        } else {
            shift_all_except(&self.tree, &mut self.pi, root, u_in, -sigma);
            self.shift_back_if_drifted();
        }
    }

    /// Shifts every potential by minus the root's once the root's has drifted past
    /// [`NetworkSimplex::potential_bound`].
    fn shift_back_if_drifted(&mut self) {
        let root = self.pi[self.node_count];
        if root.abs() > self.pi_limit {
            self.pi.iter_mut().for_each(|p| *p -= root);
        }
    }

    /// Sizes counted from scratch (for tests of the kept ones).
    #[cfg(test)]
    pub(crate) fn sizes_from_scratch(&mut self) -> Vec<u32> {
        let root = self.node_count as u32;
        let order = self.preorder(root);
        let mut size = vec![1u32; self.tree.len()];
        for &v in order.iter().rev() {
            let p = self.tree[v as usize].parent;
            if p != NONE {
                size[p as usize] += size[v as usize];
            }
        }
        self.order = order;
        size
    }
}

/// The node after `x` in a pre-order walk of the subtree at `top` (NONE at the end): down to
/// the first child (if `descend`), else on to the next sibling of the nearest node up to
/// `top` that has one.
#[inline]
fn next_in_preorder(tree: &[TreeNode], x: u32, top: u32, descend: bool) -> u32 {
    if descend {
        let child = tree[x as usize].first_child;
        if child != NONE {
            return child;
        }
    }
    let mut y = x;
    while y != top {
        let next = tree[y as usize].next_sibling;
        if next != NONE {
            return next;
        }
        y = tree[y as usize].parent;
    }
    NONE
}

/// Adds `sigma` to the potentials of `top` and every node below it, walked by the child and
/// sibling links on slices (the loop keeps them in registers).
fn shift_subtree(tree: &[TreeNode], pi: &mut [Value], top: u32, sigma: Value) {
    pi[top as usize] += sigma;
    let mut x = tree[top as usize].first_child;
    while x != NONE {
        pi[x as usize] += sigma;
        x = next_in_preorder(tree, x, top, true);
    }
}

/// Adds `delta` to the potentials of every node of the tree at `root` except those of the
/// subtree at `skip`.
fn shift_all_except(tree: &[TreeNode], pi: &mut [Value], root: u32, skip: u32, delta: Value) {
    pi[root as usize] += delta;
    let mut x = tree[root as usize].first_child;
    while x != NONE {
        let inside = x != skip;
        if inside {
            pi[x as usize] += delta;
        }
        x = next_in_preorder(tree, x, root, inside);
    }
}
