//! Cheap sniffers and decoders for the encodings trackers wrap values in.
//!
//! Each decoder first checks, in a few byte comparisons, whether its input looks like its format,
//! so that plain values (the vast majority) cost nothing beyond the search itself.

use std::io::Read;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use flate2::{Decompress, FlushDecompress, Status};

/// Decompressed payloads larger than this are cut: enough for any beacon, and a zip bomb stays small.
const MAX_INFLATED: usize = 8 * 1024 * 1024;
/// Shortest value tried as base64 or hex.
const MIN_ENCODED_LEN: usize = 12;

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const B64: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const B64URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// True when `data` has a `%XX` escape or a `+` (form encoding of a space).
pub fn looks_percent(data: &[u8]) -> bool {
    memchr::memchr(b'+', data).is_some()
        || memchr::memchr_iter(b'%', data).any(|i| {
            data.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && data.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        })
}

/// Form-style decoding: `%XX` escapes and `+` as space.
pub fn percent_decode(data: &[u8]) -> Vec<u8> {
    let plus: Vec<u8> = data
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&plus).collect()
}

/// Decodes `%XX` only, keeping `+` (for values that are base64 with `+` in them).
pub fn percent_decode_keep_plus(data: &[u8]) -> Vec<u8> {
    percent_encoding::percent_decode(data).collect()
}

/// Base64 or base64url of at least [`MIN_ENCODED_LEN`] characters that is not a plain hex string
/// or word. Returns the decoded bytes.
pub fn try_base64(data: &[u8]) -> Option<Vec<u8>> {
    let t = data.trim_ascii();
    if t.len() < MIN_ENCODED_LEN {
        return None;
    }
    let body = t
        .strip_suffix(b"==")
        .or_else(|| t.strip_suffix(b"="))
        .unwrap_or(t);
    // Random ids are base64-alphabet too: decode the first 8 characters and go on only when they
    // start like text or a compressed stream.
    let head = body.get(..8)?;
    // Decoded on the stack: this check runs on nearly every value.
    let mut head_buf = [0u8; 8];
    let n = B64
        .decode_slice(head, &mut head_buf)
        .or_else(|_| B64URL.decode_slice(head, &mut head_buf))
        .ok()?;
    let head = &head_buf[..n];
    if !((head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace() || *b >= 0x80)
        && utf8_so_far(head))
        || sniff_compressed(head).is_some())
    {
        return None;
    }
    // One table lookup per byte, OR-ed together (no branch per byte).
    let classes = body
        .iter()
        .fold(0u8, |acc, &b| acc | B64_CLASS[usize::from(b)]);
    let url = classes & C_URL != 0;
    let std = classes & C_STD != 0;
    let all_hex = classes & (C_UPPER_OTHER | C_LOWER_OTHER | C_URL | C_STD) == 0;
    let has_digit_or_upper = classes & (C_UPPER_HEX | C_UPPER_OTHER | C_DIGIT) != 0;
    if classes & C_INVALID != 0
        || all_hex
        || !has_digit_or_upper
        || (url && std)
        || body.len() % 4 == 1
    {
        return None;
    }
    let engine = if url { &B64URL } else { &B64 };
    engine.decode(body).ok()
}

/// Byte classes for the base64 candidate check in [`try_base64`].
const C_UPPER_HEX: u8 = 1;
const C_UPPER_OTHER: u8 = 2;
const C_DIGIT: u8 = 4;
const C_LOWER_HEX: u8 = 8;
const C_LOWER_OTHER: u8 = 16;
const C_URL: u8 = 32;
const C_STD: u8 = 64;
const C_INVALID: u8 = 128;

static B64_CLASS: [u8; 256] = {
    let mut t = [C_INVALID; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'A'..=b'F' => C_UPPER_HEX,
            b'G'..=b'Z' => C_UPPER_OTHER,
            b'0'..=b'9' => C_DIGIT,
            b'a'..=b'f' => C_LOWER_HEX,
            b'g'..=b'z' => C_LOWER_OTHER,
            b'-' | b'_' => C_URL,
            b'+' | b'/' => C_STD,
            _ => C_INVALID,
        };
        b += 1;
    }
    t
};

/// The value of one hex digit.
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// An even-length hex string of at least [`MIN_ENCODED_LEN`] characters.
pub fn try_hex(data: &[u8]) -> Option<Vec<u8>> {
    let t = data.trim_ascii();
    if t.len() < MIN_ENCODED_LEN || t.len() & 1 == 1 {
        return None;
    }
    // Random ids and hashes are hex too: only decode when the first bytes are printable text
    // (decoded on the stack: this check runs on nearly every value).
    let mut head = [0u8; 4];
    for (out, pair) in head.iter_mut().zip(t[..8].chunks_exact(2)) {
        *out = hex_val(pair[0])? << 4 | hex_val(pair[1])?;
    }
    if !(head
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ' || *b >= 0x80)
        && utf8_so_far(&head))
    {
        return None;
    }
    hex::decode(t).ok()
}

