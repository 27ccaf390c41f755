//! The world of the benchmark scenarios: the fake GitHub with one repository, a running
//! server, and the store it writes; runs of the bench workflow delivered with their artifacts.

use fake_github::webhooks::Endpoint;
use fake_github::FakeGitHub;
use serde_json::Value;
use upkeep::store::Store;

use super::bench_artifacts::artifact_from_run;
use super::repo_world::{self, REPO};
use super::{TestDb, TestServer};

pub struct World {
    pub github: FakeGitHub,
    pub server: TestServer,
    pub store: Store,
    _db: TestDb,
}

impl World {
    pub async fn new() -> Option<World> {
        super::shared_dir()?;
        let github = repo_world::github_with(&repo_world::fixture_files(None)).await;
        let db = TestDb::sqlite();
        let server = TestServer::start(super::settings(
            &db.url,
            &[
                ("UPKEEP_GITHUB_API_URL", &github.uri()),
                ("UPKEEP_PUBLIC_URL", "https://upkeep.example"),
            ],
        ))
        .await;
        let store = Store::open(&db.url).await.unwrap();
        Some(World {
            github,
            server,
            store,
            _db: db,
        })
    }

    /// A completed, successful run of the bench workflow with `zip` as its artifact, delivered.
    pub async fn run(&self, event: &str, branch: &str, sha: &str, from: &str, zip: Vec<u8>) -> i64 {
        let id = self.github.with_world(|w| {
            let id = w.add_workflow_run(REPO, "bench", branch, sha, event, "success");
            w.add_artifact(REPO, id, "upkeep-criterion", zip);
            id
        });
        self.deliver(id, from).await;
        id
    }

    /// The re-run upkeep asked for of run `id` ended, uploading `zip`; delivered.
    pub async fn rerun_ends(&self, id: i64, from: &str, zip: Vec<u8>) {
        self.github.with_world(|w| {
            w.end_rerun(REPO, id, "success");
            w.add_artifact(REPO, id, "upkeep-criterion", zip);
        });
        self.deliver(id, from).await;
    }

    pub fn rerun_asked(&self, id: i64) -> bool {
        self.github
            .with_world(|w| w.repositories[REPO].reruns.contains(&id))
    }

    /// GitHub delivers `workflow_run` completed for run `id` as the world has it.
    pub async fn deliver(&self, id: i64, from: &str) {
        let endpoint = Endpoint {
            url: self.server.url("/webhook"),
            secret: super::SECRET.into(),
        };
        let d = self
            .github
            .deliver_workflow_run(&endpoint, 7, REPO, id, from)
            .await;
        assert_eq!(d.status, 202);
        super::jobs_settled(&self.store).await;
    }

    /// A PR on `branch` whose first benchmark run (run 1 of the corpus, times × `factor`) is
    /// delivered: its head, its number and the run's id.
    pub async fn pr_benchmarked(
        &self,
        branch: &str,
        title: &str,
        factor: f64,
    ) -> (String, u64, i64) {
        let (sha, pr) = self
            .open_pr(branch, title, &[("src/lib.rs", &format!("// {title}\n"))])
            .await;
        let run = self
            .run(
                "pull_request",
                branch,
                &sha,
                REPO,
                artifact_from_run(1, factor),
            )
            .await;
        (sha, pr, run)
    }

    /// A branch off main changing `files`, and a PR of it: the branch's head and the PR's number.
    pub async fn open_pr(
        &self,
        branch: &str,
        title: &str,
        files: &[(&str, &str)],
    ) -> (String, u64) {
        let sha = repo_world::branch(&self.github, branch, files);
        let client = repo_world::installation_client(&self.github);
        let pr = upkeep::github::repo::Repo::new(&client, REPO)
            .create_pull(title, branch, "main", "")
            .await
            .unwrap();
        (sha, pr)
    }

    /// Five pushes to main with results: the baseline and its history.
    pub async fn baseline(&self) {
        // The same real samples with a little drift: these scenarios are about the
        // plumbing; tests/bench_noise.rs judges the statistics on real run-to-run noise.
        self.baseline_with(|run| artifact_from_run(1, 1.0 + 0.002 * f64::from(run)))
            .await;
    }

    /// Five pushes to main, push `n` (1 to 5) uploading `artifact(n)`.
    pub async fn baseline_with(&self, artifact: impl Fn(u32) -> Vec<u8>) {
        for run in 1..=5u32 {
            repo_world::push(&self.github, &[("NOTES.md", &format!("{run}\n"))], "work");
            let sha = self.head();
            self.run("push", "main", &sha, REPO, artifact(run)).await;
            let check = self.check(&sha);
            if run == 1 {
                assert_eq!(check["conclusion"], "neutral");
                assert!(check["output"]["title"]
                    .as_str()
                    .unwrap()
                    .contains("no baseline yet"));
            } else {
                assert_eq!(check["conclusion"], "success", "{check:#}");
            }
        }
        assert_eq!(self.baseline_commits().await, 5);
    }

    /// upkeep's benchmark comments on PR `pr`.
    pub fn bench_comments(&self, pr: u64) -> Vec<String> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .comments_on(pr as i64)
                .into_iter()
                .filter_map(|c| c["body"].as_str())
                .filter(|body| body.contains("<!-- upkeep:bench -->"))
                .map(str::to_owned)
                .collect()
        })
    }

    /// The newest `upkeep/bench` check run on `sha`.
    pub fn check(&self, sha: &str) -> Value {
        self.checks(sha)
            .pop()
            .unwrap_or_else(|| panic!("no upkeep/bench check on {sha}"))
    }

    /// Every `upkeep/bench` check run on `sha`, oldest first.
    pub fn checks(&self, sha: &str) -> Vec<Value> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .check_runs
                .iter()
                .filter(|c| c["head_sha"] == sha && c["name"] == "upkeep/bench")
                .cloned()
                .collect()
        })
    }

    pub fn head(&self) -> String {
        self.github
            .with_world(|w| w.repositories[REPO].head().unwrap().clone())
    }

    pub async fn baseline_commits(&self) -> usize {
        self.store
            .bench_history(
                self.github.with_world(|w| w.repositories[REPO].id),
                "main",
                "linux/x64/ubuntu-latest",
                "",
                100,
            )
            .await
            .unwrap()
            .len()
    }
}
