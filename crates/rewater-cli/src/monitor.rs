//! `rewater serve` (the gateway on an embedded SQLite file with the demo sites) and
//! `rewater hj212 sim` (data loggers sending realistic water-quality data).

use anyhow::{Context, Result};
use rewater_hj212::encode::{Upload, UploadFactor};
use rewater_hj212::{DataTime, Decoder, Event, Options};
use rewater_store::prelude::*;
use rewater_store::{Device, Site};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Demo sites of the Beijing-style example region and their data loggers (illustrative).
pub fn demo_sites() -> Vec<(Site, Device)> {
    let s = |id: &str,
             name: &str,
             kind: &str,
             standard: &str,
             district: &str,
             lon: f64,
             lat: f64,
             node: &str,
             mn: &str| {
        (
            Site {
                id: id.into(),
                name: name.into(),
                kind: kind.into(),
                standard: Some(standard.into()),
                district: district.into(),
                location: Some([lon, lat]),
                model_node: Some(node.into()),
            },
            Device {
                mn: mn.into(),
                // Set when the demo is seeded (a random password, printed once).
                password_hash: String::new(),
                site_id: id.into(),
                lenient: true,
                accept_modbus_crc: false,
                allowed_peers: Vec::new(),
                disabled: false,
            },
        )
    };
    vec![
        s(
            "plant-north-outlet",
            "North reclamation plant outlet",
            "plant_outlet",
            "DB11/890-2012:new_B",
            "north",
            116.35,
            40.05,
            "plant-north",
            "RWDEMO0000000001",
        ),
        s(
            "plant-south-outlet",
            "South plant outlet",
            "plant_outlet",
            "GB18918-2002:1A",
            "south",
            116.40,
            39.98,
            "plant-south",
            "RWDEMO0000000002",
        ),
        s(
            "wetland-outlet",
            "Polishing wetland outlet",
            "wetland_outlet",
            "GB3838-2002:IV",
            "north",
            116.38,
            40.08,
            "wetland",
            "RWDEMO0000000003",
        ),
        s(
            "pond",
            "Storage lake",
            "pond",
            "GB/T18921-2019:ornamental_lake",
            "north",
            116.42,
            40.10,
            "pond",
            "RWDEMO0000000004",
        ),
        s(
            "greening-supply",
            "Greening supply point",
            "user_supply",
            "GB/T18920-2020:urban_greening",
            "north",
            116.37,
            40.06,
            "greening",
            "RWDEMO0000000005",
        ),
        s(
            "river-section",
            "River section downstream",
            "river_section",
            "GB3838-2002:IV",
            "south",
            116.45,
            39.96,
            "river",
            "RWDEMO0000000006",
        ),
    ]
}

/// MN of simulated device `i` (registered by `serve --sim-devices`).
pub fn sim_mn(i: usize) -> String {
    format!("RWSIM{i:011}")
}

/// Opens the store, seeding demo sites and `sim_devices` simulated devices.
pub fn prepare_store(db: &str, demo: bool, sim_devices: usize) -> Result<Box<dyn Store>> {
    let mut store = rewater_store::open(db).with_context(|| format!("opening store {db}"))?;
    if demo && store.sites()?.is_empty() {
        // No default password: REWATER_DEMO_DEVICE_PASSWORD if given, else a random one
        // printed once.
        let given = std::env::var("REWATER_DEMO_DEVICE_PASSWORD").ok();
        for (site, mut dev) in demo_sites() {
            let pw = given
                .clone()
                .unwrap_or_else(rewater_store::random_device_password);
            if given.is_none() {
                eprintln!("demo device {} password: {pw} (shown once)", dev.mn);
            }
            dev.password_hash = rewater_store::hash_device_password(&pw);
            store.put_site(&site)?;
            store.put_device(&dev)?;
        }
    }
    if sim_devices > 0 {
        store.put_site(&Site {
            id: "sim".into(),
            name: "Simulated devices".into(),
            kind: "plant_outlet".into(),
            standard: Some("GB18918-2002:1A".into()),
            district: "sim".into(),
            location: None,
            model_node: None,
        })?;
        for i in 0..sim_devices {
            store.put_device(&Device {
                mn: sim_mn(i),
                // The password `rewater hj212 sim` sends (simulated devices are explicit).
                password_hash: rewater_store::hash_device_password("123456"),
                site_id: "sim".into(),
                lenient: true,
                accept_modbus_crc: false,
                allowed_peers: Vec::new(),
                disabled: false,
            })?;
        }
    }
    Ok(store)
}

