//! The web app: pages over the domains' services, sessions by cookie, CSRF, security headers, other
//! users' objects refused, and a fan's journey in a real headless Chromium.

use axum::http::StatusCode;
use serde_json::json;
use testkit::TestApp;

use crate::browser::{Browser, serve};
use crate::support::{PASSWORD, app, signed_in};
use crate::ticketing::{on_sale, reserve};

/// The cookies a response sets, as one `Cookie` header value (later ones replace earlier ones).
fn cookies(res: &testkit::TestResponse, jar: &mut Vec<(String, String)>) {
    for value in res.headers.get_all("set-cookie") {
        let pair = value.to_str().unwrap().split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        jar.retain(|(n, _)| n != name);
        if !value.is_empty() {
            jar.push((name.to_owned(), value.to_owned()));
        }
    }
}

fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
}

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// The CSRF token of the sign-in page, with the cookies that go with it.
async fn csrf(app: &TestApp, jar: &mut Vec<(String, String)>) -> String {
    let page = app.get("/signin").header("cookie", &cookie_header(jar)).send().await;
    page.assert_status(StatusCode::OK);
    cookies(&page, jar);
    let html = page.text();
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..at + 64].to_owned()
}

/// A ledger account's balance.
async fn balance_of(app: &TestApp, account: ledger::model::AccountId) -> i64 {
    sqlx::query_scalar("SELECT balance FROM ledger_accounts WHERE id = $1")
        .bind(account.0)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// Signs in through the web form; answers the browser's cookies.
async fn web_session(app: &TestApp, login: &str) -> Vec<(String, String)> {
    let mut jar = Vec::new();
    let token = csrf(app, &mut jar).await;
    let res = app
        .post("/signin")
        .header("cookie", &cookie_header(&jar))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &token), ("login", login), ("password", PASSWORD), ("next", "/me/tickets")]))
        .send()
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(res.header("location"), Some("/me/tickets"));
    cookies(&res, &mut jar);
    jar
}

#[tokio::test]
async fn pages_carry_security_headers_and_forms_need_their_token() {
    let app = app().await;
    let home = app.get("/").send().await;
    home.assert_status(StatusCode::OK);
    let csp = home.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(home.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(home.header("referrer-policy"), Some("same-origin"));
    assert!(home.text().contains("Coming up"));
    let set = home.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let csrf_cookie = set.iter().find(|c| c.starts_with("bl_csrf=")).expect("a CSRF cookie");
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"), "{csrf_cookie}");

    signed_in(&app, "webber").await;
    let mut jar = Vec::new();
    let token = csrf(&app, &mut jar).await;
    let post = |body: String, jar: &[(String, String)]| {
        app.post("/signin")
            .header("cookie", &cookie_header(jar))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // No token, a wrong one, or a token without its cookie: refused before anything is checked.
    post(form(&[("login", "webber"), ("password", PASSWORD)]), &jar).await.assert_status(StatusCode::FORBIDDEN);
    let wrong = "0".repeat(64);
    post(form(&[("csrf", &wrong), ("login", "webber"), ("password", PASSWORD)]), &jar)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    post(form(&[("csrf", &token), ("login", "webber"), ("password", PASSWORD)]), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // A wrong password: the form again, with the error beside it and the login kept.
    let bad = post(form(&[("csrf", &token), ("login", "webber"), ("password", "nope nope nope")]), &jar).await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("The username or password is not right."), "{}", bad.text());
    assert!(bad.text().contains("value=\"webber\""), "{}", bad.text());
    // Only this site's paths are followed after signing in.
    let ok =
        post(form(&[("csrf", &token), ("login", "webber"), ("password", PASSWORD), ("next", "//evil.example/")]), &jar)
            .await;
    ok.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(ok.header("location"), Some("/"));
    let access =
        ok.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).find(|c| c.starts_with("bl_access="));
    let access = access.expect("an access cookie");
    assert!(access.contains("HttpOnly") && access.contains("SameSite=Lax"), "{access}");
}

#[tokio::test]
async fn a_signed_in_page_refreshes_its_session_and_signing_out_ends_it() {
    let app = app().await;
    signed_in(&app, "refresher").await;
    let mut jar = web_session(&app, "refresher").await;
    let page = app.get("/me/tickets").header("cookie", &cookie_header(&jar)).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("You have no tickets yet"));

    // The access token expires; the refresh token (rotated) signs the page in again.
    app.clock.advance(chrono::Duration::hours(2));
    let page = app.get("/me/tickets").header("cookie", &cookie_header(&jar)).send().await;
    page.assert_status(StatusCode::OK);
    let old_refresh = jar.iter().find(|(n, _)| n == "bl_refresh").unwrap().1.clone();
    cookies(&page, &mut jar);
    assert_ne!(jar.iter().find(|(n, _)| n == "bl_refresh").unwrap().1, old_refresh, "the refresh token rotated");

    // Signing out ends the identity session: its cookies no longer sign anyone in.
    let token = jar.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let out = app
        .post("/signout")
        .header("cookie", &cookie_header(&jar))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &token)]))
        .send()
        .await;
    out.assert_status(StatusCode::SEE_OTHER);
    let stale = cookie_header(&jar);
    let page = app.get("/me/tickets").header("cookie", &stale).send().await;
    page.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), Some("/signin?next=%2Fme%2Ftickets"));
}

