//! Tracing on the small hand-computed network (tests/common): travel times, delivered loads
//! and concentration increments equal to the formulas worked by hand, and the inverse
//! estimate recovering known sources on generated networks.

mod common;

use rewater_outfalls::inverse::{estimate, Observation};
use rewater_outfalls::network::Network;
use rewater_outfalls::trace::{backward, forward, Exceedance};
use rewater_outfalls::Basis;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-12)
}

#[test]
fn forward_trace_gives_travel_time_and_the_delivered_increment() {
    let l = common::small_ledger();
    let net = Network::build(&l).unwrap();
    let f = forward(&l, &net, "1101080001110108A0001", "cod").unwrap();
    assert_eq!(f.load_g_per_s, Some(5.0));
    assert_eq!(f.discharge_basis, Basis::Measured);
    assert_eq!((f.reaches_measured, f.reaches_estimated), (2, 0));
    let s: Vec<&str> = f.reached.iter().map(|r| r.section.as_str()).collect();
    assert_eq!(s, ["S1", "S2"]);
    // To S1: 1800 m at 0.5 m/s = 3600 s; 5·e^(−0.2·3600/86400) = 4.958506 g/s; /5 m³/s.
    assert_eq!(f.reached[0].travel_time_s, 3600.0);
    assert!(close(
        f.reached[0].delivered_load_g_per_s.unwrap(),
        4.958_506_463_194_38,
        1e-12
    ));
    assert!(close(
        f.reached[0].concentration_increment_mg_per_l.unwrap(),
        0.991_701_292_638_876,
        1e-12
    ));
    // To S2: 3600 + 7200/0.5 = 18000 s.
    assert_eq!(f.reached[1].travel_time_s, 18_000.0);
    assert!(close(
        f.reached[1].concentration_increment_mg_per_l.unwrap(),
        0.959_189_457_109_138_2,
        1e-12
    ));
    // A factor the outfall has no concentration for: times, but no load.
    let n = forward(&l, &net, "1101080001110108A0001", "nh3n").unwrap();
    assert_eq!(n.reached[1].travel_time_s, 18_000.0);
    assert_eq!(n.reached[1].surviving_fraction, 1.0);
    assert_eq!(n.reached[1].delivered_load_g_per_s, None);
    // O3 is below S1: it reaches S2 only.
    let f3 = forward(&l, &net, "1101080003110105X0003", "cod").unwrap();
    assert_eq!(f3.reached.len(), 1);
    assert_eq!(f3.reached[0].travel_time_s, 7200.0);
    assert!(forward(&l, &net, "nope", "cod").is_err());
}