/// False when `head` already holds an invalid UTF-8 sequence (a cut-off one at its end is fine).
///
/// Random ids decode to such bytes most of the time. Values of at least [`MIN_ENCODED_LEN`]
/// characters decode to at least 6 (hex) or 7 (base64) bytes, so an invalid sequence within the
/// first 4 or 6 bytes means [`is_textual`] would reject the whole result anyway: checking the head
/// saves decoding it.
fn utf8_so_far(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// Mostly printable text (what a decoded layer must look like to be worth searching).
pub fn is_textual(data: &[u8]) -> bool {
    if data.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(data) {
        Ok(t) => t,
        Err(e) if e.valid_up_to() > data.len() * 9 / 10 => {
            // A cut-off multi-byte character at the end is fine.
            return std::str::from_utf8(&data[..e.valid_up_to()]).is_ok_and(textual_chars);
        }
        Err(_) => return false,
    };
    textual_chars(text)
}

fn textual_chars(text: &str) -> bool {
    let total = text.chars().count().max(1);
    let control = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    control * 20 <= total
}

/// Compression recognised by magic bytes alone: gzip (`1f 8b`) and zlib (a valid 2-byte header).
pub fn sniff_compressed(data: &[u8]) -> Option<&'static str> {
    match data {
        [0x1f, 0x8b, ..] => Some("gzip"),
        [cmf, flg, ..]
            if cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 =>
        {
            Some("zlib")
        }
        _ => None,
    }
}

/// Inflates `data` as `kind` (`gzip`, `zlib`, `deflate`, `br`). `None` when it is not that format.
/// A partial result from a truncated stream is still returned: it is still evidence.
pub fn decompress(data: &[u8], kind: &str) -> Option<Vec<u8>> {
    Inflater::default().inflate(data, kind)
}

/// Reusable inflate state: a deflate decoder's state is ~40 KB that would otherwise be allocated
/// and cleared for every compressed body or value.
pub struct Inflater {
    raw: Decompress,
    zlib: Decompress,
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater {
            raw: Decompress::new(false),
            zlib: Decompress::new(true),
        }
    }
}

impl Inflater {
    /// See [`decompress`].
    pub fn inflate(&mut self, data: &[u8], kind: &str) -> Option<Vec<u8>> {
        match kind {
            "gzip" => inflate_with(&mut self.raw, false, gzip_payload(data)?),
            "zlib" => inflate_with(&mut self.zlib, true, data),
            "deflate" => inflate_with(&mut self.raw, false, data),
            "br" => {
                let mut out = Vec::new();
                let ok = brotli::Decompressor::new(data, 4096)
                    .take(MAX_INFLATED as u64)
                    .read_to_end(&mut out)
                    .is_ok();
                (ok || !out.is_empty()).then_some(out)
            }
            _ => None,
        }
    }
}

