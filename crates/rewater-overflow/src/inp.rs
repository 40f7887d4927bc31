//! Import of EPA SWMM 5 input files (`.inp`) for the parts an overflow study needs:
//! subcatchments, subareas, infiltration (Horton, modified Horton, curve number), rain
//! gages with TIMESERIES or FILE, dry-weather flow with PATTERNS, evaporation,
//! junctions, outfalls, dividers, storage units, conduits (their lag is the travel time
//! at full-flow velocity and their capacity the full-flow Manning capacity), weirs,
//! orifices, outlets, pumps and IF/AND/OR/THEN/ELSE control rules on node depth, volume
//! and inflow, link flow and setting, and simulation time. Everything else is listed in
//! [`System::notes`] as ignored. Section and key names follow the SWMM 5.2 User's Manual
//! (EPA/600/R-22/030), Appendix D.

use crate::network::{
    Action, Compare, DividerRule, DryWeatherFlow, EventOptions, Gage, Link, LinkKind, Node,
    NodeKind, Premise, PumpCurve, Rule, Storage, Subject, System, WeirShape,
};
use crate::rain::RainSeries;
use crate::runoff::{Clock, Evaporation, Infiltration, Subcatchment};
use crate::time::{parse_clock, parse_date};
use crate::OverflowError;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

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
}

/// One line of a section, split into tokens.
struct Line {
    no: usize,
    tokens: Vec<String>,
}

fn tokenize(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut had = false;
    for c in raw.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                had = true;
            }
            ';' if !quoted => break,
            c if c.is_whitespace() && !quoted => {
                if had {
                    out.push(std::mem::take(&mut cur));
                    had = false;
                }
            }
            c => {
                cur.push(c);
                had = true;
            }
        }
    }
    if had {
        out.push(cur);
    }
    out
}

/// Unit conversions from the file's unit system to SI.
#[derive(Debug, Clone, Copy)]
struct Units {
    us: bool,
    /// Flow unit to m³/s.
    flow: f64,
}

impl Units {
    fn length(&self) -> f64 {
        if self.us {
            0.3048
        } else {
            1.0
        }
    }
    /// Subcatchment area unit (acre or ha) to m².
    fn area(&self) -> f64 {
        if self.us {
            4046.856
        } else {
            1e4
        }
    }
    /// Rain, infiltration and storage depths (in or mm) to m.
    fn depth(&self) -> f64 {
        if self.us {
            0.0254
        } else {
            0.001
        }
    }
    /// Weir coefficients are given for CFS or CMS whatever the flow unit.
    fn weir_coeff(&self, length_exp: f64) -> f64 {
        if self.us {
            0.028_316_85 / 0.3048f64.powf(length_exp)
        } else {
            1.0
        }
    }
}

struct Parser<'a> {
    file: &'a str,
    dir: PathBuf,
    sections: HashMap<String, Vec<Line>>,
    notes: std::cell::RefCell<BTreeSet<String>>,
}

