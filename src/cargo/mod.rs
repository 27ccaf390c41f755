//! Lockfiles by real cargo, without running any repository code: the workspace's manifests are
//! rebuilt in a temp dir (targets and build scripts dropped, placeholder `src/lib.rs`, git
//! hosts checked), beside the lockfile and only the repository's `[registries]`; cargo runs
//! there with its own `CARGO_HOME`, a scrubbed environment and a timeout, and only resolves:
//! `cargo update -p name@old --precise new` one package at a time, `cargo update` for a
//! refresh, `cargo update --workspace` after requirement edits. The resulting `Cargo.lock` and
//! what moved in it come back.

pub mod sanitize;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use semver::Version;

use crate::deps::lockfile::{self, Source};
use crate::deps::rewrite::{self, RewriteFileError};
use crate::deps::{RequirementEdit, Workspace};
pub use sanitize::SanitizeError;

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("temp dir: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Sanitize(#[from] SanitizeError),
    #[error(transparent)]
    Rewrite(#[from] RewriteFileError),
    #[error("{0} is needed to resolve but was not fetched")]
    MissingFile(String),
    #[error("`cargo {args}` timed out after {secs} s")]
    Timeout { args: String, secs: u64 },
    #[error("`cargo {args}` failed: {stderr}")]
    Cargo { args: String, stderr: String },
    #[error("the new Cargo.lock does not parse: {0}")]
    Lockfile(#[from] lockfile::LockfileError),
}

/// How cargo is run.
#[derive(Debug, Clone)]
pub struct Resolver {
    /// The cargo binary (a real one or a rustup proxy).
    pub cargo: PathBuf,
    /// Per cargo command.
    pub timeout: Duration,
    /// A sparse index to use in place of crates.io (tests, mirrors); `None` for crates.io.
    pub index: Option<String>,
    /// Hosts git dependencies may come from (the repository's own host at least).
    pub allowed_git_hosts: Vec<String>,
    /// Resolve with `incompatible-rust-versions = "fallback"` (respect the MSRV).
    pub msrv_aware: bool,
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver {
            cargo: std::env::var_os("UPKEEP_CARGO")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("cargo")),
            timeout: Duration::from_secs(120),
            index: None,
            allowed_git_hosts: vec!["github.com".to_owned()],
            msrv_aware: true,
        }
    }
}

/// What to change.
#[derive(Debug, Clone, Default)]
pub struct Change<'a> {
    pub edits: &'a [RequirementEdit],
    /// `(name, from, to)`: one `cargo update -p name@from --precise to` each.
    pub precise: &'a [(String, Version, Version)],
    /// A plain `cargo update` (the lockfile refresh).
    pub refresh: bool,
}

impl<'a> Change<'a> {
    /// What a planned PR asks of cargo: its edits and precise moves, or a plain `cargo update`
    /// for a refresh with nothing held back.
    pub fn for_pr(pr: &'a crate::deps::PlannedPr) -> Self {
        Change {
            edits: &pr.edits,
            precise: &pr.precise,
            refresh: pr.kind == crate::deps::PrKind::Refresh && pr.precise.is_empty(),
        }
    }
}

/// One package that moved in the lockfile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockChange {
    pub name: String,
    pub from: Option<Version>,
    pub to: Option<Version>,
}

/// The result: the new files and what moved.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Repository path → new text, for every file that changed (manifests and `Cargo.lock`).
    pub files: BTreeMap<String, String>,
    pub changes: Vec<LockChange>,
}

impl Resolver {
    /// Applies `change` to `ws` (whose files are in `files`, repository paths) with real cargo.
    pub async fn resolve(
        &self,
        ws: &Workspace,
        files: &BTreeMap<String, String>,
        change: &Change<'_>,
    ) -> Result<Resolved, ResolveError> {
        let tmp = tempfile::Builder::new()
            .prefix("upkeep-resolve-")
            .tempdir()?;
        let root = tmp.path().join("ws");
        let home = tmp.path().join("cargo-home");
        std::fs::create_dir_all(&home)?;
        std::fs::write(home.join("config.toml"), self.cargo_home_config())?;

        // The manifests, with edits applied, sanitized; a placeholder lib for each package.
        let mut manifests: Vec<String> = ws.members.iter().map(|m| manifest_path(&m.dir)).collect();
        let root_manifest = manifest_path(&ws.root);
        if !manifests.contains(&root_manifest) {
            manifests.push(root_manifest);
        }
        let mut out_files = BTreeMap::new();
        for path in &manifests {
            let text = files
                .get(path)
                .ok_or_else(|| ResolveError::MissingFile(path.clone()))?;
            let edits: Vec<&RequirementEdit> = change
                .edits
                .iter()
                .filter(|e| e.manifest == *path)
                .collect();
            let edited = rewrite::apply(text, &edits)?;
            if edited != *text {
                out_files.insert(path.clone(), edited.clone());
            }
            let (clean, is_package) = sanitize::sanitize(path, &edited, &self.allowed_git_hosts)?;
            let local = root.join(relative(&ws.root, path));
            let dir = local.parent().unwrap_or(&root).to_path_buf();
            std::fs::create_dir_all(dir.join("src"))?;
            std::fs::write(&local, clean)?;
            if is_package {
                std::fs::write(dir.join("src/lib.rs"), "")?;
            }
        }
        let lock_rel = ws.lockfile.as_ref().map(|(p, _)| p.clone());
        if let Some(lock) = &lock_rel {
            let text = files
                .get(lock)
                .ok_or_else(|| ResolveError::MissingFile(lock.clone()))?;
            std::fs::write(root.join("Cargo.lock"), text)?;
        }
        if !ws.registries.is_empty() {
            std::fs::create_dir_all(root.join(".cargo"))?;
            std::fs::write(root.join(".cargo/config.toml"), registries_config(ws))?;
        }

        for (name, from, to) in change.precise {
            let spec = format!("{name}@{from}");
            self.cargo(
                &root,
                &home,
                &["update", "-p", &spec, "--precise", &to.to_string()],
            )
            .await?;
        }
        if change.refresh {
            self.cargo(&root, &home, &["update"]).await?;
        } else if !change.edits.is_empty() {
            self.cargo(&root, &home, &["update", "--workspace"]).await?;
        } else if lock_rel.is_none() {
            self.cargo(&root, &home, &["generate-lockfile"]).await?;
        }

        let new_lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
        let old = match &lock_rel {
            Some(p) => files.get(p).map(|t| lockfile::parse(t)).transpose()?,
            None => None,
        };
        let new = lockfile::parse(&new_lock)?;
        let changes = diff(old.as_ref(), &new);
        let lock_path = lock_rel.unwrap_or_else(|| relative_join(&ws.root, "Cargo.lock"));
        if files.get(&lock_path) != Some(&new_lock) {
            out_files.insert(lock_path, new_lock);
        }
        Ok(Resolved {
            files: out_files,
            changes,
        })
    }

