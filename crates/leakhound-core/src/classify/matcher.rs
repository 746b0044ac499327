//! One Aho-Corasick automaton over every form of every canary.
//!
//! Searching all patterns in one pass keeps the cost per request independent of how many canaries
//! and variants there are. Matching ignores ASCII case (hex hashes are written in both cases); a
//! pattern only counts when it is not glued to surrounding letters or digits, so a canary never
//! matches inside a longer word or number.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::classify::finding::DataKind;
use crate::classify::variants::Variant;

/// What one pattern stands for.
#[derive(Debug, Clone)]
struct Target {
    canary: usize,
    labels: usize,
    kind: DataKind,
}

/// One accepted match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub canary: usize,
    /// Index into [`Matcher::labels`].
    pub labels: usize,
    pub start: usize,
    pub end: usize,
}

/// The automaton and what each pattern means.
#[derive(Debug, Clone)]
pub struct Matcher {
    ac: Option<AhoCorasick>,
    targets: Vec<Vec<Target>>,
    labels: Vec<Vec<String>>,
    /// Lower-cased alphanumeric patterns (up to [`WORD_LOOKUP_MAX`] bytes) → pattern slot.
    words: HashMap<Vec<u8>, usize>,
    /// `word_lens[n]`: some alphanumeric pattern is `n` bytes long.
    word_lens: Vec<bool>,
    /// Some alphanumeric pattern is longer than [`WORD_LOOKUP_MAX`]: long words need the automaton.
    long_words: bool,
}

/// Bytes that continue a URL path: a page path only matches where the path really ends.
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%' | b'/')
}

