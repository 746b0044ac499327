//! Launching and supervising Chromium.
//!
//! leakhound spawns Chromium itself (rather than letting chromiumoxide do it) so that Chromium can
//! never outlive it: the child gets `PR_SET_PDEATHSIG = SIGKILL` and its own process group. The
//! parent-death signal fires when the *thread* that spawned the child ends, so a dedicated supervisor
//! thread spawns it and stays alive exactly as long as the child does. If leakhound is killed with
//! SIGKILL, the kernel kills Chromium's browser process, and its helpers exit when their browser goes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    #[error("cannot create a temporary browser profile: {0}")]
    Profile(#[source] std::io::Error),
    #[error("cannot start Chromium at {path}: {source}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "Chromium exited before it was ready{}. Try running it by hand: {path} --headless --no-sandbox about:blank",
        .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    EarlyExit {
        path: PathBuf,
        detail: Option<String>,
    },
    #[error("Chromium did not open its DevTools endpoint within {0} s")]
    Timeout(u64),
}

/// How to start Chromium.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    pub chromium: PathBuf,
    pub headed: bool,
    /// Passed through as given (each a full argument like `--proxy-server=...`).
    pub extra_args: Vec<String>,
    /// `--host-resolver-rules` value (offline mode).
    pub resolver_rules: Option<String>,
    /// `--user-agent` value; `None` keeps Chromium's own.
    pub user_agent: Option<String>,
    /// Hide automation flags (`navigator.webdriver`). Off with `--honest-ua`.
    pub stealth: bool,
    pub window: (u32, u32),
    pub launch_timeout: Duration,
}

impl LaunchOptions {
    pub fn new(chromium: PathBuf) -> LaunchOptions {
        LaunchOptions {
            chromium,
            headed: false,
            extra_args: Vec::new(),
            resolver_rules: None,
            user_agent: None,
            stealth: true,
            window: (1366, 900),
            launch_timeout: Duration::from_secs(30),
        }
    }
}

/// A running Chromium. Dropping it kills the process group and removes the profile.
pub struct Chromium {
    ws_url: String,
    pid: u32,
    exited: watch::Receiver<Option<String>>,
    /// Set (under the lock) by the supervisor when it has reaped the browser: from then on its
    /// PID, which was also its process group's id, may belong to an unrelated process, so it is
    /// never signalled again.
    reaped: Arc<Mutex<bool>>,
    profile: Option<tempfile::TempDir>,
}

/// Reads `Chromium 156.0.8078.79 ...` from `chromium --version`.
pub fn chromium_version(path: &Path) -> Option<String> {
    let out = Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.contains('.'))
        .map(str::to_string)
}

/// The user agent of an ordinary desktop Chrome of this major version: what a patient's browser sends
/// (reduced UA: minor version zeroed, as Chrome itself does).
pub fn ordinary_user_agent(version: &str, mobile: bool) -> String {
    let major = version.split('.').next().unwrap_or("156");
    if mobile {
        format!(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Mobile Safari/537.36"
        )
    } else {
        format!(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36"
        )
    }
}

fn build_args(opts: &LaunchOptions, profile: &Path) -> Vec<String> {
    let mut disabled_features = vec![
        // Unload beacons vanish from Network events while RenderDocument swaps the document's agent.
        "RenderDocument".to_string(),
        "Translate".to_string(),
        "MediaRouter".to_string(),
        "OptimizationHints".to_string(),
    ];
    let mut args = vec![
        "--remote-debugging-port=0".to_string(),
        format!("--user-data-dir={}", profile.display()),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-default-apps".into(),
        "--disable-extensions".into(),
        "--disable-breakpad".into(),
        "--disable-crash-reporter".into(),
        "--disable-quic".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-client-side-phishing-detection".into(),
        "--disable-popup-blocking".into(),
        "--disable-hang-monitor".into(),
        "--disable-prompt-on-repost".into(),
        "--password-store=basic".into(),
        "--use-mock-keychain".into(),
        "--metrics-recording-only".into(),
        "--mute-audio".into(),
        format!("--window-size={},{}", opts.window.0, opts.window.1),
    ];
    if !opts.headed {
        args.push("--headless".into());
        args.push("--hide-scrollbars".into());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Chromium refuses to run as root with its sandbox on.
        args.push("--no-sandbox".into());
    }
    if opts.stealth {
        args.push("--disable-blink-features=AutomationControlled".into());
    }
    if let Some(ua) = &opts.user_agent {
        args.push(format!("--user-agent={ua}"));
    }
    if let Some(rules) = &opts.resolver_rules {
        args.push(format!("--host-resolver-rules={rules}"));
    }
    for extra in &opts.extra_args {
        // Chromium keeps only one --disable-features: merge the user's into ours.
        if let Some(list) = extra.strip_prefix("--disable-features=") {
            disabled_features.extend(list.split(',').map(str::to_string));
        } else {
            args.push(extra.clone());
        }
    }
    args.push(format!(
        "--disable-features={}",
        disabled_features.join(",")
    ));
    args.push("about:blank".into());
    args
}

