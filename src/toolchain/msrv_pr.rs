//! Driver: workflow steps pinned below the workspace's `rust-version` (`msrv_ci`) get one
//! find-or-create PR on `upkeep/msrv-ci` that moves them up to it, once a change has raised
//! `rust-version`. The body names the `rust-version` it is for; a PR a person closed unmerged
//! is not opened again for it; one no longer needed is closed.

use std::fmt::Write as _;

use semver::Version;

use super::msrv_ci;
use crate::deps::pass::{DepsPass, Gathered, PassError, PassOutcome};
use crate::github::marked::Marked;
use crate::github::repo::{NewFile, Repo};

/// The branch of the PR.
pub const BRANCH: &str = "upkeep/msrv-ci";

fn marker(msrv: &Version) -> String {
    format!("<!-- upkeep:msrv-ci rust-version={msrv} -->")
}

fn is_workflow(path: &str) -> bool {
    path.starts_with(".github/workflows/") && (path.ends_with(".yml") || path.ends_with(".yaml"))
}

impl DepsPass {
    /// The MSRV-pin part of a pass.
    pub(crate) async fn msrv_ci(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        outcome: &mut PassOutcome,
    ) -> Result<(), PassError> {
        // The lowest `rust-version` any member declares (never a toolchain file's channel).
        let Some(msrv) = g
            .workspaces
            .iter()
            .flat_map(|ws| ws.members.iter())
            .filter_map(|m| m.rust_version.clone())
            .min()
        else {
            return Ok(());
        };
        let mut changed = Vec::new();
        let mut lines = Vec::new();
        let mut pinned = false;
        for file in g.listing.files.iter().filter(|f| is_workflow(&f.path)) {
            let text = self.blob(repo, &file.sha).await?;
            pinned |= msrv_ci::has_pin(&text);
            if let Some(new) = msrv_ci::rewrite(&text, &msrv) {
                for s in msrv_ci::stale_pins(&text, &msrv) {
                    lines.push(format!(
                        "- `{}` line {}: `{}` → `{}`",
                        file.path, s.line, s.from, s.to
                    ));
                }
                changed.push(NewFile {
                    path: file.path.clone(),
                    content: new,
                });
            }
        }
        if !pinned {
            // No step pins a Rust version: nothing to keep in step, no request.
            return Ok(());
        }
        let open = repo.open_pull_for(BRANCH).await?;
        if changed.is_empty() {
            if let Some((pr, _)) = open {
                repo.comment(
                    pr.number,
                    "Closing: the workflows are in step with `rust-version`.",
                )
                .await?;
                repo.update_pull(pr.number, None, None, Some("closed"))
                    .await?;
                repo.delete_branch(BRANCH).await?;
                outcome.closed.push(pr.number);
            }
            return Ok(());
        }
        let marker = marker(&msrv);
        let state = repo
            .marked_pull(BRANCH, &marker, open.as_ref().map(|(p, _)| p))
            .await?;
        if state != Marked::Make {
            return Ok(());
        }
        let title = g.config.prefixed(&format!(
            "Test the MSRV in CI: move steps pinned below rust-version to {}.{}",
            msrv.major, msrv.minor
        ));
        let commit = repo
            .commit_files(
                &g.head,
                &g.listing.tree,
                &changed,
                &format!("{title}\n\nMade by upkeep."),
            )
            .await?;
        repo.set_branch(BRANCH, &commit, open.is_some()).await?;
        let mut body = format!(
            "`rust-version` is now `{msrv}`, but these CI steps still install an older Rust, which \
             cargo refuses for these crates. This moves them up to it (the precision each was \
             written with is kept):\n\n"
        );
        for l in &lines {
            let _ = writeln!(body, "{l}");
        }
        body.push_str(
            "\nSteps pinned at or above `rust-version` (a toolchain file's release, newer versions in \
             a matrix, `stable`) are not touched. Close this pull request to keep the steps as they \
             are: it is not opened again for this `rust-version`.\n\n",
        );
        body.push_str(&marker);
        match open {
            Some((pr, _)) => {
                repo.update_pull(pr.number, Some(&title), Some(&body), None)
                    .await?;
            }
            None => {
                let n = repo
                    .create_pull(&title, BRANCH, &g.default_branch, &body)
                    .await?;
                outcome.opened.push(n);
            }
        }
        Ok(())
    }
}
