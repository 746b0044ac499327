//! The report: one value every output (JSON, HTML, SARIF, JUnit, terminal, diff) is rendered from.
//!
//! Keeping a single source of truth means the HTML cannot say something the JSON does not, and a CI
//! gate reading SARIF sees exactly the verdict the compliance officer reads. The report is also
//! deserializable, so `leakhound diff` can compare two reports written by earlier runs.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::capture::record::{CaptureSummary, JourneyInfo, RunStatus};
use crate::classify::finding::{Analysis, DataKind, Finding, FindingGroup, Severity, ThirdParty};
use crate::classify::severity::{judge, Facts, Regime};

use super::policy::{Decision, GroupOutcome, Policy, PolicyOutcome};
use super::scrub::{origin_of, Scrubber};
use super::ReportError;
use crate::classify::spill::FindingSpill;

/// The `format` value of every report.
pub const REPORT_FORMAT_NAME: &str = "leakhound-report";

/// Bump when a change would make old readers misread a report. Additive fields do not bump it:
/// readers ignore fields they do not know.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// Facts about this run of leakhound that neither the capture nor the classifier knows.
#[derive(Debug, Clone, Default)]
pub struct ReportMeta {
    /// leakhound's version.
    pub tool_version: String,
    /// RFC 3339 time the report was built.
    pub generated_at: String,
    /// Path of the capture file the report was built from, as given by the user.
    pub capture_file: Option<String>,
    /// Secret values known in memory (passwords from the environment). They are scrubbed from every
    /// string of the report as a last line of defence; they are never stored in it.
    pub secret_values: Vec<String>,
}

impl ReportMeta {
    /// Meta for the running leakhound, stamped now.
    pub fn now(capture_file: Option<String>) -> ReportMeta {
        ReportMeta {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            generated_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string(),
            capture_file,
            secret_values: Vec::new(),
        }
    }
}

/// The complete result of one journey.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Always [`REPORT_FORMAT_NAME`].
    pub format: String,
    /// [`REPORT_FORMAT_VERSION`] of the writer.
    pub version: u32,
    pub tool_version: String,
    pub signatures_version: String,
    pub generated_at: String,
    /// True when canary values were masked for wide sharing (`--redact`).
    #[serde(default)]
    pub redacted: bool,
    /// The journey as recorded in the capture header. Secrets carry no value.
    pub journey: JourneyInfo,
    pub run: RunInfo,
    pub steps: Vec<StepReport>,
    /// Every finding, in capture order. Indices into this list are stable within the report.
    pub findings: Vec<Finding>,
    /// Findings grouped by domain × kind × canary.
    pub groups: Vec<FindingGroup>,
    /// Every third party contacted, leaks or not.
    pub inventory: Vec<ThirdParty>,
    pub policy: PolicyOutcome,
    pub verdict: Verdict,
    /// Values typed during the journey that are not identity canaries (search terms, free text).
    /// Kept in memory only so `--redact` can mask them; never written.
    #[serde(skip)]
    pub(crate) typed_values: Vec<String>,
    /// Set when `findings` is empty because the findings are on disk (see [`ReportBuilder`]).
    #[serde(skip)]
    pub(crate) spilled: Option<SpilledFindings>,
}

/// The findings of a report built by [`ReportBuilder`]: in a temporary file, in report order,
/// already in their final form (secrets scrubbed, sized, decided).
#[derive(Debug, Clone)]
pub struct SpilledFindings {
    pub(crate) spill: std::sync::Arc<std::sync::Mutex<FindingSpill>>,
    pub(crate) len: usize,
    /// For the terminal summary: per rule of a violation, its gravest finding (severity,
    /// index, rule), gravest first.
    pub(crate) why: Vec<(Severity, usize, String)>,
}

impl PartialEq for SpilledFindings {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.spill, &other.spill)
    }
}

impl SpilledFindings {
    /// Calls `f` with the JSON text of every finding, in order (indented for the report's
    /// `findings` array).
    pub(crate) fn for_each_text(
        &self,
        f: impl FnMut(&[u8]) -> Result<(), ReportError>,
    ) -> Result<(), ReportError> {
        let mut spill = self
            .spill
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        spill.for_each_text(f)
    }
}

