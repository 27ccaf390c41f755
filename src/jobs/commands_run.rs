//! Carrying out comment commands. A comment (new or edited) is parsed; each command is claimed
//! in the store first, so an edit never runs one twice; 👀 says it was received; commands that
//! change something need write, maintain or admin permission (asked from GitHub, cached for a
//! minute); bots and upkeep itself are never listened to. One reply lists what each command
//! did, and 👍 or 😕 closes the exchange.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::info;

use super::deps_pass::{is_upkeep_branch, DepsPass, PassError, PassOptions};
use super::worker::JobError;
use crate::commands::{self, Command, Found, WRITE_LEVELS};
use crate::deps::body;
use crate::github::repo::{PullSummary, Repo};
use crate::github::talk::Reaction;
use crate::github::InstallationClient;
use crate::store::Store;
use crate::time::now_ms;
use crate::webhook::events::IssueCommentEvent;

/// Commands run from one comment at most (a reply has to fit in a comment).
const MAX_COMMANDS: usize = 10;

/// How long a person's permission is trusted before GitHub is asked again.
const PERMISSION_TTL: Duration = Duration::from_secs(60);

/// Permissions recently asked, by `(repository, login)`.
#[derive(Default)]
pub struct PermissionCache(Mutex<HashMap<(String, String), (String, Instant)>>);

impl PermissionCache {
    pub async fn level(
        &self,
        repo: &Repo<'_>,
        full_name: &str,
        login: &str,
    ) -> Result<String, JobError> {
        let key = (full_name.to_owned(), login.to_lowercase());
        if let Some((level, at)) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if at.elapsed() < PERMISSION_TTL {
                return Ok(level.clone());
            }
        }
        let level = repo.permission(login).await.map_err(JobError::from)?;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (level.clone(), Instant::now()));
        Ok(level)
    }
}

/// Everything a command may need.
pub struct Conversation<'a> {
    pub store: &'a Store,
    pub client: &'a InstallationClient,
    pub deps: &'a DepsPass,
    pub permissions: &'a PermissionCache,
    pub repository_id: i64,
    pub full_name: &'a str,
}

use super::ignore_pr::Reply as Done;

fn ok(text: impl Into<String>) -> Done {
    Done {
        ok: true,
        text: text.into(),
    }
}

fn refused(text: impl Into<String>) -> Done {
    Done {
        ok: false,
        text: text.into(),
    }
}

