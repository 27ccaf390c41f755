//! Comment commands as a stranger, a flood or a crash would test them, end to end on the fake
//! GitHub: comments at GitHub's size cap, a signed comment far over it, one person asking too
//! often, and the server killed at every GitHub call of a command — each command answered
//! exactly once, whatever happened.

mod commands_world;
mod common;

use std::time::Duration;

use commands_world::*;

/// A comment of `line` repeated up to GitHub's cap of 65,536 characters.
fn flood(line: &str) -> String {
    line.repeat(65_536 / line.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_at_githubs_cap_gets_one_short_answer_per_comment_while_others_are_answered() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    // /readyz is asked all along and must stay healthy.
    let probe = {
        let http = world.server.http.clone();
        let url = world.server.url("/readyz");
        tokio::spawn(async move {
            let mut bad = Vec::new();
            for _ in 0..200 {
                let status = match http.get(&url).timeout(Duration::from_secs(2)).send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                if status != 200 {
                    bad.push(status);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            bad
        })
    };
    let mut flood_ids = Vec::new();
    let mut ids = Vec::new();
    let mut sends = Vec::new();
    for i in 0..58 {
        let (id, payload) = if i % 7 == 0 && flood_ids.len() < 8 {
            let d = world.comment_delivery(pr, "stranger", &flood("@upkeep help\n"));
            flood_ids.push(d.0);
            d
        } else {
            let d = world.comment_delivery(pr, &format!("person{i}"), "@upkeep help");
            ids.push(d.0);
            d
        };
        let _ = id;
        let endpoint = world.endpoint();
        sends.push(tokio::spawn(async move {
            fake_github::webhooks::send(&endpoint, "issue_comment", payload)
                .await
                .status
        }));
    }
    for s in sends {
        assert_eq!(s.await.unwrap(), 202);
    }
    assert_eq!((flood_ids.len(), ids.len()), (8, 50));
    world.settled().await;
    let bad = probe.await.unwrap();
    assert!(bad.is_empty(), "/readyz was not healthy: {bad:?}");

    let replies_to = |id: i64| -> Vec<String> {
        world
            .replies(pr)
            .into_iter()
            .filter(|r| r.contains(&format!("<!-- upkeep:reply {id}/")))
            .collect()
    };
    for id in &ids {
        assert_eq!(
            replies_to(*id).len(),
            1,
            "comment {id} was not answered once"
        );
        assert_eq!(world.reactions(*id), ["eyes", "+1"]);
    }
    let mut answered_floods = 0;
    for id in &flood_ids {
        let replies = replies_to(*id);
        assert!(
            replies.len() <= 1,
            "a flood comment got {} replies",
            replies.len()
        );
        for r in &replies {
            assert!(
                r.len() < 4096,
                "a flood got a long reply: {} bytes",
                r.len()
            );
        }
        answered_floods += replies.len();
    }
    // 20 commands per person per ten minutes, 5 per comment: four floods are answered, then
    // one polite line says the rest waits (not addressed to a command, so not in replies()).
    assert_eq!(answered_floods, 4);
    let told: Vec<String> = world.github.with_world(|w| {
        w.repositories[common::repo_world::REPO]
            .comments_on(pr)
            .into_iter()
            .filter_map(|c| c["body"].as_str().map(str::to_owned))
            .filter(|b| b.contains("@stranger you have run 20 commands"))
            .collect()
    });
    assert_eq!(told.len(), 1, "{told:?}");
    let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM command_runs")
        .fetch_one(world.store.pool())
        .await
        .unwrap();
    assert!(
        runs <= 50 + 8 * 5,
        "{runs} command rows: a flood is not recorded line by line"
    );
}

#[tokio::test]
async fn a_signed_comment_over_githubs_cap_is_not_read_and_the_server_keeps_answering() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let huge = "@upkeep help\n".repeat(1024 * 1024 / 13);
    let id = world.say_without_waiting(pr, "maintainer", &huge).await;
    let after = world.say(pr, "maintainer", "@upkeep help").await;
    world.settled().await;
    assert_eq!(world.reactions(after), ["eyes", "+1"]);
    assert!(
        world.reactions(id).is_empty(),
        "the oversized comment was read"
    );
    assert_eq!(world.replies(pr).len(), 1);
}

#[tokio::test]
async fn one_person_asking_too_often_is_told_once_and_then_left_alone() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let mut ids = Vec::new();
    for _ in 0..23 {
        ids.push(world.say(pr, "visitor", "@upkeep help").await);
    }
    for id in &ids[..20] {
        assert_eq!(world.reactions(*id), ["eyes", "+1"]);
    }
    for id in &ids[20..] {
        assert!(
            world.reactions(*id).is_empty(),
            "over the limit, yet acted on"
        );
    }
    let notes = world.github.with_world(|w| {
        w.repositories[common::repo_world::REPO]
            .comments_on(pr)
            .into_iter()
            .filter(|c| {
                c["body"]
                    .as_str()
                    .is_some_and(|b| b.starts_with("@visitor you have run 20 commands"))
            })
            .count()
    });
    assert_eq!(notes, 1, "one polite line per window");
    // Someone else is not held back by it.
    let other = world.say(pr, "maintainer", "@upkeep help").await;
    assert_eq!(world.reactions(other), ["eyes", "+1"]);
}

/// The GitHub calls a command makes when nothing goes wrong.
async fn calls_of_a_clean_close() -> usize {
    let world = World::new(CONFIG).await.unwrap();
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let before = world.github.calls().len();
    world.say(pr, "maintainer", "@upkeep close").await;
    world.github.calls().len() - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_github_call_of_a_command_answers_it_exactly_once() {
    if common::shared_dir().is_none() {
        return;
    }
    let calls = calls_of_a_clean_close().await;
    assert!(calls >= 5, "a close makes {calls} calls");
    'calls: for n in 0..calls {
        for after_effect in [false, true] {
            let mut world = World::new_killable(CONFIG).await.unwrap();
            let pr = world.number("upkeep/cargo/lockfile-refresh");
            world.github.stall(n, after_effect);
            let id = world
                .say_without_waiting(pr, "maintainer", "@upkeep close")
                .await;
            // The stalled call, or the command done without reaching call n (the clean run
            // may have counted a background job's calls too): then there is nothing to kill.
            let stalled = common::eventually(60, "the stalled call or the command done", || {
                let s = world.github.stalled().map(Some);
                let done = world.reactions(id).contains(&"+1".to_owned());
                async move { s.or(done.then_some(None)) }
            })
            .await;
            let Some(stalled) = stalled else {
                world.settled().await;
                assert_eq!(world.replies(pr).len(), 1);
                break 'calls;
            };
            world.crash_and_restart().await;
            world.settled().await;
            let case = format!("killed at call {n} ({stalled}, applied: {after_effect})");
            let replies: Vec<String> = world
                .replies(pr)
                .into_iter()
                .filter(|r| r.contains(&format!("<!-- upkeep:reply {id}/")))
                .collect();
            assert_eq!(replies.len(), 1, "{case}: {replies:#?}");
            assert!(replies[0].contains("Closed."), "{case}: {}", replies[0]);
            assert_eq!(world.reactions(id), ["eyes", "+1"], "{case}");
            assert_eq!(
                world.pr("upkeep/cargo/lockfile-refresh")["state"],
                "closed",
                "{case}"
            );
        }
    }
}
