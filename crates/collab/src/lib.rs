//! Collaboration: an organization's projects and their members (a client from outside it included),
//! a project's channels, and the thread attached to any business object (a booking, an event, ...)
//! whose owning domain decides who takes part; messages with replies, edits kept, soft deletion and
//! read positions; the support desk, whose tickets' conversations are threads too. See
//! docs/collaboration.md and docs/support.md.

pub mod attachments;
pub mod checklists;
pub mod conversations;
pub mod demo;
pub mod error;
pub mod files;
pub mod handovers;
pub mod messages;
pub mod model;
pub mod plans;
pub mod projects;
pub mod search;
pub mod subjects;
pub mod support;
pub mod takers;
pub mod templates;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use platform::AppContext;
pub use subjects::Subjects;
pub use takers::Takers;

/// The permission to create an organization's projects and manage all of them.
pub const PROJECTS_MANAGE: &str = "projects.manage";

/// Collaboration's settings (the product's defaults; each can be changed).
#[derive(Debug, Clone)]
pub struct CollabSettings {
    /// How long after posting a message its author may edit it.
    pub edit_window: Duration,
    /// An organization's storage allowance before its plan or an admin sets one: the Free plan's 250 MB.
    pub default_quota_bytes: i64,
}

impl Default for CollabSettings {
    fn default() -> Self {
        Self { edit_window: Duration::minutes(15), default_quota_bytes: 250_000_000 }
    }
}

/// Tells users something (a notification and, by its template, an email), in the caller's transaction.
pub(crate) async fn notify_users(
    conn: &mut PgConnection,
    recipients: Vec<Uuid>,
    kind: &'static str,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if !recipients.is_empty() {
        platform::events::emit(conn, platform::events::Event { kind, recipients, organization: None, data }, now)
            .await?;
    }
    Ok(())
}

/// Collaboration's job kinds: files' virus scans, plans' renewals (`ledger_settings` charges cards on
/// file) and the support desk's timers.
pub fn register(registry: &mut platform::jobs::Registry, ledger_settings: ledger::LedgerSettings) {
    files::service::register(registry);
    attachments::service::register(registry);
    plans::service::register(registry, ledger_settings);
    support::service::register(registry);
}

/// Collaboration's routes. `ledger_settings` pays plans by card; `subjects` answers who may take part
/// in the thread of each kind of object; `takers` the objects that take an approved file; `hub` carries
/// conversations' changes to their live streams.
pub fn router(
    settings: CollabSettings,
    ledger_settings: ledger::LedgerSettings,
    subjects: Subjects,
    takers: Takers,
    hub: std::sync::Arc<platform::stream::Hub>,
) -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(projects::http::create_project, projects::http::list_projects))
        .routes(routes!(projects::http::get_project, projects::http::update_project))
        .routes(routes!(projects::http::project_members))
        .routes(routes!(projects::http::put_project_member, projects::http::remove_project_member))
        .routes(routes!(conversations::http::project_channels, conversations::http::new_project_channel))
        .routes(routes!(conversations::http::object_thread))
        .routes(routes!(conversations::http::get_conversation))
        .routes(routes!(conversations::http::conversation_presence))
        .routes(routes!(conversations::http::start_conversation))
        .routes(routes!(conversations::http::conversation_members))
        .routes(routes!(conversations::http::add_conversation_member, conversations::http::leave_conversation))
        .routes(routes!(conversations::http::my_conversations))
        .routes(routes!(conversations::http::mark_conversation_read))
        .routes(routes!(messages::http::post_conversation_message, messages::http::conversation_messages))
        .routes(routes!(messages::http::message_replies))
        .routes(routes!(messages::http::edit_message, messages::http::delete_message))
        .routes(routes!(messages::http::message_edits))
        .routes(routes!(messages::http::add_message_reaction, messages::http::remove_message_reaction))
        .routes(routes!(messages::http::follow_conversation))
        .routes(routes!(messages::http::pin_message, messages::http::unpin_message))
        .routes(routes!(messages::http::conversation_pins))
        .routes(routes!(messages::http::conversation_level, messages::http::set_conversation_level))
        .routes(routes!(messages::http::conversation_typing))
        .routes(routes!(search::http::search))
        .routes(routes!(files::http::upload_project_file, files::http::project_files))
        .routes(routes!(
            files::http::get_project_file,
            files::http::delete_project_file,
            files::http::change_project_file
        ))
        .routes(routes!(files::http::project_file_content))
        .routes(routes!(files::http::project_file_thumbnail))
        .routes(routes!(files::http::new_project_folder, files::http::project_folders))
        .routes(routes!(checklists::http::new_checklist, checklists::http::project_checklists))
        .routes(routes!(checklists::http::new_checklist_item))
        .routes(routes!(checklists::http::tick_checklist_item))
        .routes(routes!(templates::http::save_project_template))
        .routes(routes!(templates::http::org_project_templates))
        .routes(routes!(templates::http::get_project_template, templates::http::delete_project_template))
        .routes(routes!(attachments::http::upload_attachment))
        .routes(routes!(attachments::http::attachment_content))
        .routes(routes!(files::http::restore_project_file))
        .routes(routes!(files::http::link_file_version))
        .routes(routes!(files::http::linked_file))
        .routes(routes!(files::http::revoke_file_links))
        .routes(routes!(files::http::deleted_project_files))
        .routes(routes!(files::http::undelete_project_file))
        .routes(routes!(files::http::org_storage, files::http::set_org_storage))
        .routes(routes!(plans::http::plan_catalogue))
        .routes(routes!(plans::http::org_plan, plans::http::choose_org_plan))
        .routes(routes!(plans::http::set_org_plan_card, plans::http::clear_org_plan_card))
        .routes(routes!(files::http::set_file_version_status))
        .routes(routes!(files::http::comment_file_version, files::http::file_version_comments))
        .routes(routes!(files::http::resolve_review_comment))
        .routes(routes!(handovers::http::hand_over_file_version, handovers::http::file_version_handovers))
        .routes(routes!(support::http::open_ticket, support::http::list_tickets))
        .routes(routes!(support::http::get_ticket, support::http::change_ticket))
        .routes(routes!(support::http::assign_ticket))
        .routes(routes!(support::http::post_ticket_message, support::http::ticket_messages))
        .routes(routes!(support::http::resolve_ticket))
        .routes(routes!(support::http::close_ticket))
        .routes(routes!(support::http::reopen_ticket))
        .routes(routes!(support::http::rate_ticket))
        .routes(routes!(support::http::ticket_events))
        .routes(routes!(support::http::support_targets))
        .routes(routes!(support::http::set_support_target))
        .routes(routes!(support::http::canned_replies, support::http::new_canned_reply))
        .routes(routes!(support::http::change_canned_reply, support::http::delete_canned_reply))
        .layer(axum::Extension(std::sync::Arc::new(settings)))
        .layer(axum::Extension(std::sync::Arc::new(ledger_settings)))
        .layer(axum::Extension(subjects))
        .layer(axum::Extension(takers))
        .layer(axum::Extension(hub))
}
