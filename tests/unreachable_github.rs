//! The same workspace as tests/check_unreachable.rs (a `[patch.crates-io]` source in the
//! repository, a path dependency outside it) on the fake GitHub: the daily pass does not fail;
//! it opens the refresh for what it can reach, resolved by real cargo around a stand-in, and
//! the dashboard names what it cannot update and why.

mod common;

use common::registry::LoopbackRegistry;
use common::repo_world::{self, REPO};

#[tokio::test]
async fn the_pass_updates_what_it_reaches_and_the_dashboard_names_the_rest() {
    let root = common::repo_root().join("tests/fixtures/repos/patched");
    let tree = upkeep::check::local_tree(&root).unwrap();
    let files: Vec<(String, String)> = tree
        .iter()
        .map(|p| (p.clone(), std::fs::read_to_string(root.join(p)).unwrap()))
        .collect();
    let github = repo_world::github_with(&files).await;
    let registry = LoopbackRegistry::start().await;
    let mut pass = repo_world::deps_pass(&registry);
    pass.dashboard = true;
    let client = repo_world::installation_client(&github);
    let outcome = pass
        .run(&client, REPO, &Default::default())
        .await
        .expect("the pass succeeds");
    assert!(outcome.skipped.is_empty(), "{:?}", outcome.skipped);
    let lock = repo_world::file_on(&github, "upkeep/cargo/lockfile-refresh", "Cargo.lock")
        .expect("a refresh PR");
    let locked: Vec<String> = upkeep::deps::lockfile::parse(&lock)
        .unwrap()
        .packages
        .iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    for want in [
        "log 0.4.35",
        "itoa 1.0.1",
        "helper 0.3.0",
        "smallvec 1.13.2",
    ] {
        assert!(locked.contains(&want.to_owned()), "{want}: {locked:?}");
    }
    let dashboard = outcome.dashboard.expect("a dashboard");
    let body = github.with_world(|w| {
        w.repositories[REPO].issue(dashboard as i64).unwrap()["body"]
            .as_str()
            .unwrap()
            .to_owned()
    });
    for needle in [
        "## Not updated: out of upkeep's reach\n",
        "- `helper` 0.3.0: path `../../outside/helper` (app/Cargo.toml) is outside the repository: its manifest cannot be read\n",
        "- `smallvec` 1.13.2: patched with `vendor/smallvec` (Cargo.toml): it comes from the repository, not the index\n",
        "| `itoa` | 1.0.1 | 1.0.19 | required by `helper`, which upkeep cannot read",
    ] {
        assert!(body.contains(needle), "{needle:?} missing from:\n{body}");
    }
}
