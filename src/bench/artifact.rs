//! Opening an `upkeep-criterion` artifact: a zip from a repository's workflow, so untrusted.
//! Nothing is written to disk; only result files (criterion's `benchmark.json`, `sample.json`
//! and `estimates.json`, cargo-criterion's `*.jsonl` messages, `*.txt` bencher lines,
//! gungraun's `summary.json` instruction counts) and the runner description are kept, in
//! memory. Every limit is checked on what is actually read, not on what the archive claims:
//! entry count, names (no absolute paths, `..`, drive letters or backslashes), bytes per file,
//! bytes in all, and the compression ratio (a zip bomb stops at the cap). Pure over the bytes.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

/// What an artifact may hold at most.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The zip itself.
    pub zip_bytes: u64,
    pub entries: usize,
    /// Any one kept file, uncompressed.
    pub file_bytes: u64,
    /// All kept files, uncompressed.
    pub total_bytes: u64,
    /// Uncompressed over compressed, per entry.
    pub ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            zip_bytes: 64 * 1024 * 1024,
            entries: 20_000,
            file_bytes: 16 * 1024 * 1024,
            total_bytes: 128 * 1024 * 1024,
            ratio: 200,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArtifactError {
    #[error("the artifact is {0} bytes, over the limit")]
    TooLarge(u64),
    #[error("the artifact is not a zip archive: {0}")]
    NotZip(String),
    #[error("the artifact has more than {0} entries")]
    TooManyEntries(usize),
    #[error("refused entry {0:?}: not a plain relative path")]
    BadPath(String),
    #[error("refused entry {name:?}: {why}")]
    Refused { name: String, why: String },
}

/// The runner a result set came from (`upkeep-runner.json`), which results are compared within.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Runner {
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub label: String,
}

impl Runner {
    /// `os/arch/label`, the key results are stored and compared under.
    pub fn class(&self) -> String {
        format!("{}/{}/{}", self.os, self.arch, self.label).to_lowercase()
    }
}

/// The result files by path, and the runner when described.
pub type Opened = (BTreeMap<String, Vec<u8>>, Option<Runner>);

/// The result files from the zip, by path, and the runner when described.
pub fn open(zip: &[u8], limits: &Limits) -> Result<Opened, ArtifactError> {
    if zip.len() as u64 > limits.zip_bytes {
        return Err(ArtifactError::TooLarge(zip.len() as u64));
    }
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip)).map_err(|e| ArtifactError::NotZip(e.to_string()))?;
    if archive.len() > limits.entries {
        return Err(ArtifactError::TooManyEntries(limits.entries));
    }
    let mut out = BTreeMap::new();
    let mut runner = None;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| ArtifactError::NotZip(e.to_string()))?;
        let name = entry
            .name()
            .map_err(|e| ArtifactError::NotZip(e.to_string()))?
            .into_owned();
        if !plain(&name) {
            return Err(ArtifactError::BadPath(name));
        }
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() {
            return Err(ArtifactError::Refused {
                name,
                why: "a symbolic link".into(),
            });
        }
        let file = name.rsplit('/').next().unwrap_or_default();
        let wanted = matches!(
            file,
            "benchmark.json" | "sample.json" | "estimates.json" | "summary.json"
        ) || name == "upkeep-runner.json"
            || file.ends_with(".jsonl")
            || file.ends_with(".txt");
        if !wanted {
            continue;
        }
        let cap = limits.file_bytes.min(
            entry
                .compressed_size()
                .saturating_mul(limits.ratio)
                .max(4096),
        );
        let mut bytes = Vec::new();
        (&mut entry)
            .take(cap + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ArtifactError::Refused {
                name: name.clone(),
                why: e.to_string(),
            })?;
        if bytes.len() as u64 > cap {
            return Err(ArtifactError::Refused {
                name,
                why: format!("inflates past {cap} bytes (a zip bomb?)"),
            });
        }
        total += bytes.len() as u64;
        if total > limits.total_bytes {
            return Err(ArtifactError::TooLarge(total));
        }
        if name == "upkeep-runner.json" {
            runner = serde_json::from_slice(&bytes).ok();
        } else {
            out.insert(name, bytes);
        }
    }
    Ok((out, runner))
}

/// A relative path of plain segments.
fn plain(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains(':')
        && !name.contains('\0')
        && name
            .trim_end_matches('/')
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            w.start_file(*name, options).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn results_and_the_runner_are_kept_and_the_rest_dropped() {
        let zip = zip_of(&[
            ("g/f/new/benchmark.json", br#"{"full_id":"g/f"}"#),
            ("g/f/new/sample.json", br#"{"iters":[1,2],"times":[1,2]}"#),
            ("g/f/new/tukey.json", b"[]"),
            ("g/f/new/estimates.json", b"{}"),
            (
                "upkeep-runner.json",
                br#"{"os":"Linux","arch":"X64","label":"ubuntu-latest"}"#,
            ),
        ]);
        let (files, runner) = open(&zip, &Limits::default()).unwrap();
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            [
                "g/f/new/benchmark.json",
                "g/f/new/estimates.json",
                "g/f/new/sample.json"
            ]
        );
        assert_eq!(runner.unwrap().class(), "linux/x64/ubuntu-latest");
    }

    #[test]
    fn path_tricks_are_refused() {
        for name in [
            "../evil/new/sample.json",
            "/etc/new/sample.json",
            "a/../../sample.json",
            "c:\\x\\sample.json",
        ] {
            let zip = zip_of(&[(name, b"{}")]);
            assert!(
                matches!(
                    open(&zip, &Limits::default()),
                    Err(ArtifactError::BadPath(_))
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn a_zip_bomb_stops_at_the_cap() {
        let zeros = vec![b' '; 8 * 1024 * 1024];
        let zip = zip_of(&[("a/new/sample.json", &zeros)]);
        assert!(zip.len() < 100_000, "it compresses well: {}", zip.len());
        let err = open(&zip, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("zip bomb"), "{err}");
    }

    #[test]
    fn garbage_and_oversize_are_clear_errors() {
        assert!(matches!(
            open(b"not a zip", &Limits::default()),
            Err(ArtifactError::NotZip(_))
        ));
        let small = Limits {
            zip_bytes: 10,
            ..Limits::default()
        };
        let zip = zip_of(&[("a", b"b")]);
        assert!(matches!(
            open(&zip, &small),
            Err(ArtifactError::TooLarge(_))
        ));
    }
}
