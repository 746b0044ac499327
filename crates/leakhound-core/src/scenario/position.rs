//! Where each value of a JSON document starts, by JSON pointer.
//!
//! serde tells us *what* is wrong and *where in the tree* (a path); this index tells us where that
//! is in the text, so checks that run after parsing (a `wait` with two conditions, a secret written
//! inline) still point at a line and column. It is a small scanner, not a parser: it runs on text
//! `serde_json` already accepted, except when asked where a syntax error happened, where it only
//! needs to get as far as the error. It also rejects duplicate keys, which `serde_json` would
//! silently resolve to the last one.

use std::collections::{HashMap, HashSet};

use super::error::pointer_token;

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: Option<Pos>,
    value: Pos,
}

/// The scanner stopped: a syntax error or a duplicate key, with the pointer of the container it
/// was in (so a syntax error can still be attributed to a step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanError {
    pub pos: Pos,
    pub pointer: String,
    pub duplicate_key: Option<String>,
}

/// Positions of every value (and of every object member's key) by JSON pointer.
#[derive(Debug, Default)]
pub(crate) struct PositionIndex {
    entries: HashMap<String, Entry>,
}

/// The deepest nesting we follow; serde_json refuses deeper documents anyway.
const MAX_DEPTH: usize = 256;

impl PositionIndex {
    pub(super) fn build(text: &str) -> Result<PositionIndex, ScanError> {
        let mut scanner = Scanner {
            text,
            offset: 0,
            pos: Pos { line: 1, column: 1 },
            index: PositionIndex::default(),
        };
        scanner.skip_ws();
        scanner.value(String::new(), None, 0)?;
        Ok(scanner.index)
    }

    /// Where the value at `pointer` starts, or its key when `at_key` and it is an object member.
    /// Falls back to the nearest enclosing value that is indexed, and finally to 1:1.
    pub(super) fn locate(&self, pointer: &str, at_key: bool) -> Pos {
        let mut p = pointer;
        loop {
            if let Some(e) = self.entries.get(p) {
                return match (at_key, e.key) {
                    (true, Some(k)) => k,
                    _ => e.value,
                };
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return Pos { line: 1, column: 1 },
            }
        }
    }
}

/// The lines each step of a scenario comes from, as captures and reports number steps: 0 opens
/// `start_url`, 1..=n are the scenario's `steps`, n+1 leaves the site. Reports (SARIF) use it to
/// point a finding at the step that sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepLines {
    /// The top-level `start_url` member's key.
    pub start_url: Option<u32>,
    /// Each element of `steps`: step `k` (1-based) is `steps[k - 1]`.
    pub steps: Vec<u32>,
    /// The top-level `leave` member's key, when the scenario has one.
    pub leave: Option<u32>,
}

impl StepLines {
    /// Reads the lines from a scenario's text (comments allowed, as in any scenario). A text
    /// that is not a scenario's JSON gives no lines rather than an error: the caller only wants
    /// to point at them when it can.
    pub fn of_scenario(text: &str) -> StepLines {
        let Ok(clean) = super::jsonc::blank_comments(text) else {
            return StepLines::default();
        };
        let Ok(index) = PositionIndex::build(&clean) else {
            return StepLines::default();
        };
        let line = |p: &str, at_key: bool| -> Option<u32> {
            index
                .entries
                .get(p)
                .map(|e| match (at_key, e.key) {
                    (true, Some(k)) => k.line,
                    _ => e.value.line,
                })
                .and_then(|l| u32::try_from(l).ok())
        };
        let mut steps = Vec::new();
        while let Some(l) = line(&format!("/steps/{}", steps.len()), false) {
            steps.push(l);
        }
        StepLines {
            start_url: line("/start_url", true),
            steps,
            leave: line("/leave", true),
        }
    }

    /// The line of step `step`: `start_url` for 0 (or the first step without one), the `leave`
    /// member after the last step (or the last step without one).
    pub fn of_step(&self, step: usize) -> Option<u32> {
        match step {
            0 => self.start_url.or_else(|| self.steps.first().copied()),
            k if k <= self.steps.len() => self.steps.get(k - 1).copied(),
            _ => self.leave.or_else(|| self.steps.last().copied()),
        }
    }
}

