//! Which webhook deliveries GitHub failed to hand to upkeep, decided from GitHub's own delivery
//! log (`GET /app/hook/deliveries`). GitHub logs every attempt, newest first, and keeps three days
//! of them; it never retries a failed one by itself. Read newest first, the first attempt met for
//! a GUID is its latest: when that attempt failed (any status but 2xx, 0 meaning GitHub timed out
//! or could not connect) the event never reached upkeep, unless upkeep stored it anyway (it can
//! answer 5xx after storing), which the driver checks against the store.
//!
//! A sweep reads back to the previous sweep's mark (the newest attempt it saw) less an overlap,
//! since an attempt is logged when it ends and a slow one can be logged after a newer, quicker
//! one; never further back than GitHub keeps. A mark older than that means upkeep was away longer
//! than the log covers: what happened in between can only be found by reconciling.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::time::DAY_MS;

/// How long GitHub keeps deliveries listed.
pub const KEPT_MS: i64 = 3 * DAY_MS;
/// How far before the mark a sweep reads again.
pub const OVERLAP_MS: i64 = 5 * 60_000;

/// One delivery attempt as GitHub lists it (`hook-delivery-item`); fields upkeep does not use
/// are not read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Attempt {
    /// The attempt's id: what `GET /app/hook/deliveries/{id}` takes.
    pub id: i64,
    /// The event's id (`X-GitHub-Delivery`), shared by every attempt at it.
    pub guid: String,
    pub delivered_at: DateTime<Utc>,
    /// What upkeep (or whatever stood in front of it) answered; 0 when nothing did.
    pub status_code: u16,
    pub event: String,
}

impl Attempt {
    /// Whether upkeep took this attempt.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status_code)
    }
}

/// One sweep's reading of the log, page by page.
#[derive(Debug)]
pub struct Reading {
    since_ms: i64,
    /// The oldest attempt GitHub still lists.
    floor_ms: i64,
    gap: bool,
    seen: HashSet<String>,
    failed: Vec<Attempt>,
    newest_ms: Option<i64>,
    read: usize,
    /// Events from this time on count as missed even when GitHub's attempt succeeded.
    lost_since: Option<i64>,
}

impl Reading {
    /// A reading back to `mark_ms` (the previous sweep's newest attempt; `None` on the first
    /// sweep) at `now_ms`.
    pub fn new(mark_ms: Option<i64>, now_ms: i64) -> Reading {
        let floor = now_ms - KEPT_MS;
        let since = mark_ms.map_or(floor, |m| (m - OVERLAP_MS).max(floor));
        Reading {
            since_ms: since,
            floor_ms: floor,
            gap: mark_ms.is_some_and(|m| m < floor),
            seen: HashSet::new(),
            failed: Vec::new(),
            newest_ms: None,
            read: 0,
            lost_since: None,
        }
    }

    /// The store lost what it took from `lost_ms` on (it was restored from a backup taken
    /// then, or started empty): every event from then on is a candidate, whatever GitHub's
    /// attempt answered, and the reading goes back that far (never past what GitHub keeps).
    /// The driver still skips those the store holds.
    pub fn lost_since(mut self, lost_ms: i64) -> Reading {
        let from = lost_ms - OVERLAP_MS;
        self.since_ms = self.since_ms.min(from.max(self.floor_ms));
        self.lost_since = Some(from);
        self
    }

    /// Takes one page of attempts, newest first; whether older pages are still worth reading.
    pub fn page(&mut self, attempts: &[Attempt]) -> bool {
        for attempt in attempts {
            let at = attempt.delivered_at.timestamp_millis();
            if at < self.since_ms {
                return false;
            }
            self.read += 1;
            self.newest_ms = Some(self.newest_ms.map_or(at, |n| n.max(at)));
            let lost = self.lost_since.is_some_and(|l| at >= l);
            if self.seen.insert(attempt.guid.clone()) && (lost || !attempt.succeeded()) {
                self.failed.push(attempt.clone());
            }
        }
        !attempts.is_empty()
    }

    /// The events whose latest attempt failed, oldest first (the order they happened in).
    pub fn failed(&self) -> Vec<&Attempt> {
        let mut failed: Vec<&Attempt> = self.failed.iter().collect();
        failed.sort_by_key(|a| (a.delivered_at, a.id));
        failed
    }

    /// Attempts read so far.
    pub fn read(&self) -> usize {
        self.read
    }

    /// Whether the previous sweep was longer ago than GitHub keeps deliveries: events in the
    /// gap are gone from the log.
    pub fn gap(&self) -> bool {
        self.gap
    }

    /// The mark the next sweep reads back to, once every failed event here is recovered.
    pub fn next_mark(&self) -> Option<i64> {
        self.newest_ms
    }
}

