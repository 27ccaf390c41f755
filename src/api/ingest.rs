//! Driver: when a workflow run completes, its `upkeep-semver` artifact (if any: the reusable
//! workflow's `semver` job on a pull request) is downloaded within limits, opened as untrusted
//! input and reported as the `upkeep/semver` check on the run's head commit. Whatever the run's
//! conclusion (a failing benchmark job must not hide an API break). A refused artifact gets a
//! neutral check that says why.

use tracing::{info, warn};

use super::report::parse;
use super::verdict::{verdict, CHECK};
use crate::bench::artifact::{self, Limits};
use crate::github::checks::CheckRun;
use crate::github::repo::Repo;
use crate::github::InstallationClient;
use crate::queue::worker::JobError;
use crate::webhook::events::WorkflowRunEvent;

/// The artifact the `semver` job uploads.
pub const ARTIFACT: &str = "upkeep-semver";

/// What an `upkeep-semver` artifact may hold: a console log, its exit code and the base.
fn limits() -> Limits {
    Limits {
        zip_bytes: 8 * 1024 * 1024,
        entries: 16,
        file_bytes: 4 * 1024 * 1024,
        total_bytes: 8 * 1024 * 1024,
        ratio: 200,
    }
}

/// What happened, for the delivery's outcome (`None`: the run had no report).
pub async fn on_workflow_run(
    client: &InstallationClient,
    e: &WorkflowRunEvent,
) -> Result<Option<&'static str>, JobError> {
    if e.action != "completed" {
        return Ok(None);
    }
    let run = &e.workflow_run;
    let full_name = e.repository.full_name.as_str();
    let repo = Repo::new(client, full_name);
    let limits = limits();
    let Some(found) = repo.newest_artifact(run.id, ARTIFACT).await? else {
        return Ok(None);
    };
    let refuse = |why: String| CheckRun {
        name: CHECK.into(),
        head_sha: run.head_sha.clone(),
        conclusion: Some("neutral".into()),
        title: "API check refused".into(),
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
        return Ok(Some("semver artifact refused"));
    }
    let zip = repo.download_artifact(found.id, limits.zip_bytes).await?;
    let files = match artifact::open(&zip, &limits) {
        Ok((files, _)) => files,
        Err(e) => {
            warn!(repo = full_name, run = run.id, error = %e, "semver artifact refused");
            repo.create_check_run(&refuse(e.to_string())).await?;
            return Ok(Some("semver artifact refused"));
        }
    };
    let text = |name: &str| {
        files
            .get(name)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let Some(output) = text("output.txt") else {
        repo.create_check_run(&refuse("it has no `output.txt`.".into()))
            .await?;
        return Ok(Some("semver artifact refused"));
    };
    let exit_code = text("exit-code.txt").and_then(|c| c.trim().parse::<i32>().ok());
    let base = text("base.txt")
        .map(|b| b.trim().to_owned())
        .filter(|b| b.len() == 40 && b.chars().all(|c| c.is_ascii_hexdigit()));
    let report = parse(&output);
    let v = verdict(&report, exit_code, base.as_deref());
    repo.create_check_run(&CheckRun {
        name: CHECK.into(),
        head_sha: run.head_sha.clone(),
        conclusion: Some(v.conclusion.into()),
        title: v.title,
        summary: v.summary,
        annotations: Vec::new(),
    })
    .await?;
    info!(
        repo = full_name,
        run = run.id,
        conclusion = v.conclusion,
        "upkeep/semver reported"
    );
    Ok(Some(match v.conclusion {
        "failure" => "API breakage reported",
        "success" => "API unchanged",
        _ => "API check neutral",
    }))
}
