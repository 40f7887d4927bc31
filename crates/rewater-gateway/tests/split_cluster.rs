//! Split packets held in the store, over real TCP, on SQLite and PostgreSQL (issue 19): the
//! parts of one record spread over two gateways are stored once, whole; a gateway killed
//! with SIGKILL between parts loses none it acknowledged — the logger sends the remaining
//! parts to another gateway, which completes every record: 0 lost, 0 duplicates. The killed
//! gateway is this test binary run again as a child process (`split_child_gateway`, driven
//! by REWATER_SPLIT_CHILD), as in `cluster.rs`.

mod common;

use common::backend::*;
use common::child::{free_port, spawn_gateway_child};
use common::*;
use rewater_gateway::{serve, Config};
use rewater_hj212::DataTime;
use rewater_store::prelude::*;
use std::process::Child;
use std::time::Duration;
use tokio::net::TcpStream;

fn config() -> Config {
    Config {
        calibrate: false,
        housekeeping_every: Duration::from_millis(100),
        platform_every: Duration::from_millis(50),
        device_frames_per_s: 0.0,
        ..Config::default()
    }
}

/// Part `pno` of 3 of the minute record `k`: factor w01018, w21003 or w21011 with value
/// 100·k + pno.
fn part(k: i64, pno: u32) -> String {
    let t = DataTime::from_wall_seconds(base_time() + 60 * k);
    let code = ["w01018", "w21003", "w21011"][pno as usize - 1];
    let v = 100 * k + i64::from(pno);
    rewater_hj212::frame::encode_frame(&format!(
        "QN=20250601000000{:03};ST=32;CN=2051;PW=pw;MN=MN;Flag=7;PNUM=3;PNO={pno};CP=&&DataTime={t};{code}-Avg={v},{code}-Flag=N&&",
        (k * 3 + i64::from(pno)).rem_euclid(1000)
    ))
}

async fn acked_once(c: &mut TcpStream, frame: &str) -> bool {
    exchange(c, frame, Duration::from_secs(5))
        .await
        .iter()
        .filter(|g| g.contains("CN=9014"))
        .count()
        == 1
}

/// Every record `0..n` stored once, whole: one frame each, its three readings with their
/// values, nothing held.
fn check_whole(s: &mut dyn Store, records: std::ops::Range<i64>) {
    let n = records.end - records.start;
    assert_eq!(s.count_frames().unwrap(), n, "one frame per record");
    assert_eq!(
        s.count_readings().unwrap(),
        3 * n,
        "three readings per record"
    );
    for (pno, code) in [(1, "w01018"), (2, "w21003"), (3, "w21011")] {
        let r = s.readings("MN", code, &["2051"], 0, i64::MAX).unwrap();
        let got: Vec<(i64, Option<f64>)> = r.iter().map(|x| (x.data_time, x.value)).collect();
        let want: Vec<(i64, Option<f64>)> = records
            .clone()
            .map(|k| (base_time() + 60 * k, Some((100 * k + pno) as f64)))
            .collect();
        assert_eq!(got, want, "{code}");
    }
    assert_eq!(s.split_pending(None).unwrap(), (0, 0), "no part left held");
}

