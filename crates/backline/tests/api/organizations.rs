//! Organizations, members, invitations, teams, and who may touch them.

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::json;

use crate::support::{PASSWORD, app, create_org, join, login, mailed_token, signed_in, signed_in_admin};

#[tokio::test]
async fn the_creator_owns_the_organization_and_slugs_are_unique() {
    let app = app().await;
    let (owner, owner_id, _) = signed_in(&app, "founder").await;
    let org = create_org(&app, &owner, "lumen-records").await;
    let got = app.get(&format!("/v1/orgs/{org}")).bearer(&owner).send().await.value();
    assert_eq!(got["my_role"], "owner");
    assert_eq!(got["kind"], "label");
    let mine = app.get("/v1/orgs").bearer(&owner).send().await.value();
    assert_eq!(mine["items"][0]["id"], org.as_str());
    let members = app.get(&format!("/v1/orgs/{org}/members")).bearer(&owner).send().await.value();
    assert_eq!(members["items"][0]["user_id"], owner_id.as_str());

    let dup = app
        .post("/v1/orgs")
        .bearer(&owner)
        .json(&json!({"slug": "lumen-records", "name": "X", "kind": "label"}))
        .send()
        .await;
    assert_eq!(dup.assert_problem(StatusCode::CONFLICT, "slug_taken")["errors"][0]["field"], "slug");
    for bad in ["ab", "Upper", "-lead", "trail-", &"x".repeat(64)] {
        let res =
            app.post("/v1/orgs").bearer(&owner).json(&json!({"slug": bad, "name": "X", "kind": "label"})).send().await;
        assert_eq!(
            res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
            "slug",
            "{bad}"
        );
    }
    let at_bounds =
        app.post("/v1/orgs").bearer(&owner).json(&json!({"slug": "abc", "name": "X", "kind": "venue"})).send().await;
    at_bounds.assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn a_sub_label_needs_a_parent_its_creator_manages() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "label_boss").await;
    let (other, _, _) = signed_in(&app, "outsider").await;
    let label = create_org(&app, &owner, "big-label").await;
    let sub = app
        .post("/v1/orgs")
        .bearer(&owner)
        .json(&json!({"slug": "big-label-jazz", "name": "Jazz", "kind": "sub_label", "parent_id": label}))
        .send()
        .await;
    sub.assert_status(StatusCode::CREATED);
    assert_eq!(sub.value()["parent_id"], label.as_str());
    let refused = app
        .post("/v1/orgs")
        .bearer(&other)
        .json(&json!({"slug": "hijack", "name": "Hijack", "kind": "sub_label", "parent_id": label}))
        .send()
        .await;
    assert_eq!(
        refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "parent_id"
    );
}

