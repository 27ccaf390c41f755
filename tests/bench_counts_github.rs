//! Instruction counts on the fake GitHub, end to end: the `upkeep-criterion` artifact of a
//! workflow run holds criterion's results and gungraun's summaries (real ones, from
//! tests/fixtures/bench-instructions), and upkeep reports one check-run table with both,
//! instruction counts first. A PR whose code does 2 % more work (a real extra pass over the
//! input) fails on its counts, re-run first to confirm, while its wall times — the same real
//! samples as the baseline's — say nothing; the same code counted again is no change.

mod common;

use common::bench_artifacts::artifact_with_counts;
use common::bench_world::World;
use common::repo_world::REPO;

/// A default-branch push's artifact: criterion run 1 with a little drift, and one of the six
/// A/A runs of the instruction-count corpus.
fn baseline_artifact(push: u32) -> Vec<u8> {
    artifact_with_counts(1, 1.0 + 0.002 * f64::from(push), &format!("same-{push}"))
}

const PLAN: &str = "`instructions::noisiest::plan_lockfile lockfile_300`";

#[tokio::test]
async fn a_pr_doing_two_percent_more_work_fails_on_its_counts_shown_first() {
    let Some(world) = World::new().await else {
        return;
    };
    world.baseline_with(baseline_artifact).await;
    let repo_id = world.github.with_world(|w| w.repositories[REPO].id);
    let counts = world
        .store
        .bench_count_history(repo_id, "main", "linux/x64/ubuntu-latest", "", 100)
        .await
        .unwrap();
    assert_eq!(counts.len(), 5, "every push's counts are kept");
    assert_eq!(
        counts[4].1.len(),
        4 * 5,
        "four benchmarks, five metrics each"
    );

    let (sha, pr) = world
        .open_pr(
            "extra-pass",
            "One more pass",
            &[("src/lib.rs", "// more\n")],
        )
        .await;
    let run = world
        .run(
            "pull_request",
            "extra-pass",
            &sha,
            REPO,
            artifact_with_counts(1, 1.0, "extra-1"),
        )
        .await;
    let check = world.check(&sha);
    assert_eq!(check["status"], "in_progress", "{check:#}");
    assert!(world.rerun_asked(run));
    world
        .rerun_ends(run, REPO, artifact_with_counts(1, 1.0, "extra-2"))
        .await;

    let check = world.check(&sha);
    assert_eq!(check["conclusion"], "failure", "{check:#}");
    let title = check["output"]["title"].as_str().unwrap();
    assert!(title.starts_with("4 of "), "{title}");
    let summary = check["output"]["summary"].as_str().unwrap();
    let counts_at = summary
        .find("### Instruction counts")
        .unwrap_or_else(|| panic!("{summary}"));
    let wall_at = summary
        .find("### Wall time")
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(counts_at < wall_at, "instruction counts first: {summary}");
    let (counted, timed) = summary.split_at(wall_at);
    let plan_row = counted
        .lines()
        .find(|l| l.starts_with(&format!("| {PLAN} |")))
        .unwrap_or_else(|| panic!("{counted}"));
    assert!(plan_row.contains("+1.99 %"), "{plan_row}");
    assert!(plan_row.ends_with("🔴 regressed |"), "{plan_row}");
    assert_eq!(counted.matches("🔴 regressed").count(), 4, "{counted}");
    assert!(
        timed.contains("| `plan/300-crate lockfile (discover + parse + plan)` |"),
        "wall times are in the same table: {timed}"
    );
    assert!(
        !timed.contains("🔴"),
        "the wall times did not move: {timed}"
    );

    let comments = world.bench_comments(pr);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].contains(PLAN), "{}", comments[0]);
    // A PR's counts never become the baseline.
    let after = world
        .store
        .bench_count_history(repo_id, "main", "linux/x64/ubuntu-latest", "", 100)
        .await
        .unwrap();
    assert_eq!(after.len(), 5);
}

#[tokio::test]
async fn the_same_code_counted_again_is_no_change() {
    let Some(world) = World::new().await else {
        return;
    };
    world.baseline_with(baseline_artifact).await;
    let (sha, pr) = world
        .open_pr("docs", "Docs only", &[("README.md", "more words\n")])
        .await;
    let run = world
        .run(
            "pull_request",
            "docs",
            &sha,
            REPO,
            artifact_with_counts(1, 1.0, "same-6"),
        )
        .await;
    let check = world.check(&sha);
    assert_eq!(check["conclusion"], "success", "{check:#}");
    assert!(!world.rerun_asked(run));
    let summary = check["output"]["summary"].as_str().unwrap();
    assert!(summary.contains(PLAN), "{summary}");
    assert!(!summary.contains("🔴"), "{summary}");
    assert!(world.bench_comments(pr).is_empty());
}
