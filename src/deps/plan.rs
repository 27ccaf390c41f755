//! The plan (pure core, no I/O): from a workspace, its configuration, what the index offers and
//! the upkeep PRs already open, decide which pull requests should exist. Moves off yanked
//! versions come first, then one "lockfile refresh" with every compatible update, then one PR
//! per breaking update (or per configured group) that bumps the requirement everywhere it
//! appears. Ignores, cooldown, MSRV and the open-PR limit all apply; what they hold back is
//! returned with the reason, for the dashboard. The webhook server and `upkeep check` both
//! call [`plan`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use semver::Version;

pub use super::edits::RequirementEdit;
use super::edits::{raise_edits, requirement_edits};
use super::select::{select, Candidate, Constraints, Scope, Skip};
use super::semver_rules::Change;
use super::workspace::{DeclSource, Workspace};
use crate::config::{BreakingStrategy, CompatibleStrategy, RepoConfig};

/// An upkeep PR that is already open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPr {
    pub number: u64,
    pub branch: String,
}

/// Everything the plan is decided from.
pub struct PlanInput<'a> {
    pub workspace: &'a Workspace,
    pub config: &'a RepoConfig,
    /// What the index offers, by crate name.
    pub versions: &'a BTreeMap<String, Vec<Candidate>>,
    pub open_prs: &'a [OpenPr],
    pub now: DateTime<Utc>,
    /// What upkeep cannot reach (`deps::reach::unreachable`): what it requires stays put.
    pub unreachable: &'a [super::reach::Unreachable],
}

/// One crate moving from one version to another.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Update {
    #[serde(rename = "crate")]
    pub name: String,
    pub from: Version,
    pub to: Version,
    pub change: Change,
    /// The `rust-version` the new version declares.
    pub rust_version: Option<Version>,
    /// Whether the version moved from is yanked.
    pub from_yanked: bool,
    /// Whether a workspace manifest names it (else it is only in the lockfile).
    pub direct: bool,
    /// RustSec advisories this update leaves behind (filled in when a database is at hand).
    pub advisories_fixed: Vec<crate::audit::AdvisoryRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrKind {
    /// Moves a locked version off a yanked release.
    Yanked,
    /// Every compatible update in one lockfile change.
    Refresh,
    /// A breaking update: requirements bumped.
    Bump,
    /// Fixes a vulnerability (see `audit::plan`): outside the schedule and the PR limit.
    Security,
}

/// A pull request the plan wants to exist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedPr {
    pub kind: PrKind,
    pub branch: String,
    pub title: String,
    pub updates: Vec<Update>,
    pub edits: Vec<RequirementEdit>,
    /// Packages to pass to `cargo update -p name@from --precise to`, one by one. A refresh has
    /// them only when something compatible is held back (ignored, cooling down); otherwise it
    /// is a plain `cargo update`.
    pub precise: Vec<(String, Version, Version)>,
    /// Whether it may merge itself once green.
    pub automerge: bool,
    /// The open PR on this branch, to update instead of duplicating.
    pub existing: Option<u64>,
}

/// Why an update is not proposed now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Held {
    /// The open-PR limit is reached.
    Limit,
    /// The newest version is too fresh.
    Cooldown { until: DateTime<Utc> },
    /// `.github/upkeep.toml` ignores it.
    Ignored,
    /// Every newer version needs a newer Rust than the MSRV.
    Msrv { rust_version: String },
    /// The requirement cannot be rewritten automatically.
    Requirement { detail: String },
    /// Breaking updates are turned off (`strategy.breaking = "ignore"`).
    BreakingOff,
    /// A package upkeep cannot read requires it (`deps::reach`).
    Unreachable { detail: String },
}

/// An update held back, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Waiting {
    #[serde(rename = "crate")]
    pub name: String,
    pub from: Version,
    pub to: Option<Version>,
    #[serde(flatten)]
    pub held: Held,
}

/// What should happen in one workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    pub pull_requests: Vec<PlannedPr>,
    pub waiting: Vec<Waiting>,
    /// Open upkeep PRs whose branch the plan no longer wants (superseded or done).
    pub to_close: Vec<u64>,
    /// PRs the open-PR limit holds back (the dashboard offers to create them now).
    pub held_back: Vec<PlannedPr>,
}

impl Plan {
    /// Notes on every update the advisories it fixes.
    pub fn annotate_advisories(&mut self, db: &crate::audit::AdvisoryDb) {
        for pr in &mut self.pull_requests {
            for u in &mut pr.updates {
                u.advisories_fixed = db.fixed_by(&u.name, &u.from, &u.to);
            }
        }
    }
}

