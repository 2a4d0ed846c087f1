//! DDEX DSR flat files, read line by line: the Basic Audio Profile's records in their 1.3 and 1.4
//! versions (dispatched on the full versioned record type), leniently where spreadsheet exports differ
//! (CRLF, extra empty cells at the end, `TRUE`/`false`), strictly where money depends on it. Each
//! usage line comes out flat, with what its block says of the recording and release it names, ready to
//! be loaded; every problem comes out with its line, record type and cell (the first [`MAX_ERRORS`]),
//! and the file's own counts are checked at its end.

// foldhash: several lookups a line of short keys, where SipHash took a fifth of the reading.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::io::BufRead;

use crate::allocation::Allocation;

/// The most sales lines a reader takes room for at once (128 MB of address space, resident only as
/// it fills); a larger file's list grows as it needs.
pub const RESERVED_LINES: usize = 1 << 24;

/// The most problems a report lists (more are counted, not listed).
pub const MAX_ERRORS: usize = 1_000;

/// One problem of a file: where it is and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineError {
    /// The physical line, from 1.
    pub line: u64,
    pub record_type: String,
    /// The cell's name as DDEX names it, when one cell is at fault.
    pub cell: Option<&'static str>,
    pub reason: String,
}

/// The file's header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    pub message_version: String,
    pub profile: String,
    pub profile_version: String,
    pub message_id: String,
    pub created: String,
    pub file_number: i32,
    pub number_of_files: i32,
    pub usage_start: String,
    pub usage_end: String,
    pub sender_party_id: String,
    pub sender_name: String,
    pub service: String,
    pub recipient_party_id: String,
    pub recipient_name: String,
}

/// A summary record: one sales context (territory, offer, commercial model) with its money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: String,
    pub record_type: String,
    pub channel: String,
    pub commercial_model: String,
    /// Empty when each line gives its own.
    pub use_type: String,
    pub territory: String,
    pub service: String,
    pub total_usages: i64,
    pub currency: String,
    /// The revenue the lines share: `AllocatedNetRevenue` where the record has it (SY02, SY05), else
    /// `NetRevenue`; exact decimal text.
    pub net_revenue: String,
}

/// A usage line, with what its block says of what it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub line: u64,
    pub record_type: String,
    pub block_id: String,
    pub summary_id: String,
    pub transaction_id: String,
    pub isrc: Option<String>,
    pub icpn: Option<String>,
    /// The DSP's id and the proprietary ids (`ns::id`) of the resource or release.
    pub dsp_id: Option<String>,
    pub proprietary_ids: Vec<String>,
    pub title: String,
    pub artist: String,
    pub royalty_bearing: bool,
    /// Streams, or downloads less returns.
    pub usages: i64,
    pub use_type: String,
    /// The line's share of its summary's revenue, in units of 10⁻¹⁰ (see [`crate::allocation`]).
    pub revenue: i128,
}

impl Usage {
    /// What the line is matched to the catalog by: `isrc:<ISRC>` for a recording, else
    /// `icpn:<13 digits>` for a release sold whole (a 12-digit UPC-A or a 14-digit GTIN as the EAN-13
    /// it stands for), else the store's own id of what was sold: `prop:<namespace::id>` (its first
    /// proprietary id) or `dsp:<id>`, which staff match by hand once and which is remembered; none when
    /// the line names nothing.
    pub fn match_key(&self) -> Option<String> {
        let mut key = String::new();
        self.write_match_key(&mut key).then_some(key)
    }

    /// Appends the [match key](Usage::match_key) to `out`; false (nothing appended) when the line
    /// names nothing to match by.
    pub fn write_match_key(&self, out: &mut String) -> bool {
        if let Some(isrc) = &self.isrc {
            out.push_str("isrc:");
            out.push_str(isrc);
        } else if let Some(code) = self.icpn.as_deref() {
            let digits = code.trim_start_matches('0');
            out.push_str("icpn:");
            out.extend(std::iter::repeat_n('0', 13usize.saturating_sub(digits.chars().count())));
            out.push_str(digits);
        } else if let Some(id) = self.proprietary_ids.first() {
            out.push_str("prop:");
            out.push_str(id);
        } else if let Some(id) = &self.dsp_id {
            out.push_str("dsp:");
            out.push_str(id);
        } else {
            return false;
        }
        true
    }
}

/// The file's footer counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Foot {
    pub lines_in_file: u64,
    pub lines_in_report: Option<u64>,
    pub summary_records: u64,
    pub blocks_in_file: u64,
    pub blocks_in_report: Option<u64>,
}

/// What reading a whole file found.
#[derive(Debug, Clone, Default)]
pub struct FileSummary {
    pub head: Head,
    pub summaries: Vec<Summary>,
    pub foot: Foot,
    /// Physical lines, heading rows included.
    pub lines: u64,
    pub blocks: u64,
    pub usage_lines: u64,
    /// Usages per summary record, to check against its TotalUsages once every file is read.
    pub usages_by_summary: HashMap<String, i64>,
    /// Fingerprints of the sales transaction ids seen more than once: [`repeated_transactions`]
    /// finds their lines in a second reading (only a file with a repeated id needs one).
    pub repeated_transactions: Vec<u64>,
}

/// The cells of each record type this reader knows, by name, in order after RecordType.
fn cells(record_type: &str) -> Option<&'static [&'static str]> {
    const HEAD: &[&str] = &[
        "MessageVersion",
        "Profile",
        "ProfileVersion",
        "MessageId",
        "MessageCreatedDateTime",
        "FileNumber",
        "NumberOfFiles",
        "UsageStartDate",
        "UsageEndDate",
        "SenderPartyId",
        "SenderName",
        "ServiceDescription",
        "RecipientPartyId",
        "RecipientName",
        "RepresentedRepertoire",
    ];
    const FOOT: &[&str] = &[
        "NumberOfLinesInFile",
        "NumberOfLinesInReport",
        "NumberOfSummaryRecords",
        "NumberOfBlocksInFile",
        "NumberOfBlocksInReport",
    ];
    const SY01: &[&str] = &[
        "SummaryRecordId",
        "DistributionChannel",
        "DistributionChannelDPID",
        "CommercialModel",
        "UseType",
        "Territory",
        "ServiceDescription",
        "TotalUsages",
        "Subscribers",
        "CurrencyOfReporting",
        "NetRevenue",
        "IndirectValue",
        "CurrencyOfTransaction",
        "ExchangeRate",
    ];
    const SY02: &[&str] = &[
        "SummaryRecordId",
        "DistributionChannel",
        "DistributionChannelDPID",
        "CommercialModel",
        "UseType",
        "Territory",
        "ServiceDescription",
        "TotalUsages",
        "Users",
        "CurrencyOfReporting",
        "NetRevenue",
        "RightsController",
        "RightsControllerPartyId",
        "AllocatedUsages",
        "AllocatedRevenue",
        "AllocatedNetRevenue",
        "RightsType",
        "ContentCategory",
        "CurrencyOfTransaction",
        "ExchangeRate",
        "RightsTypePercentage",
    ];
    const RE01: &[&str] = &[
        "BlockId",
        "ReleaseReference",
        "DspReleaseId",
        "ProprietaryReleaseId",
        "ReleaseCatalogNumber",
        "ReleaseICPN",
        "ReleaseDisplayArtistName",
        "ReleaseDisplayArtistPartyId",
        "ReleaseTitle",
        "ReleaseSubTitle",
        "ReleaseType",
        "ReleaseLabelName",
        "ReleasePLine",
        "DataProviderName",
        "ReleaseDate",
    ];
    const AS01: &[&str] = &[
        "BlockId",
        "ResourceReference",
        "DspResourceId",
        "ResourceISRC",
        "ResourceTitle",
        "ResourceSubTitle",
        "ResourceDisplayArtistName",
        "ResourceDisplayArtistPartyId",
        "ResourceDuration",
        "ResourceType",
        "IsMasterRecording",
        "IsSubjectToOwnershipConflict",
        "LastConflictCheck",
    ];
    const AS02: &[&str] = &[
        "BlockId",
        "ResourceReference",
        "DspResourceId",
        "ResourceISRC",
        "ResourceTitle",
        "ResourceSubTitle",
        "ResourceDisplayArtistName",
        "ResourceDisplayArtistPartyId",
        "ResourceDuration",
        "ResourceType",
        "MusicalWorkISWC",
        "MusicalWorkComposerAuthorName",
        "MusicalWorkComposerAuthorPartyId",
        "MusicalWorkArrangerName",
        "MusicalWorkArrangerPartyId",
        "MusicPublisherName",
        "MusicPublisherPartyId",
        "MusicalWorkContributorName",
        "MusicalWorkContributorPartyId",
        "ProprietaryMusicalWorkId",
        "IsMasterRecording",
        "IsSubjectToOwnershipConflict",
        "LastConflictCheck",
    ];
    const MW01: &[&str] = &["BlockId", "DspMusicalWorkId", "MusicalWorkISWC", "MusicalWorkTitle"];
    const SU01: &[&str] = &[
        "BlockId",
        "SummaryRecordId",
        "SalesTransactionId",
        "TransactedRelease",
        "TransactedResource",
        "IsRoyaltyBearing",
        "SalesUpgrade",
        "Usages",
        "Returns",
        "PriceConsumerPaidExcSalesTax",
        "PromotionalActivity",
        "UseType",
    ];
    const SU02: &[&str] = &[
        "BlockId",
        "SummaryRecordId",
        "SalesTransactionId",
        "TransactedRelease",
        "TransactedResource",
        "IsRoyaltyBearing",
        "NumberOfStreams",
        "PriceConsumerPaidExcSalesTax",
        "PromotionalActivity",
        "UseType",
    ];
    Some(match record_type {
        "HEAD" => HEAD,
        "FOOT" => FOOT,
        "SY01.02" | "SY01.03" | "SY03.01" | "SY04.02" | "SY04.03" => SY01,
        "SY02.03" | "SY02.04" | "SY05.02" | "SY05.03" => SY02,
        "RE01.02" | "RE01.03" => RE01,
        "AS01.02" | "AS01.03" => AS01,
        "AS02.03" | "AS02.04" => AS02,
        "MW01.02" | "MW01.03" => MW01,
        "SU01.02" | "SU01.03" => SU01,
        "SU02.02" | "SU02.03" => SU02,
        _ => return None,
    })
}

