//! Label settings, code assignment and credited parties. Access to a label's catalog is held by its
//! staff with `catalog.manage`, or by the staff of any label above it (a parent label manages its
//! sub-labels' catalogs; a sub-label never its parent's).

use chrono::{DateTime, Datelike, Utc};
use identity::auth::Principal;
use identity::model::{OrgId, OrgKind};
use platform::error::FieldError;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{
    LabelParty, LabelPartyList, LabelPartyQuery, LabelPartyRequest, LabelSettings, PoolCounts, PoolImport,
    SettingsRequest,
};
use super::repo::{self, PartyRow};
use crate::error::{CatalogCode, CatalogError};
use crate::identifiers::{Isrc, Registrant, Upc, isni_valid};
use crate::model::PartyId;

pub const CATALOG_MANAGE: &str = "catalog.manage";
pub const CATALOG_REVIEW: &str = "catalog.review";

/// A label and those above it, nearest first.
#[derive(Debug, Clone)]
pub struct Lineage {
    pub orgs: Vec<Uuid>,
    pub name: String,
}

/// Checks that `org` is a label whose catalog the caller manages: 404 for an organization the caller
/// cannot see, 403 for one where they lack `catalog.manage`, 422 for an organization that is no label.
pub(crate) async fn require_manager(
    conn: &mut PgConnection,
    principal: &Principal,
    org: Uuid,
) -> Result<Lineage, ApiError> {
    let lineage = identity::service::organizations::lineage(conn, OrgId(org)).await?;
    let Some(own) = lineage.first() else { return Err(CatalogError::NotFound("label").into()) };
    let orgs = OrgId(org);
    if !identity::service::organizations::holds_in_lineage(conn, principal, orgs, CATALOG_MANAGE).await? {
        if identity::service::organizations::holds_in_lineage(conn, principal, orgs, "organizations.read").await? {
            return Err(identity::error::IdentityError::Forbidden(CATALOG_MANAGE.into()).into());
        }
        return Err(CatalogError::NotFound("label").into());
    }
    if !matches!(own.kind, OrgKind::Label | OrgKind::SubLabel) {
        return Err(ApiError::new(CatalogCode::NotALabel, "Only a label or a sub-label keeps a catalog."));
    }
    Ok(Lineage { orgs: lineage.iter().map(|o| o.id.0).collect(), name: own.name.clone() })
}

