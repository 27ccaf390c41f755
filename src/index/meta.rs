//! Where a crate's sources live, for the links a PR body gives: the published `.crate` archive
//! (from the registry's `dl` address) is read just far enough to find its `Cargo.toml`
//! (`package.repository`) and whether it ships a changelog. The archive is untrusted: the
//! download is capped, decompression is capped, only two entries are looked at, nothing is
//! written to disk, and nothing in it is run. Results are cached per crate version.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a release says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrateMeta {
    /// `package.repository`, when it is an http(s) URL.
    pub repository: Option<String>,
    /// The changelog file's name in the published sources (`CHANGELOG.md`, …).
    pub changelog: Option<String>,
}

/// Largest `.crate` download read.
const MAX_CRATE_BYTES: usize = 10 * 1024 * 1024;
/// Largest amount decompressed while looking for `Cargo.toml`.
const MAX_INFLATED_BYTES: u64 = 64 * 1024 * 1024;

/// Reads release metadata from a registry's downloads. Cheap to clone.
#[derive(Clone)]
pub struct MetaClient {
    http: reqwest::Client,
    /// The index whose `config.json` names the downloads, when `dl` is not known yet.
    index: Option<String>,
    /// The download template: `{crate}` and `{version}` are filled in.
    dl: Arc<tokio::sync::OnceCell<Option<String>>>,
    cache: Arc<Mutex<HashMap<(String, String), CrateMeta>>>,
}

/// Cargo's rule: a `dl` without markers gets `/{crate}/{version}/download` appended.
fn template(dl: &str) -> String {
    if dl.contains("{crate}") || dl.contains("{version}") {
        dl.to_owned()
    } else {
        format!(
            "{}/{{crate}}/{{version}}/download",
            dl.trim_end_matches('/')
        )
    }
}

impl MetaClient {
    fn with(
        index: Option<String>,
        dl: Option<String>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let cell = tokio::sync::OnceCell::new();
        if let Some(dl) = dl {
            let _ = cell.set(Some(template(&dl)));
        }
        Ok(MetaClient {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .user_agent(concat!("upkeep/", env!("CARGO_PKG_VERSION")))
                .build()?,
            index,
            dl: Arc::new(cell),
            cache: Arc::default(),
        })
    }

    /// A client for downloads at `dl` (a registry's `config.json` `dl` value).
    pub fn new(dl: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        Self::with(None, Some(dl.to_owned()), timeout)
    }

    /// crates.io's static downloads.
    pub fn crates_io(timeout: Duration) -> Result<Self, reqwest::Error> {
        Self::new(
            "https://static.crates.io/crates/{crate}/{crate}-{version}.crate",
            timeout,
        )
    }

    /// Downloads of the sparse index at `index`, named by its `config.json` (read on first use).
    pub fn for_index(index: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        if index.trim_end_matches('/') == super::CRATES_IO.trim_end_matches('/') {
            return Self::crates_io(timeout);
        }
        Self::with(Some(index.to_owned()), None, timeout)
    }

    async fn dl(&self) -> Option<String> {
        self.dl
            .get_or_init(|| async {
                let index = self.index.as_ref()?;
                let url = format!("{}/config.json", index.trim_end_matches('/'));
                let config: serde_json::Value =
                    self.http.get(url).send().await.ok()?.json().await.ok()?;
                config["dl"].as_str().map(template)
            })
            .await
            .clone()
    }

    /// What the release `name` `version` says about itself; empty when it cannot be read (a
    /// link less is no reason to fail a PR).
    pub async fn meta(&self, name: &str, version: &str) -> CrateMeta {
        let key = (name.to_owned(), version.to_owned());
        if let Some(m) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return m.clone();
        }
        let Some(dl) = self.dl().await else {
            return CrateMeta::default();
        };
        let url = dl
            .replace("{crate}", name)
            .replace("{version}", version)
            .replace("{lowerprefix}", &prefix(&name.to_ascii_lowercase()))
            .replace("{prefix}", &prefix(name));
        let meta = match self.download(&url).await {
            Some(bytes) => read_meta(&bytes, name, version),
            None => CrateMeta::default(),
        };
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, meta.clone());
        meta
    }

    async fn download(&self, url: &str) -> Option<Vec<u8>> {
        let mut resp = self.http.get(url).send().await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.ok()? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_CRATE_BYTES {
                return None;
            }
        }
        Some(body)
    }
}

