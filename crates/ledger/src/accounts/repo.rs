//! The SQL of accounts, journal entries, postings and statements, checked at compile time.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::model::{AccountId, EntryId, OwnerType};

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: AccountId,
    pub owner_type: OwnerType,
    pub owner_id: Option<Uuid>,
    pub kind: String,
    pub currency: String,
    pub allow_negative: bool,
    /// Minor units.
    pub balance: i64,
    pub created_at: DateTime<Utc>,
}

/// Which account: its owner, kind and currency (the owner key).
#[derive(Debug, Clone, Copy)]
pub struct AccountKey<'a> {
    pub owner_type: &'a str,
    pub owner_id: Option<Uuid>,
    pub kind: &'a str,
    pub currency: &'a str,
}

/// The account, creating it on first use (which may go below zero, which takes its credits in slices).
/// Owners are matched as the owner key indexes them (`coalesce(owner_id, nil)`, the platform's accounts
/// having none), so that every lookup by owner reads that index: `IS NOT DISTINCT FROM` cannot, and read
/// every account instead.
pub async fn get_or_create_account(
    conn: &mut PgConnection,
    key: AccountKey<'_>,
    allow_negative: bool,
    sliced: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<AccountRow> {
    sqlx::query!(
        "INSERT INTO ledger_accounts (id, owner_type, owner_id, kind, currency, allow_negative, sliced, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        platform::ids::new_id(),
        key.owner_type,
        key.owner_id,
        key.kind,
        key.currency,
        allow_negative,
        sliced,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_as!(
        AccountRow,
        r#"SELECT id AS "id: AccountId", owner_type AS "owner_type: OwnerType", owner_id, kind, currency, allow_negative, ledger_balance(a) AS "balance!", created_at FROM ledger_accounts a
           WHERE owner_type = $1 AND coalesce(owner_id, '00000000-0000-0000-0000-000000000000'::uuid) = coalesce($2, '00000000-0000-0000-0000-000000000000'::uuid) AND kind = $3 AND currency = $4"#,
        key.owner_type,
        key.owner_id,
        key.kind,
        key.currency
    )
    .fetch_one(conn)
    .await
}

pub async fn account(db: impl PgExecutor<'_>, id: AccountId) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as!(AccountRow, r#"SELECT id AS "id: AccountId", owner_type AS "owner_type: OwnerType", owner_id, kind, currency, allow_negative, ledger_balance(a) AS "balance!", created_at FROM ledger_accounts a WHERE id = $1"#, id.0).fetch_optional(db).await
}

/// The accounts of an entry, locked in id order: every entry takes its accounts' locks in the same
/// order, so concurrent entries over the same accounts (A to B beside B to A) never deadlock. A sliced
/// account that the entry only credits is read, not locked: its credit goes to a slice. (`locked` is
/// read whole, once, before the first account is returned: every lock is taken.)
pub async fn lock_accounts(conn: &mut PgConnection, ids: &[Uuid], debited: &[Uuid]) -> sqlx::Result<Vec<AccountRow>> {
    sqlx::query_as!(
        AccountRow,
        r#"WITH locked AS (SELECT id FROM ledger_accounts WHERE id = ANY($1) AND (NOT sliced OR id = ANY($2)) ORDER BY id FOR UPDATE)
           SELECT id AS "id: AccountId", owner_type AS "owner_type: OwnerType", owner_id, kind, currency, allow_negative, ledger_balance(a) AS "balance!", created_at
           FROM ledger_accounts a WHERE id = ANY($1) AND (SELECT count(*) FROM locked) >= 0 ORDER BY id"#,
        ids,
        debited
    )
    .fetch_all(conn)
    .await
}

/// An entry and its postings in one statement, the postings in the order given (the database moves the
/// balances, locking each account as its posting is written, and checks the sum at commit).
#[allow(clippy::too_many_arguments)]
pub async fn insert_entry_with_postings(
    conn: &mut PgConnection,
    id: EntryId,
    kind: &str,
    memo: &str,
    reverses: Option<EntryId>,
    metadata: &serde_json::Value,
    accounts: &[Uuid],
    amounts: &[i64],
    currencies: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH entry AS (INSERT INTO journal_entries (id, kind, memo, reverses, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $9) RETURNING id)
         INSERT INTO postings (entry_id, account_id, amount, currency, created_at)
         SELECT entry.id, a, m, c, $9 FROM entry, unnest($6::uuid[], $7::int8[], $8::text[]) WITH ORDINALITY AS p(a, m, c, n) ORDER BY n",
        id.0,
        kind,
        memo,
        reverses.map(|r| r.0),
        metadata,
        accounts,
        amounts,
        currencies,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An entry between accounts named by their owners, for [`post_between`].
pub struct EntryBetween<'a> {
    pub id: EntryId,
    pub kind: &'a str,
    pub memo: &'a str,
    pub metadata: &'a serde_json::Value,
    pub currency: &'a str,
    pub owner_types: [String; 2],
    pub owner_ids: [Option<Uuid>; 2],
    pub kinds: [String; 2],
    pub amounts: [i64; 2],
}

/// Finds the entry's accounts by their owner key and writes the entry with its postings (in account id
/// order, so that their locks are taken in that order), in one statement; writes nothing and answers
/// false when an account does not exist yet. Its two legs are parameters of their own, not arrays: the
/// planner then knows there are two rows and keeps one generic plan for the statement, where arrays
/// of unknown length had it plan every execution anew (a fifth of a millisecond each).
pub async fn post_between(conn: &mut PgConnection, e: &EntryBetween<'_>, now: DateTime<Utc>) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"WITH acc AS (
               SELECT a.id, w.m FROM (VALUES ($1::text, $2::uuid, $3::text, $4::int8), ($5, $6, $7, $8)) AS w(t, o, k, m)
               JOIN ledger_accounts a ON a.owner_type = w.t AND a.kind = w.k AND a.currency = $9
                    AND coalesce(a.owner_id, '00000000-0000-0000-0000-000000000000'::uuid) = coalesce(w.o, '00000000-0000-0000-0000-000000000000'::uuid)),
           ok AS (SELECT count(*) = 2 AS found FROM acc),
           entry AS (INSERT INTO journal_entries (id, kind, memo, metadata, created_at)
                     SELECT $10, $11, $12, $13, $14 FROM ok WHERE found RETURNING id),
           posted AS (INSERT INTO postings (entry_id, account_id, amount, currency, created_at)
                      SELECT entry.id, acc.id, acc.m, $9, $14 FROM entry, acc ORDER BY acc.id)
           SELECT found AS "found!" FROM ok"#,
        &e.owner_types[0],
        e.owner_ids[0],
        &e.kinds[0],
        e.amounts[0],
        &e.owner_types[1],
        e.owner_ids[1],
        &e.kinds[1],
        e.amounts[1],
        e.currency,
        e.id.0,
        e.kind,
        e.memo,
        e.metadata,
        now
    )
    .fetch_one(conn)
    .await
}

