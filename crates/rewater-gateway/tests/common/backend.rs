//! Both store backends for the platform-side tests: a fresh SQLite file or a fresh
//! PostgreSQL schema (127.0.0.1:5432, database `test`, or REWATER_TEST_POSTGRES; required
//! under CI, else the case says it skipped), each with site "s" and device MN / "pw".

use super::{device, site, store, tmp};
use rewater_store::prelude::*;
use rewater_store::{PostgresStore, SqliteStore};
use std::time::{Duration, Instant};

pub fn url() -> String {
    std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A fresh store of one backend with site "s" and device MN / "pw", and a way to open a
/// second connection to it (to look, as another process would).
pub enum Backend {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Backend {
    pub fn sqlite(name: &str) -> Backend {
        let p = tmp(name);
        drop(store(&p));
        Backend::Sqlite(p)
    }
    pub fn postgres(name: &str) -> Option<Backend> {
        let schema = format!("rw_gw_{name}_{}", std::process::id());
        let _ = PostgresStore::drop_schema(&url(), &schema);
        match PostgresStore::connect(&url(), Some(&schema)) {
            Ok(mut s) => {
                s.put_site(&site("s", None)).unwrap();
                s.put_device(&device("MN", "pw", "s")).unwrap();
                Some(Backend::Postgres(schema))
            }
            Err(e) if std::env::var("CI").is_err() => {
                eprintln!("SKIPPED: no PostgreSQL at {} ({e})", url());
                None
            }
            Err(e) => panic!("CI needs PostgreSQL at {}: {e}", url()),
        }
    }
    /// A connection (the PostgreSQL client blocks: off the async threads' duty).
    pub fn open(&self) -> Box<dyn Store> {
        sync(|| self.open_now())
    }
    pub fn open_now(&self) -> Box<dyn Store> {
        match self {
            Backend::Sqlite(p) => Box::new(SqliteStore::open(p).unwrap()),
            Backend::Postgres(schema) => {
                Box::new(PostgresStore::connect(&url(), Some(schema)).unwrap())
            }
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Postgres(schema) = self {
            let _ = PostgresStore::drop_schema(&url(), schema);
        }
    }
}

/// Runs blocking store code from a test's async body.
pub fn sync<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

pub async fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