/// Decides the plan.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let ws = input.workspace;
    let config = input.config;
    let constraints = Constraints {
        msrv: if config.msrv { ws.msrv.clone() } else { None },
        cooldown_days: config.cooldown.as_pairs(),
        now: Some(input.now),
    };
    let urgent = Constraints {
        cooldown_days: Vec::new(),
        ..constraints.clone()
    };
    let direct: BTreeSet<&str> = ws
        .declared
        .iter()
        .filter(|d| matches!(d.source, DeclSource::Registry { .. }))
        .map(|d| d.package.as_str())
        .collect();
    let locked: Vec<(&str, &Version)> = ws
        .lockfile
        .as_ref()
        .map(|(_, l)| l.from_registries())
        .unwrap_or_default();

    let held_by_unreachable = super::reach::held(input.unreachable);
    let mut out = Plan::default();
    let mut yanked_prs = Vec::new();
    let mut refresh = Vec::new();
    // Whether something compatible is held back (ignored, cooling down): then the refresh moves
    // each crate precisely instead of running a plain `cargo update`.
    let mut refresh_held = false;
    for (name, current) in &locked {
        let Some(candidates) = input.versions.get(*name) else {
            continue;
        };
        let from_yanked = candidates
            .iter()
            .any(|c| c.version == **current && c.yanked);
        let rules = if from_yanked { &urgent } else { &constraints };
        // A lockfile change stays inside every manifest requirement on this copy (one that
        // matches the locked version: `=1.0.40` pins it, `~1.2` keeps it on 1.2); a copy no
        // manifest names is held only by its dependents, which Cargo resolves.
        let pins: Vec<semver::VersionReq> = ws
            .declared
            .iter()
            .filter(|d| d.package == *name && matches!(d.source, DeclSource::Registry { .. }))
            .filter_map(|d| d.version_req())
            .filter(|r| r.matches(current))
            .collect();
        let allowed: Vec<Candidate>;
        let candidates = if pins.is_empty() {
            candidates
        } else {
            allowed = candidates
                .iter()
                .filter(|c| c.version == **current || pins.iter().all(|r| r.matches(&c.version)))
                .cloned()
                .collect();
            &allowed
        };
        let sel = select(current, candidates, Scope::Compatible, rules);
        // A newer version held back (MSRV, cooldown) is worth showing even when an older
        // one is taken.
        // Plain `cargo update` would take what the cooldown holds back.
        refresh_held |= sel
            .skipped
            .iter()
            .any(|(_, s)| matches!(s, Skip::Cooldown { .. }));
        if let Some(w) = held_from_skips(name, current, &sel.skipped) {
            out.waiting.push(w);
        }
        let Some((to, change)) = sel.chosen else {
            continue;
        };
        if let Some(detail) = held_by_unreachable.get(&((*name).to_owned(), (*current).clone())) {
            out.waiting.push(waiting(
                name,
                current,
                Some(&to),
                Held::Unreachable {
                    detail: detail.clone(),
                },
            ));
            refresh_held = true;
            continue;
        }
        if config.is_ignored(name, &to, change.level) {
            refresh_held = true;
            out.waiting
                .push(waiting(name, current, Some(&to), Held::Ignored));
            continue;
        }
        let update = Update {
            name: (*name).to_owned(),
            from: (*current).clone(),
            rust_version: rust_version_of(candidates, &to),
            to,
            change,
            from_yanked,
            direct: direct.contains(name),
            advisories_fixed: Vec::new(),
        };
        if from_yanked {
            yanked_prs.push(update);
        } else {
            refresh.push(update);
        }
    }

    let prefix = branch_prefix(&ws.root);
    let mut prs = Vec::new();
    // A crate locked at several versions (syn 1 and syn 2) gets one yanked move per copy: the
    // branch names the copy by its compatible series, which no other copy can share.
    let mut copies: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, _) in &locked {
        *copies.entry(name).or_default() += 1;
    }
    // A copy on a yanked version has its own PR: a requirement never names a yanked release.
    let yanked_copies: Vec<(String, Version)> = yanked_prs
        .iter()
        .map(|u: &Update| (u.name.clone(), u.from.clone()))
        .collect();
    for u in yanked_prs {
        let copy = if copies.get(u.name.as_str()).copied().unwrap_or(0) > 1 {
            format!("-{}", series(&u.from))
        } else {
            String::new()
        };
        let title = config.prefixed(&format!(
            "Move {} off yanked {} to {}",
            u.name, u.from, u.to
        ));
        prs.push(PlannedPr {
            kind: PrKind::Yanked,
            branch: format!("{prefix}{}{copy}-yanked", slug(&u.name)),
            title: in_root(title, &ws.root),
            precise: vec![(u.name.clone(), u.from.clone(), u.to.clone())],
            automerge: config.automerges(u.change.level),
            updates: vec![u],
            edits: Vec::new(),
            existing: None,
        });
    }
    // `requirements = "bump"`: the refresh also makes each requirement name the locked version,
    // and exists for that alone when nothing else moves.
    let moves: Vec<(&str, &Version, &Version)> = refresh
        .iter()
        .map(|u| (u.name.as_str(), &u.from, &u.to))
        .collect();
    let yanked: Vec<(&str, &Version)> =
        yanked_copies.iter().map(|(n, v)| (n.as_str(), v)).collect();
    let raises = raise_edits(ws, config, &moves, &yanked);
    if !refresh.is_empty() || !raises.is_empty() {
        let compatible = if config.compatible == CompatibleStrategy::Bump {
            refresh
                .iter()
                .filter(|u| u.direct)
                .flat_map(|u| requirement_edits(ws, &u.name, &u.to, true))
                .filter_map(Result::ok)
                .collect()
        } else {
            Vec::new()
        };
        let edits = if raises.is_empty() {
            compatible
        } else {
            super::edits::merge(compatible, raises)
        };
        let n = refresh.len();
        let title = config.prefixed(&if n == 0 {
            let r = edits.len();
            format!(
                "Raise {r} requirement{} to the versions Cargo.lock uses",
                if r == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "Refresh Cargo.lock: {n} compatible update{}",
                if n == 1 { "" } else { "s" }
            )
        });
        let level = refresh.iter().map(|u| u.change.level).max();
        prs.push(PlannedPr {
            kind: PrKind::Refresh,
            branch: format!("{prefix}lockfile-refresh"),
            title: in_root(title, &ws.root),
            automerge: level.is_some_and(|l| {
                refresh.iter().all(|u| config.automerges(u.change.level)) && config.automerges(l)
            }),
            precise: if refresh_held {
                refresh
                    .iter()
                    .map(|u| (u.name.clone(), u.from.clone(), u.to.clone()))
                    .collect()
            } else {
                Vec::new()
            },
            updates: refresh,
            edits,
            existing: None,
        });
    }
    prs.extend(breaking(input, &constraints, &locked, &mut out.waiting));

    // Existing PRs are updated in place; new ones wait for room under the limit.
    let ours: Vec<&OpenPr> = input
        .open_prs
        .iter()
        .filter(|p| {
            p.branch
                .strip_prefix(&prefix)
                .is_some_and(|rest| !rest.contains('/'))
        })
        .collect();
    let wanted: BTreeSet<&str> = prs.iter().map(|p| p.branch.as_str()).collect();
    out.to_close = ours
        .iter()
        .filter(|p| !wanted.contains(p.branch.as_str()))
        .map(|p| p.number)
        .collect();
    let mut open = ours.len() - out.to_close.len();
    for mut pr in prs {
        pr.existing = ours
            .iter()
            .find(|p| p.branch == pr.branch)
            .map(|p| p.number);
        if pr.existing.is_some() || pr.kind == PrKind::Yanked {
            if pr.existing.is_none() {
                open += 1;
            }
            out.pull_requests.push(pr);
        } else if open < config.open_pull_requests_limit {
            open += 1;
            out.pull_requests.push(pr);
        } else {
            for u in &pr.updates {
                out.waiting
                    .push(waiting(&u.name, &u.from, Some(&u.to), Held::Limit));
            }
            out.held_back.push(pr);
        }
    }
    out
}

