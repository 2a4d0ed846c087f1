//! Payees, splits and recoupables. A label's staff invite payees, set splits on their recordings and
//! releases, and record advances and expenses; a split never reaches into a closed month, so what was
//! paid is never rewritten. An invitation not accepted within 14 days expires by a timer: the payee's
//! shares go back to the label from that day, in a new split (the old one kept).

use chrono::Duration;
use identity::auth::Principal;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::mail::{self, Message};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use uuid::Uuid;

use super::dto::{
    AcceptRequest, Outstanding, Payee, PayeeChange, PayeeList, PayeeRequest, Recoupable, RecoupableList,
    RecoupableRequest, RoyaltySplit, Share, SplitHistory, SplitRequest,
};
use super::repo::{self, PayeeRow, Subject};
use crate::error::{RoyaltiesCode, RoyaltiesError};
use crate::model::{PayeeId, PayeeKind, PayeeStatus, RecoupableId, RecoupableKind};
use crate::reports::service::may_manage;

/// How long an invited payee has to accept.
pub const INVITATION_TTL: Duration = Duration::days(14);

/// The currency of the label's own statements and of payees who choose none.
pub const LABEL_CURRENCY: &str = "EUR";

/// Expires an invitation not accepted in time.
pub const EXPIRE: JobKind = JobKind::new("royalties.expire_invitation").max_attempts(10);

pub fn register(registry: &mut Registry) {
    registry.register(EXPIRE, |ctx: AppContext, job: Job| async move { expire(ctx, job.field("payee_id")?).await });
}