#[tokio::test]
async fn another_users_ticket_is_not_found() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "door_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let (fan, _, _) = signed_in(&app, "ticket_fan").await;
    signed_in(&app, "nosy_fan").await;
    let order = reserve(&app, &fan, &event, &tier, 1).await.value();
    let ticket = order["tickets"][0]["id"].as_str().expect("a free order is issued at once").to_owned();

    let mine = web_session(&app, "ticket_fan").await;
    let qr = app.get(&format!("/me/tickets/{ticket}/qr.svg")).header("cookie", &cookie_header(&mine)).send().await;
    qr.assert_status(StatusCode::OK);
    assert_eq!(qr.header("content-type"), Some("image/svg+xml"));
    let list = app.get("/me/tickets").header("cookie", &cookie_header(&mine)).send().await.text();
    assert!(list.contains("Nova Beats live") && list.contains("General admission"), "{list}");

    let theirs = web_session(&app, "nosy_fan").await;
    let qr = app.get(&format!("/me/tickets/{ticket}/qr.svg")).header("cookie", &cookie_header(&theirs)).send().await;
    qr.assert_status(StatusCode::NOT_FOUND);
    let list = app.get("/me/tickets").header("cookie", &cookie_header(&theirs)).send().await.text();
    assert!(!list.contains("Nova Beats live"));
    app.get(&format!("/me/tickets/{ticket}/qr.svg")).send().await.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_event_search_validates_its_dates_and_pages() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "search_org").await;
    for _ in 0..23 {
        on_sale(&app, &organizer, json!({})).await;
    }
    let first = app.get("/events").send().await;
    first.assert_status(StatusCode::OK);
    let html = first.text();
    assert_eq!(html.matches("class=\"card\"").count(), 20);
    let at = html.find("rel=\"next\"").map(|_| html.find("href=\"/events?").unwrap()).expect("a next page");
    let next = &html[at + 6..];
    let next = next[..next.find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&");
    let second = app.get(&next).send().await;
    second.assert_status(StatusCode::OK);
    assert_eq!(second.text().matches("class=\"card\"").count(), 3);
    assert!(!second.text().contains("rel=\"next\""));

    let bad = app.get("/events?from=tomorrow").send().await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("tomorrow is not a date"), "{}", bad.text());
    let none = app.get("/events?q=zzzunknownzzz").send().await.text();
    assert!(none.contains("No event matches"));
}

/// A fan in a real browser: the home page lists an event, its page shows the tiers, signing in leads
/// back to the page asked for, the tickets show with a QR code that loads, and signing out works.
#[tokio::test]
async fn a_fan_finds_an_event_signs_in_and_sees_their_ticket_in_a_browser() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "browser_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0, "name": "Early bird"})).await;
    let (fan, _, _) = signed_in(&app, "browser_fan").await;
    reserve(&app, &fan, &event, &tier, 2).await.assert_status(StatusCode::CREATED);
    let served = serve(&app).await;
    let browser = Browser::start().await;

    browser.goto(&format!("{}/", served.base)).await;
    browser.wait_for_text("Coming up").await;
    browser.snapshot("home").await;
    browser.click(&format!("a[href='/events/{event}']")).await;
    let text = browser.wait_for_text("Early bird").await;
    assert!(text.contains("Nova Beats live") && text.contains("Free"), "{text}");

    browser.goto(&format!("{}/me/tickets", served.base)).await;
    browser.wait_for_text("Email or username").await;
    browser.type_into("#login", "browser_fan").await;
    browser.type_into("#password", "wrong password here").await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("The username or password is not right.").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_url("/me/tickets").await;
    let text = browser.wait_for_text("Code").await;
    assert_eq!(text.matches("Early bird").count(), 2, "{text}");
    // The QR codes load (an image that failed to load has no natural width).
    for _ in 0..50 {
        let loaded = browser
            .script("return [...document.querySelectorAll('.ticket img')].every(i => i.complete && i.naturalWidth > 0)")
            .await;
        if loaded == json!(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let loaded = browser
        .script("return [...document.querySelectorAll('.ticket img')].filter(i => i.naturalWidth > 0).length")
        .await;
    assert_eq!(loaded, json!(2));
    browser.snapshot("fan-tickets").await;

    browser.click("header form button").await;
    browser.wait_for_text("Sign in").await;
    browser.goto(&format!("{}/me/tickets", served.base)).await;
    browser.wait_for_text("Email or username").await;
    browser.close().await;
}

/// Buying in a real browser: sign in from the event page, reserve, a declined card shows its error
/// beside the card, the test card pays, and the ticket is there; the escrow holds the money.
#[tokio::test]
async fn a_fan_buys_a_ticket_with_the_sandbox_card_in_a_browser() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "shop_org").await;
    let (event, _) = on_sale(&app, &organizer, json!({"price": 2500, "name": "Standing"})).await;
    signed_in(&app, "shop_fan").await;
    let served = serve(&app).await;
    let browser = Browser::start().await;

    browser.goto(&format!("{}/events/{event}", served.base)).await;
    browser.click("a[href^='/signin?next=']").await;
    browser.type_into("#login", "shop_fan").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("Standing").await;
    browser.click("form.buy button").await;
    let text = browser.wait_for_text("Your order").await;
    assert!(text.contains("25.00 EUR") && text.contains("held for you until"), "{text}");
    browser.snapshot("fan-checkout").await;

    browser.type_into("#card_number", "4000 0000 0000 0002").await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("declined").await;
    browser.type_into("#card_number", "4242 4242 4242 4242").await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_url("/me/tickets").await;
    let text = browser.wait_for_text("Code").await;
    assert!(text.contains("Standing") && text.contains("25.00 EUR"), "{text}");
    browser.close().await;

    let escrow: i64 = sqlx::query_scalar(
        "SELECT balance FROM ledger_accounts WHERE owner_type = 'event' AND owner_id = $1 AND kind = 'escrow'",
    )
    .bind(event.parse::<uuid::Uuid>().unwrap())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(escrow, 2500);
}

