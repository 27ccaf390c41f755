//! The dependency plan, from a repository's files and what the index offers: a world is built
//! (manifests, lockfile, index versions, open PRs), discovered as the app discovers it from a
//! git tree, planned, and the PRs the plan wants are checked.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use semver::Version;
use upkeep::config::{self, RepoConfig};
use upkeep::deps::{
    discover, plan, Candidate, Discovery, Held, OpenPr, Plan, PlanInput, PrKind, Workspace,
};

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0).unwrap()
}

/// A repository and the index it resolves against.
#[derive(Default)]
struct World {
    files: BTreeMap<String, String>,
    locked: Vec<(String, String)>,
    index: BTreeMap<String, Vec<Candidate>>,
    config: String,
    open: Vec<OpenPr>,
}

impl World {
    fn file(mut self, path: &str, text: &str) -> Self {
        self.files.insert(path.into(), text.into());
        self
    }
    fn locked(mut self, name: &str, version: &str) -> Self {
        self.locked.push((name.into(), version.into()));
        self
    }
    /// Published versions: `"1.2.3"`, `"1.2.3 yanked"`, `"1.2.3 rust=1.80"`, `"1.2.3 age=2"`.
    fn index(mut self, name: &str, versions: &[&str]) -> Self {
        let list = versions
            .iter()
            .map(|spec| {
                let mut words = spec.split_whitespace();
                let mut c = Candidate {
                    version: v(words.next().unwrap()),
                    yanked: false,
                    rust_version: None,
                    published: Some(now() - Duration::days(400)),
                };
                for w in words {
                    if w == "yanked" {
                        c.yanked = true;
                    } else if let Some(r) = w.strip_prefix("rust=") {
                        c.rust_version = Some(v(&format!("{r}.0")));
                    } else if let Some(d) = w.strip_prefix("age=") {
                        c.published = Some(now() - Duration::days(d.parse().unwrap()));
                    }
                }
                c
            })
            .collect();
        self.index.insert(name.into(), list);
        self
    }
    fn config(mut self, text: &str) -> Self {
        self.config = text.into();
        self
    }
    fn open_pr(mut self, number: u64, branch: &str) -> Self {
        self.open.push(OpenPr {
            number,
            branch: branch.into(),
        });
        self
    }

    fn lockfile(&self) -> String {
        let mut s = String::from("version = 3\n");
        for (name, version) in &self.locked {
            s.push_str(&format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
            ));
        }
        s
    }

    /// Discovers as the app does: tree first, then the files discovery asks for, round by round.
    fn workspace(&self) -> Workspace {
        let mut all = self.files.clone();
        all.insert("Cargo.lock".into(), self.lockfile());
        let tree: Vec<String> = all.keys().cloned().collect();
        let mut fetched = BTreeMap::new();
        for _round in 0..5 {
            match discover(&tree, &fetched) {
                Discovery::Found(mut found) => {
                    assert_eq!(found.len(), 1, "one workspace expected");
                    return found.remove(0);
                }
                Discovery::Need(paths) => {
                    for p in paths {
                        fetched.insert(p.clone(), all[&p].clone());
                    }
                }
            }
        }
        panic!("discovery did not settle in 5 rounds");
    }

    fn plan(&self) -> Plan {
        let ws = self.workspace();
        let parsed = config::parse(&self.config);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let cfg: RepoConfig = parsed.config;
        plan(&PlanInput {
            workspace: &ws,
            config: &cfg,
            versions: &self.index,
            open_prs: &self.open,
            now: now(),
            unreachable: &[],
        })
    }
}

fn app(deps: &str) -> String {
    format!("[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\nrust-version = \"1.70\"\n\n[dependencies]\n{deps}")
}

