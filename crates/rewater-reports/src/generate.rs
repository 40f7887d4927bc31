//! One call from a loaded model to the written report files, for the CLI and the API alike.

use crate::collect::collect;
use crate::{
    build, file_stem, write, IndicatorRow, Lang, ReportContext, ReportError, ReportKind, Written,
};
use rewater_model::Region;
use rewater_standards::Standards;
use rewater_store::tasks::Progress;
use rewater_time::Date;
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: ReportKind,
    pub lang: Lang,
    /// For the district scorecard.
    pub district: Option<String>,
    /// For the annual report: the calendar year (default: the year of the model's last day).
    pub year: Option<i32>,
    /// The day of the report (task status on this day).
    pub today: Date,
    /// Print the PDF too (with this browser).
    pub browser: Option<std::path::PathBuf>,
    /// Progress updates of the task registers (from the store), if any.
    pub progress: Vec<Progress>,
    /// The store's alerts, when a store is given.
    pub alerts: Option<Vec<rewater_store::Alert>>,
    /// The store's sites (their names label the alerts).
    pub sites: Vec<rewater_store::Site>,
    /// A scorecard's rows, when one is supplied (else computed from the model against its
    /// `[targets] sets`, or seed 003 for the pilot reports and seed 000 for the others).
    pub indicators: Option<Vec<IndicatorRow>>,
    /// The model file's folder (target-set files are relative to it).
    pub model_dir: std::path::PathBuf,
}

/// The reporting period of a request: a calendar year for the annual report, else the run.
pub fn period(region: &Region, req: &Request) -> Option<(Date, Date)> {
    if req.kind != ReportKind::PilotAnnual {
        return None;
    }
    let last = region.start.add_days(region.days.max(1) as i32 - 1);
    let year = req.year.unwrap_or(last.ymd().0);
    Some((Date::from_ymd(year, 1, 1)?, Date::from_ymd(year, 12, 31)?))
}

/// Runs the model, builds the report and writes `DIR/<stem>.html` (and `.pdf`).
pub fn generate(
    region: &Region,
    model_file: &str,
    standards: &Standards,
    req: Request,
    dir: &Path,
) -> Result<Written, ReportError> {
    let browser = req.browser.clone();
    let (doc, stem) = document(region, model_file, standards, req)?;
    write(&doc, dir, &stem, browser.as_deref())
}

/// Runs the model and builds the report's document and file stem (without writing it).
pub fn document(
    region: &Region,
    model_file: &str,
    standards: &Standards,
    req: Request,
) -> Result<(crate::html::Doc, String), ReportError> {
    let data = collect(region, standards, period(region, &req))?;
    let mut ctx = ReportContext::new(req.lang, req.today, model_file).with_tasks(&req.progress)?;
    // Alerts of the reporting period only (by their data time, wall-clock seconds).
    let (from_s, to_s) = (data.from.wall_seconds(), data.to.add_days(1).wall_seconds());
    ctx.site_names = req.sites.into_iter().map(|s| (s.id, s.name)).collect();
    ctx.alerts = req.alerts.map(|all| {
        all.into_iter()
            .filter(|a| a.data_time >= from_s && a.data_time < to_s)
            .collect()
    });
    ctx.indicators = match req.indicators {
        Some(rows) => Some(rows),
        None => {
            let default = match req.kind {
                ReportKind::PilotAnnual | ReportKind::PilotFinal => "seed-003",
                _ => "seed-000",
            };
            let sets = crate::scorecard::sets_for(region, &[default]);
            Some(crate::scorecard::scorecard_rows(
                region,
                standards,
                &sets,
                &req.model_dir,
            )?)
        }
    };
    let doc = build(req.kind, region, &data, &ctx, req.district.as_deref())?;
    let stem = file_stem(req.kind, req.district.as_deref(), req.lang);
    Ok((doc, stem))
}
