//! Names from outside (payloads, artifacts, the API) on their way into a request path. A
//! repository called `../../app/hook/config#` once made upkeep send its installation token to
//! `POST /repos/Codertocat/../../app/hook/config`; `a/b?x=1&y=` injected a query string. So:
//!
//! - a repository's `owner/name` is checked against GitHub's rules where it enters (webhook
//!   payloads: [`deserialize_full_name`]) — a payload with another is refused as permanent;
//! - every value put into a path goes through one encoder ([`segment`], [`ref_path`],
//!   [`repo_path`]), which percent-encodes all but unreserved characters, so no value can add a
//!   segment, a query or a fragment;
//! - the transport refuses a path that still holds a dot segment or a fragment ([`check_path`])
//!   before anything is sent, as a permanent error (never retried as if GitHub were down).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters (`A–Z a–z 0–9 - . _ ~`) is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// In a query value, as [`SEGMENT`] but `/` and `:` stay (`head=owner:upkeep/cargo/x`).
const QUERY_VALUE: &AsciiSet = &SEGMENT.remove(b'/').remove(b':');

/// Why a name is not one GitHub would have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{0:?} is not owner/name")]
    NotOwnerSlashName(String),
    #[error("owner {0:?} is not a GitHub account name (letters, digits, '-' and '_', 1 to 100)")]
    Owner(String),
    #[error("repository name {0:?} is not one GitHub allows (letters, digits, '.', '-' and '_', 1 to 100, not '.' or '..')")]
    Repository(String),
}

/// Checks `owner/name` against GitHub's rules for account and repository names. (Account
/// names are at most 39 characters on github.com; managed users' `_shortcode` suffix and GitHub
/// Enterprise Server allow more, so up to 100.)
pub fn check_full_name(full_name: &str) -> Result<(), NameError> {
    let short = || full_name.chars().take(120).collect::<String>();
    let (owner, name) = full_name
        .split_once('/')
        .ok_or_else(|| NameError::NotOwnerSlashName(short()))?;
    let owner_ok = (1..=100).contains(&owner.len())
        && !owner.starts_with('-')
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !owner_ok {
        return Err(NameError::Owner(owner.chars().take(120).collect()));
    }
    let name_ok = (1..=100).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !name_ok {
        return Err(NameError::Repository(name.chars().take(120).collect()));
    }
    Ok(())
}

/// `serde(deserialize_with)` for a payload's `full_name`: refused unless GitHub could have sent it.
pub fn deserialize_full_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(d)?;
    check_full_name(&s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

/// One path segment: `value` with everything but unreserved characters percent-encoded.
pub fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// A value in a query string: nothing in it can end the value or start another parameter.
pub fn query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// A branch or tag name as path segments (`heads/feature/x`): each component encoded, the
/// slashes between them kept, as GitHub's ref endpoints expect.
pub fn ref_path(name: &str) -> String {
    name.split('/').map(segment).collect::<Vec<_>>().join("/")
}

/// `/repos/{owner}/{name}{rest}`, owner and name encoded each as one segment.
pub fn repo_path(full_name: &str, rest: &str) -> String {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, ""));
    format!("/repos/{}/{}{rest}", segment(owner), segment(name))
}

/// A path the transport will send: no `.` or `..` segment (percent-encoded or not), no
/// fragment, no control characters or spaces.
pub fn check_path(path: &str) -> Result<(), String> {
    let short = || path.chars().take(120).collect::<String>();
    if !path.starts_with('/') {
        return Err(format!("{} does not start with /", short()));
    }
    if path
        .bytes()
        .any(|b| b == b'#' || b == b' ' || b.is_ascii_control())
    {
        return Err(format!(
            "{} holds a fragment or a control character",
            short()
        ));
    }
    let path_part = path.split('?').next().unwrap_or_default();
    for seg in path_part.split('/') {
        let decoded = seg.to_ascii_lowercase().replace("%2e", ".");
        if decoded == "." || decoded == ".." {
            return Err(format!("{} holds a dot segment", short()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn githubs_names_pass_and_hostile_ones_do_not() {
        for ok in [
            "octo-org/lib",
            "Codertocat/Hello-World",
            "a/.github",
            "user_emu/x.y_z-1",
        ] {
            assert_eq!(check_full_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "Codertocat/../../app/hook/config#",
            "a/b?x=1&y=",
            "a/..",
            "a/.",
            "noslash",
            "-a/b",
            "a b/c",
            "a/b/c",
            "/b",
            "a/",
        ] {
            assert!(check_full_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_cannot_leave_their_segment() {
        assert_eq!(
            repo_path("a/b?x=1&y=", "/pulls"),
            "/repos/a/b%3Fx%3D1%26y%3D/pulls"
        );
        assert_eq!(ref_path("feature/x#1"), "feature/x%231");
        assert_eq!(segment("octo cat"), "octo%20cat");
        assert_eq!(
            query_value("o:upkeep/cargo/x&y=#"),
            "o:upkeep/cargo/x%26y%3D%23"
        );
        assert!(check_path(&repo_path("../../app/hook/config#", "")).is_err());
        assert!(check_path(&format!("/repos/o/n/git/ref/heads/{}", ref_path("a/../b"))).is_err());
        assert!(check_path("/repos/o/%2E%2E/x").is_err());
        assert!(check_path("/repos/o/n/pulls?state=open&head=o:a.b").is_ok());
        assert!(check_path("/app/installations/1/access_tokens").is_ok());
    }

    proptest! {
        /// Whatever a payload calls a repository: either it is refused where it enters, or the
        /// request goes to `/repos/{owner}/{name}/…` and nowhere else — as the URL library that
        /// sends it reads the path.
        #[test]
        fn no_repository_name_reaches_outside_its_own_path(full_name in "\\PC{0,40}|[a-z./?#&=%-]{1,12}/[a-z./?#&=%-]{1,12}") {
            let path = repo_path(&full_name, "/pulls");
            let base = url::Url::parse("https://api.github.com").unwrap();
            match check_path(&path) {
                Err(_) => {}
                Ok(()) => {
                    let url = base.join(&path).unwrap();
                    let segments: Vec<&str> = url.path_segments().unwrap().collect();
                    prop_assert_eq!(segments.len(), 4, "{} -> {}", full_name, url);
                    prop_assert_eq!(segments[0], "repos");
                    prop_assert_eq!(segments[3], "pulls");
                    prop_assert!(url.query().is_none() && url.fragment().is_none(), "{}", url);
                    if check_full_name(&full_name).is_ok() {
                        prop_assert_eq!(format!("{}/{}", segments[1], segments[2]), full_name);
                    }
                }
            }
        }

        #[test]
        fn a_name_github_allows_is_encoded_as_itself(owner in "[A-Za-z0-9][A-Za-z0-9_-]{0,38}", name in "[A-Za-z0-9._-]{1,100}") {
            prop_assume!(name != "." && name != "..");
            let full = format!("{owner}/{name}");
            prop_assert_eq!(check_full_name(&full), Ok(()));
            prop_assert_eq!(repo_path(&full, ""), format!("/repos/{full}"));
        }
    }
}
