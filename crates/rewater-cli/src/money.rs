//! `rewater money`: funding shares, O&M subsidies, water-ecology compensation,
//! pay-for-performance fees and reclaimed-water cost (rewater-money). Arguments map onto
//! the library; tables go to standard output as CSV, or to `--out FILE.csv|FILE.xlsx`, or as
//! JSON with `--json`.

use crate::input_err;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use rewater_money::compensation::MUNICIPAL;
use rewater_money::{Areas, Lang, RuleBook, Table};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct Common {
    /// Rule-set files (TOML, the shape of money/rules/): a set of the same id replaces the
    /// bundled one, others are added. Repeatable.
    #[arg(long)]
    rules: Vec<PathBuf>,
    /// An areas file (the shape of money/areas.toml): its districts replace the bundled ones.
    #[arg(long)]
    areas: Option<PathBuf>,
    /// zh or en.
    #[arg(long, default_value = "zh")]
    lang: String,
    /// Write the tables to this file (.csv or .xlsx) instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the ledger as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum MoneyCommand {
    /// The bundled (and given) rule sets: document, validity, confidence.
    Rules {
        #[command(flatten)]
        common: Common,
    },
    /// Construction funding shares of a project list (CSV/XLSX): by project, by payer, by year.
    Funding {
        projects: PathBuf,
        /// Funding rule sets tried in order (default jzf-2023-6,jzf-2023-7).
        #[arg(long, value_delimiter = ',')]
        sets: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Rural O&M subsidies of plants and pipes, and village water-supply stations.
    Subsidies {
        #[arg(long)]
        facilities: Option<PathBuf>,
        #[arg(long)]
        stations: Option<PathBuf>,
        /// The base-rate rule set (within 0.5–3.2 元/m³).
        /// A monitoring store: the volume of a plant whose volume_m3 is empty is its site's
        /// flow total of the year.
        #[arg(long)]
        db: Option<String>,
        #[arg(long, default_value = "om-base-rate")]
        rate_set: String,
        #[command(flatten)]
        common: Common,
    },
    /// Water-ecology compensation of a year at boundary sections.
    Compensation {
        sections: PathBuf,
        #[arg(long)]
        year: i32,
        /// Entered monthly values (section,month,factor,value); they win over the store's.
        #[arg(long)]
        values: Option<PathBuf>,
        /// A monitoring store: monthly means at the sections' sites.
        #[arg(long)]
        db: Option<String>,
        #[arg(long, default_value = rewater_money::compensation::DEFAULT_SET)]
        rule: String,
        #[command(flatten)]
        common: Common,
    },
    /// Pay-for-performance monthly fees per plant.
    Fees {
        /// Monthly plant figures (CSV/XLSX).
        #[arg(long, required_unless_present = "db")]
        months: Option<PathBuf>,
        /// Or read them from a monitoring store (with --plant, --outlet, --year).
        #[arg(long, requires_all = ["plant", "outlet", "year"])]
        db: Option<String>,
        #[arg(long)]
        plant: Option<String>,
        #[arg(long)]
        outlet: Option<String>,
        #[arg(long)]
        inlet: Option<String>,
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, default_value = rewater_money::fees::DEFAULT_SET)]
        contracts: String,
        #[command(flatten)]
        common: Common,
    },
    /// The plan-progress or a district report (HTML and PDF) with the money sections: the
    /// district construction budget (--projects) and the compensation settlement (--sections).
    Report(ReportArgs),
    /// Reclaimed-water unit cost and prices of a model run.
    Cost {
        model: PathBuf,
        #[arg(long, default_value = rewater_money::cost::DEFAULT_COST_SET)]
        cost_set: String,
        #[arg(long, default_value = rewater_money::cost::DEFAULT_PRICE_SET)]
        price_set: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args)]
