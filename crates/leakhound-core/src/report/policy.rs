//! The policy: which third parties may receive which data kinds, and which findings to ignore.
//!
//! The default, with no policy file, is strict on purpose: any flow of any data kind to any third
//! party is a violation. A hospital loosens it explicitly, in a file kept under review, e.g. for a
//! vendor that signed a business associate agreement (BAA). Ignore rules must say why in writing,
//! because an unexplained exception in an audit is indistinguishable from a cover-up.
//!
//! Parsing is strict (unknown fields are errors) so that a typo such as `"severity_treshold"` does
//! not silently fall back to the default. `docs/policy.md` documents the format.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::classify::finding::{DataKind, Finding, FindingGroup, Severity};
use crate::classify::severity::Regime;

/// The policy format version this build reads.
pub const POLICY_VERSION: u32 = 1;

/// A policy file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Syntax, type or rule errors, with the position serde_json reports.
    #[error("invalid policy file {path}:{line}:{column}: {message}{}", at_field(.field))]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The JSON path of the offending value, e.g. `ignore[1].reason`.
        field: String,
        message: String,
    },
    #[error("policy file {path}: version {found} is not supported (this leakhound reads version {POLICY_VERSION})")]
    Version { path: PathBuf, found: u32 },
}

fn at_field(field: &str) -> String {
    if field.is_empty() || field == "." {
        String::new()
    } else {
        format!(" (at `{field}`)")
    }
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Must be [`POLICY_VERSION`].
    #[serde(default = "default_version")]
    pub version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Findings below this severity never violate the policy. Default `low`: everything counts.
    #[serde(default = "default_threshold")]
    pub severity_threshold: Severity,
    /// Whether findings from requests that were only initiated (no proof the data left the browser)
    /// can violate. Default true: an attempt to send health data is already a problem.
    #[serde(default = "default_true")]
    pub count_initiated: bool,
    /// Flows that are permitted.
    #[serde(default)]
    pub allow: Vec<AllowRule>,
    /// Findings to ignore, each with a written reason.
    #[serde(default)]
    pub ignore: Vec<IgnoreRule>,
    /// The regimes findings are judged under (`hipaa`, `ftc-hbnr`, `wa-mhmda`, `ca`): each
    /// finding takes the highest severity its regimes give. Default `["hipaa"]`.
    #[serde(default = "default_regimes", deserialize_with = "non_empty_regimes")]
    pub regimes: Vec<Regime>,
    /// Where the policy was loaded from, for the report.
    #[serde(skip)]
    pub source: Option<String>,
}

fn default_version() -> u32 {
    POLICY_VERSION
}

fn default_threshold() -> Severity {
    Severity::Low
}

fn default_true() -> bool {
    true
}

fn default_regimes() -> Vec<Regime> {
    vec![Regime::Hipaa]
}

/// An empty list would judge nothing: it is an error, not a silent HIPAA default.
fn non_empty_regimes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Regime>, D::Error> {
    let mut regimes = Vec::<Regime>::deserialize(d)?;
    if regimes.is_empty() {
        return Err(serde::de::Error::custom(
            "`regimes` needs at least one of hipaa, ftc-hbnr, wa-mhmda, ca",
        ));
    }
    regimes.dedup();
    Ok(regimes)
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            version: POLICY_VERSION,
            description: String::new(),
            severity_threshold: Severity::Low,
            count_initiated: true,
            allow: Vec::new(),
            ignore: Vec::new(),
            regimes: default_regimes(),
            source: None,
        }
    }
}

/// Permits data kinds to go to a vendor or domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawAllowRule")]
pub struct AllowRule {
    /// Vendor id from `signatures/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Registrable domain or host; matches the domain itself and its subdomains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub kinds: Vec<DataKind>,
    /// Why it is allowed, e.g. `BAA signed 2024-03-01`. Optional but shown in every report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllowRule {
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    kinds: Vec<DataKind>,
    #[serde(default)]
    reason: Option<String>,
}

impl TryFrom<RawAllowRule> for AllowRule {
    type Error = String;

