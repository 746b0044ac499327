//! The identity file for `leakhound analyze FILE.har --identity identity.json`.
//!
//! A HAR recorded in any browser has no journey header, so the user says which values are canaries:
//!
//! ```json
//! {
//!   "name": "Portal login, recorded by hand",
//!   "start_url": "https://www.mercy.test/",
//!   "first_party": ["mercy-cdn.test"],
//!   "sensitive_pages": ["/portal/"],
//!   "identity": {
//!     "email": {"kind": "email", "value": "jane.q.patient@gmail.com"},
//!     "password": {"kind": "password", "env": "LEAKHOUND_PASSWORD"}
//!   },
//!   "typed": [{"value": "Jane", "selector": "#first-name"}],
//!   "search_terms": ["chest pain"]
//! }
//! ```
//!
//! Everything but `identity` is optional. Secrets (`password`, `secret`) take their value from the
//! environment variable `env` (or an inline `value`); it stays in memory.
//!
//! It lives beside the scenario parser because it is the same identity model: an entry is a
//! scenario's [`IdentityValue`], resolved by the same rule ([`IdentityValue::resolve`]), and
//! `leakhound run --identity FILE` merges it into scenarios.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::capture::record::{Canary, JourneyInfo, Record, TypedValue};

use super::model::IdentityValue;
use super::ScenarioError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    #[error("cannot read identity file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid identity file {path}: field `{field}`: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// A value typed during the recorded session.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TypedEntry {
    pub value: String,
    #[serde(default)]
    pub search: bool,
    #[serde(default)]
    pub selector: Option<String>,
    #[serde(default)]
    pub field: String,
}

/// The whole file.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct IdentityFile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub start_url: Option<String>,
    #[serde(default)]
    pub first_party: Vec<String>,
    #[serde(default)]
    pub sensitive_pages: Vec<String>,
    #[serde(default)]
    pub identity: BTreeMap<String, IdentityValue>,
    #[serde(default)]
    pub typed: Vec<TypedEntry>,
    #[serde(default)]
    pub search_terms: Vec<String>,
}

