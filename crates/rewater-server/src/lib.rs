//! The monitoring service assembled (服务装配): from one [`ServerConfig`] this crate opens the
//! store, registers the demo or simulated data loggers when asked, builds the alert engine's
//! downstream graph from the regional model, writes out the bundled scenario models, and runs
//! the HJ 212 gateway and the HTTP API (with the web platform's pages) until Ctrl-C or SIGTERM.
//! The `rewater serve` command only maps its flags to [`ServerConfig`].
//!
//! [`sim`] plays data loggers against a gateway (the load generator behind `rewater hj212 sim`
//! and the benchmarks); [`demo`] holds the demo sites of the Beijing-style example.

/// With the `mimalloc` feature, mimalloc allocates for every binary linking this crate (the
/// gateway allocates a few small strings per frame and per reading; docs/benchmarks.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod demo;
pub mod logging;
mod scenarios;
pub mod sim;

use rewater_time::Zone;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Errors while starting or running the service.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("store {location}: {source}")]
    Store {
        location: String,
        source: rewater_store::StoreError,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Model(String),
    #[error("gateway: {0}")]
    Gateway(String),
}

impl ServerError {
    fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServerError {
        let what = what.into();
        move |source| ServerError::Io { what, source }
    }
}

pub type Result<T> = std::result::Result<T, ServerError>;

/// The group-commit window of writers on PostgreSQL unless one is given: at 51k readings/s
/// on 2 shared cores, 5 ms cut PostgreSQL's CPU per reading from 15.1–15.8 to 11.5–11.8 µs
/// and the gateway's from 10.2–10.6 to 8.6–8.7 µs, and ack p99 from 191–267 to 139–164 ms
/// (docs/benchmarks.md, "Province scale, 2026-12-03 night"). Each transaction costs
/// PostgreSQL a fixed part (statements, the COPY's setup, the commit), so fewer, larger
/// ones pay off. SQLite keeps none: there a window raised p99 (its commits are cheap).
pub const POSTGRES_COMMIT_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

/// The writers' group-commit window: the one given (at most 1 s), else
/// [`POSTGRES_COMMIT_WINDOW`] on PostgreSQL, else the gateway's `default`.
fn commit_window(config: &ServerConfig, default: std::time::Duration) -> std::time::Duration {
    match config.commit_window_ms {
        Some(ms) => std::time::Duration::from_millis(u64::from(ms.min(1000))),
        None if rewater_store::is_postgres_url(&config.db) => POSTGRES_COMMIT_WINDOW,
        None => default,
    }
}

#[cfg(test)]
mod commit_window_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn postgres_gets_a_window_unless_one_is_given_and_sqlite_none() {
        let on = |db: &str, ms: Option<u16>| {
            let c = ServerConfig {
                db: db.to_string(),
                commit_window_ms: ms,
                ..ServerConfig::default()
            };
            commit_window(&c, Duration::ZERO)
        };
        let pg = "postgres://postgres@127.0.0.1:5432/test";
        assert_eq!(on(pg, None), Duration::from_millis(5));
        assert_eq!(on("postgresql://h/db", None), Duration::from_millis(5));
        assert_eq!(on(pg, Some(0)), Duration::ZERO);
        assert_eq!(on(pg, Some(60_000)), Duration::from_secs(1), "at most 1 s");
        assert_eq!(on("/var/lib/rewater/store.sqlite", None), Duration::ZERO);
        assert_eq!(on("store.sqlite", Some(3)), Duration::from_millis(3));
    }
}

