//! Monitoring alerts (预警): evaluated as data arrives, no I/O.
//!
//! For each site (its standard(s) from the standards library) and each device:
//! * **exceedance** — a valid reading outside a limit of the site's standard. Where the standard
//!   judges daily means (GB 18918, DB11/890), a single reading is a *warning*; the daily mean
//!   outside the limit is a *violation*, raised when the day is complete (the first reading of
//!   a later day arrives). Where it judges samples (GB 3838), the reading is the violation;
//! * **offline** — no data from a device for longer than its allowed gap;
//! * **stuck** — the same value repeated for N consecutive readings (a frozen analyser);
//! * **device flag** — readings flagged other than N (fault, calibration, maintenance…);
//! * **downstream risk** — with a regional model loaded, a plant outlet in exceedance puts the
//!   wetlands, ponds and users downstream of it at risk (the pilot scheme's early warning):
//!   one alert per cause, on the site in exceedance, naming the sites at risk; it lasts while
//!   any exceedance episode of that site is open.
//!
//! Each condition raises one alert when it starts and reports its recovery when it ends, so an
//! operator sees one alert per episode, not one per reading. A reading exceedance (超标) is an
//! episode with hysteresis (滞回): raised outside the limit, cleared only inside the limit
//! tightened by [`Settings::hysteresis`] (a maximum of 50 with 10 % clears at 45), so values
//! hovering at the limit do not flap; and, with [`Settings::min_duration_s`], raised only when
//! the exceedance has lasted that long (持续超标), dated from its first reading.

use rewater_standards::standard::{Averaging, Bound, Context};
use rewater_standards::{Date, Factor, Standards, Unit};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// What an alert is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Exceedance,
    DailyExceedance,
    Offline,
    Stuck,
    DeviceFlag,
    DownstreamRisk,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Exceedance => "exceedance",
            AlertKind::DailyExceedance => "daily_exceedance",
            AlertKind::Offline => "offline",
            AlertKind::Stuck => "stuck",
            AlertKind::DeviceFlag => "device_flag",
            AlertKind::DownstreamRisk => "downstream_risk",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        [
            AlertKind::Exceedance,
            AlertKind::DailyExceedance,
            AlertKind::Offline,
            AlertKind::Stuck,
            AlertKind::DeviceFlag,
            AlertKind::DownstreamRisk,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// How serious an alert is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Violation,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Violation => "violation",
        }
    }
}

/// The identity of an alert episode: the same key is not raised twice while it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct AlertKey {
    pub site_id: String,
    pub kind: AlertKind,
    /// Factor code, where the alert is about one factor.
    pub factor: Option<String>,
}

/// An alert to record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NewAlert {
    pub key: AlertKey,
    pub mn: Option<String>,
    pub severity: Severity,
    pub message: String,
    /// Data time (wall seconds) the alert refers to.
    pub data_time: i64,
    pub value: Option<f64>,
    pub limit: Option<String>,
}

/// What evaluation produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub raised: Vec<NewAlert>,
    /// Episodes that ended (the condition no longer holds).
    pub recovered: Vec<AlertKey>,
}

/// One reading of an upload, in the factor's HJ 212 unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Value<'a> {
    pub factor: &'a str,
    pub value: Option<f64>,
    pub flag: Option<&'a str>,
}

/// A device's maintenance window (运维时段) in both clocks: data times of its readings (wall
/// seconds) and server time (Unix seconds). Its alerts are suppressed inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub mn: String,
    pub from_wall_s: i64,
    pub to_wall_s: i64,
    pub from_unix_s: i64,
    pub to_unix_s: i64,
}

/// A site as the alert engine sees it.
#[derive(Debug, Clone)]
pub struct SiteRules {
    pub site_id: String,
    /// "STANDARD:CLASS" entries (comma-separated in the store).
    pub standards: Vec<String>,
    pub model_node: Option<String>,
}

/// Settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A device silent for longer than this is offline.
    pub offline_after_s: i64,
    /// Identical consecutive values that make a sensor "stuck".
    pub stuck_after: u32,
    /// Fraction by which a limit is tightened before an open exceedance clears (0.1: a
    /// maximum of 50 clears at 45, a minimum of 5 at 5.5, a range 6–9 inside 6.6–8.1).
    pub hysteresis: f64,
    /// An exceedance is raised only once it has lasted this long in data time (0: at once).
    pub min_duration_s: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            offline_after_s: 3 * 3600,
            stuck_after: 12,
            hysteresis: 0.1,
            min_duration_s: 0,
        }
    }
}

/// Whether a value (in the limit's unit) is inside `bound` tightened by the fraction `h`: the
/// clearing test of an open exceedance. Qualitative bounds never hold an episode open.
fn clears(bound: &Bound, v: f64, h: f64) -> bool {
    let h = if h.is_finite() {
        h.clamp(0.0, 0.5)
    } else {
        0.0
    };
    match *bound {
        Bound::Max { value } => v <= value * (1.0 - h),
        Bound::Min { value } => v >= value * (1.0 + h),
        Bound::Range { low, high } => v >= low * (1.0 + h) && v <= high * (1.0 - h),
        Bound::Qualitative { .. } => true,
    }
}

#[derive(Debug, Default)]
struct FactorState {
    last: Option<f64>,
    repeats: u32,
    day: Option<Date>,
    day_sum: f64,
    day_n: u32,
    day_temp: Option<f64>,
}

impl FactorState {
    /// Adds a reading of `date` to the daily mean; returns the day it completed (its date,
    /// mean and water temperature) when it is the first of a later day.
    fn add_to_day(
        &mut self,
        date: Date,
        x: f64,
        temp: Option<f64>,
    ) -> Option<(Date, f64, Option<f64>)> {
        let mut finished = None;
        if self.day != Some(date) {
            if let (Some(d), true) = (self.day, self.day_n > 0) {
                finished = Some((d, self.day_sum / self.day_n as f64, self.day_temp));
            }
            self.day = Some(date);
            self.day_sum = 0.0;
            self.day_n = 0;
            self.day_temp = None;
        }
        self.day_sum += x;
        self.day_n += 1;
        if temp.is_some() {
            self.day_temp = temp;
        }
        finished
    }
}

/// One valid reading being judged against a site's standards.
struct Reading<'a> {
    site_id: &'a str,
    mn: &'a str,
    factor_code: &'a str,
    factor: Factor,
    x: f64,
    data_time: i64,
    date: Date,
    temp: Option<f64>,
    /// The day this reading completed: its date, mean and water temperature.
    finished_day: Option<(Date, f64, Option<f64>)>,
}

impl Reading<'_> {
    fn key(&self, kind: AlertKind) -> AlertKey {
        AlertKey {
            site_id: self.site_id.to_string(),
            kind,
            factor: Some(self.factor_code.to_string()),
        }
    }
}

/// Alerts to raise (`Ok`) or recover (`Err`), and whether the reading was outside a limit.
struct Judgement {
    actions: Vec<Result<NewAlert, AlertKey>>,
    instant_bad: bool,
    /// Inside every limit tightened by the hysteresis: an open exceedance may clear.
    instant_clear: bool,
}

