//! What a drift check found: the kind, what it saw, and the exact fix. Each check owns its
//! entries on the board, which the status page reads; a check that finds nothing clears its
//! own.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One thing that is not as it should be, and how to put it right.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    pub kind: String,
    pub detail: String,
    pub fix: String,
}

/// The drift every check last found, by check.
#[derive(Debug, Clone, Default)]
pub struct DriftBoard {
    found: Arc<Mutex<BTreeMap<&'static str, Vec<Drift>>>>,
}

impl DriftBoard {
    /// Replaces what `check` found last time.
    pub fn set(&self, check: &'static str, found: Vec<Drift>) {
        if let Ok(mut all) = self.found.lock() {
            if found.is_empty() {
                all.remove(check);
            } else {
                all.insert(check, found);
            }
        }
    }

    /// Everything found, in the checks' order.
    pub fn all(&self) -> Vec<Drift> {
        self.found
            .lock()
            .map(|all| all.values().flatten().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_replaces_only_its_own_findings() {
        let board = DriftBoard::default();
        let one = |kind: &str| Drift {
            kind: kind.to_owned(),
            detail: String::new(),
            fix: String::new(),
        };
        board.set("hook", vec![one("webhook_url")]);
        board.set("permissions", vec![one("app_permission"), one("app_event")]);
        assert_eq!(board.all().len(), 3);
        board.set("hook", vec![]);
        assert_eq!(board.all(), vec![one("app_permission"), one("app_event")]);
    }
}
