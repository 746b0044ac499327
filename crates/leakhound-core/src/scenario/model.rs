//! The journey a user writes in `scenarios/*.json`, as parsed and validated.
//!
//! Parsing is strict: unknown fields and actions are errors (see `parse.rs`), because a typo in an
//! audit script silently skipping a step would make the audit lie.

use serde::{Deserialize, Serialize};

use crate::capture::record::CanaryKind;

/// Default whole-journey timeout.
pub const DEFAULT_JOURNEY_TIMEOUT_MS: u64 = 120_000;
/// Default per-step timeout.
pub const DEFAULT_STEP_TIMEOUT_MS: u64 = 15_000;
/// Default grace period after leaving the last page, for exit beacons and batched sends.
pub const DEFAULT_LEAVE_GRACE_MS: u64 = 3_000;
/// Default quiet time for `network_idle`.
pub const DEFAULT_IDLE_MS: u64 = 500;

/// A journey, ready to run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Where the journey starts: the browser opens it before the first step.
    pub start_url: String,
    /// Registrable domains that belong to the site beside the start URL's own (a patient portal on
    /// another domain, a booking subdomain of a partner the hospital runs itself).
    #[serde(default)]
    pub first_party: Vec<String>,
    /// URL patterns of pages to treat as sensitive (high severity) beyond the built-in heuristics.
    /// A pattern is a substring of the URL, or a glob with `*`.
    #[serde(default)]
    pub sensitive_pages: Vec<String>,
    /// `desktop` (default) or `mobile`.
    #[serde(default)]
    pub device: Device,
    /// Whole-journey timeout in milliseconds.
    #[serde(default = "default_journey_timeout")]
    pub timeout_ms: u64,
    /// Canary values, by key.
    #[serde(default)]
    pub identity: std::collections::BTreeMap<String, IdentityValue>,
    pub steps: Vec<Step>,
    /// How the journey ends: leave the page so exit beacons fire.
    #[serde(default)]
    pub leave: Leave,
}

fn default_journey_timeout() -> u64 {
    DEFAULT_JOURNEY_TIMEOUT_MS
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    #[default]
    Desktop,
    Mobile,
}

/// One identity canary. Exactly one of `value` and `env` is set; secrets must use `env`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IdentityValue {
    pub kind: CanaryKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Name of the environment variable holding the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

impl IdentityValue {
    /// The value, by the one rule scenarios and identity files share: `env` names the variable
    /// to read when it is given (unset or empty is an error naming the key and the variable,
    /// never a silent gap); otherwise `value`.
    pub fn resolve(
        &self,
        key: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<String, super::ScenarioError> {
        match (&self.env, &self.value) {
            (Some(var), _) => {
                env(var)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| super::ScenarioError::MissingEnv {
                        key: key.to_string(),
                        kind: self.kind.as_str(),
                        var: var.clone(),
                    })
            }
            (None, Some(value)) => Ok(value.clone()),
            (None, None) => Err(super::ScenarioError::NoValue {
                key: key.to_string(),
            }),
        }
    }
}

/// The end of a journey.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Leave {
    /// Where to navigate to leave the site. `about:blank` by default.
    #[serde(default = "default_leave_url")]
    pub url: String,
    /// How long to wait afterwards for exit beacons and batched sends.
    #[serde(default = "default_leave_grace")]
    pub grace_ms: u64,
}

fn default_leave_url() -> String {
    "about:blank".to_string()
}

fn default_leave_grace() -> u64 {
    DEFAULT_LEAVE_GRACE_MS
}

impl Default for Leave {
    fn default() -> Self {
        Leave {
            url: default_leave_url(),
            grace_ms: DEFAULT_LEAVE_GRACE_MS,
        }
    }
}

/// A step: an action, with an optional label and timeout.
///
/// `Deserialize` is written by hand in `step.rs`: derived, `flatten` would accept unknown fields.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Step {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(flatten)]
    pub action: Action,
}