/// Runs `d` (reset first) over `input`, up to [`MAX_INFLATED`] bytes of output.
fn inflate_with(d: &mut Decompress, zlib_header: bool, input: &[u8]) -> Option<Vec<u8>> {
    d.reset(zlib_header);
    let mut out: Vec<u8> = Vec::with_capacity((input.len() * 4).clamp(256, MAX_INFLATED));
    loop {
        let consumed = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or_default();
        let produced = out.len();
        match d.decompress_vec(rest, &mut out, FlushDecompress::None) {
            Ok(Status::StreamEnd) => return Some(out),
            Ok(_) if out.len() >= MAX_INFLATED => return Some(out),
            Ok(_) if out.len() == out.capacity() => {
                let grow = out.len().min(MAX_INFLATED - out.len());
                out.reserve(grow);
            }
            // No room problem and no progress: the input ended early (a truncated body).
            Ok(_) if out.len() == produced && d.total_in() as usize == consumed => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The deflate stream inside a gzip member (RFC 1952 header skipped); `None` if not gzip.
fn gzip_payload(data: &[u8]) -> Option<&[u8]> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    let [0x1f, 0x8b, 8, flags, ..] = *data else {
        return None;
    };
    let mut rest = data.get(10..)?;
    if flags & FEXTRA != 0 {
        let len = usize::from(u16::from_le_bytes([*rest.first()?, *rest.get(1)?]));
        rest = rest.get(2 + len..)?;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let end = memchr::memchr(0, rest)?;
            rest = &rest[end + 1..];
        }
    }
    if flags & FHCRC != 0 {
        rest = rest.get(2..)?;
    }
    Some(rest)
}

/// Decodes HTML character references when there are any.
pub fn try_html_entities(data: &[u8]) -> Option<Vec<u8>> {
    let amp = memchr::memchr(b'&', data)?;
    memchr::memchr(b';', &data[amp..])?;
    let text = std::str::from_utf8(data).ok()?;
    let decoded = html_escape::decode_html_entities(text);
    (decoded != text).then(|| decoded.into_owned().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn percent() {
        assert!(looks_percent(b"a%2Fb"));
        assert!(looks_percent(b"a+b"));
        assert!(!looks_percent(b"100%"));
        assert_eq!(percent_decode(b"chest+pain%21"), b"chest pain!");
        assert_eq!(percent_decode_keep_plus(b"a+b%3D"), b"a+b=");
    }

    #[test]
    fn base64_sniffing() {
        let enc = base64::engine::general_purpose::STANDARD.encode(b"{\"url\":\"/symptoms\"}");
        assert_eq!(
            try_base64(enc.as_bytes()).unwrap(),
            b"{\"url\":\"/symptoms\"}"
        );
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"<<???>> and more");
        assert!(url.contains('_') || url.contains('-'));
        assert_eq!(try_base64(url.as_bytes()).unwrap(), b"<<???>> and more");
        // Random binary (ids, nonces) is not worth decoding.
        let noise = base64::engine::general_purpose::STANDARD
            .encode([0xfb, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7]);
        assert!(try_base64(noise.as_bytes()).is_none());
        // Hex hashes and plain words are not base64 candidates.
        assert!(try_base64(b"d41d8cd98f00b204e9800998ecf8427e").is_none());
        assert!(try_base64(b"pageviewevent").is_none());
        assert!(try_base64(b"has space in it").is_none());
    }

    #[test]
    fn hex_and_text() {
        assert_eq!(try_hex(b"2f73796d70746f6d73").unwrap(), b"/symptoms");
        assert!(try_hex(b"abc").is_none());
        assert!(is_textual(b"hello world"));
        assert!(!is_textual(&[0, 1, 2, 3, 4, 5, 0x80]));
    }

    #[test]
    fn compression() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"hello gzip").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(sniff_compressed(&gz), Some("gzip"));
        assert_eq!(decompress(&gz, "gzip").unwrap(), b"hello gzip");
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"hello zlib").unwrap();
        let z = z.finish().unwrap();
        assert_eq!(sniff_compressed(&z), Some("zlib"));
        assert_eq!(decompress(&z, "zlib").unwrap(), b"hello zlib");
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(b"hello brotli").unwrap();
        }
        assert_eq!(decompress(&br, "br").unwrap(), b"hello brotli");
        assert_eq!(sniff_compressed(b"{\"a\":1}"), None);
        assert!(decompress(b"not gzip", "gzip").is_none());
    }

    #[test]
    fn inflater_is_reusable_and_handles_headers_large_and_truncated_streams() {
        let mut inflater = Inflater::default();
        // A gzip header with a file name and a comment (what `gzip` and some SDKs write).
        let gz = flate2::GzBuilder::new()
            .filename("beacon.json")
            .comment("x")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), flate2::Compression::default());
        let mut gz = gz;
        gz.write_all(b"named member").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(inflater.inflate(&gz, "gzip").unwrap(), b"named member");
        // Output far larger than the first guess at its size.
        let big: Vec<u8> = b"chest pain ".repeat(200_000);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&big).unwrap();
        let z = z.finish().unwrap();
        assert_eq!(inflater.inflate(&z, "zlib").unwrap(), big);
        // A cut-off stream still gives what it has, and the state is clean for the next one.
        let cut = &z[..z.len() / 2];
        let partial = inflater.inflate(cut, "zlib").unwrap();
        assert!(!partial.is_empty() && big.starts_with(&partial));
        assert_eq!(inflater.inflate(&gz, "gzip").unwrap(), b"named member");
        // A zip bomb stops at the cap.
        let zeros = vec![0u8; MAX_INFLATED + 1_000_000];
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&zeros).unwrap();
        let z = z.finish().unwrap();
        let out = inflater.inflate(&z, "deflate").unwrap();
        assert!(
            out.len() >= MAX_INFLATED && out.len() < zeros.len(),
            "{}",
            out.len()
        );
    }

    #[test]
    fn html() {
        assert_eq!(
            try_html_entities(b"Chest pain &ndash; Mercy &amp; Co").unwrap(),
            "Chest pain – Mercy & Co".as_bytes()
        );
        assert!(try_html_entities(b"a & b").is_none());
    }
}
