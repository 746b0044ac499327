//! Runs one journey end to end: launch Chromium, start the capture, perform the steps, leave the page,
//! and always finish the capture file — also when a step fails, the page hangs, the browser crashes
//! or the user presses Ctrl-C. Only failures before the capture exists are errors; everything after
//! is an incomplete run with what was captured.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromiumoxide::Browser;
use futures::StreamExt;
use serde_json::{json, Value};

use super::driver::{Driver, Renderer};
use super::launch::{chromium_version, ordinary_user_agent, Chromium, LaunchError, LaunchOptions};
use super::locate::{find_chromium, LocateError};
use crate::capture::record::*;
use crate::capture::writer::{CaptureWriter, WriteError};
use crate::cdp::{Cdp, CdpError};
use crate::offline::{HostMap, HostRule};
use crate::recorder::{self, Emulation, RecorderConfig, RecorderHandle};
use crate::scenario::model::{Device, Scenario, Step};
use leakhound_core::secret::SecretMask;

/// Everything about how to run, besides the journey itself.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub chromium: Option<PathBuf>,
    pub headed: bool,
    pub chromium_args: Vec<String>,
    /// Offline replay: nothing leaves the machine; `map` routes hosts to local servers.
    pub offline: bool,
    pub map: Vec<HostRule>,
    /// The capture file to write.
    pub capture_path: PathBuf,
    /// Take a screenshot after each step, into `screenshots/` beside the capture file.
    pub screenshots: bool,
    /// Keep Chromium's own (headless) user agent and automation flags.
    pub honest: bool,
    /// Overrides the scenario's device.
    pub device: Option<Device>,
    /// Overrides the scenario's whole-journey timeout.
    pub journey_timeout: Option<Duration>,
    /// Record initiator stacks (Debugger domain).
    pub stacks: bool,
    /// Capture requests at all. Off only for benchmarks measuring capture's cost.
    pub capture: bool,
    pub body_cap: usize,
    /// Accept invalid TLS certificates (a staging site with a self-signed certificate). Off by
    /// default: an audit must not silently talk to a server it cannot authenticate. The capture
    /// header records it, and the report says so.
    pub ignore_certificate_errors: bool,
}