    fn try_from(raw: RawAllowRule) -> Result<Self, Self::Error> {
        if blank(&raw.vendor) && blank(&raw.domain) {
            return Err("an allow rule needs a non-empty `vendor` or `domain`".into());
        }
        if raw.kinds.is_empty() {
            return Err("an allow rule needs at least one data kind in `kinds`".into());
        }
        Ok(AllowRule {
            vendor: raw.vendor,
            domain: raw.domain,
            kinds: raw.kinds,
            reason: raw.reason.filter(|r| !r.trim().is_empty()),
        })
    }
}

/// Ignores findings that match every field it sets. Must carry a written reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawIgnoreRule")]
pub struct IgnoreRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<DataKind>,
    /// The finding's canary key, e.g. `email` or `page:/login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<String>,
    /// The journey step index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnoreRule {
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    kind: Option<DataKind>,
    #[serde(default)]
    canary: Option<String>,
    #[serde(default)]
    step: Option<usize>,
    reason: Reason,
}

/// A written reason: rejected while parsing when blank, so the error points at the string itself.
struct Reason(String);

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.trim().is_empty() {
            return Err(serde::de::Error::custom(
                "an ignore rule must carry a non-empty written `reason`",
            ));
        }
        Ok(Reason(text))
    }
}

impl TryFrom<RawIgnoreRule> for IgnoreRule {
    type Error = String;

    fn try_from(raw: RawIgnoreRule) -> Result<Self, Self::Error> {
        if blank(&raw.domain)
            && blank(&raw.vendor)
            && blank(&raw.canary)
            && raw.kind.is_none()
            && raw.step.is_none()
        {
            return Err(
                "an ignore rule must match on at least one of `domain`, `vendor`, `kind`, `canary`, `step`"
                    .into(),
            );
        }
        Ok(IgnoreRule {
            domain: raw.domain,
            vendor: raw.vendor,
            kind: raw.kind,
            canary: raw.canary,
            step: raw.step,
            reason: raw.reason.0,
        })
    }
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

/// True when `domain` names `finding`'s registrable domain or host, or a parent of its host.
fn domain_matches(rule: &str, finding: &Finding) -> bool {
    let rule = rule.trim().trim_start_matches('.').to_ascii_lowercase();
    let host = finding.host.to_ascii_lowercase();
    finding.domain.eq_ignore_ascii_case(&rule)
        || host == rule
        || host.ends_with(&format!(".{rule}"))
}

impl AllowRule {
    pub fn matches(&self, finding: &Finding) -> bool {
        let vendor_ok = match &self.vendor {
            Some(v) => finding.vendor.as_deref() == Some(v.as_str()),
            None => true,
        };
        let domain_ok = match &self.domain {
            Some(d) => domain_matches(d, finding),
            None => true,
        };
        vendor_ok && domain_ok && self.kinds.contains(&finding.kind)
    }
}

impl IgnoreRule {
    pub fn matches(&self, finding: &Finding) -> bool {
        self.domain
            .as_deref()
            .is_none_or(|d| domain_matches(d, finding))
            && self
                .vendor
                .as_deref()
                .is_none_or(|v| finding.vendor.as_deref() == Some(v))
            && self.kind.is_none_or(|k| k == finding.kind)
            && self.canary.as_deref().is_none_or(|c| c == finding.canary)
            && self.step.is_none_or(|s| s == finding.step)
    }
}

/// What the policy says about one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Against policy: fails the run.
    Violation,
    /// Permitted by allow rule `rule`.
    Allowed {
        rule: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Matched ignore rule `rule`.
    Ignored { rule: usize, reason: String },
    /// Below the policy's severity threshold.
    BelowThreshold,
    /// The request was never delivered and the policy counts only delivered requests.
    NotDelivered,
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Violation => "violation",
            Decision::Allowed { .. } => "allowed",
            Decision::Ignored { .. } => "ignored",
            Decision::BelowThreshold => "below_threshold",
            Decision::NotDelivered => "not_delivered",
        }
    }
}