/// The label's own payee (made the first time it is needed).
pub async fn label_payee(
    conn: &mut sqlx::PgConnection,
    org: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<PayeeId> {
    let name = identity::service::org_slug(conn, org).await?.unwrap_or_else(|| "label".into());
    repo::label_payee(conn, org, &name, LABEL_CURRENCY, now).await
}

/// The ids of the organization and the labels above it.
async fn lineage(conn: &mut sqlx::PgConnection, org: Uuid) -> Result<Vec<Uuid>, ApiError> {
    let rows = identity::organizations::service::lineage(conn, identity::model::OrgId(org))
        .await
        .map_err(RoyaltiesError::from)?;
    Ok(rows.into_iter().map(|o| o.id.0).collect())
}

pub async fn payees(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<PayeeList, ApiError> {
    may_manage(ctx, principal, org).await?;
    let mut conn = ctx.db.acquire().await?;
    label_payee(&mut conn, org, ctx.clock.now()).await.map_err(RoyaltiesError::from)?;
    let rows = repo::payees(&mut conn, org).await.map_err(RoyaltiesError::from)?;
    Ok(PayeeList { items: rows.into_iter().map(Payee::from).collect() })
}

/// Changes the currency a payee (the label itself included) is paid in from the next closed month on;
/// refused while advances or expenses in another currency are recorded for them.
pub async fn change_payee(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    id: PayeeId,
    req: PayeeChange,
) -> Result<Payee, ApiError> {
    may_manage(ctx, principal, org).await?;
    let currency =
        crate::terms::service::currency("currency", &req.currency).map_err(|e| ApiError::validation(vec![e]))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if repo::lock_payee(&mut tx, id).await.map_err(RoyaltiesError::from)? != Some(org) {
        return Err(RoyaltiesError::NotFound("payee").into());
    }
    if repo::recoupables_in_other_currency(&mut tx, id, &currency).await.map_err(RoyaltiesError::from)? {
        return Err(ApiError::invalid_field(
            "currency",
            "locked",
            "advances or expenses are recorded for this payee in their present currency",
        ));
    }
    repo::set_currency(&mut tx, id, &currency).await.map_err(RoyaltiesError::from)?;
    platform::audit::Entry::new(principal.actor(), "royalties.payee_change", "royalty_payee", id.0)
        .organization(org)
        .after(json!({"currency": currency}))
        .record(&mut tx, now)
        .await?;
    let row = repo::payee(&mut tx, id).await.map_err(RoyaltiesError::from)?.ok_or(RoyaltiesError::NotFound("payee"))?;
    tx.commit().await?;
    Ok(Payee::from(row))
}

pub async fn invite(ctx: &AppContext, principal: &Principal, org: Uuid, req: PayeeRequest) -> Result<Payee, ApiError> {
    may_manage(ctx, principal, org).await?;
    let mut errors = Vec::new();
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("name", "invalid_length", "must be 1 to 200 characters"));
    }
    let email = identity::model::Email::parse("email", &req.email).map_err(|e| errors.push(e)).ok();
    let currency = crate::terms::service::currency("currency", req.currency.as_deref().unwrap_or(LABEL_CURRENCY))
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let now = ctx.clock.now();
    let (token, hash) = identity::tokens::generate(identity::tokens::Kind::Email);
    let row = PayeeRow {
        id: PayeeId::new(),
        org_id: org,
        kind: PayeeKind::Person,
        name,
        email: Some(email.as_str().to_owned()),
        user_id: None,
        currency,
        status: PayeeStatus::Invited,
        invited_at: Some(now),
        expires_at: Some(now + INVITATION_TTL),
        accepted_at: None,
        created_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    let label = identity::service::org_slug(&mut tx, org).await?.unwrap_or_default();
    repo::invite(&mut tx, &row, &hash).await.map_err(RoyaltiesError::from)?;
    let body_text = format!(
        "{label} will pay you a share of royalties on Backline, as {}.\n\nAccept within 14 days (sign in or register \
         with this address first):\n{}/royalties/invitations/accept?token={token}\n\nToken: {token}\n\n\
         If you do not accept, your share goes back to the label.\n",
        row.name, ctx.public_url
    );
    let message = Message {
        to: email.as_str().to_owned(),
        subject: format!("Royalties from {label}"),
        body_text,
        body_html: None,
    };
    mail::enqueue(&mut tx, &message, now).await?;
    let expires = row.expires_at.unwrap_or(now);
    jobs::enqueue(&mut tx, NewJob::new(EXPIRE, json!({"payee_id": row.id})).at(expires), now).await?;
    platform::audit::Entry::new(principal.actor(), "royalties.payee_invite", "royalty_payee", row.id.0)
        .organization(org)
        .after(json!({"name": row.name, "email": row.email, "currency": row.currency}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(Payee::from(row))
}

/// The invited person accepts, signed in with the address the invitation went to.
pub async fn accept_invitation(ctx: &AppContext, principal: &Principal, req: AcceptRequest) -> Result<Payee, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let hash = identity::tokens::hash(req.token.trim());
    let row = repo::payee_by_token(&mut tx, &hash)
        .await
        .map_err(RoyaltiesError::from)?
        .ok_or(RoyaltiesError::NotFound("invitation"))?;
    let mine = identity::service::active_user_email(&mut tx, principal.user_id).await?;
    let unusable = row.status != PayeeStatus::Invited
        || row.expires_at.is_none_or(|at| at <= now)
        || !mine.zip(row.email.as_ref()).is_some_and(|(m, e)| m.eq_ignore_ascii_case(e));
    if unusable {
        return Err(ApiError::new(
            RoyaltiesCode::InvitationUnusable,
            "The invitation has expired, was used, or was sent to another email address than your account's.",
        ));
    }
    repo::accept_invitation(&mut tx, row.id, principal.user_id.0, now).await.map_err(RoyaltiesError::from)?;
    platform::audit::Entry::new(principal.actor(), "royalties.payee_accept", "royalty_payee", row.id.0)
        .organization(row.org_id)
        .record(&mut tx, now)
        .await?;
    let row =
        repo::payee(&mut tx, row.id).await.map_err(RoyaltiesError::from)?.ok_or(RoyaltiesError::NotFound("payee"))?;
    tx.commit().await?;
    Ok(Payee::from(row))
}

/// The timer: an invitation still open at its expiry ends; each split that gives the payee a share gets a
/// successor from today in which the label holds that share.
async fn expire(ctx: AppContext, payee: PayeeId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if !repo::expire(&mut tx, payee, now).await? {
        return Ok(());
    }
    for (org, track, release, split) in repo::latest_splits_with(&mut tx, payee).await? {
        let label = label_payee(&mut tx, org, now).await?;
        let mut shares: Vec<(Uuid, i32)> = Vec::new();
        for share in repo::shares(&mut tx, &[split.0]).await? {
            let to = if share.payee_id == payee { label } else { share.payee_id };
            match shares.iter_mut().find(|(p, _)| *p == to.0) {
                Some(existing) => existing.1 += share.share_bp,
                None => shares.push((to.0, share.share_bp)),
            }
        }
        let subject = match (track, release) {
            (Some(t), _) => Subject::Track(t),
            (None, Some(r)) => Subject::Release(r),
            (None, None) => continue,
        };
        let (payees, bps): (Vec<Uuid>, Vec<i32>) = shares.into_iter().unzip();
        let reason = "the invitation expired: the share went back to the label";
        repo::put_split(&mut tx, org, subject, now.date_naive(), reason, &payees, &bps, None, now).await?;
    }
    platform::audit::Entry::new(
        platform::audit::Actor { user_id: None, api_key_id: None },
        "royalties.payee_expire",
        "royalty_payee",
        payee.0,
    )
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    tracing::info!(payee = %payee.0, "a royalty payee's invitation expired");
    Ok(())
}

/// The subject's label, once the caller is known to manage it.
async fn subject_label(ctx: &AppContext, principal: &Principal, subject: Subject) -> Result<Uuid, ApiError> {
    let org = match subject {
        Subject::Track(t) => catalog::tracks::service::get(ctx, principal, catalog::model::TrackId(t)).await?.label_id,
        Subject::Release(r) => {
            catalog::releases::service::get(ctx, principal, catalog::model::ReleaseId(r)).await?.label_id
        }
    };
    may_manage(ctx, principal, org).await?;
    Ok(org)
}

pub async fn splits(ctx: &AppContext, principal: &Principal, subject: Subject) -> Result<SplitHistory, ApiError> {
    subject_label(ctx, principal, subject).await?;
    let mut conn = ctx.db.acquire().await?;
    history(&mut conn, subject).await
}

async fn history(conn: &mut sqlx::PgConnection, subject: Subject) -> Result<SplitHistory, ApiError> {
    let rows = repo::splits(conn, subject).await.map_err(RoyaltiesError::from)?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id.0).collect();
    let mut shares = repo::shares(conn, &ids).await.map_err(RoyaltiesError::from)?;
    let items = rows
        .into_iter()
        .map(|r| {
            let mine = shares.extract_if(.., |s| s.split_id == r.id).map(Share::from).collect();
            RoyaltySplit::new(r, mine)
        })
        .collect();
    Ok(SplitHistory { items })
}

/// Checks a split's shares: each 1 to 10,000 basis points, each payee once, summing to exactly 10,000.
pub fn check_shares(req: &SplitRequest) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if req.shares.is_empty() {
        errors.push(FieldError::new("shares", "too_few", "name at least one payee"));
    }
    for (i, share) in req.shares.iter().enumerate() {
        if !(1..=10_000).contains(&share.share_bp) {
            errors.push(FieldError::new(format!("shares[{i}].share_bp"), "out_of_range", "must be 1 to 10000"));
        }
        if req.shares[..i].iter().any(|s| s.payee_id == share.payee_id) {
            errors.push(FieldError::new(format!("shares[{i}].payee_id"), "taken", "is named twice"));
        }
    }
    let sum: i64 = req.shares.iter().map(|s| i64::from(s.share_bp)).sum();
    if !req.shares.is_empty() && sum != 10_000 {
        errors.push(FieldError::new(
            "shares",
            "sum_not_whole",
            format!("sum to {sum} basis points; they must sum to exactly 10000"),
        ));
    }
    if req.reason.chars().count() > 500 {
        errors.push(FieldError::new("reason", "too_long", "must be at most 500 characters"));
    }
    errors
}

