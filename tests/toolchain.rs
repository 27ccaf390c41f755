//! Toolchain pins (issue 25) on the fake GitHub: a `rust-toolchain.toml` pinned to 1.70.0 gets
//! one PR on `upkeep/toolchain` to the newest stable release rust-lang/rust has published
//! (pre-releases never, the cooldown respected), moved along in place by a newer release,
//! never reopened once a person closed it, and closed when the pin catches up by itself. The
//! MSRV (`rust-version` and the CI steps that test it) is never touched; a channel is left
//! alone without a request.

mod common;

use chrono::{Duration, Utc};
use common::registry::LoopbackRegistry;
use common::repo_world::{self, REPO};
use fake_github::FakeGitHub;
use serde_json::Value;
use upkeep::deps::pass::{DepsPass, PassOutcome};
use upkeep::github::InstallationClient;

const BRANCH: &str = "upkeep/toolchain";
const TOOLCHAIN: &str = "# The compiler CI and contributors use.\n[toolchain]\nchannel = \"1.70.0\" # moved by upkeep\ncomponents = [\"clippy\", \"rustfmt\"]\n";
const CI: &str = "on: push\njobs:\n  msrv:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: dtolnay/rust-toolchain@1.70\n      - run: cargo check\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: dtolnay/rust-toolchain@master\n        with:\n          toolchain: 1.70\n";

struct World {
    github: FakeGitHub,
    _registry: LoopbackRegistry,
    pass: DepsPass,
    client: InstallationClient,
}

impl World {
    /// The fixture workspace (MSRV 1.70, no dependency PR allowed) with `extra` files, and
    /// rust-lang/rust publishing `releases`: `(tag, days ago, pre-release)`.
    async fn new(extra: &[(&str, &str)], config: &str, releases: &[(&str, i64, bool)]) -> World {
        let mut files = repo_world::fixture_files(Some(config));
        files.extend(
            extra
                .iter()
                .map(|(p, c)| ((*p).to_owned(), (*c).to_owned())),
        );
        let github = repo_world::github_with(&files).await;
        github.with_world(|w| w.add_repository(99, "rust-lang/rust"));
        let registry = LoopbackRegistry::start().await;
        let world = World {
            pass: repo_world::deps_pass(&registry),
            _registry: registry,
            client: repo_world::installation_client(&github),
            github,
        };
        for (tag, days, pre) in releases {
            world.release(tag, *days, *pre);
        }
        world
    }

    fn release(&self, tag: &str, days_ago: i64, prerelease: bool) {
        let at = (Utc::now() - Duration::days(days_ago)).to_rfc3339();
        self.github
            .with_world(|w| w.add_release("rust-lang/rust", tag, &at, prerelease));
    }

    async fn run(&self) -> PassOutcome {
        self.pass
            .run(&self.client, REPO, &Default::default())
            .await
            .unwrap()
    }

    fn toolchain_prs(&self, state: &str) -> Vec<Value> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .pulls
                .iter()
                .filter(|p| p["head"]["ref"] == BRANCH && p["state"] == state)
                .cloned()
                .collect()
        })
    }

    /// Toolchain PRs ever opened.
    fn toolchain_prs_ever(&self) -> usize {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .pulls
                .iter()
                .filter(|p| p["head"]["ref"] == BRANCH)
                .count()
        })
    }

    fn pinned_on_branch(&self) -> String {
        repo_world::file_on(&self.github, BRANCH, "rust-toolchain.toml").unwrap()
    }
}

/// Stable releases 1.70.0 to 1.83.0 every six weeks, the newest 60 days ago, with two patch
/// releases; and a 1.84.0 pre-release from yesterday.
fn history() -> Vec<(&'static str, i64, bool)> {
    let tags = [
        "1.70.0", "1.71.0", "1.71.1", "1.72.0", "1.73.0", "1.74.0", "1.74.1", "1.75.0", "1.76.0",
        "1.77.0", "1.78.0", "1.79.0", "1.80.0", "1.81.0", "1.82.0", "1.83.0",
    ];
    let mut out: Vec<(&str, i64, bool)> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, 60 + 42 * (tags.len() - 1 - i) as i64, false))
        .collect();
    out.push(("1.84.0", 1, true));
    out
}

