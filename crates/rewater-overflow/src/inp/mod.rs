//! Import of EPA SWMM 5 input files (`.inp`) for the parts an overflow study needs:
//! subcatchments, subareas, infiltration (Horton, modified Horton, curve number), rain
//! gages with TIMESERIES or FILE, dry-weather flow with PATTERNS, evaporation,
//! junctions, outfalls, dividers, storage units, conduits (their lag is the travel time
//! at full-flow velocity and their capacity the full-flow Manning capacity), weirs,
//! orifices, outlets, pumps and IF/AND/OR/THEN/ELSE control rules on node depth, volume
//! and inflow, link flow and setting, and simulation time. Everything else is listed in
//! [`System::notes`] as ignored. Section and key names follow the SWMM 5.2 User's Manual
//! (EPA/600/R-22/030), Appendix D.
//!
//! In the spirit of SWMM's own engine (one reader per input object, project state apart
//! from routing), each section has its reader in a submodule; `build` calls them in the
//! order their cross-references need and assembles the [`System`], refusing networks that
//! loop and anything beyond [`crate::limits`] with the line named.

mod controls;
mod dividers;
mod dwf;
mod evaporation;
mod gages;
mod hydraulics;
mod inflows;
mod links;
mod nodes;
mod options;
mod outfalls;
mod parser;
mod rainfiles;
mod shape_tables;
mod shapes;
mod subcatchments;
mod tables;
mod xsect;

use crate::network::{EventOptions, System};
use crate::OverflowError;
use parser::{tokenize, Line, Parser};
use std::collections::HashMap;
use std::path::Path;

/// Choices the SWMM file does not make.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Internal time step, s (default: the file's WET_STEP, between 60 and 300 s).
    pub step_s: Option<i64>,
    /// Outfalls that are the treatment plant, whatever feeds them.
    pub plant: Vec<String>,
    /// Outfalls that are overflow outlets, with their river name (`outfall=river`).
    pub rivers: Vec<(String, String)>,
    pub events: Option<EventOptions>,
    /// Route by this method instead of the file's (`FAST`, `STEADY` or `KINWAVE`; by
    /// default KINWAVE and STEADY files are routed so, DYNWAVE files by the fast routing).
    pub routing: Option<crate::network::FlowRouting>,
}

/// Sections with no bearing on flow volumes, skipped without a note.
const GRAPHICAL: &[&str] = &[
    "COORDINATES",
    "VERTICES",
    "POLYGONS",
    "SYMBOLS",
    "MAP",
    "TAGS",
    "LABELS",
    "BACKDROP",
    "REPORT",
    "PROFILES",
    "FILES",
];

/// Read a SWMM input file.
pub fn load(path: &Path, options: &ImportOptions) -> Result<System, OverflowError> {
    let text = crate::limits::read_text(path)?;
    parse(
        &text,
        &path.display().to_string(),
        path.parent().unwrap_or(Path::new(".")),
        options,
    )
}

