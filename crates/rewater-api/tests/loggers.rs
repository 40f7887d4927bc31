//! Logger commands and gaps through the API (issue 19 item 4), end to end over real TCP: the
//! API and a gateway on one SQLite store, a simulated data logger connected to the gateway.
//! An administrator sets the real-time interval (1062); the logger receives the command,
//! answers 9011/9012; the API returns the answer and the audit log names the account, the
//! device, the command, its values and the answer. Operators and viewers may not send
//! commands; bad values are refused naming the field. A site's gaps are listed with their
//! state in Chinese and English.

mod common;

use common::*;
use rewater_hj212::{Decoder, Event, Options, Segment, Strictness};
use rewater_store::prelude::*;
use rewater_store::{Gap, GapState, SqliteStore};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A gateway on the test server's store, on its own runtime; its address.
fn gateway(store: Box<dyn Store>) -> (String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let config = rewater_gateway::Config {
        calibrate: false,
        platform_every: Duration::from_millis(50),
        ..rewater_gateway::Config::default()
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    rt.spawn(async move {
        let _keep = tx;
        let _ = rewater_gateway::serve(listener, store, config, rx, None, |_| {}).await;
    });
    (addr, rt)
}

fn frame(seg: &str) -> String {
    rewater_hj212::frame::encode_frame(seg)
}

/// Reads frames until one has CN `cn`.
fn read_cn(s: &mut TcpStream, d: &mut Decoder, cn: &str) -> Segment {
    let mut b = [0u8; 4096];
    loop {
        while let Some(e) = d.next_event() {
            if let Event::Frame(f) = e {
                let seg = Segment::from_frame(f, Strictness::Strict).unwrap();
                if seg.cn() == Some(cn) {
                    return seg;
                }
            }
        }
        let n = s.read(&mut b).expect("a frame from the gateway");
        assert!(n > 0, "the gateway closed the connection");
        d.push(&b[..n]);
    }
}

/// The simulated logger: one upload (acknowledged), then it answers the first 1062 it gets
/// with 9011 QnRtn=1 and 9012 ExeRtn=1; returns the request's data segment.
fn logger(addr: String) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let now = rewater_time::Zone::default().now_wall_seconds();
        let t = rewater_hj212::DataTime::from_wall_seconds(now.div_euclid(600) * 600 - 600);
        let up = format!(
            "QN=20250601000000001;ST=32;CN=2051;PW=device-pw-1;MN={NORTH_MN};Flag=5;CP=&&DataTime={t};w01018-Avg=20,w01018-Flag=N&&"
        );
        s.write_all(frame(&up).as_bytes()).unwrap();
        let mut d = Decoder::new(Options::strict());
        read_cn(&mut s, &mut d, "9014");
        let req = read_cn(&mut s, &mut d, "1062");
        let qn = req.qn().unwrap();
        let pre = format!("QN={qn};ST=91;PW=device-pw-1;MN={NORTH_MN};Flag=4");
        s.write_all(frame(&format!("{pre};CN=9011;CP=&&QnRtn=1&&")).as_bytes())
            .unwrap();
        s.write_all(frame(&format!("{pre};CN=9012;CP=&&ExeRtn=1&&")).as_bytes())
            .unwrap();
        // Stay connected until the test has its answer.
        std::thread::sleep(Duration::from_millis(1500));
        req.segment_text().to_string()
    })
}

#[test]
fn an_administrator_sets_a_logger_parameter_and_the_answer_is_audited() {
    let server = serve("logger-command", Default::default());
    let store = SqliteStore::open(&server.db).unwrap();
    command_round_trip(&server.addr, Box::new(store));
}

