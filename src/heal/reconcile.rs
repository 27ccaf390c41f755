//! Reconciling after downtime: what upkeep must do about the world as GitHub shows it now, when
//! the events that would have told it are gone (upkeep was away longer than GitHub keeps its
//! delivery log, its database came back from a backup, or a repository admin asked with
//! `@upkeep sync`). Pure: the driver (`heal::resync`) reads GitHub and the store, these
//! functions decide, the driver acts through the same paths the events take.
//!
//! Three questions, each answered from plain inputs:
//! - **Which repositories changed?** The installation's repositories as GitHub lists them,
//!   matched to the stored ones by id (never by name): a new name is a rename or a transfer, a
//!   new default branch is recorded, a repository GitHub no longer lists is no longer granted,
//!   one the store does not know was granted while upkeep was away.
//! - **Which of upkeep's pull requests wait for a decision?** Every open one on an upkeep
//!   branch (`upkeep/cargo/…` dependency PRs, `upkeep/revert/…` revert PRs) that upkeep itself
//!   opened: their CI may have finished while nobody listened. Deciding again is harmless (the
//!   decision reads CI from GitHub and its effects are find-or-create), so all are decided.
//! - **Which default-branch results go through the revert watch?** Per workflow, only the
//!   newest completed push run on the default branch: an older red run followed by a newer
//!   result says nothing about the branch now, and reverting for it would undo a fix. Per CI
//!   app, the completed check suites of the branch's tip commit.

use std::collections::{BTreeMap, HashMap};

/// A repository as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRepo {
    pub id: i64,
    pub full_name: String,
    pub default_branch: Option<String>,
}

/// A repository as GitHub lists it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRepo {
    pub id: i64,
    pub full_name: String,
    pub default_branch: String,
    pub private: bool,
}

/// What changed about one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoChange {
    /// Renamed, or transferred to another owner within the installation.
    Renamed { id: i64, from: String, to: String },
    /// The default branch is another one (`from` is `None` when none was recorded yet).
    DefaultBranch {
        id: i64,
        from: Option<String>,
        to: String,
    },
    /// Granted while upkeep was away.
    Added(LiveRepo),
    /// No longer granted (removed from the installation, transferred out, or deleted).
    Removed { id: i64, full_name: String },
}

/// The changes that bring `stored` in line with `live`. `live_complete` says whether GitHub's
/// list was read to its end: a repository missing from a partial list is not removed.
pub fn repositories(
    stored: &[StoredRepo],
    live: &[LiveRepo],
    live_complete: bool,
) -> Vec<RepoChange> {
    let live_by_id: HashMap<i64, &LiveRepo> = live.iter().map(|r| (r.id, r)).collect();
    let stored_ids: HashMap<i64, &StoredRepo> = stored.iter().map(|r| (r.id, r)).collect();
    let mut changes = Vec::new();
    for s in stored {
        match live_by_id.get(&s.id) {
            Some(l) => {
                if l.full_name != s.full_name {
                    changes.push(RepoChange::Renamed {
                        id: s.id,
                        from: s.full_name.clone(),
                        to: l.full_name.clone(),
                    });
                }
                if s.default_branch.as_deref() != Some(l.default_branch.as_str()) {
                    changes.push(RepoChange::DefaultBranch {
                        id: s.id,
                        from: s.default_branch.clone(),
                        to: l.default_branch.clone(),
                    });
                }
            }
            None if live_complete => changes.push(RepoChange::Removed {
                id: s.id,
                full_name: s.full_name.clone(),
            }),
            None => {}
        }
    }
    for l in live {
        if !stored_ids.contains_key(&l.id) {
            changes.push(RepoChange::Added(l.clone()));
        }
    }
    changes
}

/// An open pull request as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPull {
    pub number: u64,
    pub head_ref: String,
    pub head_sha: String,
    pub author: String,
}

/// Which branch family an open upkeep PR belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullKind {
    /// A dependency update (`upkeep/cargo/…`): merge on green when allowed, a person on red.
    Update,
    /// A revert (`upkeep/revert/…`): merged on green in `merge` mode.
    Revert,
}

/// upkeep's own open PRs whose CI may have finished unheard, in number order.
pub fn pulls_to_decide<'a>(
    pulls: &'a [OpenPull],
    bot_login: &str,
) -> Vec<(PullKind, &'a OpenPull)> {
    let mut ours: Vec<(PullKind, &OpenPull)> = pulls
        .iter()
        .filter(|p| p.author == bot_login)
        .filter_map(|p| {
            if crate::deps::is_upkeep_branch(&p.head_ref) {
                Some((PullKind::Update, p))
            } else if p.head_ref.starts_with(crate::revert::BRANCH_PREFIX) {
                Some((PullKind::Revert, p))
            } else {
                None
            }
        })
        .collect();
    ours.sort_by_key(|(_, p)| p.number);
    ours
}