#[test]
fn compatible_updates_travel_together_in_one_lockfile_refresh() {
    let plan = World::default()
        .file("Cargo.toml", &app("serde = \"1.0\"\nlog = \"0.4\"\n"))
        .locked("serde", "1.0.150")
        .locked("log", "0.4.17")
        .locked("itoa", "1.0.1")
        .index("serde", &["1.0.150", "1.0.228"])
        .index("log", &["0.4.17", "0.4.22"])
        .index("itoa", &["1.0.1", "1.0.15"])
        .plan();
    assert_eq!(plan.pull_requests.len(), 1, "{plan:#?}");
    let pr = &plan.pull_requests[0];
    assert_eq!(pr.kind, PrKind::Refresh);
    assert_eq!(pr.branch, "upkeep/cargo/lockfile-refresh");
    assert_eq!(pr.title, "Refresh Cargo.lock: 3 compatible updates");
    let moved: Vec<String> = pr
        .updates
        .iter()
        .map(|u| format!("{} {}→{} direct={}", u.name, u.from, u.to, u.direct))
        .collect();
    assert_eq!(
        moved,
        vec![
            "serde 1.0.150→1.0.228 direct=true",
            "log 0.4.17→0.4.22 direct=true",
            "itoa 1.0.1→1.0.15 direct=false",
        ]
    );
    assert!(pr.edits.is_empty(), "lockfile-only by default");
    assert!(!pr.automerge);
}

#[test]
fn a_pre_1_0_minor_is_a_breaking_bump_and_its_patch_is_a_refresh() {
    let plan = World::default()
        .file("Cargo.toml", &app("rand = \"0.8\"\n"))
        .locked("rand", "0.8.1")
        .index("rand", &["0.8.1", "0.8.5", "0.9.0"])
        .plan();
    let kinds: Vec<(PrKind, &str)> = plan
        .pull_requests
        .iter()
        .map(|p| (p.kind, p.title.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (PrKind::Refresh, "Refresh Cargo.lock: 1 compatible update"),
            (PrKind::Bump, "Bump rand from 0.8.1 to 0.9.0"),
        ]
    );
    let bump = &plan.pull_requests[1];
    assert_eq!(bump.branch, "upkeep/cargo/rand");
    assert_eq!(bump.edits.len(), 1);
    assert_eq!(
        (bump.edits[0].from.as_str(), bump.edits[0].to.as_str()),
        ("0.8", "0.9")
    );
}

#[test]
fn an_inherited_dependency_is_bumped_once_in_the_workspace_table() {
    let root = "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"crates/old\"]\n\n[workspace.package]\nrust-version = \"1.75\"\n\n[workspace.dependencies]\n# keep in sync\ntokio = { version = \"1.40\", features = [\"rt\"] }\n";
    let member = |name: &str| {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nrust-version.workspace = true\n\n[dependencies]\ntokio = {{ workspace = true }}\n")
    };
    let world = World::default()
        .file("Cargo.toml", root)
        .file("crates/a/Cargo.toml", &member("a"))
        .file("crates/b/Cargo.toml", &member("b"))
        .file("crates/old/Cargo.toml", "this is not even toml [")
        .locked("tokio", "1.40.0")
        .index("tokio", &["1.40.0", "2.1.0"]);
    let ws = world.workspace();
    let names: Vec<&str> = ws.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, vec!["a", "b"], "globs expanded, excludes honoured");
    assert_eq!(ws.msrv, Some(v("1.75.0")), "rust-version inherited");
    assert!(ws.problems.is_empty(), "{:?}", ws.problems);
    let plan = world.plan();
    assert_eq!(plan.pull_requests.len(), 1, "{plan:#?}");
    let edits = &plan.pull_requests[0].edits;
    assert_eq!(
        edits.len(),
        1,
        "one edit, in [workspace.dependencies]: {edits:#?}"
    );
    assert_eq!(edits[0].manifest, "Cargo.toml");
    assert_eq!(edits[0].table, vec!["workspace", "dependencies"]);
    assert_eq!(edits[0].to, "2.1");
}

