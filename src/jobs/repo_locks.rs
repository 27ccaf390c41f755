//! One async lock per repository, so work on the same repository runs one piece at a time in a
//! process (two passes must not both open the same PR, two red workflows must not both open the
//! same revert). Cheap to clone; clones share the locks. Across replicas, the store's leases
//! (`take_lease`) do the same, held in this process's name.

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

/// A database lease this process holds, until [`Lease::release`] or it runs out.
pub struct Lease<'a> {
    store: &'a Store,
    name: String,
}

impl Lease<'_> {
    /// Gives the lease back (it runs out by itself if this fails).
    pub async fn release(self) -> Result<(), StoreError> {
        self.store.release_lease(&self.name, process_token()).await
    }
}

/// Takes lease `name` for this process for `hold_ms`, waiting up to `wait_ms` while another
/// replica holds it: what [`RepoLocks`] is within a process, across the replicas sharing
/// `store`. `None` when the other replica still has it after the wait.
pub async fn take_lease(
    store: &Store,
    name: String,
    hold_ms: i64,
    wait_ms: i64,
) -> Result<Option<Lease<'_>>, StoreError> {
    let give_up = now_ms() + wait_ms;
    loop {
        let now = now_ms();
        if store
            .take_lease(&name, process_token(), now, now + hold_ms)
            .await?
        {
            return Ok(Some(Lease { store, name }));
        }
        if now > give_up {
            return Ok(None);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
