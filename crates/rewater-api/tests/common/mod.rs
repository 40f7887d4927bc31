//! Helpers for the API tests: the real router served by `axum::serve` on a 127.0.0.1
//! listener (with connect info, as in production), a SQLite store seeded with two
//! districts, and a small HTTP/1.1 client over `std::net::TcpStream`.
#![allow(dead_code)]

use rewater_api::{ApiConfig, ApiState, Platform, Scenarios};
use rewater_store::{Account, Device, FactorReading, NewAlertRow, Role, Site, Store, Upload};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const TOKEN: &str = "server-token-0123456789";
pub const ADMIN: (&str, &str) = ("boss", "boss-password-1");
pub const OPERATOR: (&str, &str) = ("op-north", "north-password-1");
pub const VIEWER: (&str, &str) = ("viewer", "viewer-password-1");
pub const NORTH: &str = "north-outlet";
pub const NORTH_MN: &str = "RWTEST0000000001";
/// 2025-06-01 08:00 on the wall clock (Beijing).
pub const WALL_0800: i64 = 1_748_736_000 + 8 * 3600;

pub struct TestServer {
    pub addr: String,
    pub dir: PathBuf,
    pub db: PathBuf,
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_millis(100));
        }
    }
}

pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-api-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn site(id: &str, district: &str) -> Site {
    Site {
        id: id.into(),
        name: format!("{id} (test)"),
        kind: "plant_outlet".into(),
        standard: Some("DB11/890-2012:new_B".into()),
        district: district.into(),
        location: Some([116.4, 39.9]),
        model_node: None,
    }
}

/// Two sites (north, south) with a device each, three accounts, one COD reading of 40 mg/L
/// at the north site at 2025-06-01 08:00 and an open alert.
pub fn seed(store: &mut dyn Store) {
    for (id, district, mn) in [
        (NORTH, "north", NORTH_MN),
        ("south-outlet", "south", "RWTEST0000000002"),
    ] {
        store.put_site(&site(id, district)).unwrap();
        store
            .put_device(&Device {
                mn: mn.into(),
                password_hash: rewater_store::hash_device_password("device-pw-1"),
                site_id: id.into(),
                lenient: true,
                accept_modbus_crc: false,
                allowed_peers: Vec::new(),
                disabled: false,
            })
            .unwrap();
    }
    for ((name, pw), role, district) in [
        (ADMIN, Role::Admin, None),
        (OPERATOR, Role::Operator, Some("north")),
        (VIEWER, Role::Viewer, None),
    ] {
        store
            .put_account(&Account {
                name: name.into(),
                role,
                district: district.map(String::from),
                password_hash: rewater_api::auth::hash_password(pw).unwrap(),
                disabled: false,
                created_at_ms: 0,
            })
            .unwrap();
    }
    store
        .ingest(&[Upload {
            mn: NORTH_MN.into(),
            cn: "2051".into(),
            data_time: WALL_0800,
            pno: 1,
            received_at_ms: 1_748_764_800_000,
            peer: "127.0.0.1:1".into(),
            raw: String::new(),
            readings: vec![FactorReading {
                factor: "w01018".into(),
                value: Some(40.0),
                min: None,
                max: None,
                cou: None,
                flag: Some("N".into()),
            }],
        }])
        .unwrap();
    store
        .raise_alerts(&[NewAlertRow {
            site_id: NORTH.into(),
            mn: Some(NORTH_MN.into()),
            kind: "exceedance".into(),
            factor: Some("w01018".into()),
            severity: "warning".into(),
            message: "COD 40 > 30".into(),
            data_time: WALL_0800,
            value: Some(40.0),
            limit: Some("30".into()),
            raised_at_ms: 1_748_764_800_000,
        }])
        .unwrap();
}

/// issue 16: an outfall of district north and one of district south (examples/outfalls-qinghe).
pub const OUTFALL_NORTH: &str = "1101080001110108A0001";
pub const OUTFALL_SOUTH: &str = "1101080003110105X0003";
/// The rectification record seeded for the south outfall.
pub const RECTIFICATION: &str = "1101080003110105X0003-R001";