/// How the run went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RunInfo {
    pub status: RunStatus,
    /// Why the run is incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub started_at: String,
    pub duration_ms: f64,
    #[serde(default)]
    pub browser_version: String,
    /// The capture file the report was built from. Screenshot paths are relative to its folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_file: Option<String>,
    pub steps_run: usize,
    pub requests: usize,
    pub ws_frames: usize,
    pub websockets: usize,
    pub requests_analyzed: usize,
    /// The run accepted invalid TLS certificates: the site's identity was not verified.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub certificate_errors_ignored: bool,
}

/// One journey step: what the user did and what left, to whom.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct StepReport {
    pub index: usize,
    pub action: String,
    pub label: String,
    pub time_ms: f64,
    /// The page URL after the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Screenshot path, relative to the capture file's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    /// Set when the step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Messages of JavaScript dialogs dismissed during the step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dialogs: Vec<String>,
    pub findings: usize,
    /// Findings of this step that violate the policy.
    pub violations: usize,
    /// Which third parties received what during this step.
    pub flows: Vec<StepFlow>,
}

/// What one third party received during one step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepFlow {
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    pub kinds: Vec<DataKind>,
    pub findings: usize,
    pub violations: usize,
    pub severity: Severity,
}

/// The one-line answer.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum VerdictStatus {
    /// Complete run, nothing against policy.
    Pass,
    /// Complete run, at least one policy violation.
    Fail,
    /// The run did not finish; findings are a lower bound.
    Incomplete,
}

impl VerdictStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictStatus::Pass => "pass",
            VerdictStatus::Fail => "fail",
            VerdictStatus::Incomplete => "incomplete",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    pub status: VerdictStatus,
    /// Finding groups with at least one violating finding.
    pub violating_groups: usize,
    /// Findings that violate the policy.
    pub violating_findings: usize,
    /// Third parties that received any data kind (allowed or not).
    pub third_parties_receiving_data: usize,
    /// A sentence a non-engineer can read.
    pub headline: String,
}

impl Report {
    /// Looks up a third party of the inventory by registrable domain.
    pub fn third_party(&self, domain: &str) -> Option<&ThirdParty> {
        self.inventory.iter().find(|t| t.domain == domain)
    }

    /// A display name for a domain: the vendor's name when known, else the domain.
    pub fn party_name(&self, domain: &str) -> String {
        match self.third_party(domain).and_then(|t| t.vendor_name.clone()) {
            Some(name) => name,
            None => domain.to_string(),
        }
    }

    /// The decision for finding `index`.
    pub fn decision(&self, index: usize) -> Option<&Decision> {
        self.policy.decisions.get(index)
    }

    /// True when any finding of group `group` violates the policy.
    pub fn group_violates(&self, group: usize) -> bool {
        self.findings_of_group(group)
            .iter()
            .any(|&i| matches!(self.decision(i), Some(Decision::Violation)))
    }

    /// Indices of the findings of group `group`, in report order.
    pub fn findings_of_group(&self, group: usize) -> Vec<usize> {
        let Some(g) = self.groups.get(group) else {
            return Vec::new();
        };
        self.findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.domain == g.domain && f.kind == g.kind && f.canary == g.canary)
            .map(|(i, _)| i)
            .collect()
    }

    /// The step record with `index`.
    pub fn step(&self, index: usize) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.index == index)
    }
}

/// Sizes one finding under `regimes`; true when its severity changed.
fn rejudge_one(f: &mut Finding, regimes: &[Regime]) -> bool {
    let Some(page) = &f.page_context else {
        return false;
    };
    if f.regime.is_some_and(|r| regimes.contains(&r)) && regimes.len() == 1 {
        return false;
    }
    let j = judge(regimes, Facts { kind: f.kind, page });
    let changed = j.severity != f.severity;
    f.severity = j.severity;
    f.regime = Some(j.regime);
    f.rule = Some(j.rule);
    changed
}

