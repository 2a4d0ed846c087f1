//! Collaboration's demo data: Lumen Records' project "Night Drive — release campaign", managed by Mo
//! Manager with Nova as editor, Sam Support as viewer and Sunny Drinks (the campaign's sponsor, from
//! outside the label) as client; its `general` channel busy with a week of messages and replies (one
//! edited, one deleted), an `artwork` channel, and a cover sketch in two versions under review. The
//! threads on a demo release, booking and event are the binary's (`backline::demo_threads`), which
//! knows those domains.

use chrono::{DateTime, Duration, Utc};
use platform::demo::{Dataset, DemoEnv, LoadFuture};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::conversations::repo as conversations;
use crate::files::repo::{self as files, CommentRow, FileRow, VersionRow};
use crate::messages::repo::{self as messages, MessageRow};
use crate::model::{
    ConversationId, FileCategory, FileId, MessageId, Priority, ProjectId, ProjectRole, ProjectStatus, TicketCategory,
    TicketStatus, VersionStatus,
};
use crate::projects::repo::{self as projects, ProjectRow};

pub fn dataset() -> Dataset {
    Dataset { name: "collab", version: 1, load }
}

async fn user(conn: &mut PgConnection, username: &str) -> anyhow::Result<Uuid> {
    identity::service::user_id_by_username(conn, username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo user {username} is missing"))
}

/// Posts a message at `at` (a reply when `reply_to` is given); answers its id.
pub async fn post(
    conn: &mut PgConnection,
    conversation: ConversationId,
    author: Uuid,
    body: &str,
    reply_to: Option<MessageId>,
    at: DateTime<Utc>,
) -> anyhow::Result<MessageId> {
    let row = MessageRow {
        id: MessageId::new(),
        conversation_id: conversation,
        author_id: author,
        body: body.to_owned(),
        reply_to,
        reply_count: 0,
        created_at: at,
        edited_at: None,
        deleted_at: None,
    };
    messages::insert(conn, &row).await?;
    conversations::mark_read(conn, conversation, author, at).await?;
    Ok(row.id)
}

/// The thread of a business object, for another domain's demo data (the binary's).
pub async fn thread(
    conn: &mut PgConnection,
    kind: &str,
    subject: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<ConversationId> {
    Ok(conversations::thread_of(conn, kind, subject, by, now).await?.id)
}

fn load<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let now = env.now;
        let org = identity::service::org_id_by_slug(conn, "lumen-records")
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo organization lumen-records is missing"))?;
        let mo = user(conn, "midnight_manager").await?;
        let nova = user(conn, "nova").await?;
        let sam = user(conn, "staff").await?;
        let sunny = user(conn, "sunny_sponsor").await?;
        let started = now - Duration::days(8);
        let project = ProjectRow {
            id: ProjectId::new(),
            organization_id: org,
            slug: "night-drive-campaign".into(),
            name: "Night Drive — release campaign".into(),
            description: "Artwork, videos and the sponsor's placements for Nova's album Night Drive.".into(),
            team_id: None,
            client_id: Some(sunny),
            status: ProjectStatus::Active,
            priority: Priority::High,
            kind: "release_campaign".into(),
            budget_minor: Some(1_200_000),
            budget_currency: Some("EUR".into()),
            estimated_hours: Some(120),
            actual_hours: 46,
            start_date: Some(started.date_naive()),
            due_date: Some((now + Duration::days(30)).date_naive()),
            completed_on: None,
            tags: vec!["album".into(), "sponsor".into()],
            created_by: mo,
            created_at: started,
            updated_at: started,
        };
        projects::insert(conn, &project).await?;
        for (member, role) in [
            (mo, ProjectRole::Manager),
            (nova, ProjectRole::Editor),
            (sam, ProjectRole::Viewer),
            (sunny, ProjectRole::Client),
        ] {
            projects::put_member(conn, project.id, member, role, mo, started).await?;
        }
        let general = conversations::insert_channel(conn, project.id, "general", mo, started).await?.id;
        let artwork = conversations::insert_channel(conn, project.id, "artwork", mo, started).await?.id;

        // A week in `general`: a message or two a day, with replies.
        let lines: &[(Uuid, &str)] = &[
            (mo, "Welcome to **Night Drive**! Release is in a month; this channel is for the campaign as a whole."),
            (sunny, "Thanks for having us. Our placements go live with the single."),
            (nova, "The single is *Streetlights*. Masters are with the label."),
            (mo, "Shoot for the video is booked for Thursday."),
            (nova, "Can we move the shoot to Friday? Studio ran late."),
            (mo, "Friday works. Updated the plan."),
            (sunny, "Could we see the cover before the press kit goes out?"),
            (nova, "Drafts go up in #artwork by Monday."),
            (mo, "Press kit goes out Wednesday."),
            (sam, "Reminder: the distribution deadline is 14 days before release."),
        ];
        let mut first = None;
        for (i, (author, body)) in lines.iter().enumerate() {
            let at = started + Duration::hours(18 * i64::try_from(i)? + 9);
            let id = post(conn, general, *author, body, None, at).await?;
            first.get_or_insert(id);
            if i == 4 {
                post(conn, general, mo, "Friday it is.", Some(id), at + Duration::minutes(20)).await?;
                post(conn, general, sunny, "Friday suits our crew too.", Some(id), at + Duration::minutes(45)).await?;
            }
        }
        if let Some(first) = first {
            messages::edit(
                conn,
                first,
                "Welcome to Night Drive! Release is in a month.",
                lines[0].1,
                mo,
                started + Duration::hours(9) + Duration::minutes(5),
            )
            .await?;
        }
        let oops = post(conn, general, nova, "(wrong channel, sorry)", None, now - Duration::hours(20)).await?;
        messages::delete(conn, oops, nova, now - Duration::hours(20) + Duration::minutes(1)).await?;
        post(
            conn,
            artwork,
            nova,
            "First cover drafts: neon on wet asphalt, three colourways.",
            None,
            now - Duration::days(1),
        )
        .await?;
        cover(conn, env, &project, (nova, sunny), now).await?;
        Ok(())
    })
}

