//! Pull request bodies for dependency updates: a table of what moved (crate, from, to, semver
//! class, the new version's MSRV, whether the old one was yanked), links to read before merging
//! (the published sources' diff on diff.rs, the release on crates.io and its sources with the
//! changelog on docs.rs), the requirement edits, and the commands people can comment. The table
//! comes from the lockfile cargo actually produced, not from the prediction. A hidden marker
//! carries the plan's fingerprint so a later run can tell whether the PR is still current. Pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use semver::Version;
use sha2::{Digest, Sha256};

use super::plan::{PlannedPr, PrKind, RequirementEdit};
use super::semver_rules::{classify, Level};
use crate::audit::AdvisoryRef;
use crate::cargo::LockChange;
use crate::index::meta::CrateMeta;

/// The marker in every body; the fingerprint follows it.
pub const MARKER: &str = "<!-- upkeep:deps ";

/// What the PR changes, in a stable form: the same plan gives the same fingerprint.
pub fn fingerprint(pr: &PlannedPr) -> String {
    let mut h = Sha256::new();
    h.update(format!("{:?}", pr.kind));
    for u in &pr.updates {
        h.update(format!("|{} {} {}", u.name, u.from, u.to));
    }
    for e in &pr.edits {
        h.update(format!(
            "|{} {} {} {}",
            e.manifest,
            e.table.join("."),
            e.key,
            e.to
        ));
    }
    hex::encode(&h.finalize()[..12])
}

/// The fingerprint a body carries, if it is one of ours.
pub fn fingerprint_of(body: &str) -> Option<&str> {
    let start = body.find(MARKER)? + MARKER.len();
    let rest = &body[start..];
    rest.split_whitespace().next()
}

/// What a body says besides the plan: cargo's actual lockfile diff, the MSRV, the command
/// slug, what each new release says about itself (by crate name), the advisories fixed, and
/// the default-branch commit the PR is built on (recorded in the marker).
#[derive(Clone, Copy)]
pub struct BodyInputs<'a> {
    pub changes: &'a [LockChange],
    pub msrv: Option<&'a Version>,
    pub slug: &'a str,
    pub meta: &'a BTreeMap<String, CrateMeta>,
    pub fixed: &'a [(String, AdvisoryRef)],
    pub base: &'a str,
    /// What the change does to crates locked at several versions (`duplicates::changes`).
    pub duplicates: &'a [String],
}