#[tokio::test]
async fn strangers_learn_nothing_and_members_get_only_their_role() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "owner_one").await;
    let (viewer, _, _) = signed_in(&app, "viewer_vic").await;
    let (stranger, stranger_id, _) = signed_in(&app, "stranger").await;
    let org = create_org(&app, &owner, "private-org").await;
    join(&app, &owner, &org, &viewer, "viewer_vic@example.com", "viewer").await;
    let team =
        app.post(&format!("/v1/orgs/{org}/teams")).bearer(&owner).json(&json!({"name": "A&R"})).send().await.value();
    let team = team["id"].as_str().unwrap();

    // Every route that takes the organization's id refuses a stranger with 404.
    let routes: Vec<(axum::http::Method, String, Option<serde_json::Value>)> = vec![
        (axum::http::Method::GET, format!("/v1/orgs/{org}"), None),
        (axum::http::Method::PATCH, format!("/v1/orgs/{org}"), Some(json!({"name": "Mine now"}))),
        (axum::http::Method::GET, format!("/v1/orgs/{org}/members"), None),
        (axum::http::Method::PATCH, format!("/v1/orgs/{org}/members/{stranger_id}"), Some(json!({"role": "owner"}))),
        (axum::http::Method::DELETE, format!("/v1/orgs/{org}/members/{stranger_id}"), None),
        (
            axum::http::Method::POST,
            format!("/v1/orgs/{org}/invitations"),
            Some(json!({"email": "x@example.com", "role": "owner"})),
        ),
        (axum::http::Method::GET, format!("/v1/orgs/{org}/invitations"), None),
        (axum::http::Method::POST, format!("/v1/orgs/{org}/teams"), Some(json!({"name": "Mine"}))),
        (axum::http::Method::GET, format!("/v1/orgs/{org}/teams"), None),
        (axum::http::Method::DELETE, format!("/v1/orgs/{org}/teams/{team}"), None),
        (axum::http::Method::GET, format!("/v1/orgs/{org}/teams/{team}/members"), None),
        (axum::http::Method::PUT, format!("/v1/orgs/{org}/teams/{team}/members/{stranger_id}"), None),
        (axum::http::Method::GET, format!("/v1/orgs/{org}/audit"), None),
    ];
    for (method, path, body) in &routes {
        let mut req = app.request(method.clone(), path).bearer(&stranger);
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await;
        let problem = res.assert_problem(StatusCode::NOT_FOUND, "not_found");
        assert!(!res.text().contains("private-org"), "{method} {path} leaked: {problem}");
    }

    // A viewer reads but does not manage.
    app.get(&format!("/v1/orgs/{org}")).bearer(&viewer).send().await.assert_status(StatusCode::OK);
    let res = app.patch(&format!("/v1/orgs/{org}")).bearer(&viewer).json(&json!({"name": "Viewer's"})).send().await;
    res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let res = app
        .post(&format!("/v1/orgs/{org}/invitations"))
        .bearer(&viewer)
        .json(&json!({"email": "y@example.com", "role": "member"}))
        .send()
        .await;
    res.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    // The owner's name is unchanged.
    assert_eq!(app.get(&format!("/v1/orgs/{org}")).bearer(&owner).send().await.value()["name"], "private-org org");
}

#[tokio::test]
async fn the_last_owner_cannot_leave_or_be_demoted() {
    let app = app().await;
    let (owner, owner_id, _) = signed_in(&app, "sole_owner").await;
    let (admin, admin_id, _) = signed_in(&app, "org_admin").await;
    let org = create_org(&app, &owner, "one-owner").await;
    join(&app, &owner, &org, &admin, "org_admin@example.com", "admin").await;

    let demote = app
        .patch(&format!("/v1/orgs/{org}/members/{owner_id}"))
        .bearer(&owner)
        .json(&json!({"role": "admin"}))
        .send()
        .await;
    demote.assert_problem(StatusCode::CONFLICT, "last_owner");
    let leave = app.delete(&format!("/v1/orgs/{org}/members/{owner_id}")).bearer(&owner).send().await;
    leave.assert_problem(StatusCode::CONFLICT, "last_owner");
    // An admin may not touch owners at all.
    let res = app
        .patch(&format!("/v1/orgs/{org}/members/{owner_id}"))
        .bearer(&admin)
        .json(&json!({"role": "member"}))
        .send()
        .await;
    res.assert_problem(StatusCode::FORBIDDEN, "owner_only");
    let res = app
        .patch(&format!("/v1/orgs/{org}/members/{admin_id}"))
        .bearer(&admin)
        .json(&json!({"role": "owner"}))
        .send()
        .await;
    res.assert_problem(StatusCode::FORBIDDEN, "owner_only");

    // With a second owner, the first may step down and leave.
    app.patch(&format!("/v1/orgs/{org}/members/{admin_id}"))
        .bearer(&owner)
        .json(&json!({"role": "owner"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.delete(&format!("/v1/orgs/{org}/members/{owner_id}"))
        .bearer(&owner)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&format!("/v1/orgs/{org}")).bearer(&owner).send().await.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let unknown = app
        .patch(&format!("/v1/orgs/{org}/members/{admin_id}"))
        .bearer(&admin)
        .json(&json!({"role": "janitor"}))
        .send()
        .await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "role"
    );
}

#[tokio::test]
async fn two_owners_stepping_down_at_once_leave_one_owner() {
    let app = std::sync::Arc::new(app().await);
    let (a, a_id, _) = signed_in(&app, "owner_a").await;
    let (b, b_id, _) = signed_in(&app, "owner_b").await;
    let org = create_org(&app, &a, "two-owners").await;
    join(&app, &a, &org, &b, "owner_b@example.com", "owner").await;
    let step_down = |token: String, id: String| {
        let app = app.clone();
        let org = org.clone();
        tokio::spawn(
            async move { app.delete(&format!("/v1/orgs/{org}/members/{id}")).bearer(&token).send().await.status },
        )
    };
    let (ra, rb) = tokio::join!(step_down(a, a_id), step_down(b, b_id));
    let mut statuses = [ra.unwrap(), rb.unwrap()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::CONFLICT]);
    let owners: i64 = sqlx::query_scalar("SELECT count(*) FROM org_members WHERE org_id = $1::uuid AND role = 'owner'")
        .bind(&org)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(owners, 1);
}

