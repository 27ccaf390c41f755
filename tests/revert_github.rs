//! Auto-revert on the fake GitHub, end to end: CI results arrive as `workflow_run` deliveries
//! (the test plays GitHub Actions, answering re-runs and dispatches), and the assertions are on
//! what upkeep did there — a revert PR, an issue, or nothing — and on the revert commit's tree,
//! which must equal the default branch with the culprit's change undone.

mod common;
mod revert_world;

use common::repo_world::REPO;
use fake_github::merge_routes::files_of;
use revert_world::{World, LIB};

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

#[tokio::test]
async fn merge_mode_waits_for_every_workflow_on_the_revert_before_merging() {
    let Some(world) = World::new("reruns = 0\nmode = \"merge\"").await else {
        return;
    };
    let (revert, branch, head) = world.reverted_merge().await;
    let number = revert["number"].as_i64().unwrap();
    // `ci` is green; `bench` was triggered by the same push and has no check run yet.
    let (ci, bench) = world.github.with_world(|w| {
        w.add_check_run(REPO, &head, "test", "success");
        let ci = w.add_workflow_run(REPO, "ci", &branch, &head, "pull_request", "success");
        let bench = w.add_workflow_run(REPO, "bench", &branch, &head, "pull_request", "success");
        w.set_workflow_run(REPO, bench, "queued", None);
        (ci, bench)
    });
    world.deliver_run(ci).await;
    assert!(!world.merged(number), "bench has not run yet");
    world
        .github
        .with_world(|w| w.set_workflow_run(REPO, bench, "completed", Some("success")));
    world.deliver_run(bench).await;
    assert!(world.merged(number), "{:?}", world.decisions().await);
    world.github.assert_conformant();
}

#[tokio::test]
async fn merge_mode_waits_for_a_commit_status_and_merges_when_it_succeeds() {
    let Some(world) = World::new("reruns = 0\nmode = \"merge\"").await else {
        return;
    };
    let (revert, branch, head) = world.reverted_merge().await;
    let number = revert["number"].as_i64().unwrap();
    let ci = world.github.with_world(|w| {
        w.add_check_run(REPO, &head, "test", "success");
        w.add_status(REPO, &head, "ci/jenkins", "pending");
        w.add_workflow_run(REPO, "ci", &branch, &head, "pull_request", "success")
    });
    world.deliver_run(ci).await;
    assert!(!world.merged(number), "Jenkins is still running");
    let jenkins = world
        .github
        .with_world(|w| w.add_status(REPO, &head, "ci/jenkins", "success"));
    let d = world
        .github
        .deliver_status(&world.endpoint(), 7, REPO, jenkins, &branch)
        .await;
    assert_eq!(d.status, 202);
    common::jobs_settled(&world.store).await;
    assert!(world.merged(number), "{:?}", world.decisions().await);
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
async fn a_revert_waits_while_another_replica_holds_the_repositorys_revert_lease() {
    let Some(world) = World::new("reruns = 0").await else {
        return;
    };
    let (_, culprit) = world.merge("ann", "A", &[("src/app.rs", "broken\n")]);
    // Another replica sharing the database is reverting in this repository for two seconds.
    let repository = world.github.with_world(|w| w.repositories[REPO].id);
    let until = upkeep::time::now_ms() + 2_000;
    let lease = format!("revert:{repository}");
    assert!(world
        .store
        .take_lease(&lease, "another-replica", upkeep::time::now_ms(), until)
        .await
        .unwrap());
    world.ci(&culprit, "failure").await;
    assert_eq!(
        world.revert_prs().len(),
        1,
        "reverted once the lease ran out"
    );
    let decisions = world
        .store
        .revert_decisions_for(repository, &culprit)
        .await
        .unwrap();
    let reverted = decisions.iter().find(|d| d.decision == "reverted").unwrap();
    assert!(
        reverted.created_at >= until,
        "not before the other replica's lease ran out: {} < {until}",
        reverted.created_at
    );
    // And given back: the next revert in this repository need not wait.
    assert!(world
        .store
        .take_lease(
            &lease,
            "another-replica",
            upkeep::time::now_ms(),
            until + 60_000
        )
        .await
        .unwrap());
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