/// The policy's decisions over a whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PolicyOutcome {
    /// The policy file, or `None` for the built-in default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub severity_threshold: Option<Severity>,
    /// The regimes the findings were judged under.
    #[serde(default)]
    pub regimes: Vec<Regime>,
    pub count_initiated: bool,
    /// The rules as they were applied, so the report stands on its own.
    #[serde(default)]
    pub allow_rules: Vec<AllowRule>,
    #[serde(default)]
    pub ignore_rules: Vec<IgnoreRule>,
    /// One decision per finding, parallel to `Report::findings`.
    pub decisions: Vec<Decision>,
    /// Per finding group, the findings with each outcome.
    pub violations: Vec<GroupOutcome>,
    pub ignored: Vec<GroupOutcome>,
    pub allowed: Vec<GroupOutcome>,
    pub below_threshold: Vec<GroupOutcome>,
    pub not_delivered: Vec<GroupOutcome>,
}

impl PolicyOutcome {
    /// Files the findings of one group that received `decision`.
    pub fn push_group(&mut self, decision: &Decision, entry: GroupOutcome) {
        let list = match decision {
            Decision::Violation => &mut self.violations,
            Decision::Allowed { .. } => &mut self.allowed,
            Decision::Ignored { .. } => &mut self.ignored,
            Decision::BelowThreshold => &mut self.below_threshold,
            Decision::NotDelivered => &mut self.not_delivered,
        };
        list.push(entry);
    }
}

/// The findings of one group that received the same decision (and rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupOutcome {
    /// Index into `Report::groups`.
    pub group: usize,
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    pub kind: DataKind,
    pub canary: String,
    pub severity: Severity,
    /// Indices into `Report::findings`.
    pub findings: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Policy {
    /// Reads and validates a policy file. Errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::parse(&text, path)
    }

    /// Parses policy text; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let mut policy: Policy = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            PolicyError::Invalid {
                path: path.to_path_buf(),
                line: inner.line(),
                column: inner.column(),
                field,
                message: strip_position(&inner.to_string()),
            }
        })?;
        de.end().map_err(|e| PolicyError::Invalid {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            field: String::new(),
            message: strip_position(&e.to_string()),
        })?;
        if policy.version != POLICY_VERSION {
            return Err(PolicyError::Version {
                path: path.to_path_buf(),
                found: policy.version,
            });
        }
        policy.source = Some(path.display().to_string());
        Ok(policy)
    }

    /// Decides every finding.
    pub fn decide(&self, finding: &Finding) -> Decision {
        if let Some((rule, r)) = self
            .ignore
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(finding))
        {
            return Decision::Ignored {
                rule,
                reason: r.reason.clone(),
            };
        }
        if finding.severity < self.severity_threshold {
            return Decision::BelowThreshold;
        }
        if !self.count_initiated && !finding.fate.is_delivered() {
            return Decision::NotDelivered;
        }
        if let Some((rule, r)) = self
            .allow
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(finding))
        {
            return Decision::Allowed {
                rule,
                reason: r.reason.clone(),
            };
        }
        Decision::Violation
    }

    /// The outcome of this policy before any finding is decided.
    pub fn empty_outcome(&self) -> PolicyOutcome {
        PolicyOutcome {
            source: self.source.clone(),
            severity_threshold: Some(self.severity_threshold),
            regimes: self.regimes.clone(),
            count_initiated: self.count_initiated,
            allow_rules: self.allow.clone(),
            ignore_rules: self.ignore.clone(),
            decisions: Vec::new(),
            ..PolicyOutcome::default()
        }
    }

    /// Decides all findings and summarises the decisions per group.
    pub fn evaluate(&self, findings: &[Finding], groups: &[FindingGroup]) -> PolicyOutcome {
        let decisions: Vec<Decision> = findings.iter().map(|f| self.decide(f)).collect();
        let mut outcome = self.empty_outcome();
        for (gi, group) in groups.iter().enumerate() {
            let mut entries: Vec<(Decision, GroupOutcome)> = Vec::new();
            for (fi, f) in findings.iter().enumerate() {
                if f.domain != group.domain || f.kind != group.kind || f.canary != group.canary {
                    continue;
                }
                let decision = &decisions[fi];
                match entries.iter_mut().find(|(d, _)| d == decision) {
                    Some((_, entry)) => {
                        entry.findings.push(fi);
                        entry.severity = entry.severity.max(f.severity);
                    }
                    None => {
                        let (rule, reason) = match decision {
                            Decision::Allowed { rule, reason } => (Some(*rule), reason.clone()),
                            Decision::Ignored { rule, reason } => {
                                (Some(*rule), Some(reason.clone()))
                            }
                            _ => (None, None),
                        };
                        entries.push((
                            decision.clone(),
                            GroupOutcome {
                                group: gi,
                                domain: group.domain.clone(),
                                vendor: group.vendor.clone(),
                                kind: group.kind,
                                canary: group.canary.clone(),
                                severity: f.severity,
                                findings: vec![fi],
                                rule,
                                reason,
                            },
                        ));
                    }
                }
            }
            for (decision, entry) in entries {
                outcome.push_group(&decision, entry);
            }
        }
        outcome.decisions = decisions;
        outcome
    }
}

