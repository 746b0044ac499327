//! Reading a scenario file: comments, JSON syntax, strict structure, then validation, each
//! problem reported at its line and column.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::{did_you_mean, pointer_token, Diagnostic, Problem, ScenarioError};
use super::jsonc::blank_comments;
use super::model::{Action, IdentityValue, Leave, Scenario};
use super::position::{Pos, PositionIndex};
use super::step::{path_to_pointer, step_from_value, struct_fields};
use super::validate::validate;

/// Reads and validates the scenario at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        file: file.clone(),
        source,
    })?;
    parse_str(&file, &text)
}

/// Loads every file, for `leakhound check`: one result per path, in order.
pub fn check_files(paths: &[PathBuf]) -> Vec<(PathBuf, Result<Scenario, ScenarioError>)> {
    paths.iter().map(|p| (p.clone(), load(p))).collect()
}

/// Parses and validates scenario text. `file` is only used to name the file in errors.
pub fn parse_str(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let clean = blank_comments(text).map_err(|at| Diagnostic {
        file: file.to_string(),
        line: at.line,
        column: at.column,
        step: None,
        action: None,
        message: "this `/*` comment is never closed".into(),
        hint: Some("close it with `*/`".into()),
    })?;
    let value: Value = serde_json::from_str(&clean).map_err(|e| syntax_error(file, &clean, &e))?;
    let index = PositionIndex::build(&clean).map_err(|e| {
        let message = match &e.duplicate_key {
            Some(key) => format!("duplicate field `{key}`"),
            None => "cannot read this JSON".to_string(),
        };
        Diagnostic {
            file: file.to_string(),
            line: e.pos.line,
            column: e.pos.column,
            step: step_number(&e.pointer),
            action: action_of(&value, &e.pointer),
            message,
            hint: Some("each field may appear only once".into()),
        }
    })?;
    let locate = |p: Problem| locate(file, &value, &index, p);

    check_structure(&value).map_err(locate)?;
    let mut scenario: Scenario = serde_path_to_error::deserialize(&value).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        let message = e.inner().to_string();
        let hint = (message.starts_with("missing field") && pointer.is_empty())
            .then(|| "a scenario needs at least `name`, `start_url` and `steps`".to_string());
        locate(Problem {
            hint,
            ..Problem::new(pointer, message)
        })
    })?;
    validate(&mut scenario).map_err(locate)?;
    tracing::debug!(file, steps = scenario.steps.len(), "scenario is valid");
    Ok(scenario)
}

/// Unknown members anywhere, and each step's shape. serde would catch unknown members of the
/// derived structs too, but not say where the key is nor list the alternatives.
fn check_structure(value: &Value) -> Result<(), Problem> {
    check_members(value, "", struct_fields::<Scenario>(), "top-level fields")?;
    if let Some(Value::Object(identity)) = value.get("identity") {
        for (key, entry) in identity {
            let at = format!("/identity/{}", pointer_token(key));
            check_members(
                entry,
                &at,
                struct_fields::<IdentityValue>(),
                "identity fields",
            )?;
        }
    }
    if let Some(leave) = value.get("leave") {
        check_members(
            leave,
            "/leave",
            struct_fields::<Leave>(),
            "fields of `leave`",
        )?;
    }
    if let Some(Value::Array(steps)) = value.get("steps") {
        for (i, step) in steps.iter().enumerate() {
            step_from_value(step).map_err(|p| Problem {
                pointer: format!("/steps/{i}{}", p.pointer),
                ..p
            })?;
        }
    }
    Ok(())
}

fn check_members(
    value: &Value,
    pointer: &str,
    fields: &[&'static str],
    what: &str,
) -> Result<(), Problem> {
    let Value::Object(object) = value else {
        // Wrong type: serde reports it with the expected type.
        return Ok(());
    };
    for key in object.keys() {
        if !fields.contains(&key.as_str()) {
            let mut hint = format!("valid {what}: {}", fields.join(", "));
            if let Some(s) = did_you_mean(key, fields.iter().copied()) {
                hint = format!("{hint}; {s}");
            }
            return Err(Problem::new(
                format!("{pointer}/{}", pointer_token(key)),
                format!("unknown field `{key}`"),
            )
            .at_key()
            .hint(hint));
        }
    }
    Ok(())
}

fn locate(file: &str, value: &Value, index: &PositionIndex, p: Problem) -> ScenarioError {
    let Pos { line, column } = index.locate(&p.pointer, p.at_key);
    ScenarioError::from(Diagnostic {
        file: file.to_string(),
        line,
        column,
        step: step_number(&p.pointer),
        action: action_of(value, &p.pointer),
        message: p.message,
        hint: p.hint,
    })
}

/// `/steps/3/text` → step 4: captures and reports count opening `start_url` as step 0.
fn step_number(pointer: &str) -> Option<usize> {
    step_of(pointer).map(|i| i + 1)
}

/// `/steps/3/text` → index 3.
fn step_of(pointer: &str) -> Option<usize> {
    let rest = pointer.strip_prefix("/steps/")?;
    rest.split('/').next()?.parse().ok()
}

/// The step's action, when it is one we know (an unknown one is what the message is about).
fn action_of(value: &Value, pointer: &str) -> Option<String> {
    let step = step_of(pointer)?;
    let name = value.pointer(&format!("/steps/{step}/action"))?.as_str()?;
    Action::NAMES.contains(&name).then(|| name.to_string())
}

/// serde_json's syntax error, with the column counted in characters and the step it is in.
fn syntax_error(file: &str, clean: &str, e: &serde_json::Error) -> ScenarioError {
    let line = e.line().max(1);
    let line_text = clean.split('\n').nth(line - 1).unwrap_or("");
    let mut byte_column = e.column().min(line_text.len());
    while !line_text.is_char_boundary(byte_column) {
        byte_column -= 1;
    }
    let column = line_text[..byte_column].chars().count().max(1);
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    let hint = if message.contains("trailing comma") {
        Some("JSON allows no comma after the last item".to_string())
    } else if message.contains("key must be a string") {
        Some(r#"field names need double quotes: "action""#.to_string())
    } else {
        None
    };
    let pointer = PositionIndex::build(clean)
        .err()
        .map(|s| s.pointer)
        .unwrap_or_default();
    ScenarioError::from(Diagnostic {
        file: file.to_string(),
        line,
        column,
        step: step_number(&pointer),
        action: None,
        message: format!("invalid JSON: {message}"),
        hint,
    })
}

#[cfg(test)]
mod tests;
