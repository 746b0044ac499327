//! Comments in scenario files (`//` to the end of the line, `/* ... */`).
//!
//! Comments are blanked out with spaces rather than removed, one space per character, newlines
//! kept, so every line and column the JSON parser or the position index reports is the line and
//! column the user sees in the original file. Text inside JSON strings is never touched: a URL's
//! `//` is not a comment.

/// An unterminated `/* ...` comment, at its 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnclosedComment {
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    Str,
    StrEscape,
    Line,
    Block,
}

/// The text with comments replaced by spaces. A leading byte-order mark is dropped (editors do not
/// count it as a column either).
pub(crate) fn blank_comments(text: &str) -> Result<String, UnclosedComment> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut state = State::Code;
    let mut chars = text.chars().peekable();
    let (mut line, mut column) = (1usize, 1usize);
    let mut block_start = UnclosedComment { line, column };

    while let Some(c) = chars.next() {
        let (at_line, at_column) = (line, column);
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
        match state {
            State::Code => match (c, chars.peek()) {
                ('"', _) => {
                    state = State::Str;
                    out.push(c);
                }
                ('/', Some('/')) => {
                    state = State::Line;
                    out.push(' ');
                }
                ('/', Some('*')) => {
                    state = State::Block;
                    block_start = UnclosedComment {
                        line: at_line,
                        column: at_column,
                    };
                    out.push(' ');
                    // Consume the `*` so that `/*/` does not count as open-and-close.
                    chars.next();
                    column += 1;
                    out.push(' ');
                }
                _ => out.push(c),
            },
            State::Str => {
                state = match c {
                    '\\' => State::StrEscape,
                    '"' => State::Code,
                    _ => State::Str,
                };
                out.push(c);
            }
            State::StrEscape => {
                state = State::Str;
                out.push(c);
            }
            State::Line => {
                if c == '\n' {
                    state = State::Code;
                    out.push('\n');
                } else if c == '\r' {
                    out.push('\r');
                } else {
                    out.push(' ');
                }
            }
            State::Block => {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    column += 1;
                    out.push_str("  ");
                    state = State::Code;
                } else if c == '\n' || c == '\r' {
                    out.push(c);
                } else {
                    out.push(' ');
                }
            }
        }
    }
    if state == State::Block {
        return Err(block_start);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_comments_become_spaces() {
        let text = "{ // hello\n\"a\": 1 }";
        let out = blank_comments(text).unwrap();
        assert_eq!(out, "{         \n\"a\": 1 }");
        assert_eq!(out.chars().count(), text.chars().count());
    }

    #[test]
    fn block_comments_keep_newlines() {
        let text = "{ /* one\n two */ \"a\": 1 }";
        let out = blank_comments(text).unwrap();
        assert_eq!(out, "{       \n        \"a\": 1 }");
    }

    #[test]
    fn comment_markers_inside_strings_are_text() {
        let text = r#"{"url": "https://x.example/a//b", "s": "/* not */", "e": "q\"//"} // c"#;
        let out = blank_comments(text).unwrap();
        assert!(
            out.starts_with(r#"{"url": "https://x.example/a//b", "s": "/* not */", "e": "q\"//"}"#)
        );
        assert!(out.ends_with("    "));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["url"], "https://x.example/a//b");
        assert_eq!(v["e"], "q\"//");
    }

    #[test]
    fn multibyte_comment_text_keeps_columns() {
        let text = "{ /* é😀 */ \"a\": 1 }";
        let out = blank_comments(text).unwrap();
        assert_eq!(out.chars().count(), text.chars().count());
        assert_eq!(out.find('"'), Some(11));
    }

    #[test]
    fn slash_star_slash_is_not_closed() {
        assert_eq!(
            blank_comments("{\n  /*/ }"),
            Err(UnclosedComment { line: 2, column: 3 })
        );
    }

    #[test]
    fn byte_order_mark_is_dropped() {
        assert_eq!(blank_comments("\u{feff}{}").unwrap(), "{}");
    }

    #[test]
    fn crlf_line_comment() {
        assert_eq!(blank_comments("1 //x\r\n").unwrap(), "1    \r\n");
    }
}
