//! Accounts and sessions: login (rate-limited, Argon2 checked off the store lock), logout,
//! who am I, users, password changes (which end the account's sessions), API tokens (expiring,
//! listed by public id, revocable) and the audit log.

use crate::auth::{self, authenticate, now_ms, PeerAddr, Principal};
use crate::error::{bad, forbidden, internal, not_found, too_many, unauthorized};
use crate::error::{ApiError, ApiResult, E400, E401, E403, E404, E429};
use crate::extract::{ApiJson, ApiQuery};
use crate::{audit, limiter, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rewater_store::{Account, Credential, CredentialKind, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
pub struct Login {
    name: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct OkBody {
    pub ok: bool,
}

/// An account as the API shows it (never its password hash).
#[derive(Serialize, ToSchema)]
pub struct AccountView {
    pub name: String,
    /// admin, operator or viewer.
    pub role: String,
    pub district: Option<String>,
    pub disabled: bool,
    pub created_at_ms: i64,
    /// RFC 3339 in the server's zone.
    pub created_at: String,
}

impl AccountView {
    fn new(st: &ApiState, a: &Account) -> AccountView {
        AccountView {
            name: a.name.clone(),
            role: a.role.as_str().to_string(),
            district: a.district.clone(),
            disabled: a.disabled,
            created_at_ms: a.created_at_ms,
            created_at: st.zone.rfc3339_ms(a.created_at_ms),
        }
    }
}

/// A login name as it may appear in the audit log and the limiter: printable, ≤ 64 chars.
fn clean_name(name: &str) -> String {
    let who: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    if who.trim().is_empty() {
        "?".into()
    } else {
        who
    }
}

fn session_cookie(st: &ApiState, secret: &str, max_age_s: i64) -> String {
    let secure = if st.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{secure}",
        auth::SESSION_COOKIE
    )
}

/// Checks a password against a hash on a blocking thread, at most as many at a time as the
/// server has verification slots, so password checks neither hold the store lock nor take
/// every core.
async fn verify_off_lock(st: &ApiState, password: String, phc: String) -> Result<bool, ApiError> {
    let _slot = st
        .verify_slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
        .await
        .map_err(|e| internal(e.to_string()))
}

/// Log in with name and password.
///
/// Sets the session cookie (HttpOnly, SameSite=Strict, Secure when configured) and returns
/// the CSRF token to send as `X-CSRF-Token` on every change. After 10 failures in 15 minutes
/// for one account or from one address, logins there are refused for 15 minutes (429).
#[utoipa::path(post, path = "/api/login", tag = "accounts", security(()), request_body = Login,
    responses((status = 200, description = "the account and its CSRF token; sets rw_session", body = Principal),
        (status = 401, description = "wrong name or password", body = crate::error::ErrorBody), E400, E429))]
pub async fn login(
    State(st): State<ApiState>,
    PeerAddr(addr): PeerAddr,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let who = clean_name(&body.name);
    let keys = limiter::keys(&who, addr);
    if let Some(wait) = st.limiter.blocked(&keys, now_ms()) {
        return Err(too_many(
            format!("too many failed logins; try again in {wait} s"),
            wait,
        ));
    }
    let name = body.name.clone();
    let account = with_store(&st, move |s| Ok(s.account(&name)?)).await?;
    // Verify even for an unknown name, so timing does not tell which names exist.
    let phc = account
        .as_ref()
        .map_or(auth::decoy_hash().to_string(), |a| a.password_hash.clone());
    let ok = verify_off_lock(&st, body.password, phc).await?;
    match account {
        Some(a) if ok && !a.disabled => {
            st.limiter.succeeded(&keys[0]);
            let (cred, secret) = auth::new_session(&a.name);
            let csrf = cred.csrf.clone();
            let a2 = a.clone();
            with_store(&st, move |s| {
                // Each login also clears credentials that have run out.
                s.purge_credentials(now_ms())?;
                s.put_credential(&cred)?;
                audit(s, &a2.name, "login", &a2.name, "");
                Ok(())
            })
            .await?;
            let cookie = session_cookie(&st, &secret, auth::SESSION_MS / 1000);
            let me = Principal {
                name: a.name,
                role: a.role,
                district: a.district,
                csrf: Some(csrf),
            };
            Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
        }
        _ => {
            let locked = st.limiter.failed(&keys, now_ms());
            let addr_text = addr.map(|a| a.to_string()).unwrap_or_default();
            with_store(&st, move |s| {
                audit(s, &who, "login.failed", "", &addr_text);
                if locked {
                    audit(s, &who, "login.locked", "", &addr_text);
                }
                Ok(())
            })
            .await?;
            Err(unauthorized("wrong name or password"))
        }
    }
}

