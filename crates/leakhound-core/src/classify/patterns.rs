//! Personal data found by its shape, without a canary: e-mail addresses, US phone numbers, SSNs,
//! payment card numbers, and hashes in the parameters a signature says carry hashed identifiers.
//!
//! Security teams analyse HARs of sessions whose test data nobody declared. These detectors give
//! them findings anyway, labelled `pattern` so a reader knows the value was recognised by its
//! form, not matched against a known canary. Each detector errs towards silence: random ids,
//! UUIDs, timestamps, cache-busters and tracker cookies must never fire, so
//!
//! - phone numbers and SSNs need their separators (`(617) 555-0142`, `078-05-1120`) or a leading
//!   `+1`, and the numbering plan's validity rules (NANP area and exchange codes; SSN area not
//!   000, 666 or 9xx, group not 00, serial not 0000);
//! - card numbers need the Luhn checksum, a known issuer range (IIN) and the issuer's length, and,
//!   written as bare digits, a parameter whose name says card;
//! - e-mail addresses need a real-looking domain (not `icon@2x.png`);
//! - a bare hash only counts in a parameter the vendor's signature names as hashed personal data.

use std::sync::LazyLock;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

/// What a pattern recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    Email,
    Phone,
    Ssn,
    PaymentCard,
    /// A hash in a parameter the signature names as a hashed e-mail, phone, name or other PII.
    HashedIdentifier,
    /// A date in a parameter the signature names as a date of birth.
    DateOfBirth,
    /// An id in a parameter the signature names as a member id.
    MemberId,
}

impl PatternKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PatternKind::Email => "email",
            PatternKind::Phone => "phone",
            PatternKind::Ssn => "ssn",
            PatternKind::PaymentCard => "payment_card",
            PatternKind::HashedIdentifier => "hashed_identifier",
            PatternKind::DateOfBirth => "date_of_birth",
            PatternKind::MemberId => "member_id",
        }
    }

    /// SSNs and card numbers are shown masked (last four digits) in every report.
    pub fn masked(self) -> bool {
        matches!(self, PatternKind::Ssn | PatternKind::PaymentCard)
    }
}

/// One value recognised by its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternMatch {
    pub kind: PatternKind,
    pub start: usize,
    pub end: usize,
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9][a-z0-9._%+\-]{0,63}@[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?)*\.[a-z]{2,24}")
        .expect("static e-mail pattern")
});

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+1[\s.\-]?)?(?:\(([2-9]\d\d)\)\s?|([2-9]\d\d)[\s.\-])([2-9]\d\d)[\s.\-](\d{4})|\+1([2-9]\d\d)([2-9]\d\d)(\d{4})")
        .expect("static phone pattern")
});

static SSN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{3})-(\d{2})-(\d{4})").expect("static SSN pattern"));

static CARD_GROUPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4}(?:[ \-]\d{4}){2}[ \-]\d{1,7}|\d{4}[ \-]\d{6}[ \-]\d{5}")
        .expect("static card pattern")
});

static CARD_BARE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{13,19}").expect("static bare card pattern"));

/// File extensions that look like top-level domains after an `@` (`icon@2x.png`).
const FILE_TLDS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico", "js", "mjs", "css", "json", "map",
    "woff", "woff2", "ttf", "html", "htm", "php", "mp4", "webm",
];

/// Parameter names that say a bare number is a card number.
const CARD_PARAM_WORDS: &[&str] = &["card", "ccnum", "cc_num", "ccnumber", "pan"];

fn glued(data: &[u8], start: usize, end: usize) -> bool {
    let before = start
        .checked_sub(1)
        .and_then(|i| data.get(i))
        .is_some_and(|b| b.is_ascii_alphanumeric());
    let after = data.get(end).is_some_and(|b| b.is_ascii_alphanumeric());
    before || after
}

/// Values shorter than this hold no pattern worth a finding.
const MIN_LEN: usize = 6;

/// Every pattern in `data`, a value of the parameter `param` (its last name segment, lower case
/// or not).
pub fn find(data: &[u8], param: &str, out: &mut Vec<PatternMatch>) {
    find_with(data, param, out, true);
}

