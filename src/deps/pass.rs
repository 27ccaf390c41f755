//! A repository's dependency pass on GitHub: gather (repository, branch head, recursive tree,
//! the few files discovery asks for through the blob cache, open upkeep PRs, index versions),
//! decide with the pure `plan`, act (real cargo resolves each PR's lockfile; the Git Data API
//! commits it on a deterministic branch; PRs are opened, updated in place when the plan
//! changed, rebuilt when the base moved under a conflict, closed when superseded; migration
//! issues closed once the lockfile moved past them). A repository with nothing to do costs five
//! requests: repository, ref, tree, pull list, issue list.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tracing::{info, warn};

use crate::cargo::{Change, ResolveError, Resolved, Resolver};
use crate::config::RepoConfig;
use crate::deps::body;
use crate::deps::{plan, Candidate, OpenPr, PlanInput, PlannedPr, PrKind, Workspace};
use crate::drift::accepted::{is_paused, Feature};
use crate::github::blob_cache::BlobCache;
use crate::github::repo::{IssueSummary, Listing, NewFile, PullSummary, Repo};
use crate::github::{GitHubError, InstallationClient};
use crate::index::meta::MetaClient;
use crate::index::registries::Registries;

use super::branches::{is_upkeep_branch, BRANCH_PREFIX};

/// The label every security PR and advisory issue carries.
pub const SECURITY_LABEL: &str = "security";

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error("discovery did not settle; still missing {0:?}")]
    Unsettled(Vec<String>),
    #[error("another replica is running a pass on {0}")]
    Busy(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("a registry the pass needs is unavailable (circuit open) until {until_ms}")]
    IndexUnavailable { until_ms: i64 },
    #[error("git host {host} is unreachable (circuit open) until {until_ms}")]
    GitHostUnavailable { host: String, until_ms: i64 },
}

/// A pass's failure as a job's: GitHub's and the store's as their own (an outage defers, no
/// attempt spent), anything else worth another attempt.
impl From<PassError> for crate::queue::worker::JobError {
    fn from(e: PassError) -> Self {
        match e {
            PassError::GitHub(e) => e.into(),
            PassError::Store(e) => e.into(),
            // An outage is no attempt's fault: wait for the breaker's probe.
            PassError::IndexUnavailable { until_ms } => crate::queue::worker::JobError::Defer {
                until_ms,
                reason: "a package registry is unavailable (circuit open)".into(),
            },
            PassError::GitHostUnavailable { host, until_ms } => {
                crate::queue::worker::JobError::Defer {
                    until_ms,
                    reason: format!("git host {host} is unreachable (circuit open)"),
                }
            }
            e => crate::queue::worker::JobError::Retry(e.to_string()),
        }
    }
}

/// How long a replica holds a repository's pass lease at most: a pass resolves a lockfile per
/// PR with real cargo, so it can take minutes; a replica that dies holding the lease holds the
/// others' passes on that repository back this long.
const PASS_LEASE_MS: i64 = 15 * 60_000;
/// How long a pass waits for another replica's before its job is retried later.
const PASS_LEASE_WAIT_MS: i64 = 60_000;