/// Runs the gateway until Ctrl-C or SIGTERM.
/// Downstream map of a model file's network (nodes reachable along links).
pub fn downstream_of_model(
    text: &str,
    name: &str,
) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let m = rewater_model::parse_model(text, name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut nodes: Vec<String> = Vec::new();
    nodes.extend(m.plants.iter().map(|x| x.id.clone()));
    nodes.extend(m.wetlands.iter().map(|x| x.id.clone()));
    nodes.extend(m.ponds.iter().map(|x| x.id.clone()));
    nodes.extend(m.junctions.iter().map(|x| x.id.clone()));
    nodes.extend(m.users.iter().map(|x| x.id.clone()));
    nodes.extend(m.rivers.iter().map(|x| x.id.clone()));
    nodes.extend(m.outfalls.iter().map(|x| x.id.clone()));
    let idx = |id: &str| nodes.iter().position(|n| n == id);
    let links: Vec<(usize, usize)> = m
        .links
        .iter()
        .filter_map(|l| Some((idx(&l.from)?, idx(&l.to)?)))
        .collect();
    Ok(rewater_alerts::downstream_map(&nodes, &links))
}

/// The Beijing-style example model, for the demo sites' network.
pub const DEMO_MODEL: &str = include_str!("../../../examples/beijing-district/model.toml");

/// A random API token (16 bytes from the system's random source, hex).
fn random_token() -> Result<String> {
    use std::io::Read;
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Where and how `rewater serve` runs.
pub struct ServeOptions<'a> {
    pub db: &'a str,
    pub listen: &'a str,
    pub api_listen: &'a str,
    pub api_token: Option<String>,
    pub demo: bool,
    pub sim_devices: usize,
    pub model: Option<&'a Path>,
    /// Days to keep raw frames (readings and aggregates are kept).
    pub retain_frames_days: Option<u32>,
    pub scenario_dir: Option<std::path::PathBuf>,
    pub tile_url: Option<String>,
}

/// The web platform's model view and scenarios: the regional model (`--model`, else the
/// demo model) and the bundled examples, written out so that runs read real files.
fn platform(o: &ServeOptions<'_>) -> Result<rewater_api::Platform> {
    let standards = Arc::new(rewater_standards::Standards::builtin());
    let dir = o.scenario_dir.clone().unwrap_or_else(|| {
        let db = Path::new(o.db);
        match db.parent() {
            Some(p) if !o.db.contains("://") => p.join("rewater-scenarios"),
            _ => "rewater-scenarios".into(),
        }
    });
    let bundled_dir = dir.join("bundled");
    let demo = crate::write_demo(&bundled_dir.join("beijing-district"))?;
    let mut bundled = vec![("beijing-district".to_string(), demo.clone())];
    for (name, text) in [
        (
            "lianyungang-city",
            include_str!("../../../examples/lianyungang-city/model.toml"),
        ),
        (
            "wanzhou-river-city",
            include_str!("../../../examples/wanzhou-river-city/model.toml"),
        ),
    ] {
        let d = bundled_dir.join(name);
        std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        std::fs::write(d.join("model.toml"), text)?;
        bundled.push((name.to_string(), d.join("model.toml")));
    }
    let mut scenarios =
        rewater_api::Scenarios::new(dir.clone(), bundled, standards.clone());
    // Models uploaded before a restart stay available.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let models = scenarios
            .models
            .get_mut()
            .map_err(|_| anyhow::anyhow!("lock poisoned"))?;
        for e in entries.flatten() {
            let p = e.path();
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("")
                .to_string();
            if p.extension().is_some_and(|x| x == "toml") && !name.starts_with('.') {
                models.push(rewater_api::ScenarioModel {
                    name,
                    path: p,
                    uploaded: true,
                });
            }
        }
    }
    let model_path = o.model.map(Path::to_path_buf).unwrap_or(demo);
    let region = rewater_model::load(&model_path, &standards)
        .with_context(|| format!("loading {}", model_path.display()))?;
    // Monitoring must start even if the model cannot be simulated; the map and the
    // model's indicators are then left out.
    let view = match rewater_api::ModelView::new(&region) {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            eprintln!(
                "warning: running {} for the overview failed: {e}",
                model_path.display()
            );
            None
        }
    };
    Ok(rewater_api::Platform {
        model: view,
        scenarios: Some(Arc::new(scenarios)),
        tile_url: o.tile_url.clone(),
    })
}