impl Matcher {
    /// Builds the automaton. `canaries` yields each canary's kind and variants, in canary order.
    pub fn build<'a>(canaries: impl Iterator<Item = (DataKind, &'a [Variant])>) -> Matcher {
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut targets: Vec<Vec<Target>> = Vec::new();
        let mut labels: Vec<Vec<String>> = Vec::new();
        let mut label_index: HashMap<Vec<String>, usize> = HashMap::new();
        for (canary, (kind, variants)) in canaries.enumerate() {
            for v in variants {
                let key = v.pattern.to_ascii_lowercase().into_bytes();
                let slot = *index.entry(key.clone()).or_insert_with(|| {
                    patterns.push(key);
                    targets.push(Vec::new());
                    patterns.len() - 1
                });
                let label = *label_index.entry(v.labels.clone()).or_insert_with(|| {
                    labels.push(v.labels.clone());
                    labels.len() - 1
                });
                if !targets[slot].iter().any(|t| t.canary == canary) {
                    targets[slot].push(Target {
                        canary,
                        labels: label,
                        kind,
                    });
                }
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            // A full DFA: the pattern set is a few thousand short strings, its tables stay a few
            // MB, and it is the fastest way to search every byte of every request.
            match AhoCorasickBuilder::new()
                .kind(Some(AhoCorasickKind::DFA))
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .build(&patterns)
            {
                Ok(ac) => Some(ac),
                Err(err) => {
                    tracing::error!("cannot build canary automaton: {err}");
                    None
                }
            }
        };
        let mut words = HashMap::new();
        let mut word_lens = vec![false; WORD_LOOKUP_MAX + 1];
        let mut long_words = false;
        for (slot, p) in patterns.into_iter().enumerate() {
            if p.is_empty() || !p.iter().all(u8::is_ascii_alphanumeric) {
                continue;
            }
            match word_lens.get_mut(p.len()) {
                Some(seen) => {
                    *seen = true;
                    words.insert(p, slot);
                }
                None => long_words = true,
            }
        }
        Matcher {
            ac,
            targets,
            labels,
            words,
            word_lens,
            long_words,
        }
    }

    pub fn labels(&self, index: usize) -> &[String] {
        self.labels.get(index).map_or(&[], Vec::as_slice)
    }

    pub fn pattern_count(&self) -> usize {
        self.targets.len()
    }

    /// All accepted matches in `hay`, appended to `out`. A match contained in a longer match of the
    /// same data kind is dropped (a page path inside a longer page URL, a truncated value inside the
    /// whole one, a first name inside the full name), and so is a search term inside a page title
    /// for which `plain_title` is true (a title that merely shares words with a search; a results
    /// page's title gives way to the search instead, see `CanarySet::related`).
    pub fn find(
        &self,
        hay: &[u8],
        kind_of: impl Fn(usize) -> DataKind,
        plain_title: impl Fn(usize) -> bool,
        out: &mut Vec<Hit>,
    ) {
        let Some(ac) = &self.ac else { return };
        if (hay.len() <= WORD_LOOKUP_MAX || !self.long_words) && all_alphanumeric(hay) {
            self.find_word(hay, out);
            return;
        }
        let first = out.len();
        for m in ac.find_overlapping_iter(hay) {
            let (start, end) = (m.start(), m.end());
            for t in &self.targets[m.pattern().as_usize()] {
                if !bounded(hay, start, end, t.kind) {
                    continue;
                }
                out.push(Hit {
                    canary: t.canary,
                    labels: t.labels,
                    start,
                    end,
                });
            }
        }
        if out.len() - first > 1 {
            let found: Vec<Hit> = out.drain(first..).collect();
            for (i, h) in found.iter().enumerate() {
                let (hk, longer) = (kind_of(h.canary), |o: &Hit| {
                    o.end - o.start > h.end - h.start
                });
                let shadowed = found.iter().enumerate().any(|(j, o)| {
                    let ok = kind_of(o.canary);
                    j != i
                        && o.start <= h.start
                        && o.end >= h.end
                        && ((ok == hk && (longer(o) || (o.canary == h.canary && j < i)))
                            // Words of a search that also appear in a leaked title are the title.
                            || (hk == DataKind::SearchTerm
                                && ok == DataKind::PageTitle
                                && longer(o)
                                && plain_title(o.canary)))
                });
                if !shadowed {
                    out.push(*h);
                }
            }
        }
    }

    /// [`Matcher::find`] for a value made only of ASCII letters and digits (ids, hashes, tokens:
    /// most of the bytes trackers send). Inside such a value every match but the whole value is
    /// glued to a letter or digit and would be rejected by [`bounded`], so one table lookup of the
    /// whole value replaces the automaton.
    fn find_word(&self, hay: &[u8], out: &mut Vec<Hit>) {
        let mut lower = [0u8; WORD_LOOKUP_MAX];
        let Some(key) = lower.get_mut(..hay.len()) else {
            // Longer than every alphanumeric pattern (`find` checked `long_words`).
            return;
        };
        if hay.is_empty() || !self.word_lens.get(hay.len()).copied().unwrap_or(false) {
            return;
        }
        for (k, b) in key.iter_mut().zip(hay) {
            *k = b.to_ascii_lowercase();
        }
        let Some(&slot) = self.words.get(&*key) else {
            return;
        };
        for t in &self.targets[slot] {
            out.push(Hit {
                canary: t.canary,
                labels: t.labels,
                start: 0,
                end: hay.len(),
            });
        }
    }
}

/// Alphanumeric patterns up to this length are also indexed for [`Matcher::find_word`].
const WORD_LOOKUP_MAX: usize = 256;

/// True when every byte is an ASCII letter or digit. Runs on every searched value, so it works
/// on 32-byte blocks without a branch per byte (the compiler turns each block into a few vector
/// instructions) and stops at the first block with anything else.
fn all_alphanumeric(hay: &[u8]) -> bool {
    fn alnum(b: u8) -> bool {
        (b.wrapping_sub(b'0') < 10) | ((b | 0x20).wrapping_sub(b'a') < 26)
    }
    let mut blocks = hay.chunks_exact(32);
    for block in &mut blocks {
        if !block.iter().fold(true, |ok, &b| ok & alnum(b)) {
            return false;
        }
    }
    blocks.remainder().iter().all(|&b| alnum(b))
}

