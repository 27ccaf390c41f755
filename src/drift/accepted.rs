//! Permissions an installation has not accepted yet. When the App asks for a new permission,
//! each installation keeps the old set until an owner accepts it; until then GitHub answers
//! 403 to whatever needs it. Instead of jobs failing on those, the features that need a
//! missing permission are paused for that installation only, the dashboard says so with the
//! page to accept on, and an `installation` `new_permissions_accepted` event lifts the pause.
//! Pure.

use std::collections::BTreeMap;

use super::finding::Drift;
use super::permissions::level;

/// What upkeep does for a repository, by what it needs from the installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    /// Dependency-update pull requests.
    Updates,
    /// Security PRs, advisory issues and the `upkeep/audit` check.
    Audit,
    /// Reading benchmark artifacts, `upkeep/bench`, `@upkeep bench` runs.
    Benchmarks,
    /// Re-runs, bisection runs and revert PRs.
    Reverts,
    /// The dashboard issue.
    Dashboard,
}

impl Feature {
    pub const ALL: [Feature; 5] = [
        Feature::Updates,
        Feature::Audit,
        Feature::Benchmarks,
        Feature::Reverts,
        Feature::Dashboard,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Feature::Updates => "dependency updates",
            Feature::Audit => "security audit",
            Feature::Benchmarks => "benchmarks",
            Feature::Reverts => "auto-revert",
            Feature::Dashboard => "dashboard",
        }
    }

    /// The permissions it needs, at their lowest level.
    pub fn needs(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Feature::Updates => &[("contents", "write"), ("pull_requests", "write")],
            Feature::Audit => &[
                ("contents", "write"),
                ("pull_requests", "write"),
                ("issues", "write"),
                ("checks", "write"),
            ],
            Feature::Benchmarks => &[("actions", "write"), ("checks", "write")],
            Feature::Reverts => &[
                ("contents", "write"),
                ("pull_requests", "write"),
                ("actions", "write"),
                ("workflows", "write"),
            ],
            Feature::Dashboard => &[("issues", "write")],
        }
    }
}

/// A feature paused for an installation, and the permissions (name, level) it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paused {
    pub feature: Feature,
    pub missing: Vec<(String, String)>,
}

/// The features `granted` (an installation's accepted permissions) does not allow.
pub fn paused(granted: &BTreeMap<String, String>) -> Vec<Paused> {
    Feature::ALL
        .iter()
        .filter_map(|&feature| {
            let missing: Vec<(String, String)> = feature
                .needs()
                .iter()
                .filter(|(name, want)| {
                    level(granted.get(*name).map(String::as_str).unwrap_or("none")) < level(want)
                })
                .map(|(name, want)| ((*name).to_owned(), (*want).to_owned()))
                .collect();
            (!missing.is_empty()).then_some(Paused { feature, missing })
        })
        .collect()
}

/// Whether `feature` is paused in `paused`.
pub fn is_paused(paused: &[Paused], feature: Feature) -> bool {
    paused.iter().any(|p| p.feature == feature)
}

/// The page where an owner accepts an installation's new permissions.
pub fn accept_url(account_login: &str, account_type: &str, installation_id: i64) -> String {
    if account_type == "Organization" {
        format!("https://github.com/organizations/{account_login}/settings/installations/{installation_id}")
    } else {
        format!("https://github.com/settings/installations/{installation_id}")
    }
}

/// The missing permissions, once each: `actions: write, checks: write`.
fn missing_list(paused: &[Paused]) -> String {
    let mut all: Vec<String> = paused
        .iter()
        .flat_map(|p| p.missing.iter().map(|(n, l)| format!("{n}: {l}")))
        .collect();
    all.sort();
    all.dedup();
    all.join(", ")
}

/// The dashboard's lines for an installation with paused features (none when nothing is).
pub fn dashboard_lines(paused: &[Paused], accept_url: &str) -> Vec<String> {
    if paused.is_empty() {
        return Vec::new();
    }
    let features: Vec<&str> = paused.iter().map(|p| p.feature.name()).collect();
    vec![format!(
        "Paused until an owner accepts the permissions upkeep asks for ({}): {}. Accept them at {accept_url}; upkeep resumes as soon as they are.",
        missing_list(paused),
        features.join(", ")
    )]
}

/// The status page's entry: keyed by installation id, no names.
pub fn drift(installation_id: i64, paused: &[Paused]) -> Option<Drift> {
    (!paused.is_empty()).then(|| {
        let features: Vec<&str> = paused.iter().map(|p| p.feature.name()).collect();
        Drift {
            kind: "installation_permissions".to_owned(),
            detail: format!(
                "installation {installation_id} has not accepted {}; paused there: {}",
                missing_list(paused),
                features.join(", ")
            ),
            fix: format!(
                "an owner of installation {installation_id} accepts the new permissions on its settings page (Settings → Applications → upkeep → Review request)"
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const ALL: &[(&str, &str)] = &[
        ("contents", "write"),
        ("pull_requests", "write"),
        ("issues", "write"),
        ("checks", "write"),
        ("actions", "write"),
        ("workflows", "write"),
        ("statuses", "read"),
        ("metadata", "read"),
    ];

    #[test]
    fn everything_accepted_pauses_nothing() {
        assert_eq!(paused(&grant(ALL)), vec![]);
    }

    #[test]
    fn actions_only_readable_pauses_benchmarks_and_reverts_only() {
        let mut g = grant(ALL);
        g.insert("actions".into(), "read".into());
        let p = paused(&g);
        let features: Vec<Feature> = p.iter().map(|p| p.feature).collect();
        assert_eq!(features, [Feature::Benchmarks, Feature::Reverts]);
        assert_eq!(p[0].missing, [("actions".to_owned(), "write".to_owned())]);
        let lines = dashboard_lines(&p, &accept_url("octo-org", "Organization", 7));
        assert!(lines[0].contains("(actions: write)"), "{lines:?}");
        assert!(lines[0].contains("benchmarks, auto-revert"), "{lines:?}");
        assert!(
            lines[0].contains("https://github.com/organizations/octo-org/settings/installations/7")
        );
        let d = drift(7, &p).unwrap();
        assert!(d
            .detail
            .starts_with("installation 7 has not accepted actions: write"));
    }

    #[test]
    fn a_user_account_accepts_on_its_own_settings() {
        assert_eq!(
            accept_url("someone", "User", 9),
            "https://github.com/settings/installations/9"
        );
    }
}
