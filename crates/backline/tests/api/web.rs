//! The web app: pages over the domains' services, sessions by cookie, CSRF, security headers, other
//! users' objects refused, and a fan's journey in a real headless Chromium.

use axum::http::StatusCode;
use serde_json::json;
use testkit::TestApp;

use crate::browser::{Browser, serve};
use crate::support::{PASSWORD, app, signed_in};
use crate::ticketing::{on_sale, reserve};

/// The cookies a response sets, as one `Cookie` header value (later ones replace earlier ones).
pub(crate) fn cookies(res: &testkit::TestResponse, jar: &mut Vec<(String, String)>) {
    for value in res.headers.get_all("set-cookie") {
        let pair = value.to_str().unwrap().split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        jar.retain(|(n, _)| n != name);
        if !value.is_empty() {
            jar.push((name.to_owned(), value.to_owned()));
        }
    }
}

pub(crate) fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
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
pub(crate) async fn web_session(app: &TestApp, login: &str) -> Vec<(String, String)> {
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
    // Not "declined": the checkout page's own help names the declined test card, so that text is there
    // before the answer arrives.
    browser.wait_for_text("The payment failed").await;
    browser.type_into("#card_number", "4242 4242 4242 4242").await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_url("/me/tickets").await;
    let text = browser.wait_for_text("Code").await;
    assert!(text.contains("Standing") && text.contains("25.00 EUR"), "{text}");
    browser.close().await;

    let escrow = sqlx::query_scalar!(
        r#"SELECT ledger_balance(a) AS "balance!" FROM ledger_accounts a WHERE owner_type = 'event' AND owner_id = $1 AND kind = 'escrow'"#,
        event.parse::<uuid::Uuid>().unwrap()
    )
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
    crate::support::signed_in_admin(&app).await;
    let p = crate::booking::parties(&app, "a11y").await;
    let booking = crate::booking::created(crate::booking::offer(&app, &p, 50_000, 30).await).await;
    let booking = booking["id"].as_str().unwrap().to_owned();
    let org = crate::support::create_org(&app, &p.artist, "a11y-crew").await;
    let team = app
        .post(&format!("/v1/orgs/{org}/teams"))
        .bearer(&p.artist)
        .json(&json!({"name": "Crew"}))
        .send()
        .await
        .value()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let served = serve(&app).await;
    let browser = Browser::start().await;
    let mut found = Vec::new();
    let artist = format!("/artists/{}", p.artist_id);
    for path in
        ["/", "/events", &format!("/events/{event}"), "/signin", "/signup", "/forgot-password", "/artists", &artist]
    {
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
    browser.sign_out().await;
    browser.sign_in(&served.base, "a11y_artist", "/bookings").await;
    for path in [
        "/bookings".to_owned(),
        format!("/bookings/{booking}"),
        artist.clone(),
        format!("{artist}/edit"),
        format!("{artist}/calendar"),
        "/orgs".to_owned(),
        format!("/orgs/{org}"),
        format!("/orgs/{org}/teams/{team}"),
        "/invitations/accept?token=abc".to_owned(),
    ] {
        browser.goto(&format!("{}{path}", served.base)).await;
        for v in browser.accessibility_violations().await {
            found.push((path.clone(), v));
        }
    }
    browser.sign_out().await;
    browser.sign_in(&served.base, "root_admin", "/admin/users").await;
    for path in [
        "/admin/users".to_owned(),
        "/admin/bookings".to_owned(),
        "/admin/jobs".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/security".to_owned(),
        // Staff may open any event's organizer pages.
        format!("/manage/events/{event}"),
        format!("/manage/events/{event}/edit"),
        format!("/manage/events/{event}/sales"),
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

/// A promoter finds an artist, sends an offer (a wrong fee first); the artist counters from the inbox;
/// the promoter accepts and signs, the artist signs, staff approve (the deposit leaves the promoter's
/// wallet), and the promoter pays the balance by card: all in a real browser, each step as its person
/// sees it.
#[tokio::test]
async fn an_offer_goes_through_a_counter_offer_to_a_signed_contract_and_payment_in_a_browser() {
    let app = app().await;
    crate::support::signed_in_admin(&app).await;
    let p = crate::booking::parties(&app, "webbook").await;
    let organizer = crate::booking::owner_of(&app, "promoter_profiles", &p.promoter_id).await;
    crate::booking::fund(&app, organizer, 1_000_000).await;
    let served = serve(&app).await;
    let base = &served.base;
    let browser = Browser::start().await;

    browser.sign_in(base, "webbook_promoter", "/artists").await;
    browser.type_into("#q", "webbook").await;
    browser.click("form.filters button").await;
    browser.wait_for_url("q=webbook&genre=&near=&radius_km=&budget_min=&budget_max=&date=").await;
    browser.click(&format!("a[href='/artists/{}']", p.artist_id)).await;
    browser.wait_for_text("Make an offer").await;
    browser.type_into("#terms-fee", "lots").await;
    browser.click("form[action$='/offers'] button").await;
    browser.wait_for_text("must be an amount").await;
    assert!(browser.source().await.contains("id=\"terms-fee-error\""));
    browser.type_into("#terms-fee", "450").await;
    browser.type_into("#terms-message", "Headline our Friday?").await;
    browser.click("form[action$='/offers'] button").await;
    let text = browser.wait_for_text("Waiting for webbook band").await;
    assert!(text.contains("450.00 EUR") && text.contains("Headline our Friday?") && text.contains("offered"), "{text}");
    // What the action did, said once as a toast.
    assert!(text.contains("Your offer is sent to webbook band."), "{text}");
    let booking_url = browser.current_url().await;
    let booking_path = format!("/bookings/{}", booking_url.rsplit('/').next().unwrap());
    browser.sign_out().await;

    browser.sign_in(base, "webbook_artist", "/bookings").await;
    let text = browser.wait_for_text("Waiting for you").await;
    assert!(text.contains("webbook band · webbook presents") && !text.contains("Nothing waits"), "{text}");
    browser.click(&format!("#waiting a[href='{booking_path}']")).await;
    browser.wait_for_text("Your move").await;
    browser.type_into("#terms-fee", "600").await;
    browser.type_into("#terms-message", "600 and it's a deal").await;
    browser.click("#propose").await;
    let text = browser.wait_for_text("Waiting for webbook presents").await;
    assert!(text.contains("600.00 EUR") && text.contains("negotiating"), "{text}");
    browser.snapshot("artist-booking").await;
    browser.sign_out().await;

    browser.sign_in(base, "webbook_promoter", &booking_path).await;
    browser.click("#accept").await;
    let text = browser.wait_for_text("Contract, version 1").await;
    assert!(text.contains("contracting") && text.contains("600.00 EUR"), "{text}");
    browser.click("#sign").await;
    browser.wait_for_text("Signed by webbook presents").await;
    browser.sign_out().await;

    browser.sign_in(base, "webbook_artist", &booking_path).await;
    browser.click("#sign").await;
    browser.wait_for_text("staff review the contract").await;
    browser.sign_out().await;

    browser.sign_in(base, "root_admin", &booking_path).await;
    browser.click("#review").await;
    // Confirmed, and the deposit taken from the organizer's wallet at once.
    browser.wait_for_text("paid deposit").await;
    browser.sign_out().await;

    // The organizer's wallet paid the deposit at confirmation; the balance is paid by card, a
    // declined card first.
    browser.sign_in(base, "webbook_promoter", &booking_path).await;
    let text = browser.wait_for_text("Deposit paid on").await;
    assert!(text.contains("paid deposit") && text.contains("Pay the balance: 441.00 EUR"), "{text}");
    browser.snapshot("promoter-booking").await;
    browser.click("input[name=source][value=card]").await;
    browser.type_into("#pay-card", "4000 0000 0000 0002").await;
    browser.click("#pay").await;
    browser.wait_for_text("The payment failed").await;
    browser.click("input[name=source][value=card]").await;
    browser.type_into("#pay-card", "4242 4242 4242 4242").await;
    browser.click("#pay").await;
    let text = browser.wait_for_text("Balance paid on").await;
    assert!(text.contains("scheduled") && !text.contains("Pay the balance"), "{text}");
    browser.close().await;

    assert_eq!(crate::booking::status_of(&app, booking_path.rsplit('/').next().unwrap()).await, "scheduled");
}

/// A booking is its parties' (and staff's): anyone else gets a 404 page, and its forms need their token.
#[tokio::test]
async fn another_users_booking_is_not_found_and_its_forms_need_their_token() {
    let app = app().await;
    let p = crate::booking::parties(&app, "private").await;
    let booking = crate::booking::created(crate::booking::offer(&app, &p, 50_000, 30).await).await;
    let path = format!("/bookings/{}", booking["id"].as_str().unwrap());
    signed_in(&app, "nosy_neighbour").await;
    let nosy = web_session(&app, "nosy_neighbour").await;
    let page = app.get(&path).header("cookie", &cookie_header(&nosy)).send().await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert!(!page.text().contains("private band"));
    let token = nosy.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let res = app
        .post(&format!("{path}/do/decline"))
        .header("cookie", &cookie_header(&nosy))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &token), ("reason", "mine now")]))
        .send()
        .await;
    res.assert_status(StatusCode::NOT_FOUND);

    let artist = web_session(&app, "private_artist").await;
    let page = app.get(&path).header("cookie", &cookie_header(&artist)).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("Your move"));
    let res = app
        .post(&format!("{path}/do/decline"))
        .header("cookie", &cookie_header(&artist))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", "forged"), ("reason", "no")]))
        .send()
        .await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(crate::booking::status_of(&app, booking["id"].as_str().unwrap()).await, "offered");
}

