//! A gateway in a child process (this test binary run again for one test), so that a test
//! can `kill -9` it mid-load.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the test `test` of this binary as a child with `env` set, and waits until it prints
/// READY (at most 60 s). Its output is drained so that it never blocks on a full pipe.
pub fn spawn_gateway_child(test: &str, env: (&str, &str)) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(env.0, env.1)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let t0 = Instant::now();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("READY") => break,
            Some(Ok(_)) => {}
            _ => panic!("gateway child did not start"),
        }
        assert!(t0.elapsed() < Duration::from_secs(60));
    }
    std::thread::spawn(move || for _ in lines {});
    child
}

/// A TCP port free on 127.0.0.1 at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
