//! Talking to upkeep through PR comments, end to end: real `issue_comment` deliveries to a
//! running server, upkeep's PRs opened by a first pass on the fake GitHub, and assertions on
//! what upkeep did there — replies, reactions, PR state, rebuilt branches, jobs re-run.

mod commands_world;
mod common;

use commands_world::*;
use common::repo_world::{self, REPO};
use serde_json::json;

#[tokio::test]
async fn help_answers_and_a_typo_gets_a_did_you_mean() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let id = world.say(pr, "visitor", "@upkeep help").await;
    assert!(
        world.last_reply(pr).contains("Commands for `@upkeep`"),
        "{}",
        world.last_reply(pr)
    );
    assert_eq!(
        world.reactions(id),
        ["eyes", "+1"],
        "anyone may ask for help"
    );

    let id = world.say(pr, "maintainer", "@upkeep rebsae").await;
    let reply = world.last_reply(pr);
    assert!(reply.contains("Did you mean `@upkeep rebase`?"), "{reply}");
    assert!(
        reply.contains("Commands for `@upkeep`"),
        "the help follows: {reply}"
    );
    assert_eq!(world.reactions(id), ["eyes", "confused"]);
}

#[tokio::test]
async fn a_read_only_user_is_refused_politely_and_nothing_changes() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let id = world.say(pr, "visitor", "@upkeep close").await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("Sorry @visitor")
            && reply.contains("needs write, maintain or admin permission")
            && reply.contains("you have `read`"),
        "{reply}"
    );
    assert_eq!(world.reactions(id), ["eyes", "confused"]);
    assert_eq!(world.pr("upkeep/cargo/lockfile-refresh")["state"], "open");
    // Someone who is not a collaborator at all is refused too.
    world.say(pr, "stranger", "@upkeep merge").await;
    assert!(
        world.last_reply(pr).contains("you have `none`"),
        "{}",
        world.last_reply(pr)
    );
}

#[tokio::test]
async fn bots_are_never_listened_to() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let before = world.replies(pr).len();
    let id = world.say(pr, "other[bot]", "@upkeep close").await;
    assert_eq!(world.replies(pr).len(), before);
    assert!(world.reactions(id).is_empty());
    assert_eq!(world.pr("upkeep/cargo/lockfile-refresh")["state"], "open");
}

#[tokio::test]
async fn close_and_reopen_and_merge_and_cancel_merge_act_on_the_pr() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let branch = "upkeep/cargo/demo-rand";
    let pr = world.number(branch);
    world.say(pr, "maintainer", "@upkeep close").await;
    assert_eq!(world.pr(branch)["state"], "closed");
    assert!(
        world.last_reply(pr).contains("Closed"),
        "{}",
        world.last_reply(pr)
    );
    world.say(pr, "maintainer", "@upkeep reopen").await;
    assert_eq!(world.pr(branch)["state"], "open");

    // Merge once green: nothing has run yet, so it waits, with the wish in the marker.
    world.say(pr, "maintainer", "@upkeep merge").await;
    assert!(
        world.last_reply(pr).contains("once every check is green"),
        "{}",
        world.last_reply(pr)
    );
    assert!(world.pr(branch)["body"]
        .as_str()
        .unwrap()
        .contains("automerge=yes"));
    world.say(pr, "maintainer", "@upkeep cancel merge").await;
    assert!(world.pr(branch)["body"]
        .as_str()
        .unwrap()
        .contains("automerge=no"));
    assert!(world.last_reply(pr).contains("will not merge itself"));

    // With every check green, `merge` merges at once.
    let sha = world.pr(branch)["head"]["sha"].as_str().unwrap().to_owned();
    world.github.with_world(|w| {
        w.add_check_run(REPO, &sha, "ci", "success");
    });
    world.say(pr, "maintainer", "@upkeep merge").await;
    assert!(
        world.last_reply(pr).contains("merged"),
        "{}",
        world.last_reply(pr)
    );
    assert_eq!(world.pr(branch)["merged"], true);
}

