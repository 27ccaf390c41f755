//! The breakers of one dependency, one per scope (GitHub: `app`, `installation:<id>`), shared by
//! every caller in the process. It reads the clock and draws the jitter for the pure
//! `breaker`, and reports each scope's state as the metric `upkeep_circuit_state` (0 closed,
//! 1 half-open, 2 open) with `upkeep_circuit_opened_total` counting openings.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::Rng;

use super::breaker::{Admission, Breaker, BreakerPolicy, State};
use crate::time::now_ms;

/// One scope's breaker as the status page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeState {
    pub scope: String,
    pub state: State,
    pub failure_ratio: f64,
    pub since_ms: i64,
    pub last_error: Option<&'static str>,
}

/// The breakers of one dependency.
#[derive(Debug)]
pub struct Breakers {
    dependency: &'static str,
    policy: BreakerPolicy,
    scopes: Mutex<HashMap<String, Breaker>>,
}

impl Breakers {
    pub fn new(dependency: &'static str, policy: BreakerPolicy) -> Self {
        Breakers {
            dependency,
            policy,
            scopes: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a call in `scope` may go now (see `Breaker::admit`).
    pub fn admit(&self, scope: &str) -> Admission {
        self.with(scope, |b| b.admit(now_ms()))
            .unwrap_or(Admission::Go)
    }

    /// When a call in `scope` could go, if not now; unlike `admit` it never takes the probe.
    pub fn blocked_until(&self, scope: &str) -> Option<i64> {
        let now = now_ms();
        // Open and not yet due, or half-open with the probe out: wait. Open past its period
        // is not blocked: the next `admit` sends the probe.
        self.with(scope, |b| match b.state() {
            State::Closed => None,
            _ => match b.clone().admit(now) {
                Admission::Wait { until_ms } => Some(until_ms),
                _ => None,
            },
        })
        .flatten()
    }

    /// Records an answer in `scope`: `failure` names what went wrong, `None` if it worked.
    pub fn record(&self, scope: &str, failure: Option<&'static str>) {
        let jitter = rand::rng().random_range(0.0..=1.0);
        let dependency = self.dependency;
        self.with(scope, |b| {
            let before = b.state();
            b.record(now_ms(), failure, jitter);
            let after = b.state();
            if before.name() != after.name() {
                match after {
                    State::Open { until_ms } => {
                        tracing::warn!(dependency, scope, until_ms, failure_ratio = b.failure_ratio(now_ms()), last_error = ?b.last_error(), "circuit opened: calls wait instead of failing");
                        metrics::counter!("upkeep_circuit_opened_total", "dependency" => dependency).increment(1);
                        crate::tally::breaker_opened();
                    }
                    State::Closed => {
                        tracing::info!(dependency, scope, "circuit closed: the dependency answers again");
                    }
                    State::HalfOpen { .. } => {}
                }
            }
        });
    }

    /// Every scope that has seen a call, sorted by scope.
    pub fn states(&self) -> Vec<ScopeState> {
        let now = now_ms();
        let mut all: Vec<ScopeState> = self
            .scopes
            .lock()
            .map(|m| {
                m.iter()
                    .map(|(scope, b)| ScopeState {
                        scope: scope.clone(),
                        state: b.state(),
                        failure_ratio: b.failure_ratio(now),
                        since_ms: b.since_ms(),
                        last_error: b.last_error(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        all.sort_by(|a, b| a.scope.cmp(&b.scope));
        all
    }

    fn with<T>(&self, scope: &str, f: impl FnOnce(&mut Breaker) -> T) -> Option<T> {
        let mut scopes = self.scopes.lock().ok()?;
        let breaker = scopes
            .entry(scope.to_owned())
            .or_insert_with(|| Breaker::new(self.policy.clone(), now_ms()));
        let before = breaker.state();
        let out = f(breaker);
        if breaker.state() != before {
            gauge(self.dependency, scope, breaker.state());
        }
        Some(out)
    }
}

fn gauge(dependency: &'static str, scope: &str, state: State) {
    let value = match state {
        State::Closed => 0.0,
        State::HalfOpen { .. } => 1.0,
        State::Open { .. } => 2.0,
    };
    metrics::gauge!("upkeep_circuit_state", "dependency" => dependency, "scope" => scope.to_owned())
        .set(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_independent() {
        let breakers = Breakers::new("github", BreakerPolicy::default());
        for _ in 0..5 {
            breakers.record("installation:1", Some("5xx"));
        }
        assert!(matches!(
            breakers.admit("installation:1"),
            Admission::Wait { .. }
        ));
        assert!(breakers.blocked_until("installation:1").is_some());
        assert_eq!(breakers.admit("installation:2"), Admission::Go);
        assert_eq!(breakers.blocked_until("installation:2"), None);
        let states = breakers.states();
        assert_eq!(states.len(), 2);
        assert_eq!(states[0].state.name(), "open");
        assert_eq!(states[0].last_error, Some("5xx"));
        assert_eq!(states[1].state.name(), "closed");
    }
}
