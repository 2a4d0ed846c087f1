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
