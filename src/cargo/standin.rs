//! Stand-ins for what upkeep cannot read (`deps::reach`): a path dependency outside the
//! repository, a git source on a host upkeep does not fetch from. Cargo must resolve the whole
//! graph, so each gets a stand-in package with its name and locked version whose dependencies
//! are its locked registry dependencies pinned exactly (`=1.0.1`): they stay where they are,
//! since the real requirements cannot be read. The manifests' entries are pointed at the
//! stand-in; after cargo, a git package gets its locked source back, and the result is refused
//! if a pinned dependency lost part of what it locked (a feature only the unreadable manifest
//! turned on), rather than writing a lockfile that drops it. Pure.

use std::collections::{BTreeMap, BTreeSet};

use semver::Version;
use toml_edit::Item;

use super::sanitize::SanitizeError;
use crate::deps::lockfile::Locked;
use crate::deps::reach::{Unreachable, Why};

/// The stand-in's manifest.
pub fn manifest(u: &Unreachable, version: &Version) -> String {
    let mut s = format!(
        "[package]\nname = \"{}\"\nversion = \"{version}\"\nedition = \"2021\"\n\n[lib]\npath = \"src/lib.rs\"\n\n[dependencies]\n",
        u.package
    );
    for (name, v) in &u.holds {
        s.push_str(&format!("\"{name}\" = \"={v}\"\n"));
    }
    s
}

/// `text` with every dependency entry (`[patch]` and target tables included) that names a
/// package of `to` by `path` or `git` pointed at its stand-in directory instead.
pub fn redirect(
    manifest: &str,
    text: &str,
    to: &BTreeMap<String, String>,
) -> Result<String, SanitizeError> {
    if to.is_empty() {
        return Ok(text.to_owned());
    }
    let mut doc = super::sanitize::parse(manifest, text)?;
    fn walk(table: &mut dyn toml_edit::TableLike, to: &BTreeMap<String, String>) {
        for (key, item) in table.iter_mut() {
            let Some(entry) = item.as_table_like_mut() else {
                continue;
            };
            let is_source = entry.contains_key("git") || entry.contains_key("path");
            let package = entry
                .get("package")
                .and_then(Item::as_str)
                .unwrap_or(key.get())
                .to_owned();
            match to.get(&package) {
                Some(dir) if is_source => {
                    for k in ["git", "branch", "tag", "rev", "path"] {
                        entry.remove(k);
                    }
                    entry.insert("path", toml_edit::value(dir.as_str()));
                }
                _ => walk(entry, to),
            }
        }
    }
    walk(doc.as_table_mut(), to);
    Ok(doc.to_string())
}

/// `new_lock` (cargo's, with stand-ins) with each git stand-in's locked source (from
/// `old_lock`, the lockfile before) put back.
pub fn restore_sources(new_lock: &str, unreachable: &[Unreachable], old_lock: &str) -> String {
    use std::str::FromStr as _;
    let Ok(old) = cargo_lock::Lockfile::from_str(old_lock) else {
        return new_lock.to_owned();
    };
    let mut out = new_lock.to_owned();
    for u in unreachable
        .iter()
        .filter(|u| matches!(u.why, Why::GitHost { .. }))
    {
        let Some(version) = &u.version else { continue };
        let Some(source) = old
            .packages
            .iter()
            .filter(|p| p.name.as_str() == u.package && p.version == *version)
            .find_map(|p| p.source.as_ref().filter(|s| s.is_git()))
        else {
            continue;
        };
        let entry = format!(
            "[[package]]\nname = \"{}\"\nversion = \"{version}\"\n",
            u.package
        );
        if let Some(at) = out.find(&entry) {
            let after = at + entry.len();
            if !out[after..].starts_with("source = ") {
                out.insert_str(after, &format!("source = \"{source}\"\n"));
            }
        }
    }
    out
}

