//! Usage lines in PostgreSQL's binary `COPY` format: a signature, then per row its number of cells
//! and each cell as a length and its bytes in the type's binary form (`-1` for none), then `-1`. The
//! server parses no text: uuids, integers and the exact revenue arrive as they are stored.
//!
//! What describes a line's resource (its identifiers, title and artist) is the same for every line
//! of that resource in a block, as the report's own resource record is written once per block: the
//! first line of each resource in a block carries it, the others leave it empty (`NULL`) and share
//! the first one's match key. Every query that shows a title takes it from the key's lines.

use uuid::Uuid;

use crate::dsr::Usage;

/// `PGCOPY\n\377\r\n\0`, no flags, no header extension.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The cells of a row, in the column order of `repo::copy_usages`.
const CELLS: i16 = 18;
/// PostgreSQL's type id of `text`, named in an array's header.
const TEXT_OID: i32 = 25;
/// Resources remembered per block; a block holds a release's few, so this only bounds a CSV export
/// (one "block") of many: past it a resource's description is written again, which is harmless.
const REMEMBERED: usize = 4_096;
/// Distinct match keys collected while reading, for matching without a pass over the lines; a
/// report naming more is matched from its stored lines instead.
const MAX_KEYS: usize = 1_000_000;

/// Encodes a report's usage lines as one binary `COPY` stream.
pub struct Encoder {
    report: Uuid,
    block: String,
    described: Vec<String>,
    keys: Option<std::collections::HashSet<String>>,
}

impl Encoder {
    /// Starts the stream: `out` receives the signature.
    pub fn new(report: Uuid, out: &mut Vec<u8>) -> Self {
        out.extend_from_slice(SIGNATURE);
        Self { report, block: String::new(), described: Vec::new(), keys: Some(Default::default()) }
    }

    /// The report's distinct match keys, unless there were too many to keep.
    pub fn keys(self) -> Option<Vec<String>> {
        self.keys.map(|keys| keys.into_iter().collect())
    }

    /// Whether the line is the first of its resource in its block (and so carries its description).
    pub fn describes(&mut self, u: &Usage, key: Option<&str>) -> bool {
        if u.block_id != self.block {
            self.block.clone_from(&u.block_id);
            self.described.clear();
        }
        let Some(key) = key else { return true };
        if self.described.iter().any(|k| k == key) {
            return false;
        }
        if self.described.len() == REMEMBERED {
            self.described.clear();
        }
        self.described.push(key.to_owned());
        // Every key has a describing line, so the set sees each of them (and only these lines).
        if let Some(keys) = &mut self.keys {
            if keys.len() < MAX_KEYS {
                keys.insert(key.to_owned());
            } else if !keys.contains(key) {
                self.keys = None;
            }
        }
        true
    }

    /// Appends one usage line of file `file` as a row of `royalty_usages`, its revenue with all ten
    /// places.
    pub fn encode(&mut self, out: &mut Vec<u8>, file: i32, u: &Usage) {
        let key = u.match_key();
        let describe = self.describes(u, key.as_deref());
        out.extend_from_slice(&CELLS.to_be_bytes());
        cell(out, self.report.as_bytes());
        cell(out, &file.to_be_bytes());
        cell(out, &(u.line as i64).to_be_bytes());
        for value in [&u.summary_id, &u.block_id, &u.transaction_id, &u.record_type] {
            cell(out, value.as_bytes());
        }
        if describe {
            for value in [&u.isrc, &u.icpn, &u.dsp_id] {
                optional(out, value.as_deref());
            }
            array(out, &u.proprietary_ids);
            cell(out, u.title.as_bytes());
            cell(out, u.artist.as_bytes());
        } else {
            for _ in 0..6 {
                null(out);
            }
        }
        cell(out, &[u8::from(u.royalty_bearing)]);
        cell(out, &u.usages.to_be_bytes());
        cell(out, u.use_type.as_bytes());
        numeric(out, u.revenue);
        optional(out, key.as_deref());
    }

    /// Ends the stream.
    pub fn finish(out: &mut Vec<u8>) {
        out.extend_from_slice(&(-1i16).to_be_bytes());
    }
}

fn cell(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(&(-1i32).to_be_bytes());
}

fn optional(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => cell(out, v.as_bytes()),
        None => null(out),
    }
}

