//! Royalties in the web app: a label's page (its sales reports with their progress, an upload, closing a
//! month, its statements and a chart of its streams), a report's page (progress while it is read, the
//! proof, the unmatched queue that staff resolve), a statement with its CSV and PDF, and an artist's
//! own royalties.

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::{ApiError, AppContext};
use royalties::model::{ReportId, StatementId};
use serde::Deserialize;
use uuid::Uuid;

use super::{Layout, done, page, to_signin};
use crate::session::{Form, Session};
use crate::upload::{Refused, file_form, scripted_done, scripted_error};
use crate::{chart, format};

/// A report in a list.
pub struct ReportLine {
    pub id: String,
    pub message: String,
    pub store: String,
    pub period: String,
    pub status: String,
    pub percent: i64,
    pub lines: i64,
}

impl From<royalties::reports::dto::Report> for ReportLine {
    fn from(r: royalties::reports::dto::Report) -> Self {
        Self {
            id: r.id.0.to_string(),
            message: r.message_id,
            store: if r.service.is_empty() { r.sender_name } else { r.service },
            period: format!("{} – {}", r.usage_start, r.usage_end),
            status: r.status,
            percent: r.progress.percent,
            lines: r.usage_lines,
        }
    }
}

/// A statement in a list.
pub struct StatementLine {
    pub id: String,
    pub period: String,
    pub payee: String,
    pub earned: String,
    pub recouped: String,
    pub payable: String,
}

impl From<royalties::statements::dto::StatementSummary> for StatementLine {
    fn from(s: royalties::statements::dto::StatementSummary) -> Self {
        Self {
            id: s.id.0.to_string(),
            period: s.period,
            payee: s.payee_name,
            earned: format::money(s.earned, &s.currency),
            recouped: format::money(s.recouped, &s.currency),
            payable: format::money(s.payable, &s.currency),
        }
    }
}

/// An entry of a top list.
pub struct TopLine {
    pub title: String,
    pub streams: i64,
}

#[derive(Template)]
#[template(path = "royalties.html")]
struct LabelPage {
    layout: Layout,
    org: String,
    reports: Vec<ReportLine>,
    statements: Vec<StatementLine>,
    chart: String,
    top: Vec<TopLine>,
    last_month: String,
    reading: bool,
    payees: Vec<PayeeLine>,
    releases: Vec<(String, String)>,
    outstanding: Vec<OutstandingLine>,
}

/// What is still to recoup from a payee's share of a release.
pub struct OutstandingLine {
    pub payee: String,
    pub release: String,
    pub amount: String,
}

/// A payee in the label's list.
pub struct PayeeLine {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub status: String,
    pub currency: String,
}

