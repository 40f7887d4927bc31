//! Resource limits: the open-file limit, a rate limit on log lines about refusals (a flood of
//! bad frames must not become a flood of log lines), and the pace of each device's frames.

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

/// The pace of each device's accepted frames (GCRA, a token bucket without a timer): at most
/// `per_s` frames a second after a burst of `burst`. A registered device that floods (a
/// compromised logger, or one resending the same upload in a loop) is slowed by delaying its
/// frames, not refused, so nothing is lost and its TCP window pushes back; the store grows at
/// most at the device's paced rate. The bound on waiting is the connection limit: each
/// connection has at most one frame in hand.
pub(crate) struct DevicePace {
    interval: Duration,
    tolerance: Duration,
    /// MN → theoretical arrival time of its next frame. Only registered MNs that passed the
    /// password check get here, so the map is as large as the device register at most.
    next: Mutex<HashMap<String, Instant>>,
}

impl DevicePace {
    /// `per_s` ≤ 0 switches pacing off.
    pub fn new(per_s: f64, burst: u32) -> DevicePace {
        let interval = if per_s > 0.0 {
            Duration::from_secs_f64(1.0 / per_s)
        } else {
            Duration::ZERO
        };
        DevicePace {
            interval,
            tolerance: interval * burst.saturating_sub(1),
            next: Mutex::new(HashMap::new()),
        }
    }

    /// Reserves the device's next slot; how long to wait before handling the frame.
    pub fn reserve(&self, mn: &str, now: Instant) -> Duration {
        if self.interval.is_zero() {
            return Duration::ZERO;
        }
        let Ok(mut m) = self.next.lock() else {
            return Duration::ZERO;
        };
        let tat = match m.get_mut(mn) {
            Some(t) => t,
            None => m.entry(mn.to_string()).or_insert(now),
        };
        let start = (*tat).max(now);
        *tat = start + self.interval;
        // Allowed once `tat − tolerance` is reached.
        start.saturating_duration_since(now + self.tolerance)
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

    #[test]
    fn a_device_is_paced_after_its_burst_and_others_are_not() {
        // 10 frames/s after a burst of 3.
        let p = DevicePace::new(10.0, 3);
        let t0 = Instant::now();
        let waits: Vec<Duration> = (0..6).map(|_| p.reserve("A", t0)).collect();
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        // Three at once, then one every 100 ms.
        assert_eq!(ms, [0, 0, 0, 100, 200, 300]);
        // Another device has its own budget.
        assert_eq!(p.reserve("B", t0), Duration::ZERO);
        // After a quiet second the burst is back.
        let later = t0 + Duration::from_secs(2);
        assert_eq!(p.reserve("A", later), Duration::ZERO);
        assert_eq!(p.reserve("A", later), Duration::ZERO);
        assert_eq!(p.reserve("A", later), Duration::ZERO);
        assert_eq!(p.reserve("A", later).as_millis(), 100);
        // Off.
        let off = DevicePace::new(0.0, 3);
        assert!((0..100).all(|_| off.reserve("A", t0).is_zero()));
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
