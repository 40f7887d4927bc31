//! The ledger's records (入河排污口全口径台账) and their cross-checks.
//!
//! The chain "受纳水体—排污口—排污通道—排污单位" is kept as [`Link`]s from a discharger or a
//! channel to a channel or an outfall, many to many: one works may discharge through two
//! channels, one channel may carry several works' water to one outfall.

use crate::classes;
use crate::geo::Location;
use crate::Problem;
use rewater_time::Date;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A receiving water body (受纳水体): a river, lake, reservoir or canal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaterBody {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// river, lake, reservoir or canal.
    pub kind: String,
}

/// Whether a value was measured or estimated (shown with every result that uses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Measured,
    #[default]
    Estimated,
}

impl std::str::FromStr for Basis {
    type Err = String;
    fn from_str(s: &str) -> Result<Basis, String> {
        match s.trim() {
            "measured" | "实测" => Ok(Basis::Measured),
            "estimated" | "估算" | "" => Ok(Basis::Estimated),
            o => Err(format!("'{o}' is neither measured nor estimated")),
        }
    }
}

impl Basis {
    pub fn word(self) -> &'static str {
        match self {
            Basis::Measured => "measured",
            Basis::Estimated => "estimated",
        }
    }
}

/// A river reach (河段): one edge of the directed river network, from its upstream end
/// (chainage 0) to its downstream end (chainage = length), flowing into `downstream`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    pub id: String,
    pub water_body: String,
    pub name: String,
    /// The reach it flows into; none at an outlet of the network.
    pub downstream: Option<String>,
    pub length_m: f64,
    /// Mean velocity (m/s) for travel times.
    pub velocity_m_per_s: f64,
    /// River flow (m³/s) at the reach, for mixing (complete mixing at sections, HJ 2.3).
    pub flow_m3_per_s: f64,
    /// Whether flow and velocity are measured (gauged) or estimated.
    pub hydro_basis: Basis,
    /// First-order decay rates (1/day) per factor code (e.g. cod, nh3n).
    pub decay_per_day: BTreeMap<String, f64>,
    pub district: Option<String>,
    /// The line from upstream to downstream (for maps), same datum as the ledger's points.
    pub geometry: Vec<[f64; 2]>,
}

/// A monitoring section (监测断面) at a chainage of a reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub name: String,
    pub reach: String,
    pub chainage_m: f64,
    pub district: Option<String>,
    pub location: Option<Location>,
    /// The HJ 212 data logger (MN) measuring there, if any.
    pub site_mn: Option<String>,
}

/// Whether an outfall is legally set up (设置合规).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Compliance {
    Legal,
    /// 违规排污口: enters the rectification workflow.
    Illegal,
    #[default]
    Unknown,
}

impl std::str::FromStr for Compliance {
    type Err = String;
    fn from_str(s: &str) -> Result<Compliance, String> {
        match s.trim() {
            "legal" | "合规" => Ok(Compliance::Legal),
            "illegal" | "违规" => Ok(Compliance::Illegal),
            "unknown" | "待定" | "" => Ok(Compliance::Unknown),
            o => Err(format!("'{o}' is not legal, illegal or unknown")),
        }
    }
}

impl Compliance {
    pub fn word(self) -> &'static str {
        match self {
            Compliance::Legal => "legal",
            Compliance::Illegal => "illegal",
            Compliance::Unknown => "unknown",
        }
    }
}

/// An outfall (入河排污口).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outfall {
    /// The outfall code (HJ 1235-2021 layout, checked as UNVERIFIED).
    pub code: String,
    pub name: String,
    /// HJ 1312-2023 class or sub-class id (see [`classes`]), or "undetermined".
    pub class: String,
    pub district: String,
    pub location: Location,
    /// The receiving reach and where on it (m from its upstream end).
    pub reach: String,
    pub chainage_m: f64,
    /// Approval or registration document (设置审批/登记文号).
    pub approval: Option<String>,
    /// Responsible party (责任主体).
    pub responsible: String,
    /// Survey level of HJ 1232-2021's three-level procedure (1, 2 or 3), when surveyed.
    pub survey_level: Option<u8>,
    pub survey_date: Option<Date>,
    /// Photos and documents (paths or URLs).
    pub evidence: Vec<String>,
    pub compliance: Compliance,
    /// Typical discharge (m³/s) and concentrations (mg/L per factor code) for tracing.
    pub flow_m3_per_s: Option<f64>,
    pub conc_mg_per_l: BTreeMap<String, f64>,
    pub discharge_basis: Basis,
    /// Last water-quality and quantity monitoring (常态有水排口年度监测).
    pub monitored_on: Option<Date>,
    /// HJ 212 data logger at the outfall.
    pub site_mn: Option<String>,
    /// Overflow outlet id of a `rewater-overflow` case feeding spill events.
    pub overflow_outlet: Option<String>,
    /// Outfall node of the regional model (rewater-model) this entry stands for.
    pub model_node: Option<String>,
}

