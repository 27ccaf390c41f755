//! A circuit breaker for one dependency (GitHub for one installation, the App's own endpoints,
//! the index, ...), as a pure state machine: the caller passes the time and the jitter in, so
//! every decision is a function of its inputs and the tests need no clock.
//!
//! - **Closed**: everything goes. The last `window_calls` answers are kept, none older than
//!   `window`; once at least `min_calls` are kept and the failing share reaches
//!   `failure_ratio`, the breaker opens. A ratio over a sliding window, not a count of
//!   failures: a busy hour's scattered timeouts do not open it, five failures among the last
//!   ten answers do, however many successes came before them.
//! - **Open**: nothing goes until `open_until`; callers are told when to come back (a job is
//!   deferred to then, spending no attempt).
//! - **Half-open**: one probe goes. Its success closes the breaker; its failure opens it again
//!   for longer (`open_base` × `open_growth` per failed probe, capped at `open_max`, plus up to
//!   `jitter` more so that many replicas and installations do not probe in step). Others wait
//!   `probe_wait` while the probe is out; a probe that never reports is given up after
//!   `probe_timeout`.
//!
//! What counts as a failure is the caller's to say: for GitHub a 5xx, a timeout or a dropped
//! connection. A 4xx is GitHub answering (a rate limit is the limiter's business, a 403 a
//! permission problem): neither says GitHub is down.

use std::collections::VecDeque;
use std::time::Duration;

/// How a breaker judges and how long it stays open.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerPolicy {
    /// How far back answers count.
    pub window: Duration,
    /// How many of the latest answers count.
    pub window_calls: usize,
    /// Answers needed in the window before the ratio means anything.
    pub min_calls: usize,
    /// The failing share of the window that opens the breaker.
    pub failure_ratio: f64,
    /// The first open period.
    pub open_base: Duration,
    /// Each failed probe multiplies the open period by this.
    pub open_growth: f64,
    /// The longest open period, before jitter.
    pub open_max: Duration,
    /// Up to this share is added to each open period at random.
    pub jitter: f64,
    /// While a probe is out, others come back after this.
    pub probe_wait: Duration,
    /// A probe that has not reported after this is given up and another may go.
    pub probe_timeout: Duration,
}

impl Default for BreakerPolicy {
    /// GitHub's: at most one request a minute per installation while it is down (the open
    /// period never falls below 60 s, jitter only adds), and work resumes within two minutes of
    /// GitHub's return (the period grows 60 s → 90 s and stops there: ≤ 99 s with jitter).
    fn default() -> Self {
        BreakerPolicy {
            window: Duration::from_secs(60),
            window_calls: 10,
            min_calls: 5,
            failure_ratio: 0.5,
            open_base: Duration::from_secs(60),
            open_growth: 1.5,
            open_max: Duration::from_secs(90),
            jitter: 0.1,
            probe_wait: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(150),
        }
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed,
    Open { until_ms: i64 },
    HalfOpen { probe_since_ms: i64 },
}

impl State {
    /// The name `/status.json` and the metrics use.
    pub fn name(&self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open { .. } => "open",
            State::HalfOpen { .. } => "half_open",
        }
    }
}

/// Whether a call may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead (closed).
    Go,
    /// Go ahead as the one probe (half-open).
    Probe,
    /// Not now: come back at this time.
    Wait { until_ms: i64 },
}

impl BreakerPolicy {
    /// For a dependency called once every `every` rather than many times a minute (the
    /// advisory database fetch, hourly): the window holds a day of calls, three failures of the
    /// last five open it, and it stays open two periods, doubling up to twelve. A 60 s window
    /// would never see two such calls, and a failing fetch would simply be tried every period.
    pub fn for_period(every: Duration) -> BreakerPolicy {
        BreakerPolicy {
            window: every * 24,
            window_calls: 5,
            min_calls: 3,
            failure_ratio: 0.5,
            open_base: every * 2,
            open_growth: 2.0,
            open_max: every * 12,
            jitter: 0.1,
            probe_wait: every,
            probe_timeout: every * 4,
        }
    }

