//! Benchmark regressions on the default branch, handed over by `bench::ingest`: confirmed by
//! re-running the whole run once (a one-run spike is the commonest false alarm on shared
//! runners), then reverted with the benchmark table; a regression the re-run does not repeat is
//! recorded as a spike.

use crate::config::RevertMode;
use crate::github::InstallationClient;
use crate::queue::worker::JobError;
use crate::revert::act::Reverter;
use crate::revert::report::Evidence;
use crate::store::Store;
use crate::time::now_ms;

/// A benchmark regression on the default branch at `head` (workflow run `run`), against results
/// stored for `base`. When `base` is `head`'s parent the culprit is known: the first time the
/// whole run is re-run to confirm (a single-run spike is the commonest false alarm on shared
/// runners), and a regression that shows again goes to the revert flow. `true` when handled
/// here; otherwise (commits without results in between, or auto-revert off) the caller files its
/// issue.
pub async fn bench_regression(
    store: &Store,
    client: &InstallationClient,
    repository: &crate::webhook::events::RepositoryRef,
    run: &crate::webhook::events::WorkflowRun,
    base: &str,
    table: &str,
    slug: &str,
) -> Result<bool, JobError> {
    let head = run.head_sha.as_str();
    let r = Reverter::for_repository(store, client, repository, slug).await?;
    if r.config.mode == RevertMode::Off {
        return Ok(false);
    }
    if r.repo
        .commit(head)
        .await?
        .parents
        .first()
        .map(String::as_str)
        != Some(base)
    {
        return Ok(false);
    }
    let attempt = run.run_attempt.unwrap_or(1);
    if attempt <= r.config.reruns {
        r.repo.rerun_workflow(run.id).await?;
        let why = format!(
            "benchmarks regressed in `{}` (attempt {attempt}); the run was re-run to confirm",
            run.name.as_deref().unwrap_or("bench")
        );
        r.record(head, "bench", "rerun", &why, (None, None, None))
            .await?;
        return Ok(true);
    }
    let evidence = Evidence::Bench {
        table: table.to_owned(),
    };
    r.revert(head, head, "bench", &evidence, None).await?;
    Ok(true)
}

/// A default-branch benchmark run that upkeep re-ran to confirm a regression came back without
/// one: recorded as a spike, nothing reverted.
pub async fn bench_spike(
    store: &Store,
    repository_id: i64,
    run: &crate::webhook::events::WorkflowRun,
) -> Result<(), JobError> {
    if run.run_attempt.unwrap_or(1) < 2 {
        return Ok(());
    }
    let earlier = store
        .revert_decisions_for(repository_id, &run.head_sha)
        .await?;
    let reran = earlier
        .iter()
        .any(|d| d.cause == "bench" && d.decision == "rerun");
    let settled = earlier
        .iter()
        .any(|d| d.cause == "bench" && d.decision != "rerun");
    if reran && !settled {
        store
            .record_revert_decision(
                repository_id,
                &crate::store::reverts::Decision {
                    sha: run.head_sha.clone(),
                    cause: "bench".into(),
                    decision: "flake".into(),
                    reason: "the benchmarks did not regress when the run was re-run".into(),
                    pr_number: None,
                    revert_pr: None,
                    issue_number: None,
                    created_at: now_ms(),
                },
            )
            .await?;
    }
    Ok(())
}
