//! The web app: server-rendered pages at `/` for every persona, over the same service functions (and
//! so the same rules and permission checks) as the API under `/v1`. Pages are askama templates checked
//! at compile time; forms work without JavaScript, and htmx (served from here, never a CDN) makes them
//! faster. See docs/web.md.

mod assets;
mod chart;
pub mod format;
pub mod markdown;
mod pages;
mod security;
mod session;
mod upload;

use axum::Router;
use axum::routing::{get, post};
use platform::AppContext;

pub use security::browser_not_found;
pub use session::{ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE};

/// The web app's settings.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// Sign-in rules: the same as the API's.
    pub identity: identity::IdentitySettings,
    /// Whether the demo data is loaded: the home page then lists the demo personas to sign in as.
    pub demo: bool,
    /// Ticketing's rules (how long an unpaid order holds its tickets).
    pub ticketing: ticketing::TicketingSettings,
    /// The payment providers a purchase charges through.
    pub ledger: ledger::LedgerSettings,
    /// Booking's rules (whether staff review signed contracts).
    pub booking: booking::BookingSettings,
    /// Creative tasks' rules (credit prices, windows, revisions).
    pub tasks: tasks::TaskSettings,
    /// The business objects a conversation can be attached to (the binary's `backline::subjects`).
    pub subjects: collab::Subjects,
    /// The objects that take a project file's approved version (the binary's `backline::takers`).
    pub takers: collab::Takers,
    /// Collaboration's rules (storage allowances, the edit window).
    pub collab: collab::CollabSettings,
}

