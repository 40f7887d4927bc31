//! The pages (with the `web` feature: the files of `rewater-web`; without it, a JSON note
//! that this build serves no pages), the answer for unknown API routes, and the security
//! headers every response carries.

use crate::error::ErrorBody;
use crate::ApiState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The first words of the answer to a route that does not exist (tests tell it from a
/// resource that does not exist).
pub const NO_ROUTE: &str = "no such API route";

/// Everything the router has no route for: unknown API paths get a JSON 404 naming the
/// request; other GETs are pages.
pub async fn fallback(State(st): State<ApiState>, method: Method, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/api/") || path == "/api" {
        let error = format!("{NO_ROUTE}: {method} {path}; see /api/openapi.json");
        return (StatusCode::NOT_FOUND, Json(ErrorBody { error })).into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        let error = format!("{method} {path}: pages are read with GET");
        return (StatusCode::METHOD_NOT_ALLOWED, Json(ErrorBody { error })).into_response();
    }
    page(&st, &path)
}

#[cfg(feature = "web")]
fn page(st: &ApiState, path: &str) -> Response {
    let path = if path == "/" { "index.html" } else { path };
    match rewater_web::asset(path) {
        Some((bytes, mime)) => Response::builder()
            .header(axum::http::header::CONTENT_TYPE, mime)
            .header(axum::http::header::CACHE_CONTROL, "no-cache")
            .header("content-security-policy", page_csp(st))
            .body(axum::body::Body::from(bytes))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

#[cfg(not(feature = "web"))]
fn page(_st: &ApiState, path: &str) -> Response {
    let error = format!(
        "{path}: this server was built without the web pages (cargo feature `web` of rewater-api); the API is under /api/"
    );
    (StatusCode::NOT_FOUND, Json(ErrorBody { error })).into_response()
}

/// The pages' Content-Security-Policy: scripts and styles from the server itself; images
/// also from the tile server, only if one is configured.
#[cfg_attr(not(feature = "web"), allow(dead_code))]
fn page_csp(st: &ApiState) -> String {
    let tiles = st
        .platform
        .tile_url
        .as_deref()
        .and_then(tile_origin)
        .map(|o| format!(" {}", wildcard_placeholders(o)))
        .unwrap_or_default();
    format!(
        "default-src 'self'; img-src 'self' data:{tiles}; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// The scheme and host of a tile URL template, for the Content-Security-Policy.
fn tile_origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    let ok = matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '{' | '}'));
    ok.then(|| &url[..scheme.len() + 3 + host.len()])
}

/// `{s}.tiles.example` → `*.tiles.example` (a CSP host wildcard).
fn wildcard_placeholders(origin: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in origin.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push('*');
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Security headers on every response: no MIME sniffing, no framing, no referrer; API
/// answers are never cached and may load nothing; pages keep their own CSP.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api");
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    if api {
        set(h, "cache-control", "no-store");
        // A printable report (HTML under /api/exports) keeps its own policy, which still
        // starts from nothing allowed (it adds inline styles only).
        let own = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("default-src 'none'"));
        if !own {
            set(
                h,
                "content-security-policy",
                "default-src 'none'; frame-ancestors 'none'",
            );
        }
    } else if !h.contains_key("content-security-policy") {
        set(
            h,
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'",
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::{tile_origin, wildcard_placeholders};

    #[test]
    fn tile_origins_for_the_content_security_policy() {
        assert_eq!(
            tile_origin("https://{s}.tiles.example:8443/{z}/{x}/{y}.png"),
            Some("https://{s}.tiles.example:8443")
        );
        assert_eq!(
            tile_origin("http://10.1.2.3/t/{z}/{x}/{y}"),
            Some("http://10.1.2.3")
        );
        assert_eq!(tile_origin("javascript:alert(1)"), None);
        assert_eq!(tile_origin("https://evil.example'; script-src *"), None);
        assert_eq!(tile_origin("ftp://x/{z}"), None);
        assert_eq!(
            wildcard_placeholders("https://{s}.tiles.example:8443"),
            "https://*.tiles.example:8443"
        );
    }
}
