//! Entering exchange rates and setting deals: staff only. A rate must be exact (text, not a float); a
//! deal's term may not start in a month already closed.

use identity::auth::Principal;
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use uuid::Uuid;

use super::dto::{Deal, DealRequest, DealTerm, ExchangeRate, RateImport, RateList, RateQuery, RateRequest};
use super::repo;
use crate::error::RoyaltiesError;

/// The platform's fee when a label has no deal: 15% of net revenue.
pub const DEFAULT_FEE_BP: i32 = 1_500;

/// The rates a list answers at most.
const MAX_RATES: i64 = 1_000;

fn require_staff(principal: &Principal, what: &str) -> Result<(), ApiError> {
    if principal.has_role("admin") || principal.has_role("staff") {
        Ok(())
    } else {
        Err(identity::error::IdentityError::Forbidden(what.into()).into())
    }
}

/// A currency Backline settles in (ISO 4217, any case), as its code; the error names `field`.
pub(crate) fn currency(field: &str, raw: &str) -> Result<String, FieldError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && ledger::model::Currency::parse(&code).is_some() {
        Ok(code)
    } else {
        Err(FieldError::new(field, "invalid_format", "is not a currency Backline settles in (ISO 4217)"))
    }
}

/// A rate as exact text: a positive decimal with at most 10 places.
fn rate(field: &str, raw: &str) -> Result<String, FieldError> {
    let text = raw.trim();
    match crate::allocation::units(text) {
        Some(units) if units > 0 => Ok(text.to_owned()),
        Some(_) => Err(FieldError::new(field, "out_of_range", "must be above zero")),
        None => Err(FieldError::new(field, "invalid_format", "must be a decimal such as 0.9231 (at most 10 places)")),
    }
}

struct Checked {
    day: chrono::NaiveDate,
    base: String,
    quote: String,
    rate: String,
}

fn check(prefix: &str, req: &RateRequest) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let base = currency(&format!("{prefix}base"), &req.base).map_err(|e| errors.push(e)).ok();
    let quote = currency(&format!("{prefix}quote"), &req.quote).map_err(|e| errors.push(e)).ok();
    let rate = rate(&format!("{prefix}rate"), &req.rate).map_err(|e| errors.push(e)).ok();
    if let (Some(b), Some(q)) = (&base, &quote)
        && b == q
    {
        errors.push(FieldError::new(format!("{prefix}quote"), "invalid_value", "must differ from base"));
    }
    match (base, quote, rate) {
        (Some(base), Some(quote), Some(rate)) if errors.is_empty() => Ok(Checked { day: req.day, base, quote, rate }),
        _ => Err(errors),
    }
}

async fn enter(ctx: &AppContext, principal: &Principal, rates: Vec<Checked>, how: &str) -> Result<u64, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let n = repo::upsert_rates(
        &mut tx,
        &rates.iter().map(|r| r.day).collect::<Vec<_>>(),
        &rates.iter().map(|r| r.base.clone()).collect::<Vec<_>>(),
        &rates.iter().map(|r| r.quote.clone()).collect::<Vec<_>>(),
        &rates.iter().map(|r| r.rate.clone()).collect::<Vec<_>>(),
        principal.user_id.0,
        now,
    )
    .await
    .map_err(RoyaltiesError::from)?;
    let first = rates.first().map(|r| json!({"day": r.day, "base": r.base, "quote": r.quote, "rate": r.rate}));
    platform::audit::Entry::new(principal.actor(), how, "exchange_rate", Uuid::nil())
        .after(json!({"rates": rates.len(), "first": first}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(n)
}

pub async fn set_rate(ctx: &AppContext, principal: &Principal, req: RateRequest) -> Result<ExchangeRate, ApiError> {
    require_staff(principal, "royalties.rates")?;
    let checked = check("", &req).map_err(ApiError::validation)?;
    let answer = ExchangeRate {
        day: checked.day,
        base: checked.base.clone(),
        quote: checked.quote.clone(),
        rate: checked.rate.clone(),
        entered_at: ctx.clock.now(),
    };
    enter(ctx, principal, vec![checked], "royalties.rate_set").await?;
    Ok(answer)
}

/// Rates as CSV (`day,base,quote,rate`, a heading row allowed): all entered, or none when a row is wrong
/// (each wrong row named as `rows[i].field`, from 1).
pub async fn import_rates(ctx: &AppContext, principal: &Principal, csv: &str) -> Result<RateImport, ApiError> {
    require_staff(principal, "royalties.rates")?;
    let mut rates = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in csv.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.to_ascii_lowercase().starts_with("day")) {
            continue;
        }
        let prefix = format!("rows[{}].", i + 1);
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != 4 {
            errors.push(FieldError::new(format!("rows[{}]", i + 1), "invalid_format", "must be day,base,quote,rate"));
            continue;
        }
        let Ok(day) = chrono::NaiveDate::parse_from_str(cells[0], "%Y-%m-%d") else {
            errors.push(FieldError::new(format!("{prefix}day"), "invalid_format", "must be a date (YYYY-MM-DD)"));
            continue;
        };
        let req = RateRequest { day, base: cells[1].into(), quote: cells[2].into(), rate: cells[3].into() };
        match check(&prefix, &req) {
            Ok(rate) => rates.push(rate),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        errors.truncate(100);
        return Err(ApiError::validation(errors));
    }
    if rates.is_empty() {
        return Err(ApiError::invalid_field("rows", "too_few", "the file holds no rate"));
    }
    let imported = enter(ctx, principal, rates, "royalties.rates_import").await?;
    Ok(RateImport { imported })
}

