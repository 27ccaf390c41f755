//! Requirement rewrites in manifests: the ones a breaking update needs (every requirement on
//! the crate made to admit the new version, in the author's style) and, with
//! `requirements = "bump"`, the ones that make each requirement say the version the lockfile
//! really uses (issue 25). Pure.

use std::collections::{BTreeMap, BTreeSet};

use semver::Version;

use super::requirement;
use super::workspace::{DeclSource, Workspace};
use crate::config::RepoConfig;

/// A requirement to rewrite in one manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequirementEdit {
    pub manifest: String,
    pub table: Vec<String>,
    pub key: String,
    pub from: String,
    pub to: String,
}

/// The rewrites that make every requirement on `package` admit `to`. With `all`, requirements
/// that already admit it are raised too (the `bump` strategy for compatible updates).
pub(crate) fn requirement_edits(
    ws: &Workspace,
    package: &str,
    to: &Version,
    all: bool,
) -> Vec<Result<RequirementEdit, String>> {
    let mut seen = BTreeSet::new();
    ws.declared
        .iter()
        .filter(|d| d.package == package && matches!(d.source, DeclSource::Registry { .. }))
        .filter(|d| seen.insert((d.manifest.clone(), d.table.clone(), d.key.clone())))
        .filter_map(|d| {
            let from = d.req.clone()?;
            let admits = d.version_req().is_some_and(|r| r.matches(to));
            if admits && !all {
                return None;
            }
            let new = match requirement::bump(&from, to) {
                Ok(n) => n,
                Err(e) => return Some(Err(format!("{}: {e}", d.manifest))),
            };
            (new != from).then(|| {
                Ok(RequirementEdit {
                    manifest: d.manifest.clone(),
                    table: d.table.clone(),
                    key: d.key.clone(),
                    from,
                    to: new,
                })
            })
        })
        .collect()
}

/// With `requirements = "bump"` (per member, `[[package]]` rules applied): every registry
/// requirement of a member that bumps, raised to the version the lockfile holds once `moves`
/// (`(name, from, to)`, the refresh) are made. A `[workspace.dependencies]` entry is raised
/// only when every member inheriting it bumps. Requirements that already name the locked
/// version, exact pins, wildcards and ranges are left as they are.
pub(crate) fn raise_edits(
    ws: &Workspace,
    config: &RepoConfig,
    moves: &[(&str, &Version, &Version)],
    yanked: &[(&str, &Version)],
) -> Vec<RequirementEdit> {
    // `Declared::member` is the member's directory.
    let members: BTreeMap<&str, (&str, bool)> = ws
        .members
        .iter()
        .map(|m| (m.dir.as_str(), (m.name.as_str(), m.has_lib)))
        .collect();
    let bumps = |dir: &str| match members.get(dir) {
        Some((name, lib)) => config.bumps_requirements(name, *lib),
        None => config.requirements == crate::config::Requirements::Bump,
    };
    let locked: Vec<(&str, &Version)> = ws
        .lockfile
        .as_ref()
        .map(|(_, l)| l.from_registries())
        .unwrap_or_default();
    // One requirement may serve several members (`workspace = true`): all must bump.
    let mut places: BTreeMap<(&str, &[String], &str), Vec<&super::workspace::Declared>> =
        BTreeMap::new();
    for d in &ws.declared {
        if matches!(d.source, DeclSource::Registry { .. }) && d.req.is_some() {
            places
                .entry((d.manifest.as_str(), d.table.as_slice(), d.key.as_str()))
                .or_default()
                .push(d);
        }
    }
    let mut out = Vec::new();
    for ((manifest, table, key), decls) in places {
        if !decls.iter().all(|d| bumps(&d.member)) {
            continue;
        }
        let d = decls[0];
        let (Some(from), Some(req)) = (d.req.clone(), d.version_req()) else {
            continue;
        };
        let Some(copy) = locked
            .iter()
            .filter(|(n, v)| *n == d.package && req.matches(v))
            .map(|(_, v)| *v)
            .max()
        else {
            continue;
        };
        if yanked.contains(&(d.package.as_str(), copy)) {
            continue;
        }
        let target = moves
            .iter()
            .find(|(n, f, _)| *n == d.package && *f == copy)
            .map_or(copy, |(_, _, t)| *t);
        if let Ok(Some(to)) = requirement::raise(&from, target) {
            out.push(RequirementEdit {
                manifest: manifest.to_owned(),
                table: table.to_vec(),
                key: key.to_owned(),
                from,
                to,
            });
        }
    }
    out
}

/// `edits` then `more`, one edit per requirement (the later one wins).
pub(crate) fn merge(
    edits: Vec<RequirementEdit>,
    more: Vec<RequirementEdit>,
) -> Vec<RequirementEdit> {
    let mut seen = BTreeSet::new();
    let mut out: Vec<RequirementEdit> = more
        .into_iter()
        .chain(edits)
        .filter(|e| seen.insert((e.manifest.clone(), e.table.clone(), e.key.clone())))
        .collect();
    out.sort_by(|a, b| (&a.manifest, &a.table, &a.key).cmp(&(&b.manifest, &b.table, &b.key)));
    out
}
