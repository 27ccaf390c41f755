//! Auto-revert on the fake GitHub, end to end: CI results arrive as `workflow_run` deliveries
//! (the test plays GitHub Actions, answering re-runs and dispatches), and the assertions are on
//! what upkeep did there — a revert PR, an issue, or nothing — and on the revert commit's tree,
//! which must equal the default branch with the culprit's change undone.

mod common;

use common::bench_artifacts::artifact_from_run;
use common::repo_world::{self, REPO};
use common::{TestDb, TestServer};
use fake_github::merge_routes::{files_of, merge_files};
use fake_github::webhooks::Endpoint;
use fake_github::FakeGitHub;
use serde_json::{json, Value};
use upkeep::store::Store;

const LIB: &str = "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n";

struct World {
    github: FakeGitHub,
    server: TestServer,
    store: Store,
    /// Dispatches already answered.
    answered: std::cell::Cell<usize>,
    _db: TestDb,
}

impl World {
    /// An open issue by `author` holding an empty upkeep dashboard: its number.
    fn dashboard_issue(&self, author: &str) -> i64 {
        let number = self.github.open_issue(REPO, author, "Upkeep dashboard");
        let body = upkeep::dashboard::render(&upkeep::dashboard::Dashboard {
            slug: "upkeep",
            ..Default::default()
        });
        self.github.with_world(|w| {
            let r = w.repositories.get_mut(REPO).unwrap();
            let issue = r.issues.iter_mut().find(|i| i["number"] == number).unwrap();
            issue["body"] = json!(body);
        });
        number
    }

