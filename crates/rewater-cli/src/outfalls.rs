//! `rewater outfalls`: the river-outfall ledger (入河排污口台账). Arguments map onto
//! `rewater_outfalls` (import, pages, chain, tracing, export) over a store.

use crate::input_err;
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use rewater_outfalls::io::{self, Format};
use rewater_outfalls::network::Network;
use rewater_outfalls::store as ledger_store;
use rewater_outfalls::trace::{self, Exceedance};
use rewater_outfalls::{inverse, Basis, CheckOptions, Compliance};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum OutfallsCommand {
    /// Import a folder of CSV files, an .xlsx workbook or a .geojson file into the ledger;
    /// all or nothing: any bad row refuses the whole import.
    Import {
        files: Vec<PathBuf>,
        #[arg(long)]
        store: String,
        /// Recorded with each new version (who made the change).
        #[arg(long, default_value = "cli")]
        who: String,
        #[arg(long, default_value = "import")]
        reason: String,
        /// Outfall codes must follow the (UNVERIFIED) HJ 1235 layout.
        #[arg(long)]
        strict_codes: bool,
    },
    /// List outfalls, filtered.
    List {
        #[arg(long)]
        store: String,
        #[arg(long)]
        district: Option<String>,
        /// Text in code, name, class, responsible party…
        #[arg(long)]
        search: Option<String>,
        /// An HJ 1312 class id (e.g. industrial.enterprise) or undetermined.
        #[arg(long)]
        class: Option<String>,
        /// legal, illegal or unknown.
        #[arg(long)]
        compliance: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long)]
        json: bool,
    },
    /// One outfall: record, chain (channels, dischargers), downstream sections, versions.
    Show {
        code: String,
        #[arg(long)]
        store: String,
        /// Factor for the downstream sections (default cod).
        #[arg(long, default_value = "cod")]
        factor: String,
    },
    /// Trace: from an outfall downstream, from a section upstream, or inverse from several
    /// sections' observed excess concentrations (--observe SECTION=MG_PER_L, repeatable).
    Trace {
        #[arg(long)]
        store: String,
        #[arg(long, default_value = "cod")]
        factor: String,
        #[arg(long, conflicts_with_all = ["section", "observe"])]
        outfall: Option<String>,
        #[arg(long, conflicts_with = "observe")]
        section: Option<String>,
        /// Observed concentration at the section (mg/L).
        #[arg(long)]
        observed: Option<f64>,
        #[arg(long, default_value_t = 0.0)]
        background: f64,
        /// Only sources whose water arrives within this many hours.
        #[arg(long)]
        max_travel_h: Option<f64>,
        #[arg(long)]
        min_travel_h: Option<f64>,
        #[arg(long)]
        observe: Vec<String>,
        /// Outfall data-logger readings at most this many hours old replace the ledger's
        /// typical discharges (0: typical values only).
        #[arg(long, default_value_t = 24.0)]
        logger_window_h: f64,
    },
    /// The district's yearly outfall self-report (区级入河排污口年度自查报告, due 31 January of the
    /// next year): coverage, rectification, dynamic zero and spills; zh by default.
    Report {
        #[arg(long)]
        store: String,
        #[arg(long)]
        district: String,
        #[arg(long)]
        year: i32,
        #[arg(long, default_value = "zh")]
        lang: String,
        /// md (default), html or pdf (printed by Chromium; needs --out).
        #[arg(long, value_enum, default_value = "md")]
        format: ReportFormat,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Count the spills (12/24 rule) of the ledger's overflow outfalls from a simulation:
    /// a rewater-overflow case (.toml) or an EPA SWMM file (.inp) whose outlets the
    /// outfalls name in `overflow_outlet`; stored by outfall and calendar year.
    Spills {
        case: PathBuf,
        #[arg(long)]
        store: String,
        /// Internal time step, seconds (default: the case's).
        #[arg(long)]
        step_s: Option<i64>,
        /// SWMM files: fast, steady or kinwave instead of the file's routing.
        #[arg(long)]
        routing: Option<rewater_overflow::network::FlowRouting>,
        /// Who records the counts (the audit log's name).
        #[arg(long, default_value = "overflow")]
        who: String,
    },
    /// Check the ledger against a regional model: every outfall's model_node names an
    /// outfall, river or plant of the model, and every outfall node of the model has a
    /// ledger entry. Exits 1 when a link is wrong.
    CheckModel {
        model: PathBuf,
        #[arg(long)]
        store: String,
        #[arg(long)]
        json: bool,
    },
    /// Export the ledger.
    Export {
        out: PathBuf,
        #[arg(long)]
        store: String,
        #[arg(long, value_enum)]
        format: ExportFormat,
    },
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
    Pdf,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Geojson,
}

