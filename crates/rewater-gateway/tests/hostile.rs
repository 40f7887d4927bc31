//! Issue 12's findings reproduced against the gateway over real TCP (127.0.0.1), each
//! asserting what now happens.

mod common;

use common::*;
use rewater_gateway::Config;
use rewater_store::prelude::*;
use rewater_store::{hash_device_password, SqliteStore};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

fn quick() -> Config {
    Config {
        housekeeping_every: Duration::from_millis(50),
        ..Config::default()
    }
}

/// Finding 1: 300 kB of `##9999` once grew the store by 2.5 GB. Now: counted, three examples
/// kept, the store grows by far less than 5 MB, and an honest device is still acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_9999_headers_grows_the_store_by_kilobytes() {
    let path = tmp("flood");
    let st = store(&path);
    let before = store_bytes(&path);
    let config = Config {
        // Keep the attacker connected, to see that the store bounds what it keeps.
        max_bad_frames: u32::MAX,
        max_pending_bytes: 1 << 20,
        ..quick()
    };
    let gw = start(Box::new(st), config, None).await;
    let mut attacker = TcpStream::connect(&gw.addr).await.unwrap();
    let flood = b"##9999".repeat(50_000);
    for chunk in flood.chunks(16 * 1024) {
        attacker.write_all(chunk).await.unwrap();
    }
    let mut honest = TcpStream::connect(&gw.addr).await.unwrap();
    assert!(acked(&mut honest, &frame(1)).await);
    // Let the writer count what the decoder reported.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(attacker);
    let stats = gw.shutdown().await;
    let rejected = stats.rejected.load(Ordering::Relaxed);
    assert!(rejected >= 45_000, "{rejected} frames rejected");
    let grown = store_bytes(&path).saturating_sub(before);
    assert!(grown < 1 << 20, "the store grew by {grown} bytes");
    let mut s = SqliteStore::open(&path).unwrap();
    let counts = s.rejected_counts(0, i64::MAX, 100).unwrap();
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(counts[0].source, "127.0.0.1");
    assert_eq!(counts[0].reason, RejectReason::BadFrame);
    assert_eq!(counts[0].count as u64, rejected);
    let samples = s
        .rejected_samples(counts[0].hour_start_s, "127.0.0.1", RejectReason::BadFrame)
        .unwrap();
    assert_eq!(samples.len(), 3);
    assert!(samples.iter().all(|x| x.head.len() <= 256));
    assert_eq!(s.count_readings().unwrap(), 1);
}

/// With the default limit, a connection sending only bad frames is closed quickly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_in_a_row_close_the_connection() {
    let path = tmp("badrow");
    let gw = start(Box::new(store(&path)), quick(), None).await;
    let mut a = TcpStream::connect(&gw.addr).await.unwrap();
    let junk = b"##0010QN=1;XX=2;0000\r\n".repeat(40);
    let _ = a.write_all(&junk).await;
    assert!(closed(&mut a, Duration::from_secs(2)).await);
    let stats = gw.shutdown().await;
    assert_eq!(stats.rejected.load(Ordering::Relaxed), 32);
    assert_eq!(stats.closed_connections.load(Ordering::Relaxed), 1);
}

