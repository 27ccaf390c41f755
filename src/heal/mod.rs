//! Self-healing: what upkeep does by itself when the world misbehaves, so nobody has to. Today
//! the missed-delivery sweep: `missed` (pure) decides from GitHub's delivery log which events
//! never reached upkeep, `reach` (pure) whether GitHub can reach upkeep at all and so how often
//! to sweep, and `sweep` (the driver) reads the log and stores what was missed.

pub mod missed;
pub mod reach;
pub mod sweep;
