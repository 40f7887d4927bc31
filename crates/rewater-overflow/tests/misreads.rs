//! Regression tests for the four misreads of valid SWMM input found in issue 14: the
//! field order of `[WEIRS]`, `LINK_OFFSETS ELEVATION`, IRREGULAR cross-sections from
//! `[TRANSECTS]`, and a conduit leaving a storage unit (which carried nothing).

use rewater_overflow::inp::{load, parse, ImportOptions};
use rewater_overflow::network::{LinkKind, WeirShape};
use rewater_overflow::route::{compute_runoff, route, Observer, StepView};
use rewater_overflow::System;
use std::path::{Path, PathBuf};

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/inp")
}

/// A small CMS network: J1 (invert 10) → C1 → J2 (invert 9) → C2 → OUT1 (invert 8), a
/// storage unit ST1 (invert 10) with conduit C3 to OUT1, and whatever `extra` adds.
fn network(options: &str, conduits: &str, extra: &str) -> String {
    network_with(options, conduits, "CIRCULAR 0.5 0 0 0 1", extra)
}

/// As [`network`], with C1's cross-section.
fn network_with(options: &str, conduits: &str, c1: &str, extra: &str) -> String {
    format!(
        "[OPTIONS]\nFLOW_UNITS CMS\nSTART_DATE 06/01/2021\nEND_DATE 06/02/2021\n{options}\n\
         [JUNCTIONS]\nJ1 10 3\nJ2 9 3\n\
         [OUTFALLS]\nOUT1 8 FREE\nOUT2 8 FREE\n\
         [STORAGE]\nST1 10 3 0 FUNCTIONAL 0 0 100\n\
         [CONDUITS]\n{conduits}\n\
         [XSECTIONS]\nC1 {c1}\nC2 CIRCULAR 0.5 0 0 0 1\nC3 CIRCULAR 0.3 0 0 0 1\n\
         {extra}\n"
    )
}

fn import(text: &str) -> Result<System, String> {
    parse(text, "case.inp", Path::new("."), &ImportOptions::default()).map_err(|e| e.to_string())
}

fn link<'a>(s: &'a System, name: &str) -> &'a LinkKind {
    &s.links[s.link_index(name).unwrap()].kind
}

fn capacity(s: &System, name: &str) -> f64 {
    match link(s, name) {
        LinkKind::Conduit {
            capacity_m3_per_s, ..
        } => *capacity_m3_per_s,
        other => panic!("{name} is not a conduit: {other:?}"),
    }
}

const CONDUITS_DEPTH: &str =
    "C1 J1 J2 100 0.013 0.5 0.2\nC2 J2 OUT1 100 0.013 0 0\nC3 ST1 OUT1 50 0.013 1.0 0";

