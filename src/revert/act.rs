//! Reverting a culprit on GitHub, without a clone. Gather what the safeguards need (the commit,
//! the PR it merged, the kill switch and who applied it, the day's quota, whether it was
//! reverted before), ask `revert::check`, then build the revert: when the culprit is still the
//! tip, a commit with its first parent's tree; otherwise the culprit's inverse as a commit on
//! top of the culprit, merged into a branch at the tip by GitHub's merges endpoint (409 = a
//! conflict → an issue), and the merge's tree committed again on the tip alone so the branch
//! holds one ordinary revert commit. Then the PR (label `upkeep:revert`), a comment to the
//! culprit's author, and the decision recorded. A person is told by an issue whenever upkeep
//! will not act itself.

use tracing::{info, warn};

use crate::config::{RevertConfig, RevertMode};
use crate::deps::after_ci::RED;
use crate::github::repo::Repo;
use crate::github::revert_ops::MergeOutcome;
use crate::queue::worker::JobError;
use crate::revert::report::{self, Evidence, Handover};
use crate::revert::{self, Outcome, Refusal, Situation, Suspect, SuspectPr};
use crate::store::reverts::Decision;
use crate::store::Store;
use crate::time::now_ms;

/// What a finished run or suite says of its commit: green, red (a cancelled run says nothing),
/// or nothing yet.
pub fn outcome(conclusion: Option<&str>) -> Option<Outcome> {
    match conclusion {
        Some("success") => Some(Outcome::Green),
        Some(c) if RED.contains(&c) && c != "cancelled" => Some(Outcome::Red),
        _ => None,
    }
}

/// What reverting led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// The revert PR.
    Opened(u64),
    /// upkeep's revert PR for it was open already.
    AlreadyOpen(u64),
    /// The safeguards said no (an issue when a person should know).
    Refused(Refusal),
    /// The revert conflicts: the issue filed.
    Conflict(u64),
    /// Dry run: the issue saying what would have happened.
    DryRun(u64),
}

/// What building a revert gave.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Built {
    Commit(String),
    /// The tip no longer has the culprit's changes.
    Empty,
    Conflict,
}

/// How long a replica holds a repository's revert lease at most (building a revert takes a
/// dozen requests; a replica that dies holding it blocks the others this long).
const LEASE_MS: i64 = 120_000;
/// How long a revert waits for another replica's before its job is retried later.
const LEASE_WAIT_MS: i64 = 30_000;

/// The locks reverts take in this process, one per repository.
fn reverting() -> &'static crate::queue::locks::RepoLocks {
    static LOCKS: std::sync::OnceLock<crate::queue::locks::RepoLocks> = std::sync::OnceLock::new();
    LOCKS.get_or_init(Default::default)
}

/// One repository's reverts.
pub struct Reverter<'a> {
    pub store: &'a Store,
    pub repo: Repo<'a>,
    pub repository_id: i64,
    pub default_branch: String,
    pub slug: &'a str,
    pub config: RevertConfig,
}

/// The start of today (UTC) in epoch ms.
fn day_start(now: i64) -> i64 {
    now - now.rem_euclid(86_400_000)
}

impl<'a> Reverter<'a> {
    /// The reverter of `full_name`, with the `[revert]` of its default branch's configuration.
    /// `load` for the repository a webhook event names.
    pub async fn for_repository(
        store: &'a Store,
        client: &'a crate::github::InstallationClient,
        repository: &'a crate::webhook::events::RepositoryRef,
        slug: &'a str,
    ) -> Result<Reverter<'a>, JobError> {
        Self::load(store, client, &repository.full_name, repository.id, slug).await
    }

    pub async fn load(
        store: &'a Store,
        client: &'a crate::github::InstallationClient,
        full_name: &'a str,
        repository_id: i64,
        slug: &'a str,
    ) -> Result<Reverter<'a>, JobError> {
        let repo = Repo::new(client, full_name);
        let (config, (default_branch, _, _)) = crate::config::fetch::default_config(&repo).await?;
        Ok(Reverter {
            store,
            repo,
            repository_id,
            default_branch,
            slug,
            config: config.revert,
        })
    }
}

/// How far back a red commit's history is read for a green result.
pub(crate) const HISTORY: usize = 30;

/// Where a commit's CI result comes from when reading history.
#[derive(Clone, Copy)]
pub(crate) enum Results<'a> {
    /// An Actions workflow's runs on the default branch: the newest result per commit.
    Runs(&'a std::collections::BTreeMap<&'a str, Option<revert::Outcome>>),
    /// Another CI app's check suite on each commit, asked commit by commit.
    Suites { app_id: i64 },
}

