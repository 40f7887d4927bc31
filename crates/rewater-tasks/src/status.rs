//! A task's status on a day, from its deadline and its latest progress update.
//!
//! - done (已完成): the latest update gives a completion day on or before the day;
//! - overdue (逾期): not done and the deadline has passed;
//! - due soon (临近期限): not done and the deadline is at most [`DUE_SOON_DAYS`] away;
//! - on track (正常推进): otherwise.

use crate::register::{Register, Task};
use rewater_store::tasks::Progress;
use rewater_time::Date;
use serde::Serialize;

/// How near a deadline makes a task "due soon": one quarter (90 days), the reporting rhythm
/// of the plans' annual work plans. Our choice; the seeds fix no such figure.
pub const DUE_SOON_DAYS: i32 = 90;

/// The status of a task on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Overdue,
    DueSoon,
    OnTrack,
    Done,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Overdue,
        Status::DueSoon,
        Status::OnTrack,
        Status::Done,
    ];
    /// The word of the API and the CLI.
    pub fn id(self) -> &'static str {
        match self {
            Status::Overdue => "overdue",
            Status::DueSoon => "due_soon",
            Status::OnTrack => "on_track",
            Status::Done => "done",
        }
    }
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Status::Overdue, false) => "逾期",
            (Status::DueSoon, false) => "临近期限",
            (Status::OnTrack, false) => "正常推进",
            (Status::Done, false) => "已完成",
            (Status::Overdue, true) => "overdue",
            (Status::DueSoon, true) => "due soon",
            (Status::OnTrack, true) => "on track",
            (Status::Done, true) => "done",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.id() == s)
    }
}

/// The status of a task with this deadline and (latest) completion day on `today`.
pub fn status_of(deadline: Date, done_on: Option<Date>, today: Date) -> Status {
    match done_on {
        Some(d) if d <= today => Status::Done,
        _ if today > deadline => Status::Overdue,
        _ if deadline.days_since(today) <= DUE_SOON_DAYS => Status::DueSoon,
        _ => Status::OnTrack,
    }
}

/// One task with its status and latest progress, for tables and reports.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    pub register: String,
    pub task: Task,
    pub status: Status,
    /// Latest reported share done (0 when nothing was reported).
    pub percent: u8,
    /// Day of completion, when done.
    pub done_on: Option<Date>,
    /// Done after its deadline.
    pub late: bool,
    /// Number of progress updates considered.
    pub updates: usize,
    /// Id of the latest update, if any.
    pub latest_progress: Option<i64>,
}

/// The status of every task of a register on `today`, from the progress updates given (of
/// one district, or all: the latest update of a task wins, whoever made it).
pub fn task_rows(register: &Register, progress: &[Progress], today: Date) -> Vec<TaskRow> {
    register
        .tasks
        .iter()
        .map(|t| {
            let mine: Vec<&Progress> = progress
                .iter()
                .filter(|p| p.register == register.id && p.task == t.id)
                .collect();
            let latest = mine.iter().max_by_key(|p| (p.at_ms, p.id));
            let done_on = latest.and_then(|p| p.done_on);
            let status = status_of(t.deadline, done_on, today);
            TaskRow {
                register: register.id.clone(),
                task: t.clone(),
                status,
                percent: latest.map_or(0, |p| p.percent),
                done_on: if status == Status::Done {
                    done_on
                } else {
                    None
                },
                late: status == Status::Done && done_on.is_some_and(|d| d > t.deadline),
                updates: mine.len(),
                latest_progress: latest.map(|p| p.id),
            }
        })
        .collect()
}

/// How many tasks are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub overdue: usize,
    pub due_soon: usize,
    pub on_track: usize,
    pub done: usize,
}

impl StatusCounts {
    pub fn of(rows: &[TaskRow]) -> StatusCounts {
        let mut c = StatusCounts::default();
        for r in rows {
            *c.get_mut(r.status) += 1;
        }
        c
    }
    pub fn get(&self, s: Status) -> usize {
        match s {
            Status::Overdue => self.overdue,
            Status::DueSoon => self.due_soon,
            Status::OnTrack => self.on_track,
            Status::Done => self.done,
        }
    }
    fn get_mut(&mut self, s: Status) -> &mut usize {
        match s {
            Status::Overdue => &mut self.overdue,
            Status::DueSoon => &mut self.due_soon,
            Status::OnTrack => &mut self.on_track,
            Status::Done => &mut self.done,
        }
    }
    pub fn total(&self) -> usize {
        self.overdue + self.due_soon + self.on_track + self.done
    }
}