    /// `CARGO_HOME/config.toml`: sparse protocol, bounded network, and the index replacement.
    fn cargo_home_config(&self) -> String {
        let mut s = String::from(
            "[registries.crates-io]\nprotocol = \"sparse\"\n\n[net]\nretry = 2\ngit-fetch-with-cli = false\n\n[http]\ntimeout = 30\n",
        );
        if let Some(index) = &self.index {
            let url = index.strip_prefix("sparse+").unwrap_or(index);
            s.push_str(&format!(
                "\n[source.crates-io]\nreplace-with = \"upkeep-index\"\n\n[source.upkeep-index]\nregistry = \"sparse+{url}\"\n"
            ));
        }
        s
    }

    async fn cargo(&self, dir: &Path, home: &Path, args: &[&str]) -> Result<(), ResolveError> {
        let mut cmd = tokio::process::Command::new(&self.cargo);
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("CARGO_HOME", home)
            .env("HOME", home)
            .env("CARGO_TARGET_DIR", home.join("target"))
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_NET_OFFLINE", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        // A rustup proxy finds its toolchains through RUSTUP_HOME, not the scrubbed HOME.
        if let Some(rustup) = rustup_home() {
            cmd.env("RUSTUP_HOME", rustup);
        }
        if let Some(tc) = std::env::var_os("RUSTUP_TOOLCHAIN") {
            cmd.env("RUSTUP_TOOLCHAIN", tc);
        }
        if self.msrv_aware {
            cmd.env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "fallback");
        }
        let joined = args.join(" ");
        let output = match tokio::time::timeout(self.timeout, cmd.output()).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(ResolveError::Timeout {
                    args: joined,
                    secs: self.timeout.as_secs(),
                })
            }
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(ResolveError::Cargo {
                args: joined,
                stderr: stderr.trim().chars().take(4000).collect(),
            });
        }
        Ok(())
    }
}

fn rustup_home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("RUSTUP_HOME") {
        return Some(PathBuf::from(h));
    }
    let default = PathBuf::from(std::env::var_os("HOME")?).join(".rustup");
    default.is_dir().then_some(default)
}

/// Only `[registries.NAME] index` from the repository's cargo configuration: no build settings,
/// wrappers, runners, aliases or source replacements.
fn registries_config(ws: &Workspace) -> String {
    let mut s = String::new();
    for (name, index) in &ws.registries {
        s.push_str(&format!("[registries.{name}]\nindex = {index:?}\n"));
    }
    s
}

/// What moved between two lockfiles (registry packages only), sorted by name.
pub fn diff(old: Option<&lockfile::Locked>, new: &lockfile::Locked) -> Vec<LockChange> {
    let registry = |l: &lockfile::Locked| -> BTreeMap<String, Vec<Version>> {
        let mut m: BTreeMap<String, Vec<Version>> = BTreeMap::new();
        for p in &l.packages {
            if matches!(p.source, Source::CratesIo | Source::Registry { .. }) {
                m.entry(p.name.clone()).or_default().push(p.version.clone());
            }
        }
        m
    };
    let before = old.map(registry).unwrap_or_default();
    let after = registry(new);
    let mut out = Vec::new();
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let mut gone: Vec<Version> = before.get(name).cloned().unwrap_or_default();
        let mut came: Vec<Version> = after.get(name).cloned().unwrap_or_default();
        gone.retain(|v| !after.get(name).is_some_and(|a| a.contains(v)));
        came.retain(|v| !before.get(name).is_some_and(|b| b.contains(v)));
        gone.sort();
        came.sort();
        let n = gone.len().max(came.len());
        for i in 0..n {
            out.push(LockChange {
                name: name.clone(),
                from: gone.get(i).cloned(),
                to: came.get(i).cloned(),
            });
        }
    }
    out
}

fn manifest_path(dir: &str) -> String {
    relative_join(dir, "Cargo.toml")
}

fn relative_join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

/// `path` relative to the workspace root `root` (both repository paths).
fn relative(root: &str, path: &str) -> String {
    if root.is_empty() {
        path.to_owned()
    } else {
        path.strip_prefix(&format!("{root}/"))
            .unwrap_or(path)
            .to_owned()
    }
}
