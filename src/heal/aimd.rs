//! Adaptive concurrency: how many jobs may run at once, moved by how GitHub answers. Additive
//! increase, multiplicative decrease (TCP's rule, and what Netflix's concurrency-limits and
//! Envoy's adaptive concurrency build on): every answer that is quick and not a failure adds
//! `1 / limit` (one more worker per round of `limit` good answers); a failure (a 5xx, a
//! timeout, a dropped connection, a rate limit) or an answer slower than `slow_ms` halves the
//! limit, at most once per `cooldown_ms` so one bad burst is one cut, not a collapse to 1. The
//! limit stays between 1 and the maximum, and starts at the maximum: a healthy GitHub sees
//! exactly the configured concurrency.
//!
//! Pure: the caller passes the time and the answers in (`heal::workers` does, from the GitHub
//! transport, and hands the result to the queue's gate).

/// How the limit moves.
#[derive(Debug, Clone, PartialEq)]
pub struct AimdPolicy {
    /// An answer slower than this is congestion, like a failure.
    pub slow_ms: u64,
    /// What a cut multiplies the limit by.
    pub decrease: f64,
    /// At most one cut per this long.
    pub cooldown_ms: i64,
}

impl Default for AimdPolicy {
    fn default() -> Self {
        AimdPolicy {
            // GitHub answers most REST calls in well under a second; 5 s is trouble.
            slow_ms: 5_000,
            decrease: 0.5,
            cooldown_ms: 5_000,
        }
    }
}

/// The concurrency limit.
#[derive(Debug, Clone)]
pub struct Aimd {
    limit: f64,
    max: usize,
    policy: AimdPolicy,
    last_cut_ms: Option<i64>,
}

impl Aimd {
    /// A limit between 1 and `max` (at least 1), starting at `max`.
    pub fn new(max: usize, policy: AimdPolicy) -> Aimd {
        let max = max.max(1);
        Aimd {
            limit: max as f64,
            max,
            policy,
            last_cut_ms: None,
        }
    }

    /// Takes one answer: how long it took, whether it failed, when it came. Returns the number
    /// of jobs allowed now.
    pub fn record(&mut self, latency_ms: u64, failed: bool, now_ms: i64) -> usize {
        if failed || latency_ms > self.policy.slow_ms {
            let cooled = self
                .last_cut_ms
                .is_none_or(|t| now_ms - t >= self.policy.cooldown_ms || now_ms < t);
            if cooled {
                self.limit = (self.limit * self.policy.decrease).max(1.0);
                self.last_cut_ms = Some(now_ms);
            }
        } else {
            self.limit = (self.limit + 1.0 / self.limit).min(self.max as f64);
        }
        self.allowed()
    }

    /// Jobs allowed at once now.
    pub fn allowed(&self) -> usize {
        (self.limit.floor() as usize).clamp(1, self.max)
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A new maximum (a reloaded configuration): a lower one caps the limit at once; a higher
    /// one is used at once when GitHub was healthy (the limit was at the old maximum), else
    /// the limit grows back to it as answers come in.
    pub fn set_max(&mut self, max: usize) {
        let max = max.max(1);
        let healthy = self.limit >= self.max as f64;
        self.max = max;
        self.limit = if healthy {
            max as f64
        } else {
            self.limit.min(max as f64)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn aimd(max: usize) -> Aimd {
        Aimd::new(max, AimdPolicy::default())
    }

    #[test]
    fn a_new_maximum_applies_at_once_when_healthy_and_caps_a_lowered_limit() {
        let mut a = aimd(8);
        a.set_max(16);
        assert_eq!(a.allowed(), 16);
        a.set_max(4);
        assert_eq!(a.allowed(), 4);
        a.record(60_000, true, 0);
        let cut = a.allowed();
        assert!(cut < 4);
        a.set_max(32);
        assert_eq!(
            a.allowed(),
            cut,
            "a struggling GitHub is not given more at once"
        );
        assert_eq!(a.max(), 32);
    }

    #[test]
    fn a_healthy_github_keeps_the_configured_maximum() {
        let mut a = aimd(8);
        for t in 0..1_000 {
            assert_eq!(a.record(120, false, t * 10), 8);
        }
    }

    #[test]
    fn a_failure_halves_the_limit_once_per_cooldown_and_never_below_one() {
        let mut a = aimd(8);
        assert_eq!(a.record(100, true, 0), 4);
        // The rest of the same burst is the same congestion: no further cut.
        for t in 1..50 {
            assert_eq!(a.record(100, true, t * 10), 4);
        }
        assert_eq!(a.record(100, true, 5_000), 2);
        assert_eq!(a.record(100, true, 10_000), 1);
        assert_eq!(a.record(100, true, 15_000), 1);
    }

    #[test]
    fn slow_answers_count_as_congestion() {
        let mut a = aimd(8);
        assert_eq!(a.record(5_001, false, 0), 4);
        assert_eq!(
            a.record(5_000, false, 10),
            4,
            "at the threshold is not slow"
        );
    }

    #[test]
    fn it_climbs_back_one_worker_per_round_of_good_answers() {
        let mut a = aimd(8);
        for t in 0..4 {
            a.record(100, true, t * 5_000);
        }
        assert_eq!(a.allowed(), 1);
        // From 1 to 8 takes 1 + 2 + … + 7 = 28 good answers, a few more where a sum of
        // fractions falls just short of a whole worker.
        let mut answers = 0;
        while a.allowed() < 8 {
            a.record(100, false, 100_000 + answers);
            answers += 1;
        }
        assert!((26..=34).contains(&answers), "{answers}");
    }

    #[test]
    fn a_clock_that_moved_back_does_not_block_the_next_cut() {
        let mut a = aimd(8);
        a.record(100, true, 1_000_000);
        assert_eq!(a.record(100, true, 0), 2);
    }

    proptest! {
        #[test]
        fn the_limit_stays_between_one_and_the_maximum(
            max in 0usize..64,
            answers in proptest::collection::vec((0u64..20_000, any::<bool>(), 0i64..10_000), 0..300),
        ) {
            let mut a = aimd(max);
            let mut now = 0;
            for (latency, failed, step) in answers {
                now += step;
                let allowed = a.record(latency, failed, now);
                prop_assert!(allowed >= 1 && allowed <= max.max(1));
            }
        }
    }
}
