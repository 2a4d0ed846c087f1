//! The OpenAPI document: snapshot-tested, served, and viewable offline.

use axum::http::StatusCode;

use crate::support::app;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

/// Fails on any change of the document. After an intended change, run the tests once with
/// `BACKLINE_UPDATE_SNAPSHOTS=1` and commit the new `docs/openapi.json`.
#[test]
fn openapi_document_matches_the_snapshot() {
    let current = format!("{}\n", serde_json::to_string_pretty(&backline::openapi_document()).unwrap());
    if std::env::var_os("BACKLINE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &current).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    if committed != current {
        let diff_at = committed.lines().zip(current.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "the OpenAPI document changed (first difference at line {}).\n\
             If the change is intended, run `BACKLINE_UPDATE_SNAPSHOTS=1 cargo test --test api openapi` and commit \
             docs/openapi.json.\n committed: {:?}\n current:   {:?}",
            diff_at + 1,
            committed.lines().nth(diff_at),
            current.lines().nth(diff_at)
        );
    }
}

#[test]
fn every_operation_is_documented() {
    let doc = serde_json::to_value(backline::openapi_document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["operationId"].is_string(), "{method} {path} has no operationId");
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            let responses = op["responses"].as_object().filter(|r| !r.is_empty());
            let responses = responses.unwrap_or_else(|| panic!("{method} {path} has no responses"));
            for (status, response) in responses {
                assert!(response["description"].is_string(), "{method} {path} {status} has no description");
            }
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // Operation ids come from handler names; two handlers of the same name in two crates would collide.
    let mut ids = std::collections::HashSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operationId {id} is not unique");
        }
    }
}

#[tokio::test]
async fn openapi_json_is_served() {
    let app = app().await;
    let res = app.get("/openapi.json").send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value(), serde_json::to_value(backline::openapi_document()).unwrap());
}

#[tokio::test]
async fn docs_page_needs_no_internet() {
    let app = app().await;
    let res = app.get("/docs").send().await;
    res.assert_status(StatusCode::OK);
    let page = res.text();
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page must load nothing from elsewhere: {page}"
    );
    for asset in ["/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/docs/assets/init.js"] {
        assert!(page.contains(asset), "{asset} not referenced");
        let res = app.get(asset).send().await;
        res.assert_status(StatusCode::OK);
        assert!(res.body.len() > 100, "{asset} is empty");
    }
    let init = app.get("/docs/assets/init.js").send().await.text();
    assert!(init.contains("\"/openapi.json\"") && init.contains("validatorUrl: null"), "{init}");
}
