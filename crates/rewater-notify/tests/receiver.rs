//! Alert push against a real HTTP receiver on 127.0.0.1: the robot formats, retries after a
//! failed answer, and one delivered message per alert.

use rewater_notify::{body, Alert, Format, Notifier, Webhook};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A receiver that answers `fail_first` requests with HTTP 500, the rest with 200 and
/// `{"errcode":0}`; returns its URL and the bodies it got.
fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/robot/send?key=test", l.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for (n, s) in l.incoming().enumerate() {
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
            let (status, answer) = if n < fail_first {
                ("500 Internal Server Error", "{}")
            } else {
                g.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&b).unwrap_or_default());
                ("200 OK", "{\"errcode\":0,\"errmsg\":\"ok\"}")
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, got)
}

fn alert(n: u32) -> Alert {
    Alert {
        site_id: "plant-north-outlet".into(),
        site_name: "北区再生水厂出水".into(),
        kind: "超标".into(),
        severity: "预警".into(),
        message: format!("COD 80 mg/L 超过 30 mg/L ({n})"),
        time: "2026-12-01T09:00:00+08:00".into(),
        value: Some(80.0),
        limit: Some("DB11/890-2012:new_B ≤ 30 mg/L".into()),
    }
}

#[test]
fn robot_bodies_carry_the_keyword_and_the_alert() {
    let b = body(Format::Dingtalk, "告警", &alert(1));
    assert_eq!(b["msgtype"], "text");
    let c = b["text"]["content"].as_str().unwrap();
    assert!(
        c.starts_with("告警【预警】北区再生水厂出水（plant-north-outlet）超标"),
        "{c}"
    );
    assert!(
        c.contains("数值 80") && c.contains("限值 DB11/890-2012:new_B ≤ 30 mg/L"),
        "{c}"
    );
    assert_eq!(body(Format::Wecom, "x", &alert(1))["msgtype"], "text");
    let j = body(Format::Json, "", &alert(1));
    assert_eq!(j["alert"]["site_id"], "plant-north-outlet");
    assert_eq!(j["alert"]["value"], 80.0);
    assert!("slack".parse::<Format>().is_err());
}

#[test]
fn each_alert_is_delivered_once_after_retries() {
    let (url, got) = receiver(1);
    let mut hook = Webhook::new(&url, Format::Wecom);
    hook.backoff = Duration::from_millis(20);
    hook.attempts = 3;
    let n = Notifier::start(vec![hook]).unwrap();
    n.push(alert(1));
    n.push(alert(2));
    let t0 = Instant::now();
    while got.lock().unwrap().len() < 2 {
        assert!(t0.elapsed() < Duration::from_secs(10), "not delivered");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 2, "once each: {got:?}");
    let first = got[0]["text"]["content"].as_str().unwrap();
    assert!(
        first.contains("(1)") && first.ends_with("。时间 2026-12-01T09:00:00+08:00"),
        "{first}"
    );
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(n.counts.sent.load(Relaxed), 2);
    assert_eq!(n.counts.retried.load(Relaxed), 1);
    assert_eq!(n.counts.failed.load(Relaxed), 0);
}

#[test]
fn a_dead_receiver_gives_up_after_its_attempts() {
    let (url, got) = receiver(usize::MAX);
    let mut hook = Webhook::new(&url, Format::Json);
    hook.backoff = Duration::from_millis(5);
    hook.attempts = 3;
    let n = Notifier::start(vec![hook]).unwrap();
    n.push(alert(1));
    let t0 = Instant::now();
    use std::sync::atomic::Ordering::Relaxed;
    while n.counts.failed.load(Relaxed) < 1 {
        assert!(t0.elapsed() < Duration::from_secs(10), "never gave up");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(n.counts.retried.load(Relaxed), 2);
    assert!(got.lock().unwrap().is_empty());
}

#[test]
fn kinds_and_severities_have_names_in_both_languages() {
    use rewater_notify::{kind_label, severity_label, Lang};
    for k in [
        "exceedance",
        "daily_exceedance",
        "offline",
        "stuck",
        "device_flag",
        "downstream_risk",
    ] {
        assert_ne!(kind_label(k, Lang::Zh), k);
        assert_ne!(kind_label(k, Lang::En), k);
    }
    assert_eq!(kind_label("exceedance", Lang::Zh), "超标");
    assert_eq!(severity_label("warning", Lang::Zh), "预警");
    assert_eq!(severity_label("violation", Lang::En), "Violation");
    assert_eq!(kind_label("unknown_kind", Lang::Zh), "unknown_kind");
}
