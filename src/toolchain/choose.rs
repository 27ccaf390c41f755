//! Which stable release a pinned toolchain moves to: the newest one rust-lang/rust has
//! published whose cooldown has passed (`x.y.0` counts as a minor release, `x.y.z` as a patch),
//! never a draft, a pre-release or anything newer than what was published (dependabot-core
//! #10694 proposed versions the channel had not released). Pure.

use chrono::{DateTime, Duration, Utc};
use semver::Version;
use serde_json::Value;

use super::pin::Pin;
use crate::config::Cooldown;

/// One stable Rust release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: Version,
    pub published: DateTime<Utc>,
    /// Its page (release notes).
    pub url: String,
}

/// What to do with a toolchain pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Move the pin to `to` (written as the pin was: `1.83` or `1.83.0`).
    Move { to: Pin, release: Release },
    /// On the newest release that may be proposed.
    Current,
    /// A newer release is out but still in its cooldown.
    Waiting {
        version: Version,
        until: DateTime<Utc>,
    },
    /// A channel (`stable`, `nightly-…`): nothing to move.
    Channel,
    /// Pinned above every published release: left alone.
    Ahead { newest: Version },
}

/// The stable releases in a page of `GET /repos/rust-lang/rust/releases`.
pub fn releases_from(page: &[Value]) -> Vec<Release> {
    page.iter()
        .filter(|r| r["draft"] != true && r["prerelease"] != true)
        .filter_map(|r| {
            let version = Version::parse(r["tag_name"].as_str()?).ok()?;
            if !version.pre.is_empty() || !version.build.is_empty() {
                return None;
            }
            let published = r["published_at"].as_str()?.parse().ok()?;
            let url = r["html_url"].as_str().unwrap_or_default().to_owned();
            Some(Release {
                version,
                published,
                url,
            })
        })
        .collect()
}

/// The decision for `pin`, given the published stable `releases`.
pub fn choose(
    pin: &Pin,
    releases: &[Release],
    cooldown: &Cooldown,
    now: DateTime<Utc>,
) -> Decision {
    let Pin::Release { version, patch } = pin else {
        return Decision::Channel;
    };
    // A `1.70` pin moves by minor releases only (rustup takes its newest patch itself).
    let key = |v: &Version| {
        if *patch {
            (v.major, v.minor, v.patch)
        } else {
            (v.major, v.minor, 0)
        }
    };
    let Some(newest) = releases.iter().map(|r| &r.version).max() else {
        return Decision::Current;
    };
    if key(version) > key(newest) {
        return Decision::Ahead {
            newest: newest.clone(),
        };
    }
    let newer: Vec<&Release> = releases
        .iter()
        .filter(|r| key(&r.version) > key(version))
        .collect();
    let ready = |r: &Release| {
        let days = if (r.version.major, r.version.minor) == (version.major, version.minor) {
            cooldown.patch
        } else if r.version.major == version.major {
            cooldown.minor
        } else {
            cooldown.major
        };
        r.published + Duration::days(days)
    };
    match newer
        .iter()
        .filter(|r| ready(r) <= now)
        .max_by_key(|r| &r.version)
    {
        Some(r) => Decision::Move {
            to: Pin::Release {
                version: if *patch {
                    r.version.clone()
                } else {
                    Version::new(r.version.major, r.version.minor, 0)
                },
                patch: *patch,
            },
            release: (*r).clone(),
        },
        None => match newer.iter().min_by_key(|r| ready(r)) {
            Some(r) => Decision::Waiting {
                version: r.version.clone(),
                until: ready(r),
            },
            None => Decision::Current,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolchain::pin::parse_channel;
    use serde_json::json;

    fn day(d: &str) -> DateTime<Utc> {
        format!("{d}T00:00:00Z").parse().unwrap()
    }

    fn page() -> Vec<Value> {
        let r = |tag: &str, at: &str| {
            json!({"tag_name": tag, "published_at": format!("{at}T16:00:00Z"), "draft": false,
                   "prerelease": false, "html_url": format!("https://github.com/rust-lang/rust/releases/tag/{tag}")})
        };
        let mut p = vec![
            r("1.70.0", "2023-06-01"),
            r("1.71.0", "2023-07-13"),
            r("1.71.1", "2023-08-03"),
            r("1.72.0", "2023-08-24"),
        ];
        let mut draft = r("1.73.0", "2023-08-30");
        draft["draft"] = json!(true);
        let mut pre = r("1.73.0", "2023-08-31");
        pre["prerelease"] = json!(true);
        p.extend([
            draft,
            pre,
            r("1.73.0-beta.1", "2023-08-25"),
            r("nightly", "2023-08-26"),
        ]);
        p
    }

    #[test]
    fn only_published_stable_releases_count() {
        let versions: Vec<String> = releases_from(&page())
            .iter()
            .map(|r| r.version.to_string())
            .collect();
        assert_eq!(versions, ["1.70.0", "1.71.0", "1.71.1", "1.72.0"]);
    }

    #[test]
    fn the_pin_moves_to_the_newest_release_out_of_its_cooldown() {
        let releases = releases_from(&page());
        let none = Cooldown::default();
        let now = day("2023-09-01");
        let decide = |pin: &str, cooldown: &Cooldown, now| {
            choose(&parse_channel(pin), &releases, cooldown, now)
        };
        match decide("1.70.0", &none, now) {
            Decision::Move { to, release } => {
                assert_eq!(to.text(), "1.72.0");
                assert!(release.url.ends_with("/1.72.0"));
            }
            other => panic!("{other:?}"),
        }
        // Written as it was pinned.
        match decide("1.70", &none, now) {
            Decision::Move { to, .. } => assert_eq!(to.text(), "1.72"),
            other => panic!("{other:?}"),
        }
        // 1.72.0 is eight days old: with a 14-day minor cooldown 1.71.1 is the newest allowed.
        let cooldown = Cooldown {
            minor: 14,
            ..Cooldown::default()
        };
        match decide("1.70.0", &cooldown, now) {
            Decision::Move { to, .. } => assert_eq!(to.text(), "1.71.1"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            decide("1.71.1", &cooldown, now),
            Decision::Waiting {
                version: Version::new(1, 72, 0),
                until: day("2023-09-07") + Duration::hours(16),
            }
        );
        assert_eq!(decide("1.72.0", &none, now), Decision::Current);
        assert_eq!(decide("1.72", &none, now), Decision::Current);
        assert_eq!(
            decide("1.73.0", &none, now),
            Decision::Ahead {
                newest: Version::new(1, 72, 0)
            }
        );
        assert_eq!(decide("stable", &none, now), Decision::Channel);
    }
}