/// A discharge channel (排污通道): pipe, ditch, culvert or canal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub kind: String,
}

/// A discharger (排污单位) with its HJ 608 code, permit and outlet codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discharger {
    /// HJ 608-2017 code (unified social credit code, optionally + serial + letter).
    pub code: String,
    pub name: String,
    /// Discharge permit number (排污许可证编号).
    pub permit: Option<String>,
    /// Outlet codes such as DW001.
    pub outlets: Vec<String>,
    pub district: Option<String>,
}

/// One link of the chain: from a discharger or channel to a channel or outfall.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Link {
    pub from: String,
    pub to: String,
}

/// The whole ledger. Records are kept sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub water_bodies: Vec<WaterBody>,
    pub reaches: Vec<Reach>,
    pub sections: Vec<Section>,
    pub outfalls: Vec<Outfall>,
    pub channels: Vec<Channel>,
    pub dischargers: Vec<Discharger>,
    pub links: Vec<Link>,
}

fn merge_by<T: Clone>(into: &mut Vec<T>, from: Vec<T>, key: impl Fn(&T) -> String) {
    let mut m: BTreeMap<String, T> = into.drain(..).map(|x| (key(&x), x)).collect();
    for x in from {
        m.insert(key(&x), x);
    }
    *into = m.into_values().collect();
}

impl Ledger {
    /// Adds or replaces records of `other` by id (links are a set).
    pub fn merge(&mut self, other: Ledger) {
        merge_by(&mut self.water_bodies, other.water_bodies, |x| x.id.clone());
        merge_by(&mut self.reaches, other.reaches, |x| x.id.clone());
        merge_by(&mut self.sections, other.sections, |x| x.id.clone());
        merge_by(&mut self.outfalls, other.outfalls, |x| x.code.clone());
        merge_by(&mut self.channels, other.channels, |x| x.id.clone());
        merge_by(&mut self.dischargers, other.dischargers, |x| x.code.clone());
        let mut links: Vec<Link> = self.links.drain(..).chain(other.links).collect();
        links.sort();
        links.dedup();
        self.links = links;
    }

    pub fn outfall(&self, code: &str) -> Option<&Outfall> {
        self.outfalls.iter().find(|o| o.code == code)
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// The dischargers and channels upstream of an outfall through the links.
    pub fn chain_of(&self, outfall: &str) -> Chain {
        ChainIndex::new(self).chain_of(outfall)
    }
}

/// The links indexed by their downstream end, for many chain look-ups.
pub struct ChainIndex<'a> {
    into: HashMap<&'a str, Vec<&'a str>>,
    dischargers: HashSet<&'a str>,
}

impl<'a> ChainIndex<'a> {
    pub fn new(l: &'a Ledger) -> ChainIndex<'a> {
        let mut into: HashMap<&str, Vec<&str>> = HashMap::new();
        for k in &l.links {
            into.entry(k.to.as_str()).or_default().push(k.from.as_str());
        }
        ChainIndex {
            into,
            dischargers: l.dischargers.iter().map(|d| d.code.as_str()).collect(),
        }
    }

    /// What lies behind an outfall (or a channel).
    pub fn chain_of(&self, outfall: &str) -> Chain {
        let mut chain = Chain::default();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut queue = vec![outfall];
        while let Some(n) = queue.pop() {
            for &f in self.into.get(n).map(Vec::as_slice).unwrap_or(&[]) {
                if !seen.insert(f) {
                    continue;
                }
                chain.links.push(Link {
                    from: f.into(),
                    to: n.into(),
                });
                if self.dischargers.contains(f) {
                    chain.dischargers.push(f.to_string());
                } else {
                    chain.channels.push(f.to_string());
                    queue.push(f);
                }
            }
        }
        chain.dischargers.sort();
        chain.channels.sort();
        chain
    }
}

/// What lies behind one outfall.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    pub channels: Vec<String>,
    pub dischargers: Vec<String>,
    pub links: Vec<Link>,
}

/// How strictly codes are checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Outfall codes not following the (UNVERIFIED) HJ 1235 layout are errors, not warnings.
    pub strict_codes: bool,
}

/// Problems (the ledger is refused) and warnings (it is kept).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Checked {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

fn p(file: &str, field: &str, msg: impl Into<String>) -> Problem {
    Problem::new(file, None, Some(field), msg)
}

