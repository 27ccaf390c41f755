//! The security part of a repository's pass: audit each workspace's lockfile (as read by the
//! pass, no extra request), let the pure security plan say how each vulnerable crate is fixed,
//! and act: real cargo tries the plan's attempts in order until the new lockfile no longer has
//! the advisories, and the first that works becomes a PR labelled `security` (outside the
//! schedule and the PR limit) with the advisories in its body. Security PRs no longer needed
//! are closed. What no PR can fix gets one issue per advisory, found again by the hidden marker,
//! updated when the situation changes and closed when the lockfile moves past it (or the
//! advisory is silenced with a reason).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use tracing::warn;

use crate::audit::plan::BRANCH_PREFIX;
use crate::audit::report::{self, Place};
use crate::audit::sarif::Located;
use crate::audit::{audit, security_plan, AdvisoryDb, Finding, SecurityFix, SecurityInput};
use crate::dashboard::AdvisoryLine;
use crate::deps::pass::{DepsPass, Gathered, PassError, PassOptions, PassOutcome, SECURITY_LABEL};
use crate::deps::{body, PlannedPr, Workspace};
use crate::github::repo::{PullSummary, Repo};

/// Advisory id → where it is found (workspace root, finding) and why no PR fixes it.
type Problems = BTreeMap<String, (Vec<(String, Finding)>, String)>;

/// The key under which a person closing an advisory issue is remembered (with its state).
pub fn declined_issue_key(id: &str) -> String {
    format!("advisory:{id}")
}

impl DepsPass {
    pub(crate) async fn security(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        options: &PassOptions,
        outcome: &mut PassOutcome,
    ) -> Result<(), PassError> {
        let declined = &options.declined;
        outcome.locked_crates = g
            .workspaces
            .iter()
            .filter_map(|w| w.lockfile.as_ref())
            .flat_map(|(_, l)| l.packages.iter().map(|p| p.name.clone()))
            .collect();
        let Some(db) = self.advisories.as_ref().and_then(|a| a.current()) else {
            return Ok(());
        };
        let open: Vec<&PullSummary> = g
            .open
            .iter()
            .filter(|p| p.head_ref.starts_with(BRANCH_PREFIX))
            .collect();
        let mut wanted = BTreeSet::new();
        let mut problems = Problems::new();
        let mut present = BTreeSet::new();
        let mut fixing: BTreeMap<String, u64> = BTreeMap::new();
        let mut ignored: BTreeMap<String, String> = BTreeMap::new();
        let mut all: Vec<Finding> = Vec::new();
        let mut located: Vec<(&str, Finding)> = Vec::new();
        for ws in &g.workspaces {
            let Some((path, _)) = &ws.lockfile else {
                continue;
            };
            let Some(text) = g.files.get(path) else {
                continue;
            };
            let findings = match audit(&db, text, &BTreeSet::new()) {
                Ok(f) => f,
                Err(e) => {
                    warn!(lockfile = %path, error = %e, "lockfile not audited");
                    continue;
                }
            };
            all.extend(findings.iter().filter(|f| f.id.is_some()).cloned());
            located.extend(
                findings
                    .iter()
                    .filter(|f| f.id.is_some())
                    .map(|f| (path.as_str(), f.clone())),
            );
            let before: BTreeSet<(String, String)> = findings
                .iter()
                .map(|f| (f.krate.clone(), f.version.clone()))
                .collect();
            let planned = security_plan(&SecurityInput {
                workspace: ws,
                findings: &findings,
                db: &db,
                versions: &g.versions,
                config: &g.config,
            });
            for (f, reason) in planned.ignored {
                ignored.insert(f.id.unwrap_or_default(), reason);
            }
            for u in planned.unfixable {
                let id = u.finding.id.clone().unwrap_or_default();
                present.insert(id.clone());
                let entry = problems.entry(id).or_insert((Vec::new(), u.reason));
                entry.0.push((ws.root.clone(), u.finding));
            }
            for fix in &planned.fixes {
                wanted.insert(fix.branch.clone());
                let result = self
                    .fix(repo, g, ws, &db, fix, &open, options, &before, outcome)
                    .await?;
                for f in &fix.findings {
                    let id = f.id.clone().unwrap_or_default();
                    present.insert(id.clone());
                    match &result {
                        Ok(number) => {
                            fixing.insert(id, *number);
                        }
                        Err(why) => {
                            let situation = format!(
                                "patched releases exist ({}), but {why}",
                                f.patched.join(", ")
                            );
                            let entry = problems.entry(id).or_insert((Vec::new(), situation));
                            entry.0.push((ws.root.clone(), f.clone()));
                        }
                    }
                }
            }
        }
        outcome.ignored_advisories = ignored.clone().into_iter().collect();
        for pr in open.iter().filter(|p| !wanted.contains(&p.head_ref)) {
            repo.comment(
                pr.number,
                "Closing: the default branch no longer locks a version this fixes (or the advisory is now silenced).",
            )
            .await?;
            repo.update_pull(pr.number, None, None, Some("closed"))
                .await?;
            repo.delete_branch(&pr.head_ref).await?;
            outcome.closed.push(pr.number);
        }
        if g.config.code_scanning {
            let found: Vec<Located<'_>> = located
                .iter()
                .filter(|(_, f)| !ignored.contains_key(f.id.as_deref().unwrap_or_default()))
                .filter_map(|(lockfile, finding)| {
                    let text = g.files.get(*lockfile)?;
                    Some(Located {
                        lockfile,
                        text,
                        finding,
                    })
                })
                .collect();
            self.upload_code_scanning(repo, g, &db, &found, outcome)
                .await?;
        }
        let issues = self
            .advisory_issues(
                repo, g, &db, &problems, &present, &fixing, &ignored, declined, outcome,
            )
            .await?;
        let mut seen = BTreeSet::new();
        for f in all {
            let id = f.id.clone().unwrap_or_default();
            if ignored.contains_key(&id)
                || !seen.insert((id.clone(), f.krate.clone(), f.version.clone()))
            {
                continue;
            }
            outcome.advisories.push(AdvisoryLine {
                tracked_in: fixing.get(&id).or_else(|| issues.get(&id)).copied(),
                id,
                krate: f.krate,
                version: f.version,
                kind: f.kind,
                title: f.title,
            });
        }
        Ok(())
    }