/// The PR's body. `meta` holds what each new release says about itself (by crate name),
/// `fixed` the advisories the change leaves behind.
pub fn render(pr: &PlannedPr, inputs: &BodyInputs<'_>) -> String {
    let BodyInputs {
        changes,
        msrv,
        slug,
        meta,
        fixed,
        base,
        duplicates,
    } = *inputs;
    let mut s = String::new();
    let intro = match pr.kind {
        PrKind::Yanked => "Moves off a yanked release: the locked version was withdrawn by its authors.",
        PrKind::Refresh => {
            "Refreshes `Cargo.lock` with every update the current requirements already allow."
        }
        PrKind::Bump => "Raises requirements for an update the current ones do not allow (a breaking change by Cargo's rules).",
        PrKind::Security => "Fixes the security advisories above with the smallest change cargo accepts.",
    };
    let _ = writeln!(s, "{intro}\n");
    let _ = writeln!(s, "| Crate | From | To | Change | Needs Rust | Yanked |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for c in changes {
        // A crate locked at several versions: the planned update of this copy.
        let planned = pr
            .updates
            .iter()
            .find(|u| u.name == c.name && c.from.as_ref() == Some(&u.from))
            .or_else(|| pr.updates.iter().find(|u| u.name == c.name));
        let class = match (&c.from, &c.to) {
            (Some(f), Some(t)) => {
                let ch = classify(f, t);
                let level = match ch.level {
                    Level::Major => "major",
                    Level::Minor => "minor",
                    Level::Patch => "patch",
                };
                if ch.breaking {
                    format!("{level}, breaking")
                } else {
                    level.to_owned()
                }
            }
            (None, Some(_)) => "added".to_owned(),
            (Some(_), None) => "removed".to_owned(),
            (None, None) => String::new(),
        };
        let rust = planned
            .and_then(|u| u.rust_version.as_ref())
            .map(ToString::to_string)
            .unwrap_or_else(|| "–".into());
        let yanked = if planned.is_some_and(|u| u.from_yanked) {
            "yes (from)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {class} | {rust} | {yanked} |",
            c.name,
            opt(&c.from),
            opt(&c.to)
        );
    }
    if let Some(m) = msrv {
        let _ = writeln!(
            s,
            "\nVersions were chosen to fit the workspace's MSRV, Rust {m}."
        );
    }
    if !duplicates.is_empty() {
        let _ = writeln!(s, "\n### Crates locked at several versions\n");
        for d in duplicates {
            let _ = writeln!(s, "- This change {d}.");
        }
    }
    let links: Vec<String> = changes
        .iter()
        .filter_map(|c| Some((c, c.from.as_ref()?, c.to.as_ref()?)))
        .filter(|(c, _, _)| {
            pr.updates.iter().any(|u| u.name == c.name && u.direct) || pr.kind != PrKind::Refresh
        })
        .map(|(c, from, to)| {
            let m = meta.get(&c.name).cloned().unwrap_or_default();
            let mut parts = vec![format!(
                "[diff {from}…{to}](https://diff.rs/{0}/{from}/{to})",
                c.name
            )];
            if let Some(repo) = &m.repository {
                let forge = repo.starts_with("https://github.com/")
                    || repo.starts_with("https://gitlab.com/");
                parts.push(if forge {
                    format!("[release notes]({repo}/releases)")
                } else {
                    format!("[repository]({repo})")
                });
            }
            parts.push(match &m.changelog {
                Some(file) => format!(
                    "[changelog](https://docs.rs/crate/{0}/{to}/source/{file})",
                    c.name
                ),
                None => format!("[sources](https://docs.rs/crate/{0}/{to}/source/)", c.name),
            });
            parts.push(format!(
                "[crates.io](https://crates.io/crates/{0}/{to})",
                c.name
            ));
            format!("- `{}`: {}", c.name, parts.join(" · "))
        })
        .collect();
    if !links.is_empty() {
        let _ = writeln!(s, "\n### Before merging\n");
        for l in links {
            let _ = writeln!(s, "{l}");
        }
    }
    if !fixed.is_empty() {
        let _ = writeln!(s, "\n### Advisories fixed\n");
        for (name, a) in fixed {
            let aliases = if a.aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.aliases.join(", "))
            };
            let severity = a
                .severity
                .as_ref()
                .map(|s| format!(", severity {s}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "- [{0}](https://rustsec.org/advisories/{0}){aliases} in `{name}`: {1} ({2}{severity})",
                a.id, a.title, a.kind
            );
        }
    }
    if !pr.edits.is_empty() {
        let _ = writeln!(s, "\n### Requirements changed\n");
        for RequirementEdit {
            manifest,
            table,
            key,
            from,
            to,
        } in &pr.edits
        {
            let _ = writeln!(
                s,
                "- `{manifest}` `[{}]` `{key}`: `\"{from}\"` → `\"{to}\"`",
                table.join(".")
            );
        }
    }
    let _ = writeln!(
        s,
        "\n<details><summary>Commands</summary>\n\nComment on this PR:\n- `@{slug} rebase` rebuilds it on the default branch\n- `@{slug} recreate` rebuilds it from scratch, dropping edits made to it\n- `@{slug} merge` merges it once green\n- `@{slug} ignore this dependency` / `ignore this major version` / `ignore this minor version` / `ignore this patch version`\n- `@{slug} close` closes it without merging\n\nConfiguration: `.github/upkeep.toml`.\n</details>"
    );
    let updates: Vec<String> = pr
        .updates
        .iter()
        .map(|u| format!("{}@{}..{}", u.name, u.from, u.to))
        .collect();
    let _ = write!(
        s,
        "\n{MARKER}{} kind={} automerge={} updates={} base={base} -->\n",
        fingerprint(pr),
        match pr.kind {
            PrKind::Yanked => "yanked",
            PrKind::Refresh => "refresh",
            PrKind::Bump => "bump",
            PrKind::Security => "security",
        },
        if pr.automerge { "yes" } else { "no" },
        updates.join(",")
    );
    s
}

