//! `@upkeep ignore …` end to end: an ignore applies at once and round-trips through a
//! configuration PR; "this dependency" ignores every version, "this minor/patch version" just
//! that range.

mod commands_world;
mod common;

use commands_world::*;
use common::repo_world::{self, REPO};
use serde_json::json;

#[tokio::test]
async fn ignore_applies_at_once_and_round_trips_through_a_config_pr() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let branch = "upkeep/cargo/demo-rand";
    let pr = world.number(branch);
    world
        .say(pr, "maintainer", "@upkeep ignore this major version")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("Ignoring `demo-rand` `>=0.9.0, <0.10.0` from now on"),
        "{reply}"
    );
    assert_eq!(world.pr(branch)["state"], "closed");
    // The configuration PR: the file with the ignore added and the rest kept.
    let config_pr = world.pr("upkeep/config/ignores");
    assert!(
        reply.contains(&format!("#{}", config_pr["number"])),
        "{reply}"
    );
    let file = world.ignores_config().unwrap();
    assert!(file.starts_with(CONFIG), "{file}");
    assert!(
        file.contains(
            "[[ignore]]\ndependency-name = \"demo-rand\"\nversions = [\">=0.9.0, <0.10.0\"]"
        ),
        "{file}"
    );

    // Applied at once: a pass now does not propose demo-rand 0.9 again.
    world.say(pr, "maintainer", "@upkeep update").await;
    let bumps = world.github.with_world(|w| {
        w.repositories[REPO]
            .pulls
            .iter()
            .filter(|p| p["head"]["ref"] == branch && p["state"] == "open")
            .count()
    });
    assert_eq!(bumps, 0);
    world
        .say(pr, "maintainer", "@upkeep show ignore conditions")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("waiting for the `upkeep/config/ignores` pull request")
            && reply.contains("ignore `demo-rand`: `>=0.9.0, <0.10.0`"),
        "{reply}"
    );

    // The config PR merges: the file is the truth, nothing is pending.
    repo_world::push(
        &world.github,
        &[(".github/upkeep.toml", &file)],
        "merge the ignores",
    );
    let number = config_pr["number"].as_i64().unwrap();
    let d = world
        .github
        .deliver(
            &world.endpoint(),
            "pull_request",
            "closed.payload.json",
            7,
            Some(REPO),
            |p| {
                p["number"] = json!(number);
                p["pull_request"]["number"] = json!(number);
                p["pull_request"]["merged"] = json!(true);
                p["pull_request"]["head"]["ref"] = json!("upkeep/config/ignores");
                p["pull_request"]["user"] = config_pr["user"].clone();
            },
        )
        .await;
    assert_eq!(d.status, 202);
    world.settled().await;
    world
        .say(pr, "maintainer", "@upkeep show ignore conditions")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("In `.github/upkeep.toml`")
            && reply.contains("`demo-rand`: `>=0.9.0, <0.10.0`"),
        "{reply}"
    );
    assert!(!reply.contains("waiting for"), "{reply}");

    // And back: unignore opens a PR that takes it out again.
    world
        .say(pr, "maintainer", "@upkeep unignore demo-rand")
        .await;
    assert!(
        world
            .last_reply(pr)
            .contains("`demo-rand` is no longer ignored"),
        "{}",
        world.last_reply(pr)
    );
    let file = world.ignores_config().unwrap();
    assert!(!file.contains("demo-rand"), "{file}");
}

#[tokio::test]
async fn ignore_this_dependency_ignores_every_version() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    // On a PR that updates several dependencies it asks which one.
    let refresh = world.number("upkeep/cargo/lockfile-refresh");
    world
        .say(refresh, "maintainer", "@upkeep ignore this dependency")
        .await;
    assert!(
        world
            .last_reply(refresh)
            .contains("updates several dependencies"),
        "{}",
        world.last_reply(refresh)
    );
    let pr = world.number("upkeep/cargo/demo-yanked-yanked");
    world
        .say(pr, "maintainer", "@upkeep ignore this dependency")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("Ignoring `demo-yanked` (every version)"),
        "{reply}"
    );
    let file = world.ignores_config().unwrap();
    assert!(
        file.contains(
            "[[ignore]]\ndependency-name = \"demo-yanked\"\nreason = \"ignored by command\""
        ),
        "{file}"
    );
    // Lifting it again before the PR merges leaves nothing to write: the PR closes.
    world
        .say(pr, "maintainer", "@upkeep unignore demo-yanked major")
        .await;
    assert!(world
        .last_reply(pr)
        .contains("is not a version requirement"));
    world
        .say(pr, "maintainer", "@upkeep unignore demo-yanked")
        .await;
    let reply = world.last_reply(pr);
    assert!(reply.contains("is closed"), "{reply}");
    assert_eq!(world.pr("upkeep/config/ignores")["state"], "closed");
}

#[tokio::test]
async fn ignore_this_minor_or_patch_version_ignores_just_that_range() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let bump = world.number("upkeep/cargo/demo-rand");
    world
        .say(bump, "maintainer", "@upkeep ignore this minor version")
        .await;
    let reply = world.last_reply(bump);
    assert!(
        reply.contains("Ignoring `demo-rand` `>=0.9.0, <0.10.0` from now on"),
        "{reply}"
    );
    let yanked = world.number("upkeep/cargo/demo-yanked-yanked");
    world
        .say(yanked, "maintainer", "@upkeep ignore this patch version")
        .await;
    let reply = world.last_reply(yanked);
    assert!(
        reply.contains("Ignoring `demo-yanked` `=1.2.4` from now on"),
        "{reply}"
    );
    // Both land in the one configuration PR.
    let file = world.ignores_config().unwrap();
    assert!(file.contains("versions = [\">=0.9.0, <0.10.0\"]"), "{file}");
    assert!(file.contains("versions = [\"=1.2.4\"]"), "{file}");
}
