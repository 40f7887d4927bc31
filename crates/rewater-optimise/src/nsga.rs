//! NSGA-II (Deb et al. 2002) for mixed integer and continuous genes, with Deb's constrained
//! domination (a feasible design beats an infeasible one; of two infeasible designs the one
//! violating less wins). Crossover: uniform for choices, SBX (η 15) for continuous genes;
//! mutation: a new random option (choices) or polynomial (η 20), each gene with probability
//! 1/n. The random numbers come from a seeded xoshiro256** whose state is checkpointed, so
//! a run is reproduced from its seed, and a resumed run continues the same sequence.

use crate::problem::VarKind;
use serde::{Deserialize, Serialize};

/// xoshiro256** seeded by SplitMix64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let r = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        r
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n ≥ 1).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.f64() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// A random genome.
pub fn random_genome(kinds: &[VarKind], rng: &mut Rng) -> Vec<f64> {
    kinds
        .iter()
        .map(|k| match *k {
            VarKind::Choice { n } => rng.below(n) as f64,
            VarKind::Continuous { min, max } => min + rng.f64() * (max - min),
        })
        .collect()
}

/// Constrained domination on minimised objectives with violations.
pub fn dominates(a: (&[f64], f64), b: (&[f64], f64)) -> bool {
    match (a.1 > 0.0, b.1 > 0.0) {
        (false, true) => true,
        (true, false) => false,
        (true, true) => a.1 < b.1,
        (false, false) => {
            let mut better = false;
            for (x, y) in a.0.iter().zip(b.0) {
                if x > y {
                    return false;
                }
                better |= x < y;
            }
            better
        }
    }
}

