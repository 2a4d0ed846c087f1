//! Briefs over HTTP: a company's brand and audiences, the style library (a picture it has already is
//! refused by its perceptual hash, also when uploaded to many cards at once), suggestions ranked by
//! earlier choices, a brief built in steps with confirmations and attachments, and the one task a ready
//! brief becomes.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{Value, json};
use testkit::media;
use uuid::Uuid;

use crate::catalog::{staged_files, stored_files};
use crate::support::{drain_jobs, signed_in};
use crate::tasks::{World, credits, freelancers, open_offers, world};

async fn upload(
    w: &World,
    token: &str,
    method: &str,
    path: &str,
    media_type: &str,
    bytes: Vec<u8>,
) -> testkit::TestResponse {
    let req = if method == "PUT" { w.app.put(path) } else { w.app.post(path) };
    req.bearer(token).header("content-type", media_type).body(bytes).send().await
}

fn png(seed: u64, width: u32, height: u32) -> Vec<u8> {
    media::png_rgb(&media::drawing(seed, width, height), width, height)
}

fn jpeg(seed: u64, width: u16, height: u16) -> Vec<u8> {
    media::jpeg_rgb(&media::drawing(seed, u32::from(width), u32::from(height)), width, height, 75)
}

/// A draft card (staff) of `axis` and `temperature`; returns its id.
async fn card(w: &World, title: &str, axis: &str, temperature: &str, levels: (i64, i64, i64)) -> String {
    let res = w
        .app
        .post("/v1/task-style-cards")
        .bearer(&w.admin)
        .json(&json!({"title": title, "deliverable_type": "static_ad", "style_axis": axis,
                      "colour_temperature": temperature, "energy": levels.0, "density": levels.1,
                      "formality": levels.2, "colour_samples": ["#FF6600"], "industries": ["coffee"],
                      "mood_keywords": ["Warm", "lively"]}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let v = res.value();
    assert_eq!((v["status"].as_str(), v["colour_samples"][0].as_str()), (Some("draft"), Some("#ff6600")));
    v["id"].as_str().unwrap().to_owned()
}

/// A card with its image in; returns its id.
async fn active_card(w: &World, title: &str, axis: &str, temperature: &str, seed: u64) -> String {
    let id = card(w, title, axis, temperature, (3, 3, 3)).await;
    let path = format!("/v1/task-style-cards/{id}/image");
    let res = upload(w, &w.admin, "PUT", &path, "image/png", png(seed, 320, 240)).await;
    res.assert_status(StatusCode::OK);
    id
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().or(c["card"]["id"].as_str()).unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_style_library_refuses_a_picture_it_has_and_suggests_by_earlier_choices() {
    let w = world("styles", 0).await;
    // Staff only, and every wrong field named.
    let bad = json!({"title": "", "deliverable_type": "banner", "style_axis": "bold", "colour_temperature": "hot",
                     "energy": 6, "density": 0, "formality": 3, "colour_samples": ["orange"]});
    let res = w.app.post("/v1/task-style-cards").bearer(&w.admin).json(&bad).send().await;
    let problem = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["title", "deliverable_type", "colour_temperature", "energy", "density", "colour_samples[0]"]);
    w.app.post("/v1/task-style-cards").bearer(&w.client).json(&bad).send().await.assert_status(StatusCode::FORBIDDEN);

    // A card gets its image; the same picture again (another size, re-encoded as JPEG) is refused and
    // nothing of it is kept.
    let first = card(&w, "Bold coffee", "bold", "warm", (4, 2, 2)).await;
    let res =
        upload(&w, &w.admin, "PUT", &format!("/v1/task-style-cards/{first}/image"), "image/png", png(11, 800, 600))
            .await;
    res.assert_status(StatusCode::OK);
    let v = res.value();
    assert_eq!((v["status"].as_str(), v["image"]["width"].as_i64()), (Some("active"), Some(800)));
    assert_eq!(v["image"]["phash"].as_str().unwrap().len(), 16);
    let files_before = stored_files(&w.app).await;
    let twin = card(&w, "Twin", "bold", "warm", (4, 2, 2)).await;
    let twin_image = format!("/v1/task-style-cards/{twin}/image");
    let res = upload(&w, &w.admin, "PUT", &twin_image, "image/jpeg", jpeg(11, 400, 300)).await;
    let problem = res.assert_problem(StatusCode::CONFLICT, "duplicate_image");
    assert!(problem["detail"].as_str().unwrap().contains(&first), "{problem}");
    assert_eq!(stored_files(&w.app).await, files_before, "nothing of a refused picture is kept");
    assert_eq!(staged_files(&w.app), 0);
    let v = w.app.get(&format!("/v1/task-style-cards/{twin}")).bearer(&w.admin).send().await.value();
    assert_eq!((v["status"].as_str(), v["image"].is_null()), (Some("draft"), true));
    // Not an image, or too small: refused by name.
    let res = upload(&w, &w.admin, "PUT", &twin_image, "image/png", b"not a picture".to_vec()).await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "image"
    );
    let res = upload(&w, &w.admin, "PUT", &twin_image, "image/png", png(12, 63, 63)).await;
    res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // Another picture is welcome.
    upload(&w, &w.admin, "PUT", &twin_image, "image/png", png(12, 640, 480)).await.assert_status(StatusCode::OK);

    // Clients browse the active cards with filters, and fetch images; drafts are staff's.
    let draft = card(&w, "Draft", "minimal", "cool", (1, 5, 5)).await;
    w.app
        .get(&format!("/v1/task-style-cards/{draft}"))
        .bearer(&w.client)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let all = w.app.get("/v1/task-style-cards").bearer(&w.client).send().await.value();
    assert_eq!(ids(&all), [twin.clone(), first.clone()], "active cards, newest first");
    let drafts = w.app.get("/v1/task-style-cards?status=draft").bearer(&w.admin).send().await.value();
    assert_eq!(ids(&drafts), [draft]);
    w.app
        .get("/v1/task-style-cards?status=draft")
        .bearer(&w.client)
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let q = "/v1/task-style-cards?style_axis=bold&colour_temperature=warm&mood=WARM&industry=coffee&energy_min=4&energy_max=5";
    assert_eq!(ids(&w.app.get(q).bearer(&w.client).send().await.value()), [twin.clone(), first.clone()]);
    let q = "/v1/task-style-cards?energy_min=5";
    assert_eq!(ids(&w.app.get(q).bearer(&w.client).send().await.value()), Vec::<String>::new());
    let res = w.app.get("/v1/task-style-cards?energy_min=4&energy_max=3").bearer(&w.client).send().await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "energy_max"
    );
    let image = w.app.get(&format!("/v1/task-style-cards/{first}/image")).bearer(&w.client).send().await;
    image.assert_status(StatusCode::OK);
    assert_eq!(image.headers.get("content-type").unwrap(), "image/png");
    assert_eq!(image.body.as_ref(), png(11, 800, 600).as_slice());

    // Suggestions: without earlier choices, newest first; after a brief chose a bold warm card, a bold
    // warm card comes before a newer minimal cool one.
    let alike = active_card(&w, "Bold again", "bold", "warm", 21).await;
    let other = active_card(&w, "Quiet", "minimal", "cool", 22).await;
    let path = format!("/v1/orgs/{}/style-suggestions", w.org);
    let v = w.app.get(&path).bearer(&w.client).send().await.value();
    assert_eq!(v["earlier_choices"], 0);
    assert_eq!(ids(&v["items"])[..2], [other.clone(), alike.clone()]);
    let brief = new_brief(&w, "Chooser").await;
    patch(&w, &brief, json!({"style_card_ids": [first]})).await.assert_status(StatusCode::OK);
    let v = w.app.get(&format!("{path}?brief_id={brief}")).bearer(&w.client).send().await.value();
    assert_eq!(v["earlier_choices"], 1);
    let ranked = ids(&v["items"]);
    assert!(!ranked.contains(&first), "the brief's own choice is left out");
    // The twin and the second bold card agree with the choice on every point; the newer first.
    assert_eq!(ranked, [alike.clone(), twin.clone(), other.clone()], "{v}");
    assert!(v["items"][0]["score"].as_i64().unwrap() > v["items"][2]["score"].as_i64().unwrap());
    let (stranger, _, _) = signed_in(&w.app, "styles_stranger").await;
    w.app.get(&path).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);

    // A retired card leaves the library and stays on the brief that chose it.
    w.app.delete(&format!("/v1/task-style-cards/{first}")).bearer(&w.admin).send().await.assert_status(StatusCode::OK);
    assert!(!ids(&w.app.get("/v1/task-style-cards").bearer(&w.client).send().await.value()).contains(&first));
    let v = w.app.get(&format!("/v1/briefs/{brief}")).bearer(&w.client).send().await.value();
    assert_eq!(ids(&v["style_cards"]), [first.as_str()]);
    let res =
        upload(&w, &w.admin, "PUT", &format!("/v1/task-style-cards/{first}/image"), "image/png", png(30, 300, 300))
            .await;
    res.assert_problem(StatusCode::CONFLICT, "card_retired");
}

