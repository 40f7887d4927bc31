//! Rain files in NCDC's formats (online retrieval, old hundredths and new decimal inches;
//! DSI-3240 space-delimited), as SWMM 5 reads them: depths stamped at the end of each
//! hour. The last test also reads SWMM's own ncdc_format_*.dat from `../shared/` (loud
//! when absent, failing under CI=1).

use rewater_overflow::inp::{parse, ImportOptions};
use std::path::{Path, PathBuf};

fn gage_inp(file: &str) -> String {
    format!(
        "[OPTIONS]\nFLOW_UNITS CFS\nSTART_DATE 01/01/2013\nEND_DATE 01/31/2013\n\
         [RAINGAGES]\nG1 INTENSITY 1:00 1.0 FILE \"{file}\" * IN\n\
         [SUBCATCHMENTS]\nS1 G1 OUT1 1 100 100 1 0\n[SUBAREAS]\nS1 0.015 0.1 0 0 100 OUTLET\n\
         [OUTFALLS]\nOUT1 0 FREE\n"
    )
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rewater-rainfiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
    dir
}

/// (start of the first wet interval, interval s, total mm) of the imported gage.
fn rain_of(dir: &Path, file: &str) -> (i64, i64, f64) {
    let s = parse(&gage_inp(file), "g.inp", dir, &ImportOptions::default()).unwrap();
    let r = &s.gages[0].rain;
    let first = r.depth_m.iter().position(|&d| d > 0.0).unwrap();
    (
        r.start_s + first as i64 * r.interval_s,
        r.interval_s,
        r.total_mm(),
    )
}

const HEADER: &str = "STATION           DATE           HPCP     Measurement Flag Quality Flag\n\
                      ----------------- -------------- -------- ---------------- ------------\n";

#[test]
fn ncdc_online_old_and_new_give_the_same_depths() {
    let old = format!(
        "{HEADER}      COOP:134101 20130101 01:00 0        g\n      COOP:134101 20130110 22:00 10\n      COOP:134101 20130110 23:00 25\n      COOP:134101 20130111 13:00 99999    M\n"
    );
    let new = old.replace(" 10\n", " 0.10\n").replace(" 25\n", " 0.25\n");
    let dir = scratch("old.dat", &old);
    scratch("new.dat", &new);
    let (t_old, i_old, mm_old) = rain_of(&dir, "old.dat");
    let (t_new, i_new, mm_new) = rain_of(&dir, "new.dat");
    // 0.10 + 0.25 in; the missing reading is no rain; the 22:00 reading fell 21–22 h.
    assert!((mm_old - 0.35 * 25.4).abs() < 1e-9, "{mm_old}");
    assert!((mm_new - mm_old).abs() < 1e-9);
    assert_eq!((i_old, i_new), (3600, 3600));
    let want = rewater_overflow::time::parse_datetime("2013-01-10 21:00").unwrap();
    assert_eq!((t_old, t_new), (want, want));
}

#[test]
fn ncdc_dsi_3240_lines_are_read_per_hour() {
    let text = "COOPID CD ELEM UN YEAR MO DA TIME HOUR01 F F TIME HOUR02 F F\n\
                ------ -- ---- -- ---- -- -- ---- ------ - - ---- ------ - -\n\
                310301 01 HPCP HI 2013 01 05 0100  00000 g   0800  00012     0900  00030     2500  00042\n";
    let dir = scratch("dsi.dat", text);
    let (t, interval, mm) = rain_of(&dir, "dsi.dat");
    // 0.12 + 0.30 in; the 2500 total is not rain again.
    assert!((mm - 0.42 * 25.4).abs() < 1e-9, "{mm}");
    assert_eq!(interval, 3600);
    assert_eq!(
        t,
        rewater_overflow::time::parse_datetime("2013-01-05 07:00").unwrap()
    );
}

#[test]
fn windows_paths_are_named_as_such() {
    let dir = scratch("x.dat", "");
    let e = parse(
        &gage_inp(".\\\\missing.dat"),
        "g.inp",
        &dir,
        &ImportOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("Windows path"), "{e}");
}

#[test]
fn swmm_ncdc_example_files_old_and_new_agree() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/overflow/swmm-examples");
    if !dir.join("ncdc_format_old.dat").exists() {
        eprintln!("\n=== SKIPPED: {} is absent ===\n", dir.display());
        assert!(
            std::env::var("CI").as_deref() != Ok("1"),
            "CI=1 and ../shared is absent"
        );
        return;
    }
    let (t_old, _, mm_old) = rain_of(&dir, "ncdc_format_old.dat");
    let (t_new, _, mm_new) = rain_of(&dir, "ncdc_format_new.dat");
    assert_eq!(t_old, t_new);
    assert!(
        (mm_old - mm_new).abs() < 1e-6 && mm_old > 0.0,
        "{mm_old} vs {mm_new}"
    );
}
