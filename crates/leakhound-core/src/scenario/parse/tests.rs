//! Tests of the whole reading pipeline: each kind of mistake a user makes, and where it is reported.

use super::*;
use crate::capture::record::CanaryKind;
use crate::scenario::model::{Action, WaitFor};

const EXAMPLE: &str = include_str!("../../../../../scenarios/example-symptom-search.json");

fn diag(text: &str) -> Diagnostic {
    match parse_str("s.json", text) {
        Err(ScenarioError::Invalid(d)) => *d,
        other => panic!("expected a diagnostic, got {other:?}"),
    }
}

/// The 1-based line and character column of the first `needle` in `text` at or after the first
/// `after`: where a diagnostic is expected to point, found independently of the position index.
fn pos(text: &str, after: &str, needle: &str) -> (usize, usize) {
    let start = text.find(after).expect("anchor in text");
    let offset = start + text[start..].find(needle).expect("needle in text");
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

fn line_col(d: &Diagnostic) -> (usize, usize) {
    (d.line, d.column)
}

/// A minimal valid scenario with `steps` spliced in, steps starting on line 5.
fn with_steps(steps: &str) -> String {
    format!(
        "{{\n  \"name\": \"t\",\n  \"start_url\": \"https://h.example/\",\n  \"identity\": {{\"email\": {{\"kind\": \"email\", \"value\": \"a@b.example\"}}, \"pw\": {{\"kind\": \"password\", \"env\": \"LH_PW\"}}}},\n  \"steps\": [\n{steps}\n  ]\n}}"
    )
}

#[test]
fn the_example_parses() {
    let s = parse_str("scenarios/example-symptom-search.json", EXAMPLE).unwrap();
    assert_eq!(s.name, "symptom-search");
    assert_eq!(s.first_party, vec!["hospital-portal.example".to_string()]);
    assert_eq!(s.steps.len(), 14);
    assert_eq!(s.steps[0].label.as_deref(), Some("Accept cookies"));
    assert_eq!(s.steps[0].timeout_ms, Some(5000));
    assert_eq!(
        s.steps[4].action,
        Action::Wait(WaitFor {
            url: Some("*/search*".into()),
            ..WaitFor::default()
        })
    );
    assert_eq!(s.identity["email"].kind, CanaryKind::Email);
    assert_eq!(s.leave.grace_ms, 3000);
    for step in &s.steps {
        let back = serde_json::to_value(step).unwrap();
        assert_eq!(
            &serde_json::from_value::<crate::scenario::Step>(back).unwrap(),
            step
        );
    }
}

#[test]
fn defaults_fill_in() {
    let s = parse_str("s.json", &with_steps("")).unwrap();
    assert_eq!(
        s.timeout_ms,
        crate::scenario::model::DEFAULT_JOURNEY_TIMEOUT_MS
    );
    assert_eq!(s.leave, crate::scenario::Leave::default());
    assert!(s.steps.is_empty());
}

#[test]
fn unknown_step_field() {
    let text = with_steps(
        "    {\"action\": \"click\", \"selector\": \"#a\"},\n    {\"action\": \"type\", \"selector\": \"#q\",\n      \"txt\": \"hello\"}",
    );
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "", "\"txt\""));
    assert_eq!(line_col(&d), (8, 7));
    assert_eq!(d.step, Some(2));
    assert_eq!(
        d.to_string(),
        "s.json:8:7: step 2 (type): unknown field `txt`; valid fields: selector, text, search, \
         clear, label, timeout_ms; did you mean `text`?"
    );
}

#[test]
fn unknown_action() {
    let text = with_steps("    {\"selector\": \"#a\", \"action\": \"clik\"}");
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "", "\"clik\""));
    assert_eq!((d.step, d.action.as_deref()), (Some(1), None));
    assert_eq!(d.message, "unknown action `clik`");
    let hint = d.hint.unwrap();
    assert!(hint.contains("valid actions: goto, click, type, press, select, check, scroll, wait, submit, screenshot"), "{hint}");
    assert!(hint.ends_with("did you mean `click`?"), "{hint}");
}

