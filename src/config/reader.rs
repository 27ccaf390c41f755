//! The reading side of `.github/upkeep.toml`'s parser, shared by every table's reader: the
//! problems it collects (with their line) and typed reads of a value that report a wrong type
//! or an out-of-range number instead of failing. Pure.

use std::borrow::Cow;
use std::ops::Range;

use toml_edit::{Item, Table};

use super::suggest::did_you_mean;

/// Something wrong in the file, where it is, and what was probably meant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The dotted key (`schedule.interval`, `ignore[2].versions`), empty for the whole file.
    pub key: String,
    pub message: String,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// The one edit that would put it right, when there is exactly one (`config::fix`).
    #[serde(skip)]
    pub fix: Option<Fix>,
}

/// A certain fix: the text at `span` becomes `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub span: Range<usize>,
    pub replacement: String,
    /// What it does, for the pull request (`` `schedul` → `schedule` ``).
    pub what: String,
}

/// Keys an earlier spelling of which is still understood, by table (`""` is the top level,
/// `ignore[]` every `[[ignore]]` entry): (table, old, new).
const DEPRECATED: &[(&str, &str, &str)] = &[
    ("", "pull-requests-limit", "open-pull-requests-limit"),
    ("", "commit-prefix", "commit-message-prefix"),
    ("ignore[]", "dependency", "dependency-name"),
    ("ignore[]", "version", "versions"),
    ("revert", "skip-authors", "skip_authors"),
];

pub(super) struct Cx<'t> {
    pub(super) text: &'t str,
    pub(super) problems: Vec<Problem>,
}