pub async fn label(State(ctx): State<AppContext>, session: Session, Path(org): Path<Uuid>) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/labels/{org}/royalties")) };
    let reports = match royalties::reports::service::list(&ctx, principal, org, Default::default()).await {
        Ok(list) => list.items,
        Err(err) => return super::error(&session, &err),
    };
    let query = royalties::statements::dto::RoyaltyStatementQuery::default();
    let statements = royalties::statements::service::of_label(&ctx, principal, org, query).await;
    let analytics = royalties::analytics::service::label(&ctx, principal, org, Default::default()).await;
    let (statements, analytics) = match (statements, analytics) {
        (Ok(s), Ok(a)) => (s.items, a),
        (Err(err), _) | (_, Err(err)) => return super::error(&session, &err),
    };
    let payees = royalties::splits::service::payees(&ctx, principal, org).await;
    let query = catalog::releases::dto::ReleaseQuery { limit: Some(200), ..Default::default() };
    let releases = catalog::releases::service::list(&ctx, principal, org, query).await;
    let recoupables = royalties::splits::service::recoupables(&ctx, principal, org).await;
    let (payees, releases, recoupables) = match (payees, releases, recoupables) {
        (Ok(p), Ok(r), Ok(c)) => (p.items, r.items, c),
        (Err(err), _, _) | (_, Err(err), _) | (_, _, Err(err)) => return super::error(&session, &err),
    };
    let name_of = |id: Uuid| payees.iter().find(|p| p.id.0 == id).map(|p| p.name.clone()).unwrap_or_default();
    let title_of = |id: Uuid| releases.iter().find(|r| r.id.0 == id).map(|r| r.title.clone()).unwrap_or_default();
    let outstanding = recoupables
        .outstanding
        .iter()
        .map(|o| OutstandingLine {
            payee: name_of(o.payee_id.0),
            release: title_of(o.release_id),
            amount: format::money(o.outstanding, &o.currency),
        })
        .collect();
    let streams: Vec<i64> = analytics.series.iter().map(|p| p.streams).collect();
    let label = format!(
        "Streams per reported period: {}",
        analytics.series.iter().map(|p| format!("{} {}", p.day, p.streams)).collect::<Vec<_>>().join(", ")
    );
    let today = ctx.clock.now().date_naive();
    let last_month = chrono::Datelike::with_day(&today, 1)
        .and_then(|d| d.pred_opt())
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_default();
    let reading = reports.iter().any(|r| matches!(r.status.as_str(), "queued" | "reading"));
    let view = LabelPage {
        layout: Layout::new("Royalties", &session),
        org: org.to_string(),
        reports: reports.into_iter().map(ReportLine::from).collect(),
        statements: statements.into_iter().map(StatementLine::from).collect(),
        chart: chart::line(&streams, 640, 160, &label),
        top: analytics.top_tracks.into_iter().map(|t| TopLine { title: t.title, streams: t.streams }).collect(),
        last_month,
        reading,
        payees: payees
            .into_iter()
            .map(|p| PayeeLine {
                id: p.id.0.to_string(),
                name: p.name,
                kind: p.kind,
                status: p.status,
                currency: p.currency,
            })
            .collect(),
        releases: releases.into_iter().map(|r| (r.id.0.to_string(), r.title)).collect(),
        outstanding,
    };
    page(StatusCode::OK, &view)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PayeeForm {
    name: String,
    email: String,
    currency: String,
}

