//! The classifier: which third party received which of the user's data.
//!
//! Pure and streaming. A capture is read twice, line by line: pass 1 ([`canary::Collector`]) learns
//! the canaries (identity values, pages visited, titles, typed and searched text), pass 2
//! ([`engine::Engine`]) searches every third-party request and WebSocket frame for them. Memory
//! grows with the journey (steps, pages, findings), never with the number of requests.
//!
//! Module map: [`party`] (first or third party), [`signatures`] and [`entities`] (who a host
//! belongs to), [`variants`] (normalised and hashed forms of values), [`matcher`] (one automaton over
//! all forms), [`decode`] and [`scan`] (channels and encodings), [`severity`], and `scenario::identity` (the
//! identity file for HAR input).

pub mod canary;
pub mod decode;
pub mod engine;
pub mod entities;
pub mod finding;
mod light;
pub mod matcher;
pub mod party;
pub mod patterns;
pub mod scan;
pub mod severity;
pub mod signatures;
pub mod spill;
pub mod variants;
pub mod view;

#[cfg(test)]
mod corpus_tests;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::capture::reader::{for_each_line, parse_record};
pub use crate::capture::reader::{ProgressFn, ProgressHook, ReadError, PROGRESS_EVERY};
use crate::capture::record::{CaptureSummary, Record, WsFrameRecord};
pub use crate::scenario::identity::{load_identity, IdentityError, IdentityFile};
use canary::Collector;
use engine::Engine;
pub use entities::{EntityError, EntityMap};
pub use finding::{
    AlsoMatched, Analysis, Confidence, DataKind, Finding, FindingGroup, Severity, ThirdParty,
};
pub use signatures::{SignatureError, Signatures};
use view::{RequestView, ResponseRef};

/// What the classifier needs besides the capture.
#[derive(Debug, Clone, Default)]
pub struct ClassifyOptions {
    pub signatures: Signatures,
    /// A user-supplied domain → company list.
    pub entities: Option<EntityMap>,
    /// Secret values by identity key, in memory only: searched for, never written anywhere.
    pub secrets: BTreeMap<String, String>,
    /// Told how far the reading of a capture file has got (long captures take seconds).
    pub progress: ProgressHook,
    /// The regimes findings are sized under (the policy's `regimes`); empty means HIPAA.
    pub regimes: Vec<severity::Regime>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifyError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Signatures(#[from] SignatureError),
    #[error(transparent)]
    Har(#[from] crate::capture::har::HarError),
}

#[derive(Deserialize)]
struct LightFrame<'a> {
    #[serde(borrow, default)]
    page_url: std::borrow::Cow<'a, str>,
}

/// Analyses a JSON Lines capture file in two streaming passes, keeping every finding.
///
/// A capture without an `end` record is incomplete but still analysed; unknown record types are
/// skipped; a malformed line is an error naming the file and line (except a cut-off last line
/// without a newline, the trace of a crash mid-write, which is skipped with a warning).
///
/// The full findings list grows with the capture; [`analyze_capture_with`] streams it instead.
pub fn analyze_capture(
    path: &Path,
    opts: &ClassifyOptions,
) -> Result<(CaptureSummary, Analysis), ClassifyError> {
    let mut findings = Vec::new();
    let (summary, mut analysis) = analyze_capture_with(path, opts, |f| findings.push(f))?;
    findings.append(&mut analysis.findings);
    analysis.findings = findings;
    Ok((summary, analysis))
}

/// [`analyze_capture`] that hands each finding to `on_finding` as soon as it is made, in order,
/// and keeps none: the returned [`Analysis`] has groups (whose `first` is the 0-based position of
/// their first finding in that order), the inventory and the totals, but an empty `findings`.
///
/// Memory stays flat however large the capture: lines are read one at a time, and what the
/// classifier holds (canaries, groups, third parties) is bounded by the journey, not by the
/// number of requests or findings.
pub fn analyze_capture_with(
    path: &Path,
    opts: &ClassifyOptions,
    mut on_finding: impl FnMut(Finding),
) -> Result<(CaptureSummary, Analysis), ClassifyError> {
    let mut summary = CaptureSummary::default();
    let mut collector = Collector::new();
    let line_error = |line, e| ClassifyError::Read(ReadError::line(path, line, e));
    for_each_line::<ClassifyError>(path, (&opts.progress, 1), |line_no, line| {
        if line.starts_with(br#"{"type":"request""#) {
            let r = light::request_parts(line).map_err(|e| line_error(line_no, e))?;
            summary.requests += 1;
            collector.observe_request_parts(&r.page_url, &r.resource_type, &r.url);
            return Ok(());
        }
        if line.starts_with(br#"{"type":"ws_frame""#) {
            let f: LightFrame<'_> =
                serde_json::from_slice(line).map_err(|e| line_error(line_no, e))?;
            summary.ws_frames += 1;
            collector.observe(&Record::WsFrame(WsFrameRecord {
                page_url: f.page_url.into_owned(),
                ..Default::default()
            }));
            return Ok(());
        }
        if let Some(record) = parse_record(line).map_err(|e| line_error(line_no, e))? {
            summary.absorb(&record);
            collector.observe(&record);
        }
        Ok(())
    })?;
    let parties = collector.parties().clone();
    let set = collector.finish(&opts.secrets);
    let mut engine = Engine::new(opts, &set, parties, &summary);
    for_each_line::<ClassifyError>(path, (&opts.progress, 2), |line_no, line| {
        if line.starts_with(br#"{"type":"request""#) {
            // Checked once here, the line's strings need no further UTF-8 checks while parsing
            // (a line that is not UTF-8 gets serde_json's error, naming the position).
            let r: RequestView<'_> = match std::str::from_utf8(line) {
                Ok(text) => serde_json::from_str(text),
                Err(_) => serde_json::from_slice(line),
            }
            .map_err(|e| line_error(line_no, e))?;
            engine.request(&r);
        } else if line.starts_with(br#"{"type":"ws_frame""#) {
            let f: WsFrameRecord =
                serde_json::from_slice(line).map_err(|e| line_error(line_no, e))?;
            engine.ws_frame(&f);
        } else if let Some(record) = parse_record(line).map_err(|e| line_error(line_no, e))? {
            match record {
                Record::Request(r) => engine.request(&RequestView::from(&*r)),
                Record::WsFrame(f) => engine.ws_frame(&f),
                Record::WebSocket(w) => engine.websocket(&w),
                _ => {}
            }
        }
        engine.drain().for_each(&mut on_finding);
        Ok(())
    })?;
    let analysis = engine.finish(&summary);
    Ok((summary, analysis))
}

