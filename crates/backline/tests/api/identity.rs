//! Identity: registration to API key, every rule at its boundaries, and the races.

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::json;

use crate::support::{PASSWORD, app, fresh_ip, login, mailed_token, register, signed_in};

#[tokio::test]
async fn registration_starts_pending_and_verification_activates() {
    let app = app().await;
    let user = register(&app, "ana_beats").await;
    assert_eq!(user["status"], "pending_verification");
    assert_eq!(user["email_verified"], false);
    assert!(user.get("password_hash").is_none() && !user.to_string().contains("argon2"));

    let token = mailed_token(&app, "ana_beats@example.com").await;
    let link: String =
        sqlx::query_scalar("SELECT body_text FROM mail_outbox WHERE to_address = 'ana_beats@example.com'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(link.contains(&format!("http://backline.test/verify-email?token={token}")), "{link}");
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM email_tokens WHERE token_hash = sha256($1::text::bytea)")
            .bind(&token)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, 1, "the token is stored as its SHA-256 only");

    let res = app.post("/v1/auth/verify-email").json(&json!({"token": token})).send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["status"], "active");
    // Single use.
    let again = app.post("/v1/auth/verify-email").json(&json!({"token": token})).send().await;
    again.assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
}

#[tokio::test]
async fn verification_links_expire_after_24_hours() {
    let app = app().await;
    register(&app, "early_bird").await;
    register(&app, "late_owl").await;
    let early = mailed_token(&app, "early_bird@example.com").await;
    let late = mailed_token(&app, "late_owl@example.com").await;
    app.clock.advance(Duration::hours(24) - Duration::seconds(1));
    app.post("/v1/auth/verify-email").json(&json!({"token": early})).send().await.assert_status(StatusCode::OK);
    app.clock.advance(Duration::seconds(1));
    app.post("/v1/auth/verify-email")
        .json(&json!({"token": late}))
        .send()
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
}

