//! Stores' CSV exports. Not every store sends DDEX: many give a spreadsheet with a row per recording,
//! territory and use, each with its own usages and revenue. A **mapping**, saved per store, names the
//! columns (by their heading, in any case); each row becomes a usage line with its revenue exactly as
//! written, and the rows are gathered into one summary per territory, currency and use type, so that the
//! rest (matching, royalty lines, the proof) is the same as for DSR. Rows are read as they stream by.

use std::collections::HashMap;
use std::io::BufRead;

use platform::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dsr::{LineError, Summary, Usage};

/// Which column holds what: each a heading of the file's first row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// `,` (the default), `;` or `tab`.
    #[serde(default = "comma")]
    pub delimiter: String,
    /// Amounts written with a decimal comma (`1.234,56`).
    #[serde(default)]
    pub decimal_comma: bool,
    /// The recording's ISRC; or `upc` for a release sold whole (one of them at least).
    pub isrc: Option<String>,
    pub upc: Option<String>,
    pub title: Option<String>,
    pub artist: Option<String>,
    /// ISO 3166 territory code.
    pub territory: String,
    /// Streams or downloads (whole numbers).
    pub usages: String,
    /// The row's net revenue, an exact decimal.
    pub revenue: String,
    /// The column of the currency; or `currency` for every row.
    pub currency_column: Option<String>,
    pub currency: Option<String>,
    /// The column of the use type (`OnDemandStream`, `PermanentDownload`, ...); `OnDemandStream` without.
    pub use_type: Option<String>,
}

fn comma() -> String {
    ",".into()
}

impl Mapping {
    /// The mapping's own mistakes, each naming its field.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.separator().is_none() {
            errors.push(FieldError::new("delimiter", "invalid_value", "must be \",\", \";\" or \"tab\""));
        }
        if self.isrc.is_none() && self.upc.is_none() {
            errors.push(FieldError::new("isrc", "required", "name the ISRC column, the UPC column, or both"));
        }
        match (&self.currency_column, &self.currency) {
            (None, None) => errors.push(FieldError::new("currency", "required", "name a currency or its column")),
            (Some(_), Some(_)) => {
                errors.push(FieldError::new("currency", "not_applicable", "give a currency or its column, not both"));
            }
            (None, Some(c)) if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) => {
                errors.push(FieldError::new("currency", "invalid_format", "must be an ISO 4217 code"));
            }
            _ => {}
        }
        for (field, column) in self.columns() {
            if column.trim().is_empty() || column.len() > 100 {
                errors.push(FieldError::new(field, "invalid_length", "must be a heading of 1 to 100 characters"));
            }
        }
        errors
    }

    fn separator(&self) -> Option<u8> {
        match self.delimiter.as_str() {
            "," => Some(b','),
            ";" => Some(b';'),
            "tab" | "\t" => Some(b'\t'),
            _ => None,
        }
    }

    /// Every column the mapping names, with its field.
    fn columns(&self) -> Vec<(&'static str, &str)> {
        let mut out =
            vec![("territory", self.territory.as_str()), ("usages", &self.usages), ("revenue", &self.revenue)];
        for (field, column) in [
            ("isrc", &self.isrc),
            ("upc", &self.upc),
            ("title", &self.title),
            ("artist", &self.artist),
            ("currency_column", &self.currency_column),
            ("use_type", &self.use_type),
        ] {
            if let Some(c) = column {
                out.push((field, c.as_str()));
            }
        }
        out
    }

    /// Where each named column is in a heading row; the columns it lacks, by field.
    pub fn locate(&self, heading: &str) -> Result<HashMap<&'static str, usize>, Vec<&'static str>> {
        let cells = split(heading.trim_end_matches(['\r', '\n']), self.separator().unwrap_or(b',')).unwrap_or_default();
        let normal = |s: &str| s.trim().trim_start_matches('\u{feff}').to_lowercase();
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for (field, column) in self.columns() {
            match cells.iter().position(|c| normal(c) == normal(column)) {
                Some(i) => {
                    found.insert(field, i);
                }
                None => missing.push(field),
            }
        }
        if missing.is_empty() { Ok(found) } else { Err(missing) }
    }
}

/// Splits a CSV record (RFC 4180: quoted cells may hold the separator, doubled quotes and line ends);
/// `None` while a quoted cell is still open (the record goes on on the next line).
pub fn split(record: &str, separator: u8) -> Option<Vec<String>> {
    let sep = char::from(separator);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if cell.is_empty() => quoted = true,
            (false, c) if c == sep => cells.push(std::mem::take(&mut cell)),
            (_, c) => cell.push(c),
        }
    }
    if quoted {
        return None;
    }
    cells.push(cell);
    Some(cells)
}

