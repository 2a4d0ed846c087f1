//! Sessions by cookie. Signing in opens an identity session exactly as `POST /v1/auth/login` does; its
//! access and refresh tokens live in HttpOnly, SameSite=Lax cookies (Secure when the public address is
//! HTTPS). Each request resolves the access token as the API does; an expired one is refreshed with the
//! refresh token (rotating it, with the API's reuse detection), and a refused refresh signs the browser
//! out. Every form carries a CSRF token that must equal the `bl_csrf` cookie's (double submit): a page on
//! another site can neither read the cookie nor set the field.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use identity::auth::Principal;
use platform::AppContext;
use platform::http::ClientMeta;

use crate::WebSettings;

pub const ACCESS_COOKIE: &str = "bl_access";
pub const REFRESH_COOKIE: &str = "bl_refresh";
pub const CSRF_COOKIE: &str = "bl_csrf";
/// A one-time message for the next page ("The offer is sent."), shown as a toast and then cleared.
pub const FLASH_COOKIE: &str = "bl_flash";

/// What a page knows of its request: who is signed in, and the token its forms carry.
#[derive(Clone)]
pub struct Session {
    pub principal: Option<Principal>,
    pub csrf: String,
    /// The message the previous action left for this page, if any.
    pub flash: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Session>().cloned().ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The cookies a response sets or clears.
#[derive(Default, Clone)]
pub struct CookieJar(Vec<String>);

impl CookieJar {
    fn set(&mut self, name: &str, value: &str, max_age: i64, secure: bool) {
        let secure = if secure { "; Secure" } else { "" };
        self.0.push(format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"));
    }

    fn clear(&mut self, name: &str) {
        self.0.push(format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    }

    fn apply(self, headers: &mut HeaderMap) {
        for cookie in self.0 {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
    }
}

/// Sets the session cookies of a token pair on `response`.
pub fn signed_in(response: &mut Response, ctx: &AppContext, pair: &identity::accounts::dto::TokenPair) {
    let mut jar = CookieJar::default();
    let secure = ctx.public_url.starts_with("https://");
    jar.set(ACCESS_COOKIE, &pair.access_token, pair.expires_in.max(1), secure);
    jar.set(REFRESH_COOKIE, &pair.refresh_token, pair.refresh_expires_in.max(1), secure);
    jar.apply(response.headers_mut());
}

/// Leaves `message` for the next page the browser opens (after a redirect), as a toast.
pub fn flash(response: &mut Response, message: &str) {
    let value = serde_urlencoded::to_string([("", message)]).map(|s| s[1..].to_owned()).unwrap_or_default();
    if let Ok(value) =
        HeaderValue::from_str(&format!("{FLASH_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Clears the session cookies on `response`.
pub fn signed_out(response: &mut Response) {
    let mut jar = CookieJar::default();
    jar.clear(ACCESS_COOKIE);
    jar.clear(REFRESH_COOKIE);
    jar.apply(response.headers_mut());
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Resolves the request's session (refreshing it when its access token expired) and sets the cookies
/// that changed.
pub async fn layer(
    State((ctx, settings)): State<(AppContext, Arc<WebSettings>)>,
    mut request: Request,
    next: Next,
) -> Response {
    let secure = ctx.public_url.starts_with("https://");
    let mut jar = CookieJar::default();
    let headers = request.headers();
    let csrf = match cookie(headers, CSRF_COOKIE).filter(|v| v.len() == 64 && platform::hex::decode(v).is_some()) {
        Some(token) => token.to_owned(),
        None => {
            let token = platform::hex::encode(&platform::crypto::random_bytes::<32>());
            jar.set(CSRF_COOKIE, &token, 60 * 60 * 24 * 365, secure);
            token
        }
    };
    let ip = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let headers = request.headers();
    let extensions = request.extensions();
    let recognise = async |token: &str| identity::auth::resolve_in(extensions, &ctx, token).await.ok();
    let mut principal = None;
    if let Some(access) = cookie(headers, ACCESS_COOKIE) {
        principal = recognise(access).await;
    }
    if principal.is_none()
        && let Some(refresh) = cookie(headers, REFRESH_COOKIE).map(str::to_owned)
    {
        let meta = client_meta(request.headers(), ip.clone());
        match identity::accounts::service::refresh(&ctx, &settings.identity, &refresh, &meta).await {
            Ok(pair) => {
                principal = recognise(&pair.access_token).await;
                jar.set(ACCESS_COOKIE, &pair.access_token, pair.expires_in.max(1), secure);
                jar.set(REFRESH_COOKIE, &pair.refresh_token, pair.refresh_expires_in.max(1), secure);
            }
            Err(_) => {
                jar.clear(ACCESS_COOKIE);
                jar.clear(REFRESH_COOKIE);
            }
        }
    }
    if let Some(p) = &mut principal {
        p.client_ip = ip;
    }
    let viewer = match &principal {
        Some(p) => identity::accounts::service::display_settings(&ctx, p.user_id)
            .await
            .map(|(zone, locale)| crate::format::Viewer::of(&zone, &locale))
            .unwrap_or_default(),
        None => crate::format::Viewer::default(),
    };
    let flash = cookie(headers, FLASH_COOKIE)
        .and_then(|v| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("m={v}")).ok())
        .and_then(|pairs| pairs.into_iter().next().map(|(_, m)| m.chars().take(300).collect::<String>()))
        .filter(|m| !m.is_empty());
    let had_flash = flash.is_some();
    request.extensions_mut().insert(Session { principal, csrf, flash });
    let mut response = crate::format::for_viewer(viewer, next.run(request)).await;
    // A page shows the flash once: cleared unless this answer leaves a new one (a redirect after an
    // action), and kept through a redirect that shows no page.
    let sets_flash = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(&format!("{FLASH_COOKIE}="))));
    if had_flash && !sets_flash && !response.status().is_redirection() {
        jar.clear(FLASH_COOKIE);
    }
    jar.apply(response.headers_mut());
    response
}

fn client_meta(headers: &HeaderMap, ip: Option<String>) -> ClientMeta {
    ClientMeta {
        ip,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(300).collect()),
    }
}

/// A form body whose CSRF token (`csrf`) matched the cookie's. Anything else is refused with 403
/// before the handler runs.
pub struct Form<T>(pub T);

impl<T> axum::extract::FromRequest<AppContext> for Form<T>
where
    T: serde::de::DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(request: Request, ctx: &AppContext) -> Result<Self, Self::Rejection> {
        let session = request.extensions().get::<Session>().cloned();
        let bytes = axum::body::Bytes::from_request(request, ctx)
            .await
            .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response())?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| (StatusCode::BAD_REQUEST, "The form could not be read.").into_response())?;
        let sent = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
        match (session, sent) {
            (Some(session), Some(sent)) if constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) => {}
            _ => return Err(crate::pages::forbidden_form()),
        }
        let value = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, format!("The form is not valid: {e}")).into_response())?;
        Ok(Self(value))
    }
}

/// A form body with repeated fields (one per row of a table): checks the CSRF token as [`Form`] does,
/// then reads every value of each field in `lists` into an array, in order, and the others as single
/// values. `None` when the token does not match or the body does not fit `T`.
pub fn repeated_form<T: serde::de::DeserializeOwned>(session: &Session, body: &[u8], lists: &[&str]) -> Option<T> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let sent = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str())?;
    if !constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
        return None;
    }
    let mut map = serde_json::Map::new();
    for (key, value) in pairs {
        if lists.contains(&key.as_str()) {
            map.entry(key).or_insert_with(|| serde_json::Value::Array(Vec::new())).as_array_mut()?.push(value.into());
        } else {
            map.insert(key, value.into());
        }
    }
    serde_json::from_value(serde_json::Value::Object(map)).ok()
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