/// `rewater user add|list|token`.
pub fn user_cmd(cmd: crate::UserCommand) -> Result<()> {
    use crate::UserCommand;
    match cmd {
        UserCommand::Add {
            name,
            role,
            district,
            db,
        } => {
            let mut line = String::new();
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprint!("password for {name} (shown as typed; pipe it in to hide it): ");
            }
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\n', '\r']);
            rewater_api::auth::check_password(password).map_err(crate::input_err)?;
            let hash =
                rewater_api::auth::hash_password(password).map_err(|e| anyhow::anyhow!(e))?;
            let mut store =
                rewater_store::open(&db).with_context(|| format!("opening store {db}"))?;
            let existed = store.account(&name)?.is_some();
            let account = rewater_store::Account {
                name: name.clone(),
                role: role.parse().map_err(|e| crate::input_err(format!("{e}")))?,
                district,
                password_hash: hash,
                disabled: false,
                created_at_ms: rewater_api::auth::now_ms(),
            };
            store
                .put_account(&account)
                .map_err(|e| crate::input_err(e.to_string()))?;
            let action = if existed {
                "user.update"
            } else {
                "user.create"
            };
            rewater_api::audit(
                store.as_mut(),
                "cli",
                action,
                &name,
                &format!("role {}", account.role),
            );
            println!(
                "{} account {name} ({})",
                if existed { "updated" } else { "created" },
                account.role
            );
        }
        UserCommand::List { db } => {
            let mut store =
                rewater_store::open(&db).with_context(|| format!("opening store {db}"))?;
            for a in store.accounts()? {
                println!(
                    "{:<24} {:<9} {}{}",
                    a.name,
                    a.role,
                    a.district.unwrap_or_default(),
                    if a.disabled { " (disabled)" } else { "" }
                );
            }
        }
        UserCommand::Token { name, label, db } => {
            let mut store =
                rewater_store::open(&db).with_context(|| format!("opening store {db}"))?;
            if store.account(&name)?.is_none() {
                return Err(crate::input_err(format!(
                    "no account '{name}' (`rewater user add`)"
                )));
            }
            let secret = rewater_api::auth::new_secret();
            store.put_credential(&rewater_store::Credential {
                secret_hash: rewater_api::auth::secret_hash(&secret),
                account: name.clone(),
                kind: rewater_store::CredentialKind::Token,
                csrf: String::new(),
                label: label.clone(),
                created_at_ms: rewater_api::auth::now_ms(),
                expires_at_ms: None,
            })?;
            rewater_api::audit(store.as_mut(), "cli", "token.create", &name, &label);
            println!("{secret}");
        }
    }
    Ok(())
}

