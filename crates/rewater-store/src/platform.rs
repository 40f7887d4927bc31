//! The platform side of HJ 212-2017 (issue 19 item 4): **gaps** in a logger's minute (2051),
//! hourly (2061) and daily (2031) data, found in the store and asked for again (补发, history
//! requests with BeginTime/EndTime), and **logger commands** (set/query parameters) that the
//! API queues and the gateway holding the logger's connection sends, with the logger's answer
//! (9011 QnRtn, 9012 ExeRtn, reported values) and an audit entry.
//!
//! Both live in the store, so any gateway of a cluster may serve them and a restart loses none.
//! Reference: HJ 212-2017 §6.5 and Appendix C (C.20–C.22 history requests), as described in the
//! project's HJ 212 reference notes §5.2 and §5.8 (source: the standard's text; confidence:
//! high for the command shapes, medium for gap practice, which is what platforms do rather than
//! what the standard requires).

use crate::{Result, StoreError};

/// Data kinds whose gaps are found and requested: (CN, fixed interval in seconds; 0 = the
/// logger's own minute interval, observed).
pub const GAP_KINDS: &[(&str, i64)] = &[("2051", 0), ("2061", 3600), ("2031", 86_400)];

/// A gap's state: open → requested → filled, or given up after the retry limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GapState {
    Open,
    Requested,
    Filled,
    GivenUp,
}

impl GapState {
    pub const ALL: &'static [GapState] = &[
        GapState::Open,
        GapState::Requested,
        GapState::Filled,
        GapState::GivenUp,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            GapState::Open => "open",
            GapState::Requested => "requested",
            GapState::Filled => "filled",
            GapState::GivenUp => "given_up",
        }
    }
    /// (Chinese, English).
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            GapState::Open => ("缺数待补", "open"),
            GapState::Requested => ("已请求补发", "requested"),
            GapState::Filled => ("已补齐", "filled"),
            GapState::GivenUp => ("补发失败（已放弃）", "given up"),
        }
    }
    pub fn parse(s: &str) -> Result<GapState> {
        GapState::ALL
            .iter()
            .copied()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| StoreError::Invalid(format!("gap state '{s}' is unknown")))
    }
}

/// A run of missing intervals of one logger and data kind. Times are DataTimes (wall-clock
/// seconds in the devices' zone), both ends inclusive: the first and the last missing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub id: i64,
    pub mn: String,
    pub cn: String,
    pub from_s: i64,
    pub to_s: i64,
    pub interval_s: i64,
    pub state: GapState,
    /// History requests sent for it.
    pub requests: i64,
    pub found_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Gap {
    /// Intervals missing in it.
    pub fn missing(&self) -> i64 {
        (self.to_s - self.from_s) / self.interval_s.max(1) + 1
    }
}

/// Bounds of gap finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapLimits {
    /// Only DataTimes this far back from now are looked at (seconds).
    pub window_s: i64,
    /// At most this many gaps per logger and data kind are kept open at once.
    pub max_gaps: usize,
    /// DataTimes read per logger and kind at most (the store query's bound).
    pub max_points: i64,
}

impl Default for GapLimits {
    fn default() -> Self {
        GapLimits {
            window_s: 3 * 86_400,
            max_gaps: 20,
            max_points: 20_000,
        }
    }
}

/// The interval of a series of DataTimes (ascending): the most frequent positive step, the
/// smaller one on a tie; `None` with fewer than two points.
pub fn observed_interval(times: &[i64]) -> Option<i64> {
    let mut counts: std::collections::BTreeMap<i64, usize> = Default::default();
    for w in times.windows(2) {
        let d = w[1] - w[0];
        if d > 0 {
            *counts.entry(d).or_default() += 1;
        }
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(d, _)| d)
}

/// The missing runs between known DataTimes (ascending, deduplicated by the caller or not):
/// (first missing, last missing) for every step longer than `interval`, oldest first, at most
/// `max` of them. Times off the grid are not gaps (a logger that changed its interval).
pub fn find_gaps(times: &[i64], interval: i64, max: usize) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    if interval <= 0 {
        return out;
    }
    for w in times.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b - a > interval && out.len() < max {
            let missing_to = a + ((b - a - 1) / interval) * interval;
            out.push((a + interval, missing_to));
        }
    }
    out
}

