//! The area's SQL.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{PayeeId, PayeeKind, PayeeStatus, RecoupableId, RecoupableKind, SplitId};

#[derive(Debug, Clone)]
pub struct PayeeRow {
    pub id: PayeeId,
    pub org_id: Uuid,
    pub kind: PayeeKind,
    pub name: String,
    pub email: Option<String>,
    pub user_id: Option<Uuid>,
    pub currency: String,
    pub status: PayeeStatus,
    pub invited_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The label's own payee, made the first time it is needed.
pub async fn label_payee(
    conn: &mut PgConnection,
    org: Uuid,
    name: &str,
    currency: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<PayeeId> {
    sqlx::query!(
        "INSERT INTO royalty_payees (id, org_id, kind, name, currency, status, created_at)
         VALUES ($1, $2, 'label', $3, $4, 'active', $5) ON CONFLICT (org_id) WHERE kind = 'label' DO NOTHING",
        PayeeId::new() as _,
        org,
        name,
        currency,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!(r#"SELECT id AS "id: PayeeId" FROM royalty_payees WHERE org_id = $1 AND kind = 'label'"#, org)
        .fetch_one(conn)
        .await
}

pub async fn invite(conn: &mut PgConnection, p: &PayeeRow, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_payees (id, org_id, kind, name, email, currency, status, token_hash, invited_at, expires_at,
                                     created_at)
         VALUES ($1, $2, 'person', $3, $4, $5, 'invited', $6, $7, $8, $7)",
        p.id as _,
        p.org_id,
        p.name,
        p.email,
        p.currency,
        token_hash,
        p.invited_at,
        p.expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn payee(conn: &mut PgConnection, id: PayeeId) -> sqlx::Result<Option<PayeeRow>> {
    sqlx::query_as!(
        PayeeRow,
        r#"SELECT id AS "id: PayeeId", org_id, kind AS "kind: PayeeKind", name, email, user_id, currency,
                  status AS "status: PayeeStatus", invited_at, expires_at, accepted_at, created_at
           FROM royalty_payees WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

pub async fn payee_by_token(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<Option<PayeeRow>> {
    sqlx::query_as!(
        PayeeRow,
        r#"SELECT id AS "id: PayeeId", org_id, kind AS "kind: PayeeKind", name, email, user_id, currency,
                  status AS "status: PayeeStatus", invited_at, expires_at, accepted_at, created_at
           FROM royalty_payees WHERE token_hash = $1 FOR UPDATE"#,
        hash
    )
    .fetch_optional(conn)
    .await
}

pub async fn payees(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<PayeeRow>> {
    sqlx::query_as!(
        PayeeRow,
        r#"SELECT id AS "id: PayeeId", org_id, kind AS "kind: PayeeKind", name, email, user_id, currency,
                  status AS "status: PayeeStatus", invited_at, expires_at, accepted_at, created_at
           FROM royalty_payees WHERE org_id = $1 ORDER BY kind, created_at, id"#,
        org
    )
    .fetch_all(conn)
    .await
}

pub async fn accept_invitation(
    conn: &mut PgConnection,
    id: PayeeId,
    user: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE royalty_payees SET status = 'active', user_id = $2, accepted_at = $3 WHERE id = $1",
        id as _,
        user,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the payee expired if it is still invited at `now`; answers whether it did.
pub async fn expire(conn: &mut PgConnection, id: PayeeId, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE royalty_payees SET status = 'expired'
         WHERE id = $1 AND status = 'invited' AND expires_at <= $2",
        id as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a split is of: a recording or a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Track(Uuid),
    Release(Uuid),
}

impl Subject {
    fn parts(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Subject::Track(t) => (Some(t), None),
            Subject::Release(r) => (None, Some(r)),
        }
    }
}

pub struct SplitRow {
    pub id: SplitId,
    pub effective_from: NaiveDate,
    pub reason: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub struct ShareRow {
    pub split_id: SplitId,
    pub payee_id: PayeeId,
    pub name: String,
    pub kind: PayeeKind,
    pub status: PayeeStatus,
    pub share_bp: i32,
}

/// Adds a split (or replaces the one starting on the same day) with its shares.
#[allow(clippy::too_many_arguments)]
pub async fn put_split(
    conn: &mut PgConnection,
    org: Uuid,
    subject: Subject,
    from: NaiveDate,
    reason: &str,
    payees: &[Uuid],
    bps: &[i32],
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<SplitId> {
    let (track, release) = subject.parts();
    let old = sqlx::query_scalar!(
        r#"SELECT id AS "id: SplitId" FROM royalty_splits
           WHERE effective_from = $3 AND (track_id = $1 OR release_id = $2) FOR UPDATE"#,
        track,
        release,
        from
    )
    .fetch_optional(&mut *conn)
    .await?;
    let id = match old {
        Some(id) => {
            sqlx::query!("DELETE FROM royalty_split_shares WHERE split_id = $1", id as _).execute(&mut *conn).await?;
            sqlx::query!(
                "UPDATE royalty_splits SET reason = $2, created_by = $3, created_at = $4 WHERE id = $1",
                id as _,
                reason,
                by,
                now
            )
            .execute(&mut *conn)
            .await?;
            id
        }
        None => {
            let id = SplitId::new();
            sqlx::query!(
                "INSERT INTO royalty_splits (id, org_id, track_id, release_id, effective_from, reason, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                id as _,
                org,
                track,
                release,
                from,
                reason,
                by,
                now
            )
            .execute(&mut *conn)
            .await?;
            id
        }
    };
    sqlx::query!(
        "INSERT INTO royalty_split_shares (split_id, payee_id, share_bp) SELECT $1, p, b FROM UNNEST($2::uuid[], $3::int[]) AS x(p, b)",
        id as _,
        payees,
        bps
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// A subject's splits, the latest first.
pub async fn splits(conn: &mut PgConnection, subject: Subject) -> sqlx::Result<Vec<SplitRow>> {
    let (track, release) = subject.parts();
    sqlx::query_as!(
        SplitRow,
        r#"SELECT id AS "id: SplitId", effective_from, reason, created_by, created_at FROM royalty_splits
           WHERE track_id = $1 OR release_id = $2 ORDER BY effective_from DESC"#,
        track,
        release
    )
    .fetch_all(conn)
    .await
}

pub async fn shares(conn: &mut PgConnection, splits: &[Uuid]) -> sqlx::Result<Vec<ShareRow>> {
    sqlx::query_as!(
        ShareRow,
        r#"SELECT s.split_id AS "split_id: SplitId", s.payee_id AS "payee_id: PayeeId", p.name,
                  p.kind AS "kind: PayeeKind", p.status AS "status: PayeeStatus", s.share_bp
           FROM royalty_split_shares s JOIN royalty_payees p ON p.id = s.payee_id
           WHERE s.split_id = ANY($1) ORDER BY s.share_bp DESC, p.name"#,
        splits
    )
    .fetch_all(conn)
    .await
}

/// The latest split of each subject that gives the payee a share: (org, track, release, split).
pub async fn latest_splits_with(
    conn: &mut PgConnection,
    payee: PayeeId,
) -> sqlx::Result<Vec<(Uuid, Option<Uuid>, Option<Uuid>, SplitId)>> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT ON (COALESCE(s.track_id, s.release_id)) s.org_id, s.track_id, s.release_id,
                  s.id AS "id: SplitId",
                  EXISTS (SELECT 1 FROM royalty_split_shares x WHERE x.split_id = s.id AND x.payee_id = $1) AS "has!"
           FROM royalty_splits s
           WHERE COALESCE(s.track_id, s.release_id) IN (
               SELECT COALESCE(s2.track_id, s2.release_id) FROM royalty_splits s2
               JOIN royalty_split_shares x2 ON x2.split_id = s2.id WHERE x2.payee_id = $1)
           ORDER BY COALESCE(s.track_id, s.release_id), s.effective_from DESC"#,
        payee as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().filter(|r| r.has).map(|r| (r.org_id, r.track_id, r.release_id, r.id)).collect())
}

pub struct RecoupableRow {
    pub id: RecoupableId,
    pub payee_id: PayeeId,
    pub payee_name: String,
    pub release_id: Uuid,
    pub kind: RecoupableKind,
    pub amount: i64,
    pub currency: String,
    pub memo: String,
    pub recorded_at: DateTime<Utc>,
}

#[allow(clippy::too_many_arguments)]
pub async fn add_recoupable(
    conn: &mut PgConnection,
    id: RecoupableId,
    org: Uuid,
    payee: PayeeId,
    release: Uuid,
    kind: RecoupableKind,
    amount: i64,
    currency: &str,
    memo: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_recoupables (id, org_id, payee_id, release_id, kind, amount, currency, memo, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        id as _,
        org,
        payee as _,
        release,
        kind as _,
        amount,
        currency,
        memo,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn recoupables(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<RecoupableRow>> {
    sqlx::query_as!(
        RecoupableRow,
        r#"SELECT r.id AS "id: RecoupableId", r.payee_id AS "payee_id: PayeeId", p.name AS payee_name, r.release_id,
                  r.kind AS "kind: RecoupableKind", r.amount, r.currency, r.memo, r.recorded_at
           FROM royalty_recoupables r JOIN royalty_payees p ON p.id = r.payee_id
           WHERE r.org_id = $1 ORDER BY r.recorded_at DESC, r.id"#,
        org
    )
    .fetch_all(conn)
    .await
}

/// What remains to recoup per payee, release and currency: recorded minus recouped by statements.
pub struct OutstandingRow {
    pub payee_id: PayeeId,
    pub release_id: Uuid,
    pub currency: String,
    pub outstanding: i64,
}

pub async fn outstanding(conn: &mut PgConnection, payees: &[Uuid]) -> sqlx::Result<Vec<OutstandingRow>> {
    sqlx::query_as!(
        OutstandingRow,
        r#"WITH recorded AS (
               SELECT payee_id, release_id, currency, sum(amount) AS amount FROM royalty_recoupables
               WHERE payee_id = ANY($1) GROUP BY payee_id, release_id, currency),
           recouped AS (
               SELECT st.payee_id, rc.release_id, st.currency, sum(rc.recouped) AS amount
               FROM royalty_recoupments rc JOIN royalty_statements st ON st.id = rc.statement_id
               WHERE st.payee_id = ANY($1) GROUP BY st.payee_id, rc.release_id, st.currency)
           SELECT r.payee_id AS "payee_id: PayeeId", r.release_id AS "release_id!", r.currency AS "currency!",
                  (r.amount - COALESCE(c.amount, 0))::bigint AS "outstanding!"
           FROM recorded r LEFT JOIN recouped c USING (payee_id, release_id, currency)
           WHERE r.amount - COALESCE(c.amount, 0) > 0
           ORDER BY r.payee_id, r.release_id"#,
        payees
    )
    .fetch_all(conn)
    .await
}

/// Locks the payee for a change.
pub async fn lock_payee(conn: &mut PgConnection, id: PayeeId) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("SELECT org_id FROM royalty_payees WHERE id = $1 FOR UPDATE", id as _)
        .fetch_optional(conn)
        .await
}

/// Whether the payee has advances or expenses recorded in another currency than `currency`.
pub async fn recoupables_in_other_currency(conn: &mut PgConnection, id: PayeeId, currency: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM royalty_recoupables WHERE payee_id = $1 AND currency <> $2) AS "found!""#,
        id as _,
        currency
    )
    .fetch_one(conn)
    .await
}

pub async fn set_currency(conn: &mut PgConnection, id: PayeeId, currency: &str) -> sqlx::Result<()> {
    sqlx::query!("UPDATE royalty_payees SET currency = $2 WHERE id = $1", id as _, currency).execute(conn).await?;
    Ok(())
}
