//! Two `rewater worker`s on a real NATS JetStream (127.0.0.1:4222) give the same search as a
//! local serial run. Skipped with a message when NATS is not there, except under CI=1.
#![cfg(feature = "nats")]

use rewater_optimise::worker::{
    delete_stream, run_worker, NatsEvaluator, NatsOptions, WorkerOptions,
};
use rewater_optimise::*;
use rewater_standards::Standards;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn nats_up() -> bool {
    std::net::TcpStream::connect_timeout(&"127.0.0.1:4222".parse().unwrap(), Duration::from_secs(2))
        .is_ok()
}

fn problem() -> Problem {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/small/study.toml");
    Problem::load(&path, Standards::builtin()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn two_workers_give_the_local_result() {
    if !nats_up() {
        if std::env::var("CI").is_ok_and(|v| v == "1" || v == "true") {
            panic!("NATS JetStream is not reachable at 127.0.0.1:4222; CI must start it");
        }
        eprintln!("SKIPPED: NATS is not reachable at 127.0.0.1:4222");
        return;
    }
    let nats = NatsOptions {
        // Process id and time: a stream left by an earlier run whose id was the same is
        // not picked up.
        namespace: format!(
            "rewater.opttest.p{}t{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        ),
        answer_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let o = WorkerOptions {
                nats: nats.clone(),
                batch: 1,
                stop: stop.clone(),
                idle_exit: Some(Duration::from_secs(120)),
            };
            let (p, ready_tx) = (problem(), ready_tx.clone());
            std::thread::spawn(move || {
                let r = run_worker(&p, &o, &mut |n| {
                    if n == 0 {
                        let _ = ready_tx.send(Ok(()));
                    }
                });
                // A worker that fails to connect says why, rather than the test timing out.
                if let Err(e) = &r {
                    let _ = ready_tx.send(Err(e.to_string()));
                }
                r
            })
        })
        .collect();
    // Both pulling before the study starts: a worker still starting while the other takes
    // every job (seen under load) would prove nothing about two.
    for _ in 0..2 {
        let failure = match ready.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => format!("a worker failed on NATS JetStream at 127.0.0.1:4222: {e}"),
            Err(e) => format!("a worker did not connect to NATS within 60 s: {e}"),
        };
        // Stop the other worker and leave no stream behind.
        stop.store(true, Ordering::Relaxed);
        let _ = delete_stream(&nats);
        panic!("{failure}");
    }
    let p = problem();
    let remote = NatsEvaluator::connect(nats.clone()).unwrap();
    let got = search(&p, &remote, &RunOptions::default(), &mut |_| {}).unwrap();
    stop.store(true, Ordering::Relaxed);
    let stats: Vec<_> = workers
        .into_iter()
        .map(|w| w.join().unwrap().unwrap())
        .collect();
    let _ = delete_stream(&nats);
    let local = search(&p, &Serial, &RunOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(got, local);
    assert_eq!(
        stats.iter().map(|s| s.jobs).sum::<usize>(),
        local.archive.len()
    );
    assert!(
        stats.iter().all(|s| s.jobs > 0 && s.rejected == 0),
        "both workers worked: {stats:?}"
    );
}
