//! Real media files for tests, made here or by independent encoders: WAV (written by hand, it is a
//! header and samples), FLAC (Debian's `flac` encoder), PNG (the `png` crate), JPEG (`jpeg-encoder`) and
//! WebP (`image-webp`).

use std::io::Write;
use std::process::Command;

/// A WAV of a 1 kHz sine at `amplitude` (0–1) for `ms`, PCM of `bits` (8, 16 or 24).
pub fn wav(rate: u32, bits: u16, channels: u16, ms: u32, amplitude: f64) -> Vec<u8> {
    let frames = rate as usize * ms as usize / 1000;
    let width = usize::from(bits / 8);
    let data_len = frames * width * usize::from(channels);
    let mut out = Vec::with_capacity(44 + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(channels) * u32::from(bits / 8)).to_le_bytes());
    out.extend_from_slice(&(channels * bits / 8).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data_len as u32).to_le_bytes());
    for i in 0..frames {
        let v = amplitude * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / f64::from(rate)).sin();
        for _ in 0..channels {
            match bits {
                16 => out.extend_from_slice(&((v * 32_767.0).round() as i16).to_le_bytes()),
                24 => out.extend_from_slice(&((v * 8_388_607.0).round() as i32).to_le_bytes()[..3]),
                _ => out.push(((v * 127.0).round() as i16 + 128) as u8),
            }
        }
    }
    out
}

/// The WAV encoded as FLAC by Debian's `flac` (panics when it is not installed; `.ci/run` installs it).
pub fn flac(wav: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("in.wav");
    let output = dir.path().join("out.flac");
    std::fs::File::create(&input).and_then(|mut f| f.write_all(wav)).expect("write the WAV");
    let status = Command::new("flac")
        .args(["--silent", "--force", "-o"])
        .arg(&output)
        .arg(&input)
        .status()
        .expect("the flac encoder runs (install Debian's flac)");
    assert!(status.success(), "flac failed");
    std::fs::read(&output).expect("read the FLAC")
}

/// A PNG of `width` × `height` in the given colour type (RGB, greyscale, RGBA), a plain gradient.
pub fn png(width: u32, height: u32, color: png::ColorType) -> Vec<u8> {
    let channels = match color {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::GrayscaleAlpha => 2,
        _ => 1,
    };
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().expect("png header");
        let mut stream = writer.stream_writer().expect("png stream");
        let mut row = vec![0u8; width as usize * channels];
        for y in 0..height {
            for (x, px) in row.chunks_mut(channels).enumerate() {
                px.fill(((x as u32 + y) / 64 % 256) as u8);
            }
            stream.write_all(&row).expect("png row");
        }
        stream.finish().expect("png end");
    }
    out
}

/// A baseline JPEG of `width` × `height`, RGB or greyscale.
pub fn jpeg(width: u16, height: u16, rgb: bool) -> Vec<u8> {
    let channels = if rgb { 3 } else { 1 };
    let mut pixels = vec![0u8; usize::from(width) * usize::from(height) * channels];
    for (i, p) in pixels.iter_mut().enumerate() {
        *p = ((i / channels) % 251) as u8;
    }
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    let color = if rgb { jpeg_encoder::ColorType::Rgb } else { jpeg_encoder::ColorType::Luma };
    encoder.encode(&pixels, width, height, color).expect("jpeg");
    out
}

/// A picture drawn from a seed, `width` × `height` RGB pixels: soft blobs of colour on a dark ground.
/// The same seed at another size is the same picture; another seed is another picture.
pub fn drawing(seed: u64, width: u32, height: u32) -> Vec<[u8; 3]> {
    let blobs: Vec<(f64, f64, f64, [f64; 3])> = (0..6u64)
        .map(|i| {
            let r = |k: u64| {
                let x =
                    seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i * 1_442_695_040_888_963_407 + k * 97);
                let x = (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                ((x ^ (x >> 32)) % 1000) as f64 / 1000.0
            };
            (r(1), r(2), 0.15 + r(3) * 0.35, [r(4) * 255.0, r(5) * 255.0, r(6) * 255.0])
        })
        .collect();
    let mut out = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (f64::from(x) / f64::from(width), f64::from(y) / f64::from(height));
            let mut px = [30.0, 30.0, 30.0];
            for (bx, by, radius, colour) in &blobs {
                let d = ((fx - bx).powi(2) + (fy - by).powi(2)).sqrt();
                let weight = (1.0 - d / radius).clamp(0.0, 1.0);
                for (c, v) in px.iter_mut().enumerate() {
                    *v = *v * (1.0 - weight) + colour[c] * weight;
                }
            }
            out.push(px.map(|v: f64| v.round().clamp(0.0, 255.0) as u8));
        }
    }
    out
}

