//! The gateway as a user starts it (`rewater serve`), over real TCP, with a real SQLite file:
//! acknowledged readings are stored, a SIGKILL in the middle of a load loses no acknowledged
//! reading, garbage and probes do not hurt it, duplicates are stored once, unknown devices and
//! wrong passwords are refused, time calibration is answered.

mod common;

use common::*;
use rewater_hj212::{encode_frame, DataTime, Segment, Strictness};
use rewater_store::prelude::*;
use rewater_store::SqliteStore;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn stored(db: &Path, mn: &str) -> Vec<(i64, f64)> {
    let mut s = SqliteStore::open(db).unwrap();
    s.readings(mn, "w01018", &["2051"], 0, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|r| (r.data_time, r.value.unwrap()))
        .collect()
}

#[test]
fn acknowledged_uploads_are_stored_and_duplicates_once() {
    let db = tmp("ack");
    let server = start(&db, &[]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    for k in 0..20 {
        let reply = exchange(
            &mut s,
            &upload(DEMO_MN, &server.device_pw, k, true).frame(),
            Some("CN=9014"),
        )
        .expect("9014");
        let ack = Segment::parse(reply.last().unwrap(), Strictness::Strict).unwrap();
        assert_eq!(
            (ack.qn(), ack.st(), ack.mn()),
            (
                Some(format!("20250601000000{k:03}").as_str()),
                Some("91"),
                Some(DEMO_MN)
            )
        );
    }
    // The same data again under new QNs (a back-fill after reconnecting): acknowledged, stored once.
    let mut s2 = TcpStream::connect(&server.addr).unwrap();
    for k in 0..20 {
        let mut u = upload(DEMO_MN, &server.device_pw, k, true);
        u.qn = format!("20250602000000{:03}", k);
        assert!(exchange(&mut s2, &u.frame(), Some("CN=9014")).is_some());
    }
    // Out of order and late (补发): an older interval arrives last.
    assert!(exchange(
        &mut s2,
        &upload(DEMO_MN, &server.device_pw, -500, true).frame(),
        Some("CN=9014")
    )
    .is_some());
    // Without the ack bit: stored, no reply.
    assert!(exchange(
        &mut s2,
        &upload(DEMO_MN, &server.device_pw, 100, false).frame(),
        None
    )
    .is_none());
    std::thread::sleep(Duration::from_millis(300));
    let rows = stored(&db, DEMO_MN);
    assert_eq!(rows.len(), 22);
    assert_eq!(rows[0].0, 1_748_736_000 - 60 * 500);
    assert!((rows[1].1 - 20.0).abs() < 1e-12);
}

#[test]
fn unknown_devices_and_wrong_passwords_are_refused() {
    let db = tmp("auth");
    let server = start(&db, &[]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    assert!(exchange(
        &mut s,
        &upload("NOT-REGISTERED", &server.device_pw, 1, true).frame(),
        None
    )
    .is_none());
    assert!(exchange(&mut s, &upload(DEMO_MN, "654321", 2, true).frame(), None).is_none());
    // The connection stays usable for the right credentials.
    assert!(exchange(
        &mut s,
        &upload(DEMO_MN, &server.device_pw, 3, true).frame(),
        Some("CN=9014")
    )
    .is_some());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(stored(&db, DEMO_MN).len(), 1);
    assert!(stored(&db, "NOT-REGISTERED").is_empty());
}

#[test]
fn time_calibration_is_answered_with_9013_and_1012() {
    let db = tmp("time");
    let server = start(&db, &[]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    let req = encode_frame(&format!(
        "QN=20250601000000001;ST=32;CN=1013;PW={};MN={DEMO_MN};Flag=5;CP=&&&&",
        server.device_pw
    ));
    let got = exchange(&mut s, &req, Some("CN=1012")).expect("1012");
    assert!(got[0].contains("CN=9013") && got[0].contains("QN=20250601000000001"));
    let set = Segment::parse(got.last().unwrap(), Strictness::Strict).unwrap();
    let t = DataTime::parse(set.cp_value("SystemTime").unwrap()).unwrap();
    // Beijing time, within a minute of now.
    let now = rewater_time::Zone::shanghai().now_wall_seconds();
    assert!((t.wall_seconds() - now).abs() < 60);
}

#[test]
fn garbage_probes_and_hostile_clients_do_not_hurt_it() {
    let db = tmp("garbage");
    let server = start(&db, &[]);
    let mut x: u64 = 5;
    let mut hostile = Vec::new();
    for i in 0..40 {
        let Ok(mut s) = TcpStream::connect(&server.addr) else {
            continue;
        };
        let payload: Vec<u8> = match i % 5 {
            0 => b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            1 => vec![
                0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
            ],
            2 => b"##9999QN=".to_vec(), // a frame that never completes
            3 => (0..5000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect(),
            _ => {
                // A valid frame cut in the middle, then garbage, then a bad CRC.
                let f = upload(DEMO_MN, &server.device_pw, 7, true).frame();
                let mut v = f.as_bytes()[..f.len() / 2].to_vec();
                v.extend_from_slice(b"&&&&####\r\n##0010QN=1;CP=&&&&FFFF\r\n");
                v
            }
        };
        let _ = s.write_all(&payload);
        hostile.push(s);
    }
    // It still serves a well-behaved device.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    assert!(exchange(
        &mut s,
        &upload(DEMO_MN, &server.device_pw, 8, true).frame(),
        Some("CN=9014")
    )
    .is_some());
    drop(hostile);
    assert!(exchange(
        &mut s,
        &upload(DEMO_MN, &server.device_pw, 9, true).frame(),
        Some("CN=9014")
    )
    .is_some());
}

/// Kills the gateway with SIGKILL while devices are sending, restarts it on the same file, and
/// checks that every upload that had been acknowledged is in the store.
#[test]
fn sigkill_during_load_loses_no_acknowledged_reading() {
    let db = tmp("sigkill");
    let mut server = start(&db, &["--sim-devices", "16"]);
    let acked: Arc<Mutex<Vec<(String, i64)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for d in 0..16 {
        let (addr, acked, stop) = (server.addr.clone(), acked.clone(), stop.clone());
        let pw = server.device_pw.clone();
        clients.push(std::thread::spawn(move || {
            let mn = format!("RWSIM{d:011}");
            let Ok(mut s) = TcpStream::connect(&addr) else {
                return;
            };
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                let u = upload(&mn, &pw, k, true);
                match exchange(&mut s, &u.frame(), Some("CN=9014")) {
                    Some(_) => acked
                        .lock()
                        .unwrap()
                        .push((mn.clone(), u.data_time.wall_seconds())),
                    None => return, // the gateway died: this upload was not acknowledged
                }
                k += 1;
            }
        }));
    }
    let t0 = Instant::now();
    while acked.lock().unwrap().len() < 2000 && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let sim_pw = server.device_pw.clone();
    // SIGKILL (Child::kill sends SIGKILL on Unix).
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 500,
        "only {} uploads acknowledged before the kill",
        acked.len()
    );
    // Restart on the same file: it opens cleanly and still has everything acknowledged.
    let server = start(&db, &[]);
    let mut s = SqliteStore::open(&db).unwrap();
    let mut missing = 0;
    for d in 0..16 {
        let mn = format!("RWSIM{d:011}");
        let have: std::collections::HashSet<i64> = s
            .readings(&mn, "w01018", &["2051"], 0, i64::MAX)
            .unwrap()
            .into_iter()
            .map(|r| r.data_time)
            .collect();
        missing += acked
            .iter()
            .filter(|(m, t)| *m == mn && !have.contains(t))
            .count();
    }
    assert_eq!(missing, 0, "{missing} acknowledged uploads lost");
    // And the restarted gateway serves (the simulated devices keep the password they were
    // registered with; the restart re-registered only the demo devices). The DataTime is
    // inside the accepted window: DataTimes more than 10 minutes ahead are refused.
    let mut c = TcpStream::connect(&server.addr).unwrap();
    assert!(exchange(
        &mut c,
        &upload("RWSIM00000000000", &sim_pw, 99_999, true).frame(),
        Some("CN=9014")
    )
    .is_some());
}

