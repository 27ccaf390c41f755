//! Security updates and advisory issues on the fake GitHub: a vulnerable crate pulled in by
//! another gets the smallest fix cargo accepts as a PR labelled `security` (outside the PR
//! limit, advisories and the dependency chain in its body); a fix a requirement blocks moves
//! the dependency that holds it back; what no PR can fix is one issue per advisory, found again
//! by its marker, closed once the lockfile moves on or the advisory is silenced with a reason;
//! and, end to end through a running server, a new advisory in the database reaches a
//! repository that locks the crate as a security PR within one job cycle.

mod common;
mod security_world;

use std::path::Path;

use common::registry::LoopbackRegistry;
use common::repo_world::{self, REPO};
use common::{eventually, TestDb, TestServer};
use fake_github::webhooks::Endpoint;
use security_world::{app, held_by, labels, with_config, World};
use serde_json::json;

#[tokio::test]
async fn a_vulnerable_crate_pulled_in_by_another_gets_the_smallest_fix_as_a_security_pr_outside_the_limit(
) {
    let files = with_config(
        held_by("demo-rand", "=0.8.5", "0.8.5"),
        "open-pull-requests-limit = 0\n",
    );
    let world = World::new(&files).await;
    let outcome = world.run().await;

    let prs = world.security_prs();
    assert_eq!(prs.len(), 1, "{prs:#?}");
    let pr = &prs[0];
    assert_eq!(pr["head"]["ref"], "upkeep/security/demo-log");
    assert_eq!(outcome.opened, vec![pr["number"].as_u64().unwrap()]);
    assert!(
        labels(pr).contains(&"security".to_owned()),
        "{:?}",
        labels(pr)
    );
    // The lowest patched release MSRV allows, precisely; the holder stays where it is.
    assert_eq!(
        world.locked_on("upkeep/security/demo-log", "demo-log"),
        ["0.4.22"]
    );
    assert_eq!(
        world.locked_on("upkeep/security/demo-log", "demo-rand"),
        ["0.8.5"]
    );
    let body = pr["body"].as_str().unwrap();
    for needle in [
        "[RUSTSEC-2099-0001](https://rustsec.org/advisories/RUSTSEC-2099-0001)",
        "CVE-2099-0001, GHSA-xxxx-yyyy-zzzz",
        "**Severity**: high (`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N`)",
        "**Patched**: `>=0.4.20`",
        "app 0.1.0 → demo-rand 0.8.5 → demo-log 0.4.17",
        "A made-up advisory for upkeep's tests",
    ] {
        assert!(body.contains(needle), "{needle:?} missing from:\n{body}");
    }
    assert!(
        pr["title"].as_str().unwrap().contains("RUSTSEC-2099-0001"),
        "{}",
        pr["title"]
    );
    // Nothing else: the limit of 0 holds every other update back.
    assert_eq!(world.pulls().len(), 1);

    // The next pass finds it current and does nothing.
    let again = world.run().await;
    assert!(
        again.opened.is_empty() && again.updated.is_empty(),
        "{again:?}"
    );
    assert_eq!(again.unchanged, outcome.opened);
    assert!(
        world.issues().is_empty(),
        "a fixable advisory files no issue"
    );
}

#[tokio::test]
async fn a_fix_a_requirement_blocks_moves_the_dependency_that_holds_it_back() {
    // demo-pin 1.0.0 wants demo-log =0.4.17; demo-pin 1.1.0 wants ^0.4.20.
    let world = World::new(&held_by("demo-pin", "1.0", "1.0.0")).await;
    world.audit().await;
    let prs = world.security_prs();
    assert_eq!(prs.len(), 1, "{prs:#?}");
    assert_eq!(
        world.locked_on("upkeep/security/demo-log", "demo-pin"),
        ["1.1.0"]
    );
    let log = world.locked_on("upkeep/security/demo-log", "demo-log");
    assert_eq!(log, ["0.4.22"], "patched and within the MSRV");
    assert!(world.issues().is_empty());
}

