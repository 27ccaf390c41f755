//! The security plan (pure core, no I/O): from one workspace's audit findings, what the index
//! offers and the repository's configuration, decide how each vulnerable locked crate is fixed.
//! Every fix is a list of attempts, cheapest first, that the adapter hands to real cargo until
//! one leaves the advisories behind:
//!
//! 1. `cargo update -p crate@old --precise new` to the lowest patched release of each semver
//!    series above the locked one (the smallest change that fixes it; cargo refuses it when a
//!    requirement on the path excludes it);
//! 2. for a crate the workspace names itself, the requirement raised to that release;
//! 3. for a transitive crate, the direct dependency that pulls it in moved to its newest
//!    compatible release, then to its newest release with its requirement raised.
//!
//! Security fixes ignore the schedule, the cooldown and the PR limit. What has no patched
//! release becomes an advisory issue; an advisory silenced with a reason is set aside for the
//! dashboard.

use std::collections::BTreeMap;

use semver::Version;

use super::{AdvisoryDb, Finding};
use crate::config::RepoConfig;
use crate::deps::edits::requirement_edits;
use crate::deps::plan::slug;
use crate::deps::{
    classify, compatible, Candidate, DeclSource, PlannedPr, PrKind, RequirementEdit, Update,
    Workspace,
};

/// Branches of security PRs start with this.
pub const BRANCH_PREFIX: &str = "upkeep/security/";

/// Everything the security plan is decided from.
pub struct SecurityInput<'a> {
    pub workspace: &'a Workspace,
    /// The audit of this workspace's lockfile.
    pub findings: &'a [Finding],
    pub db: &'a AdvisoryDb,
    /// What the index offers, by crate name.
    pub versions: &'a BTreeMap<String, Vec<Candidate>>,
    pub config: &'a RepoConfig,
}

/// How one vulnerable locked crate gets fixed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecurityFix {
    #[serde(rename = "crate")]
    pub krate: String,
    pub from: Version,
    /// The vulnerabilities of this crate at this version.
    pub findings: Vec<Finding>,
    /// The PR's branch (the same for every attempt).
    pub branch: String,
    /// Tried in order; the first whose lockfile no longer has the advisories becomes the PR.
    pub attempts: Vec<PlannedPr>,
}

/// A vulnerability no release fixes yet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unfixable {
    pub finding: Finding,
    pub reason: String,
}

/// What the security plan decided for one workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SecurityPlan {
    pub fixes: Vec<SecurityFix>,
    pub unfixable: Vec<Unfixable>,
    /// Silenced by `.github/upkeep.toml`, with the reason.
    pub ignored: Vec<(Finding, String)>,
}

/// Decides the security plan.
pub fn security_plan(input: &SecurityInput<'_>) -> SecurityPlan {
    let mut out = SecurityPlan::default();
    // Vulnerabilities grouped by the locked package they are in.
    let mut by_package: BTreeMap<(String, Version), Vec<Finding>> = BTreeMap::new();
    for f in input.findings.iter().filter(|f| f.kind == "vulnerability") {
        let Some(id) = &f.id else { continue };
        if let Some(reason) = input.config.advisory_ignored(id, &f.aliases) {
            out.ignored.push((f.clone(), reason.to_owned()));
            continue;
        }
        let Ok(version) = Version::parse(&f.version) else {
            continue;
        };
        by_package
            .entry((f.krate.clone(), version))
            .or_default()
            .push(f.clone());
    }
    // A crate locked at several vulnerable versions gets one branch per version.
    let mut versions_of: BTreeMap<String, usize> = BTreeMap::new();
    for (name, _) in by_package.keys() {
        *versions_of.entry(name.clone()).or_default() += 1;
    }
    for ((name, from), findings) in by_package {
        let patched = patched_releases(input, &name, &from, &findings);
        if patched.is_empty() {
            for f in findings {
                let reason = if f.patched.is_empty() {
                    "no patched release exists".to_owned()
                } else {
                    format!(
                        "no published release of {name} is patched ({}) yet",
                        f.patched.join(", ")
                    )
                };
                out.unfixable.push(Unfixable { finding: f, reason });
            }
            continue;
        }
        let mut branch = security_branch(&input.workspace.root, &name);
        if versions_of.get(&name).is_some_and(|n| *n > 1) {
            branch = format!("{branch}-{from}");
        }
        let attempts = attempts(input, &name, &from, &findings, &patched, &branch);
        out.fixes.push(SecurityFix {
            krate: name,
            from,
            findings,
            branch,
            attempts,
        });
    }
    out
}

/// `upkeep/security/<crate>`, or `upkeep/security/<dir>/<crate>` for a workspace in a
/// subdirectory.
pub fn security_branch(root: &str, krate: &str) -> String {
    if root.is_empty() {
        format!("{BRANCH_PREFIX}{}", slug(krate))
    } else {
        format!("{BRANCH_PREFIX}{}/{}", slug(root), slug(krate))
    }
}

/// Published, unyanked releases above `from` that none of the advisories affect, oldest first.
fn patched_releases(
    input: &SecurityInput<'_>,
    name: &str,
    from: &Version,
    findings: &[Finding],
) -> Vec<Version> {
    let advisories: Vec<&rustsec::Advisory> = findings
        .iter()
        .filter_map(|f| f.id.as_deref())
        .filter_map(|id| input.db.advisory(id))
        .collect();
    let mut out: Vec<Version> = input
        .versions
        .get(name)
        .into_iter()
        .flatten()
        .filter(|c| !c.yanked && c.version > *from && c.version.pre.is_empty())
        .filter(|c| {
            advisories
                .iter()
                .all(|a| !a.versions.is_vulnerable(&c.version))
        })
        .map(|c| c.version.clone())
        .collect();
    out.sort();
    out
}

