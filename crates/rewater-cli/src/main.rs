//! `rewater`: the command line. Thin: argument parsing, files and formatting; the work is done
//! by the library crates.
//!
//! Exit codes: 0 success; 1 failure while running (I/O, solver); 2 bad input (invalid model,
//! unreadable sample, unknown standard, bad arguments).

mod accounts;
mod indicators;
mod monitor;
mod overflow;
// issue 15 part B (h-tasks): reports and task registers
mod reports;
// issue 16: the river-outfall ledger.
mod outfalls;
// issue 17 (h-money)
mod money;
// issue 18 (h-opt): planning optimisation
mod optimise;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand, ValueEnum};
use rewater_engine::Summary;
use rewater_model::ModelErrors;
use rewater_standards::evaluate::ClassifyOptions;
use rewater_standards::input::{samples_from_text, series_from_csv};
use rewater_standards::standard::{Context, WaterBody};
use rewater_standards::{report, BatchError, Standards};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rewater",
    version,
    about = "Plan and run regional reclaimed-water systems (区域再生水循环利用)"
)]
struct Cli {
    /// Log lines on standard error as text or JSON (filter: $REWATER_LOG, default info).
    #[arg(long, global = true, default_value = "text")]
    log_format: rewater_server::logging::LogFormat,
    /// Extra standard files (a folder of *.toml); same ids replace the bundled ones.
    #[arg(long, global = true)]
    standards: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a model file and report every problem found.
    Validate { model: PathBuf },
    /// Simulate a model and write daily CSVs and summary.json to DIR.
    Run {
        model: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Write only summary.json (no daily nodes.csv / links.csv).
        #[arg(long)]
        no_daily: bool,
        /// No progress bar and no summary on standard output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Compare two runs (their output folders or summary.json files).
    Compare { run_a: PathBuf, run_b: PathBuf },
    /// Run the bundled Beijing-style example and print its summary.
    Demo {
        /// Keep the outputs here (default: a temporary folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of the model file.
    Schema,
    /// Combined-sewer overflow: long-term simulation and tank sizing (合流制溢流).
    Overflow {
        #[command(subcommand)]
        command: overflow::OverflowCommand,
    },
    /// The scorecard: indicators by district and year against the plans' targets (指标考核).
    Indicators(indicators::IndicatorsArgs),
    /// The river-outfall ledger and pollution tracing (入河排污口台账与溯源).
    Outfalls {
        #[command(subcommand)]
        command: outfalls::OutfallsCommand,
    },
    /// Money: funding shares, O&M subsidies, compensation, fees, reclaimed-water cost (资金).
    Money {
        #[command(subcommand)]
        command: money::MoneyCommand,
    },
    /// Water-quality standards.
    Standards {
        #[command(subcommand)]
        command: StandardsCommand,
    },
    /// Classify samples (GB 3838 single-factor evaluation) from CSV or JSON.
    Classify(ClassifyArgs),
    /// Start the monitoring service: HJ 212 gateway, HTTP API and web platform.
    Serve(Box<ServeArgs>),
    /// Accounts of the web platform and API (the first administrator is made here).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The register of data loggers (数采仪): add, list, change password, disable.
    Device {
        #[command(subcommand)]
        command: accounts::DeviceCommand,
    },
    /// HJ 212 data-logger protocol tools.
    Hj212 {
        #[command(subcommand)]
        command: Hj212Command,
    },
    /// Compliance of a monitoring series (time,factor,value[,unit][,flag]) with a standard class.
    Comply(ComplyArgs),
    // issue 15 part B (h-tasks)
    /// Reports in HTML and PDF: pilot-annual, pilot-final, plan-progress, district.
    Report(reports::ReportArgs),
    /// The plans' task registers (任务台账), progress updates, river chiefs and patrols.
    Tasks {
        #[command(subcommand)]
        command: reports::TasksCommand,
    },
    // issue 18 (h-opt)
    /// Planning optimisation: the cost–reuse Pareto front of a study's candidate wetlands,
    /// ponds, pipes, plant expansions, upgrades and user connections (docs/optimise.md).
    Optimize(optimise::OptimizeArgs),
    /// Serve a study's evaluations from NATS JetStream (for `rewater optimize --nats`).
    Worker(optimise::WorkerArgs),
}

/// Flags of `rewater classify`.
#[derive(clap::Args)]
struct ClassifyArgs {
    /// Input file (CSV, JSON or JSON lines); "-" or absent for standard input.
    input: Option<PathBuf>,
    #[arg(long, default_value = "GB3838-2002")]
    standard: String,
    /// Water body for samples that do not say (river or lake).
    #[arg(long)]
    water_body: Option<String>,
    /// Evaluate only these factors (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Add factors to the default set (e.g. tn for lakes).
    #[arg(long, value_delimiter = ',')]
    include: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Input format (default: by file name; CSV for standard input).
    #[arg(long)]
    input_format: Option<InputFormat>,
    #[arg(long, default_value = "text")]
    format: OutputFormat,
}

/// Flags of `rewater comply`.
#[derive(clap::Args)]
struct ComplyArgs {
    input: Option<PathBuf>,
    /// STANDARD:CLASS, e.g. GB18918-2002:1A.
    #[arg(long)]
    standard: String,
    #[arg(long)]
    water_body: Option<String>,
    /// Plant construction (EIA approval) date, for GB 18918 TP.
    #[arg(long)]
    plant_built: Option<String>,
    #[arg(long, default_value = "text")]
    format: OutputFormat,
}

/// Flags of `rewater serve` (mapped to `rewater_server::ServerConfig`).
#[derive(clap::Args)]
struct ServeArgs {
    /// The store: a SQLite file, or a postgres://user@host/db URL.
    #[arg(long, default_value = "rewater.sqlite")]
    db: String,
    /// Address for data loggers.
    #[arg(long, default_value = "127.0.0.1:9212")]
    listen: String,
    /// Address of the HTTP API and web platform.
    #[arg(long, default_value = "127.0.0.1:8212")]
    api_listen: String,
    /// Read the service token from this file (else $REWATER_API_TOKEN, else a random one,
    /// printed once). Never given on the command line, where `ps` shows it.
    #[arg(long)]
    api_token_file: Option<PathBuf>,
    /// Register the demo sites and their data loggers (a random password, printed once).
    #[arg(long)]
    demo: bool,
    /// Register N simulated devices (for `rewater hj212 sim --devices N`).
    #[arg(long, default_value_t = 0)]
    sim_devices: usize,
    /// A regional model whose network tells which sites lie downstream of which (for
    /// downstream-risk alerts); the demo model by default with the demo sites.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Keep raw frames (the audit trail) this many days; readings and aggregates stay.
    #[arg(long)]
    retain_frames_days: Option<u32>,
    /// Where uploaded scenario models are kept (default: rewater-scenarios beside a
    /// SQLite store, else in the working directory).
    #[arg(long)]
    scenario_dir: Option<PathBuf>,
    /// Map tile URL template ({z}/{x}/{y}) under the overview map; none by default, so
    /// the browser fetches nothing from outside.
    #[arg(long)]
    tile_url: Option<String>,
    /// Time zone of the data loggers' clocks and of the pages (IANA name).
    #[arg(long, default_value = rewater_time::DEFAULT_ZONE)]
    zone: String,
    /// Accept data up to this many days old (default 3 years; at most 7305). Uploads dated
    /// outside [now − this, now + 10 min] are refused with a reason.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=7305))]
    max_data_age_days: Option<u32>,
    /// Connections one source address may hold (default 256; at most the global 20,000):
    /// raise it for a concentrator or NAT in front of many loggers, or a load test.
    #[arg(long)]
    max_connections_per_address: Option<usize>,
    /// Frames a second one data logger may send after a burst of 600 (default 20; 0: no
    /// pacing). A flooding logger is slowed, not refused.
    #[arg(long, value_parser = parse_rate)]
    device_frames_per_s: Option<f64>,
    /// Store writer threads, each on its own PostgreSQL connection (default 3; 1–16;
    /// SQLite always has one).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=16))]
    writers: Option<u16>,
    /// Milliseconds a writer waits after a batch's first upload for more before it commits
    /// (group commit: fewer, larger transactions; default 5 on PostgreSQL, 0 on SQLite; at
    /// most 1000). Adds up to that much to every acknowledgement.
    #[arg(long, value_parser = clap::value_parser!(u16).range(0..=1000))]
    commit_window_ms: Option<u16>,
    /// Most uploads committed in one transaction (default 512; 1–8192).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=8192))]
    batch_max: Option<u16>,
    /// PostgreSQL: seconds between folds of the committed readings into the hourly
    /// aggregates (default 30; 0 adds them inside each batch; at most 3600). Longer merges
    /// more of a logger's uploads into one update, for less work per reading.
    #[arg(long, value_parser = clap::value_parser!(u16).range(0..=3600))]
    aggregate_fold_every_s: Option<u16>,
    /// Served behind TLS (a reverse proxy): mark the session cookie Secure.
    #[arg(long)]
    secure_cookies: bool,
    /// Reverse proxies (IP addresses) whose X-Forwarded-For names the client.
    #[arg(long, value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// Push every new alert to this webhook (repeatable): http(s) URL of a receiver, or of a
    /// WeCom / DingTalk group robot with --webhook-format.
    #[arg(long)]
    webhook: Vec<String>,
    /// json (the alert as an object), wecom or dingtalk (robot text messages).
    #[arg(long, default_value = "json")]
    webhook_format: String,
    /// Text put first in robot messages (a DingTalk robot's security keyword).
    #[arg(long, default_value = "rewater 告警")]
    webhook_keyword: String,
    /// Serve the public disclosure page (/public: public supply points' latest quality and
    /// monthly compliance) without login; off by default.
    #[arg(long)]
    public_page: bool,
    /// One of several gateways on one PostgreSQL store (docs/scale.md): alerts are evaluated
    /// once, by the gateway holding the store's alert leadership, from the store's feed.
    #[arg(long)]
    cluster: bool,
    /// Take uploads from this MQTT broker too (HOST[:PORT]): HJ 212 frames or JSON uploads
    /// (docs/monitoring.md), QoS 1, acknowledged after the commit.
    #[arg(long)]
    mqtt: Option<String>,
    /// Topic filters to subscribe to (repeatable).
    #[arg(long, default_value = "rewater/+/up")]
    mqtt_topic: Vec<String>,
    /// Client id (prefix) of the persistent MQTT sessions.
    #[arg(long, default_value = "rewater-ingest")]
    mqtt_client_id: String,
    /// Subscriber connections sharing the topics ($share/CLIENT_ID/…).
    #[arg(long, default_value_t = 1)]
    mqtt_connections: usize,
    /// Publish accepted MQTT uploads to PREFIX/MN/accepted and new alerts to PREFIX/alerts.
    #[arg(long)]
    mqtt_publish: Option<String>,
    /// Broker user name; the password comes from $REWATER_MQTT_PASSWORD.
    #[arg(long)]
    mqtt_username: Option<String>,
}

impl ServeArgs {
    fn webhooks(&self) -> Result<Vec<rewater_notify::Webhook>> {
        let format: rewater_notify::Format = self
            .webhook_format
            .parse()
            .map_err(|e: String| input_err(format!("--webhook-format: {e}")))?;
        self.webhook
            .iter()
            .map(|url| {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(input_err(format!(
                        "--webhook: '{url}' is not an http(s) URL"
                    )));
                }
                let mut hook = rewater_notify::Webhook::new(url, format);
                hook.prefix = self.webhook_keyword.clone();
                Ok(hook)
            })
            .collect()
    }

    fn config(self) -> Result<rewater_server::ServerConfig> {
        let webhooks = self.webhooks()?;
        Ok(rewater_server::ServerConfig {
            api_token: monitor::api_token(self.api_token_file.as_deref())?,
            db: self.db,
            gateway_listen: self.listen,
            api_listen: self.api_listen,
            demo: self.demo,
            sim_devices: self.sim_devices,
            model: self.model,
            retain_frames_days: self.retain_frames_days,
            scenario_dir: self.scenario_dir,
            tile_url: self.tile_url,
            zone: rewater_time::Zone::named(&self.zone).map_err(input_err)?,
            max_data_age_days: self.max_data_age_days,
            max_connections_per_address: self.max_connections_per_address,
            device_frames_per_s: self.device_frames_per_s,
            writers: self.writers.map(usize::from),
            commit_window_ms: self.commit_window_ms,
            batch_max: self.batch_max.map(usize::from),
            aggregate_fold_every_s: self.aggregate_fold_every_s,
            secure_cookies: self.secure_cookies,
            trusted_proxies: self.trusted_proxy,
            webhooks,
            public_page: self.public_page,
            cluster: self.cluster,
            mqtt: match &self.mqtt {
                None => None,
                Some(broker) => Some(
                    rewater_mqtt::MqttConfig {
                        topics: self.mqtt_topic.clone(),
                        client_id: self.mqtt_client_id.clone(),
                        connections: self.mqtt_connections.clamp(1, 64),
                        publish_prefix: self.mqtt_publish.clone(),
                        username: self.mqtt_username.clone(),
                        password: std::env::var("REWATER_MQTT_PASSWORD").ok(),
                        ..Default::default()
                    }
                    .with_broker(broker)
                    .map_err(|e| input_err(e.to_string()))?,
                ),
            },
        })
    }
}

/// Account commands.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account, or change its role, district or password. The password is read
    /// from standard input (first line), never from the command line.
    Add {
        name: String,
        /// admin, operator or viewer.
        #[arg(long)]
        role: String,
        /// The district an operator sees and acts on.
        #[arg(long)]
        district: Option<String>,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// List accounts.
    List {
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// Create an API token for an account (the secret printed once on standard output).
    Token {
        name: String,
        #[arg(long, default_value = "")]
        label: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: u32,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// Revoke a session or token of an account by its public id (shown by the API and pages).
    Revoke {
        name: String,
        public_id: String,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
}

#[derive(Subcommand)]
enum Hj212Command {
    /// Check frames from standard input, one per line; print one JSON object per line.
    Check {
        /// Apply the standard to the letter (CR LF, 1024-byte limit, required header fields).
        #[arg(long)]
        strict: bool,
    },
    /// Play N data loggers sending water-quality uploads to a gateway.
    Sim(SimArgs),
}

/// Flags of `rewater hj212 sim` (mapped to `rewater_server::sim::SimOptions`).
#[derive(clap::Args)]
struct SimArgs {
    #[arg(long, default_value = "127.0.0.1:9212")]
    to: String,
    /// Devices (up to 6 use the demo devices; more use those of `serve --sim-devices`).
    #[arg(long, default_value_t = 6)]
    devices: usize,
    /// Uploads per device.
    #[arg(long, default_value_t = 10)]
    frames: usize,
    /// Time between a device's uploads, ms (the rate is devices × 1000 / interval per second).
    #[arg(long, default_value_t = 200)]
    interval_ms: u64,
    /// Command code of the uploads: 2011 real-time, 2051 minute, 2061 hourly, 2031 daily.
    #[arg(long, default_value = "2051")]
    cn: String,
    /// Do not ask for acknowledgements.
    #[arg(long)]
    no_ack: bool,
    /// DataTime of the first upload (YYYYMMDDhhmmss; default: now, Beijing time, to the minute).
    #[arg(long)]
    start: Option<String>,
    /// Uploads per device left out of the latency statistics (connection warm-up).
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// The devices' password (printed by `rewater serve --demo`); default
    /// $REWATER_DEVICE_PASSWORD.
    #[arg(long, env = "REWATER_DEVICE_PASSWORD", hide_env_values = true)]
    password: String,
    /// Also report the acknowledgements' latency by the second the uploads were sent in.
    #[arg(long)]
    by_second: bool,
}

impl SimArgs {
    fn options(self) -> Result<rewater_server::sim::SimOptions> {
        let start = match self.start {
            Some(s) => rewater_hj212::DataTime::parse(&s)
                .ok_or_else(|| input_err(format!("--start '{s}' is not YYYYMMDDhhmmss")))?,
            None => rewater_hj212::DataTime::from_wall_seconds(
                rewater_time::Zone::shanghai().now_wall_seconds() / 60 * 60,
            ),
        };
        Ok(rewater_server::sim::SimOptions {
            to: self.to,
            devices: self.devices,
            frames: self.frames,
            interval: std::time::Duration::from_millis(self.interval_ms),
            cn: self.cn,
            ack: !self.no_ack,
            start,
            warmup: self.warmup,
            password: self.password,
            by_second: self.by_second,
        })
    }
}

#[derive(Subcommand)]
enum StandardsCommand {
    /// List the standards.
    List,
    /// Show a standard's limits with source and confidence.
    Show {
        id: String,
        #[arg(long, default_value = "text")]
        format: OutputFormat,
    },
    /// List the water factors with their HJ 212 codes.
    Factors,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum InputFormat {
    Csv,
    Json,
}

/// An error caused by the user's input (exit code 2).
#[derive(Debug)]
struct InputError(String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

pub(crate) fn input_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(InputError(e.to_string()))
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    rewater_server::logging::init(cli.log_format, "info");
    match run(cli) {
        Ok(code) => code,
        // `rewater … | head`: the reader left; nothing more to say.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let input = e.downcast_ref::<InputError>().is_some()
                || e.downcast_ref::<ModelErrors>().is_some();
            eprintln!("error: {e:#}");
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}

/// Fallback for output not written through a locked stdout: `println!` panics when the reader
/// of standard output has gone (`rewater … | head`); that is not a failure of ours, so leave
/// quietly with success instead of a panic message.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.contains("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn load_standards(dir: Option<&Path>) -> Result<Standards> {
    let mut s = Standards::builtin();
    if let Some(d) = dir {
        s.load_dir(d).map_err(input_err)?;
    }
    Ok(s)
}

fn run(cli: Cli) -> Result<ExitCode> {
    let standards = load_standards(cli.standards.as_deref())?;
    match cli.command {
        Command::Validate { model } => {
            let region = rewater_model::load(&model, &standards)?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{}: valid — {} nodes, {} links, {} days from {}, factors: {}",
                model.display(),
                region.nodes.len(),
                region.links.len(),
                region.days,
                region.start,
                region
                    .factors
                    .iter()
                    .map(|f| f.short_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
            for w in &region.warnings {
                writeln!(out, "warning: {w}")?;
            }
        }
        Command::Run {
            model,
            out,
            no_daily,
            quiet,
        } => {
            let summary = run_model(&model, &out, !no_daily, quiet, &standards)?;
            if !quiet {
                let mut w = std::io::stdout().lock();
                rewater_engine::write_summary(&mut w, &summary)?;
                writeln!(w, "\nOutputs in {}", out.display())?;
            }
        }
        Command::Compare { run_a, run_b } => {
            let a = rewater_engine::read_summary(&run_a).map_err(input_err)?;
            let b = rewater_engine::read_summary(&run_b).map_err(input_err)?;
            rewater_engine::write_comparison(&mut std::io::stdout().lock(), &a, &b)?;
        }
        Command::Demo { out } => {
            let dir = match out {
                Some(d) => d,
                None => std::env::temp_dir().join(format!("rewater-demo-{}", std::process::id())),
            };
            let model = rewater_server::demo::write_demo(&dir)
                .with_context(|| format!("writing the demo to {}", dir.display()))?;
            let summary = run_model(&model, &dir.join("out"), true, false, &standards)?;
            let mut w = std::io::stdout().lock();
            rewater_engine::write_summary(&mut w, &summary)?;
            writeln!(w, "\nDemo model and outputs in {}", dir.display())?;
        }
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&rewater_model::json_schema())?;
            writeln!(std::io::stdout().lock(), "{schema}")?;
        }
        Command::Overflow { command } => overflow::run(command)?,
        Command::Indicators(args) => indicators::run(args, &standards)?,
        Command::Outfalls { command } => outfalls::run(command)?,
        Command::Money { command } => money::run(command, &standards)?,
        Command::Standards { command } => standards_cmd(command, &standards)?,
        Command::Classify(args) => classify(args, &standards)?,
        Command::Hj212 {
            command: Hj212Command::Check { strict },
        } => hj212_check(strict)?,
        Command::Hj212 {
            command: Hj212Command::Sim(args),
        } => {
            let report =
                serde_json::to_string_pretty(&rewater_server::sim::simulate(args.options()?)?)?;
            writeln!(std::io::stdout().lock(), "{report}")?;
        }
        Command::Serve(args) => monitor::serve((*args).config()?)?,
        Command::User { command } => accounts::user_cmd(command)?,
        Command::Device { command } => accounts::device_cmd(command)?,
        Command::Comply(args) => comply(args, &standards)?,
        // issue 15 part B (h-tasks)
        Command::Report(args) => reports::report(args, &standards)?,
        Command::Tasks { command } => reports::tasks(command)?,
        // issue 18 (h-opt)
        Command::Optimize(args) => optimise::optimize(args, &standards)?,
        Command::Worker(args) => optimise::worker(args, &standards)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `rewater classify`: one line (text or JSON) per sample.
fn classify(a: ClassifyArgs, standards: &Standards) -> Result<()> {
    let std = standards
        .get(&a.standard)
        .ok_or_else(|| input_err(format!("unknown standard '{}'", a.standard)))?;
    let opts = ClassifyOptions::from_names(&a.only, &a.include, &a.exclude).map_err(input_err)?;
    let default_body = a.water_body.as_deref().map(water_body_arg).transpose()?;
    let (name, text) = read_input(a.input.as_deref())?;
    let as_json = match a.input_format {
        Some(InputFormat::Json) => true,
        Some(InputFormat::Csv) => false,
        None => name.ends_with(".json") || name.ends_with(".jsonl"),
    };
    let samples = samples_from_text(&text, &name, as_json).map_err(input_err)?;
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    let json = matches!(a.format, OutputFormat::Json);
    rewater_standards::classify_samples(std, samples, &opts, default_body, &name, &mut w, json)
        .map_err(batch_err)
}

/// `rewater comply`: the compliance report of a series (text or JSON).
fn comply(a: ComplyArgs, standards: &Standards) -> Result<()> {
    let (std, class) = standards.resolve(&a.standard).map_err(input_err)?;
    let (name, text) = read_input(a.input.as_deref())?;
    let series = series_from_csv(text.as_bytes(), &name).map_err(input_err)?;
    let ctx = Context {
        water_body: a.water_body.as_deref().map(water_body_arg).transpose()?,
        plant_built: a
            .plant_built
            .map(|d| d.parse().map_err(input_err))
            .transpose()?,
        ..Default::default()
    };
    let json = matches!(a.format, OutputFormat::Json);
    let mut w = std::io::stdout().lock();
    let report = rewater_standards::comply_series(std, class, &series, &ctx, &mut w, json);
    report.map(drop).map_err(batch_err)
}

/// `rewater hj212 check`: one JSON object per input line.
fn hj212_check(strict: bool) -> Result<()> {
    use rewater_hj212::{check_line, Options, Segment, Strictness};
    use std::io::BufRead;
    let (options, strictness) = if strict {
        (Options::strict(), Strictness::Strict)
    } else {
        (Options::lenient(), Strictness::Lenient)
    };
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    let mut reader = stdin.lock();
    loop {
        line.clear();
        // Lines are bytes: a frame may hold invalid UTF-8, which is reported, not fatal.
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let check = check_line(&line, &options);
        let parsed = check
            .segment
            .as_deref()
            .map(|s| Segment::parse(s, strictness));
        let mut error: Option<String> = check.errors.first().map(|e| e.to_string());
        let seg = match parsed {
            Some(Ok(seg)) => Some(seg),
            Some(Err(e)) => {
                error.get_or_insert_with(|| e.to_string());
                None
            }
            None => None,
        };
        let v = serde_json::json!({
            "ok": error.is_none(),
            "error": error,
            "qn": seg.as_ref().and_then(|s| s.qn()),
            "st": seg.as_ref().and_then(|s| s.st()),
            "cn": seg.as_ref().and_then(|s| s.cn()),
            "pw": seg.as_ref().and_then(|s| s.pw()),
            "mn": seg.as_ref().and_then(|s| s.mn()),
            "flag": seg.as_ref().and_then(|s| s.flag.map(|f| f.value)),
            "datatime": seg.as_ref().and_then(|s| s.cp_value("DataTime")),
            "items": seg.as_ref().map(|s| s.cp().map(|p| serde_json::json!({"key": p.key, "value": p.value})).collect::<Vec<_>>()).unwrap_or_default(),
            "factors": seg.as_ref().map(|s| serde_json::to_value(s.factors()).unwrap_or_default()).unwrap_or_default(),
        });
        writeln!(w, "{v}")?;
    }
    w.flush()?;
    Ok(())
}

fn water_body_arg(s: &str) -> Result<WaterBody> {
    s.parse().map_err(input_err)
}

/// A batch's write failure stays an I/O error (a closed pipe ends quietly); the rest is input.
fn batch_err(e: BatchError) -> anyhow::Error {
    match e {
        BatchError::Write(io) => io.into(),
        e => input_err(e),
    }
}

fn read_input(path: Option<&Path>) -> Result<(String, String)> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| input_err(format!("{}: {e}", p.display())))?;
            Ok((p.display().to_string(), text))
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading standard input")?;
            Ok(("<stdin>".to_string(), text))
        }
    }
}

fn run_model(
    model: &Path,
    out: &Path,
    daily: bool,
    quiet: bool,
    standards: &Standards,
) -> Result<Summary> {
    let region = rewater_model::load(model, standards)?;
    let bar = (!quiet && std::io::stderr().is_terminal() && region.days > 30).then(|| {
        let b = indicatif::ProgressBar::new(region.days as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} days {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut progress = |d: usize, _n: usize| {
        if let Some(b) = bar.as_ref().filter(|_| d.is_multiple_of(30)) {
            b.set_position(d as u64);
        }
    };
    let summary = rewater_engine::run_to_dir(&region, out, daily, &mut progress)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(summary)
}

/// A non-negative, finite rate.
fn parse_rate(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
        _ => Err(format!("'{s}' is not a rate (a number ≥ 0)")),
    }
}

fn standards_cmd(cmd: StandardsCommand, standards: &Standards) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match cmd {
        StandardsCommand::List => report::write_standard_list(&mut out, standards)?,
        StandardsCommand::Show { id, format } => {
            let s = standards.get(&id).ok_or_else(|| {
                input_err(format!(
                    "unknown standard '{id}' (`rewater standards list`)"
                ))
            })?;
            match format {
                OutputFormat::Json => report::write_standard_json(&mut out, s)?,
                OutputFormat::Text => report::write_standard(&mut out, s)?,
            }
        }
        StandardsCommand::Factors => report::write_factor_list(&mut out)?,
    }
    Ok(())
}
