//! The attack benchmark of issue 12: honest data loggers each send an upload every interval
//! (like real loggers, not as fast as they can) and wait for each 9014, while (phase 2) one
//! client streams garbage at a set byte rate and another, a registered device, sends poisoned
//! uploads as fast as the gateway takes them (values of 1e306 / −1e306 and 1.7e308 in one
//! hour, NaN, negative concentrations, 500-character flags, a NUL byte, DataTimes from 1900 to
//! 9999, unknown MNs). Phase 3 runs the attack alone, so that the store's growth (file + WAL)
//! per minute is the attack's, not the honest devices' data. Prints the honest ack rate and
//! ack latency in phases 1 and 2. Client side only: start the gateway with
//! `rewater serve --sim-devices N+1`.

use anyhow::{Context, Result};
use rewater_hj212::encode::{Upload, UploadFactor};
use rewater_hj212::encode_frame;
use rewater_hj212::{DataTime, Decoder, Event, Options};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where to attack and for how long.
pub struct AttackOptions {
    pub to: String,
    /// The SQLite file of the gateway under attack (its size, with -wal, is reported).
    pub db: Option<PathBuf>,
    pub password: String,
    /// Honest devices (the simulated MNs RWSIM…0 … N−1); the last registered one poisons.
    pub devices: usize,
    /// Each honest device's time between uploads.
    pub interval: Duration,
    pub seconds: u64,
    pub garbage_bytes_per_s: usize,
}

fn mn(i: usize) -> String {
    format!("RWSIM{i:011}")
}

fn minute_upload(mn: &str, pw: &str, k: i64, start: i64) -> Upload {
    Upload {
        qn: format!("{}", 20250601000000000i64 + k % 1000),
        st: "32".into(),
        cn: "2051".into(),
        pw: pw.into(),
        mn: mn.into(),
        ack: true,
        data_time: DataTime::from_wall_seconds(start + 60 * k),
        factors: vec![UploadFactor {
            code: "w01018".into(),
            values: vec![("Avg".into(), 20.0 + (k % 7) as f64)],
            flag: Some('N'),
        }],
    }
}

fn wait_ack(s: &mut TcpStream, d: &mut Decoder, buf: &mut [u8]) -> bool {
    loop {
        let n = match s.read(buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        d.push(&buf[..n]);
        while let Some(e) = d.next_event() {
            if let Event::Frame(f) = e {
                if f.segment().contains("CN=9014") {
                    return true;
                }
            }
        }
    }
}

/// What the honest devices saw in one phase.
#[derive(Default)]
struct Honest {
    sent: AtomicU64,
    acks: AtomicU64,
    /// Ack latencies in microseconds.
    latencies_us: std::sync::Mutex<Vec<u64>>,
}

/// One honest device until `stop`: an upload every interval, each waiting for its ack.
fn honest(o: &AttackOptions, i: usize, start: i64, stop: &AtomicBool, seen: &Honest) {
    let Ok(mut s) = TcpStream::connect(&o.to) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut d = Decoder::new(Options::lenient());
    let mut buf = vec![0u8; 4096];
    let mut lat = Vec::new();
    // Spread the devices over the interval.
    let mut next = Instant::now() + o.interval.mul_f64(i as f64 / o.devices.max(1) as f64);
    let mut k = 0i64;
    while !stop.load(Ordering::Relaxed) {
        if let Some(w) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(w);
        }
        next += o.interval;
        let f = minute_upload(&mn(i), &o.password, k, start).frame();
        let t = Instant::now();
        seen.sent.fetch_add(1, Ordering::Relaxed);
        if s.write_all(f.as_bytes()).is_err() || !wait_ack(&mut s, &mut d, &mut buf) {
            break;
        }
        lat.push(t.elapsed().as_micros() as u64);
        seen.acks.fetch_add(1, Ordering::Relaxed);
        k += 1;
    }
    if let Ok(mut l) = seen.latencies_us.lock() {
        l.extend(lat);
    }
}

/// Garbage at a byte rate, reconnecting whenever the gateway closes the connection.
fn garbage(o: &AttackOptions, stop: &AtomicBool) {
    let chunk: Vec<u8> = b"##9999".iter().copied().cycle().take(16 * 1024).collect();
    let per_chunk = Duration::from_secs_f64(chunk.len() as f64 / o.garbage_bytes_per_s as f64);
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut s) = TcpStream::connect(&o.to) else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        while !stop.load(Ordering::Relaxed) && s.write_all(&chunk).is_ok() {
            next += per_chunk;
            if let Some(d) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(d);
            }
        }
    }
}