/// Eight cards get the same picture at once, six rounds over (an hour apart, so that each round is
/// within an account's hourly upload allowance): each round exactly one is taken and the others are
/// refused as duplicates.
#[tokio::test]
async fn the_same_picture_uploaded_to_many_cards_at_once_is_taken_once() {
    let w = Arc::new(world("race", 0).await);
    for round in 0..6u64 {
        w.app.clock.advance(Duration::minutes(61));
        let mut cards = Vec::new();
        for i in 0..8 {
            cards.push(card(&w, &format!("Race {round}.{i}"), "bold", "warm", (3, 3, 3)).await);
        }
        let picture = png(100 + round, 400, 400);
        let uploads: Vec<_> = cards
            .iter()
            .map(|id| {
                let (w, path, picture) = (Arc::clone(&w), format!("/v1/task-style-cards/{id}/image"), picture.clone());
                tokio::spawn(async move {
                    let res = upload(&w, &w.admin, "PUT", &path, "image/png", picture).await;
                    (res.status, res.value()["code"].as_str().map(str::to_owned))
                })
            })
            .collect();
        let mut taken = 0;
        for u in uploads {
            match u.await.unwrap() {
                (StatusCode::OK, _) => taken += 1,
                (StatusCode::CONFLICT, Some(code)) => assert_eq!(code, "duplicate_image"),
                other => panic!("unexpected answer {other:?}"),
            }
        }
        assert_eq!(taken, 1, "round {round}: one card takes the picture");
    }
}

