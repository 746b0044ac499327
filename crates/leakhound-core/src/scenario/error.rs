//! What goes wrong with a scenario file, said so the user can fix it without reading our code.
//!
//! Every problem found in a file becomes a [`Diagnostic`] that names the file, the line and column
//! (1-based, counted in characters as an editor shows them), the step when the problem is inside
//! `steps` and, when we can, a hint such as the list of valid fields.
//!
//! Steps are numbered as captures and reports number them: step 0 is opening `start_url`, so the
//! first entry of `steps` is step 1.

use std::fmt;

/// One problem at one place in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The step the problem is in, numbered as in captures: `steps[0]` is step 1.
    pub step: Option<usize>,
    /// That step's action, when it is a known one.
    pub action: Option<String>,
    pub message: String,
    /// What to do about it: valid names, a "did you mean", an example.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(step) = self.step {
            write!(f, "step {step}")?;
            if let Some(action) = &self.action {
                write!(f, " ({action})")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// Why a scenario could not be loaded or prepared for a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid scenario; the diagnostic says where and why.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    /// An identity value comes from an environment variable that is not set.
    #[error(
        "identity `{key}` ({kind}) is read from the environment variable {var}, which is not set \
         or empty; set it before running, e.g. `export {var}=...`"
    )]
    MissingEnv {
        key: String,
        kind: &'static str,
        var: String,
    },
    /// An identity entry built in code with neither a value nor a variable.
    #[error("identity `{key}` has neither a `value` nor an `env` variable")]
    NoValue { key: String },
}

impl ScenarioError {
    /// The located problem, when the file itself is invalid.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            ScenarioError::Invalid(d) => Some(d),
            _ => None,
        }
    }
}

impl From<Diagnostic> for ScenarioError {
    fn from(d: Diagnostic) -> Self {
        ScenarioError::Invalid(Box::new(d))
    }
}

/// A problem found before we know its line and column: where it is, as a JSON pointer into the
/// document, and what it is. `parse` turns it into a [`Diagnostic`] with the position index, so the
/// checks themselves never deal with text positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// JSON pointer (`/steps/3/text`) of the offending value or member.
    pub pointer: String,
    /// Point at the member's key rather than its value (unknown or surplus fields).
    pub at_key: bool,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub(crate) fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            pointer: pointer.into(),
            at_key: false,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn at_key(mut self) -> Self {
        self.at_key = true;
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Escapes one JSON pointer token (`~` → `~0`, `/` → `~1`).
pub(crate) fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// "did you mean `x`?" when one of `candidates` is close to `given`.
pub(crate) fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(given, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len().max(given.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_step_action_and_hint() {
        let d = Diagnostic {
            file: "scenarios/x.json".into(),
            line: 14,
            column: 7,
            step: Some(3),
            action: Some("type".into()),
            message: "unknown field `txt`".into(),
            hint: Some("valid fields: selector, text".into()),
        };
        assert_eq!(
            d.to_string(),
            "scenarios/x.json:14:7: step 3 (type): unknown field `txt`; valid fields: selector, text"
        );
    }

    #[test]
    fn display_without_step() {
        let d = Diagnostic {
            file: "a.json".into(),
            line: 1,
            column: 2,
            step: None,
            action: None,
            message: "boom".into(),
            hint: None,
        };
        assert_eq!(d.to_string(), "a.json:1:2: boom");
    }

    #[test]
    fn suggestions_are_close_names_only() {
        let names = ["goto", "click", "type", "press"];
        assert_eq!(
            did_you_mean("tpye", names).as_deref(),
            Some("did you mean `type`?")
        );
        assert_eq!(
            did_you_mean("clik", names).as_deref(),
            Some("did you mean `click`?")
        );
        assert_eq!(did_you_mean("navigate", names), None);
        assert_eq!(did_you_mean("zz", names), None);
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(pointer_token("a/b~c"), "a~1b~0c");
    }
}
