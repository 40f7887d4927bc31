//! `rewater optimize` and `rewater worker` (issue 18) as a user runs them: outputs, exit
//! codes, resume, and two worker processes on a real NATS JetStream giving the local front.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn study() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rewater-optimise/tests/data/small/study.toml")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-cli-opt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rewater(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rewater"))
        .args(args)
        .output()
        .unwrap()
}

/// The front of a run, without the engine's solve timings (the only figures that differ).
fn front(dir: &Path) -> Value {
    fn untime(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("solve_seconds");
                m.values_mut().for_each(untime);
            }
            Value::Array(a) => a.iter_mut().for_each(untime),
            _ => {}
        }
    }
    let v: Value = serde_json::from_slice(&std::fs::read(dir.join("front.json")).unwrap()).unwrap();
    let mut f = v["front"].clone();
    assert!(f.as_array().is_some_and(|a| !a.is_empty()));
    untime(&mut f);
    f
}

#[test]
fn optimize_writes_the_front_and_resumes() {
    let out = tmp("run");
    let s = study();
    let o = rewater(&[
        "optimize",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("小型测试研究 / Small test study")
            && text.contains("Pareto front: 8 designs"),
        "{text}"
    );
    for f in [
        "front.json",
        "front.csv",
        "cost_reuse.csv",
        "front.html",
        "checkpoint.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // Resuming a finished run changes nothing.
    let o = rewater(&[
        "optimize",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--resume",
        "-q",
    ]);
    assert!(o.status.success());
    let again = tmp("serial");
    let o = rewater(&[
        "optimize",
        s.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--serial",
        "-q",
    ]);
    assert!(o.status.success());
    assert_eq!(front(&out), front(&again));
}

#[test]
fn a_bad_study_exits_2_naming_the_field() {
    let dir = tmp("bad");
    let text = std::fs::read_to_string(study())
        .unwrap()
        .replace("length_km = 3", "length_km = -3");
    let bad = dir.join("study.toml");
    std::fs::write(&bad, text).unwrap();
    std::fs::copy(study().with_file_name("model.toml"), dir.join("model.toml")).unwrap();
    let o = rewater(&[
        "optimize",
        bad.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("field 'pipe[0].length_km'"), "{err}");
}

#[test]
fn two_worker_processes_give_the_local_front() {
    if std::net::TcpStream::connect_timeout(
        &"127.0.0.1:4222".parse().unwrap(),
        Duration::from_secs(2),
    )
    .is_err()
    {
        if std::env::var("CI").is_ok_and(|v| v == "1" || v == "true") {
            panic!("NATS JetStream is not reachable at 127.0.0.1:4222; CI must start it");
        }
        eprintln!("SKIPPED: NATS is not reachable at 127.0.0.1:4222");
        return;
    }
    let ns = format!("rewater.clitest.p{}", std::process::id());
    let s = study();
    let mut workers: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_rewater"))
                .args([
                    "worker",
                    s.to_str().unwrap(),
                    "--namespace",
                    &ns,
                    "--batch",
                    "1",
                    "--idle-exit",
                    "20",
                ])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let remote = tmp("remote");
    let o = rewater(&[
        "optimize",
        s.to_str().unwrap(),
        "--out",
        remote.to_str().unwrap(),
        "--nats",
        "nats://127.0.0.1:4222",
        "--namespace",
        &ns,
        "-q",
    ]);
    for w in &mut workers {
        let _ = w.kill();
    }
    let logs: Vec<String> = workers
        .into_iter()
        .map(|w| String::from_utf8_lossy(&w.wait_with_output().unwrap().stderr).into_owned())
        .collect();
    let _ = rewater_optimise::worker::delete_stream(&rewater_optimise::worker::NatsOptions {
        namespace: ns.clone(),
        ..Default::default()
    });
    assert!(
        o.status.success(),
        "{}\n{logs:?}",
        String::from_utf8_lossy(&o.stderr)
    );
    let local = tmp("local");
    assert!(rewater(&[
        "optimize",
        s.to_str().unwrap(),
        "--out",
        local.to_str().unwrap(),
        "-q"
    ])
    .status
    .success());
    assert_eq!(front(&remote), front(&local));
}
