//! What a document backing a rights claim may be: a PDF, a JPEG or a PNG, known by its first bytes (not
//! its name), of at most 50 MB. A PDF must end with its end-of-file marker (a cut-off upload is refused).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::audio::Refusal;

pub const MAX_BYTES: u64 = 50_000_000;

/// The document's media type, or why it is refused.
pub fn check(path: &Path) -> Result<&'static str, Vec<Refusal>> {
    let refuse = |rule: &'static str, message: &str| vec![Refusal { rule, message: message.to_owned() }];
    let mut file = std::fs::File::open(path).map_err(|e| refuse("corrupt_file", &e.to_string()))?;
    let size = file.metadata().map_err(|e| refuse("corrupt_file", &e.to_string()))?.len();
    if size > MAX_BYTES {
        return Err(refuse("too_large", "is larger than 50 MB"));
    }
    let mut head = [0u8; 8];
    let n = file.read(&mut head).map_err(|e| refuse("corrupt_file", &e.to_string()))?;
    if n >= 5 && &head[..5] == b"%PDF-" {
        // The end-of-file marker sits in the last kilobyte.
        let tail_len = size.min(1024);
        let mut tail = vec![0u8; tail_len as usize];
        file.seek(SeekFrom::End(-(tail_len as i64))).map_err(|e| refuse("corrupt_file", &e.to_string()))?;
        file.read_exact(&mut tail).map_err(|e| refuse("corrupt_file", &e.to_string()))?;
        if !tail.windows(5).any(|w| w == b"%%EOF") {
            return Err(refuse("corrupt_file", "is a PDF without its end: the upload was cut off"));
        }
        return Ok("application/pdf");
    }
    if n >= 3 && head[..3] == [0xFF, 0xD8, 0xFF] {
        return Ok("image/jpeg");
    }
    if n >= 8 && head == *b"\x89PNG\r\n\x1a\n" {
        return Ok("image/png");
    }
    Err(refuse("unsupported_format", "is not a PDF, JPEG or PNG file"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn check_bytes(bytes: &[u8]) -> Result<&'static str, Vec<&'static str>> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        check(f.path()).map_err(|r| r.into_iter().map(|r| r.rule).collect())
    }

    #[test]
    fn pdfs_and_images_pass_and_the_rest_is_refused() {
        assert_eq!(check_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"), Ok("application/pdf"));
        assert_eq!(check_bytes(b"%PDF-1.7\n1 0 obj <<>> endo"), Err(vec!["corrupt_file"]));
        assert_eq!(check_bytes(&testkit::media::jpeg(16, 16, true)), Ok("image/jpeg"));
        assert_eq!(check_bytes(b"PK\x03\x04 a zip"), Err(vec!["unsupported_format"]));
    }
}