/// [`find`], with or without the shape checks that spare the regexes most values.
fn find_with(data: &[u8], param: &str, out: &mut Vec<PatternMatch>, shape_checks: bool) {
    if data.len() < MIN_LEN {
        return;
    }
    if memchr::memchr(b'@', data).is_some() {
        for m in EMAIL.find_iter(data) {
            let text = &data[m.start()..m.end()];
            let tld = text
                .rsplit(|b| *b == b'.')
                .next()
                .map(|t| t.to_ascii_lowercase())
                .unwrap_or_default();
            if FILE_TLDS.iter().any(|f| f.as_bytes() == tld.as_slice()) {
                continue;
            }
            if glued(data, m.start(), m.end()) {
                continue;
            }
            out.push(PatternMatch {
                kind: PatternKind::Email,
                start: m.start(),
                end: m.end(),
            });
        }
    }
    let digits = data.iter().filter(|b| b.is_ascii_digit()).count();
    if digits < 9 {
        return;
    }
    // The patterns below need digit runs around a separator; most values (ids, hex, base64)
    // have none, and the regexes' capture search is the costly part of the whole scan. The
    // shape checks are exact for ASCII; other text (where `\d` and `\s` reach further) always
    // goes through the regexes.
    let ascii = shape_checks && data.is_ascii();
    let phone_seps = |b: u8| b.is_ascii_whitespace() || b == 0x0B || b == b'.' || b == b'-';
    let may_phone = !ascii
        || digits_around(data, phone_seps, 3, 4)
        || memchr::memmem::find(data, b"+1").is_some();
    let may_ssn = !ascii || digits_around(data, |b| b == b'-', 3, 2);
    if may_phone {
        find_phones(data, out);
    }
    if may_ssn {
        find_ssns(data, out);
    }
    if digits < 13 {
        return;
    }
    let may_grouped_card = !ascii || digits_around(data, |b| b == b' ' || b == b'-', 4, 4);
    find_cards(data, param, may_grouped_card, out);
}

/// Whether some separator of `data` (as `is_sep` says) has at least `before` ASCII digits
/// right before it and `after` right after it.
fn digits_around(data: &[u8], is_sep: impl Fn(u8) -> bool, before: usize, after: usize) -> bool {
    let digits = |s: Option<&[u8]>| s.is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    data.iter().enumerate().any(|(i, &b)| {
        is_sep(b)
            && i >= before
            && digits(data.get(i - before..i))
            && digits(data.get(i + 1..i + 1 + after))
    })
}

fn find_phones(data: &[u8], out: &mut Vec<PatternMatch>) {
    for c in PHONE.captures_iter(data) {
        let Some(m) = c.get(0) else { continue };
        if glued(data, m.start(), m.end()) {
            continue;
        }
        // Exchange codes N11 are service codes, and 555-01xx is the fictional range only in part;
        // both area and exchange must start with 2-9 (checked by the pattern).
        let exchange = c.get(3).or_else(|| c.get(6)).map(|g| g.as_bytes());
        if exchange.is_some_and(|e| e.get(1..) == Some(b"11".as_slice())) {
            continue;
        }
        out.push(PatternMatch {
            kind: PatternKind::Phone,
            start: m.start(),
            end: m.end(),
        });
    }
}

fn find_ssns(data: &[u8], out: &mut Vec<PatternMatch>) {
    for c in SSN.captures_iter(data) {
        let (Some(m), Some(area), Some(group), Some(serial)) =
            (c.get(0), c.get(1), c.get(2), c.get(3))
        else {
            continue;
        };
        if glued(data, m.start(), m.end())
            || data.get(m.end()) == Some(&b'-')
            || m.start()
                .checked_sub(1)
                .and_then(|i| data.get(i))
                .is_some_and(|b| *b == b'-')
        {
            continue;
        }
        let area = area.as_bytes();
        if area == b"000" || area == b"666" || area.first() == Some(&b'9') {
            continue;
        }
        if group.as_bytes() == b"00" || serial.as_bytes() == b"0000" {
            continue;
        }
        out.push(PatternMatch {
            kind: PatternKind::Ssn,
            start: m.start(),
            end: m.end(),
        });
    }
}

fn find_cards(data: &[u8], param: &str, may_grouped: bool, out: &mut Vec<PatternMatch>) {
    let card_param = {
        let p = param.to_ascii_lowercase();
        CARD_PARAM_WORDS.iter().any(|w| p.contains(w))
    };
    let grouped = CARD_GROUPED
        .find_iter(if may_grouped { data } else { &[] })
        .map(|m| (m.start(), m.end()));
    let bare: Vec<(usize, usize)> = if card_param {
        CARD_BARE
            .find_iter(data)
            .map(|m| (m.start(), m.end()))
            .collect()
    } else {
        Vec::new()
    };
    for (start, end) in grouped.chain(bare) {
        if glued(data, start, end) {
            continue;
        }
        let number: Vec<u8> = data[start..end]
            .iter()
            .filter(|b| b.is_ascii_digit())
            .map(|b| b - b'0')
            .collect();
        if is_card_number(&number) {
            out.push(PatternMatch {
                kind: PatternKind::PaymentCard,
                start,
                end,
            });
        }
    }
}

