//! One async lock per repository, so work on the same repository runs one piece at a time in a
//! process (two passes must not both open the same PR, two red workflows must not both open the
//! same revert). Cheap to clone; clones share the locks. Across replicas, the store's leases
//! (`Store::take_lease`) do the same; `process_token` names this process as their holder.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

#[derive(Debug, Clone, Default)]
pub struct RepoLocks(Arc<Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>>);

impl RepoLocks {
    /// Waits for `repository`'s lock; held until the guard drops.
    pub async fn lock(&self, repository: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.0.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(locks.entry(repository.to_owned()).or_default())
        };
        lock.lock_owned().await
    }
}

/// This process among the replicas: the holder of the database leases it takes (random per
/// process, so a restarted replica does not inherit a dead one's lease).
pub fn process_token() -> &'static str {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        format!("{}-{:016x}", std::process::id(), h.finish())
    })
}
