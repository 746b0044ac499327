//! `{{identity.KEY}}` and `{{env.NAME}}` in step fields, and the identity they draw from.
//!
//! Rendering also says what the classifier needs to know about a typed value: which canary it is
//! when the field is exactly one `{{identity.KEY}}`, and whether it holds a secret, in which case
//! the value is never recorded. Secrets live only in memory: every `Debug` here redacts them so a
//! stray `tracing::debug!("{:?}", ..)` cannot write one to a log.

use std::collections::BTreeMap;
use std::fmt;

use crate::capture::record::{Canary, CanaryKind, JourneyInfo};

use super::error::ScenarioError;
use super::model::{Action, Scenario};

/// One piece of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    Literal(&'a str),
    Identity(&'a str),
    Env(&'a str),
}

/// A template that cannot be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    #[error("`{{{{` is not closed by `}}}}`")]
    Unclosed,
    #[error(
        "`{{{{{inner}}}}}` is not a valid template; write `{{{{identity.KEY}}}}` or `{{{{env.NAME}}}}`"
    )]
    Invalid { inner: String },
    #[error("unknown identity key `{key}`")]
    UnknownIdentity { key: String },
    #[error("environment variable {name} is not set (used as `{{{{env.{name}}}}}`); set it before running")]
    MissingEnv { name: String },
}

/// Identity keys are what may follow `identity.`: letters, digits, `_` and `-`.
pub fn is_identity_key(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A portable environment variable name.
pub fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits a template into literal text and placeholders. Spaces inside the braces are allowed
/// (`{{ identity.email }}`); a `}}` without an opening `{{` is literal text.
pub fn parse_template(template: &str) -> Result<Vec<Segment<'_>>, TemplateError> {
    let mut segments = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            segments.push(Segment::Literal(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or(TemplateError::Unclosed)?;
        let inner = after[..close].trim();
        let segment = match inner.split_once('.') {
            Some(("identity", key)) if is_identity_key(key) => Segment::Identity(key),
            Some(("env", name)) if is_env_name(name) => Segment::Env(name),
            _ => {
                return Err(TemplateError::Invalid {
                    inner: inner.to_string(),
                })
            }
        };
        segments.push(segment);
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        segments.push(Segment::Literal(rest));
    }
    Ok(segments)
}

/// One identity value, resolved.
#[derive(Clone, PartialEq, Eq)]
pub struct ResolvedCanary {
    pub kind: CanaryKind,
    pub value: String,
    /// The environment variable it was read from, if any.
    pub env: Option<String>,
}

impl fmt::Debug for ResolvedCanary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.kind.is_secret() {
            &"<redacted>"
        } else {
            &self.value
        };
        f.debug_struct("ResolvedCanary")
            .field("kind", &self.kind)
            .field("value", value)
            .field("env", &self.env)
            .finish()
    }
}

/// The identity of a journey with every value known, secrets included (in memory only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedIdentity {
    canaries: BTreeMap<String, ResolvedCanary>,
}