/// Fast non-dominated sort: fronts of indices, best first.
pub fn sort_fronts(obj: &[Vec<f64>], viol: &[f64]) -> Vec<Vec<usize>> {
    let n = obj.len();
    let mut dominated: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut count = vec![0usize; n];
    for i in 0..n {
        for j in (i + 1)..n {
            if dominates((&obj[i], viol[i]), (&obj[j], viol[j])) {
                dominated[i].push(j);
                count[j] += 1;
            } else if dominates((&obj[j], viol[j]), (&obj[i], viol[i])) {
                dominated[j].push(i);
                count[i] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut cur: Vec<usize> = (0..n).filter(|&i| count[i] == 0).collect();
    while !cur.is_empty() {
        let mut next = Vec::new();
        for &i in &cur {
            for &j in &dominated[i] {
                count[j] -= 1;
                if count[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        fronts.push(cur);
        cur = next;
    }
    fronts
}

/// Crowding distance of the members of one front (same order as `front`).
#[allow(clippy::needless_range_loop)]
pub fn crowding(obj: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let n = front.len();
    let mut d = vec![0.0; n];
    if n == 0 {
        return d;
    }
    let m = obj[front[0]].len();
    for k in 0..m {
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| {
            obj[front[a]][k]
                .total_cmp(&obj[front[b]][k])
                .then(a.cmp(&b))
        });
        let lo = obj[front[idx[0]]][k];
        let hi = obj[front[idx[n - 1]]][k];
        d[idx[0]] = f64::INFINITY;
        d[idx[n - 1]] = f64::INFINITY;
        if hi > lo {
            for w in 1..n.saturating_sub(1) {
                d[idx[w]] += (obj[front[idx[w + 1]]][k] - obj[front[idx[w - 1]]][k]) / (hi - lo);
            }
        }
    }
    d
}

/// Rank and crowding of each member of a pool.
pub fn rank_and_crowd(obj: &[Vec<f64>], viol: &[f64]) -> (Vec<usize>, Vec<f64>) {
    let mut rank = vec![0; obj.len()];
    let mut crowd = vec![0.0; obj.len()];
    for (r, f) in sort_fronts(obj, viol).iter().enumerate() {
        for (i, c) in f.iter().zip(crowding(obj, f)) {
            rank[*i] = r;
            crowd[*i] = c;
        }
    }
    (rank, crowd)
}

/// Picks `n` of the pool: whole fronts, then the most crowded-apart of the last one.
pub fn select(obj: &[Vec<f64>], viol: &[f64], n: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(n);
    for f in sort_fronts(obj, viol) {
        if out.len() + f.len() <= n {
            out.extend(&f);
            continue;
        }
        let c = crowding(obj, &f);
        let mut idx: Vec<usize> = (0..f.len()).collect();
        idx.sort_by(|&a, &b| c[b].total_cmp(&c[a]).then(f[a].cmp(&f[b])));
        for &i in idx.iter().take(n - out.len()) {
            out.push(f[i]);
        }
        break;
    }
    out
}

/// Offspring of a ranked population: binary tournaments, crossover, mutation.
pub fn offspring(
    pop: &[Vec<f64>],
    rank: &[usize],
    crowd: &[f64],
    kinds: &[VarKind],
    rng: &mut Rng,
) -> Vec<Vec<f64>> {
    let n = pop.len();
    let tour = |rng: &mut Rng| {
        let (a, b) = (rng.below(n), rng.below(n));
        if rank[a] < rank[b] || (rank[a] == rank[b] && crowd[a] > crowd[b]) {
            a
        } else {
            b
        }
    };
    let pm = 1.0 / kinds.len().max(1) as f64;
    let mut kids = Vec::with_capacity(n);
    while kids.len() < n {
        let (p1, p2) = (tour(rng), tour(rng));
        let mut c1 = pop[p1].clone();
        let mut c2 = pop[p2].clone();
        if rng.f64() < 0.9 {
            for (k, kind) in kinds.iter().enumerate() {
                match *kind {
                    VarKind::Choice { .. } => {
                        if rng.f64() < 0.5 {
                            std::mem::swap(&mut c1[k], &mut c2[k]);
                        }
                    }
                    VarKind::Continuous { min, max } => {
                        if rng.f64() < 0.5 {
                            let (a, b) = sbx(c1[k], c2[k], min, max, rng);
                            c1[k] = a;
                            c2[k] = b;
                        }
                    }
                }
            }
        }
        for c in [&mut c1, &mut c2] {
            for (k, kind) in kinds.iter().enumerate() {
                if rng.f64() >= pm {
                    continue;
                }
                match *kind {
                    VarKind::Choice { n } => c[k] = rng.below(n) as f64,
                    VarKind::Continuous { min, max } => c[k] = poly_mutation(c[k], min, max, rng),
                }
            }
        }
        kids.push(c1);
        if kids.len() < n {
            kids.push(c2);
        }
    }
    kids
}

fn sbx(x1: f64, x2: f64, lo: f64, hi: f64, rng: &mut Rng) -> (f64, f64) {
    let eta = 15.0;
    let u = rng.f64();
    let beta: f64 = if u <= 0.5 {
        (2.0 * u).powf(1.0 / (eta + 1.0))
    } else {
        (1.0 / (2.0 * (1.0 - u))).powf(1.0 / (eta + 1.0))
    };
    let a = 0.5 * ((1.0 + beta) * x1 + (1.0 - beta) * x2);
    let b = 0.5 * ((1.0 - beta) * x1 + (1.0 + beta) * x2);
    (a.clamp(lo, hi), b.clamp(lo, hi))
}

fn poly_mutation(x: f64, lo: f64, hi: f64, rng: &mut Rng) -> f64 {
    let eta = 20.0;
    let u = rng.f64();
    let d = if u < 0.5 {
        (2.0 * u).powf(1.0 / (eta + 1.0)) - 1.0
    } else {
        1.0 - (2.0 * (1.0 - u)).powf(1.0 / (eta + 1.0))
    };
    (x + d * (hi - lo)).clamp(lo, hi)
}

/// 2-D hypervolume of minimised points against a reference point (points beyond it add 0).
pub fn hypervolume_2d(points: &[(f64, f64)], reference: (f64, f64)) -> f64 {
    let mut p: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(x, y)| x < reference.0 && y < reference.1)
        .collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut hv = 0.0;
    let mut best_y = reference.1;
    for (x, y) in p {
        if y < best_y {
            hv += (reference.0 - x) * (best_y - y);
            best_y = y;
        }
    }
    hv
}
