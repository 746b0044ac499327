//! Finding the Chromium binary.
//!
//! Order: `--chromium PATH`, then `$LEAKHOUND_CHROMIUM` (or `$CHROME_PATH`), then the usual install
//! paths. Debian's `/usr/bin/chromium` is a shell wrapper that adds flags and prints to stderr, so its
//! real binary `/usr/lib/chromium/chromium` comes first.

use std::path::{Path, PathBuf};

/// Environment variables consulted, in order.
pub const ENV_VARS: [&str; 2] = ["LEAKHOUND_CHROMIUM", "CHROME_PATH"];

const CANDIDATES: [&str; 8] = [
    "/usr/lib/chromium/chromium",
    "/usr/lib/chromium-browser/chromium-browser",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome-stable",
    "/usr/bin/google-chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocateError {
    #[error("Chromium not found at {0} (given by {1}); check the path")]
    NotAt(PathBuf, String),
    #[error(
        "Chromium not found. Install it (Debian/Ubuntu: `sudo apt-get install chromium`), or pass \
         --chromium PATH, or set LEAKHOUND_CHROMIUM"
    )]
    NotFound,
}

/// Finds Chromium; `explicit` is the `--chromium` flag.
pub fn find_chromium(explicit: Option<&Path>) -> Result<PathBuf, LocateError> {
    find_with(
        explicit,
        |k| std::env::var_os(k).map(PathBuf::from),
        |p| p.is_file(),
    )
}

fn find_with(
    explicit: Option<&Path>,
    env: impl Fn(&str) -> Option<PathBuf>,
    exists: impl Fn(&Path) -> bool,
) -> Result<PathBuf, LocateError> {
    if let Some(path) = explicit {
        return if exists(path) {
            Ok(path.to_path_buf())
        } else {
            Err(LocateError::NotAt(path.to_path_buf(), "--chromium".into()))
        };
    }
    for var in ENV_VARS {
        if let Some(path) = env(var).filter(|p| !p.as_os_str().is_empty()) {
            return if exists(&path) {
                Ok(path)
            } else {
                Err(LocateError::NotAt(path, format!("${var}")))
            };
        }
    }
    CANDIDATES
        .iter()
        .map(Path::new)
        .find(|p| exists(p))
        .map(Path::to_path_buf)
        .ok_or(LocateError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_precedence() {
        let yes = |_: &Path| true;
        let no_env = |_: &str| None;
        assert_eq!(
            find_with(Some(Path::new("/x/chrome")), no_env, yes).unwrap(),
            PathBuf::from("/x/chrome")
        );
        let env = |k: &str| (k == "CHROME_PATH").then(|| PathBuf::from("/env/chrome"));
        assert_eq!(
            find_with(None, env, yes).unwrap(),
            PathBuf::from("/env/chrome")
        );
        assert_eq!(
            find_with(None, no_env, yes).unwrap(),
            PathBuf::from("/usr/lib/chromium/chromium")
        );
        let err = find_with(None, no_env, |_| false).unwrap_err();
        assert!(err.to_string().contains("apt-get install chromium"));
        assert!(matches!(
            find_with(Some(Path::new("/nope")), no_env, |_| false),
            Err(LocateError::NotAt(..))
        ));
    }
}
