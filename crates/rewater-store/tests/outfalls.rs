//! The outfall register (schema version 5) on both backends: the conformance suite, the
//! audit entry of each batch, and a store of version 3 migrated with its data kept. PostgreSQL
//! at 127.0.0.1:5432 (trust auth, database `test`, or REWATER_TEST_POSTGRES): required under
//! CI, skipped with a message elsewhere.

use rewater_store::prelude::*;
use rewater_store::{NewOutfallRecord, OutfallQuery, SqliteStore};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "rewater-store-outfalls-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("store.sqlite")
}

fn audited(s: &mut dyn Store) {
    let r = NewOutfallRecord {
        kind: "section".into(),
        key: "S1".into(),
        district: None,
        search: "s1".into(),
        body: "{}".into(),
        retired: false,
    };
    s.put_outfall_records(&[r], "auditor", "audit check", 99)
        .unwrap();
    let log = s.audit_log(1).unwrap();
    assert_eq!(
        (
            log[0].who.as_str(),
            log[0].action.as_str(),
            log[0].target.as_str()
        ),
        ("auditor", "outfalls.put", "section")
    );
    assert!(
        log[0].detail.contains("1 new version(s)") && log[0].detail.contains("audit check"),
        "{}",
        log[0].detail
    );
}

#[test]
fn sqlite_passes_the_outfall_register_suite() {
    let mut s = SqliteStore::open(&tmp("conf")).unwrap();
    assert_eq!(s.schema_version().unwrap(), 15);
    rewater_store::outfalls::conformance(&mut s);
    audited(&mut s);
}

#[test]
fn a_version_3_sqlite_store_is_migrated_to_5_and_keeps_its_data() {
    let path = tmp("v3");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(include_str!("data/schema_v1_sqlite.sql"))
            .unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), 15);
    assert_eq!(s.count_readings().unwrap(), 1);
    assert_eq!(
        s.count_outfall_records(&OutfallQuery::all("outfall"))
            .unwrap(),
        0
    );
    drop(s);
    // Reopening is harmless.
    let mut s = SqliteStore::open(&path).unwrap();
    rewater_store::outfalls::conformance(&mut s);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_passes_the_outfall_register_suite() {
    use rewater_store::PostgresStore;
    let url = std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let schema = format!("rw_outfalls_{}", std::process::id());
    let _ = PostgresStore::drop_schema(&url, &schema);
    let mut s = match PostgresStore::connect(&url, Some(&schema)) {
        Ok(s) => s,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("SKIPPED: no PostgreSQL at {url} ({e})");
            return;
        }
        Err(e) => panic!("CI needs PostgreSQL at {url}: {e}"),
    };
    assert_eq!(s.schema_version().unwrap(), 15);
    rewater_store::outfalls::conformance(&mut s);
    audited(&mut s);
    drop(s);
    PostgresStore::drop_schema(&url, &schema).unwrap();
}
