//! What people read about an advisory: the section a security PR body opens with, and the
//! advisory issue upkeep files when no PR can fix it (its title, body and hidden marker, which
//! is how a later pass finds the issue again: by marker, never by title). Pure.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::{AdvisoryDb, Finding};

/// The marker in every advisory issue; the advisory id and the state hash follow it.
pub const ISSUE_MARKER: &str = "<!-- upkeep:advisory ";

/// Where an advisory is found: the workspace root (empty for the repository root) and the
/// finding.
pub type Place<'a> = (&'a str, &'a Finding);

/// The advisory's details: id with link, title, severity with the CVSS vector, aliases,
/// patched versions, the summary, and how each place pulls the crate in.
pub fn advisory_section(db: &AdvisoryDb, id: &str, places: &[Place<'_>]) -> String {
    let mut s = String::new();
    let Some((_, first)) = places.first() else {
        return s;
    };
    let advisory = db.advisory(id);
    let _ = writeln!(
        s,
        "### [{id}](https://rustsec.org/advisories/{id}): {}\n",
        first.title
    );
    let severity = match (
        &first.severity,
        advisory.and_then(|a| a.metadata.cvss.as_ref()),
    ) {
        (Some(sev), Some(cvss)) => format!("{sev} (`{cvss}`)"),
        (Some(sev), None) => sev.clone(),
        _ => "not rated (no CVSS vector in the advisory)".to_owned(),
    };
    let _ = writeln!(s, "- **Crate**: `{}`", first.krate);
    let _ = writeln!(s, "- **Severity**: {severity}");
    if !first.aliases.is_empty() {
        let _ = writeln!(s, "- **Aliases**: {}", first.aliases.join(", "));
    }
    let patched = if first.patched.is_empty() {
        "none yet".to_owned()
    } else {
        first
            .patched
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(s, "- **Patched**: {patched}");
    if !first.affected_functions.is_empty() {
        let _ = writeln!(
            s,
            "- **Affected functions**: {}",
            first
                .affected_functions
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (label, list) in [
        ("OS", &first.affected_os),
        ("Architectures", &first.affected_arch),
    ] {
        if !list.is_empty() {
            let _ = writeln!(s, "- **Affected {label}**: {}", list.join(", "));
        }
    }
    let _ = writeln!(s, "- **Pulled in by**:");
    for (root, f) in places {
        let at = if root.is_empty() {
            String::new()
        } else {
            format!(" (in `/{root}`)")
        };
        let _ = writeln!(s, "  - {}{at}", f.chain.join(" → "));
    }
    if let Some(summary) = advisory.map(|a| summary(&a.metadata.description)) {
        if !summary.is_empty() {
            let _ = writeln!(s, "\n> {}", summary.replace('\n', "\n> "));
        }
    }
    s.push('\n');
    s
}

/// The first paragraph of an advisory's description, at most 600 characters.
fn summary(description: &str) -> String {
    let para = description
        .trim()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .trim();
    if para.chars().count() > 600 {
        let cut: String = para.chars().take(600).collect();
        format!("{cut}…")
    } else {
        para.to_owned()
    }
}

/// The state of an advisory issue, as a hash of what it says: when it changes, the issue is
/// updated.
pub fn issue_state(places: &[Place<'_>], situation: &str) -> String {
    let mut h = Sha256::new();
    for (root, f) in places {
        h.update(format!(
            "|{root} {} {} {}",
            f.krate,
            f.version,
            f.chain.join(">")
        ));
    }
    h.update(situation);
    hex::encode(&h.finalize()[..8])
}

/// The advisory id and state an issue body's marker holds, if it is one of ours.
pub fn issue_marker_of(body: &str) -> Option<(&str, &str)> {
    let start = body.find(ISSUE_MARKER)? + ISSUE_MARKER.len();
    let mut words = body[start..].split_whitespace();
    let id = words.next()?;
    let state = words.next()?.strip_prefix("state=")?;
    Some((id, state))
}

/// The title of an advisory issue.
pub fn issue_title(id: &str, first: &Finding) -> String {
    format!("{id}: {} in {}", first.title, first.krate)
}

/// The body of an advisory issue: the advisory, why no PR fixes it (`situation`), what a
/// maintainer can do, and the marker.
pub fn issue_body(db: &AdvisoryDb, id: &str, places: &[Place<'_>], situation: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "This repository locks a version affected by a security advisory, and upkeep cannot \
         open a pull request that fixes it.\n"
    );
    s.push_str(&advisory_section(db, id, places));
    let _ = writeln!(s, "**Why there is no pull request**: {situation}\n");
    let _ = writeln!(
        s,
        "What you can do:\n\
         - move off the crate, or raise the requirement that holds the fix back;\n\
         - or, if the advisory does not apply to how you use the crate, silence it with a \
         reason in `.github/upkeep.toml`:\n\n\
         ```toml\n[[ignore]]\nadvisory = \"{id}\"\nreason = \"…why it does not apply…\"\n```\n\n\
         upkeep updates this issue when the situation changes and closes it when the \
         lockfile no longer has an affected version."
    );
    let _ = write!(
        s,
        "\n{ISSUE_MARKER}{id} state={} -->\n",
        issue_state(places, situation)
    );
    s
}
