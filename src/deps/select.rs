//! Choosing the version to move to, from what the index offers: the newest one that is not
//! yanked, not a pre-release (unless the current one is), fits the repository's MSRV, and has
//! been public for the cooldown of its update level. Every version passed over is returned with
//! the reason, so a PR body or the dashboard can say why a newer one was not taken (Dependabot
//! and Renovate users ask for exactly this: MSRV-aware updates that explain themselves). Pure.

use chrono::{DateTime, Duration, Utc};
use semver::Version;

use super::semver_rules::{classify, compatible, Change, Level};

/// One published version, as the index describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub version: Version,
    pub yanked: bool,
    /// `package.rust-version` of that release, if declared.
    pub rust_version: Option<Version>,
    pub published: Option<DateTime<Utc>>,
}

/// Which versions may be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only versions the current requirement already admits (a lockfile-only update).
    Compatible,
    /// Any newer version (a requirement bump).
    Latest,
}

/// What the repository asks of an update.
#[derive(Debug, Clone, Default)]
pub struct Constraints {
    /// The repository's MSRV; versions needing a newer Rust are passed over.
    pub msrv: Option<Version>,
    /// Days a release must have been public, by update level (0 when absent).
    pub cooldown_days: Vec<(Level, i64)>,
    pub now: Option<DateTime<Utc>>,
}

/// Why a newer version was not chosen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Skip {
    Yanked,
    Prerelease,
    NeedsNewerRust { rust_version: String },
    Cooldown { until: DateTime<Utc> },
    OutOfScope,
}

/// The choice, with what was passed over on the way (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub chosen: Option<(Version, Change)>,
    pub skipped: Vec<(Version, Skip)>,
}

/// Picks the newest acceptable version above `current` within `scope`.
pub fn select(
    current: &Version,
    candidates: &[Candidate],
    scope: Scope,
    constraints: &Constraints,
) -> Selection {
    let mut newer: Vec<&Candidate> = candidates.iter().filter(|c| c.version > *current).collect();
    newer.sort_by(|a, b| b.version.cmp(&a.version));
    let mut skipped = Vec::new();
    for c in newer {
        let change = classify(current, &c.version);
        let skip = if scope == Scope::Compatible && !compatible(current, &c.version) {
            Some(Skip::OutOfScope)
        } else if c.yanked {
            Some(Skip::Yanked)
        } else if !c.version.pre.is_empty() && current.pre.is_empty() {
            Some(Skip::Prerelease)
        } else if let Some(needed) = c
            .rust_version
            .as_ref()
            .filter(|r| constraints.msrv.as_ref().is_some_and(|m| *r > m))
        {
            Some(Skip::NeedsNewerRust {
                rust_version: needed.to_string(),
            })
        } else {
            cooldown_until(c, change.level, constraints).map(|until| Skip::Cooldown { until })
        };
        match skip {
            // Out-of-scope versions are not news: leave them out of the explanation.
            Some(Skip::OutOfScope) => {}
            Some(reason) => skipped.push((c.version.clone(), reason)),
            None => {
                return Selection {
                    chosen: Some((c.version.clone(), change)),
                    skipped,
                }
            }
        }
    }
    Selection {
        chosen: None,
        skipped,
    }
}

fn cooldown_until(c: &Candidate, level: Level, constraints: &Constraints) -> Option<DateTime<Utc>> {
    let days = constraints
        .cooldown_days
        .iter()
        .find(|(l, _)| *l == level)
        .map(|(_, d)| *d)
        .unwrap_or(0);
    if days <= 0 {
        return None;
    }
    let (published, now) = (c.published?, constraints.now?);
    let until = published + Duration::days(days);
    (until > now).then_some(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn cand(version: &str) -> Candidate {
        Candidate {
            version: v(version),
            yanked: false,
            rust_version: None,
            published: None,
        }
    }

    #[test]
    fn the_newest_version_that_fits_the_msrv_is_chosen_and_the_others_explained() {
        let mut newest = cand("1.0.228");
        newest.rust_version = Some(v("1.81.0"));
        let mut yanked = cand("1.0.227");
        yanked.yanked = true;
        let fits = cand("1.0.226");
        let constraints = Constraints {
            msrv: Some(v("1.70.0")),
            ..Constraints::default()
        };
        let s = select(
            &v("1.0.150"),
            &[fits, newest, yanked, cand("1.0.100")],
            Scope::Compatible,
            &constraints,
        );
        assert_eq!(
            s.chosen.as_ref().map(|(v, _)| v.to_string()).as_deref(),
            Some("1.0.226")
        );
        assert_eq!(
            s.skipped,
            vec![
                (
                    v("1.0.228"),
                    Skip::NeedsNewerRust {
                        rust_version: "1.81.0".into()
                    }
                ),
                (v("1.0.227"), Skip::Yanked)
            ]
        );
    }

    #[test]
    fn a_lockfile_update_stays_inside_the_requirement_and_pre_one_minor_is_breaking() {
        let offered = [cand("0.3.9"), cand("0.4.0")];
        let compatible = select(
            &v("0.3.1"),
            &offered,
            Scope::Compatible,
            &Constraints::default(),
        );
        assert_eq!(compatible.chosen.map(|(v, _)| v), Some(v("0.3.9")));
        let latest = select(
            &v("0.3.1"),
            &offered,
            Scope::Latest,
            &Constraints::default(),
        );
        let (version, change) = latest.chosen.unwrap();
        assert_eq!(version, v("0.4.0"));
        assert!(change.breaking);
    }

    #[test]
    fn cooldown_holds_back_a_fresh_release_by_its_level() {
        let now: DateTime<Utc> = "2026-11-28T12:00:00Z".parse().unwrap();
        let mut fresh = cand("1.3.0");
        fresh.published = Some(now - Duration::days(1));
        let mut older = cand("1.2.9");
        older.published = Some(now - Duration::days(10));
        let constraints = Constraints {
            cooldown_days: vec![(Level::Patch, 0), (Level::Minor, 3), (Level::Major, 14)],
            now: Some(now),
            ..Constraints::default()
        };
        let s = select(
            &v("1.2.0"),
            &[fresh, older],
            Scope::Compatible,
            &constraints,
        );
        assert_eq!(s.chosen.map(|(v, _)| v), Some(v("1.2.9")));
        assert_eq!(
            s.skipped,
            vec![(
                v("1.3.0"),
                Skip::Cooldown {
                    until: now + Duration::days(2)
                }
            )]
        );
    }

    #[test]
    fn pre_releases_are_skipped_unless_already_on_one_and_nothing_newer_means_no_choice() {
        let s = select(
            &v("1.0.0"),
            &[cand("1.1.0-beta.1")],
            Scope::Latest,
            &Constraints::default(),
        );
        assert_eq!(s.chosen, None);
        assert_eq!(s.skipped, vec![(v("1.1.0-beta.1"), Skip::Prerelease)]);
        let on_beta = select(
            &v("1.1.0-beta.1"),
            &[cand("1.1.0-beta.2")],
            Scope::Latest,
            &Constraints::default(),
        );
        assert_eq!(on_beta.chosen.map(|(v, _)| v), Some(v("1.1.0-beta.2")));
        assert_eq!(
            select(
                &v("2.0.0"),
                &[cand("1.0.0")],
                Scope::Latest,
                &Constraints::default()
            )
            .chosen,
            None
        );
    }
}