fn pg_url() -> String {
    std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// The same with the API and the gateway on one PostgreSQL schema.
#[test]
fn an_administrator_sets_a_logger_parameter_and_the_answer_is_audited_on_postgres() {
    use rewater_store::PostgresStore;
    let schema = format!("rw_api_loggers_{}", std::process::id());
    let _ = PostgresStore::drop_schema(&pg_url(), &schema);
    let mut store = match PostgresStore::connect(&pg_url(), Some(&schema)) {
        Ok(s) => s,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("SKIPPED: no PostgreSQL at {} ({e})", pg_url());
            return;
        }
        Err(e) => panic!("CI needs PostgreSQL at {}: {e}", pg_url()),
    };
    seed(&mut store);
    let state = rewater_api::ApiState::with_config(
        Box::new(store),
        Default::default(),
        rewater_api::Platform::default(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    rt.spawn(async move {
        let _ = axum::serve(listener, rewater_api::service(state)).await;
    });
    let gw_store = PostgresStore::connect(&pg_url(), Some(&schema)).unwrap();
    command_round_trip(&addr, Box::new(gw_store));
    rt.shutdown_timeout(Duration::from_millis(100));
    PostgresStore::drop_schema(&pg_url(), &schema).unwrap();
}

/// A logger command through the API at `a` and a gateway on `gw_store` (the same store).
fn command_round_trip(a: &str, gw_store: Box<dyn Store>) {
    let (gw, rt) = gateway(gw_store);
    let sim = logger(gw);
    let admin = login(a, ADMIN.0, ADMIN.1);
    let path = format!("/api/loggers/{NORTH_MN}/commands");
    // Wait until the logger has connected (its upload is stored), so the command finds it.
    for _ in 0..100 {
        let latest = as_session(a, &admin, "GET", &format!("/api/sites/{NORTH}/latest"), "");
        if latest.body.matches("w01018").count() >= 1 && latest.body.contains("20.0") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = as_session(
        a,
        &admin,
        "POST",
        &path,
        r#"{"cn":"1062","values":{"RtdInterval":"30"},"wait_s":15}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "answered", "{v}");
    assert_eq!(v["qn_rtn"], "1");
    assert_eq!(v["exe_rtn"], "1");
    assert_eq!(v["exe_rtn_zh"], "执行成功");
    assert_eq!(v["exe_rtn_en"], "executed");
    assert_eq!(v["name_zh"], "设置实时数据间隔");
    assert_eq!(v["cp"], "RtdInterval=30");
    let seg = sim.join().unwrap();
    assert!(
        seg.contains("CN=1062")
            && seg.contains(&format!("MN={NORTH_MN}"))
            && seg.contains("PW=device-pw-1")
            && seg.ends_with("CP=&&RtdInterval=30&&"),
        "{seg}"
    );
    assert!(seg.contains(&format!("QN={}", v["qn"].as_str().unwrap())));
    // Read again by id.
    let id = v["id"].as_i64().unwrap();
    let again = as_session(a, &admin, "GET", &format!("{path}/{id}"), "").json();
    assert_eq!(again["state"], "answered");
    // The audit entry of the answer.
    let audit = as_session(a, &admin, "GET", "/api/audit", "").json();
    let entries = audit["audit"].as_array().unwrap();
    let e = entries
        .iter()
        .find(|e| e["action"] == "logger.command")
        .unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(e["who"], ADMIN.0);
    assert_eq!(e["target"], NORTH_MN);
    let detail = e["detail"].as_str().unwrap();
    assert!(
        detail.contains("CN=1062")
            && detail.contains("CP=RtdInterval=30")
            && detail.contains("QnRtn=1")
            && detail.contains("ExeRtn=1"),
        "{detail}"
    );
    // Refusals: operators and viewers, bad values, unknown loggers.
    let op = login(a, OPERATOR.0, OPERATOR.1);
    let body = r#"{"cn":"1062","values":{"RtdInterval":"30"},"wait_s":1}"#;
    assert_eq!(as_session(a, &op, "POST", &path, body).status, 403);
    let viewer = login(a, VIEWER.0, VIEWER.1);
    assert_eq!(as_session(a, &viewer, "POST", &path, body).status, 403);
    let r = as_session(
        a,
        &admin,
        "POST",
        &path,
        r#"{"cn":"1064","values":{"MinInterval":"7"}}"#,
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("values.MinInterval"), "{}", r.body);
    let r = as_session(a, &admin, "POST", "/api/loggers/NOPE/commands", body);
    assert_eq!(r.status, 404, "{}", r.body);
    drop(rt);
}

#[test]
fn a_sites_gaps_are_listed_with_their_state() {
    let server = serve("logger-gaps", Default::default());
    let a = &server.addr;
    let mut s = SqliteStore::open(&server.db).unwrap();
    let g = Gap {
        id: 0,
        mn: NORTH_MN.into(),
        cn: "2061".into(),
        from_s: WALL_0800,
        to_s: WALL_0800 + 3600,
        interval_s: 3600,
        state: GapState::Requested,
        requests: 1,
        found_at_ms: 1,
        updated_at_ms: 1_748_764_800_000,
    };
    s.add_gap(&g).unwrap();
    drop(s);
    let r = api(a, "GET", &format!("/api/sites/{NORTH}/gaps"), "");
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let gaps = v["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{v}");
    assert_eq!(gaps[0]["state"], "requested");
    assert_eq!(gaps[0]["state_zh"], "已请求补发");
    assert_eq!(gaps[0]["kind_en"], "hourly data");
    assert_eq!(gaps[0]["missing"], 2);
    assert_eq!(gaps[0]["from"], "2025-06-01T08:00:00+08:00");
    // The operator of the other district does not see the site.
    let south_op = login(a, OPERATOR.0, OPERATOR.1);
    let r = as_session(a, &south_op, "GET", "/api/sites/south-outlet/gaps", "");
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        api(a, "GET", "/api/sites/south-outlet/gaps", "").json()["gaps"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}
