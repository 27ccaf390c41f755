//! Advisories where GitHub shows security (issue 25): with `[audit] code-scanning = true` the
//! audit of the default branch is uploaded to code scanning as SARIF (checked by the fake
//! against the SARIF schema's required fields and the request against GitHub's OpenAPI
//! description), located at the package's line in `Cargo.lock`, silenced advisories left out,
//! once per commit, and an upload without the finding once the lockfile moves past it, which
//! is how GitHub closes the alert. Off by default; GitHub refusing it is a dashboard note.

mod common;
mod security_world;

use common::repo_world::{self, REPO};
use common::TestDb;
use security_world::{app, with_config, World};
use serde_json::Value;

const MAIN: &str = "refs/heads/main";

/// demo-log 0.4.17 (RUSTSEC-2099-0001) under demo-rand, and demo-evil 1.0.0 (RUSTSEC-2099-0003).
fn two_advisories(config: &str) -> Vec<(String, String)> {
    with_config(
        app(
            &[("demo-evil", "1"), ("demo-rand", "=0.8.5")],
            &[
                ("demo-evil", "1.0.0", &[]),
                ("demo-rand", "0.8.5", &["demo-log"]),
                ("demo-log", "0.4.17", &[]),
            ],
        ),
        config,
    )
}

/// The 1-based line of `name = "<name>"` in the lockfile on main.
fn line_of(world: &World, name: &str) -> u64 {
    let lock = repo_world::file_on(&world.github, "main", "Cargo.lock").unwrap();
    let needle = format!("name = \"{name}\"");
    lock.lines().position(|l| l == needle).unwrap() as u64 + 1
}

fn uploads(world: &World) -> Vec<fake_github::SarifUpload> {
    world
        .github
        .with_world(|w| w.repositories[REPO].sarif_uploads.clone())
}

fn alerts(world: &World) -> Vec<(String, String, u64)> {
    world
        .github
        .with_world(|w| w.repositories[REPO].code_scanning_alerts(MAIN))
}

#[tokio::test]
async fn findings_are_uploaded_at_their_lockfile_lines_and_the_alert_closes_once_the_lock_moves_past_it(
) {
    let files = two_advisories("[audit]\ncode-scanning = true\n");
    let world = World::new(&files).await;
    world.audit().await;

    let sent = uploads(&world);
    assert_eq!(sent.len(), 1, "one upload");
    let head = world
        .github
        .with_world(|w| w.repositories[REPO].head().unwrap().clone());
    assert_eq!(sent[0].commit_sha, head);
    assert_eq!(sent[0].git_ref, MAIN);
    assert_eq!(sent[0].category(), "upkeep/audit/");
    assert_eq!(
        alerts(&world),
        [
            (
                "RUSTSEC-2099-0001".into(),
                "Cargo.lock".into(),
                line_of(&world, "demo-log")
            ),
            (
                "RUSTSEC-2099-0003".into(),
                "Cargo.lock".into(),
                line_of(&world, "demo-evil")
            ),
        ]
    );
    // GitHub ranks them by the CVSS score, as its own alerts.
    let rules = sent[0].log["runs"][0]["tool"]["driver"]["rules"].clone();
    let rule = |id: &str| -> Value {
        rules
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        rule("RUSTSEC-2099-0001")["properties"]["security-severity"],
        "7.5"
    );
    assert_eq!(
        rule("RUSTSEC-2099-0003")["properties"]["security-severity"],
        "9.8"
    );
    assert_eq!(
        rule("RUSTSEC-2099-0001")["helpUri"],
        "https://rustsec.org/advisories/RUSTSEC-2099-0001"
    );
    let result = sent[0].log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "RUSTSEC-2099-0001")
        .unwrap()
        .clone();
    assert_eq!(result["level"], "error");
    let message = result["message"]["text"].as_str().unwrap();
    assert!(
        message.contains("demo-log 0.4.17 in Cargo.lock")
            && message.contains("app 0.1.0 → demo-rand 0.8.5 → demo-log 0.4.17"),
        "{message}"
    );

    // The same commit and findings: nothing new is sent (with a store, across passes too).
    world.audit().await;
    assert_eq!(uploads(&world).len(), 2, "no store: each pass uploads");

    // demo-log moves past its advisory and demo-evil's is silenced: the next upload has no
    // result, and GitHub closes both alerts.
    let mut fixed = two_advisories(
        "[audit]\ncode-scanning = true\n\n[[ignore]]\nadvisory = \"RUSTSEC-2099-0003\"\nreason = \"only in a build tool\"\n",
    );
    let lock = fixed.iter_mut().find(|(p, _)| p == "Cargo.lock").unwrap();
    let safe = app(
        &[("demo-evil", "1"), ("demo-rand", "=0.8.5")],
        &[
            ("demo-evil", "1.0.0", &[]),
            ("demo-rand", "0.8.5", &["demo-log"]),
            ("demo-log", "0.4.22", &[]),
        ],
    );
    lock.1 = safe
        .iter()
        .find(|(p, _)| p == "Cargo.lock")
        .unwrap()
        .1
        .clone();
    let pushed: Vec<(&str, &str)> = fixed
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    repo_world::push(
        &world.github,
        &pushed,
        "move demo-log past RUSTSEC-2099-0001",
    );
    world.audit().await;
    let sent = uploads(&world);
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].log["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(alerts(&world), []);
}

