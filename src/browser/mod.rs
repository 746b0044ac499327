//! Stage 2: find, launch and supervise Chromium, and drive a journey's steps in it.

pub mod driver;
pub mod interrupt;
pub mod journey;
pub mod launch;
pub mod locate;