/// The directory validates its filters beside each one, pages with cursors, and finds by distance from
/// a venue and by budget.
#[tokio::test]
async fn the_artist_directory_filters_by_budget_and_distance_and_pages() {
    let app = app().await;
    for i in 0..23 {
        let (token, _, _) = signed_in(&app, &format!("dir_artist{i:02}")).await;
        // Leipzig for the even ones, Munich for the odd ones; fees rising by 100 EUR.
        let (lat, lng) = if i % 2 == 0 { (51.34, 12.37) } else { (48.14, 11.58) };
        crate::booking::created(
            app.post("/v1/artists")
                .bearer(&token)
                .json(&json!({"stage_name": format!("Dirband {i:02}"), "genres": ["Jazz"], "latitude": lat, "longitude": lng,
                               "city": "X", "price_min": 10_000 * (i + 1), "price_max": 10_000 * (i + 1) + 5_000}))
                .send()
                .await,
        )
        .await;
    }
    let (venue_owner, _, _) = signed_in(&app, "dir_venue").await;
    let venue = crate::booking::created(
        app.post("/v1/venues")
            .bearer(&venue_owner)
            .json(&json!({"name": "Leipzig Hall", "address": "Markt 1", "city": "Leipzig", "country": "DE",
                           "latitude": 51.34, "longitude": 12.37, "capacity": 500}))
            .send()
            .await,
    )
    .await;

    let bad = app.get("/artists?budget_max=lots&date=someday").send().await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text();
    assert!(html.contains("id=\"budget_max-error\"") && html.contains("id=\"date-error\""), "{html}");

    let first = app.get("/artists?q=dirband").send().await;
    first.assert_status(StatusCode::OK);
    let html = first.text();
    assert_eq!(html.matches("Dirband ").count(), 20);
    let at = html.find("rel=\"next\"").map(|i| html[..i].rfind("href=\"").unwrap() + 6).expect("a next page");
    let next = html[at..].split('"').next().unwrap().replace("&amp;", "&").replace("&#38;", "&");
    let second = app.get(&next).send().await.text();
    assert_eq!(second.matches("Dirband ").count(), 3);
    assert!(!second.contains("rel=\"next\""));

    let near =
        app.get(&format!("/artists?q=dirband&near={}&radius_km=50", venue["id"].as_str().unwrap())).send().await.text();
    assert_eq!(near.matches("Dirband ").count(), 12, "the even ones are in Leipzig");
    assert!(near.contains("0 km away"));
    // 1,000 to 1,200 EUR overlaps the ranges of artists 9 (1,000–1,050), 10 and 11 (1,200–1,250).
    let budget = app.get("/artists?q=dirband&budget_min=1000&budget_max=1200").send().await.text();
    assert_eq!(budget.matches("Dirband ").count(), 3, "{budget}");
    assert!(budget.contains("Dirband 09") && budget.contains("Dirband 11") && !budget.contains("Dirband 12"));
}

