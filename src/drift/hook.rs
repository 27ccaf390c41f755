//! Whether the App's webhook still points at upkeep: with a public URL GitHub can reach, the
//! hook must send JSON to `<public url>/webhook` with TLS verified (`insecure_ssl` `"0"`).
//! Anything else (a deployment that moved, a setting changed by hand, a path changed by an
//! upgrade) is corrected with the fields that differ, and only those. Pure.

use serde_json::{json, Map, Value};

/// The hook configuration as `GET /app/hook/config` shows it (the secret is never read).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HookConfig {
    pub url: Option<String>,
    pub content_type: Option<String>,
    /// `"0"` or `"1"`; GitHub may answer a number.
    pub insecure_ssl: Option<String>,
}

impl HookConfig {
    /// From GitHub's answer (`webhook-config`).
    pub fn from_json(v: &Value) -> HookConfig {
        let text = |key: &str| match &v[key] {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        HookConfig {
            url: text("url"),
            content_type: text("content_type"),
            insecure_ssl: text("insecure_ssl"),
        }
    }
}

/// One field that drifted: its name, what GitHub had (URLs without their query), what it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: &'static str,
    pub was: String,
    pub now: String,
}

/// Where the hook must point for `public_url` (`https://host/base` → `https://host/base/webhook`).
pub fn webhook_url(public_url: &url::Url) -> String {
    format!("{}/webhook", public_url.as_str().trim_end_matches('/'))
}

/// A URL as it may be logged: without its query or fragment (a token may sit there).
fn loggable(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}

/// The fields to put back, and the `PATCH /app/hook/config` body that does it (`None`: nothing
/// drifted).
pub fn correction(current: &HookConfig, public_url: &url::Url) -> Option<(Vec<Change>, Value)> {
    let want = [
        ("url", webhook_url(public_url)),
        ("content_type", "json".to_owned()),
        ("insecure_ssl", "0".to_owned()),
    ];
    let have = [&current.url, &current.content_type, &current.insecure_ssl];
    let mut changes = Vec::new();
    let mut body = Map::new();
    for ((field, want), have) in want.into_iter().zip(have) {
        if have.as_deref() != Some(want.as_str()) {
            let was = have
                .as_deref()
                .map(loggable)
                .unwrap_or_else(|| "(unset)".into());
            changes.push(Change {
                field,
                was,
                now: want.clone(),
            });
            body.insert(field.to_owned(), json!(want));
        }
    }
    (!changes.is_empty()).then_some((changes, Value::Object(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> url::Url {
        url::Url::parse("https://upkeep.example.org/").unwrap()
    }

    #[test]
    fn a_hook_that_points_at_upkeep_is_left_alone() {
        let right = HookConfig::from_json(&json!({
            "url": "https://upkeep.example.org/webhook", "content_type": "json",
            "insecure_ssl": "0", "secret": "********"
        }));
        assert_eq!(correction(&right, &public()), None);
        // GitHub may answer insecure_ssl as a number.
        let numeric = HookConfig::from_json(&json!({
            "url": "https://upkeep.example.org/webhook", "content_type": "json", "insecure_ssl": 0
        }));
        assert_eq!(correction(&numeric, &public()), None);
    }

    #[test]
    fn every_drifted_field_is_put_back_and_only_those() {
        let drifted = HookConfig::from_json(&json!({
            "url": "https://old.example.org/hooks?token=s3cret", "content_type": "form",
            "insecure_ssl": "1"
        }));
        let (changes, body) = correction(&drifted, &public()).unwrap();
        assert_eq!(
            body,
            json!({"url": "https://upkeep.example.org/webhook", "content_type": "json", "insecure_ssl": "0"})
        );
        assert_eq!(
            changes[0].was, "https://old.example.org/hooks",
            "no query in the log"
        );
        let only_ssl = HookConfig {
            insecure_ssl: Some("1".into()),
            ..HookConfig::from_json(
                &json!({"url": "https://upkeep.example.org/webhook", "content_type": "json"}),
            )
        };
        let (_, body) = correction(&only_ssl, &public()).unwrap();
        assert_eq!(body, json!({"insecure_ssl": "0"}));
    }

    #[test]
    fn a_public_url_with_a_path_keeps_it() {
        let base = url::Url::parse("https://example.org/upkeep/").unwrap();
        assert_eq!(webhook_url(&base), "https://example.org/upkeep/webhook");
    }
}
