//! A report's usage lines summed as they are read, and written in PostgreSQL's binary `COPY` format:
//! one row of `royalty_usage_totals` per summary record, match key and use type, holding how many
//! lines, usages and how much revenue (each line's exact share, summed exactly) it has. Matching,
//! the royalty lines, the unmatched queue and the reconciliation only read lines grouped so; the lines
//! themselves stay in the report's files. A report of a million lines of 20,000 recordings in two
//! territories is 40,000 rows. Each matchable group's whole sum is also kept (up to a limit), from
//! which the report's royalty lines are made and encoded the same way once its keys are matched.
//!
//! The groups are kept in memory up to a limit; past it they are written and the reader starts
//! again, so a group may have several rows (every query sums them) and memory does not grow with the
//! file. The binary format: a signature, then per row its number of cells and each cell as a length
//! and its bytes in the type's binary form (`-1` for none), then `-1`. The server parses no text:
//! uuids, integers and the exact revenue arrive as they are stored.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use uuid::Uuid;

use crate::dsr::Usage;

/// `PGCOPY\n\377\r\n\0`, no flags, no header extension.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The cells of a row, in the column order of `repo::copy_totals`.
const CELLS: i16 = 9;
/// Groups kept in memory before they are written (a few hundred bytes each, and their rows about 120
/// bytes: a write is a 2 MB chunk). Only the groups of the block being read when they are written
/// are split in two rows, so a small limit costs few rows.
pub const GROUPS: usize = 16_384;
/// Distinct match keys collected while reading, for matching without a pass over the rows; a
/// report naming more is matched from its stored rows instead.
const MAX_KEYS: usize = 1_000_000;
/// Matchable groups summed whole while reading (about 170 bytes each: 11 MB at most, and half that
/// more for the second part of a file read in two), from which the royalty lines are made without
/// reading the rows back; a report of more has its lines made from its stored rows instead
/// (`repo::build_lines`).
pub const MAX_SUMMED: usize = 65_536;

/// The lines of one summary record, match key and use type read so far. The three are its key in
/// the map (`summary \t use type \t match key`), read back by their lengths; title and artist share
/// one string: a group costs two allocations, not six.
struct Group {
    summary_len: usize,
    use_type_len: usize,
    keyed: bool,
    /// The title, then the artist.
    described: String,
    title_len: usize,
    lines: i64,
    usages: i64,
    revenue: i128,
}

/// Sums a report's usage lines into groups and encodes them as one binary `COPY` stream.
pub struct Encoder {
    report: Uuid,
    limit: usize,
    groups: HashMap<String, Group>,
    /// The group's key of the line being added, reused from line to line.
    scratch: String,
    keys: Option<HashSet<String>>,
    summed: Option<HashMap<String, Summed>>,
    /// The most groups summed whole ([`MAX_SUMMED`]; half for a second part's encoder).
    max_summed: usize,
    /// The sums of a second part's encoder, [absorbed](Encoder::absorb): kept apart, as the royalty
    /// lines add up groups whichever part summed them (merging them took a few milliseconds, in
    /// the one step of the reading no other thread shares).
    absorbed: Vec<HashMap<String, Summed>>,
}

/// A matchable group's lines, all of them, whichever rows they were written in.
struct Summed {
    summary_len: usize,
    use_type_len: usize,
    /// The least of its rows' titles (in byte order, as `COLLATE "C"` compares).
    title: String,
    usages: i64,
    revenue: i128,
}

/// What reading a report leaves for matching and for its royalty lines (by default nothing: both are
/// then made from the stored rows).
#[derive(Default)]
pub struct Sums {
    /// The report's distinct match keys, unless there were too many to keep.
    pub keys: Option<Vec<String>>,
    /// Its matchable groups summed whole, unless there were too many to keep.
    pub groups: Option<Groups>,
}

/// A report's matchable groups (`summary \t use type \t match key`), each summed whole: in one map,
/// or, for a file read in two parts, a map a part (a group read in both is in both, part in each).
pub struct Groups(Vec<HashMap<String, Summed>>);

