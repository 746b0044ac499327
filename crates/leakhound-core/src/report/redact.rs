//! `--redact`: masking the journey's canary values (identity, typed text) in reports that will be
//! shared widely. Page paths and titles are the site's own content and stay readable.
//!
//! It works on the report's JSON form, string by string, so no field (labels, URLs, evidence,
//! canary keys such as `search:chest pain`) can be forgotten when the model grows. Secrets are
//! another promise, kept everywhere whether or not `--redact` is given: see `super::scrub` and
//! `crate::secret`.

use serde_json::Value;

use crate::classify::finding::DataKind;
use crate::secret::{all_forms, mask_json_strings, mask_marked, Replacer};

use super::model::Report;

/// Values shorter than this are not masked by `--redact`: masking `12` would mangle every number.
const MIN_REDACT_LEN: usize = 3;

/// Kinds whose marked evidence is the user's own value (not site content).
fn is_user_value(kind: DataKind) -> bool {
    matches!(
        kind,
        DataKind::Identifier | DataKind::SearchTerm | DataKind::FormInput | DataKind::Credential
    )
}

/// Masks canary values everywhere, for reports that will be shared widely.
///
/// Identity values become `[redacted:KEY]`, other typed or leaked user values `[redacted:N]`, so the
/// same value keeps the same label throughout the report.
pub fn redact(report: Report) -> Report {
    Redactor::new(&report).apply(report)
}

/// The masking rules of one report, reusable on other documents of the same run (the HAR export).
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Every form of every value, to its label.
    replacements: Replacer,
}

impl Redactor {
    /// Collects the values to mask: identity canaries, typed text, and leaked user values.
    pub fn new(report: &Report) -> Redactor {
        let mut labelled: Vec<(String, String)> = Vec::new();
        let add = |value: &str, label: String, list: &mut Vec<(String, String)>| {
            if value.chars().count() >= MIN_REDACT_LEN && !list.iter().any(|(v, _)| v == value) {
                list.push((value.to_string(), label));
            }
        };
        for canary in &report.journey.identity {
            if let Some(v) = &canary.value {
                add(v, format!("[redacted:{}]", canary.key), &mut labelled);
            }
        }
        let mut others: Vec<String> = report.typed_values.clone();
        for f in &report.findings {
            if is_user_value(f.kind) {
                others.extend(f.value.clone());
            }
        }
        for g in &report.groups {
            if is_user_value(g.kind) {
                others.extend(g.value.clone());
            }
        }
        let mut n = 0;
        for v in others {
            if !labelled.iter().any(|(known, _)| *known == v) {
                n += 1;
                add(&v, format!("[redacted:{n}]"), &mut labelled);
            }
        }
        let replacements =
            Replacer::new(labelled.iter().flat_map(|(value, label)| {
                all_forms(value).into_iter().map(|f| (f, label.clone()))
            }));
        Redactor { replacements }
    }

    /// Masks every string inside a JSON value.
    pub fn mask_value(&self, value: &mut Value) {
        mask_json_strings(value, &self.replacements);
    }

    /// Masks one string.
    pub fn mask_str(&self, text: &str) -> String {
        self.replacements
            .replace(text)
            .unwrap_or_else(|| text.to_string())
    }

    /// Masks the report.
    pub fn apply(&self, mut report: Report) -> Report {
        for f in &mut report.findings {
            if is_user_value(f.kind) {
                f.value = None;
                if let Some(e) = &f.evidence {
                    f.evidence = Some(mask_marked(e, "redacted"));
                }
            }
        }
        for g in &mut report.groups {
            if is_user_value(g.kind) {
                g.value = None;
            }
        }
        for canary in &mut report.journey.identity {
            canary.value = None;
        }
        let mut report = report.rewrite_strings(&self.replacements);
        report.redacted = true;
        report.typed_values.clear();
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_cover_url_encodings() {
        let f = all_forms("Jane Doe@x");
        assert!(f.contains(&"Jane%20Doe%40x".to_string()));
        assert!(f.contains(&"Jane+Doe%40x".to_string()));
        assert!(f.contains(&"jane doe@x".to_string()));
    }
}
