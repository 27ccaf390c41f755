//! The world the auto-revert scenarios run in (tests/revert_github.rs and
//! tests/revert_signals.rs): a repository on the fake GitHub with a `[revert]` configuration,
//! the server, its store, and the test playing GitHub Actions (CI runs, re-runs, dispatches,
//! benchmark runs, check suites from another CI) and reading back what upkeep did.
#![allow(dead_code)]

use crate::common::bench_artifacts::artifact_from_run;
use crate::common::repo_world::{self, REPO};
use crate::common::{self, TestDb, TestServer};
use fake_github::merge_routes::{files_of, merge_files};
use fake_github::webhooks::Endpoint;
use fake_github::FakeGitHub;
use serde_json::{json, Value};
use upkeep::store::Store;

pub const LIB: &str = "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n";

pub struct World {
    pub github: FakeGitHub,
    pub server: TestServer,
    pub store: Store,
    /// Dispatches already answered.
    pub answered: std::cell::Cell<usize>,
    /// What the server was started with (a crash test starts it again).
    pub settings: upkeep::server::settings::Settings,
    pub _db: TestDb,
}

impl World {
    /// An open issue by `author` holding an empty upkeep dashboard: its number.
    pub fn dashboard_issue(&self, author: &str) -> i64 {
        let number = self.github.open_issue(REPO, author, "Upkeep dashboard");
        let body = upkeep::dashboard::render(&upkeep::dashboard::Dashboard {
            slug: "upkeep",
            ..Default::default()
        });
        self.github.with_world(|w| {
            let r = w.repositories.get_mut(REPO).unwrap();
            r.issue_mut(number).unwrap()["body"] = json!(body);
        });
        number
    }

