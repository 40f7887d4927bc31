//! The conformance suite on a real SQLite file, and durability across reopening.

use rewater_store::{FactorReading, IngestOutcome, SqliteStore, Store, Upload};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("store.sqlite")
}

#[test]
fn sqlite_file_passes_the_conformance_suite() {
    let mut s = SqliteStore::open(&tmp("conformance")).unwrap();
    rewater_store::conformance::run_all(&mut s);
}

#[test]
fn committed_batches_survive_reopening() {
    let path = tmp("reopen");
    {
        let mut s = SqliteStore::open(&path).unwrap();
        let u = Upload {
            mn: "M".into(),
            cn: "2011".into(),
            data_time: 100,
            pno: 1,
            received_at_ms: 1,
            peer: "x".into(),
            raw: "##".into(),
            readings: vec![FactorReading {
                factor: "w01018".into(),
                value: Some(1.5),
                min: None,
                max: None,
                cou: None,
                flag: Some("N".into()),
            }],
        };
        assert!(matches!(
            s.ingest(&[u]).unwrap()[0],
            IngestOutcome::Stored { .. }
        ));
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.count_readings().unwrap(), 1);
    assert_eq!(s.latest("M").unwrap()[0].value, Some(1.5));
}
