//! Reports (报告) in HTML and PDF, generated from the same run and registers as the scorecard:
//! the pilot city's annual and final reports (seed 003), the plan-progress report (seed 000:
//! indicators against the 2025/2035 targets by district, task register status), and district
//! scorecards. Chinese by default, English on request; charts are inline SVG drawn here.
//!
//! The HTML is one self-contained file (no script, no network). The PDF is that file printed
//! by headless Chromium ([`pdf`]); docs/reports.md says why and what it costs.

pub mod chart;
pub mod collect;
pub mod fmt;
pub mod generate;
pub mod html;
pub mod labels;
pub mod outfalls;
// issue 17 (h-money): the district budget and compensation settlement sections.
pub mod money;
pub mod pdf;
pub mod pilot;
pub mod progress;
pub mod scorecard;

use rewater_store::tasks::Progress;
use rewater_tasks::{Departments, Register, TaskRow};
use rewater_time::Date;
use std::path::{Path, PathBuf};

/// The language of a report.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportKind {
    PilotAnnual,
    PilotFinal,
    PlanProgress,
    District,
}

impl ReportKind {
    pub const ALL: [ReportKind; 4] = [
        ReportKind::PilotAnnual,
        ReportKind::PilotFinal,
        ReportKind::PlanProgress,
        ReportKind::District,
    ];
    pub fn id(self) -> &'static str {
        match self {
            ReportKind::PilotAnnual => "pilot-annual",
            ReportKind::PilotFinal => "pilot-final",
            ReportKind::PlanProgress => "plan-progress",
            ReportKind::District => "district",
        }
    }
    pub fn parse(s: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.id() == s)
    }
}

/// How an indicator stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Met,
    NotMet,
    /// The quantity is unknown: never shown as 0.
    NotReported,
    /// The target has no number ("稳步提升").
    Qualitative,
}

/// One indicator of a district and year against its target, as a report shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IndicatorRow {
    pub name_zh: String,
    pub name_en: String,
    /// None: the whole region.
    pub district: Option<String>,
    pub year: i32,
    /// The value (None: not reported, never 0).
    pub value: Option<f64>,
    /// The value with its unit as shown (None: not reported).
    pub value_zh: Option<String>,
    pub value_en: Option<String>,
    pub target_zh: String,
    pub target_en: String,
    pub verdict: Verdict,
    /// The target's document and clause.
    pub source: String,
}

/// What a report is made from besides the run.
#[derive(Debug, Clone)]
pub struct ReportContext {
    pub lang: Lang,
    /// The day of the report (task status is derived for this day).
    pub today: Date,
    /// The model file's name, shown in the report.
    pub model_file: String,
    /// The monitoring store's alerts in the period (None: no store given).
    pub alerts: Option<Vec<rewater_store::Alert>>,
    /// Monitoring sites' names by id (for the alerts).
    pub site_names: std::collections::BTreeMap<String, String>,
    /// Task registers with each task's status on `today`.
    pub tasks: Vec<(Register, Vec<TaskRow>)>,
    pub departments: Departments,
    /// Number of overdue tasks, when the registers were consulted.
    pub overdue_tasks: Option<usize>,
    /// Scorecard rows, when an indicator scorecard is supplied (else the run's own).
    pub indicators: Option<Vec<IndicatorRow>>,
}

impl ReportContext {
    /// A context with no store, no registers and no scorecard.
    pub fn new(lang: Lang, today: Date, model_file: &str) -> ReportContext {
        ReportContext {
            lang,
            today,
            model_file: model_file.to_string(),
            alerts: None,
            site_names: Default::default(),
            tasks: vec![],
            departments: Departments::default(),
            overdue_tasks: None,
            indicators: None,
        }
    }

    /// Derives the status of every bundled task on `today` from these progress updates.
    pub fn with_tasks(
        mut self,
        progress: &[Progress],
    ) -> Result<ReportContext, rewater_tasks::RegisterError> {
        let (departments, registers) = rewater_tasks::bundled()?;
        self.tasks = registers
            .into_iter()
            .map(|r| {
                let rows = rewater_tasks::task_rows(&r, progress, self.today);
                (r, rows)
            })
            .collect();
        self.overdue_tasks = Some(
            self.tasks
                .iter()
                .flat_map(|(_, rows)| rows)
                .filter(|r| r.status == rewater_tasks::Status::Overdue)
                .count(),
        );
        self.departments = departments;
        Ok(self)
    }
}

/// The lines under a report's title.
pub(crate) fn meta(
    d: &collect::RunData,
    ctx: &ReportContext,
    basis: &str,
) -> Vec<(String, String)> {
    let l = ctx.lang;
    vec![
        (
            labels::t("model", l),
            format!("{} ({})", d.model, ctx.model_file),
        ),
        (labels::t("period", l), format!("{} – {}", d.from, d.to)),
        (labels::t("generated", l), ctx.today.to_string()),
        (labels::t("basis", l), labels::t(basis, l)),
    ]
}

/// Failing to make a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Collect(#[from] collect::CollectError),
    #[error(transparent)]
    Pdf(#[from] pdf::PdfError),
    #[error(transparent)]
    Register(#[from] rewater_tasks::RegisterError),
    #[error(transparent)]
    Scorecard(#[from] scorecard::ScorecardError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("a district report needs a district (the model's districts: {known})")]
    NoDistrict { known: String },
    #[error("district '{district}' is not one of the model's districts ({known})")]
    UnknownDistrict { district: String, known: String },
}

/// Builds one report's document from a gathered run.
pub fn build(
    kind: ReportKind,
    region: &rewater_model::Region,
    data: &collect::RunData,
    ctx: &ReportContext,
    district: Option<&str>,
) -> Result<html::Doc, ReportError> {
    Ok(match kind {
        ReportKind::PilotAnnual => pilot::pilot_report(region, data, ctx, false),
        ReportKind::PilotFinal => pilot::pilot_report(region, data, ctx, true),
        ReportKind::PlanProgress => progress::plan_progress(data, ctx),
        ReportKind::District => {
            let known = data
                .by_district
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let d = district.ok_or_else(|| ReportError::NoDistrict {
                known: known.clone(),
            })?;
            if !data.by_district.contains_key(d) {
                return Err(ReportError::UnknownDistrict {
                    district: d.to_string(),
                    known,
                });
            }
            progress::district_scorecard(data, ctx, d)
        }
    })
}

/// The files a report was written to.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Written {
    pub html: PathBuf,
    pub pdf: Option<PathBuf>,
}

/// The file stem of a report: `pilot-annual.zh`, `district-north.en`.
pub fn file_stem(kind: ReportKind, district: Option<&str>, lang: Lang) -> String {
    match (kind, district) {
        (ReportKind::District, Some(d)) => {
            let safe: String = d
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            format!("district-{safe}.{}", lang.code())
        }
        _ => format!("{}.{}", kind.id(), lang.code()),
    }
}

/// Writes `doc` as `DIR/STEM.html` and, with a browser, prints `DIR/STEM.pdf`.
pub fn write(
    doc: &html::Doc,
    dir: &Path,
    stem: &str,
    browser: Option<&Path>,
) -> Result<Written, ReportError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let html_path = dir.join(format!("{stem}.html"));
    std::fs::write(&html_path, html::render(doc)).map_err(io(&html_path))?;
    let pdf = match browser {
        Some(b) => {
            let pdf_path = dir.join(format!("{stem}.pdf"));
            pdf::print(b, &html_path, &pdf_path)?;
            Some(pdf_path)
        }
        None => None,
    };
    Ok(Written {
        html: html_path,
        pdf,
    })
}
