//! Inputs that asked for more than the machine has, or described a network the routing
//! cannot mean (issue 12, finding 13): each is refused before anything is sized by it,
//! with the line or field named.

use rewater_overflow::inp::{parse, ImportOptions};
use rewater_overflow::limits;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn swmm_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/swmm")
}

fn tank_inp() -> String {
    std::fs::read_to_string(swmm_dir().join("tank.inp")).unwrap()
}

fn import_in(
    text: &str,
    dir: &Path,
    options: &ImportOptions,
) -> Result<rewater_overflow::System, String> {
    parse(text, "case.inp", dir, options).map_err(|e| e.to_string())
}

fn import(text: &str) -> Result<rewater_overflow::System, String> {
    import_in(text, &swmm_dir(), &ImportOptions::default())
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.starts_with(needle)).unwrap() + 1
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rewater-overflow-hostile-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replace one exact piece of the reference file (it must be there).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "'{from}' is not in the file");
    text.replacen(from, to, 1)
}

#[test]
fn the_good_file_still_imports() {
    let s = import(&tank_inp()).unwrap();
    // 2011–2015 at its ROUTING_STEP of 30 s (a KINWAVE file is routed at its own step).
    assert_eq!(s.clock.steps, 1826 * 2880);
    assert!(s.find_cycle().is_none());
}

#[test]
fn end_date_9999_is_refused_on_the_parsed_dates_without_allocating() {
    let bad = edit(
        &tank_inp(),
        "END_DATE             01/01/2016",
        "END_DATE             12/31/9999",
    );
    let t0 = Instant::now();
    let e = import(&bad).unwrap_err();
    assert!(t0.elapsed().as_secs() < 5, "took {:?}", t0.elapsed());
    assert!(
        e.contains(&format!("line {}", line_of(&bad, "END_DATE")))
            && e.contains("7989 years")
            && e.contains("at most 200"),
        "{e}"
    );
    // 199 years is a long but allowed span; at one-second steps it is too many steps.
    let long = edit(
        &tank_inp(),
        "END_DATE             01/01/2016",
        "END_DATE             01/01/2210",
    );
    let e = import_in(
        &long,
        &swmm_dir(),
        &ImportOptions {
            step_s: Some(1),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.contains(&format!("line {}", line_of(&long, "END_DATE")))
            && e.contains("6279811200 steps of 1 s")
            && e.contains(&limits::MAX_STEPS.to_string()),
        "{e}"
    );
}

#[test]
fn huge_times_and_clock_values_are_refused_not_overflowed() {
    let bad = edit(
        &tank_inp(),
        "START_TIME           00:00:00",
        "START_TIME           99999999999999999:00",
    );
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("START_TIME") && e.contains(&format!("line {}", line_of(&bad, "START_TIME"))),
        "{e}"
    );
    let bad = edit(
        &tank_inp(),
        "RG1     INTENSITY  1:00",
        "RG1     INTENSITY  1e300",
    );
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("rain interval")
            && e.contains(&format!("line {}", line_of(&bad, "RG1     INTENSITY"))),
        "{e}"
    );
}

#[test]
fn a_cyclic_network_is_refused_with_the_cycle_named() {
    let bad = edit(
        &edit(&tank_inp(), "C5     D1   T1   50     0.013     0        0", "C5     D1   T1   50     0.013     0        0\nC9     J3   J1   100    0.013     0        0"),
        "C5     CIRCULAR  2.5   0     0     0     1",
        "C5     CIRCULAR  2.5   0     0     0     1\nC9     CIRCULAR  1.0   0     0     0     1",
    );
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("J1 → J2 → D1 → J3 → J1")
            && e.contains("C1, C2, C3, C9")
            && e.contains(&format!("line {}", line_of(&bad, "C1     J1"))),
        "{e}"
    );
}

#[test]
fn a_self_loop_conduit_is_refused_with_its_line() {
    let bad = edit(&tank_inp(), "C4     J3   WWTP 500", "C4     J3   J3   500");
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("'C4' leaves and enters the same node 'J3'")
            && e.contains(&format!("line {}", line_of(&bad, "C4     J3"))),
        "{e}"
    );
}