#[test]
fn weirs_read_endcon_end_coefficient_and_surcharge_in_swmm_field_order() {
    // Name From To Type CrestHt Cd Gated EndCon EndCoeff Surcharge RoadWidth RoadSurf.
    let weirs = "[WEIRS]\n\
        W1 J1 OUT2 TRANSVERSE 1.0 1.84 NO 2 0 YES\n\
        W2 J2 OUT2 TRAPEZOIDAL 0.5 1.84 NO 0 1.38 NO\n\
        W3 ST1 OUT2 ROADWAY 2.0 1.6 NO 0 0 NO 10 PAVED\n\
        [XSECTIONS]\nW1 RECT_OPEN 1 3\nW2 TRAPEZOIDAL 1 2 0.5 0.5\nW3 RECT_OPEN 1 20\n";
    let s = import(&network("", CONDUITS_DEPTH, weirs))
        .expect("a [WEIRS] line with its Surcharge field loads");
    match link(&s, "W1") {
        LinkKind::Weir {
            end_contractions,
            coeff2,
            ..
        } => {
            assert_eq!(*end_contractions, 2.0);
            assert_eq!(*coeff2, 0.0);
        }
        other => panic!("{other:?}"),
    }
    // Two end contractions shorten the 3 m crest by 0.2 × head: at 0.5 m head,
    // Q = 1.84 · (3 − 0.1) · 0.5^1.5.
    let q = link(&s, "W1").flow_at_depth(1.5);
    assert!((q - 1.84 * 2.9 * 0.5f64.powf(1.5)).abs() < 1e-12, "{q}");
    // The trapezoid's ends use the 9th field: 1.84·2·h^1.5 + 1.38·0.5·h^2.5 at h = 0.4.
    let q = link(&s, "W2").flow_at_depth(0.9);
    let want = 1.84 * 2.0 * 0.4f64.powf(1.5) + 1.38 * 0.5 * 0.4f64.powf(2.5);
    assert!((q - want).abs() < 1e-12, "{q} vs {want}");
    // ROADWAY, 10 m paved road, 0.15 m head (0.492 ft): Cr from the FHWA low-head curve,
    // 2.95 + (0.492 − 0.2)/(0.7 − 0.2)·0.08 ft^½/s, times √0.3048 for SI.
    match link(&s, "W3") {
        LinkKind::Weir {
            shape:
                WeirShape::Roadway {
                    road_width_m,
                    gravel,
                },
            ..
        } => assert!(*road_width_m == 10.0 && !gravel),
        other => panic!("{other:?}"),
    }
    let h_ft = 0.15 / 0.3048;
    let cr = (2.95 + (h_ft - 0.2) / 0.5 * 0.08) * 0.3048f64.sqrt();
    let q = link(&s, "W3").flow_at_depth(2.15);
    assert!((q - cr * 20.0 * 0.15f64.powf(1.5)).abs() < 1e-9, "{q}");
    // A word where SWMM wants YES/NO is still refused, naming the field.
    let bad = weirs.replace("2 0 YES", "2 0 MAYBE");
    let e = import(&network("", CONDUITS_DEPTH, &bad)).unwrap_err();
    assert!(e.contains("surcharge (field 10) 'MAYBE'"), "{e}");
}

#[test]
fn link_offsets_elevation_are_elevations_not_depths() {
    let depth = import(&network("", CONDUITS_DEPTH, "")).unwrap();
    // The same offsets written as elevations: J1 10 + 0.5, J2 9 + 0.2, ST1 10 + 1.
    let elev = import(&network(
        "LINK_OFFSETS ELEVATION",
        "C1 J1 J2 100 0.013 10.5 9.2\nC2 J2 OUT1 100 0.013 * *\nC3 ST1 OUT1 50 0.013 11 8",
        "",
    ))
    .unwrap();
    for c in ["C1", "C2", "C3"] {
        let (a, b) = (capacity(&depth, c), capacity(&elev, c));
        assert!((a - b).abs() < 1e-12 * a, "{c}: depth {a} vs elevation {b}");
    }
    // C1 falls 10.5 − 9.2 = 1.3 m over 100 m: full capacity of a 0.5 m pipe, n 0.013,
    // is (π/16)·(0.125)^(2/3)·√0.013/0.013 — the most SWMM's kinematic wave (the default
    // FLOW_ROUTING) lets in; the fast routing (`--routing fast`) of a DYNWAVE file takes its
    // 1.076 peak.
    let full = std::f64::consts::PI * 0.0625 * 0.125f64.powf(2.0 / 3.0) * 0.013f64.sqrt() / 0.013;
    let cap = capacity(&elev, "C1");
    assert!((cap / full - 1.0).abs() < 1e-9, "{cap} vs {full}");
    let dw = import(&network(
        "LINK_OFFSETS ELEVATION\nFLOW_ROUTING DYNWAVE",
        "C1 J1 J2 100 0.013 10.5 9.2\nC2 J2 OUT1 100 0.013 * *\nC3 ST1 OUT1 50 0.013 11 8",
        "",
    ))
    .unwrap();
    let cap = capacity(&dw, "C1");
    assert!((cap / full - 1.076).abs() < 2e-3, "{cap} vs {full}");
    // Dynamic wave reads the same elevations as offsets: C3 leaves its storage unit 1 m up.
    let h = dw
        .hydraulics
        .as_ref()
        .expect("a DYNWAVE file has hydraulics");
    let c3 = dw.link_index("C3").unwrap();
    assert!(
        (h.links[c3].offset1_m - 1.0).abs() < 1e-9,
        "{}",
        h.links[c3].offset1_m
    );
    // The storage outlet C3 sits 1 m up: nothing leaves below that depth.
    let c3 = link(&elev, "C3");
    assert_eq!(c3.flow_at_depth(0.99), 0.0);
    assert!(c3.flow_at_depth(1.1) > 0.0);
    // Read as depths, the same elevations would have put C1's inlet 10.5 m up.
    assert!(
        import(&network("LINK_OFFSETS FURLONGS", CONDUITS_DEPTH, ""))
            .unwrap_err()
            .contains("LINK_OFFSETS 'FURLONGS'")
    );
}