#[tokio::test]
async fn orders_are_their_buyers_and_buying_needs_the_form_token() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "guard_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 2500})).await;
    let (fan, _, _) = signed_in(&app, "guard_fan").await;
    signed_in(&app, "guard_other").await;
    let order = reserve(&app, &fan, &event, &tier, 1).await.value();
    let order = order["id"].as_str().unwrap().to_owned();

    let mine = web_session(&app, "guard_fan").await;
    let page = app.get(&format!("/orders/{order}")).header("cookie", &cookie_header(&mine)).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("Pay 25.00 EUR"));
    let theirs = web_session(&app, "guard_other").await;
    let page = app.get(&format!("/orders/{order}")).header("cookie", &cookie_header(&theirs)).send().await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert!(!page.text().contains("25.00 EUR"));

    // A purchase posted without the form's token buys nothing.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.db.pool).await.unwrap();
    let body = form(&[("tier", &tier), ("quantity", "1")]);
    app.post(&format!("/events/{event}/orders"))
        .header("cookie", &cookie_header(&mine))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(before, after);
}

/// Joining in a real browser: the sign-up form, the link from the mail (opened by the browser), the
/// confirmation, and signing in as the new, verified user.
#[tokio::test]
async fn a_newcomer_signs_up_and_confirms_through_the_mailed_link_in_a_browser() {
    let app = app().await;
    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.goto(&format!("{}/signup", served.base)).await;
    browser.type_into("#email", "newcomer@example.com").await;
    browser.type_into("#username", "x").await;
    browser.type_into("#display_name", "New Comer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("input[name=persona_fan]").await;
    browser.click("form.stack button[type=submit]").await;
    // The server's own checks, beside the field, with what was typed kept.
    let mut shown = false;
    for _ in 0..100 {
        if browser.source().await.contains("id=\"username-error\"") {
            shown = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(shown, "the username's error is shown beside it");
    browser.type_into("#username", "newcomer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("We sent a link to newcomer@example.com").await;

    let token = crate::support::mailed_token(&app, "newcomer@example.com").await;
    browser.goto(&format!("{}/verify-email?token={token}", served.base)).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("newcomer@example.com is confirmed").await;
    browser.goto(&format!("{}/signin?next=%2Fme%2Ftickets", served.base)).await;
    browser.type_into("#login", "newcomer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("You have no tickets yet").await;
    browser.close().await;

    let status: String = sqlx::query_scalar("SELECT status FROM users WHERE username = 'newcomer'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(status, "active");
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT r.role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.username = 'newcomer'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(roles.contains(&"fan".to_owned()), "{roles:?}");
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_mailed_link() {
    let app = app().await;
    signed_in(&app, "forgetful").await;
    let mut jar = Vec::new();
    let token = csrf(&app, &mut jar).await;
    let post = |path: &str, body: String, jar: &[(String, String)]| {
        app.post(path)
            .header("cookie", &cookie_header(jar))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let sent = post("/forgot-password", form(&[("csrf", &token), ("email", "forgetful@example.com")]), &jar).await;
    sent.assert_status(StatusCode::OK);
    assert!(sent.text().contains("If an account has this address"));
    // An unknown address gets the same answer.
    let unknown = post("/forgot-password", form(&[("csrf", &token), ("email", "nobody@example.com")]), &jar).await;
    unknown.assert_status(StatusCode::OK);
    assert_eq!(unknown.text(), sent.text());

    let reset = crate::support::mailed_token(&app, "forgetful@example.com").await;
    let page = app.get(&format!("/reset-password?token={reset}")).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains(&format!("value=\"{reset}\"")));
    let short =
        post("/reset-password", form(&[("csrf", &token), ("token", &reset), ("password", "short")]), &jar).await;
    short.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().contains("id=\"password-error\""), "{}", short.text());
    let done =
        post("/reset-password", form(&[("csrf", &token), ("token", &reset), ("password", "a brand new phrase")]), &jar)
            .await;
    done.assert_status(StatusCode::OK);
    assert!(done.text().contains("Password changed"));
    crate::support::login(&app, "forgetful", "a brand new phrase").await.assert_status(StatusCode::OK);
    // The link works once.
    let again =
        post("/reset-password", form(&[("csrf", &token), ("token", &reset), ("password", "another new phrase")]), &jar)
            .await;
    assert!(again.status.is_client_error(), "{}", again.status);
    assert!(again.text().contains("used already, or it expired"));
}

/// The door in a real browser: the organizer types a fan's code (admitted, then "already in"), an
/// unknown code is refused, and the counts follow. Someone who is not door staff is refused the page.
#[tokio::test]
async fn the_door_checks_tickets_in_from_a_typed_code_in_a_browser() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "door_keeper").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let (fan, _, _) = signed_in(&app, "door_fan").await;
    signed_in(&app, "door_stranger").await;
    let order = reserve(&app, &fan, &event, &tier, 1).await.value();
    let code = order["tickets"][0]["code"].as_str().unwrap().to_owned();

    let stranger = web_session(&app, "door_stranger").await;
    let page = app.get(&format!("/events/{event}/door")).header("cookie", &cookie_header(&stranger)).send().await;
    assert!(page.status.is_client_error(), "{}", page.status);
    assert!(!page.text().contains("Who came"));

    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.goto(&format!("{}/signin?next=%2Fevents%2F{event}%2Fdoor", served.base)).await;
    browser.type_into("#login", "door_keeper").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.stack button[type=submit]").await;
    let text = browser.wait_for_text("Who came").await;
    assert!(text.contains("0 of 1 tickets checked in"), "{text}");
    browser.type_into("#code", &code).await;
    browser.click("#scan-form button[type=submit]").await;
    let text = browser.wait_for_text("Admit").await;
    assert!(text.contains("1 of 1 tickets checked in"), "{text}");
    browser.type_into("#code", &code).await;
    browser.click("#scan-form button[type=submit]").await;
    browser.wait_for_text("Already in").await;
    browser.snapshot("door").await;
    browser.type_into("#code", "NOTACODE").await;
    browser.click("#scan-form button[type=submit]").await;
    let text = browser.wait_for_text("Refuse").await;
    assert!(text.contains("No ticket has this code"), "{text}");
    browser.close().await;

    let checked: i64 = sqlx::query_scalar("SELECT count(*) FROM tickets WHERE checked_in_at IS NOT NULL")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(checked, 1);
}

/// axe-core finds no WCAG 2.1 A or AA violation on the main pages, signed out and signed in.
#[tokio::test]
async fn the_main_pages_pass_an_accessibility_check() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "a11y_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 2500})).await;
    let (fan, _, _) = signed_in(&app, "a11y_fan").await;
    let order = reserve(&app, &fan, &event, &tier, 1).await.value();
    let order = order["id"].as_str().unwrap().to_owned();
    let served = serve(&app).await;
    let browser = Browser::start().await;
    let mut found = Vec::new();
    for path in ["/", "/events", &format!("/events/{event}"), "/signin", "/signup", "/forgot-password"] {
        browser.goto(&format!("{}{path}", served.base)).await;
        for v in browser.accessibility_violations().await {
            found.push((path.to_owned(), v));
        }
    }
    browser.goto(&format!("{}/signin", served.base)).await;
    browser.type_into("#login", "a11y_fan").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_url("/").await;
    for path in [
        format!("/events/{event}"),
        format!("/orders/{order}"),
        "/me/tickets".to_owned(),
        "/me/transfers".to_owned(),
        "/me/wallet".to_owned(),
        "/me/notifications".to_owned(),
        "/me/account".to_owned(),
        "/me/keys".to_owned(),
        "/me/payouts".to_owned(),
        "/manage/events".to_owned(),
        "/manage/events/new".to_owned(),
    ] {
        browser.goto(&format!("{}{path}", served.base)).await;
        for v in browser.accessibility_violations().await {
            found.push((path.clone(), v));
        }
    }
    // The check can fail: an image without a text alternative is found.
    browser
        .script("const i = document.createElement('img'); i.src = '/assets/none.png'; document.body.appendChild(i);")
        .await;
    let planted = browser.accessibility_violations().await;
    assert!(planted.iter().any(|v| v.0 == "image-alt"), "{planted:?}");
    browser.close().await;
    assert!(found.is_empty(), "accessibility violations: {found:#?}");
}

/// Giving a ticket in a real browser: the holder offers it by email, the recipient signs in, accepts it
/// from their transfers, and holds it with a new code; the giver no longer has it.
#[tokio::test]
async fn a_fan_gives_a_ticket_and_the_recipient_accepts_it_in_a_browser() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "gift_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0, "name": "Gift"})).await;
    let (giver, _, _) = signed_in(&app, "gift_giver").await;
    signed_in(&app, "gift_taker").await;
    let order = reserve(&app, &giver, &event, &tier, 1).await.value();
    let old_code = order["tickets"][0]["code"].as_str().unwrap().to_owned();
    let served = serve(&app).await;
    let browser = Browser::start().await;

    let sign_in = async |who: &str, next: &str| {
        browser.goto(&format!("{}/signin?next={}", served.base, crate::web::encode(next))).await;
        browser.type_into("#login", who).await;
        browser.type_into("#password", PASSWORD).await;
        browser.click("form.stack button[type=submit]").await;
        browser.wait_for_url(next).await;
    };
    sign_in("gift_giver", "/me/tickets").await;
    browser.type_into("form.give input[name=email]", "gift_taker@example.com").await;
    browser.click("form.give button").await;
    browser.wait_for_url("/me/transfers").await;
    browser.wait_for_text("gift_taker@example.com").await;
    browser.click("header form button").await;
    browser.wait_for_text("Create an account").await;

    sign_in("gift_taker", "/me/transfers").await;
    browser.wait_for_text("Offered to you").await;
    browser.click("form[action$='/accept'] button").await;
    browser.wait_for_url("/me/tickets").await;
    let text = browser.wait_for_text("Gift").await;
    assert!(!text.contains(&old_code), "the ticket has a new code: {text}");
    browser.close().await;

    let holder: String =
        sqlx::query_scalar("SELECT u.username FROM tickets t JOIN users u ON u.id = t.holder_id WHERE t.order_id = $1")
            .bind(order["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(holder, "gift_taker");
}

pub(crate) fn encode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)]).unwrap()[1..].to_owned()
}

