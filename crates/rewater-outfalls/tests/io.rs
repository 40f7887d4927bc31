//! Import and export: round trips through CSV, XLSX and GeoJSON, and hostile files (bad
//! rows named by file, row and field; bad coordinates; cycles; huge files) refused whole.

mod common;

use rewater_outfalls::io::{export, import, Format};
use rewater_outfalls::{CheckOptions, Ledger, LedgerError};
use std::path::Path;

fn import_dir(d: &Path) -> Result<Ledger, LedgerError> {
    import(&Ledger::default(), &[d], CheckOptions::default()).map(|(l, _)| l)
}

fn problems(e: LedgerError) -> Vec<String> {
    match e {
        LedgerError::Invalid(p) => p.iter().map(|p| p.to_string()).collect(),
        other => vec![other.to_string()],
    }
}

#[test]
fn csv_import_reads_every_table_and_reports_counts_and_warnings() {
    let d = common::small_csv_dir("import");
    let (l, rep) = import(&Ledger::default(), &[&d], CheckOptions::default()).unwrap();
    assert_eq!(
        (
            rep.water_bodies,
            rep.reaches,
            rep.sections,
            rep.outfalls,
            rep.channels,
            rep.dischargers,
            rep.links
        ),
        (1, 3, 2, 3, 1, 2, 3)
    );
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    let o = l.outfall("1101080002110108B0002").unwrap();
    assert_eq!(o.conc_mg_per_l["nh3n"], 1.5);
    assert_eq!(o.location.datum, rewater_outfalls::geo::Datum::Cgcs2000);
    assert_eq!(o.survey_date.unwrap().to_string(), "2025-03-02");
    assert_eq!(l.chain_of("1101080001110108A0001").channels, ["P1"]);
    assert_eq!(
        l.chain_of("1101080001110108A0001").dischargers,
        ["91110108MA01ABCD1E"]
    );
    assert_eq!(
        l.reaches[0].geometry,
        vec![[116.30, 40.05], [116.32, 40.04]]
    );
}

#[test]
fn import_then_export_round_trips_in_every_format() {
    let l = common::small_ledger();
    let out = common::tmp("roundtrip");
    for (fmt, path) in [
        (Format::Csv, out.join("csv")),
        (Format::Xlsx, out.join("ledger.xlsx")),
        (Format::GeoJson, out.join("ledger.geojson")),
    ] {
        export(&l, fmt, &path).unwrap();
        let back = import_dir(&path).unwrap_or_else(|e| panic!("{fmt:?}: {e}"));
        assert_eq!(back, l, "{fmt:?}");
    }
    // A generated ledger too (many rows, every field kind).
    let g = rewater_outfalls::io::generate(&rewater_outfalls::io::GenerateOptions {
        reaches: 50,
        outfalls: 120,
        sections_per_reach: 2,
        seed: 7,
    });
    for (fmt, path) in [
        (Format::Csv, out.join("g-csv")),
        (Format::Xlsx, out.join("g.xlsx")),
        (Format::GeoJson, out.join("g.geojson")),
    ] {
        export(&g, fmt, &path).unwrap();
        assert_eq!(import_dir(&path).unwrap(), g, "{fmt:?}");
    }
}

#[test]
fn gcj02_points_are_converted_on_import_and_counted() {
    let d = common::small_csv_dir("gcj");
    let (gl, ga) = rewater_outfalls::geo::wgs84_to_gcj02(116.31, 40.045);
    let text = common::OUTFALLS.replace("116.31,40.045,WGS84", &format!("{gl},{ga},GCJ-02"));
    std::fs::write(d.join("outfalls.csv"), text).unwrap();
    let (l, rep) = import(&Ledger::default(), &[&d], CheckOptions::default()).unwrap();
    assert_eq!(rep.converted_from_gcj02, 1);
    let p = l.outfall("1101080001110108A0001").unwrap().location;
    assert_eq!(p.datum, rewater_outfalls::geo::Datum::Wgs84);
    assert!((p.lon - 116.31).abs() < 1e-8 && (p.lat - 40.045).abs() < 1e-8);
}

