//! One parser and one writer per table, over rows of text cells.

use super::{ImportReport, Table, MAX_ROWS};
use crate::geo::{Datum, Location};
use crate::*;
use rewater_time::Date;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// The tables and their columns (the first column is the record's id).
pub const TABLES: &[(&str, &[&str])] = &[
    ("water_bodies", &["id", "name_zh", "name_en", "kind"]),
    (
        "reaches",
        &[
            "id",
            "water_body",
            "name",
            "downstream",
            "length_m",
            "velocity_m_per_s",
            "flow_m3_per_s",
            "hydro_basis",
            "decay_per_day",
            "district",
            "geometry",
        ],
    ),
    (
        "sections",
        &[
            "id",
            "name",
            "reach",
            "chainage_m",
            "district",
            "lon",
            "lat",
            "datum",
            "site_mn",
        ],
    ),
    (
        "outfalls",
        &[
            "code",
            "name",
            "class",
            "district",
            "lon",
            "lat",
            "datum",
            "reach",
            "chainage_m",
            "approval",
            "responsible",
            "survey_level",
            "survey_date",
            "evidence",
            "compliance",
            "flow_m3_per_s",
            "conc_mg_per_l",
            "discharge_basis",
            "monitored_on",
            "site_mn",
            "overflow_outlet",
            "model_node",
        ],
    ),
    ("channels", &["id", "name", "kind"]),
    (
        "dischargers",
        &["code", "name", "permit", "outlets", "district"],
    ),
    ("links", &["from", "to"]),
];

/// Columns of one table.
pub fn columns(table: &str) -> Option<&'static [&'static str]> {
    TABLES.iter().find(|(n, _)| *n == table).map(|(_, c)| *c)
}

struct Row<'a> {
    file: &'a str,
    line: usize,
    cols: &'a HashMap<&'a str, usize>,
    cells: &'a [String],
    problems: &'a mut Vec<Problem>,
}

impl Row<'_> {
    fn bad(&mut self, field: &str, msg: impl Into<String>) {
        self.problems
            .push(Problem::new(self.file, Some(self.line), Some(field), msg));
    }
    fn text(&self, f: &str) -> &str {
        self.cols
            .get(f)
            .and_then(|&i| self.cells.get(i))
            .map_or("", |s| s.trim())
    }
    fn opt(&self, f: &str) -> Option<String> {
        Some(self.text(f))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
    fn req(&mut self, f: &str) -> String {
        let v = self.text(f).to_string();
        if v.is_empty() {
            self.bad(f, "required, but empty");
        }
        v
    }
    fn id(&mut self, f: &str) -> String {
        let v = self.req(f);
        if !v.is_empty() {
            if let Err(e) = classes::check_identifier(&v) {
                self.bad(f, e);
            }
        }
        v
    }
    fn opt_num(&mut self, f: &str) -> Option<f64> {
        let t = self.text(f).to_string();
        if t.is_empty() {
            return None;
        }
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                self.bad(f, format!("'{t}' is not a number"));
                None
            }
        }
    }
    fn num(&mut self, f: &str) -> f64 {
        if self.text(f).is_empty() {
            self.bad(f, "required, but empty");
            return 0.0;
        }
        self.opt_num(f).unwrap_or(0.0)
    }
    fn parse<T: FromStr<Err = String>>(&mut self, f: &str) -> Option<T> {
        let t = self.text(f).to_string();
        match t.parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.bad(f, e);
                None
            }
        }
    }
    fn date(&mut self, f: &str) -> Option<Date> {
        let t = self.text(f).to_string();
        if t.is_empty() {
            return None;
        }
        match t.parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                self.bad(f, format!("'{t}' is not a date YYYY-MM-DD"));
                None
            }
        }
    }
    fn list(&mut self, f: &str) -> Vec<String> {
        self.text(f)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
    fn map(&mut self, f: &str) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        for part in self.list(f) {
            match part
                .split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().parse::<f64>()))
            {
                Some((k, Ok(v))) if !k.is_empty() && v.is_finite() => {
                    m.insert(k, v);
                }
                _ => self.bad(
                    f,
                    format!("'{part}' is not factor=number (e.g. cod=30;nh3n=1.5)"),
                ),
            }
        }
        m
    }
    /// lon, lat and datum; all empty = none.
    fn location(&mut self, report: &mut ImportReport) -> Option<Location> {
        let (lon, lat) = (self.opt_num("lon"), self.opt_num("lat"));
        let datum_text = self.text("datum").to_string();
        match (lon, lat) {
            (None, None) if datum_text.is_empty() => None,
            (Some(lon), Some(lat)) => {
                if datum_text.is_empty() {
                    self.bad(
                        "datum",
                        "coordinates need their datum: CGCS2000, WGS84 or GCJ-02",
                    );
                    return None;
                }
                let datum: Datum = self.parse("datum")?;
                match Location::new(lon, lat, datum) {
                    Ok(l) => {
                        if datum == Datum::Gcj02 {
                            report.converted_from_gcj02 += 1;
                        }
                        Some(l)
                    }
                    Err(e) => {
                        self.bad("lon", e);
                        None
                    }
                }
            }
            _ => {
                if !self
                    .problems
                    .iter()
                    .any(|p| p.row == Some(self.line) && p.file == self.file)
                {
                    self.bad(
                        if lon.is_none() { "lon" } else { "lat" },
                        "both lon and lat, or neither",
                    );
                }
                None
            }
        }
    }
    fn geometry(&mut self, f: &str) -> Vec<[f64; 2]> {
        let mut g = Vec::new();
        for part in self.list(f) {
            let xy: Vec<Option<f64>> = part
                .split_whitespace()
                .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
                .collect();
            match xy.as_slice() {
                [Some(x), Some(y)]
                    if (-180.0..=180.0).contains(x) && (-90.0..=90.0).contains(y) =>
                {
                    g.push([*x, *y])
                }
                _ => self.bad(f, format!("'{part}' is not 'lon lat' in degrees")),
            }
        }
        g
    }
}