impl ResolvedIdentity {
    pub fn get(&self, key: &str) -> Option<&ResolvedCanary> {
        self.canaries.get(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &ResolvedCanary)> {
        self.canaries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `(key, value)` of every password and secret: what the capture must replace with
    /// [`crate::secret::marker`] before anything is written.
    pub fn secrets(&self) -> impl Iterator<Item = (&str, &str)> {
        self.iter()
            .filter(|(_, c)| c.kind.is_secret())
            .map(|(k, c)| (k, c.value.as_str()))
    }

    /// The canaries as written to a capture header: secrets without their value.
    pub fn canaries(&self) -> Vec<Canary> {
        self.iter()
            .map(|(key, c)| Canary {
                key: key.to_string(),
                kind: c.kind,
                value: (!c.kind.is_secret()).then(|| c.value.clone()),
                env: c.env.clone(),
            })
            .collect()
    }
}

/// Reads every identity value, secrets from their environment variables.
pub fn resolve_identity(
    scenario: &Scenario,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ResolvedIdentity, ScenarioError> {
    let mut canaries = BTreeMap::new();
    for (key, entry) in &scenario.identity {
        let value = entry.resolve(key, &env)?;
        canaries.insert(
            key.clone(),
            ResolvedCanary {
                kind: entry.kind,
                value,
                env: entry.env.clone(),
            },
        );
    }
    Ok(ResolvedIdentity { canaries })
}

/// A rendered template.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// The identity key when the template is exactly one `{{identity.KEY}}`.
    pub canary_key: Option<String>,
    /// True when any part of the text came from a password or secret.
    pub contains_secret: bool,
}

impl Rendered {
    /// What a capture may record of this text: nothing when it holds a secret.
    pub fn recorded_value(&self) -> Option<String> {
        (!self.contains_secret).then(|| self.text.clone())
    }
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: &dyn fmt::Debug = if self.contains_secret {
            &"<redacted>"
        } else {
            &self.text
        };
        f.debug_struct("Rendered")
            .field("text", text)
            .field("canary_key", &self.canary_key)
            .field("contains_secret", &self.contains_secret)
            .finish()
    }
}

/// Fills in a template.
pub fn render(
    template: &str,
    identity: &ResolvedIdentity,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Rendered, TemplateError> {
    let segments = parse_template(template)?;
    let mut text = String::with_capacity(template.len());
    let mut contains_secret = false;
    for segment in &segments {
        match segment {
            Segment::Literal(s) => text.push_str(s),
            Segment::Identity(key) => {
                let c = identity
                    .get(key)
                    .ok_or_else(|| TemplateError::UnknownIdentity {
                        key: key.to_string(),
                    })?;
                contains_secret |= c.kind.is_secret();
                text.push_str(&c.value);
            }
            Segment::Env(name) => {
                let value = env(name).ok_or_else(|| TemplateError::MissingEnv {
                    name: name.to_string(),
                })?;
                text.push_str(&value);
            }
        }
    }
    let canary_key = match segments.as_slice() {
        [Segment::Identity(key)] => Some(key.to_string()),
        _ => None,
    };
    Ok(Rendered {
        text,
        canary_key,
        contains_secret,
    })
}

/// The templated text fields of an action, by field name: URLs, typed text, option values, keys
/// and selectors. Labels and screenshot names are not templated.
pub fn template_fields(action: &Action) -> Vec<(&'static str, &String)> {
    let mut out = Vec::new();
    match action {
        Action::Goto { url } => out.push(("url", url)),
        Action::Click { selector } | Action::Check { selector, .. } => {
            out.push(("selector", selector))
        }
        Action::Type { selector, text, .. } => {
            out.push(("selector", selector));
            out.push(("text", text));
        }
        Action::Press { key, selector } => {
            out.push(("key", key));
            out.extend(selector.iter().map(|s| ("selector", s)));
        }
        Action::Select { selector, value } => {
            out.push(("selector", selector));
            out.push(("value", value));
        }
        Action::Scroll { selector, .. } | Action::Submit { selector } => {
            out.extend(selector.iter().map(|s| ("selector", s)))
        }
        Action::Wait(w) => {
            out.extend(w.selector.iter().map(|s| ("selector", s)));
            out.extend(w.url.iter().map(|s| ("url", s)));
        }
        Action::Screenshot { .. } => {}
    }
    out
}

fn template_fields_mut(action: &mut Action) -> Vec<(&'static str, &mut String)> {
    let mut out = Vec::new();
    match action {
        Action::Goto { url } => out.push(("url", url)),
        Action::Click { selector } | Action::Check { selector, .. } => {
            out.push(("selector", selector))
        }
        Action::Type { selector, text, .. } => {
            out.push(("selector", selector));
            out.push(("text", text));
        }
        Action::Press { key, selector } => {
            out.push(("key", key));
            out.extend(selector.iter_mut().map(|s| ("selector", s)));
        }
        Action::Select { selector, value } => {
            out.push(("selector", selector));
            out.push(("value", value));
        }
        Action::Scroll { selector, .. } | Action::Submit { selector } => {
            out.extend(selector.iter_mut().map(|s| ("selector", s)))
        }
        Action::Wait(w) => {
            out.extend(w.selector.iter_mut().map(|s| ("selector", s)));
            out.extend(w.url.iter_mut().map(|s| ("url", s)));
        }
        Action::Screenshot { .. } => {}
    }
    out
}

/// An action with its templates filled in, ready to drive the browser.
#[derive(Clone, PartialEq)]
pub struct RenderedAction {
    pub action: Action,
    /// For `type` steps: what was typed, for the capture's `typed` record.
    pub typed: Option<Rendered>,
}

impl fmt::Debug for RenderedAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = self.typed.as_ref().is_some_and(|t| t.contains_secret);
        let action: &dyn fmt::Debug = if secret {
            &"<action with a secret, redacted>"
        } else {
            &self.action
        };
        f.debug_struct("RenderedAction")
            .field("action", action)
            .field("typed", &self.typed)
            .finish()
    }
}