/// A cover sketch (SVG) in `artwork/`: version 1, which the client asked to change with a comment on the
/// logo, and version 2, up for review; the organization's storage charged for both.
async fn cover(
    conn: &mut PgConnection,
    env: &DemoEnv,
    project: &ProjectRow,
    (nova, sunny): (Uuid, Uuid),
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let sketch = |sky: &str| {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"3000\" height=\"3000\" viewBox=\"0 0 300 300\">\
             <rect width=\"300\" height=\"300\" fill=\"{sky}\"/><rect y=\"200\" width=\"300\" height=\"100\" fill=\"#1b1b2f\"/>\
             <circle cx=\"230\" cy=\"70\" r=\"30\" fill=\"#ffd166\"/>\
             <text x=\"20\" y=\"270\" font-family=\"Helvetica\" font-size=\"28\" fill=\"#ef476f\">NIGHT DRIVE</text></svg>"
        )
        .into_bytes()
    };
    let file = FileRow {
        id: FileId::new(),
        project_id: project.id,
        folder: "artwork".into(),
        name: "cover-sketch.svg".into(),
        category: FileCategory::Design,
        latest_version: 2,
        created_by: nova,
        created_at: now - Duration::days(2),
        updated_at: now - Duration::hours(6),
    };
    files::insert_file(conn, &file).await?;
    let mut used = 0;
    for (version, sky, at, status) in [
        (1, "#2b2d42", now - Duration::days(2), VersionStatus::ChangesRequested),
        (2, "#3a0ca3", now - Duration::hours(6), VersionStatus::InReview),
    ] {
        let kept = env.storage.put_bytes(sketch(sky)).await?;
        platform::storage::record(conn, &kept, "image/svg+xml", at).await?;
        let size = i64::try_from(kept.size)?;
        used += size;
        files::insert_version(
            conn,
            &VersionRow {
                id: Uuid::now_v7(),
                file_id: file.id,
                version,
                sha256: kept.sha256,
                size,
                media_type: "image/svg+xml".into(),
                label: (version == 2).then(|| "brighter sky".to_owned()),
                status,
                restored_from: None,
                uploaded_by: nova,
                created_at: at,
                scan: crate::model::ScanStatus::Clean,
                scan_note: None,
                media: None,
            },
        )
        .await?;
    }
    files::lock_storage(conn, project.organization_id, crate::CollabSettings::default().default_quota_bytes, now)
        .await?;
    files::charge(conn, project.organization_id, used, now).await?;
    let anchor = serde_json::to_value(crate::files::review::Anchor::Point { x: 0.2, y: 0.88 })?;
    let comment = platform::ids::new_id();
    files::insert_comment(
        conn,
        &CommentRow {
            id: comment,
            file_id: file.id,
            version: 1,
            author_id: sunny,
            body: "Our logo needs room here, bottom left.".into(),
            anchor,
            resolved_at: None,
            resolved_by: None,
            created_at: now - Duration::days(1) - Duration::hours(12),
        },
    )
    .await?;
    files::resolve(conn, comment, Some(nova), now - Duration::hours(6)).await?;
    Ok(())
}

