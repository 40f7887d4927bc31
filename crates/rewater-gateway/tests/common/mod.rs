//! Helpers for the gateway tests: a real store file, the gateway on a real 127.0.0.1
//! listener, HJ 212 frames, and reading replies.
#![allow(dead_code)]

pub mod backend;
pub mod child;

use rewater_gateway::{serve, AlertSetup, Config, Handle};
use rewater_hj212::encode::{Upload, UploadFactor};
use rewater_hj212::{DataTime, Decoder, Event, Options};
use rewater_store::prelude::*;
use rewater_store::{hash_device_password, Device, Site, SqliteStore};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-gw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("s.sqlite")
}

pub fn site(id: &str, standard: Option<&str>) -> Site {
    Site {
        id: id.into(),
        name: id.into(),
        kind: "plant_outlet".into(),
        standard: standard.map(str::to_string),
        district: "d".into(),
        location: None,
        model_node: None,
    }
}

pub fn device(mn: &str, pw: &str, site: &str) -> Device {
    Device {
        mn: mn.into(),
        password_hash: hash_device_password(pw),
        site_id: site.into(),
        lenient: true,
        accept_modbus_crc: false,
        allowed_peers: Vec::new(),
        disabled: false,
    }
}

/// A store with site "s" and device MN / password "pw".
pub fn store(path: &Path) -> SqliteStore {
    let mut s = SqliteStore::open(path).unwrap();
    s.put_site(&site("s", None)).unwrap();
    s.put_device(&device("MN", "pw", "s")).unwrap();
    s
}

/// Minute data of device `mn`, interval `k` after a recent whole hour (inside the window).
pub fn upload(mn: &str, pw: &str, k: i64, factors: Vec<(&str, f64)>) -> Upload {
    Upload {
        qn: format!("20250601000000{:03}", k.rem_euclid(1000)),
        st: "32".into(),
        cn: "2051".into(),
        pw: pw.into(),
        mn: mn.into(),
        ack: true,
        data_time: DataTime::from_wall_seconds(base_time() + 60 * k),
        factors: factors
            .into_iter()
            .map(|(code, v)| UploadFactor {
                code: code.into(),
                values: vec![("Avg".into(), v)],
                flag: Some('N'),
            })
            .collect(),
    }
}

/// The start of the hour two days ago, in Beijing wall seconds.
pub fn base_time() -> i64 {
    let now = rewater_time::Zone::default().now_wall_seconds();
    (now - 2 * 86_400).div_euclid(3600) * 3600
}

pub fn frame(k: i64) -> String {
    upload("MN", "pw", k, vec![("w01018", 1.0)]).frame()
}

/// True if the server closes the connection within `within`.
pub async fn closed(s: &mut TcpStream, within: Duration) -> bool {
    let mut b = [0u8; 256];
    let t = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(t, s.read(&mut b)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// Sends a frame and returns the reply segments received within `wait` (empty if none).
pub async fn exchange(s: &mut TcpStream, frame: &str, wait: Duration) -> Vec<String> {
    if s.write_all(frame.as_bytes()).await.is_err() {
        return Vec::new();
    }
    let mut d = Decoder::new(Options::strict());
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    let t = tokio::time::Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(t, s.read(&mut b)).await {
        if n == 0 {
            break;
        }
        d.push(&b[..n]);
        while let Some(e) = d.next_event() {
            if let Event::Frame(f) = e {
                got.push(f.segment().to_string());
            }
        }
        if got.iter().any(|g| g.contains("CN=9014")) {
            break;
        }
    }
    got
}

/// True if no 9014 comes within 1.5 s (a refused frame gets no reply at all).
pub async fn not_acked(s: &mut TcpStream, frame: &str) -> bool {
    !exchange(s, frame, Duration::from_millis(1500))
        .await
        .iter()
        .any(|g| g.contains("CN=9014"))
}

/// True if the frame is acknowledged with a 9014. Any other frame read with it (a request
/// the gateway sent meanwhile: 1012, 2061, a queued command) is dropped; a test that waits
/// for such a request keeps them with [`exchange`] instead (history.rs, `acked_keeping`).
pub async fn acked(s: &mut TcpStream, frame: &str) -> bool {
    exchange(s, frame, Duration::from_secs(5))
        .await
        .iter()
        .any(|g| g.contains("CN=9014"))
}

pub struct Running {
    pub addr: String,
    pub stop: tokio::sync::watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<std::sync::Arc<rewater_gateway::Stats>>,
    pub handle: Handle,
}

impl Running {
    pub async fn shutdown(self) -> std::sync::Arc<rewater_gateway::Stats> {
        self.stop.send(true).unwrap();
        self.task.await.unwrap()
    }
}

/// Starts the gateway on a free 127.0.0.1 port.
pub async fn start(store: Box<dyn Store>, config: Config, alerts: Option<AlertSetup>) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (h_tx, h_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        serve(listener, store, config, rx, alerts, move |h| {
            let _ = h_tx.send(h);
        })
        .await
        .unwrap()
    });
    let handle = h_rx.await.unwrap();
    Running {
        addr,
        stop: tx,
        task,
        handle,
    }
}

/// Bytes of a SQLite store on disk (database and WAL).
pub fn store_bytes(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|s| {
            let mut p = path.as_os_str().to_owned();
            p.push(s);
            std::fs::metadata(PathBuf::from(p)).map_or(0, |m| m.len())
        })
        .sum()
}

/// Alerts with the built-in standards, default settings, no model, a one-minute tick.
pub fn alert_setup() -> rewater_gateway::AlertSetup {
    rewater_gateway::AlertSetup {
        standards: rewater_standards::Standards::builtin(),
        settings: rewater_alerts::Settings::default(),
        downstream: Default::default(),
        tick: Duration::from_secs(60),
        on_raised: None,
    }
}
