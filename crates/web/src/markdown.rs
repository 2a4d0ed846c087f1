//! Messages' Markdown as safe HTML: CommonMark (with tables and strikethrough) where raw HTML is shown
//! as text, links go only to `http`, `https`, `mailto` or this site, and images become links (a page
//! never loads a picture from a message's address).

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd, html};

/// Whether a link may be followed from a message.
fn safe_destination(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"))
        || lower.starts_with('#')
}

/// The message's text as HTML for a page.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut dropped_links = 0usize;
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        // Raw HTML is text, escaped like any other.
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            if safe_destination(&dest_url) {
                Some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
            } else {
                dropped_links += 1;
                None
            }
        }
        Event::End(TagEnd::Link) if dropped_links > 0 => {
            dropped_links -= 1;
            None
        }
        // A picture is offered as a link to it, never loaded.
        Event::Start(Tag::Image { dest_url, title, id, .. }) => {
            if safe_destination(&dest_url) {
                Some(Event::Start(Tag::Link { link_type: LinkType::Inline, dest_url, title, id }))
            } else {
                dropped_links += 1;
                None
            }
        }
        Event::End(TagEnd::Image) => {
            if dropped_links > 0 {
                dropped_links -= 1;
                None
            } else {
                Some(Event::End(TagEnd::Link))
            }
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders() {
        assert_eq!(to_html("Drafts are **up**."), "<p>Drafts are <strong>up</strong>.</p>\n");
        assert_eq!(to_html("~~old~~ `code`"), "<p><del>old</del> <code>code</code></p>\n");
        assert_eq!(
            to_html("[docs](https://example.com/a?b=1&c=2)"),
            "<p><a href=\"https://example.com/a?b=1&amp;c=2\">docs</a></p>\n"
        );
    }

    #[test]
    fn raw_html_is_text() {
        assert_eq!(to_html("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(to_html("a <b onclick=x>b</b>"), "<p>a &lt;b onclick=x&gt;b&lt;/b&gt;</p>\n");
        assert!(!to_html("<img src=x onerror=alert(1)>").contains("<img"));
    }

    #[test]
    fn only_safe_links_are_links_and_pictures_are_never_loaded() {
        for bad in
            ["[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](data:text/html,hi)", "[x](//evil.example/)"]
        {
            let out = to_html(bad);
            assert!(!out.contains("<a"), "{bad} → {out}");
            assert!(out.contains('x'), "{bad} → {out}");
        }
        assert_eq!(to_html("[me](mailto:a@example.com)"), "<p><a href=\"mailto:a@example.com\">me</a></p>\n");
        assert_eq!(to_html("[board](/projects)"), "<p><a href=\"/projects\">board</a></p>\n");
        let picture = to_html("![cover](https://example.com/c.png)");
        assert!(!picture.contains("<img"), "{picture}");
        assert!(picture.contains("<a href=\"https://example.com/c.png\">cover</a>"), "{picture}");
        assert!(!to_html("![x](javascript:alert(1))").contains("<a"));
    }
}
