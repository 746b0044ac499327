//! The `leakhound` binary as a user and a CI meet it: exit codes, error messages, and supervision
//! (SIGKILL leaves no Chromium behind, Ctrl-C and a browser crash still write an incomplete capture).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use leakhound_core::capture::record::{Record, RunStatus};
use leakhound_serve::{Site, SiteServer};

fn leakhound() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leakhound"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn check_reports_file_line_column_and_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        dir.path(),
        "bad.json",
        r##"{
  "name": "bad",
  "start_url": "https://www.hospital.test/",
  "steps": [
    {"action": "goto", "url": "/symptoms"},
    {"action": "tpye", "selector": "#q", "text": "chest pain"}
  ]
}"##,
    );
    let good = write(
        dir.path(),
        "good.json",
        r#"{"name": "good", "start_url": "https://www.hospital.test/", "steps": [{"action": "click", "selector": "a"}]}"#,
    );
    let out = leakhound()
        .arg("check")
        .arg(&good)
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("ok ") && stdout.contains("good.json"),
        "{stdout}"
    );
    assert!(stderr.contains("bad.json:6:"), "{stderr}");
    assert!(stderr.contains("step 2"), "{stderr}");
    assert!(
        stderr.contains("type"),
        "hint with valid actions missing: {stderr}"
    );
}

#[test]
fn usage_errors_exit_2_and_help_teaches() {
    let out = leakhound().arg("run").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let help = leakhound().arg("--help").output().expect("run");
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("Exit codes") && text.contains("demo"),
        "{text}"
    );
    let missing = leakhound()
        .args(["run", "/nonexistent/journey.json"])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/journey.json"));
}

fn slow_site() -> Site {
    Site::new().file(
        "www.slow.test",
        "/",
        "text/html",
        b"<!doctype html><title>waiting</title><p>nothing ever appears</p>\
          <script>setInterval(() => new Image().src = 'http://px.tracker.test/tick.gif?' + Date.now(), 200)</script>"
            .to_vec(),
    )
    .tracker_host("*.tracker.test")
}

/// A journey that waits (up to a minute) for an element that never appears.
fn waiting_journey(dir: &Path) -> PathBuf {
    write(
        dir,
        "wait.json",
        r##"{"name": "waits", "start_url": "http://www.slow.test/",
            "steps": [{"action": "wait", "selector": "#never", "timeout_ms": 60000}],
            "leave": {"grace_ms": 200}}"##,
    )
}

fn spawn_run(dir: &Path, server: &SiteServer, extra: &[&str]) -> Child {
    let scenario = waiting_journey(dir);
    leakhound()
        .arg("run")
        .arg(&scenario)
        .args(["--offline", "--map"])
        .arg(format!("*.test={}", server.addr()))
        .arg("--out")
        .arg(dir.join("out"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn leakhound")
}

/// (pid, state, parent pid, process group) of every process.
fn processes() -> Vec<(u32, String, u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Fields after the command name (which may contain spaces) start after ") ".
            let (_, rest) = stat.rsplit_once(") ")?;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u32>().ok());
            Some((pid, fields.first()?.to_string(), num(1)?, num(2)?))
        })
        .collect()
}

/// Pids of processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| p.2 == pid)
        .map(|p| p.0)
        .collect()
}

/// Every live (non-zombie) process in process group `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| p.3 == pgid && p.1 != "Z")
        .map(|p| p.0)
        .collect()
}

