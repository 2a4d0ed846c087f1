//! The royalties' ids and the kinds their rows hold.

platform::id_type!(
    /// A store's sales report, in one or several files.
    ReportId
);

platform::text_enum! {
    /// Where a report stands.
    pub enum ReportStatus {
        /// Some of its files are still to come.
        Receiving = "receiving",
        /// Every file is in; the job reads it soon.
        Queued = "queued",
        Reading = "reading",
        /// Read whole and kept.
        Loaded = "loaded",
        /// Refused whole (its errors kept, nothing of its lines).
        Refused = "refused",
    }
}

platform::id_type!(
    /// Someone a label pays royalties to: the label itself or a person.
    PayeeId
);
platform::id_type!(
    /// A split of a recording's or a release's revenue, from a date.
    SplitId
);
platform::id_type!(
    /// An advance or an expense to recoup.
    RecoupableId
);
platform::id_type!(
    /// A payee's statement for a closed period.
    StatementId
);

platform::text_enum! {
    /// Whether a payee is the label (the release owner) or a person.
    pub enum PayeeKind { Label = "label", Person = "person" }
}

platform::text_enum! {
    /// Where a payee's invitation stands: a person is paid once `active`; the label always is.
    pub enum PayeeStatus { Invited = "invited", Active = "active", Expired = "expired" }
}

platform::text_enum! {
    /// What a recoupable is.
    pub enum RecoupableKind { Advance = "advance", Expense = "expense" }
}

/// A closed month, `YYYY-MM`.
pub fn parse_period(raw: &str) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let (year, month) = raw.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let first = chrono::NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)?;
    let last = first.checked_add_months(chrono::Months::new(1))?.pred_opt()?;
    Some((first, last))
}
