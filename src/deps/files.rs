//! What a dependency pass reads of a repository's files: its `.github/upkeep.toml` (problems
//! reported once per head commit, as an `upkeep/config` check run), blob texts through the
//! memory and store caches, and workspace discovery fetching what it asks for round by round.

use std::collections::BTreeMap;
use std::sync::Arc;

use tracing::warn;

use crate::config::{self, RepoConfig};
use crate::deps::pass::{DepsPass, PassError, PassOutcome};
use crate::deps::{discover, Discovery, Workspace};
use crate::github::checks::CheckRun;
use crate::github::repo::{Listing, Repo};

/// A configuration problem as one line: the key (or the file), the line, the message.
fn problem_line(p: &config::Problem) -> String {
    let at = p.line.map(|l| format!(" (line {l})")).unwrap_or_default();
    let key = if p.key.is_empty() { "file" } else { &p.key };
    format!("`{key}`{at}: {}", p.message)
}

impl DepsPass {
    /// The repository's `.github/upkeep.toml`, its problems reported once per head commit.
    pub(crate) async fn config(
        &self,
        repo: &Repo<'_>,
        full_name: &str,
        head: &str,
        listing: &Listing,
        base: &str,
        outcome: &mut PassOutcome,
    ) -> Result<RepoConfig, PassError> {
        let Some(file) = listing.files.iter().find(|f| f.path == config::repo::PATH) else {
            return Ok(RepoConfig::default());
        };
        let text = self.blob(repo, &file.sha).await?;
        let parsed = config::parse(&text);
        outcome.config_problems = parsed.problems.len();
        outcome.config_messages = parsed.problems.iter().map(problem_line).collect();
        if parsed.problems.is_empty() {
            return Ok(parsed.config);
        }
        let seen = {
            let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
            reported
                .insert(full_name.to_owned(), head.to_owned())
                .as_deref()
                == Some(head)
        };
        if !seen {
            let n = parsed.problems.len();
            let mut summary: String = parsed
                .problems
                .iter()
                .map(|p| format!("- {}\n", problem_line(p)))
                .collect();
            let at = config::fix_pr::FileAt {
                base,
                head,
                blob_sha: &file.sha,
                text: &text,
            };
            if let Some(pr) = config::fix_pr::ensure(repo, &at).await? {
                summary.push_str(&format!(
                    "\n#{pr} fixes what has only one possible fix ({}).\n",
                    config::fix_pr::FIX_BRANCH
                ));
            }
            repo.create_check_run(&CheckRun {
                name: "upkeep/config".into(),
                head_sha: head.to_owned(),
                conclusion: Some("failure".into()),
                title: format!("{n} problem{} in {}", if n == 1 { "" } else { "s" }, config::repo::PATH),
                summary: format!("{summary}\nEverything else in the file still applies; the lines above keep their defaults."),
                annotations: parsed
                    .problems
                    .iter()
                    .map(|p| (config::repo::PATH.to_owned(), p.line.unwrap_or(1), "failure".to_owned(), p.message.clone()))
                    .collect(),
            })
            .await?;
        }
        Ok(parsed.config)
    }

    /// A blob's text: from memory, else the store (shared by replicas, kept across restarts),
    /// else GitHub.
    pub(crate) async fn blob(&self, repo: &Repo<'_>, sha: &str) -> Result<Arc<str>, PassError> {
        if let Some(text) = self.blobs.get(sha) {
            return Ok(text);
        }
        let now = crate::time::now_ms();
        if let Some(store) = &self.store {
            match store.blob(sha, now).await {
                Ok(Some(text)) => {
                    self.blobs.put(sha, &text);
                    return Ok(Arc::from(text.as_str()));
                }
                Ok(None) => {}
                Err(e) => warn!(error = %e, "blob cache unavailable"),
            }
        }
        let text = repo.blob(sha).await?;
        self.blobs.put(sha, &text);
        if let Some(store) = &self.store {
            if let Err(e) = store.put_blob(sha, &text, now).await {
                warn!(error = %e, "blob not cached");
            }
        }
        Ok(Arc::from(text.as_str()))
    }

    /// Discovery, fetching (through the cache) what it asks for, round by round.
    pub(crate) async fn discover(
        &self,
        repo: &Repo<'_>,
        listing: &Listing,
        tree: &[String],
    ) -> Result<(Vec<Workspace>, BTreeMap<String, String>), PassError> {
        let shas: BTreeMap<&str, &str> = listing
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha.as_str()))
            .collect();
        let mut files = BTreeMap::new();
        for _ in 0..8 {
            match discover(tree, &files) {
                Discovery::Found(found) => return Ok((found, files)),
                Discovery::Need(paths) => {
                    for p in paths {
                        let Some(sha) = shas.get(p.as_str()) else {
                            continue;
                        };
                        let text = self.blob(repo, sha).await?;
                        files.insert(p, text.to_string());
                    }
                }
            }
        }
        match discover(tree, &files) {
            Discovery::Found(found) => Ok((found, files)),
            Discovery::Need(paths) => Err(PassError::Unsettled(paths)),
        }
    }
}
