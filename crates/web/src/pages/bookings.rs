//! Booking an artist, from both sides: the offer from the artist's page, the inbox, and one booking's
//! page: the negotiation as a thread of proposals (whose turn, until when), the contract to read and
//! sign, the deposit and the balance, completion, cancellation and disputes. Staff review contracts and
//! resolve disputes from the same page.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use booking::bookings::dto::{Booking, Offer, Proposal, Terms};
use booking::contracts::dto::{ContractView, EditRequest, ReviewRequest, SignRequest};
use booking::model::{ArtistId, BookingId, PromoterId};
use booking::money::dto::{PayRequest, Resolution};
use chrono::{DateTime, Duration, Utc};
use platform::error::FieldError;
use platform::{ApiError, AppContext};
use serde::Deserialize;

use super::manage::{Input, moment};
use super::{FieldErrors, Layout, PayForm, page, to_signin};
use crate::WebSettings;
use crate::format;
use crate::session::{Form, Session};

/// The terms of an offer or a counter-proposal, as typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct TermsForm {
    pub promoter_id: String,
    pub fee: String,
    pub currency: String,
    pub deposit_percent: String,
    pub starts_at: String,
    pub ends_at: String,
    pub deal_type: String,
    pub door_percent: String,
    pub message: String,
}

impl TermsForm {
    /// An empty offer for a show four weeks from now, 20:00 to 23:00.
    pub fn new_offer(now: DateTime<Utc>) -> Self {
        let day = format::day(now + Duration::days(28));
        Self {
            currency: "EUR".into(),
            deposit_percent: "30".into(),
            starts_at: format!("{day}T20:00"),
            ends_at: format!("{day}T23:00"),
            deal_type: "flat".into(),
            ..Self::default()
        }
    }

    /// The last proposal's terms, to change.
    fn from_proposal(p: &Proposal) -> Self {
        Self {
            promoter_id: String::new(),
            fee: format::plain(p.fee, &p.currency),
            currency: p.currency.clone(),
            deposit_percent: percent(p.deposit_bps),
            starts_at: format::local_input(p.starts_at),
            ends_at: format::local_input(p.ends_at),
            deal_type: p.deal_type.clone(),
            door_percent: percent(p.door_bps),
            message: String::new(),
        }
    }

    pub fn inputs(&self) -> Vec<Input> {
        vec![
            Input::new("fee", "Fee (the guarantee)", "text", &self.fee),
            Input::new("currency", "Currency", "text", &self.currency),
            Input::new("deposit_percent", "Deposit at signing, % of the fee", "number", &self.deposit_percent),
            Input::new("starts_at", "Show starts (your time zone)", "datetime-local", &self.starts_at),
            Input::new("ends_at", "Show ends (your time zone)", "datetime-local", &self.ends_at),
            Input::new(
                "door_percent",
                "Door share, % of net ticket revenue (door and versus deals)",
                "number",
                &self.door_percent,
            ),
        ]
    }

    /// The terms the services take; the fields' errors otherwise.
    fn terms(&self) -> Result<Terms, ApiError> {
        let currency = self.currency.trim().to_uppercase();
        let mut problems = Vec::new();
        let fee = format::parse_money(&self.fee, &currency);
        if fee.is_none() {
            problems.push(FieldError::new("terms.fee", "invalid_format", "must be an amount, such as 1500"));
        }
        let mut bps = |field: &'static str, text: &str| -> Option<i32> {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            let parsed = text.replace(',', ".").parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p));
            if parsed.is_none() {
                problems.push(FieldError::new(field, "out_of_range", "must be a percentage from 0 to 100"));
            }
            parsed.map(|p| (p * 100.0).round() as i32)
        };
        let deposit_bps = bps("terms.deposit_bps", &self.deposit_percent);
        let door_bps = bps("terms.door_bps", &self.door_percent);
        let (starts, ends) = (moment("terms.starts_at", &self.starts_at), moment("terms.ends_at", &self.ends_at));
        let (starts_at, ends_at) = match (starts, ends) {
            (Ok(s), Ok(e)) => (Some(s), Some(e)),
            (s, e) => {
                problems.extend([s.err(), e.err()].into_iter().flatten());
                (None, None)
            }
        };
        match (fee, starts_at, ends_at) {
            (Some(fee), Some(starts_at), Some(ends_at)) if problems.is_empty() => Ok(Terms {
                fee,
                currency,
                deposit_bps,
                starts_at,
                ends_at,
                deal_type: Some(self.deal_type.trim().to_owned()).filter(|d| !d.is_empty()),
                door_bps,
                rider: serde_json::Map::new(),
                message: self.message.trim().to_owned(),
            }),
            _ => Err(ApiError::validation(problems)),
        }
    }
}