#[tokio::test]
async fn a_pin_at_1_70_0_gets_one_pr_to_the_newest_stable_and_the_msrv_is_left_alone() {
    let world = World::new(
        &[
            ("rust-toolchain.toml", TOOLCHAIN),
            (".github/workflows/ci.yml", CI),
        ],
        "open-pull-requests-limit = 0\n",
        &history(),
    )
    .await;
    world.run().await;

    let prs = world.toolchain_prs("open");
    assert_eq!(prs.len(), 1, "{prs:#?}");
    assert_eq!(
        prs[0]["title"],
        "Update Rust toolchain in rust-toolchain.toml from 1.70.0 to 1.83.0"
    );
    // Only the channel moved: comments, components kept; never the 1.84.0 pre-release.
    assert_eq!(
        world.pinned_on_branch(),
        TOOLCHAIN.replace("\"1.70.0\"", "\"1.83.0\"")
    );
    // The MSRV is another number: Cargo.toml and the CI steps testing 1.70 are as on main.
    for path in ["Cargo.toml", ".github/workflows/ci.yml"] {
        assert_eq!(
            repo_world::file_on(&world.github, BRANCH, path),
            repo_world::file_on(&world.github, "main", path),
            "{path}"
        );
    }
    let body = prs[0]["body"].as_str().unwrap();
    assert!(
        body.contains("https://github.com/rust-lang/rust/releases/tag/1.83.0")
            && body.contains("`rust-version`"),
        "{body}"
    );

    // Found again: nothing new on the next pass.
    world.run().await;
    assert_eq!(world.toolchain_prs_ever(), 1);
    assert_eq!(world.toolchain_prs("open").len(), 1);

    // A newer release moves the same PR along.
    world.release("1.84.0", 0, false);
    world.run().await;
    let prs = world.toolchain_prs("open");
    assert_eq!(prs.len(), 1);
    assert_eq!(
        prs[0]["title"],
        "Update Rust toolchain in rust-toolchain.toml from 1.70.0 to 1.84.0"
    );
    assert!(world.pinned_on_branch().contains("channel = \"1.84.0\""));
}

#[tokio::test]
async fn a_release_in_its_cooldown_waits_and_the_dashboard_says_until_when() {
    let mut releases = history();
    releases.push(("1.84.0", 2, false));
    let mut world = World::new(
        &[("rust-toolchain.toml", TOOLCHAIN)],
        "open-pull-requests-limit = 0\n\n[cooldown]\nsemver-minor-days = 7\n",
        &releases,
    )
    .await;
    world.pass.dashboard = true;
    let outcome = world.run().await;
    assert!(world.pinned_on_branch().contains("channel = \"1.83.0\""));
    let line = outcome.toolchain.unwrap();
    assert!(line.contains("moves it to `1.83.0`"), "{line}");

    // On 1.83.0 already: 1.84.0 waits for its cooldown, and no PR is open.
    let world = World::new(
        &[(
            "rust-toolchain.toml",
            &TOOLCHAIN.replace("1.70.0", "1.83.0"),
        )],
        "open-pull-requests-limit = 0\n\n[cooldown]\nsemver-minor-days = 7\n",
        &releases,
    )
    .await;
    let outcome = world.run().await;
    assert!(world.toolchain_prs("open").is_empty());
    let line = outcome.toolchain.unwrap();
    let until = (Utc::now() + Duration::days(5))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        line.contains("1.84.0 is out, proposed after its cooldown") && line.contains(&until),
        "{line}"
    );
}

