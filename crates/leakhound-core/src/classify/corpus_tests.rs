//! The test corpus: vendor wire formats and negative controls, in `tests/corpus/`.
//!
//! `journey.json` is a shared patient journey (header, steps, typed values, snapshots, first-party
//! documents). Each case file in `vendors/` and `negatives/` adds third-party requests to it and
//! lists the findings it expects; a negative case must produce none at all. `captures/` holds real
//! capture files (`*.jsonl`) with a sibling `*.expect.json`, for traffic recorded from real tracker
//! libraries. The format is documented in `tests/corpus/README.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use crate::capture::record::{
    Body, Fate, Header, Initiator, Record, RequestRecord, ResponseInfo, StackFrame,
    WebSocketRecord, WsFrameRecord,
};
use crate::classify::{
    analyze_capture, analyze_capture_with, analyze_records, Analysis, ClassifyOptions, Signatures,
};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// One request of a case, with everything but the URL optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRequest {
    url: String,
    #[serde(default = "get")]
    method: String,
    #[serde(default)]
    step: Option<usize>,
    #[serde(default)]
    page_url: Option<String>,
    #[serde(default)]
    resource_type: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// Body as text.
    #[serde(default)]
    body: Option<String>,
    /// Body as JSON (serialised compactly).
    #[serde(default)]
    body_json: Option<serde_json::Value>,
    /// Body bytes in base64 (binary payloads).
    #[serde(default)]
    body_base64: Option<String>,
    /// Gzip the body before sending (PostHog, Clarity, Amplitude).
    #[serde(default)]
    gzip: bool,
    /// Zlib-deflate the body.
    #[serde(default)]
    zlib: bool,
    /// `delivered` (default), `initiated` or `failed`.
    #[serde(default)]
    fate: Option<String>,
    #[serde(default)]
    initiator: Option<String>,
    #[serde(default)]
    set_cookies: Vec<String>,
}