/// The support desk's demo data: tickets in every state (one waiting on its first answer, one that
/// missed it and was escalated, one answered with an internal note, one resolved, one closed and
/// rated) from the demo's people, worked by Sam Support, and two canned replies.
pub fn support_dataset() -> Dataset {
    Dataset { name: "support", version: 1, load: load_support }
}

/// One demo ticket: who asked what, when, and how far the desk has come with it.
struct DemoTicket {
    requester: &'static str,
    subject: &'static str,
    category: TicketCategory,
    priority: Priority,
    opened_hours_ago: i64,
    /// The desk's side: (an internal note, the answer, hours after opening).
    answered: Option<(Option<&'static str>, &'static str, i64)>,
    /// Resolved this many hours after opening, with a resolution.
    resolved: Option<(i64, &'static str)>,
    closed_and_rated: Option<(i16, &'static str)>,
}

fn load_support<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        use crate::support::repo::{self as desk, CannedRow, TicketRow};
        use crate::support::service::{NOTES_SUBJECT, REOPEN_WITHIN, TICKET_SUBJECT, schedule};
        let now = env.now;
        let sam = user(conn, "staff").await?;
        let tickets = [
            DemoTicket {
                requester: "promo_pete",
                subject: "Door scanner says a fresh ticket was already used",
                category: TicketCategory::Tickets,
                priority: Priority::Urgent,
                opened_hours_ago: 0,
                answered: None,
                resolved: None,
                closed_and_rated: None,
            },
            DemoTicket {
                requester: "lumen_records",
                subject: "A store refused our release's ISRCs",
                category: TicketCategory::Releases,
                priority: Priority::Medium,
                opened_hours_ago: 10,
                answered: None,
                resolved: None,
                closed_and_rated: None,
            },
            DemoTicket {
                requester: "nova",
                subject: "My payout has not reached my bank",
                category: TicketCategory::Payouts,
                priority: Priority::High,
                opened_hours_ago: 3,
                answered: Some((
                    Some("The bank returned it: the IBAN has a typo. Ask Nova to check her payout details."),
                    "Hi Nova, your bank sent the payout back. Could you check the IBAN in your payout details?",
                    1,
                )),
                resolved: None,
                closed_and_rated: None,
            },
            DemoTicket {
                requester: "fan_felix",
                subject: "How do I change the name on my ticket?",
                category: TicketCategory::Tickets,
                priority: Priority::Low,
                opened_hours_ago: 30,
                answered: Some((
                    None,
                    "Open the ticket under My tickets and choose Transfer: your friend gets it in their name.",
                    2,
                )),
                resolved: Some((6, "Transferring a ticket puts it in the new holder's name.")),
                closed_and_rated: None,
            },
            DemoTicket {
                requester: "sunny_sponsor",
                subject: "An invoice for the Night Drive campaign",
                category: TicketCategory::Payments,
                priority: Priority::Medium,
                opened_hours_ago: 24 * 9,
                answered: Some((None, "The invoice is in your wallet's statement; we sent a PDF as well.", 3)),
                resolved: Some((5, "Invoice sent as a PDF.")),
                closed_and_rated: Some((5, "Quick and clear, thank you.")),
            },
        ];
        for demo in tickets {
            let requester = user(conn, demo.requester).await?;
            let opened = now - Duration::hours(demo.opened_hours_ago) - Duration::minutes(20);
            let target = desk::target(conn, demo.priority).await?;
            let id = crate::model::TicketId::new();
            let conversation = conversations::thread_of(conn, TICKET_SUBJECT, id.0, requester, opened).await?;
            let notes = conversations::thread_of(conn, NOTES_SUBJECT, id.0, sam, opened).await?;
            let description = format!("{}. Could you help?", demo.subject);
            let mut t = TicketRow::opened(
                id,
                requester,
                (demo.subject.to_owned(), description.clone()),
                demo.category,
                demo.priority,
                (conversation.id, notes.id),
                &target,
                opened,
            );
            t.number = desk::insert(conn, &t).await?;
            post(conn, conversation.id, requester, &description, None, opened).await?;
            if let Some((note, answer, after)) = demo.answered {
                let at = opened + Duration::hours(after);
                t.assignee_id = Some(sam);
                if let Some(note) = note {
                    post(conn, notes.id, sam, note, None, at - Duration::minutes(5)).await?;
                }
                post(conn, conversation.id, sam, answer, None, at).await?;
                t.first_responded_at = Some(at);
                t.status = TicketStatus::PendingCustomer;
                t.last_activity_at = at;
            }
            if t.first_responded_at.is_none() && t.first_response_due <= now {
                // Missed before anyone answered: what the timer records.
                t.first_response_breached_at = Some(t.first_response_due);
                t.escalated_at = Some(t.first_response_due);
            }
            if let Some((after, resolution)) = demo.resolved {
                let at = opened + Duration::hours(after);
                t.status = TicketStatus::Resolved;
                t.resolution = Some(resolution.to_owned());
                t.resolved_at = Some(at);
                t.last_activity_at = at;
                if let Some((score, comment)) = demo.closed_and_rated {
                    t.status = TicketStatus::Closed;
                    t.closed_at = Some(at + REOPEN_WITHIN);
                    t.satisfaction = Some(score);
                    t.satisfaction_comment = Some(comment.to_owned());
                    t.rated_at = Some(at + Duration::hours(2));
                }
            }
            t.updated_at = t.last_activity_at;
            desk::save(conn, &t).await?;
            schedule(conn, &t, now).await?;
            if t.status == TicketStatus::Resolved {
                let job = platform::jobs::NewJob::new(
                    crate::support::service::AUTO_CLOSE,
                    serde_json::json!({"ticket_id": t.id}),
                );
                let at = t.resolved_at.unwrap_or(now) + REOPEN_WITHIN;
                platform::jobs::enqueue(conn, job.at(at).unique(format!("support:{}:close", t.id.0)), now).await?;
            }
        }
        for (title, body) in [
            (
                "Payout on its way",
                "Hi {{requester}}, the payout of ticket #{{number}} is on its way and reaches most banks within two \
                 working days. {{agent}}",
            ),
            (
                "More details, please",
                "Hi {{requester}}, to look into \"{{subject}}\" we need a little more: when did it happen, and what \
                 did the page say? {{agent}}",
            ),
        ] {
            let row = CannedRow {
                id: platform::ids::new_id(),
                title: title.to_owned(),
                body: body.to_owned(),
                created_by: sam,
                used_count: 0,
                created_at: now,
                updated_at: now,
            };
            desk::insert_canned(conn, &row).await?;
        }
        Ok(())
    })
}

/// Plans in the demo: Lumen Records on Team (granted by the platform, so its busy project fits),
/// everyone else on Free.
pub fn plans_dataset() -> Dataset {
    Dataset { name: "plans", version: 1, load: load_plans }
}

fn load_plans<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let now = env.now;
        let org = identity::service::org_id_by_slug(conn, "lumen-records")
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo organization lumen-records is missing"))?;
        let mut row = crate::plans::repo::lock(conn, org, now).await?;
        let started = now - Duration::days(12);
        row.plan = crate::plans::catalogue::TEAM.name.to_owned();
        row.period_start = Some(started);
        row.period_end = Some(crate::plans::catalogue::month_after(started));
        row.complimentary = true;
        row.updated_at = now;
        crate::plans::repo::save(conn, &row).await?;
        crate::plans::service::apply(conn, &row, now).await.map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
        Ok(())
    })
}
