//! Every form in which a canary value may travel: vendor normalisations and hashes.
//!
//! Trackers rarely send a value exactly as typed: Meta hashes a trimmed, lower-cased email with
//! SHA-256, Google writes the hash in base64url, phone numbers go out as digits or E.164, a date of
//! birth as `YYYYMMDD`. Rather than decode every hash in traffic (impossible), we precompute each
//! canary's forms once and search for all of them at the same time.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::capture::record::CanaryKind;

/// Plain forms shorter than this are not searched: they would match by chance.
pub const MIN_PLAIN_LEN: usize = 4;

/// One searchable form of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub pattern: String,
    /// Encoding steps from this form back to the value, outermost first (empty: as typed).
    pub labels: Vec<String>,
}

impl Variant {
    fn plain(pattern: impl Into<String>) -> Variant {
        Variant {
            pattern: pattern.into(),
            labels: Vec::new(),
        }
    }

    fn labelled(pattern: impl Into<String>, label: &str) -> Variant {
        Variant {
            pattern: pattern.into(),
            labels: vec![label.to_string()],
        }
    }
}

/// A normalised form that gets hashed, with its name for the encoding label.
struct HashInput {
    name: &'static str,
    text: String,
}

#[derive(Clone, Copy)]
enum Algo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

const ALGOS: [Algo; 4] = [Algo::Md5, Algo::Sha1, Algo::Sha256, Algo::Sha512];

