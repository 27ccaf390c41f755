//! Which SQLite backups to keep and when the next is due. Pure: names and times in. A backup is
//! `upkeep-<UTC time>.db` in `<data dir>/backups`; the name sorts by time, so the newest is
//! the greatest, and the last `KEEP` are kept.

/// Backups kept.
pub const KEEP: usize = 7;
/// How often one is taken.
pub const EVERY_MS: i64 = crate::time::DAY_MS;
/// The folder under the data directory.
pub const FOLDER: &str = "backups";

const PREFIX: &str = "upkeep-";
const SUFFIX: &str = ".db";

/// The file name of a backup taken at `now_ms`.
pub fn name_for(now_ms: i64) -> String {
    let at = chrono::DateTime::from_timestamp_millis(now_ms)
        .map(|t| t.format("%Y%m%dT%H%M%S%.3fZ").to_string())
        .unwrap_or_default();
    format!("{PREFIX}{at}{SUFFIX}")
}

/// When a backup named `name` was taken (ms), if it is one of ours.
pub fn taken_at(name: &str) -> Option<i64> {
    let at = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    chrono::NaiveDateTime::parse_from_str(at, "%Y%m%dT%H%M%S%.3fZ")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// Our backups among `names`, newest first.
pub fn newest_first(names: &[String]) -> Vec<String> {
    let mut ours: Vec<(i64, &String)> = names
        .iter()
        .filter_map(|n| taken_at(n).map(|t| (t, n)))
        .collect();
    ours.sort_by(|a, b| b.cmp(a));
    ours.into_iter().map(|(_, n)| n.clone()).collect()
}

/// The backups to delete so that `keep` remain.
pub fn to_delete(names: &[String], keep: usize) -> Vec<String> {
    newest_first(names).into_iter().skip(keep).collect()
}

/// Whether a backup is due at `now_ms`, given the backups there are.
pub fn due(names: &[String], now_ms: i64) -> bool {
    newest_first(names)
        .first()
        .and_then(|n| taken_at(n))
        .is_none_or(|newest| now_ms - newest >= EVERY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_796_520_698_479;

    #[test]
    fn names_carry_their_time_and_sort_by_it() {
        let name = name_for(T);
        assert_eq!(name, "upkeep-20261206T013138.479Z.db");
        assert_eq!(taken_at(&name), Some(T));
        assert_eq!(taken_at("upkeep.db"), None);
        assert_eq!(taken_at("upkeep-yesterday.db"), None);
    }

    #[test]
    fn the_newest_seven_are_kept() {
        let names: Vec<String> = (0..10)
            .map(|d| name_for(T + d * EVERY_MS))
            .chain(["notes.txt".to_owned()])
            .collect();
        let gone = to_delete(&names, KEEP);
        assert_eq!(gone.len(), 3);
        for d in 0..3 {
            assert!(gone.contains(&name_for(T + d * EVERY_MS)));
        }
        assert_eq!(newest_first(&names)[0], name_for(T + 9 * EVERY_MS));
    }

    #[test]
    fn one_is_due_a_day_after_the_newest() {
        assert!(due(&[], T));
        let names = vec![name_for(T)];
        assert!(!due(&names, T + EVERY_MS - 1));
        assert!(due(&names, T + EVERY_MS));
    }
}
