//! What capture costs: the same 2,000-request journey driven with capture on and with capture off.
//!
//! A fixture site (`tests/fixtures/bench/`) has four pages; each sends 500 tracker requests as soon
//! as it loads (200 image pixels, 200 `fetch` POSTs with ~1 KB JSON bodies, 100 `sendBeacon`s) to
//! tracker hosts mapped to a local [`SiteServer`], then shows `#done`. The journey waits for it,
//! clicks to the next page, and leaves the site after the fourth.
//!
//! Each measured journey runs in a child process (this binary re-executed with `LH_BENCH_CHILD`
//! set), so its peak RSS (`VmHWM`) is that one journey's, not the whole benchmark's, and so nothing
//! one run leaves behind (allocator arenas, a warm runtime) flatters the next. The site server stays
//! in this parent process, outside the measured process, like a real site. Variants alternate and
//! rotate their order every round so drift on a shared machine hits them all alike.
//!
//! Every run is checked before it counts: the server must have received all 2,000 requests (also
//! for the baseline, so both variants did the same work), and a capturing run's file must hold every
//! one of them. A benchmark that silently measured an empty journey would be worse than none.
//!
//! Run with `cargo bench --bench capture`. Settings (environment):
//! - `LH_BENCH_RUNS` — journeys per variant (default 5);
//! - `LH_BENCH_VARIANTS` — comma-separated subset of `off,on,on-nostacks` (default all three);
//! - `RUST_LOG` — tracing output of the child runs, on stderr.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use leakhound_browser::driver::RenderedText;
use leakhound_browser::journey::{run_journey, RunOptions};
use leakhound_browser::offline::HostRule;
use leakhound_core::capture::record::{JourneyInfo, Record, RunStatus};
use leakhound_core::scenario::model::Scenario;
use leakhound_serve::{normalize_host, ReceivedKind, Site, SiteServer};
use serde::{Deserialize, Serialize};

const PAGES: usize = 4;
/// Must match `PER_PAGE` in `tests/fixtures/bench/bench.js`.
const PER_PAGE: usize = 500;
const EXPECTED: usize = PAGES * PER_PAGE;

/// Issue 9's targets (journey overhead of live capture, leakhound's own peak RSS).
const TARGET_OVERHEAD_PCT: f64 = 10.0;
const TARGET_RSS_MB: f64 = 100.0;

const CHILD_ENV: &str = "LH_BENCH_CHILD";
const ADDR_ENV: &str = "LH_BENCH_ADDR";
const CAPTURE_ENV: &str = "LH_BENCH_CAPTURE";
const RESULT_PREFIX: &str = "LH_BENCH_RESULT ";

/// How a journey is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// No recorder attached: no Network, Fetch or Debugger domain. The baseline.
    Off,
    /// Full capture, as `leakhound run` does by default.
    On,
    /// Capture without initiator stacks (no Debugger domain).
    OnNoStacks,
}

impl Variant {
    const ALL: [Variant; 3] = [Variant::Off, Variant::On, Variant::OnNoStacks];

    fn name(self) -> &'static str {
        match self {
            Variant::Off => "off",
            Variant::On => "on",
            Variant::OnNoStacks => "on-nostacks",
        }
    }

    fn parse(s: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == s.trim())
    }

    fn captures(self) -> bool {
        self != Variant::Off
    }

    fn describe(self) -> &'static str {
        match self {
            Variant::Off => "capture off (baseline)",
            Variant::On => "capture on (default)",
            Variant::OnNoStacks => "capture on, stacks=false",
        }
    }
}

/// What a child run reports on stdout.
#[derive(Debug, Serialize, Deserialize)]
struct ChildResult {
    /// `run_journey` from call to return: launch, steps, leave, shutdown.
    wall_ms: f64,
    /// Peak resident set size of the child (leakhound) process, from `VmHWM`.
    peak_rss_kb: u64,
    /// CPU time of the child process itself.
    cpu_ms: f64,
    /// CPU time of Chromium and its helpers (reaped children).
    browser_cpu_ms: f64,
    complete: bool,
    reason: Option<String>,
}

