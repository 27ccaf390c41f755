//! The calls conversations need: a pull request by number, reactions on a comment, a person's
//! permission on the repository, reopening an issue.

use reqwest::Method;
use serde_json::{json, Value};

use super::repo::{summary, PullSummary, Repo};
use super::GitHubError;

/// Reactions upkeep gives a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// Received.
    Eyes,
    /// Done.
    ThumbsUp,
    /// Refused or failed.
    Confused,
}

impl Reaction {
    fn content(self) -> &'static str {
        match self {
            Reaction::Eyes => "eyes",
            Reaction::ThumbsUp => "+1",
            Reaction::Confused => "confused",
        }
    }
}

impl Repo<'_> {
    /// A pull request by number, with its state (`open`, `closed`) and whether it merged.
    pub async fn pull(&self, number: u64) -> Result<(PullSummary, String, bool), GitHubError> {
        let v: Value = self
            .client
            .get(&self.path(&format!("/pulls/{number}")))
            .await?;
        let pr = summary(&v).ok_or_else(|| GitHubError::Status {
            status: 200,
            method: "GET".into(),
            path: self.path(&format!("/pulls/{number}")),
            message: "a pull request without a head".into(),
        })?;
        let state = v["state"].as_str().unwrap_or("open").to_owned();
        let merged = v["merged"].as_bool().unwrap_or(false);
        Ok((pr, state, merged))
    }

    /// Reacts to an issue or pull request comment.
    pub async fn react(&self, comment_id: i64, reaction: Reaction) -> Result<(), GitHubError> {
        self.client
            .json::<Value>(
                Method::POST,
                &self.path(&format!("/issues/comments/{comment_id}/reactions")),
                Some(&json!({ "content": reaction.content() })),
            )
            .await?;
        Ok(())
    }

    /// A person's permission: `admin`, `maintain`, `write`, `triage`, `read` or `none`.
    pub async fn permission(&self, login: &str) -> Result<String, GitHubError> {
        let v: Value = match self
            .client
            .get(&self.path(&format!(
                "/collaborators/{}/permission",
                super::names::segment(login)
            )))
            .await
        {
            Ok(v) => v,
            // Not a collaborator at all.
            Err(GitHubError::Status { status: 404, .. }) => return Ok("none".to_owned()),
            Err(e) => return Err(e),
        };
        // `role_name` tells maintain and triage apart; a custom role name falls back to the
        // legacy `permission` level (admin, write, read, none).
        let legacy = v["permission"].as_str().unwrap_or("none");
        Ok(match v["role_name"].as_str() {
            Some(r @ ("admin" | "maintain" | "write" | "triage" | "read")) => r,
            _ => legacy,
        }
        .to_owned())
    }
}
