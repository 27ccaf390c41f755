//! Several locked versions of one crate (issue 25; dependabot-core#2064): a real lockfile made
//! by cargo against crates.io holding `syn` 1.0.100 (the crate's own requirement) and `syn`
//! 2.0.40 (thiserror-impl's), both behind; the loopback registry serves those crates' real
//! index entries (tests/fixtures/registry, trimmed). `upkeep check` plans an update for each
//! copy, naming it by its version, and `--apply` makes both with real cargo: the plain refresh,
//! and, when something else is held back, one `cargo update -p syn@<old> --precise <new>` per
//! copy (plain `cargo update -p syn` is ambiguous with two copies; Dependabot's fix for that
//! was reverted).

mod common;

use common::check_cli::{check, copy_dir};
use common::registry::LoopbackRegistry;

fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir(
        &common::repo_root().join("tests/fixtures/repos/duplicates-old"),
        &repo,
    );
    (tmp, repo)
}

fn syn_locked(repo: &std::path::Path) -> Vec<String> {
    let lock = std::fs::read_to_string(repo.join("Cargo.lock")).unwrap();
    let mut v: Vec<String> = upkeep::deps::lockfile::parse(&lock)
        .unwrap()
        .packages
        .iter()
        .filter(|p| p.name == "syn")
        .map(|p| p.version.to_string())
        .collect();
    v.sort();
    v
}

/// The plan's updates of `syn`: `from -> to`.
fn syn_updates(report: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = report["workspaces"][0]["plan"]["pull_requests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|pr| pr["updates"].as_array().unwrap().clone())
        .filter(|u| u["crate"] == "syn")
        .map(|u| {
            format!(
                "{} -> {}",
                u["from"].as_str().unwrap(),
                u["to"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn each_locked_copy_gets_its_own_update_and_apply_makes_both() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = fixture();
    assert_eq!(syn_locked(&repo), ["1.0.100", "2.0.40"]);
    let (ok, stdout, stderr) = check(&repo, &registry.url(), &["--format", "json"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // Each copy within its own requirement (the refresh), and the breaking bump of the
    // crate's own `syn = "1"`, which is also the bump that removes the old copy.
    assert_eq!(
        syn_updates(&report),
        [
            "1.0.100 -> 1.0.109",
            "1.0.100 -> 2.0.119",
            "2.0.40 -> 2.0.119"
        ]
    );
    let dup = &report["workspaces"][0]["duplicates"][0];
    assert_eq!(dup["crate"], "syn", "{report:#}");
    assert_eq!(
        dup["removable"],
        serde_json::json!([{"copy": "1.0.100", "to": "2.0.40", "in_packages": ["dupdemo-old 0.1.0"]}])
    );
    // Keep both copies (no breaking bumps): `--apply` updates each within its series.
    std::fs::create_dir_all(repo.join(".github")).unwrap();
    std::fs::write(
        repo.join(".github/upkeep.toml"),
        "[strategy]\nbreaking = \"ignore\"\n",
    )
    .unwrap();
    let (ok, _, stderr) = check(&repo, &registry.url(), &["--apply"]);
    assert!(ok, "{stderr}");
    assert_eq!(syn_locked(&repo), ["1.0.109", "2.0.119"]);
}

#[tokio::test]
async fn with_something_held_back_each_copy_moves_by_its_own_precise_update() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = fixture();
    // thiserror stays where it is: the refresh then moves each crate precisely.
    std::fs::create_dir_all(repo.join(".github")).unwrap();
    std::fs::write(
        repo.join(".github/upkeep.toml"),
        "[strategy]\nbreaking = \"ignore\"\n\n[[ignore]]\ndependency-name = \"thiserror*\"\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = check(&repo, &registry.url(), &["--format", "json"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let precise: Vec<String> = report["workspaces"][0]["plan"]["pull_requests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|pr| pr["precise"].as_array().unwrap().clone())
        .filter(|p| p[0] == "syn")
        .map(|p| {
            format!(
                "{}@{} {}",
                p[0].as_str().unwrap(),
                p[1].as_str().unwrap(),
                p[2].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(precise, ["syn@1.0.100 1.0.109", "syn@2.0.40 2.0.119"]);
    let (ok, _, stderr) = check(&repo, &registry.url(), &["--apply"]);
    assert!(ok, "{stderr}");
    assert_eq!(syn_locked(&repo), ["1.0.109", "2.0.119"]);
    let lock = std::fs::read_to_string(repo.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("name = \"thiserror\"\nversion = \"1.0.50\""),
        "held back: {lock}"
    );
}
