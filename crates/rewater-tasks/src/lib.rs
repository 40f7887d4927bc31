//! The plans' task registers (任务台账): the work measures and tasks of the seed plans, bundled
//! as data under `tasks/` (text, lead and cooperating departments 牵头/配合部门, deadline 完成时限,
//! related indicator, source clause, confidence); each task's status derived from its deadline
//! and its progress (on track 正常推进, due soon 临近期限, overdue 逾期, done 已完成); and the
//! river-chief register (河长制) with patrol logs checked against the required frequencies by
//! level (seed 001: city chief ≥ 1 a year … village chief ≥ 1 a week).
//!
//! The progress updates and patrols themselves are kept by `rewater-store`'s `TaskStore`.

pub mod register;
pub mod river;
pub mod status;

pub use register::{bundled, Department, Departments, Group, Register, RegisterError, Task};
pub use river::{check_patrols, PatrolFinding, PatrolPeriod, RiverChiefLevel, RiverChiefRules};
pub use status::{status_of, task_rows, Status, StatusCounts, TaskRow, DUE_SOON_DAYS};
