//! One async lock per repository, so work on the same repository runs one piece at a time in a
//! process (two passes must not both open the same PR, two red workflows must not both open the
//! same revert). Cheap to clone; clones share the locks. Across replicas, the store's leases
//! (`with_lease`) do the same, held in this process's name.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use crate::store::{Store, StoreError};
use crate::time::now_ms;

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
fn process_token() -> &'static str {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN.get_or_init(|| {
        use std::hash::BuildHasher;
        let pid = std::process::id();
        let random = std::collections::hash_map::RandomState::new().hash_one(pid);
        format!("{pid}-{random:016x}")
    })
}

/// Runs `work` holding lease `name` for this process (at most `hold_ms`), waiting up to
/// `wait_ms` while another replica holds it, and gives the lease back after: what
/// [`RepoLocks`] is within a process, across the replicas sharing `store`. `None`, with `work`
/// never started, when the other replica still has it after the wait. A lease that cannot be
/// given back runs out by itself.
pub async fn with_lease<T>(
    store: &Store,
    name: &str,
    hold_ms: i64,
    wait_ms: i64,
    work: impl std::future::Future<Output = T>,
) -> Result<Option<T>, StoreError> {
    let give_up = now_ms() + wait_ms;
    loop {
        let now = now_ms();
        if store
            .take_lease(name, process_token(), now, now + hold_ms)
            .await?
        {
            break;
        }
        if now > give_up {
            return Ok(None);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let done = work.await;
    if let Err(e) = store.release_lease(name, process_token()).await {
        tracing::warn!(lease = name, error = %e, "lease not released");
    }
    Ok(Some(done))
}
