//! `rewater report …` and `rewater tasks …`: argument mapping onto `rewater-reports` and
//! `rewater-tasks` (and the store's `TaskStore`), and printing.

use anyhow::{Context, Result};
use rewater_reports::generate::Request;
use rewater_reports::{Lang, ReportKind};
use rewater_store::prelude::*;
use rewater_store::tasks::{NewAttachment, NewPatrol, NewProgress, ProgressFilter, RiverChief};
use rewater_tasks::{RiverChiefRules, Status, StatusCounts};
use rewater_time::{Date, Zone};
use std::io::Write;
use std::path::PathBuf;

/// Flags of `rewater report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// pilot-annual, pilot-final, plan-progress or district.
    pub kind: String,
    /// The model file.
    pub model: PathBuf,
    /// Folder for the HTML and PDF files.
    #[arg(long)]
    pub out: PathBuf,
    /// zh (default) or en.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// The district of a district scorecard.
    #[arg(long)]
    pub district: Option<String>,
    /// The calendar year of an annual report (default: the model's last year).
    #[arg(long)]
    pub year: Option<i32>,
    /// The store with task progress and alerts (none: registers without progress, no alerts).
    #[arg(long)]
    pub db: Option<String>,
    /// The day of the report, YYYY-MM-DD (default: today in the zone).
    #[arg(long)]
    pub today: Option<String>,
    /// Write the HTML only (no Chromium needed).
    #[arg(long)]
    pub no_pdf: bool,
    /// The money sections (issue 17), each added when its input is given.
    #[command(flatten)]
    pub money: crate::money::MoneyInputs,
}