    pub fn issue_body(&self, number: i64) -> String {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .issue(number)
                .and_then(|i| i["body"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
    }

    /// `o/r` with `.github/upkeep.toml` holding `revert` as its `[revert]` table, `src/app.rs`
    /// and a green CI run on the first commit.
    pub async fn new(revert: &str) -> Option<World> {
        Self::start(revert, false).await
    }

    /// The same world, with a server that `crash_and_restart` can kill dead.
    pub async fn new_killable(revert: &str) -> Option<World> {
        Self::start(revert, true).await
    }

    async fn start(revert: &str, killable: bool) -> Option<World> {
        common::shared_dir()?;
        let mut files = repo_world::fixture_files(Some(&format!("[revert]\n{revert}\n")));
        files.push(("src/app.rs".into(), LIB.into()));
        let github = repo_world::github_with(&files).await;
        github.with_world(|w| {
            let r = w.repositories.get_mut(REPO).unwrap();
            r.permissions.insert("maintainer".into(), "maintain".into());
            r.permissions.insert("reader".into(), "read".into());
        });
        let db = TestDb::sqlite();
        let settings = common::settings(&db.url, &[("UPKEEP_GITHUB_API_URL", &github.uri())]);
        let server = if killable {
            TestServer::start_killable(settings.clone(), common::crash_background()).await
        } else {
            TestServer::start(settings.clone()).await
        };
        let store = Store::open(&db.url).await.unwrap();
        let world = World {
            github,
            server,
            store,
            answered: std::cell::Cell::new(0),
            settings,
            _db: db,
        };
        world.ci(&world.head(), "success").await;
        Some(world)
    }

    /// Kills the server wherever it is (as SIGKILL would), lets the leases of the jobs it was
    /// running run out, and starts it again on the same database.
    pub async fn crash_and_restart(&mut self) {
        self.server
            .crash_and_restart(&self.settings, &self.store)
            .await;
    }

    pub fn head(&self) -> String {
        self.github
            .with_world(|w| w.repositories[REPO].head().unwrap().clone())
    }

    /// `author` merges a PR that writes `files`; its number and merge commit.
    pub fn merge(&self, author: &str, title: &str, files: &[(&str, &str)]) -> (i64, String) {
        self.github
            .merge_pull_request(REPO, author, title, files, &[])
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            url: self.server.url("/webhook"),
            secret: common::SECRET.into(),
        }
    }

    /// GitHub tells upkeep that run `id` completed.
    pub async fn deliver_run(&self, id: i64) {
        let d = self
            .github
            .deliver_workflow_run(&self.endpoint(), 7, REPO, id, REPO)
            .await;
        assert_eq!(d.status, 202);
        common::jobs_settled(&self.store).await;
    }

    /// The `ci` workflow ran on a push of `sha` to main and ended with `conclusion`.
    pub async fn ci(&self, sha: &str, conclusion: &str) -> i64 {
        let id = self.github.with_world(|w| {
            w.add_check_run(REPO, sha, "test", conclusion);
            w.add_workflow_run(REPO, "ci", "main", sha, "push", conclusion)
        });
        self.deliver_run(id).await;
        id
    }

    /// GitHub Actions re-ran run `id`'s failed jobs, which ended with `conclusion`.
    pub async fn rerun_ends(&self, id: i64, conclusion: &str) {
        self.github
            .with_world(|w| w.end_rerun(REPO, id, conclusion));
        self.deliver_run(id).await;
    }

    /// Answers every workflow dispatch upkeep asked for, as GitHub Actions would: CI runs on
    /// the dispatched branch's commit and is red when `red(commit)`. Returns how many ran.
    pub async fn answer_dispatches(&self, red: impl Fn(&str) -> bool) -> usize {
        let conclusion = |sha: &str| if red(sha) { "failure" } else { "success" };
        self.answer_dispatches_flaky(conclusion, conclusion).await
    }

    /// As `answer_dispatches`, each run ending with `first(commit)`, and when upkeep re-runs
    /// its failed jobs, with `again(commit)`.
    pub async fn answer_dispatches_flaky(
        &self,
        first: impl Fn(&str) -> &'static str,
        again: impl Fn(&str) -> &'static str,
    ) -> usize {
        let mut ran = 0;
        loop {
            let next = self.github.with_world(|w| {
                let r = &w.repositories[REPO];
                r.dispatches.get(self.answered.get()).map(|(_, git_ref)| {
                    let branch = git_ref.trim_start_matches("refs/heads/").to_owned();
                    let sha = r.refs[&format!("heads/{branch}")].clone();
                    (branch, sha)
                })
            });
            let Some((branch, sha)) = next else {
                return ran;
            };
            self.answered.set(self.answered.get() + 1);
            ran += 1;
            let id = self.github.with_world(|w| {
                w.add_workflow_run(REPO, "ci", &branch, &sha, "workflow_dispatch", first(&sha))
            });
            self.deliver_run(id).await;
            let rerun = self
                .github
                .with_world(|w| w.repositories[REPO].reruns.contains(&id));
            if rerun {
                self.rerun_ends(id, again(&sha)).await;
            }
        }
    }

    pub fn revert_prs(&self) -> Vec<Value> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .pulls
                .iter()
                .filter(|p| {
                    p["head"]["ref"]
                        .as_str()
                        .unwrap()
                        .starts_with("upkeep/revert/")
                })
                .cloned()
                .collect()
        })
    }

    pub fn revert_issues(&self) -> Vec<Value> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .issues_containing("<!-- upkeep:revert-issue ")
                .into_iter()
                .cloned()
                .collect()
        })
    }

    pub fn comments_on(&self, number: i64) -> Vec<String> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .comments_on(number)
                .into_iter()
                .map(|c| c["body"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
    }

    pub async fn decisions(&self) -> Vec<String> {
        for j in self
            .store
            .list_jobs(&["dead", "failed", "queued"], 20)
            .await
            .unwrap()
        {
            eprintln!("job {} {}: {:?}", j.kind, j.state, j.last_error);
        }
        let id = self.github.with_world(|w| w.repositories[REPO].id);
        let mut d = self.store.recent_revert_decisions(id, 50).await.unwrap();
        d.reverse();
        d.into_iter().map(|d| d.decision).collect()
    }

    /// The files of the revert PR's head, checked against the default branch with the
    /// culprit's change undone (its inverse applied by a three-way merge, as git does).
    pub fn assert_tree_reverts(&self, pr: &Value, culprit: &str) {
        self.github.with_world(|w| {
            let r = &w.repositories[REPO];
            let head = pr["head"]["sha"].as_str().unwrap();
            let fake_github::git::Object::Commit(c) = r.objects.get(culprit).unwrap().clone()
            else {
                panic!("not a commit");
            };
            let tip = r.head().unwrap();
            let expected = merge_files(
                &files_of(&r.objects, culprit),
                &files_of(&r.objects, tip),
                &files_of(&r.objects, &c.parents[0]),
            )
            .expect("the inverse applies");
            assert_eq!(files_of(&r.objects, head), expected);
            let fake_github::git::Object::Commit(revert) = r.objects.get(head).unwrap().clone()
            else {
                panic!("not a commit");
            };
            assert_eq!(revert.parents, vec![tip.clone()], "one commit on the tip");
            assert!(revert
                .message
                .contains(&format!("This reverts commit {culprit}.")));
        });
    }
}

impl World {
    /// The bench workflow ran on a push of `sha` with the corpus's run 1 × `factor`; its id.
    pub async fn bench(&self, sha: &str, factor: f64) -> i64 {
        let id = self.github.with_world(|w| {
            let id = w.add_workflow_run(REPO, "bench", "main", sha, "push", "success");
            w.add_artifact(REPO, id, "upkeep-criterion", artifact_from_run(1, factor));
            id
        });
        self.deliver_run(id).await;
        id
    }

