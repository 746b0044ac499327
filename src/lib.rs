//! leakhound: replay patient journeys in real Chromium and show which third parties received
//! health data.
//!
//! The crate is a pipeline, one module per stage:
//!
//! 1. [`scenario`]: parse and validate a journey file.
//! 2. [`browser`]: find, launch and supervise Chromium; drive the journey's steps.
//! 3. [`capture`]: record every request from every target into a capture file.
//! 4. [`classify`]: pure; find which third party received which user data.
//! 5. [`report`]: JSON, HTML, SARIF, JUnit, HAR and terminal outputs, policy and diff.
//!
//! [`serve`] is the local site server used by `leakhound demo` and by the tests; [`demo`] is the
//! bundled demo hospital.

pub mod browser;
pub mod capture;
pub mod classify;
pub mod demo;
pub mod pipeline;
pub mod report;
pub mod scenario;
pub mod serve;
