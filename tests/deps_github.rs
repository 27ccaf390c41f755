//! The daily dependency pass against the fake GitHub (every request held to GitHub's OpenAPI
//! description) and a sparse registry on loopback, with real cargo resolving the lockfiles: a
//! world is built (repository files, configuration, index), the pass runs, and what it did on
//! GitHub is checked: branches, commits, PRs, labels, the configuration check run, and the
//! number of requests.

mod common;

use std::sync::Arc;

use common::registry::LoopbackRegistry;
use common::repo_world::{self, REPO};
use fake_github::FakeGitHub;
use upkeep::deps::pass::{DepsPass, PassOutcome};
use upkeep::github::InstallationClient;

struct World {
    github: FakeGitHub,
    _registry: LoopbackRegistry,
    pass: DepsPass,
    client: InstallationClient,
}

impl World {
    async fn new(config: Option<&str>) -> Option<World> {
        common::shared_dir()?;
        let github = repo_world::github_with(&repo_world::fixture_files(config)).await;
        let registry = LoopbackRegistry::start().await;
        let pass = repo_world::deps_pass(&registry);
        let client = repo_world::installation_client(&github);
        Some(World {
            github,
            _registry: registry,
            pass,
            client,
        })
    }

    /// Lets the pass read the fixture advisory database.
    fn with_advisories(mut self) -> Self {
        let db = upkeep::audit::AdvisoryDb::open(
            &common::repo_root().join("tests/fixtures/advisory-db"),
        )
        .unwrap();
        self.pass.advisories = Some(Arc::new(upkeep::audit::Advisories::local(db)));
        self
    }

    async fn run(&self) -> PassOutcome {
        self.pass
            .run(&self.client, REPO, &std::collections::BTreeSet::new())
            .await
            .unwrap()
    }

