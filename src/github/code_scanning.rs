//! The code-scanning call: uploading a SARIF log (gzip, base64) for one commit of one ref.

use reqwest::Method;
use serde_json::{json, Value};

use super::repo::Repo;
use super::GitHubError;

impl Repo<'_> {
    /// `POST /repos/{owner}/{repo}/code-scanning/sarifs`: the upload's id (GitHub processes it
    /// afterwards; alerts of the same category missing from it are closed then).
    pub async fn upload_sarif(
        &self,
        commit_sha: &str,
        git_ref: &str,
        sarif: &str,
    ) -> Result<String, GitHubError> {
        let receipt: Value = self
            .client
            .json(
                Method::POST,
                &self.path("/code-scanning/sarifs"),
                Some(&json!({
                    "commit_sha": commit_sha,
                    "ref": git_ref,
                    "sarif": sarif,
                    "tool_name": "upkeep",
                })),
            )
            .await?;
        Ok(receipt["id"].as_str().unwrap_or_default().to_owned())
    }
}
