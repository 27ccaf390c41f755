//! Carrying out comment commands. A comment (new or edited) is parsed; each command is claimed
//! in the store first, so an edit never runs one twice; 👀 says it was received; commands that
//! change something need write, maintain or admin permission (asked from GitHub, cached for a
//! minute); bots and upkeep itself are never listened to. One reply lists what each command
//! did, and 👍 or 😕 closes the exchange.
//!
//! A stranger may write anything, so: a comment over GitHub's size cap is not read, parsing
//! runs on a blocking thread within a time budget, at most [`MAX_COMMANDS`] commands of a
//! comment run, each person has [`RATE_LIMIT`] commands per repository per ten minutes (one
//! polite line when that runs out, then silence), and a reply quotes at most a short excerpt.
//!
//! A command is done when its reply exists, not when it was claimed: the reply carries a hidden
//! marker naming the comment and its commands, and a delivery re-run after a crash finds that
//! reply (and only closes the exchange) or runs the commands again, whose effects are
//! find-or-create (queued jobs by a key per command, PRs by branch, reverts by their lease).

use std::time::Duration;

use tracing::info;

use crate::commands::{self, Command, Found, WRITE_LEVELS};
use crate::deps::body;
use crate::deps::is_upkeep_branch;
use crate::deps::pass::PassOptions;
use crate::github::repo::{PullSummary, Repo};
use crate::github::talk::Reaction;
use crate::queue::worker::JobError;
use crate::store::commands::Claim;
use crate::store::Store;
use crate::time::now_ms;
use crate::webhook::events::IssueCommentEvent;

use super::conversation::Conversation;

/// Commands run from one comment at most; the rest are answered in one line.
pub const MAX_COMMANDS: usize = 5;

/// GitHub's cap on a comment's length, in characters. A signed payload with a longer comment
/// did not come from a person's comment box and is not read.
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// Commands one person may have acted on per repository in [`RATE_WINDOW_MS`].
pub const RATE_LIMIT: i64 = 20;
pub const RATE_WINDOW_MS: i64 = 10 * 60 * 1000;

/// How long parsing a comment may take (it is linear; this guards the worker regardless).
const PARSE_BUDGET: Duration = Duration::from_secs(2);

/// How much of a command's text a reply quotes.
const EXCERPT_CHARS: usize = 80;

/// Ends the reply marker when every command succeeded (read back after a crash).
const OK_TAIL: &str = "<!-- ok -->";

/// The hidden line that identifies the reply to one set of commands of one comment.
fn reply_marker(comment_id: i64, keys: &[&str]) -> String {
    let hash = commands::parse::fnv1a(&keys.join("\n"));
    format!("<!-- upkeep:reply {comment_id}/{hash:016x} -->")
}

/// At most [`EXCERPT_CHARS`] of what someone wrote, as inline text (never the whole input).
fn excerpt(text: &str) -> String {
    let short: String = text.chars().take(EXCERPT_CHARS).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// Parses a comment on a blocking thread within [`PARSE_BUDGET`], so no comment can hold up
/// the async runtime the intake and the other workers share.
async fn parse_off_the_runtime(body: String, slug: String) -> Result<Vec<Found>, JobError> {
    let task = tokio::task::spawn_blocking(move || commands::parse(&body, &slug));
    match tokio::time::timeout(PARSE_BUDGET, task).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(e)) => Err(JobError::Permanent(format!(
            "parsing the comment failed: {e}"
        ))),
        Err(_) => Err(JobError::Permanent(format!(
            "parsing the comment took over {PARSE_BUDGET:?}"
        ))),
    }
}