    /// Open PRs: (number, branch, title).
    fn open_prs(&self) -> Vec<(i64, String, String)> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .pulls
                .iter()
                .filter(|p| p["state"] == "open")
                .map(|p| {
                    (
                        p["number"].as_i64().unwrap(),
                        p["head"]["ref"].as_str().unwrap().to_owned(),
                        p["title"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
    }

    fn file_on(&self, branch: &str, path: &str) -> Option<String> {
        repo_world::file_on(&self.github, branch, path)
    }

    fn push(&self, files: &[(&str, &str)]) {
        repo_world::push(&self.github, files, "a push");
    }

    fn calls(&self) -> Vec<String> {
        self.github
            .calls()
            .into_iter()
            .filter_map(|c| c.operation)
            .collect()
    }
}

fn locked(lock: &str, name: &str) -> Vec<String> {
    upkeep::deps::lockfile::parse(lock)
        .unwrap()
        .packages
        .into_iter()
        .filter(|p| p.name == name)
        .map(|p| p.version.to_string())
        .collect()
}

#[tokio::test]
async fn the_first_pass_opens_one_pr_per_need_with_cargos_lockfile() {
    let Some(world) = World::new(Some(
        "labels = [\"deps\", \"rust\"]\nassignees = [\"octocat\"]\n",
    ))
    .await
    else {
        return;
    };
    let outcome = world.run().await;
    assert_eq!(outcome.opened.len(), 3, "{outcome:?}");
    let prs = world.open_prs();
    let titles: Vec<(&str, &str)> = prs
        .iter()
        .map(|(_, b, t)| (b.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        titles,
        vec![
            (
                "upkeep/cargo/demo-yanked-yanked",
                "Move demo-yanked off yanked 1.2.3 to 1.2.4"
            ),
            (
                "upkeep/cargo/lockfile-refresh",
                "Refresh Cargo.lock: 3 compatible updates"
            ),
            (
                "upkeep/cargo/demo-rand",
                "Bump demo-rand from 0.8.1 to 0.9.0"
            ),
        ]
    );
    // Each branch carries cargo's lockfile; the bump also the edited manifest, comment kept.
    let yanked = world
        .file_on("upkeep/cargo/demo-yanked-yanked", "Cargo.lock")
        .unwrap();
    assert_eq!(locked(&yanked, "demo-yanked"), vec!["1.2.4"]);
    assert_eq!(
        locked(&yanked, "demo-log"),
        vec!["0.4.17"],
        "a precise move touches nothing else"
    );
    let refresh = world
        .file_on("upkeep/cargo/lockfile-refresh", "Cargo.lock")
        .unwrap();
    assert_eq!(
        locked(&refresh, "demo-log"),
        vec!["0.4.22"],
        "0.4.29 needs Rust 1.80 > MSRV 1.70"
    );
    let manifest = world
        .file_on("upkeep/cargo/demo-rand", "crates/a/Cargo.toml")
        .unwrap();
    assert!(
        manifest.contains("demo-rand = \"0.9\" # pre-1.0: 0.9 is breaking"),
        "{manifest}"
    );
    assert_eq!(
        locked(
            &world
                .file_on("upkeep/cargo/demo-rand", "Cargo.lock")
                .unwrap(),
            "demo-rand"
        ),
        vec!["0.9.0"]
    );
    // Labels, assignees and a body with the table, links and commands.
    let pr = world.github.pull_request(REPO, prs[2].0).unwrap();
    let labels: Vec<&str> = pr["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["deps", "rust"]);
    assert_eq!(pr["assignees"][0]["login"], "octocat");
    let body = pr["body"].as_str().unwrap();
    assert!(
        body.contains("| `demo-rand` | 0.8.1 | 0.9.0 | minor, breaking | 1.63.0 |  |"),
        "{body}"
    );
    assert!(
        body.contains("https://diff.rs/demo-rand/0.8.1/0.9.0"),
        "{body}"
    );
    assert!(
        body.contains("[release notes](https://github.com/demo/demo-rand/releases)"),
        "read from the published crate's manifest: {body}"
    );
    assert!(
        body.contains("[changelog](https://docs.rs/crate/demo-rand/0.9.0/source/CHANGELOG.md)"),
        "{body}"
    );
    assert!(body.contains("@upkeep rebase"), "{body}");
    assert!(
        world.github.violations().is_empty(),
        "{:?}",
        world.github.violations()
    );
}

#[tokio::test]
async fn a_second_pass_with_nothing_new_changes_nothing_and_costs_five_requests() {
    let Some(world) = World::new(None).await else {
        return;
    };
    world.run().await;
    let before = world.calls().len();
    let outcome = world.run().await;
    assert!(
        outcome.opened.is_empty() && outcome.updated.is_empty(),
        "{outcome:?}"
    );
    assert_eq!(outcome.unchanged.len(), 3);
    let second: Vec<String> = world.calls()[before..].to_vec();
    assert_eq!(
        second,
        vec![
            "repos/get",
            "git/get-ref",
            "git/get-tree",
            "pulls/list",
            "issues/list-for-repo"
        ],
        "no duplicate PR, no blob fetched twice, no write"
    );
    assert_eq!(world.open_prs().len(), 3);
}

#[tokio::test]
async fn a_conflicting_push_gets_the_pr_rebuilt_and_a_harmless_one_does_not() {
    let Some(world) = World::new(None).await else {
        return;
    };
    world.run().await;
    let refresh_before = world
        .file_on("upkeep/cargo/lockfile-refresh", "Cargo.lock")
        .unwrap();

    world.push(&[("README.md", "# r, now with words\n")]);
    let outcome = world.run().await;
    assert_eq!(
        outcome.unchanged.len(),
        3,
        "a clean merge is left alone: {outcome:?}"
    );

    // Someone touches Cargo.lock on main: every PR that changes it now conflicts.
    let lock = std::fs::read_to_string(
        common::repo_root().join("tests/fixtures/repos/inherited/Cargo.lock"),
    )
    .unwrap();
    world.push(&[("Cargo.lock", &format!("{lock}\n"))]);
    let outcome = world.run().await;
    assert_eq!(outcome.updated.len(), 3, "{outcome:?}");
    assert!(
        outcome.opened.is_empty(),
        "rebuilt in place, not duplicated"
    );
    let refresh_after = world
        .file_on("upkeep/cargo/lockfile-refresh", "Cargo.lock")
        .unwrap();
    assert_eq!(
        refresh_before, refresh_after,
        "the same update, rebuilt on the new base"
    );
    let mergeable = world.github.pull_request(REPO, 2).unwrap()["mergeable"].clone();
    assert_eq!(mergeable, true, "mergeable again");
}

#[tokio::test]
async fn the_pr_limit_holds_back_all_but_the_yanked_move() {
    let Some(world) = World::new(Some("open-pull-requests-limit = 1\n")).await else {
        return;
    };
    let outcome = world.run().await;
    let branches: Vec<String> = world.open_prs().into_iter().map(|(_, b, _)| b).collect();
    assert_eq!(branches, vec!["upkeep/cargo/demo-yanked-yanked"]);
    assert!(outcome.waiting >= 2, "{outcome:?}");
}

#[tokio::test]
async fn an_ignored_dependency_stays_out_even_of_the_refresh() {
    let Some(world) = World::new(Some("[[ignore]]\ndependency-name = \"demo-rand\"\n")).await
    else {
        return;
    };
    world.run().await;
    let branches: Vec<String> = world.open_prs().into_iter().map(|(_, b, _)| b).collect();
    assert_eq!(
        branches,
        vec![
            "upkeep/cargo/demo-yanked-yanked",
            "upkeep/cargo/lockfile-refresh"
        ]
    );
    let refresh = world
        .file_on("upkeep/cargo/lockfile-refresh", "Cargo.lock")
        .unwrap();
    assert_eq!(
        locked(&refresh, "demo-rand"),
        vec!["0.8.1"],
        "precise updates leave it alone"
    );
    assert_eq!(locked(&refresh, "demo-log"), vec!["0.4.22"]);
}

#[tokio::test]
async fn a_cooldown_keeps_a_fresh_release_out_of_the_refresh() {
    // The fixture's demo-log 0.4.22 carries a publication time in 2030: any cooldown holds it.
    let Some(world) = World::new(Some("[cooldown]\nsemver-patch-days = 3\n")).await else {
        return;
    };
    let outcome = world.run().await;
    let refresh = world
        .file_on("upkeep/cargo/lockfile-refresh", "Cargo.lock")
        .unwrap();
    assert_eq!(locked(&refresh, "demo-log"), vec!["0.4.17"], "{outcome:?}");
    assert_eq!(
        locked(&refresh, "demo-rand"),
        vec!["0.8.5"],
        "no pubtime: no cooldown to wait"
    );
}

#[tokio::test]
async fn configuration_problems_are_reported_once_as_a_check_run_on_the_head() {
    let Some(world) = World::new(Some("open-pull-request-limit = 3\nlabels = [\"deps\"]\n")).await
    else {
        return;
    };
    let outcome = world.run().await;
    assert_eq!(outcome.config_problems, 1);
    world.run().await;
    let runs = world
        .github
        .with_world(|w| w.repositories[REPO].check_runs.clone());
    assert_eq!(runs.len(), 1, "once per head commit");
    assert_eq!(runs[0]["name"], "upkeep/config");
    assert_eq!(runs[0]["conclusion"], "failure");
    let summary = runs[0]["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("did you mean `open-pull-requests-limit`"),
        "{summary}"
    );
    // The valid rest applied: the label.
    let (number, _, _) = world
        .open_prs()
        .into_iter()
        .find(|(_, branch, _)| branch == "upkeep/cargo/lockfile-refresh")
        .unwrap();
    let pr = world.github.pull_request(REPO, number).unwrap();
    assert_eq!(pr["labels"][0]["name"], "deps");
}

#[tokio::test]
async fn a_pr_that_fixes_an_advisory_says_so() {
    let Some(world) = World::new(None).await else {
        return;
    };
    let world = world.with_advisories();
    world.run().await;
    let (number, _, _) = world
        .open_prs()
        .into_iter()
        .find(|(_, b, _)| b == "upkeep/cargo/lockfile-refresh")
        .unwrap();
    let body = world.github.pull_request(REPO, number).unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("### Advisories fixed"), "{body}");
    assert!(
        body.contains("[RUSTSEC-2099-0001](https://rustsec.org/advisories/RUSTSEC-2099-0001) (CVE-2099-0001, GHSA-xxxx-yyyy-zzzz) in `demo-log`"),
        "{body}"
    );
    assert!(body.contains("severity high"), "{body}");
}

#[tokio::test]
async fn after_a_restart_blobs_come_from_the_store_and_nothing_to_do_still_costs_five_requests() {
    let Some(mut world) = World::new(None).await else {
        return;
    };
    let db = common::TestDb::sqlite();
    let store = db.store().await;
    world.pass.store = Some(store.clone());
    world.run().await;
    // A new process: empty memory, the same database.
    let mut fresh = DepsPass::new(world.pass.index.clone(), world.pass.resolver.clone());
    fresh.store = Some(store);
    fresh.dashboard = false;
    world.pass = fresh;
    let before = world.calls().len();
    let outcome = world.run().await;
    assert_eq!(outcome.unchanged.len(), 3, "{outcome:?}");
    assert_eq!(
        world.calls()[before..].to_vec(),
        vec![
            "repos/get",
            "git/get-ref",
            "git/get-tree",
            "pulls/list",
            "issues/list-for-repo"
        ]
    );
}

#[tokio::test]
async fn a_pass_waits_while_another_replica_holds_the_repositorys_pass_lease() {
    let Some(mut world) = World::new(None).await else {
        return;
    };
    let db = common::TestDb::sqlite();
    let store = db.store().await;
    world.pass.store = Some(store.clone());
    // Another replica sharing the database is running a pass on this repository for two
    // seconds: this one must not plan and open the same PRs beside it.
    let lease = format!("pass:{REPO}");
    let hold = std::time::Duration::from_secs(2);
    let now = upkeep::time::now_ms();
    assert!(store
        .take_lease(
            &lease,
            "another-replica",
            now,
            now + hold.as_millis() as i64
        )
        .await
        .unwrap());
    let started = std::time::Instant::now();
    let outcome = world.run().await;
    assert!(
        started.elapsed() >= hold,
        "the pass began before the other replica's lease ran out ({:?})",
        started.elapsed()
    );
    assert_eq!(outcome.opened.len(), 3, "{outcome:?}");
    // And given back: the other replica's next pass need not wait.
    let now = upkeep::time::now_ms();
    assert!(store
        .take_lease(&lease, "another-replica", now, now + 60_000)
        .await
        .unwrap());
    world.github.assert_conformant();
}
