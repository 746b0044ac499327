//! Stage 3: record every request the page sends, from every target, into a capture file.
//!
//! [`record`] is the file format (the classifier's input); [`recorder`] turns raw DevTools events into
//! records; [`cdp`] is the raw protocol connection it listens on; [`offline`] decides what happens to
//! requests in offline mode; [`writer`] writes the file incrementally with secrets masked.

pub mod cdp;
pub mod har;
pub mod offline;
pub mod record;
pub mod recorder;
pub mod writer;
