//! Whether the App has what upkeep's manifest asks for: each permission at least at the
//! manifest's level (`read` < `write` < `admin`) and each event subscribed. What it lacks is
//! reported with the exact setting to change and where. Pure.

use std::collections::BTreeMap;

use super::finding::Drift;

pub(super) fn level(access: &str) -> u8 {
    match access {
        "read" => 1,
        "write" => 2,
        "admin" => 3,
        _ => 0,
    }
}

/// A permission or event name as GitHub's settings page labels it (`pull_requests` → "Pull
/// requests").
fn label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// What the App lacks against the manifest's `wanted` permissions and events.
/// `permissions_page` is the App's "Permissions & events" settings page.
pub fn app_drift(
    wanted_permissions: &BTreeMap<String, String>,
    wanted_events: &[String],
    permissions: &BTreeMap<String, String>,
    events: &[String],
    permissions_page: &str,
) -> Vec<Drift> {
    let mut found = Vec::new();
    for (name, want) in wanted_permissions {
        let have = permissions.get(name).map(String::as_str).unwrap_or("none");
        if level(have) < level(want) {
            let access = if want == "read" {
                "Read-only"
            } else {
                "Read and write"
            };
            found.push(Drift {
                kind: "app_permission".to_owned(),
                detail: format!("the App has {name}: {have}; upkeep needs {name}: {want}"),
                fix: format!(
                    "on {permissions_page}, set \"{}\" to \"{access}\", save, then accept the new permission on each installation",
                    label(name)
                ),
            });
        }
    }
    for event in wanted_events {
        if !events.iter().any(|e| e == event) {
            found.push(Drift {
                kind: "app_event".to_owned(),
                detail: format!("the App is not subscribed to {event} events"),
                fix: format!(
                    "on {permissions_page}, under \"Subscribe to events\", tick \"{}\" and save",
                    label(event)
                ),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_missing_or_weaker_permission_and_a_missing_event_are_named_with_their_fix() {
        let wanted = map(&[
            ("checks", "write"),
            ("issues", "write"),
            ("metadata", "read"),
        ]);
        let events = vec!["check_run".to_owned(), "push".to_owned()];
        let have = map(&[
            ("issues", "read"),
            ("metadata", "read"),
            ("contents", "write"),
        ]);
        let found = app_drift(&wanted, &events, &have, &["push".to_owned()], "PAGE");
        let details: Vec<&str> = found.iter().map(|d| d.detail.as_str()).collect();
        assert_eq!(
            details,
            [
                "the App has checks: none; upkeep needs checks: write",
                "the App has issues: read; upkeep needs issues: write",
                "the App is not subscribed to check_run events",
            ]
        );
        assert!(
            found[0]
                .fix
                .contains("set \"Checks\" to \"Read and write\""),
            "{}",
            found[0].fix
        );
        assert!(found[2].fix.contains("tick \"Check run\""));
    }

    #[test]
    fn more_than_asked_is_no_drift() {
        let wanted = map(&[("contents", "read")]);
        let have = map(&[("contents", "admin")]);
        assert!(app_drift(&wanted, &[], &have, &[], "PAGE").is_empty());
    }
}
