//! Mentions and reactions as text rules: which usernames a message mentions, and what counts as a
//! reaction's emoji.

/// The most people one message mentions; further mentions are plain text.
pub const MAX_MENTIONS: usize = 20;

fn username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The usernames a message mentions (`@nova`), lower-cased, each once, in order of first mention, at
/// most [`MAX_MENTIONS`]. A mention begins a word (an `@` inside `ada@example.com` is not one) and is a
/// username's characters (letters, digits, `_`, `-`; 3 to 50); text in code (between backticks) mentions
/// nobody.
pub fn usernames(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut in_code = false;
    let mut previous: Option<char> = None;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '`' {
            in_code = !in_code;
        } else if c == '@' && !in_code && previous.is_none_or(|p| !username_char(p) && p != '@') {
            let rest = &body[i + 1..];
            let end = rest.find(|c: char| !username_char(c)).unwrap_or(rest.len());
            let name = rest[..end].to_ascii_lowercase();
            let len = name.chars().count();
            if (3..=50).contains(&len) && !out.contains(&name) && out.len() < MAX_MENTIONS {
                out.push(name);
            }
            for _ in 0..end {
                chars.next();
            }
            previous = rest[..end].chars().last().or(Some('@'));
            continue;
        }
        previous = Some(c);
    }
    out
}

/// The most distinct reactions one message holds.
pub const MAX_REACTIONS: i64 = 50;

/// Whether `emoji` is a reaction: a shortcode (`:thumbsup:`, lower-case letters, digits, `_`, `+`, `-`,
/// at most 32 between the colons) or one emoji of up to 8 Unicode scalar values (a flag, a skin tone, a
/// family joined by zero-width joiners), with no letters, digits, spaces or control characters.
pub fn is_emoji(emoji: &str) -> bool {
    if let Some(code) = emoji.strip_prefix(':').and_then(|e| e.strip_suffix(':')) {
        return (1..=32).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'+' | b'-'));
    }
    let count = emoji.chars().count();
    (1..=8).contains(&count)
        && emoji.chars().all(|c| !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control())
        && !emoji.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_begin_words_and_skip_code_and_repeats() {
        assert_eq!(usernames("@nova and @Promo_Pete, see @nova again"), ["nova", "promo_pete"]);
        assert_eq!(usernames("mail ada@example.com"), Vec::<String>::new());
        assert_eq!(usernames("(@olga_events)"), ["olga_events"]);
        assert_eq!(usernames("`@nova` is code, @cara-creates is not"), ["cara-creates"]);
        assert_eq!(usernames("@ab is too short, @@nova is not a mention"), Vec::<String>::new());
        assert_eq!(usernames(&format!("@{}", "a".repeat(51))), Vec::<String>::new());
        assert_eq!(usernames(&format!("@{}", "a".repeat(50))), ["a".repeat(50)]);
        assert_eq!(usernames("ends with @"), Vec::<String>::new());
        assert_eq!(usernames("ünïcödé @fan_felix."), ["fan_felix"]);
    }

    #[test]
    fn at_most_twenty_people_are_mentioned() {
        let body: String = (0..25).map(|i| format!("@user{i:02} ")).collect();
        let found = usernames(&body);
        assert_eq!(found.len(), MAX_MENTIONS);
        assert_eq!(found.last().unwrap(), "user19");
    }

    #[test]
    fn emoji_and_shortcodes() {
        for ok in ["👍", "🎉", "❤️", "👍🏽", "🇩🇪", "👨‍👩‍👧", ":thumbsup:", ":+1:", ":fire_2:"]
        {
            assert!(is_emoji(ok), "{ok}");
        }
        let long_code = format!(":{}:", "a".repeat(33));
        for bad in
            ["", "a", "ok", "👍 ", "1", "::", ":Thumbs:", ":a b:", "\u{7}", long_code.as_str(), "👍👍👍👍👍👍👍👍👍"]
        {
            assert!(!is_emoji(bad), "{bad:?}");
        }
    }
}