#[test]
fn zero_or_negative_dimensions_are_refused_with_the_line() {
    for (from, to, line_start, words) in [
        (
            "C3     CIRCULAR  1.0",
            "C3     CIRCULAR  0  ",
            "C3     CIRCULAR",
            "geom1",
        ),
        (
            "C3     CIRCULAR  1.0",
            "C3     CIRCULAR  -1.0",
            "C3     CIRCULAR",
            "geom1",
        ),
        (
            "W1     RECT_OPEN 1.0   30",
            "W1     RECT_OPEN 1.0   0 ",
            "W1     RECT_OPEN",
            "weir 'W1'",
        ),
        (
            "C3     D1   J3   200",
            "C3     D1   J3   0  ",
            "C3     D1",
            "length",
        ),
        (
            "C3     D1   J3   200    0.013",
            "C3     D1   J3   200    -0.01",
            "C3     D1",
            "roughness",
        ),
        (
            "T1     10   5.5",
            "T1     10   0.0",
            "T1     10",
            "maximum depth",
        ),
    ] {
        let bad = edit(&tank_inp(), from, to);
        let e = import(&bad).unwrap_err();
        assert!(
            e.contains(words) && e.contains(&format!("line {}", line_of(&bad, line_start))),
            "{to}: {e}"
        );
    }
    let inline = std::fs::read_to_string(swmm_dir().join("inline.inp")).unwrap();
    let bad = edit(&inline, "OR1    CIRCULAR  0.25", "OR1    CIRCULAR  0.0 ");
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("orifice 'OR1'")
            && e.contains(&format!("line {}", line_of(&bad, "OR1    CIRCULAR"))),
        "{e}"
    );
}

#[test]
fn rain_records_cannot_ask_for_huge_series() {
    // A time series from 1900 to 9000: 7,100 years of one-hour intervals.
    let ts = "[TIMESERIES]\nTS1 01/01/1900 00:00 1.0\nTS1 01/01/9000 00:00 1.0\n\n[REPORT]";
    let bad = edit(
        &edit(&tank_inp(), "[REPORT]", ts),
        "RG1     INTENSITY  1:00     1.0 FILE \"rain.dat\" STA1 MM",
        "RG1     INTENSITY  1:00     1.0 TIMESERIES TS1",
    );
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("spans 7100 years")
            && e.contains(&format!("line {}", line_of(&bad, "RG1     INTENSITY"))),
        "{e}"
    );
    // Within the span but at a one-second interval: too many intervals.
    let ts = "[TIMESERIES]\nTS1 01/01/2011 00:00 1.0\nTS1 01/01/2015 00:00 1.0\n\n[REPORT]";
    let bad = edit(
        &edit(&tank_inp(), "[REPORT]", ts),
        "RG1     INTENSITY  1:00     1.0 FILE \"rain.dat\" STA1 MM",
        "RG1     INTENSITY  0:00:01  1.0 TIMESERIES TS1",
    );
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("126230401 intervals") && e.contains(&limits::MAX_RAIN_INTERVALS.to_string()),
        "{e}"
    );
}

#[test]
fn rain_and_series_files_are_bounded() {
    let dir = tmp("files");
    std::fs::copy(swmm_dir().join("rain.dat"), dir.join("rain.dat")).unwrap();
    // A device never ends: refused before reading.
    let bad = edit(&tank_inp(), "FILE \"rain.dat\"", "FILE \"/dev/zero\"");
    let e = import_in(&bad, &dir, &ImportOptions::default()).unwrap_err();
    assert!(
        e.contains("/dev/zero") && e.contains("not a regular file"),
        "{e}"
    );
    // An hour of 1e300 in a rain file.
    std::fs::write(dir.join("big.dat"), "STA1 2011 1 5 1e300 0 0.2\n").unwrap();
    let bad = edit(&tank_inp(), "FILE \"rain.dat\"", "FILE \"big.dat\"");
    let e = import_in(&bad, &dir, &ImportOptions::default()).unwrap_err();
    assert!(
        e.contains("big.dat, line 1") && e.contains("out of range"),
        "{e}"
    );
    // A time-series file that names itself would recurse for ever.
    std::fs::write(dir.join("self.dat"), "FILE self.dat\n").unwrap();
    let text = edit(
        &edit(
            &tank_inp(),
            "[REPORT]",
            "[TIMESERIES]\nTS1 FILE self.dat\n\n[REPORT]",
        ),
        "RG1     INTENSITY  1:00     1.0 FILE \"rain.dat\" STA1 MM",
        "RG1     INTENSITY  1:00     1.0 TIMESERIES TS1",
    );
    let e = import_in(&text, &dir, &ImportOptions::default()).unwrap_err();
    assert!(
        e.contains("self.dat, line 1") && e.contains("cannot name another file"),
        "{e}"
    );
    // Rows from a file that go back before the inline rows.
    std::fs::write(dir.join("early.dat"), "01/01/2011 00:00 1.0\n").unwrap();
    let text = edit(
        &edit(
            &tank_inp(),
            "[REPORT]",
            "[TIMESERIES]\nTS1 01/02/2011 00:00 1.0\nTS1 FILE early.dat\n\n[REPORT]",
        ),
        "RG1     INTENSITY  1:00     1.0 FILE \"rain.dat\" STA1 MM",
        "RG1     INTENSITY  1:00     1.0 TIMESERIES TS1",
    );
    let e = import_in(&text, &dir, &ImportOptions::default()).unwrap_err();
    assert!(e.contains("goes back in time"), "{e}");
}