fn json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub fn run(cmd: OutfallsCommand) -> Result<()> {
    match cmd {
        OutfallsCommand::Import {
            files,
            store,
            who,
            reason,
            strict_codes,
        } => {
            let mut s = rewater_store::open(&store).with_context(|| format!("store {store}"))?;
            let base = ledger_store::load_ledger(s.as_mut())?;
            let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
            let (ledger, report) =
                io::import(&base, &paths, CheckOptions { strict_codes }).map_err(input_err)?;
            let out = ledger_store::save_ledger(
                s.as_mut(),
                &ledger,
                &who,
                &reason,
                rewater_time::now_unix_ms(),
            )?;
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "imported {} outfalls, {} reaches, {} sections, {} dischargers, {} links ({} converted from GCJ-02); {} new versions, {} unchanged",
                report.outfalls, report.reaches, report.sections, report.dischargers, report.links, report.converted_from_gcj02, out.new_versions, out.unchanged
            );
        }
        OutfallsCommand::List {
            store,
            district,
            search,
            class,
            compliance,
            limit,
            offset,
            json: as_json,
        } => {
            let mut s = rewater_store::open(&store)?;
            let compliance = compliance
                .map(|c| c.parse::<Compliance>())
                .transpose()
                .map_err(input_err)?;
            let f = ledger_store::OutfallFilter {
                district,
                search,
                class,
                compliance,
                limit,
                offset,
            };
            let (n, page) = ledger_store::outfall_page(s.as_mut(), &f)?;
            if as_json {
                return json(&serde_json::json!({"total": n, "outfalls": page}));
            }
            println!(
                "{n} outfalls match; {}–{}:",
                offset + 1,
                offset + page.len() as i64
            );
            for o in &page {
                let class = rewater_outfalls::classes::class(&o.class)
                    .map_or(o.class.as_str(), |c| c.zh.as_str());
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    o.code,
                    o.name,
                    class,
                    o.district,
                    o.reach,
                    o.compliance.word()
                );
            }
        }
        OutfallsCommand::Show {
            code,
            store,
            factor,
        } => {
            let mut s = rewater_store::open(&store)?;
            let l = ledger_store::load_ledger(s.as_mut())?;
            let o = l
                .outfall(&code)
                .with_context(|| format!("no outfall '{code}'"))
                .map_err(input_err)?;
            let net = Network::build(&l).map_err(input_err)?;
            let downstream = trace::forward(&l, &net, &code, &factor)?;
            let versions: Vec<_> = ledger_store::history(s.as_mut(), "outfall", &code)?
                .into_iter()
                .map(|r| serde_json::json!({"version": r.version, "who": r.who, "reason": r.reason, "at_ms": r.at_ms}))
                .collect();
            json(
                &serde_json::json!({"outfall": o, "chain": l.chain_of(&code), "downstream": downstream, "versions": versions}),
            )?;
        }
        OutfallsCommand::Trace {
            store,
            factor,
            outfall,
            section,
            observed,
            background,
            max_travel_h,
            min_travel_h,
            observe,
            logger_window_h,
        } => {
            let mut s = rewater_store::open(&store)?;
            let mut l = ledger_store::load_ledger(s.as_mut())?;
            if !(logger_window_h.is_finite() && logger_window_h >= 0.0) {
                return Err(input_err("--logger-window-h: a number of hours ≥ 0"));
            }
            if logger_window_h > 0.0 {
                let zone = rewater_time::Zone::default();
                let window_s = (logger_window_h * 3600.0) as i64;
                let uses = rewater_outfalls::measured::apply_loggers(
                    &mut l,
                    zone.now_wall_seconds(),
                    window_s,
                    |mn| s.latest(mn),
                )?;
                for u in uses {
                    match (&u.kept, u.data_time) {
                        (Some(why), _) => eprintln!("{} ({}): {why}", u.outfall, u.site_mn),
                        (None, Some(t)) => eprintln!(
                            "{}: discharge from data logger {} at {}",
                            u.outfall,
                            u.site_mn,
                            zone.rfc3339_wall(t)
                        ),
                        _ => {}
                    }
                }
            }
            let net = Network::build(&l).map_err(input_err)?;
            if let Some(o) = outfall {
                return json(&trace::forward(&l, &net, &o, &factor).map_err(input_err)?);
            }
            if let Some(sec) = section {
                let q = Exceedance {
                    section: sec,
                    factor,
                    observed_mg_per_l: observed,
                    background_mg_per_l: background,
                    observed_basis: observed.map(|_| Basis::Measured),
                    min_travel_s: min_travel_h.map(|h| h * 3600.0),
                    max_travel_s: max_travel_h.map(|h| h * 3600.0),
                };
                return json(&trace::backward(&l, &net, &q).map_err(input_err)?);
            }
            let obs = observe
                .iter()
                .map(|o| {
                    let (sec, v) = o
                        .split_once('=')
                        .with_context(|| format!("--observe '{o}' should read SECTION=MG_PER_L"))?;
                    let v: f64 = v
                        .parse()
                        .with_context(|| format!("--observe '{o}': not a number"))?;
                    Ok(inverse::Observation {
                        section: sec.into(),
                        excess_mg_per_l: v,
                    })
                })
                .collect::<Result<Vec<_>>>()
                .map_err(input_err)?;
            if obs.is_empty() {
                return Err(input_err(
                    "give --outfall, --section or --observe SECTION=MG_PER_L",
                ));
            }
            json(&inverse::estimate(&l, &net, &factor, &obs).map_err(input_err)?)?;
        }
        OutfallsCommand::Report {
            store,
            district,
            year,
            lang,
            format,
            out,
        } => {
            if !(1990..=2200).contains(&year) {
                return Err(input_err("--year: 1990–2200"));
            }
            if lang != "zh" && lang != "en" {
                return Err(input_err("--lang: zh or en"));
            }
            let mut s = rewater_store::open(&store)?;
            let l = ledger_store::load_ledger(s.as_mut())?;
            if !l.outfalls.iter().any(|o| o.district == district) {
                return Err(input_err(format!(
                    "no outfall of district '{district}' in the ledger"
                )));
            }
            let recs = ledger_store::rectifications(s.as_mut(), Some(&district))?;
            let zone = rewater_time::Zone::default();
            let offset = zone.offset_s(rewater_time::now_unix_ms() / 1000);
            let spills = ledger_store::spill_years(s.as_mut(), Some(&district), Some(year), None)?;
            let data = rewater_outfalls::report::self_report_data(
                &l,
                &recs,
                &district,
                year,
                zone.today(),
                offset,
            )
            .with_spills(&spills);
            if format != ReportFormat::Md {
                return write_report(&data, &lang, format, out);
            }
            let text = rewater_outfalls::report::markdown(&data, &lang);
            match out {
                Some(p) => {
                    std::fs::write(&p, &text)
                        .with_context(|| format!("writing {}", p.display()))?;
                    println!("{}", p.display());
                }
                None => print!("{text}"),
            }
        }
        OutfallsCommand::Spills {
            case,
            store,
            step_s,
            routing,
            who,
        } => spills(&case, &store, step_s, routing, &who)?,
        OutfallsCommand::CheckModel {
            model,
            store,
            json: as_json,
        } => check_model(&model, &store, as_json)?,
        OutfallsCommand::Export { out, store, format } => {
            let mut s = rewater_store::open(&store)?;
            let l = ledger_store::load_ledger(s.as_mut())?;
            let f = match format {
                ExportFormat::Csv => Format::Csv,
                ExportFormat::Xlsx => Format::Xlsx,
                ExportFormat::Geojson => Format::GeoJson,
            };
            io::export(&l, f, &out)?;
            println!("wrote {} outfalls to {}", l.outfalls.len(), out.display());
        }
    }
    Ok(())
}

