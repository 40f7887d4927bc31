//! Cross-check of the network simplex against an independent LP solver (microlp) on thousands
//! of random networks, including degenerate, infeasible and unbounded ones, and on sequences
//! of warm-started solves whose data change between calls.

use microlp::{ComparisonOp, OptimizationDirection, Problem};
use rewater_netflow::{NetworkSimplex, SolveError, INF};

/// SplitMix64: a small deterministic generator so the test needs no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Optimal(f64),
    Infeasible,
    Unbounded,
}

fn lp_solve(ns: &NetworkSimplex) -> Outcome {
    let mut p = Problem::new(OptimizationDirection::Minimize);
    let vars: Vec<_> = (0..ns.arc_count())
        .map(|a| {
            let (lo, up) = ns.bounds(a);
            let up = if up >= INF { f64::INFINITY } else { up as f64 };
            p.add_var(ns.cost(a) as f64, (lo as f64, up))
        })
        .collect();
    for v in 0..ns.node_count() {
        let mut terms = Vec::new();
        for (a, var) in vars.iter().enumerate() {
            let (s, t) = ns.endpoints(a);
            if s == v && t != v {
                terms.push((*var, 1.0));
            } else if t == v && s != v {
                terms.push((*var, -1.0));
            }
        }
        p.add_constraint(terms.as_slice(), ComparisonOp::Eq, ns.supply(v) as f64);
    }
    match p.solve() {
        Ok(outcome) => {
            Outcome::Optimal(outcome.into_solution().expect("no time limit").objective())
        }
        Err(microlp::Error::Infeasible) => Outcome::Infeasible,
        Err(microlp::Error::Unbounded) => Outcome::Unbounded,
        Err(e) => panic!("LP failed: {e}"),
    }
}

