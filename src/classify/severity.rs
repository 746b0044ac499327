//! HIPAA-aware severity.
//!
//! HHS/OCR treats an identifier (every request carries the user's IP address) sent together with a
//! page about a condition, a doctor or appointment search, a booking, or anything behind a patient
//! portal login as protected health information. The rule, in order:
//!
//! | finding | severity |
//! |---|---|
//! | `credential` | critical |
//! | `search_term` | high (a search on a health site is a doctor/condition search) |
//! | `url_path`, `page_title` of a sensitive page | high |
//! | `url_path` with a query string, of another page | medium |
//! | `url_path`, `page_title` of another page | low |
//! | `identifier`, `form_input` sent from a sensitive page | high |
//! | `identifier`, `form_input` elsewhere | medium |
//!
//! A page is sensitive when the scenario lists it in `sensitive_pages` (substring, or `*` glob on the
//! URL), or when its path or query mentions a portal/login/account, appointment/booking/scheduling,
//! search, or a condition/symptom/disease/treatment/doctor-finder topic.

use crate::classify::finding::{DataKind, Severity};
use crate::classify::signatures::glob_matches;

/// Words in a path or query that make a health-site page sensitive.
const SENSITIVE_WORDS: &[&str] = &[
    "portal",
    "login",
    "log-in",
    "signin",
    "sign-in",
    "account",
    "mychart",
    "patient",
    "appointment",
    "booking",
    "book-",
    "/book",
    "schedule",
    "scheduling",
    "search",
    "find-a-doctor",
    "find-a-provider",
    "findadoctor",
    "doctor",
    "provider",
    "physician",
    "condition",
    "symptom",
    "disease",
    "treatment",
    "diagnos",
    "medication",
    "prescription",
    "pharmacy",
    "cancer",
    "oncology",
    "cardiology",
    "pregnan",
    "abortion",
    "hiv",
    "mental-health",
    "behavioral",
    "addiction",
    "telehealth",
    "billing",
];

/// True when `url` is a page a compliance team must treat as sensitive.
pub fn page_is_sensitive(url: &str, patterns: &[String]) -> bool {
    if patterns.iter().any(|p| {
        !p.is_empty() && (url.contains(p.as_str()) || (p.contains('*') && glob_matches(p, url)))
    }) {
        return true;
    }
    let lower = url.to_ascii_lowercase();
    // Only the part after the host: a hospital's domain name says nothing about the page.
    let rest = match lower.find("://") {
        Some(pos) => {
            let after = &lower[pos + 3..];
            after.find('/').map_or("", |i| &after[i..])
        }
        None => lower.as_str(),
    };
    SENSITIVE_WORDS.iter().any(|w| rest.contains(w))
}

/// Severity of one finding.
///
/// `page_sensitive` is about the page the value belongs to (url_path, page_title) or the page that
/// was open when the request left (identifier, form_input).
pub fn severity(kind: DataKind, page_sensitive: bool, has_query: bool) -> Severity {
    match kind {
        DataKind::Credential => Severity::Critical,
        DataKind::SearchTerm => Severity::High,
        DataKind::UrlPath | DataKind::PageTitle if page_sensitive => Severity::High,
        DataKind::UrlPath if has_query => Severity::Medium,
        DataKind::UrlPath | DataKind::PageTitle => Severity::Low,
        DataKind::Identifier | DataKind::FormInput if page_sensitive => Severity::High,
        DataKind::Identifier | DataKind::FormInput => Severity::Medium,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_pages_are_sensitive() {
        assert!(page_is_sensitive("https://h.test/symptoms/chest-pain", &[]));
        assert!(page_is_sensitive("https://h.test/find-a-doctor?q=x", &[]));
        assert!(page_is_sensitive("https://h.test/portal/login", &[]));
        assert!(page_is_sensitive("/appointments/book", &[]));
        assert!(!page_is_sensitive("https://h.test/about-us", &[]));
        assert!(!page_is_sensitive("https://search-health.test/", &[]));
        assert!(page_is_sensitive(
            "https://h.test/visit/7",
            &["/visit/".into()]
        ));
        assert!(page_is_sensitive("https://h.test/a/7/b", &["*/7/*".into()]));
    }

    #[test]
    fn severity_table() {
        assert_eq!(
            severity(DataKind::Credential, false, false),
            Severity::Critical
        );
        assert_eq!(severity(DataKind::SearchTerm, false, false), Severity::High);
        assert_eq!(severity(DataKind::UrlPath, true, false), Severity::High);
        assert_eq!(severity(DataKind::UrlPath, false, true), Severity::Medium);
        assert_eq!(severity(DataKind::UrlPath, false, false), Severity::Low);
        assert_eq!(severity(DataKind::Identifier, true, false), Severity::High);
        assert_eq!(
            severity(DataKind::Identifier, false, false),
            Severity::Medium
        );
        assert_eq!(severity(DataKind::PageTitle, false, false), Severity::Low);
    }
}