/// An organizer in a real browser: a new draft (its errors first), a tier, publishing, and the public
/// page selling it. Another user is refused the management page.
#[tokio::test]
async fn an_organizer_creates_prices_and_publishes_an_event_in_a_browser() {
    let app = app().await;
    signed_in(&app, "maker_org").await;
    signed_in(&app, "maker_other").await;
    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.goto(&format!("{}/signin?next=%2Fmanage%2Fevents%2Fnew", served.base)).await;
    browser.type_into("#login", "maker_org").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_url("/manage/events/new").await;
    browser.type_into("#title", "Browser Beats").await;
    browser.click("form.stack button[type=submit]").await;
    // No times: the form again, the errors beside the fields.
    browser.wait_for_text("must be a date and time").await;
    assert!(browser.source().await.contains("id=\"starts_at-error\""));
    let day = (app.clock_now() + chrono::Duration::days(20)).format("%Y-%m-%d").to_string();
    // Typing into a datetime-local input differs between browsers: set the values directly.
    browser
        .script(&format!(
            "document.getElementById('starts_at').value = '{day}T20:00'; document.getElementById('ends_at').value = '{day}T23:30';"
        ))
        .await;
    browser.type_into("#city", "Leipzig").await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("No tier yet").await;
    let manage_url = browser.current_url().await;

    browser.type_into("#tier-name", "Floor").await;
    browser.type_into("#tier-price", "abc").await;
    browser.click("form[action$='/tiers'] button").await;
    browser.wait_for_text("must be an amount").await;
    browser.type_into("#tier-name", "Floor").await;
    browser.type_into("#tier-price", "19.90").await;
    browser.click("form[action$='/tiers'] button").await;
    let text = browser.wait_for_text("19.90 EUR").await;
    assert!(text.contains("Floor") && text.contains("draft"), "{text}");
    browser.snapshot("organizer-event").await;
    browser.click("#status-published").await;
    browser.wait_for_text("published").await;
    browser.click("a[href^='/events/']:not([href$='/door'])").await;
    let text = browser.wait_for_text("How many Floor tickets").await;
    assert!(text.contains("Browser Beats") && text.contains("Leipzig"), "{text}");
    browser.close().await;

    let path = manage_url.split_once("/manage/").map(|(_, rest)| format!("/manage/{rest}")).unwrap();
    let other = web_session(&app, "maker_other").await;
    let page = app.get(&path).header("cookie", &cookie_header(&other)).send().await;
    assert!(page.status == StatusCode::FORBIDDEN || page.status == StatusCode::NOT_FOUND, "{}", page.status);
    assert!(!page.text().contains("Add a tier"));
}