/// The self-report as HTML or PDF (the reports crate's document) into `out`.
fn write_report(
    data: &rewater_outfalls::report::SelfReport,
    lang: &str,
    format: ReportFormat,
    out: Option<PathBuf>,
) -> Result<()> {
    let lang = rewater_reports::Lang::parse(lang).unwrap_or_default();
    let doc = rewater_reports::outfalls::self_report_doc(data, lang);
    if format == ReportFormat::Html && out.is_none() {
        print!("{}", rewater_reports::html::render(&doc));
        return Ok(());
    }
    let out = out.ok_or_else(|| input_err("--format pdf needs --out FILE.pdf"))?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "outfall-self-report".into());
    let browser = match format {
        ReportFormat::Pdf => Some(
            rewater_reports::pdf::find_chromium()
                .ok_or(rewater_reports::pdf::PdfError::NoChromium)?,
        ),
        _ => None,
    };
    let w = rewater_reports::write(&doc, dir, &stem, browser.as_deref())?;
    if format == ReportFormat::Html {
        println!("{}", w.html.display());
    } else {
        // The printed PDF is what was asked for; its HTML source is not.
        let _ = std::fs::remove_file(&w.html);
        if let Some(p) = w.pdf {
            println!("{}", p.display());
        }
    }
    Ok(())
}