#[test]
fn bad_rows_are_named_by_file_row_and_field_and_nothing_is_applied() {
    let d = common::small_csv_dir("bad");
    let mut bad = common::OUTFALLS.to_string();
    bad.push_str("1101080004110108A0004,四号口,industrial.nothing,north,40.1,116.3,WGS84,A,1800,,,,2025-13-01,,legal,abc,cod=x,,,,,\n");
    bad.push_str(
        "1101080001110108A0001,重复,undetermined,north,116.3,40.1,,A,99999,,,,,,,,,,,,,\n",
    );
    std::fs::write(d.join("outfalls.csv"), bad).unwrap();
    let base = common::small_ledger();
    let e = import(&base, &[&d], CheckOptions::default()).unwrap_err();
    let p = problems(e);
    let outfalls = d.join("outfalls.csv").display().to_string();
    let has = |row: usize, field: &str, word: &str| {
        assert!(
            p.iter().any(
                |x| x.starts_with(&format!("{outfalls}:{row}: field '{field}'"))
                    && x.contains(word)
            ),
            "no problem at row {row} field {field} with '{word}' in {p:#?}"
        )
    };
    has(5, "class", "industrial.nothing");
    has(5, "lon", "not degrees");
    has(5, "survey_date", "2025-13-01");
    has(5, "flow_m3_per_s", "'abc' is not a number");
    has(5, "conc_mg_per_l", "cod=x");
    has(6, "code", "also at");
    has(6, "datum", "need their datum");
    // The base ledger is what it was (imports return a new ledger or nothing).
    assert_eq!(base, common::small_ledger());
}

#[test]
fn cross_checks_name_the_record_and_field() {
    let d = common::small_csv_dir("refs");
    std::fs::write(
        d.join("links.csv"),
        "from,to\nNOBODY,1101080001110108A0001\n",
    )
    .unwrap();
    std::fs::write(
        d.join("sections.csv"),
        "id,name,reach,chainage_m\nS1,x,C,9000\nS3,y,Q,0\n",
    )
    .unwrap();
    let p = problems(import_dir(&d).unwrap_err());
    for want in [
        "link NOBODY → 1101080001110108A0001: field 'from'",
        "section S1: field 'chainage_m': 9000 is not within reach 'C' (0–7200 m)",
        "section S3: field 'reach': no reach 'Q'",
    ] {
        assert!(p.iter().any(|x| x.contains(want)), "'{want}' not in {p:#?}");
    }
    // Codes: a wrong check character and an outlet code off HJ 608.
    let d = common::small_csv_dir("codes-608");
    std::fs::write(
        d.join("dischargers.csv"),
        "code,name,outlets\n91110108MA01ABCD1F,甲,DW01\n91110105MA02EFGH3J,丙,DW01\n",
    )
    .unwrap();
    let p = problems(import_dir(&d).unwrap_err());
    let f = d.join("dischargers.csv").display().to_string();
    assert!(
        p.contains(&format!(
            "{f}:2: field 'code': '91110108MA01ABCD1F': check character should be 'E' (GB 32100)"
        )),
        "{p:#?}"
    );
    let d2 = common::small_csv_dir("codes-608b");
    std::fs::write(
        d2.join("dischargers.csv"),
        "code,name,outlets\n91110108MA01ABCD1E,甲,DW01\n91110105MA02EFGH3J,丙,DW001\n",
    )
    .unwrap();
    let p = problems(import_dir(&d2).unwrap_err());
    assert!(
        p.iter().any(
            |x| x.contains("discharger 91110108MA01ABCD1E: field 'outlets'")
                && x.contains("serial number")
        ),
        "{p:#?}"
    );
}

#[test]
fn a_cycle_in_the_river_network_is_refused() {
    let d = common::small_csv_dir("cycle");
    let cyclic = common::REACHES.replace("C,W1,清河下游,,7200", "C,W1,清河下游,A,7200");
    std::fs::write(d.join("reaches.csv"), cyclic).unwrap();
    let p = problems(import_dir(&d).unwrap_err());
    assert!(
        p.iter()
            .any(|x| x.contains("cycle") && x.contains("A → C → A")),
        "{p:#?}"
    );
}

