//! After CI on upkeep's dependency PRs, driven by real webhook deliveries to a running server:
//! green and allowed by `automerge` → merged (never while a check still runs); red on a
//! breaking bump → `upkeep:needs-human`, a comment naming the failing checks and one migration
//! issue per dependency, not repeated on the next red run, and closed by the daily pass once
//! the default branch moved past it.

mod common;

use common::registry::LoopbackRegistry;
use common::repo_world::{self, REPO};
use common::{eventually, TestDb, TestServer};
use fake_github::webhooks::Endpoint;
use fake_github::FakeGitHub;
use serde_json::json;
use upkeep::deps::pass::DepsPass;
use upkeep::github::InstallationClient;

struct World {
    github: FakeGitHub,
    registry: LoopbackRegistry,
    pass: DepsPass,
    client: InstallationClient,
    server: TestServer,
    _db: TestDb,
}

impl World {
    /// The fixture workspace on GitHub with `config`, upkeep's PRs opened by a first pass, and
    /// the server running against both.
    async fn new(config: &str) -> Option<World> {
        common::shared_dir()?;
        let github = repo_world::github_with(&repo_world::fixture_files(Some(config))).await;
        let registry = LoopbackRegistry::start().await;
        let pass = repo_world::deps_pass(&registry);
        let client = repo_world::installation_client(&github);
        pass.run(&client, REPO, &Default::default()).await.unwrap();
        let db = TestDb::sqlite();
        let server = TestServer::start(common::settings(
            &db.url,
            &[
                ("UPKEEP_GITHUB_API_URL", &github.uri()),
                ("UPKEEP_INDEX_URL", &registry.url()),
            ],
        ))
        .await;
        Some(World {
            github,
            registry,
            pass,
            client,
            server,
            _db: db,
        })
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint {
            url: self.server.url("/webhook"),
            secret: common::SECRET.into(),
        }
    }

    /// The PR on `branch`: (number, head sha).
    fn pr(&self, branch: &str) -> (i64, String) {
        self.github.with_world(|w| {
            let p = w.repositories[REPO]
                .pulls
                .iter()
                .find(|p| p["head"]["ref"] == branch)
                .unwrap_or_else(|| panic!("no PR on {branch}"))
                .clone();
            let sha = w.repositories[REPO].refs[&format!("heads/{branch}")].clone();
            (p["number"].as_i64().unwrap(), sha)
        })
    }

    fn check_run(&self, sha: &str, name: &str, status: &str, conclusion: Option<&str>) {
        self.github.with_world(|w| {
            let id = w.add_check_run(REPO, sha, name, conclusion.unwrap_or("success"));
            let runs = &mut w.repositories.get_mut(REPO).unwrap().check_runs;
            let run = runs.iter_mut().find(|r| r["id"] == id).unwrap();
            run["status"] = json!(status);
            run["conclusion"] = json!(conclusion);
        });
    }

    fn finish_runs(&self, sha: &str) {
        self.github.with_world(|w| {
            for run in w.repositories.get_mut(REPO).unwrap().check_runs.iter_mut() {
                if run["head_sha"] == sha {
                    run["status"] = json!("completed");
                    run["conclusion"] = json!("success");
                }
            }
        });
    }

    /// The PR on `branch` passes its one check and its workflow completes; waits for the merge.
    async fn goes_green_and_merges(&self, branch: &str) {
        let (number, sha) = self.pr(branch);
        self.check_run(&sha, "test", "completed", Some("success"));
        self.workflow_completed(branch, &sha).await;
        eventually(20, "the PR merged", || async {
            self.merged(number).then_some(())
        })
        .await;
    }

    fn merged(&self, number: i64) -> bool {
        self.github.pull_request(REPO, number).unwrap()["merged"] == true
    }

    /// A workflow run on `sha` that GitHub has triggered and not finished: no check runs yet.
    fn workflow_run_in_progress(&self, branch: &str, sha: &str, name: &str) -> i64 {
        self.github.with_world(|w| {
            let id = w.add_workflow_run(REPO, name, branch, sha, "pull_request", "success");
            w.set_workflow_run(REPO, id, "in_progress", None);
            id
        })
    }

