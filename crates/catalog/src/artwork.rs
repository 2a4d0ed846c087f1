//! Checking cover art by decoding it: JPEG or PNG, RGB, square, at least 3000 × 3000 pixels (the stores'
//! common rule), at most 10,000 × 10,000 (so that a hostile header cannot ask for gigabytes), and whole:
//! every pixel row decodes.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// What the decoding found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtworkInfo {
    /// `jpeg` or `png`.
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
}

pub use crate::audio::Refusal;

pub const MIN_SIDE: u32 = 3000;
pub const MAX_SIDE: u32 = 10_000;

/// Decodes the image and checks it; every problem found at once.
pub fn check(path: &Path) -> Result<ArtworkInfo, Vec<Refusal>> {
    let corrupt =
        |e: &dyn std::fmt::Display| vec![Refusal { rule: "corrupt_file", message: format!("cannot be decoded: {e}") }];
    let mut magic = [0u8; 8];
    let n = File::open(path).and_then(|mut f| f.read(&mut magic)).map_err(|e| corrupt(&e))?;
    let file = File::open(path).map_err(|e| corrupt(&e))?;
    let (info, rgb) = if n >= 8 && magic == *b"\x89PNG\r\n\x1a\n" {
        png(BufReader::new(file))?
    } else if n >= 3 && magic[..3] == [0xFF, 0xD8, 0xFF] {
        jpeg(BufReader::new(file))?
    } else {
        return Err(vec![Refusal {
            rule: "unsupported_format",
            message: "is neither a JPEG nor a PNG image".to_owned(),
        }]);
    };
    let mut problems = Vec::new();
    if !rgb {
        problems.push(Refusal {
            rule: "not_rgb",
            message: "must be in RGB colour (not greyscale, CMYK, indexed or with transparency)".to_owned(),
        });
    }
    if info.width != info.height {
        problems.push(Refusal {
            rule: "not_square",
            message: format!("is {} × {} pixels; cover art is square", info.width, info.height),
        });
    }
    if info.width.min(info.height) < MIN_SIDE {
        problems.push(Refusal {
            rule: "too_small",
            message: format!("is {} × {} pixels; stores need at least 3000 × 3000", info.width, info.height),
        });
    }
    if problems.is_empty() { Ok(info) } else { Err(problems) }
}

fn too_large(width: u32, height: u32) -> Vec<Refusal> {
    vec![Refusal { rule: "too_large", message: format!("is {width} × {height} pixels; at most 10,000 × 10,000") }]
}

/// PNG: the header, then every row decoded (one row in memory at a time).
fn png(r: BufReader<File>) -> Result<(ArtworkInfo, bool), Vec<Refusal>> {
    let corrupt =
        |e: png::DecodingError| vec![Refusal { rule: "corrupt_file", message: format!("cannot be decoded: {e}") }];
    let mut decoder = png::Decoder::new(r);
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(corrupt)?;
    let header = reader.info();
    let (width, height) = (header.width, header.height);
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(too_large(width, height));
    }
    let rgb = header.color_type == png::ColorType::Rgb;
    while reader.next_row().map_err(corrupt)?.is_some() {}
    Ok((ArtworkInfo { format: "png", width, height }, rgb))
}

/// JPEG: the header, then the whole image decoded (the size was checked first).
fn jpeg(r: BufReader<File>) -> Result<(ArtworkInfo, bool), Vec<Refusal>> {
    let corrupt =
        |e: jpeg_decoder::Error| vec![Refusal { rule: "corrupt_file", message: format!("cannot be decoded: {e}") }];
    let mut decoder = jpeg_decoder::Decoder::new(r);
    decoder.read_info().map_err(corrupt)?;
    let header = decoder
        .info()
        .ok_or_else(|| vec![Refusal { rule: "corrupt_file", message: "has no image header".to_owned() }])?;
    let (width, height) = (u32::from(header.width), u32::from(header.height));
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(too_large(width, height));
    }
    let rgb = header.pixel_format == jpeg_decoder::PixelFormat::RGB24;
    let pixels = decoder.decode().map_err(corrupt)?;
    if pixels.len() < width as usize * height as usize {
        return Err(vec![Refusal {
            rule: "corrupt_file",
            message: "decodes to fewer pixels than its header says".to_owned(),
        }]);
    }
    Ok((ArtworkInfo { format: "jpeg", width, height }, rgb))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn check_bytes(bytes: &[u8]) -> Result<ArtworkInfo, Vec<Refusal>> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        check(f.path())
    }

    fn rules(r: Result<ArtworkInfo, Vec<Refusal>>) -> Vec<&'static str> {
        r.unwrap_err().into_iter().map(|r| r.rule).collect()
    }

    #[test]
    fn square_rgb_images_of_3000_pixels_pass_at_the_edge() {
        let png = check_bytes(&testkit::media::png(3000, 3000, png::ColorType::Rgb)).unwrap();
        assert_eq!(png, ArtworkInfo { format: "png", width: 3000, height: 3000 });
        let jpeg = check_bytes(&testkit::media::jpeg(3000, 3000, true)).unwrap();
        assert_eq!(jpeg, ArtworkInfo { format: "jpeg", width: 3000, height: 3000 });
        assert_eq!(rules(check_bytes(&testkit::media::png(2999, 2999, png::ColorType::Rgb))), ["too_small"]);
    }

    #[test]
    fn wrong_shapes_colours_formats_and_broken_files_are_refused() {
        assert_eq!(rules(check_bytes(&testkit::media::png(3000, 3001, png::ColorType::Rgb))), ["not_square"]);
        assert_eq!(rules(check_bytes(&testkit::media::png(3000, 3000, png::ColorType::Rgba))), ["not_rgb"]);
        assert_eq!(rules(check_bytes(&testkit::media::jpeg(400, 300, false))), ["not_rgb", "not_square", "too_small"]);
        let mut cut = testkit::media::png(3000, 3000, png::ColorType::Rgb);
        cut.truncate(cut.len() / 2);
        assert_eq!(rules(check_bytes(&cut)), ["corrupt_file"]);
        let mut cut = testkit::media::jpeg(3000, 3000, true);
        cut.truncate(cut.len() / 2);
        assert_eq!(rules(check_bytes(&cut)), ["corrupt_file"]);
        assert_eq!(rules(check_bytes(b"GIF89a...")), ["unsupported_format"]);
        assert_eq!(rules(check_bytes(&testkit::media::png(10_001, 2, png::ColorType::Rgb))), ["too_large"]);
    }
}
