//! Closing a month and reading statements. Closing is one transaction: the month's row is written first
//! (a second close at the same time waits on it, then finds it closed), every conversion's rate is
//! checked before anything is computed (a missing one stops the close, naming it), each payee's lines
//! are rounded once by largest remainder, advances are recouped per release, and every statement's
//! payable amount, what was recouped and the platform's fee are posted to the ledger. Either all of it
//! is kept or none.

use std::collections::HashMap;

use identity::auth::Principal;
use ledger::model::{Currency, Owner, kinds};
use platform::{ApiError, AppContext};
use serde_json::json;
use uuid::Uuid;

use super::dto::{
    CloseRequest, Closed, Fee, Period, PeriodList, Proof, ProofCurrency, ProofPayee, Recoupment, RoyaltyStatement,
    RoyaltyStatementLine, RoyaltyStatementQuery, StatementList, StatementSummary,
};
use super::repo::{self, StatementRow, StoredLine};
use super::rounding;
use crate::error::{RoyaltiesCode, RoyaltiesError};
use crate::model::{PayeeKind, ReportId, StatementId, parse_period};
use crate::reports::service::may_manage;
use crate::splits;

/// Every currency the ledger knows with its minor-unit exponent, as the statements' SQL takes them.
fn exponents() -> (Vec<String>, Vec<i32>) {
    ledger::model::CURRENCIES.iter().map(|(c, e)| ((*c).to_owned(), i32::from(*e))).unzip()
}

fn currency(code: &str) -> Result<Currency, ApiError> {
    Currency::parse(code).ok_or_else(|| ApiError::internal(anyhow::anyhow!("unknown currency {code}")))
}

/// The proof of a report: its net revenue per currency = unmatched + the platform's fee + each payee's
/// share, exactly.
pub async fn proof(ctx: &AppContext, principal: &Principal, id: ReportId) -> Result<Proof, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let report = crate::reports::repo::report(&mut conn, id)
        .await
        .map_err(RoyaltiesError::from)?
        .ok_or(RoyaltiesError::NotFound("report"))?;
    may_manage(ctx, principal, report.org_id).await?;
    prove(&mut conn, id, report.org_id, ctx.clock.now()).await.map_err(|e| RoyaltiesError::from(e).into())
}

