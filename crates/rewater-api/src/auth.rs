//! Who is asking: login sessions (cookie + CSRF token), API tokens for machines, roles
//! (administrator 管理员, district operator 区运维, viewer 只读) and district scoping.
//!
//! Passwords are hashed with Argon2id (memory-hard, RFC 9106; the crate's default
//! parameters m = 19 MiB, t = 2, p = 1, as OWASP recommends). Session and token secrets are
//! 32 random bytes; the store keeps only their SHA-256.

use crate::error::{forbidden, unauthorized, ApiError};
use crate::{with_store, ApiState};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::{HeaderMap, Method};
use rand_core::{OsRng, RngCore};
use rewater_store::{Account, Credential, CredentialKind, Role, Site};
use sha2::{Digest, Sha256};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "rw_session";
/// Header carrying the session's CSRF token on every state-changing request.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a login lasts.
pub const SESSION_MS: i64 = 12 * 3600 * 1000;

/// The authenticated caller.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Principal {
    pub name: String,
    /// admin, operator or viewer.
    #[schema(value_type = String, example = "operator")]
    pub role: Role,
    /// Set for operators: the district they see and act on.
    pub district: Option<String>,
    /// The session's CSRF token (none for bearer tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
}

impl Principal {
    /// Whether the caller may see a site (operators: their district only).
    pub fn sees(&self, site: &Site) -> bool {
        match self.role {
            Role::Operator => self.district.as_deref() == Some(site.district.as_str()),
            _ => true,
        }
    }

    /// Whether the caller may change a site or its alerts.
    pub fn acts_on(&self, site: &Site) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Operator => self.sees(site),
            Role::Viewer => false,
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(forbidden("only an administrator may do this"))
        }
    }

    /// Operators and administrators may run scenarios and upload models; viewers only look.
    pub fn require_writer(&self) -> Result<(), ApiError> {
        if self.role == Role::Viewer {
            Err(forbidden("a viewer cannot change anything"))
        } else {
            Ok(())
        }
    }

    pub fn check_site(&self, site: &Site) -> Result<(), ApiError> {
        if self.sees(site) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "site '{}' is in district '{}'; {} sees district '{}' only",
                site.id,
                site.district,
                self.name,
                self.district.as_deref().unwrap_or("")
            )))
        }
    }
}

/// Hashes a password with Argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A real Argon2id hash of nothing anyone knows, checked against when a login names an
/// unknown account, so that the answer takes as long as for a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&new_secret()).unwrap_or_default())
}

/// Rules for a new password.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 10 {
        return Err("a password needs at least 10 characters".into());
    }
    if password.len() > 1024 {
        return Err("a password may have at most 1024 bytes".into());
    }
    Ok(())
}

/// A new random secret (hex of 32 bytes).
pub fn new_secret() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex(&b)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What the store keeps of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A new API token for an account, valid for `days` days; returns (credential, secret).
pub fn new_token(account: &str, label: &str, days: u32) -> (Credential, String) {
    let secret = new_secret();
    let now = now_ms();
    let cred = Credential {
        secret_hash: secret_hash(&secret),
        account: account.to_string(),
        kind: CredentialKind::Token,
        csrf: String::new(),
        label: label.to_string(),
        created_at_ms: now,
        expires_at_ms: Some(now.saturating_add(i64::from(days) * 86_400_000)),
    };
    (cred, secret)
}

/// Compares without an early exit, so timing tells nothing about a CSRF token.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of a cookie in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn principal_of(a: &Account, csrf: Option<String>) -> Result<Principal, ApiError> {
    if a.disabled {
        return Err(unauthorized("account disabled"));
    }
    Ok(Principal {
        name: a.name.clone(),
        role: a.role,
        district: a.district.clone(),
        csrf,
    })
}