/// Waits until leakhound has started Chromium and the journey is under way; returns Chromium's pid.
fn wait_for_browser(child: &Child, capture: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let browser = children_of(child.id()).into_iter().find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.contains("remote-debugging-port"))
        });
        let stepping = std::fs::read_to_string(capture)
            .is_ok_and(|c| c.contains("\"type\":\"step\",\"index\":1"));
        if let (Some(pid), true) = (browser, stepping) {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "leakhound never started the journey"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn capture_path(dir: &Path) -> PathBuf {
    dir.join("out").join("wait").join("capture.jsonl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_leaves_no_chromium_behind() {
    let server = SiteServer::start(slow_site()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = spawn_run(dir.path(), &server, &[]);
    let capture = capture_path(dir.path());
    let browser = tokio::task::block_in_place(|| wait_for_browser(&child, &capture));
    assert!(!group_members(browser).is_empty());
    child.kill().expect("SIGKILL leakhound");
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = group_members(browser);
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Chromium processes left behind: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // What was captured before the kill is still a readable capture (no end record: incomplete).
    let records = common::read_capture(&capture);
    assert!(matches!(records.first(), Some(Record::Header(_))));
    assert!(!records.iter().any(|r| matches!(r, Record::End(_))));
    server.shutdown().await;
}

fn end_of(capture: &Path) -> leakhound_core::capture::record::EndRecord {
    let records = common::read_capture(capture);
    match records.last() {
        Some(Record::End(end)) => end.clone(),
        other => panic!("capture does not end with an end record: {other:?}"),
    }
}

/// Ctrl-C (SIGINT) and SIGTERM (what CI sends when a job is cancelled) both end the run
/// gracefully: reports written, capture marked incomplete with the signal named, exit code 3, no
/// Chromium left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_writes_an_incomplete_capture_and_reports() {
    let server = SiteServer::start(slow_site()).await.expect("server");
    for (signal, name) in [(libc::SIGINT, "Ctrl-C"), (libc::SIGTERM, "SIGTERM")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let child = spawn_run(dir.path(), &server, &["--format", "json"]);
        let capture = capture_path(dir.path());
        let browser = tokio::task::block_in_place(|| wait_for_browser(&child, &capture));
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let out = tokio::task::block_in_place(|| child.wait_with_output()).expect("wait");
        assert_eq!(
            out.status.code(),
            Some(3),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let end = end_of(&capture);
        assert_eq!(end.status, RunStatus::Incomplete);
        assert!(
            end.reason.as_deref().is_some_and(|r| r.contains(name)),
            "{end:?}"
        );
        assert!(end.requests > 0, "what was captured before {name} is kept");
        assert!(dir.path().join("out/wait/report.json").is_file(), "{name}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            group_members(browser).is_empty(),
            "Chromium outlived the run after {name}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_crash_ends_the_run_as_incomplete() {
    let server = SiteServer::start(slow_site()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let child = spawn_run(dir.path(), &server, &["--format", "json"]);
    let capture = capture_path(dir.path());
    let browser = tokio::task::block_in_place(|| wait_for_browser(&child, &capture));
    // SAFETY: killing the Chromium our child started.
    unsafe { libc::kill(browser as libc::pid_t, libc::SIGKILL) };
    let started = Instant::now();
    let out = tokio::task::block_in_place(|| child.wait_with_output()).expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "leakhound hung after the crash"
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let end = end_of(&capture);
    assert_eq!(end.status, RunStatus::Incomplete);
    assert!(
        end.reason.as_deref().is_some_and(|r| r.contains("browser")),
        "{end:?}"
    );
    assert!(dir.path().join("out/wait/report.json").is_file());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_step_times_out_within_the_journey_limit() {
    let server = SiteServer::start(slow_site()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let child = spawn_run(dir.path(), &server, &["--format", "json", "--timeout", "4"]);
    let out = tokio::task::block_in_place(|| child.wait_with_output()).expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let end = end_of(&capture_path(dir.path()));
    assert!(
        end.reason
            .as_deref()
            .is_some_and(|r| r.contains("timed out")),
        "{end:?}"
    );
    server.shutdown().await;
}

/// `leakhound signatures | head -1`: the reader goes away after one line; leakhound must exit
/// quietly (no panic message, exit 0), as Unix tools do.
#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [
        &["signatures"][..],
        &["check", "scenarios/example-symptom-search.json"][..],
    ] {
        let mut child = leakhound()
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close the pipe before leakhound writes: every write then fails with EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