/// Cells of a line kept: the most a record type has (AS02.04: 23 and its RecordType) and room to spare.
/// Cells beyond are counted and ignored, as the trailing empty cells of a spreadsheet's export are.
const MAX_CELLS: usize = 32;

/// A record's cells by name, for reading and for naming the cell at fault. Held on the stack: a line
/// allocates nothing.
struct Cells<'a> {
    names: &'static [&'static str],
    values: [&'a str; MAX_CELLS],
    /// Cells of the line, RecordType included (may be more than `values` holds).
    count: usize,
}

impl<'a> Cells<'a> {
    /// Splits a line at its tabs (a byte that is never inside a UTF-8 sequence of another
    /// character, so every cell is whole text; cells are short, and a plain loop over the bytes finds
    /// their ends sooner than a search called once a cell).
    fn split(text: &'a str) -> Self {
        let mut values = [""; MAX_CELLS];
        let (mut count, mut start) = (0, 0);
        for (i, b) in text.bytes().enumerate() {
            if b == b'\t' {
                if let Some(slot) = values.get_mut(count) {
                    *slot = &text[start..i];
                }
                count += 1;
                start = i + 1;
            }
        }
        if let Some(slot) = values.get_mut(count) {
            *slot = &text[start..];
        }
        Self { names: &[], values, count: count + 1 }
    }

    fn get(&self, name: &'static str) -> &'a str {
        self.names.iter().position(|n| *n == name).map_or("", |i| self.at(i + 1))
    }

    /// The cell at `index` (RecordType is 0), trimmed; empty when the line has none there.
    fn at(&self, index: usize) -> &'a str {
        trim(self.values.get(index).copied().unwrap_or(""))
    }
}

/// `str::trim`, answering at once for the usual cell, which begins and ends with a visible ASCII
/// character.
fn trim(cell: &str) -> &str {
    match (cell.as_bytes().first(), cell.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => cell,
        _ => cell.trim(),
    }
}

/// Where a usage record's cells are (SU01 and SU02 differ), found by name once instead of on every
/// line; `usize::MAX` for a cell the record type does not have.
#[derive(Debug, Clone, Copy)]
struct UsageCells {
    block: usize,
    summary: usize,
    transaction: usize,
    release: usize,
    resource: usize,
    royalty_bearing: usize,
    streams: usize,
    usages: usize,
    returns: usize,
    use_type: usize,
}

impl UsageCells {
    fn of(record_type: &str) -> Self {
        let names = cells(record_type).unwrap_or(&[]);
        let at = |name: &str| names.iter().position(|n| *n == name).map_or(usize::MAX, |i| i + 1);
        Self {
            block: at("BlockId"),
            summary: at("SummaryRecordId"),
            transaction: at("SalesTransactionId"),
            release: at("TransactedRelease"),
            resource: at("TransactedResource"),
            royalty_bearing: at("IsRoyaltyBearing"),
            streams: at("NumberOfStreams"),
            usages: at("Usages"),
            returns: at("Returns"),
            use_type: at("UseType"),
        }
    }
}

/// A usage line's usages: its streams, or its sales less its returns (which only a sale may make
/// negative); none when they are not whole numbers.
fn usages_of(stream: bool, at: UsageCells, c: &Cells<'_>) -> Option<i64> {
    let usages = if stream {
        c.at(at.streams).parse::<i64>().ok()
    } else {
        let returns = match c.at(at.returns) {
            "" => Some(0),
            r => r.parse::<i64>().ok(),
        };
        c.at(at.usages).parse::<i64>().ok().zip(returns).map(|(u, r)| u - r)
    };
    usages.filter(|u| *u >= 0 || !stream)
}

/// Makes `to` hold `value`, in the room it has.
fn set(to: &mut String, value: &str) {
    to.clear();
    to.push_str(value);
}

#[derive(Default)]
struct ReleaseRef {
    icpn: Option<String>,
    dsp_id: Option<String>,
    proprietary: Vec<String>,
    title: String,
    artist: String,
}

#[derive(Default)]
struct ResourceRef {
    isrc: Option<String>,
    dsp_id: Option<String>,
    title: String,
    artist: String,
}

/// Reads one file of a report, handing each usage line to `on_usage` as soon as it is read (nothing of
/// the file is held but its summaries and the current block). `errors` collects the problems.
pub struct Reader {
    part: Part,
    line: u64,
    file: FileSummary,
    head_seen: bool,
    foot_seen: bool,
    block: Option<String>,
    blocks_seen: HashSet<String>,
    /// Each summary record's place in `file.summaries`.
    summary_ids: HashMap<String, usize>,
    /// Each summary record's revenue in units of 10⁻¹⁰, in the order of `file.summaries`.
    revenues: Vec<i128>,
    /// The usages of each summary record's lines so far, in the order of `file.summaries` (into
    /// `file.usages_by_summary` at the end).
    used: Vec<i64>,
    /// Where the cells of SU01 and SU02 records are.
    sale_cells: UsageCells,
    stream_cells: UsageCells,
    /// The usage line being read, its strings reused from line to line.
    scratch: Usage,
    releases: HashMap<String, ReleaseRef>,
    resources: HashMap<String, ResourceRef>,
    /// A fingerprint of each sales line's transaction id (eight bytes a line, where the ids
    /// themselves would take ten times as much: a file of ten million lines stays small).
    transactions: Vec<u64>,
    pub errors: Vec<LineError>,
    /// Every problem, listed or not.
    pub error_count: u64,
}

impl Default for Reader {
    fn default() -> Self {
        Self::new()
    }
}

impl Reader {
    pub fn new() -> Self {
        Self {
            part: Part::Whole,
            line: 0,
            file: FileSummary::default(),
            head_seen: false,
            foot_seen: false,
            block: None,
            blocks_seen: HashSet::new(),
            summary_ids: HashMap::new(),
            revenues: Vec::new(),
            used: Vec::new(),
            sale_cells: UsageCells::of("SU01.02"),
            stream_cells: UsageCells::of("SU02.02"),
            scratch: Usage::default(),
            releases: HashMap::new(),
            resources: HashMap::new(),
            transactions: Vec::new(),
            errors: Vec::new(),
            error_count: 0,
        }
    }

    /// A reader of `bytes` bytes: room for the fingerprints of as many sales lines as they can hold
    /// (a sales line is longer than 20 bytes) is taken at once, up to [`RESERVED_LINES`]; untouched, it
    /// costs no memory. Grown by doubling instead, the list's old and new copies would both be resident
    /// as it moves.
    pub fn sized(bytes: u64) -> Self {
        let mut reader = Self::new();
        let lines = usize::try_from(bytes / 20).unwrap_or(usize::MAX).min(RESERVED_LINES);
        reader.transactions.reserve_exact(lines);
        reader
    }