/// Parse the text of a SWMM input file; `dir` resolves relative rain files.
pub fn parse(
    text: &str,
    file: &str,
    dir: &Path,
    options: &ImportOptions,
) -> Result<System, OverflowError> {
    let mut sections: HashMap<String, Vec<Line>> = HashMap::new();
    let mut current: Option<String> = None;
    let mut fields = 0usize;
    for (n, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with('[') {
            let name = trimmed
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_uppercase();
            sections.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        let too_long = raw.len() > crate::limits::MAX_LINE_BYTES;
        let refuse = |message: String| OverflowError::Input {
            file: file.to_string(),
            line: n + 1,
            message,
        };
        if too_long {
            return Err(refuse(format!(
                "the line is over {} bytes",
                crate::limits::MAX_LINE_BYTES
            )));
        }
        // Map sections are never read: not kept.
        if current.as_deref().is_some_and(|s| GRAPHICAL.contains(&s)) {
            continue;
        }
        let tokens = tokenize(raw);
        if tokens.is_empty() {
            continue;
        }
        fields += tokens.len();
        if fields > crate::limits::MAX_FIELDS {
            return Err(refuse(format!(
                "the file has over {} fields",
                crate::limits::MAX_FIELDS
            )));
        }
        match &current {
            Some(s) => sections
                .entry(s.clone())
                .or_default()
                .push(Line { no: n + 1, tokens }),
            None => return Err(refuse("text before the first [SECTION]".into())),
        }
    }
    let p = Parser {
        file,
        dir: dir.to_path_buf(),
        sections,
        notes: Default::default(),
    };
    build(&p, options)
}

/// Sections read by one of the readers.
const KNOWN: &[&str] = &[
    "TITLE",
    "OPTIONS",
    "EVAPORATION",
    "RAINGAGES",
    "SUBCATCHMENTS",
    "SUBAREAS",
    "INFILTRATION",
    "JUNCTIONS",
    "OUTFALLS",
    "DIVIDERS",
    "STORAGE",
    "CONDUITS",
    "XSECTIONS",
    "PUMPS",
    "ORIFICES",
    "WEIRS",
    "OUTLETS",
    "CURVES",
    "TIMESERIES",
    "PATTERNS",
    "DWF",
    "CONTROLS",
    "TRANSECTS",
    "INFLOWS",
    "LOSSES",
];

/// Sections whose presence changes the water balance in a way rewater does not model:
/// the file is refused, naming them, rather than run wrong.
const REFUSED: &[(&str, &str)] = &[(
    "LID_USAGE",
    "low-impact development controls ([LID_CONTROLS] placed by [LID_USAGE]) are not modelled",
)];

fn build(p: &Parser, options: &ImportOptions) -> Result<System, OverflowError> {
    for (section, why) in REFUSED {
        if let Some(l) = p.section(section).first() {
            return Err(p.err(l.no, format!("[{section}]: {why}")));
        }
    }
    let mut ignored: Vec<String> = p
        .sections
        .iter()
        .filter(|(name, lines)| {
            !lines.is_empty()
                && !KNOWN.contains(&name.as_str())
                && !GRAPHICAL.contains(&name.as_str())
        })
        .map(|(name, _)| name.clone())
        .collect();
    ignored.sort();
    for s in ignored {
        p.note(format!("[{s}] is not modelled and was ignored"));
    }
    let opt = options::read_options(p, options)?;
    let units = opt.units;
    let curves = tables::read_curves(p)?;
    let series = tables::read_timeseries(p, opt.clock.start_s)?;
    let patterns = tables::read_patterns(p)?;
    let evaporation = evaporation::read_evaporation(p, units, opt.clock.start_s, opt.end_s)?;
    let dynwave = opt.routed_by == crate::network::FlowRouting::DynWave;
    let mut nodes = nodes::read_nodes(p, units, &curves, dynwave)?;
    let links = links::read_links(
        p,
        units,
        &curves,
        &nodes,
        opt.elevation_offsets,
        opt.routed_by,
    )?;
    dividers::apply_dividers(p, &mut nodes, &links, &curves, units)?;
    outfalls::classify_outfalls(p, &mut nodes.nodes, &links.links, options)?;
    let (gages, gage_index) = gages::read_gages(p, units, &series, (opt.clock.start_s, opt.end_s))?;
    let subcatchments =
        subcatchments::read_subcatchments(p, units, &opt.infil_model, &nodes, &gage_index)?;
    let mut dry_weather = dwf::read_dwf(p, units, &nodes, &patterns)?;
    let (inflows, baselines) = inflows::read_inflows(p, units, &nodes, &series, &patterns)?;
    dry_weather.extend(baselines);
    let rules = controls::read_rules(
        p,
        &nodes.index,
        &links.index,
        &nodes.invert,
        &links.links,
        units,
        &curves,
    )?;
    let name = p
        .section("TITLE")
        .first()
        .map(|l| l.tokens.join(" "))
        .unwrap_or_else(|| p.file.to_string());
    let hydraulics = match opt.routed_by {
        crate::network::FlowRouting::DynWave => Some(Box::new(hydraulics::read_hydraulics(
            p,
            units,
            &nodes,
            &links,
            &curves,
            &series,
            opt.elevation_offsets,
        )?)),
        _ => None,
    };
    if let Some(h) = &hydraulics {
        let span = (opt.end_s - opt.clock.start_s) as f64;
        let steps = span / h.options.routing_step_s;
        if steps > crate::limits::MAX_DW_STEPS {
            let line = p
                .section("OPTIONS")
                .iter()
                .find(|l| l.tokens[0].eq_ignore_ascii_case("ROUTING_STEP"))
                .map_or(0, |l| l.no);
            return Err(p.err(
                line,
                format!(
                    "dynamic wave at ROUTING_STEP {} s over START_DATE to END_DATE takes {steps:.3e} steps, over the {:.1e} allowed",
                    h.options.routing_step_s,
                    crate::limits::MAX_DW_STEPS
                ),
            ));
        }
    }
    let link_lines = links.lines;
    let system = System {
        name,
        clock: opt.clock,
        // SWMM shortens a runoff step so it never spans a change of rain (runoff.c).
        runoff_step_s: opt.runoff_step_s.map(|wet| {
            gages
                .iter()
                .map(|g| g.rain.interval_s)
                .filter(|&i| i > 0)
                .fold(wet, i64::min)
        }),
        gages,
        evaporation,
        subcatchments,
        nodes: nodes.nodes,
        links: links.links,
        dry_weather,
        inflows,
        rules,
        events: options.events.unwrap_or_default(),
        flow_routing: opt.routing,
        routed_by: opt.routed_by,
        notes: p.notes.borrow().iter().cloned().collect(),
        hydraulics,
    };
    if let Some(cycle) = system.find_cycle() {
        let names: Vec<&str> = cycle
            .iter()
            .map(|&l| system.links[l].name.as_str())
            .collect();
        return Err(p.err(
            link_lines[cycle[0]],
            format!(
                "links {} form a cycle {}; flows are routed downstream and cannot loop",
                names.join(", "),
                system.cycle_text(&cycle)
            ),
        ));
    }
    crate::limits::check_system(&system).map_err(|m| p.err(0, m))?;
    Ok(system)
}
