//! The conformance suite against a real PostgreSQL server (127.0.0.1:5432, trust auth,
//! database `test`, or REWATER_TEST_POSTGRES). Under CI the server must be there; elsewhere
//! the test says it skipped.

use rewater_store::prelude::*;
use rewater_store::{verify_device_password, IngestOutcome, IngestRules, PostgresStore};

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
    s.set_ingest_rules(IngestRules {
        now_unix_s: Some(t[1]),
        ..IngestRules::default()
    });
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
        .query("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname IN ('upload_reading', 'reading_row') AND n.nspname = $1 ORDER BY 1", &[&schema])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        parts,
        // Uploads' rows and corrections' rows, each by month (one row per upload since
        // migration 15).
        vec![
            "reading_m2025_01".to_string(),
            "reading_m2025_02".to_string(),
            "upload_reading_m2025_01".to_string(),
            "upload_reading_m2025_02".to_string()
        ]
    );
    let mut s = PostgresStore::connect(&url(), Some(&schema)).unwrap();
    assert_eq!(s.count_readings().unwrap(), 2);
    drop(s);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

fn partitions(schema: &str) -> Vec<String> {
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    client
        .query("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname IN ('upload_reading', 'reading_row') AND n.nspname = $1 ORDER BY 1", &[&schema])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Issue 12 finding 5: one device sending 2,400 uploads with months from 1900 to 2099 once
/// created 2,400 partitions and broke `latest`. Now only months inside the window get one.
#[test]
fn datatimes_outside_the_window_create_no_partitions() {
    let schema = format!("rw_window_{}", std::process::id());
    let Some(mut s) = connect(&schema) else {
        return;
    };
    // Now: 2026-06-15 (Unix); the window reaches back three years.
    let now = 1_781_481_600i64;
    s.set_ingest_rules(IngestRules {
        now_unix_s: Some(now),
        ..IngestRules::default()
    });
    let (lo, hi) = s.ingest_rules().window();
    let mut uploads = Vec::new();
    for year in 1900..2100i32 {
        for month in 1..=12u32 {
            let t = rewater_standards::Date::from_ymd(year, month, 15)
                .unwrap()
                .wall_seconds();
            uploads.push(rewater_store::Upload {
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
            });
        }
    }
    assert_eq!(uploads.len(), 2400);
    let mut stored = 0;
    for chunk in uploads.chunks(100) {
        stored += s
            .ingest(chunk)
            .unwrap()
            .iter()
            .filter(|o| matches!(o, IngestOutcome::Stored { .. }))
            .count();
    }
    let inside = uploads
        .iter()
        .filter(|u| u.data_time >= lo && u.data_time <= hi)
        .count();
    assert_eq!(stored, inside);
    let parts = partitions(&schema);
    // One partition per month of the window (36 or 37) for each of the two tables, none
    // before or after it.
    assert_eq!(parts.len(), 2 * inside, "{parts:?}");
    assert!(
        parts.iter().all(|p| {
            let month = p.trim_start_matches("upload_");
            ("reading_m2023_06"..="reading_m2026_06").contains(&month)
        }),
        "{parts:?}"
    );
    let latest = s.latest("M").unwrap();
    assert_eq!(latest.len(), 1);
    assert!(latest[0].data_time <= hi);
    drop(s);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

/// Migration 15 keeps the per-reading rows of before and adds per-upload rows: both read as
/// readings, ids stay unique, and either kind can be corrected.
/// `others`: the old readings of other loggers than OLDMN1.
fn after_migration_15(s: &mut PostgresStore, others: i64) {
    let t0 = 1_748_736_000i64; // the old reading's DataTime
    s.set_ingest_rules(IngestRules {
        now_unix_s: Some(t0 + 7200),
        ..IngestRules::default()
    });
    let reading = |factor: &str, value: f64| rewater_store::FactorReading {
        factor: factor.into(),
        value: Some(value),
        min: None,
        max: None,
        cou: None,
        flag: Some("N".into()),
    };
    let upload = rewater_store::Upload {
        mn: "OLDMN1".into(),
        cn: "2051".into(),
        data_time: t0 + 60,
        pno: 1,
        received_at_ms: 1,
        peer: "p".into(),
        raw: "r".into(),
        readings: vec![reading("w01018", 30.0), reading("w21003", 1.25)],
    };
    let out = s.ingest(std::slice::from_ref(&upload)).unwrap();
    assert!(matches!(out[0], IngestOutcome::Stored { .. }), "{out:?}");
    assert_eq!(s.count_readings().unwrap(), 3 + others);
    let all = s
        .readings("OLDMN1", "w01018", &["2051"], t0, t0 + 3600)
        .unwrap();
    let values: Vec<Option<f64>> = all.iter().map(|r| r.value).collect();
    assert_eq!(values, vec![Some(21.5), Some(30.0)]);
    let cod = s
        .readings("OLDMN1", "w21003", &["2051"], t0, t0 + 3600)
        .unwrap();
    // The upload's second reading is numbered next to its first.
    assert_eq!(cod[0].id, all[1].id + 1);
    assert!(all[1].id > all[0].id);
    let latest: Vec<(String, Option<f64>)> = s
        .latest("OLDMN1")
        .unwrap()
        .into_iter()
        .map(|r| (r.factor, r.value))
        .collect();
    assert_eq!(
        latest,
        vec![("w01018".into(), Some(30.0)), ("w21003".into(), Some(1.25))]
    );
    // A correction of the old row and one of the new upload's second reading.
    let c_old = s
        .correct(all[0].id, 20.0, "calibration", "boss", 2)
        .unwrap();
    let c_new = s.correct(cod[0].id, 1.5, "calibration", "boss", 3).unwrap();
    assert!(c_old != c_new && c_new > cod[0].id);
    let all = s
        .readings("OLDMN1", "w01018", &["2051"], t0, t0 + 3600)
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|r| (r.value, r.corrects))
            .collect::<Vec<_>>(),
        vec![(Some(20.0), Some(1)), (Some(30.0), None)]
    );
    let latest = s.latest("OLDMN1").unwrap();
    assert_eq!(
        (latest[1].value, latest[1].corrects, latest[1].id),
        (Some(1.5), Some(cod[0].id), c_new)
    );
    assert_eq!(s.count_readings().unwrap(), 5 + others);
}

