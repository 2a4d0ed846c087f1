//! A real headless Chromium, driven over the W3C WebDriver protocol by Debian's `chromedriver`: a few
//! HTTP calls, so no client crate is needed. Pages are served by the whole application on a loopback
//! port.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The application served on a loopback port, for a browser.
pub struct Served {
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(app: &testkit::TestApp) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    let task = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    Served { base, task }
}

/// A browser session; the driver process ends with it.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Sends a WebDriver command (a JSON body, when given) and answers its JSON.
async fn send(request: reqwest::RequestBuilder, body: Option<&Value>) -> Value {
    let request = match body {
        Some(body) => request.header("content-type", "application/json").body(serde_json::to_vec(body).unwrap()),
        None => request,
    };
    let bytes = request.send().await.expect("chromedriver answers").bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("WebDriver answered no JSON ({e})"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (from Debian's `chromium` and `chromium-driver`).
    pub async fn start() -> Self {
        let port = free_port();
        let driver = Command::new(std::env::var("BACKLINE_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (Debian's chromium-driver; see the README's prerequisites)");
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{url}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let binary = std::env::var("BACKLINE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": args},
        }}});
        let created = send(http.post(format!("{url}/session")), Some(&caps)).await;
        let session =
            created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("a browser session: {created}")).to_owned();
        Self { driver, http, session, url, _profile: profile }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body).await.unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    async fn try_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let url = format!("{}/session/{}{path}", self.url, self.session);
        let answer = send(self.http.request(method, url), body.as_ref()).await;
        if answer["value"].get("error").is_some() { Err(answer["value"].clone()) } else { Ok(answer["value"].clone()) }
    }

    /// Runs `steps` on the element `css` selects, finding it again when the page replaced it meanwhile
    /// (htmx swaps the page in place).
    async fn on_element(&self, css: &str, steps: &[(&str, Value)]) {
        'again: for _ in 0..50 {
            let element = self.find(css).await;
            for (action, body) in steps {
                match self
                    .try_call(reqwest::Method::POST, &format!("/element/{element}/{action}"), Some(body.clone()))
                    .await
                {
                    Ok(_) => {}
                    // Replaced, or not yet interactable, while htmx swaps the page in: look again.
                    Err(e) if e["error"] == "stale element reference" || e["error"] == "element not interactable" => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue 'again;
                    }
                    Err(e) => panic!("WebDriver {action} on {css}: {e}"),
                }
            }
            return;
        }
        panic!("{css} kept being replaced");
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    pub async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap().to_owned()
    }

    /// The element `css` selects, waiting up to 15 s (a loaded CI machine is slow) for it to appear.
    pub async fn find(&self, css: &str) -> String {
        let url = format!("{}/session/{}/element", self.url, self.session);
        for _ in 0..300 {
            let answer = send(self.http.post(&url), Some(&json!({"using": "css selector", "value": css}))).await;
            if let Some(id) = answer["value"][ELEMENT].as_str() {
                return id.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no element matches {css} on {}: {}", self.current_url().await, self.source().await);
    }

    pub async fn click(&self, css: &str) {
        self.on_element(css, &[("click", json!({}))]).await;
    }

    /// Drags the mouse across the element `css`, between two offsets (in CSS pixels) from its centre.
    pub async fn drag(&self, css: &str, from: (i64, i64), to: (i64, i64)) {
        let origin = json!({ELEMENT: self.find(css).await});
        let actions = json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
        "actions": [
            {"type": "pointerMove", "duration": 0, "origin": origin, "x": from.0, "y": from.1},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerMove", "duration": 150, "origin": origin, "x": to.0, "y": to.1},
            {"type": "pointerUp", "button": 0},
        ]}]});
        self.call(reqwest::Method::POST, "/actions", Some(actions)).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.on_element(css, &[("clear", json!({})), ("value", json!({"text": text}))]).await;
    }

    /// Chooses the file at `path` (on this machine) in the file input `css`.
    pub async fn attach(&self, css: &str, path: &str) {
        self.on_element(css, &[("value", json!({"text": path}))]).await;
    }

    /// The visible text of the page's body.
    pub async fn text(&self) -> String {
        for _ in 0..50 {
            let body = self.find("body").await;
            if let Ok(text) = self.try_call(reqwest::Method::GET, &format!("/element/{body}/text"), None).await {
                return text.as_str().unwrap_or_default().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page's text could not be read");
    }

    /// Waits up to 15 s (a loaded CI machine is slow) until the page's text contains `needle`.
    pub async fn wait_for_text(&self, needle: &str) -> String {
        for _ in 0..300 {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page never showed {needle:?}: {}", self.text().await);
    }

    /// The page's HTML as the browser holds it now.
    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap().to_owned()
    }

    /// Waits up to 15 s (a loaded CI machine is slow) until the page's address ends with `suffix` (a navigation finished).
    pub async fn wait_for_url(&self, suffix: &str) -> String {
        for _ in 0..300 {
            let url = self.current_url().await;
            if url.ends_with(suffix) {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the browser never reached {suffix}: {}\n{}", self.current_url().await, self.text().await);
    }

    /// Runs a script in the page and answers its result.
    pub async fn script(&self, script: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": []}))).await
    }

    /// Runs an asynchronous script (its last argument is the callback that answers) and answers its result.
    pub async fn script_async(&self, script: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": []}))).await
    }

    /// The WCAG 2 A and AA violations axe-core (from npm, committed under `tests/assets/`) finds on the
    /// current page: `(rule, impact, what it says, the first offending element)`.
    pub async fn accessibility_violations(&self) -> Vec<(String, String, String, String)> {
        const AXE: &str = include_str!("../assets/axe-core-4.14.1.min.js");
        self.script(&format!("{AXE}\nreturn typeof window.axe;")).await;
        let result = self
            .script_async(
                "const done = arguments[arguments.length - 1];
                 window.axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                   .then(r => done(r.violations.map(v => [v.id, v.impact || '', v.help, (v.nodes[0] || {}).html || ''])))
                   .catch(e => done([['axe-error', 'critical', String(e), '']]));",
            )
            .await;
        serde_json::from_value(result).unwrap()
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap()).unwrap()
    }

    /// With `BACKLINE_UPDATE_SNAPSHOTS=1`, saves a screenshot as `docs/web/<name>.png` (for docs/web.md);
    /// always checks that the browser can take one.
    pub async fn snapshot(&self, name: &str) {
        let shot = self.screenshot().await;
        assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
        if std::env::var_os("BACKLINE_UPDATE_SNAPSHOTS").is_some() {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/web");
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(format!("{dir}/{name}.png"), &shot).unwrap();
        }
    }

    /// Signs in through the sign-in page as `login` (the test password) and waits for `next`.
    pub async fn sign_in(&self, base: &str, login: &str, next: &str) {
        let next_param: String = next.replace('/', "%2F").replace('?', "%3F").replace('=', "%3D");
        self.goto(&format!("{base}/signin?next={next_param}")).await;
        self.type_into("#login", login).await;
        self.type_into("#password", crate::support::PASSWORD).await;
        self.click("form.stack button[type=submit]").await;
        self.wait_for_url(next).await;
    }

    /// Signs out with the navigation's button.
    pub async fn sign_out(&self) {
        self.click("nav form[action='/signout'] button").await;
        self.wait_for_text("Sign in").await;
    }

    pub async fn close(self) {
        let _ = self.http.delete(format!("{}/session/{}", self.url, self.session)).send().await;
    }
}
