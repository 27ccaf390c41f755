//! Ignores live in the repository: `ignore this …` and `unignore` record the change in the
//! store (so every pass applies it at once) and open or update one PR, on
//! `upkeep/config/ignores`, that writes all pending changes into `.github/upkeep.toml` with the
//! file's formatting kept. When that PR merges (or a person closes it) the pending changes are
//! forgotten: the file is the truth again. `show ignore conditions` lists both.

use std::fmt::Write as _;

use semver::Version;

use crate::commands::conversation::Conversation;
use crate::commands::IgnoreScope;
use crate::config::edit::{apply_ignores, scope_versions, IgnoreEdit};
use crate::config::{self};
use crate::deps::body;
use crate::github::repo::{NewFile, PullSummary, Repo};
use crate::queue::worker::JobError;
use crate::store::commands::PendingIgnore;
use crate::time::now_ms;

/// The branch of the PR that writes ignores into the configuration file.
pub const IGNORE_BRANCH: &str = "upkeep/config/ignores";

/// What a command did, for the reply.
pub struct Reply {
    pub ok: bool,
    pub text: String,
}

/// `ignore this dependency / major / minor / patch version` on upkeep's PR `pr`.
pub async fn ignore(
    c: &Conversation<'_>,
    repo: &Repo<'_>,
    pr: &PullSummary,
    scope: IgnoreScope,
    login: &str,
) -> Result<Reply, JobError> {
    let updates = body::marker_updates(&pr.body);
    if pr.head_ref.starts_with(crate::audit::plan::BRANCH_PREFIX) {
        return Ok(Reply {
            ok: false,
            text: "This is a security update: ignoring the crate would leave the vulnerability. To accept the risk, silence the advisory in `.github/upkeep.toml` with `[[ignore]] advisory = \"RUSTSEC-…\"` and a `reason`.".into(),
        });
    }
    if updates.len() != 1 {
        let names: Vec<String> = updates.iter().map(|(n, _, _)| format!("`{n}`")).collect();
        return Ok(Reply {
            ok: false,
            text: if names.is_empty() {
                "I cannot tell which dependency this pull request updates.".into()
            } else {
                format!(
                    "This pull request updates several dependencies ({}); `ignore this …` works on a pull request for one dependency. Add the ignore to `.github/upkeep.toml` for the one you mean.",
                    names.join(", ")
                )
            },
        });
    }
    let mut lines = Vec::new();
    for (name, _, to) in &updates {
        let Ok(to) = Version::parse(to) else { continue };
        let versions = scope_versions(scope, &to);
        c.store
            .put_pending_ignore(
                c.repository_id,
                &PendingIgnore {
                    dependency: name.clone(),
                    versions: versions.clone(),
                    op: "add".into(),
                },
                now_ms(),
            )
            .await?;
        lines.push(if versions.is_empty() {
            format!("`{name}` (every version)")
        } else {
            format!("`{name}` `{versions}`")
        });
    }
    let written = write_pr(c, repo, &format!("asked by @{login} on #{}", pr.number)).await?;
    repo.update_pull(pr.number, None, None, Some("closed"))
        .await?;
    Ok(Reply {
        ok: true,
        text: format!(
            "Ignoring {} from now on, and closed this pull request. {}",
            lines.join(", "),
            written
        ),
    })
}

/// `unignore DEPENDENCY [CONDITION]`.
pub async fn unignore(
    c: &Conversation<'_>,
    repo: &Repo<'_>,
    dependency: &str,
    condition: Option<&str>,
) -> Result<Reply, JobError> {
    if let Some(cond) = condition {
        if semver::VersionReq::parse(cond).is_err() {
            return Ok(Reply {
                ok: false,
                text: format!(
                    "`{cond}` is not a version requirement. Use one `show ignore conditions` lists (for example `>=2.0.0, <3.0.0`), or none to lift every ignore of `{dependency}`."
                ),
            });
        }
    }
    let (config, _) = crate::config::fetch::default_config(repo).await?;
    let pending = c.store.pending_ignores(c.repository_id).await?;
    let in_file = config
        .ignore
        .iter()
        .any(|r| r.dependency.as_str() == glob::Pattern::escape(dependency));
    let in_pending = pending
        .iter()
        .any(|p| p.dependency == dependency && p.op == "add");
    if !in_file && !in_pending {
        return Ok(Reply {
            ok: false,
            text: format!("`{dependency}` is not ignored."),
        });
    }
    c.store
        .drop_pending_ignores(c.repository_id, dependency, None)
        .await?;
    if in_file {
        c.store
            .put_pending_ignore(
                c.repository_id,
                &PendingIgnore {
                    dependency: dependency.to_owned(),
                    versions: condition.unwrap_or_default().to_owned(),
                    op: "remove".into(),
                },
                now_ms(),
            )
            .await?;
    }
    let written = write_pr(c, repo, "asked by comment").await?;
    Ok(Reply {
        ok: true,
        text: format!("`{dependency}` is no longer ignored. {written}"),
    })
}