#[test]
fn missing_step_field_points_at_the_step() {
    let text = with_steps(
        "    {\"action\": \"wait\", \"ms\": 1},\n      {\"action\": \"select\", \"selector\": \"#s\"}",
    );
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "1},", "{"));
    assert_eq!(line_col(&d), (7, 7));
    assert_eq!(d.step, Some(2));
    assert_eq!(d.action.as_deref(), Some("select"));
    assert_eq!(d.message, "missing field `value`");
    assert_eq!(
        d.hint.as_deref(),
        Some("fields of `select`: selector, value, label, timeout_ms")
    );
}

#[test]
fn wrong_type_points_at_the_value() {
    let text = with_steps("    {\"action\": \"scroll\", \"y\": \"down\"}");
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "", "\"down\""));
    assert_eq!(d.step, Some(1));
    assert!(
        d.message.starts_with("invalid type: string \"down\""),
        "{}",
        d.message
    );

    let text = "{\"name\": \"t\", \"start_url\": \"https://h.example/\", \"steps\": {}}";
    let d = diag(text);
    assert_eq!(line_col(&d), pos(text, "\"steps\"", "{"));
    assert_eq!(d.step, None);
    assert!(d.message.contains("expected a sequence"), "{}", d.message);
}

#[test]
fn unknown_top_level_field() {
    let text = "{\n  \"name\": \"t\",\n  \"start_ur\": \"https://h.example/\",\n  \"steps\": []\n}";
    let d = diag(text);
    assert_eq!((d.line, d.column, d.step), (3, 3, None));
    assert_eq!(d.message, "unknown field `start_ur`");
    let hint = d.hint.unwrap();
    assert!(
        hint.starts_with("valid top-level fields: name, description, start_url"),
        "{hint}"
    );
    assert!(hint.ends_with("did you mean `start_url`?"), "{hint}");
}

#[test]
fn missing_top_level_field() {
    let d = diag("{\"name\": \"t\", \"steps\": []}");
    assert_eq!(line_col(&d), (1, 1));
    assert_eq!(d.message, "missing field `start_url`");
    assert!(d.hint.is_some());
}

#[test]
fn unknown_enum_value() {
    let text = "{\"name\": \"t\", \"start_url\": \"https://h.example/\", \"device\": \"tablet\", \"steps\": []}";
    let d = diag(text);
    assert_eq!(line_col(&d), pos(text, "", "\"tablet\""));
    assert!(
        d.message.contains("unknown variant `tablet`"),
        "{}",
        d.message
    );
}

#[test]
fn identity_problems() {
    let base = |identity: &str| {
        format!("{{\"name\": \"t\", \"start_url\": \"https://h.example/\",\n\"identity\": {identity},\n\"steps\": []}}")
    };
    let text = base(r#"{"pw": {"kind": "password", "value": "hunter2"}}"#);
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "", "\"value\""));
    assert_eq!(d.message, "a password must not be written in the file");
    assert!(d.hint.unwrap().contains(r#""env": "LEAKHOUND_PW""#));

    let text = base(r#"{"e": {"kind": "email", "value": "a@b.example", "env": "E"}}"#);
    let d = diag(&text);
    assert_eq!(d.message, "set either `value` or `env`, not both");
    assert_eq!(line_col(&d), pos(&text, "", "\"env\""));

    let text = base(r#"{"e": {"kind": "email", "vaule": "a@b.example"}}"#);
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "", "\"vaule\""));
    assert_eq!(d.message, "unknown field `vaule`");
    assert!(d.hint.unwrap().ends_with("did you mean `value`?"));

    let text = base(r#"{"e": {"kind": "mail", "value": "a@b.example"}}"#);
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "", "\"mail\""));
    assert!(d.message.contains("unknown variant `mail`"));

    let d = diag(&base(r#"{"e": {"kind": "email"}}"#));
    assert_eq!(d.message, "needs a `value` or an `env` variable");

    let d = diag(&base(r#"{"e": {"kind": "email", "env": "1BAD"}}"#));
    assert!(d.message.contains("not a valid environment variable name"));
}

#[test]
fn wait_needs_exactly_one_condition() {
    let text = with_steps("    {\"action\": \"wait\", \"ms\": 100, \"selector\": \"#x\"}");
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "\"wait\"", "\"ms\""));
    assert_eq!((d.step, d.action.as_deref()), (Some(1), Some("wait")));
    assert_eq!(
        d.message,
        "a wait step waits for one condition, but has `selector` and `ms`"
    );

    let text = with_steps("    {\"action\": \"wait\", \"label\": \"nothing\"}");
    let d = diag(&text);
    assert_eq!(d.message, "a wait step needs a condition");
    assert_eq!(line_col(&d), (6, 5));

    let text = with_steps("    {\"action\": \"wait\", \"network_idle\": 0}");
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "network_idle", "0"));
    assert_eq!(d.message, "must be greater than 0");
}