    fn error(&mut self, record_type: &str, cell: Option<&'static str>, reason: impl Into<String>) {
        self.error_count += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(LineError {
                line: self.line,
                record_type: record_type.chars().take(20).collect(),
                cell,
                reason: reason.into(),
            });
        }
    }

    /// Reads the whole of `input`, then checks the footer's counts.
    pub fn read(
        self,
        input: impl BufRead,
        allocation: &mut Allocation,
        on_usage: impl FnMut(&Usage),
    ) -> std::io::Result<(FileSummary, Vec<LineError>, u64)> {
        let reader = self.read_part(input, allocation, on_usage)?;
        Ok((reader.file, reader.errors, reader.error_count))
    }

    /// Reads `input` (the whole file, or the part the reader is for) line by line, then ends the part.
    fn read_part(
        mut self,
        mut input: impl BufRead,
        allocation: &mut Allocation,
        mut on_usage: impl FnMut(&Usage),
    ) -> std::io::Result<Self> {
        let mut buf = Vec::new();
        while let Some(text) = next_line(&mut input, &mut buf)? {
            self.line += 1;
            match text {
                Some(text) => self.feed(text, allocation, &mut on_usage),
                None => self.error("", None, "is not UTF-8"),
            }
        }
        self.finish();
        Ok(self)
    }

    fn feed(&mut self, text: &str, allocation: &mut Allocation, on_usage: &mut impl FnMut(&Usage)) {
        if self.line == 1 {
            // A byte order mark is not allowed by DSR, but a spreadsheet may write one.
            let text = text.trim_start_matches('\u{feff}');
            return self.record(text, allocation, on_usage);
        }
        self.record(text, allocation, on_usage);
    }

    fn record(&mut self, text: &str, allocation: &mut Allocation, on_usage: &mut impl FnMut(&Usage)) {
        if text.starts_with('#') {
            return; // a heading row: counted, not read
        }
        if self.foot_seen {
            return self.error(text.split('\t').next().unwrap_or(""), None, "comes after FOOT");
        }
        if text.trim().is_empty() {
            return self.error("", None, "is empty");
        }
        let mut c = Cells::split(text);
        let record_type = c.at(0);
        let Some(names) = cells(record_type) else {
            return self.error(record_type, None, "is not a record type of the Basic Audio Profile");
        };
        if c.count - 1 < names.len() {
            return self.error(record_type, None, format!("has {} cells; it needs {}", c.count, names.len() + 1));
        }
        c.names = names;
        if !self.head_seen && record_type != "HEAD" {
            self.head_seen = true; // say it once
            return self.error(record_type, None, "the file must begin with HEAD");
        }
        match record_type {
            "HEAD" => self.head(record_type, &c),
            "FOOT" => self.foot(record_type, &c),
            t if t.starts_with("SY") => self.summary(record_type, &c),
            t if t.starts_with("RE") => {
                self.enter_block(record_type, &c);
                let r = ReleaseRef {
                    icpn: Some(c.get("ReleaseICPN").to_owned()).filter(|v| !v.is_empty()),
                    dsp_id: Some(c.get("DspReleaseId").to_owned()).filter(|v| !v.is_empty()),
                    proprietary: c
                        .get("ProprietaryReleaseId")
                        .split('|')
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    title: c.get("ReleaseTitle").to_owned(),
                    artist: c.get("ReleaseDisplayArtistName").to_owned(),
                };
                if let Some(icpn) = &r.icpn
                    && !(12..=14).contains(&icpn.len())
                {
                    self.error(record_type, Some("ReleaseICPN"), "must be 12 to 14 digits");
                }
                let reference = c.get("ReleaseReference").to_owned();
                self.releases.insert(reference, r);
            }
            t if t.starts_with("AS") => {
                self.enter_block(record_type, &c);
                let isrc = c.get("ResourceISRC").to_ascii_uppercase().replace('-', "");
                if !isrc.is_empty() && !valid_isrc(&isrc) {
                    self.error(record_type, Some("ResourceISRC"), "is not an ISRC (CC XXX YY NNNNN)");
                }
                let r = ResourceRef {
                    isrc: Some(isrc).filter(|v| !v.is_empty()),
                    dsp_id: Some(c.get("DspResourceId").to_owned()).filter(|v| !v.is_empty()),
                    title: c.get("ResourceTitle").to_owned(),
                    artist: c.get("ResourceDisplayArtistName").to_owned(),
                };
                let reference = c.get("ResourceReference").to_owned();
                self.resources.insert(reference, r);
            }
            t if t.starts_with("MW") => self.enter_block(record_type, &c),
            _ => self.usage(record_type, &c, allocation, on_usage),
        }
    }

    fn head(&mut self, t: &str, c: &Cells<'_>) {
        if self.line != 1 {
            return self.error(t, None, "HEAD must be the first line, and only the first");
        }
        self.head_seen = true;
        let number = |name: &'static str, this: &mut Self| match c.get(name).parse::<i32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                this.error(t, Some(name), "must be a whole number from 1");
                1
            }
        };
        let file_number = number("FileNumber", self);
        let number_of_files = number("NumberOfFiles", self);
        if file_number > number_of_files {
            self.error(t, Some("FileNumber"), "is above NumberOfFiles");
        }
        for name in ["MessageId", "SenderPartyId", "SenderName", "UsageStartDate", "UsageEndDate"] {
            if c.get(name).is_empty() {
                self.error(t, Some(name), "is required");
            }
        }
        self.file.head = Head {
            message_version: c.get("MessageVersion").into(),
            profile: c.get("Profile").into(),
            profile_version: c.get("ProfileVersion").into(),
            message_id: c.get("MessageId").into(),
            created: c.get("MessageCreatedDateTime").into(),
            file_number,
            number_of_files,
            usage_start: c.get("UsageStartDate").into(),
            usage_end: c.get("UsageEndDate").into(),
            sender_party_id: c.get("SenderPartyId").into(),
            sender_name: c.get("SenderName").into(),
            service: c.get("ServiceDescription").into(),
            recipient_party_id: c.get("RecipientPartyId").into(),
            recipient_name: c.get("RecipientName").into(),
        };
    }

    fn summary(&mut self, t: &str, c: &Cells<'_>) {
        if self.block.is_some() {
            return self.error(t, None, "summary records come before the first block");
        }
        let id = c.get("SummaryRecordId").to_owned();
        if id.is_empty() || self.summary_ids.contains_key(&id) {
            return self.error(t, Some("SummaryRecordId"), "is missing or used twice");
        }
        let total_usages = match c.get("TotalUsages").parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                self.error(t, Some("TotalUsages"), "must be a whole number");
                0
            }
        };
        let allocated = c.names.contains(&"AllocatedNetRevenue") && !c.get("AllocatedNetRevenue").is_empty();
        let (cell, revenue) = if allocated {
            ("AllocatedNetRevenue", c.get("AllocatedNetRevenue"))
        } else {
            ("NetRevenue", c.get("NetRevenue"))
        };
        if crate::allocation::units(revenue).is_none() {
            self.error(t, Some(cell), "must be a decimal number such as 12.345678 (at most 10 decimal places)");
        }
        let currency = c.get("CurrencyOfReporting");
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            self.error(t, Some("CurrencyOfReporting"), "must be an ISO 4217 code such as USD");
        }
        let territory = c.get("Territory");
        if territory.is_empty() {
            self.error(t, Some("Territory"), "is required");
        }
        self.summary_ids.insert(id.clone(), self.file.summaries.len());
        self.revenues.push(crate::allocation::units(revenue).unwrap_or(0));
        self.used.push(0);
        self.file.summaries.push(Summary {
            id,
            record_type: t.to_owned(),
            channel: c.get("DistributionChannel").into(),
            commercial_model: c.get("CommercialModel").into(),
            use_type: c.get("UseType").into(),
            territory: territory.into(),
            service: c.get("ServiceDescription").into(),
            total_usages,
            currency: currency.into(),
            net_revenue: revenue.into(),
        });
    }

    /// A block begins with its first record of a new BlockId; its references hold only inside it.
    fn enter_block(&mut self, t: &str, c: &Cells<'_>) {
        let id = c.get("BlockId");
        if self.block.as_deref() == Some(id) {
            return;
        }
        if id.is_empty() || !self.blocks_seen.insert(id.to_owned()) {
            self.error(t, Some("BlockId"), "is missing, or a block is split or repeated");
        }
        self.block = Some(id.to_owned());
        self.file.blocks += 1;
        self.releases.clear();
        self.resources.clear();
    }

    fn usage(&mut self, t: &str, c: &Cells<'_>, allocation: &mut Allocation, on_usage: &mut impl FnMut(&Usage)) {
        let stream = t.starts_with("SU02");
        let at = if stream { self.stream_cells } else { self.sale_cells };
        if self.block.as_deref() != Some(c.at(at.block)) {
            return self.error(t, Some("BlockId"), "is not the block it stands in");
        }
        let summary_id = c.at(at.summary);
        let Some(&summary_at) = self.summary_ids.get(summary_id) else {
            return self.error(t, Some("SummaryRecordId"), format!("names no summary record ({summary_id})"));
        };
        let transaction = c.at(at.transaction);
        if transaction.is_empty() {
            self.error(t, Some("SalesTransactionId"), "is missing");
        } else {
            self.transactions.push(fingerprint(transaction));
        }
        let royalty_bearing = match c.at(at.royalty_bearing) {
            "" => true,
            v if v.eq_ignore_ascii_case("true") => true,
            v if v.eq_ignore_ascii_case("false") => false,
            _ => {
                self.error(t, Some("IsRoyaltyBearing"), "must be true or false");
                true
            }
        };
        let Some(usages) = usages_of(stream, at, c) else {
            return self.error(t, Some(if stream { "NumberOfStreams" } else { "Usages" }), "must be a whole number");
        };
        let (resource, release) = (c.at(at.resource), c.at(at.release));
        // Written into the reused line: a million lines make no million sets of strings.
        let mut out = std::mem::take(&mut self.scratch);
        out.line = self.line;
        set(&mut out.record_type, t);
        set(&mut out.block_id, c.at(at.block));
        set(&mut out.summary_id, summary_id);
        set(&mut out.transaction_id, transaction);
        set(&mut out.use_type, c.at(at.use_type));
        out.royalty_bearing = royalty_bearing;
        out.usages = usages;
        out.revenue = 0;
        match (resource.is_empty(), release.is_empty()) {
            (false, true) => {
                let Some(r) = self.resources.get(resource) else {
                    self.scratch = out;
                    return self.error(
                        t,
                        Some("TransactedResource"),
                        format!("names no resource of the block ({resource})"),
                    );
                };
                out.isrc.clone_from(&r.isrc);
                out.dsp_id.clone_from(&r.dsp_id);
                out.proprietary_ids.clear();
                out.title.clone_from(&r.title);
                out.artist.clone_from(&r.artist);
                // The release of the block, when it has one, identifies where the recording was sold.
                match self.releases.values().next() {
                    Some(rel) => out.icpn.clone_from(&rel.icpn),
                    None => out.icpn = None,
                }
            }
            (true, false) => {
                let Some(r) = self.releases.get(release) else {
                    self.scratch = out;
                    return self.error(
                        t,
                        Some("TransactedRelease"),
                        format!("names no release of the block ({release})"),
                    );
                };
                out.isrc = None;
                out.icpn.clone_from(&r.icpn);
                out.dsp_id.clone_from(&r.dsp_id);
                out.proprietary_ids.clone_from(&r.proprietary);
                out.title.clone_from(&r.title);
                out.artist.clone_from(&r.artist);
            }
            _ => {
                self.scratch = out;
                return self.error(
                    t,
                    Some("TransactedResource"),
                    "give exactly one of TransactedRelease and TransactedResource",
                );
            }
        }
        let summary = &self.file.summaries[summary_at];
        out.revenue = allocation.next(&summary.id, self.revenues[summary_at], summary.total_usages, out.usages);
        self.used[summary_at] += out.usages;
        self.file.usage_lines += 1;
        on_usage(&out);
        self.scratch = out;
    }

    fn foot(&mut self, t: &str, c: &Cells<'_>) {
        self.foot_seen = true;
        let count = |name: &'static str, this: &mut Self| -> Option<u64> {
            match c.get(name) {
                "" => None,
                v => match v.parse() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        this.error(t, Some(name), "must be a whole number");
                        None
                    }
                },
            }
        };
        let lines_in_file = count("NumberOfLinesInFile", self);
        let lines_in_report = count("NumberOfLinesInReport", self);
        let summaries = count("NumberOfSummaryRecords", self);
        let blocks_in_file = count("NumberOfBlocksInFile", self);
        let blocks_in_report = count("NumberOfBlocksInReport", self);
        let checks = [
            ("NumberOfLinesInFile", lines_in_file, self.line),
            ("NumberOfSummaryRecords", summaries, self.file.summaries.len() as u64),
            ("NumberOfBlocksInFile", blocks_in_file, self.file.blocks),
        ];
        // The second part of a file read in two has only its own blocks: they are counted with the
        // first part's when the two are joined.
        let checks = if self.part == Part::Second { &checks[..2] } else { &checks[..] };
        for &(name, said, found) in checks {
            match said {
                Some(n) if n == found => {}
                Some(n) => self.error(t, Some(name), format!("says {n}; the file has {found}")),
                None => self.error(t, Some(name), "is required"),
            }
        }
        self.file.foot = Foot {
            lines_in_file: lines_in_file.unwrap_or(0),
            lines_in_report,
            summary_records: summaries.unwrap_or(0),
            blocks_in_file: blocks_in_file.unwrap_or(0),
            blocks_in_report,
        };
    }

    fn finish(&mut self) {
        self.file.lines = self.line;
        for (summary, used) in self.file.summaries.iter().zip(&self.used) {
            self.file.usages_by_summary.insert(summary.id.clone(), *used);
        }
        if self.line == 0 {
            return self.error("", None, "the file is empty");
        }
        if !self.foot_seen && self.part != Part::First {
            self.error("FOOT", None, "the file must end with FOOT");
        }
        if self.file.summaries.is_empty() {
            self.error("", None, "the file has no summary record");
        }
        // A part's transactions are sorted here, on its own thread, and compared with the other
        // part's when the two are joined.
        self.transactions.sort_unstable();
        if self.part == Part::Whole {
            self.file.repeated_transactions = repeated(&self.transactions, &[]);
        }
    }
}