    /// The database's: every worker polls it each second or so, so a few failures in half a
    /// minute are enough to stop them all asking; it is asked again after 2 s, doubling up to
    /// 15 s, so work resumes within seconds of the database's return.
    pub fn for_database() -> BreakerPolicy {
        BreakerPolicy {
            window: Duration::from_secs(30),
            window_calls: 10,
            min_calls: 3,
            failure_ratio: 0.5,
            open_base: Duration::from_secs(2),
            open_growth: 2.0,
            open_max: Duration::from_secs(15),
            jitter: 0.2,
            probe_wait: Duration::from_millis(500),
            probe_timeout: Duration::from_secs(30),
        }
    }

    /// A git host's: cargo fetches from it a few times a pass, each failure costing up to a
    /// network time-out, so two failures in half an hour are enough; the host is asked again
    /// after 5 minutes, then 10, 20, up to an hour. A probe is a whole cargo run, so it may
    /// take the resolver's two minutes before it reports.
    pub fn for_git_host() -> BreakerPolicy {
        BreakerPolicy {
            window: Duration::from_secs(30 * 60),
            window_calls: 6,
            min_calls: 2,
            failure_ratio: 0.5,
            open_base: Duration::from_secs(5 * 60),
            open_growth: 2.0,
            open_max: Duration::from_secs(60 * 60),
            jitter: 0.1,
            probe_wait: Duration::from_secs(60),
            probe_timeout: Duration::from_secs(5 * 60),
        }
    }
}

/// One dependency's breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    policy: BreakerPolicy,
    /// (time, failed) of the answers in the window, oldest first.
    answers: VecDeque<(i64, bool)>,
    state: State,
    /// Failed probes since it last closed.
    failed_probes: u32,
    /// When the state last changed.
    since_ms: i64,
    /// What the last failure was (`5xx`, `timeout`, ...), for the status page.
    last_error: Option<&'static str>,
}