/// Where and how the service runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// A SQLite file or a `postgres://` URL.
    pub db: String,
    /// Address for data loggers (HJ 212 over TCP).
    pub gateway_listen: String,
    /// Address of the HTTP API and web platform.
    pub api_listen: String,
    /// The service token (acts as administrator `api`). Supplied: never echoed. `None`: a
    /// random one is made and reported once in [`Started::generated_token`].
    pub api_token: Option<String>,
    /// Register the demo sites and their data loggers (random password, reported once).
    pub demo: bool,
    /// Register this many simulated data loggers (site `sim`) for load tests.
    pub sim_devices: usize,
    /// The regional model (downstream graph for alerts, the overview); the demo model if none.
    pub model: Option<PathBuf>,
    /// Keep raw frames this many days; readings and aggregates stay.
    pub retain_frames_days: Option<u32>,
    /// Where uploaded scenario models are kept (default: `rewater-scenarios` beside a SQLite
    /// store, else in the working directory).
    pub scenario_dir: Option<PathBuf>,
    /// Map tile URL template ({z}/{x}/{y}); none by default, so browsers fetch nothing outside.
    pub tile_url: Option<String>,
    /// The devices' and the pages' time zone.
    pub zone: Zone,
    /// Oldest data accepted, days before now (None: the gateway's default of 3 years); raise
    /// it to take in a logger's history. At most [`MAX_DATA_AGE_DAYS`].
    pub max_data_age_days: Option<u32>,
    /// Connections one source address may hold (None: the gateway's default of 256); raise it
    /// for a concentrator or NAT in front of many loggers, or a load test from one host.
    pub max_connections_per_address: Option<usize>,
    /// Accepted frames per second one device may send after its burst (None: the gateway's
    /// default of 20; 0 switches pacing off).
    pub device_frames_per_s: Option<f64>,
    /// Served behind TLS: mark the session cookie `Secure`.
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (login limit per address).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Webhooks every new alert is pushed to (告警推送).
    pub webhooks: Vec<rewater_notify::Webhook>,
    /// Serve the public disclosure page (信息公开) without login; off by default.
    pub public_page: bool,
    /// One of several gateways on one PostgreSQL store (see `rewater_gateway::Config::cluster`).
    pub cluster: bool,
    /// Take uploads from an MQTT broker too (see `rewater_mqtt`).
    pub mqtt: Option<rewater_mqtt::MqttConfig>,
    /// Store writer threads (None: the gateway's default of 3; SQLite always has one).
    pub writers: Option<usize>,
    /// Milliseconds a writer waits after a batch's first upload for more (group commit;
    /// None: [`POSTGRES_COMMIT_WINDOW`] on PostgreSQL, none on SQLite).
    pub commit_window_ms: Option<u16>,
    /// Most uploads in one commit (None: the gateway's default of 512).
    pub batch_max: Option<usize>,
    /// Seconds between folds of the hourly aggregates on PostgreSQL (None: the gateway's
    /// default of 30 s; 0: added inside each batch).
    pub aggregate_fold_every_s: Option<u16>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            db: "rewater.sqlite".into(),
            gateway_listen: "127.0.0.1:9212".into(),
            api_listen: "127.0.0.1:8212".into(),
            api_token: None,
            demo: false,
            sim_devices: 0,
            model: None,
            retain_frames_days: None,
            scenario_dir: None,
            tile_url: None,
            zone: Zone::shanghai(),
            max_data_age_days: None,
            max_connections_per_address: None,
            device_frames_per_s: None,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            webhooks: Vec::new(),
            public_page: false,
            cluster: false,
            mqtt: None,
            writers: None,
            commit_window_ms: None,
            batch_max: None,
            aggregate_fold_every_s: None,
        }
    }
}

/// The widest data window a service takes: 20 years, so that a PostgreSQL store holds at
/// most 240 monthly partitions per table (2,400 made it run out of shared memory).
pub const MAX_DATA_AGE_DAYS: u32 = 7_305;

/// Most store writer threads (each holds one PostgreSQL connection).
pub const MAX_WRITERS: usize = 16;

/// Most uploads in one commit (the queue holds four batches).
pub const MAX_BATCH: usize = 8_192;

/// What a started service tells whoever started it (once).
#[derive(Debug, Clone)]
pub struct Started {
    pub gateway: SocketAddr,
    pub api: SocketAddr,
    /// The service token, only when it was generated here (a supplied one is never shown).
    pub generated_token: Option<String>,
    /// Data loggers registered at this start and their one-time password.
    pub registered_devices: Option<demo::Registered>,
}