impl RunOptions {
    pub fn new(capture_path: PathBuf) -> RunOptions {
        RunOptions {
            chromium: None,
            headed: false,
            chromium_args: Vec::new(),
            offline: false,
            map: Vec::new(),
            capture_path,
            screenshots: false,
            honest: false,
            device: None,
            journey_timeout: None,
            stacks: true,
            capture: true,
            body_cap: 1 << 20,
            ignore_certificate_errors: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    #[error(transparent)]
    Locate(#[from] LocateError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error(transparent)]
    Cdp(#[from] CdpError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("cannot drive Chromium: {0}")]
    Driver(#[source] chromiumoxide::error::CdpError),
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub capture_path: PathBuf,
    pub end: EndRecord,
    pub browser_version: String,
}

/// Progress notifications for the CLI (`step index`, `label`).
pub type Progress = dyn Fn(usize, usize, &str) + Send + Sync;

/// Runs a journey. `secrets` (identity key → value) are masked in the capture file.
pub async fn run_journey(
    scenario: &Scenario,
    journey: JourneyInfo,
    secrets: &BTreeMap<String, String>,
    render: &Renderer<'_>,
    opts: &RunOptions,
    progress: &Progress,
) -> Result<RunOutcome, RunError> {
    let path = find_chromium(opts.chromium.as_deref())?;
    let version = chromium_version(&path).unwrap_or_else(|| "156.0.0.0".to_string());
    let device = opts.device.unwrap_or(scenario.device);
    let mobile = device == Device::Mobile;

    let mut launch = LaunchOptions::new(path);
    launch.headed = opts.headed;
    launch.extra_args = opts.chromium_args.clone();
    if opts.ignore_certificate_errors {
        launch
            .extra_args
            .push("--ignore-certificate-errors".to_string());
    }
    launch.stealth = !opts.honest;
    if !opts.honest {
        launch.user_agent = Some(ordinary_user_agent(&version, mobile));
    }
    let host_map = HostMap::new(opts.map.clone());
    if opts.offline {
        launch.resolver_rules = Some(host_map.resolver_rules());
        // Every mapped host resolves to loopback; Chromium would otherwise block a public-looking
        // page's WebSocket to it as a local-network request.
        launch
            .extra_args
            .push("--disable-features=LocalNetworkAccessChecks".to_string());
    }
    let chromium = Chromium::launch(&launch).await?;
    let result = run_with_browser(
        scenario, journey, secrets, render, opts, progress, &chromium, host_map, mobile, &version,
    )
    .await;
    chromium.shutdown(Duration::from_secs(3)).await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn run_with_browser(
    scenario: &Scenario,
    journey: JourneyInfo,
    secrets: &BTreeMap<String, String>,
    render: &Renderer<'_>,
    opts: &RunOptions,
    progress: &Progress,
    chromium: &Chromium,
    host_map: HostMap,
    mobile: bool,
    version: &str,
) -> Result<RunOutcome, RunError> {
    // Live, the connection answers Fetch pauses itself (fast); offline, the recorder decides
    // where each request goes.
    let (cdp, events) = Cdp::connect_with(chromium.ws_url(), !opts.offline).await?;
    let mask = SecretMask::new(secrets.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let writer = CaptureWriter::create(&opts.capture_path, mask)?;
    let emulation = mobile.then(|| Emulation {
        width: 390,
        height: 844,
        scale: 3.0,
        mobile: true,
        user_agent: (!opts.honest).then(|| ordinary_user_agent(version, true)),
    });
    let config = RecorderConfig {
        body_cap: opts.body_cap,
        offline: opts.offline.then_some(host_map),
        emulation,
        stacks: opts.stacks,
        ..RecorderConfig::default()
    };
    let recorder = recorder::spawn(cdp.clone(), events, writer, config);
    let product = cdp
        .call("Browser.getVersion", json!({}), None)
        .await
        .ok()
        .and_then(|v| v.get("product").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| format!("Chromium/{version}"));
    recorder.write(Record::Header(CaptureHeader {
        format: CAPTURE_FORMAT_NAME.to_string(),
        version: CAPTURE_FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        browser_version: product.clone(),
        started_at: now_rfc3339(),
        journey,
        certificate_errors_ignored: opts.ignore_certificate_errors,
    }));
    if opts.capture {
        recorder::attach_browser(&cdp).await?;
    }
    // A page can start a download; an audit never writes one to disk. (The request that fetched
    // it is still captured.)
    if let Err(e) = cdp
        .call(
            "Browser.setDownloadBehavior",
            json!({"behavior": "deny"}),
            None,
        )
        .await
    {
        tracing::warn!("cannot turn downloads off: {e}");
    }

    // chromiumoxide's default handler tells every page to ignore certificate errors; an audit
    // must not, unless the user asked.
    let handler_config = chromiumoxide::handler::HandlerConfig {
        ignore_https_errors: opts.ignore_certificate_errors,
        ..Default::default()
    };
    let (browser, mut handler) = Browser::connect_with_config(chromium.ws_url(), handler_config)
        .await
        .map_err(RunError::Driver)?;
    let handler_task = tokio::spawn(async move {
        while let Some(event) = handler.next().await {
            if let Err(e) = event {
                tracing::trace!("chromiumoxide: {e}");
            }
        }
    });

    let outcome = drive(scenario, render, opts, progress, &browser, &recorder, &cdp).await;
    let (status, reason, steps_run) = outcome;

    let end = recorder.finish(status, reason, steps_run).await?;
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        cdp.call("Browser.close", json!({}), None),
    )
    .await;
    handler_task.abort();
    drop(browser);
    Ok(RunOutcome {
        capture_path: opts.capture_path.clone(),
        end,
        browser_version: product,
    })
}

/// Performs the steps under the journey timeout, Ctrl-C and crash watch. Returns status, reason and
/// the number of steps run.
async fn drive(
    scenario: &Scenario,
    render: &Renderer<'_>,
    opts: &RunOptions,
    progress: &Progress,
    browser: &Browser,
    recorder: &RecorderHandle,
    cdp: &Cdp,
) -> (RunStatus, Option<String>, usize) {
    let limit = opts
        .journey_timeout
        .unwrap_or(Duration::from_millis(scenario.timeout_ms));
    let steps_run = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = steps_run.clone();
    let journey = async {
        let page = tokio::time::timeout(Duration::from_secs(15), browser.new_page("about:blank"))
            .await
            .map_err(|_| "timed out opening a page".to_string())?
            .map_err(|e| format!("cannot open a page: {e}"))?;
        recorder.set_primary(page.target_id().as_ref());
        // chromiumoxide enables the Network domain on its own session with the page, which the
        // driver never reads (capture has its own session): turned off, the browser reports each
        // request once instead of twice.
        if opts.capture {
            let off = chromiumoxide::cdp::browser_protocol::network::DisableParams::default();
            if let Err(e) = page.execute(off).await {
                tracing::debug!("chromiumoxide's Network domain stays on: {e}");
            }
        }
        let driver = Driver {
            capturing: opts.capture,
            page,
            cdp: cdp.clone(),
            recorder: recorder.clone(),
            render,
            screenshot_dir: opts.screenshots.then(|| {
                opts.capture_path
                    .parent()
                    .map(|p| p.join("screenshots"))
                    .unwrap_or_else(|| PathBuf::from("screenshots"))
            }),
        };
        steps(scenario, &driver, progress, cdp, &counter).await
    };
    let watch_crash = async {
        loop {
            if let Some(reason) = recorder.shared().crashed() {
                return reason;
            }
            if cdp.is_closed() {
                return "the browser exited unexpectedly".to_string();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let result = tokio::select! {
        r = tokio::time::timeout(limit, journey) => match r {
            Ok(Ok(())) => (RunStatus::Complete, None),
            Ok(Err(reason)) => (RunStatus::Incomplete, Some(reason)),
            Err(_) => (RunStatus::Incomplete, Some(format!("journey timed out after {} s", limit.as_secs()))),
        },
        signal = super::interrupt::interrupted() => (RunStatus::Incomplete, Some(format!("interrupted ({signal})"))),
        reason = watch_crash => (RunStatus::Incomplete, Some(reason)),
    };
    let n = steps_run.load(std::sync::atomic::Ordering::SeqCst);
    (result.0, result.1, n)
}

/// The journey proper: open the start URL (step 0), the scenario's steps (1..=n), then leave the
/// page (step n+1) so exit beacons and batched sends go out. A failed step still leaves the page.
async fn steps(
    scenario: &Scenario,
    driver: &Driver<'_>,
    progress: &Progress,
    cdp: &Cdp,
    counter: &std::sync::atomic::AtomicUsize,
) -> Result<(), String> {
    use std::sync::atomic::Ordering;
    let total = scenario.steps.len() + 2;
    let open = Step {
        label: Some(format!("open {}", scenario.start_url)),
        timeout_ms: Some(30_000),
        action: crate::scenario::model::Action::Goto {
            url: scenario.start_url.clone(),
        },
    };
    let mut failure: Option<String> = None;
    let all: Vec<(usize, &Step)> = std::iter::once((0, &open))
        .chain(scenario.steps.iter().enumerate().map(|(i, s)| (i + 1, s)))
        .collect();
    for (index, step) in all {
        let label = step.describe();
        progress(index, total, &label);
        begin_step(&driver.recorder, index, step.action.name(), &label);
        counter.store(index + 1, Ordering::SeqCst);
        let result = driver.run_step(index, step).await;
        let (shot, error) = match result {
            Ok(shot) => (shot, None),
            Err(e) => (None, Some(format!("step {index} ({label}): {e}"))),
        };
        let shot = match shot {
            Some(s) => Some(s),
            None => driver
                .screenshot(index, Some(step.action.name()), false)
                .await
                .ok()
                .flatten(),
        };
        snapshot(driver, cdp, index, shot, error.clone()).await;
        if let Some(e) = error {
            failure = Some(e);
            break;
        }
    }
    let leave_index = total - 1;
    progress(leave_index, total, "leave the site (exit beacons)");
    begin_step(&driver.recorder, leave_index, "leave", "leave the site");
    counter.store(leave_index + 1, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(15);
    let left = driver.navigate(&scenario.leave.url, deadline).await;
    tokio::time::sleep(Duration::from_millis(scenario.leave.grace_ms)).await;
    snapshot(
        driver,
        cdp,
        leave_index,
        None,
        left.as_ref().err().map(|e| e.to_string()),
    )
    .await;
    match (failure, left) {
        (Some(f), _) => Err(f),
        (None, Err(e)) => Err(format!("leaving the site: {e}")),
        (None, Ok(())) => Ok(()),
    }
}

fn begin_step(recorder: &RecorderHandle, index: usize, action: &str, label: &str) {
    recorder.shared().set_step(index);
    recorder.write(Record::Step(StepRecord {
        index,
        action: action.to_string(),
        label: label.to_string(),
        time_ms: recorder.shared().elapsed_ms(),
    }));
}

async fn snapshot(
    driver: &Driver<'_>,
    cdp: &Cdp,
    step: usize,
    screenshot: Option<String>,
    error: Option<String>,
) {
    let url = driver.current_url().await.unwrap_or_default();
    let title = driver.title().await.unwrap_or_default();
    let cookies = match cdp.call("Storage.getCookies", json!({}), None).await {
        Ok(v) => v
            .get("cookies")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(cookie_of).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    driver.recorder.write(Record::Snapshot(SnapshotRecord {
        step,
        time_ms: driver.recorder.shared().elapsed_ms(),
        url,
        title,
        cookies,
        screenshot,
        error,
    }));
}

fn cookie_of(c: &Value) -> CookieRecord {
    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let session = c.get("session").and_then(Value::as_bool).unwrap_or(false);
    CookieRecord {
        name: s("name"),
        value: s("value"),
        domain: s("domain"),
        path: s("path"),
        secure: c.get("secure").and_then(Value::as_bool).unwrap_or(false),
        http_only: c.get("httpOnly").and_then(Value::as_bool).unwrap_or(false),
        same_site: c
            .get("sameSite")
            .and_then(Value::as_str)
            .map(str::to_string),
        expires: if session {
            None
        } else {
            c.get("expires").and_then(Value::as_f64)
        },
    }
}

/// The current time as RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