    /// Tries the fix's attempts; the PR number, or why no PR can fix it.
    #[allow(clippy::too_many_arguments)]
    async fn fix(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        ws: &Workspace,
        db: &AdvisoryDb,
        fix: &SecurityFix,
        open: &[&PullSummary],
        options: &PassOptions,
        before: &BTreeSet<(String, String)>,
        outcome: &mut PassOutcome,
    ) -> Result<Result<u64, String>, PassError> {
        let declined = &options.declined;
        let existing = open.iter().copied().find(|p| p.head_ref == fix.branch);
        if let Some(pr) = existing.filter(|_| !options.rebuild.contains(&fix.branch)) {
            let candidates: Vec<&PlannedPr> = fix.attempts.iter().collect();
            if self.still_current(repo, g, pr, &candidates).await? {
                outcome.unchanged.push(pr.number);
                return Ok(Ok(pr.number));
            }
        }
        let ids: BTreeSet<&str> = fix
            .findings
            .iter()
            .filter_map(|f| f.id.as_deref())
            .collect();
        let lockfile = ws.lockfile.as_ref().map(|(p, _)| p.as_str());
        let mut tried = Vec::new();
        for attempt in &fix.attempts {
            if existing.is_none()
                && declined.contains(&(attempt.branch.clone(), body::fingerprint(attempt)))
            {
                return Ok(Err(
                    "a person closed the pull request that fixed it".to_owned()
                ));
            }
            let resolved = match self.resolve(ws, g, attempt).await? {
                Ok(r) => r,
                Err(why) => {
                    tried.push(format!("- {}: {}", describe(attempt), last_lines(&why)));
                    continue;
                }
            };
            let still = lockfile
                .and_then(|p| resolved.files.get(p))
                .map(|text| {
                    audit(db, text, &BTreeSet::new()).map_or(true, |found| {
                        // Still affected: the version being fixed, or a version that was not
                        // locked before (another locked version is another fix's business).
                        found.iter().any(|f| {
                            f.krate == fix.krate
                                && (f.version == fix.from.to_string()
                                    || !before.contains(&(f.krate.clone(), f.version.clone())))
                                && f.id.as_deref().is_some_and(|i| ids.contains(i))
                        })
                    })
                })
                .unwrap_or(true);
            if still {
                tried.push(format!(
                    "- {}: the new lockfile is still affected",
                    describe(attempt)
                ));
                continue;
            }
            let mut preface = format!(
                "**Security update**: `{}` {} is affected by {} advisor{}.\n\n",
                fix.krate,
                fix.from,
                ids.len(),
                if ids.len() == 1 { "y" } else { "ies" }
            );
            for f in &fix.findings {
                if let Some(id) = &f.id {
                    let places: Vec<Place<'_>> = vec![(ws.root.as_str(), f)];
                    preface.push_str(&report::advisory_section(db, id, &places));
                }
            }
            preface.push_str("---\n\n");
            let number = self
                .publish(repo, g, ws, attempt, resolved, existing, &preface, outcome)
                .await?;
            return Ok(Ok(number));
        }
        let mut why = "no change cargo accepts fixes it".to_owned();
        if !tried.is_empty() {
            let _ = write!(why, "; tried:\n\n{}", tried.join("\n"));
        }
        Ok(Err(why))
    }

