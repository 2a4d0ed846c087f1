//! Charts drawn on the server as SVG: no script, readable by screen readers through their label, and
//! as crisp on a phone as on a wall screen.

use platform::markup::escape;

/// A line of `values` (oldest first) scaled into a `width` × `height` box, with a zero line when the
/// values cross it. `label` describes the chart for assistive technology.
pub fn line(values: &[i64], width: u32, height: u32, label: &str) -> String {
    let (w, h) = (f64::from(width), f64::from(height));
    let pad = 4.0;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    if values.len() >= 2 {
        let min = values.iter().copied().min().unwrap_or(0).min(0) as f64;
        let max = values.iter().copied().max().unwrap_or(0).max(0) as f64;
        let span = (max - min).max(1.0);
        let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (values.len() - 1) as f64;
        let y = |v: f64| pad + (h - 2.0 * pad) * (1.0 - (v - min) / span);
        let zero = y(0.0);
        svg.push_str(&format!(
            "<line x1=\"{pad}\" y1=\"{zero:.1}\" x2=\"{:.1}\" y2=\"{zero:.1}\" stroke=\"#d6d9e0\" stroke-width=\"1\"/>",
            w - pad
        ));
        let points: Vec<String> =
            values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v as f64))).collect();
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"#4b2bd6\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"{}\"/>",
            points.join(" ")
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_spans_the_box_from_the_lowest_to_the_highest_value() {
        let svg = line(&[0, 50, 100], 108, 58, "Balance <EUR>");
        assert!(svg.contains("aria-label=\"Balance &lt;EUR&gt;\""), "{svg}");
        // First point at the left and the bottom, last at the right and the top (4 px padding).
        assert!(svg.contains("points=\"4.0,54.0 54.0,29.0 104.0,4.0\""), "{svg}");
        // Fewer than two values: an empty chart, not a broken one.
        assert!(!line(&[5], 100, 50, "x").contains("polyline"));
    }
}