/// A state of a logger command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandState {
    /// Queued; no gateway has sent it yet.
    Pending,
    /// Sent to the logger; waiting for its answer.
    Sent,
    /// The logger answered (see the answer's QnRtn/ExeRtn for whether it did it).
    Answered,
    /// No answer in time, or the logger was not connected.
    Failed,
}

impl CommandState {
    pub const ALL: &'static [CommandState] = &[
        CommandState::Pending,
        CommandState::Sent,
        CommandState::Answered,
        CommandState::Failed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            CommandState::Pending => "pending",
            CommandState::Sent => "sent",
            CommandState::Answered => "answered",
            CommandState::Failed => "failed",
        }
    }
    /// (Chinese, English).
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            CommandState::Pending => ("待发送", "pending"),
            CommandState::Sent => ("已发送，等待应答", "sent, waiting for the answer"),
            CommandState::Answered => ("已应答", "answered"),
            CommandState::Failed => ("无应答或设备未连接", "no answer or logger not connected"),
        }
    }
    pub fn parse(s: &str) -> Result<CommandState> {
        CommandState::ALL
            .iter()
            .copied()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| StoreError::Invalid(format!("command state '{s}' is unknown")))
    }
    pub fn is_done(self) -> bool {
        matches!(self, CommandState::Answered | CommandState::Failed)
    }
}

/// A command to queue for a logger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCommand {
    pub mn: String,
    /// The request's CN (1000, 1011, 1012, 1061, 1062, 1063, 1064, 3020, 3021).
    pub cn: String,
    /// The CP items, `Key=value` joined by `;` (empty for a plain query).
    pub cp: String,
    /// The account that asked.
    pub who: String,
    pub at_ms: i64,
    /// The command fails if no answer has come by then.
    pub expires_at_ms: i64,
}

/// What the logger answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandAnswer {
    /// 9011 QnRtn (1 = will execute).
    pub qn_rtn: Option<String>,
    /// 9012 ExeRtn (1 = success).
    pub exe_rtn: Option<String>,
    /// Values the logger reported for a query (its upload's CP), `Key=value;…`.
    pub values: String,
    /// Why it failed, when it did (no answer, not connected).
    pub error: Option<String>,
}

/// A command as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub id: i64,
    pub mn: String,
    pub cn: String,
    pub cp: String,
    pub who: String,
    pub state: CommandState,
    /// The QN it was sent with.
    pub qn: Option<String>,
    pub answer: CommandAnswer,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub done_at_ms: Option<i64>,
}

impl NewCommand {
    /// Checks the fields; the one at fault in the error.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(StoreError::Invalid(m));
        if self.mn.is_empty() || self.mn.len() > 64 {
            return bad(format!("mn: '{}' is not a device MN", self.mn));
        }
        if self.cn.len() != 4 || !self.cn.bytes().all(|b| b.is_ascii_digit()) {
            return bad(format!("cn: '{}' is not a 4-digit command code", self.cn));
        }
        if self.cp.len() > 900 || self.cp.contains("&&") || self.cp.contains(['\r', '\n']) {
            return bad("cp: at most 900 characters, no '&&' and no line breaks".into());
        }
        if self.who.trim().is_empty() {
            return bad("who: empty".into());
        }
        Ok(())
    }
}

