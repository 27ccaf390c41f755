//! cargo-semver-checks' report, as the reusable workflow's `semver` job saves it (its console
//! output, `output.txt`, and its exit code): per crate, the versions compared, each lint that
//! failed or warned with where, and the version bump the changes require; and the `upkeep/semver`
//! check it makes. Read as untrusted text: escapes stripped, lines, lints and places bounded.
//! Pure.

/// Lints kept per crate, places per lint, characters per line.
const MAX_LINTS: usize = 100;
const MAX_PLACES: usize = 30;
const MAX_LINE: usize = 300;

/// The bump a crate's changes require beyond the version it already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Required {
    Nothing,
    Minor,
    Major,
}

/// One lint that fired.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lint {
    /// `failure` (counts toward the bump) or `warning`.
    pub failure: bool,
    /// `function_missing`.
    pub id: String,
    /// `pub fn removed or renamed`.
    pub title: String,
    pub description: String,
    /// The Cargo reference section it cites.
    pub reference: Option<String>,
    /// Where (`function my_crate::foo, previously in file src/lib.rs:3`).
    pub places: Vec<String>,
}

/// One crate checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CrateCheck {
    pub name: String,
    pub baseline: String,
    pub current: String,
    pub lints: Vec<Lint>,
    /// `None` when the output ended before the crate's summary.
    pub required: Option<Required>,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub crates: Vec<CrateCheck>,
    /// `error: …` lines (the tool could not check something).
    pub errors: Vec<String>,
}

/// Reads cargo-semver-checks' console output.
pub fn parse(text: &str) -> Report {
    let mut report = Report::default();
    let mut section = Section::None;
    for raw in text.lines() {
        let line = strip_escapes(raw);
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Checking ") {
            if let Some(c) = checking(rest) {
                report.crates.push(c);
            }
            section = Section::None;
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("Summary ") {
            if let Some(c) = report.crates.last_mut() {
                c.required = Some(if rest.contains("requires new major version") {
                    Required::Major
                } else if rest.contains("requires new minor version") {
                    Required::Minor
                } else {
                    Required::Nothing
                });
            }
            section = Section::None;
            continue;
        }
        if let Some(e) = trimmed.strip_prefix("error:") {
            if report.errors.len() < MAX_LINTS {
                report.errors.push(cut(e.trim()));
            }
            continue;
        }
        if let Some(lint) = lint_header(trimmed) {
            if let Some(c) = report.crates.last_mut() {
                if c.lints.len() < MAX_LINTS {
                    c.lints.push(lint);
                }
            }
            section = Section::Lint;
            continue;
        }
        let Some(lint) = report.crates.last_mut().and_then(|c| c.lints.last_mut()) else {
            continue;
        };
        match (section, trimmed) {
            (Section::None, _) => {}
            (_, "Description:") => section = Section::Description,
            (_, "Failed in:") => section = Section::Places,
            (_, t) if t.starts_with("ref:") => {
                lint.reference = Some(cut(t["ref:".len()..].trim()));
            }
            (_, t)
                if t.starts_with("impl:")
                    || t.starts_with("Checked [")
                    || t.starts_with("Finished [") => {}
            (Section::Description, t) if !t.is_empty() && lint.description.is_empty() => {
                lint.description = cut(t);
            }
            (Section::Places, t) if !t.is_empty() && lint.places.len() < MAX_PLACES => {
                lint.places.push(cut(t));
            }
            _ => {}
        }
    }
    report
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Lint,
    Description,
    Places,
}

/// `name vX -> vY (…)` or `name vX (current)`.
fn checking(rest: &str) -> Option<CrateCheck> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let name = cut(words.first()?);
    let version = |w: Option<&&str>| w.map(|v| cut(v.trim_start_matches('v')));
    let baseline = version(words.get(1))?;
    let current = if words.get(2) == Some(&"->") {
        version(words.get(3))?
    } else {
        baseline.clone()
    };
    Some(CrateCheck {
        name,
        baseline,
        current,
        lints: Vec::new(),
        required: None,
    })
}

/// `--- failure id: title ---` or `--- warning id: title ---`.
fn lint_header(line: &str) -> Option<Lint> {
    let inner = line.strip_prefix("--- ")?.strip_suffix(" ---")?;
    let (kind, rest) = inner.split_once(' ')?;
    let failure = match kind {
        "failure" => true,
        "warning" => false,
        _ => return None,
    };
    let (id, title) = rest.split_once(": ").unwrap_or((rest, ""));
    Some(Lint {
        failure,
        id: cut(id.trim()),
        title: cut(title.trim()),
        description: String::new(),
        reference: None,
        places: Vec::new(),
    })
}