/// The poisoned uploads, cycled.
fn poison_frames(o: &AttackOptions, k: i64) -> Vec<String> {
    let me = mn(o.devices);
    let pw = &o.password;
    let base = minute_upload(&me, pw, k, 1_748_736_000);
    let with = |v: f64| {
        let mut u = base.clone();
        u.factors[0].values[0].1 = v;
        u.frame()
    };
    let raw = |cp: &str, dt: &str| {
        encode_frame(&format!(
            "QN=20250601000000{:03};ST=32;CN=2051;PW={pw};MN={me};Flag=5;CP=&&DataTime={dt};{cp}&&",
            k % 1000
        ))
    };
    let month = 1900 + (k % 200);
    vec![
        with(1e306),
        with(-1e306),
        with(1.7e308),
        with(1.7e308),
        with(-5.0),
        raw("w01018-Avg=NaN,w01018-Flag=N", "20250601000100"),
        raw("w01018-Avg=inf,w01018-Flag=N", "20250601000200"),
        raw(
            &format!("w01018-Avg=1,w01018-Flag={}", "N".repeat(500)),
            "20250601000300",
        ),
        raw("w01018-Avg=1\u{0},w01018-Flag=N", "20250601000400"),
        raw(
            "w01018-Avg=1,w01018-Flag=N",
            &format!("{month:04}0101000000"),
        ),
        raw("w01018-Avg=1,w01018-Flag=N", "99991231235900"),
        minute_upload("RWUNKNOWN0000001", pw, k, 1_748_736_000).frame(),
    ]
}

/// Poisoned uploads as fast as the gateway takes them (replies are read and dropped).
fn poisoner(o: &AttackOptions, stop: &AtomicBool) {
    let mut k = 0i64;
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut s) = TcpStream::connect(&o.to) else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
        let mut sink = [0u8; 4096];
        while !stop.load(Ordering::Relaxed) {
            let frames = poison_frames(o, k).concat();
            if s.write_all(frames.as_bytes()).is_err() {
                break;
            }
            let _ = s.read(&mut sink);
            k += 1;
        }
    }
}

fn store_bytes(db: &Path) -> u64 {
    let len = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    len(db.to_path_buf()) + len(wal)
}

/// One phase's figures.
struct Phase {
    acks_per_s: f64,
    sent: u64,
    acks: u64,
    p50_ms: f64,
    p99_ms: f64,
    growth_bytes: u64,
}

/// One phase for `o.seconds`: honest devices if `honest`, the attackers if `attack`.
fn phase(o: &Arc<AttackOptions>, honest_on: bool, attack: bool, start: i64) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Honest::default());
    let before = o.db.as_deref().map(store_bytes).unwrap_or(0);
    let mut threads = Vec::new();
    for i in (0..o.devices).filter(|_| honest_on) {
        let (o, stop, seen) = (o.clone(), stop.clone(), seen.clone());
        threads.push(std::thread::spawn(move || {
            honest(&o, i, start, &stop, &seen)
        }));
    }
    if attack {
        let (o1, s1) = (o.clone(), stop.clone());
        threads.push(std::thread::spawn(move || garbage(&o1, &s1)));
        let (o2, s2) = (o.clone(), stop.clone());
        threads.push(std::thread::spawn(move || poisoner(&o2, &s2)));
    }
    std::thread::sleep(Duration::from_secs(o.seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let after = o.db.as_deref().map(store_bytes).unwrap_or(0);
    let mut lat = seen
        .latencies_us
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    lat.sort_unstable();
    let q = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(f64::NAN, |us| *us as f64 / 1000.0)
    };
    let acks = seen.acks.load(Ordering::Relaxed);
    Phase {
        acks_per_s: acks as f64 / o.seconds as f64,
        sent: seen.sent.load(Ordering::Relaxed),
        acks,
        p50_ms: q(0.5),
        p99_ms: q(0.99),
        growth_bytes: after.saturating_sub(before),
    }
}

/// Runs the three phases and prints a JSON report.
pub fn run(o: AttackOptions) -> Result<()> {
    TcpStream::connect(&o.to).with_context(|| format!("connecting to {}", o.to))?;
    let o = Arc::new(o);
    // DataTimes must lie in the gateway's window (the last 3 years, Beijing wall clock):
    // each phase starts far enough back for its minutes not to reach the present.
    let now_wall = rewater_time::Zone::default().now_wall_seconds();
    let calm = phase(&o, true, false, now_wall - 800 * 86_400);
    let attacked = phase(&o, true, true, now_wall - 400 * 86_400);
    let alone = phase(&o, false, true, now_wall - 200 * 86_400);
    let minutes = o.seconds as f64 / 60.0;
    let report = serde_json::json!({
        "honest_devices": o.devices,
        "honest_interval_ms": o.interval.as_millis() as u64,
        "seconds_per_phase": o.seconds,
        "garbage_bytes_per_s": o.garbage_bytes_per_s,
        "calm": {"sent": calm.sent, "acks": calm.acks, "acks_per_s": calm.acks_per_s,
                 "ack_p50_ms": calm.p50_ms, "ack_p99_ms": calm.p99_ms,
                 "store_growth_mb": calm.growth_bytes as f64 / 1e6},
        "under_attack": {"sent": attacked.sent, "acks": attacked.acks, "acks_per_s": attacked.acks_per_s,
                 "ack_p50_ms": attacked.p50_ms, "ack_p99_ms": attacked.p99_ms,
                 "store_growth_mb": attacked.growth_bytes as f64 / 1e6},
        "ack_rate_kept": attacked.acks_per_s / calm.acks_per_s.max(1e-9),
        "attack_alone_store_growth_mb": alone.growth_bytes as f64 / 1e6,
        "attack_alone_store_growth_mb_per_min": alone.growth_bytes as f64 / 1e6 / minutes,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
