//! The optimal bases of daily problems met before, so that a problem that comes again is solved
//! from its own basis (no pivots) instead of from yesterday's.
//!
//! In the generated cases of issue 18 most solves meet a problem seen before: each month of a
//! record with monthly profiles recurs yearly, and the quality iterations pass through the
//! same networks day after day (84 distinct problems in the medium case's 191 solves, 530 in
//! the large case's 5,827). Problems are told apart by a 128-bit hash of their supplies and
//! bounds, kept as values change; a collision would only hand the simplex another problem's
//! basis, which it repairs and prices as any warm start (rewater-netflow's `basis.rs`), so
//! results never depend on the hash. The memory is bounded: the oldest bases go first.

use std::collections::{HashMap, VecDeque};

use rewater_netflow::{Basis, NetworkSimplex, Value};

/// Bases saved before the memo judges whether problems recur: past this many, bases are saved
/// only while at least one solve in four found its own (a record of daily series meets each
/// problem once, and a basis copy per solve would be pure cost there).
pub const MEMO_TRIAL_SAVES: u64 = 256;

/// Bytes of bases kept per solver: enough for every distinct problem of the large generated
/// case (≈ 0.1 MB each) many times over, small beside a region's other data.
pub const MEMO_BUDGET_BYTES: usize = 64 << 20;

/// A hash of a problem's supplies and bounds: the wrapping sum of one mixed word per value in
/// each of two lanes, so a changed value updates it in constant time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataKey([u64; 2]);

const SUPPLY: u64 = 0;
const LOWER: u64 = 1;
const UPPER: u64 = 2;
const LANE_SEEDS: [u64; 2] = [0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344];

/// SplitMix64's finaliser: every input bit reaches every output bit.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn word(lane: usize, what: u64, index: usize, value: Value) -> u64 {
    let place = mix64(LANE_SEEDS[lane] ^ ((index as u64) << 2 | what));
    mix64(
        place
            .wrapping_add(value as u64)
            .wrapping_add(LANE_SEEDS[lane]),
    )
}

impl DataKey {
    /// The key of the data `ns` holds now.
    pub fn of(ns: &NetworkSimplex) -> DataKey {
        let mut key = DataKey([0; 2]);
        for v in 0..ns.node_count() {
            key.add(SUPPLY, v, ns.supply(v));
        }
        for a in 0..ns.arc_count() {
            let (lo, up) = ns.bounds(a);
            key.add(LOWER, a, lo);
            key.add(UPPER, a, up);
        }
        key
    }

    fn add(&mut self, what: u64, index: usize, value: Value) {
        for lane in 0..2 {
            self.0[lane] = self.0[lane].wrapping_add(word(lane, what, index, value));
        }
    }

    fn replace(&mut self, what: u64, index: usize, before: Value, after: Value) {
        if before != after {
            for lane in 0..2 {
                let w =
                    word(lane, what, index, after).wrapping_sub(word(lane, what, index, before));
                self.0[lane] = self.0[lane].wrapping_add(w);
            }
        }
    }

    /// Node `v`'s supply goes from `before` to `after`.
    pub fn supply(&mut self, v: usize, before: Value, after: Value) {
        self.replace(SUPPLY, v, before, after);
    }

    /// Arc `a`'s bounds go from `before` to `after` (lower, upper).
    pub fn bounds(&mut self, a: usize, before: (Value, Value), after: (Value, Value)) {
        self.replace(LOWER, a, before.0, after.0);
        self.replace(UPPER, a, before.1, after.1);
    }
}

/// Saved bases by key, oldest first out past the budget.
#[derive(Debug)]
pub struct BasisMemo {
    bases: HashMap<DataKey, Basis>,
    order: VecDeque<DataKey>,
    bytes: usize,
    budget: usize,
    /// Bases saved and solves that found their own, since the memo was made or cleared.
    saves: u64,
    hits: u64,
}

impl Default for BasisMemo {
    fn default() -> Self {
        BasisMemo::with_budget(MEMO_BUDGET_BYTES)
    }
}

impl BasisMemo {
    /// A memo holding at most `budget` bytes of bases.
    pub fn with_budget(budget: usize) -> Self {
        BasisMemo {
            bases: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            budget,
            saves: 0,
            hits: 0,
        }
    }

    /// Counts a solve that started from its own saved basis.
    pub fn hit(&mut self) {
        self.hits += 1;
    }

    /// Whether a new basis is worth saving: always during the trial, then only while problems
    /// recur often enough ([`MEMO_TRIAL_SAVES`]).
    pub fn wants(&self) -> bool {
        self.budget > 0 && (self.saves < MEMO_TRIAL_SAVES || self.hits * 4 >= self.saves)
    }