/// Parses every table into a ledger fragment, collecting problems.
pub(super) fn parse_tables(
    tables: &[Table],
    problems: &mut Vec<Problem>,
    report: &mut ImportReport,
) -> Ledger {
    let mut l = Ledger::default();
    let mut seen: HashMap<(String, String), (String, usize)> = HashMap::new();
    for t in tables {
        let Some(cols_of) = columns(&t.name) else {
            problems.push(Problem::new(
                &t.file,
                None,
                None,
                format!(
                    "'{}' is not a ledger table ({})",
                    t.name,
                    TABLES.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
                ),
            ));
            continue;
        };
        if t.rows.len() > MAX_ROWS {
            problems.push(Problem::new(
                &t.file,
                None,
                None,
                format!("{} rows: more than {MAX_ROWS}", t.rows.len()),
            ));
            continue;
        }
        let mut cols: HashMap<&str, usize> = HashMap::new();
        for (i, h) in t.headers.iter().enumerate() {
            let h = h.trim();
            match cols_of.iter().find(|c| c.eq_ignore_ascii_case(h)) {
                Some(c) => {
                    if cols.insert(c, i).is_some() {
                        problems.push(Problem::new(
                            &t.file,
                            Some(1),
                            Some(h),
                            "column given twice",
                        ));
                    }
                }
                None if h.is_empty() => {}
                None => problems.push(Problem::new(
                    &t.file,
                    Some(1),
                    Some(h),
                    format!(
                        "unknown column (columns of {}: {})",
                        t.name,
                        cols_of.join(", ")
                    ),
                )),
            }
        }
        let key_col = cols_of[0];
        if t.name != "links" && !cols.contains_key(key_col) {
            problems.push(Problem::new(
                &t.file,
                Some(1),
                Some(key_col),
                "the key column is missing",
            ));
            continue;
        }
        for (line, cells) in &t.rows {
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let mut r = Row {
                file: &t.file,
                line: *line,
                cols: &cols,
                cells,
                problems: &mut *problems,
            };
            let key = r.text(key_col).to_string();
            if t.name != "links" && !key.is_empty() {
                if let Some((f, at)) =
                    seen.insert((t.name.clone(), key.clone()), (t.file.clone(), *line))
                {
                    r.bad(key_col, format!("'{key}' is also at {f}:{at}"));
                }
            }
            parse_row(&t.name, &mut r, &mut l, report);
        }
    }
    l
}

