//! A file's media type, known by its first bytes (never by its name or the type a client claims): the
//! kinds of file a brief or a brand has (images, documents, video, audio, archives); anything else is
//! `application/octet-stream`, served as a download.

use std::io::Read;
use std::path::Path;

/// The media type of the bytes at the start of a file.
pub fn media_type(head: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        "image/webp"
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        "audio/wav"
    } else if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"PK\x03\x04") {
        "application/zip"
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        if &head[8..12] == b"qt  " { "video/quicktime" } else { "video/mp4" }
    } else if starts(b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        "audio/mpeg"
    } else if is_svg(head) {
        "image/svg+xml"
    } else {
        "application/octet-stream"
    }
}

/// An SVG document: XML (after an optional byte-order mark, declaration and comments) whose first
/// element is `<svg`.
fn is_svg(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>").map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->").map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("<!DOCTYPE") {
            rest = after.split_once('>').map_or("", |(_, r)| r).trim_start();
        } else {
            return rest.starts_with("<svg");
        }
    }
}

/// The media type of a file on disk.
pub fn of_file(path: &Path) -> std::io::Result<&'static str> {
    let mut head = Vec::with_capacity(1024);
    std::fs::File::open(path)?.take(1024).read_to_end(&mut head)?;
    Ok(media_type(&head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_first_bytes() {
        assert_eq!(media_type(b"\x89PNG\r\n\x1a\n...."), "image/png");
        assert_eq!(media_type(&[0xFF, 0xD8, 0xFF, 0xE0]), "image/jpeg");
        assert_eq!(media_type(b"GIF89a.."), "image/gif");
        assert_eq!(media_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(media_type(b"RIFF\0\0\0\0WAVEfmt "), "audio/wav");
        assert_eq!(media_type(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(media_type(b"PK\x03\x04...."), "application/zip");
        assert_eq!(media_type(b"\0\0\0\x18ftypmp42"), "video/mp4");
        assert_eq!(media_type(b"\0\0\0\x14ftypqt  "), "video/quicktime");
        assert_eq!(media_type(b"ID3\x04\0"), "audio/mpeg");
        assert_eq!(media_type(b"hello, world"), "application/octet-stream");
        assert_eq!(media_type(b""), "application/octet-stream");
    }

    #[test]
    fn svg_is_xml_whose_first_element_is_svg() {
        assert_eq!(media_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), "image/svg+xml");
        let declared = b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- logo -->\n<!DOCTYPE svg>\n<svg></svg>";
        assert_eq!(media_type(declared), "image/svg+xml");
        assert_eq!(media_type(b"<?xml version=\"1.0\"?><html></html>"), "application/octet-stream");
        assert_eq!(media_type(b"<!-- never closed"), "application/octet-stream");
    }
}
