//! Subcatchments draining onto others and routing between sub-areas, against EPA SWMM
//! 5.2.4 on `tests/inp/runon_probe.inp` (swmm-toolkit 0.17.0 on that file): a 90 %
//! paved hectare runs onto a 2 ha lawn; S3 sends 60 % of its impervious runoff over its
//! pervious part, S4 all its pervious runoff over its impervious part. SWMM's
//! Subcatchment Runoff Summary: PAVED 35.84 mm, LAWN 21.08 mm (with 17.92 mm of run-on),
//! S3 22.83 mm, S4 20.78 mm; 0.858 × 10⁶ l at OUT1.

use rewater_overflow::inp::{load, parse, ImportOptions};
use rewater_overflow::peer::run_system;
use rewater_overflow::runoff::{simulate_subcatchment, SubareaRoute};
use std::path::{Path, PathBuf};

fn probe_text() -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/inp/runon_probe.inp"),
    )
    .unwrap()
}

fn import(text: &str) -> Result<rewater_overflow::System, String> {
    parse(text, "p.inp", Path::new("."), &ImportOptions::default()).map_err(|e| e.to_string())
}

#[test]
fn runon_and_subarea_routing_agree_with_swmm() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/inp/runon_probe.inp");
    let s = load(&path, &ImportOptions::default()).unwrap();
    let by = |n: &str| s.subcatchments.iter().find(|c| c.name == n).unwrap();
    assert_eq!(by("PAVED").runon_to, Some(1));
    assert_eq!(by("PAVED").outlet, s.node_index("OUT1").unwrap());
    assert_eq!(
        by("S3").subarea_route,
        SubareaRoute::ToPervious { fraction: 0.6 }
    );
    assert_eq!(
        by("S4").subarea_route,
        SubareaRoute::ToImpervious { fraction: 1.0 }
    );
    for (name, swmm_mm) in [("PAVED", 35.84), ("S3", 22.83), ("S4", 20.78)] {
        let sc = by(name);
        let (_, b) = simulate_subcatchment(sc, &s.gages[0].rain, &s.evaporation, s.runoff_clock());
        let mm = b.runoff_m3 / sc.area_m2 * 1000.0;
        eprintln!("{name}: runoff {mm:.2} mm, SWMM {swmm_mm}");
        assert!((mm / swmm_mm - 1.0).abs() < 0.01, "{name}: {mm} mm");
    }
    // Without its run-on the lawn would give far less than SWMM's 21.08 mm; with it the
    // outfall gets SWMM's volume.
    let out = run_system(&s).outfall_m3["OUT1"];
    eprintln!("OUT1 {out:.1} m³, SWMM 858");
    assert!((out / 858.0 - 1.0).abs() < 0.015, "OUT1 {out} m³");
}

#[test]
fn runon_loops_and_unknown_outlets_are_refused() {
    let text = probe_text();
    let looped = text.replace("LAWN   G1   OUT1", "LAWN   G1   PAVED");
    let e = import(&looped).unwrap_err();
    assert!(e.contains("drains back onto itself"), "{e}");
    let unknown = text.replace("LAWN   G1   OUT1", "LAWN   G1   NOWHERE");
    let e = import(&unknown).unwrap_err();
    assert!(
        e.contains("'NOWHERE' is neither a node nor a subcatchment"),
        "{e}"
    );
    let bad = text.replace("PERVIOUS   60", "PERVIOUS   160");
    assert!(import(&bad).unwrap_err().contains("PctRouted"));
}
