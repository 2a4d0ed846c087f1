//! Collaboration's value types: ids, and the typed kinds, states and roles stored as text.

platform::id_type!(
    /// A project of an organization.
    ProjectId
);
platform::id_type!(
    /// A conversation: a project's channel or an object's thread.
    ConversationId
);
platform::id_type!(
    /// A message in a conversation.
    MessageId
);

platform::id_type!(
    /// A file of a project (all its versions).
    FileId
);

platform::text_enum! {
    /// What a project's file is for.
    pub enum FileCategory { Design = "design", Reference = "reference", Final = "final", Feedback = "feedback", Other = "other" }
}

platform::text_enum! {
    /// Where a version's review stands.
    pub enum VersionStatus {
        Draft = "draft",
        InReview = "in_review",
        Approved = "approved",
        ChangesRequested = "changes_requested",
    }
}

platform::text_enum! {
    /// Where a version stands with the virus scanner: `pending` (quarantined until scanned), `clean`,
    /// or `infected` (quarantined for good).
    pub enum ScanStatus { Pending = "pending", Clean = "clean", Infected = "infected" }
}

platform::text_enum! {
    /// Where a project stands.
    pub enum ProjectStatus {
        Planning = "planning",
        Active = "active",
        OnHold = "on_hold",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

platform::text_enum! {
    /// How urgent a project is.
    pub enum Priority { Low = "low", Medium = "medium", High = "high", Urgent = "urgent" }
}

platform::text_enum! {
    /// What a member may do in a project: managers change it and its members; editors add its
    /// content; commenters and clients take part in its conversations; viewers read.
    pub enum ProjectRole {
        Manager = "manager",
        Editor = "editor",
        Commenter = "commenter",
        Viewer = "viewer",
        Client = "client",
    }
}

impl ProjectRole {
    /// Whether the role may post in the project's conversations.
    pub fn may_post(self) -> bool {
        self != Self::Viewer
    }

    /// Whether the role may change the project, its members and its channels, and remove messages.
    pub fn may_manage(self) -> bool {
        self == Self::Manager
    }
}

platform::text_enum! {
    /// A project's channel, the thread attached to a business object, a direct conversation between two
    /// people, or a group of up to 50.
    pub enum ConversationKind { Channel = "channel", Thread = "thread", Direct = "direct", Group = "group" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_viewers_read_without_posting_and_only_managers_manage() {
        let posting: Vec<_> = ProjectRole::ALL.iter().filter(|r| r.may_post()).map(|r| r.as_str()).collect();
        assert_eq!(posting, ["manager", "editor", "commenter", "client"]);
        let managing: Vec<_> = ProjectRole::ALL.iter().filter(|r| r.may_manage()).map(|r| r.as_str()).collect();
        assert_eq!(managing, ["manager"]);
    }
}

platform::id_type!(
    /// A support ticket.
    TicketId
);

platform::text_enum! {
    /// Where a support ticket stands: `open` until an agent first answers, then waiting on one side
    /// (`pending_customer`, `pending_staff`), `resolved` by an agent, `closed` by its requester or seven
    /// days after it was resolved.
    pub enum TicketStatus {
        Open = "open",
        PendingCustomer = "pending_customer",
        PendingStaff = "pending_staff",
        Resolved = "resolved",
        Closed = "closed",
    }
}

impl TicketStatus {
    /// Whether the ticket is settled (resolved or closed): its timers no longer run.
    pub fn settled(self) -> bool {
        matches!(self, Self::Resolved | Self::Closed)
    }
}

platform::text_enum! {
    /// What a support ticket is about.
    pub enum TicketCategory {
        Account = "account",
        Payments = "payments",
        Payouts = "payouts",
        Tickets = "tickets",
        Bookings = "bookings",
        Releases = "releases",
        Royalties = "royalties",
        Tasks = "tasks",
        Projects = "projects",
        Technical = "technical",
        Other = "other",
    }
}