#[tokio::test]
async fn invitations_expire_after_seven_days_and_are_single_use() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "inviter").await;
    signed_in(&app, "guest").await;
    signed_in(&app, "latecomer").await;
    let org = create_org(&app, &owner, "inviting-org").await;
    for email in ["guest@example.com", "latecomer@example.com"] {
        let res = app
            .post(&format!("/v1/orgs/{org}/invitations"))
            .bearer(&owner)
            .json(&json!({"email": email, "role": "member"}))
            .send()
            .await;
        res.assert_status(StatusCode::CREATED);
    }
    let mail: String = sqlx::query_scalar("SELECT body_text FROM mail_outbox WHERE to_address = 'guest@example.com' ORDER BY created_at DESC, id DESC LIMIT 1")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(mail.contains("http://backline.test/invitations/accept?token=ble_"), "{mail}");
    let dup = app
        .post(&format!("/v1/orgs/{org}/invitations"))
        .bearer(&owner)
        .json(&json!({"email": "GUEST@example.com", "role": "member"}))
        .send()
        .await;
    dup.assert_problem(StatusCode::CONFLICT, "invitation_pending");

    let guest_token = mailed_token(&app, "guest@example.com").await;
    let late_token = mailed_token(&app, "latecomer@example.com").await;
    app.clock.advance(Duration::days(7) - Duration::seconds(1));
    // A week on, access tokens have long expired: sign in again.
    let fresh = |name: &'static str| {
        let app = &app;
        async move { login(app, name, PASSWORD).await.value()["access_token"].as_str().unwrap().to_owned() }
    };
    let (guest, late, owner) = (fresh("guest").await, fresh("latecomer").await, fresh("inviter").await);
    app.post("/v1/invitations/accept")
        .bearer(&guest)
        .json(&json!({"token": guest_token}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.post("/v1/invitations/accept")
        .bearer(&guest)
        .json(&json!({"token": guest_token}))
        .send()
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
    app.clock.advance(Duration::seconds(1));
    app.post("/v1/invitations/accept")
        .bearer(&late)
        .json(&json!({"token": late_token}))
        .send()
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
    // The expired invitation does not block a new one.
    let again = app
        .post(&format!("/v1/orgs/{org}/invitations"))
        .bearer(&owner)
        .json(&json!({"email": "latecomer@example.com", "role": "member"}))
        .send()
        .await;
    again.assert_status(StatusCode::CREATED);
    let member = app
        .post(&format!("/v1/orgs/{org}/invitations"))
        .bearer(&owner)
        .json(&json!({"email": "guest@example.com", "role": "member"}))
        .send()
        .await;
    member.assert_problem(StatusCode::CONFLICT, "already_member");
}

#[tokio::test]
async fn invitations_can_be_declined_or_revoked() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "host").await;
    let (guest, _, _) = signed_in(&app, "shy_guest").await;
    let org = create_org(&app, &owner, "host-org").await;
    let inv = app
        .post(&format!("/v1/orgs/{org}/invitations"))
        .bearer(&owner)
        .json(&json!({"email": "shy_guest@example.com", "role": "member"}))
        .send()
        .await
        .value();
    let token = mailed_token(&app, "shy_guest@example.com").await;
    app.post("/v1/invitations/decline")
        .bearer(&guest)
        .json(&json!({"token": token}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.post("/v1/invitations/accept")
        .bearer(&guest)
        .json(&json!({"token": token}))
        .send()
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
    let id = inv["id"].as_str().unwrap();
    app.delete(&format!("/v1/orgs/{org}/invitations/{id}"))
        .bearer(&owner)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let inv = app
        .post(&format!("/v1/orgs/{org}/invitations"))
        .bearer(&owner)
        .json(&json!({"email": "shy_guest@example.com", "role": "viewer"}))
        .send()
        .await
        .value();
    let token = mailed_token(&app, "shy_guest@example.com").await;
    let listed = app.get(&format!("/v1/orgs/{org}/invitations")).bearer(&owner).send().await.value();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    app.delete(&format!("/v1/orgs/{org}/invitations/{}", inv["id"].as_str().unwrap()))
        .bearer(&owner)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.post("/v1/invitations/accept")
        .bearer(&guest)
        .json(&json!({"token": token}))
        .send()
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
}

#[tokio::test]
async fn teams_hold_only_members_of_their_organization() {
    let app = app().await;
    let (owner, owner_id, _) = signed_in(&app, "team_lead").await;
    let (member, member_id, _) = signed_in(&app, "team_player").await;
    let (_, outsider_id, _) = signed_in(&app, "not_in_org").await;
    let org = create_org(&app, &owner, "team-org").await;
    join(&app, &owner, &org, &member, "team_player@example.com", "member").await;
    let team =
        app.post(&format!("/v1/orgs/{org}/teams")).bearer(&owner).json(&json!({"name": "Design"})).send().await.value();
    let team = team["id"].as_str().unwrap();
    let dup = app.post(&format!("/v1/orgs/{org}/teams")).bearer(&owner).json(&json!({"name": "design"})).send().await;
    dup.assert_problem(StatusCode::CONFLICT, "team_name_taken");

    for user in [&owner_id, &member_id] {
        app.put(&format!("/v1/orgs/{org}/teams/{team}/members/{user}"))
            .bearer(&owner)
            .send()
            .await
            .assert_status(StatusCode::NO_CONTENT);
    }
    let res = app.put(&format!("/v1/orgs/{org}/teams/{team}/members/{outsider_id}")).bearer(&owner).send().await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["code"],
        "not_a_member"
    );
    let members = app.get(&format!("/v1/orgs/{org}/teams/{team}/members")).bearer(&member).send().await.value();
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
    // Leaving the organization leaves its teams.
    app.delete(&format!("/v1/orgs/{org}/members/{member_id}"))
        .bearer(&member)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let teams = app.get(&format!("/v1/orgs/{org}/teams")).bearer(&owner).send().await.value();
    assert_eq!(teams["items"][0]["member_count"], 1);
}

