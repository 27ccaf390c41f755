//! The GitHub App manifest (`app-manifest.yml`, compiled in), with its URLs filled in from where
//! this server is reachable.

use serde_json::Value;

/// The manifest as shipped.
pub const MANIFEST_YAML: &str = include_str!("../app-manifest.yml");

#[derive(Debug, thiserror::Error)]
#[error("app-manifest.yml is invalid: {0}")]
pub struct ManifestError(String);

/// The manifest as JSON, with the webhook and redirect URLs under `public_url`.
pub fn manifest(public_url: &url::Url) -> Result<Value, ManifestError> {
    let mut manifest: Value =
        serde_norway::from_str(MANIFEST_YAML).map_err(|e| ManifestError(e.to_string()))?;
    let base = public_url.as_str().trim_end_matches('/');
    let object = manifest
        .as_object_mut()
        .ok_or_else(|| ManifestError("the top level is not a mapping".into()))?;
    object.insert(
        "redirect_url".into(),
        Value::String(format!("{base}/setup/callback")),
    );
    object.insert(
        "setup_url".into(),
        Value::String(format!("{base}/setup/installed")),
    );
    let hook = object
        .entry("hook_attributes")
        .or_insert_with(|| Value::Object(Default::default()));
    hook.as_object_mut()
        .ok_or_else(|| ManifestError("hook_attributes is not a mapping".into()))?
        .insert("url".into(), Value::String(format!("{base}/webhook")));
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_asks_for_what_the_mission_needs() {
        let m = manifest(&url::Url::parse("https://upkeep.example.org/").unwrap()).unwrap();
        assert_eq!(
            m["hook_attributes"]["url"],
            "https://upkeep.example.org/webhook"
        );
        assert_eq!(
            m["redirect_url"],
            "https://upkeep.example.org/setup/callback"
        );
        for (perm, level) in [
            ("contents", "write"),
            ("pull_requests", "write"),
            ("issues", "write"),
            ("checks", "write"),
            ("actions", "write"),
            ("workflows", "write"),
            ("statuses", "read"),
            ("security_events", "write"),
            ("metadata", "read"),
        ] {
            assert_eq!(m["default_permissions"][perm], level, "{perm}");
        }
        let events: Vec<&str> = m["default_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        for e in [
            "push",
            "pull_request",
            "issue_comment",
            "issues",
            "check_suite",
            "check_run",
            "workflow_run",
            "status",
        ] {
            assert!(events.contains(&e), "{e}");
        }
    }
}