pub struct ReportArgs {
    /// plan-progress or district.
    pub kind: String,
    pub model: PathBuf,
    /// Folder for the HTML and PDF files.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub projects: Option<PathBuf>,
    #[arg(long, requires = "year")]
    pub sections: Option<PathBuf>,
    #[arg(long)]
    pub values: Option<PathBuf>,
    /// The compensation year.
    #[arg(long)]
    pub year: Option<i32>,
    #[arg(long, default_value = rewater_money::compensation::DEFAULT_SET)]
    pub rule: String,
    /// The model district of a district report.
    #[arg(long)]
    pub district: Option<String>,
    /// The district (money/areas.toml id) whose money rows a district report shows
    /// (default: --district).
    #[arg(long)]
    pub money_district: Option<String>,
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// The day of the report, YYYY-MM-DD (default: today in Asia/Shanghai).
    #[arg(long)]
    pub today: Option<String>,
    #[arg(long)]
    pub no_pdf: bool,
    /// Add the reclaimed-water unit cost by plant and by supply route of the model's run.
    #[arg(long)]
    pub cost: bool,
}

fn setup(c: &Common) -> Result<(RuleBook, Areas, Lang)> {
    let mut book = RuleBook::bundled();
    for f in &c.rules {
        book.add_file(f).map_err(input_err)?;
    }
    let areas = match &c.areas {
        Some(p) => Areas::bundled().with_file(p).map_err(input_err)?,
        None => Areas::bundled(),
    };
    let lang: Lang = c.lang.parse().map_err(input_err)?;
    Ok((book, areas, lang))
}

fn emit(
    c: &Common,
    lang: Lang,
    tables: &[Table],
    json: impl FnOnce() -> serde_json::Result<String>,
) -> Result<()> {
    if c.json {
        writeln!(std::io::stdout().lock(), "{}", json()?)?;
        return Ok(());
    }
    match &c.out {
        Some(p)
            if p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) =>
        {
            Table::write_xlsx(tables, p, lang).map_err(anyhow::Error::new)?;
            println!("{}", p.display());
        }
        Some(p) => {
            std::fs::write(p, Table::csv_text(tables, lang))
                .with_context(|| format!("writing {}", p.display()))?;
            println!("{}", p.display());
        }
        None => {
            let text = Table::csv_text(tables, lang);
            std::io::stdout()
                .lock()
                .write_all(text.trim_start_matches('\u{feff}').as_bytes())?;
        }
    }
    Ok(())
}

fn money_err(e: rewater_money::MoneyError) -> anyhow::Error {
    match e {
        rewater_money::MoneyError::Input(_) | rewater_money::MoneyError::Rule { .. } => {
            input_err(e)
        }
        other => anyhow::Error::new(other),
    }
}

