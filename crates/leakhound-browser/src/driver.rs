//! Performs a journey's steps in the page, the way a patient would: real mouse clicks and key presses
//! through chromiumoxide, every wait bounded.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::element::Element;
use chromiumoxide::page::{Page, ScreenshotParams};
use serde_json::Value;

use crate::capture::record::{Record, TypedValue};
use crate::cdp::{Cdp, CdpError};
use crate::recorder::RecorderHandle;
use crate::scenario::model::{Action, Step, WaitFor, DEFAULT_STEP_TIMEOUT_MS};
use crate::scenario::template::TemplateError;

/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(100);
/// How long after a click, key press or submit a navigation may take to start and still be
/// waited for as the step's own.
const NAVIGATION_START_WAIT: Duration = Duration::from_millis(500);
/// How long a started navigation may take to commit before the step goes on without it.
const NAVIGATION_COMMIT_WAIT: Duration = Duration::from_secs(10);

/// A step's text after template rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedText {
    pub text: String,
    /// Set when the template was exactly `{{identity.KEY}}`.
    pub canary_key: Option<String>,
    /// True when the text contains a secret: it is typed but never recorded.
    pub secret: bool,
}

/// Renders `{{identity.KEY}}` / `{{env.NAME}}` templates.
pub type Renderer<'a> = dyn Fn(&str) -> Result<RenderedText, TemplateError> + Send + Sync + 'a;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    #[error("timed out after {0} ms")]
    Timeout(u64),
    #[error("no element matches {0:?} (waited {1} ms)")]
    NoElement(String, u64),
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A command through chromiumoxide (the page session) failed.
    #[error("{0}")]
    Browser(#[from] chromiumoxide::error::CdpError),
    /// A command on leakhound's own DevTools connection failed.
    #[error("{0}")]
    Cdp(#[from] CdpError),
    #[error("{selector}: no option {value:?}")]
    NoOption { selector: String, value: String },
    #[error("no form to submit")]
    NoForm,
    #[error("submit without selector needs a focused form field")]
    NothingFocused,
    #[error("cannot write screenshot {}: {source}", path.display())]
    Screenshot {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The page did not load: nothing of the site was seen, so nothing can pass.
    #[error("could not load {url}: {reason}")]
    Load { url: String, reason: String },
}

/// Drives one page.
pub struct Driver<'a> {
    pub page: Page,
    /// The raw DevTools connection (navigation, cookies).
    pub cdp: Cdp,
    pub recorder: RecorderHandle,
    pub render: &'a Renderer<'a>,
    /// Where screenshots go; `None` disables them.
    pub screenshot_dir: Option<PathBuf>,
    /// The recorder captures (off only for the benchmark baseline): navigation then goes through
    /// its own session, which reports load errors.
    pub capturing: bool,
}

impl Driver<'_> {
    fn render(&self, template: &str) -> Result<RenderedText, StepError> {
        Ok((self.render)(template)?)
    }

    /// Runs one step within its timeout. Returns the screenshot path if one was taken.
    pub async fn run_step(&self, index: usize, step: &Step) -> Result<Option<String>, StepError> {
        let timeout_ms = step.timeout_ms.unwrap_or(DEFAULT_STEP_TIMEOUT_MS);
        let deadline = Instant::now() + Duration::from_millis(timeout_ms);
        // A popup the page opened takes the foreground, and a background tab gets no input events:
        // the journey's own tab comes back to the front before each step.
        let _ = tokio::time::timeout(Duration::from_secs(2), self.page.bring_to_front()).await;
        match tokio::time::timeout(
            Duration::from_millis(timeout_ms),
            self.perform(index, &step.action, deadline),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(StepError::Timeout(timeout_ms)),
        }
    }

    async fn perform(
        &self,
        index: usize,
        action: &Action,
        deadline: Instant,
    ) -> Result<Option<String>, StepError> {
        match action {
            Action::Goto { url } => {
                let url = self.render(url)?.text;
                let base = self.current_url().await.unwrap_or_default();
                let target = url::Url::parse(&base)
                    .ok()
                    .and_then(|b| b.join(&url).ok())
                    .map(|u| u.to_string())
                    .unwrap_or(url);
                self.navigate(&target, deadline).await?;
            }
            Action::Click { selector } => {
                let sel = self.render(selector)?.text;
                let el = self.wait_element(&sel, deadline).await?;
                let before = self.recorder.shared().navigations();
                el.click().await?;
                self.settle(deadline, before).await;
            }
            Action::Type {
                selector,
                text,
                search,
                clear,
            } => {
                let sel = self.render(selector)?.text;
                let rendered = self.render(text)?;
                let el = self.wait_element(&sel, deadline).await?;
                el.click().await?;
                if *clear {
                    el.call_js_fn("function() { this.value = ''; this.dispatchEvent(new Event('input', {bubbles: true})); }", false)
                        .await?;
                }
                self.type_text(&el, &rendered.text).await?;
                let info = el
                    .call_js_fn(FIELD_INFO_JS, false)
                    .await
                    .ok()
                    .and_then(|r| r.result.value)
                    .and_then(|v| {
                        v.as_str()
                            .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    })
                    .unwrap_or(Value::Null);
                let field = info
                    .get("field")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let detected = info.get("search").and_then(Value::as_bool).unwrap_or(false);
                self.recorder.write(Record::Typed(TypedValue {
                    step: index,
                    selector: sel,
                    field,
                    is_search: search.unwrap_or(detected),
                    canary_key: rendered.canary_key.clone(),
                    value: if rendered.secret {
                        None
                    } else {
                        Some(rendered.text.clone())
                    },
                    time_ms: self.recorder.shared().elapsed_ms(),
                }));
            }
            Action::Press { key, selector } => {
                let key = self.render(key)?.text;
                let before = self.recorder.shared().navigations();
                match selector {
                    Some(sel) => {
                        let sel = self.render(sel)?.text;
                        let el = self.wait_element(&sel, deadline).await?;
                        el.focus().await?;
                        el.press_key(&key).await?;
                    }
                    None => {
                        let el = match self.page.find_element(":focus").await {
                            Ok(el) => el,
                            Err(_) => self.page.find_element("body").await?,
                        };
                        el.press_key(&key).await?;
                    }
                }
                self.settle(deadline, before).await;
            }
            Action::Select { selector, value } => {
                let sel = self.render(selector)?.text;
                let value = self.render(value)?.text;
                let el = self.wait_element(&sel, deadline).await?;
                let js = format!(
                    "function() {{ const v = {}; const opts = Array.from(this.options || []); \
                     const o = opts.find(o => o.value === v) || opts.find(o => o.text.trim() === v); \
                     if (!o) return false; this.value = o.value; \
                     this.dispatchEvent(new Event('input', {{bubbles: true}})); \
                     this.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }}",
                    serde_json::to_string(&value).unwrap_or_default()
                );
                let ok = el.call_js_fn(js, false).await?.result.value;
                if ok != Some(Value::Bool(true)) {
                    return Err(StepError::NoOption {
                        selector: sel,
                        value,
                    });
                }
            }
            Action::Check { selector, checked } => {
                let sel = self.render(selector)?.text;
                let el = self.wait_element(&sel, deadline).await?;
                let current = el
                    .property("checked")
                    .await?
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                if current != *checked {
                    el.click().await?;
                }
            }
            Action::Scroll { selector, y } => match selector {
                Some(sel) => {
                    let sel = self.render(sel)?.text;
                    self.wait_element(&sel, deadline)
                        .await?
                        .scroll_into_view()
                        .await?;
                }
                None => {
                    let js = match y {
                        Some(y) => format!("window.scrollBy(0, {y}); true"),
                        None => "window.scrollTo(0, document.documentElement.scrollHeight); true"
                            .to_string(),
                    };
                    self.page.evaluate(js).await?;
                }
            },
            Action::Wait(w) => self.wait(w, deadline).await?,
            Action::Submit { selector } => {
                let js = "function() { const f = this.tagName === 'FORM' ? this : this.form || this.closest('form'); \
                          if (!f) return false; if (f.requestSubmit) f.requestSubmit(); else f.submit(); return true; }";
                let el = match selector {
                    Some(sel) => {
                        let sel = self.render(sel)?.text;
                        self.wait_element(&sel, deadline).await?
                    }
                    None => self
                        .page
                        .find_element(":focus")
                        .await
                        .map_err(|_| StepError::NothingFocused)?,
                };
                let before = self.recorder.shared().navigations();
                let ok = el.call_js_fn(js, false).await?.result.value;
                if ok != Some(Value::Bool(true)) {
                    return Err(StepError::NoForm);
                }
                self.settle(deadline, before).await;
            }
            Action::Screenshot { name, full_page } => {
                return self.screenshot(index, name.as_deref(), *full_page).await;
            }
        }
        Ok(None)
    }

    /// Takes a screenshot into the screenshot directory; returns its file name.
    pub async fn screenshot(
        &self,
        index: usize,
        name: Option<&str>,
        full_page: bool,
    ) -> Result<Option<String>, StepError> {
        let Some(dir) = &self.screenshot_dir else {
            return Ok(None);
        };
        let safe: String = name
            .unwrap_or("step")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let file = format!("step-{index:02}-{safe}.png");
        std::fs::create_dir_all(dir).map_err(|source| StepError::Screenshot {
            path: dir.clone(),
            source,
        })?;
        let png = self
            .page
            .screenshot(ScreenshotParams::builder().full_page(full_page).build())
            .await?;
        std::fs::write(dir.join(&file), png).map_err(|source| StepError::Screenshot {
            path: dir.join(&file),
            source,
        })?;
        // Relative to the capture file, which sits beside the screenshot folder.
        let folder = dir
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Some(if folder.is_empty() {
            file
        } else {
            format!("{folder}/{file}")
        }))
    }

    /// Navigates and waits for the document to load. A page that never finishes loading is not an
    /// error as long as its document is there: the step goes on once the DOM is interactive.
    ///
    /// chromiumoxide's own navigate waits for the load event, which never comes on such a page, so
    /// the navigation goes through the recorder's raw session, which returns once it commits.
    pub async fn navigate(&self, url: &str, deadline: Instant) -> Result<(), StepError> {
        // The recorder learns the tab's session from an attach event that can still be on its
        // way when the first step starts.
        let mut session = self.recorder.shared().primary_session();
        let attach_by = Instant::now() + Duration::from_secs(5);
        while self.capturing && session.is_none() && Instant::now() < attach_by.min(deadline) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            session = self.recorder.shared().primary_session();
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut loader: Option<String> = None;
        let result = match session {
            Some(session) => {
                let nav = self.cdp.call(
                    "Page.navigate",
                    serde_json::json!({"url": url}),
                    Some(&session),
                );
                match tokio::time::timeout(remaining, nav).await {
                    Ok(Ok(v)) => {
                        loader = v
                            .get("loaderId")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        v.get("errorText")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    }
                    Ok(Err(e)) => return Err(StepError::Cdp(e)),
                    Err(_) => return Err(StepError::Timeout(remaining.as_millis() as u64)),
                }
            }
            None => {
                // Capture is off (benchmark baseline): navigate by script.
                let js = format!(
                    "location.href = {}; true",
                    serde_json::to_string(url).unwrap_or_default()
                );
                self.page.evaluate(js).await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
                None
            }
        };
        if let Some(err) = result {
            // An aborted navigation (a download, a 204) leaves the current page in place: reported,
            // not fatal. Anything else (DNS, refused connection, TLS, blocked) means the page never
            // loaded, and a journey that saw nothing of the site must not pass.
            if err.contains("ERR_ABORTED") {
                tracing::warn!("navigation to {url}: {err}");
            } else if err.contains("ERR_TOO_MANY_REDIRECTS") {
                return Err(StepError::Load {
                    url: url.to_string(),
                    reason: format!("redirect loop ({err})"),
                });
            } else {
                return Err(StepError::Load {
                    url: url.to_string(),
                    reason: err,
                });
            }
        }
        self.wait_ready(deadline).await;
        if let Some((doc_url, status)) = loader
            .as_deref()
            .and_then(|l| self.recorder.shared().document_status(l))
        {
            if status >= 500 {
                return Err(StepError::Load {
                    url: if doc_url.is_empty() {
                        url.to_string()
                    } else {
                        doc_url
                    },
                    reason: format!("the server answered HTTP {status}"),
                });
            }
        }
        Ok(())
    }

    /// Waits until `document.readyState` is `complete` (or at least `interactive` when the deadline is
    /// near), bounded by the deadline.
    async fn wait_ready(&self, deadline: Instant) {
        let soft = Instant::now() + Duration::from_secs(10);
        loop {
            let state = self
                .eval_string("document.readyState")
                .await
                .unwrap_or_default();
            if state == "complete" {
                return;
            }
            let now = Instant::now();
            let near = deadline.saturating_duration_since(now) < Duration::from_millis(1500);
            if (near || now > soft) && state == "interactive" {
                tracing::warn!("page still loading; continuing with its DOM");
                return;
            }
            // A document that never finishes arriving (a stream that never ends) still has
            // whatever it sent so far: after the soft limit the step goes on with it.
            if now > soft && state == "loading" {
                tracing::warn!("document still arriving after 10 s; continuing with what came");
                return;
            }
            if now >= deadline {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// After an action that may navigate (click, key press, submit): when it starts a
    /// navigation of the journey tab within a moment, wait for that navigation to commit and the
    /// new page to load, so "click X" is one step, not "click, wait for the URL, wait for load".
    /// `before` is [`Shared::navigations`](crate::recorder::Shared::navigations) from
    /// just before the action.
    async fn settle(&self, deadline: Instant, before: (usize, usize)) {
        let shared = self.recorder.shared().clone();
        let start_by = Instant::now() + NAVIGATION_START_WAIT;
        let mut started = false;
        loop {
            let (s, c) = shared.navigations();
            if c > before.1 {
                break;
            }
            started |= s > before.0;
            let now = Instant::now();
            // No navigation started: the action stayed on the page.
            if (!started && now >= start_by) || now + POLL >= deadline {
                break;
            }
            // A navigation that started but never commits (a 204, a download) is given up on.
            if started && now >= start_by + NAVIGATION_COMMIT_WAIT {
                tracing::warn!("a navigation started but did not commit; going on");
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.wait_ready(deadline).await;
    }

    async fn type_text(&self, el: &Element, text: &str) -> Result<(), StepError> {
        for ch in text.chars() {
            let s = ch.to_string();
            if el.press_key(&s).await.is_err() {
                self.page.execute(InsertTextParams::new(s)).await?;
            }
        }
        Ok(())
    }

    async fn wait_element(&self, selector: &str, deadline: Instant) -> Result<Element, StepError> {
        let started = Instant::now();
        loop {
            if let Ok(el) = self.page.find_element(selector).await {
                return Ok(el);
            }
            if Instant::now() + POLL >= deadline {
                return Err(StepError::NoElement(
                    selector.to_string(),
                    started.elapsed().as_millis() as u64,
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn wait(&self, w: &WaitFor, deadline: Instant) -> Result<(), StepError> {
        if let Some(ms) = w.ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return Ok(());
        }
        let started = Instant::now();
        loop {
            let done = if let Some(sel) = &w.selector {
                let sel = self.render(sel)?.text;
                let js = format!(
                    "(() => {{ const e = document.querySelector({}); if (!e) return false; \
                     const r = e.getBoundingClientRect(); const s = getComputedStyle(e); \
                     return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; }})()",
                    serde_json::to_string(&sel).unwrap_or_default()
                );
                self.eval_bool(&js).await
            } else if let Some(pattern) = &w.url {
                let pattern = self.render(pattern)?.text;
                let href = self.current_url().await.unwrap_or_default();
                url_matches(&pattern, &href)
            } else if let Some(quiet) = w.network_idle {
                self.recorder
                    .shared()
                    .network_idle(Duration::from_millis(quiet))
            } else {
                true
            };
            if done {
                return Ok(());
            }
            if Instant::now() + POLL >= deadline {
                if let Some(quiet) = w.network_idle {
                    // A network that never goes quiet (polling, streaming, a hung request) ends
                    // the wait, not the journey: the time limit is the give-up time.
                    tracing::warn!(
                        "the network did not go idle for {quiet} ms within {} ms; going on",
                        started.elapsed().as_millis()
                    );
                    return Ok(());
                }
                return Err(StepError::Timeout(started.elapsed().as_millis() as u64));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn current_url(&self) -> Option<String> {
        self.eval_string("location.href").await
    }

    pub async fn title(&self) -> Option<String> {
        self.eval_string("document.title").await
    }

    async fn eval_string(&self, js: &str) -> Option<String> {
        let r = tokio::time::timeout(Duration::from_secs(3), self.page.evaluate(js)).await;
        match r {
            Ok(Ok(v)) => v.into_value::<String>().ok(),
            _ => None,
        }
    }

    async fn eval_bool(&self, js: &str) -> bool {
        let r = tokio::time::timeout(Duration::from_secs(3), self.page.evaluate(js)).await;
        match r {
            Ok(Ok(v)) => v.into_value::<bool>().unwrap_or(false),
            _ => false,
        }
    }
}

/// Describes a form field and whether it is a search box.
const FIELD_INFO_JS: &str = "function() { const e = this; \
  const parts = []; if (e.name) parts.push('name=' + e.name); if (e.id) parts.push('id=' + e.id); \
  if (e.type) parts.push('type=' + e.type); \
  const label = e.getAttribute('aria-label') || e.placeholder || ''; \
  const hint = ((e.name || '') + ' ' + (e.id || '') + ' ' + label).toLowerCase(); \
  const search = e.type === 'search' || e.getAttribute('role') === 'searchbox' || \
    !!e.closest('[role=search]') || /(^|[^a-z])(q|query|search|keyword|keywords|term|s)([^a-z]|$)/.test(hint) || \
    hint.includes('search'); \
  return JSON.stringify({field: parts.join(' '), search: search}); }";

/// A URL pattern is a glob with `*`, or else a substring.
pub fn url_matches(pattern: &str, url: &str) -> bool {
    if !pattern.contains('*') {
        return url.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = url;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    parts
        .last()
        .is_none_or(|last| last.is_empty() || url.ends_with(last))
}

#[cfg(test)]
mod tests {
    use super::url_matches;

    #[test]
    fn url_patterns() {
        assert!(url_matches("/portal/", "http://a.test/portal/home"));
        assert!(url_matches(
            "http://*.test/portal/*",
            "http://a.test/portal/home"
        ));
        assert!(!url_matches(
            "http://*.test/portal/*",
            "http://a.test/other"
        ));
        assert!(url_matches("*/done", "http://x/y/done"));
        assert!(!url_matches("*/done", "http://x/y/done/more"));
    }
}