#[test]
fn timeouts_must_be_positive() {
    let text = with_steps("    {\"action\": \"click\", \"selector\": \"#a\", \"timeout_ms\": 0}");
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "\"timeout_ms\"", "0"));
    assert_eq!(d.step, Some(1));
    let text = "{\"name\": \"t\", \"start_url\": \"https://h.example/\", \"timeout_ms\": 0, \"steps\": []}";
    let d = diag(text);
    assert_eq!(
        (line_col(&d), d.step),
        (pos(text, "\"timeout_ms\"", "0"), None)
    );
}

#[test]
fn urls_are_checked() {
    let text = with_steps("    {\"action\": \"goto\", \"url\": \"javascript:alert(1)\"}");
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "", "\"javascript"));
    assert_eq!(d.step, Some(1));
    assert_eq!(d.message, "`javascript:` URLs cannot be visited");

    let text = "{\"name\": \"t\", \"start_url\": \"www.h.example\", \"steps\": []}";
    let d = diag(text);
    assert_eq!(line_col(&d), pos(text, "", "\"www"));
    assert!(d.message.contains("is not an absolute URL"));

    let text = "{\"name\": \"t\", \"start_url\": \"https://h.example/\", \"leave\": {\"url\": \"/bye\"}, \"steps\": []}";
    let d = diag(text);
    assert_eq!(line_col(&d), pos(text, "", "\"/bye"));
}

#[test]
fn first_party_entries_are_domains() {
    let text = "{\"name\": \"t\", \"start_url\": \"https://h.example/\",\n \"first_party\": [\"portal.example\", \"https://Book.Example/x\"], \"steps\": []}";
    let d = diag(text);
    assert_eq!(line_col(&d), pos(text, "", "\"https://Book"));
    assert_eq!(
        d.hint.as_deref(),
        Some("write the domain only: `book.example`")
    );
}

