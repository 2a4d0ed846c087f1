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

/// Every `code` a field error (`errors[].code`) can carry, with its meaning. docs/api.md lists them from
/// here, and a test fails when the sources use a code that is not in this list, or the list holds one
/// that nothing uses. A card declined by Stripe carries Stripe's own decline code instead (see
/// docs/ledger.md).
pub const FIELD_CODES: &[(&str, &str)] = &[
    ("above_cap", "above the allowed maximum (a resale price above the event's cap)"),
    ("after_release_date", "an original release date after the release date"),
    ("all_caps", "a title written in capitals, which stores refuse"),
    ("before_first_response", "a resolution target shorter than the first-response target it follows"),
    ("before_from", "an end that is not after its start (`to` before `from`)"),
    ("before_start", "an end that is not after the start it belongs to"),
    (
        "below_minimum",
        "below the minimum the rules allow (a fee under the artist's category minimum, a withdrawal under the caller's minimum)",
    ),
    ("below_sold", "a quantity below what is sold or reserved already"),
    ("below_tiers", "a capacity below what the event's tiers offer"),
    ("bit_depth_too_low", "audio of fewer than 16 bits"),
    ("buyer_limit", "more than one buyer may hold of a tier"),
    ("channel_unavailable", "a notification channel this server cannot deliver (not configured)"),
    ("clipping", "audio with samples at digital full scale (a warning)"),
    ("corrupt_file", "a file that does not decode to its end"),
    ("duplicate", "a value listed twice where each may appear once (a skill)"),
    ("duplicate_tier", "the same tier twice in one order"),
    ("duplicate_title", "a track title that another track of the release has, with no version to tell them apart"),
    ("explicit_mismatch", "an explicit flag that contradicts the tracks' (a release is explicit when a track is)"),
    ("featuring_in_title", "a title naming a featured artist who is credited as one (\"feat.\")"),
    ("immutable", "a value that can no longer change"),
    ("in_the_future", "a time that must not lie in the future"),
    ("in_the_past", "a time that must lie in the future"),
    ("incorrect", "a secret that does not match (a wrong current password or code)"),
    ("invalid_address", "an address whose format or checksum is wrong (a Stellar account)"),
    ("invalid_character", "a character that is not allowed (such as NUL)"),
    ("invalid_cursor", "a cursor that no list returned"),
    ("invalid_format", "a value of the wrong shape (an email, a slug, a code, a currency)"),
    ("invalid_iban", "an IBAN whose format or check digits are wrong"),
    ("invalid_length", "a text or list whose length is outside the allowed range"),
    ("invalid_range", "a start and end that do not form a valid, future range"),
    ("invalid_tag", "a tag that is not lower-case letters, digits and dashes"),
    ("invalid_type", "a JSON value of the wrong type (a string for a number)"),
    ("invalid_url", "a URL that is not http(s) or not well formed"),
    ("invalid_value", "a value that is none of the allowed ones"),
    ("invalid_variable", "a template variable that the template does not know"),
    ("is_self", "yourself, where someone else is required"),
    ("locked", "a value that is fixed now (a currency once tickets sold)"),
    ("main_artist_missing", "a release with no main artist credited"),
    ("mixed_currencies", "a currency that differs from the others it must match"),
    ("must_sum_to_100", "parts that must add up to exactly 100 (the assignment weights)"),
    ("not_a_member", "someone who is not a member of the organization"),
    ("not_allowed", "a value the caller may not set"),
    ("not_an_agent", "someone who is not on the support team"),
    ("not_applicable", "a field that does not apply to the other values given"),
    ("not_approved", "a freelancer whom staff have not approved"),
    ("not_configured", "an option this server is not configured for (a payment provider)"),
    ("not_found", "an id that names nothing the caller can use"),
    ("not_on_sale", "a tier that is not on sale now"),
    ("not_rgb", "an image that is not in RGB colour (greyscale, CMYK, indexed, or with transparency)"),
    ("not_square", "an image whose width and height differ"),
    ("not_stereo", "audio that is not in two channels"),
    ("not_your_event", "an event that the given promoter does not organize"),
    ("not_yours", "a profile or object that the caller does not act for"),
    ("out_of_range", "a number outside the allowed range"),
    ("over_capacity", "more than the capacity allows"),
    ("required", "a field that must be given"),
    ("same_as_identity", "a password equal to the username or email"),
    ("sample_rate_too_low", "audio sampled below 44.1 kHz"),
    ("staff_only", "a field only staff may set"),
    ("sum_not_whole", "shares that do not sum to the whole (10,000 basis points)"),
    ("taken", "a unique value that is in use already"),
    ("too_common", "a password found in the list of common passwords"),
    ("too_few", "fewer entries than required"),
    ("too_large", "a value or file larger than allowed"),
    ("too_long", "a text longer than allowed"),
    ("too_many", "more entries than allowed"),
    ("too_short", "a text shorter than required"),
    ("too_small", "an image smaller than required (cover art: 3000 × 3000 pixels)"),
    ("track_count", "more or fewer tracks (or minutes) than the release type allows"),
    ("true_peak_over", "audio whose true peak is above -1 dBTP (a warning)"),
    ("unbalanced", "postings that do not sum to zero in each currency"),
    ("unconfirmed", "a step of a brief that the client has not confirmed"),
    ("unknown_account", "an account that the payment provider does not know"),
    ("unknown_artist", "an id that names no artist profile"),
    ("unknown_category", "a category slug that does not exist"),
    ("unknown_code", "an attribution code that does not exist for the event"),
    ("unknown_event_kind", "an event kind that webhooks cannot subscribe to"),
    ("unknown_field", "a field the request type does not have"),
    ("unknown_permission", "a permission that is not in the catalog"),
    ("unknown_persona", "a persona that is not fan, creator or sponsor"),
    ("unknown_placeholder", "a placeholder (`{{name}}`) that a canned reply cannot fill"),
    ("unknown_promoter", "an id that names no promoter profile"),
    ("unknown_recipient", "a recipient that is no active user or organization"),
    ("unknown_role", "a role that is neither built in nor a permission template"),
    ("unknown_scope", "an API-key scope that is not in the catalog"),
    ("unknown_test_card", "a card number the sandbox does not know"),
    ("unknown_tier", "an id that names no tier of the event"),
    ("unknown_timezone", "a time zone that is not in the IANA database"),
    ("unknown_user", "an id or email that names no active user"),
    ("unknown_venue", "an id that names no venue profile"),
    ("unsupported_format", "a file of a format that is not accepted here"),
    ("unverified", "a payout method that is not verified yet"),
    ("zero_amount", "an amount of zero where something must move"),
];

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