fn parse_row(table: &str, r: &mut Row<'_>, l: &mut Ledger, report: &mut ImportReport) {
    match table {
        "water_bodies" => l.water_bodies.push(WaterBody {
            id: r.id("id"),
            name_zh: r.req("name_zh"),
            name_en: r.text("name_en").into(),
            kind: r.opt("kind").unwrap_or_else(|| "river".into()),
        }),
        "reaches" => l.reaches.push(Reach {
            id: r.id("id"),
            water_body: r.req("water_body"),
            name: r.text("name").into(),
            downstream: r.opt("downstream"),
            length_m: r.num("length_m"),
            velocity_m_per_s: r.num("velocity_m_per_s"),
            flow_m3_per_s: r.num("flow_m3_per_s"),
            hydro_basis: r.parse("hydro_basis").unwrap_or_default(),
            decay_per_day: r.map("decay_per_day"),
            district: r.opt("district"),
            geometry: r.geometry("geometry"),
        }),
        "sections" => l.sections.push(Section {
            id: r.id("id"),
            name: r.text("name").into(),
            reach: r.req("reach"),
            chainage_m: r.num("chainage_m"),
            district: r.opt("district"),
            location: r.location(report),
            site_mn: r.opt("site_mn"),
        }),
        "outfalls" => {
            let location = r.location(report);
            if location.is_none() && r.text("lon").is_empty() && r.text("lat").is_empty() {
                r.bad("lon", "an outfall needs its location (lon, lat, datum)");
            }
            let survey_level = r
                .opt_num("survey_level")
                .map(|v| v as u8)
                .filter(|v| (1..=3).contains(v));
            if r.opt_num("survey_level").is_some() && survey_level.is_none() {
                r.bad("survey_level", "HJ 1232 has levels 1, 2 and 3");
            }
            let class = r.opt("class").unwrap_or_else(|| "undetermined".into());
            let o = Outfall {
                code: r.id("code"),
                name: r.text("name").into(),
                class,
                district: r.req("district"),
                location: location.unwrap_or(Location {
                    lon: 0.0,
                    lat: 0.0,
                    datum: Datum::Wgs84,
                }),
                reach: r.req("reach"),
                chainage_m: r.num("chainage_m"),
                approval: r.opt("approval"),
                responsible: r.text("responsible").into(),
                survey_level,
                survey_date: r.date("survey_date"),
                evidence: r.list("evidence"),
                compliance: r.parse("compliance").unwrap_or_default(),
                flow_m3_per_s: r.opt_num("flow_m3_per_s"),
                conc_mg_per_l: r.map("conc_mg_per_l"),
                discharge_basis: r.parse("discharge_basis").unwrap_or_default(),
                monitored_on: r.date("monitored_on"),
                site_mn: r.opt("site_mn"),
                overflow_outlet: r.opt("overflow_outlet"),
                model_node: r.opt("model_node"),
            };
            if classes::class(&o.class).is_none() {
                r.bad(
                    "class",
                    format!(
                        "'{}' is not an HJ 1312-2023 class id nor 'undetermined'",
                        o.class
                    ),
                );
            }
            l.outfalls.push(o);
        }
        "channels" => l.channels.push(Channel {
            id: r.id("id"),
            name: r.text("name").into(),
            kind: r.opt("kind").unwrap_or_else(|| "pipe".into()),
        }),
        "dischargers" => {
            let code = r.id("code");
            if !code.is_empty() {
                if let Err(e) = classes::check_discharger_code(&code) {
                    r.bad("code", e);
                }
            }
            l.dischargers.push(Discharger {
                code,
                name: r.req("name"),
                permit: r.opt("permit"),
                outlets: r.list("outlets"),
                district: r.opt("district"),
            })
        }
        _ => l.links.push(Link {
            from: r.id("from"),
            to: r.id("to"),
        }),
    }
}

fn num(v: f64) -> String {
    format!("{v}")
}

