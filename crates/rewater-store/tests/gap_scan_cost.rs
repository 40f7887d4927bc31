//! The store reads of one gap scan (issue 19 item 4: what the gateway's platform loop asks per
//! logger): a logger with 3 days of 1-minute, hourly and daily data, its known gaps read
//! twice and its DataTimes of each kind read once, timed on SQLite and PostgreSQL. Ignored by
//! default (a measurement, not a check): `cargo test -p rewater-store --test gap_scan_cost --
//! --ignored --nocapture`. Figures in docs/benchmarks.md.

use rewater_store::prelude::*;
use rewater_store::{FactorReading, IngestRules, PostgresStore, SqliteStore, Upload};
use std::time::Instant;

const DAY: i64 = 1_748_736_000; // 2025-06-01 00:00 wall

fn uploads() -> Vec<Upload> {
    let mut out = Vec::new();
    for (cn, step, n) in [
        ("2051", 60, 3 * 1440),
        ("2061", 3600, 72),
        ("2031", 86_400, 3),
    ] {
        for k in 0..n {
            out.push(Upload {
                mn: "SCAN".into(),
                cn: cn.into(),
                data_time: DAY + k * step,
                pno: 1,
                received_at_ms: 0,
                peer: "p".into(),
                raw: "r".into(),
                readings: vec![FactorReading {
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
    out
}

fn measure(name: &str, s: &mut dyn Store) {
    s.set_ingest_rules(IngestRules {
        now_unix_s: Some(DAY + 3 * 86_400),
        ..IngestRules::default()
    });
    for chunk in uploads().chunks(500) {
        s.ingest(chunk).unwrap();
    }
    let runs = 50;
    let t = Instant::now();
    let mut points = 0;
    for _ in 0..runs {
        s.gaps(Some("SCAN"), 500).unwrap();
        for cn in ["2051", "2061", "2031"] {
            points += s
                .upload_times("SCAN", cn, DAY - 86_400, DAY + 3 * 86_400, 20_000)
                .unwrap()
                .len();
        }
        s.gaps(Some("SCAN"), 500).unwrap();
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!(
        "{name}: one logger's gap scan reads {} DataTimes in {ms:.2} ms",
        points / runs
    );
}

#[test]
#[ignore]
fn gap_scan_store_reads() {
    let d = std::env::temp_dir().join(format!("rewater-gapcost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    measure(
        "SQLite",
        &mut SqliteStore::open(&d.join("s.sqlite")).unwrap(),
    );
    let url = std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let schema = format!("rw_gapcost_{}", std::process::id());
    let _ = PostgresStore::drop_schema(&url, &schema);
    if let Ok(mut s) = PostgresStore::connect(&url, Some(&schema)) {
        measure("PostgreSQL", &mut s);
        drop(s);
        PostgresStore::drop_schema(&url, &schema).unwrap();
    }
}