/// Writes the profile preferences: third-party cookies allowed, as in a patient's default browser
/// outside incognito (the cookie controls CDP command has no effect on Chromium 156).
fn write_preferences(profile: &Path) -> std::io::Result<()> {
    let default = profile.join("Default");
    std::fs::create_dir_all(&default)?;
    std::fs::write(
        default.join("Preferences"),
        r#"{"profile":{"cookie_controls_mode":0,"exit_type":"Normal"},"browser":{"has_seen_welcome_page":true}}"#,
    )
}

/// Removes temporary profiles left by runs that were killed (SIGKILL gives no chance to clean up).
/// A profile is stale when the Chromium that locked it (`SingletonLock` → `host-PID`) is gone.
fn reap_stale_profiles() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with("leakhound-profile-")
        {
            continue;
        }
        let dir = entry.path();
        let pid = std::fs::read_link(dir.join("SingletonLock"))
            .ok()
            .and_then(|t| {
                t.to_string_lossy()
                    .rsplit('-')
                    .next()
                    .and_then(|p| p.parse::<u32>().ok())
            });
        let stale = match pid {
            Some(pid) => !Path::new(&format!("/proc/{pid}")).exists(),
            // Never locked: stale once it is an hour old.
            None => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(3600)),
        };
        if stale {
            tracing::debug!(dir = %dir.display(), "removing a stale browser profile");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

impl Chromium {
    /// Starts Chromium with a fresh temporary profile and waits for its DevTools endpoint.
    pub async fn launch(opts: &LaunchOptions) -> Result<Chromium, LaunchError> {
        reap_stale_profiles();
        let profile = tempfile::Builder::new()
            .prefix("leakhound-profile-")
            .tempdir()
            .map_err(LaunchError::Profile)?;
        write_preferences(profile.path()).map_err(LaunchError::Profile)?;
        let args = build_args(opts, profile.path());
        tracing::debug!(chromium = %opts.chromium.display(), ?args, "launching");

        let (ready_tx, ready_rx) = oneshot::channel::<Result<(u32, String), LaunchError>>();
        let (exit_tx, exit_rx) = watch::channel::<Option<String>>(None);
        let path = opts.chromium.clone();
        let reaped = Arc::new(Mutex::new(false));
        let reaped_by_supervisor = reaped.clone();
        std::thread::Builder::new()
            .name("chromium-supervisor".into())
            .spawn(move || supervise(path, args, ready_tx, exit_tx, reaped_by_supervisor))
            .map_err(|source| LaunchError::Spawn {
                path: opts.chromium.clone(),
                source,
            })?;

        let timeout = opts.launch_timeout;
        match tokio::time::timeout(timeout, ready_rx).await {
            Ok(Ok(Ok((pid, ws_url)))) => Ok(Chromium {
                ws_url,
                pid,
                exited: exit_rx,
                reaped,
                profile: Some(profile),
            }),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(LaunchError::EarlyExit {
                path: opts.chromium.clone(),
                detail: None,
            }),
            Err(_) => Err(LaunchError::Timeout(timeout.as_secs())),
        }
    }

    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// `Some(status)` once the browser process has exited.
    pub fn exit_status(&self) -> Option<String> {
        self.exited.borrow().clone()
    }

    /// Waits (bounded) for the browser to exit by itself, then kills the whole process group and
    /// removes the profile.
    pub async fn shutdown(mut self, grace: Duration) {
        let mut rx = self.exited.clone();
        let _ = tokio::time::timeout(grace, async {
            while rx.borrow().is_none() {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        self.kill();
        if let Some(profile) = self.profile.take() {
            // Helper processes may still hold files for a moment.
            for _ in 0..10 {
                if std::fs::remove_dir_all(profile.path()).is_ok() || !profile.path().exists() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            drop(profile);
        }
    }

    fn kill(&self) {
        // Held while signalling, so the supervisor cannot reap (and free the PID) in between.
        let reaped = self
            .reaped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !*reaped {
            kill_group(self.pid);
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        self.kill();
    }
}

/// SIGKILL to the process group `pid` leads (the browser and every helper it started), and to
/// `pid` itself. Only called while `pid` is known not to have been reaped.
fn kill_group(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid > 0 {
        // SAFETY: plain syscalls on a process group we created and have not reaped; an error
        // (ESRCH: already gone) is harmless.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

fn supervise(
    path: PathBuf,
    args: Vec<String>,
    ready: oneshot::Sender<Result<(u32, String), LaunchError>>,
    exited: watch::Sender<Option<String>>,
    reaped: Arc<Mutex<bool>>,
) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(&path);
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so one signal reaches every helper process it starts.
        .process_group(0);
    let parent = std::process::id();
    // SAFETY: only async-signal-safe calls (prctl, getppid) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Killed with this thread's process if leakhound dies without cleaning up.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // leakhound died between fork and prctl: the death signal will never come.
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                return Err(std::io::Error::other(
                    "leakhound exited while starting Chromium",
                ));
            }
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(source) => {
            let _ = ready.send(Err(LaunchError::Spawn { path, source }));
            return;
        }
    };
    let pid = child.id();
    let mut ready = Some(ready);
    let mut last_lines: Vec<String> = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("DevTools listening on ").nth(1) {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(Ok((pid, rest.trim().to_string())));
                }
                continue;
            }
            tracing::trace!(target: "chromium", "{line}");
            if ready.is_some() {
                last_lines.push(line);
                if last_lines.len() > 5 {
                    last_lines.remove(0);
                }
            }
        }
    }
    // Wait for the browser to exit *without* reaping it (WNOWAIT): while it is a zombie its PID
    // cannot be reused, so its leftover helpers can still be killed by process group safely.
    let id: libc::id_t = pid;
    // SAFETY: waitid on our own child with a zeroed siginfo it fills in.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        while libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOWAIT) == -1
            && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {}
    }
    let status = {
        let mut reaped = reaped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        kill_group(pid);
        let status = child
            .wait()
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string());
        *reaped = true;
        status
    };
    if let Some(tx) = ready.take() {
        let detail = if last_lines.is_empty() {
            Some(status.clone())
        } else {
            Some(format!("{status}: {}", last_lines.join(" | ")))
        };
        let _ = tx.send(Err(LaunchError::EarlyExit { path, detail }));
    }
    let _ = exited.send(Some(status));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_disable_features() {
        let mut o = LaunchOptions::new("/x".into());
        o.extra_args = vec!["--disable-features=Foo".into(), "--proxy-server=x".into()];
        let args = build_args(&o, Path::new("/tmp/p"));
        let df: Vec<_> = args
            .iter()
            .filter(|a| a.starts_with("--disable-features="))
            .collect();
        assert_eq!(df.len(), 1);
        assert!(df[0].contains("RenderDocument") && df[0].contains("Foo"));
        assert!(args.contains(&"--proxy-server=x".to_string()));
        assert!(args.contains(&"--headless".to_string()));
    }

    #[test]
    fn ordinary_ua_has_no_headless() {
        let ua = ordinary_user_agent("156.0.8078.79", false);
        assert!(ua.contains("Chrome/156.0.0.0") && !ua.contains("Headless"));
    }
}
