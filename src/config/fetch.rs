//! The configuration driver: reads `.github/upkeep.toml` from a repository's default branch and
//! parses it with the pure parser beside it. The only file of `config/` that talks to GitHub.

use super::RepoConfig;
use crate::github::repo::Repo;
use crate::github::GitHubError;

/// The default branch's configuration and its text (empty without a file).
pub async fn default_config(
    repo: &Repo<'_>,
) -> Result<(RepoConfig, (String, String, String)), GitHubError> {
    let info = repo.info().await?;
    let head = repo.branch_head(&info.default_branch).await?;
    let listing = repo.files(&head).await?;
    let text = match listing.files.iter().find(|f| f.path == super::repo::PATH) {
        Some(f) => repo.blob(&f.sha).await?,
        None => String::new(),
    };
    Ok((
        super::parse(&text).config,
        (info.default_branch, head, text),
    ))
}
