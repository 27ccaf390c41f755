//! Reading commands out of a comment: `@<slug> <command> [args]` at the start of a line,
//! several per comment, case-insensitive; quoted lines (`>`) and code (fenced or indented) are
//! never read, so quoting someone's command does not run it again. Unknown commands come back
//! with the closest known one. Pure.
//!
//! Anyone can comment on a public repository, so the work is linear in the comment and what comes
//! back is bounded: each line is looked at a fixed number of times, a command's text is kept to
//! [`MAX_TEXT`] bytes, its arguments to [`MAX_ARGS`] words, its key to a short fixed form, and
//! only text as long as a known command is compared with the known ones for a suggestion, and
//! only for the first few unknown commands of a comment.

use std::collections::HashMap;

use super::{Command, IgnoreScope};

/// The most of a command's text that is kept (bytes, cut at a character boundary).
pub const MAX_TEXT: usize = 256;
/// The most arguments a command keeps.
pub const MAX_ARGS: usize = 8;
/// Normalised text longer than this is keyed by a hash of the rest.
const MAX_KEY_TEXT: usize = 64;
/// Text longer than this is no typo of a known command: no suggestion is looked for.
const MAX_SUGGEST: usize = 48;

/// One command found in a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The 1-based line it is on.
    pub line: usize,
    pub command: Command,
    /// The words after the mention, as written (trimmed, at most [`MAX_TEXT`] bytes).
    pub text: String,
    /// A stable key for this command in this comment (its normalised text and how many times
    /// the same text came before): an edit that keeps it keeps the key, so it never runs twice.
    pub key: String,
}

/// Every command addressed to `@slug` in `body`.
pub fn parse(body: &str, slug: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut fence: Option<(char, usize)> = None;
    let mut in_html_comment = false;
    let mut suggestions = 0usize;
    for (i, raw) in body.lines().enumerate() {
        let indent = raw.len() - raw.trim_start_matches([' ', '\t']).len();
        let line = raw.trim();
        if let Some((ch, n)) = fence {
            if line.chars().take_while(|c| *c == ch).count() >= n
                && line.trim_start_matches(ch).trim().is_empty()
            {
                fence = None;
            }
            continue;
        }
        if let Some(f) = fence_open(line) {
            fence = Some(f);
            continue;
        }
        // Inside `<!-- … -->`: commented out, not a command.
        if in_html_comment {
            if line.contains("-->") {
                in_html_comment = false;
            }
            continue;
        }
        if line.starts_with("<!--") {
            in_html_comment = !line.contains("-->");
            continue;
        }
        if raw.starts_with('\t') || indent >= 4 || line.starts_with('>') {
            continue;
        }
        let Some(rest) = after_mention(line, slug) else {
            continue;
        };
        let rest = rest.trim();
        let normal = key_text(&normalise(rest));
        let count = seen.entry(normal.clone()).or_insert(0);
        let key = format!("{normal}#{count}");
        *count += 1;
        let command = command_with(rest, suggestions < MAX_SUGGESTIONS);
        if matches!(command, Command::Unknown { .. }) {
            suggestions += 1;
        }
        out.push(Found {
            line: i + 1,
            command,
            key,
            text: cut(rest, MAX_TEXT).to_owned(),
        });
    }
    out
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// FNV-1a of `text`: a short hash that stays the same across builds and releases (keys and
/// markers written today are read by later versions).
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The normalised text as a key: itself when short, else its start and a hash of the whole
/// (FNV-1a, stable across builds and releases, unlike the standard library's hasher).
fn key_text(normal: &str) -> String {
    if normal.len() <= MAX_KEY_TEXT {
        return normal.to_owned();
    }
    let hash = fnv1a(normal);
    format!("{}~{hash:016x}", cut(normal, MAX_KEY_TEXT - 17))
}

/// A line that opens a fenced code block: three or more backticks or tildes.
fn fence_open(line: &str) -> Option<(char, usize)> {
    let ch = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = line.chars().take_while(|c| *c == ch).count();
    (n >= 3).then_some((ch, n))
}

/// What follows `@slug` (or `@slug[bot]`) at the start of `line`, if it starts with it.
fn after_mention<'a>(line: &'a str, slug: &str) -> Option<&'a str> {
    let rest = line.strip_prefix('@')?;
    let head = rest.get(..slug.len())?;
    if !head.eq_ignore_ascii_case(slug) {
        return None;
    }
    let mut rest = &rest[slug.len()..];
    if let Some(r) = rest.strip_prefix("[bot]") {
        rest = r;
    }
    // `@upkeeper` is someone else; `@upkeep,` or `@upkeep:` is still us.
    match rest.chars().next() {
        None => Some(rest),
        Some(c) if c.is_whitespace() || c == ',' || c == ':' => {
            Some(rest.trim_start_matches([',', ':']))
        }
        Some(_) => None,
    }
}