/// The alert engine. Memory grows with devices × factors, not with time.
pub struct AlertEngine {
    standards: Standards,
    settings: Settings,
    /// Shared, so that an upload holds its site's rules without copying them.
    sites_by_mn: HashMap<String, Arc<SiteRules>>,
    /// Model node → sites measuring nodes downstream of it.
    downstream_sites: HashMap<String, Vec<String>>,
    /// MN → (factor code, state) of each factor it reports: a handful, found by a scan
    /// without building a key.
    factors: HashMap<String, Vec<(String, FactorState)>>,
    last_seen: HashMap<String, (i64, String)>,
    active: HashSet<AlertKey>,
    /// Site id → its open episodes (of `active`): a site with none has nothing to recover,
    /// so the keys of its recoveries are not even built.
    open_by_site: HashMap<String, u32>,
    /// Exceedances not yet lasting `min_duration_s`: since when, and the alert they will raise.
    pending: HashMap<AlertKey, (i64, NewAlert)>,
    /// Site id → its open exceedance episodes (reading and daily), for downstream risk.
    open_exceedances: HashMap<String, u32>,
    /// MN → its maintenance windows.
    maintenance: HashMap<String, Vec<Maintenance>>,
    /// Site id → (spec, index into the standards, class) of each of its standards, resolved once.
    resolved: HashMap<String, Vec<(String, usize, usize)>>,
    factor_cache: HashMap<String, Option<Factor>>,
}

fn wall_date(t: i64) -> Date {
    Date::from_wall_seconds(t)
}

fn bound_text(b: &Bound, unit: Option<Unit>) -> String {
    let u = unit.map(|u| format!(" {u}")).unwrap_or_default();
    match b {
        Bound::Max { value } => format!("≤ {value}{u}"),
        Bound::Min { value } => format!("≥ {value}{u}"),
        Bound::Range { low, high } => format!("{low}–{high}{u}"),
        Bound::Qualitative { requirement } => requirement.clone(),
    }
}

impl AlertEngine {
    /// An engine for devices (MN → site rules). `downstream` maps a model node to the model
    /// nodes downstream of it (from the regional model's links); sites name their node.
    pub fn new(
        standards: Standards,
        settings: Settings,
        devices: Vec<(String, SiteRules)>,
        downstream: &HashMap<String, Vec<String>>,
    ) -> AlertEngine {
        let mut engine = AlertEngine {
            resolved: HashMap::new(),
            factor_cache: HashMap::new(),
            standards,
            settings,
            sites_by_mn: HashMap::new(),
            downstream_sites: HashMap::new(),
            factors: HashMap::new(),
            last_seen: HashMap::new(),
            active: HashSet::new(),
            open_by_site: HashMap::new(),
            pending: HashMap::new(),
            open_exceedances: HashMap::new(),
            maintenance: HashMap::new(),
        };
        engine.set_rules(devices, downstream);
        engine
    }

    /// Replaces the devices' site rules (a site's standard changed, a device was added or
    /// moved) without forgetting what the engine has seen: open episodes, daily means in
    /// progress and repeat counts stay.
    pub fn set_rules(
        &mut self,
        devices: Vec<(String, SiteRules)>,
        downstream: &HashMap<String, Vec<String>>,
    ) {
        let mut node_sites: HashMap<String, Vec<String>> = HashMap::new();
        for (_, s) in &devices {
            if let Some(n) = &s.model_node {
                node_sites
                    .entry(n.clone())
                    .or_default()
                    .push(s.site_id.clone());
            }
        }
        let mut downstream_sites = HashMap::new();
        for (node, below) in downstream {
            let mut sites: Vec<String> = below
                .iter()
                .flat_map(|b| node_sites.get(b).cloned().unwrap_or_default())
                .collect();
            sites.sort();
            sites.dedup();
            if !sites.is_empty() {
                downstream_sites.insert(node.clone(), sites);
            }
        }
        let mut resolved = HashMap::new();
        for (_, site) in &devices {
            let list: Vec<(String, usize, usize)> = site
                .standards
                .iter()
                .filter_map(|spec| {
                    let (std, class) = self.standards.resolve(spec).ok()?;
                    let idx = self
                        .standards
                        .all()
                        .iter()
                        .position(|s| std::ptr::eq(s, std))?;
                    Some((spec.clone(), idx, class))
                })
                .collect();
            resolved.insert(site.site_id.clone(), list);
        }
        self.resolved = resolved;
        self.downstream_sites = downstream_sites;
        self.sites_by_mn = devices
            .into_iter()
            .map(|(mn, site)| (mn, Arc::new(site)))
            .collect();
    }