fn get() -> String {
    "GET".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseSocket {
    url: String,
    #[serde(default)]
    step: Option<usize>,
    #[serde(default)]
    page_url: Option<String>,
    frames: Vec<String>,
}

/// A finding that must be present: every given field must match.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Expect {
    kind: String,
    canary: String,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    encoding: Option<Vec<String>>,
    #[serde(default)]
    meaning: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    fate: Option<String>,
    /// Canary keys the finding must list as matched by the same bytes (`also_matched`).
    #[serde(default)]
    also_matched: Option<Vec<String>>,
    /// `canary` or `pattern`.
    #[serde(default)]
    confidence: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    /// The vendor the requests belong to (checked against the signature match).
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    requests: Vec<CaseRequest>,
    #[serde(default)]
    sockets: Vec<CaseSocket>,
    #[serde(default)]
    expect: Vec<Expect>,
    /// Data kinds that must not appear (beyond an exact list).
    #[serde(default)]
    forbid_kinds: Vec<String>,
    /// Canary keys that must not appear in any finding (a full name when only a part left).
    #[serde(default)]
    forbid_canaries: Vec<String>,
    /// A negative control: no finding at all.
    #[serde(default)]
    negative: bool,
    /// A negative control for canaries only: no canary finding; pattern findings (values
    /// recognised by their form) may be expected.
    #[serde(default)]
    negative_canaries: bool,
    /// In-memory secrets for this case.
    #[serde(default)]
    secrets: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaptureExpect {
    description: String,
    #[serde(default)]
    expect: Vec<Expect>,
    #[serde(default)]
    negative: bool,
}

fn journey() -> Vec<Record> {
    let text = std::fs::read_to_string(corpus_dir().join("journey.json")).unwrap();
    serde_json::from_str(&text).expect("journey.json parses as a list of records")
}

/// The page open at each step of the shared journey (the last document before the step's end).
fn page_at(journey: &[Record], step: usize) -> String {
    let mut page = String::new();
    for r in journey {
        if let Record::Snapshot(s) = r {
            if s.step <= step {
                page = s.url.clone();
            }
        }
    }
    page
}

fn step_time(journey: &[Record], step: usize) -> f64 {
    journey
        .iter()
        .find_map(|r| match r {
            Record::Step(s) if s.index == step => Some(s.time_ms + 500.0),
            _ => None,
        })
        .unwrap_or(0.0)
}

fn compress(data: &[u8], gzip: bool) -> Vec<u8> {
    if gzip {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    } else {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }
}

fn build(case: &Case, base: &[Record]) -> Vec<Record> {
    let mut records = base.to_vec();
    let last_step = base
        .iter()
        .filter_map(|r| match r {
            Record::Step(s) => Some(s.index),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    for (i, r) in case.requests.iter().enumerate() {
        let step = r.step.unwrap_or(last_step);
        let mut bytes: Option<Vec<u8>> = r
            .body
            .as_ref()
            .map(|b| b.as_bytes().to_vec())
            .or_else(|| r.body_json.as_ref().map(|v| serde_json::to_vec(v).unwrap()))
            .or_else(|| {
                r.body_base64
                    .as_ref()
                    .map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap())
            });
        if r.gzip || r.zlib {
            bytes = bytes.map(|b| compress(&b, r.gzip));
        }
        let page_url = r.page_url.clone().unwrap_or_else(|| page_at(base, step));
        let initiator = r
            .initiator
            .as_ref()
            .map_or_else(Initiator::default, |u| Initiator {
                kind: "script".into(),
                url: Some(u.clone()),
                line: Some(1),
                column: Some(100),
                stack: vec![StackFrame {
                    function: "send".into(),
                    url: u.clone(),
                    line: 1,
                    column: 100,
                    async_boundary: None,
                }],
            });
        records.push(Record::Request(Box::new(RequestRecord {
            id: format!("c{i}"),
            time_ms: step_time(base, step),
            step,
            page_url: page_url.clone(),
            frame_url: page_url,
            resource_type: r.resource_type.clone().unwrap_or_else(|| "Fetch".into()),
            method: r.method.clone(),
            url: r.url.clone(),
            headers: r
                .headers
                .iter()
                .map(|(n, v)| Header {
                    name: n.clone(),
                    value: v.clone(),
                })
                .collect(),
            body: bytes.map(|b| Body::from_bytes(&b, 1 << 20)),
            initiator,
            response: Some(ResponseInfo {
                status: 200,
                headers: r
                    .set_cookies
                    .iter()
                    .map(|c| Header {
                        name: "set-cookie".into(),
                        value: c.clone(),
                    })
                    .collect(),
                ..Default::default()
            }),
            fate: match r.fate.as_deref() {
                Some("initiated") => Fate::Initiated,
                Some("failed") => Fate::Failed {
                    reason: "net::ERR_BLOCKED_BY_CLIENT".into(),
                },
                _ => Fate::Delivered,
            },
            ..Default::default()
        })));
    }
    for (i, s) in case.sockets.iter().enumerate() {
        let step = s.step.unwrap_or(last_step);
        let page_url = s.page_url.clone().unwrap_or_else(|| page_at(base, step));
        let id = format!("w{i}");
        records.push(Record::WebSocket(WebSocketRecord {
            id: id.clone(),
            time_ms: step_time(base, step),
            step,
            page_url: page_url.clone(),
            frame_url: page_url.clone(),
            url: s.url.clone(),
            ..Default::default()
        }));
        for (k, f) in s.frames.iter().enumerate() {
            records.push(Record::WsFrame(WsFrameRecord {
                id: format!("{id}#{k}"),
                socket: id.clone(),
                time_ms: step_time(base, step),
                step,
                page_url: page_url.clone(),
                url: s.url.clone(),
                opcode: 1,
                payload: Body::from_bytes(f.as_bytes(), 1 << 20),
            }));
        }
    }
    records
}

fn matches(e: &Expect, f: &crate::classify::Finding) -> bool {
    f.kind.as_str() == e.kind
        && f.canary == e.canary
        && e.vendor
            .as_ref()
            .is_none_or(|v| f.vendor.as_ref() == Some(v))
        && e.domain.as_ref().is_none_or(|d| &f.domain == d)
        && e.channel.as_ref().is_none_or(|c| &f.channel == c)
        && e.encoding.as_ref().is_none_or(|enc| &f.encoding == enc)
        && e.meaning
            .as_ref()
            .is_none_or(|m| f.parameter_meaning.as_ref() == Some(m))
        && e.severity.as_ref().is_none_or(|s| f.severity.as_str() == s)
        && e.fate.as_ref().is_none_or(|s| match s.as_str() {
            "delivered" => f.fate.is_delivered(),
            _ => !f.fate.is_delivered(),
        })
        && e.confidence.as_ref().is_none_or(|c| {
            let got = if f.confidence.is_canary() {
                "canary"
            } else {
                "pattern"
            };
            got == c
        })
        && e.also_matched.as_ref().is_none_or(|keys| {
            keys.iter()
                .all(|k| f.also_matched.iter().any(|a| &a.canary == k))
        })
}

/// Lower case, percent-decoded, `+` as space: how two findings' values are compared.
fn comparable(v: &str) -> String {
    percent_encoding::percent_decode_str(&v.replace('+', " "))
        .decode_utf8_lossy()
        .to_lowercase()
}

/// One disclosure, one finding: no two findings of one request and channel whose values contain
/// one another (a search phrase and the page address it travelled in, a typed email and the
/// identity email). Checked from the values alone, independently of how the engine decides.
fn same_bytes_twice(a: &Analysis) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, f) in a.findings.iter().enumerate() {
        for g in &a.findings[i + 1..] {
            if f.request_id != g.request_id || f.channel != g.channel || f.canary == g.canary {
                continue;
            }
            let (Some(fv), Some(gv)) = (&f.value, &g.value) else {
                continue;
            };
            let (fv, gv) = (comparable(fv), comparable(gv));
            // A path without a query never holds a search (see `canary::related_pairs`).
            let path_only = |k: &crate::classify::Finding| {
                k.kind == crate::classify::DataKind::UrlPath && !k.canary.contains('?')
            };
            let search =
                |k: &crate::classify::Finding| k.kind == crate::classify::DataKind::SearchTerm;
            if (path_only(f) && search(g)) || (path_only(g) && search(f)) {
                continue;
            }
            if fv.contains(&gv) || gv.contains(&fv) {
                errors.push(format!(
                    "same bytes reported twice in {} {}: {} {} and {} {}",
                    f.request_id,
                    f.channel,
                    f.kind.as_str(),
                    f.canary,
                    g.kind.as_str(),
                    g.canary
                ));
            }
        }
    }
    errors
}

