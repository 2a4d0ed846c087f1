//! QR codes of ticket payloads, as SVG and PNG, with a quiet zone of four modules as the standard asks.
//! Error correction level M: a scuffed phone screen still scans.

use qrcodegen::{QrCode, QrCodeEcc};

const QUIET: i32 = 4;

fn encode(payload: &str) -> Result<QrCode, String> {
    QrCode::encode_text(payload, QrCodeEcc::Medium).map_err(|e| format!("the payload does not fit a QR code: {e:?}"))
}

/// An SVG drawing, one unit per module.
pub fn svg(payload: &str) -> Result<String, String> {
    let qr = encode(payload)?;
    let size = qr.size();
    let full = size + 2 * QUIET;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET, y + QUIET));
            }
        }
    }
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" \
         viewBox=\"0 0 {full} {full}\" width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/><path d=\"{path}\" fill=\"#000000\"/></svg>\n",
        px = full * 8
    ))
}

/// A greyscale PNG, `scale` pixels per module.
pub fn png(payload: &str, scale: u32) -> Result<Vec<u8>, String> {
    let qr = encode(payload)?;
    let scale = scale.clamp(1, 32);
    let modules = u32::try_from(qr.size() + 2 * QUIET).unwrap_or(0);
    let side = modules * scale;
    let mut pixels = Vec::with_capacity((side * side) as usize);
    for py in 0..side {
        for px in 0..side {
            let x = i32::try_from(px / scale).unwrap_or(0) - QUIET;
            let y = i32::try_from(py / scale).unwrap_or(0) - QUIET;
            pixels.push(if qr.get_module(x, y) { 0u8 } else { 255u8 });
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a PNG back and decodes it with rqrr, a QR reader that shares no code with the encoder.
    fn read(png_bytes: &[u8]) -> String {
        let decoder = png::Decoder::new(png_bytes);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    #[test]
    fn a_ticket_payload_survives_the_png_and_an_independent_reader() {
        let payload = format!("BL1.{}.{}.{}", "0".repeat(32), "A".repeat(24), "x".repeat(86));
        assert_eq!(read(&png(&payload, 4).unwrap()), payload);
    }

    #[test]
    fn the_svg_has_a_quiet_zone_and_dark_modules() {
        let svg = svg("BL1.test").unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("viewBox=\"0 0 29 29\""), "21 modules and 4 on each side: {svg}");
        assert!(svg.contains("M4,4h1v1h-1z"), "the finder pattern's corner");
    }
}