fn opt_num(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

fn map(m: &BTreeMap<String, f64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn loc(l: Option<&Location>) -> [String; 3] {
    match l {
        Some(l) => [num(l.lon), num(l.lat), l.datum.to_string()],
        None => Default::default(),
    }
}

fn opt_date(d: Option<Date>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// The ledger as tables (the export of every format).
pub(super) fn to_tables(l: &Ledger) -> Vec<Table> {
    let mut out = Vec::new();
    let mut push = |name: &str, rows: Vec<Vec<String>>| {
        let headers = columns(name)
            .unwrap_or(&[])
            .iter()
            .map(|s| s.to_string())
            .collect();
        out.push(Table {
            file: name.to_string(),
            name: name.to_string(),
            headers,
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(i, r)| (i + 2, r))
                .collect(),
        });
    };
    push(
        "water_bodies",
        l.water_bodies
            .iter()
            .map(|w| {
                vec![
                    w.id.clone(),
                    w.name_zh.clone(),
                    w.name_en.clone(),
                    w.kind.clone(),
                ]
            })
            .collect(),
    );
    push(
        "reaches",
        l.reaches
            .iter()
            .map(|r| {
                vec![
                    r.id.clone(),
                    r.water_body.clone(),
                    r.name.clone(),
                    r.downstream.clone().unwrap_or_default(),
                    num(r.length_m),
                    num(r.velocity_m_per_s),
                    num(r.flow_m3_per_s),
                    r.hydro_basis.word().into(),
                    map(&r.decay_per_day),
                    r.district.clone().unwrap_or_default(),
                    r.geometry
                        .iter()
                        .map(|[x, y]| format!("{x} {y}"))
                        .collect::<Vec<_>>()
                        .join(";"),
                ]
            })
            .collect(),
    );
    push(
        "sections",
        l.sections
            .iter()
            .map(|s| {
                let [lon, lat, datum] = loc(s.location.as_ref());
                vec![
                    s.id.clone(),
                    s.name.clone(),
                    s.reach.clone(),
                    num(s.chainage_m),
                    s.district.clone().unwrap_or_default(),
                    lon,
                    lat,
                    datum,
                    s.site_mn.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
    push(
        "outfalls",
        l.outfalls
            .iter()
            .map(|o| {
                let [lon, lat, datum] = loc(Some(&o.location));
                vec![
                    o.code.clone(),
                    o.name.clone(),
                    o.class.clone(),
                    o.district.clone(),
                    lon,
                    lat,
                    datum,
                    o.reach.clone(),
                    num(o.chainage_m),
                    o.approval.clone().unwrap_or_default(),
                    o.responsible.clone(),
                    o.survey_level.map(|v| v.to_string()).unwrap_or_default(),
                    opt_date(o.survey_date),
                    o.evidence.join(";"),
                    o.compliance.word().into(),
                    opt_num(o.flow_m3_per_s),
                    map(&o.conc_mg_per_l),
                    o.discharge_basis.word().into(),
                    opt_date(o.monitored_on),
                    o.site_mn.clone().unwrap_or_default(),
                    o.overflow_outlet.clone().unwrap_or_default(),
                    o.model_node.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
    push(
        "channels",
        l.channels
            .iter()
            .map(|c| vec![c.id.clone(), c.name.clone(), c.kind.clone()])
            .collect(),
    );
    push(
        "dischargers",
        l.dischargers
            .iter()
            .map(|d| {
                vec![
                    d.code.clone(),
                    d.name.clone(),
                    d.permit.clone().unwrap_or_default(),
                    d.outlets.join(";"),
                    d.district.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
    push(
        "links",
        l.links
            .iter()
            .map(|k| vec![k.from.clone(), k.to.clone()])
            .collect(),
    );
    out
}

/// Whether a column holds numbers (written as numbers to XLSX and GeoJSON).
pub(super) fn numeric(column: &str) -> bool {
    matches!(
        column,
        "length_m"
            | "velocity_m_per_s"
            | "flow_m3_per_s"
            | "chainage_m"
            | "lon"
            | "lat"
            | "survey_level"
    )
}