/// The artist's month shows a confirmed booking on its day and an active hold; the calendar link is
/// made from the page and serves the bookings; another user cannot open the calendar.
#[tokio::test]
async fn the_artist_calendar_shows_bookings_and_holds_and_makes_the_feed_link() {
    let app = app().await;
    let admin = crate::support::signed_in_admin(&app).await;
    let p = crate::booking::parties(&app, "cal").await;
    let id = crate::booking::confirmed(&app, &p, &admin, 10).await;
    let day = app.clock_now() + chrono::Duration::days(10);
    let hold_day = app.clock_now() + chrono::Duration::days(12);
    crate::booking::created(
        app.post(&format!("/v1/artists/{}/holds", p.artist_id))
            .bearer(&p.organizer)
            .json(&json!({"promoter_id": p.promoter_id, "starts_at": hold_day, "ends_at": hold_day + chrono::Duration::hours(3)}))
            .send()
            .await,
    )
    .await;
    let artist = web_session(&app, "cal_artist").await;
    let path = format!("/artists/{}/calendar?month={}", p.artist_id, day.format("%Y-%m"));
    let page = app.get(&path).header("cookie", &cookie_header(&artist)).send().await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    let cell = |date: chrono::DateTime<chrono::Utc>| {
        let at = html.find(&format!("data-date=\"{}\"", date.format("%Y-%m-%d"))).expect("the day's cell");
        html[at..at + html[at..].find("</td>").unwrap()].to_owned()
    };
    assert!(
        cell(day).contains(&format!("href=\"/bookings/{id}\"")) && cell(day).contains("entry confirmed"),
        "{}",
        cell(day)
    );
    if hold_day.format("%Y-%m").to_string() == day.format("%Y-%m").to_string() {
        assert!(cell(hold_day).contains("entry hold"), "{}", cell(hold_day));
    }

    let token = artist.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let made = app
        .post(&format!("/artists/{}/calendar-url", p.artist_id))
        .header("cookie", &cookie_header(&artist))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &token)]))
        .send()
        .await;
    made.assert_status(StatusCode::OK);
    let html = made.text();
    let at = html.find("<code id=\"feed-url\">").unwrap() + "<code id=\"feed-url\">".len();
    let url = html[at..].split('<').next().unwrap();
    let feed_path = url.split_once("/v1/").map(|(_, rest)| format!("/v1/{rest}")).unwrap();
    let feed = app.get(&feed_path).send().await;
    feed.assert_status(StatusCode::OK);
    assert!(feed.text().contains("BEGIN:VEVENT") && feed.text().contains("cal presents"));

    signed_in(&app, "cal_stranger").await;
    let stranger = web_session(&app, "cal_stranger").await;
    let page = app.get(&path).header("cookie", &cookie_header(&stranger)).send().await;
    page.assert_status(StatusCode::FORBIDDEN);
    assert!(!page.text().contains("cal presents"));
    app.get(&format!("/v1/artists/{}/agenda", p.artist_id))
        .bearer(&p.organizer)
        .send()
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let agenda = app.get(&format!("/v1/artists/{}/agenda", p.artist_id)).bearer(&p.artist).send().await.value();
    let kinds: Vec<&str> = agenda["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["booking", "hold"], "{agenda}");
}

