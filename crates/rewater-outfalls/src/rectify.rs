//! The rectification workflow (一口一策): per illegal outfall a record of the problem, the
//! measure (依法取缔 / 清理合并 / 规范整治), the responsible unit, the deadline, evidence and
//! the sign-off (销号), moving through states with who and when. New illegal outfalls found
//! by inspection (日常监管、执法检查、投诉举报) enter the same flow. "Dynamic zero"
//! (动态清零): no open illegal outfall past its deadline.

use rewater_time::Date;
use serde::{Deserialize, Serialize};

/// The measure of seed 001 ("依法取缔一批、清理合并一批、规范整治一批").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// 依法取缔
    Ban,
    /// 清理合并
    Merge,
    /// 规范整治
    Regulate,
}

impl std::str::FromStr for Measure {
    type Err = String;
    fn from_str(s: &str) -> Result<Measure, String> {
        match s.trim() {
            "ban" | "取缔" | "依法取缔" => Ok(Measure::Ban),
            "merge" | "合并" | "清理合并" => Ok(Measure::Merge),
            "regulate" | "规范整治" | "整治" => Ok(Measure::Regulate),
            o => Err(format!(
                "'{o}': the measure is ban (取缔), merge (合并) or regulate (规范整治)"
            )),
        }
    }
}

/// States of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 立案: found and registered.
    Open,
    /// 整改中
    InProgress,
    /// 整改完成, awaiting sign-off.
    Done,
    /// 销号: checked and closed.
    SignedOff,
    /// 退回: sign-off refused, back to work.
    Returned,
}

impl State {
    pub fn word(self) -> &'static str {
        match self {
            State::Open => "open",
            State::InProgress => "in_progress",
            State::Done => "done",
            State::SignedOff => "signed_off",
            State::Returned => "returned",
        }
    }
}

impl std::str::FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<State, String> {
        match s.trim() {
            "open" => Ok(State::Open),
            "in_progress" => Ok(State::InProgress),
            "done" => Ok(State::Done),
            "signed_off" => Ok(State::SignedOff),
            "returned" => Ok(State::Returned),
            o => Err(format!(
                "'{o}' is not a state (open, in_progress, done, signed_off, returned)"
            )),
        }
    }
}

/// One change of state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub state: State,
    pub who: String,
    pub at_ms: i64,
    pub note: String,
    /// Evidence added with this step (photos, documents).
    pub evidence: Vec<String>,
}

/// How the illegal outfall was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    Survey,
    Inspection,
    Enforcement,
    Complaint,
    Monitoring,
}

/// A 一口一策 record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rectification {
    pub id: String,
    pub outfall: String,
    /// The outfall's district (for scoping and coverage).
    pub district: String,
    pub found_by: FoundBy,
    pub problem: String,
    pub measure: Measure,
    pub responsible_unit: String,
    pub deadline: Date,
    pub steps: Vec<Step>,
}

/// A refused change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RectifyError {
    #[error("{id}: cannot go from {from} to {to}")]
    Transition {
        id: String,
        from: &'static str,
        to: &'static str,
    },
    #[error("{0}: completion needs evidence (photos or documents)")]
    NoEvidence(String),
    #[error("{0}: the sign-off must be by someone other than who reported completion")]
    SameSigner(String),
    #[error("{0}: field '{1}' is empty")]
    Empty(String, &'static str),
    #[error("{0}: a step cannot be earlier than the previous one")]
    Backwards(String),
}

