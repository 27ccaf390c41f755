//! Benchmark results from CI (criterion's wall times and gungraun's instruction counts): when
//! a workflow run completes, its `upkeep-criterion` artifact (if any) is downloaded within
//! limits, opened as untrusted input, and compared with the default branch's latest results on
//! the same runner class, each benchmark held to its own noise learned from that branch's
//! history (a band for times, the largest step for counts). The verdicts go to an
//! `upkeep/bench` check run on the head commit, instruction counts first; a PR
//! gets a comment (edited in place) only when something regressed; the default branch's own
//! pushes become the baseline (a fork's never do), and a regression there goes to auto-revert
//! when its culprit is known (the baseline is its parent) and otherwise files an issue. A PR's
//! first regression is re-run to confirm, its check run left in progress and then completed by
//! the re-run's verdict (or closed as neutral when the re-run gives none). A refused artifact
//! gets a check run that says why.

use tracing::{info, warn};

use std::collections::BTreeSet;

use crate::bench::artifact::{self, Limits};
use crate::bench::counts::{compare_counts, history_of, CountRules};
use crate::bench::{compare, from_files, gungraun, interleave, report, Rules, Verdict};
use crate::github::checks::CheckRun;
use crate::github::repo::Repo;
use crate::github::InstallationClient;
use crate::queue::worker::JobError;
use crate::store::bench::{levels, ResultKey};
use crate::store::Store;
use crate::time::now_ms;
use crate::webhook::events::{RepositoryRef, WorkflowRun, WorkflowRunEvent};

/// The artifact the reusable workflow uploads.
pub const ARTIFACT: &str = "upkeep-criterion";
/// The check run upkeep puts on the head commit.
pub const CHECK: &str = "upkeep/bench";
/// Outcomes of a comparison that ended in a verdict on the `upkeep/bench` check.
const COMPARED: &str = "benchmarks compared";
const REGRESSED: &str = "benchmarks regressed";
/// Default-branch commits whose results make the history.
const HISTORY: i64 = 20;

/// What happened, for the delivery's outcome.
pub async fn on_workflow_run(
    store: &Store,
    client: &InstallationClient,
    e: &WorkflowRunEvent,
    slug: &str,
    public_url: Option<&str>,
) -> Result<&'static str, JobError> {
    let run = &e.workflow_run;
    if e.action != "completed" {
        return Ok("recorded");
    }
    let outcome = if run.conclusion.as_deref() == Some("success") {
        ingest(store, client, &e.repository, run, slug, public_url, false).await?
    } else {
        "recorded"
    };
    // A re-run asked for to confirm a regression left `upkeep/bench` in progress. A verdict
    // completed it; whatever else became of the re-run — failed, cancelled, no results — the
    // check must not stay in progress, or a required check would hold the PR forever.
    let judged = matches!(outcome, COMPARED | REGRESSED);
    if run.run_attempt.unwrap_or(1) >= 2 && !judged && close_unconfirmed(client, e).await? {
        return Ok("benchmark re-run gave no results");
    }
    Ok(outcome)
}

/// Closes as neutral the `upkeep/bench` check that run `e` left in progress to be confirmed;
/// `false` when there is none.
async fn close_unconfirmed(
    client: &InstallationClient,
    e: &WorkflowRunEvent,
) -> Result<bool, JobError> {
    let run = &e.workflow_run;
    let unconfirmed = CheckRun {
        name: CHECK.into(),
        head_sha: run.head_sha.clone(),
        conclusion: Some("neutral".into()),
        title: "Benchmark regression not confirmed: the re-run gave no results".into(),
        summary: format!(
            "The first run of this commit's benchmarks regressed, and the re-run asked for to confirm it ended `{}` without results to compare. Nothing is reported as regressed. Re-run the benchmark workflow, or comment `@upkeep bench`, to compare again.",
            run.conclusion.as_deref().unwrap_or("without a conclusion")
        ),
        annotations: Vec::new(),
    };
    let closed = Repo::new(client, &e.repository.full_name)
        .finish_open_check_run(&unconfirmed, &run.id.to_string())
        .await?;
    if closed {
        info!(
            repo = e.repository.full_name.as_str(),
            run = run.id,
            "the confirming benchmark re-run gave no results; check closed as neutral"
        );
    }
    Ok(closed)
}

