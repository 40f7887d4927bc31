//! `rewater-bench`: input generators of any size and the benchmarks recorded in
//! docs/benchmarks.md. Run in release mode:
//!
//! ```text
//! cargo run --release -p rewater-bench -- gen --plants 50 --ponds 30 --users 2000 --years 10 --out /tmp/big
//! cargo run --release -p rewater-bench -- engine --plants 50 --ponds 30 --users 2000 --years 10
//! cargo run --release -p rewater-bench -- classify --samples 100000
//! ```

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use rewater_model::synthetic::{synthetic_model, SplitMix, SyntheticSpec};
use rewater_standards::evaluate::ClassifyOptions;
use rewater_standards::input::samples_from_csv;
use rewater_standards::Standards;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Copy)]
struct Size {
    #[arg(long, default_value_t = 50)]
    plants: usize,
    #[arg(long, default_value_t = 30)]
    ponds: usize,
    #[arg(long, default_value_t = 2000)]
    users: usize,
    #[arg(long, default_value_t = 10)]
    years: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl Size {
    fn spec(self) -> SyntheticSpec {
        SyntheticSpec {
            plants: self.plants,
            ponds: self.ponds,
            users: self.users,
            years: self.years,
            seed: self.seed,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic model file (model.toml) of the given size to DIR.
    Gen {
        #[command(flatten)]
        size: Size,
        #[arg(long)]
        out: PathBuf,
    },
    /// Time the engine on a synthetic model (in process, no daily output).
    Engine {
        #[command(flatten)]
        size: Size,
        /// Run this model file instead of generating one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Time HJ 212 stream decoding + segment parsing + factor extraction of N frames, one core.
    Hj212 {
        #[arg(long, default_value_t = 1_000_000)]
        frames: usize,
    },
    /// Time durable ingest into a SQLite store file, in batches, without the network.
    Store {
        #[arg(long, default_value_t = 100_000)]
        uploads: usize,
        #[arg(long, default_value_t = 500)]
        batch: usize,
        #[arg(long)]
        db: PathBuf,
    },
    /// Time a combined-sewer overflow run of a generated case (or write it, or a SWMM
    /// file of the same kind, with --write).
    Overflow {
        #[arg(long, default_value_t = 100)]
        subcatchments: usize,
        #[arg(long, default_value_t = 10)]
        years: u32,
        /// Internal step, s.
        #[arg(long, default_value_t = 300)]
        step_s: i64,
        /// Write the case (or with --swmm the .inp) and its rain file here; do not run.
        #[arg(long)]
        write: Option<PathBuf>,
        /// Generate a SWMM .inp instead of a native case.
        #[arg(long)]
        swmm: bool,
    },
    /// Time CSV parsing plus GB 3838 classification of N generated samples.
    Classify {
        #[arg(long, default_value_t = 100_000)]
        samples: usize,
    },
    /// Time the series API: one site with a year of data every `step_min` minutes (six
    /// factors) in a SQLite file, then `requests` one-year downsampled series requests over
    /// HTTP to the real router; prints latency percentiles.
    Web {
        #[arg(long, default_value_t = 5)]
        step_min: i64,
        #[arg(long, default_value_t = 300)]
        requests: usize,
        #[arg(long, default_value = "target/bench-web.sqlite")]
        db: String,
    },
    /// Honest data loggers' ack rate with and without an attack (garbage at a byte rate and
    /// poisoned uploads), and the store's growth per minute of the attack alone. Start the
    /// gateway with `rewater serve --sim-devices N+1` first (device N poisons).
    Attack {
        #[arg(long, default_value = "127.0.0.1:9212")]
        to: String,
        /// The gateway's SQLite file, to measure its growth.
        #[arg(long)]
        db: Option<PathBuf>,
        /// The simulated devices' password (printed by `rewater serve`).
        #[arg(long, env = "REWATER_DEVICE_PASSWORD")]
        password: String,
        /// Honest devices, each sending one upload every `interval_ms` and waiting for its ack.
        #[arg(long, default_value_t = 200)]
        devices: usize,
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        #[arg(long, default_value_t = 1_000_000)]
        garbage_bytes_per_s: usize,
    },
    /// Time the scorecard (run by district and year, statistics, target sets, text) on the
    /// Beijing-style example with its statistics table, a model file, or a synthetic model.
    Indicators {
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        stats: Option<PathBuf>,
        /// A synthetic model of --plants/--ponds/--users/--years instead of a file.
        #[arg(long)]
        synthetic: bool,
        #[command(flatten)]
        size: Size,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// Time the four reports of the Beijing-style example (HTML, and PDF with --pdf).
    Reports {
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long, default_value = "/tmp/rewater-bench-reports")]
        out: PathBuf,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        #[arg(long)]
        pdf: bool,
    },
    /// The outfall ledger (issue 16): generated ledger import, backward trace, ledger pages.
    Outfalls {
        #[arg(long, default_value_t = 10_000)]
        outfalls: usize,
        #[arg(long, default_value_t = 5_000)]
        reaches: usize,
        #[arg(long, default_value_t = 60)]
        requests: usize,
        #[arg(long, default_value = "target/bench-outfalls")]
        dir: PathBuf,
    },
    /// rewater on EPA SWMM's example files: agreement and time, beside SWMM (issue 14).
    SwmmFiles(swmm::SwmmFilesArgs),
    /// Money (issue 17): a generated city year — funding, subsidies, compensation, fees.
    Money {
        #[arg(long, default_value_t = 100)]
        sections: usize,
        #[arg(long, default_value_t = 500)]
        projects: usize,
        /// Rural sewage stations (plus a fifth as many pipes and a third as many village
        /// water-supply stations).
        #[arg(long, default_value_t = 1000)]
        stations: usize,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        #[arg(long, default_value = "target/bench-money")]
        dir: PathBuf,
        /// Users of the synthetic region whose cost per plant and per supply route is timed
        /// (a fortieth as many plants, a sixty-sixth as many ponds, one year; 0: skip).
        #[arg(long, default_value_t = 2000)]
        cost_users: usize,
    },
}

mod attack;
mod indicators;
mod swmm;
// issue 15 part B (h-tasks)
mod reports;
// issue 16: the outfall ledger benchmark.
mod outfalls;
// issue 17 (h-money)
mod money;

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Gen { size, out } => gen_model(size, &out)?,
        Command::Overflow {
            subcatchments,
            years,
            step_s,
            write,
            swmm,
        } => overflow_bench(subcatchments, years, step_s, write, swmm)?,
        Command::Engine { size, model: file } => engine_bench(size, file)?,
        Command::Hj212 { frames } => hj212_bench(frames)?,
        Command::Store { uploads, batch, db } => store_bench(uploads, batch, &db)?,
        Command::Web {
            step_min,
            requests,
            db,
        } => web_bench(step_min, requests, &db)?,
        Command::Attack {
            to,
            db,
            password,
            devices,
            interval_ms,
            seconds,
            garbage_bytes_per_s,
        } => attack::run(attack::AttackOptions {
            to,
            db,
            password,
            devices,
            interval: std::time::Duration::from_millis(interval_ms.max(1)),
            seconds,
            garbage_bytes_per_s,
        })?,
        Command::Classify { samples } => classify_bench(samples)?,
        Command::Indicators {
            model,
            stats,
            synthetic,
            size,
            repeat,
        } => indicators::run(indicators::IndicatorsBench {
            model,
            stats,
            synthetic: synthetic.then(|| size.spec()),
            repeat,
        })?,
        Command::Reports {
            model,
            out,
            repeat,
            pdf,
        } => reports::run(reports::ReportOptions {
            model: model.unwrap_or_else(reports::default_model),
            out,
            repeat,
            pdf,
        })?,
        Command::Outfalls {
            outfalls: n,
            reaches,
            requests,
            dir,
        } => outfalls::run(n, reaches, requests, &dir)?,
        Command::SwmmFiles(a) => swmm::run(a)?,
        Command::Money {
            sections,
            projects,
            stations,
            repeat,
            dir,
            cost_users,
        } => money::run(
            money::MoneyBench {
                sections,
                projects,
                stations,
                repeat,
                cost_users,
            },
            &dir,
        )?,
    }
    Ok(())
}

/// Writes a synthetic model file of the given size to `out`/model.toml.
fn gen_model(size: Size, out: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let model = synthetic_model(&size.spec());
    let path = out.join("model.toml");
    std::fs::write(&path, toml::to_string(&model)?)
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "wrote {} ({} plants, {} ponds, {} users, {} links, {} days)",
        path.display(),
        model.plants.len(),
        model.ponds.len(),
        model.users.len(),
        model.links.len(),
        model.model.days.unwrap_or(0)
    );
    Ok(())
}

