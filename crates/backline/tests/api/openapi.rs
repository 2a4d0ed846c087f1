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

/// utoipa names a schema after its type; two types of one name in two crates would silently overwrite
/// each other in the document. Every documented type's name (or its `#[schema(as = ...)]`) is unique.
#[test]
fn schema_names_are_unique_across_crates() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for path in rust_sources(&root) {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !(line.trim_start().starts_with("#[derive(") && line.contains("ToSchema")) {
                continue;
            }
            let mut renamed = None;
            for next in &lines[i + 1..] {
                let next = next.trim();
                if let Some(rest) = next.strip_prefix("#[schema(as = ") {
                    renamed = Some(rest.trim_end_matches(")]").to_owned());
                }
                if let Some(rest) = next.strip_prefix("pub struct ").or_else(|| next.strip_prefix("pub enum ")) {
                    let name = rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap().to_owned();
                    let name = renamed.take().unwrap_or(name);
                    let place = format!("{}:{}", path.display(), i + 1);
                    if let Some(other) = seen.insert(name.clone(), place.clone()) {
                        panic!("schema {name} is declared twice: {other} and {place}");
                    }
                    break;
                }
            }
        }
    }
    assert!(seen.len() > 100, "found {} documented types", seen.len());
}

/// The Rust sources below `dir`, leaving out build output, tests and benchmarks.
fn rust_sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("target") && !path.ends_with("tests") && !path.ends_with("benches") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// The string literals of a crate's sources (`src/`), and of the workspace crates it depends on.
fn literals_of(crate_dir: &std::path::Path, seen: &mut std::collections::HashSet<std::path::PathBuf>) -> Vec<String> {
    if !seen.insert(crate_dir.to_path_buf()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for path in rust_sources(&crate_dir.join("src")) {
        let text = std::fs::read_to_string(&path).unwrap();
        out.extend(text.split('"').skip(1).step_by(2).map(str::to_owned));
    }
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let workspace = crate_dir.parent().unwrap();
    for line in manifest.lines() {
        let name = line.split(['.', ' ', '=']).next().unwrap_or_default();
        let dep = workspace.join(name);
        if !name.is_empty() && dep.join("Cargo.toml").is_file() && dep != crate_dir {
            out.extend(literals_of(&dep, seen));
        }
    }
    out
}

/// The crate whose sources define the handler `name` (`pub async fn name(`).
fn crate_of_handler(name: &str) -> std::path::PathBuf {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let needle = format!("pub async fn {name}(");
    let path = rust_sources(&crates)
        .into_iter()
        .find(|path| std::fs::read_to_string(path).unwrap().contains(&needle))
        .unwrap_or_else(|| panic!("no handler named {name}"));
    let relative = path.strip_prefix(&crates).unwrap();
    crates.join(relative.components().next().unwrap())
}

/// Every error code an operation documents (the `code` words in its responses' descriptions) is one its
/// crate, or a crate it builds on, can answer: a stale or misspelt code in the document fails here.
#[test]
fn documented_error_codes_are_codes_the_route_can_answer() {
    let doc = serde_json::to_value(backline::openapi_document()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut documented = Vec::new();
            for (status, response) in op["responses"].as_object().unwrap() {
                if !status.starts_with('4') && !status.starts_with('5') {
                    continue;
                }
                let description = response["description"].as_str().unwrap_or_default();
                documented.extend(description.split('`').skip(1).step_by(2).map(str::to_owned));
            }
            if documented.is_empty() {
                continue;
            }
            let catalogue: std::collections::HashSet<&str> =
                backline::error_catalogue().iter().map(|info| info.code).collect();
            let handler = op["operationId"].as_str().unwrap();
            let literals: std::collections::HashSet<String> =
                literals_of(&crate_of_handler(handler), &mut std::collections::HashSet::new()).into_iter().collect();
            for code in documented {
                assert!(
                    catalogue.contains(code.as_str()),
                    "{method} {path} documents `{code}`, which is in no catalogue"
                );
                assert!(
                    literals.contains(&code),
                    "{method} {path} documents `{code}`, which its crate ({handler}) never answers"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} documented codes found");
}

const API_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");
const CODES_START: &str = "<!-- error-codes:start (generated from the code; see tests/api/openapi.rs) -->\n";
const CODES_END: &str = "<!-- error-codes:end -->";

/// docs/api.md lists exactly the catalogue of problem codes. After a change of the catalogue, run the
/// tests once with `BACKLINE_UPDATE_SNAPSHOTS=1` and commit docs/api.md.
#[test]
fn the_documented_error_codes_are_the_catalogue() {
    generated_section(CODES_START, CODES_END, &backline::error_catalogue_markdown());
}

/// docs/api.md's text between `start` and `end` is `current` (written there with
/// `BACKLINE_UPDATE_SNAPSHOTS=1`).
fn generated_section(start: &str, end: &str, current: &str) {
    let doc = std::fs::read_to_string(API_DOC).unwrap();
    let from = doc.find(start).unwrap_or_else(|| panic!("docs/api.md has the marker {start}")) + start.len();
    let to = doc.find(end).unwrap_or_else(|| panic!("docs/api.md has the marker {end}"));
    if std::env::var_os("BACKLINE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(API_DOC, format!("{}{current}{}", &doc[..from], &doc[to..])).unwrap();
        return;
    }
    assert_eq!(&doc[from..to], current, "docs/api.md differs from the code between {start} and {end}");
}

/// One code, one meaning: no code is declared twice with the same status, every code is snake_case,
/// and every meaning is one line.
#[test]
fn the_catalogue_is_consistent() {
    let catalogue = backline::error_catalogue();
    let mut seen = std::collections::HashSet::new();
    for info in &catalogue {
        assert!(seen.insert((info.code, info.status)), "{} {} is declared twice", info.status, info.code);
        assert!(info.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", info.code);
        assert!(!info.meaning.is_empty() && !info.meaning.contains('\n'), "{}", info.code);
        assert!(info.status.is_client_error() || info.status.is_server_error(), "{}", info.code);
    }
    assert!(catalogue.len() > 100, "{} codes", catalogue.len());
}

const FIELD_START: &str = "<!-- field-codes:start (generated from the code; see tests/api/openapi.rs) -->\n";
const FIELD_END: &str = "<!-- field-codes:end -->";

/// docs/api.md lists exactly `platform::error::FIELD_CODES`, the codes of field errors (refresh with
/// `BACKLINE_UPDATE_SNAPSHOTS=1`).
#[test]
fn the_documented_field_codes_are_the_catalogue() {
    let mut current = String::from("| code | the field holds |\n|---|---|\n");
    for (code, meaning) in platform::error::FIELD_CODES {
        current.push_str(&format!("| `{code}` | {meaning} |\n"));
    }
    generated_section(FIELD_START, FIELD_END, &current);
}

/// Every field-error code written in the sources (`FieldError::new(field, "code", ..)`,
/// `ApiError::invalid_field(field, "code", ..)` and the helpers that wrap them) is in the catalogue, and
/// every code of the catalogue is used somewhere.
#[test]
fn field_codes_in_the_sources_are_the_catalogue() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut used = std::collections::BTreeMap::<String, String>::new();
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name != "tests" && name != "benches" && name != "target" {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") && path.to_string_lossy().contains("/src/") {
                files.push(path);
            }
        }
    }
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for call in ["FieldError::new(", "invalid_field(", " field("] {
            let mut rest = text.as_str();
            while let Some(at) = rest.find(call) {
                rest = &rest[at + call.len()..];
                // The code is the first string literal after the first top-level comma of the call.
                let mut depth = 0;
                let mut comma = None;
                for (i, c) in rest.char_indices() {
                    match c {
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' if depth == 0 => break,
                        ')' | ']' | '}' => depth -= 1,
                        ',' if depth == 0 => {
                            comma = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let Some(comma) = comma else { continue };
                let after = rest[comma + 1..].trim_start();
                if let Some(literal) = after.strip_prefix('"') {
                    let code = &literal[..literal.find('"').unwrap()];
                    used.insert(code.to_owned(), file.display().to_string());
                }
            }
        }
    }
    // The catalog's validation report names its rules as `rule: "..."`; submission answers them as field codes.
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for piece in text.split("rule: \"").skip(1) {
            used.insert(piece[..piece.find('"').unwrap()].to_owned(), file.display().to_string());
        }
    }
    // Codes chosen at run time: serde's errors in the JSON extractor.
    for code in ["unknown_field", "required", "invalid_type", "invalid_value"] {
        used.entry(code.to_owned()).or_insert_with(|| "platform/src/json.rs".into());
    }
    let catalogue: std::collections::BTreeSet<&str> = platform::error::FIELD_CODES.iter().map(|(c, _)| *c).collect();
    for (code, file) in &used {
        assert!(catalogue.contains(code.as_str()), "{file} answers the field code `{code}`, which FIELD_CODES lacks");
    }
    for code in &catalogue {
        assert!(used.contains_key(*code), "FIELD_CODES lists `{code}`, which no source uses");
    }
    assert!(used.len() > 50, "only {} field codes found", used.len());
}