/// Counters of a service that stopped.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stopped {
    pub connections: u64,
    pub frames: u64,
    pub uploads_stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub acks: u64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
}

/// Warns when the database server's shared buffers are fewer than its loggers need
/// ([`rewater_store::advised_buffer_bytes`]): acknowledgements slow down once the hot index
/// pages no longer fit (docs/scale.md).
fn warn_of_small_buffers(store: &mut dyn rewater_store::Store) {
    let Ok(Some(have)) = store.buffer_cache_bytes() else {
        return;
    };
    let loggers = store.devices().map_or(0, |d| d.len());
    if let Some(want) = rewater_store::advised_buffer_bytes(have, loggers) {
        tracing::warn!(
            shared_buffers_mb = have >> 20,
            loggers,
            advised_mb = want >> 20,
            "PostgreSQL's shared_buffers is below ≈ 50 kB per data logger: acknowledgements slow \
             down once the loggers' index pages outgrow it (docs/scale.md)"
        );
    }
}

/// Runs the service until Ctrl-C or SIGTERM; `on_ready` is called once both ports listen.
pub fn run(config: ServerConfig, on_ready: impl FnOnce(&Started)) -> Result<Stopped> {
    let token_supplied = config.api_token.clone().filter(|t| !t.trim().is_empty());
    let token = match &token_supplied {
        Some(t) => t.clone(),
        None => rewater_api::auth::new_secret(),
    };
    let (mut store, registered) = demo::prepare_store(&config.db, config.demo, config.sim_devices)?;
    warn_of_small_buffers(store.as_mut());
    let platform = Arc::new(scenarios::platform(&config)?);
    let downstream = downstream(&config)?;
    let mut api_store = rewater_store::open(&config.db).map_err(|source| ServerError::Store {
        location: config.db.clone(),
        source,
    })?;
    // Read here, outside the runtime: the PostgreSQL client blocks on a runtime of its own.
    let mut site_names: HashMap<String, String> = api_store
        .sites()
        .map(|s| s.into_iter().map(|x| (x.id, x.name)).collect())
        .unwrap_or_default();
    // The pushed texts are Chinese: a site's Chinese name where it has one (issue 13).
    for l in api_store.labels().unwrap_or_default() {
        if l.kind == "site" && !l.name_zh.is_empty() {
            site_names.insert(l.id, l.name_zh);
        }
    }
    let rt = tokio::runtime::Runtime::new().map_err(ServerError::io("starting the runtime"))?;
    let started = |gateway, api| Started {
        gateway,
        api,
        generated_token: token_supplied.is_none().then(|| token.clone()),
        registered_devices: registered.clone(),
    };
    rt.block_on(serve(
        config.clone(),
        store,
        (api_store, site_names),
        platform,
        downstream,
        token.clone(),
        move |g, a| on_ready(&started(g, a)),
    ))
}

/// The downstream graph of the configured model (or the demo model when the demo sites are
/// registered), for downstream-risk alerts.
fn downstream(config: &ServerConfig) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let (text, name) = match &config.model {
        Some(p) => (
            std::fs::read_to_string(p)
                .map_err(ServerError::io(format!("reading {}", p.display())))?,
            p.display().to_string(),
        ),
        None if config.demo => (demo::DEMO_MODEL.to_string(), "demo model".to_string()),
        None => return Ok(Default::default()),
    };
    let model =
        rewater_model::parse_model(&text, &name).map_err(|e| ServerError::Model(e.to_string()))?;
    Ok(model.downstream().into_iter().collect())
}

