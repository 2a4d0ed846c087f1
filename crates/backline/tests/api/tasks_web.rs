//! The creative tasks' remaining pages, without script: a company's brand page (references, logo and
//! assets, audiences, the freelancers it worked with and its favourites), staff's style library and
//! assignment configuration, and "who would get it" with the hand assignment on a task's page. Each
//! refusal is shown beside its form and keeps nothing; strangers see nothing.

use axum::http::StatusCode;
use serde_json::Value;

use crate::catalog_web::{Web, location};
use testkit::media;

use crate::support::{drain_jobs, signed_in};
use crate::tasks::{World, created, freelancers, world};

fn png(seed: u64, width: u32, height: u32) -> Vec<u8> {
    media::png_rgb(&media::drawing(seed, width, height), width, height)
}

async fn brand(w: &World) -> Value {
    w.app.get(&format!("/v1/orgs/{}/brand", w.org)).bearer(&w.client).send().await.value()
}

async fn audiences(w: &World) -> Vec<Value> {
    let res = w.app.get(&format!("/v1/orgs/{}/audiences", w.org)).bearer(&w.client).send().await.value();
    res.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_company_keeps_its_brand_audiences_and_favourites_on_its_page() {
    let w = world("brw", 0).await;
    let people = freelancers(&w, "brw_f", 1, &[("graphic_design", 90)], None).await;
    let mut web = Web::of(&w.app, "brw_client").await;
    let path = format!("/orgs/{}/brand", w.org);
    let shown = web.get(&w.app, &path).await;
    shown.assert_status(StatusCode::OK);
    assert!(shown.text().contains("Brand references") && shown.text().contains("No audience yet"), "{}", shown.text());
    // The company's board links here.
    assert!(web.get(&w.app, "/tasks").await.text().contains(&path));

    // A colour that is not #RRGGBB is refused beside its field, and nothing is saved.
    let fields = |colours: &'static str| {
        vec![
            ("name", "Acme Coffee"),
            ("colours", colours),
            ("fonts", "Inter\nLora"),
            ("tone", "Warm, direct"),
            ("dos", "Show the beans"),
            ("donts", "No stock photos"),
        ]
    };
    let refused = web.post(&w.app, &path, &fields("#112233\nteal")).await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("A colour must be a colour as #RRGGBB"), "{}", refused.text());
    assert!(refused.text().contains("aria-invalid=\"true\""));
    assert!(refused.text().contains(">#112233\nteal</textarea>"), "the form keeps what was typed");
    assert!(brand(&w).await["name"].is_null());
    let saved = web.post(&w.app, &path, &fields("#112233, #AABBCC")).await;
    assert_eq!((saved.status, location(&saved)), (StatusCode::SEE_OTHER, path.clone()));
    let b = brand(&w).await;
    assert_eq!(b["colours"].as_array().unwrap().len(), 2);
    assert_eq!(b["fonts"], serde_json::json!(["Inter", "Lora"]));
    assert_eq!(b["donts"], serde_json::json!(["No stock photos"]));
    let page = web.get(&w.app, &path).await.text();
    assert!(page.contains("aria-label=\"#112233\"") && page.contains("No stock photos"), "{page}");

    // The logo: a text file is refused beside the form and nothing is kept; a PNG is kept and shown.
    let logo = format!("{path}/files?kind=logo");
    let bad = web.upload(&w.app, &logo, &web.csrf, ("logo.png", "image/png", b"not a picture"), false).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text());
    assert!(bad.text().contains("role=\"alert\""));
    assert!(brand(&w).await["logo"].is_null());
    let picture = png(7, 96, 64);
    let kept = web.upload(&w.app, &logo, &web.csrf, ("logo.png", "image/png", &picture), false).await;
    assert_eq!((kept.status, location(&kept)), (StatusCode::SEE_OTHER, format!("{path}#files")));
    let logo_id = brand(&w).await["logo"]["id"].as_str().unwrap().to_owned();
    assert!(web.get(&w.app, &path).await.text().contains(&format!("/task-files/{logo_id}")));
    let served = web.get(&w.app, &format!("/task-files/{logo_id}")).await;
    assert_eq!(served.body.as_ref(), picture.as_slice());
    let asset = web
        .upload(
            &w.app,
            &format!("{path}/files?kind=asset"),
            &web.csrf,
            ("guide.pdf", "application/pdf", b"%PDF-1.4 g"),
            false,
        )
        .await;
    asset.assert_status(StatusCode::SEE_OTHER);
    let asset_id = brand(&w).await["assets"][0]["id"].as_str().unwrap().to_owned();
    let removed = web.post(&w.app, &format!("{path}/files/{asset_id}/delete"), &[]).await;
    removed.assert_status(StatusCode::SEE_OTHER);
    assert!(brand(&w).await["assets"].as_array().unwrap().is_empty());

    // Audiences: ages are checked at their edges and named; a good one is kept, edited and deleted.
    let new = format!("/orgs/{}/audiences", w.org);
    let audience = |age_min: &'static str| {
        vec![
            ("name", "Commuters"),
            ("age_min", age_min),
            ("age_max", "45"),
            ("locations", "Berlin\nHamburg"),
            ("industries", "tech"),
            ("interests", "coffee, cycling"),
            ("channels", "instagram"),
        ]
    };
    let words = web.post(&w.app, &new, &audience("young")).await;
    words.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(words.text().contains("Youngest age must be a whole number of years"), "{}", words.text());
    let young = web.post(&w.app, &new, &audience("12")).await;
    young.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(young.text().contains("Youngest age"), "{}", young.text());
    // The refused form keeps what was typed.
    assert!(young.text().contains("Berlin\nHamburg"), "{}", young.text());
    assert!(audiences(&w).await.is_empty());
    let added = web.post(&w.app, &new, &audience("13")).await;
    added.assert_status(StatusCode::SEE_OTHER);
    let list = audiences(&w).await;
    assert_eq!(list.len(), 1);
    let a = &list[0];
    assert_eq!(a["demographics"]["age_min"], 13);
    assert_eq!(a["demographics"]["locations"], serde_json::json!(["Berlin", "Hamburg"]));
    assert_eq!(a["psychographics"]["interests"], serde_json::json!(["coffee", "cycling"]));
    let aid = a["id"].as_str().unwrap().to_owned();
    let page = web.get(&w.app, &path).await.text();
    assert!(page.contains("ages 13–45") && page.contains(&format!("id=\"audience-{aid}\"")), "{page}");
    let mut edit = audience("18");
    edit[0] = ("name", "Morning commuters");
    web.post(&w.app, &format!("{new}/{aid}"), &edit).await.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(audiences(&w).await[0]["name"], "Morning commuters");
    assert_eq!(audiences(&w).await[0]["demographics"]["age_min"], 18);
    web.post(&w.app, &format!("{new}/{aid}/delete"), &[]).await.assert_status(StatusCode::SEE_OTHER);
    assert!(audiences(&w).await.is_empty());

    // The freelancers the company worked with, and its favourites.
    let freelancer_id = people[0].1.clone();
    let none = web.get(&w.app, &path).await.text();
    assert!(none.contains("No approved work yet"), "{none}");
    sqlx::query!(
        "INSERT INTO task_affinity (org_id, user_id, approved, ratings_sum, ratings, last_approved_at)
         VALUES ($1, $2, 3, 14, 3, now())",
        w.org.parse::<uuid::Uuid>().unwrap(),
        freelancer_id.parse::<uuid::Uuid>().unwrap()
    )
    .execute(&w.app.db.pool)
    .await
    .unwrap();
    let worked = web.get(&w.app, &path).await.text();
    assert!(worked.contains("4.7 of 5") && worked.contains("Mark as favourite"), "{worked}");
    let marked = web.post(&w.app, &format!("/orgs/{}/favourites/{freelancer_id}", w.org), &[("on", "true")]).await;
    marked.assert_status(StatusCode::SEE_OTHER);
    let affinity = w.app.get(&format!("/v1/orgs/{}/affinity", w.org)).bearer(&w.client).send().await.value();
    assert_eq!(
        (affinity[0]["freelancer"].as_str(), affinity[0]["favourite"].as_bool()),
        (Some(freelancer_id.as_str()), Some(true))
    );
    assert!(web.get(&w.app, &path).await.text().contains("Unmark"));
    web.post(&w.app, &format!("/orgs/{}/favourites/{freelancer_id}", w.org), &[("on", "false")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(web.get(&w.app, &path).await.text().contains("Mark as favourite"));

    // Someone outside the company sees nothing and changes nothing.
    signed_in(&w.app, "brw_stranger").await;
    let mut stranger = Web::of(&w.app, "brw_stranger").await;
    stranger.get(&w.app, &path).await.assert_status(StatusCode::NOT_FOUND);
    stranger.post(&w.app, &path, &fields("#000000")).await.assert_status(StatusCode::NOT_FOUND);
    stranger.post(&w.app, &new, &audience("30")).await.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(brand(&w).await["colours"].as_array().unwrap().len(), 2);
    assert!(audiences(&w).await.is_empty());
}

#[tokio::test]
async fn staff_curate_the_style_library_and_the_weights_and_assign_by_hand_in_the_pages() {
    let w = world("stw", 50).await;
    let people = freelancers(&w, "stw_f", 2, &[("graphic_design", 90)], None).await;
    let mut staff = Web::of(&w.app, "root_admin").await;
    let mut client = Web::of(&w.app, "stw_client").await;
    client.get(&w.app, "/admin/style-cards").await.assert_status(StatusCode::FORBIDDEN);

    // A card: a level outside 1–5 is refused beside its field; a good one is a draft.
    let card = |title: &'static str, energy: &'static str| {
        vec![
            ("title", title),
            ("deliverable_type", "static_ad"),
            ("style_axis", "bold"),
            ("colour_temperature", "warm"),
            ("energy", energy),
            ("density", "3"),
            ("formality", "2"),
            ("colour_samples", "#FF5500"),
            ("mood_keywords", "loud\nsunny"),
        ]
    };
    let refused = staff.post(&w.app, "/admin/style-cards", &card("Sunburst", "6")).await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("Energy must be from 1 to 5"), "{}", refused.text());
    assert!(refused.text().contains("value=\"Sunburst\""), "the form keeps what was typed");
    let made = staff.post(&w.app, "/admin/style-cards", &card("Sunburst", "5")).await;
    made.assert_status(StatusCode::SEE_OTHER);
    let first = location(&made).rsplit("#card-").next().unwrap().to_owned();
    let second = location(&staff.post(&w.app, "/admin/style-cards", &card("Sunrise", "4")).await)
        .rsplit("#card-")
        .next()
        .unwrap()
        .to_owned();
    let drafts = staff.get(&w.app, "/admin/style-cards?status=draft").await.text();
    assert!(drafts.contains("Sunburst") && drafts.contains("Sunrise") && drafts.contains("No picture yet"), "{drafts}");
    // The picture makes the card active; the same picture on another card is refused beside it.
    let picture = png(11, 320, 240);
    let kept = staff
        .upload(&w.app, &format!("/style-cards/{first}/image"), &staff.csrf, ("sun.png", "image/png", &picture), false)
        .await;
    kept.assert_status(StatusCode::SEE_OTHER);
    let dup = staff
        .upload(&w.app, &format!("/style-cards/{second}/image"), &staff.csrf, ("sun.png", "image/png", &picture), false)
        .await;
    dup.assert_status(StatusCode::CONFLICT);
    assert!(dup.text().contains("role=\"alert\""), "{}", dup.text());
    let card_of = |id: &str| {
        let app = w.app.clone();
        let (id, admin) = (id.to_owned(), w.admin.clone());
        async move { app.get(&format!("/v1/task-style-cards/{id}")).bearer(&admin).send().await.value() }
    };
    assert_eq!(card_of(&first).await["status"], "active");
    assert_eq!(card_of(&second).await["status"], "draft");
    assert!(dup.text().contains("No picture yet"), "the drafts are listed: {}", dup.text());
    let library = staff.get(&w.app, "/admin/style-cards?deliverable_type=static_ad&style_axis=bold").await.text();
    assert!(library.contains("Sunburst") && !library.contains("Sunrise"), "{library}");
    // An active card's picture replaced by one the library has: refused beside that card, listed with
    // the active cards, and the card keeps its own picture.
    let own = png(12, 320, 240);
    staff
        .upload(&w.app, &format!("/style-cards/{second}/image"), &staff.csrf, ("rise.png", "image/png", &own), false)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let hash = card_of(&second).await["image"]["phash"].clone();
    let again = staff
        .upload(&w.app, &format!("/style-cards/{second}/image"), &staff.csrf, ("sun.png", "image/png", &picture), false)
        .await;
    again.assert_status(StatusCode::CONFLICT);
    let shown = again.text();
    let beside = shown.split(&format!("id=\"card-{second}\"")).nth(1).unwrap_or_default();
    assert!(beside.contains("role=\"alert\""), "the refusal is beside the active card: {shown}");
    assert_eq!(card_of(&second).await["image"]["phash"], hash);
    assert!(staff.get(&w.app, "/admin/style-cards?style_axis=minimal").await.text().contains("No card matches"));
    staff.post(&w.app, &format!("/admin/style-cards/{first}/retire"), &[]).await.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(card_of(&first).await["status"], "retired");
    client.post(&w.app, &format!("/admin/style-cards/{second}/retire"), &[]).await.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(card_of(&second).await["status"], "active");

    // The weights: a draft that does not sum to 100 is refused and named; a good one is published.
    let weights = |performance: &'static str| {
        vec![
            ("skill", "50"),
            ("timezone", "10"),
            ("experience", "20"),
            ("workload", "10"),
            ("performance", performance),
            ("note", "Skill first"),
        ]
    };
    let off = staff.post(&w.app, "/admin/task-configs", &weights("9")).await;
    off.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(off.text().contains("sum to 99; they must sum to 100"), "{}", off.text());
    let out = staff.post(&w.app, "/admin/task-configs", &weights("101")).await;
    out.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(out.text().contains("Performance must be 0 to 100"), "{}", out.text());
    staff.post(&w.app, "/admin/task-configs", &weights("10")).await.assert_status(StatusCode::SEE_OTHER);
    let listed = staff.get(&w.app, "/admin/tasks").await.text();
    assert!(listed.contains("Skill first") && listed.contains("Publish version 2"), "{listed}");
    client.post(&w.app, "/admin/task-configs/2/publish", &[]).await.assert_status(StatusCode::FORBIDDEN);
    staff.post(&w.app, "/admin/task-configs/2/publish", &[]).await.assert_status(StatusCode::SEE_OTHER);
    let configs = w.app.get("/v1/admin/task-assignment-configs").bearer(&w.admin).send().await.value();
    let statuses: Vec<&str> = configs.as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["published", "retired"]);

    // Who would get a waiting task, and why; then staff assign it by hand to the second-ranked.
    let id = created(&w, 48, &[]).await;
    let task_page = staff.get(&w.app, &format!("/tasks/{id}")).await.text();
    assert!(task_page.contains("Who would get it") && task_page.contains("configuration version 2"), "{task_page}");
    assert!(task_page.contains("stw_f0") || task_page.contains("Stw_f0"), "{task_page}");
    assert!(!client.get(&w.app, &format!("/tasks/{id}")).await.text().contains("Who would get it"));
    let target = &people[1].1;
    let wrong = client.post(&w.app, &format!("/tasks/{id}/assign"), &[("freelancer", target)]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text());
    let assigned = staff.post(&w.app, &format!("/tasks/{id}/assign"), &[("freelancer", target)]).await;
    assigned.assert_status(StatusCode::SEE_OTHER);
    let task = w.app.get(&format!("/v1/tasks/{id}")).bearer(&w.admin).send().await.value();
    assert_eq!((task["status"].as_str(), task["assignee"].as_str()), (Some("assigned"), Some(target.as_str())));
    drain_jobs(&w.app).await;
    assert!(!staff.get(&w.app, &format!("/tasks/{id}")).await.text().contains("Who would get it"));
}

