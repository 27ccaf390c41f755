//! Lockfiles by real cargo against a sparse registry on loopback (cargo source replacement):
//! a precise move off a yanked version, an MSRV-aware refresh, a requirement bump, and a git
//! dependency from a host that is not allowed, refused before cargo runs.

mod common;

use std::collections::BTreeMap;

use common::registry::LoopbackRegistry;
use semver::Version;
use upkeep::cargo::{Change, LockChange, ResolveError, Resolver};
use upkeep::check::{local_tree, local_workspaces};
use upkeep::deps::{RequirementEdit, Workspace};

fn fixture() -> (Workspace, BTreeMap<String, String>) {
    let root = common::repo_root().join("tests/fixtures/repos/inherited");
    let tree = local_tree(&root).unwrap();
    let (mut found, files) = local_workspaces(&root, &tree).unwrap();
    (found.remove(0), files)
}

fn resolver(registry: &LoopbackRegistry) -> Resolver {
    Resolver {
        index: Some(registry.url()),
        ..Resolver::default()
    }
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn moved(changes: &[LockChange]) -> Vec<String> {
    changes
        .iter()
        .map(|c| {
            format!(
                "{} {} -> {}",
                c.name,
                c.from
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or("-".into()),
                c.to.as_ref().map(ToString::to_string).unwrap_or("-".into())
            )
        })
        .collect()
}

#[tokio::test]
async fn a_precise_update_moves_only_that_package_off_its_yanked_version() {
    let registry = LoopbackRegistry::start().await;
    let (ws, files) = fixture();
    let precise = vec![("demo-yanked".to_owned(), v("1.2.3"), v("1.2.4"))];
    let resolved = resolver(&registry)
        .resolve(
            &ws,
            &files,
            &Change {
                precise: &precise,
                ..Change::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved(&resolved.changes), vec!["demo-yanked 1.2.3 -> 1.2.4"]);
    assert_eq!(
        resolved.files.keys().collect::<Vec<_>>(),
        vec!["Cargo.lock"]
    );
    assert!(resolved.files["Cargo.lock"].contains("version = 4"));
}

#[tokio::test]
async fn a_refresh_respects_the_msrv_like_the_plan_does() {
    let registry = LoopbackRegistry::start().await;
    let (ws, files) = fixture();
    let resolved = resolver(&registry)
        .resolve(
            &ws,
            &files,
            &Change {
                refresh: true,
                ..Change::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        moved(&resolved.changes),
        vec![
            "demo-log 0.4.17 -> 0.4.22",
            "demo-rand 0.8.1 -> 0.8.5",
            "demo-yanked 1.2.3 -> 1.2.4"
        ],
        "demo-log 0.4.29 needs Rust 1.80; the workspace's MSRV is 1.70"
    );
}

#[tokio::test]
async fn a_requirement_bump_rewrites_the_manifest_and_resolves_the_new_line() {
    let registry = LoopbackRegistry::start().await;
    let (ws, files) = fixture();
    let edits = vec![RequirementEdit {
        manifest: "crates/a/Cargo.toml".into(),
        table: vec!["dependencies".into()],
        key: "demo-rand".into(),
        from: "0.8".into(),
        to: "0.9".into(),
    }];
    let resolved = resolver(&registry)
        .resolve(
            &ws,
            &files,
            &Change {
                edits: &edits,
                ..Change::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved(&resolved.changes), vec!["demo-rand 0.8.1 -> 0.9.0"]);
    assert!(resolved.files["crates/a/Cargo.toml"]
        .contains("demo-rand = \"0.9\" # pre-1.0: 0.9 is breaking"));
}

#[tokio::test]
async fn a_git_dependency_from_an_unlisted_host_never_reaches_cargo() {
    let registry = LoopbackRegistry::start().await;
    let (ws, mut files) = fixture();
    let a = files.get_mut("crates/a/Cargo.toml").unwrap();
    a.push_str("evil = { git = \"http://10.0.0.1/evil\" }\n");
    let err = resolver(&registry)
        .resolve(
            &ws,
            &files,
            &Change {
                refresh: true,
                ..Change::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ResolveError::Sanitize(_)), "{err}");
    assert!(registry.requested().await.is_empty(), "cargo never ran");
}