/// Which part of a file a [`Reader`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Whole,
    /// Up to a cut: it ends before FOOT.
    First,
    /// From a cut, at the start of a block, to the end.
    Second,
}

/// Bytes of a file searched for a place to cut it in two (blocks are far shorter), and before it for
/// the line before.
const CUT_WINDOW: u64 = 4 << 20;
const BEFORE: u64 = 64 << 10;

/// Where a file may be cut in two near byte `near`: the first line past it that begins a block (a
/// release, resource or work record) after a usage line of another block. None when there is no
/// such line within a few megabytes.
pub fn find_cut(file: &mut (impl std::io::Read + std::io::Seek), near: u64) -> std::io::Result<Option<u64>> {
    use std::io::{Read, SeekFrom};
    // The record type and BlockId (the first two cells) of a line.
    fn head(line: &[u8]) -> (&[u8], &[u8]) {
        let mut cells = line.split(|b| *b == b'\t');
        let record_type = cells.next().unwrap_or(b"");
        (record_type, cells.next().unwrap_or(b""))
    }
    // From the first whole line a little before `near`, for the line before the first candidate.
    let start = near.saturating_sub(BEFORE);
    file.seek(SeekFrom::Start(start))?;
    let mut window = Vec::new();
    file.take(BEFORE + CUT_WINDOW).read_to_end(&mut window)?;
    let mut at = match start {
        0 => 0,
        _ => match window.iter().position(|b| *b == b'\n') {
            Some(end) => end + 1,
            None => return Ok(None),
        },
    };
    let mut previous: Option<(&[u8], &[u8])> = None;
    while let Some(len) = window[at..].iter().position(|b| *b == b'\n') {
        let line = &window[at..at + len];
        let (record_type, block) = head(line);
        let begins = [&b"RE"[..], b"AS", b"MW"].iter().any(|p| record_type.starts_with(p));
        if let Some((before, before_block)) = previous
            && start + at as u64 >= near
            && begins
            && before.starts_with(b"SU")
            && block != before_block
        {
            return Ok(Some(start + at as u64));
        }
        previous = Some((record_type, block));
        at += len + 1;
    }
    Ok(None)
}

