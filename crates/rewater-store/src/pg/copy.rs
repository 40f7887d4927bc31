//! A batch whose readings go in by binary `COPY` (issue 19): with the aggregates folded after
//! the commit ([`crate::fold`]) the readings need not be part of the batch statement, and
//! PostgreSQL takes rows from `COPY … (FORMAT binary)` for less work than from `INSERT …
//! SELECT FROM UNNEST` of arrays. One transaction: the batch statement without readings
//! (frames, keys claimed, alert feed; it also draws one reading id as a lower bound), the
//! claimed uploads' readings by COPY, and the `aggregate_pending` row naming them (ids above
//! that bound up to the session's last drawn id, inserted by this transaction).
//! `REWATER_PG_READINGS=unnest` keeps them in the statement, for comparison.

use super::{pg, PostgresStore};
use crate::ingest::{Checked, OneShot, Plan};
use crate::*;

const COPY_READINGS: &str = "COPY reading (mn, factor, cn, data_time, value, min, max, cou, flag, frame_id, received_at_ms) FROM STDIN (FORMAT binary)";

/// The columns of [`COPY_READINGS`].
const COLUMNS: i16 = 11;

/// The batch's pending row (none when it stored no reading); `$2`: until when a fold leaves
/// it to the process that holds its sums (0: no process does).
const PENDING: &str = "INSERT INTO aggregate_pending (lo, hi, xid, held_until_ms)
    SELECT $1, currval('reading_id_seq'), pg_current_xact_id()::xid, $2
    WHERE currval('reading_id_seq') > $1 RETURNING id";

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
        {
            let mut rows = super::copy_rows::CopyRows::with_capacity(
                uploads.iter().map(|c| 96 * c.readings.len()).sum(),
            );
            for (i, c) in uploads.iter().enumerate() {
                if !(first[i] && claimed[i]) {
                    continue;
                }
                let u = c.u;
                for r in &c.readings {
                    rows.row(COLUMNS);
                    rows.text(&u.mn)?;
                    rows.text(r.factor)?;
                    rows.text(&u.cn)?;
                    rows.int8(u.data_time);
                    rows.opt_float8(r.value);
                    rows.opt_float8(r.min);
                    rows.opt_float8(r.max);
                    rows.opt_float8(r.cou);
                    rows.opt_text(r.flag)?;
                    rows.int8(frame[i]);
                    rows.int8(u.received_at_ms);
                }
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
        let pending_id: Option<i64> = tx
            .query_opt(&pending, &[&lo, &held_until_ms])
            .map_err(pg)?
            .map(|r| r.get(0));
        tx.commit().map_err(pg)?;
        if let (Some((held, _)), Some(id)) = (&self.held, pending_id) {
            let stored: Vec<bool> = (0..n).map(|i| first[i] && claimed[i]).collect();
            // A lock poisoned by a writer that panicked mid-add is never used again: the fold
            // then takes no held sums, and every row is read back once its hold ends.
            if let Ok(mut h) = held.lock() {
                h.add_batch(id, uploads, plan, &stored);
            }
        }
        self.claims_from_rows(uploads, plan, &rows)
    }
}
