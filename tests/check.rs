//! `upkeep check PATH`: the same core as the server, on a local checkout, against a registry on
//! loopback. The plan is printed as text or JSON, configuration typos are reported, and
//! `--apply` rewrites requirements in place.

mod common;

use serde_json::json;

use common::check_cli::{check, fixture_copy};
use common::registry::LoopbackRegistry;

#[tokio::test]
async fn the_json_plan_names_each_update_with_its_crate_and_versions() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = fixture_copy();
    let (ok, stdout, stderr) = check(&repo, &registry.url(), &["--format", "json"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ws = &report["workspaces"][0];
    assert_eq!(ws["msrv"], "1.70.0");
    assert_eq!(ws["members"], serde_json::json!(["a", "b"]));
    let prs: Vec<(String, Vec<String>)> = ws["plan"]["pull_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pr| {
            let updates = pr["updates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| {
                    format!(
                        "{} {} -> {}",
                        u["crate"].as_str().unwrap(),
                        u["from"].as_str().unwrap(),
                        u["to"].as_str().unwrap()
                    )
                })
                .collect();
            (pr["kind"].as_str().unwrap().to_owned(), updates)
        })
        .collect();
    assert_eq!(
        prs,
        vec![
            (
                "yanked".to_owned(),
                vec!["demo-yanked 1.2.3 -> 1.2.4".to_owned()]
            ),
            (
                "refresh".to_owned(),
                vec![
                    "demo-log 0.4.17 -> 0.4.22".to_owned(),
                    "demo-rand 0.8.1 -> 0.8.5".to_owned()
                ]
            ),
            (
                "bump".to_owned(),
                vec!["demo-rand 0.8.1 -> 0.9.0".to_owned()]
            ),
        ],
        "demo-log 0.4.29 needs Rust 1.80, above the MSRV 1.70"
    );
    let problems = report["config_problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["line"], 2);
    assert!(problems[0]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `open-pull-requests-limit`"));
    // One request per crate, and the config file is not needed for a sparse index.
    let mut requested = registry.requested().await;
    requested.sort();
    assert_eq!(
        requested,
        vec!["/de/mo/demo-log", "/de/mo/demo-rand", "/de/mo/demo-yanked"]
    );
}

#[tokio::test]
async fn text_output_explains_what_waits_and_apply_rewrites_the_manifest() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = fixture_copy();
    let (ok, stdout, stderr) = check(&repo, &registry.url(), &["--apply"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("[bump] Bump demo-rand from 0.8.1 to 0.9.0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("demo-log 0.4.17 -> 0.4.29: needs Rust 1.80.0, above the MSRV"),
        "{stdout}"
    );
    assert!(stdout.contains(".github/upkeep.toml:2"), "{stdout}");
    assert!(stderr.contains("updated crates/a/Cargo.toml"), "{stderr}");
    assert!(stderr.contains("updated Cargo.lock"), "{stderr}");
    let a = std::fs::read_to_string(repo.join("crates/a/Cargo.toml")).unwrap();
    assert!(
        a.contains("demo-rand = \"0.9\" # pre-1.0: 0.9 is breaking"),
        "requirement bumped, comment kept:\n{a}"
    );
    let lock =
        upkeep::deps::lockfile::parse(&std::fs::read_to_string(repo.join("Cargo.lock")).unwrap())
            .unwrap();
    let mut versions: Vec<String> = lock
        .packages
        .iter()
        .filter(|p| p.name.starts_with("demo-"))
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        vec!["demo-log 0.4.22", "demo-rand 0.9.0", "demo-yanked 1.2.4"],
        "cargo resolved the whole plan, within the MSRV"
    );
}

#[test]
fn a_directory_without_a_manifest_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = check(tmp.path(), "http://127.0.0.1:9/", &[]);
    assert!(!ok);
    assert!(stderr.contains("not a Rust repository"), "{stderr}");
}