#[test]
fn moving_off_a_yanked_version_comes_first_and_skips_the_cooldown() {
    let plan = World::default()
        .file("Cargo.toml", &app("foo = \"1\"\nbar = \"1\"\n"))
        .config("[cooldown]\ndefault-days = 7\n")
        .locked("foo", "1.2.3")
        .locked("bar", "1.0.0")
        .index("foo", &["1.2.3 yanked", "1.2.4 age=1"])
        .index("bar", &["1.0.0", "1.0.1 age=1", "1.0.2 age=30"])
        .plan();
    let first = &plan.pull_requests[0];
    assert_eq!(first.kind, PrKind::Yanked);
    assert_eq!(first.title, "Move foo off yanked 1.2.3 to 1.2.4");
    assert_eq!(first.branch, "upkeep/cargo/foo-yanked");
    assert_eq!(
        first.precise,
        vec![("foo".to_owned(), v("1.2.3"), v("1.2.4"))]
    );
    assert!(first.updates[0].from_yanked);
    // bar: 1.0.2 is past the cooldown, 1.0.1 is not but is older anyway.
    let refresh = &plan.pull_requests[1];
    assert_eq!(refresh.updates[0].to, v("1.0.2"));
}

#[test]
fn a_newest_version_needing_a_newer_rust_than_the_msrv_is_passed_over() {
    let plan = World::default()
        .file("Cargo.toml", &app("clap = \"4.0\"\n"))
        .locked("clap", "4.0.0")
        .index("clap", &["4.0.0", "4.4.0 rust=1.70", "4.5.0 rust=1.74"])
        .plan();
    let u = &plan.pull_requests[0].updates[0];
    assert_eq!(u.to, v("4.4.0"));
    assert_eq!(u.rust_version, Some(v("1.70.0")));
}

#[test]
fn msrv_off_takes_the_newest() {
    let plan = World::default()
        .file("Cargo.toml", &app("clap = \"4.0\"\n"))
        .config("msrv = false\n")
        .locked("clap", "4.0.0")
        .index("clap", &["4.0.0", "4.4.0 rust=1.70", "4.5.0 rust=1.74"])
        .plan();
    assert_eq!(plan.pull_requests[0].updates[0].to, v("4.5.0"));
}

#[test]
fn an_ignored_dependency_is_held_with_the_reason() {
    let plan = World::default()
        .file("Cargo.toml", &app("serde = \"1\"\nrand = \"0.8\"\n"))
        .config("[[ignore]]\ndependency-name = \"rand\"\nupdate-types = [\"major\", \"minor\"]\n")
        .locked("serde", "1.0.0")
        .locked("rand", "0.8.5")
        .index("serde", &["1.0.0", "2.0.0"])
        .index("rand", &["0.8.5", "0.9.0"])
        .plan();
    let titles: Vec<&str> = plan
        .pull_requests
        .iter()
        .map(|p| p.title.as_str())
        .collect();
    assert_eq!(titles, vec!["Bump serde from 1.0.0 to 2.0.0"]);
    assert_eq!(plan.waiting.len(), 1);
    assert_eq!(plan.waiting[0].name, "rand");
    assert_eq!(plan.waiting[0].held, Held::Ignored);
}

#[test]
fn a_release_in_its_cooldown_waits_and_says_until_when() {
    let plan = World::default()
        .file("Cargo.toml", &app("serde = \"1\"\n"))
        .config("[cooldown]\nsemver-patch-days = 3\n")
        .locked("serde", "1.0.0")
        .index("serde", &["1.0.0", "1.0.1 age=1"])
        .plan();
    assert!(plan.pull_requests.is_empty(), "{plan:#?}");
    match &plan.waiting[0].held {
        Held::Cooldown { until } => assert_eq!(*until, now() + Duration::days(2)),
        other => panic!("expected a cooldown, got {other:?}"),
    }
}