pub async fn rates(ctx: &AppContext, principal: &Principal, q: RateQuery) -> Result<RateList, ApiError> {
    require_staff(principal, "royalties.rates")?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::rates(
        &mut conn,
        q.base.map(|b| b.to_ascii_uppercase()).as_deref(),
        q.quote.map(|b| b.to_ascii_uppercase()).as_deref(),
        q.from,
        q.to,
        MAX_RATES,
    )
    .await
    .map_err(RoyaltiesError::from)?;
    Ok(RateList { items: rows.into_iter().map(ExchangeRate::from).collect() })
}

/// The fee in force on `day` from a deal's history (latest first).
pub fn fee_on(history: &[DealTerm], day: chrono::NaiveDate) -> Option<i32> {
    history.iter().find(|t| t.effective_from <= day).map(|t| t.fee_bp)
}

async fn answer(conn: &mut sqlx::PgConnection, org: Uuid, today: chrono::NaiveDate) -> Result<Deal, ApiError> {
    let history: Vec<DealTerm> =
        repo::deals(conn, org).await.map_err(RoyaltiesError::from)?.into_iter().map(DealTerm::from).collect();
    let fee = fee_on(&history, today);
    Ok(Deal { fee_bp: fee.unwrap_or(DEFAULT_FEE_BP), default: fee.is_none(), history })
}

/// The label's staff read their deal; staff set it.
pub async fn deal(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<Deal, ApiError> {
    crate::reports::service::may_manage(ctx, principal, org).await?;
    let mut conn = ctx.db.acquire().await?;
    answer(&mut conn, org, ctx.clock.now().date_naive()).await
}

pub async fn set_deal(ctx: &AppContext, principal: &Principal, org: Uuid, req: DealRequest) -> Result<Deal, ApiError> {
    require_staff(principal, "royalties.deals")?;
    if !(0..=10_000).contains(&req.fee_bp) {
        return Err(ApiError::invalid_field("fee_bp", "out_of_range", "must be 0 to 10000 basis points"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if let Some(closed) = repo::last_closed(&mut tx, &[org]).await.map_err(RoyaltiesError::from)?
        && req.effective_from.format("%Y-%m").to_string() <= closed
    {
        return Err(ApiError::invalid_field(
            "effective_from",
            "locked",
            format!("falls in or before {closed}, a closed period; a deal changes from a later date"),
        ));
    }
    repo::set_deal(&mut tx, org, req.effective_from, req.fee_bp, principal.user_id.0, now)
        .await
        .map_err(RoyaltiesError::from)?;
    platform::audit::Entry::new(principal.actor(), "royalties.deal_set", "organization", org)
        .organization(org)
        .after(json!({"fee_bp": req.fee_bp, "effective_from": req.effective_from}))
        .record(&mut tx, now)
        .await?;
    let deal = answer(&mut tx, org, now.date_naive()).await?;
    tx.commit().await?;
    Ok(deal)
}
