//! The reading side of `.github/upkeep.toml`'s parser, shared by every table's reader: the
//! problems it collects (with their line) and typed reads of a value that report a wrong type
//! or an out-of-range number instead of failing. Pure.

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
}

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
        let line = span.map(|s| self.line(s.start));
        self.problems.push(Problem {
            key: key.to_owned(),
            message,
            line,
        });
    }

    /// Reports keys of `table` that are not in `known`, with a did-you-mean.
    pub(super) fn unknown_keys(&mut self, prefix: &str, table: &Table, known: &[&str]) {
        for (key, _) in table.iter() {
            if known.contains(&key) {
                continue;
            }
            let span = table.key(key).and_then(|k| k.span());
            let hint = did_you_mean(key, known)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_else(|| format!("; known keys: {}", known.join(", ")));
            self.report(
                &join(prefix, key),
                span,
                format!("unknown key `{key}`, ignored{hint}"),
            );
        }
    }

    pub(super) fn table<'a>(&mut self, key: &str, item: &'a Item) -> Option<&'a Table> {
        match item {
            Item::Table(t) => Some(t),
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
                self.report(key, item.span(), "expected a string".to_owned());
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
                self.report(key, item.span(), "expected a whole number".to_owned());
                None
            }
        }
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
        self.report(key, item.span(), format!("`{s}` is not allowed here{hint}"));
        None
    }
}

pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}