/// Drops ANSI escape sequences (the tool paints its console unless told not to).
fn strip_escapes(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn cut(line: &str) -> String {
    crate::text::cut(line, MAX_LINE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of cargo-semver-checks 0.4x output (painted, as a terminal would get it).
    const BREAKING: &str = "     Parsing demo v1.2.0 (current)\n      Parsed [   0.010s] (current)\n\u{1b}[1m\u{1b}[32m    Checking\u{1b}[0m demo v1.2.0 -> v1.2.0 (no change; assume minor)\n     Checked [   0.020s] 196 checks: 194 pass, 2 fail, 0 warn, 58 skip\n\n--- failure enum_variant_added: enum variant added on exhaustive enum ---\n\nDescription:\nA publicly-visible enum without #[non_exhaustive] has a new variant.\n        ref: https://doc.rust-lang.org/cargo/reference/semver.html#enum-variant-new\n       impl: https://github.com/obi1kenobi/cargo-semver-checks/tree/v0.46.0/src/lints/enum_variant_added.ron\n\nFailed in:\n  variant Colour:Blue in /w/src/lib.rs:7\n\n--- failure function_missing: pub fn removed or renamed ---\n\nDescription:\nA publicly-visible function cannot be imported by its prior path.\n        ref: https://doc.rust-lang.org/cargo/reference/semver.html#item-remove\n\nFailed in:\n  function demo::default_colour, previously in file /w/src/lib.rs:20\n\n\u{1b}[1m     Summary\u{1b}[0m semver requires new major version: 2 major and 0 minor checks failed\n    Finished [   1.234s] demo\n";

    #[test]
    fn a_breaking_report_names_each_lint_where_and_the_bump() {
        let r = parse(BREAKING);
        assert_eq!(r.crates.len(), 1);
        let c = &r.crates[0];
        assert_eq!(
            (c.name.as_str(), c.baseline.as_str(), c.current.as_str()),
            ("demo", "1.2.0", "1.2.0")
        );
        assert_eq!(c.required, Some(Required::Major));
        let ids: Vec<&str> = c.lints.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["enum_variant_added", "function_missing"]);
        let l = &c.lints[1];
        assert!(l.failure);
        assert_eq!(l.title, "pub fn removed or renamed");
        assert_eq!(
            l.description,
            "A publicly-visible function cannot be imported by its prior path."
        );
        assert_eq!(
            l.reference.as_deref(),
            Some("https://doc.rust-lang.org/cargo/reference/semver.html#item-remove")
        );
        assert_eq!(
            l.places,
            ["function demo::default_colour, previously in file /w/src/lib.rs:20"]
        );
    }

    #[test]
    fn clean_minor_and_broken_reports_are_told_apart() {
        let clean = parse("    Checking demo v1.2.0 -> v1.2.1 (patch change)\n     Checked [   0.598s] 223 checks: 223 pass, 31 skip\n     Summary no semver update required\n    Finished [ 200.665s] demo\n");
        assert_eq!(clean.crates[0].required, Some(Required::Nothing));
        assert_eq!(clean.crates[0].current, "1.2.1");
        let minor = parse("    Checking demo v1.2.0 -> v1.2.0 (no change)\n     Summary semver requires new minor version: 0 major and 1 minor checks failed\n");
        assert_eq!(minor.crates[0].required, Some(Required::Minor));
        let broken =
            parse("error: no crates with library targets selected, nothing to semver-check\n");
        assert!(broken.crates.is_empty());
        assert_eq!(
            broken.errors,
            ["no crates with library targets selected, nothing to semver-check"]
        );
    }

    #[test]
    fn hostile_output_is_bounded() {
        let mut text = "    Checking demo v1.0.0 -> v1.0.0 (no change)\n".to_owned();
        for i in 0..500 {
            text.push_str(&format!(
                "--- failure lint_{i}: {} ---\nFailed in:\n",
                "x".repeat(10_000)
            ));
            for _ in 0..100 {
                text.push_str("  somewhere\n");
            }
        }
        let r = parse(&text);
        assert_eq!(r.crates[0].lints.len(), MAX_LINTS);
        assert!(r.crates[0]
            .lints
            .iter()
            .all(|l| l.places.len() <= MAX_PLACES));
        assert!(r.crates[0].lints[0].title.chars().count() <= MAX_LINE + 1);
        assert_eq!(parse("").crates, vec![]);
    }
}
