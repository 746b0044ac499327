//! The capture reader and the classifier on an arbitrary capture file (any bytes, any records,
//! any requests): a report or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if std::io::Write::write_all(&mut file, data).is_err() {
        return;
    }
    let opts = leakhound_core::classify::ClassifyOptions::default();
    let _ = leakhound_core::classify::analyze_capture(file.path(), &opts);
});