#[test]
fn irregular_cross_sections_come_from_their_transect() {
    // A 4 m wide, 2 m deep rectangular channel as a transect (n 0.03 throughout); the
    // conduit's own roughness (0.013) is replaced by the transect's, as in SWMM.
    let transect =
        "[TRANSECTS]\nNC 0.03 0.03 0.03\nX1 RECT 4 0 4 0 0 0 0 0 0\nGR 12 0 10 0 10 4 12 4\n";
    let text = network_with("", CONDUITS_DEPTH, "IRREGULAR RECT", transect);
    let s = import(&text).expect("IRREGULAR loads");
    let rect = import(&network_with(
        "",
        &CONDUITS_DEPTH.replace("0.013 0.5 0.2", "0.03 0.5 0.2"),
        "RECT_OPEN 2 4",
        "",
    ))
    .unwrap();
    let (a, b) = (capacity(&s, "C1"), capacity(&rect, "C1"));
    assert!((a - b).abs() < 1e-9 * b, "transect {a} vs RECT_OPEN {b}");
    // 4·2 m² at R = 8/8 = 1 m, slope 1.3/100: 8·√0.013/0.03.
    assert!((b - 8.0 * 0.013f64.sqrt() / 0.03).abs() < 1e-9, "{b}");
    assert!(
        !s.notes
            .iter()
            .any(|n| n.contains("IRREGULAR") || n.contains("TRANSECTS")),
        "{:?}",
        s.notes
    );
    let missing = text.replace("C1 IRREGULAR RECT", "C1 IRREGULAR NOPE");
    let e = import(&missing).unwrap_err();
    assert!(e.contains("transect 'NOPE' is not in [TRANSECTS]"), "{e}");
}

struct MaxVolume {
    node: usize,
    max_m3: f64,
}

impl Observer for MaxVolume {
    fn observe(&mut self, v: &StepView) {
        self.max_m3 = self.max_m3.max(v.node_volume[self.node]);
    }
}

#[test]
fn a_conduit_leaving_a_storage_unit_carries_its_outflow() {
    // One hectare, 20 mm in an hour, into a 100 m² storage unit that drains through a
    // 0.3 m pipe to an outfall. EPA SWMM 5.2.4 (swmm-toolkit 0.17.0, this very file):
    // 0.198 × 10⁶ l at OUT1, largest stored volume 0.013 × 10³ m³, no flooding.
    let s = load(&here().join("storage_probe.inp"), &ImportOptions::default()).unwrap();
    let runoff = compute_runoff(&s);
    let st = s.node_index("ST1").unwrap();
    let mut obs = MaxVolume {
        node: st,
        max_m3: 0.0,
    };
    let bal = route(&s, &runoff, &mut obs);
    let out = bal.outfall_m3[s.node_index("OUT1").unwrap()];
    assert!((out - 198.0).abs() < 2.0, "OUT1 {out} m³, SWMM 198 m³");
    let flooded: f64 = bal.flooding_m3.iter().sum();
    assert!(flooded < 0.01, "flooding {flooded}");
    assert!(
        (obs.max_m3 - 13.0).abs() < 3.0,
        "largest stored {} m³, SWMM 13",
        obs.max_m3
    );
}
