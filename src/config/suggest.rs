//! "Did you mean …?" for configuration keys and values, by edit distance (`strsim`), so a typo
//! like `intreval` is answered with `interval` instead of a bare "unknown key".

/// The closest known word to `given`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (*k, distance(given, k)))
        .filter(|(k, d)| *d <= (k.len() / 3).max(2))
        .min_by_key(|(_, d)| *d)
        .map(|(k, _)| k)
}

/// Edits from `given` to the known word `k`, case and `_`/`-` aside.
pub fn distance(given: &str, k: &str) -> usize {
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    strsim::damerau_levenshtein(&norm(given), &norm(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_matched_and_a_stranger_is_not() {
        let known = ["interval", "time", "timezone", "day", "cron"];
        assert_eq!(did_you_mean("intreval", &known), Some("interval"));
        assert_eq!(did_you_mean("time_zone", &known), Some("timezone"));
        assert_eq!(did_you_mean("colour", &known), None);
    }
}