fn describe(a: &Analysis) -> String {
    a.findings
        .iter()
        .map(|f| {
            format!(
                "  {} {} -> {} [{}] {} {:?} meaning={:?} sev={} ev={:?}",
                f.kind.as_str(),
                f.canary,
                f.domain,
                f.vendor.as_deref().unwrap_or("-"),
                f.channel,
                f.encoding,
                f.parameter_meaning,
                f.severity.as_str(),
                f.evidence
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn check(
    name: &str,
    a: &Analysis,
    expect: &[Expect],
    negative: bool,
    forbid: &[String],
) -> Vec<String> {
    let mut errors = Vec::new();
    if negative && !a.findings.is_empty() {
        errors.push(format!(
            "{name}: negative control produced findings:\n{}",
            describe(a)
        ));
    }
    for e in expect {
        if !a.findings.iter().any(|f| matches(e, f)) {
            errors.push(format!("{name}: missing {e:?}\n found:\n{}", describe(a)));
        }
    }
    for e in same_bytes_twice(a) {
        errors.push(format!("{name}: {e}\n{}", describe(a)));
    }
    for k in forbid {
        if a.findings.iter().any(|f| f.kind.as_str() == k) {
            errors.push(format!("{name}: forbidden kind {k}:\n{}", describe(a)));
        }
    }
    // Only third parties ever produce findings.
    for f in &a.findings {
        if f.domain == "mercy-health.test" {
            errors.push(format!("{name}: first-party finding {f:?}"));
        }
        if f.kind == crate::classify::DataKind::Credential
            && (f.value.is_some()
                || f.evidence
                    .as_deref()
                    .is_some_and(|e| e.contains("Tr0ub4dor")))
        {
            errors.push(format!("{name}: credential printed: {f:?}"));
        }
    }
    errors
}

fn case_files(sub: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir().join(sub))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
}

fn run_cases(sub: &str) -> (usize, BTreeSet<String>, Vec<String>) {
    let base = journey();
    let sigs = Signatures::bundled().unwrap();
    let mut errors = Vec::new();
    let mut vendors_seen = BTreeSet::new();
    let files = case_files(sub);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let case: Case = match serde_json::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                errors.push(format!("{name}: bad case file: {e}"));
                continue;
            }
        };
        assert!(!case.description.is_empty());
        let opts = ClassifyOptions {
            signatures: sigs.clone(),
            secrets: case.secrets.clone(),
            ..Default::default()
        };
        let records = build(&case, &base);
        let (_, a) = analyze_records(&records, &opts).unwrap();
        if let Some(v) = &case.vendor {
            if a.inventory.iter().any(|t| t.vendor.as_deref() == Some(v)) {
                vendors_seen.insert(v.clone());
            } else {
                errors.push(format!(
                    "{name}: no request matched vendor {v}: {:?}",
                    a.inventory
                ));
            }
        }
        errors.extend(check(
            &name,
            &a,
            &case.expect,
            case.negative,
            &case.forbid_kinds,
        ));
        if case.negative_canaries {
            for f in a.findings.iter().filter(|f| f.confidence.is_canary()) {
                errors.push(format!(
                    "{name}: canary finding in a canary negative: {f:?}"
                ));
            }
        }
        for key in &case.forbid_canaries {
            if a.findings.iter().any(|f| &f.canary == key) {
                errors.push(format!("{name}: forbidden canary {key}:\n{}", describe(&a)));
            }
        }
    }
    (files.len(), vendors_seen, errors)
}

