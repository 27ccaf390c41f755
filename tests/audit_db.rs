//! The RustSec database read with the `rustsec` crate: which advisories an update leaves
//! behind, on the real advisory-db snapshot in `../shared`.

mod common;

use semver::Version;
use upkeep::audit::AdvisoryDb;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

#[test]
fn an_update_past_the_patched_versions_fixes_the_advisories_and_one_within_does_not() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let db = AdvisoryDb::open(&shared.join("advisory-db")).unwrap();
    assert!(
        db.len() > 500,
        "the snapshot holds the database: {}",
        db.len()
    );
    let fixed = db.fixed_by("smallvec", &v("0.6.2"), &v("0.6.14"));
    let ids: Vec<&str> = fixed.iter().map(|a| a.id.as_str()).collect();
    assert!(ids.contains(&"RUSTSEC-2018-0003"), "{ids:?}");
    let double_free = fixed.iter().find(|a| a.id == "RUSTSEC-2018-0003").unwrap();
    assert!(double_free.aliases.contains(&"CVE-2018-20991".to_owned()));
    assert_eq!(double_free.severity.as_deref(), Some("critical"));
    assert_eq!(double_free.kind, "vulnerability");
    assert!(
        db.fixed_by("smallvec", &v("0.6.2"), &v("0.6.2")).is_empty(),
        "staying put fixes nothing"
    );
    assert!(db
        .fixed_by("not-a-crate-anyone-wrote", &v("1.0.0"), &v("2.0.0"))
        .is_empty());
}

#[test]
fn a_directory_that_is_not_a_database_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = AdvisoryDb::open(tmp.path())
        .err()
        .expect("no database there");
    assert!(err.to_string().contains("cannot be read"), "{err}");
}

#[test]
fn a_lockfile_audit_finds_what_cargo_audit_finds_with_the_chain_that_pulls_it_in() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let db = AdvisoryDb::open(&shared.join("advisory-db")).unwrap();
    let src = "registry+https://github.com/rust-lang/crates.io-index";
    let lock = format!(
        "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"middle\"]\n\n[[package]]\nname = \"middle\"\nversion = \"1.0.0\"\nsource = \"{src}\"\ndependencies = [\"smallvec\"]\n\n[[package]]\nname = \"smallvec\"\nversion = \"0.6.2\"\nsource = \"{src}\"\n"
    );
    let yanked = [("middle".to_owned(), "1.0.0".to_owned())]
        .into_iter()
        .collect();
    let findings = upkeep::audit::audit(&db, &lock, &yanked).unwrap();
    let double_free = findings
        .iter()
        .find(|f| f.id.as_deref() == Some("RUSTSEC-2018-0003"))
        .expect("smallvec 0.6.2 is vulnerable");
    assert_eq!(double_free.krate, "smallvec");
    assert_eq!(double_free.kind, "vulnerability");
    assert_eq!(
        double_free.chain,
        vec!["app 0.1.0", "middle 1.0.0", "smallvec 0.6.2"]
    );
    assert!(
        double_free.patched.iter().any(|p| p.contains("0.6.3")),
        "{:?}",
        double_free.patched
    );
    let y = findings
        .iter()
        .find(|f| f.kind == "yanked")
        .expect("yanked reported");
    assert_eq!((y.krate.as_str(), y.id.as_deref()), ("middle", None));
    assert!(
        findings.iter().all(|f| f.krate != "app"),
        "the workspace itself is not audited"
    );
}