impl Rectification {
    /// Opens a record (state open) for an illegal outfall.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        id: &str,
        outfall: &str,
        district: &str,
        found_by: FoundBy,
        problem: &str,
        measure: Measure,
        responsible_unit: &str,
        deadline: Date,
        who: &str,
        at_ms: i64,
    ) -> Result<Rectification, RectifyError> {
        for (f, v) in [
            ("id", id),
            ("outfall", outfall),
            ("problem", problem),
            ("responsible_unit", responsible_unit),
            ("who", who),
        ] {
            if v.trim().is_empty() {
                return Err(RectifyError::Empty(id.to_string(), f));
            }
        }
        Ok(Rectification {
            id: id.into(),
            outfall: outfall.into(),
            district: district.into(),
            found_by,
            problem: problem.into(),
            measure,
            responsible_unit: responsible_unit.into(),
            deadline,
            steps: vec![Step {
                state: State::Open,
                who: who.into(),
                at_ms,
                note: String::new(),
                evidence: Vec::new(),
            }],
        })
    }

    pub fn state(&self) -> State {
        self.steps.last().map_or(State::Open, |s| s.state)
    }

    /// When it was signed off, if it is.
    pub fn signed_off_at_ms(&self) -> Option<i64> {
        (self.state() == State::SignedOff).then(|| self.steps.last().map_or(0, |s| s.at_ms))
    }

    /// All evidence so far.
    pub fn evidence(&self) -> Vec<&str> {
        self.steps
            .iter()
            .flat_map(|s| s.evidence.iter().map(String::as_str))
            .collect()
    }

    /// Moves to `to`, recording who, when, a note and evidence. Allowed: open → in_progress
    /// → done → signed_off, done → returned → in_progress (or done), open → done. Done needs
    /// evidence; the sign-off needs a different person than the one who reported done.
    pub fn advance(
        &mut self,
        to: State,
        who: &str,
        at_ms: i64,
        note: &str,
        evidence: Vec<String>,
    ) -> Result<(), RectifyError> {
        use State::*;
        let from = self.state();
        let ok = matches!(
            (from, to),
            (Open, InProgress)
                | (Open, Done)
                | (InProgress, Done)
                | (Done, SignedOff)
                | (Done, Returned)
                | (Returned, InProgress)
                | (Returned, Done)
        );
        if !ok {
            return Err(RectifyError::Transition {
                id: self.id.clone(),
                from: from.word(),
                to: to.word(),
            });
        }
        if who.trim().is_empty() {
            return Err(RectifyError::Empty(self.id.clone(), "who"));
        }
        if self.steps.last().is_some_and(|s| at_ms < s.at_ms) {
            return Err(RectifyError::Backwards(self.id.clone()));
        }
        if to == Done && evidence.is_empty() && self.evidence().is_empty() {
            return Err(RectifyError::NoEvidence(self.id.clone()));
        }
        if to == SignedOff && self.steps.last().is_some_and(|s| s.who == who) {
            return Err(RectifyError::SameSigner(self.id.clone()));
        }
        self.steps.push(Step {
            state: to,
            who: who.into(),
            at_ms,
            note: note.into(),
            evidence,
        });
        Ok(())
    }

    /// Whether it is past its deadline without being signed off on `today`.
    pub fn overdue(&self, today: Date) -> bool {
        self.state() != State::SignedOff && today > self.deadline
    }

    /// Whether the sign-off (steps are in Unix ms) came by the end of the deadline day in a
    /// zone `offset_s` seconds ahead of UTC (28 800 for Asia/Shanghai).
    pub fn on_time(&self, offset_s: i64) -> Option<bool> {
        self.signed_off_at_ms()
            .map(|ms| ms.div_euclid(1000) + offset_s < self.deadline.add_days(1).wall_seconds())
    }
}

/// "Dynamic zero" on a day: the records open past their deadline (empty = achieved).
pub fn dynamic_zero(records: &[Rectification], today: Date) -> Vec<&Rectification> {
    records.iter().filter(|r| r.overdue(today)).collect()
}

