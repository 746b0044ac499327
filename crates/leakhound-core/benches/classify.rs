//! Classifier throughput on a synthetic capture of 100,000 requests.
//!
//! The corpus imitates a real journey: ~1 KB requests (median), a mix of tracker pixels with long
//! query strings, JSON beacons, gzip bodies (PostHog/Clarity style), first-party traffic, and 20+
//! canaries (identity values, visited pages, titles, a search term). The file is written once; each
//! iteration runs both streaming passes of `analyze_capture` over it.

use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use criterion::{criterion_group, Criterion, Throughput};
use flate2::write::GzEncoder;
use leakhound_core::capture::record::{
    Body, Canary, CanaryKind, CaptureHeader, EndRecord, Fate, Header, Initiator, JourneyInfo,
    Record, RequestRecord, ResponseInfo, SnapshotRecord, StackFrame, StepRecord, TypedValue,
};
use leakhound_core::classify::{
    analyze_capture, analyze_capture_with, analyze_har_with, ClassifyOptions, Signatures,
};
use leakhound_core::scenario::{IdentityFile, IdentityValue};

const REQUESTS: usize = 100_000;
const SITE: &str = "https://www.mercy-health.test";
const PAGES: &[(&str, &str)] = &[
    (
        "/symptoms/chest-pain",
        "Chest pain: causes and care | Mercy Health",
    ),
    (
        "/symptoms/shortness-of-breath",
        "Shortness of breath | Mercy Health",
    ),
    (
        "/conditions/atrial-fibrillation",
        "Atrial fibrillation | Mercy Health",
    ),
    (
        "/search?q=chest+pain",
        "Search results for chest pain | Mercy Health",
    ),
    (
        "/find-a-doctor?specialty=cardiology&zip=02139",
        "Find a Doctor | Mercy Health",
    ),
    ("/locations/cambridge", "Cambridge clinic | Mercy Health"),
    ("/portal/login", "Patient Portal Sign In | Mercy Health"),
    ("/portal/home", "My Health Dashboard | Mercy Health"),
    (
        "/appointments/book?dept=cardiology",
        "Book an appointment | Mercy Health",
    ),
    (
        "/appointments/confirmation?appt=A-99812",
        "Appointment confirmed | Mercy Health",
    ),
];

/// A tiny deterministic generator (no extra dependency needed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(n);
        s
    }
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn identity() -> Vec<Canary> {
    let c = |key: &str, kind, value: Option<&str>| Canary {
        key: key.into(),
        kind,
        value: value.map(str::to_string),
        env: None,
    };
    vec![
        c("email", CanaryKind::Email, Some("jane.q.patient@gmail.com")),
        c("name", CanaryKind::Name, Some("Janelle Okafor")),
        c("first_name", CanaryKind::FirstName, Some("Janelle")),
        c("last_name", CanaryKind::LastName, Some("Okafor")),
        c("phone", CanaryKind::Phone, Some("+1 (555) 014-2398")),
        c("dob", CanaryKind::DateOfBirth, Some("1984-03-07")),
        c("member_id", CanaryKind::MemberId, Some("MRC-448812-07")),
        c("zip", CanaryKind::Zip, Some("02139")),
        c("address", CanaryKind::Address, Some("41 Linden Terrace")),
        c("password", CanaryKind::Password, None),
    ]
}