fn write_case(name: &str, body: &str) -> PathBuf {
    let dir = tmp("case");
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

const CASE: &str = r#"
name = "hostile"
step_s = 300
start = "2020-01-01"
end = "2021-01-01"

[[gage]]
name = "G"
synthetic = { start_year = 2020, years = 1 }

[[subcatchment]]
name = "S"
outlet = "R"
area_ha = 1
imperv_pct = 100
width_m = 100
slope_pct = 1

[[regulator]]
name = "R"
river = "X"
interceptor_m3_per_s = 0.1
"#;

fn case_error(name: &str, body: &str) -> String {
    rewater_overflow::case::load(&write_case(name, body))
        .unwrap_err()
        .to_string()
}

#[test]
fn case_horizon_and_synthetic_years_are_bounded() {
    assert!(rewater_overflow::case::load(&write_case("ok.toml", CASE)).is_ok());
    let e = case_error("end.toml", &CASE.replace("2021-01-01", "9999-12-31"));
    assert!(
        e.contains("end.toml") && e.contains("start to end") && e.contains("at most 200"),
        "{e}"
    );
    let e = case_error(
        "years.toml",
        &CASE.replace("years = 1 }", "years = 4000000000 }"),
    );
    assert!(
        e.contains("gage 'G'") && e.contains("years = 4000000000"),
        "{e}"
    );
    // A one-second step over 200 years, set after loading.
    let mut s = rewater_overflow::case::load(&write_case(
        "ok2.toml",
        &CASE
            .replace("2021-01-01", "2219-01-01")
            .replace("years = 1 }", "years = 199 }"),
    ))
    .unwrap();
    let e = s.set_step(1).unwrap_err();
    assert!(e.contains("steps of 1 s"), "{e}");
    assert_eq!(
        s.clock.step_s, 300,
        "a refused step leaves the clock as it was"
    );
}

#[test]
fn case_loops_and_self_loops_are_refused_with_the_chain_named() {
    let looped = format!(
        "{CASE}to = \"J\"\n\n[[junction]]\nname = \"J\"\nto = \"K\"\n\n[[junction]]\nname = \"K\"\nto = \"J\"\n"
    );
    let e = case_error("loop.toml", &looped);
    assert!(e.contains("loop.toml") && e.contains("J → K → J"), "{e}");
    let selfish = format!("{CASE}to = \"R\"\n");
    let e = case_error("self.toml", &selfish);
    assert!(e.contains("R → R"), "{e}");
}

#[test]
fn case_lags_and_tank_values_are_bounded() {
    let e = case_error(
        "lag.toml",
        &CASE.replace("slope_pct = 1\n", "slope_pct = 1\nlag_min = 1e12\n"),
    );
    assert!(
        e.contains("subcatchment 'S'") && e.contains("lag_min"),
        "{e}"
    );
    let e = case_error(
        "jlag.toml",
        &format!(
            "{CASE}to = \"J\"\n\n[[junction]]\nname = \"J\"\nto = \"plant\"\nreservoir_min = -5\n"
        ),
    );
    assert!(
        e.contains("junction 'J'") && e.contains("reservoir_min"),
        "{e}"
    );
    let e = case_error(
        "tank.toml",
        &format!("{CASE}tank = {{ volume_m3 = 1e308, depth_m = 1e-308, drain_m3_per_s = 0.1 }}\n"),
    );
    assert!(
        e.contains("regulator 'R'") && e.contains("volume_m3"),
        "{e}"
    );
    let e = case_error(
        "events.toml",
        &CASE.replace("step_s = 300", "step_s = 300\ninter_event_h = nan"),
    );
    assert!(e.contains("inter_event_h"), "{e}");
}

#[test]
fn a_case_rain_csv_cannot_ask_for_a_huge_series() {
    let dir = tmp("csv");
    std::fs::write(
        dir.join("rain.csv"),
        "timestamp,mm\n1900-01-01 00:00,1\n9000-01-01 00:00,1\n",
    )
    .unwrap();
    let p = dir.join("c.toml");
    std::fs::write(
        &p,
        CASE.replace(
            "synthetic = { start_year = 2020, years = 1 }",
            "file = \"rain.csv\"",
        ),
    )
    .unwrap();
    let e = rewater_overflow::case::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("rain.csv, line 3") && e.contains("spans 7100 years"),
        "{e}"
    );
}

