//! SQL for organizations, members, invitations, teams and permission templates.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use crate::model::{InvitationId, InvitationStatus, OrgId, OrgKind, TeamId, UserId};

#[derive(Debug, Clone, FromRow)]
pub struct OrgRow {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub kind: OrgKind,
    pub parent_id: Option<OrgId>,
    pub description: String,
    pub website: Option<String>,
    pub email: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_org(conn: &mut PgConnection, org: &OrgRow, created_by: UserId) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO organizations (id, slug, name, kind, parent_id, description, website, email, country, city, settings,
                                    created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"#, org.id as _, &org.slug, &org.name, org.kind as _, org.parent_id as _, &org.description, &org.website as _, &org.email as _, &org.country as _, &org.city as _, &org.settings, created_by as _, org.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_org(conn: &mut PgConnection, org: &OrgRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE organizations SET name = $2, description = $3, website = $4, email = $5, country = $6, city = $7,
                                  settings = $8, updated_at = $9
         WHERE id = $1"#,
        org.id as _,
        &org.name,
        &org.description,
        &org.website as _,
        &org.email as _,
        &org.country as _,
        &org.city as _,
        &org.settings,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn org(conn: &mut PgConnection, id: OrgId) -> sqlx::Result<Option<OrgRow>> {
    sqlx::query_as!(OrgRow, r#"SELECT o.id AS "id: OrgId", o.slug, o.name, o.kind AS "kind: OrgKind", o.parent_id AS "parent_id: OrgId", o.description, o.website, o.email, o.country, o.city, o.settings, o.created_at FROM organizations o WHERE o.id = $1"#, id as _)
        .fetch_optional(conn)
        .await
}

/// One organization of a lineage: itself, its parent, the parent's parent, ...
#[derive(Debug, Clone)]
pub struct LineageRow {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub depth: i32,
}

/// The organization and those above it, nearest first (at most eight levels; the walk stops at a cycle).
pub async fn lineage(conn: &mut PgConnection, id: OrgId) -> sqlx::Result<Vec<LineageRow>> {
    sqlx::query_as!(
        LineageRow,
        r#"WITH RECURSIVE up (id, name, kind, parent_id, depth) AS (
               SELECT o.id, o.name, o.kind, o.parent_id, 0 FROM organizations o WHERE o.id = $1
               UNION ALL
               SELECT p.id, p.name, p.kind, p.parent_id, up.depth + 1
               FROM up JOIN organizations p ON p.id = up.parent_id WHERE up.depth < 7)
           CYCLE id SET is_cycle USING path
           SELECT id AS "id!: OrgId", name AS "name!", kind AS "kind!: OrgKind", depth AS "depth!"
           FROM up WHERE NOT is_cycle ORDER BY depth"#,
        id as _
    )
    .fetch_all(conn)
    .await
}

/// Locks the organization row: every membership change of one organization runs one at a time.
pub async fn lock_org(conn: &mut PgConnection, id: OrgId) -> sqlx::Result<bool> {
    Ok(sqlx::query!(r#"SELECT 1 AS "locked!" FROM organizations WHERE id = $1 FOR UPDATE"#, id as _)
        .fetch_optional(conn)
        .await?
        .is_some())
}

#[derive(Debug, FromRow)]
pub struct MyOrgRow {
    pub org: OrgRow,
    pub role: String,
}

/// The organizations `user` belongs to, by id, after `after`.
pub async fn orgs_of(
    conn: &mut PgConnection,
    user: UserId,
    after: Option<OrgId>,
    limit: i64,
) -> sqlx::Result<Vec<MyOrgRow>> {
    struct Flat {
        id: OrgId,
        slug: String,
        name: String,
        kind: OrgKind,
        parent_id: Option<OrgId>,
        description: String,
        website: Option<String>,
        email: Option<String>,
        country: Option<String>,
        city: Option<String>,
        settings: serde_json::Value,
        created_at: DateTime<Utc>,
        role: String,
    }
    let rows = sqlx::query_as!(
        Flat,
        r#"SELECT o.id AS "id: OrgId", o.slug, o.name, o.kind AS "kind: OrgKind", o.parent_id AS "parent_id: OrgId",
                  o.description, o.website, o.email, o.country, o.city, o.settings, o.created_at, m.role
           FROM org_members m JOIN organizations o ON o.id = m.org_id
           WHERE m.user_id = $1 AND ($2::uuid IS NULL OR o.id > $2) ORDER BY o.id LIMIT $3"#,
        user as _,
        after as _,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MyOrgRow {
            org: OrgRow {
                id: r.id,
                slug: r.slug,
                name: r.name,
                kind: r.kind,
                parent_id: r.parent_id,
                description: r.description,
                website: r.website,
                email: r.email,
                country: r.country,
                city: r.city,
                settings: r.settings,
                created_at: r.created_at,
            },
            role: r.role,
        })
        .collect())
}

pub async fn member_role(conn: &mut PgConnection, org: OrgId, user: UserId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(r#"SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2"#, org as _, user as _)
        .fetch_optional(conn)
        .await
}

pub async fn template_permissions(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<Vec<String>>> {
    sqlx::query_scalar!(r#"SELECT permissions FROM permission_templates WHERE name = $1"#, name)
        .fetch_optional(conn)
        .await
}

pub async fn add_member(
    conn: &mut PgConnection,
    org: OrgId,
    user: UserId,
    role: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"INSERT INTO org_members (org_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"#,
        org as _,
        user as _,
        role,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_member_role(conn: &mut PgConnection, org: OrgId, user: UserId, role: &str) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE org_members SET role = $3 WHERE org_id = $1 AND user_id = $2"#, org as _, user as _, role)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn remove_member(conn: &mut PgConnection, org: OrgId, user: UserId) -> sqlx::Result<()> {
    sqlx::query!(r#"DELETE FROM org_members WHERE org_id = $1 AND user_id = $2"#, org as _, user as _)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn owner_count(conn: &mut PgConnection, org: OrgId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM org_members WHERE org_id = $1 AND role = 'owner'"#,
        org as _
    )
    .fetch_one(conn)
    .await
}

#[derive(Debug, FromRow)]
pub struct MemberRow {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

pub async fn member(conn: &mut PgConnection, org: OrgId, user: UserId) -> sqlx::Result<Option<MemberRow>> {
    sqlx::query_as!(
        MemberRow,
        r#"SELECT m.user_id AS "user_id: UserId", u.username, u.display_name, m.role, m.joined_at
         FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id = $2"#,
        org as _,
        user as _
    )
    .fetch_optional(conn)
    .await
}

pub async fn members(
    conn: &mut PgConnection,
    org: OrgId,
    after: Option<UserId>,
    limit: i64,
) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as!(
        MemberRow,
        r#"SELECT m.user_id AS "user_id: UserId", u.username, u.display_name, m.role, m.joined_at
         FROM org_members m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND ($2::uuid IS NULL OR m.user_id > $2) ORDER BY m.user_id LIMIT $3"#,
        org as _,
        after as _,
        limit
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, FromRow)]
pub struct InvitationRow {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub email: String,
    pub role: String,
    pub status: InvitationStatus,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_invitation(conn: &mut PgConnection, inv: &InvitationRow, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO org_invitations (id, org_id, email, role, token_hash, invited_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        inv.id as _,
        inv.org_id as _,
        &inv.email,
        &inv.role,
        token_hash,
        inv.invited_by as _,
        inv.created_at,
        inv.expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn pending_invitations(
    conn: &mut PgConnection,
    org: OrgId,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<InvitationRow>> {
    sqlx::query_as!(InvitationRow, r#"SELECT id AS "id: InvitationId", org_id AS "org_id: OrgId", email, role, status AS "status: InvitationStatus", invited_by AS "invited_by: UserId", created_at, expires_at FROM org_invitations WHERE org_id = $1 AND status = 'pending' AND expires_at > $2
         ORDER BY created_at, id"#, org as _, now)
    .fetch_all(conn)
    .await
}

/// The invitation for a token, locked for the rest of the transaction.
pub async fn invitation_by_token(conn: &mut PgConnection, token_hash: &[u8]) -> sqlx::Result<Option<InvitationRow>> {
    sqlx::query_as!(InvitationRow, r#"SELECT id AS "id: InvitationId", org_id AS "org_id: OrgId", email, role, status AS "status: InvitationStatus", invited_by AS "invited_by: UserId", created_at, expires_at FROM org_invitations WHERE token_hash = $1 FOR UPDATE"#, token_hash)
        .fetch_optional(conn)
        .await
}

/// Closes a pending invitation (accepted, declined, revoked); an expired pending one is closed as revoked
/// first so that a new invitation to the same address can be made.
pub async fn close_invitation(
    conn: &mut PgConnection,
    id: InvitationId,
    status: InvitationStatus,
    by: UserId,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(r#"UPDATE org_invitations SET status = $2, responded_at = $4, responded_by = $3 WHERE id = $1 AND status = 'pending'"#, id as _, status as _, by as _, now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn revoke_invitation(
    conn: &mut PgConnection,
    org: OrgId,
    id: InvitationId,
    by: UserId,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE org_invitations SET status = 'revoked', responded_at = $4, responded_by = $3
         WHERE id = $1 AND org_id = $2 AND status = 'pending'"#,
        id as _,
        org as _,
        by as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Closes expired pending invitations to `email` in `org`, freeing the address for a new one.
pub async fn expire_stale_invitations(
    conn: &mut PgConnection,
    org: OrgId,
    email: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE org_invitations SET status = 'revoked', responded_at = $3
         WHERE org_id = $1 AND lower(email) = lower($2) AND status = 'pending' AND expires_at <= $3"#,
        org as _,
        email,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn is_member_by_email(conn: &mut PgConnection, org: OrgId, email: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM org_members m JOIN users u ON u.id = m.user_id
                        WHERE m.org_id = $1 AND lower(u.email) = lower($2)) AS "exists!""#,
        org as _,
        email
    )
    .fetch_one(conn)
    .await
}

#[derive(Debug, FromRow)]
pub struct TeamRow {
    pub id: TeamId,
    pub org_id: OrgId,
    pub name: String,
    pub description: String,
    pub member_count: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_team(conn: &mut PgConnection, team: &TeamRow) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO teams (id, org_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5)"#,
        team.id as _,
        team.org_id as _,
        &team.name,
        &team.description,
        team.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn teams(conn: &mut PgConnection, org: OrgId) -> sqlx::Result<Vec<TeamRow>> {
    sqlx::query_as!(TeamRow, r#"SELECT t.id AS "id: TeamId", t.org_id AS "org_id: OrgId", t.name, t.description, t.created_at, (SELECT count(*) AS "count!" FROM team_members tm WHERE tm.team_id = t.id) AS "member_count!"
         FROM teams t WHERE t.org_id = $1 ORDER BY lower(t.name)"#, org as _)
    .fetch_all(conn)
    .await
}

pub async fn team_exists(conn: &mut PgConnection, org: OrgId, team: TeamId) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1 AND org_id = $2) AS "exists!""#,
        team as _,
        org as _
    )
    .fetch_one(conn)
    .await
}

pub async fn delete_team(conn: &mut PgConnection, org: OrgId, team: TeamId) -> sqlx::Result<bool> {
    let done =
        sqlx::query!(r#"DELETE FROM teams WHERE id = $1 AND org_id = $2"#, team as _, org as _).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

pub async fn add_team_member(
    conn: &mut PgConnection,
    org: OrgId,
    team: TeamId,
    user: UserId,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO team_members (team_id, org_id, user_id, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"#, team as _, org as _, user as _, now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_team_member(conn: &mut PgConnection, team: TeamId, user: UserId) -> sqlx::Result<bool> {
    let done = sqlx::query!(r#"DELETE FROM team_members WHERE team_id = $1 AND user_id = $2"#, team as _, user as _)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn team_members(conn: &mut PgConnection, team: TeamId) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as!(
        MemberRow,
        r#"SELECT m.user_id AS "user_id: UserId", u.username, u.display_name, m.role, tm.added_at AS joined_at
         FROM team_members tm JOIN org_members m ON m.org_id = tm.org_id AND m.user_id = tm.user_id
         JOIN users u ON u.id = tm.user_id
         WHERE tm.team_id = $1 ORDER BY lower(u.username)"#,
        team as _
    )
    .fetch_all(conn)
    .await
}

pub async fn org_id_by_slug(conn: &mut PgConnection, slug: &str) -> sqlx::Result<Option<uuid::Uuid>> {
    sqlx::query_scalar!(r#"SELECT id FROM organizations WHERE slug = $1"#, slug).fetch_optional(conn).await
}

pub async fn slug_of(conn: &mut PgConnection, org: uuid::Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(r#"SELECT slug FROM organizations WHERE id = $1"#, org).fetch_optional(conn).await
}

pub async fn owners(conn: &mut PgConnection, org: uuid::Uuid) -> sqlx::Result<Vec<uuid::Uuid>> {
    sqlx::query_scalar!(r#"SELECT user_id FROM org_members WHERE org_id = $1 AND role = 'owner' ORDER BY user_id"#, org)
        .fetch_all(conn)
        .await
}

/// The owners and admins of an organization other than `except`.
pub async fn managers_except(conn: &mut PgConnection, org: OrgId, except: UserId) -> sqlx::Result<Vec<uuid::Uuid>> {
    sqlx::query_scalar!(
        "SELECT user_id FROM org_members WHERE org_id = $1 AND role IN ('owner', 'admin') AND user_id <> $2",
        org as _,
        except as _
    )
    .fetch_all(conn)
    .await
}
