//! Strict deserialisation of one step.
//!
//! A step is one JSON object: `action` picks the kind, `label` and `timeout_ms` are common to all,
//! the remaining members belong to the action. serde's derive cannot be strict about this shape
//! (`flatten` and an internally tagged enum switch off `deny_unknown_fields`), so the step is
//! read in two moves: look at `action`, then deserialise the remaining members into that action's
//! own derived struct. The lists of valid fields shown in hints come from those derived structs
//! (see [`struct_fields`]), so they cannot drift from what is accepted.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::{did_you_mean, pointer_token, Problem};
use super::model::{Action, Step, WaitFor};

/// Members every step may have besides its action's own.
pub(crate) const COMMON_FIELDS: [&str; 2] = ["label", "timeout_ms"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    label: Option<String>,
    timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GotoRaw {
    url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClickRaw {
    selector: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeRaw {
    selector: String,
    text: String,
    search: Option<bool>,
    #[serde(default)]
    clear: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PressRaw {
    key: String,
    selector: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SelectRaw {
    selector: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRaw {
    selector: String,
    #[serde(default = "yes")]
    checked: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScrollRaw {
    selector: Option<String>,
    y: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitRaw {
    selector: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScreenshotRaw {
    name: Option<String>,
    #[serde(default)]
    full_page: bool,
}

/// Calls `$f::<RawType>($args)` for the raw struct of action `$name`, `None` for unknown actions.
/// One table, so adding an action means adding one line here (and `Action::NAMES`).
macro_rules! with_raw {
    ($name:expr, $f:ident ( $($arg:expr),* )) => {
        match $name {
            "goto" => Some($f::<GotoRaw>($($arg),*)),
            "click" => Some($f::<ClickRaw>($($arg),*)),
            "type" => Some($f::<TypeRaw>($($arg),*)),
            "press" => Some($f::<PressRaw>($($arg),*)),
            "select" => Some($f::<SelectRaw>($($arg),*)),
            "check" => Some($f::<CheckRaw>($($arg),*)),
            "scroll" => Some($f::<ScrollRaw>($($arg),*)),
            "wait" => Some($f::<WaitFor>($($arg),*)),
            "submit" => Some($f::<SubmitRaw>($($arg),*)),
            "screenshot" => Some($f::<ScreenshotRaw>($($arg),*)),
            _ => None,
        }
    };
}

impl From<GotoRaw> for Action {
    fn from(r: GotoRaw) -> Self {
        Action::Goto { url: r.url }
    }
}
impl From<ClickRaw> for Action {
    fn from(r: ClickRaw) -> Self {
        Action::Click {
            selector: r.selector,
        }
    }
}
impl From<TypeRaw> for Action {
    fn from(r: TypeRaw) -> Self {
        Action::Type {
            selector: r.selector,
            text: r.text,
            search: r.search,
            clear: r.clear,
        }
    }
}
impl From<PressRaw> for Action {
    fn from(r: PressRaw) -> Self {
        Action::Press {
            key: r.key,
            selector: r.selector,
        }
    }
}
impl From<SelectRaw> for Action {
    fn from(r: SelectRaw) -> Self {
        Action::Select {
            selector: r.selector,
            value: r.value,
        }
    }
}
impl From<CheckRaw> for Action {
    fn from(r: CheckRaw) -> Self {
        Action::Check {
            selector: r.selector,
            checked: r.checked,
        }
    }
}
impl From<ScrollRaw> for Action {
    fn from(r: ScrollRaw) -> Self {
        Action::Scroll {
            selector: r.selector,
            y: r.y,
        }
    }
}
impl From<WaitFor> for Action {
    fn from(w: WaitFor) -> Self {
        Action::Wait(w)
    }
}
impl From<SubmitRaw> for Action {
    fn from(r: SubmitRaw) -> Self {
        Action::Submit {
            selector: r.selector,
        }
    }
}
impl From<ScreenshotRaw> for Action {
    fn from(r: ScreenshotRaw) -> Self {
        Action::Screenshot {
            name: r.name,
            full_page: r.full_page,
        }
    }
}

/// The fields an action accepts (its own, then the common ones), or `None` for unknown actions.
pub fn action_fields(action: &str) -> Option<Vec<&'static str>> {
    let own = with_raw!(action, struct_fields())?;
    Some(own.iter().copied().chain(COMMON_FIELDS).collect())
}

fn build<T>(members: &Value) -> Result<Action, serde_path_to_error::Error<serde_json::Error>>
where
    T: de::DeserializeOwned + Into<Action>,
{
    serde_path_to_error::deserialize::<_, T>(members).map(Into::into)
}

/// Reads one step from its JSON value. Problems carry pointers relative to the step (`""` is the
/// step object itself, `/txt` a member).
pub(crate) fn step_from_value(value: &Value) -> Result<Step, Problem> {
    let Value::Object(object) = value else {
        return Err(Problem::new("", "a step must be an object")
            .hint(r##"write e.g. {"action": "click", "selector": "#search"}"##));
    };
    let valid_actions = Action::NAMES.join(", ");
    let name = match object.get("action") {
        None => {
            return Err(Problem::new("", "missing field `action`")
                .hint(format!("valid actions: {valid_actions}")));
        }
        Some(Value::String(name)) => name.as_str(),
        Some(_) => {
            return Err(Problem::new("/action", "`action` must be a string")
                .hint(format!("valid actions: {valid_actions}")));
        }
    };
    let Some(fields) = action_fields(name) else {
        let mut hint = format!("valid actions: {valid_actions}");
        if let Some(s) = did_you_mean(name, Action::NAMES) {
            hint = format!("{hint}; {s}");
        }
        return Err(Problem::new("/action", format!("unknown action `{name}`")).hint(hint));
    };
    for key in object.keys() {
        if key != "action" && !fields.contains(&key.as_str()) {
            let mut hint = format!("valid fields: {}", fields.join(", "));
            if let Some(s) = did_you_mean(key, fields.iter().copied()) {
                hint = format!("{hint}; {s}");
            }
            return Err(Problem::new(
                format!("/{}", pointer_token(key)),
                format!("unknown field `{key}`"),
            )
            .at_key()
            .hint(hint));
        }
    }

    let (mut common, mut own) = (Map::new(), Map::new());
    for (key, v) in object {
        if COMMON_FIELDS.contains(&key.as_str()) {
            common.insert(key.clone(), v.clone());
        } else if key != "action" {
            own.insert(key.clone(), v.clone());
        }
    }
    let fields_hint = || format!("fields of `{name}`: {}", fields.join(", "));
    let serde_problem = |e: serde_path_to_error::Error<serde_json::Error>| {
        let pointer = path_to_pointer(e.path());
        let p = Problem::new(pointer, e.inner().to_string());
        if e.inner().to_string().starts_with("missing field") {
            p.hint(fields_hint())
        } else {
            p
        }
    };
    let common: Common =
        serde_path_to_error::deserialize(&Value::Object(common)).map_err(serde_problem)?;
    let action = with_raw!(name, build(&Value::Object(own)))
        .ok_or_else(|| Problem::new("/action", format!("unknown action `{name}`")))?
        .map_err(serde_problem)?;
    Ok(Step {
        label: common.label,
        timeout_ms: common.timeout_ms,
        action,
    })
}

/// A serde_path_to_error path as a JSON pointer (`steps[3].text` → `/steps/3/text`).
pub(crate) fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&pointer_token(key));
            }
            Segment::Enum { .. } => {}
            Segment::Unknown => break,
        }
    }
    out
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        step_from_value(&value).map_err(|p| {
            let mut msg = p.message;
            if let Some(h) = p.hint {
                msg = format!("{msg}; {h}");
            }
            de::Error::custom(msg)
        })
    }
}

/// The field names a derived `Deserialize` struct accepts, asked from the derive itself: it passes
/// them to `deserialize_struct`, which this probe records and then refuses.
pub(crate) fn struct_fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields
}

struct FieldProbe<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("field probe"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_action_name_has_a_table_entry() {
        for name in Action::NAMES {
            let fields = action_fields(name).unwrap();
            assert!(fields.ends_with(&COMMON_FIELDS), "{name}: {fields:?}");
        }
        assert_eq!(action_fields("navigate"), None);
    }

    #[test]
    fn field_lists_come_from_the_derive() {
        assert_eq!(
            action_fields("type").unwrap(),
            ["selector", "text", "search", "clear", "label", "timeout_ms"]
        );
        assert_eq!(
            action_fields("wait").unwrap(),
            [
                "selector",
                "url",
                "network_idle",
                "ms",
                "label",
                "timeout_ms"
            ]
        );
    }

    #[test]
    fn a_full_step_round_trips_through_serialize() {
        let step = Step {
            label: Some("Search".into()),
            timeout_ms: Some(5000),
            action: Action::Type {
                selector: "#q".into(),
                text: "{{identity.term}}".into(),
                search: Some(true),
                clear: true,
            },
        };
        let value = serde_json::to_value(&step).unwrap();
        assert_eq!(step_from_value(&value).unwrap(), step);
        let back: Step = serde_json::from_value(value).unwrap();
        assert_eq!(back, step);
    }

    #[test]
    fn defaults_apply() {
        let step = step_from_value(&json!({"action": "check", "selector": "#c"})).unwrap();
        assert_eq!(
            step.action,
            Action::Check {
                selector: "#c".into(),
                checked: true
            }
        );
        assert_eq!(step.label, None);
        let step = step_from_value(&json!({"action": "screenshot"})).unwrap();
        assert_eq!(
            step.action,
            Action::Screenshot {
                name: None,
                full_page: false
            }
        );
    }

    #[test]
    fn every_action_parses() {
        let cases = [
            json!({"action": "goto", "url": "/a"}),
            json!({"action": "click", "selector": "#a"}),
            json!({"action": "type", "selector": "#a", "text": "x"}),
            json!({"action": "press", "key": "Enter"}),
            json!({"action": "select", "selector": "#a", "value": "v"}),
            json!({"action": "check", "selector": "#a", "checked": false}),
            json!({"action": "scroll", "y": -200}),
            json!({"action": "wait", "ms": 10}),
            json!({"action": "submit"}),
            json!({"action": "screenshot", "name": "n", "full_page": true}),
        ];
        for (case, name) in cases.iter().zip(Action::NAMES) {
            assert_eq!(step_from_value(case).unwrap().action.name(), name);
        }
    }

    #[test]
    fn unknown_field_points_at_the_key_and_lists_fields() {
        let p =
            step_from_value(&json!({"action": "type", "selector": "#q", "txt": "x"})).unwrap_err();
        assert_eq!(p.pointer, "/txt");
        assert!(p.at_key);
        assert_eq!(p.message, "unknown field `txt`");
        assert_eq!(
            p.hint.as_deref(),
            Some("valid fields: selector, text, search, clear, label, timeout_ms; did you mean `text`?")
        );
    }

    #[test]
    fn fields_of_another_action_are_unknown() {
        let p = step_from_value(&json!({"action": "click", "selector": "#a", "text": "x"}))
            .unwrap_err();
        assert_eq!(p.message, "unknown field `text`");
    }

    #[test]
    fn unknown_action_suggests() {
        let p = step_from_value(&json!({"action": "tpye"})).unwrap_err();
        assert_eq!(p.pointer, "/action");
        assert_eq!(p.message, "unknown action `tpye`");
        let hint = p.hint.unwrap();
        assert!(
            hint.starts_with("valid actions: goto, click, type, press"),
            "{hint}"
        );
        assert!(hint.ends_with("did you mean `type`?"), "{hint}");
    }

    #[test]
    fn missing_action_and_non_object() {
        let p = step_from_value(&json!({"selector": "#a"})).unwrap_err();
        assert_eq!(
            (p.pointer.as_str(), p.message.as_str()),
            ("", "missing field `action`")
        );
        let p = step_from_value(&json!({"action": 3})).unwrap_err();
        assert_eq!(p.pointer, "/action");
        let p = step_from_value(&json!("click")).unwrap_err();
        assert_eq!(p.message, "a step must be an object");
    }

    #[test]
    fn missing_field_lists_fields() {
        let p = step_from_value(&json!({"action": "type", "selector": "#q"})).unwrap_err();
        assert_eq!(p.pointer, "");
        assert_eq!(p.message, "missing field `text`");
        assert_eq!(
            p.hint.as_deref(),
            Some("fields of `type`: selector, text, search, clear, label, timeout_ms")
        );
    }

    #[test]
    fn wrong_types_point_at_the_value() {
        let p =
            step_from_value(&json!({"action": "type", "selector": "#q", "text": 5})).unwrap_err();
        assert_eq!(p.pointer, "/text");
        assert!(
            p.message.starts_with("invalid type: integer `5`"),
            "{}",
            p.message
        );
        let p =
            step_from_value(&json!({"action": "wait", "ms": 5, "timeout_ms": "1"})).unwrap_err();
        assert_eq!(p.pointer, "/timeout_ms");
        let p = step_from_value(&json!({"action": "wait", "ms": -5})).unwrap_err();
        assert_eq!(p.pointer, "/ms");
    }

    #[test]
    fn generic_deserialize_is_strict_too() {
        let err = serde_json::from_str::<Step>(r#"{"action": "click", "selector": "a", "x": 1}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"), "{err}");
    }
}
