//! Auditing a `Cargo.lock` the way cargo-audit does, with the same crate (`rustsec`'s report):
//! vulnerabilities, and warnings for unmaintained, unsound and notice advisories, plus yanked
//! versions (from the index upkeep already reads). Each finding carries the chain of packages
//! that pulls the crate in, from a workspace member down, and what the advisory says it
//! affects (functions, OS, architectures), which is reported, not filtered on, as cargo-audit
//! does without `--target-*`. Pure over its inputs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::str::FromStr;

use rustsec::advisory::Informational;
use rustsec::report::{Report, Settings};

use super::db::{AdvisoryDb, AuditError};

/// One thing wrong with a locked package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The advisory id; `None` for a yanked version.
    pub id: Option<String>,
    #[serde(rename = "crate")]
    pub krate: String,
    pub version: String,
    /// `vulnerability`, `unmaintained`, `unsound`, `notice` or `yanked`.
    pub kind: String,
    pub title: String,
    pub severity: Option<String>,
    pub aliases: Vec<String>,
    /// Version requirements that are patched.
    pub patched: Vec<String>,
    /// From a workspace member to the package: `["app 0.1.0", "b 1.0.0", "crate 0.3.1"]`.
    pub chain: Vec<String>,
    pub affected_functions: Vec<String>,
    pub affected_os: Vec<String>,
    pub affected_arch: Vec<String>,
}

/// Audits `lockfile_text` against `db`; `yanked` lists locked `(name, version)` the index
/// says are yanked.
pub fn audit(
    db: &AdvisoryDb,
    lockfile_text: &str,
    yanked: &BTreeSet<(String, String)>,
) -> Result<Vec<Finding>, AuditError> {
    let lockfile = rustsec::Lockfile::from_str(lockfile_text)
        .map_err(|e| AuditError::Lockfile(e.to_string()))?;
    let settings = Settings {
        informational_warnings: vec![
            Informational::Unmaintained,
            Informational::Unsound,
            Informational::Notice,
        ],
        ..Settings::default()
    };
    let report = Report::generate(db.database(), &lockfile, &settings);
    let chains = Chains::new(&lockfile);
    let mut out = Vec::new();
    for v in &report.vulnerabilities.list {
        out.push(finding(
            &v.advisory,
            Some(&v.versions),
            v.affected.as_ref(),
            &v.package,
            "vulnerability".to_owned(),
            &chains,
        ));
    }
    for warnings in report.warnings.values() {
        for w in warnings {
            let Some(advisory) = &w.advisory else {
                continue;
            };
            let kind = advisory
                .informational
                .as_ref()
                .map_or_else(|| w.kind.to_string(), ToString::to_string);
            out.push(finding(
                advisory,
                w.versions.as_ref(),
                w.affected.as_ref(),
                &w.package,
                kind,
                &chains,
            ));
        }
    }
    for p in &lockfile.packages {
        let key = (p.name.as_str().to_owned(), p.version.to_string());
        if yanked.contains(&key) {
            out.push(Finding {
                id: None,
                krate: key.0.clone(),
                version: key.1.clone(),
                kind: "yanked".into(),
                title: format!("{} {} was yanked by its authors", key.0, key.1),
                severity: None,
                aliases: Vec::new(),
                patched: Vec::new(),
                chain: chains.to(&key.0, &key.1),
                affected_functions: Vec::new(),
                affected_os: Vec::new(),
                affected_arch: Vec::new(),
            });
        }
    }
    out.sort_by(|a, b| (&a.krate, &a.version, &a.id).cmp(&(&b.krate, &b.version, &b.id)));
    out.dedup();
    Ok(out)
}

fn finding(
    advisory: &rustsec::advisory::Metadata,
    versions: Option<&rustsec::advisory::Versions>,
    affected: Option<&rustsec::advisory::Affected>,
    package: &rustsec::package::Package,
    kind: String,
    chains: &Chains,
) -> Finding {
    let name = package.name.as_str().to_owned();
    let version = package.version.to_string();
    Finding {
        id: Some(advisory.id.to_string()),
        chain: chains.to(&name, &version),
        krate: name,
        version,
        kind,
        title: advisory.title.clone(),
        severity: advisory.cvss.as_ref().map(|c| c.severity().to_string()),
        aliases: advisory.aliases.iter().map(ToString::to_string).collect(),
        patched: versions
            .map(|v| v.patched().iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        affected_functions: affected
            .map(|a| a.functions.keys().map(ToString::to_string).collect())
            .unwrap_or_default(),
        affected_os: affected
            .map(|a| a.os.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        affected_arch: affected
            .map(|a| a.arch.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
    }
}

/// Who depends on whom in a lockfile, to explain how a package got in.
struct Chains {
    /// `name version` → the packages that depend on it.
    dependents: BTreeMap<String, Vec<String>>,
    /// Workspace members and path packages (no source).
    roots: BTreeSet<String>,
}

impl Chains {
    fn new(lockfile: &rustsec::Lockfile) -> Self {
        let mut dependents: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut roots = BTreeSet::new();
        for p in &lockfile.packages {
            let me = format!("{} {}", p.name.as_str(), p.version);
            if p.source.is_none() {
                roots.insert(me.clone());
            }
            for d in &p.dependencies {
                dependents
                    .entry(format!("{} {}", d.name.as_str(), d.version))
                    .or_default()
                    .push(me.clone());
            }
        }
        Chains { dependents, roots }
    }

    /// The shortest chain from a root to `name version` (breadth-first over dependents).
    fn to(&self, name: &str, version: &str) -> Vec<String> {
        let target = format!("{name} {version}");
        let mut previous: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([target.clone()]);
        let mut seen = BTreeSet::from([target.clone()]);
        while let Some(node) = queue.pop_front() {
            if self.roots.contains(&node) {
                let mut chain = vec![node.clone()];
                let mut at = node;
                while let Some(next) = previous.get(&at) {
                    chain.push(next.clone());
                    at = next.clone();
                }
                return chain;
            }
            for parent in self.dependents.get(&node).into_iter().flatten() {
                if seen.insert(parent.clone()) {
                    previous.insert(parent.clone(), node.clone());
                    queue.push_back(parent.clone());
                }
            }
        }
        vec![target]
    }
}
