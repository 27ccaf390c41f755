//! `requirements` and `[[package]]` in `.github/upkeep.toml` (issue 25): whether the lockfile
//! refresh also raises each `Cargo.toml` requirement to the version `Cargo.lock` uses, so the
//! minimums a library publishes are ones it was built and tested with. Lockfile-only by
//! default; `[[package]]` rules choose per workspace member, by name (a glob) and/or by whether
//! it has a library target (`has-lib`), the first rule that matches winning.

use toml_edit::Item;

use super::reader::Cx;

/// What the refresh does to requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirements {
    /// Only `Cargo.lock` moves (the default).
    #[default]
    Lockfile,
    /// Every requirement is raised to the locked version.
    Bump,
}

/// One `[[package]]` rule.
#[derive(Debug, Clone)]
pub struct PackageRule {
    /// Members whose package name matches (any, when absent).
    pub name: Option<glob::Pattern>,
    /// Members with (`true`) or without (`false`) a `[lib]` target (any, when absent).
    pub has_lib: Option<bool>,
    pub requirements: Requirements,
}

impl PackageRule {
    pub fn matches(&self, member: &str, has_lib: bool) -> bool {
        self.name.as_ref().is_none_or(|p| p.matches(member))
            && self.has_lib.is_none_or(|h| h == has_lib)
    }
}

/// The mode for one member: the first rule that matches it, else `default`.
pub fn for_member(
    default: Requirements,
    rules: &[PackageRule],
    member: &str,
    has_lib: bool,
) -> Requirements {
    rules
        .iter()
        .find(|r| r.matches(member, has_lib))
        .map_or(default, |r| r.requirements)
}

pub(super) const PACKAGE_KEYS: &[&str] = &["name", "has-lib", "requirements"];
const MODES: &[&str] = &["lockfile", "bump"];

fn mode(word: &str) -> Requirements {
    if word == "bump" {
        Requirements::Bump
    } else {
        Requirements::Lockfile
    }
}

impl Cx<'_> {
    pub(super) fn requirements(&mut self, key: &str, item: &Item) -> Option<Requirements> {
        self.word(key, item, MODES).map(|w| mode(&w))
    }

    pub(super) fn package_rules(&mut self, item: &Item) -> Vec<PackageRule> {
        let Some(array) = item.as_array_of_tables() else {
            self.report(
                "package",
                item.span(),
                "expected [[package]] entries".to_owned(),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, t) in array.iter().enumerate() {
            let key = format!("package[{}]", i + 1);
            self.unknown_keys(&key, t, PACKAGE_KEYS);
            let name = t
                .get("name")
                .and_then(|n| self.patterns(&format!("{key}.name"), n).into_iter().next());
            let has_lib = t
                .get("has-lib")
                .and_then(|h| self.boolean(&format!("{key}.has-lib"), h));
            let Some(requirements) = t
                .get("requirements")
                .and_then(|r| self.requirements(&format!("{key}.requirements"), r))
            else {
                self.report(
                    &key,
                    t.span(),
                    "needs `requirements = \"lockfile\"` or `\"bump\"`; rule ignored".into(),
                );
                continue;
            };
            out.push(PackageRule {
                name,
                has_lib,
                requirements,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_rule_wins() {
        let rules = vec![
            PackageRule {
                name: Some(glob::Pattern::new("*-cli").unwrap()),
                has_lib: None,
                requirements: Requirements::Lockfile,
            },
            PackageRule {
                name: None,
                has_lib: Some(true),
                requirements: Requirements::Bump,
            },
        ];
        let d = Requirements::Lockfile;
        assert_eq!(
            for_member(d, &rules, "tool-cli", true),
            Requirements::Lockfile
        );
        assert_eq!(for_member(d, &rules, "core", true), Requirements::Bump);
        assert_eq!(for_member(d, &rules, "app", false), Requirements::Lockfile);
        assert_eq!(
            for_member(Requirements::Bump, &rules, "app", false),
            Requirements::Bump
        );
    }
}
