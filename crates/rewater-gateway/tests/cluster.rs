//! Several gateway processes on one PostgreSQL store (issue 19), over real TCP: devices hop
//! between two gateways, one is killed with SIGKILL in the middle of the load, and afterwards
//! every acknowledged upload is stored exactly once; alerts are evaluated once for the
//! cluster (one exceedance episode, not one per gateway). Needs PostgreSQL at 127.0.0.1:5432
//! (database `test`, or REWATER_TEST_POSTGRES): required under CI, else the test says it
//! skipped. The gateways are this test binary run again as child processes
//! (`cluster_child_gateway`, driven by REWATER_CLUSTER_CHILD).

mod common;

use common::child::{free_port, spawn_gateway_child};
use common::*;
use rewater_gateway::{serve, Config};
use rewater_store::prelude::*;
use rewater_store::PostgresStore;
use std::collections::HashSet;
use std::process::Child;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn url() -> String {
    std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// The gateway of a child process: `SCHEMA:PORT` in REWATER_CLUSTER_CHILD. Without it this
/// test does nothing.
#[test]
fn cluster_child_gateway() {
    let Ok(spec) = std::env::var("REWATER_CLUSTER_CHILD") else {
        return;
    };
    let (schema, port) = spec.split_once(':').unwrap();
    let store = PostgresStore::connect(&url(), Some(schema)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let config = Config {
            cluster: true,
            feed_every: Duration::from_millis(50),
            housekeeping_every: Duration::from_millis(200),
            device_frames_per_s: 0.0,
            ..Config::default()
        };
        serve(
            listener,
            Box::new(store),
            config,
            rx,
            Some(alert_setup()),
            |_| {
                println!("READY");
            },
        )
        .await
        .unwrap();
    });
}

fn spawn_gateway(schema: &str, port: u16) -> Child {
    spawn_gateway_child(
        "cluster_child_gateway",
        ("REWATER_CLUSTER_CHILD", &format!("{schema}:{port}")),
    )
}

/// Sends one frame and waits for its 9014; false on any failure (no connection, closed,
/// no acknowledgement within 3 s).
async fn send_acked(conn: &mut Option<TcpStream>, addr: &str, frame: &str) -> bool {
    if conn.is_none() {
        *conn = TcpStream::connect(addr).await.ok();
    }
    let Some(s) = conn.as_mut() else {
        return false;
    };
    let ok = async {
        s.write_all(frame.as_bytes()).await.ok()?;
        let mut buf = [0u8; 1024];
        let mut got = Vec::new();
        let t = tokio::time::Instant::now() + Duration::from_secs(3);
        loop {
            let n = tokio::time::timeout_at(t, s.read(&mut buf))
                .await
                .ok()?
                .ok()?;
            if n == 0 {
                return None;
            }
            got.extend_from_slice(&buf[..n]);
            if got.windows(7).any(|w| w == b"CN=9014") {
                return Some(());
            }
        }
    }
    .await
    .is_some();
    if !ok {
        *conn = None;
    }
    ok
}

/// The store is read with the blocking PostgreSQL client, outside the runtime that plays the
/// loggers.
#[test]
fn two_gateways_one_killed_lose_and_double_nothing() {
    let schema = format!("rw_cluster_{}", std::process::id());
    let _ = PostgresStore::drop_schema(&url(), &schema);
    let mut admin = match PostgresStore::connect(&url(), Some(&schema)) {
        Ok(s) => s,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!(
                "SKIPPED: no PostgreSQL at {} ({e}) — the cluster test did not run",
                url()
            );
            return;
        }
        Err(e) => panic!("CI needs PostgreSQL at {}: {e}", url()),
    };
    // GB 18918 class 1A: COD ≤ 50 mg/L; device 0, alone on its site, sends 80 all the time.
    admin.put_site(&site("s", Some("GB18918-2002:1A"))).unwrap();
    admin
        .put_site(&site("hot", Some("GB18918-2002:1A")))
        .unwrap();
    let mns: Vec<String> = (0..DEVICES).map(|i| format!("CLUSTER{i:04}")).collect();
    let devices: Vec<_> = mns
        .iter()
        .enumerate()
        .map(|(i, m)| device(m, "pw", if i == 0 { "hot" } else { "s" }))
        .collect();
    admin.put_devices(&devices).unwrap();
    let ports = [free_port(), free_port()];
    let a = spawn_gateway(&schema, ports[0]);
    let mut b = spawn_gateway(&schema, ports[1]);
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (acknowledged, at_kill) = rt.block_on(load(&mns, addrs, a));
    let total = DEVICES * UPLOADS as usize;
    assert!(at_kill < total, "the kill came after the load");
    assert_eq!(acknowledged.len(), total);
    // Every acknowledged upload is stored, once, with its two readings once each.
    check_stored(&schema, &mns);
    b.kill().unwrap();
    let _ = b.wait();
    drop(admin);
    PostgresStore::drop_schema(&url(), &schema).unwrap();
}

