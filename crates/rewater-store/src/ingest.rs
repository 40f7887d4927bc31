//! Ingest rules shared by every backend: the checks an upload passes, duplicates by
//! (MN, CN, DataTime, PNO), which readings feed the hourly aggregates, and isolation of a bad
//! upload. Backends implement [`IngestSql`], which holds only their SQL.

use crate::plausible::{flag_for, plausible_range, COU_RANGE};
use crate::*;
use std::collections::HashMap;

/// What an upload must satisfy to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestRules {
    /// Oldest accepted DataTime, as an age before now (seconds). Data older than this is an
    /// archive import, not monitoring; it would also create PostgreSQL partitions for ever.
    pub max_age_s: i64,
    /// Latest accepted DataTime, ahead of now (seconds): device clocks drift a little.
    pub max_ahead_s: i64,
    /// The zone of the devices' wall clock (DataTime): Asia/Shanghai by default.
    pub zone: rewater_time::Zone,
    /// A fixed "now" in Unix seconds (tests, replays); `None` reads the system clock.
    pub now_unix_s: Option<i64>,
    /// Record each committed batch's stored frames in the alert feed, in the same
    /// transaction (several gateways on one store: see [`crate::cluster`]).
    pub feed: bool,
}

/// Three years: devices resend buffered data after long outages (补发), not older.
pub const DEFAULT_MAX_AGE_S: i64 = 3 * 366 * 86_400;
/// Ten minutes of clock drift ahead of the server.
pub const DEFAULT_MAX_AHEAD_S: i64 = 600;

impl Default for IngestRules {
    fn default() -> Self {
        IngestRules {
            max_age_s: DEFAULT_MAX_AGE_S,
            max_ahead_s: DEFAULT_MAX_AHEAD_S,
            zone: rewater_time::Zone::default(),
            now_unix_s: None,
            feed: false,
        }
    }
}

impl IngestRules {
    /// The accepted DataTimes `[oldest, latest]`, in device wall seconds, now.
    pub fn window(&self) -> (i64, i64) {
        let now = self.now_unix_s.unwrap_or_else(|| now_ms().div_euclid(1000));
        let wall = self.zone.wall_seconds(now);
        (
            wall.saturating_sub(self.max_age_s.max(0)),
            wall.saturating_add(self.max_ahead_s.max(0)),
        )
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Most readings in one upload (a 9,999-byte segment holds fewer).
pub const MAX_READINGS_PER_UPLOAD: usize = 1000;
/// Raw text kept per stored frame (the HJ 212 limit is 9,999 + 12 bytes).
pub const MAX_RAW_BYTES: usize = 16 * 1024;

/// An upload that passed the checks, as the backends write it.
pub(crate) struct Checked<'a> {
    pub u: &'a Upload,
    /// Raw text and peer without NUL bytes (PostgreSQL text cannot hold them).
    pub raw: std::borrow::Cow<'a, str>,
    pub peer: std::borrow::Cow<'a, str>,
    pub readings: Vec<CheckedReading<'a>>,
}

/// A reading with non-numbers dropped and the flag its values deserve.
pub(crate) struct CheckedReading<'a> {
    pub factor: &'a str,
    pub value: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub cou: Option<f64>,
    pub flag: Option<&'a str>,
}

impl CheckedReading<'_> {
    /// Whether the reading feeds aggregates and series: a valid (N) value.
    pub(crate) fn valid_value(&self) -> Option<f64> {
        self.value.filter(|_| self.flag == Some("N"))
    }
}

fn short_code(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn without_nul(s: &str, max_bytes: usize) -> std::borrow::Cow<'_, str> {
    let mut end = s.len().min(max_bytes);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let s = &s[..end];
    if s.contains('\0') {
        s.replace('\0', "\u{FFFD}").into()
    } else {
        s.into()
    }
}