/// A problem code of the one catalogue: the stable `code` a response carries, its HTTP status, and a
/// one-line meaning. Each domain declares its codes with [`codes!`]; the binary gathers them all
/// (`backline::error_catalogue`), and docs/api.md lists them from there.
pub trait Code: Copy + std::fmt::Debug + Send + Sync + 'static {
    fn status(self) -> StatusCode;
    fn code(self) -> &'static str;
    fn meaning(self) -> &'static str;
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The domain that declares the code.
    pub domain: &'static str,
    pub status: StatusCode,
    pub code: &'static str,
    pub meaning: &'static str,
}

#[doc(hidden)]
pub use axum::http::StatusCode as __StatusCode;

/// Declares a domain's problem codes: `Variant = (STATUS, "code", "meaning"),` for each, where `STATUS`
/// names an `http::StatusCode` constant.
#[macro_export]
macro_rules! codes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident in $domain:literal {
            $( $(#[$vmeta:meta])* $variant:ident = ($status:ident, $code:literal, $meaning:literal), )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// This domain's part of the catalogue.
            pub fn catalogue() -> ::std::vec::Vec<$crate::error::CodeInfo> {
                Self::ALL
                    .iter()
                    .map(|&c| $crate::error::CodeInfo {
                        domain: $domain,
                        status: $crate::error::Code::status(c),
                        code: $crate::error::Code::code(c),
                        meaning: $crate::error::Code::meaning(c),
                    })
                    .collect()
            }
        }

        impl $crate::error::Code for $name {
            fn status(self) -> $crate::error::__StatusCode {
                match self { $(Self::$variant => $crate::error::__StatusCode::$status,)* }
            }
            fn code(self) -> &'static str {
                match self { $(Self::$variant => $code,)* }
            }
            fn meaning(self) -> &'static str {
                match self { $(Self::$variant => $meaning,)* }
            }
        }
    };
}

