//! How many workers may run a job at once. Every worker passes the gate before it claims a
//! job; `heal::workers` moves the number allowed (between 1 and the worker count) as GitHub's
//! answers say. Lowering it never interrupts a running job: the next claims wait until enough
//! have finished.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The gate the workers share.
#[derive(Debug)]
pub struct Gate {
    allowed: AtomicUsize,
    running: AtomicUsize,
}

impl Gate {
    /// A gate allowing `allowed` jobs at once (at least 1).
    pub fn new(allowed: usize) -> Arc<Gate> {
        Arc::new(Gate {
            allowed: AtomicUsize::new(allowed.max(1)),
            running: AtomicUsize::new(0),
        })
    }

    /// Sets how many jobs may run at once (at least 1).
    pub fn set_allowed(&self, allowed: usize) {
        self.allowed.store(allowed.max(1), Ordering::Release);
    }

    pub fn allowed(&self) -> usize {
        self.allowed.load(Ordering::Acquire)
    }

    pub fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// A place for one job, when fewer than `allowed` run; held until the guard drops.
    pub fn try_enter(self: &Arc<Self>) -> Option<GateGuard> {
        let allowed = self.allowed();
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < allowed).then_some(n + 1)
            })
            .ok()
            .map(|_| GateGuard(Arc::clone(self)))
    }
}

/// One job's place at the gate.
#[derive(Debug)]
pub struct GateGuard(Arc<Gate>);

impl Drop for GateGuard {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_more_than_allowed_enter_and_a_lower_limit_waits_for_jobs_to_finish() {
        let gate = Gate::new(3);
        let held: Vec<GateGuard> = (0..3).map(|_| gate.try_enter().unwrap()).collect();
        assert!(gate.try_enter().is_none());
        gate.set_allowed(1);
        assert_eq!(gate.running(), 3, "running jobs are not interrupted");
        drop(held);
        let one = gate.try_enter().unwrap();
        assert!(gate.try_enter().is_none());
        drop(one);
        gate.set_allowed(0);
        assert_eq!(gate.allowed(), 1, "never below one");
    }
}