/// issue 16: the small outfall ledger of examples/outfalls-qinghe and one open
/// rectification record (district south).
pub fn seed_outfalls(store: &mut dyn Store) {
    use rewater_outfalls::rectify::{FoundBy, Measure, Rectification};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/outfalls-qinghe");
    let (ledger, _) =
        rewater_outfalls::io::import(&Default::default(), &[&dir], Default::default()).unwrap();
    rewater_outfalls::store::save_ledger(store, &ledger, "seed", "test ledger", 1).unwrap();
    let r = Rectification::open(
        RECTIFICATION,
        OUTFALL_SOUTH,
        "south",
        FoundBy::Inspection,
        "借道排污",
        Measure::Regulate,
        "南区水务局",
        "2025-09-30".parse().unwrap(),
        "seed",
        1,
    )
    .unwrap();
    rewater_outfalls::store::save_rectification(store, &r, "seed", "opened", 1).unwrap();
}

/// Scenarios with the bundled Beijing model (examples/beijing-district, read in place).
pub fn scenarios(dir: &Path) -> Arc<Scenarios> {
    let beijing =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-district/model.toml");
    Arc::new(Scenarios::new(
        dir.join("scenarios"),
        vec![("beijing-district".into(), beijing)],
        Arc::new(rewater_standards::Standards::builtin()),
    ))
}

/// Serves the router on 127.0.0.1 with a freshly seeded store.
pub fn serve(name: &str, config: ApiConfig) -> TestServer {
    let dir = tmp(name);
    let db = dir.join("store.sqlite");
    let mut store = rewater_store::open(&db.display().to_string()).unwrap();
    seed(store.as_mut());
    seed_outfalls(store.as_mut());
    let platform = Platform {
        model: None,
        scenarios: Some(scenarios(&dir)),
        tile_url: None,
        public_page: true,
    };
    let mut config = config;
    config.tokens.insert(TOKEN.into(), "api".into());
    let state = ApiState::with_config(store, config, platform);
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
    TestServer {
        addr,
        dir,
        db,
        rt: Some(rt),
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The session cookie set by this answer ("rw_session=…").
    pub fn cookie(&self) -> String {
        let c = self.header("set-cookie").expect("a Set-Cookie header");
        c.split(';').next().unwrap().to_string()
    }
}

/// One request on a fresh connection.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // A server refusing a large body (413) may answer and close before it is all sent: a
    // broken pipe while writing is then expected, and the answer is read all the same.
    let sent = s.write_all(head.as_bytes()).and_then(|_| s.write_all(body));
    if let Err(e) = &sent {
        assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "sending {method} {path}: {e}"
        );
    }
    let mut raw = Vec::new();
    if let Err(e) = s.read_to_end(&mut raw) {
        assert!(
            sent.is_err() && !raw.is_empty(),
            "reading the answer to {method} {path}: {e}"
        );
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A request with the server token.
pub fn api(addr: &str, method: &str, path: &str, body: &str) -> Resp {
    let auth = format!("Bearer {TOKEN}");
    request(
        addr,
        method,
        path,
        &[("Authorization", &auth)],
        body.as_bytes(),
    )
}

/// A request of a session (cookie and CSRF token).
pub fn as_session(addr: &str, s: &(String, String), method: &str, path: &str, body: &str) -> Resp {
    request(
        addr,
        method,
        path,
        &[("Cookie", &s.0), ("X-CSRF-Token", &s.1)],
        body.as_bytes(),
    )
}

/// Logs in; returns (cookie, csrf).
pub fn login(addr: &str, name: &str, password: &str) -> (String, String) {
    let r = request(
        addr,
        "POST",
        "/api/login",
        &[],
        serde_json::json!({"name": name, "password": password})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "login {name}: {}", r.body);
    (r.cookie(), r.json()["csrf"].as_str().unwrap().to_string())
}
