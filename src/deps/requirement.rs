//! Rewriting a version requirement for a breaking update the way a person would: keep the
//! operator and the precision the author chose (`"0.11"` → `"0.12"`, `"^1.0.150"` →
//! `"^2.0.3"`, `"=0.3.1"` → `"=0.4.0"`, `"1.*"` → `"2.*"`), adding only the precision Cargo
//! needs to mean the new line (`"0"` → `"0.4"` for 0.4.0). Ranges with several comparators are
//! not guessed at. Pure.

use semver::{Op, Version, VersionReq};

/// Why a requirement was left alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    #[error("`{0}` is not a version requirement")]
    Unparsable(String),
    #[error("`{0}` has several comparators; upkeep does not guess how to widen it")]
    Complex(String),
    #[error("`{0}` uses an operator upkeep does not rewrite")]
    Operator(String),
    #[error("`{0}` cannot name the locked version without admitting fewer newer versions")]
    Narrows(String),
}

/// The requirement `req` rewritten to admit `to`, in the same style.
pub fn bump(req: &str, to: &Version) -> Result<String, RewriteError> {
    let parsed = VersionReq::parse(req).map_err(|_| RewriteError::Unparsable(req.to_owned()))?;
    let [c] = parsed.comparators.as_slice() else {
        return Err(RewriteError::Complex(req.to_owned()));
    };
    let trimmed = req.trim();
    let precision = if c.patch.is_some() {
        3
    } else if c.minor.is_some() {
        2
    } else {
        1
    };
    // Enough precision for Cargo to mean the new line: 0.y needs the minor, 0.0.z the patch.
    let needed = if to.major > 0 {
        1
    } else if to.minor > 0 {
        2
    } else {
        3
    };
    let numbers = |p: usize| -> String {
        let mut s = match p.max(needed) {
            1 => format!("{}", to.major),
            2 => format!("{}.{}", to.major, to.minor),
            _ => format!("{}.{}.{}", to.major, to.minor, to.patch),
        };
        if p.max(needed) == 3 && !to.pre.is_empty() {
            s.push('-');
            s.push_str(to.pre.as_str());
        }
        s
    };
    Ok(match c.op {
        Op::Caret if trimmed.starts_with('^') => format!("^{}", numbers(precision)),
        Op::Caret => numbers(precision),
        Op::Tilde => format!("~{}", numbers(precision.max(2))),
        Op::Exact => format!("={to}"),
        Op::Wildcard if c.minor.is_none() => format!("{}.*", to.major),
        Op::Wildcard => format!("{}.{}.*", to.major, to.minor),
        _ => return Err(RewriteError::Operator(req.to_owned())),
    })
}

