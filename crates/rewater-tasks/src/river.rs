//! The river-chief register's patrol check (巡河频次): each level of river chief must patrol at
//! least so many times per calendar period (seed 001, 《关于进一步强化河(湖)长制工作的实施意见》
//! 二、(四): city chief ≥ 1 a year; city executive and city basin chiefs ≥ 2 a year; district
//! chiefs ≥ 1 a quarter; township chiefs ≥ 1 a month; village chiefs ≥ 1 a week), bundled in
//! `tasks/river-chief.toml`.
//!
//! A period is checked when the chief was in office for all of it and it has ended by the day
//! of the check; weeks run Monday to Sunday.

use crate::register::RegisterError;
use rewater_store::tasks::{Patrol, RiverChief};
use rewater_time::{days_in_month, Date};
use serde::{Deserialize, Serialize};

const RULES: (&str, &str) = (
    "tasks/river-chief.toml",
    include_str!("../../../tasks/river-chief.toml"),
);

/// A calendar period of a patrol requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatrolPeriod {
    Week,
    Month,
    Quarter,
    Year,
}

impl PatrolPeriod {
    /// The period containing `day`: (first day, last day).
    pub fn around(self, day: Date) -> (Date, Date) {
        let (y, m, _) = day.ymd();
        let ymd = |y: i32, m: u32, d: u32| Date::from_ymd(y, m, d).unwrap_or(day);
        match self {
            PatrolPeriod::Week => {
                // 1970-01-01 was a Thursday: Monday is day 0 of (days + 3) mod 7.
                let monday = day.add_days(-(day.days_since(Date::EPOCH) + 3).rem_euclid(7));
                (monday, monday.add_days(6))
            }
            PatrolPeriod::Month => (ymd(y, m, 1), ymd(y, m, days_in_month(y, m))),
            PatrolPeriod::Quarter => {
                let first = (m - 1) / 3 * 3 + 1;
                (
                    ymd(y, first, 1),
                    ymd(y, first + 2, days_in_month(y, first + 2)),
                )
            }
            PatrolPeriod::Year => (ymd(y, 1, 1), ymd(y, 12, 31)),
        }
    }
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (PatrolPeriod::Week, false) => "每周",
            (PatrolPeriod::Month, false) => "每月",
            (PatrolPeriod::Quarter, false) => "每季度",
            (PatrolPeriod::Year, false) => "每年",
            (PatrolPeriod::Week, true) => "a week",
            (PatrolPeriod::Month, true) => "a month",
            (PatrolPeriod::Quarter, true) => "a quarter",
            (PatrolPeriod::Year, true) => "a year",
        }
    }
}

/// A level of river chief and its required patrols.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiverChiefLevel {
    pub id: String,
    pub zh: String,
    pub en: String,
    pub period: PatrolPeriod,
    pub at_least: u32,
}

/// The required patrol frequencies, with their source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiverChiefRules {
    pub source: String,
    pub confidence: String,
    #[serde(rename = "level")]
    pub levels: Vec<RiverChiefLevel>,
}

impl RiverChiefRules {
    /// The bundled rules of seed 001.
    pub fn bundled() -> Result<RiverChiefRules, RegisterError> {
        toml::from_str(RULES.1).map_err(|e| RegisterError::Toml {
            file: RULES.0.into(),
            message: e.to_string(),
        })
    }
    pub fn level(&self, id: &str) -> Option<&RiverChiefLevel> {
        self.levels.iter().find(|l| l.id == id)
    }
}

/// A period in which a chief patrolled less than required.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatrolFinding {
    pub chief: String,
    pub level: String,
    pub from: Date,
    pub to: Date,
    pub patrols: u32,
    pub required: u32,
}

/// The periods ended by `today` (and in office since `chief.since`, not before `from`) in
/// which `chief` patrolled less often than its level requires. An unknown level is an error.
pub fn check_patrols(
    rules: &RiverChiefRules,
    chief: &RiverChief,
    patrols: &[Patrol],
    from: Date,
    today: Date,
) -> Result<Vec<PatrolFinding>, String> {
    let level = rules.level(&chief.level).ok_or_else(|| {
        format!(
            "river chief {}: unknown level '{}' (known: {})",
            chief.id,
            chief.level,
            rules
                .levels
                .iter()
                .map(|l| l.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let start = if chief.since > from {
        chief.since
    } else {
        from
    };
    let mut findings = Vec::new();
    let (mut p_from, mut p_to) = level.period.around(start);
    if p_from < start {
        // The chief was not in office for all of this period: begin with the next one.
        (p_from, p_to) = level.period.around(p_to.add_days(1));
    }
    while p_to < today {
        let n = patrols
            .iter()
            .filter(|p| p.chief == chief.id && p.on >= p_from && p.on <= p_to)
            .count() as u32;
        if n < level.at_least {
            findings.push(PatrolFinding {
                chief: chief.id.clone(),
                level: level.id.clone(),
                from: p_from,
                to: p_to,
                patrols: n,
                required: level.at_least,
            });
        }
        (p_from, p_to) = level.period.around(p_to.add_days(1));
    }
    Ok(findings)
}
