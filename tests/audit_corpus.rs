//! upkeep's lockfile audit against cargo-audit's, on a corpus of real lockfiles
//! (`tests/fixtures/audit-corpus/*/audit.lock`, made by `cargo generate-lockfile` from the
//! manifests beside them, which pin old releases of crates with advisories) and the real
//! advisory database in `../shared`: the same advisory ids, crates, versions and kinds for every
//! file. cargo-audit runs with `--no-fetch` against the same database. Yanked versions are left
//! out of the comparison: both tools ask the live index for them, which changes over time.
//!
//! Needs `cargo-audit` (`cargo install cargo-audit --locked`); without it the test is skipped
//! with a reason, unless `UPKEEP_REQUIRE_CARGO_AUDIT` is set (as `.ci/run` does).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use upkeep::audit::AdvisoryDb;

/// (advisory id, crate, version, kind).
type Row = (String, String, String, String);

fn cargo_audit(db: &Path, lock: &Path) -> Option<BTreeSet<Row>> {
    let out = Command::new("cargo")
        .args(["audit", "--db"])
        .arg(db)
        .args(["--no-fetch", "--json", "--file"])
        .arg(lock)
        .output()
        .ok()?;
    let report: Value = serde_json::from_slice(&out.stdout).ok()?;
    let mut rows = BTreeSet::new();
    for v in report["vulnerabilities"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        rows.insert(row(v, "vulnerability"));
    }
    for (kind, list) in report["warnings"].as_object().into_iter().flatten() {
        if kind == "yanked" {
            continue;
        }
        for w in list.as_array().into_iter().flatten() {
            let kind = w["advisory"]["informational"]
                .as_str()
                .unwrap_or(kind)
                .to_owned();
            rows.insert(row(w, &kind));
        }
    }
    Some(rows)
}

fn row(v: &Value, kind: &str) -> Row {
    (
        v["advisory"]["id"].as_str().unwrap_or("-").to_owned(),
        v["package"]["name"].as_str().unwrap_or_default().to_owned(),
        v["package"]["version"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        kind.to_owned(),
    )
}

fn installed() -> bool {
    Command::new("cargo")
        .args(["audit", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn upkeep_finds_what_cargo_audit_finds_in_every_corpus_lockfile() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    if !installed() {
        assert!(
            std::env::var_os("UPKEEP_REQUIRE_CARGO_AUDIT").is_none(),
            "cargo-audit is required here: cargo install cargo-audit --locked"
        );
        eprintln!("SKIPPED: cargo-audit is not installed (cargo install cargo-audit --locked)");
        return;
    }
    let db_dir = shared.join("advisory-db");
    let db = AdvisoryDb::open(&db_dir).unwrap();
    let corpus = common::repo_root().join("tests/fixtures/audit-corpus");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path().join("audit.lock");
            p.exists().then_some(p)
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "the corpus holds {} lockfiles",
        files.len()
    );
    let mut failures = Vec::new();
    let mut total = 0;
    for lock in &files {
        let text = std::fs::read_to_string(lock).unwrap();
        let ours: BTreeSet<Row> = upkeep::audit::audit(&db, &text, &BTreeSet::new())
            .unwrap()
            .into_iter()
            .map(|f| (f.id.unwrap_or("-".into()), f.krate, f.version, f.kind))
            .collect();
        let theirs = cargo_audit(&db_dir, lock).expect("cargo audit answers JSON");
        total += theirs.len();
        if ours != theirs {
            let name = lock
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let only_ours: Vec<_> = ours.difference(&theirs).collect();
            let only_theirs: Vec<_> = theirs.difference(&ours).collect();
            failures.push(format!(
                "{name}:\n  only upkeep:      {only_ours:?}\n  only cargo-audit: {only_theirs:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "findings differ from cargo-audit's:\n{}",
        failures.join("\n")
    );
    assert!(total > 20, "the corpus exercises findings: {total}");
}