impl Reader {
    /// Reads the first part of a file (up to a cut) as the second part's reader needs it: HEAD and
    /// the summary records whole, then only each usage line's summary and usages, summed per summary
    /// (in the order of the summaries), and the lines counted. The reader then reads the second part.
    fn skim(&mut self, mut input: impl BufRead) -> std::io::Result<Vec<i64>> {
        let mut before = Vec::new();
        let mut in_blocks = false;
        let mut buf = Vec::new();
        let mut allocation = Allocation::default();
        while let Some(text) = next_line(&mut input, &mut buf)? {
            self.line += 1;
            let Some(text) = text else { continue };
            if !in_blocks {
                in_blocks = ["RE", "AS", "MW", "SU"].iter().any(|p| text.starts_with(p));
                if !in_blocks {
                    self.feed(text, &mut allocation, &mut |_| {});
                    continue;
                }
                before = vec![0; self.file.summaries.len()];
            }
            if !text.starts_with("SU") {
                continue;
            }
            let c = Cells::split(text);
            let stream = text.starts_with("SU02");
            let at = if stream { self.stream_cells } else { self.sale_cells };
            if let (Some(&summary), Some(usages)) = (self.summary_ids.get(c.at(at.summary)), usages_of(stream, at, &c))
            {
                before[summary] += usages;
            }
        }
        // What the first part's reader finds wrong there, it says.
        self.errors.clear();
        self.error_count = 0;
        self.part = Part::Second;
        Ok(before)
    }
}

/// Where a part's usage lines go: each line as it is read, then the part's end, on the part's own
/// thread (any `FnMut(&Usage)` takes the lines and has nothing to do at the end).
pub trait Lines {
    fn line(&mut self, usage: &Usage);
    fn end(&mut self) {}
}

impl<F: FnMut(&Usage)> Lines for F {
    fn line(&mut self, usage: &Usage) {
        self(usage);
    }
}

/// A file read in two parts at once, cut at `cut` (see [`find_cut`]): the first part on this thread,
/// the second on another, which first skims the first part for what it needs (the summaries, the
/// line number and each summary's usages before the cut, where its running shares go on from). Each
/// part's usage lines go to its own `on_usage`, each line with the revenue it has read whole. The
/// same result as [`Reader::read`] for a file without a problem; none when either part finds one,
/// or the parts do not agree (a block in both, the first part's usages not those skimmed, FOOT
/// before the cut): the file is then to be read whole, which names each problem in order.
pub fn read_in_two<A, B>(
    path: &std::path::Path,
    cut: u64,
    allocation: &mut Allocation,
    mut on_first: A,
    mut on_second: B,
) -> std::io::Result<Option<(FileSummary, Vec<LineError>, u64)>>
where
    A: Lines,
    B: Lines + Send,
{
    use std::io::{BufReader, Read, Seek, SeekFrom};
    const BUFFER: usize = 256 * 1024;
    let len = std::fs::metadata(path)?.len();
    let first_input = BufReader::with_capacity(BUFFER, std::fs::File::open(path)?.take(cut));
    let mut second_allocation = allocation.clone();
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| -> std::io::Result<(Reader, Vec<i64>)> {
            let mut reader = Reader::sized(len.saturating_sub(cut));
            let before = reader.skim(BufReader::with_capacity(BUFFER, std::fs::File::open(path)?.take(cut)))?;
            for (summary, used) in reader.file.summaries.iter().zip(&before) {
                let revenue = reader.revenues[reader.summary_ids[&summary.id]];
                second_allocation.skip(&summary.id, revenue, summary.total_usages, *used);
            }
            let mut file = std::fs::File::open(path)?;
            file.seek(SeekFrom::Start(cut))?;
            let input = BufReader::with_capacity(BUFFER, file);
            let reader = reader.read_part(input, &mut second_allocation, |usage| on_second.line(usage))?;
            on_second.end();
            Ok((reader, before))
        });
        let mut first = Reader::sized(cut);
        first.part = Part::First;
        let first = first.read_part(first_input, allocation, |usage| on_first.line(usage));
        on_first.end();
        (first, second.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });
    let (first, (second, before)) = (first?, second?);
    let blocks = first.file.blocks + second.file.blocks;
    let agree = first.error_count == 0
        && second.error_count == 0
        && !first.foot_seen
        && first.used == before
        && first.file.summaries == second.file.summaries
        && second.file.foot.blocks_in_file == blocks
        && first.blocks_seen.is_disjoint(&second.blocks_seen);
    if !agree {
        return Ok(None);
    }
    *allocation = second_allocation;
    let mut file = second.file;
    file.blocks = blocks;
    file.usage_lines += first.file.usage_lines;
    for (id, used) in &first.file.usages_by_summary {
        *file.usages_by_summary.entry(id.clone()).or_default() += used;
    }
    file.repeated_transactions = repeated(&first.transactions, &second.transactions);
    Ok(Some((file, Vec::new(), 0)))
}

/// The fingerprints that occur more than once in sorted lists, taken together (walked in order as
/// one: a list as long as both would take as much memory again).
fn repeated(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j) = (0, 0);
    let mut previous = None;
    let mut repeated = Vec::new();
    while i < a.len() || j < b.len() {
        let next = if j == b.len() || (i < a.len() && a[i] <= b[j]) {
            i += 1;
            a[i - 1]
        } else {
            j += 1;
            b[j - 1]
        };
        if previous == Some(next) && repeated.last() != Some(&next) {
            repeated.push(next);
        }
        previous = Some(next);
    }
    repeated
}

/// The next line of `input`, read into `buf`, without its end of line: none at the end of the input;
/// `Some(None)` for a line that is not UTF-8.
fn next_line<'b>(input: &mut impl BufRead, buf: &'b mut Vec<u8>) -> std::io::Result<Option<Option<&'b str>>> {
    buf.clear();
    if input.read_until(b'\n', buf)? == 0 {
        return Ok(None);
    }
    Ok(Some(std::str::from_utf8(buf).ok().map(|text| text.trim_end_matches(['\n', '\r']))))
}

/// A sales transaction id's fingerprint (64 bits: two distinct ids of one file share one about once
/// in 10¹² files of ten million lines, and even then [`repeated_transactions`] compares the ids).
fn fingerprint(id: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x5d5_f1a7).hash_one(id)
}

/// The second reading of a file whose [`FileSummary::repeated_transactions`] is not empty: each
/// sales line whose transaction id an earlier line of the file used, with the line it repeats.
pub fn repeated_transactions(mut input: impl BufRead, repeated: &[u64]) -> std::io::Result<Vec<LineError>> {
    let suspects: HashSet<u64> = repeated.iter().copied().collect();
    let mut first: HashMap<String, u64> = HashMap::new();
    let mut errors = Vec::new();
    let (mut buf, mut line) = (Vec::new(), 0u64);
    while let Some(text) = next_line(&mut input, &mut buf)? {
        line += 1;
        let Some(text) = text else { continue };
        let mut cells = text.split('\t');
        let record_type = cells.next().unwrap_or("").trim();
        let Some(id) = cells.nth(2).filter(|id| record_type.starts_with("SU") && !id.is_empty()) else { continue };
        if !suspects.contains(&fingerprint(id)) {
            continue;
        }
        match first.get(id) {
            Some(at) => errors.push(LineError {
                line,
                record_type: record_type.chars().take(20).collect(),
                cell: Some("SalesTransactionId"),
                reason: format!("is used twice (first on line {at})"),
            }),
            None => {
                first.insert(id.to_owned(), line);
            }
        }
    }
    Ok(errors)
}

/// Reads a file's first line as its HEAD (to know, on upload, which report and which of its files it
/// is); the problems otherwise.
pub fn read_head(first_line: &str) -> Result<Head, Vec<LineError>> {
    let mut reader = Reader::new();
    reader.line = 1;
    let text = first_line.trim_end_matches(['\n', '\r']).trim_start_matches('\u{feff}');
    if !text.starts_with("HEAD\t") {
        reader.error(text.split('\t').next().unwrap_or(""), None, "the file must begin with HEAD");
    } else {
        reader.record(text, &mut Allocation::default(), &mut |_| {});
    }
    if reader.errors.is_empty() { Ok(reader.file.head) } else { Err(reader.errors) }
}