/// An admin in a real browser suspends a user (who can then no longer sign in) and reactivates them;
/// a user who is not staff is refused the page.
#[tokio::test]
async fn an_admin_suspends_and_reactivates_a_user_in_a_browser() {
    let app = app().await;
    crate::support::signed_in_admin(&app).await;
    signed_in(&app, "unruly_fan").await;
    let plain = web_session(&app, "unruly_fan").await;
    let page = app.get("/admin/users").header("cookie", &cookie_header(&plain)).send().await;
    page.assert_status(StatusCode::FORBIDDEN);
    assert!(!page.text().contains("root_admin"));

    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.goto(&format!("{}/signin?next=%2Fadmin%2Fusers", served.base)).await;
    browser.type_into("#login", "root_admin").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_url("/admin/users").await;
    browser.type_into("#user-q", "unruly").await;
    browser.click("form.search button").await;
    browser.wait_for_url("/admin/users?q=unruly").await;
    browser.click("#suspend-unruly_fan").await;
    browser.wait_for_text("Reactivate").await;
    browser.snapshot("admin-users").await;
    crate::support::login(&app, "unruly_fan", PASSWORD)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "account_suspended");
    browser.click("#reactivate-unruly_fan").await;
    browser.wait_for_text("Suspend").await;
    browser.close().await;
    crate::support::login(&app, "unruly_fan", PASSWORD).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn staff_retry_a_dead_job() {
    let app = app().await;
    crate::support::signed_in_admin(&app).await;
    let mut conn = app.db.pool.acquire().await.unwrap();
    let kind = platform::jobs::JobKind::new("test.web.dead");
    let id = platform::jobs::enqueue(&mut conn, platform::jobs::NewJob::new(kind, json!({})), app.clock_now())
        .await
        .unwrap()
        .unwrap();
    sqlx::query(
        "UPDATE jobs SET state = 'dead', attempts = 5, last_error = 'it broke', finished_at = now() WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let admin = web_session(&app, "root_admin").await;
    let page = app.get("/admin/jobs").header("cookie", &cookie_header(&admin)).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("test.web.dead") && page.text().contains("it broke"), "{}", page.text());
    let token = admin.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let retried = app
        .post(&format!("/admin/jobs/{id}/retry"))
        .header("cookie", &cookie_header(&admin))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &token)]))
        .send()
        .await;
    retried.assert_status(StatusCode::SEE_OTHER);
    let state: String =
        sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1").bind(id).fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(state, "queued");
    let page = app.get("/admin/jobs").header("cookie", &cookie_header(&admin)).send().await;
    assert!(page.text().contains("No dead job."));
}