/// `@upkeep bench` on a PR: the newest successful run on its head with benchmark results,
/// compared again and the comment posted whatever the verdicts.
pub async fn repost(
    store: &Store,
    client: &InstallationClient,
    repository: &RepositoryRef,
    head_sha: &str,
    slug: &str,
    public_url: Option<&str>,
) -> Result<bool, JobError> {
    let repo = Repo::new(client, &repository.full_name);
    for run in repo.successful_runs(head_sha).await? {
        if repo.newest_artifact(run.id, ARTIFACT).await?.is_some() {
            ingest(store, client, repository, &run, slug, public_url, true).await?;
            return Ok(true);
        }
    }
    Ok(false)
}

#[allow(clippy::too_many_arguments)]
async fn ingest(
    store: &Store,
    client: &InstallationClient,
    repository: &RepositoryRef,
    run: &WorkflowRun,
    slug: &str,
    public_url: Option<&str>,
    always_comment: bool,
) -> Result<&'static str, JobError> {
    let full_name = repository.full_name.as_str();
    let repo = Repo::new(client, full_name);
    let limits = Limits::default();
    let Some(found) = repo.newest_artifact(run.id, ARTIFACT).await? else {
        return Ok("no benchmark results");
    };
    let refuse = |why: String| CheckRun {
        name: CHECK.into(),
        head_sha: run.head_sha.clone(),
        conclusion: Some("neutral".into()),
        title: "Benchmark results refused".into(),
        summary: format!(
            "The `{ARTIFACT}` artifact of run {} was not read: {why}",
            run.id
        ),
        annotations: Vec::new(),
    };
    if found.size > limits.zip_bytes {
        repo.create_check_run(&refuse(format!(
            "it is {} bytes, over the {} byte limit.",
            found.size, limits.zip_bytes
        )))
        .await?;
        return Ok("benchmark artifact refused");
    }
    let zip = repo.download_artifact(found.id, limits.zip_bytes).await?;
    let opened = artifact::open(&zip, &limits)
        .map_err(|e| e.to_string())
        .and_then(|(files, runner)| {
            let (usual, rounds) = interleave::split(&files).map_err(|e| e.to_string())?;
            let results = from_files(&usual).map_err(|e| e.to_string())?;
            let counted = gungraun::from_files(&usual).map_err(|e| e.to_string())?;
            Ok((results, counted, rounds, runner))
        });
    let (head, head_counts, rounds, runner) = match opened {
        Ok(r) => r,
        Err(why) => {
            warn!(repo = full_name, run = run.id, %why, "benchmark artifact refused");
            repo.create_check_run(&refuse(why)).await?;
            return Ok("benchmark artifact refused");
        }
    };
    let class = runner.map_or_else(|| "unknown".to_owned(), |r| r.class());
    let default_branch = repository.default_branch.as_deref().unwrap_or("main");
    let fork = run
        .head_repository
        .as_ref()
        .is_some_and(|h| h.full_name != repository.full_name);
    let on_default =
        run.event == "push" && run.head_branch.as_deref() == Some(default_branch) && !fork;
    // A PR's base and head run in turns in one job: judged on their rounds, not the history.
    let interleaved = rounds
        .filter(|r| !r.is_empty() && !on_default)
        .map(|r| (interleave::compare_rounds(&r, &Rules::default()), r.len()));
    let sets = store
        .bench_history(
            repository.id,
            default_branch,
            &class,
            &run.head_sha,
            HISTORY,
        )
        .await?;
    let history = levels(&sets);
    let count_sets = store
        .bench_count_history(
            repository.id,
            default_branch,
            &class,
            &run.head_sha,
            HISTORY,
        )
        .await?;
    if on_default {
        let key = ResultKey {
            repository_id: repository.id,
            branch: default_branch,
            commit_sha: &run.head_sha,
            runner_class: &class,
            run_id: run.id,
        };
        store.put_bench_results(&key, &head, now_ms()).await?;
        store.put_bench_counts(&key, &head_counts, now_ms()).await?;
    }
    let counted_ids = head_counts
        .iter()
        .map(|c| c.id.as_str())
        .collect::<BTreeSet<_>>();
    // Times and counts usually share their baseline commit; the counts' names it when both do not.
    let base_sha = count_sets
        .last()
        .map(|(sha, _)| sha)
        .or(sets.last().map(|(sha, _)| sha));
    let base_sha = base_sha.map(String::as_str);
    if base_sha.is_none() && interleaved.is_none() {
        repo.create_check_run(&CheckRun {
            name: CHECK.into(),
            head_sha: run.head_sha.clone(),
            conclusion: Some("neutral".into()),
            title: format!(
                "{} benchmarks read; no baseline yet",
                head.len() + counted_ids.len()
            ),
            summary: format!(
                "No results from `{default_branch}` on runner class `{class}` yet: the first push there becomes the baseline."
            ),
            annotations: Vec::new(),
        })
        .await?;
        return Ok("benchmarks stored without a baseline");
    }
    let base_sha = base_sha.unwrap_or_default();
    let (mut comparisons, rounds) = match interleaved {
        Some((cs, rounds)) => (cs, Some(rounds)),
        None => (
            sets.last()
                .map(|(_, base)| compare(base, &head, &history, &Rules::default()))
                .unwrap_or_default(),
            None,
        ),
    };
    // Each benchmark's detection limit on this runner class, from the same history: the search
    // runs the verdict a few thousand times per benchmark, so off the async runtime. An
    // interleaved job's limits come from its own rounds.
    if rounds.is_none() {
        let found = crate::bench::blind::limits_off_runtime(sets.clone(), head.len().max(1)).await;
        for c in &mut comparisons {
            c.limit = found.get(&c.full_id).copied();
        }
    }
    let counted = count_sets
        .last()
        .map(|(_, base)| {
            compare_counts(
                base,
                &head_counts,
                &history_of(&count_sets),
                &CountRules::default(),
            )
        })
        .unwrap_or_default();
    let base_name = format!(
        "`{default_branch}` at {} on `{class}`",
        &base_sha[..base_sha.len().min(7)]
    );
    let interleaved_base = format!("the pull request's base on `{class}`");
    let basis = match rounds {
        Some(rounds) => report::Basis::Interleaved {
            base: &interleaved_base,
            rounds,
        },
        None => report::Basis::History(&base_name),
    };
    let regressed = comparisons.iter().any(|c| c.verdict == Verdict::Regressed)
        || counted.iter().any(|c| c.verdict == Verdict::Regressed);
    let chart_url = public_url.map(|u| {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "{}/bench/{}/chart.svg?branch={}&runner={}&id=",
            u.trim_end_matches('/'),
            repository.id,
            enc(default_branch),
            enc(&class)
        )
    });
    let chart_of = |id: &str| {
        let enc: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        format!("{}{enc}", chart_url.as_deref().unwrap_or_default())
    };
    let chart: Option<&(dyn Fn(&str) -> String + Sync)> =
        chart_url.as_ref().map(|_| &chart_of as _);
    // A pull request's regression is confirmed before anyone is told: its whole run is re-run
    // once, and only a regression that shows again fails the check and comments. A one-run slow
    // spell on a shared runner is the commonest false alarm, and a re-run rarely repeats it
    // (docs/PERFORMANCE.md: no false alarm on either noise corpus once confirmed).
    // `@upkeep bench` (`always_comment`) asks for the comparison now, so it is posted as is.
    let confirming = run.event == "pull_request"
        && !fork
        && regressed
        && !always_comment
        && run.run_attempt.unwrap_or(1) < 2;
    let mut table = report::summary(&counted, &base_name, &comparisons, &basis, chart);
    if count_sets.is_empty() && !counted_ids.is_empty() {
        table.push_str(&format!(
            "\nInstruction counts of {} benchmarks were read; the first push to `{default_branch}` with them becomes their baseline.\n",
            counted_ids.len()
        ));
    }
    let title = report::title_with(&counted, &comparisons);
    let external_id = run.id.to_string();
    if confirming {
        // In progress, so a required `upkeep/bench` check holds the merge until confirmed;
        // tagged with the run, so the re-run's verdict completes this same check run.
        let pending = CheckRun {
            name: CHECK.into(),
            head_sha: run.head_sha.clone(),
            conclusion: None,
            title: format!("{title}; re-running to confirm"),
            summary: format!(
                "The benchmark run was re-run to confirm: a regression counts only when a second run shows it too.\n\n{table}"
            ),
            annotations: Vec::new(),
        };
        repo.create_check_run_for(&pending, &external_id).await?;
        repo.rerun_workflow(run.id).await?;
        info!(
            repo = full_name,
            run = run.id,
            "benchmarks regressed once; re-run to confirm"
        );
        return Ok("benchmarks regressed once: re-run to confirm");
    }
    let done = CheckRun {
        name: CHECK.into(),
        head_sha: run.head_sha.clone(),
        conclusion: Some(if regressed { "failure" } else { "success" }.into()),
        title,
        summary: table.clone(),
        annotations: Vec::new(),
    };
    let finished = run.run_attempt.unwrap_or(1) >= 2
        && repo.finish_open_check_run(&done, &external_id).await?;
    if !finished {
        repo.create_check_run(&done).await?;
    }
    info!(
        repo = full_name,
        run = run.id,
        benchmarks = comparisons.len() + counted.len(),
        regressed,
        "benchmarks compared"
    );
    if regressed && (on_default || (run.event == "pull_request" && !always_comment)) {
        crate::report::record::bench_regression(store, repository.id, &run.head_sha, now_ms())
            .await?;
    }
    if run.event == "pull_request" && !fork {
        if let Some(branch) = run.head_branch.as_deref() {
            if let Some((pr, _)) = repo.open_pull_for(branch).await? {
                let body = report::comment(&counted, &base_name, &comparisons, &basis, slug, chart);
                post_comment(&repo, pr.number, &body, regressed || always_comment).await?;
            }
        }
    }
    let handed = on_default
        && regressed
        && crate::revert::regression::bench_regression(
            store, client, repository, run, base_sha, &table, slug,
        )
        .await?;
    if on_default && !regressed {
        crate::revert::regression::bench_spike(store, repository.id, run).await?;
    }
    if on_default && regressed && !handed {
        let marker = format!("<!-- upkeep:bench-regression {} -->", run.head_sha);
        let filed = repo
            .open_issues()
            .await?
            .iter()
            .any(|i| i.body.contains(&marker));
        if !filed {
            repo.create_issue(
                &format!(
                    "Benchmarks regressed on {default_branch} at {}",
                    &run.head_sha[..run.head_sha.len().min(7)]
                ),
                &format!(
                    "{}\n\nCommits without benchmark results lie between this one and the baseline (or auto-revert is off), so the culprit is not known: a person decides.\n\n{marker}\n",
                    table
                ),
                &["upkeep:bench-regression".to_owned()],
            )
            .await?;
        }
    }
    Ok(if regressed { REGRESSED } else { COMPARED })
}

/// The PR comment: edited in place when there is one, posted only when `post`.
async fn post_comment(
    repo: &Repo<'_>,
    number: u64,
    body: &str,
    post: bool,
) -> Result<(), JobError> {
    match repo.find_comment(number, report::COMMENT_MARKER).await? {
        Some((id, old)) if old != body => repo.update_comment(id, body).await?,
        Some(_) => {}
        None if post => repo.comment(number, body).await?,
        None => {}
    }
    Ok(())
}
