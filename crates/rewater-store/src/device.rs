//! Device passwords and allowed source addresses.
//!
//! HJ 212 sends the password (PW) in clear in every frame, so the gateway checks it at the
//! frame rate: a memory-hard hash (Argon2) per frame would cost more than storing the frame.
//! The store keeps a salted SHA-256 (`$rw-sha256$<salt hex>$<digest hex>`); the gateway keeps a
//! [`PasswordCache`] of the password that last verified for each device (against that device's
//! current hash), so that a device's frames after the first cost no hash. Comparisons are
//! constant time.

use crate::{Device, Result, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

const SCHEME: &str = "rw-sha256";

fn digest(salt: &[u8], password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex to a fixed number of bytes (no allocation: this runs for every frame).
fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nibble(b[2 * i])? << 4 | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

/// A fresh random salt (16 bytes from the operating system).
fn salt() -> [u8; 16] {
    let mut s = [0u8; 16];
    // getrandom fails only without an OS random source; a fixed salt then still hashes.
    if let Err(e) = getrandom::getrandom(&mut s) {
        tracing::error!(error = %e, "no random source for a device password salt");
    }
    s
}

/// Hashes a device password for storing (salted SHA-256 in a PHC-like string).
pub fn hash_device_password(password: &str) -> String {
    let s = salt();
    format!("${SCHEME}${}${}", hex(&s), hex(&digest(&s, password)))
}

/// Whether `password` matches a hash made by [`hash_device_password`] (constant time in the
/// digest; a malformed hash matches nothing).
pub fn verify_device_password(password: &str, hash: &str) -> bool {
    let mut parts = hash.split('$');
    let (Some(""), Some(SCHEME), Some(salt), Some(want), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Some(salt), Some(want)) = (unhex::<16>(salt), unhex::<32>(want)) else {
        return false;
    };
    bool::from(digest(&salt, password).ct_eq(&want))
}

/// What a [`PasswordCache`] check came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The password verified before against this very hash: no hash computed.
    Cached,
    /// Hashed now and it matched (it is cached from now on).
    Verified,
    /// Hashed now and it did not match (nothing is cached).
    Wrong,
}

impl PasswordCheck {
    pub fn ok(self) -> bool {
        self != PasswordCheck::Wrong
    }
}

/// The passwords that verified, per device MN, with the hash they verified against.
///
/// HJ 212 sends PW in clear with every frame, so the gateway holds the clear password of each
/// connected device anyway; keeping the last good one per device lets every later frame be
/// checked by a constant-time comparison instead of a SHA-256. An entry is used only while the
/// device's stored hash is the one it verified against (a new password or a re-salted hash
/// misses and is hashed again); a wrong password is never cached and does not evict the good
/// one. At most `capacity` devices are kept; past it an arbitrary entry makes room.
#[derive(Debug)]
pub struct PasswordCache {
    capacity: usize,
    entries: Mutex<HashMap<String, (String, String)>>,
}

impl PasswordCache {
    pub fn new(capacity: usize) -> PasswordCache {
        PasswordCache {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Checks `password` for device `mn` whose stored hash is `hash`.
    pub fn check(&self, mn: &str, password: &str, hash: &str) -> PasswordCheck {
        if let Ok(m) = self.entries.lock() {
            if let Some((h, p)) = m.get(mn) {
                // The hash is public to the store; the password is compared in constant time.
                if h == hash && bool::from(p.as_bytes().ct_eq(password.as_bytes())) {
                    return PasswordCheck::Cached;
                }
            }
        }
        // Hashed outside the lock: other devices' frames are not held up.
        if !verify_device_password(password, hash) {
            return PasswordCheck::Wrong;
        }
        if let Ok(mut m) = self.entries.lock() {
            if m.len() >= self.capacity && !m.contains_key(mn) {
                if let Some(k) = m.keys().next().cloned() {
                    m.remove(&k);
                }
            }
            m.insert(mn.to_string(), (hash.to_string(), password.to_string()));
        }
        PasswordCheck::Verified
    }

    /// Devices cached.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a string looks like a stored device password hash.
pub fn is_device_password_hash(s: &str) -> bool {
    s.starts_with(&format!("${SCHEME}$")) && s.split('$').count() == 4
}

/// One allowed source: an address or a network in CIDR notation.
fn parse_peer_rule(rule: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match rule.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (rule, None),
    };
    let ip: IpAddr = addr.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(b) => b.trim().parse::<u8>().ok().filter(|b| *b <= max)?,
        None => max,
    };
    Some((ip, bits))
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip.to_canonical(), net.to_canonical()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (ip >> shift) == (net >> shift)
}

impl Device {
    /// Whether a frame from `ip` may speak for this device (no rules: any address).
    pub fn allows_peer(&self, ip: IpAddr) -> bool {
        self.allowed_peers.is_empty()
            || self
                .allowed_peers
                .iter()
                .filter_map(|r| parse_peer_rule(r))
                .any(|(net, bits)| in_network(ip, net, bits))
    }
}

/// Checks a device before it is stored: an MN of 1–24 letters/digits (HJ 212-2017 §6.3.2:
/// MN is at most 24 characters), a hashed password and well-formed source rules.
pub fn check_device(d: &Device) -> Result<()> {
    if d.mn.is_empty() || d.mn.len() > 24 || !d.mn.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(StoreError::Invalid(format!(
            "device MN '{}' must be 1–24 letters or digits",
            d.mn.chars().take(40).collect::<String>()
        )));
    }
    if !is_device_password_hash(&d.password_hash) {
        return Err(StoreError::Invalid(format!(
            "device {}: the password must be stored as hash_device_password(…), not as text",
            d.mn
        )));
    }
    if d.allowed_peers.len() > 64 {
        return Err(StoreError::Invalid(format!(
            "device {}: at most 64 allowed source addresses",
            d.mn
        )));
    }
    for r in &d.allowed_peers {
        if r.contains(',') || parse_peer_rule(r).is_none() {
            return Err(StoreError::Invalid(format!(
                "device {}: allowed source '{}' is not an IP address or CIDR network",
                d.mn,
                r.chars().take(64).collect::<String>()
            )));
        }
    }
    Ok(())
}

/// Generates a random device password of 16 letters and digits (for demo devices and
/// `device add` without a password). Fails rather than make a guessable password when the
/// system has no random source; bytes that would bias the alphabet are drawn again.
pub fn random_device_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    // The largest multiple of the alphabet's length that fits in a byte.
    let fair = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut out = String::with_capacity(16);
    let mut bytes = [0u8; 32];
    while out.len() < 16 {
        getrandom::getrandom(&mut bytes).map_err(|e| {
            StoreError::Invalid(format!("no random source for a device password: {e}"))
        })?;
        out.extend(
            bytes
                .iter()
                .filter(|b| **b < fair)
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                .take(16 - out.len()),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(peers: &[&str]) -> Device {
        Device {
            mn: "MN1".into(),
            password_hash: hash_device_password("secret-1"),
            site_id: "S".into(),
            lenient: false,
            accept_modbus_crc: false,
            allowed_peers: peers.iter().map(|s| s.to_string()).collect(),
            disabled: false,
        }
    }

    #[test]
    fn hashes_are_salted_and_verify_only_the_password() {
        let a = hash_device_password("123456");
        let b = hash_device_password("123456");
        assert_ne!(a, b);
        assert!(verify_device_password("123456", &a));
        assert!(verify_device_password("123456", &b));
        assert!(!verify_device_password("1234567", &a));
        assert!(!verify_device_password("", &a));
        // Plain text, truncated or foreign hashes match nothing.
        assert!(!verify_device_password("123456", "123456"));
        assert!(!verify_device_password("123456", &a[..a.len() - 2]));
        assert!(!verify_device_password("123456", "$argon2id$v=19$x$y"));
        assert!(is_device_password_hash(&a));
        assert!(!is_device_password_hash("123456"));
    }

    #[test]
    fn the_cache_hashes_once_per_device_and_never_keeps_a_wrong_password() {
        use PasswordCheck::*;
        let cache = PasswordCache::new(2);
        let h1 = hash_device_password("good-1");
        assert_eq!(cache.check("A", "good-1", &h1), Verified);
        for _ in 0..5 {
            assert_eq!(cache.check("A", "good-1", &h1), Cached);
        }
        // A wrong password is hashed every time, refused, and leaves the good entry.
        assert_eq!(cache.check("A", "good-2", &h1), Wrong);
        assert_eq!(cache.check("A", "good-2", &h1), Wrong);
        assert_eq!(cache.check("A", "", &h1), Wrong);
        assert_eq!(cache.check("A", "good-1", &h1), Cached);
        // A new password for the device: the old one no longer passes, cached or not.
        let h2 = hash_device_password("new-1");
        assert_eq!(cache.check("A", "good-1", &h2), Wrong);
        assert_eq!(cache.check("A", "new-1", &h2), Verified);
        assert_eq!(cache.check("A", "new-1", &h2), Cached);
        // The same password under another MN is that device's own entry.
        assert_eq!(cache.check("B", "new-1", &h2), Verified);
        assert_eq!(cache.len(), 2);
        // Bounded: a third device evicts one of the two.
        let h3 = hash_device_password("c");
        assert_eq!(cache.check("C", "c", &h3), Verified);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.check("C", "c", &h3), Cached);
        // A wrong password for an unknown-to-the-cache device is never cached.
        assert_eq!(cache.check("D", "x", &h3), Wrong);
        assert_eq!(cache.check("D", "x", &h3), Wrong);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn peer_rules() {
        let any = dev(&[]);
        assert!(any.allows_peer("203.0.113.9".parse().unwrap()));
        let d = dev(&["10.1.0.0/16", "192.0.2.7", "2001:db8::/32"]);
        assert!(d.allows_peer("10.1.200.3".parse().unwrap()));
        assert!(!d.allows_peer("10.2.0.1".parse().unwrap()));
        assert!(d.allows_peer("192.0.2.7".parse().unwrap()));
        assert!(!d.allows_peer("192.0.2.8".parse().unwrap()));
        assert!(d.allows_peer("2001:db8::1".parse().unwrap()));
        assert!(d.allows_peer("::ffff:10.1.0.1".parse().unwrap()));
        assert!(dev(&["0.0.0.0/0"]).allows_peer("8.8.8.8".parse().unwrap()));
        assert!(check_device(&d).is_ok());
        for bad in ["10.0.0.0/33", "host.example", "10.0.0.1,10.0.0.2", ""] {
            assert!(check_device(&dev(&[bad])).is_err(), "{bad}");
        }
        let mut plain = dev(&[]);
        plain.password_hash = "123456".into();
        assert!(check_device(&plain).is_err());
        let mut long = dev(&[]);
        long.mn = "M".repeat(25);
        assert!(check_device(&long).is_err());
    }

    #[test]
    fn the_hash_is_never_serialised() {
        let d = dev(&["10.0.0.0/8"]);
        let json = serde_json::to_string(&d).unwrap();
        assert!(
            !json.contains("password_hash") && !json.contains("rw-sha256"),
            "{json}"
        );
        assert!(json.contains("10.0.0.0/8"));
    }

    #[test]
    fn random_passwords_differ() {
        let a = random_device_password().unwrap();
        assert_eq!(a.len(), 16);
        assert_ne!(a, random_device_password().unwrap());
    }
}
