//! The runoff, computed on several threads, is the same to the bit as on one: each
//! subcatchment is run alone and the sums are taken in subcatchment order.

use rewater_overflow::route::compute_runoff_on;
use rewater_overflow::synthetic;

#[test]
fn runoff_on_one_and_on_four_threads_is_identical() {
    let dir = std::env::temp_dir().join(format!("rewater-parallel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (text, rain) = synthetic::swmm_inp(24, 1, 5);
    std::fs::write(dir.join("case.inp"), text).unwrap();
    std::fs::write(dir.join("rain.dat"), rain).unwrap();
    let system = rewater_overflow::load(&dir.join("case.inp")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let one = compute_runoff_on(&system, 1);
    for threads in [2, 4] {
        let many = compute_runoff_on(&system, threads);
        assert!(
            one.per_node == many.per_node,
            "{threads} threads: node inflows differ"
        );
        assert_eq!(
            serde_json::to_string(&one.balance).unwrap(),
            serde_json::to_string(&many.balance).unwrap(),
            "{threads} threads: balance differs"
        );
    }
    assert!(one.balance.runoff_m3 > 0.0);
}

fn load_inp(
    text: &str,
    rain: &str,
    tag: &str,
    routing: Option<rewater_overflow::network::FlowRouting>,
) -> rewater_overflow::System {
    let dir = std::env::temp_dir().join(format!("rewater-stream-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("case.inp"), text).unwrap();
    std::fs::write(dir.join("rain.dat"), rain).unwrap();
    let options = rewater_overflow::inp::ImportOptions {
        routing,
        ..Default::default()
    };
    let system = rewater_overflow::inp::load(&dir.join("case.inp"), &options).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    system
}

/// The whole report, every figure to the bit (serde_json writes the shortest exact form).
fn same_report_on_any_number_of_workers(
    system: &rewater_overflow::System,
    what: &str,
    skips: bool,
) {
    use rewater_overflow::results::simulate_on;
    let serial = simulate_on(system, 0);
    assert!(
        serial.summary.overflow_events > 0,
        "{what}: a case with overflows"
    );
    assert_eq!(
        serial.balance.routing.skipped_steps > 0,
        skips,
        "{what}: quiet steps skipped"
    );
    let serial = serde_json::to_string(&serial).unwrap();
    for workers in [1, 2, 3] {
        let streamed = serde_json::to_string(&simulate_on(system, workers)).unwrap();
        assert!(
            streamed == serial,
            "{what}: the report with {workers} runoff workers beside the routing differs"
        );
    }
}

#[test]
fn routing_beside_the_runoff_gives_the_serial_report_to_the_bit() {
    use rewater_overflow::network::FlowRouting;
    // The generated file with its control rule (fast routing, 60 s), one step for both.
    let (text, rain) = synthetic::swmm_inp(24, 1, 5);
    let fast = load_inp(&text, &rain, "a", Some(FlowRouting::Fast));
    same_report_on_any_number_of_workers(&fast, "fast routing", true);
    // Its own kinematic wave: runoff every 60 s, routing every 30 s, so segments fall on
    // both grids and each runoff step is spread over two routing steps.
    let system = load_inp(&text, &rain, "b", None);
    assert_eq!(
        (system.runoff_clock().step_s, system.clock.step_s),
        (60, 30)
    );
    same_report_on_any_number_of_workers(&system, "kinematic wave", false);
    // A native case: several regulators and tanks, sewer lags and reservoirs.
    let dir = std::env::temp_dir().join(format!("rewater-stream-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (toml, csv) = synthetic::case(30, 2, 7);
    std::fs::write(dir.join("case.toml"), toml).unwrap();
    std::fs::write(dir.join("rain.csv"), csv).unwrap();
    let system = rewater_overflow::load(&dir.join("case.toml")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    same_report_on_any_number_of_workers(&system, "native case", true);
}
