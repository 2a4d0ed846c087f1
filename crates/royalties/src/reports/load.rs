//! Usage lines in PostgreSQL's `COPY` text format: one line per row, cells separated by TAB, `\N` for
//! none, and backslash, TAB, newline and carriage return escaped inside a cell.

use uuid::Uuid;

use crate::dsr::Usage;

fn text(out: &mut Vec<u8>, value: &str) {
    for b in value.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

fn optional(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => text(out, v),
        None => out.extend_from_slice(b"\\N"),
    }
}

/// A `text[]` literal (`{"a","b"}`, each element quoted and escaped), itself escaped as a cell.
fn array(out: &mut Vec<u8>, values: &[String]) {
    let mut literal = String::from("{");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            literal.push(',');
        }
        literal.push('"');
        for c in v.chars() {
            if c == '"' || c == '\\' {
                literal.push('\\');
            }
            literal.push(c);
        }
        literal.push('"');
    }
    literal.push('}');
    text(out, &literal);
}

/// Appends one usage line of `report`'s file `file` as a row of `royalty_usages` (in the column order
/// of `repo::copy_usages`), its revenue with all ten places.
pub fn encode(out: &mut Vec<u8>, report: Uuid, file: i32, u: &Usage) {
    let tab = |out: &mut Vec<u8>| out.push(b'\t');
    out.extend_from_slice(report.to_string().as_bytes());
    tab(out);
    out.extend_from_slice(file.to_string().as_bytes());
    tab(out);
    out.extend_from_slice(u.line.to_string().as_bytes());
    for cell in [&u.summary_id, &u.block_id, &u.transaction_id, &u.record_type] {
        tab(out);
        text(out, cell);
    }
    for cell in [&u.isrc, &u.icpn, &u.dsp_id] {
        tab(out);
        optional(out, cell.as_deref());
    }
    tab(out);
    array(out, &u.proprietary_ids);
    tab(out);
    text(out, &u.title);
    tab(out);
    text(out, &u.artist);
    tab(out);
    out.push(if u.royalty_bearing { b't' } else { b'f' });
    tab(out);
    out.extend_from_slice(u.usages.to_string().as_bytes());
    tab(out);
    text(out, &u.use_type);
    tab(out);
    out.extend_from_slice(crate::allocation::text(u.revenue).as_bytes());
    tab(out);
    optional(out, u.match_key().as_deref());
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_escaped_and_none_is_null() {
        let u = Usage {
            line: 12,
            record_type: "SU02.02".into(),
            block_id: "1".into(),
            summary_id: "3".into(),
            transaction_id: "7".into(),
            isrc: Some("NLA2R1200001".into()),
            icpn: None,
            dsp_id: Some("T1".into()),
            proprietary_ids: vec!["LBL::A\"1".into(), "X\\Y".into()],
            title: "Tab\there\\back".into(),
            artist: "Zoë".into(),
            royalty_bearing: false,
            usages: 560,
            use_type: "OnDemandStream".into(),
            revenue: 33_863_311_475,
        };
        let mut out = Vec::new();
        encode(&mut out, Uuid::nil(), 2, &u);
        let line = String::from_utf8(out).unwrap();
        assert_eq!(
            line,
            "00000000-0000-0000-0000-000000000000\t2\t12\t3\t1\t7\tSU02.02\tNLA2R1200001\t\\N\tT1\t\
             {\"LBL::A\\\\\"1\",\"X\\\\\\\\Y\"}\tTab\\there\\\\back\tZoë\tf\t560\tOnDemandStream\t3.3863311475\tisrc:NLA2R1200001\n"
        );
    }
}
