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
