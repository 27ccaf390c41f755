//! The `upkeep/audit` check run on pull requests that change a `Cargo.lock`: the lockfile is
//! audited at the PR's head and at its base, and only what the PR brings in counts. A new
//! vulnerability fails the check, with an annotation on the lockfile line of the package; new
//! warnings (unmaintained, unsound, notice) make it neutral with a summary; otherwise it
//! succeeds. A PR that touches no lockfile gets no check.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::Value;

use crate::audit::{audit, AdvisoryDb, Finding};
use crate::github::checks::CheckRun;
use crate::github::repo::Repo;
use crate::github::{GitHubError, InstallationClient};

/// The check run's name.
pub const CHECK_NAME: &str = "upkeep/audit";

/// What the check concluded (`None`: no lockfile changed).
pub async fn on_pull_request(
    client: &InstallationClient,
    full_name: &str,
    base_sha: &str,
    head_sha: &str,
    db: &AdvisoryDb,
) -> Result<Option<String>, GitHubError> {
    let compare: Value = client
        .get(&crate::github::names::repo_path(
            full_name,
            &format!(
                "/compare/{}...{}",
                crate::github::names::segment(base_sha),
                crate::github::names::segment(head_sha)
            ),
        ))
        .await?;
    let locks: Vec<String> = compare["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["filename"].as_str())
        .filter(|p| *p == "Cargo.lock" || p.ends_with("/Cargo.lock"))
        .map(str::to_owned)
        .collect();
    if locks.is_empty() {
        return Ok(None);
    }
    let none = BTreeSet::new();
    let mut introduced: Vec<(String, Finding, usize)> = Vec::new();
    for path in &locks {
        let Some(head_text) = content(client, full_name, path, head_sha).await? else {
            continue;
        };
        let base_text = content(client, full_name, path, base_sha).await?;
        let head = audit(db, &head_text, &none).unwrap_or_default();
        let base: BTreeSet<(Option<String>, String)> = base_text
            .map(|t| audit(db, &t, &none).unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .map(|f| (f.id, f.krate))
            .collect();
        for f in head {
            if !base.contains(&(f.id.clone(), f.krate.clone())) {
                let line = line_of(&head_text, &f.krate, &f.version);
                introduced.push((path.clone(), f, line));
            }
        }
    }
    let vulnerable = introduced.iter().any(|(_, f, _)| f.kind == "vulnerability");
    let conclusion = if vulnerable {
        "failure"
    } else if introduced.is_empty() {
        "success"
    } else {
        "neutral"
    };
    let summary: String = if introduced.is_empty() {
        "This pull request brings in no RustSec advisory.".to_owned()
    } else {
        introduced
            .iter()
            .map(|(path, f, _)| {
                format!(
                    "- `{}` {} in `{path}`: **{}** {} ({}{})\n",
                    f.krate,
                    f.version,
                    f.id.as_deref().unwrap_or("yanked"),
                    f.title,
                    f.kind,
                    f.severity
                        .as_ref()
                        .map(|s| format!(", {s}"))
                        .unwrap_or_default()
                )
            })
            .collect()
    };
    let n = introduced.len();
    Repo::new(client, full_name)
        .create_check_run(&CheckRun {
            name: CHECK_NAME.into(),
            head_sha: head_sha.into(),
            conclusion: Some(conclusion.into()),
            title: match conclusion {
                "failure" => "Brings in a vulnerable crate".to_owned(),
                "neutral" => format!("{n} advisory warning{}", if n == 1 { "" } else { "s" }),
                _ => "No new advisories".to_owned(),
            },
            summary,
            annotations: introduced
                .iter()
                .map(|(path, f, line)| {
                    let level = if f.kind == "vulnerability" {
                        "failure"
                    } else {
                        "warning"
                    };
                    (
                        path.clone(),
                        *line,
                        level.to_owned(),
                        format!(
                            "{} {}: {}",
                            f.id.as_deref().unwrap_or("yanked"),
                            f.krate,
                            f.title
                        ),
                    )
                })
                .collect(),
        })
        .await?;
    Ok(Some(conclusion.to_owned()))
}

/// A file's text at a commit, `None` when it is not there.
async fn content(
    client: &InstallationClient,
    full_name: &str,
    path: &str,
    sha: &str,
) -> Result<Option<String>, GitHubError> {
    let r = client
        .send(
            http::Method::GET,
            &format!(
                "{}/contents/{}?ref={}",
                crate::github::names::repo_path(full_name, ""),
                crate::github::names::ref_path(path),
                crate::github::names::query_value(sha)
            ),
            None,
        )
        .await?;
    if r.status.as_u16() == 404 {
        return Ok(None);
    }
    let v: Value = r.json(path)?;
    let compact: String = v["content"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| GitHubError::Decode {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    Ok(String::from_utf8(bytes).ok())
}

/// The 1-based line of `name = "…"` for the package at `version` in a lockfile (1 if absent).
fn line_of(text: &str, name: &str, version: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let want_name = format!("name = \"{name}\"");
    let want_version = format!("version = \"{version}\"");
    lines
        .iter()
        .enumerate()
        .find(|(i, l)| {
            l.trim() == want_name && lines.get(i + 1).is_some_and(|n| n.trim() == want_version)
        })
        .map_or(1, |(i, _)| i + 1)
}