impl Conversation<'_> {
    /// Acts on an `issue_comment` delivery.
    pub async fn on_comment(&self, e: &IssueCommentEvent) -> Result<&'static str, JobError> {
        if !matches!(e.action.as_str(), "created" | "edited") {
            return Ok("recorded");
        }
        if e.sender.kind == "Bot" || e.comment.user.kind == "Bot" {
            return Ok("a bot's comment");
        }
        let slug = &self.deps.slug;
        let found = commands::parse(e.comment.body.as_deref().unwrap_or_default(), slug);
        if found.is_empty() {
            return Ok("no command");
        }
        let mut fresh: Vec<Found> = Vec::new();
        for f in found {
            let claimed = self
                .store
                .claim_command(self.repository_id, e.comment.id, &f.key, now_ms())
                .await?;
            if claimed {
                fresh.push(f);
            }
        }
        if fresh.is_empty() {
            return Ok("commands already ran");
        }
        match self.answer(e, &fresh).await {
            Ok(outcome) => Ok(outcome),
            Err(err) => {
                // Failed half way: forget the claims so the retried delivery runs them.
                for f in &fresh {
                    let _ = self.store.release_command(e.comment.id, &f.key).await;
                }
                Err(err)
            }
        }
    }

    /// Runs freshly claimed commands and answers: one reply, then 👍 or 😕.
    async fn answer(
        &self,
        e: &IssueCommentEvent,
        fresh: &[Found],
    ) -> Result<&'static str, JobError> {
        let slug = &self.deps.slug;
        let repo = Repo::new(self.client, self.full_name);
        repo.react(e.comment.id, Reaction::Eyes).await?;
        let pull = match e.issue.pull_request {
            Some(_) => Some(repo.pull(e.issue.number as u64).await?),
            None => None,
        };
        let ours = pull
            .as_ref()
            .filter(|(p, _, _)| is_upkeep_branch(&p.head_ref) && p.user == self.deps.bot_login())
            .map(|(p, state, _)| (p, state.as_str()));
        // On an edit, both the comment's author and the editor must be allowed.
        let mut people = vec![e.comment.user.login.clone()];
        if e.sender.login != e.comment.user.login {
            people.push(e.sender.login.clone());
        }
        let login = people.last().cloned().unwrap_or_default();
        let mut level: Option<String> = None;
        let mut replies = Vec::new();
        let mut all_ok = true;
        let mut helped = false;
        for f in fresh.iter().take(MAX_COMMANDS) {
            let done = if f.command.changes_state()
                && !{
                    if level.is_none() {
                        let mut weakest = "admin".to_owned();
                        for person in &people {
                            let l = self
                                .permissions
                                .level(&repo, self.full_name, person)
                                .await?;
                            if !WRITE_LEVELS.contains(&l.as_str()) {
                                weakest = l;
                            }
                        }
                        level = Some(weakest);
                    }
                    WRITE_LEVELS.contains(&level.as_deref().unwrap_or("none"))
                } {
                refused(format!(
                    "Sorry @{login}, this changes things, which needs write, maintain or admin \
                     permission on {}; you have `{}`.",
                    self.full_name,
                    level.as_deref().unwrap_or("none")
                ))
            } else if f.command.needs_upkeep_pr() && ours.is_none() {
                refused("This works on upkeep's own pull requests; this is not one.")
            } else {
                let any = pull.as_ref().map(|(p, _, _)| p);
                let mut done = self.run(&repo, &f.command, ours, any, e).await?;
                // The help text once per reply, however many commands asked for it.
                if done.text.contains(&commands::help(slug)) {
                    if helped {
                        done.text = done
                            .text
                            .replace(&commands::help(slug), "(the commands are listed above)");
                    }
                    helped = true;
                }
                done
            };
            all_ok &= done.ok;
            replies.push(format!("> @{slug} {}\n\n{}", f.text, done.text));
            info!(repo = self.full_name, command = %f.text, ok = done.ok, "command");
        }
        if fresh.len() > MAX_COMMANDS {
            all_ok = false;
            replies.push(format!(
                "Only the first {MAX_COMMANDS} commands of a comment run; {} more were left alone.",
                fresh.len() - MAX_COMMANDS
            ));
        }
        repo.comment(e.issue.number as u64, &replies.join("\n\n"))
            .await?;
        repo.react(
            e.comment.id,
            if all_ok {
                Reaction::ThumbsUp
            } else {
                Reaction::Confused
            },
        )
        .await?;
        Ok(if all_ok {
            "commands run"
        } else {
            "commands refused"
        })
    }

    async fn run(
        &self,
        repo: &Repo<'_>,
        command: &Command,
        pr: Option<(&PullSummary, &str)>,
        any_pr: Option<&PullSummary>,
        e: &IssueCommentEvent,
    ) -> Result<Done, JobError> {
        let slug = &self.deps.slug;
        Ok(match (command, pr) {
            (Command::Help, _) => ok(commands::help(slug)),
            (Command::Unknown { suggestion }, _) => {
                let hint = suggestion
                    .as_ref()
                    .map(|s| format!(" Did you mean `@{slug} {s}`?"))
                    .unwrap_or_default();
                refused(format!(
                    "I don't know that command.{hint}\n\n{}",
                    commands::help(slug)
                ))
            }
            (Command::Rebase | Command::Recreate, Some((pr, state))) => {
                if state != "open" {
                    return Ok(refused("This pull request is closed; `reopen` it first."));
                }
                self.rebuild(pr).await?
            }
            (Command::Merge, Some((pr, _))) => self.merge(repo, pr, true).await?,
            (Command::CancelMerge, Some((pr, _))) => self.merge(repo, pr, false).await?,
            (Command::Close, Some((pr, _))) => {
                repo.update_pull(pr.number, None, None, Some("closed"))
                    .await?;
                if let Some(fp) = body::fingerprint_of(&pr.body) {
                    self.store
                        .record_declined(self.repository_id, &pr.head_ref, fp, now_ms())
                        .await?;
                }
                ok("Closed. This update will not be proposed again; a newer one will be.")
            }
            (Command::Reopen, Some((pr, _))) => {
                repo.update_pull(pr.number, None, None, Some("open"))
                    .await?;
                ok("Reopened; the next pass keeps it current.")
            }
            (Command::Ignore(scope), Some((pr, _))) => {
                super::ignore_pr::ignore(self, repo, pr, *scope, &e.comment.user.login).await?
            }
            (Command::ShowIgnores, _) => super::ignore_pr::show(self, repo).await?,
            (
                Command::Unignore {
                    dependency,
                    condition,
                },
                _,
            ) => super::ignore_pr::unignore(self, repo, dependency, condition.as_deref()).await?,
            (Command::Update, _) => {
                self.enqueue(super::scheduler::DEPS_JOB, e.comment.id)
                    .await?;
                ok("A dependency pass is queued; its PRs will show up shortly.")
            }
            (Command::Audit, _) => {
                super::audit_triggers::enqueue_audit(
                    self.store,
                    self.repository_id,
                    &format!("cmd:{}:{}", e.comment.id, now_ms()),
                    now_ms(),
                )
                .await?;
                ok("An audit is queued.")
            }
            (Command::Retry, _) => {
                match self
                    .store
                    .retry_last_failed(self.repository_id, now_ms())
                    .await?
                {
                    Some(job) => ok(format!(
                        "Running the `{}` job again (it failed with: {}).",
                        job.kind,
                        job.last_error.as_deref().unwrap_or("no message")
                    )),
                    None => ok("Nothing failed recently; there is nothing to retry."),
                }
            }
            (Command::Bench(_), _) => match any_pr {
                Some(pr) => {
                    let repository = crate::webhook::events::RepositoryRef {
                        id: self.repository_id,
                        full_name: self.full_name.to_owned(),
                        private: false,
                        default_branch: e.repository.default_branch.clone(),
                    };
                    let posted = super::bench_ingest::repost(
                        self.store,
                        self.client,
                        &repository,
                        &pr.head_sha,
                        slug,
                        self.deps.public_url.as_deref(),
                    )
                    .await?;
                    if posted {
                        ok("The benchmark comparison is posted above.")
                    } else {
                        refused("No successful run on this pull request's head has `upkeep-criterion` results yet (see `.github/workflows/upkeep-bench.yml`).")
                    }
                }
                None => refused(
                    "`bench` compares a pull request's benchmarks: comment it on a pull request.",
                ),
            },
            (Command::Revert(_), _) => match any_pr {
                Some(pr) => {
                    let asked = super::revert_watch::on_request(
                        self.store,
                        self.client,
                        self.repository_id,
                        self.full_name,
                        pr.number,
                        &e.sender.login,
                        slug,
                    )
                    .await?;
                    Done {
                        ok: asked.0,
                        text: asked.1,
                    }
                }
                None => refused("`revert` reverts a merged pull request: comment it on one."),
            },
            _ => refused("This works on upkeep's own pull requests; this is not one."),
        })
    }

    /// `rebase` / `recreate`: the pass rebuilds this PR's branch on the default branch.
    async fn rebuild(&self, pr: &PullSummary) -> Result<Done, JobError> {
        let mut options = self.options().await?;
        options.deps = true;
        options.rebuild.insert(pr.head_ref.clone());
        let outcome = match self
            .deps
            .run_with(self.client, self.full_name, &options)
            .await
        {
            Ok(o) => o,
            Err(PassError::GitHub(e)) => return Err(JobError::from(e)),
            Err(e) => return Err(JobError::Retry(e.to_string())),
        };
        Ok(if outcome.updated.contains(&pr.number) {
            ok("Rebuilt on the default branch.")
        } else if outcome.closed.contains(&pr.number) {
            ok("This update is no longer needed, so I closed it.")
        } else if let Some((_, why)) = outcome.skipped.iter().find(|(b, _)| *b == pr.head_ref) {
            refused(format!("I could not rebuild it: {why}"))
        } else {
            ok("It is already current with the default branch.")
        })
    }

    /// `merge` / `cancel merge`: the body's marker says whether it merges itself once green.
    async fn merge(&self, repo: &Repo<'_>, pr: &PullSummary, on: bool) -> Result<Done, JobError> {
        let (from, to) = if on {
            ("automerge=no", "automerge=yes")
        } else {
            ("automerge=yes", "automerge=no")
        };
        if pr.body.contains(from) {
            repo.update_pull(pr.number, None, Some(&pr.body.replace(from, to)), None)
                .await?;
        }
        if !on {
            return Ok(ok("It will not merge itself."));
        }
        let outcome = super::after_ci::on_ci_finished(
            self.client,
            self.full_name,
            &pr.head_ref,
            &pr.head_sha,
        )
        .await?;
        Ok(match outcome {
            super::after_ci::AfterCi::Merged(_) => ok("Every check is green: merged."),
            super::after_ci::AfterCi::Pending => ok("I will merge it once every check is green."),
            _ => ok("I will merge it once every check is green (some are failing now)."),
        })
    }

    async fn enqueue(&self, kind: &str, comment_id: i64) -> Result<(), JobError> {
        super::audit_triggers::enqueue_pass(
            self.store,
            kind,
            self.repository_id,
            &format!("cmd:{comment_id}:{}", now_ms()),
            now_ms(),
        )
        .await?;
        Ok(())
    }

    /// The pass options the repository's stored state asks for.
    pub async fn options(&self) -> Result<PassOptions, JobError> {
        pass_options(self.store, self.repository_id).await
    }
}

/// Pass options from what the store keeps for a repository: declined updates, ignores added or
/// removed by command, whether its dashboard is off.
pub async fn pass_options(store: &Store, repository_id: i64) -> Result<PassOptions, JobError> {
    let declined = store.declined(repository_id).await?;
    let ignore_edits = store
        .pending_ignores(repository_id)
        .await?
        .into_iter()
        .map(|p| crate::config::edit::IgnoreEdit {
            add: p.op == "add",
            dependency: p.dependency,
            versions: p.versions,
        })
        .collect();
    let dashboard_off = store
        .repository(repository_id)
        .await?
        .is_some_and(|r| r.dashboard_off);
    Ok(PassOptions {
        declined,
        ignore_edits,
        dashboard: dashboard_off.then_some(false),
        ..PassOptions::default()
    })
}