#[tokio::test]
async fn a_commit_already_uploaded_is_not_uploaded_again() {
    let db = TestDb::sqlite();
    let mut world = World::new(&two_advisories("[audit]\ncode-scanning = true\n")).await;
    world.pass.store = Some(db.store().await);
    world.audit().await;
    world.audit().await;
    assert_eq!(uploads(&world).len(), 1);
    assert_eq!(world.github.calls_to("code-scanning/upload-sarif"), 1);
}

#[tokio::test]
async fn nothing_is_uploaded_unless_the_repository_opts_in() {
    let world = World::new(&two_advisories("")).await;
    world.audit().await;
    assert!(uploads(&world).is_empty());
    assert_eq!(world.github.calls_to("code-scanning/upload-sarif"), 0);
}

#[tokio::test]
async fn code_scanning_turned_off_on_github_is_a_dashboard_note_and_the_audit_goes_on() {
    let world = World::new(&two_advisories("[audit]\ncode-scanning = true\n")).await;
    world
        .github
        .with_world(|w| w.repositories.get_mut(REPO).unwrap().code_scanning = false);
    let outcome = world.audit().await;
    assert!(uploads(&world).is_empty());
    let note = outcome.paused.join("\n");
    assert!(
        note.contains("GitHub answered 403") && note.contains("`security_events: write`"),
        "{note}"
    );
    // The rest of the audit still ran: the advisories are listed.
    assert_eq!(outcome.advisories.len(), 2, "{:?}", outcome.advisories);
}

#[test]
fn the_fake_refuses_sarif_missing_what_the_schema_requires() {
    use serde_json::json;
    let good = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"ruleId": "R", "message": {"text": "m"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "Cargo.lock"}, "region": {"startLine": 3}}}]}]}]});
    assert_eq!(fake_github::code_scanning_schema_problem(&good), None);
    for (broken, what) in [
        (json!({"runs": []}), "version"),
        (json!({"version": "2.1.0", "runs": [{}]}), "tool"),
        (
            json!({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}),
            "name",
        ),
        (
            json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "R"}]}]}),
            "message",
        ),
        (
            json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}}]}]}),
            "ruleId",
        ),
        (
            json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "R", "message": {"text": "m"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]}),
            "startLine",
        ),
    ] {
        let problem = fake_github::code_scanning_schema_problem(&broken);
        assert!(problem.is_some(), "{what}: {broken}");
    }
}
