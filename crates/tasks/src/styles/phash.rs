//! A perceptual hash of an image (the DCT hash, "pHash"): the image in grey (ITU-R 601 luma), reduced to
//! 32 × 32 by averaging each cell's pixels, its two-dimensional DCT-II, and the 8 × 8 lowest frequencies
//! compared with their median, one bit each. Images that look alike (the same picture re-encoded, resized
//! or slightly retouched) get hashes a few bits apart; different pictures differ in about half their bits.
//!
//! The image is read as a stream: PNG row by row, JPEG decoded at the smallest scale its DCT allows that
//! keeps at least 32 pixels a side, so a large picture never sits whole in memory.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Side of the reduced image.
const SIDE: usize = 32;
/// Side of the block of low frequencies that makes the hash.
const LOW: usize = 8;
/// The smallest picture a hash is taken of, and the largest that is decoded.
pub const MIN_SIDE: u32 = 64;
pub const MAX_SIDE: u32 = 10_000;

/// Hashes at most this many bits apart are the same picture.
pub const SAME_PICTURE_BITS: u32 = 6;

/// Why an image cannot be hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// What the decoding found, with the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Picture {
    /// `jpeg` or `png`.
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
    pub hash: u64,
}

/// The bits two hashes differ in.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Decodes a JPEG or PNG file and hashes it.
pub fn of_file(path: &Path) -> Result<Picture, Unreadable> {
    let unreadable = |e: &dyn std::fmt::Display| Unreadable(format!("cannot be decoded: {e}"));
    let mut magic = [0u8; 8];
    let n = File::open(path).and_then(|mut f| f.read(&mut magic)).map_err(|e| unreadable(&e))?;
    let file = BufReader::new(File::open(path).map_err(|e| unreadable(&e))?);
    if n >= 8 && magic == *b"\x89PNG\r\n\x1a\n" {
        png(file)
    } else if n >= 3 && magic[..3] == [0xFF, 0xD8, 0xFF] {
        jpeg(file)
    } else {
        Err(Unreadable("is neither a JPEG nor a PNG image".into()))
    }
}

fn check_size(width: u32, height: u32) -> Result<(), Unreadable> {
    if width.max(height) > MAX_SIDE {
        return Err(Unreadable(format!("is {width} × {height} pixels; at most {MAX_SIDE} a side")));
    }
    if width.min(height) < MIN_SIDE {
        return Err(Unreadable(format!("is {width} × {height} pixels; at least {MIN_SIDE} a side")));
    }
    Ok(())
}

/// Sums of grey values over the 32 × 32 cells of a picture, fed one row at a time.
struct Cells {
    width: usize,
    height: usize,
    sums: [[f64; SIDE]; SIDE],
    counts: [[u32; SIDE]; SIDE],
    row: usize,
}

impl Cells {
    fn new(width: u32, height: u32) -> Self {
        Self {
            width: width as usize,
            height: height as usize,
            sums: [[0.0; SIDE]; SIDE],
            counts: [[0; SIDE]; SIDE],
            row: 0,
        }
    }

    /// One row of grey values.
    fn push_row(&mut self, grey: impl Iterator<Item = f64>) {
        let cy = (self.row * SIDE / self.height).min(SIDE - 1);
        for (x, value) in grey.enumerate().take(self.width) {
            let cx = x * SIDE / self.width;
            self.sums[cy][cx] += value;
            self.counts[cy][cx] += 1;
        }
        self.row += 1;
    }

    fn hash(&self) -> u64 {
        let mut reduced = [[0.0; SIDE]; SIDE];
        for (y, row) in reduced.iter_mut().enumerate() {
            for (x, cell) in row.iter_mut().enumerate() {
                *cell = self.sums[y][x] / f64::from(self.counts[y][x].max(1));
            }
        }
        hash_of_reduced(&reduced)
    }
}

/// The hash of a 32 × 32 grey picture.
fn hash_of_reduced(pixels: &[[f64; SIDE]; SIDE]) -> u64 {
    // DCT-II of the rows, then of the columns, keeping only the low frequencies that are used.
    let cos = |k: usize, n: usize| (std::f64::consts::PI / SIDE as f64 * (n as f64 + 0.5) * k as f64).cos();
    let mut rows = [[0.0; LOW]; SIDE];
    for (out, row) in rows.iter_mut().zip(pixels) {
        for (k, cell) in out.iter_mut().enumerate() {
            *cell = row.iter().enumerate().map(|(n, v)| v * cos(k, n)).sum();
        }
    }
    let mut low = [0.0; LOW * LOW];
    for ky in 0..LOW {
        for kx in 0..LOW {
            low[ky * LOW + kx] = (0..SIDE).map(|n| rows[n][kx] * cos(ky, n)).sum();
        }
    }
    let mut sorted = low;
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[LOW * LOW / 2 - 1] + sorted[LOW * LOW / 2]) / 2.0;
    low.iter().enumerate().fold(0u64, |hash, (i, v)| if *v > median { hash | 1 << (63 - i) } else { hash })
}

fn luma(r: u8, g: u8, b: u8) -> f64 {
    0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b)
}