async fn new_brief(w: &World, title: &str) -> String {
    let res = w.app.post("/v1/briefs").bearer(&w.client).json(&json!({"org_id": w.org, "title": title})).send().await;
    res.assert_status(StatusCode::CREATED);
    let v = res.value();
    assert_eq!(v["status"], "draft");
    v["id"].as_str().unwrap().to_owned()
}

async fn patch(w: &World, brief: &str, body: Value) -> testkit::TestResponse {
    w.app.patch(&format!("/v1/briefs/{brief}")).bearer(&w.client).json(&body).send().await
}

fn missing(brief: &Value) -> Vec<String> {
    brief["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}:{}", m["step"].as_str().unwrap(), m["reason"].as_str().unwrap()))
        .collect()
}

async fn task_from(w: &World, brief: &str) -> testkit::TestResponse {
    let deadline = w.app.clock_now() + Duration::hours(48);
    w.app
        .post("/v1/tasks")
        .bearer(&w.client)
        .header("idempotency-key", &Uuid::now_v7().to_string())
        .json(&json!({"org_id": w.org, "category": "static_ads", "title": "From a brief", "deadline_at": deadline,
                      "brief_id": brief}))
        .send()
        .await
}

#[tokio::test]
async fn a_brief_is_built_in_steps_confirmed_and_becomes_one_task() {
    let w = world("brief", 50).await;
    let (stranger, _, _) = signed_in(&w.app, "brief_stranger").await;

    // The brand: colours checked, a logo that must be an image, assets of any kind.
    let brand = format!("/v1/orgs/{}/brand", w.org);
    let res = w.app.put(&brand).bearer(&w.client).json(&json!({"name": "Acme", "colours": ["#12345"]})).send().await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "colours[0]"
    );
    let body = json!({"name": "Acme Coffee", "colours": ["#3B2F2F", "#F5DEB3"], "fonts": ["Inter"],
                      "tone": "Warm and direct", "dos": ["Show the beans"], "donts": ["No stock photos"]});
    let v = w.app.put(&brand).bearer(&w.client).json(&body).send().await.value();
    assert_eq!(v["colours"], json!(["#3b2f2f", "#f5deb3"]));
    w.app.put(&brand).bearer(&stranger).json(&body).send().await.assert_status(StatusCode::NOT_FOUND);
    let files = format!("/v1/orgs/{}/brand/files", w.org);
    let res = upload(
        &w,
        &w.client,
        "POST",
        &format!("{files}?kind=logo&name=logo.txt"),
        "application/octet-stream",
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["code"],
        "unsupported_format"
    );
    let svg =
        b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>".to_vec();
    let res = upload(&w, &w.client, "POST", &format!("{files}?kind=logo&name=logo.svg"), "image/svg+xml", svg).await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(res.value()["media_type"], "image/svg+xml");
    let logo = png(5, 200, 200);
    upload(&w, &w.client, "POST", &format!("{files}?kind=logo&name=logo.png"), "image/png", logo.clone())
        .await
        .assert_status(StatusCode::CREATED);
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    upload(&w, &w.client, "POST", &format!("{files}?kind=asset&name=guide.pdf"), "application/pdf", pdf)
        .await
        .assert_status(StatusCode::CREATED);
    let v = w.app.get(&brand).bearer(&w.client).send().await.value();
    assert_eq!(v["logo"]["name"], "logo.png", "a new logo replaces the old");
    assert_eq!(v["assets"][0]["media_type"], "application/pdf");
    let logo_url = v["logo"]["url"].as_str().unwrap().to_owned();
    let got = w.app.get(&logo_url).bearer(&w.client).send().await;
    assert_eq!(got.body.as_ref(), logo.as_slice());
    w.app.get(&logo_url).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    w.app.get(&brand).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);

    // Audiences: facets checked at their edges, names unique in the company.
    let audiences = format!("/v1/orgs/{}/audiences", w.org);
    let res = w
        .app
        .post(&audiences)
        .bearer(&w.client)
        .json(&json!({"name": "Young", "demographics": {"age_min": 12, "age_max": 30}}))
        .send()
        .await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "demographics.age_min"
    );
    let res = w
        .app
        .post(&audiences)
        .bearer(&w.client)
        .json(&json!({"name": "Young", "demographics": {"age_min": 30, "age_max": 29}}))
        .send()
        .await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "demographics.age_max"
    );
    let young = json!({"name": "Young coffee lovers", "demographics": {"age_min": 13, "age_max": 100, "locations": ["Berlin"]},
                       "psychographics": {"interests": ["coffee", "cycling"]}, "behaviour": {"channels": ["instagram"]}});
    let res = w.app.post(&audiences).bearer(&w.client).json(&young).send().await;
    res.assert_status(StatusCode::CREATED);
    let audience = res.value()["id"].as_str().unwrap().to_owned();
    w.app
        .post(&audiences)
        .bearer(&w.client)
        .json(&young)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "audience_exists");

    // The brief, step by step.
    let cards = [active_card(&w, "A", "bold", "warm", 41).await, active_card(&w, "B", "playful", "warm", 42).await];
    let brief = new_brief(&w, "Autumn launch").await;
    let v = w.app.get(&format!("/v1/briefs/{brief}")).bearer(&w.client).send().await.value();
    assert_eq!(
        missing(&v),
        ["summary:required", "platform:required", "content_type:required", "intent:required", "formats:required"]
    );
    let v = patch(&w, &brief, json!({"summary": "Three autumn ads", "platform": "instagram", "confirm": ["summary"]}))
        .await
        .value();
    assert_eq!(missing(&v)[..2], ["platform:unconfirmed".to_owned(), "content_type:required".to_owned()]);
    let res = patch(&w, &brief, json!({"confirm": ["colour"], "style_card_ids": [cards[0], cards[0]]})).await;
    let problem = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
    let res = patch(&w, &brief, json!({"audience_id": Uuid::now_v7()})).await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "audience_id"
    );
    let v = patch(&w, &brief, json!({
        "content_type": "static_ad", "intent": "sell", "deliverables": ["Feed post", "Story"], "formats": ["1080x1080 PNG"],
        "audience_id": audience, "style_card_ids": cards, "visual_direction": "Warm light",
        "confirm": ["platform", "content_type", "intent", "formats", "audience", "visual_direction"],
    }))
    .await
    .value();
    assert_eq!((v["status"].as_str(), missing(&v).len()), (Some("ready"), 0), "{v}");
    assert_eq!(ids(&v["style_cards"]), cards);
    assert_eq!(v["audience_profile"]["name"], "Young coffee lovers");
    // A changed step needs confirming again; so do new attachments.
    let v = patch(&w, &brief, json!({"summary": "Four autumn ads"})).await.value();
    assert_eq!((v["status"].as_str(), missing(&v)), (Some("draft"), vec!["summary:unconfirmed".to_owned()]));
    let res = task_from(&w, &brief).await;
    let problem = res.assert_problem(StatusCode::CONFLICT, "brief_not_ready");
    assert_eq!(problem["errors"][0]["field"], "brief.summary");
    assert_eq!(credits(&w).await, (50, 0), "nothing is held for a brief that is not ready");
    patch(&w, &brief, json!({"confirm": ["summary"]})).await.assert_status(StatusCode::OK);
    let sketch = png(7, 300, 200);
    let res = upload(
        &w,
        &w.client,
        "POST",
        &format!("/v1/briefs/{brief}/attachments?name=sketch.png"),
        "image/png",
        sketch.clone(),
    )
    .await;
    res.assert_status(StatusCode::CREATED);
    let sketch_url = res.value()["url"].as_str().unwrap().to_owned();
    let v = w.app.get(&format!("/v1/briefs/{brief}")).bearer(&w.client).send().await.value();
    assert_eq!(missing(&v), ["attachments:unconfirmed"]);
    let v = patch(&w, &brief, json!({"confirm": ["attachments"]})).await.value();
    assert_eq!(v["status"], "ready");
    w.app.get(&format!("/v1/briefs/{brief}")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    patch(&w, &brief, json!({"title": "x"})).await.assert_status(StatusCode::OK);
    let res =
        w.app.patch(&format!("/v1/briefs/{brief}")).bearer(&stranger).json(&json!({"title": "mine"})).send().await;
    res.assert_status(StatusCode::NOT_FOUND);

    // A brief and a whole brief at once are refused; a ready brief becomes one task, once.
    let deadline = w.app.clock_now() + Duration::hours(48);
    let both = json!({"org_id": w.org, "category": "static_ads", "title": "Both", "deadline_at": deadline,
                      "brief_id": brief, "brief": {"summary": "x"}});
    let res = w.app.post("/v1/tasks").bearer(&w.client).header("idempotency-key", "both").json(&both).send().await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "brief"
    );
    let people = freelancers(&w, "brief_f", 1, &[("graphic_design", 90)], None).await;
    let res = task_from(&w, &brief).await;
    res.assert_status(StatusCode::CREATED);
    let task = res.value();
    assert_eq!(task["brief"]["brief_id"], brief.as_str());
    assert_eq!(task["brief"]["summary"], "Four autumn ads");
    assert_eq!(task["brief"]["style_cards"].as_array().unwrap().len(), 2);
    assert_eq!(task["brief"]["attachments"][0]["name"], "sketch.png");
    assert_eq!(task["brief"]["audience_profile"]["name"], "Young coffee lovers");
    assert_eq!(task["complexity"], "simple", "two deliverables in one format");
    assert_eq!(credits(&w).await, (40, 10));
    task_from(&w, &brief).await.assert_problem(StatusCode::CONFLICT, "brief_used");
    patch(&w, &brief, json!({"outline": "late"})).await.assert_problem(StatusCode::CONFLICT, "brief_used");
    let res = upload(
        &w,
        &w.client,
        "POST",
        &format!("/v1/briefs/{brief}/attachments?name=late.png"),
        "image/png",
        png(8, 100, 100),
    )
    .await;
    res.assert_problem(StatusCode::CONFLICT, "brief_used");
    let sketch_id = sketch_url.rsplit('/').next().unwrap();
    w.app
        .delete(&format!("/v1/task-files/{sketch_id}"))
        .bearer(&w.client)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "brief_used");
    assert_eq!(credits(&w).await, (40, 10), "one task, held once");
    let v = w.app.get(&format!("/v1/orgs/{}/briefs", w.org)).bearer(&w.client).send().await.value();
    assert_eq!(
        (v["items"][0]["status"].as_str(), v["items"][0]["task_id"].as_str()),
        (Some("used"), task["id"].as_str())
    );
    // The audience the brief uses stays.
    let res = w.app.delete(&format!("{audiences}/{audience}")).bearer(&w.client).send().await;
    res.assert_problem(StatusCode::CONFLICT, "audience_in_use");

    // The freelancer offered the task reads the brief, the brand and the attachment; before the offer
    // they could not.
    let (freelancer, _) = &people[0];
    w.app.get(&format!("/v1/briefs/{brief}")).bearer(freelancer).send().await.assert_status(StatusCode::NOT_FOUND);
    drain_jobs(&w.app).await;
    assert_eq!(open_offers(&w, freelancer).await.len(), 1);
    w.app.get(&format!("/v1/briefs/{brief}")).bearer(freelancer).send().await.assert_status(StatusCode::OK);
    w.app.get(&brand).bearer(freelancer).send().await.assert_status(StatusCode::OK);
    let got = w.app.get(&sketch_url).bearer(freelancer).send().await;
    assert_eq!(got.body.as_ref(), sketch.as_slice());
    // ... but cannot change them.
    let res =
        w.app.patch(&format!("/v1/briefs/{brief}")).bearer(freelancer).json(&json!({"title": "mine"})).send().await;
    res.assert_status(StatusCode::NOT_FOUND);
    w.app.put(&brand).bearer(freelancer).json(&body).send().await.assert_status(StatusCode::NOT_FOUND);
}

