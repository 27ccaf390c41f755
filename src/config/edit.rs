//! Changing `.github/upkeep.toml` the way a person would: `[[ignore]]` entries added or removed
//! by command, with `toml_edit` so everything else in the file (comments, order, layout) stays
//! as it was; and the same changes applied to a parsed configuration at once, until the PR
//! that writes them merges. Pure.

use semver::{Version, VersionReq};
use toml_edit::{value, Array, ArrayOfTables, DocumentMut, Item, Table};

use super::repo::{IgnoreRule, RepoConfig};
use crate::commands::IgnoreScope;

/// An ignore to add, or to remove (with empty `versions`: every ignore of the dependency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEdit {
    pub dependency: String,
    /// A version requirement; empty for the whole dependency.
    pub versions: String,
    pub add: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error(".github/upkeep.toml is not valid TOML, so it cannot be edited: {0}")]
    NotToml(String),
    #[error("`ignore` in .github/upkeep.toml is not a list of [[ignore]] tables")]
    NotTables,
}

/// The requirement an `ignore this … version` command on an update to `to` ignores (empty for
/// the whole dependency): the major version is Cargo's (`0.4.x` for `0.4.2`).
pub fn scope_versions(scope: IgnoreScope, to: &Version) -> String {
    let (m, n, p) = (to.major, to.minor, to.patch);
    match scope {
        IgnoreScope::Dependency => String::new(),
        IgnoreScope::Major if m > 0 => format!(">={m}.0.0, <{}.0.0", m + 1),
        IgnoreScope::Major if n > 0 => format!(">=0.{n}.0, <0.{}.0", n + 1),
        IgnoreScope::Major => format!("=0.0.{p}"),
        IgnoreScope::Minor => format!(">={m}.{n}.0, <{m}.{}.0", n + 1),
        IgnoreScope::Patch => format!("={to}"),
    }
}

/// `text` (the file, possibly empty) with `edits` applied in order.
pub fn apply_ignores(text: &str, edits: &[IgnoreEdit]) -> Result<String, EditError> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| EditError::NotToml(e.to_string()))?;
    for edit in edits {
        if !doc.contains_key("ignore") {
            if !edit.add {
                continue;
            }
            doc.insert("ignore", Item::ArrayOfTables(ArrayOfTables::new()));
        }
        let entries = doc["ignore"]
            .as_array_of_tables_mut()
            .ok_or(EditError::NotTables)?;
        let matches = |t: &Table| {
            t.get("dependency-name").and_then(|v| v.as_str()) == Some(edit.dependency.as_str())
                && (edit.versions.is_empty()
                    && (!edit.add
                        || !t.contains_key("versions") && !t.contains_key("update-types"))
                    || versions_of(t).contains(&edit.versions))
        };
        if edit.add {
            if entries.iter().any(matches) {
                continue;
            }
            let mut t = Table::new();
            t.insert("dependency-name", value(edit.dependency.as_str()));
            if !edit.versions.is_empty() {
                let mut a = Array::new();
                a.push(edit.versions.as_str());
                t.insert("versions", value(a));
            }
            t.insert("reason", value("ignored by command"));
            entries.push(t);
        } else {
            entries.retain(|t| !matches(t));
            if entries.is_empty() {
                doc.remove("ignore");
            }
        }
    }
    Ok(doc.to_string())
}

