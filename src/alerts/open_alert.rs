//! An open alert as the store keeps it for `/status` (any replica reads it) and as escalation
//! reads it. Pure.

use serde::{Deserialize, Serialize};

/// An open alert: which signal, since when (ms), the value that opened it and the threshold
/// it crossed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAlert {
    pub signal: String,
    pub since_ms: i64,
    pub value: f64,
    pub threshold: f64,
}
