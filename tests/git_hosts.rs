//! A git host that is down is found out and left alone: real cargo fetches a git dependency
//! from a `git daemon` on loopback; while the daemon is away the host's breaker opens after
//! two failed fetches, cargo is not run again for it (each try would cost a network time-out),
//! and once the daemon is back the breaker's probe resolves and closes it.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::registry::LoopbackRegistry;
use upkeep::cargo::{failure, Change, ResolveError, Resolver};
use upkeep::check::{local_tree, local_workspaces};
use upkeep::deps::Workspace;
use upkeep::heal::breaker::BreakerPolicy;
use upkeep::heal::breakers::Breakers;

/// The `inherited` fixture with a git dependency on `git://127.0.0.1:<port>/foo`.
fn workspace_with_git_dependency(port: u16) -> (Workspace, BTreeMap<String, String>) {
    let root = common::repo_root().join("tests/fixtures/repos/inherited");
    let tree = local_tree(&root).unwrap();
    let (mut found, mut files) = local_workspaces(&root, &tree).unwrap();
    files
        .get_mut("crates/a/Cargo.toml")
        .unwrap()
        .push_str(&format!(
            "foo = {{ git = \"git://127.0.0.1:{port}/foo\" }}\n"
        ));
    (found.remove(0), files)
}

/// A plain `cargo update`.
const REFRESH: Change<'static> = Change {
    edits: &[],
    precise: &[],
    refresh: true,
};

/// A resolver against the loopback registry that may fetch from git hosts on 127.0.0.1,
/// keeping its hosts' breakers in `breakers`.
fn loopback_resolver(registry: &LoopbackRegistry, breakers: &Arc<Breakers>) -> Resolver {
    Resolver {
        index: Some(registry.url()),
        allowed_git_hosts: vec!["127.0.0.1".to_owned()],
        git_breakers: Some(Arc::clone(breakers)),
        ..Resolver::default()
    }
}

/// A port nothing listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A cargo that counts its runs in `runs` before handing over to the real one.
fn counting_cargo(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let real = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let runs = dir.join("runs");
    let script = dir.join("cargo");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec '{real}' \"$@\"\n",
            runs.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, runs)
}

fn runs(file: &Path) -> usize {
    std::fs::read_to_string(file)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// A git repository holding the crate `foo`, served by `git daemon` on `port`.
struct GitDaemon(std::process::Child);

impl GitDaemon {
    fn start(base: &Path, port: u16) -> GitDaemon {
        let repo = base.join("foo");
        std::fs::create_dir_all(repo.join("src")).unwrap();
        std::fs::write(
            repo.join("Cargo.toml"),
            "[package]\nname = \"foo\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::write(repo.join("src/lib.rs"), "").unwrap();
        common::git(&repo, &["init", "--quiet", "-b", "main"]);
        common::git(&repo, &["add", "."]);
        common::git(&repo, &["commit", "--quiet", "-m", "foo"]);
        let child = std::process::Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
                &base.display().to_string(),
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Listening once a connection is accepted.
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "git daemon");
            std::thread::sleep(Duration::from_millis(50));
        }
        GitDaemon(child)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_git_host_that_is_down_is_left_alone_until_its_probe_and_closes_when_it_answers() {
    let registry = LoopbackRegistry::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let (ws, files) = workspace_with_git_dependency(port);
    let (cargo, runs_file) = counting_cargo(tmp.path());
    let breakers = Arc::new(Breakers::new(
        "git",
        BreakerPolicy {
            open_base: Duration::from_secs(2),
            open_max: Duration::from_secs(2),
            jitter: 0.0,
            ..BreakerPolicy::for_git_host()
        },
    ));
    let resolver = Resolver {
        cargo,
        ..loopback_resolver(&registry, &breakers)
    };
    let refresh = REFRESH;

    // The host refuses connections: the first failure is cargo's, blamed on the host.
    let first = resolver.resolve(&ws, &files, &refresh).await.unwrap_err();
    match &first {
        ResolveError::Cargo { stderr, .. } => {
            assert_eq!(
                failure::unreachable_git_host(stderr).as_deref(),
                Some("127.0.0.1"),
                "{stderr}"
            );
        }
        e => panic!("expected cargo's failure, got {e}"),
    }
    // The second opens the breaker: the work is told to wait, not that the update is impossible.
    let second = resolver.resolve(&ws, &files, &refresh).await.unwrap_err();
    assert!(
        matches!(&second, ResolveError::GitHostUnavailable { host, .. } if host == "127.0.0.1"),
        "{second}"
    );
    assert_eq!(runs(&runs_file), 2);
    // While it is open, cargo is not run at all.
    for _ in 0..5 {
        let err = resolver.resolve(&ws, &files, &refresh).await.unwrap_err();
        assert!(
            matches!(err, ResolveError::GitHostUnavailable { .. }),
            "{err}"
        );
    }
    assert_eq!(
        runs(&runs_file),
        2,
        "no cargo run while the breaker is open"
    );
    assert_eq!(breakers.states()[0].state.name(), "open");

    // The host answers again; after the open period the probe resolves and closes the breaker.
    let _daemon = GitDaemon::start(&tmp.path().join("served"), port);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let resolved = resolver.resolve(&ws, &files, &refresh).await.unwrap();
    let lock = &resolved.files["Cargo.lock"];
    assert!(
        lock.contains(&format!("git+git://127.0.0.1:{port}/foo")),
        "{lock}"
    );
    assert_eq!(runs(&runs_file), 3);
    assert_eq!(breakers.states()[0].state.name(), "closed");
}

#[tokio::test]
async fn a_repository_missing_on_a_working_host_is_not_an_outage() {
    let registry = LoopbackRegistry::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let _daemon = GitDaemon::start(&tmp.path().join("served"), port);
    let (ws, mut files) = workspace_with_git_dependency(port);
    let a = files.get_mut("crates/a/Cargo.toml").unwrap();
    *a = a.replace(&format!("{port}/foo"), &format!("{port}/gone"));
    let breakers = Arc::new(Breakers::new("git", BreakerPolicy::for_git_host()));
    let resolver = loopback_resolver(&registry, &breakers);
    let refresh = REFRESH;
    for _ in 0..3 {
        let err = resolver.resolve(&ws, &files, &refresh).await.unwrap_err();
        assert!(matches!(err, ResolveError::Cargo { .. }), "{err}");
    }
    assert_eq!(breakers.states()[0].state.name(), "closed");
}
