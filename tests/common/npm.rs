//! The real-tracker fixture site (a test fixture, so it lives with the tests): pages from `tests/fixtures/npm-site/` and the bundles that
//! `tests/npm/setup.sh` builds from npm into `tests/npm/dist/` (never committed, so read from disk
//! at run time rather than compiled in).

use std::path::Path;

use leakhound_serve::{Role, Site};

/// The host the fixture pages are served on (`http://www.npm-clinic.test/posthog.html`).
pub const NPM_SITE_HOST: &str = "www.npm-clinic.test";

/// The real collection and configuration hosts the bundled libraries contact. Map them to the
/// server too; they answer any path with 204.
pub const NPM_COLLECTOR_HOSTS: [&str; 5] = [
    "us.i.posthog.com",
    "us-assets.i.posthog.com",
    "api-js.mixpanel.com",
    "api.segment.io",
    "cdn.segment.com",
];

/// The fixture pages at `/` and the bundles at `/dist/` on [`NPM_SITE_HOST`], given the repository
/// root. Fails with `NotFound` naming the setup script when the bundles were not built.
pub fn npm_site(repo_root: &Path) -> std::io::Result<Site> {
    let dist = repo_root.join("tests/npm/dist");
    let missing = ["posthog.js", "mixpanel.js", "segment.js"]
        .iter()
        .any(|f| !dist.join(f).is_file());
    if missing {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{} has no bundles; run tests/npm/setup.sh first",
                dist.display()
            ),
        ));
    }
    let mut site = Site::new()
        .disk_dir(
            NPM_SITE_HOST,
            "/",
            &repo_root.join("tests/fixtures/npm-site"),
        )?
        .disk_dir(NPM_SITE_HOST, "/dist", &dist)?;
    for host in NPM_COLLECTOR_HOSTS {
        site = site.role(host, Role::Tracker);
    }
    Ok(site)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_pages_and_bundles_from_disk_or_says_how_to_build_them() {
        let root = std::env::temp_dir().join(format!("lh-npm-site-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("tests/fixtures/npm-site")).unwrap();
        std::fs::create_dir_all(root.join("tests/npm/dist")).unwrap();
        std::fs::write(root.join("tests/fixtures/npm-site/posthog.html"), "page").unwrap();

        let err = npm_site(&root).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(err.to_string().contains("tests/npm/setup.sh"));

        for f in ["posthog.js", "mixpanel.js", "segment.js"] {
            std::fs::write(root.join("tests/npm/dist").join(f), f).unwrap();
        }
        let site = npm_site(&root).unwrap();
        let page = site.lookup(NPM_SITE_HOST, "/posthog").unwrap();
        assert_eq!(page.bytes, b"page");
        let bundle = site.lookup(NPM_SITE_HOST, "/dist/mixpanel.js").unwrap();
        assert_eq!(bundle.bytes, b"mixpanel.js");
        assert!(bundle.content_type.starts_with("text/javascript"));
        assert_eq!(site.role_of("api.segment.io"), Role::Tracker);
        let _ = std::fs::remove_dir_all(&root);
    }
}
