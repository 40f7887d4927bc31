//! Split packets (拆分包, HJ 212-2017 Flag bit D with PNUM/PNO) held **in the store** until
//! every part has come (issue 19, migration 10): a part is acknowledged only after it is
//! committed here, and the last missing part only after the whole record is committed to the
//! readings and the parts are deleted, in one transaction. Gateways therefore hold no split
//! state of their own: a logger that reconnects to another gateway of a cluster mid-record
//! completes it there, and a gateway killed between two parts loses none it acknowledged.
//!
//! A record is keyed by (MN, CN, DataTime, PNUM): every part carries its own QN and the same
//! CN and DataTime (HJ 212-2017 Table C.50; the project's reference notes §5.7; confidence high
//! for 2017 devices; a device that reuses one QN for all parts matches the same way). The
//! part's QN is kept beside it for audit. The whole is stored as one upload with PNO 1 (the
//! parts' frames, in PNO order, as its raw text), so the store's (MN, CN, DataTime, PNO) key
//! makes a resent part of a stored record a duplicate.
//!
//! Bounded whatever a device sends: parts per record (PNUM), bytes per part, records pending
//! per device and in all, and bytes pending in all. Several gateways may create records at
//! the same instant, so on PostgreSQL the two "in all" bounds can be passed by at most one
//! part per concurrent writer; the per-record checks are exact (the record's row is locked).

use crate::ingest::IngestSql;
use crate::*;
use sha2::{Digest, Sha256};

/// Migration 10 on SQLite: the records being assembled and their parts.
pub(crate) const V10_SQLITE: &str = "
CREATE TABLE split_record (
    mn TEXT NOT NULL, cn TEXT NOT NULL, data_time INTEGER NOT NULL, pnum INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL, parts INTEGER NOT NULL, bytes INTEGER NOT NULL,
    PRIMARY KEY (mn, cn, data_time, pnum)) WITHOUT ROWID;
CREATE INDEX split_record_started ON split_record (started_at_ms);
CREATE TABLE split_part (
    mn TEXT NOT NULL, cn TEXT NOT NULL, data_time INTEGER NOT NULL, pnum INTEGER NOT NULL,
    pno INTEGER NOT NULL, qn TEXT NOT NULL, digest TEXT NOT NULL, raw TEXT NOT NULL,
    peer TEXT NOT NULL, received_at_ms INTEGER NOT NULL,
    PRIMARY KEY (mn, cn, data_time, pnum, pno)) WITHOUT ROWID;
";

/// Migration 10 on PostgreSQL (the same tables).
#[cfg(feature = "postgres")]
pub(crate) const V10_PG: &str = "
CREATE TABLE split_record (
    mn TEXT NOT NULL, cn TEXT NOT NULL, data_time BIGINT NOT NULL, pnum INTEGER NOT NULL,
    started_at_ms BIGINT NOT NULL, parts INTEGER NOT NULL, bytes BIGINT NOT NULL,
    PRIMARY KEY (mn, cn, data_time, pnum));
CREATE INDEX split_record_started ON split_record (started_at_ms);
CREATE TABLE split_part (
    mn TEXT NOT NULL, cn TEXT NOT NULL, data_time BIGINT NOT NULL, pnum INTEGER NOT NULL,
    pno INTEGER NOT NULL, qn TEXT NOT NULL, digest TEXT NOT NULL, raw TEXT NOT NULL,
    peer TEXT NOT NULL, received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (mn, cn, data_time, pnum, pno));
";

/// The bounds of held split parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitLimits {
    /// Most parts of one record (PNUM).
    pub max_parts: u32,
    /// Most bytes of one part's frame.
    pub max_part_bytes: usize,
    /// Records being assembled per device at once.
    pub max_records_per_device: i64,
    /// Records being assembled in the whole store.
    pub max_records: i64,
    /// Bytes of parts held in the whole store.
    pub max_bytes: i64,
}

