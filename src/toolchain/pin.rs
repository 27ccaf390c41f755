//! A repository's toolchain file: `rust-toolchain.toml`, or the older `rust-toolchain` (either
//! a bare channel name or the same TOML). What it pins (a release like `1.70.0` or `1.70`, or a
//! channel that moves by itself: `stable`, `beta`, `nightly-…`), and the file with the pin
//! moved, everything else (components, targets, comments) kept. Pure.

use semver::Version;
use toml_edit::DocumentMut;

/// The toolchain files rustup reads, in its order of preference.
pub const FILES: [&str; 2] = ["rust-toolchain.toml", "rust-toolchain"];

/// What a toolchain file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// A stable release: `1.70.0` (`patch` true) or `1.70` (the newest patch of it).
    Release { version: Version, patch: bool },
    /// A channel or a dated nightly: nothing to move.
    Channel(String),
}

impl Pin {
    /// The pin as the file writes it.
    pub fn text(&self) -> String {
        match self {
            Pin::Release {
                version,
                patch: true,
            } => version.to_string(),
            Pin::Release { version, .. } => format!("{}.{}", version.major, version.minor),
            Pin::Channel(c) => c.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    #[error("{path} does not parse: {message}")]
    Parse { path: String, message: String },
    #[error("{path} names no channel (`[toolchain] channel = \"…\"`)")]
    NoChannel { path: String },
}

/// The pin in `text`, the content of the toolchain file at `path`.
pub fn read(path: &str, text: &str) -> Result<Pin, PinError> {
    Ok(parse_channel(&channel_of(path, text)?))
}

/// The pin a channel string means.
pub fn parse_channel(channel: &str) -> Pin {
    let parts: Vec<&str> = channel.split('.').collect();
    let numbers: Option<Vec<u64>> = parts.iter().map(|p| p.parse().ok()).collect();
    match numbers.as_deref() {
        Some([major, minor]) => Pin::Release {
            version: Version::new(*major, *minor, 0),
            patch: false,
        },
        Some([major, minor, patch]) => Pin::Release {
            version: Version::new(*major, *minor, *patch),
            patch: true,
        },
        _ => Pin::Channel(channel.to_owned()),
    }
}

/// The file with its channel set to `to`, nothing else changed.
pub fn rewrite(path: &str, text: &str, to: &Pin) -> Result<String, PinError> {
    if is_bare(text) {
        return Ok(format!("{}\n", to.text()));
    }
    let mut doc = parse(path, text)?;
    let Some(channel) = doc
        .get_mut("toolchain")
        .and_then(|t| t.as_table_like_mut())
        .and_then(|t| t.get_mut("channel"))
    else {
        return Err(PinError::NoChannel {
            path: path.to_owned(),
        });
    };
    // Keep the value's own decoration (a trailing comment, spacing).
    let decor = channel.as_value().map(|v| v.decor().clone());
    *channel = toml_edit::value(to.text());
    if let (Some(d), Some(v)) = (decor, channel.as_value_mut()) {
        *v.decor_mut() = d;
    }
    Ok(doc.to_string())
}

/// A legacy `rust-toolchain` holding only a channel name.
fn is_bare(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && !t.contains(['[', '=', '\n'])
}

fn parse(path: &str, text: &str) -> Result<DocumentMut, PinError> {
    text.parse()
        .map_err(|e: toml_edit::TomlError| PinError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })
}

fn channel_of(path: &str, text: &str) -> Result<String, PinError> {
    if is_bare(text) {
        return Ok(text.trim().to_owned());
    }
    let doc = parse(path, text)?;
    doc.get("toolchain")
        .and_then(|t| t.get("channel"))
        .and_then(|c| c.as_str())
        .map(str::to_owned)
        .ok_or_else(|| PinError::NoChannel {
            path: path.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_and_channels_are_told_apart() {
        let toml =
            "[toolchain]\nchannel = \"1.70.0\" # MSRV is elsewhere\ncomponents = [\"clippy\"]\n";
        assert_eq!(
            read("rust-toolchain.toml", toml).unwrap(),
            Pin::Release {
                version: Version::new(1, 70, 0),
                patch: true
            }
        );
        assert_eq!(
            read("rust-toolchain", "1.70\n").unwrap(),
            Pin::Release {
                version: Version::new(1, 70, 0),
                patch: false
            }
        );
        for channel in ["stable", "nightly-2024-05-01", "beta", "1.70.0-beta.1"] {
            assert_eq!(
                read("rust-toolchain", channel).unwrap(),
                Pin::Channel(channel.to_owned())
            );
        }
        assert!(matches!(
            read("rust-toolchain.toml", "[toolchain]\ncomponents = []\n"),
            Err(PinError::NoChannel { .. })
        ));
        assert!(matches!(
            read("rust-toolchain.toml", "[toolchain\n"),
            Err(PinError::Parse { .. })
        ));
    }

    #[test]
    fn the_rewrite_moves_only_the_channel() {
        let toml = "# pinned for reproducible builds\n[toolchain]\nchannel = \"1.70.0\" # bump with care\ncomponents = [\"clippy\", \"rustfmt\"]\ntargets = [\"wasm32-unknown-unknown\"]\n";
        let to = parse_channel("1.83.0");
        let out = rewrite("rust-toolchain.toml", toml, &to).unwrap();
        assert_eq!(out, toml.replace("\"1.70.0\"", "\"1.83.0\""));
        assert_eq!(
            rewrite("rust-toolchain", "1.70\n", &parse_channel("1.83")).unwrap(),
            "1.83\n"
        );
    }
}
