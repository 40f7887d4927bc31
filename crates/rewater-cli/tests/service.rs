//! How the binary behaves as a Unix tool and as a service: a closed pipe is not an error,
//! logs are structured, the service token is never on the command line or echoed, and demo
//! data loggers exist only when asked for.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rewater"))
}

#[test]
fn a_reader_that_leaves_early_is_not_an_error() {
    for args in [
        &["standards", "factors"][..],
        &["standards", "list"][..],
        &["schema"][..],
    ] {
        let mut child = bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line, then close the pipe as `| head -1` does.
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(!first.is_empty());
        drop(out);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(status.success(), "{args:?}: {status} {err}");
    }
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-svc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts `serve` with `args` and returns (child, stdout lines up to the web line, the
/// "listening" log line).
fn serve(
    dir: &std::path::Path,
    args: &[&str],
    token_env: Option<&str>,
) -> (std::process::Child, Vec<String>, String) {
    let mut cmd = bin();
    cmd.args([
        "--log-format",
        "json",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--api-listen",
        "127.0.0.1:0",
        "--db",
    ])
    .arg(dir.join("store.sqlite"))
    .args(args)
    .env_remove("REWATER_API_TOKEN")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(t) = token_env {
        cmd.env("REWATER_API_TOKEN", t);
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(20) {
        let mut l = String::new();
        if out.read_line(&mut l).unwrap() == 0 {
            break;
        }
        let done = l.contains("web platform");
        lines.push(l);
        if done {
            break;
        }
    }
    // The device line, if any, follows the web line.
    if args.contains(&"--demo") {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        lines.push(l);
    }
    // The "listening" event, after the store's migration events.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut listening = String::new();
    for _ in 0..50 {
        let mut l = String::new();
        if err.read_line(&mut l).unwrap() == 0 {
            break;
        }
        assert!(
            serde_json::from_str::<serde_json::Value>(&l).is_ok(),
            "not JSON: {l}"
        );
        if l.contains("listening") {
            listening = l;
            break;
        }
    }
    (child, lines, listening)
}

#[test]
fn serve_logs_json_and_never_shows_a_supplied_token() {
    let dir = tmp("token");
    let secret = "a-supplied-token-of-32-characters";
    let (mut child, lines, log) = serve(&dir, &[], Some(secret));
    let _ = child.kill();
    let _ = child.wait();
    let all = lines.join("");
    assert!(all.contains("token supplied, not shown"), "{all}");
    assert!(!all.contains(secret), "{all}");
    assert!(!log.contains(secret), "{log}");
    // No demo devices unless asked for.
    assert!(!all.contains("data loggers registered"), "{all}");
    let v: serde_json::Value = serde_json::from_str(&log).unwrap_or_else(|e| panic!("{e}: {log}"));
    assert_eq!(v["level"], "INFO", "{log}");
    assert_eq!(v["fields"]["message"], "listening", "{log}");
    assert_eq!(v["fields"]["zone"], "Asia/Shanghai", "{log}");

    // A token file works the same; too short a token is refused with exit 2.
    let file = dir.join("token");
    std::fs::write(&file, "short\n").unwrap();
    let o = bin()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
            "--db",
        ])
        .arg(dir.join("store.sqlite"))
        .arg("--api-token-file")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least 16 characters"));
    // --api-token is gone: a token on the command line would show in `ps`.
    let o = bin().args(["serve", "--api-token", "x"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_generated_token_is_shown_once_and_demo_passwords_are_random() {
    let dir = tmp("demo");
    let (mut child, lines, _) = serve(&dir, &["--demo"], None);
    let _ = child.kill();
    let _ = child.wait();
    let all = lines.join("");
    let token = all
        .split("token: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or_else(|| panic!("{all}"));
    assert_eq!(token.len(), 64, "32 random bytes in hex: {token}");
    let pw = |all: &str| {
        all.split("password: ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("{all}"))
    };
    let first = pw(&all);
    let (mut child, lines, _) = serve(&dir, &["--demo"], None);
    let _ = child.kill();
    let _ = child.wait();
    let second = pw(&lines.join(""));
    assert_eq!(first.len(), 16);
    assert!(first.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_ne!(first, second, "each registration makes a new password");
    assert_ne!(first, "123456");
}

#[test]
fn an_unknown_zone_is_bad_input() {
    let o = bin()
        .args(["serve", "--zone", "Mars/Olympus", "--db"])
        .arg(tmp("zone").join("s.sqlite"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Mars/Olympus"));
}