impl Default for SplitLimits {
    fn default() -> Self {
        SplitLimits {
            max_parts: 64,
            max_part_bytes: crate::ingest::MAX_RAW_BYTES,
            max_records_per_device: 16,
            max_records: 10_000,
            max_bytes: 32 << 20,
        }
    }
}

/// One part as it arrived.
#[derive(Debug, Clone)]
pub struct SplitPart<'a> {
    pub mn: &'a str,
    pub cn: &'a str,
    /// DataTime (wall-clock seconds, as for uploads).
    pub data_time: i64,
    pub pnum: u32,
    pub pno: u32,
    pub qn: &'a str,
    /// The part's frame (kept, and the whole record's raw text is made of them).
    pub raw: &'a str,
    /// What identifies the part's data (its CP text): a resent part with other data is
    /// refused, one with the same data is a repeat.
    pub content: &'a str,
    pub peer: &'a str,
    pub received_at_ms: i64,
}

/// A held part, for reassembly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPart {
    pub pno: u32,
    pub raw: String,
    pub peer: String,
}

/// What became of a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitOutcome {
    /// Committed; `have` of the record's parts are held, more are awaited.
    Held { have: u32 },
    /// The same part (same data) is held already: acknowledge again, keep one.
    Repeat,
    /// The record was stored whole before: acknowledge, store nothing.
    AlreadyStored,
    /// The last part: the whole record was committed now (or it was a duplicate of an
    /// upload stored before) and its parts deleted.
    Complete(IngestOutcome),
    /// Refused (over a bound, malformed, mismatched, or the whole record refused by the
    /// store's rules, its parts then deleted); nothing to acknowledge.
    Refused {
        reason: RejectReason,
        detail: String,
        /// Refused only for want of room (records of the device or of the store being
        /// assembled, bytes held): the same part may be held when it comes again later.
        /// Otherwise it is refused for good (malformed, over the part bounds, resent with
        /// other data, outside the DataTime window, its whole record refused).
        no_room: bool,
    },
}

/// A record dropped at the timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredSplit {
    pub mn: String,
    pub cn: String,
    pub data_time: i64,
    pub pnum: u32,
    /// The PNOs that had come.
    pub have: Vec<u32>,
    /// The first part's frame (lowest PNO held).
    pub first_raw: String,
    pub started_at_ms: i64,
}

/// Makes the whole record's upload from its parts (in PNO order); the reason in words if
/// they hold no values.
pub type Reassemble<'a> = dyn FnMut(&[HeldPart]) -> std::result::Result<Upload, String> + 'a;

/// Split records held in the store.
pub trait SplitStore {
    /// Takes one part (see [`SplitOutcome`]); `reassemble` builds the whole when this part
    /// completes the record, inside the transaction that stores it.
    fn add_split_part(
        &mut self,
        part: &SplitPart<'_>,
        limits: &SplitLimits,
        reassemble: &mut Reassemble<'_>,
    ) -> Result<SplitOutcome>;
    /// Removes (at most `limit`) records whose first part came before `started_before_ms`
    /// and returns them; each is returned to one caller only.
    fn expire_splits(&mut self, started_before_ms: i64, limit: i64) -> Result<Vec<ExpiredSplit>>;
    /// Records being assembled and parts held (of one device, or all).
    fn split_pending(&mut self, mn: Option<&str>) -> Result<(i64, i64)>;
}

/// A record's key.
pub(crate) type RecordKey<'a> = (&'a str, &'a str, i64, u32);

/// A record's row, once locked.
pub(crate) struct RecordRow {
    /// Parts held.
    pub parts: i64,
}