/// What a pass did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassOutcome {
    /// Features paused here because the installation has not accepted a permission (the
    /// dashboard's note, with the accept page).
    pub paused: Vec<String>,
    pub opened: Vec<u64>,
    pub updated: Vec<u64>,
    pub unchanged: Vec<u64>,
    pub closed: Vec<u64>,
    /// Migration and advisory issues closed because the workspace moved past them.
    pub closed_issues: Vec<u64>,
    /// Advisory issues opened, and updated because the situation changed.
    pub opened_issues: Vec<u64>,
    pub updated_issues: Vec<u64>,
    /// Advisories silenced by `.github/upkeep.toml`: `(id, reason)`, for the dashboard.
    pub ignored_advisories: Vec<(String, String)>,
    /// Every crate the repository's lockfiles hold (which repositories a new advisory touches).
    pub locked_crates: BTreeSet<String>,
    /// Updates held back, with why (for the dashboard).
    pub held: Vec<crate::deps::Waiting>,
    /// PRs the limit holds back: `(branch, title)`.
    pub held_back: Vec<(String, String)>,
    /// PRs opened or updated by this pass: `(number, title, branch)`.
    pub published: Vec<(u64, String, String)>,
    /// Advisories found, for the dashboard: `(id, crate, version, kind, title, PR or issue)`.
    pub advisories: Vec<crate::dashboard::AdvisoryLine>,
    /// The dashboard issue, when the pass keeps one.
    pub dashboard: Option<u64>,
    /// Planned PRs cargo found nothing to change for, or could not resolve (with why).
    pub skipped: Vec<(String, String)>,
    pub waiting: usize,
    pub config_problems: usize,
    /// The configuration problems, one line each.
    pub config_messages: Vec<String>,
    /// What upkeep cannot update and why (`deps::reach`), one line each, for the dashboard.
    pub unreachable: Vec<String>,
    /// The toolchain pin and where it stands, for the dashboard.
    pub toolchain: Option<String>,
    /// When the repository's schedule wants the next pass.
    pub next_run_at: Option<chrono::DateTime<Utc>>,
}

/// The dependency pass and what it shares across repositories.
#[derive(Clone)]
pub struct DepsPass {
    pub index: Registries,
    pub resolver: Resolver,
    pub blobs: BlobCache,
    /// Release metadata (repository, changelog) for the links in PR bodies.
    pub meta: Option<MetaClient>,
    /// Where blob texts outlive the process (and are shared by replicas).
    pub store: Option<crate::store::Store>,
    /// The RustSec database, when one is at hand: PR bodies list the advisories fixed.
    pub advisories: Option<Arc<crate::audit::Advisories>>,
    /// The name people mention in commands (`@upkeep`).
    pub slug: String,
    /// Keep a dashboard issue per repository (on in production).
    pub dashboard: bool,
    /// Where the server is reached from outside (links to its benchmark charts).
    pub public_url: Option<String>,
    /// Heads whose configuration problems were already reported (repository → head).
    pub(crate) reported: Arc<Mutex<BTreeMap<String, String>>>,
    /// One lock per repository: passes on the same repository run one after the other.
    running: crate::queue::locks::RepoLocks,
}

impl DepsPass {
    pub fn new(index: Registries, resolver: Resolver) -> Self {
        let timeout = std::time::Duration::from_secs(30);
        let meta = MetaClient::for_index(index.default_client().base().as_str(), timeout)
            .or_else(|_| MetaClient::crates_io(timeout))
            .ok();
        DepsPass {
            store: None,
            advisories: None,
            meta,
            index,
            resolver,
            blobs: BlobCache::default(),
            slug: "upkeep".to_owned(),
            dashboard: true,
            public_url: None,
            reported: Arc::default(),
            running: Default::default(),
        }
    }

    /// The login upkeep's own issues, PRs and comments carry (`<slug>[bot]`): only what it
    /// wrote is trusted by marker or branch name.
    pub fn bot_login(&self) -> String {
        format!("{}[bot]", self.slug)
    }

    /// Runs the pass on one repository (dependency updates, then the security audit);
    /// `declined` holds the `(branch, fingerprint)` of updates people closed unmerged, which
    /// are not proposed again.
    pub async fn run(
        &self,
        client: &InstallationClient,
        full_name: &str,
        declined: &BTreeSet<(String, String)>,
    ) -> Result<PassOutcome, PassError> {
        self.run_with(client, full_name, &PassOptions::routine(true, declined))
            .await
    }

    /// Only the security audit (a push changed a lockfile, the advisory database learnt
    /// something, the daily run between dependency passes): security PRs and advisory issues.
    pub async fn audit(
        &self,
        client: &InstallationClient,
        full_name: &str,
        declined: &BTreeSet<(String, String)>,
    ) -> Result<PassOutcome, PassError> {
        self.run_with(client, full_name, &PassOptions::routine(false, declined))
            .await
    }