/// One verified measurement.
#[derive(Debug)]
struct Sample {
    result: ChildResult,
    /// Sum over pages of first-to-last tracker request at the server.
    send_span_ms: f64,
    /// Tracker requests in the capture file (0 for the baseline).
    captured: usize,
}

fn main() {
    match std::env::var(CHILD_ENV) {
        Ok(variant) => child(&variant),
        Err(_) => parent(),
    }
}

// ---------------------------------------------------------------------------------------------
// The parent: serves the site, runs the children, verifies and reports.

fn parent() {
    let runs: usize = std::env::var("LH_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let variants: Vec<Variant> = match std::env::var("LH_BENCH_VARIANTS") {
        Ok(list) => list
            .split(',')
            .map(|s| Variant::parse(s).unwrap_or_else(|| panic!("unknown variant {s:?}")))
            .collect(),
        Err(_) => Variant::ALL.to_vec(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let server = SiteServer::start(bench_site()).await.expect("site server");
        let dir = tempfile::tempdir().expect("temporary directory");
        let exe = std::env::current_exe().expect("own executable");
        println!(
            "capture benchmark: {PAGES} pages × {PER_PAGE} requests, {runs} runs per variant, \
             {} cores",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let mut samples: BTreeMap<&'static str, Vec<Sample>> = BTreeMap::new();
        for round in 0..runs {
            for k in 0..variants.len() {
                let variant = variants[(round + k) % variants.len()];
                let capture = dir.path().join(format!("{}-{round}.jsonl", variant.name()));
                server.clear_received();
                let sample = measure(&exe, &server, variant, &capture).await;
                println!(
                    "  round {} {:<12} wall {:>7.0} ms  send span {:>6.0} ms  peak RSS {:>6.1} MB  \
                     leakhound CPU {:>6.0} ms  browser CPU {:>6.0} ms  captured {}",
                    round + 1,
                    variant.name(),
                    sample.result.wall_ms,
                    sample.send_span_ms,
                    sample.result.peak_rss_kb as f64 / 1024.0,
                    sample.result.cpu_ms,
                    sample.result.browser_cpu_ms,
                    sample.captured
                );
                // The capture files of 15 runs add up; only the numbers are kept.
                let _ = std::fs::remove_file(&capture);
                samples.entry(variant.name()).or_default().push(sample);
            }
        }
        server.shutdown().await;
        report(&variants, &samples);
    });
}

fn bench_site() -> Site {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bench");
    let read = |name: &str| {
        std::fs::read(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
    };
    let page = read("page.html");
    let mut site = Site::new().file(
        "www.site.test",
        "/bench.js",
        leakhound_serve::content_type_for("bench.js"),
        read("bench.js"),
    );
    for n in 1..=PAGES {
        site = site.file(
            "www.site.test",
            &format!("/page{n}.html"),
            leakhound_serve::content_type_for("page.html"),
            page.clone(),
        );
    }
    site.tracker_host("*.tracker.test")
        .tracker_host("*.other-tracker.test")
}

/// Runs one journey in a child process and checks it did (and captured) all the work.
async fn measure(exe: &Path, server: &SiteServer, variant: Variant, capture: &Path) -> Sample {
    let output = tokio::process::Command::new(exe)
        .env(CHILD_ENV, variant.name())
        .env(ADDR_ENV, server.addr().to_string())
        .env(CAPTURE_ENV, capture)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await
        .expect("run the benchmark child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: ChildResult = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| {
            panic!(
                "{} run reported nothing ({}); stdout: {stdout}",
                variant.name(),
                output.status
            )
        });
    assert!(
        result.complete,
        "{} run incomplete: {:?}",
        variant.name(),
        result.reason
    );

    // Ground truth: what the server received from the trackers' point of view.
    let received: Vec<(String, f64)> = server
        .received()
        .into_iter()
        .filter(|r| r.kind == ReceivedKind::Http && r.method != "OPTIONS")
        .filter(|r| is_tracker(&normalize_host(&r.host)))
        .map(|r| {
            let t = r.unix_ms();
            (format!("{}{}", normalize_host(&r.host), r.path), t)
        })
        .collect();
    assert_eq!(
        received.len(),
        EXPECTED,
        "{} run: the server received {} tracker requests, expected {EXPECTED}",
        variant.name(),
        received.len()
    );

    let captured = if variant.captures() {
        let urls = captured_tracker_urls(capture);
        let missing: Vec<&String> = received
            .iter()
            .map(|(u, _)| u)
            .filter(|u| !urls.contains(*u))
            .collect();
        assert!(
            missing.is_empty(),
            "{} run: {} of {EXPECTED} requests the server received are not in the capture, e.g. {:?}",
            variant.name(),
            missing.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
        assert!(urls.len() >= EXPECTED);
        urls.len()
    } else {
        0
    };
    Sample {
        result,
        send_span_ms: send_span(&received),
        captured,
    }
}

fn is_tracker(host: &str) -> bool {
    host.ends_with(".tracker.test") || host.ends_with(".other-tracker.test")
}

/// `host/path?query` of every tracker request in a capture file (every URL is unique by `i`).
fn captured_tracker_urls(capture: &Path) -> HashSet<String> {
    let text = std::fs::read_to_string(capture)
        .unwrap_or_else(|e| panic!("capture file {}: {e}", capture.display()));
    let mut urls = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let record: Record = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{} line {}: {e}", capture.display(), n + 1));
        let Record::Request(r) = record else { continue };
        let Ok(url) = url::Url::parse(&r.url) else {
            continue;
        };
        let host = url.host_str().unwrap_or_default();
        if is_tracker(host) {
            let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
            urls.insert(format!("{host}{}{query}", url.path()));
        }
    }
    urls
}

/// Sum over pages of the time between the first and the last tracker request the server got from
/// that page: how long the page took to get its 500 requests out, without launch and navigation.
fn send_span(received: &[(String, f64)]) -> f64 {
    let mut per_page: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (url, t) in received {
        let page = url
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("page="))
            .unwrap_or("?");
        let e = per_page.entry(page).or_insert((*t, *t));
        e.0 = e.0.min(*t);
        e.1 = e.1.max(*t);
    }
    per_page.values().map(|(a, b)| b - a).sum()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn report(variants: &[Variant], samples: &BTreeMap<&'static str, Vec<Sample>>) {
    let stat = |v: Variant, f: &dyn Fn(&Sample) -> f64| {
        median(
            samples
                .get(v.name())
                .map(|s| s.iter().map(f).collect())
                .unwrap_or_default(),
        )
    };
    let base_wall = stat(Variant::Off, &|s| s.result.wall_ms);
    let base_span = stat(Variant::Off, &|s| s.send_span_ms);
    let pct = |x: f64, base: f64| {
        if base.is_finite() && base > 0.0 {
            format!("{:+.1}%", (x / base - 1.0) * 100.0)
        } else {
            "-".to_string()
        }
    };
    println!();
    println!(
        "{:<27} {:>11} {:>9} {:>10} {:>9} {:>12} {:>13} {:>12} {:>9}",
        "variant (medians)",
        "wall ms",
        "overhead",
        "send span",
        "overhead",
        "peak RSS MB",
        "leakhound CPU",
        "browser CPU",
        "captured"
    );
    for &v in variants {
        let wall = stat(v, &|s| s.result.wall_ms);
        let span = stat(v, &|s| s.send_span_ms);
        let rss_max = samples
            .get(v.name())
            .map(|s| s.iter().map(|s| s.result.peak_rss_kb).max().unwrap_or(0))
            .unwrap_or(0) as f64
            / 1024.0;
        println!(
            "{:<27} {:>11.0} {:>9} {:>10.0} {:>9} {:>12.1} {:>13.0} {:>12.0} {:>9.0}",
            v.describe(),
            wall,
            pct(wall, base_wall),
            span,
            pct(span, base_span),
            rss_max,
            stat(v, &|s| s.result.cpu_ms),
            stat(v, &|s| s.result.browser_cpu_ms),
            stat(v, &|s| s.captured as f64),
        );
    }
    println!("(peak RSS is the maximum over runs; everything else is the median)");
    if variants.contains(&Variant::On) && variants.contains(&Variant::Off) {
        let wall = stat(Variant::On, &|s| s.result.wall_ms);
        let overhead = (wall / base_wall - 1.0) * 100.0;
        let rss = samples
            .get(Variant::On.name())
            .map(|s| s.iter().map(|s| s.result.peak_rss_kb).max().unwrap_or(0))
            .unwrap_or(0) as f64
            / 1024.0;
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "targets: capture overhead {overhead:.1}% (≤ {TARGET_OVERHEAD_PCT}%: {}), \
             leakhound peak RSS {rss:.1} MB (< {TARGET_RSS_MB} MB: {})",
            verdict(overhead <= TARGET_OVERHEAD_PCT),
            verdict(rss < TARGET_RSS_MB)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The child: one journey, measured from inside.

fn child(variant: &str) {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let variant = Variant::parse(variant).expect("known variant");
    let addr = std::env::var(ADDR_ENV).expect("server address");
    let capture = PathBuf::from(std::env::var_os(CAPTURE_ENV).expect("capture path"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (elapsed, end) = runtime.block_on(async {
        let scenario = bench_scenario();
        let mut opts = RunOptions::new(capture);
        // Live mode, as a real audit runs (the tracker hosts resolve to the local server);
        // LH_BENCH_OFFLINE=1 measures offline replay, where every request pauses in Fetch.
        if std::env::var_os("LH_BENCH_OFFLINE").is_some() {
            opts.offline = true;
            opts.map = vec![HostRule::parse(&format!("*.test={addr}")).expect("map rule")];
        } else {
            opts.chromium_args = vec![format!("--host-resolver-rules=MAP *.test {addr}")];
        }
        opts.journey_timeout = Some(Duration::from_secs(300));
        opts.capture = variant.captures();
        opts.stacks = variant != Variant::OnNoStacks;
        let render = |t: &str| {
            Ok(RenderedText {
                text: t.to_string(),
                canary_key: None,
                secret: false,
            })
        };
        let journey = JourneyInfo {
            name: scenario.name.clone(),
            start_url: scenario.start_url.clone(),
            ..Default::default()
        };
        let started = Instant::now();
        let outcome = run_journey(
            &scenario,
            journey,
            &Default::default(),
            &render,
            &opts,
            &|_, _, _| {},
        )
        .await
        .expect("run the journey");
        (started.elapsed(), outcome.end)
    });
    drop(runtime);
    let result = ChildResult {
        wall_ms: elapsed.as_secs_f64() * 1000.0,
        peak_rss_kb: status_kb("VmHWM"),
        cpu_ms: cpu_ms(libc::RUSAGE_SELF),
        browser_cpu_ms: cpu_ms(libc::RUSAGE_CHILDREN),
        complete: end.status == RunStatus::Complete,
        reason: end.reason,
    };
    println!(
        "{RESULT_PREFIX}{}",
        serde_json::to_string(&result).expect("serialize result")
    );
}

/// The journey: four pages, each waited for until it has sent everything, then leave.
fn bench_scenario() -> Scenario {
    let mut steps =
        vec![serde_json::json!({"action": "wait", "selector": "#done", "timeout_ms": 60000})];
    for n in 2..=PAGES {
        steps.push(serde_json::json!({"action": "click", "selector": "#next"}));
        // The old page still shows `#done` until the new one commits.
        steps.push(serde_json::json!({"action": "wait", "url": format!("/page{n}.html")}));
        steps.push(serde_json::json!({"action": "wait", "selector": "#done", "timeout_ms": 60000}));
    }
    serde_json::from_value(serde_json::json!({
        "name": "capture benchmark",
        "start_url": "http://www.site.test/page1.html",
        "steps": steps,
        "leave": {"url": "about:blank", "grace_ms": 1000},
    }))
    .expect("valid scenario")
}

/// A `kB` field of `/proc/self/status` (0 where there is no procfs).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn cpu_ms(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return f64::NAN;
    }
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}