/// `show ignore conditions`: the file's ignores and those pending.
pub async fn show(c: &Conversation<'_>, repo: &Repo<'_>) -> Result<Reply, JobError> {
    let (config, _) = crate::config::fetch::default_config(repo).await?;
    let pending = c.store.pending_ignores(c.repository_id).await?;
    let mut s = String::new();
    if config.ignore.is_empty() && pending.is_empty() && config.ignore_advisories.is_empty() {
        s.push_str("Nothing is ignored.");
    }
    if !config.ignore.is_empty() {
        let _ = writeln!(s, "In `.github/upkeep.toml`:\n");
        for r in &config.ignore {
            let mut what: Vec<String> = r.versions.iter().map(|v| format!("`{v}`")).collect();
            what.extend(
                r.update_types
                    .iter()
                    .map(|l| format!("{l:?} updates").to_lowercase()),
            );
            let what = if what.is_empty() {
                "every version".to_owned()
            } else {
                what.join(", ")
            };
            let reason = r
                .reason
                .as_deref()
                .map(|r| format!(" — {r}"))
                .unwrap_or_default();
            let _ = writeln!(s, "- `{}`: {what}{reason}", r.dependency.as_str());
        }
    }
    for a in &config.ignore_advisories {
        let _ = writeln!(s, "- advisory {}: {}", a.id, a.reason);
    }
    if !pending.is_empty() {
        let _ = writeln!(
            s,
            "\nApplied now, waiting for the `{IGNORE_BRANCH}` pull request to merge:\n"
        );
        for p in &pending {
            let verb = if p.op == "add" { "ignore" } else { "unignore" };
            let what = if p.versions.is_empty() {
                "every version".to_owned()
            } else {
                format!("`{}`", p.versions)
            };
            let _ = writeln!(s, "- {verb} `{}`: {what}", p.dependency);
        }
    }
    Ok(Reply { ok: true, text: s })
}

/// Writes every pending change into `.github/upkeep.toml` on the ignore PR (opened or
/// updated); says what happened, for the reply.
async fn write_pr(c: &Conversation<'_>, repo: &Repo<'_>, why: &str) -> Result<String, JobError> {
    let pending = c.store.pending_ignores(c.repository_id).await?;
    let edits: Vec<IgnoreEdit> = pending
        .iter()
        .map(|p| IgnoreEdit {
            dependency: p.dependency.clone(),
            versions: p.versions.clone(),
            add: p.op == "add",
        })
        .collect();
    let (_, (base, head, text)) = crate::config::fetch::default_config(repo).await?;
    let new = match apply_ignores(&text, &edits) {
        Ok(t) => t,
        Err(e) => {
            return Ok(format!(
                "It applies now, but I cannot write it into the file: {e}"
            ))
        }
    };
    let open = repo.open_pull_for(IGNORE_BRANCH).await?;
    if new == text {
        // The default branch already says all of it.
        for p in &pending {
            c.store
                .drop_pending_ignores(c.repository_id, &p.dependency, Some(&p.versions))
                .await?;
        }
        if let Some((pr, _)) = open {
            repo.comment(pr.number, "Nothing left to write: closing.")
                .await?;
            repo.update_pull(pr.number, None, None, Some("closed"))
                .await?;
            repo.delete_branch(IGNORE_BRANCH).await?;
            return Ok(format!(
                "`.github/upkeep.toml` already says so; #{} is closed.",
                pr.number
            ));
        }
        return Ok("`.github/upkeep.toml` already says so.".into());
    }
    let listing = repo.files(&head).await?;
    let commit = repo
        .commit_files(
            &head,
            &listing.tree,
            &[NewFile {
                path: config::repo::PATH.to_owned(),
                content: new,
            }],
            "Update ignores in .github/upkeep.toml\n\nMade by upkeep.",
        )
        .await?;
    repo.set_branch(IGNORE_BRANCH, &commit, false).await?;
    let mut body = format!(
        "Writes the ignores changed by command into `.github/upkeep.toml` ({why}). They already \
         apply; merging this makes the file say so.\n\n"
    );
    for e in &edits {
        let verb = if e.add { "ignore" } else { "unignore" };
        let what = if e.versions.is_empty() {
            "every version".to_owned()
        } else {
            format!("`{}`", e.versions)
        };
        let _ = writeln!(body, "- {verb} `{}`: {what}", e.dependency);
    }
    let title = "Update ignores in .github/upkeep.toml";
    let number = match open {
        Some((pr, _)) => {
            repo.update_pull(pr.number, Some(title), Some(&body), None)
                .await?;
            pr.number
        }
        None => repo.create_pull(title, IGNORE_BRANCH, &base, &body).await?,
    };
    Ok(format!("#{number} writes it into `.github/upkeep.toml`."))
}
