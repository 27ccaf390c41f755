//! What upkeep cannot reach in a workspace (issue 25; dependabot-core#14945 and #13219, where
//! one such dependency fails the whole update job): a path dependency or `[patch]` source
//! outside the repository, and a git source on a host upkeep does not fetch from. Their
//! manifests cannot be read, so they are not updated, and neither are the crates they depend
//! on (their requirements are unknown); everything else goes ahead, cargo resolving with a
//! stand-in for each (`cargo::standin`). `[patch]` sources inside the repository are named too:
//! they come from the repository, not the index, and cargo reads their manifests. Pure.

use std::collections::{BTreeMap, BTreeSet};

use semver::Version;
use toml::{Table, Value};

use super::lockfile::Source;
use super::workspace::{join, Workspace};

/// Why a package cannot be updated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Why {
    /// `path = "../…"` leaving the repository.
    OutsidePath { path: String },
    /// A git source on a host upkeep does not fetch from.
    GitHost { url: String },
    /// A `[patch]` with a path inside the repository: resolved from it, never from the index.
    PatchedInRepo { path: String },
}

/// One package upkeep cannot update, and what it holds in place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unreachable {
    #[serde(rename = "crate")]
    pub package: String,
    /// The version the lockfile holds, when it holds one.
    pub version: Option<Version>,
    /// The manifest that names it.
    pub manifest: String,
    #[serde(flatten)]
    pub why: Why,
    /// Its locked registry dependencies: kept at these versions, since its requirements on
    /// them cannot be read.
    pub holds: Vec<(String, Version)>,
}

impl Unreachable {
    /// Whether cargo needs a stand-in for it (its manifest is out of reach).
    pub fn needs_standin(&self) -> bool {
        !matches!(self.why, Why::PatchedInRepo { .. })
    }

    /// One line: what and why.
    pub fn reason(&self) -> String {
        match &self.why {
            Why::OutsidePath { path } => format!(
                "path `{path}` ({}) is outside the repository: its manifest cannot be read",
                self.manifest
            ),
            Why::GitHost { url } => format!(
                "git source `{url}` ({}) is on a host upkeep does not fetch from",
                self.manifest
            ),
            Why::PatchedInRepo { path } => format!(
                "patched with `{path}` ({}): it comes from the repository, not the index",
                self.manifest
            ),
        }
    }
}

/// What in `ws` upkeep cannot reach; `files` holds its manifests, `allowed_hosts` the git
/// hosts upkeep fetches from.
pub fn unreachable(
    ws: &Workspace,
    files: &BTreeMap<String, String>,
    allowed_hosts: &[String],
) -> Vec<Unreachable> {
    let mut manifests: BTreeSet<String> = ws.members.iter().map(|m| manifest_of(&m.dir)).collect();
    manifests.insert(manifest_of(&ws.root));
    let mut found: BTreeMap<(String, Why), String> = BTreeMap::new();
    for manifest in &manifests {
        let Some(table) = files.get(manifest).and_then(|t| t.parse::<Table>().ok()) else {
            continue;
        };
        let dir = manifest.strip_suffix("Cargo.toml").unwrap_or_default();
        let dir = dir.trim_end_matches('/');
        for (patch, key, spec) in entries(&table) {
            let Some(t) = spec.as_table() else { continue };
            let package = t
                .get("package")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_owned();
            let why = if let Some(url) = t.get("git").and_then(Value::as_str) {
                let host = url::Url::parse(url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
                let allowed = host
                    .as_deref()
                    .is_some_and(|h| allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(h)));
                if allowed {
                    continue;
                }
                Why::GitHost {
                    url: url.to_owned(),
                }
            } else if let Some(path) = t.get("path").and_then(Value::as_str) {
                match join(dir, path) {
                    None => Why::OutsidePath {
                        path: path.to_owned(),
                    },
                    Some(inside) if patch => Why::PatchedInRepo { path: inside },
                    Some(_) => continue,
                }
            } else {
                continue;
            };
            found
                .entry((package, why))
                .or_insert_with(|| manifest.clone());
        }
    }
    let locked = ws.lockfile.as_ref().map(|(_, l)| l);
    found
        .into_iter()
        .map(|((package, why), manifest)| {
            let version = locked.and_then(|l| {
                l.packages
                    .iter()
                    .find(|p| {
                        p.name == package
                            && match &why {
                                Why::GitHost { .. } => matches!(p.source, Source::Git { .. }),
                                _ => p.source == Source::Local,
                            }
                    })
                    .map(|p| p.version.clone())
            });
            let holds = match (&version, locked) {
                (Some(v), Some(l)) if !matches!(why, Why::PatchedInRepo { .. }) => {
                    let me = format!("{package} {v}");
                    l.packages
                        .iter()
                        .filter(|p| matches!(p.source, Source::CratesIo | Source::Registry { .. }))
                        .filter(|p| {
                            l.required_by
                                .get(&(p.name.clone(), p.version.clone()))
                                .is_some_and(|who| who.contains(&me))
                        })
                        .map(|p| (p.name.clone(), p.version.clone()))
                        .collect()
                }
                _ => Vec::new(),
            };
            Unreachable {
                package,
                version,
                manifest,
                why,
                holds,
            }
        })
        .collect()
}

