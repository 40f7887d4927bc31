//! The conformance suite against a real PostgreSQL server (127.0.0.1:5432, trust auth,
//! database `test`, or REWATER_TEST_POSTGRES). Under CI the server must be there; elsewhere
//! the test says it skipped.

use rewater_store::{PostgresStore, Store};

fn url() -> String {
    std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn connect(schema: &str) -> Option<PostgresStore> {
    let _ = PostgresStore::drop_schema(&url(), schema);
    match PostgresStore::connect(&url(), Some(schema)) {
        Ok(s) => Some(s),
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("SKIPPED: no PostgreSQL at {} ({e})", url());
            None
        }
        Err(e) => panic!("CI needs PostgreSQL at {}: {e}", url()),
    }
}

#[test]
fn postgres_passes_the_conformance_suite() {
    let schema = format!("rw_conf_{}", std::process::id());
    let Some(mut s) = connect(&schema) else {
        return;
    };
    rewater_store::conformance::run_all(&mut s);
    drop(s);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

#[test]
fn readings_are_partitioned_by_month_and_reconnect_keeps_them() {
    let schema = format!("rw_part_{}", std::process::id());
    let Some(mut s) = connect(&schema) else {
        return;
    };
    // 2025-01-31 23:59:00 and 2025-02-01 00:00:00 (wall clock) fall in two partitions.
    let t = [1_738_367_940i64, 1_738_368_000];
    let uploads: Vec<_> = t
        .iter()
        .map(|&t| rewater_store::Upload {
            mn: "M".into(),
            cn: "2051".into(),
            data_time: t,
            pno: 1,
            received_at_ms: 0,
            peer: "p".into(),
            raw: "r".into(),
            readings: vec![rewater_store::FactorReading {
                factor: "w01018".into(),
                value: Some(1.0),
                min: None,
                max: None,
                cou: None,
                flag: Some("N".into()),
            }],
        })
        .collect();
    s.ingest(&uploads).unwrap();
    drop(s);
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let parts: Vec<String> = client
        .query("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname = 'reading' AND n.nspname = $1 ORDER BY 1", &[&schema])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        parts,
        vec![
            "reading_m2025_01".to_string(),
            "reading_m2025_02".to_string()
        ]
    );
    let mut s = PostgresStore::connect(&url(), Some(&schema)).unwrap();
    assert_eq!(s.count_readings().unwrap(), 2);
    drop(s);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}