/// Values recognised by their form are found without any canary, labelled `pattern`, and grouped
/// apart; SSNs and card numbers are masked.
#[test]
fn patterns_are_found_without_canaries() {
    let base = journey();
    let case: Case = serde_json::from_value(serde_json::json!({
        "description": "undeclared personal data in a third-party beacon",
        "requests": [
            {"url": "https://px.unknownads.test/e", "method": "POST", "step": 10,
             "body_json": {"contact": "other.person@example.org", "tel": "(617) 555-0199",
                           "ssn": "078-05-1120", "cc": "4111 1111 1111 1111",
                           "id": "550e8400-e29b-41d4-a716-446655440000", "ts": 1714557600000_u64}}
        ]
    }))
    .unwrap();
    let opts = ClassifyOptions {
        signatures: Signatures::bundled().unwrap(),
        ..Default::default()
    };
    let (_, a) = analyze_records(&build(&case, &base), &opts).unwrap();
    let mut got: Vec<(String, String)> = a
        .findings
        .iter()
        .map(|f| {
            assert!(!f.confidence.is_canary(), "{f:?}");
            (f.canary.clone(), f.channel.clone())
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "pattern:email:other.person@example.org".into(),
                "body:json:contact".into()
            ),
            (
                "pattern:payment_card:••••1111".into(),
                "body:json:cc".into()
            ),
            (
                "pattern:phone:(617) 555-0199".into(),
                "body:json:tel".into()
            ),
            ("pattern:ssn:••••1120".into(), "body:json:ssn".into()),
        ],
        "{}",
        describe(&a)
    );
    assert!(a
        .findings
        .iter()
        .all(|f| !f.evidence.as_deref().unwrap_or("").contains("078-05")));
    assert!(a.groups.iter().all(|g| !g.confidence.is_canary()));
}

/// A date of birth is a pattern finding only in a parameter whose signature says it carries one
/// (Segment's `traits.birthday`); the same date elsewhere, and ids where no signature names a
/// member id, are not.
#[test]
fn dates_of_birth_only_where_the_signature_names_them() {
    let base = journey();
    let case: Case = serde_json::from_value(serde_json::json!({
        "description": "an undeclared birthday in a Segment identify call",
        "requests": [
            {"url": "https://api.segment.io/v1/identify", "method": "POST", "step": 10,
             "body_json": {"traits": {"birthday": "1990-04-12", "plan": "1990-04-12",
                                      "member": "W123456789"},
                           "context": {"page": {"path": "/1990-04-12"}}}}
        ]
    }))
    .unwrap();
    let opts = ClassifyOptions {
        signatures: Signatures::bundled().unwrap(),
        ..Default::default()
    };
    let (_, a) = analyze_records(&build(&case, &base), &opts).unwrap();
    let got: Vec<(String, String, Option<String>)> = a
        .findings
        .iter()
        .filter(|f| !f.confidence.is_canary())
        .map(|f| {
            (
                f.canary.clone(),
                f.channel.clone(),
                f.parameter_meaning.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(
            "pattern:date_of_birth:1990-04-12".into(),
            "body:json:traits.birthday".into(),
            Some("date of birth".into())
        )],
        "{}",
        describe(&a)
    );
}

/// A member id is a pattern finding in a parameter a (site-specific) signature names
/// `member_id`, and nowhere else.
#[test]
fn member_ids_only_where_a_signature_names_them() {
    let base = journey();
    let case: Case = serde_json::from_value(serde_json::json!({
        "description": "a portal analytics beacon with the member id",
        "requests": [
            {"url": "https://collect.portalstats.test/e?mbr=W123456789&ref=W987654321&ts=1714557600",
             "method": "GET", "step": 10}
        ]
    }))
    .unwrap();
    let own = br#"{"id": "portalstats", "name": "Portal Stats", "company": "Portal Stats Inc.",
        "category": "analytics", "hosts": ["collect.portalstats.test"],
        "parameters": {"mbr": "member_id", "ref": "user_data"}}"#;
    let signatures = Signatures::bundled()
        .unwrap()
        .merge(Signatures::from_files(&[("portalstats.json".into(), &own[..])]).unwrap());
    let opts = ClassifyOptions {
        signatures,
        ..Default::default()
    };
    let (_, a) = analyze_records(&build(&case, &base), &opts).unwrap();
    let got: Vec<(String, String)> = a
        .findings
        .iter()
        .filter(|f| !f.confidence.is_canary())
        .map(|f| (f.canary.clone(), f.channel.clone()))
        .collect();
    assert_eq!(
        got,
        vec![("pattern:member_id:W123456789".into(), "query:mbr".into())],
        "{}",
        describe(&a)
    );
}