    /// The pass as `options` ask.
    pub async fn run_with(
        &self,
        client: &InstallationClient,
        full_name: &str,
        options: &PassOptions,
    ) -> Result<PassOutcome, PassError> {
        // One pass per repository at a time in this process (a daily pass and a command's
        // rebuild must not both open the same PR), and across the replicas sharing the store.
        let _guard = self.running.lock(full_name).await;
        let held = self.run_held(client, full_name, options);
        match &self.store {
            Some(store) => {
                let name = format!("pass:{full_name}");
                crate::queue::locks::with_lease(
                    store,
                    &name,
                    PASS_LEASE_MS,
                    PASS_LEASE_WAIT_MS,
                    held,
                )
                .await?
                .unwrap_or_else(|| Err(PassError::Busy(full_name.to_owned())))
            }
            None => held.await,
        }
    }

    /// [`DepsPass::run_with`], holding the repository's pass lock and lease.
    async fn run_held(
        &self,
        client: &InstallationClient,
        full_name: &str,
        options: &PassOptions,
    ) -> Result<PassOutcome, PassError> {
        let repo = Repo::new(client, full_name);
        let mut outcome = PassOutcome::default();
        let Some(mut g) = self.gather(&repo, full_name, &mut outcome).await? else {
            return Ok(outcome);
        };
        g.config.apply_ignore_edits(&options.ignore_edits);
        // What needs a permission the installation has not accepted waits for it.
        let paused = match &self.store {
            Some(store) => {
                let (paused, note) =
                    crate::drift::installations::paused_with_note(store, client.installation_id())
                        .await;
                outcome.paused = note;
                paused
            }
            None => Vec::new(),
        };
        let allowed = |f: Feature| !is_paused(&paused, f);
        if options.deps && allowed(Feature::Updates) {
            self.updates(&repo, &g, options, &mut outcome).await?;
            self.toolchain(&repo, &g, &mut outcome).await?;
            self.msrv_ci(&repo, &g, &mut outcome).await?;
        }
        if allowed(Feature::Audit) {
            self.security(&repo, &g, options, &mut outcome).await?;
        }
        // Only a pass that planned updates knows everything the dashboard shows (held-back PRs,
        // waiting updates); an audit alone would blank those sections.
        if options.deps
            && options.dashboard.unwrap_or(self.dashboard)
            && allowed(Feature::Dashboard)
        {
            self.dashboard(&repo, &g, options, &mut outcome).await?;
        }
        info!(repo = full_name, deps = options.deps, ?outcome, "pass done");
        Ok(outcome)
    }

    /// What every pass reads: five requests when blobs are cached (repository, ref, tree,
    /// pull list, issue list).
    async fn gather(
        &self,
        repo: &Repo<'_>,
        full_name: &str,
        outcome: &mut PassOutcome,
    ) -> Result<Option<Gathered>, PassError> {
        let info = repo.info().await?;
        if info.archived {
            info!(repo = full_name, "archived: no pass");
            return Ok(None);
        }
        let head = repo.branch_head(&info.default_branch).await?;
        let listing = repo.files(&head).await?;
        let tree: Vec<String> = listing.files.iter().map(|f| f.path.clone()).collect();
        let config = self
            .config(
                repo,
                full_name,
                &head,
                &listing,
                &info.default_branch,
                outcome,
            )
            .await?;
        outcome.next_run_at = Some(config.schedule.next_after(Utc::now()));
        let (workspaces, files) = self.discover(repo, &listing, &tree).await?;
        let open: Vec<PullSummary> = repo
            .open_pulls()
            .await?
            .into_iter()
            .filter(|p| is_upkeep_branch(&p.head_ref) && p.user == self.bot_login())
            .collect();
        // Only upkeep's own issues are found again by their markers.
        let bot = self.bot_login();
        let issues: Vec<IssueSummary> = repo
            .open_issues()
            .await?
            .into_iter()
            .filter(|i| i.author == bot)
            .collect();
        let (versions, problems) = self.index.candidates(&workspaces).await;
        // A registry that is down (its breaker open) would leave its crates out of the plan:
        // the pass waits for it instead.
        if let Some(until_ms) = problems.iter().filter_map(|p| p.unavailable_until).max() {
            return Err(PassError::IndexUnavailable { until_ms });
        }
        for p in &problems {
            warn!(repo = full_name, registry = %p.registry, problem = %p.message, "index lookup failed; crates left out of the plan");
        }
        Ok(Some(Gathered {
            repository_id: info.id,
            default_branch: info.default_branch,
            head,
            listing,
            config,
            workspaces,
            files,
            open,
            issues,
            versions,
        }))
    }

