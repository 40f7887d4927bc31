//! rewater on EPA SWMM 5's own example and test inputs, one test per file, against what
//! SWMM 5.2.4 reported for each (`swmm524_results.json`).
//!
//! READS `../shared/reference/overflow/swmm-examples/` (or `$REWATER_SWMM_EXAMPLES`),
//! outside the repository: when it is absent every test here says so loudly and passes —
//! and fails under `CI=1`.
//!
//! Each file is either accepted or refused naming the SWMM feature rewater does not
//! model. Accepted files must agree with SWMM's surface runoff within 0.5 % (issue 14).
//! Outfall volumes and flooding are asserted within the bounds below, each file routed by
//! its own method and step: the 2 % (kinematic wave) and 5 % (dynamic wave) where
//! rewater meets them, and the figure it reaches where it does not (the table in
//! `docs/overflow.md` says "yes" or "no").
//! `docs_table_is_current` keeps that table equal to what these runs give
//! (`REWATER_UPDATE_DOCS=1` rewrites it).

use rewater_overflow::peer::{compare_dir, compare_file, markdown_table, Comparison};
use std::path::PathBuf;

fn examples() -> Option<(PathBuf, serde_json::Value)> {
    let dir = std::env::var_os("REWATER_SWMM_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/reference/overflow/swmm-examples")
        });
    let results = dir.join("swmm524_results.json");
    let Ok(text) = std::fs::read_to_string(&results) else {
        eprintln!(
            "\n=== SKIPPED: {} is absent — the SWMM example comparison did not run ===\n",
            results.display()
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("1"),
            "CI=1 and the SWMM examples are absent: {}",
            results.display()
        );
        return None;
    };
    let value = serde_json::from_str(&text).expect("swmm524_results.json is JSON");
    Some((dir, value))
}