/// Sizes every finding under the policy's regimes (the classifier may have been run with other
/// ones, or none), and each group as its gravest member.
fn rejudge(findings: &mut [Finding], groups: &mut [FindingGroup], regimes: &[Regime]) {
    let mut changed = false;
    for f in findings.iter_mut() {
        changed |= rejudge_one(f, regimes);
    }
    if !changed {
        return;
    }
    let mut gravest: HashMap<(&str, DataKind, &str), Severity> = HashMap::new();
    for f in findings.iter() {
        let e = gravest
            .entry((f.domain.as_str(), f.kind, f.canary.as_str()))
            .or_insert(f.severity);
        *e = (*e).max(f.severity);
    }
    for g in groups.iter_mut() {
        if let Some(s) = gravest.get(&(g.domain.as_str(), g.kind, g.canary.as_str())) {
            g.severity = *s;
        }
    }
}

/// Builds the report from what the capture and the classifier produced.
///
/// Secret values (credentials) are removed defensively here, whatever the classifier did: a finding
/// of kind `credential` never carries a value, its evidence has the marked value masked, and every
/// string of the report is scrubbed of `meta.secret_values`.
pub fn build_report(
    summary: &CaptureSummary,
    analysis: Analysis,
    policy: Option<&Policy>,
    meta: ReportMeta,
) -> Report {
    let journey = journey_without_secrets(summary);

    let Analysis {
        mut findings,
        groups: mut raw_groups,
        inventory,
        signatures_version,
        requests_analyzed,
    } = analysis;
    for finding in &mut findings {
        mask_credential(finding);
    }
    for group in &mut raw_groups {
        if group.kind == DataKind::Credential {
            group.value = None;
        }
    }
    let groups = if raw_groups.is_empty() && !findings.is_empty() {
        group_findings(&findings)
    } else {
        raw_groups
    };

    let default_policy = Policy::default();
    let policy = policy.unwrap_or(&default_policy);
    let mut groups = groups;
    rejudge(&mut findings, &mut groups, &policy.regimes);
    let outcome = policy.evaluate(&findings, &groups);

    let run = run_info(summary, &meta, requests_analyzed);
    let status = run.status;
    let steps = build_steps(summary, &findings, &outcome.decisions, &inventory);
    let verdict = build_verdict(status, &findings, &groups, &outcome.decisions);

    let typed_values = summary
        .typed
        .iter()
        .filter_map(|t| t.value.clone())
        .collect();

    let report = Report {
        format: REPORT_FORMAT_NAME.to_string(),
        version: REPORT_FORMAT_VERSION,
        tool_version: meta.tool_version.clone(),
        signatures_version,
        generated_at: meta.generated_at.clone(),
        redacted: false,
        journey,
        run,
        steps,
        findings,
        groups,
        inventory,
        policy: outcome,
        verdict,
        typed_values,
        spilled: None,
    };
    scrub_secrets(report, &meta.secret_values)
}

/// Builds a report one finding at a time, keeping the findings on disk: what [`build_report`]
/// makes, in memory that does not grow with the number of findings (only a decision and an
/// index per finding stay in memory).
///
/// Each finding handed to [`ReportBuilder::push`] (in the classifier's order) is masked, sized
/// under the policy's regimes, decided, counted into its step and group, scrubbed of secrets
/// and written to a [`FindingSpill`]. [`ReportBuilder::finish`] then takes the classifier's
/// analysis (groups, inventory; its `findings` empty) and the capture summary. The JSON report
/// streams the findings back from the spill; other outputs load them (see
/// [`super::write_all`]).
#[derive(Debug)]
pub struct ReportBuilder {
    policy: Policy,
    scrubber: Scrubber,
    spill: FindingSpill,
    decisions: Vec<Decision>,
    /// Per group key, the findings with each decision, in the order decisions first came.
    outcomes: HashMap<(String, DataKind, String), Vec<(Decision, GroupOutcome)>>,
    /// Per group key, its gravest finding after sizing.
    gravest: HashMap<(String, DataKind, String), Severity>,
    flows: StepFlows,
    receivers: std::collections::HashSet<String>,
    why: HashMap<String, (Severity, usize)>,
    /// Groups as the findings came, for an analysis that comes without them.
    groups: Vec<FindingGroup>,
    group_index: HashMap<(String, DataKind, String), usize>,
    failed: Option<ReportError>,
}

