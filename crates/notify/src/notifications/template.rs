//! Notification templates: text with `{{name}}` variables filled from the event's data. Substitution
//! is one pass over the template with the values inserted as text, never re-read, so a value cannot
//! inject template syntax; for HTML, values are escaped.

use serde_json::Value;

/// How inserted values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    Text,
    Html,
}

/// Fills `{{name}}` (whitespace inside the braces allowed) from `vars`; an unknown name renders empty.
pub fn render(template: &str, vars: &Value, escape: Escape) -> String {
    platform::markup::fill(template, |name| {
        let value = match vars.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        Some(match escape {
            Escape::Text => value,
            Escape::Html => html_escape(&value),
        })
    })
}

pub fn html_escape(text: &str) -> String {
    platform::markup::escape(text)
}

/// The variable names a template uses.
pub fn variables(template: &str) -> Vec<String> {
    platform::markup::placeholders(template)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_variables_once_and_never_reinterprets_values() {
        let vars = json!({"name": "{{secret}}", "secret": "LEAK", "count": 3});
        assert_eq!(render("Hi {{ name }}, {{count}} new", &vars, Escape::Text), "Hi {{secret}}, 3 new");
        assert_eq!(render("{{missing}}!", &vars, Escape::Text), "!");
        assert_eq!(render("unclosed {{name", &vars, Escape::Text), "unclosed {{name");
    }

    #[test]
    fn html_values_are_escaped() {
        let vars = json!({"name": "<script>alert('x')</script> & co"});
        assert_eq!(
            render("<p>{{name}}</p>", &vars, Escape::Html),
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</p>"
        );
    }

    #[test]
    fn lists_variables() {
        assert_eq!(variables("{{a}} and {{ b }}"), ["a", "b"]);
    }
}