    pub fn get(&self, key: DataKey) -> Option<&Basis> {
        self.bases.get(&key)
    }

    /// Keeps `basis` for `key` (replacing one kept before), dropping the oldest past the budget.
    pub fn insert(&mut self, key: DataKey, basis: Basis) {
        let size = basis.bytes();
        if size > self.budget {
            return;
        }
        self.saves += 1;
        if let Some(old) = self.bases.insert(key, basis) {
            self.bytes -= old.bytes();
        } else {
            self.order.push_back(key);
        }
        self.bytes += size;
        while self.bytes > self.budget {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(old) = self.bases.remove(&oldest) {
                self.bytes -= old.bytes();
            }
        }
    }

    pub fn clear(&mut self) {
        self.bases.clear();
        self.order.clear();
        self.bytes = 0;
        self.saves = 0;
        self.hits = 0;
    }

    /// Bases kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.bases.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.bases.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewater_netflow::INF;

    fn network() -> NetworkSimplex {
        let mut ns = NetworkSimplex::new(3);
        ns.add_arc(0, 1, 0, INF, 1);
        ns.add_arc(1, 2, 0, INF, 1);
        ns.add_arc(0, 2, 0, INF, 3);
        ns
    }

    /// The optimal basis of the test network with 4 units from node 0 to node 2.
    fn solved_basis() -> Basis {
        let mut ns = network();
        ns.set_supply(0, 4);
        ns.set_supply(2, -4);
        ns.solve().unwrap();
        ns.save_basis().unwrap()
    }

    /// The key kept change by change equals the key of the data computed anew, comes back
    /// when the data come back, and differs for other data.
    #[test]
    fn the_kept_key_is_the_key_of_the_data() {
        let mut ns = network();
        let mut key = DataKey::of(&ns);
        let start = key;
        let set_supply = |ns: &mut NetworkSimplex, key: &mut DataKey, v, s| {
            key.supply(v, ns.supply(v), s);
            ns.set_supply(v, s);
        };
        set_supply(&mut ns, &mut key, 0, 7);
        set_supply(&mut ns, &mut key, 2, -7);
        key.bounds(1, ns.bounds(1), (0, 5));
        ns.set_bounds(1, 0, 5);
        assert_eq!(key, DataKey::of(&ns));
        assert_ne!(key, start);
        let seven = key;
        // The same values at other places give another key.
        set_supply(&mut ns, &mut key, 0, -7);
        set_supply(&mut ns, &mut key, 2, 7);
        assert_ne!(key, seven);
        set_supply(&mut ns, &mut key, 0, 0);
        set_supply(&mut ns, &mut key, 2, 0);
        key.bounds(1, ns.bounds(1), (0, INF));
        ns.set_bounds(1, 0, INF);
        assert_eq!(key, start);
    }

    /// Bases are saved during the trial; past it, only while one solve in four finds its own.
    #[test]
    fn saving_stops_when_problems_do_not_recur() {
        let basis = solved_basis();
        let mut memo = BasisMemo::default();
        for i in 0..MEMO_TRIAL_SAVES {
            assert!(memo.wants(), "save {i} is within the trial");
            memo.insert(DataKey([i, 0]), basis.clone());
        }
        assert!(!memo.wants(), "no problem came back during the trial");
        for _ in 0..MEMO_TRIAL_SAVES / 4 {
            memo.hit();
        }
        assert!(memo.wants(), "one solve in four found its basis");
        memo.clear();
        assert!(memo.wants(), "a cleared memo starts a new trial");
        assert!(!BasisMemo::with_budget(0).wants());
    }

    /// Past the budget the oldest bases go; a replaced basis is counted once.
    #[test]
    fn the_memo_keeps_to_its_budget_oldest_out() {
        let basis = solved_basis();
        let size = basis.bytes();
        assert!(size > 0);
        let mut memo = BasisMemo::with_budget(3 * size);
        let keys: Vec<DataKey> = (0..5).map(|i| DataKey([i, i + 1])).collect();
        for &k in &keys[..3] {
            memo.insert(k, basis.clone());
        }
        memo.insert(keys[1], basis.clone());
        assert_eq!(memo.len(), 3);
        memo.insert(keys[3], basis.clone());
        assert_eq!(memo.len(), 3);
        assert!(memo.get(keys[0]).is_none(), "the oldest went");
        assert!(memo.get(keys[1]).is_some() && memo.get(keys[3]).is_some());
        let mut tiny = BasisMemo::with_budget(size - 1);
        tiny.insert(keys[4], basis);
        assert!(tiny.is_empty(), "a basis above the budget is not kept");
        memo.clear();
        assert!(memo.is_empty());
    }
}
