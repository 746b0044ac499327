//! The severity model: what a page is, and how grave a flow is under each regulatory regime.
//!
//! Two steps, both pure. [`page_context`] says what kind of page a URL is (a patient portal, a
//! booking or search page, a page about a condition, a general page such as the home page or
//! careers) and *why*, in words a reader can check. [`judge`] then sizes a finding under the
//! regimes a policy names (`docs/regulation.md`): each regime gives a severity and one plain
//! sentence naming the rule and its source; the finding takes the highest. The sentences are
//! indicators with their source, never legal conclusions.
//!
//! Under HIPAA (the default regime), in short:
//!
//! | finding | severity |
//! |---|---|
//! | `credential` | critical |
//! | `search_term`, `form_input` (data the user entered) | high |
//! | `url_path`, `page_title` of a portal, booking, search or listed page | high |
//! | `url_path`, `page_title` of a public condition page (after AHA v. Becerra) | medium |
//! | `identifier` sent from a sensitive page | high, elsewhere medium |
//! | `url_path`, `page_title` of a general page (home, about, careers, news, visiting hours) | info |
//!
//! A page listed in the scenario's `sensitive_pages` (substring, or `*` glob on the URL) is
//! always sensitive.

use serde::{Deserialize, Serialize};

use crate::classify::finding::{DataKind, Severity};
use crate::classify::signatures::glob_matches;

/// What kind of page a URL is, for severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PageCategory {
    /// Listed in the scenario's `sensitive_pages`.
    Listed,
    /// Behind or at a patient-portal login, an account or billing page.
    Portal,
    /// Appointment booking or scheduling.
    Booking,
    /// A search, or a doctor/provider finder.
    Search,
    /// A page about a condition, symptom, treatment or service line.
    Condition,
    /// The home page or a general page (about, careers, news, visiting hours, ...).
    General,
    /// Nothing in its address says health, search, booking or login.
    Other,
}

impl PageCategory {
    /// Whether flows from or about such a page are health information.
    pub fn is_sensitive(self) -> bool {
        !matches!(self, PageCategory::General | PageCategory::Other)
    }

    /// A phrase for rule sentences: "a patient-portal page".
    pub fn phrase(self) -> &'static str {
        match self {
            PageCategory::Listed => "a page the audit marks sensitive",
            PageCategory::Portal => "a patient-portal (authenticated) page",
            PageCategory::Booking => "an appointment-booking page",
            PageCategory::Search => "a search or doctor-finder page",
            PageCategory::Condition => "a public page about a condition or treatment",
            PageCategory::General => "a general page",
            PageCategory::Other => "a page without health context",
        }
    }
}

/// A page's category and the reason the model gives for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageContext {
    pub category: PageCategory,
    /// Why, e.g. `address mentions "portal"`, `the site's home page`.
    pub reason: String,
}

impl PageContext {
    pub fn is_sensitive(&self) -> bool {
        self.category.is_sensitive()
    }
}

/// Words that put a page in a category, checked in this order (the first match wins).
const PORTAL_WORDS: &[&str] = &[
    "portal",
    "login",
    "log-in",
    "signin",
    "sign-in",
    "mychart",
    "account",
    "billing",
    "dashboard",
];
const BOOKING_WORDS: &[&str] = &[
    "appointment",
    "booking",
    "book-",
    "/book",
    "schedule",
    "scheduling",
    "telehealth",
];
const SEARCH_WORDS: &[&str] = &[
    "search",
    "find-a-doctor",
    "find-a-provider",
    "findadoctor",
    "doctor",
    "provider",
    "physician",
];
const CONDITION_WORDS: &[&str] = &[
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
];
/// General pages: HHS's own examples of pages that are not PHI (visiting hours, job postings),
/// and their kin.
const GENERAL_WORDS: &[&str] = &[
    "about",
    "career",
    "jobs",
    "news",
    "visiting",
    "visitor",
    "contact",
    "location",
    "directions",
    "parking",
    "donate",
    "foundation",
    "volunteer",
    "press",
    "media",
    "events",
    "blog",
    "leadership",
    "history",
    "mission",
    "privacy",
    "terms",
    "accessibility",
];
/// Weak portal words, checked after the general ones ("patients-visitors/visiting-hours" is a
/// general page).
const WEAK_PORTAL_WORDS: &[&str] = &["patient"];