fn percent(bps: i32) -> String {
    if bps % 100 == 0 { (bps / 100).to_string() } else { format!("{:.2}", f64::from(bps) / 100.0) }
}

/// The form's errors, with the API's `terms.` prefix taken off so that they sit beside the inputs.
fn terms_errors(err: &ApiError) -> FieldErrors {
    FieldErrors::from_pairs(err.field_errors().iter().map(|e| {
        let field = e.field.strip_prefix("terms.").unwrap_or(&e.field);
        let field = match field {
            "deposit_bps" => "deposit_percent",
            "door_bps" => "door_percent",
            other => other,
        };
        (field.to_owned(), e.message.clone())
    }))
}

/// The organizer's offer, from the artist's page.
pub async fn offer(
    State(ctx): State<AppContext>,
    session: Session,
    Path(artist): Path<ArtistId>,
    Form(form): Form<TermsForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/artists/{artist}")) };
    let result = async {
        let promoter_id = form
            .promoter_id
            .trim()
            .parse()
            .map(PromoterId)
            .map_err(|_| ApiError::invalid_field("promoter_id", "required", "choose who makes the offer"))?;
        let terms = form.terms()?;
        booking::bookings::service::offer(
            &ctx,
            principal,
            Offer { artist_id: artist, promoter_id, venue_id: None, event_id: None, terms },
        )
        .await
    }
    .await;
    match result {
        Ok(b) => super::done(&format!("/bookings/{}", b.id), &format!("Your offer is sent to {}.", b.artist_name)),
        Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            match super::artists::artist_page(&ctx, &session, artist, form.clone()).await {
                Ok(mut view) => {
                    view.errors = terms_errors(&err);
                    view.promoter_id = form.promoter_id.clone();
                    page(StatusCode::UNPROCESSABLE_ENTITY, &view)
                }
                Err(other) => super::error(&session, &other),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

/// A booking as the inbox lists it.
pub struct Line {
    pub id: String,
    pub with: String,
    pub when: String,
    pub status: String,
    pub fee: String,
    pub your_move: bool,
    pub deadline: String,
}

fn line(b: &Booking) -> Line {
    let mine = b.can.iter().any(|c| c == "propose" || c == "accept");
    let last = b.agreement.as_ref().map(|a| &a.terms).or(b.proposals.last());
    Line {
        id: b.id.to_string(),
        with: format!("{} · {}", b.artist_name, b.promoter_name),
        when: format::when(b.starts_at),
        status: b.status.as_str().replace('_', " "),
        fee: last.map(|p| format::money(p.fee, &p.currency)).unwrap_or_default(),
        your_move: mine,
        deadline: b.deadline_at.map(format::when).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct Inbox {
    layout: Layout,
    waiting: Vec<Line>,
    others: Vec<Line>,
    profiles: Vec<(String, String)>,
    /// Whether the caller acts for a promoter profile (who may make offers).
    promoter: bool,
    errors: FieldErrors,
    next: Option<String>,
}

async fn inbox_page(
    ctx: &AppContext,
    session: &Session,
    cursor: Option<String>,
    errors: FieldErrors,
) -> Result<Inbox, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such page."))?;
    let page = platform::pagination::PageParams { limit: Some(50), cursor };
    let list = booking::bookings::service::mine(ctx, principal, &page).await?;
    let (artists, promoters) =
        booking::profiles::service::my_profiles(&mut *ctx.db.acquire().await?, principal).await?;
    let mut profiles = Vec::new();
    for id in artists {
        let a = booking::profiles::service::artist(ctx, ArtistId(id)).await?;
        profiles.push((a.id.to_string(), a.stage_name));
    }
    let (waiting, others) = list.items.iter().map(line).partition(|l| l.your_move);
    Ok(Inbox {
        layout: Layout::new("Bookings", session),
        waiting,
        others,
        profiles,
        promoter: !promoters.is_empty(),
        errors,
        next: list.next_cursor.map(|c| format!("/bookings?cursor={}", super::urlencode(&c))),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CursorQuery {
    cursor: Option<String>,
}

pub async fn inbox(State(ctx): State<AppContext>, session: Session, Query(q): Query<CursorQuery>) -> Response {
    if session.principal.is_none() {
        return to_signin("/bookings");
    }
    match inbox_page(&ctx, &session, q.cursor, FieldErrors::default()).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewProfileForm {
    kind: String,
    name: String,
}

/// A new artist profile (then its form, to fill in) or promoter profile (then the directory, to make
/// offers), kept by the signed-in user.
pub async fn create_profile(
    State(ctx): State<AppContext>,
    session: Session,
    Form(form): Form<NewProfileForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/bookings") };
    let name = Some(form.name.trim().to_owned());
    let result = match form.kind.as_str() {
        "artist" => {
            let request = booking::profiles::dto::ArtistRequest { stage_name: name, ..Default::default() };
            booking::profiles::service::save_artist(&ctx, principal, None, request)
                .await
                .map(|a| format!("/artists/{}/edit", a.id))
        }
        "promoter" => {
            let request = booking::profiles::dto::PromoterRequest { name, ..Default::default() };
            booking::profiles::service::save_promoter(&ctx, principal, None, request)
                .await
                .map(|_| "/artists".to_owned())
        }
        _ => Err(ApiError::invalid_field("kind", "invalid_value", "choose an artist or a promoter profile")),
    };
    match result {
        Ok(next) => Redirect::to(&next).into_response(),
        Err(err) if err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND => {
            let mut errors = FieldErrors::from_error(&err);
            if errors.is_empty() {
                errors = FieldErrors::from_pairs([("profile".to_owned(), err.detail().to_owned())]);
            }
            match inbox_page(&ctx, &session, None, errors).await {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(&session, &other),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

/// One proposal of the thread.
pub struct Step {
    pub side: String,
    pub fee: String,
    pub deal: String,
    pub deposit: String,
    pub when: String,
    pub message: String,
    pub at: String,
}

fn step(p: &Proposal, artist: &str, promoter: &str) -> Step {
    let deal = match p.deal_type.as_str() {
        "door" => format!("door deal: {}% of net ticket revenue", percent(p.door_bps)),
        "versus" => format!("versus: the greater of the fee and {}% of net ticket revenue", percent(p.door_bps)),
        _ => "flat fee".into(),
    };
    Step {
        side: if p.side == "artist" { artist.to_owned() } else { promoter.to_owned() },
        fee: format::money(p.fee, &p.currency),
        deal,
        deposit: format!("{}% deposit", percent(p.deposit_bps)),
        when: format!("{} – {}", format::when(p.starts_at), format::time(p.ends_at)),
        message: p.message.clone(),
        at: format::when(p.created_at),
    }
}

/// The contract as its page shows it.
pub struct Contract {
    pub version: i32,
    pub text: String,
    pub sha256: String,
    pub signatures: Vec<String>,
    pub review_pending: bool,
    pub may_sign: bool,
    pub may_edit: bool,
    pub deadline: String,
}

#[derive(Template)]
#[template(path = "booking.html")]
struct BookingPage {
    layout: Layout,
    id: String,
    artist_id: String,
    artist: String,
    promoter: String,
    venue: String,
    status: String,
    when: String,
    /// Who moves next and until when, in words.
    turn: String,
    can_propose: bool,
    can_accept: bool,
    can_decline: bool,
    thread: Vec<Step>,
    agreed: Option<String>,
    figures: Vec<(String, String)>,
    contract: Option<Contract>,
    /// What the organizer pays now, if anything: (label, amount).
    due: Option<(String, String)>,
    paid: Vec<String>,
    can_complete: bool,
    can_cancel: bool,
    can_dispute: bool,
    dispute: Option<String>,
    staff: bool,
    cancelled: Option<String>,
    terms: TermsForm,
    errors: FieldErrors,
    error: Option<String>,
    key: String,
}

impl BookingPage {
    fn terms_inputs(&self) -> Vec<Input> {
        self.terms.inputs()
    }
}

async fn booking_page(
    ctx: &AppContext,
    session: &Session,
    id: BookingId,
    terms: Option<TermsForm>,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<BookingPage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such booking."))?;
    let b = booking::bookings::service::get(ctx, principal, id).await?;
    let staff = booking::profiles::service::is_admin(principal);
    let (artists, promoters) =
        booking::profiles::service::my_profiles(&mut *ctx.db.acquire().await?, principal).await?;
    let side = if promoters.contains(&b.promoter_id.0) {
        Some("organizer")
    } else if artists.contains(&b.artist_id.0) {
        Some("artist")
    } else {
        None
    };
    let my_turn = side.is_some() && b.turn.as_deref() == side;
    let turn = match (&b.turn, b.deadline_at) {
        (Some(t), Some(deadline)) if b.status.negotiating() => {
            let who = if t == "artist" { &b.artist_name } else { &b.promoter_name };
            if my_turn {
                format!("Your move: answer by {} or the booking lapses.", format::when(deadline))
            } else {
                format!("Waiting for {who} to answer by {}.", format::when(deadline))
            }
        }
        _ => String::new(),
    };
    let contract = if b.agreement.is_some() {
        let view: ContractView = booking::contracts::service::get(ctx, principal, id).await?;
        let signed_by = |s: &str| view.signatures.iter().any(|sig| sig.version == view.version && sig.side == s);
        let may_sign = b.status.as_str() == "contracting"
            && match side {
                Some("organizer") => !signed_by("organizer"),
                Some("artist") => signed_by("organizer") && !signed_by("artist"),
                _ => false,
            };
        Some(Contract {
            version: view.version,
            text: view.text.clone(),
            sha256: view.sha256.clone(),
            signatures: view
                .signatures
                .iter()
                .filter(|s| s.version == view.version)
                .map(|s| {
                    let who = if s.side == "artist" { &b.artist_name } else { &b.promoter_name };
                    format!("Signed by {who} on {}", format::when(s.signed_at))
                })
                .collect(),
            review_pending: view.review_pending,
            may_sign,
            may_edit: b.status.as_str() == "contracting"
                && side.is_some_and(|s| !view.edits_used.iter().any(|u| u == s))
                && !view.signed,
            deadline: view.deadline_at.map(format::when).unwrap_or_default(),
        })
    } else {
        None
    };
    let (mut due, mut paid) = (None, Vec::new());
    let mut figures = Vec::new();
    if let (Some(agreement), Some(money)) = (&b.agreement, &b.money) {
        let currency = &agreement.terms.currency;
        let f = &agreement.figures;
        figures = vec![
            ("Fee".into(), format::money(f.fee, currency)),
            ("The organizer pays".into(), format::money(f.organizer_pays, currency)),
            ("The artist receives".into(), format::money(f.artist_receives, currency)),
            ("Deposit".into(), format::money(money.deposit, currency)),
            ("Balance".into(), format::money(money.balance, currency)),
        ];
        if let Some(at) = money.deposit_paid_at {
            paid.push(format!("Deposit paid on {}", format::when(at)));
        }
        if let Some(at) = money.balance_paid_at {
            paid.push(format!("Balance paid on {}", format::when(at)));
        }
        if let Some(at) = money.settled_at {
            paid.push(format!("Released to the artist on {}", format::when(at)));
        }
        if money.balance_overdue {
            paid.push("The balance is overdue.".into());
        }
        if side == Some("organizer") {
            due = match b.status.as_str() {
                "confirmed" => Some(("the deposit".into(), format::money(money.deposit, currency))),
                "paid_deposit" => Some(("the balance".into(), format::money(money.balance, currency))),
                _ => None,
            };
        }
    }
    let now = ctx.clock.now();
    let status = b.status.as_str();
    let thread = b.proposals.iter().map(|p| step(p, &b.artist_name, &b.promoter_name)).collect();
    let terms = terms.unwrap_or_else(|| b.proposals.last().map(TermsForm::from_proposal).unwrap_or_default());
    Ok(BookingPage {
        layout: Layout::new(format!("{} · {}", b.artist_name, b.promoter_name), session),
        id: b.id.to_string(),
        artist_id: b.artist_id.to_string(),
        artist: b.artist_name.clone(),
        promoter: b.promoter_name.clone(),
        venue: b.venue_name.clone().unwrap_or_default(),
        status: status.replace('_', " "),
        when: format!("{} – {}", format::when(b.starts_at), format::time(b.ends_at)),
        turn,
        can_propose: b.can.iter().any(|c| c == "propose"),
        can_accept: b.can.iter().any(|c| c == "accept"),
        can_decline: b.can.iter().any(|c| c == "decline"),
        thread,
        agreed: b.agreement.as_ref().map(|a| format!("Agreed on {}", format::when(a.agreed_at))),
        figures,
        contract,
        due,
        paid,
        can_complete: side == Some("organizer") && status == "scheduled" && b.ends_at <= now,
        can_cancel: side.is_some() && matches!(status, "contracting" | "confirmed" | "paid_deposit" | "scheduled"),
        can_dispute: side.is_some() && matches!(status, "paid_deposit" | "scheduled"),
        dispute: b.money.as_ref().and_then(|m| m.dispute_reason.clone()),
        staff,
        cancelled: b.cancel_reason.clone().map(|r| match &b.cancelled_by {
            Some(by) => format!("Cancelled by the {by}: {r}"),
            None => format!("Cancelled: {r}"),
        }),
        terms,
        errors,
        error,
        key: uuid::Uuid::new_v4().simple().to_string(),
    })
}

pub async fn show(State(ctx): State<AppContext>, session: Session, Path(id): Path<BookingId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/bookings/{id}"));
    }
    match booking_page(&ctx, &session, id, None, FieldErrors::default(), None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// After an action: back to the booking, or the booking again with what went wrong.
async fn answer<T>(
    ctx: &AppContext,
    session: &Session,
    id: BookingId,
    result: Result<T, ApiError>,
    terms: Option<TermsForm>,
    message: &str,
) -> Response {
    match result {
        Ok(_) => super::done(&format!("/bookings/{id}"), message),
        Err(err) if err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND => {
            let errors = terms_errors(&err);
            let message = errors.is_empty().then(|| err.detail().to_owned());
            match booking_page(ctx, session, id, terms, errors, message).await {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(session, &other),
            }
        }
        Err(err) => super::error(session, &err),
    }
}

pub async fn propose(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<BookingId>,
    Form(form): Form<TermsForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/bookings/{id}")) };
    let result = match form.terms() {
        Ok(terms) => booking::bookings::service::propose(&ctx, principal, id, terms).await,
        Err(err) => Err(err),
    };
    answer(&ctx, &session, id, result, Some(form), "Your counter-offer is sent.").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReasonForm {
    reason: String,
}

/// `accept`, `decline`, `complete`, `cancel` and `dispute`: one button each (with a reason where the
/// service asks for one).
pub async fn act(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, action)): Path<(BookingId, String)>,
    Form(form): Form<ReasonForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/bookings/{id}")) };
    use booking::{bookings::service as bookings, money::service as money};
    let (result, message) = match action.as_str() {
        "accept" => (bookings::accept(&ctx, principal, id).await, "Accepted: the contract is ready to sign."),
        "decline" => (bookings::decline(&ctx, principal, id, &form.reason).await, "Declined."),
        "complete" => (money::complete(&ctx, principal, id).await, "Completed: the money is released."),
        "cancel" => (money::cancel_confirmed(&ctx, principal, id, &form.reason).await, "The booking is cancelled."),
        "dispute" => {
            (money::dispute(&ctx, principal, id, &form.reason).await, "The dispute is open; staff will decide.")
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    answer(&ctx, &session, id, result, None, message).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignForm {
    sha256: String,
}

pub async fn sign(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    meta: platform::http::ClientMeta,
    Path(id): Path<BookingId>,
    Form(form): Form<SignForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/bookings/{id}")) };
    let request = SignRequest { sha256: form.sha256.trim().to_owned() };
    let result = booking::contracts::service::sign(&ctx, &settings.booking, principal, &meta, id, request).await;
    answer(&ctx, &session, id, result, None, "You signed the contract.").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditForm {
    clause: String,
}

pub async fn request_edit(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<BookingId>,
    Form(form): Form<EditForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/bookings/{id}")) };
    let result =
        booking::contracts::service::request_edit(&ctx, principal, id, EditRequest { clause: form.clause }).await;
    answer(&ctx, &session, id, result, None, "Your edit is asked for: both sides sign the new version.").await
}

/// The organizer pays what is due, from the wallet or by card, exactly as `POST /v1/bookings/{id}/pay`.
pub async fn pay(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<BookingId>,
    Form(form): Form<PayForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/bookings/{id}")) };
    let now = ctx.clock.now();
    let body = PayRequest {
        source: Some(form.source("wallet").into()),
        provider: None,
        card_number: form.card("wallet"),
        payment_method: None,
    };
    let key = form.retry_key("booking");
    let payment = || booking::money::service::Payment { booking: id, body: &body, retry_key: Some(&key) };
    let result = async {
        booking::money::service::charge(&ctx, &settings.ledger, principal, &payment(), now).await?;
        let mut tx = ctx.db.begin().await?;
        let paid = booking::money::service::pay(&mut tx, principal, payment(), now).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(paid)
    }
    .await;
    answer(&ctx, &session, id, result, None, "Paid: the money waits in escrow until the show.").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    decision: String,
    reason: String,
}

/// Staff approve or reject a signed contract.
pub async fn review(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<BookingId>,
    Form(form): Form<ReviewForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/bookings/{id}")) };
    let request = ReviewRequest { decision: form.decision, reason: form.reason };
    let result = booking::contracts::service::review(&ctx, principal, id, request).await;
    answer(&ctx, &session, id, result, None, "Your decision is recorded.").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResolveForm {
    outcome: String,
    artist_percent: String,
    note: String,
}

/// Staff resolve a dispute: release, refund, or split.
pub async fn resolve(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<BookingId>,
    Form(form): Form<ResolveForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/bookings/{id}")) };
    let artist_bps = form.artist_percent.trim().parse::<f64>().ok().map(|p| (p * 100.0).round() as i64);
    let request = Resolution { outcome: form.outcome, artist_bps, note: form.note };
    let result = booking::money::service::resolve(&ctx, principal, id, request).await;
    answer(&ctx, &session, id, result, None, "The dispute is resolved.").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_terms_become_the_services_terms_or_name_their_fields() {
        let form = TermsForm {
            fee: "1500".into(),
            currency: "eur".into(),
            deposit_percent: "30".into(),
            starts_at: "2027-01-15T20:00".into(),
            ends_at: "2027-01-15T23:00".into(),
            deal_type: "versus".into(),
            door_percent: "70.5".into(),
            ..TermsForm::default()
        };
        let terms = form.terms().unwrap();
        assert_eq!((terms.fee, terms.currency.as_str()), (150_000, "EUR"));
        assert_eq!((terms.deposit_bps, terms.door_bps), (Some(3000), Some(7050)));
        let bad = TermsForm { fee: "lots".into(), deposit_percent: "101".into(), starts_at: "soon".into(), ..form };
        let err = bad.terms().unwrap_err();
        let errors = terms_errors(&err);
        assert!(errors.of("fee").is_some());
        assert!(errors.of("deposit_percent").is_some());
        assert!(errors.of("starts_at").is_some());
        assert!(errors.of("ends_at").is_none());
        assert_eq!(percent(3000), "30");
        assert_eq!(percent(7050), "70.50");
    }
}