codes! {
    /// Codes every route may answer: the HTTP edge, validation, idempotency, the database, lifecycles.
    pub enum PlatformCode in "platform" {
        BadRequest = (BAD_REQUEST, "bad_request", "a path or query parameter cannot be parsed"),
        MalformedJson = (BAD_REQUEST, "malformed_json", "the body is not valid JSON"),
        UnreadableBody = (BAD_REQUEST, "unreadable_body", "the body could not be read"),
        InvalidCharacter = (BAD_REQUEST, "invalid_character", "the path or query contains the NUL character (`%00`)"),
        InvalidIdempotencyKey = (BAD_REQUEST, "invalid_idempotency_key", "`Idempotency-Key` is not 1–255 visible characters"),
        Unauthorized = (UNAUTHORIZED, "unauthorized", "credentials are needed (a bare 401 from the HTTP layer)"),
        Forbidden = (FORBIDDEN, "forbidden", "the caller may not do this"),
        NotFound = (NOT_FOUND, "not_found", "the object does not exist, or the caller may not see it"),
        RouteNotFound = (NOT_FOUND, "route_not_found", "no route has this path"),
        MethodNotAllowed = (METHOD_NOT_ALLOWED, "method_not_allowed", "the path exists but not with this method; `Allow` lists the methods"),
        NotAcceptable = (NOT_ACCEPTABLE, "not_acceptable", "no representation the client accepts"),
        RequestTimeout = (REQUEST_TIMEOUT, "request_timeout", "the client took too long to send its body"),
        Conflict = (CONFLICT, "conflict", "the request conflicts with the current state (a bare 409 from the HTTP layer)"),
        AlreadyExists = (CONFLICT, "already_exists", "a record with the same unique value exists; `detail` says which"),
        ReferenceConflict = (CONFLICT, "reference_conflict", "the change conflicts with a related record"),
        OverlapConflict = (CONFLICT, "overlap_conflict", "the change overlaps an existing record"),
        InvalidTransition = (CONFLICT, "invalid_transition", "the object's lifecycle has no such step from its current state"),
        IdempotencyKeyInUse = (CONFLICT, "idempotency_key_in_use", "a request with this `Idempotency-Key` that calls a payment provider is still running; `Retry-After`"),
        TransitionNotPermitted = (FORBIDDEN, "transition_not_permitted", "the step exists, but not for the caller's side"),
        PayloadTooLarge = (PAYLOAD_TOO_LARGE, "payload_too_large", "the body is larger than the limit (1 MiB by default)"),
        UnsupportedMediaType = (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "a body was sent without `Content-Type: application/json`"),
        UnprocessableEntity = (UNPROCESSABLE_ENTITY, "unprocessable_entity", "the request is well-formed but cannot be processed (a bare 422 from the HTTP layer)"),
        ValidationFailed = (UNPROCESSABLE_ENTITY, "validation_failed", "a field is missing, unknown, of the wrong type or out of range; see `errors`"),
        ConstraintViolated = (UNPROCESSABLE_ENTITY, "constraint_violated", "the values break a rule of the data model"),
        IdempotencyKeyReused = (UNPROCESSABLE_ENTITY, "idempotency_key_reused", "the `Idempotency-Key` was used with a different request"),
        RateLimited = (TOO_MANY_REQUESTS, "rate_limited", "too many requests; see `Retry-After`"),
        InternalError = (INTERNAL_SERVER_ERROR, "internal_error", "a fault on our side; the cause is logged with the request id and never shown"),
        ServiceUnavailable = (SERVICE_UNAVAILABLE, "service_unavailable", "the service cannot answer now; retry (a bare 503 from the HTTP layer)"),
        ProcessingTimeout = (SERVICE_UNAVAILABLE, "request_timeout", "the request took longer than the processing limit (30 s by default); `Retry-After`"),
        DatabaseUnavailable = (SERVICE_UNAVAILABLE, "database_unavailable", "the database is unavailable; retry shortly (`Retry-After`)"),
        DatabaseUnreachable = (SERVICE_UNAVAILABLE, "database_unreachable", "`/readyz`: the database cannot be reached"),
        MigrationsPending = (SERVICE_UNAVAILABLE, "migrations_pending", "`/readyz`: migrations are not applied yet"),
        StorageUnavailable = (SERVICE_UNAVAILABLE, "storage_unavailable", "the file store cannot take or give files now; nothing was kept; retry (`Retry-After`)"),
        TransactionConflict = (SERVICE_UNAVAILABLE, "transaction_conflict", "the request conflicted with a concurrent one; retry it (`Retry-After`)"),
        GatewayTimeout = (GATEWAY_TIMEOUT, "timeout", "an upstream did not answer in time"),
    }
}