/// Entries of two legs each between accounts named by their owners, for [`post_many_between`]: the
/// `n`th entry moves `amounts[n]` from the `from` account to the `to` account, in `currencies[n]`.
#[derive(Debug, Default)]
pub struct EntriesBetween {
    pub ids: Vec<Uuid>,
    pub kinds: Vec<String>,
    pub memos: Vec<String>,
    pub currencies: Vec<String>,
    pub from_types: Vec<String>,
    pub from_ids: Vec<Option<Uuid>>,
    pub from_kinds: Vec<String>,
    pub to_types: Vec<String>,
    pub to_ids: Vec<Option<Uuid>>,
    pub to_kinds: Vec<String>,
    pub amounts: Vec<i64>,
}

/// [`post_between`] for many entries in one statement: finds every leg's account, and writes the
/// entries and all their postings (in account id order, so that their locks are taken in that
/// order); writes nothing and answers false when an account does not exist yet.
pub async fn post_many_between(conn: &mut PgConnection, e: &EntriesBetween, now: DateTime<Utc>) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"WITH w AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[],
                                           $8::text[], $9::uuid[], $10::text[], $11::int8[])
                      AS w(entry, kind, memo, currency, ft, fo, fk, tt, tto, tk, amount)),
           legs AS (SELECT entry, currency, ft AS t, fo AS o, fk AS k, -amount AS m FROM w
                    UNION ALL SELECT entry, currency, tt, tto, tk, amount FROM w),
           acc AS (SELECT legs.entry, legs.currency, legs.m, a.id FROM legs
                   JOIN ledger_accounts a ON a.owner_type = legs.t AND a.kind = legs.k AND a.currency = legs.currency
                        AND coalesce(a.owner_id, '00000000-0000-0000-0000-000000000000'::uuid) = coalesce(legs.o, '00000000-0000-0000-0000-000000000000'::uuid)),
           ok AS (SELECT count(*) = 2 * cardinality($1::uuid[]) AS found FROM acc),
           entry AS (INSERT INTO journal_entries (id, kind, memo, metadata, created_at)
                     SELECT w.entry, w.kind, w.memo, '{}'::jsonb, $12 FROM w, ok WHERE found RETURNING id),
           posted AS (INSERT INTO postings (entry_id, account_id, amount, currency, created_at)
                      SELECT entry.id, acc.id, acc.m, acc.currency, $12 FROM entry JOIN acc ON acc.entry = entry.id ORDER BY acc.id)
           SELECT found AS "found!" FROM ok"#,
        &e.ids,
        &e.kinds,
        &e.memos,
        &e.currencies,
        &e.from_types,
        &e.from_ids as &[Option<Uuid>],
        &e.from_kinds,
        &e.to_types,
        &e.to_ids as &[Option<Uuid>],
        &e.to_kinds,
        &e.amounts,
        now
    )
    .fetch_one(conn)
    .await
}