#[tokio::test]
async fn the_wallet_shows_balances_and_a_statement_with_its_chart_to_its_owner_only() {
    let app = app().await;
    let (_, user, _) = signed_in(&app, "wallet_owner").await;
    signed_in(&app, "wallet_snoop").await;
    let account = crate::ledger::funded(&app.db.pool, user.parse().unwrap(), 12_345).await;
    // The top-up is stamped with the wall clock; the statement ends at the application's (manual) clock.
    app.clock.advance(chrono::Duration::minutes(1));
    let mine = web_session(&app, "wallet_owner").await;
    let page = app.get("/me/wallet").header("cookie", &cookie_header(&mine)).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("123.45 EUR"), "{}", page.text());
    let statement = app.get(&format!("/me/wallet/{account}")).header("cookie", &cookie_header(&mine)).send().await;
    statement.assert_status(StatusCode::OK);
    let html = statement.text();
    assert!(html.contains("<svg class=\"chart\"") && html.contains("<polyline"), "{html}");
    assert!(html.contains("role=\"img\"") && html.contains("from 0.00 EUR to 123.45 EUR"), "{html}");
    assert!(html.contains("Opening 0.00 EUR") && html.contains("now 123.45 EUR"), "{html}");

    let theirs = web_session(&app, "wallet_snoop").await;
    let page = app.get(&format!("/me/wallet/{account}")).header("cookie", &cookie_header(&theirs)).send().await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert!(!page.text().contains("123.45"));
}

#[tokio::test]
async fn a_browser_asking_for_a_missing_page_gets_a_page_and_the_api_keeps_its_problems() {
    let app = app().await;
    let page = app.get("/no/such/page").header("accept", "text/html,application/xhtml+xml").send().await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text().contains("There is no page here."));
    assert!(page.header("content-security-policy").is_some());
    app.get("/no/such/page").send().await.assert_problem(StatusCode::NOT_FOUND, "route_not_found");
    app.get("/v1/no/such/route")
        .header("accept", "text/html")
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "route_not_found");
}

