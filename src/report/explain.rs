//! Plain-language explanations for readers who are not engineers.
//!
//! The HTML report is read by compliance officers and privacy counsel. They need to know, for each
//! kind of data, what it is and why a third party receiving it matters under HIPAA, in words, next
//! to the evidence.

use crate::classify::finding::{DataKind, Severity};

use super::policy::Decision;

/// A short title for a data kind, capitalised for headings.
pub fn kind_title(kind: DataKind) -> &'static str {
    match kind {
        DataKind::UrlPath => "Page address",
        DataKind::SearchTerm => "Search term",
        DataKind::Identifier => "Personal identifier",
        DataKind::PageTitle => "Page title",
        DataKind::FormInput => "Typed form input",
        DataKind::Credential => "Password or secret",
    }
}

/// What the data kind is, in one or two sentences.
pub fn kind_what(kind: DataKind) -> &'static str {
    match kind {
        DataKind::UrlPath => "The address of a page the patient visited on the hospital's site, such as /conditions/breast-cancer or /appointments/cardiology.",
        DataKind::SearchTerm => "Words the patient typed into a search box on the site, such as a symptom, a condition or a doctor's name.",
        DataKind::Identifier => "Something that identifies the patient: email address, name, phone number, date of birth, member number, postal address or ZIP code, sent as is or scrambled with a hash that vendors can match back.",
        DataKind::PageTitle => "The title of a page the patient visited, which often names the condition, treatment or department.",
        DataKind::FormInput => "Text the patient typed into a form that was sent to a third party before the patient pressed submit, typically by session-recording or key-logging scripts.",
        DataKind::Credential => "A password or other secret the patient typed. leakhound never shows its value.",
    }
}

/// Why it matters under HIPAA.
pub fn kind_why(kind: DataKind) -> &'static str {
    match kind {
        DataKind::UrlPath => "Combined with the IP address and cookies the browser sends, a page address tells the vendor that this person looked at this health topic. HHS guidance treats such tracking on pages about health conditions or care as a possible disclosure of protected health information (PHI).",
        DataKind::SearchTerm => "A health-related search reveals what the patient is worried about. Tied to the browser's identifiers, it is individually identifiable health information.",
        DataKind::Identifier => "An identifier ties everything else the vendor received — pages, searches, appointments — to a named person. Hashing does not protect it: advertising platforms match hashed emails and phone numbers to their users.",
        DataKind::PageTitle => "A title such as 'Book an HIV test' discloses the health topic just as the address does.",
        DataKind::FormInput => "The patient never chose to send this. Data typed into intake, booking or portal forms is often PHI, and capturing it before submission bypasses any consent the form asks for.",
        DataKind::Credential => "A leaked password gives a third party access to the patient's account and records. It is a security incident regardless of HIPAA.",
    }
}

/// Words for a severity.
pub fn severity_words(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "Low: little health context",
        Severity::Medium => "Medium: general health context",
        Severity::High => "High: sensitive page (portal, booking, search, condition or symptom)",
        Severity::Critical => {
            "Critical: identifies the patient or exposes a secret on a sensitive page"
        }
    }
}

/// What a policy decision means.
pub fn decision_words(decision: &Decision) -> String {
    match decision {
        Decision::Violation => "Violation: the policy does not permit this flow".to_string(),
        Decision::Allowed { reason: Some(r), .. } => format!("Allowed by policy: {r}"),
        Decision::Allowed { reason: None, rule } => format!("Allowed by policy (allow rule {rule})"),
        Decision::Ignored { reason, .. } => format!("Ignored: {reason}"),
        Decision::BelowThreshold => "Below the policy's severity threshold".to_string(),
        Decision::NotDelivered => {
            "Not delivered: the browser never confirmed it was sent, and the policy counts only delivered data".to_string()
        }
    }
}

/// Describes what a step did, for a reader who did not write the scenario.
pub fn action_words(action: &str) -> &'static str {
    match action {
        "goto" => "Opened a page",
        "click" => "Clicked",
        "type" => "Typed into a field",
        "press" => "Pressed a key",
        "select" => "Chose an option",
        "wait" => "Waited",
        "scroll" => "Scrolled",
        "submit" => "Submitted a form",
        "leave" => "Left the site",
        _ => "Step",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_explained() {
        for kind in DataKind::ALL {
            assert!(!kind_title(kind).is_empty());
            assert!(kind_what(kind).len() > 40);
            assert!(kind_why(kind).len() > 40);
        }
    }
}
