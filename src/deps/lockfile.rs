//! What a `Cargo.lock` pins, read with the `cargo-lock` crate (formats v1 to v4): each package's
//! name, version and where it comes from. Pure: the text comes from the caller.

use std::collections::BTreeMap;
use std::str::FromStr;

use semver::Version;

/// Where a locked package comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// crates.io.
    CratesIo,
    /// Another registry, by its source URL (`sparse+https://…` for a sparse index).
    Registry {
        url: String,
    },
    Git {
        url: String,
    },
    /// A path or workspace member: not updated through an index.
    Local,
}

/// One locked package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockedPackage {
    pub name: String,
    pub version: Version,
    pub source: Source,
}

/// A parsed lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    /// The format version (1 to 4).
    pub format: u32,
    pub packages: Vec<LockedPackage>,
    /// Per locked `(name, version)`, the packages that require it (`name version`), sorted.
    pub required_by: BTreeMap<(String, Version), Vec<String>>,
}

impl Locked {
    /// The packages from a registry (crates.io or another), as `(name, version)`.
    pub fn from_registries(&self) -> Vec<(&str, &Version)> {
        self.packages
            .iter()
            .filter(|p| matches!(p.source, Source::CratesIo | Source::Registry { .. }))
            .map(|p| (p.name.as_str(), &p.version))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("Cargo.lock does not parse: {0}")]
pub struct LockfileError(String);

/// Parses a `Cargo.lock`.
pub fn parse(text: &str) -> Result<Locked, LockfileError> {
    let lockfile =
        cargo_lock::Lockfile::from_str(text).map_err(|e| LockfileError(e.to_string()))?;
    let format = match lockfile.version {
        cargo_lock::ResolveVersion::V1 => 1,
        cargo_lock::ResolveVersion::V2 => 2,
        cargo_lock::ResolveVersion::V3 => 3,
        cargo_lock::ResolveVersion::V4 => 4,
        // A format newer than this build knows: report the newest it can name.
        #[allow(unreachable_patterns)]
        _ => 4,
    };
    let packages = lockfile
        .packages
        .iter()
        .map(|p| LockedPackage {
            name: p.name.as_str().to_owned(),
            version: p.version.clone(),
            source: match &p.source {
                None => Source::Local,
                Some(s) if s.is_default_registry() => Source::CratesIo,
                Some(s) if s.is_git() => Source::Git {
                    url: s.url().to_string(),
                },
                // `sparse+https://…` or `registry+https://…` (a git index), as Cargo writes it.
                Some(s) => Source::Registry { url: s.to_string() },
            },
        })
        .collect();
    let mut required_by: BTreeMap<(String, Version), Vec<String>> = BTreeMap::new();
    for p in &lockfile.packages {
        for d in &p.dependencies {
            required_by
                .entry((d.name.as_str().to_owned(), d.version.clone()))
                .or_default()
                .push(format!("{} {}", p.name.as_str(), p.version));
        }
    }
    for who in required_by.values_mut() {
        who.sort();
        who.dedup();
    }
    Ok(Locked {
        format,
        packages,
        required_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/lockfiles/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn v1_and_v4_lockfiles_name_their_packages_and_sources() {
        let v1 = parse(&fixture("v1.lock")).unwrap();
        assert_eq!(v1.format, 1);
        assert!(v1.packages.contains(&LockedPackage {
            name: "itoa".into(),
            version: Version::new(0, 4, 8),
            source: Source::CratesIo
        }));
        let v4 = parse(&fixture("v4.lock")).unwrap();
        assert_eq!(v4.format, 4);
        let by_name = |n: &str| {
            v4.packages
                .iter()
                .find(|p| p.name == n)
                .unwrap()
                .source
                .clone()
        };
        assert_eq!(by_name("itoa"), Source::CratesIo);
        assert_eq!(by_name("local"), Source::Local);
        assert!(matches!(by_name("serde"), Source::Git { url } if url.contains("serde-rs/serde")));
    }

    #[test]
    fn garbage_is_an_error_not_an_empty_lockfile() {
        assert!(parse("[[package]]\nname = 3\n").is_err());
    }
}