/// How a domain answers a violation of one of its named constraints: the code, the `detail`, and the
/// field it concerns (an `errors` entry with code `taken`), if any. Each domain keeps one table of them.
#[derive(Debug, Clone, Copy)]
pub struct ConstraintAnswer<C: Code> {
    pub constraint: &'static str,
    pub code: C,
    pub detail: &'static str,
    pub field: Option<(&'static str, &'static str)>,
}

/// Reads a database error with a domain's constraint table: a violation of a constraint in the table
/// gets its answer, anything else the platform's generic one.
pub fn from_db<C: Code>(err: sqlx::Error, table: &[ConstraintAnswer<C>]) -> ApiError {
    let constraint = err.as_database_error().and_then(|e| e.constraint());
    match table.iter().find(|a| Some(a.constraint) == constraint) {
        Some(answer) => {
            let api = ApiError::new(answer.code, answer.detail);
            match answer.field {
                Some((field, message)) => api.with_errors(vec![FieldError::new(field, "taken", message)]),
                None => api,
            }
        }
        None => err.into(),
    }
}

/// An error answer. Build it with the constructors; never put internals in `detail`.
///
/// Boxed, so that `Result<T, ApiError>` stays one pointer wide on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<Problem>);

#[derive(Debug)]
struct Problem {
    status: StatusCode,
    code: &'static str,
    detail: Cow<'static, str>,
    errors: Vec<FieldError>,
    headers: HeaderMap,
    /// The underlying cause of a server error: logged, never sent.
    cause: Option<anyhow::Error>,
}

impl ApiError {
    /// The answer `code` of the catalogue, with its status; a 503 also says when to retry.
    pub fn new(code: impl Code, detail: impl Into<Cow<'static, str>>) -> Self {
        let mut headers = HeaderMap::new();
        if code.status() == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        Self(Box::new(Problem {
            status: code.status(),
            code: code.code(),
            detail: detail.into(),
            errors: Vec::new(),
            headers,
            cause: None,
        }))
    }

    pub fn not_found(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(PlatformCode::NotFound, detail)
    }

    /// The answer for a bare HTTP status (an extractor's rejection, a layer's response) with no
    /// more specific code.
    pub fn for_status(status: StatusCode, detail: impl Into<Cow<'static, str>>) -> Self {
        let code = match status {
            StatusCode::BAD_REQUEST => PlatformCode::BadRequest,
            StatusCode::UNAUTHORIZED => PlatformCode::Unauthorized,
            StatusCode::FORBIDDEN => PlatformCode::Forbidden,
            StatusCode::NOT_FOUND => PlatformCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => PlatformCode::MethodNotAllowed,
            StatusCode::NOT_ACCEPTABLE => PlatformCode::NotAcceptable,
            StatusCode::REQUEST_TIMEOUT => PlatformCode::RequestTimeout,
            StatusCode::CONFLICT => PlatformCode::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => PlatformCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => PlatformCode::UnsupportedMediaType,
            StatusCode::TOO_MANY_REQUESTS => PlatformCode::RateLimited,
            StatusCode::SERVICE_UNAVAILABLE => PlatformCode::ServiceUnavailable,
            StatusCode::GATEWAY_TIMEOUT => PlatformCode::GatewayTimeout,
            s if s.is_client_error() => PlatformCode::UnprocessableEntity,
            _ => PlatformCode::InternalError,
        };
        let mut err = Self::new(code, detail);
        // The status is the one the layer chose, even where the catalogue's code is a neighbour's.
        err.0.status = status;
        err
    }

