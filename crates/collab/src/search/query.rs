//! A search's text as words and filters: `from:nova`, `in:general` (a channel's name) or
//! `in:<conversation id>`, `before:2027-01-31`, `after:2027-01-01`, `is:thread`, `has:file`; every
//! other word (quotes, `or` and `-word` included) is looked for, ranked, in the messages' text.

use chrono::NaiveDate;

/// A parsed search.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Search {
    /// What is left for full-text search (PostgreSQL's web-search syntax).
    pub words: String,
    /// Usernames, lower-cased: messages by any of them.
    pub from: Vec<String>,
    /// A channel's name or a conversation's id.
    pub within: Option<String>,
    /// Messages posted before this day (UTC) began.
    pub before: Option<NaiveDate>,
    /// Messages posted on or after this day (UTC).
    pub after: Option<NaiveDate>,
    /// Only messages in a thread: replies and the messages replied to.
    pub thread: bool,
    /// Only messages with a file attached.
    pub file: bool,
}

/// Parses a search; a filter with a value it cannot take is named with why.
pub fn parse(text: &str) -> Result<Search, String> {
    let mut search = Search::default();
    let mut words: Vec<&str> = Vec::new();
    for token in text.split_whitespace() {
        let Some((filter, value)) = token.split_once(':') else {
            words.push(token);
            continue;
        };
        match filter.to_ascii_lowercase().as_str() {
            "from" => {
                let name = value.trim_start_matches('@').to_ascii_lowercase();
                if name.is_empty() {
                    return Err("from: needs a username".into());
                }
                search.from.push(name);
            }
            "in" => {
                let place = value.trim_start_matches('#').to_ascii_lowercase();
                if place.is_empty() {
                    return Err("in: needs a channel's name or a conversation's id".into());
                }
                search.within = Some(place);
            }
            "before" | "after" => {
                let day = NaiveDate::parse_from_str(value, "%Y-%m-%d")
                    .map_err(|_| format!("{filter}: needs a day as YYYY-MM-DD"))?;
                if filter.eq_ignore_ascii_case("before") {
                    search.before = Some(day);
                } else {
                    search.after = Some(day);
                }
            }
            "is" if value.eq_ignore_ascii_case("thread") => search.thread = true,
            "is" => return Err("is: takes thread".into()),
            "has" if value.eq_ignore_ascii_case("file") => search.file = true,
            "has" => return Err("has: takes file".into()),
            _ => words.push(token),
        }
    }
    search.words = words.join(" ");
    Ok(search)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_words() {
        let s =
            parse("cover from:@Nova in:#General after:2027-01-01 before:2027-02-01 is:thread \"night drive\" -draft")
                .unwrap();
        assert_eq!(s.words, "cover \"night drive\" -draft");
        assert_eq!(s.from, ["nova"]);
        assert_eq!(s.within.as_deref(), Some("general"));
        assert_eq!(s.after, NaiveDate::from_ymd_opt(2027, 1, 1));
        assert_eq!(s.before, NaiveDate::from_ymd_opt(2027, 2, 1));
        assert!(s.thread && !s.file);
        assert_eq!(parse("has:file").unwrap(), Search { file: true, ..Search::default() });
        assert_eq!(parse("from:a from:b").unwrap().from, ["a", "b"]);
        // A word with a colon that is no filter stays a word.
        assert_eq!(parse("time 10:30 http://x").unwrap().words, "time 10:30 http://x");
    }

    #[test]
    fn bad_filters_are_named() {
        assert_eq!(parse("before:tomorrow").unwrap_err(), "before: needs a day as YYYY-MM-DD");
        assert_eq!(parse("after:2027-02-30").unwrap_err(), "after: needs a day as YYYY-MM-DD");
        assert_eq!(parse("from:").unwrap_err(), "from: needs a username");
        assert_eq!(parse("is:open").unwrap_err(), "is: takes thread");
        assert_eq!(parse("has:link").unwrap_err(), "has: takes file");
    }
}
