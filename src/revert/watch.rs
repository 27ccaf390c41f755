//! Watching the default branch (issue 8). A workflow run that fails on a push to the default
//! branch has its failed jobs re-run first (`revert.reruns`), so a flake never costs a revert.
//! Failing again, the red commit's first-parent history is read back to the last green run of
//! the same workflow: a red run before it means the failure is older (nothing reverted); one
//! suspect is the culprit; several are bisected — each candidate gets a branch
//! `upkeep/bisect/<sha>` and a `workflow_dispatch` of the workflow, and each answer narrows the
//! search (`revert::next_step`), capped by `revert.max_bisect_runs`, after which a person gets
//! an issue listing what is left. A run on a revert PR's branch that comes back green merges it
//! when `revert.mode = "merge"` and the day's merge quota allows.

use std::collections::BTreeMap;

use crate::config::RevertMode;
use crate::deps::after_ci::{failing, pending};
use crate::github::repo::Repo;
use crate::github::revert_ops::RunInfo;
use crate::github::InstallationClient;
use crate::queue::worker::JobError;
use crate::revert::act::{outcome, Acted, Results, Reverter, HISTORY};
use crate::revert::report::{Evidence, Handover};
use crate::revert::{self, next_step, suspects, Outcome, Step, Suspects};
use crate::store::reverts::Bisection;
use crate::store::Store;
use crate::time::now_ms;
use crate::webhook::events::{StatusEvent, WorkflowRunEvent};

/// A commit status settled on `branch`: a revert PR there may merge now. `None` for any other
/// branch.
pub async fn on_status(
    store: &Store,
    client: &InstallationClient,
    e: &StatusEvent,
    branch: &str,
    slug: &str,
) -> Result<Option<&'static str>, JobError> {
    if !branch.starts_with(revert::BRANCH_PREFIX) {
        return Ok(None);
    }
    on_revert_pr(
        store,
        client,
        &e.repository.full_name,
        e.repository.id,
        branch,
        &e.sha,
        slug,
    )
    .await
    .map(Some)
}

/// CI on a revert PR's `branch` at `sha` may have finished: merged when green, in merge mode,
/// within the day's quota (a status settled, or reconciling found the PR open).
pub async fn on_revert_pr(
    store: &Store,
    client: &InstallationClient,
    full_name: &str,
    repository_id: i64,
    branch: &str,
    sha: &str,
    slug: &str,
) -> Result<&'static str, JobError> {
    let r = Reverter::load(store, client, full_name, repository_id, slug).await?;
    if r.config.mode == RevertMode::Off {
        return Ok("auto-revert is off");
    }
    Watch { r }.revert_ci(branch, sha).await
}