/// The balances of the accounts of `kind` in `currency` that `users` have (those who have one).
pub async fn user_balances(
    conn: &mut PgConnection,
    users: &[Uuid],
    kind: &str,
    currency: &str,
) -> sqlx::Result<Vec<(Uuid, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT owner_id AS "owner!", ledger_balance(a) AS "balance!" FROM ledger_accounts a
           WHERE owner_type = 'user' AND owner_id = ANY($1) AND kind = $2 AND currency = $3"#,
        users,
        kind,
        currency
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.owner, r.balance)).collect())
}

pub async fn accounts_of(
    db: impl PgExecutor<'_>,
    owner_type: &str,
    owner_id: Option<Uuid>,
) -> sqlx::Result<Vec<AccountRow>> {
    sqlx::query_as!(
        AccountRow,
        r#"SELECT id AS "id: AccountId", owner_type AS "owner_type: OwnerType", owner_id, kind, currency, allow_negative, ledger_balance(a) AS "balance!", created_at FROM ledger_accounts a WHERE owner_type = $1 AND coalesce(owner_id, '00000000-0000-0000-0000-000000000000'::uuid) = coalesce($2::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
           ORDER BY currency, kind"#,
        owner_type,
        owner_id
    )
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone)]
pub struct EntryRow {
    pub id: EntryId,
    pub kind: String,
    pub memo: String,
    pub reverses: Option<EntryId>,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct PostingRow {
    pub account_id: AccountId,
    pub amount: i64,
    pub currency: String,
}

pub async fn entry(db: impl PgExecutor<'_>, id: EntryId) -> sqlx::Result<Option<EntryRow>> {
    sqlx::query_as!(
        EntryRow,
        r#"SELECT id AS "id: EntryId", kind, memo, reverses AS "reverses: EntryId", metadata, created_at
           FROM journal_entries WHERE id = $1"#,
        id.0
    )
    .fetch_optional(db)
    .await
}

pub async fn postings_of(db: impl PgExecutor<'_>, entry: EntryId) -> sqlx::Result<Vec<PostingRow>> {
    sqlx::query_as!(
        PostingRow,
        r#"SELECT account_id AS "account_id: AccountId", amount, currency FROM postings WHERE entry_id = $1 ORDER BY id"#,
        entry.0
    )
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone)]
pub struct StatementLineRow {
    pub entry_id: EntryId,
    pub kind: String,
    pub memo: String,
    /// Positive raised the balance, negative lowered it.
    pub amount: i64,
    /// The balance after this line.
    pub balance: i64,
    pub at: DateTime<Utc>,
}

