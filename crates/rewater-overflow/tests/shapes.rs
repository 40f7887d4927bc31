//! Every cross-section family SWMM 5 lists, each in a small dynamic-wave file
//! (`tests/shapes/*.inp`: a 200 m conduit of that shape between a junction that floods
//! and a free outfall, under an inflow peaking above the conduit's capacity), against the
//! outfall volume SWMM 5.2.4 gives for the same file (`tests/shapes/reference.json`,
//! written by `tools/swmm_shapes.py` with swmm-toolkit 0.17.0). How much reaches the
//! outfall is the conduit's capacity at every depth, so the shape's geometry decides it.
//! Bound: issue 14's 2 %.

use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/shapes")
}

fn check(shape: &str) {
    check_within(shape, 2.0);
}

fn check_within(shape: &str, bound_pct: f64) {
    let text = std::fs::read_to_string(dir().join("reference.json")).expect("reference.json");
    let reference: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let swmm = reference[shape]["outfall_m3"]
        .as_f64()
        .expect("SWMM's outfall volume");
    let path = dir().join(format!("{}.inp", shape.to_ascii_lowercase()));
    let f = rewater_overflow::peer::run_file(&path).expect("the file is accepted");
    assert!(
        !f.notes.iter().any(|n| n.contains("approximated")),
        "{shape}: {:?}",
        f.notes
    );
    let ours = f.outfall_m3["O1"];
    let diff = (ours - swmm) / swmm * 100.0;
    eprintln!("{shape}: rewater {ours:.0} m³, SWMM {swmm:.0} m³, {diff:+.2} %");
    assert!(
        diff.abs() <= bound_pct,
        "{shape}: {diff:+.2} % from SWMM (bound {bound_pct} %)"
    );
}

macro_rules! shape_test {
    ($($test:ident => $shape:literal),* $(,)?) => {
        $(#[test]
        fn $test() {
            check($shape);
        })*
    };
}

shape_test!(
    circular => "CIRCULAR",
    rect_closed => "RECT_CLOSED",
    rect_open => "RECT_OPEN",
    trapezoidal => "TRAPEZOIDAL",
    triangular => "TRIANGULAR",
    parabolic => "PARABOLIC",
    power => "POWER",
    rect_triangular => "RECT_TRIANGULAR",
    rect_round => "RECT_ROUND",
    modbaskethandle => "MODBASKETHANDLE",
    egg => "EGG",
    horseshoe => "HORSESHOE",
    gothic => "GOTHIC",
    catenary => "CATENARY",
    semielliptical => "SEMIELLIPTICAL",
    baskethandle => "BASKETHANDLE",
    semicircular => "SEMICIRCULAR",
    horiz_ellipse => "HORIZ_ELLIPSE",
    vert_ellipse => "VERT_ELLIPSE",
    arch => "ARCH",
    irregular => "IRREGULAR",
    custom => "CUSTOM",
);

/// CUSTOM's curve, checked as SWMM checks it, with the line and the curve named.
#[test]
fn custom_shape_errors_name_the_line_and_the_curve() {
    use rewater_overflow::inp::{parse, ImportOptions};
    let text = std::fs::read_to_string(dir().join("custom.inp")).expect("custom.inp");
    let import = |t: &str| {
        parse(t, "custom.inp", &dir(), &ImportOptions::default())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    import(&text).expect("the file is accepted");
    let cases = [
        (
            "CUSTOM  1.0  S1",
            "CUSTOM  1.0  S9",
            "curve 'S9' is not in [CURVES]",
        ),
        (
            "S1  SHAPE",
            "S1  STORAGE",
            "curve 'S1' is a STORAGE curve, not a SHAPE curve",
        ),
        (
            "S1         0.6  1.2",
            "S1         0.1  1.2",
            "point 3 of the SHAPE curve",
        ),
        (
            "S1         0.2  0.9",
            "S1         0.2  -0.9",
            "widths must not be negative",
        ),
        (
            "CUSTOM  1.0  S1",
            "CUSTOM  -1  S1",
            "geom1 (full depth) must be positive",
        ),
    ];
    for (from, to, says) in cases {
        assert!(text.contains(from), "{from}");
        let e = import(&text.replace(from, to)).expect_err(to);
        assert!(e.contains("line 31") && e.contains(says), "{to}: {e}");
    }
}

/// FILLED_CIRCULAR counts the fill's surface in the wetted perimeter as SWMM 5.2 does
/// (wider than its chord; see `Profile::filled_circle`), so its flows are SWMM's. The same
/// shape filled to other depths and in a 2 km conduit, where friction decides.
#[test]
fn filled_circular() {
    check("FILLED_CIRCULAR");
    check("FILLED_CIRCULAR_DEEP");
    check("FILLED_CIRCULAR_LONG");
}
