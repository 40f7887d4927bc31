//! API errors: a status and a message, sent as `{"error": "…"}` (typed as [`ErrorBody`] in the
//! OpenAPI document).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, naming the field, file or value.
    pub error: String,
}

/// An API error: status, message and, for 429, the seconds to wait (`Retry-After`).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after_s: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response();
        if let Some(s) = self.retry_after_s {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}

impl From<rewater_store::StoreError> for ApiError {
    fn from(e: rewater_store::StoreError) -> Self {
        match e {
            rewater_store::StoreError::Invalid(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            other => {
                tracing::error!(error = %other, "store");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string())
            }
        }
    }
}

/// A handler's result: a typed JSON body or an error.
pub type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn bad(m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, m)
}

pub fn not_found(m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, m)
}

pub fn forbidden(m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, m)
}

pub fn unauthorized(m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, m)
}

pub fn internal(m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m)
}

pub fn too_many(m: impl Into<String>, retry_after_s: u64) -> ApiError {
    ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: m.into(),
        retry_after_s: Some(retry_after_s),
    }
}

/// Documented error answers (OpenAPI), one type per status.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 400,
    description = "bad input: the message names the field or value"
)]
pub struct E400(pub ErrorBody);

#[derive(utoipa::IntoResponses)]
#[response(
    status = 401,
    description = "no, an unknown, an expired or a revoked session or token"
)]
pub struct E401(pub ErrorBody);

#[derive(utoipa::IntoResponses)]
#[response(
    status = 403,
    description = "not permitted for this role or district, or a missing CSRF token"
)]
pub struct E403(pub ErrorBody);

#[derive(utoipa::IntoResponses)]
#[response(
    status = 404,
    description = "no such site, alert, account, model or run"
)]
pub struct E404(pub ErrorBody);

#[derive(utoipa::IntoResponses)]
#[response(
    status = 429,
    description = "too many attempts or runs: wait the seconds in Retry-After",
    headers(("retry-after" = u64, description = "seconds to wait"))
)]
pub struct E429(pub ErrorBody);

#[derive(utoipa::IntoResponses)]
#[response(
    status = 413,
    description = "the upload is larger than the route's limit"
)]
pub struct E413(pub ErrorBody);
