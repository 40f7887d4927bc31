//! The conformance suite on a real SQLite file, durability across reopening, migration of a
//! store of the previous schema version, and the WAL bound under a burst.

use rewater_store::prelude::*;
use rewater_store::{
    verify_device_password, FactorReading, IngestOutcome, IngestRules, SqliteStore, Upload,
    WalLimits,
};

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
    let now_wall = 1_748_736_000 + 3600;
    let rules = IngestRules {
        now_unix_s: Some(now_wall - 8 * 3600),
        ..IngestRules::default()
    };
    {
        let mut s = SqliteStore::open(&path).unwrap();
        s.set_ingest_rules(rules.clone());
        let u = Upload {
            mn: "M".into(),
            cn: "2011".into(),
            data_time: 1_748_736_000,
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

/// A store written by the previous schema (version 1, plain-text device passwords) opens,
/// is migrated to the current version, and keeps its data.
#[test]
fn a_store_of_the_previous_version_is_migrated_at_open() {
    let path = tmp("migrate");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(include_str!("data/schema_v1_sqlite.sql"))
            .unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), 15);
    let d = s.device("OLDMN1").unwrap().unwrap();
    assert!(rewater_store::is_device_password_hash(&d.password_hash));
    assert!(verify_device_password("123456", &d.password_hash));
    assert!(d.allowed_peers.is_empty() && !d.disabled);
    assert_eq!(s.count_readings().unwrap(), 1);
    assert_eq!(s.latest("OLDMN1").unwrap()[0].value, Some(21.5));
    assert_eq!(s.account("boss").unwrap().unwrap().role, Role::Admin);
    assert_eq!(
        s.alerts(None, None, 10).unwrap()[0].state,
        AlertState::Acknowledged
    );
    assert_eq!(s.config_version().unwrap(), 0);
    drop(s);
    // Opening again changes nothing; a store from a newer program is refused.
    let mut s = SqliteStore::open(&path).unwrap();
    assert!(verify_device_password(
        "123456",
        &s.device("OLDMN1").unwrap().unwrap().password_hash
    ));
    drop(s);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    }
    let e = SqliteStore::open(&path).err().unwrap().to_string();
    assert!(e.contains("schema version 99"), "{e}");
}

/// A burst of uploads with a small WAL limit: after every batch the WAL is under the limit
/// plus one batch (the writer checkpoints before the batch returns, RESTART: the next batch
/// writes from the log's start).
#[test]
fn wal_stays_under_its_limit_during_a_burst() {
    let path = tmp("wal");
    let limits = WalLimits {
        checkpoint_over_bytes: 1 << 20,
        journal_size_limit_bytes: 1 << 20,
    };
    let mut s = SqliteStore::open_with(&path, limits).unwrap();
    let t0 = 1_748_736_000i64;
    s.set_ingest_rules(IngestRules {
        now_unix_s: Some(t0 - 8 * 3600 + 30 * 86_400),
        ..IngestRules::default()
    });
    // A reader holding no snapshot open: the checkpoint can always finish.
    let mut most = 0;
    for b in 0..120i64 {
        let batch: Vec<Upload> = (0..200i64)
            .map(|i| Upload {
                mn: format!("MN{i:04}"),
                cn: "2051".into(),
                data_time: t0 + 60 * b,
                pno: 1,
                received_at_ms: 1,
                peer: "127.0.0.1:1".into(),
                raw: format!(
                    "##0100QN=x;CN=2051;MN=MN{i:04};CP=&&{}&&ABCD",
                    "y".repeat(120)
                ),
                readings: ["w01018", "w21003", "w21011", "w21001"]
                    .iter()
                    .map(|f| FactorReading {
                        factor: f.to_string(),
                        value: Some(10.0 + b as f64),
                        min: None,
                        max: None,
                        cou: None,
                        flag: Some("N".into()),
                    })
                    .collect(),
            })
            .collect();
        let out = s.ingest(&batch).unwrap();
        assert!(out
            .iter()
            .all(|o| matches!(o, IngestOutcome::Stored { .. })));
        most = most.max(s.wal_bytes());
    }
    assert_eq!(s.count_readings().unwrap(), 120 * 200 * 4);
    // The log restarts after a checkpoint, so it holds at most the limit plus the batch that
    // passed it. A batch here touches up to ~900 pages of the growing tables and index
    // (3.7 MB measured at the end); without the limit the log reached 235 MB in this test.
    // Under a loaded machine a RESTART can find the store's background connection reading
    // and finish one batch later (6.8 MB seen once with the other tests of this file running
    // beside it): the bound allows the limit plus two batches.
    assert!(most > 0, "the WAL was used");
    assert!(most <= 9 << 20, "WAL reached {most} bytes");
}

#[test]
fn sqlite_passes_the_gap_and_logger_command_checks() {
    let mut s = SqliteStore::open(&tmp("platform")).unwrap();
    rewater_store::platform::conformance::run_all(&mut s);
}

#[test]
fn sqlite_holds_split_parts_until_the_record_is_whole() {
    let path = tmp("split");
    let mut a = SqliteStore::open(&path).unwrap();
    let mut b = SqliteStore::open(&path).unwrap();
    rewater_store::split::conformance::run_all(&mut a, &mut b);
}
