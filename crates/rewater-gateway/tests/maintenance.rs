//! Maintenance windows reach the running gateway (issue 13): a window set in the store while
//! the gateway runs suppresses the device's alerts, over real TCP; removed, alerts come back.

mod common;

use common::*;
use rewater_gateway::Config;
use rewater_store::prelude::*;
use rewater_store::{NewMaintenance, SqliteStore};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpStream;

async fn wait_reload(gw: &Running, after: u64) {
    let t0 = std::time::Instant::now();
    while gw.handle.stats().reloads.load(Ordering::Relaxed) <= after {
        assert!(t0.elapsed() < Duration::from_secs(5), "no reload");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_window_suppresses_a_devices_alerts() {
    let path = tmp("maintenance");
    let mut st = SqliteStore::open(&path).unwrap();
    // GB 18918 class 1A: COD ≤ 50 mg/L.
    st.put_site(&site("s", Some("GB18918-2002:1A"))).unwrap();
    st.put_device(&device("MN", "pw", "s")).unwrap();
    let alerts = alert_setup();
    let config = Config {
        housekeeping_every: Duration::from_millis(50),
        ..Config::default()
    };
    let gw = start(Box::new(st), config, Some(alerts)).await;
    let mut admin = SqliteStore::open(&path).unwrap();
    // A window around now (it also covers the uploads' data times, two days back).
    let now = rewater_time::now_unix_ms();
    let id = admin
        .add_maintenance(&NewMaintenance {
            mn: "MN".into(),
            from_ms: now - 3 * 86_400_000,
            to_ms: now + 3_600_000,
            reason: "analyser service".into(),
            who: "op".into(),
            at_ms: now,
        })
        .unwrap();
    wait_reload(&gw, 0).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    let cod = |k, v| upload("MN", "pw", k, vec![("w01018", v)]).frame();
    assert!(acked(&mut c, &cod(1, 80.0)).await);
    assert!(acked(&mut c, &cod(2, 90.0)).await);
    // Stored, but no alert.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(admin.alerts(None, None, 10).unwrap().is_empty());
    assert_eq!(
        admin
            .readings("MN", "w01018", &["2051"], 0, i64::MAX)
            .unwrap()
            .len(),
        2
    );
    // Window removed: the next exceedance is raised.
    let before = gw.handle.stats().reloads.load(Ordering::Relaxed);
    assert!(admin.remove_maintenance(id, "op", now).unwrap());
    wait_reload(&gw, before).await;
    assert!(acked(&mut c, &cod(3, 80.0)).await);
    let t0 = std::time::Instant::now();
    loop {
        let a = admin.alerts(None, None, 10).unwrap();
        if !a.is_empty() {
            assert_eq!(a[0].kind, "exceedance");
            assert_eq!(a[0].value, Some(80.0));
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "no alert after the window"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(c);
    gw.shutdown().await;
}
