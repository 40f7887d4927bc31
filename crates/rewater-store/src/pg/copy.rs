//! A batch whose readings go in by binary `COPY` (issue 19): with the aggregates folded after
//! the commit ([`crate::fold`]) the readings need not be part of the batch statement, and
//! PostgreSQL takes rows from `COPY … (FORMAT binary)` for less work than from `INSERT …
//! SELECT FROM UNNEST` of arrays. One transaction: the batch statement without readings
//! (frames, keys claimed, alert feed; it also draws one reading id as a lower bound), the
//! claimed uploads' readings by COPY, and the `aggregate_pending` rows naming them (ids above
//! that bound up to the session's last drawn id, inserted by this transaction; one row per
//! fold part of their loggers).
//! `REWATER_PG_READINGS=unnest` keeps them in the statement, for comparison.

use super::copy_rows::CopyRows;
use super::{pg, PostgresStore};
use crate::ingest::{Checked, OneShot, Plan};
use crate::*;

const COPY_READINGS: &str = "COPY upload_reading (mn, cn, data_time, factor, value, min, max, cou, flag, frame_id, received_at_ms) FROM STDIN (FORMAT binary)";

/// The columns of [`COPY_READINGS`]: one row per upload (see [`super::upload_rows`]).
const COLUMNS: i16 = 11;

/// The batch's pending rows, one per fold part its stored readings' loggers fall in (none
/// when it stored no reading); `$2`: until when a fold leaves them to the process that holds
/// their sums (0: no process does); `$3`–`$5`: per part, the part and the DataTime range of
/// its readings.
pub(super) const PENDING: &str = "INSERT INTO aggregate_pending (lo, hi, xid, held_until_ms, t_lo, t_hi, part)
    SELECT $1, currval('reading_id_seq') + 1023, pg_current_xact_id()::xid, $2, x.t_lo, x.t_hi, x.part
    FROM UNNEST($3::int2[], $4::int8[], $5::int8[]) AS x(part, t_lo, t_hi)
    WHERE currval('reading_id_seq') > $1 RETURNING part, id";

impl PostgresStore {
    /// Whether batches write their readings by COPY (with deferred aggregates only).
    pub(super) fn copy_from_env() -> bool {
        std::env::var("REWATER_PG_READINGS").map_or(true, |v| v != "unnest")
    }

