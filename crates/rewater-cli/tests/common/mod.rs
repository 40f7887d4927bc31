//! Helpers shared by the tests that start `rewater serve`.
#![allow(dead_code)]

use rewater_hj212::encode::{Upload, UploadFactor};
use rewater_hj212::{DataTime, Decoder, Event, Options};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const TOKEN: &str = "test-token-123";

pub const DEMO_MN: &str = "RWDEMO0000000001";

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub api: String,
    /// The demo data loggers' password, printed once at start.
    pub device_pw: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-gw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("store.sqlite")
}

/// Starts `rewater serve --demo` on free ports (the service token from the environment) and
/// waits for its "listening" lines and the data loggers' one-time password.
pub fn start(db: &Path, extra: &[&str]) -> Server {
    start_with(db, true, extra)
}

/// Starts `rewater serve`, with the demo data loggers or not (`device_pw` is then empty).
pub fn start_with(db: &Path, demo: bool, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewater"))
        .args(["serve"])
        .args(demo.then_some("--demo"))
        .args([
            "--db",
            &db.display().to_string(),
            "--listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
            // The tests' data are dated 2025-06-01; a window of 20 years keeps them in.
            "--max-data-age-days",
            "7305",
        ])
        .env("REWATER_API_TOKEN", TOKEN)
        .args(extra)
        // Demo devices have no default password; the tests name theirs.
        .env("REWATER_DEMO_DEVICE_PASSWORD", "123456")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let mut line2 = String::new();
    out.read_line(&mut line2).unwrap();
    let api = line2
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no API address in {line2:?}"))
        .to_string();
    assert!(line2.contains("token supplied, not shown"), "{line2}");
    assert!(
        !line2.contains(TOKEN),
        "the supplied token is echoed: {line2}"
    );
    let device_pw = loop {
        if !demo {
            break String::new();
        }
        let mut l = String::new();
        assert!(
            out.read_line(&mut l).unwrap() > 0,
            "no device password line"
        );
        if let Some(rest) = l.split("password: ").nth(1) {
            break rest.split(' ').next().unwrap_or("").to_string();
        }
    };
    assert!(
        !demo || device_pw.len() == 16,
        "a random 16-character password"
    );
    assert_ne!(device_pw, "123456");
    Server {
        child,
        addr,
        api,
        device_pw,
    }
}

pub fn upload(mn: &str, pw: &str, k: i64, ack: bool) -> Upload {
    Upload {
        qn: format!("20250601000000{:03}", k % 1000),
        st: "32".into(),
        cn: "2051".into(),
        pw: pw.into(),
        mn: mn.into(),
        ack,
        data_time: DataTime::from_wall_seconds(1_748_736_000 + 60 * k),
        factors: vec![UploadFactor {
            code: "w01018".into(),
            values: vec![("Avg".into(), 20.0 + k as f64 / 1000.0)],
            flag: Some('N'),
        }],
    }
}

/// Sends a frame and waits for a reply frame containing `want` (None: expect no reply).
pub fn exchange(s: &mut TcpStream, frame: &str, want: Option<&str>) -> Option<Vec<String>> {
    s.write_all(frame.as_bytes()).ok()?;
    let Some(want) = want else {
        s.set_read_timeout(Some(Duration::from_millis(300))).ok()?;
        let mut b = [0u8; 256];
        return match s.read(&mut b) {
            Ok(n) if n > 0 => Some(vec![String::from_utf8_lossy(&b[..n]).into_owned()]),
            _ => None,
        };
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut d = Decoder::new(Options::strict());
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        let n = s.read(&mut b).ok()?;
        if n == 0 {
            return None;
        }
        d.push(&b[..n]);
        while let Some(e) = d.next_event() {
            if let Event::Frame(f) = e {
                got.push(f.segment().to_string());
                if f.segment().contains(want) {
                    return Some(got);
                }
            }
        }
    }
}

/// A minimal HTTP/1.1 request; returns (status, body).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    match body {
        Some(b) => req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        )),
        None => req.push_str("\r\n"),
    }
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // Undo chunked transfer encoding if the server used it.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        body.to_string()
    };
    (status, body)
}

/// Two hours of minute COD from the north plant's logger (20 mg/L, then 40 mg/L; DB11/890
/// new B allows 30), each upload acknowledged.
pub fn send_north_cod(s: &mut TcpStream, pw: &str) {
    for k in 0..120 {
        let mut u = upload(DEMO_MN, pw, k, true);
        u.factors[0].values[0].1 = if k < 60 { 20.0 } else { 40.0 };
        assert!(exchange(s, &u.frame(), Some("CN=9014")).is_some());
    }
}

/// `rewater user add` with the password on standard input; returns the exit code.
pub fn add_user(
    db: &Path,
    name: &str,
    password: &str,
    role: &str,
    district: Option<&str>,
) -> Option<i32> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rewater"));
    cmd.args(["user", "add", name, "--role", role, "--db"])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(d) = district {
        cmd.args(["--district", d]);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait().unwrap().code()
}

/// What a browser test needs: Debian's Chromium, the pages' folder (where the `.mjs`
/// scripts are) and the `node_modules` holding playwright-core (from the `npm ci` the web
/// crate's build ran in its OUT_DIR).
pub struct BrowserKit {
    pub chromium: PathBuf,
    pub web: PathBuf,
    pub node_modules: &'static str,
}

/// The [`BrowserKit`], or `None` where Chromium is missing outside CI (said on stderr); in CI
/// (`CI` set, as `.ci/run` does) a missing Chromium fails the test.
pub fn browser_kit() -> Option<BrowserKit> {
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is required in CI: apt-get install chromium"
        );
        eprintln!("skipped: Debian's chromium is not installed (apt-get install chromium)");
        return None;
    };
    let node_modules = rewater_api::web::node_modules_dir();
    assert!(
        Path::new(node_modules).join("playwright-core").exists(),
        "playwright-core missing in {node_modules} (installed by crates/rewater-web/build.rs)"
    );
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rewater-web/web");
    Some(BrowserKit {
        chromium,
        web,
        node_modules,
    })
}
