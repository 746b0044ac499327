//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod npm;

use std::path::Path;

use leakhound_browser::driver::RenderedText;
use leakhound_browser::journey::{run_journey, RunOptions, RunOutcome};
use leakhound_browser::offline::HostRule;
use leakhound_core::capture::record::{JourneyInfo, Record};
use leakhound_core::scenario::model::Scenario;
use leakhound_serve::SiteServer;

/// A scenario from a start URL and a JSON list of steps.
pub fn scenario(start_url: &str, steps: serde_json::Value) -> Scenario {
    serde_json::from_value(serde_json::json!({
        "name": "test journey",
        "start_url": start_url,
        "steps": steps,
        "leave": {"url": "about:blank", "grace_ms": 1500},
    }))
    .expect("valid scenario")
}

/// Runs `scenario` offline with every `.test` host (and its subdomains) mapped to `server`.
pub async fn run_offline(scenario: &Scenario, server: &SiteServer, capture: &Path) -> RunOutcome {
    run_offline_with(scenario, server, capture, |_| {}).await
}

/// [`run_offline`] with options adjusted by `adjust`.
pub async fn run_offline_with(
    scenario: &Scenario,
    server: &SiteServer,
    capture: &Path,
    adjust: impl FnOnce(&mut RunOptions),
) -> RunOutcome {
    let mut opts = RunOptions::new(capture.to_path_buf());
    opts.offline = true;
    opts.map = vec![HostRule::parse(&format!("*.test={}", server.addr())).expect("rule")];
    adjust(&mut opts);
    let render = |t: &str| {
        Ok(RenderedText {
            text: t.to_string(),
            canary_key: None,
            secret: false,
        })
    };
    let journey = JourneyInfo {
        name: scenario.name.clone(),
        start_url: scenario.start_url.clone(),
        ..Default::default()
    };
    run_journey(
        scenario,
        journey,
        &Default::default(),
        &render,
        &opts,
        &|_, _, _| {},
    )
    .await
    .expect("run")
}

/// Reads every record of a capture file.
pub fn read_capture(path: &Path) -> Vec<Record> {
    std::fs::read_to_string(path)
        .expect("capture file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid record"))
        .collect()
}
