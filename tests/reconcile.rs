//! Reconciling after downtime: when upkeep was away longer than GitHub keeps its delivery log,
//! or a repository admin says `@upkeep sync`, upkeep reads the world from GitHub again: its
//! open PRs whose CI finished unheard get their decision, the default branch's latest CI goes
//! through auto-revert, and renames, transfers and a new default branch update what it stores.
//! `repository` events keep the stored name and default branch true as they happen.

mod commands_world;
mod common;
mod revert_world;

use common::repo_world::REPO;
use serde_json::json;
use upkeep::heal::sweep;
use upkeep::time::{now_ms, DAY_MS};

/// The dependency PR the fixture's pass opens that `automerge = ["patch"]` covers.
const PATCH_PR: &str = "upkeep/cargo/demo-yanked-yanked";

/// Stops the server, lets `away` change GitHub while nobody listens, makes the delivery log's
/// mark four days old (longer than GitHub keeps deliveries) and starts the server again.
async fn away_longer_than_the_log(
    world: &mut commands_world::World,
    away: impl FnOnce(&commands_world::World),
) {
    // The day's pass ran first (the scheduler queues it once the installation is known), so
    // nothing is half done when upkeep goes away.
    world.daily_done().await;
    world.server.go_down(&world.store).await;
    away(world);
    world
        .store
        .set_mark(sweep::MARK, now_ms() - 4 * DAY_MS)
        .await
        .unwrap();
    world.server.come_back(&world.settings).await;
}

#[tokio::test]
async fn a_green_update_pr_whose_ci_finished_while_upkeep_was_away_for_days_is_merged() {
    let Some(mut world) = commands_world::World::new_killable("automerge = [\"patch\"]\n").await
    else {
        return;
    };
    let number = world.number(PATCH_PR);
    let sha = world.pr(PATCH_PR)["head"]["sha"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        world.github.pull_request(REPO, number).unwrap()["merged"],
        false
    );

    away_longer_than_the_log(&mut world, |w| {
        // CI goes green on the PR; its webhooks are gone with the log that held them.
        w.github.with_world(|g| {
            g.add_check_run(REPO, &sha, "test", "success");
            g.add_workflow_run(REPO, "ci", PATCH_PR, &sha, "pull_request", "success");
        });
    })
    .await;

    common::eventually(60, "the green PR merged by reconciling", || async {
        (world.github.pull_request(REPO, number).unwrap()["merged"] == true).then_some(())
    })
    .await;
    world.settled().await;
    assert_eq!(
        world.jobs_done(upkeep::heal::resync::APP_JOB).await,
        1,
        "one reconcile after the gap"
    );
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_rename_a_new_default_branch_and_a_granted_repository_are_picked_up_after_days_away() {
    let Some(mut world) = commands_world::World::new_killable(commands_world::CONFIG).await else {
        return;
    };
    let id = world.github.with_world(|w| w.repositories[REPO].id);
    assert_eq!(
        world.store.repository(id).await.unwrap().unwrap().full_name,
        REPO
    );
    away_longer_than_the_log(&mut world, |w| {
        w.github.with_world(|g| {
            g.rename_repository(REPO, "o/renamed");
            let r = g.repositories.get_mut("o/renamed").unwrap();
            let head = r.refs["heads/main"].clone();
            r.refs.insert("heads/trunk".into(), head);
            r.default_branch = "trunk".into();
            g.add_repository(7, "o/granted-while-away");
            let (objects, refs) = {
                let r = &g.repositories["o/renamed"];
                (r.objects.clone(), r.refs.clone())
            };
            let added = g.repositories.get_mut("o/granted-while-away").unwrap();
            added.objects = objects;
            added.refs = refs;
        });
    })
    .await;

    let granted = world
        .github
        .with_world(|w| w.repositories["o/granted-while-away"].id);
    common::eventually(60, "the rename and the new repository recorded", || async {
        let renamed = world.store.repository(id).await.unwrap()?;
        let added = world.store.repository(granted).await.unwrap()?;
        (renamed.full_name == "o/renamed").then_some(added)
    })
    .await;
    world.settled().await;
    let ids: Vec<i64> = world
        .store
        .granted_repositories(7)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, name, branch)| {
            if name == "o/renamed" {
                assert_eq!(branch.as_deref(), Some("trunk"));
            }
            id
        })
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    world.github.assert_conformant();
}