/// Which locked registry packages stay where they are, and why (the first reason).
pub fn held(unreachable: &[Unreachable]) -> BTreeMap<(String, Version), String> {
    let mut out = BTreeMap::new();
    for u in unreachable {
        for (name, version) in &u.holds {
            out.entry((name.clone(), version.clone()))
                .or_insert_with(|| {
                    format!(
                        "required by `{}`, which upkeep cannot read: {}",
                        u.package,
                        u.reason()
                    )
                });
        }
    }
    out
}

fn manifest_of(dir: &str) -> String {
    if dir.is_empty() {
        "Cargo.toml".to_owned()
    } else {
        format!("{dir}/Cargo.toml")
    }
}

/// Every dependency entry of a manifest, `[patch.*]` ones flagged: `(patch, key, spec)`.
fn entries(manifest: &Table) -> Vec<(bool, &str, &Value)> {
    const TABLES: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut tables: Vec<(bool, &Table)> = TABLES
        .iter()
        .filter_map(|t| manifest.get(*t).and_then(Value::as_table))
        .map(|t| (false, t))
        .collect();
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        for t in targets.values().filter_map(Value::as_table) {
            tables.extend(
                TABLES
                    .iter()
                    .filter_map(|n| t.get(*n).and_then(Value::as_table))
                    .map(|t| (false, t)),
            );
        }
    }
    if let Some(deps) = manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(Value::as_table)
    {
        tables.push((false, deps));
    }
    if let Some(patches) = manifest.get("patch").and_then(Value::as_table) {
        tables.extend(
            patches
                .values()
                .filter_map(Value::as_table)
                .map(|t| (true, t)),
        );
    }
    tables
        .into_iter()
        .flat_map(|(patch, t)| t.iter().map(move |(k, v)| (patch, k.as_str(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deps::workspace::{discover, Discovery};

    fn fixture() -> (Workspace, BTreeMap<String, String>) {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repos/patched");
        let tree: Vec<String> = [
            "Cargo.toml",
            "Cargo.lock",
            "app/Cargo.toml",
            "app/src/lib.rs",
            "vendor/smallvec/Cargo.toml",
            "vendor/smallvec/src/lib.rs",
        ]
        .map(str::to_owned)
        .to_vec();
        let files: BTreeMap<String, String> = tree
            .iter()
            .filter(|p| !p.ends_with(".rs"))
            .map(|p| (p.clone(), std::fs::read_to_string(root.join(p)).unwrap()))
            .collect();
        let Discovery::Found(mut found) = discover(&tree, &files) else {
            panic!("discovery asked for more");
        };
        (found.remove(0), files)
    }

    #[test]
    fn an_outside_path_and_an_in_repo_patch_are_named_with_what_they_hold() {
        let (ws, files) = fixture();
        assert_eq!(ws.patch_manifests, ["vendor/smallvec/Cargo.toml"]);
        let found = unreachable(&ws, &files, &["github.com".to_owned()]);
        let lines: Vec<(String, String, bool)> = found
            .iter()
            .map(|u| (u.package.clone(), u.reason(), u.needs_standin()))
            .collect();
        assert_eq!(
            lines,
            [
                (
                    "helper".to_owned(),
                    "path `../../outside/helper` (app/Cargo.toml) is outside the repository: its manifest cannot be read".to_owned(),
                    true
                ),
                (
                    "smallvec".to_owned(),
                    "patched with `vendor/smallvec` (Cargo.toml): it comes from the repository, not the index".to_owned(),
                    false
                ),
            ]
        );
        assert_eq!(found[0].version, Some(Version::new(0, 3, 0)));
        assert_eq!(found[0].holds, [("itoa".to_owned(), Version::new(1, 0, 1))]);
        let held = held(&found);
        assert_eq!(held.len(), 1);
        assert!(
            held[&("itoa".to_owned(), Version::new(1, 0, 1))].starts_with("required by `helper`")
        );
    }

    #[test]
    fn a_git_source_is_unreachable_only_on_a_host_not_allowed() {
        let (mut ws, mut files) = fixture();
        let app = files["app/Cargo.toml"].replace(
            "log = \"0.4.14\"",
            "log = \"0.4.14\"\nfrom-gitlab = { git = \"https://gitlab.example/o/r\" }\nfrom-github = { git = \"https://github.com/o/r\" }",
        );
        files.insert("app/Cargo.toml".into(), app);
        ws.lockfile = None;
        let found = unreachable(&ws, &files, &["github.com".to_owned()]);
        let git: Vec<&Unreachable> = found
            .iter()
            .filter(|u| matches!(u.why, Why::GitHost { .. }))
            .collect();
        assert_eq!(git.len(), 1);
        assert_eq!(git[0].package, "from-gitlab");
        assert_eq!(git[0].version, None);
    }
}