/// Finding 3: no shared default password; a device's own password, its disabled switch and
/// its allowed source addresses are enforced, and register changes reach the running gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_passwords_sources_and_disabling() {
    let path = tmp("devices");
    let mut st = store(&path);
    let mut lan_only = device("LANONLY", "lan-pw", "s");
    lan_only.allowed_peers = vec!["10.0.0.0/8".into()];
    st.put_device(&lan_only).unwrap();
    let mut local = device("LOCAL", "local-pw", "s");
    local.allowed_peers = vec!["127.0.0.0/8".into(), "::1".into()];
    st.put_device(&local).unwrap();
    let gw = start(Box::new(st), quick(), None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    let f = |mn: &str, pw: &str, k| upload(mn, pw, k, vec![("w01018", 9.0)]).frame();
    assert!(
        not_acked(&mut c, &f("MN", "123456", 1)).await,
        "the old default"
    );
    assert!(not_acked(&mut c, &f("MN", "", 2)).await);
    assert!(acked(&mut c, &f("MN", "pw", 3)).await);
    assert!(
        not_acked(&mut c, &f("LANONLY", "lan-pw", 4)).await,
        "not from 127.0.0.1"
    );
    assert!(acked(&mut c, &f("LOCAL", "local-pw", 5)).await);
    // Another process (the `rewater device` command) disables MN and changes LOCAL's password.
    let mut admin = SqliteStore::open(&path).unwrap();
    assert!(admin.set_device_disabled("MN", true).unwrap());
    assert!(admin
        .set_device_password("LOCAL", &hash_device_password("new-pw"))
        .unwrap());
    let t0 = std::time::Instant::now();
    while gw.handle.stats().reloads.load(Ordering::Relaxed) == 0 {
        assert!(t0.elapsed() < Duration::from_secs(5), "no reload");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(not_acked(&mut c, &f("MN", "pw", 6)).await, "disabled");
    assert!(
        not_acked(&mut c, &f("LOCAL", "local-pw", 7)).await,
        "old password"
    );
    assert!(acked(&mut c, &f("LOCAL", "new-pw", 8)).await);
    drop(c);
    gw.shutdown().await;
    let mut s = SqliteStore::open(&path).unwrap();
    let reasons: Vec<(String, RejectReason)> = s
        .rejected_counts(0, i64::MAX, 100)
        .unwrap()
        .into_iter()
        .map(|c| (c.source, c.reason))
        .collect();
    for want in [
        ("MN".to_string(), RejectReason::WrongPassword),
        ("LANONLY".to_string(), RejectReason::PeerNotAllowed),
        ("MN".to_string(), RejectReason::DeviceDisabled),
        ("LOCAL".to_string(), RejectReason::WrongPassword),
    ] {
        assert!(reasons.contains(&want), "{want:?} not in {reasons:?}");
    }
}

/// Findings 4 and 11: poisoned uploads (1e306 then −1e306, two 1.7e308, negative and
/// 500-character flags, NUL in CP) once failed whole batches and starved honest devices. Now
/// honest devices are all acknowledged, and the poison never reaches an aggregate.
async fn poisoned_uploads_do_not_hurt_honest_devices(st: Box<dyn Store>) {
    let gw = start(st, quick(), None).await;
    let addr = gw.addr.clone();
    let honest = tokio::spawn(async move {
        let mut c = TcpStream::connect(&addr).await.unwrap();
        let mut n = 0;
        for k in 0..40 {
            if acked(
                &mut c,
                &upload("HONEST", "h-pw", k, vec![("w01018", 20.0)]).frame(),
            )
            .await
            {
                n += 1;
            }
        }
        n
    });
    let mut p = TcpStream::connect(&gw.addr).await.unwrap();
    let poison: Vec<(i64, String)> = vec![
        (
            0,
            upload("POISON", "p-pw", 0, vec![("w01018", 1e306)]).frame(),
        ),
        (
            1,
            upload("POISON", "p-pw", 1, vec![("w01018", -1e306)]).frame(),
        ),
        (
            2,
            upload("POISON", "p-pw", 2, vec![("w01018", 1.7e308)]).frame(),
        ),
        (
            3,
            upload("POISON", "p-pw", 3, vec![("w01018", 1.7e308)]).frame(),
        ),
        (
            4,
            upload("POISON", "p-pw", 4, vec![("w01018", -3.0)]).frame(),
        ),
        (
            5,
            upload("POISON", "p-pw", 5, vec![("w01018", 30.0)]).frame(),
        ),
    ];
    for (_, f) in &poison {
        // Stored (flagged) and acknowledged: resending them would not make them better.
        assert!(acked(&mut p, f).await, "{f}");
    }
    let t = base_time() + 600;
    let seg = |cp: &str| {
        rewater_hj212::encode_frame(&format!(
            "QN=20250601000000999;ST=32;CN=2051;PW=p-pw;MN=POISON;Flag=5;CP=&&DataTime={};{cp}&&",
            rewater_hj212::DataTime::from_wall_seconds(t)
        ))
    };
    let long_flag = seg(&format!("w01018-Avg=25,w01018-Flag={}", "N".repeat(500)));
    assert!(
        not_acked(&mut p, &long_flag).await,
        "a 500-letter flag is not data"
    );
    let nul = seg("w01018-Avg=25\u{0},w010\u{0}18-Avg=26,w01018-Flag=N");
    let _ = acked(&mut p, &nul).await;
    assert_eq!(honest.await.unwrap(), 40);
    drop(p);
    gw.shutdown().await;
}

fn poison_store(st: &mut dyn Store) {
    st.put_site(&site("s", None)).unwrap();
    st.put_device(&device("HONEST", "h-pw", "s")).unwrap();
    st.put_device(&device("POISON", "p-pw", "s")).unwrap();
}

fn assert_no_poison(s: &mut dyn Store) {
    let t0 = base_time();
    let h = s
        .aggregates(
            "HONEST",
            "w01018",
            rewater_store::Period::Hour,
            t0,
            t0 + 7200,
        )
        .unwrap();
    assert_eq!(h.iter().map(|p| p.n).sum::<i64>(), 40);
    assert!(h.iter().all(|p| p.mean == 20.0));
    // The poisoned device's hour holds its one plausible value only.
    let p = s
        .aggregates(
            "POISON",
            "w01018",
            rewater_store::Period::Hour,
            t0,
            t0 + 3600,
        )
        .unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].n, p[0].mean), (1, 30.0));
    let flags: Vec<(Option<f64>, Option<String>)> = s
        .readings("POISON", "w01018", &["2051"], t0, t0 + 3600)
        .unwrap()
        .into_iter()
        .map(|r| (r.value, r.flag))
        .collect();
    let f = |v: f64, fl: &str| (Some(v), Some(fl.to_string()));
    assert_eq!(
        flags[..6],
        [
            f(1e306, "T"),
            f(-1e306, "D"),
            f(1.7e308, "T"),
            f(1.7e308, "T"),
            f(-3.0, "D"),
            f(30.0, "N")
        ]
    );
    assert!(flags.iter().all(
        |(v, fl)| v.is_none_or(|v| v.is_finite()) && fl.as_deref().is_none_or(|x| x.len() <= 2)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poisoned_uploads_sqlite() {
    let path = tmp("poison");
    let mut st = SqliteStore::open(&path).unwrap();
    poison_store(&mut st);
    poisoned_uploads_do_not_hurt_honest_devices(Box::new(st)).await;
    assert_no_poison(&mut SqliteStore::open(&path).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poisoned_uploads_postgres() {
    let url = std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let schema = format!("rw_gw_poison_{}", std::process::id());
    let (u, sc) = (url.clone(), schema.clone());
    // The blocking PostgreSQL client is used off the async threads.
    let opened = tokio::task::spawn_blocking(move || {
        let _ = rewater_store::PostgresStore::drop_schema(&u, &sc);
        let mut s = rewater_store::PostgresStore::connect(&u, Some(&sc))?;
        poison_store(&mut s);
        Ok::<_, rewater_store::StoreError>(s)
    })
    .await
    .unwrap();
    let st = match opened {
        Ok(s) => s,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("SKIPPED: no PostgreSQL at {url} ({e})");
            return;
        }
        Err(e) => panic!("CI needs PostgreSQL at {url}: {e}"),
    };
    poisoned_uploads_do_not_hurt_honest_devices(Box::new(st)).await;
    tokio::task::spawn_blocking(move || {
        let mut s = rewater_store::PostgresStore::connect(&url, Some(&schema)).unwrap();
        assert_no_poison(&mut s);
        drop(s);
        rewater_store::PostgresStore::drop_schema(&url, &schema).unwrap();
    })
    .await
    .unwrap();
}

/// Finding 5: a DataTime of 9999 once became a site's latest reading for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datatimes_outside_the_window_are_refused() {
    let path = tmp("window");
    let gw = start(Box::new(store(&path)), quick(), None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    let at = |wall: i64| {
        let mut u = upload("MN", "pw", 0, vec![("w01018", 5.0)]);
        u.data_time = rewater_hj212::DataTime::from_wall_seconds(wall);
        u.frame()
    };
    let now = rewater_time::Zone::default().now_wall_seconds();
    assert!(not_acked(&mut c, &at(253_402_300_799)).await, "year 9999");
    assert!(not_acked(&mut c, &at(-2_208_988_800)).await, "year 1900");
    assert!(not_acked(&mut c, &at(now + 3600)).await, "an hour ahead");
    assert!(acked(&mut c, &at(now - 60)).await);
    assert!(
        acked(&mut c, &at(now - 400 * 86_400)).await,
        "late data (补发) inside the window"
    );
    drop(c);
    gw.shutdown().await;
    let mut s = SqliteStore::open(&path).unwrap();
    let latest = s.latest("MN").unwrap();
    assert_eq!(latest[0].data_time, now - 60);
    let reasons: Vec<RejectReason> = s
        .rejected_counts(0, i64::MAX, 10)
        .unwrap()
        .into_iter()
        .map(|c| c.reason)
        .collect();
    assert!(reasons.contains(&RejectReason::DataTimeAhead));
    assert!(reasons.contains(&RejectReason::DataTimeTooOld));
}

/// Finding 7: the per-address limit is separate from the global one, and a trickle of
/// non-`##` bytes no longer keeps a connection open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_address_limit_and_trickles() {
    let path = tmp("conns");
    let config = Config {
        max_connections: 100,
        max_per_address: 3,
        idle_timeout: Duration::from_millis(800),
        handshake_timeout: Duration::from_millis(800),
        ..quick()
    };
    let gw = start(Box::new(store(&path)), config, None).await;
    let mut from1 = Vec::new();
    for _ in 0..3 {
        from1.push(TcpStream::connect(&gw.addr).await.unwrap());
    }
    let mut fourth = TcpStream::connect(&gw.addr).await.unwrap();
    assert!(closed(&mut fourth, Duration::from_millis(500)).await);
    // Another address still gets in (127.0.0.2 is loopback too on Linux).
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = sock.connect(gw.addr.parse().unwrap()).await.unwrap();
    assert!(acked(&mut other, &frame(1)).await);
    // A trickle of garbage: one byte every 100 ms is not a frame, so the idle clock runs on.
    let mut trickle = from1.pop().unwrap();
    let t0 = std::time::Instant::now();
    let mut open = true;
    while t0.elapsed() < Duration::from_secs(3) {
        if trickle.write_all(b"x").await.is_err() {
            open = false;
            break;
        }
        if closed(&mut trickle, Duration::from_millis(100)).await {
            open = false;
            break;
        }
    }
    assert!(!open, "a trickle of garbage kept the connection open");
    assert!(t0.elapsed() < Duration::from_millis(1500));
    let stats = gw.shutdown().await;
    assert!(stats.refused_connections.load(Ordering::Relaxed) >= 1);
}

/// Finding 10: a standard changed on a site (PUT) reaches the alert engine without restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_standard_reaches_the_alert_engine() {
    let path = tmp("standard");
    let mut st = SqliteStore::open(&path).unwrap();
    // GB 18918 class 1A: COD ≤ 50 mg/L; class 1B: ≤ 60 mg/L.
    st.put_site(&site("s", Some("GB18918-2002:1A"))).unwrap();
    st.put_device(&device("MN", "pw", "s")).unwrap();
    let alerts = alert_setup();
    let gw = start(Box::new(st), quick(), Some(alerts)).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    let cod = |k, v| upload("MN", "pw", k, vec![("w01018", v)]).frame();
    assert!(acked(&mut c, &cod(1, 55.0)).await);
    let mut admin = SqliteStore::open(&path).unwrap();
    let wait_alerts = |admin: &mut SqliteStore, pred: &dyn Fn(&[rewater_store::Alert]) -> bool| {
        let t0 = std::time::Instant::now();
        loop {
            let a = admin.alerts(None, None, 10).unwrap();
            if pred(&a) {
                return a;
            }
            assert!(t0.elapsed() < Duration::from_secs(5), "{a:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let a = wait_alerts(&mut admin, &|a| !a.is_empty());
    assert_eq!(
        (a[0].kind.as_str(), a[0].recovered_at_ms),
        ("exceedance", None)
    );
    // The site's standard becomes 1B, under which 51 mg/L is within the limit (and within
    // it less the 10 % hysteresis, 54 mg/L) while it exceeds 1A's.
    admin.put_site(&site("s", Some("GB18918-2002:1B"))).unwrap();
    let t0 = std::time::Instant::now();
    while gw.handle.stats().reloads.load(Ordering::Relaxed) == 0 {
        assert!(t0.elapsed() < Duration::from_secs(5), "no reload");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(acked(&mut c, &cod(2, 51.0)).await);
    let a = wait_alerts(&mut admin, &|a| a[0].recovered_at_ms.is_some());
    assert_eq!(a.len(), 1, "recovered under the new standard, no new alert");
    drop(c);
    gw.shutdown().await;
}

/// An implausible value is flagged for the alert engine as for the store: a device-flag
/// warning, never an exceedance built on 1e306.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_engine_sees_implausible_values_flagged() {
    let path = tmp("alertflag");
    let mut st = SqliteStore::open(&path).unwrap();
    st.put_site(&site("s", Some("GB18918-2002:1A"))).unwrap();
    st.put_device(&device("MN", "pw", "s")).unwrap();
    let alerts = alert_setup();
    let gw = start(Box::new(st), quick(), Some(alerts)).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    assert!(
        acked(
            &mut c,
            &upload("MN", "pw", 1, vec![("w01018", 1e306)]).frame()
        )
        .await
    );
    let mut admin = SqliteStore::open(&path).unwrap();
    let t0 = std::time::Instant::now();
    let a = loop {
        let a = admin.alerts(None, None, 10).unwrap();
        if !a.is_empty() || t0.elapsed() > Duration::from_secs(5) {
            break a;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let kinds: Vec<&str> = a.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(kinds, ["device_flag"], "{a:?}");
    assert!(a[0].message.contains("'T'"), "{}", a[0].message);
    drop(c);
    gw.shutdown().await;
}