impl Breaker {
    pub fn new(policy: BreakerPolicy, now_ms: i64) -> Self {
        Breaker {
            policy,
            answers: VecDeque::new(),
            state: State::Closed,
            failed_probes: 0,
            since_ms: now_ms,
            last_error: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn since_ms(&self) -> i64 {
        self.since_ms
    }

    pub fn last_error(&self) -> Option<&'static str> {
        self.last_error
    }

    /// The failing share of the answers in the window at `now_ms` (0 when there are none).
    pub fn failure_ratio(&self, now_ms: i64) -> f64 {
        let from = now_ms - ms(self.policy.window);
        let (failed, all) = self
            .answers
            .iter()
            .filter(|(t, _)| *t >= from)
            .fold((0usize, 0usize), |(f, a), (_, failed)| {
                (f + usize::from(*failed), a + 1)
            });
        if all == 0 {
            0.0
        } else {
            failed as f64 / all as f64
        }
    }

    /// Whether a call may go at `now_ms`; a due open breaker turns half-open and lets this one
    /// through as its probe.
    pub fn admit(&mut self, now_ms: i64) -> Admission {
        match self.state {
            State::Closed => Admission::Go,
            State::Open { until_ms } if now_ms < until_ms => Admission::Wait { until_ms },
            State::Open { .. } => {
                self.set(
                    State::HalfOpen {
                        probe_since_ms: now_ms,
                    },
                    now_ms,
                );
                Admission::Probe
            }
            State::HalfOpen { probe_since_ms }
                if now_ms - probe_since_ms >= ms(self.policy.probe_timeout) =>
            {
                self.state = State::HalfOpen {
                    probe_since_ms: now_ms,
                };
                Admission::Probe
            }
            State::HalfOpen { .. } => Admission::Wait {
                until_ms: now_ms + ms(self.policy.probe_wait),
            },
        }
    }

    /// Records an answer at `now_ms`: `failure` names what went wrong (`None`: it worked).
    /// `jitter` is a number in [0, 1] the caller drew at random.
    pub fn record(&mut self, now_ms: i64, failure: Option<&'static str>, jitter: f64) {
        if failure.is_some() {
            self.last_error = failure;
        }
        match self.state {
            State::HalfOpen { .. } if failure.is_none() => {
                self.answers.clear();
                self.failed_probes = 0;
                self.set(State::Closed, now_ms);
            }
            State::HalfOpen { .. } => {
                self.failed_probes = self.failed_probes.saturating_add(1);
                self.open(now_ms, jitter);
            }
            // Answers to calls that left before it opened say nothing new.
            State::Open { .. } => {}
            State::Closed => {
                self.answers.push_back((now_ms, failure.is_some()));
                let from = now_ms - ms(self.policy.window);
                while self.answers.front().is_some_and(|(t, _)| *t < from)
                    || self.answers.len() > self.policy.window_calls
                {
                    self.answers.pop_front();
                }
                let failed = self.answers.iter().filter(|(_, f)| *f).count();
                let all = self.answers.len();
                if all >= self.policy.min_calls
                    && failed as f64 >= self.policy.failure_ratio * all as f64
                {
                    self.open(now_ms, jitter);
                }
            }
        }
    }

    /// How long it stays open after `failed_probes` failed probes, before jitter.
    pub fn open_period(&self) -> Duration {
        let p = &self.policy;
        let grown = p.open_base.as_secs_f64()
            * p.open_growth
                .max(1.0)
                .powi(i32::try_from(self.failed_probes).unwrap_or(i32::MAX));
        Duration::from_secs_f64(grown.min(p.open_max.as_secs_f64()).max(0.0))
    }

    fn open(&mut self, now_ms: i64, jitter: f64) {
        let period = self.open_period();
        let extra = period.mul_f64(self.policy.jitter.max(0.0) * jitter.clamp(0.0, 1.0));
        self.set(
            State::Open {
                until_ms: now_ms + ms(period + extra),
            },
            now_ms,
        );
    }

    fn set(&mut self, state: State, now_ms: i64) {
        if std::mem::discriminant(&state) != std::mem::discriminant(&self.state) {
            self.since_ms = now_ms;
        }
        self.state = state;
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAIL: Option<&str> = Some("5xx");

    fn breaker() -> Breaker {
        Breaker::new(BreakerPolicy::default(), 0)
    }

    #[test]
    fn an_hourly_fetch_opens_after_three_failures_and_backs_off_two_hours_then_longer() {
        const HOUR: i64 = 3_600_000;
        let mut b = Breaker::new(BreakerPolicy::for_period(Duration::from_secs(3600)), 0);
        b.record(0, FAIL, 0.0);
        b.record(HOUR, FAIL, 0.0);
        assert_eq!(
            b.state(),
            State::Closed,
            "two failed fetches are not an outage"
        );
        b.record(2 * HOUR, FAIL, 0.0);
        assert_eq!(b.state(), State::Open { until_ms: 4 * HOUR });
        assert_eq!(b.admit(3 * HOUR), Admission::Wait { until_ms: 4 * HOUR });
        assert_eq!(b.admit(4 * HOUR), Admission::Probe);
        b.record(4 * HOUR, FAIL, 0.0);
        assert_eq!(b.state(), State::Open { until_ms: 8 * HOUR });
    }

    #[test]
    fn a_few_failures_among_many_answers_do_not_open_it() {
        let mut b = breaker();
        for i in 0..100 {
            let failure = (i % 10 == 0).then_some("timeout");
            b.record(i * 100, failure, 0.0);
        }
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.admit(10_000), Admission::Go);
    }

    #[test]
    fn too_few_answers_do_not_open_it_however_bad() {
        let mut b = breaker();
        for i in 0..4 {
            b.record(i, FAIL, 0.0);
        }
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn a_failing_majority_of_the_window_opens_it() {
        let mut b = breaker();
        b.record(0, None, 0.0);
        b.record(1, None, 0.0);
        b.record(2, FAIL, 0.0);
        b.record(3, FAIL, 0.0);
        assert_eq!(b.state(), State::Closed);
        b.record(4, FAIL, 0.0);
        assert_eq!(b.state(), State::Open { until_ms: 60_004 });
        assert_eq!(b.admit(30_000), Admission::Wait { until_ms: 60_004 });
        assert_eq!(b.last_error(), Some("5xx"));
    }

    #[test]
    fn only_the_latest_answers_count_however_many_successes_came_before() {
        let mut b = breaker();
        for i in 0..100 {
            b.record(i, None, 0.0);
        }
        for i in 100..104 {
            b.record(i, FAIL, 0.0);
        }
        assert_eq!(b.state(), State::Closed);
        b.record(104, FAIL, 0.0);
        assert!(matches!(b.state(), State::Open { .. }));
    }

    #[test]
    fn failures_older_than_the_window_are_forgotten() {
        let mut b = breaker();
        for i in 0..4 {
            b.record(i, FAIL, 0.0);
        }
        // A minute later the four are gone: one more failure is one answer out of one.
        b.record(61_000, FAIL, 0.0);
        assert_eq!(b.state(), State::Closed);
        assert!((b.failure_ratio(61_000) - 1.0).abs() < f64::EPSILON);
        assert_eq!(b.failure_ratio(200_000), 0.0);
    }

    fn opened() -> Breaker {
        let mut b = breaker();
        for i in 0..5 {
            b.record(i, FAIL, 0.0);
        }
        b
    }

    #[test]
    fn half_open_lets_one_probe_through_and_its_success_closes() {
        let mut b = opened();
        assert_eq!(b.admit(60_004), Admission::Probe);
        assert_eq!(b.admit(60_010), Admission::Wait { until_ms: 65_010 });
        b.record(60_500, None, 0.0);
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.admit(60_600), Admission::Go);
        // The window starts afresh: the old failures do not reopen it.
        b.record(60_700, FAIL, 0.0);
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn each_failed_probe_opens_it_longer_up_to_the_cap() {
        let mut b = opened();
        let mut now = 4;
        let mut periods = Vec::new();
        for _ in 0..5 {
            let State::Open { until_ms } = b.state() else {
                panic!("not open: {:?}", b.state())
            };
            periods.push(until_ms - now);
            now = until_ms;
            assert_eq!(b.admit(now), Admission::Probe);
            b.record(now, FAIL, 0.0);
        }
        assert_eq!(periods, vec![60_000, 90_000, 90_000, 90_000, 90_000]);
        // Success resets the growth.
        let State::Open { until_ms } = b.state() else {
            panic!()
        };
        b.admit(until_ms);
        b.record(until_ms, None, 0.0);
        assert_eq!(b.open_period(), Duration::from_secs(60));
    }

    #[test]
    fn jitter_only_lengthens_the_open_period() {
        for jitter in [0.0, 0.5, 1.0] {
            let mut b = breaker();
            for i in 0..5 {
                b.record(i, FAIL, jitter);
            }
            let State::Open { until_ms } = b.state() else {
                panic!()
            };
            let period = until_ms - 4;
            assert!((60_000..=66_000).contains(&period), "{period}");
        }
    }

    #[test]
    fn a_probe_that_never_reports_is_given_up() {
        let mut b = opened();
        assert_eq!(b.admit(60_004), Admission::Probe);
        assert!(matches!(b.admit(100_000), Admission::Wait { .. }));
        assert_eq!(b.admit(60_004 + 150_000), Admission::Probe);
    }

    #[test]
    fn answers_to_calls_made_before_it_opened_change_nothing() {
        let mut b = opened();
        let state = b.state();
        b.record(10, None, 0.0);
        b.record(11, FAIL, 0.0);
        assert_eq!(b.state(), state);
    }
}