/// Gaps and logger commands.
pub trait PlatformStore {
    /// The distinct DataTimes of a logger's uploads of one CN in `[from_s, to_s]`, ascending,
    /// at most `limit` (the newest are dropped beyond it).
    fn upload_times(
        &mut self,
        mn: &str,
        cn: &str,
        from_s: i64,
        to_s: i64,
        limit: i64,
    ) -> Result<Vec<i64>>;
    /// Records a gap (state open); `None` if one with the same (MN, CN, start) exists.
    fn add_gap(&mut self, g: &Gap) -> Result<Option<i64>>;
    /// Gaps of one logger (or all), newest start first, at most `limit`.
    fn gaps(&mut self, mn: Option<&str>, limit: i64) -> Result<Vec<Gap>>;
    /// Sets a gap's state and request count; false if there is no such gap.
    fn update_gap(&mut self, id: i64, state: GapState, requests: i64, at_ms: i64) -> Result<bool>;
    /// Queues a command (checked); returns its id.
    fn add_command(&mut self, c: &NewCommand) -> Result<i64>;
    /// One command.
    fn command(&mut self, id: i64) -> Result<Option<Command>>;
    /// Commands not yet sent, oldest first.
    fn pending_commands(&mut self, limit: i64) -> Result<Vec<Command>>;
    /// Marks a pending command sent with `qn`; false if it was not pending (another gateway
    /// took it, or it expired).
    fn claim_command(&mut self, id: i64, qn: &str) -> Result<bool>;
    /// Records the answer (or failure) of a command, with an audit entry naming the account,
    /// the device, the command, its values and the answer, in one transaction.
    fn finish_command(
        &mut self,
        id: i64,
        state: CommandState,
        answer: &CommandAnswer,
        at_ms: i64,
    ) -> Result<bool>;
}

/// The audit entry's detail for a finished command.
pub(crate) fn audit_detail(c: &Command, state: CommandState, a: &CommandAnswer) -> String {
    format!(
        "CN={} CP={} QN={} state={} QnRtn={} ExeRtn={} values={}{}",
        c.cn,
        c.cp,
        c.qn.as_deref().unwrap_or("-"),
        state.as_str(),
        a.qn_rtn.as_deref().unwrap_or("-"),
        a.exe_rtn.as_deref().unwrap_or("-"),
        a.values,
        a.error
            .as_deref()
            .map(|e| format!(" error={e}"))
            .unwrap_or_default()
    )
}

/// Checks every backend must pass (called from the SQLite and PostgreSQL tests).
pub mod conformance {
    use super::*;
    use crate::{FactorReading, IngestRules, Store, Upload};

    fn upload(mn: &str, cn: &str, t: i64) -> Upload {
        Upload {
            mn: mn.into(),
            cn: cn.into(),
            data_time: t,
            pno: 1,
            received_at_ms: 0,
            peer: "p".into(),
            raw: format!("raw {t}"),
            readings: vec![FactorReading {
                factor: "w01018".into(),
                value: Some(1.0),
                min: None,
                max: None,
                cou: None,
                flag: Some("N".into()),
            }],
        }
    }