/// Checks a report's files together: they form one report (same message, numbered 1 to n, the same
/// summaries), the last file's report counts hold, and each summary's usages add up to its TotalUsages.
pub fn check_report(files: &[FileSummary]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(first) = files.first() else { return vec!["the report has no file".into()] };
    let n = first.head.number_of_files;
    if files.len() != usize::try_from(n).unwrap_or(0) {
        out.push(format!("HEAD says {n} files; {} were given", files.len()));
    }
    for (i, f) in files.iter().enumerate() {
        if f.head.message_id != first.head.message_id || f.head.sender_party_id != first.head.sender_party_id {
            out.push(format!("file {} belongs to another report (MessageId {})", i + 1, f.head.message_id));
        }
        if usize::try_from(f.head.file_number).ok() != Some(i + 1) {
            out.push(format!("file {} says it is file {}", i + 1, f.head.file_number));
        }
        if f.summaries != first.summaries {
            out.push(format!("file {} does not repeat the first file's summary records", i + 1));
        }
    }
    if let Some(last) = files.last() {
        let lines: u64 = files.iter().map(|f| f.lines).sum();
        let blocks: u64 = files.iter().map(|f| f.blocks).sum();
        match last.foot.lines_in_report {
            Some(said) if said != lines => {
                out.push(format!("NumberOfLinesInReport says {said}; the report has {lines}"));
            }
            None if n > 1 => out.push("the last file's FOOT must give NumberOfLinesInReport".into()),
            _ => {}
        }
        match last.foot.blocks_in_report {
            Some(said) if said != blocks => {
                out.push(format!("NumberOfBlocksInReport says {said}; the report has {blocks}"));
            }
            None if n > 1 => out.push("the last file's FOOT must give NumberOfBlocksInReport".into()),
            _ => {}
        }
    }
    for s in &first.summaries {
        let used: i64 = files.iter().map(|f| f.usages_by_summary.get(&s.id).copied().unwrap_or(0)).sum();
        if used != s.total_usages {
            out.push(format!(
                "summary record {} says TotalUsages {}; its lines add up to {used}",
                s.id, s.total_usages
            ));
        }
    }
    out
}

