//! Escaping text for HTML: every string that reaches the page from a file
//! (names, descriptions, a product's log words, CSV cells) goes through
//! [`esc`], in element content and in quoted attribute values alike.

/// `s` with `&`, `<`, `>`, `"` and `'` replaced by character references, and
/// control characters other than tab and newline dropped (they are invalid
/// in HTML), so it is safe as element content and inside a quoted
/// attribute value.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(esc("plain text 1.5s"), "plain text 1.5s");
        assert_eq!(
            esc(r#"<script>alert("x")</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        );
        assert_eq!(esc("a & b"), "a &amp; b");
        // Already escaped text is escaped again, not trusted.
        assert_eq!(esc("&amp;"), "&amp;amp;");
        assert_eq!(esc("it's"), "it&#39;s");
        // A log line's own words, as HAProxy prints them.
        assert_eq!(
            esc(r#"info: "Connection refused", <= 2s"#),
            "info: &quot;Connection refused&quot;, &lt;= 2s"
        );
    }

    #[test]
    fn keeps_unicode_drops_control_characters() {
        assert_eq!(esc("4.000–6.500s — ok"), "4.000–6.500s — ok");
        assert_eq!(esc("a\u{0}b\u{7}c\r\n\td"), "abc\n\td");
    }
}