#[tokio::test]
async fn permission_templates_become_organization_roles() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let (owner, _, _) = signed_in(&app, "tmpl_owner").await;
    let (scout, scout_id, _) = signed_in(&app, "scout").await;
    let bad = app
        .post("/v1/admin/permission-templates")
        .bearer(&admin)
        .json(&json!({"name": "owner", "permissions": ["nope"]}))
        .send()
        .await;
    let problem = bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    app.post("/v1/admin/permission-templates")
        .bearer(&owner)
        .json(&json!({"name": "x", "permissions": ["members.read"]}))
        .send()
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let tmpl = app
        .post("/v1/admin/permission-templates")
        .bearer(&admin)
        .json(&json!({"name": "talent_scout", "description": "Sees the roster", "permissions": ["organizations.read", "members.read", "members.manage"]}))
        .send()
        .await;
    tmpl.assert_status(StatusCode::CREATED);
    let tmpl_id = tmpl.value()["id"].as_str().unwrap().to_owned();

    let org = create_org(&app, &owner, "scouted").await;
    join(&app, &owner, &org, &scout, "scout@example.com", "talent_scout").await;
    // The template's permissions apply: a scout may invite, but not edit the organization.
    let res = app
        .post(&format!("/v1/orgs/{org}/invitations"))
        .bearer(&scout)
        .json(&json!({"email": "new@example.com", "role": "viewer"}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    app.patch(&format!("/v1/orgs/{org}"))
        .bearer(&scout)
        .json(&json!({"name": "Nope"}))
        .send()
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let in_use = app.delete(&format!("/v1/admin/permission-templates/{tmpl_id}")).bearer(&admin).send().await;
    in_use.assert_problem(StatusCode::CONFLICT, "template_in_use");
    app.patch(&format!("/v1/orgs/{org}/members/{scout_id}"))
        .bearer(&owner)
        .json(&json!({"role": "member"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.delete(&format!("/v1/admin/permission-templates/{tmpl_id}"))
        .bearer(&admin)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn organization_audit_is_readable_by_its_managers_only() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "auditor").await;
    let (member, _, _) = signed_in(&app, "plain_member").await;
    let org = create_org(&app, &owner, "audited-org").await;
    join(&app, &owner, &org, &member, "plain_member@example.com", "member").await;
    app.patch(&format!("/v1/orgs/{org}"))
        .bearer(&owner)
        .json(&json!({"name": "Renamed", "country": "de"}))
        .send()
        .await
        .assert_status(StatusCode::OK);

    let log = app.get(&format!("/v1/orgs/{org}/audit")).bearer(&owner).send().await;
    log.assert_status(StatusCode::OK);
    let items = log.value()["items"].as_array().unwrap().clone();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions[0], "organization.update");
    assert!(actions.contains(&"organization.create") && actions.contains(&"invitation.accept"), "{actions:?}");
    assert_eq!(items[0]["before"]["name"], "audited-org org");
    assert_eq!(items[0]["after"]["country"], "DE");
    assert!(items.iter().all(|e| e["organization_id"] == org.as_str()));
    app.get(&format!("/v1/orgs/{org}/audit"))
        .bearer(&member)
        .send()
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.get("/v1/admin/audit").bearer(&owner).send().await.assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn ids_of_another_organization_are_not_found_through_this_one() {
    let app = app().await;
    let (a, _, _) = signed_in(&app, "owner_of_a").await;
    let (b, _, _) = signed_in(&app, "owner_of_b").await;
    let (_, b_member, _) = signed_in(&app, "member_of_b").await;
    let org_a = create_org(&app, &a, "org-a").await;
    let org_b = create_org(&app, &b, "org-b").await;
    let team_b =
        app.post(&format!("/v1/orgs/{org_b}/teams")).bearer(&b).json(&json!({"name": "B team"})).send().await.value();
    let team_b = team_b["id"].as_str().unwrap();
    let inv_b = app
        .post(&format!("/v1/orgs/{org_b}/invitations"))
        .bearer(&b)
        .json(&json!({"email": "z@example.com", "role": "member"}))
        .send()
        .await
        .value();
    let inv_b = inv_b["id"].as_str().unwrap();

    // A manages org A, and names org B's objects through org A's paths: nothing is found, nothing changes.
    app.delete(&format!("/v1/orgs/{org_a}/teams/{team_b}"))
        .bearer(&a)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.get(&format!("/v1/orgs/{org_a}/teams/{team_b}/members"))
        .bearer(&a)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.put(&format!("/v1/orgs/{org_a}/teams/{team_b}/members/{b_member}"))
        .bearer(&a)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.delete(&format!("/v1/orgs/{org_a}/invitations/{inv_b}"))
        .bearer(&a)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.patch(&format!("/v1/orgs/{org_a}/members/{b_member}"))
        .bearer(&a)
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let teams = app.get(&format!("/v1/orgs/{org_b}/teams")).bearer(&b).send().await.value();
    assert_eq!(teams["items"].as_array().unwrap().len(), 1);
    let invitations = app.get(&format!("/v1/orgs/{org_b}/invitations")).bearer(&b).send().await.value();
    assert_eq!(invitations["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_unverified_account_cannot_accept_an_invitation() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "verifier").await;
    let org = create_org(&app, &owner, "verified-only").await;
    crate::support::register(&app, "unverified").await;
    let access = login(&app, "unverified", PASSWORD).await.value();
    let access = access["access_token"].as_str().unwrap();
    app.post(&format!("/v1/orgs/{org}/invitations"))
        .bearer(&owner)
        .json(&json!({"email": "unverified@example.com", "role": "member"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    // The newest mail to the address is the invitation.
    let token = mailed_token(&app, "unverified@example.com").await;
    let res = app.post("/v1/invitations/accept").bearer(access).json(&json!({"token": token})).send().await;
    res.assert_problem(StatusCode::FORBIDDEN, "email_not_verified");
}
