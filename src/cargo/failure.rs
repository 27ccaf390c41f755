//! Which git host, if any, a failed cargo run could not reach. cargo fetches every git source
//! before it resolves, and when a fetch fails it says so in a chain of `Caused by:` lines:
//! `unable to update <url>` names the source, and a `class=Net` error (or "network failure",
//! a time-out, a refused connection, an HTTP 5xx or 429) says the network or the host failed.
//! An HTTP 4xx other than 429, or the server's own refusal (`remote error: access denied or
//! repository not exported`, authentication asked for: a repository gone, private, or moved)
//! is the repository's problem, not the host's: it is not blamed on the host. Pure.

/// The host (lower case) whose git fetch failed for a network or server reason, if the error
/// says so.
pub fn unreachable_git_host(stderr: &str) -> Option<String> {
    let lower = stderr.to_ascii_lowercase();
    let url = lower
        .lines()
        .find_map(|l| l.trim().strip_prefix("unable to update "))?
        .trim()
        .trim_matches('`');
    let host = super::sanitize::host_of(url)?;
    if let Some(code) = http_status(&lower) {
        return (code == 429 || code >= 500).then_some(host);
    }
    // The host answered, and refused: the repository is the problem.
    const REFUSALS: &[&str] = &[
        "remote error:",
        "authentication required",
        "authentication replays",
        "repository not found",
    ];
    if REFUSALS.iter().any(|r| lower.contains(r)) {
        return None;
    }
    const NETWORK: &[&str] = &[
        "class=net",
        "network failure",
        "timed out",
        "timeout was reached",
        "could not connect",
        "couldn't connect",
        "connection refused",
        "connection reset",
        "could not resolve host",
        "couldn't resolve host",
        "failed to resolve address",
    ];
    NETWORK.iter().any(|n| lower.contains(n)).then_some(host)
}

/// The HTTP status of libgit2's "failed to receive HTTP 200 response: got 503" (or the CLI's
/// "The requested URL returned error: 503").
fn http_status(lower: &str) -> Option<u16> {
    let after = lower
        .split_once("response: got ")
        .or_else(|| lower.split_once("returned error: "))?
        .1;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What cargo 1.9x printed here for a git dependency on a closed port.
    const REFUSED: &str = "error: failed to get `foo` as a dependency of package `gt v0.1.0 (/tmp/gt)`

Caused by:
  failed to load source for dependency `foo`

Caused by:
  unable to update http://127.0.0.1:9/o/foo.git

Caused by:
  failed to clone into: /tmp/gt/home/git/db/foo-acc089891a9e8e82

Caused by:
  network failure seems to have happened
  if a proxy or similar is necessary `net.git-fetch-with-cli` may help here
  https://doc.rust-lang.org/cargo/reference/config.html#netgit-fetch-with-cli

Caused by:
  [7] Could not connect to server (Failed to connect to 127.0.0.1 port 9 after 0 ms: Could not connect to server); class=Net (12)";

    fn with_cause(cause: &str) -> String {
        format!(
            "error: failed to get `foo` as a dependency of package `gt`\n\nCaused by:\n  Unable to update https://Git.Example.org/o/foo\n\nCaused by:\n  failed to clone into: /x\n\nCaused by:\n  {cause}"
        )
    }

    #[test]
    fn a_refused_connection_is_the_host() {
        assert_eq!(unreachable_git_host(REFUSED).as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn server_errors_and_rate_limits_are_the_host_but_a_missing_repository_is_not() {
        for (cause, blamed) in [
            ("failed to receive HTTP 200 response: got 503; class=Net (12)", true),
            ("failed to receive HTTP 200 response: got 429; class=Net (12)", true),
            ("failed to receive HTTP 200 response: got 404; class=Net (12)", false),
            ("failed to receive HTTP 200 response: got 401; class=Net (12)", false),
            ("[28] Timeout was reached (Operation timed out after 30000 ms); class=Net (12)", true),
            ("[6] Couldn't resolve host name; class=Net (12)", true),
            ("revspec 'v9' not found; class=Reference (4)", false),
            (
                "network failure seems to have happened\n  remote error: access denied or repository not exported: /gone; class=Net (12)",
                false,
            ),
        ] {
            let host = unreachable_git_host(&with_cause(cause));
            assert_eq!(host.is_some(), blamed, "{cause}");
            if blamed {
                assert_eq!(host.as_deref(), Some("git.example.org"));
            }
        }
    }

    #[test]
    fn a_failure_without_a_git_source_blames_no_host() {
        let resolution = "error: failed to select a version for the requirement `serde = \"^9\"`\ncandidate versions found which didn't match: 1.0.200\nnetwork failure";
        assert_eq!(unreachable_git_host(resolution), None);
        assert_eq!(unreachable_git_host(""), None);
    }
}
