//! The capture format: what every later stage stands on.
//!
//! [`record`] is the file format (one JSON record per line: header, requests, WebSocket frames, steps,
//! end); [`writer`] writes it incrementally with secrets masked; [`har`] reads HAR files from any
//! browser's DevTools (and writes one from a capture). The recorder that fills a capture from a live
//! browser lives in `leakhound-browser`.

pub mod har;
pub mod reader;
pub mod record;
pub mod writer;