fn ns_outcome(ns: &mut NetworkSimplex) -> Outcome {
    match ns.solve() {
        Ok(()) => {
            verify_flow(ns);
            Outcome::Optimal(ns.total_cost() as f64)
        }
        Err(SolveError::Infeasible) => Outcome::Infeasible,
        Err(SolveError::Unbounded) => Outcome::Unbounded,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn verify_flow(ns: &NetworkSimplex) {
    let mut balance = vec![0i128; ns.node_count()];
    for a in 0..ns.arc_count() {
        let (lo, up) = ns.bounds(a);
        let f = ns.flow(a);
        assert!(f >= lo && (up >= INF || f <= up));
        let (s, t) = ns.endpoints(a);
        balance[s] += f as i128;
        balance[t] -= f as i128;
    }
    for (v, b) in balance.into_iter().enumerate() {
        assert_eq!(b, ns.supply(v) as i128);
    }
}

/// True if the arcs without an upper bound contain a negative-cost cycle (Bellman–Ford).
fn has_unbounded_negative_cycle(ns: &NetworkSimplex) -> bool {
    let n = ns.node_count();
    let mut dist = vec![0i64; n];
    for _ in 0..=n {
        let mut changed = false;
        for a in 0..ns.arc_count() {
            if ns.bounds(a).1 < INF {
                continue;
            }
            let (s, t) = ns.endpoints(a);
            if dist[s] + ns.cost(a) < dist[t] {
                dist[t] = dist[s] + ns.cost(a);
                changed = true;
            }
        }
        if !changed {
            return false;
        }
    }
    true
}

fn assert_agree(ns: &mut NetworkSimplex, case: &str) {
    let lp = lp_solve(ns);
    let ours = ns_outcome(ns);
    match (&ours, &lp) {
        (Outcome::Optimal(a), Outcome::Optimal(b)) => {
            assert!(
                (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
                "{case}: ours {a} vs LP {b}"
            )
        }
        // With no feasible flow and an unbounded cycle, either answer describes the problem.
        (Outcome::Unbounded, Outcome::Infeasible) | (Outcome::Infeasible, Outcome::Unbounded) => {
            assert!(
                has_unbounded_negative_cycle(ns),
                "{case}: {ours:?} vs LP {lp:?}"
            )
        }
        _ => assert_eq!(ours, lp, "{case}"),
    }
}

fn random_network(rng: &mut Rng, allow_negative_infinite: bool) -> NetworkSimplex {
    let n = rng.range(2, 14) as usize;
    let m = rng.range(0, 45) as usize;
    let mut ns = NetworkSimplex::new(n);
    for _ in 0..m {
        let s = rng.range(0, n as i64 - 1) as usize;
        let mut t = rng.range(0, n as i64 - 1) as usize;
        if t == s && !rng.chance(5) {
            t = (s + 1) % n;
        }
        let lower = if rng.chance(15) { rng.range(-4, 6) } else { 0 };
        let upper = if rng.chance(30) {
            INF
        } else if rng.chance(10) {
            lower // a fixed flow, often zero: degenerate
        } else {
            lower + rng.range(0, 25)
        };
        // Few distinct costs make many ties (degenerate pivots).
        let mut cost = if rng.chance(50) {
            rng.range(-3, 3)
        } else {
            rng.range(-50, 80)
        };
        if upper >= INF && cost < 0 && !allow_negative_infinite {
            cost = -cost;
        }
        ns.add_arc(s, t, lower, upper, cost);
    }
    random_supplies(rng, &mut ns);
    ns
}

fn random_supplies(rng: &mut Rng, ns: &mut NetworkSimplex) {
    let n = ns.node_count();
    let mut total = 0;
    for v in 0..n - 1 {
        let s = if rng.chance(40) {
            0
        } else {
            rng.range(-20, 20)
        };
        ns.set_supply(v, s);
        total += s;
    }
    ns.set_supply(n - 1, -total);
}

#[test]
fn agrees_with_lp_on_random_networks() {
    let mut rng = Rng(20261122);
    for case in 0..3000 {
        let mut ns = random_network(&mut rng, case % 4 == 0);
        assert_agree(&mut ns, &format!("case {case}"));
    }
}

#[test]
fn warm_starts_agree_with_lp_as_data_change() {
    let mut rng = Rng(7);
    for case in 0..300 {
        let mut ns = random_network(&mut rng, false);
        for step in 0..12 {
            assert_agree(&mut ns, &format!("case {case} step {step}"));
            // Change some supplies, bounds and costs as the engine does from day to day.
            if rng.chance(70) {
                random_supplies(&mut rng, &mut ns);
            }
            for a in 0..ns.arc_count() {
                if rng.chance(25) {
                    let (lo, up) = ns.bounds(a);
                    let new_up = if up >= INF {
                        INF
                    } else {
                        lo + rng.range(0, 25)
                    };
                    ns.set_bounds(a, lo, new_up);
                }
                if rng.chance(10) {
                    let c = ns.cost(a);
                    let (_, up) = ns.bounds(a);
                    let new_c = c + rng.range(-5, 5);
                    ns.set_cost(a, if up >= INF { new_c.abs() } else { new_c });
                }
            }
        }
    }
}

#[test]
fn larger_allocation_like_networks_agree_with_lp() {
    // Layered networks like a region: sources → junctions → users → sink, plus a river.
    let mut rng = Rng(99);
    for case in 0..40 {
        let sources = rng.range(2, 8) as usize;
        let mids = rng.range(2, 10) as usize;
        let users = rng.range(5, 60) as usize;
        let n = sources + mids + users + 2;
        let river = n - 2;
        let sink = n - 1;
        let mut ns = NetworkSimplex::new(n);
        let mut total = 0;
        for s in 0..sources {
            let sup = rng.range(0, 500);
            ns.set_supply(s, sup);
            total += sup;
            ns.add_arc(s, river, 0, INF, 0);
            for _ in 0..2 {
                let j = sources + rng.range(0, mids as i64 - 1) as usize;
                ns.add_arc(s, j, 0, rng.range(50, 400), rng.range(0, 5));
            }
        }
        for u in 0..users {
            let node = sources + mids + u;
            for _ in 0..rng.range(1, 3) {
                let j = sources + rng.range(0, mids as i64 - 1) as usize;
                ns.add_arc(j, node, 0, rng.range(0, 100), rng.range(0, 3));
            }
            ns.add_arc(node, sink, 0, rng.range(0, 80), -rng.range(100, 1000));
        }
        ns.add_arc(river, sink, 0, INF, 0);
        ns.set_supply(sink, -total);
        for day in 0..5 {
            assert_agree(&mut ns, &format!("layered {case} day {day}"));
            for a in 0..ns.arc_count() {
                let (s, t) = ns.endpoints(a);
                if t == sink && s != river {
                    ns.set_bounds(a, 0, rng.range(0, 80));
                }
            }
        }
    }
}