/// One PR per breaking update of a direct dependency (or per configured group).
fn breaking(
    input: &PlanInput<'_>,
    constraints: &Constraints,
    locked: &[(&str, &Version)],
    waiting_out: &mut Vec<Waiting>,
) -> Vec<PlannedPr> {
    let ws = input.workspace;
    let config = input.config;
    let mut by_package: BTreeMap<&str, Vec<&super::workspace::Declared>> = BTreeMap::new();
    for d in &ws.declared {
        if matches!(d.source, DeclSource::Registry { .. }) && d.req.is_some() {
            by_package.entry(d.package.as_str()).or_default().push(d);
        }
    }
    let mut singles = Vec::new();
    let mut groups: BTreeMap<String, Vec<(Update, Vec<RequirementEdit>)>> = BTreeMap::new();
    for (name, decls) in by_package {
        let Some(candidates) = input.versions.get(name) else {
            continue;
        };
        let Some(req) = decls.iter().find_map(|d| d.version_req()) else {
            continue;
        };
        // The locked version the requirement resolves to, else the lowest it admits.
        let current = locked
            .iter()
            .filter(|(n, v)| *n == name && req.matches(v))
            .map(|(_, v)| (*v).clone())
            .max()
            .or_else(|| {
                candidates
                    .iter()
                    .filter(|c| req.matches(&c.version))
                    .map(|c| c.version.clone())
                    .min()
            });
        let Some(current) = current else { continue };
        let sel = select(&current, candidates, Scope::Latest, constraints);
        let beyond: Vec<(Version, Skip)> = sel
            .skipped
            .iter()
            .filter(|(v, _)| !req.matches(v))
            .cloned()
            .collect();
        if let Some(w) = held_from_skips(name, &current, &beyond) {
            waiting_out.push(w);
        }
        let Some((to, change)) = sel.chosen else {
            continue;
        };
        if req.matches(&to) {
            continue; // compatible: the refresh takes it
        }
        if config.breaking == BreakingStrategy::Ignore {
            waiting_out.push(waiting(name, &current, Some(&to), Held::BreakingOff));
            continue;
        }
        if config.is_ignored(name, &to, change.level) {
            waiting_out.push(waiting(name, &current, Some(&to), Held::Ignored));
            continue;
        }
        let edits: Result<Vec<_>, _> = requirement_edits(ws, name, &to, false)
            .into_iter()
            .collect();
        let edits = match edits {
            Ok(e) => e,
            Err(detail) => {
                waiting_out.push(waiting(
                    name,
                    &current,
                    Some(&to),
                    Held::Requirement { detail },
                ));
                continue;
            }
        };
        let update = Update {
            name: name.to_owned(),
            from: current,
            rust_version: rust_version_of(candidates, &to),
            to,
            change,
            from_yanked: false,
            direct: true,
            advisories_fixed: Vec::new(),
        };
        match config.group_of(name, change.level) {
            Some(g) => groups
                .entry(g.name.clone())
                .or_default()
                .push((update, edits)),
            None => singles.push((update, edits)),
        }
    }
    let prefix = branch_prefix(&ws.root);
    let mut prs = Vec::new();
    for (update, edits) in singles {
        let title = config.prefixed(&format!(
            "Bump {} from {} to {}",
            update.name, update.from, update.to
        ));
        prs.push(PlannedPr {
            kind: PrKind::Bump,
            branch: format!("{prefix}{}", slug(&update.name)),
            title: in_root(title, &ws.root),
            automerge: config.automerges(update.change.level),
            precise: Vec::new(),
            updates: vec![update],
            edits,
            existing: None,
        });
    }
    for (group, members) in groups {
        let n = members.len();
        let title = config.prefixed(&format!(
            "Bump the {group} group: {n} update{}",
            if n == 1 { "" } else { "s" }
        ));
        let automerge = members
            .iter()
            .all(|(u, _)| config.automerges(u.change.level));
        let (updates, edits): (Vec<_>, Vec<_>) = members.into_iter().unzip();
        prs.push(PlannedPr {
            kind: PrKind::Bump,
            branch: format!("{prefix}{}", slug(&group)),
            title: in_root(title, &ws.root),
            automerge,
            precise: Vec::new(),
            updates,
            edits: edits.into_iter().flatten().collect(),
            existing: None,
        });
    }
    prs
}

