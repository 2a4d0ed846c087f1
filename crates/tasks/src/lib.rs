//! Creative tasks: client companies buy credits, keep their brand and audiences, and commission design
//! work from briefs built in steps with style cards from a curated library; freelancers
//! are matched by a versioned, explainable scoring algorithm, offered tasks with acceptance windows that
//! timers sweep at their second, and the ladder escalates to claims and then staff; delivery passes
//! staff review and client review, and approval pays the freelancer through the ledger. See
//! docs/tasks.md.

pub mod assignment;
pub mod brands;
pub mod briefs;
pub mod credits;
pub mod delivery;
pub mod demo;
pub mod error;
pub mod freelancers;
pub mod model;
pub mod state;
pub mod styles;
pub mod tasks;

use chrono::Duration;
use identity::auth::Principal;
use identity::authz::{self, Target};
use platform::{ApiError, AppContext};
use sqlx::PgConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::model::Urgency;

/// The permission to commission and manage a company's tasks and buy its credits.
pub const TASKS_MANAGE: &str = "tasks.manage";
/// Staff's permission: approve freelancers, review deliveries, assign by hand, edit the configuration.
pub const TASKS_ADMIN: &str = "tasks.admin";

/// Creative tasks' settings (the product's defaults; each can be changed).
#[derive(Debug, Clone)]
pub struct TaskSettings {
    /// The price of one credit in minor units of `credit_currency` (4.90 USD).
    pub credit_price_minor: i64,
    pub credit_currency: String,
    /// Pack sizes on sale with their discount in basis points.
    pub packs: Vec<(i32, i32)>,
    /// The freelancer's share of an approved task's credit value, in basis points (70%).
    pub payout_bps: i64,
    /// The smallest withdrawal of a freelancer who has earned from tasks, in credits' worth of earnings
    /// (10: 34.30 USD); the platform's own minimum applies when it is higher.
    pub min_payout_credits: i32,
    pub max_revisions: i32,
    /// Acceptance windows by urgency.
    pub window_critical: Duration,
    pub window_urgent: Duration,
    pub window_standard: Duration,
    pub window_flexible: Duration,
    /// The skill thresholds of escalation levels 1 and 2, and the least skill anyone is offered work at.
    pub level1_skill: u32,
    pub level2_skill: u32,
    pub min_skill: u32,
    /// Offers made at each of levels 1 and 2 before the next.
    pub offers_per_level: i32,
    /// A freelancer with this many active tasks gets no more (one more at level 2).
    pub workload_cap: u32,
    /// How long a task stays open to claims at level 3.
    pub claim_window: Duration,
    /// A delivery the client has not reviewed within this is approved.
    pub auto_approve_after: Duration,
}

impl Default for TaskSettings {
    fn default() -> Self {
        Self {
            credit_price_minor: 490,
            credit_currency: "USD".into(),
            packs: vec![(50, 0), (100, 0), (250, 500), (500, 1000)],
            payout_bps: 7000,
            min_payout_credits: 10,
            max_revisions: 2,
            window_critical: Duration::minutes(10),
            window_urgent: Duration::minutes(30),
            window_standard: Duration::minutes(120),
            window_flexible: Duration::minutes(240),
            level1_skill: 70,
            level2_skill: 50,
            min_skill: 50,
            offers_per_level: 3,
            workload_cap: 5,
            claim_window: Duration::minutes(30),
            auto_approve_after: Duration::days(14),
        }
    }
}

impl TaskSettings {
    pub fn acceptance_window(&self, urgency: Urgency) -> Duration {
        match urgency {
            Urgency::Critical => self.window_critical,
            Urgency::Urgent => self.window_urgent,
            Urgency::Standard => self.window_standard,
            Urgency::Flexible => self.window_flexible,
        }
    }

    /// What a freelancer earns for a task of `credits`: the payout share of the credits' value, in
    /// minor units, rounded down (3.43 USD a credit by default).
    pub fn earning(&self, credits: i32) -> i64 {
        i64::from(credits) * self.credit_price_minor * self.payout_bps / 10_000
    }
}

/// Whether the caller is staff for tasks.
pub fn is_staff(principal: &Principal) -> bool {
    (principal.has_role("admin") || principal.has_role("staff"))
        && authz::authorize(principal, TASKS_ADMIN, Target::Platform).is_ok()
}

pub fn require_staff(principal: &Principal) -> Result<(), ApiError> {
    if is_staff(principal) { Ok(()) } else { Err(identity::error::IdentityError::Forbidden(TASKS_ADMIN.into()).into()) }
}

