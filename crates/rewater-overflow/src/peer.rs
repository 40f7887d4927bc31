//! Comparison with EPA SWMM's own results for the same input file (与 SWMM 结果对照):
//! rewater imports and runs a `.inp` file as it stands, and its surface runoff, the
//! volume at each outfall and the total flooding are set beside the figures SWMM reported
//! for it (a `swmm524_results.json`-shaped record: runoff and routing continuity, outfall
//! loading, flooding by node, all in m³). The accuracy tests and the benchmark table of
//! `docs/overflow.md` are both made from here.

use crate::route::{compute_runoff, route, Observer, StepView};
use crate::System;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What SWMM reported for one file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SwmmFigures {
    /// False when SWMM itself refuses the file.
    pub runs: bool,
    pub errors: Vec<String>,
    pub surface_runoff_m3: Option<f64>,
    pub outfall_m3: BTreeMap<String, f64>,
    pub flooding_m3: Option<f64>,
    /// Everything that entered the sewers (wet and dry weather, external inflow, …), m³.
    pub inflow_m3: f64,
}

impl SwmmFigures {
    /// From one file's entry of a SWMM results record.
    pub fn from_json(v: &serde_json::Value) -> SwmmFigures {
        let num = |x: &serde_json::Value| x.as_f64();
        let routing = &v["routing_continuity_m3"];
        let inflow: f64 = [
            "dry_weather_inflow",
            "wet_weather_inflow",
            "groundwater_inflow",
            "rdii",
            "external_inflow",
        ]
        .iter()
        .filter_map(|k| num(&routing[*k]))
        .sum();
        SwmmFigures {
            runs: v["swmm_runs"].as_bool().unwrap_or(false),
            errors: v["swmm_errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            surface_runoff_m3: num(&v["runoff_continuity_m3"]["surface_runoff"]),
            outfall_m3: v["outfall_volume_m3"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, x)| x.as_f64().map(|x| (k.clone(), x)))
                        .collect()
                })
                .unwrap_or_default(),
            flooding_m3: num(&routing["flooding"]),
            inflow_m3: inflow,
        }
    }
}

/// rewater's figures for a file it accepted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    /// `FLOW_ROUTING` of the file, and the step rewater used, s.
    pub routing: String,
    /// How rewater routed it: kinematic wave, steady or fast.
    pub method: String,
    pub step_s: i64,
    pub surface_runoff_m3: f64,
    pub outfall_m3: BTreeMap<String, f64>,
    pub flooding_m3: f64,
    pub notes: Vec<String>,
}

struct Quiet;
impl Observer for Quiet {
    fn observe(&mut self, _: &StepView) {}
}

/// Import and run a SWMM file as it stands; Err is the refusal, as the user sees it.
pub fn run_file(path: &Path) -> Result<Figures, String> {
    let system =
        crate::inp::load(path, &crate::inp::ImportOptions::default()).map_err(|e| e.to_string())?;
    Ok(run_system(&system))
}

/// Run an imported system and collect the figures SWMM reports.
pub fn run_system(system: &System) -> Figures {
    let runoff = compute_runoff(system);
    let bal = route(system, &runoff, &mut Quiet);
    let outfall_m3 = system
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n.kind, crate::network::NodeKind::Outfall { .. }))
        .map(|(i, n)| (n.name.clone(), bal.outfall_m3[i]))
        .collect();
    Figures {
        routing: system.flow_routing.keyword().to_string(),
        method: match (system.routed_by, &system.hydraulics) {
            (crate::network::FlowRouting::KinWave, _) => "kinematic wave".to_string(),
            (crate::network::FlowRouting::Steady, _) => "steady flow".to_string(),
            (crate::network::FlowRouting::DynWave, Some(h)) => {
                let o = &h.options;
                if o.courant > 0.0 {
                    format!(
                        "dynamic wave, variable steps ≤ {} s (Courant {}),",
                        o.routing_step_s, o.courant
                    )
                } else {
                    format!("dynamic wave, {} s steps,", o.routing_step_s)
                }
            }
            _ => "fast routing".to_string(),
        },
        step_s: system.clock.step_s,
        surface_runoff_m3: runoff.balance.runoff_m3,
        outfall_m3,
        flooding_m3: bal.flooding_m3.iter().sum(),
        notes: system.notes.clone(),
    }
}

/// One file side by side with SWMM.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub file: String,
    pub swmm: SwmmFigures,
    /// Err: rewater's refusal.
    pub rewater: Result<Figures, String>,
}

impl Comparison {
    /// Surface runoff, (rewater − SWMM)/SWMM in %, where SWMM reports some.
    pub fn runoff_diff_pct(&self) -> Option<f64> {
        let ours = self.rewater.as_ref().ok()?;
        let theirs = self.swmm.surface_runoff_m3.filter(|v| *v > 0.0)?;
        Some((ours.surface_runoff_m3 - theirs) / theirs * 100.0)
    }

