//! The task register's conformance checks (progress with attachments, river chiefs, patrols,
//! audit in the same transaction) on a SQLite file and on a real PostgreSQL server
//! (127.0.0.1:5432, trust auth, database `test`, or REWATER_TEST_POSTGRES). Under CI the
//! server must be there; elsewhere the PostgreSQL test says it skipped.

use rewater_store::prelude::*;
use rewater_store::tasks::{NewAttachment, NewProgress, ProgressFilter};
use rewater_store::{PostgresStore, SqliteStore};

fn url() -> String {
    std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

#[test]
fn sqlite_passes_the_task_register_checks() {
    let d = std::env::temp_dir().join(format!("rewater-store-tasks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let mut s = SqliteStore::open(&d.join("store.sqlite")).unwrap();
    rewater_store::tasks::conformance::run_all(&mut s);
}

#[test]
fn postgres_passes_the_task_register_checks() {
    let schema = format!("rw_tasks_{}", std::process::id());
    let _ = PostgresStore::drop_schema(&url(), &schema);
    let mut s = match PostgresStore::connect(&url(), Some(&schema)) {
        Ok(s) => s,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("SKIPPED: no PostgreSQL at {} ({e})", url());
            return;
        }
        Err(e) => panic!("CI needs PostgreSQL at {}: {e}", url()),
    };
    // The newest schema (the task register came with version 4, the outfall ledger with 5,
    // maintenance windows with 6).
    assert_eq!(s.schema_version().unwrap(), 15);
    rewater_store::tasks::conformance::run_all(&mut s);
    drop(s);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

/// Attachments survive reopening the file byte for byte, a binary PNG included.
#[test]
fn attachments_survive_reopening() {
    let d = std::env::temp_dir().join(format!("rewater-store-tasks-re-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("store.sqlite");
    let png: Vec<u8> = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8, 255, 1, 254, 0]].concat();
    let id = {
        let mut s = SqliteStore::open(&path).unwrap();
        s.add_progress(&NewProgress {
            register: "beijing-2023-water-environment".into(),
            task: "9".into(),
            district: Some("north".into()),
            percent: 30,
            done_on: None,
            note: String::new(),
            who: "op".into(),
            at_ms: 5,
            attachments: vec![NewAttachment {
                name: "site.png".into(),
                media_type: "image/png".into(),
                bytes: png.clone(),
            }],
        })
        .unwrap();
        s.progress(&ProgressFilter::default()).unwrap()[0].attachments[0].id
    };
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.attachment(id).unwrap().unwrap().bytes, png);
}
