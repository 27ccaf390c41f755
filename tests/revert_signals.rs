//! Auto-revert from its other signals, on the fake GitHub: a benchmark regression on the default
//! branch (confirmed by re-running the benchmark run, reverted with the table; a spike the
//! re-run does not repeat is not), `@upkeep revert` from a writer, and CI outside GitHub
//! Actions (a check suite confirmed by re-requesting it; several suspects go to a person).

mod common;
mod revert_world;

use common::repo_world::REPO;
use revert_world::{World, LIB};

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
            .issues_containing("upkeep:bench-regression")
            .len()
    });
    assert_eq!(issues, 0, "no issue either");
    assert_eq!(world.decisions().await, ["rerun", "flake"]);
    world.github.assert_conformant();
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