/// End the session.
#[utoipa::path(post, path = "/api/logout", tag = "accounts",
    responses((status = 200, description = "the session is deleted; the cookie cleared", body = OkBody), E401, E403))]
pub async fn logout(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = authenticate(&st, &headers, &method).await?;
    if let Some(secret) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        let hash = auth::secret_hash(secret);
        with_store(&st, move |s| {
            s.delete_credential(&hash)?;
            audit(s, &p.name, "logout", &p.name, "");
            Ok(())
        })
        .await?;
    }
    let clear = session_cookie(&st, "", 0);
    Ok(([(header::SET_COOKIE, clear)], Json(OkBody { ok: true })).into_response())
}

/// Who is logged in: name, role, district, CSRF token.
#[utoipa::path(get, path = "/api/me", tag = "accounts",
    responses((status = 200, description = "the caller", body = Principal), E401))]
pub async fn me(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Principal> {
    Ok(Json(authenticate(&st, &headers, &method).await?))
}

#[derive(Serialize, ToSchema)]
pub struct UsersBody {
    pub users: Vec<AccountView>,
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub user: AccountView,
}

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    name: String,
    #[schema(min_length = 10)]
    password: String,
    /// admin, operator or viewer.
    role: String,
    /// Required for operators.
    district: Option<String>,
}

/// Accounts (administrators only).
#[utoipa::path(get, path = "/api/users", tag = "accounts",
    responses((status = 200, description = "accounts", body = UsersBody), E401, E403))]
pub async fn users(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<UsersBody> {
    authenticate(&st, &headers, &method)
        .await?
        .require_admin()?;
    let list = with_store(&st, |s| Ok(s.accounts()?)).await?;
    let users = list.iter().map(|a| AccountView::new(&st, a)).collect();
    Ok(Json(UsersBody { users }))
}

async fn hash_off_lock(password: String) -> Result<String, ApiError> {
    auth::check_password(&password).map_err(bad)?;
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(internal)
}

/// Create or update an account (administrators only); audited. A changed password ends
/// the account's sessions.
#[utoipa::path(post, path = "/api/users", tag = "accounts", request_body = NewUser,
    responses((status = 200, description = "the account", body = UserBody), E400, E401, E403))]
pub async fn create_user(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(u): ApiJson<NewUser>,
) -> ApiResult<UserBody> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    let role: Role = u.role.parse().map_err(|e| bad(format!("role: {e}")))?;
    let hash = hash_off_lock(u.password).await?;
    let account = Account {
        name: u.name,
        role,
        district: u.district.filter(|d| !d.trim().is_empty()),
        password_hash: hash,
        disabled: false,
        created_at_ms: now_ms(),
    };
    let a = with_store(&st, move |s| {
        let existed = s.account(&account.name)?.is_some();
        s.put_account(&account)?;
        if existed {
            // The old password may be known to someone: its sessions end with it.
            s.revoke_credentials(&account.name, Some(CredentialKind::Session))?;
        }
        let district = account
            .district
            .as_deref()
            .map(|d| format!(", district {d}"))
            .unwrap_or_default();
        let detail = format!("role {}{district}", account.role);
        let action = if existed {
            "user.update"
        } else {
            "user.create"
        };
        audit(s, &p.name, action, &account.name, &detail);
        Ok(account)
    })
    .await?;
    Ok(Json(UserBody {
        user: AccountView::new(&st, &a),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    pub ok: bool,
    /// Sessions of the account that ended.
    pub sessions_ended: usize,
    /// For one's own change: the CSRF token of the new session (its cookie is set).
    pub csrf: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The new password (at least 10 characters).
    #[schema(min_length = 10)]
    password: String,
    /// Required when changing one's own password (administrators changing another's: not).
    current_password: Option<String>,
}

/// Change an account's password: its own (with the current password) or, for an
/// administrator, anyone's. Every session of the account ends; the caller's own gets a new
/// cookie. Audited.
#[utoipa::path(post, path = "/api/users/{name}/password", tag = "accounts", request_body = PasswordChange,
    params(("name" = String, Path, description = "account name")),
    responses((status = 200, description = "changed; sessions revoked", body = PasswordChanged), E400, E401, E403, E404, E429))]
