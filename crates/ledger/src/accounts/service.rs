//! The ledger's operations. Each takes the caller's connection, so a domain moves money in the same
//! transaction as the change that causes it. The database is the first line of defence (balanced
//! entries, no overdraft, nothing altered); the checks here give clear errors before it has to.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::error::IdentityError;
use platform::{ApiError, AppContext};
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto;
use super::repo::{self, AccountRow};
use crate::error::LedgerError;
use crate::model::{AccountId, Currency, EntryId, Owner, kinds};

/// One leg of an entry: a signed amount in minor units (positive raises the account's balance).
#[derive(Debug, Clone, Copy)]
pub struct Leg {
    pub account: AccountId,
    pub amount: i64,
}

#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// Dotted snake_case, for example `ticket.sale` or `withdrawal.request`.
    pub kind: &'a str,
    pub memo: &'a str,
    pub legs: Vec<Leg>,
    pub metadata: serde_json::Value,
}

/// The account of `owner` of `kind` in `currency`, created on first use.
pub async fn account(
    conn: &mut PgConnection,
    owner: Owner,
    kind: &str,
    currency: &Currency,
    now: DateTime<Utc>,
) -> sqlx::Result<AccountRow> {
    let (owner_type, owner_id) = owner.parts();
    let allow_negative = kinds::may_go_negative(owner == Owner::Platform, kind);
    let sliced = kinds::takes_credits_in_slices(owner_type, kind);
    let key = repo::AccountKey { owner_type, owner_id, kind, currency: currency.as_str() };
    repo::get_or_create_account(conn, key, allow_negative, sliced, now).await
}

/// Posts a balanced entry; returns its id.
pub async fn post(conn: &mut PgConnection, entry: NewEntry<'_>, now: DateTime<Utc>) -> Result<EntryId, LedgerError> {
    post_with(conn, entry, None, now).await
}

async fn post_with(
    conn: &mut PgConnection,
    entry: NewEntry<'_>,
    reverses: Option<EntryId>,
    now: DateTime<Utc>,
) -> Result<EntryId, LedgerError> {
    if entry.legs.len() < 2 {
        return Err(LedgerError::TooFewPostings);
    }
    if entry.legs.iter().any(|l| l.amount == 0) {
        return Err(LedgerError::ZeroAmount);
    }
    let ids: Vec<Uuid> = entry.legs.iter().map(|l| l.account.0).collect();
    let debited: Vec<Uuid> = entry.legs.iter().filter(|l| l.amount < 0).map(|l| l.account.0).collect();
    let accounts = repo::lock_accounts(conn, &ids, &debited).await?;
    let currency_of: BTreeMap<Uuid, String> = accounts.into_iter().map(|a| (a.id.0, a.currency)).collect();
    let mut sums: BTreeMap<&str, i128> = BTreeMap::new();
    let mut currencies = Vec::with_capacity(entry.legs.len());
    for leg in &entry.legs {
        let currency = currency_of.get(&leg.account.0).ok_or(LedgerError::NoAccount(leg.account.0))?;
        *sums.entry(currency.as_str()).or_default() += i128::from(leg.amount);
        currencies.push(currency.clone());
    }
    if let Some((currency, _)) = sums.iter().find(|(_, total)| **total != 0) {
        return Err(LedgerError::Unbalanced((*currency).to_owned()));
    }
    let id = EntryId::new();
    let amounts: Vec<i64> = entry.legs.iter().map(|l| l.amount).collect();
    repo::insert_entry_with_postings(
        conn,
        id,
        entry.kind,
        entry.memo,
        reverses,
        &entry.metadata,
        &ids,
        &amounts,
        &currencies,
        now,
    )
    .await
    .map_err(LedgerError::from_db)?;
    let moved: i64 = amounts.iter().filter(|a| **a > 0).sum();
    tracing::info!(entry = %id.0, kind = entry.kind, moved, legs = amounts.len(), reverses = ?reverses.map(|r| r.0), "journal entry posted");
    Ok(id)
}