/// The SQL a backend runs for split records, between [`IngestSql::begin`] (an immediate
/// transaction on SQLite) and [`IngestSql::commit`].
pub(crate) trait SplitSql: IngestSql {
    /// Begins a transaction that takes the write lock at once (SQLite: IMMEDIATE).
    fn begin_split(&mut self) -> Result<()>;
    /// The record's row, locked until the transaction ends; `None` if there is none.
    fn lock_record(&mut self, k: RecordKey<'_>) -> Result<Option<RecordRow>>;
    /// Creates the record's row (nothing if another transaction just did).
    fn create_record(&mut self, k: RecordKey<'_>, now_ms: i64) -> Result<()>;
    /// Whether the whole record (PNO 1 of its MN, CN, DataTime) is stored.
    fn stored_whole(&mut self, k: RecordKey<'_>) -> Result<bool>;
    /// (records of the device, records in all, bytes in all).
    fn pending_totals(&mut self, mn: &str) -> Result<(i64, i64, i64)>;
    /// The digest of a held part, if that PNO is held.
    fn held_digest(&mut self, k: RecordKey<'_>, pno: u32) -> Result<Option<String>>;
    /// Inserts a part and adds it to its record's counts.
    fn insert_part(&mut self, k: RecordKey<'_>, p: &SplitPart<'_>, digest: &str) -> Result<()>;
    /// The record's parts in PNO order.
    fn held_parts(&mut self, k: RecordKey<'_>) -> Result<Vec<HeldPart>>;
    /// Deletes the record and its parts.
    fn delete_record(&mut self, k: RecordKey<'_>) -> Result<()>;
}

fn refused(detail: String) -> SplitOutcome {
    SplitOutcome::Refused {
        reason: RejectReason::SplitRefused,
        detail,
        no_room: false,
    }
}

/// Refused for want of room now (see [`SplitOutcome::Refused`]).
fn no_room(detail: String) -> SplitOutcome {
    SplitOutcome::Refused {
        reason: RejectReason::SplitRefused,
        detail,
        no_room: true,
    }
}

/// The checks a part passes before any SQL.
fn check_part(p: &SplitPart<'_>, l: &SplitLimits) -> Option<SplitOutcome> {
    if p.pnum < 2 {
        return Some(SplitOutcome::Refused {
            reason: RejectReason::BadSegment,
            detail: format!("PNUM {} is not a split packet (2 parts or more)", p.pnum),
            no_room: false,
        });
    }
    if p.pno == 0 || p.pno > p.pnum {
        return Some(SplitOutcome::Refused {
            reason: RejectReason::BadSegment,
            detail: format!("PNO {} is outside 1..={}", p.pno, p.pnum),
            no_room: false,
        });
    }
    if p.pnum > l.max_parts {
        return Some(refused(format!(
            "PNUM {} is over the limit of {} parts",
            p.pnum, l.max_parts
        )));
    }
    if p.raw.len() > l.max_part_bytes {
        return Some(refused(format!(
            "a part of {} bytes is over the limit of {} bytes",
            p.raw.len(),
            l.max_part_bytes
        )));
    }
    if p.raw.contains('\0') || p.peer.contains('\0') || p.qn.contains('\0') {
        return Some(refused("a part holding NUL bytes".into()));
    }
    None
}

fn over_bytes(l: &SplitLimits) -> SplitOutcome {
    no_room(format!(
        "split parts held would exceed {} bytes",
        l.max_bytes
    ))
}

fn digest(content: &str) -> String {
    Sha256::digest(content.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// [`SplitStore::add_split_part`] on any backend.
pub(crate) fn add_part<D: SplitSql>(
    db: &mut D,
    rules: &IngestRules,
    part: &SplitPart<'_>,
    limits: &SplitLimits,
    reassemble: &mut Reassemble<'_>,
) -> Result<SplitOutcome> {
    if let Some(r) = check_part(part, limits) {
        return Ok(r);
    }
    // Parts of a record the store would refuse for its DataTime are not held.
    let (oldest, latest) = rules.window();
    if part.data_time < oldest || part.data_time > latest {
        let reason = if part.data_time < oldest {
            RejectReason::DataTimeTooOld
        } else {
            RejectReason::DataTimeAhead
        };
        return Ok(SplitOutcome::Refused {
            reason,
            detail: "a split part outside the accepted DataTime window".into(),
            no_room: false,
        });
    }
    // The whole's partition (PostgreSQL) before the transaction, as ingest does.
    db.prepare_times(&mut std::iter::once(part.data_time))?;
    db.begin_split()?;
    match add_in_transaction(db, rules, part, limits, reassemble) {
        Ok((out, write)) => {
            if write {
                if let Err(e) = db.commit() {
                    db.rollback();
                    return Err(e);
                }
            } else {
                db.rollback();
            }
            Ok(out)
        }
        Err(e) => {
            db.rollback();
            Err(e)
        }
    }
}

/// The part's fate, and whether to commit (false: nothing was written).
fn add_in_transaction<D: SplitSql>(
    db: &mut D,
    rules: &IngestRules,
    p: &SplitPart<'_>,
    l: &SplitLimits,
    reassemble: &mut Reassemble<'_>,
) -> Result<(SplitOutcome, bool)> {
    let k: RecordKey<'_> = (p.mn, p.cn, p.data_time, p.pnum);
    let bytes = p.raw.len() as i64;
    let (row, created) = match db.lock_record(k)? {
        Some(r) => (r, false),
        None => {
            if db.stored_whole(k)? {
                return Ok((SplitOutcome::AlreadyStored, false));
            }
            let (mine, all, all_bytes) = db.pending_totals(p.mn)?;
            if mine >= l.max_records_per_device {
                return Ok((
                    no_room(format!(
                        "{mine} split records of this device are being assembled (the limit)"
                    )),
                    false,
                ));
            }
            if all >= l.max_records {
                return Ok((
                    no_room(format!(
                        "{all} split records are being assembled (the store's limit)"
                    )),
                    false,
                ));
            }
            if all_bytes + bytes > l.max_bytes {
                return Ok((over_bytes(l), false));
            }
            db.create_record(k, crate::ingest::now_ms())?;
            match db.lock_record(k)? {
                Some(r) => (r, true),
                // Completed by another gateway in between.
                None if db.stored_whole(k)? => return Ok((SplitOutcome::AlreadyStored, false)),
                None => {
                    return Err(StoreError::Invalid(
                        "a split record vanished while it was created".into(),
                    ))
                }
            }
        }
    };
    let d = digest(p.content);
    match db.held_digest(k, p.pno)? {
        Some(held) if held == d => return Ok((SplitOutcome::Repeat, false)),
        Some(_) => {
            return Ok((
                refused(format!(
                    "PNO {} of {} came again with other data; the first is kept",
                    p.pno, p.pnum
                )),
                false,
            ))
        }
        None => {}
    }
    if row.parts >= i64::from(p.pnum) {
        return Err(StoreError::Invalid(
            "a split record holds all its parts but was not completed".into(),
        ));
    }
    if !created && db.pending_totals(p.mn)?.2 + bytes > l.max_bytes {
        return Ok((over_bytes(l), false));
    }
    db.insert_part(k, p, &d)?;
    let have = row.parts + 1;
    if have < i64::from(p.pnum) {
        return Ok((SplitOutcome::Held { have: have as u32 }, true));
    }
    // The last part: the whole record and the deletion of its parts in this transaction.
    let parts = db.held_parts(k)?;
    db.delete_record(k)?;
    let whole = match reassemble(&parts) {
        Ok(w) => w,
        Err(detail) => return Ok((refused(detail), true)),
    };
    let outcome = crate::ingest::store_one_in_transaction(db, rules, &whole)?;
    match outcome {
        IngestOutcome::Refused { reason } => Ok((
            SplitOutcome::Refused {
                reason,
                detail: "the reassembled split record".into(),
                no_room: false,
            },
            true,
        )),
        o => Ok((SplitOutcome::Complete(o), true)),
    }
}

/// [`SplitStore::expire_splits`]'s rows made into records.
pub(crate) fn expired_from_rows(
    rows: Vec<(String, String, i64, i64, i64)>,
    parts: impl FnMut(RecordKey<'_>) -> Result<Vec<HeldPart>>,
) -> Result<Vec<ExpiredSplit>> {
    let mut parts = parts;
    let mut out = Vec::with_capacity(rows.len());
    for (mn, cn, data_time, pnum, started_at_ms) in rows {
        let pnum = u32::try_from(pnum).unwrap_or(0);
        let held = parts((&mn, &cn, data_time, pnum))?;
        out.push(ExpiredSplit {
            have: held.iter().map(|h| h.pno).collect(),
            first_raw: held.first().map(|h| h.raw.clone()).unwrap_or_default(),
            mn,
            cn,
            data_time,
            pnum,
            started_at_ms,
        });
    }
    Ok(out)
}

/// Checks every backend passes (run by the backends' tests); `other` is a second connection
/// to the same store (another gateway).
#[doc(hidden)]
pub mod conformance {
    use super::*;

    const T: i64 = 1_748_736_000; // 2025-06-01 00:00 wall clock

    /// A part whose frame is `factor=value` (what [`reassemble`] reads).
    fn part<'a>(mn: &'a str, t: i64, pnum: u32, pno: u32, raw: &'a str) -> SplitPart<'a> {
        SplitPart {
            mn,
            cn: "2051",
            data_time: t,
            pnum,
            pno,
            qn: "20250601000000001",
            raw,
            content: raw,
            peer: "127.0.0.1:7000",
            received_at_ms: 5,
        }
    }

    /// The test's reassembly: each part `factor=value`, PNO order.
    fn reassemble(
        mn: &str,
        t: i64,
    ) -> impl FnMut(&[HeldPart]) -> std::result::Result<Upload, String> + '_ {
        move |parts| {
            let mut readings = Vec::new();
            for p in parts {
                let Some((f, v)) = p.raw.split_once('=') else {
                    continue;
                };
                readings.push(FactorReading {
                    factor: f.into(),
                    value: v.parse().ok(),
                    min: None,
                    max: None,
                    cou: None,
                    flag: Some("N".into()),
                });
            }
            if readings.is_empty() {
                return Err("no part of the split record holds values".into());
            }
            Ok(Upload {
                mn: mn.into(),
                cn: "2051".into(),
                data_time: t,
                pno: 1,
                received_at_ms: 9,
                peer: parts[0].peer.clone(),
                raw: parts
                    .iter()
                    .map(|p| p.raw.as_str())
                    .collect::<Vec<_>>()
                    .join("\r\n"),
                readings,
            })
        }
    }

    fn add(s: &mut dyn Store, p: &SplitPart<'_>, l: &SplitLimits) -> SplitOutcome {
        let mut r = reassemble(p.mn, p.data_time);
        s.add_split_part(p, l, &mut r).unwrap()
    }

    fn reason(o: &SplitOutcome) -> Option<RejectReason> {
        match o {
            SplitOutcome::Refused { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    fn detail(o: &SplitOutcome) -> &str {
        match o {
            SplitOutcome::Refused { detail, .. } => detail,
            _ => "",
        }
    }

    /// Refused for want of room (`Some(true)`), for good (`Some(false)`), or not refused.
    fn no_room(o: &SplitOutcome) -> Option<bool> {
        match o {
            SplitOutcome::Refused { no_room, .. } => Some(*no_room),
            _ => None,
        }
    }

    pub fn run_all(s: &mut dyn Store, other: &mut dyn Store) {
        let rules = IngestRules {
            now_unix_s: Some(T - 8 * 3600 + 2 * 86_400),
            ..IngestRules::default()
        };
        s.set_ingest_rules(rules.clone());
        other.set_ingest_rules(rules);
        let l = SplitLimits::default();
        // Out of order, a repeat, a mismatched repeat, then the last part on another
        // connection (a device that hopped to another gateway).
        assert_eq!(
            add(s, &part("SP1", T, 3, 2, "w21003=2"), &l),
            SplitOutcome::Held { have: 1 }
        );
        assert_eq!(
            add(s, &part("SP1", T, 3, 2, "w21003=2"), &l),
            SplitOutcome::Repeat
        );
        let o = add(s, &part("SP1", T, 3, 2, "w21003=7"), &l);
        assert_eq!(reason(&o), Some(RejectReason::SplitRefused));
        assert!(
            detail(&o).contains("PNO 2 of 3 came again with other data"),
            "{o:?}"
        );
        assert_eq!(no_room(&o), Some(false), "refused for good");
        assert_eq!(
            add(s, &part("SP1", T, 3, 3, "w21011=3"), &l),
            SplitOutcome::Held { have: 2 }
        );
        assert_eq!(s.split_pending(Some("SP1")).unwrap(), (1, 2));
        let o = add(other, &part("SP1", T, 3, 1, "w01018=1"), &l);
        assert!(
            matches!(o, SplitOutcome::Complete(IngestOutcome::Stored { .. })),
            "{o:?}"
        );
        assert_eq!(s.split_pending(Some("SP1")).unwrap(), (0, 0));
        let mut got: Vec<(String, Option<f64>)> = s
            .latest("SP1")
            .unwrap()
            .into_iter()
            .map(|r| (r.factor, r.value))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            vec![
                ("w01018".to_string(), Some(1.0)),
                ("w21003".to_string(), Some(2.0)),
                ("w21011".to_string(), Some(3.0)),
            ]
        );
        // A part resent after the record was stored: acknowledged, nothing held or stored.
        let readings = s.count_readings().unwrap();
        assert_eq!(
            add(s, &part("SP1", T, 3, 3, "w21011=3"), &l),
            SplitOutcome::AlreadyStored
        );
        assert_eq!(s.split_pending(Some("SP1")).unwrap(), (0, 0));
        assert_eq!(s.count_readings().unwrap(), readings);

        // Malformed and over the bounds: each refused with its reason, nothing held.
        let tight = SplitLimits {
            max_parts: 4,
            max_part_bytes: 32,
            max_records_per_device: 2,
            max_records: 3,
            max_bytes: 100,
        };
        let big = "w01018=".to_string() + &"1".repeat(40);
        for (p, want, words) in [
            (
                part("SP2", T, 0, 1, "w01018=1"),
                RejectReason::BadSegment,
                "PNUM 0",
            ),
            (
                part("SP2", T, 1, 1, "w01018=1"),
                RejectReason::BadSegment,
                "PNUM 1",
            ),
            (
                part("SP2", T, 3, 0, "w01018=1"),
                RejectReason::BadSegment,
                "PNO 0 is outside 1..=3",
            ),
            (
                part("SP2", T, 3, 4, "w01018=1"),
                RejectReason::BadSegment,
                "PNO 4 is outside 1..=3",
            ),
            (
                part("SP2", T, 5, 1, "w01018=1"),
                RejectReason::SplitRefused,
                "PNUM 5 is over the limit of 4",
            ),
            (
                part("SP2", T, 2, 1, &big),
                RejectReason::SplitRefused,
                "47 bytes is over the limit of 32",
            ),
            (
                part("SP2", T, 2, 1, "w01018=\0"),
                RejectReason::SplitRefused,
                "NUL",
            ),
        ] {
            let o = add(s, &p, &tight);
            assert_eq!(reason(&o), Some(want), "{o:?}");
            assert!(detail(&o).contains(words), "{o:?}");
            assert_eq!(no_room(&o), Some(false), "{o:?}");
        }
        assert_eq!(s.split_pending(Some("SP2")).unwrap(), (0, 0));
        // A device flooding first parts: two records, then refusals; a second device gets
        // the last record of the store; then the store is full.
        for k in 0..2 {
            assert_eq!(
                add(s, &part("SP2", T + 60 * k, 2, 1, "w01018=1"), &tight),
                SplitOutcome::Held { have: 1 }
            );
        }
        for k in 2..50 {
            let o = add(s, &part("SP2", T + 60 * k, 2, 1, "w01018=1"), &tight);
            assert!(
                detail(&o).contains("2 split records of this device"),
                "{o:?}"
            );
            assert_eq!(no_room(&o), Some(true), "{o:?}");
        }
        assert_eq!(
            add(other, &part("SP3", T, 2, 1, "w01018=1"), &tight),
            SplitOutcome::Held { have: 1 }
        );
        let o = add(other, &part("SP4", T, 2, 1, "w01018=1"), &tight);
        assert!(
            detail(&o).contains("3 split records are being assembled"),
            "{o:?}"
        );
        assert_eq!(no_room(&o), Some(true), "{o:?}");
        assert_eq!(s.split_pending(None).unwrap(), (3, 3));
        // Bytes in all: 3 × 8 held; a part of 80 more passes 100.
        let wide = SplitLimits {
            max_part_bytes: 1000,
            ..tight
        };
        let fat = "w21003=".to_string() + &"2".repeat(73);
        let o = add(s, &part("SP2", T, 2, 2, &fat), &wide);
        assert!(detail(&o).contains("would exceed 100 bytes"), "{o:?}");
        assert_eq!(no_room(&o), Some(true), "{o:?}");
        // Completing one makes room on that device.
        let o = add(s, &part("SP2", T, 2, 2, "w21003=2"), &tight);
        assert!(
            matches!(o, SplitOutcome::Complete(IngestOutcome::Stored { .. })),
            "{o:?}"
        );
        assert_eq!(
            add(s, &part("SP2", T + 600, 2, 1, "w01018=1"), &tight),
            SplitOutcome::Held { have: 1 }
        );

        // Expiry: every record started before the cut, each returned once, with its parts.
        let cut = crate::ingest::now_ms() + 1;
        let mut gone = s.expire_splits(cut, 100).unwrap();
        gone.sort_by(|a, b| (&a.mn, a.data_time).cmp(&(&b.mn, b.data_time)));
        let keys: Vec<(&str, i64, Vec<u32>)> = gone
            .iter()
            .map(|e| (e.mn.as_str(), e.data_time, e.have.clone()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("SP2", T + 60, vec![1]),
                ("SP2", T + 600, vec![1]),
                ("SP3", T, vec![1])
            ]
        );
        assert_eq!(gone[0].first_raw, "w01018=1");
        assert!(other.expire_splits(cut, 100).unwrap().is_empty());
        assert_eq!(s.split_pending(None).unwrap(), (0, 0));

        // A part outside the DataTime window is refused at once, not held.
        let old = T - 4 * 366 * 86_400;
        let o = add(s, &part("SP5", old, 2, 1, "w01018=1"), &l);
        assert_eq!(reason(&o), Some(RejectReason::DataTimeTooOld), "{o:?}");
        assert_eq!(no_room(&o), Some(false), "{o:?}");
        // A whole the store's rules refuse (a factor code no device sends): refused with
        // that reason, and its parts are gone too.
        assert_eq!(
            add(s, &part("SP5", T, 2, 1, "w01018=1"), &l),
            SplitOutcome::Held { have: 1 }
        );
        let o = add(s, &part("SP5", T, 2, 2, "w21-03=1"), &l);
        assert_eq!(reason(&o), Some(RejectReason::BadUpload), "{o:?}");
        assert_eq!(no_room(&o), Some(false), "{o:?}");
        // Parts without values: refused in words, parts gone.
        assert_eq!(
            add(s, &part("SP6", T, 2, 1, "none"), &l),
            SplitOutcome::Held { have: 1 }
        );
        let o = add(s, &part("SP6", T, 2, 2, "nothing"), &l);
        assert!(
            detail(&o).contains("no part of the split record holds values"),
            "{o:?}"
        );
        assert_eq!(s.split_pending(None).unwrap(), (0, 0));
    }
}