impl ReportBuilder {
    /// A builder deciding under `policy` (the built-in default when `None`) and scrubbing
    /// `secret_values` (see [`ReportMeta::secret_values`]).
    pub fn new(policy: Option<&Policy>, secret_values: &[String]) -> Result<Self, ReportError> {
        Ok(ReportBuilder {
            policy: policy.cloned().unwrap_or_default(),
            scrubber: Scrubber::new(secret_values),
            spill: FindingSpill::new()?,
            decisions: Vec::new(),
            outcomes: HashMap::new(),
            gravest: HashMap::new(),
            flows: StepFlows::default(),
            receivers: std::collections::HashSet::new(),
            why: HashMap::new(),
            groups: Vec::new(),
            group_index: HashMap::new(),
            failed: None,
        })
    }

    /// Takes the next finding. A failure to write it is kept and returned by
    /// [`ReportBuilder::finish`].
    pub fn push(&mut self, mut f: Finding) {
        if self.failed.is_some() {
            return;
        }
        let index = self.decisions.len();
        mask_credential(&mut f);
        let key = (f.domain.clone(), f.kind, f.canary.clone());
        let group = match self.group_index.get(&key) {
            Some(&g) => g,
            None => {
                self.groups.push(FindingGroup::for_finding(&f, index));
                self.group_index.insert(key.clone(), self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        if let Some(g) = self.groups.get_mut(group) {
            g.add(&f);
        }
        rejudge_one(&mut f, &self.policy.regimes);
        let decision = self.policy.decide(&f);
        let violates = matches!(decision, Decision::Violation);
        let gravest = self.gravest.entry(key.clone()).or_insert(f.severity);
        *gravest = (*gravest).max(f.severity);
        let entries = self.outcomes.entry(key).or_default();
        match entries.iter_mut().find(|(d, _)| *d == decision) {
            Some((_, entry)) => {
                entry.findings.push(index);
                entry.severity = entry.severity.max(f.severity);
            }
            None => {
                let (rule, reason) = match &decision {
                    Decision::Allowed { rule, reason } => (Some(*rule), reason.clone()),
                    Decision::Ignored { rule, reason } => (Some(*rule), Some(reason.clone())),
                    _ => (None, None),
                };
                entries.push((
                    decision.clone(),
                    GroupOutcome {
                        // Numbered, and named after the group, by `finish`.
                        group: 0,
                        domain: f.domain.clone(),
                        vendor: None,
                        kind: f.kind,
                        canary: f.canary.clone(),
                        severity: f.severity,
                        findings: vec![index],
                        rule,
                        reason,
                    },
                ));
            }
        }
        self.flows.add(&f, violates);
        if !self.receivers.contains(&f.domain) {
            self.receivers.insert(f.domain.clone());
        }
        if let (true, Some(rule)) = (violates, &f.rule) {
            let best = self.why.entry(rule.clone()).or_insert((f.severity, index));
            if f.severity > best.0 {
                *best = (f.severity, index);
            }
        }
        self.decisions.push(decision);
        let scrubber = &self.scrubber;
        let written = match self
            .spill
            .push_unless(&f, |json| scrubber.may_hold_secret(json))
        {
            Ok(true) => Ok(()),
            Ok(false) => self.spill.push(&scrubber.scrub_finding(f)),
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            self.failed = Some(e.into());
        }
    }

    /// The report, from the findings pushed and the rest of what the classifier concluded.
    pub fn finish(
        mut self,
        summary: &CaptureSummary,
        mut analysis: Analysis,
        meta: ReportMeta,
    ) -> Result<Report, ReportError> {
        // Whatever the classifier still held (its streaming variants hand out everything).
        for f in std::mem::take(&mut analysis.findings) {
            self.push(f);
        }
        if let Some(e) = self.failed {
            return Err(e);
        }
        let journey = journey_without_secrets(summary);
        let Analysis {
            findings: _,
            mut groups,
            inventory,
            signatures_version,
            requests_analyzed,
        } = analysis;
        if groups.is_empty() {
            groups = self.groups;
        }
        let mut outcomes = self.outcomes;
        let mut outcome = self.policy.empty_outcome();
        let mut violating_groups = 0;
        for (gi, group) in groups.iter_mut().enumerate() {
            if group.kind == DataKind::Credential {
                group.value = None;
            }
            let key = (group.domain.clone(), group.kind, group.canary.clone());
            if let Some(s) = self.gravest.get(&key) {
                group.severity = *s;
            }
            let entries = outcomes.remove(&key).unwrap_or_default();
            if entries
                .iter()
                .any(|(d, _)| matches!(d, Decision::Violation))
            {
                violating_groups += 1;
            }
            for (decision, mut entry) in entries {
                entry.group = gi;
                entry.vendor = group.vendor.clone();
                outcome.push_group(&decision, entry);
            }
        }
        let violating_findings = self
            .decisions
            .iter()
            .filter(|d| matches!(d, Decision::Violation))
            .count();
        outcome.decisions = self.decisions;
        let run = run_info(summary, &meta, requests_analyzed);
        let verdict = verdict_of(
            run.status,
            violating_findings,
            violating_groups,
            self.receivers.len(),
        );
        let steps = self.flows.finish(summary, &inventory);
        let mut why: Vec<(Severity, usize, String)> = self
            .why
            .into_iter()
            .map(|(rule, (severity, index))| (severity, index, rule))
            .collect();
        why.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let report = Report {
            format: REPORT_FORMAT_NAME.to_string(),
            version: REPORT_FORMAT_VERSION,
            tool_version: meta.tool_version.clone(),
            signatures_version,
            generated_at: meta.generated_at.clone(),
            redacted: false,
            journey,
            run,
            steps,
            findings: Vec::new(),
            groups,
            inventory,
            policy: outcome,
            verdict,
            typed_values: summary
                .typed
                .iter()
                .filter_map(|t| t.value.clone())
                .collect(),
            spilled: Some(SpilledFindings {
                len: self.spill.len(),
                spill: std::sync::Arc::new(std::sync::Mutex::new(self.spill)),
                why,
            }),
        };
        Ok(scrub_secrets(report, &meta.secret_values))
    }
}

/// Removes in-memory secret values (every form of them) from every string of the report.
pub(crate) fn scrub_secrets(report: Report, secrets: &[String]) -> Report {
    report.rewrite_strings(Scrubber::new(secrets).replacer())
}

impl Report {
    /// Applies `replacements` to every string of the report (its JSON form, so no field can be
    /// forgotten when the model grows), and drops typed values that held one.
    pub(crate) fn rewrite_strings(self, replacements: &crate::secret::Replacer) -> Report {
        if replacements.is_empty() {
            return self;
        }
        let typed_values = self.typed_values.clone();
        let spilled = self.spilled.clone();
        let fallback = self.clone();
        let rewritten = serde_json::to_value(&self).and_then(|mut v| {
            crate::secret::mask_json_strings(&mut v, replacements);
            serde_json::from_value::<Report>(v)
        });
        match rewritten {
            Ok(mut r) => {
                r.spilled = spilled;
                r.typed_values = typed_values
                    .into_iter()
                    .filter(|t| replacements.replace(t).is_none())
                    .collect();
                r
            }
            Err(e) => {
                // Cannot happen with the report's types; if it ever does, drop what could carry
                // a value.
                tracing::error!("cannot rewrite report strings ({e}); dropping evidence and URLs");
                fallback.stripped()
            }
        }
    }

    /// The report without anything that could carry a value.
    fn stripped(mut self) -> Report {
        for f in &mut self.findings {
            f.value = None;
            f.evidence = None;
            f.request_url = origin_of(&f.request_url);
        }
        for g in &mut self.groups {
            g.value = None;
        }
        self.typed_values.clear();
        self
    }

    /// The report with its findings in memory (a report from [`ReportBuilder`] has them on
    /// disk), for the outputs that need them all at hand.
    pub fn with_findings(&self) -> Result<Report, ReportError> {
        let Some(spilled) = &self.spilled else {
            return Ok(self.clone());
        };
        let mut findings = Vec::with_capacity(spilled.len);
        spilled.for_each_text(|text| {
            findings.push(serde_json::from_slice::<Finding>(text)?);
            Ok(())
        })?;
        Ok(Report {
            findings,
            spilled: None,
            ..self.clone()
        })
    }
}

/// The journey of the capture's header, secret values left out.
fn journey_without_secrets(summary: &CaptureSummary) -> JourneyInfo {
    let mut journey = summary
        .header
        .as_ref()
        .map(|h| h.journey.clone())
        .unwrap_or_default();
    for canary in &mut journey.identity {
        if canary.kind.is_secret() {
            canary.value = None;
        }
    }
    journey
}

/// A credential finding never carries its value, and its evidence has the marked value masked.
fn mask_credential(finding: &mut Finding) {
    if finding.kind == DataKind::Credential {
        finding.value = None;
        if let Some(evidence) = &finding.evidence {
            finding.evidence = Some(crate::secret::mask_marked(
                evidence,
                crate::secret::WITHHELD,
            ));
        }
    }
}

/// How the run went, from the capture's summary.
fn run_info(summary: &CaptureSummary, meta: &ReportMeta, requests_analyzed: usize) -> RunInfo {
    let header = summary.header.as_ref();
    let end = summary.end.as_ref();
    let status = summary.status();
    let reason = match (status, end) {
        (RunStatus::Incomplete, Some(e)) => e
            .reason
            .clone()
            .or_else(|| Some("the run did not finish".to_string())),
        (RunStatus::Incomplete, None) => {
            Some("the capture has no end record: leakhound stopped before the run ended".into())
        }
        (RunStatus::Complete, _) => None,
    };
    RunInfo {
        status,
        reason,
        started_at: header.map(|h| h.started_at.clone()).unwrap_or_default(),
        duration_ms: end.map(|e| e.time_ms).unwrap_or_else(|| last_time(summary)),
        browser_version: header
            .map(|h| h.browser_version.clone())
            .unwrap_or_default(),
        capture_file: meta.capture_file.clone(),
        steps_run: end.map(|e| e.steps_run).unwrap_or(summary.steps.len()),
        requests: summary.requests,
        ws_frames: summary.ws_frames,
        websockets: summary.websockets,
        requests_analyzed,
        certificate_errors_ignored: header.is_some_and(|h| h.certificate_errors_ignored),
    }
}

/// Groups findings domain × kind × canary, for analyses that came without groups.
fn group_findings(findings: &[Finding]) -> Vec<FindingGroup> {
    let mut order: Vec<(String, DataKind, String)> = Vec::new();
    let mut by_key: BTreeMap<(String, DataKind, String), FindingGroup> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let key = f.group_key();
        by_key
            .entry(key.clone())
            .or_insert_with(|| {
                order.push(key);
                FindingGroup::for_finding(f, i)
            })
            .add(f);
    }
    order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .collect()
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn last_time(summary: &CaptureSummary) -> f64 {
    let steps = summary.steps.iter().map(|s| s.time_ms);
    let snaps = summary.snapshots.iter().map(|s| s.time_ms);
    steps.chain(snaps).fold(0.0, f64::max)
}

fn build_steps(
    summary: &CaptureSummary,
    findings: &[Finding],
    decisions: &[Decision],
    inventory: &[ThirdParty],
) -> Vec<StepReport> {
    let mut flows = StepFlows::default();
    for (i, f) in findings.iter().enumerate() {
        flows.add(f, matches!(decisions.get(i), Some(Decision::Violation)));
    }
    flows.finish(summary, inventory)
}

/// What left during each step, counted one finding at a time.
#[derive(Debug, Default)]
struct StepFlows {
    steps: BTreeMap<usize, StepReport>,
}

impl StepFlows {
    fn add(&mut self, f: &Finding, violates: bool) {
        let step = self
            .steps
            .entry(f.step)
            .or_insert_with(|| unknown_step(f.step));
        step.findings += 1;
        if violates {
            step.violations += 1;
        }
        let flow = match step.flows.iter_mut().position(|fl| fl.domain == f.domain) {
            Some(pos) => &mut step.flows[pos],
            None => {
                step.flows.push(StepFlow {
                    domain: f.domain.clone(),
                    vendor: f.vendor.clone(),
                    vendor_name: None,
                    kinds: Vec::new(),
                    findings: 0,
                    violations: 0,
                    severity: f.severity,
                });
                let last = step.flows.len() - 1;
                &mut step.flows[last]
            }
        };
        flow.findings += 1;
        if violates {
            flow.violations += 1;
        }
        flow.severity = flow.severity.max(f.severity);
        if flow.vendor.is_none() {
            flow.vendor = f.vendor.clone();
        }
        push_unique(&mut flow.kinds, f.kind);
    }

    /// The steps of the capture with the flows counted in.
    fn finish(self, summary: &CaptureSummary, inventory: &[ThirdParty]) -> Vec<StepReport> {
        let mut steps: BTreeMap<usize, StepReport> = BTreeMap::new();
        for s in &summary.steps {
            steps.insert(
                s.index,
                StepReport {
                    index: s.index,
                    action: s.action.clone(),
                    label: s.label.clone(),
                    time_ms: s.time_ms,
                    ..StepReport::default()
                },
            );
        }
        for snap in &summary.snapshots {
            let step = steps
                .entry(snap.step)
                .or_insert_with(|| unknown_step(snap.step));
            step.url = Some(snap.url.clone());
            step.title = Some(snap.title.clone());
            if snap.screenshot.is_some() {
                step.screenshot = snap.screenshot.clone();
            }
            if snap.error.is_some() {
                step.error = snap.error.clone();
            }
        }
        for dialog in &summary.dialogs {
            let step = steps
                .entry(dialog.step)
                .or_insert_with(|| unknown_step(dialog.step));
            step.dialogs
                .push(format!("{}: {}", dialog.kind, dialog.message));
        }
        for (index, counted) in self.steps {
            match steps.get_mut(&index) {
                Some(step) => {
                    step.findings = counted.findings;
                    step.violations = counted.violations;
                    step.flows = counted.flows;
                }
                None => {
                    steps.insert(index, counted);
                }
            }
        }
        for step in steps.values_mut() {
            for fl in &mut step.flows {
                fl.kinds.sort();
                fl.vendor_name = inventory
                    .iter()
                    .find(|t| t.domain == fl.domain)
                    .and_then(|t| t.vendor_name.clone());
            }
            step.flows
                .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.domain.cmp(&b.domain)));
        }
        steps.into_values().collect()
    }
}

fn unknown_step(index: usize) -> StepReport {
    StepReport {
        index,
        action: "unknown".to_string(),
        label: format!("step {index} (not recorded in the capture)"),
        ..StepReport::default()
    }
}

fn build_verdict(
    status: RunStatus,
    findings: &[Finding],
    groups: &[FindingGroup],
    decisions: &[Decision],
) -> Verdict {
    let violating_findings = decisions
        .iter()
        .filter(|d| matches!(d, Decision::Violation))
        .count();
    let violating_groups = groups
        .iter()
        .filter(|g| {
            findings.iter().zip(decisions).any(|(f, d)| {
                matches!(d, Decision::Violation)
                    && f.domain == g.domain
                    && f.kind == g.kind
                    && f.canary == g.canary
            })
        })
        .count();
    let mut receivers: Vec<&str> = findings.iter().map(|f| f.domain.as_str()).collect();
    receivers.sort_unstable();
    receivers.dedup();
    verdict_of(
        status,
        violating_findings,
        violating_groups,
        receivers.len(),
    )
}

/// The verdict from its counts.
fn verdict_of(
    status: RunStatus,
    violating_findings: usize,
    violating_groups: usize,
    receiving: usize,
) -> Verdict {
    let verdict_status = match (status, violating_findings) {
        (RunStatus::Incomplete, _) => VerdictStatus::Incomplete,
        (RunStatus::Complete, 0) => VerdictStatus::Pass,
        (RunStatus::Complete, _) => VerdictStatus::Fail,
    };
    let leaks = match violating_groups {
        0 => "no data flow breaks the policy".to_string(),
        1 => "1 data flow breaks the policy".to_string(),
        n => format!("{n} data flows break the policy"),
    };
    let parties = match receiving {
        0 => "no third party received any of the tracked data".to_string(),
        1 => "1 third party received tracked data".to_string(),
        n => format!("{n} third parties received tracked data"),
    };
    let headline = match verdict_status {
        VerdictStatus::Pass => format!("Pass: {leaks}; {parties}."),
        VerdictStatus::Fail => format!("Fail: {leaks}; {parties}."),
        VerdictStatus::Incomplete => format!(
            "Incomplete run: the journey did not finish, so this is a lower bound; {leaks}; {parties}."
        ),
    };
    Verdict {
        status: verdict_status,
        violating_groups,
        violating_findings,
        third_parties_receiving_data: receiving,
        headline,
    }
}
