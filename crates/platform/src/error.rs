//! The one error type every HTTP handler returns, rendered as RFC 9457 `application/problem+json`.
//!
//! Every problem carries a stable snake_case `code` that clients can match on, a human `detail`, the
//! request id, and for validation failures a list of `{field, code, message}`. A 5xx never shows its cause
//! to the caller: the cause is logged with the request id instead.

use std::borrow::Cow;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

pub type ApiResult<T> = Result<T, ApiError>;

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, such as `email` or `items[0].quantity`.
    pub field: String,
    /// Stable machine-readable reason, such as `required`, `too_short`, `invalid_format`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.into(), message: message.into() }
    }
}

/// The RFC 9457 body, as documented in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody {
    /// `urn:backline:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable error code (snake_case).
    pub code: String,
    /// The id of the request, as in the `X-Request-Id` response header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Per-field problems, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error answer. Build it with the constructors; never put internals in `detail`.
///
/// Boxed, so that `Result<T, ApiError>` stays one pointer wide on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<Problem>);

#[derive(Debug)]
struct Problem {
    status: StatusCode,
    code: Cow<'static, str>,
    detail: Cow<'static, str>,
    errors: Vec<FieldError>,
    headers: HeaderMap,
    /// The underlying cause of a server error: logged, never sent.
    cause: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self(Box::new(Problem {
            status,
            code: code.into(),
            detail: detail.into(),
            errors: Vec::new(),
            headers: HeaderMap::new(),
            cause: None,
        }))
    }

    pub fn bad_request(code: impl Into<Cow<'static, str>>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn conflict(code: impl Into<Cow<'static, str>>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unauthorized(code: impl Into<Cow<'static, str>>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn forbidden(code: impl Into<Cow<'static, str>>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }

    /// 422 with one entry per invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut err = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail);
        err.0.errors = errors;
        err
    }

    /// 422 for a single field.
    pub fn invalid_field(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    /// 503: a dependency (usually the database) is unavailable; the caller may retry.
    pub fn unavailable(code: impl Into<Cow<'static, str>>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
    }

    /// 500 with a cause that is logged and never shown.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let mut err = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "The server failed to answer this request. It has been logged with the request id.",
        );
        err.0.cause = Some(cause.into());
        err
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.insert(name, value);
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.0.errors = errors;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn code(&self) -> &str {
        &self.0.code
    }

    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    pub fn field_errors(&self) -> &[FieldError] {
        &self.0.errors
    }

    /// The body this error renders to.
    pub fn body(&self) -> ProblemBody {
        ProblemBody {
            kind: format!("urn:backline:problem:{}", self.0.code),
            title: self.0.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.0.status.as_u16(),
            detail: self.0.detail.clone().into_owned(),
            code: self.0.code.clone().into_owned(),
            request_id: crate::http::current_request_id(),
            errors: self.0.errors.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.0.status.as_u16(), self.0.code, self.0.detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.0.status.is_server_error() {
            match &self.0.cause {
                Some(cause) => tracing::error!(code = %self.0.code, cause = ?cause, "request failed"),
                None => tracing::error!(code = %self.0.code, detail = %self.0.detail, "request failed"),
            }
        }
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (self.0.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response.headers_mut().extend(self.0.headers);
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Self::not_found("The requested resource does not exist."),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                let mut api = Self::unavailable("database_unavailable", "The database is unavailable; retry shortly.");
                api.0.cause = Some(err.into());
                api
            }
            sqlx::Error::Database(db) => {
                let constraint = db.constraint().unwrap_or("unnamed").to_owned();
                match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation => Self::conflict(
                        "already_exists",
                        format!("A record with the same unique value exists ({constraint})."),
                    ),
                    sqlx::error::ErrorKind::ForeignKeyViolation => Self::conflict(
                        "reference_conflict",
                        format!("The change conflicts with a related record ({constraint})."),
                    ),
                    sqlx::error::ErrorKind::CheckViolation => Self::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "constraint_violated",
                        format!("The values break a rule of the data model ({constraint})."),
                    ),
                    _ if db.code().as_deref() == Some("23P01") => Self::conflict(
                        "overlap_conflict",
                        format!("The change overlaps an existing record ({constraint})."),
                    ),
                    _ if db.code().as_deref() == Some("40001") || db.code().as_deref() == Some("40P01") => {
                        Self::unavailable(
                            "transaction_conflict",
                            "The request conflicted with a concurrent one; retry it.",
                        )
                    }
                    _ => Self::internal(err),
                }
            }
            _ => Self::internal(err),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        Self::internal(err)
    }
}

/// The snake_case code used for a bare HTTP status when nothing more specific is known.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable_entity",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        StatusCode::GATEWAY_TIMEOUT => "timeout",
        s if s.is_server_error() => "internal_error",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_detail_names_the_single_field() {
        let err = ApiError::invalid_field("email", "invalid_format", "is not an email address");
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.code(), "validation_failed");
        assert_eq!(err.detail(), "email: is not an email address");
        let body = serde_json::to_value(err.body()).unwrap();
        assert_eq!(body["errors"][0]["field"], "email");
        assert_eq!(body["type"], "urn:backline:problem:validation_failed");
        assert_eq!(body["title"], "Unprocessable Entity");
    }

    #[test]
    fn internal_error_never_shows_its_cause() {
        let err = ApiError::internal(anyhow::anyhow!("password=hunter2 connection refused"));
        let body = serde_json::to_string(&err.body()).unwrap();
        assert!(!body.contains("hunter2"), "{body}");
        assert!(!body.contains("refused"), "{body}");
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn pool_timeout_is_a_retryable_503() {
        let err = ApiError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.code(), "database_unavailable");
        let response = err.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
