//! Thirty days of upkeep's own signals, one sample a minute each, generated from a seed: busy
//! office hours on weekdays, quiet nights and weekends, the daily pass lifting queue lag and
//! spending the rate-limit budget every night, one-minute blips in every signal, and incidents
//! injected where a test asks. The replay tests put it through `upkeep alerts replay` and
//! through a fixed-threshold rule, side by side.
#![allow(dead_code)]

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const DAYS: i64 = 30;

/// The trace starts on a Monday at midnight, with nothing learnt (a cold start).
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()
}

/// An injected incident: `signal` departs from `start` for `minutes`.
#[derive(Debug, Clone, Copy)]
pub struct Incident {
    pub name: &'static str,
    pub signal: &'static str,
    pub start: DateTime<Utc>,
    pub minutes: i64,
}

impl Incident {
    pub fn end(&self) -> DateTime<Utc> {
        self.start + Duration::minutes(self.minutes)
    }
}

fn at(day: i64, hour: i64) -> DateTime<Utc> {
    start() + Duration::days(day) + Duration::hours(hour)
}

/// The incidents the traces carry: five kinds, one on the first day (defaults only), one on
/// a weekend.
pub fn incidents() -> Vec<Incident> {
    vec![
        Incident {
            name: "GitHub outage (day 2, cold start)",
            signal: "github_error_ratio",
            start: at(1, 14),
            minutes: 40,
        },
        Incident {
            name: "stuck queue",
            signal: "queue_lag_seconds",
            start: at(9, 11),
            minutes: 60,
        },
        Incident {
            name: "failing jobs (Saturday)",
            signal: "job_failure_ratio",
            start: at(12, 13),
            minutes: 30,
        },
        Incident {
            name: "deliveries stopped",
            signal: "webhook_deliveries",
            start: at(16, 10),
            minutes: 45,
        },
        Incident {
            name: "budget exhausted",
            signal: "rate_limit_remaining_ratio",
            start: at(23, 15),
            minutes: 30,
        },
    ]
}

fn poisson(rng: &mut StdRng, mean: f64) -> f64 {
    // Knuth: fine for the small means of deliveries per minute.
    let l = (-mean).exp();
    let (mut k, mut p) = (0.0, 1.0);
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1.0;
    }
}

fn active<'a>(incidents: &'a [Incident], signal: &str, t: DateTime<Utc>) -> Option<&'a Incident> {
    incidents
        .iter()
        .find(|i| i.signal == signal && t >= i.start && t < i.end())
}

/// The samples at minute `t`: (signal, value) for each signal.
fn minute(rng: &mut StdRng, t: DateTime<Utc>, incidents: &[Incident]) -> Vec<(&'static str, f64)> {
    let h = t.hour();
    let weekend = t.weekday().number_from_monday() >= 6;
    let office = !weekend && (8..18).contains(&h);
    let nightly_pass = h == 2 && t.minute() < 35;
    let blip = |rng: &mut StdRng, p: f64| rng.random::<f64>() < p;

    let deliveries = if office {
        poisson(rng, 12.0)
    } else if h < 6 {
        poisson(rng, 0.3)
    } else {
        poisson(rng, if weekend { 1.0 } else { 2.0 })
    };
    let mut lag = if nightly_pass {
        300.0 + rng.random::<f64>() * 400.0
    } else if office {
        rng.random::<f64>() * 15.0
    } else {
        rng.random::<f64>() * 5.0
    };
    if blip(rng, 1.0 / 1000.0) {
        lag = 2000.0;
    }
    let mut failures = rng.random::<f64>() * 0.05;
    if blip(rng, 1.0 / 800.0) {
        failures = 0.8;
    }
    let mut errors = rng.random::<f64>() * 0.02;
    if blip(rng, 1.0 / 800.0) {
        errors = 0.7;
    }
    let mut remaining = if h == 2 {
        0.25 + rng.random::<f64>() * 0.1
    } else if office {
        0.7 + rng.random::<f64>() * 0.25
    } else {
        0.9 + rng.random::<f64>() * 0.1
    };
    if blip(rng, 1.0 / 1000.0) {
        remaining = 0.02;
    }
    let mut out = vec![
        ("queue_lag_seconds", lag),
        ("job_failure_ratio", failures),
        ("github_error_ratio", errors),
        ("webhook_deliveries", deliveries),
        ("rate_limit_remaining_ratio", remaining),
    ];
    for (signal, value) in out.iter_mut() {
        if let Some(i) = active(incidents, signal, t) {
            let into = (t - i.start).num_minutes() as f64;
            *value = match *signal {
                "github_error_ratio" => 0.85 + rng.random::<f64>() * 0.15,
                "queue_lag_seconds" => 60.0 + 30.0 * into,
                "job_failure_ratio" => 0.6 + rng.random::<f64>() * 0.3,
                "webhook_deliveries" => 0.0,
                _ => rng.random::<f64>() * 0.01,
            };
        }
    }
    out
}

