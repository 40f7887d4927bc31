//! Skipping quiet dry-weather stretches in the routing changes no result: every event,
//! year, outlet and tank figure is the same as routing every step.

use rewater_overflow::results::simulate_routed;
use rewater_overflow::route::compute_runoff;
use rewater_overflow::{case, synthetic};

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        "{what}: {a} vs {b}"
    );
}

fn same_with_and_without_skipping(system: &rewater_overflow::network::System) {
    let runoff = compute_runoff(system);
    let fast = simulate_routed(system, &runoff, true);
    let full = simulate_routed(system, &runoff, false);
    assert_eq!(full.balance.routing.skipped_steps, 0);
    let steps = (fast.years * 365.25 * 86_400.0) as usize / fast.step_s as usize;
    assert!(
        fast.balance.routing.skipped_steps > steps / 3,
        "{} of {steps} steps skipped",
        fast.balance.routing.skipped_steps
    );
    assert!(full.summary.overflow_events > 10, "a case with overflows");
    assert_eq!(fast.events.len(), full.events.len());
    for (a, b) in fast.events.iter().zip(&full.events) {
        close(a.overflow_m3, b.overflow_m3, &format!("event {}", a.start));
        close(a.overflow_hours, b.overflow_hours, "event hours");
        assert_eq!(a.overflowed, b.overflowed);
    }
    for (a, b) in fast.annual.iter().zip(&full.annual) {
        close(a.overflow_m3, b.overflow_m3, "year");
    }
    close(
        fast.summary.capture_pct,
        full.summary.capture_pct,
        "capture",
    );
    for (a, b) in fast.tanks.iter().zip(&full.tanks) {
        assert_eq!(
            serde_json::to_string(a).unwrap(),
            serde_json::to_string(b).unwrap()
        );
    }
    close(
        fast.balance.routing_continuity_error_pct,
        full.balance.routing_continuity_error_pct,
        "continuity",
    );
}

#[test]
fn skipping_quiet_steps_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("rewater-skip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (text, rain) = synthetic::case(30, 2, 7);
    std::fs::write(dir.join("case.toml"), text).unwrap();
    std::fs::write(dir.join("rain.csv"), rain).unwrap();
    same_with_and_without_skipping(&case::load(&dir.join("case.toml")).unwrap());
    // Two dividers in series with weekend patterns (a SWMM file, routed by the fast
    // routing: kinematic-wave reaches are never skipped).
    let chain = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/swmm/chain.inp");
    let options = rewater_overflow::inp::ImportOptions {
        routing: Some(rewater_overflow::network::FlowRouting::Fast),
        ..Default::default()
    };
    let system = rewater_overflow::inp::load(&chain, &options).unwrap();
    same_with_and_without_skipping(&system);
}

#[test]
fn quiet_stretches_are_skipped_with_a_control_rule_that_cannot_fire() {
    // The benchmark's SWMM file: a drain-back pump under IF NODE T1 DEPTH > 0.01 AND LINK
    // C_INT FLOW < … THEN ON ELSE OFF. With the tank empty the rule can only say OFF.
    let dir = std::env::temp_dir().join(format!("rewater-skip-rule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (text, rain) = synthetic::swmm_inp(20, 2, 11);
    std::fs::write(dir.join("case.inp"), text).unwrap();
    std::fs::write(dir.join("rain.dat"), rain).unwrap();
    let options = rewater_overflow::inp::ImportOptions {
        routing: Some(rewater_overflow::network::FlowRouting::Fast),
        ..Default::default()
    };
    let system = rewater_overflow::inp::load(&dir.join("case.inp"), &options).unwrap();
    assert_eq!(system.rules.len(), 1);
    same_with_and_without_skipping(&system);
    // While the tank drains (pump on, the rule's flow premise certain from the bound of
    // the dry-weather flow in C_INT) only the tank is stepped.
    let report = simulate_routed(&system, &compute_runoff(&system), true);
    let steps = system.clock.steps;
    eprintln!(
        "skipped {} of {steps} steps, {} of them draining",
        report.balance.routing.skipped_steps, report.balance.routing.drained_steps
    );
    assert!(report.balance.routing.drained_steps > steps / 10);
}
