//! The last step of the manifest flow: `POST /app-manifests/{code}/conversions` (no
//! authentication) returns the new App's id, key and webhook secret.

use http::Method;
use serde::Deserialize;

use super::client::{Auth, Transport};
use super::GitHubError;

/// What GitHub returns for a converted manifest (the fields upkeep keeps).
#[derive(Deserialize)]
pub struct Conversion {
    pub id: u64,
    pub slug: Option<String>,
    pub html_url: Option<String>,
    pub pem: String,
    pub webhook_secret: Option<String>,
}

/// Exchanges a manifest code for the App's credentials.
pub async fn convert(transport: &Transport, code: &str) -> Result<Conversion, GitHubError> {
    if code.is_empty()
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(GitHubError::Decode {
            path: "/app-manifests/{code}/conversions".into(),
            message: "the code is not a plain token".into(),
        });
    }
    let path = format!("/app-manifests/{}/conversions", super::names::segment(code));
    transport
        .send_ok(&Auth::None, Method::POST, &path, None)
        .await?
        .json(&path)
}
