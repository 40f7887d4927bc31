//! Split packets (PNUM/PNO, HJ 212-2017 Flag bit D) over real TCP, on SQLite and PostgreSQL
//! (issue 19 item 4): parts sent out of order and one of them twice are each acknowledged
//! with their own QN and stored once, as one whole upload; a part resent after the record
//! was stored is acknowledged and stores nothing; a record whose last part never comes is
//! dropped at the timeout with a `split_incomplete` rejected entry; hostile PNUM/PNO values
//! (0, huge, PNO > PNUM), a part resent with other data and too many records at once for one
//! device are refused without an acknowledgement. Parts spread over two gateways and a
//! gateway killed between parts: see `split_cluster.rs`.

mod common;

use common::backend::*;
use common::*;
use rewater_gateway::Config;
use rewater_hj212::DataTime;
use rewater_store::prelude::*;
use rewater_store::RejectReason;
use std::time::Duration;
use tokio::net::TcpStream;

fn config() -> Config {
    Config {
        calibrate: false,
        housekeeping_every: Duration::from_millis(100),
        platform_every: Duration::from_millis(50),
        split_timeout: Duration::from_millis(600),
        ..Config::default()
    }
}

/// Part `pno` of `pnum` of the minute record `k` minutes after the base time: factor
/// w0101{pno} (values 10·pno), QN ending in `qn`.
fn part(k: i64, pno: u32, pnum: u32, qn: u32) -> String {
    part_valued(k, pno, pnum, qn, f64::from(10 * pno))
}

/// [`part`] with another value.
fn part_valued(k: i64, pno: u32, pnum: u32, qn: u32, value: f64) -> String {
    let t = DataTime::from_wall_seconds(base_time() + 60 * k);
    let code = ["w01018", "w21003", "w21011", "w21001"][(pno as usize - 1) % 4];
    let seg = format!(
        "QN=20250601000000{qn:03};ST=32;CN=2051;PW=pw;MN=MN;Flag=7;PNUM={pnum};PNO={pno};CP=&&DataTime={t};{code}-Avg={value},{code}-Flag=N&&"
    );
    rewater_hj212::frame::encode_frame(&seg)
}

/// The 9014 replies to `frame` (each names its QN).
async fn acks(c: &mut TcpStream, frame: &str) -> Vec<String> {
    exchange(c, frame, Duration::from_secs(3))
        .await
        .into_iter()
        .filter(|g| g.contains("CN=9014"))
        .collect()
}

