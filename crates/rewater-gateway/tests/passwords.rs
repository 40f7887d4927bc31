//! Device passwords over real TCP: a device's password is hashed (SHA-256) once, when it
//! first verifies, and then compared without hashing; a wrong password is hashed and refused
//! every time and never makes the good one pass less; a new password in the store (register
//! reload) ends the old one at once.

mod common;

use common::*;
use rewater_gateway::Config;
use rewater_store::prelude::*;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpStream;

fn pw_frame(pw: &str, k: i64) -> String {
    upload("MN", pw, k, vec![("w01018", 1.0)]).frame()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_is_hashed_once_per_device_not_per_frame() {
    let path = tmp("pwcache");
    let st = store(&path);
    let config = Config {
        housekeeping_every: Duration::from_millis(50),
        ..Config::default()
    };
    let gw = start(Box::new(st), config, None).await;
    let stats = gw.handle.stats();
    let hashes = || stats.password_hashes.load(Ordering::Relaxed);
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    for k in 0..10 {
        assert!(acked(&mut c, &pw_frame("pw", k)).await, "frame {k}");
    }
    assert_eq!(hashes(), 1, "ten frames, one hash");
    // Wrong passwords: each hashed, each refused; the good one still passes unhashed.
    for k in 10..13 {
        assert!(not_acked(&mut c, &pw_frame("pw-wrong", k)).await);
    }
    assert_eq!(hashes(), 4);
    assert!(acked(&mut c, &pw_frame("pw", 13)).await);
    // A second connection of the same device: still no hash.
    let mut c2 = TcpStream::connect(&gw.addr).await.unwrap();
    assert!(acked(&mut c2, &pw_frame("pw", 14)).await);
    assert_eq!(hashes(), 4);
    // A new password in the store: the register reloads, the old password is refused.
    let mut st2 = rewater_store::SqliteStore::open(&path).unwrap();
    st2.put_device(&device("MN", "pw-new", "s")).unwrap();
    let t0 = std::time::Instant::now();
    let mut k = 15;
    while acked(&mut c, &pw_frame("pw", k)).await {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "old password still passes"
        );
        k += 1;
    }
    assert!(acked(&mut c, &pw_frame("pw-new", k + 1)).await);
    let after_new = hashes();
    assert!(acked(&mut c, &pw_frame("pw-new", k + 2)).await);
    assert!(acked(&mut c, &pw_frame("pw-new", k + 3)).await);
    assert_eq!(hashes(), after_new, "the new password is cached too");
    let stats = gw.shutdown().await;
    assert_eq!(
        stats.stored.load(Ordering::Relaxed),
        // 0..10, 13, 14, 15..k with the old password before the reload, k+1..=k+3.
        k as u64,
        "every frame with the right password stored"
    );
}
