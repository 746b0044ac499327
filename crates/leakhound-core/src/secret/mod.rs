//! Secrets: the one place that knows how a secret is marked, every form a value travels in, and
//! how secrets and canaries are masked.
//!
//! Three stages meet secrets and must agree on them:
//!
//! - the capture writer replaces every form of a password or secret in captured traffic by a
//!   marker ([`SecretMask`], [`marker`], [`marker_as`]) before anything is written;
//! - the classifier looks for those markers (a secret that left is a finding, without its value);
//! - the reports scrub any secret value that reached memory and, with `--redact`, mask canary
//!   values ([`Replacer`] over [`text_forms`], [`mask_marked`]).
//!
//! The forms are the same everywhere: the value itself; as a URL/form component (`+` or `%20` for
//! spaces, upper- or lower-case hex, every reserved byte encoded); encoded twice (a URL inside a
//! URL parameter); inside a JSON string; and what scripts make of it (base64, base64url, hex
//! digests: [`ENCODED_FORMS`]).

mod mask;

pub use mask::SecretMask;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The text leakhound writes in place of a secret's value wherever it appears in captured data.
/// The classifier reports a finding when it sees the marker in a third-party request; no output
/// ever contains the value.
pub fn marker(key: &str) -> String {
    format!("[LEAKHOUND-SECRET:{key}]")
}

/// Encoded forms of a secret that the capture writer also masks, each with its own marker
/// ([`marker_as`]) so that the classifier can still tell how the secret was sent.
pub const ENCODED_FORMS: &[&str] = &["base64", "base64url", "md5", "sha1", "sha256", "sha512"];

/// The marker written in place of a secret sent in `form` (one of [`ENCODED_FORMS`]).
pub fn marker_as(key: &str, form: &str) -> String {
    format!("[LEAKHOUND-SECRET:{key}|{form}]")
}

/// What a secret is replaced with in reports.
pub const WITHHELD: &str = "(secret withheld)";

/// Every byte outside RFC 3986's unreserved set (`A-Za-z0-9-_.~`).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `value` percent-encoded strictly (upper-case hex).
fn strict(value: &str) -> String {
    utf8_percent_encode(value, STRICT).to_string()
}