/// The vendor cases carry realistic ids, cookies, timestamps, cache-busters and UUIDs next to the
/// canaries: none of them is a pattern finding.
#[test]
fn vendor_cases_have_no_pattern_findings() {
    let base = journey();
    let sigs = Signatures::bundled().unwrap();
    let mut errors = Vec::new();
    for path in case_files("vendors") {
        let case: Case = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let opts = ClassifyOptions {
            signatures: sigs.clone(),
            secrets: case.secrets.clone(),
            ..Default::default()
        };
        let (_, a) = analyze_records(&build(&case, &base), &opts).unwrap();
        for f in a.findings.iter().filter(|f| !f.confidence.is_canary()) {
            errors.push(format!(
                "{}: {} {} {:?}",
                path.display(),
                f.canary,
                f.channel,
                f.evidence
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn vendor_wire_formats_are_detected() {
    let (n, seen, errors) = run_cases("vendors");
    assert!(n >= 30, "only {n} vendor cases");
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
    // Every bundled vendor has a case built from its wire format.
    let sigs = Signatures::bundled().unwrap();
    let missing: Vec<&str> = sigs
        .vendors()
        .iter()
        .map(|v| v.id.as_str())
        .filter(|id| !seen.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "vendors without a corpus case: {missing:?}"
    );
}

#[test]
fn negative_controls_are_not_flagged() {
    let (n, _, errors) = run_cases("negatives");
    assert!(n >= 5, "only {n} negative controls");
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
}

#[test]
fn recorded_captures_match_expectations() {
    let dir = corpus_dir().join("captures");
    let sigs = Signatures::bundled().unwrap();
    let mut errors = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    for capture in files {
        let expect_path = capture.with_extension("expect.json");
        let Ok(text) = std::fs::read_to_string(&expect_path) else {
            errors.push(format!("{} has no .expect.json", capture.display()));
            continue;
        };
        let exp: CaptureExpect = serde_json::from_str(&text).unwrap();
        assert!(!exp.description.is_empty());
        let opts = ClassifyOptions {
            signatures: sigs.clone(),
            ..Default::default()
        };
        let (_, a) = analyze_capture(&capture, &opts).unwrap();
        errors.extend(check(
            &capture.display().to_string(),
            &a,
            &exp.expect,
            exp.negative,
            &[],
        ));
    }
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
}

/// The same corpus written as a JSONL capture gives the same findings through the streaming path.
#[test]
fn streaming_capture_matches_in_memory_analysis() {
    let base = journey();
    let case: Case = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("vendors/meta_pixel.json")).unwrap(),
    )
    .unwrap();
    let records = build(&case, &base);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    let mut out = std::fs::File::create(&path).unwrap();
    for r in &records {
        serde_json::to_writer(&mut out, r).unwrap();
        out.write_all(b"\n").unwrap();
    }
    // An unknown record type is skipped.
    out.write_all(b"{\"type\":\"future_thing\",\"x\":1}\n")
        .unwrap();
    drop(out);
    let opts = ClassifyOptions {
        signatures: Signatures::bundled().unwrap(),
        ..Default::default()
    };
    let (s1, a1) = analyze_records(&records, &opts).unwrap();
    let (s2, a2) = analyze_capture(&path, &opts).unwrap();
    assert_eq!(a1.findings, a2.findings);
    assert_eq!(a1.groups, a2.groups);
    assert_eq!(a1.inventory, a2.inventory);
    assert_eq!(s1.requests, s2.requests);
    assert!(!a2.findings.is_empty());
    // Streamed: the same findings in the same order, none kept; groups point into that order.
    let mut streamed = Vec::new();
    let (_, a3) = analyze_capture_with(&path, &opts, |f| streamed.push(f)).unwrap();
    assert!(a3.findings.is_empty());
    assert_eq!(streamed, a2.findings);
    assert_eq!(a3.groups, a2.groups);
    for g in &a3.groups {
        let f = &streamed[g.first];
        assert_eq!(
            (&f.domain, f.kind, &f.canary),
            (&g.domain, g.kind, &g.canary)
        );
    }

    // Progress: each pass from 0 to the file size, never backwards.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let with_progress = ClassifyOptions {
        progress: crate::classify::ProgressHook::new(move |pass, done, total| {
            log.lock().unwrap().push((pass, done, total));
        }),
        ..opts.clone()
    };
    analyze_capture(&path, &with_progress).unwrap();
    let calls = seen.lock().unwrap().clone();
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(calls.first(), Some(&(1, 0, size)));
    assert!(calls.contains(&(1, size, size)) && calls.contains(&(2, 0, size)));
    assert_eq!(calls.last(), Some(&(2, size, size)));
    assert!(calls.windows(2).all(|w| w[0] <= w[1]), "{calls:?}");

    // A malformed line in the middle is an error naming the line.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{\"type\":\"request\",\"id\":");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = analyze_capture(&path, &opts).unwrap_err().to_string();
    assert!(err.contains(":3:"), "{err}");
    // A cut-off last line (crash mid-write) is tolerated.
    let mut cut = text.clone();
    cut.push_str("{\"type\":\"request\",\"id\":\"r9");
    std::fs::write(&path, cut).unwrap();
    assert!(analyze_capture(&path, &opts).is_ok());
}

/// Lines longer than the read buffer, CRLF line ends, blank lines and a missing final newline read
/// exactly like short LF lines.
#[test]
fn line_reader_handles_long_lines_crlf_and_blank_lines() {
    let base = journey();
    let case: Case = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("vendors/meta_pixel.json")).unwrap(),
    )
    .unwrap();
    let mut records = build(&case, &base);
    // A request whose line alone is larger than the read buffer, leaking at its very end.
    if let Some(Record::Request(r)) = records.iter().find(|r| matches!(r, Record::Request(_))) {
        let mut big = (**r).clone();
        big.id = "big".into();
        big.url = format!(
            "https://www.facebook.com/tr/?pad={}&dl={}",
            "a".repeat(700_000),
            "https%3A%2F%2Fwww.mercy-health.test%2Fsymptoms%2Fchest-pain"
        );
        records.push(Record::Request(Box::new(big)));
    }
    let opts = ClassifyOptions {
        signatures: Signatures::bundled().unwrap(),
        ..Default::default()
    };
    let (_, expected) = analyze_records(&records, &opts).unwrap();
    assert!(expected.findings.iter().any(|f| f.request_id == "big"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(&path, lines.join("\r\n\r\n   \r\n")).unwrap();
    let (summary, got) = analyze_capture(&path, &opts).unwrap();
    assert_eq!(
        summary.requests,
        records
            .iter()
            .filter(|r| matches!(r, Record::Request(_)))
            .count()
    );
    assert_eq!(got.findings, expected.findings);
    assert_eq!(got.groups, expected.groups);
}

/// Inventory: every third party, its owner from an entity list when no signature matches, cookies
/// from Set-Cookie and from snapshots, and delivered vs initiated counts in groups.
#[test]
fn inventory_lists_every_third_party() {
    let base = journey();
    let case: Case = serde_json::from_str(
        r#"{"description": "inventory",
            "requests": [
              {"url": "https://px.unknownads.test/p?u=https%3A%2F%2Fwww.mercy-health.test%2Fsymptoms%2Fchest-pain",
               "step": 1, "set_cookies": ["uid=abc; Path=/; Secure"], "fate": "initiated"},
              {"url": "https://px.unknownads.test/p?u=https%3A%2F%2Fwww.mercy-health.test%2Fsymptoms%2Fchest-pain", "step": 1},
              {"url": "https://cm.g.doubleclick.net/pixel?google_nid=x", "step": 1},
              {"url": "https://quiet.test/ping", "step": 1}
            ]}"#,
    )
    .unwrap();
    let entities = crate::classify::EntityMap::from_value(
        &serde_json::json!({"entities": {"Unknown Ads Co": {"properties": [], "resources": ["unknownads.test"]}}}),
    )
    .unwrap();
    let opts = ClassifyOptions {
        signatures: Signatures::bundled().unwrap(),
        entities: Some(entities),
        ..Default::default()
    };
    let (_, a) = analyze_records(&build(&case, &base), &opts).unwrap();
    let unknown = a
        .inventory
        .iter()
        .find(|t| t.domain == "unknownads.test")
        .unwrap();
    assert_eq!(unknown.company.as_deref(), Some("Unknown Ads Co"));
    assert!(unknown.vendor.is_none());
    assert_eq!(unknown.requests, 2);
    assert_eq!(unknown.cookies, vec!["uid".to_string()]);
    assert_eq!(unknown.data_kinds, vec![crate::classify::DataKind::UrlPath]);
    let dc = a
        .inventory
        .iter()
        .find(|t| t.domain == "doubleclick.net")
        .unwrap();
    assert!(dc.cookies.contains(&"IDE".to_string()), "{dc:?}");
    assert_eq!(dc.company.as_deref(), Some("Google LLC"));
    let quiet = a
        .inventory
        .iter()
        .find(|t| t.domain == "quiet.test")
        .unwrap();
    assert!(quiet.data_kinds.is_empty() && quiet.company.is_none());
    // Parties with findings come first.
    assert_eq!(a.inventory[0].domain, "unknownads.test");
    let g = a
        .groups
        .iter()
        .find(|g| g.domain == "unknownads.test" && g.canary == "page:/symptoms/chest-pain")
        .unwrap();
    assert_eq!((g.occurrences, g.delivered, g.initiated_only), (2, 1, 1));
    assert!(a.signatures_version.starts_with("bundled-"));
    assert!(a.requests_analyzed > 4);
}

/// A secret the capture writer masked in an encoded form is still a credential finding, and the
/// finding names the form; the value appears nowhere.
#[test]
fn masked_encoded_secrets_are_credentials_with_their_encoding() {
    let base = journey();
    let case: Case = serde_json::from_str(
        r#"{"description": "masked secret forms",
            "requests": [
              {"url": "https://px.unknownads.test/p?h=[LEAKHOUND-SECRET:password|sha256]&b=[LEAKHOUND-SECRET:password|base64]", "step": 1},
              {"url": "https://px.unknownads.test/p?plain=[LEAKHOUND-SECRET:password]", "step": 1}
            ]}"#,
    )
    .unwrap();
    let opts = ClassifyOptions {
        signatures: Signatures::bundled().unwrap(),
        ..Default::default()
    };
    let (_, a) = analyze_records(&build(&case, &base), &opts).unwrap();
    let mut got: Vec<(String, Vec<String>)> = a
        .findings
        .iter()
        .filter(|f| f.kind == crate::classify::DataKind::Credential)
        .map(|f| (f.channel.clone(), f.encoding.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("query:b".to_string(), vec!["base64".to_string()]),
            ("query:h".to_string(), vec!["sha256".to_string()]),
            ("query:plain".to_string(), vec!["secret-marker".to_string()]),
        ]
    );
    assert!(a
        .findings
        .iter()
        .all(|f| f.value.is_none() || f.kind != crate::classify::DataKind::Credential));
}

