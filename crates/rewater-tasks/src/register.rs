//! The bundled task registers: `tasks/*.toml` at the repository root, embedded at build time
//! and checked when loaded (every group, department and date must resolve; errors name the
//! file, the task and the field).

use rewater_time::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

const DEPARTMENTS: (&str, &str) = (
    "tasks/departments.toml",
    include_str!("../../../tasks/departments.toml"),
);
const REGISTERS: &[(&str, &str)] = &[
    (
        "tasks/beijing-14fyp-measures.toml",
        include_str!("../../../tasks/beijing-14fyp-measures.toml"),
    ),
    (
        "tasks/beijing-2023-water-environment.toml",
        include_str!("../../../tasks/beijing-2023-water-environment.toml"),
    ),
    (
        "tasks/beijing-2023-water-supply.toml",
        include_str!("../../../tasks/beijing-2023-water-supply.toml"),
    ),
];

/// A register file that does not hold together.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{file}: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: task {task}: field `{field}`: {message}")]
    Task {
        file: String,
        task: String,
        field: &'static str,
        message: String,
    },
    #[error("{file}: {message}")]
    Register { file: String, message: String },
}

/// A department (责任单位) with every spelling the seeds use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    pub id: String,
    pub zh: Vec<String>,
    pub en: String,
}

/// The department table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Departments {
    #[serde(rename = "department")]
    pub list: Vec<Department>,
}

impl Departments {
    /// The department a Chinese name (as the seed writes it) stands for.
    pub fn by_zh(&self, zh: &str) -> Option<&Department> {
        self.list.iter().find(|d| d.zh.iter().any(|n| n == zh))
    }
    pub fn by_id(&self, id: &str) -> Option<&Department> {
        self.list.iter().find(|d| d.id == id)
    }
    /// The department's name in a language (Chinese: its first spelling).
    pub fn name(&self, id: &str, en: bool) -> String {
        match self.by_id(id) {
            Some(d) if en => d.en.clone(),
            Some(d) => d.zh.first().cloned().unwrap_or_else(|| id.to_string()),
            None => id.to_string(),
        }
    }
}

/// A goal and key task of a plan (主要目标 / 重点任务) that groups tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub goal_zh: String,
    pub goal_en: String,
    pub key_zh: String,
    pub key_en: String,
}

/// One task (工作措施 / 任务) of a register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Unique within the register (the sequence number as text).
    pub id: String,
    pub seq: u32,
    pub group: String,
    pub title_zh: String,
    pub title_en: String,
    /// Lead departments (牵头), by department id.
    pub lead: Vec<String>,
    /// Cooperating departments (配合), by department id.
    pub cooperating: Vec<String>,
    pub deadline: Date,
    /// How the deadline is known (`stated`, or `plan-period` when the plan gives none per task).
    pub deadline_confidence: String,
    /// The plan indicator the task serves, if one.
    pub indicator: Option<String>,
    /// Where in the plan the task stands (document and clause).
    pub source: String,
    pub area_zh: Option<String>,
    pub area_en: Option<String>,
    /// The task's quantities as the plan writes them.
    pub quote: Option<String>,
}

impl Task {
    pub fn title(&self, en: bool) -> &str {
        if en {
            &self.title_en
        } else {
            &self.title_zh
        }
    }
    /// Whether a department (by id) leads or cooperates on this task.
    pub fn involves(&self, department: &str) -> bool {
        self.lead
            .iter()
            .chain(&self.cooperating)
            .any(|d| d == department)
    }
}

/// A plan's register of tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Register {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// A short name for charts and tabs.
    pub short_zh: String,
    pub short_en: String,
    pub source: String,
    pub groups: Vec<Group>,
    pub tasks: Vec<Task>,
}