#[test]
fn a_line_too_long_to_be_swmm_is_refused_before_it_is_split() {
    let long = format!("[TITLE]\n{}\n", "x ".repeat(limits::MAX_LINE_BYTES));
    let bad = edit(&tank_inp(), "[TITLE]\n", &long);
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("line 2") && e.contains("over 65536 bytes"),
        "{e}"
    );
    // Map sections are skipped, however long, without a note.
    let map = format!("[POLYGONS]\n{}[REPORT]", "S1 1.0 2.0\n".repeat(10_000));
    let s = import(&edit(&tank_inp(), "[REPORT]", &map)).unwrap();
    assert!(
        !s.notes.iter().any(|n| n.contains("POLYGONS")),
        "{:?}",
        s.notes
    );
}

#[test]
fn event_statistics_are_bounded_before_a_run() {
    // 200 years of rain and 10,000 overflow outlets: every event would keep 10,000 values.
    let mut text = String::from(
        "name = \"many outlets\"\nstep_s = 3600\n\n[[gage]]\nname = \"G\"\nsynthetic = { start_year = 1900, years = 200 }\n",
    );
    for i in 0..10_000 {
        text.push_str(&format!(
            "\n[[regulator]]\nname = \"R{i}\"\nriver = \"X\"\ninterceptor_m3_per_s = 0.1\n"
        ));
    }
    let e = case_error("events.toml", &text);
    assert!(
        e.contains("events.toml")
            && e.contains("rain events")
            && e.contains("× 10008 statistics each")
            && e.contains(&limits::MAX_EVENT_CELLS.to_string()),
        "{e}"
    );
}

#[test]
fn counting_events_agrees_with_building_them() {
    let rain = rewater_overflow::rain::synthetic_hourly(2000, 3, 11);
    for inter_h in [1, 6, 24] {
        let all = rain.events(inter_h * 3600);
        let (a, b) = (rain.start_s + 200 * 86_400, rain.start_s + 600 * 86_400);
        let inside = all.iter().filter(|e| e.end_s > a && e.start_s < b).count();
        assert!(inside > 20, "{inside}");
        assert_eq!(
            rain.count_events(inter_h * 3600, a, b),
            inside,
            "{inter_h} h"
        );
        assert_eq!(
            rain.count_events(inter_h * 3600, i64::MIN, i64::MAX),
            all.len()
        );
    }
}

#[test]
fn dynamic_wave_steps_are_bounded() {
    let dw = edit(
        &tank_inp(),
        "FLOW_ROUTING         KINWAVE",
        "FLOW_ROUTING         DYNWAVE",
    );
    // Five years at 30 s: accepted, routed by dynamic wave.
    let s = import(&dw).unwrap();
    assert!(s.hydraulics.is_some());
    // At a millisecond: 1.6e11 steps, refused at the ROUTING_STEP line.
    let fine = edit(
        &dw,
        "ROUTING_STEP         0:00:30",
        "ROUTING_STEP         0.001",
    );
    let e = import(&fine).unwrap_err();
    assert!(e.contains("steps, over the"), "{e}");
    assert!(
        e.contains(&format!("line {}", line_of(&fine, "ROUTING_STEP"))),
        "{e}"
    );
    let zero = edit(
        &dw,
        "ROUTING_STEP         0:00:30",
        "ROUTING_STEP         0",
    );
    assert!(import(&zero).unwrap_err().contains("ROUTING_STEP must be"));
}
