//! The text of office documents, for search: Word, PowerPoint and Excel files (`.docx`, `.pptx`,
//! `.xlsx`, Office Open XML) and OpenDocument ones (`.odt`, `.odp`, `.ods`) are zip archives of XML.
//! The archive's directory is read from its end, only the parts that hold the text are inflated, and
//! every part and the text kept are bounded, so that a small hostile archive cannot unfold into much.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// The most bytes one part of the archive may inflate to before it is cut.
const MAX_PART: u64 = 16 * 1024 * 1024;
/// The most parts read (a presentation's slides).
const MAX_PARTS: usize = 500;
/// The longest directory read: an archive of many thousand entries is not a document.
const MAX_DIRECTORY: u64 = 4 * 1024 * 1024;

/// An entry of the archive's directory.
struct Entry {
    name: String,
    method: u16,
    compressed: u64,
    offset: u64,
}

/// What kind of document an archive is, by the parts it holds: `docx`, `pptx`, `xlsx`, `odt`, `odp`,
/// `ods`; `None` for any other archive.
fn kind(entries: &[Entry], mimetype: Option<&str>) -> Option<&'static str> {
    let has = |name: &str| entries.iter().any(|e| e.name == name);
    if has("word/document.xml") {
        Some("docx")
    } else if entries.iter().any(|e| slide_number(&e.name).is_some()) {
        Some("pptx")
    } else if has("xl/workbook.xml") {
        Some("xlsx")
    } else if has("content.xml") {
        match mimetype? {
            "application/vnd.oasis.opendocument.text" => Some("odt"),
            "application/vnd.oasis.opendocument.presentation" => Some("odp"),
            "application/vnd.oasis.opendocument.spreadsheet" => Some("ods"),
            _ => None,
        }
    } else {
        None
    }
}

/// `ppt/slides/slide12.xml` → 12.
fn slide_number(name: &str) -> Option<u32> {
    name.strip_prefix("ppt/slides/slide")?.strip_suffix(".xml")?.parse().ok()
}

