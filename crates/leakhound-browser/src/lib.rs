//! leakhound's browser side: find, launch and supervise Chromium, talk DevTools to it, drive a
//! journey's steps and record every request into a capture file.
//!
//! - [`locate`] finds the Chromium binary; [`launch`] starts it in its own process group with a
//!   throw-away profile and makes sure it never outlives leakhound; [`interrupt`] turns Ctrl-C and
//!   SIGTERM into an orderly, reported end;
//! - [`cdp`] is the raw DevTools connection the recorder listens on;
//! - [`recorder`] turns DevTools events from every target into capture records; [`offline`] decides
//!   what happens to requests in offline mode;
//! - [`driver`] performs one step on a page; [`journey`] runs a whole scenario.
//!
//! The capture format, the scenario model and everything after capture live in `leakhound-core`.

#![warn(unreachable_pub)]

// The capture format and the scenario model, from the core crate, under the names the modules
// here use for them.
use leakhound_core::{capture, scenario};

pub mod cdp;
pub mod driver;
pub mod interrupt;
pub mod journey;
pub mod launch;
pub mod locate;
pub mod offline;
pub mod recorder;
