//! `Json<T>`: the request-body extractor every handler uses instead of axum's, so that each way a body
//! can be wrong gets its own problem answer: 415 without a JSON content type, 413 over the size limit,
//! 400 for malformed JSON, 422 naming the field for a wrong type, a missing field or an unknown field
//! (request types use `#[serde(deny_unknown_fields)]`). As a response it is axum's `Json`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::PlatformCode;
use crate::error::{ApiError, FieldError};

#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(&req) {
            return Err(ApiError::new(
                PlatformCode::UnsupportedMediaType,
                "The request body must be JSON, sent with `Content-Type: application/json`.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| body_error(&rejection))?;
        parse(&bytes).map(Json)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn has_json_content_type(req: &Request) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Maps a failure to read the body: over the size limit, a client that stopped sending, or a broken stream.
fn body_error(rejection: &axum::extract::rejection::BytesRejection) -> ApiError {
    use std::error::Error as _;
    let mut source = rejection.source();
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return ApiError::new(
                PlatformCode::PayloadTooLarge,
                "The request body is larger than this endpoint accepts.",
            );
        }
        if err.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::new(PlatformCode::RequestTimeout, "The request body was not received in time.");
        }
        source = err.source();
    }
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(PlatformCode::PayloadTooLarge, "The request body is too large.");
    }
    ApiError::new(PlatformCode::UnreadableBody, "The request body could not be read.")
}

/// Parses a JSON document into `T`, naming the offending field on failure.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if has_escaped_nul(bytes) {
        return Err(nul_error(bytes));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(deserializer) {
        Ok(value) => Ok(value),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => Err(data_error(&path, &inner)),
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => Err(ApiError::new(
                    PlatformCode::MalformedJson,
                    format!("The request body is not valid JSON: {inner}."),
                )),
                serde_json::error::Category::Io => {
                    Err(ApiError::new(PlatformCode::UnreadableBody, "The request body could not be read."))
                }
            }
        }
    }
}

/// Whether a JSON text has a `\u0000` escape: PostgreSQL text cannot hold the NUL character, so such a
/// value is refused at the edge rather than failing in the database. (JSON forbids a raw NUL in strings.)
fn has_escaped_nul(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000".as_slice()) {
                return true;
            }
            i += 2; // skip the escaped character, so that `\\u0000` (a backslash, then text) is not a NUL
        } else {
            i += 1;
        }
    }
    false
}

/// Names the field that holds a NUL character.
fn nul_error(bytes: &[u8]) -> ApiError {
    fn find(value: &serde_json::Value, path: &str) -> Option<String> {
        match value {
            serde_json::Value::String(s) if s.contains('\0') => Some(path.to_owned()),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                if k.contains('\0') {
                    return Some(path.to_owned());
                }
                find(v, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") })
            }),
            serde_json::Value::Array(items) => {
                items.iter().enumerate().find_map(|(i, v)| find(v, &format!("{path}[{i}]")))
            }
            _ => None,
        }
    }
    let field = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| find(&v, ""))
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "body".to_owned());
    ApiError::validation(vec![FieldError::new(
        field,
        "invalid_character",
        "must not contain the NUL character (\\u0000)",
    )])
}

/// Turns serde's data error into a field error with a stable code.
fn data_error(path: &str, err: &serde_json::Error) -> ApiError {
    // serde's messages have stable shapes; the line/column suffix is noise for a field-level message.
    let message = err.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    // The path ends at the unknown key itself, but at the parent object for a missing one.
    let join = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let (field, code) = if let Some(name) = backticked_after(&message, "unknown field `") {
        (join(&name), "unknown_field")
    } else if let Some(name) = backticked_after(&message, "missing field `") {
        (join(&name), "required")
    } else if message.starts_with("invalid type") {
        (path.to_owned(), "invalid_type")
    } else {
        (path.to_owned(), "invalid_value")
    };
    let field = if field == "." || field.is_empty() { "body".to_owned() } else { field };
    ApiError::validation(vec![FieldError::new(field, code, message)])
}

fn backticked_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next().map(str::to_owned)
}

/// For `#[serde(default, deserialize_with = "platform::json::present")]` on an `Option<Option<T>>`:
/// tells a field that is absent (`None`: unchanged) from one that is `null` (`Some(None)`: cleared).
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        quantity: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Inner>,
    }

    fn field_of(err: &ApiError) -> (&str, &str) {
        let first = &err.field_errors()[0];
        (first.field.as_str(), first.code.as_str())
    }

    #[test]
    fn unknown_top_level_field_is_named() {
        let err = parse::<Body>(br#"{"name":"a","items":[],"admin":true}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_of(&err), ("admin", "unknown_field"));
    }

    #[test]
    fn nested_unknown_field_carries_its_path() {
        let err = parse::<Body>(br#"{"name":"a","items":[{"quantity":1,"price":2}]}"#).unwrap_err();
        assert_eq!(field_of(&err), ("items[0].price", "unknown_field"));
    }

    #[test]
    fn missing_field_is_required() {
        let err = parse::<Body>(br#"{"items":[]}"#).unwrap_err();
        assert_eq!(field_of(&err), ("name", "required"));
    }

    #[test]
    fn wrong_type_names_the_nested_field() {
        let err = parse::<Body>(br#"{"name":"a","items":[{"quantity":"many"}]}"#).unwrap_err();
        assert_eq!(field_of(&err), ("items[0].quantity", "invalid_type"));
    }

    #[test]
    fn malformed_json_is_a_400() {
        let err = parse::<Body>(br#"{"name": "#).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.code(), "malformed_json");
        let err = parse::<Body>(br#"{"name": "a",,}"#).unwrap_err();
        assert_eq!(err.code(), "malformed_json");
    }

    #[test]
    fn nul_characters_are_refused_with_their_field() {
        let err = parse::<Body>(br#"{"name":"a\u0000b","items":[]}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_of(&err), ("name", "invalid_character"));
        let err = parse::<serde_json::Value>(br#"{"items":[{"x":"\u0000"}]}"#).unwrap_err();
        assert_eq!(field_of(&err), ("items[0].x", "invalid_character"));
        // An escaped backslash followed by the text u0000 is no NUL.
        let ok = parse::<Body>(br#"{"name":"a\\u0000","items":[]}"#).unwrap();
        assert_eq!(ok.name, "a\\u0000");
    }

    #[test]
    fn valid_body_parses() {
        let body = parse::<Body>(br#"{"name":"a","items":[{"quantity":3}]}"#).unwrap();
        assert_eq!(body.items[0].quantity, 3);
    }
}
