//! Keeping secrets and (on request) canary values out of every output.
//!
//! Two different promises live here:
//! - Secrets (passwords) never appear anywhere, redacted or not. The capture already replaces them
//!   by a marker; [`scrub_secrets`] is the last line of defence for values that reached memory.
//! - `--redact` masks the journey's canary values (identity, typed text) for reports shared widely.
//!   Page paths and titles are the site's own content and stay readable.
//!
//! Both work on the report's JSON form, string by string, so no field (labels, URLs, evidence, canary
//! keys such as `search:chest pain`) can be forgotten when the model grows.

use serde_json::Value;

use crate::classify::finding::DataKind;
use crate::secret::{mask_marked, text_forms, Replacer, WITHHELD};

use super::model::Report;

/// Values shorter than this are not masked by `--redact`: masking `12` would mangle every number.
const MIN_REDACT_LEN: usize = 3;

fn walk(value: &mut Value, replacements: &Replacer) {
    match value {
        Value::String(s) => {
            if let Some(new) = replacements.replace(s) {
                *s = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, replacements)),
        Value::Object(map) => map.values_mut().for_each(|v| walk(v, replacements)),
        _ => {}
    }
}

/// Applies `replacements` to every string of the report.
fn rewrite(report: Report, replacements: &Replacer) -> Report {
    if replacements.is_empty() {
        return report;
    }
    let typed_values = report.typed_values.clone();
    let fallback = report.clone();
    let rewritten = serde_json::to_value(&report).and_then(|mut v| {
        walk(&mut v, replacements);
        serde_json::from_value::<Report>(v)
    });
    match rewritten {
        Ok(mut r) => {
            r.typed_values = typed_values
                .into_iter()
                .filter(|t| replacements.replace(t).is_none())
                .collect();
            r
        }
        Err(e) => {
            // Cannot happen with the report's types; if it ever does, drop what could carry a value.
            tracing::error!("cannot rewrite report strings ({e}); dropping evidence and URLs");
            strip_payloads(fallback)
        }
    }
}

fn strip_payloads(mut report: Report) -> Report {
    for f in &mut report.findings {
        f.value = None;
        f.evidence = None;
        f.request_url = origin_of(&f.request_url);
    }
    for g in &mut report.groups {
        g.value = None;
    }
    report.typed_values.clear();
    report
}

fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = url.get(after_scheme..).unwrap_or_default();
    match rest.find('/') {
        Some(i) => url.get(..after_scheme + i).unwrap_or(url).to_string(),
        None => url.to_string(),
    }
}

/// Removes in-memory secret values from every string of the report.
pub fn scrub_secrets(report: Report, secrets: &[String]) -> Report {
    let replacements = Replacer::new(
        secrets
            .iter()
            .flat_map(|s| text_forms(s))
            .map(|f| (f, WITHHELD.to_string())),
    );
    rewrite(report, &replacements)
}

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
                text_forms(value).into_iter().map(|f| (f, label.clone()))
            }));
        Redactor { replacements }
    }

    /// Masks every string inside a JSON value.
    pub fn mask_value(&self, value: &mut Value) {
        walk(value, &self.replacements);
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
        let mut report = rewrite(report, &self.replacements);
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
        let f = text_forms("Jane Doe@x");
        assert!(f.contains(&"Jane%20Doe%40x".to_string()));
        assert!(f.contains(&"Jane+Doe%40x".to_string()));
        assert!(f.contains(&"jane doe@x".to_string()));
    }

    #[test]
    fn origin_keeps_scheme_and_host() {
        assert_eq!(origin_of("https://a.b/c?d"), "https://a.b");
        assert_eq!(origin_of("https://a.b"), "https://a.b");
    }
}
