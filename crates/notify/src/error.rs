//! Notifications' problem codes.

platform::codes! {
    /// Notifications' and jobs' problem codes.
    pub enum NotifyCode in "notify" {
        InvalidLastEventId = (BAD_REQUEST, "invalid_last_event_id", "`Last-Event-ID` is not an event id this stream sent"),
        JobNotDead = (CONFLICT, "job_not_dead", "only a dead job can be retried"),
    }
}
