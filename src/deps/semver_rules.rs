//! Cargo's semver rules, which differ from plain SemVer below 1.0: Cargo treats the left-most
//! non-zero component as the major one, so `0.3 → 0.4` and any `0.0.z` change are breaking,
//! exactly as a caret requirement (`"0.3"` means `>=0.3.0, <0.4.0`) says. Dependabot only
//! learned this in 2025; upkeep starts from it. Pure: no I/O.

use semver::Version;

/// Which component of the version moved, counted the way a person reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Patch,
    Minor,
    Major,
}

/// An update from one version to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The component that moved (`1.2.3 → 1.3.0` is minor; `0.3.1 → 0.4.0` is minor too).
    pub level: Level,
    /// Whether a caret requirement on `from` excludes `to`: Cargo will not pick it without a
    /// manifest change, and code may break.
    pub breaking: bool,
    /// Whether `to` is older than `from`.
    pub downgrade: bool,
}

/// Whether `b` satisfies a caret requirement written for `a` (and the reverse): same left-most
/// non-zero component, and, for `0.0.z`, the same `z`. Pre-releases only match themselves' line.
pub fn compatible(a: &Version, b: &Version) -> bool {
    if !a.pre.is_empty() || !b.pre.is_empty() {
        return (a.major, a.minor, a.patch) == (b.major, b.minor, b.patch);
    }
    match (a.major, a.minor) {
        (0, 0) => b.major == 0 && b.minor == 0 && a.patch == b.patch,
        (0, minor) => b.major == 0 && b.minor == minor,
        (major, _) => b.major == major,
    }
}

/// Classifies the update `from → to`.
pub fn classify(from: &Version, to: &Version) -> Change {
    let level = if from.major != to.major {
        Level::Major
    } else if from.minor != to.minor {
        Level::Minor
    } else {
        Level::Patch
    };
    Change {
        level,
        breaking: !compatible(from, to),
        downgrade: to < from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn cargos_rules_below_and_above_one() {
        let cases = [
            ("1.0.150", "1.0.228", Level::Patch, false),
            ("1.2.3", "1.3.0", Level::Minor, false),
            ("1.9.9", "2.0.0", Level::Major, true),
            ("0.3.1", "0.3.9", Level::Patch, false),
            ("0.3.1", "0.4.0", Level::Minor, true),
            ("0.0.3", "0.0.4", Level::Patch, true),
            ("0.9.0", "1.0.0", Level::Major, true),
            ("1.0.0", "1.1.0-rc.1", Level::Minor, true),
        ];
        for (from, to, level, breaking) in cases {
            let c = classify(&v(from), &v(to));
            assert_eq!((c.level, c.breaking), (level, breaking), "{from} -> {to}");
            assert!(!c.downgrade);
        }
        assert!(classify(&v("1.2.0"), &v("1.1.0")).downgrade);
    }

    /// The rule must agree with the semver crate's caret requirement, which is Cargo's.
    fn agrees_with_caret(a: &Version, b: &Version) -> bool {
        let req = semver::VersionReq::parse(&format!("^{a}")).unwrap();
        let caret = req.matches(b) && b >= a;
        // `compatible` is symmetric; a caret on `a` admits only `b >= a`.
        caret == (compatible(a, b) && b >= a)
    }

    proptest! {
        #[test]
        fn compatible_is_exactly_cargos_caret(a in (0u64..3, 0u64..4, 0u64..4), b in (0u64..3, 0u64..4, 0u64..4)) {
            let a = Version::new(a.0, a.1, a.2);
            let b = Version::new(b.0, b.1, b.2);
            prop_assert!(agrees_with_caret(&a, &b), "{} vs {}", a, b);
        }

        #[test]
        fn an_update_is_breaking_exactly_when_the_caret_excludes_it(a in (0u64..3, 0u64..4, 0u64..4), b in (0u64..3, 0u64..4, 0u64..4)) {
            let (a, b) = (Version::new(a.0, a.1, a.2), Version::new(b.0, b.1, b.2));
            prop_assume!(b > a);
            let req = semver::VersionReq::parse(&format!("^{a}")).unwrap();
            prop_assert_eq!(classify(&a, &b).breaking, !req.matches(&b));
        }
    }
}