/// Name parts are reported as what left. With only a full name declared, a hash of its first name
/// alone is a first-name finding (never the full name); the full name sent in clear is one finding
/// naming both parts, not three.
#[test]
fn name_parts_are_reported_as_what_left() {
    use sha2::{Digest, Sha256};
    let mut base = journey();
    if let Some(Record::Header(h)) = base.first_mut() {
        h.journey
            .identity
            .retain(|c| c.key != "first_name" && c.key != "last_name");
    }
    let fn_hash = hex::encode(Sha256::digest(b"janelle"));
    let case: Case = serde_json::from_value(serde_json::json!({
        "description": "first-name hash, then the full name in clear",
        "requests": [
            {"url": format!("https://www.facebook.com/tr/?id=1&ev=Lead&ud[fn]={fn_hash}"), "step": 10},
            {"url": "https://px.unknownads.test/p?n=Janelle%20Okafor", "step": 10}
        ]
    }))
    .unwrap();
    let opts = ClassifyOptions {
        signatures: Signatures::bundled().unwrap(),
        ..Default::default()
    };
    let (_, a) = analyze_records(&build(&case, &base), &opts).unwrap();
    let meta: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.domain == "facebook.com")
        .collect();
    assert_eq!(meta.len(), 1, "{}", describe(&a));
    assert_eq!(meta[0].canary, "name.first_name");
    assert_eq!(meta[0].sub_kind.as_deref(), Some("first_name"));
    assert!(meta[0].name_parts.is_empty());
    let clear: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.domain == "unknownads.test")
        .collect();
    assert_eq!(clear.len(), 1, "{}", describe(&a));
    assert_eq!(clear[0].canary, "name");
    assert_eq!(clear[0].name_parts, vec!["first_name", "last_name"]);
}