/// What kind of page `url` is (a full URL, or a `path?query`), and why.
pub fn page_context(url: &str, patterns: &[String]) -> PageContext {
    if let Some(p) = patterns.iter().find(|p| {
        !p.is_empty() && (url.contains(p.as_str()) || (p.contains('*') && glob_matches(p, url)))
    }) {
        return PageContext {
            category: PageCategory::Listed,
            reason: format!("listed in sensitive_pages (\"{p}\")"),
        };
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
    let by_words = |words: &[&str], category: PageCategory| {
        words
            .iter()
            .find(|w| rest.contains(*w))
            .map(|w| PageContext {
                category,
                reason: format!("address mentions \"{}\"", w.trim_matches(['/', '-'])),
            })
    };
    if let Some(c) = by_words(PORTAL_WORDS, PageCategory::Portal)
        .or_else(|| by_words(BOOKING_WORDS, PageCategory::Booking))
        .or_else(|| by_words(SEARCH_WORDS, PageCategory::Search))
        .or_else(|| by_words(CONDITION_WORDS, PageCategory::Condition))
    {
        return c;
    }
    let path = rest.split(['?', '#']).next().unwrap_or("");
    if matches!(path, "" | "/" | "/index.html" | "/index.htm" | "/home") {
        return PageContext {
            category: PageCategory::General,
            reason: "the site's home page".into(),
        };
    }
    if let Some(mut c) = by_words(GENERAL_WORDS, PageCategory::General) {
        c.reason = format!("general information page ({})", c.reason);
        return c;
    }
    if let Some(c) = by_words(WEAK_PORTAL_WORDS, PageCategory::Portal) {
        return c;
    }
    PageContext {
        category: PageCategory::Other,
        reason: "its address names no health topic, search, booking or login".into(),
    }
}

/// What a page title says on its own: a condition named in the title makes the page a condition
/// page even when its address does not ("HIV testing | Mercy" on `/services/42`).
pub fn title_context(title: &str, page: PageContext) -> PageContext {
    if page.is_sensitive() {
        return page;
    }
    let lower = title.to_lowercase();
    match CONDITION_WORDS
        .iter()
        .chain(SEARCH_WORDS)
        .chain(BOOKING_WORDS)
        .find(|w| {
            let w = w.trim_matches(['/', '-']);
            w.len() >= 3 && lower.contains(w)
        }) {
        Some(w) => PageContext {
            category: PageCategory::Condition,
            reason: format!("title mentions \"{}\"", w.trim_matches(['/', '-'])),
        },
        None => page,
    }
}

/// True when `url` is a page a compliance team must treat as sensitive.
pub fn page_is_sensitive(url: &str, patterns: &[String]) -> bool {
    page_context(url, patterns).is_sensitive()
}

/// A regulatory regime a policy judges findings under (`docs/regulation.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Regime {
    /// HIPAA, as the HHS OCR tracking bulletin reads after AHA v. Becerra.
    #[serde(rename = "hipaa")]
    Hipaa,
    /// The FTC Health Breach Notification Rule (non-HIPAA health apps and sites).
    #[serde(rename = "ftc-hbnr")]
    FtcHbnr,
    /// Washington's My Health My Data Act.
    #[serde(rename = "wa-mhmda")]
    WaMhmda,
    /// California: CMIA and CCPA/CPRA sensitive personal information.
    #[serde(rename = "ca")]
    Ca,
}

impl Regime {
    pub fn as_str(self) -> &'static str {
        match self {
            Regime::Hipaa => "hipaa",
            Regime::FtcHbnr => "ftc-hbnr",
            Regime::WaMhmda => "wa-mhmda",
            Regime::Ca => "ca",
        }
    }

    /// The name a reader knows.
    pub fn title(self) -> &'static str {
        match self {
            Regime::Hipaa => "HIPAA",
            Regime::FtcHbnr => "FTC Health Breach Notification Rule",
            Regime::WaMhmda => "Washington My Health My Data Act",
            Regime::Ca => "California CMIA/CCPA",
        }
    }
}

/// The facts a judgement needs about one finding.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub kind: DataKind,
    /// For url_path/page_title: the page the value is; otherwise the page open when it left.
    pub page: &'a PageContext,
}

/// One regime's view of one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    pub regime: Regime,
    pub severity: Severity,
    /// One plain sentence: the indicator and its source.
    pub rule: String,
}

fn what(kind: DataKind) -> &'static str {
    match kind {
        DataKind::UrlPath => "the address of",
        DataKind::PageTitle => "the title of",
        DataKind::SearchTerm => "a search term typed on",
        DataKind::FormInput => "form input typed (before submit) on",
        DataKind::Identifier => "a personal identifier sent from",
        DataKind::Credential => "a password or secret typed on",
    }
}

