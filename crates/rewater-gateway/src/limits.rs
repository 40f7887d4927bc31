//! Resource limits: the open-file limit, and a rate limit on log lines about refusals (a
//! flood of bad frames must not become a flood of log lines).

use rewater_store::RejectReason;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Raises the soft limit on open files (`RLIMIT_NOFILE`) to the hard limit, so that the
/// connection limit, not the default 1,024 descriptors, decides how many devices connect.
/// Returns (old soft limit, new soft limit).
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every Unix
pub fn raise_open_file_limit() -> std::io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let old = lim.rlim_cur as u64;
    if lim.rlim_cur >= lim.rlim_max {
        return Ok((old, old));
    }
    lim.rlim_cur = lim.rlim_max;
    // SAFETY: setrlimit reads the struct we own; raising the soft limit up to the hard one
    // needs no privilege.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((old, lim.rlim_max as u64))
}

/// Elsewhere there is no such limit to raise.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> std::io::Result<(u64, u64)> {
    Ok((0, 0))
}

/// Lets through at most `per_window` log lines per reason in each window; the next line
/// allowed after a window reports how many were left out.
pub(crate) struct LogLimiter {
    per_window: u32,
    window: Duration,
    state: Mutex<HashMap<RejectReason, (Instant, u32, u64)>>,
}

impl LogLimiter {
    pub fn new(per_window: u32, window: Duration) -> LogLimiter {
        LogLimiter {
            per_window,
            window,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(left out since the last line)` if a line may be written now.
    pub fn allow(&self, reason: RejectReason) -> Option<u64> {
        let Ok(mut m) = self.state.lock() else {
            return None;
        };
        let now = Instant::now();
        let e = m.entry(reason).or_insert((now, 0, 0));
        if now.duration_since(e.0) >= self.window {
            e.0 = now;
            e.1 = 0;
        }
        if e.1 < self.per_window {
            e.1 += 1;
            Some(std::mem::take(&mut e.2))
        } else {
            e.2 += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_n_lines_per_reason_and_window() {
        let l = LogLimiter::new(3, Duration::from_millis(200));
        let got: Vec<Option<u64>> = (0..10).map(|_| l.allow(RejectReason::BadFrame)).collect();
        assert_eq!(got[..3], [Some(0), Some(0), Some(0)]);
        assert!(got[3..].iter().all(Option::is_none));
        // Another reason has its own budget.
        assert_eq!(l.allow(RejectReason::WrongPassword), Some(0));
        std::thread::sleep(Duration::from_millis(250));
        // The next window's first line says how many were left out.
        assert_eq!(l.allow(RejectReason::BadFrame), Some(7));
    }

    #[cfg(unix)]
    #[test]
    #[allow(clippy::unnecessary_cast)]
    fn the_open_file_limit_reaches_the_hard_limit() {
        let (_, new) = raise_open_file_limit().unwrap();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(lim.rlim_cur, lim.rlim_max);
        assert_eq!(new, lim.rlim_max as u64);
    }
}