#[tokio::test]
async fn a_fix_nothing_can_reach_is_an_issue_that_says_what_was_tried() {
    // demo-stuck has no release that allows a patched demo-log.
    let world = World::new(&held_by("demo-stuck", "1", "1.0.0")).await;
    let outcome = world.audit().await;
    assert!(world.security_prs().is_empty());
    let issues = world.issues();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(
        outcome.opened_issues,
        vec![issues[0]["number"].as_u64().unwrap()]
    );
    let body = issues[0]["body"].as_str().unwrap();
    for needle in [
        "patched releases exist (>=0.4.20), but no change cargo accepts fixes it",
        "- `cargo update -p demo-log@0.4.17 --precise 0.4.22`: failed to select a version for the requirement 'demo-log = \"=0.4.17\"'; required by package 'demo-stuck v1.0.0'\n",
        "app 0.1.0 → demo-stuck 1.0.0 → demo-log 0.4.17",
        "<!-- upkeep:advisory RUSTSEC-2099-0001 state=",
    ] {
        assert!(body.contains(needle), "{needle:?} missing from:\n{body}");
    }
    assert_eq!(labels(&issues[0]), ["security"]);
}

#[tokio::test]
async fn no_patched_release_is_one_issue_found_again_by_its_marker_and_closed_when_the_fix_lands() {
    let world = World::new(&app(&[("demo-evil", "1")], &[("demo-evil", "1.0.0", &[])])).await;
    let first = world.audit().await;
    assert!(world.security_prs().is_empty(), "nothing to move to");
    let issues = world.issues();
    assert_eq!(issues.len(), 1);
    let number = issues[0]["number"].as_i64().unwrap();
    assert_eq!(first.opened_issues, vec![number as u64]);
    assert!(issues[0]["title"]
        .as_str()
        .unwrap()
        .starts_with("RUSTSEC-2099-0003: "));
    let body = issues[0]["body"].as_str().unwrap();
    assert!(body.contains("no patched release exists"), "{body}");
    assert!(body.contains("**Severity**: critical"), "{body}");

    // A person retitles it: it is still found, by the marker, and nothing is filed twice.
    world.github.with_world(|w| {
        let issue = w
            .repositories
            .get_mut(REPO)
            .unwrap()
            .issue_mut(number)
            .unwrap();
        issue["title"] = json!("evil crate, look at this next week");
    });
    let second = world.audit().await;
    assert!(
        second.opened_issues.is_empty() && second.updated_issues.is_empty(),
        "{second:?}"
    );
    assert_eq!(world.issues().len(), 1);

    // The fix lands: demo-evil is gone from the lockfile.
    let fixed = app(&[], &[]);
    let borrowed: Vec<(&str, &str)> = fixed
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    repo_world::push(&world.github, &borrowed, "drop demo-evil");
    let third = world.audit().await;
    assert_eq!(third.closed_issues, vec![number as u64]);
    let issue = &world.issues()[0];
    assert_eq!(issue["state"], "closed");
    let comments = world.comments_on(number);
    assert!(
        comments
            .iter()
            .any(|c| c.contains("no longer has a version affected by RUSTSEC-2099-0003")),
        "{comments:?}"
    );
}

#[tokio::test]
async fn an_advisory_silenced_with_a_reason_gets_no_pr_and_its_issue_closes_saying_why() {
    let world = World::new(&app(&[("demo-evil", "1")], &[("demo-evil", "1.0.0", &[])])).await;
    world.audit().await;
    let number = world.issues()[0]["number"].as_i64().unwrap();

    repo_world::push(
        &world.github,
        &[(
            ".github/upkeep.toml",
            "[[ignore]]\nadvisory = \"RUSTSEC-2099-0003\"\nreason = \"only used in a build tool\"\n",
        )],
        "silence RUSTSEC-2099-0003",
    );
    let outcome = world.audit().await;
    assert_eq!(
        outcome.ignored_advisories,
        vec![(
            "RUSTSEC-2099-0003".to_owned(),
            "only used in a build tool".to_owned()
        )]
    );
    assert_eq!(outcome.closed_issues, vec![number as u64]);
    assert!(world
        .comments_on(number)
        .iter()
        .any(|c| c.contains("only used in a build tool")));
    assert!(world.security_prs().is_empty());

    // Without a reason it is not silenced: a new issue would be filed again.
    repo_world::push(
        &world.github,
        &[(
            ".github/upkeep.toml",
            "[[ignore]]\nadvisory = \"RUSTSEC-2099-0003\"\n",
        )],
        "no reason",
    );
    let outcome = world.audit().await;
    assert!(outcome.ignored_advisories.is_empty());
    assert_eq!(outcome.opened_issues.len(), 1, "{outcome:?}");
}

