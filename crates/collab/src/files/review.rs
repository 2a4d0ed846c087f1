//! Review as rules: where a comment is anchored on a version, and who moves a version's status where.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{ProjectRole, VersionStatus};

/// Where on a version a comment points. Coordinates are fractions of the picture's width and height
/// (0 to 1), so they hold at any size it is shown at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = ReviewAnchor)]
pub enum Anchor {
    /// The version as a whole.
    Version,
    /// A point of an image.
    Point { x: f64, y: f64 },
    /// A rectangle of an image, from its top-left corner.
    Region { x: f64, y: f64, w: f64, h: f64 },
    /// A moment of audio or video, in milliseconds from its start.
    Time { at_ms: i64 },
    /// A page of a PDF, from 1.
    Page { page: i32 },
}

fn fraction(v: f64) -> bool {
    v.is_finite() && (0.0..=1.0).contains(&v)
}

impl Anchor {
    /// Why the anchor cannot be, if it cannot.
    pub fn check(&self) -> Result<(), &'static str> {
        match *self {
            Self::Version => Ok(()),
            Self::Point { x, y } if fraction(x) && fraction(y) => Ok(()),
            Self::Point { .. } => Err("a point's x and y are fractions from 0 to 1"),
            Self::Region { x, y, w, h }
                if fraction(x) && fraction(y) && w > 0.0 && h > 0.0 && fraction(x + w) && fraction(y + h) =>
            {
                Ok(())
            }
            Self::Region { .. } => {
                Err("a region lies within the picture: x, y from 0 to 1, w and h above 0, x + w and y + h at most 1")
            }
            Self::Time { at_ms } if at_ms >= 0 => Ok(()),
            Self::Time { .. } => Err("a time is 0 ms or later"),
            Self::Page { page } if page >= 1 => Ok(()),
            Self::Page { .. } => Err("a page is 1 or later"),
        }
    }
}

/// Whether the step from `from` to `to` exists, and whether `role` may take it: the makers (managers,
/// editors) put a version up for review, withdraw it, and bring it back after changes; the approvers
/// (managers, the client) approve it or ask for changes. An approved version stays approved.
pub fn step(from: VersionStatus, to: VersionStatus, role: ProjectRole) -> Result<(), StepRefused> {
    use VersionStatus::{Approved, ChangesRequested, Draft, InReview};
    let makers = matches!(role, ProjectRole::Manager | ProjectRole::Editor);
    let approvers = matches!(role, ProjectRole::Manager | ProjectRole::Client);
    let allowed = match (from, to) {
        (Draft, InReview) | (InReview, Draft) | (ChangesRequested, InReview) => makers,
        (InReview, Approved | ChangesRequested) => approvers,
        _ => return Err(StepRefused::NoSuchStep),
    };
    if allowed { Ok(()) } else { Err(StepRefused::NotYours) }
}

/// Why a status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRefused {
    NoSuchStep,
    NotYours,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_lie_within_their_version() {
        for ok in [
            Anchor::Version,
            Anchor::Point { x: 0.0, y: 1.0 },
            Anchor::Region { x: 0.5, y: 0.5, w: 0.5, h: 0.5 },
            Anchor::Time { at_ms: 0 },
            Anchor::Page { page: 1 },
        ] {
            assert!(ok.check().is_ok(), "{ok:?}");
        }
        for bad in [
            Anchor::Point { x: 1.01, y: 0.5 },
            Anchor::Point { x: f64::NAN, y: 0.5 },
            Anchor::Region { x: 0.6, y: 0.5, w: 0.5, h: 0.1 },
            Anchor::Region { x: 0.1, y: 0.1, w: 0.0, h: 0.1 },
            Anchor::Time { at_ms: -1 },
            Anchor::Page { page: 0 },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        let read: Anchor = serde_json::from_str(r#"{"kind":"region","x":0.1,"y":0.2,"w":0.3,"h":0.4}"#).unwrap();
        assert_eq!(read, Anchor::Region { x: 0.1, y: 0.2, w: 0.3, h: 0.4 });
    }

    #[test]
    fn makers_submit_and_approvers_decide() {
        use ProjectRole::*;
        use VersionStatus::*;
        assert_eq!(step(Draft, InReview, Editor), Ok(()));
        assert_eq!(step(Draft, InReview, Client), Err(StepRefused::NotYours));
        assert_eq!(step(InReview, Approved, Client), Ok(()));
        assert_eq!(step(InReview, Approved, Editor), Err(StepRefused::NotYours));
        assert_eq!(step(InReview, ChangesRequested, Manager), Ok(()));
        assert_eq!(step(ChangesRequested, InReview, Editor), Ok(()));
        assert_eq!(step(Approved, Draft, Manager), Err(StepRefused::NoSuchStep));
        assert_eq!(step(Draft, Approved, Manager), Err(StepRefused::NoSuchStep));
        assert_eq!(step(InReview, Approved, Viewer), Err(StepRefused::NotYours));
        assert_eq!(step(InReview, Approved, Commenter), Err(StepRefused::NotYours));
    }
}
