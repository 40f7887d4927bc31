//! Login rate limiting: failed logins are counted per account and per source address; after
//! `max_failures` failures within `window_s`, that account or address is refused for
//! `backoff_s` (429 with `Retry-After`), even with the right password. The table is bounded:
//! expired entries go first, then the oldest.

use std::collections::HashMap;
use std::sync::Mutex;

/// Limits on failed logins.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimit {
    /// Failures allowed within the window before the back-off starts.
    pub max_failures: u32,
    pub window_s: u64,
    /// How long an account or address is refused after too many failures.
    pub backoff_s: u64,
    /// Accounts and addresses tracked at most (memory bound).
    pub max_tracked: usize,
}

impl Default for LoginLimit {
    /// 10 failures in 15 minutes → 15 minutes back-off (as OWASP's authentication cheat
    /// sheet suggests: a lockout after a small number of failures, for a limited time).
    fn default() -> Self {
        LoginLimit {
            max_failures: 10,
            window_s: 900,
            backoff_s: 900,
            max_tracked: 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first_ms: i64,
    locked_until_ms: i64,
}

/// Failed-login counters.
pub struct LoginLimiter {
    limit: LoginLimit,
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginLimiter {
    pub fn new(limit: LoginLimit) -> LoginLimiter {
        LoginLimiter {
            limit,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait if any of the keys is in back-off.
    pub fn blocked(&self, keys: &[String], now_ms: i64) -> Option<u64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| entries.get(k))
            .filter(|e| e.locked_until_ms > now_ms)
            .map(|e| ((e.locked_until_ms - now_ms + 999) / 1000) as u64)
            .max()
    }

    /// Counts a failure for each key; true if one of them is now in back-off.
    pub fn failed(&self, keys: &[String], now_ms: i64) -> bool {
        let window_ms = (self.limit.window_s as i64).saturating_mul(1000);
        let backoff_ms = (self.limit.backoff_s as i64).saturating_mul(1000);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut locked = false;
        for k in keys {
            if !entries.contains_key(k) && entries.len() >= self.limit.max_tracked {
                make_room(&mut entries, now_ms, window_ms, self.limit.max_tracked);
            }
            let e = entries.entry(k.clone()).or_insert(Entry {
                failures: 0,
                first_ms: now_ms,
                locked_until_ms: 0,
            });
            if now_ms.saturating_sub(e.first_ms) > window_ms {
                *e = Entry {
                    failures: 0,
                    first_ms: now_ms,
                    locked_until_ms: e.locked_until_ms,
                };
            }
            e.failures = e.failures.saturating_add(1);
            if e.failures >= self.limit.max_failures {
                e.locked_until_ms = now_ms.saturating_add(backoff_ms);
                e.failures = 0;
                e.first_ms = now_ms;
                locked = true;
            }
        }
        locked
    }

    /// A successful login clears the account's count (not the address's).
    pub fn succeeded(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(key);
    }

    pub fn tracked(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

/// Drops expired entries; if none expired, the oldest tenth.
fn make_room(entries: &mut HashMap<String, Entry>, now_ms: i64, window_ms: i64, max: usize) {
    entries.retain(|_, e| {
        e.locked_until_ms > now_ms || now_ms.saturating_sub(e.first_ms) <= window_ms
    });
    if entries.len() < max {
        return;
    }
    let mut ages: Vec<(i64, String)> = entries
        .iter()
        .map(|(k, e)| (e.first_ms.max(e.locked_until_ms), k.clone()))
        .collect();
    ages.sort_unstable();
    for (_, k) in ages.iter().take(ages.len() / 10 + 1) {
        entries.remove(k);
    }
}

/// The keys a login attempt is counted under: the account, and the address — IPv6 by its
/// /64 network, since one host commonly holds a whole /64 and could otherwise rotate through it.
pub fn keys(account: &str, addr: Option<std::net::IpAddr>) -> Vec<String> {
    let mut k = vec![format!("account:{account}")];
    match addr.map(|a| a.to_canonical()) {
        Some(std::net::IpAddr::V6(v6)) => {
            let net = u128::from(v6) & !((1u128 << 64) - 1);
            k.push(format!("addr:{}/64", std::net::Ipv6Addr::from(net)));
        }
        Some(a) => k.push(format!("addr:{a}")),
        None => {}
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_then_back_off_then_free_again() {
        let l = LoginLimiter::new(LoginLimit::default());
        let k = keys("boss", Some([10, 0, 0, 1].into()));
        for i in 0..9 {
            assert!(!l.failed(&k, 1000 + i));
            assert_eq!(l.blocked(&k, 1000 + i), None);
        }
        assert!(l.failed(&k, 2000));
        assert_eq!(l.blocked(&k, 2000), Some(900));
        assert_eq!(l.blocked(&k, 2000 + 899_500), Some(1));
        assert_eq!(l.blocked(&k, 2000 + 900_000), None);
        // Another account from the same address is refused too; from elsewhere it is not.
        assert!(l
            .blocked(&keys("other", Some([10, 0, 0, 1].into())), 3000)
            .is_some());
        assert!(l
            .blocked(&keys("other", Some([10, 0, 0, 2].into())), 3000)
            .is_none());
    }

    #[test]
    fn an_ipv6_host_cannot_rotate_through_its_network() {
        let l = LoginLimiter::new(LoginLimit::default());
        for i in 0..10u16 {
            let a: std::net::IpAddr = format!("2001:db8:1:2::{i:x}").parse().unwrap();
            l.failed(&keys(&format!("user{i}"), Some(a)), 0);
        }
        let same_net: std::net::IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let other_net: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.blocked(&keys("fresh", Some(same_net)), 1).is_some());
        assert!(l.blocked(&keys("fresh", Some(other_net)), 1).is_none());
        // An IPv4 client seen through an IPv6 socket counts as its IPv4 address.
        let mapped: std::net::IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(keys("x", Some(mapped))[1], "addr:10.0.0.1");
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let l = LoginLimiter::new(LoginLimit::default());
        let k = keys("boss", None);
        for i in 0..9 {
            l.failed(&k, i);
        }
        assert!(!l.failed(&k, 901_000), "the window started again");
    }

    #[test]
    fn the_table_stays_bounded() {
        let l = LoginLimiter::new(LoginLimit {
            max_tracked: 1000,
            ..LoginLimit::default()
        });
        for i in 0..20_000 {
            l.failed(&[format!("account:spray{i}")], 0);
        }
        assert!(l.tracked() <= 1000, "{}", l.tracked());
    }
}