async fn serve(
    config: ServerConfig,
    store: Box<dyn rewater_store::Store>,
    (api_store, site_names): (Box<dyn rewater_store::Store>, HashMap<String, String>),
    platform: Arc<rewater_api::Platform>,
    downstream: std::collections::HashMap<String, Vec<String>>,
    token: String,
    on_ready: impl FnOnce(SocketAddr, SocketAddr),
) -> Result<Stopped> {
    let listener = tokio::net::TcpListener::bind(&config.gateway_listen)
        .await
        .map_err(ServerError::io(format!(
            "listening on {}",
            config.gateway_listen
        )))?;
    let gateway_addr = listener
        .local_addr()
        .map_err(ServerError::io("gateway address"))?;
    let api_listener = tokio::net::TcpListener::bind(&config.api_listen)
        .await
        .map_err(ServerError::io(format!(
            "listening on {}",
            config.api_listen
        )))?;
    let api_addr = api_listener
        .local_addr()
        .map_err(ServerError::io("API address"))?;
    tracing::info!(gateway = %gateway_addr, api = %api_addr, zone = config.zone.name(), "listening");
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(stop_on_signal(tx));
    let on_raised = both(alert_push(&config, site_names)?, mqtt_alerts(&config));
    let alerts = rewater_gateway::AlertSetup {
        standards: rewater_standards::Standards::builtin(),
        settings: rewater_alerts::Settings::default(),
        downstream,
        tick: std::time::Duration::from_secs(60),
        on_raised,
    };
    let api_store = Arc::new(std::sync::Mutex::new(api_store));
    // Keep one handle so that the store is dropped here, off the async threads (a blocking
    // database client must not be dropped inside the runtime).
    let api_store_keep = api_store.clone();
    let api_config = rewater_api::ApiConfig {
        tokens: [(token, "api".to_string())].into_iter().collect(),
        zone: config.zone.clone(),
        secure_cookies: config.secure_cookies,
        trusted_proxies: config.trusted_proxies.clone(),
        ..Default::default()
    };
    let state = rewater_api::ApiState::shared(api_store, api_config, platform);
    let mut api_shutdown = rx.clone();
    let api = tokio::spawn(async move {
        let app = rewater_api::service(state);
        let served = axum::serve(api_listener, app)
            .with_graceful_shutdown(async move {
                let _ = api_shutdown.wait_for(|stop| *stop).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the HTTP API stopped");
        }
    });
    let gateway_config = rewater_gateway::Config {
        retain_frames: config
            .retain_frames_days
            .map(|d| std::time::Duration::from_secs(d as u64 * 86_400)),
        zone: config.zone.clone(),
        ..Default::default()
    };
    let gateway_config = match config.max_data_age_days {
        Some(days) => rewater_gateway::Config {
            max_data_age: std::time::Duration::from_secs(
                u64::from(days.min(MAX_DATA_AGE_DAYS)) * 86_400,
            ),
            ..gateway_config
        },
        None => gateway_config,
    };
    let gateway_config = rewater_gateway::Config {
        max_per_address: config
            .max_connections_per_address
            .unwrap_or(gateway_config.max_per_address)
            .clamp(1, gateway_config.max_connections),
        device_frames_per_s: config
            .device_frames_per_s
            .filter(|r| r.is_finite() && *r >= 0.0)
            .unwrap_or(gateway_config.device_frames_per_s),
        cluster: config.cluster,
        writers: config
            .writers
            .unwrap_or(gateway_config.writers)
            .clamp(1, MAX_WRITERS),
        batch_max: config
            .batch_max
            .unwrap_or(gateway_config.batch_max)
            .clamp(1, MAX_BATCH),
        commit_window: commit_window(&config, gateway_config.commit_window),
        fold_every: config
            .aggregate_fold_every_s
            .map_or(gateway_config.fold_every, |s| {
                std::time::Duration::from_secs(u64::from(s.min(3600)))
            }),
        ..gateway_config
    };
    let mqtt = config.mqtt.clone();
    let mqtt_shutdown = rx.clone();
    let mut mqtt_task = None;
    let stats = rewater_gateway::serve(
        listener,
        store,
        gateway_config,
        rx,
        Some(alerts),
        |handle| {
            if let Some(m) = mqtt {
                let stats = Arc::new(rewater_mqtt::MqttStats::default());
                mqtt_task = Some(tokio::spawn(async move {
                    if let Err(e) = rewater_mqtt::run(m, handle, mqtt_shutdown, stats).await {
                        tracing::error!(error = %e, "MQTT ingest stopped");
                    }
                }));
            }
            on_ready(gateway_addr, api_addr)
        },
    )
    .await
    .map_err(|e| ServerError::Gateway(e.to_string()))?;
    if let Some(t) = mqtt_task {
        let _ = t.await;
    }
    let _ = api.await;
    let _ = tokio::task::spawn_blocking(move || drop(api_store_keep)).await;
    use std::sync::atomic::Ordering::Relaxed;
    Ok(Stopped {
        connections: stats.connections.load(Relaxed),
        frames: stats.frames.load(Relaxed),
        uploads_stored: stats.stored.load(Relaxed),
        duplicates: stats.duplicates.load(Relaxed),
        rejected: stats.rejected.load(Relaxed),
        acks: stats.acks.load(Relaxed),
        ack_p50_ms: stats.ack_latency.quantile_ms(0.5),
        ack_p99_ms: stats.ack_latency.quantile_ms(0.99),
    })
}

/// Sends `true` on Ctrl-C or SIGTERM.
async fn stop_on_signal(tx: tokio::sync::watch::Sender<bool>) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
    let _ = tx.send(true);
}