pub async fn set_split(
    ctx: &AppContext,
    principal: &Principal,
    subject: Subject,
    req: SplitRequest,
) -> Result<SplitHistory, ApiError> {
    let org = subject_label(ctx, principal, subject).await?;
    let errors = check_shares(&req);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let lineage = lineage(&mut tx, org).await?;
    for (i, share) in req.shares.iter().enumerate() {
        let payee = repo::payee(&mut tx, share.payee_id).await.map_err(RoyaltiesError::from)?;
        match payee {
            Some(p) if lineage.contains(&p.org_id) && p.status != PayeeStatus::Expired => {}
            Some(p) if p.status == PayeeStatus::Expired => {
                return Err(ApiError::invalid_field(
                    format!("shares[{i}].payee_id"),
                    "invalid_value",
                    "the payee's invitation expired; invite them again",
                ));
            }
            _ => {
                return Err(ApiError::invalid_field(
                    format!("shares[{i}].payee_id"),
                    "not_found",
                    "is not a payee of the label",
                ));
            }
        }
    }
    if let Some(closed) = crate::terms::repo::last_closed(&mut tx, &lineage).await.map_err(RoyaltiesError::from)?
        && req.effective_from.format("%Y-%m").to_string() <= closed
    {
        return Err(ApiError::invalid_field(
            "effective_from",
            "locked",
            format!("falls in or before {closed}, a closed period; paid periods are never rewritten"),
        ));
    }
    let payees: Vec<Uuid> = req.shares.iter().map(|s| s.payee_id.0).collect();
    let bps: Vec<i32> = req.shares.iter().map(|s| s.share_bp).collect();
    let reason = req.reason.trim();
    let split = repo::put_split(
        &mut tx,
        org,
        subject,
        req.effective_from,
        reason,
        &payees,
        &bps,
        Some(principal.user_id.0),
        now,
    )
    .await
    .map_err(RoyaltiesError::from)?;
    platform::audit::Entry::new(principal.actor(), "royalties.split_set", "royalty_split", split.0)
        .organization(org)
        .after(json!({"effective_from": req.effective_from, "shares": payees.iter().zip(&bps)
            .map(|(p, b)| json!({"payee_id": p, "share_bp": b})).collect::<Vec<_>>(), "reason": reason}))
        .record(&mut tx, now)
        .await?;
    let answer = history(&mut tx, subject).await?;
    tx.commit().await?;
    Ok(answer)
}