pub fn serve(o: ServeOptions<'_>) -> Result<()> {
    let (db, listen, demo, sim_devices, model) = (o.db, o.listen, o.demo, o.sim_devices, o.model);
    let token = match o
        .api_token
        .clone()
        .or_else(|| std::env::var("REWATER_API_TOKEN").ok())
        .filter(|t| !t.trim().is_empty())
    {
        Some(t) => t,
        None => random_token()?,
    };
    let store = prepare_store(db, demo, sim_devices)?;
    let platform = Arc::new(platform(&o)?);
    let api_store =
        rewater_store::open(db).with_context(|| format!("opening store {db} for the API"))?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        let api_listener = tokio::net::TcpListener::bind(o.api_listen).await.with_context(|| format!("listening on {}", o.api_listen))?;
        let api_addr = api_listener.local_addr()?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            let _ = tx.send(true);
        });
        let log: rewater_gateway::Log = Arc::new(|m: &str| eprintln!("{m}"));
        let db_shown = db.to_string();
                let downstream = match model {
            Some(p) => downstream_of_model(&std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?, &p.display().to_string())?,
            None if demo => downstream_of_model(DEMO_MODEL, "demo model")?,
            None => Default::default(),
        };
        let alerts = rewater_gateway::AlertSetup {
            standards: rewater_standards::Standards::builtin(),
            settings: rewater_alerts::Settings::default(),
            downstream,
            tick: std::time::Duration::from_secs(60),
        };
                        let api_store = Arc::new(std::sync::Mutex::new(api_store));
        // Keep one handle so that the store is dropped here, off the async threads (a blocking
        // database client must not be dropped inside the runtime).
        let api_store_keep = api_store.clone();
        let api_config = rewater_api::ApiConfig {
            tokens: [(token.clone(), "api".to_string())].into_iter().collect(),
            ..Default::default()
        };
        let state = rewater_api::ApiState::shared(api_store, api_config, platform);
        let mut api_shutdown = rx.clone();
        let api = tokio::spawn(async move {
            let app = rewater_api::service(state);
            let _ = axum::serve(api_listener, app)
                .with_graceful_shutdown(async move {
                    let _ = api_shutdown.wait_for(|stop| *stop).await;
                })
                .await;
        });
        let config = rewater_gateway::Config { retain_frames: o.retain_frames_days.map(|d| std::time::Duration::from_secs(d as u64 * 86_400)), ..Default::default() };
        let stats = rewater_gateway::serve(listener, store, config, rx, log, Some(alerts), move |_| {
            // One write, and no panic if whoever started us stopped reading.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = write!(
                out,
                "rewater gateway (HJ 212) listening on {addr}, store {db_shown}\nrewater API listening on http://{api_addr}/api/ (token: {token})\nrewater web platform on http://{api_addr}/ (accounts: `rewater user add`)\n"
            );
            let _ = out.flush();
        })
        .await?;
                        let _ = api.await;
        let _ = tokio::task::spawn_blocking(move || drop(api_store_keep)).await;
        use std::sync::atomic::Ordering::Relaxed;
        println!(
            "stopped: {} connections, {} frames, {} uploads stored, {} duplicates, {} rejected, {} acknowledgements; server-side ack latency p50 ≤ {} ms, p99 ≤ {} ms",
            stats.connections.load(Relaxed),
            stats.frames.load(Relaxed),
            stats.stored.load(Relaxed),
            stats.duplicates.load(Relaxed),
            stats.rejected.load(Relaxed),
            stats.acks.load(Relaxed),
            stats.ack_latency.quantile_ms(0.5),
            stats.ack_latency.quantile_ms(0.99)
        );
        anyhow::Ok(())
    })
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
}

fn mn_for(i: usize, devices: usize) -> String {
    let demo = demo_sites();
    if devices <= demo.len() {
        demo[i].1.mn.clone()
    } else {
        sim_mn(i)
    }
}

/// A plausible plant-outlet upload for device `i`, interval `k` (SplitMix-style noise).
pub fn sample_upload(mn: &str, i: usize, k: usize, cn: &str, ack: bool, t: DataTime) -> Upload {
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
        pw: "123456".into(),
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
pub fn simulate(opts: SimOptions) -> Result<SimReport> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let opts = Arc::new(opts);
        let t0 = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..opts.devices {
            let o = opts.clone();
            tasks.spawn(async move { device(i, &o).await });
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
        latencies.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        report.ack_latency_ms_p50 = pct(0.5);
        report.ack_latency_ms_p99 = pct(0.99);
        report.ack_latency_ms_max = latencies.last().copied().unwrap_or(0.0);
        Ok(report)
    })
}

async fn device(i: usize, o: &SimOptions) -> Result<(u64, u64, u64, Vec<f64>)> {
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
        let up = sample_upload(&mn, i, k, &o.cn, o.ack, t);
        let frame = up.frame();
        let sent_at = Instant::now();
        stream.write_all(frame.as_bytes()).await?;
        sent += 1;
        readings += up.factors.len() as u64;
        if o.ack {
            'wait: loop {
                let n =
                    tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf)).await??;
                if n == 0 {
                    anyhow::bail!("gateway closed the connection");
                }
                decoder.push(&buf[..n]);
                while let Some(ev) = decoder.next_event() {
                    if let Event::Frame(f) = ev {
                        if f.segment().contains("CN=9014") {
                            acked += 1;
                            if k >= o.warmup {
                                lat.push(sent_at.elapsed().as_secs_f64() * 1000.0);
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