fn png(r: BufReader<File>) -> Result<Picture, Unreadable> {
    let unreadable = |e: png::DecodingError| Unreadable(format!("cannot be decoded: {e}"));
    let mut decoder = png::Decoder::new(r);
    // Palettes expanded and 16-bit samples cut to 8, so that every row is 8-bit grey or colour.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(unreadable)?;
    let (width, height) = (reader.info().width, reader.info().height);
    check_size(width, height)?;
    let (color, _) = reader.output_color_type();
    let channels = color.samples();
    let mut cells = Cells::new(width, height);
    while let Some(row) = reader.next_row().map_err(unreadable)? {
        let data = row.data();
        cells.push_row(data.chunks_exact(channels).map(|px| match color {
            png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha => f64::from(px[0]),
            _ => luma(px[0], px[1], px[2]),
        }));
    }
    if cells.row != height as usize {
        return Err(Unreadable("ends before its last row".into()));
    }
    Ok(Picture { format: "png", width, height, hash: cells.hash() })
}

fn jpeg(r: BufReader<File>) -> Result<Picture, Unreadable> {
    let unreadable = |e: jpeg_decoder::Error| Unreadable(format!("cannot be decoded: {e}"));
    let mut decoder = jpeg_decoder::Decoder::new(r);
    decoder.read_info().map_err(unreadable)?;
    let info = decoder.info().ok_or_else(|| Unreadable("has no image header".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_size(width, height)?;
    // The decoder scales by 1/8 to 8/8 in its DCT: the smallest scale that keeps enough pixels.
    let (w, h) = decoder.scale(SIDE as u16 * 2, SIDE as u16 * 2).map_err(unreadable)?;
    let pixels = decoder.decode().map_err(unreadable)?;
    let info = decoder.info().ok_or_else(|| Unreadable("has no image header".into()))?;
    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::L16 => 2,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::CMYK32 => 4,
    };
    let row_len = usize::from(w) * channels;
    if pixels.len() < row_len * usize::from(h) {
        return Err(Unreadable("decodes to fewer pixels than its header says".into()));
    }
    let mut cells = Cells::new(u32::from(w), u32::from(h));
    for row in pixels.chunks_exact(row_len).take(usize::from(h)) {
        cells.push_row(row.chunks_exact(channels).map(|px| match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 => f64::from(px[0]),
            jpeg_decoder::PixelFormat::L16 => f64::from(px[0]),
            jpeg_decoder::PixelFormat::RGB24 => luma(px[0], px[1], px[2]),
            // CMYK as the decoder gives it (inverted, as Adobe writes it): grey from the three inks and black.
            jpeg_decoder::PixelFormat::CMYK32 => {
                let k = f64::from(px[3]) / 255.0;
                luma(px[0], px[1], px[2]) * k
            }
        }));
    }
    Ok(Picture { format: "jpeg", width, height, hash: cells.hash() })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use testkit::media;

    use super::*;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn png_file(pixels: &[[u8; 3]], width: u32, height: u32) -> tempfile::NamedTempFile {
        file(&media::png_rgb(pixels, width, height))
    }

    fn hash(seed: u64, width: u32, height: u32) -> u64 {
        of_file(png_file(&media::drawing(seed, width, height), width, height).path()).unwrap().hash
    }

    #[test]
    fn the_same_picture_at_another_size_is_the_same_picture() {
        for seed in 1..6 {
            let big = hash(seed, 640, 480);
            let small = hash(seed, 200, 150);
            assert!(distance(big, small) <= SAME_PICTURE_BITS, "seed {seed}: {}", distance(big, small));
        }
    }

    #[test]
    fn a_retouched_picture_is_the_same_and_other_pictures_are_not() {
        let (width, height) = (300, 300);
        let original = media::drawing(7, width, height);
        let mut retouched = original.clone();
        for px in retouched.iter_mut().step_by(7) {
            *px = px.map(|v| v.saturating_add(6));
        }
        let a = of_file(png_file(&original, width, height).path()).unwrap().hash;
        let b = of_file(png_file(&retouched, width, height).path()).unwrap().hash;
        assert!(distance(a, b) <= SAME_PICTURE_BITS, "{}", distance(a, b));
        for seed in 20..30 {
            let other = hash(seed, width, height);
            assert!(distance(a, other) > SAME_PICTURE_BITS * 2, "seed {seed}: {}", distance(a, other));
        }
    }

    #[test]
    fn sizes_are_checked_at_their_edges_and_other_files_refused() {
        assert!(of_file(png_file(&media::drawing(1, 64, 64), 64, 64).path()).is_ok());
        let err = of_file(png_file(&media::drawing(1, 63, 64), 63, 64).path()).unwrap_err();
        assert!(err.0.contains("at least 64"), "{err:?}");
        assert!(
            of_file(file(b"GIF89a not an image we read").path()).unwrap_err().0.contains("neither a JPEG nor a PNG")
        );
    }

    #[test]
    fn a_jpeg_and_a_png_of_one_picture_hash_alike() {
        let (width, height) = (400, 400);
        let png = of_file(png_file(&media::drawing(3, width, height), width, height).path()).unwrap();
        let jpeg = media::jpeg_rgb(&media::drawing(3, width, height), width as u16, height as u16, 80);
        let jpeg = of_file(file(&jpeg).path()).unwrap();
        assert_eq!((jpeg.format, jpeg.width, jpeg.height), ("jpeg", width, height));
        assert!(distance(png.hash, jpeg.hash) <= SAME_PICTURE_BITS, "{}", distance(png.hash, jpeg.hash));
    }

    #[test]
    fn distance_counts_differing_bits() {
        assert_eq!(distance(0, 0), 0);
        assert_eq!(distance(0, u64::MAX), 64);
        assert_eq!(distance(0b1011, 0b0001), 2);
    }
}
