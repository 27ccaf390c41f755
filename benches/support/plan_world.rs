//! The planning benchmarks' world, shared by `plan` (criterion) and `instructions`
//! (gungraun): a workspace of 4 members with 60 direct dependencies and a 300-package
//! `Cargo.lock`, each crate with 40 published versions (some yanked, some needing a newer
//! Rust, some fresh).

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use semver::Version;
use upkeep::deps::{discover, plan, Candidate, Discovery, Plan, PlanInput};

pub const PACKAGES: usize = 300;
const DIRECT: usize = 60;
const MEMBERS: usize = 4;

fn name(i: usize) -> String {
    format!("crate-{i:03}")
}

/// The tree, the files and what the index offers.
pub type World = (
    Vec<String>,
    BTreeMap<String, String>,
    BTreeMap<String, Vec<Candidate>>,
);

pub fn world() -> World {
    let mut files = BTreeMap::new();
    files.insert(
        "Cargo.toml".to_owned(),
        "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nrust-version = \"1.75\"\n\n[workspace.dependencies]\ncrate-000 = \"1.0\"\n".to_owned(),
    );
    for m in 0..MEMBERS {
        let mut text = format!(
            "[package]\nname = \"member-{m}\"\nversion = \"0.1.0\"\nrust-version.workspace = true\n\n[dependencies]\ncrate-000 = {{ workspace = true }}\n"
        );
        for i in (1..DIRECT).filter(|i| i % MEMBERS == m) {
            let major = i % 3;
            text.push_str(&format!("{} = \"{major}.1\"\n", name(i)));
        }
        files.insert(format!("crates/m{m}/Cargo.toml"), text);
    }
    let mut lock = String::from("version = 4\n");
    let mut index = BTreeMap::new();
    let now = Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap();
    for i in 0..PACKAGES {
        let major = (i % 3) as u64;
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{}\"\nversion = \"{major}.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{:064x}\"\n",
            name(i),
            i
        ));
        let versions = (0..40u64)
            .map(|k| {
                let (maj, min) = (major + k / 20, k % 20);
                Candidate {
                    version: Version::new(maj, min, k % 3),
                    yanked: k % 11 == 0,
                    rust_version: Some(Version::new(1, 60 + k, 0)),
                    published: Some(now - Duration::days(400 - 9 * k as i64)),
                }
            })
            .collect();
        index.insert(name(i), versions);
    }
    files.insert("Cargo.lock".to_owned(), lock);
    let tree = files.keys().cloned().collect();
    (tree, files, index)
}

/// The configuration the planning benchmarks use.
pub fn config() -> upkeep::config::Parsed {
    upkeep::config::parse("[cooldown]\nsemver-patch-days = 3\nopen-pull-requests-limit = 10\n")
}

/// One planning of the world: discover the workspace, read its lockfile, plan.
pub fn plan_once((tree, files, index): &World, config: &upkeep::config::Parsed) -> Plan {
    let now = Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0).unwrap();
    let Discovery::Found(ws) = discover(tree, files) else {
        panic!("all files are there")
    };
    plan(&PlanInput {
        workspace: &ws[0],
        config: &config.config,
        versions: index,
        open_prs: &[],
        now,
        unreachable: &[],
    })
}
