//! The dashboard issue end to end: it shows what upkeep sees, a ticked box acts and is unticked,
//! closing and reopening turn it off and on, and markers in issues a stranger wrote or ticks by
//! readers change nothing.

mod commands_world;
mod common;

use commands_world::*;
use common::repo_world::REPO;
use serde_json::json;

#[tokio::test]
async fn the_dashboard_shows_what_upkeep_sees_and_a_ticked_box_acts_and_unticks() {
    // One PR at a time: the breaking bump waits for room.
    let Some(world) = World::new("open-pull-requests-limit = 2\n").await else {
        return;
    };
    // The first pass ran without a dashboard; the server's passes keep one.
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    world.say(pr, "maintainer", "@upkeep update").await;
    let issue = dashboard(&world).expect("a dashboard");
    assert_eq!(issue["title"], "Upkeep dashboard");
    let body = issue["body"].as_str().unwrap().to_owned();
    assert!(
        body.contains("- [ ] Create now: Bump demo-rand from 0.8.1 to 0.9.0"),
        "{body}"
    );
    assert!(body.contains(&format!("- [ ] Rebase #{pr} ")), "{body}");
    assert!(body.contains("## Advisories"), "{body}");

    // A person ticks "Create now": the PR is opened and the box is gone.
    let number = issue["number"].as_i64().unwrap();
    let ticked = body.replace("- [ ] Create now", "- [x] Create now");
    world.github.with_world(|w| {
        let i = w
            .repositories
            .get_mut(REPO)
            .unwrap()
            .issue_mut(number)
            .unwrap();
        i["body"] = json!(ticked);
    });
    world
        .issue_event("edited", number, "upkeep[bot]", &ticked, "maintainer")
        .await;
    let bump = world.pr("upkeep/cargo/demo-rand");
    assert_eq!(bump["state"], "open");
    let body = dashboard(&world).unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!body.contains("[x]"), "unticked: {body}");
    assert!(
        body.contains(&format!("- [ ] Rebase #{} ", bump["number"])),
        "{body}"
    );

    // Closing the dashboard turns it off: the next pass leaves it closed and files no other.
    world.github.with_world(|w| {
        let i = w
            .repositories
            .get_mut(REPO)
            .unwrap()
            .issue_mut(number)
            .unwrap();
        i["state"] = json!("closed");
    });
    world
        .issue_event("closed", number, "upkeep[bot]", &body, "maintainer")
        .await;
    world.say(pr, "maintainer", "@upkeep update").await;
    let dashboards = world.github.with_world(|w| {
        w.repositories[REPO]
            .issues_containing("<!-- upkeep:dashboard -->")
            .len()
    });
    assert_eq!(dashboards, 1);
    assert_eq!(dashboard(&world).unwrap()["state"], "closed");

    // Reopened: on again, and brought up to date right away.
    let stale = "<!-- upkeep:dashboard -->\nold text\n";
    world.github.with_world(|w| {
        let i = w
            .repositories
            .get_mut(REPO)
            .unwrap()
            .issue_mut(number)
            .unwrap();
        i["state"] = json!("open");
        i["body"] = json!(stale);
    });
    world
        .issue_event("reopened", number, "upkeep[bot]", stale, "maintainer")
        .await;
    let body = dashboard(&world).unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("## Open pull requests"), "refreshed: {body}");
}