/// Readings of two more loggers in the version-1 store (ids 2–5, DataTime in June 2025).
const OTHER_OLD_READINGS: &str = "
INSERT INTO reading (id, mn, factor, cn, data_time, value, flag, received_at_ms) VALUES
  (2, 'OLDMN2', 'w01018', '2051', 1748739600, 11.0, 'N', 1),
  (3, 'OLDMN2', 'w01018', '2051', 1748743200, 12.0, 'N', 1),
  (4, 'OLDMN2', 'w21003', '2051', 1748736000, 0.5, 'N', 1),
  (5, 'oldmn3', 'w01018', '2051', 1748736060, 1.0, 'N', 1);
SELECT setval('reading_id_seq', 5);";

/// A store written by the previous schema (version 1) is migrated at connect.
#[test]
fn a_store_of_the_previous_version_is_migrated_at_connect() {
    let schema = format!("rw_migrate_{}", std::process::id());
    let _ = PostgresStore::drop_schema(&url(), &schema);
    let mut client = match postgres::Client::connect(&url(), postgres::NoTls) {
        Ok(c) => c,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("SKIPPED: no PostgreSQL at {} ({e})", url());
            return;
        }
        Err(e) => panic!("CI needs PostgreSQL at {}: {e}", url()),
    };
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema}; {} {OTHER_OLD_READINGS}",
            include_str!("data/schema_v1_postgres.sql")
        ))
        .unwrap();
    drop(client);
    let mut s = PostgresStore::connect(&url(), Some(&schema)).unwrap();
    assert_eq!(s.schema_version().unwrap(), 15);
    let d = s.device("OLDMN1").unwrap().unwrap();
    assert!(verify_device_password("123456", &d.password_hash));
    assert!(d.allowed_peers.is_empty() && !d.disabled);
    assert_eq!(s.count_readings().unwrap(), 5);
    assert_eq!(s.latest("OLDMN1").unwrap()[0].value, Some(21.5));
    // `series` was filled from the old rows: each pair once, at its newest DataTime.
    let t0 = 1_748_736_000i64;
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let series: Vec<(String, String, i64)> = client
        .query(
            &format!("SELECT mn, factor, last_t FROM {schema}.series ORDER BY 1, 2"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    drop(client);
    let pair = |mn: &str, f: &str, t: i64| (mn.to_string(), f.to_string(), t);
    assert_eq!(
        series,
        vec![
            pair("OLDMN1", "w01018", t0),
            pair("OLDMN2", "w01018", t0 + 7200),
            pair("OLDMN2", "w21003", t0),
            pair("oldmn3", "w01018", t0 + 60),
        ]
    );
    // The latest readings are found from it, lower-case MNs too.
    let latest = |s: &mut PostgresStore, mn: &str| -> Vec<(String, i64, Option<f64>)> {
        s.latest(mn)
            .unwrap()
            .into_iter()
            .map(|r| (r.factor, r.data_time, r.value))
            .collect()
    };
    assert_eq!(
        latest(&mut s, "OLDMN2"),
        vec![
            ("w01018".into(), t0 + 7200, Some(12.0)),
            ("w21003".into(), t0, Some(0.5))
        ]
    );
    assert_eq!(
        latest(&mut s, "oldmn3"),
        vec![("w01018".into(), t0 + 60, Some(1.0))]
    );
    after_migration_15(&mut s, 4);
    assert_eq!(s.account("boss").unwrap().unwrap().role, Role::Admin);
    assert_eq!(
        s.alerts(None, None, 10).unwrap()[0].state,
        AlertState::Acknowledged
    );
    drop(s);
    // Connecting again is harmless; the synchronous_commit of the session is on.
    let mut s = PostgresStore::connect(&url(), Some(&schema)).unwrap();
    assert_eq!(s.schema_version().unwrap(), 15);
    assert_eq!(s.synchronous_commit().unwrap(), "on");
    drop(s);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

/// PostgreSQL errors carry the server's SQLSTATE (issue 12: they were logged as "db error").
#[test]
fn postgres_errors_name_their_sqlstate() {
    if connect(&format!("rw_err_{}", std::process::id())).is_none() {
        return;
    }
    let _ = PostgresStore::drop_schema(&url(), &format!("rw_err_{}", std::process::id()));
    let base = url();
    let (root, _) = base.rsplit_once('/').unwrap();
    let e = PostgresStore::connect(&format!("{root}/rewater_no_such_db"), None)
        .err()
        .unwrap();
    let text = e.to_string();
    assert!(text.starts_with("PostgreSQL 3D000: "), "{text}");
    assert!(text.contains("rewater_no_such_db"), "{text}");
    assert!(!e.is_data_error());
}

/// One connection at a time leads; the leadership ends with the connection (issue 19).
#[test]
fn the_alert_leadership_is_held_by_one_connection_and_ends_with_it() {
    let schema = format!("rw_lead_{}", std::process::id());
    let Some(mut a) = connect(&schema) else {
        return;
    };
    let mut b = PostgresStore::connect(&url(), Some(&schema)).unwrap();
    assert!(a.try_lead("alerts").unwrap());
    assert!(!b.try_lead("alerts").unwrap());
    // Another role is another lock.
    assert!(b.try_lead("other").unwrap());
    drop(a);
    let t0 = std::time::Instant::now();
    while !b.try_lead("alerts").unwrap() {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(10),
            "lock not released"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(b);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

#[test]
fn postgres_passes_the_gap_and_logger_command_checks() {
    let schema = format!("rw_platform_{}", std::process::id());
    let Some(mut s) = connect(&schema) else {
        return;
    };
    rewater_store::platform::conformance::run_all(&mut s);
    drop(s);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

#[test]
fn postgres_holds_split_parts_until_the_record_is_whole() {
    let schema = format!("rw_split_{}", std::process::id());
    let Some(mut a) = connect(&schema) else {
        return;
    };
    let mut b = PostgresStore::connect(&url(), Some(&schema)).unwrap();
    rewater_store::split::conformance::run_all(&mut a, &mut b);
    drop((a, b));
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

/// Two gateways taking the last two parts of a record at the same instant: the record's row
/// lock serialises them, so every record is completed exactly once and none is left held.
#[test]
fn postgres_completes_a_record_whose_last_parts_race() {
    use rewater_store::{HeldPart, SplitLimits, SplitOutcome, SplitPart, Upload};
    let schema = format!("rw_split_race_{}", std::process::id());
    let Some(mut a) = connect(&schema) else {
        return;
    };
    const T: i64 = 1_748_736_000;
    const RECORDS: i64 = 40;
    let rules = IngestRules {
        now_unix_s: Some(T - 8 * 3600 + 2 * 86_400),
        ..IngestRules::default()
    };
    a.set_ingest_rules(rules.clone());
    fn whole(parts: &[HeldPart], t: i64) -> Result<Upload, String> {
        Ok(Upload {
            mn: "RACE".into(),
            cn: "2051".into(),
            data_time: t,
            pno: 1,
            received_at_ms: 1,
            peer: "p".into(),
            raw: parts.iter().map(|p| p.raw.as_str()).collect(),
            readings: parts
                .iter()
                .map(|p| rewater_store::FactorReading {
                    factor: p.raw.clone(),
                    value: Some(f64::from(p.pno)),
                    min: None,
                    max: None,
                    cou: None,
                    flag: Some("N".into()),
                })
                .collect(),
        })
    }
    let part = |t: i64, pno: u32, code: &'static str| SplitPart {
        mn: "RACE",
        cn: "2051",
        data_time: t,
        pnum: 3,
        pno,
        qn: "q",
        raw: code,
        content: code,
        peer: "p",
        received_at_ms: 1,
    };
    let l = SplitLimits {
        max_records_per_device: RECORDS,
        ..SplitLimits::default()
    };
    for k in 0..RECORDS {
        let t = T + 60 * k;
        let o = a
            .add_split_part(&part(t, 1, "w01018"), &l, &mut |p| whole(p, t))
            .unwrap();
        assert_eq!(o, SplitOutcome::Held { have: 1 });
    }
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let threads: Vec<_> = [(2u32, "w21003"), (3u32, "w21011")]
        .into_iter()
        .map(|(pno, code)| {
            let (barrier, schema, rules) = (barrier.clone(), schema.clone(), rules.clone());
            std::thread::spawn(move || {
                let mut s = PostgresStore::connect(&url(), Some(&schema)).unwrap();
                s.set_ingest_rules(rules);
                let mut completed = 0;
                for k in 0..RECORDS {
                    let t = T + 60 * k;
                    barrier.wait();
                    let o = s
                        .add_split_part(&part(t, pno, code), &l, &mut |p| whole(p, t))
                        .unwrap();
                    match o {
                        SplitOutcome::Held { have: 2 } => {}
                        SplitOutcome::Complete(IngestOutcome::Stored { .. }) => completed += 1,
                        o => panic!("record {k} part {pno}: {o:?}"),
                    }
                }
                completed
            })
        })
        .collect();
    let completed: i64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(completed, RECORDS, "each record completed once");
    assert_eq!(a.split_pending(None).unwrap(), (0, 0));
    assert_eq!(a.count_frames().unwrap(), RECORDS);
    assert_eq!(a.count_readings().unwrap(), 3 * RECORDS);
    drop(a);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

/// The server's shared buffers as `pg_size_bytes` reads `SHOW shared_buffers` (e.g. Debian's
/// "128MB" = 134,217,728 bytes); SQLite has none.
#[test]
fn the_shared_buffer_cache_is_read_from_the_server() {
    let schema = format!("rw_buffers_{}", std::process::id());
    let Some(mut s) = connect(&schema) else {
        return;
    };
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let want: i64 = client
        .query_one(
            "SELECT pg_size_bytes(current_setting('shared_buffers'))",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(want >= 128 << 10, "{want}");
    assert_eq!(s.buffer_cache_bytes().unwrap(), Some(want));
    let path = std::env::temp_dir().join(format!("rw_buffers_{}.sqlite", std::process::id()));
    let mut lite = rewater_store::SqliteStore::open(&path).unwrap();
    assert_eq!(lite.buffer_cache_bytes().unwrap(), None);
    drop((s, lite));
    let _ = std::fs::remove_file(&path);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}