    /// Delivers `workflow_run` completed for `branch` at `sha`.
    async fn workflow_completed(&self, branch: &str, sha: &str) {
        let d = self
            .github
            .deliver(
                &self.endpoint(),
                "workflow_run",
                "completed.payload.json",
                7,
                Some(REPO),
                |p| {
                    p["workflow_run"]["head_branch"] = json!(branch);
                    p["workflow_run"]["head_sha"] = json!(sha);
                },
            )
            .await;
        assert_eq!(d.status, 202);
    }

    async fn suite_completed(&self, branch: &str, sha: &str) {
        let d = self
            .github
            .deliver(
                &self.endpoint(),
                "check_suite",
                "completed.payload.json",
                7,
                Some(REPO),
                |p| {
                    p["check_suite"]["head_branch"] = json!(branch);
                    p["check_suite"]["head_sha"] = json!(sha);
                },
            )
            .await;
        assert_eq!(d.status, 202);
    }

    /// Waits until every stored delivery has been processed.
    async fn processed(&self) {
        let store = upkeep::store::Store::open(&self._db.url).await.unwrap();
        common::jobs_settled(&store).await;
    }
}

#[tokio::test]
async fn a_green_pr_that_automerge_covers_is_merged_once_every_check_is_done() {
    let Some(world) = World::new("automerge = [\"patch\"]\n").await else {
        return;
    };
    let (number, sha) = world.pr("upkeep/cargo/demo-yanked-yanked");
    world.check_run(&sha, "test", "completed", Some("success"));
    world.check_run(&sha, "clippy", "in_progress", None);
    world
        .workflow_completed("upkeep/cargo/demo-yanked-yanked", &sha)
        .await;
    world.processed().await;
    assert!(!world.merged(number), "clippy still runs");

    // Every check run is green now, but another workflow on the commit has been triggered and
    // has no check run yet (its jobs wait for a runner): still not merged.
    world.finish_runs(&sha);
    let bench = world.workflow_run_in_progress("upkeep/cargo/demo-yanked-yanked", &sha, "bench");
    world
        .workflow_completed("upkeep/cargo/demo-yanked-yanked", &sha)
        .await;
    world.processed().await;
    assert!(!world.merged(number), "the bench workflow has not finished");

    world
        .github
        .with_world(|w| w.set_workflow_run(REPO, bench, "completed", Some("success")));
    world
        .workflow_completed("upkeep/cargo/demo-yanked-yanked", &sha)
        .await;
    eventually(20, "the PR merged", || async {
        world.merged(number).then_some(())
    })
    .await;

    // The bump (minor by level) is not covered by automerge = ["patch"]: left open.
    let (bump, bump_sha) = world.pr("upkeep/cargo/demo-rand");
    world.check_run(&bump_sha, "test", "completed", Some("success"));
    world
        .workflow_completed("upkeep/cargo/demo-rand", &bump_sha)
        .await;
    world.processed().await;
    assert!(!world.merged(bump));
    assert_eq!(world.github.calls_to("pulls/merge"), 1);
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_commit_status_from_ci_outside_checks_holds_the_merge_until_it_succeeds() {
    let Some(world) = World::new("automerge = [\"patch\"]\n").await else {
        return;
    };
    let branch = "upkeep/cargo/demo-yanked-yanked";
    let (number, sha) = world.pr(branch);
    world.check_run(&sha, "test", "completed", Some("success"));
    world
        .github
        .with_world(|w| w.add_status(REPO, &sha, "ci/jenkins", "pending"));
    world.workflow_completed(branch, &sha).await;
    world.processed().await;
    assert!(!world.merged(number), "Jenkins is still running");

    let jenkins = world
        .github
        .with_world(|w| w.add_status(REPO, &sha, "ci/jenkins", "success"));
    let d = world
        .github
        .deliver_status(&world.endpoint(), 7, REPO, jenkins, branch)
        .await;
    assert_eq!(d.status, 202);
    eventually(20, "the PR merged", || async {
        world.merged(number).then_some(())
    })
    .await;
    world.github.assert_conformant();
}

#[tokio::test]
async fn an_installation_that_has_not_accepted_the_statuses_permission_still_merges_on_checks() {
    let Some(world) = World::new("automerge = [\"patch\"]\n").await else {
        return;
    };
    // Installed before upkeep asked for `statuses: read`, and not yet accepted.
    let mut refused = fake_github::Fault::refusal(403, "Resource not accessible by integration");
    refused.times = 10;
    world
        .github
        .fault("repos/get-combined-status-for-ref", refused);
    world
        .goes_green_and_merges("upkeep/cargo/demo-yanked-yanked")
        .await;
    assert!(world.github.calls_to("repos/get-combined-status-for-ref") >= 1);
}

#[tokio::test]
async fn a_repository_that_turns_squash_merges_off_gets_a_merge_commit() {
    let Some(world) = World::new("automerge = [\"patch\"]\n").await else {
        return;
    };
    world.github.with_world(|w| {
        w.repositories
            .get_mut(REPO)
            .unwrap()
            .disallowed_merge_methods = vec!["squash".into()]
    });
    world
        .goes_green_and_merges("upkeep/cargo/demo-yanked-yanked")
        .await;
    assert_eq!(
        world.github.calls_to("pulls/merge"),
        2,
        "squash refused, then a merge commit"
    );
    let parents = world.github.with_world(|w| {
        let r = &w.repositories[REPO];
        match r.objects.get(r.head().unwrap()) {
            Some(fake_github::git::Object::Commit(c)) => c.parents.len(),
            _ => 0,
        }
    });
    assert_eq!(parents, 2, "a merge commit");
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_red_breaking_bump_gets_a_label_a_comment_and_one_migration_issue_that_closes_itself() {
    let Some(world) = World::new("automerge = [\"major\", \"minor\", \"patch\"]\n").await else {
        return;
    };
    let (number, sha) = world.pr("upkeep/cargo/demo-rand");
    world.check_run(&sha, "test (ubuntu)", "completed", Some("failure"));
    world.check_run(&sha, "fmt", "completed", Some("success"));
    world.suite_completed("upkeep/cargo/demo-rand", &sha).await;
    eventually(20, "the migration issue", || async {
        world
            .github
            .with_world(|w| w.repositories[REPO].issues.len() == 1)
            .then_some(())
    })
    .await;
    let pr = world.github.pull_request(REPO, number).unwrap();
    assert_eq!(pr["merged"], false, "red is never merged");
    let labels: Vec<&str> = pr["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["dependencies", "upkeep:needs-human"]);
    let (issue, comments) = world.github.with_world(|w| {
        let r = &w.repositories[REPO];
        (r.issues[0].clone(), r.comments.clone())
    });
    assert_eq!(issue["title"], "demo-rand 0.9 needs a manual migration");
    assert!(issue["body"]
        .as_str()
        .unwrap()
        .contains(&format!("#{number}")));
    assert_eq!(comments.len(), 1);
    assert!(comments[0]["body"]
        .as_str()
        .unwrap()
        .contains("test (ubuntu)"));

    // Red again: nothing repeated.
    world.suite_completed("upkeep/cargo/demo-rand", &sha).await;
    world.processed().await;
    let (issues, comments) = world.github.with_world(|w| {
        (
            w.repositories[REPO].issues.len(),
            w.repositories[REPO].comments.len(),
        )
    });
    assert_eq!((issues, comments), (1, 1));

    // A person migrates on main; the next daily pass closes the issue and the PR.
    let lock = world.file_on_main("Cargo.lock").replace(
        "name = \"demo-rand\"\nversion = \"0.8.1\"",
        "name = \"demo-rand\"\nversion = \"0.9.0\"",
    );
    let lock = lock.replace(&sha256("demo-rand-0.8.1"), &sha256("demo-rand-0.9.0"));
    let manifest = world
        .file_on_main("crates/a/Cargo.toml")
        .replace("demo-rand = \"0.8\"", "demo-rand = \"0.9\"");
    world.push(&[("Cargo.lock", &lock), ("crates/a/Cargo.toml", &manifest)]);
    let outcome = world
        .pass
        .run(&world.client, REPO, &Default::default())
        .await
        .unwrap();
    assert!(outcome.closed.contains(&(number as u64)), "{outcome:?}");
    assert_eq!(
        outcome.closed_issues,
        vec![issue["number"].as_u64().unwrap()]
    );
    let _ = &world.registry;
    world.github.assert_conformant();
}

fn sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

impl World {
    fn file_on_main(&self, path: &str) -> String {
        repo_world::file_on(&self.github, "main", path).unwrap()
    }

    fn push(&self, files: &[(&str, &str)]) {
        repo_world::push(&self.github, files, "migrate demo-rand");
    }
}

#[tokio::test]
async fn a_pr_a_person_closes_unmerged_is_not_proposed_again() {
    let Some(world) = World::new("").await else {
        return;
    };
    let (number, _) = world.pr("upkeep/cargo/demo-rand");
    let pr = world.github.with_world(|w| {
        let repo = w.repositories.get_mut(REPO).unwrap();
        let pr = repo
            .pulls
            .iter_mut()
            .find(|p| p["number"] == number)
            .unwrap();
        pr["state"] = json!("closed");
        pr.clone()
    });
    let d = world
        .github
        .deliver(
            &world.endpoint(),
            "pull_request",
            "closed.payload.json",
            7,
            Some(REPO),
            |p| {
                p["pull_request"]["head"]["ref"] = pr["head"]["ref"].clone();
                p["pull_request"]["user"] = pr["user"].clone();
                p["pull_request"]["body"] = pr["body"].clone();
                p["pull_request"]["merged"] = json!(false);
                p["sender"]["login"] = json!("maintainer");
                p["sender"]["type"] = json!("User");
            },
        )
        .await;
    assert_eq!(d.status, 202);
    world.processed().await;
    let store = upkeep::store::Store::open(&world._db.url).await.unwrap();
    let repo_id = d.payload["repository"]["id"].as_i64().unwrap();
    let declined = store.declined(repo_id).await.unwrap();
    assert_eq!(declined.len(), 1, "{declined:?}");

    let outcome = world
        .pass
        .run(&world.client, REPO, &declined)
        .await
        .unwrap();
    assert!(
        outcome.skipped.contains(&(
            "upkeep/cargo/demo-rand".to_owned(),
            "declined by a person".to_owned()
        )),
        "{outcome:?}"
    );
    assert!(outcome.opened.is_empty(), "not reopened: {outcome:?}");
    world.github.assert_conformant();
}

impl World {
    /// Delivers `pull_request` opened from `branch` at `head` onto main.
    async fn pull_request_opened(&self, branch: &str, head: &str) {
        let base = self
            .github
            .with_world(|w| w.repositories[REPO].head().unwrap().clone());
        let d = self
            .github
            .deliver(
                &self.endpoint(),
                "pull_request",
                "opened.payload.json",
                7,
                Some(REPO),
                |p| {
                    p["pull_request"]["head"]["ref"] = json!(branch);
                    p["pull_request"]["head"]["sha"] = json!(head);
                    p["pull_request"]["base"]["ref"] = json!("main");
                    p["pull_request"]["base"]["sha"] = json!(base);
                },
            )
            .await;
        assert_eq!(d.status, 202);
    }

    fn audit_runs(&self, head: &str) -> Vec<serde_json::Value> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .check_runs
                .iter()
                .filter(|r| r["name"] == "upkeep/audit" && r["head_sha"] == head)
                .cloned()
                .collect()
        })
    }
}

#[tokio::test]
async fn a_pr_that_brings_in_a_vulnerable_crate_fails_the_audit_check_and_one_without_lockfile_gets_none(
) {
    let Some(world) = World::new("").await else {
        return;
    };
    let lock = world.file_on_main("Cargo.lock");
    let evil = format!(
        "{lock}\n[[package]]\nname = \"demo-evil\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
    );
    let head = repo_world::branch(&world.github, "add-evil", &[("Cargo.lock", &evil)]);
    world.pull_request_opened("add-evil", &head).await;
    let runs = eventually(20, "the audit check", || async {
        let runs = world.audit_runs(&head);
        (!runs.is_empty()).then_some(runs)
    })
    .await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["conclusion"], "failure");
    let summary = runs[0]["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("RUSTSEC-2099-0003"), "{summary}");
    assert!(
        !summary.contains("RUSTSEC-2099-0001"),
        "demo-log's advisory was already on main: {summary}"
    );

    let docs = repo_world::branch(&world.github, "docs", &[("README.md", "# better words\n")]);
    world.pull_request_opened("docs", &docs).await;
    world.processed().await;
    assert!(
        world.audit_runs(&docs).is_empty(),
        "no lockfile change, no check"
    );
    world.github.assert_conformant();
}