impl Encoder {
    /// Starts the stream: `out` receives the signature.
    pub fn new(report: Uuid, out: &mut Vec<u8>) -> Self {
        Self::with_limit(report, GROUPS, out)
    }

    /// As [`Encoder::new`], writing the groups whenever `limit` of them are in memory.
    pub fn with_limit(report: Uuid, limit: usize, out: &mut Vec<u8>) -> Self {
        out.extend_from_slice(SIGNATURE);
        Self {
            report,
            limit: limit.max(1),
            groups: HashMap::new(),
            scratch: String::new(),
            keys: Some(HashSet::new()),
            summed: Some(HashMap::new()),
            max_summed: MAX_SUMMED,
            absorbed: Vec::new(),
        }
    }

    /// Whether the report's distinct match keys are kept (not too many).
    pub fn keeps_keys(&self) -> bool {
        self.keys.is_some()
    }

    /// The report's distinct match keys read so far, unless there were too many to keep.
    pub fn keys(&self) -> Option<Vec<String>> {
        self.keys.as_ref().map(|keys| keys.iter().cloned().collect())
    }

    /// What the reading found for matching and the royalty lines (after [`Encoder::finish`]).
    pub fn sums(self) -> Sums {
        let absorbed = self.absorbed;
        let groups = self.summed.map(|own| Groups(std::iter::once(own).chain(absorbed).collect()));
        Sums { keys: self.keys.map(|keys| keys.into_iter().collect()), groups }
    }

    /// Adds one usage line to its group; when the groups in memory reach the limit, `out` receives
    /// them as rows.
    pub fn add(&mut self, out: &mut Vec<u8>, u: &Usage) {
        // The group's key: summary, use type and match key (cells of a tab-separated record hold no
        // tab, so the parts cannot run into one another), written without allocating.
        self.scratch.clear();
        self.scratch.push_str(&u.summary_id);
        self.scratch.push('\t');
        self.scratch.push_str(&u.use_type);
        self.scratch.push('\t');
        let start = self.scratch.len();
        let keyed = u.write_match_key(&mut self.scratch);
        if let Some(group) = self.groups.get_mut(self.scratch.as_str()) {
            group.lines += 1;
            group.usages = group.usages.saturating_add(u.usages);
            group.revenue += u.revenue;
            return;
        }
        if keyed
            && let Some(keys) = &mut self.keys
            && !note_key(keys, &self.scratch[start..])
        {
            self.keys = None;
        }
        let mut described = String::with_capacity(u.title.len() + u.artist.len());
        described.push_str(&u.title);
        described.push_str(&u.artist);
        let group = Group {
            summary_len: u.summary_id.len(),
            use_type_len: u.use_type.len(),
            keyed,
            described,
            title_len: u.title.len(),
            lines: 1,
            usages: u.usages,
            revenue: u.revenue,
        };
        self.groups.insert(self.scratch.clone(), group);
        if self.groups.len() >= self.limit {
            self.write(out);
        }
    }

    /// Writes the groups in memory as rows and forgets them, but for their sums.
    fn write(&mut self, out: &mut Vec<u8>) {
        for (key, mut g) in self.groups.drain() {
            let (summary_id, rest) = key.split_at(g.summary_len);
            let (use_type, match_key) = rest[1..].split_at(g.use_type_len);
            let (title, artist) = g.described.split_at(g.title_len);
            out.extend_from_slice(&CELLS.to_be_bytes());
            cell(out, self.report.as_bytes());
            cell(out, summary_id.as_bytes());
            optional(out, g.keyed.then(|| &match_key.as_bytes()[1..]));
            cell(out, use_type.as_bytes());
            cell(out, title.as_bytes());
            cell(out, artist.as_bytes());
            cell(out, &g.lines.to_be_bytes());
            cell(out, &g.usages.to_be_bytes());
            numeric(out, g.revenue, 10);
            if g.keyed {
                g.described.truncate(g.title_len);
                let (summary_len, use_type_len) = (g.summary_len, g.use_type_len);
                let group =
                    Summed { summary_len, use_type_len, title: g.described, usages: g.usages, revenue: g.revenue };
                sum(&mut self.summed, self.max_summed, key, group);
            }
        }
    }