    /// Replaces the maintenance windows: inside one, a device's readings (by data time, or
    /// arriving in it) raise nothing and its silence is not "offline". Data flagged `M`
    /// (HJ 212: maintenance) raise nothing either.
    pub fn set_maintenance(&mut self, windows: Vec<Maintenance>) {
        self.maintenance.clear();
        for w in windows {
            self.maintenance.entry(w.mn.clone()).or_default().push(w);
        }
    }

    fn in_maintenance(&self, mn: &str, data_time: Option<i64>, now_s: i64) -> bool {
        self.maintenance.get(mn).is_some_and(|ws| {
            ws.iter().any(|w| {
                (w.from_unix_s..w.to_unix_s).contains(&now_s)
                    || data_time.is_some_and(|t| (w.from_wall_s..w.to_wall_s).contains(&t))
            })
        })
    }

    /// Alerts that are open in the engine (episodes not yet recovered).
    pub fn active(&self) -> impl Iterator<Item = &AlertKey> {
        self.active.iter()
    }

    fn raise(&mut self, out: &mut Outcome, alert: NewAlert) {
        if self.active.insert(alert.key.clone()) {
            *self
                .open_by_site
                .entry(alert.key.site_id.clone())
                .or_default() += 1;
            if is_exceedance(alert.key.kind) {
                *self
                    .open_exceedances
                    .entry(alert.key.site_id.clone())
                    .or_default() += 1;
            }
            out.raised.push(alert);
        }
    }

    fn recover(&mut self, out: &mut Outcome, key: AlertKey) {
        if self.active.remove(&key) {
            if let Some(n) = self.open_by_site.get_mut(&key.site_id) {
                *n = n.saturating_sub(1);
            }
            if is_exceedance(key.kind) {
                if let Some(n) = self.open_exceedances.get_mut(&key.site_id) {
                    *n = n.saturating_sub(1);
                }
            }
            out.recovered.push(key);
        }
    }

