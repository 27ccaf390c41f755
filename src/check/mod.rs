//! `upkeep check PATH`: the same core the server runs, on a local checkout. The checkout is
//! read as the server reads a git tree (the file list, then the files discovery asks for), the
//! versions come from the sparse index, and the plan is printed as text or JSON; `--apply`
//! writes the requirement edits into the work tree. Nothing in the checkout is built or run.

pub mod bench;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::audit::AdvisoryDb;
use crate::cargo::{Change, ResolveError, Resolver};
use crate::config::{self, Problem, RepoConfig};
use crate::deps::{discover, plan, Discovery, Plan, PlanInput, Workspace};
use crate::index::registries::Registries;

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("benchmark results in target/criterion: {0}")]
    Bench(#[from] crate::bench::ParseError),
    #[error("instruction counts in target/gungraun: {0}")]
    Counts(#[from] crate::bench::gungraun::GungraunError),
    #[error("{0} has no Cargo.toml: not a Rust repository")]
    NotRust(PathBuf),
    #[error("discovery did not settle; still missing: {0:?}")]
    Unsettled(Vec<String>),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
}

/// One workspace's findings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkspaceReport {
    pub root: String,
    pub msrv: Option<String>,
    pub toolchain: Option<String>,
    pub members: Vec<String>,
    pub locked_packages: usize,
    pub lockfile_format: Option<u32>,
    pub problems: Vec<String>,
    pub plan: Plan,
    /// What upkeep cannot update, and why (`deps::reach`).
    pub unreachable: Vec<crate::deps::reach::Unreachable>,
    /// What the lockfile's audit found (with `--advisory-db`).
    pub advisories: Vec<crate::audit::Finding>,
    /// How the server would act on the vulnerabilities: security PRs it would try, what no
    /// release fixes (advisory issues), what `.github/upkeep.toml` silences.
    pub security: crate::audit::SecurityPlan,
    /// Crates the lockfile holds at several versions, and what requires each copy.
    pub duplicates: Vec<crate::deps::duplicates::Duplicate>,
}

/// What `upkeep check` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub path: String,
    pub index: String,
    pub config_problems: Vec<Problem>,
    pub workspaces: Vec<WorkspaceReport>,
    /// Crates whose versions could not be fetched (they are left out of the plan).
    pub index_errors: Vec<String>,
    /// `target/gungraun`'s latest counts against the run before, when both are there.
    pub instruction_counts: Option<Vec<crate::bench::counts::CountComparison>>,
    /// `target/criterion`'s latest run against its base, when both are there.
    pub benchmarks: Option<Vec<crate::bench::Comparison>>,
}

/// Directories never worth walking into (build output and other tools' caches; `vendor/` is
/// walked, as GitHub's tree has it: a `[patch]` source often lives there).
const SKIP_DIRS: &[&str] = &["target", "node_modules", ".git"];
/// Files discovery may ask for (anything else in the tree is irrelevant to it).
const RELEVANT: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain",
    "rust-toolchain.toml",
    "config.toml",
    "config",
    "upkeep.toml",
];

