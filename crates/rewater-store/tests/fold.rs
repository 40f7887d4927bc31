//! Hourly aggregates folded after the commit (issue 19, `rewater_store::fold`) on a real
//! PostgreSQL server (127.0.0.1:5432, database `test`, or REWATER_TEST_POSTGRES): reads are
//! exact before and after the fold, a crash between the readings' commit and the fold loses
//! nothing, corrections of pending readings count once, and concurrent folds never count a
//! batch twice, also when a gateway holds its batches' hourly sums for its own fold. Under CI
//! the server must be there; elsewhere the tests say they skipped.

use rewater_store::prelude::*;
use rewater_store::{FactorReading, IngestOutcome, IngestRules, Period, PostgresStore, Upload};

fn url() -> String {
    std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn fresh(schema: &str) -> Option<PostgresStore> {
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

/// Another connection to the schema (another gateway, or the service after a restart).
fn again(schema: &str) -> PostgresStore {
    let mut s = PostgresStore::connect(&url(), Some(schema)).unwrap();
    s.set_ingest_rules(rules());
    s
}

const T0: i64 = 1_748_736_000; // 2025-06-01 00:00 wall clock

fn rules() -> IngestRules {
    IngestRules {
        now_unix_s: Some(T0 - 8 * 3600 + 2 * 86_400),
        ..IngestRules::default()
    }
}

fn upload(mn: &str, cn: &str, t: i64, readings: &[(&str, f64, &str)]) -> Upload {
    Upload {
        mn: mn.into(),
        cn: cn.into(),
        data_time: t,
        pno: 1,
        received_at_ms: 0,
        peer: "test".into(),
        raw: format!("{mn} {cn} {t}"),
        readings: readings
            .iter()
            .map(|(f, v, flag)| FactorReading {
                factor: f.to_string(),
                value: Some(*v),
                min: None,
                max: None,
                cou: None,
                flag: Some(flag.to_string()),
            })
            .collect(),
    }
}

/// Logger `mn`'s two batches: COD 10, 20 in hour 0 (with a value flagged M and an hourly
/// upload, neither of which counts), then COD 30 in hour 0 and 40 in hour 1.
fn two_batches(mn: &str) -> [Vec<Upload>; 2] {
    [
        vec![
            upload(
                mn,
                "2051",
                T0,
                &[("w01018", 10.0, "N"), ("w21003", 1.0, "N")],
            ),
            upload(mn, "2051", T0 + 60, &[("w01018", 20.0, "N")]),
            upload(mn, "2051", T0 + 120, &[("w01018", 999.0, "M")]),
            upload(mn, "2061", T0, &[("w01018", 500.0, "N")]),
        ],
        vec![
            upload(mn, "2051", T0 + 180, &[("w01018", 30.0, "N")]),
            upload(mn, "2051", T0 + 3600, &[("w01018", 40.0, "N")]),
        ],
    ]
}

/// (t, n, mean, min, max) of each hour of COD.
fn hours(s: &mut PostgresStore, mn: &str) -> Vec<(i64, i64, f64, f64, f64)> {
    s.aggregates(mn, "w01018", Period::Hour, T0, T0 + 86_400)
        .unwrap()
        .into_iter()
        .map(|p| (p.t, p.n, p.mean, p.min, p.max))
        .collect()
}

/// COD's hours in windows that cut the day: from mid hour 0, from hour 1, to hour 1, and
/// one ending a second into hour 1 — (n, mean) of each point.
fn windows(s: &mut PostgresStore, mn: &str) -> Vec<Vec<(i64, i64, f64)>> {
    [
        (T0 + 90, T0 + 86_400),
        (T0 + 3600, T0 + 86_400),
        (T0, T0 + 3600),
        (T0, T0 + 3601),
    ]
    .iter()
    .map(|&(from, to)| {
        s.aggregates(mn, "w01018", Period::Hour, from, to)
            .unwrap()
            .into_iter()
            .map(|p| (p.t, p.n, p.mean))
            .collect()
    })
    .collect()
}

/// What [`windows`] gives for [`two_batches`]: a point is an hour whose start is in the
/// window, whole.
fn windows_want() -> Vec<Vec<(i64, i64, f64)>> {
    let (h0, h1) = ((T0, 3, 20.0), (T0 + 3600, 1, 40.0));
    vec![vec![h1], vec![h1], vec![h0], vec![h0, h1]]
}

fn fold_all(s: &mut PostgresStore) -> i64 {
    let mut n = 0;
    loop {
        let r = s.fold_aggregates(3).unwrap();
        if r.batches == 0 && !r.busy {
            return n;
        }
        n += r.batches;
    }
}

#[test]
fn deferred_batches_are_folded_once_across_a_crash_and_a_correction() {
    let schema = format!("rw_fold_{}", std::process::id());
    let Some(mut a) = fresh(&schema) else {
        return;
    };
    a.set_ingest_rules(rules());
    assert!(a.defer_aggregates(true));
    // Batches 1 and 2, then 3: only duplicates (no pending row).
    let [b1, b2] = two_batches("F1");
    for b in [&b1, &b2] {
        assert!(a
            .ingest(b)
            .unwrap()
            .iter()
            .all(|o| matches!(o, IngestOutcome::Stored { .. })));
    }
    let dup = a.ingest(&b2).unwrap();
    assert!(dup
        .iter()
        .all(|o| matches!(o, IngestOutcome::Duplicate { .. })));
    assert_eq!(
        a.aggregates_pending().unwrap(),
        2,
        "one row per stored batch"
    );
    let want = vec![(T0, 3, 20.0, 10.0, 30.0), (T0 + 3600, 1, 40.0, 40.0, 40.0)];
    assert_eq!(hours(&mut a, "F1"), want, "pending readings are read");
    assert_eq!(
        windows(&mut a, "F1"),
        windows_want(),
        "pending, in part windows"
    );
    // A pending row written before its DataTime range was kept (migration 14) is read by
    // scanning the pending ids: the same.
    let mut sql = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let bounds: Vec<(i64, i64)> = sql
        .query(
            &format!("SELECT t_lo, t_hi FROM {schema}.aggregate_pending ORDER BY id"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        bounds,
        [(T0, T0 + 120), (T0 + 180, T0 + 3600)],
        "each batch's DataTime range"
    );
    sql.execute(&format!("UPDATE {schema}.aggregate_pending SET t_lo = NULL, t_hi = NULL WHERE lo = (SELECT MIN(lo) FROM {schema}.aggregate_pending)"), &[])
        .unwrap();
    assert_eq!(hours(&mut a, "F1"), want, "a pending row of unknown range");
    assert_eq!(windows(&mut a, "F1"), windows_want());
    assert_eq!(a.aggregates_differing().unwrap(), 0);
    // The service dies after the commits, before any fold: the next connection finds the
    // pending batches, reads the same, and folds each once.
    drop(a);
    let mut b = again(&schema);
    assert_eq!(b.aggregates_pending().unwrap(), 2);
    assert_eq!(hours(&mut b, "F1"), want);
    assert_eq!(fold_all(&mut b), 2);
    assert_eq!(b.aggregates_pending().unwrap(), 0);
    assert_eq!(hours(&mut b, "F1"), want, "the same after the fold");
    assert_eq!(windows(&mut b, "F1"), windows_want());
    assert_eq!(fold_all(&mut b), 0);
    assert_eq!(hours(&mut b, "F1"), want, "a second fold adds nothing");
    let day = b
        .aggregates("F1", "w01018", Period::Day, T0, T0 + 86_400)
        .unwrap();
    assert_eq!((day.len(), day[0].n, day[0].mean), (1, 4, 25.0));

    // A correction of a reading still pending, and one of a folded reading.
    assert!(b.defer_aggregates(true));
    // (Two pending readings in hour 0: the one not corrected must not count twice.)
    b.ingest(&[
        upload("F1", "2051", T0 + 240, &[("w01018", 50.0, "N")]),
        upload("F1", "2051", T0 + 300, &[("w01018", 60.0, "N")]),
    ])
    .unwrap();
    assert_eq!(b.aggregates_pending().unwrap(), 1);
    let id_of = |s: &mut PostgresStore, t: i64| {
        s.readings("F1", "w01018", &["2051"], t, t + 1).unwrap()[0].id
    };
    let pending = id_of(&mut b, T0 + 240);
    let folded = id_of(&mut b, T0 + 60);
    b.correct(pending, 5.0, "lab check", "op", 1).unwrap();
    // The correction folds the batch of the reading it corrects (no process may hold sums
    // that count it): nothing is left pending.
    assert_eq!(b.aggregates_pending().unwrap(), 0);
    b.correct(folded, 2.0, "lab check", "op", 2).unwrap();
    // Hour 0 is now 10, 2, 30, 5, 60.
    let want0 = (T0, 5, 107.0 / 5.0, 2.0, 60.0);
    assert_eq!(hours(&mut b, "F1")[0], want0);
    assert_eq!(b.aggregates_differing().unwrap(), 0);
    assert_eq!(fold_all(&mut b), 0);
    assert_eq!(
        hours(&mut b, "F1")[0],
        want0,
        "the corrected pending reading once"
    );
    assert_eq!(b.aggregates_differing().unwrap(), 0);
    drop(b);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

#[test]
fn held_sums_fold_without_reading_back_and_count_exactly() {
    let schema = format!("rw_fold_held_{}", std::process::id());
    let Some(mut a) = fresh(&schema) else {
        return;
    };
    a.set_ingest_rules(rules());
    assert!(a.defer_aggregates(true));
    assert!(a.hold_sums(60_000));
    // The two batches, then a third of duplicates that stores nothing.
    let [b1, b2] = two_batches("H1");
    for b in [&b1, &b2, &b2] {
        a.ingest(b).unwrap();
    }
    let want = vec![(T0, 3, 20.0, 10.0, 30.0), (T0 + 3600, 1, 40.0, 40.0, 40.0)];
    assert_eq!(hours(&mut a, "H1"), want, "pending readings are read");
    // Another process's fold leaves batches held by a live one alone.
    let mut other = again(&schema);
    assert_eq!(other.fold_aggregates(100).unwrap().batches, 0);
    assert_eq!(a.aggregates_pending().unwrap(), 2);
    let r = a.fold_aggregates(100).unwrap();
    assert_eq!((r.batches, r.from_held), (2, 2), "{r:?}");
    assert_eq!(r.hours, 3, "(COD, hour 0), (NH3-N, hour 0), (COD, hour 1)");
    assert_eq!(hours(&mut a, "H1"), want, "the same after the fold");
    assert_eq!(a.aggregates_differing().unwrap(), 0);
    assert_eq!(a.fold_aggregates(100).unwrap().batches, 0, "nothing twice");

    // A correction of a reading whose sums are held: its batch is read back at once, the
    // held generation's other batch falls back to reading back, and nothing counts twice.
    a.ingest(&[
        upload("H1", "2051", T0 + 240, &[("w01018", 50.0, "N")]),
        upload("H1", "2051", T0 + 300, &[("w01018", 60.0, "N")]),
    ])
    .unwrap();
    a.ingest(&[upload("H1", "2051", T0 + 360, &[("w01018", 70.0, "N")])])
        .unwrap();
    let pending = a
        .readings("H1", "w01018", &["2051"], T0 + 240, T0 + 241)
        .unwrap()[0]
        .id;
    a.correct(pending, 5.0, "lab check", "op", 1).unwrap();
    assert_eq!(
        a.aggregates_pending().unwrap(),
        1,
        "the corrected batch was folded"
    );
    // Hour 0 is now 10, 20, 30, 5, 60, 70.
    let want0 = (T0, 6, 195.0 / 6.0, 5.0, 70.0);
    assert_eq!(hours(&mut a, "H1")[0], want0);
    let r = a.fold_aggregates(100).unwrap();
    assert_eq!((r.batches, r.from_held), (1, 0), "{r:?}");
    assert_eq!(hours(&mut a, "H1")[0], want0, "the corrected reading once");
    assert_eq!(a.aggregates_differing().unwrap(), 0);

    // A holder that dies loses only its sums: once its time is up, any fold reads its
    // batches back.
    let mut short = again(&schema);
    assert!(short.defer_aggregates(true));
    assert!(short.hold_sums(1_500));
    short
        .ingest(&[upload("H1", "2051", T0 + 420, &[("w01018", 80.0, "N")])])
        .unwrap();
    drop(short);
    assert_eq!(other.fold_aggregates(100).unwrap().batches, 0, "still held");
    std::thread::sleep(std::time::Duration::from_millis(1_600));
    let r = other.fold_aggregates(100).unwrap();
    assert_eq!((r.batches, r.from_held), (1, 0), "{r:?}");
    assert_eq!(hours(&mut other, "H1")[0], (T0, 7, 275.0 / 7.0, 5.0, 80.0));
    assert_eq!(other.aggregates_differing().unwrap(), 0);
    drop((a, other));
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

/// 40 loggers' two batches (every fold part has some), pending: COD 1 and 2 in hour 0 and
/// `d` in hour 1 for logger `d`.
fn forty_loggers(s: &mut PostgresStore) {
    for b in 0..2i64 {
        let batch: Vec<Upload> = (0..40)
            .flat_map(|d| {
                let mn = format!("P{d:02}");
                let mut v = vec![upload(
                    &mn,
                    "2051",
                    T0 + 60 * b,
                    &[("w01018", (b + 1) as f64, "N")],
                )];
                if b == 1 {
                    v.push(upload(&mn, "2051", T0 + 3600, &[("w01018", d as f64, "N")]));
                }
                v
            })
            .collect();
        s.ingest(&batch).unwrap();
    }
}

/// Every logger of [`forty_loggers`] reads the same hours.
fn forty_read_right(s: &mut PostgresStore, when: &str) {
    for d in 0..40 {
        let want = vec![
            (T0, 2, 1.5, 1.0, 2.0),
            (T0 + 3600, 1, d as f64, d as f64, d as f64),
        ];
        assert_eq!(hours(s, &format!("P{d:02}")), want, "P{d:02} {when}");
    }
    assert_eq!(s.aggregates_differing().unwrap(), 0, "{when}");
}

#[test]
fn fold_parts_fold_their_loggers_only_from_held_sums_and_by_reading_back() {
    let schema = format!("rw_fold_parts_{}", std::process::id());
    let Some(mut a) = fresh(&schema) else {
        return;
    };
    a.set_ingest_rules(rules());
    let parts = a.fold_parts();
    assert_eq!(parts, 8);
    // Held sums: each part's turn folds its own rows from memory, nothing else.
    assert!(a.defer_aggregates(true));
    assert!(a.hold_sums(60_000));
    forty_loggers(&mut a);
    let pending = a.aggregates_pending().unwrap();
    assert!(
        pending > 8,
        "rows of two batches in several parts each: {pending}"
    );
    forty_read_right(&mut a, "pending");
    let (mut rows, mut hours_written) = (0, 0);
    for k in 0..parts {
        let r = a.fold_aggregates_part(k, 100).unwrap();
        assert_eq!(r.batches, r.from_held, "part {k}: {r:?}");
        assert!(
            r.batches <= 2,
            "part {k}: its row of each batch at most: {r:?}"
        );
        (rows, hours_written) = (rows + r.batches, hours_written + r.hours);
        forty_read_right(&mut a, &format!("after part {k}"));
    }
    assert_eq!(rows, pending, "each row folded once");
    assert_eq!(hours_written, 80, "40 loggers × 2 hours, each written once");
    assert_eq!(a.aggregates_pending().unwrap(), 0);
    // Read back: the same loggers again (a day later), by a process holding nothing; the
    // SQL's part of a reading must be the part its row was written under.
    let mut b = again(&schema);
    assert!(b.defer_aggregates(true));
    let later: Vec<Upload> = (0..40)
        .map(|d| {
            upload(
                &format!("P{d:02}"),
                "2051",
                T0 + 86_400,
                &[("w01018", 7.0, "N")],
            )
        })
        .collect();
    b.ingest(&later).unwrap();
    for k in 0..parts {
        let r = b.fold_aggregates_part(k, 100).unwrap();
        assert_eq!(r.from_held, 0);
        forty_read_right(&mut b, &format!("read back, after part {k}"));
        let left: i64 = (0..40)
            .map(|d| {
                b.aggregates(
                    &format!("P{d:02}"),
                    "w01018",
                    Period::Hour,
                    T0 + 86_400,
                    T0 + 90_000,
                )
                .unwrap()[0]
                    .n
            })
            .sum();
        assert_eq!(left, 40, "each logger's later reading once, after part {k}");
    }
    assert_eq!(b.aggregates_pending().unwrap(), 0);
    drop((a, b));
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

#[test]
fn folds_racing_each_other_and_the_writers_never_count_twice() {
    race("rw_fold_race", false);
}

#[test]
fn folds_of_held_sums_racing_read_backs_never_count_twice() {
    race("rw_fold_race_held", true);
}

/// Two writers and two folders on one schema; with `held`, each writer holds its sums (no
/// time given to them) and folds them itself now and then, racing the folders' read-backs.
fn race(name: &str, held: bool) {
    let schema = format!("{name}_{}", std::process::id());
    let Some(mut w) = fresh(&schema) else {
        return;
    };
    w.set_ingest_rules(rules());
    drop(w);
    let writers: Vec<_> = (0..2)
        .map(|k| {
            let schema = schema.clone();
            std::thread::spawn(move || {
                let mut s = again(&schema);
                assert!(s.defer_aggregates(true));
                assert!(!held || s.hold_sums(0));
                let mut folded = 0;
                for i in 0..30i64 {
                    // Each batch: 20 devices, one minute; both writers write the same keys
                    // (duplicates across writers, stored once).
                    let batch: Vec<Upload> = (0..20)
                        .map(|d| {
                            let v = (i * 20 + d + k) as f64;
                            upload(&format!("R{d}"), "2051", T0 + 60 * i, &[("w01018", v, "N")])
                        })
                        .collect();
                    s.ingest(&batch).unwrap();
                    if held && i % 4 == 3 {
                        folded += s.fold_aggregates(2).unwrap().batches;
                    }
                }
                if held {
                    loop {
                        let r = s.fold_aggregates(2).unwrap();
                        folded += r.batches;
                        if !r.busy {
                            break;
                        }
                    }
                }
                folded
            })
        })
        .collect();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let folders: Vec<_> = (0..2)
        .map(|_| {
            let (schema, done) = (schema.clone(), done.clone());
            std::thread::spawn(move || {
                let mut s = again(&schema);
                let (mut folded, mut part) = (0, 0u8);
                loop {
                    let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                    // Turns over the fold parts while the writers write; every part at the end.
                    part = (part + 1) % s.fold_parts();
                    let r = if finished {
                        s.fold_aggregates(2).unwrap()
                    } else {
                        s.fold_aggregates_part(part, 2).unwrap()
                    };
                    folded += r.batches;
                    if finished && r.batches == 0 && !r.busy {
                        return folded;
                    }
                }
            })
        })
        .collect();
    let by_writers: i64 = writers.into_iter().map(|t| t.join().unwrap()).sum();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let folded = by_writers + folders.into_iter().map(|t| t.join().unwrap()).sum::<i64>();
    let mut s = again(&schema);
    assert_eq!(s.aggregates_pending().unwrap(), 0);
    assert!(
        folded >= 30,
        "every batch that stored readings folded: {folded}"
    );
    assert_eq!(s.aggregates_differing().unwrap(), 0);
    // 20 devices × 30 minutes, each key stored once, all in hour 0.
    let n: i64 = (0..20).map(|d| hours(&mut s, &format!("R{d}"))[0].1).sum();
    assert_eq!(n, 600);
    drop(s);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

#[test]
fn postgres_passes_the_conformance_suite_with_aggregates_folded_later() {
    conformance("rw_conf_fold", false);
}

#[test]
fn postgres_passes_the_conformance_suite_with_held_sums() {
    conformance("rw_conf_held", true);
}

fn conformance(name: &str, held: bool) {
    let schema = format!("{name}_{}", std::process::id());
    let Some(mut s) = fresh(&schema) else {
        return;
    };
    assert!(s.defer_aggregates(true));
    assert!(!held || s.hold_sums(0));
    rewater_store::conformance::run_all(&mut s);
    drop(s);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}