#[test]
fn backward_trace_ranks_by_delivered_load_with_shares_and_dischargers() {
    let l = common::small_ledger();
    let net = Network::build(&l).unwrap();
    let q = Exceedance {
        section: "S2".into(),
        factor: "cod".into(),
        observed_mg_per_l: Some(3.5),
        background_mg_per_l: 0.4,
        observed_basis: Some(Basis::Measured),
        ..Default::default()
    };
    let b = backward(&l, &net, &q).unwrap();
    let order: Vec<&str> = b.sources.iter().map(|s| s.outfall.as_str()).collect();
    assert_eq!(
        order,
        [
            "1101080002110108B0002",
            "1101080003110105X0003",
            "1101080001110108A0001"
        ]
    );
    // O2: 6·e^(−0.2·16200/86400) = 5.779167 g/s after 1800 + 14400 s.
    assert_eq!(b.sources[0].travel_time_s, 16_200.0);
    assert!(close(
        b.sources[0].delivered_load_g_per_s,
        5.779_166_506_324_930_5,
        1e-12
    ));
    assert!(close(
        b.sources[1].delivered_load_g_per_s,
        4.917_357_269_108_088,
        1e-12
    ));
    assert!(close(
        b.sources[2].delivered_load_g_per_s,
        4.795_947_285_545_691,
        1e-12
    ));
    // Excess load (3.5 − 0.4)·5 = 15.5 g/s; O2 explains 37.28 %; 0.0486 % unexplained.
    assert_eq!(b.excess_load_g_per_s, Some(15.5));
    assert!(close(
        b.sources[0].share_of_observed.unwrap(),
        0.372_849_452_020_963_26,
        1e-10
    ));
    assert!(close(
        b.unexplained_share.unwrap(),
        0.000_485_738_001_373_636_8,
        1e-6
    ));
    let ranked: f64 = b.sources.iter().map(|s| s.share_of_ranked).sum();
    assert!(close(ranked, 1.0, 1e-12));
    // Through the chain: O1 ← P1 ← 甲公司; O3 ← 丙厂; O2 has none.
    assert_eq!(b.sources[2].dischargers, ["91110108MA01ABCD1E"]);
    assert_eq!(b.sources[1].dischargers, ["91110105MA02EFGH3J"]);
    assert!(b.sources[0].dischargers.is_empty());
    assert_eq!((b.sources_measured, b.sources_estimated), (2, 1));
    assert_eq!(b.section_flow_basis, Basis::Measured);
    // A travel-time window of at most 10,000 s leaves only O3 (7200 s).
    let w = backward(
        &l,
        &net,
        &Exceedance {
            max_travel_s: Some(10_000.0),
            ..q.clone()
        },
    )
    .unwrap();
    assert_eq!(w.sources.len(), 1);
    assert_eq!(w.outside_window, 2);
    // At S1 only O1 and O2 are upstream; ammonia: only O2 has a concentration.
    let s1 = backward(
        &l,
        &net,
        &Exceedance {
            section: "S1".into(),
            factor: "nh3n".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s1.sources.len(), 1);
    assert_eq!(s1.without_data, ["1101080001110108A0001"]);
    assert_eq!(s1.sources[0].delivered_load_g_per_s, 0.2 * 1.5);
}

/// A deterministic pseudo-random generator (no dependency).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn the_inverse_recovers_known_sources_within_one_percent_on_generated_networks() {
    for seed in 1..=5u64 {
        let mut rng = Lcg(seed);
        let g = rewater_outfalls::io::generate(&rewater_outfalls::io::GenerateOptions {
            reaches: 100,
            outfalls: 100,
            sections_per_reach: 1,
            seed,
        });
        let net = Network::build(&g).unwrap();
        // True loads: random, some zero.
        let mut ledger = g.clone();
        for o in &mut ledger.outfalls {
            let on = rng.next() > 0.2;
            o.flow_m3_per_s = Some(0.1);
            o.conc_mg_per_l.insert(
                "cod".into(),
                if on { 10.0 + 90.0 * rng.next() } else { 0.0 },
            );
        }
        let obs: Vec<Observation> = ledger
            .sections
            .iter()
            .map(|s| {
                let b = backward(
                    &ledger,
                    &net,
                    &Exceedance {
                        section: s.id.clone(),
                        factor: "cod".into(),
                        ..Default::default()
                    },
                )
                .unwrap();
                Observation {
                    section: s.id.clone(),
                    excess_mg_per_l: b
                        .sources
                        .iter()
                        .map(|x| x.concentration_increment_mg_per_l)
                        .sum(),
                }
            })
            .collect();
        let est = estimate(&ledger, &net, "cod", &obs).unwrap();
        assert!(!est.rank_deficient);
        assert!(
            est.relative_residual < 1e-6,
            "seed {seed}: {}",
            est.relative_residual
        );
        let biggest = ledger
            .outfalls
            .iter()
            .map(|o| o.conc_mg_per_l["cod"] * 0.1)
            .fold(0.0, f64::max);
        for e in &est.sources {
            let truth = e.ledger_load_g_per_s.unwrap();
            assert_eq!(e.basis, Basis::Estimated);
            if truth > 0.0 {
                assert!(
                    close(e.load_g_per_s, truth, 0.01),
                    "seed {seed} {}: {} vs {truth}",
                    e.outfall,
                    e.load_g_per_s
                );
            } else {
                assert!(
                    e.load_g_per_s < 0.01 * biggest,
                    "seed {seed} {}: {} should be 0",
                    e.outfall,
                    e.load_g_per_s
                );
            }
        }
    }
}

#[test]
fn the_inverse_says_when_observations_cannot_separate_sources() {
    let l = common::small_ledger();
    let net = Network::build(&l).unwrap();
    let est = estimate(
        &l,
        &net,
        "cod",
        &[Observation {
            section: "S2".into(),
            excess_mg_per_l: 3.1,
        }],
    )
    .unwrap();
    assert!(est.rank_deficient);
    assert!(est.relative_residual < 1e-6);
    assert!(estimate(&l, &net, "cod", &[]).is_err());
    assert!(estimate(
        &l,
        &net,
        "cod",
        &[Observation {
            section: "S2".into(),
            excess_mg_per_l: -1.0
        }]
    )
    .is_err());
    assert!(estimate(
        &l,
        &net,
        "cod",
        &[Observation {
            section: "S9".into(),
            excess_mg_per_l: 1.0
        }]
    )
    .is_err());
}
