//! A study as the command line and other front ends run it: load a case or SWMM file
//! with the user's overrides, then simulate it or size a tank, with the design-formula
//! volumes alongside ([`Outcome`]).

use crate::design::{design_volumes, DesignParameters, DesignVolumes};
use crate::inp::ImportOptions;
use crate::size::{find_tank, size_tank, with_tank_volume, Goal, Sizing};
use crate::{OverflowError, Report, System};
use std::path::Path;

/// What the user may set on top of the file.
#[derive(Debug, Clone, Default)]
pub struct StudyOptions {
    /// Internal time step, s (default: the case's, or 60–300 s from a SWMM file).
    pub step_s: Option<i64>,
    /// Dry hours that separate rain events.
    pub inter_event_h: Option<f64>,
    /// SWMM files: outfalls that are the treatment plant.
    pub plant: Vec<String>,
    /// SWMM files: overflow outfalls and their rivers.
    pub rivers: Vec<(String, String)>,
    /// Design rain depth for the GB 51174 runoff-control volume, mm.
    pub design_depth_mm: Option<f64>,
    /// Interception ratio after the works, for the GB 50014 pollution-control volume.
    pub n_after: Option<f64>,
    /// SWMM files: route by this method instead of the file's (`--routing`).
    pub routing: Option<crate::network::FlowRouting>,
}

/// Why a study could not run: the input files, or the options given with them.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error(transparent)]
    Input(#[from] OverflowError),
    /// The options do not fit the file (named by their command-line flags).
    #[error("{0}")]
    Options(String),
}

/// A run's results: the report, the design-formula volumes and, when a tank was sized,
/// the sizing.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: Report,
    pub designs: Vec<DesignVolumes>,
    pub sizing: Option<Sizing>,
}

fn is_inp(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("inp"))
}

/// Load a `.toml` case or a SWMM `.inp` file (by extension) with the options applied.
pub fn load(path: &Path, o: &StudyOptions) -> Result<(System, DesignParameters), StudyError> {
    let (mut system, mut design) = if is_inp(path) {
        let options = ImportOptions {
            step_s: o.step_s,
            plant: o.plant.clone(),
            rivers: o.rivers.clone(),
            events: None,
            routing: o.routing,
        };
        (
            crate::inp::load(path, &options)?,
            DesignParameters::default(),
        )
    } else {
        if !o.plant.is_empty() || !o.rivers.is_empty() {
            return Err(StudyError::Options(
                "--plant and --river apply to SWMM files; a case file names its plant and rivers"
                    .into(),
            ));
        }
        if o.routing
            .is_some_and(|r| r != crate::network::FlowRouting::Fast)
        {
            return Err(StudyError::Options(
                "--routing steady/kinwave/dynwave applies to SWMM files; a case file is routed by the fast routing"
                    .into(),
            ));
        }
        let (mut s, d) = crate::case::load_with_design(path)?;
        if let Some(step) = o.step_s {
            if !(1..=3600).contains(&step) {
                return Err(StudyError::Options(format!(
                    "--step-s {step} must be 1–3600"
                )));
            }
            s.set_step(step).map_err(|message| OverflowError::Case {
                file: path.display().to_string(),
                message: format!("--step-s {step}: {message}"),
            })?;
        }
        (s, d)
    };
    if let Some(h) = o.inter_event_h {
        if h.is_nan() || h <= 0.0 {
            return Err(StudyError::Options(
                "--inter-event-h must be positive".into(),
            ));
        }
        if h > 24.0 * 366.0 {
            return Err(StudyError::Options(format!(
                "--inter-event-h {h} is over a year ({} h)",
                24 * 366
            )));
        }
        system.events.inter_event_s = (h * 3600.0) as i64;
        crate::limits::check_system(&system).map_err(|message| OverflowError::Case {
            file: path.display().to_string(),
            message: format!("--inter-event-h {h}: {message}"),
        })?;
    }
    if let Some(d) = o.design_depth_mm {
        design.depth_mm = d;
    }
    if o.n_after.is_some() {
        design.n_after = o.n_after;
    }
    Ok((system, design))
}

/// Simulate the whole record.
pub fn run(system: &System, design: &DesignParameters) -> Outcome {
    Outcome {
        report: crate::simulate(system),
        designs: design_volumes(system, design),
        sizing: None,
    }
}

/// The tank to size: the one named, or the only one.
pub fn choose_tank(system: &System, tank: Option<&str>) -> Result<String, StudyError> {
    let tanks: Vec<String> = system
        .storages()
        .map(|(i, _)| system.nodes[i].name.clone())
        .collect();
    match (tank, tanks.as_slice()) {
        (Some(t), _) => Ok(t.to_string()),
        (None, [only]) => Ok(only.clone()),
        (None, []) => Err(StudyError::Options("the case has no tank to size".into())),
        (None, _) => Err(StudyError::Options(format!(
            "the case has several tanks ({}); choose one with --tank",
            tanks.join(", ")
        ))),
    }
}

/// Find the smallest volume of `tank` (or the only tank) that meets `goal`; the design
/// volumes are those of the sized system.
pub fn size(
    system: &System,
    design: &DesignParameters,
    tank: Option<&str>,
    goal: Goal,
) -> Result<Outcome, StudyError> {
    let tank = choose_tank(system, tank)?;
    let sizing = size_tank(system, &tank, goal)?;
    let sized = with_tank_volume(system, find_tank(system, &tank)?, sizing.volume_m3);
    Ok(Outcome {
        designs: design_volumes(&sized, design),
        report: sizing.report.clone(),
        sizing: Some(sizing),
    })
}