/// The `cursor` of the `rel="next"` link in a `Link` header, when there is one.
pub fn next_cursor(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        if !is_next {
            return None;
        }
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let url = url::Url::parse(target).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty() && v.len() <= 256)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn attempt(id: i64, guid: &str, minutes_ago: i64, status: u16) -> Attempt {
        Attempt {
            id,
            guid: guid.into(),
            delivered_at: DateTime::from_timestamp_millis(NOW - minutes_ago * 60_000).unwrap(),
            status_code: status,
            event: "issue_comment".into(),
        }
    }

    fn guids(r: &Reading) -> Vec<&str> {
        r.failed().iter().map(|a| a.guid.as_str()).collect()
    }

    #[test]
    fn after_a_restore_even_succeeded_events_since_the_backup_are_candidates() {
        // Restored from a backup taken two hours ago; the restored mark says one hour.
        let mut r = Reading::new(Some(NOW - 60 * 60_000), NOW).lost_since(NOW - 120 * 60_000);
        r.page(&[
            attempt(4, "new-ok", 1, 200),
            attempt(3, "after-backup-ok", 119, 202),
            attempt(2, "after-backup-failed", 121, 502),
            attempt(1, "long-before-ok", 200, 200),
        ]);
        assert_eq!(
            guids(&r),
            vec!["after-backup-failed", "after-backup-ok", "new-ok"]
        );
        // Never further back than GitHub keeps, whatever the backup's age.
        let old = Reading::new(None, NOW).lost_since(NOW - 10 * KEPT_MS);
        assert_eq!(old.since_ms, NOW - KEPT_MS);
    }

    #[test]
    fn an_event_whose_latest_attempt_failed_is_missed_and_one_that_succeeded_is_not() {
        let mut r = Reading::new(None, NOW);
        // Newest first: `a` failed twice, `b` failed then succeeded on redelivery, `c` timed out.
        let more = r.page(&[
            attempt(5, "a", 1, 502),
            attempt(4, "b", 2, 202),
            attempt(3, "c", 3, 0),
            attempt(2, "b", 4, 503),
            attempt(1, "a", 5, 500),
        ]);
        assert!(more);
        assert_eq!(guids(&r), ["c", "a"], "oldest first, each once");
        assert_eq!(r.read(), 5);
        assert_eq!(r.next_mark(), Some(NOW - 60_000));
    }

    #[test]
    fn a_sweep_stops_at_the_mark_less_the_overlap() {
        let mark = NOW - 60 * 60_000;
        let mut r = Reading::new(Some(mark), NOW);
        assert!(r.page(&[attempt(9, "new", 1, 0), attempt(8, "late", 62, 0)]));
        assert!(!r.page(&[attempt(7, "old", 66, 0), attempt(6, "older", 70, 0)]));
        assert_eq!(guids(&r), ["late", "new"]);
        assert!(!r.gap());
    }

    #[test]
    fn the_first_sweep_reads_back_three_days_and_no_further() {
        let mut r = Reading::new(None, NOW);
        let three_days = KEPT_MS / 60_000;
        assert!(r.page(&[attempt(2, "in", three_days - 1, 0)]));
        assert!(!r.page(&[attempt(1, "out", three_days + 1, 0)]));
        assert_eq!(guids(&r), ["in"]);
    }

    #[test]
    fn a_mark_older_than_the_log_is_a_gap() {
        let r = Reading::new(Some(NOW - KEPT_MS - 1), NOW);
        assert!(r.gap());
        assert!(!Reading::new(Some(NOW - KEPT_MS + 1), NOW).gap());
    }

    #[test]
    fn an_empty_page_ends_the_reading() {
        let mut r = Reading::new(None, NOW);
        assert!(!r.page(&[]));
        assert_eq!(r.next_mark(), None);
    }

    #[test]
    fn the_next_cursor_comes_from_the_link_header() {
        let link = "<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_123%3D>; rel=\"next\", \
                    <https://api.github.com/app/hook/deliveries?per_page=100>; rel=\"first\"";
        assert_eq!(next_cursor(link).as_deref(), Some("v1_123="));
        assert_eq!(
            next_cursor("<https://api.github.com/x?cursor=a>; rel=\"prev\""),
            None
        );
        assert_eq!(next_cursor("garbage"), None);
        assert_eq!(next_cursor("<not a url>; rel=\"next\""), None);
    }

    #[test]
    fn attempts_parse_from_githubs_shape() {
        let json = r#"[{"id": 42, "guid": "58474f00-b361-11eb-836d-0e4f3503ccbe",
            "delivered_at": "2021-05-12T20:33:44Z", "redelivery": false, "duration": 0.03,
            "status": "failed to connect", "status_code": 0, "event": "issues", "action": null,
            "installation_id": 123, "repository_id": 456, "throttled_at": null}]"#;
        let attempts: Vec<Attempt> = serde_json::from_str(json).unwrap();
        assert_eq!(attempts[0].id, 42);
        assert!(!attempts[0].succeeded());
        assert_eq!(attempts[0].event, "issues");
    }
}