impl Register {
    pub fn name(&self, en: bool) -> &str {
        if en {
            &self.name_en
        } else {
            &self.name_zh
        }
    }
    pub fn short_name(&self, en: bool) -> &str {
        if en {
            &self.short_en
        } else {
            &self.short_zh
        }
    }
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHead {
    id: String,
    name_zh: String,
    name_en: String,
    short_zh: String,
    short_en: String,
    source: String,
    default_deadline: String,
    deadline_confidence: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTask {
    seq: u32,
    group: String,
    title_zh: String,
    title_en: String,
    lead: Vec<String>,
    cooperating: Vec<String>,
    deadline: Option<String>,
    indicator: Option<String>,
    clause: Option<String>,
    area_zh: Option<String>,
    area_en: Option<String>,
    quote: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    register: FileHead,
    group: Vec<Group>,
    task: Vec<FileTask>,
}

/// Parses the department table.
pub fn parse_departments(file: &str, text: &str) -> Result<Departments, RegisterError> {
    toml::from_str(text).map_err(|e| RegisterError::Toml {
        file: file.into(),
        message: e.to_string(),
    })
}

/// Parses one register file and resolves its groups and departments.
pub fn parse_register(
    file: &str,
    text: &str,
    departments: &Departments,
) -> Result<Register, RegisterError> {
    let f: File = toml::from_str(text).map_err(|e| RegisterError::Toml {
        file: file.into(),
        message: e.to_string(),
    })?;
    let date = |s: &str, task: &str, field: &'static str| -> Result<Date, RegisterError> {
        s.parse().map_err(|_| RegisterError::Task {
            file: file.into(),
            task: task.into(),
            field,
            message: format!("'{s}' is not a date YYYY-MM-DD"),
        })
    };
    let default_deadline = date(&f.register.default_deadline, "-", "default_deadline")?;
    let mut seen = BTreeSet::new();
    let mut tasks = Vec::with_capacity(f.task.len());
    for t in f.task {
        let id = t.seq.to_string();
        let err = |field: &'static str, message: String| RegisterError::Task {
            file: file.into(),
            task: id.clone(),
            field,
            message,
        };
        if !seen.insert(t.seq) {
            return Err(err("seq", "appears twice".into()));
        }
        if !f.group.iter().any(|g| g.id == t.group) {
            return Err(err("group", format!("no group '{}'", t.group)));
        }
        if t.title_zh.trim().is_empty() || t.title_en.trim().is_empty() {
            return Err(err(
                "title_zh",
                "a Chinese and an English title are needed".into(),
            ));
        }
        if t.lead.is_empty() {
            return Err(err(
                "lead",
                "a task needs at least one lead department".into(),
            ));
        }
        let resolve =
            |names: &[String], field: &'static str| -> Result<Vec<String>, RegisterError> {
                names
                    .iter()
                    .map(|n| {
                        departments
                            .by_zh(n)
                            .map(|d| d.id.clone())
                            .ok_or_else(|| err(field, format!("unknown department '{n}'")))
                    })
                    .collect()
            };
        let (deadline, confidence) = match &t.deadline {
            Some(d) => (date(d, &id, "deadline")?, "stated".to_string()),
            None => (default_deadline, f.register.deadline_confidence.clone()),
        };
        let clause = t.clause.clone().unwrap_or_else(|| format!("第{}项", t.seq));
        tasks.push(Task {
            lead: resolve(&t.lead, "lead")?,
            cooperating: resolve(&t.cooperating, "cooperating")?,
            id,
            seq: t.seq,
            group: t.group,
            title_zh: t.title_zh,
            title_en: t.title_en,
            deadline,
            deadline_confidence: confidence,
            indicator: t.indicator,
            source: format!("{}, {clause}", f.register.source),
            area_zh: t.area_zh,
            area_en: t.area_en,
            quote: t.quote,
        });
    }
    tasks.sort_by_key(|t| t.seq);
    Ok(Register {
        id: f.register.id,
        name_zh: f.register.name_zh,
        name_en: f.register.name_en,
        short_zh: f.register.short_zh,
        short_en: f.register.short_en,
        source: f.register.source,
        groups: f.group,
        tasks,
    })
}

/// The bundled department table and registers.
pub fn bundled() -> Result<(Departments, Vec<Register>), RegisterError> {
    let departments = parse_departments(DEPARTMENTS.0, DEPARTMENTS.1)?;
    let registers = REGISTERS
        .iter()
        .map(|(file, text)| parse_register(file, text, &departments))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((departments, registers))
}