/// Acts on a completed workflow run; `None` when auto-revert has nothing to do with it.
pub async fn on_workflow_run(
    store: &Store,
    client: &InstallationClient,
    e: &WorkflowRunEvent,
    slug: &str,
) -> Result<Option<&'static str>, JobError> {
    let run = &e.workflow_run;
    let fork = run
        .head_repository
        .as_ref()
        .is_some_and(|h| h.full_name != e.repository.full_name);
    let default_branch = e.repository.default_branch.as_deref().unwrap_or("main");
    let branch = run.head_branch.as_deref().unwrap_or_default();
    let conclusion = run.conclusion.as_deref();
    let relevant = e.action == "completed"
        && !fork
        && ((run.event == "push" && branch == default_branch && (outcome(conclusion).is_some()))
            || (run.event == "workflow_dispatch" && branch.starts_with(revert::BISECT_PREFIX))
            || branch.starts_with(revert::BRANCH_PREFIX));
    if !relevant {
        return Ok(None);
    }
    if run.event == "push" && outcome(conclusion) == Some(Outcome::Green) {
        // Only a green re-run of a run upkeep re-ran says anything (a flake).
        let reran = store
            .revert_decisions_for(e.repository.id, &run.head_sha)
            .await?
            .iter()
            .any(|d| d.cause == format!("workflow:{}", run.workflow_id) && d.decision == "rerun");
        if !reran {
            return Ok(None);
        }
    }
    let r = Reverter::for_repository(store, client, &e.repository, slug).await?;
    if r.config.mode == RevertMode::Off {
        return Ok(Some("auto-revert is off"));
    }
    let watch = Watch { r };
    let name = run.name.clone().unwrap_or_default();
    if branch.starts_with(revert::BRANCH_PREFIX) {
        return watch.revert_ci(branch, &run.head_sha).await.map(Some);
    }
    if !watch.r.config.watches(&name) {
        return Ok(Some("workflow not watched by auto-revert"));
    }
    let info = RunInfo {
        id: run.id,
        workflow_id: run.workflow_id,
        name,
        head_sha: run.head_sha.clone(),
        status: run.status.clone().unwrap_or_default(),
        conclusion: run.conclusion.clone(),
        html_url: run.html_url.clone().unwrap_or_default(),
    };
    if run.event == "workflow_dispatch" {
        return watch
            .bisect_answer(&info, branch, run.run_attempt.unwrap_or(1))
            .await
            .map(Some);
    }
    watch
        .on_default(&info, run.run_attempt.unwrap_or(1))
        .await
        .map(Some)
}

pub(crate) struct Watch<'a> {
    pub(crate) r: Reverter<'a>,
}

/// A red result on the default branch: the commit, the workflow (or CI app) and its run, and
/// the last green commit before it.
pub(crate) struct Failure {
    pub red: String,
    pub name: String,
    pub url: String,
    pub green: String,
    /// The Actions workflow, when it is one (re-runs, dispatch, "fixed since").
    pub workflow_id: Option<i64>,
    /// Where the failure came from, as decisions record it: `workflow:<id>` or `app:<id>`.
    pub cause: String,
}

fn failure(b: &Bisection) -> Failure {
    Failure {
        red: b.red_sha.clone(),
        name: b.workflow_name.clone(),
        url: b.run_url.clone(),
        green: b.green_sha.clone(),
        workflow_id: Some(b.workflow_id),
        cause: format!("workflow:{}", b.workflow_id),
    }
}