    /// The largest outfall difference, % of SWMM's volume at that outfall — or of 1 % of
    /// the system's inflow when the outfall's own volume is smaller (so that a near-empty
    /// outfall does not dominate).
    pub fn worst_outfall_diff_pct(&self) -> Option<f64> {
        let ours = self.rewater.as_ref().ok()?;
        let floor = 0.01 * self.swmm.inflow_m3.max(self.swmm.outfall_m3.values().sum());
        self.swmm
            .outfall_m3
            .iter()
            .map(|(name, &theirs)| {
                let mine = ours.outfall_m3.get(name).copied().unwrap_or(0.0);
                (mine - theirs) / theirs.max(floor).max(1e-9) * 100.0
            })
            .max_by(|a, b| a.abs().total_cmp(&b.abs()))
    }

    /// Total flooding, (rewater − SWMM) as % of SWMM's flooding, or of 1 % of the
    /// inflow when SWMM's flooding is smaller.
    pub fn flooding_diff_pct(&self) -> Option<f64> {
        let ours = self.rewater.as_ref().ok()?;
        let theirs = self.swmm.flooding_m3?;
        let floor = 0.01 * self.swmm.inflow_m3;
        Some((ours.flooding_m3 - theirs) / theirs.max(floor).max(1e-9) * 100.0)
    }
}

/// Compare file `name` (without `.inp`) of `dir` with its entry in a SWMM results
/// record; refusals name files relative to `dir`.
pub fn compare_file(dir: &Path, name: &str, results: &serde_json::Value) -> Option<Comparison> {
    let entry = results.get(name)?;
    let prefix = format!("{}/", dir.display());
    Some(Comparison {
        file: format!("{name}.inp"),
        swmm: SwmmFigures::from_json(entry),
        rewater: run_file(&dir.join(format!("{name}.inp"))).map_err(|e| e.replace(&prefix, "")),
    })
}

/// Compare every file of a SWMM results record found in `dir`, in name order.
pub fn compare_dir(dir: &Path, results: &serde_json::Value) -> Vec<Comparison> {
    let Some(files) = results.as_object() else {
        return Vec::new();
    };
    files
        .keys()
        .filter_map(|name| compare_file(dir, name, results))
        .collect()
}

/// The tolerance issue 14 sets for outfall volumes and flooding, %: 2 % where SWMM routes
/// by kinematic wave or steady flow, 5 % by dynamic wave.
pub fn tolerance_pct(routing: &str) -> f64 {
    if routing == "DYNWAVE" {
        5.0
    } else {
        2.0
    }
}

impl Comparison {
    /// Whether outfall volumes and flooding are within [`tolerance_pct`] of SWMM (None
    /// when not accepted).
    pub fn within_tolerance(&self) -> Option<bool> {
        let ours = self.rewater.as_ref().ok()?;
        let tol = tolerance_pct(&ours.routing);
        let ok = |v: Option<f64>| v.is_none_or(|v| v.abs() <= tol);
        Some(ok(self.worst_outfall_diff_pct()) && ok(self.flooding_diff_pct()))
    }
}

/// The comparison as a Markdown table.
pub fn markdown_table(rows: &[Comparison]) -> String {
    let pct = |v: Option<f64>| {
        v.map(|v| format!("{v:+.2} %"))
            .unwrap_or_else(|| "–".into())
    };
    let mut out = String::from(
        "| file | SWMM runs | routing | rewater | runoff vs SWMM | worst outfall vs SWMM | flooding vs SWMM | within 2 % (KW) / 5 % (DW) |\n|---|---|---|---|---|---|---|---|\n",
    );
    for c in rows {
        let (routing, verdict) = match &c.rewater {
            Ok(f) => (
                if f.method.starts_with("dynamic") {
                    format!("{} (rewater {} clock {} s)", f.routing, f.method, f.step_s)
                } else {
                    format!("{} (rewater {} at {} s)", f.routing, f.method, f.step_s)
                },
                "accepted".to_string(),
            ),
            Err(e) => (
                "–".into(),
                format!("refused: {}", e.replace('|', "/").replace('\n', " ")),
            ),
        };
        let runs = if c.swmm.runs {
            "yes".to_string()
        } else {
            format!(
                "no ({})",
                c.swmm.errors.first().map(|s| s.as_str()).unwrap_or("")
            )
            .replace('|', "/")
        };
        let within = match c.within_tolerance() {
            Some(true) => "yes",
            Some(false) => "no",
            None => "–",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.file,
            runs,
            routing,
            verdict,
            pct(c.runoff_diff_pct()),
            pct(c.worst_outfall_diff_pct()),
            pct(c.flooding_diff_pct()),
            within,
        ));
    }
    out
}
