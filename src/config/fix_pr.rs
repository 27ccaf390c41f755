//! The configuration fix driver: when `.github/upkeep.toml` on the default branch has mistakes
//! with a certain fix (`config::fix`), one pull request on `upkeep/config-fix` makes them and
//! explains each. Find-or-create: the PR's body names the file version it fixes (its blob sha),
//! so a pass that runs again (or after a crash) finds it instead of opening another; a newer
//! file moves the open PR along; a PR a person closed unmerged is not opened again for the
//! same file. Everything without a certain fix stays a reported problem (the `upkeep/config`
//! check run and the dashboard).

use std::fmt::Write as _;

use super::fix::{certain_fixes, Fixed};
use crate::github::marked::Marked;
use crate::github::repo::{NewFile, Repo};
use crate::github::GitHubError;

/// The branch of the pull request that fixes the configuration file.
pub const FIX_BRANCH: &str = "upkeep/config-fix";

/// Where the file is and which version of it: the default branch, its head, the file's blob.
pub struct FileAt<'a> {
    pub base: &'a str,
    pub head: &'a str,
    pub blob_sha: &'a str,
    pub text: &'a str,
}

/// The marker naming the version of the file a fix PR was made for.
fn marker(blob_sha: &str) -> String {
    format!("<!-- upkeep:config-fix blob={blob_sha} -->")
}

/// The fix PR's number, opened or found, when the file has certain fixes and nobody declined
/// them for this version of the file.
pub async fn ensure(repo: &Repo<'_>, file: &FileAt<'_>) -> Result<Option<u64>, GitHubError> {
    let Some(fixed) = certain_fixes(file.text) else {
        return Ok(None);
    };
    let marker = marker(file.blob_sha);
    let open = repo.open_pull_for(FIX_BRANCH).await?;
    match repo
        .marked_pull(FIX_BRANCH, &marker, open.as_ref().map(|(p, _)| p))
        .await?
    {
        Marked::Current(number) => return Ok(Some(number)),
        // A person said no to this fix of this file.
        Marked::Declined => return Ok(None),
        Marked::Make => {}
    }
    let listing = repo.files(file.head).await?;
    let commit = repo
        .commit_files(
            file.head,
            &listing.tree,
            &[NewFile {
                path: super::repo::PATH.to_owned(),
                content: fixed.text.clone(),
            }],
            &commit_message(&fixed),
        )
        .await?;
    repo.set_branch(FIX_BRANCH, &commit, open.is_some()).await?;
    let body = body(&fixed, &marker);
    let title = format!("Fix {}", super::repo::PATH);
    let number = match open {
        Some((pr, _)) => {
            repo.update_pull(pr.number, Some(&title), Some(&body), None)
                .await?;
            pr.number
        }
        None => {
            repo.create_pull(&title, FIX_BRANCH, file.base, &body)
                .await?
        }
    };
    Ok(Some(number))
}

fn commit_message(fixed: &Fixed) -> String {
    let mut m = format!("Fix {}\n\n", super::repo::PATH);
    for c in &fixed.changes {
        let _ = writeln!(m, "- {}", c.what);
    }
    m.push_str("\nMade by upkeep.");
    m
}

/// The PR's description: each change, the problem it fixes, and what merging does.
pub fn body(fixed: &Fixed, marker: &str) -> String {
    let mut b = format!(
        "`{}` has mistakes with only one possible fix. This pull request makes them; nothing \
         else in the file changes (comments, order and layout are kept).\n\n",
        super::repo::PATH
    );
    for c in &fixed.changes {
        let at = c.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        let key = if c.key.is_empty() { "file" } else { &c.key };
        let _ = writeln!(b, "- {} — `{key}`{at}: {}", c.what, c.problem);
    }
    b.push_str(
        "\nUntil this merges, what the mistakes affect keeps its default. Close it to keep the \
         file as it is: it is not opened again for this version of the file.\n\n",
    );
    b.push_str(marker);
    b
}