/// The balance before `from`: the kept balance less what was posted since, in one statement (one
/// snapshot), so that its cost follows the period asked for, not the account's whole history.
pub async fn balance_before(db: impl PgExecutor<'_>, account: AccountId, from: DateTime<Utc>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT (ledger_balance(a) - coalesce((SELECT sum(p.amount) FROM postings p
                                          WHERE p.account_id = a.id AND p.created_at >= $2), 0))::int8 AS "balance!"
           FROM ledger_accounts a WHERE a.id = $1"#,
        account.0,
        from
    )
    .fetch_one(db)
    .await
}

/// The account's postings in `[from, to)`, with the running balance after each.
pub async fn statement_lines(
    db: impl PgExecutor<'_>,
    account: AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    opening: i64,
) -> sqlx::Result<Vec<StatementLineRow>> {
    sqlx::query_as!(
        StatementLineRow,
        r#"SELECT p.entry_id AS "entry_id: EntryId", e.kind, e.memo, p.amount,
                  ($4::int8 + sum(p.amount) OVER (ORDER BY p.id))::int8 AS "balance!", p.created_at AS at
           FROM postings p JOIN journal_entries e ON e.id = p.entry_id
           WHERE p.account_id = $1 AND p.created_at >= $2 AND p.created_at < $3
           ORDER BY p.id"#,
        account.0,
        from,
        to,
        opening
    )
    .fetch_all(db)
    .await
}

/// The net of an account's postings in entries of the given kinds (credits minus debits).
pub async fn net_flow(conn: &mut PgConnection, account: AccountId, entry_kinds: &[String]) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(sum(p.amount), 0)::int8 AS "net!" FROM postings p JOIN journal_entries e ON e.id = p.entry_id
           WHERE p.account_id = $1 AND e.kind = ANY($2)"#,
        account.0,
        entry_kinds
    )
    .fetch_one(conn)
    .await
}

/// Whether an entry of `kind` names `value` under `key` in its metadata (one entry per such fact).
pub async fn has_entry_for(conn: &mut PgConnection, kind: &str, key: &str, value: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM journal_entries WHERE kind = $1 AND metadata->>$2 = $3) AS "exists!""#,
        kind,
        key,
        value
    )
    .fetch_one(conn)
    .await
}

/// The audit an accountant runs over the whole ledger: what it holds, and what would be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LedgerAudit {
    pub accounts: i64,
    pub entries: i64,
    pub postings: i64,
    /// Entries whose postings do not sum to zero in one of their currencies.
    pub unbalanced_entries: i64,
    /// Entries with fewer than two postings.
    pub short_entries: i64,
    /// Accounts whose kept balance is not the sum of their postings.
    pub drifted_accounts: i64,
    /// Accounts below zero that may not be.
    pub negative_accounts: i64,
}

impl LedgerAudit {
    pub fn is_clean(&self) -> bool {
        self.unbalanced_entries == 0
            && self.short_entries == 0
            && self.drifted_accounts == 0
            && self.negative_accounts == 0
    }
}

/// Every entry balanced per currency with two or more postings, every kept balance equal to its
/// postings, no forbidden negative balance: one statement, one snapshot.
pub async fn audit(conn: &mut PgConnection) -> sqlx::Result<LedgerAudit> {
    sqlx::query_as!(
        LedgerAudit,
        r#"SELECT (SELECT count(*) FROM ledger_accounts) AS "accounts!",
                  (SELECT count(*) FROM journal_entries) AS "entries!",
                  (SELECT count(*) FROM postings) AS "postings!",
                  (SELECT count(*) FROM (SELECT 1 FROM postings GROUP BY entry_id, currency HAVING sum(amount) <> 0) u)
                    AS "unbalanced_entries!",
                  (SELECT count(*) FROM journal_entries e
                    WHERE (SELECT count(*) FROM postings p WHERE p.entry_id = e.id) < 2) AS "short_entries!",
                  (SELECT count(*) FROM ledger_accounts a
                    WHERE ledger_balance(a) <> coalesce((SELECT sum(amount) FROM postings p WHERE p.account_id = a.id), 0))
                    AS "drifted_accounts!",
                  (SELECT count(*) FROM ledger_accounts a WHERE NOT a.allow_negative AND ledger_balance(a) < 0) AS "negative_accounts!""#
    )
    .fetch_one(conn)
    .await
}
