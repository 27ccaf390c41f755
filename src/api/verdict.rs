//! The `upkeep/semver` check from a cargo-semver-checks report: its conclusion (a breaking
//! change the version does not already announce fails, an addition that needs a minor release
//! is neutral, nothing is success; a report that checked nothing is neutral and says why),
//! its title and its summary (per crate: the versions compared, the bump required, each lint
//! with where). Pure.

use std::fmt::Write as _;

use super::report::{CrateCheck, Report, Required};

/// The check's name.
pub const CHECK: &str = "upkeep/semver";
/// GitHub's limit on a check run's summary is 65 535 characters.
const MAX_SUMMARY: usize = 60_000;

/// What the check says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub conclusion: &'static str,
    pub title: String,
    pub summary: String,
}

/// The verdict on `report`; `exit_code` is the tool's, `base` the commit compared against.
pub fn verdict(report: &Report, exit_code: Option<i32>, base: Option<&str>) -> Verdict {
    let against = match base {
        Some(b) => format!(
            "Compared with the pull request's base (`{}`), not with the last release.\n\n",
            b.chars().take(12).collect::<String>()
        ),
        None => String::new(),
    };
    let judged: Vec<&CrateCheck> = report
        .crates
        .iter()
        .filter(|c| c.required.is_some())
        .collect();
    if judged.is_empty() {
        let why = if report.errors.is_empty() {
            format!(
                "cargo-semver-checks ended (exit code {}) without checking any crate.",
                exit_code.map_or_else(|| "unknown".to_owned(), |c| c.to_string())
            )
        } else {
            let lines: Vec<String> = report
                .errors
                .iter()
                .take(10)
                .map(|e| format!("    {e}"))
                .collect();
            format!(
                "cargo-semver-checks could not check this commit:\n\n{}",
                lines.join("\n")
            )
        };
        return Verdict {
            conclusion: "neutral",
            title: "API not checked".to_owned(),
            summary: format!(
                "{against}{why}\n\nCrates without a library target have no API to check."
            ),
        };
    }
    let worst = judged
        .iter()
        .filter_map(|c| c.required)
        .max()
        .unwrap_or(Required::Nothing);
    let needing: Vec<&&CrateCheck> = judged
        .iter()
        .filter(|c| c.required == Some(worst) && worst != Required::Nothing)
        .collect();
    let names = |list: &[&&CrateCheck]| {
        list.iter()
            .map(|c| format!("`{}`", c.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let failed: usize = judged
        .iter()
        .map(|c| c.lints.iter().filter(|l| l.failure).count())
        .sum();
    let (conclusion, title) = match worst {
        Required::Major => (
            "failure",
            format!(
                "Breaking API change in {}: needs a new major version ({failed} check{} failed)",
                names(&needing),
                if failed == 1 { "" } else { "s" }
            ),
        ),
        Required::Minor => (
            "neutral",
            format!(
                "API addition in {}: needs a new minor version",
                names(&needing)
            ),
        ),
        Required::Nothing => (
            "success",
            format!(
                "No API breakage in {} crate{}",
                judged.len(),
                if judged.len() == 1 { "" } else { "s" }
            ),
        ),
    };
    let mut s = against;
    for c in &judged {
        let needs = match c.required {
            Some(Required::Major) => "needs a new **major** version",
            Some(Required::Minor) => "needs a new **minor** version",
            _ => "no version bump required",
        };
        let versions = if c.baseline == c.current {
            c.current.clone()
        } else {
            format!("{} → {}", c.baseline, c.current)
        };
        let _ = writeln!(s, "### `{}` {versions}: {needs}\n", c.name);
        for l in &c.lints {
            let kind = if l.failure { "" } else { " (warning)" };
            let reference = l
                .reference
                .as_deref()
                .map(|r| format!(" ([reference]({r}))"))
                .unwrap_or_default();
            let _ = writeln!(s, "- **`{}`**{kind}: {}{reference}", l.id, l.title);
            for p in &l.places {
                let _ = writeln!(s, "  - `{}`", p.replace('`', "'"));
            }
        }
        s.push('\n');
    }
    if s.len() > MAX_SUMMARY {
        let mut at = MAX_SUMMARY;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
        s.push_str("\n\n… (cut: the full report is in the `upkeep-semver` artifact)");
    }
    Verdict {
        conclusion,
        title,
        summary: s,
    }
}
