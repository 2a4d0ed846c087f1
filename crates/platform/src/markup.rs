//! Escaping text for XML and HTML (character data and quoted attribute values alike): the one
//! function every document Backline writes by hand uses (DDEX messages, SVG charts, mail bodies); and
//! `{{name}}` placeholders filled in text (notification templates, canned replies).

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

/// Fills each `{{name}}` of `template` (whitespace inside the braces allowed) with `value(name)`, in one
/// pass: an inserted value is never read again, so it cannot inject a placeholder. A name `value` does
/// not know (`None`) is kept as written; an unclosed `{{` is kept as text.
pub fn fill(template: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match value(after[..end].trim()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + end + 4]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The placeholder names a template uses, in order.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    fill(template, |name| {
        names.push(name.to_owned());
        Some(String::new())
    });
    names
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_filled_once_and_unknown_ones_kept() {
        let value = |name: &str| match name {
            "name" => Some("{{secret}}".to_owned()),
            "secret" => Some("LEAK".to_owned()),
            _ => None,
        };
        assert_eq!(super::fill("Hi {{ name }}, {{other}}!", value), "Hi {{secret}}, {{other}}!");
        assert_eq!(super::fill("unclosed {{name", value), "unclosed {{name");
        assert_eq!(super::placeholders("{{a}} and {{ b }} {{c"), ["a", "b"]);
    }

    #[test]
    fn markup_and_control_characters_are_handled() {
        assert_eq!(
            super::escape("Tom & Jerry <\"live\"> 'x'\u{1}\n"),
            "Tom &amp; Jerry &lt;&quot;live&quot;&gt; &#39;x&#39;\n"
        );
        assert_eq!(super::escape("plain"), "plain");
    }
}
