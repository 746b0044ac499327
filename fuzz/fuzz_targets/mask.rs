//! Secret masking on arbitrary records and secrets: the masked record is still valid JSON of the
//! same shape (masking never touches leakhound's own fields), and masking never panics.
#![no_main]
use leakhound_core::secret::SecretMask;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // First line: the secret; the rest: a record.
    let (secret, record) = text.split_once('\n').unwrap_or((text, "{}"));
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(record) else {
        return;
    };
    let kind_before = value.get("type").cloned();
    let mask = SecretMask::new([("password", secret)]);
    mask.apply_to_value(&mut value);
    assert_eq!(value.get("type").cloned(), kind_before, "masking changed the record type");
    let line = value.to_string();
    assert!(serde_json::from_str::<serde_json::Value>(&line).is_ok());
});
