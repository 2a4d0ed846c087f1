//! Escaping text for XML and HTML (character data and quoted attribute values alike): the one
//! function every document Backline writes by hand uses (DDEX messages, SVG charts, mail bodies).

/// Escapes `& < > " '` and drops the control characters XML 1.0 does not allow (all below U+0020 but
/// tab, line feed and carriage return), which no document of ours should carry.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_control_characters_are_handled() {
        assert_eq!(
            super::escape("Tom & Jerry <\"live\"> 'x'\u{1}\n"),
            "Tom &amp; Jerry &lt;&quot;live&quot;&gt; &#39;x&#39;\n"
        );
        assert_eq!(super::escape("plain"), "plain");
    }
}