/// The proof, for the API and the command line.
pub async fn prove(
    conn: &mut sqlx::PgConnection,
    id: ReportId,
    org: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<Proof> {
    splits::service::label_payee(conn, org, now).await?;
    let rows = repo::proof(conn, id).await?;
    let mut currencies: Vec<ProofCurrency> = Vec::new();
    for row in rows {
        if currencies.last().is_none_or(|c| c.currency != row.currency) {
            currencies.push(ProofCurrency {
                currency: row.currency.clone(),
                total: "0".into(),
                unmatched: "0".into(),
                fee: "0".into(),
                payees: Vec::new(),
                difference: "0".into(),
                exact: false,
            });
        }
        let Some(c) = currencies.last_mut() else { continue };
        match row.part.as_str() {
            "total" => c.total = row.amount,
            "unmatched" => c.unmatched = row.amount,
            "fee" => c.fee = row.amount,
            "payee" => c.payees.push(ProofPayee {
                payee_id: row.payee_id,
                name: row.name.unwrap_or_default(),
                kind: row.kind.map_or("label", PayeeKind::as_str).into(),
                amount: row.amount,
            }),
            _ => {
                c.difference = row.amount;
                c.exact = row.zero;
            }
        }
    }
    let exact = currencies.iter().all(|c| c.exact);
    Ok(Proof { report_id: id, currencies, exact })
}

/// Closes a month of the label: statements for every payee, posted to the ledger.
pub async fn close(ctx: &AppContext, principal: &Principal, org: Uuid, req: CloseRequest) -> Result<Closed, ApiError> {
    may_manage(ctx, principal, org).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let closed = close_month(&mut tx, org, req.period.trim(), principal.user_id.0, now).await?;
    platform::audit::Entry::new(principal.actor(), "royalties.period_close", "organization", org)
        .organization(org)
        .after(json!({"period": closed.period.period, "reports": closed.period.reports,
                      "statements": closed.statements.len()}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    tracing::info!(label = %org, period = %closed.period.period, statements = closed.statements.len(),
                   "a royalty period is closed");
    Ok(closed)
}

/// The close itself, inside the caller's transaction (the demo closes its month this way too).
pub async fn close_month(
    tx: &mut sqlx::PgConnection,
    org: Uuid,
    period: &str,
    by: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Closed, ApiError> {
    let period = period.to_owned();
    let (_, last) = parse_period(&period)
        .ok_or_else(|| ApiError::invalid_field("period", "invalid_format", "must be a month as YYYY-MM"))?;
    if last >= now.date_naive() {
        return Err(ApiError::new(RoyaltiesCode::PeriodNotOver, format!("{period} ends on {last}; close it after.")));
    }
    splits::service::label_payee(&mut *tx, org, now).await.map_err(RoyaltiesError::from)?;
    let reports = repo::reports_of(&mut *tx, org, &period).await.map_err(RoyaltiesError::from)?;
    if let Some(waiting) = reports.iter().find(|r| r.status != "loaded") {
        return Err(ApiError::new(
            RoyaltiesCode::ReportsPending,
            format!("Report {} of {period} is {}; close the month once it is read.", waiting.id.0, waiting.status),
        ));
    }
    let ids: Vec<Uuid> = reports.iter().map(|r| r.id.0).collect();
    repo::close(tx, org, &period, &ids, by, now).await.map_err(RoyaltiesError::from)?;
    let missing = repo::missing_rates(&mut *tx, &ids).await.map_err(RoyaltiesError::from)?;
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|(b, q, d)| format!("{b}→{q} on {d}")).collect();
        return Err(ApiError::new(
            RoyaltiesCode::ExchangeRateMissing,
            format!("No exchange rate for {}; enter it and close again.", list.join(", ")),
        ));
    }
    let (codes, exps) = exponents();
    let rows = repo::statement_lines(&mut *tx, &ids, &codes, &exps).await.map_err(RoyaltiesError::from)?;

    // Group the rows by payee and currency, in the order the rounding needs.
    let mut groups: Vec<Vec<repo::LineRow>> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some(g) if g[0].payee_id == row.payee_id && g[0].currency == row.currency => g.push(row),
            _ => groups.push(vec![row]),
        }
    }
    let payee_ids: Vec<Uuid> = groups.iter().map(|g| g[0].payee_id.0).collect();
    let mut outstanding: HashMap<(Uuid, String), Vec<(Uuid, i64)>> = HashMap::new();
    for o in splits::repo::outstanding(&mut *tx, &payee_ids).await.map_err(RoyaltiesError::from)? {
        outstanding.entry((o.payee_id.0, o.currency)).or_default().push((o.release_id, o.outstanding));
    }
    let mut summaries = Vec::with_capacity(groups.len());
    for group in groups {
        let first = &group[0];
        let (payee_id, code, total, exact) =
            (first.payee_id, first.currency.clone(), first.total, first.statement_exact.clone());
        let floors: Vec<i64> = group.iter().map(|l| l.floor).collect();
        let amounts = rounding::distribute(&floors, total)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a statement's total is out of its lines' reach")))?;
        if total < 0 {
            return Err(ApiError::invalid_field(
                "period",
                "out_of_range",
                format!("a payee's lines of {period} sum below zero; correct the reports first"),
            ));
        }
        let lines: Vec<StoredLine> = group
            .into_iter()
            .zip(amounts)
            .map(|(l, amount)| StoredLine {
                release_id: l.release_id,
                track_id: l.track_id,
                title: l.title,
                store: l.store,
                territory: l.territory,
                use_type: l.use_type,
                usages: l.usages,
                exact: l.exact,
                amount,
            })
            .collect();
        // Recoupment per release, out of what the release earned, never beyond what the statement earned.
        let owed = outstanding.remove(&(payee_id.0, code.clone())).unwrap_or_default();
        let opening: i64 = -owed.iter().map(|(_, o)| o).sum::<i64>();
        let mut budget = total;
        let mut recoupments = Vec::new();
        for (release, due) in owed {
            let earned: i64 = lines.iter().filter(|l| l.release_id == Some(release)).map(|l| l.amount).sum();
            let take = earned.max(0).min(due).min(budget);
            budget -= take;
            recoupments.push((release, due, take));
        }
        let recouped: i64 = recoupments.iter().map(|r| r.2).sum();
        let payable = total - recouped;
        let payee = splits::repo::payee(&mut *tx, payee_id)
            .await
            .map_err(RoyaltiesError::from)?
            .ok_or(RoyaltiesError::NotFound("payee"))?;
        let cur = currency(&code)?;
        let clearing = ledger::service::account(&mut *tx, Owner::Platform, kinds::CLEARING, &cur, now).await?;
        let owner = match (payee.kind, payee.user_id) {
            (PayeeKind::Person, Some(user)) => Owner::User(user),
            _ => Owner::Organization(payee.org_id),
        };
        let entry = if payable > 0 {
            Some(ledger::earnings::credit(&mut *tx, owner, &cur, payable, clearing.id, "royalty", now).await?.0)
        } else {
            None
        };
        // What was recouped repays the label that advanced it.
        let recouped_entry = if recouped > 0 {
            let to = Owner::Organization(org);
            Some(ledger::earnings::credit(&mut *tx, to, &cur, recouped, clearing.id, "royalty", now).await?.0)
        } else {
            None
        };
        let row = StatementRow {
            id: StatementId::new(),
            org_id: org,
            period: period.clone(),
            payee_id,
            payee_name: payee.name.clone(),
            payee_kind: payee.kind,
            payee_user: payee.user_id,
            currency: code,
            opening_balance: opening,
            earned: total,
            recouped,
            payable,
            closing_balance: opening + recouped,
            exact,
            entry_id: entry,
            recouped_entry,
            created_at: now,
        };
        repo::insert_statement(&mut *tx, &row).await.map_err(RoyaltiesError::from)?;
        repo::insert_lines(&mut *tx, row.id, &lines).await.map_err(RoyaltiesError::from)?;
        let (releases, dues, takes): (Vec<Uuid>, Vec<i64>, Vec<i64>) =
            recoupments.into_iter().fold((Vec::new(), Vec::new(), Vec::new()), |mut acc, (r, d, t)| {
                acc.0.push(r);
                acc.1.push(d);
                acc.2.push(t);
                acc
            });
        repo::insert_recoupments(&mut *tx, row.id, &releases, &dues, &takes).await.map_err(RoyaltiesError::from)?;
        if let Some(user) = payee.user_id.filter(|_| payee.kind == PayeeKind::Person) {
            let event = platform::events::Event {
                kind: "royalties.statement_ready",
                recipients: vec![user],
                organization: None,
                data: json!({"statement_id": row.id, "period": period, "currency": row.currency,
                             "payable": cur.display(row.payable)}),
            };
            platform::events::emit(&mut *tx, event, now).await.map_err(RoyaltiesError::from)?;
        }
        summaries.push(StatementSummary::from(row));
    }
    // The platform's fee, per currency of the reports.
    let mut fees = Vec::new();
    for (code, exact, amount) in repo::fees(&mut *tx, &ids, &codes, &exps).await.map_err(RoyaltiesError::from)? {
        let entry = if amount > 0 {
            let cur = currency(&code)?;
            let clearing = ledger::service::account(&mut *tx, Owner::Platform, kinds::CLEARING, &cur, now).await?;
            let fees = ledger::service::account(&mut *tx, Owner::Platform, kinds::FEES, &cur, now).await?;
            let memo = format!("distribution fee {period}");
            Some(ledger::service::transfer(&mut *tx, clearing.id, fees.id, amount, "royalty.fee", &memo, now).await?.0)
        } else {
            None
        };
        repo::insert_fee(&mut *tx, org, &period, &code, &exact, amount, entry).await.map_err(RoyaltiesError::from)?;
        fees.push(Fee { currency: code, exact, amount });
    }
    Ok(Closed { period: Period { period, reports: ids, closed_at: now }, statements: summaries, fees })
}