/// The account holding a live credential of the given kind (sessions carry their CSRF token).
async fn holder(
    st: &ApiState,
    secret: &str,
    kind: CredentialKind,
    missing: &'static str,
) -> Result<Principal, ApiError> {
    let hash = secret_hash(secret);
    with_store(st, move |s| {
        let c = s
            .credential(&hash, now_ms())?
            .filter(|c| c.kind == kind)
            .ok_or_else(|| unauthorized(missing))?;
        let a = s
            .account(&c.account)?
            .ok_or_else(|| unauthorized(format!("{kind} of a deleted account")))?;
        principal_of(&a, (kind == CredentialKind::Session).then_some(c.csrf))
    })
    .await
}

/// Authenticates a request: `Authorization: Bearer` (the server's own token or a stored
/// API token) or the session cookie. A session's state-changing request must carry the
/// session's CSRF token in `X-CSRF-Token` (a cross-site form cannot set that header).
pub async fn authenticate(
    st: &ApiState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<Principal, ApiError> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    if let Some(token) = bearer {
        // Compared without an early exit, so timing tells nothing about a server token.
        let server_token = st.config.tokens.iter().find(|(t, _)| same(t, &token));
        if let Some((_, name)) = server_token {
            // The token `rewater serve` printed: the operator of the server itself.
            return Ok(Principal {
                name: name.clone(),
                role: Role::Admin,
                district: None,
                csrf: None,
            });
        }
        return holder(
            st,
            &token,
            CredentialKind::Token,
            "unknown, expired or revoked token",
        )
        .await;
    }
    let Some(secret) = cookie(headers, SESSION_COOKIE) else {
        return Err(unauthorized("log in or send a bearer token"));
    };
    let p = holder(
        st,
        secret,
        CredentialKind::Session,
        "session expired or revoked; log in again",
    )
    .await?;
    if !matches!(*method, Method::GET | Method::HEAD) {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same(sent, p.csrf.as_deref().unwrap_or("")) {
            return Err(forbidden("missing or wrong CSRF token"));
        }
    }
    Ok(p)
}

/// The client's address, when the server was started with connect info
/// ([`crate::service`]); none otherwise (then logins are limited per account only). Behind a
/// reverse proxy listed in [`crate::ApiConfig::trusted_proxies`], the address the proxy
/// appended to `X-Forwarded-For` (the rightmost entry that is not itself a trusted proxy);
/// from anyone else the header is ignored, so it cannot be forged.
pub struct PeerAddr(pub Option<std::net::IpAddr>);

impl axum::extract::FromRequestParts<ApiState> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        st: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_canonical());
        Ok(PeerAddr(peer.map(|p| {
            client_address(p, &parts.headers, &st.config.trusted_proxies)
        })))
    }
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy.
pub fn client_address(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map_while(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .map(|a| a.to_canonical())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

/// Starts a session for an account whose password was checked; returns (secret, csrf).
pub fn new_session(account: &str) -> (Credential, String) {
    let secret = new_secret();
    let now = now_ms();
    (
        Credential {
            secret_hash: secret_hash(&secret),
            account: account.to_string(),
            kind: CredentialKind::Session,
            csrf: new_secret(),
            label: String::new(),
            created_at_ms: now,
            expires_at_ms: Some(now + SESSION_MS),
        },
        secret,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", "not a phc string"));
        // Salted: the same password hashes differently.
        assert_ne!(h, hash_password("correct horse battery").unwrap());
        assert!(check_password("short").is_err());
        assert!(decoy_hash().starts_with("$argon2id$"));
        assert!(!verify_password("", decoy_hash()));
    }

    #[test]
    fn client_addresses_behind_trusted_proxies_only() {
        let proxy: std::net::IpAddr = [10, 0, 0, 1].into();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 203.0.113.9".parse().unwrap());
        // Not trusted: the header is anybody's and ignored.
        assert_eq!(client_address(proxy, &h, &[]), proxy);
        // Trusted: the address the proxy appended (the rightmost), not what the client sent.
        assert_eq!(
            client_address(proxy, &h, &[proxy]),
            "203.0.113.9".parse::<std::net::IpAddr>().unwrap()
        );
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn cookies_and_secrets() {
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; rw_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        let s = new_secret();
        assert_eq!(s.len(), 64);
        assert_ne!(s, new_secret());
        // SHA-256 of "abc" (FIPS 180-2 example).
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
