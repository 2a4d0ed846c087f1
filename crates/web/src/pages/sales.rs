//! An event's money for its organizer: the sales dashboard (totals, tickets sold over time as a chart,
//! each tier), the revenue splits (set before the first sale, frozen after), the attribution links of
//! creators and sponsors with the orders they brought, and the settlement once the event is over.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::{ApiError, AppContext, FieldError};
use serde::Deserialize;
use ticketing::model::{EventId, OrderId};
use ticketing::settlement::dto::{NewAttributionLink, Split};
use uuid::Uuid;

use super::{FieldErrors, Layout, page, to_signin};
use crate::session::{Form, Session};
use crate::{chart, format};

pub struct TierLine {
    pub name: String,
    pub price: String,
    pub sold: String,
    pub refunded: i64,
    pub checked_in: i64,
    pub revenue: String,
}

pub struct SplitLine {
    pub role: String,
    pub recipient: String,
    pub percent: String,
}

pub struct LinkLine {
    pub code: String,
    pub partner: String,
    pub kind: String,
    pub share: String,
    pub url: String,
}

pub struct AttributionLine {
    pub order: String,
    pub code: String,
    pub amount: String,
    pub state: String,
    pub paid: String,
}

#[derive(Template)]
#[template(path = "sales.html")]
struct Dashboard {
    layout: Layout,
    id: String,
    title: String,
    status: String,
    totals: Vec<(&'static str, String)>,
    chart: String,
    tiers: Vec<TierLine>,
    splits: Vec<SplitLine>,
    splits_frozen: Option<String>,
    splits_default: bool,
    /// Five rows for the splits form: the current splits, then empty ones.
    split_rows: Vec<SplitLine>,
    links: Vec<LinkLine>,
    attributions: Vec<AttributionLine>,
    settled: Option<String>,
    errors: FieldErrors,
}

/// `@username`, `org:slug` or `platform`, as the splits form shows a recipient.
async fn recipient_name(ctx: &AppContext, split: &Split) -> Result<String, ApiError> {
    let Some(id) = split.recipient_id else { return Ok("platform".into()) };
    let mut conn = ctx.db.acquire().await?;
    Ok(match split.recipient_type.as_str() {
        "organization" => identity::service::org_slug(&mut conn, id)
            .await?
            .map_or_else(|| id.to_string(), |slug| format!("org:{slug}")),
        _ => identity::service::username_of(&mut conn, id).await?.unwrap_or_else(|| id.to_string()),
    })
}

fn percent(bps: i64) -> String {
    if bps % 100 == 0 { (bps / 100).to_string() } else { format!("{:.2}", bps as f64 / 100.0) }
}

async fn dashboard_page(
    ctx: &AppContext,
    session: &Session,
    id: EventId,
    errors: FieldErrors,
) -> Result<Dashboard, ApiError> {
    use ticketing::settlement::service as settlement;
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such event."))?;
    let report = settlement::sales(ctx, principal, id).await?;
    let event = ticketing::events::service::get(ctx, Some(principal), id).await?;
    let splits = settlement::splits(ctx, principal, id).await?;
    let attributions = settlement::attribution_list(ctx, principal, id).await?;
    let money = |minor: i64| format::money(minor, &report.currency);
    let capacity: i64 = report.tiers.iter().map(|t| i64::from(t.quantity)).sum();
    let totals = vec![
        ("Tickets sold", format!("{} of {capacity}", report.sold)),
        ("Checked in", report.checked_in.to_string()),
        ("Gross", money(report.gross)),
        ("Refunded", money(report.refunds)),
        ("Net", money(report.net)),
        ("In escrow", money(report.escrow)),
    ];
    // Tickets sold to date, day by day.
    let mut running = 0;
    let cumulative: Vec<i64> = report
        .days
        .iter()
        .map(|d| {
            running += d.tickets;
            running
        })
        .collect();
    let chart = match (report.days.first(), report.days.last()) {
        (Some(first), Some(last)) if cumulative.len() >= 2 => chart::line(
            &cumulative,
            640,
            160,
            &format!("Tickets sold to date, from {} on {} to {} on {}", cumulative[0], first.day, running, last.day),
        ),
        _ => String::new(),
    };
    let mut lines = Vec::new();
    for split in &splits.items {
        lines.push(SplitLine {
            role: split.role.clone(),
            recipient: recipient_name(ctx, split).await?,
            percent: percent(i64::from(split.bps)),
        });
    }
    let mut split_rows: Vec<SplitLine> = lines
        .iter()
        .map(|l| SplitLine { role: l.role.clone(), recipient: l.recipient.clone(), percent: l.percent.clone() })
        .collect();
    while split_rows.len() < 5 {
        split_rows.push(SplitLine { role: String::new(), recipient: String::new(), percent: String::new() });
    }
    let mut links = Vec::new();
    for l in &attributions.links {
        let partner = identity::service::username_of(&mut *ctx.db.acquire().await?, l.partner_id)
            .await?
            .unwrap_or_else(|| l.partner_id.to_string());
        links.push(LinkLine {
            code: l.code.clone(),
            partner,
            kind: l.kind.clone(),
            share: if l.share_type == "percent" {
                format!("{}% of each order", percent(l.share_value))
            } else {
                format!("{} an order", money(l.share_value))
            },
            url: format!("{}/events/{id}?ref={}", ctx.public_url.trim_end_matches('/'), l.code),
        });
    }
    Ok(Dashboard {
        layout: Layout::new(format!("{}: sales", event.title), session),
        id: id.to_string(),
        title: event.title,
        status: event.status.to_string(),
        totals,
        chart,
        tiers: report
            .tiers
            .iter()
            .map(|t| TierLine {
                name: t.name.clone(),
                price: money(t.price),
                sold: format!("{} of {}", t.sold, t.quantity),
                refunded: t.refunded,
                checked_in: t.checked_in,
                revenue: money(t.revenue),
            })
            .collect(),
        splits: lines,
        splits_frozen: splits.frozen_at.map(format::when),
        splits_default: splits.defaults,
        split_rows,
        links,
        attributions: attributions
            .attributions
            .iter()
            .map(|a| AttributionLine {
                order: a.order_id.to_string(),
                code: a.code.clone(),
                amount: money(a.order_amount),
                state: a.state.clone(),
                paid: a.amount.map(money).unwrap_or_default(),
            })
            .collect(),
        settled: report.settled_at.map(format::when),
        errors,
    })
}

pub async fn dashboard(State(ctx): State<AppContext>, session: Session, Path(id): Path<EventId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/manage/events/{id}/sales"));
    }
    match dashboard_page(&ctx, &session, id, FieldErrors::default()).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// After a change: the dashboard, or the dashboard with the errors beside the form.
async fn answer<T>(ctx: &AppContext, session: &Session, id: EventId, result: Result<T, ApiError>) -> Response {
    match result {
        Ok(_) => super::done(&format!("/manage/events/{id}/sales"), "Saved."),
        Err(err)
            if err.status().is_client_error()
                && !matches!(err.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) =>
        {
            let mut errors = FieldErrors::from_error(&err);
            if errors.is_empty() {
                errors = FieldErrors::from_pairs([("form".to_owned(), err.detail().to_owned())]);
            }
            match dashboard_page(ctx, session, id, errors).await {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(session, &other),
            }
        }
        Err(err) => super::error(session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SplitsForm {
    role: Vec<String>,
    recipient: Vec<String>,
    percent: Vec<String>,
}

/// The splits as the service takes them, from the form's rows (empty rows are skipped).
async fn splits_of(ctx: &AppContext, form: &SplitsForm) -> Result<Vec<Split>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (i, role) in form.role.iter().enumerate() {
        let recipient = form.recipient.get(i).map_or("", |r| r.trim());
        let share = form.percent.get(i).map_or("", |p| p.trim());
        if role.trim().is_empty() && recipient.is_empty() && share.is_empty() {
            continue;
        }
        let bps = share.replace(',', ".").parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p));
        let Some(bps) = bps else {
            errors.push(FieldError::new(
                format!("items[{i}].bps"),
                "out_of_range",
                "must be a percentage from 0 to 100",
            ));
            continue;
        };
        let (recipient_type, recipient_id) = if recipient == "platform" {
            ("platform", None)
        } else if let Some(slug) = recipient.strip_prefix("org:") {
            ("organization", identity::service::org_id_by_slug(&mut conn, slug).await?)
        } else {
            ("user", identity::service::user_id_by_username(&mut conn, recipient.trim_start_matches('@')).await?)
        };
        if recipient_type != "platform" && recipient_id.is_none() {
            errors.push(FieldError::new(
                format!("items[{i}].recipient_id"),
                "unknown_recipient",
                "is not a username, org:short-name or platform",
            ));
            continue;
        }
        items.push(Split {
            role: role.trim().to_owned(),
            recipient_type: recipient_type.into(),
            recipient_id,
            bps: (bps * 100.0).round() as i32,
        });
    }
    if errors.is_empty() { Ok(items) } else { Err(ApiError::validation(errors)) }
}

pub async fn save_splits(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<EventId>,
    body: axum::body::Bytes,
) -> Response {
    // Repeated fields (one per row) need the ordered pairs, so the body is read here; its token is
    // checked exactly as `session::Form` does.
    let Some(principal) = &session.principal else { return to_signin(&format!("/manage/events/{id}/sales")) };
    let Some(form) = crate::session::repeated_form::<SplitsForm>(&session, &body, &["role", "recipient", "percent"])
    else {
        return super::forbidden_form();
    };
    let result = match splits_of(&ctx, &form).await {
        Ok(items) => ticketing::settlement::service::set_splits(&ctx, principal, id, items).await,
        Err(err) => Err(err),
    };
    answer(&ctx, &session, id, result).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    partner: String,
    kind: String,
    share_type: String,
    share: String,
    code: String,
}

pub async fn add_link(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<EventId>,
    Form(form): Form<LinkForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/manage/events/{id}/sales")) };
    let result = async {
        let partner = identity::service::user_id_by_username(
            &mut *ctx.db.acquire().await?,
            form.partner.trim().trim_start_matches('@'),
        )
        .await?
        .ok_or_else(|| ApiError::invalid_field("partner_id", "unknown_user", "is not a username on Backline"))?;
        let share = form.share.trim().replace(',', ".");
        let share_value = if form.share_type == "fixed" {
            format::parse_money(&share, "EUR")
        } else {
            share.parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p)).map(|p| (p * 100.0).round() as i64)
        }
        .ok_or_else(|| ApiError::invalid_field("share_value", "invalid_format", "must be a percentage or an amount"))?;
        let request = NewAttributionLink {
            partner_id: partner,
            kind: form.kind.clone(),
            share_type: form.share_type.clone(),
            share_value,
            code: Some(form.code.trim().to_owned()).filter(|c| !c.is_empty()),
        };
        ticketing::settlement::service::add_link(&ctx, principal, id, request).await
    }
    .await;
    answer(&ctx, &session, id, result).await
}

#[derive(Deserialize, Default)]
pub struct Empty {}

/// Approves or rejects an order's attribution (before settlement pays it).
pub async fn decide(
    State(ctx): State<AppContext>,
    session: Session,
    Path((order, decision)): Path<(Uuid, String)>,
    Form(_): Form<Empty>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/manage/events") };
    let order = OrderId(order);
    match ticketing::settlement::service::decide(&ctx, principal, order, &decision).await {
        Ok(_) => match ticketing::settlement::service::event_of_attribution(&ctx, order).await {
            Ok(Some(event)) => Redirect::to(&format!("/manage/events/{event}/sales")).into_response(),
            _ => Redirect::to("/manage/events").into_response(),
        },
        Err(err) => super::error(&session, &err),
    }
}
