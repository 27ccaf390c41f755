//! GitHub access. `app` authenticates as the App (RS256 JWT) and caches installation tokens;
//! `client` sends every request through one path with a timeout, rate-limit waits, retries with
//! back-off and metrics; `clock` keeps GitHub's time from its `Date` headers (JWTs are signed
//! by it); `manifest` exchanges the setup flow's code for the App's credentials.

pub mod actions;
pub mod app;
pub mod blob_cache;
pub mod checks;
pub mod client;
pub mod clock;
pub mod code_scanning;
pub mod listings;
pub mod manifest;
pub mod marked;
pub mod names;
pub mod releases;
pub mod repo;
pub mod revert_ops;
pub mod talk;

pub use app::{GitHubApp, InstallationClient};
pub use client::{Auth, Response, RetryPolicy, Transport};

/// Everything that can go wrong talking to GitHub.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("GitHub answered {status} to {method} {path}: {message}")]
    Status {
        status: u16,
        method: String,
        path: String,
        message: String,
    },
    #[error("rate limited by GitHub until {until_ms} (ms since epoch)")]
    RateLimited { until_ms: i64 },
    /// GitHub is failing for this installation (or the App): its circuit breaker is open and
    /// the call was not sent.
    #[error("GitHub is unavailable (circuit open) until {until_ms} (ms since epoch)")]
    Unavailable { until_ms: i64 },
    #[error("{method} {path} did not finish within {seconds} s")]
    Timeout {
        method: String,
        path: String,
        seconds: u64,
    },
    #[error("could not reach GitHub for {method} {path}: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
    },
    #[error("unexpected response body from {path}: {message}")]
    Decode { path: String, message: String },
    #[error("cannot sign the App's JWT: {0}")]
    Jwt(String),
    #[error("invalid GitHub API URL: {0}")]
    BaseUrl(String),
    /// A path built from a name GitHub would never have sent: refused before sending.
    #[error("refused to send a request to an invalid path: {0}")]
    InvalidPath(String),
}

impl GitHubError {
    /// Whether a later attempt may succeed (server trouble, limits, network), as opposed to a
    /// request GitHub will refuse again.
    pub fn is_transient(&self) -> bool {
        match self {
            GitHubError::Status { status, .. } => *status >= 500 || *status == 429,
            GitHubError::RateLimited { .. }
            | GitHubError::Unavailable { .. }
            | GitHubError::Timeout { .. }
            | GitHubError::Transport { .. } => true,
            GitHubError::Decode { .. }
            | GitHubError::Jwt(_)
            | GitHubError::BaseUrl(_)
            | GitHubError::InvalidPath(_) => false,
        }
    }

    /// A 403 saying the App lacks a permission on this installation ("Resource not accessible
    /// by integration"): not an outage and not worth a retry; a person must grant it.
    pub fn is_missing_permission(&self) -> bool {
        matches!(self, GitHubError::Status { status: 403, message, .. }
            if message.contains("Resource not accessible by integration"))
    }
}
