//! What a project file holds, read from its bytes rather than trusted from its name: an image's width
//! and height (PNG, JPEG, WebP, GIF), a video's too (MP4, MOV), the duration of audio and video (WAV,
//! FLAC, MP3, Ogg Vorbis and Opus, MP4, M4A, MOV), a PDF's page count and text, a text file's text, an
//! office document's text (Word, PowerPoint, Excel, OpenDocument: see [`super::office`]); and a
//! thumbnail of a PNG, JPEG or WebP image. Headers are read where they suffice; an image is decoded one
//! row at a time where its format allows, and everything is bounded, so that a hostile file can ask for
//! neither much memory nor much time.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// The longest side of a thumbnail, in pixels; smaller images keep their size.
pub const THUMBNAIL_SIDE: u32 = 320;
/// Images whose decoding must hold every pixel at once (WebP, interlaced PNG, JPEG after its scaling)
/// get a thumbnail only up to this many pixels.
pub const MAX_DECODED_PIXELS: u64 = 40_000_000;
/// PDFs larger than this are not opened: no page count, no text.
pub const MAX_PDF_BYTES: u64 = 100 * 1024 * 1024;
/// Of a PDF, the text of at most this many pages is read.
pub const MAX_TEXT_PAGES: u32 = 500;
/// Text kept of a file for search, in bytes of UTF-8.
pub const MAX_TEXT: usize = 256 * 1024;

/// What was read of a file. Fields a format does not have stay `None`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The format found by the file's first bytes: `png`, `jpeg`, `webp`, `gif`, `pdf`, `wav`, `flac`,
    /// `ogg`, `mp3`, `mp4`, `svg`, `text`, `docx`, `pptx`, `xlsx`, `odt`, `odp`, `ods`; `None` for
    /// anything else.
    pub format: Option<&'static str>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<i64>,
    pub pages: Option<i32>,
    /// The text, for search (at most [`MAX_TEXT`] bytes).
    pub text: Option<String>,
    /// A PNG at most [`THUMBNAIL_SIDE`] pixels on its longest side.
    pub thumbnail: Option<Vec<u8>>,
    /// Why something could not be read (a damaged header, an image too large to thumbnail).
    pub note: Option<String>,
}

type Found = Result<(), String>;

/// Reads what the file at `path` holds. Only failing to read the file at all is an error: a file that
/// is damaged or of an unknown kind is answered with what could be read and a note.
pub fn inspect(path: &Path) -> std::io::Result<Inspection> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut head = [0u8; 16];
    let n = read_up_to(&mut file, &mut head)?;
    let head = &head[..n];
    let mut out = Inspection::default();
    let is = |at: usize, magic: &[u8]| head.len() >= at + magic.len() && &head[at..at + magic.len()] == magic;
    let found = if is(0, b"\x89PNG\r\n\x1a\n") {
        out.format = Some("png");
        png(path, &mut out)
    } else if is(0, &[0xFF, 0xD8, 0xFF]) {
        out.format = Some("jpeg");
        jpeg(path, &mut out)
    } else if is(0, b"RIFF") && is(8, b"WEBP") {
        out.format = Some("webp");
        webp(path, &mut out)
    } else if is(0, b"GIF87a") || is(0, b"GIF89a") {
        out.format = Some("gif");
        out.width = Some(u32::from(u16::from_le_bytes([head[6], head[7]])));
        out.height = Some(u32::from(u16::from_le_bytes([head[8], head[9]])));
        Ok(())
    } else if is(0, b"%PDF-") {
        out.format = Some("pdf");
        pdf(path, len, &mut out)
    } else if is(0, b"RIFF") && is(8, b"WAVE") {
        out.format = Some("wav");
        wav(&mut file, &mut out)
    } else if is(0, b"fLaC") {
        out.format = Some("flac");
        flac(&mut file, &mut out)
    } else if is(0, b"OggS") {
        out.format = Some("ogg");
        ogg(&mut file, len, &mut out)
    } else if [&b"ftyp"[..], b"moov", b"mdat", b"free", b"wide", b"skip"].iter().any(|t| is(4, t)) {
        out.format = Some("mp4");
        mp4(&mut file, len, &mut out)
    } else if is(0, b"PK\x03\x04") {
        // A zip archive: an office document's text, or nothing.
        super::office::read(&mut file, len).map(|found| {
            if let Some((kind, text)) = found {
                out.format = Some(kind);
                out.text = keep_text(text);
            }
        })
    } else if is(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE6 == 0xE2) {
        out.format = Some("mp3");
        mp3(&mut file, len, &mut out)
    } else {
        text(&mut file, &mut out)
    };
    if let Err(why) = found {
        out.note = Some(why);
    }
    Ok(out)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn damaged(e: impl std::fmt::Display) -> String {
    format!("cannot be read: {e}")
}

