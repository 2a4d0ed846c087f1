//! An organization's plan page: the plan, its period and how it renews, what the organization uses of
//! its limits, its charges; for its owners and admins, changing the plan (paid from the organization's
//! wallet or by card) and the card on file renewals charge. Collaboration's and the ledger's services
//! decide who may see and do what.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use collab::plans::dto::{OrgPlan, PlanCard, PlanChoice};
use identity::model::OrgId;
use platform::{ApiError, AppContext};
use serde::Deserialize;

use super::{FieldErrors, Layout, beside_form, done, page, to_signin};
use crate::WebSettings;
use crate::format;
use crate::session::{Form, Session};

/// A plan of the catalogue, as offered on the page.
pub struct OfferLine {
    pub name: String,
    pub price: String,
    pub projects: String,
    pub people: i64,
    pub storage: String,
    pub current: bool,
}

/// A charge, as listed.
pub struct ChargeLine {
    pub plan: String,
    pub amount: String,
    pub period: String,
    pub outcome: String,
    pub reason: String,
    pub at: String,
}

/// One of the caller's cards on file.
pub struct CardLine {
    pub id: String,
    pub display: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    layout: Layout,
    org: String,
    plan: String,
    period: String,
    next_plan: String,
    renewed: bool,
    renewal_failures: i32,
    complimentary: bool,
    renews_by: String,
    card: String,
    usage: Vec<(&'static str, String, String)>,
    offers: Vec<OfferLine>,
    charges: Vec<ChargeLine>,
    /// Whether the caller changes the plan (its owners and admins).
    billing: bool,
    cards: Vec<CardLine>,
    /// A fresh key for the change form, so that a form sent twice charges a card once.
    key: String,
    errors: FieldErrors,
    error: Option<String>,
}

fn usage(plan: &OrgPlan) -> Vec<(&'static str, String, String)> {
    let p = &plan.plan;
    vec![
        (
            "Open projects",
            plan.usage.open_projects.to_string(),
            p.open_projects.map_or_else(|| "no limit".to_owned(), |n| n.to_string()),
        ),
        ("People on projects", plan.usage.collaborators.to_string(), p.collaborators.to_string()),
        ("Storage", format::bytes(plan.usage.storage_bytes), format::bytes(p.storage_bytes)),
    ]
}

async fn plan_page(
    ctx: &AppContext,
    session: &Session,
    org: OrgId,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<PlanPage, ApiError> {
    let Some(principal) = &session.principal else { return Err(ApiError::not_found("No such organization.")) };
    let plan = collab::plans::service::get(ctx, principal, org.0).await?;
    let role = {
        let mut conn = ctx.db.acquire().await?;
        identity::service::org_role_of(&mut conn, org.0, principal.user_id.0).await?
    };
    let billing = matches!(role.as_deref(), Some("owner" | "admin"));
    let chosen = plan.card.as_ref().map(|c| c.id);
    let cards = if billing { ledger::cards::service::list(ctx, principal).await? } else { Vec::new() };
    let period = match (plan.period_start, plan.period_end) {
        (Some(start), Some(end)) => format!("{} to {}", format::when(start), format::when(end)),
        _ => String::new(),
    };
    Ok(PlanPage {
        layout: Layout::new("Plan", session),
        org: org.to_string(),
        period,
        next_plan: plan.next_plan.clone().unwrap_or_default(),
        renewed: plan.renewed,
        renewal_failures: plan.renewal_failures,
        complimentary: plan.complimentary,
        renews_by: plan.renews_by.clone(),
        card: plan.card.as_ref().map(|c| c.display.clone()).unwrap_or_default(),
        usage: usage(&plan),
        offers: collab::plans::service::offers()
            .into_iter()
            .map(|o| OfferLine {
                current: o.name == plan.plan.name,
                price: format::money(o.price_minor, &o.currency),
                projects: o.open_projects.map_or_else(|| "no limit".to_owned(), |n| n.to_string()),
                people: o.collaborators,
                storage: format::bytes(o.storage_bytes),
                name: o.name,
            })
            .collect(),
        charges: plan
            .charges
            .iter()
            .map(|c| ChargeLine {
                plan: c.plan.clone(),
                amount: if c.credit_minor > 0 {
                    format!(
                        "{} ({} unused of the plan before taken off)",
                        format::money(c.amount_minor, &c.currency),
                        format::money(c.credit_minor, &c.currency)
                    )
                } else {
                    format::money(c.amount_minor, &c.currency)
                },
                period: format!("{} to {}", format::when(c.period_start), format::when(c.period_end)),
                outcome: c.outcome.clone(),
                reason: c.reason.clone().unwrap_or_default(),
                at: format::when(c.created_at),
            })
            .collect(),
        plan: plan.plan.name,
        billing,
        cards: cards
            .into_iter()
            .map(|c| CardLine { chosen: Some(c.id) == chosen, id: c.id.to_string(), display: c.display })
            .collect(),
        key: uuid::Uuid::now_v7().to_string(),
        errors,
        error,
    })
}

/// The plan page.
pub async fn show(State(ctx): State<AppContext>, session: Session, Path(org): Path<OrgId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/orgs/{org}/plan"));
    }
    match plan_page(&ctx, &session, org, FieldErrors::default(), None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// After a form: back to the page with a notice, or the refusal beside the form.
async fn answer(
    ctx: &AppContext,
    session: &Session,
    org: OrgId,
    result: Result<(), ApiError>,
    notice: &str,
) -> Response {
    match result {
        Ok(()) => done(&format!("/orgs/{org}/plan"), notice),
        Err(err) if beside_form(&err) => {
            let errors = FieldErrors::from_error(&err);
            let error = err.field_errors().is_empty().then(|| err.detail().to_owned());
            match plan_page(ctx, session, org, errors, error).await {
                Ok(view) => page(err.status(), &view),
                Err(err) => super::error(session, &err),
            }
        }
        Err(err) => super::error(session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChoiceForm {
    plan: String,
    /// `wallet` or `card`.
    source: String,
    card_number: String,
    key: String,
}

/// Changes the plan.
pub async fn choose(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(org): Path<OrgId>,
    Form(form): Form<ChoiceForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{org}/plan")) };
    let by_card = form.source == "card";
    let req = PlanChoice {
        plan: form.plan.clone(),
        complimentary: false,
        source: Some(if by_card { "card" } else { "wallet" }.to_owned()),
        provider: None,
        card_number: by_card.then(|| form.card_number.clone()),
        payment_method: None,
    };
    let key = Some(form.key.trim()).filter(|k| !k.is_empty() && k.len() <= 255);
    let result = async {
        collab::plans::service::charge_card(&ctx, &settings.ledger, principal, org.0, &req, key).await?;
        collab::plans::service::choose(&ctx, principal, org.0, req).await.map(|_| ())
    }
    .await;
    answer(&ctx, &session, org, result, &format!("The plan is {} now, or from the period's end.", form.plan)).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CardForm {
    /// A card on file's id, or `new` with `card_number`, or `wallet`.
    card: String,
    card_number: String,
}

/// Sets how the plan renews: a card on file of the caller's (a new one kept first), or the wallet.
pub async fn card(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(org): Path<OrgId>,
    Form(form): Form<CardForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{org}/plan")) };
    let result = async {
        let card_id = match form.card.as_str() {
            "wallet" => {
                collab::plans::service::clear_card(&ctx, principal, org.0).await?;
                return Ok(());
            }
            "new" => {
                let req = ledger::cards::dto::NewSavedCard {
                    provider: None,
                    card_number: Some(form.card_number.clone()),
                    payment_method: None,
                    customer: None,
                };
                ledger::cards::service::save(&ctx, &settings.ledger, principal, req).await?.id
            }
            id => uuid::Uuid::parse_str(id).map_err(|_| {
                ApiError::invalid_field("card", "invalid_value", "must be one of your cards, new or wallet")
            })?,
        };
        collab::plans::service::set_card(&ctx, principal, org.0, PlanCard { card_id }).await.map(|_| ())
    }
    .await;
    let notice = if form.card == "wallet" { "Renewals are paid from the wallet." } else { "Renewals charge the card." };
    answer(&ctx, &session, org, result, notice).await
}