pub async fn change_password(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    PeerAddr(addr): PeerAddr,
    Path(name): Path<String>,
    ApiJson(c): ApiJson<PasswordChange>,
) -> Result<Response, ApiError> {
    let p = authenticate(&st, &headers, &method).await?;
    let own = p.name == name;
    if !own && p.role != Role::Admin {
        return Err(forbidden(
            "only an administrator may change another account's password",
        ));
    }
    let n2 = name.clone();
    let mut account = with_store(&st, move |s| Ok(s.account(&n2)?))
        .await?
        .ok_or_else(|| not_found(format!("no account '{name}'")))?;
    if own {
        // Someone holding a stolen session must not lock the owner out: ask for the
        // current password, under the same limits as a login.
        let keys = limiter::keys(&clean_name(&name), addr);
        if let Some(wait) = st.limiter.blocked(&keys, now_ms()) {
            return Err(too_many(
                format!("too many failed attempts; try again in {wait} s"),
                wait,
            ));
        }
        let current = c.current_password.clone().unwrap_or_default();
        if !verify_off_lock(&st, current, account.password_hash.clone()).await? {
            st.limiter.failed(&keys, now_ms());
            return Err(forbidden("current_password: wrong password"));
        }
    }
    account.password_hash = hash_off_lock(c.password).await?;
    let who = p.name.clone();
    let session = own.then(|| auth::new_session(&account.name));
    let fresh = session.as_ref().map(|(cred, _)| cred.clone());
    let revoked = with_store(&st, move |s| {
        s.put_account(&account)?;
        let n = s.revoke_credentials(&account.name, Some(CredentialKind::Session))?;
        if let Some(cred) = &fresh {
            s.put_credential(cred)?;
        }
        audit(
            s,
            &who,
            "user.password",
            &account.name,
            &format!("{n} sessions ended"),
        );
        Ok(n)
    })
    .await?;
    tracing::info!(account = %name, sessions_revoked = revoked, "password changed");
    let body = Json(PasswordChanged {
        ok: true,
        sessions_ended: revoked,
        csrf: session.as_ref().map(|(cred, _)| cred.csrf.clone()),
    });
    Ok(match session {
        Some((_, secret)) => {
            let cookie = session_cookie(&st, &secret, auth::SESSION_MS / 1000);
            ([(header::SET_COOKIE, cookie)], body).into_response()
        }
        None => body.into_response(),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    account: String,
    #[serde(default)]
    label: String,
    /// Days until the token expires (1–3650); default: the server's (90 days unless
    /// configured).
    expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    /// The secret, shown only this once.
    pub token: String,
    /// The token's public id: shown in lists, used to revoke it.
    pub public_id: String,
    pub account: String,
    pub expires_at_ms: i64,
    pub expires_at: String,
}

/// Create an API token for an account (administrators only); audited.
#[utoipa::path(post, path = "/api/tokens", tag = "accounts", request_body = NewToken,
    responses((status = 200, description = "the token: its secret is returned once", body = TokenCreated), E400, E401, E403, E404))]
pub async fn create_token(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(t): ApiJson<NewToken>,
) -> ApiResult<TokenCreated> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    let days = t.expires_in_days.unwrap_or(st.config.token_days);
    if !(1..=3650).contains(&days) {
        return Err(bad(format!("expires_in_days: {days} is not within 1–3650")));
    }
    if t.label.chars().count() > 200 {
        return Err(bad("label: at most 200 characters"));
    }
    let (cred, secret) = auth::new_token(&t.account, &t.label, days);
    let public_id = cred.public_id().to_string();
    let expires_at_ms = cred.expires_at_ms.unwrap_or(i64::MAX);
    let account = t.account.clone();
    with_store(&st, move |s| {
        if s.account(&t.account)?.is_none() {
            return Err(not_found(format!("no account '{}'", t.account)));
        }
        s.put_credential(&cred)?;
        let detail = format!("{} ({}, {days} days)", t.label, cred.public_id());
        audit(s, &p.name, "token.create", &t.account, &detail);
        Ok(())
    })
    .await?;
    Ok(Json(TokenCreated {
        token: secret,
        public_id,
        account,
        expires_at_ms,
        expires_at: st.zone.rfc3339_ms(expires_at_ms),
    }))
}