/// A workflow run as GitHub lists it (the fields the choice needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub id: i64,
    pub workflow_id: i64,
    pub event: String,
    pub head_branch: Option<String>,
    pub status: Option<String>,
    /// When it was created (RFC 3339 compares in time order for GitHub's fixed format; the
    /// run id breaks ties).
    pub created_at: String,
}

/// Per workflow, the newest completed push run on `default_branch`: the runs the revert watch
/// sees again, in id order.
pub fn runs_to_watch(runs: &[RunSummary], default_branch: &str) -> Vec<i64> {
    let mut newest: BTreeMap<i64, &RunSummary> = BTreeMap::new();
    for run in runs.iter().filter(|r| {
        r.event == "push"
            && r.head_branch.as_deref() == Some(default_branch)
            && r.status.as_deref() == Some("completed")
    }) {
        let replace = newest
            .get(&run.workflow_id)
            .is_none_or(|n| (run.created_at.as_str(), run.id) > (n.created_at.as_str(), n.id));
        if replace {
            newest.insert(run.workflow_id, run);
        }
    }
    let mut ids: Vec<i64> = newest.values().map(|r| r.id).collect();
    ids.sort_unstable();
    ids
}

/// A check suite on the default branch's tip, as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteSummary {
    pub id: i64,
    pub app_id: Option<i64>,
    pub status: Option<String>,
    pub conclusion: Option<String>,
}

/// The tip's completed suites with a result, one per app (the newest id), in id order. Which
/// apps auto-revert watches is the revert watch's own decision.
pub fn suites_to_watch(suites: &[SuiteSummary]) -> Vec<i64> {
    let mut newest: BTreeMap<i64, i64> = BTreeMap::new();
    for s in suites.iter().filter(|s| {
        s.status.as_deref() == Some("completed") && s.conclusion.is_some() && s.app_id.is_some()
    }) {
        let app = s.app_id.unwrap_or_default();
        let e = newest.entry(app).or_insert(s.id);
        *e = (*e).max(s.id);
    }
    let mut ids: Vec<i64> = newest.into_values().collect();
    ids.sort_unstable();
    ids
}