    /// 422 with one entry per invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut err = Self::new(PlatformCode::ValidationFailed, detail);
        err.0.errors = errors;
        err
    }

    /// 422 for a single field.
    pub fn invalid_field(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    /// 500 with a cause that is logged and never shown.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let mut err = Self::new(
            PlatformCode::InternalError,
            "The server failed to answer this request. It has been logged with the request id.",
        );
        err.0.cause = Some(cause.into());
        err
    }

    /// The underlying cause of a server error, logged with it and never sent.
    pub fn with_cause(mut self, cause: impl Into<anyhow::Error>) -> Self {
        self.0.cause = Some(cause.into());
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.insert(name, value);
        self
    }

    /// A header the answer carries (a pending payment's `Location`, say).
    pub fn header(&self, name: HeaderName) -> Option<&HeaderValue> {
        self.0.headers.get(name)
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.0.errors = errors;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The same answer again, for another request that the same failure stopped (the requests of a
    /// batch, say): status, code, detail, field errors and headers, and the cause as its message.
    pub fn copied(&self) -> Self {
        Self(Box::new(Problem {
            status: self.0.status,
            code: self.0.code,
            detail: self.0.detail.clone(),
            errors: self.0.errors.clone(),
            headers: self.0.headers.clone(),
            cause: self.0.cause.as_ref().map(|cause| anyhow::anyhow!("{cause:#}")),
        }))
    }

    pub fn code(&self) -> &'static str {
        self.0.code
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
            code: self.0.code.to_owned(),
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
            // One line per failure, the cause's chain of messages in it: an outage must not flood the log.
            // The backtrace (when one was captured) only at debug level.
            match &self.0.cause {
                Some(cause) => {
                    tracing::error!(code = %self.0.code, cause = %format_args!("{cause:#}"), "request failed");
                    tracing::debug!(code = %self.0.code, backtrace = %cause.backtrace(), "request failed: backtrace");
                }
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
                let mut api =
                    Self::new(PlatformCode::DatabaseUnavailable, "The database is unavailable; retry shortly.");
                api.0.cause = Some(err.into());
                api
            }
            sqlx::Error::Database(db) if server_unavailable(db.code().as_deref()) => {
                let mut api =
                    Self::new(PlatformCode::DatabaseUnavailable, "The database is unavailable; retry shortly.");
                api.0.cause = Some(err.into());
                api
            }
            sqlx::Error::Database(db) => {
                let constraint = db.constraint().unwrap_or("unnamed").to_owned();
                match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation => Self::new(
                        PlatformCode::AlreadyExists,
                        format!("A record with the same unique value exists ({constraint})."),
                    ),
                    sqlx::error::ErrorKind::ForeignKeyViolation => Self::new(
                        PlatformCode::ReferenceConflict,
                        format!("The change conflicts with a related record ({constraint})."),
                    ),
                    sqlx::error::ErrorKind::CheckViolation => Self::new(
                        PlatformCode::ConstraintViolated,
                        format!("The values break a rule of the data model ({constraint})."),
                    ),
                    _ if db.code().as_deref() == Some("23P01") => Self::new(
                        PlatformCode::OverlapConflict,
                        format!("The change overlaps an existing record ({constraint})."),
                    ),
                    _ if db.code().as_deref() == Some("40001") || db.code().as_deref() == Some("40P01") => Self::new(
                        PlatformCode::TransactionConflict,
                        "The request conflicted with a concurrent one; retry it.",
                    ),
                    _ => Self::internal(err),
                }
            }
            _ => Self::internal(err),
        }
    }
}

/// Whether a database error's SQLSTATE says the server went away or is not taking work, rather than
/// that the request was wrong: a connection exception (class 08), a shutdown or restart cutting the
/// session off (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now: starting up or
/// shutting down), or too many connections (53300). Such a request is answered 503 and may be retried.
pub fn server_unavailable(sqlstate: Option<&str>) -> bool {
    sqlstate.is_some_and(|code| code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300"))
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        Self::internal(err)
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

    /// A writer that keeps what the log subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_request_logs_one_line_with_its_causes() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let cause = anyhow::anyhow!("connection refused").context("reading the order").context("paying");
            let _ = ApiError::internal(cause).into_response();
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("paying: reading the order: connection refused"), "{text}");
        assert!(!text.contains("backtrace"), "{text}");
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
    fn a_server_going_away_is_a_retryable_503_and_a_wrong_request_is_not() {
        for code in ["57P01", "57P02", "57P03", "08006", "08001", "53300"] {
            assert!(server_unavailable(Some(code)), "{code}");
        }
        for code in ["23505", "40001", "42501", "57014", "57P04", "53100", "22P02"] {
            assert!(!server_unavailable(Some(code)), "{code}");
        }
        assert!(!server_unavailable(None));
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
