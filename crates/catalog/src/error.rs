//! The catalog's errors and their problem codes.

use platform::ApiError;
use platform::error::ConstraintAnswer;

use crate::state::TransitionError;

platform::codes! {
    /// The catalog's problem codes: identifiers, releases, review and distribution.
    pub enum CatalogCode in "catalog" {
        NotALabel = (UNPROCESSABLE_ENTITY, "not_a_label", "the organization is not a label or sub-label"),
        NotEditable = (CONFLICT, "not_editable", "the release is under review or released: only a draft or a release with changes requested is edited"),
        ReleaseNotReady = (UNPROCESSABLE_ENTITY, "release_not_ready", "the release fails its validation report; `errors` lists every problem"),
        NoRegistrant = (CONFLICT, "no_registrant", "the label has no ISRC registrant code to assign from"),
        NoUpcSource = (CONFLICT, "no_upc_source", "the label has neither a GS1 company prefix nor free codes in its pool"),
        CodesExhausted = (CONFLICT, "codes_exhausted", "every code of the label's registrant code or prefix for this year is used"),
        IdentifierTaken = (CONFLICT, "identifier_taken", "the ISRC or UPC names another track or release already"),
        NoDpid = (CONFLICT, "no_dpid", "neither the label nor a label above it has a DDEX party id (DPID) to send messages as"),
        RightsConflict = (CONFLICT, "rights_conflict", "rights claims on the release exceed the whole everywhere; staff resolve them before delivery"),
        TrackInUse = (CONFLICT, "track_in_use", "the track is on a release that is no longer editable"),
    }
}

/// How the catalog answers a violation of one of its named constraints.
pub const CONSTRAINTS: &[ConstraintAnswer<CatalogCode>] = &[
    ConstraintAnswer {
        constraint: "tracks_isrc_key",
        code: CatalogCode::IdentifierTaken,
        detail: "That ISRC is another track's already.",
        field: Some(("isrc", "is another track's ISRC")),
    },
    ConstraintAnswer {
        constraint: "releases_upc_key",
        code: CatalogCode::IdentifierTaken,
        detail: "That UPC is another release's already.",
        field: Some(("upc", "is another release's UPC")),
    },
    ConstraintAnswer {
        constraint: "upc_pool_code_key",
        code: CatalogCode::IdentifierTaken,
        detail: "A code of the list is in a pool already.",
        field: Some(("codes", "holds a code that is in a pool already")),
    },
    ConstraintAnswer {
        constraint: "isrc_registrants_pkey",
        code: CatalogCode::IdentifierTaken,
        detail: "That registrant code is another label's already.",
        field: Some(("isrc_registrants", "holds a code another label registered")),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("{0}")]
    Db(#[from] sqlx::Error),
}

impl From<CatalogError> for ApiError {
    fn from(err: CatalogError) -> Self {
        match err {
            CatalogError::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            CatalogError::Transition(err) => err.into(),
            CatalogError::Db(err) => platform::error::from_db(err, CONSTRAINTS),
        }
    }
}