fn held_from_skips(name: &str, current: &Version, skipped: &[(Version, Skip)]) -> Option<Waiting> {
    skipped.iter().find_map(|(version, skip)| {
        let held = match skip {
            Skip::Cooldown { until } => Held::Cooldown { until: *until },
            Skip::NeedsNewerRust { rust_version } => Held::Msrv {
                rust_version: rust_version.clone(),
            },
            _ => return None,
        };
        Some(waiting(name, current, Some(version), held))
    })
}

fn waiting(name: &str, from: &Version, to: Option<&Version>, held: Held) -> Waiting {
    Waiting {
        name: name.to_owned(),
        from: from.clone(),
        to: to.cloned(),
        held,
    }
}

fn rust_version_of(candidates: &[Candidate], v: &Version) -> Option<Version> {
    candidates
        .iter()
        .find(|c| c.version == *v)
        .and_then(|c| c.rust_version.clone())
}

/// `upkeep/cargo/` for the root workspace, `upkeep/cargo/<dir>/` for one in a subdirectory.
fn branch_prefix(root: &str) -> String {
    if root.is_empty() {
        "upkeep/cargo/".to_owned()
    } else {
        format!("upkeep/cargo/{}/", slug(root))
    }
}

fn in_root(title: String, root: &str) -> String {
    if root.is_empty() {
        title
    } else {
        format!("{title} in /{root}")
    }
}

/// A name safe in a branch: letters, digits, `-`, `_` and `.`; anything else becomes `-`.
/// A version's compatible series, as Cargo counts them: `2` for 2.x, `0.7` for 0.7.x, `0.0.3`.
fn series(v: &Version) -> String {
    match (v.major, v.minor) {
        (0, 0) => format!("0.0.{}", v.patch),
        (0, minor) => format!("0.{minor}"),
        (major, _) => major.to_string(),
    }
}

pub(crate) fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}