#[tokio::test]
async fn the_notification_center_lists_what_happened_and_marks_it_read() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "note_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let (giver, _, _) = signed_in(&app, "note_giver").await;
    signed_in(&app, "note_taker").await;
    let order = reserve(&app, &giver, &event, &tier, 1).await.value();
    let ticket = order["tickets"][0]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/tickets/{ticket}/transfers"))
        .bearer(&giver)
        .json(&json!({"to_email": "note_taker@example.com"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    crate::support::drain_jobs(&app).await;

    let taker = web_session(&app, "note_taker").await;
    let page = app.get("/me/notifications").header("cookie", &cookie_header(&taker)).send().await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    // The welcome on verifying the address, and the offer.
    assert!(html.contains("<strong id=\"unread\">2</strong>"), "{html}");
    assert!(html.contains("sends you a ticket to Nova Beats live"), "the notification names the event: {html}");
    let token = taker.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    app.post("/me/notifications/read")
        .header("cookie", &cookie_header(&taker))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &token)]))
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = app.get("/me/notifications").header("cookie", &cookie_header(&taker)).send().await;
    assert!(page.text().contains("<strong id=\"unread\">0</strong>"));
    // The giver sees none of the taker's notifications.
    let giver = web_session(&app, "note_giver").await;
    let giver_page = app.get("/me/notifications").header("cookie", &cookie_header(&giver)).send().await;
    assert!(!giver_page.text().contains("sends you a ticket"), "{}", giver_page.text());
}

#[tokio::test]
async fn an_order_is_paid_from_the_wallet_and_a_short_wallet_is_refused_with_nothing_moved() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "wallet_shop_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 2500})).await;
    let (fan, user, _) = signed_in(&app, "wallet_shopper").await;
    let account = crate::ledger::funded(&app.db.pool, user.parse().unwrap(), 1_000).await;
    let order = reserve(&app, &fan, &event, &tier, 1).await.value();
    let order = order["id"].as_str().unwrap().to_owned();
    let jar = web_session(&app, "wallet_shopper").await;
    let token = jar.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let pay = || {
        app.post(&format!("/orders/{order}/pay"))
            .header("cookie", &cookie_header(&jar))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", &token), ("source", "wallet"), ("card_number", ""), ("key", "00ff")]))
            .send()
    };
    let short = pay().await;
    short.assert_status(StatusCode::CONFLICT);
    assert!(short.text().contains("role=\"alert\""), "{}", short.text());
    let balance = balance_of(&app, account).await;
    assert_eq!(balance, 1_000, "a refused payment moves nothing");
    crate::ledger::funded(&app.db.pool, user.parse().unwrap(), 2_000).await;
    let paid = pay().await;
    paid.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(paid.header("location"), Some("/me/tickets"));
    let balance = balance_of(&app, account).await;
    assert_eq!(balance, 500);
}