/// The document's kind and text, when the zip archive `file` (`len` bytes) is an office document.
pub fn read(file: &mut File, len: u64) -> Result<Option<(&'static str, String)>, String> {
    let entries = directory(file, len)?;
    let mimetype = match entries.iter().find(|e| e.name == "mimetype") {
        Some(e) => Some(String::from_utf8_lossy(&part(file, e)?).trim().to_owned()),
        None => None,
    };
    let Some(kind) = kind(&entries, mimetype.as_deref()) else { return Ok(None) };
    let mut parts: Vec<&Entry> = match kind {
        "docx" => entries.iter().filter(|e| e.name == "word/document.xml").collect(),
        "xlsx" => entries.iter().filter(|e| e.name == "xl/sharedStrings.xml").collect(),
        "pptx" => entries.iter().filter(|e| slide_number(&e.name).is_some()).collect(),
        _ => entries.iter().filter(|e| e.name == "content.xml").collect(),
    };
    parts.sort_by_key(|e| slide_number(&e.name));
    let mut text = String::new();
    for entry in parts.into_iter().take(MAX_PARTS) {
        text.push_str(&xml_text(&String::from_utf8_lossy(&part(file, entry)?)));
        text.push('\n');
        if text.len() >= super::media::MAX_TEXT {
            break;
        }
    }
    Ok(Some((kind, text)))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The archive's directory: found from the end-of-directory record in its last 64 KiB.
fn directory(file: &mut File, len: u64) -> Result<Vec<Entry>, String> {
    let tail_len = len.min(65_557);
    let mut tail = vec![0; tail_len as usize];
    file.seek(SeekFrom::Start(len - tail_len)).map_err(|e| e.to_string())?;
    file.read_exact(&mut tail).map_err(|e| e.to_string())?;
    let end = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == Some(0x0605_4b50))
        .ok_or("is a zip archive without its directory")?;
    let count = u16_at(&tail, end + 10).unwrap_or(0);
    let size = u64::from(u32_at(&tail, end + 12).unwrap_or(0));
    let start = u64::from(u32_at(&tail, end + 16).unwrap_or(0));
    if size > MAX_DIRECTORY || start.checked_add(size).is_none_or(|e| e > len) {
        return Err("has a zip directory that does not fit the file".into());
    }
    let mut dir = vec![0; size as usize];
    file.seek(SeekFrom::Start(start)).map_err(|e| e.to_string())?;
    file.read_exact(&mut dir).map_err(|e| e.to_string())?;
    let mut entries = Vec::new();
    let mut at = 0;
    for _ in 0..count {
        if u32_at(&dir, at) != Some(0x0201_4b50) {
            return Err("has a damaged zip directory".into());
        }
        let field = |off| u16_at(&dir, at + off).map(usize::from).ok_or("has a damaged zip directory");
        let (name_len, extra_len, comment_len) = (field(28)?, field(30)?, field(32)?);
        let name = dir.get(at + 46..at + 46 + name_len).ok_or("has a damaged zip directory")?;
        entries.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            method: u16_at(&dir, at + 10).unwrap_or(0),
            compressed: u64::from(u32_at(&dir, at + 20).unwrap_or(0)),
            offset: u64::from(u32_at(&dir, at + 42).unwrap_or(0)),
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

/// An entry's bytes, inflated (stored or deflated), at most [`MAX_PART`] of them.
fn part(file: &mut File, entry: &Entry) -> Result<Vec<u8>, String> {
    let mut header = [0u8; 30];
    file.seek(SeekFrom::Start(entry.offset)).map_err(|e| e.to_string())?;
    file.read_exact(&mut header).map_err(|_| format!("ends inside {}", entry.name))?;
    if u32_at(&header, 0) != Some(0x0403_4b50) {
        return Err(format!("has a damaged zip entry, {}", entry.name));
    }
    let skip = u64::from(u16_at(&header, 26).unwrap_or(0)) + u64::from(u16_at(&header, 28).unwrap_or(0));
    file.seek(SeekFrom::Current(skip as i64)).map_err(|e| e.to_string())?;
    let raw = Read::by_ref(file).take(entry.compressed);
    let mut out = Vec::new();
    match entry.method {
        0 => raw.take(MAX_PART).read_to_end(&mut out),
        8 => flate2::read::DeflateDecoder::new(raw).take(MAX_PART).read_to_end(&mut out),
        other => return Err(format!("packs {} in a way not read here (method {other})", entry.name)),
    }
    .map_err(|e| format!("has a damaged zip entry, {}: {e}", entry.name))?;
    Ok(out)
}

/// The text of an office document's XML part: what lies between its tags, entities decoded, a line
/// at the end of each paragraph, row and shared string, a space for a tab, a cell or a line break.
pub fn xml_text(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() / 4);
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        push_decoded(&mut out, &rest[..open]);
        let Some(close) = rest[open..].find('>') else { break };
        let tag = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let name = tag.trim_start_matches('/').split([' ', '/', '\t', '\n', '\r']).next().unwrap_or("");
        if tag.starts_with('/') {
            if matches!(name, "w:p" | "a:p" | "text:p" | "text:h" | "si" | "table:table-row" | "w:tr") {
                out.push('\n');
            } else if matches!(name, "table:table-cell" | "w:tc") {
                out.push(' ');
            }
        } else if matches!(name, "w:tab" | "w:br" | "a:br" | "text:tab" | "text:line-break" | "text:s") {
            out.push(' ');
        }
    }
    out
}

