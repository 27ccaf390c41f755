//! Another repository's published releases (rust-lang/rust's, for toolchain pins): public
//! repositories are readable with any installation token.

use reqwest::Method;
use serde_json::Value;

use super::repo::Repo;
use super::GitHubError;

impl<'a> Repo<'a> {
    /// The same installation acting on another repository (`owner/name`).
    pub fn sibling(&self, full_name: &'a str) -> Repo<'a> {
        Repo {
            client: self.client,
            full_name,
        }
    }

    /// The newest releases, newest first (one page of 100).
    pub async fn releases(&self) -> Result<Vec<Value>, GitHubError> {
        self.client
            .json(Method::GET, &self.path("/releases?per_page=100"), None)
            .await
    }
}