    /// An encoder of rows that follow this encoder's (the second part of a file read in two):
    /// without the signature, which the stream has once.
    pub fn following(&self) -> Self {
        let mut none = Vec::new();
        let mut encoder = Self::with_limit(self.report, self.limit, &mut none);
        // Its keys and sums start empty: they join this encoder's in `absorb`.
        encoder.keys = self.keys.as_ref().map(|_| HashSet::new());
        encoder.summed = self.summed.as_ref().map(|_| HashMap::new());
        encoder.max_summed = MAX_SUMMED / 2;
        encoder
    }

    /// Writes the groups in memory as rows: a second part's, at its end, on its own thread.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        self.write(out);
    }

    /// Takes in what a [following](Encoder::following) encoder read: `out` receives its groups still
    /// in memory as rows (none once [flushed](Encoder::flush)), and its keys and sums join these.
    pub fn absorb(&mut self, mut other: Encoder, out: &mut Vec<u8>) {
        other.write(out);
        match (&mut self.keys, other.keys) {
            (Some(keys), Some(theirs)) => {
                if !theirs.iter().all(|key| note_key(keys, key)) {
                    self.keys = None;
                }
            }
            _ => self.keys = None,
        }
        match other.summed {
            Some(theirs) => self.absorbed.push(theirs),
            None => self.summed = None,
        }
    }

    /// Ends the stream: the groups still in memory, then the trailer.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.write(out);
        out.extend_from_slice(&(-1i16).to_be_bytes());
    }
}

/// A key's match: its track (none for a release sold whole) and release.
pub type Match = (Option<Uuid>, Option<Uuid>);

/// The cells of a royalty line, in the column order of `repo::copy_lines`.
const LINE_CELLS: i16 = 15;

