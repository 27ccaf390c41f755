//! The worker limit: GitHub's answers, as the transport sees them, move the adaptive limit
//! (`heal::aimd`), and the queue's gate follows it. Exported as `upkeep_workers_allowed` (jobs
//! that may run at once now) beside `upkeep_workers_max`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::info;

use super::aimd::{Aimd, AimdPolicy};
use crate::queue::gate::Gate;
use crate::time::now_ms;

/// The limit and the gate it drives.
#[derive(Debug)]
pub struct WorkerLimit {
    aimd: Mutex<Aimd>,
    gate: Arc<Gate>,
}

impl WorkerLimit {
    /// Up to `max` jobs at once, starting at `max`.
    pub fn new(max: usize, policy: AimdPolicy) -> Arc<WorkerLimit> {
        let aimd = Aimd::new(max, policy);
        metrics::gauge!("upkeep_workers_max").set(aimd.max() as f64);
        metrics::gauge!("upkeep_workers_allowed").set(aimd.allowed() as f64);
        Arc::new(WorkerLimit {
            gate: Gate::new(aimd.allowed()),
            aimd: Mutex::new(aimd),
        })
    }

    /// The gate the workers pass before claiming a job.
    pub fn gate(&self) -> Arc<Gate> {
        Arc::clone(&self.gate)
    }

    /// The configured maximum changed (hot reload).
    pub fn set_max(&self, max: usize) {
        let allowed = match self.aimd.lock() {
            Ok(mut a) => {
                a.set_max(max);
                a.allowed()
            }
            Err(_) => return,
        };
        self.gate.set_allowed(allowed);
        metrics::gauge!("upkeep_workers_max").set(max as f64);
        metrics::gauge!("upkeep_workers_allowed").set(allowed as f64);
    }

    /// The configured maximum.
    pub fn max(&self) -> usize {
        self.aimd.lock().map_or(1, |a| a.max())
    }

    /// One answer from GitHub: how long it took and whether it failed (a 5xx, a timeout, a
    /// dropped connection, a rate limit).
    pub fn record(&self, latency: Duration, failed: bool) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        let allowed = match self.aimd.lock() {
            Ok(mut a) => a.record(ms, failed, now_ms()),
            Err(_) => return,
        };
        let before = self.gate.allowed();
        if allowed != before {
            self.gate.set_allowed(allowed);
            metrics::gauge!("upkeep_workers_allowed").set(allowed as f64);
            if allowed < before {
                info!(
                    allowed,
                    before,
                    latency_ms = ms,
                    failed,
                    "GitHub is struggling: fewer jobs at once"
                );
            }
        }
    }
}
