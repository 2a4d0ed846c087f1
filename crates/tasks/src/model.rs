//! Creative tasks' value types: ids, and the typed kinds and states stored as text.

use chrono::{DateTime, Duration, Utc};

platform::id_type!(
    /// A creative task.
    TaskId
);
platform::id_type!(
    /// An offer of a task to one freelancer.
    OfferId
);
platform::id_type!(
    /// A task category.
    CategoryId
);

platform::text_enum! {
    /// How soon a task is due, from its deadline when it is created.
    pub enum Urgency { Critical = "critical", Urgent = "urgent", Standard = "standard", Flexible = "flexible" }
}

impl Urgency {
    /// ≤ 4 h critical, ≤ 24 h urgent, ≤ 72 h standard, else flexible.
    pub fn of(deadline: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let left = deadline - now;
        if left <= Duration::hours(4) {
            Self::Critical
        } else if left <= Duration::hours(24) {
            Self::Urgent
        } else if left <= Duration::hours(72) {
            Self::Standard
        } else {
            Self::Flexible
        }
    }
}

platform::text_enum! {
    /// How demanding a task is; detected from its brief or set by staff.
    pub enum Complexity { Simple = "simple", Intermediate = "intermediate", Advanced = "advanced", Expert = "expert" }
}

platform::text_enum! {
    /// A freelancer's level of experience.
    pub enum Experience { Junior = "junior", Mid = "mid", Senior = "senior", Expert = "expert" }
}

platform::text_enum! {
    /// Where a freelancer's onboarding stands: only `approved` freelancers are offered work.
    pub enum FreelancerStatus { Pending = "pending", Approved = "approved", Rejected = "rejected", Suspended = "suspended" }
}

platform::text_enum! {
    /// Where an offer stands.
    pub enum OfferStatus {
        Offered = "offered",
        Accepted = "accepted",
        Declined = "declined",
        Expired = "expired",
        Withdrawn = "withdrawn",
    }
}

platform::text_enum! {
    /// Why a freelancer declined an offer.
    pub enum DeclineReason {
        TooBusy = "too_busy",
        SkillMismatch = "skill_mismatch",
        DeadlineTooTight = "deadline_too_tight",
        LowCredits = "low_credits",
        PersonalConflict = "personal_conflict",
        Other = "other",
    }
}

platform::id_type!(
    /// A style reference card of the library.
    StyleCardId
);
platform::id_type!(
    /// A brief, built in steps.
    BriefId
);
platform::id_type!(
    /// A company's saved audience.
    AudienceId
);
platform::id_type!(
    /// A company's file for its work: a brand logo or asset, a brief's attachment.
    TaskFileId
);

platform::text_enum! {
    /// Where a style card stands: a draft until its image is in, then active; retired cards stay on the
    /// briefs that chose them.
    pub enum StyleCardStatus { Draft = "draft", Active = "active", Retired = "retired" }
}

platform::text_enum! {
    /// What a company's file is for.
    pub enum FilePurpose {
        BrandLogo = "brand_logo",
        BrandAsset = "brand_asset",
        BriefAttachment = "brief_attachment",
        Deliverable = "deliverable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgency_at_each_boundary() {
        let now = Utc::now();
        let at = |h: i64, s: i64| Urgency::of(now + Duration::hours(h) + Duration::seconds(s), now);
        assert_eq!(at(4, 0), Urgency::Critical);
        assert_eq!(at(4, 1), Urgency::Urgent);
        assert_eq!(at(24, 0), Urgency::Urgent);
        assert_eq!(at(24, 1), Urgency::Standard);
        assert_eq!(at(72, 0), Urgency::Standard);
        assert_eq!(at(72, 1), Urgency::Flexible);
    }
}
