//! Malformed and hostile input: every error names the file and the line or field, and
//! no input makes the importers panic.

use rewater_overflow::inp::{parse, ImportOptions};
use rewater_overflow::rain::Random;
use std::path::{Path, PathBuf};

fn swmm_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/swmm")
}

fn tank_inp() -> String {
    std::fs::read_to_string(swmm_dir().join("tank.inp")).unwrap()
}

fn import(text: &str) -> Result<rewater_overflow::System, String> {
    parse(text, "case.inp", &swmm_dir(), &ImportOptions::default()).map_err(|e| e.to_string())
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.starts_with(needle)).unwrap() + 1
}

#[test]
fn inp_errors_name_the_line() {
    let good = tank_inp();
    let bad = good.replace(
        "S2     RG1  J1     20   45",
        "S2     RG1  J1     twenty   45",
    );
    let e = import(&bad).unwrap_err();
    let line = line_of(&bad, "S2     RG1");
    assert!(
        e.contains(&format!("line {line}")) && e.contains("twenty"),
        "{e}"
    );

    let bad = good.replace("C4     J3   WWTP 500", "C4     J3   NOWHERE 500");
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("NOWHERE") && e.contains(&format!("line {}", line_of(&bad, "C4     J3"))),
        "{e}"
    );

    let bad = good.replace("AND LINK C3 FLOW < 0.15", "AND LINK C3 FLOW < LINK C4 FLOW");
    let e = import(&bad).unwrap_err();
    assert!(e.contains("comparing two attributes"), "{e}");

    let bad = good.replace("THEN PUMP P1 STATUS = ON", "THEN PUMP P9 STATUS = ON");
    let e = import(&bad).unwrap_err();
    assert!(
        e.contains("P9") && e.contains(&format!("line {}", line_of(&bad, "THEN PUMP P9"))),
        "{e}"
    );

    let bad = good.replace("FILE \"rain.dat\"", "FILE \"missing.dat\"");
    let e = import(&bad).unwrap_err();
    assert!(e.contains("missing.dat"), "{e}");

    let bad = good.replace("CMS", "FURLONGS");
    assert!(import(&bad).unwrap_err().contains("FLOW_UNITS"));

    let bad = good.replace(
        "D1     18   C5      CUTOFF 0.30",
        "D1     18   C5      CUTOFF high",
    );
    assert!(import(&bad).unwrap_err().contains("cutoff"));
}

#[test]
fn inp_reports_what_it_ignored() {
    let text = tank_inp().replace(
        "[REPORT]",
        "[POLLUTANTS]\nTSS MG/L 0 0 0 0 0 0 0\n\n[INFLOWS]\nJ1 FLOW \"\" FLOW 1.0 1.0 0.1\n\n[REPORT]",
    );
    let s = import(&text).unwrap();
    assert!(
        s.notes.iter().any(|n| n.contains("[POLLUTANTS]")),
        "{:?}",
        s.notes
    );
    // [INFLOWS] is modelled now: the 0.1 m³/s baseline (CMS) without a time series is a
    // constant inflow at J1.
    let j1 = s.node_index("J1").unwrap();
    assert!(
        s.dry_weather
            .iter()
            .any(|d| d.node == j1 && (d.base_m3_per_s - 0.1).abs() < 1e-12),
        "{:?}",
        s.dry_weather
    );
    assert!(
        !s.notes.iter().any(|n| n.contains("[INFLOWS]")),
        "{:?}",
        s.notes
    );
    assert_eq!(s.rules.len(), 1);
    assert_eq!(s.subcatchments.len(), 3);
}

#[test]
fn mangled_inp_files_never_panic() {
    let good = tank_inp();
    let lines: Vec<&str> = good.lines().collect();
    let mut rng = Random::new(99);
    let junk = [
        "",
        "-1",
        "1e309",
        "NaN",
        "[",
        "]",
        "\"",
        ";",
        "0",
        "99999999999",
        "ÿ",
        "FILE",
        "RULE",
        "*",
    ];
    let mut failures = 0;
    for _ in 0..1500 {
        let mut out: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        for _ in 0..(1 + rng.next_u64() % 4) {
            let i = (rng.next_u64() as usize) % out.len();
            let mut toks: Vec<String> = out[i].split_whitespace().map(String::from).collect();
            match rng.next_u64() % 4 {
                0 if !toks.is_empty() => {
                    let k = (rng.next_u64() as usize) % toks.len();
                    toks.remove(k);
                }
                1 if !toks.is_empty() => {
                    let k = (rng.next_u64() as usize) % toks.len();
                    toks[k] = junk[(rng.next_u64() as usize) % junk.len()].to_string();
                }
                2 => {
                    out.remove(i);
                    continue;
                }
                _ => toks.push(junk[(rng.next_u64() as usize) % junk.len()].to_string()),
            }
            out[i] = toks.join(" ");
        }
        // Parse only; a mangled but valid file is fine too.
        if import(&out.join("\n")).is_err() {
            failures += 1;
        }
    }
    assert!(
        failures > 100,
        "mangling should break many files ({failures})"
    );
    // Arbitrary bytes.
    for seed in 0..200u64 {
        let mut r = Random::new(seed);
        let bytes: Vec<u8> = (0..(r.next_u64() % 2000))
            .map(|_| (r.next_u64() % 256) as u8)
            .collect();
        let _ = import(&String::from_utf8_lossy(&bytes));
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn case_errors_name_the_field_or_line() {
    let dir = std::env::temp_dir().join(format!("rewater-overflow-inputs-{}", std::process::id()));
    write(&dir, "rain.csv", "2021-07-01 00:00,5\n2021-07-01 01:00,x\n");
    let base = "name = \"c\"\n[[gage]]\nname = \"G\"\nfile = \"rain.csv\"\n";
    let e = rewater_overflow::case::load(&write(&dir, "a.toml", base))
        .unwrap_err()
        .to_string();
    assert!(e.contains("rain.csv") && e.contains("line 2"), "{e}");
    write(&dir, "rain.csv", "2021-07-01 00:00,5\n2021-07-01 01:00,1\n");
    let typo = format!("{base}[[subcatchment]]\nname = \"S\"\noutlet = \"R\"\narea_ha = 1\nimperv_pct = 50\nwidth_m = 10\nslope_pct = 1\nhorton = {{ f0_mm_per_h = 1, fmin_mm_per_h = 1, decay_per_h = 1, dry_days = 1, colour = 3 }}\n");
    let e = rewater_overflow::case::load(&write(&dir, "b.toml", &typo))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("b.toml") && e.contains("line 12") && e.contains("colour"),
        "{e}"
    );
    let no_outlet = typo.replace(", colour = 3", "");
    let e = rewater_overflow::case::load(&write(&dir, "c.toml", &no_outlet))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("subcatchment 'S'") && e.contains("outlet 'R'"),
        "{e}"
    );
    let bad_pct =
        format!("{no_outlet}[[regulator]]\nname = \"R\"\nriver = \"X\"\ninterceptor_n0 = 2\n")
            .replace("imperv_pct = 50", "imperv_pct = 150");
    let e = rewater_overflow::case::load(&write(&dir, "d.toml", &bad_pct))
        .unwrap_err()
        .to_string();
    assert!(e.contains("imperv_pct = 150"), "{e}");
    let both = format!("{no_outlet}[[regulator]]\nname = \"R\"\nriver = \"X\"\ninterceptor_n0 = 2\ninterceptor_m3_per_s = 1\n");
    let e = rewater_overflow::case::load(&write(&dir, "e.toml", &both))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("regulator 'R'") && e.contains("interceptor"),
        "{e}"
    );
}