/// The size of a thumbnail of a `width` × `height` picture.
pub fn thumbnail_size(width: u32, height: u32) -> (u32, u32) {
    let side = width.max(height);
    if side <= THUMBNAIL_SIDE {
        return (width.max(1), height.max(1));
    }
    let scale = |v: u32| ((u64::from(v) * u64::from(THUMBNAIL_SIDE) + u64::from(side) / 2) / u64::from(side)) as u32;
    (scale(width).max(1), scale(height).max(1))
}

/// Shrinks a picture arriving one row at a time by averaging the source pixels that fall in each
/// thumbnail pixel (a box filter), holding one row of sums.
struct Shrink {
    width: u32,
    height: u32,
    out_width: u32,
    out_height: u32,
    sums: Vec<[u64; 3]>,
    counts: Vec<u64>,
    rows_in: u32,
    out_row: u32,
    pixels: Vec<u8>,
}

impl Shrink {
    fn new(width: u32, height: u32) -> Self {
        let (out_width, out_height) = thumbnail_size(width, height);
        Self {
            width,
            height,
            out_width,
            out_height,
            sums: vec![[0; 3]; out_width as usize],
            counts: vec![0; out_width as usize],
            rows_in: 0,
            out_row: 0,
            pixels: Vec::with_capacity(out_width as usize * out_height as usize * 3),
        }
    }

    /// One source row: exactly `width` pixels, as RGB.
    fn row(&mut self, pixels: impl Iterator<Item = [u8; 3]>) {
        if self.rows_in >= self.height {
            return;
        }
        let target = (u64::from(self.rows_in) * u64::from(self.out_height) / u64::from(self.height)) as u32;
        while self.out_row < target {
            self.flush();
        }
        for (x, px) in pixels.take(self.width as usize).enumerate() {
            let cell = (x as u64 * u64::from(self.out_width) / u64::from(self.width)) as usize;
            for (sum, v) in self.sums[cell].iter_mut().zip(px) {
                *sum += u64::from(v);
            }
            self.counts[cell] += 1;
        }
        self.rows_in += 1;
    }

    fn flush(&mut self) {
        for (sum, count) in self.sums.iter_mut().zip(self.counts.iter_mut()) {
            let c = (*count).max(1);
            self.pixels.extend(sum.iter().map(|s| ((s + c / 2) / c) as u8));
            *sum = [0; 3];
            *count = 0;
        }
        self.out_row += 1;
    }

    /// The thumbnail as a PNG; an error when the picture ended before its last row.
    fn finish(self) -> Result<Vec<u8>, String> {
        self.finish_turned(Orientation::default())
    }

    /// The thumbnail as a PNG, turned upright as the picture's EXIF orientation says.
    fn finish_turned(mut self, orientation: Orientation) -> Result<Vec<u8>, String> {
        if self.rows_in < self.height {
            return Err(format!("ends after {} of its {} rows", self.rows_in, self.height));
        }
        while self.out_row < self.out_height {
            self.flush();
        }
        let (width, height, pixels) = orientation.apply(self.out_width, self.out_height, &self.pixels);
        let mut png_bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
        Ok(png_bytes)
    }
}

/// How a photo's stored pixels are turned to be seen upright: its EXIF orientation, 1 (as stored) to 8.
/// Cameras and phones store the sensor's rows and say how they were held; browsers show the photo
/// turned, so its size and thumbnail are given turned too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Orientation(u16);

impl Default for Orientation {
    fn default() -> Self {
        Self(1)
    }
}