#[test]
fn templates_are_checked_against_the_identity() {
    let text = with_steps(
        "    {\"action\": \"type\", \"selector\": \"#q\", \"text\": \"{{identity.emial}}\"}",
    );
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "", "\"{{identity.emial"));
    assert_eq!(d.step, Some(1));
    assert_eq!(d.message, "unknown identity key `emial`");
    assert_eq!(
        d.hint.as_deref(),
        Some("identity keys: email, pw; did you mean `email`?")
    );

    let d = diag(&with_steps(
        "    {\"action\": \"goto\", \"url\": \"/login?pw={{identity.pw}}\"}",
    ));
    assert_eq!(d.message, "the password `pw` can only be typed");

    let d = diag(&with_steps(
        "    {\"action\": \"click\", \"selector\": \"{{ident.x}}\"}",
    ));
    assert!(
        d.message.contains("is not a valid template"),
        "{}",
        d.message
    );

    let ok = parse_str(
        "s.json",
        &with_steps(
            "    {\"action\": \"type\", \"selector\": \"#pw\", \"text\": \"{{identity.pw}}\"}",
        ),
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn comments_are_allowed_and_keep_positions() {
    let text = "// header\n{ /* a */ \"name\": \"t\", // trailing\n  \"start_url\": \"https://h.example/a//b\",\n  /* multi\n     line */ \"steps\": [ {\"action\": \"goto\", \"url\": \"//cdn.example/x\"}, /* c */ {\"action\": \"nope\"} ]\n}";
    let d = diag(text);
    assert_eq!(line_col(&d), pos(text, "", "\"nope\""));
    assert_eq!(line_col(&d), (5, 90));
    assert_eq!(d.step, Some(2));
    let fixed = text.replace("{\"action\": \"nope\"}", "{\"action\": \"scroll\"}");
    let s = parse_str("s.json", &fixed).unwrap();
    assert_eq!(s.start_url, "https://h.example/a//b");
    assert_eq!(
        s.steps[0].action,
        Action::Goto {
            url: "//cdn.example/x".into()
        }
    );
}

#[test]
fn unclosed_comment() {
    let d = diag("{\"name\": \"t\",\n   /* oops\n}");
    assert_eq!(line_col(&d), (2, 4));
    assert_eq!(d.message, "this `/*` comment is never closed");
}

#[test]
fn syntax_errors_name_line_column_and_step() {
    let text = with_steps("    {\"action\": \"click\", \"selector\": \"#a\",}");
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "\"#a\",", "}"));
    assert_eq!(d.step, Some(1));
    assert!(
        d.message.starts_with("invalid JSON: trailing comma"),
        "{}",
        d.message
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("JSON allows no comma after the last item")
    );

    let text = "{\"name\": \"é😀\" \"steps\": []}";
    let d = diag(text);
    assert_eq!(line_col(&d), pos(text, "", "\"steps"));
    assert_eq!(d.step, None);
    assert!(
        d.message.starts_with("invalid JSON: expected `,` or `}`"),
        "{}",
        d.message
    );

    let d = diag("");
    assert_eq!(line_col(&d), (1, 1));
}

#[test]
fn duplicate_fields_are_errors() {
    let text =
        with_steps("    {\"action\": \"click\", \"selector\": \"#a\", \"selector\": \"#b\"}");
    let d = diag(&text);
    assert_eq!(line_col(&d), pos(&text, "\"#a\"", "\"selector\""));
    assert_eq!((d.step, d.action.as_deref()), (Some(1), Some("click")));
    assert_eq!(d.message, "duplicate field `selector`");
}

#[test]
fn scroll_is_one_or_the_other() {
    let d = diag(&with_steps(
        "    {\"action\": \"scroll\", \"selector\": \"#a\", \"y\": 10}",
    ));
    assert_eq!(d.message, "set either `selector` or `y`, not both");
}

#[test]
fn load_and_check_files() {
    let dir = std::env::temp_dir().join(format!("leakhound-scenario-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    let bad = dir.join("bad.json");
    std::fs::write(&good, EXAMPLE).unwrap();
    std::fs::write(&bad, "{\"name\": 1}").unwrap();
    let missing = dir.join("missing.json");
    let results = check_files(&[good.clone(), bad.clone(), missing.clone()]);
    assert_eq!(results.len(), 3);
    assert!(results[0].1.is_ok());
    let err = results[1].1.as_ref().unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:1:10: invalid type", bad.display())),
        "{err}"
    );
    assert!(matches!(results[2].1, Err(ScenarioError::Read { .. })));
    assert!(results[2]
        .1
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("missing.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_documented_example_is_the_example_file() {
    let doc = include_str!("../../../../../docs/scenarios.md");
    let start = doc
        .find("```jsonc\n")
        .expect("annotated example in the docs")
        + "```jsonc\n".len();
    let end = start + doc[start..].find("```").expect("end of the example");
    let documented = parse_str("docs/scenarios.md", &doc[start..end]).unwrap();
    let file = parse_str("example.json", EXAMPLE).unwrap();
    assert_eq!(documented, file);
}
