//! leakhound: replay patient journeys in real Chromium and show which third parties received
//! health data.
//!
//! This crate is the thin top of a workspace laid out along the pipeline
//! (scenario → browser driver → capture → classify → report/policy):
//!
//! - `leakhound-core`: the capture format, scenarios, the classifier, policy and reports; no async
//!   runtime, no browser, no network;
//! - `leakhound-browser`: Chromium, the DevTools connection, the journey driver and the recorder;
//! - `leakhound-serve`: the loopback multi-host site server the demo and the tests use;
//! - here: [`pipeline`] (one journey, or one HAR, from input to written reports) and [`demo`] (the
//!   bundled demo hospital). The `leakhound` binary's command line sits on top of these.

pub mod demo;
pub mod pipeline;