/// Whether the caller may see and manage the label's catalog (no error: lists and reads use it).
/// Whether `principal` manages the label's catalog (its staff, or a parent label's): what the pages
/// offer them. Every action checks again.
pub async fn is_manager(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<bool, ApiError> {
    manages(&mut *ctx.db.acquire().await?, principal, org).await
}

pub(crate) async fn manages(conn: &mut PgConnection, principal: &Principal, org: Uuid) -> Result<bool, ApiError> {
    identity::service::organizations::holds_in_lineage(conn, principal, OrgId(org), CATALOG_MANAGE).await
}

/// Whether the caller reviews releases (Backline's staff).
pub(crate) fn reviews(principal: &Principal) -> bool {
    identity::authz::authorize(principal, CATALOG_REVIEW, identity::authz::Target::Platform).is_ok()
}

async fn settings_dto(conn: &mut PgConnection, org: Uuid) -> Result<LabelSettings, ApiError> {
    let row = repo::settings(conn, org).await?;
    let registrants = repo::registrants(conn, org).await?.into_iter().map(|(code, _)| code).collect();
    let (free, taken) = repo::pool_counts(conn, org).await?;
    Ok(LabelSettings {
        label_id: org,
        dpid: row.as_ref().and_then(|r| r.dpid.clone()),
        gs1_prefix: row.as_ref().and_then(|r| r.gs1_prefix.clone()),
        isrc_registrants: registrants,
        upc_pool: PoolCounts { free, taken },
        updated_at: row.map(|r| r.updated_at),
    })
}

pub async fn settings(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<LabelSettings, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    require_manager(&mut conn, principal, org).await?;
    settings_dto(&mut conn, org).await
}

fn cleared(value: Option<&str>) -> Option<Option<String>> {
    value.map(|v| Some(v.trim().to_owned()).filter(|v| !v.is_empty()))
}

pub async fn put_settings(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    req: SettingsRequest,
) -> Result<LabelSettings, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    let old = repo::settings(&mut tx, org).await?;
    let mut errors = Vec::new();
    let dpid = cleared(req.dpid.as_deref()).unwrap_or_else(|| old.as_ref().and_then(|o| o.dpid.clone()));
    if let Some(d) = &dpid
        && !dpid_valid(d)
    {
        errors.push(FieldError::new(
            "dpid",
            "invalid_format",
            "must be a DDEX party id: PADPIDA and letters or digits",
        ));
    }
    let prefix = cleared(req.gs1_prefix.as_deref()).unwrap_or_else(|| old.as_ref().and_then(|o| o.gs1_prefix.clone()));
    if let Some(p) = &prefix
        && !(6..=11).contains(&p.len())
    {
        errors.push(FieldError::new("gs1_prefix", "invalid_format", "must be a GS1 company prefix of 6 to 11 digits"));
    } else if let Some(p) = &prefix
        && !p.bytes().all(|c| c.is_ascii_digit())
    {
        errors.push(FieldError::new("gs1_prefix", "invalid_format", "must be digits only"));
    }
    let mut wanted = Vec::new();
    for (i, code) in req.isrc_registrants.iter().flatten().enumerate() {
        match Registrant::parse(code) {
            Ok(r) if !wanted.contains(&r.as_str().to_owned()) => wanted.push(r.as_str().to_owned()),
            Ok(_) => {}
            Err(why) => errors.push(FieldError::new(format!("isrc_registrants[{i}]"), "invalid_format", why)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    repo::put_settings(&mut tx, org, dpid.as_deref(), prefix.as_deref(), now).await?;
    if req.isrc_registrants.is_some() {
        for (code, used) in repo::registrants(&mut tx, org).await? {
            if !wanted.contains(&code) {
                if used {
                    return Err(ApiError::invalid_field(
                        "isrc_registrants",
                        "immutable",
                        format!("{code} has assigned ISRCs and stays with the label"),
                    ));
                }
                repo::remove_registrant(&mut tx, org, &code).await?;
            }
        }
        for code in &wanted {
            match repo::registrant_owner(&mut tx, code).await? {
                Some(owner) if owner == org => {}
                Some(_) => {
                    return Err(ApiError::invalid_field(
                        "isrc_registrants",
                        "taken",
                        format!("{code} is another label's registrant code"),
                    ));
                }
                None => repo::add_registrant(&mut tx, org, code, now).await.map_err(CatalogError::from)?,
            }
        }
    }
    platform::audit::Entry::new(principal.actor(), "label.settings", "organization", org)
        .organization(org)
        .after(json!({"dpid": dpid, "gs1_prefix": prefix, "isrc_registrants": req.isrc_registrants}))
        .record(&mut tx, now)
        .await?;
    let answer = settings_dto(&mut tx, org).await?;
    tx.commit().await?;
    Ok(answer)
}

pub fn dpid_valid(text: &str) -> bool {
    text.strip_prefix("PADPIDA")
        .is_some_and(|rest| (1..=30).contains(&rest.len()) && rest.bytes().all(|c| c.is_ascii_alphanumeric()))
}

pub async fn import_pool(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    req: PoolImport,
) -> Result<LabelSettings, ApiError> {
    if req.codes.is_empty() || req.codes.len() > 10_000 {
        return Err(ApiError::invalid_field("codes", "invalid_length", "must hold 1 to 10,000 codes"));
    }
    let mut errors = Vec::new();
    let mut codes = Vec::with_capacity(req.codes.len());
    let mut seen = std::collections::HashSet::new();
    for (i, text) in req.codes.iter().enumerate() {
        match Upc::parse(text) {
            Ok(upc) if !seen.insert(upc.gtin13()) => {
                errors.push(FieldError::new(format!("codes[{i}]"), "taken", "appears twice in the list"));
            }
            Ok(upc) => codes.push(upc.as_str().to_owned()),
            Err(why) => errors.push(FieldError::new(format!("codes[{i}]"), "invalid_format", why)),
        }
        if errors.len() >= 100 {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    let added = repo::add_to_pool(&mut tx, org, &codes, now).await.map_err(CatalogError::from)?;
    platform::audit::Entry::new(principal.actor(), "label.upc_pool_import", "organization", org)
        .organization(org)
        .after(json!({"added": added}))
        .record(&mut tx, now)
        .await?;
    let answer = settings_dto(&mut tx, org).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Assigns the next ISRC of the label (or its nearest parent with a registrant code): the year's next
/// designation number, skipping any number a track was given by hand. Concurrent assignments never
/// share a number, and a number is never given twice.
pub(crate) async fn assign_isrc(
    conn: &mut PgConnection,
    lineage: &Lineage,
    now: DateTime<Utc>,
) -> Result<Isrc, ApiError> {
    let mut registrant = None;
    for org in &lineage.orgs {
        if let Some((code, _)) = repo::registrants(conn, *org).await?.into_iter().next() {
            registrant = Some(code);
            break;
        }
    }
    let Some(code) = registrant else {
        return Err(ApiError::new(
            CatalogCode::NoRegistrant,
            "The label has no ISRC registrant code; add one in its settings.",
        ));
    };
    let registrant = Registrant::parse(&code)
        .map_err(|why| ApiError::internal(anyhow::anyhow!("stored registrant {code}: {why}")))?;
    let year = now.year() % 100;
    loop {
        let number = match repo::next_isrc_number(conn, &code, year).await {
            Ok(n) => n,
            Err(e)
                if e.as_database_error().and_then(|d| d.constraint()) == Some("isrc_sequences_last_number_check") =>
            {
                return Err(ApiError::new(
                    CatalogCode::CodesExhausted,
                    format!("Registrant {code} has given all 99,999 ISRCs of this year."),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let isrc = Isrc::assign(&registrant, year as u32, number as u32);
        if !repo::isrc_in_use(conn, isrc.as_str()).await? {
            return Ok(isrc);
        }
    }
}

/// Assigns a UPC to a release of the label: the lowest free code of the nearest pool with free codes,
/// else the next code of the nearest GS1 prefix (skipping codes in use).
pub(crate) async fn assign_upc(
    conn: &mut PgConnection,
    lineage: &Lineage,
    now: DateTime<Utc>,
) -> Result<Upc, ApiError> {
    for org in &lineage.orgs {
        if let Some(code) = repo::take_from_pool(conn, *org, now).await? {
            return Upc::parse(&code).map_err(|why| ApiError::internal(anyhow::anyhow!("pooled code {code}: {why}")));
        }
    }
    for org in &lineage.orgs {
        while let Some((prefix, item)) = repo::next_item_reference(conn, *org).await? {
            let Some(upc) = Upc::from_prefix(&prefix, item as u64) else {
                return Err(ApiError::new(
                    CatalogCode::CodesExhausted,
                    format!("Every code of the GS1 prefix {prefix} is used; import codes or set a new prefix."),
                ));
            };
            if !repo::upc_in_use(conn, upc.as_str()).await? {
                return Ok(upc);
            }
        }
    }
    Err(ApiError::new(
        CatalogCode::NoUpcSource,
        "The label has neither free codes in its pool nor a GS1 company prefix; add one in its settings.",
    ))
}

fn party_fields(row: &mut PartyRow, req: &LabelPartyRequest, errors: &mut Vec<FieldError>) {
    if let Some(name) = &req.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("name", "invalid_length", "must be 1 to 200 characters"));
        }
        row.name = name.to_owned();
    }
    if let Some(roster) = req.roster {
        row.roster = roster;
    }
    if let Some(isni) = cleared(req.isni.as_deref()) {
        let isni = isni.map(|i| i.replace(' ', "").to_ascii_uppercase());
        if isni.as_deref().is_some_and(|i| !isni_valid(i)) {
            errors.push(FieldError::new(
                "isni",
                "invalid_format",
                "must be 16 characters with a correct check character",
            ));
        }
        row.isni = isni;
    }
    if let Some(ipi) = cleared(req.ipi.as_deref()) {
        if ipi.as_deref().is_some_and(|i| !(9..=11).contains(&i.len()) || !i.bytes().all(|c| c.is_ascii_digit())) {
            errors.push(FieldError::new("ipi", "invalid_format", "must be 9 to 11 digits"));
        }
        row.ipi = ipi;
    }
    if req.artist_profile_id.is_some() {
        row.artist_profile_id = req.artist_profile_id;
    }
}

pub async fn create_party(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    req: LabelPartyRequest,
) -> Result<LabelParty, ApiError> {
    let now = ctx.clock.now();
    let mut row = PartyRow {
        id: PartyId::new(),
        org_id: org,
        name: String::new(),
        roster: false,
        isni: None,
        ipi: None,
        artist_profile_id: None,
        created_at: now,
        updated_at: now,
    };
    let mut errors = Vec::new();
    if req.name.is_none() {
        errors.push(FieldError::new("name", "required", "is required"));
    }
    party_fields(&mut row, &req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    repo::insert_party(&mut tx, &row).await.map_err(party_conflict)?;
    platform::audit::Entry::new(principal.actor(), "catalog_party.create", "catalog_party", row.id.0)
        .organization(org)
        .after(json!({"name": row.name, "roster": row.roster}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(row.into())
}

fn party_conflict(err: sqlx::Error) -> ApiError {
    if err.as_database_error().and_then(|d| d.constraint()) == Some("catalog_parties_name_key") {
        return ApiError::invalid_field("name", "taken", "the label credits someone of that name already");
    }
    CatalogError::from(err).into()
}

pub async fn update_party(
    ctx: &AppContext,
    principal: &Principal,
    id: PartyId,
    req: LabelPartyRequest,
) -> Result<LabelParty, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = repo::party(&mut tx, id).await?.ok_or(CatalogError::NotFound("party"))?;
    if !manages(&mut tx, principal, row.org_id).await? {
        return Err(CatalogError::NotFound("party").into());
    }
    let mut errors = Vec::new();
    party_fields(&mut row, &req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    row.updated_at = now;
    repo::update_party(&mut tx, &row).await.map_err(party_conflict)?;
    platform::audit::Entry::new(principal.actor(), "catalog_party.update", "catalog_party", id.0)
        .organization(row.org_id)
        .after(json!({"name": row.name, "roster": row.roster, "isni": row.isni, "ipi": row.ipi}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(row.into())
}

pub async fn parties(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    query: LabelPartyQuery,
) -> Result<LabelPartyList, ApiError> {
    let page = PageParams { limit: query.limit, cursor: query.cursor };
    let limit = page.limit()?;
    let after: Option<String> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    require_manager(&mut conn, principal, org).await?;
    let rows =
        repo::parties_of(&mut conn, org, query.roster.unwrap_or(false), after.as_deref(), i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| r.name.clone());
    Ok(LabelPartyList { items: page.items.into_iter().map(LabelParty::from).collect(), next_cursor: page.next_cursor })
}