    pub fn run_all(s: &mut dyn Store) {
        // Hourly data 00:00, 01:00, 04:00, 05:00 of a day: 02:00 and 03:00 are missing.
        let day = 1_748_736_000; // 2025-06-01 00:00 (wall seconds)
        s.set_ingest_rules(IngestRules {
            now_unix_s: Some(day + 86_400),
            ..IngestRules::default()
        });
        let hours = [0, 1, 4, 5];
        let batch: Vec<Upload> = hours
            .iter()
            .map(|h| upload("GAPMN", "2061", day + h * 3600))
            .collect();
        s.ingest(&batch).unwrap();
        s.ingest(&[upload("GAPMN", "2051", day)]).unwrap();
        let times = s
            .upload_times("GAPMN", "2061", day, day + 86_400, 100)
            .unwrap();
        assert_eq!(times, hours.map(|h| day + h * 3600).to_vec());
        assert_eq!(
            s.upload_times("GAPMN", "2061", day, day + 86_400, 2)
                .unwrap()
                .len(),
            2
        );
        assert!(s
            .upload_times("OTHER", "2061", day, day + 86_400, 100)
            .unwrap()
            .is_empty());
        let found = find_gaps(&times, 3600, 20);
        assert_eq!(found, vec![(day + 2 * 3600, day + 3 * 3600)]);
        let g = Gap {
            id: 0,
            mn: "GAPMN".into(),
            cn: "2061".into(),
            from_s: found[0].0,
            to_s: found[0].1,
            interval_s: 3600,
            state: GapState::Open,
            requests: 0,
            found_at_ms: 7,
            updated_at_ms: 7,
        };
        let id = s.add_gap(&g).unwrap().unwrap();
        assert_eq!(s.add_gap(&g).unwrap(), None, "one gap per (MN, CN, start)");
        assert!(s.update_gap(id, GapState::Requested, 1, 9).unwrap());
        assert!(!s.update_gap(id + 1000, GapState::Filled, 1, 9).unwrap());
        let got = s.gaps(Some("GAPMN"), 10).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].state, GapState::Requested);
        assert_eq!((got[0].requests, got[0].updated_at_ms), (1, 9));
        assert_eq!(got[0].missing(), 2);
        assert!(s.gaps(Some("NONE"), 10).unwrap().is_empty());

        // Commands: queued, claimed once, answered with an audit entry.
        let c = NewCommand {
            mn: "GAPMN".into(),
            cn: "1062".into(),
            cp: "RtdInterval=30".into(),
            who: "管理员 admin".into(),
            at_ms: 10,
            expires_at_ms: 10_000,
        };
        let cid = s.add_command(&c).unwrap();
        let mut hostile = c.clone();
        hostile.cp = "A=1&&B".into();
        assert!(s.add_command(&hostile).is_err());
        hostile.cp.clear();
        hostile.cn = "10x2".into();
        assert!(s.add_command(&hostile).is_err());
        let pending = s.pending_commands(10).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].state, CommandState::Pending);
        assert!(s.claim_command(cid, "20250601000000001").unwrap());
        assert!(!s.claim_command(cid, "20250601000000002").unwrap());
        assert!(s.pending_commands(10).unwrap().is_empty());
        let answer = CommandAnswer {
            qn_rtn: Some("1".into()),
            exe_rtn: Some("1".into()),
            values: String::new(),
            error: None,
        };
        assert!(s
            .finish_command(cid, CommandState::Answered, &answer, 20)
            .unwrap());
        assert!(
            !s.finish_command(cid, CommandState::Failed, &answer, 21)
                .unwrap(),
            "a finished command stays as it was"
        );
        let done = s.command(cid).unwrap().unwrap();
        assert_eq!(done.state, CommandState::Answered);
        assert_eq!(done.qn.as_deref(), Some("20250601000000001"));
        assert_eq!(done.answer, answer);
        assert_eq!(done.done_at_ms, Some(20));
        assert!(s.command(cid + 99).unwrap().is_none());
        let log = s.audit_log(5).unwrap();
        let e = log
            .iter()
            .find(|e| e.action == "logger.command")
            .expect("an audit entry");
        assert_eq!(
            (e.who.as_str(), e.target.as_str()),
            ("管理员 admin", "GAPMN")
        );
        assert!(e.detail.contains("CN=1062") && e.detail.contains("RtdInterval=30"));
        assert!(e.detail.contains("QnRtn=1") && e.detail.contains("ExeRtn=1"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_between_known_times() {
        // 10-minute data: 00:00, 00:10, 00:40 (00:20 and 00:30 missing), 00:50.
        let t = [0, 600, 2400, 3000];
        assert_eq!(observed_interval(&t), Some(600));
        assert_eq!(find_gaps(&t, 600, 10), vec![(1200, 1800)]);
        // The bound on the number of gaps.
        let t: Vec<i64> = (0..10).map(|i| i * 7200).collect();
        assert_eq!(find_gaps(&t, 3600, 3).len(), 3);
        assert_eq!(find_gaps(&t, 3600, 3)[0], (3600, 3600));
        assert!(find_gaps(&[0], 3600, 3).is_empty());
        assert!(find_gaps(&[0, 7200], 0, 3).is_empty());
        assert_eq!(observed_interval(&[5]), None);
        // Off-grid step (interval changed): the last missing one stays before the next.
        assert_eq!(find_gaps(&[0, 1500], 600, 5), vec![(600, 1200)]);
    }
}
