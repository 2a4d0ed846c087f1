use platform::http::EdgeLimits;
use testkit::TestApp;

/// The whole Backline application over a fresh database.
pub async fn app() -> TestApp {
    TestApp::new(|ctx| backline::app(ctx, EdgeLimits::default())).await
}
