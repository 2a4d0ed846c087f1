//! The royalties' pages: a label sends a report from its page and follows it until it is read, sees the
//! proof and the unmatched queue, closes a month; an artist reads their statements and downloads them;
//! in a real browser, the report's page follows the reading by itself.

use axum::http::StatusCode;
use serde_json::json;
use testkit::TestApp;

use crate::catalog::{Label, label};
use crate::catalog_web::{Web, location};
use crate::royalties::{artist_payee, dsr, label_payee_id, release_of, set_split, usd_to_eur, with_isrc};
use crate::support::{app, drain_jobs, signed_in_admin};

/// A label with a recording on a release split 70/30 with an artist paid in USD, and a USD→EUR rate for
/// the label's own statement; answers the label and the artist's username.
async fn settled_label(app: &TestApp, slug: &str, registrant: &str, artist: &str) -> Label {
    let admin = signed_in_admin(app).await;
    let l = label(app, slug, registrant).await;
    let song = with_isrc(app, &l, "DE-A12-00-00011").await;
    let release = release_of(app, &l, &song).await;
    let (_, payee) = artist_payee(app, &l, artist, "USD").await;
    let label_payee = label_payee_id(app, &l).await;
    let shares = json!([{"payee_id": payee, "share_bp": 7000}, {"payee_id": label_payee, "share_bp": 3000}]);
    set_split(app, &l.token, &release, "2026-11-01", shares).await.assert_status(StatusCode::OK);
    usd_to_eur(app, &admin).await;
    l
}