/// In a real browser: the company keeps its brand (the logo shown, the colours as swatches) and an
/// audience; staff add a card to the library and give it its picture; every page passes the
/// accessibility check.
/// The width of the first picture `css` finds, once it has loaded (a busy machine may still be fetching
/// it); 0 when it failed to load.
async fn loaded_width(browser: &crate::browser::Browser, css: &str) -> Option<i64> {
    browser
        .script_async(&format!(
            "const done = arguments[arguments.length - 1]; const img = document.querySelector('{css}'); \
             if (img.complete) {{ done(img.naturalWidth); }} else {{ img.onload = () => done(img.naturalWidth); \
             img.onerror = () => done(0); }}"
        ))
        .await
        .as_i64()
}

#[tokio::test]
async fn the_brand_page_and_the_style_library_work_in_a_browser() {
    use crate::browser::{Browser, serve};
    let w = world("bbw", 0).await;
    let served = serve(&w.app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, "bbw_client", "/tasks").await;
    browser.click(&format!("a[href='/orgs/{}/brand']", w.org)).await;
    browser.wait_for_text("Brand references").await;
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    browser.type_into("#brand-colours", "#6F4E37\n#F5F5DC").await;
    browser.type_into("#brand-fonts", "Inter").await;
    browser.click("form[action$='/brand'] button").await;
    browser.wait_for_text("Brand saved").await;
    let swatches = browser.script("return document.querySelectorAll('.swatches svg').length").await;
    assert_eq!(swatches.as_i64(), Some(2));
    let logo = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(logo.path(), png(21, 120, 80)).unwrap();
    browser.attach("#logo-file", logo.path().to_str().unwrap()).await;
    browser.click("form[action$='kind=logo'] button").await;
    browser.wait_for_text("Logo kept").await;
    assert_eq!(loaded_width(&browser, ".brand-logo img").await, Some(120), "the logo is shown");
    browser.type_into("#new-name", "Night owls").await;
    browser.type_into("#new-age_min", "21").await;
    browser.type_into("#new-interests", "late shows").await;
    browser.click("form[action$='/audiences'] button").await;
    let text = browser.wait_for_text("saved").await;
    assert!(text.contains("Night owls") && text.contains("late shows"), "{text}");
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    browser.sign_out().await;

    browser.sign_in(&served.base, "root_admin", "/admin/style-cards").await;
    browser.wait_for_text("Style library").await;
    browser.type_into("#c-title", "Neon night").await;
    browser.type_into("#c-samples", "#FF00AA").await;
    browser.click("#add-card").await;
    browser.wait_for_text("Card added as a draft").await;
    let picture = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(picture.path(), png(23, 300, 200)).unwrap();
    browser.attach("input[id^='img-']", picture.path().to_str().unwrap()).await;
    browser.click("form[action$='/image'] button").await;
    browser.wait_for_text("Picture kept").await;
    browser.goto(&format!("{}/admin/style-cards", served.base)).await;
    let text = browser.wait_for_text("Neon night").await;
    assert!(text.contains("active"), "{text}");
    assert_eq!(loaded_width(&browser, ".library img").await, Some(300), "the card's picture is shown");
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    browser.goto(&format!("{}/admin/tasks", served.base)).await;
    browser.wait_for_text("Assignment configuration").await;
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    browser.close().await;
}

/// An audience whose stored facets no longer read is a fault the server reports (500, logged), never
/// an audience shown as empty.
#[tokio::test]
async fn an_audience_that_no_longer_reads_is_a_fault_not_an_empty_audience() {
    let w = world("aud", 0).await;
    let made = w
        .app
        .post(&format!("/v1/orgs/{}/audiences", w.org))
        .bearer(&w.client)
        .json(&serde_json::json!({"name": "Night owls", "demographics": {"age_min": 21}}))
        .send()
        .await;
    made.assert_status(StatusCode::CREATED);
    assert_eq!(audiences(&w).await[0]["demographics"]["age_min"], 21);
    sqlx::query!(
        r#"UPDATE task_audiences SET demographics = '{"age_min": "twenty-one"}'::jsonb WHERE org_id = $1"#,
        w.org.parse::<uuid::Uuid>().unwrap()
    )
    .execute(&w.app.db.pool)
    .await
    .unwrap();
    let res = w.app.get(&format!("/v1/orgs/{}/audiences", w.org)).bearer(&w.client).send().await;
    res.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
    assert!(!res.text().contains("twenty-one"), "the cause is logged, not shown: {}", res.text());
}
