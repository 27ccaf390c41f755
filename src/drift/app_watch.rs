//! Compares the App as GitHub has it (`GET /app`: permissions and events) with what
//! `app-manifest.yml` asks for, and puts what it lacks on the drift board with the setting to
//! change. Nothing is changed on GitHub: only the App's owner can grant permissions. Driver.

use std::collections::BTreeMap;

use http::Method;
use serde_json::Value;
use tracing::warn;

use super::finding::DriftBoard;
use super::permissions::app_drift;
use crate::github::{GitHubApp, GitHubError};

/// This check's name on the drift board.
pub const CHECK: &str = "app_permissions";

fn strings(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks once: what the App lacks goes on `board` (nothing: its entries are cleared).
pub async fn check(
    app: &GitHubApp,
    permissions_page: &str,
    board: &DriftBoard,
) -> Result<usize, GitHubError> {
    let placeholder = url::Url::parse("https://upkeep.invalid/")
        .map_err(|e| GitHubError::BaseUrl(e.to_string()))?;
    let manifest = crate::app_manifest::manifest(&placeholder)
        .map_err(|e| GitHubError::BaseUrl(e.to_string()))?;
    let current: Value = app
        .app_request(Method::GET, "/app", None)
        .await?
        .json("/app")?;
    let found = app_drift(
        &strings(&manifest["default_permissions"]),
        &list(&manifest["default_events"]),
        &strings(&current["permissions"]),
        &list(&current["events"]),
        permissions_page,
    );
    for d in &found {
        warn!(kind = %d.kind, detail = %d.detail, fix = %d.fix, "the App lacks what upkeep needs");
    }
    let n = found.len();
    board.set(CHECK, found);
    Ok(n)
}