/// Invites a payee from the label's page.
pub async fn invite(
    State(ctx): State<AppContext>,
    session: Session,
    Path(org): Path<Uuid>,
    Form(form): Form<PayeeForm>,
) -> Response {
    let here = format!("/labels/{org}/royalties");
    let Some(principal) = &session.principal else { return to_signin(&here) };
    let currency = Some(form.currency).filter(|c| !c.trim().is_empty());
    let request = royalties::splits::dto::PayeeRequest { name: form.name, email: form.email, currency };
    match royalties::splits::service::invite(&ctx, principal, org, request).await {
        Ok(p) => done(&format!("{here}#payees"), &format!("{} is invited; they have 14 days to accept.", p.name)),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SplitForm {
    release: String,
    effective_from: String,
    payee_1: String,
    share_1: String,
    payee_2: String,
    share_2: String,
    payee_3: String,
    share_3: String,
    payee_4: String,
    share_4: String,
}

/// Sets a release's split from the label's page: up to four payees, shares in percent with two decimals.
pub async fn split(
    State(ctx): State<AppContext>,
    session: Session,
    Path(org): Path<Uuid>,
    Form(form): Form<SplitForm>,
) -> Response {
    let here = format!("/labels/{org}/royalties");
    let Some(principal) = &session.principal else { return to_signin(&here) };
    let invalid =
        |field: &str, why: &str| super::error(&session, &ApiError::invalid_field(field, "invalid_format", why));
    let Ok(release) = form.release.parse::<Uuid>() else { return invalid("release", "choose a release") };
    let Ok(from) = chrono::NaiveDate::parse_from_str(form.effective_from.trim(), "%Y-%m-%d") else {
        return invalid("effective_from", "must be a date");
    };
    let mut shares = Vec::new();
    for (i, (payee, share)) in [
        (&form.payee_1, &form.share_1),
        (&form.payee_2, &form.share_2),
        (&form.payee_3, &form.share_3),
        (&form.payee_4, &form.share_4),
    ]
    .into_iter()
    .enumerate()
    {
        if payee.trim().is_empty() {
            continue;
        }
        let (Ok(id), Some(bp)) = (payee.parse::<Uuid>(), super::catalog::basis_points(share)) else {
            return invalid(&format!("share_{}", i + 1), "must be a percentage with at most two decimals");
        };
        shares.push(royalties::splits::dto::ShareRequest { payee_id: royalties::model::PayeeId(id), share_bp: bp });
    }
    let request = royalties::splits::dto::SplitRequest { effective_from: from, shares, reason: String::new() };
    let subject = royalties::splits::repo::Subject::Release(release);
    match royalties::splits::service::set_split(&ctx, principal, subject, request).await {
        Ok(_) => done(&format!("{here}#splits"), "The split is saved from that date on."),
        Err(err) => super::error(&session, &err),
    }
}

/// A report file sent from the label's page: streamed to the same service the API uses.
pub async fn upload(
    State(ctx): State<AppContext>,
    session: Session,
    Path(org): Path<Uuid>,
    request: Request,
) -> Response {
    let here = format!("/labels/{org}/royalties");
    let Some(principal) = session.principal.clone() else { return to_signin(&here) };
    let scripted = request.headers().get("x-upload").is_some_and(|v| v == "progress");
    let form = match file_form(&session, request).await {
        Ok(form) => form,
        Err(Refused::Forbidden) => return super::forbidden_form(),
        Err(Refused::NoFile(why)) => {
            let err = ApiError::invalid_field("file", "required", why);
            return if scripted { scripted_error(&err) } else { super::error(&session, &err) };
        }
    };
    let query =
        royalties::reports::dto::UploadQuery { label_id: Some(org), filename: form.file_name, ..Default::default() };
    match (form.scripted, royalties::reports::service::upload(&ctx, &principal, query, form.body).await) {
        (true, Ok(r)) => {
            scripted_done(&format!("/royalty-reports/{}", r.id.0), "The report is received; it is being read.")
        }
        (false, Ok(r)) => done(&format!("/royalty-reports/{}", r.id.0), "The report is received; it is being read."),
        (true, Err(err)) => scripted_error(&err),
        (false, Err(err)) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CloseForm {
    period: String,
}

pub async fn close(
    State(ctx): State<AppContext>,
    session: Session,
    Path(org): Path<Uuid>,
    Form(form): Form<CloseForm>,
) -> Response {
    let here = format!("/labels/{org}/royalties");
    let Some(principal) = &session.principal else { return to_signin(&here) };
    let request = royalties::statements::dto::CloseRequest { period: form.period };
    match royalties::statements::service::close(&ctx, principal, org, request).await {
        Ok(closed) => done(
            &here,
            &format!(
                "{} is closed: {} statements, posted to the wallets.",
                closed.period.period,
                closed.statements.len()
            ),
        ),
        Err(err) => super::error(&session, &err),
    }
}

/// A line of a report's proof.
pub struct ProofLine {
    pub currency: String,
    pub what: String,
    pub amount: String,
}

/// An unmatched key of a report.
pub struct UnmatchedLine {
    pub key: String,
    pub title: String,
    pub artist: String,
    pub usages: i64,
    pub revenue: String,
}

#[derive(Template)]
#[template(path = "royalty_report.html")]
struct ReportPage {
    layout: Layout,
    report: ReportLine,
    label: String,
    reading: bool,
    errors: Vec<String>,
    proof: Vec<ProofLine>,
    exact: bool,
    unmatched: Vec<UnmatchedLine>,
    staff: bool,
}

pub async fn report(State(ctx): State<AppContext>, session: Session, Path(id): Path<ReportId>) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/royalty-reports/{}", id.0)) };
    let r = match royalties::reports::service::get(&ctx, principal, id).await {
        Ok(r) => r,
        Err(err) => return super::error(&session, &err),
    };
    let loaded = r.status == "loaded";
    let (proof, exact, unmatched) = if loaded {
        let proof = royalties::statements::service::proof(&ctx, principal, id).await;
        let unmatched = royalties::reports::service::unmatched(&ctx, principal, id).await;
        match (proof, unmatched) {
            (Ok(p), Ok(u)) => {
                let mut lines = Vec::new();
                for c in p.currencies {
                    let cur = c.currency.clone();
                    let mut push = |what: String, amount: String| {
                        lines.push(ProofLine { currency: cur.clone(), what, amount });
                    };
                    push("Net revenue of the report".into(), c.total);
                    push("Unmatched".into(), c.unmatched);
                    push("Distribution fee".into(), c.fee);
                    for payee in c.payees {
                        push(format!("{} ({})", payee.name, payee.kind), payee.amount);
                    }
                    push("Difference".into(), c.difference);
                }
                let unmatched = u
                    .items
                    .into_iter()
                    .map(|x| UnmatchedLine {
                        key: x.match_key.unwrap_or_default(),
                        title: x.title,
                        artist: x.artist,
                        usages: x.usages,
                        revenue: x.revenue,
                    })
                    .collect();
                (lines, p.exact, unmatched)
            }
            (Err(err), _) | (_, Err(err)) => return super::error(&session, &err),
        }
    } else {
        (Vec::new(), false, Vec::new())
    };
    let errors = r
        .errors
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| {
                    let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                    format!("file {} line {}: {} {}", e["file"], e["line"], text("cell"), text("reason"))
                })
                .collect()
        })
        .unwrap_or_default();
    let reading = matches!(r.status.as_str(), "receiving" | "queued" | "reading");
    let label = r.label_id.to_string();
    let view = ReportPage {
        layout: Layout::new(format!("Sales report {}", r.message_id), &session),
        report: ReportLine::from(r),
        label,
        reading,
        errors,
        proof,
        exact,
        unmatched,
        staff: principal.has_role("admin") || principal.has_role("staff"),
    };
    page(StatusCode::OK, &view)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MatchForm {
    match_key: String,
    track_id: String,
}

pub async fn match_key(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReportId>,
    Form(form): Form<MatchForm>,
) -> Response {
    let here = format!("/royalty-reports/{}", id.0);
    let Some(principal) = &session.principal else { return to_signin(&here) };
    let Ok(track) = form.track_id.trim().parse::<Uuid>() else {
        let err = ApiError::invalid_field("track_id", "invalid_format", "is not a track id");
        return super::error(&session, &err);
    };
    let request =
        royalties::reports::dto::MatchRequest { match_key: form.match_key, track_id: catalog::model::TrackId(track) };
    match royalties::reports::service::resolve(&ctx, principal, id, request).await {
        Ok(_) => done(&here, "The lines are matched to the track."),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Template)]
#[template(path = "my_royalties.html")]
struct MinePage {
    layout: Layout,
    statements: Vec<StatementLine>,
    chart: String,
    top: Vec<TopLine>,
}

pub async fn mine(State(ctx): State<AppContext>, session: Session) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/royalties") };
    let statements = royalties::statements::service::mine(&ctx, principal).await;
    let analytics = royalties::analytics::service::mine(&ctx, principal).await;
    let (statements, analytics) = match (statements, analytics) {
        (Ok(s), Ok(a)) => (s.items, a),
        (Err(err), _) | (_, Err(err)) => return super::error(&session, &err),
    };
    let earned: Vec<i64> = analytics.series.iter().map(|p| p.earned).collect();
    let label = format!(
        "Royalties earned per month: {}",
        analytics
            .series
            .iter()
            .map(|p| format!("{} {}", p.period, format::money(p.earned, &p.currency)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let view = MinePage {
        layout: Layout::new("My royalties", &session),
        statements: statements.into_iter().map(StatementLine::from).collect(),
        chart: chart::line(&earned, 640, 160, &label),
        top: analytics.top_tracks.into_iter().map(|t| TopLine { title: t.title, streams: t.streams }).collect(),
    };
    page(StatusCode::OK, &view)
}

/// A line of a statement's page.
pub struct Line {
    pub title: String,
    pub store: String,
    pub territory: String,
    pub use_type: String,
    pub usages: i64,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "royalty_statement.html")]
struct StatementPage {
    layout: Layout,
    id: String,
    period: String,
    payee: String,
    opening: String,
    earned: String,
    recouped: String,
    payable: String,
    closing: String,
    lines: Vec<Line>,
}

pub async fn statement(State(ctx): State<AppContext>, session: Session, Path(id): Path<StatementId>) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/royalty-statements/{}", id.0)) };
    let s = match royalties::statements::service::get(&ctx, principal, id).await {
        Ok(s) => s,
        Err(err) => return super::error(&session, &err),
    };
    let cur = s.summary.currency.clone();
    let money = |minor: i64| format::money(minor, &cur);
    let view = StatementPage {
        layout: Layout::new(format!("Royalty statement {}", s.summary.period), &session),
        id: id.0.to_string(),
        period: s.summary.period.clone(),
        payee: s.summary.payee_name.clone(),
        opening: money(s.summary.opening_balance),
        earned: money(s.summary.earned),
        recouped: money(s.summary.recouped),
        payable: money(s.summary.payable),
        closing: money(s.summary.closing_balance),
        lines: s
            .lines
            .iter()
            .map(|l| Line {
                title: l.title.clone(),
                store: l.store.clone(),
                territory: l.territory.clone(),
                use_type: l.use_type.clone(),
                usages: l.usages,
                amount: money(l.amount),
            })
            .collect(),
    };
    page(StatusCode::OK, &view)
}

/// A statement as a file: `csv` or `pdf`.
pub async fn download(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, format)): Path<(StatementId, String)>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/royalty-statements/{}", id.0)) };
    let s = match royalties::statements::service::get(&ctx, principal, id).await {
        Ok(s) => s,
        Err(err) => return super::error(&session, &err),
    };
    let (body, media) = match format.as_str() {
        "csv" => (royalties::statements::service::csv(&s).into_bytes(), "text/csv; charset=utf-8"),
        "pdf" => (platform::pdf::text(&royalties::statements::service::text(&s)), "application/pdf"),
        _ => return super::error(&session, &ApiError::not_found("No such format.")),
    };
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"royalty-statement-{}-{}.{format}\"",
        s.summary.period, id.0
    )) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RecoupableForm {
    payee: String,
    release: String,
    kind: String,
    amount: String,
    memo: String,
}

