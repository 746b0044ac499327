//! The identity-file parser (JSON with comments) on arbitrary text: errors, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if std::io::Write::write_all(&mut file, data).is_err() {
        return;
    }
    if let Ok(identity) = leakhound_core::scenario::IdentityFile::load(file.path()) {
        let _ = identity.journey();
        let _ = identity.typed_records();
    }
});