impl Orientation {
    /// The orientation an EXIF block (from its TIFF header on) gives in its first directory; as stored
    /// when it gives none, or one that is not 1 to 8.
    fn of_exif(tiff: &[u8]) -> Self {
        let big = match tiff.get(..4) {
            Some(b"MM\0*") => true,
            Some(b"II*\0") => false,
            _ => return Self::default(),
        };
        let u16_at = |at: usize| {
            let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
            Some(if big { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
        };
        let u32_at = |at: usize| {
            let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
            Some(if big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
        };
        let found = (|| {
            let directory = usize::try_from(u32_at(4)?).ok()?;
            let entries = u16_at(directory)?;
            (0..usize::from(entries)).map(|i| directory + 2 + i * 12).find(|&e| u16_at(e) == Some(0x0112)).and_then(
                // A SHORT held in the entry itself, in its value's first two bytes.
                |entry| (u16_at(entry + 2) == Some(3)).then(|| u16_at(entry + 8)).flatten(),
            )
        })();
        found.filter(|o| (1..=8).contains(o)).map_or_else(Self::default, Self)
    }

    /// Whether the picture is turned a quarter (its width and height trade places).
    fn quarter_turn(self) -> bool {
        self.0 >= 5
    }

    /// `width` × `height` RGB pixels turned upright: their new width, height and pixels.
    fn apply(self, width: u32, height: u32, pixels: &[u8]) -> (u32, u32, Vec<u8>) {
        if self.0 == 1 {
            return (width, height, pixels.to_vec());
        }
        let (w, h) = (width as usize, height as usize);
        let (out_w, out_h) = if self.quarter_turn() { (h, w) } else { (w, h) };
        let mut out = Vec::with_capacity(pixels.len());
        for y in 0..out_h {
            for x in 0..out_w {
                let (sx, sy) = match self.0 {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    8 => (w - 1 - y, x),
                    _ => (x, y),
                };
                let at = (sy * w + sx) * 3;
                out.extend_from_slice(&pixels[at..at + 3]);
            }
        }
        (out_w as u32, out_h as u32, out)
    }
}

/// A pixel of `channels` 8-bit samples (grey, grey and alpha, RGB or RGBA) as RGB over white.
fn rgb(px: &[u8]) -> [u8; 3] {
    let over_white = |v: u8, a: u8| ((u16::from(v) * u16::from(a) + 255 * (255 - u16::from(a)) + 127) / 255) as u8;
    match *px {
        [g] => [g; 3],
        [g, a] => [over_white(g, a); 3],
        [r, g, b] => [r, g, b],
        [r, g, b, a, ..] => [over_white(r, a), over_white(g, a), over_white(b, a)],
        [] => [0; 3],
    }
}

fn png(path: &Path, out: &mut Inspection) -> Found {
    let mut decoder = png::Decoder::new(BufReader::new(File::open(path).map_err(damaged)?));
    // Palettes expanded and 16-bit samples cut to 8, so that every row is 8-bit grey or colour.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(damaged)?;
    let (width, height, interlaced) = (reader.info().width, reader.info().height, reader.info().interlaced);
    out.width = Some(width);
    out.height = Some(height);
    let (color, _) = reader.output_color_type();
    let channels = color.samples();
    let mut shrink = Shrink::new(width, height);
    if interlaced {
        // Seven passes over the picture: only the whole frame gives rows in order.
        if u64::from(width) * u64::from(height) > MAX_DECODED_PIXELS {
            return Err("is interlaced and too large for a thumbnail".into());
        }
        let mut frame = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut frame).map_err(damaged)?;
        for row in frame.chunks_exact(info.line_size).take(height as usize) {
            shrink.row(row.chunks_exact(channels).map(rgb));
        }
    } else {
        while let Some(row) = reader.next_row().map_err(damaged)? {
            shrink.row(row.data().chunks_exact(channels).map(rgb));
        }
    }
    out.thumbnail = Some(shrink.finish()?);
    Ok(())
}

fn jpeg(path: &Path, out: &mut Inspection) -> Found {
    let mut decoder = jpeg_decoder::Decoder::new(BufReader::new(File::open(path).map_err(damaged)?));
    decoder.read_info().map_err(damaged)?;
    let info = decoder.info().ok_or("has no image header")?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    out.width = Some(width);
    out.height = Some(height);
    // The decoder scales by 1/8 to 8/8 in its DCT: the smallest scale that still covers the thumbnail.
    let (tw, th) = thumbnail_size(width, height);
    let (w, h) = decoder.scale(tw as u16, th as u16).map_err(damaged)?;
    if u64::from(w) * u64::from(h) > MAX_DECODED_PIXELS {
        return Err("is too large for a thumbnail".into());
    }
    let pixels = decoder.decode().map_err(damaged)?;
    let info = decoder.info().ok_or("has no image header")?;
    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::L16 => 2,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::CMYK32 => 4,
    };
    let row_len = usize::from(w) * channels;
    let mut shrink = Shrink::new(u32::from(w), u32::from(h));
    for row in pixels.chunks_exact(row_len).take(usize::from(h)) {
        shrink.row(row.chunks_exact(channels).map(|px| match info.pixel_format {
            // 16-bit grey: the high byte.
            jpeg_decoder::PixelFormat::L16 => [px[0]; 3],
            // CMYK as the decoder gives it (inverted, as Adobe writes it): each ink scaled by black.
            jpeg_decoder::PixelFormat::CMYK32 => {
                let k = u16::from(px[3]);
                let ink = |v: u8| ((u16::from(v) * k + 127) / 255) as u8;
                [ink(px[0]), ink(px[1]), ink(px[2])]
            }
            _ => rgb(px),
        }));
    }
    let orientation = decoder.exif_data().map(Orientation::of_exif).unwrap_or_default();
    if orientation.quarter_turn() {
        (out.width, out.height) = (Some(height), Some(width));
    }
    out.thumbnail = Some(shrink.finish_turned(orientation)?);
    Ok(())
}

fn webp(path: &Path, out: &mut Inspection) -> Found {
    let mut decoder =
        image_webp::WebPDecoder::new(BufReader::new(File::open(path).map_err(damaged)?)).map_err(damaged)?;
    let (width, height) = decoder.dimensions();
    out.width = Some(width);
    out.height = Some(height);
    if u64::from(width) * u64::from(height) > MAX_DECODED_PIXELS {
        return Err("is too large for a thumbnail".into());
    }
    let channels = if decoder.has_alpha() { 4 } else { 3 };
    let size = decoder.output_buffer_size().ok_or("is too large for a thumbnail")?;
    let mut pixels = vec![0; size];
    // An animation's first frame.
    decoder.read_image(&mut pixels).map_err(damaged)?;
    let mut shrink = Shrink::new(width, height);
    for row in pixels.chunks_exact(width as usize * channels) {
        shrink.row(row.chunks_exact(channels).map(rgb));
    }
    out.thumbnail = Some(shrink.finish()?);
    Ok(())
}

fn pdf(path: &Path, len: u64, out: &mut Inspection) -> Found {
    if len > MAX_PDF_BYTES {
        return Err(format!("is larger than {} MB: not opened", MAX_PDF_BYTES / 1024 / 1024));
    }
    let bytes = std::fs::read(path).map_err(damaged)?;
    let doc = lopdf::Document::load_mem(&bytes).map_err(damaged)?;
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    out.pages = Some(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    let mut text = String::new();
    for page in pages.iter().take(MAX_TEXT_PAGES as usize) {
        // A page whose text cannot be read is passed over; the rest still count.
        if let Ok(t) = doc.extract_text(&[*page]) {
            text.push_str(&t);
            text.push('\n');
        }
        if text.len() >= MAX_TEXT {
            break;
        }
    }
    out.text = keep_text(text);
    Ok(())
}

/// Text trimmed to [`MAX_TEXT`] bytes at a character boundary; `None` when only blanks are left.
fn keep_text(mut text: String) -> Option<String> {
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    // NUL is not allowed in PostgreSQL's text.
    let text = text.replace('\0', " ");
    if text.trim().is_empty() { None } else { Some(text) }
}

fn text(file: &mut File, out: &mut Inspection) -> Found {
    file.seek(SeekFrom::Start(0)).map_err(damaged)?;
    let mut buf = vec![0; MAX_TEXT + 4];
    let n = read_up_to(file, &mut buf).map_err(damaged)?;
    buf.truncate(n);
    let bytes = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf);
    if bytes.is_empty() || bytes.contains(&0) {
        return Ok(());
    }
    let valid = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        // Cut in the middle of a character at the end of what was read: the part before it.
        Err(e) if e.error_len().is_none() && n > MAX_TEXT => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).map_err(damaged)?
        }
        Err(_) => return Ok(()),
    };
    // Text has few control characters besides tabs and line ends.
    let controls = valid.chars().filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C')).count();
    if controls * 100 > valid.chars().count() {
        return Ok(());
    }
    // SVG is text, but markup rather than words to search.
    let start = valid.trim_start();
    if start.starts_with("<svg") || (start.starts_with("<?xml") && start.contains("<svg")) {
        out.format = Some("svg");
        return Ok(());
    }
    out.format = Some("text");
    out.text = keep_text(valid.to_owned());
    Ok(())
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_be(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn ms(units: u64, per_second: u64) -> Option<i64> {
    if per_second == 0 { None } else { i64::try_from(u128::from(units) * 1000 / u128::from(per_second)).ok() }
}

/// RIFF/WAVE: the `fmt ` chunk's byte rate and the `data` chunk's length, found by walking the chunks.
fn wav(file: &mut File, out: &mut Inspection) -> Found {
    let mut r = BufReader::new(file);
    r.seek(SeekFrom::Start(12)).map_err(damaged)?;
    let mut byte_rate = None;
    loop {
        let mut header = [0u8; 8];
        if read_up_to(&mut r, &mut header).map_err(damaged)? < 8 {
            return Err("has no data chunk".into());
        }
        let size = u64::from(u32_le(&header, 4).unwrap_or(0));
        match &header[..4] {
            b"fmt " => {
                let mut fmt = [0u8; 16];
                if read_up_to(&mut r, &mut fmt).map_err(damaged)? < 16 {
                    return Err("has a short fmt chunk".into());
                }
                byte_rate = u32_le(&fmt, 8);
                r.seek_relative(i64::try_from(size + size % 2).unwrap_or(i64::MAX) - 16).map_err(damaged)?;
            }
            b"data" => {
                let rate = byte_rate.ok_or("has its data before its format")?;
                out.duration_ms = ms(size, u64::from(rate));
                return Ok(());
            }
            _ => r.seek_relative(i64::try_from(size + size % 2).unwrap_or(i64::MAX)).map_err(damaged)?,
        }
    }
}

/// FLAC: STREAMINFO, the first metadata block: sample rate and total samples.
fn flac(file: &mut File, out: &mut Inspection) -> Found {
    file.seek(SeekFrom::Start(4)).map_err(damaged)?;
    let mut block = [0u8; 4 + 34];
    if read_up_to(file, &mut block).map_err(damaged)? < block.len() || block[0] & 0x7F != 0 {
        return Err("has no STREAMINFO block".into());
    }
    let bits = u64_be(&block, 4 + 10).ok_or("has a short STREAMINFO block")?;
    let rate = bits >> 44;
    let samples = bits & 0xF_FFFF_FFFF;
    // Zero samples: the encoder did not know the length.
    if samples > 0 {
        out.duration_ms = ms(samples, rate);
    }
    Ok(())
}

/// Ogg: the first page's identification header gives the rate (Vorbis, Opus); the last page's granule
/// position is the number of samples.
fn ogg(file: &mut File, len: u64, out: &mut Inspection) -> Found {
    file.seek(SeekFrom::Start(0)).map_err(damaged)?;
    let mut first = [0u8; 512];
    let n = read_up_to(file, &mut first).map_err(damaged)?;
    let first = &first[..n];
    let segments = usize::from(*first.get(26).ok_or("has a short first page")?);
    let packet = first.get(27 + segments..).ok_or("has a short first page")?;
    let (rate, skip) = if packet.starts_with(b"\x01vorbis") {
        (u64::from(u32_le(packet, 12).ok_or("has a short Vorbis header")?), 0)
    } else if packet.starts_with(b"OpusHead") {
        // Opus counts at 48 kHz whatever the input's rate, after the encoder's pre-skip.
        (48_000, u64::from(u16_le(packet, 10).ok_or("has a short Opus header")?))
    } else {
        return Err("holds neither Vorbis nor Opus".into());
    };
    let tail_len = len.min(64 * 1024);
    file.seek(SeekFrom::Start(len - tail_len)).map_err(damaged)?;
    let mut tail = vec![0; tail_len as usize];
    read_up_to(file, &mut tail).map_err(damaged)?;
    let last = tail.windows(4).rposition(|w| w == b"OggS").ok_or("has no last page")?;
    let granule = tail
        .get(last + 6..last + 14)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or("has a short last page")?;
    out.duration_ms = ms(granule.saturating_sub(skip), rate);
    Ok(())
}

/// ISO base media (MP4, M4A, MOV): the `moov` box, wherever it is, holds `mvhd` (time scale and
/// duration) and a `tkhd` per track (a video track's width and height, in 16.16 fixed point).
fn mp4(file: &mut File, len: u64, out: &mut Inspection) -> Found {
    let mut at = 0u64;
    let moov = loop {
        if at + 8 > len {
            return Err("has no moov box".into());
        }
        file.seek(SeekFrom::Start(at)).map_err(damaged)?;
        let mut header = [0u8; 16];
        let n = read_up_to(file, &mut header).map_err(damaged)?;
        let (size, header_len) = match u32_be(&header, 0) {
            Some(1) if n >= 16 => (u64_be(&header, 8).unwrap_or(0), 16),
            Some(0) => (len - at, 8),
            Some(s) => (u64::from(s), 8),
            None => return Err("has a short box".into()),
        };
        if size < header_len {
            return Err("has a box of impossible size".into());
        }
        if &header[4..8] == b"moov" {
            let body = size - header_len;
            // A movie's index is small; one that claims more is not read.
            if body > 64 * 1024 * 1024 {
                return Err("has a moov box too large to read".into());
            }
            file.seek(SeekFrom::Start(at + header_len)).map_err(damaged)?;
            let mut moov = vec![0; body as usize];
            let n = read_up_to(file, &mut moov).map_err(damaged)?;
            moov.truncate(n);
            break moov;
        }
        at += size;
    };
    for (kind, body) in boxes(&moov) {
        match kind {
            b"mvhd" => {
                let (scale, duration) = if body.first() == Some(&1) {
                    (u32_be(body, 20).map(u64::from), u64_be(body, 24))
                } else {
                    (u32_be(body, 12).map(u64::from), u32_be(body, 16).map(u64::from))
                };
                if let (Some(scale), Some(duration)) = (scale, duration) {
                    out.duration_ms = ms(duration, scale);
                }
            }
            b"trak" => {
                for (kind, tkhd) in boxes(body) {
                    if kind == b"tkhd" && tkhd.len() >= 8 {
                        let w = u32_be(tkhd, tkhd.len() - 8).unwrap_or(0) >> 16;
                        let h = u32_be(tkhd, tkhd.len() - 4).unwrap_or(0) >> 16;
                        if w > 0 && h > 0 && out.width.is_none() {
                            out.width = Some(w);
                            out.height = Some(h);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if out.duration_ms.is_none() {
        return Err("has no movie header".into());
    }
    Ok(())
}

/// The boxes inside a box's body: (type, body).
fn boxes(mut data: &[u8]) -> Vec<(&[u8; 4], &[u8])> {
    let mut found = Vec::new();
    while data.len() >= 8 {
        let size = u32_be(data, 0).unwrap_or(0) as usize;
        let (size, header) = match size {
            1 => (u64_be(data, 8).and_then(|s| usize::try_from(s).ok()).unwrap_or(0), 16),
            0 => (data.len(), 8),
            s => (s, 8),
        };
        if size < header || size > data.len() {
            break;
        }
        if let Ok(kind) = <&[u8; 4]>::try_from(&data[4..8]) {
            found.push((kind, &data[header..size]));
        }
        data = &data[size..];
    }
    found
}

/// MP3 (MPEG audio layer III): past an ID3v2 tag, the first frame's header; the frame count of a
/// Xing, Info or VBRI header when the encoder wrote one, else the length at the first frame's bit rate.
fn mp3(file: &mut File, len: u64, out: &mut Inspection) -> Found {
    file.seek(SeekFrom::Start(0)).map_err(damaged)?;
    let mut id3 = [0u8; 10];
    read_up_to(file, &mut id3).map_err(damaged)?;
    let mut start = 0u64;
    if &id3[..3] == b"ID3" {
        let size = id3[6..10].iter().fold(0u64, |acc, b| acc << 7 | u64::from(b & 0x7F));
        start = 10 + size + if id3[5] & 0x10 != 0 { 10 } else { 0 };
    }
    file.seek(SeekFrom::Start(start)).map_err(damaged)?;
    let mut buf = vec![0u8; 8192];
    let n = read_up_to(file, &mut buf).map_err(damaged)?;
    buf.truncate(n);
    let at = (0..buf.len().saturating_sub(4))
        .find(|&i| buf[i] == 0xFF && buf[i + 1] & 0xE0 == 0xE0 && (buf[i + 1] >> 1) & 3 == 1 && buf[i + 2] >> 4 != 15)
        .ok_or("has no MPEG layer III frame")?;
    let h = &buf[at..];
    let version = (h[1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    let mpeg1 = version == 3;
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = usize::from((h[2] >> 2) & 3);
    let mono = h[3] >> 6 == 3;
    const MPEG1: [u64; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    const MPEG2: [u64; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let kbps = if mpeg1 { MPEG1[bitrate_index] } else { MPEG2[bitrate_index] };
    let base = [44_100u64, 48_000, 32_000].get(rate_index).copied().ok_or("has a reserved sample rate")?;
    let rate = match version {
        3 => base,
        2 => base / 2,
        0 => base / 4,
        _ => return Err("has a reserved MPEG version".into()),
    };
    let samples_per_frame = if mpeg1 { 1152 } else { 576 };
    let side_info = match (mpeg1, mono) {
        (true, false) => 32,
        (true, true) => 17,
        (false, false) => 17,
        (false, true) => 9,
    };
    let xing = 4 + side_info;
    let frames = if matches!(h.get(xing..xing + 4), Some(b"Xing" | b"Info")) {
        let flags = u32_be(h, xing + 4).unwrap_or(0);
        if flags & 1 != 0 { u32_be(h, xing + 8) } else { None }
    } else if h.get(36..40) == Some(b"VBRI") {
        u32_be(h, 36 + 14)
    } else {
        None
    };
    out.duration_ms = match frames {
        Some(frames) => ms(u64::from(frames) * samples_per_frame, rate),
        // Constant bit rate: kilobits per second are bits per millisecond.
        None if kbps > 0 => i64::try_from((len - start - at as u64) * 8 / kbps).ok(),
        None => return Err("has a free-format bit rate".into()),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn png_rgb(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let mut data = Vec::new();
        for y in 0..height {
            for x in 0..width {
                data.extend(pixel(x, y));
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header().unwrap().write_image_data(&data).unwrap();
        out
    }

    fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// An EXIF block (big- or little-endian) whose first directory holds an orientation, after a tag
    /// before it.
    fn exif(orientation: u16, big: bool) -> Vec<u8> {
        let u16b = |v: u16| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let u32b = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut t = if big { b"MM\0*".to_vec() } else { b"II*\0".to_vec() };
        t.extend(u32b(8));
        t.extend(u16b(2));
        // ImageWidth (a LONG), then Orientation (a SHORT).
        t.extend(u16b(0x0100));
        t.extend(u16b(4));
        t.extend(u32b(1));
        t.extend(u32b(640));
        t.extend(u16b(0x0112));
        t.extend(u16b(3));
        t.extend(u32b(1));
        t.extend(u16b(orientation));
        t.extend([0, 0]);
        t.extend(u32b(0));
        t
    }

    #[test]
    fn the_exif_orientation_is_read_in_either_byte_order_and_anything_odd_is_upright() {
        for o in 1..=8 {
            assert_eq!(Orientation::of_exif(&exif(o, true)), Orientation(o));
            assert_eq!(Orientation::of_exif(&exif(o, false)), Orientation(o));
        }
        for odd in [exif(0, true), exif(9, false), b"MM\0*\0\0\0\x08".to_vec(), b"XX".to_vec(), Vec::new()] {
            assert_eq!(Orientation::of_exif(&odd), Orientation(1), "{odd:?}");
        }
        let mut far = exif(6, true);
        far[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(Orientation::of_exif(&far), Orientation(1));
    }

    #[test]
    fn each_orientation_turns_the_pixels_upright() {
        // 3 × 2 pixels numbered as stored: 0 1 2 / 3 4 5.
        let pixels: Vec<u8> = (0..6u8).flat_map(|v| [v; 3]).collect();
        let turned = |o: u16| {
            let (w, h, p) = Orientation(o).apply(3, 2, &pixels);
            (w, h, p.chunks(3).map(|px| px[0]).collect::<Vec<_>>())
        };
        assert_eq!(turned(1), (3, 2, vec![0, 1, 2, 3, 4, 5]));
        assert_eq!(turned(2), (3, 2, vec![2, 1, 0, 5, 4, 3]));
        assert_eq!(turned(3), (3, 2, vec![5, 4, 3, 2, 1, 0]));
        assert_eq!(turned(4), (3, 2, vec![3, 4, 5, 0, 1, 2]));
        assert_eq!(turned(5), (2, 3, vec![0, 3, 1, 4, 2, 5]));
        // A quarter turn clockwise: the left column becomes the top row.
        assert_eq!(turned(6), (2, 3, vec![3, 0, 4, 1, 5, 2]));
        assert_eq!(turned(7), (2, 3, vec![5, 2, 4, 1, 3, 0]));
        assert_eq!(turned(8), (2, 3, vec![2, 5, 1, 4, 0, 3]));
    }

    #[test]
    fn thumbnails_keep_the_aspect_and_never_grow() {
        assert_eq!(thumbnail_size(3000, 1500), (320, 160));
        assert_eq!(thumbnail_size(1500, 3000), (160, 320));
        assert_eq!(thumbnail_size(320, 320), (320, 320));
        assert_eq!(thumbnail_size(321, 1), (320, 1));
        assert_eq!(thumbnail_size(10, 7), (10, 7));
        assert_eq!(thumbnail_size(100_000, 1), (320, 1));
    }

    #[test]
    fn a_png_is_measured_and_shrunk_by_averaging() {
        // Left half red, right half blue: the thumbnail keeps the halves.
        let bytes = png_rgb(640, 480, |x, _| if x < 320 { [255, 0, 0] } else { [0, 0, 255] });
        let found = inspect(file(&bytes).path()).unwrap();
        assert_eq!(
            (found.format, found.width, found.height, found.note.as_deref()),
            (Some("png"), Some(640), Some(480), None)
        );
        let (w, h, pixels) = decode_png(&found.thumbnail.unwrap());
        assert_eq!((w, h), (320, 240));
        assert_eq!(&pixels[..3], &[255, 0, 0]);
        assert_eq!(&pixels[pixels.len() - 3..], &[0, 0, 255]);
        // A picture of alternating black and white columns averages to grey.
        let bytes = png_rgb(640, 2, |x, _| if x % 2 == 0 { [0; 3] } else { [255; 3] });
        let (_, _, pixels) = decode_png(&inspect(file(&bytes).path()).unwrap().thumbnail.unwrap());
        assert!(pixels.iter().all(|v| (127..=128).contains(v)), "{:?}", &pixels[..6]);
    }

    #[test]
    fn a_truncated_png_keeps_its_size_and_says_why_it_has_no_thumbnail() {
        let bytes = png_rgb(400, 400, |x, y| [(x % 256) as u8, (y % 256) as u8, 7]);
        let found = inspect(file(&bytes[..bytes.len() / 2]).path()).unwrap();
        assert_eq!((found.width, found.height), (Some(400), Some(400)));
        assert!(found.thumbnail.is_none());
        assert!(found.note.is_some());
    }

    #[test]
    fn a_gif_gives_its_size_from_its_header() {
        let mut bytes = b"GIF89a".to_vec();
        bytes.extend([0x40, 0x01, 0xF0, 0x00, 0, 0, 0]);
        let found = inspect(file(&bytes).path()).unwrap();
        assert_eq!((found.format, found.width, found.height), (Some("gif"), Some(320), Some(240)));
    }

    fn wav_bytes(rate: u32, channels: u16, frames: u32) -> Vec<u8> {
        let data = frames * u32::from(channels) * 2;
        let mut out = b"RIFF".to_vec();
        out.extend((36 + 8 + 4 + data).to_le_bytes());
        out.extend(b"WAVE");
        // An unknown chunk of odd length first: walked over with its pad byte.
        out.extend(b"LIST");
        out.extend(3u32.to_le_bytes());
        out.extend([1, 2, 3, 0]);
        out.extend(b"fmt ");
        out.extend(16u32.to_le_bytes());
        out.extend(1u16.to_le_bytes());
        out.extend(channels.to_le_bytes());
        out.extend(rate.to_le_bytes());
        out.extend((rate * u32::from(channels) * 2).to_le_bytes());
        out.extend((channels * 2).to_le_bytes());
        out.extend(16u16.to_le_bytes());
        out.extend(b"data");
        out.extend(data.to_le_bytes());
        out.resize(out.len() + data as usize, 0);
        out
    }

    #[test]
    fn audio_durations_come_from_headers() {
        let found = inspect(file(&wav_bytes(44_100, 2, 66_150)).path()).unwrap();
        assert_eq!((found.format, found.duration_ms), (Some("wav"), Some(1500)));

        // FLAC: STREAMINFO with 48 kHz and 96,000 samples.
        let mut flac = b"fLaC".to_vec();
        flac.extend([0x80, 0, 0, 34]);
        let mut info = [0u8; 34];
        let bits: u64 = (48_000u64 << 44) | (1 << 41) | (15 << 36) | 96_000;
        info[10..18].copy_from_slice(&bits.to_be_bytes());
        flac.extend(info);
        let found = inspect(file(&flac).path()).unwrap();
        assert_eq!((found.format, found.duration_ms), (Some("flac"), Some(2000)));

        // MP3 at a constant 128 kbit/s: 16,000 bytes of frames after an ID3 tag are one second.
        let mut mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x0A".to_vec();
        mp3.extend([0u8; 10]);
        let frame = [0xFF, 0xFB, 0x90, 0x00];
        while mp3.len() < 20 + 16_000 {
            mp3.extend(frame);
            mp3.extend([0u8; 413]);
        }
        mp3.truncate(20 + 16_000);
        let found = inspect(file(&mp3).path()).unwrap();
        assert_eq!((found.format, found.duration_ms), (Some("mp3"), Some(1000)));
    }

    #[test]
    fn an_mp3_with_a_xing_header_counts_its_frames() {
        let mut mp3 = vec![0xFF, 0xFB, 0x50, 0x00];
        mp3.extend([0u8; 32]);
        mp3.extend(b"Xing");
        mp3.extend(1u32.to_be_bytes());
        mp3.extend(1000u32.to_be_bytes());
        mp3.resize(4000, 0);
        let found = inspect(file(&mp3).path()).unwrap();
        // 1,000 frames of 1,152 samples at 44.1 kHz.
        assert_eq!(found.duration_ms, Some(1000 * 1152 * 1000 / 44_100));
    }

    #[test]
    fn an_mp4_movie_gives_its_duration_and_picture_size_wherever_its_index_is() {
        let boxed = |kind: &[u8], body: &[u8]| {
            let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            b.extend(kind);
            b.extend(body);
            b
        };
        let mut mvhd = vec![0u8; 100];
        mvhd[12..16].copy_from_slice(&600u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&(600u32 * 95 / 10).to_be_bytes());
        let mut tkhd = vec![0u8; 84];
        tkhd[76..80].copy_from_slice(&(1920u32 << 16).to_be_bytes());
        tkhd[80..84].copy_from_slice(&(1080u32 << 16).to_be_bytes());
        let trak = boxed(b"trak", &boxed(b"tkhd", &tkhd));
        let moov = boxed(b"moov", &[boxed(b"mvhd", &mvhd), trak].concat());
        let mut movie = boxed(b"ftyp", b"isom\0\0\x02\0isomiso2");
        movie.extend(boxed(b"mdat", &[0u8; 5000]));
        movie.extend(moov);
        let found = inspect(file(&movie).path()).unwrap();
        assert_eq!(
            (found.format, found.duration_ms, found.width, found.height),
            (Some("mp4"), Some(9500), Some(1920), Some(1080))
        );
    }

    #[test]
    fn an_ogg_vorbis_stream_is_timed_by_its_last_granule() {
        let page = |granule: u64, packet: &[u8]| {
            let mut p = b"OggS\0\0".to_vec();
            p.extend(granule.to_le_bytes());
            p.extend([0u8; 12]);
            p.push(1);
            p.push(packet.len() as u8);
            p.extend(packet);
            p
        };
        let mut id = b"\x01vorbis".to_vec();
        id.extend(0u32.to_le_bytes());
        id.push(2);
        id.extend(44_100u32.to_le_bytes());
        id.resize(30, 0);
        let mut ogg = page(0, &id);
        ogg.extend(page(1000, &[0u8; 200]));
        ogg.extend(page(132_300, &[0u8; 200]));
        let found = inspect(file(&ogg).path()).unwrap();
        assert_eq!((found.format, found.duration_ms), (Some("ogg"), Some(3000)));
    }

    #[test]
    fn text_is_kept_for_search_and_binary_is_not_text() {
        let found = inspect(file("\u{FEFF}Setlist: Opening — Nova Rae\n".as_bytes()).path()).unwrap();
        assert_eq!(found.format, Some("text"));
        assert_eq!(found.text.as_deref(), Some("Setlist: Opening — Nova Rae\n"));
        let found = inspect(file(&[0u8, 1, 2, 3, 200, 201]).path()).unwrap();
        assert_eq!(found, Inspection::default());
        // Longer than is kept: cut at a character boundary within the limit.
        let long = "é".repeat(MAX_TEXT);
        let kept = inspect(file(long.as_bytes()).path()).unwrap().text.unwrap();
        assert_eq!(kept.len(), MAX_TEXT);
    }
}