/// Records an advance or an expense from the label's page, its amount in the payee's currency.
pub async fn recoupable(
    State(ctx): State<AppContext>,
    session: Session,
    Path(org): Path<Uuid>,
    Form(form): Form<RecoupableForm>,
) -> Response {
    let here = format!("/labels/{org}/royalties");
    let Some(principal) = &session.principal else { return to_signin(&here) };
    let invalid =
        |field: &str, why: &str| super::error(&session, &ApiError::invalid_field(field, "invalid_format", why));
    let (Ok(payee), Ok(release)) = (form.payee.parse::<Uuid>(), form.release.parse::<Uuid>()) else {
        return invalid("payee_id", "choose a payee and a release");
    };
    let payees = match royalties::splits::service::payees(&ctx, principal, org).await {
        Ok(list) => list.items,
        Err(err) => return super::error(&session, &err),
    };
    let Some(currency) = payees.iter().find(|p| p.id.0 == payee).map(|p| p.currency.clone()) else {
        return invalid("payee_id", "is not a payee of the label");
    };
    let Some(amount) = format::parse_money(&form.amount, &currency) else {
        return invalid("amount", "must be an amount such as 250.00");
    };
    let request = royalties::splits::dto::RecoupableRequest {
        payee_id: royalties::model::PayeeId(payee),
        release_id: release,
        kind: form.kind,
        amount,
        memo: form.memo,
    };
    match royalties::splits::service::add_recoupable(&ctx, principal, org, request).await {
        Ok(r) => done(
            &format!("{here}#recoupment"),
            &format!("{} is recorded, to recoup.", format::money(r.amount, &r.currency)),
        ),
        Err(err) => super::error(&session, &err),
    }
}