/// The Luhn checksum over decimal digits (values 0-9).
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(*d);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// A number of a known issuer range with that issuer's length, passing Luhn.
pub fn is_card_number(digits: &[u8]) -> bool {
    let prefix = |n: usize| {
        digits
            .iter()
            .take(n)
            .fold(0u32, |acc, d| acc * 10 + u32::from(*d))
    };
    let len = digits.len();
    let issuer = match digits.first() {
        // Visa
        Some(4) => matches!(len, 13 | 16 | 19),
        // Mastercard 51-55 and 2221-2720
        Some(5) => (51..=55).contains(&prefix(2)) && len == 16,
        Some(2) => (2221..=2720).contains(&prefix(4)) && len == 16,
        // American Express
        Some(3) => matches!(prefix(2), 34 | 37) && len == 15,
        // Discover 6011, 644-649, 65
        Some(6) => {
            (prefix(4) == 6011 || (644..=649).contains(&prefix(3)) || prefix(2) == 65)
                && matches!(len, 16 | 19)
        }
        _ => false,
    };
    issuer && luhn(digits)
}

/// Whether `value` (trimmed) is a calendar date a person alive today could be born on:
/// `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, `MM/DD/YYYY`, `MM-DD-YYYY` or `DD.MM.YYYY`, year
/// 1900-2099. Only counted in a parameter whose signature meaning is a date of birth.
pub fn looks_like_date_of_birth(value: &[u8]) -> bool {
    let v = value.trim_ascii();
    if !(8..=10).contains(&v.len()) {
        return false;
    }
    let num = |s: &[u8]| -> Option<u32> {
        (!s.is_empty() && s.iter().all(u8::is_ascii_digit))
            .then(|| s.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let parts: Vec<&[u8]> = v.split(|b| matches!(b, b'-' | b'/' | b'.')).collect();
    let sep = v.iter().find(|b| matches!(b, b'-' | b'/' | b'.')).copied();
    let (year, month, day) = match (parts.as_slice(), sep) {
        ([all], None) if all.len() == 8 => (
            all.get(..4).and_then(num),
            all.get(4..6).and_then(num),
            all.get(6..).and_then(num),
        ),
        ([y, m, d], Some(b'-' | b'/')) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            (num(y), num(m), num(d))
        }
        ([m, d, y], Some(b'-' | b'/')) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            (num(y), num(m), num(d))
        }
        ([d, m, y], Some(b'.')) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            (num(y), num(m), num(d))
        }
        _ => return false,
    };
    // One separator kind throughout (`1984-03/07` is no date).
    let one_sep = sep.is_none_or(|s| {
        v.iter()
            .filter(|b| matches!(b, b'-' | b'/' | b'.'))
            .all(|b| *b == s)
    });
    matches!((year, month, day), (Some(y), Some(m), Some(d))
        if one_sep && (1900..=2099).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
}

/// Whether `value` (trimmed) looks like a member id: 5 to 32 letters, digits, `-`, `_` or
/// spaces with at least four digits, and not a hash, UUID or bare timestamp. Only counted in a
/// parameter whose signature meaning is a member id.
pub fn looks_like_member_id(value: &[u8]) -> bool {
    let v = value.trim_ascii();
    if !(5..=32).contains(&v.len()) {
        return false;
    }
    let allowed = v
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b' '));
    let digits = v.iter().filter(|b| b.is_ascii_digit()).count();
    let uuid = v.len() == 32 && v.iter().all(u8::is_ascii_hexdigit);
    let timestamp = digits == v.len() && (v.len() == 10 || v.len() == 13);
    allowed && digits >= 4 && !uuid && !timestamp && !looks_like_hash(v)
}

/// Whether `value` is shaped like a hash: hex MD5/SHA-1/SHA-256/SHA-512, or SHA-256 in base64 /
/// base64url (43 or 44 characters).
pub fn looks_like_hash(value: &[u8]) -> bool {
    let v = value.trim_ascii();
    match v.len() {
        32 | 40 | 64 | 128 => v.iter().all(u8::is_ascii_hexdigit),
        43 | 44 => {
            let body = v.strip_suffix(b"=").unwrap_or(v);
            body.len() == 43
                && body
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/'))
                // Random base64 ids are common; a hash of 32 bytes has mixed case and digits.
                && body.iter().any(u8::is_ascii_digit)
                && body.iter().any(u8::is_ascii_uppercase)
                && body.iter().any(u8::is_ascii_lowercase)
        }
        _ => false,
    }
}

/// The value as reports show it: SSNs and card numbers masked but for their last four digits.
pub fn display(kind: PatternKind, text: &str) -> String {
    if !kind.masked() {
        return text.to_string();
    }
    let last4: String = text
        .chars()
        .filter(char::is_ascii_digit)
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••{last4}")
}

