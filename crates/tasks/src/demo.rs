//! Creative tasks' demo data: Acme Brand Studio with 250 credits bought and Fiona (Berlin) as its
//! favourite; two approved freelancers in different time zones (Fiona Freelance in Berlin, Cara Creator
//! in New York); tasks at several steps: one completed and paid, one in the client's review, one in
//! progress, one cancelled (its credits back), and one new, which the assignment job offers when a
//! worker runs.

use chrono::{DateTime, Duration, Utc};
use ledger::model::{Currency, Owner, kinds};
use platform::demo::{Dataset, DemoEnv, LoadFuture};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::TaskSettings;
use crate::freelancers::repo::{self as freelancers, ProfileFields};
use crate::model::{Complexity, Experience, FreelancerStatus, TaskId, Urgency};
use crate::state::TaskStatus;
use crate::tasks::repo::{self as tasks, NewTask};

pub fn dataset() -> Dataset {
    Dataset { name: "tasks", version: 1, load }
}

async fn user(conn: &mut PgConnection, username: &str) -> anyhow::Result<Uuid> {
    identity::service::user_id_by_username(conn, username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo user {username} is missing"))
}

async fn freelancer(
    conn: &mut PgConnection,
    id: Uuid,
    admin: Uuid,
    fields: ProfileFields<'_>,
    skills: &[(&str, i16)],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    freelancers::insert_freelancer(conn, id, &fields, now).await?;
    let names: Vec<String> = skills.iter().map(|(s, _)| (*s).to_owned()).collect();
    let levels: Vec<i16> = skills.iter().map(|(_, l)| *l).collect();
    freelancers::set_skills(conn, id, &names, &levels).await?;
    freelancers::decide(conn, id, FreelancerStatus::Approved, admin, "Portfolio checked", now).await?;
    Ok(())
}

/// A task of the demo at `status`, its credits held (and spent or released where the status says so).
#[allow(clippy::too_many_arguments)]
async fn task(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    org: Uuid,
    by: Uuid,
    (category, title, summary): (&str, &str, &str),
    status: TaskStatus,
    assignee: Option<Uuid>,
    now: DateTime<Utc>,
) -> anyhow::Result<TaskId> {
    let cat = tasks::category_by_slug(conn, category).await?.ok_or_else(|| anyhow::anyhow!("category {category}"))?;
    let id = TaskId::new();
    let created = now - Duration::days(6);
    let deadline = now + Duration::days(3);
    let brief = json!({"summary": summary, "platform": "instagram", "deliverables": ["main visual"],
                       "formats": ["1080x1080 PNG"], "motion": category == "video_motion",
                       "custom_illustration": false, "confirmed": ["summary"]});
    let new = NewTask {
        id,
        org_id: org,
        created_by: by,
        category_id: cat.id,
        title,
        brief: &brief,
        deadline_at: deadline,
        urgency: Urgency::of(deadline, created),
        complexity: if category == "video_motion" { Complexity::Intermediate } else { Complexity::Simple },
        credits: cat.base_credits,
        required_skills: &cat.required_skills,
    };
    tasks::insert_task(conn, &new, created).await?;
    tasks::log(conn, id, Some(by), "created", json!({"credits": cat.base_credits}), created).await?;
    crate::credits::service::hold(conn, org, cat.base_credits, id, created)
        .await
        .map_err(|e| anyhow::anyhow!(e.detail().to_owned()))?;
    if status == TaskStatus::Pending {
        crate::assignment::service::start(conn, id, now).await?;
        return Ok(id);
    }
    let mut row = tasks::task(conn, id, true).await?.ok_or_else(|| anyhow::anyhow!("demo task"))?;
    row.assignee = assignee;
    if let Some(a) = assignee {
        tasks::log(
            conn,
            id,
            Some(a),
            "assigned",
            json!({"freelancer": a, "how": "offer"}),
            created + Duration::hours(1),
        )
        .await?;
    }
    if matches!(status, TaskStatus::InReview | TaskStatus::Completed) {
        row.delivered_at = Some(now - Duration::days(2));
        row.delivery_note = Some("Two variants, as asked".into());
        tasks::log(conn, id, assignee, "delivered", json!({"on_time": true}), now - Duration::days(2)).await?;
        tasks::log(conn, id, None, "passed_to_client", json!({}), now - Duration::days(1)).await?;
        if let Some(a) = assignee {
            freelancers::count_delivery(conn, a, true).await?;
        }
    }
    match status {
        TaskStatus::Completed => {
            row.rating = Some(5);
            row.completed_at = Some(now - Duration::hours(20));
            let a = assignee.ok_or_else(|| anyhow::anyhow!("a completed task has a freelancer"))?;
            crate::credits::service::spend(conn, settings, org, cat.base_credits, id, a, now - Duration::hours(20))
                .await
                .map_err(|e| anyhow::anyhow!(e.detail().to_owned()))?;
            freelancers::count_rating(conn, a, 5).await?;
            tasks::log(conn, id, Some(by), "approved", json!({"rating": 5}), now - Duration::hours(20)).await?;
        }
        TaskStatus::Cancelled => {
            crate::credits::service::release(conn, org, cat.base_credits, id, now - Duration::days(5))
                .await
                .map_err(|e| anyhow::anyhow!(e.detail().to_owned()))?;
            row.cancelled_at = Some(now - Duration::days(5));
            tasks::log(
                conn,
                id,
                Some(by),
                "cancelled",
                json!({"credits_returned": cat.base_credits}),
                now - Duration::days(5),
            )
            .await?;
        }
        TaskStatus::InProgress => {
            tasks::log(conn, id, assignee, "started", json!({}), now - Duration::days(1)).await?;
        }
        _ => {}
    }
    row.status = status;
    tasks::save(conn, &row, now).await?;
    Ok(id)
}

fn load<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let now = env.now;
        let settings = TaskSettings::default();
        let admin = user(conn, "admin").await?;
        let acme_owner = user(conn, "acme_brand").await?;
        let fiona = user(conn, "fiona_design").await?;
        let cara = user(conn, "cara_creates").await?;
        let acme = identity::service::org_id_by_slug(conn, "acme-brand-studio")
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo organization acme-brand-studio is missing"))?;

        // 250 credits, paid from the company's wallet after a card payment topped it up.
        let usd = Currency::parse("USD").ok_or_else(|| anyhow::anyhow!("USD"))?;
        let price = crate::credits::service::price(&settings, 250).ok_or_else(|| anyhow::anyhow!("pack"))?;
        let clearing = ledger::service::account(conn, Owner::Platform, kinds::CLEARING, &usd, now).await?;
        let wallet = ledger::service::account(conn, Owner::Organization(acme), kinds::AVAILABLE, &usd, now).await?;
        ledger::service::transfer(conn, clearing.id, wallet.id, price, "payment.captured", "Card payment", now).await?;
        crate::credits::service::record_purchase(
            conn,
            Owner::Organization(acme),
            acme,
            250,
            price,
            &usd,
            acme_owner,
            now - Duration::days(7),
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.detail().to_owned()))?;

        let specialties = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let fiona_specialties = specialties(&["static_ads", "social_media"]);
        let portfolio = vec!["https://example.com/fiona".to_owned()];
        let fields = ProfileFields {
            headline: "Brand and social design",
            experience: Experience::Senior,
            time_zone: Some("Europe/Berlin"),
            work_starts: 9,
            work_ends: 18,
            specialties: &fiona_specialties,
            portfolio: &portfolio,
        };
        freelancer(conn, fiona, admin, fields, &[("graphic_design", 92), ("copywriting", 75), ("ui_design", 60)], now)
            .await?;
        let cara_specialties = specialties(&["video_motion"]);
        let fields = ProfileFields {
            headline: "Motion and video",
            experience: Experience::Mid,
            time_zone: Some("America/New_York"),
            work_starts: 10,
            work_ends: 19,
            specialties: &cara_specialties,
            portfolio: &[],
        };
        freelancer(
            conn,
            cara,
            admin,
            fields,
            &[("motion_design", 88), ("video_editing", 80), ("graphic_design", 70)],
            now,
        )
        .await?;
        freelancers::add_favourite(conn, acme, fiona, now).await?;

        let s = &settings;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("static_ads", "Summer sale banner", "A banner for the summer sale"),
            TaskStatus::Completed,
            Some(fiona),
            now,
        )
        .await?;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("social_media", "Newsletter header", "A header for the monthly newsletter"),
            TaskStatus::InReview,
            Some(fiona),
            now,
        )
        .await?;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("video_motion", "Product teaser", "A 15-second teaser of the new roast"),
            TaskStatus::InProgress,
            Some(cara),
            now,
        )
        .await?;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("static_ads", "Spring campaign", "Cancelled when the campaign moved"),
            TaskStatus::Cancelled,
            None,
            now,
        )
        .await?;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("static_ads", "Autumn launch ad", "Three ads for the autumn roast"),
            TaskStatus::Pending,
            None,
            now,
        )
        .await?;
        Ok(())
    })
}

