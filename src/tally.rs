//! Process-wide counts the alert sampler reads each minute (job attempts and their failures,
//! GitHub answers and their failures): cheaper to read than Prometheus' text, and the same
//! events the metrics count, and breaker openings for the weekly report.

use std::sync::atomic::{AtomicU64, Ordering};

static JOB_ATTEMPTS: AtomicU64 = AtomicU64::new(0);
static JOB_FAILURES: AtomicU64 = AtomicU64::new(0);
static GITHUB_ANSWERS: AtomicU64 = AtomicU64::new(0);
static GITHUB_ERRORS: AtomicU64 = AtomicU64::new(0);
static BREAKER_OPENINGS: AtomicU64 = AtomicU64::new(0);

/// A circuit breaker opened (any dependency): the weekly report counts them.
pub fn breaker_opened() {
    BREAKER_OPENINGS.fetch_add(1, Ordering::Relaxed);
}

/// Circuit breakers opened in this process so far.
pub fn breaker_openings() -> u64 {
    BREAKER_OPENINGS.load(Ordering::Relaxed)
}

/// A job attempt ended with `outcome` (the worker's label).
pub fn job_finished(outcome: &str) {
    if matches!(outcome, "lease_lost") {
        return;
    }
    JOB_ATTEMPTS.fetch_add(1, Ordering::Relaxed);
    if matches!(outcome, "failed" | "dead" | "quarantined" | "store_error") {
        JOB_FAILURES.fetch_add(1, Ordering::Relaxed);
    }
}

/// GitHub answered (or did not): `status` is the metric's label (a code, `timeout`, `error`).
pub fn github_answered(status: &str) {
    GITHUB_ANSWERS.fetch_add(1, Ordering::Relaxed);
    let failed = match status.parse::<u16>() {
        Ok(code) => code >= 500 || code == 429,
        Err(_) => true,
    };
    if failed {
        GITHUB_ERRORS.fetch_add(1, Ordering::Relaxed);
    }
}

/// The counts so far: (job attempts, job failures, GitHub answers, GitHub failures).
pub fn counts() -> (u64, u64, u64, u64) {
    (
        JOB_ATTEMPTS.load(Ordering::Relaxed),
        JOB_FAILURES.load(Ordering::Relaxed),
        GITHUB_ANSWERS.load(Ordering::Relaxed),
        GITHUB_ERRORS.load(Ordering::Relaxed),
    )
}