/// A venue's page is public; its calendar is its keepers': the bookings at the venue by day.
#[tokio::test]
async fn a_venue_keeps_its_calendar_of_bookings() {
    let app = app().await;
    let admin = crate::support::signed_in_admin(&app).await;
    let p = crate::booking::parties(&app, "hall").await;
    let (keeper, _, _) = signed_in(&app, "hall_keeper").await;
    let venue = crate::booking::created(
        app.post("/v1/venues")
            .bearer(&keeper)
            .json(
                &json!({"name": "Hall Nine", "address": "Ring 9", "city": "Leipzig", "country": "DE", "capacity": 900}),
            )
            .send()
            .await,
    )
    .await;
    let venue = venue["id"].as_str().unwrap().to_owned();
    let at = app.clock_now() + chrono::Duration::days(12);
    let offer = app
        .post("/v1/bookings")
        .bearer(&p.organizer)
        .json(&json!({"artist_id": p.artist_id, "promoter_id": p.promoter_id, "venue_id": venue,
                       "terms": {"fee": 50_000, "currency": "EUR", "starts_at": at, "ends_at": at + chrono::Duration::hours(2)}}))
        .send()
        .await;
    let id = crate::booking::created(offer).await["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/bookings/{id}/accept")).bearer(&p.artist).send().await.assert_status(StatusCode::OK);
    let _ = admin;
    let public = app.get(&format!("/venues/{venue}")).send().await;
    public.assert_status(StatusCode::OK);
    assert!(public.text().contains("Capacity 900") && !public.text().contains("/calendar\""));
    let mine = web_session(&app, "hall_keeper").await;
    let page = app
        .get(&format!("/venues/{venue}/calendar?month={}", at.format("%Y-%m")))
        .header("cookie", &cookie_header(&mine))
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    let cell = html.find(&format!("data-date=\"{}\"", at.format("%Y-%m-%d"))).expect("the day");
    let cell = &html[cell..cell + html[cell..].find("</td>").unwrap()];
    assert!(
        cell.contains(&format!("href=\"/bookings/{id}\"")) && cell.contains("entry pending"),
        "contracting: {cell}"
    );
    let other = web_session(&app, "hall_artist").await;
    let refused = app.get(&format!("/venues/{venue}/calendar")).header("cookie", &cookie_header(&other)).send().await;
    refused.assert_status(StatusCode::FORBIDDEN);
}

/// Staff see signed contracts waiting for review and disputes in one queue, the audit log and the
/// security events, each filtered and paged; anyone else is refused all four pages.
#[tokio::test]
async fn staff_see_reviews_disputes_the_audit_log_and_security_events() {
    let app = app().await;
    let admin = crate::support::signed_in_admin(&app).await;
    let p = crate::booking::parties(&app, "queue").await;
    let booking = crate::booking::created(crate::booking::offer(&app, &p, 50_000, 30).await).await;
    let id = booking["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/bookings/{id}/accept")).bearer(&p.artist).send().await.assert_status(StatusCode::OK);
    let sha = app.get(&format!("/v1/bookings/{id}/contract")).bearer(&p.organizer).send().await.value()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    for token in [&p.organizer, &p.artist] {
        app.post(&format!("/v1/bookings/{id}/contract/sign"))
            .bearer(token)
            .json(&json!({"sha256": sha}))
            .send()
            .await
            .assert_status(StatusCode::OK);
    }
    let api = app.get("/v1/admin/bookings").bearer(&admin).send().await.value();
    assert_eq!(api["items"].as_array().unwrap().len(), 1);
    app.get("/v1/admin/bookings").bearer(&p.artist).send().await.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    crate::support::login(&app, "queue_artist", "not the password").await.assert_status(StatusCode::UNAUTHORIZED);

    let staff = web_session(&app, "root_admin").await;
    let queue = app.get("/admin/bookings").header("cookie", &cookie_header(&staff)).send().await;
    queue.assert_status(StatusCode::OK);
    let html = queue.text();
    assert!(html.contains(&format!("href=\"/bookings/{id}\"")) && html.contains("a contract to review"), "{html}");
    let booking_page = app.get(&format!("/bookings/{id}")).header("cookie", &cookie_header(&staff)).send().await.text();
    assert!(booking_page.contains("id=\"review\""), "staff decide from the booking's page");

    let audit = app
        .get(&format!("/admin/audit?resource_type=booking&resource_id={id}"))
        .header("cookie", &cookie_header(&staff))
        .send()
        .await;
    audit.assert_status(StatusCode::OK);
    let html = audit.text();
    assert!(html.contains("booking.sign") || html.contains("contract.sign"), "{html}");
    assert!(!html.contains("user.suspend"));
    let bad = app.get("/admin/audit?actor=someone").header("cookie", &cookie_header(&staff)).send().await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("id=\"actor-error\""));

    let events = app.get("/admin/security?severity=&kind=").header("cookie", &cookie_header(&staff)).send().await;
    events.assert_status(StatusCode::OK);
    assert!(events.text().contains("login_failed"), "{}", events.text());

    let artist = web_session(&app, "queue_artist").await;
    for path in ["/admin/bookings", "/admin/audit", "/admin/security", "/admin/jobs"] {
        let page = app.get(path).header("cookie", &cookie_header(&artist)).send().await;
        page.assert_status(StatusCode::FORBIDDEN);
        assert!(!page.text().contains(&id), "{path}");
    }
}