#[tokio::test]
async fn crates_from_a_private_sparse_registry_are_looked_up_there() {
    let private = LoopbackRegistry::start().await;
    let crates_io = LoopbackRegistry::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    let source = format!("sparse+{}", private.url());
    std::fs::create_dir_all(repo.join(".cargo")).unwrap();
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(
        repo.join(".cargo/config.toml"),
        format!("[registries.private]\nindex = \"{source}\"\n"),
    )
    .unwrap();
    std::fs::write(
        repo.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ndemo-log = { version = \"0.4\", registry = \"private\" }\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("Cargo.lock"),
        format!("version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"demo-log\"]\n\n[[package]]\nname = \"demo-log\"\nversion = \"0.4.17\"\nsource = \"{source}\"\n"),
    )
    .unwrap();
    let (ok, stdout, stderr) = check(repo, &crates_io.url(), &["--format", "json"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let update = &report["workspaces"][0]["plan"]["pull_requests"][0]["updates"][0];
    assert_eq!(update["crate"], "demo-log");
    assert_eq!(update["to"], "0.4.29", "no MSRV declared: the newest");
    assert_eq!(private.requested().await, vec!["/de/mo/demo-log"]);
    assert!(
        crates_io.requested().await.is_empty(),
        "nothing asked of crates.io"
    );
}

#[tokio::test]
async fn with_an_advisory_database_each_update_names_the_advisories_it_fixes() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = fixture_copy();
    let db = common::repo_root().join("tests/fixtures/advisory-db");
    let db = db.to_str().unwrap();
    let (ok, stdout, stderr) = check(
        &repo,
        &registry.url(),
        &["--format", "json", "--advisory-db", db],
    );
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let refresh = &report["workspaces"][0]["plan"]["pull_requests"][1];
    assert_eq!(refresh["kind"], "refresh");
    let log = &refresh["updates"][0];
    assert_eq!(log["crate"], "demo-log");
    assert_eq!(log["advisories_fixed"][0]["id"], "RUSTSEC-2099-0001");
    assert_eq!(log["advisories_fixed"][0]["severity"], "high");
    assert_eq!(
        refresh["updates"][1]["advisories_fixed"],
        serde_json::json!([])
    );
    let (ok, stdout, _) = check(&repo, &registry.url(), &["--advisory-db", db]);
    assert!(ok);
    assert!(
        stdout.contains("demo-log 0.4.17 -> 0.4.22 (patch, fixes RUSTSEC-2099-0001)"),
        "{stdout}"
    );
}

#[tokio::test]
async fn with_an_advisory_database_the_lockfile_is_audited_too() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = fixture_copy();
    let db = common::repo_root().join("tests/fixtures/advisory-db");
    let db = db.to_str().unwrap();
    let (ok, stdout, stderr) = check(
        &repo,
        &registry.url(),
        &["--format", "json", "--advisory-db", db],
    );
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings: Vec<(String, String, String, String)> = report["workspaces"][0]["advisories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or("-").to_owned(),
                f["crate"].as_str().unwrap().to_owned(),
                f["version"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        vec![
            (
                "RUSTSEC-2099-0001".into(),
                "demo-log".into(),
                "0.4.17".into(),
                "vulnerability".into()
            ),
            (
                "-".into(),
                "demo-yanked".into(),
                "1.2.3".into(),
                "yanked".into()
            ),
        ]
    );
    let (_, text, _) = check(&repo, &registry.url(), &["--advisory-db", db]);
    assert!(
        text.contains(
            "RUSTSEC-2099-0001 demo-log 0.4.17 (vulnerability, high): Log lines can leak secrets"
        ),
        "{text}"
    );
    assert!(text.contains("via a 0.1.0 -> demo-log 0.4.17"), "{text}");
    // What the server would do about it: a security PR, cooldown or not.
    let fix = &report["workspaces"][0]["security"]["fixes"][0];
    assert_eq!(fix["crate"], "demo-log");
    assert_eq!(fix["branch"], "upkeep/security/demo-log");
    assert_eq!(
        fix["attempts"][0]["precise"][0],
        json!(["demo-log", "0.4.17", "0.4.22"])
    );
    assert!(
        text.contains("fix demo-log 0.4.17 (RUSTSEC-2099-0001): demo-log 0.4.17 -> 0.4.22 (upkeep/security/demo-log; 1 way to try)"),
        "{text}"
    );
}

#[tokio::test]
async fn an_advisory_silenced_with_a_reason_is_shown_as_ignored() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = fixture_copy();
    std::fs::write(
        repo.join(".github/upkeep.toml"),
        "[[ignore]]\nadvisory = \"CVE-2099-0001\"\nreason = \"we never log secrets\"\n",
    )
    .unwrap();
    let db = common::repo_root().join("tests/fixtures/advisory-db");
    let (ok, text, stderr) = check(
        &repo,
        &registry.url(),
        &["--advisory-db", db.to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
    assert!(
        text.contains("ignored RUSTSEC-2099-0001 demo-log 0.4.17: we never log secrets"),
        "{text}"
    );
    assert!(!text.contains("fix demo-log"), "{text}");
}

#[tokio::test]
async fn crates_locked_at_several_versions_are_listed_with_what_requires_each_copy() {
    let registry = LoopbackRegistry::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    // A real lockfile (cargo generate-lockfile against crates.io): the crate requires syn 1,
    // thiserror 1's derive requires syn 2.
    common::check_cli::copy_dir(
        &common::repo_root().join("tests/fixtures/repos/duplicates"),
        &repo,
    );
    let (ok, stdout, stderr) = check(&repo, &registry.url(), &["--format", "json"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let dups = &report["workspaces"][0]["duplicates"];
    assert_eq!(
        dups,
        &json!([{
            "crate": "syn",
            "copies": [
                {"version": "1.0.109", "required_by": ["dupdemo 0.1.0"]},
                {"version": "2.0.119", "required_by": ["thiserror-impl 1.0.69"]}
            ],
            "removable": [
                {"copy": "1.0.109", "to": "2.0.119", "in_packages": ["dupdemo 0.1.0"]}
            ]
        }])
    );
    let (_, text, _) = check(&repo, &registry.url(), &[]);
    assert!(
        text.contains("  locked at several versions:\n      syn: 1.0.109 (required by dupdemo 0.1.0), 2.0.119 (required by thiserror-impl 1.0.69)\n        bumping syn to 2.0.119 in dupdemo 0.1.0 removes its 1.0.109 copy\n"),
        "{text}"
    );
}