impl Algo {
    fn name(self) -> &'static str {
        match self {
            Algo::Md5 => "md5",
            Algo::Sha1 => "sha1",
            Algo::Sha256 => "sha256",
            Algo::Sha512 => "sha512",
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algo::Md5 => Md5::digest(data).to_vec(),
            Algo::Sha1 => Sha1::digest(data).to_vec(),
            Algo::Sha256 => Sha256::digest(data).to_vec(),
            Algo::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// Hex, base64 and base64url forms of every hash (and hash of a hex hash) of each input.
fn hash_variants(inputs: &[HashInput], out: &mut Vec<Variant>) {
    for input in inputs {
        if input.text.is_empty() {
            continue;
        }
        for algo in ALGOS {
            let digest = algo.digest(input.text.as_bytes());
            let label = format!("{}({})", algo.name(), input.name);
            let hex_digest = hex::encode(&digest);
            out.push(Variant::labelled(hex_digest.clone(), &label));
            out.push(Variant {
                pattern: STANDARD_NO_PAD.encode(&digest),
                labels: vec!["base64".into(), label.clone()],
            });
            out.push(Variant {
                pattern: URL_SAFE_NO_PAD.encode(&digest),
                labels: vec!["base64url".into(), label.clone()],
            });
            // Second layer: a hash of the hex hash (some vendors hash again before sending).
            for outer in ALGOS {
                let twice = outer.digest(hex_digest.as_bytes());
                out.push(Variant::labelled(
                    hex::encode(twice),
                    &format!("{}({})", outer.name(), label),
                ));
            }
        }
    }
}

/// Lower case, punctuation removed, spaces collapsed: how ad platforms normalise names.
pub fn normalise_name(s: &str) -> String {
    let cleaned: String = s
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Trimmed and lower-cased; for Gmail also without dots and `+tag` in the local part.
pub fn normalise_email(s: &str) -> (String, Option<String>) {
    let lower = s.trim().to_lowercase();
    let gmail = lower.rsplit_once('@').and_then(|(local, domain)| {
        if domain == "gmail.com" || domain == "googlemail.com" {
            let local = local.split('+').next().unwrap_or(local).replace('.', "");
            let g = format!("{local}@{domain}");
            (g != lower).then_some(g)
        } else {
            None
        }
    });
    (lower, gmail)
}

/// Phone forms: digits with country code, E.164, national digits.
pub struct PhoneForms {
    pub digits: String,
    pub e164: String,
    pub national: Option<String>,
}

/// Assumes the North American plan (+1) for a bare 10-digit number: the canaries leakhound's
/// scenarios use are written that way. Other numbers should be given with `+` and country code.
pub fn normalise_phone(s: &str) -> Option<PhoneForms> {
    let has_plus = s.trim_start().starts_with('+');
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return None;
    }
    let (with_cc, national) = if has_plus {
        let national = digits
            .strip_prefix('1')
            .filter(|n| n.len() == 10)
            .map(str::to_string);
        (digits.clone(), national)
    } else if digits.len() == 10 {
        (format!("1{digits}"), Some(digits.clone()))
    } else if digits.len() == 11 && digits.starts_with('1') {
        (digits.clone(), digits.strip_prefix('1').map(str::to_string))
    } else {
        (digits.trim_start_matches('0').to_string(), None)
    };
    Some(PhoneForms {
        e164: format!("+{with_cc}"),
        digits: with_cc,
        national,
    })
}

/// Year, month, day of a date written `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, `MM/DD/YYYY` or
/// `DD.MM.YYYY`.
pub fn parse_date(s: &str) -> Option<(u32, u32, u32)> {
    let s = s.trim();
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    let num = |p: &str| p.parse::<u32>().ok();
    let (y, m, d) = match parts.as_slice() {
        // `get`, not slicing: an 8-byte value may hold multi-byte characters.
        [one] if one.len() == 8 => (
            num(one.get(..4)?)?,
            num(one.get(4..6)?)?,
            num(one.get(6..)?)?,
        ),
        [a, b, c] if a.len() == 4 => (num(a)?, num(b)?, num(c)?),
        [a, b, c] if c.len() == 4 && s.contains('.') => (num(c)?, num(b)?, num(a)?),
        [a, b, c] if c.len() == 4 => (num(c)?, num(a)?, num(b)?),
        _ => return None,
    };
    ((1..=12).contains(&m) && (1..=31).contains(&d) && y > 1000).then_some((y, m, d))
}

/// US states (and DC, territories) by name → two-letter postal code, lower case. A value that
/// already is a code is returned as it is.
pub fn us_state_code(norm: &str) -> Option<&'static str> {
    const STATES: &[(&str, &str)] = &[
        ("alabama", "al"),
        ("alaska", "ak"),
        ("arizona", "az"),
        ("arkansas", "ar"),
        ("california", "ca"),
        ("colorado", "co"),
        ("connecticut", "ct"),
        ("delaware", "de"),
        ("district of columbia", "dc"),
        ("florida", "fl"),
        ("georgia", "ga"),
        ("hawaii", "hi"),
        ("idaho", "id"),
        ("illinois", "il"),
        ("indiana", "in"),
        ("iowa", "ia"),
        ("kansas", "ks"),
        ("kentucky", "ky"),
        ("louisiana", "la"),
        ("maine", "me"),
        ("maryland", "md"),
        ("massachusetts", "ma"),
        ("michigan", "mi"),
        ("minnesota", "mn"),
        ("mississippi", "ms"),
        ("missouri", "mo"),
        ("montana", "mt"),
        ("nebraska", "ne"),
        ("nevada", "nv"),
        ("new hampshire", "nh"),
        ("new jersey", "nj"),
        ("new mexico", "nm"),
        ("new york", "ny"),
        ("north carolina", "nc"),
        ("north dakota", "nd"),
        ("ohio", "oh"),
        ("oklahoma", "ok"),
        ("oregon", "or"),
        ("pennsylvania", "pa"),
        ("rhode island", "ri"),
        ("south carolina", "sc"),
        ("south dakota", "sd"),
        ("tennessee", "tn"),
        ("texas", "tx"),
        ("utah", "ut"),
        ("vermont", "vt"),
        ("virginia", "va"),
        ("washington", "wa"),
        ("west virginia", "wv"),
        ("wisconsin", "wi"),
        ("wyoming", "wy"),
        ("puerto rico", "pr"),
        ("guam", "gu"),
        ("virgin islands", "vi"),
    ];
    STATES
        .iter()
        .find(|(name, code)| *name == norm || *code == norm)
        .map(|(_, code)| *code)
}

/// A country name or code → ISO 3166-1 alpha-2, lower case. Only common spellings are known;
/// give the two-letter code for any other country.
pub fn country_code(norm: &str) -> Option<String> {
    const NAMES: &[(&str, &str)] = &[
        ("united states", "us"),
        ("united states of america", "us"),
        ("usa", "us"),
        ("canada", "ca"),
        ("mexico", "mx"),
        ("united kingdom", "gb"),
        ("uk", "gb"),
        ("great britain", "gb"),
        ("germany", "de"),
        ("france", "fr"),
        ("ireland", "ie"),
        ("australia", "au"),
        ("india", "in"),
    ];
    if norm.len() == 2 && norm.bytes().all(|b| b.is_ascii_lowercase()) {
        return Some(norm.to_string());
    }
    NAMES
        .iter()
        .find(|(name, _)| *name == norm)
        .map(|(_, code)| code.to_string())
}

/// All forms of an identity canary.
pub fn identity_variants(kind: CanaryKind, value: &str) -> Vec<Variant> {
    let raw = value.trim();
    let mut out = vec![Variant::plain(raw)];
    let mut hashes = Vec::new();
    match kind {
        CanaryKind::Email => {
            let (lower, gmail) = normalise_email(raw);
            hashes.push(HashInput {
                name: "lowercase",
                text: lower,
            });
            if let Some(g) = gmail {
                out.push(Variant::labelled(g.clone(), "gmail"));
                hashes.push(HashInput {
                    name: "gmail",
                    text: g,
                });
            }
        }
        CanaryKind::Phone => {
            if let Some(p) = normalise_phone(raw) {
                out.push(Variant::labelled(p.digits.clone(), "digits"));
                out.push(Variant::labelled(p.e164.clone(), "e164"));
                hashes.push(HashInput {
                    name: "digits",
                    text: p.digits,
                });
                hashes.push(HashInput {
                    name: "e164",
                    text: p.e164,
                });
                if let Some(n) = p.national {
                    out.push(Variant::labelled(n.clone(), "national"));
                    hashes.push(HashInput {
                        name: "national",
                        text: n,
                    });
                }
            }
        }
        CanaryKind::Name | CanaryKind::FirstName | CanaryKind::LastName => {
            let norm = normalise_name(raw);
            if norm != raw.to_lowercase() {
                out.push(Variant::labelled(norm.clone(), "normalised"));
            }
            let joined = norm.replace(' ', "");
            if joined != norm {
                out.push(Variant::labelled(joined.clone(), "no-spaces"));
                hashes.push(HashInput {
                    name: "no-spaces",
                    text: joined,
                });
            }
            // A full name's parts are canaries of their own (see `canary::name_parts`): a hash of
            // the first name alone is the first name leaving, not the full name.
            hashes.push(HashInput {
                name: "lowercase",
                text: norm,
            });
        }
        CanaryKind::DateOfBirth => {
            if let Some((y, m, d)) = parse_date(raw) {
                let compact = format!("{y:04}{m:02}{d:02}");
                for (form, label) in [
                    (compact.clone(), "yyyymmdd"),
                    (format!("{y:04}-{m:02}-{d:02}"), "yyyy-mm-dd"),
                    (format!("{m:02}/{d:02}/{y:04}"), "mm/dd/yyyy"),
                    (format!("{m:02}-{d:02}-{y:04}"), "mm-dd-yyyy"),
                    (format!("{d:02}/{m:02}/{y:04}"), "dd/mm/yyyy"),
                    (format!("{d:02}.{m:02}.{y:04}"), "dd.mm.yyyy"),
                ] {
                    out.push(Variant::labelled(form, label));
                }
                hashes.push(HashInput {
                    name: "yyyymmdd",
                    text: compact,
                });
            }
        }
        CanaryKind::Zip => {
            let five: String = raw.chars().take_while(char::is_ascii_digit).collect();
            if five.len() == 5 && five != raw {
                out.push(Variant::labelled(five.clone(), "zip5"));
            }
            hashes.push(HashInput {
                name: "lowercase",
                text: if five.len() == 5 {
                    five
                } else {
                    raw.to_lowercase()
                },
            });
        }
        CanaryKind::City => {
            // Meta `ud[ct]`: lower case, no punctuation, no spaces ("newyork").
            let norm = normalise_name(raw);
            let joined = norm.replace(' ', "");
            out.push(Variant::labelled(joined.clone(), "no-spaces"));
            hashes.push(HashInput {
                name: "no-spaces",
                text: joined,
            });
            hashes.push(HashInput {
                name: "lowercase",
                text: norm,
            });
        }
        CanaryKind::State => {
            // Meta `ud[st]`: the two-letter code, lower case. Two letters are too short to search
            // in plain text; only the hashes (and the full name, when given) are searched.
            let norm = normalise_name(raw);
            if let Some(code) = us_state_code(&norm) {
                hashes.push(HashInput {
                    name: "state-code",
                    text: code.to_string(),
                });
            }
            hashes.push(HashInput {
                name: "lowercase",
                text: norm,
            });
        }
        CanaryKind::Country => {
            // Meta `ud[country]`, Google `co0`: ISO 3166-1 alpha-2, lower case.
            let norm = normalise_name(raw);
            if let Some(code) = country_code(&norm) {
                hashes.push(HashInput {
                    name: "country-code",
                    text: code.to_string(),
                });
            }
            hashes.push(HashInput {
                name: "lowercase",
                text: norm,
            });
        }
        CanaryKind::Password | CanaryKind::Secret => {
            hashes.push(HashInput {
                name: "raw",
                text: raw.to_string(),
            });
        }
        CanaryKind::MemberId | CanaryKind::Address | CanaryKind::Text => {
            let norm = normalise_name(raw);
            if !norm.is_empty() && norm != raw.to_lowercase() {
                out.push(Variant::labelled(norm.clone(), "normalised"));
            }
            hashes.push(HashInput {
                name: "lowercase",
                text: raw.to_lowercase(),
            });
        }
    }
    hash_variants(&hashes, &mut out);
    finish(out)
}

/// Forms of free text (search terms, typed input, titles): as typed, with `+` for spaces, and for
/// text caught mid-typing without its last one or two characters.
pub fn text_variants(value: &str, truncated: bool) -> Vec<Variant> {
    let raw = value.trim();
    let mut out = vec![Variant::plain(raw)];
    if raw.contains(' ') {
        out.push(Variant::labelled(raw.replace(' ', "+"), "url"));
    }
    if truncated {
        let chars: Vec<char> = raw.chars().collect();
        for cut in 1..=2 {
            if chars.len() > cut + MIN_PLAIN_LEN + 1 {
                let head: String = chars.iter().take(chars.len() - cut).collect();
                out.push(Variant::labelled(head, &format!("truncated(-{cut})")));
            }
        }
    }
    finish(out)
}

/// Drops forms too short to be evidence and duplicates (case-insensitively: matching ignores ASCII
/// case).
fn finish(mut out: Vec<Variant>) -> Vec<Variant> {
    let mut seen = std::collections::HashSet::new();
    out.retain(|v| v.pattern.len() >= MIN_PLAIN_LEN && seen.insert(v.pattern.to_ascii_lowercase()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(vs: &[Variant], pattern: &str) -> Option<Vec<String>> {
        vs.iter()
            .find(|v| v.pattern.eq_ignore_ascii_case(pattern))
            .map(|v| v.labels.clone())
    }

    #[test]
    fn email_hashes_follow_vendor_normalisation() {
        let vs = identity_variants(CanaryKind::Email, "  Jane.Q.Patient@Gmail.com ");
        // sha256("jane.q.patient@gmail.com")
        let sha = hex::encode(Sha256::digest(b"jane.q.patient@gmail.com"));
        assert_eq!(has(&vs, &sha), Some(vec!["sha256(lowercase)".to_string()]));
        let gmail_sha = Sha256::digest(b"janeqpatient@gmail.com");
        assert_eq!(
            has(&vs, &URL_SAFE_NO_PAD.encode(gmail_sha)),
            Some(vec!["base64url".into(), "sha256(gmail)".into()])
        );
        assert!(has(&vs, "janeqpatient@gmail.com").is_some());
        let md5 = hex::encode(Md5::digest(b"jane.q.patient@gmail.com"));
        let twice = hex::encode(Sha256::digest(md5.as_bytes()));
        assert_eq!(
            has(&vs, &twice),
            Some(vec!["sha256(md5(lowercase))".into()])
        );
    }

    #[test]
    fn phone_forms() {
        let p = normalise_phone("(555) 014-2398").unwrap();
        assert_eq!(p.digits, "15550142398");
        assert_eq!(p.e164, "+15550142398");
        assert_eq!(p.national.as_deref(), Some("5550142398"));
        let p = normalise_phone("+44 20 7946 0958").unwrap();
        assert_eq!(p.e164, "+442079460958");
        assert!(normalise_phone("12-34").is_none());
        let vs = identity_variants(CanaryKind::Phone, "+1 555 014 2398");
        let meta = hex::encode(Sha256::digest(b"15550142398"));
        assert_eq!(has(&vs, &meta), Some(vec!["sha256(digits)".into()]));
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1984-03-07"), Some((1984, 3, 7)));
        assert_eq!(parse_date("03/07/1984"), Some((1984, 3, 7)));
        assert_eq!(parse_date("07.03.1984"), Some((1984, 3, 7)));
        assert_eq!(parse_date("19840307"), Some((1984, 3, 7)));
        assert_eq!(parse_date("1984-13-07"), None);
        let vs = identity_variants(CanaryKind::DateOfBirth, "03/07/1984");
        assert!(has(&vs, "19840307").is_some());
        let h = hex::encode(Sha256::digest(b"19840307"));
        assert_eq!(has(&vs, &h), Some(vec!["sha256(yyyymmdd)".into()]));
    }

    #[test]
    fn names() {
        assert_eq!(
            normalise_name("  O'Brien-Smith, Mary "),
            "o brien smith mary"
        );
        let vs = identity_variants(CanaryKind::Name, "Mary O'Brien");
        assert!(has(&vs, "maryobrien").is_some());
        // The first name alone is not the full name: its forms belong to the first-name canary.
        let fn_hash = hex::encode(Sha256::digest(b"mary"));
        assert_eq!(has(&vs, &fn_hash), None);
        let first = identity_variants(CanaryKind::FirstName, "Mary");
        assert_eq!(
            has(&first, &fn_hash),
            Some(vec!["sha256(lowercase)".into()])
        );
    }

    /// Meta advanced matching: `ct` lower case without spaces, `st` two-letter code, `country`
    /// two-letter ISO code, all SHA-256 hex; Google `co0` sends the country code plain (too short
    /// to search, by design).
    #[test]
    fn city_state_country_follow_vendor_normalisation() {
        let vs = identity_variants(CanaryKind::City, "New York");
        assert!(has(&vs, "newyork").is_some());
        let ct = hex::encode(Sha256::digest(b"newyork"));
        assert_eq!(has(&vs, &ct), Some(vec!["sha256(no-spaces)".into()]));
        let vs = identity_variants(CanaryKind::State, "Massachusetts");
        let st = hex::encode(Sha256::digest(b"ma"));
        assert_eq!(has(&vs, &st), Some(vec!["sha256(state-code)".into()]));
        let vs = identity_variants(CanaryKind::State, "MA");
        assert_eq!(has(&vs, &st), Some(vec!["sha256(state-code)".into()]));
        let vs = identity_variants(CanaryKind::Country, "United States");
        let co = hex::encode(Sha256::digest(b"us"));
        assert_eq!(has(&vs, &co), Some(vec!["sha256(country-code)".into()]));
        assert_eq!(country_code("xx").as_deref(), Some("xx"));
        assert_eq!(us_state_code("atlantis"), None);
    }

    /// Every normalisation docs/signatures.md cites: Meta (digits with country code, YYYYMMDD,
    /// five-digit zip, lower-case email), Google (E.164, gmail without dots), TikTok/LinkedIn
    /// (SHA-256 of the lower-cased email, E.164 phone).
    #[test]
    fn documented_vendor_normalisations() {
        let sha = |s: &str| hex::encode(Sha256::digest(s.as_bytes()));
        let phone = identity_variants(CanaryKind::Phone, "(617) 555-0142");
        assert!(has(&phone, &sha("16175550142")).is_some());
        assert!(has(&phone, &sha("+16175550142")).is_some());
        let zip = identity_variants(CanaryKind::Zip, "02139-4307");
        assert_eq!(
            has(&zip, &sha("02139")),
            Some(vec!["sha256(lowercase)".into()])
        );
        let dob = identity_variants(CanaryKind::DateOfBirth, "3/7/1984");
        assert!(has(&dob, &sha("19840307")).is_some());
        let email = identity_variants(CanaryKind::Email, " J.Doe@GMAIL.com");
        assert!(has(&email, &sha("j.doe@gmail.com")).is_some());
        assert!(has(&email, &sha("jdoe@gmail.com")).is_some());
        let name = identity_variants(CanaryKind::FirstName, "Zoë");
        assert!(has(&name, &sha("zoë")).is_some());
    }

    #[test]
    fn text_truncation_and_short_values() {
        let vs = text_variants("chest pain", true);
        assert!(has(&vs, "chest+pain").is_some());
        assert_eq!(has(&vs, "chest pai"), Some(vec!["truncated(-1)".into()]));
        assert!(has(&vs, "chest pa").is_some());
        assert!(text_variants("flu", true).is_empty());
        assert_eq!(text_variants("cough", true).len(), 1);
    }

    #[test]
    fn dates_with_multi_byte_characters_are_not_dates_and_do_not_panic() {
        assert_eq!(parse_date("19é80101"), None);
        assert_eq!(parse_date("ééé1"), None);
        assert_eq!(parse_date("２０２４0101"), None);
        assert_eq!(parse_date("19800101"), Some((1980, 1, 1)));
    }
}
