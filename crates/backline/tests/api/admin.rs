//! Administration of accounts: search, suspension, approval, roles, security events.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, app, fresh_ip, login, signed_in, signed_in_admin};

#[tokio::test]
async fn only_admins_and_staff_reach_the_admin_routes() {
    let app = app().await;
    let (user, user_id, _) = signed_in(&app, "regular").await;
    for path in [
        "/v1/admin/users".to_owned(),
        format!("/v1/admin/users/{user_id}"),
        "/v1/admin/security-events".into(),
        "/v1/admin/audit".into(),
        "/v1/admin/permission-templates".into(),
    ] {
        app.get(&path).bearer(&user).send().await.assert_problem(StatusCode::FORBIDDEN, "forbidden");
        app.get(&path).send().await.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    let template = uuid::Uuid::now_v7();
    let body = json!({"name": "x_role", "permissions": ["members.read"]});
    let res = app.put(&format!("/v1/admin/permission-templates/{template}")).bearer(&user).json(&body).send().await;
    res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let res = app.delete(&format!("/v1/admin/permission-templates/{template}")).bearer(&user).send().await;
    res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let res = app
        .put(&format!("/v1/admin/users/{user_id}/roles"))
        .bearer(&user)
        .json(&json!({"roles": ["admin"]}))
        .send()
        .await;
    res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    for action in ["suspend", "reactivate", "approve"] {
        let res = app.post(&format!("/v1/admin/users/{user_id}/{action}")).bearer(&user).json(&json!({})).send().await;
        res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn admins_search_users() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    signed_in(&app, "searchable_sam").await;
    signed_in(&app, "other_olive").await;
    let found = app.get("/v1/admin/users?q=SAM").bearer(&admin).send().await.value();
    let names: Vec<&str> = found["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["searchable_sam"]);
    // LIKE wildcards are matched literally.
    let none = app.get("/v1/admin/users?q=%25").bearer(&admin).send().await.value();
    assert!(none["items"].as_array().unwrap().is_empty());
    let page = app.get("/v1/admin/users?limit=1").bearer(&admin).send().await.value();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app.get(&format!("/v1/admin/users?limit=1&cursor={cursor}")).bearer(&admin).send().await.value();
    assert_ne!(next["items"][0]["id"], page["items"][0]["id"]);
    app.get("/v1/admin/users?limit=0")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.get("/v1/admin/users?status=bogus")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn suspension_ends_every_session_until_reactivation() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let (token, user_id, pair) = signed_in(&app, "troublemaker").await;
    let key =
        app.post("/v1/me/api-keys").bearer(&token).json(&json!({"name": "k", "scopes": ["*"]})).send().await.value();
    let res = app
        .post(&format!("/v1/admin/users/{user_id}/suspend"))
        .bearer(&admin)
        .json(&json!({"reason": "spam"}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["status"], "suspended");
    app.get("/v1/me").bearer(&token).send().await.assert_status(StatusCode::UNAUTHORIZED);
    app.get("/v1/me")
        .bearer(key["key"].as_str().unwrap())
        .send()
        .await
        .assert_problem(StatusCode::FORBIDDEN, "account_suspended");
    let refresh = pair["refresh_token"].as_str().unwrap();
    app.post("/v1/auth/refresh")
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    login(&app, "troublemaker", PASSWORD).await.assert_problem(StatusCode::FORBIDDEN, "account_suspended");
    let again = app.post(&format!("/v1/admin/users/{user_id}/suspend")).bearer(&admin).json(&json!({})).send().await;
    again.assert_problem(StatusCode::CONFLICT, "invalid_account_state");

    let events = app
        .get(&format!("/v1/admin/security-events?user_id={user_id}&kind=account_suspended"))
        .bearer(&admin)
        .send()
        .await
        .value();
    assert_eq!(events["items"][0]["severity"], "warning");
    assert_eq!(events["items"][0]["details"]["reason"], "spam");

    let res = app.post(&format!("/v1/admin/users/{user_id}/reactivate")).bearer(&admin).send().await;
    assert_eq!(res.value()["status"], "active");
    login(&app, "troublemaker", PASSWORD).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn label_accounts_wait_for_approval() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let body = json!({"email": "label@example.com", "username": "indie_label", "display_name": "Indie", "password": PASSWORD, "personas": ["label"]});
    let user = app.post("/v1/auth/register").ip(&fresh_ip()).json(&body).send().await.value();
    assert_eq!(user["needs_approval"], true);
    assert_eq!(user["approved"], false);
    assert_eq!(user["roles"], json!(["label"]));
    let id = user["id"].as_str().unwrap();
    let approved = app.post(&format!("/v1/admin/users/{id}/approve")).bearer(&admin).send().await.value();
    assert_eq!(approved["approved"], true);
    app.post(&format!("/v1/admin/users/{id}/approve"))
        .bearer(&admin)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "invalid_account_state");
    let bad = json!({"email": "x@example.com", "username": "wannabe", "display_name": "W", "password": PASSWORD, "personas": ["admin"]});
    let res = app.post("/v1/auth/register").ip(&fresh_ip()).json(&bad).send().await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "personas[0]"
    );
}

#[tokio::test]
async fn admins_set_global_roles() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let (staffer, staffer_id, _) = signed_in(&app, "new_staff").await;
    app.get("/v1/admin/users").bearer(&staffer).send().await.assert_status(StatusCode::FORBIDDEN);
    let res = app
        .put(&format!("/v1/admin/users/{staffer_id}/roles"))
        .bearer(&admin)
        .json(&json!({"roles": ["staff", "fan"]}))
        .send()
        .await;
    assert_eq!(res.value()["roles"], json!(["fan", "staff"]));
    app.get("/v1/admin/users").bearer(&staffer).send().await.assert_status(StatusCode::OK);
    // Staff read but do not manage.
    app.post(&format!("/v1/admin/users/{staffer_id}/suspend"))
        .bearer(&staffer)
        .json(&json!({}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let bad = app
        .put(&format!("/v1/admin/users/{staffer_id}/roles"))
        .bearer(&admin)
        .json(&json!({"roles": ["overlord"]}))
        .send()
        .await;
    assert_eq!(
        bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "roles[0]"
    );
    let audit = app
        .get(&format!("/v1/admin/audit?resource_id={staffer_id}&resource_type=user"))
        .bearer(&admin)
        .send()
        .await
        .value();
    assert_eq!(audit["items"][0]["action"], "user.set_roles");
    assert_eq!(audit["items"][0]["after"]["roles"], json!(["staff", "fan"]));
}

/// The security self-check: admins run it and read its runs, nobody else; on a careful installation
/// every check passes; on a careless public one each check fails with what to do, the run is kept, and
/// every admin is told.
#[tokio::test]
async fn the_security_self_check_finds_what_is_unsafe_and_tells_the_admins() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let (user, _, _) = signed_in(&app, "curious").await;
    app.post("/v1/admin/security-checks").bearer(&user).send().await.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.get("/v1/admin/security-checks").bearer(&user).send().await.assert_problem(StatusCode::FORBIDDEN, "forbidden");

    // The tests' installation: a local address, the application role, no demo data.
    let res = app.post("/v1/admin/security-checks").bearer(&admin).send().await;
    res.assert_status(StatusCode::CREATED);
    let run = res.value();
    assert_eq!(run["passed"], true, "{run}");
    let names: Vec<&str> = run["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["secret_key", "tls", "database_role", "webhook_private_targets", "admin_email_verified", "demo_accounts"]
    );

    // A careless public installation: the created key on a plain-http public address, the owner's
    // database role, webhooks to private addresses, an admin whose email nobody verified, and the
    // demo's accounts outside demo mode.
    crate::support::load_demo(&app).await;
    let unverified = crate::support::register(&app, "lax_admin").await;
    let id: uuid::Uuid = unverified["id"].as_str().unwrap().parse().unwrap();
    sqlx::query!("INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, 'admin', now())", id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let owner =
        sqlx::postgres::PgPoolOptions::new().max_connections(2).connect_with(app.db.owner_options()).await.unwrap();
    let mut careless = platform::AppContext::new(owner, "http://tickets.example")
        .with_clock(std::sync::Arc::new(app.clock.clone()))
        .with_posture(platform::context::Posture {
            secret_key_configured: false,
            webhooks_to_private_addresses: true,
            demo: false,
        });
    let run = identity::selfcheck::service::run(&careless, "command").await.unwrap();
    assert!(!run.passed);
    for check in &run.checks {
        assert!(!check.passed, "{check:?}");
    }
    let detail = |name: &str| run.checks.iter().find(|c| c.name == name).unwrap().detail.clone();
    assert!(detail("secret_key").contains("BACKLINE_SECRET_KEY"));
    assert!(detail("tls").contains("not https"));
    assert!(detail("database_role").contains("superuser") && detail("database_role").contains("owns tables"));
    assert!(detail("admin_email_verified").contains("lax_admin"));
    assert!(detail("demo_accounts").contains("demo accounts"));
    // In demo mode the demo's accounts are expected; behind TLS with a configured key, those pass.
    careless.public_url = "https://tickets.example".into();
    careless = careless.with_posture(platform::context::Posture {
        secret_key_configured: true,
        webhooks_to_private_addresses: false,
        demo: true,
    });
    let run = identity::selfcheck::service::run(&careless, "command").await.unwrap();
    let failed: Vec<&str> = run.checks.iter().filter(|c| !c.passed).map(|c| c.name.as_str()).collect();
    assert_eq!(failed, ["database_role", "admin_email_verified"]);

    // Kept, newest first; every admin is told of a failure.
    let runs = app.get("/v1/admin/security-checks").bearer(&admin).send().await.value();
    let triggers: Vec<(&str, bool)> = runs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["trigger"].as_str().unwrap(), r["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(triggers, [("command", false), ("command", false), ("admin", true)]);
    crate::support::drain_jobs(&app).await;
    let notes = app.get("/v1/me/notifications").bearer(&admin).send().await.value();
    let told = notes["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "security.check_failed").count();
    assert_eq!(told, 2, "{notes}");
}