/// Checks one upload against the rules; the reason if it must be refused.
pub(crate) fn check<'a>(
    u: &'a Upload,
    window: (i64, i64),
) -> std::result::Result<Checked<'a>, RejectReason> {
    if u.data_time < window.0 {
        return Err(RejectReason::DataTimeTooOld);
    }
    if u.data_time > window.1 {
        return Err(RejectReason::DataTimeAhead);
    }
    // MN ≤ 24 characters (HJ 212-2017 §6.3.2), CN 4 digits, PNO at most 4 digits.
    let cn_ok = u.cn.len() == 4 && u.cn.bytes().all(|b| b.is_ascii_digit());
    if !short_code(&u.mn, 24) || !cn_ok || u.pno > 9999 {
        return Err(RejectReason::BadUpload);
    }
    if u.readings.len() > MAX_READINGS_PER_UPLOAD {
        return Err(RejectReason::BadUpload);
    }
    let mut readings = Vec::with_capacity(u.readings.len());
    for r in &u.readings {
        // Factor codes are short ASCII codes; flags one or two letters (HJ 212: one).
        if !short_code(&r.factor, 16) || r.flag.as_deref().is_some_and(|f| !short_code(f, 2)) {
            return Err(RejectReason::BadUpload);
        }
        readings.push(checked_reading(r));
    }
    Ok(Checked {
        u,
        raw: without_nul(&u.raw, MAX_RAW_BYTES),
        peer: without_nul(&u.peer, 256),
        readings,
    })
}

/// A reading as the store keeps it: non-numbers dropped, values outside the factor's
/// plausible range flagged (`T` above, `D` below or not a number) unless the device flagged
/// them otherwise already.
fn checked_reading(r: &FactorReading) -> CheckedReading<'_> {
    let range = plausible_range(&r.factor);
    let mut deserved = None;
    let mut keep = |v: Option<f64>, range| match v.map(|x| (x, flag_for(x, range))) {
        Some((x, None)) => Some(x),
        Some((x, Some(f))) => {
            // Fault outranks "above range" when both happen in one reading.
            if deserved != Some("D") {
                deserved = Some(f);
            }
            x.is_finite().then_some(x)
        }
        None => None,
    };
    let value = keep(r.value, range);
    let min = keep(r.min, range);
    let max = keep(r.max, range);
    let cou = keep(r.cou, Some(COU_RANGE));
    // A device's own non-N flag says more than ours; N (or none) gives way.
    let flag = match (r.flag.as_deref(), deserved) {
        (Some(f), _) if f != "N" => Some(f),
        (_, Some(d)) => Some(d),
        (f, None) => f,
    };
    CheckedReading {
        factor: &r.factor,
        value,
        min,
        max,
        cou,
        flag,
    }
}

/// The value and data flag the store keeps for a reading, for whoever evaluates readings
/// beside the store (the alert engine must not see 1e306 as a valid value either).
pub fn stored_value_and_flag(r: &FactorReading) -> (Option<f64>, Option<&str>) {
    let c = checked_reading(r);
    (c.value, c.flag)
}

/// An upload's identity.
pub(crate) type Key<'a> = (&'a str, &'a str, i64, u32);

/// A reading row to insert.
pub(crate) struct ReadingRow<'a> {
    pub mn: &'a str,
    pub cn: &'a str,
    pub data_time: i64,
    pub r: &'a CheckedReading<'a>,
    pub frame_id: i64,
    pub received_at_ms: i64,
}

/// Valid values of one (MN, factor, hour) within a batch, to add to the kept aggregate.
pub(crate) struct HourSum<'a> {
    pub mn: &'a str,
    pub factor: &'a str,
    pub start: i64,
    pub n: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