/// Lower case, single spaces, without trailing punctuation.
fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_end_matches(['.', '!', ','])
        .to_owned()
}

/// The command `text` names.
pub fn command(text: &str) -> Command {
    command_with(text, true)
}

/// Unknown commands of a comment that get a suggestion at most: only the first few are ever
/// acted on, so a comment of thousands of typos costs no more than a few.
const MAX_SUGGESTIONS: usize = 16;

/// The command `text` names; `suggesting` whether an unknown one looks for the closest known.
fn command_with(text: &str, suggesting: bool) -> Command {
    let normal = normalise(text);
    let words: Vec<&str> = normal.split(' ').filter(|w| !w.is_empty()).collect();
    // Arguments keep the case they were written in.
    let original: Vec<&str> = text.split_whitespace().collect();
    let args_from = |n: usize| -> Vec<String> {
        original
            .iter()
            .skip(n)
            .map(|w| w.trim_end_matches(['.', '!', ',']))
            .filter(|w| !w.is_empty())
            .take(MAX_ARGS)
            .map(|w| cut(w, MAX_TEXT).to_owned())
            .collect()
    };
    match words.as_slice() {
        [] | ["help"] => Command::Help,
        ["rebase"] => Command::Rebase,
        ["recreate"] => Command::Recreate,
        ["merge"] => Command::Merge,
        ["cancel", "merge"] => Command::CancelMerge,
        ["close"] => Command::Close,
        ["reopen"] => Command::Reopen,
        ["ignore", "this", "dependency"] => Command::Ignore(IgnoreScope::Dependency),
        ["ignore", "this", "major", "version"] => Command::Ignore(IgnoreScope::Major),
        ["ignore", "this", "minor", "version"] => Command::Ignore(IgnoreScope::Minor),
        ["ignore", "this", "patch", "version"] => Command::Ignore(IgnoreScope::Patch),
        ["show", "ignore", "conditions"] => Command::ShowIgnores,
        ["unignore", _, ..] => match args_from(1).split_first() {
            Some((dependency, rest)) => Command::Unignore {
                dependency: dependency.clone(),
                condition: (!rest.is_empty()).then(|| rest.join(" ")),
            },
            None => Command::Unknown {
                suggestion: Some("unignore".to_owned()),
            },
        },
        ["update"] => Command::Update,
        ["audit"] => Command::Audit,
        ["retry"] => Command::Retry,
        ["sync"] => Command::Sync,
        ["bench", ..] => Command::Bench(args_from(1)),
        ["revert", ..] => Command::Revert(args_from(1)),
        _ => Command::Unknown {
            suggestion: if suggesting { suggest(&normal) } else { None },
        },
    }
}

/// Every command as people write it, for suggestions and help.
pub const KNOWN: &[&str] = &[
    "help",
    "rebase",
    "recreate",
    "merge",
    "cancel merge",
    "close",
    "reopen",
    "ignore this dependency",
    "ignore this major version",
    "ignore this minor version",
    "ignore this patch version",
    "show ignore conditions",
    "unignore",
    "update",
    "audit",
    "retry",
    "sync",
    "bench",
    "revert",
];

