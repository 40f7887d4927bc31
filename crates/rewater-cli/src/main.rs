//! `rewater`: the command line. Thin: argument parsing, files and formatting; the work is done
//! by the library crates.
//!
//! Exit codes: 0 success; 1 failure while running (I/O, solver); 2 bad input (invalid model,
//! unreadable sample, unknown standard, bad arguments).

mod accounts;
mod monitor;
mod overflow;
mod report;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand, ValueEnum};
use rewater_engine::{CsvDailyWriter, Simulation, Summary};
use rewater_model::ModelErrors;
use rewater_standards::evaluate::ClassifyOptions;
use rewater_standards::input::{samples_from_csv, samples_from_json, series_from_csv};
use rewater_standards::standard::{Context, WaterBody};
use rewater_standards::{Factor, Standards};
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
    /// Water-quality standards.
    Standards {
        #[command(subcommand)]
        command: StandardsCommand,
    },
    /// Classify samples (GB 3838 single-factor evaluation) from CSV or JSON.
    Classify {
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
    },
    /// Start the monitoring service: HJ 212 gateway, HTTP API and web platform.
    Serve(ServeArgs),
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
    Comply {
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
    },
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
}

impl ServeArgs {
    fn config(self) -> Result<rewater_server::ServerConfig> {
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
    /// Create an API token for an account (printed once).
    Token {
        name: String,
        #[arg(long, default_value = "")]
        label: String,
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
    Sim {
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
    },
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

/// `println!` panics when the reader of standard output has gone (`rewater … | head`); that
/// is not a failure of ours, so leave quietly with success instead of a panic message.
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
            println!(
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
            );
            for w in &region.warnings {
                println!("warning: {w}");
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
                report::print_summary(&summary);
                println!("\nOutputs in {}", out.display());
            }
        }
        Command::Compare { run_a, run_b } => {
            let a = read_summary(&run_a)?;
            let b = read_summary(&run_b)?;
            report::print_comparison(&a, &b);
        }
        Command::Demo { out } => {
            let dir = match out {
                Some(d) => d,
                None => std::env::temp_dir().join(format!("rewater-demo-{}", std::process::id())),
            };
            let model = write_demo(&dir)?;
            let summary = run_model(&model, &dir.join("out"), true, false, &standards)?;
            report::print_summary(&summary);
            println!("\nDemo model and outputs in {}", dir.display());
        }
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&rewater_model::json_schema())?
            );
        }
        Command::Overflow { command } => overflow::run(command)?,
        Command::Standards { command } => standards_cmd(command, &standards)?,
        Command::Classify {
            input,
            standard,
            water_body,
            only,
            include,
            exclude,
            input_format,
            format,
        } => {
            let std = standards
                .get(&standard)
                .ok_or_else(|| input_err(format!("unknown standard '{standard}'")))?;
            let parse_list = |v: &[String]| -> Result<Vec<Factor>> {
                v.iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| Factor::parse(s).map_err(input_err))
                    .collect()
            };
            let opts = ClassifyOptions {
                only: if only.is_empty() {
                    None
                } else {
                    Some(parse_list(&only)?)
                },
                include: parse_list(&include)?,
                exclude: parse_list(&exclude)?,
                target_class: None,
            };
            let default_body = water_body.as_deref().map(parse_water_body).transpose()?;
            let (name, text) = read_input(input.as_deref())?;
            let as_json = match input_format {
                Some(InputFormat::Json) => true,
                Some(InputFormat::Csv) => false,
                None => name.ends_with(".json") || name.ends_with(".jsonl"),
            };
            let samples = if as_json {
                samples_from_json(&text, &name)
            } else {
                samples_from_csv(text.as_bytes(), &name)
            }
            .map_err(input_err)?;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            for mut s in samples {
                if s.context.water_body.is_none() {
                    s.context.water_body = default_body;
                }
                let result = rewater_standards::classify(std, &s.readings, &s.context, &opts)
                    .map_err(|e| input_err(format!("{name}:{}: sample {}: {e}", s.line, s.id)))?;
                match format {
                    OutputFormat::Json => {
                        // {"id": …, <the classification's own fields>} without building a Value.
                        let body = serde_json::to_string(&result)?;
                        let fields = body.strip_prefix('{').unwrap_or(&body);
                        writeln!(w, "{{\"id\":{},{fields}", serde_json::to_string(&s.id)?)?;
                    }
                    OutputFormat::Text => report::write_classification(&mut w, &s.id, &result)?,
                }
            }
            w.flush()?;
        }
        Command::Hj212 {
            command: Hj212Command::Check { strict },
        } => hj212_check(strict)?,
        Command::Hj212 {
            command:
                Hj212Command::Sim {
                    to,
                    devices,
                    frames,
                    interval_ms,
                    cn,
                    no_ack,
                    start,
                    warmup,
                    password,
                },
        } => {
            let start = match start {
                Some(s) => rewater_hj212::DataTime::parse(&s)
                    .ok_or_else(|| input_err(format!("--start '{s}' is not YYYYMMDDhhmmss")))?,
                None => rewater_hj212::DataTime::from_wall_seconds(
                    rewater_time::Zone::shanghai().now_wall_seconds() / 60 * 60,
                ),
            };
            let opts = rewater_server::sim::SimOptions {
                to,
                devices,
                frames,
                interval: std::time::Duration::from_millis(interval_ms),
                cn,
                ack: !no_ack,
                start,
                warmup,
                password,
            };
            let report = rewater_server::sim::simulate(opts)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Serve(args) => monitor::serve(args.config()?)?,
        Command::User { command } => accounts::user_cmd(command)?,
        Command::Device { command } => accounts::device_cmd(command)?,
        Command::Comply {
            input,
            standard,
            water_body,
            plant_built,
            format,
        } => {
            let (std, class) = standards.resolve(&standard).map_err(input_err)?;
            let (name, text) = read_input(input.as_deref())?;
            let series = series_from_csv(text.as_bytes(), &name).map_err(input_err)?;
            let ctx = Context {
                water_body: water_body.as_deref().map(parse_water_body).transpose()?,
                plant_built: plant_built
                    .map(|d| d.parse().map_err(input_err))
                    .transpose()?,
                ..Default::default()
            };
            let report = rewater_standards::comply(std, class, &series, &ctx).map_err(input_err)?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                OutputFormat::Text => report::print_compliance(&report),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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

fn parse_water_body(s: &str) -> Result<WaterBody> {
    match s {
        "river" => Ok(WaterBody::River),
        "lake" | "reservoir" => Ok(WaterBody::Lake),
        _ => Err(input_err(format!("water body '{s}' must be river or lake"))),
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
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut sim = Simulation::new(&region)?;
    let bar = (!quiet && std::io::stderr().is_terminal() && region.days > 30).then(|| {
        let b = indicatif::ProgressBar::new(region.days as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} days {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut progress = |d: usize, _n: usize| {
        if let Some(b) = &bar {
            if d.is_multiple_of(30) {
                b.set_position(d as u64);
            }
        }
    };
    let summary = if daily {
        let mut writer = CsvDailyWriter::create(out, &sim)
            .with_context(|| format!("creating CSV files in {}", out.display()))?;
        let s = sim.run(Some(&mut writer), &mut progress)?;
        writer.finish()?;
        s
    } else {
        sim.run(None, &mut progress)?
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let path = out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(summary)
}

fn read_summary(p: &Path) -> Result<Summary> {
    let file = if p.is_dir() {
        p.join("summary.json")
    } else {
        p.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| input_err(format!("{}: {e}", file.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| input_err(format!("{}: not a rewater summary: {e}", file.display())))
}

/// The bundled demo: the Beijing-style example, written out so the run reads real files.
fn write_demo(dir: &Path) -> Result<PathBuf> {
    rewater_server::demo::write_demo(dir)
        .with_context(|| format!("writing the demo to {}", dir.display()))
}

fn standards_cmd(cmd: StandardsCommand, standards: &Standards) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match cmd {
        StandardsCommand::List => {
            writeln!(
                out,
                "{:<18} {:<14} {:<9} {:>6}  title",
                "id", "kind", "confidence", "limits"
            )?;
            for s in standards.all() {
                writeln!(
                    out,
                    "{:<18} {:<14} {:<10} {:>6}  {} / {}",
                    s.id,
                    format!("{:?}", s.kind).to_lowercase(),
                    format!("{:?}", s.confidence).to_lowercase(),
                    s.limits.len(),
                    s.title_zh,
                    s.title_en
                )?;
            }
        }
        StandardsCommand::Show { id, format } => {
            let s = standards.get(&id).ok_or_else(|| {
                input_err(format!(
                    "unknown standard '{id}' (`rewater standards list`)"
                ))
            })?;
            match format {
                OutputFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report::standard_json(s))?
                ),
                OutputFormat::Text => report::print_standard(s),
            }
        }
        StandardsCommand::Factors => {
            writeln!(
                out,
                "{:<24} {:<6} {:<12} {:<18} name",
                "code", "2005", "unit", "aliases"
            )?;
            for f in Factor::all() {
                let i = f.info();
                writeln!(
                    out,
                    "{:<24} {:<6} {:<12} {:<18} {} / {}",
                    i.code,
                    i.code_2005.unwrap_or("-"),
                    i.unit.as_str(),
                    i.aliases.join(","),
                    i.name_zh,
                    i.name_en
                )?;
            }
        }
    }
    Ok(())
}