/// The SQL a backend runs for ingest. Calls between `begin` and `commit` form one
/// transaction; on any error the caller calls `rollback`.
pub(crate) trait IngestSql {
    /// Prepares storage for these DataTimes outside the transaction (PostgreSQL partitions).
    fn prepare_times(&mut self, data_times: &mut dyn Iterator<Item = i64>) -> Result<()>;
    fn begin(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self);
    /// Inserts one frame per upload; returns their ids in order.
    fn insert_frames(&mut self, uploads: &[Checked<'_>]) -> Result<Vec<i64>>;
    /// Claims each key for its frame: `None` if it is new (claimed now), else the frame that
    /// claimed it before.
    fn claim(&mut self, keys: &[(Key<'_>, i64)]) -> Result<Vec<Option<i64>>>;
    fn insert_readings(&mut self, rows: &[ReadingRow<'_>]) -> Result<()>;
    /// Adds batch sums to the kept hourly aggregates.
    fn add_hour_sums(&mut self, sums: &[HourSum<'_>]) -> Result<()>;
    /// Records the stored frames of the batch in the alert feed (only when
    /// [`IngestRules::feed`] is on).
    fn feed(&mut self, frame_ids: &[i64]) -> Result<()>;
    /// Writes a whole batch in one transaction of one round trip, where the backend can
    /// (PostgreSQL: one statement); `None` where it cannot, and the steps above are used.
    /// It does what the steps do, under the same rules: a frame per upload; each key of
    /// `plan.firsts` claimed; the readings of each claimed upload inserted; and the hourly
    /// sums of their [`Plan::agg`] values added to the aggregates. Returns the
    /// frame ids in upload order and, per first, what [`IngestSql::claim`] returns.
    fn write_one_shot(
        &mut self,
        _uploads: &[Checked<'_>],
        _plan: &Plan,
        _feed: bool,
    ) -> Option<Result<OneShot>> {
        None
    }
}

/// What [`IngestSql::write_one_shot`] returns: frame ids in upload order, and per first
/// upload what [`IngestSql::claim`] returns.
pub(crate) type OneShot = (Vec<i64>, Vec<Option<i64>>);

/// The shape of a batch the rules decided before any SQL runs: which upload first carries
/// each key (later ones in the batch are its duplicates), and the hour each upload's
/// readings are summed into (`None` if its CN is not aggregated).
pub(crate) struct Plan {
    /// Indexes of the uploads that carry a key first, in upload order.
    pub firsts: Vec<usize>,
    /// For each upload, the index of the first upload with its key.
    pub first_idx: Vec<usize>,
    /// For each upload, the start of its hour if its valid values feed the aggregates.
    pub hour: Vec<Option<i64>>,
}

impl Plan {
    fn new(uploads: &[Checked<'_>]) -> Plan {
        let mut first_of: HashMap<Key<'_>, usize> = HashMap::with_capacity(uploads.len());
        let mut firsts: Vec<usize> = Vec::with_capacity(uploads.len());
        let mut first_idx: Vec<usize> = Vec::with_capacity(uploads.len());
        for (i, c) in uploads.iter().enumerate() {
            let key = (c.u.mn.as_str(), c.u.cn.as_str(), c.u.data_time, c.u.pno);
            let f = *first_of.entry(key).or_insert_with(|| {
                firsts.push(i);
                i
            });
            first_idx.push(f);
        }
        let hour = uploads
            .iter()
            .map(|c| {
                AGGREGATED_CNS
                    .contains(&c.u.cn.as_str())
                    .then(|| c.u.data_time.div_euclid(3600) * 3600)
            })
            .collect();
        Plan {
            firsts,
            first_idx,
            hour,
        }
    }

    /// The value a reading adds to its hour's aggregate, if any (valid, aggregated CN).
    pub fn agg(&self, upload: usize, r: &CheckedReading<'_>) -> Option<f64> {
        self.hour[upload].and(r.valid_value())
    }

    /// The keys of the firsts.
    pub fn keys<'a>(&self, uploads: &'a [Checked<'_>]) -> Vec<Key<'a>> {
        self.firsts
            .iter()
            .map(|&i| {
                let u = uploads[i].u;
                (u.mn.as_str(), u.cn.as_str(), u.data_time, u.pno)
            })
            .collect()
    }
}

/// What each upload came to, from the claims of the firsts.
fn outcomes(plan: &Plan, ids: &[i64], claims: Vec<Option<i64>>) -> Vec<IngestOutcome> {
    let mut earlier: Vec<Option<Option<i64>>> = vec![None; ids.len()];
    for (&i, c) in plan.firsts.iter().zip(claims) {
        earlier[i] = Some(c);
    }
    (0..ids.len())
        .map(|i| {
            let f = plan.first_idx[i];
            match earlier[f].flatten() {
                Some(frame_id) => IngestOutcome::Duplicate { frame_id },
                None if f != i => IngestOutcome::Duplicate { frame_id: ids[f] },
                None => IngestOutcome::Stored { frame_id: ids[i] },
            }
        })
        .collect()
}

/// Checks and stores a batch; see [`ReadingStore::ingest`].
pub(crate) fn ingest(
    db: &mut dyn IngestSql,
    rules: &IngestRules,
    batch: &[Upload],
) -> Result<Vec<IngestOutcome>> {
    let window = rules.window();
    let mut out: Vec<IngestOutcome> = Vec::with_capacity(batch.len());
    let mut checked = Vec::with_capacity(batch.len());
    let mut slots = Vec::with_capacity(batch.len());
    for (i, u) in batch.iter().enumerate() {
        match check(u, window) {
            Ok(c) => {
                checked.push(c);
                slots.push(i);
                // Replaced below by what the database made of it.
                out.push(IngestOutcome::Refused {
                    reason: RejectReason::StoreRefused,
                });
            }
            Err(reason) => {
                tracing::debug!(mn = %u.mn.escape_debug(), reason = reason.as_str(), "upload refused");
                out.push(IngestOutcome::Refused { reason });
            }
        }
    }
    if checked.is_empty() {
        return Ok(out);
    }
    db.prepare_times(&mut checked.iter().map(|c| c.u.data_time))?;
    let stored = write_isolated(db, &checked, rules.feed)?;
    for (slot, o) in slots.into_iter().zip(stored) {
        out[slot] = o;
    }
    Ok(out)
}

/// Checks and stores one upload inside a transaction the caller has begun (and commits or
/// rolls back): a completed split record, stored with the deletion of its parts
/// ([`crate::split`]). The backend's step-by-step path, as one upload's batch.
pub(crate) fn store_one_in_transaction(
    db: &mut dyn IngestSql,
    rules: &IngestRules,
    u: &Upload,
) -> Result<IngestOutcome> {
    let checked = match check(u, rules.window()) {
        Ok(c) => vec![c],
        Err(reason) => return Ok(IngestOutcome::Refused { reason }),
    };
    let plan = Plan::new(&checked);
    let out = write_in_transaction(db, &checked, &plan, rules.feed)?;
    Ok(out.into_iter().next().unwrap_or(IngestOutcome::Refused {
        reason: RejectReason::StoreRefused,
    }))
}

/// Writes checked uploads in one transaction; if the database refuses the data, halves the
/// batch until the refusing upload is alone, so it alone is refused.
fn write_isolated(
    db: &mut dyn IngestSql,
    uploads: &[Checked<'_>],
    feed: bool,
) -> Result<Vec<IngestOutcome>> {
    match write_once(db, uploads, feed) {
        Ok(v) => Ok(v),
        Err(e) if e.is_data_error() && uploads.len() > 1 => {
            let (a, b) = uploads.split_at(uploads.len() / 2);
            let mut v = write_isolated(db, a, feed)?;
            v.extend(write_isolated(db, b, feed)?);
            Ok(v)
        }
        Err(e) if e.is_data_error() => {
            let u = uploads[0].u;
            tracing::warn!(mn = %u.mn, cn = %u.cn, data_time = u.data_time, error = %e, "the database refused an upload");
            Ok(vec![IngestOutcome::Refused {
                reason: RejectReason::StoreRefused,
            }])
        }
        Err(e) => Err(e),
    }
}

fn write_once(
    db: &mut dyn IngestSql,
    uploads: &[Checked<'_>],
    feed: bool,
) -> Result<Vec<IngestOutcome>> {
    let plan = Plan::new(uploads);
    if let Some(written) = db.write_one_shot(uploads, &plan, feed) {
        let (ids, claims) = written?;
        return Ok(outcomes(&plan, &ids, claims));
    }
    db.begin()?;
    match write_in_transaction(db, uploads, &plan, feed) {
        Ok(v) => match db.commit() {
            Ok(()) => Ok(v),
            Err(e) => {
                db.rollback();
                Err(e)
            }
        },
        Err(e) => {
            db.rollback();
            Err(e)
        }
    }
}

fn write_in_transaction(
    db: &mut dyn IngestSql,
    uploads: &[Checked<'_>],
    plan: &Plan,
    feed: bool,
) -> Result<Vec<IngestOutcome>> {
    let ids = db.insert_frames(uploads)?;
    // The first upload of each key in the batch claims it; later ones are its duplicates.
    let keys: Vec<(Key<'_>, i64)> = plan
        .keys(uploads)
        .into_iter()
        .zip(plan.firsts.iter().map(|&i| ids[i]))
        .collect();
    let claims = db.claim(&keys)?;
    let out = outcomes(plan, &ids, claims);
    let mut rows = Vec::new();
    let mut sums: HashMap<(&str, &str, i64), HourSum<'_>> = HashMap::new();
    for (i, c) in uploads.iter().enumerate() {
        if !matches!(out[i], IngestOutcome::Stored { .. }) {
            continue;
        }
        let u = c.u;
        for r in &c.readings {
            rows.push(ReadingRow {
                mn: &u.mn,
                cn: &u.cn,
                data_time: u.data_time,
                r,
                frame_id: ids[i],
                received_at_ms: u.received_at_ms,
            });
            if let (Some(start), Some(v)) = (plan.hour[i], plan.agg(i, r)) {
                let e = sums
                    .entry((u.mn.as_str(), r.factor, start))
                    .or_insert(HourSum {
                        mn: &u.mn,
                        factor: r.factor,
                        start,
                        n: 0,
                        sum: 0.0,
                        min: f64::INFINITY,
                        max: f64::NEG_INFINITY,
                    });
                e.n += 1;
                e.sum += v;
                e.min = e.min.min(v);
                e.max = e.max.max(v);
            }
        }
    }
    if !rows.is_empty() {
        db.insert_readings(&rows)?;
    }
    if !sums.is_empty() {
        let sums: Vec<HourSum<'_>> = sums.into_values().collect();
        db.add_hour_sums(&sums)?;
    }
    if feed {
        let stored: Vec<i64> = out
            .iter()
            .filter_map(|o| match o {
                IngestOutcome::Stored { frame_id } => Some(*frame_id),
                _ => None,
            })
            .collect();
        if !stored.is_empty() {
            db.feed(&stored)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend that refuses, as a database would, any transaction holding MN "POISON".
    #[derive(Default)]
    struct Fake {
        in_tx: Vec<String>,
        committed: Vec<String>,
        transactions: usize,
        next_frame: i64,
    }

    impl IngestSql for Fake {
        fn prepare_times(&mut self, _: &mut dyn Iterator<Item = i64>) -> Result<()> {
            Ok(())
        }
        fn begin(&mut self) -> Result<()> {
            self.transactions += 1;
            self.in_tx.clear();
            Ok(())
        }
        fn commit(&mut self) -> Result<()> {
            self.committed.append(&mut self.in_tx);
            Ok(())
        }
        fn rollback(&mut self) {
            self.in_tx.clear();
        }
        fn insert_frames(&mut self, uploads: &[Checked<'_>]) -> Result<Vec<i64>> {
            if uploads.iter().any(|c| c.u.mn == "POISON") {
                return Err(StoreError::Postgres {
                    sqlstate: Some("22P05".into()),
                    message: "unsupported Unicode escape sequence".into(),
                    detail: Some("\\u0000 cannot be converted to text.".into()),
                });
            }
            self.in_tx.extend(uploads.iter().map(|c| c.u.mn.clone()));
            Ok(uploads
                .iter()
                .map(|_| {
                    self.next_frame += 1;
                    self.next_frame
                })
                .collect())
        }
        fn claim(&mut self, keys: &[(Key<'_>, i64)]) -> Result<Vec<Option<i64>>> {
            Ok(vec![None; keys.len()])
        }
        fn insert_readings(&mut self, _: &[ReadingRow<'_>]) -> Result<()> {
            Ok(())
        }
        fn add_hour_sums(&mut self, _: &[HourSum<'_>]) -> Result<()> {
            Ok(())
        }
        fn feed(&mut self, _: &[i64]) -> Result<()> {
            Ok(())
        }
    }

    fn upload(mn: &str, t: i64) -> Upload {
        Upload {
            mn: mn.into(),
            cn: "2051".into(),
            data_time: t,
            pno: 1,
            received_at_ms: 0,
            peer: "p".into(),
            raw: "r".into(),
            readings: Vec::new(),
        }
    }

    #[test]
    fn an_upload_the_database_refuses_is_refused_alone() {
        let rules = IngestRules {
            now_unix_s: Some(1_000_000),
            ..IngestRules::default()
        };
        let t = 1_000_000 + 8 * 3600;
        let mut batch: Vec<Upload> = (0..16).map(|i| upload(&format!("OK{i}"), t)).collect();
        batch[11] = upload("POISON", t);
        let mut db = Fake::default();
        let out = ingest(&mut db, &rules, &batch).unwrap();
        for (i, o) in out.iter().enumerate() {
            if i == 11 {
                assert_eq!(
                    *o,
                    IngestOutcome::Refused {
                        reason: RejectReason::StoreRefused
                    }
                );
            } else {
                assert!(matches!(o, IngestOutcome::Stored { .. }), "{i}: {o:?}");
            }
        }
        assert_eq!(db.committed.len(), 15);
        // Halving finds it in about 2·log2(16) transactions, not one per upload.
        assert!(db.transactions <= 9, "{}", db.transactions);
        // A failure that is not about the data fails the batch (nothing acknowledged).
        assert!(!StoreError::Invalid("x".into()).is_data_error());
    }
}
