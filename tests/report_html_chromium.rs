//! The HTML report in a real headless Chromium: it loads from a file with no network, the key
//! elements are in the DOM, hostile page text stays text, the screenshot is embedded, and the page
//! renders to a non-trivial picture.
//!
//! Needs Chromium (`/usr/lib/chromium/chromium`, `/usr/bin/chromium`, or `LEAKHOUND_CHROMIUM`).
//! Without it the test is skipped, except under `CI=true`, where it fails.

#[path = "report_support/fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use leakhound_core::report::{self, build_report, Format, Policy, ReportMeta};

fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("LEAKHOUND_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/lib/chromium/chromium",
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Runs Chromium headless with `args`, killing it after a minute. Returns stdout.
///
/// Stdout goes to a file rather than a pipe: `--dump-dom` of a report with embedded screenshots is
/// larger than a pipe buffer, and nothing would read the pipe while we wait.
fn run_chromium(bin: &Path, profile: &Path, args: &[String]) -> String {
    let stdout_path = profile.with_extension("stdout");
    let stdout = std::fs::File::create(&stdout_path).expect("stdout file");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait for chromium").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&stdout_path).expect("chromium stdout")
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    (w, h)
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("Chromium not found: install the Debian package `chromium` or set LEAKHOUND_CHROMIUM");
        }
        eprintln!("SKIPPED html_report_renders_in_headless_chromium: Chromium not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");

    // A real screenshot of a (local, fake) hospital page, as the capture would hold.
    let shots = dir.path().join("capture/shots");
    std::fs::create_dir_all(&shots).unwrap();
    let page = dir.path().join("page.html");
    std::fs::write(
        &page,
        "<!doctype html><body style='font:20px sans-serif;background:#eef5ff'>\
         <h1 style='color:#0b4f9c'>Mercy Health</h1><p>Symptoms: chest pain</p>\
         <input value='chest pain' style='font-size:20px'></body>",
    )
    .unwrap();
    run_chromium(
        &bin,
        &profile,
        &[
            format!("--screenshot={}", shots.join("step.png").display()),
            "--window-size=640,400".into(),
            format!("file://{}", page.display()),
        ],
    );
    let shot = std::fs::read(shots.join("step.png")).expect("chromium wrote the step screenshot");
    assert_eq!(png_size(&shot), (640, 400));

    let policy = Policy::parse(fixture::POLICY, Path::new("policy.json")).unwrap();
    let meta = ReportMeta {
        tool_version: "0.1.0".into(),
        generated_at: "2026-11-23T09:05:00Z".into(),
        capture_file: Some(
            dir.path()
                .join("capture/capture.jsonl")
                .display()
                .to_string(),
        ),
        secret_values: vec![fixture::PASSWORD.into()],
    };
    let report = build_report(
        &fixture::summary(true, Some("shots/step.png")),
        fixture::analysis(),
        Some(&policy),
        meta,
    );
    let out = dir.path().join("out");
    let written = report::write_all(&report, &out, &[Format::Html], false).unwrap();
    let html_path = &written[0];
    let html = std::fs::read_to_string(html_path).unwrap();
    assert!(
        !html.contains("http://") || !html.contains("<link"),
        "no external resources"
    );
    assert!(!html.contains("<script"), "the report needs no script");
    assert!(!html.contains(fixture::PASSWORD));

    let dom = run_chromium(
        &bin,
        &profile,
        &[
            "--dump-dom".into(),
            format!("file://{}", html_path.display()),
        ],
    );
    assert!(
        dom.contains("<section class=\"verdict fail\""),
        "verdict missing"
    );
    assert!(dom.contains("FAIL — health data reached third parties against policy"));
    // Matrix: one row per receiving third party, one column per data kind.
    for domain in [
        "facebook.com",
        "google-analytics.com",
        "hotjar.com",
        "doubleclick.net",
        "quietmetrics.io",
        "linkedin.com",
    ] {
        assert!(
            dom.contains(&format!("<tr data-domain=\"{domain}\"")),
            "matrix row {domain}"
        );
    }
    assert!(dom.contains("class=\"cell violation\" data-kind=\"search_term\""));
    assert!(dom.contains("class=\"cell allowed\" data-kind=\"url_path\""));
    assert!(dom.contains("class=\"cell ignored\" data-kind=\"url_path\""));
    // Steps, findings, highlighted evidence, screenshots.
    assert_eq!(dom.matches("<article class=\"step").count(), 8);
    assert_eq!(
        dom.matches("<article class=\"group").count(),
        report.groups.len()
    );
    assert!(dom.contains("<mark>chest pain</mark>"));
    assert!(dom.contains("<mark>(secret withheld)</mark>"));
    assert!(dom.matches("src=\"data:image/png;base64,").count() >= 8);
    assert!(dom.contains("sha256(lowercase)"));
    assert!(dom.contains("https://connect.facebook.net/en_US/fbevents.js"));
    assert!(dom.contains("Referer-only path, tag removed in release 4.2 (ticket PRIV-88)"));
    // The hostile page title is text, not an element.
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!dom.contains("<img src=\"x\""));

    let png_path = dir.path().join("report.png");
    run_chromium(
        &bin,
        &profile,
        &[
            format!("--screenshot={}", png_path.display()),
            "--window-size=1280,2000".into(),
            format!("file://{}", html_path.display()),
        ],
    );
    let png = std::fs::read(&png_path).expect("chromium wrote the report screenshot");
    assert_eq!(png_size(&png), (1280, 2000));
    assert!(
        png.len() > 50_000,
        "a rendered report is not a blank page ({} bytes)",
        png.len()
    );

    if let Ok(keep) = std::env::var("LEAKHOUND_KEEP_HTML") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(html_path, keep.join("report.html")).unwrap();
        std::fs::copy(&png_path, keep.join("report.png")).unwrap();
    }
}