use crate::commands::ignore_pr::Reply as Done;

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
        let body = e.comment.body.clone().unwrap_or_default();
        if body.len() > 4 * MAX_COMMENT_CHARS || body.chars().count() > MAX_COMMENT_CHARS {
            // Signed, but not what GitHub sends: its comments stop at 65,536 characters.
            tracing::warn!(
                repo = self.full_name,
                comment = e.comment.id,
                bytes = body.len(),
                "a comment over GitHub's size cap is not read"
            );
            return Ok("a comment over GitHub's size cap");
        }
        let found = parse_off_the_runtime(body, self.deps.slug.clone()).await?;
        if found.is_empty() {
            return Ok("no command");
        }
        let left_alone = found.len().saturating_sub(MAX_COMMANDS);
        let mut fresh: Vec<Found> = Vec::new();
        let mut new = 0usize;
        for f in found.into_iter().take(MAX_COMMANDS) {
            match self
                .store
                .claim_command(
                    self.repository_id,
                    e.comment.id,
                    &f.key,
                    self.delivery_id,
                    now_ms(),
                )
                .await?
            {
                Claim::New => {
                    new += 1;
                    fresh.push(f);
                }
                Claim::Resumed => fresh.push(f),
                Claim::Done | Claim::Elsewhere => {}
            }
        }
        if fresh.is_empty() {
            return Ok("commands already ran");
        }
        // New commands spend the person's allowance; what it does not cover is answered by one
        // polite line per window and never run.
        let allowance = self
            .store
            .take_command_allowance(
                self.repository_id,
                &e.sender.login,
                new as i64,
                RATE_LIMIT,
                RATE_WINDOW_MS,
                now_ms(),
            )
            .await?;
        let refused_new = new - usize::try_from(allowance.granted).unwrap_or(0);
        if refused_new > 0 {
            let over: Vec<Found> = fresh.split_off(fresh.len() - refused_new);
            let keys: Vec<&str> = over.iter().map(|f| f.key.as_str()).collect();
            self.store
                .finish_commands(e.comment.id, &keys, now_ms())
                .await?;
            info!(repo = self.full_name, login = %e.sender.login, refused = refused_new, "command rate limit");
        }
        let limit_note = allowance.tell.then(|| {
            format!(
                "@{} you have run {RATE_LIMIT} commands on this repository in the last {} \
                 minutes, so I am leaving the rest alone for now; ask again after {} UTC.",
                e.sender.login,
                RATE_WINDOW_MS / 60_000,
                crate::time::format_utc_minute(allowance.window_ends_at),
            )
        });
        if fresh.is_empty() {
            if let Some(note) = limit_note {
                let repo = Repo::new(self.client, self.full_name);
                let marker = reply_marker(e.comment.id, &["rate-limit"]);
                if repo
                    .find_comment(e.issue.number as u64, &marker)
                    .await?
                    .is_none()
                {
                    repo.comment(e.issue.number as u64, &format!("{note}\n\n{marker}"))
                        .await?;
                }
            }
            return Ok("commands over the rate limit");
        }
        let keys: Vec<&str> = fresh.iter().map(|f| f.key.as_str()).collect();
        let marker = reply_marker(e.comment.id, &keys);
        let repo = Repo::new(self.client, self.full_name);
        // A crash after the reply was posted (the claim resumed), or a store restored from a
        // backup that forgot the claim (the delivery came back from GitHub's log): the
        // commands ran; finish without repeating. The reply on GitHub is the truth.
        if let Some((_, reply)) = repo.find_comment(e.issue.number as u64, &marker).await? {
            let all_ok = reply.contains(&format!("{marker}{OK_TAIL}"));
            self.close_exchange(&repo, e.comment.id, all_ok).await?;
            self.store
                .finish_commands(e.comment.id, &keys, now_ms())
                .await?;
            return Ok("commands resumed after a crash");
        }
        let mut extra = Vec::new();
        if left_alone > 0 {
            extra.push(format!(
                "Only the first {MAX_COMMANDS} commands of a comment run; {left_alone} more were left alone."
            ));
        }
        extra.extend(limit_note);
        let outcome = self.answer(&repo, e, &fresh, &extra, &marker).await?;
        self.store
            .finish_commands(e.comment.id, &keys, now_ms())
            .await?;
        Ok(outcome)
    }

    /// Runs freshly claimed commands and answers: one reply (carrying `marker`, so a re-run
    /// after a crash finds it instead of answering twice), then 👍 or 😕.
    async fn answer(
        &self,
        repo: &Repo<'_>,
        e: &IssueCommentEvent,
        fresh: &[Found],
        extra: &[String],
        marker: &str,
    ) -> Result<&'static str, JobError> {
        let slug = &self.deps.slug;
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
        let mut all_ok = extra.is_empty();
        let mut helped = false;
        for f in fresh {
            let done = if f.command.changes_state()
                && !{
                    if level.is_none() {
                        // The weakest level among the people involved (an unknown name
                        // ranks lowest).
                        let rank = |l: &str| {
                            ["none", "read", "triage", "write", "maintain", "admin"]
                                .iter()
                                .position(|x| *x == l)
                                .unwrap_or(0)
                        };
                        let mut weakest = "admin".to_owned();
                        for person in &people {
                            let l = self.permissions.level(repo, self.full_name, person).await?;
                            if rank(&l) < rank(&weakest) {
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
            } else if f.command.needs_admin() && level.as_deref() != Some("admin") {
                refused(format!(
                    "Sorry @{login}, this needs admin permission on {}; you have `{}`.",
                    self.full_name,
                    level.as_deref().unwrap_or("none")
                ))
            } else if f.command.needs_upkeep_pr() && ours.is_none() {
                refused("This works on upkeep's own pull requests; this is not one.")
            } else {
                let any = pull.as_ref().map(|(p, _, _)| p);
                let mut done = self.run(repo, &f.command, ours, any, e, &f.key).await?;
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
            replies.push(format!("> @{slug} {}\n\n{}", excerpt(&f.text), done.text));
            info!(repo = self.full_name, command = %excerpt(&f.text), ok = done.ok, "command");
        }
        replies.extend(extra.iter().cloned());
        replies.push(format!("{marker}{}", if all_ok { OK_TAIL } else { "" }));
        repo.comment(e.issue.number as u64, &replies.join("\n\n"))
            .await?;
        self.close_exchange(repo, e.comment.id, all_ok).await?;
        Ok(if all_ok {
            "commands run"
        } else {
            "commands refused"
        })
    }

    /// 👍 when every command did what was asked, else 😕 (GitHub keeps one of each per user,
    /// so doing it again after a crash changes nothing).
    async fn close_exchange(
        &self,
        repo: &Repo<'_>,
        comment_id: i64,
        all_ok: bool,
    ) -> Result<(), JobError> {
        repo.react(
            comment_id,
            if all_ok {
                Reaction::ThumbsUp
            } else {
                Reaction::Confused
            },
        )
        .await?;
        Ok(())
    }

    async fn run(
        &self,
        repo: &Repo<'_>,
        command: &Command,
        pr: Option<(&PullSummary, &str)>,
        any_pr: Option<&PullSummary>,
        e: &IssueCommentEvent,
        key: &str,
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
                crate::commands::ignore_pr::ignore(self, repo, pr, *scope, &e.comment.user.login)
                    .await?
            }
            (Command::ShowIgnores, _) => crate::commands::ignore_pr::show(self, repo).await?,
            (
                Command::Unignore {
                    dependency,
                    condition,
                },
                _,
            ) => {
                crate::commands::ignore_pr::unignore(self, repo, dependency, condition.as_deref())
                    .await?
            }
            (Command::Update, _) => {
                self.enqueue(crate::queue::scheduler::DEPS_JOB, e.comment.id, key)
                    .await?;
                ok("A dependency pass is queued; its PRs will show up shortly.")
            }
            (Command::Audit, _) => {
                crate::audit::triggers::enqueue_audit(
                    self.store,
                    self.repository_id,
                    &format!("cmd:{}:{key}", e.comment.id),
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
            (Command::Sync, _) => {
                let done = crate::heal::resync::repository(
                    self.store,
                    self.client,
                    self.deps,
                    self.repository_id,
                    self.full_name,
                )
                .await?;
                ok(done.summary())
            }
            (Command::Bench(_), _) => match any_pr {
                Some(pr) => {
                    let repository = crate::webhook::events::RepositoryRef {
                        id: self.repository_id,
                        full_name: self.full_name.to_owned(),
                        private: false,
                        default_branch: e.repository.default_branch.clone(),
                    };
                    let posted = crate::bench::ingest::repost(
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
                    let asked = crate::revert::watch::on_request(
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
            Err(e) => return Err(JobError::from(e)),
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
        let outcome = crate::deps::after_ci::on_ci_finished(
            self.client,
            self.full_name,
            &pr.head_ref,
            &pr.head_sha,
        )
        .await?;
        Ok(match outcome {
            crate::deps::after_ci::AfterCi::Merged(_) => ok("Every check is green: merged."),
            crate::deps::after_ci::AfterCi::Pending => {
                ok("I will merge it once every check is green.")
            }
            _ => ok("I will merge it once every check is green (some are failing now)."),
        })
    }

    /// Queues a job once per command of a comment (a re-run after a crash finds it queued).
    async fn enqueue(&self, kind: &str, comment_id: i64, key: &str) -> Result<(), JobError> {
        crate::audit::triggers::enqueue_pass(
            self.store,
            kind,
            self.repository_id,
            &format!("cmd:{comment_id}:{key}"),
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
