//! Canned replies' placeholders as a pure rule: which names exist, and filling them for a ticket.

/// The placeholders a canned reply may use.
pub const PLACEHOLDERS: &[&str] = &["requester", "number", "subject", "agent"];

/// The first placeholder (`{{name}}`) the text uses that is not one of [`PLACEHOLDERS`].
pub fn unknown_placeholder(text: &str) -> Option<String> {
    platform::markup::placeholders(text).into_iter().find(|name| !PLACEHOLDERS.contains(&name.as_str()))
}

/// The text with each placeholder replaced by its value (`values` in the order of [`PLACEHOLDERS`]).
pub fn fill(text: &str, values: [&str; 4]) -> String {
    platform::markup::fill(text, |name| PLACEHOLDERS.iter().position(|p| *p == name).map(|i| values[i].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_placeholder_and_leaves_the_rest() {
        let text = "Hi {{requester}}, about #{{ number }} ({{subject}}): done. {{agent}} {{ and }} {{";
        assert_eq!(
            fill(text, ["Ada", "1001", "Payout late", "Sam"]),
            "Hi Ada, about #1001 (Payout late): done. Sam {{ and }} {{"
        );
        // A value is not read again as a placeholder.
        assert_eq!(fill("{{subject}}", ["a", "1", "{{agent}}", "Sam"]), "{{agent}}");
    }

    #[test]
    fn names_the_first_unknown_placeholder() {
        assert_eq!(unknown_placeholder("Hi {{requester}}, {{agent}}"), None);
        assert_eq!(unknown_placeholder("Hi {{name}}"), Some("name".to_owned()));
        assert_eq!(unknown_placeholder("no braces {{ unclosed"), None);
    }
}