async fn two_gateways(b: Backend) {
    let a = start(b.open(), config(), None).await;
    let g = start(b.open(), config(), None).await;
    let mut ca = TcpStream::connect(&a.addr).await.unwrap();
    let mut cg = TcpStream::connect(&g.addr).await.unwrap();
    // The logger hops between the gateways: parts 1 and 3 to A, part 2 to the other one.
    assert!(acked_once(&mut ca, &part(0, 1)).await);
    assert!(acked_once(&mut cg, &part(0, 2)).await);
    assert!(acked_once(&mut ca, &part(0, 3)).await);
    // Record 1: its last part comes to the second gateway.
    assert!(acked_once(&mut cg, &part(1, 3)).await);
    assert!(acked_once(&mut ca, &part(1, 1)).await);
    assert!(acked_once(&mut cg, &part(1, 2)).await);
    // A part resent afterwards, to either gateway: acknowledged, nothing stored.
    assert!(acked_once(&mut cg, &part(0, 1)).await);
    assert!(acked_once(&mut ca, &part(1, 2)).await);
    let mut look = b.open();
    sync(|| check_whole(look.as_mut(), 0..2));
    sync(|| drop(look));
    let (sa, sg) = (a.shutdown().await, g.shutdown().await);
    use std::sync::atomic::Ordering::Relaxed;
    let records = sa.split_records.load(Relaxed) + sg.split_records.load(Relaxed);
    assert_eq!(records, 2);
    sync(|| drop(b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_over_two_gateways_are_stored_once_whole_on_sqlite() {
    two_gateways(Backend::sqlite("split-two")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_over_two_gateways_are_stored_once_whole_on_postgres() {
    if let Some(b) = sync(|| Backend::postgres("splittwo")) {
        two_gateways(b).await;
    }
}

/// The gateway of a child process: `sqlite:PATH:PORT` or `pg:SCHEMA:PORT` in
/// REWATER_SPLIT_CHILD. Without it this test does nothing.
#[test]
fn split_child_gateway() {
    let Ok(spec) = std::env::var("REWATER_SPLIT_CHILD") else {
        return;
    };
    let mut it = spec.splitn(2, ':');
    let kind = it.next().unwrap().to_string();
    let (at, port) = it.next().unwrap().rsplit_once(':').unwrap();
    let store: Box<dyn Store> = match kind.as_str() {
        "sqlite" => Box::new(rewater_store::SqliteStore::open(std::path::Path::new(at)).unwrap()),
        _ => Box::new(rewater_store::PostgresStore::connect(&url(), Some(at)).unwrap()),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        serve(listener, store, config(), rx, None, |_| println!("READY"))
            .await
            .unwrap();
    });
}

fn spawn_gateway(spec: &str) -> Child {
    spawn_gateway_child("split_child_gateway", ("REWATER_SPLIT_CHILD", spec))
}

const RECORDS: i64 = 6;

async fn killed_between_parts(b: Backend) {
    let spec_of = |port: u16| match &b {
        Backend::Sqlite(p) => format!("sqlite:{}:{port}", p.display()),
        Backend::Postgres(schema) => format!("pg:{schema}:{port}"),
    };
    let port = free_port();
    let mut child = spawn_gateway(&spec_of(port));
    let mut c = TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    // Parts 1 and 2 of every record, acknowledged by the child; part 1 of one more.
    for k in 0..RECORDS {
        assert!(acked_once(&mut c, &part(k, 1)).await, "record {k} part 1");
        assert!(acked_once(&mut c, &part(k, 2)).await, "record {k} part 2");
    }
    assert!(acked_once(&mut c, &part(RECORDS, 1)).await);
    // SIGKILL: nothing of the gateway's memory survives.
    child.kill().unwrap();
    let _ = child.wait();
    assert!(closed(&mut c, Duration::from_secs(5)).await);
    {
        let mut look = b.open();
        let held = sync(|| look.split_pending(Some("MN")).unwrap());
        assert_eq!(held, (RECORDS + 1, 2 * RECORDS + 1), "acknowledged = held");
        assert_eq!(sync(|| look.count_frames().unwrap()), 0);
        sync(|| drop(look));
    }
    // The logger reconnects (to another gateway) and sends what it had not sent yet.
    let g = start(b.open(), config(), None).await;
    let mut c = TcpStream::connect(&g.addr).await.unwrap();
    for k in 0..RECORDS {
        assert!(acked_once(&mut c, &part(k, 3)).await, "record {k} part 3");
    }
    assert!(acked_once(&mut c, &part(RECORDS, 2)).await);
    assert!(acked_once(&mut c, &part(RECORDS, 3)).await);
    let mut look = b.open();
    sync(|| check_whole(look.as_mut(), 0..RECORDS + 1));
    sync(|| drop(look));
    let stats = g.shutdown().await;
    assert_eq!(
        stats
            .split_records
            .load(std::sync::atomic::Ordering::Relaxed),
        (RECORDS + 1) as u64
    );
    sync(|| drop(b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_between_parts_loses_none_on_sqlite() {
    killed_between_parts(Backend::sqlite("split-kill")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_between_parts_loses_none_on_postgres() {
    if let Some(b) = sync(|| Backend::postgres("splitkill")) {
        killed_between_parts(b).await;
    }
}