/// Text between tags, its entities (`&amp;`, `&#233;`, `&#xE9;`, ...) decoded.
fn push_decoded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = &after[..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip archive of `parts` (name, bytes, deflated or stored), as office programs write them.
    fn zip(parts: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut directory = Vec::new();
        for (name, bytes, deflate) in parts {
            let data = if *deflate {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(bytes).unwrap();
                e.finish().unwrap()
            } else {
                bytes.to_vec()
            };
            let method: u16 = if *deflate { 8 } else { 0 };
            let offset = out.len() as u32;
            let mut local = Vec::new();
            local.extend(0x0403_4b50u32.to_le_bytes());
            local.extend([20, 0, 0, 0]);
            local.extend(method.to_le_bytes());
            local.extend([0; 8]); // time, date, crc (not checked here)
            local.extend((data.len() as u32).to_le_bytes());
            local.extend((bytes.len() as u32).to_le_bytes());
            local.extend((name.len() as u16).to_le_bytes());
            local.extend(0u16.to_le_bytes());
            local.extend(name.as_bytes());
            out.extend(&local);
            out.extend(&data);
            directory.extend(0x0201_4b50u32.to_le_bytes());
            directory.extend([20, 0, 20, 0, 0, 0]);
            directory.extend(method.to_le_bytes());
            directory.extend([0; 8]);
            directory.extend((data.len() as u32).to_le_bytes());
            directory.extend((bytes.len() as u32).to_le_bytes());
            directory.extend((name.len() as u16).to_le_bytes());
            directory.extend([0; 12]); // extra, comment, disk, attributes
            directory.extend(offset.to_le_bytes());
            directory.extend(name.as_bytes());
        }
        let start = out.len() as u32;
        out.extend(&directory);
        out.extend(0x0605_4b50u32.to_le_bytes());
        out.extend([0; 4]);
        out.extend((parts.len() as u16).to_le_bytes());
        out.extend((parts.len() as u16).to_le_bytes());
        out.extend((directory.len() as u32).to_le_bytes());
        out.extend(start.to_le_bytes());
        out.extend([0, 0]);
        out
    }

    fn read_bytes(bytes: &[u8]) -> Result<Option<(&'static str, String)>, String> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        let len = bytes.len() as u64;
        read(&mut f, len)
    }

    #[test]
    fn xml_gives_its_text_with_lines_and_entities() {
        let xml = r#"<?xml version="1.0"?><w:document><w:body><w:p><w:r><w:t>Fish &amp; Chips</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">caf&#233; &#xE9;t&eacute;</w:t></w:r></w:p><w:p><w:r><w:t>&lt;b&gt; &amp</w:t></w:r></w:p></w:body></w:document>"#;
        assert_eq!(xml_text(xml), "Fish & Chips café ét&eacute;\n<b> &amp\n");
    }

    #[test]
    fn word_powerpoint_excel_and_opendocument_files_give_their_text() {
        let doc = b"<w:document><w:body><w:p><w:r><w:t>Stage plot for the zephyrine tour</w:t></w:r></w:p></w:body></w:document>";
        let docx = zip(&[("[Content_Types].xml", b"<Types/>", true), ("word/document.xml", doc, true)]);
        assert_eq!(read_bytes(&docx).unwrap(), Some(("docx", "Stage plot for the zephyrine tour\n\n".into())));

        let slide = |t: &str| format!("<p:sld><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:sld>");
        let (s1, s2, s10) = (slide("Opening"), slide("Encore"), slide("Thanks"));
        let pptx = zip(&[
            ("ppt/slides/slide10.xml", s10.as_bytes(), true),
            ("ppt/slides/slide2.xml", s2.as_bytes(), false),
            ("ppt/slides/slide1.xml", s1.as_bytes(), true),
        ]);
        let (kind, text) = read_bytes(&pptx).unwrap().unwrap();
        assert_eq!((kind, text.split_whitespace().collect::<Vec<_>>()), ("pptx", vec!["Opening", "Encore", "Thanks"]));

        let strings = b"<sst><si><t>Venue</t></si><si><t>Capacity</t></si></sst>";
        let xlsx = zip(&[("xl/workbook.xml", b"<workbook/>", true), ("xl/sharedStrings.xml", strings, true)]);
        assert_eq!(read_bytes(&xlsx).unwrap(), Some(("xlsx", "Venue\nCapacity\n\n".into())));

        let content = b"<office:document-content><text:h>Rider</text:h><text:p>Two<text:s/>monitors</text:p></office:document-content>";
        let odt =
            zip(&[("mimetype", b"application/vnd.oasis.opendocument.text", false), ("content.xml", content, true)]);
        assert_eq!(read_bytes(&odt).unwrap(), Some(("odt", "Rider\nTwo monitors\n\n".into())));
    }

    #[test]
    fn other_archives_and_damaged_ones_are_told_apart() {
        // A zip of photos is no document.
        assert_eq!(read_bytes(&zip(&[("photo.jpg", b"\xFF\xD8\xFF", false)])).unwrap(), None);
        // OpenDocument content without a known type is not guessed.
        let odg =
            zip(&[("mimetype", b"application/vnd.oasis.opendocument.graphics", false), ("content.xml", b"<x/>", true)]);
        assert_eq!(read_bytes(&odg).unwrap(), None);
        // No directory at the end; a directory pointing past the file; an entry cut short.
        assert!(read_bytes(b"PK\x03\x04 and then nothing").is_err());
        let mut past = zip(&[("word/document.xml", b"<w:t>x</w:t>", true)]);
        let n = past.len();
        past[n - 6..n - 2].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read_bytes(&past).is_err());
        let whole = zip(&[("word/document.xml", b"<w:p><w:t>x</w:t></w:p>", false)]);
        let mut cut = whole[..20].to_vec();
        cut.extend(&whole[whole.len() - 80..]);
        assert!(read_bytes(&cut).is_err());
    }

    #[test]
    fn a_part_that_unfolds_into_much_is_cut() {
        // 64 MiB of one letter deflates to ~64 KiB: only the first 16 MiB are inflated.
        let big = vec![b'a'; 64 * 1024 * 1024];
        let doc = [b"<w:p><w:t>".as_slice(), &big, b"</w:t></w:p>"].concat();
        let docx = zip(&[("word/document.xml", &doc, true)]);
        assert!(docx.len() < 1024 * 1024, "{}", docx.len());
        let (_, text) = read_bytes(&docx).unwrap().unwrap();
        assert!(text.len() as u64 <= MAX_PART, "{}", text.len());
    }
}