/// What reconciling one repository did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// The default branch, as GitHub says it is now.
    pub branch: String,
    /// The repository's name when GitHub says it changed (`from`, `to`).
    pub renamed: Option<(String, String)>,
    /// Whether the default branch differs from the one recorded.
    pub new_default_branch: bool,
    /// upkeep's open PRs decided: (number, what was done).
    pub pulls: Vec<(u64, &'static str)>,
    /// Default-branch results passed to the revert watch: (run or suite, what it did).
    pub results: Vec<(String, &'static str)>,
}

impl Reconciled {
    /// The reply to `@upkeep sync`: what was looked at and what came of it.
    pub fn summary(&self) -> String {
        let default_branch = self.branch.as_str();
        let mut lines = Vec::new();
        if let Some((from, to)) = &self.renamed {
            lines.push(format!("- The repository is now `{to}` (it was `{from}`)."));
        }
        if self.new_default_branch {
            lines.push(format!(
                "- The default branch is `{default_branch}`; benchmark baselines follow it."
            ));
        }
        for (number, what) in &self.pulls {
            lines.push(format!("- #{number}: {what}."));
        }
        for (what, outcome) in &self.results {
            lines.push(format!(
                "- The latest {what} on `{default_branch}`: {outcome}."
            ));
        }
        if lines.is_empty() {
            return format!(
                "In sync: no open upkeep pull request and no finished CI on `{default_branch}` to act on."
            );
        }
        format!("Looked at GitHub again:\n\n{}", lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: i64, name: &str, branch: Option<&str>) -> StoredRepo {
        StoredRepo {
            id,
            full_name: name.into(),
            default_branch: branch.map(Into::into),
        }
    }

    fn live(id: i64, name: &str, branch: &str) -> LiveRepo {
        LiveRepo {
            id,
            full_name: name.into(),
            default_branch: branch.into(),
            private: false,
        }
    }

    #[test]
    fn repositories_are_matched_by_id_so_a_rename_is_a_rename_not_a_new_repository() {
        let changes = repositories(
            &[
                stored(1, "o/old", Some("main")),
                stored(2, "o/same", Some("main")),
            ],
            &[live(1, "neworg/new", "main"), live(2, "o/same", "main")],
            true,
        );
        assert_eq!(
            changes,
            vec![RepoChange::Renamed {
                id: 1,
                from: "o/old".into(),
                to: "neworg/new".into()
            }]
        );
    }

    #[test]
    fn a_new_default_branch_is_recorded_and_an_unrecorded_one_is_filled_in() {
        let changes = repositories(
            &[stored(1, "o/a", Some("master")), stored(2, "o/b", None)],
            &[live(1, "o/a", "main"), live(2, "o/b", "trunk")],
            true,
        );
        assert_eq!(
            changes,
            vec![
                RepoChange::DefaultBranch {
                    id: 1,
                    from: Some("master".into()),
                    to: "main".into()
                },
                RepoChange::DefaultBranch {
                    id: 2,
                    from: None,
                    to: "trunk".into()
                },
            ]
        );
    }

    #[test]
    fn added_and_removed_repositories_but_nothing_removed_from_a_partial_list() {
        let s = [stored(1, "o/gone", Some("main"))];
        let l = [live(3, "o/new", "main")];
        assert_eq!(
            repositories(&s, &l, true),
            vec![
                RepoChange::Removed {
                    id: 1,
                    full_name: "o/gone".into()
                },
                RepoChange::Added(live(3, "o/new", "main")),
            ]
        );
        assert_eq!(
            repositories(&s, &l, false),
            vec![RepoChange::Added(live(3, "o/new", "main"))]
        );
        assert!(repositories(
            &[stored(1, "o/a", Some("main"))],
            &[live(1, "o/a", "main")],
            true
        )
        .is_empty());
    }

    fn pull(number: u64, head: &str, author: &str) -> OpenPull {
        OpenPull {
            number,
            head_ref: head.into(),
            head_sha: format!("sha{number}"),
            author: author.into(),
        }
    }

    #[test]
    fn only_upkeeps_own_update_and_revert_pulls_are_decided() {
        let pulls = [
            pull(9, "upkeep/revert/abc", "upkeep[bot]"),
            pull(3, "upkeep/cargo/serde-1", "upkeep[bot]"),
            pull(4, "upkeep/cargo/serde-1", "mallory"),
            pull(5, "feature", "upkeep[bot]"),
            pull(6, "main", "ann"),
        ];
        let decided: Vec<(PullKind, u64)> = pulls_to_decide(&pulls, "upkeep[bot]")
            .into_iter()
            .map(|(k, p)| (k, p.number))
            .collect();
        assert_eq!(decided, vec![(PullKind::Update, 3), (PullKind::Revert, 9)]);
    }

    fn run(
        id: i64,
        workflow: i64,
        event: &str,
        branch: &str,
        status: &str,
        at: &str,
    ) -> RunSummary {
        RunSummary {
            id,
            workflow_id: workflow,
            event: event.into(),
            head_branch: Some(branch.into()),
            status: Some(status.into()),
            created_at: at.into(),
        }
    }

    #[test]
    fn only_the_newest_finished_push_run_of_each_workflow_on_the_default_branch_is_watched() {
        let runs = [
            run(10, 1, "push", "main", "completed", "2026-12-01T10:00:00Z"),
            run(11, 1, "push", "main", "completed", "2026-12-01T11:00:00Z"),
            run(12, 1, "push", "main", "in_progress", "2026-12-01T12:00:00Z"),
            run(20, 2, "push", "main", "completed", "2026-12-01T09:00:00Z"),
            run(
                30,
                3,
                "pull_request",
                "main",
                "completed",
                "2026-12-01T13:00:00Z",
            ),
            run(
                40,
                4,
                "push",
                "feature",
                "completed",
                "2026-12-01T13:00:00Z",
            ),
            run(5, 2, "push", "main", "completed", "2026-12-01T08:00:00Z"),
        ];
        assert_eq!(runs_to_watch(&runs, "main"), vec![11, 20]);
        assert!(runs_to_watch(&runs, "trunk").is_empty());
    }

    #[test]
    fn the_sync_reply_says_what_was_done_or_that_all_is_in_sync() {
        assert_eq!(
            Reconciled {
                branch: "main".into(),
                ..Reconciled::default()
            }
            .summary(),
            "In sync: no open upkeep pull request and no finished CI on `main` to act on."
        );
        let done = Reconciled {
            branch: "trunk".into(),
            renamed: Some(("o/a".into(), "o/b".into())),
            new_default_branch: true,
            pulls: vec![(4, "merged")],
            results: vec![("run 9".into(), "re-requested to rule out a flake")],
        };
        let text = done.summary();
        for part in [
            "now `o/b` (it was `o/a`)",
            "default branch is `trunk`",
            "- #4: merged.",
            "The latest run 9 on `trunk`: re-requested to rule out a flake.",
        ] {
            assert!(text.contains(part), "{part:?} missing from {text}");
        }
    }

    #[test]
    fn the_tips_finished_suites_one_per_app() {
        let suite = |id, app, status: &str, conclusion: Option<&str>| SuiteSummary {
            id,
            app_id: app,
            status: Some(status.into()),
            conclusion: conclusion.map(Into::into),
        };
        let suites = [
            suite(1, Some(77), "completed", Some("failure")),
            suite(2, Some(77), "completed", Some("success")),
            suite(3, Some(88), "queued", None),
            suite(4, None, "completed", Some("success")),
            suite(5, Some(99), "completed", Some("failure")),
        ];
        assert_eq!(suites_to_watch(&suites), vec![2, 5]);
    }
}