    /// Dependency updates: the plan per workspace, carried out; migration issues the
    /// workspace moved past closed.
    async fn updates(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        options: &PassOptions,
        outcome: &mut PassOutcome,
    ) -> Result<(), PassError> {
        let declined = &options.declined;
        let open: Vec<&PullSummary> = g
            .open
            .iter()
            .filter(|p| p.head_ref.starts_with(BRANCH_PREFIX))
            .collect();
        let open_prs: Vec<OpenPr> = open
            .iter()
            .map(|p| OpenPr {
                number: p.number,
                branch: p.head_ref.clone(),
            })
            .collect();
        let now = Utc::now();
        for ws in &g.workspaces {
            let unreachable =
                super::reach::unreachable(ws, &g.files, &self.resolver.allowed_git_hosts);
            outcome.unreachable.extend(unreachable.iter().map(|u| {
                let at = u
                    .version
                    .as_ref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default();
                format!("`{}`{at}: {}", u.package, u.reason())
            }));
            let planned = plan(&PlanInput {
                workspace: ws,
                config: &g.config,
                versions: &g.versions,
                open_prs: &open_prs,
                now,
                unreachable: &unreachable,
            });
            outcome.waiting += planned.waiting.len();
            outcome.held.extend(planned.waiting.iter().cloned());
            let forced: Vec<&PlannedPr> = planned
                .held_back
                .iter()
                .filter(|p| options.create_now.contains(&p.branch))
                .collect();
            outcome.held_back.extend(
                planned
                    .held_back
                    .iter()
                    .filter(|p| !options.create_now.contains(&p.branch))
                    .map(|p| (p.branch.clone(), p.title.clone())),
            );
            for number in &planned.to_close {
                let Some(pr) = open.iter().find(|p| p.number == *number) else {
                    continue;
                };
                repo.comment(
                    *number,
                    "Closing: this update is no longer needed (the dependency is up to date, superseded by a newer update, or now ignored).",
                )
                .await?;
                repo.update_pull(*number, None, None, Some("closed"))
                    .await?;
                repo.delete_branch(&pr.head_ref).await?;
                outcome.closed.push(*number);
            }
            for pr in planned.pull_requests.iter().chain(forced) {
                let existing = pr
                    .existing
                    .and_then(|n| open.iter().copied().find(|p| p.number == n));
                if existing.is_none()
                    && declined.contains(&(pr.branch.clone(), body::fingerprint(pr)))
                {
                    outcome
                        .skipped
                        .push((pr.branch.clone(), "declined by a person".to_owned()));
                    continue;
                }
                if let Some(open) = existing.filter(|_| !options.rebuild.contains(&pr.branch)) {
                    if self.still_current(repo, g, open, &[pr]).await? {
                        outcome.unchanged.push(open.number);
                        continue;
                    }
                }
                match self.resolve(ws, g, pr).await? {
                    Ok(resolved) => {
                        self.publish(repo, g, ws, pr, resolved, existing, "", outcome)
                            .await?;
                    }
                    Err(why) => outcome.skipped.push((pr.branch.clone(), why)),
                }
            }
        }
        // Migration issues whose crate the default branch has moved past close themselves.
        let locked: Vec<(String, semver::Version)> = g
            .workspaces
            .iter()
            .filter_map(|w| w.lockfile.as_ref())
            .flat_map(|(_, l)| {
                l.packages
                    .iter()
                    .map(|p| (p.name.clone(), p.version.clone()))
            })
            .collect();
        for issue in crate::deps::after_ci::resolved_migrations(&g.issues, &locked) {
            repo.comment(
                issue.number,
                "The workspace is on this version now: closing.",
            )
            .await?;
            repo.close_issue(issue.number).await?;
            outcome.closed_issues.push(issue.number);
        }
        Ok(())
    }

