//! API breakage on pull requests (issue 25), through the running server: the reusable
//! workflow's `semver` job uploads cargo-semver-checks' report as `upkeep-semver` (here: the
//! real output and exit codes of cargo-semver-checks 0.51.0 on a small crate whose PR breaks,
//! adds `#[must_use]`, or only changes a doc comment, and one real tool error;
//! tests/fixtures/semver); the
//! completed run's `workflow_run` delivery makes upkeep report `upkeep/semver` on the head:
//! failing with each breaking change, where it is and the bump it needs; success when nothing
//! breaks; neutral when nothing could be checked or the artifact is refused. upkeep's own
//! dependency PRs get the check too, and nothing runs on upkeep's host.

mod common;

use common::bench_artifacts::zip_of;
use common::bench_world::World;
use common::repo_world::REPO;
use serde_json::Value;

const BASE: &str = "3f1c2a7e9b8d6c5a4f3e2d1c0b9a8f7e6d5c4b3a";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(common::repo_root().join("tests/fixtures/semver").join(name)).unwrap()
}

/// The artifact the `semver` job uploads: the console output, the exit code and the base.
fn report(output: &str, exit_code: i32) -> Vec<u8> {
    zip_of(&[
        ("output.txt".into(), output.as_bytes().to_vec()),
        (
            "exit-code.txt".into(),
            format!("{exit_code}\n").into_bytes(),
        ),
        ("base.txt".into(), format!("{BASE}\n").into_bytes()),
    ])
}

/// A PR on `branch` whose workflow run (ended `conclusion`) uploaded `zip`, delivered; its head.
async fn pr_with_report(world: &World, branch: &str, conclusion: &str, zip: Vec<u8>) -> String {
    let (sha, _) = world
        .open_pr(branch, "Rework colours", &[("src/lib.rs", "// changed\n")])
        .await;
    let id = world.github.with_world(|w| {
        let id = w.add_workflow_run(REPO, "bench", branch, &sha, "pull_request", conclusion);
        w.add_artifact(REPO, id, "upkeep-semver", zip);
        id
    });
    world.deliver(id, REPO).await;
    sha
}

fn semver_checks(world: &World, sha: &str) -> Vec<Value> {
    world.github.with_world(|w| {
        w.repositories[REPO]
            .check_runs
            .iter()
            .filter(|c| c["head_sha"] == sha && c["name"] == "upkeep/semver")
            .cloned()
            .collect()
    })
}

#[tokio::test]
async fn a_breaking_change_fails_the_check_with_each_change_where_it_is_and_the_bump_it_needs() {
    let Some(world) = World::new().await else {
        return;
    };
    // The benchmark job failed in the same run: the API report is read all the same.
    let sha = pr_with_report(
        &world,
        "rework",
        "failure",
        report(&fixture("breaking.txt"), 100),
    )
    .await;
    let checks = semver_checks(&world, &sha);
    assert_eq!(checks.len(), 1, "{checks:#?}");
    let check = &checks[0];
    assert_eq!(check["conclusion"], "failure");
    assert_eq!(
        check["output"]["title"],
        "Breaking API change in `demo-api`: needs a new major version (2 checks failed)"
    );
    let summary = check["output"]["summary"].as_str().unwrap();
    for needle in [
        "Compared with the pull request's base (`3f1c2a7e9b8d`), not with the last release.",
        "### `demo-api` 1.2.0: needs a new **major** version",
        "**`enum_variant_added`**: enum variant added on exhaustive enum",
        "variant Colour:Blue",
        "**`function_missing`**: pub fn removed or renamed",
        "function demo_api::default_colour",
        "https://doc.rust-lang.org/cargo/reference/semver.html",
    ] {
        assert!(
            summary.contains(needle),
            "{needle:?} missing from:\n{summary}"
        );
    }
    // Read from the artifact only: no workflow dispatched, nothing run here.
    assert!(world
        .github
        .with_world(|w| w.repositories[REPO].dispatches.is_empty()));
}

#[tokio::test]
async fn an_unchanged_api_passes_and_an_addition_asks_for_a_minor_release() {
    let Some(world) = World::new().await else {
        return;
    };
    let sha = pr_with_report(&world, "docs", "success", report(&fixture("clean.txt"), 0)).await;
    let check = semver_checks(&world, &sha).pop().unwrap();
    assert_eq!(check["conclusion"], "success");
    assert_eq!(check["output"]["title"], "No API breakage in 1 crate");

    let sha = pr_with_report(
        &world,
        "more",
        "success",
        report(&fixture("minor.txt"), 100),
    )
    .await;
    let check = semver_checks(&world, &sha).pop().unwrap();
    assert_eq!(check["conclusion"], "neutral");
    assert_eq!(
        check["output"]["title"],
        "API addition in `demo-api`: needs a new minor version"
    );
}

#[tokio::test]
async fn upkeeps_own_dependency_prs_get_the_check_too() {
    let Some(world) = World::new().await else {
        return;
    };
    let sha = pr_with_report(
        &world,
        "upkeep/cargo/demo-rand",
        "success",
        report(&fixture("breaking.txt"), 100),
    )
    .await;
    let check = semver_checks(&world, &sha).pop().unwrap();
    assert_eq!(check["conclusion"], "failure");
}

#[tokio::test]
async fn nothing_checked_or_a_refused_artifact_is_neutral_and_says_why() {
    let Some(world) = World::new().await else {
        return;
    };
    let sha = pr_with_report(
        &world,
        "bin-only",
        "success",
        report(&fixture("error.txt"), 101),
    )
    .await;
    let check = semver_checks(&world, &sha).pop().unwrap();
    assert_eq!(check["conclusion"], "neutral");
    assert_eq!(check["output"]["title"], "API not checked");
    assert!(check["output"]["summary"]
        .as_str()
        .unwrap()
        .contains("failed to retrieve local crate data"));

    let sha = pr_with_report(
        &world,
        "odd",
        "success",
        zip_of(&[("notes.txt".into(), b"hello".to_vec())]),
    )
    .await;
    let check = semver_checks(&world, &sha).pop().unwrap();
    assert_eq!(check["conclusion"], "neutral");
    assert_eq!(check["output"]["title"], "API check refused");
}

#[tokio::test]
async fn a_run_without_a_report_gets_no_check() {
    let Some(world) = World::new().await else {
        return;
    };
    let (other, _) = world
        .open_pr("quiet", "Quiet", &[("README.md", "# quiet\n")])
        .await;
    let id = world
        .github
        .with_world(|w| w.add_workflow_run(REPO, "ci", "quiet", &other, "pull_request", "success"));
    world.deliver(id, REPO).await;
    assert!(semver_checks(&world, &other).is_empty());
}