fn versions_of(t: &Table) -> Vec<String> {
    match t.get("versions") {
        Some(item) => match item.as_array() {
            Some(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            None => item.as_str().map(str::to_owned).into_iter().collect(),
        },
        None => Vec::new(),
    }
}

impl IgnoreEdit {
    fn requirement(&self) -> Option<VersionReq> {
        (!self.versions.is_empty())
            .then(|| VersionReq::parse(&self.versions).ok())
            .flatten()
    }

    /// Whether `rule` is the one this edit adds (or one of those it removes).
    pub fn covers(&self, rule: &IgnoreRule) -> bool {
        rule.dependency.as_str() == glob::Pattern::escape(&self.dependency)
            && match self.requirement() {
                Some(q) => rule.versions.contains(&q),
                None => !self.add || rule.versions.is_empty() && rule.update_types.is_empty(),
            }
    }
}

impl RepoConfig {
    /// Applies ignores added or removed by command that the default branch does not have yet.
    pub fn apply_ignore_edits(&mut self, edits: &[IgnoreEdit]) {
        for edit in edits {
            let req = edit.requirement();
            if edit.add {
                if self.ignore.iter().any(|r| edit.covers(r)) {
                    continue;
                }
                let Ok(dependency) = glob::Pattern::new(&glob::Pattern::escape(&edit.dependency))
                else {
                    continue;
                };
                self.ignore.push(IgnoreRule {
                    dependency,
                    versions: req.into_iter().collect(),
                    update_types: Vec::new(),
                    reason: Some("ignored by command".into()),
                });
            } else {
                self.ignore.retain(|r| !edit.covers(r));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(dep: &str, versions: &str) -> IgnoreEdit {
        IgnoreEdit {
            dependency: dep.into(),
            versions: versions.into(),
            add: true,
        }
    }

    fn remove(dep: &str, versions: &str) -> IgnoreEdit {
        IgnoreEdit {
            add: false,
            ..add(dep, versions)
        }
    }

    #[test]
    fn scopes_follow_cargos_idea_of_a_major_version() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(
            scope_versions(IgnoreScope::Major, &v("2.3.1")),
            ">=2.0.0, <3.0.0"
        );
        assert_eq!(
            scope_versions(IgnoreScope::Major, &v("0.4.2")),
            ">=0.4.0, <0.5.0"
        );
        assert_eq!(
            scope_versions(IgnoreScope::Minor, &v("2.3.1")),
            ">=2.3.0, <2.4.0"
        );
        assert_eq!(scope_versions(IgnoreScope::Patch, &v("2.3.1")), "=2.3.1");
        assert_eq!(scope_versions(IgnoreScope::Dependency, &v("2.3.1")), "");
    }

    #[test]
    fn adding_keeps_comments_and_layout_and_is_idempotent() {
        let text = "# ours\nlabels = [\"deps\"]  # keep\n";
        let once = apply_ignores(text, &[add("serde", ">=2.0.0, <3.0.0")]).unwrap();
        assert!(
            once.starts_with("# ours\nlabels = [\"deps\"]  # keep\n"),
            "{once}"
        );
        assert!(once.contains("[[ignore]]\ndependency-name = \"serde\"\nversions = [\">=2.0.0, <3.0.0\"]\nreason = \"ignored by command\"\n"), "{once}");
        let twice = apply_ignores(&once, &[add("serde", ">=2.0.0, <3.0.0")]).unwrap();
        assert_eq!(once, twice);
        let parsed = crate::config::parse(&once);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert!(parsed.config.is_ignored(
            "serde",
            &Version::new(2, 1, 0),
            crate::deps::Level::Major
        ));
    }

    #[test]
    fn removing_takes_out_matching_entries_only() {
        let text = "[[ignore]]\ndependency-name = \"serde\"\nversions = [\">=2\"]\n\n[[ignore]]\ndependency-name = \"tokio\"\n";
        let out = apply_ignores(text, &[remove("serde", "")]).unwrap();
        assert!(!out.contains("serde") && out.contains("tokio"), "{out}");
        let out = apply_ignores(&out, &[remove("tokio", "")]).unwrap();
        assert!(!out.contains("ignore"), "{out}");
        let out = apply_ignores(text, &[remove("serde", ">=3")]).unwrap();
        assert!(out.contains("serde"), "a different condition stays: {out}");
    }

    #[test]
    fn a_config_gets_the_edits_at_once() {
        let mut c = crate::config::parse("[[ignore]]\ndependency-name = \"tokio\"\n").config;
        c.apply_ignore_edits(&[add("serde", ">=2.0.0, <3.0.0"), remove("tokio", "")]);
        let l = crate::deps::Level::Major;
        assert!(c.is_ignored("serde", &Version::new(2, 0, 0), l));
        assert!(!c.is_ignored("serde", &Version::new(3, 0, 0), l));
        assert!(!c.is_ignored("tokio", &Version::new(2, 0, 0), l));
    }

    #[test]
    fn a_file_that_is_not_toml_is_an_error_not_a_rewrite() {
        assert!(apply_ignores("labels = [", &[add("serde", "")]).is_err());
    }
}
