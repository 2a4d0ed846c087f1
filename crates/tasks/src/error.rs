//! Creative tasks' errors and their problem codes.

use platform::ApiError;
use platform::error::ConstraintAnswer;

platform::codes! {
    /// Creative tasks' problem codes: credits, freelancers, offers, claims and the lifecycle.
    pub enum TasksCode in "tasks" {
        NotAFreelancer = (FORBIDDEN, "not_a_freelancer", "the caller has no approved freelancer profile"),
        FreelancerExists = (CONFLICT, "freelancer_exists", "the caller has a freelancer profile already; change it instead"),
        OfferNotOpen = (CONFLICT, "offer_not_open", "the offer was answered, withdrawn or has expired"),
        AtWorkloadCap = (CONFLICT, "at_workload_cap", "the freelancer has as many active tasks as the cap allows"),
        NotOpenForClaims = (CONFLICT, "not_open_for_claims", "the task is not open to claims (or its claim window has closed)"),
        NotQualified = (CONFLICT, "not_qualified", "the freelancer does not qualify for the task at its escalation level"),
        TaskTaken = (CONFLICT, "task_taken", "another freelancer took the task first"),
        RevisionLimit = (CONFLICT, "revision_limit", "the task has had its revisions; a further change is a new task"),
        NotAssignable = (CONFLICT, "not_assignable", "the task cannot be assigned in its status"),
        ConfigPublished = (CONFLICT, "config_published", "a published or retired configuration cannot change; make a new draft"),
        DuplicateImage = (CONFLICT, "duplicate_image", "the style library has this picture already (a perceptual hash within 6 of 64 bits of another card's)"),
        CardRetired = (CONFLICT, "card_retired", "the style card is retired"),
        BriefUsed = (CONFLICT, "brief_used", "the brief was made into a task already; it no longer changes"),
        BriefNotReady = (CONFLICT, "brief_not_ready", "the brief has a required step without a value, or a step the client has not confirmed"),
        AudienceExists = (CONFLICT, "audience_exists", "the company has an audience of that name"),
        AudienceInUse = (CONFLICT, "audience_in_use", "a brief uses the audience"),
        FileKept = (CONFLICT, "file_kept", "a deliverable stays with its task; upload a new version instead"),
        NotInProgress = (CONFLICT, "not_in_progress", "the task is not in progress; its freelancer uploads files while it is"),
        NoDeliverable = (CONFLICT, "no_deliverable", "a delivery needs at least one file uploaded for it"),
    }
}

/// How creative tasks answer a violation of one of their named constraints.
pub const CONSTRAINTS: &[ConstraintAnswer<TasksCode>] = &[
    ConstraintAnswer {
        constraint: "freelancers_pkey",
        code: TasksCode::FreelancerExists,
        detail: "You have a freelancer profile already.",
        field: None,
    },
    ConstraintAnswer {
        constraint: "task_audiences_name_key",
        code: TasksCode::AudienceExists,
        detail: "The company has an audience of that name.",
        field: Some(("name", "is the name of another of the company's audiences")),
    },
    ConstraintAnswer {
        constraint: "task_briefs_audience_id_fkey",
        code: TasksCode::AudienceInUse,
        detail: "A brief uses the audience; take it off the brief first.",
        field: None,
    },
    ConstraintAnswer {
        constraint: "task_offers_one_live",
        code: TasksCode::TaskTaken,
        detail: "The task has a live offer already.",
        field: None,
    },
];

#[derive(Debug, thiserror::Error)]
pub enum TasksError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Db(#[from] sqlx::Error),
}

impl From<TasksError> for ApiError {
    fn from(err: TasksError) -> Self {
        match err {
            TasksError::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            TasksError::Db(err) => platform::error::from_db(err, CONSTRAINTS),
        }
    }
}
