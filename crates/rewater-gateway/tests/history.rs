//! The platform side of HJ 212-2017 over real TCP (issue 19 item 4), on SQLite and on
//! PostgreSQL (127.0.0.1:5432, database `test`, or REWATER_TEST_POSTGRES; required under CI,
//! else the PostgreSQL cases say they skipped): a gap in a logger's hourly data makes the
//! gateway send a 2061 history request (补发) with BeginTime/EndTime; the simulated logger
//! answers (9011, the two missing hours as uploads, 9012) and the gap becomes filled; a logger
//! that never answers is asked again up to the retry limit and the gap is given up; a logger
//! command queued in the store (as the API does) is sent, answered and audited.

mod common;

use common::backend::*;
use common::*;
use rewater_gateway::Config;
use rewater_hj212::{DataTime, Decoder, Event, Options, Segment, Strictness};
use rewater_store::{CommandState, GapState, NewCommand};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A request answered in these tests must never time out, however loaded the machine: a
/// timeout would re-request the gap and the counts would be off. (CI once counted two
/// history requests: the first had come in the same read as a 9014 and was dropped by
/// `acked`, then re-sent after the old 5 s timeout; see [`acked_keeping`].) The timeout cases
/// set their own short timeout.
fn config() -> Config {
    Config {
        calibrate: false,
        platform_every: Duration::from_millis(50),
        gap_scan_delay: Duration::ZERO,
        gap_scan_every: Duration::from_millis(200),
        request_spacing: Duration::ZERO,
        request_timeout: Duration::from_secs(120),
        request_retry_after: Duration::from_millis(200),
        ..Config::default()
    }
}

/// An hourly upload for hour `h` after the base time.
fn hourly(h: i64, qn_ms: i64) -> String {
    hourly_qn(h, &format!("20250601000000{:03}", qn_ms % 1000))
}

fn hourly_qn(h: i64, qn: &str) -> String {
    let mut u = upload("MN", "pw", 0, vec![("w01018", 20.0 + h as f64)]);
    u.cn = "2061".into();
    u.qn = qn.to_string();
    u.data_time = DataTime::from_wall_seconds(base_time() + h * 3600);
    u.frame()
}

/// Reads frames from the server until one satisfies `want` (returned) or `within` passes.
async fn read_until(
    s: &mut TcpStream,
    d: &mut Decoder,
    within: Duration,
    want: impl Fn(&Segment) -> bool,
) -> Option<Segment> {
    let t = tokio::time::Instant::now() + within;
    let mut b = [0u8; 4096];
    loop {
        while let Some(e) = d.next_event() {
            if let Event::Frame(f) = e {
                let seg = Segment::from_frame(f, Strictness::Strict).unwrap();
                if want(&seg) {
                    return Some(seg);
                }
            }
        }
        match tokio::time::timeout_at(t, s.read(&mut b)).await {
            Ok(Ok(n)) if n > 0 => d.push(&b[..n]),
            _ => return None,
        }
    }
}

/// Sends an upload and waits for its 9014, keeping in `kept` the other frames that came
/// with it: the gateway may send a request while the upload is being acknowledged, in the
/// same read (a lost request once looked, after its timeout, like a second request).
async fn acked_keeping(c: &mut TcpStream, frame: &str, kept: &mut Vec<Segment>) -> bool {
    let got = exchange(c, frame, Duration::from_secs(20)).await;
    let acked = got.iter().any(|g| g.contains("CN=9014"));
    kept.extend(
        got.iter()
            .filter(|g| !g.contains("CN=9014"))
            .map(|g| Segment::parse(g, Strictness::Strict).unwrap()),
    );
    acked
}

fn frame_of(seg: &str) -> String {
    rewater_hj212::frame::encode_frame(seg)
}