/// Copies one fixture advisory (`crates/<name>`) into the upstream checkout.
fn add_advisory(upstream: &Path, name: &str) {
    let src = common::repo_root()
        .join("tests/fixtures/advisory-db/crates")
        .join(name);
    let dst = upstream.join("crates").join(name);
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
}

#[tokio::test]
async fn a_new_advisory_reaches_a_repository_that_locks_the_crate_as_a_security_pr_within_one_job_cycle(
) {
    if common::shared_dir().is_none() {
        return;
    }
    // An advisory database upstream that does not know about demo-log yet.
    let tmp = tempfile::tempdir().unwrap();
    let upstream = tmp.path().join("advisory-db");
    std::fs::create_dir_all(&upstream).unwrap();
    add_advisory(&upstream, "demo-evil");
    common::git(&upstream, &["init", "--quiet", "-b", "main"]);
    common::git(&upstream, &["add", "."]);
    common::git(&upstream, &["commit", "--quiet", "-m", "advisories"]);

    let github = repo_world::github_with(&held_by("demo-rand", "=0.8.5", "0.8.5")).await;
    let registry = LoopbackRegistry::start().await;
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(
        &db.url,
        &[
            ("UPKEEP_GITHUB_API_URL", &github.uri()),
            ("UPKEEP_INDEX_URL", &registry.url()),
            ("UPKEEP_ADVISORY_DB", ""),
            ("UPKEEP_ADVISORY_DB_URL", &upstream.display().to_string()),
        ],
    ))
    .await;
    let endpoint = Endpoint {
        url: server.url("/webhook"),
        secret: common::SECRET.into(),
    };
    let store = upkeep::store::Store::open(&db.url).await.unwrap();

    // The app is installed on o/r, and a push changes its lockfile: audited, nothing found.
    let repo_id = github.with_world(|w| w.repositories[REPO].id);
    let d = github
        .deliver(&endpoint, "installation", "created.payload.json", 7, None, |p| {
            p["repositories"] = json!([{
                "id": repo_id, "node_id": "R_1", "name": "r", "full_name": REPO, "private": false
            }]);
        })
        .await;
    assert_eq!(d.status, 202);
    let head = github.with_world(|w| w.repositories[REPO].head().unwrap().clone());
    let d = github
        .deliver(&endpoint, "push", "payload.json", 7, Some(REPO), |p| {
            p["ref"] = json!("refs/heads/main");
            p["after"] = json!(head);
            p["deleted"] = json!(false);
            p["forced"] = json!(false);
            p["commits"] =
                json!([{ "id": head, "added": [], "removed": [], "modified": ["Cargo.lock"] }]);
        })
        .await;
    assert_eq!(d.status, 202);
    eventually(60, "the push audited", || {
        let store = store.clone();
        async move {
            let jobs = store.list_jobs(&["done"], 100).await.unwrap();
            jobs.iter().any(|j| j.kind == "audit").then_some(())
        }
    })
    .await;
    common::jobs_settled(&store).await;
    // (The daily slot may have run the first dependency pass meanwhile: its PRs are not
    // security PRs.)
    let security_prs = || {
        github.with_world(|w| {
            w.repositories[REPO]
                .pulls
                .iter()
                .filter(|p| {
                    p["head"]["ref"]
                        .as_str()
                        .unwrap()
                        .starts_with("upkeep/security/")
                })
                .count()
        })
    };
    assert_eq!(security_prs(), 0, "no advisory for demo-log yet");

    // RustSec publishes an advisory for demo-log: the next refresh audits o/r, which opens the
    // security PR.
    add_advisory(&upstream, "demo-log");
    common::git(&upstream, &["add", "."]);
    common::git(&upstream, &["commit", "--quiet", "-m", "RUSTSEC-2099-0001"]);
    let pr = eventually(60, "a security PR", || {
        let github = &github;
        async move {
            github.with_world(|w| {
                w.repositories[REPO]
                    .pulls
                    .iter()
                    .find(|p| p["head"]["ref"] == "upkeep/security/demo-log")
                    .cloned()
            })
        }
    })
    .await;
    assert!(pr["body"].as_str().unwrap().contains("RUSTSEC-2099-0001"));
    let audits = store
        .list_jobs(&["done", "queued", "running"], 100)
        .await
        .unwrap();
    assert!(
        audits
            .iter()
            .any(|j| j.kind == "audit" && j.dedupe_key.contains(":db:advisory-db.")),
        "{audits:#?}"
    );
}