/// Times the engine on a synthetic model (or `file`), in process, no daily output.
fn engine_bench(size: Size, file: Option<PathBuf>) -> Result<()> {
    let t0 = Instant::now();
    let standards = Standards::builtin();
    let region = match file {
        Some(path) => rewater_model::load(&path, &standards).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => {
            let model = synthetic_model(&size.spec());
            let text = toml::to_string(&model)?;
            rewater_model::resolve(
                &model,
                &text,
                "synthetic.toml",
                std::path::Path::new("."),
                &standards,
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?
        }
    };
    let t_build = t0.elapsed();
    let mut sim = rewater_engine::Simulation::new(&region)?;
    let t1 = Instant::now();
    let summary = sim.run(None, &mut |_, _| {})?;
    let t_run = t1.elapsed();
    let report = serde_json::json!({
        "plants": size.plants, "ponds": size.ponds, "users": size.users, "years": size.years,
        "nodes": region.nodes.len(), "links": region.links.len(), "arcs": sim.arc_count(),
        "days": region.days, "solver": summary.solver,
        "setup_s": t_build.as_secs_f64(), "run_s": t_run.as_secs_f64(),
        "solves": summary.stats.solves, "pivots": summary.stats.pivots,
        "mean_solve_ms": 1000.0 * summary.stats.solve_seconds / summary.stats.solves.max(1) as f64,
        "mean_day_ms": 1000.0 * t_run.as_secs_f64() / region.days as f64,
        "days_quality_not_converged": summary.stats.days_quality_not_converged,
        "mass_balance_relative": summary.mass_balance_relative,
        "utilisation_rate": summary.utilisation_rate,
        "peak_rss_mib": peak_rss_mib(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Times HJ 212 stream decoding, segment parsing and factor extraction of `frames` frames.
fn hj212_bench(frames: usize) -> Result<()> {
    use rewater_hj212::encode::{Upload, UploadFactor};
    use rewater_hj212::{DataTime, Decoder, Event, Options, Segment, Strictness};
    let mut rng = SplitMix(7);
    let mut stream = Vec::new();
    let codes = ["w01018", "w21003", "w21011", "w21001", "w01001", "w00000"];
    for i in 0..frames {
        let up = Upload {
            qn: format!("20250601{:09}", i % 1_000_000_000),
            st: "32".into(),
            cn: "2051".into(),
            pw: "123456".into(),
            mn: format!("MN{:06}", i % 10_000),
            ack: true,
            data_time: DataTime::from_wall_seconds(1_748_736_000 + 600 * (i as i64 / 10_000)),
            factors: codes
                .iter()
                .map(|c| UploadFactor {
                    code: c.to_string(),
                    values: vec![
                        (
                            "Avg".into(),
                            (rng.uniform(0.0, 100.0) * 1000.0).round() / 1000.0,
                        ),
                        ("Min".into(), 1.5),
                        ("Max".into(), 99.25),
                    ],
                    flag: Some('N'),
                })
                .collect(),
        };
        stream.extend_from_slice(up.frame().as_bytes());
    }
    let bytes = stream.len();
    let t0 = Instant::now();
    let mut d = Decoder::new(Options::strict());
    let (mut n, mut values) = (0usize, 0usize);
    // Feed in TCP-sized reads.
    for chunk in stream.chunks(16 * 1024) {
        d.push(chunk);
        while let Some(e) = d.next_event() {
            if let Event::Frame(f) = e {
                let seg = Segment::from_frame(f, Strictness::Strict)?;
                values += seg.factors().iter().filter_map(|f| f.number("Avg")).count();
                n += 1;
            }
        }
    }
    let t = t0.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "frames": n, "bytes": bytes, "values": values, "seconds": t, "frames_per_s": n as f64 / t, "mb_per_s": bytes as f64 / t / 1e6,
        }))?
    );
    Ok(())
}

/// Times durable ingest of `uploads` uploads into a SQLite file, in batches of `batch`.
fn store_bench(uploads: usize, batch: usize, db: &std::path::Path) -> Result<()> {
    use rewater_store::prelude::*;
    use rewater_store::{SqliteStore, Upload};
    let _ = std::fs::remove_file(db);
    let mut store = SqliteStore::open(db)?;
    let mut rng = SplitMix(3);
    let all: Vec<Upload> = (0..uploads)
        .map(|i| {
            let mut u = minute_upload(
                &format!("RWSIM{:011}", i % 10_000),
                1_748_736_000 + 60 * (i / 10_000) as i64,
                &mut rng,
                (0.0, 50.0),
            );
            u.raw = "x".repeat(450);
            u
        })
        .collect();
    let t0 = Instant::now();
    let mut worst = 0f64;
    for chunk in all.chunks(batch) {
        let t = Instant::now();
        store.ingest(chunk)?;
        worst = worst.max(t.elapsed().as_secs_f64());
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "uploads": uploads, "batch": batch, "seconds": secs,
            "uploads_per_s": uploads as f64 / secs, "readings_per_s": 6.0 * uploads as f64 / secs,
            "worst_batch_ms": worst * 1000.0,
        }))?
    );
    Ok(())
}