fn request(rng: &mut Rng, i: usize, total: usize) -> RequestRecord {
    let (path, title) = PAGES[i % PAGES.len()];
    let page = format!("{SITE}{path}");
    let step = i * PAGES.len() / total;
    let mut headers = vec![
        Header {
            name: "User-Agent".into(),
            value: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36".into(),
        },
        Header {
            name: "Referer".into(),
            value: if i % 7 == 0 { page.clone() } else { format!("{SITE}/") },
        },
        Header {
            name: "Accept".into(),
            value: "image/avif,image/webp,image/apng,*/*;q=0.8".into(),
        },
    ];
    let leak = i % 5 == 0;
    let (method, url, body) = match i % 10 {
        // Pixels with long query strings.
        0..=4 => {
            let dl = if leak {
                page.clone()
            } else {
                format!("{SITE}/")
            };
            let url = format!(
                "https://www.facebook.com/tr/?id=1234567890123456&ev=PageView&dl={}&rl=&if=false&ts=17145{}&sw=1920&sh=1080&v=2.9.156&r=stable&ec=0&o=4126&fbp=fb.1.{}&it={}&coo=false&cd[a]={}&cd[b]={}&rqm=GET",
                enc(&dl),
                rng.next() % 100_000_000,
                rng.hex(20),
                rng.next() % 1_000_000,
                rng.hex(120),
                rng.hex(200),
            );
            ("GET", url, None)
        }
        // JSON beacons.
        5..=6 => {
            let json = serde_json::json!({
                "type": "page", "anonymousId": rng.hex(36), "messageId": rng.hex(40),
                "context": {"page": {"url": if leak { page.clone() } else { format!("{SITE}/") },
                                     "title": if leak { title } else { "Mercy" },
                                     "referrer": ""},
                            "userAgent": "Mozilla/5.0", "library": {"name": "analytics.js", "version": "5.2.0"}},
                "properties": {"blob": rng.hex(300), "n": rng.next() % 1000},
                "userId": if i % 50 == 0 { "jane.q.patient@gmail.com" } else { "" },
            });
            headers.push(Header {
                name: "Content-Type".into(),
                value: "text/plain".into(),
            });
            (
                "POST",
                format!("https://api.segment.io/v1/p?x={}", rng.hex(8)),
                Some(Body::from_bytes(json.to_string().as_bytes(), 1 << 20)),
            )
        }
        // Gzip bodies without a flag.
        7 => {
            let json = serde_json::json!([{"event": "$pageview", "properties": {
                "$current_url": page, "distinct_id": rng.hex(24), "token": "phc_abc",
                "$elements": [{"tag": "a", "text": rng.hex(200)}], "title": title}}]);
            (
                "POST",
                "https://us.i.posthog.com/e/?compression=gzip-js&ver=1.130.0".to_string(),
                Some(Body::from_bytes(
                    &gzip(json.to_string().as_bytes()),
                    1 << 20,
                )),
            )
        }
        // Analytics form POST with several lines.
        8 => {
            let body = format!(
                "en=page_view&_et={}&dl={}&dt={}\nen=scroll&epn.percent_scrolled=90&_p={}",
                rng.next() % 10_000,
                enc(&page),
                enc(title),
                rng.hex(200)
            );
            (
                "POST",
                format!(
                    "https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC123&cid={}.{}&sid={}&_s=1",
                    rng.next() % 1_000_000_000,
                    rng.next() % 1_000_000_000,
                    rng.hex(10)
                ),
                Some(Body::from_bytes(body.as_bytes(), 1 << 20)),
            )
        }
        // First-party API traffic.
        _ => (
            "GET",
            format!(
                "{SITE}/api/v1/content?page={}&r={}",
                enc(path),
                rng.hex(300)
            ),
            None,
        ),
    };
    // As Chromium reports them: the sending script and its stack, and the response headers.
    let script = match i % 10 {
        0..=4 => "https://connect.facebook.net/en_US/fbevents.js",
        5..=6 => "https://cdn.segment.com/analytics.js/v1/abc/analytics.min.js",
        7 => "https://us-assets.i.posthog.com/static/array.js",
        8 => "https://www.googletagmanager.com/gtag/js?id=G-ABC123",
        _ => "https://www.mercy-health.test/assets/app.js",
    };
    let mut frame = |function: &str, line: u32| StackFrame {
        function: function.into(),
        url: script.into(),
        line,
        column: (rng.next() % 5000) as u32,
        async_boundary: None,
    };
    let initiator = Initiator {
        kind: "script".into(),
        url: Some(script.into()),
        line: Some(1),
        column: Some(1200),
        stack: vec![frame("send", 1), frame("track", 1), frame("", 2)],
    };
    let response = ResponseInfo {
        status: if method == "GET" { 200 } else { 204 },
        headers: vec![
            Header {
                name: "content-type".into(),
                value: "image/gif".into(),
            },
            Header {
                name: "date".into(),
                value: "Mon, 23 Nov 2026 14:20:41 GMT".into(),
            },
            Header {
                name: "cache-control".into(),
                value: "no-cache, no-store, must-revalidate".into(),
            },
        ],
        remote_address: Some("157.240.0.35:443".into()),
        fulfilled_locally: false,
    };
    RequestRecord {
        id: format!("r{i}"),
        time_ms: i as f64,
        step,
        page_url: page.clone(),
        frame_url: page,
        resource_type: "Fetch".into(),
        method: method.into(),
        url,
        headers,
        body,
        initiator,
        response: Some(response),
        fate: Fate::Delivered,
        ..Default::default()
    }
}

fn write_line(out: &mut impl Write, r: &Record) {
    serde_json::to_writer(&mut *out, r).expect("write");
    out.write_all(b"\n").expect("write");
}