/// For the thread attached to a task: its company's task managers, its freelancer and staff take part,
/// and the company's owners and admins and the freelancer are told of its messages. `None` for anyone
/// else.
pub async fn discussion(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<Option<platform::discussion::Discussion>, ApiError> {
    let Some(task) = tasks::repo::task(conn, model::TaskId(id), false).await? else { return Ok(None) };
    if !delivery::service::is_party(conn, principal, task.id).await? {
        return Ok(None);
    }
    let mut people = identity::party::people_to_notify(conn, identity::party::Party::Organization(task.org_id)).await?;
    people.extend(task.assignee);
    people.sort();
    people.dedup();
    Ok(Some(platform::discussion::Discussion { title: format!("Task: {}", task.title), people }))
}

/// Tells users something (a notification and, by its template, an email), in the caller's transaction.
pub(crate) async fn notify_users(
    conn: &mut PgConnection,
    recipients: Vec<Uuid>,
    kind: &'static str,
    data: serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<()> {
    if !recipients.is_empty() {
        platform::events::emit(conn, platform::events::Event { kind, recipients, organization: None, data }, now)
            .await?;
    }
    Ok(())
}

pub fn router(settings: TaskSettings, ledger: ledger::LedgerSettings) -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(tasks::http::task_categories))
        .routes(routes!(tasks::http::create_task))
        .routes(routes!(tasks::http::get_task))
        .routes(routes!(tasks::http::org_tasks))
        .routes(routes!(tasks::http::my_tasks))
        .routes(routes!(tasks::http::task_staff_queue))
        .routes(routes!(tasks::http::start_task))
        .routes(routes!(tasks::http::deliver_task))
        .routes(routes!(tasks::http::review_task))
        .routes(routes!(tasks::http::approve_task))
        .routes(routes!(tasks::http::request_task_revision))
        .routes(routes!(tasks::http::cancel_task))
        .routes(routes!(assignment::http::my_task_offers))
        .routes(routes!(assignment::http::accept_task_offer))
        .routes(routes!(assignment::http::decline_task_offer))
        .routes(routes!(assignment::http::claim_task))
        .routes(routes!(assignment::http::assign_task))
        .routes(routes!(assignment::http::task_candidates))
        .routes(routes!(assignment::http::task_configs, assignment::http::new_task_config))
        .routes(routes!(assignment::http::publish_task_config))
        .routes(routes!(freelancers::http::my_freelancer_profile, freelancers::http::save_freelancer_profile))
        .routes(routes!(freelancers::http::add_freelancer_vacation))
        .routes(routes!(freelancers::http::remove_freelancer_vacation))
        .routes(routes!(freelancers::http::get_freelancer))
        .routes(routes!(freelancers::http::list_freelancers))
        .routes(routes!(freelancers::http::decide_freelancer))
        .routes(routes!(freelancers::http::add_favourite_freelancer, freelancers::http::remove_favourite_freelancer))
        .routes(routes!(credits::http::org_credits, credits::http::buy_credits))
        .routes(routes!(brands::http::org_brand, brands::http::save_org_brand))
        .routes(routes!(brands::http::upload_brand_file))
        .routes(routes!(brands::http::download_task_file, brands::http::delete_task_file))
        .routes(routes!(brands::http::org_audiences, brands::http::new_audience))
        .routes(routes!(brands::http::save_audience, brands::http::delete_audience))
        .routes(routes!(briefs::http::new_brief))
        .routes(routes!(briefs::http::get_brief, briefs::http::edit_brief))
        .routes(routes!(briefs::http::org_briefs))
        .routes(routes!(briefs::http::attach_to_brief))
        .routes(routes!(styles::http::style_cards, styles::http::new_style_card))
        .routes(routes!(styles::http::get_style_card, styles::http::retire_style_card))
        .routes(routes!(styles::http::upload_style_image, styles::http::style_image))
        .routes(routes!(styles::http::style_suggestions))
        .routes(routes!(delivery::http::upload_deliverable, delivery::http::task_deliverables))
        .routes(routes!(delivery::http::post_task_message, delivery::http::task_messages))
        .routes(routes!(delivery::http::org_affinity))
        .layer(axum::Extension(std::sync::Arc::new(settings)))
        .layer(axum::Extension(std::sync::Arc::new(ledger)))
}

/// Registers creative tasks' jobs: assignment, offer expiry, claims closing, dispatch, auto-approval.
pub fn register(registry: &mut platform::jobs::Registry, settings: TaskSettings) {
    assignment::service::register(registry, settings.clone());
    tasks::service::register(registry, settings);
}
