//! The task register's records (任务台账): progress updates of plan tasks (进展) with evidence
//! attachments (佐证材料), the river-chief register (河长名录) and patrol logs (巡河记录).
//!
//! The tasks themselves are plan text, bundled as data in `rewater-tasks`; the store keeps what
//! people report against them. Every change is written together with its audit row in one
//! transaction, so no change goes unaudited. Attachments are size-capped and their type is
//! checked against their content (a "PDF" must start like one).

use crate::{Result, StoreError};
use rewater_time::Date;
use sha2::{Digest, Sha256};

/// Largest attachment accepted, bytes (5 MiB: a scanned page or a photo).
pub const MAX_ATTACHMENT_BYTES: usize = 5 << 20;
/// Most attachments on one progress update.
pub const MAX_ATTACHMENTS_PER_UPDATE: usize = 5;
/// Longest note, characters.
pub const MAX_NOTE_CHARS: usize = 4_000;
/// The media types accepted as evidence.
pub const ATTACHMENT_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
];

/// An evidence file as uploaded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttachment {
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// A stored attachment's description (without its bytes).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentInfo {
    pub id: i64,
    pub name: String,
    pub media_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// A stored attachment with its content.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub info: AttachmentInfo,
    pub progress_id: i64,
    /// The district of the progress update it belongs to (for access checks).
    pub district: Option<String>,
    pub bytes: Vec<u8>,
}

/// A progress update (进展) reported on one task.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProgress {
    /// Register id (e.g. `beijing-14fyp`).
    pub register: String,
    /// Task id within the register.
    pub task: String,
    /// The district the update speaks for (None: the whole region).
    pub district: Option<String>,
    /// Share of the task done, 0–100.
    pub percent: u8,
    /// The day the task was completed, when it is.
    pub done_on: Option<Date>,
    pub note: String,
    pub who: String,
    pub at_ms: i64,
    pub attachments: Vec<NewAttachment>,
}

/// A stored progress update.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    pub id: i64,
    pub register: String,
    pub task: String,
    pub district: Option<String>,
    pub percent: u8,
    pub done_on: Option<Date>,
    pub note: String,
    pub who: String,
    pub at_ms: i64,
    pub attachments: Vec<AttachmentInfo>,
}

/// Which progress updates to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgressFilter {
    pub register: Option<String>,
    pub task: Option<String>,
    /// Only this district's updates (district operators see only theirs).
    pub district: Option<String>,
}

/// A river chief (河长) of the register.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RiverChief {
    /// Register id, e.g. `hz-cy-001`.
    pub id: String,
    pub name: String,
    /// Level id of `tasks/river-chief.toml` (`village`, `township`, …).
    pub level: String,
    /// River, lake or reach the chief is responsible for.
    pub water_body: String,
    pub district: Option<String>,
    /// First day in office (patrols are required from then on).
    pub since: Date,
}

/// A patrol (巡河) as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPatrol {
    pub chief: String,
    pub on: Date,
    pub note: String,
    pub who: String,
    pub at_ms: i64,
}

/// A stored patrol.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Patrol {
    pub id: i64,
    pub chief: String,
    pub on: Date,
    pub note: String,
    pub who: String,
    pub at_ms: i64,
}

/// The task register's records. Every write is audited in the same transaction.
pub trait TaskStore {
    /// Stores a progress update with its attachments (checked first: nothing is stored when
    /// one fails); returns its id.
    fn add_progress(&mut self, p: &NewProgress) -> Result<i64>;
    /// Progress updates, oldest first.
    fn progress(&mut self, filter: &ProgressFilter) -> Result<Vec<Progress>>;
    /// One attachment with its content.
    fn attachment(&mut self, id: i64) -> Result<Option<Attachment>>;
    /// Creates or replaces a river chief.
    fn put_river_chief(&mut self, chief: &RiverChief, who: &str, at_ms: i64) -> Result<()>;
    /// River chiefs (of one district, or all), by id.
    fn river_chiefs(&mut self, district: Option<&str>) -> Result<Vec<RiverChief>>;
    /// Logs a patrol of a registered chief; returns its id.
    fn log_patrol(&mut self, patrol: &NewPatrol) -> Result<i64>;
    /// Patrols on days in `[from, to]` (of one chief, or all), by day.
    fn patrols(&mut self, chief: Option<&str>, from: Date, to: Date) -> Result<Vec<Patrol>>;
}