enum Expect {
    /// Accepted; outfall and flooding differences (% as [`Comparison`] defines them) no
    /// larger than these.
    Accepted { outfall_pct: f64, flooding_pct: f64 },
    /// Refused with a message naming this.
    Refused(&'static str),
}

fn check(name: &str, expect: Expect) {
    let Some((dir, results)) = examples() else {
        return;
    };
    let c = compare_file(&dir, name, &results).expect("the file has SWMM results");
    eprintln!("{}", markdown_table(std::slice::from_ref(&c)));
    match (expect, &c.rewater) {
        (Expect::Refused(what), Err(e)) => {
            assert!(e.contains(what), "{name}: refused, but not for {what}: {e}")
        }
        (Expect::Refused(what), Ok(_)) => {
            panic!("{name}: now accepted (expected a refusal for {what}); update the test")
        }
        (Expect::Accepted { .. }, Err(e)) => panic!("{name}: refused: {e}"),
        (
            Expect::Accepted {
                outfall_pct,
                flooding_pct,
            },
            Ok(f),
        ) => {
            assert!(f.surface_runoff_m3.is_finite());
            if let Some(d) = c.runoff_diff_pct() {
                assert!(
                    d.abs() <= 0.5,
                    "{name}: surface runoff {d:+.3} % from SWMM's"
                );
            }
            if let Some(d) = c.worst_outfall_diff_pct() {
                assert!(
                    d.abs() <= outfall_pct,
                    "{name}: outfall {d:+.2} % from SWMM (bound {outfall_pct} %)"
                );
            }
            if let Some(d) = c.flooding_diff_pct() {
                assert!(
                    d.abs() <= flooding_pct,
                    "{name}: flooding {d:+.2} % from SWMM (bound {flooding_pct} %)"
                );
            }
        }
    }
}

fn accepted(outfall_pct: f64, flooding_pct: f64) -> Expect {
    Expect::Accepted {
        outfall_pct,
        flooding_pct,
    }
}

macro_rules! file_test {
    ($test:ident, $name:literal, $expect:expr) => {
        #[test]
        fn $test() {
            check($name, $expect);
        }
    };
}

// Kinematic wave: the 2 % holds for Example1's outfall, not its flooding.
file_test!(example1, "Example1", accepted(2.0, 20.0));
file_test!(test_example1, "test_example1", accepted(2.0, 20.0));
file_test!(example5, "Example5", accepted(2.0, 1.0));
// Dynamic wave, at the files' own ROUTING_STEP (variable where they ask).
file_test!(example2, "Example2", accepted(5.0, 5.0));
file_test!(example3, "Example3", accepted(5.0, 5.0));
file_test!(example6, "Example6", accepted(5.0, 5.0));
file_test!(
    site_drainage_model,
    "site_drainage_model",
    accepted(5.0, 5.0)
);
file_test!(
    site_drainage_model_hotstart_bugfixes,
    "site_drainage_model_hotstart_bugfixes",
    accepted(5.0, 5.0)
);
file_test!(user1, "user1", accepted(5.0, 5.0));
file_test!(user2, "user2", accepted(5.0, 5.0));
// 130 storage units as manholes behind fixed outfall stages, 29 egg-shaped sewers (SWMM's
// egg table; a drawn egg of the same full area flooded 6 % less).
file_test!(user3, "user3", accepted(5.0, 5.0));
file_test!(user4, "user4", accepted(5.0, 5.0));
// 181 irregular channels behind a 12 m fixed outfall stage (their NC lines give the left,
// right and then the main channel's n; read in that order the outfall is within 0.4 %).
file_test!(user5, "user5", accepted(5.0, 5.0));
// Water standing in the pipes at the start, flushed by a gate under TIMEOPEN rules: SWMM
// delivers nothing at the outfall and floods nothing; neither does rewater.
file_test!(gate_control_2, "gate_control_2", accepted(5.0, 5.0));
file_test!(gate_control_3, "gate_control_3", accepted(5.0, 5.0));
// LID controls change the water balance and are not modelled: refused (the issue allows
// two such files among those SWMM runs).
file_test!(example4, "Example4", Expect::Refused("[LID_USAGE]"));
file_test!(
    porous_pavement,
    "porous_pavement",
    Expect::Refused("[LID_USAGE]")
);
// SWMM itself refuses these (ERROR 235 for Green-Ampt moisture deficits over 1, ERROR 317 for
// a data file named as a Windows path).
file_test!(bioretention, "bioretention", Expect::Refused("[LID_USAGE]"));
file_test!(
    catchment_as_outfall,
    "catchment_as_outfall",
    Expect::Refused("error 235")
);
file_test!(rain_garden, "rain_garden", Expect::Refused("[LID_USAGE]"));
file_test!(
    events_example,
    "events_example",
    Expect::Refused(".\\events_example.dat")
);
file_test!(
    ncdc_format,
    "ncdc_format",
    Expect::Refused(".\\ncdc_format_old.dat")
);

/// Wall time of import + runoff + dynamic-wave routing of user1–user5 at their own
/// steps, best of three (`docs/benchmarks.md`): run in release, on a quiet machine,
/// beside `tools/swmm_reference.py --time` for SWMM.
#[test]
#[ignore = "a benchmark: cargo test --release --test swmm_examples dynwave_timing -- --ignored --nocapture"]
fn dynwave_timing() {
    let Some((dir, _)) = examples() else {
        return;
    };
    for name in ["user1", "user2", "user3", "user4", "user5"] {
        let path = dir.join(format!("{name}.inp"));
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let s = rewater_overflow::inp::load(&path, &Default::default()).expect("loads");
            rewater_overflow::peer::run_system(&s);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{name}.inp rewater {best:.3} s");
    }
}

const BEGIN: &str = "<!-- swmm-examples table: begin (generated by tests/swmm_examples.rs) -->\n";
const END: &str = "<!-- swmm-examples table: end -->";

#[test]
fn docs_table_is_current() {
    let Some((dir, results)) = examples() else {
        return;
    };
    let rows: Vec<Comparison> = compare_dir(&dir, &results);
    assert_eq!(rows.len(), 22, "the suite has 22 files");
    let table = markdown_table(&rows);
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/overflow.md");
    let text = std::fs::read_to_string(&docs).expect("docs/overflow.md");
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        panic!("docs/overflow.md has no generated swmm-examples table markers");
    };
    let current = &text[a + BEGIN.len()..b];
    if current != table {
        if std::env::var("REWATER_UPDATE_DOCS").as_deref() == Ok("1") {
            let new = format!("{}{BEGIN}{table}{}", &text[..a], &text[b..]);
            std::fs::write(&docs, new).expect("write docs/overflow.md");
            eprintln!("docs/overflow.md: table rewritten");
        } else {
            panic!(
                "docs/overflow.md's SWMM examples table is out of date; run with REWATER_UPDATE_DOCS=1\n{table}"
            );
        }
    }
}