impl Watch<'_> {
    async fn on_default(&self, run: &RunInfo, attempt: i64) -> Result<&'static str, JobError> {
        let sha = run.head_sha.as_str();
        let cause = format!("workflow:{}", run.workflow_id);
        let cause = cause.as_str();
        let earlier = self
            .r
            .store
            .revert_decisions_for(self.r.repository_id, sha)
            .await?;
        if outcome(run.conclusion.as_deref()) == Some(Outcome::Green) {
            if attempt > 1
                && earlier
                    .iter()
                    .any(|d| d.cause == cause && d.decision == "rerun")
            {
                let why = format!("`{}` passed when its failed jobs were re-run", run.name);
                self.r
                    .record(sha, cause, "flake", &why, (None, None, None))
                    .await?;
                return Ok("a flake: passed on re-run");
            }
            return Ok("green");
        }
        let reruns = earlier
            .iter()
            .filter(|d| d.cause == cause && d.decision == "rerun")
            .count() as i64;
        if attempt <= self.r.config.reruns && reruns >= attempt {
            return Ok("re-run already asked for");
        }
        if attempt <= self.r.config.reruns {
            self.r.repo.rerun_failed_jobs(run.id).await?;
            let why = format!(
                "`{}` failed (attempt {attempt}); its failed jobs were re-run to rule out a flake",
                run.name
            );
            self.r
                .record(sha, cause, "rerun", &why, (None, None, None))
                .await?;
            return Ok("re-run to rule out a flake");
        }
        if earlier
            .iter()
            .any(|d| d.cause == cause && d.decision != "rerun")
        {
            // A crash may have come between the decision and the dashboard hearing of it.
            self.r.refresh_dashboard().await;
            return Ok("red commit already handled");
        }
        let history = self.history(run).await?;
        match suspects(sha, &history) {
            Suspects::RedBefore { sha: before } => {
                let why = format!(
                    "`{}` failed on {} before it too: the failure is older",
                    run.name,
                    revert::short(&before)
                );
                self.r
                    .record(sha, cause, "red-before", &why, (None, None, None))
                    .await?;
                Ok("red before the suspect: not reverted")
            }
            Suspects::NoGreen => {
                let why = format!("no green `{}` run in the last {HISTORY} commits", run.name);
                self.r
                    .record(sha, cause, "no-green", &why, (None, None, None))
                    .await?;
                Ok("no green commit to compare with")
            }
            Suspects::Since { green, candidates } => {
                let mut b = Bisection {
                    red_sha: sha.to_owned(),
                    workflow_id: run.workflow_id,
                    workflow_name: run.name.clone(),
                    run_url: run.html_url.clone(),
                    green_sha: green,
                    results: BTreeMap::from([(sha.to_owned(), Outcome::Red)]),
                    candidates,
                    testing: None,
                    runs: 0,
                };
                if b.candidates.len() > 1
                    && !self
                        .r
                        .store
                        .start_bisection(self.r.repository_id, &b, now_ms())
                        .await?
                {
                    // Started before: resume it if its step never got as far as a dispatch (a
                    // retried job); otherwise it waits for CI.
                    match self
                        .r
                        .store
                        .open_bisection(self.r.repository_id, run.workflow_id, sha)
                        .await?
                    {
                        Some(mut started) if started.testing.is_none() => {
                            return self.step(&mut started).await;
                        }
                        _ => return Ok("bisection already running"),
                    }
                }
                self.step(&mut b).await
            }
        }
    }

    /// The red commit's first-parent ancestors, newest first, with the workflow's result on
    /// each (the newest run per commit).
    async fn history(&self, run: &RunInfo) -> Result<Vec<(String, Option<Outcome>)>, JobError> {
        let runs = self
            .r
            .repo
            .completed_runs(run.workflow_id, &self.r.default_branch, "push")
            .await?;
        let mut results: BTreeMap<&str, Option<Outcome>> = BTreeMap::new();
        for r in runs.iter().filter(|r| r.workflow_id == run.workflow_id) {
            results
                .entry(r.head_sha.as_str())
                .or_insert_with(|| outcome(r.conclusion.as_deref()));
        }
        self.r
            .walk_back(&run.head_sha, Results::Runs(&results))
            .await
    }

    /// Takes the bisection's next step: test a candidate, or act on what it found.
    async fn step(&self, b: &mut Bisection) -> Result<&'static str, JobError> {
        let id = self.r.repository_id;
        let store = self.r.store;
        match next_step(
            &b.candidates,
            &b.results,
            b.runs,
            self.r.config.max_bisect_runs,
        ) {
            Step::Test(sha) => {
                let branch = format!("{}{}", revert::BISECT_PREFIX, sha);
                self.r.repo.set_branch(&branch, &sha, false).await?;
                if !self
                    .r
                    .repo
                    .dispatch_workflow(b.workflow_id, &branch)
                    .await?
                {
                    self.r.repo.delete_branch(&branch).await?;
                    let left = b.candidates.clone();
                    store.update_bisection(id, b, Some(now_ms())).await?;
                    return self.ambiguous(&failure(b), left, "GitHub refused to dispatch the workflow (does it have a `workflow_dispatch` trigger?)").await;
                }
                b.testing = Some(sha.clone());
                b.runs += 1;
                store.update_bisection(id, b, None).await?;
                let why = format!(
                    "{} suspects; testing {} (run {} of at most {})",
                    b.candidates.len(),
                    revert::short(&sha),
                    b.runs,
                    self.r.config.max_bisect_runs
                );
                self.r
                    .record(
                        &b.red_sha,
                        &format!("workflow:{}", b.workflow_id),
                        "bisecting",
                        &why,
                        (None, None, None),
                    )
                    .await?;
                Ok("bisecting")
            }
            Step::Ambiguous(left) => {
                store.update_bisection(id, b, Some(now_ms())).await?;
                self.ambiguous(&failure(b), left, "the bisection ran out of runs")
                    .await
            }
            Step::Culprit(sha) => {
                if b.candidates.len() > 1 {
                    store.update_bisection(id, b, Some(now_ms())).await?;
                }
                self.culprit(&failure(b), &sha).await
            }
        }
    }

    pub(crate) async fn ambiguous(
        &self,
        f: &Failure,
        left: Vec<String>,
        why: &str,
    ) -> Result<&'static str, JobError> {
        let evidence = self.evidence(f).await?;
        let issue = self
            .r
            .hand_over(&f.red, &Handover::Ambiguous(left), &evidence)
            .await?;
        self.r
            .record(
                &f.red,
                &f.cause,
                "ambiguous",
                why,
                (None, None, Some(issue)),
            )
            .await?;
        Ok("culprit not found: a person decides")
    }

    async fn evidence(&self, f: &Failure) -> Result<Evidence, JobError> {
        let runs = self.r.repo.check_runs(&f.red).await?;
        let failed = failing(&runs)
            .into_iter()
            .map(|c| (c.name.clone(), c.html_url.clone()))
            .collect();
        Ok(Evidence::Checks {
            workflow: f.name.clone(),
            run_url: f.url.clone(),
            failed,
            green: Some(revert::short(&f.green).to_owned()),
            reruns: self.r.config.reruns,
        })
    }

    pub(crate) async fn culprit(&self, f: &Failure, sha: &str) -> Result<&'static str, JobError> {
        // Findit's "failure still present": a newer green run of the workflow means fixed.
        let newest = match f.workflow_id {
            Some(id) => self
                .r
                .repo
                .completed_runs(id, &self.r.default_branch, "push")
                .await?
                .into_iter()
                .find(|r| r.workflow_id == id),
            None => None,
        };
        if let Some(n) = newest.filter(|n| {
            n.head_sha != f.red && outcome(n.conclusion.as_deref()) == Some(Outcome::Green)
        }) {
            let why = format!(
                "`{}` is green again at {}",
                f.name,
                revert::short(&n.head_sha)
            );
            self.r
                .record(sha, &f.cause, "fixed", &why, (None, None, None))
                .await?;
            return Ok("fixed since: not reverted");
        }
        let evidence = self.evidence(f).await?;
        Ok(
            match self
                .r
                .revert(sha, &f.red, &f.cause, &evidence, None)
                .await?
            {
                Acted::Opened(_) => "revert opened",
                Acted::AlreadyOpen(_) => "revert already open",
                Acted::Refused(_) => "revert refused by a safeguard",
                Acted::Conflict(_) => "revert conflicts: a person decides",
                Acted::DryRun(_) => "dry run: reported",
            },
        )
    }

    /// CI answered on a bisection candidate. A red answer is re-run like a red default branch
    /// (`revert.reruns` times) before it counts: one flaky red on a good candidate would move
    /// the blame onto an innocent commit. The branch stays until the answer is final.
    async fn bisect_answer(
        &self,
        run: &RunInfo,
        branch: &str,
        attempt: i64,
    ) -> Result<&'static str, JobError> {
        let store = self.r.store;
        let Some(mut b) = store
            .bisection_testing(self.r.repository_id, run.workflow_id, &run.head_sha)
            .await?
        else {
            return Ok("no bisection waits for this run");
        };
        if outcome(run.conclusion.as_deref()) == Some(Outcome::Red)
            && attempt <= self.r.config.reruns
        {
            self.r.repo.rerun_failed_jobs(run.id).await?;
            return Ok("bisection candidate red: re-run to rule out a flake");
        }
        self.r.repo.delete_branch(branch).await?;
        // Cancelled, skipped or neutral says nothing: the next step tests the same commit again.
        if let Some(result) = outcome(run.conclusion.as_deref()) {
            b.results.insert(run.head_sha.clone(), result);
        }
        b.testing = None;
        self.step(&mut b).await
    }

    /// CI finished on a revert PR's branch: merged when green, in merge mode, within quota.
    pub(crate) async fn revert_ci(
        &self,
        branch: &str,
        sha: &str,
    ) -> Result<&'static str, JobError> {
        let runs = self.r.repo.ci_results(sha).await?;
        if pending(&runs) {
            return Ok("revert CI pending");
        }
        if !failing(&runs).is_empty() {
            return Ok("revert CI red: left to a person");
        }
        let Some((pr, _)) = self.r.repo.open_pull_for(branch).await? else {
            return Ok("revert PR not open");
        };
        if pr.user != self.r.bot_login() || pr.head_sha != sha {
            return Ok("not upkeep's current revert");
        }
        let now = now_ms();
        let merged_today = self
            .r
            .store
            .revert_decisions_since(
                self.r.repository_id,
                "merged",
                now - now.rem_euclid(86_400_000),
            )
            .await?;
        if !revert::guard::may_merge(&self.r.config, merged_today) {
            return Ok("revert green: left for a person to merge");
        }
        let culprit = pr
            .body
            .split("<!-- upkeep:revert ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default()
            .to_owned();
        let links = (None, Some(pr.number), None);
        if let Some(issue) = self.r.kill_switch().await? {
            let why = format!("issue #{issue} (labelled `upkeep:disable-revert`) is open");
            self.r
                .record(&culprit, "revert-ci", "merge-refused", &why, links)
                .await?;
            return Ok("revert green: the kill switch stops the merge");
        }
        if !self.r.repo.merge(pr.number, sha, &pr.title).await? {
            let why = "GitHub refused the squash merge (branch protection, or squash not allowed)";
            self.r
                .record(&culprit, "revert-ci", "merge-refused", why, links)
                .await?;
            return Ok("GitHub refused to merge the revert");
        }
        self.r
            .record(
                &culprit,
                "revert-ci",
                "merged",
                "its own CI is green",
                links,
            )
            .await?;
        Ok("revert merged")
    }
}