impl Step {
    /// The label, or a short generated description.
    pub fn describe(&self) -> String {
        if let Some(label) = &self.label {
            return label.clone();
        }
        self.action.describe()
    }
}

/// What a step does. Text fields may hold `{{identity.KEY}}` and `{{env.NAME}}` templates.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Navigate the page to `url` (absolute, or relative to the current page).
    Goto { url: String },
    /// Click the first element matching `selector`.
    Click { selector: String },
    /// Type `text` into `selector` (focuses it first; `clear` empties it first).
    Type {
        selector: String,
        text: String,
        /// Marks the field as a search box. Detected from the page when omitted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        search: Option<bool>,
        #[serde(default)]
        clear: bool,
    },
    /// Press a key (`Enter`, `Tab`, `Escape`, `ArrowDown`, ...), in `selector` if given.
    Press {
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selector: Option<String>,
    },
    /// Choose an option of a `<select>` by value (or by visible text when no value matches).
    Select { selector: String, value: String },
    /// Check (or with `checked: false` uncheck) a checkbox or radio button.
    Check {
        selector: String,
        #[serde(default = "default_true")]
        checked: bool,
    },
    /// Scroll an element into view, or the page by `y` pixels (default: to the bottom).
    Scroll {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selector: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        y: Option<i64>,
    },
    /// Wait for exactly one condition.
    Wait(WaitFor),
    /// Submit a form (the one matching `selector`, or the form of the focused element).
    Submit {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selector: Option<String>,
    },
    /// Take a screenshot of the page for the report.
    Screenshot {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default)]
        full_page: bool,
    },
}

fn default_true() -> bool {
    true
}

/// What a `wait` step waits for. Exactly one field is set (validated after parsing).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct WaitFor {
    /// An element matching this selector exists and is visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// The page URL matches this pattern (substring, or glob with `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// No request has been in flight for this many milliseconds (long-lived connections ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_idle: Option<u64>,
    /// A fixed time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
}

impl Action {
    /// Every valid `action` value, for error hints.
    pub const NAMES: [&'static str; 10] = [
        "goto",
        "click",
        "type",
        "press",
        "select",
        "check",
        "scroll",
        "wait",
        "submit",
        "screenshot",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Action::Goto { .. } => "goto",
            Action::Click { .. } => "click",
            Action::Type { .. } => "type",
            Action::Press { .. } => "press",
            Action::Select { .. } => "select",
            Action::Check { .. } => "check",
            Action::Scroll { .. } => "scroll",
            Action::Wait(_) => "wait",
            Action::Submit { .. } => "submit",
            Action::Screenshot { .. } => "screenshot",
        }
    }

    /// `click #search-button`, `type #q`, `goto /symptoms`.
    pub fn describe(&self) -> String {
        match self {
            Action::Goto { url } => format!("goto {url}"),
            Action::Click { selector } => format!("click {selector}"),
            Action::Type { selector, .. } => format!("type into {selector}"),
            Action::Press { key, .. } => format!("press {key}"),
            Action::Select { selector, value } => format!("select {value} in {selector}"),
            Action::Check { selector, checked } => {
                format!("{} {selector}", if *checked { "check" } else { "uncheck" })
            }
            Action::Scroll { selector, .. } => match selector {
                Some(s) => format!("scroll to {s}"),
                None => "scroll".to_string(),
            },
            Action::Wait(w) => {
                if let Some(s) = &w.selector {
                    format!("wait for {s}")
                } else if let Some(u) = &w.url {
                    format!("wait for URL {u}")
                } else if let Some(ms) = w.network_idle {
                    format!("wait for network idle ({ms} ms)")
                } else {
                    format!("wait {} ms", w.ms.unwrap_or(0))
                }
            }
            Action::Submit { selector } => match selector {
                Some(s) => format!("submit {s}"),
                None => "submit".to_string(),
            },
            Action::Screenshot { name, .. } => match name {
                Some(n) => format!("screenshot {n}"),
                None => "screenshot".to_string(),
            },
        }
    }
}