/// `CC XXX YY NNNNN` without separators.
pub(crate) fn valid_isrc(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 12
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..5].iter().all(u8::is_ascii_alphanumeric)
        && b[5..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small report in the shape of the DDEX sample: headings, two summaries (one ad-supported with
    /// its allocated revenue), a release with two recordings (one with its work), a release-level sale.
    fn sample() -> Vec<String> {
        let mut lines = vec![
            "HEAD\tdsrf/1.3/1.4.1/1.3\tBasicAudioProfile\t1.3\tDSR-1\t2024-06-05T06:00:00Z\t1\t1\t2024-05-01\t2024-05-31\tPADPIDA2024000001S\tStreamCo Music Ltd\tStreamCo\tPADPIDA2024000002L\tBackline Distribution\t".to_owned(),
            "#SY01.02\tSummaryRecordId\tDistributionChannel\t…".to_owned(),
            "SY01.02\t1\tStreamCo\tPADPIDA2024000001S\tSubscriptionModel\t\tUS\tStreamCo Premium\t610\t3\tUSD\t3.442770\t\t\t".to_owned(),
            "SY02.03\t2\tStreamCo\tPADPIDA2024000001S\tAdvertisementSupportedModel\t\tGB\tStreamCo Free\t52\t1\tUSD\t0.500000\tBackline\tDPID::PADPIDA2024000002L\t52\t0.120016\t0.120016\t\tMusic\t\t\t".to_owned(),
            "SY01.02\t3\tStreamCo\tPADPIDA2024000001S\tPayAsYouGoModel\tPermanentDownload\tUS\tStreamCo Store\t2\t\tUSD\t1.386000\t\t\t".to_owned(),
            "RE01.02\t1\tR1\tR000000001\tLBL::CAT-1\tA2R542621\t8718271000019\tThe Velvet Foxes\t\tVelvet Bloom\t\tSingle\tHoney Records\t(P) 2012 Honey Records\tHoney Records\t2012-11-07".to_owned(),
            "AS01.02\t1\tA1\tT0000000001\tNLA2R1200001\tVelvet Lonely\t\tThe Velvet Foxes\t\tPT6M19S\tSoundRecording\ttrue\tfalse\t".to_owned(),
            "MW01.02\t1\tW0000000001\tT0373222877\tVelvet Lonely\t\tZoë Ferreira\t\t\t\tHollow Oak\t\t\t\tHoney Records\t\tA1\t\t".to_owned(),
            "AS01.02\t1\tA2\tT0000000002\tNL-A2R-12-00002\tDream Horizon\t\tThe Velvet Foxes\t\tPT5M40S\tSoundRecording\tTRUE\tFALSE\t".to_owned(),
            "SU02.02\t1\t1\t1\t\tA1\ttrue\t600\t\t\tOnDemandStream".to_owned(),
            "SU02.02\t1\t2\t2\t\tA1\tTRUE\t52\t\t\tNonInteractiveStream".to_owned(),
            "SU02.02\t1\t1\t3\t\tA2\tFalse\t10\t\t\tOnDemandStream".to_owned(),
            "SU01.02\t1\t3\t4\tR1\t\ttrue\t\t3\t1\t0.99\t\tPermanentDownload".to_owned(),
        ];
        let total = lines.len() + 1;
        lines.push(format!("FOOT\t{total}\t{total}\t3\t1\t1"));
        lines
    }

    /// A report of `blocks` blocks after the sample's three summaries, each a release with a
    /// recording streamed in the first two summaries and the release sold in the third.
    fn blocks(blocks: usize) -> Vec<String> {
        let mut lines = sample()[..5].to_vec();
        for b in 1..=blocks {
            let (n, returns) = (b * 7 % 13 + 1, b % 3);
            lines.extend([
                format!("RE01.02\t{b}\tR1\tR000000001\tLBL::CAT-{b}\t\t87182710{b:05}\tThe Velvet Foxes\t\tBloom {b}\t\tSingle\tHoney\t\t\t2012-11-07"),
                format!("AS01.02\t{b}\tA1\tT0000000001\tNLA2R12{b:05}\tLonely {b}\t\tThe Velvet Foxes\t\tPT6M19S\tSoundRecording\ttrue\tfalse\t"),
                format!("SU02.02\t{b}\t1\t{b}a\t\tA1\ttrue\t{n}\t\t\tOnDemandStream"),
                format!("SU02.02\t{b}\t2\t{b}b\t\tA1\ttrue\t{}\t\t\tNonInteractiveStream", n * 3),
                format!("SU01.02\t{b}\t3\t{b}c\tR1\t\ttrue\t\t{n}\t{returns}\t0.99\t\tPermanentDownload"),
            ]);
        }
        let total = lines.len() + 1;
        lines.push(format!("FOOT\t{total}\t{total}\t3\t{blocks}\t{blocks}"));
        lines
    }

    /// What reading a file found: its summary's fields, the problems and the lines with their revenue.
    type Reading = (String, Vec<LineError>, Vec<Usage>, Vec<i128>);

    /// A file's summary as comparable text, and the revenue its summaries' next line of 5 usages
    /// would get (where the running shares stand).
    fn reading(file: &FileSummary, errors: Vec<LineError>, usages: Vec<Usage>, mut a: Allocation) -> Reading {
        let mut used: Vec<_> = file.usages_by_summary.iter().collect();
        used.sort();
        let text = format!(
            "{:?} {:?} {:?} {} {} {} {used:?} {:?}",
            file.head, file.summaries, file.foot, file.lines, file.blocks, file.usage_lines, file.repeated_transactions
        );
        let next = file.summaries.iter().map(|s| a.next(&s.id, 1_000_000_000_007, s.total_usages, 5)).collect();
        (text, errors, usages, next)
    }

    /// Reads a file whole, and in two at the start of each of its lines: answers the whole reading
    /// and, for each cut, the reading in two when the parts agreed.
    fn read_both_ways(lines: &[String]) -> (Reading, Vec<(usize, Reading)>) {
        let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let mut usages = Vec::new();
        let mut a = Allocation::default();
        let (file, errors, _) = Reader::new().read(text.as_bytes(), &mut a, |u| usages.push(u.clone())).unwrap();
        let whole = reading(&file, errors, usages, a);
        let mut temp = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut temp, text.as_bytes()).unwrap();
        let mut parts = Vec::new();
        let mut cut = 0;
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                let (mut first, mut second) = (Vec::new(), Vec::new());
                let mut a = Allocation::default();
                let read = read_in_two(
                    temp.path(),
                    cut as u64,
                    &mut a,
                    |u: &Usage| first.push(u.clone()),
                    |u: &Usage| {
                        second.push(u.clone());
                    },
                )
                .unwrap();
                if let Some((file, errors, _)) = read {
                    first.append(&mut second);
                    parts.push((i, reading(&file, errors, first, a)));
                }
            }
            cut += line.len() + 1;
        }
        (whole, parts)
    }

    #[test]
    fn fingerprints_repeated_within_or_across_two_sorted_lists_are_found_once_each() {
        assert_eq!(repeated(&[], &[]), Vec::<u64>::new());
        assert_eq!(repeated(&[1, 2, 2, 2, 5], &[]), [2]);
        assert_eq!(repeated(&[], &[0, 0, 7]), [0]);
        assert_eq!(repeated(&[1, 3, 5, 9], &[2, 3, 4, 9, 9, 10]), [3, 9]);
        assert_eq!(repeated(&[u64::MAX], &[u64::MAX]), [u64::MAX]);
        assert_eq!(repeated(&[4, 6, 8], &[1, 5, 7]), Vec::<u64>::new());
    }

    #[test]
    fn a_file_read_in_two_at_a_block_is_read_as_whole() {
        let lines = blocks(6);
        let (whole, parts) = read_both_ways(&lines);
        assert!(whole.1.is_empty(), "{:?}", whole.1);
        // Where a block begins after another's usage lines, and only there (elsewhere the parts
        // do not agree, and the file is to be read whole).
        let block_starts: Vec<usize> =
            (1..lines.len()).filter(|&i| lines[i].starts_with("RE") && lines[i - 1].starts_with("SU")).collect();
        assert_eq!(block_starts.len(), 5);
        let cuts: Vec<usize> = parts.iter().map(|(i, _)| *i).filter(|i| lines[*i] != *lines.last().unwrap()).collect();
        assert_eq!(cuts, block_starts);
        for (i, read) in &parts {
            assert_eq!(read, &whole, "cut before line {}", i + 1);
        }
        // The cut is found at the first block beginning past a byte, from anywhere in the file.
        let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let starts: Vec<u64> =
            block_starts.iter().map(|i| lines[..*i].iter().map(|l| l.len() as u64 + 1).sum()).collect();
        for near in 0..text.len() as u64 {
            let found = find_cut(&mut std::io::Cursor::new(text.as_bytes()), near).unwrap();
            assert_eq!(found, starts.iter().copied().find(|s| *s >= near), "near byte {near}");
        }
    }

    #[test]
    fn a_file_with_a_problem_is_never_taken_from_its_two_parts() {
        let good = blocks(5);
        let at = |prefix: &str, nth: usize| {
            good.iter().enumerate().filter(|(_, l)| l.starts_with(prefix)).nth(nth).unwrap().0
        };
        let mut variants: Vec<(&str, Vec<String>)> = Vec::new();
        let mut v = good.clone();
        v[at("SU02", 7)] = v[at("SU02", 7)].replace("\ttrue\t", "\ttrue\tmany");
        variants.push(("a usage count that is not a number", v));
        let mut v = good.clone();
        for line in &mut v[at("RE", 3)..at("RE", 4)] {
            *line = line.replacen("\t4\t", "\t1\t", 1);
        }
        variants.push(("a block's id used again later", v));
        let mut v = good.clone();
        let foot = v.len() - 1;
        v[foot] = v[foot].replace("\t5\t5", "\t4\t5");
        variants.push(("FOOT's count of blocks", v));
        let mut v = good.clone();
        v.pop();
        variants.push(("no FOOT", v));
        let mut v = good.clone();
        let foot = v.pop().unwrap();
        v.insert(at("RE", 2), foot);
        variants.push(("FOOT in the middle", v));
        let mut v = good.clone();
        v.insert(at("RE", 3), good[3].clone());
        variants.push(("a summary record among the blocks", v));
        let mut v = good.clone();
        v[at("SU01", 3)] = v[at("SU01", 3)].replacen("\t3\t", "\t9\t", 1);
        variants.push(("a summary no summary record has", v));
        let mut v = good.clone();
        let moved = v.remove(at("SU02", 1));
        v.insert(at("RE", 2) + 1, moved);
        variants.push(("a block's line after another block", v));
        let mut v = good.clone();
        v[at("SU02", 8)] = v[at("SU02", 8)].replace("\t5a\t", "\t1a\t");
        variants.push(("a transaction id used twice", v));
        for (what, lines) in variants {
            let (whole, parts) = read_both_ways(&lines);
            let problems = !whole.1.is_empty() || !whole.0.ends_with("[]");
            assert!(problems, "{what}: the whole reading finds it");
            for (i, read) in parts {
                assert_eq!(
                    read,
                    whole,
                    "{what}: the parts agreed cut before line {}, and differ from the whole",
                    i + 1
                );
                assert!(whole.1.is_empty(), "{what}: the parts agreed on a file with problems");
            }
        }
    }

    fn read(lines: &[String], eol: &str) -> (FileSummary, Vec<LineError>, Vec<Usage>) {
        let text = lines.iter().map(|l| format!("{l}{eol}")).collect::<String>();
        let mut usages = Vec::new();
        let (file, mut errors, count) =
            Reader::new().read(text.as_bytes(), &mut Allocation::default(), |u| usages.push(u.clone())).unwrap();
        assert_eq!(count as usize, errors.len());
        if !file.repeated_transactions.is_empty() {
            errors.extend(repeated_transactions(text.as_bytes(), &file.repeated_transactions).unwrap());
            errors.sort_by_key(|e| e.line);
        }
        (file, errors, usages)
    }

    fn problems(lines: &[String]) -> Vec<(u64, String, Option<&'static str>)> {
        read(lines, "\n").1.into_iter().map(|e| (e.line, e.record_type, e.cell)).collect()
    }

    #[test]
    fn a_sample_report_reads_whole_with_its_lines_resolved_in_their_block() {
        let (file, errors, usages) = read(&sample(), "\n");
        assert_eq!(errors, vec![]);
        assert_eq!(file.head.message_id, "DSR-1");
        assert_eq!((file.head.file_number, file.head.number_of_files), (1, 1));
        assert_eq!(file.summaries.len(), 3);
        assert_eq!(file.summaries[0].net_revenue, "3.442770");
        assert_eq!(file.summaries[1].net_revenue, "0.120016", "the licensor's allocated revenue");
        assert_eq!((file.blocks, file.usage_lines, file.lines), (1, 4, 14));
        assert_eq!(usages[0].isrc.as_deref(), Some("NLA2R1200001"));
        assert_eq!(usages[0].icpn.as_deref(), Some("8718271000019"), "the block's release");
        assert_eq!(usages[2].isrc.as_deref(), Some("NLA2R1200002"), "hyphens dropped");
        assert!(!usages[2].royalty_bearing, "booleans in any case");
        assert_eq!(usages[3].isrc, None);
        assert_eq!(usages[3].proprietary_ids, vec!["LBL::CAT-1".to_owned()]);
        assert_eq!(usages[3].usages, 2, "downloads less returns");
        assert_eq!(usages[0].match_key().as_deref(), Some("isrc:NLA2R1200001"));
        assert_eq!(usages[3].match_key().as_deref(), Some("icpn:8718271000019"));
        let mut bare = usages[3].clone();
        bare.icpn = None;
        bare.proprietary_ids = vec!["STORE::A-17".into()];
        assert_eq!(bare.match_key().as_deref(), Some("prop:STORE::A-17"), "the store's own id, for staff");
        bare.proprietary_ids.clear();
        bare.dsp_id = Some("T9".into());
        assert_eq!(bare.match_key().as_deref(), Some("dsp:T9"));
        bare.dsp_id = None;
        assert_eq!(bare.match_key(), None);
        // Each summary's revenue is shared among its lines exactly: 3.442770 over 600 and 10 streams.
        let of =
            |summary: &str| usages.iter().filter(|u| u.summary_id == summary).map(|u| u.revenue).collect::<Vec<_>>();
        assert_eq!(of("1"), vec![33_863_311_475, 564_388_525]);
        assert_eq!(of("1").iter().sum::<i128>(), crate::allocation::units("3.442770").unwrap());
        assert_eq!(of("2").iter().sum::<i128>(), crate::allocation::units("0.120016").unwrap());
        assert_eq!(check_report(&[file]), Vec::<String>::new());
    }

    #[test]
    fn crlf_trailing_cells_and_a_byte_order_mark_are_read_as_the_same_report() {
        let mut lines = sample();
        lines[0] = format!("\u{feff}{}", lines[0]);
        for l in lines.iter_mut().filter(|l| l.starts_with("SU")) {
            l.push_str("\t\t\t");
        }
        // More trailing cells than any record has, and than a line keeps.
        lines[2].push_str(&"\t".repeat(MAX_CELLS + 5));
        lines[9].push_str(&"\t".repeat(MAX_CELLS + 5));
        let (file, errors, usages) = read(&lines, "\r\n");
        assert_eq!(errors, vec![]);
        assert_eq!(usages.len(), 4);
        assert_eq!(usages[0].use_type, "OnDemandStream");
        assert_eq!(usages, read(&sample(), "\n").2, "the same lines, read the same");
        assert_eq!(check_report(&[file]), Vec::<String>::new());
    }

    #[test]
    fn cells_are_split_at_every_tab_and_trimmed_as_str_trim_does() {
        let c = Cells::split("SU02.02\t1\t\t Zoë \t\u{a0}x\u{a0}\t");
        assert_eq!(c.count, 6);
        let cells: Vec<&str> = (0..7).map(|i| c.at(i)).collect();
        assert_eq!(cells, ["SU02.02", "1", "", "Zoë", "x", "", ""]);
        let one = Cells::split("");
        assert_eq!((one.count, one.at(0)), (1, ""));
        let wide = "\t".repeat(MAX_CELLS + 3) + "last";
        let c = Cells::split(&wide);
        assert_eq!((c.count, c.at(MAX_CELLS - 1), c.at(MAX_CELLS + 3)), (MAX_CELLS + 4, "", ""));
        for cell in ["a", " a", "a ", "\ta", "é", "aé", "éa", "\u{a0}a", "a\u{3000}", "", " ", "~!", "1.5"] {
            assert_eq!(trim(cell), cell.trim(), "{cell:?}");
        }
    }

    #[test]
    fn a_gzip_file_reads_the_same() {
        use std::io::Write;
        let text = sample().iter().map(|l| format!("{l}\n")).collect::<String>();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        let mut n = 0;
        let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let (file, errors, _) = Reader::new().read(reader, &mut Allocation::default(), |_| n += 1).unwrap();
        assert_eq!((errors.len(), n, file.lines), (0, 4, 14));
    }

    #[test]
    fn each_problem_names_its_line_record_and_cell() {
        let mut lines = sample();
        lines[2] = lines[2].replace("\t610\t", "\tmany\t");
        lines[6] = lines[6].replace("NLA2R1200001", "NOT-AN-ISRC");
        lines[9] = lines[9].replace("\t600\t", "\t-5\t");
        lines[10] = "SU02.02\t1\t9\t5\t\tA1\ttrue\t52\t\t\tNonInteractiveStream".into();
        lines[11] = "SU02.02\t1\t1\t3\t\tA7\ttrue\t10\t\t\tOnDemandStream".into();
        lines.insert(12, "XX99.01\tsomething".into());
        let n = lines.len();
        lines[n - 1] = format!("FOOT\t{}\t\t3\t2\t", n + 3);
        let found = problems(&lines);
        assert_eq!(
            found,
            vec![
                (3, "SY01.02".into(), Some("TotalUsages")),
                (7, "AS01.02".into(), Some("ResourceISRC")),
                (10, "SU02.02".into(), Some("NumberOfStreams")),
                (11, "SU02.02".into(), Some("SummaryRecordId")),
                (12, "SU02.02".into(), Some("TransactedResource")),
                (13, "XX99.01".into(), None),
                (15, "FOOT".into(), Some("NumberOfLinesInFile")),
                (15, "FOOT".into(), Some("NumberOfBlocksInFile")),
            ]
        );
    }

    #[test]
    fn a_repeated_sales_transaction_id_is_found_on_each_line_that_repeats_it() {
        let mut lines = sample();
        lines[11] = lines[11].replacen("SU02.02\t1\t1\t3\t", "SU02.02\t1\t1\t1\t", 1);
        lines[12] = lines[12].replacen("SU01.02\t1\t3\t4\t", "SU01.02\t1\t3\t1\t", 1);
        let (file, errors, _) = read(&lines, "\r\n");
        assert_eq!(file.repeated_transactions.len(), 1, "one id, used three times");
        let found: Vec<_> =
            errors.iter().map(|e| (e.line, e.record_type.as_str(), e.cell, e.reason.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (12, "SU02.02", Some("SalesTransactionId"), "is used twice (first on line 10)"),
                (13, "SU01.02", Some("SalesTransactionId"), "is used twice (first on line 10)"),
            ]
        );
        assert!(read(&sample(), "\n").0.repeated_transactions.is_empty());
    }

    #[test]
    fn the_file_must_begin_with_head_end_with_foot_and_hold_full_records() {
        let lines = sample();
        let headless: Vec<String> = lines[1..].to_vec();
        assert!(problems(&headless).iter().any(|(l, t, _)| *l == 2 && t == "SY01.02"));
        let footless: Vec<String> = lines[..lines.len() - 1].to_vec();
        assert_eq!(problems(&footless), vec![(13, "FOOT".into(), None)]);
        let mut short = lines.clone();
        short[9] = "SU02.02\t1\t1\t1".into();
        let found = read(&short, "\n").1;
        assert_eq!((found[0].line, found[0].reason.as_str()), (10, "has 4 cells; it needs 11"));
        let mut after = lines.clone();
        after.push(lines[9].clone());
        assert_eq!(problems(&after).last().unwrap().0, 15);
        assert_eq!(read(&[], "\n").1[0].reason, "the file is empty");
    }

    #[test]
    fn at_most_a_thousand_problems_are_listed_and_all_are_counted() {
        let mut lines = sample();
        let foot = lines.pop().unwrap();
        for i in 0..1_500 {
            lines.push(format!("SU02.02\t1\t77\tx{i}\t\tA1\ttrue\t1\t\t\tOnDemandStream"));
        }
        lines.push(foot);
        let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let (_, errors, count) = Reader::new().read(text.as_bytes(), &mut Allocation::default(), |_| {}).unwrap();
        assert_eq!(errors.len(), MAX_ERRORS);
        assert!(count > 1_500, "{count}");
    }

    #[test]
    fn a_report_in_several_files_is_checked_as_one() {
        // Two files: the same HEAD numbered 1 and 2, the same summaries, one block each.
        let whole = sample();
        let head = |n: u32| whole[0].replace("\t1\t1\t2024-05-01", &format!("\t{n}\t2\t2024-05-01"));
        let summaries = &whole[1..5];
        let block_one = &whole[5..11];
        let block_two: Vec<String> = whole[11..13].iter().map(|l| l.replacen("\t1\t", "\t2\t", 1)).collect();
        let mut first = vec![head(1)];
        first.extend_from_slice(summaries);
        first.extend_from_slice(&[whole[5].clone(), whole[6].clone(), whole[7].clone()]);
        first.extend_from_slice(&block_one[4..6]);
        first.push(format!("FOOT\t{}\t\t3\t1\t", first.len() + 1));
        let mut second = vec![head(2)];
        second.extend_from_slice(summaries);
        second.push(whole[5].replacen("\t1\t", "\t2\t", 1));
        second.push(whole[8].replacen("\t1\t", "\t2\t", 1));
        second.extend(block_two);
        let total = first.len() + second.len() + 1;
        second.push(format!("FOOT\t{}\t{total}\t3\t1\t2", second.len() + 1));
        let (a, errors_a, _) = read(&first, "\n");
        let (b, errors_b, _) = read(&second, "\n");
        assert_eq!((errors_a, errors_b), (vec![], vec![]));
        assert_eq!(check_report(&[a.clone(), b.clone()]), Vec::<String>::new());
        // The files alone, or out of order, do not make the report.
        assert!(check_report(std::slice::from_ref(&a)).iter().any(|p| p.contains("HEAD says 2 files")));
        assert!(check_report(&[b, a]).iter().any(|p| p.contains("says it is file")));
    }

    #[test]
    fn usages_must_add_up_to_each_summary_total() {
        let mut lines = sample();
        lines[9] = lines[9].replace("\t600\t", "\t601\t");
        let (file, errors, _) = read(&lines, "\n");
        assert_eq!(errors, vec![]);
        assert_eq!(
            check_report(&[file]),
            vec!["summary record 1 says TotalUsages 610; its lines add up to 611".to_owned()]
        );
    }

    #[test]
    fn a_head_line_alone_says_which_report_and_file_it_is() {
        let head = read_head(&format!("{}\r\n", sample()[0])).unwrap();
        assert_eq!((head.message_id.as_str(), head.file_number, head.number_of_files), ("DSR-1", 1, 1));
        let errors = read_head("SY01.02\t1").unwrap_err();
        assert_eq!(errors[0].reason, "the file must begin with HEAD");
        let errors =
            read_head("HEAD\tdsrf\tBasicAudioProfile\t1.3\tDSR-1\tnow\t2\t1\t2024-05\t2024-05\tPADPIDA1\tS\t\t\t\t")
                .unwrap_err();
        assert_eq!(errors[0].cell, Some("FileNumber"));
    }

    proptest::proptest! {
        /// Whatever bytes a file holds, reading it never panics, and every listed problem has a line
        /// within the file.
        #[test]
        fn any_input_reads_without_panicking(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2_000)) {
            let (file, errors, _) = Reader::new().read(data.as_slice(), &mut Allocation::default(), |_| {}).unwrap();
            for e in errors {
                proptest::prop_assert!(e.line <= file.lines.max(1));
            }
        }
    }
}