    /// Whether the open PR is one of `candidates` and needs no work: built on the current
    /// head, or still merging cleanly (a moved base alone causes no CI churn).
    pub(crate) async fn still_current(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        open: &PullSummary,
        candidates: &[&PlannedPr],
    ) -> Result<bool, PassError> {
        let current = candidates
            .iter()
            .any(|pr| body::fingerprint_of(&open.body) == Some(body::fingerprint(pr).as_str()));
        if !current {
            return Ok(false);
        }
        if body::marker_field(&open.body, "base") == Some(g.head.as_str()) {
            return Ok(true);
        }
        Ok(repo.mergeable(open.number).await? != Some(false))
    }

    /// Real cargo applies the planned change; the inner `Err` says why nothing can be
    /// proposed. A git host that is down fails the pass instead (it is deferred until the
    /// host's breaker lets a probe through): giving up on each of its updates would report
    /// them as impossible when they only have to wait.
    pub(crate) async fn resolve(
        &self,
        ws: &Workspace,
        g: &Gathered,
        pr: &PlannedPr,
    ) -> Result<Result<Resolved, String>, PassError> {
        let resolver = Resolver {
            msrv_aware: g.config.msrv,
            ..self.resolver.clone()
        };
        Ok(
            match resolver.resolve(ws, &g.files, &Change::for_pr(pr)).await {
                Ok(r) if r.files.is_empty() || r.changes.is_empty() && pr.edits.is_empty() => {
                    Err("cargo changes nothing".to_owned())
                }
                Ok(r) => Ok(r),
                Err(ResolveError::GitHostUnavailable { host, until_ms }) => {
                    return Err(PassError::GitHostUnavailable { host, until_ms })
                }
                Err(e) => {
                    // Not worth failing the pass: the other PRs still go ahead.
                    warn!(branch = %pr.branch, error = %e, "cannot resolve this update");
                    Err(e.to_string())
                }
            },
        )
    }