pub fn run(cmd: MoneyCommand, standards: &rewater_standards::Standards) -> Result<()> {
    match cmd {
        MoneyCommand::Rules { common } => {
            let (book, _, lang) = setup(&common)?;
            let mut t = Table::new(
                "rules",
                rewater_money::Text::new("资金规则", "Money rule sets"),
                &[
                    ("编号", "id"),
                    ("版本", "version"),
                    ("类别", "kind"),
                    ("文件", "document"),
                    ("自", "from"),
                    ("至", "to"),
                    ("可信度", "confidence"),
                ],
            );
            for s in book.sets.values() {
                use rewater_money::table::Cell;
                t.rows.push(vec![
                    Cell::text(&s.id),
                    Cell::text(&s.version),
                    Cell::text(format!("{:?}", s.kind)),
                    Cell::text(&s.document),
                    Cell::text(&s.valid_from),
                    Cell::text(s.valid_to.clone().unwrap_or_default()),
                    Cell::text(s.weakest().label(lang)),
                ]);
            }
            emit(&common, lang, &[t], || serde_json::to_string_pretty(&book))
        }
        MoneyCommand::Funding {
            projects,
            sets,
            common,
        } => {
            let (book, areas, lang) = setup(&common)?;
            let list =
                rewater_money::funding::read_projects(&projects, &areas).map_err(input_err)?;
            let ids: Vec<&str> = if sets.is_empty() {
                rewater_money::funding::DEFAULT_SETS.to_vec()
            } else {
                sets.iter().map(String::as_str).collect()
            };
            let f = rewater_money::funding::funding(&book, &ids, &list).map_err(money_err)?;
            emit(&common, lang, &f.tables(&book, &areas, lang), || {
                serde_json::to_string_pretty(&f.projects)
            })
        }
        MoneyCommand::Subsidies {
            facilities,
            stations,
            db,
            rate_set,
            common,
        } => {
            let (book, areas, lang) = setup(&common)?;
            if facilities.is_none() && stations.is_none() {
                return Err(input_err("give --facilities and/or --stations"));
            }
            let mut f = match &facilities {
                Some(p) => rewater_money::subsidy::read_facilities(p, &areas).map_err(input_err)?,
                None => Vec::new(),
            };
            if let Some(db) = &db {
                let mut store =
                    rewater_store::open(db).with_context(|| format!("opening store {db}"))?;
                rewater_money::store::fill_volumes(store.as_mut(), &mut f).map_err(input_err)?;
            }
            let s = match &stations {
                Some(p) => rewater_money::subsidy::read_stations(p, &areas).map_err(input_err)?,
                None => Vec::new(),
            };
            let l = rewater_money::subsidy::subsidies(
                &book,
                "jzf-2023-6",
                "jzf-2023-7",
                &rate_set,
                &f,
                &s,
            )
            .map_err(money_err)?;
            emit(&common, lang, &l.tables(&book, &areas, lang), || {
                serde_json::to_string_pretty(&l)
            })
        }
        MoneyCommand::Compensation {
            sections,
            year,
            values,
            db,
            rule,
            common,
        } => {
            let (book, areas, lang) = setup(&common)?;
            let known = |s: &str| areas.district(s).map(|d| d.id.clone());
            let secs =
                rewater_money::compensation::read_sections(&sections, &known).map_err(input_err)?;
            let entered = match &values {
                Some(p) => rewater_money::compensation::read_values(p, year).map_err(input_err)?,
                None => Default::default(),
            };
            let all = match &db {
                Some(db) => {
                    let mut store =
                        rewater_store::open(db).with_context(|| format!("opening store {db}"))?;
                    let set = book
                        .get(&rule, rewater_money::RuleKind::Compensation)
                        .map_err(money_err)?;
                    let factors: Vec<rewater_standards::Factor> = set
                        .compensation
                        .as_ref()
                        .map(|c| {
                            c.factors
                                .iter()
                                .filter_map(|f| rewater_standards::Factor::parse(f).ok())
                                .collect()
                        })
                        .unwrap_or_default();
                    let v =
                        rewater_money::store::monthly_means(store.as_mut(), &secs, &factors, year)
                            .map_err(money_err)?;
                    rewater_money::store::overlay(v, &entered)
                }
                None => entered,
            };
            let c = rewater_money::compensation::compensation(
                &book, &rule, standards, &secs, &all, year,
            )
            .map_err(money_err)?;
            let name = |d: &str| {
                if d == MUNICIPAL {
                    match lang {
                        Lang::Zh => "市级".to_string(),
                        Lang::En => "municipal pool".to_string(),
                    }
                } else {
                    areas.name(d, lang)
                }
            };
            emit(&common, lang, &c.tables(&book, &name, lang), || {
                serde_json::to_string_pretty(&c)
            })
        }
        MoneyCommand::Fees {
            months,
            db,
            plant,
            outlet,
            inlet,
            year,
            contracts,
            common,
        } => {
            let (book, _, lang) = setup(&common)?;
            let list = match (&months, &db) {
                (Some(p), _) => rewater_money::fees::read_months(p).map_err(input_err)?,
                (None, Some(db)) => {
                    let mut store =
                        rewater_store::open(db).with_context(|| format!("opening store {db}"))?;
                    let (Some(plant), Some(outlet), Some(year)) = (&plant, &outlet, year) else {
                        return Err(input_err("--db needs --plant, --outlet and --year"));
                    };
                    rewater_money::store::plant_months(
                        store.as_mut(),
                        standards,
                        plant,
                        outlet,
                        inlet.as_deref(),
                        year,
                    )
                    .map_err(money_err)?
                }
                (None, None) => return Err(input_err("give --months or --db")),
            };
            let f = rewater_money::fees::fees(&book, &contracts, &list).map_err(money_err)?;
            emit(&common, lang, &f.tables(&book, lang), || {
                serde_json::to_string_pretty(&f)
            })
        }
        MoneyCommand::Report(a) => report(a, standards),
        MoneyCommand::Cost {
            model,
            cost_set,
            price_set,
            common,
        } => {
            let (book, _, lang) = setup(&common)?;
            let region = rewater_model::load(&model, standards).map_err(input_err)?;
            let c = rewater_money::cost::cost_of_model(&book, &cost_set, &price_set, &region)
                .map_err(money_err)?;
            emit(&common, lang, &c.tables(&book, lang), || {
                serde_json::to_string_pretty(&c)
            })
        }
    }
}