/// An organization in a real browser: its owner creates it (a bad short name first), invites someone
/// by email and makes a team; the invitee opens the mailed link, signs in, accepts, and is a member;
/// the owner puts them in the team. Someone outside sees nothing of it.
#[tokio::test]
async fn an_owner_builds_an_organization_with_an_invited_member_and_a_team_in_a_browser() {
    let app = app().await;
    signed_in(&app, "crew_owner").await;
    signed_in(&app, "crew_guest").await;
    signed_in(&app, "crew_stranger").await;
    let served = serve(&app).await;
    let base = &served.base;
    let browser = Browser::start().await;

    browser.sign_in(base, "crew_owner", "/orgs").await;
    browser.wait_for_text("You belong to no organization yet").await;
    browser.type_into("#org-name", "Night Crew").await;
    browser.type_into("#org-slug", "Night Crew!").await;
    browser.click("form[action='/orgs'] button").await;
    browser.find("#org-slug-error").await;
    assert!(browser.text().await.contains("must be 3 to 63 lower-case letters"));
    browser.type_into("#org-slug", "night-crew").await;
    browser.click("form[action='/orgs'] button").await;
    let text = browser.wait_for_text("you are owner").await;
    assert!(text.contains("Night Crew") && text.contains("No invitation is waiting"), "{text}");
    let org_path = format!("/orgs/{}", browser.current_url().await.rsplit('/').next().unwrap());
    browser.type_into("#invite-email", "not an address").await;
    browser.click("#invite").await;
    browser.find("#invite-email-error").await;
    browser.type_into("#invite-email", "crew_guest@example.com").await;
    browser.click("#invite").await;
    browser.wait_for_text("An invitation went to crew_guest@example.com").await;
    browser.type_into("#team-name", "Stage hands").await;
    browser.click("#create-team").await;
    browser.wait_for_text("Stage hands").await;
    browser.snapshot("organization").await;
    browser.sign_out().await;

    let body = sqlx::query_scalar!(
        r#"SELECT body_text AS "body!" FROM mail_outbox
           WHERE to_address = 'crew_guest@example.com' AND body_text LIKE '%/invitations/accept?token=%'"#
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let at = body.find("/invitations/accept?token=").unwrap();
    let link = body[at..].split_whitespace().next().unwrap().to_owned();
    browser.goto(&format!("{base}{link}")).await;
    browser
        .wait_for_url(&format!("/signin?next={}", link.replace('/', "%2F").replace('?', "%3F").replace('=', "%3D")))
        .await;
    browser.type_into("#login", "crew_guest").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_url(&link).await;
    browser.click("#accept").await;
    let text = browser.wait_for_text("you are member").await;
    assert!(text.contains("Night Crew") && !text.contains("Invite someone"), "members do not manage: {text}");
    browser.sign_out().await;

    browser.sign_in(base, "crew_owner", &org_path).await;
    browser.click("#teams a").await;
    browser.wait_for_text("Nobody is in this team yet").await;
    browser
        .script(
            "const s = document.getElementById('add-member');
             s.value = [...s.options].find(o => o.text.includes('@crew_guest')).value;",
        )
        .await;
    browser.click("#add").await;
    browser.find("#remove-crew_guest").await;
    let text = browser.text().await;
    assert!(!text.contains("Nobody is in this team"), "{text}");
    browser.close().await;

    let stranger = web_session(&app, "crew_stranger").await;
    let page = app.get(&org_path).header("cookie", &cookie_header(&stranger)).send().await;
    assert!(page.status == StatusCode::NOT_FOUND || page.status == StatusCode::FORBIDDEN, "{}", page.status);
    assert!(!page.text().contains("crew_guest"));
    let members = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM org_members m JOIN organizations o ON o.id = m.org_id
           WHERE o.slug = 'night-crew'"#
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(members, 2);
}

/// The notification center is live: a notification made while the page is open appears at the top of
/// the list and in the unread count, without a reload.
#[tokio::test]
async fn the_notification_center_shows_a_new_notification_live_in_a_browser() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "live_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let (giver, _, _) = signed_in(&app, "live_giver").await;
    signed_in(&app, "live_taker").await;
    let order = reserve(&app, &giver, &event, &tier, 1).await.value();
    let ticket = order["tickets"][0]["id"].as_str().unwrap().to_owned();
    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, "live_taker", "/me/notifications").await;
    // Connected: the page says so once the stream is open.
    browser.wait_for_text("New notifications appear here as they happen").await;
    let before = browser.text().await;
    assert!(before.contains("0 unread") && before.contains("Nothing yet"), "{before}");
    browser.script("window.stillTheSamePage = true;").await;

    app.post(&format!("/v1/tickets/{ticket}/transfers"))
        .bearer(&giver)
        .json(&json!({"to_email": "live_taker@example.com"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    // The notification is made by the job the offer queued.
    crate::support::drain_jobs(&app).await;
    browser.wait_for_text("sends you a ticket to").await;
    let text = browser.wait_for_text("Welcome to Backline").await;
    assert!(text.contains("2 unread") && !text.contains("Nothing yet"), "the welcome and the offer: {text}");
    assert_eq!(browser.script("return window.stillTheSamePage === true;").await, json!(true), "no reload");
    let items = browser.script("return document.querySelectorAll('#notifications li').length;").await;
    assert_eq!(items, json!(2), "each arrived once");
    browser.close().await;
}

/// A user who sets their time zone and language on the account page reads times in that zone and
/// amounts with their language's separators, everywhere; an unknown zone is refused beside the field.
#[tokio::test]
async fn times_and_amounts_follow_the_viewer_s_time_zone_and_language() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "tz_org").await;
    let (event, _) = on_sale(&app, &organizer, json!({"price": 123_456})).await;
    signed_in(&app, "tz_fan").await;
    let starts: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(app.get(&format!("/v1/events/{event}")).send().await.value()["starts_at"].clone())
            .unwrap();
    let fan = web_session(&app, "tz_fan").await;
    let token = fan.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let save = |timezone: &'static str, locale: &'static str| {
        app.post("/me/account")
            .header("cookie", &cookie_header(&fan))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", &token), ("display_name", "TZ Fan"), ("timezone", timezone), ("locale", locale)]))
            .send()
    };
    let refused = save("Mars/Olympus", "de-DE").await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("id=\"timezone-error\""), "{}", refused.text());

    let page = app.get(&format!("/events/{event}")).header("cookie", &cookie_header(&fan)).send().await.text();
    assert!(page.contains("1,234.56 EUR") && page.contains("Times are shown in UTC"), "{page}");

    let saved = save("Europe/Berlin", "de-DE").await;
    assert!(saved.status.is_success() || saved.status.is_redirection(), "{}", saved.status);
    let page = app.get(&format!("/events/{event}")).header("cookie", &cookie_header(&fan)).send().await.text();
    let berlin = web::format::Viewer::of("Europe/Berlin", "de-DE");
    let expected = web::format::for_viewer(berlin, async { web::format::when(starts) }).await;
    assert!(expected.ends_with("CET") || expected.ends_with("CEST"), "{expected}");
    assert!(page.contains(&expected), "the start in Berlin time, {expected}: {page}");
    assert!(page.contains("1.234,56 EUR") && page.contains("Times are shown in Europe/Berlin"), "{page}");
    // Someone signed out still reads UTC.
    let public = app.get(&format!("/events/{event}")).send().await.text();
    assert!(public.contains(&web::format::when(starts)) && public.contains("1,234.56 EUR"));
}