fn positive(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

impl Ledger {
    /// Cross-checks the whole ledger: identifiers, references, classes, codes, lengths,
    /// chainages and the river network (no cycles). Row numbers are not known here: the
    /// message names the record instead.
    pub fn check(&self, opts: CheckOptions) -> Checked {
        let mut c = Checked::default();
        let wb: HashSet<&str> = self.water_bodies.iter().map(|w| w.id.as_str()).collect();
        let reaches: HashMap<&str, &Reach> =
            self.reaches.iter().map(|r| (r.id.as_str(), r)).collect();
        let hj1235 = classes::code_rule("hj1235_outfall");
        let outlet = classes::code_rule("hj608_outlet");
        for r in &self.reaches {
            let f = format!("reach {}", r.id);
            if let Err(e) = classes::check_identifier(&r.id) {
                c.problems.push(p(&f, "id", e));
            }
            if !wb.contains(r.water_body.as_str()) {
                c.problems.push(p(
                    &f,
                    "water_body",
                    format!("no water body '{}'", r.water_body),
                ));
            }
            if let Some(d) = &r.downstream {
                if !reaches.contains_key(d.as_str()) {
                    c.problems
                        .push(p(&f, "downstream", format!("no reach '{d}'")));
                }
            }
            for (field, v) in [
                ("length_m", r.length_m),
                ("velocity_m_per_s", r.velocity_m_per_s),
                ("flow_m3_per_s", r.flow_m3_per_s),
            ] {
                if !positive(v) {
                    c.problems
                        .push(p(&f, field, format!("{v} must be a positive number")));
                }
            }
            for (k, v) in &r.decay_per_day {
                if !v.is_finite() || *v < 0.0 {
                    c.problems
                        .push(p(&f, "decay_per_day", format!("{k}: {v} must be ≥ 0")));
                }
            }
        }
        if let Err(e) = crate::network::check_acyclic(&self.reaches) {
            c.problems
                .push(Problem::new("river network", None, Some("downstream"), e));
        }
        let on_reach = |c: &mut Checked, f: &str, reach: &str, ch: f64| match reaches.get(reach) {
            None => c
                .problems
                .push(p(f, "reach", format!("no reach '{reach}'"))),
            Some(r) if !(ch.is_finite() && (0.0..=r.length_m).contains(&ch)) => c.problems.push(p(
                f,
                "chainage_m",
                format!("{ch} is not within reach '{reach}' (0–{} m)", r.length_m),
            )),
            _ => {}
        };
        for s in &self.sections {
            let f = format!("section {}", s.id);
            if let Err(e) = classes::check_identifier(&s.id) {
                c.problems.push(p(&f, "id", e));
            }
            on_reach(&mut c, &f, &s.reach, s.chainage_m);
        }
        for o in &self.outfalls {
            let f = format!("outfall {}", o.code);
            if let Err(e) = classes::check_identifier(&o.code) {
                c.problems.push(p(&f, "code", e));
            } else if let Some(rule) = hj1235 {
                if let Err(e) = rule.check(&o.code) {
                    if opts.strict_codes {
                        c.problems.push(p(&f, "code", e));
                    } else {
                        c.warnings.push(p(&f, "code", e));
                    }
                }
            }
            if classes::class(&o.class).is_none() {
                c.problems.push(p(&f, "class", format!("'{}' is not an HJ 1312-2023 class id (see data/hj1312_classes.toml) nor 'undetermined'", o.class)));
            }
            if o.district.trim().is_empty() {
                c.problems.push(p(&f, "district", "empty"));
            }
            on_reach(&mut c, &f, &o.reach, o.chainage_m);
            if let Some(l) = o.survey_level {
                if !(1..=3).contains(&l) {
                    c.problems.push(p(
                        &f,
                        "survey_level",
                        format!("{l}: HJ 1232 has levels 1, 2 and 3"),
                    ));
                }
            }
            if let Some(q) = o.flow_m3_per_s {
                if !q.is_finite() || q < 0.0 {
                    c.problems
                        .push(p(&f, "flow_m3_per_s", format!("{q} must be ≥ 0")));
                }
            }
            for (k, v) in &o.conc_mg_per_l {
                if !v.is_finite() || *v < 0.0 {
                    c.problems
                        .push(p(&f, "conc_mg_per_l", format!("{k}: {v} must be ≥ 0")));
                }
            }
        }
        for d in &self.dischargers {
            let f = format!("discharger {}", d.code);
            if let Err(e) = classes::check_discharger_code(&d.code) {
                c.problems.push(p(&f, "code", e));
            }
            for o in &d.outlets {
                if let Some(Err(e)) = outlet.map(|r| r.check(o)) {
                    c.problems.push(p(&f, "outlets", e));
                }
            }
        }
        let froms: HashSet<&str> = self
            .dischargers
            .iter()
            .map(|d| d.code.as_str())
            .chain(self.channels.iter().map(|c| c.id.as_str()))
            .collect();
        let tos: HashSet<&str> = self
            .channels
            .iter()
            .map(|c| c.id.as_str())
            .chain(self.outfalls.iter().map(|o| o.code.as_str()))
            .collect();
        for l in &self.links {
            let f = format!("link {} → {}", l.from, l.to);
            if !froms.contains(l.from.as_str()) {
                c.problems.push(p(
                    &f,
                    "from",
                    format!("'{}' is neither a discharger nor a channel", l.from),
                ));
            }
            if !tos.contains(l.to.as_str()) {
                c.problems.push(p(
                    &f,
                    "to",
                    format!("'{}' is neither a channel nor an outfall", l.to),
                ));
            }
        }
        c
    }
}