#[tokio::test]
async fn a_label_sends_a_report_and_closes_its_month_without_script() {
    let app = app().await;
    let l = settled_label(&app, "web-royal-records", "DEW14", "web_artist").await;
    let mut web = Web::of(&app, &l.user).await;
    let page = web.get(&app, &format!("/labels/{}/royalties", l.id)).await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("No report yet."));

    // A wrong token is refused before a byte of the file is read; then the report is sent.
    let file = dsr("DSR-WEB", 1, 3, 7).remove(0);
    let path = format!("/labels/{}/royalties/reports", l.id);
    let res = web.upload(&app, &path, "wrong", ("DSR_web.tsv", "text/tab-separated-values", &file), false).await;
    res.assert_status(StatusCode::FORBIDDEN);
    let csrf = web.csrf.clone();
    let res = web.upload(&app, &path, &csrf, ("DSR_web.tsv", "text/tab-separated-values", &file), false).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let report = location(&res);
    assert!(report.starts_with("/royalty-reports/"), "{report}");
    let waiting = web.get(&app, &report).await.text();
    assert!(waiting.contains("queued") && waiting.contains("hx-trigger=\"every 2s\""), "the page follows the reading");
    drain_jobs(&app).await;
    let read = web.get(&app, &report).await.text();
    assert!(read.contains("loaded") && !read.contains("hx-trigger"), "{read}");
    assert!(read.contains("Every unit of the report is accounted for."), "{read}");
    assert!(read.contains("isrc:DEA120000012"), "the unmatched queue");
    assert!(!read.contains("Track id"), "only staff match lines");

    // Payees and splits from the page: a split short of 100% is refused, naming its rule.
    let res = web
        .post(
            &app,
            &format!("/labels/{}/royalties/payees", l.id),
            &[("name", "Guest Singer"), ("email", "guest@example.com"), ("currency", "EUR")],
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    let page = web.get(&app, &format!("/labels/{}/royalties", l.id)).await.text();
    assert!(page.contains("Guest Singer") && page.contains("invited"), "{page}");
    let label_payee = label_payee_id(&app, &l).await;
    let release = page.split("<option value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let split = |share: &'static str| {
        let (label_payee, release) = (label_payee.clone(), release.clone());
        vec![
            ("release", release),
            ("effective_from", "2026-12-01".to_owned()),
            ("payee_1", label_payee),
            ("share_1", share.to_owned()),
        ]
    };
    let fields = split("99.99");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = web.post(&app, &format!("/labels/{}/royalties/splits", l.id), &pairs).await;
    assert!(res.text().contains("sum to 9999 basis points"), "{}", res.text());
    let fields = split("100");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    web.post(&app, &format!("/labels/{}/royalties/splits", l.id), &pairs).await.assert_status(StatusCode::SEE_OTHER);

    // An advance to the artist, from the page, in the artist's currency.
    let page = web.get(&app, &format!("/labels/{}/royalties", l.id)).await.text();
    let artist_payee = page
        .split("id=\"recoup-payee\"")
        .nth(1)
        .unwrap()
        .split("<option value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let fields = [
        ("payee", artist_payee.as_str()),
        ("release", release.as_str()),
        ("kind", "advance"),
        ("amount", "0.25"),
        ("memo", "mixing"),
    ];
    let res = web.post(&app, &format!("/labels/{}/royalties/recoupables", l.id), &fields).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let page = web.get(&app, &format!("/labels/{}/royalties", l.id)).await.text();
    assert!(page.contains("id=\"outstanding\"") && page.contains("0.25"), "{page}");
    let bad =
        [("payee", artist_payee.as_str()), ("release", release.as_str()), ("kind", "advance"), ("amount", "lots")];
    let res = web.post(&app, &format!("/labels/{}/royalties/recoupables", l.id), &bad).await;
    assert!(res.text().contains("must be an amount"), "{}", res.text());

    // The month is closed from the page.
    let res = web.post(&app, &format!("/labels/{}/royalties/periods", l.id), &[("period", "2026-11")]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let page = web.get(&app, &format!("/labels/{}/royalties", l.id)).await.text();
    assert!(page.contains("web_artist") && page.contains("2026-11"), "{page}");
    let again = web.post(&app, &format!("/labels/{}/royalties/periods", l.id), &[("period", "2026-11")]).await;
    assert!(again.text().contains("closed"), "{}", again.text());

    // The artist's statements, as a page and as files; someone else finds none.
    let artist = Web::of(&app, "web_artist").await;
    let mine = artist.get(&app, "/me/royalties").await.text();
    let start = mine.find("/royalty-statements/").expect("a statement link") + "/royalty-statements/".len();
    let sid: String = mine[start..].chars().take_while(|c| *c != '"' && *c != '/').collect();
    let statement = artist.get(&app, &format!("/royalty-statements/{sid}")).await;
    statement.assert_status(StatusCode::OK);
    assert!(statement.text().contains("Payable"));
    let csv = artist.get(&app, &format!("/royalty-statements/{sid}/csv")).await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.text().contains("\npayable,"));
    let pdf = artist.get(&app, &format!("/royalty-statements/{sid}/pdf")).await;
    assert!(pdf.body.starts_with(b"%PDF"));
    let (_, _, _) = crate::support::signed_in(&app, "web_stranger").await;
    let stranger = Web::of(&app, "web_stranger").await;
    stranger.get(&app, &format!("/royalty-statements/{sid}")).await.assert_status(StatusCode::NOT_FOUND);
    stranger.get(&app, &format!("/royalty-statements/{sid}/pdf")).await.assert_status(StatusCode::NOT_FOUND);
    stranger.get(&app, &format!("/labels/{}/royalties", l.id)).await.assert_status(StatusCode::NOT_FOUND);
}

/// In Chromium: the label sends a report, lands on its page, and the page turns from waiting to read by
/// itself while the job reads it; the pages pass the accessibility checks.
#[tokio::test]
async fn the_report_page_follows_the_reading_in_a_browser() {
    use crate::browser::{Browser, serve};
    let app = app().await;
    let l = settled_label(&app, "live-royal-records", "DEV14", "live_artist").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("DSR_live.tsv");
    std::fs::write(&path, dsr("DSR-LIVE", 1, 3, 7).remove(0)).unwrap();
    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, &l.user, &format!("/orgs/{}", l.id)).await;
    browser.click("#royalties-link").await;
    browser.wait_for_text("Send a sales report").await;
    assert_eq!(browser.accessibility_violations().await, vec![]);
    browser.attach("#report-file", path.to_str().unwrap()).await;
    browser.click("#report-file-send").await;
    browser.wait_for_text("Sales report DSR-LIVE").await;
    browser.wait_for_text("queued").await;
    drain_jobs(&app).await;
    let text = browser.wait_for_text("Every unit of the report is accounted for.").await;
    assert!(text.contains("isrc:DEA120000012"), "{text}");
    assert_eq!(browser.accessibility_violations().await, vec![]);
    browser.close().await;
}