/// 1 minus the optimal-string-alignment distance (edits and adjacent transpositions, as
/// Damerau–Levenshtein counts typos) over the longer length. strsim's OSA needs no hash map,
/// unlike its full Damerau–Levenshtein: a comment of typos costs a fraction of the time.
fn similarity(a: &str, b: &str) -> f64 {
    let longest = a.chars().count().max(b.chars().count());
    if longest == 0 {
        return 1.0;
    }
    1.0 - strsim::osa_distance(a, b) as f64 / longest as f64
}

/// The known command closest to `normal`, when one is close enough to be a typo.
fn suggest(normal: &str) -> Option<String> {
    let first_word = normal.split(' ').next().unwrap_or_default();
    if first_word.len() > MAX_SUGGEST {
        return None;
    }
    let normal = cut(normal, MAX_SUGGEST);
    let first_word = normal.split(' ').next().unwrap_or_default();
    KNOWN
        .iter()
        .map(|k| {
            // Compare a one-word command with the first word only (`unignor serde`).
            let against = if k.contains(' ') { normal } else { first_word };
            (similarity(k, against), *k)
        })
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(body: &str) -> Vec<Command> {
        parse(body, "upkeep")
            .into_iter()
            .map(|f| f.command)
            .collect()
    }

    #[test]
    fn a_mention_at_the_start_of_a_line_is_a_command_in_any_case() {
        assert_eq!(commands("@upkeep rebase"), [Command::Rebase]);
        assert_eq!(commands("@UpKeep REBASE."), [Command::Rebase]);
        assert_eq!(
            commands("  @upkeep   cancel   merge"),
            [Command::CancelMerge]
        );
        assert_eq!(commands("@upkeep[bot] merge"), [Command::Merge]);
        assert_eq!(commands("@upkeep, merge!"), [Command::Merge]);
        assert_eq!(commands("@upkeep"), [Command::Help]);
    }

    #[test]
    fn mentions_elsewhere_quotes_and_code_are_not_commands() {
        assert!(commands("please @upkeep rebase").is_empty());
        assert!(commands("> @upkeep rebase").is_empty());
        assert!(commands("```\n@upkeep rebase\n```").is_empty());
        assert!(commands("~~~~\n@upkeep merge\n~~~\n@upkeep close\n~~~~").is_empty());
        assert!(commands("    @upkeep rebase").is_empty());
        assert!(commands("@upkeeper rebase").is_empty());
        assert!(commands("@someone rebase").is_empty());
        assert_eq!(
            commands("```rust\nlet a = 1;\n```\n@upkeep merge"),
            [Command::Merge]
        );
    }

    #[test]
    fn several_commands_in_one_comment_each_get_a_stable_key() {
        let found = parse(
            "Thanks!\n@upkeep rebase\n\n@upkeep merge\n@upkeep Rebase",
            "upkeep",
        );
        let keys: Vec<(&str, usize)> = found.iter().map(|f| (f.key.as_str(), f.line)).collect();
        assert_eq!(keys, [("rebase#0", 2), ("merge#0", 4), ("rebase#1", 5)]);
        // An edit above them keeps their keys.
        let edited = parse("Thanks, really!\n\n@upkeep rebase\n@upkeep merge", "upkeep");
        let keys: Vec<&str> = edited.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["rebase#0", "merge#0"]);
    }

    #[test]
    fn arguments_keep_their_case_and_ignores_have_their_scope() {
        assert_eq!(
            commands("@upkeep unignore Serde_JSON major"),
            [Command::Unignore {
                dependency: "Serde_JSON".into(),
                condition: Some("major".into())
            }]
        );
        assert_eq!(
            commands("@upkeep unignore tokio"),
            [Command::Unignore {
                dependency: "tokio".into(),
                condition: None
            }]
        );
        assert_eq!(
            commands("@upkeep ignore this minor version"),
            [Command::Ignore(IgnoreScope::Minor)]
        );
        assert_eq!(
            commands("@upkeep bench main HEAD~3"),
            [Command::Bench(vec!["main".into(), "HEAD~3".into()])]
        );
    }

    #[test]
    fn a_typo_gets_the_closest_command() {
        assert_eq!(
            commands("@upkeep rebsae"),
            [Command::Unknown {
                suggestion: Some("rebase".into())
            }]
        );
        assert_eq!(
            commands("@upkeep ignore this majr version"),
            [Command::Unknown {
                suggestion: Some("ignore this major version".into())
            }]
        );
        assert_eq!(
            commands("@upkeep make me a sandwich"),
            [Command::Unknown { suggestion: None }]
        );
    }

    #[test]
    fn punctuation_for_arguments_is_not_a_dependency() {
        assert_eq!(
            commands("@upkeep unignore . ."),
            [Command::Unknown {
                suggestion: Some("unignore".into())
            }]
        );
        assert_eq!(
            commands("@upkeep unignore , ."),
            [Command::Unknown {
                suggestion: Some("unignore".into())
            }]
        );
    }

    #[test]
    fn commented_out_commands_do_not_run() {
        assert!(commands("<!--\n@upkeep close\n-->").is_empty());
        assert!(commands("<!-- @upkeep close -->").is_empty());
        assert_eq!(commands("<!-- note -->\n@upkeep merge"), [Command::Merge]);
    }

    #[test]
    fn a_custom_slug_is_honoured() {
        assert_eq!(parse("@keeper rebase", "keeper").len(), 1);
        assert!(parse("@upkeep rebase", "keeper").is_empty());
    }

    /// A comment at GitHub's size cap (65,536 characters) of `line` repeated.
    fn flood(line: &str, chars: usize) -> String {
        let mut body = String::with_capacity(chars + line.len());
        while body.len() + line.len() < chars {
            body.push_str(line);
        }
        body
    }

    #[test]
    fn a_flood_of_commands_keeps_every_key_short_and_distinct() {
        let body = flood("@upkeep help\n", 65_536);
        let found = parse(&body, "upkeep");
        assert_eq!(found.len(), 65_536 / 13);
        assert_eq!(found[0].key, "help#0");
        assert_eq!(found[5_000].key, "help#5000");
        let keys: std::collections::HashSet<&str> = found.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys.len(), found.len());
    }

    #[test]
    fn a_long_line_is_kept_short_in_text_key_and_arguments() {
        let long = format!("@upkeep bench {}", "é word ".repeat(20_000));
        let found = parse(&long, "upkeep");
        assert_eq!(found.len(), 1);
        assert!(found[0].text.len() <= MAX_TEXT, "{}", found[0].text.len());
        assert!(found[0].key.len() <= MAX_KEY_TEXT + 8, "{}", found[0].key);
        match &found[0].command {
            Command::Bench(args) => assert_eq!(args.len(), MAX_ARGS),
            other => panic!("{other:?}"),
        }
        // Two long commands that differ only at their end have different keys.
        let a = parse(&format!("@upkeep {}a", "x ".repeat(500)), "upkeep");
        let b = parse(&format!("@upkeep {}b", "x ".repeat(500)), "upkeep");
        assert_ne!(a[0].key, b[0].key);
        let unknown = parse(&format!("@upkeep {}", "rebase".repeat(10_000)), "upkeep");
        assert_eq!(unknown[0].command, Command::Unknown { suggestion: None });
    }

    #[test]
    fn only_the_first_unknown_commands_of_a_comment_look_for_a_suggestion() {
        let found = parse(&"@upkeep rebsae\n".repeat(100), "upkeep");
        let suggested = found
            .iter()
            .filter(|f| {
                f.command
                    == Command::Unknown {
                        suggestion: Some("rebase".into()),
                    }
            })
            .count();
        assert_eq!(suggested, MAX_SUGGESTIONS);
        assert_eq!(found[99].command, Command::Unknown { suggestion: None });
    }

    /// The fastest of five parses of `body`.
    fn fastest(body: &str) -> std::time::Duration {
        (0..5)
            .map(|_| {
                let t = std::time::Instant::now();
                std::hint::black_box(parse(std::hint::black_box(body), "upkeep"));
                t.elapsed()
            })
            .min()
            .unwrap_or_default()
    }

    #[test]
    fn parsing_grows_linearly_with_the_comment() {
        // Eight times the text must take about eight times as long, not sixty-four (quadratic
        // work, as counting each command's earlier copies was). The bound leaves room for noise.
        for line in ["@upkeep help\n", "@upkeep rebsae\n", "text @upkeep\n"] {
            let small = fastest(&flood(line, 8_192));
            let large = fastest(&flood(line, 65_536));
            let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-9);
            assert!(
                ratio < 24.0,
                "{line:?}: {small:?} -> {large:?} ({ratio:.1}x)"
            );
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// Lines that are not commands: no line starts with `@`.
        fn chatter() -> impl Strategy<Value = Vec<String>> {
            prop::collection::vec("[a-zA-Z0-9 .,!?`>~-]{0,40}", 0..6).prop_map(|lines| {
                lines
                    .into_iter()
                    .map(|l| l.trim_start().trim_start_matches('@').to_owned())
                    .filter(|l| !l.starts_with("```") && !l.starts_with("~~~"))
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn any_text_parses_without_panicking(body in "\\PC{0,400}", slug in "[a-z]{1,10}") {
                let _ = parse(&body, &slug);
            }

            #[test]
            fn a_known_command_among_chatter_is_found_once_on_its_line(
                before in chatter(),
                after in chatter(),
                i in 0..KNOWN.len(),
                upper in any::<bool>(),
            ) {
                let known = KNOWN[i];
                let written = if upper { known.to_uppercase() } else { known.to_owned() };
                let written = if known == "unignore" { format!("{written} serde") } else { written };
                let mut lines = before.clone();
                lines.push(format!("@upkeep {written}"));
                lines.extend(after);
                let found = parse(&lines.join("\n"), "upkeep");
                prop_assert_eq!(found.len(), 1, "{:?}", found);
                prop_assert_eq!(found[0].line, before.len() + 1);
                let unknown = matches!(found[0].command, Command::Unknown { .. });
                prop_assert!(!unknown, "{:?}", found[0]);
            }

            #[test]
            fn what_comes_back_is_bounded_whatever_the_comment(
                lines in prop::collection::vec("@upkeep [ -~é]{0,600}", 1..20),
            ) {
                let body = lines.join("\n");
                for f in parse(&body, "upkeep") {
                    prop_assert!(f.text.len() <= MAX_TEXT);
                    prop_assert!(f.key.len() <= MAX_KEY_TEXT + 12, "{}", f.key);
                    if let Command::Bench(args) | Command::Revert(args) = &f.command {
                        prop_assert!(args.len() <= MAX_ARGS);
                    }
                }
            }

            #[test]
            fn any_arguments_after_a_command_parse(i in 0..KNOWN.len(), args in "[ -~]{0,30}") {
                let _ = parse(&format!("@upkeep {} {args}", KNOWN[i]), "upkeep");
            }

            #[test]
            fn quoted_or_fenced_commands_never_run(i in 0..KNOWN.len(), fence in any::<bool>()) {
                let body = if fence {
                    format!("```\n@upkeep {}\n```", KNOWN[i])
                } else {
                    format!("> @upkeep {}\n>\n> @upkeep {}", KNOWN[i], KNOWN[i])
                };
                prop_assert!(parse(&body, "upkeep").is_empty());
            }

            #[test]
            fn keys_are_unique_within_a_comment(picks in prop::collection::vec(0..KNOWN.len(), 0..8)) {
                let body: Vec<String> = picks.iter().map(|i| format!("@upkeep {}", KNOWN[*i])).collect();
                let found = parse(&body.join("\n"), "upkeep");
                let keys: std::collections::BTreeSet<&str> = found.iter().map(|f| f.key.as_str()).collect();
                prop_assert_eq!(keys.len(), found.len());
            }
        }
    }
}
