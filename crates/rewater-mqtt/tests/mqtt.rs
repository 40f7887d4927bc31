//! MQTT ingest through a real broker (Mosquitto at 127.0.0.1:1883, or REWATER_TEST_MQTT):
//! a message is acknowledged only after its commit — the service killed (SIGKILL) before the
//! commit gets it again from the broker and stores it once. The service is this test binary
//! run again as a child process (`mqtt_child_service`, driven by REWATER_MQTT_CHILD). Under
//! CI the broker must be there; elsewhere the test says it skipped.

use rewater_gateway::{serve, Config};
use rewater_mqtt::rumqttc::{AsyncClient, MqttOptions, QoS};
use rewater_mqtt::{MqttConfig, MqttStats};
use rewater_store::prelude::*;
use rewater_store::{hash_device_password, Device, PostgresStore, RejectReason, Site, SqliteStore};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs blocking store code (the PostgreSQL client) from a test's async body.
fn sync<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn pg_url() -> String {
    std::env::var("REWATER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn broker() -> String {
    std::env::var("REWATER_TEST_MQTT").unwrap_or_else(|_| "127.0.0.1:1883".into())
}

/// The service of a child process: `DB|CLIENT_ID|TOPIC|COMMIT_WINDOW_MS`, optionally
/// followed by `|SPLIT_SETS_PER_DEVICE|REDELIVER_AFTER_MS|PUBLISH_PREFIX`.
#[test]
fn mqtt_child_service() {
    let Ok(spec) = std::env::var("REWATER_MQTT_CHILD") else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let extra = |i: usize| parts.get(i).copied().filter(|s| !s.is_empty());
    // `pg:SCHEMA` for PostgreSQL, else a SQLite file.
    let store: Box<dyn Store> = match parts[0].strip_prefix("pg:") {
        Some(schema) => Box::new(PostgresStore::connect(&pg_url(), Some(schema)).unwrap()),
        None => Box::new(SqliteStore::open(std::path::Path::new(parts[0])).unwrap()),
    };
    let window: u64 = parts[3].parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let defaults = Config::default();
        let config = Config {
            commit_window: Duration::from_millis(window),
            max_split_sets_per_device: extra(4)
                .map_or(defaults.max_split_sets_per_device, |n| n.parse().unwrap()),
            ..defaults
        };
        let mqtt = MqttConfig {
            client_id: parts[1].into(),
            topics: vec![parts[2].into()],
            redeliver_after: Duration::from_millis(extra(5).map_or(10_000, |n| n.parse().unwrap())),
            publish_prefix: extra(6).map(str::to_string),
            ..MqttConfig::default()
        }
        .with_broker(&broker())
        .unwrap();
        let stats = Arc::new(MqttStats::default());
        let s2 = stats.clone();
        let rx2 = rx.clone();
        tokio::spawn(async move {
            let _ = serve(listener, store, config, rx, None, move |h| {
                tokio::spawn(rewater_mqtt::run(mqtt, h, rx2, s2));
            })
            .await;
        });
        let report = tokio::spawn(async move {
            let mut said = (0, 0, 0);
            loop {
                let now = (
                    stats.subscribed.load(Ordering::Relaxed),
                    stats.messages.load(Ordering::Relaxed),
                    stats.pubacks.load(Ordering::Relaxed),
                );
                if now != said {
                    println!("STATS {} {} {}", now.0, now.1, now.2);
                    said = now;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let _ = report.await;
    });
}

struct Service {
    child: Child,
    lines: std::sync::mpsc::Receiver<(u64, u64, u64)>,
}

impl Service {
    fn start(db: &str, client: &str, topic: &str, window_ms: u64) -> Service {
        Service::start_with(&format!("{db}|{client}|{topic}|{window_ms}"))
    }

    fn start_with(spec: &str) -> Service {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "mqtt_child_service",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("REWATER_MQTT_CHILD", spec)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let n: Vec<u64> = l
                    // libtest prints the test's name first on the same line.
                    .split("STATS ")
                    .nth(1)
                    .map(|r| r.split(' ').filter_map(|x| x.parse().ok()).collect())
                    .unwrap_or_default();
                if n.len() == 3 {
                    let _ = tx.send((n[0], n[1], n[2]));
                }
            }
        });
        Service { child, lines }
    }

    /// Waits until the counters (subscribed, messages, pubacks) satisfy `ok`; returns them.
    fn wait(&self, what: &str, ok: impl Fn((u64, u64, u64)) -> bool) -> (u64, u64, u64) {
        let t0 = Instant::now();
        loop {
            match self.lines.recv_timeout(Duration::from_secs(20)) {
                Ok(s) if ok(s) => return s,
                Ok(_) => {}
                Err(_) => panic!("service: no {what}"),
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "service: no {what}");
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }
}

/// A publishing client on the broker, or None (said loudly; under CI a panic) when there is
/// no broker, so that `test` does not run.
async fn publisher(id: &str, test: &str) -> Option<AsyncClient> {
    let client = connect_publisher(id).await;
    if client.is_none() {
        if std::env::var("CI").is_ok() {
            panic!("CI needs an MQTT broker at {}", broker());
        }
        eprintln!(
            "SKIPPED: no MQTT broker at {} — {test} did not run",
            broker()
        );
    }
    client
}

async fn connect_publisher(id: &str) -> Option<AsyncClient> {
    let (host, port) = broker()
        .rsplit_once(':')
        .map(|(h, p)| (h.to_string(), p.parse().unwrap()))?;
    let mut o = MqttOptions::new(id, host, port);
    o.set_keep_alive(Duration::from_secs(10));
    let (client, mut ev) = AsyncClient::new(o, 64);
    // The first poll connects: no broker, no test.
    match tokio::time::timeout(Duration::from_secs(3), ev.poll()).await {
        Ok(Ok(_)) => {}
        _ => return None,
    }
    tokio::spawn(async move { while ev.poll().await.is_ok() {} });
    Some(client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_not_committed_is_delivered_again_and_stored_once() {
    let pid = std::process::id();
    let Some(publisher) = publisher(&format!("rewater-test-pub-{pid}"), "the MQTT test").await
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("rewater-mqtt-{pid}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("s.sqlite");
    let mut st = SqliteStore::open(&db).unwrap();
    st.put_site(&Site {
        id: "s".into(),
        name: "s".into(),
        kind: "plant_outlet".into(),
        standard: None,
        district: "d".into(),
        location: None,
        model_node: None,
    })
    .unwrap();
    st.put_device(&Device {
        mn: "MQTT0001".into(),
        password_hash: hash_device_password("pw"),
        site_id: "s".into(),
        lenient: true,
        accept_modbus_crc: false,
        allowed_peers: Vec::new(),
        disabled: false,
    })
    .unwrap();
    let db_s = db.to_str().unwrap().to_string();
    let client = format!("rewater-test-{pid}");
    let topic = format!("rewater-test-{pid}/MQTT0001/up");
    // Yesterday 10:00 Beijing time: inside the store's window.
    let t = (rewater_time::Zone::default().now_wall_seconds() - 86_400).div_euclid(3600) * 3600;
    let dt = rewater_hj212::DataTime::from_wall_seconds(t);
    let json = format!(
        r#"{{"mn": "MQTT0001", "pw": "pw", "cn": "2051", "data_time": "{dt}", "readings": {{"w01018": {{"avg": 23.5, "flag": "N"}}}}}}"#
    );
    // 1: the service takes the message but is killed inside its 4-second commit window.
    let s1 = Service::start(&db_s, &client, &topic, 4000);
    s1.wait("subscription", |s| s.0 >= 1);
    publisher
        .publish(&topic, QoS::AtLeastOnce, false, json.clone())
        .await
        .unwrap();
    s1.wait("message", |s| s.1 >= 1);
    s1.kill();
    assert_eq!(st.count_readings().unwrap(), 0, "stored before the commit?");
    // 2: the same session again: the broker redelivers; stored and acknowledged.
    let s2 = Service::start(&db_s, &client, &topic, 0);
    s2.wait("redelivered message acknowledged", |s| s.2 >= 1);
    assert_eq!(st.count_readings().unwrap(), 1);
    // The same upload once more (a logger's resend): acknowledged, stored once.
    publisher
        .publish(&topic, QoS::AtLeastOnce, false, json.clone())
        .await
        .unwrap();
    s2.wait("second acknowledgement", |s| s.2 >= 2);
    // A wrong password is refused for good: acknowledged (no redelivery), nothing stored.
    let bad = json.replace(r#""pw": "pw""#, r#""pw": "nope""#);
    publisher
        .publish(&topic, QoS::AtLeastOnce, false, bad)
        .await
        .unwrap();
    s2.wait("refusal acknowledged", |s| s.2 >= 3);
    s2.kill();
    // 3: nothing is left to redeliver.
    let s3 = Service::start(&db_s, &client, &topic, 0);
    s3.wait("subscription", |s| s.0 >= 1);
    std::thread::sleep(Duration::from_millis(700));
    let late: Vec<_> = s3.lines.try_iter().collect();
    assert!(
        late.iter().all(|s| s.1 == 0),
        "redelivered after the ack: {late:?}"
    );
    s3.kill();
    let r = st
        .readings("MQTT0001", "w01018", &["2051"], 0, i64::MAX)
        .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].value, Some(23.5));
    assert_eq!(r[0].data_time, t);
    // Forget the persistent sessions of this test.
    let (host, port) = broker()
        .rsplit_once(':')
        .map(|(h, p)| (h.to_string(), p.parse::<u16>().unwrap()))
        .unwrap();
    for i in 0..1 {
        let mut o = MqttOptions::new(format!("{client}-{i}"), host.clone(), port);
        o.set_clean_session(true);
        let (c, mut ev) = AsyncClient::new(o, 8);
        let _ = tokio::time::timeout(Duration::from_secs(2), ev.poll()).await;
        let _ = c.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_millis(300), ev.poll()).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Part `pno` of 3 of one minute record as an HJ 212 frame (factor per part, value 10·pno).
fn split_part(mn: &str, t: i64, pno: u32) -> String {
    split_part_valued(mn, t, pno, 10.0 * f64::from(pno))
}

/// Part `pno` of 3 of one minute record with its factor's value.
fn split_part_valued(mn: &str, t: i64, pno: u32, value: f64) -> String {
    let dt = rewater_hj212::DataTime::from_wall_seconds(t);
    let code = ["w01018", "w21003", "w21011"][pno as usize - 1];
    let seg = format!(
        "QN=2025060100000000{pno};ST=32;CN=2051;PW=pw;MN={mn};Flag=7;PNUM=3;PNO={pno};CP=&&DataTime={dt};{code}-Avg={value},{code}-Flag=N&&"
    );
    rewater_hj212::frame::encode_frame(&seg)
        .trim_end()
        .to_string()
}

/// Split packets over MQTT (issue 19): each part is PUBACKed only once it is committed in
/// the store — the service killed before the commit gets the part again and holds it once —
/// and the record is stored once, whole, when its last part comes; a repeated part changes
/// nothing.
async fn split_over_mqtt(pg: bool) {
    let pid = std::process::id();
    let name = if pg { "pg" } else { "sqlite" };
    let Some(publisher) = publisher(
        &format!("rewater-split-pub-{name}-{pid}"),
        "the MQTT split test",
    )
    .await
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("rewater-mqtt-split-{pid}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let schema = format!("rw_mqtt_split_{pid}");
    let (mut st, db_s): (Box<dyn Store>, String) = if pg {
        let _ = sync(|| PostgresStore::drop_schema(&pg_url(), &schema));
        match sync(|| PostgresStore::connect(&pg_url(), Some(&schema))) {
            Ok(s) => (Box::new(s), format!("pg:{schema}")),
            Err(e) if std::env::var("CI").is_err() => {
                eprintln!("SKIPPED: no PostgreSQL at {} ({e})", pg_url());
                return;
            }
            Err(e) => panic!("CI needs PostgreSQL at {}: {e}", pg_url()),
        }
    } else {
        let db = dir.join("s.sqlite");
        let s = SqliteStore::open(&db).unwrap();
        (Box::new(s), db.to_str().unwrap().to_string())
    };
    sync(|| {
        st.put_site(&Site {
            id: "s".into(),
            name: "s".into(),
            kind: "plant_outlet".into(),
            standard: None,
            district: "d".into(),
            location: None,
            model_node: None,
        })
    })
    .unwrap();
    sync(|| {
        st.put_device(&Device {
            mn: "MQTTSPLIT".into(),
            password_hash: hash_device_password("pw"),
            site_id: "s".into(),
            lenient: true,
            accept_modbus_crc: false,
            allowed_peers: Vec::new(),
            disabled: false,
        })
    })
    .unwrap();
    let client = format!("rewater-split-{name}-{pid}");
    let topic = format!("rewater-split-{name}-{pid}/MQTTSPLIT/up");
    let t = (rewater_time::Zone::default().now_wall_seconds() - 86_400).div_euclid(3600) * 3600;
    let publish = |pno: u32| {
        let (publisher, topic) = (publisher.clone(), topic.clone());
        async move {
            publisher
                .publish(
                    &topic,
                    QoS::AtLeastOnce,
                    false,
                    split_part("MQTTSPLIT", t, pno),
                )
                .await
                .unwrap();
        }
    };
    // 1: part 2 taken, the service killed inside its commit window: nothing held.
    let s1 = Service::start(&db_s, &client, &topic, 4000);
    s1.wait("subscription", |s| s.0 >= 1);
    publish(2).await;
    s1.wait("message", |s| s.1 >= 1);
    s1.kill();
    assert_eq!(
        sync(|| st.split_pending(None).unwrap()),
        (0, 0),
        "held before the commit?"
    );
    // 2: redelivered and held (PUBACK after the commit); then part 3, part 2 again, part 1.
    let s2 = Service::start(&db_s, &client, &topic, 0);
    s2.wait("redelivered part acknowledged", |s| s.2 >= 1);
    assert_eq!(sync(|| st.split_pending(None).unwrap()), (1, 1));
    assert_eq!(sync(|| st.count_frames().unwrap()), 0);
    for (i, pno) in [3, 2, 1].into_iter().enumerate() {
        publish(pno).await;
        s2.wait("part acknowledged", |s| s.2 >= 2 + i as u64);
    }
    s2.kill();
    assert_eq!(
        sync(|| st.split_pending(None).unwrap()),
        (0, 0),
        "parts deleted"
    );
    assert_eq!(sync(|| st.count_frames().unwrap()), 1, "stored once");
    let mut got: Vec<(String, Option<f64>, i64)> = sync(|| st.latest("MQTTSPLIT").unwrap())
        .into_iter()
        .map(|r| (r.factor, r.value, r.data_time))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("w01018".to_string(), Some(10.0), t),
            ("w21003".to_string(), Some(20.0), t),
            ("w21011".to_string(), Some(30.0), t),
        ],
        "whole: the factors of all three parts"
    );
    let (host, port) = broker()
        .rsplit_once(':')
        .map(|(h, p)| (h.to_string(), p.parse::<u16>().unwrap()))
        .unwrap();
    let mut o = MqttOptions::new(format!("{client}-0"), host, port);
    o.set_clean_session(true);
    let (c, mut ev) = AsyncClient::new(o, 8);
    let _ = tokio::time::timeout(Duration::from_secs(2), ev.poll()).await;
    let _ = c.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_millis(300), ev.poll()).await;
    let _ = std::fs::remove_dir_all(&dir);
    sync(|| drop(st));
    if pg {
        sync(|| PostgresStore::drop_schema(&pg_url(), &schema)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_record_over_mqtt_is_stored_once_whole_on_sqlite() {
    split_over_mqtt(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_record_over_mqtt_is_stored_once_whole_on_postgres() {
    split_over_mqtt(true).await;
}

/// A client subscribed to `filter`, handing on each message's payload.
async fn subscriber(id: &str, filter: &str) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (host, port) = broker()
        .rsplit_once(':')
        .map(|(h, p)| (h.to_string(), p.parse::<u16>().unwrap()))
        .unwrap();
    let mut o = MqttOptions::new(id, host, port);
    o.set_keep_alive(Duration::from_secs(10));
    let (client, mut ev) = AsyncClient::new(o, 64);
    client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (subscribed_tx, subscribed_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _client = client;
        let mut subscribed_tx = Some(subscribed_tx);
        while let Ok(e) = ev.poll().await {
            match e {
                rewater_mqtt::rumqttc::Event::Incoming(rewater_mqtt::rumqttc::Packet::SubAck(
                    _,
                )) => {
                    if let Some(t) = subscribed_tx.take() {
                        let _ = t.send(());
                    }
                }
                rewater_mqtt::rumqttc::Event::Incoming(rewater_mqtt::rumqttc::Packet::Publish(
                    p,
                )) => {
                    let _ = tx.send(String::from_utf8_lossy(&p.payload).into_owned());
                }
                _ => {}
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(5), subscribed_rx)
        .await
        .expect("no SUBACK")
        .unwrap();
    rx
}

/// Split parts over MQTT that are refused (issue 19): a part the store has no room for now
/// (the device's one record being assembled) is not acknowledged and comes again — the
/// service reconnects so that the broker redelivers it — and is held once there is room; a
/// part resent with other data is refused for good and acknowledged (the broker does not
/// deliver it for ever). A completed record is published whole on `PREFIX/MN/accepted`,
/// a held part not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_parts_refused_over_mqtt_and_the_whole_published() {
    let pid = std::process::id();
    let Some(publisher) = publisher(
        &format!("rewater-room-pub-{pid}"),
        "the MQTT split refusal test",
    )
    .await
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("rewater-mqtt-room-{pid}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("s.sqlite");
    let mut st = SqliteStore::open(&db).unwrap();
    st.put_site(&Site {
        id: "s".into(),
        name: "s".into(),
        kind: "plant_outlet".into(),
        standard: None,
        district: "d".into(),
        location: None,
        model_node: None,
    })
    .unwrap();
    st.put_device(&Device {
        mn: "MQTTROOM".into(),
        password_hash: hash_device_password("pw"),
        site_id: "s".into(),
        lenient: true,
        accept_modbus_crc: false,
        allowed_peers: Vec::new(),
        disabled: false,
    })
    .unwrap();
    let client = format!("rewater-room-{pid}");
    let topic = format!("rewater-room-{pid}/MQTTROOM/up");
    let prefix = format!("rewater-room-out-{pid}");
    let mut accepted = subscriber(
        &format!("rewater-room-sub-{pid}"),
        &format!("{prefix}/MQTTROOM/accepted"),
    )
    .await;
    let t = (rewater_time::Zone::default().now_wall_seconds() - 86_400).div_euclid(3600) * 3600;
    let publish = |payload: String| {
        let (publisher, topic) = (publisher.clone(), topic.clone());
        async move {
            publisher
                .publish(&topic, QoS::AtLeastOnce, false, payload)
                .await
                .unwrap();
        }
    };
    // One split record per device at a time; reconnect 300 ms after a message left unacked.
    let s = Service::start_with(&format!(
        "{}|{client}|{topic}|0|1|300|{prefix}",
        db.to_str().unwrap()
    ));
    s.wait("subscription", |s| s.0 >= 1);
    publish(split_part("MQTTROOM", t, 1)).await;
    s.wait("part 1 of A acknowledged", |s| s.2 >= 1);
    // B's first part: no room (A is being assembled). Not acknowledged, delivered again.
    publish(split_part("MQTTROOM", t + 60, 1)).await;
    let seen = s.wait("B delivered three times", |s| s.1 >= 4);
    assert_eq!(seen.2, 1, "a part without room was acknowledged: {seen:?}");
    assert_eq!(st.split_pending(Some("MQTTROOM")).unwrap(), (1, 1));
    // A's first part again with other data: refused for good, so acknowledged.
    publish(split_part_valued("MQTTROOM", t, 1, 99.0)).await;
    s.wait("the mismatched part acknowledged", |s| s.2 >= 2);
    assert!(
        accepted.try_recv().is_err(),
        "something published before a record was whole"
    );
    // A completed: published whole; then B's part, delivered again, finds room and is held.
    publish(split_part("MQTTROOM", t, 2)).await;
    publish(split_part("MQTTROOM", t, 3)).await;
    s.wait("A completed and B held", |s| s.2 >= 5);
    let body = tokio::time::timeout(Duration::from_secs(5), accepted.recv())
        .await
        .expect("the whole record was not published")
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["mn"], "MQTTROOM");
    assert_eq!(v["data_time"], t);
    assert_eq!(v["pno"], 1);
    let r = &v["readings"];
    assert_eq!(
        (
            &r["w01018"]["value"],
            &r["w21003"]["value"],
            &r["w21011"]["value"]
        ),
        (&10.0.into(), &20.0.into(), &30.0.into()),
        "{body}"
    );
    assert_eq!(r.as_object().unwrap().len(), 3, "{body}");
    assert_eq!(
        st.split_pending(Some("MQTTROOM")).unwrap(),
        (1, 1),
        "B held"
    );
    s.kill();
    assert_eq!(st.count_frames().unwrap(), 1, "A stored once");
    let got = st.latest("MQTTROOM").unwrap();
    assert!(
        got.iter()
            .any(|x| x.factor == "w01018" && x.value == Some(10.0)),
        "the first A part kept: {got:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(accepted.try_recv().is_err(), "published more than once");
    let reasons: Vec<(String, RejectReason)> = st
        .rejected_counts(0, i64::MAX, 100)
        .unwrap()
        .into_iter()
        .map(|c| (c.source, c.reason))
        .collect();
    assert!(
        reasons.contains(&("MQTTROOM".to_string(), RejectReason::SplitRefused)),
        "{reasons:?}"
    );
    let (host, port) = broker()
        .rsplit_once(':')
        .map(|(h, p)| (h.to_string(), p.parse::<u16>().unwrap()))
        .unwrap();
    let mut o = MqttOptions::new(format!("{client}-0"), host, port);
    o.set_clean_session(true);
    let (c, mut ev) = AsyncClient::new(o, 8);
    let _ = tokio::time::timeout(Duration::from_secs(2), ev.poll()).await;
    let _ = c.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_millis(300), ev.poll()).await;
    let _ = std::fs::remove_dir_all(&dir);
}
