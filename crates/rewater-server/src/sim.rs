//! Simulated HJ 212 data loggers (模拟数采仪): `devices` connections each sending `frames`
//! uploads of plausible plant-outlet values, measuring the time to each acknowledgement. The
//! load generator behind `rewater hj212 sim` and the monitoring benchmarks.

use crate::demo::{demo_sites, sim_mn};
use rewater_hj212::encode::{Upload, UploadFactor};
use rewater_hj212::{DataTime, Decoder, Event, Options};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn io_err(m: &str) -> std::io::Error {
    std::io::Error::other(m.to_string())
}

/// Options of the simulator.
pub struct SimOptions {
    pub to: String,
    pub devices: usize,
    pub frames: usize,
    pub interval: Duration,
    pub cn: String,
    pub ack: bool,
    pub start: DataTime,
    /// Uploads per device left out of the latency statistics (connection warm-up).
    pub warmup: usize,
    /// The data loggers' password (as registered, e.g. printed by `rewater serve --demo`).
    pub password: String,
    /// Also report the latencies by the second the uploads were sent in (where a tail comes
    /// from: a burst of the gateway's or the store's work shows as a few slow seconds).
    pub by_second: bool,
}

/// Results of a simulation.
#[derive(Debug, Default, serde::Serialize)]
pub struct SimReport {
    pub devices: usize,
    pub sent: u64,
    pub acked: u64,
    pub readings_sent: u64,
    pub failed_connections: u64,
    pub seconds: f64,
    pub readings_per_s: f64,
    pub ack_latency_ms_p50: f64,
    pub ack_latency_ms_p99: f64,
    pub ack_latency_ms_max: f64,
    /// With `SimOptions::by_second`: one entry per second of the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_second: Vec<SecondLatency>,
}

/// The acknowledgements of the uploads sent in one second of a simulation.
#[derive(Debug, Default, serde::Serialize)]
pub struct SecondLatency {
    /// Seconds from the start of the simulation.
    pub second: u64,
    pub acked: u64,
    pub ack_latency_ms_p50: f64,
    pub ack_latency_ms_p99: f64,
    pub ack_latency_ms_max: f64,
}