/// Posts a form with the session's token; answers the response.
pub(crate) async fn post_form(
    app: &TestApp,
    jar: &[(String, String)],
    path: &str,
    fields: &[(&str, &str)],
) -> testkit::TestResponse {
    let token = jar.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
    let mut pairs = vec![("csrf", token.as_str())];
    pairs.extend_from_slice(fields);
    app.post(path)
        .header("cookie", &cookie_header(jar))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&pairs))
        .send()
        .await
}

/// An organizer changes an event's details and a tier, sets the splits (wrong sums and unknown
/// recipients refused beside the form), creates an attribution link, sees an order come through it on
/// the sales dashboard with the money in escrow, and approves it; nobody else sees the dashboard.
#[tokio::test]
async fn an_organizer_edits_an_event_sets_splits_and_links_and_reads_the_sales() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "dash_org").await;
    signed_in(&app, "dash_artist").await;
    signed_in(&app, "dash_creator").await;
    let (fan, _, _) = signed_in(&app, "dash_fan").await;
    signed_in(&app, "dash_other").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 2500})).await;
    let org = web_session(&app, "dash_org").await;
    let base = format!("/manage/events/{event}");

    let edited =
        post_form(&app, &org, &format!("{base}/edit"), &[("title", "Dash Night"), ("starts_at", "soon")]).await;
    edited.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(edited.text().contains("id=\"starts_at-error\""));
    let form_page = app.get(&format!("{base}/edit")).header("cookie", &cookie_header(&org)).send().await.text();
    let value_of = |name: &str| {
        let at = form_page.find(&format!("name=\"{name}\" type=\"")).unwrap();
        let at = at + form_page[at..].find("value=\"").unwrap() + 7;
        form_page[at..at + form_page[at..].find('"').unwrap()].to_owned()
    };
    let (starts, ends, zone) = (value_of("starts_at"), value_of("ends_at"), value_of("timezone"));
    post_form(
        &app,
        &org,
        &format!("{base}/edit"),
        &[
            ("title", "Dash Night"),
            ("starts_at", &starts),
            ("ends_at", &ends),
            ("timezone", &zone),
            ("city", "Leipzig"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let manage = app.get(&base).header("cookie", &cookie_header(&org)).send().await.text();
    assert!(manage.contains("Dash Night"), "{manage}");
    post_form(
        &app,
        &org,
        &format!("{base}/tiers/{tier}"),
        &[("price", "30"), ("quantity", "80"), ("visibility", "public")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let manage = app.get(&base).header("cookie", &cookie_header(&org)).send().await.text();
    assert!(manage.contains("30.00 EUR") && manage.contains("<td>80</td>"), "{manage}");

    let splits = |rows: &[(&str, &str, &str)]| {
        let token = org.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
        let mut pairs = vec![("csrf".to_owned(), token)];
        for (role, recipient, percent) in rows {
            pairs.push(("role".into(), (*role).into()));
            pairs.push(("recipient".into(), (*recipient).into()));
            pairs.push(("percent".into(), (*percent).into()));
        }
        app.post(&format!("{base}/splits"))
            .header("cookie", &cookie_header(&org))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&pairs).unwrap())
            .send()
    };
    let short = splits(&[("artist", "dash_artist", "60"), ("platform", "platform", "10")]).await;
    short.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().contains("10,000") || short.text().contains("100"), "{}", short.text());
    let unknown = splits(&[("artist", "nobody_here", "90"), ("platform", "platform", "10")]).await;
    unknown.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text().contains("is not a username"), "{}", unknown.text());
    splits(&[("artist", "@dash_artist", "60"), ("promoter", "dash_org", "30"), ("platform", "platform", "10")])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    let bad_link = post_form(
        &app,
        &org,
        &format!("{base}/links"),
        &[("partner", "ghost"), ("kind", "creator"), ("share_type", "percent"), ("share", "10")],
    )
    .await;
    bad_link.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_link.text().contains("id=\"link-partner-error\""));
    post_form(
        &app,
        &org,
        &format!("{base}/links"),
        &[
            ("partner", "dash_creator"),
            ("kind", "creator"),
            ("share_type", "percent"),
            ("share", "10"),
            ("code", "DASH10"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    // A fan comes through the link: the event page carries the code into the order.
    let fan_web = web_session(&app, "dash_fan").await;
    let page =
        app.get(&format!("/events/{event}?ref=DASH10")).header("cookie", &cookie_header(&fan_web)).send().await.text();
    assert!(page.contains("name=\"attribution\" value=\"DASH10\""), "{page}");
    let reserved = post_form(
        &app,
        &fan_web,
        &format!("/events/{event}/orders"),
        &[("tier", &tier), ("quantity", "2"), ("attribution", "DASH10")],
    )
    .await;
    reserved.assert_status(StatusCode::SEE_OTHER);
    let order = reserved.header("location").unwrap().rsplit('/').next().unwrap().to_owned();
    crate::ticketing::pay_card(&app, &fan, &order).await.assert_status(StatusCode::CREATED);

    let dash = app.get(&format!("{base}/sales")).header("cookie", &cookie_header(&org)).send().await;
    dash.assert_status(StatusCode::OK);
    let html = dash.text();
    assert!(html.contains("2 of 80"), "two of the 80 sold: {html}");
    assert!(html.contains("<dd>60.00 EUR</dd>"), "gross and escrow: {html}");
    assert!(html.contains("@dash_artist") || html.contains("dash_artist"), "{html}");
    assert!(html.contains("/events/") && html.contains("?ref=DASH10"), "the link to share: {html}");
    assert!(html.contains(&format!("/manage/attributions/{order}/approve")), "the order waits for approval: {html}");
    assert!(html.contains("Frozen since the first sale"), "{html}");
    post_form(&app, &org, &format!("/manage/attributions/{order}/approve"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let html = app.get(&format!("{base}/sales")).header("cookie", &cookie_header(&org)).send().await.text();
    assert!(html.contains("approved") && !html.contains(&format!("/manage/attributions/{order}/approve")), "{html}");

    // Selling more than the tier has left is refused with the reason on the page.
    let below = post_form(
        &app,
        &org,
        &format!("{base}/tiers/{tier}"),
        &[("price", "30"), ("quantity", "1"), ("visibility", "public")],
    )
    .await;
    assert!(below.status.is_client_error(), "{}", below.status);
    assert!(below.text().contains("The tier was not changed"), "{}", below.text());

    let other = web_session(&app, "dash_other").await;
    let refused = app.get(&format!("{base}/sales")).header("cookie", &cookie_header(&other)).send().await;
    assert!(refused.status == StatusCode::FORBIDDEN || refused.status == StatusCode::NOT_FOUND, "{}", refused.status);
    assert!(!refused.text().contains("DASH10"));
}

/// A fan resells a ticket within the organizer's cap (a price above it refused with the cap named),
/// another fan buys it by card from the event page and holds it; when the organizer cancels the
/// event, the new holder sees the refund on their tickets and in their wallet.
#[tokio::test]
async fn a_ticket_is_resold_within_the_cap_and_a_cancelled_event_shows_its_refund() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "resale_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 4000})).await;
    let (seller, _, _) = signed_in(&app, "resale_seller").await;
    signed_in(&app, "resale_buyer").await;
    let order = reserve(&app, &seller, &event, &tier, 1).await.value();
    let order = order["id"].as_str().unwrap().to_owned();
    crate::ticketing::pay_card(&app, &seller, &order).await.assert_status(StatusCode::CREATED);
    let ticket =
        app.get("/v1/me/tickets").bearer(&seller).send().await.value()["items"][0]["id"].as_str().unwrap().to_owned();

    let seller_web = web_session(&app, "resale_seller").await;
    let mine = app.get("/me/tickets").header("cookie", &cookie_header(&seller_web)).send().await.text();
    assert!(mine.contains("Resell for (at most 40.00)"), "the default cap is the face value: {mine}");
    let above = post_form(&app, &seller_web, &format!("/me/tickets/{ticket}/listings"), &[("price", "45")]).await;
    above.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(above.text().contains("must be between 0 and 4000"), "{}", above.text());
    post_form(&app, &seller_web, &format!("/me/tickets/{ticket}/listings"), &[("price", "35")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let mine = app.get("/me/tickets").header("cookie", &cookie_header(&seller_web)).send().await.text();
    assert!(mine.contains("For resale at 35.00 EUR") && !mine.contains("Give to (email)"), "{mine}");

    let buyer_web = web_session(&app, "resale_buyer").await;
    let page = app.get(&format!("/events/{event}")).header("cookie", &cookie_header(&buyer_web)).send().await.text();
    let at = page.find("action=\"/listings/").expect("the listing is offered") + "action=\"".len();
    let action = page[at..].split('"').next().unwrap().to_owned();
    let key_at = page[at..].find("name=\"key\" value=\"").unwrap() + at + "name=\"key\" value=\"".len();
    let key = page[key_at..].split('"').next().unwrap().to_owned();
    let declined = post_form(
        &app,
        &buyer_web,
        &action,
        &[("key", &key), ("source", "card"), ("card_number", "4000 0000 0000 0002")],
    )
    .await;
    assert!(declined.status.is_client_error(), "{}", declined.status);
    post_form(
        &app,
        &buyer_web,
        &action,
        &[("key", &format!("{key}9")), ("source", "card"), ("card_number", "4242 4242 4242 4242")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let theirs = app.get("/me/tickets").header("cookie", &cookie_header(&buyer_web)).send().await.text();
    assert!(
        theirs.contains("General admission") && theirs.contains(&format!("/me/tickets/{ticket}/qr.svg")),
        "{theirs}"
    );
    let mine = app.get("/me/tickets").header("cookie", &cookie_header(&seller_web)).send().await.text();
    assert!(mine.contains("You have no tickets yet"), "{mine}");

    crate::ticketing::set_status(&app, &organizer, &event, "cancelled").await.assert_status(StatusCode::OK);
    crate::support::drain_jobs(&app).await;
    let theirs = app.get("/me/tickets").header("cookie", &cookie_header(&buyer_web)).send().await.text();
    assert!(theirs.contains("refunded") && theirs.contains("Refunded to your wallet"), "{theirs}");
    assert!(!theirs.contains("Put up for resale") && !theirs.contains("Give to (email)"), "{theirs}");
}

/// A card that asks for 3-D Secure: the sandbox's bank page appears; refusing it leaves the order
/// unpaid with the reason shown; confirming it pays the order. Only the payer may answer, and only once.
#[tokio::test]
async fn a_card_that_asks_for_3d_secure_shows_the_bank_step_in_a_browser() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "tds_org").await;
    let (event, _) = on_sale(&app, &organizer, json!({"price": 1800, "name": "Balcony"})).await;
    let (fan, _, _) = signed_in(&app, "tds_fan").await;
    let (other, _, _) = signed_in(&app, "tds_other").await;
    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, "tds_fan", &format!("/events/{event}")).await;
    browser.click("form.buy button").await;
    browser.wait_for_text("Your order").await;
    browser.type_into("#card_number", "4000 0000 0000 3220").await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("stands in for your bank").await;
    assert!(browser.text().await.contains("18.00 EUR"));
    let challenge = browser.current_url().await;
    browser.click("#refuse").await;
    browser.wait_for_text("Your bank did not confirm the payment").await;

    browser.type_into("#card_number", "4000 0000 0000 3220").await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("stands in for your bank").await;
    let second = browser.current_url().await;
    assert_ne!(challenge, second, "a new payment for the new attempt");
    let payment = second.split("/payments/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    // Nobody else answers this payment's challenge.
    app.post(&format!("/v1/payments/{payment}/sandbox-authentication"))
        .bearer(&other)
        .json(&json!({"approve": true}))
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    browser.snapshot("fan-3d-secure").await;
    browser.click("#approve").await;
    browser.wait_for_url("/me/tickets").await;
    let text = browser.wait_for_text("Balcony").await;
    assert!(text.contains("18.00 EUR"), "{text}");
    browser.close().await;

    // Answered once: a second answer is refused, and the wallet paid the order (nothing left over).
    app.post(&format!("/v1/payments/{payment}/sandbox-authentication"))
        .bearer(&fan)
        .json(&json!({"approve": true}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "invalid_payment_state");
    let tickets = app.get("/v1/me/tickets").bearer(&fan).send().await.value();
    assert_eq!(tickets["items"].as_array().unwrap().len(), 1);
}

/// Someone new to booking makes their artist profile and their promoter profile from the bookings
/// page (an empty name refused beside the field); the form goes once they have both.
#[tokio::test]
async fn a_newcomer_makes_an_artist_and_a_promoter_profile_from_the_bookings_page() {
    let app = app().await;
    signed_in(&app, "fresh_act").await;
    let jar = web_session(&app, "fresh_act").await;
    let page = app.get("/bookings").header("cookie", &cookie_header(&jar)).send().await.text();
    assert!(page.contains("id=\"create-profile\""), "{page}");
    let empty = post_form(&app, &jar, "/bookings/profiles", &[("kind", "artist"), ("name", " ")]).await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text().contains("id=\"profile-name-error\""), "{}", empty.text());
    let made = post_form(&app, &jar, "/bookings/profiles", &[("kind", "artist"), ("name", "Fresh Act")]).await;
    made.assert_status(StatusCode::SEE_OTHER);
    let edit = made.header("location").unwrap().to_owned();
    assert!(edit.starts_with("/artists/") && edit.ends_with("/edit"), "{edit}");
    let form = app.get(&edit).header("cookie", &cookie_header(&jar)).send().await.text();
    assert!(form.contains("value=\"Fresh Act\""), "{form}");
    post_form(&app, &jar, "/bookings/profiles", &[("kind", "promoter"), ("name", "Fresh Promotions")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = app.get("/bookings").header("cookie", &cookie_header(&jar)).send().await.text();
    assert!(!page.contains("id=\"create-profile\"") && page.contains("Fresh Act"), "{page}");

    // Saving the profile says so once, on the page the browser is sent to, and not again.
    let mut jar = jar;
    let saved =
        post_form(&app, &jar, &edit, &[("stage_name", "Fresh Act"), ("genres", "soul"), ("currency", "EUR")]).await;
    saved.assert_status(StatusCode::SEE_OTHER);
    cookies(&saved, &mut jar);
    let shown = app.get(&edit.replace("/edit", "")).header("cookie", &cookie_header(&jar)).send().await;
    assert!(
        shown.text().contains("id=\"toast\"") && shown.text().contains("Your profile is saved."),
        "{}",
        shown.text()
    );
    cookies(&shown, &mut jar);
    let again = app.get(&edit.replace("/edit", "")).header("cookie", &cookie_header(&jar)).send().await.text();
    assert!(!again.contains("id=\"toast\""), "a toast is shown once");
    let artist = app.get(&edit.replace("/edit", "")).header("cookie", &cookie_header(&jar)).send().await.text();
    assert!(artist.contains("Fresh Promotions") && artist.contains("Make an offer"), "{artist}");
}

/// Admins see the security self-check on the security page and run it from there; a user who is not an
/// admin may not run it.
#[tokio::test]
async fn admins_run_the_security_self_check_from_the_security_page() {
    let app = app().await;
    crate::support::signed_in_admin(&app).await;
    let admin = web_session(&app, "root_admin").await;
    let page = app.get("/admin/security").header("cookie", &cookie_header(&admin)).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("Not run yet"), "{}", page.text());
    let ran = post_form(&app, &admin, "/admin/security/checks", &[]).await;
    ran.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(ran.header("location"), Some("/admin/security#self-check"));
    let html = app.get("/admin/security").header("cookie", &cookie_header(&admin)).send().await.text();
    assert!(html.contains("every check passed"), "{html}");
    for name in
        ["secret_key", "tls", "database_role", "webhook_private_targets", "admin_email_verified", "demo_accounts"]
    {
        assert!(html.contains(&format!("<code>{name}</code>")), "{name}");
    }
    signed_in(&app, "not_admin").await;
    let user = web_session(&app, "not_admin").await;
    post_form(&app, &user, "/admin/security/checks", &[]).await.assert_status(StatusCode::FORBIDDEN);
    let runs: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM security_check_runs"#)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(runs, 1, "only the admin's run");
}