/// Analyses a HAR file in streaming passes, never holding it whole: a light first pass learns
/// its pages, start and first parties (and the classifier's canaries), a second converts and
/// matches each entry, handing findings to `on_finding` as they are made (see
/// [`analyze_capture_with`]). `identity` says which values are canaries.
///
/// A HAR read to its end is a complete run; one cut off is analysed as far as it goes and
/// reported incomplete.
pub fn analyze_har_with(
    path: &Path,
    identity: &IdentityFile,
    opts: &ClassifyOptions,
    mut on_finding: impl FnMut(Finding),
) -> Result<(CaptureSummary, Analysis), ClassifyError> {
    use crate::capture::har::{
        for_each_entry_text, har_head, parse_entry_view, response_headers, EntryKind, HarEnd,
    };
    opts.progress.report(1, 0, 1);
    let (head, end) = har_head(path)?;
    let mut journey = identity.journey();
    let mut summary = CaptureSummary::default();
    let mut collector = Collector::new();
    let typed = identity.typed_records();
    for r in head.prelude(&mut journey).iter().chain(&typed) {
        summary.absorb(r);
        collector.observe(r);
    }
    for url in &head.page_urls {
        collector.observe_request_parts(url, "Document", url);
    }
    opts.progress.report(1, 1, 1);
    let parties = collector.parties().clone();
    let set = collector.finish(&opts.secrets);
    let mut engine = Engine::new(opts, &set, parties, &summary);
    let mut conv = head.converter(&journey);
    let mut records = Vec::new();
    opts.progress.report(2, 0, head.entries.max(1) as u64);
    let mut done = 0u64;
    for_each_entry_text(path, |index, bytes| {
        let e = parse_entry_view(path, bytes, index)?;
        match e.kind() {
            EntryKind::Request => {
                // Straight from the entry's text: no owned record is built.
                let headers = response_headers(&e);
                let mut r = conv.request_view(&e);
                r.response = headers.as_deref().map(ResponseRef::Headers);
                summary.requests += 1;
                engine.request(&r);
            }
            EntryKind::WebSocket => {
                let whole = crate::capture::har::parse_entry(path, bytes, index)?;
                conv.convert(&whole, &mut records);
                for r in records.drain(..) {
                    summary.absorb(&r);
                    match &r {
                        Record::Request(r) => engine.request(&RequestView::from(&**r)),
                        Record::WsFrame(f) => engine.ws_frame(f),
                        Record::WebSocket(w) => engine.websocket(w),
                        _ => {}
                    }
                }
            }
        }
        engine.drain().for_each(&mut on_finding);
        done += 1;
        if done % 10_000 == 0 {
            opts.progress.report(2, done, head.entries.max(1) as u64);
        }
        Ok(())
    })?;
    let end_record = conv.end(head.pages.len(), end == HarEnd::Complete);
    summary.absorb(&end_record);
    opts.progress.report(2, done, head.entries.max(1) as u64);
    let analysis = engine.finish(&summary);
    Ok((summary, analysis))
}

/// [`analyze_har_with`] keeping every finding (what the reports need).
pub fn analyze_har(
    path: &Path,
    identity: &IdentityFile,
    opts: &ClassifyOptions,
) -> Result<(CaptureSummary, Analysis), ClassifyError> {
    let mut findings = Vec::new();
    let (summary, mut analysis) = analyze_har_with(path, identity, opts, |f| findings.push(f))?;
    findings.append(&mut analysis.findings);
    analysis.findings = findings;
    Ok((summary, analysis))
}

/// Analyses records already in memory (HAR input, tests).
pub fn analyze_records(
    records: &[Record],
    opts: &ClassifyOptions,
) -> Result<(CaptureSummary, Analysis), ClassifyError> {
    let mut summary = CaptureSummary::default();
    let mut collector = Collector::new();
    for r in records {
        summary.absorb(r);
        collector.observe(r);
    }
    let parties = collector.parties().clone();
    let set = collector.finish(&opts.secrets);
    let mut engine = Engine::new(opts, &set, parties, &summary);
    let mut findings = Vec::new();
    for r in records {
        match r {
            Record::Request(r) => engine.request(&RequestView::from(&**r)),
            Record::WsFrame(f) => engine.ws_frame(f),
            Record::WebSocket(w) => engine.websocket(w),
            _ => {}
        }
        findings.extend(engine.drain());
    }
    let mut analysis = engine.finish(&summary);
    analysis.findings = findings;
    Ok((summary, analysis))
}
