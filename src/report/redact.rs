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

use base64::Engine as _;
use serde_json::Value;

use crate::classify::finding::{DataKind, Finding};

use super::model::Report;

/// What a secret is replaced with.
pub const SECRET_MASK: &str = "(secret withheld)";

/// Values shorter than this are not masked by `--redact`: masking `12` would mangle every number.
const MIN_REDACT_LEN: usize = 3;

/// Replaces the text between every `[[` and `]]` of an evidence excerpt with `mask`.
pub fn mask_marked(evidence: &str, mask: &str) -> String {
    let mut out = String::with_capacity(evidence.len());
    let mut rest = evidence;
    while let Some(start) = rest.find("[[") {
        out.push_str(&rest[..start + 2]);
        let after = &rest[start + 2..];
        match after.find("]]") {
            Some(end) => {
                out.push_str(mask);
                out.push_str("]]");
                rest = &after[end + 2..];
            }
            None => {
                // An unterminated marker: mask everything after it rather than leak.
                out.push_str(mask);
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Percent-encodes every byte outside RFC 3986's unreserved set.
fn percent_encode(value: &str, space_as_plus: bool, lower_hex: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' if space_as_plus => out.push('+'),
            _ if lower_hex => out.push_str(&format!("%{b:02x}")),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The forms in which a value commonly sits in a URL, header or body.
fn forms(value: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut forms = vec![
        value.to_string(),
        value.to_lowercase(),
        percent_encode(value, false, false),
        percent_encode(value, true, false),
        percent_encode(value, false, true),
        // Twice encoded: a page URL carried inside another URL's parameter.
        percent_encode(&percent_encode(value, true, false), false, false),
        percent_encode(&percent_encode(value, false, false), false, false),
        b64.encode(value),
        b64url.encode(value),
    ];
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

/// Replaces every form of every value in `replacements` (longest first) in one string.
fn replace_all(text: &str, replacements: &[(String, String)]) -> Option<String> {
    let mut changed = false;
    let mut out = text.to_string();
    for (needle, mask) in replacements {
        if !needle.is_empty() && out.contains(needle.as_str()) {
            out = out.replace(needle.as_str(), mask);
            changed = true;
        }
    }
    changed.then_some(out)
}

fn walk(value: &mut Value, replacements: &[(String, String)]) {
    match value {
        Value::String(s) => {
            if let Some(new) = replace_all(s, replacements) {
                *s = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, replacements)),
        Value::Object(map) => map.values_mut().for_each(|v| walk(v, replacements)),
        _ => {}
    }
}

/// Applies `replacements` to every string of the report.
fn rewrite(report: Report, replacements: &[(String, String)]) -> Report {
    if replacements.is_empty() {
        return report;
    }
    let typed_values = report.typed_values.clone();
    let spilled = report.spilled.clone();
    let fallback = report.clone();
    let rewritten = serde_json::to_value(&report).and_then(|mut v| {
        walk(&mut v, replacements);
        serde_json::from_value::<Report>(v)
    });
    match rewritten {
        Ok(mut r) => {
            r.spilled = spilled;
            r.typed_values = typed_values
                .into_iter()
                .filter_map(|t| match replace_all(&t, replacements) {
                    Some(_) => None,
                    None => Some(t),
                })
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
    match url[after_scheme..].find('/') {
        Some(i) => url[..after_scheme + i].to_string(),
        None => url.to_string(),
    }
}

/// Removes in-memory secret values from every string of the report.
pub fn scrub_secrets(report: Report, secrets: &[String]) -> Report {
    rewrite(report, &Scrubber::new(secrets).replacements)
}

/// [`scrub_secrets`] one finding at a time, for findings that never sit in a report in memory
/// (see [`crate::classify::spill`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Scrubber {
    /// (form of a secret, mask), longest form first.
    replacements: Vec<(String, String)>,
    /// The forms as they appear inside JSON strings.
    needles: Vec<Vec<u8>>,
}

impl Scrubber {
    pub(crate) fn new(secrets: &[String]) -> Scrubber {
        let mut replacements: Vec<(String, String)> = secrets
            .iter()
            .filter(|s| !s.is_empty())
            .flat_map(|s| forms(s))
            .map(|f| (f, SECRET_MASK.to_string()))
            .collect();
        replacements.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
        let needles = replacements
            .iter()
            .filter(|(f, _)| !f.is_empty())
            .map(|(f, _)| {
                let quoted = serde_json::to_string(f).unwrap_or_default();
                let inner = quoted
                    .strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .unwrap_or(&quoted);
                inner.as_bytes().to_vec()
            })
            .collect();
        Scrubber {
            replacements,
            needles,
        }
    }

    /// Whether a JSON text may hold a secret in one of its strings (escaping is per character,
    /// so a string holding a form holds its escaped text).
    pub(crate) fn may_hold_secret(&self, json: &[u8]) -> bool {
        self.needles
            .iter()
            .any(|n| memchr::memmem::find(json, n).is_some())
    }

    /// The finding with every form of every secret masked in all its strings.
    pub(crate) fn scrub_finding(&self, finding: Finding) -> Finding {
        let rewritten = serde_json::to_value(&finding).and_then(|mut v| {
            walk(&mut v, &self.replacements);
            serde_json::from_value::<Finding>(v)
        });
        match rewritten {
            Ok(f) => f,
            Err(e) => {
                // Cannot happen with the finding's types; if it ever does, drop what could
                // carry a value.
                tracing::error!("cannot rewrite finding strings ({e}); dropping evidence and URL");
                Finding {
                    value: None,
                    evidence: None,
                    request_url: origin_of(&finding.request_url),
                    ..finding
                }
            }
        }
    }
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
    /// (form of a value, label), longest form first.
    replacements: Vec<(String, String)>,
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
        let mut replacements: Vec<(String, String)> = labelled
            .iter()
            .flat_map(|(value, label)| forms(value).into_iter().map(|f| (f, label.clone())))
            .collect();
        replacements.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
        Redactor { replacements }
    }

    /// Masks every string inside a JSON value.
    pub fn mask_value(&self, value: &mut Value) {
        walk(value, &self.replacements);
    }

    /// Masks one string.
    pub fn mask_str(&self, text: &str) -> String {
        replace_all(text, &self.replacements).unwrap_or_else(|| text.to_string())
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
    fn masks_every_marked_span() {
        assert_eq!(
            mask_marked("a=[[x]]&b=[[yy]]", "M"),
            "a=[[M]]&b=[[M]]".to_string()
        );
        assert_eq!(mask_marked("p=[[hunter2", "M"), "p=[[M");
        assert_eq!(mask_marked("plain", "M"), "plain");
    }

    #[test]
    fn forms_cover_url_encodings() {
        let f = forms("Jane Doe@x");
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
