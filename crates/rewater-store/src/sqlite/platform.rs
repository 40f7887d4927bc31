//! [`PlatformStore`] on SQLite.

use super::SqliteStore;
use crate::platform::*;
use crate::Result;
use rusqlite::{params, OptionalExtension, Row};

/// Version 9 (issue 19): gaps and logger commands.
pub(super) const V9: &str = "
CREATE TABLE gap (
    id INTEGER PRIMARY KEY, mn TEXT NOT NULL, cn TEXT NOT NULL, from_s INTEGER NOT NULL,
    to_s INTEGER NOT NULL, interval_s INTEGER NOT NULL, state TEXT NOT NULL,
    requests INTEGER NOT NULL, found_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL,
    UNIQUE (mn, cn, from_s));
CREATE TABLE logger_command (
    id INTEGER PRIMARY KEY, mn TEXT NOT NULL, cn TEXT NOT NULL, cp TEXT NOT NULL,
    who TEXT NOT NULL, state TEXT NOT NULL, qn TEXT, qn_rtn TEXT, exe_rtn TEXT,
    answer TEXT NOT NULL DEFAULT '', error TEXT, created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL, done_at_ms INTEGER);
CREATE INDEX logger_command_state ON logger_command (state, id);
";

const GAP_COLS: &str =
    "id, mn, cn, from_s, to_s, interval_s, state, requests, found_at_ms, updated_at_ms";
const COMMAND_COLS: &str = "id, mn, cn, cp, who, state, qn, qn_rtn, exe_rtn, answer, error, created_at_ms, expires_at_ms, done_at_ms";

fn gap_row(r: &Row) -> rusqlite::Result<(Gap, String)> {
    Ok((
        Gap {
            id: r.get(0)?,
            mn: r.get(1)?,
            cn: r.get(2)?,
            from_s: r.get(3)?,
            to_s: r.get(4)?,
            interval_s: r.get(5)?,
            state: GapState::Open,
            requests: r.get(7)?,
            found_at_ms: r.get(8)?,
            updated_at_ms: r.get(9)?,
        },
        r.get(6)?,
    ))
}

fn command_row(r: &Row) -> rusqlite::Result<(Command, String)> {
    Ok((
        Command {
            id: r.get(0)?,
            mn: r.get(1)?,
            cn: r.get(2)?,
            cp: r.get(3)?,
            who: r.get(4)?,
            state: CommandState::Pending,
            qn: r.get(6)?,
            answer: CommandAnswer {
                qn_rtn: r.get(7)?,
                exe_rtn: r.get(8)?,
                values: r.get(9)?,
                error: r.get(10)?,
            },
            created_at_ms: r.get(11)?,
            expires_at_ms: r.get(12)?,
            done_at_ms: r.get(13)?,
        },
        r.get(5)?,
    ))
}

fn with_gap_state(x: (Gap, String)) -> Result<Gap> {
    let (mut g, s) = x;
    g.state = GapState::parse(&s)?;
    Ok(g)
}

fn with_command_state(x: (Command, String)) -> Result<Command> {
    let (mut c, s) = x;
    c.state = CommandState::parse(&s)?;
    Ok(c)
}

impl PlatformStore for SqliteStore {
    fn upload_times(
        &mut self,
        mn: &str,
        cn: &str,
        from_s: i64,
        to_s: i64,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT DISTINCT data_time FROM upload WHERE mn = ?1 AND cn = ?2 AND data_time BETWEEN ?3 AND ?4
             ORDER BY data_time LIMIT ?5",
        )?;
        let rows = st.query_map(params![mn, cn, from_s, to_s, limit], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
    }

    fn add_gap(&mut self, g: &Gap) -> Result<Option<i64>> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO gap (mn, cn, from_s, to_s, interval_s, state, requests, found_at_ms, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![g.mn, g.cn, g.from_s, g.to_s, g.interval_s, g.state.as_str(), g.requests, g.found_at_ms, g.updated_at_ms],
        )?;
        Ok((n == 1).then(|| self.conn.last_insert_rowid()))
    }

    fn gaps(&mut self, mn: Option<&str>, limit: i64) -> Result<Vec<Gap>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {GAP_COLS} FROM gap WHERE (?1 IS NULL OR mn = ?1) ORDER BY from_s DESC, id DESC LIMIT ?2"
        ))?;
        let rows = st.query_map(params![mn, limit], gap_row)?;
        rows.map(|r| with_gap_state(r?)).collect()
    }

    fn update_gap(&mut self, id: i64, state: GapState, requests: i64, at_ms: i64) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE gap SET state = ?2, requests = ?3, updated_at_ms = ?4 WHERE id = ?1",
            params![id, state.as_str(), requests, at_ms],
        )?;
        Ok(n == 1)
    }

    fn add_command(&mut self, c: &NewCommand) -> Result<i64> {
        c.check()?;
        self.conn.execute(
            "INSERT INTO logger_command (mn, cn, cp, who, state, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)",
            params![c.mn, c.cn, c.cp, c.who, c.at_ms, c.expires_at_ms],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn command(&mut self, id: i64) -> Result<Option<Command>> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {COMMAND_COLS} FROM logger_command WHERE id = ?1"),
                params![id],
                command_row,
            )
            .optional()?;
        row.map(with_command_state).transpose()
    }

    fn pending_commands(&mut self, limit: i64) -> Result<Vec<Command>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COMMAND_COLS} FROM logger_command WHERE state = 'pending' ORDER BY id LIMIT ?1"
        ))?;
        let rows = st.query_map(params![limit], command_row)?;
        rows.map(|r| with_command_state(r?)).collect()
    }

    fn claim_command(&mut self, id: i64, qn: &str) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE logger_command SET state = 'sent', qn = ?2 WHERE id = ?1 AND state = 'pending'",
            params![id, qn],
        )?;
        Ok(n == 1)
    }

    fn finish_command(
        &mut self,
        id: i64,
        state: CommandState,
        a: &CommandAnswer,
        at_ms: i64,
    ) -> Result<bool> {
        // IMMEDIATE: a deferred transaction that reads, then writes, fails at once (busy
        // snapshot, no busy wait) when another connection — the API queueing a command —
        // wrote in between, and the command would stay "sent".
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row = tx
            .query_row(
                &format!("SELECT {COMMAND_COLS} FROM logger_command WHERE id = ?1"),
                params![id],
                command_row,
            )
            .optional()?;
        let Some(c) = row.map(with_command_state).transpose()? else {
            return Ok(false);
        };
        if c.state.is_done() {
            return Ok(false);
        }
        tx.execute(
            "UPDATE logger_command SET state = ?2, qn_rtn = ?3, exe_rtn = ?4, answer = ?5, error = ?6, done_at_ms = ?7 WHERE id = ?1",
            params![id, state.as_str(), a.qn_rtn, a.exe_rtn, a.values, a.error, at_ms],
        )?;
        tx.execute(
            "INSERT INTO audit (at_ms, who, action, target, detail) VALUES (?1, ?2, 'logger.command', ?3, ?4)",
            params![at_ms, c.who, c.mn, audit_detail(&c, state, a)],
        )?;
        tx.commit()?;
        Ok(true)
    }
}
