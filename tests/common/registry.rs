//! A sparse registry on loopback, served from index files under `tests/fixtures/registry`, for
//! the plan to read versions from and for real cargo to resolve against (source replacement).

use std::path::PathBuf;

use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The registry's files on disk.
pub fn fixture_index() -> PathBuf {
    super::repo_root().join("tests/fixtures/registry")
}

struct Files {
    dir: PathBuf,
    base: String,
}

impl Respond for Files {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().trim_start_matches('/');
        if path == "config.json" {
            let config = format!("{{\"dl\": \"{}/dl\"}}", self.base);
            return ResponseTemplate::new(200).set_body_string(config);
        }
        if path.contains("..") {
            return ResponseTemplate::new(400);
        }
        // Downloads: `dl/{crate}/{version}/download`, a `.crate` made on the spot whose
        // manifest names a repository and which ships a changelog.
        if let Some(rest) = path.strip_prefix("dl/") {
            let parts: Vec<&str> = rest.split('/').collect();
            if let [name, version, "download"] = parts.as_slice() {
                return ResponseTemplate::new(200).set_body_bytes(crate_file(name, version));
            }
            return ResponseTemplate::new(404);
        }
        match std::fs::read_to_string(self.dir.join(path)) {
            Ok(body) => ResponseTemplate::new(200).set_body_string(body),
            Err(_) => ResponseTemplate::new(404),
        }
    }
}

/// A running loopback registry.
pub struct LoopbackRegistry {
    pub server: MockServer,
}

impl LoopbackRegistry {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::method("GET"))
            .respond_with(Files {
                dir: fixture_index(),
                base: server.uri(),
            })
            .mount(&server)
            .await;
        LoopbackRegistry { server }
    }

    /// The index URL (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> String {
        format!("{}/", self.server.uri())
    }

    /// The index paths requested so far, in order.
    pub async fn requested(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| r.url.path().to_owned())
            .collect()
    }
}

/// A `.crate` (gzip tar) for `name` `version` with a manifest and a changelog.
pub fn crate_file(name: &str, version: &str) -> Vec<u8> {
    let files = [
        (
            "Cargo.toml",
            format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nrepository = \"https://github.com/demo/{name}\"\n"),
        ),
        ("CHANGELOG.md", format!("# {version}\n")),
    ];
    let mut builder = tar::Builder::new(Vec::new());
    for (path, text) in &files {
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
