//! Plain-language explanations for readers who are not engineers.
//!
//! The HTML report is read by compliance officers and privacy counsel. They need to know, for each
//! kind of data, what it is and why a third party receiving it matters under HIPAA, in words, next
//! to the evidence.

use std::fmt::Write as _;

use crate::classify::finding::{DataKind, Severity};
use crate::classify::severity::{judge_one, Facts, Regime};

use super::model::Report;
use super::policy::Decision;

/// A finding's id as `explain` takes it: `F` and its 1-based position in the report's findings.
pub fn finding_id(index: usize) -> String {
    format!("F{}", index + 1)
}

/// What an id given to `explain` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingRef {
    /// A finding, 0-based.
    Finding(usize),
    /// A group, 0-based as in the HTML report's `group-N` anchors.
    Group(usize),
}

/// Parses `F12` or `12` (1-based, see [`finding_id`]), or `G3` / `group-3`.
pub fn parse_finding_id(id: &str) -> Option<FindingRef> {
    let id = id.trim();
    let group = id
        .strip_prefix("group-")
        .or_else(|| id.strip_prefix('G'))
        .or_else(|| id.strip_prefix('g'));
    if let Some(g) = group {
        return g.parse().ok().map(FindingRef::Group);
    }
    let n: usize = id
        .strip_prefix('F')
        .or_else(|| id.strip_prefix('f'))
        .unwrap_or(id)
        .parse()
        .ok()?;
    n.checked_sub(1).map(FindingRef::Finding)
}

/// The finding index an id names in `report` (a group names its first finding).
pub fn resolve_finding_id(report: &Report, id: &str) -> Option<usize> {
    match parse_finding_id(id)? {
        FindingRef::Group(g) => report.findings_of_group(g).first().copied(),
        FindingRef::Finding(i) => (i < report.findings.len()).then_some(i),
    }
}

/// The rule chain for one finding, as plain text: what left, where to, which page and why the
/// model finds it sensitive or not, each regime's severity and sentence, and the policy decision.
pub fn explain_finding(report: &Report, index: usize) -> Option<String> {
    let f = report.findings.get(index)?;
    let mut out = String::new();
    let value = match (&f.value, f.kind) {
        (_, DataKind::Credential) => "(never shown)".to_string(),
        (Some(v), _) => format!("\"{v}\""),
        (None, _) => "(redacted)".to_string(),
    };
    let _ = writeln!(
        out,
        "{} — {} {} ({})",
        finding_id(index),
        kind_title(f.kind),
        value,
        f.canary
    );
    if !f.name_parts.is_empty() {
        let _ = writeln!(out, "  name parts:    {}", f.name_parts.join(", "));
    }
    let _ = writeln!(
        out,
        "  sent to:       {} ({}), host {}",
        report.party_name(&f.domain),
        f.domain,
        f.host
    );
    let _ = writeln!(
        out,
        "  through:       {}{}, encoding {}",
        f.channel,
        f.parameter_meaning
            .as_ref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default(),
        f.encoding_label()
    );
    let _ = writeln!(
        out,
        "  when:          step {} {}, page {}",
        f.step,
        if f.step_label.is_empty() {
            String::new()
        } else {
            format!("\"{}\"", f.step_label)
        },
        f.page_url
    );
    let _ = writeln!(out, "  request:       {} {}", f.method, f.request_url);
    for a in &f.also_matched {
        let _ = writeln!(
            out,
            "  same bytes:    also {} {} — one disclosure, reported once under the more specific kind",
            kind_title(a.kind).to_lowercase(),
            a.canary
        );
    }
    if let Some(ev) = &f.evidence {
        let _ = writeln!(out, "  evidence:      {ev}");
    }
    match &f.page_context {
        Some(page) => {
            let _ = writeln!(
                out,
                "  page:          {} — {}",
                page.category.phrase(),
                page.reason
            );
            let regimes: Vec<Regime> = if report.policy.regimes.is_empty() {
                vec![Regime::Hipaa]
            } else {
                report.policy.regimes.clone()
            };
            for r in regimes {
                let j = judge_one(r, Facts { kind: f.kind, page });
                let _ = writeln!(
                    out,
                    "  {:<14} {} — {}",
                    format!("{}:", r.as_str()),
                    j.severity.as_str(),
                    j.rule
                );
            }
        }
        None => {
            let _ = writeln!(out, "  page:          (no page context in this report)");
        }
    }
    let _ = writeln!(
        out,
        "  severity:      {}{}",
        severity_words(f.severity),
        f.regime
            .map(|r| format!(" (from {})", r.as_str()))
            .unwrap_or_default()
    );
    if let Some(d) = report.decision(index) {
        let _ = writeln!(out, "  policy:        {}", decision_words(d));
    }
    Some(out)
}

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
        Severity::Info => {
            "Info: not health information (a general page); recorded, not a violation"
        }
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
    fn finding_ids_round_trip() {
        assert_eq!(
            parse_finding_id(&finding_id(2)),
            Some(FindingRef::Finding(2))
        );
        assert_eq!(parse_finding_id("1"), Some(FindingRef::Finding(0)));
        assert_eq!(parse_finding_id("group-3"), Some(FindingRef::Group(3)));
        assert_eq!(parse_finding_id("G0"), Some(FindingRef::Group(0)));
        assert_eq!(parse_finding_id("F0"), None);
        assert_eq!(parse_finding_id("x"), None);
    }

    #[test]
    fn every_kind_is_explained() {
        for kind in DataKind::ALL {
            assert!(!kind_title(kind).is_empty());
            assert!(kind_what(kind).len() > 40);
            assert!(kind_why(kind).len() > 40);
        }
    }
}