async fn split_stored_once_whole(b: Backend) {
    // Longer than the refused part's wait below.
    let config = Config {
        split_timeout: Duration::from_secs(60),
        ..config()
    };
    let gw = start(b.open(), config, None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    // Out of order (2, 3 again 2, then 1), each acknowledged with its own QN.
    for (pno, qn) in [(2, 2), (3, 3), (2, 2), (1, 1)] {
        if pno == 1 {
            // Part 3 again with other data: refused, not acknowledged; the first is kept.
            assert!(not_acked(&mut c, &part_valued(1, 3, 3, 3, 99.0)).await);
        }
        let got = acks(&mut c, &part(1, pno, 3, qn)).await;
        assert_eq!(got.len(), 1, "part {pno}: {got:?}");
        assert!(
            got[0].contains(&format!("QN=20250601000000{qn:03}")),
            "{got:?}"
        );
    }
    let mut look = b.open();
    wait_for(
        "the mismatched part counted",
        Duration::from_secs(20),
        || sync(|| !samples(look.as_mut(), RejectReason::SplitRefused).is_empty()),
    )
    .await;
    let refused = sync(|| samples(look.as_mut(), RejectReason::SplitRefused));
    assert!(
        refused[0]
            .detail
            .contains("PNO 3 of 3 came again with other data"),
        "{refused:?}"
    );
    assert_eq!(
        sync(|| look.split_pending(None).unwrap()),
        (0, 0),
        "parts deleted"
    );
    let t = base_time() + 60;
    let (times, frames, latest) = sync(|| {
        (
            look.upload_times("MN", "2051", t, t, 10).unwrap(),
            look.count_frames().unwrap(),
            look.latest("MN").unwrap(),
        )
    });
    assert_eq!(times, vec![t], "one upload");
    assert_eq!(frames, 1, "stored once");
    let mut got: Vec<(String, Option<f64>)> =
        latest.iter().map(|r| (r.factor.clone(), r.value)).collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("w01018".to_string(), Some(10.0)),
            ("w21003".to_string(), Some(20.0)),
            ("w21011".to_string(), Some(30.0)),
        ],
        "whole: the factors of all three parts"
    );
    // A part resent after the record was stored: acknowledged, nothing stored.
    assert_eq!(acks(&mut c, &part(1, 1, 3, 1)).await.len(), 1);
    assert_eq!(sync(|| look.count_frames().unwrap()), 1);
    sync(|| drop(look));
    let stats = gw.shutdown().await;
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(stats.split_records.load(Relaxed), 1);
    assert_eq!(stats.split_parts.load(Relaxed), 6);
    sync(|| drop(b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_packet_out_of_order_is_stored_once_whole_on_sqlite() {
    split_stored_once_whole(Backend::sqlite("split-whole")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_packet_out_of_order_is_stored_once_whole_on_postgres() {
    if let Some(b) = sync(|| Backend::postgres("splitwhole")) {
        split_stored_once_whole(b).await;
    }
}

/// The kept examples of one rejection reason for device MN.
fn samples(s: &mut dyn Store, reason: RejectReason) -> Vec<rewater_store::RejectedSample> {
    let counts = s.rejected_counts(0, i64::MAX, 100).unwrap();
    counts
        .iter()
        .filter(|c| c.reason == reason)
        .flat_map(|c| {
            s.rejected_samples(c.hour_start_s, &c.source, reason)
                .unwrap()
        })
        .collect()
}

async fn missing_part_times_out(b: Backend) {
    let gw = start(b.open(), config(), None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    assert_eq!(acks(&mut c, &part(2, 1, 3, 11)).await.len(), 1);
    assert_eq!(acks(&mut c, &part(2, 3, 3, 13)).await.len(), 1);
    let mut look = b.open();
    wait_for(
        "the incomplete record's rejected entry",
        Duration::from_secs(20),
        || sync(|| !samples(look.as_mut(), RejectReason::SplitIncomplete).is_empty()),
    )
    .await;
    let s = sync(|| samples(look.as_mut(), RejectReason::SplitIncomplete));
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].mn.as_deref(), Some("MN"));
    assert!(
        s[0].detail.contains("PNO 2 of 3 missing"),
        "{}",
        s[0].detail
    );
    assert!(
        s[0].head.contains("PNO=1"),
        "the first part held: {}",
        s[0].head
    );
    assert_eq!(sync(|| look.count_frames().unwrap()), 0, "nothing stored");
    // The part that comes late starts a new record (which would time out again).
    sync(|| drop(look));
    let stats = gw.shutdown().await;
    assert_eq!(
        stats
            .split_incomplete
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    sync(|| drop(b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_part_times_out_with_a_rejected_entry_on_sqlite() {
    missing_part_times_out(Backend::sqlite("split-timeout")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_part_times_out_with_a_rejected_entry_on_postgres() {
    if let Some(b) = sync(|| Backend::postgres("splittimeout")) {
        missing_part_times_out(b).await;
    }
}

/// A part with any PNUM/PNO text.
fn raw_part(pnum: &str, pno: &str) -> String {
    let t = DataTime::from_wall_seconds(base_time() + 180);
    rewater_hj212::frame::encode_frame(&format!(
        "QN=20250601000000077;ST=32;CN=2051;PW=pw;MN=MN;Flag=7;PNUM={pnum};PNO={pno};CP=&&DataTime={t};w01018-Avg=1,w01018-Flag=N&&"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_pnum_and_pno_are_refused_and_the_limits_hold() {
    let b = Backend::sqlite("split-hostile");
    let config = Config {
        max_split_parts: 64,
        max_split_sets_per_device: 2,
        split_timeout: Duration::from_secs(60),
        ..config()
    };
    let gw = start(b.open(), config, None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    for (pnum, pno) in [
        ("0", "1"),
        ("3", "0"),
        ("2", "5"),
        ("100000", "1"),
        ("65", "2"),
    ] {
        assert!(
            not_acked(&mut c, &raw_part(pnum, pno)).await,
            "PNUM={pnum} PNO={pno}"
        );
    }
    // Two records at once for this device; a third is refused, not acknowledged.
    assert_eq!(acks(&mut c, &part(10, 1, 2, 21)).await.len(), 1);
    assert_eq!(acks(&mut c, &part(11, 1, 2, 22)).await.len(), 1);
    assert!(not_acked(&mut c, &part(12, 1, 2, 23)).await);
    // Completing one makes room; the connection still works.
    assert_eq!(acks(&mut c, &part(10, 2, 2, 24)).await.len(), 1);
    assert_eq!(acks(&mut c, &part(12, 1, 2, 25)).await.len(), 1);
    assert!(acked(&mut c, &frame(30)).await);
    let mut look = b.open();
    wait_for("the refusals counted", Duration::from_secs(20), || {
        sync(|| samples(look.as_mut(), RejectReason::SplitRefused).len() >= 3)
    })
    .await;
    let refused = sync(|| samples(look.as_mut(), RejectReason::SplitRefused));
    let details: Vec<&str> = refused.iter().map(|s| s.detail.as_str()).collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("PNUM 100000 is over the limit of 64")),
        "{details:?}"
    );
    assert!(details.iter().any(|d| d.contains("PNUM 65")), "{details:?}");
    assert!(
        details
            .iter()
            .any(|d| d.contains("split records of this device are being assembled")),
        "{details:?}"
    );
    // PNUM 0, PNO 0 and PNO > PNUM are malformed segments.
    let bad = sync(|| samples(look.as_mut(), RejectReason::BadSegment));
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad
        .iter()
        .any(|s| s.detail.contains("PNO 5 is outside 1..=2")));
    let t = base_time();
    let times = sync(|| look.upload_times("MN", "2051", t, t + 86_400, 10).unwrap());
    assert_eq!(times, vec![t + 600, t + 1800], "record 10 and frame 30");
    sync(|| drop(look));
    gw.shutdown().await;
}