fn invalid(msg: String) -> StoreError {
    StoreError::Invalid(msg)
}

/// The media type a file's content shows, if it is one of [`ATTACHMENT_TYPES`]' families.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some("text/plain")
    } else {
        None
    }
}

/// Checks one attachment: a plain file name, a known type, content of that type, size cap.
pub fn check_attachment(a: &NewAttachment) -> Result<()> {
    let name = a.name.trim();
    if name.is_empty()
        || name.chars().count() > 200
        || name.contains(['/', '\\', '\0'])
        || name.starts_with('.')
        || name.chars().any(char::is_control)
    {
        return Err(invalid(format!(
            "attachment name '{}': a plain file name of at most 200 characters is needed",
            a.name.escape_debug()
        )));
    }
    if !ATTACHMENT_TYPES.contains(&a.media_type.as_str()) {
        return Err(invalid(format!(
            "attachment '{name}': type '{}' is not accepted (accepted: {})",
            a.media_type,
            ATTACHMENT_TYPES.join(", ")
        )));
    }
    if a.bytes.is_empty() {
        return Err(invalid(format!("attachment '{name}' is empty")));
    }
    if a.bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(invalid(format!(
            "attachment '{name}' has {} bytes, more than the {MAX_ATTACHMENT_BYTES} allowed",
            a.bytes.len()
        )));
    }
    let seen = sniff(&a.bytes);
    let declared_family = if a.media_type == "text/csv" {
        "text/plain"
    } else {
        a.media_type.as_str()
    };
    if seen != Some(declared_family) {
        return Err(invalid(format!(
            "attachment '{name}' is declared {} but its content is {}",
            a.media_type,
            seen.unwrap_or("of no accepted type")
        )));
    }
    Ok(())
}

/// Checks a progress update before anything of it is stored.
pub fn check_progress(p: &NewProgress) -> Result<()> {
    crate::check_who(&p.who)?;
    for (field, v) in [("register", &p.register), ("task", &p.task)] {
        if v.trim().is_empty() || v.len() > 100 {
            return Err(invalid(format!(
                "progress: {field} must be 1–100 characters"
            )));
        }
    }
    if p.percent > 100 {
        return Err(invalid(format!(
            "progress of {}/{}: percent {} is over 100",
            p.register, p.task, p.percent
        )));
    }
    if p.done_on.is_some() && p.percent != 100 {
        return Err(invalid(format!(
            "progress of {}/{}: a task done on a day must be 100 % done, not {} %",
            p.register, p.task, p.percent
        )));
    }
    if p.note.chars().count() > MAX_NOTE_CHARS {
        return Err(invalid(format!(
            "progress of {}/{}: the note has more than {MAX_NOTE_CHARS} characters",
            p.register, p.task
        )));
    }
    if p.attachments.len() > MAX_ATTACHMENTS_PER_UPDATE {
        return Err(invalid(format!(
            "progress of {}/{}: {} attachments, at most {MAX_ATTACHMENTS_PER_UPDATE}",
            p.register,
            p.task,
            p.attachments.len()
        )));
    }
    p.attachments.iter().try_for_each(check_attachment)
}

/// Checks a river chief before it is stored.
pub fn check_river_chief(c: &RiverChief) -> Result<()> {
    if c.id.trim().is_empty() || c.id.len() > 100 || c.name.trim().is_empty() {
        return Err(invalid(
            "a river chief needs an id (at most 100 characters) and a name".into(),
        ));
    }
    if c.level.trim().is_empty() {
        return Err(invalid(format!("river chief {}: no level", c.id)));
    }
    Ok(())
}

/// SHA-256 of an attachment, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The audit row's detail for a progress update.
pub(crate) fn progress_detail(p: &NewProgress) -> String {
    format!(
        "district={} percent={} done_on={} attachments={}",
        p.district.as_deref().unwrap_or("-"),
        p.percent,
        p.done_on
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into()),
        p.attachments.len()
    )
}