    /// Evaluates one stored upload. `received_s` is the server time (for offline detection).
    ///
    /// This runs for every reading a gateway stores, so the usual upload (a known device,
    /// values inside their limits, nothing open) allocates nothing: keys of recoveries are
    /// built only for a site with an open episode, state is found by `&str`.
    pub fn on_upload(
        &mut self,
        mn: &str,
        cn: &str,
        data_time: i64,
        values: &[Value<'_>],
        received_s: i64,
    ) -> Outcome {
        let mut out = Outcome::default();
        let Some(site) = self.sites_by_mn.get(mn).map(Arc::clone) else {
            return out;
        };
        let site_id = site.site_id.as_str();
        match self.last_seen.get_mut(mn) {
            Some(seen) => {
                seen.0 = received_s;
                if seen.1 != site_id {
                    seen.1 = site_id.to_string();
                }
            }
            None => {
                self.last_seen
                    .insert(mn.to_string(), (received_s, site_id.to_string()));
            }
        }
        self.recover_of(&mut out, site_id, AlertKind::Offline, None);
        if self.in_maintenance(mn, Some(data_time), received_s) {
            return out;
        }
        let date = wall_date(data_time);
        let temp = values
            .iter()
            .find(|v| v.factor == "w01010" && v.flag == Some("N"))
            .and_then(|v| v.value);
        for v in values {
            let key = |kind| AlertKey {
                site_id: site_id.to_string(),
                kind,
                factor: Some(v.factor.to_string()),
            };
            // Device flags.
            match v.flag {
                // Maintenance (HJ 212 flag M): expected, not an alert.
                Some("M") => continue,
                Some(f) if f != "N" => {
                    self.raise(
                        &mut out,
                        NewAlert {
                            key: key(AlertKind::DeviceFlag),
                            mn: Some(mn.into()),
                            severity: Severity::Warning,
                            message: format!("{} flagged '{f}' by the data logger", v.factor),
                            data_time,
                            value: v.value,
                            limit: None,
                        },
                    );
                    continue;
                }
                _ => self.recover_of(&mut out, site_id, AlertKind::DeviceFlag, Some(v.factor)),
            }
            let Some(x) = v.value else { continue };
            let stuck_after = self.settings.stuck_after;
            let st = self.factor_state(mn, v.factor);
            // Stuck sensor (flow totals may legitimately repeat; the rule applies to all, as set).
            if st.last == Some(x) {
                st.repeats += 1;
            } else {
                st.repeats = 1;
                st.last = Some(x);
            }
            let stuck = st.repeats >= stuck_after;
            // Daily accumulation (only real-time and minute data build daily means).
            let finished_day = if cn == "2011" || cn == "2051" {
                st.add_to_day(date, x, temp)
            } else {
                None
            };
            if stuck {
                self.raise(
                    &mut out,
                    NewAlert {
                        key: key(AlertKind::Stuck),
                        mn: Some(mn.into()),
                        severity: Severity::Warning,
                        message: format!(
                            "{} has repeated {x} for {stuck_after} readings",
                            v.factor
                        ),
                        data_time,
                        value: Some(x),
                        limit: None,
                    },
                );
            } else {
                self.recover_of(&mut out, site_id, AlertKind::Stuck, Some(v.factor));
            }
            let Some(factor) = self.factor_of(v.factor) else {
                continue;
            };
            let j = self.judge(&Reading {
                site_id,
                mn,
                factor_code: v.factor,
                factor,
                x,
                data_time,
                date,
                temp,
                finished_day,
            });
            let mut exceedance = None;
            for a in j.actions {
                match a {
                    Ok(alert) if alert.key.kind == AlertKind::Exceedance => {
                        exceedance.get_or_insert(alert);
                    }
                    Ok(alert) => self.raise(&mut out, alert),
                    Err(k) => self.recover(&mut out, k),
                }
            }
            match exceedance.filter(|_| j.instant_bad) {
                Some(alert) => {
                    self.exceeding(&mut out, key(AlertKind::Exceedance), alert, data_time)
                }
                None => {
                    if !self.pending.is_empty() {
                        self.pending.remove(&key(AlertKind::Exceedance));
                    }
                    if j.instant_clear {
                        self.recover_of(&mut out, site_id, AlertKind::Exceedance, Some(v.factor));
                    }
                }
            }
        }
        self.downstream_risk(&mut out, &site, data_time);
        out
    }

    /// Whether `site_id` has an open episode (else every recovery of it is a no-op).
    fn has_open(&self, site_id: &str) -> bool {
        self.open_by_site.get(site_id).is_some_and(|&n| n > 0)
    }

    /// Recovers the episode of `kind` (on `factor`) of a site, building its key only when
    /// the site has an open episode.
    fn recover_of(
        &mut self,
        out: &mut Outcome,
        site_id: &str,
        kind: AlertKind,
        factor: Option<&str>,
    ) {
        if self.has_open(site_id) {
            let key = AlertKey {
                site_id: site_id.to_string(),
                kind,
                factor: factor.map(str::to_string),
            };
            self.recover(out, key);
        }
    }

    /// The state of `factor` of device `mn`, created on its first reading.
    fn factor_state(&mut self, mn: &str, factor: &str) -> &mut FactorState {
        if !self.factors.contains_key(mn) {
            self.factors.insert(mn.to_string(), Vec::new());
        }
        let list = self.factors.get_mut(mn).expect("inserted above");
        match list.iter().position(|(f, _)| f == factor) {
            Some(k) => &mut list[k].1,
            None => {
                list.push((factor.to_string(), FactorState::default()));
                &mut list.last_mut().expect("pushed").1
            }
        }
    }

    /// The parsed factor of an HJ 212 code (None: not one rewater knows), parsed once.
    fn factor_of(&mut self, code: &str) -> Option<Factor> {
        if let Some(f) = self.factor_cache.get(code) {
            return *f;
        }
        let f = Factor::parse(code).ok();
        self.factor_cache.insert(code.to_string(), f);
        f
    }

    /// A reading outside a limit: raises the episode once it has lasted `min_duration_s`
    /// (dated from its first reading), unless it is open already.
    fn exceeding(&mut self, out: &mut Outcome, key: AlertKey, alert: NewAlert, data_time: i64) {
        if self.active.contains(&key) {
            return;
        }
        let (since, first) = self.pending.remove(&key).unwrap_or((data_time, alert));
        if data_time - since >= self.settings.min_duration_s {
            self.raise(out, first);
        } else {
            self.pending.insert(key, (since, first));
        }
    }

    /// What the site's standards say of one valid reading (and of the day it completed).
    fn judge(&self, r: &Reading<'_>) -> Judgement {
        let (factor, x, date, temp, finished_day) = (r.factor, r.x, r.date, r.temp, r.finished_day);
        let (mn, data_time) = (r.mn, r.data_time);
        let unit = factor.info().unit;
        let mut instant_bad = false;
        let mut instant_clear = true;
        // Decided while the standards are borrowed, applied after.
        let mut actions: Vec<Result<NewAlert, AlertKey>> = Vec::new();
        // Borrowed, not cloned: this runs for every reading.
        let rules = self.resolved.get(r.site_id).map_or(&[][..], Vec::as_slice);
        for (spec, idx, class) in rules {
            let (std, class) = (&self.standards.all()[*idx], *class);
            let ctx = Context {
                date: Some(date),
                water_temp_c: temp,
                ..Default::default()
            };
            if let Some(sel) = std.limit_for(class, factor, &ctx) {
                if let Ok(Some(verdict)) = rewater_standards::evaluate::judge(sel.limit, x, unit) {
                    let h = self.settings.hysteresis;
                    instant_clear &= clears(&sel.limit.bound, verdict.value_in_limit_unit, h);
                    if !verdict.meets {
                        instant_bad = true;
                        let severity = if std.averaging == Averaging::DailyMean {
                            Severity::Warning
                        } else {
                            Severity::Violation
                        };
                        let limit =
                            format!("{spec} {}", bound_text(&sel.limit.bound, sel.limit.unit));
                        actions.push(Ok(NewAlert {
                            key: r.key(AlertKind::Exceedance),
                            mn: Some(mn.into()),
                            severity,
                            message: format!("{} = {x} outside {limit}", r.factor_code),
                            data_time,
                            value: Some(x),
                            limit: Some(limit),
                        }));
                    }
                }
            }
            if let (Some((day, mean, day_temp)), Averaging::DailyMean) =
                (finished_day, std.averaging)
            {
                let ctx = Context {
                    date: Some(day),
                    water_temp_c: day_temp,
                    ..Default::default()
                };
                if let Some(sel) = std.limit_for(class, factor, &ctx) {
                    if let Ok(Some(verdict)) =
                        rewater_standards::evaluate::judge(sel.limit, mean, unit)
                    {
                        let dkey = r.key(AlertKind::DailyExceedance);
                        if verdict.meets {
                            actions.push(Err(dkey));
                        } else {
                            let limit =
                                format!("{spec} {}", bound_text(&sel.limit.bound, sel.limit.unit));
                            // A new day's episode: recover the old one, raise again.
                            actions.push(Err(dkey.clone()));
                            actions.push(Ok(NewAlert {
                                key: dkey,
                                mn: Some(mn.into()),
                                severity: Severity::Violation,
                                message: format!(
                                    "daily mean {} on {day} = {mean:.3} outside {limit}",
                                    r.factor_code
                                ),
                                data_time: day_start(day),
                                value: Some(mean),
                                limit: Some(limit),
                            }));
                        }
                    }
                }
            }
        }
        Judgement {
            actions,
            instant_bad,
            instant_clear,
        }
    }

    /// Early warning downstream of a site in exceedance: one alert on that site naming the
    /// sites at risk, open while any of its exceedance episodes is. Runs for every upload, so
    /// the message is built only when the alert is raised.
    fn downstream_risk(&mut self, out: &mut Outcome, site: &SiteRules, data_time: i64) {
        let Some(node) = &site.model_node else {
            return;
        };
        let Some(below) = self.downstream_sites.get(node) else {
            return;
        };
        let open = self
            .open_exceedances
            .get(&site.site_id)
            .copied()
            .unwrap_or(0)
            > 0;
        if !open {
            self.recover_of(out, &site.site_id, AlertKind::DownstreamRisk, None);
            return;
        }
        let key = AlertKey {
            site_id: site.site_id.clone(),
            kind: AlertKind::DownstreamRisk,
            factor: None,
        };
        if self.active.contains(&key) {
            return;
        }
        let below: Vec<&str> = below
            .iter()
            .map(String::as_str)
            .filter(|s| *s != site.site_id)
            .collect();
        if below.is_empty() {
            return;
        }
        let message = format!(
            "{} ({node}) is outside its standard; {} downstream site(s) at risk: {}",
            site.site_id,
            below.len(),
            below.join(", ")
        );
        let alert = NewAlert {
            key,
            mn: None,
            severity: Severity::Warning,
            message,
            data_time,
            value: None,
            limit: None,
        };
        self.raise(out, alert);
    }

    /// Raises offline alerts for devices silent since before `now_s - offline_after_s`.
    pub fn on_tick(&mut self, now_s: i64) -> Outcome {
        let mut out = Outcome::default();
        let late: Vec<(String, i64, String)> = self
            .last_seen
            .iter()
            .filter(|(_, (t, _))| now_s - *t > self.settings.offline_after_s)
            .filter(|(mn, _)| !self.in_maintenance(mn, None, now_s))
            .map(|(mn, (t, site))| (mn.clone(), *t, site.clone()))
            .collect();
        for (mn, t, site) in late {
            let key = AlertKey {
                site_id: site,
                kind: AlertKind::Offline,
                factor: None,
            };
            self.raise(
                &mut out,
                NewAlert {
                    key,
                    mn: Some(mn.clone()),
                    severity: Severity::Warning,
                    message: format!("no data from {mn} for {} min", (now_s - t) / 60),
                    data_time: t,
                    value: None,
                    limit: None,
                },
            );
        }
        out
    }

    /// Starts offline tracking of a device not yet heard from (e.g. at start-up).
    pub fn expect(&mut self, mn: &str, since_s: i64) {
        if let Some(site) = self.sites_by_mn.get(mn) {
            let site_id = site.site_id.clone();
            self.last_seen
                .entry(mn.to_string())
                .or_insert((since_s, site_id));
        }
    }
}

/// Kinds that are exceedances of a limit (they put downstream sites at risk).
fn is_exceedance(kind: AlertKind) -> bool {
    matches!(kind, AlertKind::Exceedance | AlertKind::DailyExceedance)
}

fn day_start(d: Date) -> i64 {
    d.wall_seconds()
}

/// Downstream nodes of every node of a model: everything reachable along links.
pub fn downstream_map(nodes: &[String], links: &[(usize, usize)]) -> HashMap<String, Vec<String>> {
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, _) in nodes.iter().enumerate() {
        let mut seen = vec![false; nodes.len()];
        let mut stack = vec![i];
        while let Some(v) = stack.pop() {
            for &(a, b) in links {
                if a == v && !seen[b] {
                    seen[b] = true;
                    stack.push(b);
                }
            }
        }
        out.insert(i, (0..nodes.len()).filter(|&j| seen[j] && j != i).collect());
    }
    out.into_iter()
        .map(|(i, v)| {
            (
                nodes[i].clone(),
                v.into_iter().map(|j| nodes[j].clone()).collect(),
            )
        })
        .collect()
}