/// The money inputs of a report (`rewater report … --projects … --sections …`): each one
/// given adds its section to the report.
#[derive(Args, Default)]
pub struct MoneyInputs {
    /// Money: a project list (CSV/XLSX) → the district construction budget section.
    #[arg(long)]
    pub projects: Option<PathBuf>,
    /// Money: boundary sections (CSV/XLSX) → the compensation settlement section (of
    /// --compensation-year, else --year).
    #[arg(long)]
    pub sections: Option<PathBuf>,
    /// Money: entered monthly values at the sections.
    #[arg(long)]
    pub values: Option<PathBuf>,
    /// Money: the compensation year (default: --year).
    #[arg(long)]
    pub compensation_year: Option<i32>,
    /// Money: the compensation rule set.
    #[arg(long, default_value = rewater_money::compensation::DEFAULT_SET)]
    pub compensation_rule: String,
    /// Money: the district (money/areas.toml id) whose money rows a district report shows
    /// (default: --district).
    #[arg(long)]
    pub money_district: Option<String>,
    /// Money: rule-set files replacing or adding to the bundled ones. Repeatable.
    #[arg(long)]
    pub money_rules: Vec<PathBuf>,
    /// Money: add the reclaimed-water unit cost by plant and by supply route of the model's
    /// run (bundled cost and price sets, or --money-rules files of the same ids).
    #[arg(long)]
    pub money_cost: bool,
}

/// Computes the money sections of a report. `district` is the model district of a district
/// report (its plants' costs); `only` the areas id whose budget and settlement rows show.
#[allow(clippy::too_many_arguments)]
pub fn money_tables(
    m: &MoneyInputs,
    year: Option<i32>,
    only: Option<&str>,
    district: Option<&str>,
    region: &rewater_model::Region,
    standards: &rewater_standards::Standards,
    lang: Lang,
) -> Result<rewater_reports::money::MoneyTables> {
    let common = Common {
        rules: m.money_rules.clone(),
        areas: None,
        lang: "zh".into(),
        out: None,
        json: false,
    };
    let (book, areas, _) = setup(&common)?;
    let mut money = rewater_reports::money::MoneyTables::default();
    if let Some(p) = &m.projects {
        let list = rewater_money::funding::read_projects(p, &areas).map_err(input_err)?;
        let f = rewater_money::funding::funding(&book, rewater_money::funding::DEFAULT_SETS, &list)
            .map_err(money_err)?;
        money.budget = Some(f.budget_table(&book, &areas, lang, only));
    }
    if let Some(p) = &m.sections {
        let Some(year) = m.compensation_year.or(year) else {
            return Err(input_err(
                "--sections needs the compensation year (--compensation-year or --year)",
            ));
        };
        let known = |s: &str| areas.district(s).map(|d| d.id.clone());
        let secs = rewater_money::compensation::read_sections(p, &known).map_err(input_err)?;
        let v = match &m.values {
            Some(v) => rewater_money::compensation::read_values(v, year).map_err(input_err)?,
            None => Default::default(),
        };
        let mut c = rewater_money::compensation::compensation(
            &book,
            &m.compensation_rule,
            standards,
            &secs,
            &v,
            year,
        )
        .map_err(money_err)?;
        if let Some(d) = only {
            c.settlement.retain(|k, _| k == d);
        }
        let name = |d: &str| {
            if d == MUNICIPAL {
                rewater_money::Text::new("市级", "municipal pool")
                    .get(lang)
                    .to_string()
            } else {
                areas.name(d, lang)
            }
        };
        money.settlement = c
            .tables(&book, &name, lang)
            .into_iter()
            .find(|t| t.id == "compensation-settlement");
    }
    if m.money_cost {
        let mut c = rewater_money::cost::cost_of_model(
            &book,
            rewater_money::cost::DEFAULT_COST_SET,
            rewater_money::cost::DEFAULT_PRICE_SET,
            region,
        )
        .map_err(money_err)?;
        if let Some(d) = district {
            c.only_district(d);
        }
        money.cost = c
            .tables(&book, lang)
            .into_iter()
            .filter(|t| t.id == "cost-plants" || t.id == "cost-routes")
            .collect();
    }
    Ok(money)
}