/// `pixels` (RGB, row by row) as a PNG.
pub fn png_rgb(pixels: &[[u8; 3]], width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().expect("png header").write_image_data(pixels.as_flattened()).expect("png data");
    out
}

/// `pixels` (RGB, row by row) as a baseline JPEG of `quality` (1–100).
pub fn jpeg_rgb(pixels: &[[u8; 3]], width: u16, height: u16, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder.encode(pixels.as_flattened(), width, height, jpeg_encoder::ColorType::Rgb).expect("jpeg");
    out
}

/// `pixels` (RGB, row by row, as the sensor stored them) as a JPEG whose EXIF block says how the camera
/// was held (`orientation`, 1 to 8; 6: turned a quarter clockwise to be seen upright), as phones write it.
pub fn jpeg_rgb_oriented(pixels: &[[u8; 3]], width: u16, height: u16, orientation: u16) -> Vec<u8> {
    let mut exif = b"Exif\0\0MM\0*".to_vec();
    exif.extend(8u32.to_be_bytes());
    exif.extend(1u16.to_be_bytes());
    exif.extend(0x0112u16.to_be_bytes());
    exif.extend(3u16.to_be_bytes());
    exif.extend(1u32.to_be_bytes());
    exif.extend(orientation.to_be_bytes());
    exif.extend([0, 0, 0, 0, 0, 0]);
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.add_app_segment(1, &exif).expect("exif");
    encoder.encode(pixels.as_flattened(), width, height, jpeg_encoder::ColorType::Rgb).expect("jpeg");
    out
}

/// `pixels` (RGB, row by row) as a lossless WebP (`image-webp`'s encoder).
pub fn webp_rgb(pixels: &[[u8; 3]], width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(pixels.as_flattened(), width, height, image_webp::ColorType::Rgb8)
        .expect("webp");
    out
}

/// A Word document (`.docx`) whose body is `paragraphs`, as a zip archive of stored (uncompressed)
/// parts, which Word itself reads.
pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs.iter().map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>")).collect();
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let types = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>";
    let parts = [("[Content_Types].xml", types.as_bytes()), ("word/document.xml", document.as_bytes())];
    let (mut out, mut directory) = (Vec::new(), Vec::new());
    for (name, bytes) in parts {
        let crc = crc32(bytes).to_le_bytes();
        let sizes = [(bytes.len() as u32).to_le_bytes(), (bytes.len() as u32).to_le_bytes()].concat();
        let offset = (out.len() as u32).to_le_bytes();
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend([20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        out.extend(crc);
        out.extend(&sizes);
        out.extend((name.len() as u16).to_le_bytes());
        out.extend([0, 0]);
        out.extend(name.as_bytes());
        out.extend(bytes);
        directory.extend(0x0201_4b50u32.to_le_bytes());
        directory.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        directory.extend(crc);
        directory.extend(&sizes);
        directory.extend((name.len() as u16).to_le_bytes());
        directory.extend([0; 12]);
        directory.extend(offset);
        directory.extend(name.as_bytes());
    }
    let start = (out.len() as u32).to_le_bytes();
    out.extend(&directory);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0, 0, 0, 0, 2, 0, 2, 0]);
    out.extend((directory.len() as u32).to_le_bytes());
    out.extend(start);
    out.extend([0, 0]);
    out
}

/// The CRC-32 (IEEE) zip archives check their parts with.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