pub async fn add_recoupable(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    req: RecoupableRequest,
) -> Result<Recoupable, ApiError> {
    may_manage(ctx, principal, org).await?;
    let mut errors = Vec::new();
    let kind = RecoupableKind::parse(&req.kind);
    if kind.is_none() {
        errors.push(FieldError::new("kind", "invalid_value", "must be advance or expense"));
    }
    if req.amount <= 0 {
        errors.push(FieldError::new("amount", "out_of_range", "must be above zero (minor units)"));
    }
    if req.memo.chars().count() > 500 {
        errors.push(FieldError::new("memo", "too_long", "must be at most 500 characters"));
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let release = catalog::releases::service::get(ctx, principal, catalog::model::ReleaseId(req.release_id))
        .await
        .map_err(|_| ApiError::invalid_field("release_id", "not_found", "is not a release of the label"))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if !lineage(&mut tx, release.label_id).await?.contains(&org) {
        return Err(ApiError::invalid_field("release_id", "not_found", "is not a release of the label"));
    }
    let payee = repo::payee(&mut tx, req.payee_id)
        .await
        .map_err(RoyaltiesError::from)?
        .filter(|p| p.org_id == org)
        .ok_or_else(|| ApiError::invalid_field("payee_id", "not_found", "is not a payee of the label"))?;
    let id = RecoupableId::new();
    let memo = req.memo.trim();
    repo::add_recoupable(
        &mut tx,
        id,
        org,
        payee.id,
        req.release_id,
        kind,
        req.amount,
        &payee.currency,
        memo,
        principal.user_id.0,
        now,
    )
    .await
    .map_err(RoyaltiesError::from)?;
    platform::audit::Entry::new(principal.actor(), "royalties.recoupable_add", "royalty_recoupable", id.0)
        .organization(org)
        .after(json!({"payee_id": payee.id, "release_id": req.release_id, "kind": kind.as_str(),
                      "amount": req.amount, "currency": payee.currency}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(Recoupable {
        id,
        payee_id: payee.id,
        payee_name: payee.name,
        release_id: req.release_id,
        kind: kind.as_str().into(),
        amount: req.amount,
        currency: payee.currency,
        memo: memo.into(),
        recorded_at: now,
    })
}

pub async fn recoupables(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<RecoupableList, ApiError> {
    may_manage(ctx, principal, org).await?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::recoupables(&mut conn, org).await.map_err(RoyaltiesError::from)?;
    let payees: Vec<Uuid> =
        repo::payees(&mut conn, org).await.map_err(RoyaltiesError::from)?.iter().map(|p| p.id.0).collect();
    let outstanding = repo::outstanding(&mut conn, &payees).await.map_err(RoyaltiesError::from)?;
    Ok(RecoupableList {
        items: rows.into_iter().map(Recoupable::from).collect(),
        outstanding: outstanding.into_iter().map(Outstanding::from).collect(),
    })
}
