//! One line of a sparse index file: a published version of a crate, as Cargo writes it (`name`,
//! `vers`, `deps`, `cksum`, `features`, `yanked`, `links`, `v`, `features2`, `rust_version`,
//! `pubtime`). Unknown fields are ignored, so a field the registry adds tomorrow breaks nothing;
//! a line that does not parse is an error naming its line number.

use serde::Deserialize;

/// A dependency as the index records it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndexDependency {
    pub name: String,
    pub req: String,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
}

/// One published version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndexEntry {
    pub name: String,
    #[serde(rename = "vers")]
    pub version: semver::Version,
    #[serde(default)]
    pub deps: Vec<IndexDependency>,
    pub cksum: String,
    #[serde(default)]
    pub yanked: bool,
    #[serde(default)]
    pub links: Option<String>,
    /// The minimum Rust version the crate declares (`package.rust-version`).
    #[serde(default)]
    pub rust_version: Option<String>,
    /// When it was published (RFC 3339), where the registry records it.
    #[serde(default)]
    pub pubtime: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("index file for {krate}, line {line}: {message}")]
pub struct IndexError {
    pub krate: String,
    pub line: usize,
    pub message: String,
}

/// Parses an index file (one JSON object per line; blank lines skipped).
pub fn parse_index_file(krate: &str, text: &str) -> Result<Vec<IndexEntry>, IndexError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<IndexEntry>(l).map_err(|e| IndexError {
                krate: krate.to_owned(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two lines in the shape crates.io's sparse index serves (trimmed `deps` and `features`).
    const SERDE: &str = r#"{"name":"serde","vers":"1.0.150","deps":[{"name":"serde_derive","req":"=1.0.150","features":[],"optional":true,"default_features":true,"target":null,"kind":"normal"}],"cksum":"e326c9ec8042f1b5da33252c8a37e9ffbd2c9bef0155215b6e6c80c790e05f91","features":{"default":["std"]},"yanked":false,"links":null}
{"name":"serde","vers":"1.0.228","deps":[],"cksum":"9a8e94ea7f378bd32cbbd37198a4a91436180c5bb472411e48b5ec2e2124ae9e","features":{},"yanked":false,"rust_version":"1.56","v":2,"features2":{},"pubtime":"2025-09-27T16:51:35Z","a_field_from_the_future":1}
"#;

    #[test]
    fn lines_parse_with_msrv_yanked_and_pubtime() {
        let entries = parse_index_file("serde", SERDE).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].version, semver::Version::new(1, 0, 150));
        assert_eq!(entries[0].deps[0].name, "serde_derive");
        assert!(entries[0].rust_version.is_none());
        assert_eq!(entries[1].rust_version.as_deref(), Some("1.56"));
        assert_eq!(entries[1].pubtime.as_deref(), Some("2025-09-27T16:51:35Z"));
        assert!(!entries[1].yanked);
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = parse_index_file(
            "serde",
            "{\"name\":\"serde\",\"vers\":\"1.0.0\",\"cksum\":\"x\"}\n{oops}\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.to_string().contains("serde, line 2"));
    }
}
