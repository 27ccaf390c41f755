//! Putting `.github/upkeep.toml` right where the fix is certain: a misspelt key only one
//! known key is nearest to, an old spelling of a key, a value in a type that converts without
//! loss (`"5"` for 5, `schedule = "daily"` for `{ interval = "daily" }`). Each fix replaces
//! only the text of the key or value it is about, so comments, order and layout stay as the
//! person wrote them. Fixes are applied round by round (a renamed key's value may need its own
//! fix), and the result is kept only if the file is then valid TOML and every problem left was
//! already there and had no fix: a fix that would turn one error into another is not certain.
//! Pure.

use std::collections::BTreeSet;

use super::parse::parse;

/// One change made, for the pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The dotted key it was about, as the problem named it.
    pub key: String,
    /// 1-based line in the original (first round) or the partly fixed file.
    pub line: Option<usize>,
    /// The problem it fixes.
    pub problem: String,
    /// What the edit does (`` `schedul` → `schedule` ``).
    pub what: String,
}

/// The fixed file and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    pub text: String,
    pub changes: Vec<Change>,
}

/// Rounds of fixing: a rename, then its value's conversion, and one to spare.
const ROUNDS: usize = 4;

/// The file with every certain fix made, or `None` when there is none (or what there is
/// would not leave the file better).
pub fn certain_fixes(text: &str) -> Option<Fixed> {
    let original = parse(text).problems;
    let unfixable: BTreeSet<(String, String)> = original
        .iter()
        .filter(|p| p.fix.is_none())
        .map(|p| (p.key.clone(), p.message.clone()))
        .collect();
    let mut current = text.to_owned();
    let mut changes = Vec::new();
    for _ in 0..ROUNDS {
        let problems = parse(&current).problems;
        let mut fixes: Vec<_> = problems
            .iter()
            .filter_map(|p| p.fix.as_ref().map(|f| (p, f)))
            .collect();
        if fixes.is_empty() {
            break;
        }
        // From the end of the file back, so earlier spans stay where they were; an edit that
        // overlaps one already made waits for the next round.
        fixes.sort_by_key(|(_, f)| std::cmp::Reverse(f.span.start));
        let mut floor = usize::MAX;
        for (p, f) in fixes {
            if f.span.end > floor || f.span.end > current.len() {
                continue;
            }
            current.replace_range(f.span.clone(), &f.replacement);
            floor = f.span.start;
            changes.push(Change {
                key: p.key.clone(),
                line: p.line,
                problem: p.message.clone(),
                what: f.what.clone(),
            });
        }
    }
    let left = parse(&current).problems;
    let certain = !changes.is_empty()
        && left
            .iter()
            .all(|p| p.fix.is_none() && unfixable.contains(&(p.key.clone(), p.message.clone())));
    certain.then(|| {
        changes.sort_by_key(|c| c.line);
        Fixed {
            text: current,
            changes,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> String {
        certain_fixes(text).expect("a certain fix").text
    }

    #[test]
    fn a_misspelt_key_is_renamed_and_its_shorthand_value_expanded() {
        let text = "# when to look\nschedul = \"daily\"   # every morning\nlabels = [\"deps\"]\n";
        let f = certain_fixes(text).unwrap();
        assert_eq!(
            f.text,
            "# when to look\nschedule = { interval = \"daily\" }   # every morning\nlabels = [\"deps\"]\n"
        );
        assert_eq!(f.changes.len(), 2);
        assert_eq!(f.changes[0].what, "`schedul` → `schedule`");
        assert!(parse(&f.text).problems.is_empty());
    }

    #[test]
    fn a_misspelt_table_header_and_key_inside_keep_comments_and_order() {
        let text = "[schedual]\n# weekdays only\nintreval = \"weekly\"\nday = \"monday\"\n";
        assert_eq!(
            fixed(text),
            "[schedule]\n# weekdays only\ninterval = \"weekly\"\nday = \"monday\"\n"
        );
    }

    #[test]
    fn lossless_conversions_are_made() {
        let text = "open-pull-requests-limit = \"5\"\nmsrv = \"true\"\n[revert]\nreruns = 2.0\n";
        let f = fixed(text);
        assert_eq!(
            f,
            "open-pull-requests-limit = 5\nmsrv = true\n[revert]\nreruns = 2\n"
        );
        let c = parse(&f).config;
        assert_eq!(c.open_pull_requests_limit, 5);
        assert_eq!(c.revert.reruns, 2);
    }

    #[test]
    fn an_old_spelling_becomes_the_new_one() {
        let text = "[[ignore]]\ndependency = \"serde\"\nversion = \">=2\"\n";
        assert_eq!(
            fixed(text),
            "[[ignore]]\ndependency-name = \"serde\"\nversions = \">=2\"\n"
        );
    }

    #[test]
    fn a_misspelt_value_with_one_nearest_word_is_corrected() {
        assert_eq!(
            fixed("[schedule]\ninterval = \"dialy\"\n"),
            "[schedule]\ninterval = \"daily\"\n"
        );
    }

    #[test]
    fn ambiguous_or_unhelpful_mistakes_are_left_for_a_person() {
        // `tme` is as near to `time` as … nothing else; but `dy` vs a table already holding
        // `day`: renaming would make a duplicate key.
        assert_eq!(
            certain_fixes("[schedule]\nday = \"monday\"\ndy = \"friday\"\n"),
            None
        );
        // Equally near to two keys.
        assert_eq!(certain_fixes("[cooldown]\nsemver-m-days = 3\n"), None);
        // Nothing near.
        assert_eq!(certain_fixes("colour = \"blue\"\n"), None);
        // A rename that would only turn one error into another.
        assert_eq!(certain_fixes("schedul = 5\n"), None);
        // A value out of range is not a type that converts.
        assert_eq!(certain_fixes("open-pull-requests-limit = \"500\"\n"), None);
        // A valid file has nothing to fix.
        assert_eq!(certain_fixes("[schedule]\ninterval = \"daily\"\n"), None);
    }

    #[test]
    fn what_has_no_fix_stays_and_does_not_stop_the_rest() {
        let text = "colour = \"blue\"\nlabls = [\"deps\"]\n";
        let f = certain_fixes(text).unwrap();
        assert_eq!(f.text, "colour = \"blue\"\nlabels = [\"deps\"]\n");
        assert_eq!(parse(&f.text).problems.len(), 1);
    }
}