#[cfg(test)]
mod tests {

    #[test]
    fn dates_of_birth_and_member_ids_by_shape() {
        for yes in [
            "1984-03-07",
            "19840307",
            "03/07/1984",
            "03-07-1984",
            "07.03.1984",
            " 1984/03/07 ",
        ] {
            assert!(looks_like_date_of_birth(yes.as_bytes()), "{yes}");
        }
        for no in [
            "1984-13-07",
            "1984-03/07",
            "1714557600",
            "18840307",
            "2024-1-7",
            "v=2.9.156",
            "12345678",
            "1984-03-07T10:00:00Z",
        ] {
            assert!(!looks_like_date_of_birth(no.as_bytes()), "{no}");
        }
        for yes in ["MRC-448812-07", "W123456789", "ABC 1234 5678"] {
            assert!(looks_like_member_id(yes.as_bytes()), "{yes}");
        }
        for no in [
            "1714557600",
            "1714557600123",
            "d41d8cd98f00b204e9800998ecf8427e",
            "member",
            "a1b2",
            "id=12345",
        ] {
            assert!(!looks_like_member_id(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn shape_checks_never_hide_a_pattern() {
        let alphabet = b"0123456789 -.()+1a@x";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = 6 + (next() % 40) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            find_with(&data, "card", &mut fast, true);
            find_with(&data, "card", &mut slow, false);
            assert_eq!(fast, slow, "{}", String::from_utf8_lossy(&data));
        }
    }
    use super::*;

    fn kinds(text: &str, param: &str) -> Vec<(PatternKind, String)> {
        let mut out = Vec::new();
        find(text.as_bytes(), param, &mut out);
        out.iter()
            .map(|m| (m.kind, text[m.start..m.end].to_string()))
            .collect()
    }

    #[test]
    fn positives() {
        assert_eq!(
            kinds("contact: pat.doe+x@example-mail.co.uk!", "v"),
            vec![(PatternKind::Email, "pat.doe+x@example-mail.co.uk".into())]
        );
        assert_eq!(kinds("(617) 555-0142", "v")[0].0, PatternKind::Phone);
        assert_eq!(kinds("617-555-0142", "v")[0].0, PatternKind::Phone);
        assert_eq!(kinds("+16175550142", "v")[0].0, PatternKind::Phone);
        assert_eq!(kinds("ssn=078-05-1120", "v")[0].0, PatternKind::Ssn);
        assert_eq!(
            kinds("4111 1111 1111 1111", "v")[0].0,
            PatternKind::PaymentCard
        );
        assert_eq!(
            kinds("3782-822463-10005", "v")[0].0,
            PatternKind::PaymentCard
        );
        assert_eq!(
            kinds("5555555555554444", "card_number")[0].0,
            PatternKind::PaymentCard
        );
        assert!(looks_like_hash(
            b"f1b26f9fab7c75effe7247db66ef2cd8791cc79f4d76b6d2cc922e5424190793"
        ));
        assert!(looks_like_hash(
            b"9YqjIHyldqNogCcQffKAqE7_BH8QoC36T6a8Pfq2UHk"
        ));
        assert_eq!(display(PatternKind::Ssn, "078-05-1120"), "••••1120");
    }

    /// Ids, UUIDs, timestamps, cache-busters, cookies and near-misses stay silent.
    #[test]
    fn negatives() {
        for (text, param) in [
            ("1714557600000", "ts"),
            ("4111111111111111", "ord"),
            ("fb.1.1714557600.987654321", "fbp"),
            ("GA1.1.1234567890.1714557600", "_ga"),
            ("550e8400-e29b-41d4-a716-446655440000", "uuid"),
            ("icon@2x.png", "src"),
            ("4111 1111 1111 1112", "v"),
            ("000-12-3456", "v"),
            ("666-12-3456", "v"),
            ("912-12-3456", "v"),
            ("123-00-4567", "v"),
            ("2024-05-01", "v"),
            ("2024-05-01-1234", "v"),
            ("617-911-0142", "v"),
            ("123-456-7890", "v"),
            ("v=2.9.156&r=stable&ec=0&o=4126", "q"),
            ("1234567890123", "cachebuster"),
            ("a1b2c3d4-5555-0142-6175-550142617555", "id"),
        ] {
            assert!(
                kinds(text, param).is_empty(),
                "{text}: {:?}",
                kinds(text, param)
            );
        }
        assert!(!looks_like_hash(b"550e8400e29b41d4a716446655440000x"));
        assert!(!looks_like_hash(
            b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"
        ));
        assert!(!luhn(&[]));
    }
}
