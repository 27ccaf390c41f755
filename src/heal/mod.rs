//! Self-healing: what upkeep does by itself when the world misbehaves, so nobody has to. Today
//! the missed-delivery sweep: `missed` (pure) decides from GitHub's delivery log which events
//! never reached upkeep, `reach` (pure) whether GitHub can reach upkeep at all and so how often
//! to sweep, and `sweep` (the driver) reads the log and stores what was missed. `breaker` (pure)
//! is the circuit breaker of one dependency, `breakers` holds them per scope for the transports
//! (GitHub's today): while one is open, work waits for its probe instead of failing. `budget`
//! (pure) reads an installation's rate-limit budget: below its reserve, scheduled work waits.

pub mod breaker;
pub mod breakers;
pub mod budget;
pub mod missed;
pub mod reach;
pub mod sweep;
