//! The queue and nothing else: the durable job queue on the store (`policy`: back-off and
//! timings), its workers (`worker`) and the gate that says how many may run at once (`gate`), the daily scheduler (`scheduler`), leases and in-process
//! locks (`locks`), and the one table from job kind to capability driver (`dispatch`).
//!
//! A table queue rather than a crate: no queue crate (mid-2026) runs on both SQLite and
//! PostgreSQL with replica-safe scheduling — graphile_worker is PostgreSQL-only, apalis fires
//! cron once per replica. A unique `dedupe_key` makes enqueueing idempotent, which is all the
//! scheduler needs to be leaderless. No capability's code lives here.

pub mod dispatch;
pub mod gate;
pub mod locks;
pub mod policy;
pub mod scheduler;
pub mod window;
pub mod worker;

pub use policy::{backoff, QueueConfig};
pub use worker::{JobError, JobHandler, Priority, Worker};

/// Attempts before a job is declared dead.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;