    fn issue_body(&self, number: i64) -> String {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .issues
                .iter()
                .find(|i| i["number"] == number)
                .and_then(|i| i["body"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
    }

    /// `o/r` with `.github/upkeep.toml` holding `revert` as its `[revert]` table, `src/app.rs`
    /// and a green CI run on the first commit.
    async fn new(revert: &str) -> Option<World> {
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
        let server = TestServer::start(common::settings(
            &db.url,
            &[("UPKEEP_GITHUB_API_URL", &github.uri())],
        ))
        .await;
        let store = Store::open(&db.url).await.unwrap();
        let world = World {
            github,
            server,
            store,
            answered: std::cell::Cell::new(0),
            _db: db,
        };
        world.ci(&world.head(), "success").await;
        Some(world)
    }

    fn head(&self) -> String {
        self.github
            .with_world(|w| w.repositories[REPO].head().unwrap().clone())
    }

    /// `author` merges a PR that writes `files`; its number and merge commit.
    fn merge(&self, author: &str, title: &str, files: &[(&str, &str)]) -> (i64, String) {
        self.github
            .merge_pull_request(REPO, author, title, files, &[])
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint {
            url: self.server.url("/webhook"),
            secret: common::SECRET.into(),
        }
    }

    /// GitHub tells upkeep that run `id` completed.
    async fn deliver_run(&self, id: i64) {
        let run = self
            .github
            .with_world(|w| w.workflow_run(REPO, id).unwrap());
        let d = self
            .github
            .deliver(
                &self.endpoint(),
                "workflow_run",
                "completed.payload.json",
                7,
                Some(REPO),
                |p| {
                    let r = &mut p["workflow_run"];
                    for key in [
                        "id",
                        "name",
                        "event",
                        "head_branch",
                        "head_sha",
                        "conclusion",
                        "run_attempt",
                        "workflow_id",
                    ] {
                        r[key] = run[key].clone();
                    }
                    r["status"] = json!("completed");
                    r["html_url"] = json!(format!("https://github.com/{REPO}/actions/runs/{id}"));
                    r["head_repository"]["full_name"] = json!(REPO);
                },
            )
            .await;
        assert_eq!(d.status, 202);
        common::jobs_settled(&self.store).await;
    }

    /// The `ci` workflow ran on a push of `sha` to main and ended with `conclusion`.
    async fn ci(&self, sha: &str, conclusion: &str) -> i64 {
        let id = self.github.with_world(|w| {
            w.add_check_run(REPO, sha, "test", conclusion);
            w.add_workflow_run(REPO, "ci", "main", sha, "push", conclusion)
        });
        self.deliver_run(id).await;
        id
    }

    /// GitHub Actions re-ran run `id`'s failed jobs, which ended with `conclusion`.
    async fn rerun_ends(&self, id: i64, conclusion: &str) {
        self.github
            .with_world(|w| w.end_rerun(REPO, id, conclusion));
        self.deliver_run(id).await;
    }

    /// Answers every workflow dispatch upkeep asked for, as GitHub Actions would: CI runs on
    /// the dispatched branch's commit and is red when `red(commit)`. Returns how many ran.
    async fn answer_dispatches(&self, red: impl Fn(&str) -> bool) -> usize {
        let conclusion = |sha: &str| if red(sha) { "failure" } else { "success" };
        self.answer_dispatches_flaky(conclusion, conclusion).await
    }

    /// As `answer_dispatches`, each run ending with `first(commit)`, and when upkeep re-runs
    /// its failed jobs, with `again(commit)`.
    async fn answer_dispatches_flaky(
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

    fn revert_prs(&self) -> Vec<Value> {
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

    fn revert_issues(&self) -> Vec<Value> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .issues
                .iter()
                .filter(|i| {
                    i["body"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("<!-- upkeep:revert-issue ")
                })
                .cloned()
                .collect()
        })
    }

    fn comments_on(&self, number: i64) -> Vec<String> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .comments
                .iter()
                .filter(|c| {
                    c["issue_url"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!("/issues/{number}"))
                })
                .map(|c| c["body"].as_str().unwrap().to_owned())
                .collect()
        })
    }

    async fn decisions(&self) -> Vec<String> {
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
    fn assert_tree_reverts(&self, pr: &Value, culprit: &str) {
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

#[tokio::test]
async fn red_after_one_merge_is_confirmed_by_a_rerun_then_reverted() {
    let Some(world) = World::new("").await else {
        return;
    };
    let (pr, culprit) = world.merge("alice", "Faster parser", &[("src/app.rs", "broken\n")]);
    // The repository has upkeep's dashboard, from an earlier daily pass; someone else's issue
    // carrying its marker is not it.
    let dashboard = world.dashboard_issue("upkeep[bot]");
    let impostor = world.dashboard_issue("mallory");
    let run = world.ci(&culprit, "failure").await;
    assert!(world.revert_prs().is_empty(), "a re-run comes first");
    world.rerun_ends(run, "failure").await;

    let prs = world.revert_prs();
    assert_eq!(prs.len(), 1, "{:?}", world.decisions().await);
    let revert = &prs[0];
    assert_eq!(revert["title"], "Revert \"Faster parser (#1)\"");
    assert_eq!(revert["user"]["login"], "upkeep[bot]");
    let labels: Vec<&str> = revert["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["upkeep:revert"]);
    let body = revert["body"].as_str().unwrap();
    for needle in [
        &format!("#{pr} by @alice"),
        "[`ci` run]",
        "re-run 1 time",
        "- test",
        "To reland",
    ] {
        assert!(body.contains(needle), "{needle} missing from\n{body}");
    }
    world.assert_tree_reverts(revert, &culprit);
    let told = world.comments_on(pr);
    assert_eq!(told.len(), 1);
    assert!(told[0].starts_with("@alice, this merge"), "{}", told[0]);
    assert_eq!(world.decisions().await, ["rerun", "reverted"]);
    // The dashboard shows both decisions at once, not at the next daily pass, and the rest of
    // it is as it was.
    let body = world.issue_body(dashboard);
    let short = &culprit[..7];
    assert!(
        body.contains(&format!("`{short}` **reverted**: "))
            && body.contains(&format!("`{short}` **rerun**: ")),
        "{body}"
    );
    assert!(body.contains("## Open pull requests\n\nNone."), "{body}");
    assert!(!world.issue_body(impostor).contains("Auto-revert"));

    // The same failure delivered again changes nothing.
    world.rerun_ends(run, "failure").await;
    assert_eq!(world.revert_prs().len(), 1);
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_flake_that_passes_on_rerun_is_not_reverted() {
    let Some(world) = World::new("").await else {
        return;
    };
    let (_, sha) = world.merge("alice", "Tweak", &[("src/app.rs", "tweaked\n")]);
    let run = world.ci(&sha, "failure").await;
    world.rerun_ends(run, "success").await;
    assert!(world.revert_prs().is_empty());
    assert!(world.revert_issues().is_empty());
    assert_eq!(world.decisions().await, ["rerun", "flake"]);
    world.github.assert_conformant();
}

#[tokio::test]
async fn red_before_the_suspect_is_not_its_fault() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    let (_, first) = world.merge("bob", "Breaks it", &[("src/app.rs", "broken\n")]);
    world.ci(&first, "failure").await;
    let before = world.revert_prs().len();
    let (_, second) = world.merge("alice", "Docs", &[("README.md", "# r!\n")]);
    world.ci(&second, "failure").await;
    assert_eq!(
        world.revert_prs().len(),
        before,
        "the docs change is not reverted"
    );
    assert_eq!(world.decisions().await.last().unwrap(), "red-before");
    world.github.assert_conformant();
}

#[tokio::test]
async fn several_merges_between_green_and_red_are_bisected_to_the_culprit() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    let (_, a) = world.merge("ann", "A", &[("docs/a.md", "a\n")]);
    let (b_pr, b) = world.merge("bob", "B", &[("src/app.rs", &LIB.replace("line 2", "bad"))]);
    let (_, c) = world.merge("cat", "C", &[("docs/c.md", "c\n")]);
    let (_, d) = world.merge(
        "dan",
        "D",
        &[(
            "src/app.rs",
            &LIB.replace("line 2", "bad").replace("line 7", "seven"),
        )],
    );
    world.ci(&d, "failure").await;
    assert!(
        world.revert_prs().is_empty(),
        "nothing reverted before the bisection ends"
    );
    let broken = [b.clone(), c.clone(), d.clone()];
    let ran = world
        .answer_dispatches(|sha| broken.contains(&sha.to_owned()))
        .await;
    assert!((1..=2).contains(&ran), "{ran} runs for 4 suspects");
    let _ = a;

    let prs = world.revert_prs();
    assert_eq!(prs.len(), 1, "{:?}", world.decisions().await);
    assert!(prs[0]["body"]
        .as_str()
        .unwrap()
        .contains(&format!("#{b_pr} by @bob")));
    // B is not the tip: its inverse is merged onto D (line 7 stays "seven").
    world.assert_tree_reverts(&prs[0], &b);
    let bisect_branches = world.github.with_world(|w| {
        w.repositories[REPO]
            .refs
            .keys()
            .filter(|r| r.contains("upkeep/bisect/") || r.contains("merge-"))
            .count()
    });
    assert_eq!(bisect_branches, 0, "scratch branches are deleted");
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_flaky_red_during_bisection_is_re_run_before_it_blames_a_commit() {
    let Some(world) = World::new("reruns = 1").await else {
        return;
    };
    let (_, a) = world.merge("ann", "A", &[("docs/a.md", "a\n")]);
    let (b_pr, b) = world.merge("bob", "B", &[("src/app.rs", &LIB.replace("line 2", "bad"))]);
    let (_, c) = world.merge("cat", "C", &[("docs/c.md", "c\n")]);
    let (_, d) = world.merge("dan", "D", &[("docs/d.md", "d\n")]);
    let run = world.ci(&d, "failure").await;
    world.rerun_ends(run, "failure").await;
    // Every good candidate fails once, then passes when its failed jobs are re-run.
    let broken = [b.clone(), c.clone(), d.clone()];
    let red_then = |then: &'static str| {
        let broken = broken.clone();
        move |sha: &str| {
            if broken.contains(&sha.to_owned()) {
                "failure"
            } else {
                then
            }
        }
    };
    let ran = world
        .answer_dispatches_flaky(red_then("failure"), red_then("success"))
        .await;
    assert!(ran >= 1);
    let prs = world.revert_prs();
    assert_eq!(prs.len(), 1, "{:?}", world.decisions().await);
    assert!(
        prs[0]["body"]
            .as_str()
            .unwrap()
            .contains(&format!("#{b_pr} by @bob")),
        "B is the culprit, not A whose first run flaked"
    );
    let reruns = world
        .github
        .with_world(|w| w.repositories[REPO].reruns.len());
    assert!(
        reruns >= 2,
        "the default branch's run and a bisection run were re-run"
    );

    world.assert_tree_reverts(&prs[0], &b);
    let _ = a;
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_bisection_out_of_runs_asks_a_person_with_the_candidates() {
    let Some(world) = World::new("reruns = 0\nmax_bisect_runs = 1").await else {
        return;
    };
    let mut shas = Vec::new();
    for i in 0..6 {
        shas.push(
            world
                .merge(
                    "ann",
                    &format!("Change {i}"),
                    &[(&format!("docs/{i}.md"), "x\n")],
                )
                .1,
        );
    }
    world.ci(shas.last().unwrap(), "failure").await;
    world.answer_dispatches(|_| false).await;
    assert!(world.revert_prs().is_empty());
    let issues = world.revert_issues();
    assert_eq!(issues.len(), 1);
    let body = issues[0]["body"].as_str().unwrap();
    assert!(body.contains(&format!("- {}", shas[5])), "{body}");
    assert!(!body.contains(&format!("- {}", shas[0])), "{body}");
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_revert_that_conflicts_becomes_an_issue() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    let (_, culprit) = world.merge(
        "ann",
        "A",
        &[("src/app.rs", &LIB.replace("line 4", "four"))],
    );
    world.merge(
        "bob",
        "B",
        &[("src/app.rs", &LIB.replace("line 4", "FOUR"))],
    );
    world.ci(&culprit, "failure").await;
    assert!(world.revert_prs().is_empty());
    let issues = world.revert_issues();
    assert_eq!(issues.len(), 1);
    assert!(issues[0]["title"].as_str().unwrap().contains("conflicts"));
    assert_eq!(world.decisions().await.last().unwrap(), "conflict");
    world.github.assert_conformant();
}

#[tokio::test]
async fn never_a_revert_of_a_revert() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    let (_, sha) = world.merge(
        "ann",
        "Revert \"Faster parser\"",
        &[("src/app.rs", "old\n")],
    );
    world.ci(&sha, "failure").await;
    assert!(world.revert_prs().is_empty());
    let issues = world.revert_issues();
    assert_eq!(issues.len(), 1, "a person is told");
    assert!(issues[0]["body"]
        .as_str()
        .unwrap()
        .contains("never reverts a revert"));
}

#[tokio::test]
async fn the_opt_out_label_and_the_age_limit_hold() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    let (pr, sha) = world.github.merge_pull_request(
        REPO,
        "ann",
        "Risky",
        &[("src/app.rs", "x\n")],
        &["upkeep:no-revert"],
    );
    world.ci(&sha, "failure").await;
    assert!(world.revert_prs().is_empty());
    assert!(world.revert_issues()[0]["body"]
        .as_str()
        .unwrap()
        .contains("upkeep:no-revert"));
    let _ = pr;

    let Some(world) = World::new("reruns = 0\nmax_age_hours = 0").await else {
        return;
    };
    let (_, sha) = world.merge("ann", "Old", &[("src/app.rs", "x\n")]);
    world.ci(&sha, "failure").await;
    assert!(world.revert_prs().is_empty());
    assert!(world.revert_issues()[0]["body"]
        .as_str()
        .unwrap()
        .contains("max_age_hours"));
}

#[tokio::test]
async fn the_daily_quota_holds() {
    let Some(world) = World::new("reruns = 0\nmax_created_per_day = 1").await else {
        return;
    };
    let (_, first) = world.merge("ann", "One", &[("src/app.rs", "1\n")]);
    world.ci(&first, "failure").await;
    assert_eq!(world.revert_prs().len(), 1);
    // Green again, then a second culprit the same day.
    let (_, fix) = world.merge("ann", "Fix", &[("src/app.rs", LIB)]);
    world.ci(&fix, "success").await;
    let (_, second) = world.merge("bob", "Two", &[("src/app.rs", "2\n")]);
    world.ci(&second, "failure").await;
    assert_eq!(world.revert_prs().len(), 1, "quota of one used");
    assert!(world.revert_issues()[0]["body"]
        .as_str()
        .unwrap()
        .contains("quota"));
}

#[tokio::test]
async fn a_kill_switch_applied_by_a_writer_stops_every_revert() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    // Applied by someone who can only read: it does not count.
    let stray = world.github.open_issue(REPO, "reader", "please stop");
    world
        .github
        .label_issue(REPO, stray, "upkeep:disable-revert", "reader");
    let (_, first) = world.merge("ann", "One", &[("src/app.rs", "1\n")]);
    world.ci(&first, "failure").await;
    assert_eq!(world.revert_prs().len(), 1);

    let (_, fix) = world.merge("ann", "Fix", &[("src/app.rs", LIB)]);
    world.ci(&fix, "success").await;
    let stop = world
        .github
        .open_issue(REPO, "maintainer", "Stop reverting");
    world
        .github
        .label_issue(REPO, stop, "upkeep:disable-revert", "maintainer");
    let (_, second) = world.merge("bob", "Two", &[("src/app.rs", "2\n")]);
    world.ci(&second, "failure").await;
    assert_eq!(world.revert_prs().len(), 1, "the kill switch holds");
    assert!(
        world.revert_issues().is_empty(),
        "people already decided: no issue"
    );
    assert_eq!(world.decisions().await.last().unwrap(), "refused");
    world.github.assert_conformant();
}