fn report(a: ReportArgs, standards: &rewater_standards::Standards) -> Result<()> {
    let ReportArgs {
        kind,
        model,
        out,
        projects,
        sections,
        values,
        year,
        rule,
        district,
        money_district,
        rules,
        lang,
        today,
        no_pdf,
        cost,
    } = a;
    let lang: Lang = lang.parse().map_err(input_err)?;
    let kind = match kind.as_str() {
        "plan-progress" => rewater_reports::ReportKind::PlanProgress,
        "district" => rewater_reports::ReportKind::District,
        k => {
            return Err(input_err(format!(
                "report '{k}': plan-progress or district"
            )))
        }
    };
    let rlang = match lang {
        Lang::Zh => rewater_reports::Lang::Zh,
        Lang::En => rewater_reports::Lang::En,
    };
    let is_district = kind == rewater_reports::ReportKind::District;
    let only = money_district
        .clone()
        .or_else(|| district.clone())
        .filter(|_| is_district);
    let region = rewater_model::load(&model, standards).map_err(input_err)?;
    let inputs = MoneyInputs {
        projects,
        sections,
        values,
        compensation_year: year,
        compensation_rule: rule,
        money_district,
        money_rules: rules,
        money_cost: cost,
    };
    let money = money_tables(
        &inputs,
        year,
        only.as_deref(),
        district.as_deref().filter(|_| is_district),
        &region,
        standards,
        lang,
    )?;
    let today = match &today {
        Some(d) => {
            let mut it = d.split('-').map(|x| x.parse::<u32>().ok());
            match (
                it.next().flatten(),
                it.next().flatten(),
                it.next().flatten(),
            ) {
                (Some(y), Some(m), Some(dd)) => rewater_time::Date::from_ymd(y as i32, m, dd),
                _ => None,
            }
            .ok_or_else(|| input_err(format!("--today '{d}' is not YYYY-MM-DD")))?
        }
        None => rewater_time::Zone::shanghai().today(),
    };
    let browser = if no_pdf {
        None
    } else {
        Some(
            rewater_reports::pdf::find_chromium()
                .ok_or(rewater_reports::pdf::PdfError::NoChromium)?,
        )
    };
    let req = rewater_reports::generate::Request {
        kind,
        lang: rlang,
        district,
        year: None,
        today,
        browser,
        progress: vec![],
        alerts: None,
        sites: vec![],
        indicators: None,
        model_dir: model
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
    };
    let model_file = model
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let written = rewater_reports::money::generate_with_money(
        &region,
        &model_file,
        standards,
        req,
        &money,
        &out,
    )
    .map_err(|e| match e {
        rewater_reports::ReportError::NoDistrict { .. }
        | rewater_reports::ReportError::UnknownDistrict { .. } => input_err(e),
        e => anyhow::Error::new(e),
    })?;
    println!("{}", written.html.display());
    if let Some(p) = written.pdf {
        println!("{}", p.display());
    }
    Ok(())
}