/// What reading a CSV file found.
#[derive(Debug, Clone, Default)]
pub struct FileRead {
    pub summaries: Vec<Summary>,
    /// Physical lines, the heading included.
    pub lines: u64,
    pub usage_lines: u64,
}

/// Reads a CSV export with `mapping`, handing each row to `on_usage` as a usage line of `service`.
/// Answers the summaries, the first problems (line, field, reason) and how many there were.
pub fn read(
    input: impl BufRead,
    mapping: &Mapping,
    service: &str,
    mut on_usage: impl FnMut(Usage),
) -> std::io::Result<(FileRead, Vec<LineError>, u64)> {
    let separator = mapping.separator().unwrap_or(b',');
    let mut out = FileRead::default();
    let mut errors = Vec::new();
    let mut count = 0u64;
    let mut error = |errors: &mut Vec<LineError>, line: u64, cell: Option<&'static str>, reason: String| {
        count += 1;
        if errors.len() < crate::dsr::MAX_ERRORS {
            errors.push(LineError { line, record_type: "CSV".into(), cell, reason });
        }
    };
    // Per summary (territory, currency, use type): its id, usages and revenue in units of 10⁻¹⁰.
    let mut sums: HashMap<(String, String, String), (usize, i64, i128)> = HashMap::new();
    let mut columns: Option<HashMap<&'static str, usize>> = None;
    let mut record = String::new();
    let mut first_line = 0u64;
    for line in input.lines() {
        let line = line?;
        out.lines += 1;
        if record.is_empty() {
            first_line = out.lines;
        } else {
            record.push('\n');
        }
        record.push_str(line.trim_end_matches('\r'));
        let Some(cells) = split(&record, separator) else { continue };
        let text = std::mem::take(&mut record);
        let Some(at) = &columns else {
            match mapping.locate(&text) {
                Ok(found) => columns = Some(found),
                Err(missing) => {
                    for field in missing {
                        error(
                            &mut errors,
                            first_line,
                            Some(field),
                            "no column has the heading the mapping names".into(),
                        );
                    }
                    return Ok((out, errors, count));
                }
            }
            continue;
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |field: &'static str| at.get(field).and_then(|i| cells.get(*i)).map(|c| c.trim()).unwrap_or("");
        let isrc = cell("isrc").to_ascii_uppercase().replace('-', "");
        let upc: String = cell("upc").chars().filter(char::is_ascii_digit).collect();
        let mut ok = true;
        if !isrc.is_empty() && !crate::dsr::valid_isrc(&isrc) {
            error(&mut errors, first_line, Some("isrc"), format!("{isrc:?} is not an ISRC"));
            ok = false;
        }
        if !upc.is_empty() && !(12..=14).contains(&upc.len()) {
            error(&mut errors, first_line, Some("upc"), "a UPC/EAN has 12 to 14 digits".into());
            ok = false;
        }
        let usages = cell("usages").replace([' ', '\u{a0}'], "");
        let usages: Option<i64> = usages.parse().ok();
        if usages.is_none() {
            error(&mut errors, first_line, Some("usages"), "is not a whole number".into());
            ok = false;
        }
        let raw = cell("revenue");
        let revenue = if mapping.decimal_comma { raw.replace('.', "").replace(',', ".") } else { raw.replace(',', "") };
        let revenue = crate::allocation::units(&revenue);
        if revenue.is_none() {
            error(&mut errors, first_line, Some("revenue"), format!("{raw:?} is not an exact decimal"));
            ok = false;
        }
        let territory = cell("territory").to_ascii_uppercase();
        if territory.is_empty() || territory.len() > 4 {
            error(&mut errors, first_line, Some("territory"), "is not a territory code".into());
            ok = false;
        }
        let currency = match &mapping.currency {
            Some(fixed) => fixed.clone(),
            None => cell("currency_column").to_ascii_uppercase(),
        };
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            error(&mut errors, first_line, Some("currency_column"), "is not an ISO 4217 code".into());
            ok = false;
        }
        let (Some(usages), Some(revenue), true) = (usages, revenue, ok) else { continue };
        let use_type = Some(cell("use_type")).filter(|u| !u.is_empty()).unwrap_or("OnDemandStream").to_owned();
        let next = sums.len() + 1;
        let entry = sums.entry((territory, currency, use_type.clone())).or_insert((next, 0, 0));
        entry.1 += usages;
        entry.2 += revenue;
        out.usage_lines += 1;
        on_usage(Usage {
            line: first_line,
            record_type: "CSV".into(),
            block_id: String::new(),
            summary_id: entry.0.to_string(),
            transaction_id: first_line.to_string(),
            isrc: Some(isrc).filter(|v| !v.is_empty()),
            icpn: Some(upc).filter(|v| !v.is_empty()),
            dsp_id: None,
            proprietary_ids: Vec::new(),
            title: cell("title").to_owned(),
            artist: cell("artist").to_owned(),
            royalty_bearing: true,
            usages,
            use_type,
            revenue,
        });
    }
    if !record.is_empty() {
        error(&mut errors, first_line, None, "a quoted cell is never closed".into());
    }
    if columns.is_none() {
        error(&mut errors, 1, None, "the file has no heading row".into());
    }
    let mut summaries: Vec<(usize, Summary)> = sums
        .into_iter()
        .map(|((territory, currency, use_type), (id, usages, revenue))| {
            let summary = Summary {
                id: id.to_string(),
                record_type: "CSV".into(),
                channel: String::new(),
                commercial_model: String::new(),
                use_type,
                territory,
                service: service.to_owned(),
                total_usages: usages,
                currency,
                net_revenue: crate::allocation::text(revenue),
            };
            (id, summary)
        })
        .collect();
    summaries.sort_by_key(|(id, _)| *id);
    out.summaries = summaries.into_iter().map(|(_, s)| s).collect();
    Ok((out, errors, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        Mapping {
            delimiter: ";".into(),
            decimal_comma: true,
            isrc: Some("ISRC".into()),
            upc: None,
            title: Some("Track".into()),
            artist: None,
            territory: "Country".into(),
            usages: "Streams".into(),
            revenue: "Net (EUR)".into(),
            currency_column: None,
            currency: Some("EUR".into()),
            use_type: None,
        }
    }

    #[test]
    fn quoted_cells_hold_separators_quotes_and_line_ends() {
        assert_eq!(
            split("a;\"b;c\";\"say \"\"hi\"\"\"", b';'),
            Some(vec!["a".into(), "b;c".into(), "say \"hi\"".into()])
        );
        assert_eq!(split("a,\"open", b','), None);
        assert_eq!(split("", b','), Some(vec![String::new()]));
    }

    #[test]
    fn rows_become_usage_lines_and_summaries_with_exact_totals() {
        let file = "\u{feff}Track;ISRC;Country;Streams;Net (EUR)\r\n\
                    \"Night; Lines\";DE-A12-26-00001;de;1200;4,800000\r\n\
                    City Hum;DEA122600002;DE;300;1,2\r\n\
                    \"Two\nlines\";DEA122600003;FR;10;0,04\r\n\
                    ;;;;\r\n";
        let mut usages = Vec::new();
        let (read, errors, count) = read(file.as_bytes(), &mapping(), "ShopCo", |u| usages.push(u)).unwrap();
        assert_eq!((errors.len(), count), (0, 0), "{errors:?}");
        assert_eq!((read.lines, read.usage_lines), (6, 3));
        assert_eq!(usages[0].title, "Night; Lines");
        assert_eq!(usages[0].isrc.as_deref(), Some("DEA122600001"));
        assert_eq!(usages[2].line, 4, "a row's first line");
        assert_eq!(read.summaries.len(), 2);
        assert_eq!((read.summaries[0].territory.as_str(), read.summaries[0].total_usages), ("DE", 1500));
        assert_eq!(read.summaries[0].net_revenue, "6.0000000000");
        assert_eq!(read.summaries[1].net_revenue, "0.0400000000");
    }

    #[test]
    fn a_missing_column_and_bad_cells_are_named_with_their_line() {
        let (_, errors, _) = read("Track;ISRC;Streams\n".as_bytes(), &mapping(), "S", |_| {}).unwrap();
        let fields: Vec<_> = errors.iter().map(|e| e.cell).collect();
        assert_eq!(fields, [Some("territory"), Some("revenue")]);
        let file = "Track;ISRC;Country;Streams;Net (EUR)\nA;NOTANISRC;DE;12;1,0\nB;DEA122600002;DE;many;x\n";
        let (read, errors, count) = read(file.as_bytes(), &mapping(), "S", |_| {}).unwrap();
        assert_eq!(read.usage_lines, 0);
        assert_eq!(count, 3);
        assert_eq!((errors[0].line, errors[0].cell), (2, Some("isrc")));
        assert_eq!((errors[1].line, errors[1].cell), (3, Some("usages")));
        assert_eq!((errors[2].line, errors[2].cell), (3, Some("revenue")));
    }

    #[test]
    fn a_mapping_names_what_it_lacks() {
        let mut m = mapping();
        m.isrc = None;
        m.currency_column = Some("Cur".into());
        m.delimiter = "|".into();
        let fields: Vec<String> = m.check().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["delimiter", "isrc", "currency"]);
    }
}