/// `@upkeep revert` on pull request `number` by writer `by` (the caller checked the
/// permission): whether it worked, and the reply.
pub async fn on_request(
    store: &Store,
    client: &InstallationClient,
    repository_id: i64,
    full_name: &str,
    number: u64,
    by: &str,
    slug: &str,
) -> Result<(bool, String), JobError> {
    let repo = Repo::new(client, full_name);
    let pull = repo.pull_for_revert(number).await?;
    let merge = match &pull {
        Some(p) if p.merged => p.merge_commit_sha.clone(),
        _ => None,
    };
    let Some(sha) = merge else {
        return Ok((
            false,
            "`revert` reverts a merged pull request; this one is not merged.".to_owned(),
        ));
    };
    let r = Reverter::load(store, client, full_name, repository_id, slug).await?;
    if pull.is_some_and(|p| p.base_ref != r.default_branch) {
        return Ok((
            false,
            format!(
                "`revert` reverts merges into `{}`; this one went elsewhere.",
                r.default_branch
            ),
        ));
    }
    let evidence = Evidence::Request { by: by.to_owned() };
    Ok(match r.revert(&sha, &sha, "request", &evidence, Some(by)).await? {
        Acted::Opened(pr) => (true, format!("Opened #{pr} to revert this.")),
        Acted::AlreadyOpen(pr) => (true, format!("#{pr} already reverts this.")),
        Acted::Refused(why) => (false, format!("I did not revert it: {why}.")),
        Acted::Conflict(issue) => (
            false,
            format!("Its revert conflicts with later changes, so a person must do it; see #{issue}."),
        ),
        Acted::DryRun(issue) => (true, format!("Dry run: reported in #{issue}.")),
    })
}
