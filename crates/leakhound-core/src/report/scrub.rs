//! Scrubbing secret values that reached memory out of what reports write: the last line of
//! defence behind the capture's own masking (`crate::secret`).
//!
//! This file knows findings and JSON, not the report: the report model uses it (on each finding
//! as it is spilled, and on the whole report), and nothing here depends back on the model.

use crate::classify::finding::Finding;
use crate::secret::{all_forms, mask_json_strings, Replacer, WITHHELD};

/// Every form of every secret, to [`WITHHELD`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Scrubber {
    replacements: Replacer,
    /// The forms as they appear inside JSON strings.
    needles: Vec<Vec<u8>>,
}

impl Scrubber {
    pub(crate) fn new(secrets: &[String]) -> Scrubber {
        let replacements = Replacer::new(
            secrets
                .iter()
                .flat_map(|s| all_forms(s))
                .map(|f| (f, WITHHELD.to_string())),
        );
        let needles = replacements
            .needles()
            .iter()
            .map(|f| {
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

    /// The replacements, for rewriting a whole document.
    pub(crate) fn replacer(&self) -> &Replacer {
        &self.replacements
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
            mask_json_strings(&mut v, &self.replacements);
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

/// Scheme and host of a URL: what is left of a URL that may carry a value.
pub(crate) fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = url.get(after_scheme..).unwrap_or_default();
    match rest.find('/') {
        Some(i) => url.get(..after_scheme + i).unwrap_or(url).to_string(),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_text_holding_a_secret_is_recognised_in_any_form() {
        let scrubber = Scrubber::new(&["hunter 2\"".to_string()]);
        assert!(scrubber.may_hold_secret(br#"{"u":"https://t.test/?pw=hunter+2%22"}"#));
        assert!(scrubber.may_hold_secret(br#"{"e":"x=hunter 2\""}"#));
        assert!(!scrubber.may_hold_secret(br#"{"u":"https://t.test/?pw=hunter"}"#));
    }

    #[test]
    fn origin_keeps_scheme_and_host() {
        assert_eq!(origin_of("https://a.b/c?d"), "https://a.b");
        assert_eq!(origin_of("https://a.b"), "https://a.b");
    }
}