#[tokio::test]
async fn every_registration_refusal_names_its_field() {
    let app = app().await;
    let base = json!({"email": "x@example.com", "username": "valid_name", "display_name": "X", "password": PASSWORD});
    let cases = [
        ("email", json!("not-an-email"), "invalid_format"),
        ("username", json!("ab"), "too_short"),
        ("username", json!("a".repeat(51)), "too_long"),
        ("username", json!("has space"), "invalid_format"),
        ("password", json!("7 chars"), "too_short"),
        ("password", json!("p".repeat(257)), "too_long"),
        ("password", json!("password123"), "too_common"),
        ("password", json!("x@example.com"), "same_as_identity"),
        ("password", json!("VALID_NAME"), "same_as_identity"),
        ("display_name", json!("   "), "required"),
    ];
    for (field, value, code) in cases {
        let mut body = base.clone();
        body[field] = value;
        let res = app.post("/v1/auth/register").ip(&fresh_ip()).json(&body).send().await;
        let problem = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let hit = problem["errors"].as_array().unwrap().iter().any(|e| e["field"] == field && e["code"] == code);
        assert!(hit, "{field} = {}: expected {code}, got {problem}", body[field]);
    }
    // At the bounds, accepted.
    let mut body = base.clone();
    body["username"] = json!("abc");
    body["password"] = json!("8 chars!");
    app.post("/v1/auth/register").ip(&fresh_ip()).json(&body).send().await.assert_status(StatusCode::CREATED);
    let mut body = base;
    body["email"] = json!("y@example.com");
    body["username"] = json!("b".repeat(50));
    body["password"] = json!("q".repeat(256));
    app.post("/v1/auth/register").ip(&fresh_ip()).json(&body).send().await.assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn email_and_username_are_unique_regardless_of_case() {
    let app = app().await;
    register(&app, "dj_unique").await;
    let body =
        json!({"email": "DJ_UNIQUE@Example.COM", "username": "other_name", "display_name": "X", "password": PASSWORD});
    let res = app.post("/v1/auth/register").ip(&fresh_ip()).json(&body).send().await;
    let problem = res.assert_problem(StatusCode::CONFLICT, "email_taken");
    assert_eq!(problem["errors"][0]["field"], "email");
    let body = json!({"email": "new@example.com", "username": "DJ_Unique", "display_name": "X", "password": PASSWORD});
    let res = app.post("/v1/auth/register").ip(&fresh_ip()).json(&body).send().await;
    assert_eq!(res.assert_problem(StatusCode::CONFLICT, "username_taken")["errors"][0]["field"], "username");
}

#[tokio::test]
async fn registration_is_limited_to_three_an_hour_per_address() {
    let app = app().await;
    for i in 0..3 {
        let body = json!({"email": format!("r{i}@example.com"), "username": format!("reg_{i}"), "display_name": "R", "password": PASSWORD});
        app.post("/v1/auth/register").ip("192.0.2.7").json(&body).send().await.assert_status(StatusCode::CREATED);
    }
    let body = json!({"email": "r4@example.com", "username": "reg_4", "display_name": "R", "password": PASSWORD});
    let res = app.post("/v1/auth/register").ip("192.0.2.7").json(&body).send().await;
    res.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry: i64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // Another address is not affected, and the window reopens after an hour.
    app.post("/v1/auth/register").ip("192.0.2.8").json(&body).send().await.assert_status(StatusCode::CREATED);
    app.clock.advance(Duration::hours(1));
    let body = json!({"email": "r5@example.com", "username": "reg_5", "display_name": "R", "password": PASSWORD});
    app.post("/v1/auth/register").ip("192.0.2.7").json(&body).send().await.assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn login_by_email_or_username_and_the_same_refusal_for_unknown_accounts() {
    let app = app().await;
    register(&app, "lena").await;
    let by_email = login(&app, "LENA@example.com", PASSWORD).await;
    by_email.assert_status(StatusCode::OK);
    let pair = by_email.value();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert_eq!(pair["refresh_expires_in"], 7 * 24 * 3600);
    assert!(pair["access_token"].as_str().unwrap().len() >= 43);
    login(&app, "lena", PASSWORD).await.assert_status(StatusCode::OK);

    let wrong = login(&app, "lena", "not the password").await;
    let unknown = login(&app, "nobody_here", "not the password").await;
    let a = wrong.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let b = unknown.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(a["detail"], b["detail"]);

    // A pending account may sign in and read itself; it is marked unverified.
    let me = app.get("/v1/me").bearer(pair["access_token"].as_str().unwrap()).send().await;
    me.assert_status(StatusCode::OK);
    assert_eq!(me.value()["email_verified"], false);
}

#[tokio::test]
async fn access_tokens_expire_after_15_minutes() {
    let app = app().await;
    let (token, _, _) = signed_in(&app, "timely").await;
    app.clock.advance(Duration::minutes(15) - Duration::seconds(1));
    app.get("/v1/me").bearer(&token).send().await.assert_status(StatusCode::OK);
    app.clock.advance(Duration::seconds(1));
    let res = app.get("/v1/me").bearer(&token).send().await;
    res.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(res.header("www-authenticate").unwrap().starts_with("Bearer"));
    app.get("/v1/me").send().await.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.get("/v1/me").bearer("bla_forged").send().await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_ends_the_session() {
    let app = app().await;
    let (_, user_id, first) = signed_in(&app, "rotor").await;
    let old_refresh = first["refresh_token"].as_str().unwrap();
    let res = app.post("/v1/auth/refresh").json(&json!({"refresh_token": old_refresh})).send().await;
    res.assert_status(StatusCode::OK);
    let second = res.value();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["session_id"], first["session_id"]);
    let new_access = second["access_token"].as_str().unwrap();
    app.get("/v1/me").bearer(new_access).send().await.assert_status(StatusCode::OK);

    // Replaying the rotated token ends the whole family, including the newest tokens.
    let replay = app.post("/v1/auth/refresh").json(&json!({"refresh_token": old_refresh})).send().await;
    replay.assert_problem(StatusCode::UNAUTHORIZED, "refresh_token_reused");
    app.get("/v1/me").bearer(new_access).send().await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let newest = second["refresh_token"].as_str().unwrap();
    app.post("/v1/auth/refresh")
        .json(&json!({"refresh_token": newest}))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM security_events WHERE kind = 'refresh_token_reused' AND severity = 'critical' AND user_id = $1::uuid",
    )
    .bind(&user_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(events, 1);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_yield_exactly_one_success() {
    let app = std::sync::Arc::new(app().await);
    let (_, _, pair) = signed_in(&app, "racer").await;
    let token = pair["refresh_token"].as_str().unwrap().to_owned();
    let mut handles = Vec::new();
    // Ten: the most a session may refresh in ten minutes.
    for _ in 0..10 {
        let app = app.clone();
        let token = token.clone();
        handles.push(tokio::spawn(async move {
            app.post("/v1/auth/refresh").json(&json!({"refresh_token": token})).send().await.status
        }));
    }
    let mut ok = 0;
    for handle in handles {
        let status = handle.await.unwrap();
        if status == StatusCode::OK {
            ok += 1;
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    assert_eq!(ok, 1, "exactly one concurrent refresh may succeed");
}

#[tokio::test]
async fn refresh_is_limited_to_ten_per_ten_minutes_per_session() {
    let app = app().await;
    let (_, _, pair) = signed_in(&app, "eager").await;
    let mut token = pair["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..10 {
        let res = app.post("/v1/auth/refresh").json(&json!({"refresh_token": token})).send().await;
        res.assert_status(StatusCode::OK);
        token = res.value()["refresh_token"].as_str().unwrap().to_owned();
    }
    let limited = app.post("/v1/auth/refresh").json(&json!({"refresh_token": token})).send().await;
    limited.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    app.clock.advance(Duration::minutes(10));
    app.post("/v1/auth/refresh").json(&json!({"refresh_token": token})).send().await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn refresh_tokens_expire_after_7_days() {
    let app = app().await;
    let (_, _, pair) = signed_in(&app, "weekly").await;
    let token = pair["refresh_token"].as_str().unwrap();
    app.clock.advance(Duration::days(7));
    app.post("/v1/auth/refresh")
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn a_sixth_login_ends_the_oldest_of_five_sessions() {
    let app = app().await;
    let (first_access, _, _) = signed_in(&app, "busy").await;
    for _ in 0..4 {
        login(&app, "busy", PASSWORD).await.assert_status(StatusCode::OK);
    }
    let res = app.get("/v1/me/sessions").bearer(&first_access).send().await;
    res.assert_status(StatusCode::OK);
    let sessions = res.value();
    assert_eq!(sessions["items"].as_array().unwrap().len(), 5);
    assert_eq!(sessions["items"].as_array().unwrap().iter().filter(|s| s["current"] == true).count(), 1);

    let sixth = login(&app, "busy", PASSWORD).await.value();
    app.get("/v1/me").bearer(&first_access).send().await.assert_status(StatusCode::UNAUTHORIZED);
    let listed = app.get("/v1/me/sessions").bearer(sixth["access_token"].as_str().unwrap()).send().await.value();
    assert_eq!(listed["items"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn five_failures_in_five_minutes_lock_the_account_for_fifteen() {
    let app = app().await;
    register(&app, "target").await;
    // Four failures, then the window passes: no lock.
    for _ in 0..4 {
        login(&app, "target", "wrong password").await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    app.clock.advance(Duration::minutes(5) + Duration::seconds(1));
    login(&app, "target", "wrong password").await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    login(&app, "target", PASSWORD).await.assert_status(StatusCode::OK);

    // A success clears the count; five failures in the window lock it, even with the right password.
    for _ in 0..4 {
        login(&app, "target", "wrong password").await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let fifth = login(&app, "target", "wrong password").await;
    fifth.assert_problem(StatusCode::TOO_MANY_REQUESTS, "account_locked");
    assert_eq!(fifth.header("retry-after"), Some("900"));
    app.clock.advance(Duration::minutes(15) - Duration::seconds(1));
    let locked = login(&app, "target", PASSWORD).await;
    locked.assert_problem(StatusCode::TOO_MANY_REQUESTS, "account_locked");
    assert_eq!(locked.header("retry-after"), Some("1"));
    app.clock.advance(Duration::seconds(1));
    login(&app, "target", PASSWORD).await.assert_status(StatusCode::OK);

    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM security_events WHERE kind = 'account_locked'")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(kinds.len(), 1);
}

#[tokio::test]
async fn login_is_limited_to_five_per_five_minutes_per_account_and_address() {
    let app = app().await;
    register(&app, "limited").await;
    let attempt = || {
        app.post("/v1/auth/login").ip("198.51.100.9").json(&json!({"login": "limited", "password": PASSWORD})).send()
    };
    for _ in 0..5 {
        attempt().await.assert_status(StatusCode::OK);
    }
    let res = attempt().await;
    res.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(res.header("retry-after"), Some("300"));
    // The window is five minutes from the first attempt: a second before its end, still refused.
    app.clock.advance(Duration::seconds(299));
    let res = attempt().await;
    res.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(res.header("retry-after"), Some("1"));
    app.clock.advance(Duration::seconds(1));
    attempt().await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn api_keys_act_as_their_user_within_their_scopes() {
    let app = app().await;
    let (token, _, _) = signed_in(&app, "keyholder").await;
    let res = app
        .post("/v1/me/api-keys")
        .bearer(&token)
        .json(&json!({"name": "ci", "scopes": ["profile.read"]}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let created = res.value();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("bk_"));
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));

    let me = app.get("/v1/me").bearer(&key).send().await;
    me.assert_status(StatusCode::OK);
    assert_eq!(me.value()["username"], "keyholder");
    let refused = app.patch("/v1/me").bearer(&key).json(&json!({"display_name": "Hacked"})).send().await;
    refused.assert_problem(StatusCode::FORBIDDEN, "insufficient_scope");
    app.get("/v1/me/api-keys").bearer(&key).send().await.assert_problem(StatusCode::FORBIDDEN, "insufficient_scope");

    let list = app.get("/v1/me/api-keys").bearer(&token).send().await;
    list.assert_status(StatusCode::OK);
    assert!(!list.text().contains(&key), "the secret is never shown again");
    assert!(list.value()["items"][0]["last_used_at"].is_string());

    let id = created["id"].as_str().unwrap();
    app.delete(&format!("/v1/me/api-keys/{id}")).bearer(&token).send().await.assert_status(StatusCode::NO_CONTENT);
    app.get("/v1/me").bearer(&key).send().await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn api_key_requests_are_checked() {
    let app = app().await;
    let (token, _, _) = signed_in(&app, "careful").await;
    let res =
        app.post("/v1/me/api-keys").bearer(&token).json(&json!({"name": "", "scopes": ["nope.read"]})).send().await;
    let problem = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "scopes[0]"]);
    let past = (app.clock_now() - Duration::seconds(1)).to_rfc3339();
    let res = app
        .post("/v1/me/api-keys")
        .bearer(&token)
        .json(&json!({"name": "k", "scopes": ["*"], "expires_at": past}))
        .send()
        .await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "expires_at"
    );

    // An expiring key stops at its time.
    let soon = (app.clock_now() + Duration::hours(1)).to_rfc3339();
    let created = app
        .post("/v1/me/api-keys")
        .bearer(&token)
        .json(&json!({"name": "k", "scopes": ["*"], "expires_at": soon}))
        .send()
        .await
        .value();
    let key = created["key"].as_str().unwrap();
    app.get("/v1/me").bearer(key).send().await.assert_status(StatusCode::OK);
    app.clock.advance(Duration::hours(1));
    app.get("/v1/me").bearer(key).send().await.assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_users_sessions_and_keys_are_not_found() {
    let app = app().await;
    let (alice, _, alice_pair) = signed_in(&app, "alice").await;
    let (mallory, _, _) = signed_in(&app, "mallory").await;
    let key =
        app.post("/v1/me/api-keys").bearer(&alice).json(&json!({"name": "a", "scopes": ["*"]})).send().await.value();

    let session = alice_pair["session_id"].as_str().unwrap();
    app.delete(&format!("/v1/me/sessions/{session}"))
        .bearer(&mallory)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let key_id = key["id"].as_str().unwrap();
    app.delete(&format!("/v1/me/api-keys/{key_id}"))
        .bearer(&mallory)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    // Alice's session and key still work.
    app.get("/v1/me").bearer(&alice).send().await.assert_status(StatusCode::OK);
    app.get("/v1/me").bearer(key["key"].as_str().unwrap()).send().await.assert_status(StatusCode::OK);
    // And Alice can end her own session.
    app.delete(&format!("/v1/me/sessions/{session}")).bearer(&alice).send().await.assert_status(StatusCode::NO_CONTENT);
    app.get("/v1/me").bearer(&alice).send().await.assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = app().await;
    let (current, _, _) = signed_in(&app, "changer").await;
    let other = login(&app, "changer", PASSWORD).await.value();
    let wrong = app
        .put("/v1/me/password")
        .bearer(&current)
        .json(&json!({"current_password": "not it at all", "new_password": "a brand new secret"}))
        .send()
        .await;
    assert_eq!(
        wrong.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "current_password"
    );
    app.put("/v1/me/password")
        .bearer(&current)
        .json(&json!({"current_password": PASSWORD, "new_password": "a brand new secret"}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get("/v1/me").bearer(&current).send().await.assert_status(StatusCode::OK);
    app.get("/v1/me")
        .bearer(other["access_token"].as_str().unwrap())
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    login(&app, "changer", PASSWORD).await.assert_status(StatusCode::UNAUTHORIZED);
    login(&app, "changer", "a brand new secret").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn password_reset_is_single_use_expires_in_an_hour_and_ends_all_sessions() {
    let app = app().await;
    let (access, _, _) = signed_in(&app, "forgetful").await;
    let unknown =
        app.post("/v1/auth/password/forgot").ip(&fresh_ip()).json(&json!({"email": "ghost@example.com"})).send().await;
    let known = app
        .post("/v1/auth/password/forgot")
        .ip(&fresh_ip())
        .json(&json!({"email": "forgetful@example.com"}))
        .send()
        .await;
    unknown.assert_status(StatusCode::ACCEPTED);
    known.assert_status(StatusCode::ACCEPTED);
    assert_eq!(unknown.body, known.body, "the answer does not reveal whether the account exists");

    let token = mailed_token(&app, "forgetful@example.com").await;
    let weak = app.post("/v1/auth/password/reset").json(&json!({"token": token, "password": "password"})).send().await;
    weak.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.clock.advance(Duration::minutes(59));
    app.post("/v1/auth/password/reset")
        .json(&json!({"token": token, "password": "remembered at last"}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get("/v1/me").bearer(&access).send().await.assert_status(StatusCode::UNAUTHORIZED);
    login(&app, "forgetful", "remembered at last").await.assert_status(StatusCode::OK);
    let again =
        app.post("/v1/auth/password/reset").json(&json!({"token": token, "password": "another new one"})).send().await;
    again.assert_problem(StatusCode::BAD_REQUEST, "invalid_token");

    app.post("/v1/auth/password/forgot").ip(&fresh_ip()).json(&json!({"email": "forgetful@example.com"})).send().await;
    let late = mailed_token(&app, "forgetful@example.com").await;
    app.clock.advance(Duration::hours(1));
    let expired =
        app.post("/v1/auth/password/reset").json(&json!({"token": late, "password": "too late for this"})).send().await;
    expired.assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
}

#[tokio::test]
async fn profile_changes_are_checked_and_audited() {
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "profiled").await;
    let bad = app
        .patch("/v1/me")
        .bearer(&token)
        .json(&json!({"timezone": "Mars/Olympus Mons", "locale": "english", "avatar_url": "ftp://x"}))
        .send()
        .await;
    let problem = bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["timezone", "locale", "avatar_url"]);
    // A well-formed name the time zone database does not know is refused too.
    let unknown = app.patch("/v1/me").bearer(&token).json(&json!({"timezone": "Mars/Olympus"})).send().await;
    let problem = unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "unknown_timezone");

    let res = app
        .patch("/v1/me")
        .bearer(&token)
        .json(&json!({"display_name": "New Name", "timezone": "Europe/Berlin", "locale": "pt-BR",
                      "avatar_url": "https://cdn.example.com/a.png",
                      "notification_preferences": {"booking.offer_received": {"email": false, "in_app": true}}}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    let me = res.value();
    assert_eq!(me["display_name"], "New Name");
    assert_eq!(me["timezone"], "Europe/Berlin");
    let cleared = app.patch("/v1/me").bearer(&token).json(&json!({"avatar_url": null})).send().await.value();
    assert!(cleared["avatar_url"].is_null());
    assert_eq!(cleared["display_name"], "New Name", "absent fields are kept");

    let (before, after): (serde_json::Value, serde_json::Value) = sqlx::query_as(
        "SELECT before, after FROM audit_log WHERE action = 'user.update' AND resource_id = $1 ORDER BY created_at, id LIMIT 1",
    )
    .bind(&user_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(before["display_name"], "profiled display");
    assert_eq!(after["display_name"], "New Name");
    assert!(before.get("username").is_none(), "only changed fields are recorded");
}

#[tokio::test]
async fn deleting_the_account_erases_personal_data_and_keeps_the_records() {
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "leaving").await;
    let wrong = app.delete("/v1/me").bearer(&token).json(&json!({"password": "not my password"})).send().await;
    wrong.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.delete("/v1/me")
        .bearer(&token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get("/v1/me").bearer(&token).send().await.assert_status(StatusCode::UNAUTHORIZED);
    login(&app, "leaving", PASSWORD).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    login(&app, "leaving@example.com", PASSWORD).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");

    let (email, name, status, hash): (String, String, String, Option<String>) =
        sqlx::query_as("SELECT email, display_name, status, password_hash FROM users WHERE id = $1::uuid")
            .bind(&user_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(!email.contains("leaving") && name == "Deleted user" && status == "deleted" && hash.is_none());
    let audit_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE actor_user_id = $1::uuid")
        .bind(&user_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(audit_rows >= 2, "audit rows remain");
    // The name is free again.
    register(&app, "leaving").await;
}

#[tokio::test]
async fn audit_rows_cannot_be_changed_or_removed_through_sql() {
    let app = app().await;
    register(&app, "audited").await;
    let pool = &app.db.pool;
    let mut owner = app.db.owner().await;
    for sql in ["UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
        // The service's role is refused by its grants; even the owner is refused by the trigger.
        let err = sqlx::query(sql).execute(pool).await.expect_err(sql);
        assert!(err.to_string().contains("permission denied for table audit_log"), "{sql}: {err}");
        let err = sqlx::query(sql).execute(&mut owner).await.expect_err(sql);
        assert!(err.to_string().contains("cannot be changed"), "{sql}: {err}");
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'user.register'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn logout_and_logout_all() {
    let app = app().await;
    let (first, _, _) = signed_in(&app, "leaver").await;
    let second = login(&app, "leaver", PASSWORD).await.value();
    let second = second["access_token"].as_str().unwrap();
    app.post("/v1/auth/logout").bearer(&first).send().await.assert_status(StatusCode::NO_CONTENT);
    app.get("/v1/me").bearer(&first).send().await.assert_status(StatusCode::UNAUTHORIZED);
    app.get("/v1/me").bearer(second).send().await.assert_status(StatusCode::OK);
    app.post("/v1/auth/logout-all").bearer(second).send().await.assert_status(StatusCode::NO_CONTENT);
    app.get("/v1/me").bearer(second).send().await.assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn mail_is_delivered_as_eml_files() {
    let app = app().await;
    register(&app, "mailme").await;
    let dir = tempfile::tempdir().unwrap();
    let transport = platform::mail::Transport::File(platform::mail::FileTransport::new(dir.path()));
    // The message came with its delivery job, in the same transaction.
    let message_id: uuid::Uuid = sqlx::query_scalar(
        "SELECT (payload->>'message_id')::uuid FROM jobs WHERE kind = 'mail.deliver' AND state = 'queued'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(platform::mail::deliver(&app.db.pool, &transport, message_id).await.unwrap());
    assert!(!platform::mail::deliver(&app.db.pool, &transport, message_id).await.unwrap(), "delivered once");
    let file = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    assert_eq!(file.extension().unwrap(), "eml");
    let eml = std::fs::read_to_string(file).unwrap();
    assert!(eml.contains("To: mailme@example.com\r\n"), "{eml}");
    assert!(eml.contains("Subject: Confirm your email address\r\n"));
    assert!(eml.contains("/verify-email?token=ble_"));
}

/// A minimal SMTP server for one session: records the envelope and the message it is given.
async fn smtp_server() -> (u16, tokio::sync::oneshot::Receiver<(Vec<String>, String)>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut envelope = Vec::new();
        let mut data = String::new();
        write.write_all(b"220 test.invalid ESMTP\r\n").await.unwrap();
        while let Ok(Some(line)) = lines.next_line().await {
            let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" | "HELO" => write.write_all(b"250-test.invalid\r\n250 8BITMIME\r\n").await.unwrap(),
                "MAIL" | "RCPT" => {
                    envelope.push(line.clone());
                    write.write_all(b"250 OK\r\n").await.unwrap();
                }
                "DATA" => {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    while let Ok(Some(body_line)) = lines.next_line().await {
                        if body_line == "." {
                            break;
                        }
                        data.push_str(&body_line);
                        data.push('\n');
                    }
                    write.write_all(b"250 OK queued\r\n").await.unwrap();
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => write.write_all(b"250 OK\r\n").await.unwrap(),
            }
        }
        let _ = tx.send((envelope, data));
    });
    (port, rx)
}

#[tokio::test]
async fn mail_is_delivered_to_an_smtp_server() {
    let app = app().await;
    register(&app, "smtp_user").await;
    let (port, received) = smtp_server().await;
    let transport = platform::mail::Transport::from_settings(
        Some(&format!("smtp://127.0.0.1:{port}")),
        "Backline <no-reply@backline.invalid>",
        std::path::PathBuf::from("/nonexistent"),
    )
    .unwrap();
    let message_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM mail_outbox WHERE to_address = 'smtp_user@example.com'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(platform::mail::deliver(&app.db.pool, &transport, message_id).await.unwrap());
    let (envelope, data) = tokio::time::timeout(std::time::Duration::from_secs(10), received).await.unwrap().unwrap();
    assert!(envelope.iter().any(|l| l.contains("<no-reply@backline.invalid>")), "{envelope:?}");
    assert!(envelope.iter().any(|l| l.contains("<smtp_user@example.com>")), "{envelope:?}");
    assert!(data.contains("Subject: Confirm your email address"), "{data}");
    // The body is quoted-printable: undo soft line breaks and the escaped '='.
    let decoded = data.replace("=\n", "").replace("=3D", "=");
    assert!(decoded.contains("verify-email?token=ble_"), "{decoded}");
    let delivered: bool = sqlx::query_scalar("SELECT delivered_at IS NOT NULL FROM mail_outbox WHERE id = $1")
        .bind(message_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(delivered);

    // An unreachable server leaves the message pending with its error, for the job to retry.
    register(&app, "smtp_later").await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let unreachable = platform::mail::Transport::from_settings(
        Some(&format!("smtp://127.0.0.1:{closed}")),
        "x@backline.invalid",
        "/x".into(),
    )
    .unwrap();
    let later: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM mail_outbox WHERE to_address = 'smtp_later@example.com'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(platform::mail::deliver(&app.db.pool, &unreachable, later).await.is_err());
    let (delivered, error): (bool, Option<String>) =
        sqlx::query_as("SELECT delivered_at IS NOT NULL, last_error FROM mail_outbox WHERE id = $1")
            .bind(later)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(!delivered && error.is_some());
}

/// Authentication notes when an API key or a session was last used in the statement that reads it:
/// to the minute (used again within a minute, nothing is written; a minute later, it is), and never for
/// a suspended user, whose key is refused.
#[tokio::test]
async fn last_use_is_noted_to_the_minute_and_not_for_a_suspended_user() {
    use platform::clock::Clock as _;
    let app = app().await;
    let (token, user, _) = signed_in(&app, "minute_user").await;
    let res = app.post("/v1/me/api-keys").bearer(&token).json(&json!({"name": "ci", "scopes": ["*"]})).send().await;
    res.assert_status(StatusCode::CREATED);
    let key = res.value()["key"].as_str().unwrap().to_owned();
    let user: uuid::Uuid = user.parse().unwrap();
    let last_used = || async {
        let row = sqlx::query!(
            r#"SELECT (SELECT last_used_at FROM api_keys WHERE user_id = $1) AS key_used,
                      (SELECT max(last_used_at) FROM sessions WHERE user_id = $1) AS session_used"#,
            user
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        (row.key_used, row.session_used)
    };
    let start = app.clock.now();
    app.clock.advance(Duration::minutes(5));
    let first = app.clock.now();
    app.get("/v1/me").bearer(&key).send().await.assert_status(StatusCode::OK);
    app.get("/v1/me").bearer(&token).send().await.assert_status(StatusCode::OK);
    assert_eq!(last_used().await, (Some(first), Some(first)));
    for (step, noted) in [(59, first), (1, first), (1, first + Duration::seconds(61))] {
        app.clock.advance(Duration::seconds(step));
        app.get("/v1/me").bearer(&key).send().await.assert_status(StatusCode::OK);
        app.get("/v1/me").bearer(&token).send().await.assert_status(StatusCode::OK);
        assert_eq!(last_used().await, (Some(noted), Some(noted)), "{step} s later");
    }
    assert!(start < first);

    sqlx::query!("UPDATE users SET status = 'suspended' WHERE id = $1", user).execute(&app.db.pool).await.unwrap();
    app.clock.advance(Duration::minutes(2));
    app.get("/v1/me").bearer(&key).send().await.assert_problem(StatusCode::FORBIDDEN, "account_suspended");
    app.get("/v1/me").bearer(&token).send().await.assert_problem(StatusCode::FORBIDDEN, "account_suspended");
    let noted = first + Duration::seconds(61);
    assert_eq!(last_used().await, (Some(noted), Some(noted)), "a refused use is not noted");
}

/// The callers of requests arriving at once are recognised together, in one statement
/// (`identity::auth::Authenticator`): in a crowd mixing access tokens, an API key, a signed-out
/// session, a suspended user and made-up secrets, every request is answered as its own caller (or
/// refused as its own secret deserves), whatever else its batch held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_is_recognised_together_each_as_itself() {
    let app = std::sync::Arc::new(app().await);
    // Each secret, and whom it must be answered as (or how it must be refused).
    type Expected = Result<String, (StatusCode, &'static str)>;
    let mut callers: Vec<(String, Expected)> = Vec::new();
    for name in ["crowd_a", "crowd_b", "crowd_c", "crowd_d", "crowd_e"] {
        callers.push((signed_in(&app, name).await.0, Ok(name.to_owned())));
    }
    let res = app
        .post("/v1/me/api-keys")
        .bearer(&callers[0].0)
        .json(&json!({"name": "ci", "scopes": ["profile.read"]}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    callers.push((res.value()["key"].as_str().unwrap().to_owned(), Ok("crowd_a".to_owned())));
    let (gone, _, _) = signed_in(&app, "crowd_gone").await;
    app.post("/v1/auth/logout").bearer(&gone).send().await.assert_status(StatusCode::NO_CONTENT);
    callers.push((gone, Err((StatusCode::UNAUTHORIZED, "invalid_token"))));
    let (suspended, user, _) = signed_in(&app, "crowd_suspended").await;
    let user: uuid::Uuid = user.parse().unwrap();
    sqlx::query!("UPDATE users SET status = 'suspended' WHERE id = $1", user).execute(&app.db.pool).await.unwrap();
    callers.push((suspended, Err((StatusCode::FORBIDDEN, "account_suspended"))));
    callers.push(("bla_made_up".to_owned(), Err((StatusCode::UNAUTHORIZED, "invalid_token"))));
    callers.push(("bk_made_up".to_owned(), Err((StatusCode::UNAUTHORIZED, "invalid_token"))));
    let callers = std::sync::Arc::new(callers);
    for round in 0..3 {
        let sent: Vec<_> = (0..400)
            .map(|n| {
                let (app, callers) = (app.clone(), callers.clone());
                tokio::spawn(async move {
                    let c = (n * 7 + round) % callers.len();
                    let res = app.get("/v1/me").bearer(&callers[c].0).send().await;
                    (c, res.status, res.value())
                })
            })
            .collect();
        for task in sent {
            let (c, status, body) = task.await.unwrap();
            match &callers[c].1 {
                Ok(username) => {
                    assert_eq!((status, body["username"].as_str()), (StatusCode::OK, Some(username.as_str())), "{c}");
                }
                Err((refused, code)) => assert_eq!((status, body["code"].as_str()), (*refused, Some(*code)), "{c}"),
            }
        }
    }
}

/// Noting a session's last use never waits for a transaction holding the session's row (one that is
/// revoking it, say): the caller is recognised at once, with the others of its batch, and the use is
/// noted the next time.
#[tokio::test]
async fn a_session_whose_row_is_held_is_recognised_without_waiting_and_noted_next_time() {
    use platform::clock::Clock as _;
    let app = app().await;
    let (token, user, _) = signed_in(&app, "held_session").await;
    let user: uuid::Uuid = user.parse().unwrap();
    let noted = || async {
        sqlx::query_scalar!("SELECT max(last_used_at) FROM sessions WHERE user_id = $1", user)
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    };
    app.clock.advance(Duration::minutes(5));
    let now = app.clock.now();
    let mut holder = app.db.pool.begin().await.unwrap();
    sqlx::query_scalar!("SELECT id FROM sessions WHERE user_id = $1 FOR UPDATE", user)
        .fetch_all(&mut *holder)
        .await
        .unwrap();
    let res = tokio::time::timeout(std::time::Duration::from_secs(20), app.get("/v1/me").bearer(&token).send())
        .await
        .expect("answered while another transaction holds the session's row");
    res.assert_status(StatusCode::OK);
    holder.rollback().await.unwrap();
    assert_ne!(noted().await, Some(now), "a held row's use is not noted");
    app.get("/v1/me").bearer(&token).send().await.assert_status(StatusCode::OK);
    assert_eq!(noted().await, Some(now), "noted the next time");
}