impl IdentityFile {
    pub fn load(path: &Path) -> Result<IdentityFile, IdentityError> {
        let text = std::fs::read_to_string(path).map_err(|source| IdentityError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        // Comments, as in scenarios (blanked out, so positions stay those of the file).
        let text =
            super::jsonc::blank_comments(text.trim_start_matches('\u{feff}')).map_err(|e| {
                IdentityError::Invalid {
                    path: path.to_path_buf(),
                    field: String::new(),
                    message: format!(
                        "unclosed /* comment starting at line {}, column {}",
                        e.line, e.column
                    ),
                }
            })?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let file: IdentityFile =
            serde_path_to_error::deserialize(de).map_err(|e| IdentityError::Invalid {
                path: path.to_path_buf(),
                field: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        for (key, entry) in &file.identity {
            if entry.value.is_none() && entry.env.is_none() {
                return Err(IdentityError::Invalid {
                    path: path.to_path_buf(),
                    field: format!("identity.{key}"),
                    message: "needs `value` or `env`".into(),
                });
            }
            if !entry.kind.is_secret() && entry.value.is_none() {
                return Err(IdentityError::Invalid {
                    path: path.to_path_buf(),
                    field: format!("identity.{key}.value"),
                    message: "only passwords and secrets may come from `env`".into(),
                });
            }
        }
        Ok(file)
    }

    /// Adds this file's identity values (where the scenario has no value of that key), first
    /// parties and sensitive pages to a scenario, for `leakhound run --identity FILE`.
    pub fn merge_into(&self, scenario: &mut super::model::Scenario) {
        for (key, e) in &self.identity {
            scenario
                .identity
                .entry(key.clone())
                .or_insert_with(|| e.clone());
        }
        for d in &self.first_party {
            if !scenario.first_party.contains(d) {
                scenario.first_party.push(d.clone());
            }
        }
        for p in &self.sensitive_pages {
            if !scenario.sensitive_pages.contains(p) {
                scenario.sensitive_pages.push(p.clone());
            }
        }
    }

    /// The journey as the classifier sees it. Secret values are left out (`value: None`).
    pub fn journey(&self) -> JourneyInfo {
        JourneyInfo {
            name: self.name.clone().unwrap_or_else(|| "HAR import".into()),
            start_url: self.start_url.clone().unwrap_or_default(),
            first_party: self.first_party.clone(),
            sensitive_pages: self.sensitive_pages.clone(),
            identity: self
                .identity
                .iter()
                .map(|(key, e)| Canary {
                    key: key.clone(),
                    kind: e.kind,
                    value: if e.kind.is_secret() {
                        None
                    } else {
                        e.value.clone()
                    },
                    env: e.env.clone(),
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Secret values by key, from the file or the environment, by the rule scenarios use
    /// ([`IdentityValue::resolve`]): a secret read from a variable that is not set is an error,
    /// never silently left out (its leaks could not be found).
    pub fn secrets(&self) -> Result<BTreeMap<String, String>, ScenarioError> {
        let env = |name: &str| std::env::var(name).ok();
        self.identity
            .iter()
            .filter(|(_, e)| e.kind.is_secret())
            .map(|(key, e)| Ok((key.clone(), e.resolve(key, env)?)))
            .collect()
    }

    /// The typed values and search terms as `typed` records (step 0: a HAR has no steps).
    pub fn typed_records(&self) -> Vec<Record> {
        let typed = self.typed.iter().enumerate().map(|(i, t)| TypedValue {
            step: 0,
            selector: t.selector.clone().unwrap_or_else(|| format!("typed[{i}]")),
            field: t.field.clone(),
            is_search: t.search,
            canary_key: None,
            value: Some(t.value.clone()),
            time_ms: 0.0,
        });
        let searches = self
            .search_terms
            .iter()
            .enumerate()
            .map(|(i, s)| TypedValue {
                step: 0,
                selector: format!("search[{i}]"),
                field: String::new(),
                is_search: true,
                canary_key: None,
                value: Some(s.clone()),
                time_ms: 0.0,
            });
        typed.chain(searches).map(Record::Typed).collect()
    }
}

/// Reads an identity file into the journey the classifier uses.
pub fn load_identity(path: &Path) -> Result<JourneyInfo, IdentityError> {
    Ok(IdentityFile::load(path)?.journey())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity.json");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn loads_identity_and_secrets() {
        let (_d, path) = write(
            r#"{"start_url": "https://www.mercy.test/",
                "identity": {"email": {"kind": "email", "value": "a@b.test"},
                             "pw": {"kind": "password", "value": "s3cret-value"}},
                "search_terms": ["chest pain"]}"#,
        );
        let file = IdentityFile::load(&path).unwrap();
        let j = file.journey();
        assert_eq!(j.start_url, "https://www.mercy.test/");
        let pw = j.identity.iter().find(|c| c.key == "pw").unwrap();
        assert!(pw.value.is_none());
        assert_eq!(
            file.secrets().unwrap().get("pw").map(String::as_str),
            Some("s3cret-value")
        );
        assert_eq!(file.typed_records().len(), 1);
        assert_eq!(load_identity(&path).unwrap(), j);
    }

    #[test]
    fn errors_name_the_field() {
        let (_d, path) = write(r#"{"identity": {"email": {"kind": "emial", "value": "x"}}}"#);
        let err = IdentityFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("identity.email.kind"), "{err}");
        let (_d, path) = write(r#"{"identity": {"email": {"kind": "email", "env": "X"}}}"#);
        let err = IdentityFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("identity.email.value"), "{err}");
    }

    #[test]
    fn a_secret_from_an_unset_variable_is_an_error_as_in_scenarios() {
        let (_d, path) = write(
            r#"{"identity": {"pw": {"kind": "password", "env": "LEAKHOUND_TEST_SURELY_UNSET_VAR"}}}"#,
        );
        let file = IdentityFile::load(&path).unwrap();
        let err = file.secrets().unwrap_err().to_string();
        assert!(err.contains("LEAKHOUND_TEST_SURELY_UNSET_VAR"), "{err}");
        assert!(err.contains("`pw`"), "{err}");
    }
}
