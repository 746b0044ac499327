//! Domain-to-company lists the user supplies, so third parties without a signature still get an owner.
//!
//! None of these lists may be shipped with leakhound (their licences are non-commercial); the user
//! points at a copy they obtained themselves. Three formats are recognised by their shape:
//!
//! * Ghostery TrackerDB: `{"organizations": {id: {"name"}}, "patterns": {id: {"name", "organization",
//!   "category", "domains": [..]}}}`
//! * DuckDuckGo Tracker Radar entity map: `{"Company": {"displayName", "properties": [..],
//!   "resources": [..]}}`
//! * Disconnect `entities.json`: `{"entities": {"Company": {"properties": [..], "resources": [..]}}}`

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::party::registrable_domain;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntityError {
    #[error("cannot read entity list {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("entity list {path} is not JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "entity list {path}: unrecognised format (expected Ghostery TrackerDB, DuckDuckGo entity map \
         or Disconnect entities.json)"
    )]
    Format { path: PathBuf },
}

/// Which list a map was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityFormat {
    Ghostery,
    DuckDuckGo,
    Disconnect,
}

/// The owner of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub company: String,
    /// Tracker category when the list has one (Ghostery).
    pub category: Option<String>,
}

/// Registrable domain → owner.
#[derive(Debug, Clone, Default)]
pub struct EntityMap {
    owners: HashMap<String, Owner>,
    format: Option<EntityFormat>,
}

impl EntityMap {
    /// Reads a list and detects its format.
    pub fn load(path: &Path) -> Result<EntityMap, EntityError> {
        let bytes = std::fs::read(path).map_err(|source| EntityError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|source| EntityError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        EntityMap::from_value(&value).ok_or_else(|| EntityError::Format {
            path: path.to_path_buf(),
        })
    }

    /// Builds a map from parsed JSON; `None` when the shape is none of the three.
    pub fn from_value(value: &Value) -> Option<EntityMap> {
        let obj = value.as_object()?;
        let mut map = EntityMap::default();
        if let (Some(orgs), Some(patterns)) = (
            obj.get("organizations").and_then(Value::as_object),
            obj.get("patterns").and_then(Value::as_object),
        ) {
            map.format = Some(EntityFormat::Ghostery);
            for (id, pattern) in patterns {
                let org_id = pattern.get("organization").and_then(Value::as_str);
                let company = org_id
                    .and_then(|o| orgs.get(o))
                    .and_then(|o| o.get("name"))
                    .and_then(Value::as_str)
                    .or_else(|| pattern.get("name").and_then(Value::as_str))
                    .unwrap_or(id);
                let category = pattern
                    .get("category")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                for d in strings(pattern.get("domains")) {
                    map.insert(d, company, category.clone());
                }
            }
            return Some(map);
        }
        if let Some(entities) = obj.get("entities").and_then(Value::as_object) {
            map.format = Some(EntityFormat::Disconnect);
            for (company, e) in entities {
                for d in strings(e.get("properties")).chain(strings(e.get("resources"))) {
                    map.insert(d, company, None);
                }
            }
            return Some(map);
        }
        let looks_ddg = !obj.is_empty()
            && obj.values().all(|v| {
                v.get("properties").is_some_and(Value::is_array)
                    || v.get("resources").is_some_and(Value::is_array)
            });
        if looks_ddg {
            map.format = Some(EntityFormat::DuckDuckGo);
            for (company, e) in obj {
                let name = e
                    .get("displayName")
                    .and_then(Value::as_str)
                    .unwrap_or(company);
                for d in strings(e.get("properties")).chain(strings(e.get("resources"))) {
                    map.insert(d, name, None);
                }
            }
            return Some(map);
        }
        None
    }

    fn insert(&mut self, domain: &str, company: &str, category: Option<String>) {
        let domain = registrable_domain(domain);
        self.owners.entry(domain).or_insert_with(|| Owner {
            company: company.to_string(),
            category,
        });
    }

    pub fn format(&self) -> Option<EntityFormat> {
        self.format
    }

    pub fn len(&self) -> usize {
        self.owners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// The owner of a host's registrable domain.
    pub fn owner(&self, host: &str) -> Option<&Owner> {
        self.owners.get(&registrable_domain(host))
    }
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Small made-up samples of each format (not copied from the real lists).
    const GHOSTERY: &str = r#"{
        "categories": {"advertising": {"name": "Advertising"}},
        "organizations": {"widgetco": {"name": "WidgetCo Ltd", "country": "XX"}},
        "patterns": {
            "widget_pixel": {"name": "Widget Pixel", "category": "advertising",
                             "organization": "widgetco", "domains": ["widgetpix.test", "cdn.widgetpix.test"]},
            "lonely": {"name": "Lonely Stats", "category": "site_analytics", "domains": ["lonely.test"]}
        }
    }"#;
    const DDG: &str = r#"{
        "Sprocket Media Inc.": {"displayName": "Sprocket", "properties": ["sprocket.test"],
                                "resources": ["sprocket-ads.test"]},
        "Gadget Labs": {"properties": [], "resources": ["gadgetlabs.test"]}
    }"#;
    const DISCONNECT: &str = r#"{
        "license": "made up for tests",
        "entities": {
            "Cogwheel": {"properties": ["cogwheel.test"], "resources": ["cogtrack.test"]}
        }
    }"#;

    fn load(text: &str) -> EntityMap {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.json");
        std::fs::write(&path, text).unwrap();
        EntityMap::load(&path).unwrap()
    }

    #[test]
    fn ghostery() {
        let m = load(GHOSTERY);
        assert_eq!(m.format(), Some(EntityFormat::Ghostery));
        let o = m.owner("px.widgetpix.test").unwrap();
        assert_eq!(o.company, "WidgetCo Ltd");
        assert_eq!(o.category.as_deref(), Some("advertising"));
        assert_eq!(m.owner("lonely.test").unwrap().company, "Lonely Stats");
    }

    #[test]
    fn duckduckgo() {
        let m = load(DDG);
        assert_eq!(m.format(), Some(EntityFormat::DuckDuckGo));
        assert_eq!(m.owner("a.sprocket-ads.test").unwrap().company, "Sprocket");
        assert_eq!(m.owner("gadgetlabs.test").unwrap().company, "Gadget Labs");
        assert!(m.owner("other.test").is_none());
    }

    #[test]
    fn disconnect() {
        let m = load(DISCONNECT);
        assert_eq!(m.format(), Some(EntityFormat::Disconnect));
        assert_eq!(m.owner("x.cogtrack.test").unwrap().company, "Cogwheel");
    }

    #[test]
    fn unknown_format_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, r#"{"hello": "world"}"#).unwrap();
        let err = EntityMap::load(&path).unwrap_err().to_string();
        assert!(err.contains("unrecognised"), "{err}");
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            EntityMap::load(&path),
            Err(EntityError::Json { .. })
        ));
    }
}
