//! Checks that need the whole parsed scenario: rules serde's types cannot express.
//!
//! Each check names the JSON pointer of what it objects to; `parse` turns that into a line and
//! column. The first problem wins: a user fixes one thing at a time anyway, and later checks may
//! rely on earlier ones (templates are checked against identity keys that were checked first).

use url::{Host, Url};

use super::error::{did_you_mean, pointer_token, Problem};
use super::model::{Action, Scenario, WaitFor};
use super::template::{is_env_name, is_identity_key, parse_template, template_fields, Segment};

/// Validates `scenario` and normalises its `first_party` domains (lowercase, punycode).
pub(crate) fn validate(scenario: &mut Scenario) -> Result<(), Problem> {
    if scenario.name.trim().is_empty() {
        return Err(Problem::new("/name", "`name` must not be empty"));
    }
    check_start_url(&scenario.start_url)?;
    if scenario.timeout_ms == 0 {
        return Err(positive("/timeout_ms"));
    }
    for (i, domain) in scenario.first_party.iter_mut().enumerate() {
        *domain = normalise_domain(domain).map_err(|p| Problem {
            pointer: format!("/first_party/{i}"),
            ..p
        })?;
    }
    for (i, pattern) in scenario.sensitive_pages.iter().enumerate() {
        if pattern.trim().is_empty() {
            return Err(Problem::new(
                format!("/sensitive_pages/{i}"),
                "a sensitive page pattern must not be empty",
            ));
        }
    }
    check_identity(scenario)?;
    check_leave_url(&scenario.leave.url)?;
    for (i, step) in scenario.steps.iter().enumerate() {
        let at = |field: &str| format!("/steps/{i}/{}", pointer_token(field));
        if step.timeout_ms == Some(0) {
            return Err(positive(&at("timeout_ms")));
        }
        check_action(&step.action, &scenario.start_url, &at)?;
        check_templates(scenario, &step.action, &at)?;
    }
    Ok(())
}

fn positive(pointer: &str) -> Problem {
    Problem::new(pointer, "must be greater than 0").hint("the value is in milliseconds")
}

fn check_start_url(start_url: &str) -> Result<(), Problem> {
    let hint = "write a full URL such as `https://www.hospital.example/`";
    let url = Url::parse(start_url).map_err(|e| {
        Problem::new(
            "/start_url",
            format!("`{start_url}` is not an absolute URL ({e})"),
        )
        .hint(hint)
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(
            Problem::new("/start_url", "`start_url` must be an http or https URL").hint(hint),
        );
    }
    Ok(())
}

fn check_leave_url(leave_url: &str) -> Result<(), Problem> {
    let ok = Url::parse(leave_url)
        .map(|u| matches!(u.scheme(), "http" | "https" | "about"))
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            "/leave/url",
            format!("`{leave_url}` is not an absolute http(s) or about: URL"),
        )
        .hint("the default, `about:blank`, leaves the site without loading anything"))
    }
}

/// `Example.ORG` → `example.org`; refuses URLs, paths and ports with a hint naming the host.
fn normalise_domain(domain: &str) -> Result<String, Problem> {
    let problem = |msg: String| Problem::new("", msg);
    let trimmed = domain.trim().trim_end_matches('.');
    if trimmed.contains("://") || trimmed.contains(['/', ':', '@', '?', '#']) {
        let host = Url::parse(trimmed)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string));
        let p = problem(format!("`{domain}` is a URL, not a domain"));
        return Err(match host {
            Some(h) => p.hint(format!("write the domain only: `{h}`")),
            None => p.hint("write the domain only, e.g. `patientportal.example`"),
        });
    }
    match Host::parse(trimmed) {
        Ok(Host::Domain(d)) if d.contains('.') || d == "localhost" => Ok(d),
        Ok(Host::Domain(_)) => Err(problem(format!("`{domain}` is not a registrable domain"))
            .hint("write a domain with its suffix, e.g. `hospital.example`")),
        Ok(ip) => Ok(ip.to_string()),
        Err(e) => Err(problem(format!("`{domain}` is not a domain ({e})"))),
    }
}