impl Cx<'_> {
    pub(super) fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    pub(super) fn report(&mut self, key: &str, span: Option<Range<usize>>, message: String) {
        self.report_fix(key, span, message, None);
    }

    /// Reports a problem that `replacement` at its span would fix (with `what` it does).
    pub(super) fn report_fix(
        &mut self,
        key: &str,
        span: Option<Range<usize>>,
        message: String,
        fix: Option<(String, String)>,
    ) {
        let line = span.as_ref().map(|s| self.line(s.start));
        let fix = span.zip(fix).map(|(span, (replacement, what))| Fix {
            span,
            replacement,
            what,
        });
        self.problems.push(Problem {
            key: key.to_owned(),
            message,
            line,
            fix,
        });
    }

    /// Reports keys of `table` that are not in `known`, with a did-you-mean; a deprecated
    /// spelling, or a typo only one known key is nearest to (and the table does not already
    /// have), comes with its fix.
    pub(super) fn unknown_keys(&mut self, prefix: &str, table: &Table, known: &[&str]) {
        let generic = generic_prefix(prefix);
        for (key, _) in table.iter() {
            if known.contains(&key) {
                continue;
            }
            let span = table.key(key).and_then(|k| k.span());
            let deprecated = DEPRECATED
                .iter()
                .find(|(t, old, _)| *t == generic && *old == key)
                .map(|(_, _, new)| *new);
            let nearest = did_you_mean(key, known);
            let (message, to) = match (deprecated, nearest) {
                (Some(new), _) => (
                    format!("`{key}` is an old spelling of `{new}`, which it still means"),
                    Some(new),
                ),
                (None, Some(k)) => (
                    format!("unknown key `{key}`, ignored; did you mean `{k}`?"),
                    unique_nearest(key, known),
                ),
                (None, None) => (
                    format!(
                        "unknown key `{key}`, ignored; known keys: {}",
                        known.join(", ")
                    ),
                    None,
                ),
            };
            let fix = to
                .filter(|to| !table.contains_key(to))
                .map(|to| (to.to_owned(), format!("`{key}` → `{to}`")));
            self.report_fix(&join(prefix, key), span, message, fix);
        }
    }

    /// A table, written as a section or inline (`{ interval = "daily" }`).
    pub(super) fn table<'a>(&mut self, key: &str, item: &'a Item) -> Option<Cow<'a, Table>> {
        match item {
            Item::Table(t) => Some(Cow::Borrowed(t)),
            Item::Value(toml_edit::Value::InlineTable(t)) => {
                Some(Cow::Owned(t.clone().into_table()))
            }
            _ => {
                self.report(key, item.span(), "expected a table".to_owned());
                None
            }
        }
    }

    pub(super) fn string(&mut self, key: &str, item: &Item) -> Option<String> {
        match item.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                // A number or a boolean says the same as a string.
                let fix = item
                    .as_value()
                    .filter(|v| v.is_integer() || v.is_bool() || v.is_float())
                    .map(|v| {
                        let text = v.to_string().trim().to_owned();
                        let quoted = toml_edit::Value::from(text.as_str()).to_string();
                        (quoted.clone(), format!("`{text}` → `{quoted}` (a string)"))
                    });
                self.report_fix(key, item.span(), "expected a string".to_owned(), fix);
                None
            }
        }
    }

    /// A string or an array of strings.
    pub(super) fn strings(&mut self, key: &str, item: &Item) -> Option<Vec<String>> {
        if let Some(s) = item.as_str() {
            return Some(vec![s.to_owned()]);
        }
        let Some(array) = item.as_array() else {
            self.report(key, item.span(), "expected a list of strings".to_owned());
            return None;
        };
        let mut out = Vec::new();
        for v in array.iter() {
            match v.as_str() {
                Some(s) => out.push(s.to_owned()),
                None => self.report(key, v.span(), "expected a string in the list".to_owned()),
            }
        }
        Some(out)
    }

    pub(super) fn integer(&mut self, key: &str, item: &Item, min: i64, max: i64) -> Option<i64> {
        match item.as_integer() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(n) => {
                self.report(
                    key,
                    item.span(),
                    format!("{n} is out of range ({min} to {max}), default kept"),
                );
                None
            }
            None => {
                // `"5"` or `5.0` is the number 5.
                let n = item
                    .as_str()
                    .and_then(|s| s.trim().parse::<i64>().ok())
                    .or_else(|| {
                        item.as_float()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                            .map(|f| f as i64)
                    });
                let fix = n.filter(|n| (min..=max).contains(n)).map(|n| {
                    let was = item.as_value().map(|v| v.to_string()).unwrap_or_default();
                    (
                        n.to_string(),
                        format!("`{}` → `{n}` (a number)", was.trim()),
                    )
                });
                self.report_fix(key, item.span(), "expected a whole number".to_owned(), fix);
                None
            }
        }
    }

    /// A boolean; `"true"` and `"false"` come with their fix.
    pub(super) fn boolean(&mut self, key: &str, item: &Item) -> Option<bool> {
        if let Some(b) = item.as_bool() {
            return Some(b);
        }
        let fix = item
            .as_str()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| s == "true" || s == "false")
            .map(|s| (s.clone(), format!("`\"{s}\"` → `{s}` (a boolean)")));
        self.report_fix(key, item.span(), "expected true or false".to_owned(), fix);
        None
    }

    /// A word from `allowed`, with a did-you-mean when it is not one.
    pub(super) fn word(&mut self, key: &str, item: &Item, allowed: &[&str]) -> Option<String> {
        let s = self.string(key, item)?;
        let lower = s.to_ascii_lowercase();
        if allowed.contains(&lower.as_str()) {
            return Some(lower);
        }
        let hint = did_you_mean(&s, allowed)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_else(|| format!("; expected one of: {}", allowed.join(", ")));
        let fix = unique_nearest(&s, allowed).map(|k| {
            let quoted = toml_edit::Value::from(k).to_string();
            (quoted, format!("`{s}` → `{k}`"))
        });
        self.report_fix(
            key,
            item.span(),
            format!("`{s}` is not allowed here{hint}"),
            fix,
        );
        None
    }
}

/// `ignore[2]` → `ignore[]`: the table a key's rules are written for.
fn generic_prefix(prefix: &str) -> String {
    match prefix.find('[') {
        Some(i) if prefix.ends_with(']') => format!("{}[]", &prefix[..i]),
        _ => prefix.to_owned(),
    }
}

/// The nearest known word when exactly one is nearest: a tie is not a certain fix.
fn unique_nearest<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    let best = did_you_mean(given, known)?;
    let d = |k: &str| super::suggest::distance(given, k);
    let at = d(best);
    (known.iter().filter(|k| d(k) == at).count() == 1).then_some(best)
}

pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}
