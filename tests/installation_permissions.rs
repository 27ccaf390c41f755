//! An installation that has not accepted a permission the App asks for: the features that
//! need it pause for that installation only (no request GitHub would refuse with a 403, no
//! retries), its dashboard says so with the page to accept on, and an `installation`
//! `new_permissions_accepted` delivery resumes them at once. On the fake GitHub, which refuses
//! what an installation has not accepted as GitHub does.

mod commands_world;
mod common;

use commands_world::{dashboard, World};
use common::bench_artifacts::artifact_from_run;
use common::repo_world::REPO;

const INSTALLATION: i64 = 7;

fn set_actions(world: &World, level: &str) {
    world.github.with_world(|w| {
        w.installations
            .get_mut(&INSTALLATION)
            .unwrap()
            .permissions
            .insert("actions".into(), level.into());
    });
}

/// A completed benchmark run on main with results, delivered; its id.
async fn bench_run_delivered(world: &World) -> i64 {
    let head = world
        .github
        .with_world(|w| w.repositories[REPO].head().unwrap().clone());
    let id = world.github.with_world(|w| {
        let id = w.add_workflow_run(REPO, "bench", "main", &head, "push", "success");
        w.add_artifact(REPO, id, "upkeep-criterion", artifact_from_run(1, 1.0));
        id
    });
    redeliver(world, id).await;
    id
}

async fn redeliver(world: &World, id: i64) {
    let d = world
        .github
        .deliver_workflow_run(&world.endpoint(), INSTALLATION, REPO, id, REPO)
        .await;
    assert_eq!(d.status, 202);
    world.settled().await;
}

fn refused(world: &World) -> Vec<String> {
    world
        .github
        .calls()
        .iter()
        .filter(|c| c.status == 403)
        .map(|c| format!("{} {}", c.method, c.path))
        .collect()
}

#[tokio::test]
async fn benchmarks_wait_for_actions_write_and_resume_when_it_is_accepted() {
    // The App asks for actions: write; this installation still has actions: read.
    let Some(world) = World::installing_killable(commands_world::CONFIG, |github| {
        github.with_world(|w| {
            w.installations
                .get_mut(&INSTALLATION)
                .unwrap()
                .permissions
                .insert("actions".into(), "read".into());
        })
    })
    .await
    else {
        return;
    };
    world.daily_done().await;

    // Dependency updates go on (they need nothing new); the dashboard explains the pause.
    assert!(world.number("upkeep/cargo/lockfile-refresh") > 0);
    let body = dashboard(&world).unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("## Paused"), "{body}");
    assert!(body.contains("(actions: write)"), "{body}");
    assert!(body.contains("benchmarks, auto-revert"), "{body}");
    assert!(
        body.contains(&format!("/settings/installations/{INSTALLATION}")),
        "{body}"
    );

    // A benchmark run completes: upkeep does not ask for what GitHub would refuse.
    bench_run_delivered(&world).await;
    assert_eq!(
        world.github.calls_to("actions/list-workflow-run-artifacts"),
        0
    );
    assert_eq!(refused(&world), Vec::<String>::new());

    // An owner accepts: at once, the run that was skipped is caught up (the reconcile the
    // acceptance queues) and its verdict reported.
    set_actions(&world, "write");
    let d = world
        .github
        .deliver(
            &world.endpoint(),
            "installation",
            "new_permissions_accepted.payload.json",
            INSTALLATION,
            None,
            |_| (),
        )
        .await;
    assert_eq!(d.status, 202);
    world.settled().await;
    assert!(world.github.calls_to("actions/list-workflow-run-artifacts") >= 1);
    let checks = world.github.with_world(|w| {
        w.repositories[REPO]
            .check_runs
            .iter()
            .filter(|c| c["name"] == "upkeep/bench")
            .count()
    });
    assert_eq!(checks, 1, "the resumed run's verdict is reported");
    assert_eq!(refused(&world), Vec::<String>::new());
    world.github.assert_conformant();
}
