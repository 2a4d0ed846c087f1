//! Collaboration's errors and their problem codes.

use platform::ApiError;
use platform::error::ConstraintAnswer;

platform::codes! {
    /// Collaboration's problem codes: projects, their members, conversations and messages.
    pub enum CollabCode in "collab" {
        ProjectSlugTaken = (CONFLICT, "project_slug_taken", "the organization has a project with this slug"),
        FileExists = (CONFLICT, "file_exists", "the folder has a file of this name (uploaded at the same moment); upload again to make a new version"),
        ChannelExists = (CONFLICT, "channel_exists", "the project has a channel of this name"),
        LastManager = (CONFLICT, "last_manager", "a project keeps at least one manager; make another member manager first"),
        ReadOnly = (FORBIDDEN, "read_only", "the caller may read the conversation but not write in it (a project's viewer)"),
        EditWindowClosed = (CONFLICT, "edit_window_closed", "a message is edited by its author within 15 minutes of posting it"),
        NotTheAuthor = (FORBIDDEN, "not_the_author", "only a message's author edits it"),
        MessageDeleted = (CONFLICT, "message_deleted", "the message was deleted"),
        TooManyReactions = (CONFLICT, "too_many_reactions", "a message holds at most 50 distinct reactions; add to one of them"),
        TooManyPins = (CONFLICT, "too_many_pins", "a conversation keeps at most 50 pinned messages; unpin one first"),
        NotAGroup = (CONFLICT, "not_a_group", "people are added to and leave groups only; a channel's are its project's, a thread's its object's, a direct conversation's its two"),
        GroupFull = (CONFLICT, "group_full", "a group holds at most 50 people"),
        FileQuarantined = (CONFLICT, "file_quarantined", "the version waits for its virus scan, or failed it: it is not downloaded, linked or approved"),
        FileInfected = (CONFLICT, "file_infected", "the file's content failed the virus scan; nothing was kept"),
        UseProjectFiles = (CONFLICT, "use_project_files", "a project's channel takes the project's files as attachments (`files`), so that its storage counts them; upload there first"),
        LinkExpired = (GONE, "link_expired", "the download link has expired; ask for a new one"),
        PlanLimit = (CONFLICT, "plan_limit", "the organization's plan allows no more of this (open projects, people on projects); a dearer plan allows more"),
        QuotaExceeded = (CONFLICT, "quota_exceeded", "the organization's storage allowance would be passed; nothing was kept"),
        TicketSettled = (CONFLICT, "ticket_settled", "the ticket is already resolved or closed"),
        TicketNotSettled = (CONFLICT, "ticket_not_resolved", "the ticket is open: it is rated once resolved or closed, and only a settled ticket is reopened"),
        ReopenWindowClosed = (CONFLICT, "reopen_window_closed", "a ticket is reopened within 7 days of its resolution; after that, open a new one"),
        NotTheRequester = (FORBIDDEN, "not_the_requester", "only the ticket's requester rates it"),
        CannedReplyExists = (CONFLICT, "canned_reply_exists", "a canned reply has this title"),
        UnknownSubject = (NOT_FOUND, "unknown_subject", "no conversation can be attached to this kind of object"),
        NotApproved = (CONFLICT, "not_approved", "only an approved version of a file is handed to a release, a track, a task or a contract"),
        TemplateExists = (CONFLICT, "template_exists", "the organization has a project template of this name"),
    }
}

/// How collaboration answers a violation of one of its named constraints.
pub const CONSTRAINTS: &[ConstraintAnswer<CollabCode>] = &[
    ConstraintAnswer {
        constraint: "projects_slug_key",
        code: CollabCode::ProjectSlugTaken,
        detail: "The organization has a project with this slug.",
        field: Some(("slug", "is the slug of another of the organization's projects")),
    },
    ConstraintAnswer {
        constraint: "project_files_name_key",
        code: CollabCode::FileExists,
        detail: "The folder has a file of this name.",
        field: Some(("name", "is the name of another file in the folder")),
    },
    ConstraintAnswer {
        constraint: "conversations_channel_name_key",
        code: CollabCode::ChannelExists,
        detail: "The project has a channel of this name.",
        field: Some(("name", "is the name of another of the project's channels")),
    },
    ConstraintAnswer {
        constraint: "project_templates_name_key",
        code: CollabCode::TemplateExists,
        detail: "The organization has a project template of this name.",
        field: Some(("name", "is the name of another of the organization's templates")),
    },
    ConstraintAnswer {
        constraint: "support_canned_replies_title_key",
        code: CollabCode::CannedReplyExists,
        detail: "A canned reply has this title.",
        field: Some(("title", "is the title of another canned reply")),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum CollabError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Db(#[from] sqlx::Error),
}

impl From<CollabError> for ApiError {
    fn from(err: CollabError) -> Self {
        match err {
            CollabError::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            CollabError::Db(err) => platform::error::from_db(err, CONSTRAINTS),
        }
    }
}