/// A typed value sent on keystrokes before submit is form input, not also an identifier; after
/// the form was submitted, the same value is the identifier.
#[test]
fn typed_value_before_submit_is_form_input_only() {
    let base = journey();
    let case: Case = serde_json::from_value(serde_json::json!({
        "description": "email typed (step 6), sent before and after submit (step 9)",
        "requests": [
            {"url": "https://px.unknownads.test/k?v=jane.q.patient%40gmail.com", "step": 6},
            {"url": "https://px.unknownads.test/k?v=jane.q.patient%40gmail.com", "step": 10}
        ]
    }))
    .unwrap();
    let opts = ClassifyOptions {
        signatures: Signatures::bundled().unwrap(),
        ..Default::default()
    };
    let (_, a) = analyze_records(&build(&case, &base), &opts).unwrap();
    let kinds: Vec<(usize, &str, &str)> = a
        .findings
        .iter()
        .map(|f| (f.step, f.kind.as_str(), f.canary.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (6, "form_input", "input:#email"),
            (10, "identifier", "email")
        ],
        "{}",
        describe(&a)
    );
    assert_eq!(a.findings[0].also_matched[0].canary, "email");
}

/// A home-page visit whose trackers send only the home URL, the home page's title, the hospital's
/// name and random ids passes the default policy: the findings are recorded (severity info, with
/// the model's reason) but are not violations. Sensitive pages that no scenario declared — a
/// portal dashboard, a doctor search by condition — are still reported and still violate.
#[test]
fn general_pages_are_recorded_and_sensitive_pages_still_violate() {
    let base = journey();
    let case: Case = serde_json::from_value(serde_json::json!({
        "description": "home page only, then undeclared sensitive pages",
        "requests": [
            {"url": "https://www.facebook.com/tr/?id=1&ev=PageView&dl=https%3A%2F%2Fwww.mercy-health.test%2F&cd[title]=Mercy%20Health%20%E2%80%93%20Home&cd[org]=Mercy%20Health&fbp=fb.1.1714557600.987654321", "step": 0},
            {"url": "https://www.google-analytics.com/g/collect?v=2&tid=G-X&cid=1234.5678&dl=https%3A%2F%2Fwww.mercy-health.test%2F&dt=Mercy%20Health%20%E2%80%93%20Home&_p=98231", "step": 0},
            {"url": "https://www.mercy-health.test/portal/dashboard", "resource_type": "Document", "step": 10,
             "page_url": "https://www.mercy-health.test/portal/dashboard"},
            {"url": "https://www.facebook.com/tr/?id=1&ev=PageView&dl=https%3A%2F%2Fwww.mercy-health.test%2Fportal%2Fdashboard", "step": 10,
             "page_url": "https://www.mercy-health.test/portal/dashboard"},
            {"url": "https://www.mercy-health.test/find-a-doctor?condition=hiv-prep", "resource_type": "Document", "step": 10,
             "page_url": "https://www.mercy-health.test/find-a-doctor?condition=hiv-prep"},
            {"url": "https://www.facebook.com/tr/?id=1&ev=PageView&dl=https%3A%2F%2Fwww.mercy-health.test%2Ffind-a-doctor%3Fcondition%3Dhiv-prep", "step": 10,
             "page_url": "https://www.mercy-health.test/find-a-doctor?condition=hiv-prep"}
        ]
    }))
    .unwrap();
    let opts = ClassifyOptions {
        signatures: Signatures::bundled().unwrap(),
        ..Default::default()
    };
    let (_, a) = analyze_records(&build(&case, &base), &opts).unwrap();
    let policy = crate::report::Policy::default();
    let home: Vec<_> = a.findings.iter().filter(|f| f.step == 0).collect();
    assert!(!home.is_empty(), "{}", describe(&a));
    for f in &home {
        assert_eq!(f.severity, crate::classify::Severity::Info, "{f:?}");
        assert_eq!(
            policy.decide(f),
            crate::report::policy::Decision::BelowThreshold
        );
        let ctx = f.page_context.as_ref().unwrap();
        assert!(ctx.reason.contains("home page"), "{ctx:?}");
    }
    for page in [
        "page:/portal/dashboard",
        "page:/find-a-doctor?condition=hiv-prep",
    ] {
        let f = a
            .findings
            .iter()
            .find(|f| f.canary == page && f.domain == "facebook.com")
            .unwrap_or_else(|| panic!("{page} not reported:\n{}", describe(&a)));
        assert_eq!(f.severity, crate::classify::Severity::High, "{f:?}");
        assert_eq!(policy.decide(f), crate::report::policy::Decision::Violation);
        assert!(f.rule.as_deref().is_some_and(|r| r.starts_with("HIPAA:")));
    }
}
