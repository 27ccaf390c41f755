//! Interleaved runs on the fake GitHub: a pull request's bench run made with `interleave: 5`
//! uploads each round's base and head results (real consecutive runs of upkeep's own
//! benchmarks on this machine), and upkeep judges them on the rounds' pairing, with no baseline
//! from the default branch needed: a head 10 % slower fails (re-run first to confirm), each row
//! with the limit its own rounds give; the same code interleaved passes.

mod common;

use common::bench_artifacts::interleaved_artifact;
use common::bench_world::World;
use common::repo_world::REPO;

#[tokio::test]
async fn a_ten_percent_slower_head_fails_on_its_rounds_without_a_baseline() {
    let Some(world) = World::new().await else {
        return;
    };
    let (sha, pr) = world
        .open_pr(
            "slower",
            "Ten percent slower",
            &[("src/lib.rs", "// slower\n")],
        )
        .await;
    let zip = || interleaved_artifact("bench-noise-steady", 1, 5, 1.10);
    let run = world.run("pull_request", "slower", &sha, REPO, zip()).await;
    let check = world.check(&sha);
    assert_eq!(check["status"], "in_progress", "{check:#}");
    assert!(world.rerun_asked(run));
    world.rerun_ends(run, REPO, zip()).await;

    let check = world.check(&sha);
    assert_eq!(check["conclusion"], "failure", "{check:#}");
    let summary = check["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("built and run in the same job: 5 rounds, base and head taking turns"),
        "{summary}"
    );
    let row = summary
        .lines()
        .find(|l| l.starts_with("| `webhook/verify_signature` |"))
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(row.contains("| +10.0 % |"), "{row}");
    assert!(row.contains("🔴 regressed"), "{row}");
    let limit: f64 = row
        .split("| ≥ ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a limit in {row}"));
    assert!(
        limit <= 10.0,
        "a steady benchmark's rounds can see 10 %: {row}"
    );
    assert_eq!(world.bench_comments(pr).len(), 1);
    assert_eq!(
        world.baseline_commits().await,
        0,
        "a PR never makes the baseline"
    );
}

#[tokio::test]
async fn the_same_code_interleaved_passes() {
    let Some(world) = World::new().await else {
        return;
    };
    let (sha, pr) = world
        .open_pr("docs", "Docs only", &[("README.md", "words\n")])
        .await;
    let run = world
        .run(
            "pull_request",
            "docs",
            &sha,
            REPO,
            interleaved_artifact("bench-noise-short", 3, 5, 1.0),
        )
        .await;
    let check = world.check(&sha);
    assert_eq!(check["conclusion"], "success", "{check:#}");
    assert!(!world.rerun_asked(run));
    assert!(world.bench_comments(pr).is_empty());
}
