//! The support desk's pages: a customer opens a ticket from the page (a refusal beside the form, what
//! was typed kept), the team works it from the queue (targets with time left, an internal note, a
//! reply, a resolution), the customer rates it; notes never show on the customer's page; a stranger
//! gets the not-found page. And the same journey's pages in Chromium, each passing the accessibility
//! check.

use axum::http::StatusCode;

use crate::catalog_web::{Web, location};
use crate::support::{app, signed_in, signed_in_with_roles};

#[tokio::test]
async fn a_ticket_is_opened_worked_and_rated_from_the_pages() {
    let app = app().await;
    signed_in(&app, "spw_cust").await;
    signed_in(&app, "spw_other").await;
    signed_in_with_roles(&app, "spw_sam", "Sam Support", &["staff"]).await;
    let mut customer = Web::of(&app, "spw_cust").await;
    let mut sam = Web::of(&app, "spw_sam").await;

    let desk = customer.get(&app, "/support").await;
    desk.assert_status(StatusCode::OK);
    assert!(desk.text().contains("You have opened no support ticket") && !desk.text().contains("Queue"));
    // A subject missing is said beside its field; the description typed is kept; nothing is opened.
    let refused = customer
        .post(
            &app,
            "/support/tickets",
            &[("subject", " "), ("category", "payouts"), ("priority", "high"), ("description", "My payout is late")],
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text();
    assert!(text.contains("must be 1 to 200 characters") && text.contains(">My payout is late</textarea>"), "{text}");
    assert!(text.contains("aria-invalid=\"true\""));
    let opened = customer
        .post(
            &app,
            "/support/tickets",
            &[
                ("subject", "Payout late"),
                ("category", "payouts"),
                ("priority", "high"),
                ("description", "My payout is **late**"),
            ],
        )
        .await;
    opened.assert_status(StatusCode::SEE_OTHER);
    let path = location(&opened);
    assert!(path.starts_with("/support/tickets/"), "{path}");
    let page = customer.get(&app, &path).await.text();
    assert!(
        page.contains("Payout late") && page.contains("<strong>late</strong>") && page.contains(">open<"),
        "{page}"
    );
    assert!(!page.contains("Targets") && !page.contains("Internal note"), "{page}");

    // The team's queue shows it with its first target's time left.
    let queue = sam.get(&app, "/support").await.text();
    assert!(queue.contains("Payout late") && queue.contains("first response due in about 4 hours"), "{queue}");
    // Sam takes it, writes a note and a reply.
    sam.post(&app, &format!("{path}/steps"), &[("step", "take")]).await.assert_status(StatusCode::SEE_OTHER);
    assert!(sam.get(&app, "/support?view=mine").await.text().contains("Payout late"));
    sam.post(&app, &format!("{path}/messages"), &[("body", "Bank bounced it, resend"), ("internal", "1")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let empty = sam.post(&app, &format!("{path}/messages"), &[("body", " ")]).await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text().contains("must be 1 to 16,000 characters"), "{}", empty.text());
    sam.post(&app, &format!("{path}/messages"), &[("body", "We are sending it again.")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let worked = sam.get(&app, &path).await.text();
    assert!(worked.contains("Bank bounced it") && worked.contains("internal note"), "{worked}");
    assert!(worked.contains("met at") && worked.contains("pending customer"), "{worked}");
    let seen = customer.get(&app, &path).await.text();
    assert!(seen.contains("We are sending it again.") && !seen.contains("Bank bounced it"), "{seen}");
    assert!(!seen.contains("internal note") && !seen.contains("Take it"), "{seen}");

    // Resolved with a word for the customer, who may reopen it and rates it.
    sam.post(&app, &format!("{path}/steps"), &[("step", "resolve"), ("resolution", "Sent again on Friday.")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let resolved = customer.get(&app, &path).await.text();
    assert!(
        resolved.contains("Sent again on Friday.")
            && resolved.contains("Can be reopened until")
            && resolved.contains("How was the help?"),
        "{resolved}"
    );
    let bad = customer.post(&app, &format!("{path}/steps"), &[("step", "rate"), ("score", "9")]).await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("must be 1 to 5"), "{}", bad.text());
    customer
        .post(&app, &format!("{path}/steps"), &[("step", "rate"), ("score", "5"), ("comment", "Thanks")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(customer.get(&app, &path).await.text().contains("5 of 5"));
    // The customer cannot resolve; a stranger cannot see it.
    let not_theirs = customer.post(&app, &format!("{path}/steps"), &[("step", "resolve")]).await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);
    let stranger = Web::of(&app, "spw_other").await;
    stranger.get(&app, &path).await.assert_status(StatusCode::NOT_FOUND);
    assert!(!stranger.get(&app, "/support").await.text().contains("Payout late"));
}

/// A customer opens a ticket and the team answers it in Chromium; each page passes the accessibility
/// check.
#[tokio::test]
async fn the_support_desk_in_a_browser() {
    use crate::browser::{Browser, serve};
    let app = app().await;
    signed_in(&app, "spb_cust").await;
    signed_in_with_roles(&app, "spb_sam", "Sam Support", &["staff"]).await;
    let served = serve(&app).await;

    let browser = Browser::start().await;
    browser.sign_in(&served.base, "spb_cust", "/support").await;
    browser.wait_for_text("Ask for help").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    browser.type_into("#ticket-subject", "Scanner app crashes").await;
    browser.type_into("#ticket-description", "It crashes at the door.").await;
    browser.click("form[action='/support/tickets'] button").await;
    browser.wait_for_text("Conversation").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    browser.close().await;

    let browser = Browser::start().await;
    browser.sign_in(&served.base, "spb_sam", "/support").await;
    browser.wait_for_text("Scanner app crashes").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    browser.click("#tickets a").await;
    browser.wait_for_text("Targets").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    browser.type_into("#reply-body", "Which phone is it?").await;
    browser.click("#write button").await;
    browser.wait_for_text("Which phone is it?").await;
    let status = browser.script("return document.querySelector('#ticket-status').textContent").await;
    assert_eq!(status, "pending customer");
    browser.close().await;
}