#[tokio::test]
async fn dry_run_only_reports() {
    let Some(world) = World::new("reruns = 0\nmode = \"dry-run\"").await else {
        return;
    };
    let (_, sha) = world.merge("ann", "One", &[("src/app.rs", "1\n")]);
    world.ci(&sha, "failure").await;
    assert!(world.revert_prs().is_empty());
    let issues = world.revert_issues();
    assert_eq!(issues.len(), 1);
    assert!(issues[0]["title"].as_str().unwrap().contains("dry run"));
}

#[tokio::test]
async fn merge_mode_merges_the_revert_once_its_ci_is_green() {
    let Some(world) = World::new("reruns = 0\nmode = \"merge\"").await else {
        return;
    };
    let revert = world.revert_whose_ci_goes_green().await;
    let merged = world
        .github
        .pull_request(REPO, revert["number"].as_i64().unwrap())
        .unwrap();
    assert_eq!(merged["merged"], true, "{:?}", world.decisions().await);
    assert_eq!(world.decisions().await.last().unwrap(), "merged");
    world.github.with_world(|w| {
        let r = &w.repositories[REPO];
        let tip = r.head().unwrap();
        assert_eq!(files_of(&r.objects, tip)["src/app.rs"], LIB.as_bytes());
    });
    world.github.assert_conformant();
}

