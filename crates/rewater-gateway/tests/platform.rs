//! The platform side of HJ 212-2017 over real TCP (issue 19): time calibration (1012) after a
//! connection's first accepted frame and when a logger's clock drifts past the limit.

mod common;

use common::*;
use rewater_gateway::Config;
use rewater_hj212::{DataTime, Decoder, Event, Options};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reply segments within `wait` after sending `frame`.
async fn replies(s: &mut TcpStream, frame: &str, wait: Duration) -> Vec<String> {
    s.write_all(frame.as_bytes()).await.unwrap();
    let mut d = Decoder::new(Options::strict());
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    let t = tokio::time::Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(t, s.read(&mut b)).await {
        if n == 0 {
            break;
        }
        d.push(&b[..n]);
        while let Some(Event::Frame(f)) = d.next_event() {
            got.push(f.segment().to_string());
        }
    }
    got
}

fn system_time(seg: &str) -> i64 {
    let t = seg.split("SystemTime=").nth(1).unwrap().get(..14).unwrap();
    DataTime::parse(t).unwrap().wall_seconds()
}

/// An upload whose QN says the logger's clock reads `offset_s` from now.
fn upload_with_clock(k: i64, offset_s: i64) -> String {
    let mut u = upload("MN", "pw", k, vec![("w01018", 10.0)]);
    let now = rewater_time::Zone::default().now_wall_seconds();
    u.qn = format!("{}123", DataTime::from_wall_seconds(now + offset_s));
    u.frame()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_sets_the_logger_clock_on_connect_and_on_drift() {
    let path = tmp("calibrate");
    let config = Config {
        calibrate_every: Duration::ZERO,
        clock_drift_limit: Duration::from_secs(60),
        ..Config::default()
    };
    let gw = start(Box::new(store(&path)), config, None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    // First accepted frame: its 9014 first, then a 1012 with the server's time.
    let got = replies(&mut c, &upload_with_clock(1, 0), Duration::from_millis(800)).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].contains("CN=9014"), "{got:?}");
    assert!(
        got[1].contains("CN=1012") && got[1].contains("MN=MN"),
        "{got:?}"
    );
    let now = rewater_time::Zone::default().now_wall_seconds();
    assert!((system_time(&got[1]) - now).abs() <= 5, "{}", got[1]);
    // A clock 30 s off is inside the limit: no 1012.
    let got = replies(
        &mut c,
        &upload_with_clock(2, 30),
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(got.len(), 1, "{got:?}");
    // Two hours behind: set again.
    let got = replies(
        &mut c,
        &upload_with_clock(3, -7200),
        Duration::from_millis(800),
    )
    .await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[1].contains("CN=1012"), "{got:?}");
    // A QN that is no time (hostile or 2005-style) says nothing about the clock.
    let mut u = upload("MN", "pw", 4, vec![("w01018", 10.0)]);
    u.qn = "99999999999999999".into();
    let got = replies(&mut c, &u.frame(), Duration::from_millis(500)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    // A refused frame (wrong password) on a new connection gets nothing, not even a 1012.
    let mut d = TcpStream::connect(&gw.addr).await.unwrap();
    let bad = upload("MN", "wrong", 5, vec![("w01018", 10.0)]).frame();
    assert!(replies(&mut d, &bad, Duration::from_millis(500))
        .await
        .is_empty());
    let stats = gw.shutdown().await;
    assert_eq!(
        stats
            .time_calibrations
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
}
