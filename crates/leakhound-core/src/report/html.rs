//! The HTML report: one self-contained file a compliance officer can open, read and print.
//!
//! Self-contained means no network: the CSS is inline and screenshots are embedded as data URIs,
//! so the file can be attached to a ticket or an audit record and still show everything years later.
//! Every value from the capture is attacker-controlled (a page chooses its URLs, titles and payloads),
//! so all text goes through maud's escaping; the only unescaped strings are this module's own CSS.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::capture::record::{Fate, RunStatus};
use crate::classify::finding::{DataKind, Finding, FindingGroup, Severity};

use super::explain;
use super::model::{Report, StepReport, VerdictStatus};
use super::policy::Decision;
use super::{write_file, ReportError};

/// Screenshots larger than this are not embedded (the report would become unwieldy).
const MAX_SCREENSHOT_BYTES: u64 = 8 * 1024 * 1024;
/// Occurrences listed per finding group; the JSON report has them all.
const MAX_OCCURRENCES: usize = 50;

const CSS: &str = r#"
:root { --fail:#b3261e; --fail-bg:#fdecea; --pass:#1e6b34; --pass-bg:#e8f5ec; --warn:#8a5a00; --warn-bg:#fff4e0;
  --muted:#5f6368; --line:#dadce0; --ink:#202124; --mark:#ffe066; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 21px; margin: 36px 0 12px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 17px; margin: 0 0 8px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.verdict { border-radius: 8px; padding: 16px 20px; margin: 16px 0; border: 2px solid; }
.verdict.fail { background: var(--fail-bg); border-color: var(--fail); }
.verdict.pass { background: var(--pass-bg); border-color: var(--pass); }
.verdict.incomplete { background: var(--warn-bg); border-color: var(--warn); }
.verdict .big { font-size: 22px; font-weight: 700; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f4; font-weight: 600; }
td.num { text-align: right; }
.matrix td.cell { text-align: center; font-weight: 600; white-space: nowrap; }
.cell.violation { background: var(--fail-bg); color: var(--fail); }
.cell.allowed { background: var(--pass-bg); color: var(--pass); }
.cell.ignored, .cell.other { background: #f1f3f4; color: var(--muted); }
.cell.none { color: #c0c4c8; font-weight: 400; }
.badge { display: inline-block; border-radius: 4px; padding: 1px 8px; font-size: 13px; font-weight: 600; }
.badge.violation { background: var(--fail); color: #fff; } .badge.allowed { background: var(--pass); color: #fff; }
.badge.ignored, .badge.other { background: #e0e0e0; color: var(--ink); }
.sev { font-size: 12px; font-weight: 700; text-transform: uppercase; padding: 1px 6px; border-radius: 4px; }
.sev.critical { background: #5b0f0a; color: #fff; } .sev.high { background: var(--fail); color: #fff; }
.sev.medium { background: #f4b400; color: #000; } .sev.low { background: #e0e0e0; color: #000; }
.step, .group { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 14px 0; break-inside: avoid; }
.step { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 340px); gap: 16px; }
.step-shot .shot { margin: 0; max-height: 300px; }
.step.leaked { border-left: 6px solid var(--fail); } .group.violation { border-left: 6px solid var(--fail); }
.explain { background: #f8f9fa; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.explain p { margin: 4px 0; }
code, pre, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
pre.evidence { background: #f8f9fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; }
mark { background: var(--mark); padding: 0 2px; border-radius: 2px; font-weight: 700; }
.url { overflow-wrap: anywhere; }
.shot { max-width: 100%; max-height: 420px; border: 1px solid var(--line); border-radius: 4px; display: block; margin: 8px 0; }
.detail { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 300px); gap: 16px; }
.detail-shot .shot { max-height: 260px; margin-top: 36px; }
.detail pre.evidence, .detail ol.stack { break-inside: avoid; }
ul.flows { margin: 6px 0; padding-left: 20px; }
ol.stack { margin: 4px 0; padding-left: 24px; font-size: 13px; }
.muted { color: var(--muted); }
.error { color: var(--fail); font-weight: 600; }
nav.toc a { margin-right: 14px; }
@media (max-width: 800px) { .step, .detail { grid-template-columns: 1fr; } }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav.toc { display: none; }
  h2 { break-after: avoid; }
  .verdict, .cell, .badge, .sev, mark { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .shot { max-height: 220px; }
  .step, .detail { grid-template-columns: minmax(0, 1fr) minmax(0, 200px); }
  .group { break-inside: auto; }
  .group .what-is { display: none; }
  table.occurrences { font-size: 9pt; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// Writes the HTML report. `screenshot_base` is the folder screenshot paths are relative to.
pub fn write_html(
    report: &Report,
    path: &Path,
    screenshot_base: Option<&Path>,
) -> Result<(), ReportError> {
    let html = render_html(report, screenshot_base);
    write_file(path, html.as_bytes())
}

/// Renders the report as one HTML document.
pub fn render_html(report: &Report, screenshot_base: Option<&Path>) -> String {
    let mut shots = Screenshots::new(screenshot_base);
    let order = group_order(report);
    let title = format!("leakhound report: {}", report.journey.name);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "Health data sent to third parties: " (report.journey.name) }
                    p.sub {
                        "Journey starting at " span.url { (report.journey.start_url) }
                        " · run " (report.run.started_at)
                        " · report " (report.generated_at)
                        @if report.redacted { " · values redacted for sharing" }
                    }
                    @if !report.journey.description.is_empty() { p { (report.journey.description) } }
                }
                nav.toc {
                    a href="#matrix" { "Overview" } a href="#steps" { "Step by step" }
                    a href="#findings" { "Findings" } a href="#inventory" { "Third parties" }
                    a href="#policy" { "Policy" } a href="#run" { "Run details" } a href="#glossary" { "Glossary" }
                }
                (verdict(report))
                (matrix(report))
                (steps(report, &mut shots))
                (findings(report, &order, &mut shots))
                (inventory(report))
                (policy(report))
                (run_details(report))
                (glossary())
            }
        }
    };
    page.into_string()
}

fn verdict(report: &Report) -> Markup {
    let v = &report.verdict;
    let class = v.status.as_str();
    let big = match v.status {
        VerdictStatus::Pass => "PASS — no policy violation",
        VerdictStatus::Fail => "FAIL — health data reached third parties against policy",
        VerdictStatus::Incomplete => "INCOMPLETE RUN — results are a lower bound",
    };
    html! {
        section.verdict.(class) id="verdict" data-status=(class) {
            div.big { (big) }
            p { (v.headline) }
            @if report.run.status == RunStatus::Incomplete {
                p { strong { "Why the run is incomplete: " } (report.run.reason.as_deref().unwrap_or("unknown")) }
            }
            p.muted {
                (v.violating_findings) " violating finding(s) in " (v.violating_groups) " flow(s); "
                (report.findings.len()) " finding(s) in total across " (report.steps.len()) " step(s)."
            }
        }
    }
}

/// The decision class for CSS: violation beats allowed beats the rest.
fn cell_class(decisions: &[&Decision]) -> &'static str {
    if decisions.iter().any(|d| matches!(d, Decision::Violation)) {
        "violation"
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
        "other"
    }
}

fn matrix(report: &Report) -> Markup {
    // domain -> kind -> (findings, decisions)
    let mut cells: BTreeMap<&str, BTreeMap<DataKind, Vec<&Decision>>> = BTreeMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        let entry = cells
            .entry(f.domain.as_str())
            .or_default()
            .entry(f.kind)
            .or_default();
        if let Some(d) = report.decision(i) {
            entry.push(d);
        }
    }
    let mut domains: Vec<&str> = cells.keys().copied().collect();
    domains.sort_by_key(|d| {
        let violations = cells[d]
            .values()
            .flatten()
            .filter(|x| matches!(x, Decision::Violation))
            .count();
        (std::cmp::Reverse(violations), d.to_string())
    });
    html! {
        section id="matrix" {
            h2 { "Who received what" }
            @if domains.is_empty() {
                p { "No third party received any of the tracked data during this journey." }
            } @else {
                p.muted { "Each cell counts the times a kind of data reached a third party. Red: against policy. Green: allowed by policy. Grey: ignored or below threshold." }
                table.matrix {
                    thead { tr {
                        th { "Third party" }
                        @for kind in DataKind::ALL { th title=(explain::kind_what(kind)) { (explain::kind_title(kind)) } }
                    } }
                    tbody {
                        @for domain in &domains {
                            tr data-domain=(domain) {
                                td { (party_label(report, domain)) }
                                @for kind in DataKind::ALL {
                                    @match cells[domain].get(&kind) {
                                        Some(ds) => {
                                            @let class = cell_class(ds);
                                            td.cell.(class) data-kind=(kind.as_str()) title=(format!("{}: {} occurrence(s), {}", explain::kind_title(kind), ds.len(), class)) {
                                                @if class == "violation" { "✗ " } @else if class == "allowed" { "✓ " }
                                                (ds.len())
                                            }
                                        }
                                        None => { td.cell.none data-kind=(kind.as_str()) { "–" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn party_label(report: &Report, domain: &str) -> Markup {
    let tp = report.third_party(domain);
    html! {
        strong { (report.party_name(domain)) }
        @if tp.and_then(|t| t.vendor_name.as_ref()).is_some() { " " span.muted { "(" (domain) ")" } }
        @if let Some(company) = tp.and_then(|t| t.company.as_ref()) { br; span.muted { (company) } }
        @if let Some(category) = tp.and_then(|t| t.category.as_ref()) { span.muted { " · " (category) } }
    }
}

fn steps(report: &Report, shots: &mut Screenshots) -> Markup {
    html! {
        section id="steps" {
            h2 { "Step by step: what the patient did and what left" }
            @for step in &report.steps {
                (step_card(report, step, shots))
            }
        }
    }
}

fn step_card(report: &Report, step: &StepReport, shots: &mut Screenshots) -> Markup {
    let leaked = step.violations > 0;
    html! {
        article.step.leaked[leaked] id=(format!("step-{}", step.index)) data-step=(step.index) {
          div.step-text {
            h3 { "Step " (step.index) " · " (explain::action_words(&step.action)) ": " (step.label) }
            dl.facts {
                @if let Some(url) = &step.url { dt { "Page" } dd.url { (url) } }
                @if let Some(title) = &step.title { @if !title.is_empty() { dt { "Page title" } dd { (title) } } }
                dt { "Time" } dd { (format!("{:.1} s into the journey", step.time_ms / 1000.0)) }
                @if let Some(error) = &step.error { dt { "Problem" } dd.error { (error) } }
                @for d in &step.dialogs { dt { "Dialog" } dd { (d) } }
            }
            @if step.flows.is_empty() {
                p.muted { "Nothing tracked left for a third party during this step." }
            } @else {
                p { strong { "What left, to whom:" } }
                ul.flows {
                    @for flow in &step.flows {
                        li {
                            strong { (report.party_name(&flow.domain)) }
                            @if flow.vendor_name.is_some() { " (" (flow.domain) ")" }
                            " received "
                            (flow.kinds.iter().map(|k| explain::kind_title(*k).to_lowercase()).collect::<Vec<_>>().join(", "))
                            " — " (flow.findings) " finding(s)"
                            @if flow.violations > 0 { ", " span.error { (flow.violations) " against policy" } }
                            " " span.sev.(flow.severity.as_str()) { (flow.severity.as_str()) }
                        }
                    }
                }
            }
          }
            @if let Some(path) = &step.screenshot { div.step-shot { (shots.img(path, &format!("Screenshot after step {}", step.index))) } }
        }
    }
}

/// Group indices, violations first, then by severity.
fn group_order(report: &Report) -> Vec<usize> {
    let mut order: Vec<usize> = (0..report.groups.len()).collect();
    order.sort_by_key(|&g| {
        let group = &report.groups[g];
        (
            !report.group_violates(g),
            std::cmp::Reverse(group.severity),
            group.domain.clone(),
            group.kind,
        )
    });
    order
}

fn findings(report: &Report, order: &[usize], shots: &mut Screenshots) -> Markup {
    html! {
        section id="findings" {
            h2 { "Findings" }
            @if order.is_empty() { p { "No finding." } }
            @for &g in order {
                (group_card(report, g, shots))
            }
        }
    }
}

fn group_decision(report: &Report, findings: &[usize]) -> (&'static str, String) {
    let decisions: Vec<&Decision> = findings
        .iter()
        .filter_map(|&i| report.decision(i))
        .collect();
    let class = cell_class(&decisions);
    let words = decisions
        .iter()
        .find(|d| matches!(d, Decision::Violation))
        .or_else(|| decisions.first())
        .map(|d| explain::decision_words(d))
        .unwrap_or_default();
    (class, words)
}

fn what_leaked(group: &FindingGroup) -> String {
    match (&group.value, group.kind) {
        (_, DataKind::Credential) => format!("{} (value never shown)", group.canary),
        (Some(v), _) => v.clone(),
        (None, _) => group.canary.clone(),
    }
}

fn group_card(report: &Report, g: usize, shots: &mut Screenshots) -> Markup {
    let group = &report.groups[g];
    let members = report.findings_of_group(g);
    let (class, words) = group_decision(report, &members);
    let first = report
        .findings
        .get(group.first)
        .or_else(|| members.first().and_then(|&i| report.findings.get(i)));
    let sub = group
        .sub_kind
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    html! {
        article.group.(class) id=(format!("group-{g}")) data-kind=(group.kind.as_str()) data-domain=(group.domain) {
            h3 {
                (explain::kind_title(group.kind)) (sub) " sent to " (report.party_name(&group.domain))
                @if report.third_party(&group.domain).and_then(|t| t.vendor_name.as_ref()).is_some() { " (" (group.domain) ")" }
            }
            p {
                span.badge.(class) { (words) } " " span.sev.(group.severity.as_str()) { (group.severity.as_str()) }
                @if !group.confidence.is_canary() {
                    " " span.badge.pattern title="Recognised by its form (an e-mail, phone, SSN or card number, or a hash in a hashed-identifier parameter), not matched against a declared value" { "pattern" }
                }
            }
            dl.facts {
                dt { "What" } dd.what { (what_leaked(group)) }
                dt { "Severity" } dd { (explain::severity_words(group.severity)) }
                dt { "How often" } dd {
                    (group.occurrences) " time(s): " (group.delivered) " delivered, "
                    (group.initiated_only) " sent but not confirmed"
                }
                dt { "In step(s)" } dd {
                    @for (n, s) in group.steps.iter().enumerate() {
                        @if n > 0 { ", " }
                        a href=(format!("#step-{s}")) { (s) }
                    }
                }
                dt { "Where in the request" } dd.mono { (group.channels.join(", ")) }
                dt { "Encoding" } dd.mono { (group.encodings.join("; ")) }
            }
            div.explain {
                p.what-is { strong { "What this is. " } (explain::kind_what(group.kind)) }
                p { strong { "Why it matters. " } (explain::kind_why(group.kind)) }
            }
            @if let Some(f) = first { (finding_detail(report, f, shots)) }
            @if members.len() > 1 { (occurrences(report, &members)) }
        }
    }
}

fn evidence(text: &str) -> Markup {
    html! {
        pre.evidence {
            @for (marked, part) in split_marks(text) {
                @if marked { mark { (part) } } @else { (part) }
            }
        }
    }
}

/// Splits evidence into (is_marked, text) parts on `[[` / `]]`.
pub(crate) fn split_marks(text: &str) -> Vec<(bool, &str)> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("[[") {
        if start > 0 {
            parts.push((false, &rest[..start]));
        }
        let after = &rest[start + 2..];
        match after.find("]]") {
            Some(end) => {
                parts.push((true, &after[..end]));
                rest = &after[end + 2..];
            }
            None => {
                parts.push((true, after));
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        parts.push((false, rest));
    }
    parts
}

fn fate_words(fate: &Fate) -> String {
    match fate {
        Fate::Delivered => "delivered (the server answered)".to_string(),
        Fate::Failed { reason } => format!("failed: {reason}"),
        Fate::Initiated => "sent, but no answer before the run ended".to_string(),
    }
}

fn finding_detail(report: &Report, f: &Finding, shots: &mut Screenshots) -> Markup {
    html! {
        div.detail {
          div.detail-text {
            h4 { "First occurrence" }
            dl.facts {
                dt { "Request" } dd.url.mono.request { (f.method) " " (f.request_url) }
                dt { "Delivery" } dd { (fate_words(&f.fate)) }
                dt { "Parameter" } dd {
                    code { (f.channel) }
                    @if let Some(m) = &f.parameter_meaning { " — the vendor reads it as " em { (m) } }
                }
                dt { "Encoding chain" } dd.mono.encoding { (f.encoding_label()) }
                dt { "On page" } dd.url { (f.page_url) }
                @if let Some(p) = &f.source_page { dt { "Leaked page" } dd.url { (p) } }
                dt { "Sent by script" } dd.url.mono { (f.initiator_url.as_deref().unwrap_or("(not known: the browser sent it, e.g. a pixel in the HTML)")) }
                @if let Some(rule) = &f.rule { dt { "Rule" } dd.rule { (rule) } }
                @if let Some(page) = &f.page_context { dt { "Page" } dd { (page.category.phrase()) " — " (page.reason) } }
                @for a in &f.also_matched {
                    dt { "Same bytes" } dd { "also " (explain::kind_title(a.kind).to_lowercase()) " " code { (a.canary) } " — one disclosure, reported once" }
                }
                @if !f.name_parts.is_empty() { dt { "Name parts" } dd { (f.name_parts.join(", ")) } }
            }
            @if let Some(e) = &f.evidence {
                p { strong { "Decoded payload" } " (the leaked value is highlighted):" }
                (evidence(e))
            }
            @if !f.stack.is_empty() {
                p { strong { "JavaScript stack" } " (innermost first):" }
                ol.stack.mono {
                    @for frame in &f.stack {
                        li {
                            @if let Some(b) = &frame.async_boundary { span.muted { "[async: " (b) "] " } }
                            (if frame.function.is_empty() { "(anonymous)" } else { frame.function.as_str() })
                            " — " span.url { (frame.url) } ":" (frame.line) ":" (frame.column)
                        }
                    }
                }
            }
          }
            @if let Some(shot) = report.step(f.step).and_then(|s| s.screenshot.as_deref()) {
                div.detail-shot {
                    (shots.img(shot, &format!("Screenshot of step {}", f.step)))
                    p.muted { "The page at step " (f.step) "." }
                }
            }
        }
    }
}

fn occurrences(report: &Report, members: &[usize]) -> Markup {
    html! {
        table.occurrences {
            caption.muted { "All occurrences" @if members.len() > MAX_OCCURRENCES { " (first " (MAX_OCCURRENCES) " of " (members.len()) "; the JSON report lists all)" } }
            thead { tr { th { "Step" } th { "Parameter" } th { "Encoding" } th { "Delivery" } th { "Policy" } th { "Request" } } }
            tbody {
                @for &i in members.iter().take(MAX_OCCURRENCES) {
                    @let f = &report.findings[i];
                    tr {
                        td.num { (f.step) }
                        td.mono { (f.channel) }
                        td.mono { (f.encoding_label()) }
                        td { (match f.fate { Fate::Delivered => "delivered", Fate::Failed { .. } => "failed", Fate::Initiated => "not confirmed" }) }
                        td { (report.decision(i).map(|d| d.as_str()).unwrap_or("")) }
                        td.url.mono { (f.method) " " (f.request_url) }
                    }
                }
            }
        }
    }
}

fn inventory(report: &Report) -> Markup {
    html! {
        section id="inventory" {
            h2 { "Every third party contacted" }
            p.muted { "Listed whether or not anything sensitive reached it: each one received at least the visitor's IP address and browser details." }
            table.inventory {
                thead { tr { th { "Third party" } th { "Category" } th { "Requests" } th { "Bytes sent" } th { "Cookies" } th { "Data received" } } }
                tbody {
                    @for tp in &report.inventory {
                        tr {
                            td { strong { (tp.vendor_name.as_deref().unwrap_or(&tp.domain)) } br; span.muted { (tp.domain) } }
                            td { (tp.category.as_deref().unwrap_or("unknown")) @if let Some(c) = &tp.company { br; span.muted { (c) } } }
                            td.num { (tp.requests + tp.ws_frames) }
                            td.num { (tp.bytes_sent) }
                            td.mono { (tp.cookies.join(", ")) }
                            td { (tp.data_kinds.iter().map(|k| explain::kind_title(*k)).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
            }
        }
    }
}

fn policy(report: &Report) -> Markup {
    let p = &report.policy;
    html! {
        section id="policy" {
            h2 { "Policy" }
            p {
                @match &p.source { Some(s) => { "Policy file " code { (s) } }, None => { "Built-in default policy: any tracked data reaching any third party is a violation." } }
            }
            dl.facts {
                dt { "Severity threshold" } dd { (p.severity_threshold.map(Severity::as_str).unwrap_or("low")) " (findings below it never violate)" }
                dt { "Unconfirmed sends" } dd { @if p.count_initiated { "count as violations" } @else { "do not count" } }
                dt { "Violations" } dd { (p.violations.len()) " flow(s)" }
                dt { "Allowed" } dd { (p.allowed.len()) " flow(s)" }
                dt { "Ignored" } dd { (p.ignored.len()) " flow(s)" }
            }
            @if !p.allow_rules.is_empty() {
                h3 { "Allowed flows" }
                table { thead { tr { th { "#" } th { "Vendor / domain" } th { "Data kinds" } th { "Reason" } } }
                    tbody { @for (i, r) in p.allow_rules.iter().enumerate() { tr {
                        td.num { (i) }
                        td { (r.vendor.as_deref().unwrap_or("")) " " (r.domain.as_deref().unwrap_or("")) }
                        td { (r.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")) }
                        td { (r.reason.as_deref().unwrap_or("")) }
                    } } }
                }
            }
            @if !p.ignored.is_empty() {
                h3 { "Ignored findings and why" }
                table.ignored { thead { tr { th { "Third party" } th { "Data" } th { "Findings" } th { "Reason" } } }
                    tbody { @for e in &p.ignored { tr {
                        td { (report.party_name(&e.domain)) }
                        td { (explain::kind_title(e.kind)) ": " (e.canary) }
                        td.num { (e.findings.len()) }
                        td { (e.reason.as_deref().unwrap_or("")) }
                    } } }
                }
            }
        }
    }
}

fn run_details(report: &Report) -> Markup {
    let r = &report.run;
    html! {
        section id="run" {
            h2 { "Run details" }
            dl.facts {
                dt { "Status" } dd { (match r.status { RunStatus::Complete => "complete", RunStatus::Incomplete => "incomplete" }) }
                @if let Some(reason) = &r.reason { dt { "Reason" } dd { (reason) } }
                dt { "Started" } dd { (r.started_at) }
                dt { "Duration" } dd { (format!("{:.1} s", r.duration_ms / 1000.0)) }
                dt { "Browser" } dd { (r.browser_version) }
                @if r.certificate_errors_ignored { dt { "TLS" } dd { "Certificate errors were ignored (--ignore-certificate-errors): the site's identity was not verified." } }
                dt { "Requests captured" } dd { (r.requests) " HTTP, " (r.ws_frames) " WebSocket frame(s)" }
                @if let Some(c) = &r.capture_file { dt { "Capture file" } dd.mono { (c) } }
                dt { "Scenario" } dd.mono { (report.journey.file) }
                dt { "leakhound" } dd { (report.tool_version) ", signatures " (report.signatures_version) }
            }
        }
    }
}

fn glossary() -> Markup {
    html! {
        section id="glossary" {
            h2 { "Glossary: the kinds of data leakhound looks for" }
            @for kind in DataKind::ALL {
                div.explain {
                    h3 { (explain::kind_title(kind)) }
                    p { (explain::kind_what(kind)) }
                    p { strong { "Why it matters: " } (explain::kind_why(kind)) }
                }
            }
        }
    }
}

/// Reads and embeds screenshots once each, and only real images: a capture file is untrusted input
/// and must not be able to smuggle an arbitrary local file into a report that gets shared.
struct Screenshots {
    base: Option<PathBuf>,
    cache: HashMap<String, Option<String>>,
}

impl Screenshots {
    fn new(base: Option<&Path>) -> Screenshots {
        Screenshots {
            base: base.map(Path::to_path_buf),
            cache: HashMap::new(),
        }
    }

    fn data_uri(&mut self, path: &str) -> Option<String> {
        if let Some(hit) = self.cache.get(path) {
            return hit.clone();
        }
        let full = match &self.base {
            Some(base) => base.join(path),
            None => PathBuf::from(path),
        };
        let uri = load_image(&full);
        if uri.is_none() {
            tracing::warn!(path = %full.display(), "screenshot not embedded");
        }
        self.cache.insert(path.to_string(), uri.clone());
        uri
    }

    fn img(&mut self, path: &str, alt: &str) -> Markup {
        match self.data_uri(path) {
            Some(uri) => html! { img.shot src=(uri) alt=(alt); },
            None => html! { p.muted { "Screenshot not available (" (path) ")." } },
        }
    }
}

fn load_image(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_SCREENSHOT_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return None;
    };
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Some(format!("data:{mime};base64,{data}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_marked_evidence() {
        assert_eq!(
            split_marks("a[[b]]c[[d]]"),
            vec![(false, "a"), (true, "b"), (false, "c"), (true, "d")]
        );
        assert_eq!(split_marks("[[x"), vec![(true, "x")]);
        assert_eq!(split_marks("plain"), vec![(false, "plain")]);
    }

    #[test]
    fn evidence_is_escaped_and_marked() {
        let html = evidence("<script>alert(1)</script>&q=[[chest <b>pain</b>]]").into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains("<mark>chest &lt;b&gt;pain&lt;/b&gt;</mark>"),
            "{html}"
        );
    }

    #[test]
    fn only_real_images_are_embedded() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("secret.png");
        std::fs::write(&fake, b"not an image").unwrap();
        assert!(load_image(&fake).is_none());
        let png = dir.path().join("ok.png");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\nrest").unwrap();
        assert!(load_image(&png)
            .unwrap()
            .starts_with("data:image/png;base64,"));
        assert!(load_image(&dir.path().join("missing.png")).is_none());
    }
}