/// Writes the synthetic capture; returns the file size.
fn write_capture(path: &Path, requests: usize) -> u64 {
    let file = std::fs::File::create(path).expect("create capture");
    let mut out = BufWriter::new(file);
    let mut line = |r: &Record| write_line(&mut out, r);
    line(&Record::Header(CaptureHeader {
        format: "leakhound-capture".into(),
        version: 1,
        tool_version: "bench".into(),
        browser_version: String::new(),
        started_at: "2024-05-01T10:00:00Z".into(),
        certificate_errors_ignored: false,
        journey: JourneyInfo {
            name: "bench".into(),
            start_url: format!("{SITE}/"),
            identity: identity(),
            ..Default::default()
        },
    }));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (s, (path, title)) in PAGES.iter().enumerate() {
        line(&Record::Step(StepRecord {
            index: s,
            action: "goto".into(),
            label: format!("open {path}"),
            time_ms: (s * requests / PAGES.len()) as f64,
        }));
        if s == 3 {
            line(&Record::Typed(TypedValue {
                step: s,
                selector: "#q".into(),
                field: "name=q".into(),
                is_search: true,
                canary_key: None,
                value: Some("chest pain".into()),
                time_ms: 0.0,
            }));
        }
        line(&Record::Snapshot(SnapshotRecord {
            step: s,
            url: format!("{SITE}{path}"),
            title: (*title).into(),
            ..Default::default()
        }));
    }
    for i in 0..requests {
        line(&Record::Request(Box::new(request(&mut rng, i, requests))));
    }
    line(&Record::End(EndRecord {
        requests,
        ..Default::default()
    }));
    out.flush().expect("flush");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Request headers Chromium sends (and DevTools writes into a HAR) besides those of
/// [`request`].
const BROWSER_HEADERS: &[(&str, &str)] = &[
    (
        "sec-ch-ua",
        "\"Chromium\";v=\"126\", \"Google Chrome\";v=\"126\", \"Not.A/Brand\";v=\"24\"",
    ),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", "\"Linux\""),
    ("sec-fetch-dest", "empty"),
    ("sec-fetch-mode", "no-cors"),
    ("sec-fetch-site", "cross-site"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("accept-language", "en-US,en;q=0.9"),
];

/// Writes the same synthetic journey as a HAR 1.2 file (what DevTools exports), through
/// leakhound's own HAR writer; returns the file size.
fn write_har(path: &Path, requests: usize) -> u64 {
    let jsonl = path.with_extension("tmp.jsonl");
    write_capture(&jsonl, requests);
    let file = std::fs::File::create(path).expect("create HAR");
    let mut har = leakhound_core::capture::har::HarWriter::new(BufWriter::new(file)).expect("HAR");
    let text = std::fs::read_to_string(&jsonl).expect("capture");
    for line in text.lines() {
        let mut r: Record = serde_json::from_str(line).expect("record");
        if let Record::Request(q) = &mut r {
            // What DevTools records beside the capture's headers: client hints, fetch
            // metadata, encodings. They bring the median request (URL, headers, body) from
            // ~780 B to ~1 KB, as the HAR benchmark of issue 10 describes.
            q.headers
                .extend(BROWSER_HEADERS.iter().map(|(name, value)| Header {
                    name: (*name).into(),
                    value: (*value).into(),
                }));
        }
        har.record(&r).expect("HAR entry");
    }
    let mut out = har.finish().expect("HAR end");
    out.flush().expect("flush");
    drop(text);
    let _ = std::fs::remove_file(&jsonl);
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The identity file a user would give `leakhound analyze` for the synthetic HAR: the same
/// canaries as the capture header (the password is not in the HAR's identity: no value).
fn har_identity() -> IdentityFile {
    IdentityFile {
        start_url: Some(format!("{SITE}/")),
        identity: identity()
            .into_iter()
            .filter(|c| c.value.is_some())
            .map(|c| {
                (
                    c.key,
                    IdentityValue {
                        kind: c.kind,
                        value: c.value,
                        env: None,
                    },
                )
            })
            // Values of the patient the traffic never carries: canaries searched for in vain, as
            // most of a real identity file is (24 canaries in all with the ten pages and the
            // search term).
            .chain(
                [
                    (
                        "work_email",
                        CanaryKind::Email,
                        "j.okafor@northfield-partners.test",
                    ),
                    ("city", CanaryKind::City, "Somerville"),
                    ("state", CanaryKind::State, "Massachusetts"),
                    ("employer", CanaryKind::Text, "Northfield Partners LLP"),
                ]
                .map(|(key, kind, value)| {
                    (
                        key.to_string(),
                        IdentityValue {
                            kind,
                            value: Some(value.into()),
                            env: None,
                        },
                    )
                }),
            )
            .collect(),
        search_terms: vec!["chest pain".into()],
        ..Default::default()
    }
}

/// `VmHWM` (peak resident set) of this process, in kB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Child mode (`LH_CLASSIFY_CHILD=MODE:PATH`): analyse one capture in a fresh process and print
/// `findings seconds peak_kb`, so each size's peak memory is measured on its own.
fn child(spec: &str) {
    let (mode, path) = spec.split_once(':').expect("MODE:PATH");
    let opts = options();
    let start = Instant::now();
    let findings = match mode {
        // `write:PATH` with LH_BENCH_REQUESTS: only writes a synthetic capture (for profiling).
        "write" => {
            let n = std::env::var("LH_BENCH_REQUESTS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(REQUESTS);
            write_capture(Path::new(path), n);
            n
        }
        // `writehar:PATH` with LH_BENCH_REQUESTS: only writes a synthetic HAR.
        "writehar" => {
            let n = std::env::var("LH_BENCH_REQUESTS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(REQUESTS);
            write_har(Path::new(path), n);
            n
        }
        // The HAR reader's first pass alone (the splitter and the light parse).
        "harhead" => {
            let (head, _) = leakhound_core::capture::har::har_head(Path::new(path)).expect("HAR");
            head.entries
        }
        // The HAR splitter alone: entries found, none parsed.
        "harsplit" => {
            let mut n = 0usize;
            leakhound_core::capture::har::stream_har(Path::new(path), |part| {
                if let leakhound_core::capture::har::HarPart::Entry(bytes) = part {
                    n += 1;
                    black_box(bytes);
                }
                Ok(())
            })
            .expect("HAR");
            n
        }
        // The HAR reader's second pass without the classifier: the splitter and the full parse.
        "harparse" => {
            let mut n = 0usize;
            leakhound_core::capture::har::for_each_entry(Path::new(path), |e| {
                n += 1;
                black_box(e);
            })
            .expect("HAR");
            n
        }
        // The HAR path: streamed entry by entry, findings handed out and dropped.
        "har" => {
            let mut n = 0usize;
            let (_, analysis) = analyze_har_with(Path::new(path), &har_identity(), &opts, |f| {
                // Pattern findings (values recognised by form) are counted apart: the bench's
                // clean requests must produce none.
                assert!(
                    f.confidence.is_canary(),
                    "pattern finding in the bench: {f:?}"
                );
                n += 1;
                black_box(f);
            })
            .expect("HAR analysis");
            black_box(analysis);
            n
        }
        // What `leakhound analyze FILE.har --format json` does, in process: findings decided
        // and spilled to disk as they come, the JSON report written (next to the HAR).
        "harreport" => {
            let har = Path::new(path);
            let mut builder = leakhound_core::report::ReportBuilder::new(None, &[]).expect("spill");
            let (summary, analysis) =
                analyze_har_with(har, &har_identity(), &opts, |f| builder.push(f))
                    .expect("HAR analysis");
            let meta = leakhound_core::report::ReportMeta::now(Some(path.to_string()));
            let report = builder.finish(&summary, analysis, meta).expect("report");
            let out = har.with_extension("out");
            leakhound_core::report::write_all(
                &report,
                &out,
                &[leakhound_core::report::Format::Json],
                false,
            )
            .expect("JSON report");
            let _ = std::fs::remove_dir_all(&out);
            report.policy.decisions.len()
        }
        "stream" => {
            let mut n = 0usize;
            analyze_capture_with(Path::new(path), &opts, |f| {
                n += 1;
                black_box(f);
            })
            .expect("analysis");
            n
        }
        _ => analyze_capture(Path::new(path), &opts)
            .expect("analysis")
            .1
            .findings
            .len(),
    };
    let secs = start.elapsed().as_secs_f64();
    println!("{findings} {secs} {}", peak_rss_kb());
}

fn options() -> ClassifyOptions {
    ClassifyOptions {
        signatures: Signatures::bundled().expect("bundled signatures"),
        ..Default::default()
    }
}

/// Runs [`child`] for `mode` on `path`: (findings, seconds, peak RSS kB).
fn measure(mode: &str, path: &Path) -> (u64, f64, u64) {
    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe)
        .env("LH_CLASSIFY_CHILD", format!("{mode}:{}", path.display()))
        .output()
        .expect("run child");
    assert!(out.status.success(), "child failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let mut next = || it.next().expect("child output").to_string();
    (
        next().parse().expect("findings"),
        next().parse().expect("seconds"),
        next().parse().expect("kB"),
    )
}

/// Several child runs of one mode: (findings, best seconds, median seconds, max peak kB).
fn measure_runs(mode: &str, path: &Path, runs: usize) -> (u64, f64, f64, u64) {
    let mut secs = Vec::new();
    let (mut found, mut kb) = (0, 0);
    for _ in 0..runs.max(1) {
        let (f, s, k) = measure(mode, path);
        found = f;
        kb = kb.max(k);
        secs.push(s);
    }
    secs.sort_by(f64::total_cmp);
    (found, secs[0], secs[secs.len() / 2], kb)
}

/// Throughput and peak memory by capture size, each run in a fresh process.
///
/// Streaming (`analyze_capture_with`) must stay flat in memory; keeping every finding
/// (`analyze_capture`, what the reports need) grows with the number of findings. Throughput is
/// given as the best and the median of `LH_BENCH_RUNS` runs (default 5): on a shared machine the
/// best run is the one least disturbed by neighbours.
fn memory_by_size(dir: &Path) {
    let sizes: Vec<usize> = std::env::var("LH_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![REQUESTS / 4, REQUESTS, REQUESTS * 3]);
    let runs = std::env::var("LH_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    println!("each size: {runs} runs per mode, one process each; requests/s as best / median");
    println!(
        "{:>9} {:>7} {:>9} | {:>17} {:>10} | {:>17} {:>10}",
        "requests", "MB", "findings", "streamed req/s", "peak kB", "kept req/s", "peak kB"
    );
    for n in sizes {
        let path = dir.join(format!("mem-{n}.jsonl"));
        let size = write_capture(&path, n);
        let (found, best, median, kb) = measure_runs("stream", &path, runs);
        let (kept, best_keep, median_keep, kb_keep) = measure_runs("keep", &path, runs);
        assert_eq!(found, kept, "streaming and keeping find the same");
        let rate = |secs: f64| n as f64 / secs;
        println!(
            "{n:>9} {:>7.1} {found:>9} | {:>8.0} / {:>6.0} {kb:>10} | {:>8.0} / {:>6.0} {kb_keep:>10}",
            size as f64 / 1e6,
            rate(best),
            rate(median),
            rate(best_keep),
            rate(median_keep),
        );
        let _ = std::fs::remove_file(&path);
    }
    println!(
        "HAR input (analyze_har_with, streamed entry by entry; report: + JSON report written):"
    );
    println!(
        "{:>9} {:>7} {:>9} | {:>17} {:>10} | {:>17} {:>10}",
        "requests", "MB", "findings", "HAR req/s", "peak kB", "report req/s", "peak kB"
    );
    let sizes: Vec<usize> = std::env::var("LH_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![REQUESTS / 4, REQUESTS, REQUESTS * 3]);
    for n in sizes {
        let path = dir.join(format!("mem-{n}.har"));
        let size = write_har(&path, n);
        let (found, best, median, kb) = measure_runs("har", &path, runs);
        let (reported, best_r, median_r, kb_r) = measure_runs("harreport", &path, runs);
        assert_eq!(found, reported, "the report has every finding");
        println!(
            "{n:>9} {:>7.1} {found:>9} | {:>8.0} / {:>6.0} {kb:>10} | {:>8.0} / {:>6.0} {kb_r:>10}",
            size as f64 / 1e6,
            n as f64 / best,
            n as f64 / median,
            n as f64 / best_r,
            n as f64 / median_r,
        );
        let _ = std::fs::remove_file(&path);
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    if std::env::var_os("LH_BENCH_SKIP_MEMORY").is_none() {
        memory_by_size(dir.path());
    }
    let path = dir.path().join("bench.jsonl");
    let size = write_capture(&path, REQUESTS);
    let opts = options();
    let (_, analysis) = analyze_capture(&path, &opts).expect("analysis");
    println!(
        "synthetic capture: {REQUESTS} requests, {:.1} MB ({} B/request); {} findings, {} groups",
        size as f64 / 1e6,
        size / REQUESTS as u64,
        analysis.findings.len(),
        analysis.groups.len()
    );
    drop(analysis);

    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(12));
    // What `leakhound run`/`analyze` do: every finding kept for the reports.
    group.bench_function("analyze_capture_100k", |b| {
        b.iter(|| black_box(analyze_capture(&path, &opts).expect("analysis")))
    });
    // The classifier streaming its findings out (counted, not kept): flat memory.
    group.bench_function("analyze_capture_with_100k", |b| {
        b.iter(|| {
            let mut n = 0usize;
            let r = analyze_capture_with(&path, &opts, |f| {
                n += 1;
                black_box(f);
            })
            .expect("analysis");
            black_box((r, n))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(spec) = std::env::var("LH_CLASSIFY_CHILD") {
        child(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