/// `rewater outfalls spills`: simulate, count, store.
fn spills(
    case: &std::path::Path,
    store: &str,
    step_s: Option<i64>,
    routing: Option<rewater_overflow::network::FlowRouting>,
    who: &str,
) -> Result<()> {
    let options = rewater_overflow::study::StudyOptions {
        step_s,
        routing,
        ..Default::default()
    };
    let (system, design) = rewater_overflow::study::load(case, &options).map_err(|e| match e {
        rewater_overflow::study::StudyError::Input(e) => input_err(e),
        rewater_overflow::study::StudyError::Options(m) => anyhow::Error::msg(m),
    })?;
    let outcome = rewater_overflow::study::run(&system, &design);
    let mut s = rewater_store::open(store)?;
    let l = ledger_store::load_ledger(s.as_mut())?;
    let source = case.file_name().map_or_else(
        || case.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let (years, unmatched) =
        rewater_outfalls::spills::from_overflow_report(&l, &outcome.report, &source);
    if years.is_empty() {
        return Err(input_err(format!(
            "no outfall of the ledger names an outlet of {} in overflow_outlet (outlets: {})",
            case.display(),
            unmatched.join(", ")
        )));
    }
    let now = rewater_time::now_unix_ms();
    let put = ledger_store::save_spill_years(
        s.as_mut(),
        &years,
        who,
        &format!("spills counted from {source}"),
        now,
    )?;
    for y in &years {
        println!(
            "{}\t{}\t{} spills\t{} discharges\t{:.1} h\t{:.0} m³",
            y.outfall,
            y.year,
            y.spills,
            y.discharges,
            y.duration_h,
            y.volume_m3.unwrap_or(0.0)
        );
    }
    if !unmatched.is_empty() {
        eprintln!("outlets no outfall names: {}", unmatched.join(", "));
    }
    eprintln!(
        "{} spill years stored ({} unchanged)",
        put.new_versions, put.unchanged
    );
    Ok(())
}

/// `rewater outfalls check-model`.
fn check_model(model: &std::path::Path, store: &str, as_json: bool) -> Result<()> {
    let standards = rewater_standards::Standards::builtin();
    let region = rewater_model::load(model, &standards).map_err(input_err)?;
    let nodes: Vec<rewater_outfalls::model_links::ModelNode> = region
        .nodes
        .iter()
        .map(|n| rewater_outfalls::model_links::ModelNode {
            id: n.id.clone(),
            kind: n.kind.name().to_string(),
            name: n.name.clone(),
        })
        .collect();
    let mut s = rewater_store::open(store)?;
    let l = ledger_store::load_ledger(s.as_mut())?;
    let m = rewater_outfalls::model_links::check(&l, &nodes);
    if as_json {
        json(&m)?;
    } else {
        for (code, node, kind) in &m.linked {
            println!("{code}\t→ {kind} {node}");
        }
        for (code, node) in &m.unknown_nodes {
            println!(
                "{code}\tmodel_node '{node}': no such node in {}",
                model.display()
            );
        }
        for (code, node, kind) in &m.wrong_kind {
            println!("{code}\tmodel_node '{node}' is a {kind} (outfall, river or plant expected)");
        }
        for (id, name) in &m.model_outfalls_without_entry {
            println!("model outfall {id} ({name}): no ledger entry");
        }
        println!(
            "{} linked, {} wrong, {} model outfalls without an entry, {} ledger outfalls without a model node",
            m.linked.len(),
            m.unknown_nodes.len() + m.wrong_kind.len(),
            m.model_outfalls_without_entry.len(),
            m.outfalls_without_node
        );
    }
    if !m.links_valid() {
        anyhow::bail!("the ledger names model nodes that are missing or of the wrong kind");
    }
    Ok(())
}
