//! Crates locked at several versions (`syn 1.0.109` beside `syn 2.0.119`): each copy and what
//! requires it, read from the lockfile's dependency graph, for `upkeep check` and the
//! dashboard. Every copy builds and links on its own, so a second copy of a big crate is build
//! time and binary size a maintainer may want back. Pure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use semver::Version;

use super::lockfile::{Locked, Source};

/// One locked version of a crate that is locked at several.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Copy {
    pub version: Version,
    /// The locked packages that require this version (`name version`), sorted.
    pub required_by: Vec<String>,
}

/// A bump in the repository's own manifests that would remove a copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Removal {
    /// The copy that would go.
    pub copy: Version,
    /// The newest copy, which the bump would move to.
    pub to: Version,
    /// The workspace packages whose requirement moves (`name version`).
    pub in_packages: Vec<String>,
}

/// A crate locked at several versions, its copies oldest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Duplicate {
    #[serde(rename = "crate")]
    pub name: String,
    pub copies: Vec<Copy>,
    /// The bumps that would remove an older copy: those only the repository's own packages
    /// require (anything else holding a copy needs its own update first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removable: Vec<Removal>,
}

/// The lockfile's duplicates, by crate name. Workspace members and path packages are not
/// counted: they are the repository's own code.
pub fn duplicates(locked: &Locked) -> Vec<Duplicate> {
    let own: BTreeSet<String> = locked
        .packages
        .iter()
        .filter(|p| p.source == Source::Local)
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    versions_by_name(locked)
        .into_iter()
        .filter(|(_, versions)| versions.len() > 1)
        .map(|(name, versions)| {
            let copies: Vec<Copy> = versions
                .into_iter()
                .map(|v| Copy {
                    required_by: locked
                        .required_by
                        .get(&(name.to_owned(), v.clone()))
                        .cloned()
                        .unwrap_or_default(),
                    version: v.clone(),
                })
                .collect();
            let newest = copies.last().map(|c| c.version.clone());
            let removable = copies
                .iter()
                .take(copies.len().saturating_sub(1))
                .filter(|c| {
                    !c.required_by.is_empty() && c.required_by.iter().all(|r| own.contains(r))
                })
                .filter_map(|c| {
                    Some(Removal {
                        copy: c.version.clone(),
                        to: newest.clone()?,
                        in_packages: c.required_by.clone(),
                    })
                })
                .collect();
            Duplicate {
                copies,
                name: name.to_owned(),
                removable,
            }
        })
        .collect()
}

/// What a removal says: "bumping `syn` to 2.0.119 in `app 0.1.0` removes its 1.0.109 copy".
pub fn removal_line(name: &str, r: &Removal) -> String {
    let places: Vec<String> = r.in_packages.iter().map(|p| format!("`{p}`")).collect();
    format!(
        "bumping `{name}` to {} in {} removes its {} copy",
        r.to,
        places.join(", "),
        r.copy
    )
}

/// Every locked version of each crate from a registry or git (not the repository's own
/// packages), oldest first.
fn versions_by_name(locked: &Locked) -> BTreeMap<&str, Vec<&Version>> {
    let mut by_name: BTreeMap<&str, Vec<&Version>> = BTreeMap::new();
    for p in locked.packages.iter().filter(|p| p.source != Source::Local) {
        by_name.entry(p.name.as_str()).or_default().push(&p.version);
    }
    for versions in by_name.values_mut() {
        versions.sort();
        versions.dedup();
    }
    by_name
}

/// Who requires a copy, shortened: at most three names, then how many more.
pub fn required_by_text(copy: &Copy) -> String {
    let mut s = String::new();
    for (i, who) in copy.required_by.iter().take(3).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "`{who}`");
    }
    if copy.required_by.len() > 3 {
        let _ = write!(s, " and {} more", copy.required_by.len() - 3);
    }
    s
}

/// One line per duplicate: `` `syn`: 1.0.109 (required by `dupdemo 0.1.0`), 2.0.119 (…) ``.
pub fn line(d: &Duplicate) -> String {
    let copies: Vec<String> = d
        .copies
        .iter()
        .map(|c| {
            if c.required_by.is_empty() {
                c.version.to_string()
            } else {
                format!("{} (required by {})", c.version, required_by_text(c))
            }
        })
        .collect();
    format!("`{}`: {}", d.name, copies.join(", "))
}

/// What a lockfile change does to the crates locked at several versions, one sentence each:
/// "removes the second copy of `syn`: only 2.0.119 is locked now".
pub fn changes(before: &Locked, after: &Locked) -> Vec<String> {
    let (old, new) = (versions_by_name(before), versions_by_name(after));
    let list = |vs: &[&Version]| {
        vs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    for (name, was) in &old {
        let now = new.get(name).cloned().unwrap_or_default();
        match (was.len(), now.len()) {
            (2.., 1) => out.push(format!(
                "removes the second copy of `{name}`: only {} is locked now",
                now[0]
            )),
            (2.., 0) => out.push(format!("removes every copy of `{name}` ({})", list(was))),
            (w, n) if w > n && n > 1 => {
                out.push(format!("removes a copy of `{name}`: {} remain", list(&now)))
            }
            (w, n) if n > w && n > 1 => out.push(format!(
                "adds a copy of `{name}`: {} are locked now",
                list(&now)
            )),
            _ => {}
        }
    }
    for (name, now) in &new {
        if !old.contains_key(name) && now.len() > 1 {
            out.push(format!("adds `{name}` at several versions: {}", list(now)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Locked {
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/repos/duplicates/Cargo.lock",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        super::super::lockfile::parse(&text).unwrap()
    }

    #[test]
    fn two_copies_of_syn_are_found_with_what_requires_each() {
        let found = duplicates(&fixture());
        assert_eq!(found.len(), 1, "{found:?}");
        let syn = &found[0];
        assert_eq!(syn.name, "syn");
        let versions: Vec<String> = syn.copies.iter().map(|c| c.version.to_string()).collect();
        assert_eq!(versions, ["1.0.109", "2.0.119"]);
        assert_eq!(syn.copies[0].required_by, ["dupdemo 0.1.0"]);
        assert_eq!(syn.copies[1].required_by, ["thiserror-impl 1.0.69"]);
        assert_eq!(
            line(syn),
            "`syn`: 1.0.109 (required by `dupdemo 0.1.0`), 2.0.119 (required by `thiserror-impl 1.0.69`)"
        );
        // syn 1 is only the crate's own requirement: bumping it removes that copy. syn 2 is
        // thiserror-impl's: nothing in the repository can remove it.
        assert_eq!(syn.removable.len(), 1);
        assert_eq!(
            removal_line(&syn.name, &syn.removable[0]),
            "bumping `syn` to 2.0.119 in `dupdemo 0.1.0` removes its 1.0.109 copy"
        );
    }

    #[test]
    fn a_change_that_drops_or_adds_a_copy_says_so() {
        let before = fixture();
        let mut after = before.clone();
        after
            .packages
            .retain(|p| !(p.name == "syn" && p.version.major == 1));
        assert_eq!(
            changes(&before, &after),
            ["removes the second copy of `syn`: only 2.0.119 is locked now"]
        );
        assert_eq!(
            changes(&after, &before),
            ["adds a copy of `syn`: 1.0.109, 2.0.119 are locked now"]
        );
        assert!(changes(&before, &before).is_empty());
    }

    #[test]
    fn a_lockfile_with_one_version_of_each_crate_has_no_duplicates() {
        let mut locked = fixture();
        locked
            .packages
            .retain(|p| p.version.major != 1 || p.name != "syn");
        assert!(duplicates(&locked).is_empty());
    }
}