/// Renders every templated field of `action`.
pub fn render_action(
    action: &Action,
    identity: &ResolvedIdentity,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RenderedAction, TemplateError> {
    let mut rendered = action.clone();
    let mut typed = None;
    let is_type = matches!(action, Action::Type { .. });
    for (field, text) in template_fields_mut(&mut rendered) {
        let r = render(text, identity, &env)?;
        text.clone_from(&r.text);
        if is_type && field == "text" {
            typed = Some(r);
        }
    }
    Ok(RenderedAction {
        action: rendered,
        typed,
    })
}

/// The capture header's journey, from the scenario alone: secrets carry their variable name and
/// no value; non-secret values read from the environment are unknown here (use
/// [`journey_info_resolved`] once the identity is resolved).
pub fn journey_info(scenario: &Scenario, file: &str) -> JourneyInfo {
    let identity = scenario
        .identity
        .iter()
        .map(|(key, entry)| Canary {
            key: key.clone(),
            kind: entry.kind,
            value: if entry.kind.is_secret() {
                None
            } else {
                entry.value.clone()
            },
            env: entry.env.clone(),
        })
        .collect();
    JourneyInfo {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        file: file.to_string(),
        start_url: scenario.start_url.clone(),
        first_party: scenario.first_party.clone(),
        sensitive_pages: scenario.sensitive_pages.clone(),
        identity,
    }
}

/// [`journey_info`] with every non-secret value filled in from the resolved identity.
pub fn journey_info_resolved(
    scenario: &Scenario,
    file: &str,
    identity: &ResolvedIdentity,
) -> JourneyInfo {
    JourneyInfo {
        identity: identity.canaries(),
        ..journey_info(scenario, file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::{IdentityValue, Leave, Step, WaitFor};

    fn scenario() -> Scenario {
        let mut identity = BTreeMap::new();
        let entry = |kind, value: Option<&str>, env: Option<&str>| IdentityValue {
            kind,
            value: value.map(str::to_string),
            env: env.map(str::to_string),
        };
        identity.insert(
            "email".into(),
            entry(CanaryKind::Email, Some("pat@canary.example"), None),
        );
        identity.insert(
            "password".into(),
            entry(CanaryKind::Password, None, Some("LH_PASSWORD")),
        );
        identity.insert(
            "member".into(),
            entry(CanaryKind::MemberId, None, Some("LH_MEMBER")),
        );
        Scenario {
            name: "login".into(),
            description: "d".into(),
            start_url: "https://h.example/".into(),
            first_party: vec!["portal.example".into()],
            sensitive_pages: vec!["/portal".into()],
            device: Default::default(),
            timeout_ms: 1000,
            identity,
            steps: vec![Step {
                label: None,
                timeout_ms: None,
                action: Action::Wait(WaitFor {
                    ms: Some(1),
                    ..WaitFor::default()
                }),
            }],
            leave: Leave::default(),
        }
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "LH_PASSWORD" => Some("hunter2-secret".into()),
            "LH_MEMBER" => Some("M-778812".into()),
            "SITE" => Some("https://h.example".into()),
            _ => None,
        }
    }

    fn resolved() -> ResolvedIdentity {
        resolve_identity(&scenario(), env).unwrap()
    }

    #[test]
    fn parses_segments() {
        assert_eq!(
            parse_template("a{{ identity.email }}b{{env.X_1}}}}").unwrap(),
            vec![
                Segment::Literal("a"),
                Segment::Identity("email"),
                Segment::Literal("b"),
                Segment::Env("X_1"),
                Segment::Literal("}}"),
            ]
        );
        assert_eq!(parse_template("").unwrap(), vec![]);
    }

    #[test]
    fn rejects_bad_templates() {
        assert_eq!(
            parse_template("a {{identity.x"),
            Err(TemplateError::Unclosed)
        );
        assert_eq!(
            parse_template("{{ user.email }}"),
            Err(TemplateError::Invalid {
                inner: "user.email".into()
            })
        );
        assert!(parse_template("{{env.1X}}").is_err());
        assert!(parse_template("{{identity.}}").is_err());
        assert_eq!(
            TemplateError::Invalid { inner: "x".into() }.to_string(),
            "`{{x}}` is not a valid template; write `{{identity.KEY}}` or `{{env.NAME}}`"
        );
    }

    #[test]
    fn renders_identity_and_env() {
        let r = render("{{env.SITE}}/search?u={{identity.email}}", &resolved(), env).unwrap();
        assert_eq!(r.text, "https://h.example/search?u=pat@canary.example");
        assert_eq!(r.canary_key, None);
        assert!(!r.contains_secret);
        assert_eq!(r.recorded_value().as_deref(), Some(r.text.as_str()));
    }

    #[test]
    fn a_lone_identity_template_names_its_canary() {
        let r = render(" {{identity.member}}", &resolved(), env).unwrap();
        assert_eq!(
            r.canary_key, None,
            "surrounding text makes it not a pure canary"
        );
        let r = render("{{ identity.member }}", &resolved(), env).unwrap();
        assert_eq!(r.canary_key.as_deref(), Some("member"));
        assert_eq!(r.text, "M-778812");
    }

    #[test]
    fn secrets_are_rendered_but_not_recorded_or_printed() {
        let r = render("{{identity.password}}", &resolved(), env).unwrap();
        assert_eq!(r.text, "hunter2-secret");
        assert!(r.contains_secret);
        assert_eq!(r.recorded_value(), None);
        assert!(!format!("{r:?}").contains("hunter2"));
        assert!(!format!("{:?}", resolved()).contains("hunter2"));
        assert!(format!("{:?}", resolved()).contains("M-778812"));
        let mixed = render("x{{identity.password}}", &resolved(), env).unwrap();
        assert!(mixed.contains_secret);
    }

    #[test]
    fn render_errors() {
        assert_eq!(
            render("{{identity.nope}}", &resolved(), env),
            Err(TemplateError::UnknownIdentity { key: "nope".into() })
        );
        let err = render("{{env.UNSET_VAR}}", &resolved(), env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable UNSET_VAR is not set (used as `{{env.UNSET_VAR}}`); set it before running"
        );
    }

    #[test]
    fn missing_secret_env_names_the_variable() {
        let err = resolve_identity(&scenario(), |n| (n == "LH_MEMBER").then(|| "m".to_string()))
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("LH_PASSWORD"), "{msg}");
        assert!(msg.contains("`password`"), "{msg}");
        assert!(msg.contains("export LH_PASSWORD="), "{msg}");
        let empty = resolve_identity(&scenario(), |_| Some(String::new())).unwrap_err();
        assert!(matches!(empty, ScenarioError::MissingEnv { .. }));
    }

    #[test]
    fn secrets_list_and_canaries() {
        let r = resolved();
        assert_eq!(
            r.secrets().collect::<Vec<_>>(),
            vec![("password", "hunter2-secret")]
        );
        let canaries = r.canaries();
        let pw = canaries.iter().find(|c| c.key == "password").unwrap();
        assert_eq!(pw.value, None);
        assert_eq!(pw.env.as_deref(), Some("LH_PASSWORD"));
        let member = canaries.iter().find(|c| c.key == "member").unwrap();
        assert_eq!(member.value.as_deref(), Some("M-778812"));
    }

    #[test]
    fn journey_info_never_holds_secrets() {
        let s = scenario();
        for info in [
            journey_info(&s, "scenarios/login.json"),
            journey_info_resolved(&s, "scenarios/login.json", &resolved()),
        ] {
            assert_eq!(info.file, "scenarios/login.json");
            assert_eq!(info.first_party, vec!["portal.example".to_string()]);
            let json = serde_json::to_string(&info).unwrap();
            assert!(!json.contains("hunter2"), "{json}");
            let pw = info.identity.iter().find(|c| c.key == "password").unwrap();
            assert_eq!(
                (pw.value.as_deref(), pw.env.as_deref()),
                (None, Some("LH_PASSWORD"))
            );
            let email = info.identity.iter().find(|c| c.key == "email").unwrap();
            assert_eq!(email.value.as_deref(), Some("pat@canary.example"));
        }
        let unresolved = journey_info(&s, "f");
        let member = unresolved
            .identity
            .iter()
            .find(|c| c.key == "member")
            .unwrap();
        assert_eq!(member.value, None);
    }

    #[test]
    fn secret_even_with_inline_value_is_not_in_journey_info() {
        let mut s = scenario();
        if let Some(pw) = s.identity.get_mut("password") {
            pw.value = Some("inline-secret".into());
            pw.env = None;
        }
        let json = serde_json::to_string(&journey_info(&s, "f")).unwrap();
        assert!(!json.contains("inline-secret"));
    }

    #[test]
    fn render_action_fills_every_field_and_reports_typing() {
        let action = Action::Type {
            selector: "input[name={{env.FIELD}}]".into(),
            text: "{{identity.password}}".into(),
            search: None,
            clear: false,
        };
        let env2 = |n: &str| {
            if n == "FIELD" {
                Some("pw".to_string())
            } else {
                env(n)
            }
        };
        let r = render_action(&action, &resolved(), env2).unwrap();
        assert_eq!(
            r.action,
            Action::Type {
                selector: "input[name=pw]".into(),
                text: "hunter2-secret".into(),
                search: None,
                clear: false,
            }
        );
        let typed = r.typed.clone().unwrap();
        assert!(typed.contains_secret);
        assert_eq!(typed.canary_key.as_deref(), Some("password"));
        assert!(!format!("{r:?}").contains("hunter2"));

        let goto = Action::Goto {
            url: "{{env.SITE}}/a".into(),
        };
        let r = render_action(&goto, &resolved(), env).unwrap();
        assert_eq!(
            r.action,
            Action::Goto {
                url: "https://h.example/a".into()
            }
        );
        assert!(r.typed.is_none());
    }

    #[test]
    fn template_fields_cover_selectors() {
        let wait = Action::Wait(WaitFor {
            selector: Some("#a".into()),
            ..WaitFor::default()
        });
        assert_eq!(
            template_fields(&wait),
            vec![("selector", &"#a".to_string())]
        );
        let press = Action::Press {
            key: "Enter".into(),
            selector: Some("#q".into()),
        };
        assert_eq!(template_fields(&press).len(), 2);
    }
}
