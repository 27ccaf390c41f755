//! Requirements that say the truth (issue 25), on the fake GitHub with real cargo: with
//! `requirements = "bump"` the lockfile refresh also raises each requirement to the version the
//! new `Cargo.lock` uses (the author's operator and comments kept), a `[workspace.dependencies]`
//! entry only when every member inheriting it bumps, never to a yanked release; `[[package]]`
//! rules exempt members by name or by having a `[lib]`; with nothing newer to take, the PR
//! raises the requirements alone and takes nothing the plan held back. Lockfile-only stays the
//! default.

mod common;

use common::registry::LoopbackRegistry;
use common::repo_world::{self, REPO};
use fake_github::FakeGitHub;
use upkeep::deps::pass::{DepsPass, PassOutcome};
use upkeep::github::InstallationClient;

const REFRESH: &str = "upkeep/cargo/lockfile-refresh";

struct World {
    github: FakeGitHub,
    _registry: LoopbackRegistry,
    pass: DepsPass,
    client: InstallationClient,
}

impl World {
    /// The `inherited` fixture: members `a` (demo-rand "0.8") and `b` (demo-yanked "1"), both
    /// inheriting demo-log "0.4" from `[workspace.dependencies]`; locked at demo-log 0.4.17,
    /// demo-rand 0.8.1 and the yanked demo-yanked 1.2.3.
    async fn new(config: &str, extra: &[(&str, &str)]) -> World {
        let mut files = repo_world::fixture_files(Some(config));
        files.retain(|(p, _)| !extra.iter().any(|(e, _)| e == p));
        files.extend(
            extra
                .iter()
                .map(|(p, c)| ((*p).to_owned(), (*c).to_owned())),
        );
        let github = repo_world::github_with(&files).await;
        let registry = LoopbackRegistry::start().await;
        World {
            pass: repo_world::deps_pass(&registry),
            client: repo_world::installation_client(&github),
            _registry: registry,
            github,
        }
    }

    async fn run(&self) -> PassOutcome {
        self.pass
            .run(&self.client, REPO, &Default::default())
            .await
            .unwrap()
    }

    fn on(&self, branch: &str, path: &str) -> String {
        repo_world::file_on(&self.github, branch, path).unwrap()
    }

    fn title_of(&self, branch: &str) -> String {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .pulls
                .iter()
                .find(|p| p["head"]["ref"] == branch && p["state"] == "open")
                .map(|p| p["title"].as_str().unwrap().to_owned())
                .unwrap_or_default()
        })
    }
}

fn locked(lock: &str, name: &str) -> Vec<String> {
    upkeep::deps::lockfile::parse(lock)
        .unwrap()
        .packages
        .into_iter()
        .filter(|p| p.name == name)
        .map(|p| p.version.to_string())
        .collect()
}

#[tokio::test]
async fn the_refresh_raises_every_requirement_to_the_version_locked_after_it() {
    let world = World::new("requirements = \"bump\"\n", &[]).await;
    world.run().await;
    let lock = world.on(REFRESH, "Cargo.lock");
    assert_eq!(locked(&lock, "demo-log"), ["0.4.22"]);
    assert_eq!(locked(&lock, "demo-rand"), ["0.8.5"]);
    // Raised to what the refresh locks, operator, table style and comments kept.
    let root = world.on(REFRESH, "Cargo.toml");
    assert!(
        root.contains("# shared by every member\ndemo-log = { version = \"0.4.22\", default-features = false }"),
        "{root}"
    );
    let a = world.on(REFRESH, "crates/a/Cargo.toml");
    assert!(
        a.contains("demo-rand = \"0.8.5\" # pre-1.0: 0.9 is breaking"),
        "{a}"
    );
    // demo-yanked's locked copy is yanked (its own PR moves it): never named as a minimum.
    assert_eq!(
        world.on(REFRESH, "crates/b/Cargo.toml"),
        world.on("main", "crates/b/Cargo.toml")
    );
    assert_eq!(
        world.title_of(REFRESH),
        "Refresh Cargo.lock: 3 compatible updates"
    );
}

#[tokio::test]
async fn package_rules_exempt_members_by_name_and_a_shared_requirement_needs_every_member() {
    // `b` stays lockfile-only: demo-log, which `b` inherits too, is left alone; `a`'s own
    // requirement is raised.
    let world = World::new(
        "requirements = \"bump\"\n\n[[package]]\nname = \"b\"\nrequirements = \"lockfile\"\n",
        &[],
    )
    .await;
    world.run().await;
    assert_eq!(
        world.on(REFRESH, "Cargo.toml"),
        world.on("main", "Cargo.toml")
    );
    assert!(world
        .on(REFRESH, "crates/a/Cargo.toml")
        .contains("demo-rand = \"0.8.5\""));

    // By library target: `a` gets a `src/lib.rs` and the rule keeps libraries lockfile-only.
    let world = World::new(
        "requirements = \"bump\"\n\n[[package]]\nhas-lib = true\nrequirements = \"lockfile\"\n",
        &[("crates/a/src/lib.rs", "")],
    )
    .await;
    world.run().await;
    assert_eq!(
        world.on(REFRESH, "crates/a/Cargo.toml"),
        world.on("main", "crates/a/Cargo.toml")
    );
}

#[tokio::test]
async fn with_nothing_newer_the_pr_raises_requirements_alone_and_takes_nothing_held_back() {
    // demo-rand 0.8.5 and demo-log 0.4.22 are locked already; demo-log 0.4.29 needs Rust 1.80
    // (held back by the MSRV). Requirements still say 0.8 and 0.4.
    let lock = repo_world::fixture_files(None)
        .into_iter()
        .find(|(p, _)| p == "Cargo.lock")
        .unwrap()
        .1;
    let checksum = |name: &str, version: &str| -> String {
        let index = common::registry::fixture_index().join("de/mo").join(name);
        std::fs::read_to_string(index)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|e| e["vers"] == version)
            .unwrap()["cksum"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let moved = lock
        .replace("version = \"0.4.17\"", "version = \"0.4.22\"")
        .replace(
            &checksum("demo-log", "0.4.17"),
            &checksum("demo-log", "0.4.22"),
        )
        .replace("version = \"0.8.1\"", "version = \"0.8.5\"")
        .replace(
            &checksum("demo-rand", "0.8.1"),
            &checksum("demo-rand", "0.8.5"),
        );
    let world = World::new(
        "requirements = \"bump\"\nopen-pull-requests-limit = 10\n",
        &[("Cargo.lock", &moved)],
    )
    .await;
    world.run().await;
    assert_eq!(
        world.title_of(REFRESH),
        "Raise 2 requirements to the versions Cargo.lock uses"
    );
    let lock = world.on(REFRESH, "Cargo.lock");
    assert_eq!(
        locked(&lock, "demo-log"),
        ["0.4.22"],
        "0.4.29 stays held back"
    );
    assert!(world
        .on(REFRESH, "Cargo.toml")
        .contains("version = \"0.4.22\""));
}

#[tokio::test]
async fn lockfile_only_stays_the_default() {
    let world = World::new("", &[]).await;
    world.run().await;
    for path in ["Cargo.toml", "crates/a/Cargo.toml", "crates/b/Cargo.toml"] {
        assert_eq!(world.on(REFRESH, path), world.on("main", path), "{path}");
    }
}
