//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::PartyRow;
use crate::model::PartyId;

/// A label's identifier settings. Codes are assigned from the label's own settings or, for a
/// sub-label without them, from the nearest parent label's.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LabelSettings {
    pub label_id: Uuid,
    /// DDEX party id (`PADPIDA...`), the sender of the label's messages when it has one.
    pub dpid: Option<String>,
    /// GS1 company prefix (6–11 digits) that UPCs are made from.
    pub gs1_prefix: Option<String>,
    /// ISRC registrant codes (country and registrant, such as `DEA12`), the first used for new codes.
    pub isrc_registrants: Vec<String>,
    /// Bought codes imported into the label's pool: taken before the prefix is used.
    pub upc_pool: PoolCounts,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PoolCounts {
    pub free: i64,
    pub taken: i64,
}

/// Change a label's identifier settings; a field left out stays as it is, `""` (or `[]`) clears it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsRequest {
    pub dpid: Option<String>,
    pub gs1_prefix: Option<String>,
    /// The whole list; a code from which ISRCs were assigned cannot be removed.
    pub isrc_registrants: Option<Vec<String>>,
}

/// Codes bought from GS1 or a reseller, imported into the label's pool (at most 10,000 at once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolImport {
    /// UPC-A or EAN-13 codes, each with a correct check digit.
    pub codes: Vec<String>,
}

/// An artist or contributor the label credits.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LabelParty {
    pub id: PartyId,
    pub label_id: Uuid,
    pub name: String,
    /// On the label's roster (one of its release artists).
    pub roster: bool,
    pub isni: Option<String>,
    pub ipi: Option<String>,
    /// The artist's Backline profile, where one exists.
    pub artist_profile_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PartyRow> for LabelParty {
    fn from(r: PartyRow) -> Self {
        Self {
            id: r.id,
            label_id: r.org_id,
            name: r.name,
            roster: r.roster,
            isni: r.isni,
            ipi: r.ipi,
            artist_profile_id: r.artist_profile_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Add or change an artist or contributor; when changing, a field left out stays, `""` clears it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelPartyRequest {
    pub name: Option<String>,
    pub roster: Option<bool>,
    /// 16 characters, the last a check character (spaces allowed).
    pub isni: Option<String>,
    /// 9 to 11 digits.
    pub ipi: Option<String>,
    pub artist_profile_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LabelPartyList {
    pub items: Vec<LabelParty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LabelPartyQuery {
    /// Only the roster's artists.
    pub roster: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}