impl Reverter<'_> {
    /// The first-parent ancestors of `from`, newest first, each with its result from `source`,
    /// up to and including the first that has a result (or `HISTORY` commits): what
    /// `revert::suspects` reads, whichever CI answered.
    pub(crate) async fn walk_back(
        &self,
        from: &str,
        source: Results<'_>,
    ) -> Result<Vec<(String, Option<revert::Outcome>)>, JobError> {
        let mut out = Vec::new();
        let mut at = from.to_owned();
        while out.len() < HISTORY {
            let Some(parent) = self.repo.commit(&at).await?.parents.first().cloned() else {
                break;
            };
            let result = match source {
                Results::Runs(runs) => runs.get(parent.as_str()).copied().flatten(),
                Results::Suites { app_id } => outcome(
                    self.repo
                        .suite_conclusion(&parent, app_id)
                        .await?
                        .as_deref(),
                ),
            };
            out.push((parent.clone(), result));
            if result.is_some() {
                break;
            }
            at = parent;
        }
        Ok(out)
    }

    /// Records a decision about `sha`.
    pub async fn record(
        &self,
        sha: &str,
        cause: &str,
        decision: &str,
        reason: &str,
        links: (Option<u64>, Option<u64>, Option<u64>),
    ) -> Result<(), JobError> {
        info!(
            repo = self.repo.full_name(),
            sha, cause, decision, reason, "revert decision"
        );
        metrics::counter!("upkeep_revert_decisions_total", "decision" => decision.to_owned())
            .increment(1);
        let n = |v: Option<u64>| v.map(|v| v as i64);
        self.store
            .record_revert_decision(
                self.repository_id,
                &Decision {
                    sha: sha.to_owned(),
                    cause: cause.to_owned(),
                    decision: decision.to_owned(),
                    reason: reason.to_owned(),
                    pr_number: n(links.0),
                    revert_pr: n(links.1),
                    issue_number: n(links.2),
                    created_at: now_ms(),
                },
            )
            .await?;
        self.refresh_dashboard().await;
        Ok(())
    }

    /// The login upkeep's own issues and PRs carry.
    pub fn bot_login(&self) -> String {
        format!("{}[bot]", self.slug)
    }

    /// Rewrites the dashboard's auto-revert section now rather than at the next daily pass: a
    /// maintainer looking there after a red build sees what upkeep decided. Best effort — the
    /// pass rewrites the section anyway.
    pub(crate) async fn refresh_dashboard(&self) {
        let refreshed = crate::dashboard::pass::refresh_reverts(
            &self.repo,
            self.store,
            self.repository_id,
            &self.bot_login(),
        )
        .await;
        if let Err(e) = refreshed {
            warn!(repo = self.repo.full_name(), error = %e, "dashboard not refreshed after a revert decision");
        }
    }

    /// Files (once per red commit, found again by marker) the issue that hands over to a person.
    pub async fn hand_over(
        &self,
        red: &str,
        handover: &Handover,
        evidence: &Evidence,
    ) -> Result<u64, JobError> {
        let marker = report::issue_marker(red);
        if let Some(i) = self
            .repo
            .open_issues()
            .await?
            .into_iter()
            .find(|i| i.body.contains(&marker))
        {
            return Ok(i.number);
        }
        let (title, body) = report::issue(red, handover, evidence);
        Ok(self
            .repo
            .create_issue(&title, &body, &[revert::LABEL.to_owned()])
            .await?)
    }

    /// The open issue labelled `upkeep:disable-revert` by a writer, if any.
    pub(crate) async fn kill_switch(&self) -> Result<Option<u64>, JobError> {
        for number in self.repo.open_issues_labelled(revert::KILL_SWITCH).await? {
            let Some(who) = self
                .repo
                .label_applied_by(number, revert::KILL_SWITCH)
                .await?
            else {
                continue;
            };
            let permission = self.repo.permission(&who).await?;
            if matches!(permission.as_str(), "admin" | "maintain" | "write") {
                return Ok(Some(number));
            }
        }
        Ok(None)
    }

    /// The suspect commit `sha`, with the PR it merged.
    pub async fn suspect(&self, sha: &str) -> Result<(Suspect, Vec<String>), JobError> {
        let commit = self.repo.commit(sha).await?;
        let pr = self.repo.merged_pull_of(sha).await?.map(|p| SuspectPr {
            number: p.number,
            title: p.title,
            author: p.author,
            labels: p.labels,
        });
        Ok((
            Suspect {
                sha: sha.to_owned(),
                message: commit.message,
                committed_at_ms: commit.committed_at_ms,
                pr,
            },
            commit.parents,
        ))
    }

    /// Reverts `sha` (found red at `red`) if the safeguards allow.
    pub async fn revert(
        &self,
        sha: &str,
        red: &str,
        cause: &str,
        evidence: &Evidence,
        requested_by: Option<&str>,
    ) -> Result<Acted, JobError> {
        // One revert at a time per repository: two workflows red on the same commit must not
        // both build and open it, whether their jobs run in this process (the lock) or on
        // another replica sharing the store (the lease).
        let _held = reverting().lock(self.repo.full_name()).await;
        let name = format!("revert:{}", self.repository_id);
        let held = self.revert_held(sha, red, cause, evidence, requested_by);
        crate::queue::locks::with_lease(self.store, &name, LEASE_MS, LEASE_WAIT_MS, held)
            .await?
            .unwrap_or_else(|| {
                Err(JobError::Retry(
                    "another replica is reverting in this repository".into(),
                ))
            })
    }

    /// [`Reverter::revert`], holding the repository's revert lock and lease.
    async fn revert_held(
        &self,
        sha: &str,
        red: &str,
        cause: &str,
        evidence: &Evidence,
        requested_by: Option<&str>,
    ) -> Result<Acted, JobError> {
        let (suspect, parents) = self.suspect(sha).await?;
        let branch = report::branch(sha);
        if let Some((pr, _)) = self.repo.open_pull_for(&branch).await? {
            if pr.user == self.bot_login() {
                // Opened before (a retried job, or another workflow on the same commit).
                let known = self
                    .store
                    .revert_decisions_for(self.repository_id, sha)
                    .await?
                    .iter()
                    .any(|d| d.decision == "reverted");
                if known {
                    // The crash may have come before the dashboard heard of it.
                    self.refresh_dashboard().await;
                } else {
                    let links = (suspect.pr.as_ref().map(|p| p.number), Some(pr.number), None);
                    self.record(sha, cause, "reverted", "confirmed culprit", links)
                        .await?;
                }
                // A crash after the PR was created may have left its label and the note to the
                // author undone: both are find-or-create, so finishing here never doubles them.
                self.courtesy(&suspect, pr.number, evidence, requested_by)
                    .await?;
                return Ok(Acted::AlreadyOpen(pr.number));
            }
        }
        let pr_number = suspect.pr.as_ref().map(|p| p.number);
        let now = now_ms();
        let earlier = self
            .store
            .revert_decisions_for(self.repository_id, sha)
            .await?;
        let situation = Situation {
            now_ms: now,
            kill_switch: self.kill_switch().await?,
            created_today: self
                .store
                .revert_decisions_since(self.repository_id, "reverted", day_start(now))
                .await?,
            already_reverted: earlier
                .iter()
                .any(|d| matches!(d.decision.as_str(), "reverted" | "merged")),
            requested_by: requested_by.map(str::to_owned),
        };
        let checked = match parents.first() {
            None => Err(Refusal::NoParent),
            Some(_) => revert::check(&suspect, &self.config, &situation),
        };
        if let Err(why) = checked {
            let issue = if why.needs_a_person() && requested_by.is_none() {
                Some(
                    self.hand_over(
                        red,
                        &Handover::Refused(suspect.clone(), why.clone()),
                        evidence,
                    )
                    .await?,
                )
            } else {
                None
            };
            self.record(
                sha,
                cause,
                "refused",
                &why.to_string(),
                (pr_number, None, issue),
            )
            .await?;
            return Ok(Acted::Refused(why));
        }
        if self.config.mode == RevertMode::DryRun && requested_by.is_none() {
            let issue = self
                .hand_over(red, &Handover::DryRun(suspect.clone()), evidence)
                .await?;
            self.record(
                sha,
                cause,
                "dry-run",
                "revert.mode is dry-run: reported, not reverted",
                (pr_number, None, Some(issue)),
            )
            .await?;
            return Ok(Acted::DryRun(issue));
        }
        let parent = parents.first().cloned().unwrap_or_default();
        let built = self.build(&suspect, &parent).await?;
        if built == Built::Empty {
            let why = Refusal::AlreadyReverted;
            self.record(
                sha,
                cause,
                "refused",
                &format!("{why} (the default branch no longer has its changes)"),
                (pr_number, None, None),
            )
            .await?;
            return Ok(Acted::Refused(why));
        }
        let Built::Commit(revert_commit) = built else {
            let issue = self
                .hand_over(red, &Handover::Conflict(suspect.clone()), evidence)
                .await?;
            self.record(
                sha,
                cause,
                "conflict",
                "later commits changed the same lines; the revert does not apply cleanly",
                (pr_number, None, Some(issue)),
            )
            .await?;
            return Ok(Acted::Conflict(issue));
        };
        self.repo.set_branch(&branch, &revert_commit, false).await?;
        let merges_itself = self.config.mode == RevertMode::Merge;
        let number = self
            .repo
            .create_pull(
                &report::title(&suspect),
                &branch,
                &self.default_branch,
                &report::pr_body(&suspect, evidence, merges_itself, self.slug),
            )
            .await?;
        let reason = match requested_by {
            Some(who) => format!("@{who} asked"),
            None => "confirmed culprit".to_owned(),
        };
        // The label and the note before the decision: a crash in between leaves the PR, which
        // a re-run finds (above) and finishes from, recording the decision then.
        self.courtesy(&suspect, number, evidence, requested_by)
            .await?;
        self.record(
            sha,
            cause,
            "reverted",
            &reason,
            (pr_number, Some(number), None),
        )
        .await?;
        Ok(Acted::Opened(number))
    }

    /// What follows an open revert PR: its label, and a note to the culprit's author (unless
    /// the revert was asked for on that PR, where the reply says it). The label is idempotent
    /// on GitHub and the note carries a hidden marker looked for first, so a re-run after a
    /// crash completes them without doubling. Failures are logged, not fatal: the PR is what
    /// matters, and it exists.
    async fn courtesy(
        &self,
        suspect: &Suspect,
        number: u64,
        evidence: &Evidence,
        requested_by: Option<&str>,
    ) -> Result<(), JobError> {
        if let Err(e) = self
            .repo
            .add_labels(number, &[revert::LABEL.to_owned()])
            .await
        {
            warn!(repo = self.repo.full_name(), pr = number, error = %e, "revert PR not labelled");
        }
        let (Some(pr), None) = (suspect.pr.as_ref().map(|p| p.number), requested_by) else {
            return Ok(());
        };
        let marker = report::author_note_marker(&suspect.sha);
        let told = match self.repo.find_comment(pr, &marker).await {
            Ok(found) => found.is_some(),
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(_) => false,
        };
        if !told {
            let text = format!(
                "{}\n\n{marker}",
                report::author_comment(suspect, number, evidence)
            );
            if let Err(e) = self.repo.comment(pr, &text).await {
                if e.is_transient() {
                    return Err(e.into());
                }
                warn!(repo = self.repo.full_name(), pr, error = %e, "culprit's author not told");
            }
        }
        Ok(())
    }

    /// The revert commit on top of the default branch's tip.
    async fn build(&self, suspect: &Suspect, parent: &str) -> Result<Built, JobError> {
        let message = report::commit_message(suspect);
        let parent_tree = self.repo.commit(parent).await?.tree;
        let tip = self.repo.branch_head(&self.default_branch).await?;
        if tip == suspect.sha {
            return Ok(Built::Commit(
                self.repo
                    .create_commit(&parent_tree, &[&tip], &message)
                    .await?,
            ));
        }
        // The inverse change as a commit on the culprit, merged into a scratch branch at the tip.
        let inverse = self
            .repo
            .create_commit(&parent_tree, &[&suspect.sha], &message)
            .await?;
        let scratch = format!(
            "{}merge-{}",
            revert::BRANCH_PREFIX,
            revert::short(&suspect.sha)
        );
        self.repo.set_branch(&scratch, &tip, false).await?;
        let merged = self.repo.merge_into(&scratch, &inverse, &message).await;
        self.repo.delete_branch(&scratch).await?;
        match merged? {
            // Nothing left to undo: a person (or an earlier commit) reverted it already.
            MergeOutcome::Merged { tree, .. } if tree == self.repo.commit(&tip).await?.tree => {
                Ok(Built::Empty)
            }
            MergeOutcome::Merged { tree, .. } => Ok(Built::Commit(
                self.repo.create_commit(&tree, &[&tip], &message).await?,
            )),
            MergeOutcome::Nothing => Ok(Built::Empty),
            MergeOutcome::Conflict => Ok(Built::Conflict),
        }
    }
}