#[test]
fn exceedance_raises_alerts_here_and_downstream() {
    let db = tmp("alerts");
    let server = start(&db, &[]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    // The demo plant-north outlet must meet DB11/890-2012 new plants B: COD ≤ 30 mg/L.
    let mut u = upload(DEMO_MN, &server.device_pw, 1, true);
    u.factors[0].values[0].1 = 80.0;
    assert!(exchange(&mut s, &u.frame(), Some("CN=9014")).is_some());
    // Alerts are written right after the acknowledgement.
    let t0 = Instant::now();
    let mut store = SqliteStore::open(&db).unwrap();
    let mut alerts = Vec::new();
    while t0.elapsed() < Duration::from_secs(5) {
        alerts = store.alerts(None, None, 100).unwrap();
        if alerts.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut got: Vec<(String, String)> = alerts
        .iter()
        .map(|a| (a.site_id.clone(), a.kind.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("plant-north-outlet".into(), "downstream_risk".into()),
            ("plant-north-outlet".into(), "exceedance".into()),
        ]
    );
    // Once per cause, naming the demo sites downstream of plant-north.
    let risk = alerts.iter().find(|a| a.kind == "downstream_risk").unwrap();
    for s in ["greening-supply", "pond", "river-section", "wetland-outlet"] {
        assert!(risk.message.contains(s), "{}", risk.message);
    }
    let ex = alerts.iter().find(|a| a.kind == "exceedance").unwrap();
    assert_eq!(
        (ex.state.as_str(), ex.value, ex.factor.as_deref()),
        ("open", Some(80.0), Some("w01018"))
    );
    assert!(ex.limit.as_deref().unwrap().contains("DB11/890-2012:new_B"));
    // Back within the limit: the episode is marked recovered.
    u = upload(DEMO_MN, &server.device_pw, 2, true);
    u.factors[0].values[0].1 = 20.0;
    assert!(exchange(&mut s, &u.frame(), Some("CN=9014")).is_some());
    std::thread::sleep(Duration::from_millis(300));
    let ex = store.alert(ex.id).unwrap().unwrap();
    assert!(ex.recovered_at_ms.is_some());
}

/// `rewater device` changes what the gateway accepts: a new password, a disabled logger, an
/// allowed source network; nothing is ever accepted with the old or a default password.
#[test]
fn device_register_commands_govern_the_gateway() {
    let db = tmp("devices");
    let first = start(&db, &[]);
    let old_pw = first.device_pw.clone();
    drop(first);
    let cli = |args: &[&str], stdin: &str| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_rewater"))
            .args(args)
            .arg("--db")
            .arg(&db)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        c.wait_with_output().unwrap()
    };
    let o = cli(&["device", "passwd", DEMO_MN], "new-secret-pw\n");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = cli(&["device", "passwd", DEMO_MN], "a;b=c\n");
    assert_eq!(o.status.code(), Some(2), "separators refused");
    let o = cli(&["device", "disable", "RWDEMO0000000002"], "");
    assert!(o.status.success());
    let o = cli(
        &[
            "device",
            "add",
            "RWNEW000000000001",
            "--site",
            "pond",
            "--generate",
            "--allow",
            "10.9.0.0/16",
        ],
        "",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let gen_pw = out
        .split("password for RWNEW000000000001: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let o = cli(
        &[
            "device",
            "add",
            "RWX",
            "--site",
            "no-such-site",
            "--generate",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    let o = cli(&["device", "list"], "");
    let list = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        list.contains("RWDEMO0000000002") && list.contains("disabled"),
        "{list}"
    );
    assert!(list.contains("10.9.0.0/16"), "{list}");
    assert!(
        !list.contains("new-secret-pw") && !list.contains(&gen_pw),
        "{list}"
    );

    // Restarted without --demo, so nothing is re-registered.
    let server = start_with(&db, false, &[]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    assert!(exchange(
        &mut s,
        &upload(DEMO_MN, "new-secret-pw", 1, true).frame(),
        Some("CN=9014")
    )
    .is_some());
    let mut s = TcpStream::connect(&server.addr).unwrap();
    assert!(
        exchange(&mut s, &upload(DEMO_MN, &old_pw, 2, true).frame(), None).is_none(),
        "old password"
    );
    let mut s = TcpStream::connect(&server.addr).unwrap();
    assert!(
        exchange(&mut s, &upload(DEMO_MN, "123456", 3, true).frame(), None).is_none(),
        "no default password"
    );
    let mut s = TcpStream::connect(&server.addr).unwrap();
    assert!(
        exchange(
            &mut s,
            &upload("RWDEMO0000000002", &old_pw, 4, true).frame(),
            None
        )
        .is_none(),
        "disabled"
    );
    // 127.0.0.1 is outside 10.9.0.0/16.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    assert!(
        exchange(
            &mut s,
            &upload("RWNEW000000000001", &gen_pw, 5, true).frame(),
            None
        )
        .is_none(),
        "source address"
    );
    // Silence alone would also pass with a stalled gateway: each refusal must be counted with
    // its reason in the store (written by the gateway's writer within a tick).
    let want = [
        (rewater_store::RejectReason::WrongPassword, 2),
        (rewater_store::RejectReason::DeviceDisabled, 1),
        (rewater_store::RejectReason::PeerNotAllowed, 1),
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    let seen = loop {
        let mut store = SqliteStore::open(&db).unwrap();
        let counts = store.rejected_counts(0, i64::MAX / 2, 1000).unwrap();
        let seen = want
            .iter()
            .map(|(reason, _)| {
                let n: i64 = counts
                    .iter()
                    .filter(|c| c.reason == *reason)
                    .map(|c| c.count)
                    .sum();
                (*reason, n)
            })
            .collect::<Vec<_>>();
        if want.iter().zip(&seen).all(|((_, w), (_, n))| n >= w) || Instant::now() > deadline {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for ((reason, w), (_, n)) in want.iter().zip(&seen) {
        assert!(
            n >= w,
            "{reason:?}: {n} counted, {w} expected; all: {seen:?}"
        );
    }
}

/// Alert push (issue 13): `rewater serve --webhook URL` posts each new alert episode once to a
/// receiver on 127.0.0.1 — five exceeding uploads of one episode make one exceedance message
/// (and one downstream-risk message for its cause), in Chinese.
#[test]
fn each_alert_episode_is_pushed_to_the_webhook_once() {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut b = vec![0u8; len];
            let _ = r.read_exact(&mut b);
            g.lock()
                .unwrap()
                .push(serde_json::from_slice(&b).unwrap_or_default());
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    let db = tmp("webhook");
    let server = start(&db, &["--webhook", &url]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    for k in 1..=5 {
        let mut u = upload(DEMO_MN, &server.device_pw, k, true);
        u.factors[0].values[0].1 = 80.0 + k as f64;
        assert!(exchange(&mut s, &u.frame(), Some("CN=9014")).is_some());
    }
    let t0 = Instant::now();
    while got.lock().unwrap().len() < 2 && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let got = got.lock().unwrap();
    let kinds: Vec<&str> = got
        .iter()
        .map(|m| m["alert"]["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        kinds.contains(&"超标") && kinds.contains(&"下游风险"),
        "{kinds:?}"
    );
    let ex = got.iter().find(|m| m["alert"]["kind"] == "超标").unwrap();
    assert_eq!(ex["alert"]["site_id"], "plant-north-outlet");
    assert_eq!(ex["alert"]["value"], 81.0, "the episode's first reading");
    // A bad URL is refused at start with exit code 2.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rewater"))
        .args(["serve", "--webhook", "ftp://x", "--db"])
        .arg(tmp("webhook-bad"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--webhook"));
}