#[test]
fn codes_off_the_unverified_layout_warn_unless_strict() {
    let d = common::small_csv_dir("codes");
    let text = common::OUTFALLS.replace("1101080003110105X0003", "QH-007");
    std::fs::write(d.join("outfalls.csv"), text.clone()).unwrap();
    std::fs::write(d.join("links.csv"), "from,to\n").unwrap();
    let (_, rep) = import(&Ledger::default(), &[&d], CheckOptions::default()).unwrap();
    assert_eq!(rep.warnings.len(), 1);
    assert!(
        rep.warnings[0].to_string().contains("UNVERIFIED"),
        "{}",
        rep.warnings[0]
    );
    let e = import(
        &Ledger::default(),
        &[&d],
        CheckOptions { strict_codes: true },
    )
    .unwrap_err();
    assert!(problems(e)[0].contains("outfall QH-007: field 'code'"));
}

#[test]
fn hostile_files_are_refused_cleanly() {
    let d = common::tmp("hostile");
    // 100 MB: refused before it is read.
    let big = d.join("outfalls.csv");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(100 << 20).unwrap();
    let e = import_dir(&big).unwrap_err().to_string();
    assert!(e.contains("more than the 64 MiB"), "{e}");
    // Not a workbook, not JSON, not a FeatureCollection, a feature without a layer.
    std::fs::write(d.join("x.xlsx"), b"PK\x03\x04 not really").unwrap();
    assert!(import_dir(&d.join("x.xlsx"))
        .unwrap_err()
        .to_string()
        .contains("not an XLSX"));
    std::fs::write(d.join("x.geojson"), b"{\"type\": ").unwrap();
    assert!(import_dir(&d.join("x.geojson"))
        .unwrap_err()
        .to_string()
        .contains("not JSON"));
    std::fs::write(d.join("y.geojson"), br#"{"type":"Feature"}"#).unwrap();
    assert!(import_dir(&d.join("y.geojson"))
        .unwrap_err()
        .to_string()
        .contains("FeatureCollection"));
    std::fs::write(d.join("z.geojson"), br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#).unwrap();
    let e = import_dir(&d.join("z.geojson")).unwrap_err().to_string();
    assert!(e.contains("feature 1") && e.contains("layer"), "{e}");
    std::fs::write(d.join("p.geojson"), br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"layer":"sections"},"geometry":{"type":"Polygon","coordinates":[]}}]}"#).unwrap();
    assert!(import_dir(&d.join("p.geojson"))
        .unwrap_err()
        .to_string()
        .contains("Polygon"));
    // Unknown tables and columns, a missing key column, broken CSV quoting.
    std::fs::write(d.join("pipes.csv"), "id\nx\n").unwrap();
    assert!(
        problems(import_dir(&d.join("pipes.csv")).unwrap_err())[0].contains("not a ledger table")
    );
    std::fs::write(d.join("channels.csv"), "id,name,colour\nP1,a,red\n").unwrap();
    assert!(
        problems(import_dir(&d.join("channels.csv")).unwrap_err())[0]
            .contains("field 'colour': unknown column")
    );
    std::fs::write(d.join("water_bodies.csv"), "name_zh\n清河\n").unwrap();
    assert!(
        problems(import_dir(&d.join("water_bodies.csv")).unwrap_err())[0].contains("key column")
    );
    std::fs::write(d.join("links.csv"), b"from,to\n\"a,b\n").unwrap();
    assert!(import_dir(&d.join("links.csv")).is_err());
    std::fs::write(d.join("ledger.txt"), "x").unwrap();
    assert!(import_dir(&d.join("ledger.txt"))
        .unwrap_err()
        .to_string()
        .contains("unknown format"));
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(import_dir(&empty)
        .unwrap_err()
        .to_string()
        .contains("no ledger CSV files"));
}
