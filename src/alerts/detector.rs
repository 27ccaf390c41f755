//! Deciding when a signal's departure is an incident: a sample beyond the learnt (or default)
//! threshold counts, and an alert opens only when at least `SUSTAIN` of the last `WINDOW`
//! samples are beyond — a one-minute blip is not an incident. An open alert closes once
//! `CLEAR` samples in a row are back within the nearer `close` threshold (hysteresis, so a
//! signal hovering at the threshold does not flap). Samples are learnt only while no alert is
//! open, so an incident does not become the new normal. Serialisable with what was learnt.
//! Pure.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::baseline::{Baseline, Bucket, Threshold};
use super::signal::Signal;

/// Samples looked at together, and how many of them must be beyond to open.
pub const WINDOW: usize = 5;
pub const SUSTAIN: usize = 3;
/// Samples in a row back to normal before an alert closes.
pub const CLEAR: u32 = 5;

/// An alert opening or closing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub t: DateTime<Utc>,
    pub signal: Signal,
    /// `open` or `close`.
    pub event: &'static str,
    pub value: f64,
    pub threshold: f64,
}

/// An alert that is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Open {
    pub since: DateTime<Utc>,
    pub value: f64,
    pub threshold: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Track {
    baseline: Baseline,
    recent: VecDeque<bool>,
    open: Option<Open>,
    calm: u32,
    last: Option<f64>,
    /// The thresholds of the bucket last used, recomputed when the hour changes.
    #[serde(skip)]
    cached: Option<(Bucket, Option<Threshold>)>,
}

/// Every signal's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Detector {
    tracks: BTreeMap<Signal, Track>,
}

impl Detector {
    /// Takes one sample; the event it causes, if any.
    pub fn observe(&mut self, t: DateTime<Utc>, signal: Signal, value: f64) -> Option<Event> {
        if !value.is_finite() {
            return None;
        }
        let track = self.tracks.entry(signal).or_default();
        let bucket = Bucket::of(t);
        let threshold = match track.cached {
            Some((b, th)) if b == bucket => th,
            _ => {
                let th = track.baseline.threshold(signal, bucket);
                track.cached = Some((bucket, th));
                th
            }
        };
        track.last = Some(value);
        let Some(th) = threshold else {
            track.baseline.learn(t, value);
            return None;
        };
        if track.open.is_some() {
            if signal.beyond(value, th.close) {
                track.calm = 0;
            } else {
                track.calm += 1;
            }
            if track.calm >= CLEAR {
                track.open = None;
                track.calm = 0;
                track.recent.clear();
                return Some(Event {
                    t,
                    signal,
                    event: "close",
                    value,
                    threshold: th.close,
                });
            }
            return None;
        }
        let beyond = signal.beyond(value, th.open);
        track.recent.push_back(beyond);
        if track.recent.len() > WINDOW {
            track.recent.pop_front();
        }
        if beyond && track.recent.iter().filter(|b| **b).count() >= SUSTAIN {
            track.open = Some(Open {
                since: t,
                value,
                threshold: th.open,
            });
            track.calm = 0;
            return Some(Event {
                t,
                signal,
                event: "open",
                value,
                threshold: th.open,
            });
        }
        track.baseline.learn(t, value);
        None
    }

    /// The open alerts, by signal.
    pub fn open(&self) -> Vec<(Signal, Open)> {
        self.tracks
            .iter()
            .filter_map(|(s, t)| t.open.clone().map(|o| (*s, o)))
            .collect()
    }

    /// The last value seen of `signal`.
    pub fn last(&self, signal: Signal) -> Option<f64> {
        self.tracks.get(&signal).and_then(|t| t.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_blip_does_not_open_and_a_sustained_departure_does_then_closes() {
        let mut d = Detector::default();
        let mut events = Vec::new();
        let lag = |m: i64| match m {
            100 => 5000.0,       // one minute
            200..=240 => 3000.0, // forty minutes
            _ => 2.0,
        };
        for m in 0..400 {
            let t = start() + Duration::minutes(m);
            events.extend(d.observe(t, Signal::QueueLagSeconds, lag(m)));
        }
        let kinds: Vec<(&str, i64)> = events
            .iter()
            .map(|e| (e.event, (e.t - start()).num_minutes()))
            .collect();
        assert_eq!(kinds, [("open", 202), ("close", 245)]);
        assert_eq!(
            events[0].threshold, 900.0,
            "the default, nothing learnt yet"
        );
    }

    #[test]
    fn state_survives_a_round_trip() {
        let mut d = Detector::default();
        for m in 0..10 {
            d.observe(
                start() + Duration::minutes(m),
                Signal::GithubErrorRatio,
                0.9,
            );
        }
        let text = serde_json::to_string(&d).unwrap();
        let back: Detector = serde_json::from_str(&text).unwrap();
        assert_eq!(back.open().len(), 1);
        assert_eq!(back.open()[0].0, Signal::GithubErrorRatio);
    }
}