#[tokio::test]
async fn rebase_and_recreate_rebuild_the_pr_on_the_default_branch() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let branch = "upkeep/cargo/lockfile-refresh";
    let pr = world.number(branch);
    let before = world.pr(branch)["head"]["sha"].as_str().unwrap().to_owned();
    repo_world::push(
        &world.github,
        &[("NOTES.md", "moved on\n")],
        "unrelated work",
    );
    let main = world
        .github
        .with_world(|w| w.repositories[REPO].head().unwrap().clone());
    world.say(pr, "maintainer", "@upkeep rebase").await;
    assert!(
        world
            .last_reply(pr)
            .contains("Rebuilt on the default branch"),
        "{}",
        world.last_reply(pr)
    );
    let after = world.pr(branch)["head"]["sha"].as_str().unwrap().to_owned();
    assert_ne!(before, after);
    assert!(world.pr(branch)["body"]
        .as_str()
        .unwrap()
        .contains(&format!("base={main}")));
    world.say(pr, "maintainer", "@upkeep recreate").await;
    assert!(
        world.last_reply(pr).contains("Rebuilt"),
        "{}",
        world.last_reply(pr)
    );
    // rebase is for upkeep's PRs only.
    let issue = world.github.with_world(|w| {
        let n = w.repositories[REPO].next_number();
        w.repositories.get_mut(REPO).unwrap().issues.push(json!({
            "number": n, "title": "a question", "body": "", "state": "open",
            "user": {"login": "visitor", "id": 3, "type": "User"}, "labels": []
        }));
        n
    });
    world.say(issue, "maintainer", "@upkeep rebase").await;
    assert!(
        world
            .last_reply(issue)
            .contains("upkeep's own pull requests"),
        "{}",
        world.last_reply(issue)
    );
}

#[tokio::test]
async fn update_audit_retry_bench_and_revert_answer_from_anywhere() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let deps_before = world.jobs_done("deps").await;
    world.say(pr, "maintainer", "@upkeep update").await;
    assert!(world.last_reply(pr).contains("dependency pass is queued"));
    assert_eq!(world.jobs_done("deps").await, deps_before + 1);
    world.say(pr, "maintainer", "@upkeep audit").await;
    assert!(world.last_reply(pr).contains("audit is queued"));
    assert!(world.jobs_done("audit").await >= 1);
    world.say(pr, "maintainer", "@upkeep retry").await;
    assert!(
        world.last_reply(pr).contains("Nothing failed recently"),
        "{}",
        world.last_reply(pr)
    );
    let id = world
        .say(pr, "maintainer", "@upkeep bench\n@upkeep revert")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains(
            "No successful run on this pull request's head has `upkeep-criterion` results"
        ),
        "{reply}"
    );
    assert!(
        reply.contains("`revert` reverts a merged pull request; this one is not merged."),
        "{reply}"
    );
    assert_eq!(world.reactions(id), ["eyes", "confused"]);
}

#[tokio::test]
async fn editing_a_comment_never_runs_a_command_twice() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let id = world.say(pr, "maintainer", "@upkeep audit").await;
    let replies = world.replies(pr).len();
    let audits = world.jobs_done("audit").await;
    world
        .edit(pr, id, "maintainer", "Please:\n@upkeep audit")
        .await;
    assert_eq!(world.replies(pr).len(), replies, "nothing new ran");
    assert_eq!(world.jobs_done("audit").await, audits);
    // A command added by the edit runs; the old one does not.
    world
        .edit(pr, id, "maintainer", "Please:\n@upkeep audit\n@upkeep help")
        .await;
    assert_eq!(world.replies(pr).len(), replies + 1);
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("Commands for") && !reply.contains("audit is queued"),
        "{reply}"
    );
    assert_eq!(world.jobs_done("audit").await, audits);
}

#[tokio::test]
async fn retry_runs_the_last_failed_job_again() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    // GitHub refuses once: the audit job dies.
    world.github.fault(
        "repos/get",
        fake_github::Fault::refusal(403, "Resource not accessible by integration"),
    );
    world.allow_dead.set(true);
    world.say(pr, "maintainer", "@upkeep audit").await;
    let dead = world.store.list_jobs(&["dead"], 10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:#?}");
    world.allow_dead.set(false);
    world.say(pr, "maintainer", "@upkeep retry").await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains(&format!("Running the `{}` job again", dead[0].kind))
            && reply.contains("Resource not accessible by integration"),
        "{reply}"
    );
    // settled() found no dead job: it ran and succeeded.
    let again = world
        .store
        .job_by_key(&dead[0].dedupe_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.state, "done");
}