const DEVICES: usize = 30;
const UPLOADS: i64 = 40;

/// Plays the loggers, kills gateway `a` a third of the way; returns what was acknowledged
/// and how many uploads were acknowledged at the kill.
async fn load(mns: &[String], addrs: Vec<String>, mut a: Child) -> (HashSet<(String, i64)>, usize) {
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mn) in mns.iter().cloned().enumerate() {
        let (addrs, acked) = (addrs.clone(), acked.clone());
        tasks.spawn(async move {
            let mut conn: Option<TcpStream> = None;
            let mut at = i % 2;
            let mut done = Vec::new();
            for k in 0..UPLOADS {
                // Hop to the other gateway every 8 uploads (a reconnect behind a balancer).
                if k > 0 && k % 8 == 0 {
                    at = 1 - at;
                    conn = None;
                }
                let cod = if i == 0 { 80.0 } else { 20.0 };
                let f = upload(&mn, "pw", k, vec![("w01018", cod), ("w21003", 1.0)]).frame();
                let t0 = Instant::now();
                // A logger resends what was not acknowledged, here to the other gateway.
                while !send_acked(&mut conn, &addrs[at], &f).await {
                    at = 1 - at;
                    assert!(
                        t0.elapsed() < Duration::from_secs(60),
                        "{mn} upload {k} never acknowledged"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                acked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                done.push(k);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (mn, done)
        });
    }
    // Kill gateway A (SIGKILL) once a third of the uploads are acknowledged.
    let total = DEVICES * UPLOADS as usize;
    let t0 = Instant::now();
    while acked.load(std::sync::atomic::Ordering::Relaxed) < total / 3 {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "load did not progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.kill().unwrap();
    let _ = a.wait();
    let at_kill = acked.load(std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged: HashSet<(String, i64)> = HashSet::new();
    while let Some(r) = tasks.join_next().await {
        let (mn, done) = r.unwrap();
        acknowledged.extend(done.into_iter().map(|k| (mn.clone(), k)));
    }
    (acknowledged, at_kill)
}

fn check_stored(schema: &str, mns: &[String]) {
    let total = DEVICES * UPLOADS as usize;
    let mut check = PostgresStore::connect(&url(), Some(schema)).unwrap();
    assert_eq!(check.count_readings().unwrap(), 2 * total as i64);
    for mn in mns {
        let r = check
            .readings(mn, "w01018", &["2051"], 0, i64::MAX)
            .unwrap();
        let times: HashSet<i64> = r.iter().map(|x| x.data_time).collect();
        assert_eq!(r.len(), UPLOADS as usize, "{mn}: {} readings", r.len());
        assert_eq!(times.len(), UPLOADS as usize, "{mn}: duplicates");
        for k in 0..UPLOADS {
            assert!(
                times.contains(&(base_time() + 60 * k)),
                "{mn} upload {k} lost"
            );
        }
    }
    // The surviving gateway leads and empties the feed; one episode for device 0.
    let t0 = Instant::now();
    while check.alert_feed_len().unwrap() > 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the alert feed was not evaluated"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let alerts = check.alerts(None, None, 100).unwrap();
    let cod: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == "exceedance" && a.factor.as_deref() == Some("w01018"))
        .collect();
    assert_eq!(cod.len(), 1, "{alerts:?}");
    assert_eq!(cod[0].mn.as_deref(), Some("CLUSTER0000"));
}
