//! Find-or-create for pull requests upkeep keeps one of per branch, found again by a marker in
//! the body that names what the PR is for (a file version, a release, a `rust-version`): the
//! open PR already for it, a closed one a person declined, or neither (make or move it).

use super::repo::{PullSummary, Repo};
use super::GitHubError;

/// Where a marked PR stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// The open PR on the branch already carries the marker.
    Current(u64),
    /// No open PR, and a closed one with the marker: a person said no to it.
    Declined,
    /// Make it (or move the open one along).
    Make,
}

impl Repo<'_> {
    /// Where the PR on `branch` marked `marker` stands, given the open one (if any).
    pub async fn marked_pull(
        &self,
        branch: &str,
        marker: &str,
        open: Option<&PullSummary>,
    ) -> Result<Marked, GitHubError> {
        if let Some(pr) = open {
            return Ok(if pr.body.contains(marker) {
                Marked::Current(pr.number)
            } else {
                Marked::Make
            });
        }
        let declined = self
            .closed_pulls_for(branch)
            .await?
            .iter()
            .any(|p| p.body.contains(marker));
        Ok(if declined {
            Marked::Declined
        } else {
            Marked::Make
        })
    }
}