#[test]
fn the_pr_limit_holds_new_prs_but_existing_ones_are_updated() {
    let plan = World::default()
        .file("Cargo.toml", &app("a = \"1\"\nb = \"1\"\nc = \"1\"\n"))
        .config("open-pull-requests-limit = 2\n")
        .open_pr(7, "upkeep/cargo/c")
        .open_pr(9, "upkeep/security/x")
        .locked("a", "1.0.0")
        .locked("b", "1.0.0")
        .locked("c", "1.0.0")
        .index("a", &["1.0.0", "2.0.0"])
        .index("b", &["1.0.0", "2.0.0"])
        .index("c", &["1.0.0", "2.0.0"])
        .plan();
    let prs: Vec<(&str, Option<u64>)> = plan
        .pull_requests
        .iter()
        .map(|p| (p.branch.as_str(), p.existing))
        .collect();
    assert_eq!(
        prs,
        vec![("upkeep/cargo/a", None), ("upkeep/cargo/c", Some(7))],
        "c's PR is updated in place, a takes the one free slot"
    );
    assert_eq!(plan.waiting.len(), 1);
    assert_eq!(
        (plan.waiting[0].name.as_str(), &plan.waiting[0].held),
        ("b", &Held::Limit)
    );
    assert!(
        plan.to_close.is_empty(),
        "a security PR is not the plan's to close"
    );
}

#[test]
fn a_pr_the_plan_no_longer_wants_is_closed() {
    let plan = World::default()
        .file("Cargo.toml", &app("a = \"2\"\n"))
        .open_pr(3, "upkeep/cargo/a")
        .locked("a", "2.0.0")
        .index("a", &["1.0.0", "2.0.0"])
        .plan();
    assert!(plan.pull_requests.is_empty());
    assert_eq!(plan.to_close, vec![3]);
}

#[test]
fn a_group_puts_its_breaking_updates_in_one_pr() {
    let plan = World::default()
        .file(
            "Cargo.toml",
            &app("serde = \"1\"\nserde_json = \"1\"\nrand = \"0.8\"\n"),
        )
        .config("automerge = [\"major\"]\n[groups.serde]\npatterns = [\"serde*\"]\n")
        .locked("serde", "1.0.0")
        .locked("serde_json", "1.0.0")
        .locked("rand", "0.8.0")
        .index("serde", &["1.0.0", "2.0.0"])
        .index("serde_json", &["1.0.0", "2.0.0"])
        .index("rand", &["0.8.0", "0.9.0"])
        .plan();
    let prs: Vec<(&str, usize)> = plan
        .pull_requests
        .iter()
        .map(|p| (p.branch.as_str(), p.updates.len()))
        .collect();
    assert_eq!(
        prs,
        vec![("upkeep/cargo/rand", 1), ("upkeep/cargo/serde", 2)]
    );
    assert_eq!(
        plan.pull_requests[1].title,
        "Bump the serde group: 2 updates"
    );
    assert!(plan.pull_requests[1].automerge, "automerge = [\"major\"]");
    assert!(
        !plan.pull_requests[0].automerge,
        "0.8 → 0.9 is a minor level change"
    );
}

#[test]
fn the_compatible_bump_strategy_raises_requirements_in_the_refresh() {
    let plan = World::default()
        .file("Cargo.toml", &app("serde = \"1.0.100\"\n"))
        .config("[strategy]\ncompatible = \"bump\"\n")
        .locked("serde", "1.0.100")
        .index("serde", &["1.0.100", "1.0.228"])
        .plan();
    let pr = &plan.pull_requests[0];
    assert_eq!(pr.kind, PrKind::Refresh);
    assert_eq!(pr.edits.len(), 1);
    assert_eq!(pr.edits[0].to, "1.0.228");
}

