//! Self-healing: what upkeep does by itself when the world misbehaves, so nobody has to. Today
//! the missed-delivery sweep: `missed` (pure) decides from GitHub's delivery log which events
//! never reached upkeep, `reach` (pure) whether GitHub can reach upkeep at all and so how often
//! to sweep, and `sweep` (the driver) reads the log and stores what was missed. `breaker` (pure)
//! is the circuit breaker of one dependency, `breakers` holds them per scope, and
//! `dependencies` holds the breakers of the registries, the advisory fetch, the git hosts and
//! the database (GitHub's live in its transport): while one is open, work waits for its probe
//! instead of failing. `budget`
//! (pure) reads an installation's rate-limit budget: below its reserve, scheduled work waits.
//! `database` (driver) checks the SQLite file at start, restores a corrupt one from the newest
//! good backup and takes the daily backups; `backups` (pure) decides which to keep.
//! `retention` (pure) says how long each growing table keeps its rows, `prune` (driver) applies
//! it hourly in small batches. `reconcile` (pure) decides what to act on when the events that
//! would have said so are gone, `resync` (driver) reads GitHub and acts through the events' paths. `aimd` (pure) is the adaptive
//! concurrency limit, `workers` feeds it GitHub's answers and sets the queue's gate.

pub mod aimd;
pub mod backups;
pub mod breaker;
pub mod breakers;
pub mod budget;
pub mod database;
pub mod dependencies;
pub mod missed;
pub mod prune;
pub mod reach;
pub mod reconcile;
pub mod resync;
pub mod retention;
pub mod sweep;
pub mod workers;
