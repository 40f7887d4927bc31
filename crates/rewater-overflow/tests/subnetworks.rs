//! Independent subnetworks routed in parallel, each on a thread of its own, give the
//! report of routing the system as one network: the same events, years, outlets and
//! tanks (to the bit under kinematic wave, which never skips; to rounding by the fast
//! routing, whose quiet-stretch skipping is then decided per subnetwork).

use rewater_overflow::inp::{load, ImportOptions};
use rewater_overflow::network::FlowRouting;
use rewater_overflow::results::{simulate_on, Report};
use rewater_overflow::subnetworks::{independent_groups, parts_of};

/// The generated file of `trees` outfall trees, loaded at 60 s.
fn trees(
    subcatchments: usize,
    trees: usize,
    years: u32,
    routing: Option<FlowRouting>,
    edit: impl Fn(String) -> String,
) -> rewater_overflow::System {
    let work = std::env::temp_dir().join(format!(
        "rewater-trees{subcatchments}-{trees}-{years}-{routing:?}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&work).unwrap();
    let (inp, rain) = rewater_overflow::synthetic::swmm_inp_trees(subcatchments, trees, years, 11);
    std::fs::write(work.join("case.inp"), edit(inp)).unwrap();
    std::fs::write(work.join("rain.dat"), rain).unwrap();
    let options = ImportOptions {
        step_s: Some(60),
        routing,
        ..Default::default()
    };
    let system = load(&work.join("case.inp"), &options).expect("import");
    let _ = std::fs::remove_dir_all(&work);
    system
}

fn close(a: f64, b: f64, rel: f64, what: &str) {
    assert!(
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0),
        "{what}: {a} vs {b}"
    );
}

/// `parts` against `one` (the system routed as one network): every figure to `rel`,
/// the counts exactly; the per-node figures to the bit when `exact`.
fn same_report(parts: &Report, one: &Report, rel: f64, exact: bool) {
    assert_eq!(parts.events.len(), one.events.len());
    assert!(one.summary.overflow_events > 5, "a case with overflows");
    for (a, b) in parts.events.iter().zip(&one.events) {
        assert_eq!(a.overflowed, b.overflowed, "event {}", a.start);
        close(
            a.overflow_m3,
            b.overflow_m3,
            rel,
            &format!("event {}", a.start),
        );
        close(a.overflow_hours, b.overflow_hours, rel, "event hours");
        if exact {
            assert_eq!(
                a.overflow_m3.to_bits(),
                b.overflow_m3.to_bits(),
                "event {}",
                a.start
            );
        }
    }
    assert_eq!(parts.annual.len(), one.annual.len());
    for (a, b) in parts.annual.iter().zip(&one.annual) {
        assert_eq!(a.overflow_events, b.overflow_events, "{}", a.year);
        close(
            a.overflow_m3,
            b.overflow_m3,
            rel,
            &format!("year {}", a.year),
        );
    }
    assert_eq!(parts.outlets.len(), one.outlets.len());
    for (a, b) in parts.outlets.iter().zip(&one.outlets) {
        assert_eq!(a.name, b.name);
        close(a.total_m3, b.total_m3, rel, &a.name);
        if exact {
            assert_eq!(a.total_m3.to_bits(), b.total_m3.to_bits(), "{}", a.name);
        }
    }
    assert_eq!(parts.tanks.len(), one.tanks.len());
    for (a, b) in parts.tanks.iter().zip(&one.tanks) {
        let (a, b) = (
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap(),
        );
        if exact {
            assert_eq!(a, b);
        }
        assert_eq!(a["name"], b["name"]);
    }
    close(
        parts.summary.capture_pct,
        one.summary.capture_pct,
        1e-9,
        "capture",
    );
    close(
        parts.balance.runoff.runoff_m3,
        one.balance.runoff.runoff_m3,
        1e-12,
        "runoff",
    );
    close(
        parts.balance.flooding_m3,
        one.balance.flooding_m3,
        rel,
        "flooding",
    );
    close(
        parts.balance.to_treatment_m3,
        one.balance.to_treatment_m3,
        rel,
        "to treatment",
    );
    assert!(
        parts.balance.routing_continuity_error_pct.abs() < 0.01,
        "continuity {} %",
        parts.balance.routing_continuity_error_pct
    );
}

#[test]
fn three_outfall_trees_are_three_groups_shared_over_two_threads() {
    let system = trees(30, 3, 1, Some(FlowRouting::Fast), |t| t);
    let groups = independent_groups(&system);
    assert_eq!(groups.len(), 3, "one group per outfall tree");
    for (k, g) in groups.iter().enumerate() {
        // Ten catchment junctions, the interceptor junction, divider, tank and the two
        // outfalls.
        assert_eq!(g.len(), 15, "tree {k}");
        let suffix = if k == 0 {
            String::new()
        } else {
            format!("_{k}")
        };
        let river = system.node_index(&format!("RIVER{suffix}")).unwrap();
        let tank = system.node_index(&format!("T1{suffix}")).unwrap();
        assert!(g.contains(&river) && g.contains(&tank), "tree {k}");
    }
    let parts = parts_of(&system, 2);
    assert_eq!(parts.len(), 2);
    assert_eq!(
        parts.iter().map(Vec::len).sum::<usize>(),
        system.nodes.len()
    );
    assert_eq!(parts_of(&system, 8).len(), 3, "no more parts than groups");
    assert_eq!(parts_of(&system, 1).len(), 1);
}

#[test]
fn a_rule_that_reads_another_tree_joins_the_two() {
    // Tree 0's drain-back pump also waits for tree 2's tank to be nearly empty.
    let system = trees(30, 3, 1, Some(FlowRouting::Fast), |t| {
        t.replace(
            "RULE DRAIN\nIF NODE T1 DEPTH > 0.01\n",
            "RULE DRAIN\nIF NODE T1 DEPTH > 0.01\nAND NODE T1_2 DEPTH < 4\n",
        )
    });
    let groups = independent_groups(&system);
    assert_eq!(groups.len(), 2);
    let t1 = system.node_index("T1").unwrap();
    let t1_2 = system.node_index("T1_2").unwrap();
    let joined = groups.iter().find(|g| g.contains(&t1)).unwrap();
    assert!(joined.contains(&t1_2));
    assert_eq!(joined.len(), 30);
}

#[test]
fn kinematic_wave_by_subnetwork_is_the_one_network_report_to_the_bit() {
    let system = trees(24, 3, 1, None, |t| t);
    assert_eq!(system.routed_by, FlowRouting::KinWave);
    let one = simulate_on(&system, 0);
    for workers in [2, 3] {
        let parts = simulate_on(&system, workers);
        assert_eq!(parts.balance.routing.parallel_parts, workers);
        same_report(&parts, &one, 1e-12, true);
    }
}

#[test]
fn fast_routing_by_subnetwork_is_the_one_network_report() {
    let system = trees(30, 3, 2, Some(FlowRouting::Fast), |t| t);
    let one = simulate_on(&system, 0);
    assert_eq!(one.balance.routing.parallel_parts, 0);
    assert!(one.balance.routing.skipped_steps > 0);
    for workers in [2, 3] {
        let parts = simulate_on(&system, workers);
        assert_eq!(parts.balance.routing.parallel_parts, workers);
        same_report(&parts, &one, 1e-9, false);
        assert!(parts.balance.routing.skipped_steps > 0);
    }
}

#[test]
fn one_tree_is_routed_as_one_network() {
    let system = trees(12, 1, 1, Some(FlowRouting::Fast), |t| t);
    assert_eq!(independent_groups(&system).len(), 1);
    let one = simulate_on(&system, 0);
    let two = simulate_on(&system, 2);
    assert_eq!(two.balance.routing.parallel_parts, 0);
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
}