impl Groups {
    /// The report's royalty lines as one binary `COPY` stream of `royalty_lines` rows, and how many:
    /// the same rows `repo::build_lines` makes from the stored totals (which the tests hold it to),
    /// made from the sums in memory instead of a pass over the rows. One line per matched key ×
    /// territory × commercial model × use type (the group's, else its summary's) × currency, numbered
    /// in the byte order of those five; its gross the sum of its groups' revenue, its fee `gross ×
    /// fee_bp × 0.0001` exactly (fourteen places, as PostgreSQL's product has).
    pub fn lines<S: std::hash::BuildHasher>(
        &self,
        report: Uuid,
        summaries: &[crate::dsr::Summary],
        matches: &std::collections::HashMap<&str, Match, S>,
        fee_bp: i32,
    ) -> (Vec<u8>, u64) {
        struct Line<'a> {
            title: &'a str,
            found: Match,
            usages: i64,
            gross: i128,
        }
        let by_id: HashMap<&str, &crate::dsr::Summary> = summaries.iter().map(|s| (s.id.as_str(), s)).collect();
        let mut lines: HashMap<[&str; 5], Line<'_>> = HashMap::with_capacity(self.0.iter().map(HashMap::len).sum());
        for (key, g) in self.0.iter().flatten() {
            let (summary_id, rest) = key.split_at(g.summary_len);
            let (use_type, match_key) = rest[1..].split_at(g.use_type_len);
            let match_key = &match_key[1..];
            let (Some(found), Some(summary)) = (matches.get(match_key), by_id.get(summary_id)) else { continue };
            let use_type = if use_type.is_empty() { summary.use_type.as_str() } else { use_type };
            let at = [match_key, &summary.territory, &summary.commercial_model, use_type, &summary.currency];
            let line = lines.entry(at).or_insert(Line { title: &g.title, found: *found, usages: 0, gross: 0 });
            line.title = line.title.min(g.title.as_str());
            line.usages = line.usages.saturating_add(g.usages);
            line.gross += g.revenue;
        }
        let mut lines: Vec<([&str; 5], Line<'_>)> = lines.into_iter().collect();
        lines.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::with_capacity(SIGNATURE.len() + lines.len() * 200 + 2);
        out.extend_from_slice(SIGNATURE);
        for (n, ([match_key, territory, model, use_type, currency], line)) in lines.iter().enumerate() {
            // Fee and net in units of 10⁻¹⁴: gross (10⁻¹⁰) × basis points (10⁻⁴).
            let fee = line.gross * i128::from(fee_bp);
            out.extend_from_slice(&LINE_CELLS.to_be_bytes());
            cell(&mut out, report.as_bytes());
            cell(&mut out, &(n as i32 + 1).to_be_bytes());
            cell(&mut out, match_key.as_bytes());
            cell(&mut out, line.title.as_bytes());
            optional(&mut out, line.found.0.as_ref().map(|t| &t.as_bytes()[..]));
            optional(&mut out, line.found.1.as_ref().map(|r| &r.as_bytes()[..]));
            cell(&mut out, territory.as_bytes());
            cell(&mut out, model.as_bytes());
            cell(&mut out, use_type.as_bytes());
            cell(&mut out, currency.as_bytes());
            cell(&mut out, &line.usages.to_be_bytes());
            numeric(&mut out, line.gross, 10);
            cell(&mut out, &fee_bp.to_be_bytes());
            numeric(&mut out, fee, 14);
            numeric(&mut out, line.gross * 10_000 - fee, 14);
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        (out, lines.len() as u64)
    }
}

/// Adds a group's sum to the sums kept whole, or forgets them all past `limit` groups.
fn sum(sums: &mut Option<HashMap<String, Summed>>, limit: usize, key: String, group: Summed) {
    let Some(summed) = sums else { return };
    if let Some(s) = summed.get_mut(&key) {
        if group.title < s.title {
            s.title = group.title;
        }
        s.usages = s.usages.saturating_add(group.usages);
        s.revenue += group.revenue;
    } else if summed.len() < limit {
        summed.insert(key, group);
    } else {
        *sums = None;
    }
}

/// Notes a match key among the distinct keys; false when it is new and they are as many as are kept.
fn note_key(keys: &mut HashSet<String>, key: &str) -> bool {
    if keys.contains(key) {
        return true;
    }
    if keys.len() >= MAX_KEYS {
        return false;
    }
    keys.insert(key.to_owned());
    true
}

/// The matches a report's reading found by identifier, as one binary `COPY` stream of
/// `royalty_matches` rows in the column order of `repo::copy_matches` (report_id, match_key,
/// track_id, release_id, matched_by, matched_at): each key with its track or its release.
pub fn matches(
    report: Uuid,
    found: &[(String, Option<Uuid>, Option<Uuid>)],
    at: chrono::DateTime<chrono::Utc>,
) -> Vec<u8> {
    // A timestamptz is microseconds since 2000-01-01 00:00 UTC.
    const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;
    let at = at.timestamp_micros() - POSTGRES_EPOCH_MICROS;
    let mut out = Vec::with_capacity(SIGNATURE.len() + found.len() * 100 + 2);
    out.extend_from_slice(SIGNATURE);
    for (key, track, release) in found {
        out.extend_from_slice(&6i16.to_be_bytes());
        cell(&mut out, report.as_bytes());
        cell(&mut out, key.as_bytes());
        optional(&mut out, track.as_ref().map(|t| &t.as_bytes()[..]));
        optional(&mut out, release.as_ref().map(|r| &r.as_bytes()[..]));
        cell(&mut out, b"identifier");
        cell(&mut out, &at.to_be_bytes());
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}

fn cell(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A cell that may be NULL (`-1` for its length).
fn optional(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(v) => cell(out, v),
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

/// Units of 10^-`scale` as a binary `numeric` of `scale` places: base-10,000 digits, most
/// significant first, `weight` the power of 10,000 of the first, then a sign and the display scale.
/// The fraction fills whole digits (ten places three, the last padded with two zeros; fourteen
/// places four); PostgreSQL drops the leading and trailing zero digits itself.
fn numeric(out: &mut Vec<u8>, units: i128, scale: u32) {
    const NBASE: u64 = 10_000;
    // Found in 64 bits, which the processor divides itself (a 128-bit division is a library call,
    // and this runs for every row): one 128-bit division splits an amount too large for them.
    let fraction_digits = scale.div_ceil(4);
    let abs = units.unsigned_abs();
    let one = 10u64.pow(scale);
    let (whole, fraction) = match u64::try_from(abs) {
        Ok(abs) => (u128::from(abs / one), abs % one),
        Err(_) => (abs / u128::from(one), (abs % u128::from(one)) as u64),
    };
    // The whole part as a high part of 64 bits and, past them, its last sixteen decimal digits.
    const LOW: u128 = 10_000_000_000_000_000;
    let (mut high, low) = match u64::try_from(whole) {
        Ok(whole) => (whole, None),
        Err(_) => ((whole / LOW) as u64, Some((whole % LOW) as u64)),
    };
    let mut digits = [0u16; 16];
    let mut n = 0;
    loop {
        digits[n] = (high % NBASE) as u16;
        n += 1;
        high /= NBASE;
        if high == 0 {
            break;
        }
    }
    digits[..n].reverse();
    // `count` digits of `value`, the most significant first.
    let fixed = |value: u64, count: u32, digits: &mut [u16; 16], n: &mut usize| {
        for place in (0..count).rev() {
            digits[*n] = (value / NBASE.pow(place) % NBASE) as u16;
            *n += 1;
        }
    };
    if let Some(low) = low {
        fixed(low, 4, &mut digits, &mut n);
    }
    let weight = n as i16 - 1;
    fixed(fraction * 10u64.pow(4 * fraction_digits - scale), fraction_digits, &mut digits, &mut n);
    let sign: u16 = if units < 0 { 0x4000 } else { 0 };
    out.extend_from_slice(&(8 + 2 * n as i32).to_be_bytes());
    out.extend_from_slice(&(n as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(scale as i16).to_be_bytes());
    for d in &digits[..n] {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(summary: &str, isrc: Option<&str>, usages: i64, revenue: i128) -> Usage {
        Usage {
            line: 12,
            record_type: "SU02.02".into(),
            block_id: "1".into(),
            summary_id: summary.into(),
            transaction_id: "7".into(),
            isrc: isrc.map(str::to_owned),
            icpn: None,
            dsp_id: None,
            proprietary_ids: Vec::new(),
            title: "Tab\there".into(),
            artist: "Zoë".into(),
            royalty_bearing: true,
            usages,
            use_type: "OnDemandStream".into(),
            revenue,
        }
    }

    /// A row read back: (summary, key, lines, usages, the revenue's numeric bytes).
    type Row = (String, Option<String>, i64, i64, Vec<u8>);

    /// The rows of a stream.
    fn rows(stream: &[u8]) -> Vec<Row> {
        let mut rest = &stream[SIGNATURE.len()..];
        let mut take = |n: usize| {
            let (a, b) = rest.split_at(n);
            rest = b;
            a.to_vec()
        };
        let mut rows = Vec::new();
        loop {
            let cells = i16::from_be_bytes(take(2).try_into().unwrap());
            if cells == -1 {
                break;
            }
            assert_eq!(cells, CELLS);
            let mut values = Vec::new();
            for _ in 0..cells {
                let len = i32::from_be_bytes(take(4).try_into().unwrap());
                values.push((len >= 0).then(|| take(len as usize)));
            }
            let text = |v: &Option<Vec<u8>>| v.as_ref().map(|b| String::from_utf8(b.clone()).unwrap());
            let int = |v: &Option<Vec<u8>>| i64::from_be_bytes(v.clone().unwrap().try_into().unwrap());
            rows.push((
                text(&values[1]).unwrap(),
                text(&values[2]),
                int(&values[6]),
                int(&values[7]),
                values[8].clone().unwrap(),
            ));
        }
        rows.sort();
        rows
    }

    #[test]
    fn numeric_digits_are_base_ten_thousand_with_ten_places() {
        let mut out = Vec::new();
        numeric(&mut out, 123_456_789_012_345, 10);
        // 12345.6789012345 = [1, 2345] . [6789, 0123, 4500]
        let words: Vec<i16> = out[4..].chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect();
        assert_eq!(i32::from_be_bytes(out[..4].try_into().unwrap()), 8 + 2 * 5);
        assert_eq!(words, [5, 1, 0, 10, 1, 2345, 6789, 123, 4500]);
        out.clear();
        numeric(&mut out, -1, 10);
        let words: Vec<i16> = out[4..].chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect();
        assert_eq!(words, [4, 0, 0x4000, 10, 0, 0, 0, 100]);
    }

    /// The base-10,000 digits of an amount written out in decimal, four digits at a time.
    fn numeric_by_text(units: i128, scale: u32) -> Vec<u8> {
        let text = format!("{:0>width$}", units.unsigned_abs(), width = scale as usize + 1);
        let (whole, fraction) = text.split_at(text.len() - scale as usize);
        let whole = format!("{whole:0>width$}", width = whole.len().div_ceil(4) * 4);
        let whole = whole.trim_start_matches("0000");
        let whole = if whole.is_empty() { "0000" } else { whole };
        let fraction = format!("{fraction:0<width$}", width = fraction.len().div_ceil(4) * 4);
        let digits: Vec<u16> = format!("{whole}{fraction}")
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap().parse().unwrap())
            .collect();
        let mut out = Vec::new();
        out.extend_from_slice(&(8 + 2 * digits.len() as i32).to_be_bytes());
        out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
        out.extend_from_slice(&(whole.len() as i16 / 4 - 1).to_be_bytes());
        out.extend_from_slice(&(if units < 0 { 0x4000u16 } else { 0 }).to_be_bytes());
        out.extend_from_slice(&(scale as i16).to_be_bytes());
        digits.iter().for_each(|d| out.extend_from_slice(&d.to_be_bytes()));
        out
    }

    #[test]
    fn numeric_digits_are_those_of_the_decimal_text_in_and_past_64_bits() {
        let mut amounts =
            vec![0, 1, -1, 9_999, 10_000, u64::MAX as i128, u64::MAX as i128 + 1, -(u64::MAX as i128) - 1];
        for power in [19, 20, 23, 24, 26, 29, 30, 35, 37] {
            let p = 10i128.pow(power);
            amounts.extend([p - 1, p, p + 7, -(p + 123_456_789)]);
        }
        amounts.extend([i128::MAX / 10_000, i128::MIN / 10_000]);
        for scale in [10, 14] {
            for units in &amounts {
                let mut out = Vec::new();
                numeric(&mut out, *units, scale);
                assert_eq!(out, numeric_by_text(*units, scale), "{units} at {scale} places");
            }
        }
    }

    #[test]
    fn numeric_of_fourteen_places_fills_four_digits() {
        let mut out = Vec::new();
        numeric(&mut out, -12_345_678_901_234_567, 14);
        // -123.45678901234567 = [123] . [4567, 8901, 2345, 6700]
        let words: Vec<i16> = out[4..].chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect();
        assert_eq!(words, [5, 0, 0x4000, 14, 123, 4567, 8901, 2345, 6700]);
    }

    #[test]
    fn matchable_groups_are_summed_in_memory_up_to_their_limit() {
        for (groups, summed) in [(MAX_SUMMED, true), (MAX_SUMMED + 1, false)] {
            let mut out = Vec::new();
            let mut encoder = Encoder::with_limit(Uuid::nil(), 4_096, &mut out);
            // Lines naming nothing are never matched, so they are not summed and do not count.
            encoder.add(&mut out, &usage("1", None, 1, 1));
            for n in 0..groups {
                encoder.add(&mut out, &usage("1", Some(&format!("NLA2R{n:07}")), 1, 1));
                out.clear();
            }
            encoder.finish(&mut out);
            assert_eq!(encoder.sums().groups.is_some(), summed, "{groups} groups");
        }
    }

    #[test]
    fn lines_of_a_summary_key_and_use_type_are_summed_exactly() {
        let mut out = Vec::new();
        let mut encoder = Encoder::new(Uuid::nil(), &mut out);
        encoder.add(&mut out, &usage("1", Some("NLA2R1200001"), 3, 10_000_000_001));
        encoder.add(&mut out, &usage("1", Some("NLA2R1200001"), 4, -2));
        encoder.add(&mut out, &usage("2", Some("NLA2R1200001"), 5, 7));
        encoder.add(&mut out, &usage("1", None, 1, 1));
        encoder.add(&mut out, &usage("1", None, 2, 2));
        assert_eq!(out.len(), SIGNATURE.len(), "nothing is written before the limit or the end");
        encoder.finish(&mut out);
        let number = |units: i128| {
            let mut b = Vec::new();
            numeric(&mut b, units, 10);
            b[4..].to_vec()
        };
        let isrc = Some("isrc:NLA2R1200001".to_owned());
        assert_eq!(
            rows(&out),
            [
                ("1".into(), None, 2, 3, number(3)),
                ("1".into(), isrc.clone(), 2, 7, number(9_999_999_999)),
                ("2".into(), isrc, 1, 5, number(7)),
            ]
        );
        let keys = encoder.sums().keys.unwrap();
        assert_eq!(keys, ["isrc:NLA2R1200001"]);
    }

    #[test]
    fn past_the_limit_groups_are_written_and_begun_again() {
        let mut out = Vec::new();
        let mut encoder = Encoder::with_limit(Uuid::nil(), 2, &mut out);
        encoder.add(&mut out, &usage("1", Some("NLA2R1200001"), 1, 1));
        encoder.add(&mut out, &usage("1", Some("NLA2R1200002"), 1, 1));
        let written = out.len();
        assert!(written > SIGNATURE.len(), "two groups reach the limit of two");
        encoder.add(&mut out, &usage("1", Some("NLA2R1200001"), 1, 1));
        assert_eq!(out.len(), written, "a group begun again waits in memory");
        encoder.finish(&mut out);
        let rows = rows(&out);
        assert_eq!(rows.len(), 3, "the first recording's lines are in two rows, which queries sum");
        assert_eq!(rows.iter().map(|r| r.2).sum::<i64>(), 3);
    }

    #[test]
    fn matches_are_encoded_with_their_track_or_release_and_the_time_in_microseconds_since_2000() {
        let (report, track, release) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let at = chrono::DateTime::parse_from_rfc3339("2000-01-01T00:00:01.000002Z").unwrap().to_utc();
        let found = [
            ("isrc:NLA2R1200001".to_owned(), Some(track), Some(release)),
            ("icpn:0871827100001".to_owned(), None, Some(release)),
        ];
        let out = matches(report, &found, at);
        assert!(out.starts_with(SIGNATURE) && out.ends_with(&(-1i16).to_be_bytes()));
        let mut rest = &out[SIGNATURE.len()..];
        let mut take = |n: usize| {
            let (a, b) = rest.split_at(n);
            rest = b;
            a.to_vec()
        };
        let cells = |take: &mut dyn FnMut(usize) -> Vec<u8>| -> Vec<Option<Vec<u8>>> {
            assert_eq!(i16::from_be_bytes(take(2).try_into().unwrap()), 6);
            (0..6)
                .map(|_| match i32::from_be_bytes(take(4).try_into().unwrap()) {
                    -1 => None,
                    n => Some(take(n as usize)),
                })
                .collect()
        };
        let first = cells(&mut take);
        assert_eq!(first[0].as_deref(), Some(&report.as_bytes()[..]));
        assert_eq!(first[1].as_deref(), Some(&b"isrc:NLA2R1200001"[..]));
        assert_eq!(first[2].as_deref(), Some(&track.as_bytes()[..]));
        assert_eq!(first[3].as_deref(), Some(&release.as_bytes()[..]));
        assert_eq!(first[4].as_deref(), Some(&b"identifier"[..]));
        assert_eq!(first[5].as_deref(), Some(&1_000_002i64.to_be_bytes()[..]));
        let second = cells(&mut take);
        assert_eq!((second[2].as_deref(), second[3].as_deref()), (None, Some(&release.as_bytes()[..])));
        assert_eq!(take(2), (-1i16).to_be_bytes());
    }
}