/// Illegal outfalls of the ledger that have no rectification record at all.
pub fn without_record<'a>(ledger: &'a crate::Ledger, records: &[Rectification]) -> Vec<&'a str> {
    let has: std::collections::HashSet<&str> = records.iter().map(|r| r.outfall.as_str()).collect();
    ledger
        .outfalls
        .iter()
        .filter(|o| o.compliance == crate::Compliance::Illegal && !has.contains(o.code.as_str()))
        .map(|o| o.code.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn rec() -> Rectification {
        Rectification::open(
            "R1",
            "O1",
            "north",
            FoundBy::Inspection,
            "直排",
            Measure::Ban,
            "北区水务局",
            d("2025-06-30"),
            "inspector",
            1_000,
        )
        .unwrap()
    }

    #[test]
    fn a_record_goes_from_open_to_signed_off_with_who_and_when() {
        let mut r = rec();
        assert_eq!(r.state(), State::Open);
        r.advance(State::InProgress, "unit", 2_000, "封堵施工", vec![])
            .unwrap();
        assert_eq!(
            r.advance(State::Done, "unit", 3_000, "", vec![]),
            Err(RectifyError::NoEvidence("R1".into()))
        );
        r.advance(
            State::Done,
            "unit",
            3_000,
            "已封堵",
            vec!["photo-1.jpg".into()],
        )
        .unwrap();
        assert_eq!(
            r.advance(State::SignedOff, "unit", 4_000, "", vec![]),
            Err(RectifyError::SameSigner("R1".into()))
        );
        r.advance(State::Returned, "checker", 4_000, "仍有渗漏", vec![])
            .unwrap();
        r.advance(
            State::Done,
            "unit",
            5_000,
            "补封",
            vec!["photo-2.jpg".into()],
        )
        .unwrap();
        r.advance(State::SignedOff, "checker", 6_000, "销号", vec![])
            .unwrap();
        assert_eq!(r.state(), State::SignedOff);
        let who: Vec<(&str, i64)> = r.steps.iter().map(|s| (s.who.as_str(), s.at_ms)).collect();
        assert_eq!(
            who,
            [
                ("inspector", 1_000),
                ("unit", 2_000),
                ("unit", 3_000),
                ("checker", 4_000),
                ("unit", 5_000),
                ("checker", 6_000)
            ]
        );
        assert_eq!(r.evidence(), ["photo-1.jpg", "photo-2.jpg"]);
        assert!(matches!(
            r.advance(State::Open, "x", 7_000, "", vec![]),
            Err(RectifyError::Transition { .. })
        ));
        assert!(r.advance(State::Done, "x", 10, "", vec![]).is_err());
    }

    #[test]
    fn dynamic_zero_means_no_open_record_past_its_deadline() {
        let a = rec();
        let mut b = rec();
        b.id = "R2".into();
        b.deadline = d("2025-07-31");
        assert!(dynamic_zero(&[a.clone(), b.clone()], d("2025-06-30")).is_empty());
        let both = [a.clone(), b.clone()];
        let late = dynamic_zero(&both, d("2025-07-01"));
        assert_eq!(
            late.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["R1"]
        );
        let mut a2 = a;
        // Signed off on 2025-06-30 12:00 UTC: on time, and no longer counted; in Beijing
        // (UTC+8) it is 20:00, still on time; at UTC+13 it is the next day.
        let noon = d("2025-06-30").wall_seconds() * 1000 + 12 * 3_600_000;
        a2.advance(State::Done, "unit", noon - 1, "", vec!["p".into()])
            .unwrap();
        a2.advance(State::SignedOff, "checker", noon, "", vec![])
            .unwrap();
        assert_eq!(a2.on_time(0), Some(true));
        assert_eq!(a2.on_time(8 * 3600), Some(true));
        assert_eq!(a2.on_time(13 * 3600), Some(false));
        assert!(dynamic_zero(&[a2.clone(), b], d("2025-07-01")).is_empty());
        let mut a3 = a2.clone();
        a3.deadline = d("2025-06-29");
        assert_eq!(a3.on_time(0), Some(false));
        assert!(Rectification::open(
            "R3",
            "O",
            "n",
            FoundBy::Complaint,
            "",
            Measure::Merge,
            "u",
            d("2025-01-01"),
            "w",
            0
        )
        .is_err());
        assert_eq!("清理合并".parse::<Measure>(), Ok(Measure::Merge));
    }
}