/// A one-dimensional `text[]`: dimensions, a flag for nulls (none), the element type, each
/// dimension's length and lower bound, then each element as a cell.
fn array(out: &mut Vec<u8>, values: &[String]) {
    let mut body = Vec::with_capacity(20 + values.iter().map(|v| 4 + v.len()).sum::<usize>());
    let dimensions: i32 = if values.is_empty() { 0 } else { 1 };
    body.extend_from_slice(&dimensions.to_be_bytes());
    body.extend_from_slice(&0i32.to_be_bytes());
    body.extend_from_slice(&TEXT_OID.to_be_bytes());
    if dimensions == 1 {
        body.extend_from_slice(&(values.len() as i32).to_be_bytes());
        body.extend_from_slice(&1i32.to_be_bytes());
    }
    for v in values {
        cell(&mut body, v.as_bytes());
    }
    cell(out, &body);
}

/// Units of 10⁻¹⁰ as a binary `numeric` with ten places: base-10,000 digits, most significant
/// first, `weight` the power of 10,000 of the first, then a sign and the display scale. The
/// fraction's ten places fill three digits (the last padded with two zeros); PostgreSQL drops the
/// leading and trailing zero digits itself.
fn numeric(out: &mut Vec<u8>, units: i128) {
    const NBASE: u128 = 10_000;
    let abs = units.unsigned_abs();
    let (mut whole, fraction) = (abs / 10_000_000_000, abs % 10_000_000_000 * 100);
    let mut digits = [0u16; 16];
    let mut n = 0;
    loop {
        digits[n] = (whole % NBASE) as u16;
        n += 1;
        whole /= NBASE;
        if whole == 0 {
            break;
        }
    }
    digits[..n].reverse();
    let weight = n as i16 - 1;
    for power in [100_000_000u128, 10_000, 1] {
        digits[n] = (fraction / power % NBASE) as u16;
        n += 1;
    }
    let sign: u16 = if units < 0 { 0x4000 } else { 0 };
    out.extend_from_slice(&(8 + 2 * n as i32).to_be_bytes());
    out.extend_from_slice(&(n as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&10i16.to_be_bytes());
    for d in &digits[..n] {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(block: &str, isrc: &str) -> Usage {
        Usage {
            line: 12,
            record_type: "SU02.02".into(),
            block_id: block.into(),
            summary_id: "3".into(),
            transaction_id: "7".into(),
            isrc: Some(isrc.into()),
            icpn: None,
            dsp_id: Some("T1".into()),
            proprietary_ids: vec!["LBL::A1".into()],
            title: "Tab\there".into(),
            artist: "Zoë".into(),
            royalty_bearing: false,
            usages: 560,
            use_type: "OnDemandStream".into(),
            revenue: 33_863_311_475,
        }
    }

    #[test]
    fn numeric_digits_are_base_ten_thousand_with_ten_places() {
        let mut out = Vec::new();
        numeric(&mut out, 123_456_789_012_345);
        // 12345.6789012345 = [1, 2345] . [6789, 0123, 4500]
        let words: Vec<i16> = out[4..].chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect();
        assert_eq!(i32::from_be_bytes(out[..4].try_into().unwrap()), 8 + 2 * 5);
        assert_eq!(words, [5, 1, 0, 10, 1, 2345, 6789, 123, 4500]);
        out.clear();
        numeric(&mut out, -1);
        let words: Vec<i16> = out[4..].chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect();
        assert_eq!(words, [4, 0, 0x4000, 10, 0, 0, 0, 100]);
    }

    #[test]
    fn a_resource_is_described_once_per_block() {
        let mut out = Vec::new();
        let mut encoder = Encoder::new(Uuid::nil(), &mut out);
        assert_eq!(out.len(), 19);
        let (a, b) = (usage("1", "NLA2R1200001"), usage("1", "NLA2R1200002"));
        assert!(encoder.describes(&a, Some("isrc:NLA2R1200001")));
        assert!(encoder.describes(&b, Some("isrc:NLA2R1200002")));
        assert!(!encoder.describes(&a, Some("isrc:NLA2R1200001")));
        assert!(encoder.describes(&usage("2", "NLA2R1200001"), Some("isrc:NLA2R1200001")));
        assert!(encoder.describes(&a, None), "a line naming nothing describes itself");
        let mut keys = encoder.keys().unwrap();
        keys.sort();
        assert_eq!(keys, ["isrc:NLA2R1200001", "isrc:NLA2R1200002"]);
        let mut encoder = Encoder::new(Uuid::nil(), &mut out);
        let (mut first, mut again) = (Vec::new(), Vec::new());
        let c = usage("3", "NLA2R1200003");
        encoder.encode(&mut first, 2, &c);
        encoder.encode(&mut again, 2, &c);
        assert!(again.len() < first.len(), "the second line of a resource leaves its description out");
        assert_eq!(i16::from_be_bytes([first[0], first[1]]), CELLS);
    }
}