/// The demo company has a brand with its logo, an audience, a library whose pictures are each their
/// own (no two within the duplicate distance), and a ready brief that becomes a task.
#[tokio::test]
async fn the_demo_company_has_a_brand_a_style_library_and_a_ready_brief() {
    let app = crate::support::app().await;
    crate::support::load_demo(&app).await;
    let login = crate::support::login(&app, "acme_brand", identity::demo::DEMO_PASSWORD).await.value();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let org = identity::service::org_id_by_slug(&mut app.db.pool.acquire().await.unwrap(), "acme-brand-studio")
        .await
        .unwrap()
        .unwrap();
    let brand = app.get(&format!("/v1/orgs/{org}/brand")).bearer(&token).send().await.value();
    assert_eq!(brand["name"], "Acme Brand Studio");
    let logo = app.get(brand["logo"]["url"].as_str().unwrap()).bearer(&token).send().await;
    assert_eq!(logo.headers.get("content-type").unwrap(), "image/png");
    let cards = app.get("/v1/task-style-cards").bearer(&token).send().await.value();
    let hashes: Vec<u64> = cards
        .as_array()
        .unwrap()
        .iter()
        .map(|c| u64::from_str_radix(c["image"]["phash"].as_str().unwrap(), 16).unwrap())
        .collect();
    assert_eq!(hashes.len(), 6);
    for (i, a) in hashes.iter().enumerate() {
        for b in &hashes[..i] {
            assert!((a ^ b).count_ones() > tasks::styles::phash::SAME_PICTURE_BITS, "{a:016x} {b:016x}");
        }
    }
    let briefs = app.get(&format!("/v1/orgs/{org}/briefs")).bearer(&token).send().await.value();
    let statuses: Vec<(&str, &str)> = briefs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["title"].as_str().unwrap(), b["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("Loyalty card", "draft"), ("Winter menu boards", "ready")]);
    let ready = briefs["items"][1]["id"].as_str().unwrap();
    let deadline = app.clock_now() + Duration::days(5);
    let res = app
        .post("/v1/tasks")
        .bearer(&token)
        .header("idempotency-key", "demo-brief")
        .json(&json!({"org_id": org, "category": "static_ads", "title": "Winter boards", "deadline_at": deadline,
                      "brief_id": ready}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(res.value()["brief"]["audience_profile"]["name"], "Urban coffee lovers");
    // The task in review has its file and a message; the completed one built affinity.
    let review = app.get(&format!("/v1/orgs/{org}/tasks?status=in_review")).bearer(&token).send().await.value();
    let id = review["items"][0]["id"].as_str().unwrap();
    let files = app.get(&format!("/v1/tasks/{id}/files")).bearer(&token).send().await.value();
    let file = app.get(files[0]["url"].as_str().unwrap()).bearer(&token).send().await;
    assert_eq!(file.headers.get("content-type").unwrap(), "image/png");
    let messages = app.get(&format!("/v1/tasks/{id}/messages")).bearer(&token).send().await.value();
    assert_eq!(messages["items"].as_array().unwrap().len(), 1);
    let affinity = app.get(&format!("/v1/orgs/{org}/affinity")).bearer(&token).send().await.value();
    assert_eq!(affinity[0]["approved"], 1);
}

/// A client starts a brief from the tasks page, fills its steps, chooses a style card by its picture,
/// confirms each step and commissions the task, in a real browser; the page passes the accessibility
/// check.
#[tokio::test]
async fn a_client_builds_a_brief_with_style_cards_and_commissions_it_in_a_browser() {
    use crate::browser::{Browser, serve};
    let w = world("bweb", 50).await;
    let bold = active_card(&w, "Bold roast", "bold", "warm", 61).await;
    active_card(&w, "Quiet morning", "minimal", "cool", 62).await;
    let served = serve(&w.app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, "bweb_client", "/tasks").await;
    browser.type_into(&format!("#brief-title-{}", w.org), "Winter boards").await;
    browser.click("form[action='/briefs/new'] button").await;
    let text = browser.wait_for_text("Before it is ready").await;
    let url = browser.current_url().await;
    assert!(url.contains("/briefs/"), "{url}");
    assert!(text.contains("Summary needs a value"), "{text}");
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");

    // A sketch attached with the file form.
    let sketch = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(sketch.path(), png(9, 200, 150)).unwrap();
    browser.attach("#attachment-file", sketch.path().to_str().unwrap()).await;
    browser.click("form[action$='/attachments'] button").await;
    let text = browser.wait_for_text("Attached").await;
    assert!(text.contains("Attachments is not confirmed"), "{text}");

    browser.type_into("#b-summary", "Menu boards for the winter drinks").await;
    browser.type_into("#b-platform", "print").await;
    browser.type_into("#b-content-type", "menu board").await;
    browser.type_into("#b-intent", "sell").await;
    browser.type_into("#b-deliverables", "Menu board").await;
    browser.type_into("#b-formats", "A1 PDF").await;
    let loaded = browser.script("return document.querySelector('.style-card img').naturalWidth").await;
    assert!(loaded.as_i64().unwrap_or(0) > 0, "the card's picture is shown: {loaded}");
    browser.click(&format!("input[name=style_card_ids][value='{bold}']")).await;
    for step in ["summary", "platform", "content_type", "intent", "formats", "attachments"] {
        browser.click(&format!("#step-{step} input[name=confirm]")).await;
    }
    browser.click("#save-brief").await;
    // The chosen card makes the visual direction a step to confirm.
    let text = browser.wait_for_text("Visual direction is not confirmed").await;
    assert!(!text.contains("Summary needs a value"), "{text}");
    browser.click("#step-visual_direction input[name=confirm]").await;
    browser.click("#save-brief").await;
    browser.wait_for_text("the brief is ready").await;
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");

    let deadline = (w.app.clock_now() + Duration::days(3)).format("%Y-%m-%dT%H:%M").to_string();
    // A date-time field takes its value by script (typing into it depends on the browser's locale).
    let set = format!("const d = document.getElementById('c-deadline'); d.value = '{deadline}'; return d.value");
    assert_eq!(browser.script(&set).await, deadline.as_str());
    browser.click("#commission").await;
    browser.wait_for_text("Commissioned").await;
    let url = browser.current_url().await;
    browser.close().await;
    let task = url.rsplit('/').next().unwrap();
    let v = w.app.get(&format!("/v1/tasks/{task}")).bearer(&w.client).send().await.value();
    assert_eq!(v["brief"]["summary"], "Menu boards for the winter drinks");
    assert_eq!(v["brief"]["style_cards"][0]["id"], bold.as_str());
    assert_eq!(v["brief"]["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(credits(&w).await, (40, 10));
}