    /// GitHub Actions re-ran bench run `id` as upkeep asked; it uploads results × `factor`.
    pub async fn bench_rerun_ends(&self, id: i64, factor: f64) {
        self.github.with_world(|w| {
            assert_eq!(w.end_rerun(REPO, id, "success"), 2);
            w.add_artifact(REPO, id, "upkeep-criterion", artifact_from_run(1, factor));
        });
        self.deliver_run(id).await;
    }

    /// Five pushes to main with benchmark results: the baseline and its history.
    pub async fn bench_baseline(&self) {
        for i in 1..=5u32 {
            let (_, sha) = self.merge(
                "ann",
                &format!("Work {i}"),
                &[("NOTES.md", &format!("{i}\n"))],
            );
            self.bench(&sha, 1.0 + 0.002 * f64::from(i)).await;
        }
    }
}

impl World {
    /// `login` comments `body` on PR `number`; GitHub delivers `issue_comment` created.
    pub async fn say(&self, number: i64, login: &str, body: &str) {
        let id = self
            .github
            .with_world(|w| w.add_comment(REPO, number, login, body));
        let d = self
            .github
            .deliver(
                &self.endpoint(),
                "issue_comment",
                "created.payload.json",
                7,
                Some(REPO),
                |p| {
                    p["issue"]["number"] = json!(number);
                    p["issue"]["user"] = json!({"login": "ann", "id": 1, "type": "User"});
                    p["issue"]["pull_request"] = json!({
                        "url": format!("https://api.github.com/repos/{REPO}/pulls/{number}")
                    });
                    p["comment"]["id"] = json!(id);
                    p["comment"]["body"] = json!(body);
                    p["comment"]["user"]["login"] = json!(login);
                    p["comment"]["user"]["type"] = json!("User");
                    p["sender"]["login"] = json!(login);
                    p["sender"]["type"] = json!("User");
                },
            )
            .await;
        assert_eq!(d.status, 202);
        common::jobs_settled(&self.store).await;
    }
}

impl World {
    /// A culprit is reverted, then the revert PR's own CI goes green; the revert PR as it was
    /// opened.
    pub fn merged(&self, number: i64) -> bool {
        self.github.pull_request(REPO, number).unwrap()["merged"] == true
    }

    /// A merge whose CI goes red, reverted: the revert PR, its branch and head.
    pub async fn reverted_merge(&self) -> (Value, String, String) {
        let (_, sha) = self.merge("ann", "One", &[("src/app.rs", "1\n")]);
        self.ci(&sha, "failure").await;
        let revert = self.revert_prs().remove(0);
        let branch = revert["head"]["ref"].as_str().unwrap().to_owned();
        let head = revert["head"]["sha"].as_str().unwrap().to_owned();
        (revert, branch, head)
    }

    pub async fn revert_whose_ci_goes_green(&self) -> Value {
        let (revert, branch, head) = self.reverted_merge().await;
        let id = self.github.with_world(|w| {
            w.add_check_run(REPO, &head, "test", "success");
            w.add_workflow_run(REPO, "ci", &branch, &head, "pull_request", "success")
        });
        self.deliver_run(id).await;
        revert
    }
}

/// CI outside GitHub Actions, reporting check suites as the app `circleci`.
pub const CIRCLE: (i64, &str) = (77, "circleci");

impl World {
    /// The external CI's suite on a push of `sha` to main ended with `conclusion`, delivered.
    pub async fn suite(&self, sha: &str, conclusion: &str) -> i64 {
        let id = self
            .github
            .with_world(|w| w.add_app_check_suite(REPO, sha, "main", conclusion, CIRCLE));
        self.deliver_suite(id, conclusion).await;
        id
    }

    pub async fn deliver_suite(&self, id: i64, conclusion: &str) {
        let sha = self.github.with_world(|w| {
            let r = w.repositories.get_mut(REPO).unwrap();
            let s = r.check_suites.iter_mut().find(|s| s["id"] == id).unwrap();
            s["status"] = json!("completed");
            s["conclusion"] = json!(conclusion);
            s["head_sha"].as_str().unwrap().to_owned()
        });
        let d = self
            .github
            .deliver(
                &self.endpoint(),
                "check_suite",
                "completed.payload.json",
                7,
                Some(REPO),
                |p| {
                    let s = &mut p["check_suite"];
                    s["id"] = json!(id);
                    s["head_branch"] = json!("main");
                    s["head_sha"] = json!(sha);
                    s["status"] = json!("completed");
                    s["conclusion"] = json!(conclusion);
                    s["app"]["id"] = json!(CIRCLE.0);
                    s["app"]["slug"] = json!(CIRCLE.1);
                    s["app"]["name"] = json!(CIRCLE.1);
                },
            )
            .await;
        assert_eq!(d.status, 202);
        common::jobs_settled(&self.store).await;
    }
}