fn check_identity(scenario: &Scenario) -> Result<(), Problem> {
    for (key, entry) in &scenario.identity {
        let at = |field: &str| format!("/identity/{}{field}", pointer_token(key));
        if !is_identity_key(key) {
            return Err(
                Problem::new(at(""), format!("`{key}` is not a valid identity key"))
                    .at_key()
                    .hint("use letters, digits, `_` and `-`"),
            );
        }
        let kind = entry.kind.as_str();
        match (&entry.value, &entry.env) {
            (Some(_), Some(_)) => {
                return Err(Problem::new(at("/env"), "set either `value` or `env`, not both")
                    .at_key())
            }
            (None, None) => {
                return Err(Problem::new(at(""), "needs a `value` or an `env` variable")
                    .hint(r#"e.g. {"kind": "email", "value": "pat.canary@example.com"}"#))
            }
            (Some(_), None) if entry.kind.is_secret() => {
                return Err(Problem::new(
                    at("/value"),
                    format!("a {kind} must not be written in the file"),
                )
                .at_key()
                .hint(format!(
                    r#"read it from the environment: "env": "LEAKHOUND_{}", and set that variable before running"#,
                    key.to_ascii_uppercase().replace('-', "_")
                )))
            }
            (Some(v), None) if v.trim().is_empty() => {
                return Err(Problem::new(at("/value"), "an identity value must not be empty"))
            }
            (None, Some(var)) if !is_env_name(var) => {
                return Err(Problem::new(
                    at("/env"),
                    format!("`{var}` is not a valid environment variable name"),
                )
                .hint("use letters, digits and `_`, not starting with a digit"))
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_action(
    action: &Action,
    start_url: &str,
    at: &dyn Fn(&str) -> String,
) -> Result<(), Problem> {
    for (field, text) in template_fields(action) {
        if text.trim().is_empty() && field != "text" && field != "value" {
            return Err(Problem::new(
                at(field),
                format!("`{field}` must not be empty"),
            ));
        }
    }
    match action {
        Action::Goto { url } => check_goto_url(url, start_url).map_err(|p| Problem {
            pointer: at("url"),
            ..p
        }),
        Action::Wait(w) => check_wait(w, at),
        Action::Scroll {
            selector: Some(_),
            y: Some(_),
        } => Err(
            Problem::new(at("y"), "set either `selector` or `y`, not both")
                .at_key()
                .hint("`selector` scrolls an element into view, `y` scrolls the page by pixels"),
        ),
        Action::Screenshot { name: Some(n), .. }
            if n.is_empty() || n.contains(['/', '\\']) || n.starts_with('.') =>
        {
            Err(
                Problem::new(at("name"), "a screenshot name must be a plain file name")
                    .hint("use letters, digits, `-` and `_`, e.g. `search-results`"),
            )
        }
        _ => Ok(()),
    }
}

/// Absolute http(s), or relative to the page (checked against the start URL). Templates count as
/// plain text here; what they render to is checked by the browser at run time.
fn check_goto_url(url: &str, start_url: &str) -> Result<(), Problem> {
    let untemplated = match parse_template(url) {
        Ok(segments) => segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => *l,
                _ => "x",
            })
            .collect::<String>(),
        // Reported with its own message by the template check.
        Err(_) => return Ok(()),
    };
    let problem = |msg: String| {
        Problem::new("", msg).hint("use an absolute http(s) URL or a path such as `/symptoms`")
    };
    match Url::parse(&untemplated) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(u) => Err(problem(format!("`{}:` URLs cannot be visited", u.scheme()))),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            let base = Url::parse(start_url).map_err(|e| problem(e.to_string()))?;
            base.join(&untemplated)
                .map(|_| ())
                .map_err(|e| problem(format!("`{url}` is not a valid relative URL ({e})")))
        }
        Err(e) => Err(problem(format!("`{url}` is not a valid URL ({e})"))),
    }
}

fn check_wait(w: &WaitFor, at: &dyn Fn(&str) -> String) -> Result<(), Problem> {
    let set: Vec<&str> = [
        ("selector", w.selector.is_some()),
        ("url", w.url.is_some()),
        ("network_idle", w.network_idle.is_some()),
        ("ms", w.ms.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    let hint = "use exactly one of: selector, url, network_idle, ms";
    match set.as_slice() {
        [] => Err(Problem::new(at(""), "a wait step needs a condition").hint(hint)),
        [_] => {
            for (field, value) in [("network_idle", w.network_idle), ("ms", w.ms)] {
                if value == Some(0) {
                    return Err(positive(&at(field)));
                }
            }
            Ok(())
        }
        [first, second, ..] => Err(Problem::new(
            at(second),
            format!("a wait step waits for one condition, but has `{first}` and `{second}`"),
        )
        .at_key()
        .hint("split it into two wait steps")),
    }
}

/// Every template names a known identity key, and secrets are only ever typed: a secret in a URL
/// or selector would end up in page URLs, logs and step labels.
fn check_templates(
    scenario: &Scenario,
    action: &Action,
    at: &dyn Fn(&str) -> String,
) -> Result<(), Problem> {
    let is_type = matches!(action, Action::Type { .. });
    for (field, text) in template_fields(action) {
        let segments = parse_template(text).map_err(|e| Problem::new(at(field), e.to_string()))?;
        for segment in segments {
            let Segment::Identity(key) = segment else {
                continue;
            };
            let Some(entry) = scenario.identity.get(key) else {
                let known: Vec<&str> = scenario.identity.keys().map(String::as_str).collect();
                let mut hint = if known.is_empty() {
                    "the scenario has no `identity` section".to_string()
                } else {
                    format!("identity keys: {}", known.join(", "))
                };
                if let Some(s) = did_you_mean(key, known.iter().copied()) {
                    hint = format!("{hint}; {s}");
                }
                return Err(
                    Problem::new(at(field), format!("unknown identity key `{key}`")).hint(hint),
                );
            };
            if entry.kind.is_secret() && !(is_type && field == "text") {
                return Err(Problem::new(
                    at(field),
                    format!("the {} `{key}` can only be typed", entry.kind.as_str()),
                )
                .hint("use it as the `text` of a `type` step; never in URLs, selectors or keys"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised() {
        assert_eq!(
            normalise_domain("Portal.Example.").unwrap(),
            "portal.example"
        );
        assert_eq!(
            normalise_domain("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(normalise_domain("127.0.0.1").unwrap(), "127.0.0.1");
        assert_eq!(normalise_domain("localhost").unwrap(), "localhost");
    }

    #[test]
    fn urls_are_not_domains() {
        let p = normalise_domain("https://portal.example/login").unwrap_err();
        assert_eq!(
            p.message,
            "`https://portal.example/login` is a URL, not a domain"
        );
        assert_eq!(
            p.hint.as_deref(),
            Some("write the domain only: `portal.example`")
        );
        assert!(normalise_domain("portal.example:8443").is_err());
        assert!(normalise_domain("portal").is_err());
        assert!(normalise_domain("a b.example").is_err());
    }

    #[test]
    fn goto_urls() {
        let start = "https://h.example/a/";
        for ok in [
            "/symptoms",
            "b?q=1",
            "https://x.example/",
            "{{env.SITE}}/x",
            "//cdn.example/x",
        ] {
            assert!(check_goto_url(ok, start).is_ok(), "{ok}");
        }
        for bad in ["javascript:alert(1)", "file:///etc/passwd", "http://[::1"] {
            assert!(check_goto_url(bad, start).is_err(), "{bad}");
        }
    }

    #[test]
    fn start_urls() {
        assert!(check_start_url("https://h.example/").is_ok());
        assert!(check_start_url("http://127.0.0.1:8080/").is_ok());
        assert!(check_start_url("h.example").is_err());
        assert!(check_start_url("ftp://h.example/").is_err());
        assert!(check_start_url("/relative").is_err());
    }

    #[test]
    fn leave_urls() {
        assert!(check_leave_url("about:blank").is_ok());
        assert!(check_leave_url("https://elsewhere.example/").is_ok());
        assert!(check_leave_url("/home").is_err());
    }
}