/// The value at fraction `p` of sorted `v` (0 when empty).
fn percentile(v: &[f64], p: f64) -> f64 {
    v.get(((v.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// p50, p99 and maximum of latencies `v` (sorted here; zeros when empty).
fn summary(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let max = v.last().copied().unwrap_or(0.0);
    (percentile(&v, 0.5), percentile(&v, 0.99), max)
}

/// Latencies (second sent, ms) grouped by second.
fn by_second(lat: &[(u64, f64)]) -> Vec<SecondLatency> {
    let mut groups: std::collections::BTreeMap<u64, Vec<f64>> = Default::default();
    for &(s, ms) in lat {
        groups.entry(s).or_default().push(ms);
    }
    groups
        .into_iter()
        .map(|(second, v)| {
            let acked = v.len() as u64;
            let (p50, p99, max) = summary(v);
            SecondLatency {
                second,
                acked,
                ack_latency_ms_p50: p50,
                ack_latency_ms_p99: p99,
                ack_latency_ms_max: max,
            }
        })
        .collect()
}

fn mn_for(i: usize, devices: usize) -> String {
    let demo = demo_sites();
    if devices <= demo.len() {
        demo[i].1.clone()
    } else {
        sim_mn(i)
    }
}

/// A plausible plant-outlet upload for device `i`, interval `k` (SplitMix-style noise).
pub fn sample_upload(
    mn: &str,
    pw: &str,
    i: usize,
    k: usize,
    cn: &str,
    ack: bool,
    t: DataTime,
) -> Upload {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (k as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut noise = || {
        x ^= x >> 31;
        x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
        (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let suffix = if cn == "2011" { "Rtd" } else { "Avg" };
    let f = |code: &str, v: f64| UploadFactor {
        code: code.into(),
        values: vec![(suffix.into(), (v * 1000.0).round() / 1000.0)],
        flag: Some('N'),
    };
    Upload {
        qn: format!("{t}{:03}", k % 1000),
        st: "32".into(),
        cn: cn.into(),
        pw: pw.into(),
        mn: mn.into(),
        ack,
        data_time: t,
        factors: vec![
            f("w01018", 22.0 + 8.0 * noise()),
            f("w21003", 0.9 + 0.6 * noise()),
            f("w21011", 0.22 + 0.1 * noise()),
            f("w21001", 10.5 + 3.0 * noise()),
            f("w01001", 7.2 + 0.4 * noise()),
            f("w00000", 1150.0 + 200.0 * noise()),
        ],
    }
}

/// Plays `devices` data loggers, each sending `frames` uploads `interval` apart.
///
/// On one thread: a logger's work between its sends is a write, a read and two timers, so
/// one thread keeps up with 10,000 loggers at one upload a second, and it spares the
/// cross-thread wake-ups (futexes, work stealing) of a multi-threaded runtime on the cores
/// the gateway and the database share (docs/benchmarks.md, issue 19).
pub fn simulate(opts: SimOptions) -> std::io::Result<SimReport> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let opts = Arc::new(opts);
        let t0 = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..opts.devices {
            let o = opts.clone();
            tasks.spawn(async move { device(i, &o, t0).await });
        }
        let mut report = SimReport {
            devices: opts.devices,
            ..Default::default()
        };
        let mut latencies = Vec::new();
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(Ok((sent, acked, readings, lat))) => {
                    report.sent += sent;
                    report.acked += acked;
                    report.readings_sent += readings;
                    latencies.extend(lat);
                }
                _ => report.failed_connections += 1,
            }
        }
        report.seconds = t0.elapsed().as_secs_f64();
        report.readings_per_s = report.readings_sent as f64 / report.seconds;
        if opts.by_second {
            report.by_second = by_second(&latencies);
        }
        (
            report.ack_latency_ms_p50,
            report.ack_latency_ms_p99,
            report.ack_latency_ms_max,
        ) = summary(latencies.into_iter().map(|(_, ms)| ms).collect());
        Ok(report)
    })
}

/// What one device did: uploads sent, acknowledged, readings sent, and (second sent, ms)
/// of each acknowledgement after the warm-up.
type DeviceRun = (u64, u64, u64, Vec<(u64, f64)>);

async fn device(i: usize, o: &SimOptions, t0: Instant) -> std::io::Result<DeviceRun> {
    let mut stream = tokio::net::TcpStream::connect(&o.to).await?;
    stream.set_nodelay(true)?;
    let mn = mn_for(i, o.devices);
    let mut decoder = Decoder::new(Options::lenient());
    let mut buf = vec![0u8; 4096];
    let (mut sent, mut acked, mut readings) = (0u64, 0u64, 0u64);
    let mut lat = Vec::with_capacity(o.frames);
    let step = if o.cn == "2061" {
        3600
    } else if o.cn == "2031" {
        86_400
    } else {
        60
    };
    // Spread the devices' first sends over one interval.
    if !o.interval.is_zero() && o.devices > 1 {
        tokio::time::sleep(o.interval.mul_f64(i as f64 / o.devices as f64)).await;
    }
    let mut next = Instant::now();
    for k in 0..o.frames {
        let t = DataTime::from_wall_seconds(o.start.wall_seconds() + step * k as i64);
        let up = sample_upload(&mn, &o.password, i, k, &o.cn, o.ack, t);
        let frame = up.frame();
        let sent_at = Instant::now();
        stream.write_all(frame.as_bytes()).await?;
        sent += 1;
        readings += up.factors.len() as u64;
        if o.ack {
            'wait: loop {
                let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
                    .await
                    .map_err(|_| io_err("no acknowledgement within 30 s"))??;
                if n == 0 {
                    return Err(io_err("gateway closed the connection"));
                }
                decoder.push(&buf[..n]);
                while let Some(ev) = decoder.next_event() {
                    if let Event::Frame(f) = ev {
                        if f.segment().contains("CN=9014") {
                            acked += 1;
                            if k >= o.warmup {
                                let second = (sent_at - t0).as_secs();
                                lat.push((second, sent_at.elapsed().as_secs_f64() * 1000.0));
                            }
                            break 'wait;
                        }
                    }
                }
            }
        }
        next += o.interval;
        tokio::time::sleep_until(next.into()).await;
    }
    Ok((sent, acked, readings, lat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_group_by_the_second_sent() {
        // Second 0: 100 latencies 1..=100 ms; second 2: one of 7 ms; none in second 1.
        let mut lat: Vec<(u64, f64)> = (1..=100).map(|ms| (0, ms as f64)).collect();
        lat.push((2, 7.0));
        let s = by_second(&lat);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].second, s[0].acked), (0, 100));
        // Index round(99 × 0.5) = 50 → 51 ms; round(99 × 0.99) = 98 → 99 ms.
        assert_eq!(s[0].ack_latency_ms_p50, 51.0);
        assert_eq!(s[0].ack_latency_ms_p99, 99.0);
        assert_eq!(s[0].ack_latency_ms_max, 100.0);
        assert_eq!(
            (s[1].second, s[1].acked, s[1].ack_latency_ms_p99),
            (2, 1, 7.0)
        );
        assert_eq!(summary(Vec::new()), (0.0, 0.0, 0.0));
    }
}
