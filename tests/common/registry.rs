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