impl Parser<'_> {
    fn err(&self, line: usize, message: impl Into<String>) -> OverflowError {
        OverflowError::Input {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }

    fn note(&self, text: String) {
        self.notes.borrow_mut().insert(text);
    }

    fn section(&self, name: &str) -> &[Line] {
        self.sections.get(name).map(|v| v.as_slice()).unwrap_or(&[])
    }

    fn num(&self, line: &Line, k: usize, what: &str) -> Result<f64, OverflowError> {
        let tok = line
            .tokens
            .get(k)
            .ok_or_else(|| self.err(line.no, format!("missing {what} (field {})", k + 1)))?;
        let v: f64 = tok
            .parse()
            .map_err(|_| self.err(line.no, format!("{what} '{tok}' is not a number")))?;
        if !v.is_finite() {
            return Err(self.err(line.no, format!("{what} '{tok}' is not finite")));
        }
        Ok(v)
    }

    fn num_or(
        &self,
        line: &Line,
        k: usize,
        default: f64,
        what: &str,
    ) -> Result<f64, OverflowError> {
        if line.tokens.get(k).is_some_and(|t| t != "*") {
            self.num(line, k, what)
        } else {
            Ok(default)
        }
    }

    fn tok<'l>(&self, line: &'l Line, k: usize, what: &str) -> Result<&'l str, OverflowError> {
        line.tokens
            .get(k)
            .map(|s| s.as_str())
            .ok_or_else(|| self.err(line.no, format!("missing {what} (field {})", k + 1)))
    }
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
    let text = std::fs::read_to_string(path).map_err(|e| OverflowError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
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
        let tokens = tokenize(raw);
        if tokens.is_empty() {
            continue;
        }
        match &current {
            Some(s) => sections
                .entry(s.clone())
                .or_default()
                .push(Line { no: n + 1, tokens }),
            None => {
                return Err(OverflowError::Input {
                    file: file.to_string(),
                    line: n + 1,
                    message: "text before the first [SECTION]".into(),
                })
            }
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

fn build(p: &Parser, options: &ImportOptions) -> Result<System, OverflowError> {
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
    ];
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

    // --- options
    let mut opt: HashMap<String, (String, usize)> = HashMap::new();
    for l in p.section("OPTIONS") {
        if l.tokens.len() >= 2 {
            opt.insert(
                l.tokens[0].to_ascii_uppercase(),
                (l.tokens[1..].join(" "), l.no),
            );
        }
    }
    let get = |k: &str| opt.get(k).map(|(v, _)| v.as_str());
    let units = match get("FLOW_UNITS")
        .unwrap_or("CFS")
        .to_ascii_uppercase()
        .as_str()
    {
        "CFS" => Units {
            us: true,
            flow: 0.028_316_85,
        },
        "GPM" => Units {
            us: true,
            flow: 6.309_02e-5,
        },
        "MGD" => Units {
            us: true,
            flow: 0.043_812_64,
        },
        "CMS" => Units {
            us: false,
            flow: 1.0,
        },
        "LPS" => Units {
            us: false,
            flow: 0.001,
        },
        "MLD" => Units {
            us: false,
            flow: 0.011_574_07,
        },
        other => {
            let line = opt.get("FLOW_UNITS").map(|x| x.1).unwrap_or(0);
            return Err(p.err(
                line,
                format!("FLOW_UNITS '{other}' is not one of SWMM's six"),
            ));
        }
    };
    let infil_model = get("INFILTRATION").unwrap_or("HORTON").to_ascii_uppercase();
    match get("FLOW_ROUTING").map(|s| s.to_ascii_uppercase()) {
        Some(r) if r == "DYNWAVE" => {
            p.note(
                "FLOW_ROUTING DYNWAVE: hydraulics are not solved; sewers route by lag and capacity (dividers act as SWMM's kinematic-wave dividers)"
                    .into(),
            );
        }
        _ => {}
    }
    let when = |date_key: &str, time_key: &str| -> Result<Option<i64>, OverflowError> {
        let Some((d, line)) = opt.get(date_key) else {
            return Ok(None);
        };
        let day =
            parse_date(d).ok_or_else(|| p.err(*line, format!("{date_key} '{d}' is not a date")))?;
        let secs = match opt.get(time_key) {
            Some((t, l)) => parse_clock(t)
                .ok_or_else(|| p.err(*l, format!("{time_key} '{t}' is not a time")))?,
            None => 0,
        };
        Ok(Some(day.wall_seconds() + secs))
    };
    let start_s =
        when("START_DATE", "START_TIME")?.ok_or_else(|| p.err(0, "[OPTIONS] has no START_DATE"))?;
    let end_s =
        when("END_DATE", "END_TIME")?.ok_or_else(|| p.err(0, "[OPTIONS] has no END_DATE"))?;
    if end_s <= start_s {
        return Err(p.err(0, "END_DATE/END_TIME is not after the start"));
    }
    let step_s = match options.step_s {
        Some(s) if (1..=3600).contains(&s) => s,
        Some(s) => return Err(p.err(0, format!("step {s} s must be 1–3600 s"))),
        None => get("WET_STEP")
            .and_then(parse_clock)
            .unwrap_or(300)
            .clamp(60, 300),
    };
    let clock = Clock {
        start_s,
        step_s,
        steps: ((end_s - start_s) / step_s) as usize,
    };

    // --- curves, time series, patterns
    let curves = read_curves(p)?;
    let series = read_timeseries(p, start_s)?;
    let patterns = read_patterns(p)?;

    // --- evaporation
    let mut evap_monthly = [0.0; 12];
    let mut dry_only = false;
    for l in p.section("EVAPORATION") {
        match l.tokens[0].to_ascii_uppercase().as_str() {
            "CONSTANT" => {
                evap_monthly = [p.num(l, 1, "evaporation rate")? * p_units_depth(units); 12]
            }
            "MONTHLY" => {
                for (m, v) in evap_monthly.iter_mut().enumerate() {
                    *v = p.num(l, m + 1, "monthly evaporation")? * p_units_depth(units);
                }
            }
            "DRY_ONLY" => {
                dry_only = l
                    .tokens
                    .get(1)
                    .is_some_and(|v| v.eq_ignore_ascii_case("YES"))
            }
            "RECOVERY" => {
                p.note("[EVAPORATION] RECOVERY pattern ignored".into());
            }
            other => {
                p.note(format!(
                    "[EVAPORATION] {other} is not supported; evaporation taken as zero unless CONSTANT or MONTHLY is also given"
                ));
            }
        }
    }
    let evaporation = Evaporation::monthly(evap_monthly, dry_only, start_s, end_s);

    // --- nodes
    let mut nodes: Vec<Node> = Vec::new();
    let mut invert: Vec<f64> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut add = |p: &Parser,
                   nodes: &mut Vec<Node>,
                   l: &Line,
                   kind: NodeKind|
     -> Result<usize, OverflowError> {
        let name = p.tok(l, 0, "name")?.to_string();
        if index.contains_key(&name) {
            return Err(p.err(l.no, format!("node '{name}' is defined twice")));
        }
        index.insert(name.clone(), nodes.len());
        nodes.push(Node { name, kind });
        Ok(nodes.len() - 1)
    };
    for l in p.section("JUNCTIONS") {
        add(p, &mut nodes, l, NodeKind::Junction)?;
        invert.push(p.num(l, 1, "invert elevation")? * units.length());
    }
    for l in p.section("OUTFALLS") {
        add(p, &mut nodes, l, NodeKind::Outfall { river: None })?;
        invert.push(p.num(l, 1, "invert elevation")? * units.length());
    }
    // Dividers need link indices: remember them.
    let mut divider_specs: Vec<(usize, usize, String, Vec<String>)> = Vec::new();
    for (k, l) in p.section("DIVIDERS").iter().enumerate() {
        let i = add(p, &mut nodes, l, NodeKind::Junction)?;
        invert.push(p.num(l, 1, "invert elevation")? * units.length());
        let link = p.tok(l, 2, "diverted link")?.to_string();
        let params = l.tokens[3..].to_vec();
        divider_specs.push((i, k, link, params));
    }
    for l in p.section("STORAGE") {
        let max_depth = p.num(l, 2, "maximum depth")? * units.length();
        let init = p.num_or(l, 3, 0.0, "initial depth")? * units.length();
        let shape = p.tok(l, 4, "storage shape")?.to_ascii_uppercase();
        let area_f = units.length() * units.length();
        let storage = match shape.as_str() {
            "FUNCTIONAL" => {
                let a = p.num(l, 5, "coefficient")?;
                let b = p.num(l, 6, "exponent")?;
                let c = p.num_or(l, 7, 0.0, "constant")?;
                // Area = a·d^b + c in file units.
                let a_si = a * area_f / units.length().powf(b);
                Storage::functional(c * area_f, a_si, b, max_depth, init)
            }
            "TABULAR" => {
                let name = p.tok(l, 5, "storage curve")?;
                let c = curves
                    .get(&name.to_ascii_uppercase())
                    .ok_or_else(|| p.err(l.no, format!("storage curve '{name}' is not in [CURVES]")))?;
                let pts: Vec<(f64, f64)> =
                    c.points.iter().map(|&(d, a)| (d * units.length(), a * area_f)).collect();
                Storage::from_areas(&pts, max_depth, init)
            }
            "CYLINDRICAL" => {
                let a = std::f64::consts::PI / 4.0
                    * p.num(l, 5, "major axis")?
                    * p.num(l, 6, "minor axis")?
                    * area_f;
                Storage::from_areas(&[(0.0, a), (max_depth, a)], max_depth, init)
            }
            "PYRAMIDAL" => {
                let (ln, w, z) = (
                    p.num(l, 5, "length")? * units.length(),
                    p.num(l, 6, "width")? * units.length(),
                    p.num_or(l, 7, 0.0, "side slope")?,
                );
                let pts: Vec<(f64, f64)> = (0..=32)
                    .map(|i| {
                        let d = max_depth * i as f64 / 32.0;
                        (d, (ln + 2.0 * z * d) * (w + 2.0 * z * d))
                    })
                    .collect();
                Storage::from_areas(&pts, max_depth, init)
            }
            other => return Err(p.err(l.no, format!("storage shape '{other}' is not supported (use FUNCTIONAL, TABULAR, CYLINDRICAL or PYRAMIDAL)"))),
        };
        if l.tokens.len() > 9
            && l.tokens[9..]
                .iter()
                .any(|t| t.parse::<f64>().is_ok_and(|v| v > 0.0))
        {
            p.note("[STORAGE] evaporation and seepage from storage units are not modelled".into());
        }
        add(p, &mut nodes, l, NodeKind::Storage(storage))?;
        invert.push(p.num(l, 1, "invert elevation")? * units.length());
    }
    let node_of = |p: &Parser, l: &Line, k: usize, what: &str| -> Result<usize, OverflowError> {
        let name = p.tok(l, k, what)?;
        index
            .get(name)
            .copied()
            .ok_or_else(|| p.err(l.no, format!("{what} '{name}' is not a node")))
    };

    // --- links
    let mut links: Vec<Link> = Vec::new();
    let mut link_index: HashMap<String, usize> = HashMap::new();
    let mut xsect: HashMap<String, &Line> = HashMap::new();
    for l in p.section("XSECTIONS") {
        xsect.insert(l.tokens[0].clone(), l);
    }
    // Full-flow capacity of each conduit (an OVERFLOW divider diverts above it).
    let mut q_full_of: HashMap<String, f64> = HashMap::new();
    // Every link section starts `Name From To`.
    let mut push_link = |p: &Parser,
                         links: &mut Vec<Link>,
                         l: &Line,
                         kind: LinkKind,
                         setting: f64|
     -> Result<(), OverflowError> {
        let name = p.tok(l, 0, "name")?.to_string();
        if link_index.contains_key(&name) {
            return Err(p.err(l.no, format!("link '{name}' is defined twice")));
        }
        link_index.insert(name.clone(), links.len());
        links.push(Link {
            name,
            from: node_of(p, l, 1, "inlet node")?,
            to: node_of(p, l, 2, "outlet node")?,
            kind,
            setting,
        });
        Ok(())
    };
    for l in p.section("CONDUITS") {
        let name = p.tok(l, 0, "name")?.to_string();
        let from = node_of(p, l, 1, "inlet node")?;
        let to = node_of(p, l, 2, "outlet node")?;
        let length = p.num(l, 3, "length")? * units.length();
        let n = p.num(l, 4, "roughness")?;
        let in_off = p.num_or(l, 5, 0.0, "inlet offset")? * units.length();
        let out_off = p.num_or(l, 6, 0.0, "outlet offset")? * units.length();
        let max_flow = p.num_or(l, 8, 0.0, "maximum flow")? * units.flow;
        let x = xsect
            .get(&name)
            .ok_or_else(|| p.err(l.no, format!("conduit '{name}' has no [XSECTIONS] row")))?;
        let shape = x
            .tokens
            .get(1)
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or_default();
        let g1 = p.num(x, 2, "geom1")? * units.length();
        let g2 = p.num_or(x, 3, 0.0, "geom2")? * units.length();
        let barrels = p.num_or(x, 6, 1.0, "barrels")?.max(1.0);
        let (area, radius, peak) = match shape.as_str() {
            "CIRCULAR" | "FORCE_MAIN" | "CIRCULAR_ANY" => {
                (std::f64::consts::PI * g1 * g1 / 4.0, g1 / 4.0, 1.076)
            }
            "RECT_CLOSED" => (g1 * g2, g1 * g2 / (2.0 * (g1 + g2)), 1.0),
            "RECT_OPEN" => (g1 * g2, g1 * g2 / (2.0 * g1 + g2), 1.0),
            "TRAPEZOIDAL" => {
                let z1 = p.num_or(x, 4, 0.0, "geom3")?;
                let z2 = p.num_or(x, 5, 0.0, "geom4")?;
                let a = g1 * (g2 + (z1 + z2) * g1 / 2.0);
                let per = g2 + g1 * ((1.0 + z1 * z1).sqrt() + (1.0 + z2 * z2).sqrt());
                (a, a / per, 1.0)
            }
            "DUMMY" => (0.0, 0.0, 1.0),
            other => {
                p.note(format!(
                    "cross-section shape {other} approximated as a rectangle of geom1 × geom2 (or a circle when geom2 is 0)"
                ));
                if g2 > 0.0 {
                    (g1 * g2, g1 * g2 / (2.0 * (g1 + g2)), 1.0)
                } else {
                    (std::f64::consts::PI * g1 * g1 / 4.0, g1 / 4.0, 1.0)
                }
            }
        };
        let (lag_s, capacity) = if area > 0.0 && length > 0.0 && n > 0.0 {
            let drop = invert[from] + in_off - invert[to] - out_off;
            let mut slope = drop / length;
            if slope < 1e-4 {
                p.note("conduits with a slope under 0.0001 use 0.0001 for their full-flow capacity and travel time".into());
                slope = 1e-4;
            }
            let q_full = area / n * radius.powf(2.0 / 3.0) * slope.sqrt();
            let v_full = q_full / area;
            q_full_of.insert(name.clone(), q_full * barrels);
            (length / v_full, q_full * peak * barrels)
        } else {
            (0.0, f64::INFINITY)
        };
        let capacity = if max_flow > 0.0 {
            capacity.min(max_flow)
        } else {
            capacity
        };
        push_link(
            p,
            &mut links,
            l,
            LinkKind::Conduit {
                capacity_m3_per_s: capacity,
                lag_s,
                reservoir_s: 0.0,
            },
            1.0,
        )?;
    }
    for l in p.section("PUMPS") {
        let curve_name = p.tok(l, 3, "pump curve")?;
        let status = l.tokens.get(4).map(|s| s.to_ascii_uppercase());
        let startup = p.num_or(l, 5, 0.0, "startup depth")? * units.length();
        let shutoff = p.num_or(l, 6, 0.0, "shutoff depth")? * units.length();
        let curve = if curve_name == "*" {
            PumpCurve::Ideal
        } else {
            let c = curves
                .get(&curve_name.to_ascii_uppercase())
                .ok_or_else(|| {
                    p.err(
                        l.no,
                        format!("pump curve '{curve_name}' is not in [CURVES]"),
                    )
                })?;
            let flow = |pts: &[(f64, f64)], xf: f64| -> Vec<(f64, f64)> {
                pts.iter().map(|&(x, y)| (x * xf, y * units.flow)).collect()
            };
            match c.kind.as_str() {
                "PUMP1" => PumpCurve::VolumeSteps(flow(&c.points, units.length().powi(3))),
                "PUMP2" => PumpCurve::DepthSteps(flow(&c.points, units.length())),
                "PUMP4" => PumpCurve::Depth(flow(&c.points, units.length())),
                "PUMP3" => {
                    p.note("TYPE3 (head-flow) pump curves are taken at their largest flow".into());
                    PumpCurve::Constant(
                        c.points.iter().map(|pt| pt.1).fold(0.0, f64::max) * units.flow,
                    )
                }
                "PUMP5" => {
                    p.note("TYPE5 pump curves are taken at their largest flow".into());
                    PumpCurve::Constant(
                        c.points.iter().map(|pt| pt.1).fold(0.0, f64::max) * units.flow,
                    )
                }
                other => {
                    return Err(p.err(
                        l.no,
                        format!("curve '{curve_name}' is of type {other}, not a pump curve"),
                    ))
                }
            }
        };
        push_link(
            p,
            &mut links,
            l,
            LinkKind::Pump {
                curve,
                startup_m: startup,
                shutoff_m: shutoff,
            },
            if status.as_deref() == Some("OFF") {
                0.0
            } else {
                1.0
            },
        )?;
    }
    for l in p.section("ORIFICES") {
        let name = p.tok(l, 0, "name")?.to_string();
        let bottom = p.tok(l, 3, "orifice type")?.eq_ignore_ascii_case("BOTTOM");
        let offset = p.num(l, 4, "offset")? * units.length();
        let coeff = p.num(l, 5, "discharge coefficient")?;
        let x = xsect
            .get(&name)
            .ok_or_else(|| p.err(l.no, format!("orifice '{name}' has no [XSECTIONS] row")))?;
        let shape = x
            .tokens
            .get(1)
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or_default();
        let g1 = p.num(x, 2, "geom1")? * units.length();
        let (height, width) = if shape == "CIRCULAR" {
            // Same area as the circle, same height.
            (g1, std::f64::consts::PI * g1 / 4.0)
        } else {
            (g1, p.num(x, 3, "geom2")? * units.length())
        };
        push_link(
            p,
            &mut links,
            l,
            LinkKind::Orifice {
                bottom,
                offset_m: offset,
                height_m: height,
                width_m: width,
                coeff,
            },
            1.0,
        )?;
    }
    for l in p.section("WEIRS") {
        let name = p.tok(l, 0, "name")?.to_string();
        let kind = p.tok(l, 3, "weir type")?.to_ascii_uppercase();
        let crest = p.num(l, 4, "crest height")? * units.length();
        let coeff = p.num(l, 5, "discharge coefficient")?;
        let x = xsect
            .get(&name)
            .ok_or_else(|| p.err(l.no, format!("weir '{name}' has no [XSECTIONS] row")))?;
        let height = p.num(x, 2, "geom1")? * units.length();
        let width = p.num_or(x, 3, 0.0, "geom2")? * units.length();
        let (shape, exp) = match kind.as_str() {
            "TRANSVERSE" => (WeirShape::Transverse, 2.5),
            "SIDEFLOW" => (WeirShape::SideFlow, 8.0 / 3.0),
            "V-NOTCH" => (WeirShape::VNotch, 2.5),
            "TRAPEZOIDAL" => (WeirShape::Trapezoidal, 2.5),
            other => return Err(p.err(l.no, format!("weir type '{other}' is not supported"))),
        };
        let (length, slope_tan) = match shape {
            WeirShape::VNotch => (
                0.0,
                if height > 0.0 {
                    width / 2.0 / height
                } else {
                    0.0
                },
            ),
            WeirShape::Trapezoidal => {
                let z = p.num_or(x, 4, 0.0, "side slope")?;
                (width, z)
            }
            _ => (width, 0.0),
        };
        let coeff2 = p.num_or(l, 9, coeff, "end coefficient")? * units.weir_coeff(2.5);
        push_link(
            p,
            &mut links,
            l,
            LinkKind::Weir {
                shape,
                crest_m: crest,
                coeff: coeff * units.weir_coeff(exp),
                length_m: length,
                slope_tan,
                coeff2,
            },
            1.0,
        )?;
    }
    for l in p.section("OUTLETS") {
        let offset = p.num(l, 3, "offset")? * units.length();
        let kind = p.tok(l, 4, "rating type")?.to_ascii_uppercase();
        let (c1, c2, table) = if kind.starts_with("TABULAR") {
            let cname = p.tok(l, 5, "rating curve")?;
            let c = curves
                .get(&cname.to_ascii_uppercase())
                .ok_or_else(|| p.err(l.no, format!("rating curve '{cname}' is not in [CURVES]")))?;
            let pts = c
                .points
                .iter()
                .map(|&(h, q)| (h * units.length(), q * units.flow))
                .collect();
            (0.0, 0.0, Some(pts))
        } else {
            let c1 = p.num(l, 5, "coefficient")?;
            let c2 = p.num(l, 6, "exponent")?;
            (c1 * units.flow / units.length().powf(c2), c2, None)
        };
        if kind.ends_with("HEAD") {
            p.note("outlet rating by head is applied to the depth of the inlet node".into());
        }
        push_link(
            p,
            &mut links,
            l,
            LinkKind::Outlet {
                offset_m: offset,
                c1,
                c2,
                table,
            },
            1.0,
        )?;
    }
    // Dividers now that links exist.
    for (node, k, link, params) in divider_specs {
        let l = &p.section("DIVIDERS")[k];
        let diverted = *link_index
            .get(&link)
            .ok_or_else(|| p.err(l.no, format!("diverted link '{link}' is not a link")))?;
        if links[diverted].from != node {
            return Err(p.err(
                l.no,
                format!(
                    "diverted link '{link}' does not leave divider '{}'",
                    nodes[node].name
                ),
            ));
        }
        let kind = params
            .first()
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or_default();
        let num = |i: usize, what: &str| -> Result<f64, OverflowError> {
            params
                .get(i)
                .and_then(|s| s.parse::<f64>().ok())
                .ok_or_else(|| p.err(l.no, format!("divider needs a number for {what}")))
        };
        let rule = match kind.as_str() {
            "CUTOFF" => DividerRule::Cutoff(num(1, "cutoff flow")? * units.flow),
            "OVERFLOW" => {
                // SWMM diverts what exceeds the other conduit's full-flow capacity.
                let main = links
                    .iter()
                    .enumerate()
                    .find(|(k, l)| l.from == node && *k != diverted)
                    .map(|(_, l)| l.name.clone());
                match main.and_then(|m| q_full_of.get(&m).copied()) {
                    Some(q) => DividerRule::Cutoff(q),
                    None => DividerRule::Overflow,
                }
            }
            "TABULAR" => {
                let cname = params
                    .get(1)
                    .ok_or_else(|| p.err(l.no, "divider needs a curve"))?;
                let c = curves.get(&cname.to_ascii_uppercase()).ok_or_else(|| {
                    p.err(
                        l.no,
                        format!("diversion curve '{cname}' is not in [CURVES]"),
                    )
                })?;
                DividerRule::Tabular(
                    c.points
                        .iter()
                        .map(|&(a, b)| (a * units.flow, b * units.flow))
                        .collect(),
                )
            }
            "WEIR" => DividerRule::Weir {
                qmin: num(1, "minimum flow")? * units.flow,
                height_m: num(2, "maximum depth")? * units.length(),
                coeff: num(3, "weir coefficient")? * units.weir_coeff(2.5),
            },
            other => {
                return Err(p.err(
                    l.no,
                    format!("divider type '{other}' is not CUTOFF, OVERFLOW, TABULAR or WEIR"),
                ))
            }
        };
        nodes[node].kind = NodeKind::Divider { diverted, rule };
    }

    // --- outfalls: plant or river
    classify_outfalls(p, &mut nodes, &links, options)?;

    // --- rain gages
    let mut gages: Vec<Gage> = Vec::new();
    let mut gage_index: HashMap<String, usize> = HashMap::new();
    for l in p.section("RAINGAGES") {
        let name = p.tok(l, 0, "name")?.to_string();
        let format = p.tok(l, 1, "rain format")?.to_ascii_uppercase();
        let interval = parse_clock(p.tok(l, 2, "rain interval")?)
            .filter(|s| *s > 0)
            .ok_or_else(|| p.err(l.no, "rain interval is not a time"))?;
        let scf = p.num_or(l, 3, 1.0, "snow catch factor")?;
        let source = p.tok(l, 4, "rain source")?.to_ascii_uppercase();
        let points: Vec<(i64, f64)> = match source.as_str() {
            "TIMESERIES" => {
                let ts = p.tok(l, 5, "time series name")?;
                series
                    .get(&ts.to_ascii_uppercase())
                    .cloned()
                    .ok_or_else(|| {
                        p.err(l.no, format!("time series '{ts}' is not in [TIMESERIES]"))
                    })?
            }
            "FILE" => {
                let path = p.dir.join(p.tok(l, 5, "rain file")?);
                let station = p.tok(l, 6, "station")?.to_string();
                let mm = l
                    .tokens
                    .get(7)
                    .is_some_and(|u| u.eq_ignore_ascii_case("MM"));
                read_rain_file(&path, &station, if mm { 1.0 } else { 25.4 })?
                    .into_iter()
                    .map(|(t, v)| (t, v / p_units_depth(units)))
                    .collect()
            }
            other => {
                return Err(p.err(
                    l.no,
                    format!("rain source '{other}' is not TIMESERIES or FILE"),
                ))
            }
        };
        let series = gage_series(p, l, &points, &format, interval, scf, units)?;
        gage_index.insert(name.clone(), gages.len());
        gages.push(Gage { name, rain: series });
    }
    if gages.is_empty() {
        return Err(p.err(0, "the file has no [RAINGAGES]"));
    }

    // --- subcatchments
    let mut subareas: HashMap<String, &Line> = HashMap::new();
    for l in p.section("SUBAREAS") {
        subareas.insert(l.tokens[0].clone(), l);
    }
    let mut infil: HashMap<String, &Line> = HashMap::new();
    for l in p.section("INFILTRATION") {
        infil.insert(l.tokens[0].clone(), l);
    }
    let mut subcatchments = Vec::new();
    for l in p.section("SUBCATCHMENTS") {
        let name = p.tok(l, 0, "name")?.to_string();
        let gname = p.tok(l, 1, "rain gage")?;
        let gage = *gage_index
            .get(gname)
            .ok_or_else(|| p.err(l.no, format!("rain gage '{gname}' is not in [RAINGAGES]")))?;
        let outlet_name = p.tok(l, 2, "outlet")?;
        let outlet = match index.get(outlet_name) {
            Some(&i) => i,
            None => {
                return Err(p.err(
                    l.no,
                    format!("outlet '{outlet_name}' is not a node (runoff onto other subcatchments is not supported)"),
                ))
            }
        };
        let area = p.num(l, 3, "area")? * units.area();
        let imperv = p.num(l, 4, "% impervious")? / 100.0;
        let width = p.num(l, 5, "width")? * units.length();
        let slope = p.num(l, 6, "% slope")? / 100.0;
        if area.is_nan()
            || area <= 0.0
            || !(0.0..=1.0).contains(&imperv)
            || width < 0.0
            || slope < 0.0
        {
            return Err(p.err(
                l.no,
                format!("subcatchment '{name}': area, % impervious, width or slope out of range"),
            ));
        }
        let sa = subareas
            .get(&name)
            .ok_or_else(|| p.err(l.no, format!("subcatchment '{name}' has no [SUBAREAS] row")))?;
        let route = sa
            .tokens
            .get(6)
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or("OUTLET".into());
        if route != "OUTLET" {
            p.note("[SUBAREAS] internal routing (IMPERVIOUS/PERVIOUS) is taken as OUTLET".into());
        }
        let infiltration = match infil.get(&name) {
            None if imperv >= 1.0 => Infiltration::None,
            None => {
                return Err(p.err(
                    l.no,
                    format!("subcatchment '{name}' has no [INFILTRATION] row"),
                ))
            }
            Some(il) => {
                let method = il
                    .tokens
                    .get(6)
                    .map(|s| s.to_ascii_uppercase())
                    .unwrap_or(infil_model.clone());
                match method.as_str() {
                    "HORTON" | "MODIFIED_HORTON" => {
                        if method == "MODIFIED_HORTON" {
                            p.note("MODIFIED_HORTON infiltration is computed as HORTON".into());
                        }
                        Infiltration::Horton {
                            f0_m_per_s: p.num(il, 1, "maximum infiltration rate")? * p_units_depth(units) / 1000.0 / 3600.0,
                            fmin_m_per_s: p.num(il, 2, "minimum infiltration rate")? * p_units_depth(units) / 1000.0 / 3600.0,
                            decay_per_s: p.num(il, 3, "decay constant")? / 3600.0,
                            dry_days: p.num(il, 4, "drying time")?,
                            max_m: p.num_or(il, 5, 0.0, "maximum volume")? * units.depth(),
                        }
                    }
                    "CURVE_NUMBER" => Infiltration::CurveNumber {
                        cn: p.num(il, 1, "curve number")?,
                        dry_days: p.num_or(il, 3, 7.0, "drying time")?,
                    },
                    other => {
                        return Err(p.err(il.no, format!("{other} infiltration is not supported (HORTON, MODIFIED_HORTON, CURVE_NUMBER)")))
                    }
                }
            }
        };
        subcatchments.push(Subcatchment {
            name,
            gage,
            outlet,
            area_m2: area,
            imperv,
            width_m: width,
            slope,
            n_imperv: p.num(sa, 1, "N-Imperv")?,
            n_perv: p.num(sa, 2, "N-Perv")?,
            ds_imperv_m: p.num(sa, 3, "S-Imperv")? * units.depth(),
            ds_perv_m: p.num(sa, 4, "S-Perv")? * units.depth(),
            zero_ds: p.num_or(sa, 5, 25.0, "PctZero")? / 100.0,
            infiltration,
            lag_s: 0.0,
            reservoir_s: 0.0,
        });
    }

    // --- dry-weather flow
    let mut dry_weather = Vec::new();
    for l in p.section("DWF") {
        let node = node_of(p, l, 0, "node")?;
        if !p.tok(l, 1, "constituent")?.eq_ignore_ascii_case("FLOW") {
            continue;
        }
        let mut d = DryWeatherFlow::flat(node, p.num(l, 2, "baseline")? * units.flow);
        for name in &l.tokens[3..] {
            if name.is_empty() || name == "*" {
                continue;
            }
            let pat = patterns
                .get(&name.to_ascii_uppercase())
                .ok_or_else(|| p.err(l.no, format!("pattern '{name}' is not in [PATTERNS]")))?;
            let need = |n: usize| -> Result<(), OverflowError> {
                if pat.1.len() == n {
                    Ok(())
                } else {
                    Err(p.err(
                        l.no,
                        format!(
                            "pattern '{name}' has {} factors, {} expected",
                            pat.1.len(),
                            n
                        ),
                    ))
                }
            };
            match pat.0.as_str() {
                "MONTHLY" => {
                    need(12)?;
                    d.monthly.copy_from_slice(&pat.1);
                }
                "DAILY" => {
                    need(7)?;
                    d.daily.copy_from_slice(&pat.1);
                }
                "HOURLY" => {
                    need(24)?;
                    d.hourly.copy_from_slice(&pat.1);
                }
                "WEEKEND" => {
                    need(24)?;
                    let mut w = [0.0; 24];
                    w.copy_from_slice(&pat.1);
                    d.weekend = Some(w);
                }
                other => return Err(p.err(l.no, format!("pattern type '{other}' is unknown"))),
            }
        }
        dry_weather.push(d);
    }

    // --- controls
    let rules = read_rules(p, &index, &link_index, &invert, &links, units)?;

    let name = p
        .section("TITLE")
        .first()
        .map(|l| l.tokens.join(" "))
        .unwrap_or_else(|| p.file.to_string());
    Ok(System {
        name,
        clock,
        gages,
        evaporation,
        subcatchments,
        nodes,
        links,
        dry_weather,
        rules,
        events: options.events.unwrap_or_default(),
        notes: p.notes.borrow().iter().cloned().collect(),
    })
}

/// mm (SI) or inches (US) per file unit of rain, infiltration rate or evaporation.
fn p_units_depth(units: Units) -> f64 {
    if units.us {
        25.4
    } else {
        1.0
    }
}

/// Decide which outfalls are overflow outlets: named by the user, or reached through a
/// weir or a divider's diverted link (a regulator's overflow).
fn classify_outfalls(
    p: &Parser,
    nodes: &mut [Node],
    links: &[Link],
    options: &ImportOptions,
) -> Result<(), OverflowError> {
    for (name, _) in &options.rivers {
        if !nodes
            .iter()
            .any(|n| &n.name == name && matches!(n.kind, NodeKind::Outfall { .. }))
        {
            return Err(p.err(0, format!("--river: '{name}' is not an outfall")));
        }
    }
    for name in &options.plant {
        if !nodes
            .iter()
            .any(|n| &n.name == name && matches!(n.kind, NodeKind::Outfall { .. }))
        {
            return Err(p.err(0, format!("--plant: '{name}' is not an outfall")));
        }
    }
    let diverted: Vec<usize> = nodes
        .iter()
        .filter_map(|n| match n.kind {
            NodeKind::Divider { diverted, .. } => Some(diverted),
            _ => None,
        })
        .collect();
    #[allow(clippy::needless_range_loop)] // links are matched against the index
    for i in 0..nodes.len() {
        if !matches!(nodes[i].kind, NodeKind::Outfall { .. }) {
            continue;
        }
        let name = nodes[i].name.clone();
        let river = if let Some((_, r)) = options.rivers.iter().find(|(o, _)| *o == name) {
            Some(r.clone())
        } else if options.plant.contains(&name) {
            None
        } else {
            let by = links.iter().enumerate().find(|(k, l)| {
                l.to == i && (matches!(l.kind, LinkKind::Weir { .. }) || diverted.contains(k))
            });
            by.map(|(_, l)| {
                p.note(format!(
                    "outfall '{name}' taken as an overflow outlet (fed by '{}'); name it with --plant if it is not",
                    l.name
                ));
                name.clone()
            })
        };
        nodes[i].kind = NodeKind::Outfall { river };
    }
    Ok(())
}

struct Curve {
    kind: String,
    points: Vec<(f64, f64)>,
}

fn read_curves(p: &Parser) -> Result<HashMap<String, Curve>, OverflowError> {
    let mut curves: HashMap<String, Curve> = HashMap::new();
    for l in p.section("CURVES") {
        let name = l.tokens[0].to_ascii_uppercase();
        let mut k = 1;
        let entry = curves.entry(name).or_insert_with(|| Curve {
            kind: String::new(),
            points: Vec::new(),
        });
        if l.tokens.get(1).is_some_and(|t| t.parse::<f64>().is_err()) {
            entry.kind = l.tokens[1].to_ascii_uppercase();
            k = 2;
        }
        while k < l.tokens.len() {
            let x = p.num(l, k, "curve x")?;
            let y = p.num(l, k + 1, "curve y")?;
            entry.points.push((x, y));
            k += 2;
        }
    }
    Ok(curves)
}

fn read_patterns(p: &Parser) -> Result<HashMap<String, (String, Vec<f64>)>, OverflowError> {
    let mut out: HashMap<String, (String, Vec<f64>)> = HashMap::new();
    for l in p.section("PATTERNS") {
        let name = l.tokens[0].to_ascii_uppercase();
        let mut k = 1;
        let entry = out
            .entry(name)
            .or_insert_with(|| (String::new(), Vec::new()));
        if l.tokens.get(1).is_some_and(|t| t.parse::<f64>().is_err()) {
            entry.0 = l.tokens[1].to_ascii_uppercase();
            k = 2;
        }
        for i in k..l.tokens.len() {
            entry.1.push(p.num(l, i, "pattern factor")?);
        }
    }
    Ok(out)
}

/// Time series as (time s, value); times without a date count from the start.
fn read_timeseries(
    p: &Parser,
    start_s: i64,
) -> Result<HashMap<String, Vec<(i64, f64)>>, OverflowError> {
    let mut out: HashMap<String, Vec<(i64, f64)>> = HashMap::new();
    let mut date: HashMap<String, i64> = HashMap::new();
    for l in p.section("TIMESERIES") {
        let name = l.tokens[0].to_ascii_uppercase();
        if l.tokens
            .get(1)
            .is_some_and(|t| t.eq_ignore_ascii_case("FILE"))
        {
            let path = p.dir.join(p.tok(l, 2, "file name")?);
            let text = std::fs::read_to_string(&path).map_err(|e| OverflowError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            let sub = Parser {
                file: &path.display().to_string(),
                dir: p.dir.clone(),
                sections: HashMap::from([(
                    "TIMESERIES".to_string(),
                    text.lines()
                        .enumerate()
                        .map(|(n, raw)| {
                            let mut tokens = tokenize(raw);
                            tokens.insert(0, name.clone());
                            Line { no: n + 1, tokens }
                        })
                        .filter(|l| l.tokens.len() > 1)
                        .collect(),
                )]),
                notes: Default::default(),
            };
            let inner = read_timeseries(&sub, start_s)?;
            out.entry(name.clone())
                .or_default()
                .extend(inner.get(&name).cloned().unwrap_or_default());
            continue;
        }
        let mut k = 1;
        while k < l.tokens.len() {
            let tok = &l.tokens[k];
            if tok.contains('/') || tok.matches('-').count() == 2 {
                let d =
                    parse_date(tok).ok_or_else(|| p.err(l.no, format!("'{tok}' is not a date")))?;
                date.insert(name.clone(), d.wall_seconds());
                k += 1;
                continue;
            }
            let secs =
                parse_clock(tok).ok_or_else(|| p.err(l.no, format!("'{tok}' is not a time")))?;
            let t = match date.get(&name) {
                Some(d) => d + secs,
                None => start_s + secs,
            };
            let v = p.num(l, k + 1, "time-series value")?;
            let series = out.entry(name.clone()).or_default();
            if series.last().is_some_and(|last| last.0 >= t) {
                return Err(p.err(
                    l.no,
                    format!("time series '{}' goes back in time", l.tokens[0]),
                ));
            }
            series.push((t, v));
            k += 2;
        }
    }
    Ok(out)
}

/// SWMM's user-prepared rain file: `station year month day hour minute value`; values
/// returned in mm (× `to_mm`).
fn read_rain_file(
    path: &Path,
    station: &str,
    to_mm: f64,
) -> Result<Vec<(i64, f64)>, OverflowError> {
    let text = std::fs::read_to_string(path).map_err(|e| OverflowError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let file = path.display().to_string();
    let mut out: Vec<(i64, f64)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let t = tokenize(raw);
        if t.is_empty() || t[0] != station {
            continue;
        }
        let err = |m: String| OverflowError::Input {
            file: file.clone(),
            line: n + 1,
            message: m,
        };
        if t.len() < 7 {
            return Err(err(
                "expected 'station year month day hour minute value'".into()
            ));
        }
        let nums: Vec<f64> = t[1..7]
            .iter()
            .map(|s| s.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| err(format!("'{raw}' has a field that is not a number")))?;
        let day = rewater_standards::Date::from_ymd(nums[0] as i32, nums[1] as u32, nums[2] as u32)
            .ok_or_else(|| err("not a real date".into()))?;
        let time = day.wall_seconds() + nums[3] as i64 * 3600 + nums[4] as i64 * 60;
        if nums[5].is_nan() || nums[5] < 0.0 {
            return Err(err(format!("rain value {} must be zero or more", nums[5])));
        }
        if out.last().is_some_and(|l| l.0 >= time) {
            return Err(err("rain file goes back in time".into()));
        }
        out.push((time, nums[5] * to_mm));
    }
    if out.is_empty() {
        return Err(OverflowError::Input {
            file,
            line: 0,
            message: format!("no rows for station '{station}'"),
        });
    }
    Ok(out)
}

/// A gage's rain series from (time, value) points in the gage's format.
fn gage_series(
    p: &Parser,
    l: &Line,
    points: &[(i64, f64)],
    format: &str,
    interval: i64,
    scf: f64,
    units: Units,
) -> Result<RainSeries, OverflowError> {
    if points.is_empty() {
        return Err(p.err(l.no, "rain series is empty"));
    }
    let start = points[0].0;
    let last = points[points.len() - 1].0;
    let n = ((last - start) / interval + 1) as usize;
    let mut depth = vec![0.0; n];
    let mut prev_cum = 0.0;
    for &(t, v) in points {
        let i = ((t - start) / interval) as usize;
        let mm = match format {
            "INTENSITY" => v * interval as f64 / 3600.0,
            "VOLUME" => v,
            "CUMULATIVE" => {
                let d = (v - prev_cum).max(0.0);
                prev_cum = v;
                d
            }
            other => {
                return Err(p.err(
                    l.no,
                    format!("rain format '{other}' is not INTENSITY, VOLUME or CUMULATIVE"),
                ))
            }
        };
        if mm < 0.0 {
            return Err(p.err(l.no, "negative rain in the gage's series"));
        }
        depth[i] += mm * scf * units.depth();
    }
    Ok(RainSeries::new(start, interval, depth))
}

fn read_rules(
    p: &Parser,
    nodes: &HashMap<String, usize>,
    links: &HashMap<String, usize>,
    invert: &[f64],
    link_defs: &[Link],
    units: Units,
) -> Result<Vec<Rule>, OverflowError> {
    let mut rules: Vec<Rule> = Vec::new();
    #[derive(PartialEq)]
    enum Part {
        If,
        Then,
        Else,
    }
    let mut part = Part::If;
    for l in p.section("CONTROLS") {
        let head = l.tokens[0].to_ascii_uppercase();
        let t = &l.tokens;
        match head.as_str() {
            "RULE" => {
                rules.push(Rule {
                    name: t.get(1).cloned().unwrap_or_default(),
                    premises: Vec::new(),
                    then: Vec::new(),
                    otherwise: Vec::new(),
                    priority: 0.0,
                });
                part = Part::If;
                continue;
            }
            "PRIORITY" => {
                let rule = rules
                    .last_mut()
                    .ok_or_else(|| p.err(l.no, "PRIORITY before RULE"))?;
                rule.priority = p.num(l, 1, "priority")?;
                continue;
            }
            _ => {}
        }
        let rule = rules
            .last_mut()
            .ok_or_else(|| p.err(l.no, "a control line before the first RULE"))?;
        let (joiner, rest) = match head.as_str() {
            "IF" => {
                part = Part::If;
                ("IF", &t[1..])
            }
            "THEN" => {
                part = Part::Then;
                ("THEN", &t[1..])
            }
            "ELSE" => {
                part = Part::Else;
                ("ELSE", &t[1..])
            }
            "AND" | "OR" => (head.as_str(), &t[1..]),
            _ => return Err(p.err(l.no, format!("control line starts with '{}'", t[0]))),
        };
        if part == Part::If {
            let premise = parse_premise(p, l, rest, joiner == "OR", nodes, links, invert, units)?;
            rule.premises.push(premise);
        } else {
            if joiner == "OR" {
                return Err(p.err(l.no, "OR joins conditions, not actions"));
            }
            let action = parse_action(p, l, rest, links, link_defs)?;
            match part {
                Part::Then => rule.then.push(action),
                _ => rule.otherwise.push(action),
            }
        }
    }
    Ok(rules)
}

#[allow(clippy::too_many_arguments)]
fn parse_premise(
    p: &Parser,
    l: &Line,
    t: &[String],
    or: bool,
    nodes: &HashMap<String, usize>,
    links: &HashMap<String, usize>,
    invert: &[f64],
    units: Units,
) -> Result<Premise, OverflowError> {
    let up = |i: usize| t.get(i).map(|s| s.to_ascii_uppercase()).unwrap_or_default();
    let cmp = |s: &str| -> Result<Compare, OverflowError> {
        Ok(match s {
            "<" => Compare::Lt,
            "<=" => Compare::Le,
            ">" => Compare::Gt,
            ">=" => Compare::Ge,
            "=" => Compare::Eq,
            "<>" => Compare::Ne,
            other => return Err(p.err(l.no, format!("'{other}' is not a comparison"))),
        })
    };
    let value_at = |i: usize| -> Result<f64, OverflowError> {
        let s = t
            .get(i)
            .ok_or_else(|| p.err(l.no, "condition has no value"))?;
        if t.len() > i + 1 {
            return Err(p.err(
                l.no,
                "comparing two attributes is not supported; compare with a number",
            ));
        }
        match s.to_ascii_uppercase().as_str() {
            "ON" | "OPEN" => Ok(1.0),
            "OFF" | "CLOSED" => Ok(0.0),
            _ => s
                .parse::<f64>()
                .ok()
                .or_else(|| parse_clock(s).map(|x| x as f64 / 3600.0))
                .ok_or_else(|| p.err(l.no, format!("'{s}' is not a number"))),
        }
    };
    let object = up(0);
    if object == "SIMULATION" {
        let subject = match up(1).as_str() {
            "TIME" => Subject::SimulationHours,
            "CLOCKTIME" => Subject::ClockHour,
            other => {
                return Err(p.err(
                    l.no,
                    format!("SIMULATION {other} is not supported (TIME, CLOCKTIME)"),
                ))
            }
        };
        return Ok(Premise {
            or,
            subject,
            compare: cmp(&up(2))?,
            value: value_at(3)?,
        });
    }
    let name = t
        .get(1)
        .ok_or_else(|| p.err(l.no, "condition names no object"))?;
    let attr = up(2);
    let compare = cmp(&up(3))?;
    let raw = value_at(4)?;
    let (subject, value) = match object.as_str() {
        "NODE" | "JUNCTION" | "STORAGE" | "OUTFALL" | "DIVIDER" => {
            let i = *nodes
                .get(name)
                .ok_or_else(|| p.err(l.no, format!("node '{name}' is not defined")))?;
            match attr.as_str() {
                "DEPTH" => (Subject::NodeDepth(i), raw * units.length()),
                "HEAD" => (Subject::NodeDepth(i), raw * units.length() - invert[i]),
                "VOLUME" => (Subject::NodeVolume(i), raw * units.length().powi(3)),
                "INFLOW" => (Subject::NodeLateral(i), raw * units.flow),
                other => {
                    return Err(p.err(
                        l.no,
                        format!(
                            "node attribute {other} is not supported (DEPTH, HEAD, VOLUME, INFLOW)"
                        ),
                    ))
                }
            }
        }
        "LINK" | "CONDUIT" | "PUMP" | "ORIFICE" | "WEIR" | "OUTLET" => {
            let i = *links
                .get(name)
                .ok_or_else(|| p.err(l.no, format!("link '{name}' is not defined")))?;
            match attr.as_str() {
                "FLOW" => (Subject::LinkFlow(i), raw * units.flow),
                "STATUS" | "SETTING" => (Subject::LinkSetting(i), raw),
                other => {
                    return Err(p.err(
                        l.no,
                        format!("link attribute {other} is not supported (FLOW, STATUS, SETTING)"),
                    ))
                }
            }
        }
        other => return Err(p.err(l.no, format!("condition object '{other}' is not supported"))),
    };
    Ok(Premise {
        or,
        subject,
        compare,
        value,
    })
}

fn parse_action(
    p: &Parser,
    l: &Line,
    t: &[String],
    links: &HashMap<String, usize>,
    link_defs: &[Link],
) -> Result<Action, OverflowError> {
    let name = t
        .get(1)
        .ok_or_else(|| p.err(l.no, "action names no link"))?;
    let link = *links
        .get(name)
        .ok_or_else(|| p.err(l.no, format!("link '{name}' is not defined")))?;
    let attr = t.get(2).map(|s| s.to_ascii_uppercase()).unwrap_or_default();
    if t.get(3).map(|s| s.as_str()) != Some("=") {
        return Err(p.err(l.no, "an action reads 'LINK name STATUS|SETTING = value'"));
    }
    let v = t.get(4).ok_or_else(|| p.err(l.no, "action has no value"))?;
    let setting = match (attr.as_str(), v.to_ascii_uppercase().as_str()) {
        ("STATUS", "ON" | "OPEN") => 1.0,
        ("STATUS", "OFF" | "CLOSED") => 0.0,
        ("SETTING", "CURVE" | "TIMESERIES" | "PID") => {
            return Err(p.err(
                l.no,
                format!("SETTING = {v} is not supported; give a number"),
            ))
        }
        ("SETTING", s) => s
            .parse::<f64>()
            .map_err(|_| p.err(l.no, format!("'{v}' is not a setting")))?,
        _ => return Err(p.err(l.no, format!("'{attr} = {v}' is not an action"))),
    };
    let setting = if matches!(link_defs[link].kind, LinkKind::Pump { .. }) {
        setting.max(0.0)
    } else {
        setting.clamp(0.0, 1.0)
    };
    Ok(Action { link, setting })
}