#[tokio::test]
async fn a_closed_pr_is_not_reopened_and_a_pin_that_caught_up_closes_the_pr() {
    let world = World::new(
        &[("rust-toolchain", "1.70\n")],
        "open-pull-requests-limit = 0\n",
        &history(),
    )
    .await;
    world.run().await;
    let pr = world.toolchain_prs("open").remove(0);
    assert_eq!(
        repo_world::file_on(&world.github, BRANCH, "rust-toolchain").unwrap(),
        "1.83\n",
        "a `1.70` pin moves to `1.83`, as it was written"
    );
    let number = pr["number"].as_i64().unwrap();
    world.github.with_world(|w| {
        let repo = w.repositories.get_mut(REPO).unwrap();
        let p = repo
            .pulls
            .iter_mut()
            .find(|p| p["number"] == number)
            .unwrap();
        p["state"] = "closed".into();
    });
    world.run().await;
    assert!(
        world.toolchain_prs("open").is_empty(),
        "declined: not reopened"
    );
    assert_eq!(world.toolchain_prs_ever(), 1);

    // A newer release is a new proposal; then the maintainers move the pin themselves.
    world.release("1.84.0", 0, false);
    world.run().await;
    assert_eq!(world.toolchain_prs("open").len(), 1);
    repo_world::push(
        &world.github,
        &[("rust-toolchain", "1.84\n")],
        "newer compiler",
    );
    let outcome = world.run().await;
    assert!(world.toolchain_prs("open").is_empty());
    assert_eq!(outcome.closed.len(), 1, "{outcome:?}");
}

#[tokio::test]
async fn a_channel_is_left_alone_without_asking_for_releases() {
    let world = World::new(
        &[("rust-toolchain.toml", "[toolchain]\nchannel = \"stable\"\n")],
        "open-pull-requests-limit = 0\n",
        &history(),
    )
    .await;
    let outcome = world.run().await;
    assert!(world.toolchain_prs("open").is_empty());
    assert_eq!(world.github.calls_to("repos/list-releases"), 0);
    assert_eq!(outcome.toolchain, None);
}

#[tokio::test]
async fn ci_steps_pinned_below_a_raised_rust_version_get_one_pr_and_the_toolchain_pin_is_not_one_of_them(
) {
    // rust-version was raised to 1.70 (the fixture's); the MSRV job still installs 1.65.
    let stale = CI.replace("1.70", "1.65");
    let world = World::new(
        &[
            ("rust-toolchain.toml", TOOLCHAIN),
            (".github/workflows/ci.yml", &stale),
        ],
        "open-pull-requests-limit = 0\n",
        &history(),
    )
    .await;
    world.run().await;
    let msrv_prs: Vec<Value> = world.github.with_world(|w| {
        w.repositories[REPO]
            .pulls
            .iter()
            .filter(|p| p["head"]["ref"] == "upkeep/msrv-ci" && p["state"] == "open")
            .cloned()
            .collect()
    });
    assert_eq!(msrv_prs.len(), 1);
    let ci =
        repo_world::file_on(&world.github, "upkeep/msrv-ci", ".github/workflows/ci.yml").unwrap();
    assert_eq!(
        ci, CI,
        "both steps moved to rust-version, written as they were"
    );
    // The toolchain file's 1.70.0 is not the MSRV: that PR leaves it to its own PR.
    assert_eq!(
        repo_world::file_on(&world.github, "upkeep/msrv-ci", "rust-toolchain.toml").unwrap(),
        TOOLCHAIN
    );
    let body = msrv_prs[0]["body"].as_str().unwrap();
    assert!(
        body.contains("`.github/workflows/ci.yml` line 6: `1.65` → `1.70`"),
        "{body}"
    );
    // Found again on the next pass; closed once the workflow is fixed by hand.
    world.run().await;
    assert_eq!(
        world.github.with_world(|w| w.repositories[REPO]
            .pulls
            .iter()
            .filter(|p| p["head"]["ref"] == "upkeep/msrv-ci")
            .count()),
        1
    );
    repo_world::push(
        &world.github,
        &[(".github/workflows/ci.yml", CI)],
        "fix CI by hand",
    );
    let outcome = world.run().await;
    assert_eq!(outcome.closed.len(), 1, "{outcome:?}");
}