#[test]
fn discovery_asks_for_the_root_first_then_the_members() {
    let tree: Vec<String> = [
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
        "m/x/Cargo.toml",
        "README.md",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut files = BTreeMap::new();
    let Discovery::Need(first) = discover(&tree, &files) else {
        panic!("needs files first")
    };
    assert_eq!(
        first,
        vec!["Cargo.lock", "Cargo.toml", "rust-toolchain.toml"]
    );
    files.insert(
        "Cargo.toml".into(),
        "[workspace]\nmembers = [\"m/*\"]\n".into(),
    );
    files.insert("Cargo.lock".into(), "version = 4\n".into());
    files.insert(
        "rust-toolchain.toml".into(),
        "[toolchain]\nchannel = \"1.82\"\n".into(),
    );
    let Discovery::Need(second) = discover(&tree, &files) else {
        panic!("needs the member next")
    };
    assert_eq!(second, vec!["m/x/Cargo.toml"]);
    files.insert(
        "m/x/Cargo.toml".into(),
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n[dependencies]\ny = { path = \"../y\" }\n"
            .into(),
    );
    let Discovery::Found(found) = discover(&tree, &files) else {
        panic!("found")
    };
    assert_eq!(found[0].toolchain.as_deref(), Some("1.82"));
    assert_eq!(
        found[0].msrv,
        Some(v("1.82.0")),
        "a numeric toolchain is the MSRV without rust-version"
    );
}

#[test]
fn each_locked_copy_of_a_crate_is_moved_off_its_yanked_release_on_its_own_branch() {
    // syn 1 for the crate itself, syn 2 for a derive it uses: both copies yanked.
    let plan = World::default()
        .file("Cargo.toml", &app("syn = \"1\"\n"))
        .locked("syn", "1.0.100")
        .locked("syn", "2.0.30")
        .locked("rand", "0.7.2")
        .index(
            "syn",
            &["1.0.100 yanked", "1.0.109", "2.0.30 yanked", "2.0.31"],
        )
        .index("rand", &["0.7.2 yanked", "0.7.3"])
        .plan();
    let yanked: Vec<(&str, &str)> = plan
        .pull_requests
        .iter()
        .filter(|p| p.kind == PrKind::Yanked)
        .map(|p| (p.branch.as_str(), p.title.as_str()))
        .collect();
    assert_eq!(
        yanked,
        [
            (
                "upkeep/cargo/syn-1-yanked",
                "Move syn off yanked 1.0.100 to 1.0.109"
            ),
            (
                "upkeep/cargo/syn-2-yanked",
                "Move syn off yanked 2.0.30 to 2.0.31"
            ),
            (
                "upkeep/cargo/rand-yanked",
                "Move rand off yanked 0.7.2 to 0.7.3"
            ),
        ]
    );
    let syn2 = plan
        .pull_requests
        .iter()
        .find(|p| p.branch.ends_with("syn-2-yanked"))
        .unwrap();
    assert_eq!(
        syn2.precise,
        vec![("syn".to_owned(), v("2.0.30"), v("2.0.31"))],
        "cargo update -p syn@2.0.30 moves only that copy"
    );
}

#[test]
fn a_lockfile_refresh_stays_inside_an_exact_or_tilde_requirement() {
    let plan = World::default()
        .file(
            "Cargo.toml",
            &app("thiserror = \"=1.0.40\"\nlog = \"~0.4.17\"\nserde = \"1\"\n"),
        )
        .locked("thiserror", "1.0.40")
        .locked("log", "0.4.17")
        .locked("serde", "1.0.100")
        .index("thiserror", &["1.0.40", "1.0.69"])
        .index("log", &["0.4.17", "0.4.22"])
        .index("serde", &["1.0.100", "1.0.200"])
        .plan();
    let refresh = plan
        .pull_requests
        .iter()
        .find(|p| p.kind == PrKind::Refresh)
        .unwrap();
    let moved: Vec<(&str, String)> = refresh
        .updates
        .iter()
        .map(|u| (u.name.as_str(), u.to.to_string()))
        .collect();
    // `=1.0.40` pins thiserror; `~0.4.17` allows 0.4.22; serde moves as ever.
    assert_eq!(
        moved,
        [
            ("log", "0.4.22".to_owned()),
            ("serde", "1.0.200".to_owned())
        ]
    );
}
