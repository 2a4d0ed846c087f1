//! The task lifecycle: ten statuses, the transitions between them and who may make each (drawn in
//! docs/tasks.md). Completed and cancelled are final.

use platform::lifecycle::{self, TransitionError};

platform::text_enum! {
    /// Where a task stands.
    pub enum TaskStatus {
        Pending = "pending",
        Offered = "offered",
        Assigned = "assigned",
        InProgress = "in_progress",
        PendingAdminReview = "pending_admin_review",
        InReview = "in_review",
        RevisionRequested = "revision_requested",
        Completed = "completed",
        Cancelled = "cancelled",
        Unassignable = "unassignable",
    }
}

impl lifecycle::State for TaskStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl TaskStatus {
    /// Statuses in which a task counts toward its freelancer's workload.
    pub const ACTIVE: &'static [TaskStatus] = &[
        TaskStatus::Assigned,
        TaskStatus::InProgress,
        TaskStatus::PendingAdminReview,
        TaskStatus::InReview,
        TaskStatus::RevisionRequested,
    ];

    /// Whether the client may still cancel (nothing has been started).
    pub fn client_may_cancel(self) -> bool {
        matches!(self, Self::Pending | Self::Offered | Self::Assigned | Self::Unassignable)
    }
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The client company's people (those who may manage its tasks).
    Client,
    /// The task's freelancer (or, to accept or claim, the one offered it).
    Freelancer,
    /// Staff with `tasks.admin`.
    Staff,
    /// Timers and the assignment job.
    System,
}

use Actor::{Client, Freelancer, Staff, System};
use TaskStatus as S;

/// Every allowed transition and who may make it.
pub const TRANSITIONS: &[(TaskStatus, TaskStatus, &[Actor])] = &[
    (S::Pending, S::Offered, &[System]),
    (S::Offered, S::Pending, &[System, Freelancer]),
    (S::Offered, S::Assigned, &[Freelancer, Staff]),
    (S::Pending, S::Assigned, &[Freelancer, Staff]),
    (S::Unassignable, S::Assigned, &[Staff]),
    (S::Pending, S::Unassignable, &[System]),
    (S::Assigned, S::InProgress, &[Freelancer]),
    (S::RevisionRequested, S::InProgress, &[Freelancer]),
    (S::InProgress, S::PendingAdminReview, &[Freelancer]),
    (S::PendingAdminReview, S::InReview, &[Staff]),
    (S::PendingAdminReview, S::InProgress, &[Staff]),
    (S::InReview, S::Completed, &[Client, System]),
    (S::InReview, S::RevisionRequested, &[Client]),
    (S::Pending, S::Cancelled, &[Client, Staff]),
    (S::Offered, S::Cancelled, &[Client, Staff]),
    (S::Assigned, S::Cancelled, &[Client, Staff]),
    (S::Unassignable, S::Cancelled, &[Client, Staff]),
    (S::InProgress, S::Cancelled, &[Staff]),
    (S::PendingAdminReview, S::Cancelled, &[Staff]),
    (S::InReview, S::Cancelled, &[Staff]),
    (S::RevisionRequested, S::Cancelled, &[Staff]),
];

/// Checks one transition for one actor.
pub fn check(from: TaskStatus, to: TaskStatus, actor: Actor) -> Result<(), TransitionError<TaskStatus>> {
    lifecycle::check(TRANSITIONS, from, to, actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_statuses_lead_nowhere() {
        for to in TaskStatus::ALL {
            for actor in [Client, Freelancer, Staff, System] {
                assert!(check(S::Completed, *to, actor).is_err());
                assert!(check(S::Cancelled, *to, actor).is_err());
            }
        }
    }

    #[test]
    fn a_client_cancels_only_before_work_starts_and_staff_at_any_open_step() {
        for from in TaskStatus::ALL {
            let client = check(*from, S::Cancelled, Client).is_ok();
            assert_eq!(client, from.client_may_cancel(), "{from}");
            let staff = check(*from, S::Cancelled, Staff).is_ok();
            assert_eq!(staff, !matches!(from, S::Completed | S::Cancelled), "{from}");
        }
    }

    #[test]
    fn each_step_has_its_actor_only() {
        assert!(check(S::InReview, S::Completed, Client).is_ok());
        assert_eq!(
            check(S::InReview, S::Completed, Freelancer),
            Err(TransitionError::WrongActor(S::InReview, S::Completed))
        );
        assert_eq!(
            check(S::PendingAdminReview, S::InReview, Client),
            Err(TransitionError::WrongActor(S::PendingAdminReview, S::InReview))
        );
        assert_eq!(
            check(S::Assigned, S::Completed, Staff),
            Err(TransitionError::NotAllowed(S::Assigned, S::Completed))
        );
    }
}