/// The pages and their assets. Every page is answered with the security headers of
/// [`security::headers`]; sessions come from cookies ([`session`]).
/// `hub` carries notifications to the notification center's live stream.
pub fn router(ctx: AppContext, settings: WebSettings, hub: std::sync::Arc<notify::stream::Hub>) -> Router<AppContext> {
    let settings = std::sync::Arc::new(settings);
    Router::new()
        .route("/", get(pages::home::home))
        .route("/signin", get(pages::auth::signin_form).post(pages::auth::signin))
        .route("/signout", post(pages::auth::signout))
        .route("/signup", get(pages::account::signup_form).post(pages::account::signup))
        .route("/verify-email", get(pages::account::verify_form).post(pages::account::verify))
        .route("/forgot-password", get(pages::account::forgot_form).post(pages::account::forgot))
        .route("/reset-password", get(pages::account::reset_form).post(pages::account::reset))
        .route("/events", get(pages::events::search))
        .route("/events/{id}", get(pages::events::event))
        .route("/events/{id}/orders", post(pages::orders::reserve))
        .route("/events/{id}/waiting-room", get(pages::rooms::room).post(pages::rooms::join))
        .route("/events/{id}/waiting-room/stream", get(pages::rooms::stream))
        .route("/events/{id}/door", get(pages::door::door).post(pages::door::scan))
        .route("/manage/events", get(pages::manage::list).post(pages::manage::create))
        .route("/manage/events/new", get(pages::manage::new_form))
        .route("/manage/events/{id}", get(pages::manage::event))
        .route("/manage/events/{id}/tiers", post(pages::manage::add_tier))
        .route("/manage/events/{id}/tiers/{tier}", post(pages::manage::update_tier))
        .route("/manage/events/{id}/edit", get(pages::manage::edit_form).post(pages::manage::update))
        .route("/manage/events/{id}/sales", get(pages::sales::dashboard))
        .route("/manage/events/{id}/splits", post(pages::sales::save_splits))
        .route("/manage/events/{id}/links", post(pages::sales::add_link))
        .route("/manage/attributions/{order}/{decision}", post(pages::sales::decide))
        .route("/manage/events/{id}/status", post(pages::manage::change_status))
        .route("/manage/events/{id}/waiting-room", post(pages::manage::save_room))
        .route("/artists", get(pages::artists::search))
        .route("/artists/{id}", get(pages::artists::artist))
        .route("/artists/{id}/edit", get(pages::artists::edit_form).post(pages::artists::save))
        .route("/artists/{id}/calendar", get(pages::artists::calendar))
        .route("/artists/{id}/calendar-url", post(pages::artists::rotate_feed))
        .route("/artists/{id}/offers", post(pages::bookings::offer))
        .route("/venues/{id}", get(pages::artists::venue))
        .route("/venues/{id}/calendar", get(pages::artists::venue_calendar))
        .route("/venues/{id}/calendar-url", post(pages::artists::rotate_venue_feed))
        .route("/labels/{id}/catalog", get(pages::catalog::catalog))
        .route("/labels/{id}/releases", post(pages::editor::create))
        .route("/labels/{id}/releases/new", get(pages::editor::new_form))
        .route("/releases/{id}", get(pages::catalog::release))
        .route("/releases/{id}/edit", get(pages::editor::edit_form).post(pages::editor::save))
        .route("/releases/{id}/artwork", get(pages::catalog::artwork).post(pages::editor::upload_artwork))
        .route("/releases/{id}/rights", post(pages::catalog::claim))
        .route("/releases/{id}/rights/{claim}/review", post(pages::catalog::review_claim))
        .route("/releases/{id}/rights/{claim}/documents", post(pages::catalog::claim_document))
        .route("/releases/{id}/rights/{claim}/documents/{sha256}", get(pages::catalog::document))
        .route("/releases/{id}/credits", post(pages::editor::credit))
        .route("/releases/{id}/tracks", post(pages::editor::add_track))
        .route("/releases/{id}/tracks/{track}", get(pages::editor::track_form).post(pages::editor::save_track))
        .route("/releases/{id}/tracks/{track}/audio", post(pages::editor::upload_audio))
        .route("/releases/{id}/tracks/{track}/remove", post(pages::editor::remove_track))
        .route("/releases/{id}/tracks/{track}/move", post(pages::editor::move_track))
        .route("/releases/{id}/submit", post(pages::catalog::submit))
        .route("/releases/{id}/review", post(pages::catalog::review))
        .route("/releases/{id}/schedule", post(pages::catalog::schedule))
        .route("/releases/{id}/takedown", post(pages::catalog::takedown))
        .route("/admin/releases", get(pages::catalog::queue))
        .route("/labels/{id}/royalties", get(pages::royalties::label))
        .route("/labels/{id}/royalties/reports", post(pages::royalties::upload))
        .route("/labels/{id}/royalties/periods", post(pages::royalties::close))
        .route("/labels/{id}/royalties/payees", post(pages::royalties::invite))
        .route("/labels/{id}/royalties/splits", post(pages::royalties::split))
        .route("/labels/{id}/royalties/recoupables", post(pages::royalties::recoupable))
        .route("/royalty-reports/{id}", get(pages::royalties::report))
        .route("/royalty-reports/{id}/matches", post(pages::royalties::match_key))
        .route("/royalty-statements/{id}", get(pages::royalties::statement))
        .route("/royalty-statements/{id}/{format}", get(pages::royalties::download))
        .route("/me/royalties", get(pages::royalties::mine))
        .route("/bookings", get(pages::bookings::inbox))
        .route("/bookings/profiles", post(pages::bookings::create_profile))
        .route("/bookings/{id}", get(pages::bookings::show))
        .route("/bookings/{id}/proposals", post(pages::bookings::propose))
        .route("/bookings/{id}/contract/sign", post(pages::bookings::sign))
        .route("/bookings/{id}/contract/edits", post(pages::bookings::request_edit))
        .route("/bookings/{id}/contract/review", post(pages::bookings::review))
        .route("/bookings/{id}/pay", post(pages::bookings::pay))
        .route("/bookings/{id}/resolution", post(pages::bookings::resolve))
        .route("/bookings/{id}/do/{action}", post(pages::bookings::act))
        .route("/orders/{id}", get(pages::orders::order))
        .route("/orders/{id}/pay", post(pages::orders::pay))
        .route("/payments/{id}/authenticate", get(pages::orders::challenge).post(pages::orders::answer_challenge))
        .route("/me/tickets", get(pages::tickets::mine))
        .route("/me/tickets/{id}/qr.svg", get(pages::tickets::qr))
        .route("/me/tickets/{id}/transfer", post(pages::transfers::offer))
        .route("/me/tickets/{id}/listings", post(pages::tickets::sell))
        .route("/me/listings/{id}/withdraw", post(pages::tickets::withdraw))
        .route("/listings/{id}/buy", post(pages::orders::buy_listing))
        .route("/me/transfers", get(pages::transfers::list))
        .route("/me/account", get(pages::profile::show).post(pages::profile::save))
        .route("/me/sessions/{id}/end", post(pages::profile::end_session))
        .route("/me/keys", get(pages::keys::list).post(pages::keys::create))
        .route("/me/keys/{id}/revoke", post(pages::keys::revoke))
        .route("/me/notifications", get(pages::notifications::list))
        .route("/me/notifications/read", post(pages::notifications::read_all))
        .route("/me/stream", get(pages::notifications::stream))
        .route("/me/payouts", get(pages::payouts::show))
        .route("/orgs/{id}/brand", get(pages::brand::show).post(pages::brand::save))
        .route("/orgs/{id}/brand/files", post(pages::brand::upload))
        .route("/orgs/{id}/brand/files/{file}/delete", post(pages::brand::delete_file))
        .route("/orgs/{id}/audiences", post(pages::brand::new_audience))
        .route("/orgs/{id}/audiences/{audience}", post(pages::brand::save_audience))
        .route("/orgs/{id}/audiences/{audience}/delete", post(pages::brand::delete_audience))
        .route("/orgs/{id}/favourites/{user}", post(pages::brand::favourite))
        .route("/tasks", get(pages::tasks::show))
        .route("/briefs/new", post(pages::briefs::create))
        .route("/briefs/{id}", get(pages::briefs::show).post(pages::briefs::save))
        .route("/briefs/{id}/task", post(pages::briefs::commission))
        .route("/briefs/{id}/attachments", post(pages::briefs::attach))
        .route("/style-cards/{id}/image", get(pages::briefs::card_image).post(pages::styles::upload))
        .route("/task-files/{id}", get(pages::briefs::task_file))
        .route("/tasks/credits", post(pages::tasks::buy))
        .route("/tasks/new", post(pages::tasks::create))
        .route("/tasks/apply", post(pages::tasks::apply))
        .route("/tasks/{id}", get(pages::tasks::show_task))
        .route("/tasks/{id}/files", post(pages::tasks::upload_file))
        .route("/tasks/{id}/messages", post(pages::tasks::post_message))
        .route("/tasks/{id}/{action}", post(pages::tasks::step))
        .route("/task-offers/{id}/accept", post(pages::tasks::accept))
        .route("/task-offers/{id}/decline", post(pages::tasks::decline))
        .route("/admin/tasks", get(pages::tasks::staff))
        .route("/admin/freelancers/{id}/decision", post(pages::tasks::decide))
        .route("/admin/task-configs", post(pages::tasks::new_config))
        .route("/admin/style-cards", get(pages::styles::show).post(pages::styles::create))
        .route("/admin/style-cards/{id}/retire", post(pages::styles::retire))
        .route("/admin/task-configs/{version}/publish", post(pages::tasks::publish_config))
        .route("/me/payouts/methods", post(pages::payouts::add_bank_account))
        .route("/me/payouts/withdrawals", post(pages::payouts::withdraw))
        .route("/me/payouts/withdrawals/{id}/cancel", post(pages::payouts::cancel))
        .route("/me/wallet", get(pages::wallet::wallet))
        .route("/me/wallet/{id}", get(pages::wallet::statement))
        .route("/me/transfers/{id}/{decision}", post(pages::transfers::decide))
        .route("/projects", get(pages::projects::list).post(pages::projects::create))
        .route("/projects/{id}", get(pages::projects::show))
        .route("/projects/{id}/members", post(pages::projects::member))
        .route("/projects/{id}/channels", post(pages::projects::channel))
        .route("/projects/{id}/files", post(pages::projects::upload_file))
        .route("/attachments/{id}", get(pages::projects::attachment))
        .route("/conversations/{id}/files", post(pages::projects::send_file))
        .route("/messages/{id}/reactions", post(pages::projects::react))
        .route("/messages/{id}/delete", post(pages::projects::delete_message))
        .route("/messages/{id}/pin", post(pages::projects::pin_message))
        .route("/projects/{id}/details", post(pages::projects::save_details))
        .route("/projects/{id}/template", post(pages::projects::save_template))
        .route("/projects/{id}/status", post(pages::projects::move_project))
        .route("/projects/{id}/checklists", post(pages::projects::new_checklist))
        .route("/projects/{id}/folders", post(pages::projects::new_folder))
        .route("/project-files/{id}/delete", post(pages::projects::delete_file))
        .route("/project-files/{id}/undelete", post(pages::projects::undelete_file))
        .route("/messages/{id}/edit", get(pages::projects::edit_message_form).post(pages::projects::edit_message))
        .route("/conversations/{id}/level", post(pages::projects::set_level))
        .route("/checklist-items/{id}", post(pages::projects::tick))
        .route("/project-files/{id}/versions/{version}", get(pages::projects::file_version))
        .route("/project-files/{id}/versions/{version}/thumbnail", get(pages::projects::file_thumbnail))
        .route("/project-files/{id}/versions/{version}/review", get(pages::review::show))
        .route("/project-files/{id}/versions/{version}/comments", post(pages::review::comment))
        .route("/project-files/{id}/versions/{version}/comments/{comment}/resolution", post(pages::review::resolution))
        .route("/project-files/{id}/versions/{version}/status", post(pages::review::status))
        .route("/project-files/{id}/versions/{version}/handovers", post(pages::review::hand_over))
        .route("/conversations/{id}", get(pages::projects::conversation))
        .route("/conversations/{id}/messages", post(pages::projects::post_message))
        .route("/conversations/{id}/stream", get(pages::projects::stream))
        .route("/threads/{kind}/{id}", get(pages::projects::object_thread))
        .route("/search", get(pages::projects::search))
        .route("/support", get(pages::support::desk))
        .route("/support/tickets", post(pages::support::open))
        .route("/support/tickets/{id}", get(pages::support::ticket))
        .route("/support/tickets/{id}/messages", post(pages::support::reply))
        .route("/support/tickets/{id}/steps", post(pages::support::step))
        .route("/orgs", get(pages::orgs::list).post(pages::orgs::create))
        .route("/orgs/{id}", get(pages::orgs::show))
        .route("/orgs/{id}/plan", get(pages::plans::show).post(pages::plans::choose))
        .route("/orgs/{id}/plan/card", post(pages::plans::card))
        .route("/orgs/{id}/invitations", post(pages::orgs::invite))
        .route("/orgs/{id}/invitations/{invitation}/revoke", post(pages::orgs::revoke))
        .route("/orgs/{id}/members/{user}", post(pages::orgs::member))
        .route("/orgs/{id}/teams", post(pages::orgs::create_team))
        .route("/orgs/{id}/teams/{team}", get(pages::orgs::team))
        .route("/orgs/{id}/teams/{team}/members", post(pages::orgs::team_member))
        .route("/invitations/accept", get(pages::orgs::invitation))
        .route("/invitations/respond", post(pages::orgs::respond))
        .route("/admin/users", get(pages::admin::users))
        .route("/admin/users/{id}/{action}", post(pages::admin::act))
        .route("/admin/jobs", get(pages::admin::dead_jobs))
        .route("/admin/bookings", get(pages::admin::bookings))
        .route("/admin/audit", get(pages::admin::audit))
        .route("/admin/security", get(pages::admin::security))
        .route("/admin/security/checks", post(pages::admin::run_checks))
        .route("/admin/jobs/{id}/retry", post(pages::admin::retry))
        .route("/assets/{file}", get(assets::serve))
        .layer(axum::middleware::from_fn_with_state((ctx, settings.clone()), session::layer))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::Extension(settings))
        .layer(axum::Extension(hub))
}