pub async fn periods(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<PeriodList, ApiError> {
    may_manage(ctx, principal, org).await?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::periods(&mut conn, org).await.map_err(RoyaltiesError::from)?;
    Ok(PeriodList { items: rows.into_iter().map(Period::from).collect() })
}

pub async fn of_label(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    q: RoyaltyStatementQuery,
) -> Result<StatementList, ApiError> {
    may_manage(ctx, principal, org).await?;
    let mut conn = ctx.reader().acquire().await?;
    let filter = repo::Filter { org: Some(org), period: q.period.as_deref(), ..Default::default() };
    let rows = repo::statements(&mut conn, filter).await.map_err(RoyaltiesError::from)?;
    Ok(StatementList { items: rows.into_iter().map(StatementSummary::from).collect() })
}

pub async fn mine(ctx: &AppContext, principal: &Principal) -> Result<StatementList, ApiError> {
    let mut conn = ctx.reader().acquire().await?;
    let filter = repo::Filter { user: Some(principal.user_id.0), ..Default::default() };
    let rows = repo::statements(&mut conn, filter).await.map_err(RoyaltiesError::from)?;
    Ok(StatementList { items: rows.into_iter().map(StatementSummary::from).collect() })
}

/// A statement: its payee, the label's staff and admins read it.
pub async fn get(ctx: &AppContext, principal: &Principal, id: StatementId) -> Result<RoyaltyStatement, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let filter = repo::Filter { id: Some(id), ..Default::default() };
    let row = repo::statements(&mut conn, filter)
        .await
        .map_err(RoyaltiesError::from)?
        .pop()
        .ok_or(RoyaltiesError::NotFound("statement"))?;
    if row.payee_user != Some(principal.user_id.0) {
        may_manage(ctx, principal, row.org_id).await.map_err(|_| RoyaltiesError::NotFound("statement"))?;
    }
    let lines = repo::lines(&mut conn, id).await.map_err(RoyaltiesError::from)?;
    let recoupments = repo::recoupments(&mut conn, id).await.map_err(RoyaltiesError::from)?;
    Ok(RoyaltyStatement {
        summary: StatementSummary::from(row),
        lines: lines.into_iter().map(RoyaltyStatementLine::from).collect(),
        recoupments: recoupments.into_iter().map(Recoupment::from).collect(),
    })
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// The statement as CSV: one row per line, then the recoupment per release and the totals, each row
/// saying what it is in its first cell.
pub fn csv(s: &RoyaltyStatement) -> String {
    let mut out = String::from("row,release_id,track_id,title,store,territory,use_type,usages,exact,amount,currency\n");
    let cur = &s.summary.currency;
    for l in &s.lines {
        let ids = (l.release_id.map(|r| r.to_string()).unwrap_or_default(), l.track_id.map(|t| t.to_string()));
        out.push_str(&format!(
            "line,{},{},{},{},{},{},{},{},{},{cur}\n",
            ids.0,
            ids.1.unwrap_or_default(),
            csv_cell(&l.title),
            csv_cell(&l.store),
            csv_cell(&l.territory),
            csv_cell(&l.use_type),
            l.usages,
            l.exact,
            l.amount
        ));
    }
    for r in &s.recoupments {
        out.push_str(&format!("recouped,{},,,,,,,,{},{cur}\n", r.release_id, -r.recouped));
    }
    let sum = &s.summary;
    for (what, amount) in [
        ("opening_balance", sum.opening_balance),
        ("earned", sum.earned),
        ("recouped", sum.recouped),
        ("payable", sum.payable),
        ("closing_balance", sum.closing_balance),
    ] {
        out.push_str(&format!("{what},,,,,,,,,{amount},{cur}\n"));
    }
    out
}

/// The statement as text, for its PDF.
pub fn text(s: &RoyaltyStatement) -> String {
    let sum = &s.summary;
    let cur = Currency::parse(&sum.currency);
    let money = |minor: i64| cur.as_ref().map_or_else(|| format!("{minor} {}", sum.currency), |c| c.display(minor));
    let mut out = vec![
        format!("Royalty statement {} - {}", sum.period, sum.payee_name),
        format!("RoyaltyStatement {}", sum.id.0),
        String::new(),
        format!("Opening balance: {}", money(sum.opening_balance)),
        String::new(),
        "Title | Store | Territory | Use | Usages | Amount".to_owned(),
    ];
    for l in &s.lines {
        out.push(format!(
            "{} | {} | {} | {} | {} | {}",
            l.title,
            l.store,
            l.territory,
            l.use_type,
            l.usages,
            money(l.amount)
        ));
    }
    out.push(String::new());
    out.push(format!("Earned: {}", money(sum.earned)));
    for r in &s.recoupments {
        out.push(format!(
            "Recouped for release {}: {} of {} outstanding",
            r.release_id,
            money(r.recouped),
            money(r.outstanding)
        ));
    }
    out.push(format!("Recouped: {}", money(sum.recouped)));
    out.push(format!("Payable: {}", money(sum.payable)));
    out.push(format!("Closing balance: {}", money(sum.closing_balance)));
    out.push(String::new());
    out.push(format!("Exact total before rounding: {} {}", sum.exact, sum.currency));
    out.join("\n")
}