/// Parses a stored date column.
pub(crate) fn stored_date(s: &str) -> Result<Date> {
    s.parse()
        .map_err(|_| invalid(format!("a stored date '{s}' is not YYYY-MM-DD")))
}

/// The conformance checks of [`TaskStore`], run against each backend by its tests.
#[doc(hidden)]
pub mod conformance {
    use super::*;
    use crate::Store;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn progress(task: &str, district: Option<&str>, percent: u8) -> NewProgress {
        NewProgress {
            register: "beijing-14fyp".into(),
            task: task.into(),
            district: district.map(str::to_string),
            percent,
            done_on: None,
            note: "管网完成 12 公里".into(),
            who: "op-north".into(),
            at_ms: 1_000,
            attachments: vec![],
        }
    }

    /// Runs every check on an empty store.
    pub fn run_all(s: &mut dyn Store) {
        progress_round_trip(s);
        hostile_updates_store_nothing(s);
        river_chiefs_and_patrols(s);
    }

    fn progress_round_trip(s: &mut dyn Store) {
        let pdf = b"%PDF-1.4\n% evidence\n".to_vec();
        let mut p = progress("1", Some("north"), 40);
        p.attachments = vec![
            NewAttachment {
                name: "验收记录.pdf".into(),
                media_type: "application/pdf".into(),
                bytes: pdf.clone(),
            },
            NewAttachment {
                name: "km.csv".into(),
                media_type: "text/csv".into(),
                bytes: b"km\n12\n".to_vec(),
            },
        ];
        let id = s.add_progress(&p).unwrap();
        let mut done = progress("1", Some("north"), 100);
        done.done_on = Some(d("2025-06-30"));
        done.at_ms = 2_000;
        let id2 = s.add_progress(&done).unwrap();
        assert!(id2 > id);
        s.add_progress(&progress("2", Some("south"), 10)).unwrap();
        s.add_progress(&progress("2", None, 20)).unwrap();

        let all = s.progress(&ProgressFilter::default()).unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].id, id);
        assert_eq!(all[0].percent, 40);
        assert_eq!(all[0].note, "管网完成 12 公里");
        assert_eq!(all[0].district.as_deref(), Some("north"));
        assert_eq!(all[0].attachments.len(), 2);
        assert_eq!(all[0].attachments[0].name, "验收记录.pdf");
        assert_eq!(all[0].attachments[0].size_bytes, pdf.len() as i64);
        assert_eq!(all[0].attachments[0].sha256, sha256_hex(&pdf));
        assert_eq!(all[1].done_on, Some(d("2025-06-30")));
        assert_eq!(all[3].district, None);

        let north = s
            .progress(&ProgressFilter {
                district: Some("north".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(north.iter().map(|p| p.id).collect::<Vec<_>>(), [id, id2]);
        let task2 = s
            .progress(&ProgressFilter {
                register: Some("beijing-14fyp".into()),
                task: Some("2".into()),
                district: None,
            })
            .unwrap();
        assert_eq!(task2.len(), 2);

        let a = s.attachment(all[0].attachments[0].id).unwrap().unwrap();
        assert_eq!(a.bytes, pdf);
        assert_eq!(a.progress_id, id);
        assert_eq!(a.district.as_deref(), Some("north"));
        assert!(s.attachment(999_999).unwrap().is_none());

        let log = s.audit_log(10).unwrap();
        let audited = log.iter().filter(|e| e.action == "task.progress").count();
        assert_eq!(audited, 4);
        let first = log.iter().rfind(|e| e.action == "task.progress").unwrap();
        assert_eq!(first.who, "op-north");
        assert_eq!(first.target, "beijing-14fyp/1");
        assert_eq!(
            first.detail,
            "district=north percent=40 done_on=- attachments=2"
        );
    }

    fn hostile_updates_store_nothing(s: &mut dyn Store) {
        let before = s.progress(&ProgressFilter::default()).unwrap().len();
        let audits_before = s.audit_log(1_000).unwrap().len();
        let bad_attachment = |name: &str, media: &str, bytes: Vec<u8>| {
            let mut p = progress("3", None, 50);
            p.attachments = vec![
                NewAttachment {
                    name: "ok.txt".into(),
                    media_type: "text/plain".into(),
                    bytes: b"fine".to_vec(),
                },
                NewAttachment {
                    name: name.into(),
                    media_type: media.into(),
                    bytes,
                },
            ];
            p
        };
        let cases = [
            (
                bad_attachment("x.pdf", "application/pdf", b"MZ\x90\x00".to_vec()),
                "declared application/pdf but its content is of no accepted type",
            ),
            (
                bad_attachment("x.exe", "application/x-msdownload", b"MZ".to_vec()),
                "is not accepted",
            ),
            (
                bad_attachment(
                    "big.pdf",
                    "application/pdf",
                    [b"%PDF-".as_slice(), &vec![b' '; MAX_ATTACHMENT_BYTES]].concat(),
                ),
                "more than the 5242880 allowed",
            ),
            (
                bad_attachment("../../etc/passwd", "text/plain", b"x".to_vec()),
                "a plain file name",
            ),
            (
                bad_attachment("a.png", "image/png", b"%PDF-1.4".to_vec()),
                "declared image/png but its content is application/pdf",
            ),
            (progress("3", None, 101), "percent 101 is over 100"),
            (
                NewProgress {
                    done_on: Some(d("2025-01-01")),
                    ..progress("3", None, 50)
                },
                "must be 100 % done",
            ),
            (
                NewProgress {
                    who: " ".into(),
                    ..progress("3", None, 50)
                },
                "who made it",
            ),
        ];
        for (p, want) in cases {
            let e = s.add_progress(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{e} should say {want}");
        }
        assert_eq!(
            s.progress(&ProgressFilter::default()).unwrap().len(),
            before
        );
        assert_eq!(s.audit_log(1_000).unwrap().len(), audits_before);
    }

    fn river_chiefs_and_patrols(s: &mut dyn Store) {
        let chief = RiverChief {
            id: "v-001".into(),
            name: "张三".into(),
            level: "village".into(),
            water_body: "小清河(村段)".into(),
            district: Some("north".into()),
            since: d("2025-01-01"),
        };
        s.put_river_chief(&chief, "admin", 10).unwrap();
        let mut other = chief.clone();
        other.id = "t-001".into();
        other.level = "township".into();
        other.district = Some("south".into());
        s.put_river_chief(&other, "admin", 11).unwrap();
        let mut renamed = chief.clone();
        renamed.name = "张三丰".into();
        s.put_river_chief(&renamed, "admin", 12).unwrap();
        assert_eq!(s.river_chiefs(None).unwrap(), vec![other.clone(), renamed]);
        assert_eq!(s.river_chiefs(Some("south")).unwrap(), vec![other]);

        for day in ["2025-01-02", "2025-01-09", "2025-01-20"] {
            s.log_patrol(&NewPatrol {
                chief: "v-001".into(),
                on: d(day),
                note: "巡河".into(),
                who: "v-001".into(),
                at_ms: 20,
            })
            .unwrap();
        }
        let e = s
            .log_patrol(&NewPatrol {
                chief: "nobody".into(),
                on: d("2025-01-02"),
                note: String::new(),
                who: "x".into(),
                at_ms: 20,
            })
            .unwrap_err();
        assert!(e.to_string().contains("no river chief 'nobody'"), "{e}");
        let ps = s
            .patrols(Some("v-001"), d("2025-01-05"), d("2025-01-20"))
            .unwrap();
        assert_eq!(
            ps.iter().map(|p| p.on.to_string()).collect::<Vec<_>>(),
            ["2025-01-09", "2025-01-20"]
        );
        assert_eq!(
            s.patrols(None, d("2025-01-01"), d("2025-12-31"))
                .unwrap()
                .len(),
            3
        );
        let log = s.audit_log(100).unwrap();
        assert_eq!(
            log.iter().filter(|e| e.action == "river_chief.put").count(),
            3
        );
        assert_eq!(log.iter().filter(|e| e.action == "patrol.log").count(), 3);
    }
}