#[tokio::test]
async fn an_advisory_issue_a_person_closed_is_not_filed_again_until_the_situation_changes() {
    let world = World::new(&app(&[("demo-evil", "1")], &[("demo-evil", "1.0.0", &[])])).await;
    world.audit().await;
    let issue = world.issues()[0].clone();
    let body = issue["body"].as_str().unwrap();
    let state = upkeep::audit::report::issue_marker_of(body)
        .unwrap()
        .1
        .to_owned();
    world.github.with_world(|w| {
        let i = w
            .repositories
            .get_mut(REPO)
            .unwrap()
            .issue_mut(issue["number"].as_i64().unwrap())
            .unwrap();
        i["state"] = json!("closed");
    });
    // What the server records from the `issues` closed delivery.
    let declined = [(
        upkeep::audit::fixes::declined_issue_key("RUSTSEC-2099-0003"),
        state,
    )]
    .into_iter()
    .collect();
    let outcome = world
        .pass
        .audit(&world.client, REPO, &declined)
        .await
        .unwrap();
    assert!(outcome.opened_issues.is_empty(), "{outcome:?}");
    assert_eq!(world.issues().len(), 1);

    // demo-evil 1.1.0 gets locked too: the situation changed, so it is filed again.
    let files = app(&[("demo-evil", "1")], &[("demo-evil", "1.1.0", &[])]);
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    repo_world::push(&world.github, &borrowed, "demo-evil 1.1.0");
    let outcome = world
        .pass
        .audit(&world.client, REPO, &declined)
        .await
        .unwrap();
    assert_eq!(outcome.opened_issues.len(), 1, "{outcome:?}");
}

#[tokio::test]
async fn the_dashboard_lists_advisories_with_their_pr_or_issue_and_silenced_ones_with_the_reason() {
    let files = with_config(
        app(
            &[("demo-evil", "1"), ("demo-rand", "=0.8.5")],
            &[
                ("demo-evil", "1.0.0", &[]),
                ("demo-rand", "0.8.5", &["demo-log"]),
                ("demo-log", "0.4.17", &[]),
            ],
        ),
        "[[ignore]]\nadvisory = \"RUSTSEC-2099-0003\"\nreason = \"only in a build tool\"\n",
    );
    let mut world = World::new(&files).await;
    world.pass.dashboard = true;
    let outcome = world.run().await;
    let pr = world.security_prs()[0]["number"].as_u64().unwrap();
    let dashboard = outcome.dashboard.expect("a dashboard issue");
    let body = world
        .issues()
        .into_iter()
        .find(|i| i["number"] == dashboard)
        .unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        body.contains(&format!(
            "- [RUSTSEC-2099-0001](https://rustsec.org/advisories/RUSTSEC-2099-0001) `demo-log` 0.4.17 (vulnerability): Log lines can leak secrets (a test fixture) — #{pr}"
        )),
        "{body}"
    );
    assert!(
        body.contains("- RUSTSEC-2099-0003: only in a build tool"),
        "{body}"
    );
    assert!(
        !body.contains("`demo-evil` 1.0.0"),
        "silenced, not listed: {body}"
    );
    // Nothing changed: the next pass leaves the dashboard alone.
    let before = world.github.calls_to("issues/update");
    world.run().await;
    assert_eq!(world.github.calls_to("issues/update"), before);
}