    /// Advisory issues: opened for what no PR fixes, updated when the situation changes,
    /// closed when the lockfile moves past the advisory or it is silenced.
    #[allow(clippy::too_many_arguments)]
    async fn advisory_issues(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        db: &AdvisoryDb,
        problems: &Problems,
        present: &BTreeSet<String>,
        fixing: &BTreeMap<String, u64>,
        ignored: &BTreeMap<String, String>,
        declined: &BTreeSet<(String, String)>,
        outcome: &mut PassOutcome,
    ) -> Result<BTreeMap<String, u64>, PassError> {
        let mut numbers = BTreeMap::new();
        let ours: Vec<(u64, &str, &str, &str)> = g
            .issues
            .iter()
            .filter_map(|i| {
                let (id, state) = report::issue_marker_of(&i.body)?;
                Some((i.number, id, state, i.body.as_str()))
            })
            .collect();
        for (id, (places, situation)) in problems {
            let places: Vec<Place<'_>> = places.iter().map(|(r, f)| (r.as_str(), f)).collect();
            let state = report::issue_state(&places, situation);
            let body = report::issue_body(db, id, &places, situation);
            match ours.iter().find(|(_, i, _, _)| i == id) {
                Some((number, _, s, _)) if *s == state => {
                    numbers.insert(id.clone(), *number);
                }
                Some((number, ..)) => {
                    numbers.insert(id.clone(), *number);
                    repo.update_issue_body(*number, &body).await?;
                    repo.comment(*number, &format!("The situation changed: {situation}"))
                        .await?;
                    outcome.updated_issues.push(*number);
                }
                None if declined.contains(&(declined_issue_key(id), state.clone())) => {}
                None => {
                    let Some((_, first)) = places.first() else {
                        continue;
                    };
                    let number = repo
                        .create_issue(
                            &report::issue_title(id, first),
                            &body,
                            &[SECURITY_LABEL.to_owned()],
                        )
                        .await?;
                    outcome.opened_issues.push(number);
                    numbers.insert(id.clone(), number);
                }
            }
        }
        for (number, id, state, body) in &ours {
            if problems.contains_key(*id) {
                continue;
            }
            if let Some(pr) = fixing.get(*id) {
                let fixed_state = format!("fix-{pr}");
                if *state != fixed_state {
                    let body =
                        body.replace(&format!("state={state}"), &format!("state={fixed_state}"));
                    repo.update_issue_body(*number, &body).await?;
                    repo.comment(
                        *number,
                        &format!("A patched release is reachable now: #{pr} fixes this. This issue closes once the lockfile on the default branch is fixed."),
                    )
                    .await?;
                    outcome.updated_issues.push(*number);
                }
                continue;
            }
            let note = match ignored.get(*id) {
                Some(reason) => format!(
                    "Silenced in `.github/upkeep.toml` ({reason}): closing."
                ),
                None if !present.contains(*id) => format!(
                    "The lockfile on the default branch no longer has a version affected by {id}: closing."
                ),
                None => continue,
            };
            repo.comment(*number, &note).await?;
            repo.close_issue(*number).await?;
            outcome.closed_issues.push(*number);
        }
        Ok(numbers)
    }
}

/// An attempt in a sentence.
fn describe(pr: &PlannedPr) -> String {
    if let Some(e) = pr.edits.first() {
        return format!(
            "raising `{}` from `{}` to `{}` in {}",
            e.key, e.from, e.to, e.manifest
        );
    }
    pr.precise
        .iter()
        .map(|(n, from, to)| format!("`cargo update -p {n}@{from} --precise {to}`"))
        .collect::<Vec<_>>()
        .join(", then ")
}

/// Cargo's complaint in one line: what it failed to select and who requires it, without the
/// temp directory it ran in; else its last lines.
fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let telling: Vec<&str> = lines
        .iter()
        .filter_map(|l| {
            let at = l
                .find("failed to select")
                .or_else(|| l.find("required by package"))?;
            Some(&l[at..])
        })
        .collect();
    let chosen = if telling.is_empty() {
        lines[lines.len().saturating_sub(3)..].join(" ")
    } else {
        telling.join("; ")
    };
    let clean: String = chosen
        .split(" (/")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.split_once(')').map_or("", |(_, rest)| rest)
            }
        })
        .collect();
    clean
        .chars()
        .take(300)
        .collect::<String>()
        .replace('`', "'")
}