/// The index layout prefix Cargo's `dl` templates use (`se/rd` for `serde`).
fn prefix(name: &str) -> String {
    match name.len() {
        1 => "1".to_owned(),
        2 => "2".to_owned(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    }
}

/// Reads `name-version/Cargo.toml`'s repository and notes a top-level changelog, from a
/// `.crate` (a gzip tar), within the decompression cap.
pub fn read_meta(crate_bytes: &[u8], name: &str, version: &str) -> CrateMeta {
    let root = format!("{name}-{version}/");
    let inflated = flate2::read::GzDecoder::new(crate_bytes).take(MAX_INFLATED_BYTES);
    let mut archive = tar::Archive::new(inflated);
    let mut meta = CrateMeta::default();
    let Ok(entries) = archive.entries() else {
        return meta;
    };
    let mut manifest_seen = false;
    for entry in entries {
        let Ok(mut entry) = entry else { break };
        let Ok(path) = entry.path().map(|p| p.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some(file) = path.strip_prefix(&root) else {
            continue;
        };
        if file.contains('/') {
            continue;
        }
        let upper = file.to_ascii_uppercase();
        if upper.starts_with("CHANGELOG") || upper.starts_with("CHANGES") || upper == "RELEASES.MD"
        {
            meta.changelog.get_or_insert_with(|| file.to_owned());
        }
        if file == "Cargo.toml" && !manifest_seen {
            manifest_seen = true;
            let mut text = String::new();
            if (&mut entry)
                .take(1024 * 1024)
                .read_to_string(&mut text)
                .is_ok()
            {
                meta.repository = text
                    .parse::<toml::Table>()
                    .ok()
                    .and_then(|t| {
                        t.get("package")?
                            .get("repository")?
                            .as_str()
                            .map(str::to_owned)
                    })
                    .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
                    .map(|r| r.trim_end_matches('/').trim_end_matches(".git").to_owned());
            }
        }
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.crate` with the given files under `name-version/`.
    pub fn crate_file(name: &str, version: &str, files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(
                    &mut header,
                    format!("{name}-{version}/{path}"),
                    text.as_bytes(),
                )
                .unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn the_repository_and_changelog_are_read_from_the_published_archive() {
        let bytes = crate_file(
            "demo",
            "1.2.0",
            &[
                (
                    "Cargo.toml",
                    "[package]\nname = \"demo\"\nrepository = \"https://github.com/o/demo.git\"\n",
                ),
                ("CHANGELOG.md", "# 1.2.0\n"),
                ("src/lib.rs", ""),
            ],
        );
        assert_eq!(
            read_meta(&bytes, "demo", "1.2.0"),
            CrateMeta {
                repository: Some("https://github.com/o/demo".into()),
                changelog: Some("CHANGELOG.md".into()),
            }
        );
    }

    #[test]
    fn garbage_and_tricks_give_nothing_rather_than_failing() {
        assert_eq!(read_meta(b"not gzip", "x", "1.0.0"), CrateMeta::default());
        let sneaky = crate_file(
            "x",
            "1.0.0",
            &[(
                "Cargo.toml",
                "[package]\nrepository = \"file:///etc/passwd\"\n",
            )],
        );
        assert_eq!(read_meta(&sneaky, "x", "1.0.0").repository, None);
        let elsewhere = crate_file(
            "y",
            "1.0.0",
            &[("Cargo.toml", "[package]\nrepository = \"https://a\"\n")],
        );
        assert_eq!(read_meta(&elsewhere, "x", "1.0.0"), CrateMeta::default());
    }
}