struct Scanner<'a> {
    text: &'a str,
    offset: usize,
    pos: Pos,
    index: PositionIndex,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.offset..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn fail(&self, pointer: &str) -> ScanError {
        ScanError {
            pos: self.pos,
            pointer: pointer.to_string(),
            duplicate_key: None,
        }
    }

    fn expect(&mut self, c: char, pointer: &str) -> Result<(), ScanError> {
        if self.peek() == Some(c) {
            self.bump();
            Ok(())
        } else {
            Err(self.fail(pointer))
        }
    }

    /// Scans one value starting at the current position (whitespace already skipped).
    fn value(&mut self, pointer: String, key: Option<Pos>, depth: usize) -> Result<(), ScanError> {
        if depth > MAX_DEPTH {
            return Err(self.fail(&pointer));
        }
        self.index.entries.insert(
            pointer.clone(),
            Entry {
                key,
                value: self.pos,
            },
        );
        match self.peek() {
            Some('{') => self.object(&pointer, depth),
            Some('[') => self.array(&pointer, depth),
            Some('"') => self.string(&pointer).map(|_| ()),
            Some(_) => {
                // Numbers, true, false, null: validity is serde_json's business.
                let start = self.offset;
                while matches!(self.peek(), Some(c) if !matches!(c, ',' | '}' | ']' | ' ' | '\t' | '\n' | '\r'))
                {
                    self.bump();
                }
                if self.offset == start {
                    return Err(self.fail(&pointer));
                }
                Ok(())
            }
            None => Err(self.fail(&pointer)),
        }
    }

    /// Scans a string and returns its decoded content.
    fn string(&mut self, pointer: &str) -> Result<String, ScanError> {
        let start = self.offset;
        self.expect('"', pointer)?;
        loop {
            match self.bump() {
                Some('"') => break,
                Some('\\') => {
                    self.bump();
                }
                Some(_) => {}
                None => return Err(self.fail(pointer)),
            }
        }
        serde_json::from_str(&self.text[start..self.offset]).map_err(|_| self.fail(pointer))
    }

    fn object(&mut self, pointer: &str, depth: usize) -> Result<(), ScanError> {
        self.expect('{', pointer)?;
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(());
        }
        let mut seen = HashSet::new();
        loop {
            self.skip_ws();
            let key_pos = self.pos;
            let key = self.string(pointer)?;
            if !seen.insert(key.clone()) {
                return Err(ScanError {
                    pos: key_pos,
                    pointer: pointer.to_string(),
                    duplicate_key: Some(key),
                });
            }
            self.skip_ws();
            self.expect(':', pointer)?;
            self.skip_ws();
            let child = format!("{pointer}/{}", pointer_token(&key));
            self.value(child, Some(key_pos), depth + 1)?;
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some('}') => return Ok(()),
                _ => return Err(self.fail(pointer)),
            }
        }
    }

    fn array(&mut self, pointer: &str, depth: usize) -> Result<(), ScanError> {
        self.expect('[', pointer)?;
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(());
        }
        let mut i = 0usize;
        loop {
            self.skip_ws();
            self.value(format!("{pointer}/{i}"), None, depth + 1)?;
            i += 1;
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some(']') => return Ok(()),
                _ => return Err(self.fail(pointer)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    const DOC: &str = "{\n  \"name\": \"x\",\n  \"steps\": [\n    {\"action\": \"click\", \"selector\": \"#é\"},\n    { \"a/b\": [1, true, null] }\n  ]\n}";

    #[test]
    fn values_and_keys_are_located() {
        let idx = PositionIndex::build(DOC).unwrap();
        assert_eq!(idx.locate("", false), at(1, 1));
        assert_eq!(idx.locate("/name", false), at(2, 11));
        assert_eq!(idx.locate("/name", true), at(2, 3));
        assert_eq!(idx.locate("/steps/0", false), at(4, 5));
        assert_eq!(idx.locate("/steps/0/selector", true), at(4, 25));
        assert_eq!(idx.locate("/steps/1/a~1b/2", false), at(5, 24));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let idx = PositionIndex::build("{\"é\": \"😀\", \"b\": 1}").unwrap();
        assert_eq!(idx.locate("/b", true), at(1, 12));
    }

    #[test]
    fn missing_pointers_fall_back_to_the_parent() {
        let idx = PositionIndex::build(DOC).unwrap();
        assert_eq!(idx.locate("/steps/0/text", false), at(4, 5));
        assert_eq!(idx.locate("/nothing/here", true), at(1, 1));
    }

    #[test]
    fn escaped_keys_are_decoded() {
        let idx = PositionIndex::build(r#"{"a\"b": 1}"#).unwrap();
        assert_eq!(idx.locate("/a\"b", false), at(1, 10));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = PositionIndex::build("{\"steps\": [{\"a\": 1,\n \"a\": 2}]}").unwrap_err();
        assert_eq!(err.duplicate_key.as_deref(), Some("a"));
        assert_eq!(err.pointer, "/steps/0");
        assert_eq!(err.pos, at(2, 2));
    }

    #[test]
    fn syntax_errors_report_the_container() {
        let err = PositionIndex::build("{\"steps\": [{}, {\"a\": 1 \"b\": 2}]}").unwrap_err();
        assert_eq!(err.pointer, "/steps/1");
        assert_eq!(err.duplicate_key, None);
    }

    #[test]
    fn truncated_input_does_not_panic() {
        for text in ["", "{", "{\"a", "[1,", "{\"a\":", "\"\\"] {
            assert!(PositionIndex::build(text).is_err(), "{text:?}");
        }
    }
}
