//! The stylesheet and scripts, compiled into the binary and served with a year-long cache: their URLs
//! carry a digest of their content, so a changed file is a new URL.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../assets/app.css") },
    Asset { name: "app.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../assets/app.js") },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/htmx-2.0.8.min.js"),
    },
    Asset {
        name: "htmx-sse.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/htmx-ext-sse-2.2.4.min.js"),
    },
];

/// `name` → its versioned URL (`/assets/app.css?v=<digest>`).
static URLS: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let digest = platform::hex::encode(&Sha256::digest(a.body)[..6]);
            (a.name, format!("/assets/{}?v={digest}", a.name))
        })
        .collect()
});

/// The versioned URL of an asset.
pub fn url(name: &str) -> &'static str {
    URLS.iter().find(|(n, _)| *n == name).map_or("/assets/missing", |(_, url)| url.as_str())
}

pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