/// Moves `amount` from one account to another (same currency).
pub async fn transfer(
    conn: &mut PgConnection,
    from: AccountId,
    to: AccountId,
    amount: i64,
    kind: &str,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<EntryId, LedgerError> {
    let entry = NewEntry {
        kind,
        memo,
        legs: vec![Leg { account: from, amount: -amount }, Leg { account: to, amount }],
        metadata: serde_json::json!({}),
    };
    post(conn, entry, now).await
}

/// Moves `amount` from one owner's account of a kind to another's, in `currency`, in one statement
/// that finds the two accounts and writes the entry and its postings (a second round, after creating
/// them, only when either account is new). The postings take the accounts' row locks as they move
/// their balances, in id order like every entry; an event's escrow takes the credit in a slice (no
/// shared lock, see [`kinds::takes_credits_in_slices`]). The cheap path of a hot sale.
#[allow(clippy::too_many_arguments)]
pub async fn transfer_between(
    conn: &mut PgConnection,
    from: (Owner, &str),
    to: (Owner, &str),
    currency: &Currency,
    amount: i64,
    kind: &str,
    memo: &str,
    metadata: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<EntryId, LedgerError> {
    if amount == 0 {
        return Err(LedgerError::ZeroAmount);
    }
    let (from_type, from_id) = from.0.parts();
    let (to_type, to_id) = to.0.parts();
    let id = EntryId::new();
    let entry = repo::EntryBetween {
        id,
        kind,
        memo,
        metadata: &metadata,
        currency: currency.as_str(),
        owner_types: [from_type.to_owned(), to_type.to_owned()],
        owner_ids: [from_id, to_id],
        kinds: [from.1.to_owned(), to.1.to_owned()],
        amounts: [-amount, amount],
    };
    if !repo::post_between(conn, &entry, now).await.map_err(LedgerError::from_db)? {
        account(conn, from.0, from.1, currency, now).await?;
        account(conn, to.0, to.1, currency, now).await?;
        if !repo::post_between(conn, &entry, now).await.map_err(LedgerError::from_db)? {
            return Err(LedgerError::Db(sqlx::Error::RowNotFound));
        }
    }
    tracing::info!(entry = %id.0, kind, moved = amount, legs = 2, "journal entry posted");
    Ok(id)
}

/// What each of `users` has in their account of `kind` in `currency` (nothing for those without one):
/// a check before [`transfers_between`], whose postings remain the authority.
pub async fn balances_of_users(
    conn: &mut PgConnection,
    users: &[Uuid],
    kind: &str,
    currency: &Currency,
) -> sqlx::Result<std::collections::HashMap<Uuid, i64>> {
    Ok(repo::user_balances(conn, users, kind, currency.as_str()).await?.into_iter().collect())
}

/// One movement of [`transfers_between`].
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    pub from: (Owner, &'a str),
    pub to: (Owner, &'a str),
    pub currency: &'a Currency,
    pub amount: i64,
    pub kind: &'a str,
    pub memo: String,
}

/// [`transfer_between`] for many movements at once, in one statement (a second round, after creating
/// them, only when an account is new): one entry per movement, so that each can be reversed alone
/// (a refund of one order of many bought together). Answers the entries' ids in the movements' order.
/// A movement that would overdraw its account refuses them all (`insufficient_funds`).
pub async fn transfers_between(
    conn: &mut PgConnection,
    movements: &[Movement<'_>],
    now: DateTime<Utc>,
) -> Result<Vec<EntryId>, LedgerError> {
    if movements.iter().any(|m| m.amount == 0) {
        return Err(LedgerError::ZeroAmount);
    }
    let mut entries = repo::EntriesBetween::default();
    for m in movements {
        let ((from_type, from_id), (to_type, to_id)) = (m.from.0.parts(), m.to.0.parts());
        entries.ids.push(EntryId::new().0);
        entries.kinds.push(m.kind.to_owned());
        entries.memos.push(m.memo.clone());
        entries.currencies.push(m.currency.as_str().to_owned());
        entries.from_types.push(from_type.to_owned());
        entries.from_ids.push(from_id);
        entries.from_kinds.push(m.from.1.to_owned());
        entries.to_types.push(to_type.to_owned());
        entries.to_ids.push(to_id);
        entries.to_kinds.push(m.to.1.to_owned());
        entries.amounts.push(m.amount);
    }
    if !movements.is_empty() && !repo::post_many_between(conn, &entries, now).await.map_err(LedgerError::from_db)? {
        let mut created = Vec::new();
        for m in movements {
            for (owner, kind) in [m.from, m.to] {
                if !created.contains(&(owner, kind, m.currency)) {
                    account(conn, owner, kind, m.currency, now).await?;
                    created.push((owner, kind, m.currency));
                }
            }
        }
        if !repo::post_many_between(conn, &entries, now).await.map_err(LedgerError::from_db)? {
            return Err(LedgerError::Db(sqlx::Error::RowNotFound));
        }
    }
    let moved: i64 = entries.amounts.iter().sum();
    tracing::info!(entries = movements.len(), moved, "journal entries posted together");
    Ok(entries.ids.into_iter().map(EntryId).collect())
}

/// Reserves `amount` of `owner`'s available money (moved to its held account) until it is captured or
/// released.
pub async fn hold(
    conn: &mut PgConnection,
    owner: Owner,
    currency: &Currency,
    amount: i64,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<EntryId, LedgerError> {
    let available = account(conn, owner, kinds::AVAILABLE, currency, now).await?;
    let held = account(conn, owner, kinds::HELD, currency, now).await?;
    transfer(conn, available.id, held.id, amount, "hold.place", memo, now).await
}

/// Pays `amount` of `owner`'s held money to `to`.
pub async fn capture(
    conn: &mut PgConnection,
    owner: Owner,
    currency: &Currency,
    amount: i64,
    to: AccountId,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<EntryId, LedgerError> {
    let held = account(conn, owner, kinds::HELD, currency, now).await?;
    transfer(conn, held.id, to, amount, "hold.capture", memo, now).await
}

/// Returns `amount` of `owner`'s held money to its available balance.
pub async fn release(
    conn: &mut PgConnection,
    owner: Owner,
    currency: &Currency,
    amount: i64,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<EntryId, LedgerError> {
    let available = account(conn, owner, kinds::AVAILABLE, currency, now).await?;
    let held = account(conn, owner, kinds::HELD, currency, now).await?;
    transfer(conn, held.id, available.id, amount, "hold.release", memo, now).await
}

/// Posts the mirror image of `entry`, linked to it. An entry is reversed at most once.
pub async fn reverse(
    conn: &mut PgConnection,
    entry: EntryId,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<EntryId, LedgerError> {
    let original = repo::entry(&mut *conn, entry).await?.ok_or(LedgerError::Db(sqlx::Error::RowNotFound))?;
    let legs = repo::postings_of(&mut *conn, entry)
        .await?
        .into_iter()
        .map(|p| Leg { account: p.account_id, amount: -p.amount })
        .collect();
    let kind = format!("{}.reversal", original.kind);
    let reversal = NewEntry { kind: &kind, memo, legs, metadata: serde_json::json!({ "reverses": entry }) };
    post_with(conn, reversal, Some(entry), now).await
}

/// The net of an account's postings in entries of the given kinds (credits minus debits): for example
/// an event's ticket sales less their refunds in its escrow.
pub async fn net_flow(conn: &mut PgConnection, account: AccountId, entry_kinds: &[&str]) -> sqlx::Result<i64> {
    let kinds: Vec<String> = entry_kinds.iter().map(|k| (*k).to_owned()).collect();
    repo::net_flow(conn, account, &kinds).await
}

pub async fn statement(
    conn: &mut PgConnection,
    account: AccountRow,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<dto::Statement> {
    let opening = repo::balance_before(&mut *conn, account.id, from).await?;
    let lines = repo::statement_lines(&mut *conn, account.id, from, to, opening).await?;
    let closing = lines.last().map_or(opening, |l| l.balance);
    Ok(dto::Statement {
        account: account.into(),
        from,
        to,
        opening_balance: opening,
        closing_balance: closing,
        lines: lines.into_iter().map(dto::StatementLine::from).collect(),
    })
}

/// The statement as CSV (RFC 4180), amounts in minor units.
pub fn statement_csv(statement: &dto::Statement) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("at,entry_id,kind,memo,amount_minor,balance_minor,currency\r\n");
    let currency = &statement.account.currency;
    out.push_str(&format!("{},,opening,,0,{},{currency}\r\n", statement.from.to_rfc3339(), statement.opening_balance));
    for line in &statement.lines {
        out.push_str(&format!(
            "{},{},{},{},{},{},{currency}\r\n",
            line.at.to_rfc3339(),
            line.entry_id,
            quote(&line.kind),
            quote(&line.memo),
            line.amount,
            line.balance
        ));
    }
    out
}

/// The caller's own accounts and balances.
pub async fn wallet(ctx: &AppContext, principal: &Principal) -> Result<dto::Wallet, ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    let accounts = repo::accounts_of(&ctx.db, "user", Some(principal.user_id.0)).await?;
    Ok(dto::Wallet { accounts: accounts.into_iter().map(dto::Account::from).collect() })
}

/// Whether the caller may read `account`: their own, their organization's (as a manager), or any as an
/// admin. Anything else is not found.
pub async fn readable(ctx: &AppContext, principal: &Principal, account: AccountId) -> Result<AccountRow, ApiError> {
    let not_found = || ApiError::from(IdentityError::NotFound("account"));
    let account = repo::account(&ctx.db, account).await?.ok_or_else(not_found)?;
    if authz::authorize(principal, "ledger.read", Target::Platform).is_ok() && principal.has_role("admin") {
        return Ok(account);
    }
    match Owner::from_parts(account.owner_type.as_str(), account.owner_id) {
        Some(Owner::User(user)) if user == principal.user_id.0 => {
            authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
            Ok(account)
        }
        Some(Owner::Organization(org)) => {
            let mut conn = ctx.db.acquire().await?;
            identity::service::organizations::require_permission(
                &mut conn,
                principal,
                identity::model::OrgId(org),
                "ledger.read",
            )
            .await
            .map_err(|_| not_found())?;
            Ok(account)
        }
        _ => Err(not_found()),
    }
}

/// One entry with its postings, for admins.
pub async fn entry(ctx: &AppContext, principal: &Principal, id: EntryId) -> Result<dto::EntryWithPostings, ApiError> {
    authz::authorize(principal, "ledger.read", Target::Platform)?;
    if !principal.has_role("admin") {
        return Err(IdentityError::Forbidden("ledger.read".into()).into());
    }
    entry_with_postings(&mut *ctx.db.acquire().await?, id).await
}

async fn entry_with_postings(conn: &mut PgConnection, id: EntryId) -> Result<dto::EntryWithPostings, ApiError> {
    let entry = repo::entry(&mut *conn, id).await?.ok_or(IdentityError::NotFound("entry"))?;
    Ok(dto::EntryWithPostings::new(entry, repo::postings_of(&mut *conn, id).await?))
}

/// Whether `principal` may post this manual entry; its memo, trimmed.
pub fn check_adjustment(principal: &Principal, req: &dto::AdjustmentRequest) -> Result<String, ApiError> {
    authz::authorize(principal, "ledger.adjust", Target::Platform)?;
    principal.require_verified()?;
    let memo = req.memo.trim().to_owned();
    if memo.is_empty() || memo.chars().count() > 500 {
        return Err(ApiError::invalid_field("memo", "invalid_length", "must be 1 to 500 characters"));
    }
    Ok(memo)
}

/// A manual, balanced entry by an admin (checked by [`check_adjustment`]), audited, in the caller's
/// transaction.
pub async fn adjust(
    conn: &mut PgConnection,
    principal: &Principal,
    ip: Option<&str>,
    req: &dto::AdjustmentRequest,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<dto::EntryWithPostings, ApiError> {
    let legs = req.postings.iter().map(|l| Leg { account: l.account_id, amount: l.amount }).collect();
    let entry = NewEntry { kind: "adjustment", memo, legs, metadata: serde_json::json!({"by": principal.user_id}) };
    let id = post(conn, entry, now).await?;
    platform::audit::Entry::new(principal.actor(), "ledger.adjust", "journal_entry", id)
        .after(serde_json::json!({"memo": memo, "postings": req.postings}))
        .ip(ip)
        .record(conn, now)
        .await?;
    entry_with_postings(conn, id).await
}

/// The reversing entry of an entry by an admin, audited, in the caller's transaction.
pub async fn reverse_entry(
    conn: &mut PgConnection,
    principal: &Principal,
    ip: Option<&str>,
    id: EntryId,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<dto::EntryWithPostings, ApiError> {
    repo::entry(&mut *conn, id).await?.ok_or(IdentityError::NotFound("entry"))?;
    let reversal = reverse(conn, id, memo, now).await?;
    platform::audit::Entry::new(principal.actor(), "ledger.reverse", "journal_entry", id)
        .after(serde_json::json!({"reversal": reversal, "memo": memo}))
        .ip(ip)
        .record(conn, now)
        .await?;
    entry_with_postings(conn, reversal).await
}
