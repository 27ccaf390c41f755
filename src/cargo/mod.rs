//! Lockfiles by real cargo, without running any repository code: the workspace's manifests are
//! rebuilt in a temp dir (targets and build scripts dropped, placeholder `src/lib.rs`, git
//! hosts checked), beside the lockfile and only the repository's `[registries]`; cargo runs
//! there with its own `CARGO_HOME`, a scrubbed environment and a timeout, and only resolves:
//! `cargo update -p name@old --precise new` one package at a time, `cargo update` for a
//! refresh, `cargo update --workspace` after requirement edits. The resulting `Cargo.lock` and
//! what moved in it come back.

pub mod failure;
pub mod sanitize;
pub mod standin;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use semver::Version;

use crate::deps::lockfile::{self, Source};
use crate::deps::rewrite::{self, RewriteFileError};
use crate::deps::{RequirementEdit, Workspace};
use crate::heal::breaker::Admission;
use crate::heal::breakers::Breakers;
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
    #[error("git host {host} is unreachable (circuit open) until {until_ms}")]
    GitHostUnavailable { host: String, until_ms: i64 },
    /// Resolving around what upkeep cannot read would change what it cannot see.
    #[error("{0}")]
    StandIn(String),
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
    /// One breaker per git host (`None`: none kept, as for `upkeep check`): a host that keeps
    /// failing is not asked again, each try costing a time-out, until its probe.
    pub git_breakers: Option<Arc<Breakers>>,
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
            git_breakers: None,
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
            // A refresh that only raises requirements (`requirements = "bump"`, nothing newer to
            // take) must not take what the plan held back: it re-resolves the workspace only.
            refresh: pr.kind == crate::deps::PrKind::Refresh
                && pr.precise.is_empty()
                && !pr.updates.is_empty(),
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
        let mut git_hosts = BTreeSet::new();
        // What upkeep cannot read gets a stand-in (its name, locked version and locked
        // dependencies pinned), and the manifests point at it.
        let unreachable = crate::deps::reach::unreachable(ws, files, &self.allowed_git_hosts);
        let mut redirects = BTreeMap::new();
        for u in unreachable.iter().filter(|u| u.needs_standin()) {
            let Some(version) = &u.version else { continue };
            let dir = tmp.path().join("standins").join(standin::dir_name(u));
            std::fs::create_dir_all(dir.join("src"))?;
            std::fs::write(dir.join("Cargo.toml"), standin::manifest(u, version))?;
            std::fs::write(dir.join("src/lib.rs"), "")?;
            redirects.insert(u.package.clone(), dir.to_string_lossy().into_owned());
        }
        // `[patch]` sources inside the repository are real packages cargo reads.
        for path in &ws.patch_manifests {
            let text = files
                .get(path)
                .ok_or_else(|| ResolveError::MissingFile(path.clone()))?;
            self.write_manifest(&root, &ws.root, path, text, &redirects, &mut git_hosts)?;
        }
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
            self.write_manifest(&root, &ws.root, path, &edited, &redirects, &mut git_hosts)?;
        }
        let lock_rel = ws.lockfile.as_ref().map(|(p, _)| p.clone());
        if let Some(lock) = &lock_rel {
            let text = files
                .get(lock)
                .ok_or_else(|| ResolveError::MissingFile(lock.clone()))?;
            std::fs::write(root.join("Cargo.lock"), text)?;
            // Git sources locked through another git dependency are fetched too.
            git_hosts.extend(lockfile::parse(text).iter().flat_map(locked_git_hosts));
        }
        let git_hosts: Vec<String> = git_hosts.into_iter().collect();
        self.admit_git_hosts(&git_hosts)?;
        if !ws.registries.is_empty() {
            std::fs::create_dir_all(root.join(".cargo"))?;
            std::fs::write(root.join(".cargo/config.toml"), registries_config(ws))?;
        }

        let ran = self
            .run_change(&root, &home, change, lock_rel.is_none())
            .await;
        self.record_git_hosts(&git_hosts, &ran)?;
        ran?;

        let mut new_lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
        let old_text = lock_rel.as_ref().and_then(|p| files.get(p));
        if let Some(old_text) = old_text {
            new_lock = standin::restore_sources(&new_lock, &unreachable, old_text);
        }
        let old = old_text.map(|t| lockfile::parse(t)).transpose()?;
        let new = lockfile::parse(&new_lock)?;
        if let Some(why) = old
            .as_ref()
            .and_then(|old| standin::lost(old, &new, &unreachable))
        {
            return Err(ResolveError::StandIn(why));
        }
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

    /// Writes manifest `path` (repository path, text `text`) under `root`, pointed at the
    /// stand-ins and sanitized, with a placeholder `src/lib.rs` for a package; its git hosts
    /// go into `git_hosts`.
    fn write_manifest(
        &self,
        root: &Path,
        ws_root: &str,
        path: &str,
        text: &str,
        redirects: &BTreeMap<String, String>,
        git_hosts: &mut BTreeSet<String>,
    ) -> Result<(), ResolveError> {
        let redirected = standin::redirect(path, text, redirects)?;
        let clean = sanitize::sanitize(path, &redirected, &self.allowed_git_hosts)?;
        git_hosts.extend(clean.git_hosts);
        let local = root.join(relative(ws_root, path));
        let dir = local.parent().unwrap_or(root).to_path_buf();
        std::fs::create_dir_all(dir.join("src"))?;
        std::fs::write(&local, clean.text)?;
        if clean.is_package {
            std::fs::write(dir.join("src/lib.rs"), "")?;
        }
        Ok(())
    }

    /// The cargo commands `change` takes, in order.
    async fn run_change(
        &self,
        root: &Path,
        home: &Path,
        change: &Change<'_>,
        no_lockfile: bool,
    ) -> Result<(), ResolveError> {
        for (name, from, to) in change.precise {
            let spec = format!("{name}@{from}");
            self.cargo(
                root,
                home,
                &["update", "-p", &spec, "--precise", &to.to_string()],
            )
            .await?;
        }
        if change.refresh {
            self.cargo(root, home, &["update"]).await?;
        } else if !change.edits.is_empty() {
            self.cargo(root, home, &["update", "--workspace"]).await?;
        } else if no_lockfile {
            self.cargo(root, home, &["generate-lockfile"]).await?;
        }
        Ok(())
    }

    /// Refuses to run cargo while a git host it would fetch from has its breaker open.
    fn admit_git_hosts(&self, hosts: &[String]) -> Result<(), ResolveError> {
        let Some(breakers) = &self.git_breakers else {
            return Ok(());
        };
        // Every host is asked before any probe is taken, so a probe is not left unanswered
        // because another host was still open.
        if let Some((host, until_ms)) = hosts
            .iter()
            .find_map(|h| breakers.blocked_until(h).map(|t| (h, t)))
        {
            return Err(ResolveError::GitHostUnavailable {
                host: host.clone(),
                until_ms,
            });
        }
        for host in hosts {
            if let Admission::Wait { until_ms } = breakers.admit(host) {
                return Err(ResolveError::GitHostUnavailable {
                    host: host.clone(),
                    until_ms,
                });
            }
        }
        Ok(())
    }

    /// Tells each host's breaker how the run went: a fetch cargo blames on the network or the
    /// host is that host's failure, and once its breaker opens the run's error becomes
    /// `GitHostUnavailable` (the work waits for the probe instead of giving up on the
    /// update); success, or a cargo failure blamed on no host, means every fetch went through.
    fn record_git_hosts(
        &self,
        hosts: &[String],
        ran: &Result<(), ResolveError>,
    ) -> Result<(), ResolveError> {
        let Some(breakers) = &self.git_breakers else {
            return Ok(());
        };
        let blamed = match ran {
            Err(ResolveError::Cargo { stderr, .. }) => failure::unreachable_git_host(stderr)
                .filter(|h| hosts.iter().any(|known| known == h)),
            Ok(()) => None,
            // A time-out says nothing about which host was slow, and cargo that did not run
            // (an I/O error) reached none.
            Err(_) => return Ok(()),
        };
        match blamed {
            Some(host) => {
                breakers.record(&host, Some("unreachable"));
                if let Some(until_ms) = breakers.blocked_until(&host) {
                    return Err(ResolveError::GitHostUnavailable { host, until_ms });
                }
            }
            None => {
                for host in hosts {
                    breakers.record(host, None);
                }
            }
        }
        Ok(())
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

/// The hosts of a lockfile's git sources (`https://host/o/r?rev=…#…`).
fn locked_git_hosts(locked: &lockfile::Locked) -> Vec<String> {
    locked
        .packages
        .iter()
        .filter_map(|p| match &p.source {
            Source::Git { url } => sanitize::host_of(url),
            _ => None,
        })
        .collect()
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