    /// Commits what cargo resolved on the PR's branch and opens the PR, or updates the open
    /// one. `preface` goes above the generated body (a security PR's advisories).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn publish(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        ws: &Workspace,
        pr: &PlannedPr,
        resolved: Resolved,
        existing: Option<&PullSummary>,
        preface: &str,
        outcome: &mut PassOutcome,
    ) -> Result<u64, PassError> {
        let config = &g.config;
        // A refresh is titled by what cargo moved; one that only raises requirements keeps
        // the plan's title.
        let title = if pr.kind == PrKind::Refresh && !resolved.changes.is_empty() {
            let n = resolved.changes.len();
            config.prefixed(&format!(
                "Refresh Cargo.lock: {n} compatible update{}",
                if n == 1 { "" } else { "s" }
            ))
        } else {
            pr.title.clone()
        };
        let db = self.advisories.as_ref().and_then(|a| a.current());
        let fixed: Vec<(String, crate::audit::AdvisoryRef)> = match &db {
            Some(db) => resolved
                .changes
                .iter()
                .filter_map(|c| Some((c, c.from.as_ref()?, c.to.as_ref()?)))
                .flat_map(|(c, from, to)| {
                    db.fixed_by(&c.name, from, to)
                        .into_iter()
                        .map(|a| (c.name.clone(), a))
                })
                .collect(),
            None => Vec::new(),
        };
        let mut meta = BTreeMap::new();
        for c in &resolved.changes {
            let wanted = pr.kind != PrKind::Refresh
                || pr.updates.iter().any(|u| u.name == c.name && u.direct);
            if let (true, Some(to)) = (wanted, &c.to) {
                if let Some(client) = &self.meta {
                    meta.insert(c.name.clone(), client.meta(&c.name, &to.to_string()).await);
                }
            }
        }
        // What the change does to the crates locked at several versions.
        let duplicates = ws
            .lockfile
            .as_ref()
            .and_then(|(path, before)| {
                let after = crate::deps::lockfile::parse(resolved.files.get(path)?).ok()?;
                Some(crate::deps::duplicates::changes(before, &after))
            })
            .unwrap_or_default();
        let text = format!(
            "{preface}{}",
            body::render(
                pr,
                &body::BodyInputs {
                    changes: &resolved.changes,
                    msrv: ws.msrv.as_ref(),
                    slug: &self.slug,
                    meta: &meta,
                    fixed: &fixed,
                    base: &g.head,
                    duplicates: &duplicates,
                },
            )
        );
        let new_files: Vec<NewFile> = resolved
            .files
            .into_iter()
            .map(|(path, content)| NewFile { path, content })
            .collect();
        let commit = repo
            .commit_files(
                &g.head,
                &g.listing.tree,
                &new_files,
                &format!("{title}\n\nMade by upkeep."),
            )
            .await?;
        repo.set_branch(&pr.branch, &commit, existing.is_some())
            .await?;
        match existing {
            Some(open) => {
                repo.update_pull(open.number, Some(&title), Some(&text), None)
                    .await?;
                outcome.updated.push(open.number);
                outcome
                    .published
                    .push((open.number, title, pr.branch.clone()));
                Ok(open.number)
            }
            None => {
                let number = match repo
                    .create_pull(&title, &pr.branch, &g.default_branch, &text)
                    .await
                {
                    Ok(n) => n,
                    // Another replica opened it meanwhile: update that one instead.
                    Err(GitHubError::Status { status: 422, .. }) => {
                        match repo.open_pull_for(&pr.branch).await? {
                            Some((open, _)) => {
                                repo.update_pull(open.number, Some(&title), Some(&text), None)
                                    .await?;
                                outcome.updated.push(open.number);
                                outcome
                                    .published
                                    .push((open.number, title, pr.branch.clone()));
                                return Ok(open.number);
                            }
                            None => {
                                repo.create_pull(&title, &pr.branch, &g.default_branch, &text)
                                    .await?
                            }
                        }
                    }
                    Err(e) => return Err(e.into()),
                };
                let mut labels = config.labels.clone();
                if pr.kind == PrKind::Security {
                    labels.push(SECURITY_LABEL.to_owned());
                }
                repo.add_labels(number, &labels).await?;
                repo.add_assignees(number, &config.assignees).await?;
                outcome.opened.push(number);
                outcome.published.push((number, title, pr.branch.clone()));
                Ok(number)
            }
        }
    }
}

/// What a pass is asked to do besides its routine.
#[derive(Debug, Clone, Default)]
pub struct PassOptions {
    /// Dependency updates too (else only the audit).
    pub deps: bool,
    /// `(branch, fingerprint)` of updates people closed unmerged: not proposed again.
    pub declined: BTreeSet<(String, String)>,
    /// Branches to rebuild even when their PR is current (`rebase`, `recreate`).
    pub rebuild: BTreeSet<String>,
    /// Branches the PR limit holds back, to open anyway (the dashboard's "create now").
    pub create_now: BTreeSet<String>,
    /// Ignores added or removed by command, not yet on the default branch.
    pub ignore_edits: Vec<crate::config::edit::IgnoreEdit>,
    /// Keep the dashboard issue current (`None`: the pass's default).
    pub dashboard: Option<bool>,
}

impl PassOptions {
    /// A routine pass: dependency updates too or only the audit, minding what people declined.
    pub fn routine(deps: bool, declined: &BTreeSet<(String, String)>) -> Self {
        PassOptions {
            deps,
            declined: declined.clone(),
            ..PassOptions::default()
        }
    }
}

/// What a pass reads from GitHub and the index before deciding anything.
pub(crate) struct Gathered {
    pub repository_id: i64,
    pub default_branch: String,
    /// The default branch's head commit.
    pub head: String,
    pub listing: Listing,
    pub config: RepoConfig,
    pub workspaces: Vec<Workspace>,
    /// Files discovery read, by path.
    pub files: BTreeMap<String, String>,
    /// Open upkeep PRs (dependency and security).
    pub open: Vec<PullSummary>,
    pub issues: Vec<IssueSummary>,
    pub versions: BTreeMap<String, Vec<Candidate>>,
}
