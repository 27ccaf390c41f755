//! Robust on what others choke on (issue 25; dependabot-core#14945, #13219): a workspace with a
//! `[patch.crates-io]` source in the repository and a path dependency outside it (the fixture
//! `tests/fixtures/repos/patched`: a real lockfile made by cargo against crates.io, pinned to
//! old versions; the loopback registry serves those crates' real index entries). The plan
//! succeeds and names what it skipped and why; `--apply` updates everything else with real
//! cargo, the unreadable package and what it locks left exactly where they were.

mod common;

use common::check_cli::{check, copy_dir};
use common::registry::LoopbackRegistry;

fn patched() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    // `../../outside/helper` from `repo/app` is `tmp/outside/helper`: not there, as on GitHub.
    copy_dir(
        &common::repo_root().join("tests/fixtures/repos/patched"),
        &repo,
    );
    (tmp, repo)
}

fn locked(repo: &std::path::Path) -> Vec<String> {
    let lock = std::fs::read_to_string(repo.join("Cargo.lock")).unwrap();
    let mut v: Vec<String> = upkeep::deps::lockfile::parse(&lock)
        .unwrap()
        .packages
        .iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn the_plan_succeeds_and_names_what_it_cannot_reach_and_why() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = patched();
    let (ok, stdout, stderr) = check(&repo, &registry.url(), &["--format", "json"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ws = &report["workspaces"][0];
    let skipped: Vec<(String, String)> = ws["unreachable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["crate"].as_str().unwrap().to_owned(),
                u["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ("helper".to_owned(), "outside_path".to_owned()),
            ("smallvec".to_owned(), "patched_in_repo".to_owned())
        ]
    );
    // Everything else goes ahead: log's refresh is planned; itoa waits on helper.
    let updates: Vec<String> = ws["plan"]["pull_requests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|pr| pr["updates"].as_array().unwrap().clone())
        .map(|u| {
            format!(
                "{} {} -> {}",
                u["crate"].as_str().unwrap(),
                u["from"].as_str().unwrap(),
                u["to"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        updates.contains(&"log 0.4.14 -> 0.4.35".to_owned()),
        "{updates:?}"
    );
    assert!(
        !updates.iter().any(|u| u.starts_with("itoa")),
        "{updates:?}"
    );

    let (ok, text, stderr) = check(&repo, &registry.url(), &[]);
    assert!(ok, "{stderr}");
    for needle in [
        "  not updated (out of upkeep's reach):\n",
        "      helper 0.3.0: path ../../outside/helper (app/Cargo.toml) is outside the repository: its manifest cannot be read\n",
        "      smallvec 1.13.2: patched with vendor/smallvec (Cargo.toml): it comes from the repository, not the index\n",
        "      itoa 1.0.1 -> 1.0.19: required by `helper`, which upkeep cannot read",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[tokio::test]
async fn apply_updates_the_rest_with_real_cargo_and_leaves_the_unreachable_as_it_was() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = patched();
    let before = locked(&repo);
    assert!(before.contains(&"log 0.4.14".to_owned()), "{before:?}");
    let (ok, _, stderr) = check(&repo, &registry.url(), &["--apply"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("updated Cargo.lock"), "{stderr}");
    let after = locked(&repo);
    for kept in [
        "helper 0.3.0",
        "itoa 1.0.1",
        "smallvec 1.13.2",
        "patched-app 0.1.0",
    ] {
        assert!(after.contains(&kept.to_owned()), "{kept} gone: {after:?}");
    }
    assert!(after.contains(&"log 0.4.35".to_owned()), "{after:?}");
    // The lockfile still says helper requires itoa: cargo resolved around a stand-in.
    let lock = std::fs::read_to_string(repo.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("[[package]]\nname = \"helper\"\nversion = \"0.3.0\"\ndependencies = [\n \"itoa\",\n]\n"),
        "{lock}"
    );
    // No stand-in path leaks into the manifests.
    let app = std::fs::read_to_string(repo.join("app/Cargo.toml")).unwrap();
    assert!(
        app.contains("helper = { path = \"../../outside/helper\" }"),
        "{app}"
    );
}

#[tokio::test]
async fn a_git_dependency_on_another_host_keeps_its_locked_source_and_the_rest_moves() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = patched();
    // A git dependency on a host upkeep does not fetch from, locked at a commit.
    let app = std::fs::read_to_string(repo.join("app/Cargo.toml")).unwrap();
    std::fs::write(
        repo.join("app/Cargo.toml"),
        app.replace(
            "log = \"0.4.14\"",
            "log = \"0.4.14\"\nfrom-gitlab = { git = \"https://gitlab.example/o/from-gitlab\" }",
        ),
    )
    .unwrap();
    let source =
        "git+https://gitlab.example/o/from-gitlab#0123456789abcdef0123456789abcdef01234567";
    let lock = std::fs::read_to_string(repo.join("Cargo.lock")).unwrap();
    let lock = lock
        .replace(
            "[[package]]\nname = \"helper\"",
            &format!("[[package]]\nname = \"from-gitlab\"\nversion = \"0.2.0\"\nsource = \"{source}\"\ndependencies = [\n \"itoa\",\n]\n\n[[package]]\nname = \"helper\""),
        )
        .replace(
            "dependencies = [\n \"helper\",\n \"log\",",
            "dependencies = [\n \"from-gitlab\",\n \"helper\",\n \"log\",",
        );
    std::fs::write(repo.join("Cargo.lock"), &lock).unwrap();

    let (ok, text, stderr) = check(&repo, &registry.url(), &[]);
    assert!(ok, "{stderr}");
    assert!(
        text.contains("      from-gitlab 0.2.0: git source https://gitlab.example/o/from-gitlab (app/Cargo.toml) is on a host upkeep does not fetch from\n"),
        "{text}"
    );
    let (ok, _, stderr) = check(&repo, &registry.url(), &["--apply"]);
    assert!(ok, "{stderr}");
    let after = std::fs::read_to_string(repo.join("Cargo.lock")).unwrap();
    assert!(
        after.contains(&format!(
            "[[package]]\nname = \"from-gitlab\"\nversion = \"0.2.0\"\nsource = \"{source}\"\n"
        )),
        "the git source is put back as it was locked:\n{after}"
    );
    assert!(
        after.contains("name = \"log\"\nversion = \"0.4.35\""),
        "{after}"
    );
    assert!(
        after.contains("name = \"itoa\"\nversion = \"1.0.1\""),
        "{after}"
    );
    // Nothing was fetched from that host: it does not exist.
}