/// `value` as a form component (`application/x-www-form-urlencoded`: spaces as `+`).
fn component(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A string as it appears inside a JSON string literal (without the quotes).
fn json_inner(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_string()
}

/// The texts a value can appear as in a URL, header or body, before any script encodes it
/// (the scripts' encodings are [`encoded_forms`]). Longest first, no duplicates, no empty text.
pub fn text_forms(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    let component = component(value);
    let strict = strict(value);
    let mut forms = vec![
        value.to_string(),
        value.to_lowercase(),
        component.clone(),
        component.replace('+', "%20"),
        strict.clone(),
        strict.to_ascii_lowercase(),
        json_inner(value),
        // Twice encoded: a URL inside another URL's parameter.
        self::strict(&strict),
        self::strict(&component),
        self::component(&json_inner(value)),
    ];
    forms.retain(|f| !f.is_empty());
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

/// The encoded forms of `value` in [`ENCODED_FORMS`] order, each as the texts it can appear as.
pub fn encoded_forms(value: &str) -> Vec<(&'static str, Vec<String>)> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use sha2::Digest as _;
    let bytes = value.as_bytes();
    let hex = |digest: &[u8]| {
        let lower = hex::encode(digest);
        let upper = lower.to_ascii_uppercase();
        vec![lower, upper]
    };
    let forms = vec![
        (
            "base64",
            vec![STANDARD.encode(bytes), STANDARD_NO_PAD.encode(bytes)],
        ),
        (
            "base64url",
            vec![URL_SAFE.encode(bytes), URL_SAFE_NO_PAD.encode(bytes)],
        ),
        ("md5", hex(&md5::Md5::digest(bytes))),
        ("sha1", hex(&sha1::Sha1::digest(bytes))),
        ("sha256", hex(&sha2::Sha256::digest(bytes))),
        ("sha512", hex(&sha2::Sha512::digest(bytes))),
    ];
    debug_assert!(forms
        .iter()
        .map(|(f, _)| *f)
        .eq(ENCODED_FORMS.iter().copied()));
    forms
}

/// Every text a value can appear as: [`text_forms`] and what scripts make of it
/// ([`encoded_forms`]: base64, base64url, hex digests). What reports mask. Longest first.
pub fn all_forms(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    let mut forms = text_forms(value);
    forms.extend(
        encoded_forms(value)
            .into_iter()
            .flat_map(|(_, texts)| texts),
    );
    forms.retain(|f| !f.is_empty());
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

/// Replaces many needles in one pass (leftmost-longest, so a longer form wins over a shorter
/// one that starts at the same place, and a replacement is never searched again).
#[derive(Debug, Clone, Default)]
pub struct Replacer {
    needles: Vec<String>,
    replacements: Vec<String>,
    matcher: Option<aho_corasick::AhoCorasick>,
}

impl Replacer {
    /// From `(needle, replacement)` pairs; empty needles and repeated needles (the first wins)
    /// are dropped.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Replacer {
        let mut needles: Vec<String> = Vec::new();
        let mut replacements = Vec::new();
        for (needle, replacement) in pairs {
            if !needle.is_empty() && !needles.contains(&needle) {
                needles.push(needle);
                replacements.push(replacement);
            }
        }
        let matcher = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&needles)
            .ok()
            .filter(|_| !needles.is_empty());
        Replacer {
            needles,
            replacements,
            matcher,
        }
    }

    /// True when there is nothing to replace.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// The needles, in the order given.
    pub fn needles(&self) -> &[String] {
        &self.needles
    }

    /// `text` with every needle replaced, or `None` when it holds none.
    pub fn replace(&self, text: &str) -> Option<String> {
        match &self.matcher {
            Some(m) if m.is_match(text) => Some(m.replace_all(text, &self.replacements)),
            _ => None,
        }
    }
}

/// Applies `replacer` to every string inside a JSON value (object keys are leakhound's own and
/// stay as they are).
pub fn mask_json_strings(value: &mut serde_json::Value, replacer: &Replacer) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let Some(new) = replacer.replace(s) {
                *s = new;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| mask_json_strings(v, replacer)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| mask_json_strings(v, replacer)),
        _ => {}
    }
}

/// Replaces the text between every `[[` and `]]` of an evidence excerpt with `mask`. An
/// unterminated marker masks everything after it rather than leak.
pub fn mask_marked(evidence: &str, mask: &str) -> String {
    let mut out = String::with_capacity(evidence.len());
    let mut rest = evidence;
    while let Some((before, after)) = rest.split_once("[[") {
        out.push_str(before);
        out.push_str("[[");
        out.push_str(mask);
        match after.split_once("]]") {
            Some((_, tail)) => {
                out.push_str("]]");
                rest = tail;
            }
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_text_is_masked() {
        assert_eq!(mask_marked("a=[[x]]&b=[[yy]]", "M"), "a=[[M]]&b=[[M]]");
        assert_eq!(mask_marked("p=[[hunter2", "M"), "p=[[M");
        assert_eq!(mask_marked("plain", "M"), "plain");
    }

    #[test]
    fn text_forms_cover_url_json_and_double_encoding() {
        let forms = text_forms("p@ss w\"rd/é");
        for expected in [
            "p@ss w\"rd/é",
            "p%40ss+w%22rd%2F%C3%A9",
            "p%40ss%20w%22rd%2F%C3%A9",
            "p%40ss%20w%22rd%2f%c3%a9",
            "p@ss w\\\"rd/é",
            "p%2540ss%2520w%2522rd%252F%25C3%25A9",
        ] {
            assert!(
                forms.iter().any(|f| f == expected),
                "{expected} not in {forms:?}"
            );
        }
        assert!(text_forms("").is_empty());
    }

    #[test]
    fn the_longest_needle_wins_and_replacements_are_not_searched_again() {
        let r = Replacer::new([
            ("ab".to_string(), "[X]".to_string()),
            ("abc".to_string(), "[ab]".to_string()),
        ]);
        assert_eq!(r.replace("zabcab").as_deref(), Some("z[ab][X]"));
        assert_eq!(r.replace("none"), None);
        assert!(Replacer::new([]).is_empty());
    }
}