#[tokio::test]
async fn the_account_page_saves_the_profile_and_ends_another_session() {
    let app = app().await;
    let (api_token, _, _) = signed_in(&app, "account_owner").await;
    let jar = web_session(&app, "account_owner").await;
    let token = jar.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let page = app.get("/me/account").header("cookie", &cookie_header(&jar)).send().await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    // The API's session and this browser's: the other one can be ended from here.
    assert_eq!(html.matches("Sign out there").count(), 1, "{html}");
    assert!(html.contains("this one"));

    let save = |pairs: Vec<(&'static str, String)>| {
        let mut body: Vec<(&str, &str)> = vec![("csrf", &token)];
        body.extend(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        app.post("/me/account")
            .header("cookie", &cookie_header(&jar))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&body))
            .send()
    };
    let bad =
        save(vec![("display_name", "Ann".into()), ("timezone", "not a zone".into()), ("locale", "en".into())]).await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("id=\"timezone-error\""), "{}", bad.text());
    let good = save(vec![
        ("display_name", "Ann Owner".into()),
        ("timezone", "Europe/Lisbon".into()),
        ("locale", "pt-PT".into()),
    ])
    .await;
    good.assert_status(StatusCode::OK);
    assert!(good.text().contains("Saved.") && good.text().contains("value=\"Europe/Lisbon\""), "{}", good.text());

    let other = html.split("action=\"/me/sessions/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    app.post(&format!("/me/sessions/{other}/end"))
        .header("cookie", &cookie_header(&jar))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &token)]))
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    // The API's token was that session's: it no longer signs anyone in.
    app.get("/v1/me").bearer(&api_token).send().await.assert_status(StatusCode::UNAUTHORIZED);
    app.get("/me/account").header("cookie", &cookie_header(&jar)).send().await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn an_api_key_is_created_shown_once_used_and_revoked_from_the_page() {
    let app = app().await;
    signed_in(&app, "key_owner").await;
    let jar = web_session(&app, "key_owner").await;
    let token = jar.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let post = |path: &str, pairs: &[(&str, &str)]| {
        let mut body = vec![("csrf", token.as_str())];
        body.extend_from_slice(pairs);
        app.post(path)
            .header("cookie", &cookie_header(&jar))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&body))
            .send()
    };
    let bad = post("/me/keys", &[("name", "script"), ("scopes", "no.such.permission")]).await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("id=\"scopes-error\""), "{}", bad.text());
    let made = post("/me/keys", &[("name", "reporting"), ("scopes", "profile.read")]).await;
    made.assert_status(StatusCode::CREATED);
    assert_eq!(made.header("cache-control"), Some("no-store"));
    let html = made.text();
    let secret = html.split("<code id=\"new-key\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    app.get("/v1/me").bearer(&secret).send().await.assert_status(StatusCode::OK);
    // Listed again later without its secret.
    let list = app.get("/me/keys").header("cookie", &cookie_header(&jar)).send().await.text();
    assert!(list.contains("reporting") && !list.contains(&secret));
    let id = list.split("action=\"/me/keys/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    post(&format!("/me/keys/{id}/revoke"), &[]).await.assert_status(StatusCode::SEE_OTHER);
    app.get("/v1/me").bearer(&secret).send().await.assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn payouts_add_a_bank_account_and_a_withdrawal_that_can_be_cancelled() {
    let app = app().await;
    let (_, user, _) = signed_in(&app, "payout_user").await;
    let account = crate::ledger::funded(&app.db.pool, user.parse().unwrap(), 10_000).await;
    let jar = web_session(&app, "payout_user").await;
    let token = jar.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let post = |path: String, pairs: Vec<(&'static str, String)>| {
        let mut body: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        body.extend(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        app.post(&path)
            .header("cookie", &cookie_header(&jar))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&body))
            .send()
    };
    let bad =
        post("/me/payouts/methods".into(), vec![("iban", "DE00 1234".into()), ("account_holder", "Pay Out".into())])
            .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("id=\"iban-error\""), "{}", bad.text());
    post(
        "/me/payouts/methods".into(),
        vec![("iban", "DE89 3704 0044 0532 0130 00".into()), ("account_holder", "Pay Out".into())],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let page = app.get("/me/payouts").header("cookie", &cookie_header(&jar)).send().await.text();
    assert!(page.contains("DE89"), "{page}");
    let method = page.split("<option value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    let too_much = post(
        "/me/payouts/withdrawals".into(),
        vec![("amount", "500".into()), ("currency", "EUR".into()), ("payout_method_id", method.clone())],
    )
    .await;
    too_much.assert_status(StatusCode::CONFLICT);
    assert!(too_much.text().contains("role=\"alert\""));
    post(
        "/me/payouts/withdrawals".into(),
        vec![("amount", "20".into()), ("currency", "EUR".into()), ("payout_method_id", method)],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let page = app.get("/me/payouts").header("cookie", &cookie_header(&jar)).send().await.text();
    assert!(page.contains("20.00 EUR") && page.contains("queued"), "{page}");
    let withdrawal =
        page.split("action=\"/me/payouts/withdrawals/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    post(format!("/me/payouts/withdrawals/{withdrawal}/cancel"), vec![]).await.assert_status(StatusCode::SEE_OTHER);
    let balance = balance_of(&app, account).await;
    assert_eq!(balance, 10_000, "a cancelled withdrawal returns the money, fee included");
}

/// A checkout sent twice at once (a double click, a retried request) charges the card once: both
/// requests carry the page's key. Several orders, each paid by two concurrent requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_sent_twice_at_once_charges_once() {
    let app = std::sync::Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "double_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 1500, "max_per_buyer": 50})).await;
    let (fan, _, _) = signed_in(&app, "double_fan").await;
    let jar = std::sync::Arc::new(web_session(&app, "double_fan").await);
    let token = jar.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    for round in 0..6 {
        let order = reserve(&app, &fan, &event, &tier, 1).await.value()["id"].as_str().unwrap().to_owned();
        let key = format!("{round:032x}");
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let (app, jar, order, key, token) = (app.clone(), jar.clone(), order.clone(), key.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                app.post(&format!("/orders/{order}/pay"))
                    .header("cookie", &cookie_header(&jar))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form(&[
                        ("csrf", &token),
                        ("source", "card"),
                        ("card_number", "4242 4242 4242 4242"),
                        ("key", &key),
                    ]))
                    .send()
                    .await
                    .status
            }));
        }
        for task in tasks {
            let status = task.await.unwrap();
            assert!(status == StatusCode::SEE_OTHER || status.is_client_error(), "{status}");
        }
        let state: String = sqlx::query_scalar("SELECT state FROM orders WHERE id = $1")
            .bind(order.parse::<uuid::Uuid>().unwrap())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert_eq!(state, "paid", "round {round}");
    }
    let charges: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payment_intents").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(charges, 6, "one card charge per order, however many requests");
}