/// `reuse_qn`: the logger sends the history data under the request's QN (seen in the field)
/// rather than new ones; they are stored all the same.
async fn gap_is_requested_and_filled(b: Backend, reuse_qn: bool) {
    let gw = start(b.open(), config(), None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    // Hours 0, 1, 4, 5: 2 and 3 are missing.
    let mut kept = Vec::new();
    for (i, h) in [0, 1, 4, 5].into_iter().enumerate() {
        assert!(
            acked_keeping(&mut c, &hourly(h, i as i64), &mut kept).await,
            "hour {h}"
        );
    }
    let mut d = Decoder::new(Options::strict());
    let mut requests = kept.into_iter().filter(|s| s.cn() == Some("2061"));
    let req = match requests.next() {
        Some(r) => r,
        None => read_until(&mut c, &mut d, Duration::from_secs(20), |s| {
            s.cn() == Some("2061")
        })
        .await
        .expect("a 2061 history request"),
    };
    assert!(requests.next().is_none(), "one request");
    let begin = DataTime::from_wall_seconds(base_time() + 2 * 3600);
    let end = DataTime::from_wall_seconds(base_time() + 3 * 3600);
    assert_eq!(req.cp_value("BeginTime"), Some(begin.to_string().as_str()));
    assert_eq!(req.cp_value("EndTime"), Some(end.to_string().as_str()));
    assert!(
        req.segment_text()
            .ends_with(&format!("CP=&&BeginTime={begin};EndTime={end}&&")),
        "{}",
        req.segment_text()
    );
    assert_eq!(
        (req.mn(), req.pw(), req.st()),
        (Some("MN"), Some("pw"), Some("32"))
    );
    assert!(req.ack_requested(), "a request asks for the 9011/9012");
    let qn = req.qn().unwrap().to_string();
    assert_eq!(qn.len(), 17);
    // The gap is listed as requested.
    let mut look = b.open();
    wait_for("the gap requested", Duration::from_secs(20), || {
        sync(|| look.gaps(Some("MN"), 10).unwrap()[0].state == GapState::Requested)
    })
    .await;
    let gaps = sync(|| look.gaps(Some("MN"), 10).unwrap());
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(
        (gaps[0].from_s, gaps[0].to_s),
        (base_time() + 7200, base_time() + 10_800)
    );
    // The logger: 9011, the two hours (new QNs, each acknowledged), 9012.
    let pre = format!("QN={qn};ST=91;PW=pw;MN=MN;Flag=4");
    c.write_all(frame_of(&format!("{pre};CN=9011;CP=&&QnRtn=1&&")).as_bytes())
        .await
        .unwrap();
    for (i, h) in [2, 3].into_iter().enumerate() {
        let data = if reuse_qn {
            hourly_qn(h, &qn)
        } else {
            hourly(h, 100 + i as i64)
        };
        assert!(acked(&mut c, &data).await, "hour {h}");
    }
    c.write_all(frame_of(&format!("{pre};CN=9012;CP=&&ExeRtn=1&&")).as_bytes())
        .await
        .unwrap();
    wait_for("the gap filled", Duration::from_secs(10), || {
        sync(|| look.gaps(Some("MN"), 10).unwrap()[0].state == GapState::Filled)
    })
    .await;
    let times = sync(|| {
        look.upload_times("MN", "2061", base_time(), base_time() + 86_400, 100)
            .unwrap()
    });
    sync(|| drop(look));
    assert_eq!(
        times,
        (0..6).map(|h| base_time() + h * 3600).collect::<Vec<_>>()
    );
    // Nothing more is asked: no gap is left.
    assert!(
        read_until(&mut c, &mut d, Duration::from_millis(800), |s| s.cn()
            == Some("2061"))
        .await
        .is_none()
    );
    let stats = gw.shutdown().await;
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(stats.history_requests.load(Relaxed), 1);
    assert_eq!(stats.gaps_filled.load(Relaxed), 1);
    sync(|| drop(b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_is_requested_and_filled_on_sqlite() {
    gap_is_requested_and_filled(Backend::sqlite("gap-filled"), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_is_requested_and_filled_on_postgres() {
    if let Some(b) = sync(|| Backend::postgres("gapfill")) {
        gap_is_requested_and_filled(b, false).await;
    }
}

async fn unanswered_requests_are_retried_then_given_up(b: Backend) {
    let config = Config {
        request_timeout: Duration::from_millis(300),
        max_gap_requests: 2,
        ..config()
    };
    let gw = start(b.open(), config, None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    let mut kept = Vec::new();
    for (i, h) in [0, 2].into_iter().enumerate() {
        assert!(acked_keeping(&mut c, &hourly(h, i as i64), &mut kept).await);
    }
    let mut d = Decoder::new(Options::strict());
    // A request that came with an acknowledgement counts.
    let mut qns: Vec<String> = kept
        .iter()
        .filter(|s| s.cn() == Some("2061"))
        .map(|s| s.qn().unwrap().to_string())
        .collect();
    // Each wait is generous (a loaded CI machine can delay the retry by seconds); once two
    // requests came, a third must not come within several request timeouts.
    loop {
        let wait = if qns.len() < 2 { 15_000 } else { 2_000 };
        let Some(r) = read_until(&mut c, &mut d, Duration::from_millis(wait), |s| {
            s.cn() == Some("2061")
        })
        .await
        else {
            break;
        };
        qns.push(r.qn().unwrap().to_string());
        // Keep the connection alive, never answer.
        let _ = c.write_all(hourly(0, 9).as_bytes()).await;
    }
    assert_eq!(qns.len(), 2, "asked twice, then given up: {qns:?}");
    assert_ne!(qns[0], qns[1], "a new request has a new QN");
    let gaps = sync(|| b.open_now().gaps(Some("MN"), 10).unwrap());
    assert_eq!(gaps[0].state, GapState::GivenUp);
    assert_eq!(gaps[0].requests, 2);
    gw.shutdown().await;
    sync(|| drop(b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_history_requests_are_retried_then_given_up_on_sqlite() {
    unanswered_requests_are_retried_then_given_up(Backend::sqlite("gap-given-up")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_history_requests_are_retried_then_given_up_on_postgres() {
    if let Some(b) = sync(|| Backend::postgres("gapgiveup")) {
        unanswered_requests_are_retried_then_given_up(b).await;
    }
}

async fn a_queued_command_is_sent_answered_and_audited(b: Backend) {
    let gw = start(b.open(), config(), None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    assert!(acked(&mut c, &hourly(0, 1)).await);
    let mut api = b.open();
    let now = rewater_time::now_unix_ms();
    let id = sync(|| {
        api.add_command(&NewCommand {
            mn: "MN".into(),
            cn: "1061".into(),
            cp: String::new(),
            who: "boss".into(),
            at_ms: now,
            expires_at_ms: now + 10_000,
        })
        .unwrap()
    });
    let mut d = Decoder::new(Options::strict());
    let req = read_until(&mut c, &mut d, Duration::from_secs(20), |s| {
        s.cn() == Some("1061")
    })
    .await
    .expect("the 1061 request");
    assert!(req.segment_text().ends_with("CP=&&&&"));
    let qn = req.qn().unwrap().to_string();
    // 9011, the reported interval (an upload with the request's QN and Flag.A), 9012.
    let pre = format!("QN={qn};PW=pw;MN=MN");
    c.write_all(frame_of(&format!("{pre};ST=91;CN=9011;Flag=4;CP=&&QnRtn=1&&")).as_bytes())
        .await
        .unwrap();
    let answer = format!("{pre};ST=32;CN=1061;Flag=5;CP=&&RtdInterval=60&&");
    let got = exchange(&mut c, &frame_of(&answer), Duration::from_secs(3)).await;
    assert!(
        got.len() == 1 && got[0].contains("CN=9014") && got[0].contains(&format!("QN={qn}")),
        "the answer's own 9014: {got:?}"
    );
    c.write_all(frame_of(&format!("{pre};ST=91;CN=9012;Flag=4;CP=&&ExeRtn=1&&")).as_bytes())
        .await
        .unwrap();
    wait_for("the answer stored", Duration::from_secs(20), || {
        sync(|| api.command(id).unwrap().unwrap().state == CommandState::Answered)
    })
    .await;
    let cmd = sync(|| api.command(id).unwrap().unwrap());
    assert_eq!(cmd.qn.as_deref(), Some(qn.as_str()));
    assert_eq!(cmd.answer.qn_rtn.as_deref(), Some("1"));
    assert_eq!(cmd.answer.exe_rtn.as_deref(), Some("1"));
    assert_eq!(cmd.answer.values, "RtdInterval=60");
    let audit = sync(|| api.audit_log(10).unwrap());
    let e = audit.iter().find(|e| e.action == "logger.command").unwrap();
    assert_eq!((e.who.as_str(), e.target.as_str()), ("boss", "MN"));
    assert!(e.detail.contains("CN=1061") && e.detail.contains("values=RtdInterval=60"));
    // A command for a logger that never connects fails at its expiry.
    let id2 = sync(|| {
        api.add_command(&NewCommand {
            mn: "ABSENT".into(),
            cn: "1061".into(),
            cp: String::new(),
            who: "boss".into(),
            at_ms: now,
            expires_at_ms: rewater_time::now_unix_ms() + 300,
        })
        .unwrap()
    });
    wait_for(
        "the absent logger's command failed",
        Duration::from_secs(20),
        || sync(|| api.command(id2).unwrap().unwrap().state == CommandState::Failed),
    )
    .await;
    sync(|| drop(api));
    gw.shutdown().await;
    sync(|| drop(b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_logger_command_is_sent_answered_and_audited_on_sqlite() {
    a_queued_command_is_sent_answered_and_audited(Backend::sqlite("command")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_logger_command_is_sent_answered_and_audited_on_postgres() {
    if let Some(b) = sync(|| Backend::postgres("command")) {
        a_queued_command_is_sent_answered_and_audited(b).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_data_under_the_request_qn_are_stored_and_fill_the_gap() {
    gap_is_requested_and_filled(Backend::sqlite("gap-same-qn"), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_fails_when_the_logger_reconnects_or_drops_before_answering() {
    let b = Backend::sqlite("command-dropped");
    let gw = start(b.open(), config(), None).await;
    let mut api = b.open();
    let mut queue = |cn: &str| {
        let now = rewater_time::now_unix_ms();
        sync(|| {
            api.add_command(&NewCommand {
                mn: "MN".into(),
                cn: cn.into(),
                cp: String::new(),
                who: "boss".into(),
                at_ms: now,
                expires_at_ms: now + 10_000,
            })
            .unwrap()
        })
    };
    let state_of = |id: i64| {
        sync(|| {
            let mut s = b.open_now();
            let c = s.command(id).unwrap().unwrap();
            (c.state, c.answer.error)
        })
    };
    // Sent on one connection; the logger comes back on another before answering.
    let mut c1 = TcpStream::connect(&gw.addr).await.unwrap();
    assert!(acked(&mut c1, &hourly(0, 1)).await);
    let first = queue("1061");
    let mut d = Decoder::new(Options::strict());
    assert!(
        read_until(&mut c1, &mut d, Duration::from_secs(20), |s| s.cn()
            == Some("1061"))
        .await
        .is_some()
    );
    let mut c2 = TcpStream::connect(&gw.addr).await.unwrap();
    assert!(acked(&mut c2, &hourly(1, 2)).await);
    wait_for("the first command failed", Duration::from_secs(20), || {
        state_of(first).0 == CommandState::Failed
    })
    .await;
    assert_eq!(
        state_of(first).1.as_deref(),
        Some("the logger reconnected before answering")
    );
    // Sent on the new connection, which then closes.
    let second = queue("1063");
    let mut d = Decoder::new(Options::strict());
    assert!(
        read_until(&mut c2, &mut d, Duration::from_secs(20), |s| s.cn()
            == Some("1063"))
        .await
        .is_some()
    );
    drop(c2);
    wait_for("the second command failed", Duration::from_secs(20), || {
        state_of(second).0 == CommandState::Failed
    })
    .await;
    assert_eq!(
        state_of(second).1.as_deref(),
        Some("the logger's connection closed")
    );
    drop(c1);
    sync(|| drop(api));
    gw.shutdown().await;
    sync(|| drop(b));
}