/// `req` raised so its minimum is `locked`, the version the lockfile uses, in the same
/// operator (`"1"` → `"1.0.200"`, `"^1.2"` → `"^1.4.1"`, `"~0.3"` → `"~0.3.7"`, `">=1.2"` →
/// `">=1.4.1"`); `None` when its minimum already is `locked`, it is an exact pin, or it does not
/// admit `locked`. Wildcards cannot say a minimum and ranges are not guessed at.
pub fn raise(req: &str, locked: &Version) -> Result<Option<String>, RewriteError> {
    let parsed = VersionReq::parse(req).map_err(|_| RewriteError::Unparsable(req.to_owned()))?;
    let [c] = parsed.comparators.as_slice() else {
        return Err(RewriteError::Complex(req.to_owned()));
    };
    if !parsed.matches(locked) || c.op == Op::Exact {
        return Ok(None);
    }
    let minimum = Version {
        major: c.major,
        minor: c.minor.unwrap_or(0),
        patch: c.patch.unwrap_or(0),
        pre: c.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    };
    if minimum == *locked {
        return Ok(None);
    }
    let trimmed = req.trim();
    let new = match c.op {
        Op::Caret if trimmed.starts_with('^') => format!("^{locked}"),
        Op::Caret => locked.to_string(),
        Op::Tilde => format!("~{locked}"),
        Op::GreaterEq => format!(">={locked}"),
        _ => return Err(RewriteError::Operator(req.to_owned())),
    };
    // The upper end must stay where it was (`"0"` admits 0.4, `"0.3.7"` does not; `"~1"`
    // admits 1.5, `"~1.4.1"` does not): such a requirement is left alone.
    let raised = VersionReq::parse(&new).map_err(|_| RewriteError::Unparsable(new.clone()))?;
    let (m, n, p) = (locked.major, locked.minor, locked.patch);
    let probes = [m, m + 1].into_iter().flat_map(|major| {
        [0, n, n + 1].into_iter().flat_map(move |minor| {
            [0, p, p + 1]
                .into_iter()
                .map(move |patch| Version::new(major, minor, patch))
        })
    });
    for probe in probes.filter(|v| v >= locked) {
        if parsed.matches(&probe) != raised.matches(&probe) {
            return Err(RewriteError::Narrows(req.to_owned()));
        }
    }
    Ok(Some(new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(req: &str, to: &str) -> String {
        bump(req, &Version::parse(to).unwrap()).unwrap()
    }

    #[test]
    fn the_authors_style_is_kept() {
        assert_eq!(b("0.11", "0.12.3"), "0.12");
        assert_eq!(b("1", "2.0.1"), "2");
        assert_eq!(b("1.0.150", "2.0.3"), "2.0.3");
        assert_eq!(b("^1.2", "2.1.0"), "^2.1");
        assert_eq!(b("~1.2", "2.0.0"), "~2.0");
        assert_eq!(b("=0.3.1", "0.4.0"), "=0.4.0");
        assert_eq!(b("1.*", "2.0.0"), "2.*");
        assert_eq!(b("0", "0.4.0"), "0.4");
        assert_eq!(b("0.0.3", "0.0.4"), "0.0.4");
    }

    #[test]
    fn ranges_are_not_guessed_at() {
        let to = Version::parse("2.0.0").unwrap();
        assert!(matches!(
            bump(">=1, <2", &to),
            Err(RewriteError::Complex(_))
        ));
        assert!(matches!(bump("<2", &to), Err(RewriteError::Operator(_))));
        assert!(matches!(bump("one", &to), Err(RewriteError::Unparsable(_))));
    }

    #[test]
    fn a_raised_requirement_names_the_locked_version_in_the_same_operator() {
        let r = |req: &str, locked: &str| raise(req, &Version::parse(locked).unwrap()).unwrap();
        assert_eq!(r("1", "1.0.200").as_deref(), Some("1.0.200"));
        assert_eq!(r("^1.2", "1.4.1").as_deref(), Some("^1.4.1"));
        assert_eq!(r("~0.3", "0.3.7").as_deref(), Some("~0.3.7"));
        assert_eq!(r("~1.2", "1.2.5").as_deref(), Some("~1.2.5"));
        assert_eq!(r(">=1.2", "1.4.1").as_deref(), Some(">=1.4.1"));
        assert_eq!(
            r("0.11", "0.11.0"),
            None,
            "the minimum already is the locked version"
        );
        assert_eq!(r("1.0.200", "1.0.200"), None);
        assert_eq!(r("=0.3.1", "0.3.1"), None, "an exact pin already says it");
        assert_eq!(r("1", "2.0.0"), None, "not this requirement's copy");
        assert!(raise("1.*", &Version::new(1, 2, 0)).is_err());
        // Naming 1.4.1 with a tilde or 0.3.7 with a caret would shut out newer versions.
        assert!(matches!(
            raise("~1", &Version::new(1, 4, 1)),
            Err(RewriteError::Narrows(_))
        ));
        assert!(matches!(
            raise("0", &Version::new(0, 3, 7)),
            Err(RewriteError::Narrows(_))
        ));
        assert_eq!(r("0.3", "0.3.7").as_deref(), Some("0.3.7"));
        assert!(raise(">=1, <2", &Version::new(1, 2, 0)).is_err());
    }

    proptest! {
        /// A raised requirement admits the locked version and nothing below it.
        #[test]
        fn a_raised_requirement_admits_the_locked_version_and_nothing_older(
            minor in 0u64..5, patch in 0u64..5, style in 0usize..4,
        ) {
            let locked = Version::new(1, minor + 1, patch);
            let req = ["1", "^1.1", "~1", ">=1.0.3"][style];
            if let Ok(Some(new)) = raise(req, &locked) {
                let parsed = VersionReq::parse(&new).unwrap();
                prop_assert!(parsed.matches(&locked), "{req} → {new}");
                let older = Version::new(1, minor, 9);
                prop_assert!(!parsed.matches(&older), "{req} → {new} admits {older}");
            }
        }
    }

    proptest! {
        /// Whatever the style, the rewritten requirement admits the new version.
        #[test]
        fn the_new_requirement_admits_the_new_version(
            major in 0u64..4, minor in 0u64..4, patch in 0u64..4,
            style in 0usize..6, precision in 1usize..4,
        ) {
            let to = Version::new(major, minor, patch);
            let numbers = ["1", "1.2", "1.2.3"][precision - 1];
            let req = match style {
                0 => numbers.to_owned(),
                1 => format!("^{numbers}"),
                2 => format!("~{numbers}"),
                3 => "=1.2.3".to_owned(),
                4 => "1.*".to_owned(),
                _ => "1.2.*".to_owned(),
            };
            let new = bump(&req, &to).unwrap();
            let parsed = VersionReq::parse(&new).unwrap();
            prop_assert!(parsed.matches(&to), "{req} → {new} does not admit {to}");
        }
    }
}