#[tokio::test]
async fn repository_events_keep_the_stored_name_and_default_branch_true() {
    let Some(world) = commands_world::World::new(commands_world::CONFIG).await else {
        return;
    };
    let id = world.github.with_world(|w| w.repositories[REPO].id);
    // GitHub renames it and moves its default branch, then tells upkeep. (The API must say so
    // too: a daily pass on the new name would otherwise meet a 404 and reconcile the old name
    // back from the API, as CI saw once a day's slot came due mid-test.)
    world.github.with_world(|w| {
        w.rename_repository(REPO, "o/new-name");
        let r = w.repositories.get_mut("o/new-name").unwrap();
        let head = r.refs["heads/main"].clone();
        r.refs.insert("heads/trunk".into(), head);
        r.default_branch = "trunk".into();
    });
    let d = world
        .github
        .deliver(
            &world.endpoint(),
            "repository",
            "renamed.payload.json",
            7,
            Some(REPO),
            |p| {
                p["repository"]["id"] = json!(id);
                p["repository"]["full_name"] = json!("o/new-name");
                p["repository"]["name"] = json!("new-name");
            },
        )
        .await;
    assert_eq!(d.status, 202);
    let d = world
        .github
        .deliver(
            &world.endpoint(),
            "repository",
            "edited.with-default_branch-edit.payload.json",
            7,
            Some(REPO),
            |p| {
                p["repository"]["id"] = json!(id);
                p["repository"]["full_name"] = json!("o/new-name");
                p["repository"]["default_branch"] = json!("trunk");
            },
        )
        .await;
    assert_eq!(d.status, 202);
    world.settled().await;
    let stored = world.store.granted_repositories(7).await.unwrap();
    assert_eq!(
        stored,
        vec![(id, "o/new-name".to_owned(), Some("trunk".to_owned()))]
    );
}

#[tokio::test]
async fn sync_from_an_admin_passes_a_red_default_branch_run_nobody_heard_through_auto_revert() {
    let Some(world) = revert_world::World::new("reruns = 0").await else {
        return;
    };
    world.github.with_world(|w| {
        w.repositories
            .get_mut(REPO)
            .unwrap()
            .permissions
            .insert("boss".into(), "admin".into());
    });
    let (pr, sha) = world.merge("ann", "Breaks it", &[("src/app.rs", "broken\n")]);
    // CI goes red on the merge; the webhook never arrives.
    world.github.with_world(|w| {
        w.add_check_run(REPO, &sha, "test", "failure");
        w.add_workflow_run(REPO, "ci", "main", &sha, "push", "failure");
    });
    assert!(world.revert_prs().is_empty());

    // A maintainer may not ask for it: a sync walks the whole repository.
    world.say(pr, "maintainer", "@upkeep sync").await;
    assert!(
        world
            .comments_on(pr)
            .last()
            .unwrap()
            .contains("needs admin permission"),
        "{:?}",
        world.comments_on(pr)
    );
    assert!(world.revert_prs().is_empty());

    world.say(pr, "boss", "@upkeep sync").await;
    let reply = world.comments_on(pr).last().unwrap().clone();
    assert!(reply.contains("Looked at GitHub again"), "{reply}");
    assert!(reply.contains("on `main`"), "{reply}");
    let reverts = world.revert_prs();
    assert_eq!(reverts.len(), 1, "the culprit is reverted once");
    world.assert_tree_reverts(&reverts[0], &sha);

    // Asking again finds the red commit handled: no second revert.
    world.say(pr, "boss", "@upkeep sync").await;
    assert_eq!(world.revert_prs().len(), 1);
    world.github.assert_conformant();
}