/// The ways to fix `name@from`, cheapest first.
fn attempts(
    input: &SecurityInput<'_>,
    name: &str,
    from: &Version,
    findings: &[Finding],
    patched: &[Version],
    branch: &str,
) -> Vec<PlannedPr> {
    let ws = input.workspace;
    let ids: Vec<&str> = findings.iter().filter_map(|f| f.id.as_deref()).collect();
    let title = |to: &Version| {
        input.config.prefixed(&format!(
            "Fix {} in {name}: {from} → {to}{}",
            ids.join(", "),
            if ws.root.is_empty() {
                String::new()
            } else {
                format!(" in /{}", ws.root)
            }
        ))
    };
    let update = |pkg: &str, old: &Version, to: &Version, direct: bool| Update {
        name: pkg.to_owned(),
        from: old.clone(),
        to: to.clone(),
        change: classify(old, to),
        rust_version: rust_version_of(input.versions, pkg, to),
        from_yanked: false,
        direct,
        advisories_fixed: Vec::new(),
    };
    let pr = |to: &Version, updates: Vec<Update>, edits, precise| PlannedPr {
        kind: PrKind::Security,
        branch: branch.to_owned(),
        title: title(to),
        updates,
        edits,
        precise,
        automerge: false,
        existing: None,
    };
    // Direct when the workspace names it and this locked version hangs off a member.
    let direct = findings.iter().any(|f| f.chain.len() <= 2)
        && ws
            .declared
            .iter()
            .any(|d| d.package == name && matches!(d.source, DeclSource::Registry { .. }));
    let mut out = Vec::new();
    // 1. The lowest patched release of each series, precisely (at most two series).
    let mut series: Vec<&Version> = Vec::new();
    for v in patched {
        if !series.iter().any(|s| compatible(s, v)) {
            series.push(v);
        }
    }
    for to in series.iter().take(2) {
        out.push(pr(
            to,
            vec![update(name, from, to, direct)],
            Vec::new(),
            vec![(name.to_owned(), from.clone(), (*to).clone())],
        ));
    }
    if direct {
        // 2. The workspace's own requirement excludes the fix: raise it.
        if let Some(to) = series.first() {
            if let Some(edits) = all_edits(ws, name, to) {
                out.push(pr(
                    to,
                    vec![update(name, from, to, true)],
                    edits,
                    Vec::new(),
                ));
            }
        }
        return out;
    }
    // 3. The direct dependency that holds it back, moved.
    let target = patched[0].clone();
    for holder in holders(ws, findings) {
        let Some((hname, hversion)) = holder.split_once(' ') else {
            continue;
        };
        let Ok(hfrom) = Version::parse(hversion) else {
            continue;
        };
        let releases: Vec<&Candidate> = input
            .versions
            .get(hname)
            .into_iter()
            .flatten()
            .filter(|c| !c.yanked && c.version > hfrom && c.version.pre.is_empty())
            .collect();
        let newest_compatible = releases
            .iter()
            .filter(|c| compatible(&hfrom, &c.version))
            .map(|c| &c.version)
            .max();
        if let Some(to) = newest_compatible {
            out.push(pr(
                &target,
                vec![
                    update(name, from, &target, false),
                    update(hname, &hfrom, to, true),
                ],
                Vec::new(),
                vec![(hname.to_owned(), hfrom.clone(), to.clone())],
            ));
        }
        let newest = releases.iter().map(|c| &c.version).max();
        if let Some(to) = newest.filter(|to| !compatible(&hfrom, to)) {
            if let Some(edits) = all_edits(ws, hname, to) {
                out.push(pr(
                    &target,
                    vec![
                        update(name, from, &target, false),
                        update(hname, &hfrom, to, true),
                    ],
                    edits,
                    Vec::new(),
                ));
            }
        }
    }
    out
}

/// The direct dependencies (`name version`) the findings' chains go through, in order.
fn holders(ws: &Workspace, findings: &[Finding]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in findings {
        // chain[0] is the member; chain[1] the dependency it names.
        if let Some(h) = f.chain.get(1).filter(|_| f.chain.len() > 2) {
            let name = h.split(' ').next().unwrap_or_default();
            let declared = ws
                .declared
                .iter()
                .any(|d| d.package == name && matches!(d.source, DeclSource::Registry { .. }));
            if declared && !out.contains(h) {
                out.push(h.clone());
            }
        }
    }
    out
}

/// The requirement edits that let `package` reach `to`, when there are some and all can be made.
fn all_edits(ws: &Workspace, package: &str, to: &Version) -> Option<Vec<RequirementEdit>> {
    let edits: Result<Vec<_>, _> = requirement_edits(ws, package, to, false)
        .into_iter()
        .collect();
    edits.ok().filter(|e| !e.is_empty())
}

fn rust_version_of(
    versions: &BTreeMap<String, Vec<Candidate>>,
    name: &str,
    v: &Version,
) -> Option<Version> {
    versions
        .get(name)?
        .iter()
        .find(|c| c.version == *v)
        .and_then(|c| c.rust_version.clone())
}
