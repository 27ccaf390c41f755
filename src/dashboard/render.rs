//! The dashboard issue (issue 6): one per repository, found by a hidden marker, showing what
//! upkeep sees — PRs the limit holds back (tick to create now), open upkeep PRs (tick to
//! rebase), updates waiting and why, ignores (with those added by command and not merged yet),
//! advisories and the PR or issue that deals with each, silenced advisories with their reasons,
//! configuration problems, and jobs quarantined after crashing twice. Ticked boxes are read
//! back as actions. Pure.

use std::fmt::Write as _;

use crate::deps::{Held, Waiting};

/// The marker that identifies the dashboard issue.
pub const MARKER: &str = "<!-- upkeep:dashboard -->";

/// The dashboard issue's title.
pub const TITLE: &str = "Upkeep dashboard";

/// One advisory finding as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryLine {
    pub id: String,
    pub krate: String,
    pub version: String,
    /// `vulnerability`, `unmaintained`, `unsound`, `notice`.
    pub kind: String,
    pub title: String,
    /// The security PR or advisory issue that deals with it.
    pub tracked_in: Option<u64>,
}

/// An ignore as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreLine {
    pub dependency: String,
    /// Versions or update types, empty for the whole dependency.
    pub condition: String,
    pub reason: Option<String>,
    /// Added by command; the PR that writes it into the file has not merged yet.
    pub pending: bool,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Default)]
pub struct Dashboard<'a> {
    pub slug: &'a str,
    /// Open upkeep PRs: `(number, title, branch)`.
    pub open_prs: Vec<(u64, String, String)>,
    /// PRs the limit holds back: `(branch, title)`.
    pub held_back: &'a [(String, String)],
    pub waiting: &'a [Waiting],
    pub ignores: Vec<IgnoreLine>,
    pub advisories: &'a [AdvisoryLine],
    /// `(advisory id, reason)`.
    pub silenced: &'a [(String, String)],
    pub config_problems: &'a [String],
    /// Features paused until the installation accepts permissions, with the accept page.
    pub paused: &'a [String],
    /// Auto-revert's recent decisions, newest first.
    pub reverts: &'a [RevertLine],
    /// Jobs of this repository that crashed twice and wait for a person: `(kind, error)`.
    pub quarantined: &'a [(String, String)],
    /// The weekly health report's section (`report::weekly::render_repo`), heading included.
    pub weekly: Option<&'a str>,
    /// Crates locked at several versions, per workspace root (`""`: the repository's root).
    pub duplicates: Vec<(String, Vec<crate::deps::duplicates::Duplicate>)>,
    /// Benchmarks that cannot see the slowdown the verdicts aim for (`bench::blind`).
    pub blind: &'a [crate::bench::limits::Blind],
    /// The toolchain pin and where it stands (`toolchain::pr::dashboard_line`).
    pub toolchain: Option<&'a str>,
    /// What upkeep cannot update, with why (`deps::reach`).
    pub unreachable: &'a [String],
}

/// An action a ticked box asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open the held-back PR on this branch now.
    Create(String),
    /// Rebuild this open PR.
    Rebase(u64),
}

impl Action {
    fn tag(&self) -> String {
        match self {
            Action::Create(branch) => format!("<!-- upkeep:do create {branch} -->"),
            Action::Rebase(n) => format!("<!-- upkeep:do rebase {n} -->"),
        }
    }
}