/// The relevant files under `root`, as repository-relative paths with `/` separators.
pub fn local_tree(root: &Path) -> Result<Vec<String>, CheckError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let entries = std::fs::read_dir(&dir).map_err(|source| CheckError::Read {
            path: dir.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let child = rel.join(&name);
            if kind.is_dir() {
                let hidden_ok = name == ".cargo" || name == ".github";
                if !SKIP_DIRS.contains(&name.as_str()) && (!name.starts_with('.') || hidden_ok) {
                    stack.push(child);
                }
            } else if kind.is_file() && RELEVANT.contains(&name.as_str()) {
                out.push(child.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Discovers the workspaces under `root` the way the server does from a git tree.
pub fn local_workspaces(
    root: &Path,
    tree: &[String],
) -> Result<(Vec<Workspace>, BTreeMap<String, String>), CheckError> {
    let mut files = BTreeMap::new();
    for _ in 0..8 {
        match discover(tree, &files) {
            Discovery::Found(found) => return Ok((found, files)),
            Discovery::Need(paths) => {
                for p in paths {
                    let path = root.join(&p);
                    let text = std::fs::read_to_string(&path)
                        .map_err(|source| CheckError::Read { path, source })?;
                    files.insert(p, text);
                }
            }
        }
    }
    match discover(tree, &files) {
        Discovery::Found(found) => Ok((found, files)),
        Discovery::Need(paths) => Err(CheckError::Unsettled(paths)),
    }
}

/// Runs the check: discovery, index, plan.
pub async fn run(
    root: &Path,
    index: &Registries,
    advisories: Option<&AdvisoryDb>,
) -> Result<Report, CheckError> {
    let tree = local_tree(root)?;
    if !tree.iter().any(|p| p.ends_with("Cargo.toml")) {
        return Err(CheckError::NotRust(root.to_owned()));
    }
    let (workspaces, files) = local_workspaces(root, &tree)?;
    let (config, config_problems) = match std::fs::read_to_string(root.join(config::repo::PATH)) {
        Ok(text) => {
            let parsed = config::parse(&text);
            (parsed.config, parsed.problems)
        }
        Err(_) => (RepoConfig::default(), Vec::new()),
    };
    let (versions, problems) = index.candidates(&workspaces).await;
    let now = Utc::now();
    let mut reports = Vec::new();
    for ws in &workspaces {
        let unreachable = crate::deps::reach::unreachable(
            ws,
            &files,
            &crate::cargo::Resolver::default().allowed_git_hosts,
        );
        let mut plan = plan(&PlanInput {
            workspace: ws,
            config: &config,
            versions: &versions,
            open_prs: &[],
            now,
            unreachable: &unreachable,
        });
        let mut findings = Vec::new();
        let mut security = crate::audit::SecurityPlan::default();
        if let (Some(db), Some((path, locked))) = (advisories, &ws.lockfile) {
            plan.annotate_advisories(db);
            let yanked: BTreeSet<(String, String)> = locked
                .packages
                .iter()
                .filter(|p| {
                    versions
                        .get(&p.name)
                        .is_some_and(|c| c.iter().any(|c| c.version == p.version && c.yanked))
                })
                .map(|p| (p.name.clone(), p.version.to_string()))
                .collect();
            if let Some(text) = files.get(path) {
                findings = crate::audit::audit(db, text, &yanked)?;
                security = crate::audit::security_plan(&crate::audit::SecurityInput {
                    workspace: ws,
                    findings: &findings,
                    db,
                    versions: &versions,
                    config: &config,
                });
            }
        }
        reports.push(WorkspaceReport {
            root: ws.root.clone(),
            msrv: ws.msrv.as_ref().map(ToString::to_string),
            toolchain: ws.toolchain.clone(),
            members: ws.members.iter().map(|m| m.name.clone()).collect(),
            locked_packages: ws.lockfile.as_ref().map_or(0, |(_, l)| l.packages.len()),
            lockfile_format: ws.lockfile.as_ref().map(|(_, l)| l.format),
            problems: ws.problems.clone(),
            plan,
            advisories: findings,
            security,
            unreachable,
            duplicates: ws
                .lockfile
                .as_ref()
                .map(|(_, l)| crate::deps::duplicates::duplicates(l))
                .unwrap_or_default(),
        });
    }
    Ok(Report {
        instruction_counts: bench::compare_local_counts(root)?,
        benchmarks: bench::compare_local(root)?,
        path: root.display().to_string(),
        index: index.default_client().base().to_string(),
        config_problems,
        workspaces: reports,
        index_errors: problems
            .iter()
            .map(|p| format!("{}: {}", p.registry, p.message))
            .collect(),
    })
}

/// Writes the plan into the work tree: every requirement edit, and the lockfile real cargo
/// resolves for it (refresh, moves off yanked versions, bumps). Returns the files written.
pub async fn apply(
    root: &Path,
    report: &Report,
    resolver: &Resolver,
) -> Result<Vec<String>, CheckError> {
    let tree = local_tree(root)?;
    let (workspaces, files) = local_workspaces(root, &tree)?;
    let mut written = Vec::new();
    for ws in &workspaces {
        let Some(found) = report.workspaces.iter().find(|r| r.root == ws.root) else {
            continue;
        };
        // One edit per requirement: a breaking bump (planned later) wins over a compatible one.
        let mut last = BTreeMap::new();
        let mut precise = Vec::new();
        let mut refresh = false;
        for pr in &found.plan.pull_requests {
            for e in &pr.edits {
                last.insert(
                    (e.manifest.clone(), e.table.clone(), e.key.clone()),
                    e.clone(),
                );
            }
            if pr.kind == crate::deps::PrKind::Refresh && pr.precise.is_empty() {
                refresh = true;
            } else {
                precise.extend(pr.precise.iter().cloned());
            }
        }
        let edits: Vec<_> = last.into_values().collect();
        if edits.is_empty() && precise.is_empty() && !refresh {
            continue;
        }
        // A refresh moves yanked versions too; precise moves are for when there is none.
        let change = Change {
            edits: &edits,
            precise: if refresh { &[] } else { &precise },
            refresh,
        };
        let resolved = resolver.resolve(ws, &files, &change).await?;
        for (path, text) in resolved.files {
            let full = root.join(&path);
            std::fs::write(&full, text)
                .map_err(|source| CheckError::Write { path: full, source })?;
            written.push(path);
        }
    }
    Ok(written)
}