/// The `key=value` fields of our marker in a body (`kind`, `automerge`, `updates`, `base`).
pub fn marker_fields(body: &str) -> Vec<(&str, &str)> {
    let Some(start) = body.find(MARKER).map(|i| i + MARKER.len()) else {
        return Vec::new();
    };
    let end = body[start..].find("-->").map_or(body.len(), |e| start + e);
    body[start..end]
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect()
}

/// One field of our marker (`kind`, `automerge`, `base`).
pub fn marker_field<'b>(body: &'b str, key: &str) -> Option<&'b str> {
    marker_fields(body)
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// The updates a body's marker lists: `(name, from, to)`.
pub fn marker_updates(body: &str) -> Vec<(String, String, String)> {
    marker_fields(body)
        .into_iter()
        .filter(|(k, _)| *k == "updates")
        .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|u| {
            let (name, range) = u.split_once('@')?;
            let (from, to) = range.split_once("..")?;
            Some((name.to_owned(), from.to_owned(), to.to_owned()))
        })
        .collect()
}

fn opt(v: &Option<Version>) -> String {
    v.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "–".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deps::plan::Update;
    use crate::deps::semver_rules::classify;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn update(from: &str, to: &str, rust: &str) -> Update {
        Update {
            name: "syn".into(),
            from: v(from),
            to: v(to),
            change: classify(&v(from), &v(to)),
            rust_version: Some(v(rust)),
            from_yanked: false,
            direct: false,
            advisories_fixed: Vec::new(),
        }
    }

    #[test]
    fn each_copy_of_a_crate_gets_its_own_row_and_the_duplicates_change_is_said() {
        let pr = PlannedPr {
            kind: PrKind::Refresh,
            branch: "upkeep/cargo/lockfile-refresh".into(),
            title: "Refresh Cargo.lock: 2 compatible updates".into(),
            updates: vec![
                update("1.0.100", "1.0.109", "1.31.0"),
                update("2.0.30", "2.0.119", "1.71.0"),
            ],
            edits: Vec::new(),
            precise: Vec::new(),
            automerge: false,
            existing: None,
        };
        let changes = [
            LockChange {
                name: "syn".into(),
                from: Some(v("2.0.30")),
                to: Some(v("2.0.119")),
            },
            LockChange {
                name: "syn".into(),
                from: Some(v("1.0.100")),
                to: Some(v("1.0.109")),
            },
        ];
        let duplicates =
            ["removes the second copy of `syn`: only 2.0.119 is locked now".to_owned()];
        let text = render(
            &pr,
            &BodyInputs {
                changes: &changes,
                msrv: None,
                slug: "upkeep",
                meta: &BTreeMap::new(),
                fixed: &[],
                base: "abc",
                duplicates: &duplicates,
            },
        );
        assert!(
            text.contains("| `syn` | 2.0.30 | 2.0.119 | patch | 1.71.0 |"),
            "the 2.x copy's row says what 2.0.119 needs: {text}"
        );
        assert!(
            text.contains("| `syn` | 1.0.100 | 1.0.109 | patch | 1.31.0 |"),
            "{text}"
        );
        assert!(
            text.contains("### Crates locked at several versions\n\n- This change removes the second copy of `syn`: only 2.0.119 is locked now.\n"),
            "{text}"
        );
    }
}