    pub(super) fn one_shot_copy(
        &mut self,
        uploads: &[Checked<'_>],
        plan: &Plan,
        feed: bool,
    ) -> Result<OneShot> {
        let n = uploads.len();
        let mut first = vec![false; n];
        for &i in &plan.firsts {
            first[i] = true;
        }
        let recv: Vec<i64> = uploads.iter().map(|c| c.u.received_at_ms).collect();
        let peers: Vec<&str> = uploads.iter().map(|c| c.peer.as_ref()).collect();
        let mns: Vec<&str> = uploads.iter().map(|c| c.u.mn.as_str()).collect();
        let cns: Vec<&str> = uploads.iter().map(|c| c.u.cn.as_str()).collect();
        let dts: Vec<i64> = uploads.iter().map(|c| c.u.data_time).collect();
        // PNO is at most 9999 (checked), so it fits the int column.
        let pnos: Vec<i32> = uploads.iter().map(|c| c.u.pno as i32).collect();
        let raws: Vec<&str> = uploads.iter().map(|c| c.raw.as_ref()).collect();
        let head = self.prepared(super::readings::COPY_HEAD)?;
        let pending = self.prepared(PENDING)?;
        let mut tx = self.client.transaction().map_err(pg)?;
        let rows = tx
            .query(
                &head,
                &[
                    &recv,
                    &peers,
                    &mns,
                    &cns,
                    &dts,
                    &pnos,
                    &raws,
                    &first,
                    &plan.hour,
                    &feed,
                    &crate::ingest::now_ms(),
                ],
            )
            .map_err(pg)?;
        let lo: i64 = rows.first().map_or(0, |r| r.get(3));
        let mut claimed = vec![false; n];
        let mut frame = vec![0i64; n];
        for r in &rows {
            let ord: i64 = r.get(0);
            if let Some(i) = usize::try_from(ord - 1).ok().filter(|&i| i < n) {
                frame[i] = r.get(1);
                claimed[i] = r.get(2);
            }
        }
        // Per fold part: the DataTime range of the readings stored.
        let mut t_range: Vec<Option<(i64, i64)>> = vec![None; usize::from(super::fold::FOLD_PARTS)];
        let parts: Vec<u8> = uploads
            .iter()
            .map(|c| super::fold::part_of(&c.u.mn))
            .collect();
        {
            let mut rows =
                CopyRows::with_capacity(uploads.iter().map(|c| 64 + 56 * c.readings.len()).sum());
            for (i, c) in uploads.iter().enumerate() {
                if !(first[i] && claimed[i]) || c.readings.is_empty() {
                    continue;
                }
                upload_row(&mut rows, c, frame[i])?;
            }
            for i in (0..n).filter(|&i| first[i] && claimed[i] && !uploads[i].readings.is_empty()) {
                let t = uploads[i].u.data_time;
                let r = &mut t_range[usize::from(parts[i])];
                *r = Some(r.map_or((t, t), |(lo, hi)| (t.min(lo), t.max(hi))));
            }
            let mut sink = tx.copy_in(COPY_READINGS).map_err(pg)?;
            std::io::Write::write_all(&mut sink, &rows.finish()).map_err(|e| {
                StoreError::Postgres {
                    sqlstate: None,
                    message: format!("readings' COPY: {e}"),
                    detail: None,
                }
            })?;
            sink.finish().map_err(pg)?;
        }
        let held_until_ms = self.held.as_ref().map_or(0, |(_, hold_ms)| {
            crate::ingest::now_ms().saturating_add(*hold_ms)
        });
        let (mut p_part, mut p_lo, mut p_hi) = (Vec::new(), Vec::new(), Vec::new());
        for (k, r) in t_range.iter().enumerate() {
            if let Some((lo, hi)) = r {
                p_part.push(k as i16);
                p_lo.push(*lo);
                p_hi.push(*hi);
            }
        }
        let news = self
            .series
            .news((0..n).filter(|&i| first[i] && claimed[i]).flat_map(|i| {
                let u = uploads[i].u;
                uploads[i]
                    .readings
                    .iter()
                    .map(move |r| (u.mn.as_str(), r.factor, u.data_time))
            }));
        Self::write_series(&mut tx, &news)?;
        let pending_rows: Vec<(i16, i64)> = tx
            .query(&pending, &[&lo, &held_until_ms, &p_part, &p_lo, &p_hi])
            .map_err(pg)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        tx.commit().map_err(pg)?;
        self.series.remember(news);
        if let Some((held, _)) = &self.held {
            let stored: Vec<bool> = (0..n).map(|i| first[i] && claimed[i]).collect();
            // A lock poisoned by a writer that panicked mid-add is never used again: the fold
            // then takes no held sums, and every row is read back once its hold ends.
            if let Ok(mut h) = held.lock() {
                h.add_batch(&pending_rows, uploads, plan, &stored, &parts);
            }
        }
        self.claims_from_rows(uploads, plan, &rows)
    }
}

/// Upload `c`'s row of [`COPY_READINGS`] (it has readings).
fn upload_row(rows: &mut CopyRows, c: &Checked<'_>, frame_id: i64) -> Result<()> {
    if c.readings.len() as i64 > super::upload_rows::BLOCK {
        return Err(StoreError::Invalid(format!(
            "an upload of {} readings (at most {})",
            c.readings.len(),
            super::upload_rows::BLOCK
        )));
    }
    let u = c.u;
    let rs = &c.readings;
    rows.row(COLUMNS);
    rows.text(&u.mn)?;
    rows.text(&u.cn)?;
    rows.int8(u.data_time);
    rows.text_array(rs.iter().map(|r| r.factor))?;
    rows.opt_float8_array(rs.iter().map(|r| r.value))?;
    rows.opt_float8_array(rs.iter().map(|r| r.min))?;
    rows.opt_float8_array(rs.iter().map(|r| r.max))?;
    rows.opt_float8_array(rs.iter().map(|r| r.cou))?;
    rows.opt_text_array(rs.iter().map(|r| r.flag))?;
    rows.int8(frame_id);
    rows.int8(u.received_at_ms);
    Ok(())
}