impl World {
    /// The bench workflow ran on a push of `sha` with the corpus's run 1 × `factor`; its id.
    async fn bench(&self, sha: &str, factor: f64) -> i64 {
        let id = self.github.with_world(|w| {
            let id = w.add_workflow_run(REPO, "bench", "main", sha, "push", "success");
            w.add_artifact(REPO, id, "upkeep-criterion", artifact_from_run(1, factor));
            id
        });
        self.deliver_run(id).await;
        id
    }

    /// GitHub Actions re-ran bench run `id` as upkeep asked; it uploads results × `factor`.
    async fn bench_rerun_ends(&self, id: i64, factor: f64) {
        self.github.with_world(|w| {
            assert_eq!(w.end_rerun(REPO, id, "success"), 2);
            w.add_artifact(REPO, id, "upkeep-criterion", artifact_from_run(1, factor));
        });
        self.deliver_run(id).await;
    }

    /// Five pushes to main with benchmark results: the baseline and its history.
    async fn bench_baseline(&self) {
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

#[tokio::test]
async fn a_benchmark_regression_confirmed_by_a_rerun_opens_a_revert_with_the_table() {
    let Some(world) = World::new("").await else {
        return;
    };
    world.bench_baseline().await;
    let (pr, slow) = world.merge("bob", "Slower", &[("src/app.rs", "slow\n")]);
    let run = world.bench(&slow, 1.25).await;
    assert!(
        world.revert_prs().is_empty(),
        "the run is re-run to confirm first"
    );
    world.bench_rerun_ends(run, 1.25).await;
    let prs = world.revert_prs();
    assert_eq!(prs.len(), 1, "{:?}", world.decisions().await);
    let body = prs[0]["body"].as_str().unwrap();
    assert!(body.contains("Benchmarks regressed"), "{body}");
    assert!(body.contains("🔴 regressed"), "{body}");
    assert!(body.contains(&format!("#{pr} by @bob")), "{body}");
    world.assert_tree_reverts(&prs[0], &slow);
    assert_eq!(world.decisions().await, ["rerun", "reverted"]);
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_benchmark_spike_that_a_rerun_does_not_repeat_is_not_reverted() {
    let Some(world) = World::new("").await else {
        return;
    };
    world.bench_baseline().await;
    let (_, spiky) = world.merge("bob", "Innocent", &[("src/app.rs", "fine\n")]);
    let run = world.bench(&spiky, 1.25).await;
    world.bench_rerun_ends(run, 1.01).await;
    assert!(world.revert_prs().is_empty());
    let issues = world.github.with_world(|w| {
        w.repositories[REPO]
            .issues
            .iter()
            .filter(|i| {
                i["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("upkeep:bench-regression")
            })
            .count()
    });
    assert_eq!(issues, 0, "no issue either");
    assert_eq!(world.decisions().await, ["rerun", "flake"]);
    world.github.assert_conformant();
}

impl World {
    /// `login` comments `body` on PR `number`; GitHub delivers `issue_comment` created.
    async fn say(&self, number: i64, login: &str, body: &str) {
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

#[tokio::test]
async fn at_upkeep_revert_by_a_writer_reverts_a_merged_pr_on_request() {
    // Even days later and with auto-revert off: a person decided.
    let Some(world) = World::new("mode = \"off\"\nmax_age_hours = 0").await else {
        return;
    };
    let (pr, sha) = world.merge("ann", "Feature", &[("src/app.rs", "feature\n")]);
    world.say(pr, "reader", "@upkeep revert").await;
    assert!(world.revert_prs().is_empty(), "a reader may not");
    world.say(pr, "maintainer", "@upkeep revert").await;
    let prs = world.revert_prs();
    assert_eq!(prs.len(), 1, "{:?}", world.decisions().await);
    assert!(prs[0]["body"]
        .as_str()
        .unwrap()
        .contains("@maintainer asked for this revert"));
    world.assert_tree_reverts(&prs[0], &sha);
    let replies = world.comments_on(pr);
    assert!(
        replies
            .iter()
            .any(|c| c.contains(&format!("Opened #{} to revert this.", prs[0]["number"]))),
        "{replies:?}"
    );
    // Asking again reverts nothing twice.
    world.say(pr, "maintainer", "@upkeep revert please").await;
    assert_eq!(world.revert_prs().len(), 1);
    assert!(world
        .comments_on(pr)
        .last()
        .unwrap()
        .contains(&format!("#{} already reverts this.", prs[0]["number"])));
    world.github.assert_conformant();
}

impl World {
    /// A culprit is reverted, then the revert PR's own CI goes green; the revert PR as it was
    /// opened.
    async fn revert_whose_ci_goes_green(&self) -> Value {
        let (_, sha) = self.merge("ann", "One", &[("src/app.rs", "1\n")]);
        self.ci(&sha, "failure").await;
        let revert = self.revert_prs().remove(0);
        let branch = revert["head"]["ref"].as_str().unwrap().to_owned();
        let head = revert["head"]["sha"].as_str().unwrap().to_owned();
        let id = self.github.with_world(|w| {
            w.add_check_run(REPO, &head, "test", "success");
            w.add_workflow_run(REPO, "ci", &branch, &head, "pull_request", "success")
        });
        self.deliver_run(id).await;
        revert
    }
}

/// CI outside GitHub Actions, reporting check suites as the app `circleci`.
const CIRCLE: (i64, &str) = (77, "circleci");

impl World {
    /// The external CI's suite on a push of `sha` to main ended with `conclusion`, delivered.
    async fn suite(&self, sha: &str, conclusion: &str) -> i64 {
        let id = self
            .github
            .with_world(|w| w.add_app_check_suite(REPO, sha, "main", conclusion, CIRCLE));
        self.deliver_suite(id, conclusion).await;
        id
    }

    async fn deliver_suite(&self, id: i64, conclusion: &str) {
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

#[tokio::test]
async fn ci_outside_actions_is_confirmed_by_rerequesting_its_suite_then_reverted() {
    let Some(world) = World::new("").await else {
        return;
    };
    world.suite(&world.head(), "success").await;
    let (pr, culprit) = world.merge("alice", "Faster parser", &[("src/app.rs", "broken\n")]);
    let suite = world.suite(&culprit, "failure").await;
    assert!(
        world.revert_prs().is_empty(),
        "the suite is re-requested first"
    );
    assert!(world
        .github
        .with_world(|w| w.repositories[REPO].reruns.contains(&suite)));
    world.deliver_suite(suite, "failure").await;
    let prs = world.revert_prs();
    assert_eq!(prs.len(), 1, "{:?}", world.decisions().await);
    let body = prs[0]["body"].as_str().unwrap();
    assert!(body.contains(&format!("#{pr} by @alice")), "{body}");
    assert!(body.contains("[`circleci` run]"), "{body}");
    world.assert_tree_reverts(&prs[0], &culprit);

    // A flake: red, re-requested, green.
    let (_, fix) = world.merge("ann", "Fix", &[("src/app.rs", LIB)]);
    world.suite(&fix, "success").await;
    let (_, flaky) = world.merge("bob", "Docs", &[("README.md", "# r!\n")]);
    let suite = world.suite(&flaky, "failure").await;
    world.deliver_suite(suite, "success").await;
    assert_eq!(world.revert_prs().len(), 1);
    assert_eq!(world.decisions().await.last().unwrap(), "flake");
    world.github.assert_conformant();
}

#[tokio::test]
async fn ci_outside_actions_with_several_suspects_asks_a_person() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    world.suite(&world.head(), "success").await;
    let (_, a) = world.merge("ann", "A", &[("docs/a.md", "a\n")]);
    let (_, b) = world.merge("bob", "B", &[("src/app.rs", "b\n")]);
    world.suite(&b, "failure").await;
    assert!(world.revert_prs().is_empty());
    let issues = world.revert_issues();
    assert_eq!(issues.len(), 1);
    let body = issues[0]["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("- {a}")) && body.contains(&format!("- {b}")),
        "{body}"
    );
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_commit_a_person_already_reverted_gets_no_empty_revert() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    let (_, culprit) = world.merge("ann", "A", &[("src/app.rs", "broken\n")]);
    // A person reverts it by hand before CI reports.
    world.merge("bob", "Undo A", &[("src/app.rs", LIB)]);
    world.ci(&culprit, "failure").await;
    assert!(world.revert_prs().is_empty());
    assert!(
        world.revert_issues().is_empty(),
        "nothing for a person to do"
    );
    assert_eq!(world.decisions().await.last().unwrap(), "refused");
    world.github.assert_conformant();
}

#[tokio::test]
async fn two_workflows_red_on_one_commit_make_one_revert() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    let first = world.head();
    world
        .github
        .with_world(|w| w.add_workflow_run(REPO, "lint", "main", &first, "push", "success"));
    let (pr, sha) = world.merge("ann", "A", &[("src/app.rs", "broken\n")]);
    world.ci(&sha, "failure").await;
    let lint = world
        .github
        .with_world(|w| w.add_workflow_run(REPO, "lint", "main", &sha, "push", "failure"));
    world.deliver_run(lint).await;
    assert_eq!(world.revert_prs().len(), 1);
    assert_eq!(world.comments_on(pr).len(), 1, "the author is told once");
    assert!(world.revert_issues().is_empty());
    world.github.assert_conformant();
}

#[tokio::test]
async fn the_daily_merge_quota_holds() {
    let Some(world) = World::new("reruns = 0\nmode = \"merge\"\nmax_merged_per_day = 0").await
    else {
        return;
    };
    let revert = world.revert_whose_ci_goes_green().await;
    let pr = world
        .github
        .pull_request(REPO, revert["number"].as_i64().unwrap())
        .unwrap();
    assert_eq!(pr["merged"], false, "no merge left today");
    assert!(!world.decisions().await.contains(&"merged".to_owned()));
}
