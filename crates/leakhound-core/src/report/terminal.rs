//! The terminal summary: a compact table of what went where, the verdict, and the files written.
//!
//! Styles are always rendered; `anstream` strips them when stdout is not a terminal or when
//! `NO_COLOR` is set (and honours `CLICOLOR_FORCE`), so the logic lives in one place.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anstyle::{AnsiColor, Style};

use crate::classify::finding::{DataKind, Severity};

use super::explain;
use super::model::{Report, VerdictStatus};
use super::policy::Decision;

const BOLD: Style = Style::new().bold();
const RED: Style = AnsiColor::Red.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();

struct Row {
    party: String,
    kind: DataKind,
    findings: usize,
    severity: Severity,
    policy: &'static str,
}

fn rows(report: &Report) -> Vec<Row> {
    let mut by_key: BTreeMap<(String, DataKind), (usize, Severity, Vec<&Decision>)> =
        BTreeMap::new();
    if report.spilled.is_some() {
        // Findings on disk: the same rows from the groups and the policy's outcome per group.
        for g in &report.groups {
            let entry =
                by_key
                    .entry((g.domain.clone(), g.kind))
                    .or_insert((0, g.severity, Vec::new()));
            entry.0 += g.occurrences;
            entry.1 = entry.1.max(g.severity);
        }
        let p = &report.policy;
        let lists = [
            &p.violations,
            &p.allowed,
            &p.ignored,
            &p.below_threshold,
            &p.not_delivered,
        ];
        for outcome in lists.into_iter().flatten() {
            let decision = outcome.findings.first().and_then(|&i| report.decision(i));
            if let (Some(g), Some(d)) = (report.groups.get(outcome.group), decision) {
                if let Some(entry) = by_key.get_mut(&(g.domain.clone(), g.kind)) {
                    entry.2.push(d);
                }
            }
        }
    }
    for (i, f) in report.findings.iter().enumerate() {
        let entry = by_key
            .entry((f.domain.clone(), f.kind))
            .or_insert((0, f.severity, Vec::new()));
        entry.0 += 1;
        entry.1 = entry.1.max(f.severity);
        if let Some(d) = report.decision(i) {
            entry.2.push(d);
        }
    }
    let mut rows: Vec<Row> = by_key
        .into_iter()
        .map(|((domain, kind), (findings, severity, decisions))| {
            let policy = if decisions.iter().any(|d| matches!(d, Decision::Violation)) {
                "VIOLATION"
            } else if decisions
                .iter()
                .any(|d| matches!(d, Decision::Allowed { .. }))
            {
                "allowed"
            } else if decisions
                .iter()
                .any(|d| matches!(d, Decision::Ignored { .. }))
            {
                "ignored"
            } else {
                "not counted"
            };
            let name = report.party_name(&domain);
            let party = if name == domain {
                domain
            } else {
                format!("{name} ({domain})")
            };
            Row {
                party,
                kind,
                findings,
                severity,
                policy,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.policy == "VIOLATION")
            .cmp(&(a.policy == "VIOLATION"))
            .then(b.severity.cmp(&a.severity))
            .then(a.party.cmp(&b.party))
    });
    rows
}

fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// The summary with ANSI styles (strip them with `anstream::adapter::strip_str` for plain text).
pub fn render_summary(report: &Report, written: &[PathBuf]) -> String {
    let mut out = String::new();
    out.push_str(&paint(
        BOLD,
        &format!("leakhound · {}", report.journey.name),
    ));
    out.push('\n');
    let rows = rows(report);
    if rows.is_empty() {
        out.push_str("No tracked data reached a third party.\n");
    } else {
        let headers = ["Third party", "Data kind", "Findings", "Severity", "Policy"];
        let cells: Vec<[String; 5]> = rows
            .iter()
            .map(|r| {
                [
                    r.party.clone(),
                    r.kind.describe().to_string(),
                    r.findings.to_string(),
                    r.severity.as_str().to_string(),
                    r.policy.to_string(),
                ]
            })
            .collect();
        let mut widths = headers.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let header: Vec<String> = headers.iter().zip(widths).map(|(h, w)| pad(h, w)).collect();
        out.push_str(&paint(BOLD, header.join("  ").trim_end()));
        out.push('\n');
        for (row, cells) in rows.iter().zip(&cells) {
            let mut line: Vec<String> = Vec::new();
            for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
                // The last column is not padded, so plain lines carry no trailing blanks.
                let text = if i == 4 { c.clone() } else { pad(c, w) };
                let styled = match i {
                    3 if row.severity >= Severity::High => paint(RED, &text),
                    3 if row.severity == Severity::Medium => paint(YELLOW, &text),
                    4 if row.policy == "VIOLATION" => paint(RED, &text),
                    4 if row.policy == "allowed" => paint(GREEN, &text),
                    4 => paint(DIM, &text),
                    _ => text,
                };
                line.push(styled);
            }
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
    }
    // Why the gravest violations are violations: the rule, in one sentence, with the id that
    // `leakhound explain` takes.
    let mut why: Vec<(Severity, usize, &str)> = report
        .findings
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(report.decision(*i), Some(Decision::Violation)))
        .filter_map(|(i, f)| f.rule.as_deref().map(|r| (f.severity, i, r)))
        .collect();
    if let Some(spilled) = &report.spilled {
        why.extend(spilled.why.iter().map(|(s, i, r)| (*s, *i, r.as_str())));
    }
    why.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut seen_rules = std::collections::HashSet::new();
    why.retain(|(_, _, r)| seen_rules.insert(*r));
    if !why.is_empty() {
        out.push('\n');
        out.push_str(&paint(
            BOLD,
            "Why (leakhound explain ID REPORT shows the rule chain):",
        ));
        out.push('\n');
        for (_, i, rule) in why.iter().take(5) {
            out.push_str(&format!("  {:<5} {rule}\n", explain::finding_id(*i)));
        }
    }
    let verdict_style = match report.verdict.status {
        VerdictStatus::Pass => GREEN,
        VerdictStatus::Fail => RED,
        VerdictStatus::Incomplete => YELLOW,
    };
    out.push('\n');
    out.push_str(&paint(verdict_style, &report.verdict.headline));
    out.push('\n');
    if let Some(reason) = &report.run.reason {
        out.push_str(&format!("Run incomplete: {reason}\n"));
    }
    if !written.is_empty() {
        out.push_str(&paint(BOLD, "Reports written:"));
        out.push('\n');
        for path in written {
            out.push_str(&format!("  {}\n", path.display()));
        }
    }
    out
}

/// Prints the summary to stdout, coloured when stdout is a terminal and `NO_COLOR` is unset.
pub fn print_summary(report: &Report, written: &[PathBuf]) -> std::io::Result<()> {
    let mut stdout = anstream::stdout();
    stdout.write_all(render_summary(report, written).as_bytes())?;
    stdout.flush()
}