/// serde_json appends ` at line L column C` to its messages; the error already carries both.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(pos) => message[..pos].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::Fate;

    #[test]
    fn regimes_default_to_hipaa_and_must_be_known_and_non_empty() {
        let p = Policy::parse("{}", Path::new("p.json")).unwrap();
        assert_eq!(p.regimes, vec![Regime::Hipaa]);
        let p = Policy::parse(
            r#"{"regimes": ["hipaa", "ftc-hbnr", "wa-mhmda", "ca"]}"#,
            Path::new("p.json"),
        )
        .unwrap();
        assert_eq!(p.regimes.len(), 4);
        let e = Policy::parse(r#"{"regimes": []}"#, Path::new("p.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("regimes"), "{e}");
        let e = Policy::parse(r#"{"regimes": ["gdpr"]}"#, Path::new("p.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("regimes"), "{e}");
    }

    fn finding(domain: &str, vendor: Option<&str>, kind: DataKind, severity: Severity) -> Finding {
        Finding {
            kind,
            sub_kind: None,
            canary: "email".into(),
            value: None,
            source_page: None,
            domain: domain.into(),
            host: format!("www.{domain}"),
            vendor: vendor.map(String::from),
            channel: "query:q".into(),
            parameter_meaning: None,
            encoding: vec![],
            severity,
            step: 2,
            step_label: String::new(),
            page_url: "https://hospital.example/".into(),
            request_id: "r1".into(),
            request_url: format!("https://www.{domain}/collect"),
            method: "GET".into(),
            fate: Fate::Delivered,
            initiator_url: None,
            stack: vec![],
            evidence: None,
            also_matched: vec![],
            name_parts: vec![],
            page_context: None,
            regime: None,
            rule: None,
            confidence: Default::default(),
        }
    }

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(text, Path::new("policy.json"))
    }

    #[test]
    fn default_policy_flags_every_flow() {
        let p = Policy::default();
        let f = finding(
            "facebook.com",
            Some("meta-pixel"),
            DataKind::PageTitle,
            Severity::Low,
        );
        assert_eq!(p.decide(&f), Decision::Violation);
    }

    #[test]
    fn allow_rule_by_vendor_and_kind() {
        let p = parse(
            r#"{"allow": [{"vendor": "google-analytics", "kinds": ["url_path"], "reason": "BAA"}]}"#,
        )
        .unwrap();
        let ok = finding(
            "google-analytics.com",
            Some("google-analytics"),
            DataKind::UrlPath,
            Severity::High,
        );
        let bad_kind = finding(
            "google-analytics.com",
            Some("google-analytics"),
            DataKind::Identifier,
            Severity::High,
        );
        let bad_vendor = finding(
            "facebook.com",
            Some("meta-pixel"),
            DataKind::UrlPath,
            Severity::High,
        );
        assert_eq!(
            p.decide(&ok),
            Decision::Allowed {
                rule: 0,
                reason: Some("BAA".into())
            }
        );
        assert_eq!(p.decide(&bad_kind), Decision::Violation);
        assert_eq!(p.decide(&bad_vendor), Decision::Violation);
    }

    #[test]
    fn domain_rule_matches_subdomains_but_not_lookalikes() {
        let p =
            parse(r#"{"allow": [{"domain": "example-cdn.net", "kinds": ["url_path"]}]}"#).unwrap();
        let sub = finding("example-cdn.net", None, DataKind::UrlPath, Severity::High);
        let mut lookalike = finding(
            "evil-example-cdn.net",
            None,
            DataKind::UrlPath,
            Severity::High,
        );
        lookalike.host = "evil-example-cdn.net".into();
        assert!(matches!(p.decide(&sub), Decision::Allowed { .. }));
        assert_eq!(p.decide(&lookalike), Decision::Violation);
    }

    #[test]
    fn threshold_and_initiated() {
        let p = parse(r#"{"severity_threshold": "high", "count_initiated": false}"#).unwrap();
        let low = finding("a.com", None, DataKind::UrlPath, Severity::Medium);
        let mut pending = finding("a.com", None, DataKind::UrlPath, Severity::Critical);
        pending.fate = Fate::Initiated;
        assert_eq!(p.decide(&low), Decision::BelowThreshold);
        assert_eq!(p.decide(&pending), Decision::NotDelivered);
    }

    #[test]
    fn ignore_rule_wins_and_keeps_reason() {
        let p = parse(
            r#"{"ignore": [{"domain": "a.com", "step": 2, "reason": "test account page, ticket SEC-12"}],
                "allow": [{"domain": "a.com", "kinds": ["identifier"]}]}"#,
        )
        .unwrap();
        let f = finding("a.com", None, DataKind::Identifier, Severity::High);
        assert_eq!(
            p.decide(&f),
            Decision::Ignored {
                rule: 0,
                reason: "test account page, ticket SEC-12".into()
            }
        );
        let mut other_step = f.clone();
        other_step.step = 3;
        assert!(matches!(p.decide(&other_step), Decision::Allowed { .. }));
    }

    #[test]
    fn ignore_without_reason_is_an_error_with_position() {
        let text = "{\n  \"ignore\": [\n    {\"domain\": \"a.com\", \"reason\": \"  \"}\n  ]\n}";
        match parse(text) {
            Err(PolicyError::Invalid {
                line,
                field,
                message,
                ..
            }) => {
                assert_eq!(line, 3);
                assert!(field.starts_with("ignore"), "{field}");
                assert!(message.contains("reason"), "{message}");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        let shown = parse(text).unwrap_err().to_string();
        assert!(
            shown.starts_with("invalid policy file policy.json:3:")
                && shown.ends_with("(at `ignore[0].reason`)"),
            "{shown}"
        );
        let missing = parse(r#"{"ignore": [{"domain": "a.com"}]}"#).unwrap_err();
        assert!(missing.to_string().contains("reason"), "{missing}");
    }

    #[test]
    fn unknown_fields_and_bad_kinds_are_errors() {
        let typo = parse("{\"severity_treshold\": \"high\"}").unwrap_err();
        let text = typo.to_string();
        assert!(text.contains("policy.json:1:"), "{text}");
        assert!(text.contains("severity_treshold"), "{text}");
        let kind = parse(r#"{"allow": [{"vendor": "x", "kinds": ["dna"]}]}"#).unwrap_err();
        assert!(kind.to_string().contains("dna"), "{kind}");
        let empty = parse(r#"{"ignore": [{"reason": "because"}]}"#).unwrap_err();
        assert!(empty.to_string().contains("at least one"), "{empty}");
        let version = parse(r#"{"version": 9}"#).unwrap_err();
        assert!(matches!(version, PolicyError::Version { found: 9, .. }));
        let trailing = parse("{} x").unwrap_err();
        assert!(matches!(trailing, PolicyError::Invalid { .. }));
    }
}
