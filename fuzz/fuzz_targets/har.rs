//! HAR import on an arbitrary file, both ways it is read: whole (`read_har`) and streamed entry by
//! entry (`har_head` + `for_each_entry`). Records or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if std::io::Write::write_all(&mut file, data).is_err() {
        return;
    }
    let path = file.path();
    let _ = leakhound_core::capture::har::read_har(path, Default::default());
    if leakhound_core::capture::har::har_head(path).is_ok() {
        let _ = leakhound_core::capture::har::for_each_entry(path, |_| {});
    }
});