#[derive(clap::Subcommand)]
pub enum TasksCommand {
    /// The tasks of the bundled registers with their status.
    List {
        #[command(flatten)]
        filter: TaskFilter,
        /// text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Number of tasks in each status, per register.
    Status {
        #[command(flatten)]
        filter: TaskFilter,
    },
    /// Report progress on a task, with evidence files (FILE or FILE=TYPE, e.g. a.pdf).
    Update {
        register: String,
        task: String,
        #[arg(long)]
        percent: u8,
        /// The day the task was completed (needs --percent 100).
        #[arg(long)]
        done_on: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        district: Option<String>,
        #[arg(long = "attach")]
        attach: Vec<String>,
        /// Who reports it (recorded in the audit log).
        #[arg(long)]
        who: String,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// Register (or change) a river chief (河长).
    Chief {
        id: String,
        #[arg(long)]
        name: String,
        /// city_chief, city_executive, city_basin, district_chief, district_executive,
        /// district_basin, township or village.
        #[arg(long)]
        level: String,
        #[arg(long)]
        water_body: String,
        #[arg(long)]
        district: Option<String>,
        /// First day in office, YYYY-MM-DD.
        #[arg(long)]
        since: String,
        #[arg(long)]
        who: String,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// Log a patrol (巡河) of a river chief.
    Patrol {
        chief: String,
        #[arg(long)]
        on: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        who: String,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// Periods in which river chiefs patrolled less often than their level requires.
    PatrolCheck {
        #[arg(long)]
        district: Option<String>,
        /// Check periods ended by this day (default today).
        #[arg(long)]
        today: Option<String>,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
}

/// Which tasks to show.
#[derive(clap::Args)]
pub struct TaskFilter {
    /// Only this register (beijing-14fyp, beijing-2023-water-environment).
    #[arg(long)]
    register: Option<String>,
    /// Only tasks this department leads or cooperates on (department id, e.g. water).
    #[arg(long)]
    department: Option<String>,
    /// overdue, due_soon, on_track or done.
    #[arg(long)]
    status: Option<String>,
    /// Progress of this district only.
    #[arg(long)]
    district: Option<String>,
    /// Status on this day, YYYY-MM-DD (default today).
    #[arg(long)]
    today: Option<String>,
    /// The store with progress updates (none: no progress reported).
    #[arg(long)]
    db: Option<String>,
    /// English titles and departments.
    #[arg(long)]
    en: bool,
}

fn day(s: Option<&str>, flag: &str) -> Result<Date> {
    match s {
        Some(s) => s
            .parse()
            .map_err(|_| crate::input_err(format!("{flag} '{s}' is not a date YYYY-MM-DD"))),
        None => Ok(Zone::default().today()),
    }
}

fn open(db: &str) -> Result<Box<dyn Store>> {
    rewater_store::open(db).with_context(|| format!("opening store {db}"))
}

/// `rewater report KIND MODEL --out DIR`.
pub fn report(args: ReportArgs, standards: &rewater_standards::Standards) -> Result<()> {
    let kind = ReportKind::parse(&args.kind).ok_or_else(|| {
        crate::input_err(format!(
            "unknown report '{}' (pilot-annual, pilot-final, plan-progress, district)",
            args.kind
        ))
    })?;
    let lang = Lang::parse(&args.lang)
        .ok_or_else(|| crate::input_err(format!("--lang '{}': zh or en", args.lang)))?;
    let region = rewater_model::load(&args.model, standards)?;
    let browser = if args.no_pdf {
        None
    } else {
        Some(
            rewater_reports::pdf::find_chromium()
                .ok_or(rewater_reports::pdf::PdfError::NoChromium)?,
        )
    };
    let (progress, alerts, sites) = match &args.db {
        Some(db) => {
            let mut s = open(db)?;
            (
                s.progress(&ProgressFilter::default())?,
                Some(s.alerts(None, None, 100_000)?),
                s.sites()?,
            )
        }
        None => (vec![], None, vec![]),
    };
    let model_file = args
        .model
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The money sections: a district report shows its own rows (the areas id given by
    // --money-district, else --district) and its district's plants' costs.
    let is_district = kind == ReportKind::District;
    let only = args
        .money
        .money_district
        .clone()
        .or_else(|| args.district.clone())
        .filter(|_| is_district);
    let money_lang = match lang {
        Lang::Zh => rewater_money::Lang::Zh,
        Lang::En => rewater_money::Lang::En,
    };
    let money = crate::money::money_tables(
        &args.money,
        args.year
            .or_else(|| Some(region.start.add_days(region.days.max(1) as i32 - 1).ymd().0)),
        only.as_deref(),
        args.district.as_deref().filter(|_| is_district),
        &region,
        standards,
        money_lang,
    )?;
    let req = Request {
        kind,
        lang,
        district: args.district,
        year: args.year,
        today: day(args.today.as_deref(), "--today")?,
        browser,
        progress,
        alerts,
        sites,
        indicators: None,
        model_dir: args
            .model
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
    };
    let written = rewater_reports::money::generate_with_money(
        &region,
        &model_file,
        standards,
        req,
        &money,
        &args.out,
    )
    .map_err(|e| match e {
        rewater_reports::ReportError::NoDistrict { .. }
        | rewater_reports::ReportError::UnknownDistrict { .. }
        | rewater_reports::ReportError::Collect(rewater_reports::collect::CollectError::Period {
            ..
        }) => crate::input_err(e),
        e => anyhow::Error::new(e),
    })?;
    println!("{}", written.html.display());
    if let Some(p) = written.pdf {
        println!("{}", p.display());
    }
    Ok(())
}

/// `rewater tasks …`.
pub fn tasks(cmd: TasksCommand) -> Result<()> {
    match cmd {
        TasksCommand::List { filter, format } => list(filter, &format),
        TasksCommand::Status { filter } => status(filter),
        TasksCommand::Update {
            register,
            task,
            percent,
            done_on,
            note,
            district,
            attach,
            who,
            db,
        } => {
            let (_, regs) = rewater_tasks::bundled()?;
            let known = regs
                .iter()
                .find(|r| r.id == register)
                .ok_or_else(|| crate::input_err(format!("unknown register '{register}'")))?;
            if known.task(&task).is_none() {
                return Err(crate::input_err(format!(
                    "register {register} has no task '{task}'"
                )));
            }
            let attachments = attach
                .iter()
                .map(|a| read_attachment(a))
                .collect::<Result<Vec<_>>>()?;
            let p = NewProgress {
                register,
                task,
                district,
                percent,
                done_on: done_on
                    .as_deref()
                    .map(|d| day(Some(d), "--done-on"))
                    .transpose()?,
                note,
                who,
                at_ms: rewater_time::now_unix_ms(),
                attachments,
            };
            let id = open(&db)?.add_progress(&p).map_err(crate::input_err)?;
            println!("progress {id} recorded for {}/{}", p.register, p.task);
            Ok(())
        }
        TasksCommand::Chief {
            id,
            name,
            level,
            water_body,
            district,
            since,
            who,
            db,
        } => {
            let rules = RiverChiefRules::bundled()?;
            if rules.level(&level).is_none() {
                let known: Vec<_> = rules.levels.iter().map(|l| l.id.as_str()).collect();
                return Err(crate::input_err(format!(
                    "unknown level '{level}' (known: {})",
                    known.join(", ")
                )));
            }
            let c = RiverChief {
                id,
                name,
                level,
                water_body,
                district,
                since: day(Some(&since), "--since")?,
            };
            open(&db)?
                .put_river_chief(&c, &who, rewater_time::now_unix_ms())
                .map_err(crate::input_err)?;
            println!("river chief {} saved", c.id);
            Ok(())
        }
        TasksCommand::Patrol {
            chief,
            on,
            note,
            who,
            db,
        } => {
            let p = NewPatrol {
                chief,
                on: day(Some(&on), "--on")?,
                note,
                who,
                at_ms: rewater_time::now_unix_ms(),
            };
            let id = open(&db)?.log_patrol(&p).map_err(crate::input_err)?;
            println!("patrol {id} logged for {}", p.chief);
            Ok(())
        }
        TasksCommand::PatrolCheck {
            district,
            today,
            db,
        } => {
            let today = day(today.as_deref(), "--today")?;
            let rules = RiverChiefRules::bundled()?;
            let mut s = open(&db)?;
            let chiefs = s.river_chiefs(district.as_deref())?;
            let mut out = std::io::stdout().lock();
            let mut n = 0;
            for c in &chiefs {
                let patrols = s.patrols(Some(&c.id), c.since, today)?;
                for f in rewater_tasks::check_patrols(&rules, c, &patrols, c.since, today)
                    .map_err(crate::input_err)?
                {
                    n += 1;
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{} – {}\t{}/{}",
                        c.id, c.name, f.level, f.from, f.to, f.patrols, f.required
                    )?;
                }
            }
            writeln!(
                out,
                "{n} period(s) short of the required patrols ({} chiefs checked)",
                chiefs.len()
            )?;
            Ok(())
        }
    }
}

fn read_attachment(spec: &str) -> Result<NewAttachment> {
    let (path, media) = match spec.rsplit_once('=') {
        Some((p, t)) => (p, t.to_string()),
        None => {
            let ext = spec.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
            let t = match ext.as_str() {
                "pdf" => "application/pdf",
                "png" => "image/png",
                "jpg" | "jpeg" => "image/jpeg",
                "csv" => "text/csv",
                _ => "text/plain",
            };
            (spec, t.to_string())
        }
    };
    let meta = std::fs::metadata(path).with_context(|| format!("reading {path}"))?;
    if meta.len() > rewater_store::tasks::MAX_ATTACHMENT_BYTES as u64 {
        return Err(crate::input_err(format!(
            "{path}: {} bytes, more than the {} allowed",
            meta.len(),
            rewater_store::tasks::MAX_ATTACHMENT_BYTES
        )));
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(NewAttachment {
        name,
        media_type: media,
        bytes,
    })
}

fn rows(
    f: &TaskFilter,
) -> Result<(
    rewater_tasks::Departments,
    Vec<(String, rewater_tasks::TaskRow)>,
)> {
    let today = day(f.today.as_deref(), "--today")?;
    let status = f
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                crate::input_err(format!(
                    "--status '{s}': overdue, due_soon, on_track or done"
                ))
            })
        })
        .transpose()?;
    let progress = match &f.db {
        Some(db) => open(db)?.progress(&ProgressFilter {
            district: f.district.clone(),
            ..Default::default()
        })?,
        None => vec![],
    };
    let (deps, regs) = rewater_tasks::bundled()?;
    if let Some(d) = &f.department {
        if deps.by_id(d).is_none() {
            return Err(crate::input_err(format!("unknown department '{d}'")));
        }
    }
    let mut out = Vec::new();
    for r in regs
        .iter()
        .filter(|r| f.register.as_ref().is_none_or(|x| *x == r.id))
    {
        for row in rewater_tasks::task_rows(r, &progress, today) {
            if status.is_some_and(|s| s != row.status) {
                continue;
            }
            if f.department.as_ref().is_some_and(|d| !row.task.involves(d)) {
                continue;
            }
            out.push((r.name(f.en).to_string(), row));
        }
    }
    Ok((deps, out))
}

fn list(f: TaskFilter, format: &str) -> Result<()> {
    let (deps, rows) = rows(&f)?;
    let mut out = std::io::stdout().lock();
    if format == "json" {
        let v: Vec<_> = rows.iter().map(|(_, r)| r).collect();
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    for (_, r) in &rows {
        let lead: Vec<String> = r.task.lead.iter().map(|d| deps.name(d, f.en)).collect();
        writeln!(
            out,
            "{}/{}\t{}\t{}\t{} %\t{}\t{}",
            r.register,
            r.task.id,
            r.status.label(f.en),
            r.task.deadline,
            r.percent,
            r.task.title(f.en),
            lead.join(if f.en { ", " } else { "、" })
        )?;
    }
    Ok(())
}

fn status(f: TaskFilter) -> Result<()> {
    let (_, rows) = rows(&f)?;
    let mut by: Vec<(String, Vec<rewater_tasks::TaskRow>)> = Vec::new();
    for (name, r) in rows {
        match by.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(r),
            None => by.push((name, vec![r])),
        }
    }
    let mut out = std::io::stdout().lock();
    for (name, rs) in by {
        let c = StatusCounts::of(&rs);
        let parts: Vec<String> = Status::ALL
            .iter()
            .map(|s| format!("{} {}", s.label(f.en), c.get(*s)))
            .collect();
        writeln!(out, "{name}: {} tasks; {}", c.total(), parts.join(", "))?;
    }
    Ok(())
}