/// How one regime sizes a finding.
pub fn judge_one(regime: Regime, f: Facts<'_>) -> Judgement {
    use PageCategory as P;
    use Severity as S;
    let page = f.page.category;
    let about = format!("{} {}", what(f.kind), page.phrase());
    let (severity, rule) = if f.kind == DataKind::Credential {
        (
            S::Critical,
            format!(
                "{}: {about}, readable by a third party — an account-access (security) incident under any regime",
                regime.title()
            ),
        )
    } else if !page.is_sensitive() && matches!(f.kind, DataKind::UrlPath | DataKind::PageTitle) {
        (
            S::Info,
            format!(
                "{}: {about}; not health information ({}) — HHS OCR's own examples of non-PHI pages include visiting hours and job postings",
                regime.title(),
                f.page.reason
            ),
        )
    } else {
        match (regime, f.kind, page) {
            (Regime::Hipaa, DataKind::SearchTerm | DataKind::FormInput, _) => (
                S::High,
                format!("HIPAA: {about}, sent with an IP address to a vendor without a BAA — OCR tracking bulletin (2022, revised 2024), part on data users enter, not vacated"),
            ),
            (Regime::Hipaa, DataKind::UrlPath | DataKind::PageTitle, P::Condition) => (
                S::Medium,
                format!("HIPAA: {about} with an IP address alone — since AHA v. Becerra (N.D. Tex., 20 Jun 2024) not PHI by that fact alone; a weaker indicator"),
            ),
            (Regime::Hipaa, DataKind::UrlPath | DataKind::PageTitle, _) => (
                S::High,
                format!("HIPAA: {about}, sent with an IP address to a vendor without a BAA — OCR tracking bulletin, part on authenticated, booking and search pages, not vacated"),
            ),
            (Regime::Hipaa, _, p) if p.is_sensitive() => (
                S::High,
                format!("HIPAA: {about} — an identifier tied to a health context is PHI under the OCR tracking bulletin"),
            ),
            (Regime::Hipaa, _, _) => (
                S::Medium,
                format!("HIPAA: {about} — an identifier linked to a covered entity's site; health context not shown by this request"),
            ),
            (Regime::WaMhmda, _, p) if p.is_sensitive() => (
                S::High,
                format!("WA My Health My Data Act: {about} is consumer health data (seeking health care services); sharing needs opt-in consent (in force 31 Mar 2024)"),
            ),
            (Regime::WaMhmda, _, _) => (
                S::Medium,
                format!("WA My Health My Data Act: {about}; personal data of a consumer of a health site"),
            ),
            (Regime::FtcHbnr, _, p) if p.is_sensitive() => (
                S::High,
                format!("FTC Health Breach Notification Rule: {about} shared with a third party without authorization is a breach of security (89 FR 47028, in force 29 Jul 2024)"),
            ),
            (Regime::FtcHbnr, _, _) => (
                S::Medium,
                format!("FTC Health Breach Notification Rule: {about}; identifiable data from a health site"),
            ),
            (Regime::Ca, DataKind::UrlPath | DataKind::PageTitle, _) => (
                S::Medium,
                format!("California: {about}; a bare URL is not medical information under CMIA (Cole v. Quest, 3d Cir., Nov 2025), but health data is sensitive personal information under CCPA/CPRA"),
            ),
            (Regime::Ca, _, p) if p.is_sensitive() => (
                S::High,
                format!("California: {about} is medical information (CMIA) and sensitive personal information (CCPA/CPRA)"),
            ),
            (Regime::Ca, _, _) => (
                S::Medium,
                format!("California: {about}; personal information under CCPA/CPRA"),
            ),
        }
    };
    Judgement {
        regime,
        severity,
        rule,
    }
}

/// The gravest judgement among `regimes` (the first listed wins a tie); HIPAA when none is given.
pub fn judge(regimes: &[Regime], f: Facts<'_>) -> Judgement {
    let mut best: Option<Judgement> = None;
    for &r in regimes {
        let j = judge_one(r, f);
        if best.as_ref().is_none_or(|b| j.severity > b.severity) {
            best = Some(j);
        }
    }
    best.unwrap_or_else(|| judge_one(Regime::Hipaa, f))
}