/// One sample: when, which signal, its value.
pub type Sample = (DateTime<Utc>, &'static str, f64);

/// The trace as JSON lines, and the same samples in memory.
pub fn trace(seed: u64, incidents: &[Incident]) -> (String, Vec<Sample>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut text = String::new();
    let mut samples = Vec::new();
    for m in 0..DAYS * 1440 {
        let t = start() + Duration::minutes(m);
        let stamp = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        for (signal, value) in minute(&mut rng, t, incidents) {
            text.push_str(&format!(
                "{{\"t\":\"{stamp}\",\"signal\":\"{signal}\",\"value\":{value}}}\n"
            ));
            samples.push((t, signal, value));
        }
    }
    (text, samples)
}

/// An alert opening or closing, as the replay prints it.
#[derive(Debug, Clone)]
pub struct Alerted {
    pub t: DateTime<Utc>,
    pub signal: String,
    pub open: bool,
}

/// The usual fixed rule (Prometheus-style `for:`): a signal beyond a fixed threshold for a
/// number of minutes opens; back within it closes.
pub fn fixed_rule(samples: &[Sample]) -> Vec<Alerted> {
    // (signal, threshold, high is bad, minutes)
    let rules: [(&str, f64, bool, u32); 5] = [
        ("queue_lag_seconds", 300.0, true, 2),
        ("job_failure_ratio", 0.3, true, 2),
        ("github_error_ratio", 0.2, true, 2),
        ("webhook_deliveries", 1.0, false, 10),
        ("rate_limit_remaining_ratio", 0.3, false, 2),
    ];
    let mut out = Vec::new();
    let mut state: std::collections::HashMap<&str, (u32, bool)> = Default::default();
    for (t, signal, value) in samples {
        let Some((_, th, high, minutes)) = rules.iter().find(|r| r.0 == *signal) else {
            continue;
        };
        let beyond = if *high { value > th } else { value < th };
        let (run, open) = state.entry(signal).or_insert((0, false));
        *run = if beyond { *run + 1 } else { 0 };
        if !*open && *run >= *minutes {
            *open = true;
            out.push(Alerted {
                t: *t,
                signal: (*signal).to_owned(),
                open: true,
            });
        } else if *open && !beyond {
            *open = false;
            out.push(Alerted {
                t: *t,
                signal: (*signal).to_owned(),
                open: false,
            });
        }
    }
    out
}

/// How a rule did on a trace: per incident, minutes to open and to close after its end
/// (`None`: missed); and the alerts that opened outside every incident.
#[derive(Debug)]
pub struct Score {
    pub detections: Vec<(&'static str, Option<i64>, Option<i64>)>,
    pub false_alerts: Vec<Alerted>,
}

pub fn score(alerts: &[Alerted], incidents: &[Incident]) -> Score {
    let mut detections = Vec::new();
    for i in incidents {
        let opened = alerts
            .iter()
            .find(|a| a.open && a.signal == i.signal && a.t >= i.start && a.t <= i.end())
            .map(|a| (a.t - i.start).num_minutes());
        let closed = alerts
            .iter()
            .find(|a| !a.open && a.signal == i.signal && a.t >= i.end())
            .map(|a| (a.t - i.end()).num_minutes());
        detections.push((i.name, opened, closed));
    }
    let false_alerts = alerts
        .iter()
        .filter(|a| a.open)
        .filter(|a| {
            !incidents
                .iter()
                .any(|i| i.signal == a.signal && a.t >= i.start && a.t <= i.end())
        })
        .cloned()
        .collect();
    Score {
        detections,
        false_alerts,
    }
}
