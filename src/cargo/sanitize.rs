//! Making a repository's manifest safe to hand to cargo for resolution only: targets and build
//! scripts are dropped (cargo needs none to resolve, and none of the repository's code may
//! run), and every git dependency must come from an allowed host, so a manifest cannot make the
//! app fetch from an arbitrary address. Dependencies, features, `links`, `rust-version`,
//! `[patch]` and workspace settings, which decide the resolution, are kept. Pure.

use toml_edit::{DocumentMut, Item, Table};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SanitizeError {
    #[error("{manifest} does not parse: {message}")]
    Parse { manifest: String, message: String },
    #[error("{manifest}: git dependency `{name}` comes from `{url}`, whose host is not allowed (allowed: {allowed})")]
    GitHost {
        manifest: String,
        name: String,
        url: String,
        allowed: String,
    },
}

/// Target tables cargo would look for source files for.
const TARGETS: &[&str] = &["lib", "bin", "example", "test", "bench"];
const AUTO: &[&str] = &[
    "autobins",
    "autoexamples",
    "autotests",
    "autobenches",
    "autolib",
];

/// A manifest made safe to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    pub text: String,
    /// A package (which then needs a placeholder `src/lib.rs`), not only a workspace root.
    pub is_package: bool,
    /// The hosts its git dependencies come from (lower case, sorted, each once).
    pub git_hosts: Vec<String>,
}

/// The manifest with targets and build script removed and git hosts checked.
pub fn sanitize(
    manifest: &str,
    text: &str,
    allowed_git_hosts: &[String],
) -> Result<Sanitized, SanitizeError> {
    let mut doc = parse(manifest, text)?;
    let mut git_hosts = Vec::new();
    check_git(manifest, doc.as_table(), allowed_git_hosts, &mut git_hosts)?;
    git_hosts.sort();
    git_hosts.dedup();
    for t in TARGETS {
        doc.remove(t);
    }
    let is_package = match doc.get_mut("package").and_then(Item::as_table_like_mut) {
        Some(package) => {
            package.remove("build");
            for key in AUTO {
                package.insert(key, toml_edit::value(false));
            }
            true
        }
        None => false,
    };
    if is_package {
        // A lib target at the default path, so cargo sees a package with one target.
        let mut lib = Table::new();
        lib.insert("path", toml_edit::value("src/lib.rs"));
        doc.insert("lib", Item::Table(lib));
    }
    Ok(Sanitized {
        text: doc.to_string(),
        is_package,
        git_hosts,
    })
}

/// A manifest's text as an editable document, or why not.
pub fn parse(manifest: &str, text: &str) -> Result<DocumentMut, SanitizeError> {
    text.parse()
        .map_err(|e: toml_edit::TomlError| SanitizeError::Parse {
            manifest: manifest.to_owned(),
            message: e.message().to_owned(),
        })
}

/// The host of a git URL, lower case (`None`: not a URL with a host).
pub fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

/// Every `git = "…"` anywhere in the manifest (dependencies, target tables, `[patch]`,
/// `[workspace.dependencies]`) must name an allowed host; the hosts go into `hosts`.
fn check_git(
    manifest: &str,
    table: &Table,
    allowed: &[String],
    hosts: &mut Vec<String>,
) -> Result<(), SanitizeError> {
    fn walk(
        manifest: &str,
        name: &str,
        item: &Item,
        allowed: &[String],
        hosts: &mut Vec<String>,
    ) -> Result<(), SanitizeError> {
        let Some(t) = item.as_table_like() else {
            return Ok(());
        };
        if let Some(url) = t.get("git").and_then(Item::as_str) {
            let host = host_of(url);
            let ok = host
                .as_deref()
                .is_some_and(|h| allowed.iter().any(|a| a.eq_ignore_ascii_case(h)));
            if !ok {
                return Err(SanitizeError::GitHost {
                    manifest: manifest.to_owned(),
                    name: name.to_owned(),
                    url: url.to_owned(),
                    allowed: allowed.join(", "),
                });
            }
            hosts.extend(host);
        }
        for (key, child) in t.iter() {
            walk(manifest, key, child, allowed, hosts)?;
        }
        Ok(())
    }
    for (key, item) in table.iter() {
        walk(manifest, key, item, allowed, hosts)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_build_scripts_go_and_dependencies_stay() {
        let text = "[package]\nname = \"x\"\nversion = \"0.1.0\"\nbuild = \"build.rs\"\nlinks = \"z\"\n\n[lib]\npath = \"weird/lib.rs\"\n\n[[bin]]\nname = \"x\"\npath = \"main.rs\"\n\n[dependencies]\nserde = \"1\" # kept\n";
        let Sanitized {
            text: out,
            is_package,
            git_hosts,
        } = sanitize("Cargo.toml", text, &[]).unwrap();
        assert!(is_package);
        assert!(git_hosts.is_empty());
        assert!(!out.contains("build.rs"), "{out}");
        assert!(!out.contains("[[bin]]"), "{out}");
        assert!(!out.contains("weird"), "{out}");
        assert!(out.contains("links = \"z\""), "{out}");
        assert!(out.contains("serde = \"1\" # kept"), "{out}");
        assert!(out.contains("autobins = false"), "{out}");
    }

    #[test]
    fn a_git_dependency_from_an_unlisted_host_is_refused() {
        let allowed = vec!["github.com".to_owned()];
        let ok = "[dependencies]\na = { git = \"https://GitHub.com/o/a\" }\nb = { git = \"https://github.com/o/b\" }\n";
        assert_eq!(
            sanitize("Cargo.toml", ok, &allowed).unwrap().git_hosts,
            ["github.com"]
        );
        let bad = "[patch.crates-io]\nb = { git = \"http://169.254.169.254/latest\" }\n";
        let err = sanitize("Cargo.toml", bad, &allowed).unwrap_err();
        assert!(err.to_string().contains("169.254.169.254"), "{err}");
        let nested = "[target.'cfg(unix)'.dependencies.c]\ngit = \"ssh://git@evil.example/c\"\n";
        assert!(sanitize("Cargo.toml", nested, &allowed).is_err());
    }
}