/// Why the stand-ins' resolution cannot be kept, if it cannot: a package a stand-in pins lost
/// locked dependencies (a feature only the unreadable manifest turned on).
pub fn lost(old: &Locked, new: &Locked, unreachable: &[Unreachable]) -> Option<String> {
    let deps_of = |l: &Locked, name: &str, version: &Version| -> BTreeSet<String> {
        let me = format!("{name} {version}");
        l.required_by
            .iter()
            .filter(|(_, who)| who.contains(&me))
            .map(|((n, _), _)| n.clone())
            .collect()
    };
    for u in unreachable.iter().filter(|u| u.needs_standin()) {
        for (name, version) in &u.holds {
            let before = deps_of(old, name, version);
            let after = deps_of(new, name, version);
            let gone: Vec<&String> = before.difference(&after).collect();
            if !gone.is_empty() {
                return Some(format!(
                    "`{name}` {version} would lose {} with `{}` out of reach (a feature only its manifest turns on); not changed",
                    gone.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", "),
                    u.package
                ));
            }
        }
    }
    None
}

/// The stand-in directories' names, one per unreachable package that needs one.
pub fn dir_name(u: &Unreachable) -> String {
    let version = u
        .version
        .as_ref()
        .map_or_else(|| "0.0.0".to_owned(), ToString::to_string);
    format!("{}-{version}", u.package)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(itoa_deps: &str) -> Locked {
        crate::deps::lockfile::parse(&format!(
            "version = 4\n\n[[package]]\nname = \"helper\"\nversion = \"0.3.0\"\ndependencies = [\n \"itoa\",\n]\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n{itoa_deps}\n[[package]]\nname = \"no-panic\"\nversion = \"0.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_resolution_that_drops_what_a_pinned_dependency_locked_is_refused() {
        let helper = Unreachable {
            package: "helper".into(),
            version: Some(Version::new(0, 3, 0)),
            manifest: "app/Cargo.toml".into(),
            why: Why::OutsidePath {
                path: "../helper".into(),
            },
            holds: vec![("itoa".into(), Version::new(1, 0, 1))],
        };
        let with = lock("dependencies = [\n \"no-panic\",\n]\n");
        let without = lock("");
        assert_eq!(lost(&with, &with, std::slice::from_ref(&helper)), None);
        let why = lost(&with, &without, &[helper]).unwrap();
        assert!(why.contains("`itoa` 1.0.1 would lose `no-panic`"), "{why}");
    }

    #[test]
    fn entries_naming_the_package_by_path_or_git_point_at_the_standin() {
        let text = "[dependencies]\nhelper = { path = \"../../outside/helper\", features = [\"x\"] } # kept\nlog = \"0.4\"\n\n[patch.crates-io]\nfrom-gitlab = { git = \"https://gitlab.example/o/r\", branch = \"main\" }\n\n[target.'cfg(unix)'.dependencies]\nh2 = { package = \"helper\", path = \"../x\" }\n";
        let to: BTreeMap<String, String> = [
            ("helper".to_owned(), "/tmp/s/helper-0.3.0".to_owned()),
            (
                "from-gitlab".to_owned(),
                "/tmp/s/from-gitlab-1.0.0".to_owned(),
            ),
        ]
        .into();
        let out = redirect("Cargo.toml", text, &to).unwrap();
        assert!(
            out.contains("helper = { features = [\"x\"] , path = \"/tmp/s/helper-0.3.0\" } # kept")
                || out.contains(
                    "helper = { features = [\"x\"], path = \"/tmp/s/helper-0.3.0\" } # kept"
                ),
            "{out}"
        );
        assert!(
            out.contains("from-gitlab = { path = \"/tmp/s/from-gitlab-1.0.0\" }"),
            "{out}"
        );
        assert!(
            !out.contains("gitlab.example") && !out.contains("branch"),
            "{out}"
        );
        assert!(
            out.contains("h2 = { package = \"helper\", path = \"/tmp/s/helper-0.3.0\" }"),
            "{out}"
        );
        assert!(out.contains("log = \"0.4\""), "{out}");
    }
}
