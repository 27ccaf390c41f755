//! Driver: the audit's findings on the default branch uploaded to GitHub code scanning as SARIF
//! (`[audit] code-scanning = true`), so they sit beside GitHub's own alerts and close when a
//! later upload no longer has them. An upload is made once per commit and log (a mark in the
//! store remembers the last one), an empty log included: that is what closes fixed alerts.
//! GitHub refusing it (code scanning off, the permission not accepted) is a dashboard note with
//! what to do, never a failed pass.

use tracing::{info, warn};

use super::sarif::{self, Located};
use super::AdvisoryDb;
use crate::deps::pass::{DepsPass, Gathered, PassError, PassOutcome};
use crate::github::repo::Repo;
use crate::github::GitHubError;

/// The store mark holding the last upload's digest, per repository.
fn mark_name(repository_id: i64) -> String {
    format!("code-scanning:{repository_id}")
}

/// What the dashboard says when GitHub refuses the upload.
pub fn refused_note(status: u16, message: &str) -> String {
    let message: String = message.chars().take(200).collect();
    format!(
        "code scanning upload (`[audit] code-scanning = true`): GitHub answered {status} ({message}). \
         Turn code scanning on for the repository (Settings → Code security; private repositories \
         need GitHub Advanced Security) and accept upkeep's `security_events: write` permission, \
         or set `code-scanning = false`."
    )
}

impl DepsPass {
    /// Uploads `found` (advisory findings with their lockfiles) for the default branch's head.
    pub(crate) async fn upload_code_scanning(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        db: &AdvisoryDb,
        found: &[Located<'_>],
        outcome: &mut PassOutcome,
    ) -> Result<(), PassError> {
        let log = sarif::log(db, found);
        let digest = sarif::digest(&g.head, &log);
        let mark = mark_name(g.repository_id);
        if let Some(store) = &self.store {
            match store.mark(&mark).await {
                Ok(Some(last)) if last == digest => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    warn!(repo = repo.full_name(), error = %e, "code-scanning mark unreadable")
                }
            }
        }
        let encoded = match sarif::encode(&log) {
            Ok(e) => e,
            Err(e) => {
                warn!(repo = repo.full_name(), error = %e, "SARIF not encoded");
                return Ok(());
            }
        };
        let git_ref = format!("refs/heads/{}", g.default_branch);
        match repo.upload_sarif(&g.head, &git_ref, &encoded).await {
            Ok(id) => {
                info!(repo = repo.full_name(), upload = %id, results = found.len(), "SARIF uploaded");
                if let Some(store) = &self.store {
                    if let Err(e) = store.set_mark(&mark, digest).await {
                        warn!(repo = repo.full_name(), error = %e, "code-scanning mark not kept");
                    }
                }
                Ok(())
            }
            Err(GitHubError::Status {
                status, message, ..
            }) if (400..500).contains(&status) && status != 429 => {
                warn!(repo = repo.full_name(), status, "SARIF upload refused");
                outcome.paused.push(refused_note(status, &message));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}