/// Times CSV parsing plus GB 3838 classification of `samples` generated samples.
fn classify_bench(samples: usize) -> Result<()> {
    let mut rng = SplitMix(42);
    let mut csv = String::from("id,water_body,ph,do,codmn,cod,bod5,nh3n,tp,cu,zn,hg[mg/L]\n");
    for i in 0..samples {
        let body = if i % 3 == 0 { "lake" } else { "river" };
        csv.push_str(&format!(
            "S{i},{body},{:.2},{:.2},{:.2},{:.1},{:.2},{:.3},{:.3},{:.4},{:.4},{:.6}\n",
            rng.uniform(6.2, 8.8),
            rng.uniform(1.0, 9.0),
            rng.uniform(1.0, 14.0),
            rng.uniform(8.0, 45.0),
            rng.uniform(1.0, 11.0),
            rng.uniform(0.05, 2.5),
            rng.uniform(0.01, 0.5),
            rng.uniform(0.001, 1.2),
            rng.uniform(0.01, 2.1),
            rng.uniform(0.00001, 0.0012),
        ));
    }
    let standards = Standards::builtin();
    let std = standards.get("GB3838-2002").context("GB3838")?;
    let t0 = Instant::now();
    let parsed = samples_from_csv(csv.as_bytes(), "bench.csv")?;
    let t_parse = t0.elapsed();
    let t1 = Instant::now();
    let mut classes = [0usize; 6];
    for s in &parsed {
        let c =
            rewater_standards::classify(std, &s.readings, &s.context, &ClassifyOptions::default())?;
        classes[c.class.unwrap_or(5)] += 1;
    }
    let t_classify = t1.elapsed();
    let report = serde_json::json!({
        "samples": samples, "parse_s": t_parse.as_secs_f64(), "classify_s": t_classify.as_secs_f64(),
        "total_s": (t_parse + t_classify).as_secs_f64(),
        "samples_per_s": samples as f64 / (t_parse + t_classify).as_secs_f64(),
        "class_counts_I_to_V_and_worse": classes,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn overflow_bench(
    subcatchments: usize,
    years: u32,
    step_s: i64,
    write: Option<PathBuf>,
    swmm: bool,
) -> Result<()> {
    use rewater_overflow::synthetic;
    let dir = write.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("rewater-overflow-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    let (file, rain_name, text, rain) = if swmm {
        let (t, r) = synthetic::swmm_inp(subcatchments, years, 11);
        ("case.inp", "rain.dat", t, r)
    } else {
        let (t, r) = synthetic::case(subcatchments, years, 11);
        ("case.toml", "rain.csv", t, r)
    };
    let text = text.replace("step_s = 300", &format!("step_s = {step_s}"));
    let text = if swmm {
        text
    } else {
        text.replacen(
            "step_s",
            &format!(
                "start = \"2011-01-01\"\nend = \"{}-01-01\"\nstep_s",
                2011 + years
            ),
            1,
        )
    };
    std::fs::write(dir.join(file), text)?;
    std::fs::write(dir.join(rain_name), rain)?;
    if write.is_some() {
        println!(
            "wrote {} and {}",
            dir.join(file).display(),
            dir.join(rain_name).display()
        );
        return Ok(());
    }
    let t0 = Instant::now();
    let system = rewater_overflow::load(&dir.join(file)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let t_load = t0.elapsed();
    let t1 = Instant::now();
    let runoff = rewater_overflow::route::compute_runoff(&system);
    let t_runoff = t1.elapsed();
    if std::env::var_os("REWATER_BENCH_VERBOSE").is_some() {
        let stored: usize = runoff.per_node.iter().map(|s| s.stored_steps()).sum();
        eprintln!("node-steps with runoff: {stored}");
    }
    let t2 = Instant::now();
    let report = rewater_overflow::results::simulate_with(&system, &runoff);
    let t_route = t2.elapsed();
    println!(
        "{} subcatchments, {} nodes, {:.1} years, {} steps of {} s",
        system.subcatchments.len(),
        system.nodes.len(),
        report.years,
        system.clock.steps,
        system.clock.step_s
    );
    println!(
        "load {:.3} s, runoff {:.3} s, routing + statistics {:.3} s, total {:.3} s",
        t_load.as_secs_f64(),
        t_runoff.as_secs_f64(),
        t_route.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    println!(
        "overflow {:.0} m³/yr, {:.1} events/yr, capture {:.1} %, continuity {:.2e} %, peak RSS {:.0} MiB",
        report.summary.overflow_m3_per_year,
        report.summary.overflow_events_per_year,
        report.summary.capture_pct,
        report.balance.routing_continuity_error_pct,
        peak_rss_mib().unwrap_or(0.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A minute-data upload (CN 2051) of six factors with values uniform in `range`.
fn minute_upload(
    mn: &str,
    data_time: i64,
    rng: &mut SplitMix,
    range: (f64, f64),
) -> rewater_store::Upload {
    rewater_store::Upload {
        mn: mn.into(),
        cn: "2051".into(),
        data_time,
        pno: 1,
        received_at_ms: 0,
        peer: "127.0.0.1:1".into(),
        raw: String::new(),
        readings: ["w01018", "w21003", "w21011", "w21001", "w01001", "w00000"]
            .iter()
            .map(|f| rewater_store::FactorReading {
                factor: f.to_string(),
                value: Some(rng.uniform(range.0, range.1)),
                min: None,
                max: None,
                cou: None,
                flag: Some("N".into()),
            })
            .collect(),
    }
}

/// One GET over a fresh connection; returns (status, body length).
fn http_get(addr: &str, path: &str, token: &str) -> Result<(u16, usize)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, buf.len()))
}

fn web_bench(step_min: i64, requests: usize, db: &str) -> Result<()> {
    use rewater_store::prelude::*;
    use rewater_store::{Device, Site, SqliteStore, Upload};
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{suffix}"));
    }
    let mut store = SqliteStore::open(std::path::Path::new(db))?;
    store.put_site(&Site {
        id: "plant-north-outlet".into(),
        name: "North reclamation plant outlet".into(),
        kind: "plant_outlet".into(),
        standard: Some("DB11/890-2012:new_B".into()),
        district: "north".into(),
        location: Some([116.35, 40.05]),
        model_node: Some("plant-north".into()),
    })?;
    store.put_device(&Device {
        mn: "RWDEMO0000000001".into(),
        password_hash: rewater_store::hash_device_password("123456"),
        site_id: "plant-north-outlet".into(),
        lenient: true,
        accept_modbus_crc: false,
        allowed_peers: Vec::new(),
        disabled: false,
    })?;
    // 2025 in Beijing wall seconds.
    let t0 = 1_735_689_600i64;
    let n = (365 * 24 * 60 / step_min) as usize;
    let mut rng = SplitMix(5);
    let t_ingest = Instant::now();
    let uploads: Vec<Upload> = (0..n)
        .map(|i| {
            minute_upload(
                "RWDEMO0000000001",
                t0 + i as i64 * step_min * 60,
                &mut rng,
                (5.0, 40.0),
            )
        })
        .collect();
    for chunk in uploads.chunks(2000) {
        store.ingest(chunk)?;
    }
    let ingest_s = t_ingest.elapsed().as_secs_f64();
    let api_store = SqliteStore::open(std::path::Path::new(db))?;
    let state = rewater_api::ApiState::new(
        Box::new(api_store),
        [("T".to_string(), "bench".to_string())]
            .into_iter()
            .collect(),
    );
    let rt = tokio::runtime::Runtime::new()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?.to_string();
    rt.spawn(async move {
        let _ = axum::serve(listener, rewater_api::router(state)).await;
    });
    let paths = [
        // What the site page asks for: the whole record in at most 500 buckets.
        "/api/sites/plant-north-outlet/series?factor=cod&points=500".to_string(),
        "/api/sites/plant-north-outlet/series?factor=nh3n&from=2025-01-01&to=2026-01-01&points=1000"
            .to_string(),
        "/api/sites/plant-north-outlet/series?factor=cod&from=2025-01-01&to=2026-01-01&bucket=86400"
            .to_string(),
    ];
    for p in &paths {
        let (status, _) = http_get(&addr, p, "T")?;
        anyhow::ensure!(status == 200, "{p}: HTTP {status}");
    }
    let mut times = Vec::with_capacity(requests);
    let mut bytes = 0;
    for i in 0..requests {
        let t = Instant::now();
        let (status, len) = http_get(&addr, &paths[i % paths.len()], "T")?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status == 200, "HTTP {status}");
        bytes += len;
    }
    times.sort_by(f64::total_cmp);
    let q = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "readings": n * 6, "ingest_s": ingest_s, "requests": requests,
            "mean_response_bytes": bytes / requests.max(1),
            "p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": q(1.0),
        }))?
    );
    Ok(())
}