/// True when the match is not part of a longer word, number or path.
fn bounded(hay: &[u8], start: usize, end: usize, kind: DataKind) -> bool {
    let first = hay[start];
    let last = hay[end - 1];
    let before = start.checked_sub(1).map(|i| hay[i]);
    let after = hay.get(end).copied();
    if kind == DataKind::UrlPath {
        if first == b'/' && before.is_some_and(is_path_char) {
            return false;
        }
        if first.is_ascii_alphanumeric()
            && before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return false;
        }
        return !after.is_some_and(is_path_char);
    }
    if first.is_ascii_alphanumeric() && before.is_some_and(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    if last.is_ascii_alphanumeric() && after.is_some_and(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::variants::{text_variants, Variant};

    fn plain(p: &str) -> Variant {
        Variant {
            pattern: p.into(),
            labels: vec![],
        }
    }

    fn run(m: &Matcher, kinds: &[DataKind], hay: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        m.find(hay.as_bytes(), |c| kinds[c], |_| true, &mut out);
        out.iter()
            .map(|h| (h.canary, hay[h.start..h.end].to_string()))
            .collect()
    }

    #[test]
    fn word_boundaries() {
        let v = [plain("jane")];
        let kinds = [DataKind::Identifier];
        let m = Matcher::build(std::iter::once((DataKind::Identifier, &v[..])));
        assert_eq!(run(&m, &kinds, "name=Jane&x=1").len(), 1);
        assert!(run(&m, &kinds, "name=Janet").is_empty());
        assert!(run(&m, &kinds, "mjane").is_empty());
        assert_eq!(run(&m, &kinds, "\"JANE\"").len(), 1);
    }

    #[test]
    fn alphanumeric_values_match_only_whole() {
        let v = [plain("5d41402abc4b2a76b9719d911017c592"), plain("jane")];
        let kinds = [DataKind::Identifier];
        let m = Matcher::build(std::iter::once((DataKind::Identifier, &v[..])));
        // The lookup path (value is all letters and digits), any case.
        assert_eq!(run(&m, &kinds, "5D41402ABC4B2A76B9719D911017C592").len(), 1);
        assert_eq!(run(&m, &kinds, "Jane").len(), 1);
        // Glued inside a longer id: no match, on either path.
        assert!(run(&m, &kinds, "ff5d41402abc4b2a76b9719d911017c592").is_empty());
        assert!(run(&m, &kinds, "janejane").is_empty());
        // The automaton path still finds it between separators.
        assert_eq!(
            run(&m, &kinds, "h=5d41402abc4b2a76b9719d911017c592&n=jane").len(),
            2
        );
    }

    #[test]
    fn page_paths_end_where_paths_end() {
        let pages = [plain("/symptoms"), plain("/symptoms/chest-pain")];
        let kinds = [DataKind::UrlPath, DataKind::UrlPath];
        let m = Matcher::build(
            [
                (DataKind::UrlPath, &pages[..1]),
                (DataKind::UrlPath, &pages[1..]),
            ]
            .into_iter(),
        );
        let hits = run(&m, &kinds, "path=/symptoms/chest-pain&x");
        assert_eq!(hits, vec![(1, "/symptoms/chest-pain".to_string())]);
        assert!(run(&m, &kinds, "/g/symptoms?").is_empty());
        assert_eq!(run(&m, &kinds, "u=/symptoms?x=1").len(), 1);
        assert!(run(&m, &kinds, "/symptoms/chest-pain-2").is_empty());
    }

    #[test]
    fn truncated_forms_are_shadowed_by_the_full_value() {
        let v = text_variants("chest pain", true);
        let kinds = [DataKind::SearchTerm];
        let m = Matcher::build(std::iter::once((DataKind::SearchTerm, &v[..])));
        let hits = run(&m, &kinds, "q=chest pain");
        assert_eq!(hits, vec![(0, "chest pain".to_string())]);
        let hits = run(&m, &kinds, "q=chest pa");
        assert_eq!(hits, vec![(0, "chest pa".to_string())]);
    }
}