/// Briefs' and delivery's demo data: Acme Brand Studio's brand (with its logo) and an audience; a
/// library of six style cards with their pictures; a ready brief that chose two cards, and a draft one
/// stopped at its third step; files for the delivered tasks, a message, and the affinity the completed
/// task built.
pub fn briefs_dataset() -> Dataset {
    Dataset { name: "task_briefs", version: 1, load: load_briefs }
}

/// A `side` × `side` RGB PNG: a gradient at `angle` degrees from `from` to `to`, with a disc of `accent`
/// at (`cx`, `cy`) (fractions of the side). Each card of the demo has its own picture.
fn poster(side: u32, angle: f64, from: [u8; 3], to: [u8; 3], accent: ([u8; 3], f64, f64)) -> anyhow::Result<Vec<u8>> {
    let (dx, dy) = (angle.to_radians().cos(), angle.to_radians().sin());
    let (colour, cx, cy) = accent;
    let mut data = Vec::with_capacity((side * side * 3) as usize);
    for y in 0..side {
        for x in 0..side {
            let (fx, fy) = (f64::from(x) / f64::from(side), f64::from(y) / f64::from(side));
            let k = ((fx - 0.5) * dx + (fy - 0.5) * dy + 0.75) / 1.5;
            let inside = (fx - cx).powi(2) + (fy - cy).powi(2) < 0.04;
            for c in 0..3 {
                let v =
                    if inside { f64::from(colour[c]) } else { f64::from(from[c]) * (1.0 - k) + f64::from(to[c]) * k };
                data.push(v.clamp(0.0, 255.0) as u8);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&data)?;
    writer.finish()?;
    Ok(out)
}

/// Keeps a demo picture like an upload: hashed, stored by content, recorded.
async fn keep_picture(
    conn: &mut PgConnection,
    env: &DemoEnv,
    bytes: Vec<u8>,
) -> anyhow::Result<(platform::storage::Kept, crate::styles::phash::Picture)> {
    let path = std::env::temp_dir().join(format!("backline-demo-{}", platform::ids::new_id().simple()));
    std::fs::write(&path, &bytes)?;
    let picture = crate::styles::phash::of_file(&path);
    let _ = std::fs::remove_file(&path);
    let picture = picture.map_err(|e| anyhow::anyhow!("the demo picture {}", e.0))?;
    let kept = env.storage.put_bytes(bytes).await?;
    platform::storage::record(conn, &kept, "image/png", env.now).await?;
    Ok((kept, picture))
}

fn load_briefs<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    use crate::brands::repo as brands;
    use crate::briefs::repo as briefs;
    use crate::styles::repo as styles;
    Box::pin(async move {
        let now = env.now;
        let admin = user(conn, "admin").await?;
        let owner = user(conn, "acme_brand").await?;
        let acme = identity::service::org_id_by_slug(conn, "acme-brand-studio")
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo organization acme-brand-studio is missing"))?;
        let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

        let brand = brands::BrandRow {
            name: "Acme Brand Studio".into(),
            colours: list(&["#3b2f2f", "#f5deb3", "#c8553d"]),
            fonts: list(&["Inter", "Playfair Display"]),
            tone: Some("Warm, direct and a little playful; we talk like a barista, not a bank.".into()),
            dos: list(&["Show real people and real coffee", "Leave room to breathe"]),
            donts: list(&["No stock photos", "Never more than three colours at once"]),
            updated_at: now,
        };
        brands::put_brand(conn, acme, &brand, owner, now).await?;
        let (logo, _) =
            keep_picture(conn, env, poster(256, 45.0, [59, 47, 47], [200, 85, 61], ([245, 222, 179], 0.5, 0.5))?)
                .await?;
        let logo_row = brands::FileRow {
            id: crate::model::TaskFileId::new(),
            org_id: acme,
            purpose: crate::model::FilePurpose::BrandLogo,
            brief_id: None,
            name: "acme-logo.png".into(),
            sha256: logo.sha256.clone(),
            size: logo.size as i64,
            media_type: "image/png".into(),
            uploaded_by: owner,
            created_at: now,
            task_id: None,
            version: None,
            round: None,
        };
        brands::insert_file(conn, &logo_row).await?;
        let audience = brands::AudienceRow {
            id: crate::model::AudienceId::new(),
            org_id: acme,
            name: "Urban coffee lovers".into(),
            demographics: json!({"age_min": 22, "age_max": 40, "genders": [], "locations": ["Berlin", "Hamburg"],
                                 "languages": ["de", "en"], "income": null, "education": null}),
            firmographics: json!({"industries": [], "company_sizes": [], "roles": [], "regions": []}),
            psychographics: json!({"interests": ["specialty coffee", "cycling"], "values": ["craft", "sustainability"],
                                   "lifestyles": [], "pain_points": ["no time in the morning"]}),
            behaviour: json!({"channels": ["instagram", "newsletter"], "purchase_habits": ["weekly beans"],
                              "devices": ["phone"], "brand_loyalty": "high once won"}),
            created_at: now,
            updated_at: now,
        };
        brands::put_audience(conn, &audience).await?;

        // The style library: six cards, each with its own picture.
        // Title, deliverable type, style axis, temperature, levels, picture (from, to, angle).
        type Card<'a> = (&'a str, &'a str, &'a str, &'a str, (i16, i16, i16), [u8; 3], [u8; 3], f64);
        let cards: [Card<'_>; 6] = [
            ("Bold roast", "static_ad", "bold", "warm", (5, 3, 2), [120, 30, 20], [250, 180, 60], 0.0),
            ("Quiet morning", "social_post", "minimal", "neutral", (1, 1, 3), [240, 240, 235], [180, 180, 170], 90.0),
            ("Neon night", "static_ad", "futuristic", "cool", (5, 4, 2), [10, 10, 60], [0, 220, 255], 135.0),
            ("Paper and ink", "print", "handmade", "warm", (2, 3, 2), [250, 245, 230], [90, 60, 40], 200.0),
            ("Boardroom", "presentation", "corporate", "cool", (2, 2, 5), [20, 40, 80], [200, 210, 230], 270.0),
            ("Market day", "social_post", "playful", "warm", (4, 4, 1), [255, 120, 80], [255, 230, 90], 315.0),
        ];
        let mut ids = Vec::new();
        for (i, (title, kind, axis, temperature, levels, from, to, angle)) in cards.into_iter().enumerate() {
            let accent = ([255 - from[0], 255 - from[1], 255 - from[2]], 0.2 + 0.12 * i as f64, 0.7 - 0.1 * i as f64);
            let (kept, picture) = keep_picture(conn, env, poster(320, angle, from, to, accent)?).await?;
            let id = crate::model::StyleCardId::new();
            let card = styles::NewCard {
                id,
                title,
                deliverable_type: kind,
                style_axis: axis,
                colour_temperature: temperature,
                energy: levels.0,
                density: levels.1,
                formality: levels.2,
                colour_samples: &[format!("#{:02x}{:02x}{:02x}", from[0], from[1], from[2])],
                industries: &list(&["food and drink"]),
                mood_keywords: &list(&[axis, temperature]),
                created_by: admin,
            };
            styles::insert_card(conn, &card, now).await?;
            let image = styles::Image {
                sha256: &kept.sha256,
                media_type: "image/png",
                width: picture.width as i32,
                height: picture.height as i32,
                size: kept.size as i64,
                phash: picture.hash as i64,
            };
            styles::set_image(conn, id, &image, now).await?;
            ids.push(id.0);
        }

        // A ready brief that chose two cards, and a draft stopped at its third step.
        let ready = crate::briefs::steps::BriefContent {
            summary: Some("Winter menu boards for the two Berlin shops".into()),
            platform: Some("print".into()),
            content_type: Some("menu_board".into()),
            intent: Some("sell the winter drinks".into()),
            deliverables: list(&["Menu board", "Counter card"]),
            formats: list(&["A1 PDF", "A6 PDF"]),
            visual_direction: Some("Warm, hand-made, paper textures".into()),
            ..Default::default()
        };
        let confirmed =
            list(&["summary", "platform", "content_type", "intent", "audience", "formats", "visual_direction"]);
        let brief = briefs::BriefRow {
            id: crate::model::BriefId::new(),
            org_id: acme,
            created_by: owner,
            title: "Winter menu boards".into(),
            content: serde_json::to_value(&ready)?,
            confirmed,
            audience_id: Some(audience.id.0),
            task_id: None,
            created_at: now,
            updated_at: now,
        };
        briefs::insert_brief(conn, &brief).await?;
        briefs::set_styles(conn, brief.id, acme, &[ids[0], ids[3]], now).await?;
        let draft = crate::briefs::steps::BriefContent {
            summary: Some("A loyalty card: the tenth coffee free".into()),
            platform: Some("print".into()),
            ..Default::default()
        };
        let brief = briefs::BriefRow {
            id: crate::model::BriefId::new(),
            title: "Loyalty card".into(),
            content: serde_json::to_value(&draft)?,
            confirmed: list(&["summary"]),
            audience_id: None,
            ..brief
        };
        briefs::insert_brief(conn, &brief).await?;

        // The delivered tasks have their files, the one in review a message, the completed one counts
        // toward the company's affinity with its freelancer.
        for status in [TaskStatus::InReview, TaskStatus::Completed] {
            for task in tasks::tasks_of_org(conn, acme, Some(status), None, 10).await? {
                let Some(freelancer) = task.assignee else { continue };
                let accent = ([250, 250, 250], 0.5, 0.4);
                let (kept, _) =
                    keep_picture(conn, env, poster(480, 30.0, [200, 85, 61], [59, 47, 47], accent)?).await?;
                let file = brands::FileRow {
                    id: crate::model::TaskFileId::new(),
                    org_id: acme,
                    purpose: crate::model::FilePurpose::Deliverable,
                    brief_id: None,
                    name: format!("{}.png", task.title.to_lowercase().replace(' ', "-")),
                    sha256: kept.sha256.clone(),
                    size: kept.size as i64,
                    media_type: "image/png".into(),
                    uploaded_by: freelancer,
                    created_at: now - Duration::days(2),
                    task_id: Some(task.id.0),
                    version: Some(1),
                    round: Some(0),
                };
                brands::insert_file(conn, &file).await?;
                if status == TaskStatus::InReview {
                    let body = "Here is the header in two widths; the darker one reads better on phones.";
                    crate::delivery::repo::insert_message(conn, Uuid::now_v7(), task.id, freelancer, body, now).await?;
                } else {
                    crate::delivery::repo::count_approval(conn, acme, freelancer, task.rating, now).await?;
                }
            }
        }
        Ok(())
    })
}