#[tokio::test]
async fn markers_in_issues_a_stranger_wrote_and_ticks_by_readers_change_nothing() {
    let Some(world) = World::new("open-pull-requests-limit = 2\n").await else {
        return;
    };
    let repo_id = world.github.with_world(|w| w.repositories[REPO].id);
    // A stranger's issue carrying the dashboard marker, closed: the dashboard stays on.
    let fake = world.github.with_world(|w| {
        let n = w.repositories[REPO].next_number();
        w.repositories.get_mut(REPO).unwrap().issues.push(json!({
            "number": n, "title": "Upkeep dashboard", "body": "<!-- upkeep:dashboard -->", "state": "closed",
            "user": {"login": "stranger", "id": 3, "type": "User"}, "labels": []
        }));
        n
    });
    world
        .issue_event(
            "closed",
            fake,
            "stranger",
            "<!-- upkeep:dashboard -->",
            "stranger",
        )
        .await;
    let repo = world.store.repository(repo_id).await.unwrap().unwrap();
    assert!(
        !repo.dashboard_off,
        "a stranger's issue cannot turn the dashboard off"
    );

    // The real dashboard, ticked by a reader: nothing is created.
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    world.say(pr, "maintainer", "@upkeep update").await;
    let issue = dashboard(&world).expect("a dashboard");
    let number = issue["number"].as_i64().unwrap();
    let ticked = issue["body"]
        .as_str()
        .unwrap()
        .replace("- [ ] Create now", "- [x] Create now");
    world
        .issue_event("edited", number, "upkeep[bot]", &ticked, "visitor")
        .await;
    let open_bump = world.github.with_world(|w| {
        w.repositories[REPO]
            .pulls
            .iter()
            .any(|p| p["head"]["ref"] == "upkeep/cargo/demo-rand" && p["state"] == "open")
    });
    assert!(!open_bump, "a reader's tick creates nothing");
}

#[tokio::test]
async fn the_dashboard_reports_last_week_once_upkeep_knew_the_repository_all_week() {
    let Some(world) = World::new("").await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    // upkeep has known the repository for a month, and last week it merged one of its PRs
    // in 45 minutes and saw a regression.
    let (from, _) = upkeep::report::weekly::last_week(upkeep::time::now_ms());
    sqlx::query("UPDATE repositories SET created_at = $1")
        .bind(from - 30 * upkeep::time::DAY_MS)
        .execute(world.store.pool())
        .await
        .unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM repositories")
        .fetch_one(world.store.pool())
        .await
        .unwrap();
    for (key, kind, value) in [
        ("a", "pr_opened", None),
        ("b", "pr_merged", Some(2700.0)),
        ("c", "bench_regression", None),
    ] {
        world
            .store
            .record_repo_event(key, id, kind, from + 3_600_000, value)
            .await
            .unwrap();
    }
    world.say(pr, "maintainer", "@upkeep update").await;
    let body = dashboard(&world).expect("a dashboard")["body"]
        .as_str()
        .unwrap()
        .to_owned();
    for line in [
        "## Last week\n",
        "| upkeep pull requests opened | 1 |",
        "| merged | 1 (median time to merge: 45 min) |",
        "| benchmark regressions caught | 1 |",
        "| reverts | 0 |",
    ] {
        assert!(body.contains(line), "{line}: {body}");
    }
    assert!(
        body.find("## Last week") < body.find("<!-- upkeep:dashboard -->"),
        "{body}"
    );
}

#[tokio::test]
async fn the_dashboard_names_benchmarks_that_cannot_see_a_ten_percent_slowdown() {
    let Some(world) = World::new("").await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let id: i64 = sqlx::query_scalar("SELECT id FROM repositories")
        .fetch_one(world.store.pool())
        .await
        .unwrap();
    // Ten pushes to main with real results of upkeep's own benchmarks on this machine.
    for (i, set) in (1..=10)
        .map(|r| common::noise_corpus::run("bench-noise-steady", "upkeep", r))
        .enumerate()
    {
        let sha = format!("{i:040}");
        let key = upkeep::store::bench::ResultKey {
            repository_id: id,
            branch: "main",
            commit_sha: &sha,
            runner_class: "linux/x64/ubuntu-latest",
            run_id: i as i64,
        };
        world
            .store
            .put_bench_results(&key, &set, 1_000 * i as i64)
            .await
            .unwrap();
    }
    world.say(pr, "maintainer", "@upkeep update").await;
    let body = dashboard(&world).expect("a dashboard")["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("## Benchmarks with a blind spot\n"), "{body}");
    // SQLite under load strays by tens of percent between runs; an HMAC does not.
    assert!(
        body.contains("- `webhook/ingest_sqlite` on `linux/x64/ubuntu-latest`: can detect ≥ "),
        "{body}"
    );
    assert!(!body.contains("`webhook/verify_signature` on"), "{body}");
    assert!(
        body.contains("gungraun-bench-args"),
        "the fix is named: {body}"
    );
}