/// A session or token as lists show it: never its secret.
#[derive(Serialize, ToSchema)]
pub struct CredentialView {
    pub public_id: String,
    /// session or token.
    pub kind: String,
    pub label: String,
    pub created_at_ms: i64,
    pub created_at: String,
    pub expires_at_ms: Option<i64>,
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CredentialsBody {
    pub account: String,
    pub credentials: Vec<CredentialView>,
}

fn credential_view(st: &ApiState, c: &Credential) -> CredentialView {
    CredentialView {
        public_id: c.public_id().to_string(),
        kind: c.kind.as_str().to_string(),
        label: c.label.clone(),
        created_at_ms: c.created_at_ms,
        created_at: st.zone.rfc3339_ms(c.created_at_ms),
        expires_at_ms: c.expires_at_ms,
        expires_at: c.expires_at_ms.map(|t| st.zone.rfc3339_ms(t)),
    }
}

/// An account's live sessions and tokens, newest first (administrators, or the account
/// itself).
#[utoipa::path(get, path = "/api/users/{name}/credentials", tag = "accounts",
    params(("name" = String, Path, description = "account name")),
    responses((status = 200, description = "sessions and tokens by public id", body = CredentialsBody), E401, E403, E404))]
pub async fn credentials(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<CredentialsBody> {
    let p = authenticate(&st, &headers, &method).await?;
    if p.name != name {
        p.require_admin()?;
    }
    let n2 = name.clone();
    let list = with_store(&st, move |s| {
        if s.account(&n2)?.is_none() {
            return Err(not_found(format!("no account '{n2}'")));
        }
        Ok(s.credentials_of(&n2)?)
    })
    .await?;
    let now = now_ms();
    let credentials = list
        .iter()
        .filter(|c| c.expires_at_ms.is_none_or(|t| t > now))
        .map(|c| credential_view(&st, c))
        .collect();
    Ok(Json(CredentialsBody {
        account: name,
        credentials,
    }))
}

/// Revoke one session or token of an account by its public id (administrators, or the
/// account itself); audited.
#[utoipa::path(delete, path = "/api/users/{name}/credentials/{public_id}", tag = "accounts",
    params(("name" = String, Path, description = "account name"),
        ("public_id" = String, Path, description = "the credential's public id (16 hex digits)")),
    responses((status = 200, description = "revoked", body = OkBody), E401, E403, E404))]
pub async fn revoke_credential(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path((name, public_id)): Path<(String, String)>,
) -> ApiResult<OkBody> {
    let p = authenticate(&st, &headers, &method).await?;
    if p.name != name {
        p.require_admin()?;
    }
    with_store(&st, move |s| {
        if !s.revoke_credential(&name, &public_id)? {
            return Err(not_found(format!(
                "account '{name}' has no credential '{public_id}'"
            )));
        }
        audit(s, &p.name, "credential.revoke", &name, &public_id);
        Ok(())
    })
    .await?;
    Ok(Json(OkBody { ok: true }))
}

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// At most this many entries (1–10000, default 200).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub at_ms: i64,
    /// RFC 3339 in the server's zone.
    pub at: String,
    pub who: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditBody {
    pub audit: Vec<AuditView>,
}

/// The audit log, newest first (administrators only).
#[utoipa::path(get, path = "/api/audit", tag = "accounts", params(AuditQuery),
    responses((status = 200, description = "audit entries", body = AuditBody), E400, E401, E403))]
pub async fn audit_log(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<AuditBody> {
    authenticate(&st, &headers, &method)
        .await?
        .require_admin()?;
    let limit = q.limit.unwrap_or(200).clamp(1, 10_000);
    let log = with_store(&st, move |s| Ok(s.audit_log(limit)?)).await?;
    let audit = log
        .into_iter()
        .map(|e| AuditView {
            at: st.zone.rfc3339_ms(e.at_ms),
            at_ms: e.at_ms,
            who: e.who,
            action: e.action,
            target: e.target,
            detail: e.detail,
        })
        .collect();
    Ok(Json(AuditBody { audit }))
}