/// Both alert sinks, where there are two.
fn both(
    a: Option<rewater_gateway::AlertSink>,
    b: Option<rewater_gateway::AlertSink>,
) -> Option<rewater_gateway::AlertSink> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Arc::new(move |rows: &[rewater_store::NewAlertRow]| {
            a(rows);
            b(rows);
        })),
        (a, b) => a.or(b),
    }
}

/// New alerts published to `{prefix}/alerts` on the MQTT broker, if asked. Its own client
/// connection (id `{client_id}-alerts`), driven by a task of its own.
fn mqtt_alerts(config: &ServerConfig) -> Option<rewater_gateway::AlertSink> {
    let m = config.mqtt.as_ref()?;
    let prefix = m.publish_prefix.as_ref()?;
    let mut o =
        rewater_mqtt::rumqttc::MqttOptions::new(format!("{}-alerts", m.client_id), &m.host, m.port);
    o.set_keep_alive(m.keep_alive);
    if let (Some(u), Some(p)) = (&m.username, &m.password) {
        o.set_credentials(u, p);
    }
    let (client, mut events) = rewater_mqtt::rumqttc::AsyncClient::new(o, 1024);
    tokio::spawn(async move {
        loop {
            if let Err(e) = events.poll().await {
                tracing::debug!(error = %e, "MQTT alert publisher reconnecting");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    });
    Some(rewater_mqtt::alert_publisher(client, prefix))
}

/// The alert sink pushing new alerts to the configured webhooks, if any. Site names are those
/// registered at start; kinds and severities go out in Chinese (the robots' groups read it).
fn alert_push(
    config: &ServerConfig,
    site_names: HashMap<String, String>,
) -> Result<Option<rewater_gateway::AlertSink>> {
    if config.webhooks.is_empty() {
        return Ok(None);
    }
    let notifier = rewater_notify::Notifier::start(config.webhooks.clone())
        .map_err(ServerError::io("starting the alert push"))?;
    let zone = config.zone.clone();
    let sink = move |rows: &[rewater_store::NewAlertRow]| {
        for a in rows {
            notifier.push(rewater_notify::Alert {
                site_id: a.site_id.clone(),
                site_name: site_names
                    .get(&a.site_id)
                    .cloned()
                    .unwrap_or_else(|| a.site_id.clone()),
                kind: rewater_notify::kind_label(&a.kind, rewater_notify::Lang::Zh).to_string(),
                severity: rewater_notify::severity_label(&a.severity, rewater_notify::Lang::Zh)
                    .to_string(),
                message: a.message.clone(),
                time: zone.rfc3339_wall(a.data_time),
                value: a.value,
                limit: a.limit.clone(),
            });
        }
    };
    Ok(Some(Arc::new(sink)))
}
