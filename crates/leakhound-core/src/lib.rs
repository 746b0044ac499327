//! leakhound's core: everything that does not need a browser.
//!
//! The pipeline's stages that are pure data in, data out live here, in the order they depend on
//! each other:
//!
//! - [`capture`]: the capture file format every other stage reads (and HAR import/export);
//! - [`scenario`]: parse and validate a journey file (with file, line, column and step for errors);
//! - [`classify`]: pure; captured requests in, findings out: which third party received which
//!   user data, in which encoding;
//! - [`report`]: policy, JSON, HTML, SARIF, JUnit, HAR and terminal outputs, and diffs.
//!
//! No async runtime, no browser and no network crates are used here, so `cargo test -p
//! leakhound-core` runs anywhere in seconds. Driving Chromium and recording into a capture is
//! `leakhound-browser`'s job; the CLI and the glue are the `leakhound` crate.

#![warn(unreachable_pub)]

pub mod capture;
pub mod classify;
pub mod report;
pub mod scenario;
pub mod secret;
