//! Exactly-once effects across crashes, for the two flows that create the most on GitHub: the
//! first daily pass (branches, dependency PRs, labels, the dashboard issue) and an auto-revert
//! (the revert branch and PR, the note to the author, the dashboard's decision lines).
//!
//! Each case kills the server (as SIGKILL would) while one of the flow's writes to GitHub is in
//! flight — once before GitHub applied it and once after GitHub applied it but before upkeep saw
//! the answer — then starts it again on the same database and lets it finish. A kill during a
//! read leaves GitHub as the write before it left it, which the case "after that write" covers,
//! so the matrix walks every write of a clean run. Whatever the crash point, GitHub ends with
//! exactly what a clean run leaves: one PR per branch, one dashboard, one revert, one note.

mod commands_world;
mod common;
mod revert_world;

use std::collections::BTreeMap;

use commands_world::{dashboards, prs_by_branch};
use common::repo_world::REPO;
use fake_github::FakeGitHub;

/// The positions (counted from `from`) of the writes among the calls made so far.
fn writes(github: &FakeGitHub, from: usize) -> Vec<usize> {
    github.calls()[from..]
        .iter()
        .enumerate()
        .filter(|(_, c)| c.method != "GET")
        .map(|(i, _)| i)
        .collect()
}

/// Waits for the stalled call, or for `done` when the flow finished before reaching it (a
/// background job can make the count of a clean run differ by a call or two).
async fn stalled_or_done(github: &FakeGitHub, done: impl Fn() -> bool) -> Option<String> {
    common::eventually(90, "the stalled call or the flow done", || {
        let s = github.stalled().map(Some);
        let finished = done().then_some(None);
        async move { s.or(finished) }
    })
    .await
}

/// Every issue and PR with the number of comments on it.
fn comments(github: &FakeGitHub) -> BTreeMap<i64, usize> {
    github.with_world(|w| {
        let mut by = BTreeMap::new();
        for c in &w.repositories[REPO].comments {
            let url = c["issue_url"].as_str().unwrap_or_default();
            let number = url
                .rsplit('/')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            *by.entry(number).or_default() += 1;
        }
        by
    })
}

/// One at a time: each starts and kills dozens of servers, and the two together on two cores
/// stretch the flows past their waits.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_write_of_the_first_daily_pass_leaves_one_pr_per_branch() {
    use commands_world::{World, CONFIG};
    let _alone = ONE_AT_A_TIME.lock().await;
    if common::shared_dir().is_none() {
        return;
    }
    // A clean first pass: what it leaves, and where its writes are.
    let clean = World::installing_killable(CONFIG, |_| ()).await.unwrap();
    clean.daily_done().await;
    let expected = prs_by_branch(&clean.github);
    assert!(expected.len() >= 2, "the pass opens PRs: {expected:?}");
    assert!(expected.values().all(|&(all, open)| all == 1 && open == 1));
    assert_eq!(dashboards(&clean.github), 1);
    let expected_comments = comments(&clean.github);
    let points = writes(&clean.github, 0);
    assert!(points.len() >= 6, "writes of a first pass: {points:?}");
    drop(clean);

    let mut crashed = 0;
    for &n in &points {
        for after_effect in [false, true] {
            let mut world = World::installing_killable(CONFIG, |g| g.stall(n, after_effect))
                .await
                .unwrap();
            let stalled = stalled_or_done(&world.github, || {
                prs_by_branch(&world.github).len() == expected.len()
                    && dashboards(&world.github) == 1
            })
            .await;
            let Some(stalled) = stalled else {
                continue;
            };
            crashed += 1;
            world.crash_and_restart().await;
            world.daily_done().await;
            let case = format!("killed at call {n} ({stalled}, applied: {after_effect})");
            assert_eq!(prs_by_branch(&world.github), expected, "{case}");
            assert_eq!(dashboards(&world.github), 1, "{case}");
            assert_eq!(comments(&world.github), expected_comments, "{case}");
            world.github.assert_conformant();
        }
    }
    eprintln!("{crashed} crashes at {} writes: {points:?}", points.len());
    assert!(crashed >= points.len(), "most cases crashed mid-flow");
}

/// A revert world up to the moment the re-run of a red run ends red again (the step that
/// reverts): the culprit's PR number, its merge commit, the run, and the dashboard issue.
async fn up_to_the_confirming_rerun(world: &revert_world::World) -> (i64, String, i64, i64) {
    let (pr, culprit) = world.merge("alice", "Faster parser", &[("src/app.rs", "broken\n")]);
    let dashboard = world.dashboard_issue("upkeep[bot]");
    let run = world.ci(&culprit, "failure").await;
    assert!(world.revert_prs().is_empty(), "a re-run comes first");
    (pr, culprit, run, dashboard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_write_of_a_revert_leaves_one_revert_and_one_note() {
    use revert_world::World;
    let _alone = ONE_AT_A_TIME.lock().await;
    if common::shared_dir().is_none() {
        return;
    }
    let clean = World::new_killable("").await.unwrap();
    let (_, _, run, _) = up_to_the_confirming_rerun(&clean).await;
    let from = clean.github.calls().len();
    clean.rerun_ends(run, "failure").await;
    assert_eq!(clean.revert_prs().len(), 1);
    let points = writes(&clean.github, from);
    assert!(points.len() >= 4, "writes of a revert: {points:?}");
    drop(clean);

    let mut crashed = 0;
    for &n in &points {
        for after_effect in [false, true] {
            let mut world = World::new_killable("").await.unwrap();
            let (pr, culprit, run, dashboard) = up_to_the_confirming_rerun(&world).await;
            world.github.stall(n, after_effect);
            world
                .github
                .with_world(|w| w.end_rerun(REPO, run, "failure"));
            let d = world
                .github
                .deliver_workflow_run(&world.endpoint(), 7, REPO, run, REPO)
                .await;
            assert_eq!(d.status, 202);
            let stalled = stalled_or_done(&world.github, || {
                world.comments_on(pr).len() == 1
                    && world.issue_body(dashboard).contains("**reverted**")
            })
            .await;
            let Some(stalled) = stalled else {
                continue;
            };
            crashed += 1;
            world.crash_and_restart().await;
            common::jobs_settled(&world.store).await;
            let case = format!("killed at call {n} ({stalled}, applied: {after_effect})");
            let prs = world.revert_prs();
            assert_eq!(prs.len(), 1, "{case}: {:?}", world.decisions().await);
            world.assert_tree_reverts(&prs[0], &culprit);
            assert_eq!(world.comments_on(pr).len(), 1, "{case}");
            let decisions = world.decisions().await;
            assert_eq!(
                decisions.iter().filter(|d| *d == "reverted").count(),
                1,
                "{case}: {decisions:?}"
            );
            let body = world.issue_body(dashboard);
            let line = format!("`{}` **reverted**: ", &culprit[..7]);
            assert_eq!(body.matches(&line).count(), 1, "{case}: {body}");
            world.github.assert_conformant();
        }
    }
    eprintln!("{crashed} crashes at {} writes: {points:?}", points.len());
    assert!(crashed >= points.len(), "most cases crashed mid-flow");
}
