//! The model's network as a graph of node ids, for callers that need only its shape (the
//! monitoring service's downstream early warning), so that no caller lists node kinds itself.

use crate::types::Model;
use std::collections::{BTreeMap, HashMap};

impl Model {
    /// Every node id of every kind, in the file format's order: plants, wetlands, ponds,
    /// junctions, users, rivers, outfalls (the order [`crate::resolve`] gives the nodes).
    pub fn node_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.plants
            .iter()
            .map(|x| x.id.as_str())
            .chain(self.wetlands.iter().map(|x| x.id.as_str()))
            .chain(self.ponds.iter().map(|x| x.id.as_str()))
            .chain(self.junctions.iter().map(|x| x.id.as_str()))
            .chain(self.users.iter().map(|x| x.id.as_str()))
            .chain(self.rivers.iter().map(|x| x.id.as_str()))
            .chain(self.outfalls.iter().map(|x| x.id.as_str()))
    }

    /// For every node, the nodes reachable from it along links (following their direction),
    /// sorted by id, without the node itself even on a loop. Links naming an unknown node are
    /// ignored (resolving the model reports them). The result holds one entry per reachable
    /// pair: resolve the model first (which bounds the number of nodes) when it is untrusted.
    pub fn downstream(&self) -> BTreeMap<String, Vec<String>> {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut names: Vec<&str> = Vec::new();
        for id in self.node_ids() {
            index.entry(id).or_insert_with(|| {
                names.push(id);
                names.len() - 1
            });
        }
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
        for l in &self.links {
            if let (Some(&a), Some(&b)) = (index.get(l.from.as_str()), index.get(l.to.as_str())) {
                next[a].push(b);
            }
        }
        // Visiting order is irrelevant: the ids are sorted at the end.
        let mut seen = vec![usize::MAX; names.len()];
        let mut stack = Vec::new();
        let mut out = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            let mut reached: Vec<String> = Vec::new();
            stack.clear();
            stack.push(i);
            while let Some(v) = stack.pop() {
                for &w in &next[v] {
                    if seen[w] != i {
                        seen[w] = i;
                        stack.push(w);
                        if w != i {
                            reached.push(names[w].to_string());
                        }
                    }
                }
            }
            reached.sort_unstable();
            out.insert(name.to_string(), reached);
        }
        out
    }
}