/// The dashboard's body.
pub fn render(d: &Dashboard<'_>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "upkeep keeps this issue current after every pass. Tick a box to act; close the issue to \
         turn the dashboard off (reopen it to turn it back on). Comment `@{} help` for commands.\n",
        d.slug
    );
    if !d.paused.is_empty() {
        let _ = writeln!(s, "## Paused\n");
        for line in d.paused {
            let _ = writeln!(s, "- {line}");
        }
        s.push('\n');
    }
    if !d.held_back.is_empty() {
        let _ = writeln!(s, "## Held back by the pull request limit\n");
        for (branch, title) in d.held_back {
            let action = Action::Create(branch.clone());
            let _ = writeln!(s, "- [ ] Create now: {title} {}", action.tag());
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## Open pull requests\n");
    if d.open_prs.is_empty() {
        let _ = writeln!(s, "None.");
    }
    for (number, title, _) in &d.open_prs {
        let _ = writeln!(
            s,
            "- [ ] Rebase #{number} {title} {}",
            Action::Rebase(*number).tag()
        );
    }
    s.push('\n');
    if !d.unreachable.is_empty() {
        let _ = writeln!(
            s,
            "## Not updated: out of upkeep's reach\n\nEverything else is updated as usual; these, and the crates they lock, stay where they are:\n"
        );
        for line in d.unreachable {
            let _ = writeln!(s, "- {line}");
        }
        s.push('\n');
    }
    if let Some(line) = d.toolchain {
        let _ = writeln!(s, "## Rust toolchain\n\n{line}\n");
    }
    let waiting: Vec<&Waiting> = d
        .waiting
        .iter()
        .filter(|w| !matches!(w.held, Held::Limit))
        .collect();
    if !waiting.is_empty() {
        let _ = writeln!(
            s,
            "## Waiting\n\n| Crate | From | To | Why |\n|---|---|---|---|"
        );
        for w in waiting {
            let to = w.to.as_ref().map(ToString::to_string).unwrap_or_default();
            let _ = writeln!(s, "| `{}` | {} | {to} | {} |", w.name, w.from, why(&w.held));
        }
        s.push('\n');
    }
    if !d.ignores.is_empty() {
        let _ = writeln!(s, "## Ignored\n");
        for i in &d.ignores {
            let what = if i.condition.is_empty() {
                "every version".to_owned()
            } else {
                format!("`{}`", i.condition)
            };
            let reason = i
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            let pending = if i.pending {
                " (by command; applies now, written to `.github/upkeep.toml` when its PR merges)"
            } else {
                ""
            };
            let _ = writeln!(s, "- `{}` {what}{reason}{pending}", i.dependency);
        }
        let _ = writeln!(
            s,
            "\nComment `@{} unignore DEPENDENCY` to lift one.\n",
            d.slug
        );
    }
    if !d.quarantined.is_empty() {
        let _ = writeln!(
            s,
            "## Quarantined jobs\n\nThese crashed twice (timed out, or took their worker down) and \
             are not tried again by themselves. Comment `@{} retry` to run the latest again.\n",
            d.slug
        );
        for (kind, error) in d.quarantined {
            let short: String = error.chars().take(120).collect();
            let _ = writeln!(s, "- `{kind}`: {}", short.replace('`', "'"));
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## Advisories\n");
    if d.advisories.is_empty() {
        let _ = writeln!(s, "None in the lockfiles.");
    }
    for a in d.advisories {
        let tracked = a.tracked_in.map(|n| format!(" — #{n}")).unwrap_or_default();
        let _ = writeln!(
            s,
            "- [{id}](https://rustsec.org/advisories/{id}) `{}` {} ({}): {}{tracked}",
            a.krate,
            a.version,
            a.kind,
            a.title,
            id = a.id
        );
    }
    if !d.silenced.is_empty() {
        let _ = writeln!(s, "\nSilenced in `.github/upkeep.toml`:\n");
        for (id, reason) in d.silenced {
            let _ = writeln!(s, "- {id}: {reason}");
        }
    }
    s.push('\n');
    s.push_str(&duplicates_section(&d.duplicates));
    s.push_str(&blind_section(d.blind));
    // Before the auto-revert section, which `with_reverts` rewrites in place.
    if let Some(weekly) = d.weekly {
        s.push_str(weekly);
    }
    s.push_str(&revert_section(d.reverts));
    if !d.config_problems.is_empty() {
        let _ = writeln!(s, "## Configuration problems\n");
        for p in d.config_problems {
            let _ = writeln!(s, "- {p}");
        }
        s.push('\n');
    }
    s.push_str(MARKER);
    s.push('\n');
    s
}

/// The crates locked at several versions; nothing when there are none.
fn duplicates_section(per_root: &[(String, Vec<crate::deps::duplicates::Duplicate>)]) -> String {
    if per_root.iter().all(|(_, ds)| ds.is_empty()) {
        return String::new();
    }
    let mut s = "## Crates locked at several versions\n\nEach copy is built and linked on its own; the lockfile refresh updates every copy within its own requirement.\n\n".to_owned();
    for (root, ds) in per_root {
        let place = if root.is_empty() {
            String::new()
        } else {
            format!(" (in `{root}`)")
        };
        for d in ds {
            let _ = writeln!(s, "- {}{place}", crate::deps::duplicates::line(d));
            for r in &d.removable {
                let _ = writeln!(
                    s,
                    "  - {}",
                    crate::deps::duplicates::removal_line(&d.name, r)
                );
            }
        }
    }
    s.push('\n');
    s
}

/// The benchmarks with a blind spot, and the fix; nothing when there are none.
fn blind_section(blind: &[crate::bench::limits::Blind]) -> String {
    use crate::bench::limits::{text, FIX, WANTED};
    if blind.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "## Benchmarks with a blind spot\n\nOn the default branch's recent results, these cannot see a {:.0} % slowdown (shown: the smallest slowdown caught 95 % of the time), so a smaller one there goes unseen:\n\n",
        100.0 * WANTED
    );
    for b in blind {
        let _ = writeln!(
            s,
            "- `{}` on `{}`: can detect {}",
            b.id.replace('`', "'"),
            b.runner_class,
            text(b.limit)
        );
    }
    let _ = writeln!(s, "\nTo fix: {FIX}.\n");
    s
}

const REVERT_HEADING: &str = "## Auto-revert\n";
const CONFIG_HEADING: &str = "## Configuration problems\n";

/// The auto-revert section: nothing when there is no decision to list.
fn revert_section(reverts: &[RevertLine]) -> String {
    let mut s = String::new();
    if reverts.is_empty() {
        return s;
    }
    let _ = writeln!(s, "{REVERT_HEADING}");
    for r in reverts {
        let link = match (r.revert_pr, r.issue) {
            (Some(pr), _) => format!(" — #{pr}"),
            (None, Some(issue)) => format!(" — #{issue}"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "- {} `{}` **{}**: {}{link}",
            r.at,
            &r.sha[..r.sha.len().min(7)],
            r.decision,
            r.reason
        );
    }
    s.push('\n');
    s
}

/// Where a line starting with `heading` begins in `body`.
fn heading_at(body: &str, heading: &str) -> Option<usize> {
    body.match_indices(heading)
        .map(|(i, _)| i)
        .find(|i| *i == 0 || body[..*i].ends_with('\n'))
}

/// A dashboard's `body` with its auto-revert section listing `reverts` instead, and everything
/// else — ticked boxes included — as it was: what an auto-revert decision changes between
/// passes, written as soon as it is made.
pub fn with_reverts(body: &str, reverts: &[RevertLine]) -> String {
    let mut out = body.to_owned();
    if let Some(start) = heading_at(&out, REVERT_HEADING) {
        let after = start + REVERT_HEADING.len();
        let end = heading_at(&out[after..], "## ")
            .or_else(|| out[after..].rfind(MARKER))
            .map_or(out.len(), |i| after + i);
        out.replace_range(start..end, "");
    }
    let at = heading_at(&out, CONFIG_HEADING)
        .or_else(|| out.rfind(MARKER))
        .unwrap_or(out.len());
    out.insert_str(at, &revert_section(reverts));
    out
}

fn why(held: &Held) -> String {
    match held {
        Held::Limit => "the pull request limit".into(),
        Held::Cooldown { until } => format!("cooldown until {}", until.format("%Y-%m-%d")),
        Held::Ignored => "ignored".into(),
        Held::Msrv { rust_version } => format!("needs Rust {rust_version}"),
        Held::Requirement { detail } => format!("requirement cannot be rewritten: {detail}"),
        Held::BreakingOff => "breaking updates are off".into(),
        Held::Unreachable { detail } => detail.clone(),
    }
}

/// One auto-revert decision, as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertLine {
    /// `YYYY-MM-DD HH:MM` UTC.
    pub at: String,
    pub sha: String,
    pub decision: String,
    pub reason: String,
    pub revert_pr: Option<i64>,
    pub issue: Option<i64>,
}

/// Whether `body` is a dashboard.
pub fn is_dashboard(body: &str) -> bool {
    body.contains(MARKER)
}

/// The actions whose boxes are ticked in `body`.
pub fn ticked(body: &str) -> Vec<Action> {
    body.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix("- [x]")
                .or_else(|| line.strip_prefix("- [X]"))
                .or_else(|| line.strip_prefix("* [x]"))
                .or_else(|| line.strip_prefix("* [X]"))?;
            let tag = rest.split("<!-- upkeep:do ").nth(1)?;
            let tag = tag.split("-->").next()?.trim();
            let (verb, arg) = tag.split_once(' ')?;
            match verb {
                "create" => Some(Action::Create(arg.trim().to_owned())),
                "rebase" => arg.trim().parse().ok().map(Action::Rebase),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_dashboard_has_no_ticks_and_ticking_reads_back_the_action() {
        let held = [(
            "upkeep/cargo/serde".to_owned(),
            "Bump serde from 1.0.0 to 2.0.0".to_owned(),
        )];
        let d = Dashboard {
            slug: "upkeep",
            open_prs: vec![(
                12,
                "Refresh Cargo.lock".into(),
                "upkeep/cargo/lockfile-refresh".into(),
            )],
            held_back: &held,
            ..Dashboard::default()
        };
        let body = render(&d);
        assert!(is_dashboard(&body));
        assert!(ticked(&body).is_empty());
        let ticked_body = body
            .replace("- [ ] Create now", "- [x] Create now")
            .replace("- [ ] Rebase #12", "- [X] Rebase #12");
        assert_eq!(
            ticked(&ticked_body),
            [
                Action::Create("upkeep/cargo/serde".into()),
                Action::Rebase(12)
            ]
        );
    }

    #[test]
    fn quarantined_jobs_are_listed_with_how_to_run_them_again() {
        let quarantined = [(
            "delivery".to_owned(),
            format!("timed out after 600s `{}`", "x".repeat(500)),
        )];
        let body = render(&Dashboard {
            slug: "upkeep",
            quarantined: &quarantined,
            ..Dashboard::default()
        });
        assert!(body.contains("## Quarantined jobs"), "{body}");
        assert!(body.contains("Comment `@upkeep retry`"), "{body}");
        let line = body
            .lines()
            .find(|l| l.starts_with("- `delivery`"))
            .unwrap();
        assert!(line.len() < 160, "the error is cut: {line}");
        assert!(!render(&Dashboard::default()).contains("Quarantined"));
    }

    #[test]
    fn crates_locked_at_several_versions_are_listed_per_workspace() {
        use crate::deps::duplicates::{Copy, Duplicate};
        let syn = Duplicate {
            name: "syn".into(),
            copies: vec![
                Copy {
                    version: semver::Version::new(1, 0, 109),
                    required_by: vec!["dupdemo 0.1.0".into()],
                },
                Copy {
                    version: semver::Version::new(2, 0, 119),
                    required_by: vec!["thiserror-impl 1.0.69".into()],
                },
            ],
            removable: vec![crate::deps::duplicates::Removal {
                copy: semver::Version::new(1, 0, 109),
                to: semver::Version::new(2, 0, 119),
                in_packages: vec!["dupdemo 0.1.0".into()],
            }],
        };
        let body = render(&Dashboard {
            slug: "upkeep",
            duplicates: vec![
                (String::new(), vec![syn.clone()]),
                ("tools".into(), vec![syn]),
            ],
            ..Dashboard::default()
        });
        assert!(
            body.contains("## Crates locked at several versions\n"),
            "{body}"
        );
        assert!(
            body.contains("- `syn`: 1.0.109 (required by `dupdemo 0.1.0`), 2.0.119 (required by `thiserror-impl 1.0.69`)\n  - bumping `syn` to 2.0.119 in `dupdemo 0.1.0` removes its 1.0.109 copy\n"),
            "{body}"
        );
        assert!(
            body.contains("(required by `thiserror-impl 1.0.69`) (in `tools`)"),
            "{body}"
        );
        assert!(!render(&Dashboard::default()).contains("several versions"));
    }

    #[test]
    fn boxes_without_our_tag_are_not_actions() {
        assert!(ticked("- [x] my own todo\n- [x] <!-- upkeep:do explode 1 -->").is_empty());
    }

    #[test]
    fn revert_decisions_are_listed_with_their_reason_and_link() {
        let reverts = [RevertLine {
            at: "2026-11-29 08:00".into(),
            sha: "0123456789".into(),
            decision: "reverted".into(),
            reason: "confirmed culprit".into(),
            revert_pr: Some(14),
            issue: None,
        }];
        let body = render(&Dashboard {
            slug: "upkeep",
            reverts: &reverts,
            ..Dashboard::default()
        });
        assert!(
            body.contains("## Auto-revert\n\n- 2026-11-29 08:00 `0123456` **reverted**: confirmed culprit — #14\n"),
            "{body}"
        );
        assert!(!render(&Dashboard::default()).contains("Auto-revert"));
    }

    #[test]
    fn a_revert_decision_rewrites_only_the_auto_revert_section() {
        let line = |sha: &str, decision: &str| RevertLine {
            at: "2026-11-29 08:00".into(),
            sha: sha.into(),
            decision: decision.into(),
            reason: "why".into(),
            revert_pr: None,
            issue: Some(3),
        };
        let (old, new) = (
            [line("aaaaaaa", "rerun")],
            [line("bbbbbbb", "reverted"), line("aaaaaaa", "rerun")],
        );
        let problems = ["`.github/upkeep.toml`: bad".to_owned()];
        let open_prs = vec![(7, "Bump serde".to_owned(), "upkeep/serde".to_owned())];
        // The weekly report's section stays where it is, above.
        let week = "## Last week\n\nA quiet week.\n\n";
        for (config_problems, weekly) in [
            (&problems[..], None),
            (&[][..], None),
            (&problems[..], Some(week)),
            (&[][..], Some(week)),
        ] {
            for before in [&old[..], &[]] {
                let page = |reverts| {
                    render(&Dashboard {
                        open_prs: open_prs.clone(),
                        config_problems,
                        reverts,
                        weekly,
                        ..Dashboard::default()
                    })
                };
                // The maintainer ticked a box meanwhile: it stays ticked.
                let ticked = page(before).replace("- [ ] Rebase #7", "- [x] Rebase #7");
                let after = with_reverts(&ticked, &new);
                assert_eq!(
                    after,
                    page(&new).replace("- [ ] Rebase #7", "- [x] Rebase #7"),
                    "{before:?} then {new:?}, with {config_problems:?}"
                );
                assert_eq!(with_reverts(&after, &[]), with_reverts(&ticked, &[]));
                assert!(!with_reverts(&after, &[]).contains("Auto-revert"));
                if weekly.is_some() {
                    let (w, r) = (after.find("## Last week"), after.find("## Auto-revert"));
                    assert!(w.is_some() && w < r, "{after}");
                }
            }
        }
    }
}
