//! Driver: a pinned toolchain file on the default branch gets one PR on `upkeep/toolchain` to
//! the newest stable release (rust-lang/rust's published releases, read with the installation's
//! token; `choose` decides). Find-or-create: the PR's body names the release it moves to, so a
//! pass that runs again (or after a crash) finds it; a newer release moves the open PR along; a
//! PR a person closed unmerged is not opened again for that release; a pin that caught up by
//! itself (or became a channel) closes the PR.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::choose::{choose, releases_from, Decision, Release};
use super::pin::{self, Pin};
use crate::deps::pass::{DepsPass, Gathered, PassError, PassOutcome};
use crate::github::marked::Marked;
use crate::github::repo::{NewFile, Repo};
use crate::github::GitHubError;

/// The branch of the toolchain PR.
pub const BRANCH: &str = "upkeep/toolchain";
/// Where the releases come from.
pub const RUST_REPO: &str = "rust-lang/rust";

/// The marker naming the release a toolchain PR moves to.
pub fn marker(to: &Pin) -> String {
    format!("<!-- upkeep:toolchain to={} -->", to.text())
}

/// The PR's title.
pub fn title(path: &str, from: &Pin, to: &Pin) -> String {
    format!(
        "Update Rust toolchain in {path} from {} to {}",
        from.text(),
        to.text()
    )
}

/// The PR's description: what moves, the release, and what stays (the MSRV).
pub fn body(path: &str, from: &Pin, to: &Pin, release: &Release) -> String {
    format!(
        "Moves the toolchain `{path}` pins from `{}` to `{}`, the newest stable Rust release \
         published (on {}; [release notes]({})).\n\n\
         Only the pin moves: components, targets and profile stay as they are. `rust-version` in \
         `Cargo.toml` (the oldest Rust the crates support) is a different number and is not \
         changed, nor are CI steps that test it.\n\n\
         Close this pull request to stay on `{}`: it is not opened again for this release.\n\n{}",
        from.text(),
        to.text(),
        release.published.format("%Y-%m-%d"),
        release.url,
        from.text(),
        marker(to),
    )
}

/// One line for the dashboard about the pin.
pub fn dashboard_line(
    path: &str,
    from: &Pin,
    decision: &Decision,
    pr: Option<u64>,
) -> Option<String> {
    let pinned = format!("`{path}` pins `{}`", from.text());
    Some(match decision {
        Decision::Move { to, .. } => match pr {
            Some(n) => format!("{pinned}: #{n} moves it to `{}`", to.text()),
            None => format!("{pinned}: `{}` is out (its PR was declined)", to.text()),
        },
        Decision::Waiting { version, until } => {
            format!(
                "{pinned}: {version} is out, proposed after its cooldown ({})",
                until.format("%Y-%m-%d")
            )
        }
        Decision::Ahead { newest } => {
            format!("{pinned}, above the newest stable release ({newest}): left alone")
        }
        Decision::Current | Decision::Channel => return None,
    })
}

impl DepsPass {
    /// The toolchain part of a pass.
    pub(crate) async fn toolchain(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        outcome: &mut PassOutcome,
    ) -> Result<(), PassError> {
        let Some(file) = pin::FILES
            .iter()
            .find_map(|name| g.listing.files.iter().find(|f| f.path == *name))
        else {
            return Ok(());
        };
        let text = self.blob(repo, &file.sha).await?;
        let from = match pin::read(&file.path, &text) {
            Ok(p) => p,
            Err(e) => {
                outcome.toolchain = Some(e.to_string());
                return Ok(());
            }
        };
        let open = repo.open_pull_for(BRANCH).await?;
        if let Pin::Channel(_) = from {
            return self
                .close_toolchain_pr(repo, open.map(|(p, _)| p.number), outcome)
                .await;
        }
        let page = match repo.sibling(RUST_REPO).releases().await {
            Ok(page) => page,
            Err(GitHubError::Status { status, .. }) => {
                warn!(
                    repo = repo.full_name(),
                    status, "rust-lang/rust releases unreadable"
                );
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let decision = choose(&from, &releases_from(&page), &g.config.cooldown, now());
        let number = match &decision {
            Decision::Move { to, release } => {
                self.ensure_toolchain_pr(repo, g, &file.path, &text, &from, to, release, open)
                    .await?
            }
            Decision::Current => {
                self.close_toolchain_pr(repo, open.map(|(p, _)| p.number), outcome)
                    .await?;
                None
            }
            // Waiting or ahead: an open PR stays as it is.
            _ => open.map(|(p, _)| p.number),
        };
        if let (Decision::Move { .. }, Some(n)) = (&decision, number) {
            info!(repo = repo.full_name(), pr = n, "toolchain PR current");
        }
        outcome.toolchain = dashboard_line(&file.path, &from, &decision, number);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn ensure_toolchain_pr(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        path: &str,
        text: &str,
        from: &Pin,
        to: &Pin,
        release: &Release,
        open: Option<(crate::github::repo::PullSummary, Vec<String>)>,
    ) -> Result<Option<u64>, PassError> {
        match repo
            .marked_pull(BRANCH, &marker(to), open.as_ref().map(|(p, _)| p))
            .await?
        {
            Marked::Current(number) => return Ok(Some(number)),
            Marked::Declined => return Ok(None),
            Marked::Make => {}
        }
        let rewritten = match pin::rewrite(path, text, to) {
            Ok(t) => t,
            Err(e) => {
                warn!(repo = repo.full_name(), error = %e, "toolchain file not rewritten");
                return Ok(None);
            }
        };
        let title = g.config.prefixed(&title(path, from, to));
        let commit = repo
            .commit_files(
                &g.head,
                &g.listing.tree,
                &[NewFile {
                    path: path.to_owned(),
                    content: rewritten,
                }],
                &format!("{title}\n\nMade by upkeep."),
            )
            .await?;
        repo.set_branch(BRANCH, &commit, open.is_some()).await?;
        let body = body(path, from, to, release);
        let number = match open {
            Some((pr, _)) => {
                repo.update_pull(pr.number, Some(&title), Some(&body), None)
                    .await?;
                pr.number
            }
            None => {
                let n = repo
                    .create_pull(&title, BRANCH, &g.default_branch, &body)
                    .await?;
                if !g.config.labels.is_empty() {
                    repo.add_labels(n, &g.config.labels).await?;
                }
                n
            }
        };
        Ok(Some(number))
    }

    async fn close_toolchain_pr(
        &self,
        repo: &Repo<'_>,
        open: Option<u64>,
        outcome: &mut PassOutcome,
    ) -> Result<(), PassError> {
        let Some(number) = open else {
            return Ok(());
        };
        repo.comment(
            number,
            "Closing: the toolchain file no longer pins an older release.",
        )
        .await?;
        repo.update_pull(number, None, None, Some("closed")).await?;
        repo.delete_branch(BRANCH).await?;
        outcome.closed.push(number);
        Ok(())
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}
