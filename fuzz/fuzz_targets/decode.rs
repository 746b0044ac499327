//! The decoders the classifier peels layers with: URL, base64 variants, hex, HTML entities,
//! gzip/zlib/deflate/brotli. Any bytes in, a value or nothing out, never a panic.
#![no_main]
use leakhound_core::classify::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode::looks_percent(data);
    let _ = decode::percent_decode(data);
    let _ = decode::percent_decode_keep_plus(data);
    let _ = decode::try_base64(data);
    let _ = decode::try_hex(data);
    let _ = decode::is_textual(data);
    let _ = decode::try_html_entities(data);
    if let Some(kind) = decode::sniff_compressed(data) {
        let _ = decode::decompress(data, kind);
    }
    for kind in ["gzip", "zlib", "deflate", "br"] {
        let _ = decode::decompress(data, kind);
    }
});
