//! Keeping the advisory database current: fetched from a git repository (here a local one)
//! into the data directory, swapped in only when it changed and opens cleanly, and kept when a
//! fetch fails, with the holder reporting itself degraded.

mod common;

use std::path::Path;
use std::time::Duration;

use semver::Version;
use upkeep::audit::{Advisories, AdvisorySource};

/// A git repository holding the fixture advisory database.
fn upstream(dir: &Path) {
    let src = common::repo_root().join("tests/fixtures/advisory-db/crates/demo-log");
    let dst = dir.join("crates/demo-log");
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    common::git(dir, &["init", "--quiet", "-b", "main"]);
    common::git(dir, &["add", "."]);
    common::git(dir, &["commit", "--quiet", "-m", "advisories"]);
}

fn fixes(advisories: &Advisories, name: &str, from: &str, to: &str) -> Vec<String> {
    advisories
        .current()
        .expect("a database")
        .fixed_by(
            name,
            &Version::parse(from).unwrap(),
            &Version::parse(to).unwrap(),
        )
        .into_iter()
        .map(|a| a.id)
        .collect()
}

#[tokio::test]
async fn a_fetch_swaps_in_a_new_copy_only_when_it_changed_and_a_failure_keeps_the_last_good_one() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("upstream");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&repo).unwrap();
    upstream(&repo);
    let url = repo.display().to_string();

    let advisories = Advisories::remote(AdvisorySource::new(&url, &data));
    assert!(advisories.current().is_none());
    assert_eq!(
        advisories.health(Duration::from_secs(3600)).status,
        "missing"
    );
    assert!(advisories.refresh().await.unwrap(), "first fetch");
    assert_eq!(
        fixes(&advisories, "demo-log", "0.4.17", "0.4.22"),
        vec!["RUSTSEC-2099-0001"]
    );
    assert_eq!(
        advisories.health(Duration::from_secs(3600)).status,
        "healthy"
    );
    assert!(!advisories.refresh().await.unwrap(), "nothing new upstream");

    // A new advisory upstream arrives with the next fetch; the old copy is removed.
    let first_copy = std::fs::canonicalize(data.join("advisory-db")).unwrap();
    let md = std::fs::read_to_string(repo.join("crates/demo-log/RUSTSEC-2099-0001.md")).unwrap();
    std::fs::create_dir_all(repo.join("crates/demo-rand")).unwrap();
    std::fs::write(
        repo.join("crates/demo-rand/RUSTSEC-2099-0002.md"),
        md.replace("RUSTSEC-2099-0001", "RUSTSEC-2099-0002")
            .replace("package = \"demo-log\"", "package = \"demo-rand\"")
            .replace(">= 0.4.20", ">= 0.9.0"),
    )
    .unwrap();
    common::git(&repo, &["add", "."]);
    common::git(&repo, &["commit", "--quiet", "-m", "one more"]);
    assert!(advisories.refresh().await.unwrap());
    assert_eq!(
        fixes(&advisories, "demo-rand", "0.8.1", "0.9.0"),
        vec!["RUSTSEC-2099-0002"]
    );
    assert!(!first_copy.exists(), "the superseded copy is removed");

    // The source goes away: the copy on disk stays in use and health says why.
    let offline = Advisories::remote(AdvisorySource::new(
        &tmp.path().join("gone").display().to_string(),
        &data,
    ));
    assert!(
        offline.current().is_some(),
        "the copy on disk is used at start"
    );
    assert!(offline.refresh().await.is_err());
    assert_eq!(
        fixes(&offline, "demo-rand", "0.8.1", "0.9.0"),
        vec!["RUSTSEC-2099-0002"]
    );
    let health = offline.health(Duration::from_secs(3600));
    assert_eq!(health.status, "degraded");
    assert!(
        health
            .detail
            .unwrap()
            .contains("fetching the advisory database"),
        "names the failure"
    );
}

#[tokio::test]
async fn a_broken_upstream_never_replaces_a_good_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("upstream");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&repo).unwrap();
    upstream(&repo);
    let advisories = Advisories::remote(AdvisorySource::new(&repo.display().to_string(), &data));
    advisories.refresh().await.unwrap();
    std::fs::write(
        repo.join("crates/demo-log/RUSTSEC-2099-0001.md"),
        "not an advisory",
    )
    .unwrap();
    common::git(&repo, &["commit", "--quiet", "-am", "broken"]);
    assert!(advisories.refresh().await.is_err());
    assert_eq!(
        fixes(&advisories, "demo-log", "0.4.17", "0.4.22"),
        vec!["RUSTSEC-2099-0001"]
    );
}

/// The line of `/metrics` for `name` with `labels`, as a number (0 when absent).
async fn labelled(server: &common::TestServer, name: &str, labels: &str) -> f64 {
    let prefix = format!("{name}{{{labels}}} ");
    server
        .text("/metrics")
        .await
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn a_fetch_that_keeps_failing_backs_off_instead_of_running_every_period() {
    let db = common::TestDb::sqlite();
    let tmp = tempfile::tempdir().unwrap();
    // An upstream that does not exist: every fetch fails.
    let missing = tmp.path().join("no-such-advisory-db");
    let settings = common::settings(
        &db.url,
        &[
            ("UPKEEP_ADVISORY_DB", ""),
            ("UPKEEP_ADVISORY_DB_URL", missing.to_str().unwrap()),
        ],
    );
    let mut background = common::fast_background();
    background.advisories_every = Duration::from_millis(100);
    let server = common::TestServer::start_killable(settings, background).await;
    common::eventually(20, "the fetch's breaker opens", || async {
        (labelled(
            &server,
            "upkeep_circuit_opened_total",
            "dependency=\"advisory_db\"",
        )
        .await
            >= 1.0)
            .then_some(())
    })
    .await;
    // Open: the fetch waits two periods, then four, … instead of running every 100 ms.
    let state = labelled(
        &server,
        "upkeep_circuit_state",
        "dependency=\"advisory_db\",scope=\"fetch\"",
    )
    .await;
    assert!(state >= 1.0, "open or probing: {state}");
    server.kill();
}
