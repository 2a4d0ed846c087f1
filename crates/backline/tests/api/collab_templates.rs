//! A project's structure: folders of its own, checklists its members tick, and templates that give a new
//! project the folders, checklists and members' roles of the one they were saved from.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::collab::{project, put_member, team};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn folders_and_checklists_of_a_project() {
    let app = crate::support::app().await;
    let t = team(&app, "chk").await;
    let p = id(&project(&app, &t, "Album").await);
    put_member(&app, &t.owner, &p, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &p, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);

    // Folders: made once (201, then 200), listed with those files are in and their counts.
    let made = app
        .post(&format!("/v1/projects/{p}/folders"))
        .bearer(&t.alice)
        .json(&json!({"path": "/artwork/drafts/"}))
        .send()
        .await;
    made.assert_status(StatusCode::CREATED);
    assert_eq!(made.value(), json!({"path": "artwork/drafts", "files": 0}));
    app.post(&format!("/v1/projects/{p}/folders"))
        .bearer(&t.alice)
        .json(&json!({"path": "artwork/drafts"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    for bad in ["", "a/../b", "/"] {
        let res =
            app.post(&format!("/v1/projects/{p}/folders")).bearer(&t.alice).json(&json!({"path": bad})).send().await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.value()["errors"][0]["field"], "path", "{bad}");
    }
    app.post(&format!("/v1/projects/{p}/folders"))
        .bearer(&t.bob)
        .json(&json!({"path": "mine"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post(&format!("/v1/projects/{p}/files?name=brief.txt&folder=docs"))
        .bearer(&t.alice)
        .body(b"brief".to_vec())
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let folders = app.get(&format!("/v1/projects/{p}/folders")).bearer(&t.bob).send().await.value();
    assert_eq!(folders, json!([{"path": "artwork/drafts", "files": 0}, {"path": "docs", "files": 1}]));
    app.get(&format!("/v1/projects/{p}/folders")).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);

    // Checklists: made by the makers, ticked by anyone but viewers, who ticked it kept.
    let res = app
        .post(&format!("/v1/projects/{p}/checklists"))
        .bearer(&t.alice)
        .json(&json!({"title": "Before the print run", "items": ["Proof colours", "Check the barcode"]}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let list = res.value();
    assert_eq!((list["done"].as_u64(), list["items"].as_array().unwrap().len()), (Some(0), 2));
    let item = id(&list["items"][1]);
    let res =
        app.put(&format!("/v1/checklist-items/{item}")).bearer(&t.owner).json(&json!({"done": true})).send().await;
    res.assert_status(StatusCode::OK);
    let ticked = res.value();
    assert_eq!((ticked["done"].as_u64(), &ticked["items"][1]["done"]), (Some(1), &json!(true)));
    app.put(&format!("/v1/checklist-items/{item}"))
        .bearer(&t.bob)
        .json(&json!({"done": false}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.put(&format!("/v1/checklist-items/{item}"))
        .bearer(&t.outsider)
        .json(&json!({"done": false}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let res = app
        .post(&format!("/v1/checklists/{}/items", id(&list)))
        .bearer(&t.alice)
        .json(&json!({"body": "Sign off"}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let value = res.value();
    let bodies: Vec<&str> = value["items"].as_array().unwrap().iter().map(|i| i["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Proof colours", "Check the barcode", "Sign off"]);
    // Bounds: a title of 200 characters passes, 201 does not; 200 items pass, 201 do not.
    let title = |n: usize| "t".repeat(n);
    for (n, status) in [(200, StatusCode::CREATED), (201, StatusCode::UNPROCESSABLE_ENTITY)] {
        app.post(&format!("/v1/projects/{p}/checklists"))
            .bearer(&t.alice)
            .json(&json!({"title": title(n)}))
            .send()
            .await
            .assert_status(status);
    }
    for (n, status) in [(200, StatusCode::CREATED), (201, StatusCode::UNPROCESSABLE_ENTITY)] {
        let items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
        app.post(&format!("/v1/projects/{p}/checklists"))
            .bearer(&t.alice)
            .json(&json!({"title": "Many", "items": items}))
            .send()
            .await
            .assert_status(status);
    }
    let all = app.get(&format!("/v1/projects/{p}/checklists")).bearer(&t.bob).send().await.value();
    assert_eq!(all.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_template_gives_a_new_project_its_structure() {
    let app = crate::support::app().await;
    let t = team(&app, "tpl").await;
    let source = id(&project(&app, &t, "Single: Comet").await);
    put_member(&app, &t.owner, &source, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &source, &t.bob_id, "commenter").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &source, &t.outsider_id, "client").await.assert_status(StatusCode::OK);
    for path in ["artwork", "masters"] {
        app.post(&format!("/v1/projects/{source}/folders"))
            .bearer(&t.owner)
            .json(&json!({"path": path}))
            .send()
            .await
            .assert_status(StatusCode::CREATED);
    }
    let list = app
        .post(&format!("/v1/projects/{source}/checklists"))
        .bearer(&t.owner)
        .json(&json!({"title": "Release steps", "items": ["Master", "Artwork", "Deliver"]}))
        .send()
        .await
        .value();
    app.put(&format!("/v1/checklist-items/{}", id(&list["items"][0])))
        .bearer(&t.owner)
        .json(&json!({"done": true}))
        .send()
        .await
        .assert_status(StatusCode::OK);

    // Saved by a manager; an editor may not.
    app.post(&format!("/v1/projects/{source}/template"))
        .bearer(&t.alice)
        .json(&json!({"name": "Single"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let res = app
        .post(&format!("/v1/projects/{source}/template"))
        .bearer(&t.owner)
        .json(&json!({"name": "Single", "description": "A single's campaign"}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let template = res.value();
    assert_eq!(template["folders"], json!(["artwork", "masters"]));
    assert_eq!(template["checklists"], json!([{"title": "Release steps", "items": ["Master", "Artwork", "Deliver"]}]));
    assert_eq!(template["roles"].as_array().unwrap().len(), 4, "{template}");
    let res = app
        .post(&format!("/v1/projects/{source}/template"))
        .bearer(&t.owner)
        .json(&json!({"name": "SINGLE"}))
        .send()
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "template_exists");
    let listed = app.get(&format!("/v1/orgs/{}/project-templates", t.org)).bearer(&t.owner).send().await.value();
    assert_eq!(listed[0]["id"], template["id"]);
    app.get(&format!("/v1/orgs/{}/project-templates", t.org))
        .bearer(&t.outsider)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.get(&format!("/v1/project-templates/{}", id(&template)))
        .bearer(&t.outsider)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // Bob leaves the organization: the new project leaves him out.
    let bob_id = t.bob_id.clone();
    app.delete(&format!("/v1/orgs/{}/members/{bob_id}", t.org))
        .bearer(&t.owner)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let res = app
        .post("/v1/projects")
        .bearer(&t.owner)
        .json(&json!({"organization_id": t.org, "name": "Single: Meteor", "template_id": id(&template)}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let made = res.value();
    assert_eq!(
        (made["kind"].as_str(), made["description"].as_str()),
        (Some("album_artwork"), Some("A single's campaign"))
    );
    let p = id(&made);
    let folders = app.get(&format!("/v1/projects/{p}/folders")).bearer(&t.owner).send().await.value();
    assert_eq!(folders, json!([{"path": "artwork", "files": 0}, {"path": "masters", "files": 0}]));
    let lists = app.get(&format!("/v1/projects/{p}/checklists")).bearer(&t.owner).send().await.value();
    assert_eq!(lists[0]["title"], "Release steps");
    assert_eq!(lists[0]["done"], 0, "nothing ticked: {lists}");
    let members = app.get(&format!("/v1/projects/{p}/members")).bearer(&t.owner).send().await.value();
    let mut roles: Vec<(String, String)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user_id"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned()))
        .collect();
    roles.sort();
    let mut expected = vec![(t.alice_id.clone(), "editor".to_owned()), (t.outsider_id.clone(), "client".to_owned())];
    let owner_id = members.as_array().unwrap().iter().find(|m| m["role"] == "manager").unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    expected.push((owner_id, "manager".to_owned()));
    expected.sort();
    assert_eq!(roles, expected);
    // The people it adds hear of it.
    crate::support::drain_jobs(&app).await;
    let told = app.get("/v1/me/notifications").bearer(&t.alice).send().await.value();
    assert!(told.to_string().contains("Single: Meteor"), "{told}");

    // Another organization's template is no template here; nothing is made.
    let other = team(&app, "tpl2").await;
    let before = app.get("/v1/projects").bearer(&other.owner).send().await.value()["items"].as_array().unwrap().len();
    let res = app
        .post("/v1/projects")
        .bearer(&other.owner)
        .json(&json!({"organization_id": other.org, "name": "Stolen", "template_id": id(&template)}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["field"], "template_id");
    assert_eq!(
        app.get("/v1/projects").bearer(&other.owner).send().await.value()["items"].as_array().unwrap().len(),
        before
    );

    // Removed: projects made from it keep what they got.
    app.delete(&format!("/v1/project-templates/{}", id(&template)))
        .bearer(&t.owner)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/v1/projects/{p}/checklists")).bearer(&t.owner).send().await.value()[0]["title"],
        "Release steps"
    );
}

/// The plan's limits hold for the people a template adds: past them the project is not made at all.
#[tokio::test]
async fn a_template_past_the_plans_limits_makes_nothing() {
    let app = crate::support::app().await;
    let t = team(&app, "tplf").await;
    let source = id(&project(&app, &t, "Big").await);
    put_member(&app, &t.owner, &source, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &source, &t.bob_id, "editor").await.assert_status(StatusCode::OK);
    let template = app
        .post(&format!("/v1/projects/{source}/template"))
        .bearer(&t.owner)
        .json(&json!({"name": "Big"}))
        .send()
        .await
        .value();
    // Back on Free (one person besides the owners, two open projects), with nobody on a project: the
    // template's two people would be two new ones.
    for user in [&t.alice_id, &t.bob_id] {
        app.delete(&format!("/v1/projects/{source}/members/{user}"))
            .bearer(&t.owner)
            .send()
            .await
            .assert_status(StatusCode::NO_CONTENT);
    }
    app.patch(&format!("/v1/projects/{source}"))
        .bearer(&t.owner)
        .json(&json!({"status": "completed"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let (admin, _) = crate::support::signed_in_with_roles(&app, "tplf_admin", "Admin", &["admin"]).await;
    app.put(&format!("/v1/orgs/{}/plan", t.org))
        .bearer(&admin)
        .json(&json!({"plan": "free", "complimentary": true}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let res = app
        .post("/v1/projects")
        .bearer(&t.owner)
        .json(&json!({"organization_id": t.org, "name": "Big again", "template_id": id(&template)}))
        .send()
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "plan_limit", "{}", res.value());
    let projects = app.get("/v1/projects").bearer(&t.owner).send().await.value();
    assert!(!projects.to_string().contains("Big again"), "{projects}");
}

/// A checklist holds at most 200 items however many are added at once (its row is locked while one is
/// added): ten at once with room for five, three times, and five are kept each time, in order.
#[tokio::test]
async fn items_added_at_once_never_pass_the_limit() {
    let app = std::sync::Arc::new(crate::support::app().await);
    let t = team(&app, "chkr").await;
    let p = id(&project(&app, &t, "Race").await);
    for round in 0..3 {
        let items: Vec<String> = (0..195).map(|i| format!("item {i}")).collect();
        let list = app
            .post(&format!("/v1/projects/{p}/checklists"))
            .bearer(&t.owner)
            .json(&json!({"title": format!("Round {round}"), "items": items}))
            .send()
            .await
            .value();
        let list_id = id(&list);
        let mut racers = Vec::new();
        for n in 0..10 {
            let (app, token, list_id) = (app.clone(), t.owner.clone(), list_id.clone());
            racers.push(tokio::spawn(async move {
                app.post(&format!("/v1/checklists/{list_id}/items"))
                    .bearer(&token)
                    .json(&json!({"body": format!("late {n}")}))
                    .send()
                    .await
                    .status
            }));
        }
        let mut kept = 0;
        for racer in racers {
            match racer.await.unwrap() {
                StatusCode::CREATED => kept += 1,
                StatusCode::UNPROCESSABLE_ENTITY => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(kept, 5, "round {round}");
    }
    let lists = app.get(&format!("/v1/projects/{p}/checklists")).bearer(&t.owner).send().await.value();
    for list in lists.as_array().unwrap() {
        assert_eq!(list["items"].as_array().unwrap().len(), 200, "{}", list["title"]);
    }
}