/// Severity under HIPAA alone (the classifier's default, before a policy names its regimes).
pub fn severity(kind: DataKind, page: &PageContext) -> Severity {
    judge_one(Regime::Hipaa, Facts { kind, page }).severity
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(url: &str) -> PageCategory {
        page_context(url, &[]).category
    }

    #[test]
    fn pages_are_categorised_with_a_reason() {
        assert_eq!(
            cat("https://h.test/symptoms/chest-pain"),
            PageCategory::Condition
        );
        assert_eq!(
            cat("https://h.test/find-a-doctor?q=x"),
            PageCategory::Search
        );
        assert_eq!(cat("https://h.test/portal/login"), PageCategory::Portal);
        assert_eq!(cat("https://h.test/portal/dashboard"), PageCategory::Portal);
        assert_eq!(cat("/appointments/book"), PageCategory::Booking);
        assert_eq!(
            cat("https://h.test/find-a-doctor?condition=hiv-prep"),
            PageCategory::Search
        );
        assert_eq!(cat("https://h.test/about-us"), PageCategory::General);
        assert_eq!(cat("https://h.test/careers"), PageCategory::General);
        assert_eq!(
            cat("https://h.test/news/2024/new-wing"),
            PageCategory::General
        );
        assert_eq!(
            cat("https://h.test/patients-visitors/visiting-hours"),
            PageCategory::General
        );
        assert_eq!(
            cat("https://h.test/news/cancer-center"),
            PageCategory::Condition
        );
        assert_eq!(cat("https://search-health.test/"), PageCategory::General);
        assert_eq!(cat("https://h.test/our-story"), PageCategory::Other);
        let home = page_context("https://h.test/", &[]);
        assert_eq!(home.reason, "the site's home page");
        assert!(page_is_sensitive(
            "https://h.test/visit/7",
            &["/visit/".into()]
        ));
        assert!(page_is_sensitive("https://h.test/a/7/b", &["*/7/*".into()]));
        let t = title_context("HIV testing | Mercy", page_context("/services/42", &[]));
        assert_eq!(t.category, PageCategory::Condition);
    }

    #[test]
    fn hipaa_severity_table() {
        let ctx = |u: &str| page_context(u, &[]);
        let s = |k, u: &str| severity(k, &ctx(u));
        assert_eq!(s(DataKind::Credential, "/"), Severity::Critical);
        assert_eq!(s(DataKind::SearchTerm, "/our-story"), Severity::High);
        assert_eq!(s(DataKind::UrlPath, "/portal/dashboard"), Severity::High);
        assert_eq!(s(DataKind::UrlPath, "/conditions/asthma"), Severity::Medium);
        assert_eq!(s(DataKind::UrlPath, "/"), Severity::Info);
        assert_eq!(s(DataKind::PageTitle, "/careers"), Severity::Info);
        assert_eq!(s(DataKind::Identifier, "/portal/login"), Severity::High);
        assert_eq!(s(DataKind::Identifier, "/"), Severity::Medium);
    }

    /// A condition page's address under HIPAA alone is medium (AHA v. Becerra); Washington's law
    /// makes it high, and the sentence names the rule that did.
    #[test]
    fn regimes_change_severity_as_documented() {
        let page = page_context("/conditions/hiv", &[]);
        let f = Facts {
            kind: DataKind::UrlPath,
            page: &page,
        };
        let hipaa = judge(&[Regime::Hipaa], f);
        assert_eq!(hipaa.severity, Severity::Medium);
        assert!(hipaa.rule.contains("Becerra"), "{}", hipaa.rule);
        let both = judge(&[Regime::Hipaa, Regime::WaMhmda], f);
        assert_eq!(both.severity, Severity::High);
        assert_eq!(both.regime, Regime::WaMhmda);
        assert!(both.rule.starts_with("WA My Health My Data Act"));
        let ca = judge(&[Regime::Ca], f);
        assert_eq!(ca.severity, Severity::Medium);
        assert!(ca.rule.contains("Cole v. Quest"));
        let ftc = judge(&[Regime::FtcHbnr], f);
        assert_eq!(ftc.severity, Severity::High);
        // A general page stays info under every regime.
        let home = page_context("/", &[]);
        let g = Facts {
            kind: DataKind::PageTitle,
            page: &home,
        };
        for r in [Regime::Hipaa, Regime::FtcHbnr, Regime::WaMhmda, Regime::Ca] {
            assert_eq!(judge_one(r, g).severity, Severity::Info);
        }
        // Search terms are high under HIPAA whatever the page.
        let s = judge(
            &[Regime::Hipaa],
            Facts {
                kind: DataKind::SearchTerm,
                page: &home,
            },
        );
        assert_eq!(s.severity, Severity::High);
        assert!(s.rule.contains("not vacated"));
        // One line, short enough to read in a table cell.
        assert!(!s.rule.contains('\n') && s.rule.len() < 300, "{}", s.rule);
    }
}
