//! The outstanding `state` values of the first-run setup flow: issued when the setup page is
//! shown, redeemed once by GitHub's callback within an hour, and bounded in number so reloading
//! the page cannot grow memory.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::Rng;

use crate::time::now_ms;

/// A setup `state` is good for an hour, once.
const STATE_TTL_MS: i64 = 3_600_000;

/// Outstanding states at most (a registration needs one; a page reload makes another).
const MAX_STATES: usize = 256;

/// Outstanding `state` values of the manifest flow.
#[derive(Default)]
pub struct SetupStates(Mutex<HashMap<String, i64>>);

impl SetupStates {
    pub(super) fn issue(&self) -> String {
        let state = format!("{:032x}", rand::rng().random::<u128>());
        if let Ok(mut map) = self.0.lock() {
            let now = now_ms();
            map.retain(|_, at| now - *at < STATE_TTL_MS);
            // Anyone can load the page: the oldest states make room rather than memory growing.
            while map.len() >= MAX_STATES {
                let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, at)| **at)
                    .map(|(k, _)| k.clone())
                else {
                    break;
                };
                map.remove(&oldest);
            }
            map.insert(state.clone(), now);
        }
        state
    }

    #[cfg(test)]
    fn outstanding(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub(super) fn redeem(&self, state: &str) -> bool {
        self.0
            .lock()
            .ok()
            .and_then(|mut map| map.remove(state))
            .is_some_and(|at| now_ms() - at < STATE_TTL_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reloading_the_setup_page_cannot_grow_memory_without_bound() {
        let states = SetupStates::default();
        let first = states.issue();
        for _ in 0..10 * MAX_STATES {
            states.issue();
        }
        assert_eq!(states.outstanding(), MAX_STATES);
        assert!(!states.redeem(&first), "the oldest made room");
        let last = states.issue();
        assert!(states.redeem(&last));
        assert!(!states.redeem(&last), "single use");
    }
}
