//! The release lifecycle: nine statuses, the transitions between them and who may make each (drawn in
//! docs/catalog.md). A label edits a release only in draft or when changes are requested.

use platform::lifecycle;

platform::text_enum! {
    /// Where a release stands.
    pub enum ReleaseStatus {
        Draft = "draft", Submitted = "submitted", ChangesRequested = "changes_requested", Approved = "approved",
        Scheduled = "scheduled", Delivered = "delivered", Live = "live", TakedownRequested = "takedown_requested",
        TakenDown = "taken_down",
    }
}

impl ReleaseStatus {
    /// Whether the label may change the release's metadata and track list.
    pub fn editable(self) -> bool {
        matches!(self, Self::Draft | Self::ChangesRequested)
    }
}

impl lifecycle::State for ReleaseStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

platform::text_enum! {
    /// Who asks for a transition.
    pub enum Actor {
        /// The label's staff (of the release's label or a parent label).
        Label = "label",
        /// Backline's review staff.
        Staff = "staff",
        /// Backline itself: deliveries, acknowledgements, timers.
        System = "system",
    }
}

use Actor::{Label, Staff, System};
use ReleaseStatus::*;

/// Every allowed transition and who may make it. Anything else is refused.
pub const TRANSITIONS: &[(ReleaseStatus, ReleaseStatus, &[Actor])] = &[
    (Draft, Submitted, &[Label]),
    (ChangesRequested, Submitted, &[Label]),
    // The label may take a submission back before it is reviewed.
    (Submitted, Draft, &[Label]),
    (Submitted, Approved, &[Staff]),
    (Submitted, ChangesRequested, &[Staff]),
    // Choosing stores schedules delivery; unscheduling returns to approved.
    (Approved, Scheduled, &[Label, Staff]),
    (Scheduled, Approved, &[Label, Staff]),
    (Scheduled, Delivered, &[System]),
    (Delivered, Live, &[System]),
    (Scheduled, TakedownRequested, &[Label, Staff]),
    (Delivered, TakedownRequested, &[Label, Staff]),
    (Live, TakedownRequested, &[Label, Staff]),
    (TakedownRequested, TakenDown, &[System]),
];

pub type TransitionError = lifecycle::TransitionError<ReleaseStatus>;

/// Checks one transition for one actor.
pub fn check(from: ReleaseStatus, to: ReleaseStatus, actor: Actor) -> Result<(), TransitionError> {
    lifecycle::check(TRANSITIONS, from, to, actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules of docs/catalog.md stated as reasons: who may move a release from `from` to `to`.
    fn who_may(from: ReleaseStatus, to: ReleaseStatus) -> Option<Vec<Actor>> {
        match (from, to) {
            // Only the label submits, and only what it may edit; it may withdraw an unreviewed submission.
            (Draft | ChangesRequested, Submitted) | (Submitted, Draft) => Some(vec![Label]),
            // Review is staff's alone.
            (Submitted, Approved | ChangesRequested) => Some(vec![Staff]),
            // Scheduling is the label's choice (staff may act for it).
            (Approved, Scheduled) | (Scheduled, Approved) => Some(vec![Label, Staff]),
            // What stores did is reported by Backline itself.
            (Scheduled, Delivered) | (Delivered, Live) | (TakedownRequested, TakenDown) => Some(vec![System]),
            // Anything that may reach a store may be taken down.
            (Scheduled | Delivered | Live, TakedownRequested) => Some(vec![Label, Staff]),
            _ => None,
        }
    }

    #[test]
    fn the_table_matches_the_rules_for_every_pair_and_actor() {
        for &from in ReleaseStatus::ALL {
            for &to in ReleaseStatus::ALL {
                for &actor in Actor::ALL {
                    let expected = who_may(from, to).is_some_and(|who| who.contains(&actor));
                    assert_eq!(check(from, to, actor).is_ok(), expected, "{from} -> {to} by {actor}");
                }
            }
        }
    }

    #[test]
    fn taken_down_is_final_and_only_draft_and_changes_requested_are_editable() {
        assert!(ReleaseStatus::ALL.iter().all(|&to| check(TakenDown, to, Staff).is_err()));
        let editable: Vec<_> = ReleaseStatus::ALL.iter().filter(|s| s.editable()).collect();
        assert_eq!(editable, [&Draft, &ChangesRequested]);
    }
}
