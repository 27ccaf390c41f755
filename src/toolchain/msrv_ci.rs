//! CI steps pinned to the MSRV (issue 25): `uses: dtolnay/rust-toolchain@1.70`, or
//! `toolchain: 1.70` under a toolchain action, in `.github/workflows/*.yml`. A pin below the
//! workspace's `rust-version` cannot build the crates any more (cargo refuses a toolchain older
//! than `rust-version`), so once a change raises `rust-version` such a step is stale: it is
//! moved up to `rust-version`, written with the precision it had. Pins at or above it (a
//! toolchain file's release, a matrix of newer versions, `stable`) are never touched: the
//! toolchain pin and the MSRV are different numbers. Text edits only, comments and layout kept.
//! Pure.

use semver::Version;

/// One stale pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePin {
    /// 1-based line.
    pub line: usize,
    pub from: String,
    pub to: String,
}

/// The stale pins in a workflow file, given the workspace's `rust-version`.
pub fn stale_pins(workflow: &str, msrv: &Version) -> Vec<StalePin> {
    workflow
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let (_, pin, _) = pin_in(line)?;
            let version = parse(pin)?;
            (version < *msrv).then(|| StalePin {
                line: i + 1,
                from: pin.to_owned(),
                to: written_like(pin, msrv),
            })
        })
        .collect()
}

/// Whether the workflow pins a Rust version at all (a step upkeep keeps in step).
pub fn has_pin(workflow: &str) -> bool {
    workflow.lines().any(|l| pin_in(l).is_some())
}

/// The workflow with every stale pin moved to `msrv`; `None` when nothing is stale.
pub fn rewrite(workflow: &str, msrv: &Version) -> Option<String> {
    let stale = stale_pins(workflow, msrv);
    if stale.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(workflow.len());
    for (i, line) in workflow.split_inclusive('\n').enumerate() {
        match (stale.iter().find(|s| s.line == i + 1), pin_in(line)) {
            (Some(s), Some((before, _, after))) => {
                out.push_str(before);
                out.push_str(&s.to);
                out.push_str(after);
            }
            _ => out.push_str(line),
        }
    }
    Some(out)
}

/// The pin in a line, split as (before, pin, after): `uses: dtolnay/rust-toolchain@1.70` or
/// `toolchain: 1.70` (quoted or not, a trailing comment allowed).
fn pin_in(line: &str) -> Option<(&str, &str, &str)> {
    let trimmed = line.trim_start().trim_start_matches("- ");
    let at = if let Some(rest) = trimmed.strip_prefix("uses:") {
        let rest = rest.trim_start();
        let action = rest.strip_prefix("dtolnay/rust-toolchain@")?;
        line.len() - action.len()
    } else if let Some(rest) = trimmed.strip_prefix("toolchain:") {
        let rest = rest.trim_start().trim_start_matches(['"', '\'']);
        line.len() - rest.len()
    } else {
        return None;
    };
    let rest = &line[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let pin = &rest[..end];
    parse(pin)?;
    Some((&line[..at], pin, &rest[end..]))
}

/// `1.70` or `1.70.1` (as `rust-version` is read).
fn parse(pin: &str) -> Option<Version> {
    crate::deps::workspace::parse_rust_version(pin)
}

/// `msrv` with as many parts as `pin` has.
fn written_like(pin: &str, msrv: &Version) -> String {
    if pin.split('.').count() == 3 {
        msrv.to_string()
    } else {
        format!("{}.{}", msrv.major, msrv.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CI: &str = "jobs:\n  msrv:\n    steps:\n      - uses: dtolnay/rust-toolchain@1.70 # the MSRV\n      - run: cargo check\n  test:\n    strategy:\n      matrix:\n        rust: [stable, 1.83]\n    steps:\n      - uses: dtolnay/rust-toolchain@master\n        with:\n          toolchain: \"1.70.0\"\n      - uses: dtolnay/rust-toolchain@stable\n      - uses: actions-rs/toolchain@v1\n        with:\n          toolchain: 1.90\n";

    #[test]
    fn pins_below_the_msrv_move_up_and_the_rest_stays() {
        let msrv = Version::new(1, 74, 0);
        let stale = stale_pins(CI, &msrv);
        let lines: Vec<(usize, &str, &str)> = stale
            .iter()
            .map(|s| (s.line, s.from.as_str(), s.to.as_str()))
            .collect();
        assert_eq!(lines, [(4, "1.70", "1.74"), (13, "1.70.0", "1.74.0")]);
        let out = rewrite(CI, &msrv).unwrap();
        assert_eq!(
            out,
            CI.replace("@1.70 # the MSRV", "@1.74 # the MSRV")
                .replace("\"1.70.0\"", "\"1.74.0\"")
        );
        // At the MSRV already: nothing to do.
        assert_eq!(rewrite(&out, &msrv), None);
        assert!(has_pin(&out));
        assert!(!has_pin(
            "steps:\n  - uses: dtolnay/rust-toolchain@stable\n"
        ));
        // A pin above the MSRV (a newer toolchain) is never lowered.
        assert_eq!(rewrite(CI, &Version::new(1, 60, 0)), None);
    }
}
