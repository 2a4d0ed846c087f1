//! Files sent by a browser's form (`multipart/form-data`): the CSRF token first, then one file, whose
//! bytes are handed on as a stream (never held in memory) to the service that checks and keeps them.
//! Without JavaScript the form posts and the browser follows the answer's redirect; with it, `app.js`
//! sends the same form with a progress bar and asks (`X-Upload: progress`) for a bare answer:
//! `204` with the next page in `X-Location`, or the error's text.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::ApiError;

use crate::session::Session;

/// The longest the CSRF token's field may be (the token is 64 characters).
const MAX_TEXT: usize = 256;
/// The longest another text field before the file may be (a folder's path), and how many there may be.
const MAX_FIELD: usize = 1024;
const MAX_FIELDS: usize = 8;

/// A file form's file, not yet read.
pub struct FileForm {
    /// The name the browser gave the file.
    pub file_name: Option<String>,
    /// Its bytes, as they arrive.
    pub body: Body,
    /// Whether the page's script sent it (and wants a bare answer).
    pub scripted: bool,
    /// The form's text fields between the token and the file (a folder, a category), by name.
    pub fields: Vec<(String, String)>,
}

impl FileForm {
    /// A text field the form sent before its file, trimmed; empty when it sent none.
    pub fn field(&self, name: &str) -> &str {
        self.fields.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.trim())
    }
}

/// Why a file form was refused before its file was read.
pub enum Refused {
    /// The CSRF token was missing or wrong: 403 before anything is read.
    Forbidden,
    /// No file was chosen, or the body was not a file form.
    NoFile(&'static str),
}

/// Reads the form up to its `file` field: the `csrf` field must come first and match the session's; text
/// fields between them (at most eight, of 1 KiB each) are kept for the page to read.
pub async fn file_form(session: &Session, request: Request) -> Result<FileForm, Refused> {
    let scripted = request.headers().get("x-upload").is_some_and(|v| v == "progress");
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| Refused::NoFile("Send the file with the form."))?;
    let mut form = multer::Multipart::new(request.into_body().into_data_stream(), boundary);
    let mut csrf_ok = false;
    let mut fields = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(|_| Refused::NoFile("The form could not be read."))? {
        match field.name().map(str::to_owned).as_deref() {
            Some("csrf") => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| Refused::Forbidden)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_TEXT {
                        return Err(Refused::Forbidden);
                    }
                }
                csrf_ok = crate::session::constant_time_eq(&text, session.csrf.as_bytes());
            }
            Some("file") if csrf_ok => {
                let file_name = field.file_name().map(str::to_owned).filter(|n| !n.trim().is_empty());
                if file_name.is_none() {
                    return Err(Refused::NoFile("Choose a file first."));
                }
                return Ok(FileForm { file_name, body: Body::from_stream(field), scripted, fields });
            }
            _ if !csrf_ok => return Err(Refused::Forbidden),
            Some(name) if field.file_name().is_none() && fields.len() < MAX_FIELDS => {
                let mut text = Vec::new();
                while let Some(chunk) =
                    field.chunk().await.map_err(|_| Refused::NoFile("The form could not be read."))?
                {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_FIELD {
                        return Err(Refused::NoFile("A field of the form is too long."));
                    }
                }
                let value = String::from_utf8(text).map_err(|_| Refused::NoFile("A field of the form is not text."))?;
                fields.push((name.to_owned(), value));
            }
            _ => {}
        }
    }
    if csrf_ok { Err(Refused::NoFile("Choose a file first.")) } else { Err(Refused::Forbidden) }
}

/// Keeps a file form's file with `keep` and answers as the form was sent: with the page's script, `204`
/// and the next page (or the error's text); without, a redirect to `next` with `message` as its toast,
/// or the page `refused` draws for the error.
pub async fn keep_file(
    session: &Session,
    request: axum::extract::Request,
    (next, message): (&str, &str),
    keep: impl AsyncFnOnce(FileForm) -> Result<(), ApiError>,
    refused: impl AsyncFnOnce(ApiError) -> Response,
) -> Response {
    let scripted = request.headers().get("x-upload").is_some_and(|v| v == "progress");
    let result = match file_form(session, request).await {
        Ok(form) => keep(form).await,
        Err(Refused::Forbidden) => return crate::pages::forbidden_form(),
        Err(Refused::NoFile(why)) => Err(ApiError::invalid_field("file", "required", why)),
    };
    match (scripted, result) {
        (true, Ok(())) => scripted_done(next, message),
        (true, Err(err)) => scripted_error(&err),
        (false, Ok(())) => crate::pages::done(next, message),
        (false, Err(err)) => refused(err).await,
    }
}

/// The answer to a scripted upload that worked: the page to show next, with its toast.
pub fn scripted_done(next: &str, message: &str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(next) {
        response.headers_mut().insert("x-location", value);
    }
    crate::session::flash(&mut response, message);
    response
}

/// The answer to a scripted upload that failed: its status and what to tell the person.
pub fn scripted_error(err: &ApiError) -> Response {
    let mut text = err.detail().to_owned();
    for e in err.field_errors() {
        text.push_str(&format!(" {}.", e.message));
    }
    if err.status().is_server_error() {
        text = "The file could not be kept. Please try again in a moment.".into();
    }
    (err.status(), text).into_response()
}
