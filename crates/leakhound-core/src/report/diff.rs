//! `leakhound diff OLD NEW`: which flows appeared, disappeared or changed between two reports.
//!
//! A flow is a finding group: third-party domain × data kind × canary. Comparing flows rather than
//! individual requests keeps the diff stable across runs, where request ids, timings and counts of
//! identical beacons naturally vary. A release gate fails only on *new* violations, so a known and
//! accepted problem does not block every release while it is being fixed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::finding::{DataKind, Severity};

use super::explain;
use super::model::Report;

/// One flow as seen in one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    pub kind: DataKind,
    pub canary: String,
    pub severity: Severity,
    pub occurrences: usize,
    pub delivered: usize,
    pub channels: Vec<String>,
    pub encodings: Vec<String>,
    /// True when at least one of its findings violates that report's policy.
    pub violation: bool,
}

/// A flow present in both reports whose details differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowChange {
    pub old: Flow,
    pub new: Flow,
    /// Human-readable differences, e.g. `severity: medium → high`.
    pub changes: Vec<String>,
}

/// The difference between two reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportDiff {
    pub old_journey: String,
    pub new_journey: String,
    pub old_generated_at: String,
    pub new_generated_at: String,
    pub new: Vec<Flow>,
    pub gone: Vec<Flow>,
    pub changed: Vec<FlowChange>,
    pub unchanged: usize,
}

type Key = (String, DataKind, String);

fn flows(report: &Report) -> BTreeMap<Key, Flow> {
    report
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let mut channels = group.channels.clone();
            channels.sort();
            let mut encodings = group.encodings.clone();
            encodings.sort();
            (
                (group.domain.clone(), group.kind, group.canary.clone()),
                Flow {
                    domain: group.domain.clone(),
                    vendor: group.vendor.clone(),
                    kind: group.kind,
                    canary: group.canary.clone(),
                    severity: group.severity,
                    occurrences: group.occurrences,
                    delivered: group.delivered,
                    channels,
                    encodings,
                    violation: report.group_violates(g),
                },
            )
        })
        .collect()
}

fn set_change(name: &str, old: &[String], new: &[String]) -> Option<String> {
    let added: Vec<String> = new
        .iter()
        .filter(|x| !old.contains(x))
        .map(|x| format!("+{x}"))
        .collect();
    let removed: Vec<String> = old
        .iter()
        .filter(|x| !new.contains(x))
        .map(|x| format!("-{x}"))
        .collect();
    if added.is_empty() && removed.is_empty() {
        None
    } else {
        let mut all = added;
        all.extend(removed);
        Some(format!("{name}: {}", all.join(" ")))
    }
}

fn compare(old: &Flow, new: &Flow) -> Vec<String> {
    let mut changes = Vec::new();
    if old.violation != new.violation {
        changes.push(format!(
            "policy: {} → {}",
            verdict_word(old.violation),
            verdict_word(new.violation)
        ));
    }
    if old.severity != new.severity {
        changes.push(format!(
            "severity: {} → {}",
            old.severity.as_str(),
            new.severity.as_str()
        ));
    }
    if old.vendor != new.vendor {
        changes.push(format!(
            "vendor: {} → {}",
            old.vendor.as_deref().unwrap_or("unknown"),
            new.vendor.as_deref().unwrap_or("unknown")
        ));
    }
    changes.extend(set_change("channels", &old.channels, &new.channels));
    changes.extend(set_change("encodings", &old.encodings, &new.encodings));
    if old.occurrences != new.occurrences {
        changes.push(format!(
            "occurrences: {} → {}",
            old.occurrences, new.occurrences
        ));
    }
    changes
}

fn verdict_word(violation: bool) -> &'static str {
    if violation {
        "violation"
    } else {
        "not a violation"
    }
}

/// Compares two reports flow by flow.
pub fn diff(old: &Report, new: &Report) -> ReportDiff {
    let old_flows = flows(old);
    let mut new_flows = flows(new);
    let mut result = ReportDiff {
        old_journey: old.journey.name.clone(),
        new_journey: new.journey.name.clone(),
        old_generated_at: old.generated_at.clone(),
        new_generated_at: new.generated_at.clone(),
        new: Vec::new(),
        gone: Vec::new(),
        changed: Vec::new(),
        unchanged: 0,
    };
    for (key, old_flow) in old_flows {
        match new_flows.remove(&key) {
            None => result.gone.push(old_flow),
            Some(new_flow) => {
                let changes = compare(&old_flow, &new_flow);
                if changes.is_empty() {
                    result.unchanged += 1;
                } else {
                    result.changed.push(FlowChange {
                        old: old_flow,
                        new: new_flow,
                        changes,
                    });
                }
            }
        }
    }
    result.new = new_flows.into_values().collect();
    result
}

impl ReportDiff {
    /// Flows that violate policy in the new report and did not in the old one (new or changed).
    pub fn new_violations(&self) -> Vec<&Flow> {
        self.new
            .iter()
            .filter(|f| f.violation)
            .chain(
                self.changed
                    .iter()
                    .filter(|c| c.new.violation && !c.old.violation)
                    .map(|c| &c.new),
            )
            .collect()
    }

    /// True when `leakhound diff` must exit 1.
    pub fn has_new_violations(&self) -> bool {
        !self.new_violations().is_empty()
    }

    /// True when nothing differs.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.gone.is_empty() && self.changed.is_empty()
    }

    /// The diff as pretty JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The diff as text for a terminal or a CI log.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "leakhound diff: {} ({}) → {} ({})\n",
            self.old_journey, self.old_generated_at, self.new_journey, self.new_generated_at
        );
        let line = |sign: char, f: &Flow| {
            format!(
                "  {sign} {}{} '{}' → {}{} via {} [{}], {}×, {}\n",
                if f.violation { "[VIOLATION] " } else { "" },
                explain::kind_title(f.kind),
                f.canary,
                f.domain,
                f.vendor
                    .as_deref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default(),
                f.channels.join(", "),
                f.encodings.join("; "),
                f.occurrences,
                f.severity.as_str()
            )
        };
        if !self.new.is_empty() {
            out.push_str(&format!("New flows ({}):\n", self.new.len()));
            self.new.iter().for_each(|f| out.push_str(&line('+', f)));
        }
        if !self.gone.is_empty() {
            out.push_str(&format!("Gone flows ({}):\n", self.gone.len()));
            self.gone.iter().for_each(|f| out.push_str(&line('-', f)));
        }
        if !self.changed.is_empty() {
            out.push_str(&format!("Changed flows ({}):\n", self.changed.len()));
            for c in &self.changed {
                out.push_str(&line('~', &c.new));
                for change in &c.changes {
                    out.push_str(&format!("      {change}\n"));
                }
            }
        }
        out.push_str(&format!("Unchanged flows: {}\n", self.unchanged));
        let n = self.new_violations().len();
        if n == 0 {
            out.push_str("Result: no new violation\n");
        } else {
            out.push_str(&format!("Result: {n} new violation(s)\n"));
        }
        out
    }
}
